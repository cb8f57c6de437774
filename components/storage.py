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

from components.cluster.base import WorkflowBucket


def identity_template_name(backend: str) -> str:
    return f"{backend}-workflow-identity"


def identity_pod_template(bucket: WorkflowBucket) -> dict[str, Any]:
    """The pod template that runs workflow pods as the bound ServiceAccount (and, on AKS, with
    the label the workload identity webhook looks for)."""
    template: dict[str, Any] = {"spec": {"serviceAccountName": bucket.spec.service_account}}
    if bucket.pod_labels:
        template["metadata"] = {"labels": dict(bucket.pod_labels)}
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
