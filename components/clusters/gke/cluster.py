"""GKE backend clusters: a VPC-native network with Cloud NAT, a hardened regional or zonal
cluster, node pools per OSMO role with a GPU stack profile, Workload Identity, and the handle.

Secure defaults (research/reliability.md 1.3): private nodes; the control plane's IP endpoint
private (or public only to listed networks) and GKE's DNS-based endpoint for IAM-authenticated
access; Secrets encrypted with a Cloud KMS key the GKE service agent is granted before the cluster
exists; Workload Identity with the GKE metadata server on every pool; Dataplane V2 (network
policy); shielded nodes; a release channel; Cloud Logging/Monitoring; no legacy ABAC, no client
certificate; the default node pool removed; a dedicated node service account with GKE's
least-privilege node role.

GPU pools follow NVIDIA's GKE recipe: GKE's driver installation disabled and its device plugin
turned off by label, so the GPU Operator's device plugin is the only one. With `gpuDriver: google`
Google's installer DaemonSet puts the driver in /home/kubernetes/bin/nvidia and the GPU Operator
runs without its driver, pointed there; with `gpuDriver: operator` (Ubuntu images only) the GPU
Operator installs it. The GPU Operator's namespace gets a ResourceQuota for the
system-node-critical and system-cluster-critical priority classes (GKE admits such pods outside
kube-system only with one); the operator layer creates it before the release.
"""

from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict, cast

import pulumi
import pulumi_gcp as gcp
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import _helm
from components.clusters.base import (
    ClusterHandle,
    NodePool,
    WorkflowBucket,
    api_taints,
    cloud_labels,
    exec_kubeconfig_yaml,
    gpu_daemonset_values,
    node_pool,
    pool_node_labels,
    pool_roles,
    workflow_bucket_name,
)
from components.clusters.gke.config import (
    KEY_RING_SUFFIX_LENGTH,
    NO_DEFAULT_DEVICE_PLUGIN,
    GkeClusterSpec,
    GkeNodePoolSpec,
    ImageType,
    compute_names,
    initial_nodes_per_zone,
    key_ring_name,
    service_account_id,
)
from components.config import BucketSpec, GpuStackSpec, Role
from components.config.storage import bucket_host

TYPE = "osmo-backend:index:GkeCluster"
STANDARD_RWO = "standard-rwo"
"""GKE's own default StorageClass (PD CSI, pd-balanced); it exists already and is not created."""
GKE_NVIDIA_DIR = "/home/kubernetes/bin/nvidia"
"""Where Google's installer puts the driver; writable and kept across reboots on GKE images."""
NODE_ROLES = ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader")
"""GKE's least-privilege node role (CIS GKE 5.2.1) and image pulls from Artifact Registry."""
APIS = (
    "compute.googleapis.com",
    "container.googleapis.com",
    "cloudkms.googleapis.com",
    "iam.googleapis.com",
    "iamcredentials.googleapis.com",
    "sts.googleapis.com",
    "cloudresourcemanager.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
)
"""The APIs the stack's resources use, enabled first (and left on at destroy): Compute (network,
NAT, nodes), GKE, Cloud KMS (the Secrets key), IAM (service accounts), IAM Credentials and STS
(Workload Identity tokens), Cloud Resource Manager (project IAM grants, the project lookup),
Cloud Logging and Monitoring (the cluster's logging and monitoring). Cloud Storage is enabled
with the workflow bucket. Enabling them needs the Service Usage API, on by default."""
STORAGE_API = "storage.googleapis.com"
DISPLAY_NAME_MAX = 100
"""Service account display names: at most 100 UTF-8 bytes."""
LOG_COMPONENTS = ("SYSTEM_COMPONENTS", "APISERVER", "CONTROLLER_MANAGER", "SCHEDULER", "WORKLOADS")
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"
"""Node OAuth scope: access is decided by IAM (the node role), not by scopes."""

# Google's driver installer DaemonSets (GoogleCloudPlatform/container-engine-accelerators,
# nvidia-driver-installer/{cos,ubuntu}/daemonset-preloaded.yaml): the installer image is preloaded
# on GKE GPU nodes, so it matches the node version.
PAUSE_IMAGE = (
    "gke.gcr.io/pause:3.8@sha256:880e63f94b145e46f1b1082bb71b85e21f16b99b180b9996407d61240ceb9830"
)
PARTITION_GPUS_IMAGE = (
    "gcr.io/gke-release/nvidia-partition-gpu"
    "@sha256:de12f85ebfb4fb6c1893cd30c23aab662a72fa0448f97ef74fccb82d7522ef17"
)
_COS_INSTALL = """\
if lsmod | grep nvidia; then
  echo "GPU driver is already installed; skipping installation"
  exit 0
fi
/cos-gpu-installer install || exit 1
"""


class GkeClusterArgs(TypedDict):
    """Inputs for GkeCluster (validated by `components.config` first)."""

    spec: GkeClusterSpec
    default_storage_class: NotRequired[str | None]
    """StorageClass for in-cluster state; None: GKE's own `standard-rwo`."""


def node_labels(pool: GkeNodePoolSpec) -> dict[str, str]:
    labels = pool_node_labels(pool.name, pool.role, pool.labels)
    if pool.role == "gpu":
        labels[NO_DEFAULT_DEVICE_PLUGIN] = "true"
    return labels


def node_taints(pool: GkeNodePoolSpec) -> list[gcp.container.NodePoolNodeConfigTaintArgsDict]:
    """The GPU taint on gpu pools, then the pool's extra taints."""
    taints = api_taints(pool.role, pool.taints)
    return [{"key": k, "value": v, "effect": e} for k, v, e in taints]


def pool_description(pool: GkeNodePoolSpec) -> NodePool:
    return node_pool(pool.name, cast(Role, pool.role), pool.taints)


def display_name(text: str) -> str:
    return text if len(text.encode()) <= DISPLAY_NAME_MAX else text[: DISPLAY_NAME_MAX - 3] + "..."


def gpu_stack(spec: GkeClusterSpec) -> GpuStackSpec:
    return GpuStackSpec(
        driver="operator" if spec.gpu_driver == "operator" else "host", toolkit="operator"
    )


def gpu_operator_values(spec: GkeClusterSpec) -> dict[str, Any]:
    """GKE-specific GPU Operator values (NVIDIA's GKE page): CDI on, the toolkit's runtime config
    read from the file (GKE 1.33+ known issue), and with Google's driver the install paths."""
    values: dict[str, Any] = {
        "cdi": {"enabled": True, "default": True},
        "toolkit": {"env": [{"name": "RUNTIME_CONFIG_SOURCE", "value": "file"}]},
    }
    if spec.gpu_driver == "google":
        values["hostPaths"] = {"driverInstallDir": GKE_NVIDIA_DIR}
        values["toolkit"]["installDir"] = GKE_NVIDIA_DIR
    return values


def cloud_egress() -> tuple[tuple[str, str], ...]:
    """The Google endpoints a GKE backend's nodes and add-ons call (Private Google Access keeps
    *.googleapis.com inside Google's network)."""
    return (
        ("container.googleapis.com", "the GKE API (node registration, the metadata server)"),
        ("sts.googleapis.com", "Workload Identity token exchange"),
        ("iamcredentials.googleapis.com", "Workload Identity: service account tokens"),
        ("logging.googleapis.com", "Cloud Logging agents"),
        ("monitoring.googleapis.com", "Cloud Monitoring agents"),
        ("gke.gcr.io", "GKE system images"),
        ("*.pkg.dev", "Artifact Registry images"),
    )


def exec_kubeconfig(name: str, server: str, ca_data: str | None) -> str:
    """A kubeconfig that gets short-lived tokens from `gke-gcloud-auth-plugin` (no static
    credential). The DNS endpoint has a publicly trusted certificate: no CA data."""
    cluster: dict[str, Any] = {"server": server}
    if ca_data:
        cluster["certificate-authority-data"] = ca_data
    user = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "gke-gcloud-auth-plugin",
        "installHint": "Install gke-gcloud-auth-plugin: gcloud components install "
        "gke-gcloud-auth-plugin",
        "provideClusterInfo": True,
    }
    return exec_kubeconfig_yaml(name, cluster, user)


def _installer_spec(image: ImageType) -> k8s.core.v1.PodSpecArgsDict:
    """The pod spec of Google's preloaded driver installer for one node image family."""
    distribution = "cos" if image == "COS_CONTAINERD" else "ubuntu"
    affinity: k8s.core.v1.AffinityArgsDict = {
        "node_affinity": {
            "required_during_scheduling_ignored_during_execution": {
                "node_selector_terms": [
                    {
                        "match_expressions": [
                            {"key": "cloud.google.com/gke-accelerator", "operator": "Exists"},
                            {
                                "key": "cloud.google.com/gke-gpu-driver-version",
                                "operator": "DoesNotExist",
                            },
                            {
                                "key": "cloud.google.com/gke-os-distribution",
                                "operator": "In",
                                "values": [distribution],
                            },
                        ]
                    }
                ]
            }
        }
    }
    pause: k8s.core.v1.ContainerArgsDict = {"name": "pause", "image": PAUSE_IMAGE}
    privileged: k8s.core.v1.SecurityContextArgsDict = {"privileged": True}
    requests: k8s.core.v1.ResourceRequirementsArgsDict = {"requests": {"cpu": "150m"}}
    if distribution == "ubuntu":
        return {
            "priority_class_name": "system-node-critical",
            "automount_service_account_token": False,
            "affinity": affinity,
            "tolerations": [{"operator": "Exists"}],
            "volumes": [
                {"name": "dev", "host_path": {"path": "/dev"}},
                {"name": "boot", "host_path": {"path": "/boot"}},
                {"name": "root-mount", "host_path": {"path": "/"}},
            ],
            "init_containers": [
                {
                    "name": "nvidia-driver-installer",
                    "image": "gke-nvidia-installer:fixed",
                    "resources": requests,
                    "security_context": privileged,
                    "volume_mounts": [
                        {"name": "boot", "mount_path": "/boot"},
                        {"name": "dev", "mount_path": "/dev"},
                        {"name": "root-mount", "mount_path": "/root"},
                    ],
                }
            ],
            "containers": [pause],
        }
    nvidia: k8s.core.v1.VolumeMountArgsDict = {
        "name": "nvidia-install-dir-host",
        "mount_path": "/usr/local/nvidia",
    }
    return {
        "priority_class_name": "system-node-critical",
        # The installer talks to the node, never to the API server.
        "automount_service_account_token": False,
        "affinity": affinity,
        "tolerations": [{"operator": "Exists"}],
        "host_network": True,
        "host_pid": True,
        "volumes": [
            {"name": "dev", "host_path": {"path": "/dev"}},
            {"name": "vulkan-icd-mount", "host_path": {"path": f"{GKE_NVIDIA_DIR}/vulkan/icd.d"}},
            {"name": "nvidia-install-dir-host", "host_path": {"path": GKE_NVIDIA_DIR}},
            {"name": "root-mount", "host_path": {"path": "/"}},
            {"name": "cos-tools", "host_path": {"path": "/var/lib/cos-tools"}},
            {"name": "nvidia-config", "host_path": {"path": "/etc/nvidia"}},
        ],
        "init_containers": [
            {
                "name": "nvidia-driver-installer",
                "image": "cos-nvidia-installer:fixed",
                "image_pull_policy": "Never",
                "resources": requests,
                "security_context": privileged,
                "env": [
                    {"name": "NVIDIA_INSTALL_DIR_HOST", "value": GKE_NVIDIA_DIR},
                    {"name": "NVIDIA_INSTALL_DIR_CONTAINER", "value": "/usr/local/nvidia"},
                    {"name": "VULKAN_ICD_DIR_HOST", "value": f"{GKE_NVIDIA_DIR}/vulkan/icd.d"},
                    {"name": "VULKAN_ICD_DIR_CONTAINER", "value": "/etc/vulkan/icd.d"},
                    {"name": "ROOT_MOUNT_DIR", "value": "/root"},
                    {"name": "COS_TOOLS_DIR_HOST", "value": "/var/lib/cos-tools"},
                    {"name": "COS_TOOLS_DIR_CONTAINER", "value": "/build/cos-tools"},
                ],
                "volume_mounts": [
                    nvidia,
                    {"name": "vulkan-icd-mount", "mount_path": "/etc/vulkan/icd.d"},
                    {"name": "dev", "mount_path": "/dev"},
                    {"name": "root-mount", "mount_path": "/root"},
                    {"name": "cos-tools", "mount_path": "/build/cos-tools"},
                ],
                "command": ["bash", "-c", _COS_INSTALL],
            },
            {
                "name": "partition-gpus",
                "image": PARTITION_GPUS_IMAGE,
                "env": [{"name": "LD_LIBRARY_PATH", "value": "/usr/local/nvidia/lib64"}],
                "resources": requests,
                "security_context": privileged,
                "volume_mounts": [
                    nvidia,
                    {"name": "dev", "mount_path": "/dev"},
                    {"name": "nvidia-config", "mount_path": "/etc/nvidia"},
                ],
            },
        ],
        "containers": [pause],
    }


class GkeCluster(pulumi.ComponentResource):
    """A GKE Standard cluster shaped for OSMO."""

    handle: ClusterHandle
    kubeconfig: pulumi.Output[str]
    """Exec-based kubeconfig (secret)."""
    cluster: gcp.container.Cluster
    """The escape hatch: the underlying GKE cluster resource."""
    node_pools: dict[str, gcp.container.NodePool]

    def __init__(
        self, name: str, args: GkeClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        self._name, self._spec = name, spec

        self._apis = {api: self._api(api) for api in APIS}
        apis = list(self._apis.values())
        # Every Google resource waits for the APIs it is made through (first `up` in a new
        # project); the Service Usage calls themselves are cheap when an API is on already.
        after_apis = pulumi.ResourceOptions(parent=self, depends_on=apis)
        # The network and the Secrets key start together, each after only its own API (the key
        # and its grant are on the way to the cluster as much as the network is).
        network, subnetwork = self._network(self._after("compute.googleapis.com"))
        nodes_sa = gcp.serviceaccount.Account(
            f"{name}-nodes",
            project=spec.project,
            account_id=service_account_id(spec.name, "nodes"),
            display_name=display_name(f"GKE nodes of {spec.name}"),
            opts=after_apis,
        )
        for role in NODE_ROLES:
            gcp.projects.IAMMember(
                f"{name}-nodes-{role.split('/')[1].split('.')[0]}",
                project=spec.project,
                role=role,
                member=nodes_sa.email.apply(lambda email: f"serviceAccount:{email}"),
                opts=after_apis,
            )
        key, key_grant = self._secrets_key()

        networks: list[gcp.container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgsDict] = [
            {"cidr_block": cidr, "display_name": f"allowed-{index}"}
            for index, cidr in enumerate(spec.endpoint.authorized_networks)
        ]
        self.cluster = gcp.container.Cluster(
            f"{name}-gke",
            name=spec.name,
            project=spec.project,
            location=spec.location,
            node_locations=list(spec.node_zones) or None,
            network=network,
            subnetwork=subnetwork,
            remove_default_node_pool=True,
            initial_node_count=1,
            # Only for the default pool GKE creates and this stack removes at once: even that one
            # must not run as the Compute Engine default service account.
            node_config={
                "service_account": nodes_sa.email,
                "oauth_scopes": [CLOUD_PLATFORM],
                "workload_metadata_config": {"mode": "GKE_METADATA"},
                "shielded_instance_config": {
                    "enable_secure_boot": True,
                    "enable_integrity_monitoring": True,
                },
            },
            min_master_version=spec.kubernetes_version,
            release_channel={"channel": spec.release_channel},
            networking_mode="VPC_NATIVE",
            ip_allocation_policy={
                "cluster_secondary_range_name": spec.network.pod_range_name,
                "services_secondary_range_name": spec.network.service_range_name,
            },
            datapath_provider="ADVANCED_DATAPATH",
            private_cluster_config={
                "enable_private_nodes": spec.private_nodes,
                "enable_private_endpoint": spec.endpoint.private_endpoint,
                "master_ipv4_cidr_block": spec.network.master_cidr,
            },
            master_authorized_networks_config={
                "cidr_blocks": networks,
                "gcp_public_cidrs_access_enabled": False,
            },
            control_plane_endpoints_config={
                "dns_endpoint_config": {"allow_external_traffic": spec.endpoint.dns_endpoint}
            },
            database_encryption={"state": "ENCRYPTED", "key_name": key.id},
            workload_identity_config={"workload_pool": f"{spec.project}.svc.id.goog"},
            enable_shielded_nodes=True,
            enable_legacy_abac=False,
            enable_kubernetes_alpha=False,
            master_auth={"client_certificate_config": {"issue_client_certificate": False}},
            logging_config={"enable_components": list(LOG_COMPONENTS)},
            monitoring_config={
                "enable_components": ["SYSTEM_COMPONENTS"],
                # The stack runs its own Prometheus (monitoring section); no second collector.
                "managed_prometheus": {"enabled": False},
            },
            addons_config={
                "gce_persistent_disk_csi_driver_config": {"enabled": True},
                "http_load_balancing": {"disabled": False},
            },
            deletion_protection=spec.deletion_protection,
            resource_labels={"osmo-backend-cluster": spec.name},
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[*apis, key_grant],
                ignore_changes=["nodeConfig", "initialNodeCount"],
                # The provider enforces deletionProtection only at the cluster's own delete,
                # after everything else of the stack is gone; `protect` makes the engine refuse
                # the destroy up front.
                protect=spec.deletion_protection,
            ),
        )
        cluster = self.cluster
        self.node_pools = {
            pool.name: self._node_pool(pool, nodes_sa, apis) for pool in spec.node_pools
        }
        operator_pool = next(
            self.node_pools[p.name] for p in spec.node_pools if p.role == "operator"
        )

        self.kubeconfig = pulumi.Output.secret(self._kubeconfig())
        # In-cluster resources wait for the operator pool (their pods run there); GPU pools are
        # on no one's path.
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=cluster.id,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[operator_pool],
                additional_secret_outputs=["kubeconfig"],
            ),
        )
        in_cluster = pulumi.ResourceOptions(parent=self, provider=provider, deleted_with=cluster)
        if spec.gpu_driver == "google":
            images: set[ImageType] = {
                p.image_type for p in spec.node_pools if p.gpu_driver == "google"
            }
            for image in sorted(images):
                self._driver_installer(image, in_cluster)

        pools = tuple(pool_description(p) for p in spec.node_pools)
        roles = pool_roles(pools)
        cidrs = tuple(
            c
            for c in (spec.network.subnet_cidr, spec.network.pod_cidr, spec.network.service_cidr)
            if c is not None
        )
        self.handle = ClusterHandle(
            name=spec.name,
            kind="gke",
            identifier=spec.name,
            kubeconfig=self.kubeconfig,
            provider=provider,
            node_roles=roles,
            gpu_stack=gpu_stack(spec),
            deleted_with=cluster,
            default_storage_class=args.get("default_storage_class") or STANDARD_RWO,
            cluster_cidrs=cidrs,
            egress=cloud_egress(),
            bind_workload_identity=self.bind_workload_identity,
            workflow_bucket=self.workflow_bucket,
            gpu_operator_values=_helm.deep_merge(
                gpu_operator_values(spec), gpu_daemonset_values(roles)
            ),
            node_pools=pools,
            critical_pods_quota=True,
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})

    def _api(self, api: str) -> gcp.projects.Service:
        """An API enabled on the project; left on at destroy (other users may need it)."""
        return gcp.projects.Service(
            f"{self._name}-api-{api.split('.', maxsplit=1)[0]}",
            project=self._spec.project,
            service=api,
            disable_on_destroy=False,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _network(self, opts: pulumi.ResourceOptions) -> tuple[pulumi.Input[str], pulumi.Input[str]]:
        spec, name = self._spec, self._name
        names = compute_names(spec.name)
        net = spec.network
        if net.bring_your_own:
            assert net.network is not None
            assert net.subnetwork is not None
            return net.network, net.subnetwork
        assert net.subnet_cidr is not None
        assert net.pod_cidr is not None
        assert net.service_cidr is not None
        network = gcp.compute.Network(
            f"{name}-vpc",
            project=spec.project,
            name=names["network"],
            auto_create_subnetworks=False,
            routing_mode="REGIONAL",
            opts=opts,
        )
        subnetwork = gcp.compute.Subnetwork(
            f"{name}-nodes",
            project=spec.project,
            name=names["subnetwork"],
            region=spec.region,
            network=network.id,
            ip_cidr_range=net.subnet_cidr,
            secondary_ip_ranges=[
                {"range_name": net.pod_range_name, "ip_cidr_range": net.pod_cidr},
                {"range_name": net.service_range_name, "ip_cidr_range": net.service_cidr},
            ],
            private_ip_google_access=True,
            log_config={
                "aggregation_interval": "INTERVAL_5_SEC",
                "flow_sampling": 0.5,
                "metadata": "INCLUDE_ALL_METADATA",
            },
            opts=opts,
        )
        router = gcp.compute.Router(
            f"{name}-router",
            project=spec.project,
            name=names["router"],
            region=spec.region,
            network=network.id,
            opts=opts,
        )
        gcp.compute.RouterNat(
            f"{name}-nat",
            project=spec.project,
            name=names["nat"],
            region=spec.region,
            router=router.name,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config={"enable": True, "filter": "ERRORS_ONLY"},
            opts=opts,
        )
        return network.id, subnetwork.id

    def _after(self, *apis: str) -> pulumi.ResourceOptions:
        """Child options that wait for the named APIs only."""
        return pulumi.ResourceOptions(parent=self, depends_on=[self._apis[api] for api in apis])

    def _secrets_key(self) -> tuple[gcp.kms.CryptoKey, gcp.kms.CryptoKeyIAMMember]:
        """A KMS key for Secrets envelope encryption, usable by the GKE service agent before the
        cluster exists. Cloud KMS never deletes key rings or keys (pulumi-gcp kms.KeyRing and
        kms.CryptoKey: destroying one only removes it from state), so both are kept on destroy
        and the key ring's name ends in a random suffix: the next deployment gets a new one
        instead of failing on the name the old one still holds."""
        spec, name = self._spec, self._name
        opts = self._after("cloudkms.googleapis.com")
        suffix = random.RandomString(
            f"{name}-keyring-suffix",
            length=KEY_RING_SUFFIX_LENGTH,
            special=False,
            upper=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        ring = gcp.kms.KeyRing(
            f"{name}-keyring",
            project=spec.project,
            name=suffix.result.apply(lambda s: key_ring_name(spec.name, s)),
            location=spec.region,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        key = gcp.kms.CryptoKey(
            f"{name}-secrets-key",
            name="secrets",
            key_ring=ring.id,
            rotation_period="7776000s",
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(retain_on_delete=True)),
        )
        project = gcp.organizations.get_project_output(
            project_id=spec.project,
            opts=pulumi.InvokeOutputOptions(
                parent=self, depends_on=[self._apis["cloudresourcemanager.googleapis.com"]]
            ),
        )
        grant = gcp.kms.CryptoKeyIAMMember(
            f"{name}-secrets-key-gke",
            crypto_key_id=key.id,
            role="roles/cloudkms.cryptoKeyEncrypterDecrypter",
            member=project.number.apply(
                lambda number: (
                    f"serviceAccount:service-{number}@container-engine-robot.iam."
                    "gserviceaccount.com"
                )
            ),
            # The GKE service agent exists once the GKE API is on.
            opts=self._after("cloudkms.googleapis.com", "container.googleapis.com"),
        )
        return key, grant

    def _node_pool(
        self,
        pool: GkeNodePoolSpec,
        service_account: gcp.serviceaccount.Account,
        apis: Sequence[pulumi.Resource],
    ) -> gcp.container.NodePool:
        spec = self._spec
        taints = node_taints(pool)
        accelerators: list[gcp.container.NodePoolNodeConfigGuestAcceleratorArgsDict] = []
        if pool.accelerator is not None:
            accelerators.append(
                {
                    "type": pool.accelerator.type,
                    "count": pool.accelerator.count,
                    "gpu_driver_installation_config": {
                        "gpu_driver_version": "INSTALLATION_DISABLED"
                    },
                }
            )
        return gcp.container.NodePool(
            f"{self._name}-{pool.name}",
            project=spec.project,
            name=pool.name,
            cluster=self.cluster.id,
            location=spec.location,
            node_locations=list(pool.zones or spec.node_zones) or None,
            initial_node_count=initial_nodes_per_zone(pool, spec.zone_count),
            autoscaling={
                "total_min_node_count": pool.min_nodes,
                "total_max_node_count": pool.max_nodes,
                # Spot and GPU capacity: take it in whichever zone has it.
                "location_policy": "ANY" if pool.spot or pool.role == "gpu" else "BALANCED",
            },
            management={"auto_repair": True, "auto_upgrade": True},
            upgrade_settings={"strategy": "SURGE", "max_surge": 1, "max_unavailable": 0},
            node_config={
                "machine_type": pool.machine_type,
                "image_type": pool.image_type,
                "disk_size_gb": pool.disk_size_gb,
                "disk_type": pool.disk_type,
                "spot": pool.spot,
                "service_account": service_account.email,
                "oauth_scopes": [CLOUD_PLATFORM],
                "labels": node_labels(pool),
                "taints": taints or None,
                "guest_accelerators": accelerators or None,
                "workload_metadata_config": {"mode": "GKE_METADATA"},
                # Secure Boot refuses the unsigned kernel modules the GPU Operator's driver
                # container builds; Google's installer loads signed ones.
                "shielded_instance_config": {
                    "enable_secure_boot": pool.gpu_driver != "operator",
                    "enable_integrity_monitoring": True,
                },
                "metadata": {"disable-legacy-endpoints": "true"},
            },
            # The autoscaler owns the size once the pool exists.
            opts=pulumi.ResourceOptions(
                parent=self, depends_on=list(apis), ignore_changes=["initialNodeCount"]
            ),
        )

    def _kubeconfig(self) -> pulumi.Output[str]:
        spec, cluster = self._spec, self.cluster
        if spec.endpoint.dns_endpoint:
            server = cluster.control_plane_endpoints_config.apply(
                lambda c: (
                    f"https://{c.dns_endpoint_config.endpoint}"
                    if c and c.dns_endpoint_config
                    else ""
                )
            )
            return server.apply(lambda s: exec_kubeconfig(spec.name, s, None))
        address = (
            cluster.private_cluster_config.apply(lambda c: c.private_endpoint if c else "")
            if spec.endpoint.private_endpoint
            else cluster.endpoint
        )
        ca = cluster.master_auth.apply(lambda auth: auth.cluster_ca_certificate)
        return pulumi.Output.all(address, ca).apply(
            lambda parts: exec_kubeconfig(spec.name, f"https://{parts[0]}", str(parts[1]))
        )

    def _driver_installer(self, image: ImageType, opts: pulumi.ResourceOptions) -> None:
        suffix = "" if image == "COS_CONTAINERD" else "-ubuntu"
        labels = {"k8s-app": f"nvidia-driver-installer{suffix}"}
        k8s.apps.v1.DaemonSet(
            f"{self._name}-nvidia-driver-installer{suffix}",
            metadata={
                "name": f"nvidia-driver-installer{suffix}",
                "namespace": "kube-system",
                "labels": labels,
            },
            spec={
                "selector": {"match_labels": labels},
                "update_strategy": {"type": "RollingUpdate"},
                "template": {
                    "metadata": {"labels": {**labels, "name": f"nvidia-driver-installer{suffix}"}},
                    "spec": _installer_spec(image),
                },
            },
            opts=opts,
        )

    def bind_workload_identity(
        self,
        suffix: str,
        namespace: str,
        service_account: str,
        grants: Sequence[pulumi.Input[str]],
    ) -> pulumi.Output[str]:
        """A Google service account only `<namespace>/<service_account>` can act as (Workload
        Identity), granted the given project roles; returns its email, the value of the
        Kubernetes service account's `iam.gke.io/gcp-service-account` annotation."""
        spec, name = self._spec, self._name
        child = pulumi.ResourceOptions(parent=self, depends_on=list(self._apis.values()))
        account = gcp.serviceaccount.Account(
            f"{name}-{suffix}-wi",
            project=spec.project,
            account_id=service_account_id(spec.name, suffix),
            display_name=display_name(f"{namespace}/{service_account} on {spec.name}"),
            opts=child,
        )
        # The member names the `<project>.svc.id.goog` pool, which exists only once the
        # project's first Workload Identity cluster does.
        gcp.serviceaccount.IAMMember(
            f"{name}-{suffix}-wi-user",
            service_account_id=account.name,
            role="roles/iam.workloadIdentityUser",
            member=workload_identity_member(spec.project, namespace, service_account),
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[self.cluster])
            ),
        )
        for index, role in enumerate(grants):
            gcp.projects.IAMMember(
                f"{name}-{suffix}-wi-{index}",
                project=spec.project,
                role=role,
                member=account.email.apply(lambda email: f"serviceAccount:{email}"),
                opts=child,
            )
        return account.email

    def workflow_bucket(self, spec: BucketSpec, namespace: str) -> WorkflowBucket:
        """A GCS bucket (uniform access, public access prevented, versioned unless turned off,
        kept on destroy unless opted out) and a Google service account for the workflow pods'
        ServiceAccount, granted object access on this bucket only."""
        cluster, name = self._spec, self._name
        storage_api = self._api(STORAGE_API)
        after_api = pulumi.ResourceOptions(parent=self, depends_on=[storage_api])
        bucket_name = workflow_bucket_name(f"{name}-workflow-bucket-suffix", spec, "gke", self)
        bucket = gcp.storage.Bucket(
            f"{name}-workflow-bucket",
            project=cluster.project,
            name=bucket_name,
            location=cluster.region.upper(),
            uniform_bucket_level_access=True,
            public_access_prevention="enforced",
            versioning={"enabled": spec.versioning},
            force_destroy=False,
            opts=pulumi.ResourceOptions.merge(
                after_api, pulumi.ResourceOptions(retain_on_delete=spec.retain_on_delete)
            ),
        )
        email = self.bind_workload_identity("workflow", namespace, spec.service_account, [])
        for role in WORKFLOW_BUCKET_ROLES:
            gcp.storage.BucketIAMMember(
                f"{name}-workflow-bucket-{role.split('.')[-1].lower()}",
                bucket=bucket.name,
                role=role,
                member=email.apply(lambda address: f"serviceAccount:{address}"),
                opts=after_api,
            )
        # OSMO refuses keyless credentials for gs:// ("Default data credentials are not
        # supported for GS backend yet") and reaches GCS through its S3 client: an HMAC key of
        # a service account that can reach this bucket only. A new `keyGeneration` names a new
        # key: Pulumi creates it, updates the credential Secret, then deletes the old key.
        data_account = gcp.serviceaccount.Account(
            f"{name}-workflow-data-sa",
            project=cluster.project,
            account_id=service_account_id(cluster.name, "osmo-data"),
            display_name=display_name(f"OSMO workflow data key on {cluster.name}"),
            opts=after_api,
        )
        grants: list[pulumi.Resource] = []
        for role in WORKFLOW_BUCKET_ROLES:
            grants.append(
                gcp.storage.BucketIAMMember(
                    f"{name}-workflow-data-sa-{role.split('.')[-1].lower()}",
                    bucket=bucket.name,
                    role=role,
                    member=data_account.email.apply(lambda address: f"serviceAccount:{address}"),
                    opts=after_api,
                )
            )
        hmac = gcp.storage.HmacKey(
            f"{name}-workflow-data-hmac-{spec.key_generation}",
            project=cluster.project,
            service_account_email=data_account.email,
            opts=pulumi.ResourceOptions(parent=self, depends_on=grants),
        )
        uri = pulumi.Output.from_input(bucket_name).apply(lambda b: f"gs://{b}")
        region = cluster.region
        return WorkflowBucket(
            uri=uri if spec.random_suffix else f"gs://{spec.name}",
            region=region,
            spec=spec,
            # Every GCS bucket is reached at the same host.
            egress=((bucket_host(f"gs://{spec.name}", region), "workflow data bucket"),),
            annotations={"iam.gke.io/gcp-service-account": email},
            access_key_id=hmac.access_id,
            access_key=pulumi.Output.secret(hmac.secret),
        )


WORKFLOW_BUCKET_ROLES = ("roles/storage.objectUser", "roles/storage.objectViewer")
"""Bucket-scoped: upload and delete, download (research: osmo-requirements 4.2)."""


def workload_identity_member(project: str, namespace: str, service_account: str) -> str:
    return f"serviceAccount:{project}.svc.id.goog[{namespace}/{service_account}]"


def gke_cluster(
    name: str,
    spec: GkeClusterSpec,
    default_storage_class: str | None,
    opts: pulumi.ResourceOptions,
) -> GkeCluster:
    """The cluster with its own Google provider, pinned to the spec's project and region; its
    default labels mark every Google resource of this stack. No Google resource of the stack uses
    the default provider."""
    provider = gcp.Provider(
        f"{name}-gcp",
        project=spec.project,
        region=spec.region,
        default_labels=cloud_labels(spec.name, spec.tags),
        opts=opts,
    )
    return GkeCluster(
        name,
        {"spec": spec, "default_storage_class": default_storage_class},
        pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers={"gcp": provider})),
    )


def build(
    name: str,
    spec: GkeClusterSpec,
    default_storage_class: str | None,
    kubeconfig: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> GkeCluster:
    """The registry's factory (components.clusters.registry): a GKE stack makes its own
    kubeconfig, so `kubeconfig` is unused."""
    del kubeconfig
    return gke_cluster(name, spec, default_storage_class, opts)
