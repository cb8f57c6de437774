"""Every reference stack plans offline, deterministically, with no secret in the output.

The reference stacks are named (offline/fleet.py REFERENCE_STACKS): a user's own stacks in stacks/
are not the project's to test."""

import json
from pathlib import Path

import pytest
import yaml

from offline import cli
from offline.fleet import REFERENCE_STACKS
from offline.stackfile import find_project
from tests.harness import REPO, SAMPLE_TOKENS
from tests.stacks.conftest import Plans

STACKS = list(REFERENCE_STACKS)


def test_there_is_a_reference_stack_for_the_readme() -> None:
    assert "onprem-lab" in STACKS


def test_every_reference_stack_has_its_file() -> None:
    files = dict(find_project(REPO).stacks())
    assert all(files[name].is_file() for name in STACKS)


def _plan(stack: str, out: Path) -> None:
    assert cli.main(["--project-dir", str(REPO), "plan", "--stack", stack, "--out", str(out)]) == 0


@pytest.mark.parametrize("stack", STACKS)
def test_stack_plans_and_writes_the_whole_contract(stack: str, planned: Plans) -> None:
    out = planned(stack).out
    assert (out / "resources.json").is_file()
    assert (out / "manifests").is_dir()
    assert (out / "helm").is_dir()
    assert (out / "osmo-service-values.yaml").is_file()
    doc = json.loads((out / "resources.json").read_text())
    assert doc["stack"] == stack
    urns = [r["urn"] for r in doc["resources"]]
    assert urns == sorted(urns)
    assert len(urns) == len(set(urns))
    for resource in doc["resources"]:
        assert set(resource) == {
            "urn",
            "type",
            "name",
            "custom",
            "parent",
            "provider",
            "providers",
            "dependencies",
            "propertyDependencies",
            "inputs",
            "options",
        }
        assert {"protect", "deletedWith", "retainOnDelete", "dependsOn"} <= set(resource["options"])
        if resource["type"].startswith("kubernetes:"):
            assert resource["provider"] is not None
    for manifest in (out / "manifests").glob("*.yaml"):
        body = yaml.safe_load(manifest.read_text())
        assert {"apiVersion", "kind", "metadata"} <= set(body)


@pytest.mark.parametrize("stack", STACKS)
def test_plan_output_is_deterministic(stack: str, planned: Plans, tmp_path: Path) -> None:
    shared = planned(stack).out
    _plan(stack, tmp_path / "b")
    files_a = sorted(p.relative_to(shared) for p in shared.rglob("*") if p.is_file())
    files_b = sorted(
        p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file()
    )
    assert files_a == files_b
    for rel in files_a:
        assert (shared / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel


@pytest.mark.parametrize("stack", STACKS)
def test_no_credential_appears_in_any_plan_file_or_stdout(stack: str, planned: Plans) -> None:
    printed = planned(stack)
    tmp_path = printed.out
    texts = [printed.stdout, printed.stderr]
    texts += [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    for text in texts:
        for token in SAMPLE_TOKENS:
            assert token not in text
        assert "c2FtcGxlIENB" not in text  # the sample CA data
    doc = json.loads((tmp_path / "resources.json").read_text())
    assert doc["outputs"]["kubeconfig"] == "[secret]"


def test_onprem_lab_plan_labels_its_nodes() -> None:
    doc = yaml.safe_load((REPO / "stacks" / "Pulumi.onprem-lab.yaml").read_text())
    roles = doc["config"]["osmo-backend:cluster"]["nodeRoles"]
    assert sorted(n for r in roles.values() for n in r["nodes"]) == [
        "lab-cpu-01",
        "lab-cpu-02",
        "lab-cpu-03",
        "lab-gpu-01",
        "lab-gpu-02",
    ]


@pytest.mark.parametrize("stack", STACKS)
def test_every_helm_value_is_a_key_the_pinned_chart_reads(stack: str, planned: Plans) -> None:
    from components import chart_keys, versions

    tmp_path = planned(stack).out
    by_chart = {c.chart: (name, c) for name, c in versions.CHARTS.items()}
    releases = list((tmp_path / "helm").glob("*.yaml"))
    assert releases
    for path in releases:
        release = yaml.safe_load(path.read_text())
        name, chart = by_chart[release["chart"]]
        assert release["version"] == chart.version
        index = chart_keys.load(name, chart.version)
        assert chart_keys.unknown_keys(index, release["values"]) == [], path.name


@pytest.mark.parametrize("stack", STACKS)
def test_a_preview_with_unknown_outputs_registers_the_same_graph(stack: str) -> None:
    """No resource is created inside an apply: the plan and a first `pulumi preview` (where the
    random token is still unknown) register the same resources with the same edges."""
    from offline.stackfile import load_stack_config
    from tests.harness import run_main

    project = find_project(REPO)
    values = load_stack_config(project, project.stack_file(stack)).values
    decoded = {k: yaml.safe_load(v) if v[:1] in "{[" else v for k, v in values.items()}
    planned = run_main(decoded)
    previewed = run_main(decoded, preview=True)
    assert sorted((r.urn, tuple(r.dependencies)) for r in previewed.resources) == sorted(
        (r.urn, tuple(r.dependencies)) for r in planned.resources
    )
    token = previewed.get("kubernetes:core/v1:Secret", "osmo-connection-token")
    assert token.inputs["stringData"] in ("[secret]", "[unknown]")
