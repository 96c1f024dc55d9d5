"""The JSON Schema of the policy format, generated from the rule types' option declarations.

The same dataclasses validate policies at load time, so the schema editors use and the checks
the loader applies cannot drift apart. `policy.schema.json` in this package is this function's
output, kept in sync by a test.
"""

from __future__ import annotations

from typing import Any

from .checks import RULE_TYPES
from .options import schema_for

_SEVERITY = {"enum": ["error", "warning", "info", "off"]}
_EXAMPLE = {
    "anyOf": [
        {"type": "string"},
        {
            "type": "object",
            "required": ["text"],
            "additionalProperties": False,
            "properties": {"text": {"type": "string"}, "context": {"type": "object"}},
        },
    ]
}
COMMON_RULE_PROPERTIES: dict[str, Any] = {
    "id": {
        "type": "string",
        "pattern": r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)*$",
        "description": "Kebab-case name of what is flagged; sub-ids after a dot.",
    },
    "type": {"enum": list(RULE_TYPES), "description": "The rule type (the kind of check)."},
    "severity": {
        **_SEVERITY,
        "default": "error",
        "description": "error blocks the reply, warning informs, off disables.",
    },
    "message": {
        "type": "string",
        "description": "Shown to the agent; {match}, {rule}, context fields and rule "
        "values are placeholders.",
    },
    "why": {"type": "string", "description": "Why the rule exists, in one or two sentences."},
    "suggestions": {
        "type": "array",
        "items": {"type": "string"},
        "description": "What to write instead; placeholders allowed.",
    },
    "suppressible": {
        "type": "boolean",
        "default": True,
        "description": "Whether a draft's front matter may disable this rule.",
    },
    "channels": {
        "type": "array",
        "items": {"type": "string"},
        "description": "Only check replies on these channels.",
    },
    "examples": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "fail": {"type": "array", "items": _EXAMPLE},
            "pass": {"type": "array", "items": _EXAMPLE},
        },
        "description": "Texts the rule must flag (fail) and must leave alone (pass).",
    },
}


def policy_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a replylint policy file."""
    branches = []
    for name, rule_type in RULE_TYPES.items():
        options = schema_for(rule_type.options)
        then: dict[str, Any] = {
            "properties": {**COMMON_RULE_PROPERTIES, **options["properties"]},
            "additionalProperties": False,
        }
        branches.append(
            {
                "if": {"required": ["type"], "properties": {"type": {"const": name}}},
                "then": then,
            }
        )
    rule = {
        "type": "object",
        "required": ["id"],
        "properties": COMMON_RULE_PROPERTIES,
        "allOf": branches,
        "description": "A rule; without `type` it overrides a rule of the same id from `extends`.",
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "replylint policy",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "policy": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "language": {"enum": ["en"]},
                    "extends": {
                        "anyOf": [
                            {"type": "string"},
                            {"type": "array", "items": {"type": "string"}},
                        ],
                        "description": "pack:NAME or paths relative to this file; later wins.",
                    },
                },
            },
            "settings": {
                "type": "object",
                "additionalProperties": {"type": ["string", "number", "boolean"]},
                "description": "Values rules may read: text, numbers or true/false.",
            },
            "rules": {"type": "array", "items": rule},
        },
    }
