"""Shared pieces of the stack-config parsers: config keys, JSON decoding, kubeconfig
sources, and small typed validators that report into `Problems`."""

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar, cast, get_args
from urllib.parse import urlparse

from components import chart_keys, versions
from components import kubeconfig as kc
from components._validate import (
    Problems,
    dns1123_subdomain_problem,
    expect_mapping,
    expect_str,
    label_key_problem,
    label_value_problem,
    show,
    unknown_keys,
)

PROJECT = "osmo-backend"


SECRET_PLACEHOLDER_PREFIX = "offline-placeholder-for-secret:"
"""The offline plan cannot decrypt `secure:` values; it substitutes this prefix + the key name."""


KUBECONFIG_SECRET_KEY = f"{PROJECT}:kubeconfig"


BACKEND_TOKEN_KEY = f"{PROJECT}:backendToken"


PREVIOUS_BACKEND_TOKEN_KEY = f"{PROJECT}:previousBackendToken"


CONTROL_PLANE_KUBECONFIG_KEY = f"{PROJECT}:controlPlaneKubeconfig"


NGC_API_KEY = f"{PROJECT}:ngcApiKey"


def is_placeholder(value: str) -> bool:
    return value.startswith(SECRET_PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class KubeconfigSource:
    """Where the kubeconfig came from and its checked, minified content."""

    origin: str
    """`file <path>` or `secret osmo-backend:kubeconfig`; safe to print."""
    content: str = field(repr=False)
    """Minified kubeconfig (one context). Secret: components wrap it in `Output.secret`."""
    context: str | None
    """The context used, or None when the content could not be checked (offline placeholder)."""
    server: str | None
    """API server URL of that context's cluster, or None when not checked."""


def decode(problems: Problems, path: str, value: Any) -> Any:
    """Pulumi passes object config as JSON strings; decode them (plain values pass through)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            problems.add(path, f"is not valid JSON ({err.msg} at position {err.pos})")
            return None
    return value


def required_section(
    problems: Problems, path: str, value: Any, needs: str
) -> Mapping[str, Any] | None:
    """A top-level object key: present, JSON-decoded (as the CLI passes it) and a mapping."""
    if value is None:
        problems.required(path, f"is required (an object with at least {needs})")
        return None
    return expect_mapping(problems, path, decode(problems, path, value))


def read_kubeconfig(
    problems: Problems,
    path: str,
    body: Mapping[str, Any],
    *,
    secret_key: str,
    secret_value: Any,
    base_dir: Path,
    notices: list[str],
) -> KubeconfigSource | None:
    """`body.kubeconfig` (a file) or `secret_value` (content), with `body.context`, checked."""
    file_value = body.get("kubeconfig")
    context = body.get("context")
    if context is not None and expect_str(problems, f"{path}.context", context) is None:
        return None
    if file_value is not None and secret_value is not None:
        problems.add(
            f"{path}.kubeconfig",
            f"set either a file path here or the secret {secret_key}, not both",
        )
        return None
    if file_value is None and secret_value is None:
        problems.required(
            f"{path}.kubeconfig",
            f"is required: a kubeconfig file path, or the content in the secret {secret_key}",
        )
        return None
    ctx = context if isinstance(context, str) else None

    if secret_value is not None:
        text = expect_str(problems, secret_key, secret_value)
        if text is None:
            return None
        origin = f"secret {secret_key}"
        if is_placeholder(text):
            notices.append(
                f"{secret_key} is a secure value the offline plan cannot decrypt; "
                "a placeholder stands in and its content (context, server) was not checked"
            )
            return KubeconfigSource(origin=origin, content=text, context=ctx, server=None)
        checked = kc.check(problems, secret_key, text, ctx, None)
    else:
        file_path = expect_str(problems, f"{path}.kubeconfig", file_value)
        if file_path is None:
            return None
        resolved = Path(file_path).expanduser()
        if not resolved.is_absolute():
            resolved = base_dir / resolved
        origin = f"file {file_path}"
        text = kc.read_file(problems, f"{path}.kubeconfig", resolved)
        if text is None:
            return None
        checked = kc.check(problems, f"{path}.kubeconfig", text, ctx, resolved.parent)
    if checked is None:
        return None
    return KubeconfigSource(
        origin=origin, content=checked.content, context=checked.context, server=checked.server
    )


def absolute_url(problems: Problems, path: str, value: Any, schemes: tuple[str, ...]) -> str | None:
    text = expect_str(problems, path, value)
    if text is None:
        return None
    parsed = urlparse(text)
    scheme = " or ".join(f"{s}://" for s in schemes)
    if parsed.scheme not in schemes or not parsed.hostname:
        problems.add(path, f"{show(text)} must be an absolute {scheme} URL with a host")
        return None
    if parsed.username is not None or parsed.password is not None:
        problems.add(path, "must not carry credentials (user:password@); the token authenticates")
        return None
    if parsed.query or parsed.fragment:
        problems.add(path, f"{show(text)} must not have a query or fragment")
        return None
    return text.rstrip("/")


def pattern(
    problems: Problems, path: str, value: Any, pattern: re.Pattern[str], what: str
) -> str | None:
    text = expect_str(problems, path, value)
    if text is not None and not pattern.match(text):
        problems.add(path, f"{show(text)} is not {what}")
        return None
    return text


def subdomain(problems: Problems, path: str, value: Any) -> str | None:
    text = expect_str(problems, path, value)
    if text is not None and (reason := dns1123_subdomain_problem(text)) is not None:
        problems.add(path, reason)
        return None
    return text


def flag(problems: Problems, path: str, value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    problems.add(path, f"must be true or false, got {show(value)}")
    return None


def section(
    problems: Problems, path: str, value: Any, allowed: tuple[str, ...]
) -> Mapping[str, Any] | None:
    """An optional nested object: {} when absent, None (reported) when not an object."""
    if value is None:
        return {}
    body = expect_mapping(problems, path, value)
    if body is not None:
        unknown_keys(problems, path, body, allowed)
    return body


def overrides(
    problems: Problems, path: str, value: Any, chart: versions.Chart
) -> Mapping[str, Any] | None:
    """User chart overrides, each key checked against the pinned chart's key index."""
    body = expect_mapping(problems, path, value if value is not None else {})
    if body is None:
        return None
    index = chart_keys.load(versions.name_of(chart), chart.version)
    bad = chart_keys.unknown_keys(index, body)
    for key in bad:
        problems.add(
            f"{path}.{key}",
            f"the {index['chart']} chart {chart.version} does not read this key "
            f"(see {chart.source})",
        )
    return None if bad else dict(body)


def whole_number(problems: Problems, path: str, value: Any, low: int, high: int) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems.add(path, f"must be a whole number from {low} to {high}, got {show(value)}")
        return None
    return value


def api_cidrs(
    problems: Problems,
    path: str,
    body: Mapping[str, Any],
    key: str,
    *,
    notices: list[str],
    anywhere_notice: str,
    check_id: str,
) -> tuple[str, ...]:
    """Networks allowed to reach a cloud API server: CIDRs, where 0.0.0.0/0 needs the explicit,
    logged `allowPublicFromAnywhere: true` (and the check `check_id` under policy.allow) and
    contradicts any other listed network."""
    anywhere = flag(
        problems, f"{path}.allowPublicFromAnywhere", body.get("allowPublicFromAnywhere", False)
    )
    raw = body.get(key, [])
    if not isinstance(raw, list):
        problems.add(f"{path}.{key}", f"must be a list of CIDRs, got {show(raw)}")
        return ()
    public: list[str] = []
    for index, item in enumerate(cast(list[Any], raw)):
        where = f"{path}.{key}[{index}]"
        try:
            cidr = ipaddress.ip_network(str(item), strict=True)
        except ValueError as err:
            problems.add(where, f"{show(item)} is not a CIDR ({err})")
            continue
        if cidr.prefixlen == 0 and not anywhere:
            problems.add(
                where,
                "opens the API server to the internet; list your networks, or opt out in two "
                f"explicit steps: set {path.rpartition('.')[2]}.allowPublicFromAnywhere: true and "
                f"list {check_id} under osmo-backend:policy.allow",
            )
            continue
        public.append(str(cidr))
    if anywhere and [c for c in public if c != "0.0.0.0/0"]:
        problems.add(
            f"{path}.allowPublicFromAnywhere",
            f"contradicts the {key} listed; keep one of them",
        )
        return ()
    if anywhere:
        problems.opt_outs[f"{path}.allowPublicFromAnywhere"] = check_id
        notices.append(f"{path}.allowPublicFromAnywhere is set: {anywhere_notice}")
        public = public or ["0.0.0.0/0"]
    return tuple(public)


MIN_KUBERNETES_MINOR = 30
"""OSMO's minimum Kubernetes version is 1.30."""
_MINOR_VERSION = re.compile(r"^1\.(\d+)$")


def kubernetes_version(problems: Problems, path: str, value: Any) -> str:
    """A quoted `1.<minor>` at or above OSMO's minimum (default 1.33)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        # YAML 1.1 and 1.2 resolve an unquoted 1.30 to the float 1.3 (PyYAML's and go-yaml's float
        # resolvers alike); the CLI then passes the object as JSON with that number.
        problems.add(
            path,
            f"is the number {value!r}: YAML reads an unquoted version as a number (1.30 becomes "
            '1.3); write it quoted, like kubernetesVersion: "1.30"',
        )
        return str(value)
    version = str(value if value is not None else "1.33")
    match = _MINOR_VERSION.match(version)
    if match is None or int(match.group(1)) < MIN_KUBERNETES_MINOR:
        problems.add(
            path,
            f"{show(version)} is not supported; use 1.{MIN_KUBERNETES_MINOR} or later, quoted",
        )
    return version


def private_cidr(problems: Problems, path: str, value: Any, low: int, high: int) -> str | None:
    """A private IPv4 network with a prefix from /low to /high."""
    try:
        network = ipaddress.ip_network(str(value), strict=True)
    except ValueError as err:
        problems.add(path, f"{show(value)} is not a CIDR ({err})")
        return None
    if network.version != 4 or not network.is_private or not low <= network.prefixlen <= high:
        problems.add(path, f"{value} must be a private IPv4 /{low} to /{high}")
        return None
    return str(network)


def report_overlaps(problems: Problems, path: str, ranges: Mapping[str, str | None]) -> None:
    """Each pair of overlapping ranges, reported on the later key."""
    known = [(k, ipaddress.ip_network(v)) for k, v in ranges.items() if v is not None]
    for index, (key, net) in enumerate(known):
        for other, other_net in known[index + 1 :]:
            if net.overlaps(other_net):
                problems.add(f"{path}.{other}", f"{other_net} overlaps {key} {net}")


class _Named(Protocol):
    @property
    def name(self) -> str: ...


_Pool = TypeVar("_Pool", bound=_Named)


def pool_list(
    problems: Problems,
    path: str,
    value: Any,
    defaults: Sequence[Mapping[str, Any]],
    parse_one: Callable[[str, Any], _Pool | None],
) -> list[_Pool] | None:
    """Node pools (the kind's defaults when absent): each parsed, names unique."""
    raw = value if value is not None else [dict(p) for p in defaults]
    if not isinstance(raw, list) or not raw:
        problems.add(path, f"must be a non-empty list of node pools, got {show(raw)}")
        return None
    pools: list[_Pool] = []
    ok = True
    for index, item in enumerate(cast(list[Any], raw)):
        pool = parse_one(f"{path}[{index}]", item)
        if pool is None:
            ok = False
        elif pool.name in {p.name for p in pools}:
            problems.add(f"{path}[{index}].name", f"pool {pool.name!r} is listed twice")
            ok = False
        else:
            pools.append(pool)
    return pools if ok else None


class _RolePool(Protocol):
    @property
    def role(self) -> str: ...


class _GpuPool(Protocol):
    @property
    def gpu_driver(self) -> str | None: ...


def has_operator_pool(problems: Problems, path: str, pools: Sequence[_RolePool]) -> bool:
    if any(p.role == "operator" for p in pools):
        return True
    problems.add(
        path, "needs an operator pool (KAI, the GPU Operator and OSMO's operator run there)"
    )
    return False


def one_gpu_driver(
    problems: Problems, path: str, pools: Sequence[_GpuPool], cluster_wide: str
) -> bool:
    """Every GPU pool names the same driver owner (the GPU Operator's switches are
    cluster-wide); `cluster_wide` says what is."""
    drivers = sorted({p.gpu_driver for p in pools if p.gpu_driver})
    if len(drivers) <= 1:
        return True
    problems.add(
        path,
        f"gpu pools disagree on gpuDriver ({', '.join(drivers)}); the GPU Operator's "
        f"{cluster_wide} cluster-wide, so every gpu pool needs the same one",
    )
    return False


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


TaintEffect = Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]
TAINT_EFFECTS: tuple[TaintEffect, ...] = get_args(TaintEffect)


@dataclass(frozen=True)
class Taint:
    """An extra taint on every node of a pool (Kubernetes spelling of the effect)."""

    key: str
    value: str
    effect: TaintEffect

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


def _label_pair(problems: Problems, path: str, key: Any, value: Any) -> bool:
    if (reason := label_key_problem(str(key))) is not None:
        problems.add(path, reason)
    elif not isinstance(value, str):
        problems.add(path, f"label values are strings; got {show(value)} (quote it)")
    elif (reason := label_value_problem(value)) is not None:
        problems.add(path, reason)
    else:
        return True
    return False


def pool_labels(problems: Problems, path: str, value: Any) -> dict[str, str] | None:
    """A pool's extra Kubernetes node labels: valid keys and values, none of this stack's own
    (`node-type`, the GPU label, the pool label) and none in Kubernetes' or a cloud's domain."""
    if value is None:
        return {}
    body = expect_mapping(problems, path, value)
    if body is None:
        return None
    before = len(problems.lines)
    out: dict[str, str] = {}
    for key, label in sorted(body.items()):
        where = f"{path}.{key}"
        if key in RESERVED_LABELS:
            problems.add(
                where,
                f"is set by this stack ({key} selects OSMO's pods onto the pool); it cannot be "
                "replaced",
            )
        elif (domain := _reserved_domain(str(key))) is not None:
            problems.add(
                where,
                f"is in the {domain} domain, which Kubernetes or the cloud reserves for its own "
                "node labels",
            )
        elif _label_pair(problems, where, key, label):
            out[str(key)] = label
    return out if len(problems.lines) == before else None


_TAINT_KEYS = ("key", "value", "effect")


def pool_taints(problems: Problems, path: str, value: Any, role: Any) -> tuple[Taint, ...] | None:
    """A pool's extra taints (`{key, value, effect}`), next to the GPU taint gpu pools get
    anyway: never the GPU or the cloud's spot taint, never on the operator pool (the add-ons
    run there and tolerate no taint of yours), one per key and effect."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.add(path, f"must be a list of taints {{key, value, effect}}, got {show(value)}")
        return None
    if role == "operator" and value:
        problems.add(
            path,
            "the operator pool takes no extra taints: KAI, the GPU Operator, OSMO's operator and "
            "the cluster's add-ons run there and would not tolerate them",
        )
        return None
    before = len(problems.lines)
    taints: list[Taint] = []
    for index, item in enumerate(cast(list[Any], value)):
        where = f"{path}[{index}]"
        body = expect_mapping(problems, where, item)
        if body is None:
            continue
        unknown_keys(problems, where, body, _TAINT_KEYS)
        key, text, effect = body.get("key"), body.get("value", ""), body.get("effect")
        if not isinstance(key, str) or not key:
            problems.required(f"{where}.key", "is required (a label-style key)")
            continue
        if key in RESERVED_TAINT_KEYS:
            problems.add(
                f"{where}.key",
                f"{key} is set by this stack or the cloud (gpu pools get "
                f"{GPU_TAINT_KEY}={GPU_TAINT_VALUE}:{GPU_TAINT_EFFECT}, AKS spot pools their "
                "spot taint); it cannot be replaced",
            )
            continue
        if not _label_pair(problems, f"{where}.key", key, text):
            continue
        if effect not in TAINT_EFFECTS:
            problems.add(
                f"{where}.effect", f"{show(effect)} is not one of: {', '.join(TAINT_EFFECTS)}"
            )
            continue
        taint = Taint(key=key, value=text, effect=effect)
        if any((t.key, t.effect) == (key, effect) for t in taints):
            problems.add(where, f"a taint {key} with effect {effect} is listed twice")
            continue
        taints.append(taint)
    return tuple(taints) if len(problems.lines) == before else None


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


class _PlatformPool(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def role(self) -> str: ...


def unique_platforms(problems: Problems, path: str, pools: Sequence[_PlatformPool]) -> bool:
    """Each compute and gpu pool becomes an OSMO platform named after it: no two the same."""
    seen: dict[str, str] = {}
    ok = True
    for index, pool in enumerate(pools):
        if pool.role not in ROLE_PLATFORMS:
            continue
        name = platform_name(pool.name)
        if name in seen:
            problems.add(
                f"{path}[{index}].name",
                f"its OSMO platform would be named {name!r}, as pool {seen[name]!r}'s is; "
                "rename one of them",
            )
            ok = False
        seen[name] = pool.name
    return ok


def pool_zones(
    problems: Problems, path: str, value: Any, allowed: Sequence[str], what: str
) -> tuple[str, ...] | None:
    """Zones one pool is pinned to: a non-empty subset of `allowed` (the cluster's), each once.
    Empty when not given (the pool spans the cluster's zones)."""
    if value is None:
        return ()
    items = cast(list[Any], value) if isinstance(value, list) else None
    if not items:
        problems.add(path, f"must be a non-empty list of {what}, got {show(value)}")
        return None
    before = len(problems.lines)
    for index, item in enumerate(items):
        if str(item) not in allowed or isinstance(item, bool):
            problems.add(
                f"{path}[{index}]",
                f"{show(item)} is not one of the cluster's {what}: {', '.join(allowed)}",
            )
    if len({str(z) for z in items}) != len(items):
        problems.add(path, f"lists one of the {what} twice")
    return tuple(str(z) for z in items) if len(problems.lines) == before else None


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


def cloud_tags(problems: Problems, path: str, value: Any, cloud: TagCloud) -> dict[str, str] | None:
    """Cost-allocation tags (labels on GCP) for every cloud resource of the stack, checked by
    the cloud's rules; this stack's own tags cannot be replaced."""
    if value is None:
        return {}
    body = expect_mapping(problems, path, value)
    if body is None:
        return None
    before = len(problems.lines)
    own = OWN_TAGS[cloud]
    if len(body) + len(own) > _TAG_LIMITS[cloud]:
        problems.add(
            path,
            f"{cloud} takes at most {_TAG_LIMITS[cloud]} tags per resource and this stack sets "
            f"{len(own)}: list at most {_TAG_LIMITS[cloud] - len(own)}",
        )
    out: dict[str, str] = {}
    for key, tag in sorted(body.items()):
        where = f"{path}.{key}"
        if not isinstance(tag, str):
            problems.add(where, f"tag values are strings; got {show(tag)} (quote it)")
        elif key in own:
            problems.add(where, "is set by this stack on every resource; it cannot be replaced")
        elif (reason := _tag_problem(cloud, str(key), tag)) is not None:
            problems.add(where, f"{show(key)}: {reason}")
        else:
            out[str(key)] = tag
    return out if len(problems.lines) == before else None
