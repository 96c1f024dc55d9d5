"""A draft parsed once: its text, context, line index and normalised views, shared by all rules."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from .model import Context
from .text import LineIndex, Normalized, normalize

if TYPE_CHECKING:  # pragma: no cover
    from spacy.tokens import Doc


class Draft:
    """One reply being checked. Views are computed on first use and kept for the other rules.

    A Draft lives for one `Linter.check` call in one thread, so its lazy caches need no lock.
    """

    def __init__(self, text: str, context: Context | None = None) -> None:
        self.text = text
        self.context = context or Context()

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text)

    @cached_property
    def normalized(self) -> Normalized:
        """NFKC + case-folded + invisible characters removed + homoglyphs mapped."""
        return normalize(self.text)

    @cached_property
    def doc(self) -> "Doc":
        """spaCy Doc of the original text (tokens carry original character offsets)."""
        from .nlp import make_doc

        return make_doc(self.text)
