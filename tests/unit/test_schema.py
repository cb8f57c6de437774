"""The editor schema of stack files: generated from the config models, committed and current."""

import json
from typing import Any

import jsonschema
import yaml

from components.config.schema import render, stack_file_schema
from offline.fleet import REFERENCE_STACKS
from tests.harness import REPO

SCHEMA_FILE = REPO / "schema" / "stack-config.schema.json"


def test_committed_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == render(), (
        "schema/stack-config.schema.json is stale: "
        "uv run python -m components.config.schema > schema/stack-config.schema.json"
    )


def test_schema_is_valid_and_every_stack_file_passes_it() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    stack_files = [REPO / "stacks" / f"Pulumi.{name}.yaml" for name in REFERENCE_STACKS]
    assert stack_files
    for path in stack_files:
        assert list(validator.iter_errors(yaml.safe_load(path.read_text()))) == [], path
        assert path.read_text().startswith(
            "# yaml-language-server: $schema=../schema/stack-config.schema.json\n"
        ), path


def test_schema_rejects_a_typo_in_a_project_key_but_not_other_namespaces() -> None:
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    good = {
        "config": {
            "aws:region": "us-west-2",
            "osmo-backend:osmo": {"backendName": "x", "serviceUrl": "https://x"},
        }
    }
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({"config": {"osmo-backend:clustr": {}}}))
    assert list(validator.iter_errors({"config": {"osmo-backend:osmo": {"backendNmae": "x"}}}))


def test_top_level_keys_match_the_parser() -> None:
    from components import config as cfg

    declared = {
        k.split(":", 1)[1] for k in stack_file_schema()["properties"]["config"]["properties"]
    }
    assert declared == set(cfg._KEYS)  # pyright: ignore[reportPrivateUsage]


def test_every_key_has_a_description_for_the_editor() -> None:
    # Descriptions come from the models' field docstrings (use_attribute_docstrings); pydantic
    # leaves a nested object's own description on its $defs entry.
    schema = stack_file_schema()
    defs = schema["$defs"]

    def described(node: dict[str, Any]) -> bool:
        refs = [node.get("$ref"), *(n.get("$ref") for n in node.get("anyOf", []))]
        return "description" in node or any(
            ref and "description" in defs[ref.rsplit("/", 1)[1]] for ref in refs
        )

    bare = [
        f"{name}.{key}"
        for name, model in defs.items()
        for key, node in model.get("properties", {}).items()
        if not described(node)
    ]
    assert bare == []
    assert [name for name, model in defs.items() if "description" not in model] == []
    config = schema["properties"]["config"]["properties"]
    assert [key for key, node in config.items() if not described(node)] == []


def test_the_schema_refuses_a_key_of_another_cluster_kind() -> None:
    validator = jsonschema.Draft202012Validator(stack_file_schema())
    eks = {"kind": "eks", "name": "osmo-usw2", "region": "us-west-2"}
    assert list(validator.iter_errors({"config": {"osmo-backend:cluster": eks}})) == []
    gke_key = {**eks, "machineType": "n2-standard-4"}
    assert list(validator.iter_errors({"config": {"osmo-backend:cluster": gke_key}}))
