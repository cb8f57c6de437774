"""`osmo-backend verify` against a Kubernetes API server (and an OSMO service) on 127.0.0.1.

The real Kubernetes client reads responses built from its own models (tests/verify/apiserver.py).
Each failure the command can report has a test showing the line the user sees.
"""

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client as k8s

from offline import cli, verify_command
from offline.stackfile import Project, find_project
from offline.verify import Clusters, kubeconfig_client, verify
from tests.harness import REPO
from tests.verify.apiserver import (
    Server,
    closed_port,
    deployment,
    kubeconfig_text,
    node,
    node_list,
    pod,
    secret,
    status,
    version,
)

TOKEN = "q7Fh2kLw9xZr4TbN8mVc1sYe6uPd3oJg5iRa0HnKt_-"
OTHER_TOKEN = "Zz9Fh2kLw9xZr4TbN8mVc1sYe6uPd3oJg5iRa0HnK-_"
NS = "osmo-operator"
SECRET = "osmo-backend-token-lab"
LISTENER = "osmo-operator-osmo-backend-listener"
WORKER = "osmo-operator-osmo-backend-worker"
# The GPU Operator's ClusterPolicy is a custom resource (no client model): its shape is the CRD's
# Go type, NVIDIA/gpu-operator v25.10.1 api/nvidia/v1/clusterpolicy_types.go:1746-1751
# (status.state: ignored|ready|notReady) and templates/clusterpolicy.yaml:1-4 (name).
CLUSTER_POLICY_PATH = "/apis/nvidia.com/v1/clusterpolicies/cluster-policy"


def cluster_policy(state: str) -> dict[str, Any]:
    return {
        "apiVersion": "nvidia.com/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": "cluster-policy"},
        "status": {"state": state, "namespace": "gpu-operator"},
    }


Serve = Callable[[], Server]


def healthy(server: Server, *, nodes: k8s.V1NodeList | None = None) -> None:
    """A backend where every check passes (the lab stack below)."""
    server.get("/version/", version())
    server.get(
        "/api/v1/nodes",
        nodes
        or node_list(
            node("op-1", {"node-type": "operator"}),
            node("cpu-1", {"node-type": "compute"}),
            node("gpu-1", {"node-type": "gpu"}, gpu_taint=True, gpus=8),
        ),
    )
    kai = [deployment(n, "kai-scheduler") for n in ("kai-operator", "kai-scheduler-default")]
    server.get(
        "/apis/apps/v1/namespaces/kai-scheduler/deployments",
        k8s.V1DeploymentList(api_version="apps/v1", kind="DeploymentList", items=kai),
    )
    server.get(CLUSTER_POLICY_PATH, cluster_policy("ready"))
    server.get(f"/api/v1/namespaces/{NS}/secrets/{SECRET}", secret(SECRET, NS, {"token": TOKEN}))
    for name, container in ((LISTENER, "backend-listener"), (WORKER, "backend-worker")):
        server.get(f"/apis/apps/v1/namespaces/{NS}/deployments/{name}", deployment(name, NS))
        pods = k8s.V1PodList(items=[pod(f"{name}-7d9f-abcde", container)])
        server.get(f"/api/v1/namespaces/{NS}/pods?labelSelector=app={name}", pods)


def control_plane(server: Server, token: str = TOKEN) -> None:
    server.get(
        f"/api/v1/namespaces/osmo/secrets/{SECRET}", secret(SECRET, "osmo", {"token": token})
    )


def lab_stack(directory: Path, compute: str, plane: str | None) -> Path:
    """An existing-cluster stack whose kubeconfigs point at the local servers."""
    (directory / "compute.yaml").write_text(kubeconfig_text(compute, "local"))
    osmo: dict[str, Any] = {"backendName": "lab", "serviceUrl": "https://osmo.example.com"}
    if plane is not None:
        (directory / "plane.yaml").write_text(kubeconfig_text(plane, "plane"))
        osmo["controlPlane"] = {
            "name": "osmo-service",
            "kubeconfig": str(directory / "plane.yaml"),
            "namespace": "osmo",
        }
    config = {
        "osmo-backend:cluster": {
            "kind": "existing",
            "name": "lab",
            "kubeconfig": str(directory / "compute.yaml"),
            "context": "local",
            "nodeRoles": {
                "operator": {"nodes": ["op-1"]},
                "compute": {"nodes": ["cpu-1"]},
                "gpu": {"nodes": ["gpu-1"]},
            },
        },
        "osmo-backend:osmo": osmo,
        "osmo-backend:networking": {"workflowPolicy": {"clusterCIDRs": ["10.0.0.0/8"]}},
    }
    path = directory / "Pulumi.lab.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def giving(
    source: verify_command.StackSource | None,
) -> Callable[[Project], verify_command.StackSource | None]:
    def default_source(_project: Project) -> verify_command.StackSource | None:
        return source

    return default_source


@pytest.fixture(autouse=True)
def no_pulumi_cli(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unless a test gives a fake, there is no Pulumi CLI (no stack outputs)."""
    monkeypatch.setattr(verify_command, "default_source", giving(None))


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    code = cli.main(["--project-dir", str(REPO), "verify", *args])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    assert OTHER_TOKEN not in out + err
    return code, out.splitlines(), err


def line(lines: list[str], check: str) -> str:
    """The progress line of one check (`[i/N] check: ...`)."""
    found = [entry for entry in lines if entry.startswith("[") and f"] {check}: " in entry]
    assert len(found) == 1, lines
    return found[0].split("] ", 1)[1]


def test_healthy_backend_passes_every_check(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 0, lines
    progress = [entry for entry in lines if entry.startswith("[")]
    assert [entry.split("] ")[0] + "]" for entry in progress] == [f"[{i}/12]" for i in range(1, 13)]
    assert (
        line(lines, "api-server") == f"api-server: ok - {compute.url} answers (Kubernetes v1.33.2)"
    )
    assert line(lines, "nodes/gpu") == "nodes/gpu: ok - 1 Ready, labelled and tainted as declared"
    assert line(lines, "gpu-allocatable") == "gpu-allocatable: ok - 8 nvidia.com/gpu on 1 node(s)"
    assert line(lines, "kai-scheduler") == (
        "kai-scheduler: ok - 2 Deployment(s) ready in kai-scheduler"
    )
    assert (
        line(lines, "gpu-operator") == "gpu-operator: ok - ClusterPolicy cluster-policy state ready"
    )
    assert line(lines, "token-secret") == (
        f"token-secret: ok - Secret {SECRET} in {NS} has key token"
    )
    assert line(lines, "token-service-side") == (
        f"token-service-side: ok - Secret {SECRET} in osmo on osmo-service holds the "
        "compute-side token (by hash)"
    )
    assert (
        line(lines, "backend-listener") == f"backend-listener: ok - {LISTENER}: 0 restart(s), ready"
    )
    assert line(lines, "nodes/jetson") == (
        "nodes/jetson: skipped - no node-type=jetson node: the role is not in use"
    )
    assert lines[-2] == "12 checks: 11 ok, 1 skipped"
    assert lines[-1] == "stack lab: backend lab is online and ready"
    header = next(entry for entry in lines if entry.startswith("CHECK"))
    assert header.split() == ["CHECK", "STATE", "DETAIL", "HOW", "TO", "FIX"]
    # The client used the stack's kubeconfig (its bearer token) for every request.
    assert {r.headers.get("authorization") for r in compute.requests} == {
        "Bearer kube-bearer-for-tests"
    }


def test_pools_at_min_zero_scale_from_zero_and_pass(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    """aws-usw2: operator min 2, compute and gpu-h100 min 0; only operator nodes exist."""
    server = serve()
    operators = [node(f"ip-10-0-0-{i}", {"node-type": "operator"}) for i in (1, 2)]
    healthy(server, nodes=node_list(*operators))
    server.get(
        "/api/v1/namespaces/osmo-operator/secrets/osmo-backend-token-aws-usw2",
        secret("osmo-backend-token-aws-usw2", NS, {"token": TOKEN}),
    )
    kubeconfig = server.kubeconfig(tmp_path)
    code, lines, _ = run(capsys, "--stack", "aws-usw2", "--kubeconfig", str(kubeconfig))
    assert code == 0, lines
    assert line(lines, "nodes/operator") == (
        "nodes/operator: ok - 2 Ready, labelled and tainted as declared (pools operator (min 2))"
    )
    assert line(lines, "nodes/gpu") == (
        "nodes/gpu: scales from zero - no node-type=gpu node yet (pools gpu-h100 (min 0)): the "
        "autoscaler adds one when a workflow asks"
    )
    assert line(lines, "gpu-allocatable") == (
        "gpu-allocatable: scales from zero - no Ready GPU node to look at yet"
    )
    assert line(lines, "token-service-side").startswith("token-service-side: skipped - no osmo.")
    assert lines[-2] == "11 checks: 7 ok, 3 scales from zero, 1 skipped"


def test_fewer_nodes_than_the_pools_minimum_fail(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    server = serve()
    healthy(server, nodes=node_list(node("ip-10-0-0-1", {"node-type": "operator"})))
    code, lines, _ = run(
        capsys, "--stack", "aws-usw2", "--kubeconfig", str(server.kubeconfig(tmp_path))
    )
    assert code == 1
    assert line(lines, "nodes/operator").startswith(
        "nodes/operator: FAILED - 1 node-type=operator node(s), the stack declares at least 2 "
        "(pools operator (min 2)) (fix: nodes have not joined"
    )


def test_crash_looping_listener_shows_restarts_and_last_error_lines(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    name = f"{LISTENER}-7d9f-abcde"
    compute.get(
        f"/apis/apps/v1/namespaces/{NS}/deployments/{LISTENER}", deployment(LISTENER, NS, ready=0)
    )
    compute.get(
        f"/api/v1/namespaces/{NS}/pods?labelSelector=app={LISTENER}",
        k8s.V1PodList(
            items=[pod(name, "backend-listener", restarts=7, waiting="CrashLoopBackOff")]
        ),
    )
    log = (
        "INFO starting backend listener\n"
        f"DEBUG token {TOKEN}\n"
        "ERROR connecting to wss://osmo.example.com/api/agent/listener/node/backend/lab\n"
        "ERROR server rejected WebSocket connection: HTTP 401 Unauthorized\n"
    )
    compute.get(f"/api/v1/namespaces/{NS}/pods/{name}/log", log)
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert line(lines, "backend-listener").startswith(
        f"backend-listener: FAILED - {LISTENER}: 7 restart(s), {name}/backend-listener "
        "CrashLoopBackOff; last error: ERROR connecting to "
        "wss://osmo.example.com/api/agent/listener/node/backend/lab | ERROR server rejected "
        "WebSocket connection: HTTP 401 Unauthorized (fix: 401/403 from the service"
    )
    logs = [r for r in compute.requests if r.path.endswith("/log")]
    assert [(r.query["container"], r.query["previous"]) for r in logs] == [
        (["backend-listener"], ["true"])
    ]
    assert line(lines, "backend-worker").startswith("backend-worker: ok")


def test_a_token_in_a_log_line_is_masked(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    name = f"{WORKER}-1"
    compute.get(
        f"/api/v1/namespaces/{NS}/pods?labelSelector=app={WORKER}",
        k8s.V1PodList(items=[pod(name, "backend-worker", restarts=1, waiting="CrashLoopBackOff")]),
    )
    compute.get(f"/api/v1/namespaces/{NS}/pods/{name}/log", f"ERROR bad token {TOKEN}\n")
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert "last error: ERROR bad token [token] (fix:" in line(lines, "backend-worker")


def test_gpu_node_without_allocatable_gpus_fails(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    nodes = node_list(
        node("op-1", {"node-type": "operator"}),
        node("cpu-1", {"node-type": "compute"}),
        node("gpu-1", {"node-type": "gpu"}, gpu_taint=True),
    )
    healthy(compute, nodes=nodes)
    control_plane(plane)
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert line(lines, "gpu-allocatable") == (
        "gpu-allocatable: FAILED - no allocatable nvidia.com/gpu on gpu-1 (fix: the GPU "
        "Operator's driver, toolkit or device plugin is not ready there: kubectl -n <gpu-operator "
        "namespace> get pods -o wide --field-selector spec.nodeName=NODE)"
    )


def test_gpu_node_without_the_taint_and_not_ready_node_fail(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    nodes = node_list(
        node("op-1", {"node-type": "operator"}, ready=False),
        node("cpu-1", {"node-type": "compute"}),
        node("gpu-1", {"node-type": "gpu"}, gpus=8),
    )
    healthy(compute, nodes=nodes)
    control_plane(plane)
    compute.get(CLUSTER_POLICY_PATH, cluster_policy("notReady"))
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert line(lines, "nodes/operator").startswith(
        "nodes/operator: FAILED - not Ready: op-1 (KubeletNotReady)"
    )
    assert line(lines, "nodes/gpu").startswith(
        "nodes/gpu: FAILED - gpu-1 lacks taint nvidia.com/gpu=present:NoSchedule"
    )
    assert line(lines, "gpu-operator").startswith(
        "gpu-operator: FAILED - ClusterPolicy cluster-policy state is notReady, not ready"
    )


def test_service_side_token_mismatch_fails_without_showing_either(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane, OTHER_TOKEN)
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert line(lines, "token-service-side") == (
        f"token-service-side: FAILED - Secret {SECRET} in osmo on osmo-service holds a different "
        "token than the compute-side Secret (compared by hash): the service rejects the backend "
        "(fix: `pulumi up` writes both from one value; if one was changed by hand, run it, then "
        "restart the backend listener and worker)"
    )


def test_missing_token_secret_and_missing_key(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    del compute.routes[f"GET /api/v1/namespaces/{NS}/secrets/{SECRET}"]
    plane.get(f"/api/v1/namespaces/osmo/secrets/{SECRET}", secret(SECRET, "osmo", {"tok": "x"}))
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    assert line(lines, "token-secret") == (
        f"token-secret: FAILED - Secret {SECRET} in {NS}: not found (fix: run `pulumi up` (the "
        "stack creates it))"
    )
    assert line(lines, "token-service-side") == (
        "token-service-side: skipped - the compute-side token is not readable"
    )


def test_unreachable_api_server_fails_and_skips_the_rest(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    port = closed_port()
    code, lines, _ = run(
        capsys,
        "--config-file",
        str(lab_stack(tmp_path, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}")),
    )
    assert code == 1
    assert line(lines, "api-server") == (
        f"api-server: FAILED - cannot reach http://127.0.0.1:{port}: Connection refused (fix: run "
        "where the API server is reachable (README 'Deploying for real': inside the network, "
        "from an authorized range, or GKE's DNS endpoint), or pass --kubeconfig/--context)"
    )
    assert (
        line(lines, "backend-worker") == "backend-worker: skipped - the API server is not reachable"
    )
    assert lines[-2] == "12 checks: 11 skipped, 1 FAILED"


def test_forbidden_reads_show_the_api_servers_reason(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane)
    message = (
        'nodes is forbidden: User "verify" cannot list resource "nodes" in API group "" at the '
        "cluster scope"
    )
    compute.routes["GET /api/v1/nodes"] = (403, status(403, "Forbidden", message))
    code, lines, _ = run(capsys, "--config-file", str(lab_stack(tmp_path, compute.url, plane.url)))
    assert code == 1
    for check in ("nodes/operator", "nodes/compute", "nodes/gpu", "gpu-allocatable"):
        assert line(lines, check) == (
            f"{check}: FAILED - forbidden (403) reading nodes: {message} (fix: give the "
            "kubeconfig's identity read access (get/list nodes, pods, pods/log, deployments, "
            "secrets in the OSMO namespaces, clusterpolicies.nvidia.com))"
        )
    assert line(lines, "kai-scheduler").startswith("kai-scheduler: ok")


def test_json_document_on_stdout_progress_on_stderr(
    tmp_path: Path, serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    compute, plane = serve(), serve()
    healthy(compute)
    control_plane(plane, OTHER_TOKEN)
    stack = str(lab_stack(tmp_path, compute.url, plane.url))
    code = cli.main(["--project-dir", str(REPO), "verify", "--config-file", stack, "--json"])
    out, err = capsys.readouterr()
    assert code == 1
    doc = json.loads(out)
    assert doc["stack"] == "lab"
    assert doc["ok"] is False
    assert doc["rounds"] == 1
    assert doc["summary"] == "12 checks: 10 ok, 1 skipped, 1 FAILED"
    failed = [c for c in doc["checks"] if c["state"] == "FAILED"]
    assert [c["check"] for c in failed] == ["token-service-side"]
    assert set(failed[0]) == {"check", "state", "detail", "fix"}
    assert len(err.splitlines()) == 12
    assert err.startswith("[1/12] api-server: ok")
    assert TOKEN not in out + err
    assert OTHER_TOKEN not in out + err


def test_wait_polls_until_ready(tmp_path: Path, serve: Serve) -> None:
    """--wait with a fake clock: the GPU node becomes Ready during the first pause."""
    compute, plane = serve(), serve()
    healthy(
        compute,
        nodes=node_list(
            node("op-1", {"node-type": "operator"}),
            node("cpu-1", {"node-type": "compute"}),
            node("gpu-1", {"node-type": "gpu"}, gpu_taint=True, gpus=8, ready=False),
        ),
    )
    control_plane(plane)
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds
        healthy(compute)

    project = find_project(REPO)
    path = lab_stack(tmp_path, compute.url, plane.url)
    options = verify_command.Options(wait="15m", interval="20s")
    target = verify_command.prepare(project, "lab", path, options, None)
    said: list[str] = []
    report = verify_command.run(
        target,
        as_json=False,
        out=said.append,
        progress=said.append,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert report.ok
    assert report.rounds == 2
    assert pauses == [20.0]
    assert "round 1: 1 failing (nodes/gpu); trying again in 20s (900s left of --wait)" in said


def test_wait_gives_up_at_the_deadline(tmp_path: Path, serve: Serve) -> None:
    compute = serve()
    healthy(compute, nodes=node_list(node("op-1", {"node-type": "operator"})))
    spec_path = lab_stack(tmp_path, compute.url, None)
    project = find_project(REPO)
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    target = verify_command.prepare(
        project, "lab", spec_path, verify_command.Options(wait="25s", interval="10s"), None
    )
    said: list[str] = []
    report = verify_command.run(
        target,
        as_json=False,
        out=said.append,
        progress=said.append,
        clock=lambda: now[0],
        sleep=sleep,
    )
    assert not report.ok
    assert report.rounds == 4  # t = 0, 10, 20, 25
    assert now[0] == 25.0
    assert said[-1] == "stack lab: backend lab is NOT ready"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--wait", "soon"], "--wait: 'soon' is not a duration (like 15m, 90s, 1h30m)"),
        (["--interval", "0s"], "--interval: '0s' is not a duration above 0 (like 10s)"),
        (
            ["--service-url", "https://osmo.example.com"],
            "--service-url: needs an OSMO access token in the environment variable OSMO_TOKEN "
            "(`osmo token create`; never on the command line)",
        ),
        (
            ["--kubeconfig", "/nonexistent/kc.yaml"],
            "--kubeconfig: /nonexistent/kc.yaml is not a file",
        ),
        (
            ["--context", "nope"],
            "--context: the kubeconfig cannot be used: Invalid kube-config file. Expected object "
            "with name nope in kube-config/contexts list",
        ),
    ],
)
def test_bad_input_exits_2(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    message: str,
) -> None:
    monkeypatch.delenv("OSMO_TOKEN", raising=False)
    stack = lab_stack(tmp_path, "http://127.0.0.1:1", None)
    code = cli.main(["--project-dir", str(REPO), "verify", "--config-file", str(stack), *extra])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [message]
    assert out == ""


def test_cloud_stack_without_pulumi_cli_needs_a_kubeconfig(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = cli.main(["--project-dir", str(REPO), "verify", "--stack", "gcp-usc1"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.splitlines() == [
        "--kubeconfig: required for this gke stack without the Pulumi CLI (install it from "
        "https://www.pulumi.com/docs/iac/download-install/ to read the stack's kubeconfig output)"
    ]


class FakeSource:
    """The Pulumi CLI's view of a deployed stack: outputs and decrypted config."""

    def __init__(self, outputs: Mapping[str, Any], fail: str | None = None) -> None:
        self._outputs = outputs
        self.fail = fail
        self.config_keys: list[str] = []

    def outputs(self, stack: str) -> Mapping[str, Any]:
        if self.fail is not None:
            raise RuntimeError(f"code: 255\n stderr: error: {self.fail}")
        return self._outputs

    def config(self, stack: str, key: str) -> str:
        self.config_keys.append(key)
        raise AssertionError(f"{key} is not secure in this stack")


def test_kubeconfig_and_token_from_the_stack_outputs(
    serve: Serve, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cloud stack's kubeconfig comes from its secret output (Automation API); the token
    Secret is compared with the `backend_token` output by hash."""
    server = serve()
    healthy(server, nodes=node_list(*(node(f"n{i}", {"node-type": "operator"}) for i in (1, 2))))
    server.get(
        "/api/v1/namespaces/osmo-operator/secrets/osmo-backend-token-azure-eus",
        secret("osmo-backend-token-azure-eus", NS, {"token": TOKEN}),
    )
    source = FakeSource(
        {"kubeconfig": kubeconfig_text(server.url, "aks"), "backend_token": OTHER_TOKEN}
    )
    monkeypatch.setattr(verify_command, "default_source", giving(source))
    code, lines, _ = run(capsys, "--stack", "azure-eus")
    assert code == 1
    assert line(lines, "token-secret") == (
        "token-secret: FAILED - Secret osmo-backend-token-azure-eus in osmo-operator differs "
        "from the stack's backend_token output (compared by hash) (fix: someone changed the "
        "Secret: `pulumi up` writes it back, then restart the listener and worker)"
    )
    assert server.requests, "the stack output's kubeconfig was used"


def test_stack_outputs_that_cannot_be_read_are_bad_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = FakeSource({}, fail="no stack named 'azure-eus' found")
    monkeypatch.setattr(verify_command, "default_source", giving(source))
    code, _, err = run(capsys, "--stack", "azure-eus")
    assert code == 2
    assert err.splitlines() == [
        "--stack azure-eus: cannot read its outputs: stderr: error: no stack named "
        "'azure-eus' found"
    ]


def test_backend_online_at_the_osmo_service(
    tmp_path: Path,
    serve: Serve,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The documented API (offline/verify_service.py cites NVIDIA/OSMO): POST
    /api/auth/jwt/access_token {"token": ...} -> {"token": jwt}; GET /api/configs/backend/NAME
    with `Authorization: Bearer <jwt>` -> the Backend model with `online`."""
    compute, plane, service = serve(), serve(), serve()
    healthy(compute)
    control_plane(plane)
    access = "osmo-access-token-for-tests"
    service.post("/api/auth/jwt/access_token", {"token": "jwt-for-tests", "expires_at": 1})
    service.routes["GET /api/configs/backend/lab"] = (
        200,
        {"name": "lab", "online": False, "last_heartbeat": "2025-06-17T18:36:11"},
    )
    monkeypatch.setenv("OSMO_TOKEN", access)
    stack = str(lab_stack(tmp_path, compute.url, plane.url))
    code, lines, _ = run(capsys, "--config-file", stack, "--service-url", service.url)
    assert code == 1
    assert line(lines, "service").startswith(
        f"service: FAILED - backend lab is offline at {service.url} (last heartbeat "
        "2025-06-17T18:36:11) (fix: the listener's heartbeat does not arrive"
    )
    exchange, backend = service.requests
    assert (exchange.method, exchange.path, exchange.body) == (
        "POST",
        "/api/auth/jwt/access_token",
        {"token": access},
    )
    assert (backend.method, backend.path) == ("GET", "/api/configs/backend/lab")
    assert backend.headers["authorization"] == "Bearer jwt-for-tests"
    assert all(access not in entry for entry in lines)

    service.routes["GET /api/configs/backend/lab"] = (200, {"name": "lab", "online": True})
    code, lines, _ = run(capsys, "--config-file", stack, "--service-url", service.url)
    assert code == 0
    assert line(lines, "service") == f"service: ok - backend lab is online at {service.url}"

    service.post("/api/auth/jwt/access_token", {"message": "Access Token is invalid"}, code=400)
    code, lines, _ = run(capsys, "--config-file", stack, "--service-url", service.url)
    assert code == 1
    assert line(lines, "service") == (
        "service: FAILED - the token exchange: HTTP 400 Access Token is invalid (fix: the OSMO "
        "access token is not accepted: create one (`osmo token create`))"
    )


def test_verify_function_with_an_injected_client(serve: Serve, tmp_path: Path) -> None:
    """`verify` takes client factories, so other callers (fleet) reuse it as is."""
    server = serve()
    healthy(server)
    project = find_project(REPO)
    path = lab_stack(tmp_path, server.url, None)
    target = verify_command.prepare(project, "lab", path, verify_command.Options(), None)
    said: list[str] = []
    clusters = Clusters(compute=lambda: kubeconfig_client(path=server.kubeconfig(tmp_path)))
    report = verify("lab", target.spec, clusters, progress=said.append)
    assert report.ok
    assert [c.name for c in report.checks][-2:] == ["backend-listener", "backend-worker"]
