"""Normalised views keep an exact offset map back to the original text; line/column indexing."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import regex

from replylint.text import (HOMOGLYPHS, LineIndex, Normalized, _fold_cluster, line_text, normalize,
                            skeleton)

View = Callable[[str], Normalized]


def pieces(view: Normalized, original: str) -> list[tuple[str, str]]:
    """Each view character with the original text it stands for."""
    out = []
    for i, ch in enumerate(view.text):
        s, e = view.original_span(i, i + 1)
        out.append((ch, original[s:e]))
    return out


@pytest.mark.parametrize("text, view, mapped", [
    ("Hello", "hello", [("h", "H"), ("e", "e"), ("l", "l"), ("l", "l"), ("o", "o")]),
    ("Ｆｕｌ", "ful", [("f", "Ｆ"), ("u", "ｕ"), ("l", "ｌ")]),
    ("ﬁx", "fix", [("f", "ﬁ"), ("i", "ﬁ"), ("x", "x")]),
    ("e\u0301!", "\u00e9!", [("\u00e9", "e\u0301"), ("!", "!")]),
    ("a\u200bb", "ab", [("a", "a"), ("b", "b")]),
    ("\u0440\u0430ss", "pass", [("p", "\u0440"), ("a", "\u0430"), ("s", "s"), ("s", "s")]),
    ("Stra\u00dfe", "strasse", [("s", "S"), ("t", "t"), ("r", "r"), ("a", "a"),
                                ("s", "\u00df"), ("s", "\u00df"), ("e", "e")]),
    ("a\r\nb", "a\r\nb", [("a", "a"), ("\r", "\r"), ("\n", "\n"), ("b", "b")]),
    ("it\u2019s", "it's", [("i", "i"), ("t", "t"), ("'", "\u2019"), ("s", "s")]),
])
def test_normalize_maps_every_character_back(text: str, view: str,
                                             mapped: list[tuple[str, str]]) -> None:
    result = normalize(text)
    assert (result.text, pieces(result, text)) == (view, mapped)


@pytest.mark.parametrize("text, view, mapped", [
    ("f\u00fcck", "fuck", [("f", "f"), ("u", "\u00fc"), ("c", "c"), ("k", "k")]),
    ("f\u0301un", "fun", [("f", "f\u0301"), ("u", "u"), ("n", "n")]),
    ("\u00d8l \u0142", "ol l", [("o", "\u00d8"), ("l", "l"), (" ", " "), ("l", "\u0142")]),
    ("😀 \u0455hit", "😀 shit", [("😀", "😀"), (" ", " "), ("s", "\u0455"), ("h", "h"),
                                 ("i", "i"), ("t", "t")]),
    ("caf\u00e9\r\n", "cafe\r\n", [("c", "c"), ("a", "a"), ("f", "f"), ("e", "\u00e9"),
                                   ("\r", "\r"), ("\n", "\n")]),
])
def test_skeleton_strips_diacritics_and_keeps_the_map(text: str, view: str,
                                                      mapped: list[tuple[str, str]]) -> None:
    result = skeleton(text)
    assert (result.text, pieces(result, text)) == (view, mapped)


def test_skeleton_of_plain_text_is_the_normalised_view_itself() -> None:
    base = normalize("Hello there, 😀 thanks")
    assert skeleton("Hello there, 😀 thanks", base) is base


def test_spans_cover_whole_original_words() -> None:
    text = "Oh f\u00fc\u200bck\u0301 it"
    view = skeleton(text)
    start = view.text.index("fuck")
    s, e = view.original_span(start, start + 4)
    assert text[s:e] == "f\u00fc\u200bck\u0301"


def test_empty_spans_map_to_a_position() -> None:
    view = normalize("a\u200bbc")
    assert (view.original_span(1, 1), view.original_span(3, 3)) == ((2, 2), (4, 4))


# Characters chosen to break naive offset maps: marks, ligatures, case folding that changes
# length, invisible and bidi controls, look-alikes, emoji sequences and every kind of line break.
POOL = ["a", "B", "z", " ", "é", "e\u0301", "\u0301", "ﬁ", "ß", "İ", "Ｆ", "\u0430", "\u03bf",
        "\u200b", "\u202e", "\ufeff", "😀", "👍🏽", "👨\u200d👩\u200d👧", "\r\n", "\r", "\n",
        "\u2019", "\u2014", "1", "$", "ǅ", "㎏", "①", "\u00ad", "Ǆ", "ﬀ", "\u1100\u1161"]


# Already NFKC-normalised and without invisible characters: normalize's 1:1 fast path.
PLAIN_POOL = ["z", "B", "q", " ", "\u0301", "\u0308", "😀", "👍🏽", "\r\n", "\r", "\u2014", "$"]


def random_texts(seed: int, count: int, pool: list[str] = POOL) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 9))) for _ in range(count)]


@pytest.mark.parametrize("view_of", [normalize, skeleton], ids=["normalize", "skeleton"])
@pytest.mark.parametrize("text", random_texts(seed=7, count=120)
                         + random_texts(seed=8, count=30, pool=PLAIN_POOL))
def test_every_span_maps_back_onto_original_characters(view_of: View, text: str) -> None:
    """For every span of the view: the original span is in bounds, ordered, non-empty, and
    re-normalising that original span gives back (at least) the view's text."""
    view = view_of(text)
    n = len(view.text)
    previous = 0
    for i in range(n):
        start, _ = view.original_span(i, i + 1)
        assert start >= previous
        previous = start
        for j in range(i + 1, n + 1):
            s, e = view.original_span(i, j)
            assert 0 <= s < e <= len(text)
            assert view.text[i:j] in view_of(text[s:e]).text


@pytest.mark.parametrize("text", random_texts(seed=11, count=40)
                         + random_texts(seed=12, count=40, pool=PLAIN_POOL))
def test_skeleton_letters_take_the_marks_that_follow_them(text: str) -> None:
    """A letter's original span never stops right before a combining mark (`f\u0301`)."""
    view = skeleton(text)
    for i, ch in enumerate(view.text):
        s, e = view.original_span(i, i + 1)
        if ch.isascii() and ch.isalpha():
            assert regex.match(r"\p{M}", text[e:e + 1]) is None, (ch, text[s:e + 1])


def test_line_index_with_crlf_and_lone_cr() -> None:
    text = "ab\r\ncd\ref\ngh"
    index = LineIndex(text)
    positions = {ch: index.position(text.index(ch)) for ch in "abcdefgh"}
    assert positions == {"a": (1, 1), "b": (1, 2), "c": (2, 1), "d": (2, 2), "e": (3, 1),
                         "f": (3, 2), "g": (4, 1), "h": (4, 2)}
    assert index.line_count == 4
    assert [line_text(text, index, n) for n in range(1, 5)] == ["ab", "cd", "ef", "gh"]
    assert index.line_span(1) == (0, 4)


def test_line_index_of_a_trailing_crlf_and_an_empty_text() -> None:
    assert (LineIndex("x\r\n").line_count, LineIndex("x\r\n").position(3)) == (2, (2, 1))
    assert (LineIndex("").line_count, LineIndex("").position(0)) == (1, (1, 1))


def test_crlf_and_lf_drafts_report_the_same_lines() -> None:
    lf, crlf = "one\ntwo\nthree", "one\r\ntwo\r\nthree"
    assert ([LineIndex(lf).position(lf.index(w))[0] for w in ("one", "two", "three")]
            == [LineIndex(crlf).position(crlf.index(w))[0] for w in ("one", "two", "three")])


@pytest.mark.parametrize("joiner", ["\u034f", "\u180b", "\u3164", "\u200b"])
def test_blank_joiners_inside_a_word_are_seen_through_with_exact_spans(joiner: str) -> None:
    """Regression: a combining grapheme joiner (U+034F) hid `f\u034fuck` from the profanity rule."""
    from replylint import check

    text = f"Oh f{joiner}uck, sorry ^MS"
    (v,) = check(text).violations
    assert (v.rule, text[v.start:v.end]) == ("profanity", f"f{joiner}uck")


def test_the_one_to_one_fast_path_maps_look_alikes_as_the_slow_path_does() -> None:
    """A non-ASCII reply that folds 1:1 maps look-alikes with a scan, not `str.translate`; the
    per-grapheme path (`_fold_cluster`) is the definition."""
    rng = random.Random(11)
    alphabet = "".join(HOMOGLYPHS) + "abcABC 'é😀Ωß"
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12)))
        if text.isascii() or len(text.casefold()) != len(text):
            continue
        slow = "".join(_fold_cluster(m.group()) for m in regex.finditer(r"\X", text))
        assert normalize(text).text == slow, text
