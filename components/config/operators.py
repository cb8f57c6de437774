"""`osmo-backend:operators`: KAI scheduler, GPU Operator and backend-operator releases."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components import chart_keys, versions
from components._validate import (
    Problems,
    expect_dns_label,
    expect_mapping,
    expect_str,
    release_name_problem,
    show,
)
from components.config._common import PROJECT, decode, section


@dataclass(frozen=True)
class ReleaseSpec:
    release_name: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict[str, Any])
    """User overrides, deep-merged last (checked against the chart's keys)."""


@dataclass(frozen=True)
class OperatorsSpec:
    kai_scheduler: ReleaseSpec
    gpu_operator: ReleaseSpec | None
    """None when the cluster already runs a GPU stack (DGX/NVAIE)."""
    runtime_class_stub: bool
    """With the GPU Operator off: create the `nvidia` RuntimeClass (handler runc) that older
    OSMO pod templates name."""
    backend_operator: ReleaseSpec
    backend_operator_wait: bool = False
    """Wait for the backend-operator pods; they stay unready until the service accepts the
    token, so the default does not wait."""


_RELEASE_KEYS = ("releaseName", "namespace", "values")


def parse_operators(problems: Problems, value: Any) -> OperatorsSpec | None:
    path = f"{PROJECT}:operators"
    body = section(
        problems,
        path,
        decode(problems, path, value),
        ("kaiScheduler", "gpuOperator", "backendOperator"),
    )
    if body is None:
        return None
    kai = _release(
        problems,
        f"{path}.kaiScheduler",
        body.get("kaiScheduler"),
        "kai-scheduler",
        versions.KAI_SCHEDULER,
        extra=(),
    )
    gpu_body = body.get("gpuOperator") or {}
    gpu = _release(
        problems,
        f"{path}.gpuOperator",
        gpu_body,
        "gpu-operator",
        versions.GPU_OPERATOR,
        extra=("enabled", "runtimeClassStub"),
    )
    bo_body = body.get("backendOperator") or {}
    backend = _release(
        problems,
        f"{path}.backendOperator",
        bo_body,
        "osmo-operator",
        versions.BACKEND_OPERATOR,
        extra=("wait",),
        namespace_from_osmo=True,
    )
    flags: dict[str, bool] = {}
    for key, given, default in (
        ("enabled", gpu_body, True),
        ("runtimeClassStub", gpu_body, True),
        ("wait", bo_body, False),
    ):
        raw = given.get(key, default) if isinstance(given, Mapping) else default
        if not isinstance(raw, bool):
            problems.add(
                f"{path}.{'backendOperator' if key == 'wait' else 'gpuOperator'}.{key}",
                f"must be true or false, got {show(raw)}",
            )
            return None
        flags[key] = raw
    if kai is None or gpu is None or backend is None:
        return None
    return OperatorsSpec(
        kai_scheduler=kai,
        gpu_operator=gpu if flags["enabled"] else None,
        runtime_class_stub=flags["runtimeClassStub"],
        backend_operator=backend,
        backend_operator_wait=flags["wait"],
    )


def _release(
    problems: Problems,
    path: str,
    value: Any,
    default_name: str,
    chart: versions.Chart,
    *,
    extra: tuple[str, ...],
    namespace_from_osmo: bool = False,
) -> ReleaseSpec | None:
    allowed = [k for k in _RELEASE_KEYS if not (namespace_from_osmo and k == "namespace")]
    body = section(problems, path, value, (*allowed, *extra))
    if body is None:
        return None
    ok = True
    name = body.get("releaseName", default_name)
    if expect_str(problems, f"{path}.releaseName", name) is None:
        ok = False
    elif (reason := release_name_problem(name)) is not None:
        problems.add(f"{path}.releaseName", reason)
        ok = False
    namespace: str | None = ""
    if not namespace_from_osmo:
        namespace = expect_dns_label(
            problems, f"{path}.namespace", body.get("namespace", default_name)
        )
        ok = ok and namespace is not None
    overrides = body.get("values", {})
    if expect_mapping(problems, f"{path}.values", overrides) is None:
        return None
    index = chart_keys.load(versions.name_of(chart), chart.version)
    for bad in chart_keys.unknown_keys(index, overrides):
        problems.add(
            f"{path}.values.{bad}",
            f"the {index['chart']} chart {chart.version} does not read this key "
            f"(see {chart.source})",
        )
        ok = False
    if not ok or namespace is None:
        return None
    return ReleaseSpec(release_name=name, namespace=namespace, values=dict(overrides))
