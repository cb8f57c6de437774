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
