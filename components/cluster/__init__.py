"""Cluster components. Each kind returns the same `ClusterHandle`."""

from components.cluster.base import ClusterHandle, NodeRole
from components.cluster.existing import ExistingCluster

__all__ = ["ClusterHandle", "ExistingCluster", "NodeRole"]
