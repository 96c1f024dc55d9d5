"""`profanity`: an obfuscation-proof lexicon match with mild/strong tiers and an allowlist.

The lexicon (`replylint/lexicons/profanity_en.tsv`) is built from public lists by
`scripts/build_profanity_lexicon.py`; see `lexicons/ATTRIBUTION.md` for sources and curation.

Matching works on whole tokens of the `skeleton` view (NFKC, case-folded, invisible and bidi
controls removed, Cyrillic/Greek/full-width look-alikes mapped, accents stripped), so a term never
matches inside an innocent word (Scunthorpe, assessment, cocktail). A plain word costs one dict
lookup, and a sound pre-filter skips drafts in which nothing could match; only tokens that look
obfuscated get more work:

- leetspeak (`sh1t`, `$h!t`, `@ss`, `b1tch`) is decoded only in tokens that also hold a letter,
  so numbers and prices (`$45`, `5pm`) never turn into words, nor do codes (`Galaxy A55`);
- masks (`f*ck`, `f**k`, `s#!t`, `c*ntface`) match a lexicon word with letters in place of the
  mask (two real letters at least); `f*u*c*k` is also read with the stars as separators; one
  letter and three or more masks (`f***`, `s***`) match a strong word of exactly that length;
- elongation (`fuuuuck`, `shiiiit`) collapses runs of 3+ letters (and doubled u/i) to 1 or 2;
- letters split by separators (`f.u.c.k`, `f u c k`, `f-u-c-k`, `f_u_c_k`) and words split by
  `.`/`-`/`_` (`bull-shit`) are joined, but only when the join is a lexicon word; a spaced run
  that starts with the one-letter words `a`/`i` needs 5+ letters ("I'm a s s..." stays clean);
- `disguised` entries (`sex`, `gaylord`: left out as plain words) match only when obfuscated;
- stems mark compounds and inflections (bullshitting, motherfucking), guarded by safe words
  (shiitake, mishit) and safe phrases (Hell's Kitchen, Maine coon, chink in the armour).

Mentions (`@handle`) only match a whole lexicon word; URLs and e-mail addresses are skipped.
A name-like term (Dick) or a stem match (Harshit) written as a name in a greeting or address is
left alone, as is a spelling found in one source list only (Jiggs, Nigah) right after a greeting.
A stem match in a capitalised word inside a sentence is a proper noun (the Wankdorf stadium), and
so is a capitalised mild word followed by another capitalised word (The Damn Yankees).
"""

from __future__ import annotations

import bisect
import itertools
import re
import string
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Literal

import ahocorasick
import regex

from ..draft import Draft
from ..literals import LiteralPool
from ..model import Severity
from ..options import option
from ..spans import SpanSet
from ..text import Normalized, skeleton
from .base import CompileContext, Hit

Tier = Literal["mild", "strong"]

_LEXICON_FILE = "profanity_en.tsv"
_SAFE_FILE = "profanity_safe_en.txt"

# Characters that may stand for a letter inside a word that also holds a real letter.
LEET: dict[str, str] = {
    "0": "ou", "1": "il", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "$": "s", "@": "au", "!": "i", "|": "il", "+": "t", "€": "e", "£": "l", "¡": "i",
}
MASKS = frozenset("*#%")
_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}$@!|+€£¡*#%]+")
_TLDS = r"(?:com|net|org|co|io|ly|gl|me|uk|us|ca|de|fr|au|in)"
_SKIP_HINT = re.compile(r"://|www\.|\w@\w|\." + _TLDS + r"\b")
_SKIP = regex.compile(
    r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b[\w-]+(?:\.[\w-]+)*\." + _TLDS + r"\b(?:/\S*)?")
# The standard `re` module is several times faster than `regex` for these ASCII scans.
_ELONGATED = re.compile(r"([a-z])\1\1|uu|ii")
_RUNS = regex.compile(r"(.)\1*")
_JOIN_GAP = regex.compile(r"[ .\-_/\\~·•]{1,2}")
_WORD_GAP = regex.compile(r"[^\s.\-_][.\-_]{1,2}(?=[^\s.\-_])")
_SENTENCE_BREAK = regex.compile(r"[.!?;\n\r]")
_MAX_VARIANTS = 16
# Letters then 2+ digits is a model or reference code (Galaxy A55, A320), not leetspeak.
_CODE = re.compile(r"[a-z]+[0-9]{2,}$")
# A sound pre-filter for plain ASCII drafts (most replies): if none of these can match, the
# full token scan could not find anything either, so it is skipped. It reads the draft's
# shape: letters -> "a", digits -> "0", leet and mask symbols -> "1", "@" and "!" as they are
# (token characters all), the separators that join spaced letters as " ", "." (also - and _,
# which split words) or "/" (also \ and ~), and anything else as "x".
# (Tables for `bytes.translate`, three times faster than `str.translate` on ASCII text.)
_SHAPE = bytes.maketrans(
    bytes(range(128)),
    bytes("".join("a" if ch in string.ascii_lowercase else "0" if ch in string.digits
                  else "1" if ch in "$|+*#%" else ch if ch in "@! ." else
                  "." if ch in "-_" else "/" if ch in "/\\~" else "x"
                  for ch in map(chr, range(128))), "ascii"))
_TOKEN_SHAPES = "a01@!"


def _shape_hints() -> ahocorasick.Automaton:
    """Shapes that send a reply to the full scan, each with whether it does so by itself.

    A letter touching a digit or symbol (`a0`, `1a`, `!a`, `a@`...): leetspeak or a mask; it
    does. Two single characters with a separator between (`f u`, `$.h`), one of them a letter
    (`_leet_variants` reads nothing into digits and symbols alone, so `1/2` and `0.2` are no
    hint): what comes before the first is not a token character, and what comes after the
    second is not a letter, digit or `@` (a trailing `!`, `#`, `*` or `%` is stripped off a
    token, so `k!` is a single letter). Spaced letters need three singles in a row
    (`_spaced_letters`), which `_SPACED_RUN` then looks for: "there's a lot" has two.
    """
    automaton = ahocorasick.Automaton()
    for key in ["a0", "a1", "0a", "1a", "!a", "a@", "0@", "1@", "!@"]:
        automaton.add_word(key, True)
    gaps = [a + b for a in " ./" for b in ["", *" ./"]]
    pairs = [(x, y) for x in _TOKEN_SHAPES for y in _TOKEN_SHAPES if "a" in (x, y)]
    for key in {p + x + g + y + q for p in " ./x" for x, y in pairs for g in gaps
                for q in " ./x!1"}:
        automaton.add_word(key, False)
    automaton.make_automaton()
    return automaton


_SHAPE_HINTS = _shape_hints()
# Three or more single token characters with separators between (the shape of `f u c k`).
_SPACED_RUN = re.compile(r"(?<![a01@!])[a01@!](?:[ ./]{1,2}[a01@!]){2,}(?![a0@])")


def _shape_hint(shape: str) -> bool:
    """Whether the reply's shape (see `_SHAPE`) needs the full scan."""
    spaced = False
    for _, alone in _SHAPE_HINTS.iter(shape):
        if alone:
            return True
        spaced = True
    return spaced and any("a" in m.group() for m in _SPACED_RUN.finditer(shape))


_HINT_BANG = re.compile(r"a!+[01@]")
# Masks that open a token (`*ABN` signatures, `#hashtags`) are stripped before its lookup,
# so they are no hint: the letters after them are checked as the plain word they are.
_LEAD_MASKS = re.compile(r"(?<![a-z0-9$@!|+*#%])[#*%]+(?=[a-z])")
# Every character but letters and digits, as a space: `split()` then gives the words.
_WORD_CHARS = bytes.maketrans(
    bytes(range(128)), bytes(c if chr(c).isalnum() else 32 for c in range(128)))
_HINT_SPLIT = re.compile(r"[a-z]+(?:[.\-_]{1,2}[a-z]+)+")
_HINT_URL = re.compile(r"https?://\S+")
_NON_ASCII = re.compile(r"[^\x00-\x7f]+")
_HINT_Z = re.compile(r"[a-z]{3}z\b")
# Digits too: lexicon phrases such as "2 girls 1 cup" start with one.
_MENTION = re.compile(r"@([a-z]+)")
# `f'ing`, `mf'er`: the letter f standing for the word, with an apostrophe before the ending.
_ABBREVIATED = regex.compile(r"(?<![\p{L}\p{N}'])m?f'(?:ed|er|ers|in|ing|n)(?![\p{L}\p{N}])")

# Terms that are also first names: left alone when written as a name in a greeting/address.
NAME_TERMS = frozenset({"dick", "dicky", "dickie", "fanny", "willy", "randy", "knob"})
GREETINGS = frozenset({
    "hi", "hey", "hello", "hiya", "heya", "dear", "thanks", "thank", "thx", "ty", "cheers",
    "morning", "afternoon", "evening", "welcome", "sorry", "congrats", "congratulations", "ok",
    "okay", "yes", "sure", "bye", "goodbye", "howdy", "yo", "you", "night", "greetings",
    "hallo", "aloha", "great", "absolutely", "certainly", "apologies", "regards",
})
_ARTICLES = frozenset({"a", "i"})


@dataclass(frozen=True)
class ProfanityOptions:
    mild_severity: Literal["error", "warning", "info", "off"] = option(
        "warning", doc="Severity of mild words (damn, crap, hell); the rule's own `severity` "
                       "applies to strong ones (slurs are always strong). `off` ignores them.")
    words: list[str] = option(
        [], doc="Extra strong words or phrases (matched with the same obfuscation folding).")
    mild_words: list[str] = option([], doc="Extra mild words or phrases.")
    allow: list[str] = option(
        [], doc="Words or phrases never flagged, as whole words (`damn` allows `damn`, not "
                "`damned`); a phrase also protects the words inside it.")
    allow_names_in_greetings: bool = option(
        True, doc="Leave a name-like term (Dick) alone when it is written as a name: "
                  "capitalised after a greeting (`Hi Dick,`), first in the reply (`Dick, ...`), "
                  "addressed at the end (`..., Dick!`) or equal to the customer's name.")


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: the term it stands for and its tier."""

    term: str
    tier: Tier
    stem: bool = False
    rare: bool = False
    """Found in one source list only (Surge's long tail of spellings: jiggs, nigah)."""


@dataclass(frozen=True, slots=True)
class _Found:
    start: int
    end: int
    entry: Entry


@dataclass(frozen=True)
class Lexicon:
    """The compiled lexicon: dicts for words and phrases, one regex for all stems."""

    words: Mapping[str, Entry] = field(repr=False)
    phrases: Mapping[str, tuple[tuple[tuple[str, ...], Entry], ...]] = field(repr=False)
    stems: Mapping[str, tuple[frozenset[str], Entry]] = field(repr=False)
    stem_re: re.Pattern[str] | None = field(repr=False)
    safe_words: frozenset[str] = field(repr=False)
    safe_re: regex.Pattern[str] | None = field(repr=False)
    mask_blob: str = field(repr=False)
    symbols: Mapping[str, Entry] = field(repr=False)
    disguised: Mapping[str, Entry] = field(repr=False)
    word_keys: frozenset[str] = field(repr=False)
    phrase_firsts: frozenset[str] = field(repr=False)
    # Literals any of which sends a reply to the full scan: stems, and the letter runs of
    # elongation (`_ELONGATED`), found in one pass.
    hints: LiteralPool = field(repr=False)

    def word(self, w: str, stems: bool = True) -> Entry | None:
        """The entry for one letters-only word, or None (safe words are never profane)."""
        if w in self.safe_words:
            return None
        entry = self.words.get(w)
        if entry is not None or not stems or self.stem_re is None:
            return entry
        for m in self.stem_re.finditer(w):
            kinds, entry = self.stems[m.group()]
            if ("infix" in kinds or ("prefix" in kinds and m.start() == 0)
                    or ("suffix" in kinds and m.end() == len(w))):
                return entry
        return None

    def disguised_word(self, w: str) -> Entry | None:
        """A word of the lexicon, or one only profane when disguised (`s3x`, `g@ylord`)."""
        return self.word(w) or (None if w in self.safe_words else self.disguised.get(w))

    def masked_exactly(self, first: str, hidden: int) -> Entry | None:
        """The first strong lexicon word of `hidden` + 1 letters starting with `first`."""
        m = regex.search(f"^{regex.escape(first)}[a-z]{{{hidden}}}$", self.mask_blob,
                         regex.MULTILINE)
        entry = self.words[m.group()] if m is not None else None
        return entry if entry is not None and entry.tier == "strong" else None

    def masked(self, pattern: str) -> Entry | None:
        """The first lexicon word (strong before mild) that fits a masked token (`f**k`)."""
        parts: list[str] = []
        for ch, group in itertools.groupby(pattern):
            k = len(list(group))
            parts.append(f"[a-z]{{1,{k + 1}}}" if ch == "*" else regex.escape(ch * k))
        m = regex.search("^" + "".join(parts) + "$", self.mask_blob, regex.MULTILINE)
        return self.words[m.group()] if m is not None else None


@dataclass
class _Tokens:
    """The tokens of one draft's view: spans, texts and lookup keys (letters after folding)."""

    starts: list[int]
    ends: list[int]
    keys: list[str]
    plain: list[bool]

    def index(self, pos: int) -> int:
        """The token containing view position `pos`, or -1."""
        k = bisect.bisect_right(self.starts, pos) - 1
        return k if k >= 0 and pos < self.ends[k] else -1


@dataclass(frozen=True)
class ProfanityCheck:
    lexicon: Lexicon
    mild_severity: Severity | None
    names_in_greetings: bool

    def find(self, draft: Draft) -> list[Hit]:
        """The hits, as a new list (`[]` for a clean reply, without making a generator)."""
        view = skeleton(draft.text, draft.normalized)
        found = self._scan(view.text)
        if not found:
            return []
        return list(self._hits(draft, view, found))

    def _hits(self, draft: Draft, view: Normalized, found: list[_Found]) -> Iterator[Hit]:
        safe = self.lexicon.safe_re
        safe_spans = [m.span() for m in safe.finditer(view.text)] if safe is not None else []
        for f in found:
            mild = f.entry.tier == "mild"
            if mild and self.mild_severity is None:
                continue
            if any(s <= f.start and f.end <= e for s, e in safe_spans):
                continue
            start, end = view.original_span(f.start, f.end)
            start, end = _widen_to_graphemes(draft.text, start, end)
            if self.names_in_greetings and (
                    ((f.entry.term in NAME_TERMS or f.entry.stem) and _is_name(draft, start, end))
                    or (f.entry.rare and _is_name(draft, start, end, greeted=True))
                    or ((f.entry.stem or mild) and _proper_noun(draft.text, start, end,
                                                                title=not f.entry.stem))):
                continue
            yield Hit(start, end,
                      values={"match": draft.text[start:end], "tier": f.entry.tier,
                              "term": f.entry.term},
                      severity=self.mild_severity if mild else None)

    def _needs_scan(self, text: str) -> bool:
        """False only when no lexicon entry can match this view (checked with a few C-speed
        scans, so a clean reply never pays for tokenising)."""
        lex = self.lexicon
        if not text.isascii():
            # Only the symbols and the leet characters £ € ¡ can take part in a hit; any
            # other non-ASCII character can only end a token.
            if any(c in text for c in "£€¡") or any(s in text for s in lex.symbols):
                return True
            text = _NON_ASCII.sub(" ", text)
        if "://" in text:
            text = _HINT_URL.sub(" ", text)
        if "*" in text or "#" in text or "%" in text:
            text = _LEAD_MASKS.sub("", text)
        raw = text.encode("ascii")
        shape = "x" + raw.translate(_SHAPE).decode("ascii") + "x"
        if (_shape_hint(shape)
                or ("a!" in shape and _HINT_BANG.search(shape))
                or lex.hints.occurs_in(text)
                or ("z" in text and _HINT_Z.search(text))
                or ("f'" in text and _ABBREVIATED.search(text))):
            return True
        words = raw.translate(_WORD_CHARS).decode("ascii").split()
        if not lex.word_keys.isdisjoint(words):
            return True
        if "@" in text and any("a" + h in lex.word_keys or "u" + h in lex.word_keys
                               for h in _MENTION.findall(text)):
            return True
        if not lex.phrase_firsts.isdisjoint(words) and self._phrase_in(words):
            return True
        if "a.a" not in shape and "a..a" not in shape:
            return False
        for m in _HINT_SPLIT.finditer(text):
            pieces = regex.split(r"[.\-_]+", m.group())
            for i in range(len(pieces) - 1):
                if (pieces[i] + pieces[i + 1] in lex.word_keys
                        or "".join(pieces[i:i + 3]) in lex.word_keys):
                    return True
        return False

    def _phrase_in(self, words: list[str]) -> bool:
        """Whether the words hold a lexicon phrase, word for word. Where no other hint fired,
        every token is a plain word, and the full scan's phrase keys are these very words
        (hits also need small gaps, which this does not check: a superset)."""
        phrases = self.lexicon.phrases
        for i, word in enumerate(words):
            for phrase, _ in phrases.get(word, ()):
                if tuple(words[i:i + len(phrase)]) == phrase:
                    return True
        return False

    def _scan(self, text: str) -> list[_Found]:
        """Every lexicon hit in the view, as view spans (hits may overlap; the linter dedupes)."""
        lex = self.lexicon
        out: list[_Found] = []
        if not self._needs_scan(text):
            return out
        for symbol, entry in lex.symbols.items():
            pos = text.find(symbol)
            while pos >= 0:
                out.append(_Found(pos, pos + len(symbol), entry))
                pos = text.find(symbol, pos + len(symbol))
        if "'" in text and "fuck" in lex.words:
            out.extend(_Found(m.start(), m.end(), lex.words["fuck"])
                       for m in _ABBREVIATED.finditer(text))
        toks = self._tokens(text, out)
        if toks.starts:
            out.extend(self._plain_extras(text, toks))
            out.extend(self._spaced_letters(text, toks))
            out.extend(self._split_words(text, toks))
            if lex.phrases:
                out.extend(self._phrases(text, toks))
        return out

    def _tokens(self, text: str, out: list[_Found]) -> _Tokens:
        """Tokenise and look every token up; plain words cost one dict lookup each."""
        lex = self.lexicon
        words = lex.words
        safe = lex.safe_words
        skipped = SpanSet(m.span() for m in _SKIP.finditer(text)) \
            if _SKIP_HINT.search(text) is not None else None
        toks = _Tokens([], [], [], [])
        for m in _TOKEN.finditer(text):
            start, end = m.span()
            if skipped and skipped.covers(start):
                continue
            tok = m.group()
            if tok.isalpha() and tok.isascii():
                entry = words.get(tok)
                if entry is not None and tok not in safe:
                    out.append(_Found(start, end, entry))
                plain = True
                key = tok
            else:
                key, entry, lead, trail = self._obfuscated(tok)
                start, end = start + lead, end - trail
                if entry is not None:
                    out.append(_Found(start, end, entry))
                plain = False
            toks.starts.append(start)
            toks.ends.append(end)
            toks.keys.append(key)
            toks.plain.append(plain)
        return toks

    def _plain_extras(self, text: str, toks: _Tokens) -> Iterator[_Found]:
        """Stems (bullshitting), elongation (fuuuck) and a `z` plural (b00bz) in plain words.

        The stem and elongation regexes run once over the whole view, not once per token.
        """
        lex = self.lexicon
        done: set[int] = set()
        for k in self._plain_hits(text, toks, lex.stem_re):
            word = toks.keys[k]
            if word not in lex.safe_words and word not in lex.words:
                entry = lex.word(word)
                if entry is not None:
                    done.add(k)
                    yield _Found(toks.starts[k], toks.ends[k], entry)
        for k in self._plain_hits(text, toks, _ELONGATED):
            word = toks.keys[k]
            if k in done or word in lex.safe_words or word in lex.words:
                continue
            entry = _first(lex.word(v) for v in _collapsed(word))
            if entry is not None:
                done.add(k)
                yield _Found(toks.starts[k], toks.ends[k], entry)
        if "z" in text:
            for k, word in enumerate(toks.keys):
                if (word[-1] == "z" and toks.plain[k] and k not in done and len(word) >= 4
                        and word not in lex.words):
                    entry = lex.word(word[:-1] + "s")
                    if entry is not None:
                        yield _Found(toks.starts[k], toks.ends[k], entry)

    @staticmethod
    def _plain_hits(text: str, toks: _Tokens, pattern: re.Pattern[str] | None) -> list[int]:
        if pattern is None:
            return []
        out: list[int] = []
        for m in pattern.finditer(text):
            k = toks.index(m.start())
            if k >= 0 and toks.plain[k] and m.end() <= toks.ends[k] and k not in out:
                out.append(k)
        return out

    def _obfuscated(self, tok: str) -> tuple[str, Entry | None, int, int]:
        """A token with digits, symbols or non-ASCII letters: its key, its entry if profane,
        and how many characters to trim off each end for the span (`Dick!`, `#fuck`, `**hell**`).
        """
        lex = self.lexicon
        direct = lex.words.get(tok)
        if direct is not None:
            return tok, direct, 0, 0
        mention = tok.startswith("@") and len(tok) > 1
        core = (tok if mention else tok.lstrip("¡#*%")).rstrip("!¡#*%")
        if not core:
            return tok, None, 0, 0
        lead = 0 if mention else len(tok) - len(tok.lstrip("¡#*%"))
        trail = len(tok) - lead - len(core)
        if _CODE.match(core):
            return core, None, lead, trail
        if len(core) == 1 and core.isalpha() and trail >= 3 and not lead \
                and all(ch in MASKS for ch in tok[1:]):
            # `f***`, `s***`: one letter and a mask for each of the others
            return tok, lex.masked_exactly(core, trail), 0, 0
        variants = _leet_variants(core)
        look = lex.word if core.isalpha() else lex.disguised_word
        for v in variants:
            if mention:
                entry = None if v in lex.safe_words else lex.words.get(v)
            elif "*" in v:
                entry = self._masked(v)
            else:
                entry = look(v)
                if entry is None and v not in lex.safe_words:
                    if _ELONGATED.search(v):
                        entry = _first(look(c) for c in _collapsed(v))
                    if entry is None and v[-1] == "z":
                        entry = look(v[:-1] + "s")
            if entry is not None:
                return v, entry, lead, trail
        return (variants[0] if variants else core), None, lead, trail

    def _masked(self, v: str) -> Entry | None:
        """A token with a mask inside: `f*u*c*k` (stars as separators), `c*ntface` (a vowel
        hidden), `f**k` (letters hidden)."""
        lex = self.lexicon
        unmasked = v.replace("*", "")
        if len(unmasked) < 2:
            return None
        if len(unmasked) >= 3:
            entry = lex.word(unmasked, stems=False)
            if entry is not None:
                return entry
        if v.count("*") <= 2 and "**" not in v:
            pieces = v.split("*")
            for fill in itertools.product("aeiou", repeat=len(pieces) - 1):
                word = pieces[0] + "".join(f + p for f, p in zip(fill, pieces[1:], strict=True))
                entry = lex.disguised_word(word)
                if entry is not None:
                    return entry
        return lex.masked(v)

    def _spaced_letters(self, text: str, toks: _Tokens) -> Iterator[_Found]:
        """Single letters split by separators: `f.u.c.k`, `f u c k`, `f-u-c-k`, `f_u_c_k`."""
        keys = toks.keys
        n = len(keys)
        i = 0
        while i < n - 2:
            if len(keys[i]) != 1:
                i += 1
                continue
            j = i
            spaced = False
            while (j + 1 < n and len(keys[j + 1]) == 1
                   and _JOIN_GAP.fullmatch(text, toks.ends[j], toks.starts[j + 1])):
                spaced = spaced or " " in text[toks.ends[j]:toks.starts[j + 1]]
                j += 1
            if j - i >= 2:
                found = self._join_run(toks, i, j, spaced)
                if found is not None:
                    yield found
            i = j + 1

    def _join_run(self, toks: _Tokens, i: int, j: int, spaced: bool) -> _Found | None:
        lex = self.lexicon
        firsts = [i]
        if spaced and toks.keys[i] in _ARTICLES:
            # "I'm a s s..." : the article is a word of its own unless the run is long.
            firsts = [i, i + 1] if j - i + 1 >= 5 else [i + 1]
        for first in firsts:
            if j - first + 1 < 3:
                continue
            letters = "".join(toks.keys[first:j + 1])
            for v in _leet_variants(letters):
                if "*" in v:
                    entry = lex.masked(v) if len(v.replace("*", "")) >= 2 else None
                else:
                    entry = lex.word(v) or _first(lex.word(c) for c in _collapsed(v))
                if entry is not None:
                    return _Found(toks.starts[first], toks.ends[j], entry)
        return None

    def _split_words(self, text: str, toks: _Tokens) -> Iterator[_Found]:
        """Two or three pieces of one word split by `.`, `-` or `_`: `bull-shit`, `fu.ck`."""
        lex = self.lexicon
        for m in _WORD_GAP.finditer(text):
            i = toks.index(m.start())
            if i < 0 or toks.ends[i] != m.start() + 1:
                continue
            joined = toks.keys[i]
            for j in range(i + 1, min(i + 3, len(toks.keys))):
                if not _JOIN_GAP.fullmatch(text, toks.ends[j - 1], toks.starts[j]) or \
                        " " in text[toks.ends[j - 1]:toks.starts[j]]:
                    break
                joined += toks.keys[j]
                if len(joined) >= 4 and joined.isalpha():
                    entry = lex.word(joined, stems=False)
                    if entry is not None:
                        yield _Found(toks.starts[i], toks.ends[j], entry)
                        break

    def _phrases(self, text: str, toks: _Tokens) -> Iterator[_Found]:
        phrases = self.lexicon.phrases
        keys = toks.keys
        n = len(keys)
        for i, key in enumerate(keys):
            candidates = phrases.get(key)
            if not candidates:
                continue
            for words, entry in candidates:
                last = i + len(words) - 1
                if last >= n or tuple(keys[i:last + 1]) != words:
                    continue
                if any(toks.starts[k + 1] - toks.ends[k] > 3
                       or _SENTENCE_BREAK.search(text, toks.ends[k], toks.starts[k + 1])
                       for k in range(i, last)):
                    continue
                yield _Found(toks.starts[i], toks.ends[last], entry)
                break


def _first(entries: Iterable[Entry | None]) -> Entry | None:
    for entry in entries:
        if entry is not None:
            return entry
    return None


def _leet_variants(core: str) -> list[str]:
    """Readings of a token with leet characters as letters and masks as `*`; [] if none."""
    options: list[str] = []
    letters = 0
    for ch in core:
        if "a" <= ch <= "z":
            options.append(ch)
            letters += 1
        elif ch in MASKS:
            options.append("*")
        elif ch in LEET:
            options.append(LEET[ch])
        else:
            return []
    if letters == 0:
        return []
    out: list[str] = []
    for combo in itertools.product(*options):
        out.append("".join(combo))
        if len(out) >= _MAX_VARIANTS:
            break
    return out


def _collapsed(word: str) -> list[str]:
    """Readings of an elongated word: runs of 3+ letters (and doubled u/i) as 1 or 2 letters."""
    pieces: list[tuple[str, ...]] = []
    for m in _RUNS.finditer(word):
        run = m.group()
        ch = run[0]
        if len(run) >= 3 or (len(run) == 2 and ch in "ui"):
            pieces.append((ch, ch * 2))
        else:
            pieces.append((run,))
    out: list[str] = []
    for combo in itertools.product(*pieces):
        v = "".join(combo)
        if v != word:
            out.append(v)
        if len(out) >= _MAX_VARIANTS:
            break
    return out


_GRAPHEME_TAIL = regex.compile(r"[\p{M}\p{Emoji_Modifier}\u200d\ufe0f]+")


def _widen_to_graphemes(text: str, start: int, end: int) -> tuple[int, int]:
    """Take the marks and emoji modifiers that follow the last character into the span."""
    m = _GRAPHEME_TAIL.match(text, end)
    return start, m.end() if m else end


_WORD_BEFORE = regex.compile(r"([\p{L}']+)[^\p{L}\n]{0,3}$")
_MENTIONS_ONLY = regex.compile(r"^(?:\s*[@.][\w.]+)*[\s,:]*$")


def _is_name(draft: Draft, start: int, end: int, greeted: bool = False) -> bool:
    """True when the term at text[start:end] is written as a name (`Hi Dick,`); with
    `greeted`, only a capitalised word right after a greeting or the customer's own name."""
    text = draft.text
    word = text[start:end]
    if not (word[:1].isupper() and word[1:].islower()):
        return False
    customer = draft.context.customer
    if customer and customer.split()[0].casefold() == word.casefold():
        return True
    before = text[max(0, start - 40):start]
    after = text[end:end + 2]
    m = _WORD_BEFORE.search(before)
    if m is not None and m.group(1).casefold().strip("'") in GREETINGS:
        return True
    if greeted:
        return False
    if _MENTIONS_ONLY.match(text[:start]) and after[:1] in (",", "!", ":", "-", "—"):
        return True
    return before.rstrip().endswith(",") and (not after.strip() or after[:1] in ".!?,")


_TITLE_WORD = regex.compile(r"\p{Lu}\p{Ll}+(?:'\p{Ll}+)?")
_TITLE_NEXT = regex.compile(r"[\s'\"‘’“”]+(?:(?:of|or|and|the|in|on|to|a|an)\s+)?\p{Lu}\p{Ll}")
_SENTENCE_START = regex.compile(r"(?:^|[.!?:;\n]|^(?:\s*[@.][\w.]+)+)[\s\"'‘’“”(\[]*$")


def _proper_noun(text: str, start: int, end: int, title: bool) -> bool:
    """True when text[start:end] is a capitalised word inside a sentence: part of a name
    (`the Wankdorf stadium`, `Mr Dikshit`) or, with `title`, of a title or name with another
    capitalised word after it (`The Damn Yankees soundtrack`, `'Hell or High Water'`)."""
    if not _TITLE_WORD.fullmatch(text, start, end):
        return False
    if _SENTENCE_START.search(text[max(0, start - 60):start]):
        return False
    return not title or _TITLE_NEXT.match(text, end) is not None


# --------------------------------------------------------------------------- compiling


_LISTS = frozenset({"ldnoobw", "surge", "dsojevic"})
Row = tuple[str, Tier, str, str, bool]


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[Row, ...], tuple[str, ...]]:
    """The shipped lexicon rows (form, tier, kind, term, rare) and safe entries, read once."""
    base = resources.files("replylint") / "lexicons"
    rows: list[Row] = []
    for line in (base / _LEXICON_FILE).read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        form, tier, kind, term, sources = line.split("\t")[:5]
        rows.append((form, "mild" if tier == "mild" else "strong", kind, term,
                     sources in _LISTS))
    safe = tuple(line for line in (base / _SAFE_FILE).read_text(encoding="utf-8").splitlines()
                 if line and not line.startswith("#"))
    return tuple(rows), safe


def lexicon_key(text: str) -> str:
    """How a user-given word or phrase is stored: the skeleton view, words split by spaces."""
    return " ".join(regex.findall(r"[\p{L}\p{N}]+", skeleton(text).text))


def build_lexicon(extra: Mapping[str, Tier], allow: set[str]) -> Lexicon:
    """The shipped lexicon plus `extra` terms, minus `allow`ed ones, compiled for matching."""
    rows, safe_entries = _shipped()
    words: dict[str, Entry] = {}
    phrases: dict[str, list[tuple[tuple[str, ...], Entry]]] = {}
    stem_kinds: dict[str, set[str]] = {}
    stem_entries: dict[str, Entry] = {}
    symbols: dict[str, Entry] = {}
    disguised: dict[str, Entry] = {}
    user: list[Row] = [(form, tier, "phrase" if " " in form else "word", form, False)
                       for form, tier in extra.items()]
    for form, tier, kind, term, rare in (*rows, *user):
        if form in allow:
            continue
        entry = Entry(term, tier, rare=rare)
        if kind == "word":
            if any(ch.isalnum() for ch in form):
                words[form] = entry
            else:
                symbols[form] = entry
        elif kind == "disguised":
            disguised[form] = entry
        elif kind == "phrase":
            parts = tuple(form.split())
            phrases.setdefault(parts[0], []).append((parts, entry))
        else:
            stem_kinds.setdefault(form, set()).add(kind)
            stem_entries[form] = Entry(term, tier, stem=True)
    safe_words = {s for s in safe_entries if " " not in s} | {a for a in allow if " " not in a}
    safe_phrases = [s for s in safe_entries if " " in s] + [a for a in allow if " " in a]
    safe_re = None
    if safe_phrases:
        alternatives = sorted((r"[^\p{L}\p{N}]{1,3}".join(regex.escape(w) for w in p.split())
                               for p in safe_phrases), key=len, reverse=True)
        safe_re = regex.compile(r"(?<![\p{L}\p{N}])(?:" + "|".join(alternatives)
                                + r")(?![\p{L}\p{N}])")
    strong_first = sorted((w for w in words if w.isalpha() and w.isascii()),
                          key=lambda w: (words[w].tier != "strong", w))
    return Lexicon(
        words=words,
        phrases={k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in phrases.items()},
        stems={f: (frozenset(k), stem_entries[f]) for f, k in stem_kinds.items()},
        stem_re=(re.compile("|".join(re.escape(f) for f in sorted(stem_kinds, key=len,
                                                                   reverse=True)))
                 if stem_kinds else None),
        safe_words=frozenset(safe_words),
        safe_re=safe_re,
        mask_blob="\n".join(strong_first),
        symbols=symbols,
        disguised=disguised,
        word_keys=frozenset(words),
        phrase_firsts=frozenset(phrases),
        hints=LiteralPool("skeleton", [*stem_kinds, "uu", "ii",
                                       *(c * 3 for c in string.ascii_lowercase)]).freeze(),
    )


def compile_profanity(opts: ProfanityOptions, ctx: CompileContext) -> ProfanityCheck | None:
    extra: dict[str, Tier] = {}
    allow: set[str] = set()
    ok = True
    for name, tier in (("words", "strong"), ("mild_words", "mild"), ("allow", None)):
        for i, raw in enumerate(getattr(opts, name)):
            key = lexicon_key(raw)
            if not key:
                ctx.error((name, i), f"{raw!r} has no letters or digits to match",
                          "give a word or phrase, e.g. 'darn'")
                ok = False
            elif tier is None:
                allow.add(key)
            else:
                extra[key] = tier  # type: ignore[assignment]
    for i, raw in enumerate(opts.allow):
        key = lexicon_key(raw)
        if key and key in extra:
            ctx.error(("allow", i), f"{raw!r} is also listed in `words` or `mild_words`",
                      "list a word in one place only")
            ok = False
    if not ok:
        return None
    mild = None if opts.mild_severity == "off" else Severity(opts.mild_severity)
    return ProfanityCheck(
        lexicon=_lexicon(tuple(sorted(extra.items())), frozenset(allow)),
        mild_severity=mild,
        names_in_greetings=opts.allow_names_in_greetings,
    )


@lru_cache(maxsize=32)
def _lexicon(extra: tuple[tuple[str, Tier], ...], allow: frozenset[str]) -> Lexicon:
    """Compiled lexicons are shared between rules and policies with the same options."""
    return build_lexicon(dict(extra), set(allow))
