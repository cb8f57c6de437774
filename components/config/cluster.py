"""What every cluster kind shares: OSMO's node roles, the GPU stack profile, and the context a
kind's `cluster` section is parsed in. Each kind's own config lives in
`components/clusters/<kind>/config.py`; the kinds are registered in `components.clusters.registry`.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

Role = Literal["operator", "compute", "gpu", "jetson"]


ROLES: tuple[Role, ...] = get_args(Role)


GpuComponentOwner = Literal["operator", "host"]


GPU_COMPONENT_OWNERS: tuple[GpuComponentOwner, ...] = get_args(GpuComponentOwner)


@dataclass(frozen=True)
class GpuStackSpec:
    """Who provides the NVIDIA driver and container toolkit on GPU nodes."""

    driver: GpuComponentOwner = "operator"
    toolkit: GpuComponentOwner = "operator"


@dataclass(frozen=True)
class ClusterContext:
    """What a kind's parser reads besides its `cluster` section: the `kubeconfig` secret, the
    stack file's folder, the notices list and the providers' own config (aws:region, ...)."""

    secret_kubeconfig: Any
    base_dir: Path
    notices: list[str]
    aws_region: str | None = None
    gcp_project: str | None = None
    gcp_region: str | None = None
    azure_location: str | None = None
