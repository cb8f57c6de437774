"""`offline/destroy.py`: the engine's and the clouds' destroy rules over hand-built records.

Engine facts are from pulumi/pulumi at commit 1b5949891b3c: pkg/resource/deploy/step_generator.go
(`GenerateDeletes`, `ScheduleDeletes`), pkg/resource/graph/dependency_graph.go (`DependenciesOf`),
pkg/resource/deploy/step.go (`DeleteStep.Apply`, `deleteProtectedError`) and
pkg/resource/deploy/deployment_executor.go (antichains run one after another).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from offline import destroy

STACK = "urn:pulumi:t::osmo-backend::"


def urn(type_: str, name: str) -> str:
    return f"{STACK}{type_}::{name}"


def rec(
    type_: str,
    name: str,
    *,
    custom: bool = True,
    parent: str | None = None,
    provider: str | None = None,
    deps: tuple[str, ...] = (),
    props: dict[str, list[str]] | None = None,
    inputs: dict[str, Any] | None = None,
    protect: bool = False,
    retain: bool = False,
    deleted_with: str | None = None,
) -> dict[str, Any]:
    """One resources.json record; `dependencies` holds every dependency, as the engine's do."""
    props = props or {}
    all_deps = sorted({*deps, *(u for us in props.values() for u in us)})
    return {
        "urn": urn(type_, name),
        "type": type_,
        "name": name,
        "custom": custom,
        "parent": parent,
        "provider": provider,
        "providers": {},
        "dependencies": all_deps,
        "propertyDependencies": props,
        "inputs": inputs or {},
        "options": {
            "protect": protect,
            "retainOnDelete": retain,
            "deletedWith": deleted_with,
            "dependsOn": sorted(deps),
        },
    }


def names(plan: destroy.DestroyPlan) -> list[list[str]]:
    return [[step.name for step in wave] for wave in plan.waves]


def ids(plan: destroy.DestroyPlan) -> list[tuple[str, str]]:
    return [(f.id, f.urn.rsplit("::", 1)[1]) for f in plan.findings]


COMPONENT = "osmo-backend:index:Thing"
AWS = "pulumi:providers:aws"
K8S = "pulumi:providers:kubernetes"
VPC = "aws:ec2/vpc:Vpc"
SUBNET = "aws:ec2/subnet:Subnet"
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
NAMESPACE = "kubernetes:core/v1:Namespace"
RELEASE = "kubernetes:helm.sh/v3:Release"
BUCKET = "aws:s3/bucket:Bucket"
RG = "azure-native:resources:ResourceGroup"
VAULT = "azure-native:keyvault:Vault"


# --- engine rules --------------------------------------------------------------------------


def test_waves_are_reverse_dependency_order_with_parent_provider_and_property_edges() -> None:
    # ScheduleDeletes: antichains of resources with no condemned dependency, reversed; the
    # dependencies are DependenciesOf's: parent, provider, dependencies, property dependencies.
    comp = rec(COMPONENT, "c", custom=False)
    aws = rec(AWS, "aws", parent=comp["urn"])
    vpc = rec(VPC, "vpc", parent=comp["urn"], provider=aws["urn"])
    subnet = rec(
        SUBNET, "subnet", parent=comp["urn"], provider=aws["urn"], props={"vpcId": [vpc["urn"]]}
    )
    cluster = rec(EKS, "eks", parent=comp["urn"], provider=aws["urn"], deps=(subnet["urn"],))
    k8s = rec(K8S, "k8s", parent=comp["urn"], props={"kubeconfig": [cluster["urn"]]})
    ns = rec(NAMESPACE, "ns", parent=comp["urn"], provider=k8s["urn"])
    plan = destroy.analyze([comp, aws, vpc, subnet, cluster, k8s, ns])
    assert names(plan) == [["ns"], ["k8s"], ["eks"], ["subnet"], ["vpc"], ["aws"], ["c"]]
    assert plan.wave_of(ns["urn"]) == 1
    assert plan.wave_of(comp["urn"]) == 7


def test_independent_resources_share_a_wave_sorted_by_urn() -> None:
    b = rec(VPC, "b")
    a = rec(VPC, "a")
    dependent = rec(SUBNET, "s", props={"vpcId": [a["urn"]]})
    plan = destroy.analyze([b, a, dependent])
    # `a` waits for its dependent; `b` has none, so it goes in the last antichain with `a`.
    assert names(plan) == [["s"], ["a", "b"]]


def test_a_dependency_on_a_component_includes_its_earlier_descendants_only() -> None:
    # DependenciesOf: "If the dependency is a component, all transitive children of the
    # dependency that are before this resource in the topological sort are also implicitly
    # dependencies."
    comp = rec(COMPONENT, "c", custom=False)
    early = rec(VPC, "early", parent=comp["urn"])
    user = rec(SUBNET, "user", deps=(comp["urn"],))
    late = rec(VPC, "late", parent=comp["urn"])
    graph = destroy.dependency_graph([comp, early, user, late])
    assert graph[user["urn"]] == {comp["urn"], early["urn"]}
    # Siblings are not dependencies of each other through their parent.
    assert graph[late["urn"]] == {comp["urn"]}
    assert names(destroy.analyze([comp, early, user, late])) == [["user"], ["early", "late"], ["c"]]


def test_deleted_with_is_an_edge_and_skips_the_delete_call() -> None:
    # GetAllDependencies includes DeletedWith; DeleteStep.Apply makes no delete call when the
    # deletedWith target is also being deleted (isDeletedWith over sg.deletes).
    cluster = rec(EKS, "eks")
    ns = rec(NAMESPACE, "ns", deleted_with=cluster["urn"])
    plan = destroy.analyze([cluster, ns])
    assert names(plan) == [["ns"], ["eks"]]
    assert plan.step(ns["urn"]).action == destroy.FORGET
    assert plan.step(ns["urn"]).note == "forgotten with eks (deletedWith): no delete call"
    assert plan.step(cluster["urn"]).action == destroy.DELETE
    assert plan.findings == []


def test_retain_on_delete_is_kept_and_wins_over_deleted_with() -> None:
    # DeleteStep.Apply checks RetainOnDelete before isDeletedWith.
    cluster = rec(EKS, "eks")
    kept = rec(NAMESPACE, "kept", retain=True, deleted_with=cluster["urn"])
    plan = destroy.analyze([cluster, kept])
    assert plan.step(kept["urn"]).action == destroy.KEEP
    assert plan.counts()[destroy.KEEP] == 1


def test_components_and_providers_are_state_only() -> None:
    comp = rec(COMPONENT, "c", custom=False)
    aws = rec(AWS, "aws", parent=comp["urn"])
    plan = destroy.analyze([comp, aws])
    assert [plan.step(r["urn"]).action for r in (comp, aws)] == [destroy.STATE_ONLY] * 2


def test_protected_resource_fails_the_preview_and_names_what_would_stay() -> None:
    # step.go: protect is refused before the DryRun branch (preview and update alike), with
    # deleteProtectedError's "cannot be deleted because it is protected".
    vpc = rec(VPC, "vpc")
    cluster = rec(EKS, "eks", protect=True, props={"vpcId": [vpc["urn"]]})
    other = rec(BUCKET, "other")
    plan = destroy.analyze([vpc, cluster, other])
    assert plan.step(cluster["urn"]).action == destroy.PROTECTED
    # The refusal the stack asked for, not a defect: reported apart, the plan does not fail.
    assert ids(plan) == []
    assert [f.id for f in plan.refused] == ["protected"]
    finding = plan.refused[0]
    assert finding.message == (
        "the destroy preview fails: the resource cannot be deleted because it is protected; "
        "with --skip-preview (the Automation API) the run deletes everything else it can first "
        "and stops, leaving this resource and the 1 it depends on"
    )
    assert plan.failing == []
    assert "pulumi destroy refuses up front: 1 protected resources fail its preview" in "\n".join(
        plan.lines()
    )


def test_protect_on_a_component_is_refused_too() -> None:
    # The protect check comes before the custom check in DeleteStep.Apply.
    comp = rec(COMPONENT, "c", custom=False, protect=True)
    assert [f.urn for f in destroy.analyze([comp]).refused] == [comp["urn"]]


def test_cycles_and_unknown_urns_are_refused() -> None:
    a = rec(VPC, "a", deps=(urn(SUBNET, "b"),))
    b = rec(SUBNET, "b", deps=(a["urn"],))
    with pytest.raises(destroy.DestroyGraphError, match="dependency cycle"):
        destroy.analyze([a, b])
    with pytest.raises(destroy.DestroyGraphError, match="not in the stack"):
        destroy.analyze([a])


# --- cloud container rules and findings -----------------------------------------------------


def azure_group(*, retain_group: bool) -> list[dict[str, Any]]:
    group = rec(RG, "rg", retain=retain_group, inputs={"resourceGroupName": "osmo-rg"})
    vault = rec(
        VAULT,
        "vault",
        retain=True,
        inputs={"resourceGroupName": "osmo-rg"},
        props={"resourceGroupName": [group["urn"]]},
    )
    # In the group by name only (a literal group name, no property dependency).
    account = rec(
        "azure-native:storage:StorageAccount",
        "account",
        retain=True,
        inputs={"resourceGroupName": "osmo-rg"},
    )
    logs = rec(
        "azure-native:operationalinsights:Workspace",
        "logs",
        inputs={"resourceGroupName": "osmo-rg"},
        props={"resourceGroupName": [group["urn"]]},
    )
    elsewhere = rec(VAULT, "elsewhere", retain=True, inputs={"resourceGroupName": "kept-rg"})
    return [group, vault, account, logs, elsewhere]


def test_retained_vault_inside_a_deleted_resource_group_is_a_finding() -> None:
    # Deleting a resource group deletes everything in it, retained or not
    # (https://github.com/pulumi/pulumi-azure-native/issues/2522).
    records = azure_group(retain_group=False)
    plan = destroy.analyze(records)
    # Findings sort by id, then URN (whose type part puts keyvault before storage).
    assert ids(plan) == [
        ("kept-inside-deleted-container", "vault"),
        ("kept-inside-deleted-container", "account"),
    ]
    vault = plan.step(records[1]["urn"])
    assert vault.action == destroy.KEEP
    assert vault.note == "retainOnDelete, but deleted by the cloud with resource group rg in wave 2"
    assert "resource group 'osmo-rg', which the destroy deletes (wave 2)" in (
        plan.findings[0].message
    )


def test_retained_resource_group_keeps_its_retained_resources() -> None:
    assert destroy.analyze(azure_group(retain_group=True)).findings == []


def s3_bucket(*, retain_settings: bool, with_bucket: bool = False) -> list[dict[str, Any]]:
    bucket = rec(BUCKET, "bucket", retain=True, inputs={"bucket": "osmo-workflows"})
    settings = [
        rec(
            type_,
            f"setting-{i}",
            retain=retain_settings,
            deleted_with=bucket["urn"] if with_bucket else None,
            props={"bucket": [bucket["urn"]]},
        )
        for i, type_ in enumerate(
            (
                "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
                "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
                "aws:s3/bucketServerSideEncryptionConfiguration:"
                "BucketServerSideEncryptionConfiguration",
                "aws:s3/bucketVersioning:BucketVersioning",
            )
        )
    ]
    return [bucket, *settings]


def test_retained_bucket_with_deleted_settings_is_a_finding_per_setting() -> None:
    # Deletes undo the setting: terraform-provider-aws internal/service/s3
    # bucket_public_access_block.go (DeletePublicAccessBlock), bucket_ownership_controls.go
    # (DeleteBucketOwnershipControls); pulumi_aws s3/bucket_server_side_encryption_configuration.py
    # ("resets the bucket to Amazon S3 bucket default encryption"), s3/bucket_versioning.py
    # ("will either suspend versioning").
    plan = destroy.analyze(s3_bucket(retain_settings=False))
    assert ids(plan) == [("bucket-setting-undone", f"setting-{i}") for i in (1, 0, 2, 3)]
    messages = [f.message for f in plan.findings]
    for what in ("public access block", "ownership controls", "default encryption", "versioning"):
        assert any(
            f"removes the {what} of bucket 'osmo-workflows', which the destroy keeps" in m
            for m in messages
        )


def test_bucket_settings_kept_or_gone_with_the_bucket_are_fine() -> None:
    assert destroy.analyze(s3_bucket(retain_settings=True)).findings == []
    plan = destroy.analyze(s3_bucket(retain_settings=False, with_bucket=True))
    assert plan.findings == []
    assert {s.action for s in plan.waves[0]} == {destroy.FORGET}


def test_deleted_bucket_settings_of_a_deleted_bucket_are_fine() -> None:
    bucket = rec(BUCKET, "bucket")
    setting = rec(
        "aws:s3/bucketVersioning:BucketVersioning", "v", props={"bucket": [bucket["urn"]]}
    )
    assert destroy.analyze([bucket, setting]).findings == []


def kms(*, ring_from_random: bool) -> list[dict[str, Any]]:
    suffix = rec("random:index/randomString:RandomString", "suffix")
    ring = rec(
        "gcp:kms/keyRing:KeyRing",
        "ring",
        inputs={"name": "osmo-gke-ab12cd" if ring_from_random else "osmo-gke"},
        props={"name": [suffix["urn"]] if ring_from_random else []},
    )
    key = rec(
        "gcp:kms/cryptoKey:CryptoKey",
        "key",
        retain=True,
        inputs={"name": "secrets"},
        props={"keyRing": [ring["urn"]], "name": []},
    )
    return [suffix, ring, key]


def test_fixed_kms_key_ring_name_is_a_finding_retained_or_not() -> None:
    # pulumi_gcp kms/key_ring.py and kms/crypto_key.py: KeyRings and CryptoKeys "cannot be
    # deleted from Google Cloud Platform"; destroying one removes it from state only.
    records = kms(ring_from_random=False)
    plan = destroy.analyze(records)
    assert ids(plan) == [
        ("fixed-name-kept-by-cloud", "key"),
        ("fixed-name-kept-by-cloud", "ring"),
    ]
    assert plan.step(records[1]["urn"]).action == destroy.CLOUD_KEEPS
    assert plan.step(records[2]["urn"]).action == destroy.KEEP
    assert "gcp:kms/keyRing:KeyRing 'osmo-gke': the fixed name stays taken" in (
        plan.findings[1].message
    )


def test_kms_key_ring_named_from_a_random_suffix_is_fine() -> None:
    assert destroy.analyze(kms(ring_from_random=True)).findings == []


def eks_volumes(
    *, release_deps: tuple[str, ...] = (), deleted_with: bool = False
) -> list[dict[str, Any]]:
    cluster = rec(EKS, "eks")
    operator = rec(
        NODE_GROUP,
        "operator",
        props={"clusterName": [cluster["urn"]]},
        inputs={"labels": {"node-type": "operator"}},
    )
    gpu = rec(
        NODE_GROUP,
        "gpu",
        props={"clusterName": [cluster["urn"]]},
        inputs={"labels": {"node-type": "gpu"}},
    )
    ebs = rec(
        "aws:eks/addon:Addon",
        "ebs-csi",
        props={"clusterName": [cluster["urn"]]},
        deps=(operator["urn"],),
        inputs={"addonName": "aws-ebs-csi-driver"},
    )
    k8s = rec(K8S, "k8s", props={"kubeconfig": [cluster["urn"]]})
    deps = tuple(
        {"operator": operator["urn"], "ebs-csi": ebs["urn"]}[name] for name in release_deps
    )
    prometheus = rec(
        RELEASE,
        "prometheus",
        provider=k8s["urn"],
        deps=deps,
        deleted_with=cluster["urn"] if deleted_with else None,
        inputs={"chart": "kube-prometheus-stack", "name": "kube-prometheus-stack"},
    )
    return [cluster, operator, gpu, ebs, k8s, prometheus]


def test_kube_prometheus_stack_without_a_dependency_on_the_node_group_is_a_finding() -> None:
    plan = destroy.analyze(eks_volumes())
    assert ids(plan) == [
        ("volume-owner-after-driver", "prometheus"),
        ("volume-owner-after-driver", "prometheus"),
    ]
    messages = sorted(f.message for f in plan.findings)
    assert messages == [
        "Helm release of kube-prometheus-stack 'prometheus' (wave 1) is deleted not ordered "
        "before nodes aws:eks/nodeGroup:NodeGroup 'operator' (wave 2): it does not depend on "
        "them, so its volumes can outlive the destroy",
        "Helm release of kube-prometheus-stack 'prometheus' (wave 1) is deleted not ordered "
        "before storage driver aws:eks/addon:Addon 'ebs-csi' (wave 1): it does not depend on "
        "them, so its volumes can outlive the destroy",
    ]


def test_volume_owner_that_waits_for_the_driver_and_operator_pool_is_fine() -> None:
    # The EBS add-on depends on the operator pool, so depending on the add-on orders the release
    # before both; the GPU pool is not the operator pool and is not required.
    plan = destroy.analyze(eks_volumes(release_deps=("ebs-csi",)))
    assert plan.findings == []
    assert plan.wave_of(urn(RELEASE, "prometheus")) < plan.wave_of(
        urn("aws:eks/addon:Addon", "ebs-csi")
    )


def test_volume_owner_deleted_after_the_driver_says_after() -> None:
    records = eks_volumes(release_deps=("operator",))
    cluster, ebs = records[0], records[3]
    # A longer chain below the add-on (its IRSA role) puts it in an earlier wave.
    oidc = rec(
        "aws:iam/openIdConnectProvider:OpenIdConnectProvider", "oidc", deps=(cluster["urn"],)
    )
    role = rec("aws:iam/role:Role", "ebs-role", deps=(oidc["urn"],))
    ebs["dependencies"] = sorted([*ebs["dependencies"], role["urn"]])
    plan = destroy.analyze([cluster, oidc, role, *records[1:]])
    assert ids(plan) == [("volume-owner-after-driver", "prometheus")]
    assert "(wave 2) is deleted after storage driver aws:eks/addon:Addon 'ebs-csi' (wave 1)" in (
        plan.findings[0].message
    )


def test_volume_owner_forgotten_with_its_cluster_is_a_finding() -> None:
    plan = destroy.analyze(eks_volumes(release_deps=("ebs-csi",), deleted_with=True))
    assert ids(plan) == [("volume-owner-after-driver", "prometheus")]
    assert "is forgotten with its cluster: it is never uninstalled" in plan.findings[0].message


def test_pvc_and_loki_are_volume_owners_on_aks_inline_system_pool() -> None:
    aks = rec(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        inputs={
            "agentPoolProfiles": [{"name": "operator", "nodeLabels": {"node-type": "operator"}}]
        },
    )
    pool = rec(
        "azure-native:containerservice:AgentPool",
        "gpu",
        props={"resourceName": [aks["urn"]]},
        inputs={"nodeLabels": {"node-type": "gpu"}},
    )
    good_k8s = rec(K8S, "k8s", deps=(aks["urn"],))
    bad_k8s = rec(K8S, "other-k8s")
    pvc = rec("kubernetes:core/v1:PersistentVolumeClaim", "data", provider=bad_k8s["urn"])
    loki = rec(RELEASE, "loki", provider=good_k8s["urn"], inputs={"chart": "loki"})
    plan = destroy.analyze([aks, pool, good_k8s, bad_k8s, pvc, loki])
    assert ids(plan) == [("volume-owner-after-driver", "data")]
    assert "nodes azure-native:containerservice:ManagedCluster 'aks'" in plan.findings[0].message


def test_no_nodes_in_the_stack_means_no_volume_order_to_check() -> None:
    # An adopted cluster: the stack deletes no nodes and no driver.
    pvc = rec("kubernetes:core/v1:PersistentVolumeClaim", "data", provider=urn(K8S, "k8s"))
    assert destroy.analyze([rec(K8S, "k8s"), pvc]).findings == []


def test_gke_deletion_protection_without_protect_is_a_finding() -> None:
    # pulumi_gcp container/cluster.py deletion_protection: the delete "will only succeed if this
    # field is false" in the state: enforced at the cluster's own delete.
    gke = "gcp:container/cluster:Cluster"
    on = rec(gke, "on", inputs={"deletionProtection": True})
    default = rec(gke, "default")
    off = rec(gke, "off", inputs={"deletionProtection": False})
    guarded = rec(gke, "guarded", protect=True, inputs={"deletionProtection": True})
    plan = destroy.analyze([on, default, off, guarded])
    assert ids(plan) == [
        ("cloud-deletion-protection", "default"),
        ("cloud-deletion-protection", "on"),
    ]
    assert [f.urn for f in plan.refused] == [guarded["urn"]]


# --- output ---------------------------------------------------------------------------------


def test_destroy_json_and_report_are_deterministic(tmp_path: Path) -> None:
    records = [*azure_group(retain_group=False), *s3_bucket(retain_settings=False)]
    first = destroy.analyze(records, project="osmo-backend", stack="t")
    path = destroy.write(first, tmp_path)
    document = json.loads(path.read_text())
    assert path == tmp_path / "destroy.json"
    assert document["project"] == "osmo-backend"
    assert document["stack"] == "t"
    assert document["summary"] == {
        "waves": 2,
        "delete": 6,
        "keep": 4,
        "forget": 0,
        "cloud-keeps": 0,
        "protected": 0,
        "state-only": 0,
    }
    assert [w["wave"] for w in document["waves"]] == [1, 2]
    assert [f["id"] for f in document["findings"]] == [
        *["bucket-setting-undone"] * 4,
        *["kept-inside-deleted-container"] * 2,
    ]
    assert document["findings"][0]["fix"] == destroy.FIXES["bucket-setting-undone"]
    again = destroy.analyze(list(reversed(records)), project="osmo-backend", stack="t")
    assert again.to_json() == first.to_json()
    assert list(again.lines()) == list(first.lines())


def test_report_lines_show_each_wave_and_hide_state_only_steps() -> None:
    comp = rec(COMPONENT, "c", custom=False)
    cluster = rec(EKS, "eks", parent=comp["urn"])
    ns = rec(NAMESPACE, "ns", parent=comp["urn"], deleted_with=cluster["urn"])
    bucket = rec(BUCKET, "bucket", parent=comp["urn"], retain=True)
    lines = list(destroy.analyze([comp, cluster, ns, bucket], stack="t").lines())
    assert lines == [
        "Destroy plan for stack t: 3 waves, each starting when the one before it is done",
        "wave 1",
        f"  forget        {NAMESPACE}  ns  (forgotten with eks (deletedWith): no delete call)",
        "wave 2",
        f"  delete        {EKS}  eks",
        f"  keep in cloud {BUCKET}  bucket  (retainOnDelete: stays in the cloud, forgotten "
        "from the state)",
        "wave 3 (+1 state only: components, providers)",
        "Destroy: 1 deleted, 1 kept in the cloud (retainOnDelete), 1 forgotten with their "
        "cluster (deletedWith), 0 kept by the cloud, 0 protected, 1 state only",
    ]
