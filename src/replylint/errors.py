"""Errors are data: they carry where the problem is, and are rendered at the edge (CLI, server)."""

from __future__ import annotations

from dataclasses import dataclass


class ReplylintError(Exception):
    """Base class of every error replylint raises on purpose."""


@dataclass(frozen=True, slots=True)
class PolicyIssue:
    """One problem in a policy file, pointing at the user's file, line and column."""

    path: str
    line: int | None
    column: int | None
    field: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )
        if self.hint:
            text += f" ({self.hint})"
        return text


class PolicyError(ReplylintError):
    """A policy could not be loaded; `issues` lists every problem found, not only the first."""

    def __init__(self, issues: list[PolicyIssue] | tuple[PolicyIssue, ...]) -> None:
        self.issues: tuple[PolicyIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


class InputError(ReplylintError):
    """A draft or record could not be read (binary, not UTF-8, empty, too large, bad JSON...)."""

    def __init__(
        self, source: str, message: str, *, record: str | None = None, line: int | None = None
    ) -> None:
        self.source = source
        self.record = record
        self.line = line
        self.reason = message
        where = source
        if line is not None:
            where += f":{line}"
        if record is not None:
            where += f" (record {record})"
        super().__init__(f"{where}: {message}")


class UsageError(ReplylintError):
    """The command line or API was called with arguments that do not fit."""
