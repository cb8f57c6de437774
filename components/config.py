"""The stack-config contract (DESIGN section 3): a typed, validated model of `osmo-backend:*` keys.

`load_spec` takes the flat config map Pulumi hands a program (`{"osmo-backend:cluster": "<json>"}`),
checks everything, and either returns a `StackSpec` or raises `ConfigError` listing every problem as
`osmo-backend:<key>.<path>: <reason>`. It runs before any resource is registered.
"""

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast, get_args

from components import kubeconfig as kc
from components._validate import (
    ConfigError,
    Problems,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    expect_mapping,
    expect_str,
    label_key_problem,
    label_value_problem,
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

# Top-level keys this project reads, and keys that later work will add (rejected with a clear word).
_KEYS = ("cluster", "osmo", "kubeconfig")
_PLANNED_KEYS = {
    "monitoring": "monitoring and logging",
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


@dataclass(frozen=True)
class OsmoSpec:
    backend_name: str
    """Name of this backend in the OSMO service (DNS-1123 label)."""


@dataclass(frozen=True)
class StackSpec:
    cluster: ExistingClusterSpec
    osmo: OsmoSpec
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

    secret_kubeconfig = cfg.get("kubeconfig")
    if secret_kubeconfig is not None and KUBECONFIG_SECRET_KEY not in secret_keys:
        problems.add(
            KUBECONFIG_SECRET_KEY,
            "holds cluster credentials and must be a secret: "
            "set it with `pulumi config set --secret kubeconfig < FILE`",
        )

    cluster = _cluster(problems, cfg.get("cluster"), secret_kubeconfig, base_dir, notices)
    osmo = _osmo(problems, cfg.get("osmo"))
    problems.check()
    assert cluster is not None
    assert osmo is not None
    return StackSpec(cluster=cluster, osmo=osmo, notices=tuple(notices))


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
    name = expect_str(problems, f"{path}.name", body.get("name"))
    if name is not None and (reason := dns1123_label_problem(name)) is not None:
        problems.add(f"{path}.name", reason)
        name = None

    context = body.get("context")
    if context is not None and expect_str(problems, f"{path}.context", context) is None:
        context = None
    source = _kubeconfig(
        problems,
        path,
        file_value=body.get("kubeconfig"),
        secret_value=secret_kubeconfig,
        context=context,
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
    *,
    file_value: Any,
    secret_value: Any,
    context: Any,
    base_dir: Path,
    notices: list[str],
) -> KubeconfigSource | None:
    if file_value is not None and secret_value is not None:
        problems.add(
            f"{path}.kubeconfig",
            f"set either a file path here or the secret {KUBECONFIG_SECRET_KEY}, not both",
        )
        return None
    if file_value is None and secret_value is None:
        problems.add(
            f"{path}.kubeconfig",
            "is required: a kubeconfig file path, or the content in the secret "
            f"{KUBECONFIG_SECRET_KEY}",
        )
        return None
    ctx = context if isinstance(context, str) else None

    if secret_value is not None:
        text = expect_str(problems, KUBECONFIG_SECRET_KEY, secret_value)
        if text is None:
            return None
        origin = f"secret {KUBECONFIG_SECRET_KEY}"
        if is_placeholder(text):
            notices.append(
                f"{KUBECONFIG_SECRET_KEY} is a secure value the offline plan cannot decrypt; "
                "a placeholder stands in and its content (context, server) was not checked"
            )
            return KubeconfigSource(origin=origin, content=text, context=ctx, server=None)
        checked = kc.check(problems, KUBECONFIG_SECRET_KEY, text, ctx, None)
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


def _osmo(problems: Problems, value: Any) -> OsmoSpec | None:
    path = f"{PROJECT}:osmo"
    body = _required_section(problems, path, value, "`backendName`")
    if body is None:
        return None
    unknown_keys(problems, path, body, ("backendName",))
    name = expect_str(problems, f"{path}.backendName", body.get("backendName"))
    if name is None:
        return None
    if (reason := dns1123_label_problem(name)) is not None:
        problems.add(f"{path}.backendName", reason)
        return None
    return OsmoSpec(backend_name=name)
