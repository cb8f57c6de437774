"""Workflow data storage reached through workload identity: the ServiceAccount workflow pods run
as, and what the OSMO service needs to use the bucket and that account.

The bucket and its cloud identity come from the cluster kind (`ClusterHandle.workflow_bucket`):
S3 with an IRSA role on EKS, GCS with a Google service account on GKE, a storage account with a
federated identity on AKS. No static key exists anywhere: the service-side credential names only
the bucket and region (OSMO's default data credential), and workflow pods reach the bucket as
the ServiceAccount, wired in through a pod template in the pool's common templates.
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


def identity_storage_values(bucket: WorkflowBucket) -> dict[str, Any]:
    """Service-side `configs.workflow` for a bucket reached with workload identity: a credential
    with no keys (OSMO's default data credential), so nothing secret is referenced."""
    credential = {"credential": {"endpoint": bucket.uri, "region": bucket.region}}
    workflow: dict[str, Any] = {"workflow_data": {**credential, "base_url": bucket.uri}}
    if bucket.spec.also_logs:
        workflow["workflow_log"] = {"credential": dict(credential["credential"])}
        workflow["workflow_app"] = {"credential": dict(credential["credential"])}
    return {"workflow": workflow}


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
