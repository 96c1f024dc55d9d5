"""The JSON Schema ships with the package, matches the rule types, and accepts the packs."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from replylint.checks import RULE_TYPES
from replylint.errors import PolicyError
from replylint.policy import available_packs, load_policy, packs_dir
from replylint.schema import policy_schema

REPO = Path(__file__).resolve().parents[1]


def test_shipped_schema_file_is_the_generated_schema() -> None:
    shipped = json.loads((resources.files("replylint") / "policy.schema.json").read_text())
    assert shipped == policy_schema(), (
        "regenerate with: replylint schema > src/replylint/policy.schema.json"
    )


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(policy_schema())


@pytest.mark.parametrize("pack", available_packs())
def test_shipped_packs_validate_against_the_schema(pack: str) -> None:
    data = yaml.safe_load((packs_dir() / f"{pack}.yaml").read_text())
    jsonschema.Draft202012Validator(policy_schema()).validate(data)


def test_schema_rejects_an_unknown_option() -> None:
    bad = {"rules": [{"id": "x", "type": "pattern", "patterns": ["a"], "colour": "red"}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(policy_schema()).validate(bad)


def test_registry_schema_and_readme_list_the_same_rule_types() -> None:
    schema_types = policy_schema()["properties"]["rules"]["items"]["properties"]["type"]["enum"]
    readme = (REPO / "README.md").read_text()
    documented = [name for name in RULE_TYPES if f"### `{name}`" in readme]
    assert schema_types == list(RULE_TYPES)
    assert documented == list(RULE_TYPES)


def _loader_accepts(data: dict[str, Any]) -> bool:
    try:
        load_policy(data)
    except PolicyError:
        return False
    return True


def _schema_accepts(data: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(policy_schema()).is_valid(data)


@pytest.mark.parametrize("key, value", [
    ("inflect", True), ("inflect", False), ("inflect", "yes"), ("inflect", "no"),
    ("inflect", "true"), ("inflect", "on"), ("inflect", "off"), ("inflect", 1),
    ("suppressible", "yes"), ("suppressible", False), ("severity", False), ("severity", "off"),
])
def test_loader_and_schema_agree_on_booleans(key: str, value: object) -> None:
    """Regression: the loader took `inflect: "yes"` while the shipped schema rejected it."""
    data = {"rules": [{"id": "x", "type": "phrase", "phrases": ["a"], key: value}]}
    assert _loader_accepts(data) == _schema_accepts(data)


@pytest.mark.parametrize("rule", [
    {"id": "x", "type": "length", "default_limit": 0},
    {"id": "x", "type": "require", "pattern": "  "},
])
def test_loader_and_schema_agree_on_constraints(rule: dict[str, Any]) -> None:
    data = {"rules": [rule]}
    assert _loader_accepts(data) == _schema_accepts(data)
