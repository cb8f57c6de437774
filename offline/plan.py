"""Turning a recording into the offline plan's files and tree (DESIGN section 4).

Everything here is deterministic: resources sorted by URN, tree children by type and name,
YAML and JSON with sorted keys. Secrets are already masked by the recording's accessors.
"""

import json
import shutil
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pulumi.runtime import rpc

from offline.engine import SECRET, Recording, ResourceRecord, mask_secrets, unwrap_secrets

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SERVICE_VALUES_OUTPUT = "osmo_service_values"
"""Stack output holding the control-plane fragment (no secrets; references Secrets by name)."""

# Kubernetes types that are not objects the stack creates directly.
_NOT_MANIFESTS = ("kubernetes:helm.sh/", "kubernetes:yaml", "kubernetes:kustomize")


@dataclass(frozen=True)
class PlanFiles:
    out: Path
    manifests: list[Path]
    helm: list[Path]


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100)


def is_manifest(record: ResourceRecord) -> bool:
    return (
        record.custom
        and record.type.startswith("kubernetes:")
        and not record.type.startswith(_NOT_MANIFESTS)
    )


def manifest(record: ResourceRecord) -> dict[str, Any]:
    """The object as applyable YAML: apiVersion, kind, metadata first; secrets masked.

    A Secret's data keys stay visible, so the manifest still shows its shape: a field the program
    made secret as a whole has every value masked, otherwise only the values that are secrets
    (an endpoint or a region is not; OSMO-K8S-005 reports data that should be).
    """
    inputs = dict(record.inputs)
    if record.type == "kubernetes:core/v1:Secret":
        for field in ("data", "stringData"):
            given = record.raw_inputs.get(field)
            whole = rpc.is_rpc_secret(given)
            body = unwrap_secrets(given) if whole else given
            if isinstance(body, Mapping):
                inputs[field] = {
                    str(k): SECRET if whole else mask_secrets(v) for k, v in sorted(body.items())
                }
    module, kind = record.type.split(":", 2)[1:]
    group_version = module.removeprefix("core/")
    if kind.endswith("Patch"):
        kind = kind[: -len("Patch")]
    ordered: dict[str, Any] = {
        "apiVersion": inputs.pop("apiVersion", group_version),
        "kind": inputs.pop("kind", kind),
        "metadata": inputs.pop("metadata", {}),
    }
    ordered.update(inputs)
    return ordered


def helm_release(record: ResourceRecord) -> dict[str, Any]:
    inputs = record.inputs
    repository = inputs.get("repositoryOpts", {}).get("repo")
    return {
        "release": inputs.get("name"),
        "chart": inputs.get("chart"),
        "repository": repository,
        "version": inputs.get("version"),
        "namespace": inputs.get("namespace"),
        "values": inputs.get("values", {}),
    }


def write(recording: Recording, out: Path) -> PlanFiles:
    """Write resources.json, manifests/, helm/ and osmo-service-values.yaml under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    for stale in ("manifests", "helm"):
        shutil.rmtree(out / stale, ignore_errors=True)
    # Written by `plan --destroy` only: never leave one from an earlier run beside a new plan.
    (out / "destroy.json").unlink(missing_ok=True)
    resources = sorted(recording.resources, key=lambda r: r.urn)
    document = {
        "project": recording.project,
        "stack": recording.stack,
        "resources": [r.to_json() for r in resources],
        "outputs": recording.outputs,
    }
    (out / "resources.json").write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")

    manifests: list[Path] = []
    (out / "manifests").mkdir()
    for record in resources:
        if is_manifest(record):
            kind = record.type.rsplit(":", 1)[1].lower()
            path = out / "manifests" / f"{kind}-{record.name}.yaml"
            header = (
                "# Server-side apply patch of an existing object: kubectl apply --server-side\n"
                if record.type.endswith("Patch")
                else ""
            )
            path.write_text(header + _dump(manifest(record)))
            manifests.append(path)

    helm: list[Path] = []
    (out / "helm").mkdir()
    for record in resources:
        if record.type == HELM_RELEASE:
            release = helm_release(record)
            path = out / "helm" / f"{release['release'] or record.name}.yaml"
            path.write_text(_dump(release))
            helm.append(path)

    fragment = recording.raw_outputs.get(SERVICE_VALUES_OUTPUT, {})
    masked = mask_secrets(fragment)
    if _contains_secret(masked):
        raise ValueError(f"stack output {SERVICE_VALUES_OUTPUT} must not hold secrets")
    header = (
        f"# OSMO service (control plane) values for backend stack {recording.stack!r}.\n"
        "# Merge into the OSMO service chart values; several backends' lists (credentials)\n"
        "# must be merged, not replaced. Secrets are referenced by name, never included.\n"
    )
    if not masked:
        header += "# This stack contributes no service-side settings yet.\n"
    (out / "osmo-service-values.yaml").write_text(header + _dump(masked or {}))
    return PlanFiles(out=out, manifests=manifests, helm=helm)


def _contains_secret(value: Any) -> bool:
    if value == SECRET:
        return True
    if isinstance(value, Mapping):
        return any(_contains_secret(v) for v in value.values())  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return any(_contains_secret(v) for v in value)  # pyright: ignore[reportUnknownVariableType]
    return False


def tree(recording: Recording) -> Iterator[str]:
    """The resource tree: component -> children, `type  name`, with the provider of each."""
    names = {r.urn: r.name for r in recording.resources}

    def walk(parent: str | None, prefix: str) -> Iterator[str]:
        kids = sorted(recording.children(parent), key=lambda r: (r.type, r.name))
        for index, record in enumerate(kids):
            last = index == len(kids) - 1
            branch = "" if parent is None else ("└─ " if last else "├─ ")
            note = (
                f"  (provider {names.get(record.provider, record.provider)})"
                if record.provider
                else ""
            )
            yield f"{prefix}{branch}{record.type}  {record.name}{note}"
            child_prefix = "" if parent is None else prefix + ("   " if last else "│  ")
            yield from walk(record.urn, child_prefix)

    yield from walk(None, "")


def summary(recording: Recording) -> str:
    custom = sum(1 for r in recording.resources if r.custom)
    components = len(recording.resources) - custom
    return f"{len(recording.resources)} resources: {custom} custom, {components} components"
