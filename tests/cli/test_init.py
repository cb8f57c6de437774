"""`osmo-backend init`: a commented starter stack per kind that validates, plans with no failing
security check, and follows the editor schema; reference and user stacks kept apart."""

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from components import policy
from offline import cli
from offline.fleet import REFERENCE_STACKS
from tests.harness import REPO, SAMPLE_KUBECONFIG

SCHEMA = json.loads((REPO / "schema" / "stack-config.schema.json").read_text())


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's files (the program stays the repository's own)."""
    shutil.copy(REPO / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(REPO / "schema", tmp_path / "schema")
    (tmp_path / "__main__.py").symlink_to(REPO / "__main__.py")
    return tmp_path


def run(project: Path, *args: str) -> int:
    return cli.main(["--project-dir", str(project), *args])


@pytest.mark.parametrize("kind", ["eks", "gke", "aks", "existing"])
def test_init_writes_a_starter_that_validates_and_plans(
    project: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    name = f"my-{kind}"
    assert (
        run(project, "init", "--kind", kind, "--name", name, "--kubeconfig", str(SAMPLE_KUBECONFIG))
        == 0
    )
    path = project / "stacks" / f"Pulumi.{name}.yaml"
    assert capsys.readouterr().out.splitlines() == [
        f"wrote stacks/Pulumi.{name}.yaml (kind {kind}); change the values marked CHANGE,",
        f"then: osmo-backend validate --stack {name} && osmo-backend plan --stack {name}",
    ]
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../schema/stack-config.schema.json\n")
    assert "CHANGE" in text
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(yaml.safe_load(text))) == []
    assert run(project, "validate", "--stack", name) == 0
    assert capsys.readouterr().out == f"stack {name}: config is valid (stacks/Pulumi.{name}.yaml)\n"
    assert run(project, "plan", "--stack", name, "--out", str(project / "plan")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert f"Security checks: {len(policy.CHECKS)} run, 0 findings, 0 failing" in lines


def test_init_refuses_to_overwrite_bad_names_and_reference_names(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(project, "init", "--kind", "eks", "--name", "east") == 0
    capsys.readouterr()
    assert run(project, "init", "--kind", "gke", "--name", "east") == 2
    assert (
        capsys.readouterr().err == "stacks/Pulumi.east.yaml: exists; pass --force to overwrite it\n"
    )
    assert run(project, "init", "--kind", "gke", "--name", "east", "--force") == 0
    assert "kind: gke" in (project / "stacks" / "Pulumi.east.yaml").read_text()
    capsys.readouterr()
    assert run(project, "init", "--kind", "eks", "--name", "East_1") == 2
    assert capsys.readouterr().err == (
        "--name: 'East_1' is not a DNS-1123 label; use lowercase letters, digits and '-', "
        "starting and ending with a letter or digit (it names the stack, the cluster and the "
        "backend)\n"
    )
    assert run(project, "init", "--kind", "eks", "--name", "aws-usw2") == 2
    assert capsys.readouterr().err == (
        "--name: 'aws-usw2' is a reference stack of this project; pick another\n"
    )


def test_stacks_marks_the_reference_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--project-dir", str(REPO), "stacks"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    reference = [r[0] for r in rows if r[-1] == "(reference)"]
    assert sorted(reference) == sorted(REFERENCE_STACKS)
