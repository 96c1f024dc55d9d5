"""Typed option declarations: one dataclass per rule type is both validator and JSON Schema.

A rule type declares its options as dataclass fields with type hints; `validate` turns a YAML
mapping into an instance (or a list of problems with their YAML paths), and `schema_for` turns the
same declaration into JSON Schema, so the documentation, the editor schema and the checks agree.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any, Literal, Union, get_args, get_origin

OptionPath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class OptionProblem:
    path: OptionPath
    message: str
    hint: str | None = None
    key: bool = False


def option(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    nonempty: bool = False,
    minimum: float | None = None,
    itemwise: bool = False,
) -> Any:
    """Declare one option: its default, one line of documentation, and simple constraints.

    `itemwise` (lists only): an item of the wrong shape is reported and handed to the rule type
    as None, so its compiler still checks the other items and every problem is reported at once.
    The rule is never built while any problem remains.
    """
    meta = {"doc": doc, "nonempty": nonempty, "minimum": minimum, "itemwise": itemwise}
    if isinstance(default, (list, dict, set)):
        value = default
        return dataclasses.field(default_factory=lambda: type(value)(value), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


# Words YAML 1.1 (and people) use for booleans. The JSON Schema, read as YAML 1.2 by editors,
# takes only true and false, so the loader does too and points these words at them.
_BOOL_LOOKALIKES = frozenset({"true", "false", "yes", "no", "on", "off", "y", "n", "1", "0"})


def unknown_key_hint(key: object, allowed: Sequence[str]) -> str:
    """`allowed: a, b, c`, led by `did you mean 'x'?` when `key` reads like a typo of one."""
    close = difflib.get_close_matches(str(key).lower(), allowed, n=1)
    listed = "allowed: " + ", ".join(allowed)
    return f"did you mean {close[0]!r}? {listed}" if close else listed


def describe(tp: Any) -> str:
    """A short human name for a type hint, used in error messages."""
    origin = get_origin(tp)
    if tp is Any:
        return "any value"
    if origin is Literal:
        return " | ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(describe(a) for a in get_args(tp))
    if origin is list:
        item = describe(get_args(tp)[0])
        if item.startswith(("a ", "an ")):  # "a mapping of text" -> "mappings of text"
            first, _, rest = item.partition(" ")[2].partition(" ")
            item = f"{first}s {rest}".rstrip()
        return f"a list of {item}"
    if origin is dict:
        value_tp = get_args(tp)[1]
        return "a mapping" if value_tp is Any else f"a mapping of text to {describe(value_tp)}"
    if tp is type(None):
        return "null"
    return {str: "text", int: "an integer", float: "a number", bool: "true/false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def found(value: Any) -> str:
    """How a found value is shown in an error message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def convert(
    tp: Any, value: Any, path: OptionPath, problems: list[OptionProblem], nonempty: bool = False
) -> Any:
    """Check `value` against type hint `tp`; return the converted value (lists stay lists)."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        for candidate in options:
            if candidate is type(None):
                continue
            trial: list[OptionProblem] = []
            result = convert(candidate, value, path, trial, nonempty)
            if not trial:
                return result
        # Report the problems of the most specific candidate that fits the shape.
        for candidate in options:
            if _shape_matches(candidate, value):
                return convert(candidate, value, path, problems, nonempty)
        problems.append(OptionProblem(path, f"expected {describe(tp)}, found {found(value)}"))
        return None
    if origin is Literal:
        allowed = get_args(tp)
        if value in allowed:
            return value
        problems.append(
            OptionProblem(
                path, f"expected one of {', '.join(repr(a) for a in allowed)}, found {found(value)}"
            )
        )
        return None
    if origin is list:
        if not isinstance(value, list):
            problems.append(OptionProblem(path, f"expected {describe(tp)}, found {found(value)}"))
            return None
        if nonempty and not value:
            problems.append(OptionProblem(path, "must not be empty"))
        (item_tp,) = get_args(tp)
        return [convert(item_tp, item, path + (i,), problems) for i, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            problems.append(OptionProblem(path, f"expected {describe(tp)}, found {found(value)}"))
            return None
        if nonempty and not value:
            problems.append(OptionProblem(path, "must not be empty"))
        _, value_tp = get_args(tp)
        return {str(k): convert(value_tp, v, path + (str(k),), problems) for k, v in value.items()}
    if tp is bool:
        if isinstance(value, bool):
            return value
        hint = "use true or false" if str(value).lower() in _BOOL_LOOKALIKES else None
        problems.append(OptionProblem(path, f"expected true/false, found {found(value)}", hint))
        return None
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        problems.append(OptionProblem(path, f"expected an integer, found {found(value)}"))
        return None
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        problems.append(OptionProblem(path, f"expected a number, found {found(value)}"))
        return None
    if tp is str:
        if isinstance(value, str):
            if nonempty and not value.strip():
                problems.append(OptionProblem(path, "must not be empty"))
            return value
        problems.append(OptionProblem(path, f"expected text, found {found(value)}"))
        return None
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            problems.append(OptionProblem(path, f"expected a mapping, found {found(value)}"))
            return None
        return validate(tp, value, path, problems)
    raise TypeError(f"unsupported option type {tp!r}")  # a bug in a rule type, not user input


def _shape_matches(tp: Any, value: Any) -> bool:
    origin = get_origin(tp) or tp
    if origin is list:
        return isinstance(value, list)
    if origin is dict or dataclasses.is_dataclass(tp):
        return isinstance(value, dict)
    return False


def validate(
    cls: Any,
    data: dict[str, Any],
    path: OptionPath,
    problems: list[OptionProblem],
    known: Sequence[str] = (),
) -> Any:
    """Build an options dataclass from a mapping, recording every problem found.

    Returns None when an option is missing or wrong; with only unknown keys or bad items of
    `itemwise` lists it returns the options without them, and the caller must not use a rule
    built from them.

    `known` are keys the caller handles itself (a rule's common keys): `data` must not hold
    them, but an unknown key's hint lists them first among the allowed ones.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    start = len(problems)
    # Unknown keys and bad items of itemwise lists change nothing the rule type would compile,
    # so the options are still built for it to find more problems (the rule never runs).
    deferred = 0
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        f = fields.get(key)
        if f is None:
            deferred += 1
            problems.append(
                OptionProblem(
                    path + (key,),
                    f"unknown option {key!r}",
                    unknown_key_hint(key, [*known, *fields])
                    if known or fields
                    else "this rule type takes no options",
                    key=True,
                )
            )
            continue
        before = len(problems)
        if f.metadata.get("itemwise") and isinstance(value, list) and value:
            (item_tp,) = get_args(hints[key])
            items: list[Any] = []
            for i, item in enumerate(value):
                trial: list[OptionProblem] = []
                result = convert(item_tp, item, path + (key, i), trial)
                problems.extend(trial)
                deferred += len(trial)
                items.append(None if trial else result)
            kwargs[key] = items
            continue
        converted = convert(
            hints[key], value, path + (key,), problems, bool(f.metadata.get("nonempty"))
        )
        minimum = f.metadata.get("minimum")
        if minimum is not None and isinstance(converted, (int, float)) and converted < minimum:
            problems.append(
                OptionProblem(path + (key,), f"must be at least {minimum:g}, found {found(value)}")
            )
        if len(problems) == before:
            kwargs[key] = converted
    for name, f in fields.items():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and name not in data:
            problems.append(
                OptionProblem(
                    path,
                    f"missing required option {name!r}",
                    f"{name}: {f.metadata.get('doc', '')}",
                )
            )
    if len(problems) > start + deferred:
        return None
    return cls(**kwargs)


def schema_for_type(tp: Any) -> dict[str, Any]:
    """JSON Schema of a type hint."""
    origin = get_origin(tp)
    if tp is Any:
        return {}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    if origin in (Union, types.UnionType):
        return {"anyOf": [schema_for_type(a) for a in get_args(tp)]}
    if origin is list:
        return {"type": "array", "items": schema_for_type(get_args(tp)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": schema_for_type(get_args(tp)[1])}
    if tp is type(None):
        return {"type": "null"}
    if dataclasses.is_dataclass(tp):
        return schema_for(tp)
    return {"type": {str: "string", int: "integer", float: "number", bool: "boolean"}[tp]}


def schema_for(cls: Any) -> dict[str, Any]:
    """JSON Schema (draft 2020-12 subset) of an options dataclass."""
    hints = typing.get_type_hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        prop = schema_for_type(hints[f.name])
        prop["description"] = f.metadata.get("doc", "")
        if f.default is not dataclasses.MISSING and f.default is not None:
            prop["default"] = f.default
        if f.metadata.get("nonempty"):
            kind = get_origin(hints[f.name]) or hints[f.name]
            if kind is list:
                prop["minItems"] = 1
            elif kind is dict:
                prop["minProperties"] = 1
            elif kind is str:
                prop["pattern"] = r"\S"
        if f.metadata.get("minimum") is not None:
            prop["minimum"] = f.metadata["minimum"]
        props[f.name] = prop
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    schema: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        schema["required"] = required
    return schema
