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

OSMO_IMAGE_TAG = "6.4.0"
"""OSMO image tag for the backend listener and worker; match the OSMO service version."""

CHARTS = {
    "kai-scheduler": KAI_SCHEDULER,
    "gpu-operator": GPU_OPERATOR,
    "backend-operator": BACKEND_OPERATOR,
}


def name_of(chart: Chart) -> str:
    """The short name a pinned chart goes by (its key index file, its namespace role)."""
    return next(name for name, pinned in CHARTS.items() if pinned == chart)
