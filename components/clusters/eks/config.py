"""`osmo-backend:cluster` with `kind: eks`: network, control plane, access and node pools."""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Self, cast

from pydantic import (
    BeforeValidator,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from components import versions
from components._validate import show
from components.config._model import (
    PROJECT,
    Check,
    Flag,
    Model,
    Reasons,
    Section,
    ctx,
    dns_label,
    fail,
    fail_required,
    like,
    one_of,
    whole,
)
from components.config._rules import (
    CidrList,
    KubernetesVersion,
    Pool,
    PoolList,
    PoolRow,
    api_networks,
    chart_values,
    cloud_tags,
    network,
    operator_minimum,
    pinned,
    private_cidr,
)
from components.policy import EKS_ENDPOINT

ROOT = f"{PROJECT}:cluster"
NAME_MAX = 63
"""Cluster names are DNS labels (EKS takes 100 characters); the node group names derived from
them are checked on their own (63 characters). IAM roles, policies and launch templates are
auto-named from the resources' logical names, not from config."""

CapacityType = Literal["on-demand", "spot"]
NatGateways = Literal["single", "perAz"]
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
    name: int(gpus)
    for name, gpus in re.findall(
        r"(\S+)=(\d+)",
        """p4d.24xlarge=8 p4de.24xlarge=8 p5.48xlarge=8 p5e.48xlarge=8 p5en.48xlarge=8
        g5.xlarge=1 g5.2xlarge=1 g5.4xlarge=1 g5.8xlarge=1 g5.12xlarge=4 g5.16xlarge=1
        g5.24xlarge=4 g5.48xlarge=8 g6.xlarge=1 g6.2xlarge=1 g6.4xlarge=1 g6.8xlarge=1
        g6.12xlarge=4 g6.16xlarge=1 g6.24xlarge=4 g6.48xlarge=8 g6e.xlarge=1 g6e.12xlarge=4
        g6e.48xlarge=8 g4dn.xlarge=1 g4dn.12xlarge=4""",
    )
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
    family, attributes = match.group(1, 3)
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
    partition, account, role = match.groups()
    return f"arn:{partition}:iam::{account}:role/{role}"


def _subnet_ids(needed: int) -> Check:
    def check(value: Any) -> tuple[str, ...]:
        items = cast(list[Any], value) if isinstance(value, list) else None
        if items is None or len(items) < needed:
            raise fail(f"needs at least {needed} subnet ids, got {show(value)}")
        if bad := [s for s in items if not isinstance(s, str) or not _SUBNET.match(s)]:
            raise fail(f"{show(bad)} are not subnet ids like subnet-0abc12345")
        return tuple(items)

    return Check(check, (("minItems", needed),) if needed else ())


def _family_problem(instance: Any, role: Any) -> str | None:
    family = instance_family(instance) if isinstance(instance, str) else None
    if family is None:
        return f"{show(instance)} is not an EC2 instance type like m5.xlarge"
    if role == "gpu" and not family.gpu:
        return f"{instance} has no NVIDIA GPU; gpu pools need a GPU family (p5, g5, g6, ...)"
    return None


def _pinned(what: str) -> BeforeValidator:
    def check(value: Any) -> tuple[str, ...]:
        items = cast(list[Any], value) if isinstance(value, list) else None
        if not items:
            raise fail(f"must be a non-empty list of {what}, got {show(value)}")
        return tuple(str(i) if not isinstance(i, bool) else repr(i) for i in items)

    return BeforeValidator(check)


class EksNodePoolSpec(Pool):
    """A managed node group."""

    name: Annotated[str, dns_label(20)]
    """Pool name (DNS-1123 label, <= 20 characters)."""
    instance_type_: str | None = Field(None, alias="instanceType")
    """EC2 instance type; gpu pools need an NVIDIA GPU family."""
    instance_types_: tuple[str, ...] = Field((), alias="instanceTypes")
    """Several instance types of one shape (spot diversification), instead of instanceType; the
    same AMI type and GPU count. The first is the preferred on-demand type and the one the
    Cluster Autoscaler models a new node on."""
    min_size: Annotated[int, whole(0, 1000)] = 0
    """Minimum nodes (operator pools: at least 1)."""
    max_size: Annotated[int, whole(1, 1000)] = 1
    """Maximum nodes."""
    desired_size: Annotated[int, whole(0, 1000)] = 0
    """Nodes at creation. Default: minSize."""
    capacity_type: Annotated[CapacityType, one_of(CapacityType)] = "on-demand"
    """Capacity type."""
    disk_size_gib: Annotated[int, whole(20, 16384)] = Field(100, alias="diskSizeGiB")
    """Root volume (gp3, encrypted), GiB. Default: 200 on gpu pools, else 100."""
    gpus_per_node: Annotated[int, whole(1, 16)] = 0
    """GPUs per node (gpu pools). Default: from the instance type."""
    zones: Annotated[tuple[str, ...], _pinned("availability zones")] = ()
    """Availability zones of the cluster the pool is pinned to. Default: every zone."""
    subnet_ids: Annotated[tuple[str, ...], _pinned("private subnets")] = ()
    """A network you bring: private subnets the pool is pinned to. Default: every one."""

    @property
    def instance_types(self) -> tuple[str, ...]:
        return self.instance_types_ or (cast(str, self.instance_type_),)

    @property
    def instance_type(self) -> str:
        return self.instance_types[0]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        body = dict(cast(Mapping[str, Any], data))
        if "instanceTypes" in body and "instanceType" in body:
            raise fail("set instanceType or instanceTypes, not both")
        if "instanceTypes" not in body:
            body.setdefault("instanceType", None)
        body.setdefault("diskSizeGiB", 200 if body.get("role") == "gpu" else 100)
        return {"desiredSize": None, "gpusPerNode": None, **body}

    @field_validator("instance_type_", mode="before")
    @classmethod
    def _one(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise fail_required()
        if (reason := _family_problem(value, info.data.get("role"))) is not None:
            raise fail(reason)
        return value

    @field_validator("instance_types_", mode="before")
    @classmethod
    def _several(cls, value: Any, info: ValidationInfo) -> Any:
        """Types of one family kind and architecture (one AMI type per node group) and, on gpu
        pools, one GPU count (the Cluster Autoscaler takes every node to be like the first)."""
        items = cast(list[Any], value) if isinstance(value, list) else []
        if not items or len(set(map(str, items))) != len(items):
            raise fail(f"must be a non-empty list of distinct instance types, got {show(value)}")
        reasons, role = Reasons(), info.data.get("role")
        for index, item in enumerate(items):
            if item is None:
                reasons.required(str(index))
            elif (reason := _family_problem(item, role)) is not None:
                reasons.add(index, reason)
        reasons.check()
        if len(amis := sorted({ami_type(t) for t in items})) > 1:
            raise fail(
                f"mixes {', '.join(amis)} instances; a node group has one AMI type (GPU or not, "
                "x86_64 or ARM alike)"
            )
        known = {t: GPUS_PER_INSTANCE[t] for t in items if t in GPUS_PER_INSTANCE}
        if role == "gpu" and len(set(known.values())) > 1:
            counts = ", ".join(f"{t} has {n}" for t, n in known.items())
            raise fail(
                f"mixes GPU counts ({counts}); the Cluster Autoscaler takes every node of a group "
                "to be like its first type, so a pool's types need the same GPUs, CPUs and memory"
            )
        return value

    _operator_nodes = field_validator("min_size")(operator_minimum)

    @field_validator("desired_size", mode="before")
    @classmethod
    def _desired(cls, value: Any, info: ValidationInfo) -> Any:
        return info.data.get("min_size", 0) if value is None else value

    @field_validator("gpus_per_node", mode="wrap")
    @classmethod
    def _gpus(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> int:
        """Given, or known for the instance types (gpu pools; 0 elsewhere)."""
        data = info.data
        types = data.get("instance_types_") or (data.get("instance_type_"),)
        if data.get("role") != "gpu" or not all(types):
            return 0
        known = [GPUS_PER_INSTANCE[t] for t in types if t in GPUS_PER_INSTANCE]
        if value is None and not known:
            raise fail_required(
                f"is required for {', '.join(map(str, types))} (the autoscaler scales up from "
                "zero with it)"
            )
        gpus = cast(int, handler(known[0] if value is None else value))
        if known and gpus != known[0]:
            first = next(t for t in types if t in GPUS_PER_INSTANCE)
            raise fail(f"is {gpus}, but {first} has {known[0]} GPUs")
        return gpus

    @model_validator(mode="after")
    def _sizes(self) -> Self:
        if not self.min_size <= self.desired_size <= self.max_size:
            raise fail(
                "needs minSize <= desiredSize <= maxSize, got "
                f"{self.min_size} <= {self.desired_size} <= {self.max_size}"
            )
        return self


class EksNetworkSpec(Model):
    """The VPC: one this stack creates (vpcCidr, natGateways) or one you bring (vpcId and its
    subnets)."""

    vpc_cidr: Annotated[str, private_cidr(16, 20)] | None = "10.0.0.0/16"
    """CIDR of the VPC this stack creates."""
    nat_gateways: Annotated[NatGateways, one_of(NatGateways)] = "single"
    """NAT gateways."""
    vpc_id: Annotated[str, like(_VPC, "a VPC id like vpc-0abc12345")] | None = None
    """An existing VPC (then list its subnets)."""
    private_subnet_ids: Annotated[tuple[str, ...], _subnet_ids(2)] = ()
    """Existing private subnets (nodes), 2 or more."""
    public_subnet_ids: Annotated[tuple[str, ...], _subnet_ids(0)] = ()
    """Existing public subnets (load balancers)."""

    @property
    def bring_your_own(self) -> bool:
        return self.vpc_id is not None

    @model_validator(mode="before")
    @classmethod
    def _own_or_brought(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or data.get("vpcId") is None:
            return data
        body = cast(Mapping[str, Any], data)
        if "vpcCidr" in body or "natGateways" in body:
            raise fail("set vpcId with its subnets, or vpcCidr/natGateways, not both")
        return {"privateSubnetIds": [], **body, "vpcCidr": None}


class EksEndpoint(Model):
    """The public API endpoint."""

    public_access_cidrs: CidrList = ()
    """Networks that reach the public API endpoint (0.0.0.0/0 with allowPublicFromAnywhere).
    Default: none (private endpoint only: pulumi up must run inside the VPC)."""
    allow_public_from_anywhere: Flag = False
    """Explicit opt-out: allow 0.0.0.0/0 on the public endpoint."""


class EksAutoscaler(Model):
    """The Cluster Autoscaler."""

    enabled: Flag = True
    """Install the Cluster Autoscaler."""
    values: Annotated[dict[str, Any], chart_values(versions.CLUSTER_AUTOSCALER)] | None = None
    """Chart values merged over ours."""


class EksKubeconfigAuth(Model):
    """How the exec-based kubeconfig authenticates. Default: the ambient identity."""

    profile: Annotated[str, like(_PROFILE, "an AWS CLI profile name")] | None = None
    """AWS CLI profile for `aws eks get-token` (AWS_PROFILE)."""
    role_arn: Annotated[str, like(_ROLE_ARN, "an IAM role ARN")] | None = None
    """IAM role `aws eks get-token` assumes (--role-arn)."""


def _service_cidr(value: Any) -> str:
    net = network(value)
    if not 12 <= net.prefixlen <= 24 or not net.is_private:
        raise fail(f"{value} must be a private /12 to /24")
    return str(net)


def _admins(value: Any) -> tuple[str, ...]:
    items = cast(list[Any], value) if isinstance(value, list) else None
    if items is None or any(not isinstance(a, str) or not _ARN.match(a) for a in items):
        raise fail(f"must be a list of IAM role or user ARNs, got {show(value)}")
    if twice := sorted({a for a in items if items.count(a) > 1}):
        raise fail(
            f"lists {', '.join(twice)} more than once; EKS takes one access entry per principal "
            "(a second one fails with ResourceInUseException)"
        )
    return tuple(items)


DEFAULT_POOLS = (
    {
        "name": "operator",
        "role": "operator",
        "instanceType": "m5.xlarge",
        "minSize": 1,
        "maxSize": 3,
    },
    {"name": "compute", "role": "compute", "instanceType": "m5.2xlarge", "maxSize": 10},
)
"""OSMO's documented defaults; GPU pools are per stack."""


class EksClusterSpec(Model):
    """Create an EKS cluster for OSMO."""

    kind: Literal["eks"]
    """Create an EKS cluster."""
    name: Annotated[str, dns_label(NAME_MAX)]
    """EKS cluster name (DNS-1123 label, <= 63 characters)."""
    region: Annotated[str, like(_REGION, "an AWS region like us-west-2 (or set aws:region)")] = (
        Field(None, validate_default=True)
    )
    """AWS region. Default: aws:region."""
    kubernetes_version: KubernetesVersion = "1.33"
    """Kubernetes minor version, quoted."""
    availability_zones: tuple[str, ...] = Field(None, validate_default=True)
    """2 or 3 zones of the region. Default: <region>a/b/c."""
    network: Annotated[EksNetworkSpec, Section] = Field(default_factory=EksNetworkSpec)
    """The VPC this stack creates, or one you bring."""
    service_cidr: Annotated[str, Check(_service_cidr)] = Field(
        "172.20.0.0/16", validate_default=True
    )
    """Service CIDR."""
    endpoint: Annotated[EksEndpoint, Section] = Field(default_factory=EksEndpoint)
    """The public API endpoint. Default: private only (pulumi up must run inside the VPC)."""
    admins: Annotated[tuple[str, ...], Check(_admins)] = ()
    """IAM role or user ARNs given cluster-admin access entries."""
    # Absent (null) is PoolList's defaults, validated: checked against the cluster like listed
    # pools.
    node_pools: Annotated[tuple[EksNodePoolSpec, ...], PoolList(DEFAULT_POOLS)] = Field(
        None, validate_default=True
    )
    """Node groups. Default: an operator and a compute pool."""
    tags: Annotated[dict[str, str], cloud_tags("aws")] = Field(default_factory=dict[str, str])
    """Cost-allocation tags: AWS default tags and the nodes' instances and volumes."""
    imds_hop_limit: Annotated[int, whole(1, 2)] = 1
    """IMDSv2 hop limit on nodes."""
    cluster_autoscaler: Annotated[EksAutoscaler, Section] = Field(default_factory=EksAutoscaler)
    """The Cluster Autoscaler."""
    kubeconfig_auth: Annotated[EksKubeconfigAuth, Section] = Field(
        default_factory=EksKubeconfigAuth
    )
    """How the exec-based kubeconfig authenticates. Default: the ambient identity."""

    @property
    def autoscaler_values(self) -> dict[str, Any] | None:
        return self.cluster_autoscaler.values or None

    @field_validator("region", mode="before")
    @classmethod
    def _provider_region(cls, value: Any, info: ValidationInfo) -> Any:
        return ctx(info).provider("aws:region") if value is None else value

    @field_validator("availability_zones", mode="before")
    @classmethod
    def _zones(cls, value: Any, info: ValidationInfo) -> Any:
        region = info.data.get("region")
        if region is None:
            return ()
        raw = value if value is not None else [f"{region}{z}" for z in "abc"]
        zones = cast(list[Any], raw) if isinstance(raw, list) else []
        if not 2 <= len(zones) <= 3:
            raise fail(f"needs 2 or 3 zones, got {show(raw)}")
        reasons = Reasons()
        for index, zone in enumerate(zones):
            if not isinstance(zone, str) or not re.fullmatch(rf"{re.escape(region)}[a-z]", zone):
                reasons.add(index, f"{show(zone)} is not a zone of {region}")
        if len(set(map(str, zones))) != len(zones):
            reasons.add("", "lists a zone twice")
        reasons.check()
        return zones

    @field_validator("endpoint")
    @classmethod
    def _public(cls, endpoint: EksEndpoint, info: ValidationInfo) -> EksEndpoint:
        reasons = Reasons()
        networks = api_networks(
            ctx(info),
            reasons,
            f"{ROOT}.endpoint",
            key="publicAccessCidrs",
            cidrs=endpoint.public_access_cidrs,
            anywhere=endpoint.allow_public_from_anywhere,
            anywhere_notice="the EKS API server accepts connections from any address "
            "(CIS EKS 5.4.2, Checkov CKV_AWS_38)",
            check_id=EKS_ENDPOINT.id,
        )
        reasons.check()
        return endpoint.model_copy(update={"public_access_cidrs": networks})

    @field_validator("service_cidr")
    @classmethod
    def _outside_the_vpc(cls, value: str, info: ValidationInfo) -> str:
        vpc = info.data.get("network")
        if vpc is not None and vpc.vpc_cidr and network(value).overlaps(network(vpc.vpc_cidr)):
            raise fail(f"{value} overlaps the VPC {vpc.vpc_cidr}")
        return value

    @field_validator("node_pools")
    @classmethod
    def _placed(
        cls, pools: tuple[EksNodePoolSpec, ...], info: ValidationInfo
    ) -> tuple[EksNodePoolSpec, ...]:
        """Pools pinned to the cluster's zones (a VPC this stack creates) or to its private
        subnets (a network you bring); node group names `<cluster>-<pool>` that EKS takes; a
        notice for GPU instances in pools that get no GPU taint."""
        data, reasons = info.data, Reasons()
        vpc: EksNetworkSpec | None = data.get("network")
        for index, pool in enumerate(pools):
            where = f"{ROOT}.nodePools[{index}]"
            for i, instance in enumerate(pool.instance_types):
                key = f"instanceTypes[{i}]" if pool.instance_types_ else "instanceType"
                family = instance_family(instance)
                if family is not None and family.gpu and pool.role != "gpu":
                    ctx(info).notices.append(
                        f"{where}.{key}: {instance} is a GPU instance in a {pool.role} pool; it "
                        "gets no GPU taint, so any pod may land on it"
                    )
            if vpc is not None and vpc.bring_your_own and pool.zones:
                reasons.add(
                    (index, "zones"),
                    "with a network you bring, pin the pool with subnetIds (some of "
                    "network.privateSubnetIds)",
                )
            elif vpc is not None and not vpc.bring_your_own and pool.subnet_ids:
                reasons.add(
                    (index, "subnetIds"),
                    "only applies with a network you bring (network.vpcId); pin the pool with "
                    "zones",
                )
            elif vpc is not None:
                zones = data.get("availability_zones", ())
                pinned(reasons, (index, "zones"), pool.zones, zones, "availability zones")
                subnets = vpc.private_subnet_ids
                pinned(reasons, (index, "subnetIds"), pool.subnet_ids, subnets, "private subnets")
            group = node_group_name(data.get("name", ""), pool.name)
            if "name" in data and not _NODE_GROUP_NAME.match(group):
                reasons.add(
                    (index, "name"),
                    f"gives the node group name {group!r}, which is not 1-63 letters, digits, "
                    "'-' and '_'",
                )
        reasons.check()
        return pools


# The registry's entry points (components.clusters.registry).


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
