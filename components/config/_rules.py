"""Rules every cloud cluster kind shares, as field types and checks for the config models: the
Kubernetes version, CIDRs, API server networks, cost tags, and node pools (labels, taints, zones,
the pool list's own rules)."""

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, TypeVar, cast, get_args

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

from components import chart_keys, versions
from components._validate import label_key_problem, label_value_problem, show
from components.config._model import (
    PROJECT,
    Check,
    Ctx,
    DnsLabel,
    Model,
    Reasons,
    fail,
    one_of,
)

MIN_KUBERNETES_MINOR = 30
"""OSMO's minimum Kubernetes version is 1.30."""
_MINOR_VERSION = re.compile(r"^1\.(\d+)$")


def _kubernetes_version(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        # YAML 1.1 and 1.2 resolve an unquoted 1.30 to the float 1.3 (PyYAML's and go-yaml's float
        # resolvers alike); the CLI then passes the object as JSON with that number.
        raise fail(
            f"is the number {value!r}: YAML reads an unquoted version as a number (1.30 becomes "
            '1.3); write it quoted, like kubernetesVersion: "1.30"'
        )
    version = str(value)
    match = _MINOR_VERSION.match(version)
    if match is None or int(match.group(1)) < MIN_KUBERNETES_MINOR:
        raise fail(
            f"{show(version)} is not supported; use 1.{MIN_KUBERNETES_MINOR} or later, quoted"
        )
    return version


KubernetesVersion = Annotated[str, Check(_kubernetes_version, (("pattern", r"^1\.\d+$"),))]
"""A quoted `1.<minor>` at or above OSMO's minimum."""


def network(value: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR (host bits unset), or `fail`."""
    try:
        return ipaddress.ip_network(str(value), strict=True)
    except ValueError as err:
        raise fail(f"{show(value)} is not a CIDR ({err})") from None


def private_cidr(low: int, high: int) -> Check:
    """A private IPv4 network with a prefix from /low to /high."""

    def check(value: Any) -> str:
        net = network(value)
        if net.version != 4 or not net.is_private or not low <= net.prefixlen <= high:
            raise fail(f"{value} must be a private IPv4 /{low} to /{high}")
        return str(net)

    return Check(check)


def overlaps(reasons: Reasons, ranges: Mapping[str, str | None]) -> None:
    """Each pair of overlapping ranges, reported on the later key."""
    known = [(k, ipaddress.ip_network(v)) for k, v in ranges.items() if v is not None]
    for index, (key, net) in enumerate(known):
        for other, other_net in known[index + 1 :]:
            if net.overlaps(other_net):
                reasons.add(other, f"{other_net} overlaps {key} {net}")


def api_networks(
    context: Ctx,
    reasons: Reasons,
    path: str,
    *,
    key: str,
    cidrs: Sequence[str],
    anywhere: bool,
    anywhere_notice: str,
    check_id: str,
) -> tuple[str, ...]:
    """Networks allowed to reach a cloud API server (`path` is the printed path of the object
    holding `key` and `allowPublicFromAnywhere`): 0.0.0.0/0 needs the explicit, logged
    `allowPublicFromAnywhere: true` (and `check_id` under policy.allow) and contradicts any other
    network listed."""
    public: list[str] = []
    for index, item in enumerate(cidrs):
        try:
            cidr = ipaddress.ip_network(item, strict=True)
        except ValueError as err:
            reasons.add((key, index), f"{show(item)} is not a CIDR ({err})")
            continue
        if cidr.prefixlen == 0 and not anywhere:
            reasons.add(
                (key, index),
                "opens the API server to the internet; list your networks, or opt out in two "
                f"explicit steps: set {path.rpartition('.')[2]}.allowPublicFromAnywhere: true and "
                f"list {check_id} under {PROJECT}:policy.allow",
            )
            continue
        public.append(str(cidr))
    if anywhere and [c for c in public if c != "0.0.0.0/0"]:
        reasons.add("allowPublicFromAnywhere", f"contradicts the {key} listed; keep one of them")
        return ()
    if anywhere:
        context.opt_outs[f"{path}.allowPublicFromAnywhere"] = check_id
        context.notices.append(f"{path}.allowPublicFromAnywhere is set: {anywhere_notice}")
        public = public or ["0.0.0.0/0"]
    return tuple(public)


def _cidr_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        raise fail(f"must be a list of CIDRs, got {show(value)}")
    return [str(item) for item in cast(list[Any], value)]


CidrList = Annotated[tuple[str, ...], BeforeValidator(_cidr_list)]
"""A list of networks, each checked by the object holding it (`api_networks`)."""


def chart_values(chart: versions.Chart) -> Check:
    """User chart overrides (absent or null: none), each key checked against the pinned chart's
    key index."""

    def check(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping | None):
            raise fail(f"must be an object, got {show(value)}")
        body = cast(Mapping[str, Any], value or {})
        index = chart_keys.load(versions.name_of(chart), chart.version)
        reasons = Reasons()
        for key in chart_keys.unknown_keys(index, body):
            reasons.add(
                (key,),
                f"the {index['chart']} chart {chart.version} does not read this key "
                f"(see {chart.source})",
            )
        reasons.check()
        return dict(body)

    return Check(check)


# Cost-allocation tags.

TagCloud = Literal["aws", "gcp", "azure"]
_AWS_TAG = re.compile(r"^[\w .:/=+\-@]*$", re.UNICODE)
_GCP_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_-]{0,62}$")
_GCP_LABEL_VALUE = re.compile(r"^[a-z0-9_-]{0,63}$")
_AZURE_TAG_NAME_FORBIDDEN = set("<>%&\\?/")
_TAG_LIMITS = {"aws": 50, "gcp": 64, "azure": 50}
"""Tags or labels per resource: AWS 50, GCP 64, Azure 50."""
OWN_TAGS = {
    "aws": ("osmo-backend/cluster", "managed-by"),
    "gcp": ("osmo-backend-cluster", "managed-by"),
    "azure": ("osmo-backend-cluster", "managed-by"),
}
"""Tags (labels on GCP) this stack puts on every cloud resource itself."""


def _tag_problem(cloud: TagCloud, key: str, value: str) -> str | None:
    if cloud == "aws":
        # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html (Tag naming
        # limits): keys 1-128 and values 0-256 Unicode characters of letters, digits, spaces and
        # _ . : / = + - @; the aws: prefix is reserved.
        if not 1 <= len(key) <= 128 or not _AWS_TAG.match(key):
            return "AWS tag keys are 1-128 letters, digits, spaces and _ . : / = + - @"
        if key.lower().startswith("aws:"):
            return "the aws: prefix is reserved for AWS's own tags"
        if len(value) > 256 or not _AWS_TAG.match(value):
            return "AWS tag values are up to 256 letters, digits, spaces and _ . : / = + - @"
    elif cloud == "gcp":
        # https://cloud.google.com/kubernetes-engine/docs/how-to/creating-managing-labels
        # (Requirements for cluster labels): keys 1-63 lowercase letters, digits, '_' and '-',
        # starting with a letter; values up to 63 of the same.
        if not _GCP_LABEL_KEY.match(key):
            return (
                "GCP label keys are 1-63 lowercase letters, digits, '_' and '-', starting with "
                "a lowercase letter"
            )
        if not _GCP_LABEL_VALUE.match(value):
            return "GCP label values are up to 63 lowercase letters, digits, '_' and '-'"
    else:
        # https://learn.microsoft.com/azure/azure-resource-manager/management/tag-resources
        # (Limitations): names up to 512 characters (128 on storage accounts, which the
        # workflow store is) without < > % & \ ? /, values up to 256.
        if not 1 <= len(key) <= 128 or _AZURE_TAG_NAME_FORBIDDEN & set(key):
            return "Azure tag names are 1-128 characters without < > % & \\ ? /"
        if len(value) > 256:
            return "Azure tag values are up to 256 characters"
    return None


def cloud_tags(cloud: TagCloud) -> Check:
    """Cost-allocation tags (labels on GCP) for every cloud resource of the stack, checked by
    the cloud's rules; this stack's own tags cannot be replaced."""

    def check(value: Any) -> dict[str, str]:
        if not isinstance(value, Mapping):
            raise fail(f"must be an object, got {show(value)}")
        body = cast(Mapping[str, Any], value)
        reasons = Reasons()
        own = OWN_TAGS[cloud]
        if len(body) + len(own) > _TAG_LIMITS[cloud]:
            reasons.add(
                "",
                f"{cloud} takes at most {_TAG_LIMITS[cloud]} tags per resource and this stack "
                f"sets {len(own)}: list at most {_TAG_LIMITS[cloud] - len(own)}",
            )
        for key, tag in sorted(body.items()):
            if not isinstance(tag, str):
                reasons.add((key,), f"tag values are strings; got {show(tag)} (quote it)")
            elif key in own:
                reasons.add((key,), "is set by this stack on every resource; it cannot be replaced")
            elif (reason := _tag_problem(cloud, str(key), tag)) is not None:
                reasons.add((key,), f"{show(key)}: {reason}")
        reasons.check()
        return dict(body)

    return Check(check)


# Node pools.

NODE_TYPE_LABEL = "node-type"
"""OSMO's node-role label (`node-type=operator|compute|gpu|jetson`)."""
GPU_TAINT_KEY = "nvidia.com/gpu"
GPU_TAINT_VALUE = "present"
GPU_TAINT_EFFECT = "NoSchedule"
POOL_LABEL = "osmo.nvidia.com/pool"
"""Set on every node of a pool this stack creates (`<pool name>`), at node creation: the node
selector of the pool's own OSMO platform."""
RESERVED_LABELS = (NODE_TYPE_LABEL, GPU_TAINT_KEY, POOL_LABEL)
"""Node labels this stack sets itself; a pool's `labels` cannot replace them."""
RESERVED_LABEL_DOMAINS = (
    "kubernetes.io",
    "k8s.io",
    "kubernetes.azure.com",
    "cloud.google.com",
    "eks.amazonaws.com",
)
"""Label prefixes owned by Kubernetes (the kubelet may not set `kubernetes.io`/`k8s.io` labels
beyond a fixed list: NodeRestriction) and by the clouds' node agents."""
RESERVED_TAINT_KEYS = (GPU_TAINT_KEY, "kubernetes.azure.com/scalesetpriority")
"""Taints this stack or the cloud sets itself (the GPU taint; AKS's spot taint)."""

PoolRole = Literal["operator", "compute", "gpu"]
TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECTS: tuple[TaintEffect, ...] = get_args(TaintEffect)


@dataclass(frozen=True)
class Taint:
    """An extra taint on every node of a pool (Kubernetes spelling of the effect)."""

    __pydantic_config__: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    key: str
    """Taint key (label key syntax)."""
    value: str
    """Taint value. Default: empty."""
    effect: TaintEffect
    """Taint effect."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        value = handler.resolve_ref_schema(handler(schema))
        value["required"] = ["key", "effect"]
        value["properties"]["value"]["default"] = ""
        return value

    def toleration(self) -> dict[str, str]:
        """The toleration that matches exactly this taint."""
        return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}


PoolRow = tuple[str, str, str, str, str, str, Sequence[Taint]]
"""One created pool as `osmo-backend plan` lists it: name, role, machine type, node counts, GPUs
per node, capacity type, extra taints."""


def _reserved_domain(key: str) -> str | None:
    prefix, slash, _name = key.rpartition("/")
    if not slash:
        return None
    for domain in RESERVED_LABEL_DOMAINS:
        if prefix == domain or prefix.endswith(f".{domain}"):
            return domain
    return None


def label_problem(key: Any, value: Any) -> str | None:
    """What is wrong with a Kubernetes label `key: value`, or None."""
    if (reason := label_key_problem(str(key))) is not None:
        return reason
    if not isinstance(value, str):
        return f"label values are strings; got {show(value)} (quote it)"
    return label_value_problem(value)


def _labels(value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise fail(f"must be an object, got {show(value)}")
    reasons = Reasons()
    for key, label in sorted(cast(Mapping[str, Any], value).items()):
        if key in RESERVED_LABELS:
            reasons.add(
                (key,),
                f"is set by this stack ({key} selects OSMO's pods onto the pool); it cannot be "
                "replaced",
            )
        elif (domain := _reserved_domain(str(key))) is not None:
            reasons.add(
                (key,),
                f"is in the {domain} domain, which Kubernetes or the cloud reserves for its own "
                "node labels",
            )
        elif (reason := label_problem(key, label)) is not None:
            reasons.add((key,), reason)
    reasons.check()
    return dict(cast(Mapping[str, str], value))


PoolLabels = Annotated[dict[str, str], BeforeValidator(_labels)]
"""A pool's extra Kubernetes node labels: valid keys and values, none of this stack's own
(`node-type`, the GPU label, the pool label) and none in Kubernetes' or a cloud's domain."""


def _taints(value: Any) -> tuple[Taint, ...]:
    if not isinstance(value, list):
        raise fail(f"must be a list of taints {{key, value, effect}}, got {show(value)}")
    reasons = Reasons()
    taints: list[Taint] = []
    for index, item in enumerate(cast(list[Any], value)):
        if not isinstance(item, Mapping):
            reasons.add(index, f"must be an object, got {show(item)}")
            continue
        body = cast(Mapping[str, Any], item)
        for extra in sorted(set(body) - {"key", "value", "effect"}):
            reasons.add(
                (index, extra),
                f"unknown key (allowed: {', '.join(sorted(('key', 'value', 'effect')))})",
            )
        key, text, effect = body.get("key"), body.get("value", ""), body.get("effect")
        if not isinstance(key, str) or not key:
            reasons.required(f"{index}.key", "is required (a label-style key)")
        elif key in RESERVED_TAINT_KEYS:
            reasons.add(
                (index, "key"),
                f"{key} is set by this stack or the cloud (gpu pools get "
                f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}, AKS spot pools their "
                "spot taint); it cannot be replaced",
            )
        elif (reason := label_problem(key, text)) is not None:
            reasons.add((index, "key"), reason)
        elif effect not in TAINT_EFFECTS:
            reasons.add(
                (index, "effect"), f"{show(effect)} is not one of: {', '.join(TAINT_EFFECTS)}"
            )
        elif any((t.key, t.effect) == (key, effect) for t in taints):
            reasons.add(index, f"a taint {key} with effect {effect} is listed twice")
        else:
            taints.append(Taint(key=key, value=text, effect=effect))
    reasons.check()
    return tuple(taints)


PoolTaints = Annotated[tuple[Taint, ...], BeforeValidator(_taints)]
"""A pool's extra taints (`{key, value, effect}`), next to the GPU taint gpu pools get anyway:
never the GPU or the cloud's spot taint, one per key and effect."""


def _zone_list(value: Any) -> list[str]:
    items = cast(list[Any], value) if isinstance(value, list) else None
    if not items:
        raise fail(f"must be a non-empty list, got {show(value)}")
    return [str(i) if not isinstance(i, bool) else repr(i) for i in items]


class Pool(Model):
    """What every created pool has: a name, an OSMO role, extra labels and taints, and the zones
    it is pinned to (checked against the cluster's by the cluster model: `pinned`). Kinds
    redeclare `name` (their length limit) and `role` (their roles)."""

    name: DnsLabel
    """Pool name (DNS-1123 label)."""
    role: Annotated[PoolRole, one_of(PoolRole)]
    """OSMO node role."""
    labels: PoolLabels = Field(default_factory=dict[str, str])
    """Extra Kubernetes node labels (not node-type, nvidia.com/gpu, osmo.nvidia.com/pool, nor
    kubernetes.io / k8s.io / cloud domains)."""
    taints: PoolTaints = ()
    """Extra taints (not on the operator pool); OSMO's platforms for the pool tolerate them."""
    zones: Annotated[tuple[str, ...], BeforeValidator(_zone_list)] = ()
    """Zones of the cluster the pool is pinned to. Default: every zone of the cluster."""

    @field_validator("taints", mode="before")
    @classmethod
    def _operator_untainted(cls, value: Any, info: ValidationInfo) -> Any:
        if info.data.get("role") == "operator" and value:
            raise fail(
                "the operator pool takes no extra taints: KAI, the GPU Operator, OSMO's operator "
                "and the cluster's add-ons run there and would not tolerate them"
            )
        return value


def operator_minimum(value: int, info: ValidationInfo) -> int:
    """A pool's minimum node count (a field validator after `role`): the operator pool keeps a
    node, since the add-ons run there (`field_validator("min_size")(operator_minimum)`)."""
    if info.data.get("role") == "operator" and value < 1:
        raise fail("operator pools need at least 1 node: add-ons run there")
    return value


def pinned(
    reasons: Reasons,
    at: tuple[str | int, ...],
    zones: Sequence[str],
    allowed: Sequence[str],
    what: str,
) -> None:
    """Zones (or subnets) one pool is pinned to: a subset of the cluster's, each once."""
    for index, zone in enumerate(zones):
        if zone not in allowed:
            reasons.add(
                (*at, index),
                f"{show(zone)} is not one of the cluster's {what}: {', '.join(allowed)}",
            )
    if len(set(zones)) != len(zones):
        reasons.add(at, f"lists one of the {what} twice")


_PLATFORM_NAME = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_.-]*[a-zA-Z0-9])?$")
"""OSMO's config names (NVIDIA/OSMO src/lib/utils/common.py CONFIG_NAME_REGEX)."""
ROLE_PLATFORMS = {"compute": "cpu", "gpu": "gpu"}
"""The role-level OSMO platforms every pool of a role is in (the pool's default platform)."""


def platform_name(pool: str) -> str:
    """The OSMO platform of one pool: its name, or `pool-<name>` where the name is a role-level
    platform's (`cpu`, `gpu`) or not an OSMO config name (a leading digit)."""
    if pool in ROLE_PLATFORMS.values() or not _PLATFORM_NAME.match(pool):
        return f"pool-{pool}"
    return pool


P = TypeVar("P", bound=Pool)


def default_pools(
    pool: type[P], defaults: Sequence[Mapping[str, Any]]
) -> Callable[[], tuple[P, ...]]:
    """`Field(default_factory=default_pools(MyPool, DEFAULTS))` for `nodePools`."""
    return lambda: tuple(pool.model_validate(p) for p in defaults)


@dataclass(frozen=True)
class PoolList:
    """Annotated metadata of `nodePools`: the kind's defaults when null; non-empty; names unique;
    an operator pool; one OSMO platform name per pool; with `driver_scope` (what the GPU
    Operator's cluster-wide switch is), one GPU driver owner for every gpu pool.
    `node_pools: Annotated[tuple[MyPool, ...], PoolList(DEFAULTS)] = Field(default_factory=...)`"""

    defaults: tuple[Mapping[str, Any], ...]
    driver_scope: str | None = None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(
            self._before,
            core_schema.no_info_after_validator_function(self._after, handler(source)),
        )

    def _before(self, value: Any) -> Any:
        raw = value if value is not None else [dict(p) for p in self.defaults]
        if not isinstance(raw, list) or not raw:
            raise fail(f"must be a non-empty list of node pools, got {show(raw)}")
        return cast(list[Any], raw)

    def _after(self, pools: tuple[Pool, ...]) -> tuple[Pool, ...]:
        reasons = Reasons()
        for index, pool in enumerate(pools):
            if pool.name in [p.name for p in pools[:index]]:
                reasons.add((index, "name"), f"pool {pool.name!r} is listed twice")
        reasons.check()
        if not any(p.role == "operator" for p in pools):
            reasons.add(
                "", "needs an operator pool (KAI, the GPU Operator and OSMO's operator run there)"
            )
        drivers = sorted({str(d) for p in pools if (d := getattr(p, "gpu_driver", None))})
        if not reasons and self.driver_scope is not None and len(drivers) > 1:
            reasons.add(
                "",
                f"gpu pools disagree on gpuDriver ({', '.join(drivers)}); the GPU Operator's "
                f"{self.driver_scope} cluster-wide, so every gpu pool needs the same one",
            )
        reasons.check()
        seen: dict[str, str] = {}
        for index, pool in enumerate(pools):
            if pool.role not in ROLE_PLATFORMS:
                continue
            name = platform_name(pool.name)
            if name in seen:
                reasons.add(
                    (index, "name"),
                    f"its OSMO platform would be named {name!r}, as pool {seen[name]!r}'s is; "
                    "rename one of them",
                )
            seen[name] = pool.name
        reasons.check()
        return pools
