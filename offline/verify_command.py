"""`osmo-backend verify` and `fleet verify`: inputs, the stack's secrets, output.

Where the kubeconfig comes from, first match wins:
1. `--kubeconfig FILE` (and `--context C`);
2. kind existing: the stack's own `cluster.kubeconfig` (a file, or the secret once decrypted);
3. the stack's secret output `kubeconfig`, read with the Pulumi CLI (Automation API), which also
   decrypts `secure:` config (the control plane's kubeconfig) and gives the `backend_token`
   output the token Secret is compared with.
Without any of them the input is incomplete: exit 2, saying which option to add.
"""

import json
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from components.clusters.existing.config import ExistingClusterSpec
from components.config import StackSpec, load_spec
from components.config._common import is_placeholder
from offline.fleet import PULUMI_INSTALL, Step
from offline.stackfile import Project, load_stack_config
from offline.verify import (
    Clusters,
    Report,
    Secrets,
    ServiceProbe,
    kubeconfig_client,
    parse_duration,
    summary,
    table,
    verify,
)

DEFAULT_TOKEN_ENV = "OSMO_TOKEN"
DEFAULT_INTERVAL = "10s"


class BadInput(Exception):
    """Verify cannot start: one `option: reason` line per problem (exit 2)."""

    def __init__(self, *problems: str) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


class StackSource(Protocol):
    """A deployed stack's outputs and decrypted config (the Pulumi CLI; tests use a fake)."""

    def outputs(self, stack: str) -> Mapping[str, Any]: ...

    def config(self, stack: str, key: str) -> str: ...


class AutomationSource:
    """The Pulumi CLI through the Automation API, in the project directory."""

    def __init__(self, project_dir: Path) -> None:
        self._dir = project_dir

    def _stack(self, stack: str) -> Any:
        from pulumi import automation as auto

        return auto.select_stack(stack_name=stack, work_dir=str(self._dir))

    def outputs(self, stack: str) -> Mapping[str, Any]:
        return {key: out.value for key, out in self._stack(stack).outputs().items()}

    def config(self, stack: str, key: str) -> str:
        return str(self._stack(stack).get_config(key).value)


@dataclass(frozen=True)
class Options:
    kubeconfig: Path | None = None
    context: str | None = None
    service_url: str | None = None
    token_env: str = DEFAULT_TOKEN_ENV
    wait: str | None = None
    interval: str = DEFAULT_INTERVAL


@dataclass(frozen=True)
class Target:
    stack: str
    spec: StackSpec
    clusters: Clusters
    secrets: Secrets
    service: ServiceProbe | None
    wait_seconds: float
    interval_seconds: float
    notes: list[str] = field(default_factory=list[str])


def default_source(project: Project) -> StackSource | None:
    return AutomationSource(project.dir) if shutil.which("pulumi") is not None else None


def prepare(
    project: Project,
    stack: str,
    path: Path,
    options: Options,
    source: StackSource | None,
    *,
    environ: Mapping[str, str] = os.environ,
) -> Target:
    """Everything verify needs, or BadInput (and StackFileError/ConfigError as `validate`)."""
    problems: list[str] = []
    wait = parse_duration(options.wait) if options.wait is not None else 0.0
    if wait is None:
        problems.append(f"--wait: {options.wait!r} is not a duration (like 15m, 90s, 1h30m)")
    interval = parse_duration(options.interval)
    if not interval:
        problems.append(f"--interval: {options.interval!r} is not a duration above 0 (like 10s)")
    service = _service(options, environ, problems)
    if options.kubeconfig is not None and not options.kubeconfig.is_file():
        problems.append(f"--kubeconfig: {options.kubeconfig} is not a file")
    if problems:
        raise BadInput(*problems)

    config = load_stack_config(project, path, stack)
    values = dict(config.values)
    if source is not None:
        for key in config.placeholders:
            values[key] = source.config(stack, key)
    spec = load_spec(values, config.secret_keys, base_dir=project.dir)

    notes: list[str] = []
    outputs: Mapping[str, Any] = {}
    cluster = spec.cluster
    own = (
        cluster.kubeconfig
        if isinstance(cluster, ExistingClusterSpec)
        and not is_placeholder(cluster.kubeconfig.content)
        else None
    )
    if source is not None:
        try:
            outputs = source.outputs(stack)
        except Exception as err:  # the CLI's own message: no such stack, not logged in, ...
            reason = _last_line(err)
            if options.kubeconfig is None and own is None:
                raise BadInput(f"--stack {stack}: cannot read its outputs: {reason}") from None
            notes.append(f"stack outputs not read ({reason}): the token is not compared with them")
    if options.kubeconfig is not None:
        compute = partial(kubeconfig_client, path=options.kubeconfig, context=options.context)
    elif own is not None:
        compute = partial(
            kubeconfig_client, content=own.content, context=options.context or own.context
        )
    elif isinstance(outputs.get("kubeconfig"), str):
        compute = partial(
            kubeconfig_client, content=str(outputs["kubeconfig"]), context=options.context
        )
    elif source is not None:
        raise BadInput(
            f"--stack {stack}: the stack has no kubeconfig output (run `pulumi up` first), "
            "or pass --kubeconfig FILE"
        )
    else:
        raise BadInput(
            f"--kubeconfig: required for this {cluster.kind} stack without the Pulumi CLI "
            f"(install it from {PULUMI_INSTALL} to read the stack's kubeconfig output)"
        )
    _loads(compute, "--context" if options.context else "--kubeconfig")
    token = outputs.get("backend_token")
    return Target(
        stack=stack,
        spec=spec,
        clusters=_with_control_plane(spec, compute),
        secrets=Secrets(stack_token=token if isinstance(token, str) else None),
        service=service,
        wait_seconds=wait or 0.0,
        interval_seconds=interval or 0.0,
        notes=notes,
    )


def _service(
    options: Options, environ: Mapping[str, str], problems: list[str]
) -> ServiceProbe | None:
    from offline.verify_service import ServiceProbe as HttpProbe

    if options.service_url is None:
        return None
    url = options.service_url
    if not url.startswith(("https://", "http://")) or len(url.split("://", 1)[1]) == 0:
        problems.append(f"--service-url: {url!r} must be an absolute http(s) URL")
    token = environ.get(options.token_env, "")
    if not token:
        problems.append(
            f"--service-url: needs an OSMO access token in the environment variable "
            f"{options.token_env} (`osmo token create`; never on the command line)"
        )
    return HttpProbe(url.rstrip("/"), token)


def _loads(compute: Callable[[], Any], option: str) -> None:
    """The kubeconfig and context load (no request is made): else bad input."""
    from kubernetes.config.config_exception import ConfigException

    try:
        compute().close()
    except (ConfigException, OSError, ValueError, TypeError, AttributeError) as err:
        raise BadInput(f"{option}: the kubeconfig cannot be used: {_last_line(err)}") from None


def _with_control_plane(spec: StackSpec, compute: Callable[[], Any]) -> Clusters:
    plane = spec.osmo.control_plane
    if plane is None:
        return Clusters(compute=compute)
    if is_placeholder(plane.kubeconfig.content):
        return Clusters(
            compute=compute,
            control_plane_unavailable="the control-plane kubeconfig is a secure value: run "
            "where the Pulumi CLI can decrypt it",
        )
    control = partial(
        kubeconfig_client, content=plane.kubeconfig.content, context=plane.kubeconfig.context
    )
    return Clusters(compute=compute, control_plane=control)


def _last_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return lines[-1] if lines else type(err).__name__


def run(
    target: Target,
    *,
    as_json: bool,
    out: Callable[[str], None],
    progress: Callable[[str], None],
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Report:
    """Run verify and print the table (or one JSON document)."""
    extra: dict[str, Any] = {}
    if clock is not None:
        extra["clock"] = clock
    if sleep is not None:
        extra["sleep"] = sleep
    for note in target.notes:
        progress(f"note: {note}")
    report = verify(
        target.stack,
        target.spec,
        target.clusters,
        secrets=target.secrets,
        service=target.service,
        progress=progress,
        wait_seconds=target.wait_seconds,
        interval_seconds=target.interval_seconds,
        **extra,
    )
    if as_json:
        out(json.dumps(report.to_json(), indent=2, sort_keys=True))
    else:
        out("")
        for line in table(report.checks):
            out(line)
        verdict = "online and ready" if report.ok else "NOT ready"
        out(f"stack {target.stack}: backend {target.spec.osmo.backend_name} is {verdict}")
    return report


class VerifyRunner:
    """`fleet verify`: one stack's verify as a fleet step (its lines go to the stack's log)."""

    def __init__(self, project: Project, options: Options, source: StackSource | None) -> None:
        self._project = project
        self._options = options
        self._source = source

    def run(self, stack: str, step: Step, on_output: Callable[[str], None]) -> dict[str, int]:
        try:
            target = prepare(
                self._project, stack, self._project.stack_file(stack), self._options, self._source
            )
        except BadInput as err:
            raise RuntimeError("; ".join(err.problems)) from None
        report = run(target, as_json=False, out=on_output, progress=on_output)
        if not report.ok:
            failing = [c.name for c in report.checks if c.failed]
            raise RuntimeError(f"{len(failing)} failing: {', '.join(failing)}")
        counts: dict[str, int] = {"checks": len(report.checks)}
        for check in report.checks:
            counts[check.state] = counts.get(check.state, 0) + 1
        return counts


def describe(counts: Mapping[str, int]) -> str:
    """A verify step's result for the fleet table."""
    from offline.verify import Check, State

    states: list[State] = ["ok", "scales from zero", "skipped", "FAILED"]
    checks = [Check("", s, "") for s in states for _ in range(counts.get(s, 0))]
    return summary(checks)


def print_err(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def print_out(line: str) -> None:
    print(line, flush=True)
