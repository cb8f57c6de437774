"""Security checks over the resources a stack registers (the records the offline engine writes).

Pure functions: each takes one resource record (`type`, `name`, `urn`, `provider`, masked
`inputs`) and returns findings. `osmo-backend plan` runs them on every plan and fails (exit 2) on
an error unless the stack lists the check id under `osmo-backend:policy.allow`, which the plan
prints. The benchmark ids are CIS Amazon EKS Benchmark v1.8.0 section 4 (the Kubernetes-object
policies read the same in the GKE and AKS benchmarks) and Checkov 3.x where one exists; a check
with neither is this project's own rule (DESIGN section 7).
"""

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from components._psa import PRIVILEGED_NAMESPACES, PSA_EXCEPTION_LABEL
from components.versions import EXACT_VERSION

Severity = Literal["error", "warning"]
CIS = "CIS Amazon EKS Benchmark v1.8.0"
_SECRET = "[secret]"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    cis: str | None
    checkov: str | None
    fix: str


@dataclass(frozen=True)
class Finding:
    check: Check
    urn: str
    message: str

    def line(self) -> str:
        refs = ", ".join(
            ref
            for ref in (
                f"{CIS} {self.check.cis}" if self.check.cis else None,
                self.check.checkov,
            )
            if ref
        )
        where = f" [{refs}]" if refs else ""
        return (
            f"{self.check.severity} {self.check.id} {self.urn}: {self.message}{where}. "
            f"Fix: {self.check.fix}"
        )


Record = Mapping[str, Any]
Validator = Callable[[Record], Iterable[str]]

PSA_ENFORCE = Check(
    "OSMO-K8S-001",
    "Namespaces enforce a Pod Security Standard",
    "error",
    "4.2",
    None,
    "create namespaces through components._namespaces.namespace",
)
PSA_PRIVILEGED = Check(
    "OSMO-K8S-002",
    "`privileged` only for the documented exceptions",
    "error",
    "4.2.1",
    None,
    f"run the workload under baseline, or add its role to PRIVILEGED_NAMESPACES "
    f"({', '.join(sorted(PRIVILEGED_NAMESPACES))}) with the reason",
)
CLUSTER_ADMIN = Check(
    "OSMO-K8S-003",
    "No binding to cluster-admin",
    "error",
    "4.1.1",
    "CKV_K8S_49",
    "bind a narrower role (for example the built-in `view` or `edit`)",
)
DEFAULT_NAMESPACE = Check(
    "OSMO-K8S-004",
    "Nothing in the `default` namespace",
    "error",
    "4.5.2",
    "CKV_K8S_21",
    "give the object its own namespace",
)
SECRET_DATA = Check(
    "OSMO-K8S-005",
    "Secret data is a Pulumi secret",
    "error",
    None,
    None,
    "wrap the data in pulumi.Output.secret (or take it from a secret config key)",
)
HELM_PINNED = Check(
    "OSMO-HELM-001",
    "Helm releases are pinned and named, with cleanup and a timeout",
    "error",
    None,
    None,
    "create releases through components._helm.release with a version from versions.py",
)
IMAGE_TAG = Check(
    "OSMO-IMG-001",
    "No floating `latest` image tag",
    "error",
    None,
    "CKV_K8S_14",
    "pin the tag to a version",
)
EXPLICIT_PROVIDER = Check(
    "OSMO-PULUMI-001",
    "Kubernetes resources use the stack's provider",
    "error",
    None,
    None,
    "pass the cluster's provider (parent the resource to a component that has it)",
)

CHECKS = (
    PSA_ENFORCE,
    PSA_PRIVILEGED,
    CLUSTER_ADMIN,
    DEFAULT_NAMESPACE,
    SECRET_DATA,
    HELM_PINNED,
    IMAGE_TAG,
    EXPLICIT_PROVIDER,
)


def _metadata(record: Record) -> Mapping[str, Any]:
    metadata = record.get("inputs", {}).get("metadata", {})
    return metadata if isinstance(metadata, Mapping) else {}


def _namespace_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"] != "kubernetes:core/v1:Namespace":
        return
    labels = _metadata(record).get("labels", {}) or {}
    enforce = labels.get("pod-security.kubernetes.io/enforce")
    if enforce not in ("baseline", "restricted", "privileged"):
        yield (
            PSA_ENFORCE,
            f"namespace has no pod-security.kubernetes.io/enforce label ({enforce!r})",
        )
    elif enforce == "privileged":
        role = labels.get(PSA_EXCEPTION_LABEL)
        if role not in PRIVILEGED_NAMESPACES:
            yield PSA_PRIVILEGED, f"privileged namespace without a documented exception ({role!r})"


def _binding_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if not record["type"].startswith("kubernetes:rbac.authorization.k8s.io/"):
        return
    if not record["type"].endswith(("RoleBinding",)):
        return
    role_ref = record.get("inputs", {}).get("roleRef", {}) or {}
    if role_ref.get("name") == "cluster-admin":
        yield CLUSTER_ADMIN, "binds cluster-admin"


def _namespace_of(record: Record) -> Any:
    if record["type"] == "kubernetes:helm.sh/v3:Release":
        return record.get("inputs", {}).get("namespace")
    return _metadata(record).get("namespace")


def _default_namespace_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"].startswith("kubernetes:") and _namespace_of(record) == "default":
        yield DEFAULT_NAMESPACE, "is in the default namespace"


def _secret_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"] != "kubernetes:core/v1:Secret":
        return
    inputs = record.get("inputs", {})
    for field in ("data", "stringData"):
        value = inputs.get(field)
        if value is None or value == _SECRET:
            continue
        if isinstance(value, Mapping) and all(v == _SECRET for v in value.values()):
            continue
        yield SECRET_DATA, f"{field} is not secret"


def _walk_tags(values: Any, path: str = "") -> Iterable[tuple[str, Any]]:
    if isinstance(values, Mapping):
        for key, value in values.items():
            here = f"{path}.{key}" if path else str(key)
            if re.fullmatch(r"(?i).*tag", str(key)) and not isinstance(value, Mapping | list):
                yield here, value
            yield from _walk_tags(value, here)


def _helm_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"] != "kubernetes:helm.sh/v3:Release":
        return
    inputs = record.get("inputs", {})
    version = inputs.get("version")
    problems = []
    if not inputs.get("name"):
        problems.append("no explicit release name")
    if not isinstance(version, str) or not EXACT_VERSION.match(version):
        problems.append(f"version {version!r} is not an exact SemVer")
    if inputs.get("cleanupOnFail") is not True:
        problems.append("cleanupOnFail is not set")
    timeout = inputs.get("timeout")
    if not isinstance(timeout, int | float) or timeout <= 0:
        problems.append("no explicit timeout")
    if problems:
        yield HELM_PINNED, "; ".join(problems)
    for path, tag in _walk_tags(inputs.get("values", {})):
        if isinstance(tag, str) and tag.lower() in ("latest", "main", "master"):
            yield IMAGE_TAG, f"values.{path} is {tag!r}"


def _provider_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if (
        record["type"].startswith("kubernetes:")
        and record.get("custom")
        and not record.get("provider")
    ):
        yield EXPLICIT_PROVIDER, "has no explicit provider"


_RULES = (
    _namespace_checks,
    _binding_checks,
    _default_namespace_checks,
    _secret_checks,
    _helm_checks,
    _provider_checks,
)


def evaluate(records: Iterable[Record]) -> list[Finding]:
    """Every finding over `records`, in record order then rule order."""
    return [
        Finding(check, record["urn"], message)
        for record in records
        for rule in _RULES
        for check, message in rule(record)
    ]


def blocking(findings: Iterable[Finding], allowed: Iterable[str]) -> list[Finding]:
    """Errors the stack has not explicitly allowed."""
    allow = set(allowed)
    return [f for f in findings if f.check.severity == "error" and f.check.id not in allow]
