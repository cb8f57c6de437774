"""`osmo-backend:networking`: the workflow namespace's egress NetworkPolicy."""

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from components import versions
from components._validate import (
    Problems,
    dns1123_subdomain_problem,
    expect_dns_label,
    expect_mapping,
    show,
)
from components.config._common import PROJECT, decode, flag, overrides, section

DEFAULT_DNS_NAMESPACE = "kube-system"
LINK_LOCAL = "169.254.0.0/16"
"""The instance metadata services (AWS and Azure IMDS at 169.254.169.254, the EKS Pod Identity
agent, and any node credential endpoint on link-local addresses)."""
AZURE_HOST = "168.63.129.16/32"
"""Azure's virtual public IP for the host agent (WireServer): DHCP, DNS and health probes for
VMs; it also hands out VM extension settings."""
BLOCKED_BY_DEFAULT: dict[str, tuple[str, ...]] = {
    "eks": (LINK_LOCAL,),
    "aks": (LINK_LOCAL, AZURE_HOST),
    "existing": (LINK_LOCAL, AZURE_HOST),
    # GKE's metadata server answers a pod only with that pod's own Workload Identity, and
    # Workload Identity needs it (169.254.169.254, and 169.254.169.252 on Dataplane V2): it
    # stays reachable there.
    "gke": (),
}
"""Addresses workflow pods never reach by default, per cluster kind (beyond the cluster's own
ranges)."""


@dataclass(frozen=True)
class WorkflowPolicySpec:
    """The backend-operator's egress-only policy on every workflow pod: anything outside the
    cluster's own ranges, the namespace itself, DNS, and what is allowed explicitly."""

    enabled: bool = True
    cluster_cidrs: tuple[str, ...] = ()
    """Pod, service and node ranges workflow pods must not reach (the `except` of 0.0.0.0/0)."""
    dns_namespace: str = DEFAULT_DNS_NAMESPACE
    allowed_namespaces: tuple[str, ...] = ()
    allowed_cidrs: tuple[str, ...] = ()
    """In-network endpoints inside those ranges that workflow pods still need (an in-cluster OSMO
    gateway, a kube-dns ClusterIP on iptables CNIs, STS endpoints)."""
    extra_egress_rules: tuple[dict[str, Any], ...] = field(default=())
    """Raw NetworkPolicyEgressRule objects, appended as they are."""
    blocked_cidrs: tuple[str, ...] = ()
    """Ranges outside the cluster that workflow pods never reach either: the metadata services
    (BLOCKED_BY_DEFAULT per cluster kind)."""
    reachable_cidrs: tuple[str, ...] = ()
    """If given, the only IPv4 networks (besides DNS, the allowed namespaces and CIDRs) workflow
    pods reach, instead of everything outside the cluster."""
    isolate_workflows: bool = True
    """Admit traffic into a workflow's pods only from pods of the same workflow and from OSMO's
    own namespace (an OSMO group template per task group, and a namespace-wide default)."""


TlsSource = Literal["secret", "issuer", "clusterIssuer"]


@dataclass(frozen=True)
class IngressTlsSpec:
    """TLS for everything the stack's ingress controller serves (port 80 redirects to 443)."""

    source: TlsSource
    """secret: a `kubernetes.io/tls` Secret in the controller's namespace, Traefik's default
    certificate for every host; issuer / clusterIssuer: cert-manager (already running in the
    cluster) issues one certificate per ingress host."""
    name: str
    """The Secret's, Issuer's or ClusterIssuer's name."""


ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]
SERVICE_TYPES: tuple[ServiceType, ...] = get_args(ServiceType)


@dataclass(frozen=True)
class IngressControllerSpec:
    """An ingress controller (Traefik) for the web UIs this stack exposes."""

    class_name: str = "osmo"
    """IngressClass it serves; Grafana and the web UI ingresses use it unless they name one."""
    namespace: str = "ingress"
    service_type: ServiceType = "LoadBalancer"
    values: Mapping[str, Any] = field(default_factory=dict[str, Any])
    tls: IngressTlsSpec | None = None
    """None: plain HTTP on port 80 (labs on a trusted network only)."""


@dataclass(frozen=True)
class NetworkingSpec:
    workflow_policy: WorkflowPolicySpec = field(default_factory=WorkflowPolicySpec)
    ingress: IngressControllerSpec | None = None
    """None: no controller installed (the cluster's own, if any, serves the ingresses)."""


def _cidrs(problems: Problems, path: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"must be a list of CIDRs, got {show(value)}")
        return None
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    ok = True
    for index, item in enumerate(cast(list[Any], value)):
        where = f"{path}[{index}]"
        try:
            network = ipaddress.ip_network(str(item), strict=True)
        except ValueError as err:
            problems.add(where, f"{show(item)} is not a CIDR ({err})")
            ok = False
            continue
        if network.prefixlen == 0:
            problems.add(where, f"{show(item)} covers every address; list the cluster's own ranges")
            ok = False
            continue
        for earlier in networks:
            if network.version == earlier.version and network.overlaps(earlier):
                problems.add(where, f"{network} overlaps {earlier} listed before it")
                ok = False
        networks.append(network)
    return tuple(str(n) for n in networks) if ok else None


def _ingress(
    problems: Problems, path: str, value: Any
) -> IngressControllerSpec | Literal[False] | None:
    """None: no controller. False: invalid (reported)."""
    body = section(
        problems,
        path,
        value,
        ("enabled", "className", "namespace", "serviceType", "values", "tls"),
    )
    if body is None:
        return False
    if not body:
        return None
    before = len(problems.lines)
    enabled = flag(problems, f"{path}.enabled", body.get("enabled", False))
    defaults = IngressControllerSpec()
    class_name = expect_dns_label(
        problems, f"{path}.className", body.get("className", defaults.class_name)
    )
    namespace = expect_dns_label(
        problems, f"{path}.namespace", body.get("namespace", defaults.namespace)
    )
    service_type = body.get("serviceType", defaults.service_type)
    if service_type not in SERVICE_TYPES:
        problems.add(
            f"{path}.serviceType", f"{show(service_type)} is not one of: {', '.join(SERVICE_TYPES)}"
        )
    values = overrides(problems, f"{path}.values", body.get("values"), versions.TRAEFIK)
    tls = _tls(problems, f"{path}.tls", body.get("tls"))
    if tls is not None and not enabled:
        problems.add(f"{path}.tls", "needs the ingress controller (enabled: true)")
    if len(problems.lines) > before:
        return False
    if not enabled:
        return None
    assert class_name is not None
    assert namespace is not None
    return IngressControllerSpec(
        class_name=class_name,
        namespace=namespace,
        service_type=cast(ServiceType, service_type),
        values=values or {},
        tls=tls or None,
    )


_TLS_KEYS: dict[str, TlsSource] = {
    "secretName": "secret",
    "issuer": "issuer",
    "clusterIssuer": "clusterIssuer",
}


def _tls(problems: Problems, path: str, value: Any) -> IngressTlsSpec | Literal[False] | None:
    """None: no TLS. False: invalid (reported)."""
    body = section(problems, path, value, tuple(_TLS_KEYS))
    if body is None:
        return False
    if value is None:
        return None
    given = [key for key in _TLS_KEYS if body.get(key) is not None]
    if len(given) != 1:
        problems.add(
            path,
            "set exactly one of secretName (a kubernetes.io/tls Secret in the ingress "
            "namespace), issuer or clusterIssuer (cert-manager, already installed), "
            f"got {', '.join(given) or 'none'}",
        )
        return False
    key = given[0]
    name = body[key]
    if not isinstance(name, str) or dns1123_subdomain_problem(name) is not None:
        problems.add(f"{path}.{key}", f"{show(name)} is not a Kubernetes object name")
        return False
    return IngressTlsSpec(source=_TLS_KEYS[key], name=name)


def parse_networking(
    problems: Problems, value: Any, *, cluster_cidrs_known: bool, cluster_kind: str = "existing"
) -> NetworkingSpec | None:
    path = f"{PROJECT}:networking"
    body = section(problems, path, decode(problems, path, value), ("workflowPolicy", "ingress"))
    if body is None:
        return None
    ingress = _ingress(problems, f"{path}.ingress", body.get("ingress"))
    ppath = f"{path}.workflowPolicy"
    policy = section(
        problems,
        ppath,
        body.get("workflowPolicy"),
        (
            "enabled",
            "clusterCIDRs",
            "dnsNamespace",
            "allowedNamespaces",
            "allowedCIDRs",
            "additionalEgressRules",
            "blockedCIDRs",
            "reachableCIDRs",
            "isolateWorkflows",
        ),
    )
    if policy is None:
        return None
    before = len(problems.lines)
    enabled = flag(problems, f"{ppath}.enabled", policy.get("enabled", True))
    isolate = flag(problems, f"{ppath}.isolateWorkflows", policy.get("isolateWorkflows", True))
    cluster_cidrs = _cidrs(problems, f"{ppath}.clusterCIDRs", policy.get("clusterCIDRs"))
    allowed_cidrs = _cidrs(problems, f"{ppath}.allowedCIDRs", policy.get("allowedCIDRs"))
    blocked = policy.get("blockedCIDRs", list(BLOCKED_BY_DEFAULT.get(cluster_kind, ())))
    blocked_cidrs = _cidrs(problems, f"{ppath}.blockedCIDRs", blocked)
    reachable_cidrs = _cidrs(problems, f"{ppath}.reachableCIDRs", policy.get("reachableCIDRs"))
    for index, cidr in enumerate(reachable_cidrs or ()):
        if ipaddress.ip_network(cidr).version != 4:
            problems.add(
                f"{ppath}.reachableCIDRs[{index}]",
                f"{cidr!r} is not IPv4: the policy's egress rule is 0.0.0.0/0 minus what "
                "workflow pods may not reach",
            )
    if enabled and cluster_cidrs == () and not cluster_cidrs_known:
        problems.add(
            f"{ppath}.clusterCIDRs",
            "is required while the workflow policy is enabled and the stack does not create the "
            "network: list the cluster's pod, service and node CIDRs (without them the policy "
            "isolates nothing), or set enabled: false",
        )
    dns = expect_dns_label(
        problems, f"{ppath}.dnsNamespace", policy.get("dnsNamespace", DEFAULT_DNS_NAMESPACE)
    )
    namespaces: list[str] = []
    raw_namespaces = policy.get("allowedNamespaces", [])
    if not isinstance(raw_namespaces, list):
        problems.add(f"{ppath}.allowedNamespaces", f"must be a list, got {show(raw_namespaces)}")
    else:
        for index, ns in enumerate(cast(list[Any], raw_namespaces)):
            checked = expect_dns_label(problems, f"{ppath}.allowedNamespaces[{index}]", ns)
            if checked is not None:
                namespaces.append(checked)
    rules: list[dict[str, Any]] = []
    raw_rules = policy.get("additionalEgressRules", [])
    if not isinstance(raw_rules, list):
        problems.add(f"{ppath}.additionalEgressRules", f"must be a list, got {show(raw_rules)}")
    else:
        for index, rule in enumerate(cast(list[Any], raw_rules)):
            where = f"{ppath}.additionalEgressRules[{index}]"
            checked_rule = expect_mapping(problems, where, rule)
            if checked_rule is None:
                continue
            unknown = sorted(set(checked_rule) - {"to", "ports"})
            if unknown:
                problems.add(
                    where, f"a NetworkPolicy egress rule has only `to` and `ports`, not {unknown}"
                )
                continue
            rules.append(dict(checked_rule))
    if len(problems.lines) > before or ingress is False:
        return None
    assert enabled is not None
    assert cluster_cidrs is not None
    assert allowed_cidrs is not None
    assert dns is not None
    assert blocked_cidrs is not None
    assert reachable_cidrs is not None
    return NetworkingSpec(
        workflow_policy=WorkflowPolicySpec(
            enabled=enabled,
            cluster_cidrs=cluster_cidrs,
            dns_namespace=dns,
            allowed_namespaces=tuple(namespaces),
            allowed_cidrs=allowed_cidrs,
            extra_egress_rules=tuple(rules),
            blocked_cidrs=blocked_cidrs,
            reachable_cidrs=reachable_cidrs,
            isolate_workflows=bool(isolate),
        ),
        ingress=ingress,
    )
