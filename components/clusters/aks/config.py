"""`osmo-backend:cluster` with `kind: aks`: resource group, network, API server access, Entra ID
and node pools with their GPU stack profile."""

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from components._validate import Problems, expect_mapping, missing, show, unknown_keys
from components.config._common import (
    PROJECT,
    PoolRow,
    Taint,
    api_cidrs,
    cloud_tags,
    flag,
    kubernetes_version,
    one_gpu_driver,
    pool_labels,
    pool_list,
    pool_taints,
    private_cidr,
    report_overlaps,
    section,
    unique_platforms,
    whole_number,
)
from components.config.cluster import ClusterContext
from components.config.operators import OperatorsSpec
from components.policy import AKS_ENDPOINT

NAME_MAX = 40
"""AKS allows 63; the name also prefixes the DNS prefix, identities and the Key Vault."""

UpgradeChannel = Literal["rapid", "stable", "patch", "node-image"]
UPGRADE_CHANNELS: tuple[UpgradeChannel, ...] = get_args(UpgradeChannel)
Tier = Literal["Free", "Standard", "Premium"]
TIERS: tuple[Tier, ...] = get_args(Tier)
GpuDriver = Literal["aks", "operator"]
GPU_DRIVERS: tuple[GpuDriver, ...] = get_args(GpuDriver)
"""aks: AKS installs the driver (and the node image has the container toolkit); operator: the
pool's GPU profile says `driver: None` and the GPU Operator installs both."""
PrincipalType = Literal["User", "ServicePrincipal"]
PRINCIPAL_TYPES: tuple[PrincipalType, ...] = get_args(PrincipalType)
KubeloginMode = Literal["azurecli", "workloadidentity", "msi", "spn"]
KUBELOGIN_MODES: tuple[KubeloginMode, ...] = get_args(KubeloginMode)

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_POOL = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_LOCATION = re.compile(r"^[a-z]+[a-z0-9]*$")
_VM_SIZE = re.compile(r"^Standard_([A-Z]+)[a-z]*\d+[A-Za-z0-9_-]*$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,89}[-\w_()]$")
_SUBNET_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/"
    r"Microsoft\.Network/virtualNetworks/[-\w._]+/subnets/[-\w._]+$"
)
_WORKSPACE_ID = re.compile(
    r"^/subscriptions/[0-9a-fA-F-]{36}/resourceGroups/[-\w._()]+/providers/"
    r"Microsoft\.OperationalInsights/workspaces/[-\w]+$",
    re.IGNORECASE,
)
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules
# (Microsoft.KeyVault/vaults): 3-24 letters, digits and '-', starting with a letter, ending with
# a letter or digit, no consecutive hyphens.
_KEY_VAULT = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")

SUFFIX_LENGTH = 6
"""The per-deployment suffix of names the cloud keeps after `pulumi destroy` (the Key Vault, whose
name purge protection holds for 90 days, and the group of retained resources)."""
RESOURCE_GROUP_MAX = 90
NODE_RESOURCE_GROUP_MAX = 80
"""AKS refuses a cluster whose node resource group `MC_<group>_<cluster>_<location>` is longer
("The length of the node resource group name is too long. The maximum length is 80")."""
DATA_COLLECTION_RULE_MAX = 64


def short_name(name: str, limit: int) -> str:
    """`name`, or, when longer than `limit`, its head and a short hash of the whole: still
    unique where several stacks share a scope (a resource group) and within the length limit."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: limit - len(digest) - 1].rstrip('-_.')}-{digest}"


def key_vault_name(cluster: str, suffix: str) -> str:
    """The KMS Key Vault's name: globally unique, so a per-deployment suffix."""
    return f"{cluster[:12].rstrip('-')}-kms-{suffix}"


def retained_group_name(group: str, suffix: str) -> str:
    """The resource group holding what outlives `pulumi destroy` next to a group the stack
    creates (and deletes, with everything in it): a per-deployment suffix, since a retained
    group of a fixed name would block the next deployment."""
    tail = f"-keep-{suffix}"
    return f"{short_name(group, RESOURCE_GROUP_MAX - len(tail))}{tail}"


def node_resource_group(group: str, cluster: str, location: str) -> str:
    """The resource group AKS creates for the nodes (its default name)."""
    return f"MC_{group}_{cluster}_{location}"


def insights_rule_name(cluster: str, location: str) -> str:
    """Container Insights' data collection rule, named as Azure's own onboarding names it
    (`MSCI-<location>-<cluster>`), length-safe in a shared resource group."""
    return short_name(f"MSCI-{location}-{cluster}", DATA_COLLECTION_RULE_MAX)


def vm_family(vm_size: str) -> str | None:
    """The family letters of an Azure VM size (`Standard_ND96isr_H100_v5` -> `ND`)."""
    match = _VM_SIZE.match(vm_size)
    return match.group(1) if match else None


def is_gpu_size(vm_size: str) -> bool:
    """N-series sizes (NC, ND, NV, ...) carry NVIDIA GPUs (NVads A10 included)."""
    family = vm_family(vm_size)
    return family is not None and family.startswith("N")


@dataclass(frozen=True)
class AksNodePoolSpec:
    name: str
    role: str
    vm_size: str
    min_count: int
    max_count: int
    spot: bool = False
    os_disk_size_gb: int = 128
    gpu_driver: GpuDriver | None = None
    """Who installs the NVIDIA driver on this pool (gpu pools only)."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    """Extra Kubernetes node labels (this stack's own cannot be replaced)."""
    taints: tuple[Taint, ...] = ()
    """Extra taints, next to the GPU taint of gpu pools (and AKS's own spot taint)."""
    zones: tuple[str, ...] = ()
    """Availability zones of this pool; empty: the cluster's `zones`."""
    subnet_id: str | None = None
    """A subnet of its own in the network you bring; None: the cluster's node subnet."""

    @property
    def system(self) -> bool:
        """The operator pool is AKS's system pool."""
        return self.role == "operator"


@dataclass(frozen=True)
class AksNetworkSpec:
    vnet_cidr: str | None = "10.224.0.0/16"
    node_subnet_cidr: str | None = "10.224.0.0/20"
    pod_cidr: str = "10.244.0.0/16"
    service_cidr: str = "10.0.0.0/16"
    dns_service_ip: str = "10.0.0.10"
    subnet_id: str | None = None

    @property
    def bring_your_own(self) -> bool:
        return self.subnet_id is not None


@dataclass(frozen=True)
class AksClusterSpec:
    kind: Literal["aks"]
    name: str
    location: str
    resource_group: str
    create_resource_group: bool
    kubernetes_version: str
    upgrade_channel: UpgradeChannel
    tier: Tier
    zones: tuple[str, ...]
    network: AksNetworkSpec
    private_cluster: bool
    authorized_ip_ranges: tuple[str, ...]
    admin_group_object_ids: tuple[str, ...]
    log_analytics_workspace_id: str | None
    """None: the stack creates a workspace for Container Insights."""
    node_pools: tuple[AksNodePoolSpec, ...]
    tags: Mapping[str, str] = field(default_factory=dict[str, str])
    """Cost-allocation tags on every Azure resource that takes tags (and the nodes' scale
    sets, through the pools' tags)."""
    kubelogin_mode: KubeloginMode = "azurecli"
    deployer_principal_type: PrincipalType = "User"
    """What runs `pulumi up` (Azure refuses a role assignment naming the wrong type)."""

    @property
    def dns_prefix(self) -> str:
        return self.name[:54].rstrip("-")

    @property
    def gpu_driver(self) -> GpuDriver | None:
        """The one driver owner of every GPU pool (validated to agree); None without GPU pools."""
        return next((p.gpu_driver for p in self.node_pools if p.gpu_driver), None)


DEFAULT_POOLS = (
    {
        "name": "operator",
        "role": "operator",
        "vmSize": "Standard_D4s_v3",
        "minCount": 1,
        "maxCount": 3,
    },
    {
        "name": "compute",
        "role": "compute",
        "vmSize": "Standard_D8s_v3",
        "minCount": 0,
        "maxCount": 10,
    },
)
"""OSMO's documented AKS defaults; GPU pools are per stack."""

_POOL_KEYS = (
    "name",
    "role",
    "vmSize",
    "minCount",
    "maxCount",
    "spot",
    "osDiskSizeGb",
    "gpuDriver",
    "labels",
    "taints",
    "zones",
    "subnetId",
)
AKS_KEYS = (
    "kind",
    "name",
    "location",
    "resourceGroup",
    "createResourceGroup",
    "kubernetesVersion",
    "upgradeChannel",
    "tier",
    "zones",
    "network",
    "apiServer",
    "adminGroupObjectIds",
    "logAnalyticsWorkspaceId",
    "nodePools",
    "kubeconfigAuth",
    "deployerPrincipalType",
    "tags",
)
_NETWORK_KEYS = (
    "vnetCidr",
    "nodeSubnetCidr",
    "podCidr",
    "serviceCidr",
    "dnsServiceIp",
    "subnetId",
)


def _network(problems: Problems, path: str, value: Any) -> AksNetworkSpec | None:
    body = section(problems, path, value, _NETWORK_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    defaults = AksNetworkSpec()
    subnet_id = body.get("subnetId")
    if subnet_id is not None:
        if "vnetCidr" in body or "nodeSubnetCidr" in body:
            problems.add(path, "set subnetId, or vnetCidr/nodeSubnetCidr, not both")
            return None
        if not isinstance(subnet_id, str) or not _SUBNET_ID.match(subnet_id):
            problems.add(f"{path}.subnetId", f"{show(subnet_id)} is not a subnet resource id")
        vnet, nodes = None, None
    else:
        vnet = private_cidr(
            problems, f"{path}.vnetCidr", body.get("vnetCidr", defaults.vnet_cidr), 8, 24
        )
        nodes = private_cidr(
            problems,
            f"{path}.nodeSubnetCidr",
            body.get("nodeSubnetCidr", defaults.node_subnet_cidr),
            8,
            28,
        )
        if (
            vnet
            and nodes
            and not ipaddress.IPv4Network(nodes).subnet_of(ipaddress.IPv4Network(vnet))
        ):
            problems.add(f"{path}.nodeSubnetCidr", f"{nodes} is not inside the VNet {vnet}")
    pods = private_cidr(problems, f"{path}.podCidr", body.get("podCidr", defaults.pod_cidr), 8, 24)
    services = private_cidr(
        problems, f"{path}.serviceCidr", body.get("serviceCidr", defaults.service_cidr), 8, 28
    )
    report_overlaps(problems, path, {"vnetCidr": vnet, "podCidr": pods, "serviceCidr": services})
    dns = body.get("dnsServiceIp", defaults.dns_service_ip)
    try:
        dns_ip = ipaddress.ip_address(str(dns))
    except ValueError:
        problems.add(f"{path}.dnsServiceIp", f"{show(dns)} is not an IPv4 address")
    else:
        if services is not None:
            service_net = ipaddress.ip_network(services)
            if dns_ip not in service_net:
                problems.add(
                    f"{path}.dnsServiceIp", f"{dns} is outside the service CIDR {services}"
                )
            elif dns_ip in (service_net.network_address, service_net.network_address + 1):
                problems.add(
                    f"{path}.dnsServiceIp",
                    f"{dns} is reserved (the kubernetes Service takes the first address of "
                    f"{services}); use another, e.g. {service_net.network_address + 10}",
                )
    if len(problems.lines) > before:
        return None
    return AksNetworkSpec(
        vnet_cidr=vnet,
        node_subnet_cidr=nodes,
        pod_cidr=str(pods),
        service_cidr=str(services),
        dns_service_ip=str(dns),
        subnet_id=cast(str | None, subnet_id),
    )


def _vnet_of(subnet_id: str) -> str:
    return subnet_id.lower().rpartition("/subnets/")[0]


def _pool_subnet(
    problems: Problems, path: str, value: Any, cluster_subnet: str | None, system: bool
) -> str | None:
    """A pool's own subnet: in the VNet of the cluster's subnet (a network you bring)."""
    if value is None:
        return None
    if cluster_subnet is None:
        problems.add(path, "only applies with a network you bring (network.subnetId)")
    elif system:
        problems.add(path, "the operator (system) pool uses network.subnetId")
    elif not isinstance(value, str) or not _SUBNET_ID.match(value):
        problems.add(path, f"{show(value)} is not a subnet resource id")
    elif _vnet_of(value) != _vnet_of(cluster_subnet):
        problems.add(path, "must be a subnet of the VNet of network.subnetId")
    else:
        return value
    return None


def _pool(
    problems: Problems,
    where: str,
    item: Any,
    notices: list[str],
    *,
    system: bool = True,
    cluster_subnet: str | None = None,
) -> AksNodePoolSpec | None:
    """One pool; `system` is False for an operator pool past the first (already reported), whose
    system-pool rules would only mislead."""
    body = expect_mapping(problems, where, item)
    if body is None:
        return None
    unknown_keys(problems, where, body, _POOL_KEYS)
    before = len(problems.lines)
    name = body.get("name")
    if missing(problems, f"{where}.name", name):
        pass
    elif not isinstance(name, str) or not _POOL.match(name):
        problems.add(
            f"{where}.name",
            f"{show(name)} is not an AKS pool name: a lowercase letter, then lowercase letters "
            "and digits, at most 12 characters",
        )
    role = body.get("role")
    if missing(problems, f"{where}.role", role):
        pass
    elif role not in ("operator", "compute", "gpu"):
        problems.add(f"{where}.role", f"{show(role)} is not one of: operator, compute, gpu")
    size = body.get("vmSize")
    if missing(problems, f"{where}.vmSize", size):
        pass
    elif not isinstance(size, str) or vm_family(size) is None:
        problems.add(f"{where}.vmSize", f"{show(size)} is not a VM size like Standard_D8s_v3")
    elif role == "gpu" and not is_gpu_size(size):
        problems.add(
            f"{where}.vmSize",
            f"{size} has no NVIDIA GPU; gpu pools need an N-series size (NC, ND, NV)",
        )
    elif role in ("operator", "compute") and is_gpu_size(size):
        notices.append(
            f"{where}.vmSize: {size} is a GPU size in a {role} pool; it gets no GPU taint, so any "
            "pod may land on it"
        )
    low = whole_number(problems, f"{where}.minCount", body.get("minCount", 0), 0, 1000)
    high = whole_number(problems, f"{where}.maxCount", body.get("maxCount", 1), 1, 1000)
    if low is not None and high is not None and low > high:
        problems.add(where, f"needs minCount <= maxCount, got {low} > {high}")
    if role == "operator" and system and low is not None and low < 1:
        problems.add(
            f"{where}.minCount",
            "the operator pool is AKS's system pool and needs at least 1 node",
        )
    spot = flag(problems, f"{where}.spot", body.get("spot", False))
    if role == "operator" and system and spot:
        problems.add(f"{where}.spot", "AKS's system pool cannot use Spot VMs")
    default_disk = 256 if role == "gpu" else 128
    disk = whole_number(
        problems, f"{where}.osDiskSizeGb", body.get("osDiskSizeGb", default_disk), 30, 2048
    )
    driver = body.get("gpuDriver")
    if role != "gpu":
        if driver is not None:
            problems.add(f"{where}.gpuDriver", "only applies to gpu pools")
        driver = None
    else:
        driver = driver if driver is not None else "aks"
        if driver not in GPU_DRIVERS:
            problems.add(
                f"{where}.gpuDriver",
                f"{show(driver)} is not one of: aks (AKS installs the driver), operator (the GPU "
                "Operator does)",
            )
    labels = pool_labels(problems, f"{where}.labels", body.get("labels"))
    taints = pool_taints(problems, f"{where}.taints", body.get("taints"), role)
    zones = _zones(problems, f"{where}.zones", body.get("zones"))
    subnet = _pool_subnet(
        problems,
        f"{where}.subnetId",
        body.get("subnetId"),
        cluster_subnet,
        system=role == "operator",
    )
    if len(problems.lines) > before:
        return None
    return AksNodePoolSpec(
        name=str(name),
        role=str(role),
        vm_size=str(size),
        min_count=int(low or 0),
        max_count=int(high or 1),
        spot=bool(spot),
        os_disk_size_gb=int(disk or default_disk),
        gpu_driver=cast(GpuDriver | None, driver),
        labels=labels or {},
        taints=taints or (),
        zones=zones,
        subnet_id=subnet,
    )


def _pools(
    problems: Problems, path: str, value: Any, notices: list[str], cluster_subnet: str | None
) -> tuple[AksNodePoolSpec, ...] | None:
    # Counted before the pools are parsed, so a second operator pool is reported as that, first,
    # and not by the system-pool rules it would then break.
    raw = cast(list[Any], value) if isinstance(value, list) else []
    operators = [item for item in raw if isinstance(item, dict) and item.get("role") == "operator"]
    if raw and len(operators) != 1:
        problems.add(
            path,
            f"needs exactly one operator pool (AKS's system pool, where KAI, the GPU Operator and "
            f"OSMO's operator run); got {len(operators)}",
        )
    pools = pool_list(
        problems,
        path,
        value,
        DEFAULT_POOLS,
        lambda where, item: _pool(
            problems,
            where,
            item,
            notices,
            system=not operators or item is operators[0],
            cluster_subnet=cluster_subnet,
        ),
    )
    if pools is None or (raw and len(operators) != 1):
        return None
    if not one_gpu_driver(problems, path, pools, "driver switch is") or not unique_platforms(
        problems, path, pools
    ):
        return None
    return tuple(pools)


def _api_server(
    problems: Problems, path: str, value: Any, notices: list[str]
) -> tuple[bool, tuple[str, ...]]:
    body = section(
        problems, path, value, ("privateCluster", "authorizedIpRanges", "allowPublicFromAnywhere")
    )
    if body is None:
        return True, ()
    ranges = api_cidrs(
        problems,
        path,
        body,
        "authorizedIpRanges",
        notices=notices,
        anywhere_notice="the AKS API server accepts connections from any address (CIS AKS "
        "5.4.1, Checkov CKV_AZURE_6)",
        check_id=AKS_ENDPOINT.id,
    )
    private = flag(problems, f"{path}.privateCluster", body.get("privateCluster", not ranges))
    if private and ranges:
        problems.add(
            path,
            "privateCluster and authorizedIpRanges are mutually exclusive in AKS; keep one of them",
        )
    elif private is False and not ranges:
        problems.add(
            f"{path}.authorizedIpRanges",
            "a public API server needs the networks allowed to reach it (or privateCluster: true)",
        )
    if private and not ranges:
        notices.append(
            f"{path}: the API server is private; pulumi up must run inside the VNet (or a "
            "network peered with it)"
        )
    return bool(private), ranges


def _zones(problems: Problems, path: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = cast(list[Any], value) if isinstance(value, list) else None
    if items is None or not items or any(str(z) not in ("1", "2", "3") for z in items):
        problems.add(path, f"must list availability zones from 1, 2, 3, got {show(value)}")
        return ()
    return tuple(sorted({str(z) for z in items}))


def _guids(problems: Problems, path: str, value: Any) -> tuple[str, ...]:
    raw = value if value is not None else []
    if not isinstance(raw, list) or any(
        not isinstance(g, str) or not _GUID.match(g) for g in cast(list[Any], raw)
    ):
        problems.add(path, f"must be a list of Entra ID group object ids, got {show(raw)}")
        return ()
    return tuple(cast(list[str], raw))


def _derived_names(
    problems: Problems, path: str, name: Any, group: Any, location: Any, *, group_given: bool
) -> None:
    """Names the stack derives from the cluster's must meet their own resources' rules."""
    if not isinstance(name, str):
        return
    vault = key_vault_name(name, "a" * SUFFIX_LENGTH)
    if not _KEY_VAULT.match(vault):
        problems.add(
            f"{path}.name",
            f"{name!r} gives the Key Vault name {vault!r}, which Azure refuses (3-24 letters, "
            "digits and '-', starting with a letter, no '--'): start the name with a letter "
            "and use single hyphens",
        )
    if (
        isinstance(group, str)
        and _RESOURCE_GROUP.match(group)
        and isinstance(location, str)
        and _LOCATION.match(location)
    ):
        nodes = node_resource_group(group, name, location)
        if len(nodes) > NODE_RESOURCE_GROUP_MAX:
            problems.add(
                f"{path}.{'resourceGroup' if group_given else 'name'}",
                f"AKS names the node resource group {nodes!r} ({len(nodes)} characters) and "
                f"allows {NODE_RESOURCE_GROUP_MAX}: shorten resourceGroup or name",
            )


def parse_aks(
    problems: Problems,
    body: dict[str, Any],
    *,
    azure_location: str | None,
    notices: list[str],
) -> AksClusterSpec | None:
    path = f"{PROJECT}:cluster"
    unknown_keys(problems, path, body, AKS_KEYS)
    before = len(problems.lines)
    name = body.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > NAME_MAX:
        problems.add(
            f"{path}.name",
            f"{show(name)} is not an AKS cluster name for this project: lowercase letters, "
            f"digits and '-', starting and ending with a letter or digit, at most {NAME_MAX}",
        )
        name = None
    location = body.get("location", azure_location)
    if not isinstance(location, str) or not _LOCATION.match(location):
        problems.add(
            f"{path}.location",
            f"{show(location)} is not an Azure location like eastus (or set azure-native:location)",
        )
    group = body.get("resourceGroup", f"{name}-rg" if name else None)
    if group is not None and (not isinstance(group, str) or not _RESOURCE_GROUP.match(group)):
        problems.add(f"{path}.resourceGroup", f"{show(group)} is not a resource group name")
    create_group = flag(
        problems, f"{path}.createResourceGroup", body.get("createResourceGroup", True)
    )
    _derived_names(problems, path, name, group, location, group_given="resourceGroup" in body)
    version = kubernetes_version(
        problems, f"{path}.kubernetesVersion", body.get("kubernetesVersion")
    )
    channel = body.get("upgradeChannel", "stable")
    if channel not in UPGRADE_CHANNELS:
        problems.add(
            f"{path}.upgradeChannel",
            f"{show(channel)} is not one of: {', '.join(UPGRADE_CHANNELS)}",
        )
    tier = body.get("tier", "Standard")
    if tier not in TIERS:
        problems.add(f"{path}.tier", f"{show(tier)} is not one of: {', '.join(TIERS)}")
    zones = _zones(problems, f"{path}.zones", body.get("zones"))
    network = _network(problems, f"{path}.network", body.get("network"))
    private, ranges = _api_server(problems, f"{path}.apiServer", body.get("apiServer"), notices)
    admins = _guids(problems, f"{path}.adminGroupObjectIds", body.get("adminGroupObjectIds"))
    workspace = body.get("logAnalyticsWorkspaceId")
    if workspace is not None and (
        not isinstance(workspace, str) or not _WORKSPACE_ID.match(workspace)
    ):
        problems.add(
            f"{path}.logAnalyticsWorkspaceId",
            f"{show(workspace)} is not a Log Analytics workspace resource id",
        )
    auth = section(problems, f"{path}.kubeconfigAuth", body.get("kubeconfigAuth"), ("login",))
    login = (auth or {}).get("login", "azurecli")
    if login not in KUBELOGIN_MODES:
        problems.add(
            f"{path}.kubeconfigAuth.login",
            f"{show(login)} is not one of: {', '.join(KUBELOGIN_MODES)} (kubelogin login modes)",
        )
    deployer = body.get("deployerPrincipalType", "User")
    if deployer not in PRINCIPAL_TYPES:
        problems.add(
            f"{path}.deployerPrincipalType",
            f"{show(deployer)} is not one of: {', '.join(PRINCIPAL_TYPES)} (what runs pulumi up)",
        )
    pools = _pools(
        problems,
        f"{path}.nodePools",
        body.get("nodePools"),
        notices,
        network.subnet_id if network is not None else None,
    )
    tags = cloud_tags(problems, f"{path}.tags", body.get("tags"), "azure")
    if len(problems.lines) > before or network is None or pools is None:
        return None
    return AksClusterSpec(
        kind="aks",
        name=str(name),
        location=str(location),
        resource_group=str(group),
        create_resource_group=create_group is not False,
        kubernetes_version=version,
        upgrade_channel=cast(UpgradeChannel, channel),
        tier=cast(Tier, tier),
        zones=zones,
        network=network,
        private_cluster=private,
        authorized_ip_ranges=ranges,
        admin_group_object_ids=admins,
        log_analytics_workspace_id=cast(str | None, workspace),
        node_pools=pools,
        tags=tags or {},
        kubelogin_mode=cast(KubeloginMode, login),
        deployer_principal_type=cast(PrincipalType, deployer),
    )


# The registry's entry points (components.clusters.registry).


def parse(
    problems: Problems, body: Mapping[str, Any], ctx: ClusterContext
) -> AksClusterSpec | None:
    return parse_aks(problems, dict(body), azure_location=ctx.azure_location, notices=ctx.notices)


def knows_cidrs(spec: AksClusterSpec) -> bool:
    """The stack creates the network, so it knows its ranges (unless it brings its own)."""
    return not spec.network.bring_your_own


def pool_min_nodes(pool: AksNodePoolSpec) -> int:
    return pool.min_count


def pool_rows(spec: AksClusterSpec) -> list[PoolRow]:
    """Name, role, machine type, node counts, GPUs per node, capacity type and extra taints of
    each pool (`osmo-backend plan`'s node pool table)."""
    return [
        (
            p.name,
            p.role,
            p.vm_size,
            f"{p.min_count}-{p.max_count}",
            "by VM size" if p.role == "gpu" else "0",
            "spot" if p.spot else "on-demand",
            p.taints,
        )
        for p in spec.node_pools
    ]


def check_operators(problems: Problems, spec: AksClusterSpec, operators: OperatorsSpec) -> None:
    if spec.gpu_driver == "operator" and operators.gpu_operator is None:
        problems.add(
            f"{PROJECT}:operators.gpuOperator.enabled",
            "AKS gpu pools with gpuDriver: operator get no driver from AKS; keep the GPU "
            "Operator on, or use gpuDriver: aks",
        )
