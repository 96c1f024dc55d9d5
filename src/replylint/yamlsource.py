"""YAML loading that remembers where every value came from, so errors can name file:line:column."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import PolicyIssue

Path_ = tuple[str | int, ...]


@dataclass
class Source:
    """A parsed document plus the position of each value (and each mapping key) in its file."""

    path: str
    data: Any
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: Path_, *, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column (1-based) of the value at `path`, or of its nearest known parent."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if not key and probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), (None, None))

    def issue(
        self,
        path: Path_,
        message: str,
        *,
        hint: str | None = None,
        key: bool = False,
        field_name: str | None = None,
    ) -> PolicyIssue:
        line, col = self.where(path, key=key)
        return PolicyIssue(self.path, line, col, field_name or dotted(path), message, hint)


def dotted(path: Path_) -> str:
    """`("rules", 2, "phrases")` -> `rules[2].phrases`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Loader(yaml.SafeLoader):
    pass


def load_yaml(text: str, path: str) -> tuple[Source, list[PolicyIssue]]:
    """Parse YAML text into plain Python values with a position table; never raises."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        problem = exc.problem or exc.context or "invalid YAML"
        return Source(path, None), [
            PolicyIssue(path, line, col, "", f"YAML syntax error: {problem}")
        ]
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors (bad bytes) are rare here
        return Source(path, None), [PolicyIssue(path, None, None, "", f"YAML error: {exc}")]
    source = Source(path, None)
    issues: list[PolicyIssue] = []
    if node is None:
        return source, issues
    constructor = _Loader("")
    source.data = _build(node, (), source, issues, constructor)
    return source, issues


def _build(
    node: yaml.Node,
    path: Path_,
    source: Source,
    issues: list[PolicyIssue],
    constructor: yaml.SafeLoader,
) -> Any:
    source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}

        def at_key(
            key_node: yaml.Node, where: Path_, message: str, hint: str | None = None
        ) -> None:
            mark = key_node.start_mark
            issues.append(
                PolicyIssue(
                    source.path, mark.line + 1, mark.column + 1, dotted(where), message, hint
                )
            )

        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                at_key(key_node, path, "YAML merge keys (<<) are not supported")
                continue
            key = constructor.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                at_key(key_node, path, f"mapping keys must be text, found {type(key).__name__}")
                continue
            if isinstance(key, bool):
                # YAML 1.1 reads `on`/`off`/`yes`/`no` keys as booleans; keep the word.
                key = key_node.value
            key = str(key) if not isinstance(key, str) else key
            child = path + (key,)
            if key in result:
                at_key(key_node, child, "duplicate key", "each key may appear once per mapping")
            source.keys[child] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            result[key] = _build(value_node, child, source, issues, constructor)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, path + (i,), source, issues, constructor)
            for i, item in enumerate(node.value)
        ]
    value = constructor.construct_object(node, deep=True)
    if (
        isinstance(value, bool)
        and isinstance(node, yaml.ScalarNode)
        and node.style is None
        and node.value.lower() in ("on", "off", "yes", "no", "y", "n")
    ):
        # YAML 1.1 reads a bare `off` as False; `severity: off` must stay the word "off".
        return node.value.lower()
    return value
