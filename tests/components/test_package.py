"""The multi-language component: schema snapshot, argument conversion, the registered graph."""

import json
from typing import Any

import pulumi
import pytest

from components.package import OsmoBackendStack, to_stack_config
from components.package_schema import render
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
    assert paths == ["osmo-backend:osmo.backendName", "osmo-backend:osmo.serviceUrl"]


def test_plugin_directory_is_consistent() -> None:
    import runpy
    import tomllib

    import yaml

    from components.versions import PACKAGE_VERSION

    plugin = yaml.safe_load((REPO / "plugin" / "PulumiPlugin.yaml").read_text())
    assert plugin == {"runtime": {"name": "python", "options": {"toolchain": "uv"}}}
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["version"] == PACKAGE_VERSION
    namespace = runpy.run_path(str(REPO / "plugin" / "__main__.py"), run_name="plugin_import_check")
    assert namespace["OsmoBackendStack"] is OsmoBackendStack
    assert json.loads(render())["version"] == PACKAGE_VERSION
