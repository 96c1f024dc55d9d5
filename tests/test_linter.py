"""The linter: verdicts, spans, placeholders, suppression, selection and thread safety."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import pytest

from replylint import Context, Decision, Linter, Severity, Violation
from replylint.linter import redact, render
from replylint.policy import load_policy_text

POLICY = """
policy: {name: unit}
rules:
  - id: shout
    type: pattern
    severity: error
    message: "'{match}' is shouting"
    patterns: ['\\bURGENT\\b']
    ignore_case: false
  - id: refund
    type: pattern
    severity: warning
    message: "{customer} asked about '{match}' on {channel}"
    patterns: ['refund(?:ed|s)?']
    suggestions: ["Say 'money back', {customer}."]
  - id: note
    type: pattern
    severity: info
    patterns: ['\\bfyi\\b']
  - id: locked
    type: pattern
    severity: error
    suppressible: false
    patterns: ['\\bpassword\\b']
  - id: sms-only
    type: pattern
    severity: error
    channels: [sms]
    patterns: ['\\blol\\b']
"""


@pytest.fixture(scope="module")
def linter() -> Linter:
    return Linter(load_policy_text(POLICY, "unit.yaml"))


def test_violation_is_complete_and_points_at_the_original_text(linter: Linter) -> None:
    text = "Hi!\r\nYour refund 🎉 is URGENT"
    report = linter.check(text, {"customer": "Dana", "channel": "twitter"})
    assert report.violations == (
        Violation(
            rule="refund",
            severity=Severity.WARNING,
            message="Dana asked about 'refund' on twitter",
            start=10,
            end=16,
            line=2,
            column=6,
            end_line=2,
            end_column=12,
            matched="refund",
            suggestions=("Say 'money back', Dana.",),
            fix=None,
            why=None,
        ),
        Violation(
            rule="shout",
            severity=Severity.ERROR,
            message="'URGENT' is shouting",
            start=22,
            end=28,
            line=2,
            column=18,
            end_line=2,
            end_column=24,
            matched="URGENT",
            suggestions=(),
            fix=None,
            why=None,
        ),
    )
    assert [text[v.start : v.end] for v in report.violations] == ["refund", "URGENT"]
    assert report.decision is Decision.BLOCK
    assert not report.ok
    assert report.policy == "unit"


def test_missing_placeholders_render_as_nothing_without_stray_punctuation() -> None:
    assert render("Sorry about the trouble, {customer}.", {}) == "Sorry about the trouble."
    assert render("Sorry, {customer}!", {"customer": "Dana"}) == "Sorry, Dana!"
    assert render("{match} {unknown}", {"match": "x"}) == "x"


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("all good", Decision.ALLOW),
        ("fyi only", Decision.ALLOW),
        ("a refund", Decision.WARN),
        ("URGENT", Decision.BLOCK),
    ],
)
def test_decision_follows_the_worst_severity(linter: Linter, text: str, decision: Decision) -> None:
    report = linter.check(text)
    assert report.decision is decision
    assert report.ok is (decision is not Decision.BLOCK)


def test_front_matter_style_suppression_respects_suppressible(linter: Linter) -> None:
    ctx = Context.from_mapping({"replylint": {"disable": ["refund", "locked"], "reason": "T-12"}})
    report = linter.check("refund your password", ctx)
    assert [v.rule for v in report.violations] == ["locked"]
    assert report.suppressed == ("refund",)


def test_channels_limit_where_a_rule_applies(linter: Linter) -> None:
    assert [v.rule for v in linter.check("lol", {"channel": "sms"}).violations] == ["sms-only"]
    assert linter.check("lol", {"channel": "twitter"}).violations == ()
    assert linter.check("lol").violations == ()


def test_select_and_ignore_take_ids_and_prefixes() -> None:
    policy = load_policy_text(
        "rules:\n"
        "  - {id: trading-advice, type: pattern, patterns: [buy]}\n"
        "  - {id: trading-advice.price-target, type: pattern, patterns: [target]}\n"
        "  - {id: trading-advices, type: pattern, patterns: [x]}\n"
    )
    assert [r.id for r in policy.select(["trading-advice"]).rules] == [
        "trading-advice",
        "trading-advice.price-target",
    ]
    assert [r.id for r in policy.select(ignore=["trading-advice"]).rules] == ["trading-advices"]
    assert [
        r.id for r in policy.select(["trading-advice"], ["trading-advice.price-target"]).rules
    ] == ["trading-advice"]


def test_overlapping_hits_of_one_rule_are_reported_once() -> None:
    policy = load_policy_text(
        "rules:\n  - {id: x, type: pattern, patterns: ['refund', 'full refund', 'refund now']}\n"
    )
    report = Linter(policy).check("a full refund now")
    assert [(v.start, v.end) for v in report.violations] == [(2, 13)]


def test_normalized_pattern_spans_land_on_the_original_characters() -> None:
    policy = load_policy_text(
        "rules:\n  - {id: x, type: pattern, normalize: true, patterns: ['free money']}\n"
    )
    text = "Ｆｒｅｅ\u200b mоney!"  # full-width letters, zero-width space, Cyrillic о
    (v,) = Linter(policy).check(text).violations
    assert text[v.start : v.end] == "Ｆｒｅｅ\u200b mоney"


def test_redaction_keeps_only_the_last_four_characters() -> None:
    assert redact("4111 1111 1111 1234") == "**** **** **** 1234"
    assert redact("dana@x.io") == "****@*.**"
    assert redact("12345") == "*****"


def test_results_are_frozen(linter: Linter) -> None:
    report = linter.check("URGENT")
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.violations[0].start = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        linter.policy = None  # type: ignore[misc]


def test_to_dict_has_exactly_the_documented_fields(linter: Linter) -> None:
    report = linter.check("URGENT refund")
    data = report.to_dict()
    assert list(data) == [
        "decision",
        "ok",
        "policy",
        "policy_hash",
        "violations",
        "suppressed",
        "incomplete",
    ]
    assert list(data["violations"][0]) == [f.name for f in dataclasses.fields(Violation)]
    assert data["violations"][0]["severity"] == "error"


def test_check_many_keeps_input_order(linter: Linter) -> None:
    reports = list(linter.check_many(["URGENT", ("refund", {"customer": "Al"}), "fine"]))
    assert [r.decision.value for r in reports] == ["block", "warn", "allow"]
    assert reports[1].violations[0].message == "Al asked about 'refund' on"


def test_one_linter_shared_by_threads_gives_the_sequential_results(linter: Linter) -> None:
    texts = [f"reply {i}: {'URGENT ' * (i % 3)}refund{'s' * (i % 2)} fyi 🎉" for i in range(400)]
    sequential = [linter.check(t) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        threaded = list(pool.map(linter.check, texts))
    assert threaded == sequential


def test_a_passed_deadline_skips_rules_and_marks_the_report_incomplete(linter: Linter) -> None:
    report = linter.check("URGENT", deadline=0.0)
    assert report.incomplete
    assert report.violations == ()
    assert not linter.check("URGENT").incomplete


def test_personal_data_is_masked_wherever_any_rule_quotes_it() -> None:
    """Regression: the signature rule quoted an e-mail (the last word) in clear text."""
    report = Linter(None).check("We have updated it to dana.smith@gmail.com")
    assert [(v.rule, v.matched) for v in report.violations] == [
        ("personal-data.email", "****.*****@****l.com"),
        ("signature", "****.*****@****l.com"),
    ]
    assert all("dana" not in v.message for v in report.violations)
    clear = Linter(None, redact=False).check("We have updated it to dana.smith@gmail.com")
    assert {v.matched for v in clear.violations} == {"dana.smith@gmail.com"}


def test_pattern_rules_marked_redact_mask_their_match() -> None:
    policy = load_policy_text("""
rules:
  - {id: account, type: pattern, redact: true, message: "account '{match}'",
     patterns: ['account number \\d{6,}']}
""")
    (v,) = Linter(policy).check("Your account number 12345678 is set").violations
    assert (v.matched, v.message) == ("******* ****** ****5678",
                                      "account '******* ****** ****5678'")
    assert (v.start, v.end) == (5, 28)


def test_settings_are_placeholders_that_the_context_overrides() -> None:
    policy = load_policy_text("""
settings: {brand: Acme, dm: "https://acme.example/dm", agent: XX}
rules:
  - {id: refund, type: pattern, patterns: [refund], message: "{brand}: DM us ({dm}), {agent}"}
""")
    linter = Linter(policy)
    assert linter.check("refund").violations[0].message == (
        "Acme: DM us (https://acme.example/dm), XX")
    assert linter.check("refund", {"agent": "MS"}).violations[0].message == (
        "Acme: DM us (https://acme.example/dm), MS")


def test_linter_takes_a_policy_spec_and_rejects_wrong_argument_types() -> None:
    assert Linter("pack:default").policy.name == Linter(None).policy.name == "default"
    with pytest.raises(TypeError, match="text must be a str, not bytes"):
        Linter(None).check(b"hi")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="text must be a str, not NoneType"):
        Linter(None).check(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="context must be a replylint.Context or a mapping"):
        Linter(None).check("hi", "MS")  # type: ignore[arg-type]


def test_a_deadline_stops_a_slow_regex_mid_rule() -> None:
    """Regression: a started rule ran to its end (seconds of backtracking) past the deadline."""
    import time

    policy = load_policy_text(r"""
rules:
  - {id: slow, type: pattern, patterns: ['(x|xx)+(?:y|\d|\p{Sc})']}
  - {id: zebra, type: pattern, patterns: ['zebra']}
""")
    # Without a timeout the first regex backtracks for minutes (`\p{Sc}` keeps the literal
    # prefilter from ruling it out: "x" is all it knows the regex needs).
    text = "x" * 36 + "! zebra"
    report = Linter(policy).check(text, deadline=time.monotonic() + 0.05)
    assert (report.incomplete, report.violations) == (True, ())
    assert [v.rule for v in Linter(policy).check("zebra").violations] == ["zebra"]
