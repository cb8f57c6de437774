"""GkeCluster under OsmoBackend with the recording engine: hardened defaults as exact inputs, node
pools per OSMO role with their GPU stack profile, the ResourceQuota before the GPU Operator,
Workload Identity, the edges, and what goes with the cluster on delete."""

import json
from functools import cache
from typing import Any

import pytest
import yaml

from offline import engine
from tests.harness import config, run_main

CLUSTER_SECTION: dict[str, Any] = {
    "kind": "gke",
    "name": "osmo-usc1",
    "project": "osmo-test-1",
    "region": "us-central1",
    "nodeZones": ["us-central1-a", "us-central1-b", "us-central1-c"],
    "network": {"subnetCidr": "10.60.0.0/20", "podCidr": "10.64.0.0/14"},
    "nodePools": [
        {
            "name": "operator",
            "role": "operator",
            "machineType": "n1-standard-4",
            "minNodes": 2,
            "maxNodes": 3,
        },
        {"name": "compute", "role": "compute", "machineType": "n1-standard-8", "maxNodes": 20},
        {"name": "h100", "role": "gpu", "machineType": "a3-highgpu-8g", "spot": True},
        {
            "name": "t4",
            "role": "gpu",
            "machineType": "n1-standard-8",
            "accelerator": {"type": "nvidia-tesla-t4", "count": 2},
            "maxNodes": 3,
        },
    ],
}
CLUSTER = "gcp:container/cluster:Cluster"
POOL = "gcp:container/nodePool:NodePool"
RELEASE = "kubernetes:helm.sh/v3:Release"
K8S_PROVIDER = "pulumi:providers:kubernetes"
MEMBER = "gcp:projects/iAMMember:IAMMember"


def gke_config(**cluster: Any) -> dict[str, Any]:
    values = config(networking=None)
    section = {**CLUSTER_SECTION, **cluster}
    values["osmo-backend:cluster"] = {k: v for k, v in section.items() if v is not None}
    return values


@cache
def recording() -> engine.Recording:
    return run_main(gke_config())


def pool(name: str, rec: engine.Recording | None = None) -> engine.ResourceRecord:
    return (rec or recording()).get(POOL, f"osmo-cluster-{name}")


def test_every_google_resource_uses_the_stack_provider() -> None:
    rec = recording()
    provider = rec.get("pulumi:providers:gcp", "osmo-cluster-gcp")
    assert provider.raw_inputs["project"] == "osmo-test-1"
    assert provider.raw_inputs["region"] == "us-central1"
    assert json.loads(provider.raw_inputs["defaultLabels"]) == {
        "osmo-backend-cluster": "osmo-usc1",
        "managed-by": "pulumi",
    }
    google = [r for r in rec.resources if r.type.startswith("gcp:")]
    assert len(google) == 24
    assert {r.provider for r in google} == {provider.urn}
    assert rec.invokes == ["gcp:organizations/getProject:getProject"]


def test_the_cluster_has_every_secure_default() -> None:
    rec = recording()
    cluster = rec.get(CLUSTER, "osmo-cluster-gke")
    inputs = cluster.raw_inputs
    key = rec.get("gcp:kms/cryptoKey:CryptoKey", "osmo-cluster-secrets-key")
    assert (inputs["name"], inputs["location"], inputs["project"]) == (
        "osmo-usc1",
        "us-central1",
        "osmo-test-1",
    )
    assert inputs["minMasterVersion"] == "1.33"
    assert inputs["releaseChannel"] == {"channel": "REGULAR"}
    assert inputs["privateClusterConfig"] == {
        "enablePrivateNodes": True,
        "enablePrivateEndpoint": True,
    }
    assert inputs["masterAuthorizedNetworksConfig"] == {
        "cidrBlocks": [],
        "gcpPublicCidrsAccessEnabled": False,
    }
    assert inputs["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": True}
    }
    assert inputs["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": f"{key.name}-id"}
    assert cluster.property_dependencies["databaseEncryption"] == [key.urn]
    assert inputs["workloadIdentityConfig"] == {"workloadPool": "osmo-test-1.svc.id.goog"}
    assert inputs["datapathProvider"] == "ADVANCED_DATAPATH"
    assert inputs["networkingMode"] == "VPC_NATIVE"
    assert inputs["ipAllocationPolicy"] == {
        "clusterSecondaryRangeName": "pods",
        "servicesSecondaryRangeName": "services",
    }
    assert inputs["enableShieldedNodes"] is True
    assert inputs["enableLegacyAbac"] is False
    assert inputs["enableKubernetesAlpha"] is False
    assert inputs["masterAuth"] == {"clientCertificateConfig": {"issueClientCertificate": False}}
    assert inputs["loggingConfig"] == {
        "enableComponents": [
            "SYSTEM_COMPONENTS",
            "APISERVER",
            "CONTROLLER_MANAGER",
            "SCHEDULER",
            "WORKLOADS",
        ]
    }
    assert inputs["monitoringConfig"]["enableComponents"] == ["SYSTEM_COMPONENTS"]
    assert inputs["removeDefaultNodePool"] is True
    assert inputs["deletionProtection"] is True
    assert inputs["nodeConfig"]["serviceAccount"] == (
        "osmo-usc1-nodes@osmo-test-1.iam.gserviceaccount.com"
    )
    assert inputs["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert set(cluster.options["ignoreChanges"]) == {"nodeConfig", "initialNodeCount"}


def test_the_kms_key_is_granted_to_the_gke_agent_before_the_cluster_and_outlives_it() -> None:
    rec = recording()
    key = rec.get("gcp:kms/cryptoKey:CryptoKey", "osmo-cluster-secrets-key")
    assert key.raw_inputs["rotationPeriod"] == "7776000s"
    assert key.options["retainOnDelete"] is True
    grant = rec.get("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", "osmo-cluster-secrets-key-gke")
    assert grant.raw_inputs["role"] == "roles/cloudkms.cryptoKeyEncrypterDecrypter"
    assert grant.raw_inputs["member"] == (
        "serviceAccount:service-000000000000@container-engine-robot.iam.gserviceaccount.com"
    )
    assert grant.urn in rec.get(CLUSTER, "osmo-cluster-gke").options["dependsOn"]


def test_the_network_is_vpc_native_with_private_google_access_and_cloud_nat() -> None:
    rec = recording()
    network = rec.get("gcp:compute/network:Network", "osmo-cluster-vpc").raw_inputs
    assert network["autoCreateSubnetworks"] is False
    subnet = rec.get("gcp:compute/subnetwork:Subnetwork", "osmo-cluster-nodes").raw_inputs
    assert subnet["ipCidrRange"] == "10.60.0.0/20"
    assert subnet["privateIpGoogleAccess"] is True
    assert subnet["secondaryIpRanges"] == [
        {"rangeName": "pods", "ipCidrRange": "10.64.0.0/14"},
        {"rangeName": "services", "ipCidrRange": "10.20.0.0/20"},
    ]
    nat = rec.get("gcp:compute/routerNat:RouterNat", "osmo-cluster-nat").raw_inputs
    assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
    assert nat["natIpAllocateOption"] == "AUTO_ONLY"
    cluster = rec.get(CLUSTER, "osmo-cluster-gke").raw_inputs
    assert (cluster["network"], cluster["subnetwork"]) == (
        "osmo-cluster-vpc-id",
        "osmo-cluster-nodes-id",
    )


def test_nodes_run_as_a_dedicated_least_privilege_service_account() -> None:
    rec = recording()
    account = rec.get("gcp:serviceaccount/account:Account", "osmo-cluster-nodes").raw_inputs
    assert account["accountId"] == "osmo-usc1-nodes"
    roles = {
        r.raw_inputs["role"]: r.raw_inputs["member"]
        for r in rec.by_type(MEMBER)
        if r.name.startswith("osmo-cluster-nodes-")
    }
    member = "serviceAccount:osmo-usc1-nodes@osmo-test-1.iam.gserviceaccount.com"
    assert roles == {
        "roles/container.defaultNodeServiceAccount": member,
        "roles/artifactregistry.reader": member,
    }


@pytest.mark.parametrize(
    ("name", "labels", "taints"),
    [
        ("operator", {"node-type": "operator", "osmo.nvidia.com/pool": "operator"}, None),
        ("compute", {"node-type": "compute", "osmo.nvidia.com/pool": "compute"}, None),
        (
            "h100",
            {
                "node-type": "gpu",
                "osmo.nvidia.com/pool": "h100",
                "nvidia.com/gpu": "present",
                "gke-no-default-nvidia-gpu-device-plugin": "true",
            },
            [{"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"}],
        ),
    ],
)
def test_pools_carry_the_osmo_roles(
    name: str, labels: dict[str, str], taints: list[dict[str, str]] | None
) -> None:
    node = pool(name).raw_inputs["nodeConfig"]
    assert node["labels"] == labels
    assert node.get("taints") == taints
    assert node["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
    assert node["serviceAccount"] == "osmo-usc1-nodes@osmo-test-1.iam.gserviceaccount.com"
    assert node["oauthScopes"] == ["https://www.googleapis.com/auth/cloud-platform"]
    assert node["metadata"] == {"disable-legacy-endpoints": "true"}
    inputs = pool(name).raw_inputs
    assert inputs["management"] == {"autoRepair": True, "autoUpgrade": True}
    assert inputs["nodeLocations"] == ["us-central1-a", "us-central1-b", "us-central1-c"]
    assert inputs["cluster"] == "osmo-cluster-gke-id"


def test_gpu_pools_disable_gke_driver_installation_and_name_their_gpus() -> None:
    h100 = pool("h100").raw_inputs
    assert h100["nodeConfig"]["machineType"] == "a3-highgpu-8g"
    assert h100["nodeConfig"]["spot"] is True
    assert h100["nodeConfig"]["diskSizeGb"] == 200
    assert h100["nodeConfig"]["imageType"] == "COS_CONTAINERD"
    assert h100["nodeConfig"]["guestAccelerators"] == [
        {
            "type": "nvidia-h100-80gb",
            "count": 8,
            "gpuDriverInstallationConfig": {"gpuDriverVersion": "INSTALLATION_DISABLED"},
        }
    ]
    assert h100["nodeConfig"]["shieldedInstanceConfig"] == {
        "enableSecureBoot": True,
        "enableIntegrityMonitoring": True,
    }
    assert h100["autoscaling"] == {
        "totalMinNodeCount": 0,
        "totalMaxNodeCount": 1,
        "locationPolicy": "ANY",
    }
    t4 = pool("t4").raw_inputs["nodeConfig"]["guestAccelerators"]
    assert [(a["type"], a["count"]) for a in t4] == [("nvidia-tesla-t4", 2)]
    assert "guestAccelerators" not in pool("compute").raw_inputs["nodeConfig"]


def test_operator_pool_sizes_and_autoscaling_limits() -> None:
    operator = pool("operator").raw_inputs
    # Two nodes at least across three zones: one per zone at creation.
    assert operator["initialNodeCount"] == 1
    assert operator["autoscaling"] == {
        "totalMinNodeCount": 2,
        "totalMaxNodeCount": 3,
        "locationPolicy": "BALANCED",
    }
    assert operator["upgradeSettings"] == {"strategy": "SURGE", "maxSurge": 1, "maxUnavailable": 0}
    assert pool("compute").raw_inputs["autoscaling"]["totalMaxNodeCount"] == 20
    assert pool("compute").raw_inputs["initialNodeCount"] == 0
    assert pool("operator").options["ignoreChanges"] == ["initialNodeCount"]


def test_in_cluster_resources_wait_for_the_operator_pool_only() -> None:
    rec = recording()
    provider = rec.get(K8S_PROVIDER, "osmo-cluster-k8s")
    assert provider.options["dependsOn"] == [pool("operator").urn]
    for name in ("compute", "h100", "t4"):
        waiting = pool(name).urn
        assert [r.name for r in rec.resources if waiting in r.dependencies] == [], name


def test_google_driver_mode_installs_googles_driver_and_points_the_gpu_operator_at_it() -> None:
    rec = recording()
    installer = rec.get("kubernetes:apps/v1:DaemonSet", "osmo-cluster-nvidia-driver-installer")
    inputs = installer.raw_inputs
    assert inputs["metadata"]["namespace"] == "kube-system"
    spec = inputs["spec"]["template"]["spec"]
    (term,) = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    assert {e["key"]: e["operator"] for e in term["matchExpressions"]} == {
        "cloud.google.com/gke-accelerator": "Exists",
        "cloud.google.com/gke-gpu-driver-version": "DoesNotExist",
        "cloud.google.com/gke-os-distribution": "In",
    }
    assert [c["image"] for c in spec["initContainers"]] == [
        "cos-nvidia-installer:fixed",
        "gcr.io/gke-release/nvidia-partition-gpu"
        "@sha256:de12f85ebfb4fb6c1893cd30c23aab662a72fa0448f97ef74fccb82d7522ef17",
    ]
    assert spec["automountServiceAccountToken"] is False
    assert installer.provider == rec.urn_of(K8S_PROVIDER, "osmo-cluster-k8s")
    values = rec.get(RELEASE, "osmo-operators-gpu-operator").raw_inputs["values"]
    assert values["driver"] == {"enabled": False}
    assert values["hostPaths"] == {"driverInstallDir": "/home/kubernetes/bin/nvidia"}
    assert values["toolkit"] == {
        "enabled": True,
        "installDir": "/home/kubernetes/bin/nvidia",
        "env": [{"name": "RUNTIME_CONFIG_SOURCE", "value": "file"}],
    }
    assert values["cdi"] == {"enabled": True, "default": True}


def test_operator_driver_mode_on_ubuntu_lets_the_gpu_operator_install_the_driver() -> None:
    pools = [
        CLUSTER_SECTION["nodePools"][0],
        {
            "name": "l4",
            "role": "gpu",
            "machineType": "g2-standard-24",
            "imageType": "UBUNTU_CONTAINERD",
            "gpuDriver": "operator",
        },
    ]
    rec = run_main(gke_config(nodePools=pools))
    assert rec.by_type("kubernetes:apps/v1:DaemonSet") == []
    node = pool("l4", rec).raw_inputs["nodeConfig"]
    assert node["guestAccelerators"][0]["type"] == "nvidia-l4"
    assert node["guestAccelerators"][0]["count"] == 2
    # The operator's driver container builds unsigned modules: Secure Boot would refuse them.
    assert node["shieldedInstanceConfig"]["enableSecureBoot"] is False
    values = rec.get(RELEASE, "osmo-operators-gpu-operator").raw_inputs["values"]
    assert values["driver"] == {"enabled": True}
    assert "hostPaths" not in values
    assert "installDir" not in values["toolkit"]


def test_the_gpu_operator_namespace_gets_the_critical_pods_quota_first() -> None:
    rec = recording()
    quota = rec.get("kubernetes:core/v1:ResourceQuota", "osmo-operators-gpu-operator-critical-pods")
    assert quota.raw_inputs["metadata"] == {
        "name": "gpu-operator-quota",
        "namespace": "gpu-operator",
    }
    assert quota.raw_inputs["spec"] == {
        "hard": {"pods": "100"},
        "scopeSelector": {
            "matchExpressions": [
                {
                    "operator": "In",
                    "scopeName": "PriorityClass",
                    "values": ["system-node-critical", "system-cluster-critical"],
                }
            ]
        },
    }
    assert quota.urn in rec.get(RELEASE, "osmo-operators-gpu-operator").options["dependsOn"]


def test_in_cluster_resources_go_with_the_cluster_unless_they_own_volumes() -> None:
    rec = recording()
    cluster = rec.urn_of(CLUSTER, "osmo-cluster-gke")
    in_cluster = [r for r in rec.resources if r.type.startswith("kubernetes:")]
    assert len(in_cluster) >= 15
    owns_volumes = {
        "osmo-monitoring-prometheus-stack",
        "osmo-monitoring-loki",
        "osmo-monitoring-ns",
    }
    assert {r.name: r.options["deletedWith"] for r in in_cluster} == {
        r.name: None if r.name in owns_volumes else cluster for r in in_cluster
    }
    assert rec.get(K8S_PROVIDER, "osmo-cluster-k8s").options["deletedWith"] is None
    assert rec.get(CLUSTER, "osmo-cluster-gke").options["deletedWith"] is None


def test_the_kubeconfig_uses_the_dns_endpoint_and_the_auth_plugin_and_is_secret() -> None:
    rec = recording()
    assert rec.outputs["kubeconfig"] == "[secret]"
    provider = rec.get(K8S_PROVIDER, "osmo-cluster-k8s")
    assert engine.mask_secrets(provider.raw_inputs["kubeconfig"]) == "[secret]"
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs["kubeconfig"]))
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"].endswith(".us-central1.gke.goog")
    assert "certificate-authority-data" not in cluster["cluster"]
    (user,) = kubeconfig["users"]
    assert user["user"]["exec"]["command"] == "gke-gcloud-auth-plugin"
    assert user["user"]["exec"]["provideClusterInfo"] is True
    assert provider.raw_inputs["clusterIdentifier"] == "osmo-cluster-gke-id"


def test_a_public_endpoint_lists_its_networks_and_the_kubeconfig_pins_the_ca() -> None:
    rec = run_main(
        gke_config(
            endpoint={
                "privateEndpoint": False,
                "dnsEndpoint": False,
                "authorizedNetworks": ["203.0.113.0/24"],
            }
        )
    )
    inputs = rec.get(CLUSTER, "osmo-cluster-gke").raw_inputs
    assert inputs["privateClusterConfig"]["enablePrivateEndpoint"] is False
    assert inputs["masterAuthorizedNetworksConfig"]["cidrBlocks"] == [
        {"cidrBlock": "203.0.113.0/24", "displayName": "allowed-0"}
    ]
    assert inputs["controlPlaneEndpointsConfig"] == {
        "dnsEndpointConfig": {"allowExternalTraffic": False}
    }
    provider = rec.get(K8S_PROVIDER, "osmo-cluster-k8s")
    kubeconfig = yaml.safe_load(engine.unwrap_secrets(provider.raw_inputs["kubeconfig"]))
    (cluster,) = kubeconfig["clusters"]
    assert cluster["cluster"]["server"] == "https://203.0.113.10"
    assert cluster["cluster"]["certificate-authority-data"]


def test_workload_identity_binds_exactly_one_kubernetes_service_account() -> None:
    import pulumi

    from components.clusters.gke.cluster import workload_identity_member

    assert workload_identity_member("p-123456", "osmo-workflows", "osmo-workflow") == (
        "serviceAccount:p-123456.svc.id.goog[osmo-workflows/osmo-workflow]"
    )

    def program() -> None:
        from components.clusters.gke.cluster import gke_cluster
        from components.config import load_spec
        from tests.harness import encode

        spec = load_spec(encode(gke_config()))
        assert spec.cluster.kind == "gke"
        handle = gke_cluster("c", spec.cluster, None, pulumi.ResourceOptions()).handle  # type: ignore[arg-type]
        assert handle.bind_workload_identity is not None
        email = handle.bind_workload_identity(
            "data", "osmo-workflows", "osmo-workflow", ["roles/storage.objectUser"]
        )
        pulumi.export("email", email)

    rec = engine.run(program, project="osmo-backend", stack="t")
    account = rec.get("gcp:serviceaccount/account:Account", "c-data-wi").raw_inputs
    assert account["accountId"] == "osmo-usc1-data"
    user = rec.get("gcp:serviceaccount/iAMMember:IAMMember", "c-data-wi-user").raw_inputs
    assert user["role"] == "roles/iam.workloadIdentityUser"
    assert user["member"] == "serviceAccount:osmo-test-1.svc.id.goog[osmo-workflows/osmo-workflow]"
    assert user["serviceAccountId"] == (
        "projects/osmo-test-1/serviceAccounts/osmo-usc1-data@osmo-test-1.iam.gserviceaccount.com"
    )
    grant = rec.get(MEMBER, "c-data-wi-0").raw_inputs
    assert grant == {
        "project": "osmo-test-1",
        "role": "roles/storage.objectUser",
        "member": "serviceAccount:osmo-usc1-data@osmo-test-1.iam.gserviceaccount.com",
    }
    assert rec.outputs["email"] == "osmo-usc1-data@osmo-test-1.iam.gserviceaccount.com"


def test_workflow_policy_and_storage_default_to_what_gke_has() -> None:
    rec = recording()
    operator = rec.get(RELEASE, "osmo-operators-backend-operator")
    rendered = json.dumps(engine.unwrap_secrets(operator.raw_inputs["values"]))
    assert '"clusterCIDRs": ["10.60.0.0/20", "10.64.0.0/14", "10.20.0.0/20"]' in rendered
    # GKE ships standard-rwo; creating it again would fail.
    assert rec.by_type("kubernetes:storage.k8s.io/v1:StorageClass") == []
    prometheus = rec.get(RELEASE, "osmo-monitoring-prometheus-stack")
    assert '"storageClassName": "standard-rwo"' in json.dumps(prometheus.raw_inputs["values"])


def test_bring_your_own_network_creates_none_and_needs_the_cluster_cidrs() -> None:
    byo = {"network": "shared-vpc", "subnetwork": "gke-nodes", "podRangeName": "gke-pods"}
    values = gke_config(network=byo)
    values["osmo-backend:networking"] = {"workflowPolicy": {"clusterCIDRs": ["10.128.0.0/9"]}}
    rec = run_main(values)
    assert rec.by_type("gcp:compute/network:Network") == []
    assert rec.by_type("gcp:compute/routerNat:RouterNat") == []
    inputs = rec.get(CLUSTER, "osmo-cluster-gke").raw_inputs
    assert (inputs["network"], inputs["subnetwork"]) == ("shared-vpc", "gke-nodes")
    assert inputs["ipAllocationPolicy"]["clusterSecondaryRangeName"] == "gke-pods"


def test_a_zonal_cluster_and_deletion_protection_off() -> None:
    rec = run_main(gke_config(zone="us-central1-b", nodeZones=None, deletionProtection=False))
    inputs = rec.get(CLUSTER, "osmo-cluster-gke").raw_inputs
    assert inputs["location"] == "us-central1-b"
    assert inputs["deletionProtection"] is False
    # One zone: the whole minimum at creation.
    assert pool("operator", rec).raw_inputs["initialNodeCount"] == 2
    assert pool("operator", rec).raw_inputs["location"] == "us-central1-b"


def test_a_first_preview_with_unknown_cluster_outputs_runs() -> None:
    rec = run_main(gke_config(), preview=True)
    assert len(rec.by_type(POOL)) == 4
    assert rec.outputs["kubeconfig"] == "[secret]"


def test_the_egress_allowlist_names_the_google_endpoints() -> None:
    hosts = {e["host"] for e in recording().raw_outputs["egress_allowlist"]}
    assert {"container.googleapis.com", "sts.googleapis.com", "gke.gcr.io"} <= hosts


SERVICE = "gcp:projects/service:Service"
APIS = {
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
}


def test_apis_are_enabled_first_and_every_google_resource_waits_for_them() -> None:
    """A new project has these APIs off: each resource made through one fails until it is on
    (pulumi-gcp projects.Service, left on at destroy with disableOnDestroy: false). The project
    lookup goes through Cloud Resource Manager, so it waits for that API too."""
    rec = recording()
    services = {r.raw_inputs["service"]: r for r in rec.by_type(SERVICE)}
    assert set(services) == APIS
    for service in services.values():
        assert service.raw_inputs["disableOnDestroy"] is False
        assert service.raw_inputs["project"] == "osmo-test-1"
        assert service.name == f"osmo-cluster-api-{service.raw_inputs['service'].split('.')[0]}"
    api_urns = {s.urn for s in services.values()}
    waiting = [
        r for r in rec.resources if r.custom and r.type.startswith("gcp:") and r.type != SERVICE
    ]
    assert len(waiting) == 15
    by_api = {api: services[api].urn for api in services}
    # Each resource waits for its own APIs, so the network and the Secrets key start together
    # (issue 17: the key and its grant are not on the path after the network).
    own = {
        "gcp:compute/network:Network": {by_api["compute.googleapis.com"]},
        "gcp:compute/subnetwork:Subnetwork": {by_api["compute.googleapis.com"]},
        "gcp:compute/router:Router": {by_api["compute.googleapis.com"]},
        "gcp:compute/routerNat:RouterNat": {by_api["compute.googleapis.com"]},
        "gcp:kms/keyRing:KeyRing": {by_api["cloudkms.googleapis.com"]},
        "gcp:kms/cryptoKey:CryptoKey": {by_api["cloudkms.googleapis.com"]},
        # The GKE service agent it names exists once the GKE API is on; its project number
        # comes from the Resource Manager lookup.
        "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": {
            by_api["cloudkms.googleapis.com"],
            by_api["container.googleapis.com"],
            by_api["cloudresourcemanager.googleapis.com"],
        },
    }
    for record in waiting:
        wanted = own.get(record.type, api_urns)
        assert set(record.dependencies) & api_urns == wanted, record.name
    network = rec.urn_of("gcp:compute/network:Network", "osmo-cluster-vpc")
    for kms in ("gcp:kms/keyRing:KeyRing", "gcp:kms/cryptoKey:CryptoKey"):
        assert network not in rec.by_type(kms)[0].dependencies
    # The project number (for the GKE service agent) is read once Resource Manager is on.
    assert rec.invokes == ["gcp:organizations/getProject:getProject"]


def test_the_key_ring_name_varies_per_deployment_and_outlives_destroy() -> None:
    """Cloud KMS never deletes key rings or keys: destroying one only forgets it (pulumi-gcp
    kms/key_ring.py and kms/crypto_key.py: "cannot be deleted from Google Cloud Platform"), so a
    fixed name fails with 409 on the next deployment. A random suffix kept in state makes a new
    name per deployment, and the engine keeps both, as the cloud does."""
    rec = recording()
    suffix = rec.get("random:index/randomString:RandomString", "osmo-cluster-keyring-suffix")
    assert {k: suffix.raw_inputs[k] for k in ("length", "special", "upper")} == {
        "length": 6,
        "special": False,
        "upper": False,
    }
    ring = rec.get("gcp:kms/keyRing:KeyRing", "osmo-cluster-keyring")
    fake = engine._fake_random_string(suffix.name, {"length": 6})["result"]  # pyright: ignore[reportPrivateUsage]
    assert ring.raw_inputs["name"] == f"osmo-usc1-gke-{fake}"
    assert ring.property_dependencies["name"] == [suffix.urn]
    assert ring.raw_inputs["location"] == "us-central1"
    assert ring.options["retainOnDelete"] is True
    key = rec.get("gcp:kms/cryptoKey:CryptoKey", "osmo-cluster-secrets-key")
    assert key.options["retainOnDelete"] is True
    assert key.raw_inputs["keyRing"] == "osmo-cluster-keyring-id"


def test_deletion_protection_makes_the_engine_refuse_destroy_up_front() -> None:
    """The provider enforces deletionProtection only at the cluster's own delete (pulumi-gcp
    container/cluster.py: deleting "will only succeed if this field is false" in state), which
    comes after every other resource of the stack is gone. `protect` makes the engine refuse
    the delete before anything is deleted (pulumi/pulumi pkg/resource/deploy/step.go,
    DeleteStep.Apply: deleteProtectedError)."""
    rec = recording()
    cluster = rec.get(CLUSTER, "osmo-cluster-gke")
    assert cluster.raw_inputs["deletionProtection"] is True
    assert cluster.options["protect"] is True
    # Only the cluster: the rest is deleted in order before it would be reached anyway.
    assert [r.name for r in rec.resources if r.options["protect"]] == ["osmo-cluster-gke"]
    off = run_main(gke_config(deletionProtection=False)).get(CLUSTER, "osmo-cluster-gke")
    assert off.raw_inputs["deletionProtection"] is False
    assert off.options["protect"] is False


def test_two_clusters_whose_long_names_differ_at_the_end_share_a_project_without_clashes() -> None:
    """Service account ids (30 characters at most) cut from long cluster names used to be equal
    for `osmo-prod-us-central1-a` and `-b`."""

    def stack(cluster: str, bucket: str) -> engine.Recording:
        values = gke_config(name=cluster)
        values["osmo-backend:storage"] = {"bucket": {"name": bucket}}
        return run_main(values)

    names: list[set[tuple[str, str]]] = []
    for rec in (
        stack("osmo-prod-us-central1-a", "osmo-prod-a-workflows"),
        stack("osmo-prod-us-central1-b", "osmo-prod-b-workflows"),
    ):
        names.append(
            {
                (r.type, r.raw_inputs.get("accountId") or r.raw_inputs["name"])
                for r in rec.resources
                if r.type.startswith("gcp:")
                # Node pools are named within their cluster, the key within its key ring.
                and r.type not in (POOL, "gcp:kms/cryptoKey:CryptoKey")
                and ("accountId" in r.raw_inputs or "name" in r.raw_inputs)
            }
        )
    assert len(names[0]) == len(names[1]) == 10
    assert names[0] & names[1] == set()
    accounts = sorted(n for t, n in names[0] if t == "gcp:serviceaccount/account:Account")
    assert accounts == [
        "osmo-prod-us-5cfb04-osmo-data",
        "osmo-prod-us-c-f050f1-workflow",
        "osmo-prod-us-central1-a-nodes",
    ]


def test_workload_identity_waits_for_the_cluster_and_display_names_fit() -> None:
    """`<project>.svc.id.goog` exists only once the project's first Workload Identity cluster
    does: the workloadIdentityUser binding naming it must wait for the cluster. Service account
    display names take at most 100 bytes (IAM projects.serviceAccounts: displayName)."""

    def program() -> None:
        from components.clusters.gke.cluster import gke_cluster
        from components.config import load_spec
        from tests.harness import encode

        spec = load_spec(encode(gke_config())).cluster
        assert spec.kind == "gke"
        handle = gke_cluster("c", spec, None, pulumi.ResourceOptions()).handle  # type: ignore[arg-type]
        assert handle.bind_workload_identity is not None
        assert handle.volume_dependencies == ()  # the provider already waits for the pool
        handle.bind_workload_identity("data", "n" * 63, "s" * 63, [])

    import pulumi

    rec = engine.run(program, project="osmo-backend", stack="t")
    cluster = rec.urn_of(CLUSTER, "c-gke")
    user = rec.get("gcp:serviceaccount/iAMMember:IAMMember", "c-data-wi-user")
    assert cluster in user.options["dependsOn"]
    account = rec.get("gcp:serviceaccount/account:Account", "c-data-wi").raw_inputs
    assert len(account["displayName"]) == 100
    assert account["displayName"] == f"{'n' * 63}/{'s' * 33}..."


def test_pool_settings_reach_the_node_pool_the_provider_and_osmo() -> None:
    pools = [
        *CLUSTER_SECTION["nodePools"][:2],
        {
            "name": "l4",
            "role": "gpu",
            "machineType": "g2-standard-8",
            "minNodes": 2,
            "maxNodes": 4,
            "zones": ["us-central1-a", "us-central1-b"],
            "labels": {"example.com/gpu": "l4"},
            "taints": [{"key": "example.com/team", "value": "vision", "effect": "NoSchedule"}],
        },
    ]
    rec = run_main(gke_config(nodePools=pools, tags={"cost-center": "ml-1234"}))
    l4 = rec.get(POOL, "osmo-cluster-l4").raw_inputs
    # gcp.container.NodePool: node_locations pins the zones; node_config.labels/taints, taint
    # effects in the GKE API's spelling.
    assert l4["nodeLocations"] == ["us-central1-a", "us-central1-b"]
    assert l4["initialNodeCount"] == 1
    assert l4["nodeConfig"]["labels"]["example.com/gpu"] == "l4"
    assert l4["nodeConfig"]["labels"]["osmo.nvidia.com/pool"] == "l4"
    assert l4["nodeConfig"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"},
        {"key": "example.com/team", "value": "vision", "effect": "NO_SCHEDULE"},
    ]
    # Unpinned pools keep the cluster's zones.
    assert rec.get(POOL, "osmo-cluster-compute").raw_inputs["nodeLocations"] == list(
        CLUSTER_SECTION["nodeZones"]
    )
    provider = rec.get("pulumi:providers:gcp", "osmo-cluster-gcp")
    assert json.loads(provider.raw_inputs["defaultLabels"]) == {
        "cost-center": "ml-1234",
        "osmo-backend-cluster": "osmo-usc1",
        "managed-by": "pulumi",
    }
    platforms = rec.raw_outputs["osmo_service_values"]["services"]["configs"]["pools"][
        "lab-backend"
    ]["platforms"]
    assert set(platforms) == {"cpu", "gpu", "compute", "l4"}
