"""Policy loading: format, extends/overrides, and errors that point at file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from replylint import Linter, PolicyError, load_policy
from replylint.policy import load_policy_text


def errors_of(text: str, path: str = "pol.yaml") -> list[str]:
    with pytest.raises(PolicyError) as info:
        load_policy_text(text, path)
    return [str(i) for i in info.value.issues]


def test_a_minimal_policy_compiles_and_checks() -> None:
    policy = load_policy_text(
        "policy: {name: acme}\n"
        "rules:\n"
        "  - id: no-refund-talk\n"
        "    type: pattern\n"
        "    severity: warning\n"
        '    message: "don\'t say {match}"\n'
        "    patterns: ['refund(?:ed)?']\n"
    )
    assert policy.name == "acme"
    report = Linter(policy).check("We refunded it.")
    assert [(v.rule, v.severity.value, v.message, v.start, v.end) for v in report.violations] == [
        ("no-refund-talk", "warning", "don't say refunded", 3, 11)
    ]
    assert report.decision.value == "warn"


def test_all_errors_of_a_policy_are_reported_at_once_with_positions() -> None:
    text = (
        "policy: {name: t, colour: red}\n"  # 1
        "rules:\n"  # 2
        "  - id: Bad_Id\n"  # 3
        "    type: pattern\n"  # 4
        "  - id: typo\n"  # 5
        "    type: patern\n"  # 6
        "  - id: bad-regex\n"  # 7
        "    type: pattern\n"  # 8
        "    patterns: ['(unclosed', 3]\n"  # 9
        "    colour: red\n"  # 10
        "    severity: fatal\n"  # 11
        "  - id: bad-regex\n"  # 12
        "    type: pattern\n"  # 13
        "    patterns: [a]\n"  # 14
        "  - id: no-type\n"  # 15
    )
    # Sorted by position; a wrong-typed item does not hide a bad regex beside it.
    assert errors_of(text) == [
        "pol.yaml:1:19: policy.colour: unknown key 'colour' (allowed: name, extends, language, "
        "description)",
        "pol.yaml:3:9: rules[0].id: rule id must be kebab-case (sub-ids after a dot), found "
        "'Bad_Id' (e.g. trading-advice or trading-advice.price-target)",
        "pol.yaml:6:11: rules[1].type: unknown rule type 'patern' (allowed: phrase, pattern, "
        "tokens, require, profanity, personal-data, length)",
        "pol.yaml:9:16: rules[2].patterns[0]: invalid regular expression: missing ) at "
        "position 9 (see the `regex` module syntax)",
        "pol.yaml:9:29: rules[2].patterns[1]: expected text, found 3",
        "pol.yaml:10:5: rules[2].colour: unknown option 'colour' (allowed: id, type, severity, "
        "message, why, suggestions, suppressible, channels, examples, patterns, ignore_case, "
        "normalize, exceptions, redact)",
        "pol.yaml:11:15: rules[2].severity: expected one of error, warning, info, off, found "
        "'fatal'",
        "pol.yaml:12:9: rules[3].id: duplicate rule id 'bad-regex' (each rule id may appear once "
        "per file; override it in a file that extends this one)",
        "pol.yaml:15:5: rules[4].type: rule 'no-type' has no `type` and overrides no earlier rule "
        "(allowed types: phrase, pattern, tokens, require, profanity, personal-data, length)",
    ]


def test_a_duplicate_id_does_not_hide_the_rules_other_problems() -> None:
    """Regression: only the duplicate id was reported, not the bad regex or unknown key."""
    text = (
        "rules:\n"
        "  - {id: a, type: pattern, patterns: [x]}\n"
        "  - id: a\n"
        "    patterns: ['(unclosed']\n"
        "    bogus: 1\n"
    )
    assert errors_of(text) == [
        "pol.yaml:3:9: rules[1].id: duplicate rule id 'a' (each rule id may appear once per "
        "file; override it in a file that extends this one)",
        "pol.yaml:4:16: rules[1].patterns[0]: invalid regular expression: missing ) at position "
        "9 (see the `regex` module syntax)",
        "pol.yaml:5:5: rules[1].bogus: unknown option 'bogus' (allowed: id, type, severity, "
        "message, why, suggestions, suppressible, channels, examples, patterns, ignore_case, "
        "normalize, exceptions, redact)",
    ]


def test_a_bad_common_key_does_not_hide_a_bad_regex() -> None:
    assert errors_of(
        "rules:\n  - id: x\n    type: pattern\n    severity: loud\n    patterns: ['(a']\n"
    ) == [
        "pol.yaml:4:15: rules[0].severity: expected one of error, warning, info, off, found "
        "'loud'",
        "pol.yaml:5:16: rules[0].patterns[0]: invalid regular expression: missing ) at position "
        "2 (see the `regex` module syntax)",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: ['(a']\n",
            "pol.yaml:4:16: rules[0].patterns[0]: invalid regular expression: missing ) at "
            "position 2 (see the `regex` module syntax)",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: []\n",
            "pol.yaml:4:15: rules[0].patterns: must not be empty",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n",
            "pol.yaml:2:5: rules[0]: missing required option 'patterns' (patterns: Regular "
            "expressions; a match anywhere is a violation.)",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: a\n",
            "pol.yaml:4:15: rules[0].patterns: expected a list of text, found 'a'",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: [a]\n    ignore_case: maybe\n",
            "pol.yaml:5:18: rules[0].ignore_case: expected true/false, found 'maybe'",
        ),
        (  # regression: the loader read "yes" as true while the JSON Schema rejected it
            "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    inflect: 'yes'\n",
            "pol.yaml:5:14: rules[0].inflect: expected true/false, found 'yes' (use true or false)",
        ),
        (
            "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    suppressible: on\n",
            "pol.yaml:5:19: rules[0].suppressible: expected true/false, found 'on' (use true or "
            "false)",
        ),
        (
            "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    severity: false\n",
            "pol.yaml:5:15: rules[0].severity: expected one of error, warning, info, off, found "
            "false (use off to turn a rule off)",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: [a]\n    message: 'bad {0}'\n",
            "pol.yaml:5:14: rules[0].message: placeholder {0} is not a name (use {match}, {rule}, "
            "a context field or a named group; write {{ and }} for literal braces)",
        ),
        ("rules: {id: x}\n", "pol.yaml:1:8: rules: expected a list of rules, found a mapping"),
        (
            "- just\n- a list\n",
            "pol.yaml:1:1: a policy is a mapping with keys policy, settings, rules; found a list",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: [a]\n    patterns: [b]\n",
            "pol.yaml:5:5: rules[0].patterns: duplicate key (each key may appear once per mapping)",
        ),
        (
            "policy:\n  language: fr\n",
            "pol.yaml:2:13: policy.language: unsupported language 'fr' (supported: en)",
        ),
        (
            "rules:\n  - id: x\n    type: pattern\n    patterns: [a]\n    examples: {fail: [1]}\n",
            "pol.yaml:5:23: rules[0].examples.fail[0]: an example is text or a mapping with `text` "
            "and `context`, found 1",
        ),
    ],
)
def test_each_error_names_file_line_column_field_and_what_is_allowed(
    text: str, expected: str
) -> None:
    assert errors_of(text) == [expected]


def test_settings_values_are_text_numbers_or_booleans() -> None:
    text = (
        "settings:\n"
        "  signature: '^MS'\n"
        "  limit: 280\n"
        "  ratio: 0.5\n"
        "  formal: true\n"
        "  brands: [acme, acme-uk]\n"
        "  team: {lead: MS}\n"
        "  nothing:\n"
    )
    assert errors_of(text) == [
        "pol.yaml:6:11: settings.brands: expected text, a number or true/false, found a list",
        "pol.yaml:7:9: settings.team: expected text, a number or true/false, found a mapping",
        "pol.yaml:8:11: settings.nothing: expected text, a number or true/false, found null",
    ]
    fine = load_policy_text("settings: {signature: '^MS', limit: 280, ratio: 0.5, formal: true}\n")
    assert dict(fine.settings) == {"signature": "^MS", "limit": 280, "ratio": 0.5, "formal": True}


def test_yaml_syntax_error_points_at_the_line() -> None:
    assert errors_of("rules:\n  - id: x\n    type: [pattern\n") == [
        "pol.yaml:4:1: YAML syntax error: expected ',' or ']', but got '<stream end>'"
    ]


def test_severity_off_written_bare_is_the_word_off_not_false(tmp_path: Path) -> None:
    base = tmp_path / "base.yaml"
    base.write_text("rules:\n  - id: x\n    type: pattern\n    patterns: [a]\n")
    child = tmp_path / "child.yaml"
    child.write_text("policy: {extends: base.yaml}\nrules:\n  - id: x\n    severity: off\n")
    policy = load_policy(child)
    assert policy.rules == ()
    assert policy.disabled == ("x",)


def test_extends_overrides_by_rule_id_and_keeps_order(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "policy: {name: base}\n"
        "settings: {tone: warm}\n"
        "rules:\n"
        "  - {id: one, type: pattern, patterns: [one], severity: error}\n"
        "  - {id: two, type: pattern, patterns: [two]}\n"
    )
    (tmp_path / "team.yaml").write_text(
        "policy: {name: team, extends: [base.yaml]}\n"
        "settings: {signature: '^XX'}\n"
        "rules:\n"
        "  - {id: one, severity: warning, message: 'softer {match}'}\n"
        "  - {id: three, type: pattern, patterns: [three]}\n"
    )
    policy = load_policy(tmp_path / "team.yaml")
    assert policy.name == "team"
    assert [(r.id, r.severity.value, r.message) for r in policy.rules] == [
        ("one", "warning", "softer {match}"),
        ("two", "error", "two: '{match}'"),
        ("three", "error", "three: '{match}'"),
    ]
    assert dict(policy.settings) == {"tone": "warm", "signature": "^XX"}


def test_changing_a_rules_type_replaces_it_instead_of_merging_options(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(
        "rules:\n  - {id: x, type: pattern, patterns: [a], exceptions: [b]}\n"
    )
    (tmp_path / "p.yaml").write_text(
        "policy: {extends: base.yaml}\nrules:\n  - {id: x, type: pattern, patterns: [c]}\n"
    )
    rule = load_policy(tmp_path / "p.yaml").rule("x")
    assert rule.type == "pattern"


def test_extends_errors_missing_file_unknown_pack_and_cycle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("a.yaml").write_text("policy: {extends: [b.yaml]}\n")
    Path("b.yaml").write_text("policy: {extends: [a.yaml, nope.yaml, 'pack:nope']}\n")
    with pytest.raises(PolicyError) as info:
        load_policy("a.yaml")
    messages = [str(i) for i in info.value.issues]
    assert (
        messages[0] == "b.yaml:1:20: policy.extends[0]: extends cycle: a.yaml -> b.yaml -> "
        "a.yaml (remove one of the extends)"
    )
    assert messages[1].startswith("b.yaml:1:28: policy.extends[1]: file not found: nope.yaml")
    assert messages[2].startswith(
        "b.yaml:1:39: policy.extends[2]: unknown pack 'pack:nope' (available: pack:default"
    )


def test_policy_from_a_mapping_and_the_hash_changes_with_content() -> None:
    a = load_policy({"rules": [{"id": "x", "type": "pattern", "patterns": ["a"]}]})
    b = load_policy({"rules": [{"id": "x", "type": "pattern", "patterns": ["b"]}]})
    again = load_policy({"rules": [{"id": "x", "type": "pattern", "patterns": ["a"]}]})
    assert a.hash == again.hash != b.hash
    assert len(a.hash) == 16


def test_missing_policy_file_is_a_policy_error() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("does/not/exist.yaml")
    assert str(info.value).startswith("does/not/exist.yaml: file not found: does/not/exist.yaml")


def test_non_utf8_and_binary_policy_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"rules:\n  - id: caf\xe9\n")
    with pytest.raises(PolicyError) as info:
        load_policy(bad)
    assert str(info.value).endswith(":2: not UTF-8 (byte 0xe9 at offset 18)")
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    with pytest.raises(PolicyError) as info:
        load_policy(binary)
    assert str(info.value).endswith("bin.yaml: binary file, not a YAML policy")


ALL_PHRASE_KEYS = ("id, type, severity, message, why, suggestions, suppressible, channels, "
                   "examples, phrases, inflect, exceptions")


@pytest.mark.parametrize(("text", "expected"), [
    (  # regression: the allowed list named only the type's options, not the common keys
        "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    severty: warning\n",
        "pol.yaml:5:5: rules[0].severty: unknown option 'severty' (did you mean 'severity'? "
        f"allowed: {ALL_PHRASE_KEYS})",
    ),
    (
        "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    exception: [b]\n",
        "pol.yaml:5:5: rules[0].exception: unknown option 'exception' (did you mean "
        f"'exceptions'? allowed: {ALL_PHRASE_KEYS})",
    ),
    (
        "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    colour: red\n",
        f"pol.yaml:5:5: rules[0].colour: unknown option 'colour' (allowed: {ALL_PHRASE_KEYS})",
    ),
    (
        "rule:\n  - id: x\n",
        "pol.yaml:1:1: rule: unknown top-level key 'rule' (did you mean 'rules'? allowed: "
        "policy, settings, rules)",
    ),
    (
        "policy:\n  Extend: [pack:default]\n",
        "pol.yaml:2:3: policy.Extend: unknown key 'Extend' (did you mean 'extends'? allowed: "
        "name, extends, language, description)",
    ),
    (
        "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n    examples: {fails: [a]}\n",
        "pol.yaml:5:16: rules[0].examples.fails: unknown key 'fails' (did you mean 'fail'? "
        "allowed: fail, pass)",
    ),
    (
        "rules:\n  - id: x\n    type: phrase\n    phrases: [a]\n"
        "    examples: {fail: [{txt: a}]}\n",
        "pol.yaml:5:24: rules[0].examples.fail[0].txt: unknown key 'txt' (did you mean 'text'? "
        "allowed: text, context)",
    ),
])
def test_unknown_keys_list_every_allowed_key_and_suggest_the_near_miss(
    text: str, expected: str
) -> None:
    assert errors_of(text) == [expected]


SUB_IDS_BASE = (
    "rules:\n"
    "  - {id: trading-advice, type: pattern, patterns: [buy]}\n"
    "  - {id: trading-advice.price-target, type: pattern, severity: error, patterns: [target]}\n"
    "  - {id: trading-advice.price-target.crypto, type: pattern, patterns: [moon]}\n"
    "  - {id: trading-advice-extra, type: pattern, patterns: [sell]}\n"
)


@pytest.mark.parametrize(("layers", "on", "off"), [
    (  # regression: the sub-ids kept running after their parent id was turned off
        ["rules: [{id: trading-advice, severity: 'off'}]"],
        [("trading-advice-extra", "error")],
        ("trading-advice", "trading-advice.price-target", "trading-advice.price-target.crypto"),
    ),
    (  # a later file turns one sub-id back on: it and its own sub-ids run again
        ["rules: [{id: trading-advice, severity: 'off'}]",
         "rules: [{id: trading-advice.price-target, severity: warning}]"],
        [("trading-advice.price-target", "warning"),
         ("trading-advice.price-target.crypto", "error"), ("trading-advice-extra", "error")],
        ("trading-advice",),
    ),
    (  # in one file, the more specific id decides
        ["rules: [{id: trading-advice.price-target, severity: warning},\n"
         "        {id: trading-advice, severity: 'off'}]"],
        [("trading-advice.price-target", "warning"),
         ("trading-advice.price-target.crypto", "error"), ("trading-advice-extra", "error")],
        ("trading-advice",),
    ),
    (  # ...and an off sub-id stays off under a parent turned on in the same file
        ["rules: [{id: trading-advice.price-target, severity: 'off'},\n"
         "        {id: trading-advice, severity: warning}]"],
        [("trading-advice", "warning"), ("trading-advice-extra", "error")],
        ("trading-advice.price-target", "trading-advice.price-target.crypto"),
    ),
    (  # a later file turns the parent back on: the sub-ids follow it
        ["rules: [{id: trading-advice, severity: 'off'}]",
         "rules: [{id: trading-advice, severity: warning}]"],
        [("trading-advice", "warning"), ("trading-advice.price-target", "error"),
         ("trading-advice.price-target.crypto", "error"), ("trading-advice-extra", "error")],
        (),
    ),
    (  # the sub-id was set before the parent was turned off: off wins
        ["rules: [{id: trading-advice.price-target, severity: warning}]",
         "rules: [{id: trading-advice, severity: 'off'}]"],
        [("trading-advice-extra", "error")],
        ("trading-advice", "trading-advice.price-target", "trading-advice.price-target.crypto"),
    ),
])
def test_severity_off_on_an_id_turns_off_its_sub_ids_unless_set_again_later(
    tmp_path: Path, layers: list[str], on: list[tuple[str, str]], off: tuple[str, ...]
) -> None:
    (tmp_path / "p0.yaml").write_text(SUB_IDS_BASE)
    for i, text in enumerate(layers, 1):
        (tmp_path / f"p{i}.yaml").write_text(f"policy: {{extends: p{i - 1}.yaml}}\n{text}\n")
    policy = load_policy(tmp_path / f"p{len(layers)}.yaml")
    assert [(r.id, r.severity.value) for r in policy.rules] == on
    assert policy.disabled == off


def test_turning_off_a_pack_rule_turns_off_its_sub_ids(tmp_path: Path) -> None:
    (tmp_path / "child.yaml").write_text(
        "policy: {extends: pack:default}\nrules:\n  - {id: trading-advice, severity: 'off'}\n"
    )
    policy = load_policy(tmp_path / "child.yaml")
    assert [d for d in policy.disabled if d.startswith("trading-advice")] == [
        "trading-advice", "trading-advice.ticker", "trading-advice.price-target",
        "trading-advice.guarantee"]
    text = "Honestly you should buy more $TSLA, my price target is $400 by June."
    assert [v.rule for v in Linter(policy).check(text).violations
            if v.rule.startswith("trading-advice")] == []
