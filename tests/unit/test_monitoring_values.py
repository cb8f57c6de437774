"""Pure values builders of the monitoring component."""

from typing import Any

import pytest

from components import chart_keys, versions
from components.config import IngressSpec, MonitoringSpec, WebUiSpec
from components.config.monitoring import DashboardSpec, LogsSpec, PrometheusSpec
from components.monitoring import (
    EPHEMERAL_RULES,
    access_policies,
    alert_rules,
    alloy_config,
    alloy_values,
    crds_values,
    dashboard_values,
    ephemeral_storage_values,
    loki_values,
    prometheus_stack_values,
)
from tests.unit.test_operator_values import handle

SPEC = MonitoringSpec(
    cluster_label="osmo-lab",
    grafana=WebUiSpec(ingress=IngressSpec(host="grafana.example.com", class_name="nginx")),
    dashboard=DashboardSpec(enabled=True, url="https://k8s.example.com"),
)


def stack(spec: MonitoringSpec = SPEC) -> dict[str, Any]:
    return prometheus_stack_values(spec, handle(), "osmo-lab", "osmo-operator")


def test_every_series_gets_the_cluster_label_at_scrape_time() -> None:
    prom = stack()["prometheus"]["prometheusSpec"]
    assert prom["scrapeClasses"] == [
        {
            "name": "osmo-cluster-label",
            "default": True,
            "relabelings": [
                {"targetLabel": "cluster", "replacement": "osmo-lab", "action": "replace"}
            ],
        }
    ]
    assert "externalLabels" not in prom


def test_monitors_of_every_release_are_selected() -> None:
    prom = stack()["prometheus"]["prometheusSpec"]
    for key in (
        "podMonitorSelectorNilUsesHelmValues",
        "serviceMonitorSelectorNilUsesHelmValues",
        "ruleSelectorNilUsesHelmValues",
        "probeSelectorNilUsesHelmValues",
    ):
        assert prom[key] is False, key


def test_retention_and_storage_on_the_default_or_given_class() -> None:
    prom = stack()["prometheus"]["prometheusSpec"]
    assert prom["retention"] == "15d"
    assert prom["storageSpec"] == {
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "50Gi"}},
            }
        }
    }
    custom = stack(
        MonitoringSpec(
            prometheus=PrometheusSpec(retention="30d", storage_size="200Gi", storage_class="fast")
        )
    )
    claim = custom["prometheus"]["prometheusSpec"]["storageSpec"]["volumeClaimTemplate"]["spec"]
    assert claim["storageClassName"] == "fast"
    assert claim["resources"] == {"requests": {"storage": "200Gi"}}


def test_grafana_downloads_osmo_dashboards_from_the_pinned_release() -> None:
    grafana = stack()["grafana"]
    base = "https://raw.githubusercontent.com/NVIDIA/OSMO/6.3.1/docs/deployment_guide/dashboards"
    assert grafana["dashboards"] == {
        "osmo": {
            "osmo-backend-operator": {"url": f"{base}/backend_operator_observability.json"},
            "osmo-workflow-resources": {"url": f"{base}/workflow_resources_usage.json"},
        }
    }
    provider = grafana["dashboardProviders"]["dashboardproviders.yaml"]["providers"][0]
    assert provider["name"] == "osmo"
    assert provider["options"] == {"path": "/var/lib/grafana/dashboards/osmo"}
    assert grafana["sidecar"]["datasources"]["uid"] == "grafanacloud-prom"
    assert grafana["grafana.ini"] == {"server": {"root_url": "https://grafana.example.com"}}
    assert grafana["ingress"] == {
        "enabled": True,
        "hosts": ["grafana.example.com"],
        "ingressClassName": "nginx",
    }
    assert grafana["additionalDataSources"][0]["url"] == "http://loki.monitoring.svc:3100"


def test_without_loki_there_is_no_loki_datasource() -> None:
    assert (
        "additionalDataSources"
        not in stack(MonitoringSpec(logs=LogsSpec(backend="none")))["grafana"]
    )


def test_node_exporter_runs_in_the_agents_namespace_everything_else_on_the_operator_pool() -> None:
    values = stack()
    assert values["prometheus-node-exporter"] == {"namespaceOverride": "monitoring-agents"}
    for path in (
        ("prometheusOperator",),
        ("alertmanager", "alertmanagerSpec"),
        ("prometheus", "prometheusSpec"),
        ("grafana",),
        ("kube-state-metrics",),
    ):
        node = values
        for key in path:
            node = node[key]
        assert node["nodeSelector"] == {"node-type": "operator"}, path


def test_alerts_are_scoped_to_the_operator_namespace_and_gpu_nodes() -> None:
    rules = alert_rules(handle(), "ops")["osmo-backend"]["groups"][0]["rules"]
    by_name = {rule["alert"]: rule for rule in rules}
    assert sorted(by_name) == [
        "OsmoBackendOperatorCrashLooping",
        "OsmoBackendOperatorMissing",
        "OsmoBackendOperatorUnavailable",
        "OsmoGpuNodeWithoutGpus",
        "OsmoNodeNotReady",
    ]
    assert 'namespace="ops"' in by_name["OsmoBackendOperatorCrashLooping"]["expr"]
    assert 'namespace="ops"' in by_name["OsmoBackendOperatorUnavailable"]["expr"]
    assert by_name["OsmoGpuNodeWithoutGpus"]["expr"] == (
        'kube_node_labels{label_node_type="gpu"} unless on(node) '
        'kube_node_status_allocatable{resource="nvidia_com_gpu"} > 0'
    )
    # kube_node_labels only carries allowlisted labels.
    assert stack()["kube-state-metrics"]["metricLabelsAllowlist"] == ["nodes=[node-type]"]


def test_alerts_can_be_turned_off() -> None:
    assert "additionalPrometheusRulesMap" not in stack(MonitoringSpec(alerts=False))


def test_loki_is_a_single_binary_on_filesystem_with_retention() -> None:
    spec = MonitoringSpec(
        prometheus=PrometheusSpec(storage_class="fast"), logs=LogsSpec(retention="14d")
    )
    values = loki_values(spec, handle())
    assert values["deploymentMode"] == "Monolithic"
    assert values["fullnameOverride"] == "loki"
    assert values["loki"]["storage"] == {"type": "filesystem"}
    assert values["loki"]["limits_config"] == {"retention_period": "14d"}
    assert values["loki"]["compactor"] == {
        "retention_enabled": True,
        "delete_request_store": "filesystem",
    }
    assert values["singleBinary"]["replicas"] == 1
    assert values["singleBinary"]["persistence"] == {
        "enabled": True,
        "size": "20Gi",
        "storageClass": "fast",
    }
    for target in ("read", "write", "backend"):
        assert values[target] == {"replicas": 0}


def test_alloy_reads_pod_logs_through_the_api_on_every_node() -> None:
    values = alloy_values(SPEC, "osmo-lab")
    assert values["controller"] == {"type": "daemonset", "tolerations": [{"operator": "Exists"}]}
    config = values["alloy"]["configMap"]["content"]
    assert 'loki.source.kubernetes "pods"' in config
    assert 'replacement  = "osmo-lab"' in config
    assert 'url = "http://loki.monitoring.svc:3100/loki/api/v1/push"' in config
    assert "/var/log" not in config
    assert config == alloy_config("osmo-lab", "http://loki.monitoring.svc:3100/loki/api/v1/push")


def test_the_web_ui_has_no_cluster_admin_binding() -> None:
    values = dashboard_values(SPEC, handle())
    assert values["clusterRoleBinding"] == {"create": False}
    assert "ingress" not in values


@pytest.mark.parametrize(
    ("name", "builder"),
    [
        ("kube-prometheus-stack", stack),
        ("prometheus-operator-crds", crds_values),
        ("k8s-ephemeral-storage-metrics", lambda: ephemeral_storage_values(handle())),
        ("loki", lambda: loki_values(SPEC, handle())),
        ("alloy", lambda: alloy_values(SPEC, "x")),
        (
            "headlamp",
            lambda: dashboard_values(
                MonitoringSpec(
                    dashboard=DashboardSpec(
                        enabled=True, ingress=IngressSpec(host="k.example.com", class_name="nginx")
                    )
                ),
                handle(),
            ),
        ),
    ],
)
def test_every_monitoring_key_we_set_is_read_by_the_pinned_chart(name: str, builder: Any) -> None:
    chart = versions.CHARTS[name]
    assert chart_keys.unknown_keys(chart_keys.load(name, chart.version), builder()) == []


def test_the_stack_leaves_the_crds_to_their_own_release() -> None:
    """kube-prometheus-stack 88.5.3 pulls its CRDs in as the `crds` subchart under the condition
    `crds.enabled` (charts/kube-prometheus-stack/Chart.yaml at tag kube-prometheus-stack-88.5.3,
    prometheus-community/helm-charts); the committed key index has that exact key."""
    assert stack()["crds"] == {"enabled": False}
    index = chart_keys.load("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version)
    assert "crds.enabled" in index["keys"]
    assert "crds" in index["subcharts"]


def test_the_crds_are_kept_when_their_release_is_uninstalled() -> None:
    """prometheus-operator-crds 31.0.1 ships its CRDs as templates of its `crds` subchart
    (charts/prometheus-operator-crds/charts/crds/templates/, each annotated from
    `.Values.annotations`, i.e. the parent's `crds.annotations`), so `helm uninstall` would delete
    them and every monitor with them; Helm keeps objects annotated
    `helm.sh/resource-policy: keep` (helm/helm pkg/action/resource_policy.go)."""
    assert crds_values() == {"crds": {"annotations": {"helm.sh/resource-policy": "keep"}}}
    index = chart_keys.load("prometheus-operator-crds", versions.PROMETHEUS_OPERATOR_CRDS.version)
    assert "crds.annotations" in index["freeForm"]


def test_no_monitoring_chart_reads_every_secret() -> None:
    """Least privilege, proven on each pinned chart's RBAC templates:
    - grafana 12.11.1 (kube-prometheus-stack 88.5.3's dependency) templates/clusterrole.yaml
      grants its sidecars configmaps *and secrets* cluster-wide unless `rbac.namespaced`;
      role.yaml is skipped with `useExistingRole`, and rolebinding.yaml then binds that Role;
    - kube-state-metrics 8.4.0 templates/role.yaml grants `secrets` list/watch when the effective
      collectors (collectors minus collectorsExclude, _helpers.tpl) include it;
    - alloy 1.11.1 templates/rbac.yaml renders `rbac.rules` + `rbac.clusterRules`, whose defaults
      read Secrets and ConfigMaps (`remote.kubernetes.*`) and nodes/metrics."""
    values = stack()
    grafana = values["grafana"]
    assert grafana["rbac"] == {"namespaced": True, "useExistingRole": "grafana-sidecar-configmaps"}
    for sidecar in ("dashboards", "datasources"):
        assert grafana["sidecar"][sidecar]["resource"] == "configmap"
        assert grafana["sidecar"][sidecar]["searchNamespace"] == SPEC.namespace
    assert values["kube-state-metrics"]["collectorsExclude"] == ["secrets"]
    alloy = alloy_values(SPEC, "osmo-lab")
    assert alloy["rbac"] == {
        "rules": [
            {
                "apiGroups": [""],
                "resources": ["pods", "pods/log", "namespaces"],
                "verbs": ["get", "list", "watch"],
            }
        ],
        "clusterRules": [],
    }
    index = chart_keys.load("alloy", versions.ALLOY.version)
    assert chart_keys.unknown_keys(index, {"rbac": alloy["rbac"]}) == []


def test_unauthenticated_endpoints_admit_only_their_clients() -> None:
    def peers(policy: dict[str, Any]) -> list[str]:
        (rule,) = policy["ingress"]
        return [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in rule["from"]]

    policies = access_policies(SPEC)
    assert sorted(policies) == ["alertmanager", "loki", "prometheus"]
    assert {name: peers(p) for name, p in policies.items()} == {
        "prometheus": ["grafana", "prometheus"],
        "alertmanager": ["prometheus", "grafana", "alertmanager"],
        "loki": ["alloy", "grafana", "loki"],
    }
    for name, policy in policies.items():
        assert policy["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
        assert policy["policyTypes"] == ["Ingress"]
    assert "loki" not in access_policies(
        MonitoringSpec(cluster_label="x", logs=LogsSpec(backend="none"))
    )


def test_the_storage_exporter_reads_kubelet_stats_without_nodes_proxy() -> None:
    """k8s-ephemeral-storage-metrics 1.21.3: the chart's ClusterRole grants `nodes/proxy`
    (chart/templates/RBAC.yaml, only with rbac.create), which reaches every kubelet endpoint
    through the API server (exec included); with `kubelet.scrape` the Deployment reads
    `<kubelet>/stats/summary` directly (pkg/node/k8s.go Query), which the kubelet authorizes as
    `nodes/stats`."""
    values = ephemeral_storage_values(handle())
    assert values["rbac"] == {"create": False}
    assert values["kubelet"] == {"scrape": True, "insecure": True}
    assert "deploy_type" not in values  # the chart's default, Deployment, is the one that scrapes
    assert EPHEMERAL_RULES == (
        {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": [""], "resources": ["nodes/stats"], "verbs": ["get"]},
    )


def test_grafanas_other_sidecars_stay_off() -> None:
    """Issue 20 item 2: Grafana's alerts, plugins and notifiers sidecars default to `enabled:
    false` with `resource: both` (ConfigMaps and Secrets) in grafana 12.11.1 values.yaml
    (grafana-community/helm-charts grafana-12.11.1 charts/grafana/values.yaml:1069-1070,
    1374-1375, 1444-1445; templates/_pod.tpl renders each only when enabled), and
    kube-prometheus-stack 88.5.3 values.yaml sets only `grafana.sidecar.dashboards` and
    `datasources`. Ours enable only those two, on ConfigMaps."""
    sidecar = stack()["grafana"]["sidecar"]
    assert sorted(sidecar) == ["dashboards", "datasources"]
    assert {name: body["resource"] for name, body in sidecar.items()} == {
        "dashboards": "configmap",
        "datasources": "configmap",
    }
