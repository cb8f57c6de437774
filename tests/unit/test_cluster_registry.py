"""The cluster kinds: one folder each, registered in one place (components/clusters/registry.py)."""

import importlib
import json
import subprocess
import sys
from typing import get_args, get_type_hints

from components.clusters.registry import CLUSTER_KINDS, KINDS, ClusterSpec
from components.config._model import Model
from components.config.schema import stack_file_schema
from tests.harness import REPO


def test_every_kind_is_one_folder_with_config_model_and_component() -> None:
    schema = stack_file_schema()
    cluster_schema = schema["properties"]["config"]["properties"]["osmo-backend:cluster"]
    assert len(cluster_schema["oneOf"]) == len(KINDS)
    assert tuple(KINDS) == ("existing", "eks", "gke", "aks")
    assert tuple(KINDS) == CLUSTER_KINDS
    assert set(get_args(ClusterSpec)) == {k.spec for k in KINDS.values()}
    for kind, entry in KINDS.items():
        assert entry.kind == kind
        assert entry.package == f"components.clusters.{kind}"
        assert (REPO / "components" / "clusters" / kind).is_dir()
        # The spec's `kind` field is the registered kind, so dispatch on `spec.kind` is exact.
        assert get_args(get_type_hints(entry.spec)["kind"]) == (kind,)
        # The spec is the kind's config model (frozen, unknown keys refused).
        assert issubclass(entry.spec, Model)
        assert entry.spec.model_config.get("frozen")
        assert entry.spec.model_config.get("extra") == "forbid"
        config = importlib.import_module(f"{entry.package}.config")
        assert getattr(config, entry.spec_name) is entry.spec
        # Its model is its branch of the stack file's JSON Schema, selected by `kind`.
        branch = cluster_schema["discriminator"]["mapping"][kind]
        assert branch == f"#/$defs/{entry.spec.__name__}"
        assert schema["$defs"][entry.spec.__name__]["properties"]["kind"]["const"] == kind
        # Cloud kinds list pools; an adopted cluster has node roles instead.
        assert (entry.pool_rows is not None) == entry.cloud


def test_the_registry_imports_no_component_and_each_component_its_own_sdk() -> None:
    # `osmo-backend validate` loads the registry: no component module, no Pulumi SDK. Building a
    # kind imports its component, which imports exactly the cloud SDK the registry names.
    probe = (
        "import json, sys\n"
        "from components.clusters.registry import KINDS\n"
        "def loaded():\n"
        "    return sorted(m for m in sys.modules if m.startswith('pulumi') or "
        "m.endswith('.cluster') and m.startswith('components.clusters.'))\n"
        "out = {'registry': loaded()}\n"
        "import importlib\n"
        "for kind, entry in KINDS.items():\n"
        "    before = set(sys.modules)\n"
        "    importlib.import_module(entry.package + '.cluster')\n"
        "    out[kind] = sorted({m.split('.')[0] for m in set(sys.modules) - before} & "
        "{'pulumi_aws', 'pulumi_gcp', 'pulumi_azure_native'})\n"
        "print(json.dumps(out))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    loaded = json.loads(proc.stdout)
    assert loaded["registry"] == []
    for kind, entry in KINDS.items():
        assert loaded[kind] == ([entry.sdk] if entry.sdk else []), kind
