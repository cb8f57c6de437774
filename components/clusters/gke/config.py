"""`osmo-backend:cluster` with `kind: gke`: project, location, network, control-plane access and
node pools with their GPU stack profile."""

import hashlib
import ipaddress
import math
import re
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Self, cast, get_args

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
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
    ctx,
    dns_label,
    fail,
    like,
    one_of,
    optional_section,
    whole,
)
from components.config._rules import (
    CidrList,
    KubernetesVersion,
    Pool,
    PoolList,
    PoolRow,
    api_networks,
    cloud_tags,
    default_pools,
    operator_minimum,
    private_cidr,
)
from components.config.operators import OperatorsSpec
from components.policy import GKE_ENDPOINT, GKE_PRIVATE_NODES

NO_DEFAULT_DEVICE_PLUGIN = "gke-no-default-nvidia-gpu-device-plugin"
"""GKE gpu pools carry it set to "true" (cluster.py `node_labels`): GKE's own device plugin
stays off for the GPU Operator's."""
GPU_POOL_LABELS = {NO_DEFAULT_DEVICE_PLUGIN: "true"}
"""Labels GKE gpu pools get besides every cloud pool's (the registry's `gpu_pool_labels`)."""

NAME_MAX = 40
"""GKE cluster names: a lowercase letter first, at most 40 characters."""
POOL_NAME_MAX = 20
"""Pool names prefix the node service account and instance names."""

ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]
ImageType = Literal["COS_CONTAINERD", "UBUNTU_CONTAINERD"]
DiskType = Literal["pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced"]
GpuDriver = Literal["google", "operator"]
GPU_DRIVERS: tuple[GpuDriver, ...] = get_args(GpuDriver)
"""google: Google's installer DaemonSet installs the driver into /home/kubernetes/bin/nvidia and
the GPU Operator runs without its driver; operator: the GPU Operator's driver manager (Ubuntu node
images only, NVIDIA's GKE page)."""

_NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_MACHINE = re.compile(r"^([a-z][a-z0-9]*)-([a-z]+)-(\d+)(g?)(-lssd)?$")
_ACCELERATOR = re.compile(r"^nvidia-[a-z0-9-]+$")
_RESOURCE = re.compile(
    r"^(projects/[a-z][a-z0-9-]+/(global|regions/[a-z0-9-]+)/[a-z]+/)?[a-z][-a-z0-9]{0,62}$"
)

N1_ACCELERATORS = frozenset(
    {"nvidia-tesla-t4", "nvidia-tesla-v100", "nvidia-tesla-p4", "nvidia-tesla-p100"}
)
"""GPUs an N1 machine can take as attached accelerators (GKE GPU platforms)."""

_ACCELERATOR_OF_FAMILY = {
    ("a2", "highgpu"): "nvidia-tesla-a100",
    ("a2", "megagpu"): "nvidia-tesla-a100",
    ("a2", "ultragpu"): "nvidia-a100-80gb",
    ("a3", "highgpu"): "nvidia-h100-80gb",
    ("a3", "edgegpu"): "nvidia-h100-80gb",
    ("a3", "megagpu"): "nvidia-h100-mega-80gb",
    ("a3", "ultragpu"): "nvidia-h200-141gb",
    ("a4", "highgpu"): "nvidia-b200",
    ("g2", "standard"): "nvidia-l4",
}
"""GPU machine families and the accelerator each carries (its count is in the machine name,
`a3-highgpu-8g`, except for G2)."""

_G2_GPUS = {4: 1, 8: 1, 12: 1, 16: 1, 32: 1, 24: 2, 48: 4, 96: 8}

SERVICE_ACCOUNT_SUFFIXES = ("nodes", "workflow")
"""The Google service accounts a GKE stack makes, `<cluster>-<suffix>` (or shortened)."""
_SERVICE_ACCOUNT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
"""IAM service account ids: 6-30 characters (projects.serviceAccounts.create, accountId)."""
KEY_RING_SUFFIX_LENGTH = 6
"""Cloud KMS never deletes key rings or keys, so their names are never free again: the key ring
name ends in a random suffix kept in state, new for each deployment."""
_KEY_RING_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")
"""Cloud KMS key ring ids (projects.locations.keyRings.create, keyRingId)."""
_COMPUTE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
"""Compute Engine resource names (RFC 1035, at most 63 characters), secondary range names too."""


def service_account_id(cluster: str, suffix: str) -> str:
    """`<cluster>-<suffix>` when that is a valid id; otherwise the cluster name cut short plus a
    short hash of the full name, so that clusters whose long names differ only at the end (which
    share a project) still get different ids."""
    full = f"{cluster}-{suffix}"
    if _SERVICE_ACCOUNT_ID.match(full):
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    keep = 30 - len(suffix) - len(digest) - 2
    return f"{cluster[: max(keep, 1)].rstrip('-')}-{digest}-{suffix}"


def key_ring_name(cluster: str, suffix: str) -> str:
    return f"{cluster}-gke-{suffix}"


def compute_names(cluster: str) -> dict[str, str]:
    """Names of the Compute Engine resources a stack that creates its network gives them."""
    return {
        "network": cluster,
        "subnetwork": f"{cluster}-nodes",
        "router": f"{cluster}-router",
        "nat": f"{cluster}-nat",
    }


def _derived_name_reasons(cluster: str) -> Iterator[str]:
    """Every name the stack derives from the cluster name, checked against its target's rules."""
    for suffix in SERVICE_ACCOUNT_SUFFIXES:
        if not _SERVICE_ACCOUNT_ID.match(account := service_account_id(cluster, suffix)):
            yield (
                f"gives the service account id {account!r}, which is not 6-30 lowercase letters, "
                "digits and '-' starting with a letter"
            )
    if not _KEY_RING_NAME.match(ring := key_ring_name(cluster, "x" * KEY_RING_SUFFIX_LENGTH)):
        yield (
            f"gives the KMS key ring name {ring!r} (with its random suffix), which is not 1-63 "
            "letters, digits, '_' and '-'"
        )
    for what, name in compute_names(cluster).items():
        if not _COMPUTE_NAME.match(name):
            yield (
                f"gives the {what} name {name!r}, which is not a Compute Engine name (a lowercase "
                "letter first, lowercase letters, digits and '-', at most 63 characters)"
            )


def derived_name_problems(problems: Problems, path: str, cluster: str) -> None:
    for reason in _derived_name_reasons(cluster):
        problems.add(path, reason)


def _cluster_name(value: Any) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or len(value) > NAME_MAX:
        raise fail(
            f"{show(value)} is not a GKE cluster name: a lowercase letter first, then lowercase "
            f"letters, digits and '-', not ending in '-', at most {NAME_MAX} characters"
        )
    reasons = Reasons()
    for reason in _derived_name_reasons(value):
        reasons.add("", reason)
    reasons.check()
    return value


def _or_none(check: Check) -> Check:
    return Check(lambda value: None if value is None else check.check(value), check.schema)


def _zones(
    reasons: Reasons, at: tuple[str, ...], value: Any, region: str | None, zone: str | None
) -> tuple[str, ...]:
    """1 to 4 zones of `region`, each once, with the cluster's `zone` (a zonal cluster); the
    problems are added to `reasons` at `at`. None (and anything while the region is unknown): no
    zones."""
    if region is None or value is None:
        return ()
    items = cast(list[Any], value) if isinstance(value, list) else []
    if not 1 <= len(items) <= 4:
        reasons.add(at, f"must list 1 to 4 zones, got {show(value)}")
        return ()
    for index, item in enumerate(items):
        if not _in_region(item, region):
            reasons.add((*at, index), f"{show(item)} is not a zone of {region}")
    if len(set(map(str, items))) != len(items):
        reasons.add(at, "lists a zone twice")
    if zone is not None and zone not in items:
        reasons.add(at, f"must include the cluster's zone {zone}")
    return tuple(map(str, items))


def _in_region(zone: Any, region: str) -> bool:
    return isinstance(zone, str) and re.fullmatch(rf"{re.escape(region)}-[a-z]", zone) is not None


class Accelerator(Model):
    """Attached GPUs (n1 machines). Default: what the machine family carries."""

    type: Annotated[str, like(_ACCELERATOR, "a GPU type like nvidia-tesla-t4")]
    """GPU type, e.g. nvidia-tesla-t4."""
    count: Annotated[int, whole(1, 16)] = 1
    """GPUs per node."""


def machine_accelerator(machine_type: str) -> Accelerator | None:
    """The GPUs a GPU machine family brings (None for N1 and CPU families)."""
    match = _MACHINE.match(machine_type)
    if match is None:
        return None
    family, shape, size, gpu_suffix = match.group(1, 2, 3, 4)
    kind = _ACCELERATOR_OF_FAMILY.get((family, shape))
    if kind is None:
        return None
    if family == "g2":
        count = _G2_GPUS.get(int(size))
        return Accelerator(type=kind, count=count) if count is not None and not gpu_suffix else None
    return Accelerator(type=kind, count=int(size)) if gpu_suffix else None


class GkeNodePoolSpec(Pool):
    """A GKE node pool."""

    name: Annotated[str, dns_label(POOL_NAME_MAX)]
    """Pool name (DNS-1123 label, <= 20 characters)."""
    zones: tuple[str, ...] = ()
    """Zones of the region the pool's nodes are in (node_locations). Default: the cluster's."""
    machine_type: Annotated[str, like(_MACHINE, "a machine type like n1-standard-8")]
    """Machine type; gpu pools need a GPU family (a2, a3, a4, g2) or n1 with an accelerator."""
    accelerator: Accelerator | None = Field(default=None, validate_default=True)
    """Attached GPUs (n1 machines). Default: what the machine family carries."""
    min_nodes: Annotated[int, whole(0, 1000)] = 0
    """Minimum nodes, in total (operator pools: at least 1)."""
    max_nodes: Annotated[int, whole(1, 1000)] = 1
    """Maximum nodes, in total (GKE's total autoscaling limits)."""
    spot: Flag = False
    """Spot VMs."""
    disk_size_gb: Annotated[int, whole(10, 65536)] = 100
    """Boot disk size. Default: 100 (gpu pools 200)."""
    disk_type: Annotated[DiskType, one_of(DiskType)] = "pd-balanced"
    """Boot disk type."""
    image_type: Annotated[ImageType, one_of(ImageType)] = "COS_CONTAINERD"
    """Node image."""
    gpu_driver: GpuDriver | None = Field(default=None, validate_default=True)
    """gpu pools: who installs the NVIDIA driver (google: Google's installer; operator: the GPU
    Operator, Ubuntu images only). Default: google."""

    @model_validator(mode="before")
    @classmethod
    def _gpu_disk(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "diskSizeGb" not in data:
            body = cast(Mapping[str, Any], data)
            return {**body, "diskSizeGb": 200 if body.get("role") == "gpu" else 100}
        return cast(object, data)

    @field_validator("accelerator", mode="wrap")
    @classmethod
    def _gpus(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> Accelerator | None:
        """The pool's GPUs: from the machine family (A2/A3/A4/G2), or given for N1."""
        machine = info.data.get("machine_type")
        if machine is None:
            return None
        implied = machine_accelerator(machine)
        if value is None:
            if info.data.get("role") == "gpu" and implied is None:
                raise fail(
                    f"is required for a gpu pool on {machine}: use a GPU machine family (a2, a3, "
                    "a4, g2) or an n1 machine with an accelerator {type, count}"
                )
            return implied
        if isinstance(value, Mapping) and "count" not in value:
            value = {**cast(Mapping[str, Any], value), "count": implied.count if implied else 1}
        given = cast(Accelerator, handler(value))
        if implied is not None and given != implied:
            raise fail(
                f"{machine} comes with {implied.count} x {implied.type}; leave accelerator out "
                "or match it"
            )
        if implied is None and not machine.startswith("n1-"):
            raise fail(
                f"{machine} cannot take attached GPUs; only n1 machines can (or pick a GPU "
                "machine family: a2, a3, a4, g2)"
            )
        if implied is None and given.type not in N1_ACCELERATORS:
            reasons = Reasons()
            reasons.add(
                "type",
                f"{given.type} does not attach to n1 machines; one of: "
                f"{', '.join(sorted(N1_ACCELERATORS))}",
            )
            reasons.check()
        return given

    _operator_nodes = field_validator("min_nodes")(operator_minimum)

    @field_validator("gpu_driver", mode="before")
    @classmethod
    def _driver(cls, value: Any, info: ValidationInfo) -> GpuDriver | None:
        if info.data.get("role") != "gpu":
            if value is not None:
                raise fail("only applies to gpu pools")
            return None
        driver = "google" if value is None else value
        if driver not in GPU_DRIVERS:
            raise fail(
                f"{show(driver)} is not one of: google (Google's installer), operator (the GPU "
                "Operator's driver manager)"
            )
        if driver == "operator" and info.data.get("image_type") != "UBUNTU_CONTAINERD":
            raise fail(
                "operator-installed drivers need imageType UBUNTU_CONTAINERD; Container-Optimized "
                "OS takes Google's installer only (gpuDriver: google)"
            )
        return driver

    @model_validator(mode="after")
    def _node_counts(self) -> Self:
        if self.min_nodes > self.max_nodes:
            raise fail(f"needs minNodes <= maxNodes, got {self.min_nodes} > {self.max_nodes}")
        return self


def _in_location(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    """One of the cluster's node pools (`info.data` is the cluster's), its zones checked against
    the cluster's region and zone along with the pool's own problems (not while the region is
    unknown)."""
    reasons, region, zone = Reasons(), info.data.get("region"), info.data.get("zone")
    body = cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}
    if "zones" in body:
        value = {**body, "zones": _zones(reasons, ("zones",), body["zones"], region, zone)}
    try:
        pool = handler(value)
    except ValidationError as err:
        reasons.absorb(err)
        pool = None
    reasons.check()
    return pool


_CIDRS = {"subnet_cidr": "subnetCidr", "pod_cidr": "podCidr", "service_cidr": "serviceCidr"}
_RANGES = {**_CIDRS, "master_cidr": "masterCidr"}
_SUBNETWORK = "a subnetwork name or self link"


class GkeNetworkSpec(Model):
    """The network: created (its CIDRs), or brought (network, subnetwork, range names)."""

    model_config = ConfigDict(validate_default=True)

    subnet_cidr: Annotated[str | None, _or_none(private_cidr(8, 24))] = "10.0.0.0/20"
    """Node subnet this stack creates."""
    pod_cidr: Annotated[str | None, _or_none(private_cidr(8, 21))] = "10.16.0.0/14"
    """Pod secondary range."""
    service_cidr: Annotated[str | None, _or_none(private_cidr(8, 27))] = "10.20.0.0/20"
    """Service secondary range."""
    master_cidr: Annotated[str | None, _or_none(private_cidr(28, 28))] = None
    """Control-plane /28 (VPC peering). Default: none (GKE's Private Service Connect)."""
    network: Annotated[str | None, _or_none(like(_RESOURCE, "a network name or self link"))] = None
    """An existing VPC network (name or self link)."""
    subnetwork: Annotated[str | None, _or_none(like(_RESOURCE, _SUBNETWORK))] = None
    """Its subnetwork for the nodes."""
    pod_range_name: Annotated[str, like(_COMPUTE_NAME, "a secondary range name")] = "pods"
    """Its pod secondary range."""
    service_range_name: Annotated[str, like(_COMPUTE_NAME, "a secondary range name")] = "services"
    """Its service secondary range."""

    @property
    def bring_your_own(self) -> bool:
        return self.network is not None

    @model_validator(mode="before")
    @classmethod
    def _brought(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or cast(Mapping[str, Any], data).get("network") is None:
            return cast(object, data)
        body = cast(Mapping[str, Any], data)
        if any(key in body for key in _CIDRS.values()):
            raise fail(
                "set network/subnetwork with their range names, or subnetCidr/podCidr/serviceCidr, "
                "not both"
            )
        return {**body, **dict.fromkeys(_CIDRS.values())}

    @field_validator("pod_cidr", "service_cidr", "master_cidr")
    @classmethod
    def _apart(cls, value: str | None, info: ValidationInfo) -> str | None:
        """Each range apart from the ones before it (reported on the later key)."""
        reasons = Reasons()
        net = ipaddress.ip_network(value) if value is not None else None
        for key in list(_RANGES)[: list(_RANGES).index(str(info.field_name))]:
            other = info.data.get(key)
            if net is not None and other is not None and net.overlaps(ipaddress.ip_network(other)):
                reasons.add("", f"{value} overlaps {_RANGES[key]} {other}")
        reasons.check()
        return value

    @model_validator(mode="after")
    def _network_you_bring(self) -> Self:
        reasons = Reasons()
        if self.network is None:
            for key in ("pod_range_name", "service_range_name", "subnetwork"):
                if key in self.model_fields_set:
                    reasons.add(
                        type(self).model_fields[key].alias or key,
                        "only applies with network (a network you bring)",
                    )
        elif self.subnetwork is None:
            reasons.add("subnetwork", f"None is not {_SUBNETWORK}")
        reasons.check()
        return self


class GkeEndpointSpec(Model):
    """Control-plane access."""

    private_endpoint: Flag = True
    """The control plane's IP endpoint is private."""
    dns_endpoint: Flag = True
    """GKE's DNS-based control-plane endpoint, reached with IAM credentials from anywhere."""
    authorized_networks: CidrList = ()
    """Networks that reach the IP endpoint."""
    allow_public_from_anywhere: Flag = False
    """Explicit opt-out: allow 0.0.0.0/0 in authorizedNetworks."""


DEFAULT_POOLS = tuple(
    {"name": role, "role": role, "machineType": machine, "minNodes": low, "maxNodes": high}
    for role, machine, low, high in (
        ("operator", "n1-standard-4", 1, 3),
        ("compute", "n1-standard-8", 0, 10),
    )
)
"""OSMO's documented GKE defaults; GPU pools are per stack."""


class GkeClusterSpec(Model):
    """Create a GKE cluster for OSMO."""

    kind: Literal["gke"]
    """Create a GKE Standard cluster."""
    name: Annotated[
        str, Check(_cluster_name, (("maxLength", NAME_MAX), ("pattern", _NAME.pattern)))
    ]
    """GKE cluster name (lowercase, a letter first, <= 40 characters)."""
    project: Annotated[str, like(_PROJECT_ID, "a Google Cloud project id (or set gcp:project)")] = (
        Field(None, validate_default=True)
    )
    """Google Cloud project id. Default: gcp:project."""
    region: Annotated[str, like(_REGION, "a region like us-central1 (or set gcp:region)")] = Field(
        None, validate_default=True
    )
    """Region. Default: gcp:region."""
    zone: str | None = None
    """A zone of the region: a zonal cluster. Default: regional."""
    node_zones: tuple[str, ...] = ()
    """Zones the node pools use. Default: GKE's choice."""
    kubernetes_version: KubernetesVersion = "1.33"
    """Minimum Kubernetes minor version, quoted."""
    release_channel: Annotated[ReleaseChannel, one_of(ReleaseChannel)] = "REGULAR"
    """GKE release channel."""
    network: Annotated[GkeNetworkSpec, BeforeValidator(optional_section)] = GkeNetworkSpec()
    """The cluster's network."""
    private_nodes: Flag = True
    """Nodes without public IP addresses."""
    endpoint: Annotated[GkeEndpointSpec, BeforeValidator(optional_section)] = Field(
        default_factory=dict[str, Any], validate_default=True
    )
    """Control-plane access."""
    deletion_protection: Flag = True
    """GKE refuses to delete the cluster."""
    node_pools: Annotated[
        tuple[Annotated[GkeNodePoolSpec, WrapValidator(_in_location)], ...],
        PoolList(DEFAULT_POOLS, "driver switch and install paths are"),
    ] = Field(default_factory=default_pools(GkeNodePoolSpec, DEFAULT_POOLS))
    """Node pools. Default: an operator and a compute pool."""
    tags: Annotated[dict[str, str], cloud_tags("gcp")] = Field(default_factory=dict[str, str])
    """Cost-allocation labels on every Google resource (the Google provider's default labels):
    lowercase keys and values."""

    @property
    def location(self) -> str:
        return self.zone or self.region

    @property
    def zone_count(self) -> int:
        return len(self.node_zones) or (1 if self.zone else 3)

    @property
    def gpu_driver(self) -> GpuDriver | None:
        """The one driver owner of every GPU pool (validated to agree); None without GPU pools."""
        return next((p.gpu_driver for p in self.node_pools if p.gpu_driver), None)

    @field_validator("project", "region", mode="before")
    @classmethod
    def _provider_default(cls, value: Any, info: ValidationInfo) -> Any:
        return ctx(info).provider(f"gcp:{info.field_name}") if value is None else value

    @field_validator("zone", mode="before")
    @classmethod
    def _zone(cls, value: Any, info: ValidationInfo) -> Any:
        region = info.data.get("region")
        if value is not None and region is not None and not _in_region(value, region):
            raise fail(f"{show(value)} is not a zone of {region}")
        return value

    @field_validator("node_zones", mode="before")
    @classmethod
    def _node_zones(cls, value: Any, info: ValidationInfo) -> tuple[str, ...]:
        reasons = Reasons()
        zones = _zones(reasons, (), value, info.data.get("region"), info.data.get("zone"))
        reasons.check()
        return zones

    @field_validator("private_nodes")
    @classmethod
    def _public_nodes(cls, private: bool, info: ValidationInfo) -> bool:
        if not private:
            context, where = ctx(info), f"{PROJECT}:cluster.privateNodes"
            context.opt_outs[where] = GKE_PRIVATE_NODES.id
            context.notices.append(
                f"{where} is false: nodes get public IP addresses (CIS GKE 5.6.5, Checkov "
                "CKV_GCP_64)"
            )
        return private

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, endpoint: GkeEndpointSpec, info: ValidationInfo) -> GkeEndpointSpec:
        context, path, reasons = ctx(info), f"{PROJECT}:cluster.endpoint", Reasons()
        networks = api_networks(
            context,
            reasons,
            path,
            key="authorizedNetworks",
            cidrs=endpoint.authorized_networks,
            anywhere=endpoint.allow_public_from_anywhere,
            anywhere_notice="the GKE control plane's public endpoint accepts connections from any "
            "address (CIS GKE 5.6.3, Checkov CKV_GCP_18)",
            check_id=GKE_ENDPOINT.id,
        )
        private = endpoint.private_endpoint
        if private and not info.data.get("private_nodes", True):
            reasons.add(
                "privateEndpoint", "a private endpoint needs private nodes (privateNodes: true)"
            )
        if not private and not networks:
            reasons.add(
                "authorizedNetworks",
                "a public endpoint needs the networks allowed to reach it (or privateEndpoint: "
                "true)",
            )
        if private and not endpoint.dns_endpoint:
            context.notices.append(
                f"{path}: the control plane has only its private IP endpoint; pulumi up must run "
                "inside the VPC (or a network peered with it)"
            )
        reasons.check()
        return endpoint.model_copy(update={"authorized_networks": networks})

    @field_validator("node_pools")
    @classmethod
    def _gpus_elsewhere(
        cls, pools: tuple[GkeNodePoolSpec, ...], info: ValidationInfo
    ) -> tuple[GkeNodePoolSpec, ...]:
        for index, pool in enumerate(pools):
            if pool.accelerator is not None and pool.role != "gpu":
                ctx(info).notices.append(
                    f"{PROJECT}:cluster.nodePools[{index}].machineType: {pool.machine_type} has "
                    f"GPUs in a {pool.role} pool; it gets no GPU taint, so any pod may land on it"
                )
        return pools


def initial_nodes_per_zone(pool: GkeNodePoolSpec, zones: int) -> int:
    """GKE creates `initial_node_count` nodes in each zone (the pool's own zones when it is
    pinned); enough to meet the pool's total minimum from the start."""
    return math.ceil(pool.min_nodes / (len(pool.zones) or zones))


# The registry's entry points (components.clusters.registry).


def pool_min_nodes(pool: GkeNodePoolSpec) -> int:
    return pool.min_nodes


def pool_rows(spec: GkeClusterSpec) -> list[PoolRow]:
    """Name, role, machine type, node counts, GPUs per node, capacity type and extra taints of
    each pool (`osmo-backend plan`'s node pool table)."""
    rows: list[PoolRow] = []
    for p in spec.node_pools:
        accelerator = p.accelerator or machine_accelerator(p.machine_type)
        gpus = f"{accelerator.count} {accelerator.type}" if accelerator else "0"
        spot = "spot" if p.spot else "on-demand"
        nodes = f"{p.min_nodes}-{p.max_nodes}"
        rows.append((p.name, p.role, p.machine_type, nodes, gpus, spot, p.taints))
    return rows


def check_operators(problems: Problems, spec: GkeClusterSpec, operators: OperatorsSpec) -> None:
    if spec.gpu_driver is not None and operators.gpu_operator is None:
        problems.add(
            f"{PROJECT}:operators.gpuOperator.enabled",
            "GKE gpu pools turn GKE's own device plugin off for the GPU Operator's; keep it on",
        )
