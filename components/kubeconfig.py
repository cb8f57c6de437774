"""Reading and checking kubeconfigs before anything is registered (pure functions, no Pulumi).

Error text never quotes kubeconfig content: a YAML error reports line and column only, because the
file holds credentials.
"""

import ipaddress
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from components._validate import Problems, show

# Fields whose values are file paths that kubectl resolves relative to the kubeconfig's directory.
_CLUSTER_PATH_FIELDS = ("certificate-authority",)
_USER_PATH_FIELDS = ("client-certificate", "client-key", "tokenFile")


@dataclass(frozen=True)
class Kubeconfig:
    """A checked kubeconfig reduced to the one context the stack uses."""

    context: str
    cluster: str
    server: str
    content: str = field(repr=False)
    """Minified kubeconfig YAML (one context, its cluster and user). Secret: never log it."""


def read_file(problems: Problems, path_label: str, path: Path) -> str | None:
    """Read a kubeconfig file, reporting a missing, non-regular or unreadable file as a problem."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        problems.add(path_label, f"kubeconfig file {str(path)!r} does not exist")
        return None
    except OSError as err:
        problems.add(path_label, f"kubeconfig file {str(path)!r} cannot be read: {err.strerror}")
        return None
    if stat.S_ISDIR(mode):
        problems.add(path_label, f"{str(path)!r} is a directory, not a kubeconfig file")
        return None
    if not stat.S_ISREG(mode):
        problems.add(path_label, f"{str(path)!r} is not a regular file")
        return None
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        problems.add(
            path_label, f"kubeconfig file {str(path)!r} is not readable (permission denied)"
        )
    except (OSError, UnicodeDecodeError) as err:
        problems.add(path_label, f"kubeconfig file {str(path)!r} cannot be read: {err}")
    return None


def _loopback(host: str) -> bool:
    """`localhost` or a loopback IP (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _server_problem(cluster: str, server: str) -> str | None:
    """An https:// URL with a host; plain http:// only to a loopback address."""
    parsed = urlparse(server)
    if parsed.scheme not in ("https", "http") or not parsed.hostname:
        return (
            f"cluster {cluster!r} has server {show(server)}; expected an https:// URL with a host"
        )
    if parsed.scheme == "http" and not _loopback(parsed.hostname):
        return (
            f"cluster {cluster!r} has server {show(server)}: plain http:// sends the "
            "credentials unencrypted; use the API server's https:// URL (http:// is accepted "
            "only for a loopback address, such as a local kind cluster or a tunnel)"
        )
    return None


def _named(entries: Any, kind: str) -> dict[str, Mapping[str, Any]]:
    """`clusters`/`contexts`/`users` lists as {name: body}; malformed entries are skipped."""
    out: dict[str, Mapping[str, Any]] = {}
    if not isinstance(entries, list):
        return out
    for entry in entries:  # pyright: ignore[reportUnknownVariableType]
        if isinstance(entry, Mapping) and isinstance(entry.get("name"), str):
            body = entry.get(kind)  # pyright: ignore[reportUnknownMemberType]
            out[entry["name"]] = body if isinstance(body, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]
    return out


def _absolute_paths(
    problems: Problems,
    path_label: str,
    *,
    owner: str,
    body: Mapping[str, Any],
    fields: tuple[str, ...],
    base: Path | None,
) -> dict[str, Any]:
    """Make file references absolute (kubectl resolves them against the kubeconfig's directory)
    and report the ones that do not exist, which the provider would only find at deploy time."""
    out = dict(body)
    for key in fields:
        value = out.get(key)
        if not isinstance(value, str) or not value:
            continue
        resolved = Path(value) if os.path.isabs(value) or base is None else base / value
        if not resolved.is_file():
            problems.add(
                path_label, f"{owner} refers to {key} file {str(resolved)!r}, which does not exist"
            )
        out[key] = str(resolved)
    return out


def check(
    problems: Problems,
    path_label: str,
    text: str,
    context: str | None,
    base_dir: Path | None,
) -> Kubeconfig | None:
    """Parse `text`, select `context` (or the current one) and check its cluster has a server URL.

    `base_dir` is the kubeconfig's directory, used to make relative certificate paths absolute in
    the minified copy (the provider gets content, not a file, so relative paths would break).
    """
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problems.add(path_label, f"kubeconfig is not valid YAML{where}")
        return None
    if not isinstance(doc, Mapping):
        problems.add(
            path_label, "kubeconfig must be a YAML mapping with clusters, contexts and users"
        )
        return None

    clusters = _named(doc.get("clusters"), "cluster")  # pyright: ignore[reportUnknownMemberType]
    contexts = _named(doc.get("contexts"), "context")  # pyright: ignore[reportUnknownMemberType]
    users = _named(doc.get("users"), "user")  # pyright: ignore[reportUnknownMemberType]
    if not clusters:
        problems.add(path_label, "kubeconfig defines no clusters")
    if not contexts:
        problems.add(path_label, "kubeconfig defines no contexts")
    if not clusters or not contexts:
        return None

    available = ", ".join(sorted(contexts))
    if context is None:
        current = doc.get("current-context")  # pyright: ignore[reportUnknownMemberType]
        if isinstance(current, str) and current:
            context = current
        elif len(contexts) == 1:
            context = next(iter(contexts))
        else:
            problems.add(
                path_label,
                f"kubeconfig has no current-context; set cluster.context to one of: {available}",
            )
            return None
    if context not in contexts:
        problems.add(path_label, f"context {context!r} not found; the kubeconfig has: {available}")
        return None

    ctx = contexts[context]
    cluster_name = ctx.get("cluster")
    if not isinstance(cluster_name, str) or cluster_name not in clusters:
        problems.add(
            path_label,
            f"context {context!r} refers to cluster {show(cluster_name)}, which the kubeconfig "
            f"does not define (it has: {', '.join(sorted(clusters))})",
        )
        return None
    server = clusters[cluster_name].get("server")
    if not isinstance(server, str) or not server.strip():
        problems.add(
            path_label, f"cluster {cluster_name!r} of context {context!r} has no server URL"
        )
        return None
    if (reason := _server_problem(cluster_name, server)) is not None:
        problems.add(path_label, reason)
        return None
    user_name = ctx.get("user")
    if isinstance(user_name, str) and user_name and user_name not in users:
        problems.add(
            path_label, f"context {context!r} refers to user {user_name!r}, which is not defined"
        )
        return None

    before = len(problems.lines)
    cluster_body = _absolute_paths(
        problems,
        path_label,
        owner=f"cluster {cluster_name!r}",
        body=clusters[cluster_name],
        fields=_CLUSTER_PATH_FIELDS,
        base=base_dir,
    )
    user_entries: list[dict[str, Any]] = []
    if isinstance(user_name, str) and user_name:
        user_body = _absolute_paths(
            problems,
            path_label,
            owner=f"user {user_name!r}",
            body=users[user_name],
            fields=_USER_PATH_FIELDS,
            base=base_dir,
        )
        user_entries.append({"name": user_name, "user": user_body})
    if len(problems.lines) > before:
        return None
    minified: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": cluster_body}],
        "contexts": [{"name": context, "context": dict(ctx)}],
        "current-context": context,
        "users": user_entries,
    }
    return Kubeconfig(
        context=context,
        cluster=cluster_name,
        server=server,
        content=yaml.safe_dump(minified, sort_keys=True),
    )
