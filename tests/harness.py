"""Shared test helpers: a valid baseline config and running the real program offline."""

import copy
import json
import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from offline import engine

REPO = Path(__file__).resolve().parent.parent
SAMPLE_KUBECONFIG = REPO / "examples" / "onprem-lab" / "kubeconfig.yaml"
SAMPLE_TOKENS = (
    "sample-token-not-a-real-credential",
    "sample-readonly-token-not-a-real-credential",
)

BASE: dict[str, Any] = {
    "osmo-backend:cluster": {
        "kind": "existing",
        "name": "lab",
        "kubeconfig": str(SAMPLE_KUBECONFIG),
        "context": "onprem-lab-admin",
    },
    "osmo-backend:osmo": {"backendName": "lab-backend", "serviceUrl": "https://osmo.example.com"},
    "osmo-backend:networking": {
        "workflowPolicy": {"clusterCIDRs": ["10.244.0.0/16", "10.96.0.0/12", "192.168.10.0/24"]}
    },
    "pulumi:disable-default-providers": ["kubernetes", "aws", "gcp", "azure-native"],
}


def config(**sections: Any) -> dict[str, Any]:
    """The baseline config with `cluster=`/`osmo=` dicts merged over it (None removes a key)."""
    out = copy.deepcopy(BASE)
    for key, value in sections.items():
        full = f"osmo-backend:{key}"
        if value is None:
            out.pop(full, None)
        elif isinstance(value, Mapping) and isinstance(out.get(full), dict):
            merged = {**out[full], **value}
            out[full] = {k: v for k, v in merged.items() if v is not None}
        else:
            out[full] = value
    return out


def encode(values: Mapping[str, Any]) -> dict[str, str]:
    """As the Pulumi CLI passes config to a program: strings, objects as JSON."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()}


def run_main(
    values: Mapping[str, Any],
    secret_keys: tuple[str, ...] = (),
    into: engine.Recording | None = None,
    preview: bool = False,
) -> engine.Recording:
    """Run the project's real `__main__.py` against the recording engine."""
    return engine.run(
        lambda: runpy.run_path(str(REPO / "__main__.py"), run_name="__main__"),
        project="osmo-backend",
        stack="test",
        config=encode(values),
        secret_keys=secret_keys,
        disabled_default_providers=values.get("pulumi:disable-default-providers", ["kubernetes"]),
        into=into,
        preview=preview,
    )
