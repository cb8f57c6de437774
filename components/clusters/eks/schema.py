"""JSON Schema of `cluster` with `kind: eks` (components.config.schema assembles it)."""

from components.clusters.eks.config import CAPACITY_TYPES, NAT_GATEWAYS
from components.config.schema import (
    Json,
    boolean,
    free_map,
    integer,
    obj,
    pool_extras,
    string,
    strings,
    tags,
)


def schema() -> Json:
    pool = obj(
        {
            "name": string("Pool name (DNS-1123 label, <= 20 characters)."),
            "role": string("OSMO node role.", enum=["operator", "compute", "gpu"]),
            "instanceType": string("EC2 instance type; gpu pools need an NVIDIA GPU family."),
            "minSize": integer("Minimum nodes (operator pools: at least 1).", 0, 1000),
            "maxSize": integer("Maximum nodes.", 1, 1000),
            "desiredSize": integer("Nodes at creation. Default: minSize.", 0, 1000),
            "capacityType": string("Capacity type.", enum=list(CAPACITY_TYPES)),
            "diskSizeGiB": integer("Root volume (gp3, encrypted).", 20, 16384),
            "gpusPerNode": integer("GPUs per node. Default: from the instance type.", 1, 16),
            "instanceTypes": strings(
                "Several instance types of one shape (spot diversification), instead of "
                "instanceType; the same AMI type and GPU count."
            ),
            **pool_extras("Availability zones of the cluster the pool is pinned to."),
            "subnetIds": strings("A network you bring: private subnets the pool is pinned to."),
        },
        required=("name", "role"),
    )
    return obj(
        {
            "kind": {"const": "eks", "description": "Create an EKS cluster."},
            "name": string("EKS cluster name (DNS-1123 label, <= 40 characters)."),
            "region": string("AWS region. Default: aws:region."),
            "kubernetesVersion": string("Kubernetes minor version, quoted.", default="1.33"),
            "availabilityZones": strings("2 or 3 zones of the region. Default: <region>a/b/c."),
            "network": obj(
                {
                    "vpcCidr": string("CIDR of the VPC this stack creates.", default="10.0.0.0/16"),
                    "natGateways": string("NAT gateways.", enum=list(NAT_GATEWAYS)),
                    "vpcId": string("An existing VPC (then list its subnets)."),
                    "privateSubnetIds": strings("Existing private subnets (nodes), 2 or more."),
                    "publicSubnetIds": strings("Existing public subnets (load balancers)."),
                }
            ),
            "serviceCidr": string("Service CIDR.", default="172.20.0.0/16"),
            "endpoint": obj(
                {
                    "publicAccessCidrs": strings(
                        "Networks that reach the public API endpoint. Default: none (private)."
                    ),
                    "allowPublicFromAnywhere": boolean(
                        "Explicit opt-out: allow 0.0.0.0/0 on the public endpoint.", False
                    ),
                }
            ),
            "admins": strings("IAM role or user ARNs given cluster-admin access entries."),
            "nodePools": {
                "type": "array",
                "items": pool,
                "description": "Node groups. Default: an operator and a compute pool.",
            },
            "imdsHopLimit": integer("IMDSv2 hop limit on nodes.", 1, 2, default=1),
            "clusterAutoscaler": obj(
                {
                    "enabled": boolean("Install the Cluster Autoscaler.", True),
                    "values": free_map("Chart values merged over ours."),
                }
            ),
            "kubeconfigAuth": obj(
                {
                    "profile": string("AWS CLI profile for `aws eks get-token` (AWS_PROFILE)."),
                    "roleArn": string("IAM role `aws eks get-token` assumes (--role-arn)."),
                },
                doc="How the exec-based kubeconfig authenticates. Default: the ambient identity.",
            ),
            "tags": tags("AWS default tags and the nodes' instances and volumes"),
        },
        required=("kind", "name"),
        doc="Create an EKS cluster for OSMO.",
    )
