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
