"""Networking for a backend: the workflow pods' egress NetworkPolicy and the egress list a
firewall team needs.

The policy itself is rendered by the backend-operator chart (`global.networkPolicy`): egress-only
on every pod of the workflow namespace, to anything except the cluster's own ranges, plus the
namespace itself, DNS in `dnsNamespace`, the allowed namespaces and extra rules. Namespace
selectors match pod IPs, not Service ClusterIPs: on iptables CNIs list the kube-dns ClusterIP (and
an in-cluster OSMO gateway) under `allowedCIDRs`.
"""

import ipaddress
from collections.abc import Sequence
from typing import Any, TypedDict
from urllib.parse import urlparse

import pulumi
import pulumi_kubernetes as k8s

from components import _helm, versions
from components._namespaces import namespace
from components.clusters.base import ClusterHandle
from components.config import (
    IngressControllerSpec,
    IngressTlsSpec,
    MonitoringSpec,
    NetworkingSpec,
    OperatorsSpec,
    OsmoSpec,
    WorkflowDataSpec,
    WorkflowPolicySpec,
)
from components.config.storage import bucket_host

TYPE = "osmo-backend:index:IngressController"
INGRESS_TIMEOUT_SECONDS = 600


def _without(
    networks: list[ipaddress.IPv4Network], hole: ipaddress.IPv4Network
) -> list[ipaddress.IPv4Network]:
    kept: list[ipaddress.IPv4Network] = []
    for network in networks:
        if not network.overlaps(hole):
            kept.append(network)
        elif not network.subnet_of(hole):
            kept.extend(network.address_exclude(hole))
    return kept


def unreachable_ipv4(reachable: Sequence[str]) -> list[str]:
    """Every IPv4 range outside `reachable`: what 0.0.0.0/0 must except so that only those
    networks stay reachable."""
    rest = [ipaddress.IPv4Network("0.0.0.0/0")]
    for cidr in reachable:
        rest = _without(rest, ipaddress.IPv4Network(cidr))
    return [str(n) for n in sorted(rest)]


def egress_exceptions(spec: WorkflowPolicySpec) -> list[str]:
    """The `except` list of the chart's one `0.0.0.0/0` egress rule
    (deployments/charts/backend-operator/templates/backend-network-policy.yaml renders
    `global.networkPolicy.clusterCIDRs` there): the cluster's ranges, the metadata services
    and, with `reachableCIDRs`, everything outside those networks."""
    excepted = [*spec.cluster_cidrs, *spec.blocked_cidrs]
    if spec.reachable_cidrs:
        excepted += unreachable_ipv4(spec.reachable_cidrs)
    return list(dict.fromkeys(excepted))


def workflow_policy_values(spec: WorkflowPolicySpec) -> dict[str, Any]:
    """The backend-operator's `global.networkPolicy` values."""
    if not spec.enabled:
        return {"enabled": False}
    rules: list[dict[str, Any]] = [
        {"to": [{"ipBlock": {"cidr": cidr}}]} for cidr in spec.allowed_cidrs
    ]
    rules += [dict(rule) for rule in spec.extra_egress_rules]
    return {
        "enabled": True,
        "clusterCIDRs": egress_exceptions(spec),
        "dnsNamespace": spec.dns_namespace,
        "allowedNamespaces": list(spec.allowed_namespaces),
        "additionalEgressRules": rules,
    }


def _host(url: str) -> str:
    return urlparse(url).hostname or url


def egress_allowlist(
    osmo: OsmoSpec,
    operators: OperatorsSpec,
    monitoring: MonitoringSpec,
    networking: NetworkingSpec | None = None,
    cluster_egress: Sequence[tuple[str, str]] = (),
    *,
    workflow_data: WorkflowDataSpec | None = None,
) -> list[dict[str, Any]]:
    """Destinations the backend's nodes and pods reach (TCP 443 unless the object store's URL
    names another port), with why. Registries may redirect blob downloads to their CDNs; allow
    those as the registry documents."""
    entries: dict[tuple[str, int], list[str]] = {}

    def need(host: str, why: str, port: int = 443) -> None:
        entries.setdefault((host, port), []).append(why)

    need(_host(osmo.service_url), "OSMO service: backend listener/worker WebSockets, workflow pods")
    need(_host(osmo.router_address), "OSMO router: exec and port-forward from workflow pods")
    need("nvcr.io", "OSMO backend-operator images")
    need("ghcr.io", "KAI scheduler images")
    if operators.gpu_operator is not None:
        need("nvcr.io", "GPU Operator, driver, toolkit, device plugin and DCGM images")
    if monitoring.enabled:
        need("quay.io", "Prometheus, Alertmanager, Prometheus Operator, node exporter images")
        need("registry.k8s.io", "kube-state-metrics image")
        need("docker.io", "Grafana image")
        need("raw.githubusercontent.com", "Grafana downloads OSMO's dashboards at start-up")
        if monitoring.ephemeral_storage_metrics.enabled:
            need("ghcr.io", "k8s-ephemeral-storage-metrics image")
        if monitoring.logs.backend == "loki":
            need("docker.io", "Loki and Grafana Alloy images")
        if monitoring.dashboard is not None:
            need("ghcr.io", "Headlamp image")
    if networking is not None and networking.ingress is not None:
        need("docker.io", "Traefik image")
    for host, why in cluster_egress:
        need(host, why)
    if workflow_data is not None:
        need(*data_store_endpoint(workflow_data))
    return [
        {"host": host, "port": port, "purpose": "; ".join(whys)}
        for (host, port), whys in sorted(entries.items())
    ]


def data_store_endpoint(data: WorkflowDataSpec) -> tuple[str, str, int]:
    """Where workflow pods reach the workflow data bucket they were given keys for."""
    why = "workflow data bucket"
    if data.endpoint is not None:
        parsed = urlparse(data.endpoint)
        default = 443 if parsed.scheme == "https" else 80
        return str(parsed.hostname), why, parsed.port or default
    return bucket_host(data.uri, data.region), why, 443


TRAEFIK_WEB_PORT = 8000
TRAEFIK_WEBSECURE_PORT = 8443
"""Traefik's `web` and `websecure` entrypoint container ports (traefik chart 41.3.0 values.yaml
`ports.web.port`, `ports.websecure.port`); its pods carry `app.kubernetes.io/name: traefik`
(templates/_helpers.tpl traefik.labelselector)."""
HTTPS_REDIRECT = {"to": "websecure", "scheme": "https", "permanent": True}
"""`ports.web.http.redirections.entryPoint`: every request on port 80 gets a permanent redirect to
the websecure entrypoint's exposed port 443 (traefik chart 41.3.0 templates/_podtemplate.tpl
renders `--entryPoints.web.http.redirections.entryPoint.to=:443`, `.scheme`, `.permanent`;
EXAMPLES.md "Redirect permanently traffic from http to https")."""
CERT_MANAGER_ANNOTATIONS = {
    "issuer": "cert-manager.io/issuer",
    "clusterIssuer": "cert-manager.io/cluster-issuer",
}
"""cert-manager's ingress-shim issues a certificate for each `spec.tls` entry of an Ingress
carrying one of these annotations, into that entry's `secretName` in the Ingress's namespace
(cert-manager.io/docs/usage/ingress/); an `issuer` must live in that same namespace."""


def ui_tls(
    controller: IngressControllerSpec | None, class_name: str | None
) -> IngressTlsSpec | None:
    """The TLS an ingress of `class_name` gets: the stack's controller's, when it serves it."""
    if controller is None or controller.tls is None or class_name != controller.class_name:
        return None
    return controller.tls


def ingress_tls(
    tls: IngressTlsSpec | None, host: str, secret_name: str
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """An ingress's annotations and `spec.tls` for `host`. A provided Secret is Traefik's default
    certificate (its websecure entrypoint terminates TLS for every router without a `tls` of its
    own: `--entryPoints.websecure.http.tls=true`, chart default `ports.websecure.http.tls.enabled:
    true`), so the ingress names nothing; cert-manager needs the annotation and a `tls` entry."""
    if tls is None or tls.source == "secret":
        return {}, []
    annotations = {CERT_MANAGER_ANNOTATIONS[tls.source]: tls.name}
    return annotations, [{"hosts": [host], "secretName": secret_name}]


def ingress_values(spec: IngressControllerSpec, cluster: ClusterHandle) -> dict[str, Any]:
    """Traefik serving one IngressClass (not the cluster default: it does not take over ingresses
    other tools created). With TLS, port 80 only redirects to 443; a provided certificate is the
    default TLSStore's (templates/tlsstore.yaml renders `tlsStore.<name>` as a TLSStore)."""
    operator = cluster.node_roles.get("operator")
    values: dict[str, Any] = {
        "ingressClass": {"enabled": True, "isDefaultClass": False, "name": spec.class_name},
        "providers": {"kubernetesIngress": {"enabled": True}},
        "service": {"spec": {"type": spec.service_type}},
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    if spec.tls is not None:
        values["ports"] = {"web": {"http": {"redirections": {"entryPoint": dict(HTTPS_REDIRECT)}}}}
        if spec.tls.source == "secret":
            values["tlsStore"] = {"default": {"defaultCertificate": {"secretName": spec.tls.name}}}
    if operator is not None:
        values["nodeSelector"] = dict(operator.selector)
        if operator.tolerations:
            values["tolerations"] = [dict(t) for t in operator.tolerations]
    return values


class IngressControllerArgs(TypedDict):
    """Inputs for IngressController."""

    spec: IngressControllerSpec
    cluster: ClusterHandle


class IngressController(pulumi.ComponentResource):
    """Traefik in its own namespace, for Grafana and the Kubernetes web UI."""

    release: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: IngressControllerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace(
            f"{name}-ns",
            name=spec.namespace,
            role="ingress",
            opts=child,
        )
        # A LoadBalancer Service leaves a cloud load balancer behind: never deleted_with.
        self.release = _helm.release(
            f"{name}-traefik",
            release_name="traefik",
            chart=versions.TRAEFIK,
            namespace=ns.metadata.name,
            values=ingress_values(spec, args["cluster"]),
            overrides=spec.values,
            timeout_seconds=INGRESS_TIMEOUT_SECONDS,
            atomic=True,
            # Its pods run on the operator pool: wait for it (and go before it on destroy).
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(args["cluster"].workload_dependencies)
            ),
        )
        self.register_outputs({})


ISOLATION_TEMPLATE = "osmo-workflow-isolation"
"""The OSMO group template and pod template names (the same in every backend's fragment)."""
ISOLATION_LABEL = "osmo-backend.nvidia.com/workflow-isolation"
"""Put on the pods of this backend's pool by its pod template: the namespace-wide default policy
selects only them, so pods of pools without the group template keep their traffic."""
ISOLATION_WORKER_RULES: tuple[dict[str, Any], ...] = (
    {
        "apiGroups": ["networking.k8s.io"],
        "resources": ["networkpolicies"],
        "verbs": ["list", "create", "delete", "patch"],
    },
)
"""`services.backendWorker.extraRBACRules` of the backend-operator chart (1.4.0
templates/backend-worker-rbac.yaml appends them to the worker's Role in the workflow namespace):
OSMO's worker creates group template resources and needs these four verbs on their kind
(NVIDIA/OSMO docs/deployment_guide/advanced_config/group_template.rst, Required Backend
Permissions)."""


def isolation_group_template() -> dict[str, Any]:
    """One NetworkPolicy per task group, created by OSMO before the group's pods and deleted
    with the group (NVIDIA/OSMO src/utils/job/task.py: group templates are prepended to the
    group's resources; render_group_templates substitutes `{{WF_*}}` tokens everywhere in the
    manifest, and _convert_labels_to_variables turns the pods' `osmo.workflow_uuid` and
    `osmo.group_uuid` labels into WF_UUID and WF_GROUP_UUID with the same values). It admits
    into the group's pods every pod of the same workflow: every group of a workflow admits the
    others, so tasks of one workflow always reach each other."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "osmo-isolation-{{WF_GROUP_UUID}}"},
        "spec": {
            "podSelector": {"matchLabels": {"osmo.group_uuid": "{{WF_GROUP_UUID}}"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"osmo.workflow_uuid": "{{WF_UUID}}"}}}]}
            ],
        },
    }


def isolation_pod_template() -> dict[str, Any]:
    """Marks the pool's pods for the namespace-wide default policy (OSMO merges pod templates
    over its base pod spec, metadata.labels included: docs/deployment_guide/advanced_config/
    pod_template.rst)."""
    return {"metadata": {"labels": {ISOLATION_LABEL: "true"}}}


def isolation_default_policy(
    operator_namespace: str,
) -> k8s.networking.v1.NetworkPolicySpecArgsDict:
    """The namespace-wide default for marked pods: ingress only from OSMO's own namespace (the
    backend listener and worker); each group's policy adds its own workflow's pods."""
    return {
        "pod_selector": {"match_labels": {ISOLATION_LABEL: "true"}},
        "policy_types": ["Ingress"],
        "ingress": [
            {
                "from_": [
                    {
                        "namespace_selector": {
                            "match_labels": {"kubernetes.io/metadata.name": operator_namespace}
                        }
                    }
                ]
            }
        ],
    }
