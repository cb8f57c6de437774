"""Every manifest the plan writes validates against the Kubernetes OpenAPI schema of the minimum
supported version, strictly (unknown fields are errors)."""

import kubernetes_validate
import pytest
import yaml

from tests.stacks.conftest import Plans
from tests.stacks.test_reference_stacks import STACKS

MINIMUM_KUBERNETES = "1.30.0"
"""OSMO's minimum (DESIGN section 5)."""


@pytest.mark.parametrize("stack", STACKS)
def test_plan_manifests_are_valid_kubernetes_objects(stack: str, planned: Plans) -> None:
    manifests = sorted((planned(stack).out / "manifests").glob("*.yaml"))
    assert len(manifests) >= 7  # namespaces and the token Secret at least
    for path in manifests:
        document = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(document, MINIMUM_KUBERNETES, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    """Guards the test above against a validator that accepts anything."""
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labelz": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, MINIMUM_KUBERNETES, strict=True)
