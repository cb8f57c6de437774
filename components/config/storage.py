"""`osmo-backend:storage`: the StorageClass for in-cluster state and the workflow data bucket."""

import dataclasses
import re
from collections.abc import Mapping
from functools import cached_property
from typing import Annotated, Any, Literal, Self, cast
from urllib.parse import urlparse

from pydantic import Field, PrivateAttr, ValidationInfo, field_validator, model_validator

from components._validate import (
    DNS1123_LABEL,
    Problems,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    show,
)
from components.config._model import (
    PROJECT,
    Check,
    Ctx,
    DnsSubdomain,
    Flag,
    Generation,
    Model,
    Reasons,
    ctx,
    fail,
    like,
    matching,
    one_of,
    section,
    url,
)

AddressingStyle = Literal["virtual", "path", "auto"]
ACCESS_KEY_ID_KEY = f"{PROJECT}:storageAccessKeyId"
SECRET_ACCESS_KEY_KEY = f"{PROJECT}:storageSecretAccessKey"
_KEYS = (ACCESS_KEY_ID_KEY, SECRET_ACCESS_KEY_KEY)
DATA_CREDENTIAL_SECRET = "osmo-workflow-data-cred"
"""The Secret name OSMO's scripts and docs use for the workflow data bucket credential."""


def data_credential_secret(backend: str) -> str:
    """The workflow data credential's Secret in the service namespace, one per backend: several
    backends share that namespace, and one fixed name would make each stack overwrite (and its
    destroy delete) another's credential. A backend name is a DNS label (at most 63), so the name
    stays a valid Secret name (a DNS subdomain, at most 253) without shortening."""
    return f"{DATA_CREDENTIAL_SECRET}-{backend}"


def bucket_host(uri: str, region: str) -> str:
    """The HTTPS host of a bucket URI's cloud store: S3 (virtual-hosted, regional), GCS, or the
    Azure storage account's Blob endpoint."""
    parsed = urlparse(uri)
    if parsed.scheme == "gs":
        return "storage.googleapis.com"
    if parsed.scheme == "azure":
        return f"{parsed.netloc}.blob.core.windows.net"
    return f"{parsed.netloc}.s3.{region}.amazonaws.com"


BUCKET_SUFFIX_LENGTH = 6
"""Characters of a bucket's random suffix (lowercase letters and digits, valid in every store's
names): `random.RandomString(length=BUCKET_SUFFIX_LENGTH, special=False, upper=False)`."""


def suffixed_bucket_name(cluster_kind: str, name: str, suffix: str) -> str:
    """The bucket (storage account) name with its random suffix: S3 and GCS join with '-', Azure
    storage account names take letters and digits only."""
    return f"{name}{suffix}" if cluster_kind == "aks" else f"{name}-{suffix}"


# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_AZURE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_AZURE_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_QUANTITY = re.compile(r"^[1-9]\d*(Mi|Gi|Ti)$")
_REGION = re.compile(r"^[a-z0-9-]{2,32}$")
_BUCKET_RULES = {
    "eks": (_BUCKET, "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'"),
    "gke": (_GCS_BUCKET, "a GCS bucket name: 3-63 lowercase letters, digits, '.', '_' and '-'"),
    "aks": (_AZURE_ACCOUNT, "a storage account name: 3-24 lowercase letters and digits"),
}


_LABEL = like(
    lambda v: dns1123_label_problem(v) is None,
    "a DNS-1123 label",
    (("pattern", DNS1123_LABEL.pattern),),
)
_HOST = like(lambda v: dns1123_subdomain_problem(v) is None, "a host name")


def _bucket_uri(value: Any) -> str:
    """OSMO's URI formats, each checked against its store's naming rules."""
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme not in ("s3", "gs", "azure") or not parsed.netloc:
        raise fail(
            f"{show(value)} must be an s3://<bucket>[/prefix], gs://<bucket>[/prefix] or "
            "azure://<account>/<container> URI"
        )
    host = parsed.netloc
    if parsed.scheme == "azure":
        container = parsed.path.strip("/").split("/")[0]
        if not _AZURE_ACCOUNT.match(host) or not _AZURE_CONTAINER.match(container):
            raise fail(
                f"{show(value)} needs a storage account (3-24 lowercase letters and digits) and a "
                "container (3-63 lowercase letters, digits and '-')"
            )
    elif parsed.scheme == "gs" and not _GCS_BUCKET.match(host):
        raise fail(
            f"bucket {host!r} breaks GCS naming rules: 3-63 lowercase letters, digits, '.', '_' "
            "and '-', starting and ending with a letter or digit"
        )
    elif parsed.scheme == "s3" and not _BUCKET.match(host):
        raise fail(
            f"bucket {host!r} breaks S3 naming rules: 3-63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    return cast(str, value).rstrip("/")


_ALSO_LOGS = "Use it for workflow_log and workflow_app too (OSMO's logs API needs them)."
AlsoForLogs = Annotated[Flag, Field(alias="alsoForLogs", description=_ALSO_LOGS)]


class WorkflowDataSpec(Model):
    """An S3-compatible bucket for OSMO's workflow data (task specs, data between groups), with
    the static keys of the secrets storageAccessKeyId and storageSecretAccessKey."""

    uri: Annotated[str, Check(_bucket_uri)]
    """s3://<bucket>[/prefix], gs://<bucket>[/prefix] or azure://<account>/<container>"""
    endpoint: Annotated[str, url("https", "http")] | None = None
    """S3-compatible service URL (`override_url`). Default: AWS S3 itself."""
    region: Annotated[str, like(_REGION, "a region name like us-east-1")] = "us-east-1"
    """Region."""
    addressing_style: Annotated[AddressingStyle, one_of(AddressingStyle)] | None = None
    """Addressing style."""
    also_logs: AlsoForLogs = True
    _keys: tuple[Any, Any] = PrivateAttr((None, None))

    @field_validator("endpoint", mode="before")
    @classmethod
    def _s3_only(cls, value: Any, info: ValidationInfo) -> Any:
        uri = info.data.get("uri")
        if value is not None and uri is not None and not uri.startswith("s3://"):
            raise fail("only applies to s3:// buckets (S3-compatible stores)")
        return value

    @model_validator(mode="after")
    def _read_keys(self, info: ValidationInfo) -> Self:
        raw = ctx(info).raw
        self._keys = (raw.get(_KEYS[0]), raw.get(_KEYS[1]))
        return self

    @property
    def access_key_id(self) -> str | None:
        return self._keys[0]

    @property
    def secret_access_key(self) -> str | None:
        return self._keys[1]


class BucketSpec(Model):
    """A workflow data bucket the stack creates in the cluster's cloud (eks, gke, aks), reached
    by workflow pods through workload identity (no static keys)."""

    name: str
    """S3/GCS bucket name; on AKS the storage account name."""
    container: str = "osmo-workflows"
    """AKS: the blob container."""
    versioning: Flag = True
    """Object versioning."""
    retain_on_delete: Flag = True
    """Keep the bucket (and its data) on pulumi destroy."""
    service_account: Annotated[str, _LABEL] = "osmo-workflow"
    """Workflow pods' ServiceAccount bound to the bucket's identity."""
    also_logs: AlsoForLogs = True
    key_generation: Generation = 0
    """Bump to issue a new bucket-scoped key for OSMO and update its Secret (rotation)."""
    random_suffix: Flag = False
    """Append a random suffix, kept in state, to the globally unique name (S3 and GCS:
    `<name>-<suffix>`, AKS: `<name><suffix>`): a name taken elsewhere, or kept by a retained
    bucket, cannot block a deployment."""

    @field_validator("name", "container", mode="before")
    @classmethod
    def _by_kind(cls, value: Any, info: ValidationInfo) -> Any:
        kind = ctx(info).cluster_kind
        if kind not in _BUCKET_RULES:
            return value  # the bucket is refused as a whole (StorageSpec)
        if info.field_name == "container":
            if kind != "aks":
                raise fail("only applies on aks (a blob container)")
            return like(_AZURE_CONTAINER, "a blob container name").check(value)
        rule, what = _BUCKET_RULES[kind]
        if not isinstance(value, str) or not rule.match(value) or ".." in value:
            raise fail(f"{show(value)} is not {what}")
        if kind == "gke" and (value.startswith("goog") or "google" in value):
            raise fail(f"{value!r}: GCS bucket names cannot contain 'google' or start with 'goog'")
        return value

    @model_validator(mode="after")
    def _suffixed(self, info: ValidationInfo) -> Self:
        kind = ctx(info).cluster_kind
        rule, what = _BUCKET_RULES.get(kind, (None, ""))
        derived = suffixed_bucket_name(kind, self.name, "x" * BUCKET_SUFFIX_LENGTH)
        if self.random_suffix and rule and not rule.match(derived):
            reasons = Reasons()
            reasons.add(
                "name",
                f"{self.name!r} with its random suffix ({derived!r}, the suffix adds "
                f"{len(derived) - len(self.name)} characters) is not {what}",
            )
            reasons.check()
        return self


class ObjectStoreSpec(Model):
    """A lab object store (one MinIO server) on an existing cluster."""

    bucket: Annotated[str, like(_BUCKET, "an S3 bucket name")]
    """The workflow data bucket it holds."""
    storage_size: Annotated[str, matching(_QUANTITY, "a size like 50Gi")] = "50Gi"
    """Its volume size."""
    storage_class: DnsSubdomain | None = None
    """Its volume's StorageClass. Default: the cluster's default."""
    namespace: Annotated[str, _LABEL] = "osmo-object-store"
    """Its namespace."""
    ingress_host: Annotated[str, _HOST] | None = None
    """Host the OSMO service reaches it at through networking.ingress. Default: the in-cluster
    address (the service must run in this cluster)."""
    also_logs: AlsoForLogs = True

    @cached_property
    def tls(self) -> bool:
        """The ingress controller serves `ingress_host` over TLS: OSMO gets an https URL. Not a
        key: load_spec sets it from networking.ingress.tls (`model_copy(update={"tls": ...})`)."""
        return False

    @property
    def in_cluster_url(self) -> str:
        return f"http://object-store.{self.namespace}.svc.cluster.local:9000"

    @property
    def url(self) -> str:
        """The address OSMO hands the service and workflow pods."""
        if not self.ingress_host:
            return self.in_cluster_url
        return f"{'https' if self.tls else 'http'}://{self.ingress_host}"


class StorageSpec(Model):
    """Storage."""

    storage_class: DnsSubdomain | None = None
    """StorageClass for in-cluster state (Prometheus, Loki). Default: the cluster's default."""
    workflow_data: WorkflowDataSpec | None = None
    """An S3-compatible bucket you bring for OSMO's workflow data."""
    bucket: BucketSpec | None = None
    """A workflow data bucket this stack creates in the cluster's cloud (eks, gke, aks)."""
    object_store: ObjectStoreSpec | None = None
    """A lab object store (one MinIO server) on an existing cluster."""

    @model_validator(mode="before")
    @classmethod
    def _one_store(cls, data: Any) -> Any:
        body = cast(Mapping[str, Any], data) if isinstance(data, Mapping) else {}
        given = [k for k in ("workflowData", "bucket", "objectStore") if body.get(k) is not None]
        if len(given) > 1:
            raise fail(f"set one workflow data store, not {' and '.join(given)}")
        return data

    @model_validator(mode="after")
    def _fits_the_cluster(self, info: ValidationInfo) -> Self:
        kind, raw, reasons = ctx(info).cluster_kind, ctx(info).raw, Reasons()
        if self.bucket is not None and kind not in _BUCKET_RULES:
            reasons.add(
                "bucket",
                "the stack creates buckets in the cluster's cloud (eks, gke, aks); on an existing "
                "cluster use storage.workflowData with an S3-compatible endpoint",
            )
        if self.object_store is not None and kind != "existing":
            reasons.add(
                "objectStore",
                "is for labs on an existing cluster; cloud clusters use storage.bucket (workload "
                "identity, no keys)",
            )
        data = self.workflow_data
        if data is not None and None in (data.access_key_id, data.secret_access_key):
            reasons.add(
                "workflowData",
                f"needs static credentials on this cluster kind: set the secrets "
                f"{ACCESS_KEY_ID_KEY} and {SECRET_ACCESS_KEY_KEY} (pulumi config set --secret ...)",
            )
        if data is None and any(raw.get(k) is not None for k in _KEYS):
            reasons.add("", "storage credentials are set but storage.workflowData is not")
        reasons.check()
        return self


def parse_storage(
    problems: Problems, value: Any, context: Ctx, cluster_kind: str
) -> StorageSpec | None:
    """`cluster_kind`: the kind the cluster section names, even when that section is invalid."""
    context = dataclasses.replace(context, cluster_kind=cluster_kind)
    return section(problems, "storage", StorageSpec, value, context)
