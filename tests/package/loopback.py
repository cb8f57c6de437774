"""The plugin's provider server and a fake Pulumi engine, both on 127.0.0.1, for sending the
package the ConstructRequests another language's program makes.

The provider side is the SDK's own gRPC server (`pulumi.provider.server.ProviderServicer`, what
`pulumi.provider.main` serves) around the plugin's provider, in a thread with its own event loop.
The engine side implements what a Construct uses: the resource monitor (GetDeploymentInfo,
SupportsFeature, RegisterResource, RegisterResourceOutputs, RegisterPackage, and Invoke with the
offline engine's fakes of the data sources cloud kinds read) and the engine's Log.
Registered resources are kept as the engine receives them (protobuf Structs as JSON), so tests see
secrets and unknowns as the wire carries them.
"""

import asyncio
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
import grpc.aio
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.provider.server import ProviderServicer
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    errors_pb2,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
    status_pb2,
)

from components.package import OsmoBackendProvider
from offline import engine as offline_engine

PROJECT = "consumer"
STACK = "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"

# pulumi/runtime/rpc.py: the special signature key and the secret / output-value signatures.
SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def output_value(value: Any = None, *, secret: bool, dependencies: list[str]) -> dict[str, Any]:
    """An Output as the engine forwards it to a provider that accepts outputs (no `value`:
    unknown, as in a preview)."""
    out: dict[str, Any] = {SIG: OUTPUT_VALUE_SIG, "secret": secret, "dependencies": dependencies}
    if value is not None:
        out["value"] = value
    return out


@dataclass
class Registration:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    inputs: dict[str, Any]
    provider: str
    additional_secret_outputs: list[str]


@dataclass
class FakeEngine(resource_pb2_grpc.ResourceMonitorServicer, engine_pb2_grpc.EngineServicer):
    """A resource monitor that echoes inputs as outputs (plus, outside a preview, the offline
    engine's fakes of what a provider computes, such as random bytes), and the engine's log."""

    preview: bool = False
    registrations: list[Registration] = field(default_factory=list[Registration])
    invokes: list[str] = field(default_factory=list[str])
    logs: list[str] = field(default_factory=list[str])
    loop_errors: list[str] = field(default_factory=list[str])
    """What the provider's event loop reported unhandled (a failed Output several resources
    consume fails each of them)."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, type_: str, name: str) -> Registration:
        found = [r for r in self.registrations if r.type == type_ and r.name == name]
        assert len(found) == 1, f"{type_} {name!r}: {len(found)} registrations"
        return found[0]

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return resource_pb2.DeploymentInfo(
            supportedFeatures=[
                resource_pb2.RESOURCE_MONITOR_FEATURE_SECRETS,
                resource_pb2.RESOURCE_MONITOR_FEATURE_RESOURCE_REFERENCES,
                resource_pb2.RESOURCE_MONITOR_FEATURE_OUTPUT_VALUES,
                resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS,
                resource_pb2.RESOURCE_MONITOR_FEATURE_DELETED_WITH,
            ]
        )

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        known = {"secrets", "resourceReferences", "outputValues", "aliasSpecs", "deletedWith"}
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in known)

    def RegisterResource(self, request: Any, context: Any) -> Any:
        parent_type = request.parent.split("::")[2] if request.parent else ""
        qualified = request.type
        if parent_type and parent_type != "pulumi:pulumi:Stack":
            qualified = f"{parent_type}${request.type}"
        urn = f"urn:pulumi:{STACK}::{PROJECT}::{qualified}::{request.name}"
        with self._lock:
            self.registrations.append(
                Registration(
                    type=request.type,
                    name=request.name,
                    urn=urn,
                    parent=request.parent,
                    custom=request.custom,
                    inputs=json_format.MessageToDict(request.object),
                    provider=request.provider,
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                )
            )
        state = struct_pb2.Struct()
        state.CopyFrom(request.object)
        fake = offline_engine._COMPUTED_OUTPUTS.get(request.type)  # pyright: ignore[reportPrivateUsage]
        if fake is not None and not self.preview:
            state.update(fake(request.name, json_format.MessageToDict(request.object)))
        return resource_pb2.RegisterResourceResponse(
            urn=urn, id=f"{request.name}-id" if request.custom else "", object=state
        )

    def Invoke(self, request: Any, context: Any) -> Any:
        """A data source a cloud kind's component reads (the caller's identity, the project
        number, a cluster's credentials), answered by the offline engine's fakes."""
        with self._lock:
            self.invokes.append(request.tok)
        fake = offline_engine.DEFAULT_INVOKE_FAKES.get(request.tok)
        if fake is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"no offline fake for {request.tok}")
        result = struct_pb2.Struct()
        result.update(fake(json_format.MessageToDict(request.args)))
        return resource_pb2.ResourceInvokeResponse(**{"return": result})

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}-ref")

    def Log(self, request: Any, context: Any) -> Any:
        with self._lock:
            self.logs.append(f"{engine_pb2.LogSeverity.Name(request.severity)}: {request.message}")
        return empty_pb2.Empty()


@dataclass
class Loopback:
    engine: FakeEngine
    provider: provider_pb2_grpc.ResourceProviderStub
    monitor_address: str

    def construct(
        self,
        inputs: Mapping[str, Any],
        *,
        name: str = "osmo",
        dry_run: bool = False,
        input_dependencies: Mapping[str, list[str]] | None = None,
        config: Mapping[str, str] | None = None,
    ) -> provider_pb2.ConstructResponse:
        """A ConstructRequest as the engine sends it for a TypeScript/YAML program's
        `new OsmoBackendStack(name, inputs)`: inputs are a protobuf Struct (numbers are
        doubles), parented to the program's stack; `config` is the program's stack config,
        which the engine sends with every Construct."""
        self.engine.preview = dry_run
        struct = struct_pb2.Struct()
        struct.update(dict(inputs))
        request = provider_pb2.ConstructRequest(
            project=PROJECT,
            stack=STACK,
            dryRun=dry_run,
            parallel=4,
            monitorEndpoint=self.monitor_address,
            type="osmo-backend:index:OsmoBackendStack",
            name=name,
            parent=STACK_URN,
            inputs=struct,
            config=dict(config or {}),
            inputDependencies={
                key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                for key, urns in (input_dependencies or {}).items()
            },
        )
        return self.provider.Construct(request, timeout=120)


def invalid_properties(err: grpc.RpcError) -> tuple[str, list[tuple[str, str]]]:
    """The message and (property path, reason) details of an INVALID_ARGUMENT status, decoded
    as the engine decodes them (pulumi/pulumi sdk/go/common/util/rpcutil/rpcerror/rpcerror.go)."""
    assert isinstance(err, grpc.Call)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    status = status_pb2.Status()
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status.ParseFromString(value)
    details: list[tuple[str, str]] = []
    for packed in status.details:
        errors = errors_pb2.InputPropertiesError()
        assert packed.Unpack(errors)
        details += [(e.property_path, e.reason) for e in errors.errors]
    return status.message, details


@contextmanager
def loopback() -> Iterator[Loopback]:
    """The fake engine and the provider server, both listening on 127.0.0.1 only."""
    engine = FakeEngine()
    engine_server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    resource_pb2_grpc.add_ResourceMonitorServicer_to_server(engine, engine_server)
    engine_pb2_grpc.add_EngineServicer_to_server(engine, engine_server)
    engine_port = engine_server.add_insecure_port("127.0.0.1:0")
    engine_server.start()
    engine_address = f"127.0.0.1:{engine_port}"

    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda _loop, context: engine.loop_errors.append(str(context)))
    ready = threading.Event()
    stops: list[asyncio.Event] = []
    ports: list[int] = []

    async def serve() -> None:
        server = grpc.aio.server()
        servicer = ProviderServicer(OsmoBackendProvider(), [], engine_address=engine_address)
        provider_pb2_grpc.add_ResourceProviderServicer_to_server(servicer, server)
        ports.append(server.add_insecure_port("127.0.0.1:0"))
        await server.start()
        stops.append(asyncio.Event())
        ready.set()
        await stops[0].wait()
        await server.stop(None)

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    assert ready.wait(timeout=60), "the provider server did not start"
    channel = grpc.insecure_channel(f"127.0.0.1:{ports[0]}")
    try:
        yield Loopback(
            engine=engine,
            provider=provider_pb2_grpc.ResourceProviderStub(channel),
            monitor_address=engine_address,
        )
    finally:
        channel.close()
        loop.call_soon_threadsafe(stops[0].set)
        thread.join(timeout=30)
        loop.close()
        engine_server.stop(None)
