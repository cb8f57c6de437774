"""JSON Schema of `cluster` with `kind: gke` (components.config.schema assembles it)."""

from components.clusters.gke.config import GPU_DRIVERS, IMAGE_TYPES, RELEASE_CHANNELS
from components.config.schema import Json, boolean, integer, obj, pool_extras, string, strings, tags


def schema() -> Json:
    pool = obj(
        {
            "name": string("Pool name (DNS-1123 label, <= 20 characters)."),
            "role": string("OSMO node role.", enum=["operator", "compute", "gpu"]),
            "machineType": string(
                "Machine type; gpu pools need a GPU family (a2, a3, a4, g2) or n1 with an "
                "accelerator."
            ),
            "minNodes": integer("Minimum nodes, in total (operator pools: at least 1).", 0, 1000),
            "maxNodes": integer("Maximum nodes, in total.", 1, 1000),
            "spot": boolean("Spot VMs.", False),
            "diskSizeGb": integer("Boot disk size. Default: 100 (gpu pools 200).", 10, 65536),
            "diskType": string("Boot disk type.", default="pd-balanced"),
            "imageType": string("Node image.", enum=list(IMAGE_TYPES)),
            "accelerator": obj(
                {
                    "type": string("GPU type, e.g. nvidia-tesla-t4."),
                    "count": integer("GPUs per node.", 1, 16),
                },
                doc="Attached GPUs (n1 machines). Default: what the machine family carries.",
            ),
            "gpuDriver": string(
                "gpu pools: who installs the NVIDIA driver (google: Google's installer; "
                "operator: the GPU Operator, Ubuntu images only).",
                enum=list(GPU_DRIVERS),
            ),
            **pool_extras("Zones of the region the pool's nodes are in (node_locations)."),
        },
        required=("name", "role", "machineType"),
    )
    return obj(
        {
            "kind": {"const": "gke", "description": "Create a GKE Standard cluster."},
            "name": string("GKE cluster name (lowercase, a letter first, <= 40 characters)."),
            "project": string("Google Cloud project id. Default: gcp:project."),
            "region": string("Region. Default: gcp:region."),
            "zone": string("A zone of the region: a zonal cluster. Default: regional."),
            "nodeZones": strings("Zones the node pools use. Default: GKE's choice."),
            "kubernetesVersion": string(
                "Minimum Kubernetes minor version, quoted.", default="1.33"
            ),
            "releaseChannel": string("GKE release channel.", enum=list(RELEASE_CHANNELS)),
            "network": obj(
                {
                    "subnetCidr": string("Node subnet this stack creates.", default="10.0.0.0/20"),
                    "podCidr": string("Pod secondary range.", default="10.16.0.0/14"),
                    "serviceCidr": string("Service secondary range.", default="10.20.0.0/20"),
                    "masterCidr": string("Control-plane /28 (VPC peering). Default: none (PSC)."),
                    "network": string("An existing VPC network (name or self link)."),
                    "subnetwork": string("Its subnetwork for the nodes."),
                    "podRangeName": string("Its pod secondary range.", default="pods"),
                    "serviceRangeName": string("Its service secondary range.", default="services"),
                }
            ),
            "privateNodes": boolean("Nodes without public IP addresses.", True),
            "endpoint": obj(
                {
                    "privateEndpoint": boolean("The control plane's IP endpoint is private.", True),
                    "dnsEndpoint": boolean(
                        "GKE's DNS-based control-plane endpoint (IAM-authenticated).", True
                    ),
                    "authorizedNetworks": strings("Networks that reach the IP endpoint."),
                    "allowPublicFromAnywhere": boolean(
                        "Explicit opt-out: allow 0.0.0.0/0 in authorizedNetworks.", False
                    ),
                }
            ),
            "deletionProtection": boolean("GKE refuses to delete the cluster.", True),
            "nodePools": {
                "type": "array",
                "items": pool,
                "description": "Node pools. Default: an operator and a compute pool.",
            },
            "tags": tags("the Google provider's default labels: lowercase keys and values"),
        },
        required=("kind", "name"),
        doc="Create a GKE cluster for OSMO.",
    )
