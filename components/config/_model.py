"""The base of every config model, and pydantic's errors as our `path: reason` lines.

Each config section is a frozen pydantic model with camelCase aliases that refuses unknown keys.
Field types carry their own checks (`Text`, `DnsLabel`, `whole(...)`, `one_of(...)`, ...: a
before-validator that raises `fail(reason)` with the message we print); rules across fields are
validators that raise `Reasons` to put a reason on a sub-path. `validate` runs a model over one
config key and adds every error to `Problems` as `osmo-backend:<key>.<path>: <reason>`, in the
order the models declare their keys: unknown keys with the allowed ones and a "did you mean",
missing keys as "is required" (unless a misspelling of them was already reported), the value
shown as the user wrote it.

Validation context (`Ctx`, passed as pydantic's `context`) carries what a section reads besides
its own body: the stack file's folder, the providers' config (aws:region, ...), the notices list,
the opt-outs, and what other sections decided (the cluster kind, the backend name).
"""

import ast
import difflib
import functools
import inspect
import itertools
import json
import re
import textwrap
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar, Union, cast, get_args, get_origin
from urllib.parse import urlparse

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError, core_schema

from components._validate import (
    DNS1123_LABEL,
    DNS1123_LABEL_MAX,
    Problems,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    show,
)

PROJECT = "osmo-backend"


class Model(BaseModel):
    """A config section: frozen, camelCase keys, unknown keys refused. A field's docstring is its
    description in the editor schema and the package (`field_docs`; not pydantic's
    use_attribute_docstrings, which parses every model's source at import: a third of
    `osmo-backend validate`'s time)."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        alias_generator=to_camel,
        populate_by_name=True,
        arbitrary_types_allowed=True,
    )


@functools.cache
def field_docs(cls: type) -> dict[str, str]:
    """The docstrings under a class's annotated attributes (its bases' too), by attribute name,
    read from the source: the descriptions of generated schemas."""
    docs: dict[str, str] = {}
    for owner in reversed(cls.__mro__):
        if owner.__module__ in ("builtins", "pydantic.main") or owner is Model:
            continue
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(owner)))
        except (OSError, TypeError):
            continue
        first = tree.body[0] if tree.body else None
        body = first.body if isinstance(first, ast.ClassDef) else []
        for node, after in itertools.pairwise(body):
            if (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr)
                and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)
            ):
                docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs


def fail(reason: str) -> PydanticCustomError:
    """The error a validator raises: `reason` is printed after the value's path."""
    return PydanticCustomError("osmo", "{reason}", {"reason": reason})


_REQUIRED = "osmo_required"


@dataclass(frozen=True)
class Required:
    """Field metadata: the reason printed when the key is missing (default "is required"):
    `name: Annotated[str, Required("is required (a label-style key)")]`."""

    reason: str


def fail_required(reason: str = "is required") -> PydanticCustomError:
    """A value that is not set (silent when a misspelling of its key was already reported)."""
    return PydanticCustomError(_REQUIRED, "{reason}", {"reason": reason})


@dataclass
class Reasons:
    """Reasons on sub-paths of the model being validated, raised together by a validator:
    `at` is a key (its alias), an index, or a dotted path of them; "" is the model itself."""

    title: str = "config"
    items: list[InitErrorDetails] = field(default_factory=list[InitErrorDetails])

    def add(self, at: str | int | tuple[str | int, ...], reason: str, value: Any = None) -> None:
        loc = at if isinstance(at, tuple) else _split(at)
        self.items.append(InitErrorDetails(type=fail(reason), loc=loc, input=value))

    def required(self, at: str, reason: str = "is required") -> None:
        self.items.append(InitErrorDetails(type=fail_required(reason), loc=_split(at), input=None))

    def absorb(self, err: ValidationError, keep: Callable[[ErrorDetails], bool] = bool) -> None:
        """Another validation's errors (those `keep` accepts), to raise with these: a wrap
        validator runs the inner validation and reports both at once."""
        for e in err.errors():
            if not keep(e):
                continue
            reason = str((e.get("ctx") or {}).get("reason"))
            kind = fail_required(reason) if e["type"] == _REQUIRED else fail(reason)
            error = kind if e["type"] in ("osmo", _REQUIRED) else e["type"]
            self.items.append(
                InitErrorDetails(type=error, loc=e["loc"], input=e["input"], ctx=e.get("ctx", {}))
            )

    def __bool__(self) -> bool:
        return bool(self.items)

    def check(self) -> None:
        if self.items:
            raise ValidationError.from_exception_data(self.title, self.items)


def _split(at: str | int) -> tuple[str | int, ...]:
    if isinstance(at, int):
        return (at,)
    return tuple(int(p) if p.isdigit() else p for p in at.split(".") if p)


@dataclass
class Ctx:
    """What validators read besides their own input (pydantic's validation `context`)."""

    base_dir: Path = field(default_factory=Path.cwd)
    notices: list[str] = field(default_factory=list[str])
    opt_outs: dict[str, str] = field(default_factory=dict[str, str])
    """Config switches set to opt out of a secure default (path -> the check id policy.allow
    must list too)."""
    raw: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """The flat config map (`aws:region`, secrets, other sections) for cross-key rules."""
    cluster_kind: str = "existing"
    cluster_cidrs_known: bool = False
    backend_name: str | None = None

    def provider(self, key: str) -> str | None:
        value = self.raw.get(key)
        return value if isinstance(value, str) else None


def ctx(info: ValidationInfo) -> Ctx:
    context = info.context
    return context if isinstance(context, Ctx) else Ctx()


# Field types: each checks its value and fails with our message. The factories give Annotated
# metadata: `min_size: Annotated[int, whole(0, 1000)] = 0` (pyright takes no call as a type).


@dataclass(frozen=True)
class Check:
    """Annotated metadata: a before-validator `check` (which raises `fail(...)`) and the JSON
    Schema keywords it implies (`schema`: pairs such as ("maximum", 10))."""

    check: Callable[[Any], Any]
    schema: tuple[tuple[str, Any], ...] = ()

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        value = handler(schema)
        value.update(dict(self.schema))
        return value


def _text(value: Any) -> str:
    if isinstance(value, str) and value != "":
        return value
    if value is None:
        raise fail_required()
    raise fail(f"must be a non-empty string, got {show(value)}")


Text = Annotated[str, Check(_text, (("minLength", 1),))]
"""A non-empty string."""


def dns_label(max_length: int = DNS1123_LABEL_MAX, hint: str = "") -> Check:
    def check(value: Any) -> str:
        text = _text(value)
        if (reason := dns1123_label_problem(text, max_length)) is not None:
            raise fail(reason + hint)
        return text

    return Check(check, (("maxLength", max_length), ("pattern", DNS1123_LABEL.pattern)))


DnsLabel = Annotated[str, dns_label()]


def _subdomain(value: Any) -> str:
    text = _text(value)
    if (reason := dns1123_subdomain_problem(text)) is not None:
        raise fail(reason)
    return text


DnsSubdomain = Annotated[str, Check(_subdomain, (("maxLength", 253),))]


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise fail(f"must be true or false, got {show(value)}")


Flag = Annotated[bool, Check(_flag)]


def whole(low: int, high: int) -> Check:
    """A whole number from `low` to `high` (a whole float such as 3.0 too: JSON has one number
    type, and other languages' SDKs send 3 as 3.0)."""

    def check(value: Any) -> int:
        number = int(value) if isinstance(value, float) and value.is_integer() else value
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise fail(f"must be a whole number from {low} to {high}, got {show(value)}")
        return number

    return Check(check, (("minimum", low), ("maximum", high)))


def one_of(choices: Any, note: str = "") -> Check:
    """One of a Literal's values: `'x' is not one of: a, b<note>`
    (`Annotated[Mode, one_of(Mode)]`)."""
    allowed = get_args(choices)

    def check(value: Any) -> Any:
        if value not in allowed or isinstance(value, bool):
            raise fail(f"{show(value)} is not one of: {', '.join(map(str, allowed))}{note}")
        return value

    return Check(check)


Values = Mapping[str, Any]
IfEnabled = AfterValidator(lambda part: part if part is not None and part.enabled else None)
"""An optional part that is absent unless its `enabled` is set."""


def given_or(data: Any, info: ValidationInfo, defaults: Mapping[str, Any]) -> Any:
    """The user's config (validated with a `Ctx`) with the keys it lacks set to `defaults`: the
    rules on those keys then check the defaults too."""
    if isinstance(info.context, Ctx) and isinstance(data, Mapping):
        return {**defaults, **data}
    return data


def mapping(value: Any) -> Any:
    """An object (a before-check for nested models and free maps; in Python, a model too)."""
    if isinstance(value, Mapping | BaseModel):
        return value
    raise fail(f"must be an object, got {show(value)}")


def optional_section(value: Any) -> Any:
    """A nested object whose absence (or null) means its defaults."""
    return {} if value is None else mapping(value)


Section = Check(optional_section)
"""Annotated metadata of a nested object whose absence (or null) means its defaults."""


def url(*schemes: str) -> Check:
    """An absolute URL with a host in one of `schemes`, without credentials, query or fragment;
    the trailing '/' dropped."""

    def check(value: Any) -> str:
        text = _text(value)
        parsed = urlparse(text)
        scheme = " or ".join(f"{s}://" for s in schemes)
        if parsed.scheme not in schemes or not parsed.hostname:
            raise fail(f"{show(text)} must be an absolute {scheme} URL with a host")
        if parsed.username is not None or parsed.password is not None:
            raise fail("must not carry credentials (user:password@); the token authenticates")
        if parsed.query or parsed.fragment:
            raise fail(f"{show(text)} must not have a query or fragment")
        return text.rstrip("/")

    return Check(check, (("format", "uri"),))


def like(
    test: "re.Pattern[str] | Callable[[str], object]",
    what: str,
    schema: tuple[tuple[str, Any], ...] = (),
) -> Check:
    """Any value: `'x' is not <what>` unless it is a string `test` (a regex, or a predicate)
    accepts; a missing value too (`None is not ...`, for keys whose default comes from
    elsewhere). A regex is the schema's pattern (unless case-insensitive)."""
    ok = test.match if isinstance(test, re.Pattern) else test

    def check(value: Any) -> str:
        if isinstance(value, str) and ok(value):
            return value
        raise fail(f"{show(value)} is not {what}")

    if isinstance(test, re.Pattern) and not test.flags & re.IGNORECASE:
        schema = (("pattern", test.pattern), *schema)
    return Check(check, schema)


def _generation(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise fail(f"must be a whole number >= 0, got {show(value)}")
    return value


Generation = Annotated[int, Check(_generation, (("minimum", 0),))]
"""A rotation generation: a whole number from 0; bumping it rotates a credential."""


def matching(regex: "re.Pattern[str]", what: str) -> Check:
    """A non-empty string matching `regex`: `'x' is not <what>` otherwise."""

    def check(value: Any) -> str:
        text = _text(value)
        if not regex.match(text):
            raise fail(f"{show(text)} is not {what}")
        return text

    return Check(check, (("pattern", regex.pattern),))


# Errors -> `path: reason` lines.

_TYPE_REASONS: dict[str, Callable[[Any], str]] = {
    "bool_type": lambda v: f"must be true or false, got {show(v)}",
    "bool_parsing": lambda v: f"must be true or false, got {show(v)}",
    "string_type": lambda v: f"must be a non-empty string, got {show(v)}",
    "string_too_short": lambda v: f"must be a non-empty string, got {show(v)}",
    "model_type": lambda v: f"must be an object, got {show(v)}",
    "model_attributes_type": lambda v: f"must be an object, got {show(v)}",
    "dict_type": lambda v: f"must be an object, got {show(v)}",
    "list_type": lambda v: f"must be a list, got {show(v)}",
    "tuple_type": lambda v: f"must be a list, got {show(v)}",
    "int_type": lambda v: f"must be a whole number, got {show(v)}",
    "int_parsing": lambda v: f"must be a whole number, got {show(v)}",
    "int_from_float": lambda v: f"must be a whole number, got {show(v)}",
}


def _strip(annotation: Any) -> Any:
    """The model, list, tuple or dict type under Annotated/Optional wrappers."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _members(annotation: Any) -> list[Any]:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        return [_strip(a) for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _tag(model: Any) -> str | None:
    """The `kind` literal of a tagged-union member."""
    info = model.model_fields.get("kind") if _is_model(model) else None
    if info is None:
        return None
    args = get_args(_strip(info.annotation))
    return args[0] if len(args) == 1 and isinstance(args[0], str) else None


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _info(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info
    return None


@dataclass
class _Place:
    """Where an error's `loc` is: its printed path parts (keys as written, tagged-union tags
    dropped), its order in the config as the models declare it (field positions, indices) and
    the type found there."""

    parts: list[str | int] = field(default_factory=list[str | int])
    order: list[int] = field(default_factory=list[int])
    at: Any = None

    def owner(self) -> type[BaseModel] | None:
        """The model at this place (a union's model member)."""
        return next((m for m in _members(self.at) if _is_model(m)), None)


def _walk(root: Any, loc: tuple[str | int, ...]) -> _Place:
    place = _Place(at=_strip(root))
    for part in loc:
        members = _members(place.at)
        tagged = {_tag(m): m for m in members if _tag(m) is not None}
        if isinstance(part, str) and part in tagged and len(members) > 1:
            place.at = tagged[part]
            continue
        model = place.owner()
        origin, args = get_origin(place.at), get_args(place.at)
        if isinstance(part, int):
            place.parts.append(part)
            place.order.append(part)
            place.at = _strip(args[0]) if origin in (list, tuple) and args else None
        elif model is not None:
            info = _info(model, part)
            # A default validated under `validate_default` is reported by field name: print its
            # key.
            place.parts.append(info.alias or part if info is not None else part)
            fields = list(model.model_fields.values())
            place.order.append(fields.index(info) if info is not None else len(fields))
            place.at = _strip(info.annotation) if info is not None else None
        else:  # a free map's key
            place.parts.append(part)
            place.order.append(0)
            place.at = _strip(args[-1]) if args else None
    return place


def aliases(model: type[BaseModel]) -> list[str]:
    """The keys a model reads, as the user writes them."""
    return sorted(info.alias or name for name, info in model.model_fields.items())


def _join(root: str, parts: Sequence[str | int], separator: str = ".") -> str:
    """`root` and the path parts as printed: `.key`, `[index]`; `separator` before the first
    key (":" for a top-level `osmo-backend:<key>`)."""
    return root + "".join(
        f"[{p}]" if isinstance(p, int) else f"{separator if i == 0 else '.'}{p}"
        for i, p in enumerate(parts)
    )


@dataclass
class _Line:
    kind: str
    order: tuple[int, ...]
    """Where the value is in the config as the models declare it: field positions, indices."""
    parts: list[str | int]
    """The printed path parts under the root (tags dropped, keys as written)."""
    path: str
    reason: str


def _line(root: str, model: Any, error: Any, separator: str) -> _Line:
    loc = error["loc"]
    place = _walk(model, loc)
    parts = place.parts
    order = (*place.order, 1 << 30)  # an object's own problems after those inside it
    kind, value, context = error["type"], error.get("input"), error.get("ctx") or {}
    absolute = [i for i, p in enumerate(parts) if str(p).startswith(f"{PROJECT}:")]
    if absolute:  # a reason on another key (a secret the section reads): printed there
        at = absolute[-1]
        path = _join(str(parts[at]), parts[at + 1 :])
        return _Line(kind, order, parts, path, str(context["reason"]))
    path = _join(root, parts, separator)
    if kind == "extra_forbidden":
        owner = _walk(model, loc[:-1]).owner()
        allowed = aliases(owner) if owner is not None else []
        close = difflib.get_close_matches(str(parts[-1]), allowed, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        line = _Line(kind, order, parts, path, f"unknown key{hint} (allowed: {', '.join(allowed)})")
        if close:
            line.kind = f"{kind}:{_join(root, [*parts[:-1], close[0]], separator)}"
        return line
    if kind in ("osmo", _REQUIRED):
        return _Line(kind, order, parts, path, str(context.get("reason")))
    if kind == "missing":
        owner = _walk(model, loc[:-1]).owner()
        info = _info(owner, str(loc[-1])) if owner is not None else None
        marks = [m for m in info.metadata if isinstance(m, Required)] if info else []
        return _Line(_REQUIRED, order, parts, path, marks[0].reason if marks else "is required")
    if kind == "literal_error":
        return _Line(kind, order, parts, path, f"{show(value)} is not one of: {_expected(context)}")
    if kind in _TYPE_REASONS:
        return _Line(kind, order, parts, path, _TYPE_REASONS[kind](value))
    return _Line(kind, order, parts, path, f"{show(value)}: {error['msg']}")


def _ordered(lines: list[_Line]) -> list[_Line]:
    """Problems in the order the models declare their keys (list items by index); an object's
    unknown keys, sorted, just before its first other problem (pydantic reports them last)."""
    unknown: dict[tuple[str | int, ...], list[_Line]] = {}
    rest: list[_Line] = []
    for line in lines:
        if line.kind.startswith("extra_forbidden"):
            unknown.setdefault(tuple(line.parts[:-1]), []).append(line)
        else:
            rest.append(line)
    out = sorted(rest, key=lambda line: line.order)
    for parent, group in unknown.items():
        group.sort(key=lambda line: str(line.parts[-1]))
        at = next(
            (i for i, line in enumerate(out) if tuple(line.parts[: len(parent)]) == parent),
            len(out),
        )
        out[at:at] = group
    return out


def report(
    problems: Problems, root: str, model: Any, err: ValidationError, separator: str = "."
) -> None:
    """Every error of a validation of `model` at config path `root`, as `path: reason` lines."""
    lines = [_line(root, model, error, separator) for error in err.errors(include_url=False)]
    for line in lines:  # a "did you mean" silences the "is required" of the key it names
        if line.kind.startswith("extra_forbidden:"):
            problems.suggested.add(line.kind.partition(":")[2])
    for line in _ordered(lines):
        if line.kind == _REQUIRED and line.path in problems.suggested:
            continue
        problems.add(line.path, line.reason)


def _expected(context: Mapping[str, Any]) -> str:
    text = str(context.get("expected", ""))
    return text.replace("'", "").replace(" or ", ", ")


M = TypeVar("M", bound=BaseModel)


def validate(
    problems: Problems,
    root: str,
    model: type[M],
    value: Any,
    context: Ctx,
    *,
    separator: str = ".",
) -> M | None:
    """`model` over one config value; None (with every error added) when it is invalid."""
    try:
        # Keys as the user writes them only: a snake_case field name (which Python callers may
        # use) is an unknown key in config.
        return model.model_validate(value, context=context, by_alias=True, by_name=False)
    except ValidationError as err:
        report(problems, root, model, err, separator)
        return None


def section_body(
    problems: Problems, key: str, value: Any, *, needs: str = ""
) -> Mapping[str, Any] | None:
    """The object of one top-level key `osmo-backend:<key>`: JSON-decoded (the CLI passes objects
    as JSON strings); absent means every default ({}), unless `needs` says what a required
    section must at least hold. None (reported) when it is not an object."""
    path = f"{PROJECT}:{key}"
    if value is None and needs:
        problems.required(path, f"is required (an object with at least {needs})")
        return None
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as err:
            problems.add(path, f"is not valid JSON ({err.msg} at position {err.pos})")
            return None
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.add(path, f"must be an object, got {show(value)}")
        return None
    return cast(Mapping[str, Any], value)


def section(
    problems: Problems, key: str, model: type[M], value: Any, context: Ctx, *, needs: str = ""
) -> M | None:
    """One top-level key `osmo-backend:<key>` (`section_body`), validated by `model`."""
    body = section_body(problems, key, value, needs=needs)
    return None if body is None else validate(problems, f"{PROJECT}:{key}", model, body, context)
