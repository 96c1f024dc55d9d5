"""`require`: something must (or must not) appear at the start, at the end, or anywhere.

At the end, the pattern must be the last *word*: it starts after whitespace or at the start of
the text (so `\\^[A-Z]{2}` is not found in "2^10" or "^_^"). At the start, it must be the first
word: not followed by a letter or digit ("Hi" is not in "Highly"). Between the edge of the reply
and the pattern may stand the items listed in `skip` (URLs, hashtags, thread counters, emoji,
punctuation...), because real signatures are followed by a link or a "2/2" part marker. Skipped
items are whole whitespace-separated tokens (punctuation and emoji may also hang on the word
itself: "^MS." or "^MS🙂"); the whitespace between tokens is always allowed, `whitespace` in
`skip` allows whitespace at the very start/end of the reply.

Each position is one regular expression: the pattern plus an anchored description of what may
follow (end) or precede (start) it, searched once. `{name}` in the pattern is the context's value
(regex-escaped) when the draft has it, else the regex given in `placeholders`; each combination
is compiled once, lazily, in a thread-safe LRU cache.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from collections.abc import Mapping
from typing import Any, Callable, Literal

import regex

from ..draft import Draft
from ..model import Edit
from ..options import option
from ..text import INVISIBLE
from .base import CompileContext, Hit

SkipItem = Literal["url", "hashtag", "mention", "thread-counter", "emoji", "whitespace",
                   "punctuation"]
CONTEXT_FIELDS = ("channel", "agent", "customer")

# `{name}` outside `\p{..}`/`\P{..}`/`\N{..}` and not escaped. Fuzzy constraints such as `{e}`
# stay regex syntax unless the name is declared in `placeholders`.
_PLACEHOLDER = regex.compile(r"(?<!\\)(?<!\\[pPN])\{([A-Za-z_][A-Za-z0-9_]*)\}")
_FUZZY_NAMES = frozenset("eids")
_UNESCAPE = regex.compile(r"\\([^\w\s])")

_SEP_CLASS = r"\s" + "".join(sorted(INVISIBLE))
_SEP = f"[{_SEP_CLASS}]"
_TOKEN = regex.compile(f"[^{_SEP_CLASS}]+")
_TOKEN_BACKWARDS = regex.compile(f"[^{_SEP_CLASS}]+", regex.REVERSE)
_WORD_CHAR = r"[\p{L}\p{N}\p{M}]"
_STRIP_CLASSES = {
    "punctuation": r"\p{P}\p{Sm}\p{Sk}",
    "emoji": r"\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\u200d\ufe0f\u20e3",
}
# "n/m" with 1 <= n <= m <= 20 and m >= 2: "1/2", "(2/3)", "2/2." but not "24/7" or "3/1".
_COUNTER = "|".join(f"{n}/(?:{'|'.join(str(m) for m in range(max(n, 2), 21))})"
                    for n in range(1, 21))
_ITEMS = {
    "url": rf"(?i:https?://|www\.)[^{_SEP_CLASS}]+",
    "hashtag": r"#[\p{L}\p{N}\p{M}_]+",
    "mention": r"@\w+|__\w+__",
    "thread-counter": rf"[(\[]?(?:{_COUNTER})[)\]]?[.:]?",
}


@dataclass(frozen=True)
class RequireOptions:
    pattern: str = option(doc="Regular expression that must (or must not) appear; `{agent}`, "
                              "`{customer}`, `{channel}` or a name from `placeholders` stand for "
                              "a value of the draft's context.", nonempty=True)
    position: Literal["start", "end", "anywhere"] = option(
        "anywhere", doc="Where: the first word, the last word, or anywhere in the reply.")
    present: bool = option(True, doc="true: the pattern must appear; false: it must not.")
    ignore_case: bool = option(False, doc="Match regardless of case.")
    skip: list[SkipItem] = option(
        ["whitespace"], doc="What may stand between the start/end of the reply and the pattern.")
    placeholders: dict[str, str] = option(
        {}, doc="Regular expression for each `{name}` to use when the context lacks that value.")
    fix: str | None = option(
        None, doc="Text to insert at the position when the pattern is missing (same "
                  "placeholders); offered only when the context knows every placeholder used.")
    replace: list[str] = option(
        [], doc="Regular expressions for near-misses of the pattern at the position (another "
                "style such as `-MS`, or one glued to the word, `Thanks^MS`): the fix replaces "
                "a near-miss instead of adding a second item after it.")
    describe: dict[str, str] = option(
        {}, doc="How `{expected}` writes a placeholder the draft's context does not give "
                "(default: `{name}`), e.g. `{agent: XX}`.")


_Part = tuple[bool, str]  # (is_placeholder, regex text or name)


@dataclass(frozen=True)
class _Edges:
    """What may stand between the edge of the reply and the pattern, as regex pieces."""

    strip: str  # a character class body, or "" when nothing may hang on the word
    token: str  # one whole skippable token, or "" when no token may be skipped
    whitespace: bool

    @classmethod
    def from_skip(cls, skip: frozenset[str]) -> "_Edges":
        strip = "".join(body for kind, body in _STRIP_CLASSES.items() if kind in skip)
        items = [f"(?:{body})" for kind, body in _ITEMS.items() if kind in skip]
        if strip:
            items = [f"{item}[{strip}]*" for item in items] + [f"[{strip}]+"]
        token = f"(?>(?:{'|'.join(items)})(?={_SEP}|\\Z))" if items else ""
        return cls(strip, token, "whitespace" in skip)

    def wrap(self, body: str, position: str) -> str:
        if position == "end":
            hang = f"[{self.strip}]*+" if self.strip else ""
            tokens = f"(?:{_SEP}+{self.token})*+" if self.token else ""
            tail = f"{_SEP}*" if self.whitespace else ""
            return f"(?<![^{_SEP_CLASS}])(?:{body})(?={hang}{tokens}{tail}\\Z)"
        if position == "start":
            lead = f"{_SEP}*" if self.whitespace else ""
            tokens = f"(?:{self.token}{_SEP}+)*" if self.token else ""
            hang = f"[{self.strip}]*" if self.strip else ""
            return f"\\A{lead}{tokens}{hang}\\K(?:{body})(?!{_WORD_CHAR})"
        return body


@dataclass(frozen=True)
class RequireCheck:
    parts: tuple[_Part, ...]
    names: tuple[str, ...]
    position: str
    present: bool
    fix: tuple[_Part, ...] | None
    compiled: Callable[[tuple[str | None, ...]], "regex.Pattern[str] | None"] = field(
        repr=False, compare=False)
    skip_token: "regex.Pattern[str] | None" = field(repr=False, compare=False)
    strip_char: "regex.Pattern[str] | None" = field(repr=False, compare=False)
    # A context value must fully match its placeholder's fallback regex to be used.
    valid: Mapping[str, "regex.Pattern[str]"] = field(default_factory=dict, repr=False,
                                                      compare=False)
    defaults: Mapping[str, str] = field(default_factory=dict)
    describe: Mapping[str, str] = field(default_factory=dict)
    near: tuple["regex.Pattern[str]", ...] = field(default=(), repr=False, compare=False)
    # The ASCII characters `strip_char` matches, looked up without the regex (derived).
    _ascii_hang: frozenset[str] = field(init=False, repr=False, compare=False)
    # `readable` per tuple of context values: filled as replies come, idempotently.
    _readable: dict[tuple[str | None, ...], str] = field(
        init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        hang = frozenset(chr(c) for c in range(128) if self.strip_char is not None
                         and self.strip_char.fullmatch(chr(c)) is not None)
        object.__setattr__(self, "_ascii_hang", hang)

    def value(self, draft: Draft, name: str) -> str | None:
        """A placeholder's value: the draft's context, else the policy's settings; a value
        its fallback regex does not fully match (agent "Maya Smith" for `[A-Z]{2,3}`) counts
        as unknown, so the rule checks the generic form and offers no fix built from it."""
        value = draft.context.get(name) or self.defaults.get(name)
        check = self.valid.get(name)
        if value and check is not None and check.fullmatch(value) is None:
            return None
        return value

    def find(self, draft: Draft) -> list[Hit]:
        """The hits, as a new list (most replies have none or one: no generator for them)."""
        context = tuple(self.value(draft, n) for n in self.names)
        pattern = self.compiled(context)
        if pattern is None:
            return []  # a placeholder has neither a context value nor a fallback: cannot check
        text = draft.text
        if self.present and pattern.search(text) is not None:
            return []
        values = dict(zip(self.names, context, strict=True))
        expected = self._expected(context, values)
        if not self.present:
            matches = (pattern.finditer(text) if self.position == "anywhere"
                       else filter(None, [pattern.search(text)]))
            return [Hit(m.start(), m.end(), values={"expected": expected, "found": m.group()})
                    for m in matches if m.end() > m.start()]
        if self.position == "end":
            found, fix_at = self._last_word(text)
        elif self.position == "start":
            found, fix_at = self._first_word(text)
        else:
            found, fix_at = None, len(text.rstrip()) or None
        start, end = found or (0, 0)
        fix = self._fix(values, fix_at, fix_at) if fix_at is not None else None
        if fix is not None and found:
            generic = self.compiled((None,) * len(self.names)) if self.names else None
            near = generic.search(text) if generic is not None else None
            if near is not None and near.span() == found:
                # Someone else's signature (^MS for agent JK): replace it, don't append a second.
                fix = self._fix(values, start, end, strip=True)
            else:
                fix = self._near_miss_fix(values, text, start, end) or fix
        return [Hit(start, end, values={"expected": expected, "found": text[start:end]},
                    fix=fix)]

    def _expected(self, context: tuple[str | None, ...], values: dict[str, str | None]) -> str:
        """`readable(values)`, kept per combination of context values (there are few)."""
        cache = self._readable
        try:
            return cache[context]
        except KeyError:
            if len(cache) > 512:
                cache.clear()
            text = cache[context] = self.readable(values)
            return text

    def _near_miss_fix(self, values: dict[str, str | None], text: str, start: int,
                       end: int) -> tuple[Edit, ...] | None:
        """Replace a near-miss at the edge of the found word: the whole word (`-MS`) with the
        item, or the glued part (`Thanks^MS`) with the item and its separator."""
        word = text[start:end]
        for near in self.near:
            if self.position == "start":
                m = near.match(word)
                if m is not None and m.end() > 0:
                    whole = m.end() == len(word)
                    return self._fix(values, start, start + m.end(), strip=whole)
            else:
                m = near.search(word)
                if m is not None and m.end() == len(word) and m.start() < m.end():
                    whole = m.start() == 0
                    return self._fix(values, start + m.start(), end, strip=whole)
        return None

    def readable(self, values: dict[str, str | None]) -> str:
        """The pattern as a reader would write it: escapes removed, known values filled in."""
        out = []
        for is_name, piece in self.parts:
            if is_name:
                out.append(values.get(piece) or self.describe.get(piece) or "{" + piece + "}")
            else:
                out.append(_unescape(piece))
        return "".join(out)

    def _fix(self, values: dict[str, str | None], at: int, end: int,
             strip: bool = False) -> tuple[Edit, ...] | None:
        if self.fix is None:
            return None
        out = []
        for is_name, piece in self.fix:
            if is_name:
                value = values.get(piece)
                if not value:
                    return None
                out.append(value)
            else:
                out.append(piece)
        text = "".join(out)
        return (Edit(at, end, text.strip() if strip else text),)

    def _skippable(self, text: str, s: int, e: int) -> bool:
        return self.skip_token is not None and self.skip_token.fullmatch(text, s, e) is not None

    def _hangs(self, ch: str) -> bool:
        if ch.isascii():
            return ch in self._ascii_hang
        return self.strip_char is not None and self.strip_char.fullmatch(ch) is not None

    def _last_word(self, text: str) -> tuple[tuple[int, int] | None, int | None]:
        """The last token that is not skippable (without hanging punctuation) and its end."""
        if text.isascii() and text.isprintable():
            # Then a space is the only separator: find tokens with `rfind`, not the regex.
            e = len(text)
            while e:
                if text[e - 1] == " ":
                    e -= 1
                    continue
                s = text.rfind(" ", 0, e) + 1
                if not self._skippable(text, s, e):
                    return (s, self._core_end(text, s, e)), e
                e = s
            return None, None
        return self._last_word_any(text)

    def _last_word_any(self, text: str) -> tuple[tuple[int, int] | None, int | None]:
        """`_last_word` for any text: white space and invisible characters separate tokens."""
        for m in _TOKEN_BACKWARDS.finditer(text):
            s, e = m.span()
            if self._skippable(text, s, e):
                continue
            return (s, self._core_end(text, s, e)), e
        return None, None

    def _core_end(self, text: str, s: int, e: int) -> int:
        """Where the token `text[s:e]` ends without the punctuation hanging on it."""
        while e > s and self._hangs(text[e - 1]):
            e -= 1
        return e

    def _first_word(self, text: str) -> tuple[tuple[int, int] | None, int | None]:
        """The first token that is not skippable (without hanging punctuation) and its start."""
        for m in _TOKEN.finditer(text):
            s, e = m.span()
            if self._skippable(text, s, e):
                continue
            core_start, core_end = s, e
            while core_start < e and self._hangs(text[core_start]):
                core_start += 1
            while core_end > core_start and self._hangs(text[core_end - 1]):
                core_end -= 1
            return (core_start, core_end), s
        return None, None


@lru_cache(maxsize=1024)
def _unescape(piece: str) -> str:
    return _UNESCAPE.sub(r"\1", piece)


def parse_template(template: str, declared: set[str]) -> tuple[tuple[_Part, ...], list[str]]:
    """Split a pattern into regex pieces and `{name}` placeholders; also list unknown names."""
    parts: list[_Part] = []
    unknown: list[str] = []
    pos = 0
    for m in _PLACEHOLDER.finditer(template):
        name = m.group(1)
        if name not in declared and name not in CONTEXT_FIELDS:
            if name in _FUZZY_NAMES:
                continue
            unknown.append(name)
        if m.start() > pos:
            parts.append((False, template[pos:m.start()]))
        parts.append((True, name))
        pos = m.end()
    if pos < len(template):
        parts.append((False, template[pos:]))
    return tuple(parts), unknown


def compile_require(opts: RequireOptions, ctx: CompileContext) -> RequireCheck | None:
    ok = True
    flags = regex.VERSION1 | (regex.IGNORECASE if opts.ignore_case else 0)
    for name, fallback in opts.placeholders.items():
        if not name.isidentifier():
            ctx.error(("placeholders", name), f"placeholder name {name!r} is not a name",
                      "use letters, digits and _")
            ok = False
        try:
            regex.compile(fallback, flags)
        except regex.error as exc:
            ctx.error(("placeholders", name), f"invalid regular expression: {exc}")
            ok = False
    declared = set(opts.placeholders)
    parts, unknown = parse_template(opts.pattern, declared)
    for name in unknown:
        ctx.error(("pattern",), f"unknown placeholder {{{name}}}",
                  f"declare it under `placeholders` or use a context field: "
                  f"{', '.join(CONTEXT_FIELDS)}; write \\{{ for a literal brace")
        ok = False
    near: list[regex.Pattern[str]] = []
    for i, pattern in enumerate(opts.replace):
        try:
            regex.compile(pattern, flags)  # errors point into the user's pattern, not ours
            anchored = pattern if opts.position == "start" else f"(?:{pattern})\\Z"
            near.append(regex.compile(anchored, flags))
        except regex.error as exc:
            ctx.error(("replace", i), f"invalid regular expression: {exc}",
                      "see the `regex` module syntax")
            ok = False
    if opts.replace and opts.fix is None:
        ctx.error(("replace",), "`replace` says what a fix replaces; it needs `fix`")
        ok = False
    for name in opts.describe:
        if name not in declared and name not in CONTEXT_FIELDS:
            ctx.error(("describe", name), f"unknown placeholder {{{name}}}",
                      f"describe a placeholder of the pattern: {', '.join(CONTEXT_FIELDS)} or "
                      f"one under `placeholders`")
            ok = False
    fix_parts: tuple[_Part, ...] | None = None
    if opts.fix is not None:
        if not opts.present:
            ctx.error(("fix",), "a fix inserts a missing item; it needs `present: true`")
            ok = False
        fix_parts, fix_unknown = parse_template(opts.fix, declared)
        fix_parts = tuple((is_name, piece if is_name else piece.replace("\\{", "{"))
                          for is_name, piece in fix_parts)
        for name in fix_unknown:
            ctx.error(("fix",), f"unknown placeholder {{{name}}}",
                      f"declare it under `placeholders` or use: {', '.join(CONTEXT_FIELDS)}")
            ok = False
    if not ok:
        return None
    edges = _Edges.from_skip(frozenset(opts.skip))
    probe = _fill(parts, {}, {piece: "x" for is_name, piece in parts if is_name}) or ""
    try:
        regex.compile(probe, flags)
        regex.compile(edges.wrap(probe, opts.position), flags)
    except regex.error as exc:
        # With placeholders filled in, a position would not point into the user's pattern.
        detail = getattr(exc, "msg", exc) if probe != opts.pattern else exc
        ctx.error(("pattern",), f"invalid regular expression: {detail}",
                  "see the `regex` module syntax")
        return None

    names = tuple(dict.fromkeys(piece for is_name, piece in parts + (fix_parts or ())
                                if is_name))
    compiled = _Compiled(parts, names, dict(opts.placeholders), edges, opts.position, flags)
    skip_token = regex.compile(edges.token, regex.VERSION1) if edges.token else None
    strip_char = regex.compile(f"[{edges.strip}]", regex.VERSION1) if edges.strip else None
    valid = {name: regex.compile(fallback, flags) for name, fallback in opts.placeholders.items()}
    defaults = {name: str(value).lower() if isinstance(value, bool) else str(value)
                for name, value in ctx.settings.items()
                if name in names and isinstance(value, (str, int, float, bool))}
    return RequireCheck(parts, names, opts.position, opts.present, fix_parts, compiled,
                        skip_token, strip_char, valid, defaults, dict(opts.describe),
                        tuple(near))


class _Compiled:
    """The position regex for each combination of context values, compiled once, lazily.

    A thread-safe LRU cache; a plain object rather than a closure so that a compiled policy
    can be pickled (to ship it to worker processes), leaving the cache behind.
    """

    def __init__(self, parts: tuple[_Part, ...], names: tuple[str, ...],
                 fallbacks: dict[str, str], edges: _Edges, position: str, flags: int) -> None:
        self.parts = parts
        self.names = names
        self.fallbacks = fallbacks
        self.edges = edges
        self.position = position
        self.flags = flags
        self._cached = lru_cache(maxsize=512)(self._compile)

    def __call__(self, values: tuple[str | None, ...]) -> "regex.Pattern[str] | None":
        return self._cached(values)

    def cache_info(self) -> Any:
        return self._cached.cache_info()

    def _compile(self, values: tuple[str | None, ...]) -> "regex.Pattern[str] | None":
        body = _fill(self.parts, dict(zip(self.names, values, strict=True)), self.fallbacks)
        return None if body is None else regex.compile(self.edges.wrap(body, self.position),
                                                       self.flags)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_cached"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._cached = lru_cache(maxsize=512)(self._compile)


def _fill(parts: tuple[_Part, ...], given: dict[str, str | None],
          fallbacks: dict[str, str]) -> str | None:
    """The pattern's regex with each `{name}` replaced: context value, else fallback regex."""
    out = []
    for is_name, piece in parts:
        value = given.get(piece) if is_name else None
        if not is_name:
            out.append(piece)
        elif value:
            out.append(regex.escape(value))
        elif piece in fallbacks:
            out.append(f"(?:{fallbacks[piece]})")
        else:
            return None
    return "".join(out)
