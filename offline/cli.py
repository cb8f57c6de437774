"""`osmo-backend`: plan, validate and list stacks without the Pulumi CLI or a cloud account.

Exit codes: 0 success; 2 invalid stack config or stack file (one `path: reason` line each on
stderr, no traceback); 1 the program or the offline engine failed.
"""

import argparse
import fnmatch
import gc
import json
import os
import runpy
import shutil
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from components.config import ConfigError, StackSpec, load_spec
from offline import fleet
from offline.fleet import REFERENCE_STACKS
from offline.stackfile import (
    Project,
    StackConfig,
    StackFileError,
    find_project,
    load_stack_config,
    stack_name,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


_EXIT_CODES = (
    "exit codes: 0 success; 2 invalid input (a stack file, config or option: one `path: reason` "
    "line each on stderr); 1 a failure (the program or the offline engine{more})"
)


def _help(examples: Sequence[str], exit_codes: str = _EXIT_CODES.format(more="")) -> str:
    return "examples:\n" + "\n".join(f"  {e}" for e in examples) + "\n\n" + exit_codes


def _parser() -> argparse.ArgumentParser:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="osmo-backend",
        description="Offline tools for the osmo-backend Pulumi project (no Pulumi CLI needed).",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend init --kind eks --name east   # writes stacks/Pulumi.east.yaml",
                "osmo-backend validate --stack east",
                "osmo-backend plan --stack east             # what `pulumi up` would create",
                "osmo-backend SUBCOMMAND --help             # each subcommand's examples",
            ]
        ),
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=Path.cwd(),
        help="directory holding Pulumi.yaml, or below it (default: the current directory)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def stack_args(p: argparse.ArgumentParser, many: bool = False) -> None:
        which = p.add_mutually_exclusive_group(required=True)
        if many:
            which.add_argument(
                "--stack",
                action="append",
                help="stack name (reads <stackConfigDir>/Pulumi.NAME.yaml) or glob; repeat it to "
                "plan several stacks in one run, which loads the SDKs once",
            )
        else:
            which.add_argument(
                "--stack", help="stack name: reads <stackConfigDir>/Pulumi.NAME.yaml"
            )
        which.add_argument(
            "--config-file",
            type=Path,
            help="any stack config file (Pulumi.NAME.yaml or NAME.yaml names the stack NAME)",
        )

    init = sub.add_parser(
        "init",
        help="write a commented starter stack file that validates",
        description="Write <stackConfigDir>/Pulumi.NAME.yaml: a commented starter for one "
        "cluster kind, with the schema comment for editors. Values marked CHANGE are "
        "placeholders to replace.",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend init --kind eks --name east",
                "osmo-backend init --kind existing --name lab --kubeconfig ~/.kube/lab.yaml",
                "osmo-backend init --kind gke --name euw4 --force   # overwrite the file",
            ]
        ),
    )
    init.add_argument("--kind", required=True, choices=["eks", "gke", "aks", "existing"])
    init.add_argument(
        "--name", required=True, help="stack name, also the cluster and backend name (DNS label)"
    )
    init.add_argument(
        "--kubeconfig",
        default="~/.kube/config",
        help="kind existing: the kubeconfig file (default: ~/.kube/config)",
    )
    init.add_argument("--force", action="store_true", help="overwrite an existing stack file")

    plan = sub.add_parser(
        "plan",
        help="run the program against a recording engine; write the plan",
        description="Run the program offline against a recording engine and write what "
        "`pulumi up` would register: resources.json, manifests/, helm/, osmo-service-values.yaml, "
        "egress-allowlist.yaml, the deploy estimate and graphs. Runs the security checks.",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend plan --stack east",
                "osmo-backend plan --config-file ci/Pulumi.east.yaml --out build/plan/east",
                "osmo-backend plan --stack east --destroy   # also what `pulumi destroy` would do",
            ],
            _EXIT_CODES.format(more="")
            + "; 2 also when a security check fails that policy.allow does not list",
        ),
    )
    stack_args(plan, many=True)
    plan.add_argument(
        "--out",
        type=Path,
        help="output directory (default: build/plan/NAME); with several stacks or a glob, the "
        "directory holding one NAME/ per stack (default: build/plan)",
    )
    plan.add_argument(
        "--weights",
        type=Path,
        help="YAML mapping of resource type (or TYPE[chart or pool role]) to minutes, over the "
        "deploy estimate's typical weights",
    )
    plan.add_argument(
        "--destroy",
        action="store_true",
        help="also show what `pulumi destroy` would do, wave by wave, and its findings "
        "(writes destroy.json)",
    )
    validate = sub.add_parser(
        "validate",
        help="check a stack's config only",
        description="Check a stack file and its config (every problem at once, one "
        "`path: reason` line each), without running the program.",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend validate --stack east",
                "osmo-backend validate --config-file /tmp/Pulumi.try.yaml",
            ]
        ),
    )
    stack_args(validate)
    sub.add_parser(
        "stacks",
        help="list the stack files and their cluster kind",
        description="List the stack files in the stack directory, their cluster kind, and "
        "which are the project's reference stacks.",
        formatter_class=raw,
        epilog=_help(["osmo-backend stacks"]),
    )
    fleet = sub.add_parser(
        "fleet",
        help="preview, up, destroy or verify several stacks, or list them for CI",
        description="preview, up or destroy several stacks from this machine with the Pulumi "
        "CLI (Automation API), or print them as a CI matrix (matrix). Without --stack: your "
        f"stacks, every stack file but the reference ones ({', '.join(REFERENCE_STACKS)}).",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend fleet preview",
                "osmo-backend fleet up --yes --stack 'aws-*' --concurrency 2",
                "osmo-backend fleet destroy --yes --stack east",
                "osmo-backend fleet verify --wait 15m   # is every backend online?",
                "osmo-backend fleet matrix            # JSON for a CI matrix (examples/ci/)",
            ],
            _EXIT_CODES.format(more=", or any stack's run"),
        ),
    )
    fleet.add_argument("operation", choices=["preview", "up", "destroy", "verify", "matrix"])
    fleet.add_argument(
        "--stack",
        action="append",
        default=[],
        dest="stacks",
        help="stack name or glob (repeatable); default: every stack file but the reference ones",
    )
    fleet.add_argument("--concurrency", type=int, default=4, help="stacks at once (default 4)")
    fleet.add_argument("--logs", type=Path, help="log directory (default: build/fleet/OPERATION)")
    fleet.add_argument(
        "--yes", action="store_true", help="required for up and destroy: they change real clusters"
    )
    fleet.add_argument(
        "--wait", help="verify: poll each stack until ready or this deadline (like 15m)"
    )
    _verify_parser(sub, stack_args)
    _access_parser(sub, stack_args)
    merge = sub.add_parser(
        "service-values",
        help="merge several backends' osmo-service-values.yaml into one OSMO service values file",
        description="Merge the osmo-service-values.yaml that each stack's plan writes into one "
        "values file for the OSMO service chart (lists merged, conflicts reported).",
        formatter_class=raw,
        epilog=_help(
            [
                "osmo-backend service-values build/plan/east build/plan/west",
                "osmo-backend service-values build/plan/* --out osmo-service-values.yaml",
            ]
        ),
    )
    merge.add_argument(
        "fragments",
        nargs="+",
        type=Path,
        help="osmo-service-values.yaml files, or plan directories holding one",
    )
    merge.add_argument("--out", type=Path, help="write here instead of standard output")
    merge.add_argument(
        "--values",
        type=Path,
        help="the OSMO service's current values file: merged first, so the result is complete",
    )
    merge.add_argument(
        "--workflow-data-from",
        metavar="STACK",
        help="backend name or plan directory whose workflow data store the service uses",
    )
    return parser


def _stack(project: Project, args: argparse.Namespace) -> tuple[str, Path]:
    if args.stack is not None:
        return args.stack, project.stack_file(args.stack)
    path: Path = args.config_file.resolve()
    return stack_name(path), path


def _load(project: Project, path: Path) -> tuple[StackConfig, StackSpec]:
    config = load_stack_config(project, path)
    return config, load_spec(config.values, config.secret_keys, base_dir=project.dir)


def _shown(project: Project, path: Path) -> Path:
    return path.relative_to(project.dir) if path.is_relative_to(project.dir) else path


def _invalid(lines: Sequence[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return EXIT_INVALID


def cmd_validate(project: Project, args: argparse.Namespace) -> int:
    name, path = _stack(project, args)
    config, _spec = _load(project, path)
    for key in config.placeholders:
        print(f"note: {key} is a secure value; its content was not checked offline")
    print(f"stack {name}: config is valid ({_shown(project, path)})")
    return EXIT_OK


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def cmd_plan(project: Project, args: argparse.Namespace) -> int:
    """One stack, or several in one process (`--stack a --stack b`, globs): the SDK modules and
    the program's modules load once; the engine resets Pulumi's runtime state for each stack.

    With one `--stack NAME` (or `--config-file`) `--out` is the plan directory; with several
    stacks or a glob it is their parent (OUT/NAME). With several, a stack's problems are printed
    with its name, the other stacks still plan, and the exit code is the worst of the stacks':
    1 (a failure) over 2 (invalid input or a failing check) over 0.
    """
    patterns: list[str] | None = args.stack
    if not patterns or (len(patterns) == 1 and not _is_glob(patterns[0])):
        name, path = (
            (patterns[0], project.stack_file(patterns[0])) if patterns else _stack(project, args)
        )
        out: Path = args.out if args.out is not None else project.dir / "build" / "plan" / name
        return _plan_one(project, args, name, path, out)

    available = [name for name, _ in project.stacks()]
    selected: list[str] = []
    for pattern in patterns:
        found = fnmatch.filter(available, pattern) if _is_glob(pattern) else [pattern]
        if not found:
            return _invalid(
                [f"--stack: no stack matches {pattern!r}; stacks: {', '.join(available) or 'none'}"]
            )
        selected += [name for name in found if name not in selected]
    parent: Path = args.out if args.out is not None else project.dir / "build" / "plan"
    statuses: dict[str, int] = {}
    for index, name in enumerate(selected):
        print(f"{chr(10) if index else ''}== stack {name} ({index + 1} of {len(selected)})")
        statuses[name] = _plan_named(project, args, name, parent / name)
    print()
    label = {EXIT_OK: "ok", EXIT_INVALID: "invalid (exit 2)", EXIT_FAILED: "failed (exit 1)"}
    print("Stacks: " + ", ".join(f"{name} {label[s]}" for name, s in statuses.items()))
    worst = set(statuses.values())
    return EXIT_FAILED if EXIT_FAILED in worst else max(worst)


def _plan_named(project: Project, args: argparse.Namespace, name: str, out: Path) -> int:
    """One of several stacks: its invalid input and failures are printed with its name."""
    try:
        return _plan_one(project, args, name, project.stack_file(name), out)
    except StackFileError as err:
        problems = [str(err)]
    except ConfigError as err:
        problems = err.problems
    except Exception:  # the program's own failure: this stack fails, the others still plan
        print(f"{name}: error: the program failed:", file=sys.stderr)
        traceback.print_exc()
        return EXIT_FAILED
    return _invalid([f"{name}: {line}" for line in problems])


def _plan_one(project: Project, args: argparse.Namespace, name: str, path: Path, out: Path) -> int:
    from components import policy
    from offline import engine, plan, readable

    config, spec = _load(project, path)
    from offline import estimate

    try:
        weights = estimate.load_weights(args.weights) if args.weights else estimate.DEFAULT_WEIGHTS
    except estimate.WeightsError as err:
        return _invalid(err.problems)
    disabled = config.values.get("pulumi:disable-default-providers", "[]")
    main = project.dir / "__main__.py"
    try:
        recording = engine.run(
            lambda: runpy.run_path(str(main), run_name="__main__"),
            project=project.name,
            stack=name,
            config=config.values,
            secret_keys=config.secret_keys,
            disabled_default_providers=_json_list(disabled),
        )
    except engine.OfflineEngineError as err:
        print(f"error: the offline engine rejected the program:\n{err}", file=sys.stderr)
        return EXIT_FAILED
    files = plan.write(recording, out)
    records = sorted(recording.resources, key=lambda r: r.urn)
    findings = policy.evaluate(r.to_json() for r in records)
    allowed = spec.policy.allow
    failing = policy.blocking(findings, allowed)

    print(f"Plan for stack {name} (project {project.name}, config {_shown(project, path)})")
    for key in config.placeholders:
        print(f"note: {key} is a secure value; a placeholder stands in for it offline")
    for level, message in recording.logs:
        print(f"{level}: {message}")
    print()
    for line in plan.tree(recording):
        print(line)
    print()
    for line in [*readable.node_pools(spec.cluster), "", *readable.releases(recording), ""]:
        print(line)
    egress = readable.write_egress(recording, out)
    print(f"Wrote {egress} (the egress_allowlist output)")
    outputs = recording.outputs
    shown = {k: v if not isinstance(v, dict | list) else "{...}" for k, v in outputs.items()}
    print("Outputs: " + ", ".join(f"{k} = {shown[k]}" for k in sorted(shown)))
    print(
        f"{plan.summary(recording)}. Wrote {out}: resources.json, "
        f"manifests/ ({len(files.manifests)}), helm/ ({len(files.helm)}), osmo-service-values.yaml"
    )
    deploy = estimate.estimate((r.to_json() for r in records), weights)
    graphs = estimate.write(deploy, out)
    for line in estimate.report(deploy):
        print(line)
    print(f"Wrote {', '.join(g.name for g in graphs)} (critical path in red)")
    for check_id in allowed:
        print(f"policy: {check_id} is allowed by osmo-backend:policy.allow (opt-out)")
    for finding in findings:
        line = policy.report_line(finding, allowed)
        print(line, file=sys.stderr if finding in failing else sys.stdout)
    counts = f"{len(findings)} findings, {len(failing)} failing"
    print(f"Security checks: {len(policy.CHECKS)} run, {counts}")
    status = EXIT_INVALID if failing else EXIT_OK
    if args.destroy:
        # Registration order is topological (parents and dependencies register first).
        records = [r.to_json() for r in recording.resources]
        status = max(status, _plan_destroy(records, recording.project, name, out))
    return status


def _plan_destroy(
    records: Sequence[Mapping[str, object]], project: str, stack: str, out: Path
) -> int:
    """`plan --destroy`: the engine's and the clouds' destroy rules over the recorded graph."""
    from offline import destroy

    report = destroy.analyze(records, project=project, stack=stack)
    path = destroy.write(report, out)
    print()
    for line in report.lines():
        print(line)
    for finding in report.findings:
        print(finding.line(), file=sys.stderr if finding in report.failing else sys.stdout)
    failing = len(report.failing)
    print(f"Destroy checks: {len(report.findings)} findings, {failing} failing. Wrote {path}")
    return EXIT_INVALID if failing else EXIT_OK


def _json_list(text: str) -> list[str]:
    value = json.loads(text)
    return [str(v) for v in value] if isinstance(value, list) else []  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]


def _kind(project: Project, path: Path) -> str:
    """A stack file's cluster kind, `?` when not set, `unreadable` when it cannot be loaded."""
    try:
        config = load_stack_config(project, path)
        raw = config.values.get(f"{project.name}:cluster")
        return str(json.loads(raw).get("kind", "?")) if raw else "?"
    except (StackFileError, ValueError, AttributeError):
        return "unreadable"


def cmd_stacks(project: Project, _args: argparse.Namespace) -> int:
    rows: list[tuple[str, str, str]] = []
    for name, path in project.stacks():
        owner = "  (reference)" if name in REFERENCE_STACKS else ""
        rows.append((name, _kind(project, path), _shown(project, path).as_posix() + owner))
    if not rows:
        print(f"no stack files in {project.stack_config_dir}")
        return EXIT_OK
    width = max(len(r[0]) for r in rows)
    print(f"{'STACK':<{width}}  {'KIND':<10}  FILE")
    for name, kind, file in rows:
        print(f"{name:<{width}}  {kind:<10}  {file}")
    return EXIT_OK


def cmd_init(project: Project, args: argparse.Namespace) -> int:
    from components._validate import dns1123_label_problem
    from offline.init import starter

    name: str = args.name
    if (reason := dns1123_label_problem(name, 40)) is not None:
        return _invalid([f"--name: {reason} (it names the stack, the cluster and the backend)"])
    if name in REFERENCE_STACKS:
        return _invalid([f"--name: {name!r} is a reference stack of this project; pick another"])
    path = project.stack_file(name)
    if path.exists() and not args.force:
        return _invalid([f"{_shown(project, path)}: exists; pass --force to overwrite it"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        starter(args.kind, name, path.parent, project.dir, args.kubeconfig), encoding="utf-8"
    )
    print(f"wrote {_shown(project, path)} (kind {args.kind}); change the values marked CHANGE,")
    print(f"then: osmo-backend validate --stack {name} && osmo-backend plan --stack {name}")
    return EXIT_OK


def cmd_fleet_matrix(project: Project, stacks: Sequence[str]) -> int:
    """The selected stacks as one line of JSON for a CI matrix (`fromJSON` in GitHub Actions)."""
    files = dict(project.stacks())
    include = [
        {
            "stack": name,
            "kind": _kind(project, files[name]),
            "file": _shown(project, files[name]).as_posix(),
        }
        for name in stacks
    ]
    print(json.dumps({"include": include}, separators=(",", ":")))
    return EXIT_OK


def cmd_service_values(args: argparse.Namespace) -> int:
    import yaml

    from offline.service_values import (
        MergeConflict,
        choose_workflow_data,
        fragment_problem,
        merge,
        next_steps,
    )

    fragments: list[tuple[str, dict[str, object]]] = []
    problems: list[str] = []
    base: list[tuple[str, dict[str, object]]] = []
    inputs = [(args.values, True)] if args.values is not None else []
    for given, is_base in [*inputs, *((f, False) for f in args.fragments)]:
        path: Path = given / "osmo-service-values.yaml" if given.is_dir() else given
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError, UnicodeDecodeError) as err:
            problems.append(f"{path}: cannot be read as YAML ({type(err).__name__})")
            continue
        if doc is None:
            doc = {}
        reason = "must be a YAML mapping" if not isinstance(doc, dict) else None
        if reason is None and not is_base:
            reason = fragment_problem(doc)
        if reason is not None:
            problems.append(f"{path}: {reason}")
            continue
        (base if is_base else fragments).append((str(path), doc))  # pyright: ignore[reportUnknownArgumentType]
    if problems:
        return _invalid(problems)
    try:
        chosen, data_source = choose_workflow_data(fragments, args.workflow_data_from)
        merged = merge([*base, *chosen], hidden=frozenset(s for s, _ in base))
    except MergeConflict as err:
        return _invalid(err.problems)
    sources = [s for s, _ in [*base, *fragments]]
    header = "# OSMO service values merged from: " + ", ".join(sources) + "\n"
    text = header + yaml.safe_dump(merged, sort_keys=True, default_flow_style=False)
    if args.out is not None:
        args.out.write_text(text)
        print(f"wrote {args.out} ({len(fragments)} fragments)")
    else:
        sys.stdout.write(text)
    # Next steps on standard error: standard output may be the values file itself.
    for line in next_steps(merged, args.out, data_source, has_base=bool(base)):
        print(line, file=sys.stderr)
    return EXIT_OK


def _verify_parser(
    sub: Any,  # argparse's subparsers action (a private class)
    stack_args: Callable[[argparse.ArgumentParser], None],
) -> None:
    verify = sub.add_parser(
        "verify",
        help="check that a deployed backend is online and its GPUs schedulable",
        description="Check a deployed backend with the Kubernetes API: nodes of each role "
        "(Ready, labelled and tainted as the stack declares; pools at min 0 scale from zero), "
        "KAI, the GPU Operator and allocatable GPUs, the backend listener and worker, the token "
        "Secrets (compared by hash, never printed), and with --service-url the backend's status "
        "at the OSMO service. The kubeconfig: --kubeconfig, the stack's own (kind existing), or "
        "the stack's secret output through the Pulumi CLI.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_help(
            [
                "osmo-backend verify --stack east",
                "osmo-backend verify --stack east --wait 15m --json   # in CI, after `up`",
                "osmo-backend verify --stack lab --kubeconfig ~/.kube/lab.yaml --context admin",
                "OSMO_TOKEN=... osmo-backend verify --stack east --service-url https://osmo.example.com",
            ],
            "exit codes: 0 every check passes; 1 a check fails; 2 invalid input (a stack file, "
            "config or option: one `path: reason` line each on stderr)",
        ),
    )
    stack_args(verify)
    verify.add_argument("--kubeconfig", type=Path, help="kubeconfig file (default: the stack's)")
    verify.add_argument("--context", help="kubeconfig context (default: its current one)")
    verify.add_argument(
        "--service-url", help="also ask this OSMO service whether the backend is online"
    )
    verify.add_argument(
        "--osmo-token-env",
        default="OSMO_TOKEN",
        metavar="VAR",
        help="environment variable holding the OSMO access token for --service-url "
        "(default OSMO_TOKEN)",
    )
    verify.add_argument("--wait", help="poll until every check passes or this deadline (15m)")
    verify.add_argument("--interval", default="10s", help="with --wait: time between rounds")
    verify.add_argument("--json", action="store_true", help="one JSON document on stdout")


def _access_parser(
    sub: Any,  # argparse's subparsers action (a private class)
    stack_args: Callable[[argparse.ArgumentParser], None],
) -> None:
    access = sub.add_parser(
        "control-plane-access",
        help="the least-privilege Role for osmo.controlPlane, and a kubeconfig for it",
        description="manifest: print the ServiceAccount, Role and RoleBinding that let this "
        "stack write its two Secrets in the OSMO service namespace and nothing else (apply it on "
        "the control-plane cluster). kubeconfig: mint a short-lived token for that "
        "ServiceAccount with kubectl (your current context must reach the control plane) and "
        "write a kubeconfig holding only it (mode 0600) for osmo.controlPlane.kubeconfig.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_help(
            [
                "osmo-backend control-plane-access manifest --stack east | kubectl apply -f -",
                "osmo-backend control-plane-access kubeconfig --stack east --out cp.yaml "
                "--duration 2h",
                "osmo-backend control-plane-access manifest --stack east --for-destroy   # "
                "before pulumi destroy",
            ]
        ),
    )
    access.add_argument("action", choices=["manifest", "kubeconfig"])
    stack_args(access)
    access.add_argument(
        "--for-destroy",
        action="store_true",
        help="manifest: also list/watch on Secrets, which deleting them needs (bind only then)",
    )
    access.add_argument("--out", type=Path, help="kubeconfig: the file to write (required)")
    access.add_argument("--duration", default="1h", help="kubeconfig: token lifetime (1h)")
    access.add_argument("--kubeconfig", help="kubeconfig: kubectl's kubeconfig (an admin's)")
    access.add_argument("--context", help="kubeconfig: kubectl's context on the control plane")


def cmd_control_plane_access(
    project: Project, args: argparse.Namespace, run: Callable[[Sequence[str]], str] | None = None
) -> int:
    from offline import control_plane_access as cpa

    _name, path = _stack(project, args)
    _config, spec = _load(project, path)
    try:
        access = cpa.access_for(spec)
    except cpa.AccessError as err:
        return _invalid([str(err)])
    if args.action == "manifest":
        sys.stdout.write(cpa.manifest(access, for_destroy=args.for_destroy))
        return EXIT_OK
    if args.out is None:
        return _invalid(["--out: required for kubeconfig (the file the kubeconfig goes to)"])
    try:
        text = cpa.mint_kubeconfig(
            access,
            run or cpa.run_command,
            duration=args.duration,
            kubeconfig=args.kubeconfig,
            context=args.context,
        )
    except cpa.AccessError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_FAILED
    out: Path = args.out
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(out, 0o600)
    print(f"wrote {out} (ServiceAccount {access.service_account}, expires in {args.duration})")
    print(
        "use it as osmo.controlPlane.kubeconfig, or: pulumi config set --secret "
        f"controlPlaneKubeconfig < {out}; `pulumi destroy --run-program` re-reads it"
    )
    return EXIT_OK


def cmd_verify(project: Project, args: argparse.Namespace) -> int:
    from offline import verify_command as vc

    name, path = _stack(project, args)
    options = vc.Options(
        kubeconfig=args.kubeconfig,
        context=args.context,
        service_url=args.service_url,
        token_env=args.osmo_token_env,
        wait=args.wait,
        interval=args.interval,
    )
    try:
        target = vc.prepare(project, name, path, options, vc.default_source(project))
    except vc.BadInput as err:
        return _invalid(err.problems)
    progress = vc.print_err if args.json else vc.print_out
    report = vc.run(target, as_json=args.json, out=print, progress=progress)
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_fleet(
    project: Project, args: argparse.Namespace, runner: fleet.StackRunner | None = None
) -> int:
    try:
        stacks = fleet.select([name for name, _ in project.stacks()], args.stacks)
    except fleet.SelectionError as err:
        return _invalid([str(err)])
    if args.operation == "matrix":
        return cmd_fleet_matrix(project, stacks)
    if args.concurrency < 1:
        return _invalid([f"--concurrency: must be at least 1, got {args.concurrency}"])
    if args.operation == "verify":
        from offline import verify_command

        options = verify_command.Options(wait=getattr(args, "wait", None))
        source = verify_command.default_source(project)
        runner = runner or verify_command.VerifyRunner(project, options, source)
    elif getattr(args, "wait", None) is not None:
        return _invalid(["--wait: only for fleet verify"])
    if args.operation not in ("preview", "verify") and not args.yes:
        return _invalid([f"fleet {args.operation} changes real clusters: add --yes to proceed"])
    if runner is None:
        if shutil.which("pulumi") is None:
            print(
                f"the Pulumi CLI is not installed; install it from {fleet.PULUMI_INSTALL} "
                "(or run `osmo-backend plan` offline)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        runner = fleet.AutomationRunner(project.dir)
    logs: Path = args.logs or project.dir / "build" / "fleet" / args.operation
    print(f"fleet {args.operation}: {len(stacks)} stacks, {args.concurrency} at a time")
    results = fleet.run_fleet(
        stacks,
        args.operation,
        runner,
        concurrency=args.concurrency,
        log_dir=logs,
        progress=lambda line: print(line, flush=True),
    )
    print()
    for line in fleet.summary(results):
        print(line)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run as a program (`argv` None), `plan` runs as a batch job: no cyclic garbage collector
    (see engine.run), and it exits right after flushing its output, skipping the interpreter's
    teardown of the SDK modules (measured 0.3-0.9 s per plan; nothing of the plan's is left to
    flush: its files are closed when written). Called with `argv`, it returns the exit code."""
    args = _parser().parse_args(argv)
    batch = argv is None and args.command == "plan"
    if batch:
        gc.disable()
    status = _run(args)
    if batch:
        _exit_now(status)
    return status


def _exit_now(status: int) -> NoReturn:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        status = EXIT_FAILED
    os._exit(status)


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "service-values":
            return cmd_service_values(args)
        project = find_project(args.project_dir)
        command = {
            "plan": cmd_plan,
            "validate": cmd_validate,
            "stacks": cmd_stacks,
            "init": cmd_init,
            "fleet": cmd_fleet,
            "verify": cmd_verify,
            "control-plane-access": cmd_control_plane_access,
        }[args.command]
        return command(project, args)
    except BrokenPipeError:
        # The reader went away (`osmo-backend plan | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except StackFileError as err:
        return _invalid([str(err)])
    except ConfigError as err:
        return _invalid(err.problems)


if __name__ == "__main__":
    sys.exit(main())
