"""Adopting an existing (on-prem or hand-built) cluster from a kubeconfig.

Nothing is created in or around the cluster except, when the stack lists node names per role,
server-side-apply patches that label those nodes (and taint GPU nodes).

Taints are one atomic list under server-side apply. The node patch applies the whole list it
owns and never forces: if another field manager (kubelet `--register-with-taints`, `kubectl taint`)
already set a different taint list on that node, `pulumi up` fails with a conflict naming that
manager instead of silently replacing its taints. On delete the patch releases its fields: labels
and taints this stack alone set are removed; values another manager also set stay.
"""

from collections.abc import Mapping
from typing import NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.core.v1 import NodeSpecPatchArgsDict, TaintPatchArgsDict
from pulumi_kubernetes.meta.v1 import ObjectMetaPatchArgsDict

from components.clusters.base import GPU_TAINT, ClusterHandle, NodeRole, role_tolerations
from components.clusters.existing.config import ExistingClusterSpec, NodeRoleSpec
from components.config import Role

TYPE = "osmo-backend:index:ExistingCluster"


class ExistingClusterArgs(TypedDict):
    """Inputs for ExistingCluster (validated by `components.config` first)."""

    spec: ExistingClusterSpec
    """Validated cluster config: name, checked kubeconfig, node roles, GPU stack profile."""
    default_storage_class: NotRequired[str | None]
    """StorageClass for in-cluster state (`storage.storageClass`). Default: None, the
    cluster's own default class."""
    kubeconfig: NotRequired[pulumi.Input[str]]
    """Kubeconfig content the program computes (the package's `cluster.kubeconfigContent`),
    checked when known. Default: `spec.kubeconfig.content`."""


def node_patch_body(
    role: NodeRoleSpec, node: str
) -> tuple[ObjectMetaPatchArgsDict, NodeSpecPatchArgsDict | None]:
    """Metadata and spec of the server-side-apply patch that puts `node` into `role`.

    Only GPU nodes get a spec: the patch then owns the (atomic) taint list; other roles leave
    taints entirely to whoever manages them.
    """
    metadata: ObjectMetaPatchArgsDict = {"name": node, "labels": dict(role.selector)}
    if role.role != "gpu":
        return metadata, None
    taint: TaintPatchArgsDict = {
        "key": GPU_TAINT["key"],
        "value": GPU_TAINT["value"],
        "effect": GPU_TAINT["effect"],
    }
    return metadata, {"taints": [taint]}


class ExistingCluster(pulumi.ComponentResource):
    """An existing Kubernetes cluster adopted through its kubeconfig."""

    handle: ClusterHandle
    """The uniform cluster handle (provider, kubeconfig secret, node roles)."""
    kubeconfig: pulumi.Output[str]
    """The minified kubeconfig, secret."""

    def __init__(
        self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        child = pulumi.ResourceOptions(parent=self)

        self.kubeconfig = pulumi.Output.secret(args.get("kubeconfig", spec.kubeconfig.content))
        provider = k8s.Provider(
            f"{name}-k8s",
            kubeconfig=self.kubeconfig,
            cluster_identifier=spec.name,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(additional_secret_outputs=["kubeconfig"])
            ),
        )
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        for role in spec.node_roles:
            for node in role.nodes:
                metadata, node_spec = node_patch_body(role, node)
                k8s.core.v1.NodePatch(
                    f"{name}-node-{node}",
                    metadata=metadata,
                    spec=node_spec,
                    opts=on_cluster,
                )

        roles: Mapping[Role, NodeRole] = {
            r.role: NodeRole(selector=dict(r.selector), tolerations=role_tolerations(r.role))
            for r in spec.node_roles
        }
        self.handle = ClusterHandle(
            name=spec.name,
            kind="existing",
            identifier=spec.name,
            kubeconfig=self.kubeconfig,
            provider=provider,
            node_roles=roles,
            gpu_stack=spec.gpu_stack,
            default_storage_class=args.get("default_storage_class"),
        )
        self.register_outputs({"kubeconfig": self.kubeconfig})


def build(
    name: str,
    spec: ExistingClusterSpec,
    default_storage_class: str | None,
    kubeconfig: pulumi.Input[str] | None,
    opts: pulumi.ResourceOptions,
) -> ExistingCluster:
    """The registry's factory (components.clusters.registry)."""
    args: ExistingClusterArgs = {"spec": spec, "default_storage_class": default_storage_class}
    if kubeconfig is not None:
        args["kubeconfig"] = kubeconfig
    return ExistingCluster(name, args, opts)
