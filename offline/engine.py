"""The recording engine: runs a Pulumi program against mocks and records the whole resource graph.

It is the offline plan's engine and the test harness. Plain `pulumi.runtime.set_mocks` misses what
the real engine does, so this one adds it:
- every registration is recorded with parent, provider, all dependencies (implicit ones included),
  inputs, and the effective `protect`/`deletedWith`/`retainOnDelete` after inheritance down the
  parent chain (the engine inherits them; mocks do not);
- the secret outputs a resource type declares (`additional_secret_outputs`) come back as secrets;
- a custom resource of a package whose default provider is disabled, registered without an
  explicit provider, fails the run (the real engine would refuse it);
- an invoke without a fake fails the run, naming its token;
- URNs carry the whole parent type chain without the stack's type, as the engine writes them
  (plain mocks keep only the last parent type and prefix top-level types with the stack's).
"""

import asyncio
import base64
import gc
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.proto import resource_pb2

from components import policy_gate

SECRET = "[secret]"
UNKNOWN = "[unknown]"
_STACK_TYPE = "pulumi:pulumi:Stack"

InvokeFake = Callable[[Mapping[str, Any]], dict[str, Any]]


class OfflineEngineError(Exception):
    """The program did something the real engine would reject, or that the offline engine cannot
    fake. The message says what and where."""


def mask_secrets(value: Any) -> Any:
    """Plain JSON-able data with every secret replaced by `[secret]` and unknowns by `[unknown]`."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if value is rpc.UNKNOWN or isinstance(value, pulumi.output.Unknown):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(k): mask_secrets(v) for k, v in sorted(value.items())}  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if isinstance(value, list | tuple):
        return [mask_secrets(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, pulumi.Resource):
        return f"[resource {type(value).__name__}]"
    if isinstance(value, float) and value.is_integer():
        # The engine protocol carries every number as a double; show whole numbers as written.
        return int(value)
    return value


def unwrap_secrets(value: Any) -> Any:
    """Inputs with secret markers removed (values kept): for tests that assert secret content."""
    if rpc.is_rpc_secret(value):
        return unwrap_secrets(rpc.unwrap_rpc_secret(value))
    if isinstance(value, Mapping):
        return {k: unwrap_secrets(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


@dataclass
class ResourceRecord:
    """One registered resource, as the offline plan writes it."""

    urn: str
    type: str
    name: str
    custom: bool
    parent: str | None
    provider: str | None
    providers: dict[str, str]
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    raw_inputs: dict[str, Any] = field(repr=False)
    """Inputs as registered, secrets still wrapped (never written out)."""
    own_options: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict[str, Any])
    """Effective options after inheritance: protect, deletedWith, retainOnDelete, dependsOn, ..."""

    @property
    def inputs(self) -> dict[str, Any]:
        """Inputs with secrets masked: safe to print or write."""
        return mask_secrets(self.raw_inputs)

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "parent": self.parent,
            "provider": self.provider,
            "providers": dict(sorted(self.providers.items())),
            "dependencies": self.dependencies,
            "propertyDependencies": dict(sorted(self.property_dependencies.items())),
            "inputs": self.inputs,
            "options": dict(sorted(self.options.items())),
        }


@dataclass
class Recording:
    """Everything one program run registered, in registration order."""

    project: str
    stack: str
    resources: list[ResourceRecord] = field(default_factory=list[ResourceRecord])
    raw_outputs: dict[str, Any] = field(default_factory=dict[str, Any])
    logs: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])
    invokes: list[str] = field(default_factory=list[str])

    @property
    def outputs(self) -> dict[str, Any]:
        return mask_secrets(self.raw_outputs)

    def by_type(self, type_: str) -> list[ResourceRecord]:
        return [r for r in self.resources if r.type == type_]

    def get(self, type_: str, name: str) -> ResourceRecord:
        for r in self.resources:
            if r.type == type_ and r.name == name:
                return r
        known = ", ".join(f"{r.type}::{r.name}" for r in self.resources)
        raise KeyError(f"no {type_} named {name!r}; registered: {known}")

    def urn_of(self, type_: str, name: str) -> str:
        return self.get(type_, name).urn

    def children(self, urn: str | None) -> list[ResourceRecord]:
        return [r for r in self.resources if r.parent == urn]


def _fake_random_bytes(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deterministic stand-in bytes (never a real secret): same name and keepers, same bytes."""
    seed = json.dumps({"name": name, "keepers": inputs.get("keepers", {})}, sort_keys=True)
    length = int(inputs.get("length", 32))
    data = (hashlib.sha256(seed.encode()).digest() * (length // 32 + 1))[:length]
    return {"base64": base64.b64encode(data).decode(), "hex": data.hex()}


def _fake_random_string(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Deterministic lowercase letters and digits (what the stacks ask for), same name same
    string."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    return {"result": digest[: int(inputs.get("length", 8))]}


_FAKE_ACCOUNT = "000000000000"
"""The account in every fake ARN: visibly not a real one."""


def _fake_arn(service: str, kind: str) -> Callable[[str, Mapping[str, Any]], dict[str, Any]]:
    def fake(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        region = "" if service == "iam" else "us-east-1"
        named = inputs.get("name") or name
        return {"arn": f"arn:aws:{service}:{region}:{_FAKE_ACCOUNT}:{kind}/{named}", "name": named}

    return fake


def _fake_eks_cluster(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    cluster = inputs.get("name") or name
    digest = hashlib.sha256(str(cluster).encode()).hexdigest()[:32].upper()
    ca = base64.b64encode(f"fake CA for {cluster}".encode()).decode()
    return {
        **_fake_arn("eks", "cluster")(name, inputs),
        "endpoint": f"https://{digest}.gr7.us-east-1.eks.amazonaws.com",
        "certificateAuthority": {"data": ca},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.us-east-1.amazonaws.com/id/{digest}"}]}
        ],
    }


def _fake_node_group(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    group = inputs.get("nodeGroupName") or name
    asg = f"eks-{group}-{hashlib.sha256(str(group).encode()).hexdigest()[:8]}"
    return {
        **_fake_arn("eks", "nodegroup")(name, inputs),
        "resources": [{"autoscalingGroups": [{"name": asg}]}],
    }


def _fake_oidc_provider(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    host = str(inputs.get("url", name)).removeprefix("https://")
    return {"arn": f"arn:aws:iam::{_FAKE_ACCOUNT}:oidc-provider/{host}"}


_FAKE_PROJECT_NUMBER = "000000000000"
"""The project number in every fake GCP output: visibly not a real one."""


def _fake_gke_cluster(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    cluster = str(inputs.get("name") or name)
    location = str(inputs.get("location", "us-central1"))
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:12]
    ca = base64.b64encode(f"fake CA for {cluster}".encode()).decode()
    endpoints: dict[str, Any] = dict(inputs.get("controlPlaneEndpointsConfig") or {})
    endpoints["dnsEndpointConfig"] = {
        **dict(endpoints.get("dnsEndpointConfig") or {}),
        "endpoint": f"gke-{digest}-{_FAKE_PROJECT_NUMBER}.{location}.gke.goog",
    }
    private = {**dict(inputs.get("privateClusterConfig") or {}), "privateEndpoint": "172.16.0.2"}
    return {
        "endpoint": "203.0.113.10",
        "masterAuth": {
            **dict(inputs.get("masterAuth") or {}),
            "clusterCaCertificate": ca,
        },
        "controlPlaneEndpointsConfig": endpoints,
        "privateClusterConfig": private,
    }


def _fake_service_account(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    account = inputs.get("accountId") or name
    project = inputs.get("project") or "fake-project"
    email = f"{account}@{project}.iam.gserviceaccount.com"
    return {"email": email, "name": f"projects/{project}/serviceAccounts/{email}"}


_FAKE_GUID = "00000000-0000-0000-0000-000000000000"
"""The subscription, tenant and principal in every fake Azure output: visibly not real ones."""
_AZURE_NAME_INPUT = {
    "azure-native:resources:ResourceGroup": "resourceGroupName",
    "azure-native:network:VirtualNetwork": "virtualNetworkName",
    "azure-native:keyvault:Vault": "vaultName",
    "azure-native:managedidentity:UserAssignedIdentity": "resourceName",
    "azure-native:storage:StorageAccount": "accountName",
}


def _azure_name(type_: str) -> Callable[[str, Mapping[str, Any]], dict[str, Any]]:
    def fake(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
        return {"name": inputs.get(_AZURE_NAME_INPUT[type_]) or name}

    return fake


def _fake_identity(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    digest = hashlib.sha256(name.encode()).hexdigest()
    fake_id = f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
    return {
        **_azure_name("azure-native:managedidentity:UserAssignedIdentity")(name, inputs),
        "principalId": fake_id,
        "clientId": fake_id,
        "tenantId": _FAKE_GUID,
    }


def _fake_aks_cluster(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    cluster = str(inputs.get("resourceName") or name)
    location = str(inputs.get("location", "eastus"))
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:8]
    return {
        "name": cluster,
        "fqdn": f"{cluster}-{digest}.hcp.{location}.azmk8s.io",
        "privateFQDN": f"{cluster}-{digest}.privatelink.{location}.azmk8s.io",
        "oidcIssuerProfile": {
            "enabled": True,
            "issuerURL": f"https://{location}.oic.prod-aks.azure.com/{_FAKE_GUID}/{digest}/",
        },
    }


def _aks_identity_state(state: dict[str, Any]) -> dict[str, Any]:
    """The input lists identity ids; the resource's state maps each id to its principal."""
    identity: dict[str, Any] = dict(state.get("identity") or {})
    refs = identity.get("userAssignedIdentities")
    if isinstance(refs, list):
        identity["userAssignedIdentities"] = {
            str(ref): {"principalId": _FAKE_GUID, "clientId": _FAKE_GUID}
            for ref in cast(list[Any], refs)
        }
        state["identity"] = identity
    return state


_STATE_SHAPES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "azure-native:containerservice:ManagedCluster": _aks_identity_state,
}
"""Where a resource's state has another shape than its inputs (applied in previews too: the
provider reports the shape even when values are unknown)."""


def _fake_public_ip(name: str, _inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A static address from TEST-NET-3 (RFC 5737), never a real one."""
    return {
        "ipAddress": f"203.0.113.{int(hashlib.sha256(name.encode()).hexdigest(), 16) % 254 + 1}"
    }


def _fake_key(name: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    uri = f"https://{inputs.get('vaultName')}.vault.azure.net/keys/{inputs.get('keyName')}"
    return {"keyUri": uri, "keyUriWithVersion": f"{uri}/0123456789abcdef0123456789abcdef"}


def _fake_aks_credentials(args: Mapping[str, Any]) -> dict[str, Any]:
    """What ListClusterUserCredential returns with format=exec: a kubelogin kubeconfig."""
    cluster = str(args.get("resourceName"))
    digest = hashlib.sha256(cluster.encode()).hexdigest()[:8]
    ca = base64.b64encode(f"fake CA for {cluster}".encode()).decode()
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "kubelogin",
            "args": ["get-token", "--login", "devicecode", "--server-id", _FAKE_GUID],
        }
    }
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": cluster,
                "cluster": {
                    "server": f"https://{cluster}-{digest}.hcp.eastus.azmk8s.io:443",
                    "certificate-authority-data": ca,
                },
            }
        ],
        "users": [{"name": f"clusterUser_{cluster}", "user": user}],
        "contexts": [
            {"name": cluster, "context": {"cluster": cluster, "user": f"clusterUser_{cluster}"}}
        ],
        "current-context": cluster,
    }
    value = base64.b64encode(json.dumps(kubeconfig).encode()).decode()
    return {"kubeconfigs": [{"name": "clusterUser", "value": value}]}


_COMPUTED_OUTPUTS: dict[str, Callable[[str, Mapping[str, Any]], dict[str, Any]]] = {
    "random:index/randomBytes:RandomBytes": _fake_random_bytes,
    "random:index/randomString:RandomString": _fake_random_string,
    "random:index/randomPassword:RandomPassword": _fake_random_string,
    "aws:eks/cluster:Cluster": _fake_eks_cluster,
    "aws:eks/nodeGroup:NodeGroup": _fake_node_group,
    "aws:iam/role:Role": _fake_arn("iam", "role"),
    "aws:iam/policy:Policy": _fake_arn("iam", "policy"),
    "aws:iam/user:User": _fake_arn("iam", "user"),
    "aws:iam/accessKey:AccessKey": lambda name, _inputs: {"secret": f"offline-fake-secret-{name}"},
    "gcp:storage/hmacKey:HmacKey": lambda name, _inputs: {
        "accessId": f"GOOGOFFLINEFAKE-{name}",
        "secret": f"offline-fake-secret-{name}",
    },
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _fake_oidc_provider,
    "aws:kms/key:Key": _fake_arn("kms", "key"),
    "aws:ec2/launchTemplate:LaunchTemplate": lambda _name, _inputs: {"latestVersion": 1},
    "aws:s3/bucket:Bucket": lambda name, inputs: {
        "arn": f"arn:aws:s3:::{inputs.get('bucket') or name}"
    },
    "gcp:container/cluster:Cluster": _fake_gke_cluster,
    "gcp:serviceaccount/account:Account": _fake_service_account,
    **{t: _azure_name(t) for t in _AZURE_NAME_INPUT},
    "azure-native:managedidentity:UserAssignedIdentity": _fake_identity,
    "azure-native:containerservice:ManagedCluster": _fake_aks_cluster,
    "azure-native:keyvault:Key": _fake_key,
    "azure-native:network:PublicIPAddress": _fake_public_ip,
}
"""Outputs a provider computes (not echoed inputs), faked per resource type."""

FAKE_CALLER_ARN = f"arn:aws:sts::{_FAKE_ACCOUNT}:assumed-role/osmo-deployer/offline-plan"
"""Who the offline plan deploys as on AWS: an assumed-role session, as most deployers are."""


def _fake_session_context(args: Mapping[str, Any]) -> dict[str, Any]:
    """The provider's issuer lookup: an assumed-role session's role (no path in the fakes)."""
    arn = str(args.get("arn"))
    parts = arn.split(":", 5)
    if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
        role, session = parts[5].removeprefix("assumed-role/").split("/", 1)
        issuer = f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
        return {"arn": arn, "issuerArn": issuer, "issuerName": role, "sessionName": session}
    return {"arn": arn, "issuerArn": arn}


DEFAULT_INVOKE_FAKES: dict[str, InvokeFake] = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _args: {
        "accountId": _FAKE_ACCOUNT,
        "arn": FAKE_CALLER_ARN,
        "userId": "AROAFAKEOFFLINEPLAN:offline-plan",
    },
    "aws:iam/getSessionContext:getSessionContext": _fake_session_context,
    "gcp:organizations/getProject:getProject": lambda args: {
        "projectId": args.get("projectId"),
        "number": _FAKE_PROJECT_NUMBER,
    },
    "azure-native:authorization:getClientConfig": lambda _args: {
        "clientId": _FAKE_GUID,
        "objectId": _FAKE_GUID,
        "subscriptionId": _FAKE_GUID,
        "tenantId": _FAKE_GUID,
    },
    "azure-native:containerservice:listManagedClusterUserCredentials": _fake_aks_credentials,
    "azure-native:storage:listStorageAccountKeys": lambda args: {
        "keys": [
            {"keyName": f"key{n}", "value": f"offline-fake-key{n}-{args.get('accountName')}"}
            for n in (1, 2)
        ]
    },
}
"""Data sources a stack reads, faked: EKS stacks read the deploying identity (its access entry),
the GKE service agent's address needs the project number, AKS stacks read the deploying identity
and the cluster user's kubeconfig."""


class _Mocks(pulumi_mocks.Mocks):
    """Plausible fake cloud outputs: a resource's state is its inputs plus per-type fakes."""

    def __init__(
        self, recording: Recording, invoke_fakes: Mapping[str, InvokeFake], *, preview: bool
    ) -> None:
        self._recording = recording
        self._invoke_fakes = invoke_fakes
        self._preview = preview
        self.unknown_invokes: list[str] = []

    def new_resource(
        self, args: pulumi_mocks.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        fake = _COMPUTED_OUTPUTS.get(args.typ)
        # In a preview, what the provider computes is not known yet.
        if fake is not None and not self._preview:
            state.update(fake(args.name, args.inputs))
        shape = _STATE_SHAPES.get(args.typ)
        if shape is not None:
            state = shape(state)
        return f"{args.name}-id", state

    def call(
        self, args: pulumi_mocks.MockCallArgs
    ) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        self._recording.invokes.append(args.token)
        fake = self._invoke_fakes.get(args.token)
        if fake is None:
            self.unknown_invokes.append(args.token)
            return {}, []
        return fake(args.args), []


class _Monitor(pulumi_mocks.MockMonitor):
    def __init__(
        self, mocks: _Mocks, recording: Recording, disabled_default_providers: Iterable[str]
    ) -> None:
        super().__init__(mocks)
        self._recording = recording
        self._by_urn: dict[str, ResourceRecord] = {}
        self._disabled = set(disabled_default_providers)
        self.violations: list[str] = []
        self.loops: set[asyncio.AbstractEventLoop] = set()
        self._lock = threading.Lock()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != _STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return "urn:pulumi:" + "::".join(
            [settings.get_stack(), settings.get_project(), type_, name]
        )

    def RegisterResource(self, request: Any) -> Any:
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == _STACK_TYPE:
            return resource_pb2.RegisterResourceResponse(urn=urn)
        # The SDK gives each monitor thread its own event loop and never closes it; keep them
        # so run() can close them (otherwise they complain when collected at exit).
        self.loops.add(pulumi_mocks._ensure_event_loop())  # pyright: ignore[reportPrivateUsage, reportPrivateImportUsage]
        inputs = rpc.deserialize_properties(request.object, keep_unknowns=True)
        args = pulumi_mocks.MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        new_id, state = self.mocks.new_resource(args)
        id_ = new_id or ""
        for key in request.additionalSecretOutputs:
            if key in state and not rpc.is_rpc_secret(state[key]):
                state[key] = rpc.wrap_rpc_secret(state[key])
        state_proto = pulumi_mocks._sync_await(rpc.serialize_properties(state, {}))  # pyright: ignore[reportPrivateUsage, reportPrivateImportUsage]

        provider = _ref_urn(request.provider)
        package = request.type.split(":", 1)[0]
        if (
            request.custom
            and not request.type.startswith("pulumi:providers:")
            and provider is None
            and package in self._disabled
        ):
            self.violations.append(
                f"{request.type} {request.name!r} has no explicit provider, and default "
                f"providers for {package!r} are disabled (pulumi:disable-default-providers)"
            )

        parent = request.parent or None
        if parent is not None and parent.split("::")[2] == _STACK_TYPE:
            parent = None
        dependencies = sorted(set(request.dependencies))
        property_dependencies = {
            key: sorted(deps.urns) for key, deps in request.propertyDependencies.items()
        }
        implicit = {u for deps in property_dependencies.values() for u in deps}
        own: dict[str, Any] = {}
        if request.HasField("protect"):
            own["protect"] = request.protect
        if request.HasField("retainOnDelete"):
            own["retainOnDelete"] = request.retainOnDelete
        if request.deletedWith:
            own["deletedWith"] = request.deletedWith
        record = ResourceRecord(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=parent,
            provider=provider,
            providers={k: u for k, v in request.providers.items() if (u := _ref_urn(v))},
            dependencies=dependencies,
            property_dependencies=property_dependencies,
            raw_inputs=inputs,
            own_options=own,
        )
        record.options = self._effective_options(record, sorted(set(dependencies) - implicit))
        if request.ignoreChanges:
            record.options["ignoreChanges"] = sorted(request.ignoreChanges)
        if request.additionalSecretOutputs:
            record.options["additionalSecretOutputs"] = sorted(request.additionalSecretOutputs)
        # Registrations arrive on several monitor threads at once: check and record atomically.
        with self._lock:
            if urn in self._by_urn:
                self.violations.append(f"duplicate resource URN {urn}")
            self._by_urn[urn] = record
            self._recording.resources.append(record)
            self.resources[urn] = pulumi_mocks.MockMonitor.ResourceRegistration(urn, id_, state)
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=state_proto)

    def _effective_options(self, record: ResourceRecord, depends_on: list[str]) -> dict[str, Any]:
        parent = self._by_urn.get(record.parent) if record.parent else None
        inherited = parent.options if parent is not None else {}
        options: dict[str, Any] = {}
        for key, default in (("protect", False), ("retainOnDelete", False), ("deletedWith", None)):
            options[key] = record.own_options.get(key, inherited.get(key, default))
        options["dependsOn"] = depends_on
        return options

    def ReadResource(self, request: Any) -> Any:
        self.violations.append(
            f"{request.type} {request.name!r} reads existing cloud state (ReadResource/get), "
            "which the offline plan cannot fake; pass the data through config instead"
        )
        return super().ReadResource(request)


async def _collect_exports(recording: Recording) -> None:
    """Stack exports with per-key secrecy (the mock root stack registers its outputs too early)."""
    root = settings.get_root_resource()
    exports: Mapping[str, Any] = getattr(root, "outputs", {}) or {}
    for key, value in exports.items():
        out = pulumi.Output.from_input(value)
        resolved = await out.future(with_unknowns=True)
        secret = await out.is_secret()
        recording.raw_outputs[key] = rpc.wrap_rpc_secret(resolved) if secret else resolved


def _ref_urn(ref: str) -> str | None:
    """Provider references are `urn::id`; the plan shows the URN."""
    if not ref:
        return None
    return ref.rsplit("::", 1)[0]


class _LogCapture(logging.Handler):
    def __init__(self, recording: Recording) -> None:
        super().__init__(level=logging.DEBUG)
        self._recording = recording

    def emit(self, record: logging.LogRecord) -> None:
        self._recording.logs.append((record.levelname.lower(), record.getMessage()))


def run(
    program: Callable[[], object],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str] | None = None,
    secret_keys: Iterable[str] = (),
    disabled_default_providers: Iterable[str] = ("kubernetes",),
    invoke_fakes: Mapping[str, InvokeFake] | None = None,
    into: Recording | None = None,
    preview: bool = False,
) -> Recording:
    """Run `program` (which registers resources) and return what it registered.

    Raises the program's own exception, or `OfflineEngineError` for anything the real engine
    would reject (duplicate URNs, missing providers) or the offline engine cannot fake. Pass
    `into` to keep what was registered before a failure. With `preview`, computed outputs stay
    unknown, as on a first `pulumi preview`.
    """
    recording = into if into is not None else Recording(project=project, stack=stack)
    mocks = _Mocks(recording, {**DEFAULT_INVOKE_FAKES, **(invoke_fakes or {})}, preview=preview)
    monitor = _Monitor(mocks, recording, disabled_default_providers)
    logger = logging.getLogger(f"osmo-backend.offline.{project}.{stack}")
    logger.propagate = False
    logger.handlers = [_LogCapture(recording)]
    logger.setLevel(logging.INFO)

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
    # The cyclic garbage collector is off for the run, then as it was. A run loads provider SDK
    # modules (hundreds of thousands of long-lived objects: classes, typing generics) and every
    # full collection walks them all: measured, the full collections during a run cost 0.3-1.0 s
    # of a 1-3 s cloud plan and free next to nothing (the run's own cycles, Outputs and futures,
    # are freed once it is back on). Reference counting frees everything else as it goes.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        pulumi.runtime.set_mocks(
            mocks, project=project, stack=stack, preview=preview, logger=logger, monitor=monitor
        )
        pulumi.runtime.set_all_config(dict(config or {}), list(secret_keys))

        @pulumi.runtime.test
        def _run() -> Any:
            # The plan checks the whole recording itself (offline/cli.py): no second report.
            with policy_gate.suspended():
                program()
            return pulumi.Output.from_input(_collect_exports(recording))

        _run()
    finally:
        settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
        asyncio.set_event_loop(None)
        for thread_loop in monitor.loops - {loop}:
            if not thread_loop.is_running() and not thread_loop.is_closed():
                thread_loop.close()
        loop.close()
        if gc_was_enabled:
            gc.enable()
    problems = [*monitor.violations]
    problems += [f"invoke {t!r} has no offline fake" for t in sorted(set(mocks.unknown_invokes))]
    if problems:
        raise OfflineEngineError("\n".join(problems))
    return recording
