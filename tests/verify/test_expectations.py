"""What verify expects, pinned to what the program creates (verify imports no provider SDK, so
its copies of labels, taints and names are compared with the components' own here)."""

import dataclasses
from typing import Any

import pytest

from components import connection
from components.clusters.aks import cluster as aks
from components.clusters.base import API_TAINT_EFFECTS
from components.clusters.eks import cluster as eks
from components.clusters.eks.config import EksClusterSpec, EksNodePoolSpec
from components.clusters.gke import cluster as gke
from components.clusters.gke.config import GkeNodePoolSpec
from components.config import StackSpec, load_spec
from components.config._rules import POOL_LABEL, Taint
from components.config.operators import ReleaseSpec
from offline import verify
from offline.stackfile import find_project, load_stack_config
from tests.harness import REPO
from tests.verify.apiserver import node

REFERENCE = ("aws-usw2", "gcp-usc1", "azure-eus", "onprem-lab")


def spec_of(stack: str) -> StackSpec:
    project = find_project(REPO)
    config = load_stack_config(project, project.stack_file(stack))
    return load_spec(config.values, config.secret_keys, base_dir=project.dir)


def with_extras(pool: Any) -> Any:
    """The pool with extra labels and taints of its own (`nodePools[].labels/taints`)."""
    return pool.model_copy(
        update={
            "labels": {"team": "vision"},
            "taints": (Taint("dedicated", "vision", "NoExecute"),),
        }
    )


@pytest.mark.parametrize("stack", ["aws-usw2", "gcp-usc1", "azure-eus"])
@pytest.mark.parametrize("extras", [False, True])
def test_cloud_pool_labels_and_taints_are_the_components(stack: str, extras: bool) -> None:
    cluster = spec_of(stack).cluster
    assert not isinstance(cluster, verify.ExistingClusterSpec)
    if extras:
        pools = tuple(with_extras(p) for p in cluster.node_pools)
        cluster = cluster.model_copy(update={"node_pools": pools})
    expected = {r.role: r for r in verify.expected_roles(cluster)}
    for pool in cluster.node_pools:
        labels, taints = expected[pool.role].wants({verify.POOL_LABEL: pool.name})
        if isinstance(pool, EksNodePoolSpec):
            made, made_taints = eks.node_labels(pool), eks.node_taints(pool)
            wanted: list[Any] = [
                {"key": t.key, "value": t.value, "effect": API_TAINT_EFFECTS[t.effect]}
                for t in taints
            ]
        elif isinstance(pool, GkeNodePoolSpec):
            made, made_taints = gke.node_labels(pool), gke.node_taints(pool)
            wanted = [
                {"key": t.key, "value": t.value, "effect": API_TAINT_EFFECTS[t.effect]}
                for t in taints
            ]
        else:
            made, made_taints = aks.node_labels(pool), aks.node_taints(pool)
            wanted = [str(t) for t in taints]
        assert dict(labels) == made
        assert wanted == made_taints
        assert ("team" in labels) is extras


def test_a_node_missing_its_pools_own_taint_fails() -> None:
    cluster = spec_of("aws-usw2").cluster
    assert isinstance(cluster, EksClusterSpec)
    cluster = cluster.model_copy(
        update={"node_pools": tuple(with_extras(p) for p in cluster.node_pools)}
    )
    operator = next(r for r in verify.expected_roles(cluster) if r.role == "operator")
    labels = {"node-type": "operator", verify.POOL_LABEL: "operator", "team": "vision"}
    nodes = [node(f"n{i}", labels) for i in (1, 2)]
    check = verify.node_check(operator, nodes)
    assert (check.state, check.detail) == (
        "FAILED",
        "n1 lacks taint dedicated=vision:NoExecute, n2 lacks taint dedicated=vision:NoExecute",
    )


def test_pool_label_is_the_configs() -> None:
    assert verify.POOL_LABEL == POOL_LABEL


def test_existing_nodes_are_labelled_and_gpu_nodes_tainted_as_the_patch_does() -> None:
    from components.clusters.existing.cluster import node_patch_body

    cluster = spec_of("onprem-lab").cluster
    assert isinstance(cluster, verify.ExistingClusterSpec)
    roles = {r.role: r for r in verify.expected_roles(cluster)}
    for spec in cluster.node_roles:
        for name in spec.nodes:
            metadata, node_spec = node_patch_body(spec, name)
            assert dict(roles[spec.role].labels) == metadata.get("labels")
            taints: Any = [] if node_spec is None else node_spec.get("taints")
            expected = [
                {"key": t.key, "value": t.value, "effect": t.effect}
                for t in roles[spec.role].taints
            ]
            assert taints == expected


def test_role_minimums() -> None:
    aws = {r.role: r.min_nodes for r in verify.expected_roles(spec_of("aws-usw2").cluster)}
    assert aws == {"operator": 2, "compute": 0, "gpu": 0}
    lab = {r.role: r.min_nodes for r in verify.expected_roles(spec_of("onprem-lab").cluster)}
    assert lab == {"operator": 1, "compute": 2, "gpu": 2, "jetson": 0}


def test_control_plane_token_key_is_the_connections() -> None:
    assert verify.CONTROL_PLANE_TOKEN_KEY == connection.CONTROL_PLANE_TOKEN_KEY


def test_backend_deployments_follow_the_charts_naming() -> None:
    """NVIDIA/OSMO 1da31e19e deployments/charts/backend-operator/templates/
    backend-listener.yaml:18-23: `{{$name := or .Values.global.name .Release.Name}}`, Deployment
    `$name-<serviceName>`; values.yaml:242 and :363 give the serviceNames."""
    spec = spec_of("aws-usw2")
    assert verify.backend_deployments(spec) == {
        "backend-listener": "osmo-operator-osmo-backend-listener",
        "backend-worker": "osmo-operator-osmo-backend-worker",
    }
    values = {
        "global": {"name": "bo"},
        "services": {"backendWorker": {"serviceName": "w"}},
    }
    release = ReleaseSpec(release_name="rel", namespace="osmo-operator", values=values)
    operators = spec.operators.model_copy(update={"backend_operator": release})
    renamed = dataclasses.replace(spec, operators=operators)
    assert verify.backend_deployments(renamed) == {
        "backend-listener": "bo-osmo-backend-listener",
        "backend-worker": "bo-w",
    }


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900.0), ("90s", 90.0), ("1h30m", 5400.0), ("600", 600.0), ("0s", 0.0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert verify.parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "15 m", "-5m", "1d"])
def test_not_durations(text: str) -> None:
    assert verify.parse_duration(text) is None


def test_verify_loads_no_provider_sdk() -> None:
    """verify starts fast: the Kubernetes client and the config model, no Pulumi provider SDK."""
    import subprocess
    import sys

    code = (
        "import sys, offline.verify_command, offline.verify_service, offline.cli;"
        "print(sorted(m for m in sys.modules if m.startswith(('pulumi_', 'pulumiverse'))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
