"""The security checks gate the real `pulumi preview`/`up` (README "Security checks").

`osmo-backend plan` evaluates components/policy.py over the graph the recording engine records.
Under the Pulumi engine the program gates itself with the same rules, ids and lines, in two steps:

1. Before anything reaches the engine. A stack transformation
   (`pulumi.runtime.register_stack_transformation`: the SDK runs it in-process in every
   `Resource` constructor, before any input is resolved) notes each resource's type, name,
   parent, options and raw inputs, and holds its registration until the program body has run
   (its `depends_on` waits for the gate, in the event loop; the list it resolves to is the
   resource's own, so the engine sees the same request). Components and providers are not
   held: a synchronous invoke in the body (`aws.get_caller_identity`) needs its provider, which
   needs its parent component, registered; neither calls a cloud API. The inputs are then
   serialized as the SDK serializes them (same key translation), every Output still unresolved
   standing for an unknown, and `policy.evaluate_known` keeps the findings that hold whatever
   the unknowns turn out to be: everything decided by plain config (public endpoints, public
   nodes, release values, options). A failing one raises `pulumi.RunError` with the finding
   lines, and no cloud resource is registered (only components and providers, which live in
   the Pulumi state alone).
2. At registration. Each RegisterResource request (the serialized inputs exactly as the engine
   receives them) is evaluated again; a failing check refuses that registration and every later
   one. Values the cloud computes are unknown during `preview`: checks over them (labels or release
   values taken from another resource's outputs, say) run at `up`, before that resource is
   created.

Why not `register_resource_transform` (the engine-side `transforms`): the engine runs those, the
SDK's mocks do not, and the callback deserializes the inputs without their unknowns (a preview's
unknown becomes None, so "not set" and "not known yet" look alike).

`osmo-backend plan` runs the program with the gate suspended (the recording engine's `run`), and
reports over the whole recording itself: one report, not two.
"""

import asyncio
import copy
import inspect
import sys
import threading
from collections.abc import Generator, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi import _types  # pyright: ignore[reportPrivateUsage]
from pulumi.runtime import rpc, settings

from components import policy

_STACK_TYPE = "pulumi:pulumi:Stack"
_SIG = rpc._special_sig_key  # pyright: ignore[reportPrivateUsage]
_SECRET_SIG = rpc._special_secret_sig  # pyright: ignore[reportPrivateUsage]
_RESOURCE_SIG = rpc._special_resource_sig  # pyright: ignore[reportPrivateUsage]


@dataclass
class _Suspension:
    on: bool = False


_SUSPENSION = _Suspension()


@contextmanager
def suspended() -> Generator[None]:
    """Run a program without the gate: the offline engine checks the whole recording instead."""
    previous, _SUSPENSION.on = _SUSPENSION.on, True
    try:
        yield
    finally:
        _SUSPENSION.on = previous


@contextmanager
def gate(allow: Iterable[str]) -> Generator[None]:
    """Construct the stack's resources inside this block; it raises `pulumi.RunError` on exit
    (registering nothing) when a check fails that `allow` (osmo-backend:policy.allow) does not
    list."""
    if _SUSPENSION.on:
        yield
        return
    policy_gate = _Gate(allow)
    policy_gate.install()
    try:
        yield
    except BaseException as err:
        # Held registrations fail with the program's own error: never hang, never register.
        policy_gate.refuse(err)
        raise
    policy_gate.finish()


@dataclass(frozen=True)
class _Seen:
    urn: str
    qualified_type: str
    options: dict[str, Any]


@dataclass(frozen=True)
class _Constructed:
    resource: pulumi.Resource
    type_: str
    name: str
    props: Mapping[str, Any]
    opts: pulumi.ResourceOptions


def _urn(qualified_type: str, name: str) -> str:
    """As the engine writes it: the parent's qualified type chain, without the stack's."""
    return f"urn:pulumi:{pulumi.get_stack()}::{pulumi.get_project()}::{qualified_type}::{name}"


def _options(
    own: Mapping[str, Any], parent: _Seen | None, deleted_with: str | None
) -> dict[str, Any]:
    """Effective options, inherited down the parent chain as the recording engine computes them."""
    inherited = parent.options if parent is not None else {}
    options: dict[str, Any] = {}
    for key, default in (("protect", False), ("retainOnDelete", False)):
        value = own.get(key)
        options[key] = value if value is not None else inherited.get(key, default)
    options["deletedWith"] = deleted_with or inherited.get("deletedWith")
    return options


def _from_wire(value: Any) -> Any:
    """Serialized inputs as `policy` reads them, as the offline plan records them: secrets
    `[secret]`, unknowns `policy.UNKNOWN`, whole numbers as written, keys sorted, nulls left out
    (`rpc.deserialize_properties` leaves them out too)."""
    if value == rpc.UNKNOWN:
        return policy.UNKNOWN
    if isinstance(value, dict):
        data = cast(dict[str, Any], value)
        if data.get(_SIG) == _SECRET_SIG:
            return "[secret]"
        if data.get(_SIG) == _RESOURCE_SIG:
            return "[resource]"
        return {k: _from_wire(v) for k, v in sorted(data.items()) if v is not None}
    if isinstance(value, list):
        return [_from_wire(v) for v in cast(list[Any], value)]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _wire_inputs(struct: struct_pb2.Struct) -> dict[str, Any]:
    return _from_wire(json_format.MessageToDict(struct))


def _input_type(resource: pulumi.Resource) -> type | None:
    """The generated `<Resource>Args` class whose metadata translates the resource's input names
    (`<Resource>InitArgs` in pulumi_kubernetes, where `<Resource>Args` is a nested type)."""
    cls = type(resource)
    module = sys.modules.get(cls.__module__)
    for suffix in ("InitArgs", "Args"):
        candidate = getattr(module, cls.__name__ + suffix, None)
        if isinstance(candidate, type) and _types.is_input_type(candidate):
            return candidate
    return None


def _unresolved(value: Any) -> Any:
    """`value` with every Output, awaitable and resource reference replaced by an unknown."""
    if isinstance(
        value, pulumi.Output | pulumi.Resource | pulumi.output.Unknown
    ) or inspect.isawaitable(value):
        return pulumi.output.Unknown()
    cls = type(value)
    if _types.is_input_type(cls):
        duplicate = copy.copy(value)
        if isinstance(value, dict):
            items = cast(dict[str, Any], value).items()
            dict.update(cast(dict[str, Any], duplicate), {k: _unresolved(v) for k, v in items})
        else:
            duplicate.__dict__.update({k: _unresolved(v) for k, v in value.__dict__.items()})
        return duplicate
    if isinstance(value, Mapping):
        return {k: _unresolved(v) for k, v in cast(Mapping[Any, Any], value).items()}
    if isinstance(value, list | tuple):
        return [_unresolved(v) for v in cast(Iterable[Any], value)]
    return value


def _known_inputs(resource: pulumi.Resource, props: Mapping[str, Any]) -> Any:
    """The inputs as the SDK will serialize them, unresolved Outputs unknown; `policy.UNKNOWN`
    as a whole where the names cannot be translated as the SDK does."""
    typ = None if not isinstance(resource, pulumi.CustomResource) else _input_type(resource)
    given = {k for k, v in props.items() if v is not None}
    if typ is not None and not given <= set(_types.input_type_py_to_pulumi_names(typ)):
        return policy.UNKNOWN
    if typ is None and isinstance(resource, pulumi.CustomResource) and given:
        return policy.UNKNOWN
    translate = None if typ is not None else resource.translate_input_property
    plain = cast(Mapping[str, Any], _unresolved(props))
    # Nothing left to await: the coroutine completes on its first step, without the event loop.
    steps = rpc.serialize_properties(plain, {}, resource, translate, typ)
    try:
        steps.send(None)
    except StopIteration as done:
        return _wire_inputs(cast(struct_pb2.Struct, done.value))
    steps.close()
    return policy.UNKNOWN


def _as_list(depends_on: Any) -> list[Any]:
    """`depends_on` as the SDK reads it: one resource or a list of them."""
    if depends_on is None:
        return []
    if isinstance(depends_on, Sequence):
        return list(cast(Sequence[Any], depends_on))
    return [depends_on]


def _ref_urn(ref: str) -> str:
    """Provider references are `urn::id`."""
    return ref.rsplit("::", 1)[0] if ref else ""


class _Gate:
    def __init__(self, allow: Iterable[str]) -> None:
        self._allow = tuple(allow)
        self._constructed: list[_Constructed] = []
        self._by_resource: dict[pulumi.Resource, _Seen] = {}
        self._by_monitor_urn: dict[str, _Seen] = {}
        self._opened: asyncio.Future[None] = asyncio.get_event_loop().create_future()
        self._refusal: BaseException | None = None
        self._reported: set[str] = set()
        self._lock = threading.Lock()

    def install(self) -> None:
        pulumi.runtime.register_stack_transformation(self._note)
        monitor = settings.get_monitor()
        if monitor is not None:
            # Registrations read the monitor when a resource is constructed: from here on, ours.
            setattr(settings.SETTINGS, "monitor", _CheckingMonitor(monitor, self))  # noqa: B010

    def _note(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        if args.opts.id is not None or args.opts.urn is not None:
            return None  # a read of existing state (`get`), not a registration
        self._constructed.append(
            _Constructed(args.resource, args.type_, args.name, args.props, args.opts)
        )
        if not isinstance(args.resource, pulumi.CustomResource) or isinstance(
            args.resource, pulumi.ProviderResource
        ):
            return None
        opts = pulumi.ResourceOptions.merge(args.opts, pulumi.ResourceOptions())
        opts.depends_on = pulumi.Output.all(
            pulumi.Output.from_input(self._opened), pulumi.Output.from_input(args.opts.depends_on)
        ).apply(lambda both: _as_list(both[1]))
        return pulumi.ResourceTransformationResult(args.props, opts)

    # Step 1: everything constructed, nothing registered yet.

    def finish(self) -> None:
        for check_id in self._allow:
            self._report(f"policy: {check_id} is allowed by osmo-backend:policy.allow (opt-out)")
        findings = policy.evaluate_known([self._record_before(c) for c in self._constructed])
        failing = policy.blocking(findings, self._allow)
        if failing:
            error = pulumi.RunError(policy.failure_message(failing))
            self.refuse(error)
            raise error
        if not self._opened.done():
            self._opened.set_result(None)

    def _record_before(self, constructed: _Constructed) -> dict[str, Any]:
        resource, opts = constructed.resource, constructed.opts
        parent = self._by_resource.get(opts.parent) if opts.parent is not None else None
        qualified = f"{parent.qualified_type}${constructed.type_}" if parent else constructed.type_
        urn = _urn(qualified, constructed.name)
        deleted_with = self._by_resource.get(opts.deleted_with) if opts.deleted_with else None
        own = {"protect": opts.protect, "retainOnDelete": opts.retain_on_delete}
        seen = _Seen(urn, qualified, _options(own, parent, deleted_with and deleted_with.urn))
        self._by_resource[resource] = seen
        provider = cast(pulumi.Resource | None, getattr(resource, "_provider", None))
        provider_seen = self._by_resource.get(provider) if provider is not None else None
        return {
            "urn": urn,
            "type": constructed.type_,
            "name": constructed.name,
            "custom": isinstance(resource, pulumi.CustomResource),
            "provider": provider_seen.urn if provider_seen else None,
            "inputs": _known_inputs(resource, constructed.props),
            "options": seen.options,
        }

    # Step 2: each registration, as the engine receives it.

    def refuse(self, error: BaseException) -> None:
        """Every registration not yet sent fails with `error` (held ones included)."""
        with self._lock:
            if self._refusal is None:
                self._refusal = error
        if not self._opened.done():
            self._opened.set_exception(error)

    def admit(self, request: Any) -> _Seen:
        """The record of a registration request; raises instead when a check fails (or one
        failed before: nothing registers after a refusal)."""
        if self._refusal is not None:
            raise self._refusal
        with self._lock:
            parent = self._by_monitor_urn.get(request.parent)
            provider = self._by_monitor_urn.get(_ref_urn(request.provider))
            deleted_with = self._by_monitor_urn.get(request.deletedWith)
        if parent is not None:
            qualified = f"{parent.qualified_type}${request.type}"
        elif request.parent and request.parent.split("::")[2] != _STACK_TYPE:
            qualified = f"{request.parent.split('::')[2]}${request.type}"
        else:
            qualified = request.type
        own = {
            "protect": request.protect if request.HasField("protect") else None,
            "retainOnDelete": (
                request.retainOnDelete if request.HasField("retainOnDelete") else None
            ),
        }
        seen = _Seen(
            _urn(qualified, request.name),
            qualified,
            _options(own, parent, deleted_with.urn if deleted_with else None),
        )
        record = {
            "urn": seen.urn,
            "type": request.type,
            "name": request.name,
            "custom": bool(request.custom),
            "provider": (provider.urn if provider else _ref_urn(request.provider)) or None,
            "inputs": _wire_inputs(request.object),
            "options": seen.options,
        }
        findings = policy.evaluate_known([record])
        failing = policy.blocking(findings, self._allow)
        if failing:
            error = pulumi.RunError(policy.failure_message(failing))
            with self._lock:
                self._refusal = self._refusal or error
            raise error
        for finding in findings:
            self._report(policy.report_line(finding, self._allow))
        return seen

    def registered(self, monitor_urn: str, seen: _Seen) -> None:
        with self._lock:
            self._by_monitor_urn[monitor_urn] = seen

    def _report(self, line: str) -> None:
        with self._lock:
            if line in self._reported:
                return
            self._reported.add(line)
        pulumi.log.warn(line)


class _CheckingMonitor:
    """The resource monitor, with each registration checked on its way; everything else passes
    through."""

    def __init__(self, inner: Any, policy_gate: _Gate) -> None:
        self._inner = inner
        self._gate = policy_gate

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def RegisterResource(self, request: Any) -> Any:
        if request.type == _STACK_TYPE:
            return self._inner.RegisterResource(request)
        seen = self._gate.admit(request)
        response = self._inner.RegisterResource(request)
        self._gate.registered(response.urn, seen)
        return response
