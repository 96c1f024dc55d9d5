"""Text views of a reply, each with an offset map back to the original characters.

Rules match on normalised text (NFKC, case-folded, invisible controls removed, look-alike letters
mapped to Latin) but must report spans in the text the user gave. Every normalised view therefore
keeps, for each of its characters, the original span it came from.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import regex

# Invisible characters that change nothing a reader sees but split words for a naive matcher:
# zero-width space/joiners, word joiner, BOM, soft hyphen, bidi embeddings/overrides/isolates.
# Also the combining grapheme joiner, Mongolian free variation selectors and the blank Hangul
# fillers, which render as nothing (or a blank) inside a word.
INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
    "\u034f\u180b\u180c\u180d\u115f\u1160\u3164\uffa0"
)
INVISIBLE_RE = re.compile("[" + "".join(map(re.escape, sorted(INVISIBLE))) + "]")

# Letters that look like Latin ones (after NFKC and case folding, so lower case only).
# Cyrillic and Greek look-alikes, plus typographic quotes and dashes folded to ASCII.
HOMOGLYPHS: dict[str, str] = {
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d",
    "ӏ": "l", "һ": "h", "ԛ": "q", "ԝ": "w", "ү": "y", "ɡ": "g",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "ϲ": "c", "ς": "s",
    # Latin look-alikes outside ASCII
    "ı": "i", "ɑ": "a", "ɩ": "i", "ʏ": "y",
    # punctuation
    "\u2018": "'", "\u2019": "'", "\u201b": "'", "\u2032": "'", "\u02bc": "'",
    "\u201c": '"', "\u201d": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-",
}
_HOMOGLYPH_TABLE = str.maketrans(HOMOGLYPHS)
# The same map as a C-speed scan for whole replies: `str.translate` looks up every character
# of a non-ASCII text in a dict (about 40 ns each), where this only stops at a hit.
_HOMOGLYPH_RE = re.compile("[" + "".join(map(re.escape, sorted(HOMOGLYPHS))) + "]")
_GRAPHEME = regex.compile(r"\X")


def _homoglyph(m: re.Match[str]) -> str:
    return HOMOGLYPHS[m.group()]


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised view of a text and, per character, the original span it stands for.

    `starts[i]`/`ends[i]` are the original offsets of normalised character `i`. When the view is
    a plain 1:1 image of the original (the common, ASCII case) both are None and offsets are equal.
    """

    text: str
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a span of the normalised text back to the original text."""
        if self.starts is None or self.ends is None:
            return start, end
        if end <= start:
            pos = self.starts[start] if start < len(self.starts) else (
                self.ends[-1] if self.ends else 0)
            return pos, pos
        return self.starts[start], self.ends[end - 1]


def normalize(text: str) -> Normalized:
    """NFKC, case folding, invisible controls removed, homoglyphs mapped; offsets kept."""
    if text.isascii():
        # ASCII is NFKC already, holds no invisible or look-alike characters, and folds 1:1.
        return Normalized(text.lower())
    if (
        not INVISIBLE_RE.search(text)
        and unicodedata.is_normalized("NFKC", text)
    ):
        folded = text.casefold()
        if len(folded) == len(text):
            # Case folding never shrinks a character, so equal length means 1:1 everywhere.
            return Normalized(_HOMOGLYPH_RE.sub(_homoglyph, folded))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for m in _GRAPHEME.finditer(text):
        cluster = m.group()
        s, e = m.span()
        piece = _fold_cluster(cluster)
        out.append(piece)
        starts.extend([s] * len(piece))
        ends.extend([e] * len(piece))
    return Normalized("".join(out), tuple(starts), tuple(ends))


@lru_cache(maxsize=4096)
def _fold_cluster(cluster: str) -> str:
    stripped = "".join(ch for ch in cluster if ch not in INVISIBLE)
    return unicodedata.normalize("NFKC", stripped).casefold().translate(_HOMOGLYPH_TABLE)


class LineIndex:
    """Turns 0-based character offsets into 1-based line and column numbers.

    Line breaks are LF, CRLF and lone CR, so a CRLF draft reports the same lines as its LF twin.
    """

    __slots__ = ("_starts", "_length")

    def __init__(self, text: str) -> None:
        starts = [0]
        i = 0
        n = len(text)
        while True:
            j = _next_break(text, i)
            if j < 0:
                break
            step = 2 if text.startswith("\r\n", j) else 1
            i = j + step
            starts.append(i)
        self._starts = starts
        self._length = n

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of the character at `offset`."""
        idx = bisect.bisect_right(self._starts, offset) - 1
        return idx + 1, offset - self._starts[idx] + 1

    def line_span(self, line: int) -> tuple[int, int]:
        """Start and end offsets (without the line break) of a 1-based line."""
        start = self._starts[line - 1]
        end = self._starts[line] if line < len(self._starts) else self._length
        return start, end

    @property
    def line_count(self) -> int:
        return len(self._starts)


def _next_break(text: str, start: int) -> int:
    lf = text.find("\n", start)
    cr = text.find("\r", start)
    if lf < 0:
        return cr
    if cr < 0:
        return lf
    return min(lf, cr)


def line_text(text: str, index: LineIndex, line: int) -> str:
    """The text of a 1-based line without its line break."""
    start, end = index.line_span(line)
    return text[start:end].rstrip("\r\n")


# Latin letters that NFD does not decompose but that read as the plain letter in a word.
_LATIN_EXTRA: dict[str, str] = {
    "ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ŧ": "t", "ƒ": "f", "ɨ": "i", "ǝ": "e", "ı": "i",
    "ʋ": "v", "ɓ": "b", "ɗ": "d", "ƙ": "k", "ɲ": "n", "ʂ": "s", "ʐ": "z", "æ": "ae", "œ": "oe",
}


def skeleton(text: str, base: Normalized | None = None) -> Normalized:
    """`normalize` plus diacritics stripped (`fück`, `shït` -> `fuck`, `shit`); offsets kept.

    A view for lexicon matching, where an accent is an obfuscation rather than a different word.
    Every character still maps back to whole original characters (grapheme clusters), so a span
    found here covers the accents and invisible characters of the word it came from.
    `base`, when given, must be `normalize(text)` (a draft's cached view).
    """
    if base is None:
        base = normalize(text)
    if base.text.isascii() or all(_strip_marks(ch) == ch for ch in set(base.text)
                                  if not ch.isascii()):
        return base
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(base.text):
        piece = ch if ch.isascii() else _strip_marks(ch)
        s, e = base.original_span(i, i + 1)
        if not piece:
            # A dropped mark belongs to the letter before it: widen that letter's span.
            k = len(ends) - 1
            while k >= 0 and starts[k] == starts[-1]:
                ends[k] = max(ends[k], e)
                k -= 1
            continue
        out.append(piece)
        starts.extend([s] * len(piece))
        ends.extend([e] * len(piece))
    return Normalized("".join(out), tuple(starts), tuple(ends))


@lru_cache(maxsize=4096)
def _strip_marks(ch: str) -> str:
    if ch in _LATIN_EXTRA:
        return _LATIN_EXTRA[ch]
    decomposed = unicodedata.normalize("NFD", ch)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    if base and base.isascii():
        return base
    if not base:
        return ""
    return ch
