"""`osmo-backend verify`: is the backend really online, and can workflows get GPUs?

After `pulumi up` the Helm releases report deployed, which says nothing about GPU nodes that
scale from zero, a listener that cannot reach the service, or a token the service rejects. This
reads the cluster with the official Kubernetes client and checks, against what the stack declares
(its validated spec, `components.config.load_spec`; no provider SDK is imported):

- the API server answers;
- nodes of each role are present, Ready, labelled and tainted as declared (a role whose pools all
  have min size 0 and no node yet "scales from zero": not a failure);
- GPU nodes have `nvidia.com/gpu` allocatable;
- KAI's Deployments are ready; the GPU Operator's ClusterPolicy is `ready`;
- the backend-operator's listener and worker are ready (restarts and last error lines);
- the token Secret exists with its key; it equals the stack's `backend_token` output and, with
  `osmo.controlPlane`, the service-side Secret: compared by SHA-256 digest, never printed;
- optionally, the backend shows online at the OSMO service (`offline.verify_service`).

Every check ends in one state: `ok`, `scales from zero` (passes), `skipped` (passes; says why),
or `FAILED` (with how to fix it).
"""

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Literal, Protocol

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from components.clusters.existing.config import ExistingClusterSpec
from components.clusters.registry import KINDS, ClusterSpec
from components.config import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    NODE_TYPE_LABEL,
    ClusterKind,
    StackSpec,
)

State = Literal["ok", "scales from zero", "skipped", "FAILED"]
PASSING: tuple[State, ...] = ("ok", "scales from zero", "skipped")
REQUEST_TIMEOUT = 10.0
"""Seconds per Kubernetes API call."""
GPU_RESOURCE = "nvidia.com/gpu"
POOL_LABEL = "osmo.nvidia.com/pool"
"""Cloud pools label their nodes with the pool's name (components/config/_common.py
`POOL_LABEL`; tests/verify pins the equality)."""
GPU_PRESENT_LABEL = {"nvidia.com/gpu": "present"}
CLUSTER_POLICY = ("nvidia.com", "v1", "clusterpolicies", "cluster-policy")
"""The GPU Operator chart's ClusterPolicy (NVIDIA/gpu-operator v25.10.1
deployments/gpu-operator/templates/clusterpolicy.yaml:1-4, name `cluster-policy`; CRD plural in
deployments/gpu-operator/crds/nvidia.com_clusterpolicies.yaml:13). Its `status.state` is one of
ignored, ready, notReady (api/nvidia/v1/clusterpolicy_types.go:1733-1751)."""
LISTENER_SERVICE = "osmo-backend-listener"
WORKER_SERVICE = "osmo-backend-worker"
"""backend-operator 1.4.0 values.yaml `services.backendListener.serviceName` (line 242) and
`services.backendWorker.serviceName` (line 363); the Deployments are named and labelled
`app: <global.name or release name>-<serviceName>` (templates/backend-listener.yaml:18-35,
backend-worker.yaml:18-35, NVIDIA/OSMO 1da31e19e)."""
FAILING_WAIT_REASONS = (
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "InvalidImageName",
)
ERROR_WORDS = re.compile(r"error|exception|fatal|traceback|denied|refused|unauthori[sz]ed", re.I)
CONTROL_PLANE_TOKEN_KEY = "token"
"""The key the OSMO service reads in a backend credential Secret (components/connection.py
`CONTROL_PLANE_TOKEN_KEY`, not imported: it loads the Kubernetes provider SDK)."""
LOG_LINES = 2
LOG_LINE_CHARS = 240


@dataclass(frozen=True)
class Check:
    name: str
    state: State
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.state == "FAILED"

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "state": self.state, "detail": self.detail, "fix": self.fix}


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str

    def __str__(self) -> str:
        return f"{self.key}={self.value}:{self.effect}"


GPU_TAINT = Taint(GPU_TAINT_KEY, GPU_TAINT_VALUE, GPU_TAINT_EFFECT)


@dataclass(frozen=True)
class RoleExpectation:
    """What the stack declares about the nodes of one OSMO role."""

    role: str
    selector: Mapping[str, str]
    """Labels that select the role's nodes."""
    labels: Mapping[str, str]
    """Labels every node of the role must carry (the selector and the pool labels)."""
    taints: tuple[Taint, ...]
    min_nodes: int
    """Sum of the pools' minimum sizes; for an existing cluster, the named nodes (else 1 for
    the operator role, 0 for the others)."""
    pools: tuple[str, ...] = ()
    nodes: tuple[str, ...] = ()
    """Existing clusters: the nodes the stack labels into the role."""
    per_pool: Mapping[str, tuple[Mapping[str, str], tuple[Taint, ...]]] = field(
        default_factory=dict[str, tuple[Mapping[str, str], tuple[Taint, ...]]]
    )
    """Cloud pools: each pool's own labels and taints, for nodes carrying its POOL_LABEL."""

    def wants(self, node_labels: Mapping[str, str]) -> tuple[Mapping[str, str], tuple[Taint, ...]]:
        """The labels and taints a node of this role must carry (its pool's, when known)."""
        labels, taints = self.per_pool.get(node_labels.get(POOL_LABEL, ""), ({}, ()))
        return {**self.labels, **labels}, (*self.taints, *taints)


def _role_labels(kind: ClusterKind, role: str) -> dict[str, str]:
    """The labels every cloud pool of `role` is created with (components/clusters/<kind>/cluster.py
    `node_labels`; tests/verify pins the equality)."""
    labels = {NODE_TYPE_LABEL: role}
    if role == "gpu":
        labels.update(GPU_PRESENT_LABEL)
        labels.update(KINDS[kind].gpu_pool_labels)
    return labels


def _pool_own(pool: Any) -> tuple[Mapping[str, str], tuple[Taint, ...]]:
    """A pool's extra labels (and its POOL_LABEL) and extra taints, where its config has them."""
    labels: dict[str, str] = {**(getattr(pool, "labels", None) or {}), POOL_LABEL: pool.name}
    taints = tuple(Taint(t.key, t.value or "", t.effect) for t in getattr(pool, "taints", ()))
    return labels, taints


def expected_roles(cluster: ClusterSpec) -> list[RoleExpectation]:
    """The node roles the stack declares, in config order."""
    if isinstance(cluster, ExistingClusterSpec):
        return [
            RoleExpectation(
                role=r.role,
                selector=dict(r.selector),
                labels=dict(r.selector),
                # The stack taints only the GPU nodes it patches (clusters/existing/cluster.py).
                taints=(GPU_TAINT,) if r.role == "gpu" and r.nodes else (),
                # Every role has a default selector; only the operator role must have nodes
                # unless the stack names some.
                min_nodes=len(r.nodes) or (1 if r.role == "operator" else 0),
                nodes=r.nodes,
            )
            for r in cluster.node_roles
        ]
    pools: dict[str, list[tuple[str, int]]] = {}
    own: dict[str, dict[str, tuple[Mapping[str, str], tuple[Taint, ...]]]] = {}
    for pool in cluster.node_pools:
        low = KINDS[cluster.kind].pool_min_nodes(pool)
        pools.setdefault(pool.role, []).append((pool.name, low))
        own.setdefault(pool.role, {})[pool.name] = _pool_own(pool)
    return [
        RoleExpectation(
            role=role,
            selector={NODE_TYPE_LABEL: role},
            labels=_role_labels(cluster.kind, role),
            taints=(GPU_TAINT,) if role == "gpu" else (),
            min_nodes=sum(low for _, low in members),
            pools=tuple(f"{name} (min {low})" for name, low in members),
            per_pool=own[role],
        )
        for role, members in pools.items()
    ]


@dataclass(frozen=True)
class Secrets:
    """Secret values verify compares; never printed, compared by digest."""

    stack_token: str | None = field(default=None, repr=False)
    """The stack's `backend_token` output, when read through the Automation API."""


@dataclass(frozen=True)
class Clusters:
    """How to reach the compute cluster and, with `osmo.controlPlane`, the service's cluster."""

    compute: Callable[[], k8s.ApiClient]
    control_plane: Callable[[], k8s.ApiClient] | None = None
    control_plane_unavailable: str | None = None
    """Why the control plane cannot be read (a secure kubeconfig without the Pulumi CLI)."""


class ServiceProbe(Protocol):
    def __call__(self, backend: str) -> Check: ...


def digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(digest(a), digest(b))


# ---- rendering -------------------------------------------------------------------------------


def progress_line(index: int, total: int, check: Check) -> str:
    line = f"[{index}/{total}] {check.name}: {check.state} - {check.detail}"
    return line + (f" (fix: {check.fix})" if check.failed and check.fix else "")


def table(checks: Sequence[Check]) -> list[str]:
    header = ("CHECK", "STATE", "DETAIL", "HOW TO FIX")
    rows = [(c.name, c.state, c.detail, c.fix if c.failed else "") for c in checks]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    lines = [
        f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]}".rstrip()
        for r in [header, *rows]
    ]
    return [*lines, summary(checks)]


def summary(checks: Sequence[Check]) -> str:
    counts: dict[str, int] = {}
    for check in checks:
        counts[check.state] = counts.get(check.state, 0) + 1
    parts = [f"{counts[s]} {s}" for s in (*PASSING, "FAILED") if counts.get(s)]
    return f"{len(checks)} checks: " + ", ".join(parts)


# ---- the checks ------------------------------------------------------------------------------


def _api_failure(name: str, err: Exception, what: str) -> Check:
    """One line for an API error: 401/403 with the server's message, unreachable, other."""
    if isinstance(err, ApiException):
        message = _status_message(err)
        if err.status == 403:
            return Check(
                name,
                "FAILED",
                f"forbidden (403) reading {what}: {message}",
                "give the kubeconfig's identity read access (get/list nodes, pods, pods/log, "
                "deployments, secrets in the OSMO namespaces, clusterpolicies.nvidia.com)",
            )
        if err.status == 401:
            return Check(
                name,
                "FAILED",
                f"unauthorized (401) reading {what}: {message}",
                "the kubeconfig's credentials are not accepted: refresh them (cloud CLI login)",
            )
        if err.status == 0:  # the client's own transport errors (TLS, protocol)
            return Check(name, "FAILED", f"cannot read {what}: {err.reason}", _REACH_FIX)
        return Check(name, "FAILED", f"{what}: HTTP {err.status} {message}", "")
    return Check(name, "FAILED", f"cannot reach the API server: {_reason(err)}", _REACH_FIX)


_REACH_FIX = (
    "run where the API server is reachable (README 'Deploying for real': inside the network, "
    "from an authorized range, or GKE's DNS endpoint), or pass --kubeconfig/--context"
)


def _status_message(err: ApiException) -> str:
    import json

    try:
        body = json.loads(err.body or "")
    except ValueError:
        return str(err.reason or "")
    if isinstance(body, dict) and isinstance(body.get("message"), str):  # pyright: ignore[reportUnknownMemberType]
        return str(body["message"])  # pyright: ignore[reportUnknownArgumentType]
    return str(err.reason or "")


def _reason(err: Exception) -> str:
    """The innermost reason of a connection failure (urllib3 wraps it twice)."""
    text = str(getattr(err, "reason", None) or err)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    return match.group(1).strip() if match else text.splitlines()[0][:200]


@contextmanager
def _open(connect: Callable[[], k8s.ApiClient]) -> Generator[k8s.ApiClient]:
    api = connect()
    try:
        yield api
    finally:
        api.close()


class _Run:
    """One round of checks against one cluster (and the service); checks are yielded as they
    finish so each gets its progress line."""

    def __init__(
        self, spec: StackSpec, clusters: Clusters, secrets: Secrets, service: ServiceProbe | None
    ) -> None:
        self.spec = spec
        self.clusters = clusters
        self.secrets = secrets
        self.service = service
        self.token: bytes | None = None

    def checks(self) -> Iterator[Check]:
        with _open(self.clusters.compute) as api:
            reach = self._api_server(api)
            yield reach
            names = self.names()
            if reach.failed:
                for name in names[1:]:
                    if name != "service":
                        yield Check(name, "skipped", "the API server is not reachable")
            else:
                yield from self._cluster(api)
        if self.service is not None:
            yield self.service(self.spec.osmo.backend_name)

    def names(self) -> list[str]:
        """Every check this stack gets, in order (for `[i/N]`)."""
        spec = self.spec
        names = ["api-server", *(f"nodes/{r.role}" for r in expected_roles(spec.cluster))]
        if any(r.role == "gpu" for r in expected_roles(spec.cluster)):
            names.append("gpu-allocatable")
        names.append("kai-scheduler")
        if spec.operators.gpu_operator is not None:
            names.append("gpu-operator")
        names += ["token-secret", "token-service-side", "backend-listener", "backend-worker"]
        if self.service is not None:
            names.append("service")
        return names

    def _api_server(self, api: k8s.ApiClient) -> Check:
        host = api.configuration.host
        try:
            info = k8s.VersionApi(api).get_code(_request_timeout=REQUEST_TIMEOUT)
        except ApiException as err:
            return _api_failure("api-server", err, "the API server version")
        except Exception as err:  # any transport failure is the finding
            return Check("api-server", "FAILED", f"cannot reach {host}: {_reason(err)}", _REACH_FIX)
        return Check("api-server", "ok", f"{host} answers (Kubernetes {info.git_version})")

    def _cluster(self, api: k8s.ApiClient) -> Iterator[Check]:
        core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
        roles = expected_roles(self.spec.cluster)
        try:
            nodes = core.list_node(_request_timeout=REQUEST_TIMEOUT).items
            listing: Exception | None = None
        except Exception as err:
            nodes, listing = [], err
        for role in roles:
            name = f"nodes/{role.role}"
            yield _api_failure(name, listing, "nodes") if listing else node_check(role, nodes)
        gpu = next((r for r in roles if r.role == "gpu"), None)
        if gpu is not None:
            if listing:
                yield _api_failure("gpu-allocatable", listing, "nodes")
            else:
                yield gpu_check(gpu, nodes)
        operators = self.spec.operators
        yield self._guard(
            "kai-scheduler", lambda: kai_check(apps, operators.kai_scheduler.namespace)
        )
        if operators.gpu_operator is not None:
            yield self._guard(
                "gpu-operator", lambda: cluster_policy_check(k8s.CustomObjectsApi(api))
            )
        yield self._guard("token-secret", lambda: self._token_secret(core))
        yield self._guard("token-service-side", self._service_side_token)
        namespace = self.spec.osmo.namespaces.operator
        for name, deployment in backend_deployments(self.spec).items():
            check = partial(deployment_check, name, api, namespace, deployment, token=self.token)
            yield self._guard(name, check)

    @staticmethod
    def _guard(name: str, check: Callable[[], Check]) -> Check:
        try:
            return check()
        except Exception as err:  # an API error is this check's finding, the others still run
            return _api_failure(name, err, name)

    def _token_secret(self, core: k8s.CoreV1Api) -> Check:
        token = self.spec.osmo.token
        namespace = self.spec.osmo.namespaces.operator
        where = f"Secret {token.secret_name} in {namespace}"
        value = _secret_value(core, namespace, token.secret_name, token.secret_key)
        if isinstance(value, Check):
            fix = (
                f"create it in {namespace} with key {token.secret_key} (osmo.token.source is "
                "existing)"
                if token.source == "existing"
                else "run `pulumi up` (the stack creates it)"
            )
            return Check("token-secret", "FAILED", f"{where}: {value.detail}", fix)
        self.token = value
        stack = self.secrets.stack_token
        if stack is not None and not _same(value, stack.encode()):
            return Check(
                "token-secret",
                "FAILED",
                f"{where} differs from the stack's backend_token output (compared by hash)",
                "someone changed the Secret: `pulumi up` writes it back, then restart the "
                "listener and worker",
            )
        also = ", equals the stack's backend_token (by hash)" if stack is not None else ""
        return Check("token-secret", "ok", f"{where} has key {token.secret_key}{also}")

    def _service_side_token(self) -> Check:
        plane = self.spec.osmo.control_plane
        if plane is None:
            return Check(
                "token-service-side",
                "skipped",
                "no osmo.controlPlane: the service-side Secret is not readable from here "
                "(--service-url checks the backend at the service)",
            )
        if self.clusters.control_plane is None:
            reason = self.clusters.control_plane_unavailable or "no control-plane kubeconfig"
            return Check("token-service-side", "skipped", reason)
        if self.token is None:
            return Check("token-service-side", "skipped", "the compute-side token is not readable")
        token = self.spec.osmo.token
        where = f"Secret {token.secret_name} in {plane.namespace} on {plane.name}"
        with _open(self.clusters.control_plane) as api:
            value = _secret_value(
                k8s.CoreV1Api(api), plane.namespace, token.secret_name, CONTROL_PLANE_TOKEN_KEY
            )
        if isinstance(value, Check):
            return Check(
                "token-service-side", "FAILED", f"{where}: {value.detail}", "run `pulumi up`"
            )
        if not _same(value, self.token):
            return Check(
                "token-service-side",
                "FAILED",
                f"{where} holds a different token than the compute-side Secret (compared by "
                "hash): the service rejects the backend",
                "`pulumi up` writes both from one value; if one was changed by hand, run it, "
                "then restart the backend listener and worker",
            )
        return Check("token-service-side", "ok", f"{where} holds the compute-side token (by hash)")


def _secret_value(core: k8s.CoreV1Api, namespace: str, name: str, key: str) -> bytes | Check:
    """The decoded value of `key`, or a FAILED check saying what is missing (no value in it)."""
    import base64

    try:
        secret = core.read_namespaced_secret(name, namespace, _request_timeout=REQUEST_TIMEOUT)
    except ApiException as err:
        if err.status == 404:
            return Check("", "FAILED", "not found")
        raise
    data = secret.data or {}
    if key not in data:
        keys = ", ".join(sorted(data)) or "none"
        return Check("", "FAILED", f"has no key {key} (keys: {keys})")
    value = base64.b64decode(data[key])
    if not value:
        return Check("", "FAILED", f"key {key} is empty")
    return value


def _ready(node: k8s.V1Node) -> tuple[bool, str]:
    for condition in (node.status.conditions or []) if node.status else []:
        if condition.type == "Ready":
            why = condition.reason or condition.message or condition.status
            return condition.status == "True", why
    return False, "no Ready condition"


def _labels(node: k8s.V1Node) -> Mapping[str, str]:
    return (node.metadata.labels if node.metadata else None) or {}


def _node_name(node: k8s.V1Node) -> str:
    return (node.metadata.name if node.metadata else None) or "?"


def _has_taint(node: k8s.V1Node, taint: Taint) -> bool:
    taints = (node.spec.taints if node.spec else None) or []
    return any(
        t.key == taint.key and (t.value or "") == taint.value and t.effect == taint.effect
        for t in taints
    )


def _selected(role: RoleExpectation, nodes: Sequence[k8s.V1Node]) -> list[k8s.V1Node]:
    return [n for n in nodes if all(_labels(n).get(k) == v for k, v in role.selector.items())]


def _shown(names: Sequence[str], limit: int = 4) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def node_check(role: RoleExpectation, nodes: Sequence[k8s.V1Node]) -> Check:
    """Nodes of one role: present (or scaling from zero), Ready, labelled, tainted."""
    name = f"nodes/{role.role}"
    selector = ",".join(f"{k}={v}" for k, v in role.selector.items())
    by_name = {_node_name(n): n for n in nodes}
    if role.nodes:
        missing = [n for n in role.nodes if n not in by_name]
        if missing:
            return Check(
                name,
                "FAILED",
                f"named node(s) {_shown(missing)} not in the cluster",
                "fix cluster.nodeRoles." + role.role + ".nodes, or join the nodes",
            )
        unlabelled = [n for n in role.nodes if by_name[n] not in _selected(role, nodes)]
        if unlabelled:
            return Check(
                name,
                "FAILED",
                f"node(s) {_shown(unlabelled)} lack the label(s) {selector}",
                "run `pulumi up` (the stack labels the nodes it lists)",
            )
    members = _selected(role, nodes)
    pools = f" (pools {', '.join(role.pools)})" if role.pools else ""
    if not members and role.min_nodes == 0:
        if not role.pools:
            return Check(name, "skipped", f"no {selector} node: the role is not in use")
        return Check(
            name,
            "scales from zero",
            f"no {selector} node yet{pools}: the autoscaler adds one when a workflow asks",
        )
    if len(members) < role.min_nodes:
        return Check(
            name,
            "FAILED",
            f"{len(members)} {selector} node(s), the stack declares at least "
            f"{role.min_nodes}{pools}",
            "nodes have not joined: check the node pool in the cloud console (capacity, "
            "quota, the nodes' network path to the API server)"
            if role.pools
            else "label the role's nodes with " + selector,
        )
    not_ready = [(n, _ready(n)) for n in members]
    bad = [f"{_node_name(n)} ({why})" for n, (ok, why) in not_ready if not ok]
    if bad:
        return Check(
            name,
            "FAILED",
            f"not Ready: {_shown(bad)}",
            "kubectl describe node NAME: its conditions and events say why",
        )
    wrong_labels = [
        f"{_node_name(n)} lacks {k}={v}"
        for n in members
        for k, v in role.wants(_labels(n))[0].items()
        if _labels(n).get(k) != v
    ]
    if wrong_labels:
        return Check(
            name,
            "FAILED",
            _shown(wrong_labels),
            "the pool's labels differ from the stack's: `pulumi up` (or recreate the pool)",
        )
    untainted = [
        f"{_node_name(n)} lacks taint {t}"
        for n in members
        for t in role.wants(_labels(n))[1]
        if not _has_taint(n, t)
    ]
    if untainted:
        return Check(
            name,
            "FAILED",
            _shown(untainted),
            "the nodes' taints differ from the stack's (untainted GPU nodes take other pods): "
            "`pulumi up` (or recreate the pool)",
        )
    return Check(name, "ok", f"{len(members)} Ready, labelled and tainted as declared{pools}")


def gpu_check(role: RoleExpectation, nodes: Sequence[k8s.V1Node]) -> Check:
    """Ready GPU nodes advertise `nvidia.com/gpu` (the device plugin runs and sees the GPUs)."""
    members = [n for n in _selected(role, nodes) if _ready(n)[0]]
    if not members:
        state: State = "scales from zero" if role.min_nodes == 0 and role.pools else "skipped"
        return Check("gpu-allocatable", state, "no Ready GPU node to look at yet")
    missing: list[str] = []
    total = 0
    for node in members:
        allocatable = (node.status.allocatable if node.status else None) or {}
        count = _count(allocatable.get(GPU_RESOURCE))
        total += count
        if count == 0:
            missing.append(_node_name(node))
    if missing:
        return Check(
            "gpu-allocatable",
            "FAILED",
            f"no allocatable {GPU_RESOURCE} on {_shown(missing)}",
            "the GPU Operator's driver, toolkit or device plugin is not ready there: kubectl -n "
            "<gpu-operator namespace> get pods -o wide --field-selector spec.nodeName=NODE",
        )
    return Check("gpu-allocatable", "ok", f"{total} {GPU_RESOURCE} on {len(members)} node(s)")


def _count(quantity: str | None) -> int:
    try:
        return int(quantity or "0")
    except ValueError:
        return 0


def kai_check(apps: k8s.AppsV1Api, namespace: str) -> Check:
    deployments = apps.list_namespaced_deployment(namespace, _request_timeout=REQUEST_TIMEOUT).items
    if not deployments:
        return Check(
            "kai-scheduler",
            "FAILED",
            f"no Deployment in namespace {namespace}",
            "run `pulumi up` (the KAI release installs them)",
        )
    unready = [_unready(d) for d in deployments]
    bad = [u for u in unready if u]
    if bad:
        return Check(
            "kai-scheduler",
            "FAILED",
            f"not ready in {namespace}: {_shown(bad)}",
            f"kubectl -n {namespace} get pods; kubectl -n {namespace} describe pod NAME",
        )
    return Check("kai-scheduler", "ok", f"{len(deployments)} Deployment(s) ready in {namespace}")


def _unready(deployment: k8s.V1Deployment) -> str:
    """`name (ready/wanted)` when not every replica is ready, else ''."""
    wanted = (
        deployment.spec.replicas if deployment.spec and deployment.spec.replicas is not None else 1
    )
    ready = (deployment.status.ready_replicas if deployment.status else None) or 0
    name = (deployment.metadata.name if deployment.metadata else None) or "?"
    return f"{name} ({ready}/{wanted} ready)" if ready < wanted else ""


def cluster_policy_check(custom: k8s.CustomObjectsApi) -> Check:
    group, version, plural, name = CLUSTER_POLICY
    try:
        policy = custom.get_cluster_custom_object(
            group, version, plural, name, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as err:
        if err.status != 404:
            raise
        return Check(
            "gpu-operator",
            "FAILED",
            f"no ClusterPolicy {name}",
            "the GPU Operator release did not create it: run `pulumi up`",
        )
    status: Any = policy.get("status") if isinstance(policy, dict) else None  # pyright: ignore[reportUnknownMemberType]
    state = status.get("state") if isinstance(status, dict) else None  # pyright: ignore[reportUnknownMemberType]
    if state != "ready":
        return Check(
            "gpu-operator",
            "FAILED",
            f"ClusterPolicy {name} state is {state or 'not reported'}, not ready",
            "a GPU Operator pod is not ready: kubectl -n <gpu-operator namespace> get pods",
        )
    return Check("gpu-operator", "ok", f"ClusterPolicy {name} state ready")


def backend_deployments(spec: StackSpec) -> dict[str, str]:
    """The listener's and the worker's Deployment names, as the chart derives them from the
    release name and the values (user overrides included)."""
    release = spec.operators.backend_operator
    values = release.values
    base = _value(values, "global", "name") or release.release_name
    listener = _value(values, "services", "backendListener", "serviceName") or LISTENER_SERVICE
    worker = _value(values, "services", "backendWorker", "serviceName") or WORKER_SERVICE
    return {"backend-listener": f"{base}-{listener}", "backend-worker": f"{base}-{worker}"}


def _value(values: Mapping[str, Any], *path: str) -> str | None:
    node: Any = values
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)  # pyright: ignore[reportUnknownMemberType]
    return node if isinstance(node, str) and node else None


def deployment_check(
    name: str, api: k8s.ApiClient, namespace: str, deployment: str, *, token: bytes | None
) -> Check:
    """A backend-operator Deployment: ready, with its pods' restarts and last error lines."""
    apps, core = k8s.AppsV1Api(api), k8s.CoreV1Api(api)
    try:
        found = apps.read_namespaced_deployment(
            deployment, namespace, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as err:
        if err.status != 404:
            raise
        return Check(
            name,
            "FAILED",
            f"no Deployment {deployment} in {namespace}",
            "run `pulumi up` (the backend-operator release creates it)",
        )
    pods = core.list_namespaced_pod(
        namespace, label_selector=f"app={deployment}", _request_timeout=REQUEST_TIMEOUT
    ).items
    restarts = 0
    problems: list[str] = []
    errors: list[str] = []
    for pod in pods:
        pod_name = (pod.metadata.name if pod.metadata else None) or "?"
        for status in (pod.status.container_statuses if pod.status else None) or []:
            restarts += status.restart_count or 0
            waiting = status.state.waiting if status.state else None
            if waiting is not None and waiting.reason in FAILING_WAIT_REASONS:
                problems.append(f"{pod_name}/{status.name} {waiting.reason}")
                errors += _last_errors(core, namespace, pod_name, status.name, status.restart_count)
    unready = _unready(found)
    detail = f"{deployment}: {restarts} restart(s)"
    if not unready and not problems:
        return Check(name, "ok", detail + ", ready")
    said = [*problems, *([unready] if unready and not problems else [])]
    lines = [_redact(line, token) for line in errors[-LOG_LINES:]]
    last = f"; last error: {' | '.join(lines)}" if lines else ""
    return Check(
        name,
        "FAILED",
        f"{detail}, {', '.join(said)}{last}",
        "401/403 from the service: the service does not accept the token (token checks); "
        "connection errors: the cluster cannot reach osmo.serviceUrl (egress allowlist); "
        f"kubectl -n {namespace} logs deploy/{deployment} --previous",
    )


def _last_errors(
    core: k8s.CoreV1Api, namespace: str, pod: str, container: str, restarts: int | None
) -> list[str]:
    """The last lines of the container's log that name an error (else its last line)."""
    try:
        text = core.read_namespaced_pod_log(
            pod,
            namespace,
            container=container,
            previous=bool(restarts),
            tail_lines=200,
            _request_timeout=REQUEST_TIMEOUT,
        )
    except ApiException:
        return []
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    picked = [line for line in lines if ERROR_WORDS.search(line)] or lines[-1:]
    return [line[:LOG_LINE_CHARS] for line in picked[-LOG_LINES:]]


def _redact(line: str, token: bytes | None) -> str:
    """Never show the token, even if a log line carries it."""
    if token:
        line = line.replace(token.decode(errors="replace"), "[token]")
    return line


# ---- the run and --wait ----------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    stack: str
    checks: list[Check]
    rounds: int

    @property
    def ok(self) -> bool:
        return not any(c.failed for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "ok": self.ok,
            "rounds": self.rounds,
            "summary": summary(self.checks),
            "checks": [c.to_json() for c in self.checks],
        }


def verify(
    stack: str,
    spec: StackSpec,
    clusters: Clusters,
    *,
    secrets: Secrets = Secrets(),
    service: ServiceProbe | None = None,
    progress: Callable[[str], None],
    wait_seconds: float = 0,
    interval_seconds: float = 10,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Report:
    """Run every check, printing a progress line per check; with `wait_seconds`, run again
    every `interval_seconds` until all pass or the deadline passes."""
    deadline = clock() + wait_seconds
    rounds = 0
    while True:
        rounds += 1
        run = _Run(spec, clusters, secrets, service)
        total = len(run.names())
        checks: list[Check] = []
        for check in run.checks():
            checks.append(check)
            progress(progress_line(len(checks), total, check))
        failing = [c.name for c in checks if c.failed]
        left = deadline - clock()
        if not failing or left <= 0:
            return Report(stack, checks, rounds)
        pause = min(interval_seconds, left)
        progress(
            f"round {rounds}: {len(failing)} failing ({', '.join(failing)}); trying again in "
            f"{pause:.0f}s ({left:.0f}s left of --wait)"
        )
        sleep(pause)


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?")


def parse_duration(text: str) -> float | None:
    """`15m`, `90s`, `1h30m`, `600` (seconds): seconds, or None when not a duration."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        return None
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def kubeconfig_client(
    *, content: str | None = None, path: Path | None = None, context: str | None = None
) -> k8s.ApiClient:
    """An API client from kubeconfig content or a file (exec plugins run as kubectl runs
    them); no retries, so an unreachable API server is reported at once."""
    import yaml
    from kubernetes import config as kube_config

    configuration = k8s.Configuration()
    if path is not None:
        kube_config.load_kube_config(  # pyright: ignore[reportUnknownMemberType]
            config_file=str(path),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    else:
        kube_config.load_kube_config_from_dict(  # pyright: ignore[reportUnknownMemberType]
            yaml.safe_load(content or ""),
            context=context,
            client_configuration=configuration,
            persist_config=False,
        )
    configuration.retries = False
    return k8s.ApiClient(configuration)
