"""`osmo-backend:monitoring`: defaults and rejected inputs."""

from typing import Any

import pytest

from components.config import ConfigError, StackSpec, load_spec
from tests.harness import REPO, config, encode


def spec(values: dict[str, Any]) -> StackSpec:
    return load_spec(encode(values), (), base_dir=REPO)


def problems(monitoring: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        spec(config(monitoring=monitoring))
    return err.value.problems


def test_monitoring_is_on_by_default_with_loki_and_no_web_ui() -> None:
    m = spec(config()).monitoring
    assert m.enabled is True
    assert m.cluster_label == "lab-backend"
    assert (m.namespace, m.agents_namespace) == ("monitoring", "monitoring-agents")
    assert (m.prometheus.retention, m.prometheus.storage_size, m.prometheus.storage_class) == (
        "15d",
        "50Gi",
        None,
    )
    assert (m.logs.backend, m.logs.retention, m.logs.storage_size) == ("loki", "7d", "20Gi")
    assert m.alerts is True
    assert m.ephemeral_storage_metrics.enabled is True
    assert m.dashboard is None
    assert m.grafana.external_url is None


def test_dashboards_notice_when_the_cluster_label_lacks_osmo() -> None:
    notices = spec(config()).notices
    assert notices == (
        "OSMO's dashboards list only clusters whose `cluster` label contains 'osmo'; "
        "'lab-backend' will not appear in their cluster picker: set osmo-backend:monitoring."
        "clusterLabel, or widen the picker's regex in Grafana",
    )
    assert spec(config(monitoring={"clusterLabel": "osmo-lab"})).notices == ()


def test_urls_come_from_url_or_ingress_host() -> None:
    m = spec(
        config(
            monitoring={
                "grafana": {"ingress": {"host": "g.example.com"}},
                "dashboard": {"enabled": True, "url": "https://k.example.com"},
            }
        )
    ).monitoring
    assert m.grafana.external_url == "https://g.example.com"
    assert m.dashboard is not None
    assert m.dashboard.external_url == "https://k.example.com"


@pytest.mark.parametrize(
    ("monitoring", "expected"),
    [
        (
            {"prometheus": {"retention": "15days"}},
            "osmo-backend:monitoring.prometheus.retention: '15days' is not a Prometheus duration "
            "like 15d, 12h or 2w",
        ),
        (
            {"prometheus": {"storageSize": "50GB"}},
            "osmo-backend:monitoring.prometheus.storageSize: '50GB' is not a storage quantity "
            "like 50Gi",
        ),
        (
            {"prometheus": {"storageClass": "Fast_SSD"}},
            "osmo-backend:monitoring.prometheus.storageClass: 'Fast_SSD' is not a DNS-1123 "
            "subdomain; use lowercase letters, digits, '-' and '.'",
        ),
        (
            {"logs": {"backend": "cloud"}},
            "osmo-backend:monitoring.logs.backend: 'cloud' needs a cloud cluster (EKS Container "
            "Insights, GKE Cloud Logging, AKS Container Insights); an existing cluster has none: "
            "use 'loki' or 'none'",
        ),
        (
            {"logs": {"backend": "elastic"}},
            "osmo-backend:monitoring.logs.backend: 'elastic' is not one of: loki, none, cloud",
        ),
        (
            {"logs": {"retention": "1 week"}},
            "osmo-backend:monitoring.logs.retention: '1 week' is not a duration like 7d or 168h",
        ),
        (
            {"grafana": {"url": "grafana.example.com"}},
            "osmo-backend:monitoring.grafana.url: 'grafana.example.com' must be an absolute "
            "https:// or http:// URL with a host",
        ),
        (
            {"grafana": {"ingress": {"host": "Grafana!"}}},
            "osmo-backend:monitoring.grafana.ingress.host: 'Grafana!' is not a DNS-1123 "
            "subdomain; use lowercase letters, digits, '-' and '.'",
        ),
        (
            {"agentsNamespace": "monitoring"},
            "osmo-backend:monitoring.agentsNamespace: must differ from namespace: node agents run "
            "privileged, the rest does not",
        ),
        (
            {"clusterLabel": "osmo lab"},
            "osmo-backend:monitoring.clusterLabel: 'osmo lab' is not a Prometheus label value",
        ),
        (
            {"dashboard": {"enabled": "yes"}},
            "osmo-backend:monitoring.dashboard.enabled: must be true or false, got 'yes'",
        ),
        (
            {"grafana": {"password": "x"}},
            "osmo-backend:monitoring.grafana.password: unknown key (allowed: ingress, url)",
        ),
        (
            {"prometheus": {"values": {"prometheus": {"prometheusSpec": {"retension": "1d"}}}}},
            "osmo-backend:monitoring.prometheus.values.prometheus.prometheusSpec.retension: the "
            "kube-prometheus-stack chart 88.5.3 does not read this key (see https://github.com/"
            "prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/"
            "kube-prometheus-stack/values.yaml)",
        ),
        (
            {"logs": {"lokiValues": {"singleBinary": {"replica": 2}}}},
            "osmo-backend:monitoring.logs.lokiValues.singleBinary.replica: the loki chart 18.11.0 "
            "does not read this key (see https://github.com/grafana-community/helm-charts/blob/"
            "loki-18.11.0/charts/loki/values.yaml)",
        ),
    ],
)
def test_rejected_monitoring_inputs(monitoring: dict[str, Any], expected: str) -> None:
    assert problems(monitoring) == (expected,)


def test_subchart_overrides_pass() -> None:
    m = spec(
        config(
            monitoring={"prometheus": {"values": {"grafana": {"adminPassword": "x"}}}},
        )
    ).monitoring
    assert m.values == {"prometheus": {"grafana": {"adminPassword": "x"}}}
