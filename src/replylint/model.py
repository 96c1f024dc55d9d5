"""Result and context types: frozen, slotted dataclasses built once with their final values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How much a violation matters; `off` never reaches a report."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.ERROR: 3, Severity.WARNING: 2, Severity.INFO: 1}


class Decision(StrEnum):
    """What a pre-send hook should do with the reply."""

    ALLOW = "allow"
    WARN = "warn"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Edit:
    """Replace `text[start:end]` of the reply with `replacement` (an insert when start == end)."""

    start: int
    end: int
    replacement: str


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem in one reply, with an exact span into the text the user gave."""

    rule: str
    severity: Severity
    message: str
    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int
    matched: str
    suggestions: tuple[str, ...] = ()
    fix: tuple[Edit, ...] | None = None
    why: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Severity):
                value = value.value
            elif f.name == "suggestions":
                value = list(value)
            elif f.name == "fix" and value is not None:
                value = [
                    {"start": e.start, "end": e.end, "replacement": e.replacement} for e in value
                ]
            out[f.name] = value
        return out


@dataclass(frozen=True, slots=True)
class Context:
    """What the linter knows about a reply besides its text; never part of the text itself."""

    channel: str | None = None
    agent: str | None = None
    customer: str | None = None
    public: bool | None = None
    disable: tuple[str, ...] = ()
    reason: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    KNOWN = ("channel", "agent", "customer", "public", "disable", "reason")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> Context:
        """Build a context from front matter, a JSONL record or an HTTP body.

        `disable`/`reason` may also sit under a `replylint:` key, as in draft front matter.
        Unknown keys are kept as strings in `extra`, usable as message placeholders.
        """
        if not data:
            return cls()
        data = dict(data)
        nested = data.pop("replylint", None)
        if isinstance(nested, Mapping):
            for key in ("disable", "reason"):
                if key in nested:
                    data[key] = nested[key]
        disable = data.get("disable") or ()
        if isinstance(disable, str):
            disable = (disable,)
        public = data.get("public")
        extra = tuple(
            sorted(
                (str(k), _scalar(v))
                for k, v in data.items()
                if k not in cls.KNOWN and v is not None and not isinstance(v, (dict, list))
            )
        )
        return cls(
            channel=_opt_str(data.get("channel")),
            agent=_opt_str(data.get("agent")),
            customer=_opt_str(data.get("customer")),
            public=bool(public) if public is not None else None,
            disable=tuple(str(d) for d in disable),
            reason=_opt_str(data.get("reason")),
            extra=extra,
        )

    def get(self, name: str) -> str | None:
        """A context value by name, as text (for message placeholders and patterns)."""
        if name in ("channel", "agent", "customer", "reason"):
            value = getattr(self, name)
            return value if value else None
        if name == "public":
            return None if self.public is None else str(self.public).lower()
        for key, value in self.extra:
            if key == name:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            k: getattr(self, k) for k in ("channel", "agent", "customer", "public", "reason")
        }
        out["disable"] = list(self.disable)
        out.update(dict(self.extra))
        return {k: v for k, v in out.items() if v not in (None, [])}


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass(frozen=True, slots=True)
class Report:
    """The verdict on one reply: what to do with it and why."""

    decision: Decision
    violations: tuple[Violation, ...]
    policy: str
    policy_hash: str
    suppressed: tuple[str, ...] = field(default=())
    incomplete: bool = False

    @property
    def ok(self) -> bool:
        """True unless the reply must be blocked."""
        return self.decision is not Decision.BLOCK

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.value,
            "ok": self.ok,
            "policy": self.policy,
            "policy_hash": self.policy_hash,
            "violations": [v.to_dict() for v in self.violations],
            "suppressed": list(self.suppressed),
            "incomplete": self.incomplete,
        }
