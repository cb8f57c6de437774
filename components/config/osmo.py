"""`osmo-backend:osmo`: the OSMO connection (service URL, namespaces, bootstrap token, control
plane, image pull secret). The secrets it reads come from `Ctx.raw`; a reason about one is raised at
the loc `osmo-backend:<key>` under the field that reads it, and is printed at that key."""

import re
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Self
from urllib.parse import urlparse

from pydantic import (
    Field,
    PrivateAttr,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from components import versions
from components._validate import Problems, show
from components.config._common import (
    BACKEND_TOKEN_KEY,
    CONTROL_PLANE_KUBECONFIG_KEY,
    NGC_API_KEY,
    PREVIOUS_BACKEND_TOKEN_KEY,
    KubeconfigSource,
    is_placeholder,
    kubeconfig_source,
)
from components.config._model import (
    Check,
    Ctx,
    DnsLabel,
    DnsSubdomain,
    Flag,
    Generation,
    Model,
    Reasons,
    Section,
    Text,
    ctx,
    dns_label,
    fail,
    matching,
    one_of,
    optional_section,
    section,
    url,
)

TokenSource = Literal["generate", "config", "existing"]
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$|^[A-Za-z0-9_-]{64}$")
"""OSMO's bootstrap token: 43 or 64 characters of URL-safe base64 without padding."""
CREDENTIAL_NAME_MAX = 49
"""The OSMO service chart's limit for `services.backendApiTokens.credentials[].name`."""
_SECRET_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_IMAGE_TAG = re.compile(r"^v?[0-9][0-9A-Za-z_.-]{0,127}$")
CHART_ROLES = ("osmo-admin", "osmo-user", "osmo-default", "osmo-ctrl", "osmo-backend")
"""Roles the OSMO service chart defines (deployments/charts/service/values.yaml `roles`)."""


def pool_role(pool: str) -> str:
    """The OSMO role that lets users run workflows in `pool`: `osmo-<pool>`, the name OSMO's own
    `osmo config set ROLE osmo-<pool> --type pool` gives it (src/cli/config.py create_role)."""
    return f"osmo-{pool}"


def _image_tag(value: Any) -> str:
    if not isinstance(value, str) or not _IMAGE_TAG.match(value):
        raise fail(
            f"{show(value)} is not a pinned version tag (like {versions.OSMO_IMAGE_TAG!r}); "
            "floating tags such as 'latest' drift between nodes"
        )
    if (too_old := versions.osmo_image_problem(value)) is not None:
        # Services before NVIDIA/OSMO 27af88d8a (#1275) drop `services.backendApiTokens` and
        # reject this backend's token ("Access Token is invalid").
        raise fail(
            f"{value!r} {too_old}: the backend token flow (services.backendApiTokens) "
            f"arrived in NVIDIA/OSMO commit {versions.OSMO_TOKEN_FLOW_COMMIT} (#1275); use "
            f"{'.'.join(map(str, versions.OSMO_MIN_IMAGE_VERSION))} or later"
        )
    return value


class _FromBackendName(str):
    """A credential name defaulted from backendName (its problem says so)."""


def _credential(value: Any) -> str:
    hint = " (it defaults to backendName; set it)" if isinstance(value, _FromBackendName) else ""
    return str(dns_label(CREDENTIAL_NAME_MAX, hint).check(value))


def _token_value(reasons: Reasons, key: str, value: Any, notices: list[str]) -> str | None:
    """A secret that must be a bootstrap token (an offline placeholder passes unchecked)."""
    if not isinstance(value, str) or not value:
        reasons.add((key,), f"must be a non-empty string, got {show(value)}")
        return None
    if is_placeholder(value):
        notices.append(
            f"{key} is a secure value the offline plan cannot decrypt; its format was not checked"
        )
        return value
    stripped = value.rstrip("\r\n")
    if not TOKEN_PATTERN.match(stripped):
        reasons.add(
            (key,),
            f"must be 43 or 64 characters of [A-Za-z0-9_-] (got {len(stripped)} characters); "
            "generate one with: openssl rand -base64 32 | tr -d '\\n=' | tr '/+' '_-'",
        )
        return None
    return stripped


class TokenSpec(Model):
    """Where the backend bootstrap token comes from, and where it is stored."""

    source: Annotated[TokenSource, one_of(TokenSource)] = "generate"
    """generate (random, kept in state), config (the secret osmo-backend:backendToken) or
    existing (a Secret already in the compute cluster; nothing is created)."""
    credential_name: Annotated[str, Check(_credential, dns_label(CREDENTIAL_NAME_MAX).schema)] = ""
    """Credential name on the control plane (<= 49 characters). Default: backendName."""
    secret_name: DnsSubdomain = Field(None, validate_default=True)
    """Secret holding the token in the operator namespace (and on the control plane).
    Default: osmo-backend-token-<credentialName>, as in OSMO's docs."""
    secret_key: Annotated[str, matching(_SECRET_DATA_KEY, "a valid Secret data key")] = "token"
    """Data key of the token in the compute cluster's Secret."""
    generation: Generation = 0
    """Rotation generation: bumping it issues a new generated token and restarts the backend
    listener and worker (a pod annotation carries the number, never the token)."""
    overlap: Flag = False
    """Rotation phase 1: the control plane also accepts the previous token (`previous-token`)."""
    _value: str | None = PrivateAttr(None)
    _previous: str | None = PrivateAttr(None)

    @property
    def value(self) -> str | None:
        """source config: the token (osmo-backend:backendToken). Secret."""
        return self._value

    @property
    def previous(self) -> str | None:
        """source config with overlap: the previous token. Secret."""
        return self._previous

    @field_validator("secret_name", mode="wrap")
    @classmethod
    def _secret_name(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> str:
        if value is not None:
            return handler(value)
        credential = info.data.get("credential_name")  # unknown while it is invalid
        return f"osmo-backend-token-{credential}" if credential else ""

    @model_validator(mode="after")
    def _secrets(self, info: ValidationInfo) -> Self:
        """The token (and the previous one) from secret config, checked against the source and
        the rotation phase."""
        context, reasons = ctx(info), Reasons()
        token = context.raw.get(BACKEND_TOKEN_KEY)
        previous = context.raw.get(PREVIOUS_BACKEND_TOKEN_KEY)
        if self.source == "config":
            if token is None:
                reasons.add(
                    (BACKEND_TOKEN_KEY,),
                    "is required when osmo.token.source is 'config': "
                    "pulumi config set --secret backendToken ...",
                )
                reasons.check()
            self._value = _token_value(reasons, BACKEND_TOKEN_KEY, token, context.notices)
        elif token is not None:
            reasons.add(
                (BACKEND_TOKEN_KEY,),
                f"is set but osmo.token.source is {self.source!r}, not 'config'",
            )
        if not self.overlap:
            if previous is not None:
                reasons.add(
                    (PREVIOUS_BACKEND_TOKEN_KEY,),
                    "is set but osmo.token.overlap is false; remove it to finish the rotation",
                )
        elif self.source == "existing":
            reasons.add("overlap", "needs the token value; not possible with 'existing'")
        elif self.source == "generate" and self.generation < 1:
            reasons.add(
                "overlap",
                "needs a previous generated token: bump osmo.token.generation in the same change",
            )
        elif self.source == "config":
            if previous is None:
                reasons.add(
                    (PREVIOUS_BACKEND_TOKEN_KEY,), "is required while osmo.token.overlap is true"
                )
                reasons.check()
            self._previous = _token_value(
                reasons, PREVIOUS_BACKEND_TOKEN_KEY, previous, context.notices
            )
            value = self._previous
            if value is not None and value == self._value and not is_placeholder(value):
                reasons.add(
                    (PREVIOUS_BACKEND_TOKEN_KEY,),
                    "must differ from backendToken (the service ignores a token listed twice)",
                )
        reasons.check()
        return self


class ControlPlaneSpec(Model):
    """The OSMO service's cluster, where the same token Secret is created."""

    name: DnsLabel
    """Stable id of the OSMO service cluster (its provider's cluster_identifier)."""
    namespace: DnsLabel = "osmo"
    """The OSMO service namespace."""
    context: Text | None = None
    """Its kubeconfig context. Default: the kubeconfig's current context."""
    kubeconfig: Annotated[KubeconfigSource, WithJsonSchema({"type": "string"})] = Field(
        None, validate_default=True
    )
    """Its kubeconfig file path; or the content in the secret
    osmo-backend:controlPlaneKubeconfig."""

    @field_validator("kubeconfig", mode="before")
    @classmethod
    def _read(cls, value: Any, info: ValidationInfo) -> Any:
        return kubeconfig_source(value, info, CONTROL_PLANE_KUBECONFIG_KEY)


@dataclass(frozen=True)
class PullSecretSpec:
    name: str
    ngc_api_key: str | None = field(default=None, repr=False)
    """When set, the Secret is created from this NGC API key; otherwise it must already exist."""


class NamespacesSpec(Model):
    """The backend's namespaces (three different ones)."""

    operator: DnsLabel = "osmo-operator"
    """Backend-operator namespace."""
    workflows: DnsLabel = "osmo-workflows"
    """Workflow namespace."""
    test: DnsLabel = "osmo-test"
    """Backend test namespace (used with backendTests)."""

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        names = self.model_dump()
        if len(set(names.values())) < len(names):
            raise fail(f"operator, workflows and test must be different namespaces: {names}")
        return self


class OsmoSpec(Model):
    """The OSMO connection."""

    backend_name: DnsLabel
    """The backend's name in the OSMO service (DNS-1123 label)."""
    service_url: Annotated[str, url("https")]
    """The OSMO gateway URL the backend-operator connects to (https)."""
    router_address: Annotated[str, url("wss")] = Field(None, validate_default=True)
    """Router address for exec and port-forward (wss). Default: serviceUrl's host with wss://."""
    image_tag: Annotated[str, Check(_image_tag, (("pattern", _IMAGE_TAG.pattern),))] = (
        versions.OSMO_IMAGE_TAG
    )
    """OSMO image tag of the backend listener and worker (pinned; the service's version)."""
    namespaces: Annotated[NamespacesSpec, Section] = NamespacesSpec()
    """The backend's namespaces."""
    backend_tests: Flag = False
    """Enable the backend test runner (in namespaces.test)."""
    pool: DnsLabel = Field(None, validate_default=True)
    """Pool name on the service side. Default: backendName."""
    token: TokenSpec = Field(None, validate_default=True)
    """The backend bootstrap token."""
    control_plane: ControlPlaneSpec | None = None
    """The OSMO service's cluster: the token Secret is created there too."""
    image_pull_secret: DnsSubdomain | None = Field(None, validate_default=True)
    """nvcr.io pull Secret name; created from the secret ngcApiKey if set (then default
    nvcr-secret)."""
    _ngc_api_key: str | None = PrivateAttr(None)

    @property
    def test_namespace(self) -> str | None:
        """Set only when backend tests are enabled."""
        return self.namespaces.test if self.backend_tests else None

    @property
    def pull_secret(self) -> PullSecretSpec | None:
        if self.image_pull_secret is None:
            return None
        return PullSecretSpec(self.image_pull_secret, self._ngc_api_key)

    @field_validator("router_address", mode="wrap")
    @classmethod
    def _router(
        cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
    ) -> str:
        if value is not None:
            return handler(value)
        service = info.data.get("service_url")  # unknown while it is invalid
        return f"wss://{urlparse(service).netloc}" if service else ""

    @field_validator("pool", mode="wrap")
    @classmethod
    def _pool(cls, value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> str:
        pool = handler(value) if value is not None else info.data.get("backend_name", "")
        if pool_role(pool) in CHART_ROLES:
            raise fail(
                f"{pool!r} would name its user role {pool_role(pool)!r}, one of the OSMO service "
                f"chart's own roles ({', '.join(CHART_ROLES)}); choose another pool name"
            )
        return pool

    @field_validator("token", mode="before")
    @classmethod
    def _token(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, TokenSpec):
            return value
        body = dict(optional_section(value))
        if "credentialName" not in body and "backend_name" in info.data:
            body["credentialName"] = _FromBackendName(info.data["backend_name"])
        return body

    @model_validator(mode="before")
    @classmethod
    def _control_plane(cls, data: Any, info: ValidationInfo) -> Any:
        """osmo.controlPlane is implied by the secret controlPlaneKubeconfig alone."""
        implied = ctx(info).raw.get(CONTROL_PLANE_KUBECONFIG_KEY) is not None
        if implied and isinstance(data, dict) and data.get("controlPlane") is None:
            return {**data, "controlPlane": {}}
        return data

    @field_validator("image_pull_secret", mode="before")
    @classmethod
    def _pull_secret(cls, value: Any, info: ValidationInfo) -> Any:
        key, reasons = ctx(info).raw.get(NGC_API_KEY), Reasons()
        if key is not None and not (isinstance(key, str) and key):
            reasons.add((NGC_API_KEY,), f"must be a non-empty string, got {show(key)}")
        reasons.check()
        return "nvcr-secret" if value is None and key is not None else value

    @model_validator(mode="after")
    def _cross(self, info: ValidationInfo) -> Self:
        reasons = Reasons()
        if self.control_plane is not None and self.token.source == "existing":
            reasons.add(
                "token.source",
                "'existing' cannot be copied to the control plane (its value is not known to the "
                "stack); use 'generate' or 'config', or remove osmo.controlPlane",
            )
        reasons.check()
        if self.image_pull_secret is not None:
            self._ngc_api_key = ctx(info).raw.get(NGC_API_KEY)
        return self


def parse_osmo(problems: Problems, value: Any, context: Ctx) -> OsmoSpec | None:
    return section(
        problems, "osmo", OsmoSpec, value, context, needs="`backendName` and `serviceUrl`"
    )
