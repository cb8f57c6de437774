"""`osmo-backend`: plan, validate and list stacks without the Pulumi CLI or a cloud account.

Exit codes: 0 success; 2 invalid stack config or stack file (one `path: reason` line each on
stderr, no traceback); 1 the program or the offline engine failed.
"""

import argparse
import json
import os
import runpy
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from components.config import ConfigError, StackSpec, load_spec
from offline import fleet
from offline.stackfile import Project, StackConfig, StackFileError, find_project, load_stack_config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="osmo-backend",
        description="Offline tools for the osmo-backend Pulumi project (no Pulumi CLI needed).",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=Path.cwd(),
        help="directory holding Pulumi.yaml, or below it (default: the current directory)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def stack_args(p: argparse.ArgumentParser) -> None:
        which = p.add_mutually_exclusive_group(required=True)
        which.add_argument("--stack", help="stack name: reads <stackConfigDir>/Pulumi.NAME.yaml")
        which.add_argument("--config-file", type=Path, help="any stack config file")

    plan = sub.add_parser("plan", help="run the program against a recording engine; write the plan")
    stack_args(plan)
    plan.add_argument("--out", type=Path, help="output directory (default: build/plan/NAME)")
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
    validate = sub.add_parser("validate", help="check a stack's config only")
    stack_args(validate)
    sub.add_parser("stacks", help="list the stack files and their cluster kind")
    fleet = sub.add_parser(
        "fleet",
        help="preview, up or destroy several stacks with the Pulumi CLI (Automation API)",
    )
    fleet.add_argument("operation", choices=["preview", "up", "destroy"])
    fleet.add_argument(
        "--stack",
        action="append",
        default=[],
        dest="stacks",
        help="stack name or glob (repeatable); default: every stack file",
    )
    fleet.add_argument("--concurrency", type=int, default=4, help="stacks at once (default 4)")
    fleet.add_argument("--logs", type=Path, help="log directory (default: build/fleet/OPERATION)")
    fleet.add_argument(
        "--yes", action="store_true", help="required for up and destroy: they change real clusters"
    )
    merge = sub.add_parser(
        "service-values",
        help="merge several backends' osmo-service-values.yaml into one OSMO service values file",
    )
    merge.add_argument(
        "fragments",
        nargs="+",
        type=Path,
        help="osmo-service-values.yaml files, or plan directories holding one",
    )
    merge.add_argument("--out", type=Path, help="write here instead of standard output")
    return parser


def _stack(project: Project, args: argparse.Namespace) -> tuple[str, Path]:
    if args.stack is not None:
        return args.stack, project.stack_file(args.stack)
    path: Path = args.config_file.resolve()
    name = path.name
    if name.startswith("Pulumi.") and name.endswith(".yaml"):
        name = name[len("Pulumi.") : -len(".yaml")]
    return name, path


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


def cmd_plan(project: Project, args: argparse.Namespace) -> int:
    from components import policy
    from offline import engine, plan

    name, path = _stack(project, args)
    config, spec = _load(project, path)
    from offline import estimate

    try:
        weights = estimate.load_weights(args.weights) if args.weights else estimate.DEFAULT_WEIGHTS
    except estimate.WeightsError as err:
        return _invalid(err.problems)
    out: Path = args.out if args.out is not None else project.dir / "build" / "plan" / name
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
        print(finding.line(), file=sys.stderr if finding in failing else sys.stdout)
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


def cmd_stacks(project: Project, _args: argparse.Namespace) -> int:
    rows: list[tuple[str, str, str]] = []
    for name, path in project.stacks():
        try:
            config = load_stack_config(project, path)
            raw = config.values.get(f"{project.name}:cluster")
            kind = str(json.loads(raw).get("kind", "?")) if raw else "?"
        except (StackFileError, ValueError, AttributeError):
            kind = "unreadable"
        rows.append((name, kind, str(path.relative_to(project.dir))))
    if not rows:
        print(f"no stack files in {project.stack_config_dir}")
        return EXIT_OK
    width = max(len(r[0]) for r in rows)
    print(f"{'STACK':<{width}}  {'KIND':<10}  FILE")
    for name, kind, file in rows:
        print(f"{name:<{width}}  {kind:<10}  {file}")
    return EXIT_OK


def cmd_service_values(args: argparse.Namespace) -> int:
    import yaml

    from offline.service_values import MergeConflict, merge

    fragments: list[tuple[str, dict[str, object]]] = []
    problems: list[str] = []
    for given in args.fragments:
        path: Path = given / "osmo-service-values.yaml" if given.is_dir() else given
        try:
            doc = yaml.safe_load(path.read_text())
        except (OSError, yaml.YAMLError) as err:
            problems.append(f"{path}: cannot be read as YAML ({type(err).__name__})")
            continue
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            problems.append(f"{path}: must be a YAML mapping")
            continue
        fragments.append((str(path), doc))  # pyright: ignore[reportUnknownArgumentType]
    if problems:
        return _invalid(problems)
    try:
        merged = merge(fragments)
    except MergeConflict as err:
        return _invalid(err.problems)
    header = "# OSMO service values merged from: " + ", ".join(s for s, _ in fragments) + "\n"
    text = header + yaml.safe_dump(merged, sort_keys=True, default_flow_style=False)
    if args.out is not None:
        args.out.write_text(text)
        print(f"wrote {args.out} ({len(fragments)} fragments)")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_fleet(
    project: Project, args: argparse.Namespace, runner: fleet.StackRunner | None = None
) -> int:
    try:
        stacks = fleet.select([name for name, _ in project.stacks()], args.stacks)
    except fleet.SelectionError as err:
        return _invalid([str(err)])
    if args.concurrency < 1:
        return _invalid([f"--concurrency: must be at least 1, got {args.concurrency}"])
    if args.operation != "preview" and not args.yes:
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
    args = _parser().parse_args(argv)
    try:
        if args.command == "service-values":
            return cmd_service_values(args)
        project = find_project(args.project_dir)
        command = {
            "plan": cmd_plan,
            "validate": cmd_validate,
            "stacks": cmd_stacks,
            "fleet": cmd_fleet,
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
