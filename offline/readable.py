"""The parts of a plan people read first: node pools, Helm releases, the egress allowlist.

`osmo-backend plan` prints the pools (from the validated stack config the components build them
from) and the releases (from the recording: what the program registered), and writes the egress
allowlist output as its own file for the firewall or proxy team.
"""

from collections.abc import Iterator, Sequence
from pathlib import Path

import yaml

from components.clusters.existing.config import ExistingClusterSpec
from components.clusters.registry import KINDS, ClusterSpec
from components.config import GPU_TAINT_EFFECT, GPU_TAINT_KEY, GPU_TAINT_VALUE
from components.config._rules import Taint
from offline.engine import Recording, mask_secrets
from offline.plan import HELM_RELEASE, helm_release

EGRESS_OUTPUT = "egress_allowlist"
EGRESS_FILE = "egress-allowlist.yaml"
GPU_TAINT = f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}"
"""The taint every gpu pool (and every listed gpu node) gets."""

Cluster = ClusterSpec


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
    pool the stack creates (the kind's `pool_rows`, components/clusters/<kind>/config.py)."""
    rows = KINDS[cluster.kind].pool_rows
    if rows is None:
        return []
    return [(*row[:6], _taint(row[1], row[6])) for row in rows(cluster)]


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
