"""Layering the code promises: the library never imports the CLI or formatters, nor spaCy early."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "replylint"
LIBRARY = [
    p
    for p in SRC.rglob("*.py")
    if p.name not in ("cli.py", "__main__.py")
    and "formatters" not in p.parts
    and p.name != "server.py"
]


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(SRC)))
def test_library_modules_do_not_import_cli_or_formatters(path: Path) -> None:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [(node.module or "")] + [a.name for a in node.names]
        for name in names:
            assert "cli" not in name.split(".") and "formatters" not in name.split("."), (
                f"{path.name} imports {name}"
            )


def test_import_replylint_does_not_import_spacy() -> None:
    code = "import sys, replylint; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
