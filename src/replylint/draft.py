"""A draft parsed once: its text, context, line index and normalised views, shared by all rules."""

from __future__ import annotations

import re
import time
from functools import cached_property
from typing import TYPE_CHECKING

from .literals import LiteralPool, Scan
from .model import Context
from .text import LineIndex, Normalized, normalize

if TYPE_CHECKING:  # pragma: no cover
    from .nlp import TokenView


# Characters without case and not white space (emoji, pictographs, arrows, dingbats, CJK
# punctuation, variation selectors, ZWJ, keycaps, tags): no case-insensitive match of an ASCII
# literal can involve one, so they leave a reply's ASCII prefilters valid. A test checks every
# code point of these ranges against the `regex` module.
_CASELESS = (r"\u200d\u20e3\u2190-\u23ff\u2500-\u27bf\u2b00-\u2bff\u3001-\u303f\ufe00-\ufe0f"
             r"\U0001f000-\U0001faff\U000e0020-\U000e007f")
_CASED_OR_SPACE = re.compile(f"[^\\x00-\\x7f{_CASELESS}]")


def literal_view(text: str) -> str | None:
    """`text.lower()` when every character is ASCII or caseless, else None.

    There a case-insensitive regex match of an ASCII literal is exactly an occurrence of it in
    the lower-cased text, and `\\s` matches ASCII white space only; elsewhere (accented letters,
    long s, Kelvin sign, ligatures...) Unicode case folding decides, so prefilters stand aside.
    """
    if text.isascii() or _CASED_OR_SPACE.search(text) is None:
        return text.lower()
    return None


class Draft:
    """One reply being checked. Views are computed on first use and kept for the other rules.

    A Draft lives for one `Linter.check` call in one thread, so its lazy caches need no lock.
    """

    def __init__(self, text: str, context: Context | None = None,
                 deadline: float | None = None) -> None:
        self.text = text
        self.context = context or Context()
        self.deadline = deadline
        self._scans: dict[LiteralPool, Scan | None] = {}

    def time_left(self) -> float | None:
        """Seconds until the check's deadline (a `time.monotonic()` value), or None.

        Rules whose single steps can be slow (a user's regex on a long reply) pass it on as a
        timeout; when it runs out they raise `TimeoutError` and the report is incomplete.
        """
        if self.deadline is None:
            return None
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the check's deadline has passed")
        return left

    def literals_in(self, pool: LiteralPool) -> Scan | None:
        """The pool's scan of the view it names, done once for all rules; None when that view
        is not available for this draft (see `literal_view`)."""
        try:
            return self._scans[pool]
        except KeyError:
            view: str | None = getattr(self, pool.view)
            found = pool.scan(view) if view is not None else None
            self._scans[pool] = found
            return found

    @cached_property
    def lines(self) -> LineIndex:
        return LineIndex(self.text)

    @cached_property
    def single_line(self) -> bool:
        return "\n" not in self.text and "\r" not in self.text

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of `offset`; a one-line reply needs no line index."""
        if self.single_line:
            return 1, offset + 1
        return self.lines.position(offset)

    @cached_property
    def normalized(self) -> Normalized:
        """NFKC + case-folded + invisible characters removed + homoglyphs mapped."""
        return normalize(self.text)

    @property
    def normalized_text(self) -> str:
        return self.normalized.text

    @cached_property
    def ascii_lower(self) -> str | None:
        """The text lower-cased when its case-insensitive matches of ASCII literals are exactly
        the lower-case occurrences of them, else None (see `literal_view`)."""
        return literal_view(self.text)

    @cached_property
    def ascii_lower_normalized(self) -> str | None:
        """`ascii_lower` of the normalised text."""
        return literal_view(self.normalized.text)

    @cached_property
    def tokens(self) -> "TokenView":
        """The visible words as a spaCy Doc, with a map back to original offsets; built on
        first use (spaCy is imported only then) and shared by every `tokens` rule."""
        from .nlp import token_view

        return token_view(self.text)
