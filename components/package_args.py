"""The OsmoBackendStack component's inputs, generated from the stack-config models:
do not edit; `uv run python -m components.package_inputs > components/package_args.py`
regenerates it (a test fails when it is stale). components/package_inputs.py has the rules.

No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations at
runtime, and each key's description from its docstring in this source.
"""

from typing import Any, NotRequired, TypedDict

import pulumi


class NodeRoleInputs(TypedDict):
    """How OSMO finds the nodes of one role, and which nodes this stack labels into it."""

    selector: NotRequired[dict[str, str]]
    """Node labels selecting the role. Default: {node-type: <role>}."""
    nodes: NotRequired[list[str]]
    """Node names this stack labels into the role (GPU nodes also tainted)."""


class NodeRolesInputs(TypedDict):
    """OSMO's node roles."""

    operator: NotRequired[NodeRoleInputs]
    """Nodes for KAI, the GPU Operator and OSMO's backend operator."""
    compute: NotRequired[NodeRoleInputs]
    """CPU nodes for workflows."""
    gpu: NotRequired[NodeRoleInputs]
    """GPU nodes for workflows."""
    jetson: NotRequired[NodeRoleInputs]
    """Jetson (ARM GPU) nodes for workflows."""


class GpuStackInputs(TypedDict):
    """Who provides the NVIDIA driver and container toolkit on GPU nodes."""

    driver: NotRequired[str]
    """Who installs the NVIDIA driver. One of: operator, host."""
    toolkit: NotRequired[str]
    """Who installs the container toolkit. One of: operator, host."""


class NetworkInputs(TypedDict):
    (
        "eks: The VPC: one this stack creates (vpcCidr, natGateways) or one you bring (vpcId and "
        "its subnets).\n"
        "gke: The network: created (its CIDRs), or brought (network, subnetwork, range names).\n"
        "aks: The network this stack creates (a VNet and its node subnet), or a subnet you bring, "
        "and the overlay's ranges."
    )  # fmt: skip

    vpc_cidr: NotRequired[str]
    """eks: CIDR of the VPC this stack creates."""
    nat_gateways: NotRequired[str]
    """eks: NAT gateways. One of: single, perAz."""
    vpc_id: NotRequired[str]
    """eks: An existing VPC (then list its subnets)."""
    private_subnet_ids: NotRequired[list[str]]
    """eks: Existing private subnets (nodes), 2 or more."""
    public_subnet_ids: NotRequired[list[str]]
    """eks: Existing public subnets (load balancers)."""
    subnet_cidr: NotRequired[str]
    """gke: Node subnet this stack creates."""
    pod_cidr: NotRequired[str]
    "gke: Pod secondary range.\naks: Overlay pod range."
    service_cidr: NotRequired[str]
    "gke: Service secondary range.\naks: Service range."
    master_cidr: NotRequired[str]
    """gke: Control-plane /28 (VPC peering). Default: none (GKE's Private Service Connect)."""
    network: NotRequired[str]
    """gke: An existing VPC network (name or self link)."""
    subnetwork: NotRequired[str]
    """gke: Its subnetwork for the nodes."""
    pod_range_name: NotRequired[str]
    """gke: Its pod secondary range."""
    service_range_name: NotRequired[str]
    """gke: Its service secondary range."""
    subnet_id: NotRequired[str]
    """aks: An existing subnet's resource id instead of a VNet."""
    vnet_cidr: NotRequired[str]
    """aks: VNet this stack creates."""
    node_subnet_cidr: NotRequired[str]
    """aks: Node subnet inside it."""
    dns_service_ip: NotRequired[str]
    """aks: Cluster DNS address."""


class EndpointInputs(TypedDict):
    (
        "eks: The public API endpoint.\n"
        "gke: Control-plane access."
    )  # fmt: skip

    public_access_cidrs: NotRequired[list[str]]
    (
        "eks: Networks that reach the public API endpoint (0.0.0.0/0 with "
        "allowPublicFromAnywhere). Default: none (private endpoint only: pulumi up must run inside "
        "the VPC)."
    )
    allow_public_from_anywhere: NotRequired[bool]
    (
        "eks: Explicit opt-out: allow 0.0.0.0/0 on the public endpoint.\n"
        "gke: Explicit opt-out: allow 0.0.0.0/0 in authorizedNetworks."
    )
    private_endpoint: NotRequired[bool]
    """gke: The control plane's IP endpoint is private."""
    dns_endpoint: NotRequired[bool]
    """gke: GKE's DNS-based control-plane endpoint, reached with IAM credentials from anywhere."""
    authorized_networks: NotRequired[list[str]]
    """gke: Networks that reach the IP endpoint."""


class TaintInputs(TypedDict):
    """An extra taint on every node of a pool (Kubernetes spelling of the effect)."""

    key: str
    """Taint key (label key syntax)."""
    value: NotRequired[str]
    """Taint value. Default: empty."""
    effect: str
    """Taint effect. One of: NoSchedule, PreferNoSchedule, NoExecute."""


class AcceleratorInputs(TypedDict):
    """Attached GPUs (n1 machines). Default: what the machine family carries."""

    type: str
    """GPU type, e.g. nvidia-tesla-t4."""
    count: NotRequired[int]
    """GPUs per node."""


class NodePoolInputs(TypedDict):
    (
        "eks: A managed node group.\n"
        "gke: A GKE node pool.\n"
        "aks: An agent pool; the operator pool is AKS's system pool."
    )  # fmt: skip

    name: str
    (
        "eks, gke: Pool name (DNS-1123 label, <= 20 characters).\n"
        "aks: Pool name (lowercase letters and digits, a letter first, <= 12)."
    )
    role: str
    (
        "eks, gke: OSMO node role. One of: operator, compute, gpu.\n"
        "aks: OSMO node role (operator: AKS's system pool). One of: operator, compute, gpu."
    )
    labels: NotRequired[dict[str, str]]
    (
        "Extra Kubernetes node labels (not node-type, nvidia.com/gpu, osmo.nvidia.com/pool, nor "
        "kubernetes.io / k8s.io / cloud domains)."
    )
    taints: NotRequired[list[TaintInputs]]
    """Extra taints (not on the operator pool); OSMO's platforms for the pool tolerate them."""
    zones: NotRequired[list[str]]
    (
        "eks: Availability zones of the cluster the pool is pinned to. Default: every zone.\n"
        "gke: Zones of the region the pool's nodes are in (node_locations). Default: the "
        "cluster's.\n"
        "aks: Availability zones of this pool (1, 2, 3). Default: the cluster's."
    )
    instance_type: NotRequired[str]
    """eks: EC2 instance type; gpu pools need an NVIDIA GPU family."""
    instance_types: NotRequired[list[str]]
    (
        "eks: Several instance types of one shape (spot diversification), instead of instanceType; "
        "the same AMI type and GPU count. The first is the preferred on-demand type and the one "
        "the Cluster Autoscaler models a new node on."
    )
    min_size: NotRequired[int]
    """eks: Minimum nodes (operator pools: at least 1)."""
    max_size: NotRequired[int]
    """eks: Maximum nodes."""
    desired_size: NotRequired[int]
    """eks: Nodes at creation. Default: minSize."""
    capacity_type: NotRequired[str]
    """eks: Capacity type. One of: on-demand, spot."""
    disk_size_gib: NotRequired[int]
    """eks: Root volume (gp3, encrypted), GiB. Default: 200 on gpu pools, else 100."""
    gpus_per_node: NotRequired[int]
    """eks: GPUs per node (gpu pools). Default: from the instance type."""
    subnet_ids: NotRequired[list[str]]
    """eks: A network you bring: private subnets the pool is pinned to. Default: every one."""
    machine_type: NotRequired[str]
    """gke: Machine type; gpu pools need a GPU family (a2, a3, a4, g2) or n1 with an accelerator."""
    accelerator: NotRequired[AcceleratorInputs]
    """gke: Attached GPUs (n1 machines). Default: what the machine family carries."""
    min_nodes: NotRequired[int]
    """gke: Minimum nodes, in total (operator pools: at least 1)."""
    max_nodes: NotRequired[int]
    """gke: Maximum nodes, in total (GKE's total autoscaling limits)."""
    spot: NotRequired[bool]
    "gke: Spot VMs.\naks: Spot priority (eviction: Delete); not for the operator pool."
    disk_size_gb: NotRequired[int]
    """gke: Boot disk size. Default: 100 (gpu pools 200)."""
    disk_type: NotRequired[str]
    """gke: Boot disk type. One of: pd-balanced, pd-ssd, pd-standard, hyperdisk-balanced."""
    image_type: NotRequired[str]
    """gke: Node image. One of: COS_CONTAINERD, UBUNTU_CONTAINERD."""
    gpu_driver: NotRequired[str]
    (
        "gke: gpu pools: who installs the NVIDIA driver (google: Google's installer; operator: the "
        "GPU Operator, Ubuntu images only). Default: google. One of: google, operator.\n"
        "aks: gpu pools: who installs the NVIDIA driver (aks: AKS; operator: the GPU Operator, the "
        "pool's GPU profile says driver None). Default: aks. One of: aks, operator."
    )
    vm_size: NotRequired[str]
    """aks: VM size; gpu pools need an N-series size (NC, ND, NV)."""
    min_count: NotRequired[int]
    """aks: Minimum nodes (the operator pool: at least 1)."""
    max_count: NotRequired[int]
    """aks: Maximum nodes."""
    os_disk_size_gb: NotRequired[int]
    """aks: OS disk size. Default: 128 (gpu pools 256)."""
    subnet_id: NotRequired[str]
    """aks: A network you bring: a subnet of its VNet for this pool (checked by the cluster)."""


class AutoscalerInputs(TypedDict):
    """The Cluster Autoscaler."""

    enabled: NotRequired[bool]
    """Install the Cluster Autoscaler."""
    values: NotRequired[dict[str, Any]]
    """Chart values merged over ours."""


class KubeconfigAuthInputs(TypedDict):
    (
        "eks: How the exec-based kubeconfig authenticates. Default: the ambient identity.\n"
        "aks: How the kubelogin kubeconfig authenticates. Default: the Azure CLI's login."
    )  # fmt: skip

    profile: NotRequired[str]
    """eks: AWS CLI profile for `aws eks get-token` (AWS_PROFILE)."""
    role_arn: NotRequired[str]
    """eks: IAM role `aws eks get-token` assumes (--role-arn)."""
    login: NotRequired[str]
    """aks: kubelogin login mode. One of: azurecli, workloadidentity, msi, spn."""


class ApiServerInputs(TypedDict):
    """Who reaches the API server: a private one (inside the VNet), or listed networks."""

    private_cluster: NotRequired[bool]
    """Private API server. Default: true unless authorizedIpRanges are set."""
    authorized_ip_ranges: NotRequired[list[str]]
    """Networks that reach the public API server."""
    allow_public_from_anywhere: NotRequired[bool]
    """Explicit opt-out: allow 0.0.0.0/0 in authorizedIpRanges."""


class ClusterInputs(TypedDict):
    (
        "The cluster the backend runs on; `kind` (existing, eks, gke, aks) chooses which keys "
        "apply. A key applies to every kind unless its description starts with the kinds it "
        "applies to; validation refuses the keys of another kind, by input path.\n"
        "existing: Adopt an existing cluster from a kubeconfig. Keys: name, context, kubeconfig, "
        "nodeRoles, gpuStack, kubeconfigContent.\n"
        "eks: Create an EKS cluster for OSMO. Keys: name, region, kubernetesVersion, "
        "availabilityZones, network, serviceCidr, endpoint, admins, nodePools, tags, imdsHopLimit, "
        "clusterAutoscaler, kubeconfigAuth.\n"
        "gke: Create a GKE cluster for OSMO. Keys: name, project, region, zone, nodeZones, "
        "kubernetesVersion, releaseChannel, network, privateNodes, endpoint, deletionProtection, "
        "nodePools, tags.\n"
        "aks: Create an AKS cluster for OSMO. Keys: name, location, resourceGroup, "
        "createResourceGroup, kubernetesVersion, upgradeChannel, tier, zones, network, apiServer, "
        "adminGroupObjectIds, logAnalyticsWorkspaceId, kubeconfigAuth, deployerPrincipalType, "
        "nodePools, tags."
    )  # fmt: skip

    kind: str
    (
        "One of: existing, eks, gke, aks. It chooses which keys apply.\n"
        "existing: Adopt an existing cluster from a kubeconfig.\n"
        "eks: Create an EKS cluster for OSMO.\n"
        "gke: Create a GKE cluster for OSMO.\n"
        "aks: Create an AKS cluster for OSMO."
    )
    name: str
    (
        "existing: Cluster name (DNS-1123 label); the provider's cluster_identifier.\n"
        "eks: EKS cluster name (DNS-1123 label, <= 63 characters).\n"
        "gke: GKE cluster name (lowercase, a letter first, <= 40 characters).\n"
        "aks: AKS cluster name (lowercase letters, digits, '-', <= 40)."
    )
    context: NotRequired[str]
    """existing: Kubeconfig context. Default: its current-context."""
    kubeconfig: NotRequired[str]
    (
        "existing: Kubeconfig file path, relative to the project directory. Default: the content "
        "in the secret osmo-backend:kubeconfig."
    )
    kubeconfig_content: NotRequired[pulumi.Input[str]]
    (
        "existing: Kubeconfig content instead of a file, e.g. a cluster's kubeconfig output from "
        "the same program: an Input, kept secret and checked when its value is known."
    )
    node_roles: NotRequired[NodeRolesInputs]
    """existing: How OSMO finds each role's nodes, and which nodes this stack labels into it."""
    gpu_stack: NotRequired[GpuStackInputs]
    """existing: Who installs the NVIDIA driver and container toolkit on GPU nodes."""
    region: NotRequired[str]
    "eks: AWS region. Default: aws:region.\ngke: Region. Default: gcp:region."
    kubernetes_version: NotRequired[str]
    "eks, aks: Kubernetes minor version, quoted.\ngke: Minimum Kubernetes minor version, quoted."
    availability_zones: NotRequired[list[str]]
    """eks: 2 or 3 zones of the region. Default: <region>a/b/c."""
    network: NotRequired[NetworkInputs]
    (
        "eks: The VPC this stack creates, or one you bring.\n"
        "gke: The cluster's network.\n"
        "aks: The VNet this stack creates, or a subnet you bring."
    )
    service_cidr: NotRequired[str]
    """eks: Service CIDR."""
    endpoint: NotRequired[EndpointInputs]
    (
        "eks: The public API endpoint. Default: private only (pulumi up must run inside the VPC).\n"
        "gke: Control-plane access."
    )
    admins: NotRequired[list[str]]
    """eks: IAM role or user ARNs given cluster-admin access entries."""
    node_pools: NotRequired[list[NodePoolInputs]]
    (
        "eks: Node groups. Default: an operator and a compute pool.\n"
        "gke: Node pools. Default: an operator and a compute pool.\n"
        "aks: Node pools. Default: an operator (system) and a compute pool."
    )
    tags: NotRequired[dict[str, str]]
    (
        "eks: Cost-allocation tags: AWS default tags and the nodes' instances and volumes.\n"
        "gke: Cost-allocation labels on every Google resource (the Google provider's default "
        "labels): lowercase keys and values.\n"
        "aks: Azure tags on every resource that takes tags, also on the nodes' scale sets."
    )
    imds_hop_limit: NotRequired[int]
    """eks: IMDSv2 hop limit on nodes."""
    cluster_autoscaler: NotRequired[AutoscalerInputs]
    """eks: The Cluster Autoscaler."""
    kubeconfig_auth: NotRequired[KubeconfigAuthInputs]
    (
        "eks: How the exec-based kubeconfig authenticates. Default: the ambient identity.\n"
        "aks: How the kubelogin kubeconfig authenticates. Default: the Azure CLI's login."
    )
    project: NotRequired[str]
    """gke: Google Cloud project id. Default: gcp:project."""
    zone: NotRequired[str]
    """gke: A zone of the region: a zonal cluster. Default: regional."""
    node_zones: NotRequired[list[str]]
    """gke: Zones the node pools use. Default: GKE's choice."""
    release_channel: NotRequired[str]
    """gke: GKE release channel. One of: RAPID, REGULAR, STABLE."""
    private_nodes: NotRequired[bool]
    """gke: Nodes without public IP addresses."""
    deletion_protection: NotRequired[bool]
    """gke: GKE refuses to delete the cluster."""
    location: NotRequired[str]
    """aks: Azure location. Default: azure-native:location."""
    resource_group: NotRequired[str]
    """aks: Resource group. Default: <name>-rg."""
    create_resource_group: NotRequired[bool]
    """aks: Create the resource group (false: it exists)."""
    upgrade_channel: NotRequired[str]
    """aks: Automatic upgrade channel. One of: rapid, stable, patch, node-image."""
    tier: NotRequired[str]
    """aks: AKS pricing tier. One of: Free, Standard, Premium."""
    zones: NotRequired[list[str]]
    """aks: Availability zones for every pool (1, 2, 3). Default: none."""
    api_server: NotRequired[ApiServerInputs]
    """aks: API server access. Default: private."""
    admin_group_object_ids: NotRequired[list[str]]
    """aks: Entra ID groups given cluster-admin."""
    log_analytics_workspace_id: NotRequired[str]
    """aks: Existing Log Analytics workspace for Container Insights. Default: one is created."""
    deployer_principal_type: NotRequired[str]
    (
        "aks: What runs pulumi up (it is assigned AKS RBAC Cluster Admin). One of: User, "
        "ServicePrincipal."
    )


class NamespacesInputs(TypedDict):
    """The backend's namespaces (three different ones)."""

    operator: NotRequired[str]
    """Backend-operator namespace."""
    workflows: NotRequired[str]
    """Workflow namespace."""
    test: NotRequired[str]
    """Backend test namespace (used with backendTests)."""


class TokenInputs(TypedDict):
    """Where the backend bootstrap token comes from, and where it is stored."""

    source: NotRequired[str]
    (
        "generate (random, kept in state), config (the secret osmo-backend:backendToken) or "
        "existing (a Secret already in the compute cluster; nothing is created). One of: generate, "
        "config, existing."
    )
    credential_name: NotRequired[str]
    """Credential name on the control plane (<= 49 characters). Default: backendName."""
    secret_name: NotRequired[str]
    (
        "Secret holding the token in the operator namespace (and on the control plane). Default: "
        "osmo-backend-token-<credentialName>, as in OSMO's docs."
    )
    secret_key: NotRequired[str]
    """Data key of the token in the compute cluster's Secret."""
    generation: NotRequired[int]
    (
        "Rotation generation: bumping it issues a new generated token and restarts the backend "
        "listener and worker (a pod annotation carries the number, never the token)."
    )
    overlap: NotRequired[bool]
    """Rotation phase 1: the control plane also accepts the previous token (`previous-token`)."""


class ControlPlaneInputs(TypedDict):
    """The OSMO service's cluster, where the same token Secret is created."""

    name: str
    """Stable id of the OSMO service cluster (its provider's cluster_identifier)."""
    namespace: NotRequired[str]
    """The OSMO service namespace."""
    context: NotRequired[str]
    """Its kubeconfig context. Default: the kubeconfig's current context."""
    kubeconfig: NotRequired[str]
    "Its kubeconfig file path; or the content in the secret osmo-backend:controlPlaneKubeconfig."


class OsmoInputs(TypedDict):
    """The OSMO connection."""

    backend_name: str
    """The backend's name in the OSMO service (DNS-1123 label)."""
    service_url: str
    """The OSMO gateway URL the backend-operator connects to (https)."""
    router_address: NotRequired[str]
    """Router address for exec and port-forward (wss). Default: serviceUrl's host with wss://."""
    image_tag: NotRequired[str]
    """OSMO image tag of the backend listener and worker (pinned; the service's version)."""
    namespaces: NotRequired[NamespacesInputs]
    """The backend's namespaces."""
    backend_tests: NotRequired[bool]
    """Enable the backend test runner (in namespaces.test)."""
    pool: NotRequired[str]
    """Pool name on the service side. Default: backendName."""
    token: NotRequired[TokenInputs]
    """The backend bootstrap token."""
    control_plane: NotRequired[ControlPlaneInputs]
    """The OSMO service's cluster: the token Secret is created there too."""
    image_pull_secret: NotRequired[str]
    "nvcr.io pull Secret name; created from the secret ngcApiKey if set (then default nvcr-secret)."


class KaiSchedulerInputs(TypedDict):
    """KAI scheduler."""

    release_name: NotRequired[str]
    """Helm release name (DNS-1123 label, at most 53 characters)."""
    namespace: NotRequired[str]
    """Namespace of the release."""
    values: NotRequired[dict[str, Any]]
    """Chart overrides, deep-merged last; keys must be ones the chart reads."""


class GpuOperatorInputs(TypedDict):
    """NVIDIA GPU Operator."""

    release_name: NotRequired[str]
    """Helm release name (DNS-1123 label, at most 53 characters)."""
    namespace: NotRequired[str]
    """Namespace of the release."""
    values: NotRequired[dict[str, Any]]
    """Chart overrides, deep-merged last; keys must be ones the chart reads."""
    enabled: NotRequired[bool]
    """Install the GPU Operator; off when the cluster already runs a GPU stack (DGX/NVAIE)."""
    runtime_class_stub: NotRequired[bool]
    """With it off: create RuntimeClass nvidia (handler runc), which older OSMO pods name."""


class BackendOperatorInputs(TypedDict):
    """OSMO backend-operator (in osmo.namespaces.operator)."""

    release_name: NotRequired[str]
    """Helm release name (DNS-1123 label, at most 53 characters)."""
    values: NotRequired[dict[str, Any]]
    """Chart overrides, deep-merged last; keys must be ones the chart reads."""
    wait: NotRequired[bool]
    """Wait for its pods to become ready (they are not until the service accepts the token)."""


class OperatorsInputs(TypedDict):
    """Operators."""

    kai_scheduler: NotRequired[KaiSchedulerInputs]
    """The KAI scheduler release."""
    gpu_operator: NotRequired[GpuOperatorInputs]
    """The NVIDIA GPU Operator release."""
    backend_operator: NotRequired[BackendOperatorInputs]
    """The OSMO backend-operator release (in the operator namespace)."""


class PrometheusInputs(TypedDict):
    """Prometheus (kube-prometheus-stack): retention, storage, chart overrides."""

    retention: NotRequired[str]
    """Prometheus retention."""
    storage_size: NotRequired[str]
    """Prometheus PVC size."""
    storage_class: NotRequired[str]
    """StorageClass. Default: the cluster's default StorageClass."""
    values: NotRequired[dict[str, Any]]
    """kube-prometheus-stack overrides."""


class IngressInputs(TypedDict):
    """An Ingress for a web UI."""

    host: str
    """Ingress host name."""
    class_name: NotRequired[str]
    """IngressClass name. Default: the class of the ingress controller the stack installs."""


class WebUiInputs(TypedDict):
    """A web UI OSMO links to (Grafana, the Kubernetes web UI)."""

    url: NotRequired[str]
    """External URL. Default: `https://<ingress host>` when an ingress is set."""
    ingress: NotRequired[IngressInputs]
    """The ingress that serves it (`{}`: none)."""


class StorageMetricsInputs(TypedDict):
    """Ephemeral-storage metrics per pod (k8s-ephemeral-storage-metrics)."""

    enabled: NotRequired[bool]
    """Install k8s-ephemeral-storage-metrics."""
    values: NotRequired[dict[str, Any]]
    """Chart overrides."""


class LogsInputs(TypedDict):
    """Container logs: Loki and the Alloy collector, or none."""

    backend: NotRequired[str]
    """Log backend. One of: loki, none, cloud."""
    retention: NotRequired[str]
    """Log retention."""
    storage_size: NotRequired[str]
    """Loki PVC size."""
    loki_values: NotRequired[dict[str, Any]]
    """Loki chart overrides."""
    collector_values: NotRequired[dict[str, Any]]
    """Alloy chart overrides."""


class DashboardInputs(TypedDict):
    """The Kubernetes web UI (Headlamp)."""

    url: NotRequired[str]
    """External URL. Default: `https://<ingress host>` when an ingress is set."""
    ingress: NotRequired[IngressInputs]
    """The ingress that serves it (`{}`: none)."""
    enabled: NotRequired[bool]
    """Install the web UI."""
    values: NotRequired[dict[str, Any]]
    """Chart overrides."""


class MonitoringInputs(TypedDict):
    """Monitoring and logging."""

    enabled: NotRequired[bool]
    """Install monitoring and logging."""
    cluster_label: NotRequired[str]
    """`cluster` label on every series and log line. Default: backendName."""
    namespace: NotRequired[str]
    """Monitoring namespace."""
    agents_namespace: NotRequired[str]
    (
        "Privileged namespace of the node agents (node exporter, log collector): they need host "
        "access (PSA privileged) and are kept apart."
    )
    prometheus: NotRequired[PrometheusInputs]
    """Prometheus: retention and storage."""
    grafana: NotRequired[WebUiInputs]
    """Grafana's external URL or ingress."""
    alerts: NotRequired[bool]
    """Install OSMO alert rules."""
    ephemeral_storage_metrics: NotRequired[StorageMetricsInputs]
    """Per-pod ephemeral storage metrics."""
    logs: NotRequired[LogsInputs]
    """Pod logs: the backend, its retention and storage."""
    dashboard: NotRequired[DashboardInputs]
    """The Kubernetes web UI (Headlamp), when enabled."""


class IngressTlsInputs(TypedDict):
    (
        "TLS for everything the stack's ingress controller serves; port 80 redirects to 443. "
        "Exactly one key. cert-manager must already run in the cluster."
    )  # fmt: skip

    secret_name: NotRequired[str]
    (
        "A kubernetes.io/tls Secret in the ingress namespace: Traefik's default certificate for "
        "every host."
    )
    issuer: NotRequired[str]
    """A cert-manager Issuer in each ingress's namespace (one certificate per ingress host)."""
    cluster_issuer: NotRequired[str]
    """A cert-manager ClusterIssuer (one certificate per ingress host)."""


class IngressControllerInputs(TypedDict):
    """An ingress controller (Traefik) for the web UIs this stack exposes."""

    enabled: NotRequired[bool]
    """Install Traefik as the web UIs' ingress controller."""
    class_name: NotRequired[str]
    """IngressClass it serves; Grafana and the web UI ingresses use it unless they name one."""
    namespace: NotRequired[str]
    """Its namespace."""
    service_type: NotRequired[str]
    """Its Service type. One of: LoadBalancer, NodePort, ClusterIP."""
    values: NotRequired[dict[str, Any]]
    """Traefik chart overrides."""
    tls: NotRequired[IngressTlsInputs]
    """Default: plain HTTP on port 80 (labs on a trusted network only)."""


class WorkflowPolicyInputs(TypedDict):
    (
        "The backend-operator's egress-only policy on every workflow pod: anything outside the "
        "cluster's own ranges, the namespace itself, DNS, and what is allowed explicitly."
    )  # fmt: skip

    enabled: NotRequired[bool]
    """Workflow egress NetworkPolicy."""
    isolate_workflows: NotRequired[bool]
    (
        "Admit traffic into a workflow's pods only from pods of the same workflow and from OSMO's "
        "namespace (an OSMO group template per task group, and a namespace-wide default)."
    )
    cluster_cidrs: NotRequired[list[str]]
    (
        "The cluster's pod, service and node CIDRs: workflow pods must not reach them (the "
        "`except` of 0.0.0.0/0). Default: the network the stack creates."
    )
    allowed_cidrs: NotRequired[list[str]]
    (
        "In-range CIDRs workflow pods still need (an in-cluster OSMO gateway, a kube-dns ClusterIP "
        "on iptables CNIs, STS endpoints)."
    )
    blocked_cidrs: NotRequired[list[str]]
    (
        "Ranges outside the cluster workflow pods never reach. Default: link-local (instance "
        "metadata) on eks, plus Azure's host address 168.63.129.16/32 on aks and existing; none on "
        "gke (Workload Identity needs its metadata server)."
    )
    reachable_cidrs: NotRequired[list[str]]
    (
        "The only IPv4 networks workflow pods reach (plus DNS, allowed namespaces and CIDRs) "
        "instead of everything outside the cluster; include the OSMO service."
    )
    dns_namespace: NotRequired[str]
    """Where DNS runs."""
    allowed_namespaces: NotRequired[list[str]]
    """Namespaces workflow pods may reach."""
    additional_egress_rules: NotRequired[list[dict[str, Any]]]
    """Raw NetworkPolicyEgressRule objects (`to`, `ports`), appended as they are."""


class NetworkingInputs(TypedDict):
    """Networking."""

    ingress: NotRequired[IngressControllerInputs]
    (
        "The stack's ingress controller. Default: none (the cluster's own, if any, serves the "
        "ingresses)."
    )
    workflow_policy: NotRequired[WorkflowPolicyInputs]
    """The workflow namespace's egress NetworkPolicy."""


class WorkflowDataInputs(TypedDict):
    (
        "An S3-compatible bucket for OSMO's workflow data (task specs, data between groups), with "
        "the static keys of the secrets storageAccessKeyId and storageSecretAccessKey."
    )  # fmt: skip

    uri: str
    """s3://<bucket>[/prefix], gs://<bucket>[/prefix] or azure://<account>/<container>"""
    endpoint: NotRequired[str]
    """S3-compatible service URL (`override_url`). Default: AWS S3 itself."""
    region: NotRequired[str]
    """Region."""
    addressing_style: NotRequired[str]
    """Addressing style. One of: virtual, path, auto."""
    also_for_logs: NotRequired[bool]
    """Use it for workflow_log and workflow_app too (OSMO's logs API needs them)."""


class BucketInputs(TypedDict):
    (
        "A workflow data bucket the stack creates in the cluster's cloud (eks, gke, aks), reached "
        "by workflow pods through workload identity (no static keys)."
    )  # fmt: skip

    name: str
    """S3/GCS bucket name; on AKS the storage account name."""
    container: NotRequired[str]
    """AKS: the blob container."""
    versioning: NotRequired[bool]
    """Object versioning."""
    retain_on_delete: NotRequired[bool]
    """Keep the bucket (and its data) on pulumi destroy."""
    service_account: NotRequired[str]
    """Workflow pods' ServiceAccount bound to the bucket's identity."""
    also_for_logs: NotRequired[bool]
    """Use it for workflow_log and workflow_app too (OSMO's logs API needs them)."""
    key_generation: NotRequired[int]
    """Bump to issue a new bucket-scoped key for OSMO and update its Secret (rotation)."""
    random_suffix: NotRequired[bool]
    (
        "Append a random suffix, kept in state, to the globally unique name (S3 and GCS: "
        "`<name>-<suffix>`, AKS: `<name><suffix>`): a name taken elsewhere, or kept by a retained "
        "bucket, cannot block a deployment."
    )


class ObjectStoreInputs(TypedDict):
    """A lab object store (one MinIO server) on an existing cluster."""

    bucket: str
    """The workflow data bucket it holds."""
    storage_size: NotRequired[str]
    """Its volume size."""
    storage_class: NotRequired[str]
    """Its volume's StorageClass. Default: the cluster's default."""
    namespace: NotRequired[str]
    """Its namespace."""
    ingress_host: NotRequired[str]
    (
        "Host the OSMO service reaches it at through networking.ingress. Default: the in-cluster "
        "address (the service must run in this cluster)."
    )
    also_for_logs: NotRequired[bool]
    """Use it for workflow_log and workflow_app too (OSMO's logs API needs them)."""


class StorageInputs(TypedDict):
    """Storage."""

    storage_class: NotRequired[str]
    """StorageClass for in-cluster state (Prometheus, Loki). Default: the cluster's default."""
    workflow_data: NotRequired[WorkflowDataInputs]
    """An S3-compatible bucket you bring for OSMO's workflow data."""
    bucket: NotRequired[BucketInputs]
    """A workflow data bucket this stack creates in the cluster's cloud (eks, gke, aks)."""
    object_store: NotRequired[ObjectStoreInputs]
    """A lab object store (one MinIO server) on an existing cluster."""


class PolicyInputs(TypedDict):
    """Explicit, named opt-outs from the security checks, and the production preset."""

    allow: NotRequired[list[str]]
    """Check ids whose errors do not fail the plan (each is printed on every plan)."""
    protect: NotRequired[bool]
    (
        "Production preset: the cloud cluster, buckets and encryption keys get Pulumi's `protect`, "
        "so `pulumi destroy` (or a replacement) fails until it is turned off."
    )


class OsmoBackendStackArgs(TypedDict):
    """One OSMO backend, configured as a stack file would configure it."""

    cluster: ClusterInputs
    (
        "The cluster the backend runs on; `kind` (existing, eks, gke, aks) chooses which keys "
        "apply. A key applies to every kind unless its description starts with the kinds it "
        "applies to; validation refuses the keys of another kind, by input path."
    )
    osmo: OsmoInputs
    """The OSMO connection."""
    operators: NotRequired[OperatorsInputs]
    """Operators."""
    monitoring: NotRequired[MonitoringInputs]
    """Monitoring and logging."""
    networking: NotRequired[NetworkingInputs]
    """Networking."""
    storage: NotRequired[StorageInputs]
    """Storage."""
    policy: NotRequired[PolicyInputs]
    """Explicit, named opt-outs from the security checks, and the production preset."""


CONFIG_KEYS: dict[str, dict[str, str]] = {
    "NodePoolInputs": {"disk_size_gib": "diskSizeGiB"},
    "WorkflowPolicyInputs": {
        "cluster_cidrs": "clusterCIDRs",
        "allowed_cidrs": "allowedCIDRs",
        "blocked_cidrs": "blockedCIDRs",
        "reachable_cidrs": "reachableCIDRs",
    },
}
"""Per input type, the keys whose stack-config spelling is not the camelCase of the key
(`clusterCIDRs`, not `clusterCidrs`)."""
