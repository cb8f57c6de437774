"""The cluster kinds, registered in one place.

Each kind is a folder `components/clusters/<kind>/` with `config.py` (its config model),
and `cluster.py` (`build`: its component); its config model is also its branch of the stack file's
JSON Schema. Adding a kind is one folder plus its lines here. The component modules are
imported only when used: a component imports its cloud SDK (`sdk`), which takes seconds, and
`osmo-backend validate` imports none.
"""

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args

from components._validate import Problems, show
from components.config._common import KUBECONFIG_SECRET_KEY
from components.config._model import PROJECT, Ctx, section_body, validate
from components.config._rules import PoolRow
from components.config.operators import OperatorsSpec

if TYPE_CHECKING:
    import pulumi

    from components.clusters.aks.config import AksClusterSpec
    from components.clusters.base import ClusterHandle
    from components.clusters.eks.config import EksClusterSpec
    from components.clusters.existing.config import ExistingClusterSpec
    from components.clusters.gke.config import GkeClusterSpec

    ClusterSpec = ExistingClusterSpec | EksClusterSpec | GkeClusterSpec | AksClusterSpec

ClusterKind = Literal["existing", "eks", "gke", "aks"]


def __getattr__(name: str) -> Any:
    """`ClusterSpec` at run time: the union of the kinds' models (imports every kind)."""
    if name == "ClusterSpec":
        from typing import Union

        return Union[tuple(k.spec for k in KINDS.values())]  # noqa: UP007 - built at run time
    raise AttributeError(name)


class ClusterComponent(Protocol):
    """What every kind's component gives the backend."""

    @property
    def handle(self) -> "ClusterHandle": ...

    @property
    def kubeconfig(self) -> "pulumi.Output[str]": ...


def _no_min(_pool: Any) -> int:
    return 0


@dataclass(frozen=True)
class Kind:
    """One cluster kind: its folder, its config model and its component. The folder's modules are
    imported when first used, so a stack loads only its own kind's config (`osmo-backend
    validate` stays fast) and its own component's cloud SDK (seconds)."""

    kind: ClusterKind
    spec_name: str
    """Its config model in `<package>.config`."""
    sdk: str | None = None
    """The cloud provider SDK its component imports (lazily, with the component)."""
    article: str = ""
    """"an EKS": how messages name a stack of this kind."""

    @property
    def package(self) -> str:
        """Its folder as a module: `.config` has the model and `parse`, `.cluster` has `build`."""
        return f"components.clusters.{self.kind}"

    @cached_property
    def config(self) -> ModuleType:
        return importlib.import_module(f"{self.package}.config")

    @property
    def spec(self) -> type:
        """Its validated config (`<kind>/config.py`)."""
        return getattr(self.config, self.spec_name)

    def parse(self, problems: Problems, body: Mapping[str, Any], ctx: Ctx) -> Any:
        """`cluster` section -> spec, or None with the problems added."""
        return validate(problems, f"{PROJECT}:cluster", self.spec, body, ctx)

    def knows_cidrs(self, spec: Any) -> bool:
        """The stack creates the network (a cloud kind's `network` unless you bring your own), so
        the networking section may check ranges against it."""
        return self.cloud and not spec.network.bring_your_own

    @property
    def check_operators(self) -> Callable[[Problems, Any, OperatorsSpec], None] | None:
        """Rules between the cluster and the operators sections."""
        return getattr(self.config, "check_operators", None)

    @property
    def pool_rows(self) -> Callable[[Any], list[PoolRow]] | None:
        """The pools the stack creates (None: an adopted cluster's node roles)."""
        return getattr(self.config, "pool_rows", None)

    @property
    def pool_min_nodes(self) -> Callable[[Any], int]:
        """A created pool's minimum node count."""
        return getattr(self.config, "pool_min_nodes", _no_min)

    @property
    def gpu_pool_labels(self) -> Mapping[str, str]:
        """Labels the kind puts on gpu pools besides every cloud pool's (`cluster.py`
        node_labels)."""
        return getattr(self.config, "GPU_POOL_LABELS", {})

    @property
    def cloud(self) -> bool:
        """The stack creates the cluster (and its network) with a cloud SDK; else it adopts one."""
        return self.sdk is not None


KINDS: Mapping[ClusterKind, Kind] = {
    "existing": Kind("existing", "ExistingClusterSpec"),
    "eks": Kind("eks", "EksClusterSpec", sdk="pulumi_aws", article="an EKS"),
    "gke": Kind("gke", "GkeClusterSpec", sdk="pulumi_gcp", article="a GKE"),
    "aks": Kind("aks", "AksClusterSpec", sdk="pulumi_azure_native", article="an AKS"),
}
"""Every kind, in the order messages and the JSON Schema list them."""


CLUSTER_KINDS: tuple[ClusterKind, ...] = get_args(ClusterKind)
assert tuple(KINDS) == CLUSTER_KINDS, "ClusterKind and KINDS list the same kinds, in order"


def parse_cluster(problems: Problems, value: Any, ctx: Ctx) -> "ClusterSpec | None":
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
    spec: "ClusterSpec",
    default_storage_class: str | None,
    kubeconfig: "pulumi.Input[str] | None",
    opts: "pulumi.ResourceOptions",
) -> ClusterComponent:
    """The kind's component (`<kind>/cluster.py` `build`), its module imported only now."""
    module = importlib.import_module(f"{KINDS[spec.kind].package}.cluster")
    build: Callable[..., ClusterComponent] = module.build
    return build(name, spec, default_storage_class, kubeconfig, opts)
