"""A draft parsed once: its text, context, line index and normalised views, shared by all rules."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

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


_SPACE_RUN = re.compile(r"[ \t\n\r\x0b\x0c]+")


def gate_form(text: str) -> str:
    """`text` as pattern prefilters read it, and their literals are written (see
    `pattern.required_literals`): each run of ASCII white space one space, so one literal
    "to $" stands for "to\\s+\\$" whatever space the reply has there. Most replies are one
    line with single spaces, and come back as they are."""
    if text.isprintable() and "  " not in text:
        return text
    return _SPACE_RUN.sub(" ", text)


def gate_view(text: str | None) -> str | None:
    """`gate_form` of a view that may not exist for this draft."""
    return None if text is None else gate_form(text)


# What `\\s` matches beyond ASCII white space (the `regex` module's White_Space); NFKC turns
# most of it into spaces, not these.
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def folded_literal_view(text: str) -> str | None:
    """`literal_view` of a normalised view (NFKC, then case-folded: `text.normalize`), which
    lets through any text without Unicode white space: "Günduz", Spanish, Japanese.

    There no character but an ASCII one matches an ASCII literal case-insensitively: the only
    others the `regex` module would (the Kelvin sign, long s, dotted capital I) are gone, and
    no letter is upper case, so a match is exactly an occurrence of the literal in the text
    itself. Without Unicode white space, `\\s` matches the six ASCII characters only.
    """
    if text.isascii() or _UNICODE_SPACE.search(text) is None:
        return text
    return None


T = TypeVar("T")


class _view(Generic[T]):
    """`functools.cached_property` without its lock: before Python 3.12 that lock is taken on
    every first access, a measurable cost for a reply's handful of views. A Draft belongs to
    one check in one thread, so there is nothing to lock against."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _view[T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> T | _view[T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value  # found there from now on: no more calls here
        return value


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

    @_view
    def lines(self) -> LineIndex:
        return LineIndex(self.text)

    @_view
    def single_line(self) -> bool:
        return "\n" not in self.text and "\r" not in self.text

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column), both 1-based, of `offset`; a one-line reply needs no line index."""
        if self.single_line:
            return 1, offset + 1
        return self.lines.position(offset)

    @_view
    def normalized(self) -> Normalized:
        """NFKC + case-folded + invisible characters removed + homoglyphs mapped."""
        return normalize(self.text)

    @property
    def normalized_text(self) -> str:
        return self.normalized.text

    @_view
    def ascii_lower(self) -> str | None:
        """The text lower-cased when its case-insensitive matches of ASCII literals are exactly
        the lower-case occurrences of them, else None (see `literal_view`)."""
        return literal_view(self.text)

    @_view
    def ascii_lower_normalized(self) -> str | None:
        """`ascii_lower` of the normalised text, which holds for more of it (see
        `folded_literal_view`)."""
        return folded_literal_view(self.normalized.text)

    # The views pattern prefilters read (see `gate_view`).

    @_view
    def gate_text(self) -> str:
        return gate_form(self.text)

    @_view
    def gate_normalized_text(self) -> str:
        return gate_form(self.normalized.text)

    @_view
    def gate_lower(self) -> str | None:
        return gate_view(self.ascii_lower)

    @_view
    def gate_lower_normalized(self) -> str | None:
        return gate_view(self.ascii_lower_normalized)

    @_view
    def tokens(self) -> "TokenView":
        """The visible words as a spaCy Doc, with a map back to original offsets; built on
        first use (spaCy is imported only then) and shared by every `tokens` rule."""
        from .nlp import token_view

        return token_view(self.text)
