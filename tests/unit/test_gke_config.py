"""`osmo-backend:cluster` with kind gke: defaults, GPU machine facts, and every problem reported at
once."""

import re
from typing import Any

import pytest

from components._validate import Problems
from components.clusters.gke.cluster import gpu_operator_values, node_labels, service_account_id
from components.clusters.gke.config import (
    Accelerator,
    GkeClusterSpec,
    derived_name_problems,
    initial_nodes_per_zone,
    key_ring_name,
    machine_accelerator,
)
from components.config import KUBECONFIG_SECRET_KEY, load_spec
from tests.harness import REPO, config, encode
from tests.unit.test_config import problems

C = "osmo-backend:cluster"
OPERATOR = {"name": "operator", "role": "operator", "machineType": "n1-standard-4", "minNodes": 1}


def gke(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    body = {"kind": "gke", "name": "osmo-usc1", **cluster}
    values[C] = {k: v for k, v in body.items() if v is not None}
    values["gcp:project"] = "osmo-test-1"
    values["gcp:region"] = "us-central1"
    return values


def with_gpu(**gpu: Any) -> dict[str, Any]:
    return gke(nodePools=[OPERATOR, {"name": "gpu", "role": "gpu", **gpu}])


def spec(values: dict[str, Any]) -> GkeClusterSpec:
    cluster = load_spec(encode(values), base_dir=REPO).cluster
    assert isinstance(cluster, GkeClusterSpec)
    return cluster


def test_defaults_are_regional_private_and_osmo_pools() -> None:
    cluster = spec(gke())
    assert (cluster.project, cluster.region, cluster.location) == (
        "osmo-test-1",
        "us-central1",
        "us-central1",
    )
    assert cluster.zone is None
    assert cluster.zone_count == 3
    assert cluster.kubernetes_version == "1.33"
    assert cluster.release_channel == "REGULAR"
    assert (
        cluster.private_nodes,
        cluster.endpoint.private_endpoint,
        cluster.endpoint.dns_endpoint,
    ) == (
        True,
        True,
        True,
    )
    assert cluster.endpoint.authorized_networks == ()
    assert cluster.deletion_protection is True
    net = cluster.network
    assert (net.subnet_cidr, net.pod_cidr, net.service_cidr, net.master_cidr) == (
        "10.0.0.0/20",
        "10.16.0.0/14",
        "10.20.0.0/20",
        None,
    )
    assert [
        (p.name, p.role, p.machine_type, p.min_nodes, p.max_nodes) for p in cluster.node_pools
    ] == [
        ("operator", "operator", "n1-standard-4", 1, 3),
        ("compute", "compute", "n1-standard-8", 0, 10),
    ]
    assert cluster.gpu_driver is None


def test_project_and_region_in_the_section_win_over_the_provider_config() -> None:
    cluster = spec(gke(project="other-project", region="europe-west4"))
    assert (cluster.project, cluster.region) == ("other-project", "europe-west4")


@pytest.mark.parametrize(
    ("machine", "accelerator"),
    [
        ("a3-highgpu-8g", Accelerator(type="nvidia-h100-80gb", count=8)),
        ("a3-megagpu-8g", Accelerator(type="nvidia-h100-mega-80gb", count=8)),
        ("a2-highgpu-1g", Accelerator(type="nvidia-tesla-a100", count=1)),
        ("a2-ultragpu-4g", Accelerator(type="nvidia-a100-80gb", count=4)),
        ("a4-highgpu-8g", Accelerator(type="nvidia-b200", count=8)),
        ("g2-standard-4", Accelerator(type="nvidia-l4", count=1)),
        ("g2-standard-48", Accelerator(type="nvidia-l4", count=4)),
        ("n1-standard-8", None),
        ("n2-standard-8", None),
        ("e2-standard-4", None),
    ],
)
def test_gpu_machine_families_carry_their_gpus(
    machine: str, accelerator: Accelerator | None
) -> None:
    assert machine_accelerator(machine) == accelerator


def test_a_gpu_pool_defaults_to_googles_driver_and_a_bigger_disk() -> None:
    (_, gpu) = spec(with_gpu(machineType="a3-highgpu-8g", spot=True, maxNodes=4)).node_pools
    assert gpu.accelerator == Accelerator(type="nvidia-h100-80gb", count=8)
    assert gpu.gpu_driver == "google"
    assert gpu.image_type == "COS_CONTAINERD"
    assert (gpu.spot, gpu.disk_size_gb, gpu.min_nodes, gpu.max_nodes) == (True, 200, 0, 4)


def test_an_n1_pool_takes_an_attached_t4() -> None:
    (_, gpu) = spec(
        with_gpu(machineType="n1-standard-8", accelerator={"type": "nvidia-tesla-t4", "count": 2})
    ).node_pools
    assert gpu.accelerator == Accelerator(type="nvidia-tesla-t4", count=2)


def test_every_problem_is_reported_at_once() -> None:
    assert problems(
        gke(
            name="9lives",
            region="us-central-1",
            kubernetesVersion="1.29",
            releaseChannel="NIGHTLY",
            network={
                "subnetCidr": "10.0.0.0/16",
                "podCidr": "8.8.0.0/14",
                "masterCidr": "10.0.0.0/28",
            },
            endpoint={"privateEndpoint": False},
            privateNodes=False,
            nodePools=[
                {"name": "compute", "role": "compute", "machineType": "n1-standard-8"},
                {
                    "name": "gpu",
                    "role": "gpu",
                    "machineType": "n2-standard-8",
                    "gpuDriver": "nvidia",
                },
            ],
        )
    ) == (
        f"{C}.name: '9lives' is not a GKE cluster name: a lowercase letter first, then lowercase "
        "letters, digits and '-', not ending in '-', at most 40 characters",
        f"{C}.region: 'us-central-1' is not a region like us-central1 (or set gcp:region)",
        f"{C}.kubernetesVersion: '1.29' is not supported; use 1.30 or later, quoted",
        f"{C}.releaseChannel: 'NIGHTLY' is not one of: RAPID, REGULAR, STABLE",
        f"{C}.network.podCidr: 8.8.0.0/14 must be a private IPv4 /8 to /21",
        f"{C}.network.masterCidr: 10.0.0.0/28 overlaps subnetCidr 10.0.0.0/16",
        f"{C}.endpoint.authorizedNetworks: a public endpoint needs the networks allowed to reach "
        "it (or privateEndpoint: true)",
        f"{C}.nodePools[1].accelerator: is required for a gpu pool on n2-standard-8: use a GPU "
        "machine family (a2, a3, a4, g2) or an n1 machine with an accelerator {type, count}",
        f"{C}.nodePools[1].gpuDriver: 'nvidia' is not one of: google (Google's installer), "
        "operator (the GPU Operator's driver manager)",
        f"{C}.privateNodes: opts out of a secure default; the second step is also required: list "
        "OSMO-GKE-001 under osmo-backend:policy.allow (README: Security checks)",
    )


@pytest.mark.parametrize(
    ("gpu", "expected"),
    [
        (
            {"machineType": "a3-highgpu-8g", "accelerator": {"type": "nvidia-tesla-t4"}},
            "nodePools[1].accelerator: a3-highgpu-8g comes with 8 x nvidia-h100-80gb; leave "
            "accelerator out or match it",
        ),
        (
            {"machineType": "n1-standard-8", "accelerator": {"type": "nvidia-h100-80gb"}},
            "nodePools[1].accelerator.type: nvidia-h100-80gb does not attach to n1 machines; one "
            "of: nvidia-tesla-p100, nvidia-tesla-p4, nvidia-tesla-t4, nvidia-tesla-v100",
        ),
        (
            {"machineType": "n1-standard-8", "accelerator": {"type": "tesla", "count": 0}},
            "nodePools[1].accelerator.type: 'tesla' is not a GPU type like nvidia-tesla-t4",
        ),
        (
            {
                "machineType": "n1-standard-8",
                "accelerator": {"type": "nvidia-tesla-t4", "count": 0},
            },
            "nodePools[1].accelerator.count: must be a whole number from 1 to 16, got 0",
        ),
        (
            {"machineType": "a3-highgpu-8g", "gpuDriver": "operator"},
            "nodePools[1].gpuDriver: operator-installed drivers need imageType UBUNTU_CONTAINERD; "
            "Container-Optimized OS takes Google's installer only (gpuDriver: google)",
        ),
        (
            {"machineType": "n1-standard", "spot": "yes"},
            "nodePools[1].machineType: 'n1-standard' is not a machine type like n1-standard-8",
        ),
        (
            {"machineType": "g2-standard-8", "imageType": "WINDOWS_LTSC"},
            "nodePools[1].imageType: 'WINDOWS_LTSC' is not one of: COS_CONTAINERD, "
            "UBUNTU_CONTAINERD",
        ),
    ],
)
def test_gpu_pool_mistakes(gpu: dict[str, Any], expected: str) -> None:
    assert f"{C}.{expected}" in problems(with_gpu(**gpu))


def test_gpu_pools_must_agree_on_the_driver() -> None:
    values = gke(
        nodePools=[
            OPERATOR,
            {"name": "a", "role": "gpu", "machineType": "g2-standard-8"},
            {
                "name": "b",
                "role": "gpu",
                "machineType": "g2-standard-8",
                "imageType": "UBUNTU_CONTAINERD",
                "gpuDriver": "operator",
            },
        ]
    )
    assert problems(values) == (
        f"{C}.nodePools: gpu pools disagree on gpuDriver (google, operator); the GPU Operator's "
        "driver switch and install paths are cluster-wide, so every gpu pool needs the same one",
    )


def test_gpu_driver_only_applies_to_gpu_pools_and_operators_need_a_node() -> None:
    values = gke(
        nodePools=[
            {**OPERATOR, "minNodes": 0, "gpuDriver": "google"},
        ]
    )
    assert problems(values) == (
        f"{C}.nodePools[0].minNodes: operator pools need at least 1 node: add-ons run there",
        f"{C}.nodePools[0].gpuDriver: only applies to gpu pools",
    )


def test_zones_belong_to_the_region_and_include_a_zonal_clusters_zone() -> None:
    assert problems(gke(zone="us-central1-f", nodeZones=["us-central1-a", "us-east1-b"])) == (
        f"{C}.nodeZones[1]: 'us-east1-b' is not a zone of us-central1",
        f"{C}.nodeZones: must include the cluster's zone us-central1-f",
    )
    zonal = spec(gke(zone="us-central1-f"))
    assert (zonal.location, zonal.zone_count) == ("us-central1-f", 1)


def test_bring_your_own_network_and_its_conflicts() -> None:
    values = gke(network={"network": "shared", "subnetwork": "nodes"})
    values["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.128.0.0/9"]}}
    byo = spec(values).network
    # A network this stack does not create: the workflow policy's ranges must be given.
    assert problems(gke(network={"network": "shared", "subnetwork": "nodes"}))[0].startswith(
        "osmo-backend:networking.workflowPolicy.clusterCIDRs: is required"
    )
    assert byo.bring_your_own
    assert (byo.pod_range_name, byo.service_range_name, byo.subnet_cidr) == (
        "pods",
        "services",
        None,
    )
    assert problems(
        gke(network={"network": "shared", "subnetwork": "nodes", "podCidr": "10.0.0.0/14"})
    ) == (
        f"{C}.network: set network/subnetwork with their range names, or "
        "subnetCidr/podCidr/serviceCidr, not both",
    )
    assert problems(gke(network={"subnetwork": "nodes"})) == (
        f"{C}.network.subnetwork: only applies with network (a network you bring)",
    )


def test_endpoint_opt_outs_are_logged() -> None:
    values = gke(
        privateNodes=False,
        endpoint={
            "privateEndpoint": False,
            "authorizedNetworks": ["0.0.0.0/0"],
            "allowPublicFromAnywhere": True,
        },
    )
    assert problems(values) == (
        f"{C}.privateNodes: opts out of a secure default; the second step is also required: list "
        "OSMO-GKE-001 under osmo-backend:policy.allow (README: Security checks)",
        f"{C}.endpoint.allowPublicFromAnywhere: opts out of a secure default; the second step is "
        "also required: list OSMO-GKE-002 under osmo-backend:policy.allow (README: Security "
        "checks)",
    )
    values["osmo-backend:policy"] = {"allow": ["OSMO-GKE-001", "OSMO-GKE-002"]}
    loaded = load_spec(encode(values), base_dir=REPO)
    assert isinstance(loaded.cluster, GkeClusterSpec)
    assert loaded.cluster.endpoint.authorized_networks == ("0.0.0.0/0",)
    assert tuple(n for n in loaded.notices if n.startswith(C)) == (
        f"{C}.privateNodes is false: nodes get public IP addresses (CIS GKE 5.6.5, Checkov "
        "CKV_GCP_64)",
        f"{C}.endpoint.allowPublicFromAnywhere is set: the GKE control plane's public endpoint "
        "accepts connections from any address (CIS GKE 5.6.3, Checkov CKV_GCP_18)",
    )
    private_only = load_spec(encode(gke(endpoint={"dnsEndpoint": False})), base_dir=REPO)
    assert tuple(n for n in private_only.notices if n.startswith(C)) == (
        f"{C}.endpoint: the control plane has only its private IP endpoint; pulumi up must run "
        "inside the VPC (or a network peered with it)",
    )


def test_a_kubeconfig_secret_is_refused_for_gke() -> None:
    values = gke()
    values[KUBECONFIG_SECRET_KEY] = "apiVersion: v1"
    assert problems(values, secret_keys=(KUBECONFIG_SECRET_KEY,)) == (
        f"{KUBECONFIG_SECRET_KEY}: is for kind existing; a GKE stack makes its own (exec-based) "
        "kubeconfig",
    )


def test_service_account_ids_fit_googles_limits_and_stay_unique() -> None:
    """IAM service account ids are 6-30 characters, `[a-z][a-z0-9-]*[a-z0-9]`
    (cloud.google.com/iam/docs/reference/rest/v1/projects.serviceAccounts/create, accountId)."""
    assert service_account_id("osmo-usc1", "nodes") == "osmo-usc1-nodes"
    assert service_account_id("osmo-prod-us-central1-a", "nodes") == "osmo-prod-us-central1-a-nodes"
    # Too long for the id: cut short, with a hash of the full name before the suffix.
    a = service_account_id("osmo-prod-us-central1-a", "workflow")
    b = service_account_id("osmo-prod-us-central1-b", "workflow")
    # Pinned: a change here renames (replaces) every deployed service account.
    assert (a, b) == ("osmo-prod-us-c-f050f1-workflow", "osmo-prod-us-c-02ff2d-workflow")
    long_a = service_account_id("a" * 23 + "-" + "b" * 16, "nodes")
    long_b = service_account_id("a" * 23 + "-" + "b" * 15 + "c", "nodes")
    assert long_a != long_b
    for account in (a, b, long_a, long_b, service_account_id("x" * 40, "autoscaler")):
        assert re.fullmatch(r"[a-z][a-z0-9-]{4,28}[a-z0-9]", account), account
    # Deterministic: the same stack keeps its ids.
    assert service_account_id("osmo-prod-us-central1-a", "workflow") == a


def test_derived_names_are_checked_against_their_targets_rules() -> None:
    """Key ring ids: `[a-zA-Z0-9_-]{1,63}` (Cloud KMS keyRings.create); Compute Engine names:
    RFC 1035, at most 63 characters. Cluster names of up to 40 characters always fit, so the
    check is fed a longer one."""
    ok = Problems()
    derived_name_problems(ok, "p", "osmo-usc1")
    assert ok.lines == []
    problems_ = Problems()
    derived_name_problems(problems_, "p", "x" * 57)
    ring = "x" * 57 + "-gke-xxxxxx"
    assert problems_.lines == [
        f"p: gives the KMS key ring name {ring!r} (with its random suffix), which is not 1-63 "
        "letters, digits, '_' and '-'",
        f"p: gives the router name {'x' * 57 + '-router'!r}, which is not a Compute Engine name "
        "(a lowercase letter first, lowercase letters, digits and '-', at most 63 characters)",
    ]
    assert key_ring_name("osmo-usc1", "abc123") == "osmo-usc1-gke-abc123"


def test_initial_nodes_cover_the_minimum_across_zones() -> None:
    (operator, _compute) = spec(gke()).node_pools
    assert initial_nodes_per_zone(operator, 3) == 1
    assert initial_nodes_per_zone(operator, 1) == 1


def test_gpu_labels_turn_off_gkes_device_plugin_and_operator_values_follow_the_driver() -> None:
    cluster = spec(with_gpu(machineType="g2-standard-8"))
    assert node_labels(cluster.node_pools[1]) == {
        "node-type": "gpu",
        "osmo.nvidia.com/pool": "gpu",
        "nvidia.com/gpu": "present",
        "gke-no-default-nvidia-gpu-device-plugin": "true",
    }
    assert node_labels(cluster.node_pools[0]) == {
        "node-type": "operator",
        "osmo.nvidia.com/pool": "operator",
    }
    assert gpu_operator_values(cluster)["hostPaths"] == {
        "driverInstallDir": "/home/kubernetes/bin/nvidia"
    }


def test_gcp_labels_follow_gcps_rules_and_pools_pin_to_zones_of_the_region() -> None:
    # https://cloud.google.com/kubernetes-engine/docs/how-to/creating-managing-labels
    # (Requirements for cluster labels): keys start with a lowercase letter; lowercase letters,
    # digits, '_' and '-' only.
    assert problems(
        gke(
            tags={"Team": "x", "cost-center": "ML", "managed-by": "me"},
            nodePools=[
                OPERATOR,
                {
                    "name": "l4",
                    "role": "gpu",
                    "machineType": "g2-standard-8",
                    "zones": ["us-east1-b"],
                    "labels": {"cloud.google.com/gke-nodepool": "x"},
                },
            ],
        )
    ) == (
        f"{C}.nodePools[1].labels.cloud.google.com/gke-nodepool: is in the cloud.google.com "
        "domain, which Kubernetes or the cloud reserves for its own node labels",
        f"{C}.nodePools[1].zones[0]: 'us-east1-b' is not a zone of us-central1",
        f"{C}.tags.Team: 'Team': GCP label keys are 1-63 lowercase letters, digits, '_' and '-', "
        "starting with a lowercase letter",
        f"{C}.tags.cost-center: 'cost-center': GCP label values are up to 63 lowercase letters, "
        "digits, '_' and '-'",
        f"{C}.tags.managed-by: is set by this stack on every resource; it cannot be replaced",
    )
    cluster = spec(
        gke(
            tags={"cost-center": "ml-1234"},
            nodePools=[
                OPERATOR,
                {
                    "name": "l4",
                    "role": "gpu",
                    "machineType": "g2-standard-8",
                    "zones": ["us-central1-a", "us-central1-c"],
                    "minNodes": 3,
                    "maxNodes": 4,
                    "taints": [{"key": "team", "value": "vision", "effect": "NoSchedule"}],
                },
            ],
        )
    )
    l4 = cluster.node_pools[1]
    assert l4.zones == ("us-central1-a", "us-central1-c")
    # Two zones of its own: two nodes per zone meet the minimum of 3.
    assert initial_nodes_per_zone(l4, cluster.zone_count) == 2
    assert cluster.tags == {"cost-center": "ml-1234"}
