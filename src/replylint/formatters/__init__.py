"""Output formats: the ONE table of format names. A new format is one module and one row."""

from __future__ import annotations

from .base import FormatOptions, Formatter, Result, Statistics, Summary
from .github import GithubFormatter
from .json import JsonFormatter
from .jsonl import JsonlFormatter
from .sarif import SarifFormatter
from .text import TextFormatter

FORMATTERS: dict[str, type[Formatter]] = {
    "text": TextFormatter,
    "json": JsonFormatter,
    "jsonl": JsonlFormatter,
    "sarif": SarifFormatter,
    "github": GithubFormatter,
}

__all__ = ["FORMATTERS", "FormatOptions", "Formatter", "Result", "Statistics", "Summary"]
