"""Benchmark `osmo-backend validate` and the floor pydantic sets under it (issue 19 item 6).

Validation is pydantic's since issue 19, so no `validate` can start faster than a process that
imports pydantic's model machinery. Per reference stack this times, round-robin in one run:

- `validate`: `python -m offline.cli validate --stack NAME` (the console script's work);
- `python`: an interpreter that exits at once (the fixed cost of any command);
- `pydantic`: an interpreter that imports `pydantic.main` and defines one model, then exits.

The median of each, and `validate - pydantic`: our own share (reading the stack file, building
the models of the stack's sections and its own cluster kind, validating). Our modules are
precompiled first (`compileall`), as an installed package is.

This is a benchmark, not a test; run it by hand:
    .venv/bin/python benchmarks/validate_benchmark.py [--repeat N] [--json PATH]
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from offline.fleet import REFERENCE_STACKS  # noqa: E402

FLOORS = {
    "python": "pass",
    "pydantic": "from pydantic import BaseModel\nclass M(BaseModel):\n    x: int = 0\n",
}


def _time(argv: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs of each (default 10)")
    parser.add_argument("--json", type=Path, help="also write the medians here")
    args = parser.parse_args()
    compileall.compile_dir(REPO / "components", quiet=1)
    compileall.compile_dir(REPO / "offline", quiet=1)
    commands = {
        **{name: [sys.executable, "-c", code] for name, code in FLOORS.items()},
        **{
            stack: [sys.executable, "-m", "offline.cli", "validate", "--stack", stack]
            for stack in REFERENCE_STACKS
        },
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():  # warm the file cache
        _time(argv)
    for _ in range(args.repeat):
        for name, argv in commands.items():
            times[name].append(_time(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["pydantic"]
    print(f"{'command':<14} {'median s':>9} {'min s':>7} {'over pydantic s':>16}")
    for name, values in times.items():
        over = "" if name in FLOORS else f"{medians[name] - floor:16.3f}"
        print(f"{name:<14} {medians[name]:9.3f} {min(values):7.3f} {over}")
    if args.json:
        args.json.write_text(json.dumps(medians, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
