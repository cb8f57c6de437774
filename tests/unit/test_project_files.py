"""Project files agree with the code and with the Pulumi CLI's load rules (see
tests/unit/test_cli_load_rules.py for the rules and their pulumi/pulumi sources)."""

import json
import re

import yaml

from components import config
from tests.harness import REPO


def test_declared_project_keys_are_the_required_ones_with_a_description() -> None:
    # pulumi/pulumi pkg/workspace/config.go mergeConfig: a project key declared with neither
    # `default` nor `value` is required, so only the keys every stack must set are declared.
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    declared = {k.split(":", 1)[1] for k in doc["config"] if k.startswith("osmo-backend:")}
    assert declared == {"cluster", "osmo"}
    assert declared < set(config._KEYS)  # pyright: ignore[reportPrivateUsage]
    for key in declared:
        assert set(doc["config"][f"osmo-backend:{key}"]) == {"description"}, key
        assert doc["config"][f"osmo-backend:{key}"]["description"].strip(), key


def test_every_project_key_is_documented_in_the_readme_and_the_schema() -> None:
    # The keys Pulumi.yaml no longer declares are documented in these two places instead.
    readme = (REPO / "README.md").read_text()
    schema = json.loads((REPO / "schema" / "stack-config.schema.json").read_text())
    for key in config._KEYS:  # pyright: ignore[reportPrivateUsage]
        assert f"osmo-backend:{key}" in schema["properties"]["config"]["properties"], key
        assert re.search(rf"`(osmo-backend:)?{key}[`.]", readme), key


def test_kubernetes_default_providers_are_disabled() -> None:
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    assert doc["config"]["pulumi:disable-default-providers"] == {
        "value": ["kubernetes", "aws", "gcp", "azure-native"]
    }
    assert doc["runtime"] == {
        "name": "python",
        "options": {"toolchain": "uv", "virtualenv": ".venv"},
    }
    assert doc["stackConfigDir"] == "stacks"
