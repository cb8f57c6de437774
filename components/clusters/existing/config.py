"""`osmo-backend:cluster` with `kind: existing`: an adopted cluster, its kubeconfig and how OSMO
finds each role's nodes."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from components._validate import (
    Problems,
    dns1123_subdomain_problem,
    expect_dns_label,
    expect_mapping,
    label_key_problem,
    label_value_problem,
    show,
    unknown_keys,
)
from components.config._common import (
    KUBECONFIG_SECRET_KEY,
    NODE_TYPE_LABEL,
    PROJECT,
    KubeconfigSource,
    read_kubeconfig,
    section,
)
from components.config.cluster import (
    GPU_COMPONENT_OWNERS,
    ROLES,
    ClusterContext,
    GpuComponentOwner,
    GpuStackSpec,
    Role,
)


@dataclass(frozen=True)
class NodeRoleSpec:
    """How OSMO finds the nodes of one role, and which nodes this stack labels into it."""

    role: Role
    selector: Mapping[str, str]
    """Node labels selecting the role. Default: `{node-type: <role>}`."""
    nodes: tuple[str, ...] = ()
    """Node names this stack labels with `selector` (and, for gpu, taints). Default: none."""


@dataclass(frozen=True)
class ExistingClusterSpec:
    kind: Literal["existing"]
    name: str
    kubeconfig: KubeconfigSource
    node_roles: tuple[NodeRoleSpec, ...]
    gpu_stack: GpuStackSpec


def parse(
    problems: Problems, body: Mapping[str, Any], ctx: ClusterContext
) -> ExistingClusterSpec | None:
    """`cluster` with `kind: existing`: a name, a kubeconfig, node roles and the GPU stack."""
    path = f"{PROJECT}:cluster"
    unknown_keys(
        problems, path, body, ("kind", "name", "kubeconfig", "context", "nodeRoles", "gpuStack")
    )
    name = expect_dns_label(problems, f"{path}.name", body.get("name"))
    source = read_kubeconfig(
        problems,
        path,
        body,
        secret_key=KUBECONFIG_SECRET_KEY,
        secret_value=ctx.secret_kubeconfig,
        base_dir=ctx.base_dir,
        notices=ctx.notices,
    )
    roles = _node_roles(problems, f"{path}.nodeRoles", body.get("nodeRoles"))
    gpu_stack = _gpu_stack(problems, f"{path}.gpuStack", body.get("gpuStack"))
    if name is None or source is None or roles is None or gpu_stack is None:
        return None
    return ExistingClusterSpec(
        kind="existing", name=name, kubeconfig=source, node_roles=roles, gpu_stack=gpu_stack
    )


_ROLE_KEYS = ("selector", "nodes")


def _node_roles(problems: Problems, path: str, value: Any) -> tuple[NodeRoleSpec, ...] | None:
    given = section(problems, path, value, ROLES)
    if given is None:
        return None
    ok = True
    specs: list[NodeRoleSpec] = []
    owner: dict[str, Role] = {}
    for role in ROLES:
        rpath = f"{path}.{role}"
        entry = section(problems, rpath, given.get(role), _ROLE_KEYS)
        if entry is None:
            ok = False
            continue
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
