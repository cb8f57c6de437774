"""`osmo-backend:cluster` with `kind: aks`: resource group, network, API server access, Entra ID
and node pools with their GPU stack profile."""

import hashlib
import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, cast, get_args

from pydantic import (
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from components._validate import Problems, show
from components.config._model import (
    PROJECT,
    Check,
    Flag,
    Model,
    Reasons,
    Section,
    ctx,
    fail,
    like,
    mapping,
    one_of,
    whole,
)
from components.config._rules import (
    CidrList,
    KubernetesVersion,
    Pool,
    PoolList,
    PoolRole,
    PoolRow,
    api_networks,
    cloud_tags,
    default_pools,
    overlaps,
    private_cidr,
)
from components.config.operators import OperatorsSpec
from components.policy import AKS_ENDPOINT

NAME_MAX = 40
"""AKS allows 63; the name also prefixes the DNS prefix, identities and the Key Vault."""

UpgradeChannel = Literal["rapid", "stable", "patch", "node-image"]
Tier = Literal["Free", "Standard", "Premium"]
GpuDriver = Literal["aks", "operator"]
GPU_DRIVERS: tuple[GpuDriver, ...] = get_args(GpuDriver)
"""aks: AKS installs the driver (and the node image has the container toolkit); operator: the
pool's GPU profile says `driver: None` and the GPU Operator installs both."""
PrincipalType = Literal["User", "ServicePrincipal"]
KubeloginMode = Literal["azurecli", "workloadidentity", "msi", "spn"]

_NAME = re.compile(rf"^[a-z0-9]([a-z0-9-]{{0,{NAME_MAX - 2}}}[a-z0-9])?$")
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


# Field checks: `<value> is not <what>` for anything else (a non-string too).


def _cluster_name(value: Any) -> str:
    name = like(
        _NAME,
        "an AKS cluster name for this project: lowercase letters, digits and '-', starting and "
        f"ending with a letter or digit, at most {NAME_MAX}",
    ).check(value)
    vault = key_vault_name(name, "a" * SUFFIX_LENGTH)
    if not _KEY_VAULT.match(vault):
        raise fail(
            f"{name!r} gives the Key Vault name {vault!r}, which Azure refuses (3-24 letters, "
            "digits and '-', starting with a letter, no '--'): start the name with a letter and "
            "use single hyphens"
        )
    return name


def _zones(value: Any) -> tuple[str, ...]:
    items = cast(list[Any], value) if isinstance(value, list) else None
    if not items or any(str(z) not in ("1", "2", "3") for z in items):
        raise fail(f"must list availability zones from 1, 2, 3, got {show(value)}")
    return tuple(sorted({str(z) for z in items}))


def _guids(value: Any) -> tuple[str, ...]:
    items = cast(list[Any], value) if isinstance(value, list) else None
    if items is None or any(not isinstance(g, str) or not _GUID.match(g) for g in items):
        raise fail(f"must be a list of Entra ID group object ids, got {show(value)}")
    return tuple(items)


def _ip(value: Any) -> str:
    try:
        ipaddress.ip_address(str(value))
    except ValueError:
        raise fail(f"{show(value)} is not an IPv4 address") from None
    return str(value)


Zones = Annotated[tuple[str, ...], Check(_zones)]


def _given(data: Any) -> dict[str, Any]:
    """An object's keys that are set (null means the default)."""
    return {k: v for k, v in cast(Mapping[str, Any], mapping(data)).items() if v is not None}


def _derived() -> Any:
    """A default a field validator works out from other keys (validated)."""
    return Field(None, validate_default=True)


class AksNodePoolSpec(Pool):
    """An agent pool; the operator pool is AKS's system pool."""

    name: Annotated[
        str,
        like(
            _POOL,
            "an AKS pool name: a lowercase letter, then lowercase letters and digits, at most 12 "
            "characters",
        ),
    ]
    """Pool name (lowercase letters and digits, a letter first, <= 12)."""
    role: Annotated[PoolRole, one_of(PoolRole)]
    """OSMO node role (operator: AKS's system pool)."""
    zones: Zones = ()
    """Availability zones of this pool (1, 2, 3). Default: the cluster's."""
    vm_size: Annotated[str, like(_VM_SIZE, "a VM size like Standard_D8s_v3")]
    """VM size; gpu pools need an N-series size (NC, ND, NV)."""
    min_count: Annotated[int, whole(0, 1000)] = 0
    """Minimum nodes (the operator pool: at least 1)."""
    max_count: Annotated[int, whole(1, 1000)] = 1
    """Maximum nodes."""
    spot: Flag = False
    """Spot priority (eviction: Delete); not for the operator pool."""
    os_disk_size_gb: Annotated[int, whole(30, 2048)] = _derived()
    """OS disk size. Default: 128 (gpu pools 256)."""
    gpu_driver: GpuDriver | None = _derived()
    """gpu pools: who installs the NVIDIA driver (aks: AKS; operator: the GPU Operator, the
    pool's GPU profile says driver None). Default: aks."""
    subnet_id: Annotated[str, Check(str, (("pattern", _SUBNET_ID.pattern),))] | None = None
    """A network you bring: a subnet of its VNet for this pool (checked by the cluster)."""

    @property
    def system(self) -> bool:
        """The operator pool is AKS's system pool."""
        return self.role == "operator"

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _given(data)

    @field_validator("vm_size")
    @classmethod
    def _gpu_size(cls, size: str, info: ValidationInfo) -> str:
        if info.data.get("role") == "gpu" and not is_gpu_size(size):
            raise fail(f"{size} has no NVIDIA GPU; gpu pools need an N-series size (NC, ND, NV)")
        return size

    @field_validator("os_disk_size_gb", mode="before")
    @classmethod
    def _disk(cls, value: Any, info: ValidationInfo) -> Any:
        return value if value is not None else 256 if info.data.get("role") == "gpu" else 128

    @field_validator("gpu_driver", mode="before")
    @classmethod
    def _driver(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("role") != "gpu":
            if value is not None:
                raise fail("only applies to gpu pools")
            return None
        if value is None or value in GPU_DRIVERS:
            return value or "aks"
        raise fail(
            f"{show(value)} is not one of: aks (AKS installs the driver), operator (the GPU "
            "Operator does)"
        )

    @model_validator(mode="after")
    def _counts(self) -> Self:
        if self.min_count > self.max_count:
            raise fail(f"needs minCount <= maxCount, got {self.min_count} > {self.max_count}")
        return self


class AksNetworkSpec(Model):
    """The network this stack creates (a VNet and its node subnet), or a subnet you bring, and
    the overlay's ranges."""

    subnet_id: Annotated[str, like(_SUBNET_ID, "a subnet resource id")] | None = None
    """An existing subnet's resource id instead of a VNet."""
    vnet_cidr: Annotated[str, private_cidr(8, 24)] | None = "10.224.0.0/16"
    """VNet this stack creates."""
    node_subnet_cidr: Annotated[str, private_cidr(8, 28)] | None = "10.224.0.0/20"
    """Node subnet inside it."""
    pod_cidr: Annotated[str, private_cidr(8, 24)] = "10.244.0.0/16"
    """Overlay pod range."""
    service_cidr: Annotated[str, private_cidr(8, 28)] = "10.0.0.0/16"
    """Service range."""
    dns_service_ip: Annotated[str, Check(_ip)] = "10.0.0.10"
    """Cluster DNS address."""

    @property
    def bring_your_own(self) -> bool:
        return self.subnet_id is not None

    @model_validator(mode="before")
    @classmethod
    def _own_or_brought(cls, data: Any) -> Any:
        body = _given(data)
        if "subnetId" not in body:
            return body
        if "vnetCidr" in body or "nodeSubnetCidr" in body:
            raise fail("set subnetId, or vnetCidr/nodeSubnetCidr, not both")
        return {**body, "vnetCidr": None, "nodeSubnetCidr": None}

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        reasons = Reasons()
        vnet, nodes = self.vnet_cidr, self.node_subnet_cidr
        if (
            vnet
            and nodes
            and not ipaddress.IPv4Network(nodes).subnet_of(ipaddress.IPv4Network(vnet))
        ):
            reasons.add("nodeSubnetCidr", f"{nodes} is not inside the VNet {vnet}")
        overlaps(
            reasons, {"vnetCidr": vnet, "podCidr": self.pod_cidr, "serviceCidr": self.service_cidr}
        )
        dns, services = (
            ipaddress.ip_address(self.dns_service_ip),
            ipaddress.ip_network(self.service_cidr),
        )
        if dns not in services:
            reasons.add(
                "dnsServiceIp", f"{self.dns_service_ip} is outside the service CIDR {services}"
            )
        elif dns in (services.network_address, services.network_address + 1):
            reasons.add(
                "dnsServiceIp",
                f"{self.dns_service_ip} is reserved (the kubernetes Service takes the first "
                f"address of {services}); use another, e.g. {services.network_address + 10}",
            )
        reasons.check()
        return self


class AksApiServer(Model):
    """Who reaches the API server: a private one (inside the VNet), or listed networks."""

    private_cluster: Flag | None = None
    """Private API server. Default: true unless authorizedIpRanges are set."""
    authorized_ip_ranges: CidrList = ()
    """Networks that reach the public API server."""
    allow_public_from_anywhere: Flag = False
    """Explicit opt-out: allow 0.0.0.0/0 in authorizedIpRanges."""
    _private: bool = PrivateAttr(True)
    _ranges: tuple[str, ...] = PrivateAttr(())

    @property
    def private(self) -> bool:
        return self._private

    @property
    def ranges(self) -> tuple[str, ...]:
        """The networks allowed (0.0.0.0/0 with the opt-out)."""
        return self._ranges

    @model_validator(mode="after")
    def _access(self, info: ValidationInfo) -> Self:
        path, reasons, context = f"{PROJECT}:cluster.apiServer", Reasons(), ctx(info)
        ranges = api_networks(
            context,
            reasons,
            path,
            key="authorizedIpRanges",
            cidrs=self.authorized_ip_ranges,
            anywhere=self.allow_public_from_anywhere,
            anywhere_notice="the AKS API server accepts connections from any address (CIS AKS "
            "5.4.1, Checkov CKV_AZURE_6)",
            check_id=AKS_ENDPOINT.id,
        )
        private = self.private_cluster if self.private_cluster is not None else not ranges
        if private and ranges:
            reasons.add(
                "",
                "privateCluster and authorizedIpRanges are mutually exclusive in AKS; keep one "
                "of them",
            )
        elif not private and not ranges:
            reasons.add(
                "authorizedIpRanges",
                "a public API server needs the networks allowed to reach it (or privateCluster: "
                "true)",
            )
        if private and not ranges:
            context.notices.append(
                f"{path}: the API server is private; pulumi up must run inside the VNet (or a "
                "network peered with it)"
            )
        reasons.check()
        self._private, self._ranges = private, ranges
        return self


class AksKubeconfigAuth(Model):
    """How the kubelogin kubeconfig authenticates. Default: the Azure CLI's login."""

    login: Annotated[KubeloginMode, one_of(KubeloginMode, " (kubelogin login modes)")] = "azurecli"
    """kubelogin login mode."""


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


class AksClusterSpec(Model):
    """Create an AKS cluster for OSMO."""

    kind: Literal["aks"]
    """Create an AKS cluster."""
    name: Annotated[str, Check(_cluster_name, (("pattern", _NAME.pattern),))]
    """AKS cluster name (lowercase letters, digits, '-', <= 40)."""
    location: Annotated[
        str, like(_LOCATION, "an Azure location like eastus (or set azure-native:location)")
    ] = _derived()
    """Azure location. Default: azure-native:location."""
    resource_group: str = _derived()
    """Resource group. Default: <name>-rg."""
    create_resource_group: Flag = True
    """Create the resource group (false: it exists)."""
    kubernetes_version: KubernetesVersion = "1.33"
    """Kubernetes minor version, quoted."""
    upgrade_channel: Annotated[UpgradeChannel, one_of(UpgradeChannel)] = "stable"
    """Automatic upgrade channel."""
    tier: Annotated[Tier, one_of(Tier)] = "Standard"
    """AKS pricing tier."""
    zones: Zones = ()
    """Availability zones for every pool (1, 2, 3). Default: none."""
    network: Annotated[AksNetworkSpec, Section] = Field(default_factory=AksNetworkSpec)
    """The VNet this stack creates, or a subnet you bring."""
    api_server: Annotated[AksApiServer, Section] = _derived()
    """API server access. Default: private."""
    admin_group_object_ids: Annotated[tuple[str, ...], Check(_guids)] = ()
    """Entra ID groups given cluster-admin."""
    log_analytics_workspace_id: (
        Annotated[str, like(_WORKSPACE_ID, "a Log Analytics workspace resource id")] | None
    ) = None
    """Existing Log Analytics workspace for Container Insights. Default: one is created."""
    kubeconfig_auth: Annotated[AksKubeconfigAuth, Section] = Field(
        default_factory=AksKubeconfigAuth
    )
    """How the kubelogin kubeconfig authenticates. Default: the Azure CLI's login."""
    deployer_principal_type: Annotated[
        PrincipalType, one_of(PrincipalType, " (what runs pulumi up)")
    ] = "User"
    """What runs pulumi up (it is assigned AKS RBAC Cluster Admin)."""
    node_pools: Annotated[
        tuple[AksNodePoolSpec, ...], PoolList(DEFAULT_POOLS, "driver switch is")
    ] = Field(default_factory=default_pools(AksNodePoolSpec, DEFAULT_POOLS))
    """Node pools. Default: an operator (system) and a compute pool."""
    tags: Annotated[dict[str, str], cloud_tags("azure")] = Field(default_factory=dict[str, str])
    """Azure tags on every resource that takes tags, also on the nodes' scale sets."""

    @property
    def dns_prefix(self) -> str:
        return self.name[:54].rstrip("-")

    @property
    def gpu_driver(self) -> GpuDriver | None:
        """The one driver owner of every GPU pool (validated to agree); None without GPU pools."""
        return next((p.gpu_driver for p in self.node_pools if p.gpu_driver), None)

    @model_validator(mode="before")
    @classmethod
    def _nulls(cls, data: Any) -> Any:
        return _given(data)

    @field_validator("location", mode="before")
    @classmethod
    def _location(cls, value: Any, info: ValidationInfo) -> Any:
        return value if value is not None else ctx(info).provider("azure-native:location")

    @field_validator("resource_group", mode="before")
    @classmethod
    def _group(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return f"{info.data['name']}-rg" if "name" in info.data else ""
        if isinstance(value, str) and _RESOURCE_GROUP.match(value):
            return value
        raise fail(f"{show(value)} is not a resource group name")

    @field_validator("node_pools", mode="wrap")
    @classmethod
    def _system_pool(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Any:
        """Rules that need a pool's place in the list or the cluster's network, reported with
        the pools' own problems: one operator pool, which is AKS's system pool; pool subnets in
        the VNet of the network you bring. GPU sizes in other pools are a notice."""
        raw = cast(list[Any], value) if isinstance(value, list) else []
        items = [cast(Mapping[str, Any], p) if isinstance(p, Mapping) else {} for p in raw]
        operators = [i for i, p in enumerate(items) if p.get("role") == "operator"]
        reasons = Reasons()
        if items and len(operators) != 1:
            reasons.add(
                "",
                "needs exactly one operator pool (AKS's system pool, where KAI, the GPU Operator "
                f"and OSMO's operator run); got {len(operators)}",
            )
        if operators:
            system = items[operators[0]]
            low = system.get("minCount")
            if low in (None, 0) and low is not False:
                reasons.add(
                    (operators[0], "minCount"),
                    "the operator pool is AKS's system pool and needs at least 1 node",
                )
            if system.get("spot") is True:
                reasons.add((operators[0], "spot"), "AKS's system pool cannot use Spot VMs")
        network = info.data.get("network")
        brought = network.subnet_id if isinstance(network, AksNetworkSpec) else None
        for index, pool in enumerate(items):
            subnet = pool.get("subnetId")
            if subnet is None:
                continue
            if brought is None:
                reason = "only applies with a network you bring (network.subnetId)"
            elif pool.get("role") == "operator":
                reason = "the operator (system) pool uses network.subnetId"
            elif not isinstance(subnet, str) or not _SUBNET_ID.match(subnet):
                reason = f"{show(subnet)} is not a subnet resource id"
            elif (
                subnet.lower().rpartition("/subnets/")[0]
                != brought.lower().rpartition("/subnets/")[0]
            ):
                reason = "must be a subnet of the VNet of network.subnetId"
            else:
                continue
            reasons.add((index, "subnetId"), reason)
        try:
            pools: tuple[AksNodePoolSpec, ...] = handler(value)
        except ValidationError as err:
            # The list's own rules (an operator pool, one GPU driver) assume one operator pool.
            reasons.absorb(err, lambda e: bool(e["loc"]) or len(operators) == 1)
            reasons.check()
            raise
        reasons.check()
        for index, pool in enumerate(pools):
            if pool.role != "gpu" and is_gpu_size(pool.vm_size):
                ctx(info).notices.append(
                    f"{PROJECT}:cluster.nodePools[{index}].vmSize: {pool.vm_size} is a GPU size "
                    f"in a {pool.role} pool; it gets no GPU taint, so any pod may land on it"
                )
        return pools

    @model_validator(mode="after")
    def _node_resource_group(self) -> Self:
        nodes = node_resource_group(self.resource_group, self.name, self.location)
        if len(nodes) > NODE_RESOURCE_GROUP_MAX:
            reasons = Reasons()
            reasons.add(
                "resourceGroup" if "resource_group" in self.model_fields_set else "name",
                f"AKS names the node resource group {nodes!r} ({len(nodes)} characters) and "
                f"allows {NODE_RESOURCE_GROUP_MAX}: shorten resourceGroup or name",
            )
            reasons.check()
        return self


# The registry's entry points (components.clusters.registry).


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
