"""The command's exit codes: what a CI job or a pre-send script branches on."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """0 clean, 1 violations at or above the failing level, 2 usage/policy/input/internal error."""

    OK = 0
    VIOLATIONS = 1
    ERROR = 2
