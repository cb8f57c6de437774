"""The Pulumi CLI's rules for loading `Pulumi.yaml` and a stack's config, applied offline.

Every rule and message is read from pulumi/pulumi at commit
1b5949891b3cefcb9974752b24a5ecef0acc86c8 (the CLI behind pulumi 3.2xx):
- sdk/go/common/workspace/project.json: the JSON Schema `ValidateProject` checks `Pulumi.yaml`
  against (vendored verbatim as tests/fixtures/pulumi-project.schema.json; last changed in
  280839534c902ee76b7ad4b65fe2b37e291ede89). Messages are santhosh-tekuri/jsonschema v5.0.0's
  (schema.go, compiler.go), which sdk/go.mod pins.
- sdk/go/common/workspace/project.go: `ValidateProject`, `RewriteShorthandConfigValues`,
  `RewriteConfigPathIntoStackConfigDir`, `(*Project).Validate`, `ValidateConfigValue`.
- sdk/go/common/workspace/loaders.go: `LoadProjectBytes` (that order),
  `stackConfigNamespacedWithProject`.
- pkg/workspace/config.go: `mergeConfig`, `missingStackConfigurationKeysError`,
  `formatMissingKeys`, `validateStackConfigValues`, `validateStackConfigValue`.
"""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from components import config as spec
from components.config import ConfigError, load_spec
from offline import cli
from offline.fleet import REFERENCE_STACKS
from offline.stackfile import (
    StackFileError,
    declaration_problems,
    find_project,
    load_project,
    load_stack_config,
    schema_problems,
)
from tests.harness import REPO

PROJECT_SCHEMA = json.loads(
    (REPO / "tests" / "fixtures" / "pulumi-project.schema.json").read_text()
)
RUNTIME = {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}}


def write_project(tmp_path: Path, config: Any, **extra: Any) -> Path:
    doc = {"name": "demo", "runtime": RUNTIME, **extra}
    if config is not None:
        doc["config"] = config
    path = tmp_path / "Pulumi.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def write_stack(tmp_path: Path, config: dict[str, Any], name: str = "dev") -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def problems_of(call: Any) -> list[str]:
    with pytest.raises(StackFileError) as raised:
        call()
    return raised.value.problems


# --- Pulumi.yaml: project.json -------------------------------------------------------------


def test_a_declaration_holds_only_the_attributes_project_json_allows(tmp_path: Path) -> None:
    # project.json $defs.configTypeDeclaration: additionalProperties false over type, items,
    # description, secret, default, value. Every problem is reported at once (ValidateProject
    # collects the schema's errors in a multierror).
    path = write_project(
        tmp_path,
        {
            "demo:size": {"description": "ok", "required": True, "example": 3},
            "demo:zone": {"type": "map"},
            "demo:tags": {"type": "array", "items": {"items": {"type": "string"}}},
            "demo:note": {"description": 5, "secret": "yes"},
        },
    )
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: #/config/demo:size: additionalProperties 'example', 'required' not allowed",
        f'{path}: #/config/demo:zone/type: value must be one of "string", "integer", '
        '"boolean", "array", "object"',
        f"{path}: #/config/demo:tags/items: missing properties: 'type'",
        f"{path}: #/config/demo:note/description: expected string, but got number",
        f"{path}: #/config/demo:note/secret: expected boolean, but got string",
    ]


def test_an_array_item_type_of_array_needs_its_own_items(tmp_path: Path) -> None:
    # project.json $defs.configItemsType: `if type == array then required [items]`.
    path = write_project(tmp_path, {"demo:grid": {"type": "array", "items": {"type": "array"}}})
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: #/config/demo:grid/items: missing properties: 'items'"
    ]


def test_a_config_value_that_is_neither_shorthand_nor_a_declaration(tmp_path: Path) -> None:
    # project.json config.additionalProperties.oneOf: string, integer, boolean, array or a
    # declaration; a fraction or a null matches none.
    path = write_project(tmp_path, {"demo:ratio": 1.5, "demo:empty": None})
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: #/config/demo:ratio: oneOf failed",
        f"{path}: #/config/demo:empty: oneOf failed",
    ]


def test_runtime_must_be_a_name_or_name_and_options(tmp_path: Path) -> None:
    # The same three lines as pulumi's TestProjectLoadYAML ("name: project\nruntime: 4").
    path = tmp_path / "Pulumi.yaml"
    path.write_text("name: project\nruntime: 4\n")
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: #/runtime: oneOf failed",
        f"{path}: #/runtime: expected string, but got number",
        f"{path}: #/runtime: expected object, but got number",
    ]
    path.write_text("name: project\nruntime: {name: python, toolchain: uv}\n")
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: #/runtime: oneOf failed",
        f"{path}: #/runtime: expected string, but got object",
        f"{path}: #/runtime: additionalProperties 'toolchain' not allowed",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # ValidateProject checks the name before the schema (TestProjectLoadJSONInformativeErrors).
        ("runtime: python\n", "project is missing a 'name' attribute"),
        (
            "Name: demo\nruntime: python\n",
            "project is missing a 'name' attribute; found 'Name' instead",
        ),
        ("name: ''\nruntime: python\n", "project is missing a non-empty string 'name' attribute"),
        ("name: 4\nruntime: python\n", "project is missing a non-empty string 'name' attribute"),
        ("- name\n", "expected project to be an object, was '[]interface {}'"),
    ],
)
def test_the_project_needs_a_name(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "Pulumi.yaml"
    path.write_text(text)
    assert problems_of(lambda: load_project(path)) == [f"{path}: {expected}"]


# --- Pulumi.yaml: (*Project).Validate --------------------------------------------------------


def test_project_validate_rules_with_the_cli_messages(tmp_path: Path) -> None:
    # (*Project).Validate returns its first problem in Go map order; all are reported here.
    path = write_project(
        tmp_path,
        {
            "demo:both": {"default": 1, "value": 2},
            "demo:list": {"type": "array"},
            "demo:count": {"type": "integer", "default": "many"},
            "demo:names": {"type": "array", "items": {"type": "string"}, "default": [1]},
            "aws:typed": {"type": "string", "value": "x"},
            "aws:defaulted": {"default": "x"},
            "aws:bare": {"description": "documented only"},
        },
    )
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: Configuration key 'aws:bare' is namespaced and must provide an attribute 'value'",
        f"{path}: Configuration key 'aws:defaulted' is not namespaced by the project and should "
        "not define a default value. "
        "Did you mean to use the 'value' attribute instead of 'default'?",
        f"{path}: Configuration key 'aws:typed' is not namespaced by the project and should not "
        "define a type",
        f"{path}: project config 'demo:both' cannot have both a 'default' and 'value' attribute",
        f"{path}: The default value specified for configuration key 'demo:count' is not of the "
        "expected type 'integer'",
        f"{path}: The configuration key 'demo:list' declares an array but does not specify the "
        "underlying type via the 'items' attribute",
        f"{path}: The default value specified for configuration key 'demo:names' is not of the "
        "expected type 'array<string>'",
    ]


def test_shorthand_values_are_defaults_in_the_project_and_values_elsewhere(
    tmp_path: Path,
) -> None:
    # RewriteShorthandConfigValues: `size: 3` is {default: 3}, `aws:region: x` is {value: x}.
    write_project(tmp_path, {"size": 3, "aws:region": "us-west-2", "demo:zones": ["a"]})
    project = find_project(tmp_path)
    assert project.declarations == {
        "size": {"default": 3},
        "aws:region": {"value": "us-west-2"},
        "demo:zones": {"default": ["a"]},
    }
    stack = write_stack(tmp_path, {"size": 5})
    assert load_stack_config(project, stack).values == {
        "aws:region": "us-west-2",
        "demo:size": "5",
        "demo:zones": '["a"]',
    }


def test_config_as_a_string_is_the_stack_config_dir(tmp_path: Path) -> None:
    # RewriteConfigPathIntoStackConfigDir.
    write_project(tmp_path, "stacks")
    assert find_project(tmp_path).stack_config_dir == tmp_path / "stacks"
    path = write_project(tmp_path, "stacks", stackConfigDir="other")
    assert problems_of(lambda: load_project(path)) == [
        f"{path}: Should not use both config and stackConfigDir to define the stack directory. "
        "Use only stackConfigDir instead."
    ]


# --- stack config: mergeConfig ---------------------------------------------------------------


def test_a_project_key_with_neither_default_nor_value_is_required(tmp_path: Path) -> None:
    # mergeConfig: `!foundOnStack && !hasValue && !hasDefault && key.Namespace() == projectName`
    # is missing; formatMissingKeys sorts them and names each as Pulumi.yaml spells it.
    write_project(
        tmp_path,
        {
            "cluster": {"description": "short name"},
            "demo:osmo": {"description": "namespaced"},
            "demo:monitoring": {"description": "optional?"},
            "demo:set": {"description": "set by the stack"},
            "demo:withDefault": {"default": "x"},
        },
    )
    project = find_project(tmp_path)
    stack = write_stack(tmp_path, {"set": {"a": 1}})
    assert problems_of(lambda: load_stack_config(project, stack)) == [
        f"{stack}: Stack 'dev' is missing configuration values 'cluster', 'demo:monitoring' "
        "and 'demo:osmo'"
    ]
    stack = write_stack(tmp_path, {"demo:cluster": {}, "osmo": {}, "monitoring": {}, "set": 1})
    assert load_stack_config(project, stack).values["demo:withDefault"] == "x"
    stack = write_stack(tmp_path, {"demo:cluster": {}, "osmo": {}, "set": 1}, name="one")
    assert problems_of(lambda: load_stack_config(project, stack)) == [
        f"{stack}: Stack 'one' is missing configuration value 'demo:monitoring'"
    ]


def test_other_namespaces_take_the_project_value_unless_the_stack_sets_them(
    tmp_path: Path,
) -> None:
    # mergeConfig: a `value` fills a key the stack does not set; the stack's own value wins.
    write_project(tmp_path, {"pulumi:disable-default-providers": {"value": ["kubernetes"]}})
    project = find_project(tmp_path)
    values = load_stack_config(project, write_stack(tmp_path, {})).values
    assert values == {"pulumi:disable-default-providers": '["kubernetes"]'}
    stack = write_stack(tmp_path, {"pulumi:disable-default-providers": ["aws"]})
    assert load_stack_config(project, stack).values == {
        "pulumi:disable-default-providers": '["aws"]'
    }


def test_stack_values_of_typed_keys_must_match_the_type(tmp_path: Path) -> None:
    # validateStackConfigValue + ValidateConfigValue: scalars reach the check as strings (so any
    # scalar is a string, "5" an integer, "true" a boolean), objects JSON-decoded; the CLI stops
    # at the first key in order, all are reported here.
    write_project(
        tmp_path,
        {
            "demo:count": {"type": "integer", "default": 1},
            "demo:debug": {"type": "boolean", "default": False},
            "demo:name": {"type": "string", "default": "x"},
            "demo:zones": {"type": "array", "items": {"type": "string"}, "default": []},
            "demo:grid": {
                "type": "array",
                "items": {"type": "array", "items": {"type": "integer"}},
                "default": [],
            },
        },
    )
    project = find_project(tmp_path)
    good = {"count": 5, "debug": True, "name": 7, "zones": ["a"], "grid": [[1, "2"]]}
    assert load_stack_config(project, write_stack(tmp_path, good)).values["demo:count"] == "5"
    bad = {"count": "five", "debug": "yes", "name": {"a": 1}, "zones": [1], "grid": [["x"]]}
    stack = write_stack(tmp_path, bad)
    prefix = f"{stack}: Stack 'dev' with configuration key"
    assert problems_of(lambda: load_stack_config(project, stack)) == [
        f"{prefix} 'demo:count' must be of type 'integer'",
        f"{prefix} 'demo:debug' must be of type 'boolean'",
        f"{prefix} 'demo:grid' must be of type 'array<array<integer>>'",
        f"{prefix} 'demo:name' must be of type 'string'",
        f"{prefix} 'demo:zones' must be of type 'array<string>'",
    ]


def test_a_typed_secret_must_be_encrypted_even_when_it_comes_from_the_default(
    tmp_path: Path,
) -> None:
    # validateStackConfigValue: `projectConfigType.Secret && !stackValue.Secure()` (pulumi's
    # TestStackConfigSecretIsCorrectlyValidated). mergeConfig applies a default with
    # createConfigValue (config.NewValue: never secure) before that check, so a typed secret is
    # either required or, with a default, refused whenever the stack does not set it: an
    # optional secret key cannot be declared typed.
    write_project(tmp_path, {"demo:token": {"type": "string", "secret": True, "default": ""}})
    project = find_project(tmp_path)
    stack = write_stack(tmp_path, {"token": "plain"})
    message = "Stack 'dev' with configuration key 'demo:token' must be encrypted as it's secret"
    assert problems_of(lambda: load_stack_config(project, stack)) == [f"{stack}: {message}"]
    empty = write_stack(tmp_path, {}, name="empty")
    assert problems_of(lambda: load_stack_config(project, empty)) == [
        f"{empty}: {message.replace('dev', 'empty')}"
    ]
    secure = write_stack(tmp_path, {"token": {"secure": "v1:AAAA"}}, name="ok")
    assert load_stack_config(project, secure).secret_keys == ["demo:token"]


def test_an_untyped_secret_declaration_is_not_checked(tmp_path: Path) -> None:
    # validateStackConfigValues checks only keys with IsExplicitlyTyped (a `type`).
    write_project(tmp_path, {"demo:token": {"secret": True, "default": ""}})
    project = find_project(tmp_path)
    stack = write_stack(tmp_path, {"token": "plain"})
    assert load_stack_config(project, stack).values == {"demo:token": "plain"}


def test_the_cli_refuses_what_the_pulumi_cli_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, {"demo:cluster": {"description": "required"}})
    stack = write_stack(tmp_path, {"aws:region": "us-west-2"})
    for command in ("validate", "plan"):
        argv = ["--project-dir", str(tmp_path), command, "--config-file", str(stack)]
        assert cli.main(argv) == 2
        assert capsys.readouterr().err.splitlines() == [
            f"{stack}: Stack 'dev' is missing configuration value 'demo:cluster'"
        ]
    write_project(tmp_path, {"demo:cluster": {"required": True}})
    assert cli.main(["--project-dir", str(tmp_path), "validate", "--stack", "dev"]) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{tmp_path / 'Pulumi.yaml'}: #/config/demo:cluster: additionalProperties 'required' "
        "not allowed"
    ]


# --- this project ----------------------------------------------------------------------------


def test_pulumi_yaml_validates_against_the_cli_project_schema() -> None:
    doc = yaml.safe_load((REPO / "Pulumi.yaml").read_text())
    jsonschema.Draft202012Validator.check_schema(PROJECT_SCHEMA)
    errors = list(jsonschema.Draft202012Validator(PROJECT_SCHEMA).iter_errors(doc))
    assert errors == []
    assert schema_problems(doc) == []
    assert declaration_problems(doc["name"], doc["config"]) == []


DECLARATIONS: list[Any] = [
    "text",
    3,
    True,
    ["a"],
    1.5,
    None,
    {"description": "d"},
    {"description": "d", "required": True},
    {"type": "object"},
    {"type": "map"},
    {"type": "array", "items": {"type": "string"}},
    {"type": "array", "items": {"items": {"type": "string"}}},
    {"type": "array", "items": {"type": "array"}},
    {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
    {"secret": "yes"},
    {"secret": True, "default": ""},
    {"description": 5},
    {"value": {"any": ["thing"]}},
]


@pytest.mark.parametrize("declaration", DECLARATIONS, ids=[str(d) for d in DECLARATIONS])
def test_the_offline_schema_check_agrees_with_project_json(declaration: Any) -> None:
    doc = {"name": "demo", "runtime": RUNTIME, "config": {"demo:key": declaration}}
    by_schema = list(jsonschema.Draft202012Validator(PROJECT_SCHEMA).iter_errors(doc))
    assert (schema_problems(doc) == []) == (by_schema == [])


@pytest.mark.parametrize("stack", REFERENCE_STACKS)
def test_every_reference_stack_loads_under_the_cli_rules(stack: str) -> None:
    project = find_project(REPO)
    config = load_stack_config(project, project.stack_file(stack))
    assert config.values["pulumi:disable-default-providers"] == (
        '["kubernetes", "aws", "gcp", "azure-native"]'
    )
    load_spec(config.values, config.secret_keys, base_dir=REPO)


def test_only_the_keys_the_program_requires_are_declared_without_a_default() -> None:
    # mergeConfig makes every project-namespace declaration without default/value required, so
    # those must be exactly the keys the program itself refuses to run without.
    project = find_project(REPO)
    required = {
        project.qualify(key)
        for key, decl in project.declarations.items()
        if _in_project_namespace(project.qualify(key))
        and decl.get("default") is None
        and decl.get("value") is None
    }
    assert required == {"osmo-backend:cluster", "osmo-backend:osmo"}
    with pytest.raises(ConfigError) as raised:
        load_spec({})
    # Of the top-level keys (nested ones are refused inside their section).
    refused = {line.split(": ", 1)[0] for line in raised.value.problems}
    assert {key for key in refused if "." not in key} == required
    for key in spec._SECRET_KEYS:  # pyright: ignore[reportPrivateUsage]
        # Optional and secret: a typed declaration would be required or refused (see above).
        assert f"osmo-backend:{key}" not in project.declarations, key


def _in_project_namespace(key: str) -> bool:
    return key.startswith("osmo-backend:")


RUNTIMES: list[Any] = [
    "python",
    "",
    4,
    RUNTIME,
    {"options": {}},
    {"name": ""},
    {"name": "python", "toolchain": "uv"},
    {"name": "python", "options": "uv"},
]


@pytest.mark.parametrize("runtime", RUNTIMES, ids=[str(r) for r in RUNTIMES])
def test_the_offline_runtime_check_agrees_with_project_json(runtime: Any) -> None:
    doc = {"name": "demo", "runtime": runtime}
    by_schema = list(jsonschema.Draft202012Validator(PROJECT_SCHEMA).iter_errors(doc))
    assert (schema_problems(doc) == []) == (by_schema == [])
