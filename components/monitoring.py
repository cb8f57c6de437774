"""Monitoring and logging: Prometheus/Grafana with OSMO's dashboards, GPU and disk metrics, alerts,
logs, and an optional Kubernetes web UI.

- The Prometheus Operator CRDs are a release of their own (`prometheus-operator-crds`, the
  operator version kube-prometheus-stack runs), installed first and fast: kube-prometheus-stack
  (told not to install them), the ephemeral-storage exporter, the GPU Operator's DCGM
  ServiceMonitor and the backend-operator's PodMonitor all wait for it alone, so they start
  together. Destroy removes those releases before the CRDs release (reverse dependency order);
  the CRDs themselves are kept (`helm.sh/resource-policy: keep`), as Helm keeps a chart's `crds/`
  directory.
- A default scrape class adds `cluster=<label>` to every series at scrape time, including
  monitors from other releases (OSMO's dashboards filter on it; an external label would never
  reach local queries), and Prometheus selects monitors from every release.
- OSMO's dashboards are downloaded by Grafana from a pinned OSMO release, not copied here.
- Logs: Loki (single binary, filesystem on a PVC) fed by Grafana Alloy through the Kubernetes API
  (`loki.source.kubernetes`: no hostPath, so its namespace stays `baseline`).
- The node exporter is the one monitoring pod that needs host access: it runs in its own
  `privileged` namespace (the documented exception).
"""

import re
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from components import _helm, versions
from components._namespaces import namespace
from components.clusters.base import ClusterHandle, NodeRole
from components.config import IngressControllerSpec, MonitoringSpec, WebUiSpec
from components.networking import ingress_tls, ui_tls

TYPE = "osmo-backend:index:Monitoring"

STACK_RELEASE = "kube-prometheus-stack"
CRDS_RELEASE = "prometheus-operator-crds"
LOKI_RELEASE = "loki"
ALLOY_RELEASE = "alloy"
EPHEMERAL_RELEASE = "ephemeral-storage-metrics"
DASHBOARD_RELEASE = "headlamp"
PROMETHEUS_DATASOURCE_UID = "grafanacloud-prom"
"""OSMO's backend-operator dashboard hard-codes this datasource uid."""
LOKI_DATASOURCE_UID = "loki"
DASHBOARD_FOLDER = "OSMO"
DASHBOARD_VIEWER = "osmo-dashboard-viewer"
GRAFANA_TLS_SECRET = "grafana-tls"
DASHBOARD_TLS_SECRET = "headlamp-tls"
"""Where cert-manager puts each web UI's certificate (networking.ingress.tls issuer or
clusterIssuer), in the monitoring namespace."""
VIEWER_TOKEN_HOURS = 8


def viewer_login(namespace: str) -> str:
    """The command that mints a web UI login token: a TokenRequest, bound to the
    ServiceAccount and expiring after VIEWER_TOKEN_HOURS (the API server may cap it lower)."""
    return (
        f"kubectl -n {namespace} create token {DASHBOARD_VIEWER} --duration={VIEWER_TOKEN_HOURS}h"
    )


GRAFANA_SIDECAR_ROLE = "grafana-sidecar-configmaps"
"""The Role Grafana's dashboard and datasource sidecars get in the monitoring namespace."""
CONFIGMAP_READER_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]},
)
ALLOY_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": [""],
        "resources": ["pods", "pods/log", "namespaces"],
        "verbs": ["get", "list", "watch"],
    },
)
"""What `discovery.kubernetes` (role pod) and `loki.source.kubernetes` read: the rules the alloy
chart lists for those two components, nothing else."""

RELEASE_NAMES = {
    "ephemeral-storage-metrics": EPHEMERAL_RELEASE,
    "loki": LOKI_RELEASE,
    "alloy": ALLOY_RELEASE,
    "dashboard": DASHBOARD_RELEASE,
}
STACK_TIMEOUT_SECONDS = 900
ADDON_TIMEOUT_SECONDS = 600
CRDS_TIMEOUT_SECONDS = 300
KEEP_ON_UNINSTALL = {"helm.sh/resource-policy": "keep"}
"""Helm skips objects with this annotation on uninstall (helm/helm pkg/action/resource_policy.go,
filterManifestsToKeep): CRDs outlive the release, as they did when kube-prometheus-stack shipped
them in its `crds/` directory (which Helm never deletes), and deleting the stack never deletes
every monitor in the cluster with them."""


class MonitoringArgs(TypedDict):
    """Inputs for Monitoring."""

    spec: MonitoringSpec
    cluster: ClusterHandle
    operator_namespace: str
    """Where the backend-operator runs (alert rules are scoped to it)."""
    ingress: NotRequired[IngressControllerSpec | None]
    """The stack's ingress controller: its TLS covers the web UI ingresses of its class."""


def _placement(role: NodeRole | None) -> dict[str, Any]:
    if role is None:
        return {}
    placement: dict[str, Any] = {"nodeSelector": dict(role.selector)}
    if role.tolerations:
        placement["tolerations"] = [dict(t) for t in role.tolerations]
    return placement


def _label_matcher(selector: Mapping[str, str]) -> str:
    """PromQL matchers on kube_node_labels for a node selector (kube-state-metrics sanitizes
    label names to `label_<name>` with every non-alphanumeric character as `_`)."""
    return ", ".join(
        f'label_{re.sub(r"[^a-zA-Z0-9_]", "_", key)}="{value}"'
        for key, value in sorted(selector.items())
    )


def alert_rules(cluster: ClusterHandle, operator_namespace: str) -> dict[str, Any]:
    """Alerts that matter for an OSMO backend, scoped to its namespaces and GPU nodes."""
    backend_pods = f'namespace="{operator_namespace}"'
    deployments = f'{backend_pods}, deployment=~".*osmo-backend-(listener|worker)"'
    rules: list[dict[str, Any]] = [
        {
            "alert": "OsmoNodeNotReady",
            "expr": 'kube_node_status_condition{condition="Ready", status="true"} == 0',
            "for": "10m",
            "labels": {"severity": "warning"},
            "annotations": {"summary": "Node {{ $labels.node }} has not been Ready for 10 minutes"},
        },
        {
            "alert": "OsmoBackendOperatorCrashLooping",
            "expr": (
                f"increase(kube_pod_container_status_restarts_total{{{backend_pods}}}[15m]) > 3"
            ),
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "OSMO backend-operator pod {{ $labels.pod }} restarts repeatedly"
            },
        },
        {
            "alert": "OsmoBackendOperatorUnavailable",
            "expr": f"kube_deployment_status_replicas_available{{{deployments}}} < 1",
            "for": "10m",
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "OSMO {{ $labels.deployment }} has no available pod: the backend is "
                "offline for the OSMO service"
            },
        },
        {
            "alert": "OsmoBackendOperatorMissing",
            "expr": f"absent(kube_deployment_status_replicas{{{deployments}}})",
            "for": "15m",
            "labels": {"severity": "critical"},
            "annotations": {"summary": "No OSMO backend listener/worker Deployment exists"},
        },
    ]
    gpu = cluster.node_roles.get("gpu")
    if gpu is not None:
        rules.append(
            {
                "alert": "OsmoGpuNodeWithoutGpus",
                "expr": (
                    f"kube_node_labels{{{_label_matcher(gpu.selector)}}} unless on(node) "
                    'kube_node_status_allocatable{resource="nvidia_com_gpu"} > 0'
                ),
                "for": "15m",
                "labels": {"severity": "warning"},
                "annotations": {
                    "summary": "GPU node {{ $labels.node }} reports no allocatable GPUs "
                    "(driver, toolkit or device plugin not running)"
                },
            }
        )
    return {"osmo-backend": {"groups": [{"name": "osmo-backend", "rules": rules}]}}


def _storage_class(spec: MonitoringSpec, cluster: ClusterHandle) -> str | None:
    """The monitoring stack's own class, else the cluster's (`storage.storageClass`)."""
    return (
        spec.prometheus.storage_class
        if spec.prometheus.storage_class is not None
        else cluster.default_storage_class
    )


def _ui_tls(
    ui: WebUiSpec, controller: IngressControllerSpec | None, secret_name: str
) -> dict[str, Any]:
    """A web UI ingress's `annotations` and `tls` chart values (grafana 12.11.1 and headlamp
    0.45.0 render both into their Ingress: templates/ingress.yaml) when the stack's controller
    serves it with TLS."""
    assert ui.ingress is not None
    annotations, tls = ingress_tls(
        ui_tls(controller, ui.ingress.class_name), ui.ingress.host, secret_name
    )
    return {"annotations": annotations, "tls": tls} if tls else {}


def prometheus_stack_values(
    spec: MonitoringSpec,
    cluster: ClusterHandle,
    cluster_label: str,
    operator_namespace: str,
    controller: IngressControllerSpec | None = None,
) -> dict[str, Any]:
    operator_pool = _placement(cluster.node_roles.get("operator"))
    claim: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": spec.prometheus.storage_size}},
    }
    if (storage_class := _storage_class(spec, cluster)) is not None:
        claim["storageClassName"] = storage_class
    gpu = cluster.node_roles.get("gpu")
    node_label_keys = sorted(gpu.selector) if gpu is not None else []
    grafana: dict[str, Any] = {
        **operator_pool,
        "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}},
        # Least privilege (grafana chart 12.11.1, templates/clusterrole.yaml and role.yaml): the
        # sidecars' ClusterRole reads ConfigMaps *and Secrets* in every namespace unless
        # `rbac.namespaced`; with `useExistingRole` the chart only binds our ConfigMap-only Role
        # (GRAFANA_SIDECAR_ROLE) in its own namespace, where the sidecars look
        # (kube-prometheus-stack sets dashboards.searchNamespace: ALL).
        "rbac": {"namespaced": True, "useExistingRole": GRAFANA_SIDECAR_ROLE},
        "sidecar": {
            "dashboards": {
                "enabled": True,
                "resource": "configmap",
                "searchNamespace": spec.namespace,
            },
            "datasources": {
                "uid": PROMETHEUS_DATASOURCE_UID,
                "resource": "configmap",
                "searchNamespace": spec.namespace,
            },
        },
        "dashboardProviders": {
            "dashboardproviders.yaml": {
                "apiVersion": 1,
                "providers": [
                    {
                        "name": "osmo",
                        "orgId": 1,
                        "folder": DASHBOARD_FOLDER,
                        "type": "file",
                        "disableDeletion": True,
                        "editable": False,
                        "options": {"path": "/var/lib/grafana/dashboards/osmo"},
                    }
                ],
            }
        },
        "dashboards": {
            "osmo": {
                name: {"url": f"{versions.OSMO_DASHBOARD_BASE_URL}/{file}"}
                for name, file in sorted(versions.OSMO_DASHBOARDS.items())
            }
        },
    }
    if spec.logs.backend == "loki":
        grafana["additionalDataSources"] = [
            {
                "name": "Loki",
                "type": "loki",
                "uid": LOKI_DATASOURCE_UID,
                "access": "proxy",
                "url": f"http://{LOKI_RELEASE}.{spec.namespace}.svc:3100",
            }
        ]
    if spec.grafana.external_url is not None:
        grafana["grafana.ini"] = {"server": {"root_url": spec.grafana.external_url}}
    if spec.grafana.ingress is not None:
        ingress: dict[str, Any] = {"enabled": True, "hosts": [spec.grafana.ingress.host]}
        if spec.grafana.ingress.class_name is not None:
            ingress["ingressClassName"] = spec.grafana.ingress.class_name
        grafana["ingress"] = ingress | _ui_tls(spec.grafana, controller, GRAFANA_TLS_SECRET)
    values: dict[str, Any] = {
        # The CRDs come from their own release (Monitoring.crds), installed first.
        "crds": {"enabled": False},
        "defaultRules": {"create": True},
        "alertmanager": {"enabled": True, "alertmanagerSpec": dict(operator_pool)},
        "prometheusOperator": dict(operator_pool),
        "prometheus": {
            "prometheusSpec": {
                **operator_pool,
                # Select monitors and rules of every release (the backend-operator's PodMonitor
                # and the DCGM ServiceMonitor carry no `release` label).
                "podMonitorSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "ruleSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
                "scrapeClasses": [
                    {
                        "name": "osmo-cluster-label",
                        "default": True,
                        "relabelings": [
                            {
                                "targetLabel": "cluster",
                                "replacement": cluster_label,
                                "action": "replace",
                            }
                        ],
                    }
                ],
                "retention": spec.prometheus.retention,
                "storageSpec": {"volumeClaimTemplate": {"spec": claim}},
                "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}},
            }
        },
        "kube-state-metrics": {
            **operator_pool,
            # Its default collectors include `secrets`, and its ClusterRole then lists and
            # watches every Secret (kube-state-metrics chart 8.4.0, templates/role.yaml reads
            # the same collector list as the `--resources` flag).
            "collectorsExclude": ["secrets"],
            # kube_node_labels exposes only allowlisted labels; the GPU alert needs the role's.
            "metricLabelsAllowlist": [f"nodes=[{','.join(node_label_keys)}]"]
            if node_label_keys
            else [],
        },
        # The node exporter needs host network/PID/paths: it alone runs in the privileged
        # namespace. Its default toleration (NoSchedule, Exists) covers GPU and spot taints.
        "prometheus-node-exporter": {"namespaceOverride": spec.agents_namespace},
        "grafana": grafana,
    }
    if spec.alerts:
        values["additionalPrometheusRulesMap"] = alert_rules(cluster, operator_namespace)
    return values


def crds_values() -> dict[str, Any]:
    """Every Prometheus Operator CRD (the chart's default), each kept on uninstall."""
    return {"crds": {"annotations": dict(KEEP_ON_UNINSTALL)}}


EPHEMERAL_ACCOUNT = "k8s-ephemeral-storage-metrics"
"""The exporter's ServiceAccount: the chart's name (templates/_helpers.tpl
chart.serviceAccountName)."""
EPHEMERAL_RULES: tuple[dict[str, Any], ...] = (
    {"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["nodes/stats"], "verbs": ["get"]},
)
"""What the exporter needs when it reads each kubelet's /stats/summary itself: the kubelet
authorizes `/stats/*` as the `nodes/stats` subresource. The chart's own ClusterRole grants
`nodes/proxy` (k8s-ephemeral-storage-metrics 1.21.3 chart/templates/RBAC.yaml), which reaches
every kubelet endpoint through the API server, exec included."""


def ephemeral_storage_values(cluster: ClusterHandle) -> dict[str, Any]:
    """The exporter scrapes kubelets directly (`kubelet.scrape`: pkg/node/k8s.go Query uses the
    `/api/v1/nodes/<n>/proxy` path otherwise) under our narrower ClusterRole (`rbac.create`
    off). Kubelet serving certificates are often self-signed (not signed by the cluster CA the
    pod trusts), so it skips their verification (`kubelet.insecure`, pkg/dev/util.go)."""
    return {
        **_placement(cluster.node_roles.get("operator")),
        "rbac": {"create": False},
        "kubelet": {"scrape": True, "insecure": True},
        "prometheus": {"enable": True},
        "serviceMonitor": {"enable": True},
        "metrics": {"ephemeral_storage_pod_usage": True},
    }


def loki_values(spec: MonitoringSpec, cluster: ClusterHandle) -> dict[str, Any]:
    persistence: dict[str, Any] = {"enabled": True, "size": spec.logs.storage_size}
    if (storage_class := _storage_class(spec, cluster)) is not None:
        persistence["storageClass"] = storage_class
    return {
        "fullnameOverride": LOKI_RELEASE,
        "deploymentMode": "Monolithic",
        "loki": {
            "auth_enabled": False,
            "commonConfig": {"replication_factor": 1},
            "storage": {"type": "filesystem"},
            "schemaConfig": {
                "configs": [
                    {
                        "from": "2024-04-01",
                        "store": "tsdb",
                        "object_store": "filesystem",
                        "schema": "v13",
                        "index": {"prefix": "loki_index_", "period": "24h"},
                    }
                ]
            },
            "limits_config": {"retention_period": spec.logs.retention},
            "compactor": {"retention_enabled": True, "delete_request_store": "filesystem"},
        },
        "singleBinary": {
            "replicas": 1,
            "persistence": persistence,
            **_placement(cluster.node_roles.get("operator")),
        },
        "read": {"replicas": 0},
        "write": {"replicas": 0},
        "backend": {"replicas": 0},
        "chunksCache": {"enabled": False},
        "resultsCache": {"enabled": False},
        "lokiCanary": {"enabled": False},
        "test": {"enabled": False},
        "gateway": {"enabled": False},
        "minio": {"enabled": False},
    }


def alloy_config(cluster_label: str, push_url: str) -> str:
    """Pod logs of the local node through the Kubernetes API, labelled, pushed to Loki."""
    return f"""discovery.kubernetes "pods" {{
  role = "pod"
  selectors {{
    role  = "pod"
    field = "spec.nodeName=" + coalesce(sys.env("HOSTNAME"), constants.hostname)
  }}
}}

discovery.relabel "pods" {{
  targets = discovery.kubernetes.pods.targets
  rule {{
    source_labels = ["__meta_kubernetes_namespace"]
    target_label  = "namespace"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_name"]
    target_label  = "pod"
  }}
  rule {{
    source_labels = ["__meta_kubernetes_pod_container_name"]
    target_label  = "container"
  }}
  rule {{
    target_label = "cluster"
    replacement  = "{cluster_label}"
  }}
}}

loki.source.kubernetes "pods" {{
  targets    = discovery.relabel.pods.output
  forward_to = [loki.write.default.receiver]
}}

loki.write "default" {{
  endpoint {{
    url = "{push_url}"
  }}
}}
"""


def alloy_values(spec: MonitoringSpec, cluster_label: str) -> dict[str, Any]:
    push_url = f"http://{LOKI_RELEASE}.{spec.namespace}.svc:3100/loki/api/v1/push"
    return {
        # The chart's default rules read Secrets and ConfigMaps cluster-wide (for
        # `remote.kubernetes.*`) and nodes/metrics, on every node (alloy chart 1.11.1,
        # templates/rbac.yaml renders `rules` + `clusterRules`): our pipeline needs pods and
        # their logs and namespaces only.
        "rbac": {"rules": [dict(rule) for rule in ALLOY_RULES], "clusterRules": []},
        "controller": {"type": "daemonset", "tolerations": [{"operator": "Exists"}]},
        "alloy": {"configMap": {"create": True, "content": alloy_config(cluster_label, push_url)}},
    }


def dashboard_values(
    spec: MonitoringSpec, cluster: ClusterHandle, controller: IngressControllerSpec | None = None
) -> dict[str, Any]:
    """Headlamp with token login: no cluster-admin binding for its own ServiceAccount."""
    assert spec.dashboard is not None
    values: dict[str, Any] = {
        **_placement(cluster.node_roles.get("operator")),
        "clusterRoleBinding": {"create": False},
    }
    if spec.dashboard.ingress is not None:
        ingress: dict[str, Any] = {
            "enabled": True,
            "hosts": [
                {
                    "host": spec.dashboard.ingress.host,
                    "paths": [{"path": "/", "type": "ImplementationSpecific"}],
                }
            ],
        }
        if spec.dashboard.ingress.class_name is not None:
            ingress["ingressClassName"] = spec.dashboard.ingress.class_name
        values["ingress"] = ingress | _ui_tls(spec.dashboard, controller, DASHBOARD_TLS_SECRET)
    return values


def _snake(policy: dict[str, Any]) -> k8s.networking.v1.NetworkPolicySpecArgsDict:
    """The SDK's argument names for a NetworkPolicy spec built in camelCase."""
    return {
        "pod_selector": {"match_labels": policy["podSelector"]["matchLabels"]},
        "policy_types": policy["policyTypes"],
        "ingress": [
            {
                "from_": [
                    {"pod_selector": {"match_labels": peer["podSelector"]["matchLabels"]}}
                    for peer in rule["from"]
                ]
            }
            for rule in policy["ingress"]
        ],
    }


def _pods(name: str) -> dict[str, Any]:
    return {"matchLabels": {"app.kubernetes.io/name": name}}


def access_policies(spec: MonitoringSpec) -> dict[str, dict[str, Any]]:
    """NetworkPolicy specs (camelCase) for the unauthenticated endpoints of the monitoring
    namespace, by name: each admits only its clients in that namespace. Pods carry the chart's
    `app.kubernetes.io/name` (kube-prometheus-stack 88.5.3 templates/prometheus/service.yaml
    and alertmanager/service.yaml select `prometheus` and `alertmanager`; the grafana 12.11.1,
    alloy 1.11.1 and loki 18.11.0 charts' selectorLabels use their chart name). Loki has no
    auth (`auth_enabled: false`); Prometheus and Alertmanager have none."""
    policies: dict[str, dict[str, Any]] = {
        # Grafana queries it; it scrapes itself.
        "prometheus": {"podSelector": _pods("prometheus"), "from": ["grafana", "prometheus"]},
        # Prometheus sends alerts and scrapes it; Grafana reads it; replicas gossip.
        "alertmanager": {
            "podSelector": _pods("alertmanager"),
            "from": ["prometheus", "grafana", "alertmanager"],
        },
    }
    if spec.logs.backend == "loki":
        # Alloy pushes, Grafana queries, Loki's own ring and memberlist.
        policies["loki"] = {"podSelector": _pods("loki"), "from": ["alloy", "grafana", "loki"]}
    return {
        name: {
            "podSelector": body["podSelector"],
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": _pods(peer)} for peer in body["from"]]}],
        }
        for name, body in policies.items()
    }


class Monitoring(pulumi.ComponentResource):
    """The monitoring and logging stack of one OSMO backend."""

    crds: k8s.helm.v3.Release
    """The Prometheus Operator CRDs: everything creating a monitor depends on it (and only it)."""
    prometheus_stack: k8s.helm.v3.Release
    grafana_url: str | None
    dashboard_url: str | None

    def __init__(
        self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec, cluster, label = args["spec"], args["cluster"], args["spec"].cluster_label
        pool = list(cluster.workload_dependencies)
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace(
            f"{name}-ns",
            name=spec.namespace,
            role="monitoring",
            opts=child,
        )
        agents_ns = namespace(
            f"{name}-agents-ns",
            name=spec.agents_namespace,
            enforce="privileged",
            role="node-exporter",
            opts=child,
        )

        def release(
            suffix: str,
            chart: versions.Chart,
            values: dict[str, Any],
            *,
            overrides: str,
            after_crds: bool,
        ) -> k8s.helm.v3.Release:
            """An add-on release in the monitoring namespace, after the operator pool; and after
            the CRDs release when it creates ServiceMonitors."""
            depends = [*pool, *([self.crds] if after_crds else [])]
            return _helm.release(
                f"{name}-{suffix}",
                release_name=RELEASE_NAMES[suffix],
                chart=chart,
                namespace=ns.metadata.name,
                values=values,
                overrides=spec.values.get(overrides, {}),
                timeout_seconds=ADDON_TIMEOUT_SECONDS,
                atomic=True,
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends),
            )

        # No pods: it needs no node pool, only the API server. It adopts the CRDs an earlier
        # kube-prometheus-stack installed (Helm refuses objects another release does not own).
        self.crds = _helm.release(
            f"{name}-crds",
            release_name=CRDS_RELEASE,
            chart=versions.PROMETHEUS_OPERATOR_CRDS,
            namespace=ns.metadata.name,
            values=crds_values(),
            overrides={},
            timeout_seconds=CRDS_TIMEOUT_SECONDS,
            atomic=True,
            take_ownership=True,
            opts=child,
        )
        sidecar_role = k8s.rbac.v1.Role(
            f"{name}-grafana-sidecar-role",
            metadata={"name": GRAFANA_SIDECAR_ROLE, "namespace": ns.metadata.name},
            rules=[
                {"api_groups": r["apiGroups"], "resources": r["resources"], "verbs": r["verbs"]}
                for r in CONFIGMAP_READER_RULES
            ],
            opts=child,
        )
        self.prometheus_stack = _helm.release(
            f"{name}-prometheus-stack",
            release_name=STACK_RELEASE,
            chart=versions.KUBE_PROMETHEUS_STACK,
            namespace=ns.metadata.name,
            values=prometheus_stack_values(
                spec, cluster, label, args["operator_namespace"], args.get("ingress")
            ),
            overrides=spec.values.get("prometheus", {}),
            timeout_seconds=STACK_TIMEOUT_SECONDS,
            atomic=True,
            # The node exporter goes to the agents namespace (namespaceOverride).
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=[agents_ns, sidecar_role, *pool, self.crds]
            ),
        )
        if spec.ephemeral_storage_metrics.enabled:
            self._ephemeral_role(name, ns.metadata.name, child)
            release(
                "ephemeral-storage-metrics",
                versions.EPHEMERAL_STORAGE_METRICS,
                ephemeral_storage_values(cluster),
                overrides="ephemeralStorageMetrics",
                after_crds=True,
            )
        if spec.logs.backend == "loki":
            release(
                "loki",
                versions.LOKI,
                loki_values(spec, cluster),
                overrides="loki",
                after_crds=False,
            )
            release(
                "alloy",
                versions.ALLOY,
                alloy_values(spec, label),
                overrides="collector",
                after_crds=False,
            )

        for target, policy in access_policies(spec).items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{target}-access",
                metadata={"name": f"{target}-access", "namespace": ns.metadata.name},
                spec=_snake(policy),
                opts=child,
            )

        self.grafana_url = spec.grafana.external_url
        self.dashboard_url = None
        if spec.dashboard is not None:
            release(
                "dashboard",
                versions.HEADLAMP,
                dashboard_values(spec, cluster, args.get("ingress")),
                overrides="dashboard",
                after_crds=False,
            )
            self._viewer_token(name, ns.metadata.name, child)
            self.dashboard_url = spec.dashboard.external_url
        self.register_outputs({})

    def _ephemeral_role(
        self, name: str, ns: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> None:
        """The exporter's ClusterRole without `nodes/proxy`, bound to its ServiceAccount."""
        k8s.rbac.v1.ClusterRole(
            f"{name}-ephemeral-storage-role",
            metadata={"name": EPHEMERAL_ACCOUNT},
            rules=[
                {"api_groups": r["apiGroups"], "resources": r["resources"], "verbs": r["verbs"]}
                for r in EPHEMERAL_RULES
            ],
            opts=opts,
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-ephemeral-storage-binding",
            metadata={"name": EPHEMERAL_ACCOUNT},
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": EPHEMERAL_ACCOUNT,
            },
            subjects=[{"kind": "ServiceAccount", "name": EPHEMERAL_ACCOUNT, "namespace": ns}],
            opts=opts,
        )

    def _viewer_token(
        self, name: str, ns: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> None:
        """Least-privilege login for the web UI: a ServiceAccount bound to the built-in `view`
        role (which includes every namespace's pod logs: README). No long-lived token Secret:
        users log in with a short-lived TokenRequest token (VIEWER_LOGIN), so a leaked token
        expires by itself."""
        k8s.core.v1.ServiceAccount(
            f"{name}-viewer", metadata={"name": DASHBOARD_VIEWER, "namespace": ns}, opts=opts
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{name}-viewer-binding",
            metadata={"name": DASHBOARD_VIEWER},
            role_ref={
                "api_group": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "view",
            },
            subjects=[{"kind": "ServiceAccount", "name": DASHBOARD_VIEWER, "namespace": ns}],
            opts=opts,
        )
