"""The Pod Security Admission exceptions, in one list (DESIGN section 7). No Pulumi imports: the
policy checks and config validation read it too."""

from collections.abc import Mapping

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

PSA_EXCEPTION_LABEL = "osmo-backend.nvidia.com/psa-exception"
"""On privileged namespaces: which documented exception allows it (checked by components.policy)."""


_DRIVER_INSTALLER = (
    "Google's NVIDIA driver installer on GKE GPU nodes (gpuDriver: google) loads a kernel module: "
    "privileged, root, host PID/network and host paths by design; it is GKE's own manifest "
    "(container-engine-accelerators) in kube-system"
)
PRIVILEGED_WORKLOADS: Mapping[str, str] = {
    "DaemonSet.kube-system.nvidia-driver-installer": _DRIVER_INSTALLER,
    "DaemonSet.kube-system.nvidia-driver-installer-ubuntu": _DRIVER_INSTALLER,
}
"""The documented exceptions among workloads this project creates itself (as Checkov names them:
`Kind.namespace.name`): every pod-hardening check may fail for them, for the reason given."""


_LAB_STORE_DIGEST = (
    "the lab object store's MinIO and mc images are pinned by release tag; their digests cannot "
    "be checked from here, so none is pinned (set one in a fork for production use)"
)
_LAB_STORE_ENV = (
    "MinIO and mc read the root credentials from environment variables (from a Secret); the "
    "lab store has no file-based alternative this project relies on"
)
DOCUMENTED_CHECK_EXCEPTIONS: Mapping[tuple[str, str], Mapping[str, str]] = {
    ("Deployment", "object-store"): {"CKV_K8S_43": _LAB_STORE_DIGEST, "CKV_K8S_35": _LAB_STORE_ENV},
    ("Job", "object-store-bucket-"): {
        "CKV_K8S_43": _LAB_STORE_DIGEST,
        "CKV_K8S_35": _LAB_STORE_ENV,
    },
}
"""Single Checkov checks a named workload of this project fails by design, with the reason:
`(kind, name or name prefix ending in '-') -> {check id: reason}`."""
