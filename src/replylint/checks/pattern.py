"""`pattern`: regular expressions (the `regex` module: Unicode properties, fuzzy matching)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field, replace

import regex

from ..draft import Draft, gate_form
from ..literals import LiteralPool
from ..options import option
from .base import CompileContext, Hit


@dataclass(frozen=True)
class PatternOptions:
    patterns: list[str] = option(doc="Regular expressions; a match anywhere is a violation.",
                                 nonempty=True, itemwise=True)
    ignore_case: bool = option(True, doc="Match regardless of case.")
    normalize: bool = option(
        False, doc="Match on the normalised text (NFKC, case-folded, invisible characters "
                   "removed, look-alike letters mapped); spans still point at the original.")
    exceptions: list[str] = option(
        [], doc="Regular expressions; a hit inside a match of one of these is not reported.",
        itemwise=True)
    redact: bool = option(
        False, doc="The match is personal data: reports mask it (and the same text wherever "
                   "another rule quotes it) unless redaction is turned off.")


def compile_regex(pattern: str, flags: int, ctx: CompileContext,
                  path: tuple[str | int, ...]) -> "regex.Pattern[str] | None":
    """Compile one user regex, reporting a syntax error at its YAML position."""
    try:
        return regex.compile(pattern, flags | regex.VERSION1)
    except regex.error as exc:
        ctx.error(path, f"invalid regular expression: {exc}", "see the `regex` module syntax")
    except (ValueError, TypeError) as exc:  # pragma: no cover - defensive
        ctx.error(path, f"invalid regular expression: {exc}")
    return None


@dataclass(frozen=True)
class Gated:
    """A compiled regex and the literals a match needs: one of each clause must be in the text.

    Checking a few substrings is much cheaper than running a regex over the reply, and most
    replies contain none of a rule's trigger words, so most regexes never run. No clauses
    (nothing known) means the regex always runs. `ascii_clauses` hold for ASCII text only
    (where `\\s` is six known characters); `clauses` hold for any text.
    """

    pattern: "regex.Pattern[str]"
    clauses: tuple[tuple[str, ...], ...]
    ascii_clauses: tuple[tuple[str, ...], ...] = ()

    def may_match(self, folded: str, ascii: bool = False) -> bool:
        """False only when the regex cannot match `folded`: the haystack itself, or for a
        case-insensitive regex the haystack lower-cased, when it is ASCII."""
        for clause in self.ascii_clauses if ascii else self.clauses:
            for literal in clause:
                if literal in folded:
                    break
            else:
                return False
        return True


@dataclass(frozen=True)
class Triggers:
    """Which of a rule's regexes may match a reply, from one scan for their rarer literals.

    The policy's `LiteralPool` scan says which of the selective literals a reply holds and,
    through `first` (subscribed to the pool), which regexes are indexed under them: those of
    a wholly selective clause are the candidates (a regex without one always is), and a
    candidate runs only when each of its other clauses is met too. Common words ("you",
    "the", "to"), which most replies hold, stay out of the scan (their many occurrences would
    slow it): a clause is met by a selective literal found by the scan or by one of its common
    words found with `in`, which usually succeeds at the first word. A reply holding none of
    the trigger words costs nothing beyond the shared scan.
    """

    first: Mapping[str, tuple[int, ...]]
    clauses: tuple[tuple[tuple[frozenset[str], tuple[str, ...]], ...], ...]
    always: frozenset[int]
    # Per regex, the clauses left to test once it is a candidate (its key clause is met).
    rest: tuple[tuple[tuple[frozenset[str], tuple[str, ...]], ...], ...]

    @classmethod
    def index(cls, gates: Iterable[tuple[tuple[str, ...], ...]]) -> Triggers:
        first: dict[str, list[int]] = {}
        clauses: list[tuple[tuple[frozenset[str], tuple[str, ...]], ...]] = []
        rest: list[tuple[tuple[frozenset[str], tuple[str, ...]], ...]] = []
        always: set[int] = set()
        for i, gate in enumerate(gates):
            split = tuple((frozenset(lit for lit in clause if _selective(lit)),
                           tuple(dict.fromkeys(_word(lit) for lit in clause
                                               if not _selective(lit))))
                          for clause in gate)
            clauses.append(split)
            k = next((k for k, (_, common) in enumerate(split) if not common), None)
            if k is None:
                always.add(i)
                rest.append(split)
            else:
                rest.append(split[:k] + split[k + 1:])
                for literal in split[k][0]:
                    first.setdefault(literal, []).append(i)
        return cls({k: tuple(v) for k, v in first.items()}, tuple(clauses), frozenset(always),
                   tuple(rest))

    @property
    def literals(self) -> set[str]:
        """What the shared scan must look for."""
        return {lit for gate in self.clauses for rare, _ in gate for lit in rare}

    def candidates(self, present: Set[str], folded: str,
                   indexed: Set[int] | None) -> list[int]:
        """Indices, in order, of the regexes that may match `folded`, which holds `present`
        (and maybe other literals) of `literals`; `indexed` are those `first` lists under
        the literals present (what the pool's scan reported for this index)."""
        if indexed is None:
            if not self.always:
                return []
            found: Iterable[int] = self.always
        elif self.always:
            found = indexed | self.always
        else:
            found = indexed
        out: list[int] = []
        rest = self.rest
        for i in sorted(found):
            for rare, common in rest[i]:
                if rare.isdisjoint(present):
                    for literal in common:
                        if literal in folded:
                            break
                    else:
                        break
            else:
                out.append(i)
        return out


def _word(literal: str) -> str:
    """A common word for its variants with white space around it (" will", "\\twill"...): one
    `in` instead of six, and a weaker, still sound, test. Not for short words or punctuation:
    " at " is rare where "at" (that, what) and "@" (a mention) are everywhere."""
    core = literal.strip(_ASCII_WHITESPACE)
    return core if core.isalpha() and len(core) >= 4 else literal


def _selective(literal: str) -> bool:
    """Worth looking for in the shared scan (see `Triggers`): not a common word (with or
    without white space around it: " you" is as common as "you"), nor a lower-case pair or a
    single character that sits inside countless words ("id", "up", "a"); "St", "$" are fine."""
    core = literal.strip(_ASCII_WHITESPACE) or literal
    if core in _COMMON_WORDS:  # lower case: a case-sensitive "Get" is rare where "get" is not
        return False
    if len(core) == 1:
        return core in _RARE_CHARS
    if len(core) == 2:
        return not core.islower()
    return True


@dataclass(frozen=True)
class PatternCheck:
    patterns: tuple[Gated, ...]
    exceptions: tuple[Gated, ...]
    normalize: bool
    ignore_case: bool = True
    redact: bool = False
    # The policy's pool for the view the prefilters read; without one every regex runs.
    pool: LiteralPool | None = field(default=None, repr=False, compare=False)
    # Derived from `patterns` (so `dataclasses.replace` keeps them true): per kind of clause.
    _triggers: Triggers = field(init=False, repr=False, compare=False)
    _ascii_triggers: Triggers = field(init=False, repr=False, compare=False)
    # Where the pool's scan reports each index (`LiteralPool.subscribe`).
    slots: tuple[int, int] = field(default=(-1, -1), repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_triggers", Triggers.index(g.clauses for g in self.patterns))
        # On ASCII text both analyses hold: the ASCII one knows `\\s`, the other may have found
        # better clauses where the ASCII one's products grew too large.
        object.__setattr__(self, "_ascii_triggers", Triggers.index(
            tuple(sorted(set(g.clauses) | set(g.ascii_clauses),
                         key=lambda c: (_pass_rate(c), len(c), c))) for g in self.patterns))

    @property
    def view(self) -> str:
        """The draft view (a `Draft` attribute) the prefilter literals are looked up in."""
        if self.ignore_case:
            return "gate_lower_normalized" if self.normalize else "gate_lower"
        return "gate_normalized_text" if self.normalize else "gate_text"

    def find(self, draft: Draft) -> list[Hit]:
        """The hits, as a new list: most replies get `[]` from the gates alone, without the
        cost of a generator."""
        pool = self.pool
        # The pool's scan of the text the prefilter literals are looked up in: the haystack
        # itself, or, when ignoring case, the haystack lower-cased if that is exact (no scan
        # otherwise, and then every regex runs).
        if pool is None or (scan := draft.literals_in(pool)) is None:
            return list(self._hits(draft, range(len(self.patterns)), None, False))
        ascii = self.ignore_case or (draft.ascii_lower_normalized if self.normalize
                                     else draft.ascii_lower) is not None
        triggers = self._ascii_triggers if ascii else self._triggers
        indexed = scan.hits.get(self.slots[1] if ascii else self.slots[0])
        if indexed is None and not triggers.always:
            return []  # no trigger word in the reply: the common case
        folded: str = getattr(draft, pool.view)
        candidates = triggers.candidates(scan.present, folded, indexed)
        if not candidates:
            return []
        return list(self._hits(draft, candidates, folded, ascii))

    def _hits(self, draft: Draft, candidates: Iterable[int], folded: str | None,
              ascii: bool) -> Iterator[Hit]:
        view = draft.normalized if self.normalize else None
        haystack = view.text if view is not None else draft.text
        blocked: list[tuple[int, int]] | None = None
        timeout = draft.time_left()
        for i in candidates:
            pattern = self.patterns[i].pattern
            for m in pattern.finditer(haystack, timeout=timeout):
                start, end = m.span()
                if start == end:
                    continue
                if blocked is None:
                    blocked = [m.span() for ex in self.exceptions
                               if folded is None or ex.may_match(folded, ascii)
                               for m in ex.pattern.finditer(haystack, timeout=timeout)]
                if any(bs <= start and end <= be for bs, be in blocked):
                    continue
                values: dict[str, str] = {}
                for name in pattern.groupindex:
                    gs, ge = m.span(name)
                    if gs >= 0:
                        if view is not None:
                            gs, ge = view.original_span(gs, ge)
                        values[name] = draft.text[gs:ge]
                if view is not None:
                    start, end = view.original_span(start, end)
                yield Hit(start, end, values=values, redact=self.redact)


def compile_pattern(opts: PatternOptions, ctx: CompileContext) -> PatternCheck | None:
    flags = regex.IGNORECASE if opts.ignore_case else 0
    # The normalised view is already case-folded (ß is "ss"), so simple case folding is exact
    # there; the `regex` module's default full case folding (VERSION1) costs about 5x per search.
    prefix = "(?-f)" if opts.ignore_case and opts.normalize else ""
    # A None item was of the wrong shape (already reported): the others are still compiled.
    patterns = [compile_regex(prefix + p, flags, ctx, ("patterns", i)) if p is not None else None
                for i, p in enumerate(opts.patterns)]
    exceptions = [compile_regex(prefix + p, flags, ctx, ("exceptions", i))
                  if p is not None else None for i, p in enumerate(opts.exceptions)]
    if any(p is None for p in patterns) or any(p is None for p in exceptions):
        return None

    def gate(compiled: "regex.Pattern[str] | None") -> Gated:
        assert compiled is not None
        text = compiled.pattern[len(prefix):]  # the literal analysis reads the user's pattern
        return Gated(compiled, required_literals(text, opts.ignore_case),
                     required_literals(text, opts.ignore_case, ascii=True))

    check = PatternCheck(tuple(map(gate, patterns)), tuple(map(gate, exceptions)),
                         opts.normalize, opts.ignore_case, opts.redact)
    pool = ctx.pool(check.view)
    pool.add(check._triggers.literals | check._ascii_triggers.literals)
    slots = (pool.subscribe(check._triggers.first), pool.subscribe(check._ascii_triggers.first))
    return replace(check, pool=pool, slots=slots)


# --------------------------------------------------------------------------- required literals

_MAX_SET = 64
_RARE_CHARS = frozenset("$%^&#*~|\\_+=<>[]{}")
_RATE_BY_LENGTH = {2: 0.5, 3: 0.3, 4: 0.15, 5: 0.08, 6: 0.04}
_COMMON_WORDS = frozenset(
    "the and you your to for is it we i a of in on that this have has will be are with can our "
    "my me us not at as so if do all any get just from by or but was an there here what".split())
_MAX_CLAUSES = 4
_ZERO_WIDTH_ESCAPES = frozenset("bBAZK")
_CLASS_ESCAPES = frozenset("sSwWdD")
_CONTROL_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}
_QUANTIFIER = re.compile(r"\{([0-9]*)(?:(,)([0-9]*))?\}")
# Scoped inline flags: `?i:`, `?-i:`, `?im-s:` (after the group's opening parenthesis).
_SCOPED_FLAGS = re.compile(r"([a-zA-Z]*)(?:-([a-zA-Z]+))?:")


def _char(ch: str) -> _Info:
    """One literal character; white space as the views write it."""
    return _Info(frozenset({" " if ch in _ASCII_WHITESPACE else ch}))


class _Unsupported(Exception):
    """The pattern uses syntax the literal analysis does not model: no gate, always run it."""


@dataclass(frozen=True)
class _Info:
    """What a piece of a pattern can match: every string (when few), and required literals.

    `exact` is the set of all strings the piece can consume, or None when unknown or too many;
    each clause is a set of strings one of which every match contains; every match starts
    with one of `prefix` and ends with one of `suffix` (None: unknown).
    """

    exact: frozenset[str] | None
    clauses: tuple[frozenset[str], ...] = ()
    prefix: frozenset[str] | None = None
    suffix: frozenset[str] | None = None

    @property
    def starts(self) -> frozenset[str] | None:
        return self.exact if self.exact is not None else self.prefix

    @property
    def ends(self) -> frozenset[str] | None:
        return self.exact if self.exact is not None else self.suffix


_EMPTY = _Info(frozenset({""}))
_ANY = _Info(None)
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"  # what `\s` matches in ASCII text
# The views prefilters read (`Draft.gate_text`...) write each run of ASCII white space as one
# space, so there `\s`, `\s+` and `\s{2}` all stand for " ", and literals are written so.
_ASCII_SPACE = _Info(frozenset({" "}))
# `\d` in ASCII text, one of ten characters: a placeholder while literals are put together,
# written out as the ten at the end ("to \\d" gives "to 0" ... "to 9").
_DIGIT = "\ue000"
_ASCII_DIGIT = _Info(frozenset({_DIGIT}))
_MAX_EXPANDED = 1000


def required_literals(pattern: str, ignore_case: bool,
                      ascii: bool = False) -> tuple[tuple[str, ...], ...]:
    """Clauses of literals the text must contain for `pattern` to match (one of each clause).

    The analysis is conservative: it models literals, groups, alternation, small classes of
    symbols, white space and digits (others as any character), anchors, `\\K`, counted
    repeats, scoped flags (`(?i:...)` in a case-sensitive pattern as any text) and lookarounds
    (zero width; what a positive one looks at must be in the text too, and what a lookbehind
    looks at ends where the rest of the match begins); anything else (backreferences, global
    inline flags, fuzzy matching, named lists...) gives no clauses, so the regex always runs.
    With `ascii`, the clauses hold for ASCII text only, where `\\s` is one of six white space
    characters and `\\d` one of ten digits.

    Literals are for a view of the text with each run of ASCII white space written as one
    space (`Draft.gate_text`...), so they are written that way too: "`\\s+@`" requires " @",
    whatever white space stands before the "@" in the reply, and "`to\\s+\\d`" one of "to 0"
    ... "to 9".

    With `ignore_case` the literals are case-folded and only clauses of ASCII literals are
    kept, for lookup in a lower-cased haystack where a case-insensitive match of a literal is
    exactly a lower-case occurrence of it: ASCII text (plus caseless characters such as emoji),
    and normalised text without Unicode white space (see `draft.folded_literal_view`). On other
    text, Unicode case folding has corners where `str.casefold` and the `regex` module
    disagree, so the regex always runs.
    """
    if ignore_case and not ascii:
        return ()
    try:
        info = _Parser(pattern, ascii, ignore_case).parse()
    except (_Unsupported, IndexError):
        return ()
    clauses = list(info.clauses)
    if info.exact is not None:
        clauses.append(info.exact)
    useful = []
    for clause in clauses:
        written = _written(clause)
        if written is None:
            continue
        folded = frozenset(s.casefold() for s in written) if ignore_case else written
        if ignore_case and not all(s.isascii() for s in folded):
            continue
        if folded and "" not in folded and not all(s.isspace() for s in folded):
            useful.append(tuple(sorted(_plain(folded), key=lambda s: (-len(s), s))))
    useful = sorted(set(useful), key=lambda c: (_pass_rate(c), len(c)))
    kept = useful[:_MAX_CLAUSES]
    # The rarest clause of rare literals only, if there is one, is kept whatever its place:
    # it is what lets the policy's shared scan skip the regex (see `Triggers`).
    key = next((c for c in useful if all(map(_selective, c))), None)
    if key is not None and key not in kept:
        kept.append(key)
    return tuple(kept)


def _written(clause: frozenset[str]) -> frozenset[str] | None:
    """A clause as the prefilter views write text: each run of ASCII white space one space,
    the `\\d` placeholder as each digit; None when that makes too many literals, or a literal
    of digits only ("\\d\\d" gives "00"... "99", one of which is in most replies)."""
    out: set[str] = set()
    for literal in clause:
        literal = gate_form(literal)
        pieces = literal.split(_DIGIT)
        if len(pieces) == 1:
            out.add(literal)
            continue
        if len(pieces) > 3 or "".join(pieces).strip(_ASCII_WHITESPACE) == "":
            return None
        variants = [pieces[0]]
        for piece in pieces[1:]:
            variants = [v + d + piece for v in variants for d in "0123456789"]
        out.update(variants)
        if len(out) > _MAX_EXPANDED:
            return None
    return frozenset(out)


def _plain(clause: frozenset[str]) -> frozenset[str]:
    """The clause without the white space around its literals, unless that is what makes it
    rare: "\\ttime " and five more variants become "time" (one check instead of 36), while
    " @" stays " @" (a bare "@" is in every reply that mentions someone)."""
    bare = frozenset(s.strip(_ASCII_WHITESPACE) for s in clause)
    return clause if min(map(len, bare)) < 3 else bare


def _pass_rate(clause: Iterable[str]) -> float:
    """A guess at how often a reply holds one of the literals, to test the rarest clause first.

    Only the order of the checks depends on it, never their outcome.
    """
    rate = 0.0
    for literal in clause:
        core = literal.strip(_ASCII_WHITESPACE)
        if not core:
            rate += 1.0  # a space: in every reply of two words
            continue
        if core in _COMMON_WORDS and literal[:1].isspace() and literal[-1:].isspace():
            rate += 0.3  # " at ", the whole word, is much rarer than "at" in "that"
            continue
        if core.isalpha():
            literal = core  # " the" is as common as "the" (but " @" is much rarer than "@")
        if literal in _COMMON_WORDS:
            rate += 0.9
        elif len(literal) == 1:
            rate += 0.1 if literal in _RARE_CHARS else 0.9
        elif len(literal) == 2 and not literal.isalnum():
            rate += 0.2
        else:
            rate += _RATE_BY_LENGTH.get(len(literal), 0.02)
    return rate


def _best(info: _Info) -> frozenset[str] | None:
    """The single most selective requirement of a piece: the rarest, then the smallest."""
    candidates = [c for c in info.clauses if "" not in c]
    if info.exact is not None and "" not in info.exact:
        candidates.append(info.exact)
    if not candidates:
        return None
    return min(candidates, key=lambda c: (_pass_rate(c), len(c)))


def _product(a: frozenset[str], b: frozenset[str]) -> frozenset[str] | None:
    return frozenset(x + y for x in a for y in b) if len(a) * len(b) <= _MAX_SET else None


def _tail_product(run: frozenset[str], starts: frozenset[str]) -> frozenset[str] | None:
    """`_product` of the last few characters of each of `run` with `starts`, when that is
    small enough: each of its strings is in every text the whole product's are."""
    for length in (6, 4, 3):
        tails = frozenset(s[-length:] for s in run)
        joined = _product(tails, starts)
        if joined is not None:
            return joined
    return None


def _known(strings: frozenset[str] | None) -> frozenset[str] | None:
    """A prefix or suffix set that says something (no empty string in it)."""
    return strings if strings and "" not in strings else None


def _concat(items: list[_Info]) -> _Info:
    clauses: list[frozenset[str]] = []
    run: frozenset[str] = frozenset({""})
    exact = True
    lead: frozenset[str] | None = None

    def flush(strings: frozenset[str]) -> None:
        if "" not in strings:
            clauses.append(strings)

    for item in items:
        clauses.extend(item.clauses)
        if item.exact is not None:
            joined = _product(run, item.exact)
            if joined is not None:
                run = joined
                continue
        starts = item.starts
        extended = (_product(run, starts) if starts is not None else None) or run
        if exact:
            lead = _known(extended)
        exact = False
        flush(extended)
        if extended is run and starts is not None:
            # Too many strings: the ends of them still join what follows ("be heading for"
            # and "going to" before "$" or a digit: "for $", "to $"...).
            flush(_tail_product(run, starts) or run)
        run = item.ends if item.ends is not None else frozenset({""})
    flush(run)
    if exact:
        return _Info(run, tuple(dict.fromkeys(clauses)))
    return _Info(None, tuple(dict.fromkeys(clauses)), lead, _known(run))


def _alternate(branches: list[_Info]) -> _Info:
    if len(branches) == 1:
        return branches[0]
    exact: frozenset[str] | None = None
    if all(b.exact is not None for b in branches):
        union = frozenset().union(*(b.exact for b in branches if b.exact is not None))
        exact = union if len(union) <= _MAX_SET else None

    def edge(sets: list[frozenset[str] | None]) -> frozenset[str] | None:
        if any(s is None for s in sets):
            return None
        union = frozenset().union(*(s for s in sets if s is not None))
        return _known(union) if len(union) <= _MAX_SET else None

    prefix = edge([b.starts for b in branches])
    suffix = edge([b.ends for b in branches])
    picks = [_best(b) for b in branches]
    if any(p is None for p in picks):
        return _Info(exact, (), prefix, suffix)
    return _Info(exact, (frozenset().union(*(p for p in picks if p is not None)),), prefix,
                 suffix)


def _repeat(atom: _Info, low: int, high: int | None) -> _Info:
    if high == 0:
        return _EMPTY
    if atom.exact == _ASCII_SPACE.exact:
        # Any run of white space is one space in the views: `\\s+` is " ", `\\s*` " " or "".
        return _ASCII_SPACE if low else _Info(frozenset({"", " "}))
    if low == 0:
        if high == 1 and atom.exact is not None:
            return _Info(atom.exact | {""})
        return _ANY
    if low == high == 1:
        return atom
    best = _best(atom)
    return _Info(None, atom.clauses + ((best,) if best is not None else ()),
                 _known(atom.starts), _known(atom.ends))


class _Parser:
    """A recursive-descent reader of the subset of `regex` syntax that `_Info` models."""

    def __init__(self, pattern: str, ascii: bool = False, ignore_case: bool = False) -> None:
        self.p = pattern
        self.i = 0
        self.ascii = ascii
        self.ignore_case = ignore_case

    def parse(self) -> _Info:
        info = self.alternation()
        if self.i != len(self.p):
            raise _Unsupported(self.p[self.i:])
        return info

    def alternation(self) -> _Info:
        branches = [self.sequence()]
        while self.i < len(self.p) and self.p[self.i] == "|":
            self.i += 1
            branches.append(self.sequence())
        return _alternate(branches)

    def sequence(self) -> _Info:
        items: list[_Info] = []
        while self.i < len(self.p) and self.p[self.i] not in "|)":
            items.append(self.quantified(self.atom()))
        return _concat(items)

    def quantified(self, atom: _Info) -> _Info:
        p = self.p
        if self.i >= len(p) or p[self.i] not in "?*+{":
            return atom
        ch = p[self.i]
        if ch == "{":
            m = _QUANTIFIER.match(p, self.i)
            if m is None or (not m.group(1) and not m.group(2)):
                raise _Unsupported("{")
            low = int(m.group(1) or 0)
            high = int(m.group(3)) if m.group(3) else (None if m.group(2) else low)
            self.i = m.end()
        else:
            low, high = {"?": (0, 1), "*": (0, None), "+": (1, None)}[ch]
            self.i += 1
        if self.i < len(p) and p[self.i] in "?+":
            self.i += 1  # lazy or possessive: the same strings can match
        if self.i < len(p) and p[self.i] in "?*+{":
            raise _Unsupported("stacked quantifiers")
        return _repeat(atom, low, high)

    def atom(self) -> _Info:
        p = self.p
        ch = p[self.i]
        self.i += 1
        if ch == "(":
            return self.group()
        if ch == "[":
            return self.char_class()
        if ch == "\\":
            return self.escape()
        if ch == ".":
            return _ANY
        if ch in "^$":
            return _EMPTY
        if ch in "?*+{)":
            raise _Unsupported(ch)
        return _char(ch)

    def group(self) -> _Info:
        p = self.p
        kind = "group"  # or a lookaround: "positive" / "negative", or "opaque"
        if p.startswith("?", self.i):
            rest = p[self.i + 1:]
            flags = _SCOPED_FLAGS.match(rest)
            if rest.startswith((":", ">")):
                self.i += 2
            elif rest.startswith(("=", "!")):
                kind = "positive" if rest[0] == "=" else "negative"
                self.i += 2
            elif rest.startswith(("<=", "<!")):
                kind = "behind" if rest[1] == "=" else "negative"
                self.i += 3
            elif rest.startswith(("P<", "<")):
                close = p.find(">", self.i)
                name = p[self.i + (3 if rest.startswith("P<") else 2):close]
                if close < 0 or not name.isidentifier():
                    raise _Unsupported("group name")
                self.i = close + 1
            elif flags is not None and "x" not in flags.group(1):
                # `(?i:...)` in a case-sensitive pattern matches literals in any case, which
                # exact-case lookups cannot vouch for; other scoped flags change nothing here.
                if "i" in flags.group(1) and not self.ignore_case:
                    kind = "opaque"
                self.i += 1 + flags.end()
            else:
                raise _Unsupported("(?" + rest[:1])
        inner = self.alternation()
        if self.i >= len(p) or p[self.i] != ")":
            raise _Unsupported("unclosed group")
        self.i += 1
        if kind in ("positive", "behind"):
            # Zero width, but what it looks at must be in the text: its requirements hold.
            exact = (inner.exact,) if inner.exact and "" not in inner.exact else ()
            ends = _known(inner.ends)
            if kind == "behind" and ends is not None:
                # The text before this point ends with one of `ends`, and what follows
                # extends them ("(?<=to )\\d" needs "to 0"...): they end the piece like a
                # suffix.
                return _Info(None, (*inner.clauses, *exact), frozenset({""}), ends)
            return _Info(frozenset({""}), (*inner.clauses, *exact))
        if kind == "negative":
            return _EMPTY
        if kind == "opaque":
            return _ANY
        return inner

    def escape(self) -> _Info:
        p = self.p
        ch = p[self.i]
        self.i += 1
        if ch in _ZERO_WIDTH_ESCAPES:
            return _EMPTY  # `\\K` too: it moves where the reported match starts, nothing else
        if ch == "s" and self.ascii:
            return _ASCII_SPACE
        if ch == "d" and self.ascii:
            return _ASCII_DIGIT
        if ch in _CLASS_ESCAPES:
            return _ANY
        if ch in "pP":
            if p.startswith("{", self.i):
                close = p.find("}", self.i)
                if close < 0:
                    raise _Unsupported("\\p{")
                self.i = close + 1
            else:
                self.i += 1
            return _ANY
        if ch in _CONTROL_ESCAPES:
            return _char(_CONTROL_ESCAPES[ch])
        if not ch.isalnum() and ch != "_":
            return _char(ch)
        raise _Unsupported("\\" + ch)

    def char_class(self) -> _Info:
        """A `[...]` class: a few symbols, white space and (in ASCII text, where `\\d` is
        [0-9]) digits are known; a class with letters, a negated one or a property is any
        character. Nested sets and set operations (VERSION1) are not modelled."""
        p = self.p
        negated = p.startswith("^", self.i)
        if negated:
            self.i += 1
        items: list[str | None] = []  # a character each; None: not modelled
        while True:
            ch = p[self.i]
            if ch == "]" and items:
                self.i += 1
                break
            if ch == "[" or p.startswith(("--", "&&", "||", "~~"), self.i):
                raise _Unsupported("set operation")
            if ch == "\\":
                esc = p[self.i + 1]
                self.i += 2
                if esc == "d" and self.ascii:
                    items.append(_DIGIT)
                elif esc == "s" and self.ascii:
                    items.append(" ")
                elif esc in _CONTROL_ESCAPES:
                    items.append(_CONTROL_ESCAPES[esc])
                elif not esc.isalnum() and esc != "_":
                    items.append(esc)
                else:
                    items.append(None)
                continue
            self.i += 1
            items.append(ch)
        members: set[str | None] = set()
        k = 0
        while k < len(items):
            item = items[k]
            if k + 2 < len(items) and items[k + 1] == "-":
                low, high = item, items[k + 2]
                digits = (self.ascii and low is not None and high is not None
                          and "0" <= low <= high <= "9")
                members.add(_DIGIT if digits else None)
                k += 3
                continue
            members.add(None if item is None or item.isalnum() else item)
            k += 1
        if (negated or None in members or len(members) > 8
                or (self.ignore_case
                    and not all(m.isascii() or m == _DIGIT for m in members if m))):
            return _ANY
        return _Info(frozenset(" " if m in _ASCII_WHITESPACE else m
                               for m in members if m is not None))
