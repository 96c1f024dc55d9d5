"""Sets of non-overlapping spans with logarithmic lookups.

Rules keep spans they must not look into again (URLs, e-mail addresses, hits already taken).
A reply usually has a handful, but a hostile one can have thousands, and testing each candidate
against every span made such a reply cost seconds.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator


class SpanSet:
    """Non-overlapping `(start, end)` spans kept in order; `add` refuses an overlapping one."""

    __slots__ = ("_starts", "_ends")

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in spans:
            self.add(start, end)

    def add(self, start: int, end: int) -> bool:
        """Keep the span unless it overlaps one already kept; True when kept."""
        if self.overlaps(start, end):
            return False
        # An empty span goes before a span with the same start, so the last span starting at
        # or before a position is always the one that reaches furthest.
        if end == start:
            i = bisect.bisect_left(self._starts, start)
        else:
            i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        return True

    def overlaps(self, start: int, end: int) -> bool:
        """Whether some kept span `(s, e)` has `s < end and start < e`."""
        i = bisect.bisect_left(self._starts, end)  # kept spans starting before `end`...
        return i > 0 and self._ends[i - 1] > start  # ...the last of which ends latest

    def covers(self, pos: int) -> bool:
        """Whether `pos` lies inside a kept span (`s <= pos < e`)."""
        i = bisect.bisect_right(self._starts, pos)
        return i > 0 and pos < self._ends[i - 1]

    def contains(self, start: int, end: int) -> bool:
        """Whether one kept span holds all of `start:end` (`s <= start and end <= e`)."""
        i = bisect.bisect_right(self._starts, start)
        return i > 0 and end <= self._ends[i - 1]

    def __len__(self) -> int:
        return len(self._starts)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(zip(self._starts, self._ends, strict=True))

    def __bool__(self) -> bool:
        return bool(self._starts)
