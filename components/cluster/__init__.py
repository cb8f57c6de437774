"""Cluster components. Each kind returns the same `ClusterHandle`.

Cloud kinds live in their own modules (`components.cluster.eks`), imported only by stacks that
use them: the cloud SDKs take seconds to import.
"""

from components.cluster.base import ClusterHandle, NodeRole
from components.cluster.existing import ExistingCluster

__all__ = ["ClusterHandle", "ExistingCluster", "NodeRole"]
