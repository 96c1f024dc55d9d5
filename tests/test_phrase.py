"""The `phrase` rule type and the inflection folding it relies on."""

from __future__ import annotations

import random

import pytest
import regex

from replylint import Linter
from replylint.errors import PolicyError
from replylint.inflect import fold, fold_all
from replylint.policy import load_policy_text
from replylint.words import words

SCRIPTED = """\
rules:
  - id: scripted-phrasing
    type: phrase
    severity: warning
    message: "'{match}' reads like a script ({phrase})."
    inflect: INFLECT
    phrases:
      "we apologize for any inconvenience": "Sorry about this, {customer}."
      "your call is important to us": null
      "rest assured": null
      "ass": null
      "déjà vu": null
    exceptions: ["kick ass"]
"""


def lint(text: str, inflect: bool = False, context: dict[str, str] | None = None) -> list[tuple[
        str, tuple[str, ...]]]:
    linter = Linter(load_policy_text(SCRIPTED.replace("INFLECT", str(inflect).lower())))
    report = linter.check(text, context)
    return [(text[v.start:v.end], v.suggestions) for v in report.violations]


SORRY = ("Sorry about this, Dana.",)


@pytest.mark.parametrize("text, expected", [
    ("We apologize for any inconvenience.", [("We apologize for any inconvenience", SORRY)]),
    ("Hi! We  APOLOGIZE,\r\nfor any -- inconvenience 🙏",
     [("We  APOLOGIZE,\r\nfor any -- inconvenience", SORRY)]),
    ("We apologize for \u0430ny inconvenience",
     [("We apologize for \u0430ny inconvenience", SORRY)]),
    ("ＷＥ apologize for any inconvenience", [("ＷＥ apologize for any inconvenience", SORRY)]),
    ("We apolo\u200bgize for any inconvenience", [("We apolo\u200bgize for any inconvenience",
                                                   SORRY)]),
    ("Rest 🙂 assured, we're on it", [("Rest 🙂 assured", ())]),
    ("Rest\nassured", [("Rest\nassured", ())]),
    ("Total de\u0301ja\u0300 vu!", [("de\u0301ja\u0300 vu", ())]),
    ("Your call is important to us. Rest assured.",
     [("Your call is important to us", ()), ("Rest assured", ())]),
    ("Don't be an ass", [("ass", ())]),
], ids=["plain", "case-space-crlf-punct", "cyrillic-a", "full-width", "zero-width", "emoji-gap",
        "line-break", "combining-marks", "two-phrases", "single-word"])
def test_phrase_matches_words_with_exact_original_spans(
        text: str, expected: list[tuple[str, tuple[str, ...]]]) -> None:
    assert lint(text, context={"customer": "Dana"}) == expected


@pytest.mark.parametrize("text", [
    "The interest assured by the bond",
    "Rest assuredly",
    "An assessment of the class",
    "We apologize. For any inconvenience, call us",
    "We apologize for the inconvenience",
    "Your call is important to them",
    "Don't be a badass",
    "Let's kick ass today",
], ids=["inside-longer-word-left", "inside-longer-word-right", "scunthorpe", "sentence-break",
        "different-word", "different-last-word", "suffix", "exception"])
def test_phrase_does_not_match(text: str) -> None:
    assert lint(text) == []


def test_suggestion_placeholder_left_out_without_context() -> None:
    assert lint("We apologize for any inconvenience") == [
        ("We apologize for any inconvenience", ("Sorry about this.",))]


def test_message_names_the_canonical_phrase() -> None:
    report = Linter(load_policy_text(SCRIPTED.replace("INFLECT", "true"))).check(
        "We apologised for any inconveniences caused.")
    (v,) = report.violations
    assert (v.rule, v.message, v.start, v.end, v.line, v.column, v.end_column) == (
        "scripted-phrasing",
        "'We apologised for any inconveniences' reads like a script "
        "(we apologize for any inconvenience).",
        0, 36, 1, 1, 37)


@pytest.mark.parametrize("text, inflected, plain", [
    ("We apologise for any inconvenience caused.", ["We apologise for any inconvenience"], []),
    ("we're apologizing for any inconveniences", [], []),
    ("We apologized for any inconveniences", ["We apologized for any inconveniences"], []),
    ("apologised for the inconvenience", [], []),
    ("Your calls were important to us", ["Your calls were important to us"], []),
    ("Rest assured", ["Rest assured"], ["Rest assured"]),
], ids=["british", "contraction-is-not-we", "past-plural", "different-phrase", "irregular",
        "base-form"])
def test_inflect_matches_inflections_and_spellings(text: str, inflected: list[str],
                                                   plain: list[str]) -> None:
    assert [m for m, _ in lint(text, inflect=True)] == inflected
    assert [m for m, _ in lint(text, inflect=False)] == plain


def test_exception_phrase_also_folds_with_inflect() -> None:
    policy = load_policy_text("""\
rules:
  - id: mild
    type: phrase
    inflect: true
    phrases: [hell]
    exceptions: ["hell's kitchen"]
""")
    text = "Hell's Kitchen was great, but what the hell happened"
    report = Linter(policy).check(text)
    assert [(text[v.start:v.end], v.start) for v in report.violations] == [("hell", 39)]


def test_longest_phrase_wins_and_overlaps_are_merged() -> None:
    policy = load_policy_text("""\
rules:
  - id: canned
    type: phrase
    phrases: ["your call", "your call is important to us", "important to us all"]
""")
    text = "Your call is important to us all."
    report = Linter(policy).check(text)
    assert [text[v.start:v.end] for v in report.violations] == ["Your call is important to us"]


def test_many_phrases_compile_into_one_trie() -> None:
    phrases = [f"stock phrase number {i}" for i in range(5000)] + ["happy to help"]
    yaml_list = "\n".join(f"      - {p!r}" for p in phrases)
    policy = load_policy_text(
        f"rules:\n  - id: canned\n    type: phrase\n    phrases:\n{yaml_list}\n")
    text = "We're happy to help! Stock phrase number 4999. Stock phrase number 5000."
    report = Linter(policy).check(text)
    assert [text[v.start:v.end] for v in report.violations] == [
        "happy to help", "Stock phrase number 4999"]


@pytest.mark.parametrize("options, message", [
    ('phrases: ["ok", "!!!"]', "<string>:5:21: rules[0].phrases[1]: phrase '!!!' has no words"),
    ("phrases: []", "<string>:5:14: rules[0].phrases: must not be empty"),
    ('phrases: {"hi there": "Hello {"}',
     "<string>:5:27: rules[0].phrases.hi there: malformed suggestion"),
    ('phrases: [hi]\n    inflect: maybe',
     "<string>:6:14: rules[0].inflect: expected true/false, found 'maybe'"),
    ('phrases: [hi]\n    exceptions: ["-"]',
     "<string>:6:18: rules[0].exceptions[0]: exception '-' has no words"),
    ("phrase: [hi]", "rules[0].phrase: unknown option 'phrase'"),
], ids=["no-words", "empty", "bad-suggestion", "bad-bool", "bad-exception", "unknown-option"])
def test_option_errors_point_at_the_yaml(options: str, message: str) -> None:
    with pytest.raises(PolicyError) as info:
        load_policy_text(f"rules:\n  - id: canned\n    type: phrase\n    severity: warning\n"
                         f"    {options}\n")
    assert message in str(info.value)


# --------------------------------------------------------------------------- inflection folding

@pytest.mark.parametrize("forms", [
    "apologize apologise apologizes apologises apologized apologised apologizing apologising",
    "inconvenience inconveniences",
    "cancel cancels cancelled canceled cancelling canceling",
    "cancellation cancelation",
    "colour color colours colored coloured",
    "favourite favorite favourites",
    "centre center centres centred centered",
    "theatre theater",
    "fibre fiber",
    "analyse analyze analysed analyzing",
    "organisation organization organisations",
    "catalogue catalog catalogued cataloged",
    "traveller traveler travellers",
    "fulfilment fulfillment",
    "reply replies replied replying",
    "use used uses using",
    "hope hoped hopes hoping",
    "stop stopped stopping stops",
    "tie ties tied tying",
    "be am is are was were been being",
    "have has had having",
    "do does did done doing",
    "go goes went gone going",
    "make made making makes",
    "child children",
    "grey gray greys",
    "licence license licences",
    "programme program programmes programmed",
    "customer customers customer's",
    "agree agreed agrees",
])
def test_fold_merges_the_forms_of_one_word(forms: str) -> None:
    keys = {w: fold(w) for w in forms.split()}
    assert len(set(keys.values())) == 1, keys


@pytest.mark.parametrize("a, b", [
    ("we're", "we"), ("it's", "it"), ("us", "use"), ("hop", "hope"), ("not", "note"),
    ("evening", "even"), ("hour", "hor"), ("your", "yor"), ("flour", "flor"),
    ("apology", "apologize"), ("saw", "see"), ("left", "leave"), ("news", "new"),
])
def test_fold_keeps_different_words_apart(a: str, b: str) -> None:
    assert fold(a) != fold(b)


@pytest.mark.parametrize("word", ["é", "café", "2fa", "ok", "x"])
def test_fold_leaves_short_and_non_ascii_words_alone(word: str) -> None:
    assert fold(word) == word


def test_words_keep_internal_apostrophes_only() -> None:
    assert words("we're 'sorry' can't-stop __cust__ l33t ça") == [
        "we're", "sorry", "can't", "stop", "cust", "l33t", "ça"]


def test_ascii_words_fast_path_agrees_with_the_word_regex() -> None:
    """`words` splits ASCII text with `bytes.translate`; the regex is the definition."""
    rng = random.Random(5)
    alphabet = "ab1'' .-_\n\t?"
    texts = ["'", "''", "a''b", "'a'", "a'''b' c", "rock 'n' roll", "x' 'y", "it's  ok'"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
              for _ in range(20000)]
    for text in texts:
        assert words(text) == regex.findall(r"[A-Za-z0-9]+(?:'[A-Za-z0-9]+)*", text), text


def test_fold_all_is_fold_of_each_word() -> None:
    batch = ["apologised", "apologizing", "replies", "we're", "apologised", "café"]
    assert fold_all(batch) == [fold(w) for w in batch]
    assert fold_all(batch) == [fold(w) for w in batch]  # the second time from its cache
