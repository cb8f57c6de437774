"""`osmo-backend control-plane-access`: the least-privilege identity a stack's `osmo.controlPlane`
kubeconfig needs on the OSMO service's cluster, and a short-lived kubeconfig for it.

A stack writes at most two Secrets there, in the service namespace: the backend token Secret
(`osmo.token.secretName`) and, with a workflow data store, `osmo-workflow-data-cred-<backend>`
(components.config.storage.data_credential_secret). What pulumi-kubernetes does with a Secret
(pulumi/pulumi-kubernetes provider/pkg/await/await.go at 94977969d):
- create: `client.Create` (Creation; the SSA branch, a `patch`, only with upsertExistingObjects);
- read and refresh: `client.Get` (Read);
- update: `client.Get` of the live object, then a server-side apply `client.Patch` (Update,
  ssaUpdate; `client.Update`, a PUT, is only for CRDs: updateResource);
- delete: `client.Delete`, then `get` by name, and an informer on every Secret of the namespace
  (condition.NewDeletionSource; informers.Factory.Subscribe waits for the informer's cache, which
  needs `list` and `watch` on secrets without a field selector).
Previews make the same calls as dry runs, which RBAC authorizes like the real ones.

RBAC cannot restrict `create` by resourceNames (the name is not known when the request is
authorized), so `create` on secrets covers the namespace; get, patch and delete are pinned to the
two names. `list` and `watch` would read every Secret of the namespace: they are left out, and
deleting these Secrets (`pulumi destroy`, a replacement) then hangs after the delete succeeds
(pulumi/pulumi-kubernetes#4580, open). `--for-destroy` adds them in a separate Role to bind only
for that run.
"""

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from components.config import StackSpec
from components.config.storage import data_credential_secret

Run = Callable[[Sequence[str]], str]
"""Runs a command and returns its standard output (raises AccessError on failure)."""

DEFAULT_DURATION = "1h"
VERBS_ON_NAMES = ("get", "patch", "delete")
DESTROY_VERBS = ("list", "watch")


class AccessError(Exception):
    """A stack without a control plane, or kubectl failing."""


@dataclass(frozen=True)
class Access:
    """The identity of one backend stack on the control plane."""

    backend: str
    cluster: str
    """`osmo.controlPlane.name`: the kubeconfig's cluster name."""
    namespace: str
    secrets: tuple[str, ...]

    @property
    def service_account(self) -> str:
        return f"osmo-backend-{self.backend}"

    @property
    def role(self) -> str:
        return f"osmo-backend-{self.backend}-secrets"

    @property
    def destroy_role(self) -> str:
        return f"osmo-backend-{self.backend}-destroy"


def access_for(spec: StackSpec) -> Access:
    """The Secrets the stack writes on the control plane (components.connection.Connection)."""
    plane = spec.osmo.control_plane
    if plane is None:
        raise AccessError(
            "osmo-backend:osmo.controlPlane: is not set, so this stack writes nothing on the "
            "control plane (create the service-side Secrets with the commands `plan` prints)"
        )
    storage = spec.storage
    has_data = any(
        store is not None for store in (storage.workflow_data, storage.bucket, storage.object_store)
    )
    secrets = [spec.osmo.token.secret_name]
    if has_data:
        secrets.append(data_credential_secret(spec.osmo.backend_name))
    return Access(
        backend=spec.osmo.backend_name,
        cluster=plane.name,
        namespace=plane.namespace,
        secrets=tuple(secrets),
    )


def _meta(access: Access, name: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/managed-by": "osmo-backend", "osmo.backend": access.backend}
    return {"name": name, "namespace": access.namespace, "labels": labels}


def _binding(access: Access, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _meta(access, role),
        "subjects": [
            {
                "kind": "ServiceAccount",
                "name": access.service_account,
                "namespace": access.namespace,
            }
        ],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
    }


def manifest_objects(access: Access, *, for_destroy: bool = False) -> list[dict[str, Any]]:
    """ServiceAccount, Role and RoleBinding (and with `for_destroy` the list/watch Role)."""
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(access, access.service_account),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(access, access.role),
            "rules": [
                {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": list(access.secrets),
                    "verbs": list(VERBS_ON_NAMES),
                },
            ],
        },
        _binding(access, access.role),
    ]
    if for_destroy:
        objects += [
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _meta(access, access.destroy_role),
                "rules": [
                    {"apiGroups": [""], "resources": ["secrets"], "verbs": list(DESTROY_VERBS)}
                ],
            },
            _binding(access, access.destroy_role),
        ]
    return objects


def manifest(access: Access, *, for_destroy: bool = False) -> str:
    """The objects as one YAML stream, with what they allow and why."""
    header = [
        f"# Control-plane access of OSMO backend {access.backend}: apply on the OSMO service's "
        "cluster",
        f"# (kubectl apply -f -). It may create Secrets in namespace {access.namespace} (RBAC "
        "cannot limit",
        "# create by name), and get, patch or delete only these:",
        *(f"#   {secret}" for secret in access.secrets),
    ]
    if for_destroy:
        header += [
            f"# {access.destroy_role} lets it list and watch every Secret of the namespace: "
            "pulumi-kubernetes",
            "# waits for a deleted Secret with an informer (pulumi/pulumi-kubernetes#4580). Bind "
            "it for",
            f"# `pulumi destroy` only, then: kubectl -n {access.namespace} delete role,rolebinding "
            f"{access.destroy_role}",
        ]
    docs = [
        yaml.safe_dump(obj, sort_keys=False)
        for obj in manifest_objects(access, for_destroy=for_destroy)
    ]
    return "\n".join(header) + "\n---\n" + "---\n".join(docs)


def run_command(argv: Sequence[str]) -> str:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    except FileNotFoundError as err:
        raise AccessError(f"{argv[0]} is not installed: {err.strerror}") from err
    if done.returncode != 0:
        # kubectl's own message; never the command's output, which may hold a token.
        raise AccessError(f"{' '.join(argv[:3])} ... failed: {done.stderr.strip()[:500]}")
    return done.stdout


def _kubectl(kubeconfig: str | None, context: str | None) -> list[str]:
    argv = ["kubectl"]
    if kubeconfig is not None:
        argv += ["--kubeconfig", kubeconfig]
    if context is not None:
        argv += ["--context", context]
    return argv


def current_cluster(run: Run, kubeconfig: str | None, context: str | None) -> dict[str, Any]:
    """The server and CA of the kubectl context in use (kubectl config view --minify --flatten:
    that context only, file references inlined as data)."""
    argv = [*_kubectl(kubeconfig, context), "config", "view", "--raw", "--minify", "--flatten"]
    view = json.loads(run([*argv, "-o", "json"]))
    clusters = view.get("clusters") or []
    if len(clusters) != 1 or not (clusters[0].get("cluster") or {}).get("server"):
        raise AccessError("the kubectl context in use names no cluster with a server")
    cluster = dict(clusters[0]["cluster"])
    kept = ("server", "certificate-authority-data", "tls-server-name", "proxy-url")
    return {key: cluster[key] for key in kept if key in cluster}


def render_kubeconfig(access: Access, cluster: dict[str, Any], token: str) -> str:
    """A kubeconfig holding only this backend's ServiceAccount token for the control plane."""
    user = access.service_account
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": access.cluster, "cluster": cluster}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [
            {
                "name": user,
                "context": {"cluster": access.cluster, "user": user, "namespace": access.namespace},
            }
        ],
        "current-context": user,
    }
    return yaml.safe_dump(config, sort_keys=False)


def mint_kubeconfig(
    access: Access,
    run: Run,
    *,
    duration: str = DEFAULT_DURATION,
    kubeconfig: str | None = None,
    context: str | None = None,
) -> str:
    """A TokenRequest token for the backend's ServiceAccount (`kubectl create token`, bound to
    it and expiring after `duration`; the API server may cap it), in a kubeconfig for the
    cluster of the kubectl context in use (an administrator's, on the control plane)."""
    kubectl = _kubectl(kubeconfig, context)
    cluster = current_cluster(run, kubeconfig, context)
    token = run(
        [
            *kubectl,
            "-n",
            access.namespace,
            "create",
            "token",
            access.service_account,
            f"--duration={duration}",
        ]
    ).strip()
    if not token:
        raise AccessError("kubectl create token printed no token")
    return render_kubeconfig(access, cluster, token)
