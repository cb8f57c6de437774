"""The uniform cluster handle every cluster kind returns (DESIGN section 2).

Components downstream of the cluster (operator layer, storage, monitoring, connection) read only
this handle; they never look at which kind of cluster produced it.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import yaml

from components.config import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_TYPE_LABEL,
    BucketSpec,
    ClusterKind,
    GpuStackSpec,
    Role,
)
from components.config._rules import POOL_LABEL, Taint
from components.config.storage import BUCKET_SUFFIX_LENGTH, suffixed_bucket_name


@dataclass(frozen=True)
class NodeRole:
    """How pods of one OSMO node role reach their nodes."""

    selector: Mapping[str, str]
    """Node selector for pods of this role (for example `{node-type: gpu}`)."""
    tolerations: tuple[Mapping[str, str], ...] = ()
    """Tolerations pods of this role need (the GPU taint on gpu nodes)."""


GPU_TOLERATION: Mapping[str, str] = {
    "key": GPU_TAINT_KEY,
    "operator": "Exists",
    "effect": GPU_TAINT_EFFECT,
}
GPU_TAINT: Mapping[str, str] = {
    "key": GPU_TAINT_KEY,
    "value": GPU_TAINT_VALUE,
    "effect": GPU_TAINT_EFFECT,
}


def role_tolerations(role: Role) -> tuple[Mapping[str, str], ...]:
    """Tolerations OSMO's pods need for a role's nodes: GPU nodes carry the GPU taint."""
    return (GPU_TOLERATION,) if role == "gpu" else ()


@dataclass(frozen=True)
class NodePool:
    """One pool of nodes a cloud cluster creates, as OSMO's per-pool platform reaches it."""

    name: str
    role: Role
    selector: Mapping[str, str]
    """Node labels only this pool's nodes carry: `node-type=<role>` and `osmo.nvidia.com/pool`."""
    tolerations: tuple[Mapping[str, str], ...] = ()
    """Every taint of the pool's nodes: the GPU taint (gpu pools), the cloud's spot taint
    (AKS spot pools) and the pool's own extra taints."""


def pool_node_labels(name: str, role: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The Kubernetes labels of a pool's nodes, set at node creation: the pool's extra labels,
    then this stack's own (which validation keeps the extra ones from naming)."""
    labels = {**extra, NODE_TYPE_LABEL: role, POOL_LABEL: name}
    if role == "gpu":
        labels[GPU_TAINT_KEY] = GPU_TAINT_VALUE
    return labels


API_TAINT_EFFECTS = {
    "NoSchedule": "NO_SCHEDULE",
    "PreferNoSchedule": "PREFER_NO_SCHEDULE",
    "NoExecute": "NO_EXECUTE",
}
"""Kubernetes taint effects as the EKS and GKE APIs spell them (EKS Taint.effect, GKE
NodeTaint.Effect)."""


def api_taints(role: str, taints: Sequence[Taint]) -> list[tuple[str, str, str]]:
    """`(key, value, effect)` of a pool's taints in the EKS/GKE API's spelling: the GPU taint on
    gpu pools, then the pool's extra taints."""
    gpu = [(GPU_TAINT_KEY, GPU_TAINT_VALUE, "NO_SCHEDULE")] if role == "gpu" else []
    return [*gpu, *((t.key, t.value, API_TAINT_EFFECTS[t.effect]) for t in taints)]


def node_pool(
    name: str,
    role: Role,
    taints: Sequence[Taint],
    cloud_tolerations: Sequence[Mapping[str, str]] = (),
) -> NodePool:
    """A pool's selector and the tolerations of all of its taints."""
    return NodePool(
        name=name,
        role=role,
        selector={NODE_TYPE_LABEL: role, POOL_LABEL: name},
        tolerations=(
            *role_tolerations(role),
            *cloud_tolerations,
            *(t.toleration() for t in taints),
        ),
    )


def pool_roles(pools: Iterable[NodePool]) -> dict[Role, NodeRole]:
    """OSMO's roles a cloud cluster's pools provide, selected by their `node-type` label; a
    role's pods tolerate the taints of every pool of the role."""
    tolerations: dict[Role, list[Mapping[str, str]]] = {}
    for pool in pools:
        seen = tolerations.setdefault(pool.role, [])
        seen.extend(t for t in pool.tolerations if t not in seen)
    return {
        role: NodeRole(selector={NODE_TYPE_LABEL: role}, tolerations=tuple(tolerations[role]))
        for role in ("operator", "compute", "gpu")
        if role in tolerations
    }


def gpu_daemonset_values(roles: Mapping[Role, NodeRole]) -> dict[str, Any]:
    """GPU Operator values for GPU nodes with taints besides the GPU taint (the chart's
    daemonsets and NFD worker tolerate only that one by default): both tolerate every GPU
    pool's taints (setting the lists replaces the chart's defaults). Empty otherwise."""
    gpu = roles.get("gpu")
    if gpu is None or list(gpu.tolerations) == [GPU_TOLERATION]:
        return {}
    tolerations = [dict(t) for t in gpu.tolerations]
    return {
        "daemonsets": {"tolerations": tolerations},
        "node-feature-discovery": {"worker": {"tolerations": tolerations}},
    }


def cloud_labels(cluster: str, tags: Mapping[str, str] | None = None) -> dict[str, str]:
    """Labels (GCP) and tags (Azure) on every cloud resource of a stack: the stack's
    cost-allocation `tags` and its own, in key syntax both clouds accept. (EKS uses AWS default
    tags, which allow `/`.)"""
    return {**(tags or {}), "osmo-backend-cluster": cluster, "managed-by": "pulumi"}


def exec_kubeconfig_yaml(name: str, cluster: Mapping[str, Any], user: Mapping[str, Any]) -> str:
    """A one-context kubeconfig whose user runs an exec credential plugin (no static secret)."""
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": dict(cluster)}],
            "users": [{"name": name, "user": {"exec": dict(user)}}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
        },
        sort_keys=True,
    )


class WorkloadIdentityBinder(Protocol):
    """`(suffix, namespace, service_account, grants) -> identity to annotate with`: grants are
    IAM policy ARNs on EKS, project roles on GKE."""

    def __call__(
        self,
        suffix: str,
        namespace: str,
        service_account: str,
        grants: Sequence[pulumi.Input[str]],
    ) -> pulumi.Output[str]: ...


@dataclass(frozen=True)
class WorkflowBucket:
    """A workflow data bucket in the cluster's cloud and the identity workflow pods reach it with
    (made by the cluster kind; the Connection creates the ServiceAccount and the service side's
    wiring from it)."""

    uri: pulumi.Input[str]
    """`s3://<bucket>`, `gs://<bucket>` or `azure://<account>/<container>` (an output when the
    name has a random suffix)."""
    region: str
    spec: BucketSpec
    annotations: Mapping[str, pulumi.Input[str]] = field(
        default_factory=dict[str, pulumi.Input[str]]
    )
    """On the ServiceAccount: the cloud identity it federates into."""
    pod_labels: Mapping[str, str] = field(default_factory=dict[str, str])
    """On the workflow pods (AKS's webhook only injects tokens into labelled pods)."""
    pod_annotations: Mapping[str, str] = field(default_factory=dict[str, str])
    """On the workflow pods: which containers the identity webhook leaves without the token
    (OSMO's pod template variables are rendered in them)."""
    egress: tuple[tuple[str, str], ...] = ()
    """The object storage endpoints workflow pods reach (host, why) on TCP 443."""
    access_key_id: pulumi.Input[str] | None = None
    """The bucket-scoped key OSMO's static data credential holds: an AWS access key id, a GCS
    HMAC access id, or the Azure storage account name."""
    access_key: pulumi.Output[str] | None = field(default=None, repr=False)
    """Its secret (secret Output): the AWS secret key, the HMAC secret, or the Azure connection
    string with the account key."""


def workflow_bucket_name(
    resource_name: str, spec: BucketSpec, kind: str, parent: pulumi.Resource
) -> pulumi.Input[str]:
    """The workflow bucket's (or storage account's) name. Such names are global: with
    `randomSuffix` a suffix kept in state, so a name taken elsewhere, or still held by a bucket
    kept after destroy, cannot block a deployment."""
    if not spec.random_suffix:
        return spec.name
    return random.RandomString(
        resource_name,
        length=BUCKET_SUFFIX_LENGTH,
        special=False,
        upper=False,
        opts=pulumi.ResourceOptions(parent=parent),
    ).result.apply(lambda suffix: suffixed_bucket_name(kind, spec.name, suffix))


class WorkflowBucketFactory(Protocol):
    """`(spec, namespace) -> WorkflowBucket`: the bucket, its identity and the grants."""

    def __call__(self, spec: BucketSpec, namespace: str) -> WorkflowBucket: ...


@dataclass(frozen=True)
class ClusterHandle:
    """What every cluster kind hands to the rest of the stack."""

    name: str
    """Cluster name from stack config."""
    kind: ClusterKind
    identifier: str
    """Stable id given to the provider as `cluster_identifier` (re-issued credentials never
    replace the in-cluster resources)."""
    kubeconfig: pulumi.Output[str] = field(repr=False)
    """Kubeconfig content, always a Pulumi secret."""
    provider: k8s.Provider
    """The only Kubernetes provider for this cluster; children inherit it through `parent`."""
    node_roles: Mapping[Role, NodeRole]
    gpu_stack: GpuStackSpec
    """Who installs the NVIDIA driver and toolkit on GPU nodes (the GPU Operator or the host)."""
    deleted_with: pulumi.Resource | None = None
    """Cloud cluster resource that in-cluster resources set as `deleted_with`; None for adopted
    clusters, which outlive the stack."""
    default_storage_class: str | None = None
    """StorageClass for in-cluster state; None means the cluster's own default."""
    cluster_cidrs: tuple[str, ...] = ()
    """Node/pod and service CIDRs the cluster itself knows (cloud clusters); adopted clusters
    leave this empty and the stack config's `osmo:networkPolicy.clusterCIDRs` is required."""
    egress: tuple[tuple[str, str], ...] = ()
    """Cloud endpoints (host, why) the cluster's own nodes and add-ons reach on TCP 443."""
    bind_workload_identity: WorkloadIdentityBinder | None = field(default=None, repr=False)
    """Creates a cloud identity only the given service account can assume (IRSA on EKS, Workload
    Identity on GKE)."""
    gpu_operator_values: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """GPU Operator values this kind of cluster needs (GKE: CDI and the driver install paths)."""
    workflow_bucket: WorkflowBucketFactory | None = field(default=None, repr=False)
    """Creates a workflow data bucket with workload identity (cloud kinds only)."""
    volume_dependencies: tuple[pulumi.Resource, ...] = ()
    """What owners of cloud volumes (releases with PVCs, the lab object store) must wait for, so
    that destroy removes them while the nodes and the storage driver still run: the operator pool
    where the provider does not already wait for it, and the CSI driver where it is an add-on of
    its own (EKS's EBS CSI). Empty where the provider's own dependencies already cover it."""
    workload_dependencies: tuple[pulumi.Resource, ...] = ()
    """What every Helm release that runs pods waits for: the operator pool, where the provider
    does not already wait for it (a release cannot be ready before the pool runs its pods, and
    destroy must remove releases while the nodes still run). Never a GPU pool. Empty where the
    provider's own dependencies cover it (GKE, AKS's system pool) and on adopted clusters."""
    node_pools: tuple[NodePool, ...] = ()
    """The pools a cloud cluster creates, each one OSMO platform (compute and gpu pools);
    adopted clusters have roles only."""
    critical_pods_quota: bool = False
    """The GPU Operator's namespace needs a ResourceQuota admitting system-node-critical and
    system-cluster-critical pods (GKE admits them outside kube-system only with one)."""
