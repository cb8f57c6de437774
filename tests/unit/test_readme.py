"""The README is checked against the code so the two never drift: its version table against
components/versions.py, its config reference against the config models."""

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, cast, get_args, get_origin, get_type_hints

from pydantic import BaseModel, WithJsonSchema
from pydantic.fields import FieldInfo

from components import versions
from components.clusters.registry import KINDS
from components.config import PROJECT, SECRET_KEYS, SECTIONS
from tests.harness import REPO


def test_tested_versions_table_matches_the_pins() -> None:
    text = (REPO / "README.md").read_text()
    table = text.split("## Tested versions", 1)[1].split("\n\n", 2)[1]
    rows = [
        [cell.strip(" `") for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]
    ]
    pins = {row[0]: row[2] for row in rows}
    assert pins == {
        "KAI scheduler": versions.KAI_SCHEDULER.version,
        "NVIDIA GPU Operator": versions.GPU_OPERATOR.version,
        "OSMO backend-operator": versions.BACKEND_OPERATOR.version,
        "OSMO images (listener, worker)": versions.OSMO_IMAGE_TAG,
        "kube-prometheus-stack": versions.KUBE_PROMETHEUS_STACK.version,
        "Prometheus Operator CRDs": versions.PROMETHEUS_OPERATOR_CRDS.version,
        "k8s-ephemeral-storage-metrics": versions.EPHEMERAL_STORAGE_METRICS.version,
        "Loki": versions.LOKI.version,
        "Grafana Alloy": versions.ALLOY.version,
        "Headlamp (Kubernetes web UI)": versions.HEADLAMP.version,
        "Traefik (ingress controller)": versions.TRAEFIK.version,
        "Cluster Autoscaler (EKS)": versions.CLUSTER_AUTOSCALER.version,
        "OSMO Grafana dashboards": versions.OSMO_DASHBOARDS_REF,
    }
    assert versions.KAI_SCHEDULER.chart in table
    for chart in (
        versions.GPU_OPERATOR,
        versions.BACKEND_OPERATOR,
        versions.KUBE_PROMETHEUS_STACK,
        versions.PROMETHEUS_OPERATOR_CRDS,
        versions.EPHEMERAL_STORAGE_METRICS,
        versions.LOKI,
        versions.ALLOY,
        versions.HEADLAMP,
        versions.TRAEFIK,
        versions.CLUSTER_AUTOSCALER,
    ):
        assert f"`{chart.repository}` `{chart.chart}`" in table


def test_readme_starts_with_the_two_newcomer_commands() -> None:
    lines = (REPO / "README.md").read_text().splitlines()
    commands = [re.sub(r"\s+#.*$", "", line) for line in lines[3:5]]
    assert commands == ["uv run osmo-backend plan --stack onprem-lab", "uv run pytest"]


# --- The config reference against the config models -------------------------------------------
#
# The README's "## Config reference" documents every key the stack config reads, one `###`
# section per top-level key. A table's first column names keys as dotted paths: `a.b` / `c` is
# a.b and a.c (a later path is relative to the first one's parent), `{x,y}` is both, `<role>` is
# every key at that level, `nodePools[]` a list of objects. Keys inside list items (the fields of
# `nodePools[]`, a taint's key/value/effect) are named in backticks in the row's meaning column or
# in the section's paragraphs. The tables under `osmo-backend:cluster` are, in order, those of
# kind existing and then those after each "With `kind: <kind>`" paragraph; bold-led paragraphs
# there ("**Pool settings.**") apply to every kind, and a kind's paragraph may take keys of the
# first table "as above" by naming them (`name`).


@dataclass(frozen=True)
class _Key:
    """One key a config object reads."""

    name: str
    annotation: Any
    metadata: tuple[Any, ...]
    info: FieldInfo | None
    """pydantic's field (None for a dataclass field)."""


def _keys(owner: type) -> dict[str, _Key] | None:
    """The keys of a config object type (a pydantic model or a dataclass), by the name users
    write; None when `owner` is not one."""
    if issubclass(owner, BaseModel):
        keys = [
            _Key(info.alias or name, info.annotation, tuple(info.metadata), info)
            for name, info in owner.model_fields.items()
        ]
        return {key.name: key for key in keys}
    if dataclasses.is_dataclass(owner):
        hints = get_type_hints(owner, include_extras=True)
        return {
            f.name: _Key(f.name, hints[f.name], (), None)
            for f in dataclasses.fields(cast(Any, owner))
        }
    return None


def _objects(annotation: Any, metadata: tuple[Any, ...] = ()) -> tuple[list[type], bool]:
    """The config object types a value of `annotation` holds (through Annotated, Optional,
    unions, lists and tuples), and whether it is a list of them. A type with a JSON Schema of
    its own (`WithJsonSchema`: a kubeconfig path read into a `KubeconfigSource`) is one value."""
    if any(isinstance(m, WithJsonSchema) for m in metadata):
        return [], False
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *more = get_args(annotation)
        return _objects(inner, tuple(more))
    if isinstance(annotation, type) and origin is None:
        return ([annotation], False) if _keys(annotation) is not None else ([], False)
    if origin is not None and isinstance(origin, type) and issubclass(origin, Mapping):
        found, _ = _objects(get_args(annotation)[-1])
        assert not found, f"{annotation}: a map of config objects has no README notation yet"
        return [], False
    found: list[type] = []
    listed = origin in (list, tuple) or (
        isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str
    )
    for arg in get_args(annotation):
        if arg is Ellipsis or arg is type(None):
            continue
        inner, inner_listed = _objects(arg)  # Optional[tuple[Pool, ...]]: a list
        found += [t for t in inner if t not in found]
        listed = listed or inner_listed
    return found, listed and bool(found)


@dataclass(frozen=True)
class _Leaf:
    path: tuple[str, ...]
    shown: str
    """As the README would write it: `nodePools[].taints[].key`."""


def _leaves(owner: type, path: tuple[str, ...] = (), shown: str = "") -> Iterator[_Leaf]:
    """Every key a config object reads that holds a value (not an object), recursively."""
    for key in (_keys(owner) or {}).values():
        inner, listed = _objects(key.annotation, key.metadata)
        here = f"{shown}{key.name}{'[]' if listed else ''}"
        if not inner:
            yield _Leaf((*path, key.name), here)
        for model in inner:
            yield from _leaves(model, (*path, key.name), f"{here}.")


@dataclass(frozen=True)
class _Row:
    cell: str
    """The first column as written."""
    paths: tuple[tuple[str, ...], ...]
    """The keys it names: segments, with `name[]` (a list) and `<any>` kept."""
    default: str
    meaning: str
    inherited: bool = False


@dataclass
class _Scope:
    where: str
    model: type
    rows: list[_Row]
    prose: str


_PROJECT_PREFIX = f"{PROJECT}:"
_NOT_MODELS = ("Secret keys", "Stack outputs")
"""Config reference sections that are not a section model's: the secret keys (checked against
`SECRET_KEYS`) and the stack outputs (what the program exports, not config)."""
_TABLE_SEPARATOR = re.compile(r"^\|(\s*:?-+:?\s*\|)+$")
_CAMEL = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)+$")


def _cells(line: str) -> list[str]:
    """A table row's cells (a `|` inside backticks is text)."""
    body = line.strip().removeprefix("|").removesuffix("|")
    cells, current, code = [], "", False
    for char in body:
        if char == "`":
            code = not code
        if char == "|" and not code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
    return [*cells, current.strip()]


def _names(text: str) -> set[str]:
    """The names written in backticks in `text` (each word of `[{key, value, effect}]`)."""
    return {word for span in re.findall(r"`([^`]+)`", text) for word in re.findall(r"\w+", span)}


def _key_paths(cell: str, where: str) -> tuple[tuple[str, ...], ...]:
    spans = re.findall(r"`([^`]*)`", cell)
    between = re.sub(r"`[^`]*`", "", cell).replace("/", "").strip()
    assert spans, f"{where}: key cell {cell!r} is not `key` [/ `key` ...]"
    assert not between, f"{where}: key cell {cell!r} is not `key` [/ `key` ...]"
    first = spans[0].removeprefix(_PROJECT_PREFIX).split(".")
    paths: list[tuple[str, ...]] = []
    for index, span in enumerate(spans):
        segments = span.removeprefix(_PROJECT_PREFIX).split(".")
        if index:
            segments = first[:-1] + segments
        expanded: list[tuple[str, ...]] = [()]
        for segment in segments:
            braces = re.fullmatch(r"\{(.+)\}", segment)
            options = [o.strip() for o in braces.group(1).split(",")] if braces else [segment]
            expanded = [(*path, option) for path in expanded for option in options]
        paths += expanded
    return tuple(paths)


def _tables(text: str, where: str) -> tuple[list[_Row], str]:
    """The rows of every key table in `text`, and the rest of it (the prose)."""
    rows: list[_Row] = []
    prose: list[str] = []
    block: list[str] = []
    for line in [*text.splitlines(), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        prose.append(line)
        if not block:
            continue
        assert len(block) > 2, f"{where}: a table without rows: {block[0]!r}"
        assert _TABLE_SEPARATOR.match(block[1]), (
            f"{where}: table rows without a header row and a |---| line (a blank line inside a "
            f"table?): {block[0]!r}"
        )
        header = [cell.lower() for cell in _cells(block[0])]
        for line_ in block[2:]:
            cells = dict(zip(header, _cells(line_), strict=True))
            rows.append(
                _Row(
                    cells[header[0]],
                    _key_paths(cells[header[0]], where),
                    cells.get("default", ""),
                    cells.get("meaning", ""),
                )
            )
        block = []
    return rows, "\n".join(prose)


def _subsections() -> tuple[dict[str, str], dict[str, str]]:
    """The `###` sections of the config reference: those of a top-level key (by key), and the
    others (by heading)."""
    text = (REPO / "README.md").read_text()
    assert "\n## Config reference\n" in text
    assert "\n## Development\n" in text
    reference = text.split("\n## Config reference\n", 1)[1].split("\n## Development\n", 1)[0]
    keys: dict[str, str] = {}
    others: dict[str, str] = {}
    for part in re.split(r"^### ", reference, flags=re.MULTILINE)[1:]:
        heading, _, body = part.partition("\n")
        key = re.match(rf"`{PROJECT}:(\w+)`", heading)
        out, name = (keys, key.group(1)) if key else (others, heading.strip())
        assert name not in out, f"README config reference: two sections for {name!r}"
        out[name] = body
    return keys, others


def _scopes(problems: list[str]) -> list[_Scope]:
    """One scope per model: each section, and each cluster kind (a section the README has and
    the config does not read, or the other way round, is added to `problems`)."""
    sections, _ = _subsections()
    problems += [
        f'README section "### `{PROJECT}:{name}`": the config reads no such key'
        for name in sections
        if name not in SECTIONS
    ]
    scopes: list[_Scope] = []
    for name, model in SECTIONS.items():
        where = f"README `{PROJECT}:{name}`"
        if name not in sections:
            problems.append(f'{where}: no section "### `{PROJECT}:{name}`" documents it')
        elif name != "cluster":
            rows, prose = _tables(sections[name], where)
            scopes.append(_Scope(where, model, rows, prose))
    if "cluster" not in sections:
        return scopes
    cluster = sections["cluster"]
    chunks = re.split(r"^(?=With `kind: )", cluster, flags=re.MULTILINE)
    kinds = ["existing", *(re.findall(r"^With `kind: (\w+)`", c)[0] for c in chunks[1:])]
    assert kinds == list(KINDS), (
        f"README `{PROJECT}:cluster`: tables for kinds {kinds}, expected {list(KINDS)} in order "
        f'(kind existing first, then a "With `kind: <kind>`" paragraph for each)'
    )
    shared = "\n".join(p for p in cluster.split("\n\n") if p.startswith("**"))
    first: list[_Row] = []
    for kind, chunk in zip(KINDS, chunks, strict=True):
        where = f"README `{PROJECT}:cluster` (kind {kind})"
        rows, prose = _tables(chunk, where)
        if kind == "existing":
            first = rows
        else:
            named = _names(chunk.split("\n|", 1)[0])
            rows += [
                dataclasses.replace(row, inherited=True)
                for row in first
                if all(len(p) == 1 and p[0] in named for p in row.paths)
            ]
        scopes.append(_Scope(where, KINDS[kind].spec, rows, f"{prose}\n{shared}"))
    return scopes


def _resolve(owner: type, path: tuple[str, ...]) -> str | None:
    """Why `path` (a README key) is not a key `owner` reads; None when it is."""
    owners = [owner]
    for index, segment in enumerate(path):
        name = segment.removesuffix("[]")
        following: list[type] = []
        for current in owners:
            keys = _keys(current) or {}
            if name.startswith("<") and name.endswith(">"):
                chosen = list(keys.values())
            elif name in keys:
                chosen = [keys[name]]
            else:
                return f"`{name}` is not a key of {current.__name__} (keys: {', '.join(keys)})"
            for key in chosen:
                inner, listed = _objects(key.annotation, key.metadata)
                if segment.endswith("[]") and not listed:
                    return f"`{key.name}` is not a list of objects"
                if index < len(path) - 1 and not inner:
                    return f"`{key.name}` holds a value, not an object with keys"
                following += [t for t in inner if t not in following]
        owners = following
    return None


def _matches(pattern: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return len(pattern) == len(path) and all(
        (p.startswith("<") and p.endswith(">")) or p.removesuffix("[]") == k
        for p, k in zip(pattern, path, strict=True)
    )


def _documented(scope: _Scope, path: tuple[str, ...]) -> bool:
    """A key is in a row's first column, or under one: then the keys below the row's are named
    in its meaning column or in the section's paragraphs."""
    for row in scope.rows:
        for pattern in row.paths:
            if len(pattern) > len(path) or not _matches(pattern, path[: len(pattern)]):
                continue
            names = _names(row.meaning) | _names(scope.prose)
            if all(key in names for key in path[len(pattern) :]):
                return True
    return False


def test_config_reference_documents_exactly_the_keys_the_models_read() -> None:
    problems: list[str] = []
    _, others = _subsections()
    problems += [
        f'README section "### {name}": neither a config key\'s section nor one of {_NOT_MODELS}'
        for name in others
        if name not in _NOT_MODELS
    ]
    for scope in _scopes(problems):
        for row in scope.rows:
            for path in row.paths:
                reason = _resolve(scope.model, path)
                if reason is not None:
                    origin = " (taken from the first table)" if row.inherited else ""
                    problems.append(
                        f"{scope.where}: row {row.cell}{origin} names `{'.'.join(path)}`, which "
                        f"{scope.model.__name__} does not read: {reason}"
                    )
                elif path[-1].endswith("[]"):
                    # The item keys a list row's meaning names in camelCase are item keys.
                    items = {
                        key
                        for leaf in _leaves(scope.model)
                        if _matches(path, leaf.path[: len(path)])
                        for key in leaf.path[len(path) :]
                    }
                    for word in re.findall(r"`([^`]+)`", row.meaning):
                        if _CAMEL.match(word) and word not in items:
                            problems.append(
                                f"{scope.where}: row {row.cell} names `{word}`, which no "
                                f"{'.'.join(path)} item of {scope.model.__name__} reads"
                            )
        for leaf in _leaves(scope.model):
            if not _documented(scope, leaf.path):
                problems.append(
                    f"{scope.where}: `{leaf.shown}` ({scope.model.__name__}) is not documented"
                )
    assert not problems, "README config reference and the config models disagree:\n" + "\n".join(
        problems
    )


def test_config_reference_secret_keys_are_the_secret_keys() -> None:
    """The secret keys are top-level keys, not keys of a section model: the table lists exactly
    `components.config.SECRET_KEYS`, each as `osmo-backend:<key>` (a later key of a row
    relative to it)."""
    _, sections = _subsections()
    assert "Secret keys" in sections, 'README config reference: no "### Secret keys" section'
    rows, _ = _tables(sections["Secret keys"], "README Secret keys")
    for row in rows:
        assert row.cell.startswith(f"`{_PROJECT_PREFIX}"), (
            f"README Secret keys: write row {row.cell} as `{_PROJECT_PREFIX}<key>`"
        )
    listed = [".".join(path) for row in rows for path in row.paths]
    assert sorted(listed) == sorted(SECRET_KEYS), (
        f"README Secret keys: not secret keys {sorted(set(listed) - set(SECRET_KEYS))}; "
        f"undocumented {sorted(set(SECRET_KEYS) - set(listed))}; "
        f"listed twice {sorted({k for k in listed if listed.count(k) > 1})}"
    )


def _shown_default(value: Any) -> tuple[str, ...] | None:
    """How the README writes a model default (None: no plain literal to compare)."""
    if isinstance(value, bool):
        return (str(value).lower(),)
    if isinstance(value, int):
        return (str(value),)
    if isinstance(value, str) and value:
        return (value, f'"{value}"')
    if isinstance(value, tuple | list | Mapping) and not value:
        return ("{}",) if isinstance(value, Mapping) else ("[]",)
    return None


def test_config_reference_defaults_match_the_models() -> None:
    """Where a row's default is one literal per key (`true` / `{}`) and the model's default is a
    plain value (not derived: its docstring says "Default: ..."), the two are the same; a
    `(required)` key is required."""
    problems: list[str] = []
    compared = 0
    for scope in _scopes([]):  # a missing section is the other test's
        for row in scope.rows:
            parts = [p.strip() for p in row.default.split(" / ")]
            if row.inherited or len(parts) != len(row.paths):
                continue
            for path, part in zip(row.paths, parts, strict=True):
                literal = re.fullmatch(r"`([^`]*)`", part)
                for key in _fields_at(scope.model, path):
                    info = key.info
                    if info is None or path[-1].endswith("[]"):
                        continue
                    shown = f"{scope.where}: `{'.'.join(path)}`"
                    if part == "(required)" and not info.is_required():
                        problems.append(f"{shown} is documented as required; it has a default")
                    if literal is None or "Default:" in (info.description or ""):
                        continue
                    default = info.get_default(call_default_factory=True, validated_data={})
                    expected = _shown_default(default)
                    compared += expected is not None
                    if expected is not None and literal.group(1) not in expected:
                        problems.append(
                            f"{shown} default is documented as {part}; the model's is "
                            f"`{expected[0]}`"
                        )
    assert not problems, "README config reference defaults:\n" + "\n".join(problems)
    assert compared > 80, f"only {compared} defaults compared: is the table layout still parsed?"


def _fields_at(owner: type, path: tuple[str, ...]) -> list[_Key]:
    """The keys a (resolvable) README path names: several under a `<placeholder>`."""
    owners, found = [owner], list[_Key]()
    for index, segment in enumerate(path):
        name = segment.removesuffix("[]")
        found = [
            key
            for current in owners
            for key in (_keys(current) or {}).values()
            if name == key.name or (name.startswith("<") and name.endswith(">"))
        ]
        if index < len(path) - 1:
            owners = [t for key in found for t in _objects(key.annotation, key.metadata)[0]]
    return found
