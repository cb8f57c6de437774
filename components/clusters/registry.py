"""The cluster kinds, registered in one place.

Each kind is a folder `components/clusters/<kind>/` with `config.py` (its spec type and `parse`),
and `cluster.py` (`build`: its component); its config model is also its branch of the stack file's
JSON Schema. Adding a kind is one folder plus its lines here. The component modules are
imported only when used: a component imports its cloud SDK (`sdk`), which takes seconds, and
`osmo-backend validate` imports none.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from components._validate import Problems, show
from components.clusters.aks import config as aks
from components.clusters.eks import config as eks
from components.clusters.existing import config as existing
from components.clusters.gke import config as gke
from components.config._common import KUBECONFIG_SECRET_KEY
from components.config._model import PROJECT, Ctx, section_body
from components.config._rules import PoolRow
from components.config.operators import OperatorsSpec

if TYPE_CHECKING:
    import pulumi

    from components.clusters.base import ClusterHandle

ClusterKind = Literal["existing", "eks", "gke", "aks"]


ClusterSpec = (
    existing.ExistingClusterSpec | eks.EksClusterSpec | gke.GkeClusterSpec | aks.AksClusterSpec
)


class ClusterComponent(Protocol):
    """What every kind's component gives the backend."""

    @property
    def handle(self) -> "ClusterHandle": ...

    @property
    def kubeconfig(self) -> "pulumi.Output[str]": ...


@dataclass(frozen=True)
class Kind:
    """One cluster kind: how its config is read and where its component lives."""

    kind: ClusterKind
    spec: type
    """Its validated config (`<kind>/config.py`)."""
    parse: Callable[[Problems, Mapping[str, Any], Ctx], Any]
    """`cluster` section -> spec, or None with the problems added."""
    package: str
    """Its folder as a module: `.cluster` has `build`."""
    sdk: str | None = None
    """The cloud provider SDK its component imports (lazily, with the component)."""
    article: str = ""
    """"an EKS": how messages name a stack of this kind."""
    knows_cidrs: Callable[[Any], bool] = field(default=lambda _spec: False)
    """The stack creates the network, so the networking section may check ranges against it."""
    check_operators: Callable[[Problems, Any, OperatorsSpec], None] | None = None
    """Rules between the cluster and the operators sections."""
    pool_rows: Callable[[Any], list[PoolRow]] | None = None
    """The pools the stack creates (None: an adopted cluster's node roles)."""
    pool_min_nodes: Callable[[Any], int] = field(default=lambda _pool: 0)
    """A created pool's minimum node count."""
    gpu_pool_labels: Mapping[str, str] = field(default_factory=dict[str, str])
    """Labels the kind puts on gpu pools besides every cloud pool's (`cluster.py` node_labels)."""

    @property
    def cloud(self) -> bool:
        """The stack creates the cluster (and its network) with a cloud SDK; else it adopts one."""
        return self.sdk is not None


KINDS: Mapping[ClusterKind, Kind] = {
    "existing": Kind(
        "existing", existing.ExistingClusterSpec, existing.parse, "components.clusters.existing"
    ),
    "eks": Kind(
        "eks",
        eks.EksClusterSpec,
        eks.parse,
        "components.clusters.eks",
        sdk="pulumi_aws",
        article="an EKS",
        knows_cidrs=eks.knows_cidrs,
        pool_rows=eks.pool_rows,
        pool_min_nodes=eks.pool_min_nodes,
    ),
    "gke": Kind(
        "gke",
        gke.GkeClusterSpec,
        gke.parse,
        "components.clusters.gke",
        sdk="pulumi_gcp",
        article="a GKE",
        knows_cidrs=gke.knows_cidrs,
        check_operators=gke.check_operators,
        pool_rows=gke.pool_rows,
        pool_min_nodes=gke.pool_min_nodes,
        gpu_pool_labels={gke.NO_DEFAULT_DEVICE_PLUGIN: "true"},
    ),
    "aks": Kind(
        "aks",
        aks.AksClusterSpec,
        aks.parse,
        "components.clusters.aks",
        sdk="pulumi_azure_native",
        article="an AKS",
        knows_cidrs=aks.knows_cidrs,
        check_operators=aks.check_operators,
        pool_rows=aks.pool_rows,
        pool_min_nodes=aks.pool_min_nodes,
    ),
}
"""Every kind, in the order messages and the JSON Schema list them."""


CLUSTER_KINDS: tuple[ClusterKind, ...] = get_args(ClusterKind)
assert tuple(KINDS) == CLUSTER_KINDS, "ClusterKind and KINDS list the same kinds, in order"


def parse_cluster(problems: Problems, value: Any, ctx: Ctx) -> ClusterSpec | None:
    """`osmo-backend:cluster`: its `kind` picks the parser."""
    path = f"{PROJECT}:cluster"
    body = section_body(problems, "cluster", value, needs="`kind` and `name`")
    if body is None:
        return None

    kind = body.get("kind")
    if kind is None:
        problems.required(f"{path}.kind", f"is required (one of: {', '.join(CLUSTER_KINDS)})")
        return None
    if kind not in KINDS:
        problems.add(f"{path}.kind", f"{show(kind)} is not one of: {', '.join(CLUSTER_KINDS)}")
        return None
    entry = KINDS[kind]
    if entry.cloud and ctx.raw.get(KUBECONFIG_SECRET_KEY) is not None:
        problems.add(
            KUBECONFIG_SECRET_KEY,
            f"is for kind existing; {entry.article} stack makes its own (exec-based) kubeconfig",
        )
    return entry.parse(problems, body, ctx)


def build_cluster(
    name: str,
    spec: ClusterSpec,
    default_storage_class: str | None,
    kubeconfig: "pulumi.Input[str] | None",
    opts: "pulumi.ResourceOptions",
) -> ClusterComponent:
    """The kind's component (`<kind>/cluster.py` `build`), its module imported only now."""
    module = importlib.import_module(f"{KINDS[spec.kind].package}.cluster")
    build: Callable[..., ClusterComponent] = module.build
    return build(name, spec, default_storage_class, kubeconfig, opts)
