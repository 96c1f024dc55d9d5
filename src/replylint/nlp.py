"""The spaCy pipeline, built once and lazily, shared read-only by every rule.

Only `tokens` rules need a spaCy `Doc`; everything else runs on plain text, so `import replylint`
does not import spaCy. Tokenizing may add strings to the shared vocabulary, so it runs under a lock:
that keeps a `Linter` safe to share between threads.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import regex

from .text import INVISIBLE, normalize

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc

_lock = threading.Lock()
_nlp: Language | None = None


def get_nlp() -> Language:
    """The shared blank English pipeline (tokenizer only; no model download needed)."""
    global _nlp
    if _nlp is None:
        with _lock:
            if _nlp is None:
                import spacy

                _nlp = spacy.blank("en")
    return _nlp


def vocab() -> Any:
    return get_nlp().vocab


@dataclass(frozen=True, slots=True)
class TokenView:
    """A reply's visible words as a spaCy Doc, and where each token is in the original text.

    The Doc holds no whitespace tokens and no invisible characters, so a token pattern sees
    "buy  $GME", "buy\\n$GME" and "bu\\u200by $GME" as the words of "buy $GME". Token `i`
    stands for `text[starts[i]:ends[i]]` of the original (invisible characters inside it
    included). ORTH, TEXT, LOWER, SHAPE and the IS_* flags read the characters as written;
    NORM reads them normalised (NFKC, case-folded, look-alike letters mapped to Latin).
    """

    doc: Doc
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original character offsets of tokens `start` to `end` (exclusive)."""
        return self.starts[start], self.ends[end - 1]


_GRAPHEME = regex.compile(r"\X")
_PICTOGRAPHIC = regex.compile(r"\p{Extended_Pictographic}")
_WORD = re.compile(r"\S+")  # `re`: \s is exactly str.isspace, as in the slow path


def visible_words(text: str) -> tuple[str, list[int]]:
    """`text` with invisible characters removed and each white-space run made one space.

    Returns the new text and, per character of it, its offset in `text`. Leading and trailing
    white space go. Invisible characters inside an emoji sequence (the zero-width joiner of
    a family emoji) stay: they are part of the picture, not an obfuscation.
    """
    out: list[str] = []
    origin: list[int] = []
    if INVISIBLE.isdisjoint(text):  # the common case: only white space to fold
        for m in _WORD.finditer(text):
            if out:
                out.append(" ")
                origin.append(m.start() - 1)
            out.append(m.group())
            origin.extend(range(m.start(), m.end()))
        return "".join(out), origin
    space_before = -1  # offset of a white-space run not yet written as " "
    for g in _GRAPHEME.finditer(text):
        cluster, at = g.group(), g.start()
        if _PICTOGRAPHIC.search(cluster):
            kept = [(at + k, ch) for k, ch in enumerate(cluster)]
        else:
            kept = [(at + k, ch) for k, ch in enumerate(cluster) if ch not in INVISIBLE]
        if not kept:
            continue  # an invisible character alone neither joins nor splits words
        if all(ch.isspace() for _, ch in kept):
            if space_before < 0:
                space_before = kept[0][0]
            continue
        if space_before >= 0 and out:
            out.append(" ")
            origin.append(space_before)
        space_before = -1
        for offset, ch in kept:
            out.append(ch)
            origin.append(offset)
    return "".join(out), origin


@lru_cache(maxsize=4096)
def _fold(word: str) -> str:
    return normalize(word).text


def token_view(text: str) -> TokenView:
    """The `TokenView` of a reply (`Draft.tokens` builds it once for all `tokens` rules).

    A view is never changed after it is built, so threads may share it.
    """
    clean, origin = visible_words(text)
    nlp = get_nlp()
    with _lock:  # tokenizing and setting norms write to the shared vocabulary
        doc = nlp.make_doc(clean)
        for token in doc:
            norm = token.norm_
            if not norm.isascii() and (folded := _fold(norm)) != norm:
                token.norm_ = folded
    starts = tuple(origin[t.idx] for t in doc)
    ends = tuple(origin[t.idx + len(t.text) - 1] + 1 for t in doc)
    return TokenView(doc, starts, ends)
