"""Monitoring under the recording engine: releases, CRD ordering, namespaces, off switch."""

from components.monitoring import viewer_login
from tests.harness import config, run_main

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
STACK = "osmo-monitoring-prometheus-stack"
CRDS = "osmo-monitoring-crds"
MON = "urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend$osmo-backend:index:Monitoring"
DASHBOARD = {"enabled": True, "ingress": {"host": "k8s.example.com"}}


def values(rec, name):  # type: ignore[no-untyped-def]
    return rec.get(RELEASE, name).inputs["values"]


def test_monitoring_releases_and_their_charts() -> None:
    rec = run_main(config(monitoring={"dashboard": DASHBOARD}))
    releases = {
        r.name: (r.inputs["name"], r.inputs["chart"], r.inputs["version"], r.inputs["namespace"])
        for r in rec.by_type(RELEASE)
        if r.parent == f"{MON}::osmo-monitoring"
    }
    assert releases == {
        CRDS: ("prometheus-operator-crds", "prometheus-operator-crds", "31.0.1", "monitoring"),
        STACK: ("kube-prometheus-stack", "kube-prometheus-stack", "88.5.3", "monitoring"),
        "osmo-monitoring-ephemeral-storage-metrics": (
            "ephemeral-storage-metrics",
            "k8s-ephemeral-storage-metrics",
            "1.21.3",
            "monitoring",
        ),
        "osmo-monitoring-loki": ("loki", "loki", "18.11.0", "monitoring"),
        "osmo-monitoring-alloy": ("alloy", "alloy", "1.11.1", "monitoring"),
        "osmo-monitoring-dashboard": ("headlamp", "headlamp", "0.45.0", "monitoring"),
    }
    assert rec.get(RELEASE, STACK).inputs["timeout"] == 900


def test_the_crds_go_first_and_every_monitor_user_waits_for_them_alone() -> None:
    """The Prometheus Operator CRDs are their own release; kube-prometheus-stack, the
    ephemeral-storage exporter (ServiceMonitor), the GPU Operator (DCGM ServiceMonitor) and the
    backend-operator (PodMonitor) wait for it and not for each other, so they start together.
    Destroy runs in reverse dependency order (pulumi/pulumi pkg/resource/deploy
    step_generator.go ScheduleDeletes), so every monitor user goes before the CRDs release."""
    rec = run_main(config(osmo={"backendTests": True}))
    crds = rec.urn_of(RELEASE, CRDS)
    ns = rec.urn_of(NAMESPACE, "osmo-monitoring-ns")

    def depends(name: str) -> set[str]:
        return set(rec.get(RELEASE, name).options["dependsOn"])

    # The CRDs release waits for nothing but its namespace (no pods, no node pool).
    assert rec.get(RELEASE, CRDS).dependencies == [ns]
    assert rec.get(RELEASE, CRDS).options["dependsOn"] == []
    assert depends(STACK) == {
        rec.urn_of(NAMESPACE, "osmo-monitoring-agents-ns"),
        rec.urn_of(
            "kubernetes:rbac.authorization.k8s.io/v1:Role", "osmo-monitoring-grafana-sidecar-role"
        ),
        crds,
    }
    assert depends("osmo-monitoring-ephemeral-storage-metrics") == {crds}
    assert depends("osmo-operators-gpu-operator") == {crds}
    assert depends("osmo-operators-backend-operator") == {
        rec.urn_of(NAMESPACE, "osmo-connection-operator-ns"),
        rec.urn_of(NAMESPACE, "osmo-connection-workflows-ns"),
        rec.urn_of(NAMESPACE, "osmo-connection-test-ns"),
        rec.urn_of("kubernetes:core/v1:Secret", "osmo-connection-token"),
        rec.urn_of(RELEASE, "osmo-operators-kai-scheduler"),
        crds,
    }
    for name in ("osmo-monitoring-loki", "osmo-monitoring-alloy", "osmo-operators-kai-scheduler"):
        assert depends(name) == set(), name
    # Nothing but the namespace's own ordering waits for the stack itself.
    stack = rec.urn_of(RELEASE, STACK)
    assert [r.name for r in rec.resources if stack in r.dependencies] == []
    patches = {r.urn for r in rec.by_type("kubernetes:core/v1:NodePatch")}
    for release in rec.by_type(RELEASE):
        assert not patches & set(release.dependencies), release.name


def test_the_crds_release_is_atomic_fast_adopting_and_kept_on_uninstall() -> None:
    rec = run_main(config())
    crds = rec.get(RELEASE, CRDS).inputs
    assert (crds["atomic"], crds["cleanupOnFail"], crds["timeout"], crds["skipAwait"]) == (
        True,
        True,
        300,
        False,
    )
    # Adopts CRDs an earlier kube-prometheus-stack installed from its crds/ directory (Helm
    # --take-ownership; pulumi/pulumi-kubernetes#4476 added takeOwnership to helm.v3.Release).
    assert crds["takeOwnership"] is True
    assert crds["repositoryOpts"] == {"repo": "https://prometheus-community.github.io/helm-charts"}
    assert crds["values"] == {"crds": {"annotations": {"helm.sh/resource-policy": "keep"}}}
    assert values(rec, STACK)["crds"] == {"enabled": False}
    # Only the CRDs release adopts existing objects.
    adopting = [r.name for r in rec.by_type(RELEASE) if "takeOwnership" in r.inputs]
    assert adopting == [CRDS]


def test_metrics_wiring_is_on_with_monitoring() -> None:
    rec = run_main(config())
    assert values(rec, "osmo-operators-backend-operator")["podMonitor"] == {"enabled": True}
    assert values(rec, "osmo-operators-gpu-operator")["dcgmExporter"] == {
        "serviceMonitor": {"enabled": True}
    }


def test_monitoring_off_creates_none_of_it_and_leaves_the_pod_monitor_off() -> None:
    rec = run_main(config(monitoring={"enabled": False}))
    assert not [r for r in rec.resources if "Monitoring" in r.urn]
    assert values(rec, "osmo-operators-backend-operator")["podMonitor"] == {"enabled": False}
    assert "dcgmExporter" not in values(rec, "osmo-operators-gpu-operator")
    stackless = rec.get(RELEASE, "osmo-operators-backend-operator").options["dependsOn"]
    assert not [u for u in stackless if "prometheus-stack" in u]
    assert "grafana_url" not in rec.outputs


def test_logs_none_skips_loki_and_alloy() -> None:
    rec = run_main(config(monitoring={"logs": {"backend": "none"}}))
    names = {r.name for r in rec.by_type(RELEASE)}
    assert "osmo-monitoring-loki" not in names
    assert "osmo-monitoring-alloy" not in names


def test_ephemeral_storage_metrics_off_skips_its_exporter() -> None:
    rec = run_main(config(monitoring={"ephemeralStorageMetrics": {"enabled": False}}))
    names = {r.name for r in rec.by_type(RELEASE)}
    assert "osmo-monitoring-ephemeral-storage-metrics" not in names
    assert "osmo-monitoring-prometheus-stack" in names


def test_only_the_node_agents_namespace_is_privileged() -> None:
    rec = run_main(config())
    labels = {
        r.inputs["metadata"]["name"]: r.inputs["metadata"]["labels"][
            "pod-security.kubernetes.io/enforce"
        ]
        for r in rec.by_type(NAMESPACE)
    }
    assert labels == {
        "osmo-operator": "baseline",
        "osmo-workflows": "baseline",
        "kai-scheduler": "baseline",
        "gpu-operator": "privileged",
        "monitoring": "baseline",
        "monitoring-agents": "privileged",
    }


def test_web_ui_login_is_a_view_only_service_account() -> None:
    rec = run_main(config(monitoring={"dashboard": DASHBOARD}))
    account = rec.get("kubernetes:core/v1:ServiceAccount", "osmo-monitoring-viewer")
    assert account.inputs["metadata"] == {
        "name": "osmo-dashboard-viewer",
        "namespace": "monitoring",
    }
    binding = rec.get(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "osmo-monitoring-viewer-binding",
    )
    assert binding.inputs["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "ClusterRole",
        "name": "view",
    }
    assert binding.inputs["subjects"] == [
        {"kind": "ServiceAccount", "name": "osmo-dashboard-viewer", "namespace": "monitoring"}
    ]
    # No long-lived token Secret (issue 20 item 8): logins are TokenRequest tokens that expire.
    assert not [r for r in rec.by_type("kubernetes:core/v1:Secret") if "viewer" in r.name]
    assert viewer_login("monitoring") == (
        "kubectl -n monitoring create token osmo-dashboard-viewer --duration=8h"
    )
    assert values(rec, "osmo-monitoring-dashboard")["clusterRoleBinding"] == {"create": False}


def test_urls_reach_the_service_values_and_the_outputs() -> None:
    rec = run_main(
        config(
            monitoring={
                "grafana": {"url": "https://grafana.example.com"},
                "dashboard": DASHBOARD,
            }
        )
    )
    assert rec.outputs["grafana_url"] == "https://grafana.example.com"
    assert rec.outputs["dashboard_url"] == "https://k8s.example.com"
    backend = rec.outputs["osmo_service_values"]["services"]["configs"]["backends"]["lab-backend"]
    assert backend["grafana_url"] == "https://grafana.example.com"
    assert backend["dashboard_url"] == "https://k8s.example.com"


def test_the_grafana_sidecars_read_configmaps_of_their_namespace_only() -> None:
    rec = run_main(config())
    role = rec.get(
        "kubernetes:rbac.authorization.k8s.io/v1:Role", "osmo-monitoring-grafana-sidecar-role"
    )
    assert role.raw_inputs["metadata"] == {
        "name": "grafana-sidecar-configmaps",
        "namespace": "monitoring",
    }
    assert role.raw_inputs["rules"] == [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
    ]
    values = rec.get(RELEASE, STACK).raw_inputs["values"]["grafana"]
    assert values["rbac"]["useExistingRole"] == "grafana-sidecar-configmaps"


def test_loki_prometheus_and_alertmanager_admit_only_their_clients() -> None:
    rec = run_main(config())
    policies = {
        r.name: r.raw_inputs
        for r in rec.by_type("kubernetes:networking.k8s.io/v1:NetworkPolicy")
        if r.name.startswith("osmo-monitoring-")
    }
    assert sorted(policies) == [
        "osmo-monitoring-alertmanager-access",
        "osmo-monitoring-loki-access",
        "osmo-monitoring-prometheus-access",
    ]
    loki = policies["osmo-monitoring-loki-access"]
    assert loki["metadata"] == {"name": "loki-access", "namespace": "monitoring"}
    assert loki["spec"] == {
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "loki"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {"podSelector": {"matchLabels": {"app.kubernetes.io/name": name}}}
                    for name in ("alloy", "grafana", "loki")
                ]
            }
        ],
    }


def test_the_storage_exporter_is_bound_to_a_role_without_nodes_proxy() -> None:
    rec = run_main(config())
    role = rec.get(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "osmo-monitoring-ephemeral-storage-role",
    )
    resources = [res for rule in role.raw_inputs["rules"] for res in rule["resources"]]
    assert sorted(resources) == ["nodes", "nodes/stats", "pods"]
    binding = rec.get(
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "osmo-monitoring-ephemeral-storage-binding",
    ).raw_inputs
    assert binding["roleRef"]["name"] == "k8s-ephemeral-storage-metrics"
    assert binding["subjects"] == [
        {
            "kind": "ServiceAccount",
            "name": "k8s-ephemeral-storage-metrics",
            "namespace": "monitoring",
        }
    ]
    values = rec.get(RELEASE, "osmo-monitoring-ephemeral-storage-metrics").raw_inputs["values"]
    assert values["rbac"] == {"create": False}
