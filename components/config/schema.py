"""JSON Schema of stack files, for editors (validation and completion of `osmo-backend:*` keys),
generated from the config models: their fields, types, defaults and docstrings are the schema.

`python -m components.config.schema > schema/stack-config.schema.json` regenerates the committed
file; a test fails when it is stale.
"""

import json
import re
from typing import Annotated, Any, Union

from pydantic import Field, create_model

from components.clusters.registry import KINDS
from components.config import SECRET_KEYS, SECTIONS
from components.config._model import PROJECT, Model, field_docs
from components.config._rules import Taint

SCHEMA_ID = "https://github.com/osmo-backend/osmo-backend/schema/stack-config.schema.json"
Json = dict[str, Any]


class Secret(Model):
    """A Pulumi secret: set it with `pulumi config set --secret KEY ...`."""

    secure: str
    """The encrypted value."""


def config_model() -> type[Model]:
    """The `config:` map of a stack file as one model: a field per `osmo-backend:*` key; the
    cluster is one of the kinds' models, chosen by `kind`."""
    kinds: Any = Union[tuple(k.spec for k in KINDS.values())]  # noqa: UP007 - built at runtime
    fields: dict[str, Any] = {
        "cluster": (
            Annotated[kinds, Field(discriminator="kind")],
            Field(alias=f"{PROJECT}:cluster", description="The cluster the backend runs on."),
        )
    }
    for key, model in SECTIONS.items():
        if key != "cluster":
            fields[key] = (model | None, Field(None, alias=f"{PROJECT}:{key}"))
    for key, what in SECRET_KEYS.items():
        secret = f"{what[0].upper()}{what[1:]}: a Pulumi secret (pulumi config set --secret)."
        fields[key] = (Secret | None, Field(None, alias=f"{PROJECT}:{key}", description=secret))
    return create_model("StackConfig", __base__=Model, **fields)


_WS = re.compile(r"\s*\n\s*")


def _tidy(node: Any) -> Any:
    """Generated titles dropped (they repeat the key), null defaults too (the description says
    what the default is derived from), docstring line breaks joined."""
    if isinstance(node, dict):
        return {
            k: (_WS.sub(" ", v).strip() if k == "description" and isinstance(v, str) else _tidy(v))
            for k, v in node.items()
            if (k != "title" or not isinstance(v, str)) and (k, v) != ("default", None)
        }
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def _classes(root: type) -> dict[str, type]:
    """Every model (and dataclass) a schema $defs entry can name, by class name."""
    found: dict[str, type] = {Taint.__name__: Taint}
    todo = [root]
    while todo:
        cls = todo.pop()
        found.setdefault(cls.__name__, cls)
        todo.extend(cls.__subclasses__())
    return found


def _describe(defs: Json) -> None:
    """Each property's description from its field's docstring (`field_docs`)."""
    classes = _classes(Model)
    for name, node in defs.items():
        cls = classes[name]
        docs = field_docs(cls)
        fields = getattr(cls, "model_fields", None) or dict.fromkeys(docs)
        for field_name, info in fields.items():
            key = getattr(info, "alias", None) or field_name
            prop = node.get("properties", {}).get(key)
            if prop is not None and field_name in docs and "description" not in prop:
                prop["description"] = docs[field_name]


def stack_file_schema() -> Json:
    config = config_model().model_json_schema(by_alias=True, ref_template="#/$defs/{model}")
    defs = config.pop("$defs", {})
    _describe(defs)
    # Other namespaces (aws:region, pulumi:...) are the CLI's and the providers' business, but an
    # unknown osmo-backend key is a typo.
    config.pop("additionalProperties", None)
    config.pop("required", None)
    config["propertyNames"] = {
        "anyOf": [{"not": {"pattern": f"^{PROJECT}:"}}, {"enum": sorted(config["properties"])}]
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "osmo-backend stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": _tidy(config),
            "environment": {},
            "secretsprovider": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "additionalProperties": False,
        "$defs": _tidy(defs),
    }


def render() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
