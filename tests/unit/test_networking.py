"""`osmo-backend:networking`: the workflow egress policy and the egress allowlist."""

import ipaddress
from typing import Any

import pytest

from components import chart_keys, versions
from components.config import ConfigError, StackSpec, WorkflowPolicySpec, load_spec
from components.config.networking import BLOCKED_BY_DEFAULT
from components.networking import egress_allowlist, unreachable_ipv4, workflow_policy_values
from tests.harness import REPO, config, encode


def spec(values: dict[str, Any]) -> StackSpec:
    return load_spec(encode(values), (), base_dir=REPO)


def problems(policy: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        spec(config(networking={"workflowPolicy": policy}))
    return err.value.problems


def test_policy_is_on_by_default_with_the_given_ranges() -> None:
    policy = spec(config()).networking.workflow_policy
    assert policy.enabled is True
    assert policy.cluster_cidrs == ("10.244.0.0/16", "10.96.0.0/12", "192.168.10.0/24")
    assert policy.dns_namespace == "kube-system"


def test_an_existing_cluster_must_name_its_ranges_or_turn_the_policy_off() -> None:
    assert problems({}) == (
        "osmo-backend:networking.workflowPolicy.clusterCIDRs: is required while the workflow "
        "policy is enabled and the stack does not create the network: list the cluster's pod, "
        "service and node CIDRs (without them the policy isolates nothing), or set "
        "enabled: false",
    )
    off = spec(config(networking={"workflowPolicy": {"enabled": False}})).networking
    assert workflow_policy_values(off.workflow_policy) == {"enabled": False}


@pytest.mark.parametrize(
    ("cidrs", "expected"),
    [
        (["10.0.0.0/33"], "'10.0.0.0/33' is not a CIDR"),
        (["10.0.0.1/8"], "'10.0.0.1/8' is not a CIDR"),
        (["0.0.0.0/0"], "'0.0.0.0/0' covers every address; list the cluster's own ranges"),
        (["10.0.0.0/8", "10.1.0.0/16"], "10.1.0.0/16 overlaps 10.0.0.0/8 listed before it"),
    ],
)
def test_bad_cidrs(cidrs: list[str], expected: str) -> None:
    (line,) = problems({"clusterCIDRs": cidrs})
    assert line.startswith(
        f"osmo-backend:networking.workflowPolicy.clusterCIDRs[{len(cidrs) - 1}]: "
    )
    assert expected in line


def test_other_rejected_policy_inputs() -> None:
    assert problems(
        {
            "clusterCIDRs": ["10.0.0.0/8"],
            "allowedNamespaces": ["OSMO"],
            "additionalEgressRules": [{"to": [], "from": []}],
            "dnsNamespace": "",
        }
    ) == (
        "osmo-backend:networking.workflowPolicy.dnsNamespace: must be a non-empty string, got ''",
        "osmo-backend:networking.workflowPolicy.allowedNamespaces[0]: 'OSMO' is not a DNS-1123 "
        "label; use lowercase letters, digits and '-', starting and ending with a letter or digit",
        "osmo-backend:networking.workflowPolicy.additionalEgressRules[0]: a NetworkPolicy egress "
        "rule has only `to` and `ports`, not ['from']",
    )


def test_policy_values_for_the_backend_operator_chart() -> None:
    values = workflow_policy_values(
        WorkflowPolicySpec(
            cluster_cidrs=("10.0.0.0/8",),
            allowed_namespaces=("osmo",),
            allowed_cidrs=("10.96.0.10/32",),
            extra_egress_rules=({"ports": [{"port": 8080}]},),
        )
    )
    assert values == {
        "enabled": True,
        "clusterCIDRs": ["10.0.0.0/8"],
        "dnsNamespace": "kube-system",
        "allowedNamespaces": ["osmo"],
        "additionalEgressRules": [
            {"to": [{"ipBlock": {"cidr": "10.96.0.10/32"}}]},
            {"ports": [{"port": 8080}]},
        ],
    }
    index = chart_keys.load("backend-operator", versions.BACKEND_OPERATOR.version)
    assert chart_keys.unknown_keys(index, {"global": {"networkPolicy": values}}) == []


def test_egress_allowlist_follows_what_the_stack_installs() -> None:
    full = spec(config(monitoring={"dashboard": {"enabled": True}}))
    hosts = {
        e["host"]: e["purpose"]
        for e in egress_allowlist(full.osmo, full.operators, full.monitoring)
    }
    assert sorted(hosts) == [
        "docker.io",
        "ghcr.io",
        "nvcr.io",
        "osmo.example.com",
        "quay.io",
        "raw.githubusercontent.com",
        "registry.k8s.io",
    ]
    assert "Headlamp image" in hosts["ghcr.io"]
    minimal = spec(
        config(monitoring={"enabled": False}, operators={"gpuOperator": {"enabled": False}})
    )
    entries = egress_allowlist(minimal.osmo, minimal.operators, minimal.monitoring)
    assert [(e["host"], e["port"]) for e in entries] == [
        ("ghcr.io", 443),
        ("nvcr.io", 443),
        ("osmo.example.com", 443),
    ]
    assert entries[1]["purpose"] == "OSMO backend-operator images"


@pytest.mark.parametrize(
    ("data", "entry"),
    [
        (
            {"uri": "s3://osmo-lab", "endpoint": "http://minio.lab.internal:9000"},
            ("minio.lab.internal", 9000),
        ),
        ({"uri": "s3://osmo-lab", "endpoint": "https://s3.lab.internal"}, ("s3.lab.internal", 443)),
        (
            {"uri": "s3://osmo-lab", "region": "eu-west-1"},
            ("osmo-lab.s3.eu-west-1.amazonaws.com", 443),
        ),
        ({"uri": "gs://osmo-lab"}, ("storage.googleapis.com", 443)),
        ({"uri": "azure://osmolab/workflows"}, ("osmolab.blob.core.windows.net", 443)),
    ],
)
def test_egress_allowlist_names_the_workflow_data_store(
    data: dict[str, Any], entry: tuple[str, int]
) -> None:
    values = config(storage={"workflowData": data})
    values["osmo-backend:storageAccessKeyId"] = "AKID"
    values["osmo-backend:storageSecretAccessKey"] = "secret"
    keys = ("osmo-backend:storageAccessKeyId", "osmo-backend:storageSecretAccessKey")
    loaded = load_spec(encode(values), keys, base_dir=REPO)
    entries = egress_allowlist(
        loaded.osmo,
        loaded.operators,
        loaded.monitoring,
        workflow_data=loaded.storage.workflow_data,
    )
    found = [e for e in entries if e["purpose"] == "workflow data bucket"]
    assert [(e["host"], e["port"]) for e in found] == [entry]


def test_ingress_controller_is_off_by_default_and_validated() -> None:
    assert spec(config()).networking.ingress is None
    on = spec(
        config(
            networking={
                "ingress": {"enabled": True},
                "workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]},
            }
        )
    )
    assert on.networking.ingress is not None
    assert (on.networking.ingress.class_name, on.networking.ingress.service_type) == (
        "osmo",
        "LoadBalancer",
    )
    with pytest.raises(ConfigError) as err:
        spec(
            config(
                networking={
                    "workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]},
                    "ingress": {
                        "enabled": True,
                        "serviceType": "HostPort",
                        "values": {"servce": {}},
                    },
                }
            )
        )
    assert err.value.problems == (
        "osmo-backend:networking.ingress.serviceType: 'HostPort' is not one of: LoadBalancer, "
        "NodePort, ClusterIP",
        "osmo-backend:networking.ingress.values.servce: the traefik chart 41.3.0 does not read "
        "this key (see https://github.com/traefik/traefik-helm-chart/blob/v41.3.0/traefik/values.yaml)",
    )


def test_web_ui_ingresses_default_to_the_controllers_class() -> None:
    values = config(
        networking={
            "ingress": {"enabled": True, "className": "edge"},
            "workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]},
        },
        monitoring={
            "grafana": {"ingress": {"host": "g.example.com"}},
            "dashboard": {
                "enabled": True,
                "ingress": {"host": "k.example.com", "className": "other"},
            },
        },
    )
    m = spec(values).monitoring
    assert m.grafana.ingress is not None
    assert m.grafana.ingress.class_name == "edge"
    assert m.dashboard is not None
    assert m.dashboard.ingress is not None
    assert m.dashboard.ingress.class_name == "other"


def test_ingress_controller_release_and_namespace() -> None:
    from tests.harness import run_main

    rec = run_main(
        config(
            networking={
                "ingress": {"enabled": True},
                "workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]},
            }
        )
    )
    release = rec.get("kubernetes:helm.sh/v3:Release", "osmo-ingress-traefik")
    assert (release.inputs["chart"], release.inputs["version"], release.inputs["namespace"]) == (
        "traefik",
        "41.3.0",
        "ingress",
    )
    assert release.inputs["values"]["ingressClass"] == {
        "enabled": True,
        "isDefaultClass": False,
        "name": "osmo",
    }
    assert release.inputs["values"]["service"] == {"spec": {"type": "LoadBalancer"}}
    assert release.options["deletedWith"] is None
    ns = rec.get("kubernetes:core/v1:Namespace", "osmo-ingress-ns")
    assert ns.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "baseline"
    index = chart_keys.load("traefik", versions.TRAEFIK.version)
    assert chart_keys.unknown_keys(index, release.inputs["values"]) == []
    hosts = {e["host"]: e["purpose"] for e in rec.outputs["egress_allowlist"]}
    assert "Traefik image" in hosts["docker.io"]


def test_workflow_pods_never_reach_the_metadata_services_by_default() -> None:
    """Link-local holds AWS's and Azure's instance metadata service (169.254.169.254, where a
    node role's or a managed identity's credentials are); 168.63.129.16 is Azure's host address.
    An existing cluster may run on either. GKE keeps its metadata server reachable: it answers a
    pod only with that pod's own Workload Identity, which needs it."""
    policy = spec(config()).networking.workflow_policy
    assert policy.blocked_cidrs == ("169.254.0.0/16", "168.63.129.16/32")
    assert workflow_policy_values(policy)["clusterCIDRs"] == [
        "10.244.0.0/16",
        "10.96.0.0/12",
        "192.168.10.0/24",
        "169.254.0.0/16",
        "168.63.129.16/32",
    ]
    assert BLOCKED_BY_DEFAULT == {
        "eks": ("169.254.0.0/16",),
        "aks": ("169.254.0.0/16", "168.63.129.16/32"),
        "existing": ("169.254.0.0/16", "168.63.129.16/32"),
        "gke": (),
    }
    opened = spec(
        config(networking={"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"], "blockedCIDRs": []}})
    )
    assert workflow_policy_values(opened.networking.workflow_policy)["clusterCIDRs"] == [
        "10.0.0.0/8"
    ]


def test_an_existing_cluster_may_list_the_only_networks_workflows_reach() -> None:
    """The chart renders one rule, `0.0.0.0/0` except `clusterCIDRs`
    (NVIDIA/OSMO deployments/charts/backend-operator/templates/backend-network-policy.yaml): the
    complement of the listed networks goes into that `except`."""
    reachable = spec(
        config(
            networking={
                "workflowPolicy": {
                    "clusterCIDRs": ["10.244.0.0/16"],
                    "reachableCIDRs": ["10.0.0.0/8", "203.0.113.0/24"],
                }
            }
        )
    ).networking.workflow_policy
    assert reachable.reachable_cidrs == ("10.0.0.0/8", "203.0.113.0/24")
    excepted = workflow_policy_values(reachable)["clusterCIDRs"]
    assert excepted[:3] == ["10.244.0.0/16", "169.254.0.0/16", "168.63.129.16/32"]
    rest = [ipaddress.ip_network(c) for c in excepted[3:]]
    for address in ("10.1.2.3", "203.0.113.9"):
        assert not any(ipaddress.ip_address(address) in n for n in rest)
    for address in ("8.8.8.8", "11.0.0.1", "203.0.114.1", "192.168.1.1", "255.255.255.255"):
        assert any(ipaddress.ip_address(address) in n for n in rest)
    assert unreachable_ipv4(["10.0.0.0/8"]) == [
        "0.0.0.0/5",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
        "16.0.0.0/4",
        "32.0.0.0/3",
        "64.0.0.0/2",
        "128.0.0.0/1",
    ]


def test_blocked_and_reachable_networks_are_checked() -> None:
    assert problems(
        {
            "clusterCIDRs": ["10.0.0.0/8"],
            "blockedCIDRs": ["169.254.0.0/33"],
            "reachableCIDRs": ["fd00::/8"],
        }
    ) == (
        "osmo-backend:networking.workflowPolicy.blockedCIDRs[0]: '169.254.0.0/33' is not a CIDR "
        "('169.254.0.0/33' does not appear to be an IPv4 or IPv6 network)",
        "osmo-backend:networking.workflowPolicy.reachableCIDRs[0]: 'fd00::/8' is not IPv4: the "
        "policy's egress rule is 0.0.0.0/0 minus what workflow pods may not reach",
    )
