"""`osmo-backend plan` prints the deploy estimate and writes the graph (issue 17).

One plan per reference stack, shared by the tests of this module.
"""

import contextlib
import io
import re
from pathlib import Path

import pytest

from offline import cli
from tests.harness import REPO

RELEASE = "kubernetes:helm.sh/v3:Release"


def plan(stack: str, out: Path, *extra: str) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        code = cli.main(
            ["--project-dir", str(REPO), "plan", "--stack", stack, "--out", str(out), *extra]
        )
    return code, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def onprem(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("onprem-lab")
    code, stdout, _ = plan("onprem-lab", out)
    assert code == 0
    return out, stdout


@pytest.fixture(scope="module")
def aws(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("aws-usw2")
    code, stdout, _ = plan("aws-usw2", out)
    assert code == 0
    return out, stdout


def estimate_lines(stdout: str) -> list[str]:
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Deploy estimate:"))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("Wrote graph.dot"))
    return lines[start : end + 1]


def test_onprem_lab_prints_its_critical_path_through_the_crds_release(
    onprem: tuple[Path, str],
) -> None:
    """An adopted cluster: the GPU Operator waits only for the small CRDs release, not for
    kube-prometheus-stack (4 min), so the chain is 0.3 min above the bound."""
    _, stdout = onprem
    assert estimate_lines(stdout) == [
        "Deploy estimate: critical path 6.3 min, 1.05x the lower bound 6.0 min = network 0 + "
        "control plane 0 + operator pool 0 + max(KAI 3 + backend-operator 3, GPU Operator 6)",
        "     0.0  +0.0   pulumi:providers:kubernetes  osmo-cluster-k8s",
        "     0.1  +0.1   kubernetes:core/v1:Namespace  osmo-monitoring-ns",
        f"     0.3  +0.2   {RELEASE}  osmo-monitoring-crds",
        f"     6.3  +6.0   {RELEASE}  osmo-operators-gpu-operator",
        "Wrote graph.dot, graph.mmd (critical path in red)",
    ]


def test_the_graph_files_hold_every_custom_resource_and_the_path_in_red(
    onprem: tuple[Path, str],
) -> None:
    out, _ = onprem
    dot = (out / "graph.dot").read_text()
    mmd = (out / "graph.mmd").read_text()
    assert dot.startswith("digraph deploy {\n")
    assert dot.endswith("}\n")
    assert mmd.startswith("flowchart LR\n")
    red = {
        m.group(1).split("\\n")[1] for m in re.finditer(r'label="([^"]*)", color="#d00000"', dot)
    }
    assert red == {
        "osmo-cluster-k8s",
        "osmo-monitoring-ns",
        "osmo-monitoring-crds",
        "osmo-operators-gpu-operator",
    }
    assert len(re.findall(r'-> n\d+ \[color="#d00000"', dot)) == 3
    critical = re.search(r"^  class (\S+) critical$", mmd, re.M)
    links = re.search(r"^  linkStyle (\S+) ", mmd, re.M)
    assert critical is not None
    assert links is not None
    assert len(critical.group(1).split(",")) == 4
    assert len(links.group(1).split(",")) == 3
    nodes = re.findall(r"^  (n\d+) \[label=", dot, re.M)
    assert len(nodes) == len(stdout_tree_lines(onprem[1]))


def stdout_tree_lines(stdout: str) -> list[str]:
    """Each custom resource of the tree (a line with a type that is not a component's)."""
    tree = stdout.split("\n\n")[1].splitlines()
    return [line for line in tree if "osmo-backend:index:" not in line]


def test_aws_critical_path_is_within_five_percent_of_the_bound(aws: tuple[Path, str]) -> None:
    """The GPU Operator no longer waits behind kube-prometheus-stack: no chain runs through it."""
    _, stdout = aws
    lines = estimate_lines(stdout)
    match = re.match(
        r"Deploy estimate: critical path ([\d.]+) min, ([\d.]+)x the lower bound", lines[0]
    )
    assert match is not None
    assert float(match.group(2)) <= 1.05
    chain = [line.split()[-1] for line in lines[1:-1]]
    assert "osmo-cluster-eks" in chain
    assert "osmo-monitoring-prometheus-stack" not in chain
    assert chain[-1] in {"osmo-operators-gpu-operator", "osmo-operators-backend-operator"}


def test_weights_file_changes_the_estimate(tmp_path: Path) -> None:
    weights = tmp_path / "weights.yaml"
    weights.write_text(f"{RELEASE}[gpu-operator]: 1\n{RELEASE}[backend-operator]: 4\n")
    code, stdout, _ = plan("onprem-lab", tmp_path / "out", "--weights", str(weights))
    assert code == 0
    lines = estimate_lines(stdout)
    assert lines[0].startswith("Deploy estimate: critical path 7.1 min, 1.01x the lower bound 7.0")
    assert [line.split()[-1] for line in lines[-3:-1]] == [
        "osmo-operators-kai-scheduler",
        "osmo-operators-backend-operator",
    ]


def test_a_bad_weights_file_exits_2_before_planning(tmp_path: Path) -> None:
    weights = tmp_path / "weights.yaml"
    weights.write_text("aws:eks/cluster:Cluster: fast\n")
    code, stdout, stderr = plan("onprem-lab", tmp_path / "out", "--weights", str(weights))
    assert code == 2
    assert stderr == (
        f"--weights {weights}: aws:eks/cluster:Cluster: minutes must be a number >= 0, got 'fast'\n"
    )
    assert stdout == ""
    assert not (tmp_path / "out").exists()
