"""examples/ci/osmo-backend.yml: a GitHub Actions workflow that previews every stack on pull
requests and runs `up` per stack on merge, one job per stack from `osmo-backend fleet matrix`.

Validated against the GitHub Actions workflow schema that check-jsonschema vendors
(check_jsonschema/builtin_schemas/vendor/github-workflows.json, SchemaStore's
https://json.schemastore.org/github-workflow.json), with its own CLI and the `vendor.` builtin.
The pulumi/actions inputs used (command, stack-name, comment-on-pr, suppress-outputs) are those of
pulumi/actions v6 (README.md "Configuration"); it runs no `pip`/`uv` install itself, so every job
runs `uv sync` first.
"""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from offline import cli
from tests.harness import REPO

WORKFLOW = REPO / "examples" / "ci" / "osmo-backend.yml"


def check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def load(path: Path) -> dict[str, Any]:
    # YAML 1.2 (as GitHub reads workflows): `on` is a key, not the boolean PyYAML makes of it.
    return YAML(typ="safe").load(path.read_text())


def test_the_workflow_passes_the_github_workflow_schema(tmp_path: Path) -> None:
    result = check(WORKFLOW)
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a job without runs-on is refused.
    broken = load(WORKFLOW)
    del broken["jobs"]["up"]["runs-on"]
    bad = tmp_path / "broken.yml"
    bad.write_text(json.dumps(broken))
    assert check(bad).returncode == 1


def test_one_job_per_stack_from_the_fleet_matrix_with_bounded_concurrency() -> None:
    doc = load(WORKFLOW)
    assert set(doc["on"]) == {"pull_request", "push"}
    jobs = doc["jobs"]
    matrix_step = jobs["stacks"]["steps"][-1]
    assert matrix_step["run"] == (
        'echo "matrix=$(uv run osmo-backend fleet matrix)" >> "$GITHUB_OUTPUT"'
    )
    assert jobs["stacks"]["outputs"]["matrix"] == "${{ steps.matrix.outputs.matrix }}"
    for name, command, parallel in (("preview", "preview", 4), ("up", "up", 2)):
        job = jobs[name]
        assert job["needs"] == "stacks"
        assert job["strategy"] == {
            "fail-fast": False,
            "max-parallel": parallel,
            "matrix": "${{ fromJSON(needs.stacks.outputs.matrix) }}",
        }
        assert "${{ matrix.stack }}" in job["concurrency"]["group"]
        steps = job["steps"]
        assert steps[2] == {"run": "uv sync --frozen"}
        pulumi_step = steps[-1]
        assert pulumi_step["uses"] == "pulumi/actions@v6"
        assert pulumi_step["with"]["command"] == command
        assert pulumi_step["with"]["stack-name"] == "${{ vars.PULUMI_ORG }}/${{ matrix.stack }}"
        logins = {s["if"]: s["uses"].split("@")[0] for s in steps if "if" in s}
        assert logins == {
            "matrix.kind == 'eks'": "aws-actions/configure-aws-credentials",
            "matrix.kind == 'gke'": "google-github-actions/auth",
            "matrix.kind == 'aks'": "azure/login",
        }
    assert jobs["preview"]["if"] == "github.event_name == 'pull_request'"
    assert jobs["up"]["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert jobs["up"]["concurrency"]["cancel-in-progress"] is False  # never stop an `up` midway
    assert jobs["up"]["environment"] == "production"


def test_the_matrix_keys_the_workflow_reads_are_the_ones_fleet_matrix_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stacks = tmp_path / "stacks"
    stacks.mkdir()
    (stacks / "Pulumi.east.yaml").write_text("config: {osmo-backend:cluster: {kind: eks}}\n")
    (tmp_path / "Pulumi.yaml").write_text(
        "name: osmo-backend\nruntime: python\nstackConfigDir: stacks\n"
    )
    assert cli.main(["--project-dir", str(tmp_path), "fleet", "matrix"]) == 0
    entry = json.loads(capsys.readouterr().out)["include"][0]
    text = WORKFLOW.read_text()
    assert {"stack", "kind"} <= set(entry)
    assert "matrix.stack" in text
    assert "matrix.kind" in text
