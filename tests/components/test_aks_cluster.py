"""AksCluster under OsmoBackend with the recording engine: hardened defaults as exact inputs, the
system pool as the operator role, user pools with their GPU stack profile and spot taint, the
deployer's role before the Kubernetes provider, Workload Identity, and what goes with the cluster
on delete."""

import copy
import json
from functools import cache
from typing import Any

import pytest
import yaml

from offline import engine
from offline.refresh import changed_properties
from tests.harness import config, run_main

CLUSTER_SECTION: dict[str, Any] = {
    "kind": "aks",
    "name": "osmo-eus",
    "location": "eastus",
    "zones": ["1", "2", "3"],
    "network": {"vnetCidr": "10.80.0.0/16", "nodeSubnetCidr": "10.80.0.0/20"},
    "apiServer": {"authorizedIpRanges": ["203.0.113.0/24"]},
    "adminGroupObjectIds": ["11111111-2222-3333-4444-555555555555"],
    "nodePools": [
        {
            "name": "operator",
            "role": "operator",
            "vmSize": "Standard_D4s_v3",
            "minCount": 2,
            "maxCount": 3,
        },
        {"name": "compute", "role": "compute", "vmSize": "Standard_D8s_v3", "maxCount": 20},
        {
            "name": "h100",
            "role": "gpu",
            "vmSize": "Standard_ND96isr_H100_v5",
            "spot": True,
            "maxCount": 4,
        },
    ],
}
CLUSTER = "azure-native:containerservice:ManagedCluster"
POOL = "azure-native:containerservice:AgentPool"
ROLE = "azure-native:authorization:RoleAssignment"
RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_PROVIDER = "pulumi:providers:kubernetes"
GROUP = "azure-native:resources:ResourceGroup"
RULE = "azure-native:monitor:DataCollectionRule"
ASSOCIATION = "azure-native:monitor:DataCollectionRuleAssociation"
SLEEP = "time:index/sleep:Sleep"
NAT_IP = "203.0.113.0/24"
SUB = "/subscriptions/00000000-0000-0000-0000-000000000000"


def aks_config(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    section = {**CLUSTER_SECTION, **cluster}
    values["osmo-backend:cluster"] = {k: v for k, v in section.items() if v is not None}
    return values


@cache
def recording() -> engine.Recording:
    return run_main(aks_config())


def cluster_inputs(rec: engine.Recording | None = None) -> dict[str, Any]:
    return (rec or recording()).get(CLUSTER, "osmo-cluster-aks").raw_inputs


def nat_ip(rec: engine.Recording) -> str:
    address = rec.get("azure-native:network:PublicIPAddress", "osmo-cluster-nat-ip")
    return engine._fake_public_ip(address.name, {})["ipAddress"]  # pyright: ignore[reportPrivateUsage]


def test_every_azure_resource_uses_the_stack_provider_and_carries_the_tags() -> None:
    rec = recording()
    provider = rec.get("pulumi:providers:azure-native", "osmo-cluster-azure")
    assert provider.raw_inputs["location"] == "eastus"
    azure = [r for r in rec.resources if r.type.startswith("azure-native:")]
    assert len(azure) == 18
    assert {r.provider for r in azure} == {provider.urn}
    tags = {"osmo-backend-cluster": "osmo-eus", "managed-by": "pulumi"}
    untagged = (ROLE, "azure-native:network:Subnet", "azure-native:keyvault:Key", ASSOCIATION)
    for record in azure:
        if record.type not in untagged:
            assert record.raw_inputs["tags"] == tags, record.name
    assert sorted(set(rec.invokes)) == [
        "azure-native:authorization:getClientConfig",
        "azure-native:containerservice:listManagedClusterUserCredentials",
    ]


def test_the_cluster_has_every_secure_default() -> None:
    rec = recording()
    inputs = cluster_inputs()
    identity = rec.get("azure-native:managedidentity:UserAssignedIdentity", "osmo-cluster-identity")
    assert (inputs["resourceName"], inputs["resourceGroupName"], inputs["location"]) == (
        "osmo-eus",
        "osmo-eus-rg",
        "eastus",
    )
    assert inputs["kubernetesVersion"] == "1.33"
    assert inputs["dnsPrefix"] == "osmo-eus"
    assert inputs["sku"] == {"name": "Base", "tier": "Standard"}
    assert inputs["identity"] == {
        "type": "UserAssigned",
        "userAssignedIdentities": [f"{identity.name}-id"],
    }
    assert inputs["aadProfile"] == {
        "managed": True,
        "enableAzureRBAC": True,
        "tenantID": "00000000-0000-0000-0000-000000000000",
        "adminGroupObjectIDs": ["11111111-2222-3333-4444-555555555555"],
    }
    assert inputs["disableLocalAccounts"] is True
    assert inputs["enableRBAC"] is True
    assert inputs["apiServerAccessProfile"] == {
        "enablePrivateCluster": False,
        "authorizedIPRanges": ["203.0.113.0/24", f"{nat_ip(rec)}/32"],
    }
    assert inputs["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPluginMode": "overlay",
        "networkDataplane": "cilium",
        "networkPolicy": "cilium",
        "podCidr": "10.244.0.0/16",
        "serviceCidr": "10.0.0.0/16",
        "dnsServiceIP": "10.0.0.10",
        "loadBalancerSku": "standard",
        "outboundType": "userAssignedNATGateway",
    }
    assert inputs["oidcIssuerProfile"] == {"enabled": True}
    assert inputs["securityProfile"]["workloadIdentity"] == {"enabled": True}
    assert inputs["autoUpgradeProfile"] == {
        "upgradeChannel": "stable",
        "nodeOSUpgradeChannel": "NodeImage",
    }
    assert inputs["addonProfiles"] == {
        "azurepolicy": {"enabled": True},
        "omsagent": {
            "enabled": True,
            "config": {
                "logAnalyticsWorkspaceResourceID": "osmo-cluster-logs-id",
                "useAADAuth": "true",
            },
        },
    }


def test_secrets_are_encrypted_with_a_key_the_cluster_identity_may_use_first() -> None:
    rec = recording()
    kms = cluster_inputs()["securityProfile"]["azureKeyVaultKms"]
    vault = rec.get("azure-native:keyvault:Vault", "osmo-cluster-vault")
    key = rec.get("azure-native:keyvault:Key", "osmo-cluster-secrets-key")
    assert kms["enabled"] is True
    assert kms["keyVaultNetworkAccess"] == "Public"
    assert kms["keyId"].startswith(
        f"https://{vault.raw_inputs['vaultName']}.vault.azure.net/keys/etcd/"
    )
    assert vault.raw_inputs["properties"]["enableRbacAuthorization"] is True
    assert vault.raw_inputs["properties"]["enablePurgeProtection"] is True
    assert len(vault.raw_inputs["vaultName"]) <= 24
    assert key.raw_inputs["properties"]["kty"] == "RSA"
    assert vault.options["retainOnDelete"] is True
    assert key.options["retainOnDelete"] is True
    grant = rec.get(ROLE, "osmo-cluster-identity-kms")
    assert grant.raw_inputs["roleDefinitionId"] == (
        f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/12338af0-0e69-4776-bea7-57ae8d297424"
    )
    assert grant.raw_inputs["scope"] == "osmo-cluster-vault-id"
    assert grant.raw_inputs["principalType"] == "ServicePrincipal"
    network = rec.get(ROLE, "osmo-cluster-identity-network")
    assert network.raw_inputs["scope"] == "osmo-cluster-nodes-id"
    assert network.raw_inputs["roleDefinitionId"].endswith("4d97b98b-1d4f-4787-a291-c67834d212e7")
    assert {grant.urn, network.urn} <= set(
        rec.get(CLUSTER, "osmo-cluster-aks").options["dependsOn"]
    )


def test_nodes_egress_through_a_nat_gateway_without_default_outbound_access() -> None:
    rec = recording()
    subnet = rec.get("azure-native:network:Subnet", "osmo-cluster-nodes").raw_inputs
    assert subnet["addressPrefix"] == "10.80.0.0/20"
    assert subnet["natGateway"] == {"id": "osmo-cluster-nat-id"}
    assert subnet["defaultOutboundAccess"] is False
    vnet = rec.get("azure-native:network:VirtualNetwork", "osmo-cluster-vnet").raw_inputs
    assert vnet["addressSpace"] == {"addressPrefixes": ["10.80.0.0/16"]}
    nat = rec.get("azure-native:network:NatGateway", "osmo-cluster-nat").raw_inputs
    assert nat["sku"] == {"name": "Standard"}
    assert nat["publicIpAddresses"] == [{"id": "osmo-cluster-nat-ip-id"}]


def test_the_operator_pool_is_the_system_pool() -> None:
    (system,) = cluster_inputs()["agentPoolProfiles"]
    assert system["name"] == "operator"
    assert system["mode"] == "System"
    assert system["vmSize"] == "Standard_D4s_v3"
    assert (system["count"], system["minCount"], system["maxCount"]) == (2, 2, 3)
    assert system["enableAutoScaling"] is True
    assert system["enableNodePublicIP"] is False
    assert system["nodeLabels"] == {"node-type": "operator", "osmo.nvidia.com/pool": "operator"}
    assert "nodeTaints" not in system
    assert system["vnetSubnetID"] == "osmo-cluster-nodes-id"
    assert system["availabilityZones"] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("name", "labels", "taints"),
    [
        ("compute", {"node-type": "compute", "osmo.nvidia.com/pool": "compute"}, None),
        (
            "h100",
            {"node-type": "gpu", "osmo.nvidia.com/pool": "h100", "nvidia.com/gpu": "present"},
            ["nvidia.com/gpu=present:NoSchedule"],
        ),
    ],
)
def test_user_pools_carry_the_osmo_roles(
    name: str, labels: dict[str, str], taints: list[str] | None
) -> None:
    rec = recording()
    pool = rec.get(POOL, f"osmo-cluster-{name}")
    inputs = pool.raw_inputs
    assert inputs["mode"] == "User"
    assert inputs["agentPoolName"] == name
    assert inputs["resourceName"] == "osmo-eus"
    assert inputs["nodeLabels"] == labels
    assert inputs.get("nodeTaints") == taints
    assert inputs["enableNodePublicIP"] is False
    assert inputs["enableAutoScaling"] is True
    assert pool.options["ignoreChanges"] == ["count"]
    assert rec.urn_of(CLUSTER, "osmo-cluster-aks") in pool.dependencies


def test_the_gpu_pool_is_spot_with_the_aks_driver_and_its_tolerations_reach_every_consumer() -> (
    None
):
    rec = recording()
    gpu = rec.get(POOL, "osmo-cluster-h100").raw_inputs
    assert (gpu["scaleSetPriority"], gpu["scaleSetEvictionPolicy"], gpu["spotMaxPrice"]) == (
        "Spot",
        "Delete",
        -1,
    )
    assert gpu["gpuProfile"] == {"driver": "Install"}
    assert gpu["osDiskSizeGB"] == 256
    spot = {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    }
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    values = rec.get(RELEASE, "osmo-operators-gpu-operator").raw_inputs["values"]
    # AKS's GPU image has the driver and the container toolkit.
    assert values["driver"] == {"enabled": False}
    assert values["toolkit"] == {"enabled": False}
    assert values["daemonsets"] == {"tolerations": [gpu_toleration, spot]}
    assert values["node-feature-discovery"] == {"worker": {"tolerations": [gpu_toleration, spot]}}
    templates = rec.raw_outputs["osmo_service_values"]["services"]["configs"]["podTemplates"]
    assert templates["lab-backend-gpu"]["spec"]["tolerations"] == [gpu_toleration, spot]
    assert "tolerations" not in templates["lab-backend-cpu"]["spec"]


def test_operator_driver_mode_turns_aks_driver_installation_off() -> None:
    pools = [
        CLUSTER_SECTION["nodePools"][0],
        {
            "name": "a100",
            "role": "gpu",
            "vmSize": "Standard_NC24ads_A100_v4",
            "gpuDriver": "operator",
        },
    ]
    rec = run_main(aks_config(nodePools=pools))
    assert rec.get(POOL, "osmo-cluster-a100").raw_inputs["gpuProfile"] == {"driver": "None"}
    values = rec.get(RELEASE, "osmo-operators-gpu-operator").raw_inputs["values"]
    assert values["driver"] == {"enabled": True}
    assert values["toolkit"] == {"enabled": True}
    assert "daemonsets" not in values


def test_the_deployer_is_cluster_admin_before_the_kubernetes_provider_is_used() -> None:
    rec = recording()
    deployer = rec.get(ROLE, "osmo-cluster-deployer-admin")
    assert deployer.raw_inputs["principalId"] == "00000000-0000-0000-0000-000000000000"
    assert deployer.raw_inputs["principalType"] == "User"
    assert deployer.raw_inputs["roleDefinitionId"] == (
        f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
    )
    # The group the stack creates for this cluster: the assignment and its propagation wait run
    # while the cluster is created, not after it (issue 17: off the critical path).
    assert deployer.raw_inputs["scope"] == "osmo-cluster-rg-id"
    assert rec.urn_of(CLUSTER, "osmo-cluster-aks") not in deployer.dependencies
    provider = rec.get(K8S_PROVIDER, "osmo-cluster-k8s")
    wait = rec.get(SLEEP, "osmo-cluster-deployer-admin-propagation")
    assert wait.urn in provider.options["dependsOn"]
    assert deployer.urn in wait.dependencies
    # No in-cluster resource waits for a user pool.
    for name in ("compute", "h100"):
        waiting = rec.urn_of(POOL, f"osmo-cluster-{name}")
        assert [r.name for r in rec.resources if waiting in r.dependencies] == [], name


def test_kubernetes_calls_wait_until_the_deployers_role_takes_effect() -> None:
    # A new Azure role assignment takes up to 5 minutes to take effect and the Kubernetes
    # provider does not retry Forbidden (issue 14): the provider waits for a time.Sleep after the
    # assignment (pulumiverse_time.Sleep: create_duration, and triggers re-run the wait when the
    # assignment is replaced; SleepArgs in the installed pulumiverse_time SDK).
    rec = recording()
    wait = rec.get(SLEEP, "osmo-cluster-deployer-admin-propagation")
    deployer = rec.get(ROLE, "osmo-cluster-deployer-admin")
    assert wait.raw_inputs == {
        "createDuration": "5m",
        "triggers": {"assignment": f"{deployer.name}-id"},
    }
    assert wait.parent == rec.urn_of("osmo-backend:index:AksCluster", "osmo-cluster")
    # Only the Kubernetes provider (what talks to the API server) waits: no cloud resource does.
    assert [r.name for r in rec.resources if wait.urn in r.dependencies] == ["osmo-cluster-k8s"]


def test_retained_resources_live_outside_the_group_the_stack_deletes() -> None:
    # Deleting a resource group deletes everything in it, retained or not
    # (pulumi/pulumi-azure-native#2522), and the provider refuses to create a resource that
    # exists ("cannot create already existing resource": pulumi/pulumi-azure-native
    # provider/pkg/provider/crud/crud.go), so the kept group's name varies per deployment.
    rec = recording()
    group = rec.get(GROUP, "osmo-cluster-rg")
    keep = rec.get(GROUP, "osmo-cluster-keep-rg")
    suffix = rec.get("random:index/randomString:RandomString", "osmo-cluster-vault-suffix")
    assert suffix.raw_inputs == {"length": 6, "special": False, "upper": False}
    fake = engine._fake_random_string(suffix.name, suffix.raw_inputs)["result"]  # pyright: ignore[reportPrivateUsage]
    assert group.raw_inputs["resourceGroupName"] == "osmo-eus-rg"
    assert group.options["retainOnDelete"] is False
    assert keep.raw_inputs["resourceGroupName"] == f"osmo-eus-rg-keep-{fake}"
    assert keep.raw_inputs["location"] == "eastus"
    assert keep.options["retainOnDelete"] is True
    vault = rec.get("azure-native:keyvault:Vault", "osmo-cluster-vault")
    assert vault.raw_inputs["vaultName"] == f"osmo-eus-kms-{fake}"
    kept = [r for r in rec.resources if r.options.get("retainOnDelete")]
    assert sorted(r.name for r in kept) == [
        "osmo-cluster-keep-rg",
        "osmo-cluster-secrets-key",
        "osmo-cluster-vault",
    ]
    for record in kept:
        if record.type != GROUP:
            assert record.raw_inputs["resourceGroupName"] == f"osmo-eus-rg-keep-{fake}", record.name
    # Nothing retained stays in the group the stack deletes.
    in_group = [r for r in rec.resources if r.raw_inputs.get("resourceGroupName") == "osmo-eus-rg"]
    assert in_group
    assert not [r.name for r in in_group if r.options["retainOnDelete"]]


def test_an_existing_group_holds_everything_and_is_never_deleted() -> None:
    rec = run_main(aks_config(createResourceGroup=False, resourceGroup="platform-rg"))
    assert rec.by_type(GROUP) == []
    vault = rec.get("azure-native:keyvault:Vault", "osmo-cluster-vault")
    assert vault.raw_inputs["resourceGroupName"] == "platform-rg"
    assert vault.options["retainOnDelete"] is True


def test_container_insights_with_entra_auth_has_its_data_collection_rule() -> None:
    # Microsoft's onboarding for Container Insights with managed identity auth creates a data
    # collection rule (extension ContainerInsights, Log Analytics destination) and its
    # association with the cluster (microsoft/Docker-Provider
    # scripts/onboarding/aks/onboarding-msi-terraform/main.tf); inputs per DataCollectionRuleArgs
    # and DataCollectionRuleAssociationArgs of pulumi_azure_native.monitor.
    rec = recording()
    rule = rec.get(RULE, "osmo-cluster-insights")
    streams = ["Microsoft-ContainerInsights-Group-Default"]
    assert rule.raw_inputs == {
        "resourceGroupName": "osmo-eus-rg",
        "dataCollectionRuleName": "MSCI-eastus-osmo-eus",
        "location": "eastus",
        "kind": "Linux",
        "description": "DCR for Azure Monitor Container Insights",
        "dataSources": {
            "extensions": [
                {
                    "name": "ContainerInsightsExtension",
                    "extensionName": "ContainerInsights",
                    "streams": streams,
                    "extensionSettings": {
                        "dataCollectionSettings": {
                            "interval": "1m",
                            "namespaceFilteringMode": "Off",
                            "enableContainerLogV2": True,
                        }
                    },
                }
            ]
        },
        "destinations": {
            "logAnalytics": [{"name": "ciworkspace", "workspaceResourceId": "osmo-cluster-logs-id"}]
        },
        "dataFlows": [{"streams": streams, "destinations": ["ciworkspace"]}],
        "tags": {"osmo-backend-cluster": "osmo-eus", "managed-by": "pulumi"},
    }
    association = rec.get(ASSOCIATION, "osmo-cluster-insights-association")
    assert association.raw_inputs["resourceUri"] == "osmo-cluster-aks-id"
    assert association.raw_inputs["associationName"] == "ContainerInsightsExtension"
    assert association.raw_inputs["dataCollectionRuleId"] == "osmo-cluster-insights-id"
    cluster = rec.urn_of(CLUSTER, "osmo-cluster-aks")
    assert {cluster, rule.urn} <= set(association.dependencies)
    assert association.options["deletedWith"] == cluster


def test_a_workspace_brought_along_is_the_rules_destination() -> None:
    workspace = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ops/providers/"
        "Microsoft.OperationalInsights/workspaces/central"
    )
    rec = run_main(aks_config(logAnalyticsWorkspaceId=workspace))
    destinations = rec.get(RULE, "osmo-cluster-insights").raw_inputs["destinations"]
    assert destinations == {
        "logAnalytics": [{"name": "ciworkspace", "workspaceResourceId": workspace}]
    }


def test_spot_pools_set_no_max_surge() -> None:
    # AKS: "The value of parameter agentPoolProfile.upgrade.maxSurge is invalid. Error details:
    # Spot pools can't set max surge" (hashicorp/terraform-provider-azurerm#19355).
    rec = recording()
    assert "upgradeSettings" not in rec.get(POOL, "osmo-cluster-h100").raw_inputs
    assert rec.get(POOL, "osmo-cluster-compute").raw_inputs["upgradeSettings"] == {
        "maxSurge": "33%"
    }
    (system,) = cluster_inputs(rec)["agentPoolProfiles"]
    assert system["upgradeSettings"] == {"maxSurge": "33%"}


def test_the_nat_gateway_ip_is_an_authorized_range() -> None:
    # Nodes reach a public API server through the cluster's egress; with a NAT gateway it must be
    # listed, or node provisioning fails ("Unable to establish connection from agents to
    # Kubernetes API server"; learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges: AKS
    # allows a Standard load balancer's outbound IP by itself, not a NAT gateway's).
    rec = recording()
    ip = nat_ip(rec)
    assert ip.startswith("203.0.113.")
    ranges = cluster_inputs(rec)["apiServerAccessProfile"]["authorizedIPRanges"]
    assert ranges == [NAT_IP, f"{ip}/32"]
    cluster = rec.get(CLUSTER, "osmo-cluster-aks")
    assert (
        rec.urn_of("azure-native:network:PublicIPAddress", "osmo-cluster-nat-ip")
        in (cluster.property_dependencies["apiServerAccessProfile"])
    )


def test_a_subnet_brought_along_adds_no_egress_range() -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/hub/subnets/aks"
    )
    values = aks_config(network={"subnetId": subnet})
    values["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}}
    rec = run_main(values)
    assert cluster_inputs(rec)["apiServerAccessProfile"]["authorizedIPRanges"] == [NAT_IP]


def test_a_first_preview_keeps_the_listed_ranges_known() -> None:
    rec = run_main(aks_config(), preview=True)
    ranges = rec.get(CLUSTER, "osmo-cluster-aks").inputs["apiServerAccessProfile"]
    assert ranges["authorizedIPRanges"][0] == NAT_IP


def test_the_kubeconfig_uses_kubelogin_and_is_secret() -> None:
    rec = recording()
    assert rec.outputs["kubeconfig"] == "[secret]"
    provider = rec.get(K8S_PROVIDER, "osmo-cluster-k8s")
    assert engine.mask_secrets(provider.raw_inputs["kubeconfig"]) == "[secret]"
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs["kubeconfig"]))
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "kubelogin"
    assert user["user"]["exec"]["args"] == [
        "get-token",
        "--login",
        "azurecli",
        "--server-id",
        "6dae42f8-4368-4678-94ff-3960e28e3630",
    ]
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].endswith(".hcp.eastus.azmk8s.io:443")
    assert provider.raw_inputs["clusterIdentifier"] == "osmo-cluster-aks-id"


def test_in_cluster_resources_go_with_the_cluster_unless_they_own_volumes() -> None:
    rec = recording()
    cluster = rec.urn_of(CLUSTER, "osmo-cluster-aks")
    in_cluster = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert len(in_cluster) >= 12
    owns_volumes = {
        "osmo-monitoring-prometheus-stack",
        "osmo-monitoring-loki",
        "osmo-monitoring-ns",
    }
    assert {r.name: r.options["deletedWith"] for r in in_cluster} == {
        r.name: None if r.name in owns_volumes else cluster for r in in_cluster
    }
    assert rec.get(K8S_PROVIDER, "osmo-cluster-k8s").options["deletedWith"] is None


def test_workflow_policy_and_storage_default_to_what_aks_has() -> None:
    rec = recording()
    operator = rec.get(RELEASE, "osmo-operators-backend-operator")
    rendered = json.dumps(engine.unwrap_secrets(operator.raw_inputs["values"]))
    # Plus link-local (IMDS) and Azure's host address (WireServer).
    assert (
        '"clusterCIDRs": ["10.80.0.0/16", "10.244.0.0/16", "10.0.0.0/16", "169.254.0.0/16", '
        '"168.63.129.16/32"]' in rendered
    )
    assert rec.by_type("kubernetes:storage.k8s.io/v1:StorageClass") == []
    prometheus = rec.get(RELEASE, "osmo-monitoring-prometheus-stack")
    assert '"storageClassName": "managed-csi"' in json.dumps(prometheus.raw_inputs["values"])


def test_a_private_cluster_and_an_existing_group_subnet_and_workspace() -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/hub/subnets/aks"
    )
    workspace = (
        "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/ops/providers/"
        "Microsoft.OperationalInsights/workspaces/central"
    )
    values = aks_config(
        apiServer=None,
        createResourceGroup=False,
        resourceGroup="platform-rg",
        network={"subnetId": subnet},
        logAnalyticsWorkspaceId=workspace,
        deployerPrincipalType="ServicePrincipal",
    )
    values["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}}
    rec = run_main(values)
    for absent in (
        "azure-native:resources:ResourceGroup",
        "azure-native:network:VirtualNetwork",
        "azure-native:network:NatGateway",
        "azure-native:operationalinsights:Workspace",
    ):
        assert rec.by_type(absent) == [], absent
    inputs = cluster_inputs(rec)
    assert inputs["resourceGroupName"] == "platform-rg"
    assert inputs["apiServerAccessProfile"] == {"enablePrivateCluster": True}
    assert inputs["networkProfile"]["outboundType"] == "loadBalancer"
    assert inputs["agentPoolProfiles"][0]["vnetSubnetID"] == subnet
    assert (
        inputs["addonProfiles"]["omsagent"]["config"]["logAnalyticsWorkspaceResourceID"]
        == workspace
    )
    assert rec.get(ROLE, "osmo-cluster-identity-network").raw_inputs["scope"] == subnet
    assert rec.get(ROLE, "osmo-cluster-deployer-admin").raw_inputs["principalType"] == (
        "ServicePrincipal"
    )
    # A group the stack does not own: admin on this cluster only.
    assert rec.get(ROLE, "osmo-cluster-deployer-admin").raw_inputs["scope"] == (
        "osmo-cluster-aks-id"
    )


def test_workload_identity_federates_exactly_one_kubernetes_service_account() -> None:
    import pulumi

    def program() -> None:
        from components.clusters.aks.cluster import aks_cluster
        from components.config import load_spec
        from tests.harness import encode

        spec = load_spec(encode(aks_config())).cluster
        handle = aks_cluster("c", spec, None, pulumi.ResourceOptions()).handle  # type: ignore[arg-type]
        assert handle.bind_workload_identity is not None
        client = handle.bind_workload_identity(
            "data", "osmo-workflows", "osmo-workflow", ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"]
        )
        pulumi.export("client_id", client)

    rec = engine.run(program, project="osmo-backend", stack="t")
    identity = rec.get("azure-native:managedidentity:UserAssignedIdentity", "c-data-wi")
    assert identity.raw_inputs["resourceName"] == "osmo-eus-data"
    federation = rec.get(
        "azure-native:managedidentity:FederatedIdentityCredential", "c-data-wi-federation"
    ).raw_inputs
    assert federation["subject"] == "system:serviceaccount:osmo-workflows:osmo-workflow"
    assert federation["audiences"] == ["api://AzureADTokenExchange"]
    assert federation["issuer"].startswith("https://eastus.oic.prod-aks.azure.com/")
    assert federation["resourceName"] == "osmo-eus-data"
    grant = rec.get(ROLE, "c-data-wi-0").raw_inputs
    assert grant["roleDefinitionId"] == (
        f"{SUB}/providers/Microsoft.Authorization/roleDefinitions/ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    )
    assert grant["scope"] == f"{SUB}/resourceGroups/osmo-eus-rg"
    # The identity's client id (what the service account's annotation carries).
    assert rec.outputs["client_id"] == engine._fake_identity("c-data-wi", {})["clientId"]  # pyright: ignore[reportPrivateUsage]


def test_a_first_preview_with_unknown_cluster_outputs_runs() -> None:
    rec = run_main(aks_config(), preview=True)
    assert len(rec.by_type(POOL)) == 2
    assert rec.outputs["kubeconfig"] == "[secret]"


def test_the_egress_allowlist_names_the_aks_endpoints() -> None:
    hosts = {e["host"] for e in recording().raw_outputs["egress_allowlist"]}
    assert {"*.hcp.eastus.azmk8s.io", "mcr.microsoft.com", "login.microsoftonline.com"} <= hosts


def refreshed_state(rec: engine.Recording) -> dict[str, dict[str, Any]]:
    """Stored inputs per Azure resource after `pulumi refresh` on a running cluster: the
    cluster lists every pool (AKS's view, autoscaler counts included) and every pool has the
    autoscaler's count (pulumi-azure-native's Read applies the cloud's changes to the stored
    inputs: pulumi/pulumi-azure-native provider/pkg/provider/provider.go, Read)."""
    state = {
        r.name: engine.unwrap_secrets(r.raw_inputs)
        for r in rec.resources
        if r.type.startswith("azure-native:")
    }
    cluster = state["osmo-cluster-aks"]
    (system,) = cluster["agentPoolProfiles"]
    pools = [{**system, "count": 3}]
    for count, pool in enumerate(rec.by_type(POOL), start=5):
        profile = copy.deepcopy(state[pool.name])
        for key in ("resourceGroupName", "resourceName", "agentPoolName"):
            profile.pop(key)
        pools.append({**profile, "name": pool.raw_inputs["agentPoolName"], "count": count})
        state[pool.name]["count"] = count
    cluster["agentPoolProfiles"] = pools
    return state


def updates(rec: engine.Recording, stored: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """What an `up` of `rec` would update over the stored inputs (ignoreChanges applied)."""
    out: dict[str, list[str]] = {}
    for record in rec.resources:
        if record.name in stored:
            new = engine.unwrap_secrets(record.raw_inputs)
            changed = changed_properties(
                stored[record.name], new, record.options.get("ignoreChanges", [])
            )
            if changed:
                out[record.name] = changed
    return out


def test_refresh_then_up_updates_nothing() -> None:
    # An up after a refresh resets ignoreChanges paths to the stored inputs before it diffs
    # (pulumi/pulumi pkg/resource/deploy/step_generator.go, processIgnoreChanges). A cluster
    # update carrying agentPoolProfiles puts every pool into Scaling or is refused ("A new agent
    # pool was introduced"): pulumi/pulumi-azure-native#4264, #2719, #1532.
    rec = recording()
    stored = refreshed_state(rec)
    assert updates(rec, stored) == {}
    cluster = rec.get(CLUSTER, "osmo-cluster-aks")
    assert cluster.options["ignoreChanges"] == ["agentPoolProfiles"]
    # What the option prevents: the program's one inline pool against AKS's three.
    assert changed_properties(stored["osmo-cluster-aks"], cluster.raw_inputs) == [
        "agentPoolProfiles"
    ]
    for pool in rec.by_type(POOL):
        assert pool.options["ignoreChanges"] == ["count"]
        assert changed_properties(stored[pool.name], pool.raw_inputs) == ["count"]


def test_a_change_to_one_pool_updates_only_that_pool() -> None:
    stored = refreshed_state(recording())
    pools = [dict(p) for p in CLUSTER_SECTION["nodePools"]]
    pools[1]["maxCount"] = 30
    assert updates(run_main(aks_config(nodePools=pools)), stored) == {
        "osmo-cluster-compute": ["maxCount"]
    }


def test_pool_settings_reach_the_agent_pool_the_tags_and_osmo() -> None:
    subnet = (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
        "Microsoft.Network/virtualNetworks/shared/subnets/{}"
    )
    pools = [
        *CLUSTER_SECTION["nodePools"][:2],
        {
            "name": "a100",
            "role": "gpu",
            "vmSize": "Standard_NC24ads_A100_v4",
            "zones": ["2"],
            "subnetId": subnet.format("gpu"),
            "labels": {"example.com/gpu": "a100"},
            "taints": [{"key": "example.com/team", "value": "vision", "effect": "NoSchedule"}],
        },
    ]
    values = aks_config(
        nodePools=pools,
        network={"subnetId": subnet.format("nodes")},
        tags={"cost-center": "ml-1234"},
    )
    values["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.80.0.0/16"]}}
    rec = run_main(values)
    a100 = rec.get(POOL, "osmo-cluster-a100")
    # azure-native AgentPool: availabilityZones, vnetSubnetID, nodeLabels, nodeTaints
    # (`key=value:Effect` strings).
    assert a100.raw_inputs["availabilityZones"] == ["2"]
    assert a100.raw_inputs["vnetSubnetID"] == subnet.format("gpu")
    assert a100.raw_inputs["nodeLabels"]["example.com/gpu"] == "a100"
    assert a100.raw_inputs["nodeTaints"] == [
        "nvidia.com/gpu=present:NoSchedule",
        "example.com/team=vision:NoSchedule",
    ]
    # The cluster identity joins the pool's own subnet as it does the cluster's, first.
    grant = rec.get(ROLE, "osmo-cluster-identity-network-a100")
    assert grant.raw_inputs["scope"] == subnet.format("gpu")
    assert grant.urn in a100.options["dependsOn"]
    tags = {"cost-center": "ml-1234", "osmo-backend-cluster": "osmo-eus", "managed-by": "pulumi"}
    assert rec.get(CLUSTER, "osmo-cluster-aks").raw_inputs["tags"] == tags
    assert a100.raw_inputs["tags"] == tags
    templates = rec.raw_outputs["osmo_service_values"]["services"]["configs"]["podTemplates"]
    assert templates["lab-backend-pool-a100"]["spec"]["nodeSelector"] == {
        "node-type": "gpu",
        "osmo.nvidia.com/pool": "a100",
    }
