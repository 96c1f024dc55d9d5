"""Every example of every shipped pack runs here; a failure names the YAML file and line."""

from __future__ import annotations

import dataclasses

import pytest

from replylint.examples import run_rule_examples
from replylint.policy import Example, Policy, Rule, available_packs, load_policy

DEFAULT_IDS = {
    "profanity",
    "trading-advice",
    "signature",
    "scripted-phrasing",
    "personal-data",
    "promise",
}


def _cases() -> list[tuple[str, str, int]]:
    cases = []
    for pack in available_packs():
        policy = load_policy(f"pack:{pack}")
        for rule in policy.rules:
            for index, _ in enumerate(rule.examples):
                cases.append((pack, rule.id, index))
    return cases


def _id(case: tuple[str, str, int]) -> str:
    pack, rule_id, index = case
    example = _example(pack, rule_id, index)[1]
    return f"rules/{pack}.yaml:{example.line}:{rule_id}:{example.expect}"


_POLICIES: dict[str, Policy] = {}


def _example(pack: str, rule_id: str, index: int) -> tuple[Rule, Example, Policy]:
    policy = _POLICIES.get(pack) or _POLICIES.setdefault(pack, load_policy(f"pack:{pack}"))
    rule = policy.rule(rule_id)
    return rule, rule.examples[index], policy


CASES = _cases()


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_pack_example(case: tuple[str, str, int]) -> None:
    rule, example, policy = _example(*case)
    single = dataclasses.replace(rule, examples=(example,))
    (result,) = run_rule_examples(single, policy)
    assert result.passed, result.describe()


def test_default_pack_has_the_fixed_rule_ids() -> None:
    ids = {r.id.split(".")[0] for r in load_policy("pack:default").rules}
    assert ids == DEFAULT_IDS


@pytest.mark.parametrize("pack", available_packs())
def test_every_shipped_rule_has_why_and_both_kinds_of_example(pack: str) -> None:
    for rule in load_policy(f"pack:{pack}").rules:
        kinds = {e.expect for e in rule.examples}
        assert rule.why, f"{pack}: {rule.id} has no `why`"
        assert kinds == {"fail", "pass"}, f"{pack}: {rule.id} lacks fail or pass examples"
