"""The multi-language face of the library: `OsmoBackendStack`, one component whose arguments mirror
the stack-config contract (snake_case), for TypeScript, Go and YAML programs through
`pulumi package add ./plugin`.

The arguments are converted to the stack-config shape and validated by the same `load_spec` as
stack files; a problem fails with every `path: reason` at once. Arguments are plain values (the
component branches on them), so credentials are not taken here: use a kubeconfig file path and a
generated token, or the stack-file program for secret-sourced credentials.

No `from __future__ import annotations` in this module: Pulumi's schema analyzer reads these
annotations at runtime.
"""

import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi

from components.backend import OsmoBackend
from components.config import ConfigError, load_spec

PACKAGE = "osmo-backend"
TYPE = f"{PACKAGE}:index:OsmoBackendStack"


class NodeRoleInputs(TypedDict):
    """How OSMO finds one role's nodes."""

    selector: NotRequired[dict[str, str]]
    """Node labels selecting the role. Default: {node-type: <role>}."""
    nodes: NotRequired[list[str]]
    """Node names this stack labels into the role (GPU nodes are also tainted)."""


class NodeRolesInputs(TypedDict):
    """OSMO's node roles."""

    operator: NotRequired[NodeRoleInputs]
    compute: NotRequired[NodeRoleInputs]
    gpu: NotRequired[NodeRoleInputs]
    jetson: NotRequired[NodeRoleInputs]


class GpuStackInputs(TypedDict):
    """Who installs the NVIDIA driver and toolkit: `operator` (default) or `host`."""

    driver: NotRequired[str]
    toolkit: NotRequired[str]


class ClusterInputs(TypedDict):
    """The cluster (kind `existing` today)."""

    kind: str
    """existing, eks, gke or aks."""
    name: str
    """Cluster name (DNS-1123 label); the provider's cluster_identifier."""
    kubeconfig: NotRequired[str]
    """Kubeconfig file path, relative to the program's directory."""
    context: NotRequired[str]
    """Kubeconfig context. Default: its current-context."""
    node_roles: NotRequired[NodeRolesInputs]
    gpu_stack: NotRequired[GpuStackInputs]


class NamespacesInputs(TypedDict):
    """OSMO's namespaces."""

    operator: NotRequired[str]
    """Default: osmo-operator."""
    workflows: NotRequired[str]
    """Default: osmo-workflows."""
    test: NotRequired[str]
    """Default: osmo-test."""


class TokenInputs(TypedDict):
    """The backend bootstrap token (generated or an existing Secret here)."""

    source: NotRequired[str]
    """generate (default) or existing."""
    credential_name: NotRequired[str]
    secret_name: NotRequired[str]
    secret_key: NotRequired[str]
    generation: NotRequired[int]
    """Rotation generation (restarts listener and worker)."""
    overlap: NotRequired[bool]
    """Rotation phase 1: the control plane also accepts the previous token."""


class ControlPlaneInputs(TypedDict):
    """The OSMO service's cluster, where the token Secret is written too."""

    name: str
    kubeconfig: NotRequired[str]
    context: NotRequired[str]
    namespace: NotRequired[str]


class OsmoInputs(TypedDict):
    """The OSMO connection."""

    backend_name: str
    service_url: str
    """The OSMO gateway URL (https)."""
    router_address: NotRequired[str]
    image_tag: NotRequired[str]
    namespaces: NotRequired[NamespacesInputs]
    backend_tests: NotRequired[bool]
    pool: NotRequired[str]
    token: NotRequired[TokenInputs]
    control_plane: NotRequired[ControlPlaneInputs]
    image_pull_secret: NotRequired[str]
    """Name of an existing nvcr.io pull Secret."""


class ReleaseInputs(TypedDict):
    """A Helm release of the operator layer."""

    release_name: NotRequired[str]
    namespace: NotRequired[str]
    values: NotRequired[dict[str, Any]]
    """Chart overrides, merged last; keys must be ones the pinned chart reads."""


class GpuOperatorInputs(ReleaseInputs):
    """The NVIDIA GPU Operator release."""

    enabled: NotRequired[bool]
    runtime_class_stub: NotRequired[bool]


class BackendOperatorInputs(TypedDict):
    """The OSMO backend-operator release (in the operator namespace)."""

    release_name: NotRequired[str]
    values: NotRequired[dict[str, Any]]
    wait: NotRequired[bool]


class OperatorsInputs(TypedDict):
    """The operator layer."""

    kai_scheduler: NotRequired[ReleaseInputs]
    gpu_operator: NotRequired[GpuOperatorInputs]
    backend_operator: NotRequired[BackendOperatorInputs]


class IngressInputs(TypedDict):
    host: str
    class_name: NotRequired[str]


class WebUiInputs(TypedDict):
    """A web UI's external URL or ingress."""

    url: NotRequired[str]
    ingress: NotRequired[IngressInputs]


class DashboardInputs(WebUiInputs):
    """The Kubernetes web UI (Headlamp)."""

    enabled: NotRequired[bool]
    values: NotRequired[dict[str, Any]]


class PrometheusInputs(TypedDict):
    retention: NotRequired[str]
    storage_size: NotRequired[str]
    storage_class: NotRequired[str]
    values: NotRequired[dict[str, Any]]


class EphemeralStorageMetricsInputs(TypedDict):
    enabled: NotRequired[bool]
    values: NotRequired[dict[str, Any]]


class LogsInputs(TypedDict):
    backend: NotRequired[str]
    """loki (default) or none."""
    retention: NotRequired[str]
    storage_size: NotRequired[str]
    loki_values: NotRequired[dict[str, Any]]
    collector_values: NotRequired[dict[str, Any]]


class MonitoringInputs(TypedDict):
    """Monitoring and logging (on by default)."""

    enabled: NotRequired[bool]
    cluster_label: NotRequired[str]
    namespace: NotRequired[str]
    agents_namespace: NotRequired[str]
    prometheus: NotRequired[PrometheusInputs]
    grafana: NotRequired[WebUiInputs]
    alerts: NotRequired[bool]
    ephemeral_storage_metrics: NotRequired[EphemeralStorageMetricsInputs]
    logs: NotRequired[LogsInputs]
    dashboard: NotRequired[DashboardInputs]


class WorkflowPolicyInputs(TypedDict):
    """The workflow namespace's egress NetworkPolicy."""

    enabled: NotRequired[bool]
    cluster_cidrs: NotRequired[list[str]]
    dns_namespace: NotRequired[str]
    allowed_namespaces: NotRequired[list[str]]
    allowed_cidrs: NotRequired[list[str]]
    additional_egress_rules: NotRequired[list[dict[str, Any]]]


class IngressControllerInputs(TypedDict):
    """Traefik for the web UIs."""

    enabled: NotRequired[bool]
    class_name: NotRequired[str]
    namespace: NotRequired[str]
    service_type: NotRequired[str]
    values: NotRequired[dict[str, Any]]


class NetworkingInputs(TypedDict):
    workflow_policy: NotRequired[WorkflowPolicyInputs]
    ingress: NotRequired[IngressControllerInputs]


class StorageInputs(TypedDict):
    storage_class: NotRequired[str]
    """StorageClass for in-cluster state. Default: the cluster's default."""


class OsmoBackendStackArgs(TypedDict):
    """One OSMO backend, configured as a stack file would configure it."""

    cluster: ClusterInputs
    osmo: OsmoInputs
    operators: NotRequired[OperatorsInputs]
    monitoring: NotRequired[MonitoringInputs]
    networking: NotRequired[NetworkingInputs]
    storage: NotRequired[StorageInputs]


# Config keys whose camelCase form is not the mechanical one.
_SPECIAL_KEYS = {"cluster_cidrs": "clusterCIDRs", "allowed_cidrs": "allowedCIDRs"}


def _camel(key: str) -> str:
    if key in _SPECIAL_KEYS:
        return _SPECIAL_KEYS[key]
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _convert(value: Any, typ: Any) -> Any:
    """Rename keys of TypedDict-typed values to the stack-config spelling; free maps (chart
    values, selectors, raw rules) and lists of them stay as given."""
    if isinstance(typ, type) and typing.is_typeddict(typ) and isinstance(value, Mapping):
        hints = typing.get_type_hints(typ)
        return {
            _camel(key): _convert(child, _unwrap(hints.get(key, Any)))
            for key, child in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    return value


def _unwrap(typ: Any) -> Any:
    """NotRequired[X] / Required[X] -> X."""
    while typing.get_origin(typ) in (NotRequired, typing.Required):
        typ = typing.get_args(typ)[0]
    return typ


def to_stack_config(args: Mapping[str, Any]) -> dict[str, Any]:
    """`OsmoBackendStackArgs` as the flat stack-config map (`osmo-backend:<section>` -> object)."""
    hints = typing.get_type_hints(OsmoBackendStackArgs)
    return {
        f"{PACKAGE}:{_camel(section)}": _convert(value, _unwrap(hints[section]))
        for section, value in args.items()
        if value is not None
    }


class OsmoBackendStack(pulumi.ComponentResource):
    """An OSMO backend cluster: adopted cluster, operator layer, OSMO connection, monitoring."""

    cluster_name: pulumi.Output[str]
    backend_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """The kubeconfig the stack's Kubernetes provider uses (secret)."""
    service_values: pulumi.Output[dict[str, Any]]
    """What the OSMO service chart needs for this backend (Secrets by name only)."""

    def __init__(
        self, name: str, args: OsmoBackendStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        try:
            spec = load_spec(to_stack_config(args), (), base_dir=Path.cwd())
        except ConfigError as err:
            details: list[pulumi.InputPropertyErrorDetails] = []
            for line in err.problems:
                path, _, reason = line.partition(": ")
                details.append({"property_path": path, "reason": reason})
            message = "invalid OsmoBackendStack arguments"
            raise pulumi.InputPropertiesError(message, details) from None
        backend = OsmoBackend(name, {"spec": spec}, pulumi.ResourceOptions(parent=self))
        self.cluster_name = backend.cluster_name
        self.backend_name = backend.backend_name
        self.kubeconfig = backend.kubeconfig
        self.service_values = pulumi.Output.from_input(backend.service_values)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "backend_name": self.backend_name,
                "kubeconfig": self.kubeconfig,
                "service_values": self.service_values,
            }
        )
