"""`fleet verify`: verify for several stacks, with the summary table of `fleet up`; the
clusters are local API servers on 127.0.0.1 (tests/verify/apiserver.py)."""

import argparse
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from offline import cli, fleet, verify_command
from offline.stackfile import Project
from tests.verify.apiserver import Server, closed_port, no_proxies, serve
from tests.verify.test_verify import control_plane, healthy, lab_stack

__all__ = ["no_proxies", "serve"]


def fleet_project(tmp_path: Path, stacks: dict[str, tuple[str, str | None]]) -> Project:
    """One existing-cluster stack file per name, pointing at (compute, control plane) URLs."""
    directory = tmp_path / "stacks"
    directory.mkdir()
    for name, (compute, plane) in stacks.items():
        own = tmp_path / name
        own.mkdir()
        path = lab_stack(own, compute, plane)
        (directory / f"Pulumi.{name}.yaml").write_text(path.read_text())
    return Project(name="osmo-backend", dir=tmp_path, stack_config_dir=directory)


def args(**overrides: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "operation": "verify",
        "stacks": [],
        "concurrency": 2,
        "logs": None,
        "yes": False,
        "wait": None,
    }
    base.update(overrides)
    return argparse.Namespace(**base)


def no_cli(_project: Project) -> verify_command.StackSource | None:
    return None


def test_fleet_verify_summary_and_exit_code(
    tmp_path: Path,
    serve: Callable[[], Server],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify_command, "default_source", no_cli)
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    down = f"http://127.0.0.1:{closed_port()}"
    project = fleet_project(tmp_path, {"east": (compute.url, plane.url), "west": (down, None)})
    code = cli.cmd_fleet(project, args())
    out = capsys.readouterr().out
    assert code == 1
    lines = [re.sub(r"\d+\.\ds", "Ns", line.rstrip()) for line in out.splitlines()]
    table = lines[lines.index("") + 1 :]
    assert table == [
        "STACK  RESULT  CHANGES                      DURATION",
        "east   ok      12 checks: 11 ok, 1 skipped  Ns",
        "west   FAILED  1 failing: api-server        Ns",
        "1 succeeded, 1 failed",
    ]
    assert lines[0] == "fleet verify: 2 stacks, 2 at a time"
    log = (tmp_path / "build" / "fleet" / "verify" / "west.log").read_text()
    assert f"api-server: FAILED - cannot reach {down}: Connection refused" in log
    assert "stack west: backend lab is NOT ready" in log


def test_fleet_verify_needs_no_yes_and_wait_is_only_for_verify(tmp_path: Path) -> None:
    project = fleet_project(tmp_path, {"east": ("http://127.0.0.1:1", None)})

    class Passing:
        def run(
            self, stack: str, step: fleet.Step, on_output: Callable[[str], None]
        ) -> dict[str, int]:
            assert step == "verify"
            return {"checks": 3, "ok": 2, "scales from zero": 1}

    assert cli.cmd_fleet(project, args(), runner=Passing()) == 0
    assert cli.cmd_fleet(project, args(operation="preview", wait="5m")) == 2
    assert fleet.describe_changes({"checks": 3, "ok": 2, "scales from zero": 1}) == (
        "3 checks: 2 ok, 1 scales from zero"
    )


def test_the_pulumi_runner_refuses_a_verify_step(tmp_path: Path) -> None:
    """AutomationRunner's last branch was `destroy`: a step it does not know must not reach it."""
    with pytest.raises(ValueError, match="does not run 'verify'"):
        fleet.AutomationRunner(tmp_path).run("east", "verify", print)
