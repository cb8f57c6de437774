"""The multi-language face of the library: `OsmoBackendStack`, one component whose arguments mirror
the stack-config contract (snake_case), for TypeScript, Go and YAML programs through
`pulumi package add ./plugin`.

The argument types are generated from the config models (components/package_args.py, by
components/package_inputs.py), so they cannot drift from what stack files take. The cluster is one
input type for every kind (the schema has no unions): `kind` chooses which keys apply, and a key of
another kind is refused by its input path. The arguments are converted to the stack-config shape
(key spellings from the generated `CONFIG_KEYS`) and validated by the same `load_spec` as stack
files; a problem fails with every reason at once, each named by its input path
(`osmo.backendName`, `networking.workflowPolicy.clusterCidrs[0]`). The cluster sections default
`region`, `project` and `location` to the consumer program's provider config (aws:region, ...), as
a stack file's do. Arguments are plain values (the component branches on them), except
`cluster.kubeconfigContent`: an Input (secret), such as the kubeconfig of a cluster created in the
same program. Everything else is validated up front; the checks that need the kubeconfig's content
run when it is known.

Other languages send numbers as floats (protobuf Struct), and the SDK's integer conversion does
not reach the constructor (pulumi/provider/experimental/component.py, `map_input_properties`
converts with `int(...)` and then overwrites the result with the raw value): whole-number floats
are made integers here, by the argument types.

No `from __future__ import annotations` in this module: Pulumi's schema analyzer reads these
annotations at runtime.
"""

import functools
import re
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NotRequired

import pulumi
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.provider.provider import ConstructResult
from pulumi.provider.server import ComponentInitError

from components import kubeconfig as kc
from components._validate import Problems
from components.backend import OsmoBackend, OsmoBackendArgs
from components.config import (
    KUBECONFIG_SECRET_KEY,
    SECRET_PLACEHOLDER_PREFIX,
    ConfigError,
    current_config,
    load_spec,
)
from components.package_args import CONFIG_KEYS, OsmoBackendStackArgs
from components.versions import PACKAGE_VERSION

PACKAGE = "osmo-backend"
TYPE = f"{PACKAGE}:index:OsmoBackendStack"


KUBECONFIG_CONTENT_PATH = "cluster.kubeconfigContent"
"""The input path of the kubeconfig content (a secret)."""

_SECRET_INPUT_PATHS = frozenset({KUBECONFIG_CONTENT_PATH})
"""Input paths whose values are secret. The engine prints the input's value next to each
problem whose path it finds in the inputs (pulumi/pulumi pkg/resource/deploy/source_eval.go,
`errorToMessage`: "property %v with value '%v' has a problem"), secrets included, so problems
with these are lines of the message instead."""

_INVALID = "invalid OsmoBackendStack arguments"
_KEY = re.compile(r"\.?([^.\[]+)")
_INDEX = re.compile(r"\[\d+\]")


_PROVIDER_KEYS = ("aws:region", "gcp:project", "gcp:region", "azure-native:location")
"""Provider config the cluster sections default to (`region`, `project`, `location`), as a stack
file's do: the consumer program's own, which the engine passes to the component with every
Construct (pulumi/provider/server.py `_construct` sets it as the runtime config)."""


@functools.cache
def _hints(typ: Any) -> dict[str, Any]:
    """A TypedDict's field types (`pulumi.Input` names `Output` as a forward reference), each
    without NotRequired/Required."""
    hints = typing.get_type_hints(typ, localns=vars(pulumi.output))
    return {key: _unwrap(hint) for key, hint in hints.items()}


def _unwrap(typ: Any) -> Any:
    """NotRequired[X] / Required[X] -> X."""
    while typing.get_origin(typ) in (NotRequired, typing.Required):
        typ = typing.get_args(typ)[0]
    return typ


def _is_input_type(typ: Any) -> bool:
    return isinstance(typ, type) and typing.is_typeddict(typ)


def _config_key(typ: type, key: str) -> str:
    """An input key's stack-config spelling (`cluster_cidrs` -> `clusterCIDRs`)."""
    return CONFIG_KEYS.get(typ.__name__, {}).get(key, camel_case(key))


@functools.cache
def _by_config_key(typ: type) -> dict[str, tuple[str, Any]]:
    """An input type's keys by their stack-config spelling: (input key, its type)."""
    return {_config_key(typ, key): (key, hint) for key, hint in _hints(typ).items()}


def _convert(value: Any, typ: Any) -> Any:
    """Input keys as the stack config spells them, and whole-number floats of `int` fields as
    integers (the models take whole floats where they use `whole()`, not everywhere); free maps
    (chart values, selectors, raw rules) stay as given."""
    if _is_input_type(typ) and isinstance(value, Mapping):
        hints = _hints(typ)
        return {
            _config_key(typ, key): _convert(child, hints.get(key, Any))
            for key, child in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if typing.get_origin(typ) is list and isinstance(value, list):
        (item,) = typing.get_args(typ)
        return [_convert(child, item) for child in value]  # pyright: ignore[reportUnknownVariableType]
    if typ is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _from_config(value: Any, typ: Any) -> Any:
    """Stack-config keys as the input keys of `typ` (`_convert` the other way)."""
    if _is_input_type(typ) and isinstance(value, Mapping):
        keys = _by_config_key(typ)
        return {
            keys[name][0] if name in keys else name: _from_config(
                child, keys[name][1] if name in keys else Any
            )
            for name, child in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if typing.get_origin(typ) is list and isinstance(value, list):
        (item,) = typing.get_args(typ)
        return [_from_config(child, item) for child in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def from_stack_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The `osmo-backend:<section>` keys of a flat stack-config map as `OsmoBackendStackArgs`
    (the inverse of `to_stack_config`): a stack file's settings for the component."""
    prefix = f"{PACKAGE}:"
    sections = {k.removeprefix(prefix): v for k, v in config.items() if k.startswith(prefix)}
    return _from_config(sections, OsmoBackendStackArgs)


def _provider_config() -> dict[str, Any]:
    raw, _secret = current_config()
    return {key: raw[key] for key in _PROVIDER_KEYS if raw.get(key)}


def to_stack_config(args: Mapping[str, Any]) -> dict[str, Any]:
    """`OsmoBackendStackArgs` as the flat stack-config map (`osmo-backend:<section>` -> object).

    `cluster.kubeconfig_content` becomes the `osmo-backend:kubeconfig` secret when it is a
    known string, and a placeholder (checked later, see `OsmoBackendStack`) when it is an Output.
    """
    given = {section: value for section, value in args.items() if value is not None}
    sections: dict[str, Any] = _convert(given, OsmoBackendStackArgs)
    config = {f"{PACKAGE}:{section}": value for section, value in sections.items()}
    cluster = config.get(f"{PACKAGE}:cluster")
    if isinstance(cluster, dict) and "kubeconfigContent" in cluster:
        content = cluster.pop("kubeconfigContent")  # pyright: ignore[reportUnknownVariableType]
        if content is not None:
            # An Output's value is not known yet: the placeholder makes `load_spec` skip the
            # content checks (as for a secret the offline plan cannot decrypt).
            config[KUBECONFIG_SECRET_KEY] = (
                content if isinstance(content, str) else SECRET_PLACEHOLDER_PREFIX + "deferred"
            )
    return config


def input_path(config_path: str) -> str:
    """A stack-config problem path as the component's input path:
    `osmo-backend:networking.workflowPolicy.clusterCIDRs[0]` ->
    `networking.workflowPolicy.clusterCidrs[0]`."""
    if config_path == KUBECONFIG_SECRET_KEY:
        return KUBECONFIG_CONTENT_PATH
    path = config_path.removeprefix(f"{PACKAGE}:")
    if path == config_path:
        return path  # another namespace's key (a provider's config)
    spelled, at, typ = "", 0, OsmoBackendStackArgs
    while at < len(path):
        if _is_input_type(typ) and (key := _KEY.match(path, at)):
            entry = _by_config_key(typ).get(key[1])
            if entry is None:
                break  # a key the input type does not have: as written
            name, typ = entry
            spelled += f".{camel_case(name)}" if spelled else camel_case(name)
        elif typing.get_origin(typ) is list and (key := _INDEX.match(path, at)):
            spelled += key[0]
            typ = typing.get_args(typ)[0]
        else:
            break  # a free map's keys (chart values, labels) or a value's own path: as written
        at = key.end()
    return spelled + path[at:]


def arguments_error(problems: Iterable[str]) -> pulumi.InputPropertiesError:
    """`path: reason` lines as the error the engine reports one per line, by input path."""
    details: list[pulumi.InputPropertyErrorDetails] = []
    message = _INVALID
    for line in problems:
        path, _, reason = line.partition(": ")
        path = input_path(path)
        if path in _SECRET_INPUT_PATHS:
            message += f"\n\t\t- property {path} has a problem: {reason}"
        else:
            details.append({"property_path": path, "reason": reason})
    return pulumi.InputPropertiesError(message, details)


def checked_kubeconfig(text: str, context: str | None) -> str:
    """The checks the stack file's kubeconfig gets, on content known only now; the minified
    kubeconfig, or every problem as the arguments error. Raised inside an apply, it surfaces
    where the provider server awaits the component's outputs, after `construct`
    (pulumi/provider/server.py `_construct_response`), as the same INVALID_ARGUMENT status."""
    problems = Problems()
    checked = kc.check(problems, KUBECONFIG_SECRET_KEY, text, context, None)
    if checked is None:
        raise arguments_error(problems.lines)
    return checked.content


class OsmoBackendStack(pulumi.ComponentResource):
    """An OSMO backend cluster: the cluster (adopted, or created on EKS, GKE or AKS), operator
    layer, OSMO connection, monitoring."""

    cluster_name: pulumi.Output[str]
    backend_name: pulumi.Output[str]
    kubeconfig: pulumi.Output[str]
    """The kubeconfig the stack's Kubernetes provider uses (secret)."""
    service_values: pulumi.Output[dict[str, Any]]
    """What the OSMO service chart needs for this backend (Secrets by name only)."""

    def __init__(
        self, name: str, args: OsmoBackendStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        config = {**_provider_config(), **to_stack_config(args)}
        problems: list[str] = []
        if KUBECONFIG_SECRET_KEY in config and "kubeconfig" in args["cluster"]:
            del config[KUBECONFIG_SECRET_KEY]
            problems.append(
                f"{PACKAGE}:cluster.kubeconfig: "
                f"set either a file path here or {KUBECONFIG_CONTENT_PATH}, not both"
            )
        secret_keys = [KUBECONFIG_SECRET_KEY] if KUBECONFIG_SECRET_KEY in config else []
        try:
            spec = load_spec(config, secret_keys, base_dir=Path.cwd())
        except ConfigError as err:
            raise arguments_error([*problems, *err.problems]) from None
        if problems:
            raise arguments_error(problems)
        backend_args: OsmoBackendArgs = {"spec": spec}
        content = args["cluster"].get("kubeconfig_content")
        if content is not None and not isinstance(content, str):
            context = args["cluster"].get("context")
            backend_args["kubeconfig"] = pulumi.Output.secret(content).apply(
                lambda text: checked_kubeconfig(text, context)
            )
        backend = OsmoBackend(name, backend_args, pulumi.ResourceOptions(parent=self))
        self.cluster_name = backend.cluster_name
        self.backend_name = backend.backend_name
        self.kubeconfig = backend.kubeconfig
        self.service_values = pulumi.Output.from_input(backend.service_values)
        self.register_outputs(
            {
                "cluster_name": self.cluster_name,
                "backend_name": self.backend_name,
                "kubeconfig": self.kubeconfig,
                "service_values": self.service_values,
            }
        )


class OsmoBackendProvider(ComponentProvider):
    """The SDK's component provider, reporting invalid arguments as the engine expects them.

    The SDK wraps whatever the constructor raises in `ComponentInitError`, which its gRPC server
    reports as "Exception: <message>" with a traceback; only an `InputPropertiesError` raised by
    `construct` itself becomes the INVALID_ARGUMENT status with one detail per property
    (pulumi/provider/experimental/component.py `construct`; pulumi/provider/server.py
    `ProviderServicer.Construct`). So it is unwrapped here.
    """

    def __init__(self) -> None:
        super().__init__([OsmoBackendStack], PACKAGE, None, PACKAGE_VERSION)

    def construct(
        self,
        name: str,
        resource_type: str,
        inputs: pulumi.Inputs,
        options: pulumi.ResourceOptions | None = None,
    ) -> ConstructResult:
        try:
            return super().construct(name, resource_type, inputs, options)
        except ComponentInitError as err:
            if isinstance(err.inner, pulumi.InputPropertiesError):
                raise err.inner from None
            raise
