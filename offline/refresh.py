"""What the engine would update after `pulumi refresh`: a small model of its diff with
`ignoreChanges`.

After a refresh, a resource's stored inputs follow the cloud: pulumi-azure-native's `Read`
projects the old and the new outputs onto the input shape and applies their differences to the
old inputs (pulumi/pulumi-azure-native provider/pkg/provider/provider.go, `Read`). On the next
`up` the engine first resets every `ignoreChanges` path of the program's inputs to the stored
value (the path is deleted when the stored inputs lack it: pulumi/pulumi
pkg/resource/deploy/step_generator.go, `processIgnoreChanges`), then diffs. This module applies
the same two rules to recorded inputs, so a test can feed a refreshed state and see which
resources an `up` without config changes would update, and which properties.

Paths are dotted property names (`agentPoolProfiles`, `upgradeSettings.maxSurge`); list indexes
are not modelled (the stack ignores whole properties only).
"""

import copy
from collections.abc import Mapping, Sequence
from typing import Any


def _split(path: str) -> list[str]:
    return [part for part in path.split(".") if part]


def reset_ignored(
    new: Mapping[str, Any], old: Mapping[str, Any], ignore_changes: Sequence[str]
) -> dict[str, Any]:
    """The program's inputs with each ignored path taken from the stored inputs (deleted where
    the stored inputs lack it), as the engine does before it diffs."""
    out: dict[str, Any] = copy.deepcopy(dict(new))
    for path in ignore_changes:
        parts = _split(path)
        if not parts:
            continue
        source: Any = old
        for part in parts:
            source = source.get(part, _MISSING) if isinstance(source, Mapping) else _MISSING
            if source is _MISSING:
                break
        target: Any = out
        for part in parts[:-1]:
            if not isinstance(target, dict):
                target = None
                break
            target = target.setdefault(part, {})  # pyright: ignore[reportUnknownMemberType]
        if not isinstance(target, dict):
            continue
        if source is _MISSING:
            target.pop(parts[-1], None)  # pyright: ignore[reportUnknownMemberType]
        else:
            target[parts[-1]] = copy.deepcopy(source)
    return out


def changed_properties(
    old: Mapping[str, Any], new: Mapping[str, Any], ignore_changes: Sequence[str] = ()
) -> list[str]:
    """Top-level input properties an update would change (sorted); empty: no update."""
    effective = reset_ignored(new, old, ignore_changes)
    keys = set(old) | set(effective)
    return sorted(k for k in keys if old.get(k, _MISSING) != effective.get(k, _MISSING))


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()
