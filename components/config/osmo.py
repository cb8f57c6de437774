"""`osmo-backend:osmo`: the OSMO connection (service URL, namespaces, bootstrap token,
control plane, image pull secret)."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlparse

from components import versions
from components._validate import (
    Problems,
    dns1123_subdomain_problem,
    expect_dns_label,
    expect_mapping,
    expect_str,
    show,
    unknown_keys,
)
from components.config._common import (
    BACKEND_TOKEN_KEY,
    CONTROL_PLANE_KUBECONFIG_KEY,
    NGC_API_KEY,
    PREVIOUS_BACKEND_TOKEN_KEY,
    PROJECT,
    KubeconfigSource,
    absolute_url,
    is_placeholder,
    read_kubeconfig,
    required_section,
    section,
)

TokenSource = Literal["generate", "config", "existing"]


TOKEN_SOURCES: tuple[TokenSource, ...] = get_args(TokenSource)


TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{43}$|^[A-Za-z0-9_-]{64}$")
"""OSMO's bootstrap token: 43 or 64 characters of URL-safe base64 without padding."""


CREDENTIAL_NAME_MAX = 49
"""The OSMO service chart's limit for `services.backendApiTokens.credentials[].name`."""


_SECRET_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


_IMAGE_TAG = re.compile(r"^v?[0-9][0-9A-Za-z_.-]{0,127}$")


DEFAULT_OPERATOR_NAMESPACE = "osmo-operator"


DEFAULT_WORKFLOW_NAMESPACE = "osmo-workflows"


DEFAULT_TEST_NAMESPACE = "osmo-test"


DEFAULT_TOKEN_KEY = "token"


DEFAULT_PULL_SECRET = "nvcr-secret"


DEFAULT_CONTROL_PLANE_NAMESPACE = "osmo"


CHART_ROLES = ("osmo-admin", "osmo-user", "osmo-default", "osmo-ctrl", "osmo-backend")
"""Roles the OSMO service chart defines (deployments/charts/service/values.yaml `roles`)."""


def pool_role(pool: str) -> str:
    """The OSMO role that lets users run workflows in `pool`: `osmo-<pool>`, the name OSMO's own
    `osmo config set ROLE osmo-<pool> --type pool` gives it (src/cli/config.py create_role)."""
    return f"osmo-{pool}"


@dataclass(frozen=True)
class TokenSpec:
    """Where the backend bootstrap token comes from, and where it is stored."""

    source: TokenSource
    """generate (random, kept in state), config (the secret osmo-backend:backendToken) or
    existing (a Secret already in the compute cluster; nothing is created)."""
    credential_name: str
    """Credential name on the control plane; default: the backend name."""
    secret_name: str
    """Secret holding the token in the operator namespace (and on the control plane);
    default `osmo-backend-token-<credentialName>` as in OSMO's docs."""
    secret_key: str = DEFAULT_TOKEN_KEY
    generation: int = 0
    """Rotation generation: bumping it issues a new generated token and restarts the backend
    listener and worker (a pod annotation carries the number, never the token)."""
    overlap: bool = False
    """Rotation phase 1: the control plane accepts the previous token too (`previous-token`)."""
    value: str | None = field(default=None, repr=False)
    """source config: the token. Secret."""
    previous: str | None = field(default=None, repr=False)
    """source config with overlap: the previous token. Secret."""


@dataclass(frozen=True)
class ControlPlaneSpec:
    """The OSMO service's cluster, where the same token Secret is created."""

    name: str
    """Stable id of the control-plane cluster (its provider's cluster_identifier)."""
    kubeconfig: KubeconfigSource
    namespace: str = DEFAULT_CONTROL_PLANE_NAMESPACE


@dataclass(frozen=True)
class PullSecretSpec:
    name: str
    ngc_api_key: str | None = field(default=None, repr=False)
    """When set, the Secret is created from this NGC API key; otherwise it must already exist."""


@dataclass(frozen=True)
class OsmoSpec:
    backend_name: str
    """Name of this backend in the OSMO service (DNS-1123 label)."""
    service_url: str
    """The OSMO gateway URL the backend-operator connects to (absolute https)."""
    router_address: str
    """Router address for exec/port-forward; default: the service URL with wss://."""
    image_tag: str
    operator_namespace: str
    workflow_namespace: str
    test_namespace: str | None
    """Set only when backend tests are enabled."""
    token: TokenSpec
    control_plane: ControlPlaneSpec | None = None
    pull_secret: PullSecretSpec | None = None
    pool: str = ""
    """Pool name on the service side; default: the backend name."""


_OSMO_KEYS = (
    "backendName",
    "serviceUrl",
    "routerAddress",
    "imageTag",
    "namespaces",
    "backendTests",
    "pool",
    "token",
    "controlPlane",
    "imagePullSecret",
)


def parse_osmo(
    problems: Problems, cfg: Mapping[str, Any], base_dir: Path, notices: list[str]
) -> OsmoSpec | None:
    path = f"{PROJECT}:osmo"
    body = required_section(problems, path, cfg.get("osmo"), "`backendName` and `serviceUrl`")
    if body is None:
        return None
    unknown_keys(problems, path, body, _OSMO_KEYS)
    ok = True

    name = expect_dns_label(problems, f"{path}.backendName", body.get("backendName"))
    service_url = absolute_url(problems, f"{path}.serviceUrl", body.get("serviceUrl"), ("https",))
    router = body.get("routerAddress")
    if router is not None:
        router = absolute_url(problems, f"{path}.routerAddress", router, ("wss",))
        ok = ok and router is not None
    elif service_url is not None:
        router = "wss://" + urlparse(service_url).netloc

    image_tag = body.get("imageTag", versions.OSMO_IMAGE_TAG)
    if not isinstance(image_tag, str) or not _IMAGE_TAG.match(image_tag):
        problems.add(
            f"{path}.imageTag",
            f"{show(image_tag)} is not a pinned version tag (like {versions.OSMO_IMAGE_TAG!r}); "
            "floating tags such as 'latest' drift between nodes",
        )
        ok = False
    elif (too_old := versions.osmo_image_problem(image_tag)) is not None:
        # Services before NVIDIA/OSMO 27af88d8a (#1275) drop `services.backendApiTokens` and
        # reject this backend's token ("Access Token is invalid").
        problems.add(
            f"{path}.imageTag",
            f"{image_tag!r} {too_old}: the backend token flow (services.backendApiTokens) "
            f"arrived in NVIDIA/OSMO commit {versions.OSMO_TOKEN_FLOW_COMMIT} (#1275); use "
            f"{'.'.join(map(str, versions.OSMO_MIN_IMAGE_VERSION))} or later",
        )
        ok = False

    tests = body.get("backendTests", False)
    if not isinstance(tests, bool):
        problems.add(f"{path}.backendTests", f"must be true or false, got {show(tests)}")
        ok = False
    namespaces = _namespaces(problems, f"{path}.namespaces", body.get("namespaces"))
    pool = name
    if body.get("pool") is not None:
        pool = expect_dns_label(problems, f"{path}.pool", body["pool"])
        ok = ok and pool is not None
    if pool is not None and pool_role(pool) in CHART_ROLES:
        problems.add(
            f"{path}.pool",
            f"{pool!r} would name its user role {pool_role(pool)!r}, one of the OSMO service "
            f"chart's own roles ({', '.join(CHART_ROLES)}); choose another pool name",
        )
        ok = False

    token = _token(
        problems, f"{path}.token", body.get("token"), cfg=cfg, backend_name=name, notices=notices
    )
    control_plane = None
    if body.get("controlPlane") is not None or cfg.get("controlPlaneKubeconfig") is not None:
        control_plane = _control_plane(
            problems,
            f"{path}.controlPlane",
            body.get("controlPlane"),
            cfg=cfg,
            base_dir=base_dir,
            notices=notices,
        )
        ok = ok and control_plane is not None
        if token is not None and token.source == "existing":
            problems.add(
                f"{path}.token.source",
                "'existing' cannot be copied to the control plane (its value is not known to the "
                "stack); use 'generate' or 'config', or remove osmo.controlPlane",
            )
            ok = False
    pull_secret = _pull_secret(
        problems, f"{path}.imagePullSecret", body.get("imagePullSecret"), cfg
    )

    if not ok or name is None or service_url is None or router is None or namespaces is None:
        return None
    if token is None or pull_secret is False:
        return None
    operator_ns, workflow_ns, test_ns = namespaces
    return OsmoSpec(
        backend_name=name,
        service_url=service_url,
        router_address=router,
        image_tag=image_tag,
        operator_namespace=operator_ns,
        workflow_namespace=workflow_ns,
        test_namespace=test_ns if tests else None,
        token=token,
        control_plane=control_plane,
        pull_secret=pull_secret,
        pool=str(pool),
    )


def _namespaces(problems: Problems, path: str, value: Any) -> tuple[str, str, str] | None:
    given = section(problems, path, value, ("operator", "workflows", "test"))
    if given is None:
        return None
    defaults = {
        "operator": DEFAULT_OPERATOR_NAMESPACE,
        "workflows": DEFAULT_WORKFLOW_NAMESPACE,
        "test": DEFAULT_TEST_NAMESPACE,
    }
    out: dict[str, str] = {}
    for key, default in defaults.items():
        ns = expect_dns_label(problems, f"{path}.{key}", given.get(key, default))
        if ns is not None:
            out[key] = ns
    if len(out) < len(defaults):
        return None
    if len(set(out.values())) < len(out):
        problems.add(path, f"operator, workflows and test must be different namespaces: {out}")
        return None
    return out["operator"], out["workflows"], out["test"]


def _secret_value(
    problems: Problems, key: str, value: Any, notices: list[str], what: str
) -> str | None:
    """A secret config value that must be a bootstrap token (placeholders pass unchecked)."""
    full = f"{PROJECT}:{key}"
    text = expect_str(problems, full, value)
    if text is None:
        return None
    if is_placeholder(text):
        notices.append(f"{full} is a secure value the offline plan cannot decrypt; {what}")
        return text
    stripped = text.rstrip("\r\n")
    if not TOKEN_PATTERN.match(stripped):
        problems.add(
            full,
            f"must be 43 or 64 characters of [A-Za-z0-9_-] (got {len(stripped)} characters); "
            "generate one with: openssl rand -base64 32 | tr -d '\\n=' | tr '/+' '_-'",
        )
        return None
    return stripped


def _token(
    problems: Problems,
    path: str,
    value: Any,
    *,
    cfg: Mapping[str, Any],
    backend_name: str | None,
    notices: list[str],
) -> TokenSpec | None:
    given = section(
        problems,
        path,
        value,
        ("source", "credentialName", "secretName", "secretKey", "generation", "overlap"),
    )
    if given is None:
        return None
    ok = True
    source = given.get("source", "generate")
    if source not in TOKEN_SOURCES:
        problems.add(f"{path}.source", f"{show(source)} is not one of: {', '.join(TOKEN_SOURCES)}")
        return None

    # Without a valid backendName (reported there) the default credential name is unknown: the
    # names that derive from it are not checked, everything else still is (all problems at once).
    credential = given.get("credentialName", backend_name)
    if credential is not None:
        hint = "" if "credentialName" in given else " (it defaults to backendName; set it)"
        credential = expect_dns_label(
            problems, f"{path}.credentialName", credential, CREDENTIAL_NAME_MAX, hint
        )
    ok = credential is not None
    secret_name: str | None = None
    if "secretName" in given or credential is not None:
        secret_name = expect_str(
            problems,
            f"{path}.secretName",
            given.get("secretName", f"osmo-backend-token-{credential}"),
        )
        if secret_name is not None and (reason := dns1123_subdomain_problem(secret_name)):
            problems.add(f"{path}.secretName", reason)
            secret_name = None
        ok = ok and secret_name is not None
    secret_key = given.get("secretKey", DEFAULT_TOKEN_KEY)
    if not isinstance(secret_key, str) or not _SECRET_DATA_KEY.match(secret_key):
        problems.add(f"{path}.secretKey", f"{show(secret_key)} is not a valid Secret data key")
        ok = False
    generation = given.get("generation", 0)
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        problems.add(f"{path}.generation", f"must be a whole number >= 0, got {show(generation)}")
        ok = False
        generation = 0
    overlap = given.get("overlap", False)
    if not isinstance(overlap, bool):
        problems.add(f"{path}.overlap", f"must be true or false, got {show(overlap)}")
        return None

    secrets = _token_secrets(
        problems, path, source, generation=generation, overlap=overlap, cfg=cfg, notices=notices
    )
    if not ok or secrets is None or credential is None or secret_name is None:
        return None
    token_value, previous = secrets
    return TokenSpec(
        source=source,
        credential_name=credential,
        secret_name=secret_name,
        secret_key=secret_key,
        generation=generation,
        overlap=overlap,
        value=token_value,
        previous=previous,
    )


def _token_secrets(
    problems: Problems,
    path: str,
    source: str,
    *,
    generation: int,
    overlap: bool,
    cfg: Mapping[str, Any],
    notices: list[str],
) -> tuple[str | None, str | None] | None:
    """The token (and previous token) from secret config, checked against the token source and
    the rotation phase. None when invalid."""
    ok = True
    token_value = previous = None
    if source == "config":
        if cfg.get("backendToken") is None:
            problems.add(
                BACKEND_TOKEN_KEY,
                "is required when osmo.token.source is 'config': "
                "pulumi config set --secret backendToken ...",
            )
            return None
        token_value = _secret_value(
            problems, "backendToken", cfg["backendToken"], notices, "its format was not checked"
        )
        ok = ok and token_value is not None
    elif cfg.get("backendToken") is not None:
        problems.add(BACKEND_TOKEN_KEY, f"is set but osmo.token.source is {source!r}, not 'config'")
        ok = False

    if overlap:
        if source == "existing":
            problems.add(f"{path}.overlap", "needs the token value; not possible with 'existing'")
            ok = False
        elif source == "generate" and generation < 1:
            problems.add(
                f"{path}.overlap",
                "needs a previous generated token: bump osmo.token.generation in the same change",
            )
            ok = False
        elif source == "config":
            if cfg.get("previousBackendToken") is None:
                problems.add(
                    PREVIOUS_BACKEND_TOKEN_KEY, "is required while osmo.token.overlap is true"
                )
                return None
            previous = _secret_value(
                problems,
                "previousBackendToken",
                cfg["previousBackendToken"],
                notices,
                "its format was not checked",
            )
            if previous is not None and previous == token_value and not is_placeholder(previous):
                problems.add(
                    PREVIOUS_BACKEND_TOKEN_KEY,
                    "must differ from backendToken (the service ignores a token listed twice)",
                )
                ok = False
    elif cfg.get("previousBackendToken") is not None:
        problems.add(
            PREVIOUS_BACKEND_TOKEN_KEY,
            "is set but osmo.token.overlap is false; remove it to finish the rotation",
        )
        ok = False
    if not ok:
        return None
    return token_value, previous


def _control_plane(
    problems: Problems,
    path: str,
    value: Any,
    *,
    cfg: Mapping[str, Any],
    base_dir: Path,
    notices: list[str],
) -> ControlPlaneSpec | None:
    body = expect_mapping(problems, path, value if value is not None else {})
    if body is None:
        return None
    unknown_keys(problems, path, body, ("name", "kubeconfig", "context", "namespace"))
    name = expect_dns_label(problems, f"{path}.name", body.get("name"))
    namespace = expect_dns_label(
        problems, f"{path}.namespace", body.get("namespace", DEFAULT_CONTROL_PLANE_NAMESPACE)
    )
    source = read_kubeconfig(
        problems,
        path,
        body,
        secret_key=CONTROL_PLANE_KUBECONFIG_KEY,
        secret_value=cfg.get("controlPlaneKubeconfig"),
        base_dir=base_dir,
        notices=notices,
    )
    if name is None or source is None or namespace is None:
        return None
    return ControlPlaneSpec(name=name, kubeconfig=source, namespace=namespace)


def _pull_secret(
    problems: Problems, path: str, value: Any, cfg: Mapping[str, Any]
) -> PullSecretSpec | Literal[False] | None:
    """None: no pull secret. False: invalid."""
    key = cfg.get("ngcApiKey")
    if value is None and key is None:
        return None
    name = value if value is not None else DEFAULT_PULL_SECRET
    if expect_str(problems, path, name) is None:
        return False
    if (reason := dns1123_subdomain_problem(name)) is not None:
        problems.add(path, reason)
        return False
    if key is not None and expect_str(problems, NGC_API_KEY, key) is None:
        return False
    return PullSecretSpec(name=name, ngc_api_key=key)
