"""`osmo-backend:storage`: the StorageClass for in-cluster state and the workflow data bucket."""

import re
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args
from urllib.parse import urlparse

from components._validate import Problems, show
from components.config._common import PROJECT, absolute_url, decode, flag, section, subdomain

AddressingStyle = Literal["virtual", "path", "auto"]
ADDRESSING_STYLES: tuple[AddressingStyle, ...] = get_args(AddressingStyle)
ACCESS_KEY_ID_KEY = f"{PROJECT}:storageAccessKeyId"
SECRET_ACCESS_KEY_KEY = f"{PROJECT}:storageSecretAccessKey"
DATA_CREDENTIAL_SECRET = "osmo-workflow-data-cred"
"""The Secret name OSMO's scripts and docs use for the workflow data bucket credential."""
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


@dataclass(frozen=True)
class WorkflowDataSpec:
    """An S3-compatible bucket for OSMO's workflow data (task specs, data between groups)."""

    uri: str
    """`s3://<bucket>[/prefix]`: the credential's `endpoint` and `workflow_data.base_url`."""
    endpoint: str | None
    """S3-compatible service URL (`override_url`); None for AWS S3 itself."""
    region: str = "us-east-1"
    addressing_style: AddressingStyle | None = None
    also_logs: bool = False
    """Use the same bucket and credential for `workflow_log` and `workflow_app` too."""
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StorageSpec:
    storage_class: str | None = None
    """StorageClass for in-cluster state (Prometheus, Loki); None: the cluster's default."""
    workflow_data: WorkflowDataSpec | None = None


def _bucket_uri(problems: Problems, path: str, value: Any) -> str | None:
    parsed = urlparse(value) if isinstance(value, str) else None
    if parsed is None or parsed.scheme != "s3" or not parsed.netloc:
        problems.add(path, f"{show(value)} must be an s3://<bucket>[/prefix] URI")
        return None
    if not _BUCKET.match(parsed.netloc) or ".." in parsed.netloc:
        problems.add(
            path,
            f"bucket {parsed.netloc!r} breaks S3 naming rules: 3-63 lowercase letters, digits, "
            "'.' and '-', starting and ending with a letter or digit",
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
    if endpoint is not None:
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
    also_logs = flag(problems, f"{path}.alsoForLogs", given.get("alsoForLogs", False))
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


def parse_storage(problems: Problems, value: Any, cfg: dict[str, Any]) -> StorageSpec | None:
    path = f"{PROJECT}:storage"
    body = section(problems, path, decode(problems, path, value), ("storageClass", "workflowData"))
    if body is None:
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
    return StorageSpec(storage_class=storage_class, workflow_data=workflow_data)
