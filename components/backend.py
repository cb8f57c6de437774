"""`OsmoBackend`: the composition of one OSMO backend cluster (DESIGN section 2).

Dependencies between the parts are wired here, in one place:
cluster -> provider -> (connection || operator layer || monitoring). The backend-operator release
waits for the connection's namespaces, token Secret and pull secrets, for KAI (its CRDs) and, with
monitoring on, for the Prometheus Operator CRDs release (the PodMonitor CRD); the GPU Operator and
kube-prometheus-stack wait only for the latter (the DCGM ServiceMonitor), so they start in
parallel. Every release that runs pods waits for `cluster.workload_dependencies` (the operator
pool); owners of cloud volumes also wait for `cluster.volume_dependencies` (nodes and the storage
driver), so destroy removes them while both still run. Nothing waits for a GPU node.
"""

import dataclasses
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

import pulumi

from components import versions
from components.clusters.base import ClusterHandle, WorkflowBucket
from components.clusters.registry import ClusterComponent, build_cluster
from components.config import StackSpec, WorkflowDataSpec
from components.config.storage import ObjectStoreSpec
from components.connection import Connection
from components.monitoring import Monitoring
from components.networking import IngressController, egress_allowlist
from components.object_store import LabObjectStore, workflow_egress_rules
from components.operator import OperatorLayer

TYPE = "osmo-backend:index:OsmoBackend"


class OsmoBackendArgs(TypedDict):
    """Inputs for OsmoBackend."""

    spec: StackSpec
    """The validated stack config (`components.config.load_spec`)."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """An existing cluster's kubeconfig content when the program computes it (the package's
    `cluster.kubeconfigContent`), in place of `spec.cluster.kubeconfig.content`."""


class OsmoBackend(pulumi.ComponentResource):
    """One OSMO backend: a cluster and everything OSMO needs on it."""

    cluster: ClusterHandle
    workflow_bucket: WorkflowBucket | None
    """The workflow data bucket the stack created (storage.bucket), with its identity."""
    object_store: LabObjectStore | None
    """The lab object store (storage.objectStore) on an existing cluster."""
    connection: Connection
    operators: OperatorLayer
    monitoring: Monitoring | None
    ingress: IngressController | None
    grafana_url: str | None
    dashboard_url: str | None
    cluster_name: pulumi.Output[str]
    backend_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret."""
    egress_allowlist: list[dict[str, Any]]
    """Destinations (host, port, purpose) the backend's nodes and pods reach."""
    service_values: dict[str, Any]
    """What the OSMO service needs for this backend (plain data; Secrets by name only)."""

    def __init__(
        self, name: str, args: OsmoBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        cluster = _cluster(
            name,
            spec,
            args.get("kubeconfig"),
            pulumi.ResourceOptions(
                parent=self, transformations=_protected() if spec.policy.protect else None
            ),
        )
        self.cluster = cluster.handle
        spec = _with_cluster_facts(spec, self.cluster)
        on_cluster = pulumi.ResourceOptions(
            parent=self,
            providers={"kubernetes": self.cluster.provider},
            transformations=[
                *_deleted_with(self.cluster.deleted_with, _artifact_namespaces(spec)),
                *_volume_owners_wait(self.cluster.volume_dependencies, _volume_namespaces(spec)),
            ],
        )

        self.monitoring = None
        if spec.monitoring.enabled:
            self.monitoring = Monitoring(
                f"{name}-monitoring",
                {
                    "spec": spec.monitoring,
                    "cluster": self.cluster,
                    "operator_namespace": spec.osmo.namespaces.operator,
                    "ingress": spec.networking.ingress,
                },
                on_cluster,
            )
        monitoring = self.monitoring
        self.grafana_url = monitoring.grafana_url if monitoring else None
        self.dashboard_url = monitoring.dashboard_url if monitoring else None
        bucket_spec, make_bucket = spec.storage.bucket, self.cluster.workflow_bucket
        self.workflow_bucket = (
            make_bucket(bucket_spec, spec.osmo.namespaces.workflows)
            if bucket_spec is not None and make_bucket is not None
            else None
        )
        workflow_data, data_keys = spec.storage.workflow_data, None
        self.object_store = None
        store = spec.storage.object_store
        if store is not None:
            self.object_store = LabObjectStore(
                f"{name}-object-store",
                {
                    "spec": store,
                    "workflow_namespace": spec.osmo.namespaces.workflows,
                    "ingress": spec.networking.ingress,
                },
                on_cluster,
            )
            workflow_data = lab_workflow_data(store)
            data_keys = (self.object_store.access_key_id, self.object_store.secret_access_key)
        self.connection = Connection(
            f"{name}-connection",
            {
                "osmo": spec.osmo,
                "cluster": self.cluster,
                "workflow_data": workflow_data,
                "workflow_data_keys": data_keys,
                "workflow_bucket": self.workflow_bucket,
                "grafana_url": self.grafana_url,
                "dashboard_url": self.dashboard_url,
                "isolate_workflows": spec.networking.workflow_policy.isolate_workflows,
            },
            on_cluster,
        )
        connection = self.connection
        needs = [
            connection.operator_namespace,
            connection.workflow_namespace,
            *([connection.test_namespace] if connection.test_namespace else []),
            *([connection.token_secret] if connection.token_secret else []),
            *connection.pull_secrets,
        ]
        self.operators = OperatorLayer(
            f"{name}-operators",
            {
                "osmo": spec.osmo,
                "operators": spec.operators,
                "cluster": self.cluster,
                "backend_operator_depends_on": needs,
                "networking": spec.networking,
                "monitoring_crds": [monitoring.crds] if monitoring else [],
            },
            on_cluster,
        )

        self.cluster_name = pulumi.Output.from_input(spec.cluster.name)
        self.backend_name = pulumi.Output.from_input(spec.osmo.backend_name)
        self.kubeconfig = cluster.kubeconfig
        self.service_values = connection.service_values
        bucket_egress = self.workflow_bucket.egress if self.workflow_bucket else ()
        self.egress_allowlist = egress_allowlist(
            spec.osmo,
            spec.operators,
            spec.monitoring,
            spec.networking,
            (*self.cluster.egress, *bucket_egress),
            workflow_data=spec.storage.workflow_data,
        )
        self.ingress = None
        if spec.networking.ingress is not None:
            self.ingress = IngressController(
                f"{name}-ingress",
                {"spec": spec.networking.ingress, "cluster": self.cluster},
                on_cluster,
            )
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "backend_name": self.backend_name,
                "kubeconfig": self.kubeconfig,
            }
        )


def _cluster(
    name: str,
    spec: StackSpec,
    kubeconfig: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> ClusterComponent:
    # The registry imports the kind's component (and its cloud SDK) only now: cloud SDKs take
    # seconds to import and other stacks never need them.
    return build_cluster(
        f"{name}-cluster", spec.cluster, spec.storage.storage_class, kubeconfig, opts
    )


def lab_workflow_data(store: ObjectStoreSpec) -> WorkflowDataSpec:
    """The workflow data settings for the lab object store (path-style, MinIO's region); the
    keys are the store's generated root credentials, passed separately."""
    return WorkflowDataSpec(
        uri=f"s3://{store.bucket}",
        endpoint=store.url,
        region="us-east-1",
        addressing_style="path",
        also_logs=store.also_logs,
    )


def _with_cluster_facts(spec: StackSpec, cluster: ClusterHandle) -> StackSpec:
    """Fill what a cloud cluster knows and the config left out: the workflow policy's cluster
    CIDRs (the VPC and service ranges); and let workflow pods reach the lab object store at the
    address OSMO hands them, and nothing else of it."""
    policy = spec.networking.workflow_policy
    if not policy.cluster_cidrs and cluster.cluster_cidrs:
        policy = policy.model_copy(update={"cluster_cidrs": cluster.cluster_cidrs})
    store = spec.storage.object_store
    if store is not None:
        rules = workflow_egress_rules(store, spec.networking.ingress)
        policy = policy.model_copy(
            update={"extra_egress_rules": (*policy.extra_egress_rules, *rules)}
        )
    networking = spec.networking.model_copy(update={"workflow_policy": policy})
    return dataclasses.replace(spec, networking=networking)


PROTECTED_TYPES = frozenset(
    {
        "aws:eks/cluster:Cluster",
        "aws:kms/key:Key",
        "aws:s3/bucket:Bucket",
        "gcp:container/cluster:Cluster",
        "gcp:kms/cryptoKey:CryptoKey",
        "gcp:storage/bucket:Bucket",
        "azure-native:containerservice:ManagedCluster",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
        "azure-native:storage:StorageAccount",
    }
)
"""What `policy.protect` guards: the cloud cluster and the resources holding data or keys."""


def _protected() -> list[pulumi.ResourceTransformation]:
    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in PROTECTED_TYPES:
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(protect=True))
        return pulumi.ResourceTransformationResult(args.props, opts)

    return [transform]


VOLUME_CHARTS = frozenset({versions.KUBE_PROMETHEUS_STACK.chart, versions.LOKI.chart})
"""Releases whose pods claim cloud volumes (Prometheus, Alertmanager and Grafana; Loki)."""
CLOUD_ARTIFACT_CHARTS = VOLUME_CHARTS | {versions.TRAEFIK.chart}
"""Releases that own cloud artifacts: PVC-backed volumes and a LoadBalancer Service (Traefik)."""


def _volume_namespaces(spec: StackSpec) -> frozenset[str]:
    """Namespaces holding claims: deleting one deletes its PVCs, and with them their volumes."""
    store = spec.storage.object_store
    monitoring = [spec.monitoring.namespace] if spec.monitoring.enabled else []
    return frozenset({*monitoring, *([store.namespace] if store else [])})


def _artifact_namespaces(spec: StackSpec) -> frozenset[str]:
    """Namespaces holding claims and LoadBalancer Services."""
    ingress = spec.networking.ingress
    return _volume_namespaces(spec) | {
        spec.monitoring.namespace,
        *([ingress.namespace] if ingress else []),
    }


def _metadata_name(props: Any) -> Any:
    metadata: Any = props.get("metadata")
    return metadata.get("name") if isinstance(metadata, dict) else None  # pyright: ignore[reportUnknownMemberType]


def _owns_volumes(type_: str, props: Any, volume_namespaces: frozenset[str]) -> bool:
    """A release of a volume chart, a PVC, or a namespace holding claims."""
    if type_ == "kubernetes:helm.sh/v3:Release":
        return props.get("chart") in VOLUME_CHARTS
    if type_ == "kubernetes:core/v1:Namespace":
        return _metadata_name(props) in volume_namespaces
    return type_ == "kubernetes:core/v1:PersistentVolumeClaim"


def _volume_owners_wait(
    dependencies: Sequence[pulumi.Resource], volume_namespaces: frozenset[str]
) -> list[pulumi.ResourceTransformation]:
    """Owners of cloud volumes depend on what deletes their volumes: the nodes (where the CSI
    node plugin detaches them) and the storage driver (the CSI controller that deletes them).
    The engine deletes in reverse dependency order (pulumi/pulumi pkg/resource/deploy: deletes
    are scheduled so that a resource goes before everything it depends on), so these owners go
    while nodes and driver still run; otherwise the disks outlive `pulumi destroy`."""
    if not dependencies:
        return []

    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if not _owns_volumes(args.type_, args.props, volume_namespaces):
            return None
        opts = pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(depends_on=list(dependencies))
        )
        return pulumi.ResourceTransformationResult(args.props, opts)

    return [transform]


def _deleted_with(
    cluster: pulumi.Resource | None, artifact_namespaces: frozenset[str]
) -> list[pulumi.ResourceTransformation]:
    """Resources on a cloud cluster go with the cluster (`deleted_with`: no delete call of their
    own), except what owns cloud artifacts that must be cleaned up before the network goes
    (DESIGN section 6): the releases owning volumes or load balancers and their namespaces.
    Resources with an explicit provider (the control plane's Secrets) are left alone."""
    if cluster is None:
        return []

    def transform(
        args: pulumi.ResourceTransformationArgs,
    ) -> pulumi.ResourceTransformationResult | None:
        if not args.type_.startswith("kubernetes:") or args.opts.provider is not None:
            return None
        if args.type_ == "kubernetes:helm.sh/v3:Release" and args.props.get("chart") in (
            CLOUD_ARTIFACT_CHARTS
        ):
            return None
        if args.type_ == "kubernetes:core/v1:PersistentVolumeClaim":
            return None
        name = _metadata_name(args.props)
        if args.type_ == "kubernetes:core/v1:Namespace" and name in artifact_namespaces:
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions(deleted_with=cluster))
        return pulumi.ResourceTransformationResult(args.props, opts)

    return [transform]
