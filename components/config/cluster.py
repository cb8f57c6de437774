"""What every cluster kind shares: OSMO's node roles and the GPU stack profile. Each kind's own
config lives in `components/clusters/<kind>/config.py`; the kinds are registered in
`components.clusters.registry`.
"""

from typing import Annotated, Any, Literal, get_args

from components._validate import show
from components.config._model import Check, Model, fail

Role = Literal["operator", "compute", "gpu", "jetson"]
ROLES: tuple[Role, ...] = get_args(Role)
GpuComponentOwner = Literal["operator", "host"]
GPU_COMPONENT_OWNERS: tuple[GpuComponentOwner, ...] = get_args(GpuComponentOwner)


def _owner(value: Any) -> Any:
    if value is None or value in GPU_COMPONENT_OWNERS:
        return value or "operator"
    raise fail(
        f"{show(value)} is not one of: {', '.join(GPU_COMPONENT_OWNERS)} "
        "(operator: the GPU Operator installs it; host: the node image already has it)"
    )


class GpuStackSpec(Model):
    """Who provides the NVIDIA driver and container toolkit on GPU nodes."""

    driver: Annotated[GpuComponentOwner, Check(_owner)] = "operator"
    """Who installs the NVIDIA driver."""
    toolkit: Annotated[GpuComponentOwner, Check(_owner)] = "operator"
    """Who installs the container toolkit."""
