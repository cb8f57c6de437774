"""`OsmoBackend`: the composition of one OSMO backend cluster (DESIGN section 2).

Dependencies between the parts are wired here, in one place. This issue composes the cluster;
the operator layer, connection, storage, networking and monitoring plug in below it.
"""

from typing import TypedDict

import pulumi

from components.cluster import ClusterHandle, ExistingCluster
from components.config import StackSpec

TYPE = "osmo-backend:index:OsmoBackend"


class OsmoBackendArgs(TypedDict):
    """Inputs for OsmoBackend."""

    spec: StackSpec
    """The validated stack config (`components.config.load_spec`)."""


class OsmoBackend(pulumi.ComponentResource):
    """One OSMO backend: a cluster and everything OSMO needs on it."""

    cluster: ClusterHandle
    cluster_name: pulumi.Output[str]
    backend_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """Secret."""

    def __init__(
        self, name: str, args: OsmoBackendArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        cluster = ExistingCluster(
            f"{name}-cluster", {"spec": spec.cluster}, pulumi.ResourceOptions(parent=self)
        )
        self.cluster = cluster.handle
        self.cluster_name = pulumi.Output.from_input(spec.cluster.name)
        self.backend_name = pulumi.Output.from_input(spec.osmo.backend_name)
        self.kubeconfig = cluster.kubeconfig
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "backend_name": self.backend_name,
                "kubeconfig": self.kubeconfig,
            }
        )
