"""Namespaces this project creates, each with Pod Security Admission labels.

The levels are decided here, in one place. `privileged` is allowed only for the namespaces named
in PRIVILEGED_NAMESPACES, each with the reason (DESIGN section 7).
"""

from collections.abc import Mapping
from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

PsaLevel = Literal["privileged", "baseline", "restricted"]

PRIVILEGED_NAMESPACES: Mapping[str, str] = {
    "gpu-operator": (
        "the GPU Operator's driver, toolkit, device-plugin and DCGM daemonsets need host paths, "
        "host PID and privileged containers"
    ),
    "node-exporter": (
        "the Prometheus node exporter reads host metrics through host network, host PID and "
        "host paths; it runs alone in the monitoring agents namespace"
    ),
}
"""The documented exceptions: roles whose pods cannot run under `baseline`."""

MANAGED_BY = {"app.kubernetes.io/managed-by": "osmo-backend"}


def psa_labels(enforce: PsaLevel, warn: PsaLevel) -> dict[str, str]:
    """Pod Security Admission labels: enforce one level, warn and audit against another."""
    return {
        "pod-security.kubernetes.io/enforce": enforce,
        "pod-security.kubernetes.io/warn": warn,
        "pod-security.kubernetes.io/audit": warn,
    }


def namespace(
    resource_name: str,
    *,
    name: str,
    enforce: PsaLevel,
    warn: PsaLevel,
    role: str,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Namespace:
    """A namespace for `role`; `privileged` only for the roles in PRIVILEGED_NAMESPACES."""
    if enforce == "privileged" and role not in PRIVILEGED_NAMESPACES:
        raise ValueError(f"namespace {name} ({role}) may not be privileged")
    return k8s.core.v1.Namespace(
        resource_name,
        metadata={"name": name, "labels": {**MANAGED_BY, **psa_labels(enforce, warn)}},
        opts=opts,
    )
