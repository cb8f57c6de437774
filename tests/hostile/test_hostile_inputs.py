"""Hostile and broken stack files through the real CLI: every case exits 2, prints each expected
`path: reason` line, never a traceback, and registers nothing (no plan directory is written).

Extend this table as new cluster kinds and keys land (issue 9 asks for 40+ across all kinds).
"""

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import cli
from tests.harness import REPO, SAMPLE_KUBECONFIG

VALID: dict[str, Any] = {
    "osmo-backend:cluster": {
        "kind": "existing",
        "name": "lab",
        "kubeconfig": str(SAMPLE_KUBECONFIG),
        "context": "onprem-lab-admin",
    },
    "osmo-backend:osmo": {"backendName": "osmo-lab", "serviceUrl": "https://osmo.example.com"},
    "osmo-backend:networking": {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}},
}


def change(path: str, value: Any) -> dict[str, Any]:
    """VALID with `key.sub.sub` set to value (None deletes)."""
    config = copy.deepcopy(VALID)
    key, *rest = path.split(".")
    if not rest:
        if value is None:
            config.pop(key, None)
        else:
            config[key] = value
        return config
    node = config.setdefault(key, {})
    for part in rest[:-1]:
        node = node.setdefault(part, {})
    if value is None:
        node.pop(rest[-1], None)
    else:
        node[rest[-1]] = value
    return config


C = "osmo-backend:cluster"
GKE: dict[str, Any] = {
    "kind": "gke",
    "name": "osmo-gke",
    "project": "osmo-test-1",
    "region": "us-central1",
    "nodePools": [
        {"name": "operator", "role": "operator", "machineType": "n1-standard-4", "minNodes": 1},
        {"name": "gpu", "role": "gpu", "machineType": "a3-highgpu-8g", "maxNodes": 2},
    ],
}


def gke(**changes: Any) -> dict[str, Any]:
    """A GKE stack with the cluster section's keys changed (None deletes)."""
    body = {k: v for k, v in {**copy.deepcopy(GKE), **changes}.items() if v is not None}
    config = change(C, body)
    config.pop("osmo-backend:networking")
    return config


AKS: dict[str, Any] = {
    "kind": "aks",
    "name": "osmo-aks",
    "location": "eastus",
    "nodePools": [
        {"name": "operator", "role": "operator", "vmSize": "Standard_D4s_v3", "minCount": 1},
        {"name": "gpu", "role": "gpu", "vmSize": "Standard_NC24ads_A100_v4", "maxCount": 2},
    ],
}


def aks(**changes: Any) -> dict[str, Any]:
    """An AKS stack with the cluster section's keys changed (None deletes)."""
    body = {k: v for k, v in {**copy.deepcopy(AKS), **changes}.items() if v is not None}
    config = change(C, body)
    config.pop("osmo-backend:networking")
    return config


def gke_pool(**changes: Any) -> dict[str, Any]:
    """A GKE stack whose gpu pool has the given keys changed."""
    pool = {**GKE["nodePools"][1], **changes}
    return gke(nodePools=[GKE["nodePools"][0], pool])


OSMO = "osmo-backend:osmo"
N = "osmo-backend:networking"
M = "osmo-backend:monitoring"
P = "osmo-backend:operators"
S = "osmo-backend:storage"

CASES: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        # pulumi/pulumi pkg/workspace/config.go mergeConfig: a declared key the stack leaves out.
        "cluster missing",
        change(C, None),
        ["Stack 'hostile' is missing configuration value 'osmo-backend:cluster'"],
    ),
    ("cluster not an object", change(C, "eks"), [f"{C}: must be an object"]),
    ("kind unknown", change(f"{C}.kind", "openshift"), [f"{C}.kind: 'openshift' is not one of"]),
    (
        "gke name uppercase and too long",
        gke(name="Osmo-" + "x" * 40),
        [f"{C}.name: 'Osmo-{'x' * 40}' is not a GKE cluster name"],
    ),
    (
        "gke region, project and zone",
        gke(region="us_central1", project="P", zone="europe-west4-a"),
        [
            f"{C}.region: 'us_central1' is not a region like us-central1",
            f"{C}.project: 'P' is not a Google Cloud project id",
        ],
    ),
    (
        "gke zone outside its region",
        gke(zone="europe-west4-a"),
        [f"{C}.zone: 'europe-west4-a' is not a zone of us-central1"],
    ),
    (
        "gke version below 1.30",
        gke(kubernetesVersion="1.29"),
        [f"{C}.kubernetesVersion: '1.29' is not supported; use 1.30 or later"],
    ),
    (
        "gke gpu pool on a CPU machine",
        gke_pool(machineType="n2-standard-8"),
        [f"{C}.nodePools[1].accelerator: is required for a gpu pool on n2-standard-8"],
    ),
    (
        "gke accelerator on a machine that cannot take one",
        gke_pool(machineType="e2-standard-8", accelerator={"type": "nvidia-tesla-t4"}),
        [f"{C}.nodePools[1].accelerator: e2-standard-8 cannot take attached GPUs"],
    ),
    (
        "gke operator driver on COS",
        gke_pool(gpuDriver="operator"),
        [
            f"{C}.nodePools[1].gpuDriver: operator-installed drivers need imageType UBUNTU_CONTAINERD"
        ],
    ),
    (
        "gke node counts",
        gke_pool(minNodes=5, maxNodes=2),
        [f"{C}.nodePools[1]: needs minNodes <= maxNodes, got 5 > 2"],
    ),
    (
        "gke overlapping ranges",
        gke(network={"subnetCidr": "10.0.0.0/16", "podCidr": "10.0.0.0/14"}),
        [f"{C}.network.podCidr: 10.0.0.0/14 overlaps subnetCidr 10.0.0.0/16"],
    ),
    (
        "gke private endpoint without private nodes",
        gke(privateNodes=False),
        [f"{C}.endpoint.privateEndpoint: a private endpoint needs private nodes"],
    ),
    (
        "gke authorized networks open to the internet",
        gke(endpoint={"privateEndpoint": False, "authorizedNetworks": ["0.0.0.0/0"]}),
        [
            f"{C}.endpoint.authorizedNetworks[0]: opens the API server to the internet",
            f"{C}.endpoint.authorizedNetworks: a public endpoint needs the networks allowed",
        ],
    ),
    (
        "gke gpu pools without the GPU Operator",
        {**gke(), P: {"gpuOperator": {"enabled": False}}},
        [f"{P}.gpuOperator.enabled: GKE gpu pools turn GKE's own device plugin off"],
    ),
    (
        "aks name and location",
        aks(name="Osmo_AKS", location="East US"),
        [
            f"{C}.name: 'Osmo_AKS' is not an AKS cluster name",
            f"{C}.location: 'East US' is not an Azure location like eastus",
        ],
    ),
    (
        "aks version below 1.30",
        aks(kubernetesVersion="1.27"),
        [f"{C}.kubernetesVersion: '1.27' is not supported; use 1.30 or later"],
    ),
    (
        "aks gpu role on a non-N-series size",
        aks(
            nodePools=[
                AKS["nodePools"][0],
                {"name": "gpu", "role": "gpu", "vmSize": "Standard_D8s_v3"},
            ]
        ),
        [f"{C}.nodePools[1].vmSize: Standard_D8s_v3 has no NVIDIA GPU"],
    ),
    (
        "aks system pool without nodes",
        aks(nodePools=[{**AKS["nodePools"][0], "minCount": 0}]),
        [f"{C}.nodePools[0].minCount: the operator pool is AKS's system pool"],
    ),
    (
        "aks private cluster with authorized ranges",
        aks(apiServer={"privateCluster": True, "authorizedIpRanges": ["203.0.113.0/24"]}),
        [f"{C}.apiServer: privateCluster and authorizedIpRanges are mutually exclusive"],
    ),
    (
        "aks dns service ip outside the service range",
        aks(network={"dnsServiceIp": "192.168.0.10"}),
        [f"{C}.network.dnsServiceIp: 192.168.0.10 is outside the service CIDR 10.0.0.0/16"],
    ),
    (
        "aks dns service ip is the first address",
        aks(network={"dnsServiceIp": "10.0.0.1"}),
        [f"{C}.network.dnsServiceIp: 10.0.0.1 is reserved"],
    ),
    (
        "aks overlapping ranges",
        aks(network={"vnetCidr": "10.0.0.0/8"}),
        [f"{C}.network.serviceCidr: 10.0.0.0/16 overlaps vnetCidr 10.0.0.0/8"],
    ),
    (
        "cluster name uppercase",
        change(f"{C}.name", "Lab"),
        [f"{C}.name: 'Lab' is not a DNS-1123 label"],
    ),
    (
        "cluster name 64 chars",
        change(f"{C}.name", "a" * 64),
        [f"{C}.name: '{'a' * 64}' is 64 characters"],
    ),
    (
        "cluster name number",
        change(f"{C}.name", 7),
        [f"{C}.name: must be a non-empty string, got 7"],
    ),
    (
        "kubeconfig missing",
        change(f"{C}.kubeconfig", "/nonexistent/kc"),
        [f"{C}.kubeconfig: kubeconfig file '/nonexistent/kc' does not exist"],
    ),
    (
        "kubeconfig is a directory",
        change(f"{C}.kubeconfig", "/tmp"),
        [f"{C}.kubeconfig: '/tmp' is a directory"],
    ),
    (
        "kubeconfig device",
        change(f"{C}.kubeconfig", "/dev/null"),
        [f"{C}.kubeconfig: '/dev/null' is not a regular file"],
    ),
    (
        "context unknown",
        change(f"{C}.context", "prod"),
        [
            f"{C}.kubeconfig: context 'prod' not found; the kubeconfig has: onprem-lab-admin, onprem-lab-readonly"
        ],
    ),
    ("context empty", change(f"{C}.context", ""), [f"{C}.context: must be a non-empty string"]),
    (
        "typo in cluster key",
        change(f"{C}.nodeRole", {}),
        [f"{C}.nodeRole: unknown key; did you mean 'nodeRoles'?"],
    ),
    (
        "unknown role",
        change(f"{C}.nodeRoles", {"storage": {}}),
        [f"{C}.nodeRoles.storage: unknown key"],
    ),
    (
        "node in two roles",
        change(f"{C}.nodeRoles", {"compute": {"nodes": ["n1"]}, "gpu": {"nodes": ["n1"]}}),
        [f"{C}.nodeRoles.gpu.nodes[0]: node 'n1' is already listed under role 'compute'"],
    ),
    (
        "node listed twice",
        change(f"{C}.nodeRoles", {"gpu": {"nodes": ["n1", "n1"]}}),
        [f"{C}.nodeRoles.gpu.nodes[1]: node 'n1' is listed twice"],
    ),
    (
        "bad node name",
        change(f"{C}.nodeRoles", {"gpu": {"nodes": ["GPU_01"]}}),
        [f"{C}.nodeRoles.gpu.nodes[0]: node name 'GPU_01' is not a DNS-1123 subdomain"],
    ),
    (
        "selector value not string",
        change(f"{C}.nodeRoles", {"gpu": {"selector": {"gpu": True}}}),
        [f"{C}.nodeRoles.gpu.selector.gpu: label values are strings; got True (quote it)"],
    ),
    (
        "selector bad key",
        change(f"{C}.nodeRoles", {"gpu": {"selector": {"bad key": "x"}}}),
        [f"{C}.nodeRoles.gpu.selector.bad key: label key 'bad key' is invalid"],
    ),
    (
        "gpu stack owner",
        change(f"{C}.gpuStack", {"driver": "nvidia"}),
        [f"{C}.gpuStack.driver: 'nvidia' is not one of: operator, host"],
    ),
    (
        "osmo missing",
        change(OSMO, None),
        ["Stack 'hostile' is missing configuration value 'osmo-backend:osmo'"],
    ),
    (
        "backend name underscore",
        change(f"{OSMO}.backendName", "osmo_lab"),
        [f"{OSMO}.backendName: 'osmo_lab' is not a DNS-1123 label"],
    ),
    (
        "service url http",
        change(f"{OSMO}.serviceUrl", "http://osmo.example.com"),
        [
            f"{OSMO}.serviceUrl: 'http://osmo.example.com' must be an absolute https:// URL with a host"
        ],
    ),
    (
        "service url credentials",
        change(f"{OSMO}.serviceUrl", "https://a:b@osmo.example.com"),
        [f"{OSMO}.serviceUrl: must not carry credentials"],
    ),
    (
        "service url no host",
        change(f"{OSMO}.serviceUrl", "https://"),
        [f"{OSMO}.serviceUrl: 'https://' must be an absolute https:// URL with a host"],
    ),
    (
        "image tag latest",
        change(f"{OSMO}.imageTag", "latest"),
        [f"{OSMO}.imageTag: 'latest' is not a pinned version tag"],
    ),
    (
        "image tag injection",
        change(f"{OSMO}.imageTag", "6.4.0; rm -rf /"),
        [f"{OSMO}.imageTag: '6.4.0; rm -rf /' is not a pinned version tag"],
    ),
    (
        "token source",
        change(f"{OSMO}.token", {"source": "vault"}),
        [f"{OSMO}.token.source: 'vault' is not one of: generate, config, existing"],
    ),
    (
        "credential name too long",
        change(f"{OSMO}.token", {"credentialName": "c" * 50}),
        [f"{OSMO}.token.credentialName: '{'c' * 50}' is 50 characters; at most 49 are allowed"],
    ),
    (
        "token in plain text",
        {**change(f"{OSMO}.token", {"source": "config"}), "osmo-backend:backendToken": "A" * 43},
        [
            "osmo-backend:backendToken: holds the OSMO backend bootstrap token and must be a secret: set it with `pulumi config set --secret backendToken ...`"
        ],
    ),
    (
        "secret kubeconfig in plain text",
        {**change(f"{C}.kubeconfig", None), "osmo-backend:kubeconfig": "apiVersion: v1"},
        [
            "osmo-backend:kubeconfig: holds cluster credentials and must be a secret: set it with `pulumi config set --secret kubeconfig ...`"
        ],
    ),
    (
        "namespaces collide",
        change(f"{OSMO}.namespaces", {"operator": "osmo", "workflows": "osmo"}),
        [f"{OSMO}.namespaces: operator, workflows and test must be different namespaces"],
    ),
    (
        "chart override typo",
        change(P, {"gpuOperator": {"values": {"driver": {"enable": False}}}}),
        [
            f"{P}.gpuOperator.values.driver.enable: the gpu-operator chart v25.10.1 does not read this key"
        ],
    ),
    (
        "release name too long",
        change(P, {"kaiScheduler": {"releaseName": "k" * 60}}),
        [f"{P}.kaiScheduler.releaseName: '{'k' * 60}' is 60 characters; at most 53 are allowed"],
    ),
    (
        "cidr invalid",
        change(N, {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/40"]}}),
        [f"{N}.workflowPolicy.clusterCIDRs[0]: '10.0.0.0/40' is not a CIDR"],
    ),
    (
        "cidr everything",
        change(N, {"workflowPolicy": {"clusterCIDRs": ["0.0.0.0/0"]}}),
        [f"{N}.workflowPolicy.clusterCIDRs[0]: '0.0.0.0/0' covers every address"],
    ),
    (
        "cidrs overlap",
        change(N, {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8", "10.2.0.0/16"]}}),
        [f"{N}.workflowPolicy.clusterCIDRs[1]: 10.2.0.0/16 overlaps 10.0.0.0/8"],
    ),
    (
        "policy without cidrs",
        change(N, {"workflowPolicy": {}}),
        [f"{N}.workflowPolicy.clusterCIDRs: is required while the workflow policy is enabled"],
    ),
    (
        "retention format",
        change(M, {"prometheus": {"retention": "two weeks"}}),
        [f"{M}.prometheus.retention: 'two weeks' is not a Prometheus duration"],
    ),
    (
        "grafana url scheme",
        change(M, {"grafana": {"url": "ftp://grafana"}}),
        [
            f"{M}.grafana.url: 'ftp://grafana' must be an absolute https:// or http:// URL with a host"
        ],
    ),
    (
        "cloud logs on existing",
        change(M, {"logs": {"backend": "cloud"}}),
        [f"{M}.logs.backend: 'cloud' needs a cloud cluster"],
    ),
    (
        "bucket uri scheme",
        change(S, {"workflowData": {"uri": "https://bucket"}}),
        [f"{S}.workflowData.uri: 'https://bucket' must be an s3://<bucket>[/prefix], gs://"],
    ),
    (
        "unknown top-level key",
        change("osmo-backend:clusters", {}),
        ["osmo-backend:clusters: unknown key; did you mean 'cluster'?"],
    ),
    (
        "several errors at once",
        {
            **change(f"{C}.name", "Bad"),
            OSMO: {"backendName": "Bad", "serviceUrl": "http://x", "imagTag": "1"},
        },
        [
            f"{C}.name: 'Bad' is not a DNS-1123 label",
            f"{OSMO}.imagTag: unknown key; did you mean 'imageTag'?",
            f"{OSMO}.backendName: 'Bad' is not a DNS-1123 label",
            f"{OSMO}.serviceUrl: 'http://x' must be an absolute https:// URL with a host",
        ],
    ),
]


@pytest.mark.parametrize(("config", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_hostile_config_is_refused_line_by_line(
    config: dict[str, Any], expected: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack = tmp_path / "Pulumi.hostile.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    out = tmp_path / "plan"
    code = cli.main(
        ["--project-dir", str(REPO), "plan", "--config-file", str(stack), "--out", str(out)]
    )
    captured = capsys.readouterr()
    assert code == 2
    assert "Traceback" not in captured.out + captured.err
    lines = captured.err.splitlines()
    for fragment in expected:
        # Stack-file problems are reported against the file itself: `<file>: <key> ...`.
        assert any(line.startswith((fragment, f"{stack}: {fragment}")) for line in lines), (
            fragment,
            lines,
        )
    assert not out.exists()  # nothing was planned, so nothing was registered


def test_the_suite_is_large_enough() -> None:
    assert len(CASES) >= 40
