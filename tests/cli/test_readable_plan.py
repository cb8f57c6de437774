"""Issue 16 item 3: a plan people can read. Per pool the instance type, counts, GPUs per node,
capacity type and taints; per release the chart and version; the egress allowlist as its own file;
in manifests only the secret values masked."""

import json
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

from components import versions
from offline import cli, plan
from offline.engine import ResourceRecord
from tests.harness import REPO


def plan_lines(stack: str, out: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert cli.main(["--project-dir", str(REPO), "plan", "--stack", stack, "--out", str(out)]) == 0
    return capsys.readouterr().out.splitlines()


def section(lines: list[str], title: str) -> list[str]:
    start = lines.index(title)
    end = lines.index("", start)
    return lines[start:end]


def test_the_plan_prints_each_pool(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = plan_lines("aws-usw2", tmp_path, capsys)
    # stacks/Pulumi.aws-usw2.yaml; p5.48xlarge has 8 H100s (components/clusters/eks/config.py
    # family table).
    assert section(lines, "Node pools:") == [
        "Node pools:",
        "  POOL      ROLE      TYPE         NODES             GPUS/NODE  CAPACITY   TAINTS",
        "  operator  operator  m6i.xlarge   2-3 (desired 2)   0          on-demand  -",
        "  compute   compute   m6i.4xlarge  0-20 (desired 0)  0          on-demand  -",
        "  gpu-h100  gpu       p5.48xlarge  0-4 (desired 0)   8          spot       "
        "nvidia.com/gpu=present:NoSchedule",
    ]


def test_the_plan_prints_gke_accelerators_and_existing_node_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gke = section(plan_lines("gcp-usc1", tmp_path / "gke", capsys), "Node pools:")
    assert gke[-1].split() == [
        "gpu-h100", "gpu", "a3-highgpu-8g", "0-4", "8", "nvidia-h100-80gb", "spot",
        "nvidia.com/gpu=present:NoSchedule",
    ]  # fmt: skip
    lab = section(
        plan_lines("onprem-lab", tmp_path / "lab", capsys), "Node roles (existing cluster):"
    )
    assert lab[1].split() == ["ROLE", "SELECTOR", "NODES", "THIS", "STACK", "LABELS", "TAINTS"]
    gpu = next(line for line in lab if line.split()[0] == "gpu")
    assert gpu.split()[-1] == "nvidia.com/gpu=present:NoSchedule"


def test_the_plan_prints_each_release_with_its_chart_and_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = section(plan_lines("aws-usw2", tmp_path, capsys), "Helm releases:")
    assert rows[1].split() == ["RELEASE", "CHART", "VERSION", "NAMESPACE"]
    table = {r.split()[0]: r.split()[1:] for r in rows[2:]}
    assert table["gpu-operator"] == [
        versions.GPU_OPERATOR.chart, versions.GPU_OPERATOR.version, "gpu-operator"
    ]  # fmt: skip
    assert table["cluster-autoscaler"][:2] == [
        versions.CLUSTER_AUTOSCALER.chart,
        versions.CLUSTER_AUTOSCALER.version,
    ]
    helm_files = sorted(p.stem for p in (tmp_path / "helm").glob("*.yaml"))
    assert sorted(table) == helm_files


def test_the_egress_allowlist_is_its_own_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = plan_lines("aws-usw2", tmp_path, capsys)
    path = tmp_path / "egress-allowlist.yaml"
    assert f"Wrote {path} (the egress_allowlist output)" in lines
    text = path.read_text()
    assert text.startswith("# Destinations stack 'aws-usw2' must reach")
    outputs = json.loads((tmp_path / "resources.json").read_text())["outputs"]
    assert yaml.safe_load(text) == outputs["egress_allowlist"]
    assert {"host": "eks.us-west-2.amazonaws.com", "port": 443} | {
        "purpose": "nodes join the cluster; the Cluster Autoscaler reads node groups"
    } in yaml.safe_load(text)


def _secret(value: object) -> dict[str, object]:
    """A value as the engine receives a Pulumi secret (rpc.py `_special_secret_sig`)."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}  # pyright: ignore[reportPrivateUsage]


def _secret_record(string_data: object) -> ResourceRecord:
    return ResourceRecord(
        urn="urn:pulumi:s::p::kubernetes:core/v1:Secret::cred",
        type="kubernetes:core/v1:Secret",
        name="cred",
        custom=True,
        parent=None,
        provider=None,
        providers={},
        dependencies=[],
        property_dependencies={},
        raw_inputs={"metadata": {"name": "cred"}, "stringData": string_data},
        own_options={},
    )


def test_manifests_mask_only_the_secret_values() -> None:
    per_key = _secret_record(
        {
            "access_key": _secret("AKIA-not-shown"),
            "endpoint": "s3://osmo-usw2-workflows",
            "region": "us-west-2",
        }
    )
    assert plan.manifest(per_key)["stringData"] == {
        "access_key": "[secret]",
        "endpoint": "s3://osmo-usw2-workflows",
        "region": "us-west-2",
    }
    whole = _secret_record(_secret({"access_key": "AKIA-not-shown", "region": "us-west-2"}))
    assert plan.manifest(whole)["stringData"] == {"access_key": "[secret]", "region": "[secret]"}
