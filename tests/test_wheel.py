"""A NON-editable install works from any directory: the packs ship inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("replylint-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "replylint/rules/default.yaml" in names
    assert "replylint/policy.schema.json" in names
    subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
    )
    return target


def _run(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_installed_wheel_checks_a_draft_from_an_unrelated_directory(
    installed: Path, tmp_path: Path
) -> None:
    where = _run(
        installed,
        tmp_path,
        "-c",
        "import replylint, replylint.policy as p; print(replylint.__file__); print(p.packs_dir())",
    )
    module_file, packs = where.stdout.split()
    assert module_file.startswith(str(installed))
    assert packs.startswith(str(installed))
    (tmp_path / "draft.txt").write_text("Honestly you should buy more $TSLA now. ^MS\n")
    result = _run(installed, tmp_path, "-m", "replylint", "check", "draft.txt")
    assert result.returncode == 1, result.stderr
    assert "trading-advice" in result.stdout
    assert "Traceback" not in result.stderr
