"""README.md stays true: its set-up commands, CI's test command and its Python snippets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
INSTALL = "pip install . && replylint check examples/drafts/"
TEST = 'pip install -e ".[test]" && pytest'


def _blocks(lang: str) -> list[str]:
    blocks = re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)
    return [b for b in blocks if not b.startswith("# not run by the tests")]


def test_readme_gives_exactly_the_two_setup_commands() -> None:
    setup = [b.strip() for b in _blocks("bash")[:2]]
    assert setup == [INSTALL, TEST]


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == TEST


@pytest.mark.parametrize("index", range(len(_blocks("python"))))
def test_readme_python_snippets_run(index: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    exec(compile(_blocks("python")[index], f"README.md python block {index + 1}", "exec"), {})


@pytest.mark.parametrize(
    "block", [b for b in _blocks("text") if b.startswith("$ replylint ")], ids=lambda b: b[2:40])
def test_readme_shows_real_command_output(block: str, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from replylint.cli import main

    command, _, shown = block.partition("\n")
    monkeypatch.chdir(REPO)
    main([*command.split()[2:], "--color", "never"])
    assert capsys.readouterr().out == shown
