"""`osmo-backend:storage`: the StorageClass for in-cluster state and the workflow data bucket."""

import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args
from urllib.parse import urlparse

from components._validate import (
    Problems,
    dns1123_label_problem,
    dns1123_subdomain_problem,
    show,
)
from components.config._common import (
    PROJECT,
    absolute_url,
    decode,
    flag,
    pattern,
    section,
    subdomain,
)

AddressingStyle = Literal["virtual", "path", "auto"]
ADDRESSING_STYLES: tuple[AddressingStyle, ...] = get_args(AddressingStyle)
ACCESS_KEY_ID_KEY = f"{PROJECT}:storageAccessKeyId"
SECRET_ACCESS_KEY_KEY = f"{PROJECT}:storageSecretAccessKey"
DATA_CREDENTIAL_SECRET = "osmo-workflow-data-cred"
"""The Secret name OSMO's scripts and docs use for the workflow data bucket credential."""


def data_credential_secret(backend: str) -> str:
    """The workflow data credential's Secret in the service namespace, one per backend: several
    backends share that namespace, and one fixed name would make each stack overwrite (and its
    destroy delete) another's credential. A backend name is a DNS label (at most 63), so the name
    stays a valid Secret name (a DNS subdomain, at most 253) without shortening."""
    return f"{DATA_CREDENTIAL_SECRET}-{backend}"


# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_GCS_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$")
_AZURE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")
_AZURE_CONTAINER = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class WorkflowDataSpec:
    """An S3-compatible bucket for OSMO's workflow data (task specs, data between groups)."""

    uri: str
    """`s3://<bucket>[/prefix]`: the credential's `endpoint` and `workflow_data.base_url`."""
    endpoint: str | None
    """S3-compatible service URL (`override_url`); None for AWS S3 itself."""
    region: str = "us-east-1"
    addressing_style: AddressingStyle | None = None
    also_logs: bool = True
    """Use the same bucket and credential for `workflow_log` and `workflow_app` too: without
    them OSMO's logs API, its log upload and cleanup jobs and its app service fail."""
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class BucketSpec:
    """A workflow data bucket the stack creates in the cluster's cloud, reached by workflow pods
    through workload identity (no static keys)."""

    name: str
    """S3 or GCS bucket name; on AKS the storage account name."""
    container: str = "osmo-workflows"
    """AKS: the blob container in the storage account."""
    versioning: bool = True
    retain_on_delete: bool = True
    """The bucket (and its data) outlives `pulumi destroy` unless explicitly opted out."""
    service_account: str = "osmo-workflow"
    """The Kubernetes ServiceAccount in the workflow namespace bound to the cloud identity."""
    also_logs: bool = True
    key_generation: int = 0
    """Rotation generation of the bucket-scoped key OSMO uses (AWS access key, GCS HMAC key,
    Azure account key1/key2): bumping it issues a new key and updates the credential Secret."""
    random_suffix: bool = False
    """Append a random suffix, generated once and kept in state, to the globally unique name (S3
    and GCS buckets: `<name>-<suffix>`; AKS storage accounts: `<name><suffix>`), so a name taken
    elsewhere, or kept by a retained bucket after `pulumi destroy`, cannot block a deployment."""


@dataclass(frozen=True)
class ObjectStoreSpec:
    """A single-node S3-compatible store (MinIO) inside an existing cluster, for labs."""

    bucket: str
    storage_size: str = "50Gi"
    storage_class: str | None = None
    namespace: str = "osmo-object-store"
    ingress_host: str | None = None
    """Host the OSMO service reaches it at through the stack's ingress controller; None: the
    in-cluster address (the service must run in this cluster)."""
    also_logs: bool = True
    tls: bool = False
    """The ingress controller serves `ingress_host` over TLS (networking.ingress.tls): OSMO gets
    an https URL. Set from the networking config, not a key of its own."""

    @property
    def in_cluster_url(self) -> str:
        return f"http://object-store.{self.namespace}.svc.cluster.local:9000"

    @property
    def url(self) -> str:
        """The address OSMO hands the service and workflow pods."""
        if not self.ingress_host:
            return self.in_cluster_url
        return f"{'https' if self.tls else 'http'}://{self.ingress_host}"


@dataclass(frozen=True)
class StorageSpec:
    storage_class: str | None = None
    """StorageClass for in-cluster state (Prometheus, Loki); None: the cluster's default."""
    workflow_data: WorkflowDataSpec | None = None
    bucket: BucketSpec | None = None
    object_store: ObjectStoreSpec | None = None


def bucket_host(uri: str, region: str) -> str:
    """The HTTPS host of a bucket URI's cloud store: S3 (virtual-hosted, regional), GCS, or the
    Azure storage account's Blob endpoint."""
    parsed = urlparse(uri)
    if parsed.scheme == "gs":
        return "storage.googleapis.com"
    if parsed.scheme == "azure":
        return f"{parsed.netloc}.blob.core.windows.net"
    return f"{parsed.netloc}.s3.{region}.amazonaws.com"


def _bucket_uri(problems: Problems, path: str, value: Any) -> str | None:
    """`s3://<bucket>[/prefix]`, `gs://<bucket>[/prefix]` or `azure://<account>/<container>`, each
    checked against its store's naming rules (OSMO's URI formats)."""
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme not in ("s3", "gs", "azure") or not parsed.netloc:
        problems.add(
            path,
            f"{show(value)} must be an s3://<bucket>[/prefix], gs://<bucket>[/prefix] or "
            "azure://<account>/<container> URI",
        )
        return None
    host = parsed.netloc
    if parsed.scheme == "azure":
        container = parsed.path.strip("/").split("/")[0]
        if not _AZURE_ACCOUNT.match(host) or not _AZURE_CONTAINER.match(container):
            problems.add(
                path,
                f"{show(value)} needs a storage account (3-24 lowercase letters and digits) and a "
                "container (3-63 lowercase letters, digits and '-')",
            )
            return None
    elif parsed.scheme == "gs" and not _GCS_BUCKET.match(host):
        problems.add(
            path,
            f"bucket {host!r} breaks GCS naming rules: 3-63 lowercase letters, digits, '.', '_' "
            "and '-', starting and ending with a letter or digit",
        )
        return None
    elif parsed.scheme == "s3" and (not _BUCKET.match(host) or ".." in host):
        problems.add(
            path,
            f"bucket {host!r} breaks S3 naming rules: 3-63 lowercase letters, digits, '.' and '-', "
            "starting and ending with a letter or digit",
        )
        return None
    return value.rstrip("/")


def _workflow_data(
    problems: Problems, path: str, body: Any, cfg: dict[str, Any]
) -> WorkflowDataSpec | None:
    given = section(
        problems, path, body, ("uri", "endpoint", "region", "addressingStyle", "alsoForLogs")
    )
    if given is None:
        return None
    before = len(problems.lines)
    uri = _bucket_uri(problems, f"{path}.uri", given.get("uri"))
    endpoint = given.get("endpoint")
    if endpoint is not None and uri is not None and not uri.startswith("s3://"):
        problems.add(f"{path}.endpoint", "only applies to s3:// buckets (S3-compatible stores)")
    elif endpoint is not None:
        endpoint = absolute_url(problems, f"{path}.endpoint", endpoint, ("https", "http"))
    region = given.get("region", "us-east-1")
    if not isinstance(region, str) or not re.match(r"^[a-z0-9-]{2,32}$", region):
        problems.add(f"{path}.region", f"{show(region)} is not a region name like us-east-1")
    style = given.get("addressingStyle")
    if style is not None and style not in ADDRESSING_STYLES:
        problems.add(
            f"{path}.addressingStyle",
            f"{show(style)} is not one of: {', '.join(ADDRESSING_STYLES)}",
        )
    also_logs = flag(problems, f"{path}.alsoForLogs", given.get("alsoForLogs", True))
    key_id, secret = cfg.get("storageAccessKeyId"), cfg.get("storageSecretAccessKey")
    if key_id is None or secret is None:
        problems.add(
            path,
            f"needs static credentials on this cluster kind: set the secrets {ACCESS_KEY_ID_KEY} "
            f"and {SECRET_ACCESS_KEY_KEY} (pulumi config set --secret ...)",
        )
    if len(problems.lines) > before:
        return None
    assert uri is not None
    assert also_logs is not None
    return WorkflowDataSpec(
        uri=uri,
        endpoint=endpoint,
        region=region,
        addressing_style=cast(AddressingStyle | None, style),
        also_logs=also_logs,
        access_key_id=str(key_id),
        secret_access_key=str(secret),
    )


BUCKET_SUFFIX_LENGTH = 6
"""Characters of a bucket's random suffix (lowercase letters and digits, valid in every store's
names): `random.RandomString(length=BUCKET_SUFFIX_LENGTH, special=False, upper=False)`."""


def suffixed_bucket_name(cluster_kind: str, name: str, suffix: str) -> str:
    """The bucket (storage account) name with its random suffix: S3 and GCS join with '-', Azure
    storage account names take letters and digits only."""
    return f"{name}{suffix}" if cluster_kind == "aks" else f"{name}-{suffix}"


_BUCKET_RULES = {
    "eks": (_BUCKET, "an S3 bucket name: 3-63 lowercase letters, digits, '.' and '-'"),
    "gke": (_GCS_BUCKET, "a GCS bucket name: 3-63 lowercase letters, digits, '.', '_' and '-'"),
    "aks": (_AZURE_ACCOUNT, "a storage account name: 3-24 lowercase letters and digits"),
}
_BUCKET_KEYS = (
    "name",
    "container",
    "versioning",
    "retainOnDelete",
    "serviceAccount",
    "alsoForLogs",
    "randomSuffix",
    "keyGeneration",
)


def _bucket(problems: Problems, path: str, value: Any, cluster_kind: str) -> BucketSpec | None:
    body = section(problems, path, value, _BUCKET_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    rule = _BUCKET_RULES.get(cluster_kind)
    if rule is None:
        problems.add(
            path,
            "the stack creates buckets in the cluster's cloud (eks, gke, aks); on an existing "
            "cluster use storage.workflowData with an S3-compatible endpoint",
        )
        return None
    name = body.get("name")
    pattern_, what = rule
    suffixed = flag(problems, f"{path}.randomSuffix", body.get("randomSuffix", False))
    if not isinstance(name, str) or not pattern_.match(name) or ".." in name:
        problems.add(f"{path}.name", f"{show(name)} is not {what}")
    elif cluster_kind == "gke" and (name.startswith("goog") or "google" in name):
        problems.add(
            f"{path}.name",
            f"{name!r}: GCS bucket names cannot contain 'google' or start with 'goog'",
        )
    elif suffixed and not pattern_.match(
        derived := suffixed_bucket_name(cluster_kind, name, "x" * BUCKET_SUFFIX_LENGTH)
    ):
        problems.add(
            f"{path}.name",
            f"{name!r} with its random suffix ({derived!r}, the suffix adds "
            f"{len(derived) - len(name)} characters) is not {what}",
        )
    container = body.get("container", "osmo-workflows")
    if "container" in body and cluster_kind != "aks":
        problems.add(f"{path}.container", "only applies on aks (a blob container)")
    elif not isinstance(container, str) or not _AZURE_CONTAINER.match(container):
        problems.add(f"{path}.container", f"{show(container)} is not a blob container name")
    versioning = flag(problems, f"{path}.versioning", body.get("versioning", True))
    retain = flag(problems, f"{path}.retainOnDelete", body.get("retainOnDelete", True))
    account = body.get("serviceAccount", "osmo-workflow")
    if not isinstance(account, str) or dns1123_label_problem(account) is not None:
        problems.add(f"{path}.serviceAccount", f"{show(account)} is not a DNS-1123 label")
    also_logs = flag(problems, f"{path}.alsoForLogs", body.get("alsoForLogs", True))
    generation = body.get("keyGeneration", 0)
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 0:
        problems.add(
            f"{path}.keyGeneration", f"must be a whole number >= 0, got {show(generation)}"
        )
    if len(problems.lines) > before:
        return None
    return BucketSpec(
        name=str(name),
        container=str(container),
        versioning=versioning is not False,
        retain_on_delete=retain is not False,
        service_account=str(account),
        also_logs=bool(also_logs),
        random_suffix=bool(suffixed),
        key_generation=int(generation),
    )


_QUANTITY = re.compile(r"^[1-9]\d*(Mi|Gi|Ti)$")
_OBJECT_STORE_KEYS = (
    "bucket",
    "storageSize",
    "storageClass",
    "namespace",
    "ingressHost",
    "alsoForLogs",
)


def _object_store(
    problems: Problems, path: str, value: Any, cluster_kind: str
) -> ObjectStoreSpec | None:
    body = section(problems, path, value, _OBJECT_STORE_KEYS)
    if body is None:
        return None
    before = len(problems.lines)
    if cluster_kind != "existing":
        problems.add(
            path,
            "is for labs on an existing cluster; cloud clusters use storage.bucket (workload "
            "identity, no keys)",
        )
        return None
    bucket = body.get("bucket")
    if not isinstance(bucket, str) or not _BUCKET.match(bucket) or ".." in bucket:
        problems.add(f"{path}.bucket", f"{show(bucket)} is not an S3 bucket name")
    size = pattern(
        problems,
        f"{path}.storageSize",
        body.get("storageSize", "50Gi"),
        _QUANTITY,
        "a size like 50Gi",
    )
    storage_class = body.get("storageClass")
    if storage_class is not None:
        storage_class = subdomain(problems, f"{path}.storageClass", storage_class)
    ns = body.get("namespace", "osmo-object-store")
    if not isinstance(ns, str) or dns1123_label_problem(ns) is not None:
        problems.add(f"{path}.namespace", f"{show(ns)} is not a DNS-1123 label")
    host = body.get("ingressHost")
    if host is not None and (not isinstance(host, str) or dns1123_subdomain_problem(host)):
        problems.add(f"{path}.ingressHost", f"{show(host)} is not a host name")
    also_logs = flag(problems, f"{path}.alsoForLogs", body.get("alsoForLogs", True))
    if len(problems.lines) > before:
        return None
    return ObjectStoreSpec(
        bucket=str(bucket),
        storage_size=str(size),
        storage_class=storage_class,
        namespace=str(ns),
        ingress_host=host,
        also_logs=bool(also_logs),
    )


def parse_storage(
    problems: Problems, value: Any, cfg: dict[str, Any], cluster_kind: str = "existing"
) -> StorageSpec | None:
    path = f"{PROJECT}:storage"
    body = section(
        problems,
        path,
        decode(problems, path, value),
        ("storageClass", "workflowData", "bucket", "objectStore"),
    )
    if body is None:
        return None
    given = [k for k in ("workflowData", "bucket", "objectStore") if body.get(k) is not None]
    if len(given) > 1:
        problems.add(path, f"set one workflow data store, not {' and '.join(given)}")
        return None
    object_store = None
    if body.get("objectStore") is not None:
        object_store = _object_store(
            problems, f"{path}.objectStore", body["objectStore"], cluster_kind
        )
        if object_store is None:
            return None
    bucket = None
    if body.get("bucket") is not None:
        bucket = _bucket(problems, f"{path}.bucket", body["bucket"], cluster_kind)
        if bucket is None:
            return None
    storage_class = None
    if body.get("storageClass") is not None:
        storage_class = subdomain(problems, f"{path}.storageClass", body["storageClass"])
        if storage_class is None:
            return None
    workflow_data = None
    if body.get("workflowData") is not None:
        workflow_data = _workflow_data(problems, f"{path}.workflowData", body["workflowData"], cfg)
        if workflow_data is None:
            return None
    elif cfg.get("storageAccessKeyId") is not None or cfg.get("storageSecretAccessKey") is not None:
        problems.add(path, "storage credentials are set but storage.workflowData is not")
        return None
    return StorageSpec(
        storage_class=storage_class,
        workflow_data=workflow_data,
        bucket=bucket,
        object_store=object_store,
    )
