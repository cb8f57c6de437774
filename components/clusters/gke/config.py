"""`osmo-backend:cluster` with `kind: gke`: project, location, network, control-plane access and
node pools with their GPU stack profile."""

import hashlib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from components._validate import (
    Problems,
    expect_dns_label,
    expect_mapping,
    missing,
    show,
    unknown_keys,
)
from components.config._common import (
    PROJECT,
    PoolRow,
    Taint,
    api_cidrs,
    cloud_tags,
    flag,
    has_operator_pool,
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
from components.policy import GKE_ENDPOINT, GKE_PRIVATE_NODES

NO_DEFAULT_DEVICE_PLUGIN = "gke-no-default-nvidia-gpu-device-plugin"
"""GKE gpu pools carry it set to "true" (cluster.py `node_labels`): GKE's own device plugin
stays off for the GPU Operator's."""

NAME_MAX = 40
"""GKE cluster names: a lowercase letter first, at most 40 characters."""
POOL_NAME_MAX = 20
"""Pool names prefix the node service account and instance names."""

ReleaseChannel = Literal["RAPID", "REGULAR", "STABLE"]
RELEASE_CHANNELS: tuple[ReleaseChannel, ...] = get_args(ReleaseChannel)
ImageType = Literal["COS_CONTAINERD", "UBUNTU_CONTAINERD"]
IMAGE_TYPES: tuple[ImageType, ...] = get_args(ImageType)
GpuDriver = Literal["google", "operator"]
GPU_DRIVERS: tuple[GpuDriver, ...] = get_args(GpuDriver)
"""google: Google's installer DaemonSet installs the driver into /home/kubernetes/bin/nvidia and
the GPU Operator runs without its driver; operator: the GPU Operator's driver manager (Ubuntu node
images only, NVIDIA's GKE page)."""

_REGION = re.compile(r"^[a-z]+-[a-z]+\d+$")
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_MACHINE = re.compile(r"^([a-z][a-z0-9]*)-([a-z]+)-(\d+)(g?)(-lssd)?$")
_ACCELERATOR = re.compile(r"^nvidia-[a-z0-9-]+$")
_RANGE_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
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
"""Compute Engine resource names (RFC 1035, at most 63 characters)."""


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


def derived_name_problems(problems: Problems, path: str, cluster: str) -> None:
    """Every name the stack derives from the cluster name, checked against its target's rules."""
    for suffix in SERVICE_ACCOUNT_SUFFIXES:
        account = service_account_id(cluster, suffix)
        if not _SERVICE_ACCOUNT_ID.match(account):
            problems.add(
                path,
                f"gives the service account id {account!r}, which is not 6-30 lowercase letters, "
                "digits and '-' starting with a letter",
            )
    ring = key_ring_name(cluster, "x" * KEY_RING_SUFFIX_LENGTH)
    if not _KEY_RING_NAME.match(ring):
        problems.add(
            path,
            f"gives the KMS key ring name {ring!r} (with its random suffix), which is not 1-63 "
            "letters, digits, '_' and '-'",
        )
    for what, name in compute_names(cluster).items():
        if not _COMPUTE_NAME.match(name):
            problems.add(
                path,
                f"gives the {what} name {name!r}, which is not a Compute Engine name (a lowercase "
                "letter first, lowercase letters, digits and '-', at most 63 characters)",
            )


@dataclass(frozen=True)
class Accelerator:
    type: str
    count: int


def machine_accelerator(machine_type: str) -> Accelerator | None:
    """The GPUs a GPU machine family brings (None for N1 and CPU families)."""
    match = _MACHINE.match(machine_type)
    if match is None:
        return None
    family, shape, size, gpu_suffix = (
        match.group(1),
        match.group(2),
        int(match.group(3)),
        match.group(4),
    )
    kind = _ACCELERATOR_OF_FAMILY.get((family, shape))
    if kind is None:
        return None
    if family == "g2":
        count = _G2_GPUS.get(size)
        return Accelerator(kind, count) if count is not None and not gpu_suffix else None
    return Accelerator(kind, size) if gpu_suffix else None


@dataclass(frozen=True)
class GkeNodePoolSpec:
    name: str
    role: str
    machine_type: str
    min_nodes: int
    max_nodes: int
    """Totals across the pool's zones (GKE's total autoscaling limits)."""
    spot: bool = False
    disk_size_gb: int = 100
    disk_type: str = "pd-balanced"
    image_type: ImageType = "COS_CONTAINERD"
    accelerator: Accelerator | None = None
    gpu_driver: GpuDriver | None = None
    """Who installs the NVIDIA driver on this pool (gpu pools only)."""
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    """Extra Kubernetes node labels (this stack's own cannot be replaced)."""
    taints: tuple[Taint, ...] = ()
    """Extra taints, next to the GPU taint of gpu pools."""
    zones: tuple[str, ...] = ()
    """Zones the pool's nodes are in (its node_locations); empty: the cluster's."""


@dataclass(frozen=True)
class GkeNetworkSpec:
    subnet_cidr: str | None = "10.0.0.0/20"
    pod_cidr: str | None = "10.16.0.0/14"
    service_cidr: str | None = "10.20.0.0/20"
    master_cidr: str | None = None
    """Control-plane range (VPC-peered private clusters); None: GKE's Private Service Connect."""
    network: str | None = None
    subnetwork: str | None = None
    pod_range_name: str = "pods"
    service_range_name: str = "services"

    @property
    def bring_your_own(self) -> bool:
        return self.network is not None


@dataclass(frozen=True)
class GkeClusterSpec:
    kind: Literal["gke"]
    name: str
    project: str
    region: str
    zone: str | None
    """Set: a zonal cluster in this zone; None: a regional cluster."""
    node_zones: tuple[str, ...]
    kubernetes_version: str
    release_channel: ReleaseChannel
    network: GkeNetworkSpec
    private_nodes: bool
    private_endpoint: bool
    dns_endpoint: bool
    """GKE's DNS-based control-plane endpoint, reached with IAM credentials from anywhere."""
    authorized_networks: tuple[str, ...]
    deletion_protection: bool
    node_pools: tuple[GkeNodePoolSpec, ...]
    tags: Mapping[str, str] = field(default_factory=dict[str, str])
    """Cost-allocation labels on every Google resource (the provider's default labels)."""

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


DEFAULT_POOLS = (
    {
        "name": "operator",
        "role": "operator",
        "machineType": "n1-standard-4",
        "minNodes": 1,
        "maxNodes": 3,
    },
    {
        "name": "compute",
        "role": "compute",
        "machineType": "n1-standard-8",
        "minNodes": 0,
        "maxNodes": 10,
    },
)
"""OSMO's documented GKE defaults; GPU pools are per stack."""

_POOL_KEYS = (
    "name",
    "role",
    "machineType",
    "minNodes",
    "maxNodes",
    "spot",
    "diskSizeGb",
    "diskType",
    "imageType",
    "accelerator",
    "gpuDriver",
    "labels",
    "taints",
    "zones",
)
GKE_KEYS = (
    "kind",
    "name",
    "project",
    "region",
    "zone",
    "nodeZones",
    "kubernetesVersion",
    "releaseChannel",
    "network",
    "privateNodes",
    "endpoint",
    "deletionProtection",
    "nodePools",
    "tags",
)
_NETWORK_KEYS = (
    "subnetCidr",
    "podCidr",
    "serviceCidr",
    "masterCidr",
    "network",
    "subnetwork",
    "podRangeName",
    "serviceRangeName",
)
_DISK_TYPES = ("pd-balanced", "pd-ssd", "pd-standard", "hyperdisk-balanced")


def _network(problems: Problems, path: str, value: Any) -> GkeNetworkSpec | None:
    body = section(problems, path, value, _NETWORK_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    master = body.get("masterCidr")
    master_cidr = private_cidr(problems, f"{path}.masterCidr", master, 28, 28) if master else None
    if body.get("network") is not None:
        if any(k in body for k in ("subnetCidr", "podCidr", "serviceCidr")):
            problems.add(
                path,
                "set network/subnetwork with their range names, or subnetCidr/podCidr/serviceCidr, "
                "not both",
            )
            return None
        names: dict[str, str] = {}
        for key in ("network", "subnetwork"):
            given = body.get(key)
            if not isinstance(given, str) or not _RESOURCE.match(given):
                problems.add(f"{path}.{key}", f"{show(given)} is not a {key} name or self link")
            else:
                names[key] = given
        for key, default in (("podRangeName", "pods"), ("serviceRangeName", "services")):
            given = body.get(key, default)
            if not isinstance(given, str) or not _RANGE_NAME.match(given):
                problems.add(f"{path}.{key}", f"{show(given)} is not a secondary range name")
            else:
                names[key] = given
        if len(problems.lines) > before:
            return None
        return GkeNetworkSpec(
            subnet_cidr=None,
            pod_cidr=None,
            service_cidr=None,
            master_cidr=master_cidr,
            network=names["network"],
            subnetwork=names["subnetwork"],
            pod_range_name=names["podRangeName"],
            service_range_name=names["serviceRangeName"],
        )
    for key in ("podRangeName", "serviceRangeName", "subnetwork"):
        if key in body:
            problems.add(f"{path}.{key}", "only applies with network (a network you bring)")
    defaults = GkeNetworkSpec()
    subnet = private_cidr(
        problems, f"{path}.subnetCidr", body.get("subnetCidr", defaults.subnet_cidr), 8, 24
    )
    pods = private_cidr(problems, f"{path}.podCidr", body.get("podCidr", defaults.pod_cidr), 8, 21)
    services = private_cidr(
        problems, f"{path}.serviceCidr", body.get("serviceCidr", defaults.service_cidr), 8, 27
    )
    report_overlaps(
        problems,
        path,
        {"subnetCidr": subnet, "podCidr": pods, "serviceCidr": services, "masterCidr": master_cidr},
    )
    if len(problems.lines) > before:
        return None
    return GkeNetworkSpec(
        subnet_cidr=subnet, pod_cidr=pods, service_cidr=services, master_cidr=master_cidr
    )


def _accelerator(
    problems: Problems, path: str, value: Any, machine: str, role: Any
) -> Accelerator | None:
    """The pool's GPUs: from the machine family (A2/A3/A4/G2), or given for N1."""
    implied = machine_accelerator(machine)
    family = machine.split("-", 1)[0]
    if value is None:
        if role == "gpu" and implied is None:
            problems.add(
                path,
                f"is required for a gpu pool on {machine}: use a GPU machine family (a2, a3, a4, "
                "g2) or an n1 machine with an accelerator {type, count}",
            )
        return implied
    body = expect_mapping(problems, path, value)
    if body is None:
        return None
    unknown_keys(problems, path, body, ("type", "count"))
    kind, count = body.get("type"), body.get("count", implied.count if implied else 1)
    if not isinstance(kind, str) or not _ACCELERATOR.match(kind):
        problems.add(f"{path}.type", f"{show(kind)} is not a GPU type like nvidia-tesla-t4")
        return None
    checked = whole_number(problems, f"{path}.count", count, 1, 16)
    if checked is None:
        return None
    given = Accelerator(kind, checked)
    if implied is not None and given != implied:
        problems.add(
            path,
            f"{machine} comes with {implied.count} x {implied.type}; leave accelerator out or "
            "match it",
        )
        return None
    if implied is None and family != "n1":
        problems.add(
            path,
            f"{machine} cannot take attached GPUs; only n1 machines can (or pick a GPU machine "
            "family: a2, a3, a4, g2)",
        )
        return None
    if implied is None and kind not in N1_ACCELERATORS:
        problems.add(
            f"{path}.type",
            f"{kind} does not attach to n1 machines; one of: {', '.join(sorted(N1_ACCELERATORS))}",
        )
        return None
    return given


def _pool(
    problems: Problems,
    where: str,
    item: Any,
    notices: list[str],
    *,
    region: str | None,
    zone: str | None,
) -> GkeNodePoolSpec | None:
    body = expect_mapping(problems, where, item)
    if body is None:
        return None
    unknown_keys(problems, where, body, _POOL_KEYS)
    before = len(problems.lines)
    name = expect_dns_label(problems, f"{where}.name", body.get("name"), POOL_NAME_MAX)
    role = body.get("role")
    if missing(problems, f"{where}.role", role):
        pass
    elif role not in ("operator", "compute", "gpu"):
        problems.add(f"{where}.role", f"{show(role)} is not one of: operator, compute, gpu")
    machine = body.get("machineType")
    accelerator = None
    if missing(problems, f"{where}.machineType", machine):
        pass
    elif not isinstance(machine, str) or not _MACHINE.match(machine):
        problems.add(
            f"{where}.machineType", f"{show(machine)} is not a machine type like n1-standard-8"
        )
    else:
        accelerator = _accelerator(
            problems, f"{where}.accelerator", body.get("accelerator"), machine, role
        )
        if accelerator is not None and role in ("operator", "compute"):
            notices.append(
                f"{where}.machineType: {machine} has GPUs in a {role} pool; it gets no GPU taint, "
                "so any pod may land on it"
            )
    low = whole_number(problems, f"{where}.minNodes", body.get("minNodes", 0), 0, 1000)
    high = whole_number(problems, f"{where}.maxNodes", body.get("maxNodes", 1), 1, 1000)
    if low is not None and high is not None and low > high:
        problems.add(where, f"needs minNodes <= maxNodes, got {low} > {high}")
    if role == "operator" and low is not None and low < 1:
        problems.add(f"{where}.minNodes", "operator pools need at least 1 node: add-ons run there")
    spot = flag(problems, f"{where}.spot", body.get("spot", False))
    default_disk = 200 if role == "gpu" else 100
    disk = whole_number(
        problems, f"{where}.diskSizeGb", body.get("diskSizeGb", default_disk), 10, 65536
    )
    disk_type = body.get("diskType", "pd-balanced")
    if disk_type not in _DISK_TYPES:
        problems.add(
            f"{where}.diskType", f"{show(disk_type)} is not one of: {', '.join(_DISK_TYPES)}"
        )
    image = body.get("imageType", "COS_CONTAINERD")
    if image not in IMAGE_TYPES:
        problems.add(f"{where}.imageType", f"{show(image)} is not one of: {', '.join(IMAGE_TYPES)}")
    driver = _gpu_driver(problems, where, body, role, image)
    labels = pool_labels(problems, f"{where}.labels", body.get("labels"))
    taints = pool_taints(problems, f"{where}.taints", body.get("taints"), role)
    zones = (
        _zones(problems, f"{where}.zones", body.get("zones"), region, zone)
        if region is not None
        else ()
    )
    if len(problems.lines) > before:
        return None
    return GkeNodePoolSpec(
        name=str(name),
        role=str(role),
        machine_type=str(machine),
        min_nodes=int(low or 0),
        max_nodes=int(high or 1),
        spot=bool(spot),
        disk_size_gb=int(disk or default_disk),
        disk_type=str(disk_type),
        image_type=cast(ImageType, image),
        accelerator=accelerator,
        gpu_driver=driver,
        labels=labels or {},
        taints=taints or (),
        zones=zones,
    )


def _gpu_driver(
    problems: Problems, where: str, body: Any, role: Any, image: Any
) -> GpuDriver | None:
    given = body.get("gpuDriver")
    if role != "gpu":
        if given is not None:
            problems.add(f"{where}.gpuDriver", "only applies to gpu pools")
        return None
    driver = given if given is not None else "google"
    if driver not in GPU_DRIVERS:
        problems.add(
            f"{where}.gpuDriver",
            f"{show(driver)} is not one of: google (Google's installer), operator (the GPU "
            "Operator's driver manager)",
        )
        return None
    if driver == "operator" and image != "UBUNTU_CONTAINERD":
        problems.add(
            f"{where}.gpuDriver",
            "operator-installed drivers need imageType UBUNTU_CONTAINERD; Container-Optimized OS "
            "takes Google's installer only (gpuDriver: google)",
        )
        return None
    return driver


def _pools(
    problems: Problems,
    path: str,
    value: Any,
    notices: list[str],
    *,
    region: str | None,
    zone: str | None,
) -> tuple[GkeNodePoolSpec, ...] | None:
    pools = pool_list(
        problems,
        path,
        value,
        DEFAULT_POOLS,
        lambda where, item: _pool(problems, where, item, notices, region=region, zone=zone),
    )
    if pools is None:
        return None
    if (
        not has_operator_pool(problems, path, pools)
        or not one_gpu_driver(problems, path, pools, "driver switch and install paths are")
        or not unique_platforms(problems, path, pools)
    ):
        return None
    return tuple(pools)


def _zones(
    problems: Problems, path: str, value: Any, region: str, zone: str | None
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not 1 <= len(cast(list[Any], value)) <= 4:
        problems.add(path, f"must list 1 to 4 zones, got {show(value)}")
        return ()
    zones = cast(list[Any], value)
    for index, item in enumerate(zones):
        if not isinstance(item, str) or not re.fullmatch(rf"{re.escape(region)}-[a-z]", item):
            problems.add(f"{path}[{index}]", f"{show(item)} is not a zone of {region}")
    if len(set(map(str, zones))) != len(zones):
        problems.add(path, "lists a zone twice")
    if zone is not None and zone not in zones:
        problems.add(path, f"must include the cluster's zone {zone}")
    return tuple(str(z) for z in zones)


def _endpoint(
    problems: Problems, path: str, value: Any, private_nodes: bool, notices: list[str]
) -> tuple[bool, bool, tuple[str, ...]]:
    body = section(
        problems,
        path,
        value,
        ("privateEndpoint", "dnsEndpoint", "authorizedNetworks", "allowPublicFromAnywhere"),
    )
    if body is None:
        return True, True, ()
    private = flag(problems, f"{path}.privateEndpoint", body.get("privateEndpoint", True))
    dns = flag(problems, f"{path}.dnsEndpoint", body.get("dnsEndpoint", True))
    networks = api_cidrs(
        problems,
        path,
        body,
        "authorizedNetworks",
        notices=notices,
        anywhere_notice="the GKE control plane's public endpoint accepts connections from any "
        "address (CIS GKE 5.6.3, Checkov CKV_GCP_18)",
        check_id=GKE_ENDPOINT.id,
    )
    if private and not private_nodes:
        problems.add(
            f"{path}.privateEndpoint",
            "a private endpoint needs private nodes (privateNodes: true)",
        )
    if private is False and not networks:
        problems.add(
            f"{path}.authorizedNetworks",
            "a public endpoint needs the networks allowed to reach it (or privateEndpoint: true)",
        )
    if private and not dns:
        notices.append(
            f"{path}: the control plane has only its private IP endpoint; pulumi up must run "
            "inside the VPC (or a network peered with it)"
        )
    return bool(private), bool(dns), networks


def parse_gke(
    problems: Problems,
    body: dict[str, Any],
    *,
    gcp_project: str | None,
    gcp_region: str | None,
    notices: list[str],
) -> GkeClusterSpec | None:
    path = f"{PROJECT}:cluster"
    unknown_keys(problems, path, body, GKE_KEYS)
    before = len(problems.lines)
    name = body.get("name")
    if (
        not isinstance(name, str)
        or not re.fullmatch(r"[a-z]([-a-z0-9]*[a-z0-9])?", name)
        or len(name) > NAME_MAX
    ):
        problems.add(
            f"{path}.name",
            f"{show(name)} is not a GKE cluster name: a lowercase letter first, then lowercase "
            f"letters, digits and '-', not ending in '-', at most {NAME_MAX} characters",
        )
    else:
        derived_name_problems(problems, f"{path}.name", name)
    project = body.get("project", gcp_project)
    if not isinstance(project, str) or not _PROJECT_ID.match(project):
        problems.add(
            f"{path}.project",
            f"{show(project)} is not a Google Cloud project id (or set gcp:project)",
        )
    region = body.get("region", gcp_region)
    if not isinstance(region, str) or not _REGION.match(region):
        problems.add(
            f"{path}.region", f"{show(region)} is not a region like us-central1 (or set gcp:region)"
        )
        region = None
    zone = body.get("zone")
    if (
        zone is not None
        and region is not None
        and (not isinstance(zone, str) or not re.fullmatch(rf"{re.escape(region)}-[a-z]", zone))
    ):
        problems.add(f"{path}.zone", f"{show(zone)} is not a zone of {region}")
    node_zones = (
        _zones(problems, f"{path}.nodeZones", body.get("nodeZones"), region, zone) if region else ()
    )
    version = kubernetes_version(
        problems, f"{path}.kubernetesVersion", body.get("kubernetesVersion")
    )
    channel = body.get("releaseChannel", "REGULAR")
    if channel not in RELEASE_CHANNELS:
        problems.add(
            f"{path}.releaseChannel",
            f"{show(channel)} is not one of: {', '.join(RELEASE_CHANNELS)}",
        )
    network = _network(problems, f"{path}.network", body.get("network"))
    private_nodes = flag(problems, f"{path}.privateNodes", body.get("privateNodes", True))
    if private_nodes is False:
        problems.opt_outs[f"{path}.privateNodes"] = GKE_PRIVATE_NODES.id
        notices.append(
            f"{path}.privateNodes is false: nodes get public IP addresses (CIS GKE 5.6.5, "
            "Checkov CKV_GCP_64)"
        )
    private, dns, networks = _endpoint(
        problems, f"{path}.endpoint", body.get("endpoint"), private_nodes is not False, notices
    )
    protection = flag(problems, f"{path}.deletionProtection", body.get("deletionProtection", True))
    pools = _pools(
        problems,
        f"{path}.nodePools",
        body.get("nodePools"),
        notices,
        region=region,
        zone=zone if isinstance(zone, str) else None,
    )
    tags = cloud_tags(problems, f"{path}.tags", body.get("tags"), "gcp")
    if len(problems.lines) > before or network is None or pools is None:
        return None
    return GkeClusterSpec(
        kind="gke",
        name=str(name),
        project=str(project),
        region=str(region),
        zone=cast(str | None, zone),
        node_zones=node_zones,
        kubernetes_version=version,
        release_channel=cast(ReleaseChannel, channel),
        network=network,
        private_nodes=private_nodes is not False,
        private_endpoint=private,
        dns_endpoint=dns,
        authorized_networks=networks,
        deletion_protection=protection is not False,
        node_pools=pools,
        tags=tags or {},
    )


def initial_nodes_per_zone(pool: GkeNodePoolSpec, zones: int) -> int:
    """GKE creates `initial_node_count` nodes in each zone (the pool's own zones when it is
    pinned); enough to meet the pool's total minimum from the start."""
    return math.ceil(pool.min_nodes / (len(pool.zones) or zones))


# The registry's entry points (components.clusters.registry).


def parse(
    problems: Problems, body: Mapping[str, Any], ctx: ClusterContext
) -> GkeClusterSpec | None:
    return parse_gke(
        problems,
        dict(body),
        gcp_project=ctx.gcp_project,
        gcp_region=ctx.gcp_region,
        notices=ctx.notices,
    )


def knows_cidrs(spec: GkeClusterSpec) -> bool:
    """The stack creates the network, so it knows its ranges (unless it brings its own)."""
    return not spec.network.bring_your_own


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
