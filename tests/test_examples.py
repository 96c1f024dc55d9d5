"""The examples a reader might copy run here, with their expected output checked in."""

from __future__ import annotations

from pathlib import Path

import pytest

from replylint.cli import main
from replylint.examples import run_examples
from replylint.policy import load_policy

REPO = Path(__file__).resolve().parents[1]
EXPECTED = REPO / "examples" / "expected"


@pytest.mark.parametrize(
    ("args", "expected", "code"),
    [
        (
            ["check", "examples/drafts/", "examples/archives/", "--color", "never"],
            "check-default.txt",
            1,
        ),
        (["check", "examples/archives/replies.jsonl", "--format", "jsonl"], "archive.jsonl", 1),
    ],
)
def test_example_output_matches_the_checked_in_file(
    args: list[str],
    expected: str,
    code: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    assert main(args) == code
    out = capsys.readouterr().out
    assert out == (EXPECTED / expected).read_text(), (
        f"regenerate with: replylint {' '.join(args)} > examples/expected/{expected}"
    )


@pytest.mark.parametrize(
    "policy", sorted((REPO / "examples" / "policies").glob("*.yaml")), ids=lambda p: p.name
)
def test_example_policies_pass_their_own_examples(policy: Path) -> None:
    failures = [r.describe() for r in run_examples(load_policy(policy)) if not r.passed]
    assert failures == []
