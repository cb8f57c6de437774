"""The stack-config contract: defaults, and every bad input reported as `path: reason`."""

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.clusters.existing.config import NodeRoleSpec
from components.config import (
    KUBECONFIG_SECRET_KEY,
    SECRET_PLACEHOLDER_PREFIX,
    ConfigError,
    GpuStackSpec,
    load_spec,
)
from tests.harness import REPO, SAMPLE_KUBECONFIG, config, encode


def problems(values: dict[str, Any], secret_keys: tuple[str, ...] = ()) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        load_spec(encode(values), secret_keys, base_dir=REPO)
    return err.value.problems


def test_valid_config_gets_osmo_default_roles_and_the_minified_kubeconfig() -> None:
    spec = load_spec(encode(config()), base_dir=REPO)
    cluster = spec.cluster
    assert (cluster.kind, cluster.name) == ("existing", "lab")
    assert spec.osmo.backend_name == "lab-backend"
    assert cluster.node_roles == (
        NodeRoleSpec("operator", {"node-type": "operator"}),
        NodeRoleSpec("compute", {"node-type": "compute"}),
        NodeRoleSpec("gpu", {"node-type": "gpu"}),
        NodeRoleSpec("jetson", {"node-type": "jetson"}),
    )
    assert cluster.gpu_stack == GpuStackSpec(driver="operator", toolkit="operator")
    assert cluster.kubeconfig.context == "onprem-lab-admin"
    assert cluster.kubeconfig.server == "https://k8s-api.lab.example.internal:6443"
    assert cluster.kubeconfig.origin == f"file {SAMPLE_KUBECONFIG}"
    assert "readonly" not in cluster.kubeconfig.content
    # The content is a secret: it never shows in a repr (logs, tracebacks).
    assert "sample-token" not in repr(spec)


def test_relative_kubeconfig_path_resolves_against_the_project_dir() -> None:
    values = config(cluster={"kubeconfig": "examples/onprem-lab/kubeconfig.yaml"})
    spec = load_spec(encode(values), base_dir=REPO)
    assert spec.cluster.kubeconfig.context == "onprem-lab-admin"


def test_custom_selectors_nodes_and_gpu_stack() -> None:
    values = config(
        cluster={
            "nodeRoles": {
                "gpu": {"selector": {"pool": "dgx"}, "nodes": ["dgx-01", "dgx-02"]},
                "operator": {"nodes": ["cpu-01"]},
            },
            "gpuStack": {"driver": "host", "toolkit": "host"},
        }
    )
    spec = load_spec(encode(values), base_dir=REPO)
    roles = {r.role: r for r in spec.cluster.node_roles}
    assert roles["gpu"] == NodeRoleSpec("gpu", {"pool": "dgx"}, ("dgx-01", "dgx-02"))
    assert roles["operator"].nodes == ("cpu-01",)
    assert spec.cluster.gpu_stack == GpuStackSpec(driver="host", toolkit="host")


def test_fails_on_missing_kubeconfig_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems(config(cluster={"kubeconfig": str(missing)})) == (
        f"osmo-backend:cluster.kubeconfig: kubeconfig file {str(missing)!r} does not exist",
    )


def test_fails_on_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    assert problems(config(cluster={"kubeconfig": str(tmp_path)})) == (
        f"osmo-backend:cluster.kubeconfig: {str(tmp_path)!r} is a directory, not a kubeconfig file",
    )


def test_fails_on_unparsable_kubeconfig(tmp_path: Path) -> None:
    bad = tmp_path / "kc.yaml"
    bad.write_text("clusters: [\n  token: abc: def\n")
    (line,) = problems(config(cluster={"kubeconfig": str(bad)}))
    assert line.startswith("osmo-backend:cluster.kubeconfig: kubeconfig is not valid YAML at line ")
    assert "abc" not in line


def test_fails_on_kubeconfig_without_clusters_or_contexts(tmp_path: Path) -> None:
    empty = tmp_path / "kc.yaml"
    empty.write_text("apiVersion: v1\nkind: Config\n")
    assert problems(config(cluster={"kubeconfig": str(empty)})) == (
        "osmo-backend:cluster.kubeconfig: kubeconfig defines no clusters",
        "osmo-backend:cluster.kubeconfig: kubeconfig defines no contexts",
    )


def test_fails_on_unknown_context_listing_the_known_ones() -> None:
    assert problems(config(cluster={"context": "prod"})) == (
        "osmo-backend:cluster.kubeconfig: context 'prod' not found; the kubeconfig has: "
        "onprem-lab-admin, onprem-lab-readonly",
    )


def test_fails_on_empty_server(tmp_path: Path) -> None:
    doc = yaml.safe_load(SAMPLE_KUBECONFIG.read_text())
    doc["clusters"][0]["cluster"]["server"] = ""
    path = tmp_path / "kc.yaml"
    path.write_text(yaml.safe_dump(doc))
    assert problems(config(cluster={"kubeconfig": str(path)})) == (
        "osmo-backend:cluster.kubeconfig: cluster 'onprem-lab' of context 'onprem-lab-admin' "
        "has no server URL",
    )


@pytest.mark.parametrize("name", ["Lab_Backend", "-x", "a" * 64, ""])
def test_fails_on_invalid_backend_name(name: str) -> None:
    (line,) = problems(config(osmo={"backendName": name}))
    assert line.startswith("osmo-backend:osmo.backendName: ")
    assert "DNS-1123 label" in line or "at most 63" in line or "must be a non-empty string" in line


def test_fails_on_a_node_listed_under_two_roles() -> None:
    values = config(
        cluster={"nodeRoles": {"compute": {"nodes": ["n1"]}, "gpu": {"nodes": ["n2", "n1"]}}}
    )
    assert problems(values) == (
        "osmo-backend:cluster.nodeRoles.gpu.nodes[1]: node 'n1' is already listed under role "
        "'compute'; a node has exactly one role",
    )


def test_fails_on_unknown_keys_at_every_level() -> None:
    values = config(
        cluster={"kubeConfig": "x", "nodeRoles": {"gpus": {}, "gpu": {"selectr": {"a": "b"}}}},
        osmo={"backendNmae": "x"},
    )
    values["osmo-backend:clustr"] = {}
    assert problems(values) == (
        "osmo-backend:clustr: unknown key; did you mean 'cluster'? (allowed: backendToken, "
        "cluster, controlPlaneKubeconfig, kubeconfig, monitoring, networking, ngcApiKey, "
        "operators, osmo, policy, previousBackendToken, storage, storageAccessKeyId, "
        "storageSecretAccessKey)",
        "osmo-backend:cluster.kubeConfig: unknown key; did you mean 'kubeconfig'? "
        "(allowed: context, gpuStack, kind, kubeconfig, name, nodeRoles)",
        "osmo-backend:cluster.nodeRoles.gpus: unknown key; did you mean 'gpu'? "
        "(allowed: compute, gpu, jetson, operator)",
        "osmo-backend:cluster.nodeRoles.gpu.selectr: unknown key; did you mean 'selector'? "
        "(allowed: nodes, selector)",
        "osmo-backend:osmo.backendNmae: unknown key; did you mean 'backendName'? "
        "(allowed: backendName, backendTests, controlPlane, imagePullSecret, imageTag, "
        "namespaces, pool, routerAddress, serviceUrl, token)",
    )


def test_fails_on_unknown_kind() -> None:
    assert problems(config(cluster={"kind": "k3s"})) == (
        "osmo-backend:cluster.kind: 'k3s' is not one of: existing, eks, gke, aks",
    )


def test_missing_sections_are_required() -> None:
    assert problems(config(cluster=None, osmo=None)) == (
        "osmo-backend:cluster: is required (an object with at least `kind` and `name`)",
        "osmo-backend:osmo: is required (an object with at least `backendName` and `serviceUrl`)",
    )


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    values = config(
        cluster={
            "name": "Lab",
            "kubeconfig": str(tmp_path / "missing"),
            "nodeRoles": {"gpu": {"selector": {"nvidia.com/gpu": 1}, "nodes": ["Bad_Node"]}},
            "gpuStack": {"driver": "preinstalled"},
        },
        osmo={"backendName": "UPPER"},
    )
    lines = problems(values)
    assert [line.split(":", 2)[1] for line in lines] == [
        "cluster.name",
        "cluster.kubeconfig",
        "cluster.nodeRoles.gpu.selector.nvidia.com/gpu",
        "cluster.nodeRoles.gpu.nodes[0]",
        "cluster.gpuStack.driver",
        "osmo.backendName",
    ]
    assert "label values are strings; got 1 (quote it)" in lines[2]
    assert "'preinstalled' is not one of: operator, host" in lines[4]


def test_empty_selector_is_rejected() -> None:
    assert problems(config(cluster={"nodeRoles": {"gpu": {"selector": {}}}})) == (
        "osmo-backend:cluster.nodeRoles.gpu.selector: must select at least one label "
        "(an empty selector matches every node)",
    )


def test_kubeconfig_content_from_a_secret_is_checked_like_a_file() -> None:
    values = config(cluster={"kubeconfig": None, "context": "onprem-lab-readonly"})
    values[KUBECONFIG_SECRET_KEY] = SAMPLE_KUBECONFIG.read_text()
    spec = load_spec(encode(values), {KUBECONFIG_SECRET_KEY}, base_dir=REPO)
    assert spec.cluster.kubeconfig.origin == f"secret {KUBECONFIG_SECRET_KEY}"
    assert spec.cluster.kubeconfig.context == "onprem-lab-readonly"
    values = config(cluster={"kubeconfig": None, "context": "other"})
    values[KUBECONFIG_SECRET_KEY] = SAMPLE_KUBECONFIG.read_text()
    assert problems(values, (KUBECONFIG_SECRET_KEY,)) == (
        "osmo-backend:kubeconfig: context 'other' not found; the kubeconfig has: "
        "onprem-lab-admin, onprem-lab-readonly",
    )


def test_kubeconfig_content_must_be_a_secret() -> None:
    values = config(cluster={"kubeconfig": None})
    values[KUBECONFIG_SECRET_KEY] = SAMPLE_KUBECONFIG.read_text()
    assert problems(values) == (
        "osmo-backend:kubeconfig: holds cluster credentials and must be a secret: "
        "set it with `pulumi config set --secret kubeconfig ...`",
    )


def test_file_and_secret_kubeconfig_are_exclusive_and_one_is_required() -> None:
    values = config()
    values[KUBECONFIG_SECRET_KEY] = "x"
    assert problems(values, (KUBECONFIG_SECRET_KEY,)) == (
        "osmo-backend:cluster.kubeconfig: set either a file path here or the secret "
        "osmo-backend:kubeconfig, not both",
    )
    assert problems(config(cluster={"kubeconfig": None})) == (
        "osmo-backend:cluster.kubeconfig: is required: a kubeconfig file path, or the content in "
        "the secret osmo-backend:kubeconfig",
    )


def test_offline_placeholder_is_accepted_unchecked_with_a_notice() -> None:
    values = config(cluster={"kubeconfig": None})
    values[KUBECONFIG_SECRET_KEY] = f"{SECRET_PLACEHOLDER_PREFIX}{KUBECONFIG_SECRET_KEY}"
    spec = load_spec(encode(values), {KUBECONFIG_SECRET_KEY}, base_dir=REPO)
    assert spec.cluster.kubeconfig.server is None
    assert spec.notices[:1] == (
        "osmo-backend:kubeconfig is a secure value the offline plan cannot decrypt; a placeholder "
        "stands in and its content (context, server) was not checked",
    )


def test_object_config_that_is_not_json_is_reported() -> None:
    values = encode(config())
    values["osmo-backend:cluster"] = "{not json"
    with pytest.raises(ConfigError) as err:
        load_spec(values, base_dir=REPO)
    assert err.value.problems[0].startswith("osmo-backend:cluster: is not valid JSON (")


# --- issue 16: messages that name the real cause -----------------------------------------------


def test_a_suggested_key_is_not_also_reported_missing() -> None:
    values = config(osmo={"backendName": None, "backendNme": "lab"})
    assert problems(values) == (
        "osmo-backend:osmo.backendNme: unknown key; did you mean 'backendName'? (allowed: "
        "backendName, backendTests, controlPlane, imagePullSecret, imageTag, namespaces, pool, "
        "routerAddress, serviceUrl, token)",
    )
    # Top level too: `clustr` is the one line about the missing cluster section.
    values = config()
    values["osmo-backend:clustr"] = values.pop("osmo-backend:cluster")
    assert problems(values) == (
        "osmo-backend:clustr: unknown key; did you mean 'cluster'? (allowed: backendToken, "
        "cluster, controlPlaneKubeconfig, kubeconfig, monitoring, networking, ngcApiKey, "
        "operators, osmo, policy, previousBackendToken, storage, storageAccessKeyId, "
        "storageSecretAccessKey)",
    )


def test_a_typo_next_to_the_key_it_suggests_does_not_hide_a_problem_with_that_key() -> None:
    # `naem` suggests `name`, but `name` is set: its own problem still shows.
    values = config(cluster={"name": "Bad_Name", "naem": "x"})
    assert problems(values)[1] == (
        "osmo-backend:cluster.name: 'Bad_Name' is not a DNS-1123 label; use lowercase letters, "
        "digits and '-', starting and ending with a letter or digit"
    )


def test_unknown_namespaces_are_refused_with_a_suggestion() -> None:
    values = config()
    values["osmo-backend-lab:osmo"] = {}
    values["mycompany:team"] = "gpu"
    values["gcp:project"] = "p"
    values["azure-native:location"] = "eastus"
    listed = (
        "(a stack sets osmo-backend:, pulumi:, kubernetes:, aws:, gcp:, azure-native:, random:, "
        "time: keys)"
    )
    assert problems(values) == (
        f"mycompany:team: unknown config namespace 'mycompany' {listed}",
        "osmo-backend-lab:osmo: unknown config namespace 'osmo-backend-lab'; did you mean "
        f"osmo-backend:osmo? {listed}",
    )


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        (1.3, "is the number 1.3"),
        (1.33, "is the number 1.33"),
        (2, "is the number 2"),
    ],
)
def test_an_unquoted_kubernetes_version_is_refused_as_a_number(
    version: object, expected: str
) -> None:
    values = config(cluster={"kind": "eks", "name": "east", "kubernetesVersion": version})
    for key in ("kubeconfig", "context"):
        values["osmo-backend:cluster"].pop(key)
    values["aws:region"] = "us-west-2"
    values.pop("osmo-backend:networking")
    assert problems(values) == (
        f"osmo-backend:cluster.kubernetesVersion: {expected}: YAML reads an unquoted version as "
        'a number (1.30 becomes 1.3); write it quoted, like kubernetesVersion: "1.30"',
    )
