"""Benchmark `osmo-backend plan` against the cost of importing the Pulumi SDKs.

For every reference stack (`<stackConfigDir>/Pulumi.<name>.yaml`) this times
`python -m offline.cli plan --stack NAME --out TMPDIR` as a subprocess from the repo root, next to
two floors measured in the same run:

- `python -c "import pulumi, pulumi_kubernetes"` (the floor the target is measured against);
- `python -c "import pulumi, pulumi_kubernetes.core.v1"` (the typed module the program needs).

Each command runs once to warm up, then `--repeat` times (round-robin, so drift on a shared
machine hits every command alike). Wall time is measured around spawn and reap; peak RSS comes
from `os.wait4` for that one child. It also checks, per stack, that the plan did not import a
cloud SDK the stack's cluster kind does not need, and exits 1 if it did (or if any command failed).

This is a benchmark, not a test; run it by hand:
    .venv/bin/python benchmarks/plan_benchmark.py [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

REPO = Path(__file__).resolve().parent.parent
WARMUP = 1
TARGET_RATIO = 2.0
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
KIND_SDKS: dict[str, frozenset[str]] = {
    "existing": frozenset(),
    "eks": frozenset({"pulumi_aws"}),
    "gke": frozenset({"pulumi_gcp"}),
    "aks": frozenset({"pulumi_azure_native"}),
}
MODULES_MARKER = "@@plan-benchmark-cloud-modules@@ "
# Runs the CLI in-process, then reports which cloud SDK modules ended up in sys.modules.
IMPORT_CHECK = f"""\
import json, sys
from offline.cli import main
rc = main(sys.argv[1:])
roots = {set(CLOUD_SDKS)!r}
mods = sorted(m for m in sys.modules if m.split('.')[0] in roots)
print({MODULES_MARKER!r} + json.dumps(mods))
sys.exit(rc)
"""


class BenchmarkError(Exception):
    """A benchmarked command failed or a stack file cannot be read."""


@dataclass
class Command:
    label: str
    argv: list[str]
    stack: str | None = None
    wall: list[float] = field(default_factory=list[float])
    peak_kib: int = 0

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "argv": self.argv,
            "stack": self.stack,
            "wall_s": [round(w, 4) for w in self.wall],
            "median_s": round(statistics.median(self.wall), 4),
            "min_s": round(min(self.wall), 4),
            "max_s": round(max(self.wall), 4),
            "peak_rss_mib": round(self.peak_kib / 1024, 1),
        }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time `offline.cli plan` per reference stack against the Pulumi import floor."
    )
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per command (default 5)")
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter of the project's venv (default: the one running this script)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the numbers here")
    return parser


def _load_yaml(path: Path) -> dict[str, Any]:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise BenchmarkError(f"{path}: cannot read: {err}") from None
    if not isinstance(doc, dict):
        raise BenchmarkError(f"{path}: not a YAML mapping")
    return cast(dict[str, Any], doc)


def find_stacks(repo: Path) -> tuple[dict[str, Path], str]:
    """The reference stacks (name -> file) and the project name, as Pulumi.yaml declares them."""
    project = _load_yaml(repo / "Pulumi.yaml")
    config_dir = repo / str(project.get("stackConfigDir", "."))
    files = sorted(config_dir.glob("Pulumi.*.yaml"))
    return {f.name[len("Pulumi.") : -len(".yaml")]: f for f in files}, str(project["name"])


def cluster_kind(stack_file: Path, project: str) -> str:
    config = _load_yaml(stack_file).get("config") or {}
    cluster = config.get(f"{project}:cluster", config.get("cluster")) or {}
    return str(cluster.get("kind", "?")) if isinstance(cluster, dict) else "?"


def run_once(argv: list[str], cwd: Path) -> tuple[float, int, str]:
    """Run `argv`; return (wall seconds, peak RSS KiB, stdout). Raises on a non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        if proc.returncode != 0:
            err.seek(0)
            tail = err.read().decode(errors="replace").strip().splitlines()[-15:]
            raise BenchmarkError(
                f"exit {proc.returncode}: {' '.join(argv)}\n" + "\n".join("  " + t for t in tail)
            )
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return wall, peak, stdout


def measure(commands: list[Command], repeat: int) -> None:
    for _ in range(WARMUP):
        for cmd in commands:
            run_once(cmd.argv, REPO)
    for _ in range(repeat):
        for cmd in commands:
            wall, peak, _ = run_once(cmd.argv, REPO)
            cmd.wall.append(wall)
            cmd.peak_kib = max(cmd.peak_kib, peak)


def cloud_modules(python: str, stack: str, out: Path) -> list[str]:
    """The cloud SDK modules a plan of `stack` leaves in sys.modules."""
    argv = [python, "-c", IMPORT_CHECK, "plan", "--stack", stack, "--out", str(out)]
    _, _, stdout = run_once(argv, REPO)
    for line in stdout.splitlines():
        if line.startswith(MODULES_MARKER):
            return [str(m) for m in json.loads(line[len(MODULES_MARKER) :])]
    raise BenchmarkError(f"no module report from: {' '.join(argv[:2])} ... {stack}")


def _table(commands: list[Command], floor: Command, core: Command) -> list[str]:
    rows: list[tuple[str, ...]] = [
        ("command", "median s", "min s", "max s", "peak MiB", "x floor", "x core.v1")
    ]
    for cmd in commands:
        med = statistics.median(cmd.wall)
        ratios = ("-", "-")
        if cmd.stack is not None:
            ratios = (
                f"{med / statistics.median(floor.wall):.2f}x",
                f"{med / statistics.median(core.wall):.2f}x",
            )
        rows.append(
            (
                cmd.label,
                f"{med:.3f}",
                f"{min(cmd.wall):.3f}",
                f"{max(cmd.wall):.3f}",
                f"{cmd.peak_kib / 1024:.1f}",
                *ratios,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines: list[str] = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return lines


def run(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise BenchmarkError("--repeat must be at least 1")
    python: str = args.python
    stacks, project = find_stacks(REPO)
    if not stacks:
        raise BenchmarkError(f"no Pulumi.<name>.yaml stack files found for {REPO}")

    with tempfile.TemporaryDirectory(prefix="plan-benchmark-") as tmp:
        floor = Command(
            "import pulumi, pulumi_kubernetes", [python, "-c", "import pulumi, pulumi_kubernetes"]
        )
        core = Command(
            "import pulumi, pulumi_kubernetes.core.v1",
            [python, "-c", "import pulumi, pulumi_kubernetes.core.v1"],
        )
        plans = [
            Command(
                f"plan --stack {name}",
                [python, "-m", "offline.cli", "plan", "--stack", name, "--out", f"{tmp}/{name}"],
                stack=name,
            )
            for name in stacks
        ]
        commands = [floor, core, *plans]
        print(f"python:  {python}")
        print(f"repo:    {REPO}")
        print(f"runs:    {WARMUP} warm-up + {args.repeat} timed per command, {os.cpu_count()} CPUs")
        print()
        measure(commands, args.repeat)
        for line in _table(commands, floor, core):
            print(line)
        print()

        floor_med = statistics.median(floor.wall)
        core_med = statistics.median(core.wall)
        results: list[dict[str, Any]] = []
        for name, cmd in zip(stacks, plans, strict=True):
            median = statistics.median(cmd.wall)
            kind = cluster_kind(stacks[name], project)
            mods = cloud_modules(python, name, Path(tmp) / f"{name}-imports")
            allowed = KIND_SDKS.get(kind, frozenset())
            results.append(
                {
                    "stack": name,
                    "kind": kind,
                    "ratio_floor": median / floor_med,
                    "ratio_core_v1": median / core_med,
                    "target_met": median / floor_med <= TARGET_RATIO,
                    "cloud_sdk_modules": mods,
                    "unneeded_cloud_sdks": sorted({m.split(".")[0] for m in mods} - allowed),
                }
            )

    print(f"target: plan within {TARGET_RATIO:.1f}x the floor")
    for res in results:
        met = "met" if res["target_met"] else "NOT met"
        print(f"  {res['stack']}: {res['ratio_floor']:.2f}x the floor: {met}")
    print()
    print("cloud SDK modules the plan imported (existing needs none; eks pulumi_aws,")
    print("gke pulumi_gcp, aks pulumi_azure_native):")
    for res in results:
        mods = res["cloud_sdk_modules"]
        shown = repr(mods) if len(mods) <= 5 else f"{len(mods)} modules"
        unneeded = res["unneeded_cloud_sdks"]
        verdict = "FAIL, not needed: " + ", ".join(unneeded) if unneeded else "ok"
        print(f"  {res['stack']} (kind {res['kind']}): {shown}: {verdict}")

    if args.json is not None:
        doc = {
            "python": python,
            "cpus": os.cpu_count(),
            "warmup": WARMUP,
            "repeat": args.repeat,
            "target_ratio": TARGET_RATIO,
            "commands": [c.summary() for c in commands],
            "stacks": results,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if any(res["unneeded_cloud_sdks"] for res in results) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
