"""The `osmo-backend` command: output, exit codes and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from offline import cli
from tests.harness import REPO, SAMPLE_KUBECONFIG

STACK = REPO / "stacks" / "Pulumi.onprem-lab.yaml"


def write_stack(tmp_path: Path, config: dict[str, object], name: str = "t") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def valid_config() -> dict[str, object]:
    return {
        "osmo-backend:cluster": {
            "kind": "existing",
            "name": "t",
            "kubeconfig": str(SAMPLE_KUBECONFIG),
            "context": "onprem-lab-admin",
        },
        "osmo-backend:osmo": {"backendName": "t", "serviceUrl": "https://osmo.example.com"},
        "osmo-backend:networking": {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}},
    }


def run_cli(*args: str) -> int:
    return cli.main(["--project-dir", str(REPO), *args])


EXPECTED_TREE = """\
osmo-backend:index:OsmoBackend  osmo
├─ osmo-backend:index:Connection  osmo-connection
│  ├─ kubernetes:core/v1:Namespace  osmo-connection-operator-ns  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Namespace  osmo-connection-workflows-ns  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Secret  osmo-connection-control-plane-storage-credential  (provider osmo-connection-control-plane-k8s)
│  ├─ kubernetes:core/v1:Secret  osmo-connection-control-plane-token  (provider osmo-connection-control-plane-k8s)
│  ├─ kubernetes:core/v1:Secret  osmo-connection-token  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:NetworkPolicy  osmo-connection-workflow-isolation  (provider osmo-cluster-k8s)
│  ├─ pulumi:providers:kubernetes  osmo-connection-control-plane-k8s
│  └─ random:index/randomBytes:RandomBytes  osmo-connection-token-slot-0
├─ osmo-backend:index:ExistingCluster  osmo-cluster
│  ├─ kubernetes:core/v1:NodePatch  osmo-cluster-node-lab-cpu-01  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:NodePatch  osmo-cluster-node-lab-cpu-02  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:NodePatch  osmo-cluster-node-lab-cpu-03  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:NodePatch  osmo-cluster-node-lab-gpu-01  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:NodePatch  osmo-cluster-node-lab-gpu-02  (provider osmo-cluster-k8s)
│  └─ pulumi:providers:kubernetes  osmo-cluster-k8s
├─ osmo-backend:index:IngressController  osmo-ingress
│  ├─ kubernetes:core/v1:Namespace  osmo-ingress-ns  (provider osmo-cluster-k8s)
│  └─ kubernetes:helm.sh/v3:Release  osmo-ingress-traefik  (provider osmo-cluster-k8s)
├─ osmo-backend:index:LabObjectStore  osmo-object-store
│  ├─ kubernetes:apps/v1:Deployment  osmo-object-store-server  (provider osmo-cluster-k8s)
│  ├─ kubernetes:batch/v1:Job  osmo-object-store-bucket  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Namespace  osmo-object-store-ns  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:PersistentVolumeClaim  osmo-object-store-data  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Secret  osmo-object-store-data-user  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Secret  osmo-object-store-root  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Service  osmo-object-store-service  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:Ingress  osmo-object-store-ingress  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:NetworkPolicy  osmo-object-store-policy  (provider osmo-cluster-k8s)
│  ├─ random:index/randomPassword:RandomPassword  osmo-object-store-data-password
│  └─ random:index/randomPassword:RandomPassword  osmo-object-store-root-password
├─ osmo-backend:index:Monitoring  osmo-monitoring
│  ├─ kubernetes:core/v1:Namespace  osmo-monitoring-agents-ns  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:Namespace  osmo-monitoring-ns  (provider osmo-cluster-k8s)
│  ├─ kubernetes:core/v1:ServiceAccount  osmo-monitoring-viewer  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-alloy  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-crds  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-dashboard  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-ephemeral-storage-metrics  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-loki  (provider osmo-cluster-k8s)
│  ├─ kubernetes:helm.sh/v3:Release  osmo-monitoring-prometheus-stack  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:NetworkPolicy  osmo-monitoring-alertmanager-access  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:NetworkPolicy  osmo-monitoring-loki-access  (provider osmo-cluster-k8s)
│  ├─ kubernetes:networking.k8s.io/v1:NetworkPolicy  osmo-monitoring-prometheus-access  (provider osmo-cluster-k8s)
│  ├─ kubernetes:rbac.authorization.k8s.io/v1:ClusterRole  osmo-monitoring-ephemeral-storage-role  (provider osmo-cluster-k8s)
│  ├─ kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding  osmo-monitoring-ephemeral-storage-binding  (provider osmo-cluster-k8s)
│  ├─ kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding  osmo-monitoring-viewer-binding  (provider osmo-cluster-k8s)
│  └─ kubernetes:rbac.authorization.k8s.io/v1:Role  osmo-monitoring-grafana-sidecar-role  (provider osmo-cluster-k8s)
└─ osmo-backend:index:OperatorLayer  osmo-operators
   ├─ kubernetes:core/v1:Namespace  osmo-operators-gpu-operator-ns  (provider osmo-cluster-k8s)
   ├─ kubernetes:core/v1:Namespace  osmo-operators-kai-scheduler-ns  (provider osmo-cluster-k8s)
   ├─ kubernetes:helm.sh/v3:Release  osmo-operators-backend-operator  (provider osmo-cluster-k8s)
   ├─ kubernetes:helm.sh/v3:Release  osmo-operators-gpu-operator  (provider osmo-cluster-k8s)
   └─ kubernetes:helm.sh/v3:Release  osmo-operators-kai-scheduler  (provider osmo-cluster-k8s)
"""


def test_plan_prints_the_tree_outputs_and_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli("plan", "--stack", "onprem-lab", "--out", str(tmp_path)) == 0
    out = capsys.readouterr().out
    header, tree, roles, releases, footer = out.split("\n\n")
    assert header == (
        "Plan for stack onprem-lab (project osmo-backend, config stacks/Pulumi.onprem-lab.yaml)"
    )
    assert tree + "\n" == EXPECTED_TREE
    assert roles.splitlines()[0] == "Node roles (existing cluster):"
    assert releases.splitlines()[0] == "Helm releases:"
    lines = footer.splitlines()
    assert (
        lines.pop(0) == f"Wrote {tmp_path / 'egress-allowlist.yaml'} (the egress_allowlist output)"
    )
    assert lines[0] == (
        "Outputs: backend_name = onprem-lab, backend_token = [secret], "
        "cluster_name = onprem-lab, "
        "dashboard_url = https://k8s.lab.example.internal, egress_allowlist = {...}, "
        "grafana_url = https://grafana.lab.example.internal, kubeconfig = [secret], "
        "osmo_service_values = {...}, workflow_data_credential = [secret]"
    )
    assert lines[1] == (
        f"55 resources: 48 custom, 7 components. Wrote {tmp_path}: resources.json, "
        "manifests/ (33), helm/ (10), osmo-service-values.yaml"
    )
    assert sorted(p.name for p in (tmp_path / "helm").iterdir()) == [
        "alloy.yaml",
        "ephemeral-storage-metrics.yaml",
        "gpu-operator.yaml",
        "headlamp.yaml",
        "kai-scheduler.yaml",
        "kube-prometheus-stack.yaml",
        "loki.yaml",
        "osmo-operator.yaml",
        "prometheus-operator-crds.yaml",
        "traefik.yaml",
    ]
    assert len(list((tmp_path / "manifests").glob("nodepatch-*.yaml"))) == 5


def test_plan_of_a_config_file_uses_its_stack_name(tmp_path: Path) -> None:
    path = write_stack(tmp_path, valid_config(), name="mine")
    assert run_cli("plan", "--config-file", str(path), "--out", str(tmp_path / "out")) == 0
    assert json.loads((tmp_path / "out" / "resources.json").read_text())["stack"] == "mine"


def test_plan_removes_stale_manifests(tmp_path: Path) -> None:
    (tmp_path / "manifests").mkdir()
    (tmp_path / "manifests" / "old.yaml").write_text("x")
    assert run_cli("plan", "--stack", "onprem-lab", "--out", str(tmp_path)) == 0
    assert not (tmp_path / "manifests" / "old.yaml").exists()


def test_invalid_config_exits_2_with_one_line_per_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = valid_config()
    config["osmo-backend:osmo"] = {
        "backendName": "Bad_Name",
        "serviceUrl": "https://osmo.example.com",
        "extra": 1,
    }
    path = write_stack(tmp_path, config)
    assert run_cli("plan", "--config-file", str(path), "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "osmo-backend:osmo.extra: unknown key (allowed: backendName, backendTests, controlPlane, "
        "imagePullSecret, imageTag, namespaces, pool, routerAddress, serviceUrl, token)",
        "osmo-backend:osmo.backendName: 'Bad_Name' is not a DNS-1123 label; use lowercase "
        "letters, digits and '-', starting and ending with a letter or digit",
    ]
    assert not (tmp_path / "out").exists()


def test_missing_stack_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("validate", "--stack", "nope") == 2
    assert (
        capsys.readouterr().err.strip() == f"{REPO / 'stacks' / 'Pulumi.nope.yaml'}: file not found"
    )


def test_unparsable_stack_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text("config: [\n")
    assert run_cli("validate", "--config-file", str(path)) == 2
    assert capsys.readouterr().err.startswith(f"{path}: not valid YAML at line ")


def test_plain_text_value_for_a_secret_key_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The secret keys are not declared in Pulumi.yaml (the CLI would require them); the program
    # refuses a plain-text credential itself.
    config = valid_config()
    del config["osmo-backend:cluster"]["kubeconfig"]  # type: ignore[attr-defined]
    config["osmo-backend:kubeconfig"] = SAMPLE_KUBECONFIG.read_text()
    path = write_stack(tmp_path, config)
    assert run_cli("validate", "--config-file", str(path)) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "osmo-backend:kubeconfig: holds cluster credentials and must be a secret: "
        "set it with `pulumi config set --secret kubeconfig ...`"
    ]
    assert "sample-token" not in err


def test_secure_values_become_placeholders_and_the_plan_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = valid_config()
    del config["osmo-backend:cluster"]["kubeconfig"]  # type: ignore[attr-defined]
    config["osmo-backend:kubeconfig"] = {"secure": "v1:AAAAciphertext"}
    path = write_stack(tmp_path, config)
    assert run_cli("plan", "--config-file", str(path), "--out", str(tmp_path / "out")) == 0
    out = capsys.readouterr().out
    assert (
        "note: osmo-backend:kubeconfig is a secure value; a placeholder stands in for it offline"
        in out
    )
    assert (
        "warning: osmo-backend:kubeconfig is a secure value the offline plan cannot decrypt" in out
    )
    assert "ciphertext" not in (tmp_path / "out" / "resources.json").read_text()


def test_validate_reports_success(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("validate", "--stack", "onprem-lab") == 0
    assert (
        capsys.readouterr().out
        == "stack onprem-lab: config is valid (stacks/Pulumi.onprem-lab.yaml)\n"
    )


def test_stacks_lists_files_and_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("stacks") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["STACK", "KIND", "FILE"]
    assert ["onprem-lab", "existing", "stacks/Pulumi.onprem-lab.yaml", "(reference)"] in [
        line.split() for line in lines
    ]


def test_installed_command_exits_2_without_traceback_and_imports_no_cloud_sdk(
    tmp_path: Path,
) -> None:
    config = valid_config()
    config["osmo-backend:cluster"]["kind"] = "k3s"  # type: ignore[index]
    bad = write_stack(tmp_path, config)
    proc = subprocess.run(
        [sys.executable, "-m", "offline.cli", "plan", "--config-file", str(bad)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        "osmo-backend:cluster.kind: 'k3s' is not one of: existing, eks, gke, aks\n"
    )
    assert "Traceback" not in proc.stdout + proc.stderr

    probe = (
        "import sys; from offline import cli; "
        f"rc = cli.main(['plan', '--stack', 'onprem-lab', '--out', {str(tmp_path / 'o')!r}]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native')), file=sys.stderr); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def fragment(backend: str, credential: str, secret: str) -> dict[str, object]:
    return {
        "services": {
            "backendApiTokens": {
                "enabled": True,
                "credentials": [{"name": credential, "existingSecret": {"name": secret}}],
            },
            "configs": {
                "enabled": True,
                "backends": {backend: {"k8s_namespace": "osmo-workflows"}},
            },
        }
    }


def test_service_values_merge_keeps_every_backends_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(fragment("east", "east", "tok-east")))
    b.write_text(yaml.safe_dump(fragment("west", "west", "tok-west")))
    out = tmp_path / "merged.yaml"
    assert cli.main(["service-values", str(a), str(b), "--out", str(out)]) == 0
    merged = yaml.safe_load(out.read_text())
    assert merged["services"]["backendApiTokens"]["credentials"] == [
        {"name": "east", "existingSecret": {"name": "tok-east"}},
        {"name": "west", "existingSecret": {"name": "tok-west"}},
    ]
    assert sorted(merged["services"]["configs"]["backends"]) == ["east", "west"]
    assert capsys.readouterr().out == f"wrote {out} (2 fragments)\n"


def test_service_values_merge_reports_conflicts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text(yaml.safe_dump(fragment("east", "shared", "tok-east")))
    b.write_text(yaml.safe_dump(fragment("east", "shared", "tok-west")))
    other = fragment("east", "x", "y")
    other["services"]["configs"]["backends"]["east"]["k8s_namespace"] = "elsewhere"  # type: ignore[index]
    c = tmp_path / "c.yaml"
    c.write_text(yaml.safe_dump(other))
    assert cli.main(["service-values", str(a), str(b), str(c)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"services.backendApiTokens.credentials[name=shared]: {b} and {a} define it "
        "differently; name values must be unique",
        f"services.configs.backends.east.k8s_namespace: {c} sets 'elsewhere' but {a} set "
        "'osmo-workflows'",
    ]


def test_service_values_merge_of_two_planned_stacks(tmp_path: Path) -> None:
    config = valid_config()
    first = write_stack(tmp_path, config, name="east")
    config["osmo-backend:osmo"] = {"backendName": "west", "serviceUrl": "https://osmo.example.com"}
    config["osmo-backend:cluster"]["name"] = "west"  # type: ignore[index]
    second = write_stack(tmp_path, config, name="west")
    for path, out in ((first, "pe"), (second, "pw")):
        assert run_cli("plan", "--config-file", str(path), "--out", str(tmp_path / out)) == 0
    merged_path = tmp_path / "merged.yaml"
    assert (
        cli.main(
            [
                "service-values",
                str(tmp_path / "pe"),
                str(tmp_path / "pw"),
                "--out",
                str(merged_path),
            ]
        )
        == 0
    )
    merged = yaml.safe_load(merged_path.read_text())["services"]
    assert [c["name"] for c in merged["backendApiTokens"]["credentials"]] == ["t", "west"]
    # The chart's placeholder backend and pool are set to null (Helm drops them).
    assert sorted(merged["configs"]["backends"]) == ["default", "t", "west"]
    assert sorted(merged["configs"]["pools"]) == ["default", "t", "west"]
    assert merged["configs"]["pools"]["default"] is None


def test_service_values_merge_rejects_unreadable_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    assert cli.main(["service-values", str(bad), str(tmp_path / "missing.yaml")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{bad}: must be a YAML mapping",
        f"{tmp_path / 'missing.yaml'}: cannot be read as YAML (FileNotFoundError)",
    ]


def test_validate_does_not_load_the_pulumi_sdks() -> None:
    """`validate` is the quick check editors and pre-commit hooks run: config only, no SDK import."""
    probe = (
        "import sys; from offline import cli; "
        "rc = cli.main(['validate', '--stack', 'onprem-lab']); "
        "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi'))); "
        "sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"


def test_validate_loads_only_the_stacks_own_cluster_kind() -> None:
    """The registry imports a kind's config module when the kind is first used: an EKS stack
    builds the EKS models and no other kind's (part of keeping `validate` fast)."""
    probe = (
        "import sys; from offline import cli; "
        "rc = cli.main(['validate', '--stack', 'aws-usw2']); "
        "print(sorted(m for m in sys.modules if m.startswith('components.clusters.') "
        "and m.endswith('.config'))); sys.exit(rc)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "['components.clusters.eks.config']"
