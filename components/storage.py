"""Workflow data storage reached through workload identity: the ServiceAccount workflow pods run
as, and the pod template that puts them on it.

The bucket and its cloud identity come from the cluster kind (`ClusterHandle.workflow_bucket`):
S3 with an IRSA role on EKS, GCS with a Google service account on GKE, a storage account with a
federated identity on AKS. OSMO itself (its service and the workflow pods' `osmo data` calls)
reads workflow data with the bucket-scoped key the cluster kind also issues (a static
credential: keyless ones fail in workflow pods and are refused for gs://); the identity is for
anything else in workflow pods that uses the cloud SDK on that bucket.
"""

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.clusters.base import WorkflowBucket

USER_CONTAINER = "{{USER_CONTAINER_NAME}}"
"""OSMO's pod template variable for the user container's name: the service renders every string
of a pod template through it (NVIDIA/OSMO src/utils/job/task.py: `jinja_variables
['USER_CONTAINER_NAME']`, `substitute_pod_template_tokens`; documented in
docs/deployment_guide/advanced_config/pod_template.rst). OSMO's own containers are `osmo-ctrl`
and `osmo-init`."""
EKS_SKIP_CONTAINERS = "eks.amazonaws.com/skip-containers"
"""IRSA webhook pod annotation: comma-separated containers that get no token volume and no
AWS_ROLE_ARN (aws/amazon-eks-pod-identity-webhook README.md)."""
AKS_SKIP_CONTAINERS = "azure.workload.identity/skip-containers"
"""Azure workload identity webhook pod annotation: semicolon-separated containers that get no
projected token (Azure/azure-workload-identity docs, service account labels and annotations)."""


def identity_template_name(backend: str) -> str:
    return f"{backend}-workflow-identity"


def identity_pod_template(bucket: WorkflowBucket) -> dict[str, Any]:
    """The pod template that runs workflow pods as the bound ServiceAccount (and, on AKS, with
    the label the workload identity webhook looks for), with the annotation that keeps the
    identity out of the user container where the cloud's webhook has one (EKS, AKS; GKE's
    metadata server serves every container of the pod)."""
    template: dict[str, Any] = {"spec": {"serviceAccountName": bucket.spec.service_account}}
    metadata: dict[str, Any] = {}
    if bucket.pod_labels:
        metadata["labels"] = dict(bucket.pod_labels)
    if bucket.pod_annotations:
        metadata["annotations"] = dict(bucket.pod_annotations)
    if metadata:
        template["metadata"] = metadata
    return template


def workflow_service_account(
    name: str,
    bucket: WorkflowBucket,
    namespace: k8s.core.v1.Namespace,
    opts: pulumi.ResourceOptions,
) -> k8s.core.v1.ServiceAccount:
    """The ServiceAccount in the workflow namespace, annotated with its cloud identity."""
    return k8s.core.v1.ServiceAccount(
        name,
        metadata={
            "name": bucket.spec.service_account,
            "namespace": namespace.metadata.name,
            "annotations": dict(bucket.annotations),
            "labels": {"app.kubernetes.io/managed-by": "osmo-backend"},
        },
        opts=opts,
    )
