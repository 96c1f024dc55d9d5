"""SpanSet answers exactly what the linear scans it replaced answered."""

from __future__ import annotations

import random

import pytest

from replylint.spans import SpanSet


@pytest.mark.parametrize("seed", range(20))
def test_span_set_equals_the_linear_scans(seed: int) -> None:
    rng = random.Random(seed)
    kept: list[tuple[int, int]] = []
    spans = SpanSet()
    for _ in range(60):
        start = rng.randrange(0, 100)
        end = start + rng.choice([0, 1, 2, 5, 9])
        overlapping = any(s < end and start < e for s, e in kept)
        assert spans.overlaps(start, end) == overlapping
        assert spans.add(start, end) == (not overlapping)
        if not overlapping:
            kept.append((start, end))
    assert sorted(spans) == sorted(kept) and len(spans) == len(kept)
    for pos in range(-1, 112):
        assert spans.covers(pos) == any(s <= pos < e for s, e in kept)
        for length in (0, 1, 3):
            assert spans.contains(pos, pos + length) == any(
                s <= pos and pos + length <= e for s, e in kept)


def test_an_empty_set_is_false_and_holds_nothing() -> None:
    spans = SpanSet()
    assert not spans and not spans.covers(0) and not spans.contains(0, 0)
    assert not spans.overlaps(0, 5)
