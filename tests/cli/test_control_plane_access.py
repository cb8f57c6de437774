"""`osmo-backend control-plane-access`: the least-privilege Role for `osmo.controlPlane` and a
short-lived kubeconfig for it (issue 20 item 7).

The verbs follow what pulumi-kubernetes does with a Secret (pulumi/pulumi-kubernetes
provider/pkg/await/await.go at 94977969d): Creation calls `client.Create` (line 252; the SSA
`Patch` at 205 only with upsertExistingObjects); Read `client.Get` (383); Update `client.Get`
(462) then a server-side apply `client.Patch` (ssaUpdate, 671; `client.Update` at 594 is for
CRDs only); Deletion `client.Delete` (970), then `get` by name and an informer over the
namespace's Secrets (condition/source.go NewDeletionSource, informers/factory.go Subscribe:
WaitForCacheSync needs list and watch), which hangs without them
(pulumi/pulumi-kubernetes#4580). RBAC cannot limit `create` by resourceNames
(kubernetes.io/docs/reference/access-authn-authz/rbac/#referring-to-resources).
"""

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from offline import cli
from offline.control_plane_access import AccessError
from tests.harness import REPO

EXAMPLES = REPO / "examples" / "control-plane"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--project-dir", str(REPO), "control-plane-access", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_role_writes_only_the_stacks_two_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "manifest", "--stack", "gcp-usc1")
    assert code == 0
    sa, role, binding = yaml.safe_load_all(out)
    assert (sa["kind"], sa["metadata"]["name"], sa["metadata"]["namespace"]) == (
        "ServiceAccount",
        "osmo-backend-gcp-usc1",
        "osmo",
    )
    assert sa["automountServiceAccountToken"] is False
    assert role["kind"] == "Role"
    assert role["metadata"]["namespace"] == "osmo"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["osmo-backend-token-gcp-usc1", "osmo-workflow-data-cred-gcp-usc1"],
            "verbs": ["get", "patch", "delete"],
        },
    ]
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "osmo-backend-gcp-usc1-secrets",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "osmo-backend-gcp-usc1", "namespace": "osmo"}
    ]


@pytest.mark.parametrize("stack", ["gcp-usc1", "onprem-lab"])
def test_the_committed_examples_are_what_the_command_prints(
    capsys: pytest.CaptureFixture[str], stack: str
) -> None:
    code, out, _ = run(capsys, "manifest", "--stack", stack)
    assert code == 0
    assert (EXAMPLES / f"{stack}-access.yaml").read_text() == out


@pytest.mark.parametrize("stack", ["gcp-usc1", "onprem-lab"])
def test_the_reference_stacks_use_the_backends_own_identity(stack: str) -> None:
    text = (REPO / "stacks" / f"Pulumi.{stack}.yaml").read_text()
    path = f"examples/control-plane/{stack}-kubeconfig.yaml"
    assert f"kubeconfig: {path}" in text
    config = yaml.safe_load((REPO / path).read_text())
    assert config["current-context"] == f"osmo-backend-{stack}"
    assert [u["name"] for u in config["users"]] == [f"osmo-backend-{stack}"]


def test_deleting_needs_list_and_watch_in_a_role_of_its_own(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "manifest", "--stack", "gcp-usc1", "--for-destroy")
    assert code == 0
    docs = list(yaml.safe_load_all(out))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("ServiceAccount", "osmo-backend-gcp-usc1"),
        ("Role", "osmo-backend-gcp-usc1-secrets"),
        ("RoleBinding", "osmo-backend-gcp-usc1-secrets"),
        ("Role", "osmo-backend-gcp-usc1-destroy"),
        ("RoleBinding", "osmo-backend-gcp-usc1-destroy"),
    ]
    assert docs[3]["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list", "watch"]}
    ]
    assert "pulumi/pulumi-kubernetes#4580" in out


def test_a_stack_without_a_control_plane_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "manifest", "--stack", "aws-usw2")
    assert (code, out) == (2, "")
    assert err.startswith("osmo-backend:osmo.controlPlane: is not set")


class Kubectl:
    """Stands in for kubectl: the admin context's cluster, and a token."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.fail = fail

    def __call__(self, argv: Sequence[str]) -> str:
        self.calls.append(list(argv))
        if "create" in argv:
            if self.fail:
                raise AccessError('kubectl -n osmo ... failed: serviceaccounts "x" not found')
            return "eyJhbGciOi.minted.token\n"
        return (
            '{"clusters": [{"name": "admin", "cluster": {"server": "https://cp.example:6443",'
            ' "certificate-authority-data": "Q0E="}}], "users": [{"name": "admin",'
            ' "user": {"token": "the-admins-own"}}]}'
        )


def test_the_minted_kubeconfig_holds_only_the_backends_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cp.yaml"
    kubectl = Kubectl()
    args = cli._parser().parse_args(  # pyright: ignore[reportPrivateUsage]
        [
            "--project-dir",
            str(REPO),
            "control-plane-access",
            "kubeconfig",
            "--stack",
            "gcp-usc1",
            "--out",
            str(out),
            "--duration",
            "2h",
            "--context",
            "cp-admin",
        ]
    )
    from offline.stackfile import find_project

    assert cli.cmd_control_plane_access(find_project(REPO), args, run=kubectl) == 0
    admin = ["kubectl", "--context", "cp-admin"]
    assert kubectl.calls == [
        [*admin, "config", "view", "--raw", "--minify", "--flatten", "-o", "json"],
        [*admin, "-n", "osmo", "create", "token", "osmo-backend-gcp-usc1", "--duration=2h"],
    ]
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    config = yaml.safe_load(out.read_text())
    assert config["clusters"] == [
        {
            "name": "osmo-service",
            "cluster": {"server": "https://cp.example:6443", "certificate-authority-data": "Q0E="},
        }
    ]
    assert config["users"] == [
        {"name": "osmo-backend-gcp-usc1", "user": {"token": "eyJhbGciOi.minted.token"}}
    ]
    assert config["contexts"][0]["context"] == {
        "cluster": "osmo-service",
        "user": "osmo-backend-gcp-usc1",
        "namespace": "osmo",
    }
    assert "the-admins-own" not in out.read_text()
    printed = capsys.readouterr().out
    assert "eyJhbGciOi" not in printed


def test_a_kubectl_failure_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "cp.yaml"
    args = cli._parser().parse_args(  # pyright: ignore[reportPrivateUsage]
        [
            "--project-dir",
            str(REPO),
            "control-plane-access",
            "kubeconfig",
            "--stack",
            "gcp-usc1",
            "--out",
            str(out),
        ]
    )
    from offline.stackfile import find_project

    code = cli.cmd_control_plane_access(find_project(REPO), args, run=Kubectl(fail=True))
    assert code == 1
    assert not out.exists()
    assert "serviceaccounts" in capsys.readouterr().err


def test_kubeconfig_needs_out(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "kubeconfig", "--stack", "gcp-usc1")
    assert code == 2
    assert err.strip() == "--out: required for kubeconfig (the file the kubeconfig goes to)"
