"""Scan every reference stack's planned manifests with Checkov (run by .ci/run).

Checkov lives in its own virtualenv (`.venv-tools`, installed by .ci/run) because its
dependencies clash with the project's. It exits 0 when it scans nothing, so this script also
requires a non-zero resource count. Failed checks are allowed only when listed in EXCEPTIONS with
the reason.
"""

import argparse
import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

from components._psa import DOCUMENTED_CHECK_EXCEPTIONS, PRIVILEGED_WORKLOADS
from offline import cli
from offline.fleet import REFERENCE_STACKS
from offline.stackfile import find_project

EXCEPTIONS: dict[str, str] = {}
"""Checkov ids that may fail, with the reason (none today)."""


def documented(resource: str) -> bool:
    """A resource of a documented privileged workload: the workload itself, or (in graph checks
    such as CKV2_K8S_6) its pods, named `Pod.<namespace>.<name>.<labels>`."""
    kind, _, rest = resource.partition(".")
    namespace, _, name = rest.partition(".")
    workloads = {w.split(".", 1)[1] for w in PRIVILEGED_WORKLOADS}
    if resource in PRIVILEGED_WORKLOADS:
        return True
    return kind == "Pod" and f"{namespace}.{name.partition('.')[0]}" in workloads


def excepted(resource: str, check_id: str) -> bool:
    """A check a named workload fails by design (DOCUMENTED_CHECK_EXCEPTIONS)."""
    kind, _, rest = resource.partition(".")
    name = rest.partition(".")[2]
    for (known_kind, known_name), checks in DOCUMENTED_CHECK_EXCEPTIONS.items():
        matches = name.startswith(known_name) if known_name.endswith("-") else name == known_name
        if kind == known_kind and matches and check_id in checks:
            return True
    return False


def scan(checkov: str, manifests: Path) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [checkov, "--framework", "kubernetes", "-d", str(manifests), "--quiet", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(proc.stdout or "{}")
    report = report[0] if isinstance(report, list) else report
    summary = report.get("summary", {})
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
        if c["check_id"] not in EXCEPTIONS
        and not documented(c["resource"])
        and not excepted(c["resource"], c["check_id"])
    ]
    return int(summary.get("resource_count", 0)), failed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkov", required=True, help="path to the checkov executable")
    parser.add_argument("--out", type=Path, default=Path("build/scan"))
    args = parser.parse_args()
    project = find_project(Path.cwd())
    status = 0
    # The project's reference stacks only: a user's own stacks in stacks/ are not CI's to scan.
    for name in (n for n, _ in project.stacks() if n in REFERENCE_STACKS):
        out = args.out / name
        with contextlib.redirect_stdout(io.StringIO()):
            planned = cli.main(["plan", "--stack", name, "--out", str(out)])
        if planned != 0:
            print(f"{name}: plan failed", file=sys.stderr)
            status = 1
            continue
        count, failed = scan(args.checkov, out / "manifests")
        print(f"{name}: checkov scanned {count} resources, {len(failed)} failed")
        for line in failed:
            print(f"  {line}", file=sys.stderr)
        if count == 0 or failed:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
