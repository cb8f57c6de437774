"""Monitoring under the recording engine: releases, CRD ordering, namespaces, off switch."""

from tests.harness import config, run_main

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
STACK = "osmo-monitoring-prometheus-stack"
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


def test_monitor_users_come_after_the_crd_owning_release_and_nothing_waits_for_gpus() -> None:
    rec = run_main(config())
    stack = rec.urn_of(RELEASE, STACK)
    for name in (
        "osmo-monitoring-ephemeral-storage-metrics",
        "osmo-operators-gpu-operator",
        "osmo-operators-backend-operator",
    ):
        assert stack in rec.get(RELEASE, name).options["dependsOn"], name
    for name in ("osmo-monitoring-loki", "osmo-monitoring-alloy", "osmo-operators-kai-scheduler"):
        assert stack not in rec.get(RELEASE, name).dependencies, name
    # The stack itself waits only for its namespaces.
    assert rec.get(RELEASE, STACK).dependencies == sorted(
        [
            rec.urn_of(NAMESPACE, "osmo-monitoring-ns"),
            rec.urn_of(NAMESPACE, "osmo-monitoring-agents-ns"),
        ]
    )
    patches = {r.urn for r in rec.by_type("kubernetes:core/v1:NodePatch")}
    for release in rec.by_type(RELEASE):
        assert not patches & set(release.dependencies), release.name


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
    token = rec.get("kubernetes:core/v1:Secret", "osmo-monitoring-viewer-token")
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"]["annotations"] == {
        "kubernetes.io/service-account.name": "osmo-dashboard-viewer"
    }
    assert "stringData" not in token.inputs
    assert account.urn in token.options["dependsOn"]
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
