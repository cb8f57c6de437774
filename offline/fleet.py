"""Fleet runs: one `preview`/`up`/`destroy` over several stacks (one stack per region).

Stacks run concurrently up to a bound, each writing its own log; a failure in one stack does not
stop the others and sets the exit code; a summary table closes the run. The Pulumi work goes
through a `StackRunner`; the real one drives the Pulumi CLI through the Automation API, tests use
a fake.

`up` and `destroy` preview first and go on only when the preview succeeds. The Automation API runs
both with `--skip-preview` (pulumi/automation/_stack.py: `up` passes `["up", "--yes",
"--skip-preview"]`, `destroy` `["--skip-preview", "--yes"]`), and the engine refuses a protected
resource only when it reaches its delete step (pkg/resource/deploy/step.go, `DeleteStep.Apply`
returns `deleteProtectedError`, "cannot be deleted because it is protected", in preview and update
alike; step_executor.go continues past it to report them all): without a preview, a protected
resource fails the run after everything that did not depend on it is gone. The preview fails on
the same rule with nothing changed.
"""

import fnmatch
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol, get_args

Operation = Literal["preview", "up", "destroy", "verify"]
OPERATIONS: tuple[Operation, ...] = get_args(Operation)
Step = Literal["preview", "up", "preview-destroy", "destroy", "verify"]
"""What a runner does once: an operation, or the destroy preview (`destroy --preview-only`).
`verify` is run by `offline.verify_command.VerifyRunner`, not the Pulumi CLI."""
STEPS: dict[Operation, tuple[Step, ...]] = {
    "preview": ("preview",),
    "up": ("preview", "up"),
    "destroy": ("preview-destroy", "destroy"),
    "verify": ("verify",),
}
"""The steps of each operation, in order; a step runs only when the one before succeeded."""
PULUMI_INSTALL = "https://www.pulumi.com/docs/iac/download-install/"
REFERENCE_STACKS = ("aws-usw2", "azure-eus", "gcp-usc1", "onprem-lab")
"""The project's own example stacks in stacks/ (README "Reference stacks"). They share the
directory with a user's stacks (the Pulumi CLI reads one stackConfigDir) but are not theirs to
deploy: `fleet` acts on them only when `--stack` names them, and the tests cover them by name."""


class SelectionError(Exception):
    """A stack pattern matched no stack file."""


class StackRunner(Protocol):
    def run(self, stack: str, step: Step, on_output: Callable[[str], None]) -> dict[str, int]:
        """Run `step` on `stack`; return its change summary ({op: count}); raise on failure."""
        ...


@dataclass
class StackResult:
    stack: str
    ok: bool
    seconds: float
    log: Path
    changes: dict[str, int] = field(default_factory=dict[str, int])
    error: str | None = None


def user_stacks(available: Sequence[str]) -> list[str]:
    """The stacks that are not the project's reference stacks, in file order."""
    return [s for s in available if s not in REFERENCE_STACKS]


def select(available: Sequence[str], patterns: Sequence[str]) -> list[str]:
    """Stacks matching any name or glob in `patterns`, in file order; without patterns, the
    user's stacks (every stack but the reference ones)."""
    if not patterns:
        mine = user_stacks(available)
        if not mine:
            raise SelectionError(
                "no stacks of yours in the stack directory (the reference stacks "
                f"{', '.join(REFERENCE_STACKS)} run only when --stack names them); "
                "create one with `osmo-backend init --kind KIND --name NAME`"
            )
        return mine
    unmatched = [p for p in patterns if not fnmatch.filter(available, p)]
    if unmatched:
        raise SelectionError(
            f"no stack matches {', '.join(repr(p) for p in unmatched)}; "
            f"stacks: {', '.join(available) or 'none'}"
        )
    return [s for s in available if any(fnmatch.fnmatchcase(s, p) for p in patterns)]


def describe_changes(changes: dict[str, int]) -> str:
    """`+2 ~1 -0`-style summary, `same` ignored; `no changes` when nothing would change. A
    verify step's counts (`checks` and one per state) read `9 checks: 8 ok, 1 skipped`."""
    if "checks" in changes:
        from offline.verify_command import describe

        return describe(changes)
    symbols = {"create": "+", "update": "~", "replace": "+-", "delete": "-"}
    parts = [
        f"{symbols.get(op, op + ' ')}{n}" for op, n in sorted(changes.items()) if op != "same" and n
    ]
    return " ".join(parts) if parts else "no changes"


def run_fleet(
    stacks: Iterable[str],
    operation: Operation,
    runner: StackRunner,
    *,
    concurrency: int,
    log_dir: Path,
    progress: Callable[[str], None],
    clock: Callable[[], float] = time.monotonic,
) -> list[StackResult]:
    """Run `operation` on every stack, at most `concurrency` at once; results in input order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    names = list(stacks)
    log_dir.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    finished = [0]

    def report(line: str) -> None:
        with lock:
            progress(line)

    def one(stack: str) -> StackResult:
        log = log_dir / f"{stack}.log"
        report(f"{stack}: {operation} started (log {log})")
        start = clock()
        with log.open("w", encoding="utf-8") as handle:

            def write(text: str) -> None:
                handle.write(text if text.endswith("\n") else text + "\n")
                handle.flush()

            changes: dict[str, int] = {}
            result: StackResult | None = None
            for step in STEPS[operation]:
                try:
                    changes = runner.run(stack, step, write)
                except Exception as err:  # one stack's failure must not stop the others
                    write(f"error: {err}")
                    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
                    message = lines[-1] if lines else type(err).__name__
                    if step != operation:
                        message = f"{step} failed, nothing changed: {message}"
                    result = StackResult(stack, False, clock() - start, log, error=message)
                    break
            if result is None:
                result = StackResult(stack, True, clock() - start, log, changes)
        with lock:
            finished[0] += 1
            done = finished[0]
        outcome = describe_changes(result.changes) if result.ok else f"FAILED: {result.error}"
        report(f"[{done}/{len(names)}] {stack}: {outcome} ({result.seconds:.1f}s)")
        return result

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, names))


def summary(results: Sequence[StackResult]) -> list[str]:
    """The closing table: stack, result, changes, duration."""
    rows = [
        (
            r.stack,
            "ok" if r.ok else "FAILED",
            describe_changes(r.changes) if r.ok else r.error or "",
            f"{r.seconds:.1f}s",
        )
        for r in results
    ]
    header = ("STACK", "RESULT", "CHANGES", "DURATION")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [
        f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]:<{widths[2]}}  {row[3]}"
        for row in [header, *rows]
    ]
    failed = sum(1 for r in results if not r.ok)
    lines.append(f"{len(results) - failed} succeeded, {failed} failed")
    return lines


class AutomationRunner:
    """Runs stacks of the project in `project_dir` with the Pulumi CLI (Automation API).

    Secrets are never shown: `up` and `destroy` run with `show_secrets=False`, so logs carry
    `[secret]` where a secret output would be.
    """

    def __init__(self, project_dir: Path) -> None:
        self._project_dir = project_dir

    def run(self, stack: str, step: Step, on_output: Callable[[str], None]) -> dict[str, int]:
        from pulumi import automation as auto

        if step not in ("preview", "preview-destroy", "up", "destroy"):
            raise ValueError(f"the Pulumi CLI does not run {step!r}")
        selected = auto.select_stack(stack_name=stack, work_dir=str(self._project_dir))
        if step == "preview":
            changes = selected.preview(on_output=on_output).change_summary
        elif step == "preview-destroy":
            changes = selected.preview_destroy(
                on_output=on_output, show_secrets=False
            ).change_summary
        elif step == "up":
            changes = selected.up(on_output=on_output, show_secrets=False).summary.resource_changes
        else:
            result = selected.destroy(on_output=on_output, show_secrets=False)
            changes = result.summary.resource_changes
        # Keys are OpType (a str Enum): use their values, "create", "update", ...
        return {getattr(op, "value", str(op)): int(n) for op, n in (changes or {}).items()}
