"""Merging several backends' `osmo-service-values.yaml` fragments into one values file.

Helm replaces lists instead of merging them, so two backends' credentials layered with `-f a -f b`
would keep only the last one. This merge combines maps key by key, the credentials list by
credential name and `secretRefs` by Secret name; anything else that differs between fragments
is a conflict, reported with the path and both sources instead of one silently winning.

The operator's own values file (`--values`) goes in first, so the result is one complete file
(its `credentials` and `secretRefs` kept: `-f ours.yaml` on top would drop them). Its values are
never shown in messages (a values file may hold secrets). `workflow_data`, `workflow_log` and
`workflow_app` are service-wide: one fragment provides them (`--workflow-data-from`), the others'
stores and their credential Secrets are left out.
"""

from collections.abc import Mapping, Sequence
from typing import Any, cast

from components import versions
from components._helm import copy_tree

CREDENTIALS_PATH = ("services", "backendApiTokens", "credentials")
SECRET_REFS_PATH = ("services", "configs", "secretRefs")
_LISTS_BY_KEY: dict[tuple[str, ...], str] = {
    CREDENTIALS_PATH: "name",
    SECRET_REFS_PATH: "secretName",
}
"""Lists that several backends add to, merged by the item key that must be unique."""


WORKFLOW_PATH = ("services", "configs", "workflow")
WORKFLOW_STORES = ("workflow_data", "workflow_log", "workflow_app")
"""Service-wide stores (one per OSMO service): taken from one fragment only."""
FRAGMENT_KEYS = {"services": ("backendApiTokens", "configs")}
"""All an osmo-service-values.yaml fragment holds."""


class MergeConflict(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def fragment_problem(doc: Any) -> str | None:
    """Why `doc` is not an osmo-service-values.yaml fragment (a kubeconfig, a stack file, a full
    values file), without quoting any of it; None when it is one."""
    if not isinstance(doc, Mapping):
        return "must be a YAML mapping"
    top = cast(Mapping[str, Any], doc)
    services = top.get("services", {})
    if set(top) - set(FRAGMENT_KEYS) or not isinstance(services, Mapping):
        return (
            "is not an osmo-service-values.yaml fragment from `osmo-backend plan` (its top level "
            "must be only `services`); give your own values file with --values"
        )
    extra = set(cast(Mapping[str, Any], services)) - set(FRAGMENT_KEYS["services"])
    if extra:
        return (
            "is not an osmo-service-values.yaml fragment from `osmo-backend plan` (`services` "
            f"holds only {' and '.join(FRAGMENT_KEYS['services'])}); give your own values file "
            "with --values"
        )
    return None


def _get(doc: Mapping[str, Any], path: Sequence[str]) -> Any:
    node: Any = doc
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = cast(Mapping[str, Any], node).get(key)
    return node


def stores_of(fragment: Mapping[str, Any]) -> dict[str, Any]:
    """The service-wide stores a fragment sets."""
    workflow = _get(fragment, WORKFLOW_PATH)
    if not isinstance(workflow, Mapping):
        return {}
    return {k: v for k, v in cast(Mapping[str, Any], workflow).items() if k in WORKFLOW_STORES}


def provides(source: str, fragment: Mapping[str, Any], name: str) -> bool:
    """Whether `name` (a backend name, or the plan directory / file the fragment came from)
    picks this fragment."""
    backends = _get(fragment, ("services", "configs", "backends"))
    named = isinstance(backends, Mapping) and name in cast(Mapping[str, Any], backends)
    parts = source.replace("\\", "/").split("/")
    return named or name == source or (len(parts) >= 2 and parts[-2] == name)


def without_stores(fragment: Mapping[str, Any]) -> dict[str, Any]:
    """The fragment without its service-wide stores and the credential Secrets only they use."""
    out = copy_tree(fragment)
    workflow = _get(out, WORKFLOW_PATH)
    if not isinstance(workflow, dict):
        return out
    used: set[str] = set()
    for key in WORKFLOW_STORES:
        store = cast(dict[str, Any], workflow).pop(key, None)
        name = _get(store, ("credential", "secretName")) if isinstance(store, Mapping) else None
        if isinstance(name, str):
            used.add(name)
    configs = cast(dict[str, Any], out["services"]["configs"])
    refs = configs.get("secretRefs")
    if isinstance(refs, list):
        kept = [
            r
            for r in cast(list[Any], refs)
            if not (isinstance(r, Mapping) and r.get("secretName") in used)
        ]
        if kept:
            configs["secretRefs"] = kept
        else:
            del configs["secretRefs"]
    return out


def choose_workflow_data(
    fragments: Sequence[tuple[str, Mapping[str, Any]]], choice: str | None
) -> tuple[list[tuple[str, Mapping[str, Any]]], str | None]:
    """Keep the service-wide stores of the chosen fragment only (or of the one fragment that
    sets them); returns the fragments and the source the stores come from."""
    setting = [(source, f) for source, f in fragments if stores_of(f)]
    if choice is None:
        if len(setting) > 1:
            names = ", ".join(source for source, _ in setting)
            raise MergeConflict(
                [
                    f"{'.'.join(WORKFLOW_PATH)}.workflow_data: is service-wide and {names} each "
                    "set it; choose one with --workflow-data-from STACK (a backend name or plan "
                    "directory)"
                ]
            )
        return list(fragments), setting[0][0] if setting else None
    chosen = [source for source, f in setting if provides(source, f, choice)]
    if len(chosen) != 1:
        found = "none" if not chosen else ", ".join(chosen)
        raise MergeConflict(
            [
                f"--workflow-data-from {choice}: must pick exactly one fragment that sets "
                f"workflow_data (by backend name or plan directory); matched {found}"
            ]
        )
    kept = [(s, f if s == chosen[0] else without_stores(f)) for s, f in fragments]
    return kept, chosen[0]


def merge(
    fragments: Sequence[tuple[str, Mapping[str, Any]]], *, hidden: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Merge `(source, fragment)` pairs in order; raise MergeConflict listing every conflict.
    Values from `hidden` sources (the operator's own values file) are never quoted."""
    problems: list[str] = []
    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    for source, fragment in fragments:
        _merge_into(
            merged, fragment, (), source=source, origin=origin, problems=problems, hidden=hidden
        )
    if problems:
        raise MergeConflict(problems)
    return merged


def _merge_into(
    target: dict[str, Any],
    fragment: Mapping[str, Any],
    path: tuple[str, ...],
    *,
    source: str,
    origin: dict[tuple[str, ...], str],
    problems: list[str],
    hidden: frozenset[str],
) -> None:
    for key, value in fragment.items():
        here = (*path, str(key))
        if isinstance(value, Mapping) and isinstance(target.setdefault(key, {}), dict):
            _merge_into(  # pyright: ignore[reportUnknownArgumentType]
                target[key],
                value,
                here,
                source=source,
                origin=origin,
                problems=problems,
                hidden=hidden,
            )
        elif here in _LISTS_BY_KEY and isinstance(value, list):
            _merge_keyed_list(  # pyright: ignore[reportUnknownArgumentType]
                target.setdefault(key, []),
                value,
                here,
                source=source,
                origin=origin,
                problems=problems,
            )
        elif key not in target:
            target[key] = copy_tree(value)
            origin[here] = source
        elif target[key] != value and {source, origin.get(here)} & hidden:
            problems.append(
                f"{'.'.join(here)}: {source} and {origin.get(here, '?')} set different values"
            )
        elif target[key] != value:
            problems.append(
                f"{'.'.join(here)}: {source} sets {value!r} but {origin.get(here, '?')} "
                f"set {target[key]!r}"
            )


def _merge_keyed_list(
    target: list[Any],
    incoming: list[Any],
    path: tuple[str, ...],
    *,
    source: str,
    origin: dict[tuple[str, ...], str],
    problems: list[str],
) -> None:
    """Append items whose key is new; identical repeats are fine, differing ones a conflict."""
    field = _LISTS_BY_KEY[path]
    by_key = {c.get(field): c for c in target if isinstance(c, Mapping)}
    for item in incoming:
        name = item.get(field) if isinstance(item, Mapping) else None
        key = (*path, str(name))
        if name not in by_key:
            target.append(copy_tree(item))
            by_key[name] = item
            origin[key] = source
        elif by_key[name] != item:
            problems.append(
                f"{'.'.join(path)}[{field}={name}]: {source} and {origin.get(key, '?')} define "
                f"it differently; {field} values must be unique"
            )


def secrets_needed(merged: Mapping[str, Any]) -> list[str]:
    """Every Secret the service's API pods mount without `optional` (each backend token Secret
    and each `secretRefs` entry): a missing one stops new API pods for every backend."""
    names: list[str] = []
    credentials = _get(merged, CREDENTIALS_PATH)
    for item in cast(list[Any], credentials) if isinstance(credentials, list) else []:
        if isinstance(item, Mapping):
            entry = cast(Mapping[str, Any], item)
            name = _get(entry, ("existingSecret", "name")) or entry.get("secretName")
            if isinstance(name, str):
                names.append(name)
    refs = _get(merged, SECRET_REFS_PATH)
    for item in cast(list[Any], refs) if isinstance(refs, list) else []:
        if isinstance(item, Mapping):
            name = cast(Mapping[str, Any], item).get("secretName")
            if isinstance(name, str) and name not in names:
                names.append(name)
    return names


def next_steps(
    merged: Mapping[str, Any], out: Any, data_source: str | None, *, has_base: bool
) -> list[str]:
    """What to run with the merged file: the chart, the `helm upgrade`, the Secrets."""
    chart = versions.OSMO_SERVICE_CHART
    values = str(out) if out is not None else "<this file>"
    lines = []
    if data_source is not None:
        lines.append(f"workflow data: from {data_source}")
    lines += [
        "next steps:",
        f"  helm repo add osmo {chart.repository}",
        f"  helm upgrade --install service osmo/{chart.chart} --version {chart.version} "
        f"-n osmo -f {values}",
        "  (your release name and namespace if they differ; "
        + (
            "the file holds your --values, so give no other -f)"
            if has_base
            else "without --values, Helm replaces your lists (credentials, secretRefs) with "
            "these: run again with --values YOUR-CURRENT-VALUES.yaml)"
        ),
    ]
    secrets = secrets_needed(merged)
    if secrets:
        lines.append(
            "  these Secrets must exist in the service namespace first (each stack with "
            "osmo.controlPlane creates its own; otherwise run the `service side:` commands its "
            "plan prints):"
        )
        lines += [f"    {name}" for name in secrets]
    return lines
