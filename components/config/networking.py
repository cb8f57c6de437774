"""`osmo-backend:networking`: the workflow namespace's egress NetworkPolicy."""

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal, Self, cast

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components import versions
from components._validate import Problems, dns1123_subdomain_problem, show
from components.config._model import (
    Check,
    Ctx,
    DnsLabel,
    Flag,
    IfEnabled,
    Model,
    Reasons,
    Section,
    Values,
    ctx,
    fail,
    given_or,
    like,
    one_of,
    section,
)
from components.config._rules import chart_values

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


def cidrs(*, ipv4: bool = False) -> Check:
    """A list of networks (absent: none), none covering every address nor overlapping another."""

    def check(value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list | tuple):
            raise fail(f"must be a list of CIDRs, got {show(value)}")
        reasons = Reasons()
        networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for index, item in enumerate(cast(Sequence[Any], value)):
            try:
                network = ipaddress.ip_network(str(item), strict=True)
            except ValueError as err:
                reasons.add(index, f"{show(item)} is not a CIDR ({err})")
                continue
            if network.prefixlen == 0:
                reasons.add(
                    index, f"{show(item)} covers every address; list the cluster's own ranges"
                )
                continue
            for earlier in networks:
                if network.version == earlier.version and network.overlaps(earlier):
                    reasons.add(index, f"{network} overlaps {earlier} listed before it")
            networks.append(network)
        reasons.check()
        for index, network in enumerate(networks if ipv4 else []):
            if network.version != 4:
                reasons.add(
                    index,
                    f"{str(network)!r} is not IPv4: the policy's egress rule is 0.0.0.0/0 minus "
                    "what workflow pods may not reach",
                )
        reasons.check()
        return tuple(map(str, networks))

    return Check(check)


Cidrs = Annotated[tuple[str, ...], cidrs()]


def _egress_rule(rule: Any) -> Any:
    if isinstance(rule, Mapping) and (
        unknown := sorted(set(cast(Mapping[str, Any], rule)) - {"to", "ports"})
    ):
        raise fail(f"a NetworkPolicy egress rule has only `to` and `ports`, not {unknown}")
    return rule


class WorkflowPolicySpec(Model):
    """The backend-operator's egress-only policy on every workflow pod: anything outside the
    cluster's own ranges, the namespace itself, DNS, and what is allowed explicitly."""

    enabled: Flag = True
    """Workflow egress NetworkPolicy."""
    isolate_workflows: Flag = True
    """Admit traffic into a workflow's pods only from pods of the same workflow and from OSMO's
    namespace (an OSMO group template per task group, and a namespace-wide default)."""
    cluster_cidrs: Cidrs = Field(default=(), alias="clusterCIDRs", validate_default=True)
    """The cluster's pod, service and node CIDRs: workflow pods must not reach them (the `except`
    of 0.0.0.0/0). Default: the network the stack creates."""
    allowed_cidrs: Cidrs = Field(default=(), alias="allowedCIDRs")
    """In-range CIDRs workflow pods still need (an in-cluster OSMO gateway, a kube-dns ClusterIP
    on iptables CNIs, STS endpoints)."""
    blocked_cidrs: Cidrs = Field(default=(), alias="blockedCIDRs")
    """Ranges outside the cluster workflow pods never reach. Default: link-local (instance
    metadata) on eks, plus Azure's host address 168.63.129.16/32 on aks and existing; none on gke
    (Workload Identity needs its metadata server)."""
    reachable_cidrs: Annotated[tuple[str, ...], cidrs(ipv4=True)] = Field(
        default=(), alias="reachableCIDRs"
    )
    """The only IPv4 networks workflow pods reach (plus DNS, allowed namespaces and CIDRs)
    instead of everything outside the cluster; include the OSMO service."""
    dns_namespace: DnsLabel = DEFAULT_DNS_NAMESPACE
    """Where DNS runs."""
    allowed_namespaces: tuple[DnsLabel, ...] = ()
    """Namespaces workflow pods may reach."""
    extra_egress_rules: tuple[Annotated[dict[str, Any], Check(_egress_rule)], ...] = Field(
        default=(), alias="additionalEgressRules"
    )
    """Raw NetworkPolicyEgressRule objects (`to`, `ports`), appended as they are."""

    @field_validator("cluster_cidrs")
    @classmethod
    def _ranges_known(cls, ranges: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        context = info.context
        known = not isinstance(context, Ctx) or context.cluster_cidrs_known
        if not ranges and info.data.get("enabled") is True and not known:
            raise fail(
                "is required while the workflow policy is enabled and the stack does not create "
                "the network: list the cluster's pod, service and node CIDRs (without them the "
                "policy isolates nothing), or set enabled: false"
            )
        return ranges

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        blocked = list(BLOCKED_BY_DEFAULT.get(ctx(info).cluster_kind, ()))
        return given_or(data, info, {"blockedCIDRs": blocked})


TlsSource = Literal["secret", "issuer", "clusterIssuer"]


ObjectName = Annotated[
    str,
    like(
        lambda v: dns1123_subdomain_problem(v) is None,
        "a Kubernetes object name",
        (("maxLength", 253),),
    ),
]


class IngressTlsSpec(Model):
    """TLS for everything the stack's ingress controller serves; port 80 redirects to 443.
    Exactly one key. cert-manager must already run in the cluster."""

    secret_name: ObjectName | None = None
    """A kubernetes.io/tls Secret in the ingress namespace: Traefik's default certificate for
    every host."""
    issuer: ObjectName | None = None
    """A cert-manager Issuer in each ingress's namespace (one certificate per ingress host)."""
    cluster_issuer: ObjectName | None = None
    """A cert-manager ClusterIssuer (one certificate per ingress host)."""

    @model_validator(mode="after")
    def _one(self) -> Self:
        given = [key for key, name in self.model_dump(by_alias=True).items() if name]
        if len(given) != 1:
            raise fail(
                "set exactly one of secretName (a kubernetes.io/tls Secret in the ingress "
                "namespace), issuer or clusterIssuer (cert-manager, already installed), "
                f"got {', '.join(given) or 'none'}"
            )
        return self

    @property
    def source(self) -> TlsSource:
        """secret: Traefik's default certificate for every host; issuer / clusterIssuer:
        cert-manager issues one certificate per ingress host."""
        return "secret" if self.secret_name else "issuer" if self.issuer else "clusterIssuer"

    @property
    def name(self) -> str:
        """The Secret's, Issuer's or ClusterIssuer's name."""
        return self.secret_name or self.issuer or self.cluster_issuer or ""


ServiceType = Literal["LoadBalancer", "NodePort", "ClusterIP"]


class IngressControllerSpec(Model):
    """An ingress controller (Traefik) for the web UIs this stack exposes."""

    enabled: Flag = False
    """Install Traefik as the web UIs' ingress controller."""
    class_name: DnsLabel = "osmo"
    """IngressClass it serves; Grafana and the web UI ingresses use it unless they name one."""
    namespace: DnsLabel = "ingress"
    """Its namespace."""
    service_type: Annotated[ServiceType, one_of(ServiceType)] = "LoadBalancer"
    """Its Service type."""
    values: Annotated[Values, chart_values(versions.TRAEFIK)] = Field(default_factory=dict)
    """Traefik chart overrides."""
    tls: IngressTlsSpec | None = None
    """Default: plain HTTP on port 80 (labs on a trusted network only)."""

    @field_validator("tls")
    @classmethod
    def _needs_controller(cls, tls: IngressTlsSpec | None, info: ValidationInfo) -> Any:
        if tls is not None and info.data.get("enabled") is not True:
            raise fail("needs the ingress controller (enabled: true)")
        return tls


class NetworkingSpec(Model):
    """Networking."""

    ingress: Annotated[IngressControllerSpec | None, Section, IfEnabled] = None
    """The stack's ingress controller. Default: none (the cluster's own, if any, serves the
    ingresses)."""
    workflow_policy: Annotated[WorkflowPolicySpec, Section] = WorkflowPolicySpec()
    """The workflow namespace's egress NetworkPolicy."""

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        return given_or(data, info, {"workflowPolicy": {}})


def parse_networking(problems: Problems, value: Any, context: Ctx) -> NetworkingSpec | None:
    return section(problems, "networking", NetworkingSpec, value, context)
