"""`osmo-backend plan` with several stacks in one run, and plan run as a program."""

import gc
import os
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from offline import cli
from tests.harness import REPO

LAB = yaml.safe_load((REPO / "stacks" / "Pulumi.onprem-lab.yaml").read_text())
PROGRAM = """\
import runpy

import pulumi

if pulumi.get_stack() == "boom":
    raise RuntimeError("the program failed on purpose")
runpy.run_path({main!r}, run_name="__main__")
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with the real program and the lab's config as stacks lab-a, lab-b and boom (whose
    program raises), plus bad (invalid config)."""
    root = tmp_path / "project"
    (root / "stacks").mkdir(parents=True)
    shutil.copy(REPO / "Pulumi.yaml", root / "Pulumi.yaml")
    (root / "examples").symlink_to(REPO / "examples")
    (root / "__main__.py").write_text(PROGRAM.format(main=str(REPO / "__main__.py")))
    for name in ("lab-a", "lab-b", "boom"):
        (root / "stacks" / f"Pulumi.{name}.yaml").write_text(yaml.safe_dump(LAB))
    bad = yaml.safe_load(yaml.safe_dump(LAB))
    bad["config"]["osmo-backend:osmo"]["serviceUrl"] = "http://osmo.example.com"
    (root / "stacks" / "Pulumi.bad.yaml").write_text(yaml.safe_dump(bad))
    return root


def plan(project: Path, *args: str) -> int:
    return cli.main(["--project-dir", str(project), "plan", *args])


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def test_a_glob_plans_each_stack_into_its_own_directory_as_if_planned_alone(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # lab-b plans after lab-a in the same process: the engine must reset Pulumi's runtime state
    # (mocks, config, root resource) so that its files equal those of lab-b planned alone.
    assert plan(project, "--stack", "lab-*") == cli.EXIT_OK
    printed = capsys.readouterr().out
    assert "== stack lab-a (1 of 2)" in printed
    assert "== stack lab-b (2 of 2)" in printed
    assert printed.rstrip().endswith("Stacks: lab-a ok, lab-b ok")
    assert plan(project, "--stack", "lab-b", "--out", str(tmp_path / "alone")) == cli.EXIT_OK
    together = files(project / "build" / "plan" / "lab-b")
    assert "resources.json" in together
    assert together == files(tmp_path / "alone")
    assert (project / "build" / "plan" / "lab-a" / "resources.json").is_file()


def test_with_several_stacks_out_is_their_parent(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "plans"
    assert plan(project, "--stack", "lab-a", "--stack", "lab-b", "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == ["lab-a", "lab-b"]
    assert (out / "lab-a" / "resources.json").is_file()


def test_invalid_config_in_one_stack_is_named_and_the_others_still_plan(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plans"
    assert plan(project, "--stack", "bad", "--stack", "lab-a", "--out", str(out)) == 2
    printed = capsys.readouterr()
    problems = printed.err.strip().splitlines()
    assert problems
    assert all(line.startswith("bad: osmo-backend:osmo.serviceUrl: ") for line in problems)
    assert printed.out.rstrip().endswith("Stacks: bad invalid (exit 2), lab-a ok")
    assert (out / "lab-a" / "resources.json").is_file()
    assert not (out / "bad").exists()


def test_the_exit_code_is_the_worst_a_failure_over_invalid_input(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plans"
    assert plan(project, "--stack", "b*", "--stack", "lab-a", "--out", str(out)) == 1
    printed = capsys.readouterr()
    assert "boom: error: the program failed:" in printed.err
    assert "RuntimeError: the program failed on purpose" in printed.err
    assert printed.out.rstrip().endswith(
        "Stacks: bad invalid (exit 2), boom failed (exit 1), lab-a ok"
    )
    assert (out / "lab-a" / "resources.json").is_file()


def test_a_glob_that_matches_no_stack_is_invalid_input(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan(project, "--stack", "lab-a", "--stack", "east-*") == 2
    assert capsys.readouterr().err.strip() == (
        "--stack: no stack matches 'east-*'; stacks: bad, boom, lab-a, lab-b"
    )


def test_run_as_a_program_plan_exits_after_flushing_without_the_teardown(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As a program (`argv` None), plan turns the cyclic GC off and ends with os._exit(status),
    after flushing what it printed: the interpreter's teardown of the SDK modules is 0.3-0.9 s."""
    calls: list[object] = []

    class Exited(Exception):
        pass

    def fake_exit(status: int) -> None:
        calls.append(("exit", status))
        raise Exited

    out = tmp_path / "plan"
    argv = ["osmo-backend", "--project-dir", str(project), "plan", "--stack", "lab-a"]
    monkeypatch.setattr(sys, "argv", [*argv, "--out", str(out)])
    monkeypatch.setattr(os, "_exit", fake_exit)
    monkeypatch.setattr(gc, "disable", lambda: calls.append("gc off"))
    monkeypatch.setattr(sys.stdout, "flush", lambda: calls.append("flush"))
    with pytest.raises(Exited):
        cli.main()
    assert calls[0] == "gc off"
    assert calls[-2:] == ["flush", ("exit", 0)]
    assert (out / "resources.json").is_file()


def test_called_with_arguments_plan_returns_and_leaves_the_gc_alone(project: Path) -> None:
    assert gc.isenabled()
    assert plan(project, "--stack", "lab-a", "--out", str(project / "out")) == 0
    assert gc.isenabled()
