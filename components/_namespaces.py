"""Namespaces this project creates, each with Pod Security Admission labels.

The levels are decided here, in one place. `privileged` is allowed only for the namespaces named
in PRIVILEGED_NAMESPACES, each with the reason (DESIGN section 7).
"""

from typing import Literal

import pulumi
import pulumi_kubernetes as k8s

from components._psa import PRIVILEGED_NAMESPACES, PSA_EXCEPTION_LABEL

PsaLevel = Literal["privileged", "baseline", "restricted"]


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
    role: str,
    enforce: PsaLevel = "baseline",
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.Namespace:
    """A namespace for `role`, enforcing `enforce` and warning/auditing against `restricted`
    (a privileged namespace warns at its own level); `privileged` only for the roles in
    PRIVILEGED_NAMESPACES."""
    if enforce == "privileged" and role not in PRIVILEGED_NAMESPACES:
        raise ValueError(f"namespace {name} ({role}) may not be privileged")
    warn: PsaLevel = "privileged" if enforce == "privileged" else "restricted"
    labels = {**MANAGED_BY, **psa_labels(enforce, warn)}
    if enforce == "privileged":
        labels[PSA_EXCEPTION_LABEL] = role
    return k8s.core.v1.Namespace(
        resource_name, metadata={"name": name, "labels": labels}, opts=opts
    )
