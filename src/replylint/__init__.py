"""replylint: lint customer-service replies before they go out."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .errors import InputError, PolicyError, PolicyIssue, ReplylintError, UsageError
    from .hook import ReplyBlocked, aguard, guard, pre_send
    from .linter import ContextLike, Linter, PolicySpec
    from .model import Context, Decision, Edit, Report, Severity, Violation
    from .policy import Policy, load_policy

__version__ = "0.1.0"

__all__ = [
    "check", "check_many", "load_policy", "Linter", "Policy", "Report", "Violation", "Context",
    "Decision", "Edit", "Severity", "ReplylintError", "PolicyError", "PolicyIssue", "InputError",
    "UsageError", "guard", "aguard", "pre_send", "ReplyBlocked", "__version__",
]

# Imported on first use (PEP 562), so `replylint --version` and `import replylint.errors` do
# not pay for the rule engine, phonenumbers and asyncio.
_LAZY = {
    "InputError": "errors", "PolicyError": "errors", "PolicyIssue": "errors",
    "ReplylintError": "errors", "UsageError": "errors",
    "ReplyBlocked": "hook", "aguard": "hook", "guard": "hook", "pre_send": "hook",
    "Linter": "linter", "Context": "model", "Decision": "model", "Edit": "model",
    "Report": "model", "Severity": "model", "Violation": "model",
    "Policy": "policy", "load_policy": "policy",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'replylint' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


def check(text: str, policy: PolicySpec = None, *, context: ContextLike = None) -> Report:
    """Check one reply against a policy (default: the built-in `pack:default`).

    For many replies build a `Linter` once: this function compiles the policy on every call
    unless given an already compiled `Policy`.
    """
    return _linter(policy).check(text, context)


def check_many(
    items: Iterable[str | tuple[str, ContextLike]], policy: PolicySpec = None
) -> Iterator[Report]:
    """Check many replies with one compiled policy; yields reports in input order."""
    return _linter(policy).check_many(items)


_DEFAULT: dict[str, Linter] = {}


def _linter(policy: PolicySpec) -> Linter:
    from .linter import Linter

    if policy is None:
        # The shipped default never changes while the process runs: compile it once.
        linter = _DEFAULT.get("default")
        if linter is None:
            linter = _DEFAULT.setdefault("default", Linter.from_policy(None))
        return linter
    return Linter.from_policy(policy)
