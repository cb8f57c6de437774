"""The one helper every Helm release goes through.

Each release gets an explicit name (never autonamed), a pinned exact chart version from
`components/versions.py`, `cleanup_on_fail`, an explicit timeout, `atomic` decided by the caller,
and user overrides deep-merged last.
"""

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components._validate import release_name_problem
from components.versions import EXACT_VERSION, Chart


def copy_tree(value: Any) -> Any:
    """A copy of the maps and lists in a values tree; leaves (including Outputs) are shared."""
    if isinstance(value, Mapping):
        return {k: copy_tree(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [copy_tree(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def deep_merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`overrides` over `base`: maps merge key by key, anything else (lists too) replaces."""
    out: dict[str, Any] = copy_tree(base)
    for key, value in overrides.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = deep_merge(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            out[key] = copy_tree(value)
    return out


def release(
    resource_name: str,
    *,
    release_name: str,
    chart: Chart,
    namespace: pulumi.Input[str],
    values: Mapping[str, Any],
    overrides: Mapping[str, Any],
    timeout_seconds: int,
    atomic: bool,
    skip_await: bool = False,
    take_ownership: bool = False,
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A Helm release of a pinned chart. `opts` must carry the parent (and so the provider).
    `take_ownership` adopts existing objects the release renders (Helm's `--take-ownership`)."""
    if (reason := release_name_problem(release_name)) is not None:
        raise ValueError(f"Helm release name {reason}")
    if not EXACT_VERSION.match(chart.version):
        raise ValueError(f"chart {chart.chart} is not pinned to an exact version: {chart.version}")
    if opts.parent is None:
        raise ValueError(f"Helm release {release_name} needs a parent component")
    repository: k8s.helm.v3.RepositoryOptsArgsDict | None = (
        {"repo": chart.repository} if chart.repository is not None else None
    )
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart.chart,
        version=chart.version,
        repository_opts=repository,
        namespace=namespace,
        create_namespace=False,
        values=deep_merge(values, overrides),
        atomic=atomic,
        cleanup_on_fail=True,
        timeout=timeout_seconds,
        skip_await=skip_await,
        take_ownership=take_ownership or None,
        opts=opts,
    )
