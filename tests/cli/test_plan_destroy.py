"""`osmo-backend plan --destroy`: the destroy plan of the reference stacks and planted defects.

The rules themselves are unit-tested in tests/unit/test_destroy.py (with their upstream sources).
"""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import cli, destroy
from tests.harness import REPO, SAMPLE_KUBECONFIG

REFERENCE_STACKS = ("aws-usw2", "gcp-usc1", "azure-eus", "onprem-lab")


def run_cli(*args: str) -> int:
    return cli.main(["--project-dir", str(REPO), *args])


def destroy_json(out: Path) -> dict[str, Any]:
    return json.loads((out / "destroy.json").read_text())


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_reference_stacks_destroy_with_zero_findings(
    stack: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run_cli("plan", "--destroy", "--stack", stack, "--out", str(tmp_path))
    out, err = capsys.readouterr()
    document = destroy_json(tmp_path)
    assert [f"{f['id']} {f['urn']}" for f in document["findings"]] == []
    assert code == 0, err
    assert document["stack"] == stack
    assert f"Destroy plan for stack {stack}: {document['summary']['waves']} waves" in out
    assert f"Destroy checks: 0 findings, 0 failing. Wrote {tmp_path / 'destroy.json'}" in out
    steps = [step for wave in document["waves"] for step in wave["steps"]]
    resources = json.loads((tmp_path / "resources.json").read_text())["resources"]
    assert sorted(s["urn"] for s in steps) == sorted(r["urn"] for r in resources)


def write_variant(tmp_path: Path, stack: str, name: str, **config: Any) -> Path:
    document = yaml.safe_load((REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text())
    document["config"].update(config)
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_protect_preset_shows_the_destroy_refused_up_front(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # osmo-backend:policy.protect puts `protect` on the cluster, the bucket and the key: the
    # engine refuses each in the destroy preview (pulumi/pulumi pkg/resource/deploy/step.go,
    # DeleteStep.Apply). That is what the preset is for: reported, not a defect.
    path = write_variant(tmp_path, "gcp-usc1", "prod", **{"osmo-backend:policy": {"protect": True}})
    code = run_cli("plan", "--destroy", "--config-file", str(path), "--out", str(tmp_path / "o"))
    out, _err = capsys.readouterr()
    assert code == 0
    document = destroy_json(tmp_path / "o")
    assert document["findings"] == []
    protected = sorted(
        f["urn"].rsplit("::", 1)[1] for f in document["refused"] if f["id"] == "protected"
    )
    assert protected == [
        "osmo-cluster-gke",
        "osmo-cluster-secrets-key",
        "osmo-cluster-workflow-bucket",
    ]
    assert document["summary"]["protected"] == 3
    for name in protected:
        line = next(line for line in out.splitlines() if f"::{name}:" in line).strip()
        assert line.startswith("protected urn:pulumi:prod::osmo-backend::")
        assert line.endswith("Fix: " + destroy.FIXES["protected"])
    assert "  PROTECTED     gcp:container/cluster:Cluster  osmo-cluster-gke" in out
    assert "pulumi destroy refuses up front: 3 protected resources fail its preview" in out


def existing_config(tmp_path: Path) -> Path:
    config = {
        "osmo-backend:cluster": {
            "kind": "existing",
            "name": "t",
            "kubeconfig": str(SAMPLE_KUBECONFIG),
            "context": "onprem-lab-admin",
        },
        "osmo-backend:osmo": {"backendName": "t", "serviceUrl": "https://osmo.example.com"},
        "osmo-backend:networking": {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}},
    }
    path = tmp_path / "Pulumi.mine.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def test_destroy_plan_of_a_config_file_uses_its_stack_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = existing_config(tmp_path)
    code = run_cli("plan", "--destroy", "--config-file", str(path), "--out", str(tmp_path / "o"))
    out, _err = capsys.readouterr()
    assert code == 0
    document = destroy_json(tmp_path / "o")
    assert (document["project"], document["stack"]) == ("osmo-backend", "mine")
    assert document["findings"] == []
    # An adopted cluster: nothing is deletedWith it, every in-cluster object gets its own delete.
    actions = {s["action"] for w in document["waves"] for s in w["steps"]}
    assert destroy.FORGET not in actions
    assert "Destroy plan for stack mine:" in out


def test_plan_without_destroy_writes_no_destroy_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = existing_config(tmp_path)
    out_dir = tmp_path / "o"
    out_dir.mkdir()
    (out_dir / "destroy.json").write_text("{}")
    assert run_cli("plan", "--config-file", str(path), "--out", str(out_dir)) == 0
    assert not (out_dir / "destroy.json").exists()
    assert "Destroy plan" not in capsys.readouterr().out
