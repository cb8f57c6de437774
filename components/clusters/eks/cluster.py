"""EKS backend clusters: network, a hardened control plane, node groups per OSMO role, add-ons,
the Cluster Autoscaler, IRSA, and the cluster handle.

Secure defaults (research/reliability.md 1.2): private endpoint on and the public one only for
listed CIDRs; secrets envelope-encrypted with a KMS key (rotation on); all five control-plane
log types; API access entries; IRSA through the cluster's OIDC provider; nodes only in private
subnets, IMDSv2 required (hop limit 1 unless configured), no SSH.

Ordering (DESIGN section 6): the cluster bootstraps no add-ons itself, so VPC CNI (with network
policy enforcement) and kube-proxy come before the node groups, CoreDNS and the EBS CSI driver
after the operator node group. GPU node groups are on no add-on's path.
"""

import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import _helm, versions
from components.clusters.base import (
    GPU_TAINT,
    ClusterHandle,
    NodePool,
    WorkflowBucket,
    api_taints,
    exec_kubeconfig_yaml,
    gpu_daemonset_values,
    node_pool,
    pool_node_labels,
    pool_roles,
    workflow_bucket_name,
)
from components.clusters.eks.config import (
    EKS_LOG_TYPES,
    EksClusterSpec,
    EksNodePoolSpec,
    ami_type,
    node_group_name,
    principal_arn,
)
from components.config import BucketSpec, GpuStackSpec, Role
from components.config.storage import bucket_host
from components.storage import EKS_SKIP_CONTAINERS, USER_CONTAINER

TYPE = "osmo-backend:index:EksCluster"
AUTOSCALER_TIMEOUT_SECONDS = 600
GP3_CLASS = "gp3"
_CA_TEMPLATE = "k8s.io/cluster-autoscaler/node-template"


class EksClusterArgs(TypedDict):
    """Inputs for EksCluster (validated by `components.config` first)."""

    spec: EksClusterSpec
    default_storage_class: NotRequired[str | None]
    """StorageClass for in-cluster state; None: the `gp3` class this component creates."""


def partition(region: str) -> str:
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def managed_policy(region: str, name: str) -> str:
    return f"arn:{partition(region)}:iam::aws:policy/{name}"


def subnet_layout(vpc_cidr: str, zones: Sequence[str]) -> tuple[list[str], list[str]]:
    """Private and public subnets per zone: the VPC split into 4 blocks per zone slot, private
    subnets get the larger share (pods take VPC addresses with the VPC CNI)."""
    network = ipaddress.ip_network(vpc_cidr)
    quarters = list(network.subnets(prefixlen_diff=2))  # 4 parts: 3 private, 1 for publics
    private = [str(quarters[i]) for i in range(len(zones))]
    publics = list(quarters[3].subnets(prefixlen_diff=2))
    public = [str(publics[i]) for i in range(len(zones))]
    return private, public


def node_labels(pool: EksNodePoolSpec) -> dict[str, str]:
    return pool_node_labels(pool.name, pool.role, pool.labels)


def node_taints(pool: EksNodePoolSpec) -> list[aws.eks.NodeGroupTaintArgsDict]:
    """The GPU taint on gpu pools, then the pool's extra taints."""
    taints = api_taints(pool.role, pool.taints)  # pyright: ignore[reportArgumentType]
    return [{"key": k, "value": v, "effect": e} for k, v, e in taints]


def pool_description(pool: EksNodePoolSpec) -> NodePool:
    return node_pool(pool.name, cast(Role, pool.role), pool.taints)


def pool_subnets(
    pool: EksNodePoolSpec, zones: Sequence[str], private: Sequence[pulumi.Input[str]]
) -> list[pulumi.Input[str]]:
    """The private subnets of the pool's zones (a VPC this stack creates, one subnet per zone in
    the cluster's zone order), its own subnet ids (a network you bring), or all of them."""
    if pool.subnet_ids:
        return list(pool.subnet_ids)
    if pool.zones:
        return [private[zones.index(zone)] for zone in pool.zones]
    return list(private)


def autoscaler_template_tags(pool: EksNodePoolSpec) -> dict[str, str]:
    """ASG tags that let the Cluster Autoscaler build a node from nothing: the labels, the
    taints and the GPU count a new node of this pool will have (cluster-autoscaler
    cloudprovider/aws/README.md, "Auto-Discovery Setup": node-template/label/<key>,
    node-template/taint/<key> = <value>:<effect>, node-template/resources/<resource>)."""
    tags = {f"{_CA_TEMPLATE}/label/{k}": v for k, v in node_labels(pool).items()}
    if pool.role == "gpu":
        tags[f"{_CA_TEMPLATE}/taint/{GPU_TAINT['key']}"] = f"{GPU_TAINT['value']}:NoSchedule"
        tags[f"{_CA_TEMPLATE}/resources/nvidia.com/gpu"] = str(pool.gpus_per_node)
    for taint in pool.taints:
        tags[f"{_CA_TEMPLATE}/taint/{taint.key}"] = f"{taint.value}:{taint.effect}"
    return tags


def default_tags(spec: EksClusterSpec) -> dict[str, str]:
    """The AWS provider's default tags: the stack's cost-allocation tags and its own."""
    return {**spec.tags, "osmo-backend/cluster": spec.name, "managed-by": "pulumi"}


def launch_template_tags(
    spec: EksClusterSpec,
) -> list[aws.ec2.LaunchTemplateTagSpecificationArgsDict]:
    """The nodes' instances and volumes carry the cost-allocation tags: the provider's default
    tags reach the launch template but not what it launches, nor does the node group pass its
    own tags on. None without `tags` (a new launch template version rolls every node)."""
    if not spec.tags:
        return []
    return [
        {"resource_type": kind, "tags": default_tags(spec)}
        for kind in ("instance", "volume", "network-interface")
    ]


def cloud_egress(region: str, autoscaler: bool) -> tuple[tuple[str, str], ...]:
    """The AWS endpoints an EKS backend's nodes and add-ons call (no VPC endpoints assumed)."""
    aws = f"{region}.amazonaws.com"
    out = [
        (f"eks.{aws}", "nodes join the cluster; the Cluster Autoscaler reads node groups"),
        (f"sts.{aws}", "IRSA: EBS CSI driver and Cluster Autoscaler exchange their tokens"),
        (f"ec2.{aws}", "VPC CNI assigns pod addresses; EBS CSI attaches volumes"),
        (f"api.ecr.{aws}", "EKS add-on images (ECR authentication)"),
        (f"*.dkr.ecr.{aws}", "EKS add-on images (VPC CNI, kube-proxy, CoreDNS, EBS CSI)"),
        (f"prod-{region}-starport-layer-bucket.s3.{aws}", "ECR image layers"),
    ]
    if autoscaler:
        out += [
            (f"autoscaling.{aws}", "the Cluster Autoscaler resizes node groups"),
            ("registry.k8s.io", "Cluster Autoscaler image"),
        ]
    return tuple(out)


def exec_kubeconfig(
    name: str,
    region: str,
    endpoint: str,
    ca_data: str,
    *,
    profile: str | None = None,
    role_arn: str | None = None,
) -> str:
    """A kubeconfig that gets short-lived tokens from `aws eks get-token` (no static token)."""
    args = ["--region", region, "eks", "get-token", "--cluster-name", name, "--output", "json"]
    if role_arn is not None:
        args += ["--role-arn", role_arn]
    user: dict[str, Any] = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "aws",
        "args": args,
    }
    if profile is not None:
        user["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    cluster = {"server": endpoint, "certificate-authority-data": ca_data}
    return exec_kubeconfig_yaml(name, cluster, user)


def _assume(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def irsa_trust_policy(provider_arn: str, issuer_url: str, subject: str) -> str:
    """Trust policy that lets exactly one service account assume a role through the OIDC
    provider, for the STS audience only."""
    issuer = issuer_url.removeprefix("https://")
    condition = {f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"}
    statement = {
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": condition},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, sort_keys=True)


def workflow_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    """What OSMO's workflow data access needs on its bucket. The `iam:SimulatePrincipalPolicy`
    its data validation calls (research: osmo-requirements 4.2) is granted on the caller itself
    only (`simulate_policy`), never on every principal of the account."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": bucket_arn,
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{bucket_arn}/*",
            },
        ],
    }


def simulate_policy(principal_arn: str) -> dict[str, Any]:
    """`iam:SimulatePrincipalPolicy` on one principal: OSMO's S3 check simulates the caller's
    own policy (NVIDIA/OSMO src/lib/data/storage/backends/backends.py S3Backend.data_auth)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": principal_arn}
        ],
    }


def workflow_key_policy(bucket_arn: str, user_arn: str) -> dict[str, Any]:
    """The inline policy of the IAM user whose access key OSMO holds: the bucket's objects, and
    the policy simulation OSMO's S3 check runs on that key's own user (NVIDIA/OSMO
    src/lib/data/storage/backends/backends.py S3Backend.data_auth: `get_caller_identity`, then
    `simulate_principal_policy(PolicySourceArn=<the caller>)`), so only on this user."""
    policy = workflow_bucket_policy(bucket_arn)
    return {**policy, "Statement": [*policy["Statement"], *simulate_policy(user_arn)["Statement"]]}


def autoscaler_policy(cluster_name: str) -> dict[str, Any]:
    """The Cluster Autoscaler's IAM policy: it reads every group, but resizes and terminates
    only in groups tagged as this cluster's. EKS tags each managed node group's Auto Scaling
    group `k8s.io/cluster-autoscaler/enabled=true` and `k8s.io/cluster-autoscaler/<cluster>=owned`
    (docs.aws.amazon.com/eks/latest/userguide/managed-node-groups.html); the minimal policy of
    kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md conditions on both, so
    other clusters' node groups in the account are out of reach."""
    policy = json.loads(json.dumps(_AUTOSCALER_POLICY))
    policy["Statement"][1]["Condition"]["StringEquals"][
        f"aws:ResourceTag/k8s.io/cluster-autoscaler/{cluster_name}"
    ] = "owned"
    return policy


_AUTOSCALER_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:DescribeAutoScalingGroups",
                "autoscaling:DescribeAutoScalingInstances",
                "autoscaling:DescribeLaunchConfigurations",
                "autoscaling:DescribeScalingActivities",
                "autoscaling:DescribeTags",
                "ec2:DescribeImages",
                "ec2:DescribeInstanceTypes",
                "ec2:DescribeLaunchTemplateVersions",
                "ec2:GetInstanceTypesFromInstanceRequirements",
                "eks:DescribeNodegroup",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "autoscaling:SetDesiredCapacity",
                "autoscaling:TerminateInstanceInAutoScalingGroup",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}
            },
        },
    ],
}


class EksCluster(pulumi.ComponentResource):
    """An EKS cluster shaped for OSMO."""

    handle: ClusterHandle
    kubeconfig: pulumi.Output[str]
    """Exec-based kubeconfig (secret)."""
    cluster: aws.eks.Cluster
    """The escape hatch: the underlying EKS cluster resource."""

    def __init__(
        self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        self._name, self._spec = name, spec
        child = pulumi.ResourceOptions(parent=self)

        private_subnets, _public = self._network(child)

        cluster_role = aws.iam.Role(
            f"{name}-cluster-role",
            assume_role_policy=_assume("eks.amazonaws.com"),
            opts=child,
        )
        cluster_policy = aws.iam.RolePolicyAttachment(
            f"{name}-cluster-policy",
            role=cluster_role.name,
            policy_arn=managed_policy(spec.region, "AmazonEKSClusterPolicy"),
            opts=child,
        )
        key = aws.kms.Key(
            f"{name}-secrets-key",
            description=f"EKS secrets envelope encryption for {spec.name}",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
        )
        self.cluster = aws.eks.Cluster(
            f"{name}-eks",
            name=spec.name,
            role_arn=cluster_role.arn,
            version=spec.kubernetes_version,
            vpc_config={
                "subnet_ids": private_subnets,
                "endpoint_private_access": True,
                "endpoint_public_access": bool(spec.endpoint.public_access_cidrs),
                "public_access_cidrs": list(spec.endpoint.public_access_cidrs) or None,
            },
            kubernetes_network_config={"service_ipv4_cidr": spec.service_cidr},
            encryption_config={"resources": ["secrets"], "provider": {"key_arn": key.arn}},
            enabled_cluster_log_types=list(EKS_LOG_TYPES),
            # No implicit entry for the creator: it would collide (409 ResourceInUseException)
            # with an `admins` entry for the same principal. The deployer's entry is explicit.
            access_config={
                "authentication_mode": "API",
                "bootstrap_cluster_creator_admin_permissions": False,
            },
            bootstrap_self_managed_addons=False,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[cluster_policy]),
        )
        cluster = self.cluster
        self._oidc = aws.iam.OpenIdConnectProvider(
            f"{name}-oidc",
            url=cluster.identities.apply(
                lambda ids: ids[0].oidcs[0].issuer if ids and ids[0].oidcs else ""
            ),
            client_id_lists=["sts.amazonaws.com"],
            opts=child,
        )
        access = {
            principal: self._admin(f"{name}-admin-{index}", principal)
            for index, principal in enumerate(spec.admins)
        }
        deployer = self._deployer()
        if deployer not in access:
            access[deployer] = self._admin(f"{name}-deployer", deployer)
        # The in-cluster resources below reach the API as the deployer: they wait for its access
        # (and destroy removes them before it).
        deployer_access = access[deployer]

        # Self-managed add-ons are off: networking before any node, DNS after the first nodes.
        networking_addons = [
            self._addon("vpc-cni", child, configuration={"enableNetworkPolicy": "true"}),
            self._addon("kube-proxy", child),
        ]
        node_role = self._node_role(child)
        groups = {
            pool.name: self._node_group(pool, node_role, private_subnets, networking_addons)
            for pool in spec.node_pools
        }
        operator_group = next(groups[p.name] for p in spec.node_pools if p.role == "operator")
        after_nodes = pulumi.ResourceOptions(parent=self, depends_on=[operator_group])
        self._addon("coredns", after_nodes)
        ebs_role = self.bind_workload_identity(
            "ebs-csi",
            "kube-system",
            "ebs-csi-controller-sa",
            [managed_policy(spec.region, "service-role/AmazonEBSCSIDriverPolicy")],
        )
        ebs = aws.eks.Addon(
            f"{name}-ebs-csi",
            cluster_name=cluster.name,
            addon_name="aws-ebs-csi-driver",
            service_account_role_arn=ebs_role,
            resolve_conflicts_on_create="OVERWRITE",
            opts=after_nodes,
        )

        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(cluster.endpoint, cluster.certificate_authority.data).apply(
                lambda parts: exec_kubeconfig(
                    spec.name,
                    spec.region,
                    str(parts[0]),
                    str(parts[1]),
                    profile=spec.kubeconfig_auth.profile,
                    role_arn=spec.kubeconfig_auth.role_arn,
                )
            )
        )
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=cluster.arn,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[deployer_access],
                additional_secret_outputs=["kubeconfig"],
            ),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider, deleted_with=cluster)
        k8s.storage.v1.StorageClass(
            f"{name}-gp3",
            metadata={
                "name": GP3_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            provisioner="ebs.csi.aws.com",
            parameters={"type": "gp3", "encrypted": "true"},
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=True,
            reclaim_policy="Delete",
            opts=pulumi.ResourceOptions.merge(in_cluster, pulumi.ResourceOptions(depends_on=[ebs])),
        )
        if spec.cluster_autoscaler.enabled:
            self._autoscaler(in_cluster, operator_group)

        pools = tuple(pool_description(p) for p in spec.node_pools)
        roles = pool_roles(pools)
        cidrs = (spec.network.vpc_cidr,) if spec.network.vpc_cidr else ()
        self.handle = ClusterHandle(
            name=spec.name,
            kind="eks",
            identifier=spec.name,
            kubeconfig=self.kubeconfig,
            provider=provider,
            node_roles=roles,
            node_pools=pools,
            gpu_operator_values=gpu_daemonset_values(roles),
            # AL2023 NVIDIA AMIs ship the driver and the container toolkit.
            gpu_stack=GpuStackSpec(driver="host", toolkit="host"),
            deleted_with=cluster,
            default_storage_class=args.get("default_storage_class") or GP3_CLASS,
            cluster_cidrs=(*cidrs, spec.service_cidr),
            egress=cloud_egress(spec.region, spec.cluster_autoscaler.enabled),
            bind_workload_identity=self.bind_workload_identity,
            workflow_bucket=self.workflow_bucket,
            # Volume owners are deleted while nodes and the EBS CSI driver still run.
            volume_dependencies=(operator_group, ebs),
            workload_dependencies=(operator_group,),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})

    def _admin(self, name: str, principal: str) -> aws.eks.AccessPolicyAssociation:
        """An access entry with EKS's cluster admin policy for one IAM principal."""
        spec = self._spec
        entry = aws.eks.AccessEntry(
            name,
            cluster_name=self.cluster.name,
            principal_arn=principal,
            opts=pulumi.ResourceOptions(parent=self),
        )
        return aws.eks.AccessPolicyAssociation(
            f"{name}-policy",
            cluster_name=self.cluster.name,
            principal_arn=principal,
            policy_arn=f"arn:{partition(spec.region)}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            access_scope={"type": "cluster"},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[entry]),
        )

    def _deployer(self) -> str:
        """The IAM principal the stack's kubeconfig authenticates as: `kubeconfigAuth.roleArn`
        when set, otherwise the caller of the AWS provider (an assumed-role session resolved to
        its role, path included, as access entries need it)."""
        if self._spec.kubeconfig_auth.role_arn is not None:
            return self._spec.kubeconfig_auth.role_arn
        invoke = pulumi.InvokeOptions(parent=self)
        caller = aws.get_caller_identity(opts=invoke).arn
        if principal_arn(caller) == caller:
            return caller
        return aws.iam.get_session_context(arn=caller, opts=invoke).issuer_arn

    def _addon(
        self,
        addon: str,
        opts: pulumi.ResourceOptions,
        *,
        configuration: Mapping[str, str] | None = None,
    ) -> aws.eks.Addon:
        """An EKS-managed add-on; on create it takes over what a bootstrap left behind."""
        return aws.eks.Addon(
            f"{self._name}-{addon}",
            cluster_name=self.cluster.name,
            addon_name=addon,
            configuration_values=json.dumps(configuration, sort_keys=True)
            if configuration
            else None,
            resolve_conflicts_on_create="OVERWRITE",
            opts=opts,
        )

    def _network(
        self, opts: pulumi.ResourceOptions
    ) -> tuple[list[pulumi.Output[str]] | list[str], list[pulumi.Output[str]] | list[str]]:
        spec, name = self._spec, self._name
        if spec.network.bring_your_own:
            return list(spec.network.private_subnet_ids), list(spec.network.public_subnet_ids)
        assert spec.network.vpc_cidr is not None
        cluster_tag = {f"kubernetes.io/cluster/{spec.name}": "shared"}
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=spec.network.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": spec.name},
            opts=opts,
        )
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=opts)
        private_cidrs, public_cidrs = subnet_layout(spec.network.vpc_cidr, spec.availability_zones)
        public_table = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
            opts=opts,
        )
        public: list[aws.ec2.Subnet] = []
        private: list[aws.ec2.Subnet] = []
        for index, zone in enumerate(spec.availability_zones):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=vpc.id,
                cidr_block=public_cidrs[index],
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={
                    **cluster_tag,
                    "kubernetes.io/role/elb": "1",
                    "Name": f"{spec.name}-public-{zone}",
                },
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}-rta",
                subnet_id=subnet.id,
                route_table_id=public_table.id,
                opts=opts,
            )
            public.append(subnet)
            private.append(
                aws.ec2.Subnet(
                    f"{name}-private-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=private_cidrs[index],
                    availability_zone=zone,
                    tags={
                        **cluster_tag,
                        "kubernetes.io/role/internal-elb": "1",
                        "Name": f"{spec.name}-private-{zone}",
                    },
                    opts=opts,
                )
            )
        zones = (
            spec.availability_zones
            if spec.network.nat_gateways == "perAz"
            else spec.availability_zones[:1]
        )
        nats = []
        for index, zone in enumerate(zones):
            eip = aws.ec2.Eip(f"{name}-nat-{zone}-eip", domain="vpc", opts=opts)
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.id,
                    subnet_id=public[index].id,
                    opts=pulumi.ResourceOptions.merge(
                        opts, pulumi.ResourceOptions(depends_on=[gateway])
                    ),
                )
            )
        for index, zone in enumerate(spec.availability_zones):
            nat = nats[index] if len(nats) > 1 else nats[0]
            table = aws.ec2.RouteTable(
                f"{name}-private-{zone}-rt",
                vpc_id=vpc.id,
                routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                opts=opts,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}-rta",
                subnet_id=private[index].id,
                route_table_id=table.id,
                opts=opts,
            )
        return [s.id for s in private], [s.id for s in public]

    def _node_role(self, opts: pulumi.ResourceOptions) -> aws.iam.Role:
        role = aws.iam.Role(
            f"{self._name}-node-role",
            assume_role_policy=_assume("ec2.amazonaws.com"),
            opts=opts,
        )
        for policy in (
            "AmazonEKSWorkerNodePolicy",
            "AmazonEC2ContainerRegistryReadOnly",
            "AmazonEKS_CNI_Policy",
        ):
            aws.iam.RolePolicyAttachment(
                f"{self._name}-node-{policy}",
                role=role.name,
                policy_arn=managed_policy(self._spec.region, policy),
                opts=opts,
            )
        return role

    def _node_group(
        self,
        pool: EksNodePoolSpec,
        role: aws.iam.Role,
        subnets: Sequence[pulumi.Input[str]],
        before: Sequence[pulumi.Resource],
    ) -> aws.eks.NodeGroup:
        name, spec = self._name, self._spec
        child = pulumi.ResourceOptions(parent=self)
        template = aws.ec2.LaunchTemplate(
            f"{name}-{pool.name}-lt",
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": spec.imds_hop_limit,
            },
            block_device_mappings=[
                {
                    "device_name": "/dev/xvda",
                    "ebs": {
                        "volume_size": pool.disk_size_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "delete_on_termination": "true",
                    },
                }
            ],
            tag_specifications=launch_template_tags(spec) or None,
            opts=child,
        )
        taints = node_taints(pool)
        group = aws.eks.NodeGroup(
            f"{name}-{pool.name}",
            cluster_name=self.cluster.name,
            node_group_name=node_group_name(spec.name, pool.name),
            node_role_arn=role.arn,
            subnet_ids=pool_subnets(pool, spec.availability_zones, subnets),
            instance_types=list(pool.instance_types),
            ami_type=ami_type(pool.instance_type),
            capacity_type="SPOT" if pool.capacity_type == "spot" else "ON_DEMAND",
            scaling_config={
                "min_size": pool.min_size,
                "max_size": pool.max_size,
                "desired_size": pool.desired_size,
            },
            update_config={"max_unavailable": 1},
            labels=node_labels(pool),
            taints=taints or None,
            launch_template={"id": template.id, "version": template.latest_version.apply(str)},
            # The autoscaler owns the desired size once the group exists.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(before), ignore_changes=["scalingConfig.desiredSize"]
            ),
        )
        if pool.min_size == 0 and spec.cluster_autoscaler.enabled:
            asg = group.resources.apply(
                lambda r: r[0].autoscaling_groups[0].name if r and r[0].autoscaling_groups else ""
            )
            for key, value in sorted(autoscaler_template_tags(pool).items()):
                aws.autoscaling.Tag(
                    f"{name}-{pool.name}-ca-{hashlib.sha256(key.encode()).hexdigest()[:8]}",
                    autoscaling_group_name=asg,
                    tag={"key": key, "value": value, "propagate_at_launch": False},
                    opts=child,
                )
        return group

    def bind_workload_identity(
        self,
        suffix: str,
        namespace: str,
        service_account: str,
        grants: Sequence[pulumi.Input[str]],
    ) -> pulumi.Output[str]:
        """An IAM role that only `system:serviceaccount:<namespace>:<service_account>` can assume
        through the cluster's OIDC provider (IRSA); returns its ARN."""
        subject = f"system:serviceaccount:{namespace}:{service_account}"
        trust = pulumi.Output.all(self._oidc.arn, self._oidc.url).apply(
            lambda parts: irsa_trust_policy(str(parts[0]), str(parts[1]), subject)
        )
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{self._name}-{suffix}-irsa", assume_role_policy=trust, opts=child)
        for index, policy in enumerate(grants):
            aws.iam.RolePolicyAttachment(
                f"{self._name}-{suffix}-irsa-{index}", role=role.name, policy_arn=policy, opts=child
            )
        return role.arn

    def workflow_bucket(self, spec: BucketSpec, namespace: str) -> WorkflowBucket:
        """An S3 bucket (public access blocked, owner-enforced, SSE-KMS with bucket keys,
        versioned unless turned off, kept on destroy unless opted out) and an IRSA role for the
        workflow pods' ServiceAccount with what OSMO's data access and validation need."""
        name, region = self._name, self._spec.region
        child = pulumi.ResourceOptions(parent=self)
        bucket_name = workflow_bucket_name(f"{name}-workflow-bucket-suffix", spec, "eks", self)
        # Deleting any of the bucket's settings resources undoes that setting on the bucket
        # (DeletePublicAccessBlock, DeleteBucketOwnershipControls, encryption reset to SSE-S3,
        # versioning suspended): a kept bucket keeps them too.
        kept = pulumi.ResourceOptions(parent=self, retain_on_delete=spec.retain_on_delete)
        bucket = aws.s3.Bucket(
            f"{name}-workflow-bucket",
            bucket=bucket_name,
            force_destroy=False,
            opts=kept,
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-workflow-bucket-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=kept,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-workflow-bucket-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=kept,
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-workflow-bucket-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {"sse_algorithm": "aws:kms"},
                    "bucket_key_enabled": True,
                }
            ],
            opts=kept,
        )
        aws.s3.BucketVersioning(
            f"{name}-workflow-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled" if spec.versioning else "Suspended"},
            opts=kept,
        )
        policy = aws.iam.Policy(
            f"{name}-workflow-bucket-policy",
            policy=bucket.arn.apply(
                lambda arn: json.dumps(workflow_bucket_policy(arn), sort_keys=True)
            ),
            opts=child,
        )
        role = self.bind_workload_identity(
            "workflow", namespace, spec.service_account, [policy.arn]
        )
        aws.iam.RolePolicy(
            f"{name}-workflow-simulate",
            role=role.apply(lambda arn: arn.rsplit("/", 1)[-1]),
            policy=role.apply(lambda arn: json.dumps(simulate_policy(arn), sort_keys=True)),
            opts=child,
        )
        # OSMO's workflow data credential must hold a key (keyless credentials break workflow
        # pods' `osmo data` calls): an IAM user that can reach this bucket only, and its access
        # key. A new `keyGeneration` names a new key: Pulumi creates it, updates the credential
        # Secret, then deletes the old key.
        user = aws.iam.User(f"{name}-workflow-data-user", path="/osmo-backend/", opts=child)
        aws.iam.UserPolicy(
            f"{name}-workflow-data-user-policy",
            user=user.name,
            policy=pulumi.Output.all(bucket.arn, user.arn).apply(
                lambda arns: json.dumps(workflow_key_policy(arns[0], arns[1]), sort_keys=True)
            ),
            opts=child,
        )
        key = aws.iam.AccessKey(
            f"{name}-workflow-data-key-{spec.key_generation}", user=user.name, opts=child
        )
        uri = f"s3://{spec.name}"
        # A suffixed name is known only after `up`: allow the region's virtual-hosted bucket
        # hosts (S3 serves every bucket of the region at s3.<region> path-style anyway).
        host = (
            bucket_host(uri, region) if not spec.random_suffix else f"*.s3.{region}.amazonaws.com"
        )
        return WorkflowBucket(
            uri=pulumi.Output.from_input(bucket_name).apply(lambda b: f"s3://{b}")
            if spec.random_suffix
            else uri,
            region=region,
            spec=spec,
            egress=((host, "workflow data bucket"),),
            annotations={"eks.amazonaws.com/role-arn": role},
            # The role reaches OSMO's own containers, never the user's code.
            pod_annotations={EKS_SKIP_CONTAINERS: USER_CONTAINER},
            access_key_id=key.id,
            access_key=pulumi.Output.secret(key.secret),
        )

    def _autoscaler(
        self, in_cluster: pulumi.ResourceOptions, operator_group: aws.eks.NodeGroup
    ) -> None:
        spec, name = self._spec, self._name
        policy = aws.iam.Policy(
            f"{name}-autoscaler-policy",
            policy=json.dumps(autoscaler_policy(spec.name), sort_keys=True),
            opts=pulumi.ResourceOptions(parent=self),
        )
        role_arn = self.bind_workload_identity(
            "autoscaler", "kube-system", "cluster-autoscaler", [policy.arn]
        )
        values: dict[str, Any] = {
            "cloudProvider": "aws",
            "awsRegion": spec.region,
            "autoDiscovery": {"clusterName": spec.name},
            "rbac": {
                "serviceAccount": {
                    "name": "cluster-autoscaler",
                    "annotations": {"eks.amazonaws.com/role-arn": role_arn},
                }
            },
            "nodeSelector": {"node-type": "operator"},
            "extraArgs": {"balance-similar-node-groups": True, "expander": "least-waste"},
        }
        _helm.release(
            f"{name}-cluster-autoscaler",
            release_name="cluster-autoscaler",
            chart=versions.CLUSTER_AUTOSCALER,
            namespace="kube-system",
            values=values,
            overrides=spec.autoscaler_values or {},
            timeout_seconds=AUTOSCALER_TIMEOUT_SECONDS,
            atomic=True,
            opts=pulumi.ResourceOptions.merge(
                in_cluster, pulumi.ResourceOptions(depends_on=[operator_group])
            ),
        )


def eks_cluster(
    name: str,
    spec: EksClusterSpec,
    default_storage_class: str | None,
    opts: pulumi.ResourceOptions,
) -> EksCluster:
    """The cluster with its own AWS provider, pinned to the spec's region; its default tags are
    the one place every AWS resource gets the cluster tag. No AWS resource of the stack uses the
    default provider."""
    provider = aws.Provider(
        f"{name}-aws",
        region=spec.region,
        default_tags={"tags": default_tags(spec)},
        opts=opts,
    )
    return EksCluster(
        name,
        {"spec": spec, "default_storage_class": default_storage_class},
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers={"aws": provider})),
    )


def build(
    name: str,
    spec: EksClusterSpec,
    default_storage_class: str | None,
    kubeconfig: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> EksCluster:
    """The registry's factory (components.clusters.registry): a EKS stack makes its own
    kubeconfig, so `kubeconfig` is unused."""
    del kubeconfig
    return eks_cluster(name, spec, default_storage_class, opts)
