"""Security checks: each rule fires on a bad record and stays quiet on a good one; the plan fails
on an error unless the stack allows that check by id, and says so."""

import copy
import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import policy
from offline import cli
from tests.cli.test_cli import valid_config
from tests.harness import REPO, run_main
from tests.harness import config as harness_config


def record(type_: str, inputs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "urn": f"urn:x::{type_}::r",
        "type": type_,
        "custom": True,
        "provider": "urn:p",
        "inputs": inputs,
        **extra,
    }


NS = "kubernetes:core/v1:Namespace"
GOOD_RELEASE = {
    "name": "kai",
    "version": "v0.16.8",
    "cleanupOnFail": True,
    "timeout": 600,
    "namespace": "kai",
    "values": {"image": {"tag": "v1"}},
}


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [f.check.id for f in policy.evaluate(records)]


def test_namespaces_must_enforce_a_level_and_privileged_needs_an_exception() -> None:
    labels = {"pod-security.kubernetes.io/enforce": "baseline"}
    assert ids([record(NS, {"metadata": {"name": "a", "labels": labels}})]) == []
    assert ids([record(NS, {"metadata": {"name": "a"}})]) == ["OSMO-K8S-001"]
    privileged = {"pod-security.kubernetes.io/enforce": "privileged"}
    assert ids([record(NS, {"metadata": {"name": "a", "labels": privileged}})]) == ["OSMO-K8S-002"]
    excepted = {**privileged, "osmo-backend.nvidia.com/psa-exception": "gpu-operator"}
    assert ids([record(NS, {"metadata": {"name": "a", "labels": excepted}})]) == []
    forged = {**privileged, "osmo-backend.nvidia.com/psa-exception": "my-app"}
    assert ids([record(NS, {"metadata": {"name": "a", "labels": forged}})]) == ["OSMO-K8S-002"]


def test_no_cluster_admin_binding() -> None:
    binding = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
    assert ids([record(binding, {"roleRef": {"name": "cluster-admin"}})]) == ["OSMO-K8S-003"]
    assert ids([record(binding, {"roleRef": {"name": "view"}})]) == []


def test_nothing_in_default() -> None:
    cm = "kubernetes:core/v1:ConfigMap"
    assert ids([record(cm, {"metadata": {"namespace": "default"}})]) == ["OSMO-K8S-004"]
    release = "kubernetes:helm.sh/v3:Release"
    assert ids([record(release, {**GOOD_RELEASE, "namespace": "default"})]) == ["OSMO-K8S-004"]


def test_secret_data_must_be_secret() -> None:
    secret = "kubernetes:core/v1:Secret"
    assert ids([record(secret, {"stringData": "[secret]"})]) == []
    assert ids([record(secret, {"stringData": {"token": "[secret]"}})]) == []
    assert ids([record(secret, {"stringData": {"token": "plain"}})]) == ["OSMO-K8S-005"]
    assert ids([record(secret, {"type": "kubernetes.io/service-account-token"})]) == []


def test_helm_releases_are_pinned_named_cleaned_and_timed() -> None:
    release = "kubernetes:helm.sh/v3:Release"
    assert ids([record(release, GOOD_RELEASE)]) == []
    (finding,) = policy.evaluate(
        [record(release, {**GOOD_RELEASE, "name": "", "version": "^1.0", "cleanupOnFail": False})]
    )
    assert finding.check.id == "OSMO-HELM-001"
    assert finding.message == (
        "no explicit release name; version '^1.0' is not an exact SemVer; cleanupOnFail is not set"
    )
    latest = {**GOOD_RELEASE, "values": {"global": {"osmoImageTag": "latest"}}}
    (finding,) = policy.evaluate([record(release, latest)])
    assert finding.check.id == "OSMO-IMG-001"
    assert finding.message == "values.global.osmoImageTag is 'latest'"


def test_kubernetes_resources_need_the_stacks_provider() -> None:
    assert ids(
        [
            record(
                NS,
                {"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "baseline"}}},
                provider=None,
            )
        ]
    ) == ["OSMO-PULUMI-001"]


def test_finding_lines_name_the_benchmark_and_the_fix() -> None:
    (finding,) = policy.evaluate(
        [
            record(
                "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
                {"roleRef": {"name": "cluster-admin"}},
            )
        ]
    )
    assert finding.line() == (
        "error OSMO-K8S-003 urn:x::kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::r: binds "
        "cluster-admin [CIS Amazon EKS Benchmark v1.8.0 4.1.1, CKV_K8S_49]. Fix: bind a narrower "
        "role (for example the built-in `view` or `edit`)"
    )


U = policy.UNKNOWN


def known_ids(records: list[dict[str, Any]]) -> list[str]:
    return [f.check.id for f in policy.evaluate_known(records)]


def test_evaluate_known_equals_evaluate_without_unknowns() -> None:
    records = [
        record(NS, {"metadata": {"name": "a"}}),
        record("kubernetes:helm.sh/v3:Release", {**GOOD_RELEASE, "version": "^1"}),
        record("aws:eks/cluster:Cluster", {"vpcConfig": {"endpointPublicAccess": True}}),
    ]
    assert policy.evaluate_known(records) == policy.evaluate(records)
    assert len(policy.evaluate(records)) == 5


def test_a_rule_that_reads_an_unknown_reports_nothing_past_it() -> None:
    cluster = "aws:eks/cluster:Cluster"
    # The endpoint's networks are not known: whether it is open is not known either ...
    vpc = {"endpointPublicAccess": True, "publicAccessCidrs": U}
    full = {
        "vpcConfig": vpc,
        "encryptionConfig": {"resources": ["secrets"]},
        "enabledClusterLogTypes": sorted(policy._EKS_LOG_TYPES),  # pyright: ignore[reportPrivateUsage]
    }
    assert known_ids([record(cluster, full)]) == []
    # ... while a certain finding before the unknown is read still counts.
    open_ = {
        **full,
        "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["0.0.0.0/0"]},
    }
    logs_unknown = {**open_, "enabledClusterLogTypes": [U]}
    assert known_ids([record(cluster, logs_unknown)]) == ["OSMO-EKS-001"]


def test_unknowns_in_lists_and_whole_inputs_are_never_judged() -> None:
    gke = "gcp:container/nodePool:NodePool"
    assert known_ids([record(gke, U)]) == []
    assert known_ids([record(NS, {"metadata": {"name": "a", "labels": U}})]) == []
    aks = "azure-native:containerservice:ManagedCluster"
    pools = {"agentPoolProfiles": [{"enableNodePublicIP": False}, U]}
    assert "OSMO-AKS-004" not in known_ids([record(aks, pools)])
    public = {"agentPoolProfiles": [{"enableNodePublicIP": True}, U]}
    assert "OSMO-AKS-004" in known_ids([record(aks, public)])
    # A message that would print an unknown is not a certain line: left for registration time.
    release = {**GOOD_RELEASE, "version": U}
    assert known_ids([record("kubernetes:helm.sh/v3:Release", release)]) == []


def test_failure_message_is_the_plans_lines_then_the_way_out() -> None:
    failing = policy.evaluate([record(NS, {"metadata": {"name": "a"}})])
    assert policy.failure_message(failing).splitlines() == [
        failing[0].line(),
        "1 failing security checks: fix them, or list the check id under "
        "osmo-backend:policy.allow (an explicit, logged opt-out; README: Security checks)",
    ]


def test_check_ids_are_unique() -> None:
    assert len({c.id for c in policy.CHECKS}) == len(policy.CHECKS)


def plan(tmp_path: Path, extra: dict[str, Any]) -> int:
    config = {**valid_config(), **extra}
    path = tmp_path / "Pulumi.t.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return cli.main(
        [
            "--project-dir",
            str(REPO),
            "plan",
            "--config-file",
            str(path),
            "--out",
            str(tmp_path / "o"),
        ]
    )


LATEST = {
    "osmo-backend:operators": {
        "backendOperator": {"values": {"global": {"osmoImageTag": "latest"}}}
    }
}


def test_plan_fails_on_a_policy_error_and_an_explicit_opt_out_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan(tmp_path, LATEST) == 2
    captured = capsys.readouterr()
    assert "error OSMO-IMG-001 " in captured.err
    assert "values.global.osmoImageTag is 'latest'" in captured.err
    assert (
        captured.out.splitlines()[-1]
        == f"Security checks: {len(policy.CHECKS)} run, 1 findings, 1 failing"
    )
    # One report: the program's own gate (components/policy_gate.py) is suspended offline.
    assert [line for line in captured.err.splitlines() if "OSMO-IMG-001" in line] == [
        next(line for line in captured.err.splitlines() if line.startswith("error OSMO-IMG-001 "))
    ]
    assert "OSMO-IMG-001" not in captured.out
    allowed = {**LATEST, "osmo-backend:policy": {"allow": ["OSMO-IMG-001"]}}
    assert plan(tmp_path, allowed) == 0
    out = capsys.readouterr().out
    assert out.count("policy: OSMO-IMG-001 is allowed by osmo-backend:policy.allow (opt-out)") == 1
    assert out.count("allowed OSMO-IMG-001 ") == 1
    assert "error OSMO-IMG-001 " not in out
    assert (
        out.splitlines()[-1] == f"Security checks: {len(policy.CHECKS)} run, 1 findings, 0 failing"
    )


def test_unknown_opt_out_ids_are_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plan(tmp_path, {"osmo-backend:policy": {"allow": ["CKV_K8S_14"]}}) == 2
    assert capsys.readouterr().err.startswith(
        "osmo-backend:policy.allow[0]: 'CKV_K8S_14' is not a check id (known: OSMO-AKS-001, "
    )


def test_the_reference_stack_has_no_findings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--project-dir", str(REPO), "plan", "--stack", "onprem-lab", "--out", str(tmp_path)]
    assert cli.main(args) == 0
    assert (
        capsys.readouterr().out.splitlines()[-1]
        == f"Security checks: {len(policy.CHECKS)} run, 0 findings, 0 failing"
    )


# Least privilege (issue 20): each new check fires on what it guards and stays quiet on what
# this project builds.

RELEASE = "kubernetes:helm.sh/v3:Release"


@functools.cache
def _lab_plan() -> tuple[dict[str, Any], ...]:
    return tuple(r.to_json() for r in run_main(harness_config()).resources)


def lab_plan() -> list[dict[str, Any]]:
    return copy.deepcopy(list(_lab_plan()))


def named(records: list[dict[str, Any]], name: str) -> dict[str, Any]:
    (found,) = [r for r in records if r["name"] == name]
    return found


def release(chart: str, values: dict[str, Any]) -> dict[str, Any]:
    return record(RELEASE, {**GOOD_RELEASE, "chart": chart, "values": values})


def test_the_lab_plan_passes_every_new_check() -> None:
    assert policy.evaluate(lab_plan()) == []


def test_workflow_egress_excludes_the_metadata_services_except_on_gke() -> None:
    """The chart's policy is 0.0.0.0/0 except clusterCIDRs (NVIDIA/OSMO
    deployments/charts/backend-operator/templates/backend-network-policy.yaml)."""
    plan = lab_plan()
    operator = named(plan, "osmo-operators-backend-operator")
    policy_values = operator["inputs"]["values"]["global"]["networkPolicy"]
    policy_values["clusterCIDRs"] = ["10.244.0.0/16"]
    (finding,) = policy.evaluate(plan)
    assert (finding.check.id, finding.message) == (
        "OSMO-NET-001",
        "workflow egress reaches 169.254.169.254",
    )
    # Seen alone (one registration under the Pulumi engine), it is not a whole plan: no guess.
    assert ids([operator]) == []
    # On GKE the metadata server stays reachable (Workload Identity needs it).
    gke = [*plan, record("gcp:container/cluster:Cluster", {"name": "c"})]
    assert [f.check.id for f in policy.evaluate(gke)] == [
        "OSMO-GKE-001",
        "OSMO-GKE-002",
        "OSMO-GKE-003",
        "OSMO-GKE-004",
        "OSMO-GKE-007",
        "OSMO-GKE-008",
    ]
    aks = [*plan, record("azure-native:containerservice:ManagedCluster", {})]
    messages = [f.message for f in policy.evaluate(aks) if f.check.id == "OSMO-NET-001"]
    assert messages == ["workflow egress reaches 169.254.169.254, 168.63.129.16"]


def test_the_eks_imds_hop_limit_stays_one() -> None:
    template = "aws:ec2/launchTemplate:LaunchTemplate"
    one_hop = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1}}
    assert ids([record(template, one_hop)]) == []
    two = {"metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 2}}
    assert ids([record(template, two)]) == ["OSMO-EKS-005"]


def test_no_monitoring_chart_reads_every_secret() -> None:
    # Chart defaults: grafana 12.11.1 clusterrole.yaml (configmaps and secrets), kube-state-
    # metrics 8.4.0 collectors (secrets included), alloy 1.11.1 rbac.rules (secrets included).
    assert ids([release("kube-prometheus-stack", {})]) == ["OSMO-K8S-006", "OSMO-K8S-006"]
    assert ids([release("alloy", {})]) == ["OSMO-K8S-006"]
    plan = lab_plan()
    stack = named(plan, "osmo-monitoring-prometheus-stack")
    assert ids([stack]) == []
    stack["inputs"]["values"]["kube-state-metrics"]["collectorsExclude"] = []
    assert ids([stack]) == ["OSMO-K8S-006"]
    alloy = named(plan, "osmo-monitoring-alloy")
    assert ids([alloy]) == []
    alloy["inputs"]["values"]["rbac"]["rules"].append(
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
    )
    assert ids([alloy]) == ["OSMO-K8S-006"]


def test_nothing_holds_nodes_proxy() -> None:
    # k8s-ephemeral-storage-metrics 1.21.3 chart/templates/RBAC.yaml grants nodes/proxy.
    assert ids([release("k8s-ephemeral-storage-metrics", {})]) == ["OSMO-K8S-007"]
    assert ids([release("k8s-ephemeral-storage-metrics", {"rbac": {"create": False}})]) == []
    role = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
    proxy = {"rules": [{"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}]}
    assert ids([record(role, proxy)]) == ["OSMO-K8S-007"]
    stats = {"rules": [{"apiGroups": [""], "resources": ["nodes/stats"], "verbs": ["get"]}]}
    assert ids([record(role, stats)]) == []


def test_iam_grants_stay_in_this_cluster() -> None:
    def iam(statement: dict[str, Any]) -> dict[str, Any]:
        document = {"Version": "2012-10-17", "Statement": [statement]}
        return record("aws:iam/policy:Policy", {"policy": json.dumps(document)})

    tags = {"aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}
    resize: dict[str, Any] = {
        "Effect": "Allow",
        "Action": ["autoscaling:SetDesiredCapacity"],
        "Resource": "*",
        "Condition": {"StringEquals": tags},
    }
    assert ids([iam(resize)]) == ["OSMO-AWS-001"]
    tags["aws:ResourceTag/k8s.io/cluster-autoscaler/c"] = "owned"
    assert ids([iam(resize)]) == []
    simulate = {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": "*"}
    assert ids([iam(simulate)]) == ["OSMO-AWS-001"]
    assert ids([iam({**simulate, "Resource": "arn:aws:iam::1:role/r"})]) == []


def test_the_kai_reservation_namespace_is_labelled() -> None:
    """KAI-Scheduler v0.16.8 templates/services/resourcereservation-namespace.yaml."""
    assert ids([release("kai-scheduler", {})]) == ["OSMO-K8S-008"]
    assert ids([named(lab_plan(), "osmo-operators-kai-scheduler")]) == []


def test_loki_prometheus_and_alertmanager_are_not_open_to_every_pod() -> None:
    plan = [r for r in lab_plan() if r["name"] != "osmo-monitoring-loki-access"]
    (finding,) = policy.evaluate(plan)
    assert finding.check.id == "OSMO-K8S-009"
    assert finding.urn.endswith("::osmo-monitoring-loki")
    assert finding.message == "loki admit every pod (no ingress NetworkPolicy)"


@functools.cache
def _tls_lab_plan() -> tuple[dict[str, Any], ...]:
    values = harness_config(
        networking={
            "ingress": {"enabled": True, "tls": {"secretName": "lab-tls"}},
            "workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]},
        },
        storage={"objectStore": {"bucket": "osmo", "ingressHost": "s3.lab.example.internal"}},
        monitoring={
            "grafana": {"ingress": {"host": "grafana.lab.example.internal"}},
            "dashboard": {"enabled": True, "ingress": {"host": "k8s.lab.example.internal"}},
        },
    )
    return tuple(r.to_json() for r in run_main(values).resources)


def tls_lab_plan() -> list[dict[str, Any]]:
    plan = copy.deepcopy(list(_tls_lab_plan()))
    assert [f.check.id for f in policy.evaluate(plan)] == []
    return plan


def test_lab_uis_and_store_over_plain_http_are_a_warning() -> None:
    """OSMO-NET-002: the lab plan serves Grafana, Headlamp and the store through Traefik with a
    default certificate and port 80 redirected (traefik chart 41.3.0 `tlsStore`,
    `ports.web.http.redirections.entryPoint`); without either they are plain HTTP."""
    plan = tls_lab_plan()
    traefik = named(plan, "osmo-ingress-traefik")["inputs"]["values"]
    del traefik["tlsStore"]
    findings = policy.evaluate(plan)
    assert sorted(f.message for f in findings) == [
        "Grafana is served over plain HTTP",
        "ingress s3.lab.example.internal is served over plain HTTP",
        "the Kubernetes web UI is served over plain HTTP",
    ]
    assert {(f.check.id, f.check.severity) for f in findings} == {("OSMO-NET-002", "warning")}
    assert policy.blocking(findings, ()) == []
    # A certificate without the redirect still answers on port 80 in plain text.
    plan = tls_lab_plan()
    del named(plan, "osmo-ingress-traefik")["inputs"]["values"]["ports"]
    assert len([f for f in policy.evaluate(plan) if f.check.id == "OSMO-NET-002"]) == 3


def test_an_ingress_of_another_controller_needs_its_own_tls_entries() -> None:
    plan = tls_lab_plan()
    store = named(plan, "osmo-object-store-ingress")["inputs"]["spec"]
    store["ingressClassName"] = "nginx"
    assert [f.message for f in policy.evaluate(plan)] == [
        "ingress s3.lab.example.internal is served over plain HTTP"
    ]
    store["tls"] = [{"hosts": ["s3.lab.example.internal"], "secretName": "s3-tls"}]
    assert policy.evaluate(plan) == []


@pytest.mark.parametrize("sidecar", ["alerts", "plugins", "notifiers"])
def test_a_grafana_sidecar_enabled_on_secrets_is_a_secret_reader(sidecar: str) -> None:
    """Their chart default is `resource: both` (grafana 12.11.1 values.yaml)."""
    plan = lab_plan()
    values = named(plan, "osmo-monitoring-prometheus-stack")["inputs"]["values"]
    values["grafana"]["sidecar"][sidecar] = {"enabled": True}
    assert [(f.check.id, f.message) for f in policy.evaluate(plan)] == [
        ("OSMO-K8S-006", f"Grafana's {sidecar} sidecar watches Secrets")
    ]
    values["grafana"]["sidecar"][sidecar]["resource"] = "configmap"
    assert policy.evaluate(plan) == []
