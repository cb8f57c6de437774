"""`osmo-backend:operators`: KAI scheduler, GPU Operator and backend-operator releases."""

from typing import Annotated, Any

from pydantic import Field

from components import versions
from components._validate import RELEASE_NAME_MAX, Problems
from components.config._model import (
    Ctx,
    DnsLabel,
    Flag,
    Model,
    Section,
    dns_label,
    section,
)
from components.config._rules import chart_values

ReleaseName = Annotated[str, dns_label(RELEASE_NAME_MAX)]
_NAME = "Helm release name (DNS-1123 label, at most 53 characters)."
_NAMESPACE = "Namespace of the release."


def _values() -> Any:
    return Field(
        default_factory=dict[str, Any],
        description="Chart overrides, deep-merged last; keys must be ones the chart reads.",
    )


class ReleaseSpec(Model):
    """A Helm release of an add-on, in a namespace of its own."""

    release_name: ReleaseName = Field(description=_NAME)
    namespace: DnsLabel = Field(description=_NAMESPACE)
    values: dict[str, Any] = _values()


class KaiSchedulerSpec(ReleaseSpec):
    """KAI scheduler."""

    release_name: ReleaseName = Field(default="kai-scheduler", description=_NAME)
    namespace: DnsLabel = Field(default="kai-scheduler", description=_NAMESPACE)
    values: Annotated[dict[str, Any], chart_values(versions.KAI_SCHEDULER)] = _values()


class GpuOperatorSpec(ReleaseSpec):
    """NVIDIA GPU Operator."""

    release_name: ReleaseName = Field(default="gpu-operator", description=_NAME)
    namespace: DnsLabel = Field(default="gpu-operator", description=_NAMESPACE)
    values: Annotated[dict[str, Any], chart_values(versions.GPU_OPERATOR)] = _values()
    enabled: Flag = True
    """Install the GPU Operator; off when the cluster already runs a GPU stack (DGX/NVAIE)."""
    runtime_class_stub: Flag = True
    """With it off: create RuntimeClass nvidia (handler runc), which older OSMO pods name."""


class BackendOperatorSpec(Model):
    """OSMO backend-operator (in osmo.namespaces.operator)."""

    release_name: ReleaseName = Field(default="osmo-operator", description=_NAME)
    values: Annotated[dict[str, Any], chart_values(versions.BACKEND_OPERATOR)] = _values()
    wait: Flag = False
    """Wait for its pods to become ready (they are not until the service accepts the token)."""


class OperatorsSpec(Model):
    """Operators."""

    kai_scheduler: Annotated[KaiSchedulerSpec, Section] = KaiSchedulerSpec()
    """The KAI scheduler release."""
    gpu: Annotated[GpuOperatorSpec, Section] = Field(default=GpuOperatorSpec(), alias="gpuOperator")
    """The NVIDIA GPU Operator release."""
    backend_operator: Annotated[BackendOperatorSpec, Section] = BackendOperatorSpec()
    """The OSMO backend-operator release (in the operator namespace)."""

    @property
    def gpu_operator(self) -> ReleaseSpec | None:
        """None when the cluster already runs a GPU stack (gpuOperator.enabled: false)."""
        return self.gpu if self.gpu.enabled else None


def parse_operators(problems: Problems, value: Any, context: Ctx) -> OperatorsSpec | None:
    return section(problems, "operators", OperatorsSpec, value, context)
