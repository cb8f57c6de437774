"""The editor schema of stack files: committed, current, and in step with the parser."""

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import yaml

from components.config import ConfigError, load_spec
from components.config.schema import render, stack_file_schema
from offline.fleet import REFERENCE_STACKS
from tests.harness import REPO, config, encode

SCHEMA_FILE = REPO / "schema" / "stack-config.schema.json"
# Objects the parser reads only in some states: put them in that state first.
CONTEXT: dict[tuple[str, ...], dict[str, Any]] = {
    ("monitoring", "dashboard"): {"enabled": True},
}
BRANCHES: dict[tuple[str, ...], dict[str, Any]] = {
    ("cluster", "eks"): {"kind": "eks", "name": "osmo-usw2", "region": "us-west-2"},
    ("cluster", "aks"): {"kind": "aks", "name": "osmo-eus", "location": "eastus"},
    ("cluster", "gke"): {
        "kind": "gke",
        "name": "osmo-usc1",
        "project": "osmo-test-1",
        "region": "us-central1",
    },
}
"""A valid section for each `oneOf` branch selected by a `kind` const."""


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


def objects(
    schema: dict[str, Any], path: tuple[str, ...], base: dict[str, Any] | None = None
) -> Iterator[tuple[tuple[str, ...], list[str], dict[str, Any] | None]]:
    """Every closed object in the schema with its property names and, inside a `oneOf` branch,
    the section that selects the branch."""
    for branch in schema.get("oneOf", []):
        kind = branch.get("properties", {}).get("kind", {}).get("const")
        yield from objects(branch, path, BRANCHES[(*path, kind)] if kind else base)
    if schema.get("type") == "object" and schema.get("additionalProperties") is False:
        properties = schema.get("properties", {})
        yield path, sorted(properties), base
        for name, child in properties.items():
            yield from objects(child, (*path, name), base)


SECTIONS = [
    (key.split(":", 1)[1], body)
    for key, body in stack_file_schema()["properties"]["config"]["properties"].items()
    if "secure" not in body.get("properties", {})
]
CASES = [case for name, body in SECTIONS for case in objects(body, (name,))]
IDS = [".".join(p) + (f"[{b['kind']}]" if b else "") for p, _, b in CASES]


@pytest.mark.parametrize(("path", "allowed", "base"), CASES, ids=IDS)
def test_the_parser_allows_exactly_the_schema_properties(
    path: tuple[str, ...], allowed: list[str], base: dict[str, Any] | None
) -> None:
    values = copy.deepcopy(config())
    if base is not None:
        values[f"osmo-backend:{path[0]}"] = copy.deepcopy(base)
    node: dict[str, Any] = values.setdefault(f"osmo-backend:{path[0]}", {})
    for depth, part in enumerate(path[1:], start=2):
        node = node.setdefault(part, {})
        node.update(CONTEXT.get(path[:depth], {}))
    node["bogusKey"] = 1
    with pytest.raises(ConfigError) as err:
        load_spec(encode(values), (), base_dir=REPO)
    where = f"osmo-backend:{path[0]}" + "".join(f".{p}" for p in path[1:])
    expected = f"{where}.bogusKey: unknown key (allowed: {', '.join(allowed)})"
    assert expected in err.value.problems


def test_top_level_keys_match_the_parser() -> None:
    from components import config as cfg

    declared = {
        k.split(":", 1)[1] for k in stack_file_schema()["properties"]["config"]["properties"]
    }
    assert declared == set(cfg._KEYS)  # pyright: ignore[reportPrivateUsage]
