"""`osmo-backend:monitoring`: Prometheus/Grafana, alerts, logs and the Kubernetes web UI."""

import re
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components import versions
from components._validate import Problems
from components.config._model import (
    Check,
    Ctx,
    DnsLabel,
    DnsSubdomain,
    Flag,
    IfEnabled,
    Model,
    Section,
    Values,
    ctx,
    fail,
    given_or,
    matching,
    one_of,
    section,
    url,
)
from components.config._rules import chart_values

LogsBackend = Literal["loki", "none", "cloud"]
_DURATION = re.compile(r"^[0-9]+(ms|s|m|h|d|w|y)$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")


HttpUrl = Annotated[str, url("https", "http")]


class IngressSpec(Model):
    """An Ingress for a web UI."""

    host: DnsSubdomain
    """Ingress host name."""
    class_name: DnsLabel | None = None
    """IngressClass name. Default: the class of the ingress controller the stack installs."""


class WebUiSpec(Model):
    """A web UI OSMO links to (Grafana, the Kubernetes web UI)."""

    url: HttpUrl | None = None
    """External URL. Default: `https://<ingress host>` when an ingress is set."""
    ingress: Annotated[IngressSpec | None, Check(lambda v: None if v == {} else v)] = None
    """The ingress that serves it (`{}`: none)."""

    @property
    def external_url(self) -> str | None:
        if self.url is not None:
            return self.url
        return f"https://{self.ingress.host}" if self.ingress is not None else None


class DashboardSpec(WebUiSpec):
    """The Kubernetes web UI (Headlamp)."""

    enabled: Flag = False
    """Install the web UI."""
    values: Annotated[Values, chart_values(versions.HEADLAMP)] = Field(default_factory=dict)
    """Chart overrides."""


class PrometheusSpec(Model):
    """Prometheus (kube-prometheus-stack): retention, storage, chart overrides."""

    retention: Annotated[str, matching(_DURATION, "a Prometheus duration like 15d, 12h or 2w")] = (
        "15d"
    )
    """Prometheus retention."""
    storage_size: Annotated[str, matching(_QUANTITY, "a storage quantity like 50Gi")] = "50Gi"
    """Prometheus PVC size."""
    storage_class: DnsSubdomain | None = None
    """StorageClass. Default: the cluster's default StorageClass."""
    values: Annotated[Values, chart_values(versions.KUBE_PROMETHEUS_STACK)] = Field(
        default_factory=dict
    )
    """kube-prometheus-stack overrides."""


class StorageMetricsSpec(Model):
    """Ephemeral-storage metrics per pod (k8s-ephemeral-storage-metrics)."""

    enabled: Flag = True
    """Install k8s-ephemeral-storage-metrics."""
    values: Annotated[Values, chart_values(versions.EPHEMERAL_STORAGE_METRICS)] = Field(
        default_factory=dict
    )
    """Chart overrides."""


class LogsSpec(Model):
    """Container logs: Loki and the Alloy collector, or none."""

    backend: Annotated[LogsBackend, one_of(LogsBackend)] = "loki"
    """Log backend."""
    retention: Annotated[str, matching(_DURATION, "a duration like 7d or 168h")] = "7d"
    """Log retention."""
    storage_size: Annotated[str, matching(_QUANTITY, "a storage quantity like 20Gi")] = "20Gi"
    """Loki PVC size."""
    loki_values: Annotated[Values, chart_values(versions.LOKI)] = Field(default_factory=dict)
    """Loki chart overrides."""
    collector_values: Annotated[Values, chart_values(versions.ALLOY)] = Field(default_factory=dict)
    """Alloy chart overrides."""

    @field_validator("backend")
    @classmethod
    def _built(cls, backend: LogsBackend, info: ValidationInfo) -> LogsBackend:
        kind = ctx(info).cluster_kind
        if backend == "cloud":
            raise fail(
                "'cloud' needs a cloud cluster (EKS Container Insights, GKE Cloud Logging, AKS "
                "Container Insights); an existing cluster has none: use 'loki' or 'none'"
                if kind == "existing"
                else f"'cloud' (the {kind.upper()} provider's log service) is not built yet: "
                "use 'loki' or 'none'"
            )
        return backend


class MonitoringSpec(Model):
    """Monitoring and logging."""

    enabled: Flag = True
    """Install monitoring and logging."""
    cluster_label: Annotated[str, matching(_LABEL_VALUE, "a Prometheus label value")] = ""
    """`cluster` label on every series and log line. Default: backendName."""
    namespace: DnsLabel = "monitoring"
    """Monitoring namespace."""
    agents_namespace: DnsLabel = Field(default="monitoring-agents", validate_default=True)
    """Privileged namespace of the node agents (node exporter, log collector): they need host
    access (PSA privileged) and are kept apart."""
    prometheus: Annotated[PrometheusSpec, Section] = PrometheusSpec()
    """Prometheus: retention and storage."""
    grafana: Annotated[WebUiSpec, Section] = WebUiSpec()
    """Grafana's external URL or ingress."""
    alerts: Flag = True
    """Install OSMO alert rules."""
    ephemeral_storage_metrics: Annotated[StorageMetricsSpec, Section] = StorageMetricsSpec()
    """Per-pod ephemeral storage metrics."""
    logs: Annotated[LogsSpec, Section] = LogsSpec()
    """Pod logs: the backend, its retention and storage."""
    dashboard: Annotated[DashboardSpec | None, IfEnabled] = None
    """The Kubernetes web UI (Headlamp), when enabled."""

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any, info: ValidationInfo) -> Any:
        name = ctx(info).backend_name
        return given_or(data, info, {"clusterLabel": name} if name is not None else {})

    @field_validator("cluster_label")
    @classmethod
    def _picker(cls, label: str, info: ValidationInfo) -> str:
        if info.data.get("enabled") is True and "osmo" not in label:
            ctx(info).notices.append(
                f"OSMO's dashboards list only clusters whose `cluster` label contains 'osmo'; "
                f"{label!r} will not appear in their cluster picker: set osmo-backend:monitoring."
                "clusterLabel, or widen the picker's regex in Grafana"
            )
        return label

    @field_validator("agents_namespace")
    @classmethod
    def _apart(cls, agents: str, info: ValidationInfo) -> str:
        if agents == info.data.get("namespace"):
            raise fail("must differ from namespace: node agents run privileged, the rest does not")
        return agents

    @property
    def values(self) -> dict[str, Values]:
        """Chart overrides by release (prometheus, ephemeralStorageMetrics, loki, collector,
        dashboard)."""
        given = {
            "prometheus": self.prometheus.values,
            "ephemeralStorageMetrics": self.ephemeral_storage_metrics.values,
            "loki": self.logs.loki_values,
            "collector": self.logs.collector_values,
            "dashboard": self.dashboard.values if self.dashboard is not None else {},
        }
        return {key: body for key, body in given.items() if body}


def parse_monitoring(problems: Problems, value: Any, context: Ctx) -> MonitoringSpec | None:
    return section(problems, "monitoring", MonitoringSpec, value, context)
