"""Which policy applies to an input: `--policy`, else the nearest config file, else `pack:default`.

Discovery walks up from the input's directory to the filesystem root and takes the nearest of
`.replylint.yaml`, `replylint.yaml` or a `pyproject.toml` with a `[tool.replylint]` table. Compiled
policies are cached per config file, so a directory of ten thousand drafts compiles once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import PolicyError, PolicyIssue, UsageError
from .linter import Linter, decide
from .model import Report
from .policy import Policy, id_matches, load_policy, load_policy_mapping

CONFIG_NAMES = (".replylint.yaml", "replylint.yaml")
DEFAULT_POLICY = "pack:default"


@dataclass(frozen=True)
class PolicyRef:
    """Where a policy comes from: a YAML file or `pack:NAME` (`spec`), or a pyproject table.

    `table` is set when `[tool.replylint]` holds the policy itself; `spec` is then the path of
    that pyproject.toml.
    """

    spec: str
    table: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)

    @cached_property
    def key(self) -> str:
        """Identity for caching: the resolved file (or the pack name)."""
        if self.spec.startswith("pack:"):
            return self.spec
        return str(Path(self.spec).resolve()) + ("#tool.replylint" if self.table is not None
                                                 else "")

    def load(self) -> Policy:
        if self.table is not None:
            try:
                return load_policy_mapping(self.table, self.spec, Path(self.spec).parent)
            except PolicyError as exc:
                # Name fields as they are written in pyproject.toml.
                raise PolicyError([replace(i, field=f"tool.replylint.{i.field}")
                                   if i.path == self.spec and i.field else i
                                   for i in exc.issues]) from None
        return load_policy(self.spec)

    def __str__(self) -> str:
        return f"{self.spec} [tool.replylint]" if self.table is not None else self.spec


def discover_policy(start: Path) -> PolicyRef | None:
    """The nearest policy config at or above `start` (a directory, or a file's directory).

    Raises `PolicyError` for an unreadable pyproject.toml on the way, rather than skip a
    configuration the user meant to apply.
    """
    here = start.resolve()
    if not here.is_dir():
        here = here.parent
    for directory in (here, *here.parents):
        for name in CONFIG_NAMES:
            candidate = directory / name
            if candidate.is_file():
                return PolicyRef(str(candidate))
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file():
            ref = _pyproject_ref(pyproject)
            if ref is not None:
                return ref
    return None


def _pyproject_ref(path: Path) -> PolicyRef | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyIssue(str(path), None, None, "", f"cannot read: {exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([PolicyIssue(str(path), None, None, "", f"invalid TOML: {exc}")]) from exc
    tool = data.get("tool")
    table = tool.get("replylint") if isinstance(tool, dict) else None
    if table is None:
        return None
    field_name = "tool.replylint"
    if not isinstance(table, dict):
        raise PolicyError([PolicyIssue(str(path), None, None, field_name,
                                       "expected a table", "e.g. [tool.replylint]")])
    target = table.get("policy")
    if isinstance(target, str):
        others = sorted(k for k in table if k != "policy")
        if others:
            raise PolicyError([PolicyIssue(
                str(path), None, None, field_name,
                f"`policy = {target!r}` names a policy file, so {', '.join(others)} cannot "
                f"be set here too", "put them in the policy file, or drop `policy =` and write "
                                    "the policy as [tool.replylint.policy] and friends")])
        if target.startswith("pack:"):
            return PolicyRef(target)
        return PolicyRef(str(path.parent / target))
    return PolicyRef(str(path), table=table)


class PolicyResolver:
    """Finds and compiles the policy for each input, once per config file (errors included)."""

    def __init__(self, explicit: str | None = None, *, cwd: Path | None = None,
                 selection: Selection | None = None, redact: bool = True) -> None:
        self.explicit = PolicyRef(explicit) if explicit else None
        self.cwd = cwd or Path.cwd()
        self.selection = selection or Selection()
        self.redact = redact
        self._refs: dict[Path, PolicyRef] = {}
        self._by_source: dict[str, PolicyRef] = {}
        self._linters: dict[str, Linter | PolicyError] = {}

    def ref_for(self, source: str) -> PolicyRef:
        """The policy reference for an input path (`-` means stdin: discovery from cwd)."""
        if self.explicit is not None:
            return self.explicit
        ref = self._by_source.get(source)
        if ref is not None:
            return ref
        start = self.cwd if source == "-" else (self.cwd / source).parent
        ref = self._refs.get(start)
        if ref is None:
            ref = discover_policy(start) or PolicyRef(DEFAULT_POLICY)
            self._refs[start] = ref
        if len(self._by_source) < 10_000:
            self._by_source[source] = ref
        return ref

    def linter(self, ref: PolicyRef) -> Linter:
        """The compiled linter for a reference; raises the same `PolicyError` on every call.

        A `UsageError` (an unknown `--select` id) is not cached: it ends the run.
        """
        cached = self._linters.get(ref.key)
        if isinstance(cached, PolicyError):
            raise cached
        if cached is not None:
            return cached
        try:
            policy = self.selection.apply(ref.load())
        except PolicyError as exc:
            self._linters[ref.key] = exc
            raise
        linter = Linter(policy, redact=self.redact)
        self._linters[ref.key] = linter
        return linter

    def is_cached(self, ref: PolicyRef) -> bool:
        return ref.key in self._linters


@dataclass(frozen=True)
class Selection:
    """`--select` / `--ignore`: rule ids, prefixes (`trading-advice`) or sub-ids
    (`trading-advice.price-target`, filtered per violation since sub-ids are not rules)."""

    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @classmethod
    def parse(cls, select: Iterable[str] | None, ignore: Iterable[str] | None) -> Selection:
        """From repeatable, comma-separated command-line values."""
        def split(values: Iterable[str] | None) -> tuple[str, ...]:
            out = [part.strip() for value in values or () for part in value.split(",")]
            return tuple(dict.fromkeys(p for p in out if p))
        return cls(split(select), split(ignore))

    def __bool__(self) -> bool:
        return bool(self.select or self.ignore)

    def apply(self, policy: Policy) -> Policy:
        """The policy with only the selected rules; raises `UsageError` for unknown ids."""
        if not self:
            return policy
        known = [r.id for r in policy.rules] + list(policy.disabled)
        for option, values in (("--select", self.select), ("--ignore", self.ignore)):
            for value in values:
                if not any(id_matches(k, value) or id_matches(value, k) for k in known):
                    raise UsageError(f"{option}: unknown rule {value!r} in policy "
                                     f"{policy.name!r}; known rules: {', '.join(known)}")
        rules = tuple(r for r in policy.rules
                      if (not self.select or any(id_matches(r.id, s) or id_matches(s, r.id)
                                                 for s in self.select))
                      and not any(id_matches(r.id, i) for i in self.ignore))
        return replace(policy, rules=rules)

    def keeps(self, rule_id: str) -> bool:
        """Whether a violation's rule id (maybe with a sub-id) is selected and not ignored."""
        return ((not self.select or any(id_matches(rule_id, s) for s in self.select))
                and not any(id_matches(rule_id, i) for i in self.ignore))

    def filter(self, report: Report) -> Report:
        """Drop violations of unselected sub-ids; the decision follows what is left."""
        if not self:
            return report
        kept = tuple(v for v in report.violations if self.keeps(v.rule))
        if len(kept) == len(report.violations):
            return report
        return replace(report, violations=kept, decision=decide(kept))
