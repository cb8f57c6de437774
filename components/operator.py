"""The operator layer: KAI scheduler, NVIDIA GPU Operator and the OSMO backend-operator.

Values are built by pure functions (unit-tested, and every key checked against the pinned chart's
key index); the component only wires releases. Every release waits for the operator pool
(`ClusterHandle.workload_dependencies`) and nothing here depends on a GPU node pool: the GPU
Operator's daemonsets wait for GPU nodes by themselves. With monitoring on, the GPU Operator and
the backend-operator wait for the Prometheus Operator CRDs release only (not the monitoring
stack), so they start together with it.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s

from components import _helm, versions
from components._namespaces import MANAGED_BY, PsaLevel, namespace, psa_labels
from components.clusters.base import ClusterHandle, NodeRole
from components.config import NetworkingSpec, OperatorsSpec, OsmoSpec, ReleaseSpec
from components.networking import ISOLATION_WORKER_RULES, workflow_policy_values

TYPE = "osmo-backend:index:OperatorLayer"

KAI_SCHEDULER_ARGS = {
    "default-staleness-grace-period": "-1s",
    "update-pod-eviction-condition": "true",
}
"""The scheduler flags OSMO needs: never evict a stale gang; report eviction in pod conditions.
KAI v0.15+ reads them from `scheduler.args` (strings, no leading `--`); `scheduler.additionalArgs`
from OSMO's docs is read by no KAI chart since v0.10."""

KAI_TIMEOUT_SECONDS = 600
GPU_OPERATOR_TIMEOUT_SECONDS = 900
BACKEND_OPERATOR_TIMEOUT_SECONDS = 600
NVIDIA_RUNTIME_CLASS = "nvidia"


class OperatorLayerArgs(TypedDict):
    """Inputs for OperatorLayer."""

    osmo: OsmoSpec
    operators: OperatorsSpec
    cluster: ClusterHandle
    backend_operator_depends_on: Sequence[pulumi.Resource]
    """What the backend-operator needs first: its namespaces, the token Secret, pull secrets."""
    networking: NetworkingSpec
    """The workflow namespace's egress policy (rendered by the backend-operator chart)."""
    monitoring_crds: Sequence[pulumi.Resource]
    """The Prometheus Operator CRDs release when monitoring is on (else empty): the
    backend-operator's PodMonitor and the DCGM exporter's ServiceMonitor are enabled and ordered
    after it."""


def _placement(role: NodeRole | None) -> tuple[dict[str, str], list[dict[str, str]]]:
    if role is None:
        return {}, []
    return dict(role.selector), [dict(t) for t in role.tolerations]


def kai_values(cluster: ClusterHandle) -> dict[str, Any]:
    """Placement on the operator pool, OSMO's scheduler flags, and Pod Security labels on the
    namespace the chart creates for its GPU reservation pods (KAI-Scheduler v0.16.8
    deployments/kai-scheduler/templates/services/resourcereservation-namespace.yaml labels it with
    `global.resourceReservation.namespaceLabels`, default none; it runs only if the namespace does
    not exist yet)."""
    selector, tolerations = _placement(cluster.node_roles.get("operator"))
    return {
        "global": {
            "nodeSelector": selector,
            "tolerations": tolerations,
            "resourceReservation": {
                "namespaceLabels": {**MANAGED_BY, **psa_labels("baseline", "restricted")}
            },
        },
        "scheduler": {"args": dict(KAI_SCHEDULER_ARGS)},
    }


def gpu_operator_values(cluster: ClusterHandle, *, service_monitor: bool = False) -> dict[str, Any]:
    """Driver and toolkit ownership from the cluster's GPU stack profile; the operator's own
    Deployment on the operator pool. The daemonsets' default tolerations already cover the
    `nvidia.com/gpu` taint. The DCGM exporter's ServiceMonitor only with monitoring on."""
    selector, tolerations = _placement(cluster.node_roles.get("operator"))
    values: dict[str, Any] = {
        "driver": {"enabled": cluster.gpu_stack.driver == "operator"},
        "toolkit": {"enabled": cluster.gpu_stack.toolkit == "operator"},
        "operator": {"nodeSelector": selector},
    }
    if service_monitor:
        values["dcgmExporter"] = {"serviceMonitor": {"enabled": True}}
    if tolerations:
        values["operator"]["tolerations"] = tolerations
    return _helm.deep_merge(values, cluster.gpu_operator_values)


def backend_operator_values(
    osmo: OsmoSpec,
    cluster: ClusterHandle,
    *,
    pod_monitor: bool = False,
    network_policy: Mapping[str, Any] | None = None,
    worker_rules: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """Every value DESIGN section 5 requires; the token appears only by Secret name.
    `worker_rules`: extra RBAC rules of the worker in the workflow namespace (group templates)."""
    selector, tolerations = _placement(cluster.node_roles.get("operator"))
    annotations = {"osmo-backend.nvidia.com/token-generation": str(osmo.token.generation)}
    global_values: dict[str, Any] = {
        "osmoImageTag": osmo.image_tag,
        "serviceUrl": osmo.service_url,
        "loginMethod": "token",
        "accountTokenSecret": osmo.token.secret_name,
        "accountTokenSecretKey": osmo.token.secret_key,
        "agentNamespace": osmo.namespaces.operator,
        "backendNamespace": osmo.namespaces.workflows,
        "backendName": osmo.backend_name,
        # The chart's default ('osmo-staging,osmo-prod') is a leftover; the workflow namespace
        # is always counted.
        "includeNamespaceUsage": "",
        "nodeSelector": selector,
        "tolerations": tolerations,
        "logs": {"logLevel": "INFO", "k8sLogLevel": "WARNING", "logFormat": "json"},
    }
    if osmo.test_namespace is not None:
        global_values["backendTestNamespace"] = osmo.test_namespace
    if osmo.pull_secret is not None:
        global_values["imagePullSecret"] = osmo.pull_secret.name
    if network_policy is not None:
        global_values["networkPolicy"] = dict(network_policy)
    worker: dict[str, Any] = {"imagePullPolicy": "IfNotPresent", "extraPodAnnotations": annotations}
    if worker_rules:
        worker["extraRBACRules"] = [dict(rule) for rule in worker_rules]
    return {
        "global": global_values,
        "backendTestRunner": {"enabled": osmo.test_namespace is not None},
        "podMonitor": {"enabled": pod_monitor},
        "services": {
            "backendListener": {
                "imagePullPolicy": "IfNotPresent",
                "extraPodAnnotations": annotations,
            },
            "backendWorker": worker,
        },
    }


CRITICAL_PRIORITY_CLASSES = ("system-node-critical", "system-cluster-critical")
CRITICAL_PODS_QUOTA = "gpu-operator-quota"
CRITICAL_PODS_LIMIT = "100"


def critical_pods_quota_for(
    name: str, ns: k8s.core.v1.Namespace, opts: pulumi.ResourceOptions
) -> k8s.core.v1.ResourceQuota:
    """GKE admits pods of the system-critical priority classes outside kube-system only in a
    namespace with a ResourceQuota scoped to them (NVIDIA's GKE page)."""
    return k8s.core.v1.ResourceQuota(
        name,
        metadata={"name": CRITICAL_PODS_QUOTA, "namespace": ns.metadata.name},
        spec={
            "hard": {"pods": CRITICAL_PODS_LIMIT},
            "scope_selector": {
                "match_expressions": [
                    {
                        "operator": "In",
                        "scope_name": "PriorityClass",
                        "values": list(CRITICAL_PRIORITY_CLASSES),
                    }
                ]
            },
        },
        opts=opts,
    )


class OperatorLayer(pulumi.ComponentResource):
    """KAI scheduler, the GPU Operator (unless the cluster has its own GPU stack) and the OSMO
    backend-operator, in the cluster whose provider the parent passes down."""

    kai_scheduler: k8s.helm.v3.Release
    gpu_operator: k8s.helm.v3.Release | None
    runtime_class: k8s.node.v1.RuntimeClass | None
    backend_operator: k8s.helm.v3.Release

    def __init__(
        self, name: str, args: OperatorLayerArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        osmo, operators, cluster = args["osmo"], args["operators"], args["cluster"]
        monitors = list(args["monitoring_crds"])
        pool = list(cluster.workload_dependencies)
        child = pulumi.ResourceOptions(parent=self)

        self.kai_scheduler = self._addon(
            f"{name}-kai-scheduler",
            operators.kai_scheduler,
            versions.KAI_SCHEDULER,
            values=kai_values(cluster),
            timeout_seconds=KAI_TIMEOUT_SECONDS,
            depends_on=pool,
        )
        self.gpu_operator = None
        self.runtime_class = None
        if operators.gpu_operator is not None:
            self.gpu_operator = self._addon(
                f"{name}-gpu-operator",
                operators.gpu_operator,
                versions.GPU_OPERATOR,
                values=gpu_operator_values(cluster, service_monitor=bool(monitors)),
                enforce="privileged",
                timeout_seconds=GPU_OPERATOR_TIMEOUT_SECONDS,
                depends_on=[*pool, *monitors],
                critical_pods_quota=cluster.critical_pods_quota,
            )
        elif operators.gpu.runtime_class_stub:
            # Older OSMO pod templates set runtimeClassName: nvidia. The GPU Operator owns that
            # object when it runs; without it, a runc stub keeps those pods schedulable.
            self.runtime_class = k8s.node.v1.RuntimeClass(
                f"{name}-nvidia-runtime-class",
                metadata={"name": NVIDIA_RUNTIME_CLASS},
                handler="runc",
                opts=child,
            )

        backend = operators.backend_operator
        self.backend_operator = _helm.release(
            f"{name}-backend-operator",
            release_name=backend.release_name,
            chart=versions.BACKEND_OPERATOR,
            namespace=osmo.namespaces.operator,
            values=backend_operator_values(
                osmo,
                cluster,
                pod_monitor=bool(monitors),
                network_policy=workflow_policy_values(args["networking"].workflow_policy),
                worker_rules=ISOLATION_WORKER_RULES
                if args["networking"].workflow_policy.isolate_workflows
                else (),
            ),
            overrides=backend.values,
            timeout_seconds=BACKEND_OPERATOR_TIMEOUT_SECONDS,
            # Its pods stay unready until the OSMO service accepts the token: an atomic release
            # would roll back in a loop.
            atomic=False,
            skip_await=not operators.backend_operator.wait,
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[
                    *args["backend_operator_depends_on"],
                    *pool,
                    self.kai_scheduler,
                    *monitors,
                ],
            ),
        )
        self.register_outputs({})

    def _addon(
        self,
        prefix: str,
        spec: ReleaseSpec,
        chart: versions.Chart,
        *,
        values: dict[str, Any],
        enforce: PsaLevel = "baseline",
        timeout_seconds: int,
        depends_on: Sequence[pulumi.Resource] = (),
        critical_pods_quota: bool = False,
    ) -> k8s.helm.v3.Release:
        """An add-on in a namespace of its own: `<prefix>-ns` and its atomic release (after the
        operator pool, and the namespace's ResourceQuota for critical pods where the cluster
        needs one)."""
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace(
            f"{prefix}-ns",
            name=spec.namespace,
            enforce=enforce,
            role=versions.name_of(chart),
            opts=child,
        )
        if critical_pods_quota:
            depends_on = [
                *depends_on,
                critical_pods_quota_for(f"{prefix}-critical-pods", ns, child),
            ]
        return _helm.release(
            prefix,
            release_name=spec.release_name,
            chart=chart,
            namespace=ns.metadata.name,
            values=values,
            overrides=spec.values,
            timeout_seconds=timeout_seconds,
            atomic=True,
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(depends_on)),
        )
