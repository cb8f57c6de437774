"""The multi-language face of the library: `OsmoBackendStack`, one component whose arguments mirror
the stack-config contract (snake_case), for TypeScript, Go and YAML programs through
`pulumi package add ./plugin`.

The arguments are converted to the stack-config shape and validated by the same `load_spec` as
stack files; a problem fails with every reason at once, each named by its input path
(`osmo.backendName`). Arguments are plain values (the component branches on them), except
`cluster.kubeconfigContent`: an Input (secret), such as the kubeconfig of a cluster created in
the same program. Everything else is validated up front; the checks that need the kubeconfig's
content run when it is known.

Other languages send numbers as floats (protobuf Struct), and the SDK's integer conversion does
not reach the constructor (pulumi/provider/experimental/component.py, `map_input_properties`
converts with `int(...)` and then overwrites the result with the raw value): whole-number floats
are made integers here, by the argument types.

No `from __future__ import annotations` in this module: Pulumi's schema analyzer reads these
annotations at runtime.
"""

import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from components import kubeconfig as kc
from components._validate import Problems
from components.backend import OsmoBackend, OsmoBackendArgs
from components.config import (
    KUBECONFIG_SECRET_KEY,
    SECRET_PLACEHOLDER_PREFIX,
    ConfigError,
    load_spec,
)
from components.versions import PACKAGE_VERSION

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
    kubeconfig_content: NotRequired[pulumi.Input[str]]
    """Kubeconfig content instead of a file, e.g. a cluster's kubeconfig output from the same
    program. Kept secret; checked when its value is known."""
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

KUBECONFIG_CONTENT_PATH = "cluster.kubeconfigContent"
"""The input path of the kubeconfig content (a secret)."""

_SECRET_INPUT_PATHS = frozenset({KUBECONFIG_CONTENT_PATH})
"""Input paths whose values are secret. The engine prints the input's value next to each
problem whose path it finds in the inputs (pulumi/pulumi pkg/resource/deploy/source_eval.go,
`errorToMessage`: "property %v with value '%v' has a problem"), secrets included, so problems
with these are lines of the message instead."""

_INVALID = "invalid OsmoBackendStack arguments"


def _schema_name(key: str) -> str:
    """The analyzer's camelCase (`cluster_cidrs` -> `clusterCidrs`)."""
    head, *rest = key.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel(key: str) -> str:
    """The stack-config spelling (`cluster_cidrs` -> `clusterCIDRs`)."""
    return _SPECIAL_KEYS.get(key, _schema_name(key))


_TO_SCHEMA = {config: _schema_name(key) for key, config in _SPECIAL_KEYS.items()}
_CONFIG_SPELLED = re.compile(r"(?<=\.)(" + "|".join(_TO_SCHEMA) + r")(?=[.\[]|$)")


def _hints(typ: Any) -> dict[str, Any]:
    """A TypedDict's field types (`pulumi.Input` names `Output` as a forward reference)."""
    return typing.get_type_hints(typ, localns=vars(pulumi.output))


def _convert(value: Any, typ: Any) -> Any:
    """Rename keys of TypedDict-typed values to the stack-config spelling and make whole-number
    floats of `int` fields integers; free maps (chart values, selectors, raw rules) and lists of
    them stay as given."""
    if isinstance(typ, type) and typing.is_typeddict(typ) and isinstance(value, Mapping):
        hints = _hints(typ)
        return {
            _camel(key): _convert(child, _unwrap(hints.get(key, Any)))
            for key, child in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if typ is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _unwrap(typ: Any) -> Any:
    """NotRequired[X] / Required[X] -> X."""
    while typing.get_origin(typ) in (NotRequired, typing.Required):
        typ = typing.get_args(typ)[0]
    return typ


def to_stack_config(args: Mapping[str, Any]) -> dict[str, Any]:
    """`OsmoBackendStackArgs` as the flat stack-config map (`osmo-backend:<section>` -> object).

    `cluster.kubeconfig_content` becomes the `osmo-backend:kubeconfig` secret when it is a
    known string, and a placeholder (checked later, see `OsmoBackendStack`) when it is an Output.
    """
    hints = _hints(OsmoBackendStackArgs)
    config = {
        f"{PACKAGE}:{_camel(section)}": _convert(value, _unwrap(hints[section]))
        for section, value in args.items()
        if value is not None
    }
    cluster = config.get(f"{PACKAGE}:cluster")
    if isinstance(cluster, dict) and "kubeconfigContent" in cluster:
        content = cluster.pop("kubeconfigContent")  # pyright: ignore[reportUnknownVariableType]
        if content is not None:
            # An Output's value is not known yet: the placeholder makes `load_spec` skip the
            # content checks (as for a secret the offline plan cannot decrypt).
            config[KUBECONFIG_SECRET_KEY] = (
                content if isinstance(content, str) else SECRET_PLACEHOLDER_PREFIX + "deferred"
            )
    return config


def input_path(config_path: str) -> str:
    """A stack-config problem path as the component's input path:
    `osmo-backend:networking.workflowPolicy.clusterCIDRs[0]` ->
    `networking.workflowPolicy.clusterCidrs[0]`."""
    if config_path == KUBECONFIG_SECRET_KEY:
        return KUBECONFIG_CONTENT_PATH
    path = config_path.removeprefix(f"{PACKAGE}:")
    return _CONFIG_SPELLED.sub(lambda match: _TO_SCHEMA[match[0]], path)


def arguments_error(problems: Iterable[str]) -> pulumi.InputPropertiesError:
    """`path: reason` lines as the error the engine reports one per line, by input path."""
    details: list[pulumi.InputPropertyErrorDetails] = []
    message = _INVALID
    for line in problems:
        path, _, reason = line.partition(": ")
        path = input_path(path)
        if path in _SECRET_INPUT_PATHS:
            message += f"\n\t\t- property {path} has a problem: {reason}"
        else:
            details.append({"property_path": path, "reason": reason})
    return pulumi.InputPropertiesError(message, details)


def checked_kubeconfig(text: str, context: str | None) -> str:
    """The checks the stack file's kubeconfig gets, on content known only now; the minified
    kubeconfig, or every problem as the arguments error. Raised inside an apply, it surfaces
    where the provider server awaits the component's outputs, after `construct`
    (pulumi/provider/server.py `_construct_response`), as the same INVALID_ARGUMENT status."""
    problems = Problems()
    checked = kc.check(problems, KUBECONFIG_SECRET_KEY, text, context, None)
    if checked is None:
        raise arguments_error(problems.lines)
    return checked.content


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
        config = to_stack_config(args)
        problems: list[str] = []
        if KUBECONFIG_SECRET_KEY in config and "kubeconfig" in args["cluster"]:
            del config[KUBECONFIG_SECRET_KEY]
            problems.append(
                f"{PACKAGE}:cluster.kubeconfig: "
                f"set either a file path here or {KUBECONFIG_CONTENT_PATH}, not both"
            )
        secret_keys = [KUBECONFIG_SECRET_KEY] if KUBECONFIG_SECRET_KEY in config else []
        try:
            spec = load_spec(config, secret_keys, base_dir=Path.cwd())
        except ConfigError as err:
            raise arguments_error([*problems, *err.problems]) from None
        if problems:
            raise arguments_error(problems)
        backend_args: OsmoBackendArgs = {"spec": spec}
        content = args["cluster"].get("kubeconfig_content")
        if content is not None and not isinstance(content, str):
            context = args["cluster"].get("context")
            backend_args["kubeconfig"] = pulumi.Output.secret(content).apply(
                lambda text: checked_kubeconfig(text, context)
            )
        backend = OsmoBackend(name, backend_args, pulumi.ResourceOptions(parent=self))
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


class OsmoBackendProvider(ComponentProvider):
    """The SDK's component provider, reporting invalid arguments as the engine expects them.

    The SDK wraps whatever the constructor raises in `ComponentInitError`, which its gRPC server
    reports as "Exception: <message>" with a traceback; only an `InputPropertiesError` raised by
    `construct` itself becomes the INVALID_ARGUMENT status with one detail per property
    (pulumi/provider/experimental/component.py `construct`; pulumi/provider/server.py
    `ProviderServicer.Construct`). So it is unwrapped here.
    """

    def __init__(self) -> None:
        super().__init__([OsmoBackendStack], PACKAGE, None, PACKAGE_VERSION)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as err:
            if isinstance(err.inner, pulumi.InputPropertiesError):
                raise err.inner from None
            raise
