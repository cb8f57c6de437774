"""`osmo-backend service-values`: only plan fragments, the operator's own values file merged
first, one service-wide workflow data store, the next steps, and the four reference stacks."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import cli
from tests.harness import REPO, SAMPLE_KUBECONFIG

STACKS = ("aws-usw2", "gcp-usc1", "azure-eus", "onprem-lab")


def fragment(backend: str, *, data: bool = True) -> dict[str, Any]:
    secret = f"osmo-workflow-data-cred-{backend}"
    configs: dict[str, Any] = {
        "enabled": True,
        "backends": {backend: {"k8s_namespace": "osmo-workflows"}},
    }
    if data:
        credential = {"credential": {"secretName": secret}}
        configs["secretRefs"] = [{"secretName": secret}]
        configs["workflow"] = {
            "workflow_data": {**credential, "base_url": f"s3://{backend}-data"},
            "workflow_log": credential,
            "workflow_app": credential,
        }
    return {
        "services": {
            "backendApiTokens": {
                "enabled": True,
                "credentials": [
                    {"name": backend, "existingSecret": {"name": f"osmo-backend-token-{backend}"}}
                ],
            },
            "configs": configs,
        }
    }


def write(path: Path, doc: Any) -> Path:
    path.write_text(yaml.safe_dump(doc))
    return path


def test_anything_but_a_fragment_is_refused_by_name_without_its_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = REPO / "stacks" / "Pulumi.aws-usw2.yaml"
    full = write(tmp_path / "values.yaml", {"services": {"service": {"hostname": "planted-x"}}})
    assert cli.main(["service-values", str(SAMPLE_KUBECONFIG), str(stack), str(full)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert lines == [
        f"{SAMPLE_KUBECONFIG}: is not an osmo-service-values.yaml fragment from `osmo-backend "
        "plan` (its top level must be only `services`); give your own values file with --values",
        f"{stack}: is not an osmo-service-values.yaml fragment from `osmo-backend plan` (its top "
        "level must be only `services`); give your own values file with --values",
        f"{full}: is not an osmo-service-values.yaml fragment from `osmo-backend plan` "
        "(`services` holds only backendApiTokens and configs); give your own values file with "
        "--values",
    ]
    kubeconfig = yaml.safe_load(SAMPLE_KUBECONFIG.read_text())
    for cluster in kubeconfig["clusters"]:
        assert cluster["cluster"]["server"] not in captured.err
    assert "planted-x" not in captured.err


def test_two_stores_need_a_choice_and_the_choice_drops_the_others(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # workflow_data / workflow_log / workflow_app are one setting of the service (NVIDIA/OSMO
    # src/utils/connectors/postgres.py:3023-3027, WorkflowConfig), not one per backend.
    a = write(tmp_path / "a.yaml", fragment("east"))
    b = write(tmp_path / "b.yaml", fragment("west"))
    assert cli.main(["service-values", str(a), str(b)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"services.configs.workflow.workflow_data: is service-wide and {a}, {b} each set it; "
        "choose one with --workflow-data-from STACK (a backend name or plan directory)",
    ]
    out = tmp_path / "merged.yaml"
    assert (
        cli.main(
            ["service-values", str(a), str(b), "--workflow-data-from", "west", "--out", str(out)]
        )
        == 0
    )
    configs = yaml.safe_load(out.read_text())["services"]["configs"]
    assert configs["workflow"]["workflow_data"]["base_url"] == "s3://west-data"
    assert configs["workflow"]["workflow_log"] == {
        "credential": {"secretName": "osmo-workflow-data-cred-west"}
    }
    # The east credential Secret is not mounted: a secretRefs entry must exist to start the API.
    assert configs["secretRefs"] == [{"secretName": "osmo-workflow-data-cred-west"}]
    err = capsys.readouterr().err
    assert f"workflow data: from {b}" in err
    assert cli.main(["service-values", str(a), str(b), "--workflow-data-from", "north"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "--workflow-data-from north: must pick exactly one fragment that sets workflow_data (by "
        "backend name or plan directory); matched none"
    ]


def test_the_operators_values_go_in_first_and_keep_their_list_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Helm replaces lists when values files are layered, so `-f ours.yaml` would drop the
    # operator's own credentials and secretRefs; a dropped secretRefs entry still referenced stops
    # the API (deployments/charts/service/values.yaml:872-881: each entry is a volume).
    current = {
        "services": {
            "service": {"hostname": "osmo.example.com"},
            "backendApiTokens": {
                "enabled": True,
                "credentials": [{"name": "old", "existingSecret": {"name": "tok-old"}}],
            },
            "configs": {
                "enabled": True,
                "secretRefs": [{"secretName": "imagepullsecret"}],
                "workflow": {"max_num_tasks": 200},
            },
        },
        "global": {"osmoImageTag": "6.4.0"},
    }
    base = write(tmp_path / "current.yaml", current)
    a = write(tmp_path / "a.yaml", fragment("east"))
    out = tmp_path / "merged.yaml"
    assert cli.main(["service-values", "--values", str(base), str(a), "--out", str(out)]) == 0
    merged = yaml.safe_load(out.read_text())
    services = merged["services"]
    assert [c["name"] for c in services["backendApiTokens"]["credentials"]] == ["old", "east"]
    assert services["configs"]["secretRefs"] == [
        {"secretName": "imagepullsecret"},
        {"secretName": "osmo-workflow-data-cred-east"},
    ]
    assert services["configs"]["workflow"]["max_num_tasks"] == 200
    assert services["service"] == {"hostname": "osmo.example.com"}
    assert merged["global"] == {"osmoImageTag": "6.4.0"}
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"workflow data: from {a}",
        "next steps:",
        "  helm repo add osmo https://helm.ngc.nvidia.com/nvidia/osmo",
        f"  helm upgrade --install service osmo/service --version 1.4.0 -n osmo -f {out}",
        "  (your release name and namespace if they differ; the file holds your --values, so "
        "give no other -f)",
        "  these Secrets must exist in the service namespace first (each stack with "
        "osmo.controlPlane creates its own; otherwise run the `service side:` commands its plan "
        "prints):",
        "    tok-old",
        "    osmo-backend-token-east",
        "    imagepullsecret",
        "    osmo-workflow-data-cred-east",
    ]


def test_a_conflict_with_the_operators_values_never_shows_their_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    current = {"services": {"configs": {"backends": {"east": {"k8s_namespace": "planted-ns"}}}}}
    base = write(tmp_path / "current.yaml", current)
    a = write(tmp_path / "a.yaml", fragment("east", data=False))
    assert cli.main(["service-values", "--values", str(base), str(a)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"services.configs.backends.east.k8s_namespace: {a} and {base} set different values"
    ]


def test_the_four_reference_stacks_merge_with_a_chosen_store(tmp_path: Path) -> None:
    for stack in STACKS:
        assert cli.main(["plan", "--stack", stack, "--out", str(tmp_path / stack)]) == 0
    out = tmp_path / "merged.yaml"
    dirs = [str(tmp_path / s) for s in STACKS]
    assert cli.main(["service-values", *dirs, "--out", str(out)]) == 2
    assert (
        cli.main(["service-values", *dirs, "--workflow-data-from", "gcp-usc1", "--out", str(out)])
        == 0
    )
    configs = yaml.safe_load(out.read_text())["services"]["configs"]
    assert configs["workflow"]["workflow_data"] == {
        "credential": {"secretName": "osmo-workflow-data-cred-gcp-usc1"},
        "base_url": "gs://osmo-usc1-workflows",
    }
    assert configs["secretRefs"] == [{"secretName": "osmo-workflow-data-cred-gcp-usc1"}]
    assert sorted(configs["roles"]) == [f"osmo-{s}" for s in sorted(STACKS)]
    assert configs["backends"]["default"] is None
    assert configs["pools"]["default"] is None
    assert sorted(k for k in configs["pools"] if k != "default") == sorted(STACKS)
