"""Config keys of this project, the offline plan's secret placeholders, and kubeconfig sources
(a file path in a section, or the content in a secret) as config models read them."""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationInfo

from components import kubeconfig as kc
from components._validate import Problems
from components.config._model import PROJECT, Reasons, ctx, fail, fail_required, show

SECRET_PLACEHOLDER_PREFIX = "offline-placeholder-for-secret:"
"""The offline plan cannot decrypt `secure:` values; it substitutes this prefix + the key name."""
KUBECONFIG_SECRET_KEY = f"{PROJECT}:kubeconfig"
BACKEND_TOKEN_KEY = f"{PROJECT}:backendToken"
PREVIOUS_BACKEND_TOKEN_KEY = f"{PROJECT}:previousBackendToken"
CONTROL_PLANE_KUBECONFIG_KEY = f"{PROJECT}:controlPlaneKubeconfig"
NGC_API_KEY = f"{PROJECT}:ngcApiKey"


def is_placeholder(value: str) -> bool:
    return value.startswith(SECRET_PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class KubeconfigSource:
    """Where the kubeconfig came from and its checked, minified content."""

    origin: str
    """`file <path>` or `secret osmo-backend:kubeconfig`; safe to print."""
    content: str = field(repr=False)
    """Minified kubeconfig (one context). Secret: components wrap it in `Output.secret`."""
    context: str | None
    """The context used, or None when the content could not be checked (offline placeholder)."""
    server: str | None
    """API server URL of that context's cluster, or None when not checked."""


def decode(problems: Problems, path: str, value: Any) -> Any:
    """Pulumi passes object config as JSON strings; decode them (plain values pass through)."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except json.JSONDecodeError as err:
            problems.add(path, f"is not valid JSON ({err.msg} at position {err.pos})")
            return None
    return value


def kubeconfig_source(value: Any, info: ValidationInfo, secret_key: str) -> KubeconfigSource:
    """A `kubeconfig` field's before-validator: the file `value` (relative to the stack file's
    folder) or the content of the secret `secret_key`, checked with the `context` field validated
    before it. Problems with the secret are reported on the secret's own key."""
    if isinstance(value, KubeconfigSource):
        return value
    context = ctx(info)
    secret, wanted = context.raw.get(secret_key), info.data.get("context")
    if value is not None and secret is not None:
        raise fail(f"set either a file path here or the secret {secret_key}, not both")
    if value is None and secret is None:
        raise fail_required(
            f"is required: a kubeconfig file path, or the content in the secret {secret_key}"
        )
    found = Problems()
    if secret is not None:
        if not isinstance(secret, str) or not secret:
            _on_secret(secret_key, f"must be a non-empty string, got {show(secret)}")
        origin = f"secret {secret_key}"
        if is_placeholder(secret):
            context.notices.append(
                f"{secret_key} is a secure value the offline plan cannot decrypt; "
                "a placeholder stands in and its content (context, server) was not checked"
            )
            return KubeconfigSource(origin=origin, content=secret, context=wanted, server=None)
        checked = kc.check(found, secret_key, secret, wanted, None)
    else:
        if not isinstance(value, str) or not value:
            raise fail(f"must be a non-empty string, got {show(value)}")
        resolved = Path(value).expanduser()
        resolved = resolved if resolved.is_absolute() else context.base_dir / resolved
        origin = f"file {value}"
        text = kc.read_file(found, "", resolved)
        checked = kc.check(found, "", text, wanted, resolved.parent) if text is not None else None
    if checked is None:
        reasons = Reasons()
        for line in found.lines:
            where, _, reason = line.partition(": ")
            reasons.add((where,) if where else "", reason)
        reasons.check()
    assert checked is not None
    return KubeconfigSource(
        origin=origin, content=checked.content, context=checked.context, server=checked.server
    )


def _on_secret(key: str, reason: str) -> None:
    reasons = Reasons()
    reasons.add((key,), reason)
    reasons.check()
