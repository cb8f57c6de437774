"""A Kubernetes API server (and an OSMO service) on 127.0.0.1 for `verify` tests.

Responses are built from the official client's own models and serialized by the client's own
`ApiClient().sanitize_for_serialization`, so they are shaped as the API documents them; errors are
`v1.Status` objects, as the API server returns them. Requests are recorded (path, query, headers,
body). Nothing listens anywhere but the loopback address.
"""

import base64
import json
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from kubernetes import client as k8s

PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


@pytest.fixture(autouse=True)
def no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both clients read proxy variables: tests must talk to 127.0.0.1 directly."""
    for var in PROXY_VARS:
        monkeypatch.delenv(var, raising=False)
        monkeypatch.delenv(var.upper(), raising=False)


def to_json(model: Any) -> Any:
    return k8s.ApiClient().sanitize_for_serialization(model)


def status(code: int, reason: str, message: str) -> Any:
    return to_json(
        k8s.V1Status(
            api_version="v1",
            kind="Status",
            status="Failure",
            reason=reason,
            code=code,
            message=message,
        )
    )


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    """Names in lower case."""
    body: Any


@dataclass
class Server:
    """Routes `METHOD path` to (status, JSON body or text)."""

    routes: dict[str, tuple[int, Any]] = field(default_factory=dict[str, tuple[int, Any]])
    requests: list[Request] = field(default_factory=list[Request])
    url: str = ""

    def get(self, path: str, body: Any, code: int = 200) -> None:
        self.routes[f"GET {path}"] = (code, body if isinstance(body, str) else to_json(body))

    def post(self, path: str, body: Any, code: int = 200) -> None:
        self.routes[f"POST {path}"] = (code, body)

    def answer(self, method: str, path: str, query: Mapping[str, list[str]]) -> tuple[int, Any]:
        """A route for `path?labelSelector=S` first (pods of one Deployment), then `path`."""
        selector = query.get("labelSelector")
        keys = [f"{method} {path}?labelSelector={selector[0]}"] if selector else []
        for key in [*keys, f"{method} {path}"]:
            if key in self.routes:
                return self.routes[key]
        return 404, status(404, "NotFound", f"{path} not found")

    def kubeconfig(self, directory: Path, name: str = "kubeconfig.yaml") -> Path:
        """A one-context kubeconfig for this server, user `verify` with a bearer token."""
        path = directory / name
        path.write_text(kubeconfig_text(self.url, "local"))
        return path


def kubeconfig_text(server: str, context: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": context, "cluster": {"server": server}}],
            "users": [{"name": "verify", "user": {"token": "kube-bearer-for-tests"}}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": "verify"}}],
            "current-context": context,
        }
    )


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            query = parse_qs(parts.query)
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append(Request(self.command, parts.path, query, headers, body))
            code, answer = server.answer(self.command, parts.path, query)
            text = answer if isinstance(answer, str) else json.dumps(answer)
            data = text.encode()
            self.send_response(code)
            kind = "text/plain" if isinstance(answer, str) else "application/json"
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

    return Handler


@pytest.fixture
def serve() -> Iterator[Any]:
    """`serve()` starts a new server on an ephemeral loopback port; all stop after the test."""
    started: list[ThreadingHTTPServer] = []

    def start() -> Server:
        state = Server()
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        httpd.daemon_threads = True
        state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        # A short poll interval: shutdown() waits for the loop's next poll (0.5 s by default).
        threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        started.append(httpd)
        return state

    yield start
    for httpd in started:
        httpd.shutdown()
        httpd.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# ---- a backend as the Kubernetes API shows it ------------------------------------------------


def node(
    name: str,
    labels: Mapping[str, str],
    *,
    gpu_taint: bool = False,
    ready: bool = True,
    gpus: int | None = None,
) -> k8s.V1Node:
    taints = [k8s.V1Taint(key="nvidia.com/gpu", value="present", effect="NoSchedule")]
    allocatable = {"cpu": "8", "memory": "32Gi"}
    if gpus is not None:
        allocatable["nvidia.com/gpu"] = str(gpus)
    condition = k8s.V1NodeCondition(
        type="Ready",
        status="True" if ready else "False",
        reason="KubeletReady" if ready else "KubeletNotReady",
    )
    return k8s.V1Node(
        api_version="v1",
        kind="Node",
        metadata=k8s.V1ObjectMeta(name=name, labels=dict(labels)),
        spec=k8s.V1NodeSpec(taints=taints if gpu_taint else None),
        status=k8s.V1NodeStatus(allocatable=allocatable, conditions=[condition]),
    )


def node_list(*nodes: k8s.V1Node) -> k8s.V1NodeList:
    return k8s.V1NodeList(api_version="v1", kind="NodeList", items=list(nodes))


def deployment(name: str, namespace: str, *, ready: int = 1, replicas: int = 1) -> Any:
    return k8s.V1Deployment(
        api_version="apps/v1",
        kind="Deployment",
        metadata=k8s.V1ObjectMeta(name=name, namespace=namespace),
        spec=k8s.V1DeploymentSpec(
            replicas=replicas,
            selector=k8s.V1LabelSelector(match_labels={"app": name}),
            template=k8s.V1PodTemplateSpec(),
        ),
        status=k8s.V1DeploymentStatus(replicas=replicas, ready_replicas=ready or None),
    )


def pod(name: str, container: str, *, restarts: int = 0, waiting: str | None = None) -> Any:
    state = (
        k8s.V1ContainerState(waiting=k8s.V1ContainerStateWaiting(reason=waiting))
        if waiting
        else k8s.V1ContainerState(running=k8s.V1ContainerStateRunning())
    )
    return k8s.V1Pod(
        api_version="v1",
        kind="Pod",
        metadata=k8s.V1ObjectMeta(name=name),
        status=k8s.V1PodStatus(
            container_statuses=[
                k8s.V1ContainerStatus(
                    name=container,
                    image="nvcr.io/nvidia/osmo/backend-listener:6.4.0",
                    image_id="",
                    ready=waiting is None,
                    restart_count=restarts,
                    state=state,
                )
            ]
        ),
    )


def secret(name: str, namespace: str, data: Mapping[str, str]) -> Any:
    return k8s.V1Secret(
        api_version="v1",
        kind="Secret",
        metadata=k8s.V1ObjectMeta(name=name, namespace=namespace),
        type="Opaque",
        data={k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    )


def version() -> Any:
    return k8s.VersionInfo(
        major="1",
        minor="33",
        git_version="v1.33.2",
        git_commit="0" * 40,
        git_tree_state="clean",
        build_date="2025-06-17T18:36:11Z",
        go_version="go1.24.4",
        compiler="gc",
        platform="linux/amd64",
    )
