"""`osmo-backend:monitoring`: Prometheus/Grafana, alerts, logs and the Kubernetes web UI."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from components import versions
from components._validate import (
    Problems,
    expect_dns_label,
    show,
)
from components.clusters.registry import ClusterKind
from components.config._common import (
    PROJECT,
    absolute_url,
    decode,
    flag,
    overrides,
    pattern,
    section,
    subdomain,
)

LogsBackend = Literal["loki", "none", "cloud"]


LOGS_BACKENDS: tuple[LogsBackend, ...] = get_args(LogsBackend)


_DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")


_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")


@dataclass(frozen=True)
class IngressSpec:
    host: str
    class_name: str | None = None


@dataclass(frozen=True)
class WebUiSpec:
    """A web UI OSMO links to (Grafana, the Kubernetes web UI)."""

    url: str | None = None
    """External URL; default `https://<ingress host>` when an ingress is set."""
    ingress: IngressSpec | None = None

    @property
    def external_url(self) -> str | None:
        if self.url is not None:
            return self.url
        return f"https://{self.ingress.host}" if self.ingress is not None else None


@dataclass(frozen=True)
class MonitoringSpec:
    cluster_label: str = ""
    """`cluster` label on every series and log line; default: the backend name."""
    enabled: bool = True
    namespace: str = "monitoring"
    agents_namespace: str = "monitoring-agents"
    """Node agents (node exporter, log collector) need host access: PSA privileged, kept apart."""
    retention: str = "15d"
    storage_size: str = "50Gi"
    storage_class: str | None = None
    """None: the cluster's default StorageClass."""
    grafana: WebUiSpec = WebUiSpec()
    alerts: bool = True
    ephemeral_storage_metrics: bool = True
    logs: LogsBackend = "loki"
    logs_retention: str = "7d"
    logs_storage_size: str = "20Gi"
    dashboard: WebUiSpec | None = None
    """The Kubernetes web UI (Headlamp), when enabled."""
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict[str, Mapping[str, Any]])
    """Chart overrides by release (prometheus, ephemeralStorageMetrics, loki, collector,
    dashboard)."""


def _web_ui(problems: Problems, path: str, body: Mapping[str, Any]) -> WebUiSpec | None:
    url = body.get("url")
    if url is not None:
        url = absolute_url(problems, f"{path}.url", url, ("https", "http"))
        if url is None:
            return None
    ingress = None
    raw = section(problems, f"{path}.ingress", body.get("ingress"), ("host", "className"))
    if raw is None:
        return None
    if raw:
        host = subdomain(problems, f"{path}.ingress.host", raw.get("host"))
        class_name = raw.get("className")
        if class_name is not None:
            class_name = expect_dns_label(problems, f"{path}.ingress.className", class_name)
            if class_name is None:
                return None
        if host is None:
            return None
        ingress = IngressSpec(host=host, class_name=class_name)
    return WebUiSpec(url=url, ingress=ingress)


_MONITORING_KEYS = (
    "enabled",
    "clusterLabel",
    "namespace",
    "agentsNamespace",
    "prometheus",
    "grafana",
    "alerts",
    "ephemeralStorageMetrics",
    "logs",
    "dashboard",
)


_MONITORING_CHARTS = {
    "prometheus": versions.KUBE_PROMETHEUS_STACK,
    "ephemeralStorageMetrics": versions.EPHEMERAL_STORAGE_METRICS,
    "loki": versions.LOKI,
    "collector": versions.ALLOY,
    "dashboard": versions.HEADLAMP,
}


def _cluster_label(problems: Problems, path: str, value: Any, *, notices: list[str]) -> str | None:
    if value is None:
        return None
    label = pattern(
        problems, f"{path}.clusterLabel", value, _LABEL_VALUE, "a Prometheus label value"
    )
    if label is not None and "osmo" not in label:
        notices.append(
            f"OSMO's dashboards list only clusters whose `cluster` label contains 'osmo'; "
            f"{label!r} will not appear in their cluster picker: set osmo-backend:monitoring."
            "clusterLabel, or widen the picker's regex in Grafana"
        )
    return label


def _logs_backend(
    problems: Problems, path: str, value: Any, cluster_kind: ClusterKind
) -> LogsBackend | None:
    if value not in LOGS_BACKENDS:
        problems.add(
            f"{path}.logs.backend", f"{show(value)} is not one of: {', '.join(LOGS_BACKENDS)}"
        )
        return None
    if value == "cloud" and cluster_kind == "existing":
        problems.add(
            f"{path}.logs.backend",
            "'cloud' needs a cloud cluster (EKS Container Insights, GKE Cloud Logging, AKS "
            "Container Insights); an existing cluster has none: use 'loki' or 'none'",
        )
        return None
    if value == "cloud":
        problems.add(
            f"{path}.logs.backend",
            f"'cloud' (the {cluster_kind.upper()} provider's log service) is not built yet: use "
            "'loki' or 'none'",
        )
        return None
    return value


def parse_monitoring(
    problems: Problems,
    value: Any,
    *,
    cluster_kind: ClusterKind,
    backend_name: str | None,
    notices: list[str],
) -> MonitoringSpec | None:
    path = f"{PROJECT}:monitoring"
    body = section(problems, path, decode(problems, path, value), _MONITORING_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    enabled = flag(problems, f"{path}.enabled", body.get("enabled", True))
    alerts = flag(problems, f"{path}.alerts", body.get("alerts", True))
    defaults = MonitoringSpec()
    namespace = expect_dns_label(
        problems, f"{path}.namespace", body.get("namespace", defaults.namespace)
    )
    agents = expect_dns_label(
        problems, f"{path}.agentsNamespace", body.get("agentsNamespace", defaults.agents_namespace)
    )
    if namespace is not None and namespace == agents:
        problems.add(
            f"{path}.agentsNamespace",
            "must differ from namespace: node agents run privileged, the rest does not",
        )
    values: dict[str, Mapping[str, Any]] = {}
    label = _cluster_label(
        problems, path, body.get("clusterLabel", backend_name), notices=notices if enabled else []
    )

    prom = (
        section(
            problems,
            f"{path}.prometheus",
            body.get("prometheus"),
            ("retention", "storageSize", "storageClass", "values"),
        )
        or {}
    )
    retention = pattern(
        problems,
        f"{path}.prometheus.retention",
        prom.get("retention", defaults.retention),
        _DURATION,
        "a Prometheus duration like 15d, 12h or 2w",
    )
    size = pattern(
        problems,
        f"{path}.prometheus.storageSize",
        prom.get("storageSize", defaults.storage_size),
        _QUANTITY,
        "a storage quantity like 50Gi",
    )
    storage_class = prom.get("storageClass")
    if storage_class is not None:
        storage_class = subdomain(problems, f"{path}.prometheus.storageClass", storage_class)

    grafana_body = section(problems, f"{path}.grafana", body.get("grafana"), ("url", "ingress"))
    grafana = (
        _web_ui(problems, f"{path}.grafana", grafana_body) if grafana_body is not None else None
    )

    esm = (
        section(
            problems,
            f"{path}.ephemeralStorageMetrics",
            body.get("ephemeralStorageMetrics"),
            ("enabled", "values"),
        )
        or {}
    )
    esm_enabled = flag(
        problems, f"{path}.ephemeralStorageMetrics.enabled", esm.get("enabled", True)
    )

    logs = (
        section(
            problems,
            f"{path}.logs",
            body.get("logs"),
            ("backend", "retention", "storageSize", "lokiValues", "collectorValues"),
        )
        or {}
    )
    backend = _logs_backend(problems, path, logs.get("backend", defaults.logs), cluster_kind)
    logs_retention = pattern(
        problems,
        f"{path}.logs.retention",
        logs.get("retention", defaults.logs_retention),
        _DURATION,
        "a duration like 7d or 168h",
    )
    logs_size = pattern(
        problems,
        f"{path}.logs.storageSize",
        logs.get("storageSize", defaults.logs_storage_size),
        _QUANTITY,
        "a storage quantity like 20Gi",
    )

    dash_body = section(
        problems,
        f"{path}.dashboard",
        body.get("dashboard"),
        ("enabled", "url", "ingress", "values"),
    )
    dashboard = None
    dash_on = flag(problems, f"{path}.dashboard.enabled", (dash_body or {}).get("enabled", False))
    if dash_body is not None and dash_on:
        dashboard = _web_ui(problems, f"{path}.dashboard", dash_body)

    for key, given, field_name in (
        ("prometheus", prom, "values"),
        ("ephemeralStorageMetrics", esm, "values"),
        ("loki", logs, "lokiValues"),
        ("collector", logs, "collectorValues"),
        ("dashboard", dash_body or {}, "values"),
    ):
        where = f"{path}.{'logs' if key in ('loki', 'collector') else key}.{field_name}"
        checked = overrides(problems, where, given.get(field_name), _MONITORING_CHARTS[key])
        if checked:
            values[key] = checked

    if len(problems.lines) > before:
        return None
    # Every None above was reported, so none is left here.
    assert enabled is not None
    assert alerts is not None
    assert esm_enabled is not None
    assert namespace is not None
    assert agents is not None
    assert grafana is not None
    assert retention is not None
    assert size is not None
    assert logs_retention is not None
    assert logs_size is not None
    assert backend is not None
    return MonitoringSpec(
        cluster_label=label or "",
        enabled=enabled,
        namespace=namespace,
        agents_namespace=agents,
        retention=retention,
        storage_size=size,
        storage_class=storage_class,
        grafana=grafana,
        alerts=alerts,
        ephemeral_storage_metrics=esm_enabled,
        logs=backend or "none",
        logs_retention=logs_retention,
        logs_storage_size=logs_size,
        dashboard=dashboard,
        values=values,
    )
