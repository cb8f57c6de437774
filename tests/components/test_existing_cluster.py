"""ExistingCluster and OsmoBackend under the recording engine: exact resources, wiring, secrecy."""

import pulumi
import pytest
import yaml

from offline import engine
from tests.harness import SAMPLE_TOKENS, config, run_main

BACKEND = "urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend::osmo"
CLUSTER = (
    "urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend"
    "$osmo-backend:index:ExistingCluster::osmo-cluster"
)
PROVIDER = (
    "urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend"
    "$osmo-backend:index:ExistingCluster$pulumi:providers:kubernetes::osmo-cluster-k8s"
)
NODE_PATCH = "kubernetes:core/v1:NodePatch"

ROLES = {
    "operator": {"nodes": ["cpu-01"]},
    "compute": {"nodes": ["cpu-02"]},
    "gpu": {"selector": {"pool": "dgx"}, "nodes": ["gpu-01"]},
}


def run_cluster(values: dict[str, object]) -> engine.Recording:
    """ExistingCluster alone (under a bare OsmoBackend-like parent is not needed)."""
    from components.clusters.existing.cluster import ExistingCluster
    from components.config import load_spec
    from tests.harness import REPO, encode

    spec = load_spec(encode(values), base_dir=REPO)
    return engine.run(
        lambda: ExistingCluster("osmo-cluster", {"spec": spec.cluster}),
        project="osmo-backend",
        stack="test",
    )


def test_without_node_lists_the_cluster_registers_only_its_provider() -> None:
    rec = run_cluster(config())
    assert [(r.type, r.name, r.parent) for r in rec.resources] == [
        ("osmo-backend:index:ExistingCluster", "osmo-cluster", None),
        (
            "pulumi:providers:kubernetes",
            "osmo-cluster-k8s",
            "urn:pulumi:test::osmo-backend::osmo-backend:index:ExistingCluster::osmo-cluster",
        ),
    ]


def test_the_cluster_is_a_child_of_the_backend() -> None:
    rec = run_main(config())
    assert rec.get("osmo-backend:index:OsmoBackend", "osmo").parent is None
    assert rec.get("osmo-backend:index:ExistingCluster", "osmo-cluster").parent == BACKEND


def test_provider_gets_the_minified_kubeconfig_as_a_secret_and_a_stable_identifier() -> None:
    rec = run_main(config())
    provider = rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    assert provider.urn == PROVIDER
    assert provider.parent == CLUSTER
    assert provider.inputs == {"clusterIdentifier": "lab", "kubeconfig": "[secret]"}
    assert provider.options["additionalSecretOutputs"] == ["kubeconfig"]
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs)["kubeconfig"])
    assert kubeconfig["current-context"] == "onprem-lab-admin"
    assert [c["name"] for c in kubeconfig["contexts"]] == ["onprem-lab-admin"]
    # Only the selected user's credential goes into state.
    assert [u["user"]["token"] for u in kubeconfig["users"]] == [SAMPLE_TOKENS[0]]


def test_the_identifier_does_not_follow_the_credential() -> None:
    """A re-issued credential (another context/user) must not replace the provider."""
    a = run_main(config()).get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    b = run_main(config(cluster={"context": "onprem-lab-readonly"})).get(
        "pulumi:providers:kubernetes", "osmo-cluster-k8s"
    )
    assert engine.unwrap_secrets(a.raw_inputs) != engine.unwrap_secrets(b.raw_inputs)
    assert a.inputs["clusterIdentifier"] == b.inputs["clusterIdentifier"] == "lab"


def test_listed_nodes_are_labelled_and_gpu_nodes_tainted_through_our_provider() -> None:
    rec = run_main(config(cluster={"nodeRoles": ROLES}))
    patches = {r.name: r for r in rec.by_type(NODE_PATCH)}
    assert sorted(patches) == [
        "osmo-cluster-node-cpu-01",
        "osmo-cluster-node-cpu-02",
        "osmo-cluster-node-gpu-01",
    ]
    for patch in patches.values():
        assert patch.parent == CLUSTER
        assert patch.provider == PROVIDER
        assert patch.options["deletedWith"] is None  # the adopted cluster outlives the stack
        assert patch.options["retainOnDelete"] is False
    assert patches["osmo-cluster-node-cpu-01"].inputs == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"labels": {"node-type": "operator"}, "name": "cpu-01"},
    }
    assert patches["osmo-cluster-node-gpu-01"].inputs == {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"labels": {"pool": "dgx"}, "name": "gpu-01"},
        "spec": {"taints": [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "value": "present"}]},
    }


def test_node_patches_never_force_ownership_of_taints() -> None:
    """Taints are an atomic list: forcing would silently drop taints another manager set."""
    rec = run_main(config(cluster={"nodeRoles": ROLES}))
    for patch in rec.by_type(NODE_PATCH):
        assert "annotations" not in patch.inputs["metadata"]


def test_stack_outputs_keep_the_kubeconfig_and_the_token_secret() -> None:
    rec = run_main(config())
    plain = {"osmo_service_values", "egress_allowlist"}
    # The generated token is exported (secret) so the service-side Secret can be made from it
    # when the stack has no controlPlane (issue 15).
    assert {k: v for k, v in rec.outputs.items() if k not in plain} == {
        "backend_name": "lab-backend",
        "backend_token": "[secret]",
        "cluster_name": "lab",
        "kubeconfig": "[secret]",
    }
    assert "services" in rec.outputs["osmo_service_values"]


def test_handle_exposes_roles_with_gpu_toleration() -> None:
    from components.backend import OsmoBackend
    from components.config import load_spec
    from tests.harness import REPO, encode

    spec = load_spec(encode(config(cluster={"nodeRoles": ROLES})), base_dir=REPO)
    handles: list[OsmoBackend] = []
    engine.run(
        lambda: handles.append(OsmoBackend("osmo", {"spec": spec})),
        project="osmo-backend",
        stack="test",
    )
    handle = handles[0].cluster
    assert handle.kind == "existing"
    assert handle.identifier == "lab"
    assert handle.deleted_with is None
    assert dict(handle.node_roles["gpu"].selector) == {"pool": "dgx"}
    assert handle.node_roles["gpu"].tolerations == (
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
    )
    assert handle.node_roles["operator"].tolerations == ()
    assert isinstance(handle.kubeconfig, pulumi.Output)


def test_invalid_config_registers_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rec = engine.Recording(project="osmo-backend", stack="test")
    values = config(cluster={"kubeconfig": str(tmp_path / "missing")}, osmo={"backendName": "X"})
    missing = str(tmp_path / "missing")
    with pytest.raises(pulumi.RunError) as err:
        run_main(values, into=rec)
    assert str(err.value).splitlines() == [
        f"osmo-backend:cluster.kubeconfig: kubeconfig file {missing!r} does not exist",
        "osmo-backend:osmo.backendName: 'X' is not a DNS-1123 label; use lowercase letters, "
        "digits and '-', starting and ending with a letter or digit",
    ]
    assert rec.resources == []
