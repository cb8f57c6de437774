"""`osmo-backend:cluster` with kind aks: defaults, VM facts, kubeconfig conversion, and every
problem reported at once."""

from typing import Any

import pytest
import yaml

from components.clusters.aks.cluster import (
    AKS_AAD_SERVER_ID,
    authorized_ranges,
    gpu_operator_values,
    gpu_stack,
    kubelogin_kubeconfig,
    node_taints,
    pool_description,
)
from components.clusters.aks.config import (
    AksClusterSpec,
    insights_rule_name,
    is_gpu_size,
    key_vault_name,
    node_resource_group,
    retained_group_name,
    short_name,
    vm_family,
)
from components.clusters.base import pool_roles
from components.config import GpuStackSpec, load_spec
from tests.harness import REPO, config, encode
from tests.unit.test_config import problems

C = "osmo-backend:cluster"
OPERATOR = {"name": "operator", "role": "operator", "vmSize": "Standard_D4s_v3", "minCount": 1}


def aks(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    body = {"kind": "aks", "name": "osmo-eus", **cluster}
    values[C] = {k: v for k, v in body.items() if v is not None}
    values["azure-native:location"] = "eastus"
    return values


def with_gpu(**gpu: Any) -> dict[str, Any]:
    return aks(nodePools=[OPERATOR, {"name": "gpu", "role": "gpu", **gpu}])


def spec(values: dict[str, Any]) -> AksClusterSpec:
    cluster = load_spec(encode(values), base_dir=REPO).cluster
    assert isinstance(cluster, AksClusterSpec)
    return cluster


def test_defaults_are_private_entra_and_osmo_pools() -> None:
    cluster = spec(aks())
    assert (cluster.location, cluster.resource_group, cluster.create_resource_group) == (
        "eastus",
        "osmo-eus-rg",
        True,
    )
    assert (cluster.kubernetes_version, cluster.upgrade_channel, cluster.tier) == (
        "1.33",
        "stable",
        "Standard",
    )
    assert cluster.api_server.private is True
    assert cluster.api_server.ranges == ()
    net = cluster.network
    assert (net.vnet_cidr, net.node_subnet_cidr, net.pod_cidr, net.service_cidr) == (
        "10.224.0.0/16",
        "10.224.0.0/20",
        "10.244.0.0/16",
        "10.0.0.0/16",
    )
    assert net.dns_service_ip == "10.0.0.10"
    assert [(p.name, p.role, p.vm_size, p.min_count, p.max_count) for p in cluster.node_pools] == [
        ("operator", "operator", "Standard_D4s_v3", 1, 3),
        ("compute", "compute", "Standard_D8s_v3", 0, 10),
    ]
    assert cluster.kubeconfig_auth.login == "azurecli"
    assert cluster.deployer_principal_type == "User"


@pytest.mark.parametrize(
    ("size", "family", "gpu"),
    [
        ("Standard_ND96isr_H100_v5", "ND", True),
        ("Standard_NC24ads_A100_v4", "NC", True),
        ("Standard_NV36ads_A10_v5", "NV", True),
        ("Standard_D8s_v3", "D", False),
        ("Standard_E16ds_v5", "E", False),
    ],
)
def test_vm_families(size: str, family: str, gpu: bool) -> None:
    assert vm_family(size) == family
    assert is_gpu_size(size) is gpu


def test_every_problem_is_reported_at_once() -> None:
    assert problems(
        aks(
            name="OSMO_eus",
            location="East US",
            kubernetesVersion="1.28",
            upgradeChannel="nightly",
            zones=["4"],
            network={
                "serviceCidr": "10.0.0.0/16",
                "podCidr": "10.0.0.0/14",
                "dnsServiceIp": "10.0.0.1",
            },
            apiServer={"privateCluster": True, "authorizedIpRanges": ["203.0.113.0/24"]},
            adminGroupObjectIds=["admins"],
            nodePools=[
                {
                    "name": "operator",
                    "role": "operator",
                    "vmSize": "Standard_D4s_v3",
                    "minCount": 0,
                },
                {"name": "gpu-pool", "role": "gpu", "vmSize": "Standard_D8s_v3"},
            ],
        )
    ) == (
        f"{C}.name: 'OSMO_eus' is not an AKS cluster name for this project: lowercase letters, "
        "digits and '-', starting and ending with a letter or digit, at most 40",
        f"{C}.location: 'East US' is not an Azure location like eastus (or set "
        "azure-native:location)",
        f"{C}.kubernetesVersion: '1.28' is not supported; use 1.30 or later, quoted",
        f"{C}.upgradeChannel: 'nightly' is not one of: rapid, stable, patch, node-image",
        f"{C}.zones: must list availability zones from 1, 2, 3, got ['4']",
        f"{C}.network.serviceCidr: 10.0.0.0/16 overlaps podCidr 10.0.0.0/14",
        f"{C}.network.dnsServiceIp: 10.0.0.1 is reserved (the kubernetes Service takes the first "
        "address of 10.0.0.0/16); use another, e.g. 10.0.0.10",
        f"{C}.apiServer: privateCluster and authorizedIpRanges are mutually exclusive in AKS; keep "
        "one of them",
        f"{C}.adminGroupObjectIds: must be a list of Entra ID group object ids, got ['admins']",
        f"{C}.nodePools[0].minCount: the operator pool is AKS's system pool and needs at least 1 "
        "node",
        f"{C}.nodePools[1].name: 'gpu-pool' is not an AKS pool name: a lowercase letter, then "
        "lowercase letters and digits, at most 12 characters",
        f"{C}.nodePools[1].vmSize: Standard_D8s_v3 has no NVIDIA GPU; gpu pools need an N-series "
        "size (NC, ND, NV)",
    )


@pytest.mark.parametrize(
    ("network", "expected"),
    [
        (
            {"serviceCidr": "10.0.0.0/16", "dnsServiceIp": "10.1.0.10"},
            "network.dnsServiceIp: 10.1.0.10 is outside the service CIDR 10.0.0.0/16",
        ),
        (
            {"vnetCidr": "10.80.0.0/16", "nodeSubnetCidr": "10.81.0.0/20"},
            "network.nodeSubnetCidr: 10.81.0.0/20 is not inside the VNet 10.80.0.0/16",
        ),
        (
            {"vnetCidr": "10.244.0.0/16"},
            "network.podCidr: 10.244.0.0/16 overlaps vnetCidr 10.244.0.0/16",
        ),
        (
            {"subnetId": "/subscriptions/x/subnets/y"},
            "network.subnetId: '/subscriptions/x/subnets/y' is not a subnet resource id",
        ),
        (
            {"subnetId": "x", "vnetCidr": "10.80.0.0/16"},
            "network: set subnetId, or vnetCidr/nodeSubnetCidr, not both",
        ),
    ],
)
def test_network_mistakes(network: dict[str, Any], expected: str) -> None:
    assert f"{C}.{expected}" in problems(aks(network=network))


def test_api_server_access_must_be_chosen_and_opt_outs_are_logged() -> None:
    assert problems(aks(apiServer={"privateCluster": False})) == (
        f"{C}.apiServer.authorizedIpRanges: a public API server needs the networks allowed to "
        "reach it (or privateCluster: true)",
    )
    public = aks(apiServer={"authorizedIpRanges": ["0.0.0.0/0"], "allowPublicFromAnywhere": True})
    assert problems(public) == (
        f"{C}.apiServer.allowPublicFromAnywhere: opts out of a secure default; the second step is "
        "also required: list OSMO-AKS-001 under osmo-backend:policy.allow (README: Security "
        "checks)",
    )
    public["osmo-backend:policy"] = {"allow": ["OSMO-AKS-001"]}
    loaded = load_spec(encode(public), base_dir=REPO)
    assert isinstance(loaded.cluster, AksClusterSpec)
    assert loaded.cluster.api_server.private is False
    assert [n for n in loaded.notices if n.startswith(C)] == [
        f"{C}.apiServer.allowPublicFromAnywhere is set: the AKS API server accepts connections "
        "from any address (CIS AKS 5.4.1, Checkov CKV_AZURE_6)"
    ]
    private = load_spec(encode(aks()), base_dir=REPO)
    assert [n for n in private.notices if n.startswith(C)] == [
        f"{C}.apiServer: the API server is private; pulumi up must run inside the VNet (or a "
        "network peered with it)"
    ]


@pytest.mark.parametrize(
    ("pools", "expected"),
    [
        (
            [{**OPERATOR, "spot": True}],
            "nodePools[0].spot: AKS's system pool cannot use Spot VMs",
        ),
        (
            [OPERATOR, {**OPERATOR, "name": "second"}],
            "nodePools: needs exactly one operator pool (AKS's system pool, where KAI, the GPU "
            "Operator and OSMO's operator run); got 2",
        ),
        (
            [
                OPERATOR,
                {"name": "c", "role": "compute", "vmSize": "Standard_D8s_v3", "gpuDriver": "aks"},
            ],
            "nodePools[1].gpuDriver: only applies to gpu pools",
        ),
        (
            [
                OPERATOR,
                {"name": "a", "role": "gpu", "vmSize": "Standard_NC24ads_A100_v4"},
                {
                    "name": "b",
                    "role": "gpu",
                    "vmSize": "Standard_NC24ads_A100_v4",
                    "gpuDriver": "operator",
                },
            ],
            "nodePools: gpu pools disagree on gpuDriver (aks, operator); the GPU Operator's "
            "driver switch is cluster-wide, so every gpu pool needs the same one",
        ),
        (
            [
                OPERATOR,
                {
                    "name": "g",
                    "role": "gpu",
                    "vmSize": "Standard_NC6",
                    "minCount": 3,
                    "maxCount": 2,
                },
            ],
            "nodePools[1]: needs minCount <= maxCount, got 3 > 2",
        ),
    ],
)
def test_pool_mistakes(pools: list[dict[str, Any]], expected: str) -> None:
    assert f"{C}.{expected}" in problems(aks(nodePools=pools))


def test_operator_driver_needs_the_gpu_operator() -> None:
    values = with_gpu(vmSize="Standard_NC24ads_A100_v4", gpuDriver="operator")
    values["osmo-backend:operators"] = {"gpuOperator": {"enabled": False}}
    assert problems(values) == (
        "osmo-backend:operators.gpuOperator.enabled: AKS gpu pools with gpuDriver: operator get "
        "no driver from AKS; keep the GPU Operator on, or use gpuDriver: aks",
    )


def test_gpu_stack_profile_and_spot_tolerations() -> None:
    cluster = spec(with_gpu(vmSize="Standard_NC24ads_A100_v4", spot=True))
    assert gpu_stack(cluster) == GpuStackSpec(driver="host", toolkit="host")
    assert node_taints(cluster.node_pools[1]) == ["nvidia.com/gpu=present:NoSchedule"]
    assert node_taints(cluster.node_pools[0]) == []
    roles = pool_roles(pool_description(p) for p in cluster.node_pools)
    assert [t["key"] for t in roles["gpu"].tolerations] == [
        "nvidia.com/gpu",
        "kubernetes.azure.com/scalesetpriority",
    ]
    assert roles["operator"].tolerations == ()
    assert set(gpu_operator_values(cluster)) == {"daemonsets", "node-feature-discovery"}
    on_demand = spec(with_gpu(vmSize="Standard_NC24ads_A100_v4", gpuDriver="operator"))
    assert gpu_stack(on_demand) == GpuStackSpec(driver="operator", toolkit="operator")
    assert gpu_operator_values(on_demand) == {}


def test_the_kubeconfig_user_is_converted_for_kubelogin() -> None:
    raw = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "clusters": [{"name": "c", "cluster": {"server": "https://c:443"}}],
            "users": [
                {
                    "name": "u",
                    "user": {
                        "exec": {
                            "command": "kubelogin",
                            "args": ["get-token", "--login", "devicecode"],
                        }
                    },
                }
            ],
        }
    )
    converted = yaml.safe_load(kubelogin_kubeconfig(raw, "workloadidentity"))
    assert converted["clusters"] == [{"name": "c", "cluster": {"server": "https://c:443"}}]
    (user,) = converted["users"]
    assert user["user"]["exec"]["args"] == [
        "get-token",
        "--login",
        "workloadidentity",
        "--server-id",
        AKS_AAD_SERVER_ID,
    ]
    assert user["user"]["exec"]["apiVersion"] == "client.authentication.k8s.io/v1beta1"


@pytest.mark.parametrize(
    ("name", "vault"),
    [
        # Key Vault names: 3-24 letters, digits and '-', starting with a letter, ending with a
        # letter or digit, no consecutive hyphens (learn.microsoft.com/azure/azure-resource-manager/
        # management/resource-name-rules, Microsoft.KeyVault/vaults).
        ("1osmo", "1osmo-kms-aaaaaa"),
        ("osmo--eus", "osmo--eus-kms-aaaaaa"),
    ],
)
def test_a_cluster_name_that_gives_an_invalid_key_vault_name_is_refused(
    name: str, vault: str
) -> None:
    assert problems(aks(name=name)) == (
        f"{C}.name: {name!r} gives the Key Vault name {vault!r}, which Azure refuses (3-24 "
        "letters, digits and '-', starting with a letter, no '--'): start the name with a letter "
        "and use single hyphens",
    )


@pytest.mark.parametrize("name", ["osmo-eus", "o", "osmo-prod-eus-1-gpu-a", "osmo-eus-2-"[:-1]])
def test_derived_key_vault_names_are_valid(name: str) -> None:
    vault = key_vault_name(name, "0a1b2c")
    assert spec(aks(name=name)).name == name
    assert 3 <= len(vault) <= 24
    assert vault[0].isalpha()
    assert "--" not in vault
    assert vault[-1].isalnum()


def test_a_node_resource_group_over_80_characters_is_refused() -> None:
    # AKS: "The length of the node resource group name is too long. The maximum length is 80"
    # (MC_<group>_<cluster>_<location>; rancher/rancher#21264, Azure/telescope#1056).
    group = "platform-" + "x" * 61
    nodes = f"MC_{group}_osmo-eus_eastus"
    assert node_resource_group(group, "osmo-eus", "eastus") == nodes
    assert problems(aks(resourceGroup=group)) == (
        f"{C}.resourceGroup: AKS names the node resource group {nodes!r} ({len(nodes)} "
        "characters) and allows 80: shorten resourceGroup or name",
    )
    long_name = "osmo-" + "y" * 35
    derived = node_resource_group(f"{long_name}-rg", long_name, "australiasoutheast")
    assert problems(aks(name=long_name, location="australiasoutheast")) == (
        f"{C}.name: AKS names the node resource group {derived!r} ({len(derived)} "
        "characters) and allows 80: shorten resourceGroup or name",
    )


def test_names_in_a_shared_group_stay_unique_and_within_their_limits() -> None:
    assert short_name("osmo-eus", 64) == "osmo-eus"
    a = short_name("MSCI-australiasoutheast-osmo-prod-australia-southeast-cluster-a", 40)
    b = short_name("MSCI-australiasoutheast-osmo-prod-australia-southeast-cluster-b", 40)
    assert len(a) == len(b) == 40
    assert a != b
    assert a.startswith("MSCI-australiasoutheast-osmo-pr-")
    assert insights_rule_name("osmo-eus", "eastus") == "MSCI-eastus-osmo-eus"
    long_rule = insights_rule_name("o" * 40, "germanywestcentral")
    assert len(long_rule) == 64
    assert long_rule != insights_rule_name("o" * 39 + "p", "germanywestcentral")
    assert retained_group_name("osmo-eus-rg", "0a1b2c") == "osmo-eus-rg-keep-0a1b2c"
    kept = [retained_group_name(f"{'g' * 88}{end}", "0a1b2c") for end in "ab"]
    assert [len(k) for k in kept] == [90, 90]
    assert kept[0] != kept[1]
    assert all(k.endswith("-keep-0a1b2c") for k in kept)


def test_authorized_ranges_add_the_egress_ip_only_to_listed_ranges() -> None:
    assert authorized_ranges((), None) is None
    assert authorized_ranges(("203.0.113.0/24",), None) == ["203.0.113.0/24"]


def test_azure_tags_and_pool_zones_and_subnets_are_checked() -> None:
    # https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources
    # (Limitations): tag names without < > % & \ ? /; 128 characters on storage accounts.
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"
    )
    assert problems(
        aks(
            tags={"cost/center": "1", "50%": "2", "osmo-backend-cluster": "3"},
            nodePools=[
                OPERATOR,
                {
                    "name": "a100",
                    "role": "gpu",
                    "vmSize": "Standard_NC24ads_A100_v4",
                    "zones": ["4"],
                    "subnetId": subnet.format(vnet="v", subnet="gpu"),
                },
            ],
        )
    ) == (
        f"{C}.nodePools[1].zones: must list availability zones from 1, 2, 3, got ['4']",
        f"{C}.nodePools[1].subnetId: only applies with a network you bring (network.subnetId)",
        f"{C}.tags.50%: '50%': Azure tag names are 1-128 characters without < > % & \\ ? /",
        f"{C}.tags.cost/center: 'cost/center': Azure tag names are 1-128 characters without "
        "< > % & \\ ? /",
        f"{C}.tags.osmo-backend-cluster: is set by this stack on every resource; it cannot be "
        "replaced",
    )
    byo = aks(
        network={"subnetId": subnet.format(vnet="v", subnet="nodes")},
        nodePools=[
            OPERATOR,
            {
                "name": "a100",
                "role": "gpu",
                "vmSize": "Standard_NC24ads_A100_v4",
                "subnetId": subnet.format(vnet="other", subnet="gpu"),
            },
        ],
    )
    byo["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/16"]}}
    assert problems(byo) == (
        f"{C}.nodePools[1].subnetId: must be a subnet of the VNet of network.subnetId",
    )
