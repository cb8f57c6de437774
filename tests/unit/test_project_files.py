"""Project files agree with the code: every config key is declared, every secret key is secret."""

import yaml

from components import config
from tests.harness import REPO


def test_every_project_config_key_is_declared_with_a_description() -> None:
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    declared = {k.split(":", 1)[1] for k in doc["config"] if k.startswith("osmo-backend:")}
    assert declared == set(config._KEYS)  # pyright: ignore[reportPrivateUsage]
    for key, declaration in doc["config"].items():
        if key.startswith("osmo-backend:"):
            assert declaration["description"].strip(), key


def test_credential_keys_are_declared_secret() -> None:
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    for key in config._SECRET_KEYS:  # pyright: ignore[reportPrivateUsage]
        assert doc["config"][f"osmo-backend:{key}"]["secret"] is True, key


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
