"""EksCluster under OsmoBackend with the recording engine: hardened defaults, node roles, the
add-on order, IRSA, the autoscaler, and what goes with the cluster on delete."""

import json
from functools import cache
from typing import Any

import pytest
import yaml

from offline import engine
from tests.harness import config, run_main

CLUSTER_SECTION: dict[str, Any] = {
    "kind": "eks",
    "name": "osmo-usw2",
    "region": "us-west-2",
    "network": {"vpcCidr": "10.40.0.0/16"},
    "endpoint": {"publicAccessCidrs": ["203.0.113.0/24"]},
    "admins": ["arn:aws:iam::123456789012:role/platform-admins"],
    "nodePools": [
        {
            "name": "operator",
            "role": "operator",
            "instanceType": "m6i.xlarge",
            "minSize": 2,
            "maxSize": 3,
        },
        {"name": "compute", "role": "compute", "instanceType": "m6i.4xlarge", "maxSize": 20},
        {"name": "gpu", "role": "gpu", "instanceType": "g6e.12xlarge", "maxSize": 8},
        {"name": "arm", "role": "compute", "instanceType": "m7g.2xlarge", "maxSize": 4},
    ],
}
EKS = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ADDON = "aws:eks/addon:Addon"
ROLE = "aws:iam/role:Role"


def eks_config(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    section = {**CLUSTER_SECTION, **cluster}
    values["osmo-backend:cluster"] = {k: v for k, v in section.items() if v is not None}
    return values


@cache
def recording() -> engine.Recording:
    return run_main(eks_config())


def node_group(name: str) -> engine.ResourceRecord:
    return recording().get(NODE_GROUP, f"osmo-cluster-{name}")


def test_every_aws_resource_uses_the_stack_region_provider() -> None:
    rec = recording()
    provider = rec.get("pulumi:providers:aws", "osmo-cluster-aws")
    assert provider.raw_inputs["region"] == "us-west-2"
    assert json.loads(provider.raw_inputs["defaultTags"]) == {
        "tags": {"osmo-backend/cluster": "osmo-usw2", "managed-by": "pulumi"}
    }
    aws = [r for r in rec.resources if r.type.startswith("aws:")]
    assert len(aws) > 40
    assert {r.provider for r in aws} == {provider.urn}
    # The provider's default tags are the one source of the cluster tag.
    assert rec.get("aws:ec2/vpc:Vpc", "osmo-cluster-vpc").raw_inputs["tags"] == {
        "Name": "osmo-usw2"
    }
    assert "tags" not in rec.get(EKS, "osmo-cluster-eks").raw_inputs


def test_the_control_plane_is_private_encrypted_logged_and_uses_access_entries() -> None:
    rec = recording()
    cluster = rec.get(EKS, "osmo-cluster-eks")
    inputs = cluster.raw_inputs
    assert inputs["name"] == "osmo-usw2"
    assert inputs["version"] == "1.33"
    vpc = inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]
    private = [f"osmo-cluster-private-us-west-2{z}-id" for z in "abc"]
    assert vpc["subnetIds"] == private
    assert inputs["enabledClusterLogTypes"] == [
        "api",
        "audit",
        "authenticator",
        "controllerManager",
        "scheduler",
    ]
    key = rec.get("aws:kms/key:Key", "osmo-cluster-secrets-key")
    assert key.raw_inputs["enableKeyRotation"] is True
    assert key.options["retainOnDelete"] is True
    assert inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert cluster.property_dependencies["encryptionConfig"] == [key.urn]
    assert inputs["accessConfig"]["authenticationMode"] == "API"
    assert inputs["bootstrapSelfManagedAddons"] is False
    entry = rec.get("aws:eks/accessEntry:AccessEntry", "osmo-cluster-admin-0")
    assert entry.raw_inputs["principalArn"] == "arn:aws:iam::123456789012:role/platform-admins"
    association = rec.get(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "osmo-cluster-admin-0-policy"
    )
    assert association.raw_inputs["policyArn"] == (
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    )
    assert entry.urn in association.options["dependsOn"]


def test_no_public_endpoint_without_listed_networks() -> None:
    rec = run_main(eks_config(endpoint=None))
    vpc = rec.get(EKS, "osmo-cluster-eks").raw_inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc


def test_private_subnets_route_through_nat_and_public_ones_assign_no_ips() -> None:
    rec = recording()
    subnets = {r.name: r.raw_inputs for r in rec.by_type("aws:ec2/subnet:Subnet")}
    assert subnets["osmo-cluster-private-us-west-2a"]["cidrBlock"] == "10.40.0.0/18"
    assert subnets["osmo-cluster-private-us-west-2c"]["cidrBlock"] == "10.40.128.0/18"
    assert subnets["osmo-cluster-public-us-west-2a"]["cidrBlock"] == "10.40.192.0/20"
    assert subnets["osmo-cluster-private-us-west-2b"]["tags"]["kubernetes.io/role/internal-elb"]
    assert [s["mapPublicIpOnLaunch"] for n, s in subnets.items() if "-public-" in n] == [
        False,
        False,
        False,
    ]
    assert not [n for n, s in subnets.items() if s.get("mapPublicIpOnLaunch")]
    # natGateways defaults to one NAT gateway, shared by every private route table.
    assert [r.name for r in rec.by_type("aws:ec2/natGateway:NatGateway")] == [
        "osmo-cluster-nat-us-west-2a"
    ]
    routes = rec.get("aws:ec2/routeTable:RouteTable", "osmo-cluster-private-us-west-2c-rt")
    assert routes.raw_inputs["routes"] == [
        {"cidrBlock": "0.0.0.0/0", "natGatewayId": "osmo-cluster-nat-us-west-2a-id"}
    ]


@pytest.mark.parametrize(
    ("pool", "ami", "labels", "taints"),
    [
        (
            "operator",
            "AL2023_x86_64_STANDARD",
            {"node-type": "operator", "osmo.nvidia.com/pool": "operator"},
            None,
        ),
        (
            "compute",
            "AL2023_x86_64_STANDARD",
            {"node-type": "compute", "osmo.nvidia.com/pool": "compute"},
            None,
        ),
        (
            "arm",
            "AL2023_ARM_64_STANDARD",
            {"node-type": "compute", "osmo.nvidia.com/pool": "arm"},
            None,
        ),
        (
            "gpu",
            "AL2023_x86_64_NVIDIA",
            {"node-type": "gpu", "osmo.nvidia.com/pool": "gpu", "nvidia.com/gpu": "present"},
            [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
        ),
    ],
)
def test_node_groups_carry_the_osmo_roles(
    pool: str, ami: str, labels: dict[str, str], taints: list[dict[str, str]] | None
) -> None:
    group = node_group(pool)
    inputs = group.raw_inputs
    assert inputs["nodeGroupName"] == f"osmo-usw2-{pool}"
    assert inputs["amiType"] == ami
    assert inputs["labels"] == labels
    assert inputs.get("taints") == taints
    assert inputs["subnetIds"] == [f"osmo-cluster-private-us-west-2{z}-id" for z in "abc"]
    assert group.options["ignoreChanges"] == ["scalingConfig.desiredSize"]
    template = recording().get("aws:ec2/launchTemplate:LaunchTemplate", f"osmo-cluster-{pool}-lt")
    assert template.raw_inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    assert template.raw_inputs["blockDeviceMappings"][0]["ebs"]["encrypted"] == "true"
    assert inputs["launchTemplate"] == {"id": f"osmo-cluster-{pool}-lt-id", "version": "1"}
    assert "remoteAccess" not in inputs


def test_operator_pool_scaling_and_gpu_pool_defaults() -> None:
    assert node_group("operator").raw_inputs["scalingConfig"] == {
        "minSize": 2,
        "maxSize": 3,
        "desiredSize": 2,
    }
    gpu = node_group("gpu").raw_inputs
    assert gpu["scalingConfig"] == {"minSize": 0, "maxSize": 8, "desiredSize": 0}
    assert gpu["capacityType"] == "ON_DEMAND"
    template = recording().get("aws:ec2/launchTemplate:LaunchTemplate", "osmo-cluster-gpu-lt")
    assert template.raw_inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 200


def test_networking_add_ons_precede_every_node_group_and_dns_follows_the_operator_pool() -> None:
    rec = recording()
    cni = rec.urn_of(ADDON, "osmo-cluster-vpc-cni")
    proxy = rec.urn_of(ADDON, "osmo-cluster-kube-proxy")
    for pool in ("operator", "compute", "gpu", "arm"):
        assert {cni, proxy} <= set(node_group(pool).options["dependsOn"])
    assert json.loads(rec.get(ADDON, "osmo-cluster-vpc-cni").raw_inputs["configurationValues"]) == {
        "enableNetworkPolicy": "true"
    }
    operator = node_group("operator").urn
    for addon in ("osmo-cluster-coredns", "osmo-cluster-ebs-csi"):
        assert rec.get(ADDON, addon).options["dependsOn"] == [operator]


def test_nothing_waits_for_a_gpu_or_compute_node_group() -> None:
    """Only the group's own autoscaler template tags (which need its ASG name) wait for it."""
    rec = recording()
    for pool in ("gpu", "compute", "arm"):
        waiting = node_group(pool).urn
        dependents = {r.type for r in rec.resources if waiting in r.dependencies}
        assert dependents <= {"aws:autoscaling/tag:Tag"}, pool
        for record in rec.resources:
            if waiting in record.dependencies:
                assert record.name.startswith(f"osmo-cluster-{pool}-ca-")


def test_irsa_roles_trust_exactly_one_service_account() -> None:
    rec = recording()
    oidc = rec.get("aws:iam/openIdConnectProvider:OpenIdConnectProvider", "osmo-cluster-oidc")
    assert oidc.raw_inputs["clientIdLists"] == ["sts.amazonaws.com"]
    issuer = oidc.raw_inputs["url"].removeprefix("https://")
    for role, subject in (
        ("osmo-cluster-ebs-csi-irsa", "system:serviceaccount:kube-system:ebs-csi-controller-sa"),
        ("osmo-cluster-autoscaler-irsa", "system:serviceaccount:kube-system:cluster-autoscaler"),
    ):
        policy = json.loads(rec.get(ROLE, role).raw_inputs["assumeRolePolicy"])
        (statement,) = policy["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::000000000000:oidc-provider/{issuer}"
        }
        assert statement["Condition"] == {
            "StringEquals": {f"{issuer}:sub": subject, f"{issuer}:aud": "sts.amazonaws.com"}
        }
    ebs = rec.get(ADDON, "osmo-cluster-ebs-csi").raw_inputs
    assert (
        ebs["serviceAccountRoleArn"] == "arn:aws:iam::000000000000:role/osmo-cluster-ebs-csi-irsa"
    )


def test_cluster_autoscaler_runs_on_operator_nodes_with_its_irsa_role() -> None:
    rec = recording()
    release = rec.get("kubernetes:helm.sh/v3:Release", "osmo-cluster-cluster-autoscaler")
    inputs = release.raw_inputs
    assert (inputs["chart"], inputs["version"], inputs["namespace"]) == (
        "cluster-autoscaler",
        "9.59.0",
        "kube-system",
    )
    values = inputs["values"]
    assert values["autoDiscovery"] == {"clusterName": "osmo-usw2"}
    assert values["awsRegion"] == "us-west-2"
    assert values["nodeSelector"] == {"node-type": "operator"}
    assert values["rbac"]["serviceAccount"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::000000000000:role/osmo-cluster-autoscaler-irsa"
    }
    assert release.options["dependsOn"] == [node_group("operator").urn]
    assert release.provider == rec.urn_of("pulumi:providers:kubernetes", "osmo-cluster-k8s")


def test_the_autoscaler_may_resize_only_this_clusters_node_groups() -> None:
    """EKS tags a managed node group's Auto Scaling group k8s.io/cluster-autoscaler/enabled=true
    and k8s.io/cluster-autoscaler/<cluster>=owned (docs.aws.amazon.com/eks/latest/userguide/
    managed-node-groups.html); kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/
    README.md conditions SetDesiredCapacity and TerminateInstanceInAutoScalingGroup on both.
    The `enabled` tag alone matches every cluster's groups in the account."""
    policy = json.loads(
        recording()
        .get("aws:iam/policy:Policy", "osmo-cluster-autoscaler-policy")
        .raw_inputs["policy"]
    )
    describe, resize = policy["Statement"]
    assert describe["Resource"] == "*"
    assert all(
        a.startswith(("autoscaling:Describe", "ec2:Describe", "ec2:Get", "eks:Describe"))
        for a in describe["Action"]
    )
    assert resize["Action"] == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert resize["Condition"] == {
        "StringEquals": {
            "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
            "aws:ResourceTag/k8s.io/cluster-autoscaler/osmo-usw2": "owned",
        }
    }


def test_gpu_pools_scale_from_zero_with_template_tags() -> None:
    rec = recording()
    tags = {
        r.raw_inputs["tag"]["key"]: r.raw_inputs["tag"]["value"]
        for r in rec.by_type("aws:autoscaling/tag:Tag")
        if r.name.startswith("osmo-cluster-gpu-")
    }
    prefix = "k8s.io/cluster-autoscaler/node-template"
    assert tags == {
        f"{prefix}/label/node-type": "gpu",
        f"{prefix}/label/osmo.nvidia.com/pool": "gpu",
        f"{prefix}/label/nvidia.com/gpu": "present",
        f"{prefix}/taint/nvidia.com/gpu": "present:NoSchedule",
        f"{prefix}/resources/nvidia.com/gpu": "4",
    }
    # The operator pool never scales to zero, so it needs no template.
    assert not [r for r in rec.by_type("aws:autoscaling/tag:Tag") if "-operator-" in r.name]


def test_in_cluster_resources_go_with_the_cluster_unless_they_own_volumes() -> None:
    rec = recording()
    cluster = rec.urn_of(EKS, "osmo-cluster-eks")
    in_cluster = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert len(in_cluster) >= 15
    # Prometheus and Loki claim EBS volumes: their releases and namespace are deleted for real.
    owns_volumes = {
        "osmo-monitoring-prometheus-stack",
        "osmo-monitoring-loki",
        "osmo-monitoring-ns",
    }
    assert {r.name: r.options["deletedWith"] for r in in_cluster} == {
        r.name: None if r.name in owns_volumes else cluster for r in in_cluster
    }
    assert rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s").options["deletedWith"] is None
    assert rec.get(EKS, "osmo-cluster-eks").options["deletedWith"] is None


def test_the_kubeconfig_is_exec_based_and_secret() -> None:
    rec = recording()
    assert rec.outputs["kubeconfig"] == "[secret]"
    provider = rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    assert engine.mask_secrets(provider.raw_inputs["kubeconfig"]) == "[secret]"
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs["kubeconfig"]))
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "aws"
    assert "token" not in user["user"]
    assert provider.raw_inputs["clusterIdentifier"].startswith("arn:aws:eks:")


def test_workflow_policy_and_storage_default_to_what_the_stack_created() -> None:
    rec = recording()
    operator = rec.get("kubernetes:helm.sh/v3:Release", "osmo-operators-backend-operator")
    rendered = json.dumps(engine.unwrap_secrets(operator.raw_inputs["values"]))
    # Plus link-local: the instance metadata service (169.254.169.254) is never a workflow's.
    assert '"clusterCIDRs": ["10.40.0.0/16", "172.20.0.0/16", "169.254.0.0/16"]' in rendered
    gp3 = rec.get("kubernetes:storage.k8s.io/v1:StorageClass", "osmo-cluster-gp3").raw_inputs
    assert gp3["provisioner"] == "ebs.csi.aws.com"
    assert gp3["parameters"] == {"type": "gp3", "encrypted": "true"}
    prometheus = rec.get("kubernetes:helm.sh/v3:Release", "osmo-monitoring-prometheus-stack")
    assert '"storageClassName": "gp3"' in json.dumps(prometheus.raw_inputs["values"])


def test_gpu_operator_leaves_driver_and_toolkit_to_the_nvidia_ami() -> None:
    values = recording().get("kubernetes:helm.sh/v3:Release", "osmo-operators-gpu-operator")
    assert values.raw_inputs["values"]["driver"] == {"enabled": False}
    assert values.raw_inputs["values"]["toolkit"] == {"enabled": False}


def test_a_first_preview_with_unknown_cluster_outputs_runs() -> None:
    rec = run_main(eks_config(), preview=True)
    assert len(rec.by_type(NODE_GROUP)) == 4
    assert rec.outputs["kubeconfig"] == "[secret]"


def test_an_ingress_controller_is_deleted_for_real() -> None:
    """Its LoadBalancer Service owns a cloud load balancer."""
    values = eks_config()
    values["osmo-backend:networking"] = {"ingress": {"enabled": True}}
    rec = run_main(values)
    traefik = rec.get("kubernetes:helm.sh/v3:Release", "osmo-ingress-traefik")
    assert traefik.options["deletedWith"] is None
    assert rec.get("kubernetes:core/v1:Namespace", "osmo-ingress-ns").options["deletedWith"] is None
    kai = rec.get("kubernetes:helm.sh/v3:Release", "osmo-operators-kai-scheduler")
    assert kai.options["deletedWith"] == rec.urn_of(EKS, "osmo-cluster-eks")


def test_the_kubeconfig_can_name_a_profile_and_a_role() -> None:
    role = "arn:aws:iam::123456789012:role/osmo-deployer"
    rec = run_main(eks_config(kubeconfigAuth={"profile": "osmo-prod", "roleArn": role}))
    provider = rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs["kubeconfig"]))
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["args"] == [
        "--region",
        "us-west-2",
        "eks",
        "get-token",
        "--cluster-name",
        "osmo-usw2",
        "--output",
        "json",
        "--role-arn",
        role,
    ]
    assert user["user"]["exec"]["env"] == [{"name": "AWS_PROFILE", "value": "osmo-prod"}]


def test_the_egress_allowlist_names_the_regional_aws_endpoints() -> None:
    hosts = {e["host"]: e["purpose"] for e in recording().outputs["egress_allowlist"]}
    for host in (
        "eks.us-west-2.amazonaws.com",
        "sts.us-west-2.amazonaws.com",
        "ec2.us-west-2.amazonaws.com",
        "autoscaling.us-west-2.amazonaws.com",
        "*.dkr.ecr.us-west-2.amazonaws.com",
        "registry.k8s.io",
    ):
        assert host in hosts
    assert "Cluster Autoscaler image" in hosts["registry.k8s.io"]
    off = run_main(eks_config(clusterAutoscaler={"enabled": False}))
    assert "autoscaling.us-west-2.amazonaws.com" not in {
        e["host"] for e in off.outputs["egress_allowlist"]
    }
    assert not off.by_type("aws:autoscaling/tag:Tag")
    assert not [r for r in off.resources if r.name == "osmo-cluster-cluster-autoscaler"]


ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
ADMIN_POLICY = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
OFFLINE_DEPLOYER = "arn:aws:iam::000000000000:role/osmo-deployer"


def run_as(caller: str, values: dict[str, Any]) -> engine.Recording:
    """The program with the AWS provider's caller identity set to `caller`."""
    import runpy

    from tests.harness import REPO, encode

    return engine.run(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        project="osmo-backend",
        stack="test",
        config=encode(values),
        disabled_default_providers=values["pulumi:disable-default-providers"],
        invoke_fakes={
            "aws:index/getCallerIdentity:getCallerIdentity": lambda _args: {
                "accountId": "123456789012",
                "arn": caller,
                "userId": "AIDAFAKE",
            }
        },
    )


def access(rec: engine.Recording) -> dict[str, str]:
    """Access entries by principal, with the cluster admin policy each one is given."""
    entries = {r.name: r.raw_inputs["principalArn"] for r in rec.by_type(ENTRY)}
    policies = {r.name: r.raw_inputs["policyArn"] for r in rec.by_type(ASSOCIATION)}
    assert set(policies) == {f"{n}-policy" for n in entries}
    return {principal: name for name, principal in entries.items()}


def test_the_deployer_gets_an_explicit_access_entry_not_the_bootstrap_one() -> None:
    """`bootstrapClusterCreatorAdminPermissions` makes an access entry for the creator that the
    stack does not manage; an `admins` entry for the same principal then fails with 409
    ResourceInUseException (EKS CreateAccessEntry: one entry per principal ARN). The creator's
    entry is explicit instead: the caller (an assumed-role session resolved to its role by the
    provider's aws:iam/getSessionContext) unless `admins` lists it already."""
    rec = recording()
    inputs = rec.get(EKS, "osmo-cluster-eks").raw_inputs
    assert inputs["accessConfig"] == {
        "authenticationMode": "API",
        "bootstrapClusterCreatorAdminPermissions": False,
    }
    assert access(rec) == {
        "arn:aws:iam::123456789012:role/platform-admins": "osmo-cluster-admin-0",
        OFFLINE_DEPLOYER: "osmo-cluster-deployer",
    }
    deployer = rec.get(ASSOCIATION, "osmo-cluster-deployer-policy")
    assert deployer.raw_inputs["policyArn"] == ADMIN_POLICY
    assert deployer.raw_inputs["accessScope"] == {"type": "cluster"}
    assert rec.urn_of(ENTRY, "osmo-cluster-deployer") in deployer.options["dependsOn"]
    # In-cluster resources reach the API as the deployer: after its access, deleted before it.
    provider = rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    assert provider.options["dependsOn"] == [deployer.urn]
    assert rec.invokes == [
        "aws:index/getCallerIdentity:getCallerIdentity",
        "aws:iam/getSessionContext:getSessionContext",
    ]


def test_a_deployer_listed_in_admins_gets_one_entry() -> None:
    admins = ["arn:aws:iam::123456789012:role/platform-admins", OFFLINE_DEPLOYER]
    rec = run_main(eks_config(admins=admins))
    assert access(rec) == {
        admins[0]: "osmo-cluster-admin-0",
        admins[1]: "osmo-cluster-admin-1",
    }
    provider = rec.get("pulumi:providers:kubernetes", "osmo-cluster-k8s")
    assert provider.options["dependsOn"] == [rec.urn_of(ASSOCIATION, "osmo-cluster-admin-1-policy")]


def test_an_iam_user_caller_is_its_own_principal() -> None:
    user = "arn:aws:iam::123456789012:user/ci/deployer"
    rec = run_as(user, eks_config())
    assert access(rec)[user] == "osmo-cluster-deployer"
    # Only assumed-role sessions need the lookup of their role.
    assert rec.invokes == ["aws:index/getCallerIdentity:getCallerIdentity"]
    listed = run_as(user, eks_config(admins=[user]))
    assert access(listed) == {user: "osmo-cluster-admin-0"}


def test_the_kubeconfig_role_is_the_deployer() -> None:
    """With kubeconfigAuth.roleArn the kubeconfig (and so the provider) acts as that role."""
    role = "arn:aws:iam::123456789012:role/osmo-deployer"
    rec = run_main(eks_config(kubeconfigAuth={"roleArn": role}))
    assert access(rec)[role] == "osmo-cluster-deployer"
    assert OFFLINE_DEPLOYER not in access(rec)
    assert rec.invokes == []
    listed = run_main(eks_config(admins=[role], kubeconfigAuth={"roleArn": role}))
    assert access(listed) == {role: "osmo-cluster-admin-0"}


def test_volume_owners_wait_for_the_operator_nodes_and_the_ebs_driver() -> None:
    """EBS volumes are deleted by the CSI driver when their claims go: owners of claims must be
    deleted while the driver (an EKS add-on) and the nodes still run."""
    import pulumi

    def program() -> None:
        from components.clusters.eks.cluster import eks_cluster
        from components.config import load_spec
        from tests.harness import encode

        spec = load_spec(encode(eks_config())).cluster
        assert spec.kind == "eks"
        handle = eks_cluster("c", spec, None, pulumi.ResourceOptions()).handle  # type: ignore[arg-type]
        pulumi.export("volume_dependencies", [r.urn for r in handle.volume_dependencies])

    rec = engine.run(program, project="osmo-backend", stack="t")
    assert rec.outputs["volume_dependencies"] == [
        rec.urn_of(NODE_GROUP, "c-operator"),
        rec.urn_of(ADDON, "c-ebs-csi"),
    ]


def test_every_release_waits_for_the_operator_nodes_and_volume_owners_for_the_driver() -> None:
    """A release cannot be ready before the operator pool runs its pods, and destroy must remove
    releases while nodes run (issue 17); owners of EBS volumes also wait for the EBS CSI add-on
    (issue 14). The CRDs release runs no pods and waits for neither."""
    values = eks_config()
    values["osmo-backend:networking"] = {"ingress": {"enabled": True}}
    rec = run_main(values)
    nodes = rec.urn_of(NODE_GROUP, "osmo-cluster-operator")
    ebs = rec.urn_of(ADDON, "osmo-cluster-ebs-csi")
    releases = {r.name: r for r in rec.by_type("kubernetes:helm.sh/v3:Release")}
    assert "osmo-ingress-traefik" in releases
    for name, release in releases.items():
        waits = {u for u in (nodes, ebs) if u in release.options["dependsOn"]}
        if name == "osmo-monitoring-crds":
            assert waits == set(), name
        elif name in ("osmo-monitoring-prometheus-stack", "osmo-monitoring-loki"):
            assert waits == {nodes, ebs}, name
        else:
            assert waits == {nodes}, name
    ns = rec.get("kubernetes:core/v1:Namespace", "osmo-monitoring-ns")
    assert {nodes, ebs} <= set(ns.options["dependsOn"])


def test_pool_settings_reach_the_node_group_the_autoscaler_and_osmo() -> None:
    pools = [
        CLUSTER_SECTION["nodePools"][0],
        {
            "name": "spot",
            "role": "gpu",
            "instanceTypes": ["g6e.12xlarge", "g6.12xlarge"],
            "capacityType": "spot",
            "maxSize": 4,
            "labels": {"example.com/gpu": "l40s"},
            "taints": [{"key": "example.com/team", "value": "vision", "effect": "NoExecute"}],
            "zones": ["us-west-2b", "us-west-2c"],
        },
    ]
    rec = run_main(eks_config(nodePools=pools, tags={"cost-center": "ml-1234"}))
    group = rec.get(NODE_GROUP, "osmo-cluster-spot").raw_inputs
    # aws.eks.NodeGroup: instance_types is a list, subnet_ids pins the zones, taints take the
    # EKS API's effect spelling (NO_EXECUTE).
    assert group["instanceTypes"] == ["g6e.12xlarge", "g6.12xlarge"]
    assert group["capacityType"] == "SPOT"
    assert group["subnetIds"] == [
        "osmo-cluster-private-us-west-2b-id",
        "osmo-cluster-private-us-west-2c-id",
    ]
    assert group["labels"] == {
        "example.com/gpu": "l40s",
        "node-type": "gpu",
        "osmo.nvidia.com/pool": "spot",
        "nvidia.com/gpu": "present",
    }
    assert group["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "example.com/team", "value": "vision", "effect": "NO_EXECUTE"},
    ]
    tags = {
        r.raw_inputs["tag"]["key"]: r.raw_inputs["tag"]["value"]
        for r in rec.by_type("aws:autoscaling/tag:Tag")
        if r.name.startswith("osmo-cluster-spot-")
    }
    prefix = "k8s.io/cluster-autoscaler/node-template"
    assert tags[f"{prefix}/taint/example.com/team"] == "vision:NoExecute"
    assert tags[f"{prefix}/label/example.com/gpu"] == "l40s"
    # Cost allocation: the provider's default tags, and the launch template's tag
    # specifications for what it launches (default tags do not reach those).
    provider = rec.get("pulumi:providers:aws", "osmo-cluster-aws")
    stack_tags = {
        "cost-center": "ml-1234",
        "osmo-backend/cluster": "osmo-usw2",
        "managed-by": "pulumi",
    }
    assert json.loads(provider.raw_inputs["defaultTags"]) == {"tags": stack_tags}
    template = rec.get("aws:ec2/launchTemplate:LaunchTemplate", "osmo-cluster-spot-lt")
    assert template.raw_inputs["tagSpecifications"] == [
        {"resourceType": kind, "tags": stack_tags}
        for kind in ("instance", "volume", "network-interface")
    ]
    # The GPU Operator's daemonsets tolerate the pool's extra taint (their defaults cover only
    # nvidia.com/gpu).
    team = {
        "key": "example.com/team",
        "operator": "Equal",
        "value": "vision",
        "effect": "NoExecute",
    }
    gpu = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    values = rec.get("kubernetes:helm.sh/v3:Release", "osmo-operators-gpu-operator").raw_inputs[
        "values"
    ]
    assert values["daemonsets"] == {"tolerations": [gpu, team]}
    configs = rec.raw_outputs["osmo_service_values"]["services"]["configs"]
    assert configs["pools"]["lab-backend"]["platforms"]["spot"] == {
        "description": "gpu pool spot of backend lab-backend",
        "override_pod_template": ["lab-backend-pool-spot"],
    }
    assert configs["podTemplates"]["lab-backend-pool-spot"] == {
        "spec": {
            "nodeSelector": {"node-type": "gpu", "osmo.nvidia.com/pool": "spot"},
            "tolerations": [gpu, team],
        }
    }


def test_without_tags_the_launch_templates_stay_as_they_were() -> None:
    # A new launch template version rolls every node of the group: no tag specifications
    # unless tags are asked for.
    template = recording().get("aws:ec2/launchTemplate:LaunchTemplate", "osmo-cluster-gpu-lt")
    assert "tagSpecifications" not in template.raw_inputs
