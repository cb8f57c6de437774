"""Owners of cloud volumes are deleted while the nodes and the storage driver still run.

The engine deletes in reverse dependency order: pulumi/pulumi pkg/resource/deploy/step_generator.go,
`ScheduleDeletes`, peels off the condemned resources nothing else depends on, wave by wave, so a
resource is deleted before everything it depends on. A release whose PVCs outlive the CSI driver or
the nodes leaves its disks behind (the driver deletes a volume when its claim goes), so each volume
owner must depend on both.
"""

import pulumi
import pulumi_kubernetes as k8s

from components import backend, versions
from offline import engine

RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"


def test_volume_owners_depend_on_the_nodes_and_the_driver_and_nothing_else_does() -> None:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="x")
        nodes = k8s.core.v1.ConfigMap(
            "nodes", data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        driver = k8s.core.v1.ConfigMap(
            "driver", data={"a": "b"}, opts=pulumi.ResourceOptions(provider=provider)
        )
        opts = pulumi.ResourceOptions(
            provider=provider,
            transformations=backend._volume_owners_wait(  # pyright: ignore[reportPrivateUsage]
                (nodes, driver), frozenset({"monitoring"})
            ),
        )

        class Owner(pulumi.ComponentResource):
            def __init__(self) -> None:
                super().__init__("test:index:Owner", "owner", None, opts)
                child = pulumi.ResourceOptions(parent=self)
                k8s.core.v1.Namespace("mon-ns", metadata={"name": "monitoring"}, opts=child)
                k8s.core.v1.Namespace("other-ns", metadata={"name": "osmo-operator"}, opts=child)
                for chart in (
                    versions.KUBE_PROMETHEUS_STACK,
                    versions.LOKI,
                    versions.KAI_SCHEDULER,
                ):
                    k8s.helm.v3.Release(f"rel-{chart.chart}", chart=chart.chart, opts=child)
                k8s.core.v1.PersistentVolumeClaim("claim", spec={}, opts=child)
                self.register_outputs({})

        Owner()

    rec = engine.run(program, project="p", stack="s")
    wanted = sorted([rec.urn_of("kubernetes:core/v1:ConfigMap", n) for n in ("nodes", "driver")])
    waits = {
        r.name
        for r in rec.resources
        if r.type.startswith("kubernetes:") and set(wanted) <= set(r.options["dependsOn"])
    }
    assert waits == {
        "mon-ns",
        f"rel-{versions.KUBE_PROMETHEUS_STACK.chart}",
        f"rel-{versions.LOKI.chart}",
        "claim",
    }


def test_no_dependencies_means_no_transformation() -> None:
    assert backend._volume_owners_wait((), frozenset({"monitoring"})) == []  # pyright: ignore[reportPrivateUsage]
