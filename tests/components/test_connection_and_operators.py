"""Connection and OperatorLayer under the recording engine: resources, providers, edges, secrets."""

import dataclasses
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components import backend
from components.config import BACKEND_TOKEN_KEY, PREVIOUS_BACKEND_TOKEN_KEY
from offline import engine, plan
from tests.harness import SAMPLE_KUBECONFIG, config, run_main

P = "urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend"
CONN = f"{P}$osmo-backend:index:Connection"
OPS = f"{P}$osmo-backend:index:OperatorLayer"
CLUSTER_PROVIDER = (
    f"{P}$osmo-backend:index:ExistingCluster$pulumi:providers:kubernetes::osmo-cluster-k8s"
)
CONTROL_PROVIDER = f"{CONN}$pulumi:providers:kubernetes::osmo-connection-control-plane-k8s"
SECRET = "kubernetes:core/v1:Secret"
RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
TOKEN = "T" * 43
OLD_TOKEN = "o" * 43
CONTROL_PLANE = {"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG), "namespace": "osmo"}


def secret_data(record: engine.ResourceRecord) -> dict[str, Any]:
    return engine.unwrap_secrets(record.raw_inputs)["stringData"]


def test_connection_and_operator_layer_register_exactly_these() -> None:
    rec = run_main(config())
    mine = {
        (r.type, r.name)
        for r in rec.resources
        if r.parent in (f"{CONN}::osmo-connection", f"{OPS}::osmo-operators")
    }
    assert mine == {
        (NAMESPACE, "osmo-connection-operator-ns"),
        (NAMESPACE, "osmo-connection-workflows-ns"),
        (SECRET, "osmo-connection-token"),
        ("kubernetes:networking.k8s.io/v1:NetworkPolicy", "osmo-connection-workflow-isolation"),
        (NAMESPACE, "osmo-operators-gpu-operator-ns"),
        (NAMESPACE, "osmo-operators-kai-scheduler-ns"),
        (RELEASE, "osmo-operators-backend-operator"),
        (RELEASE, "osmo-operators-gpu-operator"),
        (RELEASE, "osmo-operators-kai-scheduler"),
        ("random:index/randomBytes:RandomBytes", "osmo-connection-token-slot-0"),
    }


def test_every_in_cluster_resource_uses_the_cluster_provider_and_is_parented() -> None:
    rec = run_main(config())
    for record in rec.resources:
        if record.type.startswith("kubernetes:") and (CONN in record.urn or OPS in record.urn):
            assert record.provider == CLUSTER_PROVIDER, record.name
            assert record.options["deletedWith"] is None  # adopted cluster: nothing deleted with it


def test_namespaces_carry_pod_security_labels() -> None:
    rec = run_main(config(osmo={"backendTests": True}))
    labels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"] for r in rec.by_type(NAMESPACE)
    }
    for name in ("osmo-operator", "osmo-workflows", "osmo-test", "kai-scheduler"):
        assert labels[name]["pod-security.kubernetes.io/enforce"] == "baseline", name
        assert labels[name]["pod-security.kubernetes.io/warn"] == "restricted", name
    assert labels["gpu-operator"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_backend_operator_waits_for_namespaces_token_and_kai_and_nothing_else() -> None:
    rec = run_main(config(osmo={"backendTests": True}))
    backend = rec.get(RELEASE, "osmo-operators-backend-operator")
    assert backend.options["dependsOn"] == sorted(
        [
            rec.urn_of(NAMESPACE, "osmo-connection-operator-ns"),
            rec.urn_of(NAMESPACE, "osmo-connection-workflows-ns"),
            rec.urn_of(NAMESPACE, "osmo-connection-test-ns"),
            rec.urn_of(SECRET, "osmo-connection-token"),
            rec.urn_of(RELEASE, "osmo-operators-kai-scheduler"),
            rec.urn_of(RELEASE, "osmo-monitoring-crds"),
        ]
    )
    kai = rec.get(RELEASE, "osmo-operators-kai-scheduler")
    gpu = rec.get(RELEASE, "osmo-operators-gpu-operator")
    assert kai.dependencies == [rec.urn_of(NAMESPACE, "osmo-operators-kai-scheduler-ns")]
    # The GPU Operator waits for the monitoring CRDs (its DCGM ServiceMonitor), nothing else:
    # not for kube-prometheus-stack, which starts at the same time.
    assert gpu.dependencies == sorted(
        [
            rec.urn_of(NAMESPACE, "osmo-operators-gpu-operator-ns"),
            rec.urn_of(RELEASE, "osmo-monitoring-crds"),
        ]
    )
    # Nothing waits for a GPU node: no release depends on a node patch.
    patches = {r.urn for r in rec.by_type("kubernetes:core/v1:NodePatch")}
    for release in rec.by_type(RELEASE):
        assert not patches & set(release.dependencies)


def test_release_options_per_chart() -> None:
    rec = run_main(config())
    inputs = {r.name: r.inputs for r in rec.by_type(RELEASE)}
    kai = inputs["osmo-operators-kai-scheduler"]
    assert (kai["name"], kai["chart"], kai["version"]) == (
        "kai-scheduler",
        "oci://ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler",
        "v0.16.8",
    )
    assert "repositoryOpts" not in kai
    gpu = inputs["osmo-operators-gpu-operator"]
    assert (gpu["chart"], gpu["version"], gpu["repositoryOpts"]) == (
        "gpu-operator",
        "v25.10.1",
        {"repo": "https://helm.ngc.nvidia.com/nvidia"},
    )
    backend = inputs["osmo-operators-backend-operator"]
    assert (backend["name"], backend["namespace"], backend["version"]) == (
        "osmo-operator",
        "osmo-operator",
        "1.4.0",
    )
    for name, atomic, timeout in (
        ("osmo-operators-kai-scheduler", True, 600),
        ("osmo-operators-gpu-operator", True, 900),
        ("osmo-operators-backend-operator", False, 600),
    ):
        assert inputs[name]["atomic"] is atomic, name
        assert inputs[name]["cleanupOnFail"] is True, name
        assert inputs[name]["timeout"] == timeout, name
        assert inputs[name]["createNamespace"] is False, name
    assert backend["skipAwait"] is True
    assert kai["skipAwait"] is False


def test_user_overrides_are_merged_last() -> None:
    rec = run_main(
        config(
            operators={
                "backendOperator": {"values": {"global": {"logs": {"logLevel": "DEBUG"}}}},
                "kaiScheduler": {"values": {"scheduler": {"args": {"v": "2"}}}},
            }
        )
    )
    backend = rec.get(RELEASE, "osmo-operators-backend-operator").inputs["values"]
    assert backend["global"]["logs"] == {
        "logLevel": "DEBUG",
        "k8sLogLevel": "WARNING",
        "logFormat": "json",
    }
    kai = rec.get(RELEASE, "osmo-operators-kai-scheduler").inputs["values"]
    assert kai["scheduler"]["args"] == {
        "default-staleness-grace-period": "-1s",
        "update-pod-eviction-condition": "true",
        "v": "2",
    }


def test_control_plane_gets_the_same_secret_token_through_its_own_provider() -> None:
    rec = run_main(config(osmo={"controlPlane": CONTROL_PLANE}))
    compute = rec.get(SECRET, "osmo-connection-token")
    control = rec.get(SECRET, "osmo-connection-control-plane-token")
    assert compute.provider == CLUSTER_PROVIDER
    assert control.provider == CONTROL_PROVIDER
    assert control.parent == f"{P}$osmo-backend:index:Connection::osmo-connection"
    assert compute.inputs["stringData"] == control.inputs["stringData"] == "[secret]"
    token = secret_data(compute)["token"]
    assert secret_data(control) == {"token": token}
    assert len(token) == 43
    assert control.inputs["metadata"] == {
        "name": "osmo-backend-token-lab-backend",
        "namespace": "osmo",
    }
    provider = rec.get("pulumi:providers:kubernetes", "osmo-connection-control-plane-k8s")
    assert provider.inputs == {"clusterIdentifier": "svc", "kubeconfig": "[secret]"}
    # The compute-side children never inherit the control-plane provider.
    for record in rec.resources:
        if record.provider == CONTROL_PROVIDER:
            assert record.name == "osmo-connection-control-plane-token"


def test_rotation_overlap_keeps_the_previous_generated_token_on_the_control_plane() -> None:
    before = run_main(config(osmo={"controlPlane": CONTROL_PLANE}))
    old = secret_data(before.get(SECRET, "osmo-connection-token"))["token"]
    rotating = run_main(
        config(osmo={"controlPlane": CONTROL_PLANE, "token": {"generation": 1, "overlap": True}})
    )
    slots = {
        r.name: r.inputs["keepers"]
        for r in rotating.by_type("random:index/randomBytes:RandomBytes")
    }
    assert slots == {
        "osmo-connection-token-slot-0": {"generation": "0"},
        "osmo-connection-token-slot-1": {"generation": "1"},
    }
    new = secret_data(rotating.get(SECRET, "osmo-connection-token"))["token"]
    assert new != old
    assert secret_data(rotating.get(SECRET, "osmo-connection-control-plane-token")) == {
        "token": new,
        "previous-token": old,
    }
    values = rotating.get(RELEASE, "osmo-operators-backend-operator").inputs["values"]
    for service in ("backendListener", "backendWorker"):
        assert values["services"][service]["extraPodAnnotations"] == {
            "osmo-backend.nvidia.com/token-generation": "1"
        }
    finished = run_main(config(osmo={"controlPlane": CONTROL_PLANE, "token": {"generation": 1}}))
    assert secret_data(finished.get(SECRET, "osmo-connection-control-plane-token")) == {
        "token": new
    }


def test_config_token_rotation_writes_token_and_previous_token() -> None:
    values = config(
        osmo={"controlPlane": CONTROL_PLANE, "token": {"source": "config", "overlap": True}}
    )
    values[BACKEND_TOKEN_KEY] = TOKEN
    values[PREVIOUS_BACKEND_TOKEN_KEY] = OLD_TOKEN
    rec = run_main(values, secret_keys=(BACKEND_TOKEN_KEY, PREVIOUS_BACKEND_TOKEN_KEY))
    assert secret_data(rec.get(SECRET, "osmo-connection-token")) == {"token": TOKEN}
    assert secret_data(rec.get(SECRET, "osmo-connection-control-plane-token")) == {
        "token": TOKEN,
        "previous-token": OLD_TOKEN,
    }
    assert not rec.by_type("random:index/randomBytes:RandomBytes")


def test_existing_token_secret_is_only_referenced() -> None:
    rec = run_main(config(osmo={"token": {"source": "existing", "secretName": "mine"}}))
    assert not rec.by_type(SECRET)
    values = rec.get(RELEASE, "osmo-operators-backend-operator").inputs["values"]
    assert values["global"]["accountTokenSecret"] == "mine"


def test_pull_secrets_in_every_osmo_namespace() -> None:
    values = config(osmo={"backendTests": True})
    values["osmo-backend:ngcApiKey"] = "nvapi-secret-key"
    rec = run_main(values, secret_keys=("osmo-backend:ngcApiKey",))
    pulls = {
        r.name: r
        for r in rec.by_type(SECRET)
        if r.inputs["type"] == "kubernetes.io/dockerconfigjson"
    }
    assert sorted(pulls) == [
        "osmo-connection-operator-pull-secret",
        "osmo-connection-test-pull-secret",
        "osmo-connection-workflows-pull-secret",
    ]
    for record in pulls.values():
        assert record.inputs["metadata"]["name"] == "nvcr-secret"
        assert record.inputs["stringData"] == "[secret]"
    backend = rec.get(RELEASE, "osmo-operators-backend-operator")
    assert set(backend.options["dependsOn"]) >= {r.urn for r in pulls.values()}


def test_gpu_operator_off_creates_the_runtime_class_stub_unless_told_not_to() -> None:
    rec = run_main(config(operators={"gpuOperator": {"enabled": False}}))
    assert [r.name for r in rec.by_type(RELEASE) if "operators" in r.name] == [
        "osmo-operators-kai-scheduler",
        "osmo-operators-backend-operator",
    ]
    (stub,) = rec.by_type("kubernetes:node.k8s.io/v1:RuntimeClass")
    assert stub.inputs["metadata"] == {"name": "nvidia"}
    assert stub.inputs["handler"] == "runc"
    rec = run_main(config(operators={"gpuOperator": {"enabled": False, "runtimeClassStub": False}}))
    assert not rec.by_type("kubernetes:node.k8s.io/v1:RuntimeClass")
    rec = run_main(config())
    assert not rec.by_type("kubernetes:node.k8s.io/v1:RuntimeClass")


def test_a_planted_token_appears_in_no_plan_file_log_or_output(tmp_path: Path) -> None:
    values = config(osmo={"controlPlane": CONTROL_PLANE, "token": {"source": "config"}})
    values[BACKEND_TOKEN_KEY] = TOKEN
    values["osmo-backend:ngcApiKey"] = "nvapi-planted-key"
    rec = run_main(values, secret_keys=(BACKEND_TOKEN_KEY, "osmo-backend:ngcApiKey"))
    assert secret_data(rec.get(SECRET, "osmo-connection-token")) == {"token": TOKEN}
    plan.write(rec, tmp_path)
    texts = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    texts += [str(rec.outputs), str(rec.logs), "\n".join(plan.tree(rec))]
    assert len(texts) > 10
    for text in texts:
        assert TOKEN not in text
        assert "nvapi-planted-key" not in text
    for release in rec.by_type(RELEASE):
        assert TOKEN not in str(engine.unwrap_secrets(release.raw_inputs))
    assert not rec.by_type("kubernetes:core/v1:ConfigMap")


def test_a_generated_token_appears_in_no_plan_file(tmp_path: Path) -> None:
    rec = run_main(config(osmo={"controlPlane": CONTROL_PLANE}))
    token = secret_data(rec.get(SECRET, "osmo-connection-token"))["token"]
    plan.write(rec, tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(), path


def test_every_release_with_pods_waits_for_the_cluster_workload_dependencies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`ClusterHandle.workload_dependencies` (the operator pool where the provider does not wait
    for it) reaches every release of the operator layer and monitoring: their pods cannot be
    ready before that pool, and destroy removes them while it still runs. The CRDs release runs
    no pod and stays off it."""
    real = backend._cluster  # pyright: ignore[reportPrivateUsage]

    def with_pool(name: str, spec: Any, kubeconfig: Any, opts: pulumi.ResourceOptions) -> Any:
        cluster = real(name, spec, kubeconfig, opts)
        pool = k8s.core.v1.ConfigMap(
            "operator-pool",
            data={"a": "b"},
            opts=pulumi.ResourceOptions(provider=cluster.handle.provider),
        )
        cluster.handle = dataclasses.replace(cluster.handle, workload_dependencies=(pool,))
        return cluster

    monkeypatch.setattr(backend, "_cluster", with_pool)
    rec = run_main(config(monitoring={"dashboard": {"enabled": True}}))
    pool = rec.urn_of("kubernetes:core/v1:ConfigMap", "operator-pool")
    waiting = {r.name for r in rec.by_type(RELEASE) if pool in r.options["dependsOn"]}
    assert waiting == {
        "osmo-operators-kai-scheduler",
        "osmo-operators-gpu-operator",
        "osmo-operators-backend-operator",
        "osmo-monitoring-prometheus-stack",
        "osmo-monitoring-ephemeral-storage-metrics",
        "osmo-monitoring-loki",
        "osmo-monitoring-alloy",
        "osmo-monitoring-dashboard",
    }
    assert pool not in rec.get(RELEASE, "osmo-monitoring-crds").dependencies


def test_no_workload_dependencies_adds_no_edge() -> None:
    rec = run_main(config())
    kai = rec.get(RELEASE, "osmo-operators-kai-scheduler")
    assert kai.options["dependsOn"] == []
