"""AKS backend clusters: resource group, a VNet with a NAT gateway, a hardened cluster with Entra ID
and Azure RBAC, node pools per OSMO role with a GPU stack profile, Workload Identity, the
deployer's role, and the handle.

Secure defaults (research/reliability.md 1.4): Entra ID integration with Azure RBAC and local
accounts disabled; a private API server, or a public one only for listed ranges (AKS refuses both
at once); OIDC issuer and Workload Identity; Secrets encrypted with a Key Vault key (KMS) through a
user-assigned cluster identity granted before the cluster exists; Azure CNI Overlay with Cilium
network policy; an automatic upgrade channel and node-image OS upgrades; the Azure Policy add-on;
Container Insights to a Log Analytics workspace; no node public IPs; egress through a NAT gateway.

With Azure RBAC and no local accounts, whoever runs `pulumi up` needs "Azure Kubernetes Service RBAC
Cluster Admin" on the cluster, or every in-cluster resource fails with Forbidden: the stack
assigns it to the deploying identity (from the client config), and the Kubernetes provider waits
`ROLE_PROPAGATION` after the assignment (a new assignment takes up to 5 minutes to take effect and
the provider does not retry Forbidden); cloud resources do not wait.

Destroy: deleting a resource group deletes everything in it, so what outlives `pulumi destroy`
(the Key Vault and its key, a retained workflow storage account with its container and settings)
lives in a retained group of its own, `<resourceGroup>-keep-<suffix>`, next to a group the stack
creates. Day two: pools change per pool (AgentPool resources, the autoscaler owns their counts);
the cluster ignores `agentPoolProfiles`, so a refresh followed by `up` leaves it alone.

GPU pools: AKS installs the driver (its node image carries the container toolkit), or the pool's
GPU profile says `driver: None` and the GPU Operator installs both. Spot pools carry AKS's
own `kubernetes.azure.com/scalesetpriority=spot:NoSchedule` taint: the GPU Operator's daemonsets
and OSMO's pods for those roles tolerate it.
"""

import base64
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_azure_native as azure
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumiverse_time as time
import yaml

from components.clusters.aks.config import (
    SUFFIX_LENGTH,
    AksClusterSpec,
    AksNodePoolSpec,
    insights_rule_name,
    key_vault_name,
    retained_group_name,
)
from components.clusters.base import (
    GPU_TAINT,
    ClusterHandle,
    NodePool,
    WorkflowBucket,
    cloud_labels,
    gpu_daemonset_values,
    node_pool,
    pool_node_labels,
    pool_roles,
    workflow_bucket_name,
)
from components.config import BucketSpec, GpuStackSpec, Role
from components.config.storage import bucket_host
from components.storage import AKS_SKIP_CONTAINERS, USER_CONTAINER

TYPE = "osmo-backend:index:AksCluster"
MANAGED_CSI = "managed-csi"
"""AKS's own default StorageClass (Azure Disk CSI); it exists already and is not created."""

AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
"""Built-in role "Azure Kubernetes Service RBAC Cluster Admin"."""
KEY_VAULT_CRYPTO_USER = "12338af0-0e69-4776-bea7-57ae8d297424"
"""Built-in role "Key Vault Crypto User" (KMS: wrap and unwrap with the key)."""
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
"""Built-in role "Network Contributor" (the cluster identity joins nodes to the subnet)."""
STORAGE_BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
"""Built-in role "Storage Blob Data Contributor" (OSMO's workflow data, research 4.2)."""
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
"""The Entra ID application of AKS's API server (kubelogin --server-id)."""

SPOT_TAINT_KEY = "kubernetes.azure.com/scalesetpriority"
SPOT_TOLERATION: Mapping[str, str] = {
    "key": SPOT_TAINT_KEY,
    "operator": "Equal",
    "value": "spot",
    "effect": "NoSchedule",
}
WORKLOAD_IDENTITY_AUDIENCE = "api://AzureADTokenExchange"
ROLE_PROPAGATION = "5m"
"""How long a new Azure role assignment may take to take effect: the deployer's Kubernetes
calls wait this long after its cluster admin assignment, once (the Kubernetes provider does not
retry Forbidden)."""
MAX_SURGE = "33%"
CONTAINER_INSIGHTS_STREAMS = ("Microsoft-ContainerInsights-Group-Default",)
"""Every Container Insights table, as Azure's own onboarding names them in the rule."""
POOL_IGNORED_CHANGES = ["count"]
"""The cluster autoscaler owns a pool's size once it exists."""
CLUSTER_IGNORED_CHANGES = ["agentPoolProfiles"]
"""Pools are changed per pool (AgentPool resources), never through the cluster: after a refresh
the cluster lists every pool with the autoscaler's counts, and a cluster update carrying
`agentPoolProfiles` puts every pool into Scaling or is refused ("A new agent pool was
introduced"; pulumi/pulumi-azure-native#4264, #2719). The system (operator) pool's settings
apply when the cluster is created."""


class AksClusterArgs(TypedDict):
    """Inputs for AksCluster (validated by `components.config` first)."""

    spec: AksClusterSpec
    default_storage_class: NotRequired[str | None]
    """StorageClass for in-cluster state; None: AKS's own `managed-csi`."""


def node_labels(pool: AksNodePoolSpec) -> dict[str, str]:
    return pool_node_labels(pool.name, pool.role, pool.labels)


def node_taints(pool: AksNodePoolSpec) -> list[str]:
    """The GPU taint on GPU pools, then the pool's extra taints (`key=value:Effect`, as
    AgentPool.nodeTaints takes them); AKS adds the spot taint to spot pools itself."""
    taints = [f"{t.key}={t.value}:{t.effect}" for t in pool.taints]
    if pool.role == "gpu":
        return [f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}", *taints]
    return taints


def pool_description(pool: AksNodePoolSpec) -> NodePool:
    """The pool as OSMO reaches it; spot pools carry AKS's spot taint too."""
    spot = (SPOT_TOLERATION,) if pool.spot else ()
    return node_pool(pool.name, cast(Role, pool.role), pool.taints, spot)


def gpu_stack(spec: AksClusterSpec) -> GpuStackSpec:
    if spec.gpu_driver == "operator":
        return GpuStackSpec(driver="operator", toolkit="operator")
    return GpuStackSpec(driver="host", toolkit="host")


def gpu_operator_values(spec: AksClusterSpec) -> dict[str, Any]:
    """With spot GPU pools (or GPU pools with extra taints), the GPU Operator's daemonsets and
    its NFD worker tolerate AKS's spot taint and those taints next to the GPU taint."""
    return gpu_daemonset_values(pool_roles(pool_description(p) for p in spec.node_pools))


def cloud_egress(location: str) -> tuple[tuple[str, str], ...]:
    """AKS's required outbound endpoints plus those of the add-ons this stack turns on."""
    return (
        (f"*.hcp.{location}.azmk8s.io", "nodes reach the API server"),
        ("mcr.microsoft.com", "AKS system images"),
        ("*.data.mcr.microsoft.com", "AKS system image layers"),
        ("management.azure.com", "Azure Resource Manager (node and load balancer operations)"),
        ("login.microsoftonline.com", "Entra ID authentication, Workload Identity tokens"),
        ("packages.microsoft.com", "node packages"),
        ("acs-mirror.azureedge.net", "node binaries (kubelet, CNI)"),
        ("*.ods.opinsights.azure.com", "Container Insights"),
        ("*.oms.opinsights.azure.com", "Container Insights"),
        ("data.policy.core.windows.net", "Azure Policy add-on"),
        ("store.policy.core.windows.net", "Azure Policy add-on"),
    )


def role_definition(subscription: str, role: str) -> str:
    return f"/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def authorized_ranges(
    ranges: Sequence[str], egress_ip: pulumi.Output[str] | None
) -> list[pulumi.Input[str]] | None:
    """The API server's authorized ranges plus the cluster's own egress (the NAT gateway's
    public IP): nodes reach a public API server through it, so without it node provisioning
    fails. (A Standard load balancer's outbound IP is allowed by AKS itself.) None: no ranges
    (a private API server)."""
    if not ranges:
        return None
    if egress_ip is None:
        return list(ranges)
    return [*ranges, egress_ip.apply(lambda ip: f"{ip}/32")]


def kubelogin_kubeconfig(raw: str, login: str) -> str:
    """The cluster user's kubeconfig with its user converted for kubelogin (as
    `kubelogin convert-kubeconfig -l <login>` does): tokens come from Entra ID at each call."""
    config: dict[str, Any] = yaml.safe_load(raw)
    exec_config = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "kubelogin",
        "args": ["get-token", "--login", login, "--server-id", AKS_AAD_SERVER_ID],
        "env": None,
        "installHint": "kubelogin is not installed which is required to connect to AAD enabled "
        "cluster.\n\nTo learn more, please go to https://azure.github.io/kubelogin/",
        "provideClusterInfo": False,
    }
    for user in config.get("users") or []:
        user["user"] = {"exec": exec_config}
    return yaml.safe_dump(config, sort_keys=True)


class AksCluster(pulumi.ComponentResource):
    """An AKS cluster shaped for OSMO."""

    handle: ClusterHandle
    kubeconfig: pulumi.Output[str]
    """kubelogin-based kubeconfig (secret)."""
    cluster: azure.containerservice.ManagedCluster
    """The escape hatch: the underlying managed cluster resource."""
    node_pools: dict[str, azure.containerservice.AgentPool]

    def __init__(
        self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        self._name, self._spec = name, spec
        self._tags = cloud_labels(spec.name, spec.tags)
        child = pulumi.ResourceOptions(parent=self)
        client = azure.authorization.get_client_config_output(
            opts=pulumi.InvokeOutputOptions(parent=self)
        )
        self._subscription = client.subscription_id

        # One per-deployment suffix for the names the cloud keeps after destroy.
        self._suffix = random.RandomString(
            f"{name}-vault-suffix",
            length=SUFFIX_LENGTH,
            special=False,
            upper=False,
            opts=child,
        ).result
        if spec.create_resource_group:
            group = azure.resources.ResourceGroup(
                f"{name}-rg",
                resource_group_name=spec.resource_group,
                location=spec.location,
                tags=self._tags,
                opts=child,
            )
            self._group: pulumi.Input[str] = group.name
            admin_scope: pulumi.Input[str] | None = group.id
            # Deleting a resource group deletes everything in it, retained or not
            # (pulumi/pulumi-azure-native#2522): what outlives destroy lives in a group of its own.
            self._keep_group: pulumi.Input[str] = azure.resources.ResourceGroup(
                f"{name}-keep-rg",
                resource_group_name=self._suffix.apply(
                    lambda s: retained_group_name(spec.resource_group, s)
                ),
                location=spec.location,
                tags=self._tags,
                opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
            ).name
        else:
            self._group = self._keep_group = spec.resource_group
            admin_scope = None
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-identity",
            resource_group_name=self._group,
            resource_name_=f"{spec.name}-cluster",
            location=spec.location,
            tags=self._tags,
            opts=child,
        )
        subnet_id, network_grant, egress_ip = self._network(identity)
        key_uri, key_grant = self._secrets_key(identity, client.tenant_id)
        workspace = self._workspace()

        system = next(p for p in spec.node_pools if p.system)
        profile: azure.containerservice.ManagedClusterAgentPoolProfileArgsDict = {
            "name": system.name,
            "mode": "System",
            **self._pool_args(system, subnet_id),  # type: ignore[typeddict-item]
        }
        self.cluster = azure.containerservice.ManagedCluster(
            f"{name}-aks",
            resource_group_name=self._group,
            resource_name_=spec.name,
            location=spec.location,
            dns_prefix=spec.dns_prefix,
            kubernetes_version=spec.kubernetes_version,
            sku={"name": "Base", "tier": spec.tier},
            identity={
                "type": azure.containerservice.ResourceIdentityType.USER_ASSIGNED,
                "user_assigned_identities": [identity.id],
            },
            aad_profile={
                "managed": True,
                "enable_azure_rbac": True,
                "tenant_id": client.tenant_id,
                "admin_group_object_ids": list(spec.admin_group_object_ids) or None,
            },
            disable_local_accounts=True,
            enable_rbac=True,
            api_server_access_profile={
                "enable_private_cluster": spec.api_server.private,
                "authorized_ip_ranges": authorized_ranges(spec.api_server.ranges, egress_ip),
            },
            network_profile={
                "network_plugin": "azure",
                "network_plugin_mode": "overlay",
                "network_dataplane": "cilium",
                "network_policy": "cilium",
                "pod_cidr": spec.network.pod_cidr,
                "service_cidr": spec.network.service_cidr,
                "dns_service_ip": spec.network.dns_service_ip,
                "load_balancer_sku": "standard",
                "outbound_type": "loadBalancer"
                if spec.network.bring_your_own
                else "userAssignedNATGateway",
            },
            oidc_issuer_profile={"enabled": True},
            security_profile={
                "workload_identity": {"enabled": True},
                "azure_key_vault_kms": {
                    "enabled": True,
                    "key_id": key_uri,
                    "key_vault_network_access": "Public",
                },
            },
            auto_upgrade_profile={
                "upgrade_channel": spec.upgrade_channel,
                "node_os_upgrade_channel": "NodeImage",
            },
            addon_profiles={
                "azurepolicy": {"enabled": True},
                "omsagent": {
                    "enabled": True,
                    "config": {
                        "logAnalyticsWorkspaceResourceID": workspace,
                        "useAADAuth": "true",
                    },
                },
            },
            agent_pool_profiles=[profile],
            tags=self._tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[g for g in (network_grant, key_grant) if g is not None],
                ignore_changes=CLUSTER_IGNORED_CHANGES,
            ),
        )
        cluster = self.cluster
        self.node_pools = {
            pool.name: self._agent_pool(pool, subnet_id, self._pool_subnet_grant(pool, identity))
            for pool in spec.node_pools
            if not pool.system
        }
        self._insights(workspace)
        # In a group the stack creates for this cluster, the assignment is made on the group: it
        # then exists, and its propagation wait runs, while the cluster is being created (12
        # minutes), off the critical path. In a group the stack does not own, it stays on the
        # cluster alone (after it exists), so the deployer is never admin of other clusters.
        deployer = azure.authorization.RoleAssignment(
            f"{name}-deployer-admin",
            principal_id=client.object_id,
            principal_type=spec.deployer_principal_type,
            role_definition_id=self._subscription.apply(
                lambda sub: role_definition(sub, AKS_RBAC_CLUSTER_ADMIN)
            ),
            scope=admin_scope if admin_scope is not None else cluster.id,
            description="The identity running pulumi up manages this cluster's resources",
            opts=child,
        )
        # Only what talks to the API server waits for the assignment to take effect; cloud
        # resources (user pools, storage, monitoring rules) do not. The wait happens once, and
        # again only when the assignment is replaced (a new cluster).
        deployer_ready = time.Sleep(
            f"{name}-deployer-admin-propagation",
            create_duration=ROLE_PROPAGATION,
            triggers={"assignment": deployer.id},
            opts=child,
        )

        # Read once the cluster exists (in a first preview the kubeconfig stays unknown).
        credentials = azure.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=spec.resource_group,
            resource_name=spec.name,
            format="exec",
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[cluster]),
        )
        self.kubeconfig = pulumi.Output.secret(
            credentials.kubeconfigs.apply(
                lambda kubeconfigs: kubelogin_kubeconfig(
                    base64.b64decode(kubeconfigs[0].value).decode(), spec.kubeconfig_auth.login
                )
            )
        )
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=cluster.id,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[cluster, deployer_ready],
                additional_secret_outputs=["kubeconfig"],
            ),
        )

        pools = tuple(pool_description(p) for p in spec.node_pools)
        roles = pool_roles(pools)
        network = spec.network
        cidrs = tuple(c for c in (network.vnet_cidr, network.pod_cidr, network.service_cidr) if c)
        self.handle = ClusterHandle(
            name=spec.name,
            kind="aks",
            identifier=spec.name,
            kubeconfig=self.kubeconfig,
            provider=provider,
            node_roles=roles,
            gpu_stack=gpu_stack(spec),
            deleted_with=cluster,
            default_storage_class=args.get("default_storage_class") or MANAGED_CSI,
            cluster_cidrs=cidrs,
            egress=cloud_egress(spec.location),
            bind_workload_identity=self.bind_workload_identity,
            workflow_bucket=self.workflow_bucket,
            gpu_operator_values=gpu_operator_values(spec),
            node_pools=pools,
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})

    def _network(
        self, identity: azure.managedidentity.UserAssignedIdentity
    ) -> tuple[
        pulumi.Input[str], azure.authorization.RoleAssignment | None, pulumi.Output[str] | None
    ]:
        """The node subnet (NAT gateway egress, no default outbound access), the cluster
        identity's right to join nodes and load balancers to it, and the NAT gateway's public IP
        (None on a subnet brought along)."""
        spec, name = self._spec, self._name
        child = pulumi.ResourceOptions(parent=self)
        egress_ip: pulumi.Output[str] | None = None
        if spec.network.subnet_id is not None:
            subnet_id: pulumi.Input[str] = spec.network.subnet_id
        else:
            assert spec.network.vnet_cidr is not None
            assert spec.network.node_subnet_cidr is not None
            vnet = azure.network.VirtualNetwork(
                f"{name}-vnet",
                resource_group_name=self._group,
                virtual_network_name=spec.name,
                location=spec.location,
                address_space={"address_prefixes": [spec.network.vnet_cidr]},
                tags=self._tags,
                opts=pulumi.ResourceOptions(parent=self, ignore_changes=["subnets"]),
            )
            address = azure.network.PublicIPAddress(
                f"{name}-nat-ip",
                resource_group_name=self._group,
                public_ip_address_name=f"{spec.name}-nat",
                location=spec.location,
                sku={"name": "Standard"},
                public_ip_allocation_method="Static",
                tags=self._tags,
                opts=child,
            )
            nat = azure.network.NatGateway(
                f"{name}-nat",
                resource_group_name=self._group,
                nat_gateway_name=f"{spec.name}-nat",
                location=spec.location,
                sku={"name": "Standard"},
                public_ip_addresses=[{"id": address.id}],
                idle_timeout_in_minutes=4,
                tags=self._tags,
                opts=child,
            )
            subnet = azure.network.Subnet(
                f"{name}-nodes",
                resource_group_name=self._group,
                virtual_network_name=vnet.name,
                subnet_name="nodes",
                address_prefix=spec.network.node_subnet_cidr,
                nat_gateway={"id": nat.id},
                default_outbound_access=False,
                opts=child,
            )
            subnet_id = subnet.id
            egress_ip = address.ip_address.apply(lambda ip: ip or "")
        grant = self._assign(f"{name}-identity-network", identity, NETWORK_CONTRIBUTOR, subnet_id)
        return subnet_id, grant, egress_ip

    def _secrets_key(
        self, identity: azure.managedidentity.UserAssignedIdentity, tenant: pulumi.Input[str]
    ) -> tuple[pulumi.Output[str], azure.authorization.RoleAssignment]:
        """A Key Vault key for KMS etcd encryption and the cluster identity's right to use it.
        Vault and key survive `pulumi destroy` (purge protection keeps the name for 90 days:
        the random suffix lets the stack be created again)."""
        spec, name = self._spec, self._name
        retain = pulumi.ResourceOptions(parent=self, retain_on_delete=True)
        vault = azure.keyvault.Vault(
            f"{name}-vault",
            resource_group_name=self._keep_group,
            # Vault names: 3 to 24 characters, globally unique (validated on the derived name).
            vault_name=self._suffix.apply(lambda s: key_vault_name(spec.name, s)),
            location=spec.location,
            properties={
                "tenant_id": tenant,
                "sku": {"family": "A", "name": azure.keyvault.SkuName.STANDARD},
                "enable_rbac_authorization": True,
                "enable_soft_delete": True,
                "soft_delete_retention_in_days": 90,
                "enable_purge_protection": True,
                "public_network_access": "Enabled",
            },
            tags=self._tags,
            opts=retain,
        )
        key = azure.keyvault.Key(
            f"{name}-secrets-key",
            resource_group_name=self._keep_group,
            vault_name=vault.name,
            key_name="etcd",
            properties={
                "kty": "RSA",
                "key_size": 2048,
                "key_ops": ["wrapKey", "unwrapKey", "encrypt", "decrypt"],
            },
            opts=retain,
        )
        grant = self._assign(f"{name}-identity-kms", identity, KEY_VAULT_CRYPTO_USER, vault.id)
        return key.key_uri_with_version, grant

    def _workspace(self) -> pulumi.Input[str]:
        spec = self._spec
        if spec.log_analytics_workspace_id is not None:
            return spec.log_analytics_workspace_id
        return azure.operationalinsights.Workspace(
            f"{self._name}-logs",
            resource_group_name=self._group,
            workspace_name=f"{spec.name}-logs",
            location=spec.location,
            sku={"name": "PerGB2018"},
            retention_in_days=30,
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        ).id

    def _insights(self, workspace: pulumi.Input[str]) -> None:
        """Container Insights with Entra ID auth (`useAADAuth`) collects through the Azure Monitor
        agent only with a data collection rule associated with the cluster, as Azure's own
        onboarding creates them (microsoft/Docker-Provider
        scripts/onboarding/aks/onboarding-msi-terraform/main.tf)."""
        spec, name = self._spec, self._name
        rule = azure.monitor.DataCollectionRule(
            f"{name}-insights",
            resource_group_name=self._group,
            data_collection_rule_name=insights_rule_name(spec.name, spec.location),
            location=spec.location,
            kind="Linux",
            description="DCR for Azure Monitor Container Insights",
            data_sources={
                "extensions": [
                    {
                        "name": "ContainerInsightsExtension",
                        "extension_name": "ContainerInsights",
                        "streams": list(CONTAINER_INSIGHTS_STREAMS),
                        "extension_settings": {
                            "dataCollectionSettings": {
                                "interval": "1m",
                                "namespaceFilteringMode": "Off",
                                "enableContainerLogV2": True,
                            }
                        },
                    }
                ]
            },
            destinations={
                "log_analytics": [{"name": "ciworkspace", "workspace_resource_id": workspace}]
            },
            data_flows=[
                {"streams": list(CONTAINER_INSIGHTS_STREAMS), "destinations": ["ciworkspace"]}
            ],
            tags=self._tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        azure.monitor.DataCollectionRuleAssociation(
            f"{name}-insights-association",
            resource_uri=self.cluster.id,
            association_name="ContainerInsightsExtension",
            data_collection_rule_id=rule.id,
            description="Association of container insights data collection rule. Deleting this "
            "association will break the data collection for this AKS Cluster.",
            opts=pulumi.ResourceOptions(parent=self, deleted_with=self.cluster),
        )

    def _pool_args(self, pool: AksNodePoolSpec, subnet_id: pulumi.Input[str]) -> dict[str, Any]:
        """What the system pool profile and a user agent pool share."""
        spec = self._spec
        args: dict[str, Any] = {
            "vm_size": pool.vm_size,
            "count": max(pool.min_count, 1 if pool.system else 0),
            "enable_auto_scaling": True,
            "min_count": pool.min_count,
            "max_count": pool.max_count,
            "os_type": "Linux",
            "os_sku": "Ubuntu",
            "type": "VirtualMachineScaleSets",
            "vnet_subnet_id": pool.subnet_id or subnet_id,
            "enable_node_public_ip": False,
            "os_disk_size_gb": pool.os_disk_size_gb,
            "node_labels": node_labels(pool),
            "node_taints": node_taints(pool) or None,
            "availability_zones": list(pool.zones or spec.zones) or None,
            "tags": self._tags,
        }
        if not pool.spot:
            # AKS refuses it on spot pools: "Spot pools can't set max surge".
            args["upgrade_settings"] = {"max_surge": MAX_SURGE}
        if pool.spot:
            args |= {
                "scale_set_priority": "Spot",
                "scale_set_eviction_policy": "Delete",
                "spot_max_price": -1,
            }
        if pool.gpu_driver is not None:
            args["gpu_profile"] = {"driver": "None" if pool.gpu_driver == "operator" else "Install"}
        return args

    def _pool_subnet_grant(
        self, pool: AksNodePoolSpec, identity: azure.managedidentity.UserAssignedIdentity
    ) -> list[pulumi.Resource]:
        """On a pool's own subnet, the cluster identity joins its nodes as on the cluster's
        (Network Contributor), before the pool is created."""
        if pool.subnet_id is None:
            return []
        return [
            self._assign(
                f"{self._name}-identity-network-{pool.name}",
                identity,
                NETWORK_CONTRIBUTOR,
                pool.subnet_id,
            )
        ]

    def _agent_pool(
        self,
        pool: AksNodePoolSpec,
        subnet_id: pulumi.Input[str],
        after: Sequence[pulumi.Resource] = (),
    ) -> azure.containerservice.AgentPool:
        return azure.containerservice.AgentPool(
            f"{self._name}-{pool.name}",
            resource_group_name=self._group,
            resource_name_=self.cluster.name,
            agent_pool_name=pool.name,
            mode="User",
            **self._pool_args(pool, subnet_id),
            # The cluster autoscaler owns the size once the pool exists.
            opts=pulumi.ResourceOptions(
                parent=self, ignore_changes=POOL_IGNORED_CHANGES, depends_on=list(after)
            ),
        )

    def _federated_identity(
        self, suffix: str, namespace: str, service_account: str
    ) -> azure.managedidentity.UserAssignedIdentity:
        """A user-assigned identity only `system:serviceaccount:<namespace>:<service_account>`
        can federate into through the cluster's OIDC issuer."""
        spec, name = self._spec, self._name
        child = pulumi.ResourceOptions(parent=self)
        identity = azure.managedidentity.UserAssignedIdentity(
            f"{name}-{suffix}-wi",
            resource_group_name=self._group,
            resource_name_=f"{spec.name}-{suffix}",
            location=spec.location,
            tags=self._tags,
            opts=child,
        )
        azure.managedidentity.FederatedIdentityCredential(
            f"{name}-{suffix}-wi-federation",
            resource_group_name=self._group,
            resource_name_=identity.name,
            federated_identity_credential_resource_name=f"{namespace}-{service_account}",
            issuer=self.cluster.oidc_issuer_profile.apply(
                lambda profile: profile.issuer_url if profile and profile.issuer_url else ""
            ),
            subject=f"system:serviceaccount:{namespace}:{service_account}",
            audiences=[WORKLOAD_IDENTITY_AUDIENCE],
            opts=child,
        )
        return identity

    def _assign(
        self,
        name: str,
        identity: azure.managedidentity.UserAssignedIdentity,
        role: pulumi.Input[str],
        scope: pulumi.Input[str],
    ) -> azure.authorization.RoleAssignment:
        return azure.authorization.RoleAssignment(
            name,
            principal_id=identity.principal_id,
            principal_type="ServicePrincipal",
            role_definition_id=pulumi.Output.all(self._subscription, role).apply(
                lambda parts: role_definition(str(parts[0]), str(parts[1]))
            ),
            scope=scope,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def bind_workload_identity(
        self,
        suffix: str,
        namespace: str,
        service_account: str,
        grants: Sequence[pulumi.Input[str]],
    ) -> pulumi.Output[str]:
        """A federated identity for one service account, with the given built-in role ids
        assigned on the cluster's resource group; returns its client id (the service account's
        `azure.workload.identity/client-id` annotation; pods also need the
        `azure.workload.identity/use: "true"` label)."""
        identity = self._federated_identity(suffix, namespace, service_account)
        scope = pulumi.Output.all(self._subscription, self._group).apply(
            lambda parts: f"/subscriptions/{parts[0]}/resourceGroups/{parts[1]}"
        )
        for index, role in enumerate(grants):
            self._assign(f"{self._name}-{suffix}-wi-{index}", identity, role, scope)
        return identity.client_id

    def workflow_bucket(self, spec: BucketSpec, namespace: str) -> WorkflowBucket:
        """A storage account (no public blob access, TLS 1.2, HTTPS only; shared keys on, as
        OSMO's static Azure credential needs the account key) with a private container, blob
        versioning unless turned off, kept on destroy unless opted out; a federated identity for
        the workflow pods' ServiceAccount with Storage Blob Data Contributor on this account
        only; the account key OSMO's credential holds."""
        cluster, name = self._spec, self._name
        group = self._keep_group if spec.retain_on_delete else self._group
        account_name = workflow_bucket_name(f"{name}-workflow-storage-suffix", spec, "aks", self)
        retain = pulumi.ResourceOptions(parent=self, retain_on_delete=spec.retain_on_delete)
        account = azure.storage.StorageAccount(
            f"{name}-workflow-storage",
            resource_group_name=group,
            account_name=account_name,
            location=cluster.location,
            kind="StorageV2",
            sku={"name": "Standard_ZRS" if cluster.zones else "Standard_LRS"},
            allow_blob_public_access=False,
            # OSMO's static Azure credential is a connection string with the account key
            # (NVIDIA/OSMO src/lib/data/storage/backends/azure.py: create_client uses
            # BlobServiceClient.from_connection_string, copies sign SAS with its AccountKey),
            # and workflow data needs a static credential: the account holds only it.
            allow_shared_key_access=True,
            enable_https_traffic_only=True,
            minimum_tls_version="TLS1_2",
            tags=self._tags,
            opts=retain,
        )
        # The account's settings and container are kept with it (deleting the service
        # properties would reset versioning on an account that stays), and go with it otherwise.
        with_account = pulumi.ResourceOptions(
            parent=self, retain_on_delete=spec.retain_on_delete, deleted_with=account
        )
        azure.storage.BlobServiceProperties(
            f"{name}-workflow-storage-blobs",
            resource_group_name=group,
            account_name=account.name,
            blob_services_name="default",
            is_versioning_enabled=spec.versioning,
            opts=with_account,
        )
        azure.storage.BlobContainer(
            f"{name}-workflow-container",
            resource_group_name=group,
            account_name=account.name,
            container_name=spec.container,
            public_access=azure.storage.PublicAccess.NONE,
            opts=with_account,
        )
        identity = self._federated_identity("workflow", namespace, spec.service_account)
        self._assign(
            f"{name}-workflow-storage-access", identity, STORAGE_BLOB_DATA_CONTRIBUTOR, account.id
        )
        # key1 or key2 by `keyGeneration` parity: regenerate the unused key
        # (`az storage account keys renew --key key2`), then bump the generation.
        key_name = account_key_name(spec.key_generation)
        keys = azure.storage.list_storage_account_keys_output(
            resource_group_name=group,
            account_name=account.name,
            opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[account]),
        )
        connection = pulumi.Output.all(account.name, keys.keys).apply(
            lambda args: connection_string(args[0], account_key(args[1], key_name))
        )
        uri, region = f"azure://{spec.name}/{spec.container}", cluster.location
        # A suffixed name is known only after `up`: allow the Blob endpoints of every account.
        host = "*.blob.core.windows.net" if spec.random_suffix else bucket_host(uri, region)
        return WorkflowBucket(
            uri=pulumi.Output.from_input(account_name).apply(
                lambda a: f"azure://{a}/{spec.container}"
            )
            if spec.random_suffix
            else uri,
            region=region,
            spec=spec,
            egress=((host, "workflow data storage account"),),
            annotations={"azure.workload.identity/client-id": identity.client_id},
            pod_labels={"azure.workload.identity/use": "true"},
            # The identity reaches OSMO's own containers, never the user's code.
            pod_annotations={AKS_SKIP_CONTAINERS: USER_CONTAINER},
            access_key_id=account.name,
            access_key=pulumi.Output.secret(connection),
        )


def account_key_name(generation: int) -> str:
    """The storage account key OSMO's credential holds: key1 on even generations, key2 on odd."""
    return f"key{generation % 2 + 1}"


def account_key(keys: Sequence[Any], key_name: str) -> str:
    """The value of `key_name` among the keys listStorageAccountKeys returned (typed results, or
    the plain maps an invoke without its output types gives)."""
    for key in keys:
        fields = key if isinstance(key, Mapping) else {"key_name": key.key_name, "value": key.value}
        if key_name in (fields.get("key_name"), fields.get("keyName")):
            return str(fields["value"])
    raise ValueError(f"the storage account has no key {key_name!r}")


def connection_string(account: str, key: str) -> str:
    """An Azure Storage connection string, as NVIDIA/OSMO's own deployment script builds it
    (deployments/scripts/storage/azure-blob.sh: `CONN_STR=...`)."""
    return (
        f"DefaultEndpointsProtocol=https;AccountName={account};AccountKey={key};"
        "EndpointSuffix=core.windows.net"
    )


def aks_cluster(
    name: str,
    spec: AksClusterSpec,
    default_storage_class: str | None,
    opts: pulumi.ResourceOptions,
) -> AksCluster:
    """The cluster with its own Azure provider, pinned to the spec's location. No Azure resource
    of the stack uses the default provider."""
    provider = azure.Provider(f"{name}-azure", location=spec.location, opts=opts)
    return AksCluster(
        name,
        {"spec": spec, "default_storage_class": default_storage_class},
        pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(providers={"azure-native": provider})
        ),
    )


def build(
    name: str,
    spec: AksClusterSpec,
    default_storage_class: str | None,
    kubeconfig: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> AksCluster:
    """The registry's factory (components.clusters.registry): a AKS stack makes its own
    kubeconfig, so `kubeconfig` is unused."""
    del kubeconfig
    return aks_cluster(name, spec, default_storage_class, opts)
