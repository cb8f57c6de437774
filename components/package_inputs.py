"""Generates the multi-language package's input types from the stack-config models.

`python -m components.package_inputs > components/package_args.py` writes one TypedDict per config
model, so the component's inputs (and the package schema Pulumi's analyzer derives from them) cannot
drift from what `load_spec` accepts; a test fails when the committed module is stale.

- A key is the snake case of the model field's alias (`clusterCIDRs` -> `cluster_cidrs`, which the
  analyzer spells `clusterCidrs` in the schema); `CONFIG_KEYS` lists the keys whose stack-config
  spelling is not the analyzer's camelCase of them.
- A field with a default is `NotRequired`; its description becomes the key's docstring, in the
  source, where the analyzer reads it.
- Nested models are nested TypedDicts, lists `list[...]`, maps `dict[str, ...]` (free maps
  `dict[str, Any]`), Literal choices `str` with the values in the docstring.
- The cluster kinds are one input type (the analyzer has no unions): the superset of every kind's
  keys, `kind` choosing which apply; each key's docstring starts with the kinds it applies to when
  not every kind has it. Nested types that kinds share by name (`network`, `nodePools` items,
  `endpoint`, ...) are merged the same way. Validation (the kind's model) refuses a key of another
  kind by its input path.
"""

import dataclasses
import inspect
import keyword
import re
import sys
import types
from collections import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pulumi.provider.experimental.util import camel_case
from pydantic import BaseModel, TypeAdapter, WithJsonSchema

from components.clusters.registry import KINDS
from components.config import SECTIONS
from components.config._model import field_docs

ROOT = "OsmoBackendStackArgs"
CLUSTER = "ClusterInputs"
KUBECONFIG_CONTENT = "kubeconfig_content"
"""The one Input key (a secret): the kubeconfig of a cluster made in the same program."""
_KIND_PREFIXES = tuple(kind.capitalize() for kind in KINDS)
_WIDTH = 100
_PRIMITIVES = {str: "str", int: "int", float: "float", bool: "bool"}
_JSON_PRIMITIVES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}


def snake(alias: str) -> str:
    """A config key's snake case: an acronym is one word (`clusterCIDRs` -> `cluster_cidrs`,
    `diskSizeGiB` -> `disk_size_gib`)."""
    words = re.findall(r"[A-Z]{2,}s?(?![a-z])|[A-Z]?[a-z0-9]+(?:[A-Z](?![A-Za-z]))?|[A-Z]", alias)
    if "".join(words) != alias:
        raise ValueError(f"cannot split config key {alias!r} into words")
    return "_".join(word.lower() for word in words)


# What a model field holds, as an input type.


@dataclass(frozen=True)
class Scalar:
    name: str
    """str, int, float, bool or Any."""
    choices: tuple[str, ...] = ()
    """A Literal's values (the input is a str)."""


@dataclass(frozen=True)
class ListOf:
    item: "Shape"


@dataclass(frozen=True)
class MapOf:
    value: "Shape"


@dataclass(frozen=True)
class Nested:
    model: type
    """A config model (or a dataclass such as a pool's taint)."""


Shape = Scalar | ListOf | MapOf | Nested


def shape_of(annotation: Any, metadata: Sequence[Any] = ()) -> Shape:
    """The input shape of a field's annotation (Annotated and Optional unwrapped)."""
    for meta in metadata:
        if isinstance(meta, WithJsonSchema) and meta.json_schema is not None:
            kind = meta.json_schema.get("type")
            if isinstance(kind, str) and kind in _JSON_PRIMITIVES:
                return Scalar(_JSON_PRIMITIVES[kind])  # the schema the model declares
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *extra = get_args(annotation)
        return shape_of(inner, (*metadata, *extra))
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise TypeError(f"no input type for the union {annotation}")
        return shape_of(members[0], metadata)
    if origin is Literal:
        values = get_args(annotation)
        if not all(isinstance(v, str) for v in values):
            raise TypeError(f"no input type for {annotation}: only str choices")
        return Scalar("str", tuple(values))
    if annotation is Any:
        return Scalar("Any")
    if annotation in _PRIMITIVES:
        return Scalar(_PRIMITIVES[annotation])
    if origin in (tuple, list, abc.Sequence):
        items = [a for a in get_args(annotation) if a is not Ellipsis]
        if len(items) != 1:
            raise TypeError(f"no input type for {annotation}: a list of one item type")
        return ListOf(shape_of(items[0]))
    if origin in (dict, abc.Mapping):
        key, value = get_args(annotation)
        if key is not str:
            raise TypeError(f"no input type for {annotation}: map keys are strings")
        return MapOf(shape_of(value))
    if isinstance(annotation, type) and (
        issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
    ):
        return Nested(annotation)
    raise TypeError(f"no input type for {annotation}")


@dataclass(frozen=True)
class ModelField:
    """One field of a config model, as its config spells it."""

    alias: str
    shape: Shape
    required: bool
    description: str


def _text(doc: str | None) -> str:
    """A description on one line (docstrings wrap where the source did)."""
    return " ".join((doc or "").split())


def model_doc(model: type) -> str:
    doc = model.__doc__ or ""
    if dataclasses.is_dataclass(model) and doc.startswith(f"{model.__name__}("):
        return ""  # the signature dataclasses put there
    return _text(inspect.cleandoc(doc))


def model_fields(model: type) -> list[ModelField]:
    docs = field_docs(model)
    if issubclass(model, BaseModel):
        return [
            ModelField(
                info.alias or name,
                shape_of(info.annotation, info.metadata),
                info.is_required(),
                _text(info.description or docs.get(name)),
            )
            for name, info in model.model_fields.items()
        ]
    # A dataclass validated by pydantic (its docstrings through its pydantic config).
    schema = TypeAdapter(model).json_schema()
    hints = get_type_hints(model, include_extras=True)
    return [
        ModelField(
            f.name,
            shape_of(hints[f.name]),
            f.name in schema.get("required", ()),
            _text(schema["properties"].get(f.name, {}).get("description") or docs.get(f.name)),
        )
        for f in dataclasses.fields(model)
    ]


def type_name(model: type) -> str:
    """`EksNetworkSpec` -> `NetworkInputs`: the kinds' variants of one part share a name."""
    name = model.__name__
    for prefix in _KIND_PREFIXES:
        rest = name.removeprefix(prefix)
        if rest != name and rest[:1].isupper():
            name = rest
            break
    return name.removesuffix("Spec") + "Inputs"


# The input types.


@dataclass
class InputField:
    key: str
    alias: str
    type: str
    required: bool
    doc: str
    comment: str = ""


@dataclass
class InputType:
    name: str
    doc: str
    fields: list[InputField] = field(default_factory=list[InputField])
    members: frozenset[type] = frozenset()


def _by_kind(texts: Mapping[str, str], every: Sequence[str]) -> str:
    """One text per kind, as one: unprefixed when every kind has the same; else `eks, gke: ...`
    lines, kinds with the same text together."""
    groups: dict[str, list[str]] = {}
    for kind, text in texts.items():
        groups.setdefault(text, []).append(kind)
    if len(groups) == 1 and list(texts) == list(every):
        return next(iter(groups))
    return "\n".join(f"{', '.join(kinds)}: {text}".rstrip() for text, kinds in groups.items())


def _choices(shape: Shape) -> tuple[str, ...]:
    while isinstance(shape, ListOf | MapOf):
        shape = shape.item if isinstance(shape, ListOf) else shape.value
    return shape.choices if isinstance(shape, Scalar) else ()


class Builder:
    """The input types reachable from the root, dependencies first."""

    def __init__(self) -> None:
        self.types: dict[str, InputType] = {}
        self.used_as: dict[str, str] = {}
        """The description of the first key of each type: its own when the model has none."""

    def render_shape(self, shapes: Mapping[str, Shape]) -> tuple[str, str]:
        """The Python type of one key across the kinds that have it, and a comment when their
        types differ (the widest, Any, takes each)."""
        first = next(iter(shapes.values()))
        if all(isinstance(s, Nested) for s in shapes.values()):
            models = {k: s.model for k, s in shapes.items() if isinstance(s, Nested)}
            return self.build(models), ""
        if all(isinstance(s, ListOf) for s in shapes.values()):
            items = {k: s.item for k, s in shapes.items() if isinstance(s, ListOf)}
            item, comment = self.render_shape(items)
            return f"list[{item}]", comment
        if all(isinstance(s, MapOf) for s in shapes.values()):
            values = {k: s.value for k, s in shapes.items() if isinstance(s, MapOf)}
            value, comment = self.render_shape(values)
            return f"dict[str, {value}]", comment
        if all(isinstance(s, Scalar) for s in shapes.values()):
            names = {s.name for s in shapes.values() if isinstance(s, Scalar)}
            if len(names) == 1:
                return next(iter(names)), ""
            if names == {"int", "float"}:
                return "float", "# int on some kinds, float on others: float takes both."
        if len(shapes) == 1:
            raise AssertionError(f"unhandled shape {first}")
        rendered = {k: self.render_shape({k: s})[0] for k, s in shapes.items()}
        listed = "; ".join(f"{k}: {t}" for k, t in rendered.items())
        return "Any", f"# The kinds' types differ ({listed}): Any takes each."

    def build(self, models: Mapping[str, type]) -> str:
        """The input type of a model (`{"": model}`) or of the kinds' variants of one part
        (`{"eks": EksNetworkSpec, "gke": GkeNetworkSpec, ...}`): the superset of their keys."""
        names = {type_name(m) for m in models.values()}
        if len(names) != 1:
            raise ValueError(f"the kinds' {sorted(names)} would be one input type")
        name = names.pop()
        members = frozenset(models.values())
        if name in self.types:
            if self.types[name].members != members:
                raise ValueError(
                    f"{name}: {sorted(m.__name__ for m in members)} and "
                    f"{sorted(m.__name__ for m in self.types[name].members)} would share it"
                )
            return name
        kinds = list(models)
        by_key: dict[str, dict[str, ModelField]] = {}
        for kind, model in models.items():
            for f in model_fields(model):
                by_key.setdefault(snake(f.alias), {})[kind] = f
        fields: list[InputField] = []
        for key, per_kind in by_key.items():
            aliases = {f.alias for f in per_kind.values()}
            if len(aliases) != 1 or keyword.iskeyword(key):
                raise ValueError(f"{name}.{key}: config keys {sorted(aliases)}")
            python_type, comment = self.render_shape({k: f.shape for k, f in per_kind.items()})
            docs: dict[str, str] = {}
            for kind, f in per_kind.items():
                doc = f.description
                if not doc and isinstance(f.shape, Nested):
                    doc = model_doc(f.shape.model)
                if choices := _choices(f.shape):
                    doc = f"{doc} One of: {', '.join(choices)}.".strip()
                docs[kind] = doc
            doc = _by_kind(docs, kinds)
            for used in re.findall(r"\w+Inputs", python_type):
                self.used_as.setdefault(used, doc)
            fields.append(
                InputField(
                    key=key,
                    alias=aliases.pop(),
                    type=python_type,
                    required=len(per_kind) == len(models)
                    and all(f.required for f in per_kind.values()),
                    doc=doc,
                    comment=comment,
                )
            )
        doc = _by_kind({k: model_doc(m) for k, m in models.items()}, kinds)
        # Registered after its nested types: the module lists dependencies first.
        self.types[name] = InputType(name, doc, fields, members)
        return name


def _cluster(builder: Builder) -> None:
    """The cluster: every kind's keys, `kind` choosing; the kubeconfig content an Input."""
    builder.build({kind: entry.spec for kind, entry in KINDS.items()})
    cluster = builder.types[CLUSTER]
    kinds = ", ".join(KINDS)
    cluster.doc = (
        f"The cluster the backend runs on; `kind` ({kinds}) chooses which keys apply. A key "
        "applies to every kind unless its description starts with the kinds it applies to; "
        "validation refuses the keys of another kind, by input path.\n"
        + "\n".join(
            f"{kind}: {model_doc(entry.spec)} Keys: "
            + ", ".join(
                camel_case(snake(f.alias)) for f in model_fields(entry.spec) if f.alias != "kind"
            )
            + (", kubeconfigContent" if kind == "existing" else "")
            + "."
            for kind, entry in KINDS.items()
        )
    )
    kind = next(f for f in cluster.fields if f.key == "kind")
    kind.doc = f"One of: {kinds}. It chooses which keys apply.\n" + "\n".join(
        f"{k}: {model_doc(entry.spec)}" for k, entry in KINDS.items()
    )
    at = next(i for i, f in enumerate(cluster.fields) if f.key == "kubeconfig") + 1
    content = InputField(
        key=KUBECONFIG_CONTENT,
        alias="kubeconfigContent",
        type="pulumi.Input[str]",
        required=False,
        doc="existing: Kubeconfig content instead of a file, e.g. a cluster's kubeconfig output "
        "from the same program: an Input, kept secret and checked when its value is known.",
    )
    cluster.fields.insert(at, content)


def input_types() -> list[InputType]:
    """Every input type, dependencies first, the component's arguments last."""
    builder = Builder()
    root = InputType(ROOT, "One OSMO backend, configured as a stack file would configure it.")
    for section, model in SECTIONS.items():
        if section == "cluster":  # one model per kind
            _cluster(builder)
            name, doc, required = CLUSTER, builder.types[CLUSTER].doc.split("\n")[0], True
        else:
            name = builder.build({"": model})
            doc = model_doc(model)
            required = any(f.required for f in model_fields(model))
        root.fields.append(InputField(section, section, name, required, doc))
    for input_type in builder.types.values():
        input_type.doc = input_type.doc or builder.used_as.get(input_type.name, "")
    return [*builder.types.values(), root]


# The module.

_HEADER = '''"""The OsmoBackendStack component's inputs, generated from the stack-config models:
do not edit; `uv run python -m components.package_inputs > components/package_args.py`
regenerates it (a test fails when it is stale). components/package_inputs.py has the rules.

No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations at
runtime, and each key's description from its docstring in this source.
"""
'''


def _literal(text: str) -> str:
    """A string literal as ruff formats it (double quotes unless single ones escape less)."""
    body = text.replace("\\", "\\\\").replace("\n", "\\n")
    if '"' in text and "'" not in text:
        return f"'{body}'"
    return '"' + body.replace('"', '\\"') + '"'


def _docstring(text: str, indent: str, *, of_class: bool = False) -> list[str]:
    """A docstring the analyzer reads as `text` exactly: one line when it fits, else implicitly
    concatenated literals in parentheses (a triple-quoted string would keep the indentation). A
    class's is kept from ruff's formatter, which would join it into one long line."""
    plain = "\n" not in text and "\\" not in text and '"' not in text
    if plain and len(indent) + len(text) + 6 <= _WIDTH:
        return [f'{indent}"""{text}"""']
    if not of_class and len(indent) + len(_literal(text)) <= _WIDTH:
        return [indent + _literal(text)]
    inner = indent + "    "
    room = _WIDTH - len(inner) - 2
    chunks: list[str] = []
    for number, paragraph in enumerate(text.split("\n")):
        if number:
            chunks[-1] += "\n"
        line = ""
        for word in paragraph.split(" "):
            if line and len(_literal(f"{line}{word} ")) - 2 > room:
                chunks.append(line)
                line = ""
            line += f"{word} "
        chunks.append(line.rstrip(" "))
    closing = f"{indent})  # fmt: skip" if of_class else f"{indent})"
    return [f"{indent}(", *(inner + _literal(c) for c in chunks), closing]


def _class(input_type: InputType) -> list[str]:
    lines = [f"class {input_type.name}(TypedDict):"]
    if input_type.doc:
        lines += [*_docstring(input_type.doc, "    ", of_class=True), ""]
    for f in input_type.fields:
        if f.comment:
            lines.append(f"    {f.comment}")
        python_type = f.type if f.required else f"NotRequired[{f.type}]"
        lines.append(f"    {f.key}: {python_type}")
        if f.doc:
            lines += _docstring(f.doc, "    ")
    return lines


def config_keys(input_types: Sequence[InputType]) -> dict[str, dict[str, str]]:
    """Per input type, the keys whose stack-config spelling is not their camelCase."""
    out: dict[str, dict[str, str]] = {}
    for t in input_types:
        special = {f.key: f.alias for f in t.fields if camel_case(f.key) != f.alias}
        if special:
            out[t.name] = special
    return out


def render() -> str:
    all_types = input_types()
    body: list[str] = []
    for input_type in all_types:
        body += ["", "", *_class(input_type)]
    source = "\n".join(body)
    names = [n for n in ("Any", "NotRequired", "TypedDict") if re.search(rf"\b{n}\b", source)]
    imports = [f"from typing import {', '.join(names)}"]
    if "pulumi." in source:
        imports += ["", "import pulumi"]
    keys = config_keys(all_types)
    table = ["", "", "CONFIG_KEYS: dict[str, dict[str, str]] = {"]
    for name, special in keys.items():
        pairs = ", ".join(f"{_literal(k)}: {_literal(v)}" for k, v in special.items())
        line = f"    {_literal(name)}: {{{pairs}}},"
        if len(line) <= _WIDTH:
            table.append(line)
        else:
            table += [f"    {_literal(name)}: {{"]
            table += [f"        {_literal(k)}: {_literal(v)}," for k, v in special.items()]
            table += ["    },"]
    table += [
        "}",
        '"""Per input type, the keys whose stack-config spelling is not the camelCase of the key',
        '(`clusterCIDRs`, not `clusterCidrs`)."""',
    ]
    return "\n".join([_HEADER, *imports, source, *table]) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
