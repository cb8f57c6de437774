"""Reading `Pulumi.yaml` and stack files the way the Pulumi CLI hands them to a program.

The CLI merges project-level config (`value:`/`default:` declarations) with the stack file,
JSON-encodes objects, and decrypts `secure:` values. Offline nothing can be decrypted, so each
secure value becomes a tagged placeholder and its key is marked secret; the plan says so.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

from components.config import SECRET_PLACEHOLDER_PREFIX


class StackFileError(Exception):
    """A project or stack file cannot be used; the message is one `path: reason` line."""


@dataclass(frozen=True)
class Project:
    name: str
    dir: Path
    stack_config_dir: Path
    declarations: dict[str, Any] = field(default_factory=dict[str, Any])

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
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise StackFileError(f"{path}: not valid YAML{where}") from None


def find_project(start: Path) -> Project:
    """The nearest `Pulumi.yaml` at or above `start`."""
    for directory in (start.resolve(), *start.resolve().parents):
        path = directory / "Pulumi.yaml"
        if path.is_file():
            doc = _load_yaml(path)
            if not isinstance(doc, dict) or not isinstance(doc.get("name"), str):
                raise StackFileError(f"{path}: must be a mapping with a project `name`")
            doc = cast(dict[str, Any], doc)
            config_dir = doc.get("stackConfigDir", ".")
            declarations = doc.get("config") or {}
            if not isinstance(declarations, dict):
                raise StackFileError(f"{path}: `config` must be a mapping")
            return Project(
                name=doc["name"],
                dir=directory,
                stack_config_dir=directory / str(config_dir),
                declarations=cast(dict[str, Any], declarations),
            )
    raise StackFileError(f"{start}: no Pulumi.yaml here or in any parent directory")


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


def load_stack_config(project: Project, path: Path) -> StackConfig:
    """Project values and defaults, then the stack file's `config:`, merged as the CLI does."""
    values: dict[str, Any] = {}
    declared_secret: set[str] = set()
    for key, decl in project.declarations.items():
        full = project.qualify(key)
        if isinstance(decl, dict):
            decl = cast(dict[str, Any], decl)
            if "value" in decl:
                values[full] = decl["value"]
            elif "default" in decl:
                values[full] = decl["default"]
            if decl.get("secret") is True:
                declared_secret.add(full)
        else:
            values[full] = decl

    doc = _load_yaml(path)
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise StackFileError(f"{path}: a stack file must be a mapping (with a `config:` key)")
    doc = cast(dict[str, Any], doc)
    config = doc.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: `config` must be a mapping")

    placeholders: list[str] = []
    for key, value in cast(dict[str, Any], config).items():
        full = project.qualify(str(key))
        values[full] = _replace_secure(full, value, placeholders)
        if full in declared_secret and full not in placeholders:
            raise StackFileError(
                f"{path}: {full} is declared `secret: true` in Pulumi.yaml but set in plain text; "
                f"set it with `pulumi config set --secret {key} ...`"
            )
    return StackConfig(
        values={k: _encode(v) for k, v in sorted(values.items())},
        secret_keys=sorted(placeholders),
        placeholders=sorted(placeholders),
    )
