"""Runs the `examples` a policy's rules carry: the policy's own tests (`replylint test-policy`)."""

from __future__ import annotations

from dataclasses import dataclass

from .linter import Linter
from .policy import Example, Policy, Rule, id_matches


@dataclass(frozen=True, slots=True)
class ExampleResult:
    """The outcome of one example: did the rule flag it exactly when it should?"""

    rule: str
    example: Example
    passed: bool
    found: tuple[str, ...]

    def describe(self) -> str:
        where = (
            f"{self.example.path}:{self.example.line}" if self.example.line else self.example.path
        )
        verdict = "ok" if self.passed else "FAILED"
        expect = "must be flagged" if self.example.expect == "fail" else "must pass"
        detail = (
            ""
            if self.passed
            else (f"; flagged: {', '.join(self.found)}" if self.found else "; nothing flagged")
        )
        return f"{where}: {self.rule}: {verdict}: {expect}: {self.example.text!r}{detail}"


def run_rule_examples(rule: Rule, policy: Policy) -> list[ExampleResult]:
    """Check each example with this rule alone, as it stands in the policy (settings included)."""
    linter = Linter(policy.select([rule.id]), redact=False)
    results = []
    for example in rule.examples:
        report = linter.check(example.text, example.context)
        hits = tuple(
            f"{v.rule} {v.matched!r}" for v in report.violations if id_matches(v.rule, rule.id)
        )
        flagged = bool(hits)
        results.append(ExampleResult(rule.id, example, flagged == (example.expect == "fail"), hits))
    return results


def run_examples(policy: Policy) -> list[ExampleResult]:
    """Every example of every rule of the policy, in policy order."""
    results: list[ExampleResult] = []
    for rule in policy.rules:
        results.extend(run_rule_examples(rule, policy))
    return results
