"""The stack-config contract (DESIGN section 3): a typed, validated model of `osmo-backend:*` keys.

`load_spec` takes the flat config map Pulumi hands a program (`{"osmo-backend:cluster": "<json>"}`),
checks everything, and either returns a `StackSpec` or raises `ConfigError` listing every problem as
`osmo-backend:<key>.<path>: <reason>`. It runs before any resource is registered.
"""

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args
from urllib.parse import urlparse

from components import chart_keys, versions
from components import kubeconfig as kc
from components._validate import (
    ConfigError,
    Problems,
    dns1123_subdomain_problem,
    expect_dns_label,
    expect_mapping,
    expect_str,
    label_key_problem,
    label_value_problem,
    release_name_problem,
    show,
    unknown_keys,
)

__all__ = ["ConfigError", "StackSpec", "current_config", "load_spec"]

PROJECT = "osmo-backend"

ClusterKind = Literal["existing", "eks", "gke", "aks"]
CLUSTER_KINDS: tuple[ClusterKind, ...] = get_args(ClusterKind)
SUPPORTED_CLUSTER_KINDS: tuple[ClusterKind, ...] = ("existing",)

Role = Literal["operator", "compute", "gpu", "jetson"]
ROLES: tuple[Role, ...] = get_args(Role)

GpuComponentOwner = Literal["operator", "host"]
GPU_COMPONENT_OWNERS: tuple[GpuComponentOwner, ...] = get_args(GpuComponentOwner)

NODE_TYPE_LABEL = "node-type"
"""OSMO's node-role label (`node-type=operator|compute|gpu|jetson`)."""
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "present"
GPU_TAINT_EFFECT = "NoSchedule"

SECRET_PLACEHOLDER_PREFIX = "offline-placeholder-for-secret:"
"""The offline plan cannot decrypt `secure:` values; it substitutes this prefix + the key name."""

KUBECONFIG_SECRET_KEY = f"{PROJECT}:kubeconfig"
BACKEND_TOKEN_KEY = f"{PROJECT}:backendToken"
PREVIOUS_BACKEND_TOKEN_KEY = f"{PROJECT}:previousBackendToken"
CONTROL_PLANE_KUBECONFIG_KEY = f"{PROJECT}:controlPlaneKubeconfig"
NGC_API_KEY = f"{PROJECT}:ngcApiKey"

# Keys that hold credentials: they must be Pulumi secrets (`pulumi config set --secret`).
_SECRET_KEYS = {
    "kubeconfig": "cluster credentials",
    "backendToken": "the OSMO backend bootstrap token",
    "previousBackendToken": "the previous OSMO backend bootstrap token",
    "controlPlaneKubeconfig": "control-plane cluster credentials",
    "ngcApiKey": "an NGC API key",
}
# Top-level keys this project reads, and keys that later work will add (rejected with a clear word).
_KEYS = ("cluster", "osmo", "operators", "monitoring", *_SECRET_KEYS)
_PLANNED_KEYS = {
    "storage": "storage classes and workflow buckets",
    "networking": "workflow network policy",
}


def is_placeholder(value: str) -> bool:
    return value.startswith(SECRET_PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class KubeconfigSource:
    """Where the kubeconfig came from and its checked, minified content."""

    origin: str
    """`file <path>` or `secret osmo-backend:kubeconfig`; safe to print."""
    content: str = field(repr=False)
    """Minified kubeconfig (one context). Secret: components wrap it in `Output.secret`."""
    context: str | None
    """The context used, or None when the content could not be checked (offline placeholder)."""
    server: str | None
    """API server URL of that context's cluster, or None when not checked."""


@dataclass(frozen=True)
class NodeRoleSpec:
    """How OSMO finds the nodes of one role, and which nodes this stack labels into it."""

    role: Role
    selector: Mapping[str, str]
    """Node labels selecting the role. Default: `{node-type: <role>}`."""
    nodes: tuple[str, ...] = ()
    """Node names this stack labels with `selector` (and, for gpu, taints). Default: none."""


@dataclass(frozen=True)
class GpuStackSpec:
    """Who provides the NVIDIA driver and container toolkit on GPU nodes."""

    driver: GpuComponentOwner = "operator"
    toolkit: GpuComponentOwner = "operator"


@dataclass(frozen=True)
class ExistingClusterSpec:
    kind: Literal["existing"]
    name: str
    kubeconfig: KubeconfigSource
    node_roles: tuple[NodeRoleSpec, ...]
    gpu_stack: GpuStackSpec


TokenSource = Literal["generate", "config", "existing"]
TOKEN_SOURCES: tuple[TokenSource, ...] = get_args(TokenSource)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$|^[A-Za-z0-9_-]{64}$")
"""OSMO's bootstrap token: 43 or 64 characters of URL-safe base64 without padding."""
CREDENTIAL_NAME_MAX = 49
"""The OSMO service chart's limit for `services.backendApiTokens.credentials[].name`."""
_SECRET_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IMAGE_TAG = re.compile(r"^v?[0-9][0-9A-Za-z_.-]{0,127}$")

DEFAULT_OPERATOR_NAMESPACE = "osmo-operator"
DEFAULT_WORKFLOW_NAMESPACE = "osmo-workflows"
DEFAULT_TEST_NAMESPACE = "osmo-test"
DEFAULT_TOKEN_KEY = "token"
DEFAULT_PULL_SECRET = "nvcr-secret"
DEFAULT_CONTROL_PLANE_NAMESPACE = "osmo"


@dataclass(frozen=True)
class TokenSpec:
    """Where the backend bootstrap token comes from, and where it is stored."""

    source: TokenSource
    """generate (random, kept in state), config (the secret osmo-backend:backendToken) or
    existing (a Secret already in the compute cluster; nothing is created)."""
    credential_name: str
    """Credential name on the control plane; default: the backend name."""
    secret_name: str
    """Secret holding the token in the operator namespace (and on the control plane);
    default `osmo-backend-token-<credentialName>` as in OSMO's docs."""
    secret_key: str = DEFAULT_TOKEN_KEY
    generation: int = 0
    """Rotation generation: bumping it issues a new generated token and restarts the backend
    listener and worker (a pod annotation carries the number, never the token)."""
    overlap: bool = False
    """Rotation phase 1: the control plane accepts the previous token too (`previous-token`)."""
    value: str | None = field(default=None, repr=False)
    """source config: the token. Secret."""
    previous: str | None = field(default=None, repr=False)
    """source config with overlap: the previous token. Secret."""


@dataclass(frozen=True)
class ControlPlaneSpec:
    """The OSMO service's cluster, where the same token Secret is created."""

    name: str
    """Stable id of the control-plane cluster (its provider's cluster_identifier)."""
    kubeconfig: KubeconfigSource
    namespace: str = DEFAULT_CONTROL_PLANE_NAMESPACE


@dataclass(frozen=True)
class PullSecretSpec:
    name: str
    ngc_api_key: str | None = field(default=None, repr=False)
    """When set, the Secret is created from this NGC API key; otherwise it must already exist."""


@dataclass(frozen=True)
class OsmoSpec:
    backend_name: str
    """Name of this backend in the OSMO service (DNS-1123 label)."""
    service_url: str
    """The OSMO gateway URL the backend-operator connects to (absolute https)."""
    router_address: str
    """Router address for exec/port-forward; default: the service URL with wss://."""
    image_tag: str
    operator_namespace: str
    workflow_namespace: str
    test_namespace: str | None
    """Set only when backend tests are enabled."""
    token: TokenSpec
    control_plane: ControlPlaneSpec | None = None
    pull_secret: PullSecretSpec | None = None
    pool: str = ""
    """Pool name on the service side; default: the backend name."""


@dataclass(frozen=True)
class ReleaseSpec:
    release_name: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """User overrides, deep-merged last (checked against the chart's keys)."""


@dataclass(frozen=True)
class OperatorsSpec:
    kai_scheduler: ReleaseSpec
    gpu_operator: ReleaseSpec | None
    """None when the cluster already runs a GPU stack (DGX/NVAIE)."""
    runtime_class_stub: bool
    """With the GPU Operator off: create the `nvidia` RuntimeClass (handler runc) that older
    OSMO pod templates name."""
    backend_operator: ReleaseSpec
    backend_operator_wait: bool = False
    """Wait for the backend-operator pods; they stay unready until the service accepts the
    token, so the default does not wait."""


LogsBackend = Literal["loki", "none", "cloud"]
LOGS_BACKENDS: tuple[LogsBackend, ...] = get_args(LogsBackend)
_DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


@dataclass(frozen=True)
class IngressSpec:
    host: str
    class_name: str | None = None


@dataclass(frozen=True)
class WebUiSpec:
    """A web UI OSMO links to (Grafana, the Kubernetes web UI)."""

    url: str | None = None
    """External URL; default `https://<ingress host>` when an ingress is set."""
    ingress: IngressSpec | None = None

    @property
    def external_url(self) -> str | None:
        if self.url is not None:
            return self.url
        return f"https://{self.ingress.host}" if self.ingress is not None else None


@dataclass(frozen=True)
class MonitoringSpec:
    cluster_label: str = ""
    """`cluster` label on every series and log line; default: the backend name."""
    enabled: bool = True
    namespace: str = "monitoring"
    agents_namespace: str = "monitoring-agents"
    """Node agents (node exporter, log collector) need host access: PSA privileged, kept apart."""
    retention: str = "15d"
    storage_size: str = "50Gi"
    storage_class: str | None = None
    """None: the cluster's default StorageClass."""
    grafana: WebUiSpec = WebUiSpec()
    alerts: bool = True
    ephemeral_storage_metrics: bool = True
    logs: LogsBackend = "loki"
    logs_retention: str = "7d"
    logs_storage_size: str = "20Gi"
    dashboard: WebUiSpec | None = None
    """The Kubernetes web UI (Headlamp), when enabled."""
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict[str, Mapping[str, Any]])
    """Chart overrides by release (prometheus, ephemeralStorageMetrics, loki, collector,
    dashboard)."""


@dataclass(frozen=True)
class StackSpec:
    cluster: ExistingClusterSpec
    osmo: OsmoSpec
    operators: OperatorsSpec
    monitoring: MonitoringSpec = MonitoringSpec()
    notices: tuple[str, ...] = ()
    """Things the user should know that are not errors (for example unchecked placeholders)."""


def current_config() -> tuple[dict[str, Any], frozenset[str]]:
    """The flat config map and secret keys of the running Pulumi program (CLI or mocks)."""
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    env_secrets = set(runtime_config.get_config_secret_keys_env())
    secret = frozenset(k for k in raw if k in env_secrets or runtime_config.is_config_secret(k))
    return raw, secret


def project_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The `osmo-backend:*` keys of a flat config map, without the namespace."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def _decode(problems: Problems, path: str, value: Any) -> Any:
    """Pulumi passes object config as JSON strings; decode them (plain values pass through)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            problems.add(path, f"is not valid JSON ({err.msg} at position {err.pos})")
            return None
    return value


def _required_section(
    problems: Problems, path: str, value: Any, needs: str
) -> Mapping[str, Any] | None:
    """A top-level object key: present, JSON-decoded (as the CLI passes it) and a mapping."""
    if value is None:
        problems.add(path, f"is required (an object with at least {needs})")
        return None
    return expect_mapping(problems, path, _decode(problems, path, value))


def load_spec(
    raw: Mapping[str, Any],
    secret_keys: Collection[str] = (),
    base_dir: Path | None = None,
) -> StackSpec:
    """Validate the whole stack config at once; raise `ConfigError` with every problem."""
    base_dir = base_dir if base_dir is not None else Path.cwd()
    problems = Problems()
    notices: list[str] = []
    cfg = project_config(raw)

    for key in sorted(cfg):
        if key in _PLANNED_KEYS:
            problems.add(
                f"{PROJECT}:{key}",
                f"{_PLANNED_KEYS[key]} is not supported yet; remove this key for now",
            )
    unknown_keys(
        problems,
        PROJECT,
        {k: v for k, v in cfg.items() if k not in _PLANNED_KEYS},
        _KEYS,
        separator=":",
    )

    for key, what in _SECRET_KEYS.items():
        if cfg.get(key) is not None and f"{PROJECT}:{key}" not in secret_keys:
            problems.add(
                f"{PROJECT}:{key}",
                f"holds {what} and must be a secret: "
                f"set it with `pulumi config set --secret {key} ...`",
            )

    cluster = _cluster(problems, cfg.get("cluster"), cfg.get("kubeconfig"), base_dir, notices)
    osmo = _osmo(problems, cfg, base_dir, notices)
    operators = _operators(problems, cfg.get("operators"))
    monitoring = _monitoring(
        problems,
        cfg.get("monitoring"),
        cluster_kind="existing",
        backend_name=osmo.backend_name if osmo is not None else None,
        notices=notices,
    )
    problems.check()
    assert cluster is not None
    assert osmo is not None
    assert operators is not None
    assert monitoring is not None
    return StackSpec(
        cluster=cluster,
        osmo=osmo,
        operators=operators,
        monitoring=monitoring,
        notices=tuple(notices),
    )


def _cluster(
    problems: Problems,
    value: Any,
    secret_kubeconfig: Any,
    base_dir: Path,
    notices: list[str],
) -> ExistingClusterSpec | None:
    path = f"{PROJECT}:cluster"
    body = _required_section(problems, path, value, "`kind` and `name`")
    if body is None:
        return None

    kind = body.get("kind")
    if kind not in CLUSTER_KINDS:
        problems.add(f"{path}.kind", f"{show(kind)} is not one of: {', '.join(CLUSTER_KINDS)}")
        return None
    if kind not in SUPPORTED_CLUSTER_KINDS:
        problems.add(
            f"{path}.kind",
            f"{kind!r} clusters are not supported yet; supported: "
            f"{', '.join(SUPPORTED_CLUSTER_KINDS)}",
        )
        return None

    unknown_keys(
        problems, path, body, ("kind", "name", "kubeconfig", "context", "nodeRoles", "gpuStack")
    )
    name = expect_dns_label(problems, f"{path}.name", body.get("name"))
    source = _kubeconfig(
        problems,
        path,
        body,
        secret_key=KUBECONFIG_SECRET_KEY,
        secret_value=secret_kubeconfig,
        base_dir=base_dir,
        notices=notices,
    )
    roles = _node_roles(problems, f"{path}.nodeRoles", body.get("nodeRoles"))
    gpu_stack = _gpu_stack(problems, f"{path}.gpuStack", body.get("gpuStack"))
    if name is None or source is None or roles is None or gpu_stack is None:
        return None
    return ExistingClusterSpec(
        kind="existing", name=name, kubeconfig=source, node_roles=roles, gpu_stack=gpu_stack
    )


def _kubeconfig(
    problems: Problems,
    path: str,
    body: Mapping[str, Any],
    *,
    secret_key: str,
    secret_value: Any,
    base_dir: Path,
    notices: list[str],
) -> KubeconfigSource | None:
    """`body.kubeconfig` (a file) or `secret_value` (content), with `body.context`, checked."""
    file_value = body.get("kubeconfig")
    context = body.get("context")
    if context is not None and expect_str(problems, f"{path}.context", context) is None:
        return None
    if file_value is not None and secret_value is not None:
        problems.add(
            f"{path}.kubeconfig",
            f"set either a file path here or the secret {secret_key}, not both",
        )
        return None
    if file_value is None and secret_value is None:
        problems.add(
            f"{path}.kubeconfig",
            f"is required: a kubeconfig file path, or the content in the secret {secret_key}",
        )
        return None
    ctx = context if isinstance(context, str) else None

    if secret_value is not None:
        text = expect_str(problems, secret_key, secret_value)
        if text is None:
            return None
        origin = f"secret {secret_key}"
        if is_placeholder(text):
            notices.append(
                f"{secret_key} is a secure value the offline plan cannot decrypt; "
                "a placeholder stands in and its content (context, server) was not checked"
            )
            return KubeconfigSource(origin=origin, content=text, context=ctx, server=None)
        checked = kc.check(problems, secret_key, text, ctx, None)
    else:
        file_path = expect_str(problems, f"{path}.kubeconfig", file_value)
        if file_path is None:
            return None
        resolved = Path(file_path).expanduser()
        if not resolved.is_absolute():
            resolved = base_dir / resolved
        origin = f"file {file_path}"
        text = kc.read_file(problems, f"{path}.kubeconfig", resolved)
        if text is None:
            return None
        checked = kc.check(problems, f"{path}.kubeconfig", text, ctx, resolved.parent)
    if checked is None:
        return None
    return KubeconfigSource(
        origin=origin, content=checked.content, context=checked.context, server=checked.server
    )


_ROLE_KEYS = ("selector", "nodes")


def _node_roles(problems: Problems, path: str, value: Any) -> tuple[NodeRoleSpec, ...] | None:
    given: Mapping[str, Any] = {}
    if value is not None:
        body = expect_mapping(problems, path, value)
        if body is None:
            return None
        given = body
    unknown_keys(problems, path, given, ROLES)
    ok = True
    specs: list[NodeRoleSpec] = []
    owner: dict[str, Role] = {}
    for role in ROLES:
        rpath = f"{path}.{role}"
        entry: Mapping[str, Any] = {}
        if given.get(role) is not None:
            checked = expect_mapping(problems, rpath, given[role])
            if checked is None:
                ok = False
                continue
            entry = checked
        unknown_keys(problems, rpath, entry, _ROLE_KEYS)
        selector = _selector(problems, f"{rpath}.selector", entry.get("selector"), role)
        nodes = _node_names(problems, f"{rpath}.nodes", entry.get("nodes"))
        if selector is None or nodes is None:
            ok = False
            continue
        for index, node in enumerate(nodes):
            if node in owner:
                problems.add(
                    f"{rpath}.nodes[{index}]",
                    f"node {node!r} is already listed under role {owner[node]!r}; "
                    "a node has exactly one role",
                )
                ok = False
            else:
                owner[node] = role
        specs.append(NodeRoleSpec(role=role, selector=selector, nodes=nodes))
    return tuple(specs) if ok else None


def _selector(problems: Problems, path: str, value: Any, role: Role) -> dict[str, str] | None:
    if value is None:
        return {NODE_TYPE_LABEL: role}
    body = expect_mapping(problems, path, value)
    if body is None:
        return None
    if not body:
        problems.add(path, "must select at least one label (an empty selector matches every node)")
        return None
    ok = True
    out: dict[str, str] = {}
    for key, label in sorted(body.items()):
        if (reason := label_key_problem(str(key))) is not None:
            problems.add(f"{path}.{key}", reason)
            ok = False
        elif not isinstance(label, str):
            problems.add(f"{path}.{key}", f"label values are strings; got {show(label)} (quote it)")
            ok = False
        elif (reason := label_value_problem(label)) is not None:
            problems.add(f"{path}.{key}", reason)
            ok = False
        else:
            out[str(key)] = label
    return out if ok else None


def _node_names(problems: Problems, path: str, value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"must be a list of node names, got {show(value)}")
        return None
    ok = True
    seen: set[str] = set()
    names: list[str] = []
    for index, node in enumerate(cast(list[Any], value)):
        item = f"{path}[{index}]"
        if not isinstance(node, str):
            problems.add(item, f"must be a node name, got {show(node)}")
            ok = False
        elif (reason := dns1123_subdomain_problem(node)) is not None:
            problems.add(item, f"node name {reason}")
            ok = False
        elif node in seen:
            problems.add(item, f"node {node!r} is listed twice")
            ok = False
        else:
            seen.add(node)
            names.append(node)
    return tuple(names) if ok else None


def _gpu_stack(problems: Problems, path: str, value: Any) -> GpuStackSpec | None:
    if value is None:
        return GpuStackSpec()
    body = expect_mapping(problems, path, value)
    if body is None:
        return None
    unknown_keys(problems, path, body, ("driver", "toolkit"))
    ok = True
    for key in ("driver", "toolkit"):
        given = body.get(key)
        if given is not None and given not in GPU_COMPONENT_OWNERS:
            problems.add(
                f"{path}.{key}",
                f"{show(given)} is not one of: {', '.join(GPU_COMPONENT_OWNERS)} "
                "(operator: the GPU Operator installs it; host: the node image already has it)",
            )
            ok = False
    if not ok:
        return None
    return GpuStackSpec(
        driver=cast(GpuComponentOwner, body.get("driver", "operator")),
        toolkit=cast(GpuComponentOwner, body.get("toolkit", "operator")),
    )


_OSMO_KEYS = (
    "backendName",
    "serviceUrl",
    "routerAddress",
    "imageTag",
    "namespaces",
    "backendTests",
    "pool",
    "token",
    "controlPlane",
    "imagePullSecret",
)


def _osmo(
    problems: Problems, cfg: Mapping[str, Any], base_dir: Path, notices: list[str]
) -> OsmoSpec | None:
    path = f"{PROJECT}:osmo"
    body = _required_section(problems, path, cfg.get("osmo"), "`backendName` and `serviceUrl`")
    if body is None:
        return None
    unknown_keys(problems, path, body, _OSMO_KEYS)
    ok = True

    name = expect_dns_label(problems, f"{path}.backendName", body.get("backendName"))
    service_url = _url(problems, f"{path}.serviceUrl", body.get("serviceUrl"), ("https",))
    router = body.get("routerAddress")
    if router is not None:
        router = _url(problems, f"{path}.routerAddress", router, ("wss",))
        ok = ok and router is not None
    elif service_url is not None:
        router = "wss://" + urlparse(service_url).netloc

    image_tag = body.get("imageTag", versions.OSMO_IMAGE_TAG)
    if not isinstance(image_tag, str) or not _IMAGE_TAG.match(image_tag):
        problems.add(
            f"{path}.imageTag",
            f"{show(image_tag)} is not a pinned version tag (like {versions.OSMO_IMAGE_TAG!r}); "
            "floating tags such as 'latest' drift between nodes",
        )
        ok = False

    tests = body.get("backendTests", False)
    if not isinstance(tests, bool):
        problems.add(f"{path}.backendTests", f"must be true or false, got {show(tests)}")
        ok = False
    namespaces = _namespaces(problems, f"{path}.namespaces", body.get("namespaces"))
    pool = name
    if body.get("pool") is not None:
        pool = expect_dns_label(problems, f"{path}.pool", body["pool"])
        ok = ok and pool is not None

    token = _token(
        problems, f"{path}.token", body.get("token"), cfg=cfg, backend_name=name, notices=notices
    )
    control_plane = None
    if body.get("controlPlane") is not None or cfg.get("controlPlaneKubeconfig") is not None:
        control_plane = _control_plane(
            problems,
            f"{path}.controlPlane",
            body.get("controlPlane"),
            cfg=cfg,
            base_dir=base_dir,
            notices=notices,
        )
        ok = ok and control_plane is not None
        if token is not None and token.source == "existing":
            problems.add(
                f"{path}.token.source",
                "'existing' cannot be copied to the control plane (its value is not known to the "
                "stack); use 'generate' or 'config', or remove osmo.controlPlane",
            )
            ok = False
    pull_secret = _pull_secret(
        problems, f"{path}.imagePullSecret", body.get("imagePullSecret"), cfg
    )

    if not ok or name is None or service_url is None or router is None or namespaces is None:
        return None
    if token is None or pull_secret is False:
        return None
    operator_ns, workflow_ns, test_ns = namespaces
    return OsmoSpec(
        backend_name=name,
        service_url=service_url,
        router_address=router,
        image_tag=image_tag,
        operator_namespace=operator_ns,
        workflow_namespace=workflow_ns,
        test_namespace=test_ns if tests else None,
        token=token,
        control_plane=control_plane,
        pull_secret=pull_secret,
        pool=str(pool),
    )


def _url(problems: Problems, path: str, value: Any, schemes: tuple[str, ...]) -> str | None:
    text = expect_str(problems, path, value)
    if text is None:
        return None
    parsed = urlparse(text)
    scheme = " or ".join(f"{s}://" for s in schemes)
    if parsed.scheme not in schemes or not parsed.hostname:
        problems.add(path, f"{show(text)} must be an absolute {scheme} URL with a host")
        return None
    if parsed.username is not None or parsed.password is not None:
        problems.add(path, "must not carry credentials (user:password@); the token authenticates")
        return None
    if parsed.query or parsed.fragment:
        problems.add(path, f"{show(text)} must not have a query or fragment")
        return None
    return text.rstrip("/")


def _namespaces(problems: Problems, path: str, value: Any) -> tuple[str, str, str] | None:
    given: Mapping[str, Any] = {}
    if value is not None:
        body = expect_mapping(problems, path, value)
        if body is None:
            return None
        given = body
    unknown_keys(problems, path, given, ("operator", "workflows", "test"))
    defaults = {
        "operator": DEFAULT_OPERATOR_NAMESPACE,
        "workflows": DEFAULT_WORKFLOW_NAMESPACE,
        "test": DEFAULT_TEST_NAMESPACE,
    }
    out: dict[str, str] = {}
    for key, default in defaults.items():
        ns = expect_dns_label(problems, f"{path}.{key}", given.get(key, default))
        if ns is not None:
            out[key] = ns
    if len(out) < len(defaults):
        return None
    if len(set(out.values())) < len(out):
        problems.add(path, f"operator, workflows and test must be different namespaces: {out}")
        return None
    return out["operator"], out["workflows"], out["test"]


def _secret_value(
    problems: Problems, key: str, value: Any, notices: list[str], what: str
) -> str | None:
    """A secret config value that must be a bootstrap token (placeholders pass unchecked)."""
    full = f"{PROJECT}:{key}"
    text = expect_str(problems, full, value)
    if text is None:
        return None
    if is_placeholder(text):
        notices.append(f"{full} is a secure value the offline plan cannot decrypt; {what}")
        return text
    stripped = text.rstrip("\r\n")
    if not TOKEN_PATTERN.match(stripped):
        problems.add(
            full,
            f"must be 43 or 64 characters of [A-Za-z0-9_-] (got {len(stripped)} characters); "
            "generate one with: openssl rand -base64 32 | tr -d '\\n=' | tr '/+' '_-'",
        )
        return None
    return stripped


def _token(
    problems: Problems,
    path: str,
    value: Any,
    *,
    cfg: Mapping[str, Any],
    backend_name: str | None,
    notices: list[str],
) -> TokenSpec | None:
    given: Mapping[str, Any] = {}
    if value is not None:
        body = expect_mapping(problems, path, value)
        if body is None:
            return None
        given = body
    unknown_keys(
        problems,
        path,
        given,
        ("source", "credentialName", "secretName", "secretKey", "generation", "overlap"),
    )
    ok = True
    source = given.get("source", "generate")
    if source not in TOKEN_SOURCES:
        problems.add(f"{path}.source", f"{show(source)} is not one of: {', '.join(TOKEN_SOURCES)}")
        return None

    credential = given.get("credentialName", backend_name)
    if credential is None:
        return None
    hint = "" if "credentialName" in given else " (it defaults to backendName; set it)"
    credential = expect_dns_label(
        problems, f"{path}.credentialName", credential, CREDENTIAL_NAME_MAX, hint
    )
    if credential is None:
        return None
    secret_name = given.get("secretName", f"osmo-backend-token-{credential}")
    if expect_str(problems, f"{path}.secretName", secret_name) is None:
        ok = False
    elif (reason := dns1123_subdomain_problem(secret_name)) is not None:
        problems.add(f"{path}.secretName", reason)
        ok = False
    secret_key = given.get("secretKey", DEFAULT_TOKEN_KEY)
    if not isinstance(secret_key, str) or not _SECRET_DATA_KEY.match(secret_key):
        problems.add(f"{path}.secretKey", f"{show(secret_key)} is not a valid Secret data key")
        ok = False
    generation = given.get("generation", 0)
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        problems.add(f"{path}.generation", f"must be a whole number >= 0, got {show(generation)}")
        ok = False
        generation = 0
    overlap = given.get("overlap", False)
    if not isinstance(overlap, bool):
        problems.add(f"{path}.overlap", f"must be true or false, got {show(overlap)}")
        return None

    secrets = _token_secrets(
        problems, path, source, generation=generation, overlap=overlap, cfg=cfg, notices=notices
    )
    if not ok or secrets is None:
        return None
    token_value, previous = secrets
    return TokenSpec(
        source=source,
        credential_name=credential,
        secret_name=secret_name,
        secret_key=secret_key,
        generation=generation,
        overlap=overlap,
        value=token_value,
        previous=previous,
    )


def _token_secrets(
    problems: Problems,
    path: str,
    source: str,
    *,
    generation: int,
    overlap: bool,
    cfg: Mapping[str, Any],
    notices: list[str],
) -> tuple[str | None, str | None] | None:
    """The token (and previous token) from secret config, checked against the token source and
    the rotation phase. None when invalid."""
    ok = True
    token_value = previous = None
    if source == "config":
        if cfg.get("backendToken") is None:
            problems.add(
                BACKEND_TOKEN_KEY,
                "is required when osmo.token.source is 'config': "
                "pulumi config set --secret backendToken ...",
            )
            return None
        token_value = _secret_value(
            problems, "backendToken", cfg["backendToken"], notices, "its format was not checked"
        )
        ok = ok and token_value is not None
    elif cfg.get("backendToken") is not None:
        problems.add(BACKEND_TOKEN_KEY, f"is set but osmo.token.source is {source!r}, not 'config'")
        ok = False

    if overlap:
        if source == "existing":
            problems.add(f"{path}.overlap", "needs the token value; not possible with 'existing'")
            ok = False
        elif source == "generate" and generation < 1:
            problems.add(
                f"{path}.overlap",
                "needs a previous generated token: bump osmo.token.generation in the same change",
            )
            ok = False
        elif source == "config":
            if cfg.get("previousBackendToken") is None:
                problems.add(
                    PREVIOUS_BACKEND_TOKEN_KEY, "is required while osmo.token.overlap is true"
                )
                return None
            previous = _secret_value(
                problems,
                "previousBackendToken",
                cfg["previousBackendToken"],
                notices,
                "its format was not checked",
            )
            if previous is not None and previous == token_value and not is_placeholder(previous):
                problems.add(
                    PREVIOUS_BACKEND_TOKEN_KEY,
                    "must differ from backendToken (the service ignores a token listed twice)",
                )
                ok = False
    elif cfg.get("previousBackendToken") is not None:
        problems.add(
            PREVIOUS_BACKEND_TOKEN_KEY,
            "is set but osmo.token.overlap is false; remove it to finish the rotation",
        )
        ok = False
    if not ok:
        return None
    return token_value, previous


def _control_plane(
    problems: Problems,
    path: str,
    value: Any,
    *,
    cfg: Mapping[str, Any],
    base_dir: Path,
    notices: list[str],
) -> ControlPlaneSpec | None:
    body = expect_mapping(problems, path, value if value is not None else {})
    if body is None:
        return None
    unknown_keys(problems, path, body, ("name", "kubeconfig", "context", "namespace"))
    name = expect_dns_label(problems, f"{path}.name", body.get("name"))
    namespace = expect_dns_label(
        problems, f"{path}.namespace", body.get("namespace", DEFAULT_CONTROL_PLANE_NAMESPACE)
    )
    source = _kubeconfig(
        problems,
        path,
        body,
        secret_key=CONTROL_PLANE_KUBECONFIG_KEY,
        secret_value=cfg.get("controlPlaneKubeconfig"),
        base_dir=base_dir,
        notices=notices,
    )
    if name is None or source is None or namespace is None:
        return None
    return ControlPlaneSpec(name=name, kubeconfig=source, namespace=namespace)


def _pull_secret(
    problems: Problems, path: str, value: Any, cfg: Mapping[str, Any]
) -> PullSecretSpec | Literal[False] | None:
    """None: no pull secret. False: invalid."""
    key = cfg.get("ngcApiKey")
    if value is None and key is None:
        return None
    name = value if value is not None else DEFAULT_PULL_SECRET
    if expect_str(problems, path, name) is None:
        return False
    if (reason := dns1123_subdomain_problem(name)) is not None:
        problems.add(path, reason)
        return False
    if key is not None and expect_str(problems, NGC_API_KEY, key) is None:
        return False
    return PullSecretSpec(name=name, ngc_api_key=key)


_RELEASE_KEYS = ("releaseName", "namespace", "values")


def _operators(problems: Problems, value: Any) -> OperatorsSpec | None:
    path = f"{PROJECT}:operators"
    body: Mapping[str, Any] = {}
    if value is not None:
        checked = expect_mapping(problems, path, _decode(problems, path, value))
        if checked is None:
            return None
        body = checked
    unknown_keys(problems, path, body, ("kaiScheduler", "gpuOperator", "backendOperator"))
    kai = _release(
        problems,
        f"{path}.kaiScheduler",
        body.get("kaiScheduler"),
        "kai-scheduler",
        versions.KAI_SCHEDULER,
        extra=(),
    )
    gpu_body = body.get("gpuOperator") or {}
    gpu = _release(
        problems,
        f"{path}.gpuOperator",
        gpu_body,
        "gpu-operator",
        versions.GPU_OPERATOR,
        extra=("enabled", "runtimeClassStub"),
    )
    bo_body = body.get("backendOperator") or {}
    backend = _release(
        problems,
        f"{path}.backendOperator",
        bo_body,
        "osmo-operator",
        versions.BACKEND_OPERATOR,
        extra=("wait",),
        namespace_from_osmo=True,
    )
    flags: dict[str, bool] = {}
    for key, section, default in (
        ("enabled", gpu_body, True),
        ("runtimeClassStub", gpu_body, True),
        ("wait", bo_body, False),
    ):
        raw = section.get(key, default) if isinstance(section, Mapping) else default
        if not isinstance(raw, bool):
            problems.add(
                f"{path}.{'backendOperator' if key == 'wait' else 'gpuOperator'}.{key}",
                f"must be true or false, got {show(raw)}",
            )
            return None
        flags[key] = raw
    if kai is None or gpu is None or backend is None:
        return None
    return OperatorsSpec(
        kai_scheduler=kai,
        gpu_operator=gpu if flags["enabled"] else None,
        runtime_class_stub=flags["runtimeClassStub"],
        backend_operator=backend,
        backend_operator_wait=flags["wait"],
    )


def _release(
    problems: Problems,
    path: str,
    value: Any,
    default_name: str,
    chart: versions.Chart,
    *,
    extra: tuple[str, ...],
    namespace_from_osmo: bool = False,
) -> ReleaseSpec | None:
    body: Mapping[str, Any] = {}
    if value is not None:
        checked = expect_mapping(problems, path, value)
        if checked is None:
            return None
        body = checked
    allowed = [k for k in _RELEASE_KEYS if not (namespace_from_osmo and k == "namespace")]
    unknown_keys(problems, path, body, (*allowed, *extra))
    ok = True
    name = body.get("releaseName", default_name)
    if expect_str(problems, f"{path}.releaseName", name) is None:
        ok = False
    elif (reason := release_name_problem(name)) is not None:
        problems.add(f"{path}.releaseName", reason)
        ok = False
    namespace: str | None = ""
    if not namespace_from_osmo:
        namespace = expect_dns_label(
            problems, f"{path}.namespace", body.get("namespace", default_name)
        )
        ok = ok and namespace is not None
    overrides = body.get("values", {})
    if expect_mapping(problems, f"{path}.values", overrides) is None:
        return None
    index = chart_keys.load(versions.name_of(chart), chart.version)
    for bad in chart_keys.unknown_keys(index, overrides):
        problems.add(
            f"{path}.values.{bad}",
            f"the {index['chart']} chart {chart.version} does not read this key "
            f"(see {chart.source})",
        )
        ok = False
    if not ok or namespace is None:
        return None
    return ReleaseSpec(release_name=name, namespace=namespace, values=dict(overrides))


def _pattern(
    problems: Problems, path: str, value: Any, pattern: re.Pattern[str], what: str
) -> str | None:
    text = expect_str(problems, path, value)
    if text is not None and not pattern.match(text):
        problems.add(path, f"{show(text)} is not {what}")
        return None
    return text


def _subdomain(problems: Problems, path: str, value: Any) -> str | None:
    text = expect_str(problems, path, value)
    if text is not None and (reason := dns1123_subdomain_problem(text)) is not None:
        problems.add(path, reason)
        return None
    return text


def _flag(problems: Problems, path: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    problems.add(path, f"must be true or false, got {show(value)}")
    return None


def _section(
    problems: Problems, path: str, value: Any, allowed: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """An optional nested object: {} when absent, None (reported) when not an object."""
    if value is None:
        return {}
    body = expect_mapping(problems, path, value)
    if body is not None:
        unknown_keys(problems, path, body, allowed)
    return body


def _web_ui(problems: Problems, path: str, body: Mapping[str, Any]) -> WebUiSpec | None:
    url = body.get("url")
    if url is not None:
        url = _url(problems, f"{path}.url", url, ("https", "http"))
        if url is None:
            return None
    ingress = None
    raw = _section(problems, f"{path}.ingress", body.get("ingress"), ("host", "className"))
    if raw is None:
        return None
    if raw:
        host = _subdomain(problems, f"{path}.ingress.host", raw.get("host"))
        class_name = raw.get("className")
        if class_name is not None:
            class_name = expect_dns_label(problems, f"{path}.ingress.className", class_name)
            if class_name is None:
                return None
        if host is None:
            return None
        ingress = IngressSpec(host=host, class_name=class_name)
    return WebUiSpec(url=url, ingress=ingress)


_MONITORING_KEYS = (
    "enabled",
    "clusterLabel",
    "namespace",
    "agentsNamespace",
    "prometheus",
    "grafana",
    "alerts",
    "ephemeralStorageMetrics",
    "logs",
    "dashboard",
)
_MONITORING_CHARTS = {
    "prometheus": versions.KUBE_PROMETHEUS_STACK,
    "ephemeralStorageMetrics": versions.EPHEMERAL_STORAGE_METRICS,
    "loki": versions.LOKI,
    "collector": versions.ALLOY,
    "dashboard": versions.HEADLAMP,
}


def _overrides(
    problems: Problems, path: str, value: Any, chart: versions.Chart
) -> Mapping[str, Any] | None:
    """User chart overrides, each key checked against the pinned chart's key index."""
    body = expect_mapping(problems, path, value if value is not None else {})
    if body is None:
        return None
    index = chart_keys.load(versions.name_of(chart), chart.version)
    bad = chart_keys.unknown_keys(index, body)
    for key in bad:
        problems.add(
            f"{path}.{key}",
            f"the {index['chart']} chart {chart.version} does not read this key "
            f"(see {chart.source})",
        )
    return None if bad else dict(body)


def _monitoring(
    problems: Problems,
    value: Any,
    *,
    cluster_kind: ClusterKind,
    backend_name: str | None,
    notices: list[str],
) -> MonitoringSpec | None:
    path = f"{PROJECT}:monitoring"
    body = _section(problems, path, _decode(problems, path, value), _MONITORING_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    enabled = _flag(problems, f"{path}.enabled", body.get("enabled", True))
    alerts = _flag(problems, f"{path}.alerts", body.get("alerts", True))
    defaults = MonitoringSpec()
    namespace = expect_dns_label(
        problems, f"{path}.namespace", body.get("namespace", defaults.namespace)
    )
    agents = expect_dns_label(
        problems, f"{path}.agentsNamespace", body.get("agentsNamespace", defaults.agents_namespace)
    )
    if namespace is not None and namespace == agents:
        problems.add(
            f"{path}.agentsNamespace",
            "must differ from namespace: node agents run privileged, the rest does not",
        )
    values: dict[str, Mapping[str, Any]] = {}
    label = body.get("clusterLabel", backend_name)
    if label is not None:
        label = _pattern(
            problems, f"{path}.clusterLabel", label, _LABEL_VALUE, "a Prometheus label value"
        )
    if enabled and label is not None and "osmo" not in label:
        notices.append(
            f"OSMO's dashboards list only clusters whose `cluster` label contains 'osmo'; "
            f"{label!r} will not appear in their cluster picker: set osmo-backend:monitoring."
            "clusterLabel, or widen the picker's regex in Grafana"
        )

    prom = (
        _section(
            problems,
            f"{path}.prometheus",
            body.get("prometheus"),
            ("retention", "storageSize", "storageClass", "values"),
        )
        or {}
    )
    retention = _pattern(
        problems,
        f"{path}.prometheus.retention",
        prom.get("retention", defaults.retention),
        _DURATION,
        "a Prometheus duration like 15d, 12h or 2w",
    )
    size = _pattern(
        problems,
        f"{path}.prometheus.storageSize",
        prom.get("storageSize", defaults.storage_size),
        _QUANTITY,
        "a storage quantity like 50Gi",
    )
    storage_class = prom.get("storageClass")
    if storage_class is not None:
        storage_class = _subdomain(problems, f"{path}.prometheus.storageClass", storage_class)

    grafana_body = _section(problems, f"{path}.grafana", body.get("grafana"), ("url", "ingress"))
    grafana = (
        _web_ui(problems, f"{path}.grafana", grafana_body) if grafana_body is not None else None
    )

    esm = (
        _section(
            problems,
            f"{path}.ephemeralStorageMetrics",
            body.get("ephemeralStorageMetrics"),
            ("enabled", "values"),
        )
        or {}
    )
    esm_enabled = _flag(
        problems, f"{path}.ephemeralStorageMetrics.enabled", esm.get("enabled", True)
    )

    logs = (
        _section(
            problems,
            f"{path}.logs",
            body.get("logs"),
            ("backend", "retention", "storageSize", "lokiValues", "collectorValues"),
        )
        or {}
    )
    backend = logs.get("backend", defaults.logs)
    if backend not in LOGS_BACKENDS:
        problems.add(
            f"{path}.logs.backend", f"{show(backend)} is not one of: {', '.join(LOGS_BACKENDS)}"
        )
    elif backend == "cloud" and cluster_kind == "existing":
        problems.add(
            f"{path}.logs.backend",
            "'cloud' needs a cloud cluster (EKS Container Insights, GKE Cloud Logging, AKS "
            "Container Insights); an existing cluster has none: use 'loki' or 'none'",
        )
    logs_retention = _pattern(
        problems,
        f"{path}.logs.retention",
        logs.get("retention", defaults.logs_retention),
        _DURATION,
        "a duration like 7d or 168h",
    )
    logs_size = _pattern(
        problems,
        f"{path}.logs.storageSize",
        logs.get("storageSize", defaults.logs_storage_size),
        _QUANTITY,
        "a storage quantity like 20Gi",
    )

    dash_body = _section(
        problems,
        f"{path}.dashboard",
        body.get("dashboard"),
        ("enabled", "url", "ingress", "values"),
    )
    dashboard = None
    dash_on = _flag(problems, f"{path}.dashboard.enabled", (dash_body or {}).get("enabled", False))
    if dash_body is not None and dash_on:
        dashboard = _web_ui(problems, f"{path}.dashboard", dash_body)

    for key, section, field_name in (
        ("prometheus", prom, "values"),
        ("ephemeralStorageMetrics", esm, "values"),
        ("loki", logs, "lokiValues"),
        ("collector", logs, "collectorValues"),
        ("dashboard", dash_body or {}, "values"),
    ):
        where = f"{path}.{'logs' if key in ('loki', 'collector') else key}.{field_name}"
        checked = _overrides(problems, where, section.get(field_name), _MONITORING_CHARTS[key])
        if checked:
            values[key] = checked

    if len(problems.lines) > before:
        return None
    # Every None above was reported, so none is left here.
    assert enabled is not None
    assert alerts is not None
    assert esm_enabled is not None
    assert namespace is not None
    assert agents is not None
    assert grafana is not None
    assert retention is not None
    assert size is not None
    assert logs_retention is not None
    assert logs_size is not None
    return MonitoringSpec(
        cluster_label=label or "",
        enabled=enabled,
        namespace=namespace,
        agents_namespace=agents,
        retention=retention,
        storage_size=size,
        storage_class=storage_class,
        grafana=grafana,
        alerts=alerts,
        ephemeral_storage_metrics=esm_enabled,
        logs=cast(LogsBackend, backend),
        logs_retention=logs_retention,
        logs_storage_size=logs_size,
        dashboard=dashboard,
        values=values,
    )
