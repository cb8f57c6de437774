"""The parts of a plan people read first: node pools, Helm releases, the egress allowlist.

`osmo-backend plan` prints the pools (from the validated stack config the components build them
from) and the releases (from the recording: what the program registered), and writes the egress
allowlist output as its own file for the firewall or proxy team.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from components.config import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    AksClusterSpec,
    EksClusterSpec,
    ExistingClusterSpec,
    GkeClusterSpec,
)
from components.config._common import Taint
from components.config.gke import machine_accelerator
from offline.engine import Recording, mask_secrets
from offline.plan import HELM_RELEASE, helm_release

EGRESS_OUTPUT = "egress_allowlist"
EGRESS_FILE = "egress-allowlist.yaml"
GPU_TAINT = f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}"
"""The taint every gpu pool (and every listed gpu node) gets."""

Cluster = ExistingClusterSpec | EksClusterSpec | GkeClusterSpec | AksClusterSpec


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterator[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        yield "  " + "  ".join(f"{c:<{w}}" for c, w in zip(row, widths, strict=True)).rstrip()


def _taint(role: str, extra: Sequence[Taint] = ()) -> str:
    """The GPU taint of gpu pools and the pool's own taints, comma-separated."""
    taints = [GPU_TAINT] if role == "gpu" else []
    taints += [f"{t.key}={t.value}:{t.effect}" for t in extra]
    return ",".join(taints) or "-"


def pool_rows(cluster: Cluster) -> list[tuple[str, ...]]:
    """Name, role, machine type, node counts, GPUs per node, capacity type and taints of each
    pool the stack creates."""
    if isinstance(cluster, EksClusterSpec):
        return [
            (
                p.name,
                p.role,
                ",".join(p.instance_types),
                f"{p.min_size}-{p.max_size} (desired {p.desired_size})",
                str(p.gpus_per_node),
                p.capacity_type,
                _taint(p.role, p.taints),
            )
            for p in cluster.node_pools
        ]
    if isinstance(cluster, GkeClusterSpec):
        rows: list[tuple[str, ...]] = []
        for p in cluster.node_pools:
            accelerator = p.accelerator or machine_accelerator(p.machine_type)
            gpus = f"{accelerator.count} {accelerator.type}" if accelerator else "0"
            spot = "spot" if p.spot else "on-demand"
            nodes = f"{p.min_nodes}-{p.max_nodes}"
            rows.append(
                (p.name, p.role, p.machine_type, nodes, gpus, spot, _taint(p.role, p.taints))
            )
        return rows
    if isinstance(cluster, AksClusterSpec):
        return [
            (
                p.name,
                p.role,
                p.vm_size,
                f"{p.min_count}-{p.max_count}",
                "by VM size" if p.role == "gpu" else "0",
                "spot" if p.spot else "on-demand",
                _taint(p.role, p.taints),
            )
            for p in cluster.node_pools
        ]
    return []


def node_pools(cluster: Cluster) -> list[str]:
    """The pools as a table, or for an adopted cluster how each role finds its nodes."""
    if isinstance(cluster, ExistingClusterSpec):
        rows = [
            (
                r.role,
                ",".join(f"{k}={v}" for k, v in sorted(r.selector.items())),
                ", ".join(r.nodes) if r.nodes else "(labelled already)",
                GPU_TAINT if r.role == "gpu" and r.nodes else "-",
            )
            for r in cluster.node_roles
        ]
        header = ("ROLE", "SELECTOR", "NODES THIS STACK LABELS", "TAINTS")
        return ["Node roles (existing cluster):", *_table(header, rows)]
    header = ("POOL", "ROLE", "TYPE", "NODES", "GPUS/NODE", "CAPACITY", "TAINTS")
    return ["Node pools:", *_table(header, pool_rows(cluster))]


def releases(recording: Recording) -> list[str]:
    """Each Helm release: name, chart, version and namespace."""
    rows = sorted(
        (
            str(r["release"]),
            str(r["chart"]),
            str(r["version"]),
            str(r["namespace"]),
        )
        for r in (helm_release(rec) for rec in recording.resources if rec.type == HELM_RELEASE)
    )
    if not rows:
        return []
    return ["Helm releases:", *_table(("RELEASE", "CHART", "VERSION", "NAMESPACE"), rows)]


def write_egress(recording: Recording, out: Path) -> Path:
    """The `egress_allowlist` output as its own YAML file (secrets masked, as everywhere)."""
    entries = mask_secrets(recording.raw_outputs.get(EGRESS_OUTPUT, []))
    header = (
        f"# Destinations stack {recording.stack!r} must reach (firewall or egress proxy "
        "allowlist).\n"
    )
    path = out / EGRESS_FILE
    path.write_text(header + yaml.safe_dump(entries, sort_keys=True, default_flow_style=False))
    return path
