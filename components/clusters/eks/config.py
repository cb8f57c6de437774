"""`osmo-backend:cluster` with `kind: eks`: network, control plane, access and node pools."""

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args

from components import versions
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
    overrides,
    pool_labels,
    pool_list,
    pool_taints,
    pool_zones,
    section,
    unique_platforms,
    whole_number,
)
from components.config.cluster import ClusterContext
from components.policy import EKS_ENDPOINT

NAME_MAX = 63
"""Cluster names are DNS labels (EKS takes 100 characters); the node group names derived from
them are checked on their own (63 characters). IAM roles, policies and launch templates are
auto-named from the resources' logical names, not from config."""

CapacityType = Literal["on-demand", "spot"]
CAPACITY_TYPES: tuple[CapacityType, ...] = get_args(CapacityType)
NatGateways = Literal["single", "perAz"]
NAT_GATEWAYS: tuple[NatGateways, ...] = get_args(NatGateways)
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")
"""All five control-plane log types (CIS EKS 2.1.1, Checkov CKV_AWS_37)."""

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_INSTANCE = re.compile(r"^([a-z][a-z0-9-]*?)(\d+)([a-z-]*)\.([a-z0-9]+)$")
_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+$")
_PROFILE = re.compile(r"^[\w.+=@-]{1,64}$")
_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_NODE_GROUP_NAME = re.compile(r"^[0-9A-Za-z][A-Za-z0-9_-]{0,62}$")
"""EKS node group names (CreateNodegroup, nodegroupName): 1-63 characters."""
# GPU instance families (NVIDIA): p3/p4/p5/p6 and g4dn/g5/g5g/g6/g6e/gr6...
_GPU_FAMILIES = ("p", "g", "gr")

GPUS_PER_INSTANCE = {
    "p4d.24xlarge": 8,
    "p4de.24xlarge": 8,
    "p5.48xlarge": 8,
    "p5e.48xlarge": 8,
    "p5en.48xlarge": 8,
    "g5.xlarge": 1,
    "g5.2xlarge": 1,
    "g5.4xlarge": 1,
    "g5.8xlarge": 1,
    "g5.12xlarge": 4,
    "g5.16xlarge": 1,
    "g5.24xlarge": 4,
    "g5.48xlarge": 8,
    "g6.xlarge": 1,
    "g6.2xlarge": 1,
    "g6.4xlarge": 1,
    "g6.8xlarge": 1,
    "g6.12xlarge": 4,
    "g6.16xlarge": 1,
    "g6.24xlarge": 4,
    "g6.48xlarge": 8,
    "g6e.xlarge": 1,
    "g6e.12xlarge": 4,
    "g6e.48xlarge": 8,
    "g4dn.xlarge": 1,
    "g4dn.12xlarge": 4,
}
"""NVIDIA GPUs per instance, for the Cluster Autoscaler's scale-from-zero template tags."""


@dataclass(frozen=True)
class InstanceFamily:
    gpu: bool
    arm: bool


def instance_family(instance_type: str) -> InstanceFamily | None:
    """GPU and Graviton families from an instance type name (None when it is not one)."""
    match = _INSTANCE.match(instance_type)
    if match is None:
        return None
    family, _generation, attributes = match.group(1), match.group(2), match.group(3)
    return InstanceFamily(gpu=family in _GPU_FAMILIES, arm="g" in attributes.split("-")[0])


def ami_type(instance_type: str) -> str:
    """An AL2023 AMI that fits the family: the NVIDIA variant (driver and toolkit installed) for
    GPU families, ARM for Graviton."""
    family = instance_family(instance_type)
    assert family is not None
    arch = "ARM_64" if family.arm else "x86_64"
    return f"AL2023_{arch}_{'NVIDIA' if family.gpu else 'STANDARD'}"


def node_group_name(cluster: str, pool: str) -> str:
    return f"{cluster}-{pool}"


def principal_arn(caller_arn: str) -> str:
    """The IAM principal behind an STS caller ARN, as access entries name it: an assumed-role
    session `arn:aws:sts::<account>:assumed-role/<role>/<session>` becomes
    `arn:aws:iam::<account>:role/<role>`; IAM users and roles pass through."""
    match = re.fullmatch(r"arn:(aws[a-z-]*):sts::(\d{12}):assumed-role/([^/]+)/.+", caller_arn)
    if match is None:
        return caller_arn
    partition_, account, role = match.groups()
    return f"arn:{partition_}:iam::{account}:role/{role}"


@dataclass(frozen=True)
class EksNodePoolSpec:
    name: str
    role: str
    instance_types: tuple[str, ...]
    """One type, or several of one shape (spot diversification); the first is the preferred
    on-demand type and the one the Cluster Autoscaler models a new node on."""
    min_size: int
    max_size: int
    desired_size: int
    capacity_type: CapacityType = "on-demand"
    disk_size_gib: int = 100
    gpus_per_node: int = 0
    labels: Mapping[str, str] = field(default_factory=dict[str, str])
    """Extra Kubernetes node labels (this stack's own cannot be replaced)."""
    taints: tuple[Taint, ...] = ()
    """Extra taints, next to the GPU taint of gpu pools."""
    zones: tuple[str, ...] = ()
    """Availability zones the pool is pinned to (the private subnets of those zones); empty:
    every zone of the cluster."""
    subnet_ids: tuple[str, ...] = ()
    """Subnets the pool is pinned to (a network you bring); empty: every private subnet."""

    @property
    def instance_type(self) -> str:
        return self.instance_types[0]


@dataclass(frozen=True)
class EksNetworkSpec:
    vpc_cidr: str | None = "10.0.0.0/16"
    nat_gateways: NatGateways = "single"
    vpc_id: str | None = None
    private_subnet_ids: tuple[str, ...] = ()
    public_subnet_ids: tuple[str, ...] = ()

    @property
    def bring_your_own(self) -> bool:
        return self.vpc_id is not None


@dataclass(frozen=True)
class EksClusterSpec:
    kind: Literal["eks"]
    name: str
    region: str
    kubernetes_version: str
    availability_zones: tuple[str, ...]
    network: EksNetworkSpec
    service_cidr: str
    public_access_cidrs: tuple[str, ...]
    """Empty: private endpoint only (pulumi up must run inside the VPC)."""
    admins: tuple[str, ...]
    node_pools: tuple[EksNodePoolSpec, ...]
    imds_hop_limit: int = 1
    cluster_autoscaler: bool = True
    autoscaler_values: dict[str, Any] | None = None
    auth_profile: str | None = None
    """AWS CLI profile the exec kubeconfig uses (AWS_PROFILE)."""
    auth_role_arn: str | None = None
    """Role `aws eks get-token` assumes (--role-arn)."""
    tags: Mapping[str, str] = field(default_factory=dict[str, str])
    """Cost-allocation tags on every AWS resource (the provider's default tags) and on the
    nodes' instances and volumes."""


DEFAULT_POOLS = (
    {
        "name": "operator",
        "role": "operator",
        "instanceType": "m5.xlarge",
        "minSize": 1,
        "maxSize": 3,
    },
    {
        "name": "compute",
        "role": "compute",
        "instanceType": "m5.2xlarge",
        "minSize": 0,
        "maxSize": 10,
    },
)
"""OSMO's documented defaults; GPU pools are per stack."""

_POOL_KEYS = (
    "name",
    "role",
    "instanceType",
    "minSize",
    "maxSize",
    "desiredSize",
    "capacityType",
    "diskSizeGiB",
    "gpusPerNode",
    "instanceTypes",
    "labels",
    "taints",
    "zones",
    "subnetIds",
)
EKS_KEYS = (
    "kind",
    "name",
    "region",
    "kubernetesVersion",
    "availabilityZones",
    "network",
    "serviceCidr",
    "endpoint",
    "admins",
    "nodePools",
    "imdsHopLimit",
    "clusterAutoscaler",
    "kubeconfigAuth",
    "tags",
)


def _network(problems: Problems, path: str, value: Any) -> EksNetworkSpec | None:
    body = section(
        problems,
        path,
        value,
        ("vpcCidr", "natGateways", "vpcId", "privateSubnetIds", "publicSubnetIds"),
    )
    if body is None:
        return None
    if body.get("vpcId") is not None:
        if "vpcCidr" in body or "natGateways" in body:
            problems.add(path, "set vpcId with its subnets, or vpcCidr/natGateways, not both")
            return None
        vpc = body["vpcId"]
        if not isinstance(vpc, str) or not _VPC.match(vpc):
            problems.add(f"{path}.vpcId", f"{show(vpc)} is not a VPC id like vpc-0abc12345")
            return None
        subnets: dict[str, tuple[str, ...]] = {}
        for key, needed in (("privateSubnetIds", 2), ("publicSubnetIds", 0)):
            raw = body.get(key, [])
            if not isinstance(raw, list) or len(cast(list[Any], raw)) < needed:
                problems.add(
                    f"{path}.{key}", f"needs at least {needed} subnet ids, got {show(raw)}"
                )
                return None
            bad = [
                s for s in cast(list[Any], raw) if not isinstance(s, str) or not _SUBNET.match(s)
            ]
            if bad:
                problems.add(
                    f"{path}.{key}", f"{show(bad)} are not subnet ids like subnet-0abc12345"
                )
                return None
            subnets[key] = tuple(cast(list[str], raw))
        return EksNetworkSpec(
            vpc_cidr=None,
            vpc_id=vpc,
            private_subnet_ids=subnets["privateSubnetIds"],
            public_subnet_ids=subnets["publicSubnetIds"],
        )
    cidr = body.get("vpcCidr", "10.0.0.0/16")
    try:
        network = ipaddress.ip_network(str(cidr), strict=True)
    except ValueError as err:
        problems.add(f"{path}.vpcCidr", f"{show(cidr)} is not a CIDR ({err})")
        return None
    if network.version != 4 or not 16 <= network.prefixlen <= 20 or not network.is_private:
        problems.add(f"{path}.vpcCidr", f"{cidr} must be a private IPv4 /16 to /20")
        return None
    nat = body.get("natGateways", "single")
    if nat not in NAT_GATEWAYS:
        problems.add(f"{path}.natGateways", f"{show(nat)} is not one of: {', '.join(NAT_GATEWAYS)}")
        return None
    return EksNetworkSpec(vpc_cidr=str(network), nat_gateways=nat)


@dataclass(frozen=True)
class _Placement:
    """What a pool can be pinned to: the cluster's zones (a VPC this stack creates) or its
    private subnets (a network you bring)."""

    zones: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    bring_your_own: bool


def _instance_types(
    problems: Problems, where: str, body: Mapping[str, Any], role: Any, notices: list[str]
) -> tuple[str, ...] | None:
    """`instanceType`, or `instanceTypes`: several types of one family kind and architecture
    (one AMI type per node group)."""
    if "instanceTypes" not in body:
        instance = body.get("instanceType")
        _check_family(problems, f"{where}.instanceType", instance, role, notices)
        return (instance,) if isinstance(instance, str) else None
    path = f"{where}.instanceTypes"
    if "instanceType" in body:
        problems.add(where, "set instanceType or instanceTypes, not both")
        return None
    raw = body["instanceTypes"]
    items = cast(list[Any], raw) if isinstance(raw, list) else []
    if not items or len(set(map(str, items))) != len(items):
        problems.add(path, f"must be a non-empty list of distinct instance types, got {show(raw)}")
        return None
    before = len(problems.lines)
    for index, instance in enumerate(items):
        _check_family(problems, f"{path}[{index}]", instance, role, notices)
    if len(problems.lines) > before:
        return None
    types = tuple(cast(list[str], items))
    if len({ami_type(t) for t in types}) > 1:
        problems.add(
            path,
            f"mixes {', '.join(sorted({ami_type(t) for t in types}))} instances; a node group "
            "has one AMI type (GPU or not, x86_64 or ARM alike)",
        )
        return None
    return types


def _pool(
    problems: Problems, where: str, item: Any, notices: list[str], placement: _Placement
) -> EksNodePoolSpec | None:
    body = expect_mapping(problems, where, item)
    if body is None:
        return None
    unknown_keys(problems, where, body, _POOL_KEYS)
    before = len(problems.lines)
    name = expect_dns_label(problems, f"{where}.name", body.get("name"), 20)
    role = body.get("role")
    if missing(problems, f"{where}.role", role):
        pass
    elif role not in ("operator", "compute", "gpu"):
        problems.add(f"{where}.role", f"{show(role)} is not one of: operator, compute, gpu")
    types = _instance_types(problems, where, body, role, notices)
    instance = types[0] if types else None
    low = whole_number(problems, f"{where}.minSize", body.get("minSize", 0), 0, 1000)
    high = whole_number(problems, f"{where}.maxSize", body.get("maxSize", 1), 1, 1000)
    desired = whole_number(
        problems, f"{where}.desiredSize", body.get("desiredSize", low or 0), 0, 1000
    )
    if None not in (low, high, desired) and not low <= desired <= high:  # type: ignore[operator]
        problems.add(
            where, f"needs minSize <= desiredSize <= maxSize, got {low} <= {desired} <= {high}"
        )
    if role == "operator" and low is not None and low < 1:
        problems.add(f"{where}.minSize", "operator pools need at least 1 node: add-ons run there")
    capacity = body.get("capacityType", "on-demand")
    if capacity not in CAPACITY_TYPES:
        problems.add(f"{where}.capacityType", f"{show(capacity)} is not one of: on-demand, spot")
    default_disk = 200 if role == "gpu" else 100
    disk = whole_number(
        problems, f"{where}.diskSizeGiB", body.get("diskSizeGiB", default_disk), 20, 16384
    )
    family = instance_family(instance) if isinstance(instance, str) else None
    gpus = (
        _gpus(problems, f"{where}.gpusPerNode", body, types or ())
        if role == "gpu" and family is not None and family.gpu
        else 0
    )
    labels = pool_labels(problems, f"{where}.labels", body.get("labels"))
    taints = pool_taints(problems, f"{where}.taints", body.get("taints"), role)
    zones, subnets = _pool_placement(problems, where, body, placement)
    if len(problems.lines) > before:
        return None
    return EksNodePoolSpec(
        name=str(name),
        role=str(role),
        instance_types=types or (),
        min_size=int(low or 0),
        max_size=int(high or 1),
        desired_size=int(desired or 0),
        capacity_type=cast(CapacityType, capacity),
        disk_size_gib=int(disk or default_disk),
        gpus_per_node=gpus or 0,
        labels=labels or {},
        taints=taints or (),
        zones=zones or (),
        subnet_ids=subnets or (),
    )


def _pool_placement(
    problems: Problems, where: str, body: Mapping[str, Any], placement: _Placement
) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """`zones` (a VPC this stack creates: its subnets there) or `subnetIds` (a network you
    bring: some of its private subnets); EKS node groups take subnet_ids either way."""
    zones, subnets = body.get("zones"), body.get("subnetIds")
    if placement.bring_your_own and zones is not None:
        problems.add(
            f"{where}.zones",
            "with a network you bring, pin the pool with subnetIds (some of "
            "network.privateSubnetIds)",
        )
        return None, None
    if not placement.bring_your_own and subnets is not None:
        problems.add(
            f"{where}.subnetIds",
            "only applies with a network you bring (network.vpcId); pin the pool with zones",
        )
        return None, None
    return (
        pool_zones(problems, f"{where}.zones", zones, placement.zones, "availability zones"),
        pool_zones(
            problems, f"{where}.subnetIds", subnets, placement.subnet_ids, "private subnets"
        ),
    )


def _check_family(
    problems: Problems, path: str, instance: Any, role: Any, notices: list[str]
) -> None:
    family = instance_family(instance) if isinstance(instance, str) else None
    if missing(problems, path, instance):
        pass
    elif family is None:
        problems.add(path, f"{show(instance)} is not an EC2 instance type like m5.xlarge")
    elif role == "gpu" and not family.gpu:
        problems.add(
            path, f"{instance} has no NVIDIA GPU; gpu pools need a GPU family (p5, g5, g6, ...)"
        )
    elif family.gpu and role != "gpu":
        notices.append(
            f"{path}: {instance} is a GPU instance in a {role} pool; it gets no GPU taint, so any "
            "pod may land on it"
        )


def _gpus(problems: Problems, path: str, body: Any, types: Sequence[str]) -> int | None:
    """GPUs per node: given, or known for the instance types; every type of the pool has the
    same count (the Cluster Autoscaler models every node of a group on one type)."""
    known = {t: GPUS_PER_INSTANCE[t] for t in types if t in GPUS_PER_INSTANCE}
    if len(set(known.values())) > 1:
        counts = ", ".join(f"{t} has {n}" for t, n in known.items())
        problems.add(
            path.rpartition(".")[0] + ".instanceTypes",
            f"mixes GPU counts ({counts}); the Cluster Autoscaler takes every node of a group "
            "to be like its first type, so a pool's types need the same GPUs, CPUs and memory",
        )
        return None
    value = body.get("gpusPerNode", next(iter(known.values()), None))
    if value is None:
        problems.add(
            path,
            f"is required for {', '.join(types)} (the autoscaler scales up from zero with it)",
        )
        return None
    checked = whole_number(problems, path, value, 1, 16)
    if checked is not None and known and checked != next(iter(known.values())):
        problems.add(
            path,
            f"is {checked}, but {next(iter(known))} has {next(iter(known.values()))} GPUs",
        )
        return None
    return checked


def _pools(
    problems: Problems, path: str, value: Any, notices: list[str], placement: _Placement
) -> tuple[EksNodePoolSpec, ...] | None:
    pools = pool_list(
        problems,
        path,
        value,
        DEFAULT_POOLS,
        lambda where, item: _pool(problems, where, item, notices, placement),
    )
    if pools is None:
        return None
    if not has_operator_pool(problems, path, pools) or not unique_platforms(problems, path, pools):
        return None
    return tuple(pools)


def _zones(problems: Problems, path: str, value: Any, region: str) -> tuple[str, ...]:
    raw = value if value is not None else [f"{region}{z}" for z in "abc"]
    if not isinstance(raw, list) or not 2 <= len(cast(list[Any], raw)) <= 3:
        problems.add(path, f"needs 2 or 3 zones, got {show(raw)}")
        return ()
    zones = cast(list[Any], raw)
    for index, zone in enumerate(zones):
        if not isinstance(zone, str) or not re.fullmatch(rf"{re.escape(region)}[a-z]", zone):
            problems.add(f"{path}[{index}]", f"{show(zone)} is not a zone of {region}")
    if len(set(map(str, zones))) != len(zones):
        problems.add(path, "lists a zone twice")
    return tuple(str(z) for z in zones)


def _service_cidr(problems: Problems, path: str, value: Any, vpc_cidr: str | None) -> str:
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError as err:
        problems.add(path, f"{show(value)} is not a CIDR ({err})")
        return str(value)
    if not 12 <= network.prefixlen <= 24 or not network.is_private:
        problems.add(path, f"{value} must be a private /12 to /24")
    elif vpc_cidr is not None and network.overlaps(ipaddress.ip_network(vpc_cidr)):
        problems.add(path, f"{value} overlaps the VPC {vpc_cidr}")
    return str(network)


def _endpoint(problems: Problems, path: str, value: Any, notices: list[str]) -> tuple[str, ...]:
    body = section(problems, path, value, ("publicAccessCidrs", "allowPublicFromAnywhere"))
    if body is None:
        return ()
    return api_cidrs(
        problems,
        path,
        body,
        "publicAccessCidrs",
        notices=notices,
        anywhere_notice="the EKS API server accepts connections from any address "
        "(CIS EKS 5.4.2, Checkov CKV_AWS_38)",
        check_id=EKS_ENDPOINT.id,
    )


def _autoscaler(problems: Problems, path: str, value: Any) -> tuple[bool, dict[str, Any] | None]:
    body = section(problems, path, value, ("enabled", "values"))
    if body is None:
        return True, None
    enabled = flag(problems, f"{path}.enabled", body.get("enabled", True))
    checked = overrides(problems, f"{path}.values", body.get("values"), versions.CLUSTER_AUTOSCALER)
    return enabled is not False, dict(checked) if checked else None


def _auth(problems: Problems, path: str, value: Any) -> tuple[str | None, str | None]:
    body = section(problems, path, value, ("profile", "roleArn"))
    if body is None:
        return None, None
    profile, role = body.get("profile"), body.get("roleArn")
    if profile is not None and (not isinstance(profile, str) or not _PROFILE.match(profile)):
        problems.add(f"{path}.profile", f"{show(profile)} is not an AWS CLI profile name")
        profile = None
    if role is not None and (not isinstance(role, str) or not _ROLE_ARN.match(role)):
        problems.add(f"{path}.roleArn", f"{show(role)} is not an IAM role ARN")
        role = None
    return profile, role


def parse_eks(
    problems: Problems,
    body: dict[str, Any],
    *,
    aws_region: str | None,
    notices: list[str],
) -> EksClusterSpec | None:
    path = f"{PROJECT}:cluster"
    unknown_keys(problems, path, body, EKS_KEYS)
    before = len(problems.lines)
    name = expect_dns_label(problems, f"{path}.name", body.get("name"), NAME_MAX)
    region = body.get("region", aws_region)
    if not isinstance(region, str) or not _REGION.match(region):
        problems.add(
            f"{path}.region",
            f"{show(region)} is not an AWS region like us-west-2 (or set aws:region)",
        )
        region = None
    version = kubernetes_version(
        problems, f"{path}.kubernetesVersion", body.get("kubernetesVersion")
    )
    zones = (
        _zones(problems, f"{path}.availabilityZones", body.get("availabilityZones"), region)
        if region
        else ()
    )
    network = _network(problems, f"{path}.network", body.get("network"))
    service = _service_cidr(
        problems,
        f"{path}.serviceCidr",
        body.get("serviceCidr", "172.20.0.0/16"),
        network.vpc_cidr if network is not None else None,
    )
    public = _endpoint(problems, f"{path}.endpoint", body.get("endpoint"), notices)
    admins = body.get("admins", [])
    if not isinstance(admins, list) or any(
        not isinstance(a, str) or not _ARN.match(a) for a in cast(list[Any], admins)
    ):
        problems.add(
            f"{path}.admins", f"must be a list of IAM role or user ARNs, got {show(admins)}"
        )
    elif twice := sorted({a for a in cast(list[str], admins) if admins.count(a) > 1}):
        problems.add(
            f"{path}.admins",
            f"lists {', '.join(twice)} more than once; EKS takes one access entry per principal "
            "(a second one fails with ResourceInUseException)",
        )
    placement = _Placement(
        zones=zones,
        subnet_ids=network.private_subnet_ids if network is not None else (),
        bring_your_own=network is not None and network.bring_your_own,
    )
    pools = _pools(problems, f"{path}.nodePools", body.get("nodePools"), notices, placement)
    tags = cloud_tags(problems, f"{path}.tags", body.get("tags"), "aws")
    if isinstance(name, str) and pools is not None:
        for index, pool in enumerate(pools):
            group = node_group_name(name, pool.name)
            if not _NODE_GROUP_NAME.match(group):
                problems.add(
                    f"{path}.nodePools[{index}].name",
                    f"gives the node group name {group!r}, which is not 1-63 letters, digits, "
                    "'-' and '_'",
                )
    hop = whole_number(problems, f"{path}.imdsHopLimit", body.get("imdsHopLimit", 1), 1, 2)
    autoscaler, autoscaler_values = _autoscaler(
        problems, f"{path}.clusterAutoscaler", body.get("clusterAutoscaler")
    )
    profile, role_arn = _auth(problems, f"{path}.kubeconfigAuth", body.get("kubeconfigAuth"))
    if len(problems.lines) > before or network is None or pools is None:
        return None
    return EksClusterSpec(
        kind="eks",
        name=str(name),
        region=str(region),
        kubernetes_version=version,
        availability_zones=zones,
        network=network,
        service_cidr=service,
        public_access_cidrs=public,
        admins=tuple(cast(list[str], admins)),
        node_pools=pools,
        imds_hop_limit=int(hop or 1),
        cluster_autoscaler=autoscaler,
        autoscaler_values=autoscaler_values,
        auth_profile=profile,
        auth_role_arn=role_arn,
        tags=tags or {},
    )


# The registry's entry points (components.clusters.registry).


def parse(
    problems: Problems, body: Mapping[str, Any], ctx: ClusterContext
) -> EksClusterSpec | None:
    return parse_eks(problems, dict(body), aws_region=ctx.aws_region, notices=ctx.notices)


def knows_cidrs(spec: EksClusterSpec) -> bool:
    """The stack creates the network, so it knows its ranges (unless it brings its own)."""
    return not spec.network.bring_your_own


def pool_min_nodes(pool: EksNodePoolSpec) -> int:
    return pool.min_size


def pool_rows(spec: EksClusterSpec) -> list[PoolRow]:
    """Name, role, machine type, node counts, GPUs per node, capacity type and extra taints of
    each pool (`osmo-backend plan`'s node pool table)."""
    return [
        (
            p.name,
            p.role,
            ",".join(p.instance_types),
            f"{p.min_size}-{p.max_size} (desired {p.desired_size})",
            str(p.gpus_per_node),
            p.capacity_type,
            p.taints,
        )
        for p in spec.node_pools
    ]
