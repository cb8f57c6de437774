"""Fleet runs against a fake runner: selection, bounded concurrency, logs, failures, summary."""

import argparse
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from offline import cli, fleet
from offline.stackfile import Project
from tests.harness import REPO


class FakeRunner:
    """Records concurrency; stacks named in `fail` raise, others report `changes`."""

    def __init__(
        self,
        fail: set[str] = frozenset(),  # type: ignore[assignment]
        delay: float = 0.05,
        fail_step: fleet.Step | None = None,
    ) -> None:
        self.fail = fail
        self.fail_step = fail_step
        self.delay = delay
        self.running = 0
        self.peak = 0
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def run(self, stack: str, step: fleet.Step, on_output: Callable[[str], None]) -> dict[str, int]:
        with self._lock:
            self.calls.append((stack, step))
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            on_output(f"Running {step} ({stack})")
            time.sleep(self.delay)
            if stack in self.fail and self.fail_step in (None, step):
                if step.startswith("preview") and self.fail_step is not None:
                    raise RuntimeError(
                        f"code: 255\n stderr: error: resource "
                        f"'urn:pulumi:{stack}::osmo-backend::gcp:container/cluster:Cluster::c' "
                        "cannot be deleted because it is protected"
                    )
                raise RuntimeError(f"code: 255\n stderr: error: {stack} has no access")
            return {"create": 2, "same": 5, "update": 1}
        finally:
            with self._lock:
                self.running -= 1


def project(tmp_path: Path, names: list[str]) -> Project:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    for name in names:
        (stacks / f"Pulumi.{name}.yaml").write_text("config: {}\n")
    return Project(name="osmo-backend", dir=tmp_path, stack_config_dir=stacks)


def args(**overrides: object) -> argparse.Namespace:
    base: dict[str, object] = {
        "operation": "preview",
        "stacks": [],
        "concurrency": 2,
        "logs": None,
        "yes": False,
    }
    base.update(overrides)
    return argparse.Namespace(**base)


def test_selection_by_name_and_glob_keeps_file_order() -> None:
    names = ["aws-use1", "aws-usw2", "gke-euw4", "onprem-lab"]
    assert fleet.select(names, []) == ["aws-use1", "gke-euw4"]
    assert fleet.select(names, ["aws-*", "onprem-lab"]) == ["aws-use1", "aws-usw2", "onprem-lab"]
    with pytest.raises(fleet.SelectionError) as err:
        fleet.select(names, ["azure-*", "aws-*"])
    assert str(err.value) == (
        "no stack matches 'azure-*'; stacks: aws-use1, aws-usw2, gke-euw4, onprem-lab"
    )


def test_concurrency_is_bounded_and_every_stack_gets_its_own_log(tmp_path: Path) -> None:
    runner = FakeRunner()
    lines: list[str] = []
    results = fleet.run_fleet(
        [f"s{i}" for i in range(6)],
        "preview",
        runner,
        concurrency=2,
        log_dir=tmp_path / "logs",
        progress=lines.append,
    )
    assert runner.peak == 2
    assert [r.stack for r in results] == [f"s{i}" for i in range(6)]
    assert all(r.ok for r in results)
    for i in range(6):
        assert (tmp_path / "logs" / f"s{i}.log").read_text() == f"Running preview (s{i})\n"
    assert (
        sum(
            1
            for line in lines
            if line.endswith("preview started (log " + str(tmp_path / "logs" / "s0.log") + ")")
        )
        == 1
    )
    assert [line.split("]")[0] for line in lines if line.startswith("[")] == [
        f"[{i}/6" for i in range(1, 7)
    ]


def test_a_failing_stack_does_not_stop_the_others(tmp_path: Path) -> None:
    runner = FakeRunner(fail={"b"})
    results = fleet.run_fleet(
        ["a", "b", "c"], "up", runner, concurrency=1, log_dir=tmp_path, progress=lambda _: None
    )
    assert [(r.stack, r.ok) for r in results] == [("a", True), ("b", False), ("c", True)]
    assert results[1].error == "preview failed, nothing changed: stderr: error: b has no access"
    assert "error: code: 255" in (tmp_path / "b.log").read_text()
    # b's preview failed, so its `up` never ran.
    assert sorted(runner.calls) == [
        ("a", "preview"),
        ("a", "up"),
        ("b", "preview"),
        ("c", "preview"),
        ("c", "up"),
    ]


@pytest.mark.parametrize(
    ("operation", "preview_step"), [("up", "preview"), ("destroy", "preview-destroy")]
)
def test_up_and_destroy_go_on_only_after_their_preview_succeeds(
    tmp_path: Path, operation: fleet.Operation, preview_step: fleet.Step
) -> None:
    # The Automation API runs `up` and `destroy` with --skip-preview
    # (pulumi/automation/_stack.py); the engine refuses a protected resource only at its delete
    # step (pulumi/pulumi pkg/resource/deploy/step.go, DeleteStep.Apply), so without a preview a
    # protected cluster stops a destroy half-way. A failing preview must stop the stack first.
    runner = FakeRunner(fail={"prod"}, fail_step=preview_step)
    results = fleet.run_fleet(
        ["dev", "prod"], operation, runner, concurrency=1, log_dir=tmp_path, progress=lambda _: None
    )
    assert [(r.stack, r.ok) for r in results] == [("dev", True), ("prod", False)]
    assert results[1].error == (
        f"{preview_step} failed, nothing changed: stderr: error: resource "
        "'urn:pulumi:prod::osmo-backend::gcp:container/cluster:Cluster::c' cannot be deleted "
        "because it is protected"
    )
    assert runner.calls == [("dev", preview_step), ("dev", operation), ("prod", preview_step)]


def test_a_failure_in_the_operation_itself_is_reported_as_it_is(tmp_path: Path) -> None:
    runner = FakeRunner(fail={"prod"}, fail_step="destroy")
    results = fleet.run_fleet(
        ["prod"], "destroy", runner, concurrency=1, log_dir=tmp_path, progress=lambda _: None
    )
    assert results[0].error == "stderr: error: prod has no access"
    assert runner.calls == [("prod", "preview-destroy"), ("prod", "destroy")]


def test_summary_table() -> None:
    results = [
        fleet.StackResult("aws-usw2", True, 12.34, Path("x"), {"create": 3, "same": 2}),
        fleet.StackResult("onprem-lab", False, 1.0, Path("y"), error="no access"),
        fleet.StackResult("gke", True, 0.5, Path("z"), {"same": 9}),
    ]
    assert fleet.summary(results) == [
        "STACK       RESULT  CHANGES     DURATION",
        "aws-usw2    ok      +3          12.3s",
        "onprem-lab  FAILED  no access   1.0s",
        "gke         ok      no changes  0.5s",
        "2 succeeded, 1 failed",
    ]


def test_cli_fleet_sets_the_exit_code_and_prints_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = project(tmp_path, ["east", "west"])
    assert cli.cmd_fleet(proj, args(), FakeRunner()) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "fleet preview: 2 stacks, 2 at a time"
    assert out[-1] == "2 succeeded, 0 failed"
    assert (tmp_path / "build" / "fleet" / "preview" / "east.log").is_file()
    assert cli.cmd_fleet(proj, args(stacks=["we*"]), FakeRunner(fail={"west"})) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "0 succeeded, 1 failed"


def test_cli_fleet_refuses_unconfirmed_changes_and_bad_selection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    proj = project(tmp_path, ["east"])
    runner = FakeRunner()
    assert cli.cmd_fleet(proj, args(operation="destroy"), runner) == 2
    assert capsys.readouterr().err == "fleet destroy changes real clusters: add --yes to proceed\n"
    assert cli.cmd_fleet(proj, args(stacks=["nope"]), runner) == 2
    assert capsys.readouterr().err == "no stack matches 'nope'; stacks: east\n"
    assert cli.cmd_fleet(proj, args(concurrency=0), runner) == 2
    assert runner.calls == []
    assert cli.cmd_fleet(proj, args(operation="up", yes=True), runner) == 0
    assert runner.calls == [("east", "preview"), ("east", "up")]


def test_cli_fleet_without_the_pulumi_cli_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli.shutil, "which", lambda _name: None)
    assert cli.cmd_fleet(project(tmp_path, ["east"]), args()) == 1
    assert capsys.readouterr().err == (
        "the Pulumi CLI is not installed; install it from "
        "https://www.pulumi.com/docs/iac/download-install/ (or run `osmo-backend plan` offline)\n"
    )


def test_automation_runner_hides_secrets_and_maps_op_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from types import SimpleNamespace

    from pulumi import automation as auto
    from pulumi.automation.events import OpType

    seen: list[tuple[str, dict[str, object]]] = []

    class FakeStack:
        def preview(self, **kwargs: object) -> object:
            seen.append(("preview", kwargs))
            return SimpleNamespace(change_summary={OpType.CREATE: 2, OpType.SAME: 1})

        def up(self, **kwargs: object) -> object:
            seen.append(("up", kwargs))
            return SimpleNamespace(summary=SimpleNamespace(resource_changes={OpType.UPDATE: 1}))

        def destroy(self, **kwargs: object) -> object:
            seen.append(("destroy", kwargs))
            return SimpleNamespace(summary=SimpleNamespace(resource_changes=None))

        def preview_destroy(self, **kwargs: object) -> object:
            seen.append(("preview_destroy", kwargs))
            return SimpleNamespace(change_summary={OpType.DELETE: 4})

    selected: list[tuple[str, str]] = []

    def select_stack(stack_name: str, work_dir: str) -> FakeStack:
        selected.append((stack_name, work_dir))
        return FakeStack()

    monkeypatch.setattr(auto, "select_stack", select_stack)
    runner = fleet.AutomationRunner(tmp_path)
    assert runner.run("east", "preview", print) == {"create": 2, "same": 1}
    assert runner.run("east", "up", print) == {"update": 1}
    assert runner.run("east", "destroy", print) == {}
    assert runner.run("east", "preview-destroy", print) == {"delete": 4}
    assert selected == [("east", str(tmp_path))] * 4
    assert [op for op, _ in seen] == ["preview", "up", "destroy", "preview_destroy"]
    assert seen[1][1]["show_secrets"] is False
    assert seen[2][1]["show_secrets"] is False
    assert seen[3][1]["show_secrets"] is False


# --- your stacks and ours (issue 16 item 2) and the CI matrix (item 4) -------------------------


def test_without_stack_patterns_the_fleet_is_the_users_stacks() -> None:
    names = ["aws-usw2", "east", "gcp-usc1", "onprem-lab", "west", "azure-eus"]
    assert fleet.select(names, []) == ["east", "west"]
    # Named (or globbed) explicitly, a reference stack is selected like any other.
    assert fleet.select(names, ["aws-*", "east"]) == ["aws-usw2", "east"]
    with pytest.raises(fleet.SelectionError) as err:
        fleet.select(list(fleet.REFERENCE_STACKS), [])
    assert str(err.value) == (
        "no stacks of yours in the stack directory (the reference stacks aws-usw2, azure-eus, "
        "gcp-usc1, onprem-lab run only when --stack names them); create one with "
        "`osmo-backend init --kind KIND --name NAME`"
    )


def test_cli_fleet_preview_leaves_the_reference_stacks_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runner = FakeRunner(delay=0)
    proj = project(tmp_path, ["aws-usw2", "east", "onprem-lab"])
    assert cli.cmd_fleet(proj, args(), runner) == 0
    assert runner.calls == [("east", "preview")]
    assert capsys.readouterr().out.splitlines()[0] == "fleet preview: 1 stacks, 2 at a time"


def test_fleet_matrix_prints_the_selected_stacks_as_one_json_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.aws-usw2.yaml").write_text("config: {osmo-backend:cluster: {kind: eks}}\n")
    (stacks / "Pulumi.west.yaml").write_text("config: {osmo-backend:cluster: {kind: gke}}\n")
    (stacks / "Pulumi.east.yaml").write_text("config: {osmo-backend:cluster: {kind: eks}}\n")
    (stacks / "Pulumi.lab.yaml").write_text("config: [\n")
    proj = Project(name="osmo-backend", dir=tmp_path, stack_config_dir=stacks)
    runner = FakeRunner()
    assert cli.cmd_fleet(proj, args(operation="matrix"), runner) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one line: `echo "matrix=$(...)" >> "$GITHUB_OUTPUT"`
    assert json.loads(out) == {
        "include": [
            {"stack": "east", "kind": "eks", "file": "stacks/Pulumi.east.yaml"},
            {"stack": "lab", "kind": "unreadable", "file": "stacks/Pulumi.lab.yaml"},
            {"stack": "west", "kind": "gke", "file": "stacks/Pulumi.west.yaml"},
        ]
    }
    assert cli.cmd_fleet(proj, args(operation="matrix", stacks=["aws-*"]), runner) == 0
    assert json.loads(capsys.readouterr().out)["include"] == [
        {"stack": "aws-usw2", "kind": "eks", "file": "stacks/Pulumi.aws-usw2.yaml"}
    ]
    assert runner.calls == []  # matrix runs nothing and needs no --yes or Pulumi CLI


def test_fleet_matrix_of_the_repository_refuses_an_empty_matrix(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["--project-dir", str(REPO), "fleet", "matrix"]) == 2
    assert capsys.readouterr().err.startswith("no stacks of yours in the stack directory")
