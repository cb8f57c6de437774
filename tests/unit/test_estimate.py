"""The deploy estimate over small graphs: weights, the critical path, the bound, the drawings."""

from pathlib import Path
from typing import Any

import pytest

from offline import estimate

RELEASE = "kubernetes:helm.sh/v3:Release"
P = "urn:pulumi:s::p::"


def res(
    name: str,
    type_: str = "kubernetes:core/v1:Namespace",
    *,
    deps: tuple[str, ...] = (),
    provider: str | None = None,
    parent: str | None = None,
    custom: bool = True,
    inputs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A resources.json entry; dependencies and provider by name."""
    return {
        "urn": P + name,
        "type": type_,
        "name": name,
        "custom": custom,
        "parent": P + parent if parent else None,
        "provider": P + provider if provider else None,
        "dependencies": [P + d for d in deps],
        "inputs": inputs or {},
    }


def release(name: str, chart: str, *, deps: tuple[str, ...] = (), **kw: Any) -> dict[str, Any]:
    return res(name, RELEASE, deps=deps, inputs={"chart": chart}, **kw)


def names(result: estimate.Estimate) -> list[str]:
    return [result.nodes[u].name for u in result.path]


def test_the_longest_weighted_chain_is_the_critical_path() -> None:
    graph = [
        res("ns"),
        release("kai", "oci://ghcr.io/kai-scheduler/kai-scheduler/kai-scheduler", deps=("ns",)),
        release("backend", "backend-operator", deps=("kai",)),
        release("gpu", "gpu-operator", deps=("ns",)),
    ]
    result = estimate.estimate(graph)
    # ns 0.1, then KAI 3 -> backend-operator 3 (6.1) beats the GPU Operator 6 (6.1 too): the
    # first URN among equal finishes wins, so the result is deterministic.
    assert result.finish == {
        P + "ns": 0.1,
        P + "kai": pytest.approx(3.1),
        P + "backend": pytest.approx(6.1),
        P + "gpu": pytest.approx(6.1),
    }
    assert names(result) == ["ns", "kai", "backend"]
    assert result.minutes == pytest.approx(6.1)


def test_a_resource_waits_for_its_provider_and_the_provider_for_the_cluster() -> None:
    graph = [
        res("cluster", "aws:eks/cluster:Cluster"),
        res("k8s", "pulumi:providers:kubernetes", deps=("cluster",)),
        release("gpu", "gpu-operator", provider="k8s"),
    ]
    result = estimate.estimate(graph)
    assert names(result) == ["cluster", "k8s", "gpu"]
    assert result.minutes == pytest.approx(18.0)
    assert result.nodes[P + "k8s"].minutes == 0.0


def test_children_do_not_wait_for_their_component_but_its_dependents_wait_for_the_children() -> (
    None
):
    graph = [
        res("slow", "aws:eks/cluster:Cluster"),
        res("comp", "osmo-backend:index:Layer", custom=False, deps=("slow",)),
        release("child", "gpu-operator", parent="comp"),
        res("after", deps=("comp",)),
    ]
    result = estimate.estimate(graph)
    # The child starts at 0 (not after the component's own dependency on `slow`).
    assert result.finish[P + "child"] == 6.0
    # Waiting for the component means waiting for its child (and its own dependency).
    assert result.finish[P + "after"] == pytest.approx(12.1)
    assert names(result) == ["slow", "after"]
    assert result.nodes[P + "comp"].minutes == 0.0


@pytest.mark.parametrize(
    ("type_", "inputs", "minutes"),
    [
        ("aws:eks/nodeGroup:NodeGroup", {"labels": {"node-type": "gpu"}}, 6.0),
        ("aws:eks/nodeGroup:NodeGroup", {"labels": {"node-type": "operator"}}, 3.0),
        ("gcp:container/nodePool:NodePool", {"nodeConfig": {"labels": {"node-type": "gpu"}}}, 6.0),
        ("azure-native:containerservice:AgentPool", {"nodeLabels": {"node-type": "gpu"}}, 6.0),
        ("azure-native:containerservice:AgentPool", {"nodeLabels": {"node-type": "compute"}}, 3.0),
        ("gcp:container/cluster:Cluster", {}, 6.0),
        ("azure-native:containerservice:ManagedCluster", {}, 12.0),
        ("aws:ec2/natGateway:NatGateway", {}, 2.0),
        (RELEASE, {"chart": "kube-prometheus-stack"}, 4.0),
        (RELEASE, {"chart": "prometheus-operator-crds"}, 0.2),
        (RELEASE, {"chart": "loki"}, 1.0),
        ("time:index/sleep:Sleep", {"createDuration": "5m"}, 5.0),
        ("time:index/sleep:Sleep", {"createDuration": "1m30s"}, 1.5),
        ("aws:iam/role:Role", {}, estimate.SMALL_MINUTES),
    ],
)
def test_weights_by_type_chart_pool_role_and_sleep_duration(
    type_: str, inputs: dict[str, Any], minutes: float
) -> None:
    node = estimate.graph([res("x", type_, inputs=inputs)])[P + "x"]
    assert node.minutes == pytest.approx(minutes)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("5m", 5.0),
        ("90s", 1.5),
        ("1h", 60.0),
        ("1m30s", 1.5),
        ("", None),
        ("5 m", None),
        ("x", None),
    ],
)
def test_go_durations(text: str, minutes: float | None) -> None:
    assert estimate.duration_minutes(text) == minutes


def test_the_bound_counts_the_nat_only_where_the_control_plane_waits_for_it() -> None:
    pool = {"labels": {"node-type": "operator"}}
    tail = [
        release("kai", "kai-scheduler"),
        release("backend", "backend-operator"),
        release("gpu", "gpu-operator"),
        res("gpu-pool", "aws:eks/nodeGroup:NodeGroup", inputs={"labels": {"node-type": "gpu"}}),
    ]
    parallel = [
        res("nat", "aws:ec2/natGateway:NatGateway"),
        res("cluster", "aws:eks/cluster:Cluster"),
        res("pool", "aws:eks/nodeGroup:NodeGroup", deps=("cluster", "nat"), inputs=pool),
        *tail,
    ]
    result = estimate.estimate(parallel)
    assert result.bound == 12 + 3 + 6
    assert dict(result.bound_terms) == {
        "network (NAT)": 0.0,
        "control plane": 12.0,
        "operator pool": 3.0,
        "KAI": 3.0,
        "backend-operator": 3.0,
        "GPU Operator": 6.0,
    }
    serial = [
        res("nat", "azure-native:network:NatGateway"),
        res("subnet", deps=("nat",)),
        res("cluster", "azure-native:containerservice:ManagedCluster", deps=("subnet",)),
        *tail,
    ]
    # AKS: the NAT comes first; the operator pool is the system pool, inside the cluster.
    assert estimate.estimate(serial).bound == 2 + 12 + 0 + 6


def test_an_adopted_cluster_is_bound_by_its_releases_and_the_ratio_compares() -> None:
    graph = [
        res("ns"),
        release("crds", "prometheus-operator-crds", deps=("ns",)),
        release("stack", "kube-prometheus-stack", deps=("crds",)),
        release("gpu", "gpu-operator", deps=("stack",)),
        release("kai", "kai-scheduler"),
        release("backend", "backend-operator", deps=("kai",)),
    ]
    result = estimate.estimate(graph)
    assert result.bound == 6.0
    assert result.minutes == pytest.approx(10.3)
    assert result.ratio == pytest.approx(10.3 / 6)
    assert names(result) == ["ns", "crds", "stack", "gpu"]
    assert estimate.estimate([res("ns")]).ratio is None


def test_report_prints_total_bound_ratio_and_the_chain() -> None:
    graph = [res("ns"), release("gpu", "gpu-operator", deps=("ns",))]
    assert estimate.report(estimate.estimate(graph)) == [
        "Deploy estimate: critical path 6.1 min, 1.02x the lower bound 6.0 min = network 0 + "
        "control plane 0 + operator pool 0 + max(KAI 0 + backend-operator 0, GPU Operator 6)",
        "     0.1  +0.1   kubernetes:core/v1:Namespace  ns",
        f"     6.1  +6.0   {RELEASE}  gpu",
    ]
    assert estimate.report(estimate.estimate([res("ns")])) == [
        "Deploy estimate: critical path 0.1 min (no lower bound applies)",
        "     0.1  +0.1   kubernetes:core/v1:Namespace  ns",
    ]


def test_a_cycle_is_refused() -> None:
    with pytest.raises(ValueError, match="dependency cycle"):
        estimate.estimate([res("a", deps=("b",)), res("b", deps=("a",))])


def test_dot_and_mermaid_draw_dependency_to_dependent_with_the_path_in_red() -> None:
    graph = [
        res("ns"),
        release("gpu", "gpu-operator", deps=("ns",)),
        release("kai", "kai-scheduler", deps=("ns",)),
    ]
    result = estimate.estimate(graph)
    assert names(result) == ["ns", "gpu"]
    dot = estimate.dot(result).splitlines()
    red = ', color="#d00000", penwidth=3'
    assert dot[4:] == [
        f'  n0 [label="{RELEASE}\\ngpu\\n6 min"{red}];',
        f'  n1 [label="{RELEASE}\\nkai\\n3 min"];',
        f'  n2 [label="kubernetes:core/v1:Namespace\\nns\\n0.1 min"{red}];',
        '  n2 -> n0 [color="#d00000", penwidth=3];',
        "  n2 -> n1;",
        "}",
    ]
    assert estimate.mermaid(result).splitlines() == [
        "flowchart LR",
        f'  n0["{RELEASE}<br/>gpu<br/>6 min"]',
        f'  n1["{RELEASE}<br/>kai<br/>3 min"]',
        '  n2["kubernetes:core/v1:Namespace<br/>ns<br/>0.1 min"]',
        "  n2 --> n0",
        "  n2 --> n1",
        "  classDef critical stroke:#d00000,stroke-width:3px",
        "  class n2,n0 critical",
        "  linkStyle 0 stroke:#d00000,stroke-width:3px",
    ]


def test_weights_file_overrides_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "aws:eks/cluster:Cluster: 15\n"
        "kubernetes:helm.sh/v3:Release[loki]: 2.5\n"
        "time:index/sleep:Sleep: 0\n"
    )
    weights = estimate.load_weights(path)
    assert weights["aws:eks/cluster:Cluster"] == 15.0
    assert weights[f"{RELEASE}[loki]"] == 2.5
    assert weights[f"{RELEASE}[gpu-operator]"] == 6.0  # defaults stay
    # An explicit entry wins over a sleep's own duration.
    sleep = res("s", "time:index/sleep:Sleep", inputs={"createDuration": "5m"})
    assert estimate.graph([sleep], weights)[P + "s"].minutes == 0.0


def test_a_bad_weights_file_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("a:b:C: -1\nd:e:F: soon\ng:h:I: true\nj:k:L: .nan\nok:ok:Ok: 1\n")
    with pytest.raises(estimate.WeightsError) as err:
        estimate.load_weights(path)
    where = f"--weights {path}"
    assert err.value.problems == [
        f"{where}: a:b:C: minutes must be a number >= 0, got -1",
        f"{where}: d:e:F: minutes must be a number >= 0, got 'soon'",
        f"{where}: g:h:I: minutes must be a number >= 0, got True",
        f"{where}: j:k:L: minutes must be a number >= 0, got nan",
    ]
    path.write_text("- a\n- b\n")
    with pytest.raises(estimate.WeightsError, match="must be a mapping"):
        estimate.load_weights(path)
    with pytest.raises(estimate.WeightsError, match="cannot be read as YAML"):
        estimate.load_weights(tmp_path / "missing.yaml")
