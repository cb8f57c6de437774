"""Build and query the committed key index of a pinned Helm chart.

Charts ship no values schema, so an override key the chart does not read is a silent no-op. The
index lists every key a chart version reads: each path in its values.yaml plus each `.Values.x.y`
reference in its templates (some keys, like the GPU Operator's `operator.nodeSelector`, are read
by templates without a default in values.yaml). Paths whose default is a map or that templates
pass through whole (`toYaml`) accept any sub-key ("free-form").

Regenerate after bumping a version in components/versions.py:

    helm pull REPO/CHART --version V --untar -d /tmp/c      # or a checkout at the release tag
    uv run python -m components.chart_keys /tmp/c/CHART NAME V > components/charts/NAME-V.json
"""

import functools
import json
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

_VALUES_REF = re.compile(r"\.Values((?:\.[A-Za-z0-9_-]+)+)")
_TO_YAML = re.compile(r"toYaml\s+\.Values((?:\.[A-Za-z0-9_-]+)+)")
_WITH = re.compile(
    r"(?:with|range\s+(?:\$\w+,\s*)?\$?\w*\s*:?=?)\s*\.Values((?:\.[A-Za-z0-9_-]+)+)"
)

INDEX_DIR = Path(__file__).resolve().parent / "charts"


def _walk(value: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping):
        for key, child in value.items():  # pyright: ignore[reportUnknownVariableType]
            path = f"{prefix}.{key}" if prefix else str(key)  # pyright: ignore[reportUnknownArgumentType]
            yield path, child
            yield from _walk(child, path)


def build(chart_dir: Path, name: str, version: str) -> dict[str, Any]:
    values = yaml.safe_load((chart_dir / "values.yaml").read_text()) or {}
    keys: set[str] = set()
    free: set[str] = set()
    for path, child in _walk(values, ""):
        keys.add(path)
        if isinstance(child, Mapping) and not child:
            free.add(path)
        if isinstance(child, list):
            free.add(path)
    # Templates read keys; so do templated strings inside values.yaml (Loki renders its whole
    # config file from `loki.config`, which passes maps like `loki.limits_config` through).
    sources = [chart_dir / "values.yaml", *sorted((chart_dir / "templates").rglob("*"))]
    for template in sources:
        if not template.is_file():
            continue
        text = template.read_text(errors="replace")
        for match in _VALUES_REF.finditer(text):
            keys.add(match.group(1).lstrip("."))
        for pattern in (_TO_YAML, _WITH):
            for match in pattern.finditer(text):
                free.add(match.group(1).lstrip("."))
    # Subcharts (vendored under charts/, or declared in Chart.yaml) read their own keys.
    subcharts = {p.name for p in (chart_dir / "charts").glob("*") if p.is_dir()}
    chart_yaml = chart_dir / "Chart.yaml"
    if chart_yaml.is_file():
        meta = yaml.safe_load(chart_yaml.read_text()) or {}
        for dependency in meta.get("dependencies") or []:
            subcharts.add(str(dependency.get("alias") or dependency["name"]))
    return {
        "chart": name,
        "version": version,
        "keys": sorted(keys),
        "freeForm": sorted(free),
        "subcharts": sorted(subcharts),
    }


@functools.cache
def load(name: str, version: str) -> dict[str, Any]:
    """The committed index of chart `name` at `version` (components/charts/NAME-VERSION.json)."""
    return json.loads((INDEX_DIR / f"{name}-{version}.json").read_text())


def leaf_paths(values: Any, prefix: str = "") -> Iterator[str]:
    """Dotted paths of the leaves of an override map (lists and scalars are leaves)."""
    if isinstance(values, Mapping) and values:
        for key, child in values.items():  # pyright: ignore[reportUnknownVariableType]
            yield from leaf_paths(child, f"{prefix}.{key}" if prefix else str(key))  # pyright: ignore[reportUnknownArgumentType]
    elif prefix:
        yield prefix


def unknown_keys(index: Mapping[str, Any], values: Mapping[str, Any]) -> list[str]:
    """Override paths the chart does not read (free-form maps and subcharts accept anything)."""
    keys = set(index["keys"])
    free = set(index["freeForm"]) | set(index["subcharts"])
    bad: list[str] = []
    for path in leaf_paths(values):
        parts = path.split(".")
        prefixes = {".".join(parts[:i]) for i in range(1, len(parts))}
        if path in keys or prefixes & free:
            continue
        bad.append(path)
    return bad


if __name__ == "__main__":
    chart_dir, chart_name, chart_version = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    print(json.dumps(build(chart_dir, chart_name, chart_version), indent=1))
