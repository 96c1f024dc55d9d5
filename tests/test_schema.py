"""The JSON Schema ships with the package, matches the rule types, and accepts the packs."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from replylint.checks import RULE_TYPES
from replylint.policy import available_packs, packs_dir
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
