"""Every pinned chart and image version, in one place, with where it comes from.

Bump deliberately, one at a time: regenerate the chart's key index
(components/chart_keys.py) and the golden values, and add a CHANGELOG line.
"""

import re
from dataclasses import dataclass

# Exact SemVer with an optional leading `v`: never a range, never `latest`.
EXACT_VERSION = re.compile(
    r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$"
)


@dataclass(frozen=True)
class Chart:
    """A Helm chart pinned to one version."""

    chart: str
    """Chart name in `repository`, or a full `oci://` reference (then `repository` is None)."""
    version: str
    repository: str | None
    source: str
    """Where its values.yaml at this version can be read."""

    def __post_init__(self) -> None:
        if not EXACT_VERSION.match(self.version):
            raise ValueError(f"chart {self.chart} version {self.version!r} is not an exact SemVer")


KAI_SCHEDULER = Chart(
    chart="oci://ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler",
    version="v0.16.8",
    repository=None,
    source="https://github.com/kai-scheduler/KAI-Scheduler/blob/v0.16.8/deployments/kai-scheduler/values.yaml",
)
"""KAI scheduler. From v0.15 the chart passes `scheduler.args` to the default SchedulingShard."""

GPU_OPERATOR = Chart(
    chart="gpu-operator",
    version="v25.10.1",
    repository="https://helm.ngc.nvidia.com/nvidia",
    source="https://github.com/NVIDIA/gpu-operator/blob/v25.10.1/deployments/gpu-operator/values.yaml",
)
"""NVIDIA GPU Operator; v25.10.1 is the first to render on Kubernetes 1.33+ (gpu-operator#1745)."""

BACKEND_OPERATOR = Chart(
    chart="backend-operator",
    version="1.4.0",
    repository="https://helm.ngc.nvidia.com/nvidia/osmo",
    source="https://github.com/NVIDIA/OSMO/blob/main/deployments/charts/backend-operator/values.yaml",
)
"""OSMO backend-operator chart 1.4.0 (app 6.4.0)."""

KUBE_PROMETHEUS_STACK = Chart(
    chart="kube-prometheus-stack",
    version="88.5.3",
    repository="https://prometheus-community.github.io/helm-charts",
    source="https://github.com/prometheus-community/helm-charts/blob/kube-prometheus-stack-88.5.3/charts/kube-prometheus-stack/values.yaml",
)
"""Prometheus Operator v0.93.1 (scrape classes with relabelings need >= v0.73), Grafana 13."""

PROMETHEUS_OPERATOR_CRDS = Chart(
    chart="prometheus-operator-crds",
    version="31.0.1",
    repository="https://prometheus-community.github.io/helm-charts",
    source="https://github.com/prometheus-community/helm-charts/blob/prometheus-operator-crds-31.0.1/charts/prometheus-operator-crds/values.yaml",
)
"""The Prometheus Operator CRDs on their own, installed first so every monitor user starts at once.
Its appVersion v0.93.1 is the operator kube-prometheus-stack 88.5.3 runs (both Chart.yaml files
at those tags in prometheus-community/helm-charts say `appVersion: v0.93.1`); bump the two
together. The CRDs are templates (charts/crds/templates/), not a `crds/` directory: Helm upgrades
them with the release and would delete them on uninstall, unless annotated to be kept."""

EPHEMERAL_STORAGE_METRICS = Chart(
    chart="k8s-ephemeral-storage-metrics",
    version="1.21.3",
    repository="https://jmcgrath207.github.io/k8s-ephemeral-storage-metrics/chart",
    source="https://github.com/jmcgrath207/k8s-ephemeral-storage-metrics/blob/1.21.3/chart/values.yaml",
)
"""Exports `ephemeral_storage_pod_usage`, which OSMO's workflow dashboard's Disk panel reads."""

LOKI = Chart(
    chart="loki",
    version="18.11.0",
    repository="https://grafana-community.github.io/helm-charts",
    source="https://github.com/grafana-community/helm-charts/blob/loki-18.11.0/charts/loki/values.yaml",
)
"""Loki 3.7 (the community chart: since March 2026 grafana's own `loki` chart is for GEL only)."""

ALLOY = Chart(
    chart="alloy",
    version="1.11.1",
    repository="https://grafana.github.io/helm-charts",
    source="https://github.com/grafana/alloy/blob/helm-chart/1.11.1/operations/helm/charts/alloy/values.yaml",
)
"""Grafana Alloy v1.18 as the log collector (Promtail reached end of life on 2026-03-02)."""

HEADLAMP = Chart(
    chart="headlamp",
    version="0.45.0",
    repository="https://kubernetes-sigs.github.io/headlamp/",
    source="https://github.com/kubernetes-sigs/headlamp/blob/headlamp-helm-0.45.0/charts/headlamp/values.yaml",
)
"""The Kubernetes web UI behind `dashboard_url`. The Kubernetes Dashboard project was archived in
January 2026 (its chart repository is gone) and names Headlamp as its replacement."""

TRAEFIK = Chart(
    chart="traefik",
    version="41.3.0",
    repository="https://traefik.github.io/charts",
    source="https://github.com/traefik/traefik-helm-chart/blob/v41.3.0/traefik/values.yaml",
)
"""Traefik v3.7 as the optional ingress controller (ingress-nginx was retired in March 2026)."""

CLUSTER_AUTOSCALER = Chart(
    chart="cluster-autoscaler",
    version="9.59.0",
    repository="https://kubernetes.github.io/autoscaler",
    source="https://github.com/kubernetes/autoscaler/blob/cluster-autoscaler-chart-9.59.0/cluster-autoscaler/charts/cluster-autoscaler/values.yaml",
)
"""Cluster Autoscaler v1.35 for EKS managed node groups (which do not scale by themselves)."""

OSMO_DASHBOARDS_REF = "6.3.1"
"""NVIDIA/OSMO release whose docs/deployment_guide/dashboards/*.json Grafana downloads."""
OSMO_DASHBOARDS = {
    "osmo-backend-operator": "backend_operator_observability.json",
    "osmo-workflow-resources": "workflow_resources_usage.json",
}
OSMO_DASHBOARD_BASE_URL = f"https://raw.githubusercontent.com/NVIDIA/OSMO/{OSMO_DASHBOARDS_REF}/docs/deployment_guide/dashboards"

PACKAGE_VERSION = "0.1.0"
"""Version of this project's multi-language package (plugin/); matches pyproject.toml."""

OSMO_IMAGE_TAG = "6.4.0"
"""OSMO image tag for the backend listener and worker; match the OSMO service version."""

OSMO_SERVICE_CHART = Chart(
    chart="service",
    version="1.4.0",
    repository="https://helm.ngc.nvidia.com/nvidia/osmo",
    source="https://github.com/NVIDIA/OSMO/blob/main/deployments/charts/service/values.yaml",
)
"""The OSMO service chart the merged `service-values` file is for (not installed by this
project); its release is `service` in namespace `osmo` in OSMO's deploy guide
(docs/deployment_guide/getting_started/deploy_service.rst: helm upgrade --install service
osmo/service -f ./osmo_values.yaml -n osmo)."""

OSMO_IMAGE_LOCATION = "nvcr.io/nvidia/osmo"
"""Where OSMO's images live (the service chart's `global.osmoImageLocation` default)."""

OSMO_TOKEN_FLOW_COMMIT = "27af88d8a"
"""NVIDIA/OSMO commit (#1275, 2026-08-11) that added `services.backendApiTokens` and the
backend token directory; service builds before it drop those values and reject the backend's
token ("Access Token is invalid")."""

OSMO_MIN_IMAGE_VERSION = (6, 4, 0)
"""The first OSMO version that can hold the token flow: every release tag up to 6.3.1 predates
#1275 (the service chart at 6.3.1 has no `backendApiTokens`), and the chart says 1.4.0 / app
6.4.0 both before and after it, so a build labelled 6.4.0 must come from #1275 or later."""

OSMO_MIN_DATED_TAG = (2026, 8, 11)
"""OSMO's dated development builds are tagged `YYYY.MM.DD.<hash>.stgN`
(.github/workflows/deployment-test.yaml): the first that can hold #1275 is from its merge day."""

_RELEASE_TAG = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)")


def osmo_image_problem(tag: str) -> str | None:
    """Why an OSMO image tag is older than the backend token flow, or None when it is not
    (versions compare numerically; a dated build by its date)."""
    match = _RELEASE_TAG.match(tag)
    if match is None:
        return None
    found = tuple(int(part) for part in match.groups())
    if found[0] >= 2000:
        if found >= OSMO_MIN_DATED_TAG:
            return None
        least = ".".join(f"{n:02d}" for n in OSMO_MIN_DATED_TAG)
        return f"is a build from before {least}"
    if found >= OSMO_MIN_IMAGE_VERSION:
        return None
    return f"is older than {'.'.join(map(str, OSMO_MIN_IMAGE_VERSION))}"


CHARTS = {
    "kai-scheduler": KAI_SCHEDULER,
    "gpu-operator": GPU_OPERATOR,
    "backend-operator": BACKEND_OPERATOR,
    "kube-prometheus-stack": KUBE_PROMETHEUS_STACK,
    "prometheus-operator-crds": PROMETHEUS_OPERATOR_CRDS,
    "k8s-ephemeral-storage-metrics": EPHEMERAL_STORAGE_METRICS,
    "loki": LOKI,
    "alloy": ALLOY,
    "headlamp": HEADLAMP,
    "traefik": TRAEFIK,
    "cluster-autoscaler": CLUSTER_AUTOSCALER,
}


def name_of(chart: Chart) -> str:
    """The short name a pinned chart goes by (its key index file, its namespace role)."""
    return next(name for name, pinned in CHARTS.items() if pinned == chart)
