"""JSON Schema of `cluster` with `kind: aks` (components.config.schema assembles it)."""

from components.clusters.aks.config import GPU_DRIVERS as AKS_GPU_DRIVERS
from components.clusters.aks.config import (
    KUBELOGIN_MODES,
    PRINCIPAL_TYPES,
    TIERS,
    UPGRADE_CHANNELS,
)
from components.config.schema import Json, boolean, integer, obj, pool_extras, string, strings, tags


def schema() -> Json:
    pool = obj(
        {
            "name": string("Pool name (lowercase letters and digits, a letter first, <= 12)."),
            "role": string(
                "OSMO node role (operator: AKS's system pool).", enum=["operator", "compute", "gpu"]
            ),
            "vmSize": string("VM size; gpu pools need an N-series size (NC, ND, NV)."),
            "minCount": integer("Minimum nodes (the operator pool: at least 1).", 0, 1000),
            "maxCount": integer("Maximum nodes.", 1, 1000),
            "spot": boolean("Spot priority (eviction: Delete); not for the operator pool.", False),
            "osDiskSizeGb": integer("OS disk size. Default: 128 (gpu pools 256).", 30, 2048),
            "gpuDriver": string(
                "gpu pools: who installs the NVIDIA driver (aks: AKS; operator: the GPU "
                "Operator, the pool's GPU profile says driver None).",
                enum=list(AKS_GPU_DRIVERS),
            ),
            **pool_extras("Availability zones of this pool (1, 2, 3). Default: the cluster's."),
            "subnetId": string("A network you bring: a subnet of its VNet for this pool."),
        },
        required=("name", "role", "vmSize"),
    )
    return obj(
        {
            "kind": {"const": "aks", "description": "Create an AKS cluster."},
            "name": string("AKS cluster name (lowercase letters, digits, '-', <= 40)."),
            "location": string("Azure location. Default: azure-native:location."),
            "resourceGroup": string("Resource group. Default: <name>-rg."),
            "createResourceGroup": boolean("Create the resource group (false: it exists).", True),
            "kubernetesVersion": string("Kubernetes minor version, quoted.", default="1.33"),
            "upgradeChannel": string("Automatic upgrade channel.", enum=list(UPGRADE_CHANNELS)),
            "tier": string("AKS pricing tier.", enum=list(TIERS)),
            "zones": strings("Availability zones for every pool (1, 2, 3). Default: none."),
            "network": obj(
                {
                    "vnetCidr": string("VNet this stack creates.", default="10.224.0.0/16"),
                    "nodeSubnetCidr": string("Node subnet inside it.", default="10.224.0.0/20"),
                    "podCidr": string("Overlay pod range.", default="10.244.0.0/16"),
                    "serviceCidr": string("Service range.", default="10.0.0.0/16"),
                    "dnsServiceIp": string("Cluster DNS address.", default="10.0.0.10"),
                    "subnetId": string("An existing subnet's resource id instead of a VNet."),
                }
            ),
            "apiServer": obj(
                {
                    "privateCluster": boolean(
                        "Private API server. Default: true unless authorizedIpRanges are set.",
                        True,
                    ),
                    "authorizedIpRanges": strings("Networks that reach the public API server."),
                    "allowPublicFromAnywhere": boolean(
                        "Explicit opt-out: allow 0.0.0.0/0 in authorizedIpRanges.", False
                    ),
                }
            ),
            "adminGroupObjectIds": strings("Entra ID groups given cluster-admin."),
            "logAnalyticsWorkspaceId": string(
                "Existing Log Analytics workspace for Container Insights. Default: one is created."
            ),
            "nodePools": {
                "type": "array",
                "items": pool,
                "description": "Node pools. Default: an operator (system) and a compute pool.",
            },
            "kubeconfigAuth": obj(
                {"login": string("kubelogin login mode.", enum=list(KUBELOGIN_MODES))},
                doc="How the kubelogin kubeconfig authenticates. Default: the Azure CLI's login.",
            ),
            "deployerPrincipalType": string(
                "What runs pulumi up (it is assigned AKS RBAC Cluster Admin).",
                enum=list(PRINCIPAL_TYPES),
            ),
            "tags": tags("Azure tags, also on the nodes' scale sets"),
        },
        required=("kind", "name"),
        doc="Create an AKS cluster for OSMO.",
    )
