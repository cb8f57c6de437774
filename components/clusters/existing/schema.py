"""JSON Schema of `cluster` with `kind: existing` (components.config.schema assembles it)."""

from components.config.cluster import GPU_COMPONENT_OWNERS, ROLES
from components.config.schema import Json, free_map, obj, string, strings


def schema() -> Json:
    role = obj(
        {
            "selector": free_map("Node labels selecting the role. Default: {node-type: <role>}."),
            "nodes": strings(
                "Node names this stack labels into the role (GPU nodes also tainted)."
            ),
        }
    )
    return obj(
        {
            "kind": string("Cluster kind.", enum=["existing"]),
            "name": string("Cluster name (DNS-1123 label); the provider's cluster_identifier."),
            "kubeconfig": string("Kubeconfig file path, relative to the project directory."),
            "context": string("Kubeconfig context. Default: its current-context."),
            "nodeRoles": obj(dict.fromkeys(ROLES, role), doc="OSMO's node roles."),
            "gpuStack": obj(
                {
                    "driver": string(
                        "Who installs the NVIDIA driver.", enum=list(GPU_COMPONENT_OWNERS)
                    ),
                    "toolkit": string(
                        "Who installs the container toolkit.", enum=list(GPU_COMPONENT_OWNERS)
                    ),
                }
            ),
        },
        required=("kind", "name"),
        doc="Adopt an existing cluster from a kubeconfig.",
    )
