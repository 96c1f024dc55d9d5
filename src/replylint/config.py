"""Which policy applies to an input: `--policy`, else the nearest config file, else `pack:default`.

Discovery walks up from the input's directory to the filesystem root and takes the nearest of
`.replylint.yaml`, `replylint.yaml` or a `pyproject.toml` with a `[tool.replylint]` table. Compiled
policies are cached per config file, so a directory of ten thousand drafts compiles once.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import PolicyError, PolicyIssue, UsageError
from .linter import Linter, decide
from .model import Report
from .options import found
from .policy import Policy, id_matches, load_policy, load_policy_source
from .yamlsource import Path_, Source

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
    source: Source | None = field(default=None, compare=False, hash=False, repr=False)

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
                source = self.source or Source(self.spec, dict(self.table))
                return load_policy_source(source, Path(self.spec).parent)
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


_TOML_ERROR_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _pyproject_ref(path: Path) -> PolicyRef | None:
    try:
        text = path.read_text(encoding="utf-8-sig")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError([PolicyIssue(str(path), None, None, "", f"cannot read: {exc}")]) from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_ERROR_AT.search(message)
        line, col = (int(at[1]), int(at[2])) if at else (None, None)
        raise PolicyError([PolicyIssue(str(path), line, col, "",
                                       f"invalid TOML: {message[:at.start()] if at else message}")
                           ]) from exc
    tool = data.get("tool")
    table = tool.get("replylint") if isinstance(tool, dict) else None
    if table is None:
        return None
    source = toml_source(text, str(path), ("tool", "replylint"), table)
    field_name = "tool.replylint"
    if not isinstance(table, dict):
        raise PolicyError([source.issue((), "expected a table", hint="e.g. [tool.replylint]",
                                        field_name=field_name)])
    target = table.get("policy")
    if isinstance(target, str):
        others = [k for k in table if k != "policy"]
        if others:
            raise PolicyError([source.issue(
                (others[0],),
                f"`policy = {target!r}` names a policy file, so {', '.join(sorted(others))} "
                f"cannot be set here too",
                hint="put them in the policy file, or drop `policy =` and write the policy as "
                     "[tool.replylint.policy] and friends",
                key=True, field_name=field_name)])
        if target.startswith("pack:"):
            return PolicyRef(target)
        return PolicyRef(str(path.parent / target))
    if "policy" in table and not isinstance(target, dict):
        raise PolicyError([source.issue(
            ("policy",),
            f"expected the path of a policy file or a table, found {found(target)}",
            hint='e.g. policy = "replylint.yaml", or [tool.replylint.policy] with name, '
                 "extends, language", field_name="tool.replylint.policy")])
    return PolicyRef(str(path), table=table, source=source)


# --------------------------------------------------------------------------- TOML positions
#
# tomllib returns no positions, so a small scanner finds where each key and value of a
# pyproject.toml starts. It reads only what tomllib has already accepted and gives up quietly
# on anything it does not follow: an error then names the nearest parent it did find, or the
# file alone.

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SCALAR_END = re.compile(r"[,\]}#\n]")


def toml_source(text: str, path: str, root: tuple[str, ...], data: Any) -> Source:
    """A `Source` for the table at `root` of a TOML document, with positions where found."""
    scanner = _TomlScanner(text)
    try:
        scanner.document()
    except (IndexError, ValueError):
        pass  # keep the positions found so far
    source = Source(path, data)
    n = len(root)
    for table, into in ((scanner.values, source.values), (scanner.keys, source.keys)):
        for key_path, pos in table.items():
            if key_path[:n] == root:
                into[key_path[n:]] = pos
    return source


class _TomlScanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.line = 1
        self.line_start = 0
        self.values: dict[Path_, tuple[int, int]] = {}
        self.keys: dict[Path_, tuple[int, int]] = {}
        self.arrays_of_tables: dict[Path_, int] = {}

    def pos(self) -> tuple[int, int]:
        return self.line, self.i - self.line_start + 1

    def peek(self, k: int = 0) -> str:
        j = self.i + k
        return self.text[j] if j < len(self.text) else ""

    def advance(self, k: int = 1) -> None:
        for _ in range(k):
            if self.text[self.i] == "\n":
                self.line += 1
                self.line_start = self.i + 1
            self.i += 1

    def skip(self, newlines: bool = False) -> None:
        """Skip blanks and comments (and line breaks, when `newlines`)."""
        while self.i < len(self.text):
            ch = self.text[self.i]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.advance()
            elif ch == "#":
                while self.i < len(self.text) and self.text[self.i] != "\n":
                    self.advance()
            else:
                return

    def document(self) -> None:
        table: Path_ = ()
        while True:
            self.skip(newlines=True)
            if self.i >= len(self.text):
                return
            start = self.pos()
            if self.peek() == "[":
                double = self.peek(1) == "["
                self.advance(2 if double else 1)
                names = self.key_names()
                self.expect("]]" if double else "]")
                table = self.resolve(names, double)
                self.values.setdefault(table, start)
                self.keys.setdefault(table, start)
            else:
                self.keyval(table)

    def resolve(self, names: list[tuple[str, tuple[int, int]]], new_element: bool) -> Path_:
        """A header's key path, with the current index of each array of tables it goes through."""
        out: list[str | int] = []
        plain: tuple[str, ...] = ()
        for k, (name, _) in enumerate(names):
            out.append(name)
            plain += (name,)
            last = k == len(names) - 1
            if last and new_element:
                self.arrays_of_tables[plain] = self.arrays_of_tables.get(plain, -1) + 1
            if plain in self.arrays_of_tables:
                out.append(self.arrays_of_tables[plain])
        return tuple(out)

    def key_names(self) -> list[tuple[str, tuple[int, int]]]:
        names = []
        while True:
            self.skip()
            at = self.pos()
            if self.peek() in "\"'":
                name = self.string()
            else:
                m = _BARE_KEY.match(self.text, self.i)
                if not m:
                    raise ValueError("not a key")
                name = m.group()
                self.advance(len(name))
            names.append((name, at))
            self.skip()
            if self.peek() != ".":
                return names
            self.advance()

    def keyval(self, table: Path_) -> None:
        names = self.key_names()
        path = table
        for k, (name, at) in enumerate(names):
            path += (name,)
            self.keys.setdefault(path, at)
            if k < len(names) - 1:  # `policy.name = ...` also places the `policy` table
                self.values.setdefault(path, at)
        self.expect("=")
        self.skip()
        self.value(path)

    def value(self, path: Path_) -> None:
        self.values.setdefault(path, self.pos())
        ch = self.peek()
        if ch in "\"'":
            self.string()
        elif ch == "[":
            self.advance()
            index = 0
            while True:
                self.skip(newlines=True)
                if self.peek() == "]":
                    self.advance()
                    return
                self.value(path + (index,))
                index += 1
                self.skip(newlines=True)
                if self.peek() == ",":
                    self.advance()
        elif ch == "{":
            self.advance()
            while True:
                self.skip()
                if self.peek() == "}":
                    self.advance()
                    return
                self.keyval(path)
                self.skip()
                if self.peek() == ",":
                    self.advance()
        else:
            m = _SCALAR_END.search(self.text, self.i)
            end = m.start() if m else len(self.text)
            if end == self.i:
                raise ValueError("empty value")
            self.advance(end - self.i)

    def expect(self, token: str) -> None:
        self.skip()
        if not self.text.startswith(token, self.i):
            raise ValueError(f"expected {token!r}")
        self.advance(len(token))

    def string(self) -> str:
        """Skip a string; return its value when it is a key (one line)."""
        quote = self.peek()
        if self.text.startswith(quote * 3, self.i):
            end = self.i + 3
            while not self.text.startswith(quote * 3, end):
                end += 2 if quote == '"' and self.text[end] == "\\" else 1
            while self.text.startswith(quote, end + 3):  # the body may end in one or two quotes
                end += 1
            self.advance(end + 3 - self.i)
            return ""
        start = self.i + 1
        j = start
        while self.text[j] != quote:
            j += 2 if quote == '"' and self.text[j] == "\\" else 1
        raw = self.text[start:j]
        self.advance(j + 1 - self.i)
        if quote == '"' and "\\" in raw:
            return str(tomllib.loads(f"k = \"{raw}\"")["k"])
        return raw


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
