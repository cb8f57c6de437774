"""The stack-config contract (DESIGN section 3): a typed, validated model of `osmo-backend:*` keys.

`load_spec` takes the flat config map Pulumi hands a program (`{"osmo-backend:cluster": "<json>"}`),
checks everything, and either returns a `StackSpec` or raises `ConfigError` listing every problem as
`osmo-backend:<key>.<path>: <reason>`. It runs before any resource is registered.
"""

import difflib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from components._validate import ConfigError, Problems, unknown_keys

if TYPE_CHECKING:
    from components.clusters.registry import ClusterSpec
from components.clusters.registry import KINDS, ClusterKind, parse_cluster
from components.config._common import (
    BACKEND_TOKEN_KEY,
    CONTROL_PLANE_KUBECONFIG_KEY,
    KUBECONFIG_SECRET_KEY,
    NGC_API_KEY,
    PREVIOUS_BACKEND_TOKEN_KEY,
    SECRET_PLACEHOLDER_PREFIX,
    KubeconfigSource,
    decode,
    is_placeholder,
)
from components.config._model import PROJECT, Ctx
from components.config._rules import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_TYPE_LABEL,
)
from components.config.cluster import GpuStackSpec, Role
from components.config.monitoring import (
    IngressSpec,
    MonitoringSpec,
    WebUiSpec,
    parse_monitoring,
)
from components.config.networking import (
    IngressControllerSpec,
    IngressTlsSpec,
    NetworkingSpec,
    WorkflowPolicySpec,
    parse_networking,
)
from components.config.operators import OperatorsSpec, ReleaseSpec, parse_operators
from components.config.osmo import (
    TOKEN_PATTERN,
    ControlPlaneSpec,
    OsmoSpec,
    PullSecretSpec,
    TokenSpec,
    parse_osmo,
)
from components.config.policy import PolicySpec, parse_policy
from components.config.storage import BucketSpec, StorageSpec, WorkflowDataSpec, parse_storage

__all__ = [
    "BACKEND_TOKEN_KEY",
    "CONTROL_PLANE_KUBECONFIG_KEY",
    "GPU_TAINT_EFFECT",
    "GPU_TAINT_KEY",
    "GPU_TAINT_VALUE",
    "KUBECONFIG_SECRET_KEY",
    "NGC_API_KEY",
    "NODE_TYPE_LABEL",
    "PREVIOUS_BACKEND_TOKEN_KEY",
    "PROJECT",
    "SECRET_PLACEHOLDER_PREFIX",
    "TOKEN_PATTERN",
    "BucketSpec",
    "ClusterKind",
    "ConfigError",
    "ControlPlaneSpec",
    "GpuStackSpec",
    "IngressControllerSpec",
    "IngressSpec",
    "IngressTlsSpec",
    "KubeconfigSource",
    "MonitoringSpec",
    "NetworkingSpec",
    "OperatorsSpec",
    "OsmoSpec",
    "PolicySpec",
    "PullSecretSpec",
    "ReleaseSpec",
    "Role",
    "StackSpec",
    "StorageSpec",
    "TokenSpec",
    "WebUiSpec",
    "WorkflowDataSpec",
    "WorkflowPolicySpec",
    "current_config",
    "is_placeholder",
    "load_spec",
]

# Keys that hold credentials: they must be Pulumi secrets (`pulumi config set --secret`).
_SECRET_KEYS = {
    "kubeconfig": "cluster credentials",
    "backendToken": "the OSMO backend bootstrap token",
    "previousBackendToken": "the previous OSMO backend bootstrap token",
    "controlPlaneKubeconfig": "control-plane cluster credentials",
    "ngcApiKey": "an NGC API key",
    "storageAccessKeyId": "the workflow data bucket's access key id",
    "storageSecretAccessKey": "the workflow data bucket's secret access key",
}


# Config namespaces a stack may set: this project's, the engine's and those of the providers the
# program uses (their provider config, such as aws:region). Any other is a misspelling or a key
# nothing reads.
_NAMESPACES = (PROJECT, "pulumi", "kubernetes", "aws", "gcp", "azure-native", "random", "time")


def _unknown_namespaces(problems: Problems, raw: Mapping[str, Any]) -> None:
    for key in sorted(raw):
        namespace, colon, name = key.partition(":")
        if not colon or namespace in _NAMESPACES:
            continue
        close = difflib.get_close_matches(namespace, _NAMESPACES, n=1)
        hint = f"; did you mean {close[0]}:{name}?" if close else ""
        problems.add(
            key,
            f"unknown config namespace {namespace!r}{hint} (a stack sets "
            f"{', '.join(n + ':' for n in _NAMESPACES)} keys)",
        )


SECTIONS: dict[str, type[Any]] = {
    "cluster": object,  # one model per kind: components.clusters.registry KINDS
    "osmo": OsmoSpec,
    "operators": OperatorsSpec,
    "monitoring": MonitoringSpec,
    "networking": NetworkingSpec,
    "storage": StorageSpec,
    "policy": PolicySpec,
}
"""The object keys and their models, in the order the schema and messages list them."""
SECRET_KEYS = _SECRET_KEYS

# Top-level keys this project reads.
_KEYS = (*SECTIONS, *_SECRET_KEYS)


@dataclass(frozen=True)
class StackSpec:
    cluster: "ClusterSpec"
    osmo: OsmoSpec
    operators: OperatorsSpec
    monitoring: MonitoringSpec = field(default_factory=MonitoringSpec)
    networking: NetworkingSpec = field(default_factory=NetworkingSpec)
    storage: StorageSpec = field(default_factory=StorageSpec)
    policy: PolicySpec = field(default_factory=PolicySpec)
    notices: tuple[str, ...] = ()
    """Things the user should know that are not errors (for example unchecked placeholders)."""


def _default_ingress_class(monitoring: MonitoringSpec, class_name: str) -> MonitoringSpec:
    """Web UI ingresses without a class use the controller this stack installs."""

    def with_class(ui: WebUiSpec | None) -> WebUiSpec | None:
        if ui is None or ui.ingress is None or ui.ingress.class_name is not None:
            return ui
        ingress = ui.ingress.model_copy(update={"class_name": class_name})
        return ui.model_copy(update={"ingress": ingress})

    grafana, dashboard = with_class(monitoring.grafana), with_class(monitoring.dashboard)
    return monitoring.model_copy(update={"grafana": grafana, "dashboard": dashboard})


def current_config() -> tuple[dict[str, Any], frozenset[str]]:
    """The flat config map and secret keys of the running Pulumi program (CLI or mocks)."""
    from pulumi.runtime import config as runtime_config

    raw: dict[str, Any] = dict(runtime_config.get_config_env())
    raw.update(runtime_config.CONFIG.get())
    env_secrets = set(runtime_config.get_config_secret_keys_env())
    secret = frozenset(k for k in raw if k in env_secrets or runtime_config.is_config_secret(k))
    return raw, secret


def project_config(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The `osmo-backend:*` keys of a flat config map, without the namespace."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: v for k, v in raw.items() if k.startswith(prefix)}


def _raw_kind(value: Any) -> Any:
    body = decode(Problems(), "", value)
    return body.get("kind") if isinstance(body, dict) else None  # pyright: ignore[reportUnknownMemberType]


def load_spec(
    raw: Mapping[str, Any],
    secret_keys: Collection[str] = (),
    base_dir: Path | None = None,
) -> StackSpec:
    """Validate the whole stack config at once; raise `ConfigError` with every problem."""
    base_dir = base_dir if base_dir is not None else Path.cwd()
    problems = Problems()
    notices: list[str] = []
    cfg = project_config(raw)

    _unknown_namespaces(problems, raw)
    unknown_keys(
        problems,
        PROJECT,
        cfg,
        _KEYS,
        separator=":",
    )

    for key, what in _SECRET_KEYS.items():
        if cfg.get(key) is not None and f"{PROJECT}:{key}" not in secret_keys:
            problems.add(
                f"{PROJECT}:{key}",
                f"holds {what} and must be a secret: "
                f"set it with `pulumi config set --secret {key} ...`",
            )

    context = Ctx(base_dir=base_dir, notices=notices, raw=raw)
    cluster = parse_cluster(problems, cfg.get("cluster"), context)
    kind: ClusterKind = cluster.kind if cluster is not None else "existing"
    # A network this stack creates is a range it knows; an adopted cluster's or network's it
    # does not. (A cloud cluster section with problems of its own is not second-guessed here.)
    raw_kind = _raw_kind(cfg.get("cluster"))
    cidrs_known = (cluster is not None and KINDS[cluster.kind].knows_cidrs(cluster)) or (
        cluster is None and raw_kind in KINDS and KINDS[raw_kind].cloud
    )
    context.cluster_kind = kind
    context.cluster_cidrs_known = bool(cidrs_known)
    osmo = parse_osmo(problems, cfg.get("osmo"), context)
    context.backend_name = osmo.backend_name if osmo is not None else None
    operators = parse_operators(problems, cfg.get("operators"), context)
    check_operators = KINDS[kind].check_operators
    if cluster is not None and operators is not None and check_operators is not None:
        check_operators(problems, cluster, operators)
    monitoring = parse_monitoring(problems, cfg.get("monitoring"), context)
    networking = parse_networking(problems, cfg.get("networking"), context)
    storage = parse_storage(
        problems, cfg.get("storage"), context, _raw_kind(cfg.get("cluster")) or kind
    )
    policy = parse_policy(problems, cfg.get("policy"), context)
    for where, check_id in {**problems.opt_outs, **context.opt_outs}.items():
        if policy is not None and check_id not in policy.allow:
            problems.add(
                where,
                f"opts out of a secure default; the second step is also required: list {check_id} "
                f"under {PROJECT}:policy.allow (README: Security checks)",
            )
    store = storage.object_store if storage is not None else None
    if store is not None and store.ingress_host and networking and networking.ingress is None:
        problems.add(
            f"{PROJECT}:storage.objectStore.ingressHost",
            "needs the stack's ingress controller (networking.ingress.enabled: true)",
        )
    problems.check()
    if networking is not None and monitoring is not None and networking.ingress is not None:
        monitoring = _default_ingress_class(monitoring, networking.ingress.class_name)
    if store is not None and store.ingress_host and networking and networking.ingress:
        # The store's ingress is served with the controller's TLS: OSMO gets an https URL.
        tls = networking.ingress.tls is not None
        store = store.model_copy(update={"tls": tls})
        storage = storage.model_copy(update={"object_store": store}) if storage else storage
    assert cluster is not None
    assert osmo is not None
    assert operators is not None
    assert monitoring is not None
    assert networking is not None
    assert storage is not None
    assert policy is not None
    return StackSpec(
        cluster=cluster,
        osmo=osmo,
        operators=operators,
        monitoring=monitoring,
        networking=networking,
        storage=storage,
        policy=policy,
        notices=tuple(notices),
    )
