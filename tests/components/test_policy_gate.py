"""The security checks gate the real `pulumi preview`/`up` (issue 14, part 2).

The program itself refuses a failing check, with the same lines and ids as `osmo-backend plan`:
proven here by running `__main__.py` under the Pulumi SDK's own mocks (`pulumi.runtime.set_mocks`,
config through `pulumi.runtime.set_all_config`, as the language host sets it), not through the
offline engine, which runs the program with the gate suspended and checks the whole recording.

Pulumi facts pinned here (pulumi 3.272.0 in .venv; pulumi/pulumi at the same version):
- `pulumi-language-python-exec` (sdk/python/cmd/pulumi-language-python-exec) runs `__main__.py`
  in `run_in_stack` and reports a `pulumi.RunError` as `log.error(str(e))`: the finding lines,
  no traceback.
- `run_pulumi_func` (sdk/python/lib/pulumi/runtime/stack.py) waits for every registration after
  the program body; a registration that fails before its RPC (here: its `depends_on` Output
  fails) is never sent to the engine, and its error is what the run raises.
- `register_stack_transformation` (runtime/stack.py) runs in-process in every `Resource`
  constructor (resource.py `Resource.__init__`), so plain mocks run it as the engine does;
  `register_resource_transform` callbacks are run by the engine and not by the mock monitor
  (runtime/mocks.py `MockMonitor.get_registered_transforms`).
"""

import asyncio
import base64
import json
import logging
import runpy
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
import pytest
import yaml
from pulumi.runtime import settings

from components import policy, policy_gate
from offline import cli, engine
from tests.harness import REPO, config, encode, run_main

IMG_LINE = (
    "error OSMO-IMG-001 urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend"
    "$osmo-backend:index:OperatorLayer$kubernetes:helm.sh/v3:Release::"
    "osmo-operators-backend-operator: values.global.osmoImageTag is 'latest' [CKV_K8S_14]. "
    "Fix: pin the tag to a version"
)
LATEST = {"backendOperator": {"values": {"global": {"osmoImageTag": "latest"}}}}
OPT_OUT_HINT = (
    "1 failing security checks: fix them, or list the check id under osmo-backend:policy.allow "
    "(an explicit, logged opt-out; README: Security checks)"
)


class PlainMocks(pulumi.runtime.Mocks):
    """The SDK's own mocks: a resource's state is its inputs, plus the bytes the token reads."""

    def __init__(self, preview: bool) -> None:
        self.registered: list[tuple[str, str]] = []
        self._preview = preview

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        self.registered.append((args.typ, args.name))
        state = dict(args.inputs)
        if args.typ == "random:index/randomBytes:RandomBytes":
            state["base64"] = base64.b64encode(bytes(32)).decode()
        # A preview does not know the id of a resource it would create (the engine says so).
        return None if self._preview else f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[Any]]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = "arn:aws:iam::000000000000:user/deployer"
            return {"arn": arn, "accountId": "000000000000", "userId": "deployer"}, []
        return {}, []


class Logs(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def run_plain(
    program: Callable[[], object], values: dict[str, Any] | None = None, preview: bool = False
) -> tuple[PlainMocks, BaseException | None, list[str]]:
    """Run `program` under plain `pulumi.runtime.set_mocks`; the runtime state is reset before
    and after (as offline/engine.py does), so nothing leaks into other tests."""
    mocks, logs = PlainMocks(preview), Logs()
    logger = logging.getLogger("test_policy_gate")
    logger.propagate = False
    logger.handlers = [logs]
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
    error: BaseException | None = None
    try:
        pulumi.runtime.set_mocks(
            mocks, project="osmo-backend", stack="test", preview=preview, logger=logger
        )
        pulumi.runtime.set_all_config(encode(values or {}), [])
        pulumi.runtime.test(program)()
    except Exception as err:  # the program's own error is the result
        error = err
    finally:
        settings.set_root_resource(None)  # pyright: ignore[reportArgumentType]
        asyncio.set_event_loop(None)
        loop.close()
    return mocks, error, logs.lines


def main() -> None:
    runpy.run_path(str(REPO / "__main__.py"), run_name="__main__")


def cloud_resources(mocks: PlainMocks) -> list[tuple[str, str]]:
    """Registered resources other than components and providers (state-only, no cloud call)."""
    return [
        (t, n)
        for t, n in mocks.registered
        if not t.startswith(("osmo-backend:index:", "pulumi:providers:"))
    ]


@pytest.mark.parametrize("preview", [False, True])
def test_a_config_decided_failure_refuses_the_program_before_anything_registers(
    preview: bool,
) -> None:
    mocks, error, _logs = run_plain(main, config(operators=LATEST), preview=preview)
    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines() == [IMG_LINE, OPT_OUT_HINT]
    assert mocks.registered == []


def test_the_same_line_as_the_offline_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Pulumi.test.yaml"
    path.write_text(yaml.safe_dump({"config": config(operators=LATEST)}))
    args = ["--project-dir", str(REPO), "plan", "--config-file", str(path), "--out"]
    assert cli.main([*args, str(tmp_path / "o")]) == 2
    assert IMG_LINE in capsys.readouterr().err.splitlines()


def test_with_the_check_allowed_the_program_runs_and_logs_the_opt_out() -> None:
    values = config(operators=LATEST, policy={"allow": ["OSMO-IMG-001"]})
    mocks, error, logs = run_plain(main, values)
    assert error is None
    assert ("kubernetes:helm.sh/v3:Release", "osmo-operators-backend-operator") in mocks.registered
    assert logs.count("policy: OSMO-IMG-001 is allowed by osmo-backend:policy.allow (opt-out)") == 1
    assert logs.count(IMG_LINE.replace("error ", "allowed ", 1)) == 1


def eks(**cluster: Any) -> dict[str, Any]:
    values = yaml.safe_load((REPO / "stacks" / "Pulumi.aws-usw2.yaml").read_text())["config"]
    values["osmo-backend:cluster"] = {**values["osmo-backend:cluster"], **cluster}
    return values


EKS_LINE = (
    "error OSMO-EKS-001 urn:pulumi:test::osmo-backend::osmo-backend:index:OsmoBackend"
    "$osmo-backend:index:EksCluster$aws:eks/cluster:Cluster::osmo-cluster-eks: public endpoint "
    "open to ['0.0.0.0/0'] [CIS Amazon EKS Benchmark v1.4.0 5.4.2, CKV_AWS_38]. Fix: list "
    "networks in cluster.endpoint.publicAccessCidrs, or none for a private endpoint"
)


def test_an_eks_public_endpoint_opt_out_needs_the_allow_and_then_deploys_logged() -> None:
    values = eks(endpoint={"allowPublicFromAnywhere": True})
    mocks, error, _logs = run_plain(main, values, preview=True)
    assert isinstance(error, pulumi.RunError)
    assert "list OSMO-EKS-001 under osmo-backend:policy.allow" in str(error)
    assert mocks.registered == []

    values["osmo-backend:policy"] = {"allow": ["OSMO-EKS-001"]}
    mocks, error, logs = run_plain(main, values, preview=True)
    assert error is None
    assert ("aws:eks/cluster:Cluster", "osmo-cluster-eks") in mocks.registered
    assert "policy: OSMO-EKS-001 is allowed by osmo-backend:policy.allow (opt-out)" in logs
    assert logs.count(EKS_LINE.replace("error ", "allowed ", 1)) == 1


def registration_time_program() -> None:
    """Labels only a created resource's id makes known (the random bytes' id stands for any
    value the cloud computes)."""
    with policy_gate.gate(()):
        provider = k8s.Provider("k8s", kubeconfig="{}")
        source = random.RandomBytes("source", length=32)
        namespace = k8s.core.v1.Namespace(
            "workflows",
            metadata={"name": "workflows", "labels": source.id.apply(lambda _: {"team": "ml"})},
            opts=pulumi.ResourceOptions(provider=provider),
        )
        random.RandomBytes("after", length=32, opts=pulumi.ResourceOptions(depends_on=[namespace]))


def test_a_value_known_only_at_registration_is_checked_there_and_stops_the_run() -> None:
    mocks, error, _logs = run_plain(registration_time_program)
    assert isinstance(error, pulumi.RunError)
    assert str(error).splitlines() == [
        "error OSMO-K8S-001 urn:pulumi:test::osmo-backend::kubernetes:core/v1:Namespace::"
        "workflows: namespace has no pod-security.kubernetes.io/enforce label (None) "
        "[CIS Amazon EKS Benchmark v1.8.0 4.2]. Fix: create namespaces through "
        "components._namespaces.namespace",
        OPT_OUT_HINT,
    ]
    # The source was created before the Namespace's check could run; nothing after it was.
    assert cloud_resources(mocks) == [("random:index/randomBytes:RandomBytes", "source")]


def test_in_a_preview_an_unknown_value_is_not_judged() -> None:
    mocks, error, _logs = run_plain(registration_time_program, preview=True)
    assert error is None
    assert ("kubernetes:core/v1:Namespace", "workflows") in mocks.registered


@pytest.fixture
def gate_in_the_offline_engine(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The offline engine with the gate active, every `evaluate_known` call recorded: one is the
    check before registration (every resource), the others one registration each."""
    calls: list[Any] = []
    evaluate_known = policy.evaluate_known

    def spy(records: Any) -> list[policy.Finding]:
        records = list(records)
        calls.append(records)
        return evaluate_known(records)

    monkeypatch.setattr(policy_gate, "suspended", nullcontext)
    monkeypatch.setattr(policy, "evaluate_known", spy)
    return calls


def _known_leaves(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if value is policy.UNKNOWN:
        return
    if isinstance(value, dict):
        for key, item in value.items():  # pyright: ignore[reportUnknownVariableType]
            yield from _known_leaves(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
            yield from _known_leaves(item, f"{path}[{index}]")
    else:
        yield path, value


def _comparable(value: Any) -> Any:
    """Recorded inputs as the gate reads them (resource references unnamed, unknowns as
    `policy.UNKNOWN`)."""
    if value == engine.UNKNOWN:
        return policy.UNKNOWN
    if isinstance(value, str) and value.startswith("[resource "):
        return "[resource]"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_comparable(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


@pytest.mark.parametrize("stack", ["aws-usw2", "gcp-usc1", "azure-eus", "onprem-lab"])
@pytest.mark.parametrize("preview", [False, True])
def test_the_gate_sees_what_the_engine_receives_on_every_reference_stack(
    gate_in_the_offline_engine: list[Any], stack: str, preview: bool
) -> None:
    from offline import stackfile

    project = stackfile.find_project(REPO)
    loaded = stackfile.load_stack_config(project, project.stack_file(stack))
    disabled = json.loads(loaded.values.get("pulumi:disable-default-providers", "[]"))
    recording = engine.run(
        main,
        project="osmo-backend",
        stack="test",
        config=loaded.values,
        secret_keys=loaded.secret_keys,
        disabled_default_providers=disabled,
        preview=preview,
    )
    calls = gate_in_the_offline_engine
    before = max(calls, key=len)  # components and providers may register while it waits
    at_registration = [c for c in calls if c is not before]
    recorded = {r.urn: r.to_json() for r in recording.resources}
    # The check before registration saw every resource, under the engine's own URN ...
    assert sorted(r["urn"] for r in before) == sorted(recorded)
    # ... and every input it knew then is the input the engine received.
    for record in before:
        expected = recorded[record["urn"]]
        assert (record["type"], record["custom"]) == (expected["type"], expected["custom"])
        assert bool(record["provider"]) == bool(expected["provider"]), record["urn"]
        for key in ("protect", "retainOnDelete"):
            assert record["options"][key] == expected["options"][key], (record["urn"], key)
        known = dict(_known_leaves(record["inputs"]))
        received = dict(_known_leaves(_comparable(expected["inputs"])))
        assert {p: received.get(p) for p in known} == known, record["urn"]
    # At registration it read exactly the recorded inputs (unknown where the preview has them).
    seen = {r["urn"]: r for (r,) in at_registration}
    assert sorted(seen) == sorted(recorded)
    for urn, record in seen.items():
        inputs = _comparable(recorded[urn]["inputs"])
        assert dict(_known_leaves(record["inputs"])) == dict(_known_leaves(inputs)), urn
    # And a reference stack passes: nothing refused, nothing reported.
    assert [m for _, m in recording.logs if " OSMO-" in m] == []


def test_the_plan_reports_once_with_the_gate_suspended() -> None:
    recording = run_main(config(operators=LATEST))
    assert [m for _, m in recording.logs if "OSMO-" in m] == []
    assert ("kubernetes:helm.sh/v3:Release", "osmo-operators-backend-operator") in [
        (r.type, r.name) for r in recording.resources
    ]
