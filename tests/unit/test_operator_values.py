"""Pure values builders of the operator layer, the Helm helper and the chart key index."""

from typing import Any

import pulumi
import pytest

from components import _helm, chart_keys, versions
from components.clusters.base import GPU_TOLERATION, ClusterHandle, NodeRole
from components.config import GpuStackSpec, OsmoSpec, TokenSpec
from components.operator import (
    KAI_SCHEDULER_ARGS,
    backend_operator_values,
    gpu_operator_values,
    kai_values,
)


def handle(
    driver: str = "operator", toolkit: str = "operator", operator_tolerations=()
) -> ClusterHandle:  # type: ignore[no-untyped-def]
    return ClusterHandle(
        name="c",
        kind="existing",
        identifier="c",
        kubeconfig=None,  # type: ignore[arg-type]
        provider=None,  # type: ignore[arg-type]
        node_roles={
            "operator": NodeRole({"node-type": "operator"}, tuple(operator_tolerations)),
            "gpu": NodeRole({"node-type": "gpu"}, (GPU_TOLERATION,)),
        },
        gpu_stack=GpuStackSpec(driver=driver, toolkit=toolkit),  # type: ignore[arg-type]
    )


def osmo(**changes: Any) -> OsmoSpec:
    base: dict[str, Any] = {
        "backend_name": "lab",
        "service_url": "https://osmo.example.com",
        "router_address": "wss://osmo.example.com",
        "image_tag": "6.4.0",
        "token": TokenSpec(source="generate", credential_name="lab", secret_name="tok"),
        "pool": "lab",
    }
    base.update(changes)
    return OsmoSpec(**base)


def test_kai_gets_osmo_scheduler_flags_where_v015_reads_them() -> None:
    values = kai_values(handle())
    # The chart labels the reservation namespace it creates with namespaceLabels only
    # (KAI-Scheduler v0.16.8 templates/services/resourcereservation-namespace.yaml).
    assert values == {
        "global": {
            "nodeSelector": {"node-type": "operator"},
            "tolerations": [],
            "resourceReservation": {
                "namespaceLabels": {
                    "app.kubernetes.io/managed-by": "osmo-backend",
                    "pod-security.kubernetes.io/enforce": "baseline",
                    "pod-security.kubernetes.io/warn": "restricted",
                    "pod-security.kubernetes.io/audit": "restricted",
                }
            },
        },
        "scheduler": {
            "args": {
                "default-staleness-grace-period": "-1s",
                "update-pod-eviction-condition": "true",
            }
        },
    }
    assert all(isinstance(v, str) for v in KAI_SCHEDULER_ARGS.values())
    assert "additionalArgs" not in values["scheduler"]


def test_gpu_operator_installs_driver_and_toolkit_only_when_the_host_lacks_them() -> None:
    assert gpu_operator_values(handle()) == {
        "driver": {"enabled": True},
        "toolkit": {"enabled": True},
        "operator": {"nodeSelector": {"node-type": "operator"}},
    }
    host = gpu_operator_values(handle(driver="host", toolkit="host"))
    assert host["driver"] == {"enabled": False}
    assert host["toolkit"] == {"enabled": False}
    mixed = gpu_operator_values(handle(driver="host"))
    assert (mixed["driver"], mixed["toolkit"]) == ({"enabled": False}, {"enabled": True})


def test_gpu_operator_tolerates_the_operator_pool_taints() -> None:
    taint = {"key": "ops", "operator": "Exists", "effect": "NoSchedule"}
    values = gpu_operator_values(handle(operator_tolerations=[taint]))
    assert values["operator"]["tolerations"] == [taint]


def test_backend_operator_values_fix_every_bad_chart_default() -> None:
    values = backend_operator_values(osmo(), handle())
    assert values["global"] == {
        "osmoImageTag": "6.4.0",
        "serviceUrl": "https://osmo.example.com",
        "loginMethod": "token",
        "accountTokenSecret": "tok",
        "accountTokenSecretKey": "token",
        "agentNamespace": "osmo-operator",
        "backendNamespace": "osmo-workflows",
        "backendName": "lab",
        "includeNamespaceUsage": "",
        "nodeSelector": {"node-type": "operator"},
        "tolerations": [],
        "logs": {"logLevel": "INFO", "k8sLogLevel": "WARNING", "logFormat": "json"},
    }
    assert values["backendTestRunner"] == {"enabled": False}
    assert values["podMonitor"] == {"enabled": False}
    for service in ("backendListener", "backendWorker"):
        assert values["services"][service]["extraPodAnnotations"] == {
            "osmo-backend.nvidia.com/token-generation": "0"
        }


def test_backend_operator_tests_pull_secret_and_generation() -> None:
    token = TokenSpec(source="generate", credential_name="lab", secret_name="tok", generation=3)
    values = backend_operator_values(
        osmo(backend_tests=True, image_pull_secret="nvcr-secret", token=token),
        handle(),
    )
    assert values["global"]["backendTestNamespace"] == "osmo-test"
    assert values["global"]["imagePullSecret"] == "nvcr-secret"
    assert values["backendTestRunner"] == {"enabled": True}
    annotation = values["services"]["backendWorker"]["extraPodAnnotations"]
    assert annotation == {"osmo-backend.nvidia.com/token-generation": "3"}


@pytest.mark.parametrize(
    ("name", "builder"),
    [
        ("kai-scheduler", lambda: kai_values(handle())),
        (
            "gpu-operator",
            lambda: gpu_operator_values(handle(operator_tolerations=[GPU_TOLERATION])),
        ),
        (
            "backend-operator",
            lambda: backend_operator_values(
                osmo(backend_tests=True, namespaces={"test": "t"}, image_pull_secret="p"), handle()
            ),
        ),
    ],
)
def test_every_key_we_set_is_read_by_the_pinned_chart(name: str, builder: Any) -> None:
    chart = versions.CHARTS[name]
    index = chart_keys.load(name, chart.version)
    assert chart_keys.unknown_keys(index, builder()) == []


def test_key_index_rejects_typos_and_accepts_free_form_maps() -> None:
    index = chart_keys.load("backend-operator", versions.BACKEND_OPERATOR.version)
    assert chart_keys.unknown_keys(
        index,
        {
            "global": {"loginMethd": "token", "nodeSelector": {"any/label": "x"}},
            "services": {"backendWorker": {"extraPodAnnotations": {"a": "b"}}},
            "scheduler": {"additionalArgs": ["--x"]},
        },
    ) == ["global.loginMethd", "scheduler.additionalArgs"]


def test_kai_additional_args_from_osmo_docs_is_not_read_by_the_chart() -> None:
    index = chart_keys.load("kai-scheduler", versions.KAI_SCHEDULER.version)
    assert chart_keys.unknown_keys(index, {"scheduler": {"additionalArgs": ["-v"]}}) == [
        "scheduler.additionalArgs"
    ]
    assert chart_keys.unknown_keys(index, {"scheduler": {"args": {"v": "1"}}}) == []


def test_deep_merge_merges_maps_and_replaces_lists() -> None:
    base = {"a": {"b": 1, "c": [1, 2]}, "d": 0}
    merged = _helm.deep_merge(base, {"a": {"c": [3], "e": False}, "d": None})
    assert merged == {"a": {"b": 1, "c": [3], "e": False}, "d": None}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": 0}


@pytest.mark.parametrize(
    ("name", "ok"),
    [("kai-scheduler", True), ("a" * 53, True), ("a" * 54, False), ("Bad", False), ("-x", False)],
)
def test_release_names_are_dns_labels_of_at_most_53(name: str, ok: bool) -> None:
    assert (_helm.release_name_problem(name) is None) is ok


@pytest.mark.parametrize("version", ["latest", "1.x", ">=1.0.0", "1.0", "", "v1.2.3.4"])
def test_charts_must_be_pinned_exactly(version: str) -> None:
    with pytest.raises(ValueError, match="is not an exact SemVer"):
        versions.Chart(chart="c", version=version, repository=None, source="s")


@pytest.mark.parametrize("version", ["1.4.0", "v0.16.8", "v25.10.1", "1.0.0-rc.1"])
def test_exact_versions_are_accepted(version: str) -> None:
    assert (
        versions.Chart(chart="c", version=version, repository=None, source="s").version == version
    )


def test_every_pinned_chart_has_a_committed_key_index() -> None:
    # The CRDs chart has one switch per CRD and an annotations map: 22 keys at 31.0.1.
    small = {"prometheus-operator-crds": 20}
    for name, chart in versions.CHARTS.items():
        index = chart_keys.load(name, chart.version)
        assert index["chart"] == name
        assert index["version"] == chart.version
        assert len(index["keys"]) > small.get(name, 50), name


def test_release_helper_refuses_an_orphan_release() -> None:
    with pytest.raises(ValueError, match="needs a parent component"):
        _helm.release(
            "x",
            release_name="x",
            chart=versions.KAI_SCHEDULER,
            namespace="ns",
            values={},
            overrides={},
            timeout_seconds=1,
            atomic=True,
            opts=pulumi.ResourceOptions(),
        )


def test_release_helper_refuses_a_bad_release_name() -> None:
    with pytest.raises(ValueError, match="at most 53"):
        _helm.release(
            "x",
            release_name="x" * 60,
            chart=versions.KAI_SCHEDULER,
            namespace="ns",
            values={},
            overrides={},
            timeout_seconds=1,
            atomic=True,
            opts=pulumi.ResourceOptions(),
        )
