"""Every manifest the plan writes validates against the Kubernetes OpenAPI schema of the minimum
supported version, strictly (unknown fields are errors)."""

from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from offline import cli
from tests.harness import REPO
from tests.stacks.test_reference_stacks import STACKS

MINIMUM_KUBERNETES = "1.30.0"
"""OSMO's minimum (DESIGN section 5)."""


@pytest.mark.parametrize("stack", STACKS)
def test_plan_manifests_are_valid_kubernetes_objects(stack: str, tmp_path: Path) -> None:
    args = ["--project-dir", str(REPO), "plan", "--stack", stack, "--out", str(tmp_path)]
    assert cli.main(args) == 0
    manifests = sorted((tmp_path / "manifests").glob("*.yaml"))
    assert len(manifests) >= 7  # namespaces and the token Secret at least
    for path in manifests:
        document = yaml.safe_load(path.read_text())
        kubernetes_validate.validate(document, MINIMUM_KUBERNETES, strict=True)


def test_the_validator_rejects_an_unknown_field() -> None:
    """Guards the test above against a validator that accepts anything."""
    bad = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "labelz": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, MINIMUM_KUBERNETES, strict=True)
