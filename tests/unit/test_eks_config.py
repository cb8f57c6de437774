"""`osmo-backend:cluster` with kind eks: defaults, and every problem reported at once."""

from typing import Any

import pytest

from components.clusters.eks.config import EksClusterSpec, ami_type, instance_family, principal_arn
from components.config import KUBECONFIG_SECRET_KEY, load_spec
from offline.readable import pool_rows
from tests.harness import REPO, config, encode
from tests.unit.test_config import problems

C = "osmo-backend:cluster"
OPERATOR = {"name": "operator", "role": "operator", "instanceType": "m5.xlarge", "minSize": 1}


def eks(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    body = {"kind": "eks", "name": "osmo-usw2", **cluster}
    values[C] = {k: v for k, v in body.items() if v is not None}
    values["aws:region"] = "us-west-2"
    return values


def spec(values: dict[str, Any]) -> EksClusterSpec:
    cluster = load_spec(encode(values), base_dir=REPO).cluster
    assert isinstance(cluster, EksClusterSpec)
    return cluster


def test_defaults_are_private_three_zones_and_osmo_pools() -> None:
    cluster = spec(eks())
    assert cluster.region == "us-west-2"
    assert cluster.kubernetes_version == "1.33"
    assert cluster.availability_zones == ("us-west-2a", "us-west-2b", "us-west-2c")
    assert cluster.network.vpc_cidr == "10.0.0.0/16"
    assert cluster.network.nat_gateways == "single"
    assert cluster.endpoint.public_access_cidrs == ()
    assert cluster.imds_hop_limit == 1
    assert cluster.cluster_autoscaler.enabled is True
    assert [
        (p.name, p.role, p.instance_type, p.min_size, p.max_size) for p in cluster.node_pools
    ] == [
        ("operator", "operator", "m5.xlarge", 1, 3),
        ("compute", "compute", "m5.2xlarge", 0, 10),
    ]


def test_every_problem_is_reported_at_once() -> None:
    assert problems(
        eks(
            region="mars-west-1",
            kubernetesVersion="1.29",
            serviceCidr="10.0.0.0/16",
            endpoint={"publicAccessCidrs": ["0.0.0.0/0"]},
            admins=["root"],
            imdsHopLimit=3,
            kubeconfigAuth={"profile": "bad profile", "roleArn": "arn:aws:iam::1:user/x"},
            nodePools=[
                {"name": "compute", "role": "compute", "instanceType": "m5.large"},
                {"name": "gpu", "role": "gpu", "instanceType": "m5.large"},
            ],
        )
    ) == (
        f"{C}.region: 'mars-west-1' is not an AWS region like us-west-2 (or set aws:region)",
        f"{C}.kubernetesVersion: '1.29' is not supported; use 1.30 or later, quoted",
        f"{C}.serviceCidr: 10.0.0.0/16 overlaps the VPC 10.0.0.0/16",
        f"{C}.endpoint.publicAccessCidrs[0]: opens the API server to the internet; list your "
        "networks, or opt out in two explicit steps: set endpoint.allowPublicFromAnywhere: true "
        "and list OSMO-EKS-001 under osmo-backend:policy.allow",
        f"{C}.admins: must be a list of IAM role or user ARNs, got ['root']",
        f"{C}.nodePools[1].instanceType: m5.large has no NVIDIA GPU; gpu pools need a GPU family "
        "(p5, g5, g6, ...)",
        f"{C}.imdsHopLimit: must be a whole number from 1 to 2, got 3",
        f"{C}.kubeconfigAuth.profile: 'bad profile' is not an AWS CLI profile name",
        f"{C}.kubeconfigAuth.roleArn: 'arn:aws:iam::1:user/x' is not an IAM role ARN",
    )


def test_a_stack_without_an_operator_pool_is_refused() -> None:
    assert problems(
        eks(nodePools=[{"name": "gpu", "role": "gpu", "instanceType": "p5.48xlarge"}])
    ) == (
        f"{C}.nodePools: needs an operator pool (KAI, the GPU Operator and OSMO's operator run "
        "there)",
    )


def test_public_from_anywhere_is_an_explicit_logged_opt_out() -> None:
    values = eks(endpoint={"allowPublicFromAnywhere": True})
    # The second step: without it validate refuses what plan's security checks would refuse.
    assert problems(values) == (
        f"{C}.endpoint.allowPublicFromAnywhere: opts out of a secure default; the second step is "
        "also required: list OSMO-EKS-001 under osmo-backend:policy.allow (README: Security "
        "checks)",
    )
    values["osmo-backend:policy"] = {"allow": ["OSMO-EKS-001"]}
    loaded = load_spec(encode(values), base_dir=REPO)
    assert isinstance(loaded.cluster, EksClusterSpec)
    assert loaded.cluster.endpoint.public_access_cidrs == ("0.0.0.0/0",)
    assert any("allowPublicFromAnywhere is set" in n for n in loaded.notices)


def test_a_kubeconfig_secret_is_refused_for_eks() -> None:
    values = eks()
    values[KUBECONFIG_SECRET_KEY] = "apiVersion: v1"
    assert problems(values, (KUBECONFIG_SECRET_KEY,)) == (
        f"{KUBECONFIG_SECRET_KEY}: is for kind existing; an EKS stack makes its own (exec-based) "
        "kubeconfig",
    )


def test_an_existing_vpc_needs_its_subnets_and_the_policy_its_ranges() -> None:
    network = {"vpcId": "vpc-0abc12345", "privateSubnetIds": ["subnet-0abc12345"]}
    assert problems(eks(network=network)) == (
        f"{C}.network.privateSubnetIds: needs at least 2 subnet ids, got ['subnet-0abc12345']",
    )
    network["privateSubnetIds"] = ["subnet-0abc12345", "subnet-0abc67890"]
    assert problems(eks(network=network)) == (
        "osmo-backend:networking.workflowPolicy.clusterCIDRs: is required while the workflow "
        "policy is enabled and the stack does not create the network: list the cluster's pod, "
        "service and node CIDRs (without them the policy isolates nothing), or set "
        "enabled: false",
    )


def test_cloud_logs_are_refused_until_built() -> None:
    values = eks()
    values["osmo-backend:monitoring"] = {"logs": {"backend": "cloud"}}
    assert problems(values) == (
        "osmo-backend:monitoring.logs.backend: 'cloud' (the EKS provider's log service) is not "
        "built yet: use 'loki' or 'none'",
    )


@pytest.mark.parametrize(
    ("instance", "ami", "gpu", "arm"),
    [
        ("m6i.xlarge", "AL2023_x86_64_STANDARD", False, False),
        ("m7g.2xlarge", "AL2023_ARM_64_STANDARD", False, True),
        ("c7gn.large", "AL2023_ARM_64_STANDARD", False, True),
        ("g6e.12xlarge", "AL2023_x86_64_NVIDIA", True, False),
        ("p5.48xlarge", "AL2023_x86_64_NVIDIA", True, False),
        ("g5g.xlarge", "AL2023_ARM_64_NVIDIA", True, True),
    ],
)
def test_instance_families_pick_the_ami(instance: str, ami: str, gpu: bool, arm: bool) -> None:
    family = instance_family(instance)
    assert family is not None
    assert (family.gpu, family.arm) == (gpu, arm)
    assert ami_type(instance) == ami


def test_anywhere_and_listed_networks_contradict() -> None:
    endpoint = {"allowPublicFromAnywhere": True, "publicAccessCidrs": ["203.0.113.0/24"]}
    assert problems(eks(endpoint=endpoint)) == (
        f"{C}.endpoint.allowPublicFromAnywhere: contradicts the publicAccessCidrs listed; keep one "
        "of them",
    )


def test_an_admin_listed_twice_is_refused() -> None:
    """EKS takes one access entry per principal ARN; a second CreateAccessEntry for it fails
    with ResourceInUseException."""
    role = "arn:aws:iam::123456789012:role/platform-admins"
    assert problems(eks(admins=[role, "arn:aws:iam::123456789012:user/ops", role])) == (
        f"{C}.admins: lists {role} more than once; EKS takes one access entry per principal (a "
        "second one fails with ResourceInUseException)",
    )


def test_node_group_names_derived_from_the_cluster_name_must_fit() -> None:
    """EKS node group names: 1-63 letters, digits, '-' and '_' (CreateNodegroup)."""
    cluster = "c" * 55
    values = eks(
        name=cluster,
        nodePools=[
            {"name": "operator", "role": "operator", "instanceType": "m5.xlarge", "minSize": 1},
            {"name": "cpu", "role": "compute", "instanceType": "m5.xlarge"},
        ],
    )
    assert problems(values) == (
        f"{C}.nodePools[0].name: gives the node group name {cluster + '-operator'!r}, which is "
        "not 1-63 letters, digits, '-' and '_'",
    )
    assert spec(eks(name="c" * 61, nodePools=[{**OPERATOR, "name": "o"}])).name == "c" * 61


@pytest.mark.parametrize(
    ("caller", "principal"),
    [
        (
            "arn:aws:sts::123456789012:assumed-role/osmo-deployer/ci-run-42",
            "arn:aws:iam::123456789012:role/osmo-deployer",
        ),
        (
            "arn:aws-us-gov:sts::123456789012:assumed-role/Admin/jane@example.com",
            "arn:aws-us-gov:iam::123456789012:role/Admin",
        ),
        (
            "arn:aws:iam::123456789012:user/ci/deployer",
            "arn:aws:iam::123456789012:user/ci/deployer",
        ),
        ("arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/deployer"),
    ],
)
def test_a_callers_principal_is_its_role_or_itself(caller: str, principal: str) -> None:
    assert principal_arn(caller) == principal


GPU = {"name": "h100", "role": "gpu", "instanceType": "p5.48xlarge", "maxSize": 2}


def test_pools_take_extra_labels_taints_zones_and_several_instance_types() -> None:
    cluster = spec(
        eks(
            nodePools=[
                OPERATOR,
                {
                    "name": "spot",
                    "role": "compute",
                    "instanceTypes": ["m6i.4xlarge", "m6a.4xlarge", "m5.4xlarge"],
                    "capacityType": "spot",
                    "labels": {"team": "vision", "example.com/tier": "batch"},
                    "taints": [{"key": "example.com/batch", "effect": "NoSchedule"}],
                    "zones": ["us-west-2b"],
                },
            ],
            tags={"cost-center": "1234", "team": "ml platform"},
        )
    )
    pool = cluster.node_pools[1]
    assert pool.instance_types == ("m6i.4xlarge", "m6a.4xlarge", "m5.4xlarge")
    assert pool.instance_type == "m6i.4xlarge"
    assert pool.labels == {"example.com/tier": "batch", "team": "vision"}
    assert [(t.key, t.value, t.effect) for t in pool.taints] == [
        ("example.com/batch", "", "NoSchedule")
    ]
    assert pool.zones == ("us-west-2b",)
    assert cluster.tags == {"cost-center": "1234", "team": "ml platform"}


def test_pool_labels_and_taints_never_replace_the_stacks_own() -> None:
    # node-type (OSMO's role label), nvidia.com/gpu and the pool label are set by this stack;
    # kubernetes.io / k8s.io labels are refused to kubelets outside a fixed list (Kubernetes
    # docs, reference/access-authn-authz/admission-controllers/#noderestriction).
    assert problems(
        eks(
            nodePools=[
                {
                    **OPERATOR,
                    "taints": [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}],
                },
                {
                    **GPU,
                    "labels": {
                        "node-type": "compute",
                        "osmo.nvidia.com/pool": "a100",
                        "topology.kubernetes.io/zone": "x",
                        "Bad Key": "v",
                        "ok": 3,
                    },
                    "taints": [
                        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"},
                        {"key": "dedicated", "value": "ml", "effect": "NoSchedul"},
                        {"key": "dedicated", "value": "ml", "effect": "NoExecute"},
                        {"key": "dedicated", "value": "x", "effect": "NoExecute"},
                    ],
                },
            ]
        )
    ) == (
        f"{C}.nodePools[0].taints: the operator pool takes no extra taints: KAI, the GPU "
        "Operator, OSMO's operator and the cluster's add-ons run there and would not tolerate "
        "them",
        f"{C}.nodePools[1].labels.Bad Key: label key 'Bad Key' is invalid; the name part must be "
        "1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a "
        "letter or digit",
        f"{C}.nodePools[1].labels.node-type: is set by this stack (node-type selects OSMO's pods "
        "onto the pool); it cannot be replaced",
        f"{C}.nodePools[1].labels.ok: label values are strings; got 3 (quote it)",
        f"{C}.nodePools[1].labels.osmo.nvidia.com/pool: is set by this stack "
        "(osmo.nvidia.com/pool selects OSMO's pods onto the pool); it cannot be replaced",
        f"{C}.nodePools[1].labels.topology.kubernetes.io/zone: is in the kubernetes.io domain, "
        "which Kubernetes or the cloud reserves for its own node labels",
        f"{C}.nodePools[1].taints[0].key: nvidia.com/gpu is set by this stack or the cloud (gpu "
        "pools get nvidia.com/gpu=present:NoSchedule, AKS spot pools their spot taint); it "
        "cannot be replaced",
        f"{C}.nodePools[1].taints[1].effect: 'NoSchedul' is not one of: NoSchedule, "
        "PreferNoSchedule, NoExecute",
        f"{C}.nodePools[1].taints[3]: a taint dedicated with effect NoExecute is listed twice",
    )


def test_instance_types_of_one_pool_share_the_ami_and_the_gpu_count() -> None:
    # The Cluster Autoscaler builds every node of a group from one instance type
    # (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md, "Using Mixed
    # Instances Policies and Spot Instances": the types need the same vCPU, memory and GPUs);
    # a node group has one ami_type.
    assert problems(
        eks(
            nodePools=[
                OPERATOR,
                {
                    "name": "h100",
                    "role": "gpu",
                    "instanceTypes": ["g6.12xlarge", "g6.48xlarge"],
                },
                {"name": "mixed", "role": "compute", "instanceTypes": ["m6i.large", "m7g.large"]},
                {
                    "name": "both",
                    "role": "compute",
                    "instanceType": "m5.large",
                    "instanceTypes": [],
                },
                {"name": "twice", "role": "compute", "instanceTypes": ["m5.large", "m5.large"]},
                {
                    "name": "count",
                    "role": "gpu",
                    "instanceTypes": ["g6.12xlarge", "g5.12xlarge"],
                    "gpusPerNode": 8,
                },
            ]
        )
    ) == (
        f"{C}.nodePools[1].instanceTypes: mixes GPU counts (g6.12xlarge has 4, g6.48xlarge has "
        "8); the Cluster Autoscaler takes every node of a group to be like its first type, so a "
        "pool's types need the same GPUs, CPUs and memory",
        f"{C}.nodePools[2].instanceTypes: mixes AL2023_ARM_64_STANDARD, AL2023_x86_64_STANDARD "
        "instances; a node group has one AMI type (GPU or not, x86_64 or ARM alike)",
        f"{C}.nodePools[3]: set instanceType or instanceTypes, not both",
        f"{C}.nodePools[4].instanceTypes: must be a non-empty list of distinct instance types, "
        "got ['m5.large', 'm5.large']",
        f"{C}.nodePools[5].gpusPerNode: is 8, but g6.12xlarge has 4 GPUs",
    )


def test_pools_pin_to_the_clusters_zones_or_the_subnets_you_bring() -> None:
    assert problems(
        eks(
            nodePools=[
                OPERATOR,
                {**GPU, "zones": ["us-west-2d"], "subnetIds": ["subnet-0abc12345"]},
            ]
        )
    ) == (
        f"{C}.nodePools[1].subnetIds: only applies with a network you bring (network.vpcId); "
        "pin the pool with zones",
    )
    assert problems(eks(nodePools=[OPERATOR, {**GPU, "zones": ["us-west-2d", "us-west-2a"]}])) == (
        f"{C}.nodePools[1].zones[0]: 'us-west-2d' is not one of the cluster's availability "
        "zones: us-west-2a, us-west-2b, us-west-2c",
    )
    byo = {
        "vpcId": "vpc-0abc12345",
        "privateSubnetIds": ["subnet-0aaa11111", "subnet-0bbb22222"],
    }
    pinned = eks(network=byo, nodePools=[OPERATOR, {**GPU, "subnetIds": ["subnet-0bbb22222"]}])
    pinned["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/16"]}}
    assert spec(pinned).node_pools[1].subnet_ids == ("subnet-0bbb22222",)
    assert problems(eks(network=byo, nodePools=[OPERATOR, {**GPU, "zones": ["us-west-2a"]}])) == (
        f"{C}.nodePools[1].zones: with a network you bring, pin the pool with subnetIds (some of "
        "network.privateSubnetIds)",
    )


def test_aws_tags_follow_awss_rules_and_keep_the_stacks_own() -> None:
    # https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html (Tag naming limits).
    assert problems(
        eks(tags={"aws:created": "x", "osmo-backend/cluster": "y", "bad#key": "z", "n": 1})
    ) == (
        f"{C}.tags.aws:created: 'aws:created': the aws: prefix is reserved for AWS's own tags",
        f"{C}.tags.bad#key: 'bad#key': AWS tag keys are 1-128 letters, digits, spaces and "
        "_ . : / = + - @",
        f"{C}.tags.n: tag values are strings; got 1 (quote it)",
        f"{C}.tags.osmo-backend/cluster: is set by this stack on every resource; it cannot be "
        "replaced",
    )


def test_pool_platform_names_cannot_collide() -> None:
    # OSMO platform names: NVIDIA/OSMO src/lib/utils/common.py CONFIG_NAME_REGEX (a letter
    # first); a pool named like a role-level platform (cpu, gpu) gets `pool-<name>`.
    assert problems(
        eks(
            nodePools=[
                OPERATOR,
                {**GPU, "name": "gpu"},
                {**GPU, "name": "pool-gpu"},
            ]
        )
    ) == (
        f"{C}.nodePools[2].name: its OSMO platform would be named 'pool-gpu', as pool 'gpu''s "
        "is; rename one of them",
    )


def test_the_plans_pool_table_shows_every_type_and_taint() -> None:
    cluster = spec(
        eks(
            nodePools=[
                OPERATOR,
                {
                    "name": "spot",
                    "role": "gpu",
                    "instanceTypes": ["g6e.12xlarge", "g6.12xlarge"],
                    "taints": [{"key": "team", "value": "ml", "effect": "NoExecute"}],
                },
            ]
        )
    )
    assert pool_rows(cluster)[1] == (
        "spot",
        "gpu",
        "g6e.12xlarge,g6.12xlarge",
        "0-1 (desired 0)",
        "4",
        "on-demand",
        "nvidia.com/gpu=present:NoSchedule,team=ml:NoExecute",
    )


def test_the_operator_pool_keeps_a_node() -> None:
    # The add-ons run on the operator pool (the shared rule, as on GKE).
    zero = {**OPERATOR, "minSize": 0}
    assert problems(eks(nodePools=[zero])) == (
        f"{C}.nodePools[0].minSize: operator pools need at least 1 node: add-ons run there",
    )
    compute = {"name": "compute", "role": "compute", "instanceType": "m5.large", "minSize": 0}
    assert spec(eks(nodePools=[OPERATOR, compute])).node_pools[1].min_size == 0
