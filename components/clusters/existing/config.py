"""`osmo-backend:cluster` with `kind: existing`: an adopted cluster, its kubeconfig and how OSMO
finds each role's nodes."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, cast

from pydantic import BeforeValidator, Field, ValidationInfo, WithJsonSchema, field_validator

from components._validate import (
    dns1123_subdomain_problem,
    show,
)
from components.config._common import KUBECONFIG_SECRET_KEY, KubeconfigSource, kubeconfig_source
from components.config._model import (
    DnsLabel,
    Model,
    Reasons,
    Section,
    Text,
    fail,
)
from components.config._rules import NODE_TYPE_LABEL, label_problem
from components.config.cluster import ROLES, GpuStackSpec, Role


@dataclass(frozen=True)
class NodeRoleSpec:
    """One role as the components read it: its node selector and the nodes this stack labels."""

    role: Role
    selector: Mapping[str, str]
    nodes: tuple[str, ...] = ()


def _selector(value: Any) -> Any:
    if value == {}:
        raise fail("must select at least one label (an empty selector matches every node)")
    reasons = Reasons()
    for key, label in sorted(value.items() if isinstance(value, Mapping) else ()):
        if reason := label_problem(key, label):
            reasons.add((key,), reason)
    reasons.check()
    return value


def _nodes(value: Any) -> Any:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise fail(f"must be a list of node names, got {show(value)}")
    reasons, nodes = Reasons(), cast(list[Any], value)
    for index, node in enumerate(nodes):
        if not isinstance(node, str):
            reasons.add(index, f"must be a node name, got {show(node)}")
        elif reason := dns1123_subdomain_problem(node):
            reasons.add(index, f"node name {reason}")
        elif node in nodes[:index]:
            reasons.add(index, f"node {node!r} is listed twice")
    reasons.check()
    return nodes


class NodeRole(Model):
    """How OSMO finds the nodes of one role, and which nodes this stack labels into it."""

    selector: Annotated[dict[str, str] | None, BeforeValidator(_selector)] = None
    """Node labels selecting the role. Default: {node-type: <role>}."""
    nodes: Annotated[tuple[str, ...], BeforeValidator(_nodes)] = ()
    """Node names this stack labels into the role (GPU nodes also tainted)."""


OneRole = Annotated[NodeRole, Section]


class NodeRoles(Model):
    """OSMO's node roles."""

    operator: OneRole = NodeRole()
    """Nodes for KAI, the GPU Operator and OSMO's backend operator."""
    compute: OneRole = NodeRole()
    """CPU nodes for workflows."""
    gpu: OneRole = NodeRole()
    """GPU nodes for workflows."""
    jetson: OneRole = NodeRole()
    """Jetson (ARM GPU) nodes for workflows."""

    @field_validator("compute", "gpu", "jetson")
    @classmethod
    def _one_role_each(cls, value: NodeRole, info: ValidationInfo) -> NodeRole:
        reasons = Reasons()
        for index, node in enumerate(value.nodes):
            for role, given in info.data.items():  # the roles before this one, each valid
                if node in given.nodes:
                    reasons.add(
                        ("nodes", index),
                        f"node {node!r} is already listed under role {role!r}; "
                        "a node has exactly one role",
                    )
        reasons.check()
        return value


class ExistingClusterSpec(Model):
    """Adopt an existing cluster from a kubeconfig."""

    kind: Literal["existing"]
    """Cluster kind."""
    name: DnsLabel
    """Cluster name (DNS-1123 label); the provider's cluster_identifier."""
    context: Text | None = None
    """Kubeconfig context. Default: its current-context."""
    kubeconfig: Annotated[KubeconfigSource, WithJsonSchema({"type": "string"})] = Field(
        None, validate_default=True
    )
    """Kubeconfig file path, relative to the project directory. Default: the content in the
    secret osmo-backend:kubeconfig."""
    roles: Annotated[NodeRoles, Section] = Field(NodeRoles(), alias="nodeRoles")
    """How OSMO finds each role's nodes, and which nodes this stack labels into it."""
    gpu_stack: Annotated[GpuStackSpec, Section] = GpuStackSpec()
    """Who installs the NVIDIA driver and container toolkit on GPU nodes."""

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _read(cls, value: Any, info: ValidationInfo) -> Any:
        return kubeconfig_source(value, info, KUBECONFIG_SECRET_KEY)

    @property
    def node_roles(self) -> tuple[NodeRoleSpec, ...]:
        """Every role in OSMO's order, its selector defaulted."""
        given: dict[str, NodeRole] = dict(self.roles)
        return tuple(
            NodeRoleSpec(r, given[r].selector or {NODE_TYPE_LABEL: r}, given[r].nodes)
            for r in ROLES
        )
