"""Merging several backends' `osmo-service-values.yaml` fragments into one values file.

Helm replaces lists instead of merging them, so two backends' credentials layered with `-f a -f b`
would keep only the last one. This merge combines maps key by key, the credentials list by
credential name and `secretRefs` by Secret name; anything else that differs between fragments
is a conflict, reported with the path and both sources instead of one silently winning.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from components._helm import copy_tree

CREDENTIALS_PATH = ("services", "backendApiTokens", "credentials")
SECRET_REFS_PATH = ("services", "configs", "secretRefs")
_LISTS_BY_KEY: dict[tuple[str, ...], str] = {
    CREDENTIALS_PATH: "name",
    SECRET_REFS_PATH: "secretName",
}
"""Lists that several backends add to, merged by the item key that must be unique."""


class MergeConflict(Exception):
    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


def merge(fragments: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Merge `(source, fragment)` pairs in order; raise MergeConflict listing every conflict."""
    problems: list[str] = []
    merged: dict[str, Any] = {}
    origin: dict[tuple[str, ...], str] = {}
    for source, fragment in fragments:
        _merge_into(merged, fragment, (), source=source, origin=origin, problems=problems)
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
) -> None:
    for key, value in fragment.items():
        here = (*path, str(key))
        if isinstance(value, Mapping) and isinstance(target.setdefault(key, {}), dict):
            _merge_into(  # pyright: ignore[reportUnknownArgumentType]
                target[key], value, here, source=source, origin=origin, problems=problems
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
