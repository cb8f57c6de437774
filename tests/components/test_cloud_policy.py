"""Cloud property checks: the records each cloud kind registers pass them all; each insecure
change to one record fires exactly its check; configured opt-outs fail the plan until the stack
also allows the check by id."""

import copy
from collections.abc import Callable
from typing import Any

import pytest

from components import policy
from tests.components import test_aks_cluster, test_eks_cluster, test_gke_cluster
from tests.components.test_workflow_bucket import recording as bucket_recording
from tests.harness import run_main

Records = list[dict[str, Any]]


def records(kind: str) -> Records:
    recording = {
        "eks": test_eks_cluster.recording,
        "gke": test_gke_cluster.recording,
        "aks": test_aks_cluster.recording,
    }[kind]()
    return [r.to_json() for r in recording.resources]


def bucket_records(kind: str) -> Records:
    return [r.to_json() for r in bucket_recording(kind).resources]


def one(found: Records, type_: str, name: str) -> dict[str, Any]:
    (match,) = [r for r in found if r["type"] == type_ and r["name"] == name]
    return copy.deepcopy(match)


def ids(record: dict[str, Any]) -> list[str]:
    return [f.check.id for f in policy.evaluate([record])]


@pytest.mark.parametrize("kind", ["eks", "gke", "aks"])
def test_every_cloud_kind_passes_every_check(kind: str) -> None:
    assert policy.evaluate(records(kind)) == []
    assert policy.evaluate(bucket_records(kind)) == []


EKS = ("aws:eks/cluster:Cluster", "osmo-cluster-eks")
GKE = ("gcp:container/cluster:Cluster", "osmo-cluster-gke")
GKE_POOL = ("gcp:container/nodePool:NodePool", "osmo-cluster-compute")
AKS = ("azure-native:containerservice:ManagedCluster", "osmo-cluster-aks")
AKS_POOL = ("azure-native:containerservice:AgentPool", "osmo-cluster-compute")


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(inputs: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = inputs
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value

    return change


CASES: list[tuple[str, tuple[str, str], Callable[[dict[str, Any]], None], list[str]]] = [
    (
        "eks public endpoint open",
        EKS,
        _set("vpcConfig.publicAccessCidrs", ["0.0.0.0/0"]),
        ["OSMO-EKS-001"],
    ),
    ("eks no secrets encryption", EKS, _set("encryptionConfig", None), ["OSMO-EKS-002"]),
    ("eks audit log off", EKS, _set("enabledClusterLogTypes", ["api"]), ["OSMO-EKS-003"]),
    (
        "gke public nodes",
        GKE,
        _set("privateClusterConfig.enablePrivateNodes", False),
        ["OSMO-GKE-001"],
    ),
    (
        "gke public endpoint for everyone",
        GKE,
        _set("privateClusterConfig.enablePrivateEndpoint", False),
        ["OSMO-GKE-002"],
    ),
    ("gke no kms", GKE, _set("databaseEncryption.state", "DECRYPTED"), ["OSMO-GKE-003"]),
    ("gke no workload identity", GKE, _set("workloadIdentityConfig", None), ["OSMO-GKE-004"]),
    ("gke legacy abac", GKE, _set("enableLegacyAbac", True), ["OSMO-GKE-007"]),
    ("gke no release channel", GKE, _set("releaseChannel", None), ["OSMO-GKE-008"]),
    (
        "gke calico-less legacy dataplane",
        GKE,
        _set("datapathProvider", "LEGACY_DATAPATH"),
        ["OSMO-GKE-008"],
    ),
    (
        "gke pool on the instance metadata",
        GKE_POOL,
        _set("nodeConfig.workloadMetadataConfig.mode", "GCE_METADATA"),
        ["OSMO-GKE-004"],
    ),
    (
        "gke pool default account",
        GKE_POOL,
        _set("nodeConfig.serviceAccount", "default"),
        ["OSMO-GKE-005"],
    ),
    ("gke pool no auto-repair", GKE_POOL, _set("management.autoRepair", False), ["OSMO-GKE-006"]),
    (
        "gke pool without secure boot",
        GKE_POOL,
        _set("nodeConfig.shieldedInstanceConfig.enableSecureBoot", False),
        ["OSMO-GKE-009"],
    ),
    (
        "aks open api server",
        AKS,
        _set("apiServerAccessProfile.authorizedIPRanges", ["0.0.0.0/0"]),
        ["OSMO-AKS-001"],
    ),
    ("aks local accounts", AKS, _set("disableLocalAccounts", False), ["OSMO-AKS-002"]),
    ("aks no kms", AKS, _set("securityProfile.azureKeyVaultKms.enabled", False), ["OSMO-AKS-003"]),
    ("aks no network policy", AKS, _set("networkProfile.networkPolicy", None), ["OSMO-AKS-003"]),
    (
        "aks no upgrade channel",
        AKS,
        _set("autoUpgradeProfile.upgradeChannel", "none"),
        ["OSMO-AKS-003"],
    ),
    ("aks user pool public ips", AKS_POOL, _set("enableNodePublicIP", True), ["OSMO-AKS-004"]),
]


@pytest.mark.parametrize(
    ("target", "change", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_each_insecure_change_fires_its_check(
    target: tuple[str, str], change: Callable[[dict[str, Any]], None], expected: list[str]
) -> None:
    kind = {"aws": "eks", "gcp": "gke", "azure-native": "aks"}[target[0].split(":")[0]]
    record = one(records(kind), *target)
    assert ids(record) == []
    change(record["inputs"])
    assert ids(record) == expected


def test_imds_and_key_rotation_on_eks() -> None:
    found = records("eks")
    template = one(found, "aws:ec2/launchTemplate:LaunchTemplate", "osmo-cluster-operator-lt")
    template["inputs"]["metadataOptions"]["httpTokens"] = "optional"
    assert ids(template) == ["OSMO-EKS-004"]
    key = one(found, "aws:kms/key:Key", "osmo-cluster-secrets-key")
    key["inputs"]["enableKeyRotation"] = False
    assert ids(key) == ["OSMO-KMS-001"]
    key["options"]["retainOnDelete"] = False
    assert ids(key) == ["OSMO-KMS-001", "OSMO-DATA-002"]


@pytest.mark.parametrize(
    ("kind", "type_", "name", "field", "value"),
    [
        (
            "eks",
            "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
            "osmo-cluster-workflow-bucket-public-access",
            "blockPublicPolicy",
            False,
        ),
        (
            "gke",
            "gcp:storage/bucket:Bucket",
            "osmo-cluster-workflow-bucket",
            "publicAccessPrevention",
            "inherited",
        ),
        (
            "aks",
            "azure-native:storage:StorageAccount",
            "osmo-cluster-workflow-storage",
            "allowBlobPublicAccess",
            True,
        ),
    ],
)
def test_buckets_stay_private(kind: str, type_: str, name: str, field: str, value: Any) -> None:
    record = one(bucket_records(kind), type_, name)
    record["inputs"][field] = value
    assert ids(record) == ["OSMO-DATA-001"]


def test_a_bucket_that_goes_with_destroy_is_a_printed_warning_not_a_failure() -> None:
    values = test_gke_cluster.gke_config()
    values["osmo-backend:storage"] = {"bucket": {"name": "osmo-data", "retainOnDelete": False}}
    found = policy.evaluate(r.to_json() for r in run_main(values).resources)
    assert [(f.check.id, f.check.severity) for f in found] == [("OSMO-DATA-002", "warning")]
    assert policy.blocking(found, ()) == []


def test_an_operator_driver_pool_without_secure_boot_is_a_documented_warning() -> None:
    pools = [
        test_gke_cluster.CLUSTER_SECTION["nodePools"][0],
        {
            "name": "l4",
            "role": "gpu",
            "machineType": "g2-standard-8",
            "imageType": "UBUNTU_CONTAINERD",
            "gpuDriver": "operator",
        },
    ]
    found = policy.evaluate(
        r.to_json() for r in run_main(test_gke_cluster.gke_config(nodePools=pools)).resources
    )
    assert [f.check.id for f in found] == ["OSMO-GKE-009"]
    assert policy.blocking(found, ()) == []
    assert "CIS GKE Benchmark v1.6.0 5.5.7, CKV_GCP_68" in found[0].line()


def test_a_config_opt_out_still_needs_the_policy_allow() -> None:
    values = test_eks_cluster.eks_config(
        endpoint={"publicAccessCidrs": ["0.0.0.0/0"], "allowPublicFromAnywhere": True}
    )
    # The config refuses the switch alone (components/config: both steps or neither).
    values["osmo-backend:policy"] = {"allow": ["OSMO-EKS-001"]}
    found = policy.evaluate(r.to_json() for r in run_main(values).resources)
    assert [f.check.id for f in policy.blocking(found, ())] == ["OSMO-EKS-001"]
    assert policy.blocking(found, ["OSMO-EKS-001"]) == []
    assert "CIS Amazon EKS Benchmark v1.4.0 5.4.2, CKV_AWS_38" in found[0].line()


@pytest.mark.parametrize(
    ("kind", "protected"),
    [
        ("eks", {"osmo-cluster-eks", "osmo-cluster-secrets-key", "osmo-cluster-workflow-bucket"}),
        ("gke", {"osmo-cluster-gke", "osmo-cluster-secrets-key", "osmo-cluster-workflow-bucket"}),
        (
            "aks",
            {
                "osmo-cluster-aks",
                "osmo-cluster-vault",
                "osmo-cluster-secrets-key",
                "osmo-cluster-workflow-storage",
            },
        ),
    ],
)
def test_the_production_preset_protects_the_cluster_data_and_keys(
    kind: str, protected: set[str]
) -> None:
    from tests.components.test_workflow_bucket import with_bucket

    values = with_bucket(kind)
    values["osmo-backend:policy"] = {"protect": True}
    rec = run_main(values)
    assert {r.name for r in rec.resources if r.options["protect"]} == protected
    # Exactly those (nothing in the cluster, no node pool); without the preset, nothing but a
    # GKE cluster whose deletionProtection is on (on by default).
    unprotected = ["osmo-cluster-gke"] if kind == "gke" else []
    assert [r.name for r in bucket_recording(kind).resources if r.options["protect"]] == unprotected
