"""Reading `Pulumi.yaml` and stack files the way the Pulumi CLI hands them to a program.

The CLI merges project-level config (`value:`/`default:` declarations) with the stack file,
JSON-encodes objects, and decrypts `secure:` values. Offline nothing can be decrypted, so each
secure value becomes a tagged placeholder and its key is marked secret; the plan says so.

The CLI's load rules are applied with its own messages, so a stack the CLI refuses is refused
here too. They come from pulumi/pulumi (read at commit 1b5949891b3cefcb9974752b24a5ecef0acc86c8):
- `sdk/go/common/workspace/loaders.go` `LoadProjectBytes`: `ValidateProject` (the name, then the
  JSON Schema `sdk/go/common/workspace/project.json`), `RewriteConfigPathIntoStackConfigDir`,
  `RewriteShorthandConfigValues`, then `(*Project).Validate` (all in `project.go`);
  `stackConfigNamespacedWithProject` (stack keys without a namespace belong to the project).
- `pkg/workspace/config.go` `mergeConfig`: project `default`/`value` fill keys the stack does not
  set; a project-namespace key with neither that the stack does not set is missing; then
  `validateStackConfigValues` checks typed keys (`secret`, then `type`).

Where the CLI stops at its first problem of a kind (`(*Project).Validate` walks a Go map, so its
first is arbitrary; `validateStackConfigValues` returns at the first key), every problem of that
kind is reported here, one `path: reason` line each, in key order. Of a JSON Schema `oneOf` that
fails on a config declaration, only the declaration branch's messages are repeated (the CLI also
lists why the value is not a string, integer, boolean or array). Offline, a `secure:` value is not
type-checked: it cannot be decrypted.
"""

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from components.config import SECRET_PLACEHOLDER_PREFIX


class StackFileError(Exception):
    """A project or stack file cannot be used; one `path: reason` line per problem."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class Project:
    name: str
    dir: Path
    stack_config_dir: Path
    declarations: dict[str, Any] = field(default_factory=dict[str, Any])
    """Config declarations after the CLI's shorthand rewrite: each one a mapping."""

    def qualify(self, key: str) -> str:
        """Stack files may write project keys without the namespace, as the CLI allows."""
        return key if ":" in key else f"{self.name}:{key}"

    def stack_file(self, stack: str) -> Path:
        return self.stack_config_dir / f"Pulumi.{stack.replace('/', '-')}.yaml"

    def stacks(self) -> list[tuple[str, Path]]:
        files = sorted(self.stack_config_dir.glob("Pulumi.*.yaml"))
        return [(f.name[len("Pulumi.") : -len(".yaml")], f) for f in files]


@dataclass(frozen=True)
class StackConfig:
    values: dict[str, str]
    """Flat config map as the CLI passes it (`namespace:key` -> string, objects as JSON)."""
    secret_keys: list[str]
    placeholders: list[str]
    """Keys whose `secure:` value was replaced by a placeholder."""


def _load_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise StackFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise StackFileError(f"{path}: is a directory, not a YAML file") from None
    except yaml.YAMLError as err:
        raise StackFileError(f"{path}: {yaml_error(err)}") from None


def _at(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def yaml_error(err: yaml.YAMLError) -> str:
    """The parser's own reason and position (`expected ',' or ']', but got '}'`), with what it
    was parsing and where that started."""
    mark = getattr(err, "problem_mark", None)
    where = f" at {_at(mark)}" if mark is not None else ""
    problem = getattr(err, "problem", None)
    if not problem:
        return f"not valid YAML{where}"
    context = getattr(err, "context", None)
    context_mark = getattr(err, "context_mark", None)
    started = f" that starts at {_at(context_mark)}" if context_mark is not None else ""
    detail = f" ({context}{started})" if context else ""
    hint = "; YAML indents with spaces, not tabs" if "'\\t'" in problem else ""
    return f"not valid YAML{where}: {problem}{detail}{hint}"


# --- Pulumi.yaml: project.json and (*Project).Validate ---------------------------------------

CONFIG_TYPES = ("string", "integer", "boolean", "array", "object")
"""project.json `$defs.simpleConfigType` (`object` since pulumi v3.186.0, pulumi/pulumi#20129)."""
DECLARATION_ATTRIBUTES = ("type", "items", "description", "secret", "default", "value")
"""project.json `$defs.configTypeDeclaration`: `additionalProperties: false`."""
_STRING_OR_NULL = ("description", "author", "website", "license", "main", "stackConfigDir")
_ENUM_MESSAGE = "value must be one of " + ", ".join(f'"{t}"' for t in CONFIG_TYPES)


def _json_type(value: Any) -> str:
    """The JSON type names santhosh-tekuri/jsonschema v5 prints (`jsonType` in schema.go)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _go_type(value: Any) -> str:
    """Go's `%T` of a decoded YAML document, for "expected project to be an object"."""
    names = {type(None): "<nil>", str: "string", bool: "bool", int: "int", float: "float64"}
    return names.get(type(value), "[]interface {}" if isinstance(value, list) else "object")


def _levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def _name_problem(doc: dict[str, Any]) -> str | None:
    """`ValidateProject`'s name check (it runs before the schema; `findClosestKey`, distance 2)."""
    if "name" not in doc:
        near = [k for k in sorted(map(str, doc)) if _levenshtein("name", k.lower()) <= 2]
        best = min(near, key=lambda k: _levenshtein("name", k.lower()), default=None)
        found = f"; found '{best}' instead" if best is not None else ""
        return f"project is missing a 'name' attribute{found}"
    if not isinstance(doc["name"], str) or not doc["name"]:
        return "project is missing a non-empty string 'name' attribute"
    return None


def _is_integer(value: Any) -> bool:
    """JSON Schema `integer` as jsonschema v5 decides it: a number with no fraction."""
    if isinstance(value, float):
        return value.is_integer()
    return isinstance(value, int) and not isinstance(value, bool)


def _items_problems(where: str, items: Any) -> list[str]:
    """project.json `$defs.configItemsType`."""
    if not isinstance(items, dict):
        return [f"{where}: expected object, but got {_json_type(items)}"]
    items = cast(dict[str, Any], items)
    problems: list[str] = []
    if "type" not in items:
        problems.append(f"{where}: missing properties: 'type'")
    elif isinstance(items["type"], dict):
        problems += _items_problems(f"{where}/type", items["type"])
    elif items["type"] not in CONFIG_TYPES:
        problems.append(f"{where}/type: {_ENUM_MESSAGE}")
    if "items" in items:
        problems += _items_problems(f"{where}/items", items["items"])
    elif items.get("type") == "array":
        problems.append(f"{where}: missing properties: 'items'")
    return problems


def _declaration_problems(where: str, value: Any) -> list[str]:
    """project.json `config.additionalProperties`: a shorthand value or a declaration."""
    if isinstance(value, str | bool | list) or _is_integer(value):
        return []
    if not isinstance(value, dict):
        return [f"{where}: oneOf failed"]
    decl = cast(dict[str, Any], value)
    problems: list[str] = []
    unknown = sorted(str(k) for k in decl if k not in DECLARATION_ATTRIBUTES)
    if unknown:
        names = ", ".join(f"'{k}'" for k in unknown)
        problems.append(f"{where}: additionalProperties {names} not allowed")
    if "type" in decl and decl["type"] not in CONFIG_TYPES:
        problems.append(f"{where}/type: {_ENUM_MESSAGE}")
    if "items" in decl:
        problems += _items_problems(f"{where}/items", decl["items"])
    if "description" in decl and not isinstance(decl["description"], str):
        problems.append(
            f"{where}/description: expected string, but got {_json_type(decl['description'])}"
        )
    if "secret" in decl and not isinstance(decl["secret"], bool):
        problems.append(f"{where}/secret: expected boolean, but got {_json_type(decl['secret'])}")
    return problems


def _runtime_object_problems(runtime: Any) -> list[str]:
    if not isinstance(runtime, dict):
        return [f"#/runtime: expected object, but got {_json_type(runtime)}"]
    body = cast(dict[str, Any], runtime)
    problems: list[str] = []
    if "name" in body and not isinstance(body["name"], str):
        problems.append(f"#/runtime/name: expected string, but got {_json_type(body['name'])}")
    elif "name" in body and not body["name"]:
        problems.append("#/runtime/name: length must be >= 1, but got 0")
    if "options" in body and not isinstance(body["options"], dict):
        problems.append(
            f"#/runtime/options: expected object, but got {_json_type(body['options'])}"
        )
    extra = sorted(str(k) for k in body if k not in ("name", "options"))
    if extra:
        names = ", ".join(f"'{k}'" for k in extra)
        problems.append(f"#/runtime: additionalProperties {names} not allowed")
    return problems


def _runtime_problems(runtime: Any) -> list[str]:
    """project.json `runtime`: a non-empty name, or `{name, options}` and nothing else."""
    if isinstance(runtime, str):
        if runtime:
            return []
        as_string = ["#/runtime: length must be >= 1, but got 0"]
    else:
        as_string = [f"#/runtime: expected string, but got {_json_type(runtime)}"]
    as_object = _runtime_object_problems(runtime)
    return ["#/runtime: oneOf failed", *as_string, *as_object] if as_object else []


def schema_problems(doc: dict[str, Any]) -> list[str]:
    """What `ValidateProject` reports for a project file (project.json), for the keys we check."""
    problems: list[str] = []
    for key in _STRING_OR_NULL:
        if doc.get(key) is not None and not isinstance(doc[key], str):
            problems.append(f"#/{key}: expected string or null, but got {_json_type(doc[key])}")
    if "runtime" in doc:
        problems += _runtime_problems(doc["runtime"])
    config = doc.get("config")
    if isinstance(config, dict):
        for key, value in cast(dict[str, Any], config).items():
            problems += _declaration_problems(f"#/config/{key}", value)
    elif config is not None and not isinstance(config, str):
        problems.append(
            f"#/config: expected object or string or null, but got {_json_type(config)}"
        )
    return problems


def _valid_value(type_name: str, items: Any, value: Any) -> bool:
    """`ValidateConfigValue` (project.go)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "integer":
        if isinstance(value, str):  # strconv.Atoi
            return re.fullmatch(r"[+-]?[0-9]+", value) is not None
        return _is_integer(value)
    if type_name == "boolean":
        return isinstance(value, bool) or value in ("true", "false")
    if type_name == "object":
        return isinstance(value, dict)
    if not isinstance(value, list) or not isinstance(items, dict):
        return False
    items = cast(dict[str, Any], items)
    return all(
        _valid_value(str(items.get("type")), items.get("items"), v) for v in cast(list[Any], value)
    )


def _type_name(type_name: str, items: Any) -> str:
    """`InferFullTypeName` (project.go): `array<string>`, `array<array<integer>>`."""
    if isinstance(items, dict):
        items = cast(dict[str, Any], items)
        return f"array<{_type_name(str(items.get('type')), items.get('items'))}>"
    return type_name


def _in_project(project_name: str, key: str) -> bool:
    """`configKeyIsNamespacedByProject` (project.go)."""
    return ":" not in key or key.startswith(f"{project_name}:")


def declaration_problems(project_name: str, declarations: dict[str, Any]) -> list[str]:
    """`(*Project).Validate` (project.go), every problem instead of the first."""
    problems: list[str] = []
    for key in sorted(declarations):
        decl = cast(dict[str, Any], declarations[key])
        typ, items = decl.get("type"), decl.get("items")
        default, value = decl.get("default"), decl.get("value")
        if default is not None and value is not None:
            problems.append(
                f"project config '{key}' cannot have both a 'default' and 'value' attribute"
            )
        elif _in_project(project_name, key):
            if typ == "array" and items is None:
                problems.append(
                    f"The configuration key '{key}' declares an array "
                    "but does not specify the underlying type via the 'items' attribute"
                )
            elif typ is not None and default is not None and not _valid_value(typ, items, default):
                problems.append(
                    f"The default value specified for configuration key '{key}' "
                    f"is not of the expected type '{_type_name(typ, items)}'"
                )
        elif typ is not None:
            problems.append(
                f"Configuration key '{key}' is not namespaced by the project "
                "and should not define a type"
            )
        elif default is not None:
            problems.append(
                f"Configuration key '{key}' is not namespaced by the project and "
                "should not define a default value. "
                "Did you mean to use the 'value' attribute instead of 'default'?"
            )
        elif value is None:
            problems.append(
                f"Configuration key '{key}' is namespaced and must provide an attribute 'value'"
            )
    return problems


def _declarations(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """`RewriteShorthandConfigValues`: `key: 5` is a default in the project namespace, a value
    in any other."""
    result: dict[str, Any] = {}
    for key, decl in config.items():
        if isinstance(decl, dict):
            result[key] = decl
        else:
            result[key] = {"default" if _in_project(name, key) else "value": decl}
    return result


def load_project(path: Path) -> Project:
    """A `Pulumi.yaml`, checked as `LoadProjectBytes` checks it."""
    doc = _load_yaml(path)
    if not isinstance(doc, dict):
        raise StackFileError(f"{path}: expected project to be an object, was '{_go_type(doc)}'")
    doc = cast(dict[str, Any], doc)
    name_problem = _name_problem(doc)
    if name_problem is not None:
        raise StackFileError(f"{path}: {name_problem}")
    problems = schema_problems(doc)
    if problems:
        raise StackFileError(*(f"{path}: {p}" for p in problems))
    config, config_dir = doc.get("config"), doc.get("stackConfigDir")
    if isinstance(config, str):  # RewriteConfigPathIntoStackConfigDir
        if "stackConfigDir" in doc:
            raise StackFileError(
                f"{path}: Should not use both config and stackConfigDir to define the stack "
                "directory. Use only stackConfigDir instead."
            )
        config, config_dir = None, config
    declarations = _declarations(doc["name"], cast(dict[str, Any], config or {}))
    problems = declaration_problems(doc["name"], declarations)
    if problems:
        raise StackFileError(*(f"{path}: {p}" for p in problems))
    return Project(
        name=doc["name"],
        dir=path.parent,
        stack_config_dir=path.parent / str(config_dir or "."),
        declarations=declarations,
    )


def find_project(start: Path) -> Project:
    """The nearest `Pulumi.yaml` at or above `start`."""
    for directory in (start.resolve(), *start.resolve().parents):
        path = directory / "Pulumi.yaml"
        if path.is_file():
            return load_project(path)
    raise StackFileError(f"{start}: no Pulumi.yaml here or in any parent directory")


# --- stack files: mergeConfig -----------------------------------------------------------------


def _encode(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True)


def _replace_secure(key: str, value: Any, found: list[str]) -> Any:
    """Replace `{secure: ...}` anywhere in a value with a placeholder naming the key."""
    if isinstance(value, dict):
        value = cast(dict[str, Any], value)
        if set(value) == {"secure"}:
            found.append(key)
            return f"{SECRET_PLACEHOLDER_PREFIX}{key}"
        return {k: _replace_secure(key, v, found) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_secure(key, v, found) for v in cast(list[Any], value)]
    return value


def missing_values_message(stack: str, keys: list[str]) -> str:
    """`missingStackConfigurationKeysError` and `formatMissingKeys` (pkg/workspace/config.go)."""
    keys = sorted(keys)
    quoted = [f"'{k}'" for k in keys]
    # "'a'", "'a' and 'b'", "'a', 'b' and 'c'": no comma before "and".
    listed = quoted[0] if len(keys) == 1 else ", ".join(quoted[:-1]) + f" and {quoted[-1]}"
    plural = "value" if len(keys) == 1 else "values"
    return f"Stack '{stack}' is missing configuration {plural} {listed}"


def stack_name(path: Path) -> str:
    """The stack a stack file belongs to: `Pulumi.<stack>.yaml`, else the file name without
    its `.yaml`/`.yml` (`east.yaml` is stack `east`)."""
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml"):
        return name[len("Pulumi.") : -len(".yaml")]
    return path.stem if path.suffix in (".yaml", ".yml") else name


def _as_cli_passes(value: Any) -> Any:
    """What `validateStackConfigValue` type-checks: scalars as their string, objects decoded."""
    return json.loads(json.dumps(value)) if isinstance(value, dict | list) else _encode(value)


STACK_FILE_KEYS = ("config", "environment", "secretsprovider", "encryptedkey", "encryptionsalt")
"""The keys of a stack file (`ProjectStack` in sdk/go/common/workspace/project.go); the CLI
decodes it without strict mode, so any other top-level key is silently ignored."""
_STARTER = (
    "a stack's settings go under a top-level `config:` key "
    "(`osmo-backend init --kind KIND --name NAME` writes a commented starter)"
)


def _top_level_problems(path: Path, doc: dict[str, Any]) -> None:
    """Top-level keys the CLI would ignore: config keys written without `config:`, or typos."""
    stray = [str(k) for k in doc if k not in STACK_FILE_KEYS]
    if not stray:
        return
    keys = [k for k in stray if ":" in k]
    problems: list[str] = []
    if keys:
        listed = ", ".join(keys)
        verb = "is" if len(keys) == 1 else "are"
        problems.append(f"{path}: {listed} {verb} at the top level; {_STARTER}")
    for key in (k for k in stray if ":" not in k):
        close = difflib.get_close_matches(key, STACK_FILE_KEYS, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.append(
            f"{path}: top-level key {key!r} is not read by the Pulumi CLI; {hint}"
            f"(a stack file has: {', '.join(STACK_FILE_KEYS)})"
        )
    raise StackFileError(*problems)


def _misspelled_namespaces(path: Path, project: Project, values: dict[str, Any]) -> list[str]:
    """Keys whose namespace is close to the project's (`osmo_backend:cluster`): the likely
    reason a declared key is missing."""
    lines: list[str] = []
    for key in sorted(values):
        namespace, _, name = key.partition(":")
        if namespace != project.name and difflib.get_close_matches(namespace, [project.name]):
            lines.append(
                f"{path}: {key}: unknown config namespace {namespace!r}; "
                f"did you mean {project.name}:{name}?"
            )
    return lines


def load_stack_config(project: Project, path: Path, stack: str | None = None) -> StackConfig:
    """Project values and defaults, then the stack file's `config:`, merged and validated as
    the CLI's `mergeConfig` does."""
    stack = stack if stack is not None else stack_name(path)
    doc = _load_yaml(path)
    if doc is None:
        # The CLI reads an empty document as a stack with no config (LoadProjectStackBytes) and
        # then reports the declared keys missing; the cause is the file.
        text = path.read_text(encoding="utf-8")
        what = "has only comments" if text.strip() else "is empty"
        raise StackFileError(f"{path}: the stack file {what}; {_STARTER}")
    if not isinstance(doc, dict):
        raise StackFileError(f"{path}: a stack file must be a mapping (with a `config:` key)")
    doc = cast(dict[str, Any], doc)
    _top_level_problems(path, doc)
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: `config` must be a mapping")

    values: dict[str, Any] = {}
    placeholders: list[str] = []
    for key, value in cast(dict[str, Any], config).items():
        full = project.qualify(str(key))
        values[full] = _replace_secure(full, value, placeholders)
    secure = set(placeholders)

    missing: list[str] = []
    for key in sorted(project.declarations):
        decl = cast(dict[str, Any], project.declarations[key])
        full = project.qualify(key)
        if full in values:
            continue
        if decl.get("default") is not None:
            values[full] = decl["default"]
        elif decl.get("value") is not None:
            values[full] = decl["value"]
        elif full.split(":", 1)[0] == project.name:
            missing.append(key)
    if missing:
        raise StackFileError(
            f"{path}: {missing_values_message(stack, missing)}",
            *_misspelled_namespaces(path, project, values),
        )

    problems: list[str] = []
    for key in sorted(project.declarations):
        decl = cast(dict[str, Any], project.declarations[key])
        typ, full = decl.get("type"), project.qualify(key)
        if typ is None:
            continue  # only explicitly typed keys are checked (IsExplicitlyTyped)
        if decl.get("secret") is True and full not in secure:
            problems.append(
                f"{path}: Stack '{stack}' with configuration key '{key}' "
                "must be encrypted as it's secret"
            )
        elif full not in secure and not _valid_value(
            typ, decl.get("items"), _as_cli_passes(values.get(full))
        ):
            problems.append(
                f"{path}: Stack '{stack}' with configuration key '{key}' "
                f"must be of type '{_type_name(typ, decl.get('items'))}'"
            )
    if problems:
        raise StackFileError(*problems)
    return StackConfig(
        values={k: _encode(v) for k, v in sorted(values.items())},
        secret_keys=sorted(placeholders),
        placeholders=sorted(placeholders),
    )
