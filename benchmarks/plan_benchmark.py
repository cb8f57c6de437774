"""Benchmark `osmo-backend plan` against its import floor (issue 17).

No program that registers a stack's resources can import less than the provider SDK classes
those resources and the stack's invokes come from. Per reference stack
(`<stackConfigDir>/Pulumi.<name>.yaml`) this:

1. plans the stack once in a probe (in-process CLI) to learn its resource types (resources.json)
   and invoke tokens, and which cloud SDK modules the plan loaded;
2. maps each token to its SDK module and class (or function) with the table every Pulumi SDK
   registers in its `__init__.py` (`_utilities.register(resource_modules=..., resource_packages=
   ...)`: `kubernetes:helm.sh/v3:Release` -> `pulumi_kubernetes.helm.v3.Release`,
   `aws:eks/cluster:Cluster` -> `pulumi_aws.eks.Cluster`); an invoke `pkg:mod/fn:fn` (or
   `pkg:mod:fn`) -> the module of `mod` (`index`: the package), function `snake_case(fn)`;
3. times, round-robin in the same run: the plan (`python -m offline.cli plan --stack NAME`), and
   the floor: a process that imports those modules and touches each class, then exits.

The floor touches each class on purpose: the SDKs register their submodules as lazy modules, so
a bare `import pulumi_gcp.container` after `import pulumi_gcp` executes nothing (the earlier
`import pulumi, pulumi_kubernetes` floor measured an empty import). Both the floor and the plan
exit without the interpreter's teardown (`os._exit`; the plan does so as a program, see
offline/cli.py main), which would otherwise add 0.3-0.9 s to each alike. A second floor runs
with the cyclic garbage collector off, as the plan does: the strict floor.

It also plans all stacks in one invocation (`plan --stack A --stack B ...`) against the floor of
the union of their classes, and checks that no stack's plan imported a cloud SDK its cluster
kind does not need (exit 1 if one did, or if any command failed). Our own modules are
precompiled first (`compileall`), as `uv sync --compile-bytecode` does for the SDKs.

This is a benchmark, not a test; run it by hand:
    .venv/bin/python benchmarks/plan_benchmark.py [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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
TARGET_RATIO = 1.5
CLOUD_SDKS = ("pulumi_aws", "pulumi_gcp", "pulumi_azure_native")
KIND_SDKS: dict[str, frozenset[str]] = {
    "existing": frozenset(),
    "eks": frozenset({"pulumi_aws"}),
    "gke": frozenset({"pulumi_gcp"}),
    "aks": frozenset({"pulumi_azure_native"}),
}
PACKAGES: dict[str, str] = {
    "kubernetes": "pulumi_kubernetes",
    "aws": "pulumi_aws",
    "gcp": "pulumi_gcp",
    "azure-native": "pulumi_azure_native",
    "random": "pulumi_random",
    "time": "pulumiverse_time",
}
"""Pulumi package name -> its Python SDK package."""
PROBE_MARKER = "@@plan-benchmark-probe@@ "
# Runs the CLI in-process, then reports the invokes the program made and the cloud SDK modules
# it loaded.
PROBE = f"""\
import json, sys
from offline import cli, engine
invokes = []
run = engine.run
def recording_run(*args, **kwargs):
    recording = run(*args, **kwargs)
    invokes.extend(recording.invokes)
    return recording
engine.run = recording_run
rc = cli.main(sys.argv[1:])
roots = {set(CLOUD_SDKS)!r}
mods = sorted(m for m in sys.modules if m.split('.')[0] in roots)
print({PROBE_MARKER!r} + json.dumps({{"invokes": sorted(set(invokes)), "modules": mods}}))
sys.exit(rc)
"""
FLOOR = """\
import importlib, os
for module, name in {pairs!r}:
    getattr(importlib.import_module(module), name)
os._exit(0)
"""
NO_GC = "import gc; gc.disable()\n"


class BenchmarkError(Exception):
    """A benchmarked command failed, a stack file cannot be read, or a token has no SDK class."""


@dataclass
class Command:
    label: str
    argv: list[str]
    wall: list[float] = field(default_factory=list[float])
    peak_kib: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.wall)

    def summary(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "argv": self.argv[:3] + (["..."] if len(self.argv) > 3 else []),
            "wall_s": [round(w, 4) for w in self.wall],
            "median_s": round(self.median, 4),
            "min_s": round(min(self.wall), 4),
            "max_s": round(max(self.wall), 4),
            "peak_rss_mib": round(self.peak_kib / 1024, 1),
        }


@dataclass
class Case:
    """A plan command and its two floors (default GC, and GC off)."""

    name: str
    plan: Command
    floor: Command
    floor_no_gc: Command
    classes: list[tuple[str, str]]

    def result(self) -> dict[str, Any]:
        ratio = self.plan.median / self.floor.median
        return {
            "case": self.name,
            "floor_classes": len(self.classes),
            "floor_modules": sorted({m for m, _ in self.classes}),
            "plan_s": round(self.plan.median, 4),
            "floor_s": round(self.floor.median, 4),
            "floor_no_gc_s": round(self.floor_no_gc.median, 4),
            "ratio_floor": round(ratio, 3),
            "ratio_floor_no_gc": round(self.plan.median / self.floor_no_gc.median, 3),
            "target_met": ratio <= TARGET_RATIO,
        }


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="Time `offline.cli plan` per reference stack against its SDK import floor."
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


class SdkTable:
    """Token -> (module, attribute), from the registration table in each SDK's `__init__.py`.

    Read as text (not imported), so building the table costs the benchmark nothing it measures.
    """

    def __init__(self, python: str) -> None:
        out = subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        )
        self._site = Path(out.stdout.strip())
        self._tables: dict[str, tuple[dict[str, tuple[str, str]], dict[str, str]]] = {}

    def _table(self, package: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        if package not in self._tables:
            text = (self._site / package / "__init__.py").read_text(encoding="utf-8")
            classes: dict[str, tuple[str, str]] = {}
            modules: dict[str, str] = {}
            found = re.search(r'resource_modules="""(.*?)"""', text, re.S)
            for entry in json.loads(found.group(1)) if found else []:
                modules.setdefault(str(entry["mod"]).split("/")[0], str(entry["fqn"]))
                for token, cls in entry["classes"].items():
                    classes[str(token)] = (str(entry["fqn"]), str(cls))
            found = re.search(r'resource_packages="""(.*?)"""', text, re.S)
            for entry in json.loads(found.group(1)) if found else []:
                classes[str(entry["token"])] = (str(entry["fqn"]), str(entry["class"]))
            self._tables[package] = (classes, modules)
        return self._tables[package]

    def resource(self, token: str) -> tuple[str, str] | None:
        """The SDK class of a resource type; None for a component of this project."""
        parts = token.split(":")
        pkg = parts[2] if token.startswith("pulumi:providers:") else parts[0]
        package = PACKAGES.get(pkg)
        if package is None:
            return None
        try:
            return self._table(package)[0][token]
        except KeyError:
            raise BenchmarkError(f"{token}: not in {package}'s registered classes") from None

    def invoke(self, token: str) -> tuple[str, str]:
        """The SDK function of an invoke token (`aws:iam/getSessionContext:getSessionContext`)."""
        pkg, mod, fn = token.split(":")
        package = PACKAGES.get(pkg)
        if package is None:
            raise BenchmarkError(f"invoke {token}: no known SDK package for {pkg!r}")
        segment = mod.split("/")[0]
        module = package if segment == "index" else self._table(package)[1].get(segment, package)
        return module, re.sub(r"(?<!^)(?=[A-Z])", "_", fn).lower()


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
            shown = " ".join(argv) if len(" ".join(argv)) < 300 else " ".join(argv[:3]) + " ..."
            raise BenchmarkError(
                f"exit {proc.returncode}: {shown}\n" + "\n".join("  " + t for t in tail)
            )
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
    return wall, peak, stdout


def measure(commands: list[Command], repeat: int) -> None:
    """Warm-up, then `repeat` rounds over every command (drift on a shared machine hits all)."""
    for _ in range(WARMUP):
        for cmd in commands:
            run_once(cmd.argv, REPO)
    for _ in range(repeat):
        for cmd in commands:
            wall, peak, _ = run_once(cmd.argv, REPO)
            cmd.wall.append(wall)
            cmd.peak_kib = max(cmd.peak_kib, peak)


def probe(python: str, stack: str, out: Path) -> tuple[list[str], list[str], list[str]]:
    """Plan `stack` once: (resource types, invoke tokens, cloud SDK modules it loaded)."""
    argv = [python, "-c", PROBE, "plan", "--stack", stack, "--out", str(out)]
    _, _, stdout = run_once(argv, REPO)
    for line in stdout.splitlines():
        if line.startswith(PROBE_MARKER):
            report = json.loads(line[len(PROBE_MARKER) :])
            doc = json.loads((out / "resources.json").read_text(encoding="utf-8"))
            types = sorted({str(r["type"]) for r in doc["resources"]})
            return types, [str(i) for i in report["invokes"]], [str(m) for m in report["modules"]]
    raise BenchmarkError(f"no probe report from the plan of {stack}")


def floor_classes(table: SdkTable, types: list[str], invokes: list[str]) -> list[tuple[str, str]]:
    pairs = {p for t in types if (p := table.resource(t)) is not None}
    pairs |= {table.invoke(i) for i in invokes}
    return sorted(pairs)


def precompile(python: str) -> None:
    """Bytecode for our own modules (the SDKs': `uv sync --compile-bytecode`)."""
    targets = [str(REPO / d) for d in ("components", "offline")]
    run_once([python, "-m", "compileall", "-q", *targets], REPO)


def _table(commands: list[Command]) -> list[str]:
    rows: list[tuple[str, ...]] = [("command", "median s", "min s", "max s", "peak MiB")]
    for cmd in commands:
        med = cmd.median
        rows.append(
            (
                cmd.label,
                f"{med:.3f}",
                f"{min(cmd.wall):.3f}",
                f"{max(cmd.wall):.3f}",
                f"{cmd.peak_kib / 1024:.1f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines: list[str] = []
    for row in rows:
        cells = [row[0].ljust(widths[0])]
        cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells))
    return lines


def _case(python: str, name: str, plan_argv: list[str], classes: list[tuple[str, str]]) -> Case:
    floor = FLOOR.format(pairs=classes)
    return Case(
        name=name,
        plan=Command(f"plan {name}", [python, "-m", "offline.cli", "plan", *plan_argv]),
        floor=Command(f"floor {name}", [python, "-c", floor]),
        floor_no_gc=Command(f"floor {name}, gc off", [python, "-c", NO_GC + floor]),
        classes=classes,
    )


def run(args: argparse.Namespace) -> int:
    if args.repeat < 1:
        raise BenchmarkError("--repeat must be at least 1")
    python: str = args.python
    stacks, project = find_stacks(REPO)
    if not stacks:
        raise BenchmarkError(f"no Pulumi.<name>.yaml stack files found for {REPO}")
    table = SdkTable(python)
    precompile(python)

    with tempfile.TemporaryDirectory(prefix="plan-benchmark-") as tmp:
        checks: list[dict[str, Any]] = []
        cases: list[Case] = []
        for name, path in stacks.items():
            types, invokes, mods = probe(python, name, Path(tmp) / "probe" / name)
            kind = cluster_kind(path, project)
            unneeded = sorted({m.split(".")[0] for m in mods} - KIND_SDKS.get(kind, frozenset()))
            checks.append(
                {"stack": name, "kind": kind, "cloud_sdk_modules": mods, "unneeded": unneeded}
            )
            argv = ["--stack", name, "--out", f"{tmp}/{name}"]
            cases.append(_case(python, name, argv, floor_classes(table, types, invokes)))
        union = sorted({c for case in cases for c in case.classes})
        many = [a for name in stacks for a in ("--stack", name)] + ["--out", f"{tmp}/all"]
        cases.append(_case(python, "all stacks", many, union))

        commands = [c for case in cases for c in (case.floor, case.floor_no_gc, case.plan)]
        print(f"python:  {python}")
        print(f"repo:    {REPO}")
        print(f"runs:    {WARMUP} warm-up + {args.repeat} timed per command, {os.cpu_count()} CPUs")
        print()
        measure(commands, args.repeat)
        for line in _table(commands):
            print(line)
        print()

    results = [case.result() for case in cases]
    print(f"target: each plan within {TARGET_RATIO:.1f}x its floor (strict: floor with gc off)")
    for res in results:
        met = "met" if res["target_met"] else "NOT met"
        print(
            f"  {res['case']}: {res['ratio_floor']:.2f}x the floor "
            f"({res['floor_classes']} SDK classes in {len(res['floor_modules'])} modules), "
            f"{res['ratio_floor_no_gc']:.2f}x strict: {met}"
        )
    print()
    print("cloud SDK modules the plan imported (existing needs none; eks pulumi_aws,")
    print("gke pulumi_gcp, aks pulumi_azure_native):")
    for check in checks:
        mods = check["cloud_sdk_modules"]
        shown = repr(mods) if len(mods) <= 5 else f"{len(mods)} modules"
        verdict = "FAIL, not needed: " + ", ".join(check["unneeded"]) if check["unneeded"] else "ok"
        print(f"  {check['stack']} (kind {check['kind']}): {shown}: {verdict}")

    if args.json is not None:
        doc = {
            "python": python,
            "cpus": os.cpu_count(),
            "warmup": WARMUP,
            "repeat": args.repeat,
            "target_ratio": TARGET_RATIO,
            "commands": [c.summary() for c in commands],
            "cases": results,
            "sdk_checks": checks,
        }
        args.json.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 1 if any(check["unneeded"] for check in checks) else 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return run(args)
    except BenchmarkError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
