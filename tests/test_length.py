"""The `length` rule type: per-channel limits counted as each platform counts."""

from __future__ import annotations

import pytest

from replylint import Linter, PolicyError, Severity, Violation
from replylint.checks.length import length, sms_limit, url_spans
from replylint.policy import load_policy_text

MESSAGE = "{channel}: {length}/{limit} (+{over})"


def linter(options: str = "") -> Linter:
    policy = load_policy_text(
        "rules:\n"
        "  - id: length\n"
        "    type: length\n"
        f"    message: '{MESSAGE}'\n" + options)
    return Linter(policy)


def over(text: str, channel: str | None, options: str = "") -> list[tuple[str, str]]:
    """(message, overflowing text) of each violation."""
    report = linter(options).check(text, {"channel": channel} if channel else None)
    return [(v.message, text[v.start:v.end]) for v in report.violations]


FAMILY = "\U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
THUMB_SKIN = "\U0001F44D\U0001F3FD"
FLAG_GB = "\U0001F1EC\U0001F1E7"
KEYCAP_1 = "1\ufe0f\u20e3"
SCOTLAND = "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F"


@pytest.mark.parametrize("text, weight", [
    ("Hello world", 11),
    ("你好世界", 8),
    ("한국어", 6),
    ("Ünïcødé", 7),
    ("re\u0301sume\u0301", 6),                  # NFC first: e + combining acute is one
    ("We\u2019re", 5),                          # ’ is in a weight-1 range
    ("Wait\u2026", 6),                          # … is not
    (FAMILY, 2), (THUMB_SKIN, 2), (FLAG_GB, 2), (KEYCAP_1, 2), (SCOTLAND, 2), ("\u2764\ufe0f", 2),
    ("Hi " + FAMILY + "!", 6),
    ("Check https://example.com/a/very/long/path?q=1 now", 6 + 23 + 4),
    ("See https://t.co/GDrqU22YpT.", 4 + 23 + 1),
    ("Visit delta.com or www.delta.com/bags", 6 + 23 + 4 + 23),
    ("bit.ly alone is text, bit.ly/x is a link", 22 + 23 + 10),
    ("Email abuse@chase.com", 21),
    ("line one\r\nline two", 18),
])
def test_twitter_weighted_length(text: str, weight: int) -> None:
    assert length(text, "twitter") == weight


@pytest.mark.parametrize("text, expected", [
    ("Go to https://example.com/x, then", [(6, 27)]),
    ("(see example.com/help)", [(5, 21)]),
    ("Hi.It was e.g. fine", []),
    ("mail me: jane@example.com", []),
    ("www.example.co.uk", [(0, 17)]),
])
def test_urls_found_like_twitter_text(text: str, expected: list[tuple[int, int]]) -> None:
    assert list(url_spans(text)) == expected


@pytest.mark.parametrize("text, how, expected", [
    ("re\u0301sume\u0301", "characters", 8),
    ("re\u0301sume\u0301", "graphemes", 6),
    (FAMILY + THUMB_SKIN, "graphemes", 2),
    ("a\r\nb", "graphemes", 3),
    ("Price: 5 EUR", "sms", 12),
    ("Price: 5€ [net]", "sms", 18),              # € [ ] are GSM-7 extension characters
    ("We\u2019re on it", "sms", 11),              # UCS-2: one unit per UTF-16 code unit
    ("Thanks " + THUMB_SKIN, "sms", 11),          # two astral characters, two units each
])
def test_other_countings(text: str, how: str, expected: int) -> None:
    assert length(text, how, False) == expected  # type: ignore[arg-type]


def test_leading_mentions_of_a_reply_do_not_count_on_twitter() -> None:
    text = "@115712 @sprintcare Hi"
    assert length(text, "twitter", True) == 2
    assert length(text, "twitter", False) == len(text)
    assert length("Hi @115712", "twitter", True) == 10


@pytest.mark.parametrize("text, expected", [
    ("a" * 280, []),
    ("a" * 281, [("twitter: 281/280 (+1)", "a")]),
    ("你" * 140, []),
    ("你" * 141, [("twitter: 282/280 (+2)", "你")]),
    ("a" * 279 + "\U0001F600", [("twitter: 281/280 (+1)", "\U0001F600")]),
    ("a" * 278 + FAMILY, []),
    ("a" * 270 + " https://example.com/abc tail",
     [("twitter: 299/280 (+19)", "https://example.com/abc tail")]),
    ("@115712 " + "a" * 280, []),
    ("@115712 " + "a" * 279 + "bc", [("twitter: 281/280 (+1)", "c")]),
])
def test_twitter_boundary_and_span_of_the_overflow(text: str,
                                                   expected: list[tuple[str, str]]) -> None:
    assert over(text, "twitter") == expected


def test_the_violation_spans_from_the_first_character_over_the_limit_to_the_end() -> None:
    text = "Hi Dana,\r\n" + "x" * 270 + "\r\nThanks! ^MS"
    report = linter().check(text, {"channel": "X"})
    start = 280
    assert report.violations == (Violation(
        rule="length", severity=Severity.ERROR, message="X: 293/280 (+13)",
        start=start, end=len(text), line=2, column=271, end_line=3, end_column=12,
        matched="\r\nThanks! ^MS", suggestions=("Shorten the reply by 13 characters (293/280).",)),)
    assert text[start:] == "\r\nThanks! ^MS"


@pytest.mark.parametrize("channel, options, expected", [
    (None, "", []),
    ("email", "", []),
    (None, "    default_limit: 5\n", [(": 6/5 (+1)", "f")]),
    ("email", "    default_limit: 5\n", [("email: 6/5 (+1)", "f")]),
    ("Twitter", "    default_limit: 5\n", []),
    ("WhatsApp", "    limits: {whatsapp: 4}\n", [("WhatsApp: 6/4 (+2)", "ef")]),
])
def test_channel_and_default_limit(channel: str | None, options: str,
                                   expected: list[tuple[str, str]]) -> None:
    assert over("abcdef", channel, options) == expected


def test_replacing_limits_drops_the_default_channels() -> None:
    assert over("a" * 300, "twitter", "    limits: {sms: 160}\n") == []


def test_counting_overrides_one_channel_and_keeps_the_defaults_for_others() -> None:
    options = "    limits: {twitter: 3, custom: 3}\n    counting: {custom: characters}\n"
    assert over("e\u0301e\u0301", "custom", options) == [("custom: 4/3 (+1)", "\u0301")]
    assert over("e\u0301e\u0301", "twitter", options) == []


@pytest.mark.parametrize("text, expected", [
    ("a" * 160, []),
    ("a" * 161, [("sms: 161/160 (+1)", "a")]),
    ("\u20ac" * 80, []),
    ("\u20ac" * 81, [("sms: 162/160 (+2)", "\u20ac")]),
    ("\u2019" * 70, []),
    ("\u2019" * 71, [("sms: 71/70 (+1)", "\u2019")]),
])
def test_sms_counts_gsm7_septets_or_ucs2_units(text: str,
                                               expected: list[tuple[str, str]]) -> None:
    assert over(text, "sms") == expected


def test_sms_values_name_the_encoding_and_the_parts() -> None:
    options = "    message: '{encoding}, {parts} parts'\n"
    report = Linter(load_policy_text(
        "rules:\n  - id: length\n    type: length\n" + options)).check(
        "\u2019" * 140, {"channel": "sms"})
    assert [v.message for v in report.violations] == ["UCS-2, 3 parts"]


@pytest.mark.parametrize("limit, ucs2, expected", [
    (160, False, 160), (160, True, 70), (306, True, 134), (459, True, 201), (140, True, 61),
])
def test_sms_limit_is_scaled_for_ucs2(limit: int, ucs2: bool, expected: int) -> None:
    assert sms_limit(limit, ucs2) == expected


def test_instagram_counts_graphemes() -> None:
    assert over(FAMILY * 2200, "instagram") == []
    assert over(FAMILY * 2201, "instagram") == [("instagram: 2201/2200 (+1)", FAMILY)]


@pytest.mark.parametrize("yaml_options, location, field", [
    ("    limits: {twitter: 0}\n", "<string>:5:23", "rules[0].limits.twitter: a limit must be"),
    ("    limits: {twitter: 280, Twitter: 140}\n", "<string>:5:37",
     "rules[0].limits.Twitter: channel 'Twitter' is listed twice"),
    ("    limits: {twitter: many}\n", "<string>:5:23",
     "rules[0].limits.twitter: expected an integer"),
    ("    default_limit: 0\n", "<string>:5:20", "rules[0].default_limit: must be at least 1"),
    ("    counting: {whatsapp: bytes}\n", "<string>:5:26",
     "rules[0].counting.whatsapp: expected one of 'twitter'"),
    ("    exclude_leading_mentions: maybe\n", "<string>:5:31",
     "rules[0].exclude_leading_mentions: expected true/false"),
])
def test_bad_options_are_reported_with_their_position(yaml_options: str, location: str,
                                                      field: str) -> None:
    with pytest.raises(PolicyError) as err:
        linter(yaml_options)
    assert f"{location}: {field}" in str(err.value)
