"""The `tokens` rule type: spaCy Matcher patterns in YAML, on the blank English tokenizer."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from itertools import product
from typing import Any, Iterator

import pytest

from replylint import Linter
from replylint.errors import PolicyError
from replylint.policy import load_policy_text

ADVICE = r"""
rules:
  - id: trading-advice
    type: tokens
    message: "'{match}' reads as a recommendation to trade a security."
    patterns:
      # an advice verb, a cashtag: "buy $TSLA", "Sell $nvda"
      - [{LOWER: {IN: [buy, sell, short]}}, {ORTH: '$'}, {LOWER: {REGEX: '^[a-z]{1,5}$'}}]
      # an advice verb, a bare ticker in capitals: "sell AAPL"
      - [{LOWER: {IN: [buy, sell, short]}},
         {TEXT: {REGEX: '^[A-Z]{2,5}$', NOT_IN: [NOW, ASAP, IT, THE, ONE]}}]
"""


@pytest.fixture(scope="module")
def advice() -> Linter:
    return Linter(load_policy_text(ADVICE))


def spans(linter: Linter, text: str) -> list[tuple[str, int, int]]:
    return [(text[v.start:v.end], v.start, v.end) for v in linter.check(text).violations]


@pytest.mark.parametrize("text, expected", [
    ("you should buy $TSLA", [("buy $TSLA", 11, 20)]),
    ("I'd sell AAPL now", [("sell AAPL", 4, 13)]),
    ("Honestly? SELL $nvda!!", [("SELL $nvda", 10, 20)]),
    ("Hi!\r\nYou should short GME 🚀 today", [("short GME", 16, 25)]),
    ("Café owners: buy MSFT, sell IBM", [("buy MSFT", 13, 21), ("sell IBM", 23, 31)]),
    ("You can buy a seat on board", []),
    ("Check the sell-by date", []),
    ("Buy NOW and save", []),
    ("We don't sell $", []),
    ("Your $TSLA order", []),
], ids=["cashtag", "ticker", "case-punct", "crlf-emoji", "two-hits", "buy-a-seat", "sell-by",
        "stoplisted-caps", "no-ticker", "no-verb"])
def test_advice_verb_followed_by_a_ticker(advice: Linter, text: str,
                                          expected: list[tuple[str, int, int]]) -> None:
    assert spans(advice, text) == expected


def test_violation_fields(advice: Linter) -> None:
    text = "Thanks!\nI'd sell AAPL now"
    (v,) = advice.check(text).violations
    assert (v.rule, v.message, v.start, v.end, v.line, v.column, v.end_line, v.end_column,
            v.matched) == ("trading-advice",
                           "'sell AAPL' reads as a recommendation to trade a security.",
                           12, 21, 2, 5, 2, 14, "sell AAPL")


@pytest.mark.parametrize("greedy, expected", [
    ("LONGEST", [("pay", 0, 3), ("now or never", 4, 16)]),
    ("FIRST", [("pay now", 0, 7)]),
    ("null", [("pay now", 0, 7)]),  # every match; the linter keeps the earliest of overlaps
])
def test_greedy_filters_overlapping_matches(greedy: str, expected: list[Any]) -> None:
    policy = f"""
rules:
  - id: pressure
    type: tokens
    greedy: {greedy}
    patterns:
      - [{{LOWER: pay}}, {{LOWER: now, OP: '?'}}]
      - [{{LOWER: now}}, {{LOWER: or}}, {{LOWER: never}}]
"""
    assert spans(Linter(load_policy_text(policy)), "pay now or never") == expected


@pytest.mark.parametrize("pattern, message", [
    ("[{LOWER: buy}, {LOWERR: x}]",
     "<string>:6:24: rules[0].patterns[0][1]: invalid token pattern: token 1: "
     "unknown attribute 'LOWERR'"),
    ("[{LOWER: {INN: [a, b]}}]",
     "<string>:6:18: rules[0].patterns[0][0].LOWER: invalid token pattern: token 0, LOWER: "
     "unknown key 'INN'"),
    ("[{LOWER: buy, OP: '??'}]",
     "<string>:6:27: rules[0].patterns[0][0].OP: invalid token pattern: token 0, OP: "
     "Input should be '+', '*', '?' or '!'"),
    ("[{LOWER: {REGEX: '^(buy'}}]",
     "<string>:6:9: rules[0].patterns[0]: invalid token pattern: missing ), unterminated "
     "subpattern"),
    ("[{LOWER: {IN: [true]}}]",
     "rules[0].patterns[0][0].LOWER: invalid token pattern: token 0, LOWER: Input should be a "
     "valid string (unquoted true/false are YAML booleans; quote them)"),
    ("[]", "<string>:6:9: rules[0].patterns[0]: a pattern needs at least one token spec"),
    ("[buy]", "<string>:6:10: rules[0].patterns[0][0]: expected a mapping"),
], ids=["unknown-attribute", "unknown-operator", "bad-op", "bad-regex", "yaml-boolean",
        "empty-pattern", "not-a-mapping"])
def test_invalid_patterns_point_at_the_yaml(pattern: str, message: str) -> None:
    policy = f"rules:\n  - id: advice\n    type: tokens\n    patterns:\n" \
             f"      - [{{LOWER: ok}}]\n      - {pattern}\n"
    with pytest.raises(PolicyError) as info:
        load_policy_text(policy)
    assert message.replace("patterns[0]", "patterns[1]") in str(info.value)


@pytest.mark.parametrize("attr", ["POS", "pos", "TAG", "DEP", "LEMMA", "MORPH", "ENT_TYPE",
                                  "SENT_START", "IS_SENT_START", "_"])
def test_attributes_of_a_trained_pipeline_are_rejected(attr: str) -> None:
    policy = f"rules:\n  - id: advice\n    type: tokens\n    patterns:\n" \
             f"      - [{{LOWER: buy}}, {{{attr}: VERB}}]\n"
    with pytest.raises(PolicyError) as info:
        load_policy_text(policy)
    assert str(info.value) == (
        f"<string>:5:{27 + len(attr)}: rules[0].patterns[0][1].{attr}: {attr} needs a trained "
        f"pipeline; replylint tokenizes with spacy.blank('en'), which does not set it (match the "
        f"words instead: LOWER, NORM, TEXT with IN or REGEX)")


def test_every_invalid_pattern_is_reported() -> None:
    policy = """rules:
  - id: advice
    type: tokens
    greedy: BIGGEST
    patterns: []
"""
    with pytest.raises(PolicyError) as info:
        load_policy_text(policy)
    assert [str(i) for i in info.value.issues] == [
        "<string>:4:13: rules[0].greedy: expected 'FIRST' | 'LONGEST' or null, found 'BIGGEST'",
        "<string>:5:15: rules[0].patterns: must not be empty",
    ]


def test_a_wrongly_shaped_pattern_does_not_hide_the_other_bad_patterns() -> None:
    """Regression: `- {LOWER: buy}` (not a list) hid every other problem of the list."""
    policy = """rules:
  - id: advice
    type: tokens
    patterns:
      - {LOWER: buy}
      - [{LOWERR: x}]
      - [{LOWER: ok}]
      - [buy]
      - [{POS: VERB}]
"""
    with pytest.raises(PolicyError) as info:
        load_policy_text(policy)
    assert [str(i) for i in info.value.issues] == [
        "<string>:5:9: rules[0].patterns[0]: expected a list of mappings, found a mapping",
        "<string>:6:10: rules[0].patterns[1][0]: invalid token pattern: token 0: unknown "
        "attribute 'LOWERR' (see https://spacy.io/usage/rule-based-matching"
        "#adding-patterns-attributes)",
        "<string>:8:10: rules[0].patterns[3][0]: expected a mapping, found 'buy'",
        "<string>:9:16: rules[0].patterns[4][0].POS: POS needs a trained pipeline; replylint "
        "tokenizes with spacy.blank('en'), which does not set it (match the words instead: "
        "LOWER, NORM, TEXT with IN or REGEX)",
    ]


def _texts() -> Iterator[str]:
    verbs = ["buy", "Sell", "short", "hold", "book"]
    things = ["$TSLA", "AAPL", "a seat", "NOW", "$nvda", "the dip", "GME 🚀"]
    lead = ["", "Hi!\r\n", "You should ", "I'd ", "Don't "]
    tail = ["", " today", ". ^MS", "!!"]
    for a, b, c, d in product(lead, verbs, things, tail):
        yield f"{a}{b} {c}{d}"


def test_one_linter_is_safe_to_share_between_threads(advice: Linter) -> None:
    texts = list(_texts()) * 3
    sequential = [advice.check(t).violations for t in texts]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            threaded = list(pool.map(lambda t: advice.check(t).violations, texts, chunksize=1))
    finally:
        sys.setswitchinterval(interval)
    assert threaded == sequential
    assert sum(1 for v in sequential if v) == 3 * 5 * 4 * 3 * 4


TICKER = r"""
rules:
  - id: ticker-advice
    type: tokens
    patterns:
      - [{LOWER: {IN: [buy, sell]}}, {LOWER: more, OP: "?"}, {ORTH: "$"}, {IS_UPPER: true}]
"""


@pytest.fixture(scope="module")
def ticker() -> Linter:
    return Linter(load_policy_text(TICKER))


@pytest.mark.parametrize("text, expected", [
    ("buy $GME", [("buy $GME", 0, 8)]),
    # regression: white space other than one space, and invisible characters, hid the match
    ("buy  $GME", [("buy  $GME", 0, 9)]),
    ("buy\n$GME", [("buy\n$GME", 0, 8)]),
    ("buy\t$GME", [("buy\t$GME", 0, 8)]),
    ("buy\xa0$GME", [("buy\xa0$GME", 0, 8)]),
    ("bu\u200by $GME", [("bu\u200by $GME", 0, 9)]),
    ("buy\u202e $GME\u202c", [("buy\u202e $GME", 0, 9)]),
    ("buy\u00ad more\u2003\u2003$GME", [("buy\u00ad more\u2003\u2003$GME", 0, 15)]),
    ("Hi Dana!\r\n\r\nSell\r\nmore $GME ^MS", [("Sell\r\nmore $GME", 12, 27)]),
    ("\U0001f468\u200d\U0001f469\u200d\U0001f467 buy \U0001f680 $GME, buy  $AMC",
     [("buy  $AMC", 18, 27)]),
    ("Cafe\u0301 owners: sell \u200b $GME", [("sell \u200b $GME", 14, 25)]),
    ("  \u200b buy $GME \u200b ", [("buy $GME", 4, 12)]),
    ("buy $gme", []),
    ("buy. $GME", []),
], ids=["one-space", "two-spaces", "newline", "tab", "nbsp", "zero-width-inside", "bidi",
        "soft-hyphen-em-spaces", "crlf", "emoji-zwj", "combining-mark", "invisible-edges",
        "lower-case-ticker", "punctuation-between"])
def test_tokens_see_through_white_space_and_invisible_characters(
        ticker: Linter, text: str, expected: list[tuple[str, int, int]]) -> None:
    assert spans(ticker, text) == expected


def test_violation_positions_count_the_original_text(ticker: Linter) -> None:
    text = "Thanks!\r\nYou  should   buy\u200b\u00a0$GME"
    (v,) = ticker.check(text).violations
    assert (text[v.start:v.end], v.start, v.end, v.line, v.column, v.end_line, v.end_column) == (
        "buy\u200b\u00a0$GME", 23, 32, 2, 15, 2, 24)


def test_the_token_view_has_no_white_space_tokens() -> None:
    from replylint.nlp import token_view

    text = " Sell\u2003\u200b more\r\n\t$GME! "
    view = token_view(text)
    assert [t.text for t in view.doc] == ["Sell", "more", "$", "GME", "!"]
    assert [text[s:e] for s, e in zip(view.starts, view.ends)] == [
        "Sell", "more", "$", "GME", "!"]


def test_norm_sees_look_alike_letters_and_lower_does_not() -> None:
    policy = load_policy_text("""
rules:
  - id: by-norm
    type: tokens
    patterns: [[{NORM: sell}, {NORM: now}]]
  - id: by-lower
    type: tokens
    patterns: [[{LOWER: sell}, {LOWER: now}]]
""")
    linter = Linter(policy)
    cyrillic = "\u0405\u0415LL N\u041eW"  # Cyrillic S, E and O
    assert [(v.rule, cyrillic[v.start:v.end]) for v in linter.check(cyrillic).violations] == [
        ("by-norm", cyrillic)]
    assert [v.rule for v in linter.check("Sell  now").violations] == ["by-lower", "by-norm"]


@pytest.mark.parametrize("policy, imported", [
    ("rules: [{id: refund, type: pattern, patterns: [refund]}]", "False"),
    ("rules: [{id: refund, type: tokens, patterns: [[{LOWER: refund}]]}]", "True"),
])
def test_spacy_is_imported_only_for_a_policy_with_tokens_rules(policy: str,
                                                               imported: str) -> None:
    code = ("import sys; from replylint import Linter; "
            "from replylint.policy import load_policy_text; "
            f"Linter(load_policy_text({policy!r})).check('buy  $GME refund'); "
            "print('spacy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == imported


@pytest.mark.parametrize("lead", ["", "Hi!\r\n", "\U0001f44d\U0001f3fd ", "Cafe\u0301 ",
                                  "\u200f\u00a0"])
@pytest.mark.parametrize("sep", [" ", "   ", "\n", "\r\n", "\t", "\u00a0", "\u2003", "\u3000",
                                 " \u200b ", "\u200d ", " \u2066", "\u2028"])
def test_any_white_space_run_between_the_words(ticker: Linter, lead: str, sep: str) -> None:
    text = f"{lead}sell{sep}more{sep}${sep}GME"
    assert spans(ticker, text) == [(text[len(lead):], len(lead), len(text))]
