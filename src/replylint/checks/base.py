"""What every rule type shares: the hit it reports and the context it is compiled in."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Protocol

from ..draft import Draft
from ..literals import LiteralPool
from ..model import Edit, Severity
from ..options import OptionPath


_NO_VALUES: Mapping[str, str] = MappingProxyType({})


class Hit(NamedTuple):
    """A match found by a check, in ORIGINAL text offsets; the linter turns it into a Violation.

    `values` fill message placeholders besides `{match}`; `sub_id` is appended to the rule id
    (`trading-advice` + `price-target`); `severity`/`message` override the rule's for this hit.
    A named tuple rather than a frozen dataclass: as immutable, and three times cheaper to
    build, which counts for a rule such as the signature that reports on most replies.
    """

    start: int
    end: int
    values: Mapping[str, str] = _NO_VALUES
    suggestions: tuple[str, ...] = ()
    fix: tuple[Edit, ...] | None = None
    sub_id: str | None = None
    severity: Severity | None = None
    message: str | None = None
    redact: bool = False


class Check(Protocol):
    """A compiled rule: a pure function of the draft. Must not mutate itself while checking.

    `find` may return a generator or a list; a list is the caller's (the linter sorts it), so
    it must be a new one each time.
    """

    def find(self, draft: Draft) -> Iterable[Hit]: ...


@dataclass
class CompileContext:
    """Handed to a rule type's `compile`: policy settings and a way to report option errors.

    `error(path, message)` records a problem at a path inside the rule's options (e.g.
    `("patterns", 2)`), which the policy loader turns into file:line:column. `pool(view)`
    gathers prefilter literals across rules (see `LiteralPool`).
    """

    rule_id: str
    settings: Mapping[str, Any]
    report: Callable[[OptionPath, str, str | None], None]
    # Shared by every rule of one policy, frozen when the policy has compiled.
    pools: dict[str, LiteralPool] = field(default_factory=dict)

    def error(self, path: OptionPath, message: str, hint: str | None = None) -> None:
        self.report(path, message, hint)

    def pool(self, view: str) -> LiteralPool:
        """The policy's literal pool for a draft view: one scan of it serves every rule."""
        if view not in self.pools:
            self.pools[view] = LiteralPool(view)
        return self.pools[view]


@dataclass(frozen=True)
class RuleType:
    """One row of the registry table: a rule type's name, options, compiler and one-line summary."""

    name: str
    options: type
    compile: Callable[[Any, CompileContext], Check | None]
    summary: str
