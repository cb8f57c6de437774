"""The README's version table is checked against components/versions.py so the two never drift."""

import re

from components import versions
from tests.harness import REPO


def test_tested_versions_table_matches_the_pins() -> None:
    text = (REPO / "README.md").read_text()
    table = text.split("## Tested versions", 1)[1].split("\n\n", 2)[1]
    rows = [
        [cell.strip(" `") for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    pins = {row[0]: row[2] for row in rows}
    assert pins == {
        "KAI scheduler": versions.KAI_SCHEDULER.version,
        "NVIDIA GPU Operator": versions.GPU_OPERATOR.version,
        "OSMO backend-operator": versions.BACKEND_OPERATOR.version,
        "OSMO images (listener, worker)": versions.OSMO_IMAGE_TAG,
        "kube-prometheus-stack": versions.KUBE_PROMETHEUS_STACK.version,
        "Prometheus Operator CRDs": versions.PROMETHEUS_OPERATOR_CRDS.version,
        "k8s-ephemeral-storage-metrics": versions.EPHEMERAL_STORAGE_METRICS.version,
        "Loki": versions.LOKI.version,
        "Grafana Alloy": versions.ALLOY.version,
        "Headlamp (Kubernetes web UI)": versions.HEADLAMP.version,
        "Traefik (ingress controller)": versions.TRAEFIK.version,
        "Cluster Autoscaler (EKS)": versions.CLUSTER_AUTOSCALER.version,
        "OSMO Grafana dashboards": versions.OSMO_DASHBOARDS_REF,
    }
    assert versions.KAI_SCHEDULER.chart in table
    for chart in (
        versions.GPU_OPERATOR,
        versions.BACKEND_OPERATOR,
        versions.KUBE_PROMETHEUS_STACK,
        versions.PROMETHEUS_OPERATOR_CRDS,
        versions.EPHEMERAL_STORAGE_METRICS,
        versions.LOKI,
        versions.ALLOY,
        versions.HEADLAMP,
        versions.TRAEFIK,
        versions.CLUSTER_AUTOSCALER,
    ):
        assert f"`{chart.repository}` `{chart.chart}`" in table


def test_readme_starts_with_the_two_newcomer_commands() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    commands = [re.sub(r"\s+#.*$", "", line) for line in lines[3:5]]
    assert commands == ["uv run osmo-backend plan --stack onprem-lab", "uv run pytest"]
