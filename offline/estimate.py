"""Deploy-time estimate of a plan: the critical path of its dependency graph, in minutes.

The model (issue 17): a resource starts when all its dependencies have finished and takes the
typical time of its type; the stack is deployed when the last resource finishes. Dependencies are
the recorded ones (explicit and implicit) plus the resource's provider (the engine creates a
provider before anything that uses it). A child does not wait for its parent component;
components take no time, and waiting for a component means waiting for all its children (as the
SDK expands `depends_on` on a component). Providers take no time either (they only configure).

Weights are minutes per resource type, `TYPE[QUALIFIER]` first where one applies: the chart of a
Helm release (`kubernetes:helm.sh/v3:Release[gpu-operator]`), the role of a node pool (its
`node-type` label: `aws:eks/nodeGroup:NodeGroup[gpu]`). A `time:index/sleep:Sleep` takes its
`createDuration`. Types not listed take `SMALL_MINUTES`. `--weights FILE` (YAML, key -> minutes)
overrides or adds entries.

The lower bound of a backend that is ready: network (NAT) -> control plane -> operator pool ->
max(KAI -> backend-operator, GPU Operator). The network term counts only where the control plane
needs the NAT first (AKS's outbound type `userAssignedNATGateway`); an EKS or GKE control plane
needs only its subnets, and its NAT comes up alongside. No graph deploys faster with these weights.
"""

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

RELEASE = "kubernetes:helm.sh/v3:Release"
ROLE_LABEL = "node-type"
SMALL_MINUTES = 0.1
"""Any other custom resource: an API call or two (IAM roles, subnets, namespaces, Secrets)."""

CONTROL_PLANES = (
    "aws:eks/cluster:Cluster",
    "gcp:container/cluster:Cluster",
    "azure-native:containerservice:ManagedCluster",
)
NATS = (
    "aws:ec2/natGateway:NatGateway",
    "gcp:compute/routerNat:RouterNat",
    "azure-native:network:NatGateway",
)
SLEEP = "time:index/sleep:Sleep"
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(h|ms|m|s)")
_MINUTES_PER_UNIT = {"h": 60.0, "m": 1.0, "s": 1 / 60, "ms": 1 / 60000}
NODE_POOLS = (
    "aws:eks/nodeGroup:NodeGroup",
    "gcp:container/nodePool:NodePool",
    "azure-native:containerservice:AgentPool",
)

DEFAULT_WEIGHTS: Mapping[str, float] = {
    # Control planes. EKS: 13-16 min measured across 21 regions (easontechtalk.com, "Unofficial
    # EKS Cluster Creation Performance", 2024); AWS: "several minutes" (EKS CreateCluster API
    # reference). GKE regional clusters ~6 min, AKS with its system pool ~10-12 min (issue 17's
    # reference-stack measurements). AKS's system pool (the operator pool in azure-eus) is part
    # of the ManagedCluster resource and its time.
    "aws:eks/cluster:Cluster": 12.0,
    "gcp:container/cluster:Cluster": 6.0,
    "azure-native:containerservice:ManagedCluster": 12.0,
    # NAT gateways: AWS's reaches `available` in 1-2 min; Cloud NAT and Azure NAT ~1-2 min.
    "aws:ec2/natGateway:NatGateway": 2.0,
    "gcp:compute/routerNat:RouterNat": 2.0,
    "azure-native:network:NatGateway": 2.0,
    # Node pools until their nodes are Ready: CPU ~3 min, GPU ~6 min (larger images, driver
    # and device plugin; GPU capacity is often slower still).
    **dict.fromkeys(NODE_POOLS, 3.0),
    **{f"{pool}[gpu]": 6.0 for pool in NODE_POOLS},
    # Helm releases until their pods are ready (the provider waits unless skipAwait).
    RELEASE: 1.0,
    f"{RELEASE}[gpu-operator]": 6.0,
    f"{RELEASE}[kai-scheduler]": 3.0,
    f"{RELEASE}[kube-prometheus-stack]": 4.0,
    f"{RELEASE}[backend-operator]": 3.0,
    # CRDs only: no pods to wait for, a dozen server-side applies.
    f"{RELEASE}[prometheus-operator-crds]": 0.2,
}
"""Typical minutes per type (issue 17's weights; sources above). Rough by design: the estimate
compares graph shapes, it does not promise a wall-clock time."""


class WeightsError(Exception):
    """A weights file that is not a mapping of keys to minutes; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def load_weights(path: Path) -> dict[str, float]:
    """`DEFAULT_WEIGHTS` with the YAML mapping in `path` over it (all problems at once)."""
    where = f"--weights {path}"
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise WeightsError([f"{where}: cannot be read as YAML ({type(err).__name__})"]) from err
    if not isinstance(doc, Mapping):
        raise WeightsError([f"{where}: must be a mapping of resource type to minutes"])
    weights = dict(DEFAULT_WEIGHTS)
    problems: list[str] = []
    for key, value in doc.items():  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(key, str) or not key:
            problems.append(f"{where}: {key!r}: keys must be resource types (TYPE or TYPE[X])")
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value < 0
        ):
            problems.append(f"{where}: {key}: minutes must be a number >= 0, got {value!r}")
        else:
            weights[key] = float(value)
    if problems:
        raise WeightsError(problems)
    return weights


@dataclass(frozen=True)
class Node:
    urn: str
    type: str
    name: str
    custom: bool
    qualifier: str | None
    """Chart of a Helm release, role of a node pool."""
    minutes: float
    depends: tuple[str, ...]
    """Dependencies and provider (custom resources); the children (components)."""


@dataclass(frozen=True)
class Estimate:
    nodes: Mapping[str, Node]
    finish: Mapping[str, float]
    """Minutes after the start at which each resource is done."""
    path: tuple[str, ...]
    """The critical path, first to last (custom resources only)."""
    minutes: float
    bound: float
    bound_terms: tuple[tuple[str, float], ...]

    @property
    def ratio(self) -> float | None:
        return self.minutes / self.bound if self.bound > 0 else None


def _qualifier(resource: Mapping[str, Any]) -> str | None:
    inputs: Mapping[str, Any] = resource.get("inputs") or {}
    if resource["type"] == RELEASE:
        chart = inputs.get("chart")
        return str(chart).rstrip("/").rsplit("/", 1)[-1] if chart else None
    if resource["type"] in NODE_POOLS:
        for labels in (
            inputs.get("labels"),
            inputs.get("nodeLabels"),
            (inputs.get("nodeConfig") or {}).get("labels"),
        ):
            if isinstance(labels, Mapping) and ROLE_LABEL in labels:
                return str(labels[ROLE_LABEL])  # pyright: ignore[reportUnknownArgumentType]
    return None


def duration_minutes(text: str) -> float | None:
    """A Go duration (`5m`, `1m30s`, `90s`) in minutes; None if it is not one."""
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _MINUTES_PER_UNIT[u] for n, u in parts)


def weight(
    type_: str,
    qualifier: str | None,
    custom: bool,
    weights: Mapping[str, float],
    inputs: Mapping[str, Any] | None = None,
) -> float:
    """Minutes of one resource: `TYPE[QUALIFIER]`, else `TYPE`, else a sleep's own duration,
    else small (components and providers take none)."""
    if not custom or type_.startswith("pulumi:providers:"):
        return 0.0
    if qualifier is not None and (key := f"{type_}[{qualifier}]") in weights:
        return weights[key]
    if type_ in weights:
        return weights[type_]
    if type_ == SLEEP and inputs is not None:
        minutes = duration_minutes(str(inputs.get("createDuration") or ""))
        if minutes is not None:
            return minutes
    return SMALL_MINUTES


def graph(
    resources: Iterable[Mapping[str, Any]], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> dict[str, Node]:
    """The plan's resources (resources.json entries) as weighted nodes."""
    records = sorted(resources, key=lambda r: str(r["urn"]))
    urns = {str(r["urn"]) for r in records}
    children: dict[str, list[str]] = {}
    for record in records:
        if record.get("parent") in urns:
            children.setdefault(str(record["parent"]), []).append(str(record["urn"]))
    nodes: dict[str, Node] = {}
    for record in records:
        urn, custom = str(record["urn"]), bool(record.get("custom", True))
        depends = [str(d) for d in record.get("dependencies") or ()]
        if custom and record.get("provider"):
            depends.append(str(record["provider"]))
        if not custom:
            depends.extend(children.get(urn, ()))
        qualifier = _qualifier(record)
        nodes[urn] = Node(
            urn=urn,
            type=str(record["type"]),
            name=str(record["name"]),
            custom=custom,
            qualifier=qualifier,
            minutes=weight(
                str(record["type"]), qualifier, custom, weights, record.get("inputs") or {}
            ),
            depends=tuple(sorted({d for d in depends if d in urns and d != urn})),
        )
    return nodes


def _schedule(nodes: Mapping[str, Node]) -> tuple[dict[str, float], dict[str, str | None]]:
    """Finish time of every node and the dependency that held it back last."""
    finish: dict[str, float] = {}
    held_by: dict[str, str | None] = {}
    for start_urn in nodes:
        stack: list[tuple[str, bool]] = [(start_urn, False)]
        visiting: set[str] = set()
        while stack:
            urn, expanded = stack.pop()
            if urn in finish:
                continue
            node = nodes[urn]
            if not expanded:
                if urn in visiting:
                    raise ValueError(f"dependency cycle through {node.type} {node.name}")
                visiting.add(urn)
                stack.append((urn, True))
                stack.extend((d, False) for d in node.depends if d not in finish)
                continue
            last: str | None = None
            for dep in node.depends:  # sorted: the first of equal finishes wins
                if last is None or finish[dep] > finish[last]:
                    last = dep
            # Rounded so that equal sums of different orders compare equal.
            finish[urn] = round((finish[last] if last is not None else 0.0) + node.minutes, 6)
            held_by[urn] = last
            visiting.discard(urn)
    return finish, held_by


def lower_bound(nodes: Mapping[str, Node]) -> tuple[float, tuple[tuple[str, float], ...]]:
    """network -> control plane -> operator pool -> max(KAI -> backend-operator, GPU Operator),
    each term the longest such resource in the plan (0 where the plan has none: an adopted
    cluster has no network or control plane; AKS's system pool is inside its cluster). The
    network term is a NAT the control plane waits for."""

    def longest(match: Callable[[Node], bool]) -> float:
        return max((n.minutes for n in nodes.values() if n.custom and match(n)), default=0.0)

    before_control_plane: set[str] = set()
    pending = [u for u, n in nodes.items() if n.type in CONTROL_PLANES]
    while pending:
        for dep in nodes[pending.pop()].depends:
            if dep not in before_control_plane:
                before_control_plane.add(dep)
                pending.append(dep)

    def release(chart: str) -> float:
        return longest(lambda n: n.type == RELEASE and n.qualifier == chart)

    terms = (
        ("network (NAT)", longest(lambda n: n.type in NATS and n.urn in before_control_plane)),
        ("control plane", longest(lambda n: n.type in CONTROL_PLANES)),
        ("operator pool", longest(lambda n: n.type in NODE_POOLS and n.qualifier == "operator")),
        ("KAI", release("kai-scheduler")),
        ("backend-operator", release("backend-operator")),
        ("GPU Operator", release("gpu-operator")),
    )
    value = dict(terms)
    total = (
        value["network (NAT)"]
        + value["control plane"]
        + value["operator pool"]
        + max(value["KAI"] + value["backend-operator"], value["GPU Operator"])
    )
    return total, terms


def estimate(
    resources: Iterable[Mapping[str, Any]], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> Estimate:
    nodes = graph(resources, weights)
    finish, held_by = _schedule(nodes)
    path: list[str] = []
    if nodes:
        # The latest finish; among equals the first URN (deterministic).
        current: str | None = max(sorted(nodes), key=lambda u: finish[u])
        while current is not None:
            if nodes[current].custom:
                path.append(current)
            current = held_by[current]
    bound, terms = lower_bound(nodes)
    return Estimate(
        nodes=nodes,
        finish=finish,
        path=tuple(reversed(path)),
        minutes=max(finish.values(), default=0.0),
        bound=bound,
        bound_terms=terms,
    )


def report(result: Estimate) -> list[str]:
    """The lines `osmo-backend plan` prints: total, bound and ratio, then the chain (finish time,
    own minutes, type, name)."""
    if result.bound > 0:
        v = dict(result.bound_terms)
        formula = (
            f"network {v['network (NAT)']:g} + control plane {v['control plane']:g} + operator "
            f"pool {v['operator pool']:g} + max(KAI {v['KAI']:g} + backend-operator "
            f"{v['backend-operator']:g}, GPU Operator {v['GPU Operator']:g})"
        )
        head = (
            f"Deploy estimate: critical path {result.minutes:.1f} min, {result.ratio:.2f}x the "
            f"lower bound {result.bound:.1f} min = {formula}"
        )
    else:
        head = f"Deploy estimate: critical path {result.minutes:.1f} min (no lower bound applies)"
    lines = [head]
    for urn in result.path:
        node = result.nodes[urn]
        lines.append(f"  {result.finish[urn]:6.1f}  +{node.minutes:<5.1f} {node.type}  {node.name}")
    return lines


def _label(node: Node) -> str:
    return f"{node.type}\n{node.name}\n{node.minutes:g} min"


def _edges(result: Estimate) -> list[tuple[str, str]]:
    """(dependency, dependent) between custom resources; a dependency on a component stands
    for its custom descendants."""

    def customs(urn: str, seen: set[str]) -> list[str]:
        node = result.nodes[urn]
        if node.custom:
            return [urn]
        if urn in seen:
            return []
        seen.add(urn)
        return [c for d in node.depends for c in customs(d, seen)]

    edges: set[tuple[str, str]] = set()
    for node in result.nodes.values():
        if node.custom:
            for dep in node.depends:
                edges.update((d, node.urn) for d in customs(dep, set()))
    return sorted(edges)


def _critical_edges(result: Estimate) -> set[tuple[str, str]]:
    return set(zip(result.path, result.path[1:], strict=False))


def dot(result: Estimate) -> str:
    """Graphviz DOT: dependency -> dependent, the critical path in red."""
    ids = {urn: f"n{i}" for i, urn in enumerate(u for u in result.nodes if result.nodes[u].custom)}
    on_path, critical = set(result.path), _critical_edges(result)

    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = [
        "digraph deploy {",
        "  rankdir=LR;",
        '  node [shape=box, fontname="Helvetica", fontsize=10];',
        f"  label={quoted(report(result)[0])};",
    ]
    for urn, node_id in ids.items():
        style = ', color="#d00000", penwidth=3' if urn in on_path else ""
        lines.append(f"  {node_id} [label={quoted(_label(result.nodes[urn]))}{style}];")
    for dep, dependent in _edges(result):
        style = ' [color="#d00000", penwidth=3]' if (dep, dependent) in critical else ""
        lines.append(f"  {ids[dep]} -> {ids[dependent]}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def mermaid(result: Estimate) -> str:
    """Mermaid flowchart: dependency --> dependent, the critical path in red."""
    ids = {urn: f"n{i}" for i, urn in enumerate(u for u in result.nodes if result.nodes[u].custom)}
    critical = _critical_edges(result)

    def text(value: str) -> str:
        return value.replace('"', "#quot;").replace("\n", "<br/>")

    lines = ["flowchart LR"]
    for urn, node_id in ids.items():
        lines.append(f'  {node_id}["{text(_label(result.nodes[urn]))}"]')
    red: list[str] = []
    for index, (dep, dependent) in enumerate(_edges(result)):
        lines.append(f"  {ids[dep]} --> {ids[dependent]}")
        if (dep, dependent) in critical:
            red.append(str(index))
    lines.append("  classDef critical stroke:#d00000,stroke-width:3px")
    if result.path:
        lines.append(f"  class {','.join(ids[u] for u in result.path)} critical")
    if red:
        lines.append(f"  linkStyle {','.join(red)} stroke:#d00000,stroke-width:3px")
    return "\n".join(lines) + "\n"


def write(result: Estimate, out: Path) -> list[Path]:
    """`graph.dot` and `graph.mmd` in the plan directory."""
    files = [(out / "graph.dot", dot(result)), (out / "graph.mmd", mermaid(result))]
    for path, content in files:
        path.write_text(content)
    return [path for path, _ in files]
