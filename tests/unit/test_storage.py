"""`osmo-backend:storage`: StorageClass and the workflow data bucket (S3-compatible)."""

from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.config import ConfigError, StackSpec, load_spec
from components.connection import (
    control_plane_steps,
    storage_credential,
    workflow_storage_values,
)
from offline import engine, plan
from offline.service_values import merge
from tests.harness import REPO, SAMPLE_KUBECONFIG, config, encode, run_main

KEYS = ("osmo-backend:storageAccessKeyId", "osmo-backend:storageSecretAccessKey")
BUCKET = {"uri": "s3://osmo-lab/workflows", "endpoint": "https://s3.lab.example.com:9000"}
CONTROL_PLANE = {"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG)}


def with_keys(values: dict[str, Any]) -> dict[str, Any]:
    values[KEYS[0]] = "AKIDLAB"
    values[KEYS[1]] = "planted-secret-access-key"
    return values


def spec(values: dict[str, Any], secret_keys: tuple[str, ...] = KEYS) -> StackSpec:
    return load_spec(encode(values), secret_keys, base_dir=REPO)


def problems(values: dict[str, Any], secret_keys: tuple[str, ...] = KEYS) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        spec(values, secret_keys)
    return err.value.problems


def test_defaults_use_the_cluster_default_class_and_no_bucket() -> None:
    storage = spec(config()).storage
    assert storage.storage_class is None
    assert storage.workflow_data is None


def test_workflow_data_bucket_with_static_keys() -> None:
    data = spec(with_keys(config(storage={"workflowData": {**BUCKET, "addressingStyle": "path"}})))
    bucket = data.storage.workflow_data
    assert bucket is not None
    assert (bucket.uri, bucket.endpoint, bucket.region, bucket.addressing_style) == (
        "s3://osmo-lab/workflows",
        "https://s3.lab.example.com:9000",
        "us-east-1",
        "path",
    )
    assert "planted" not in repr(bucket)
    assert storage_credential(bucket) == {
        "access_key_id": "AKIDLAB",
        "access_key": "planted-secret-access-key",
        "endpoint": "s3://osmo-lab/workflows",
        "region": "us-east-1",
        "override_url": "https://s3.lab.example.com:9000",
        "addressing_style": "path",
    }


@pytest.mark.parametrize(
    "uri", ["s3://osmo-lab/workflows", "gs://osmo_lab-data/prefix", "azure://osmolab/workflows"]
)
def test_every_osmo_uri_scheme_is_accepted(uri: str) -> None:
    data = spec(with_keys(config(storage={"workflowData": {"uri": uri}}))).storage.workflow_data
    assert data is not None
    assert data.uri == uri
    assert storage_credential(data)["endpoint"] == uri


@pytest.mark.parametrize(
    ("bucket", "expected"),
    [
        (
            {"uri": "tos://x/y"},
            "osmo-backend:storage.workflowData.uri: 'tos://x/y' must be an "
            "s3://<bucket>[/prefix], gs://<bucket>[/prefix] or azure://<account>/<container> URI",
        ),
        (
            {"uri": "gs://x/y"},
            "osmo-backend:storage.workflowData.uri: bucket 'x' breaks GCS naming rules: 3-63 "
            "lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or "
            "digit",
        ),
        (
            {"uri": "azure://Osmo/data"},
            "osmo-backend:storage.workflowData.uri: 'azure://Osmo/data' needs a storage account "
            "(3-24 lowercase letters and digits) and a container (3-63 lowercase letters, digits "
            "and '-')",
        ),
        (
            {"uri": "gs://osmo-data", "endpoint": "https://storage.example.com"},
            "osmo-backend:storage.workflowData.endpoint: only applies to s3:// buckets "
            "(S3-compatible stores)",
        ),
        (
            {"uri": "s3://Osmo_Data"},
            "osmo-backend:storage.workflowData.uri: bucket 'Osmo_Data' breaks S3 naming rules: "
            "3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or "
            "digit",
        ),
        (
            {"uri": "s3://osmo", "endpoint": "s3.example.com"},
            "osmo-backend:storage.workflowData.endpoint: 's3.example.com' must be an absolute "
            "https:// or http:// URL with a host",
        ),
        (
            {"uri": "s3://osmo", "region": "US East"},
            "osmo-backend:storage.workflowData.region: 'US East' is not a region name like "
            "us-east-1",
        ),
        (
            {"uri": "s3://osmo", "addressingStyle": "dns"},
            "osmo-backend:storage.workflowData.addressingStyle: 'dns' is not one of: virtual, "
            "path, auto",
        ),
        (
            {"uri": "s3://osmo", "bucket": "x"},
            "osmo-backend:storage.workflowData.bucket: unknown key (allowed: addressingStyle, "
            "alsoForLogs, endpoint, region, uri)",
        ),
    ],
)
def test_rejected_bucket_inputs(bucket: dict[str, Any], expected: str) -> None:
    assert problems(with_keys(config(storage={"workflowData": bucket}))) == (expected,)


def test_credentials_are_required_secret_and_only_with_a_bucket() -> None:
    assert problems(config(storage={"workflowData": BUCKET})) == (
        "osmo-backend:storage.workflowData: needs static credentials on this cluster kind: set "
        "the secrets osmo-backend:storageAccessKeyId and osmo-backend:storageSecretAccessKey "
        "(pulumi config set --secret ...)",
    )
    assert problems(with_keys(config())) == (
        "osmo-backend:storage: storage credentials are set but storage.workflowData is not",
    )
    lines = problems(with_keys(config(storage={"workflowData": BUCKET})), ())
    assert lines[0].startswith("osmo-backend:storageAccessKeyId: holds the workflow data bucket")
    assert "planted" not in "\n".join(lines)


def test_storage_class_reaches_prometheus_and_loki_unless_monitoring_names_its_own() -> None:
    rec = run_main(config(storage={"storageClass": "local-path"}))
    stack = rec.get("kubernetes:helm.sh/v3:Release", "osmo-monitoring-prometheus-stack")
    claim = stack.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"]
    assert claim["volumeClaimTemplate"]["spec"]["storageClassName"] == "local-path"
    loki = rec.get("kubernetes:helm.sh/v3:Release", "osmo-monitoring-loki")
    assert loki.inputs["values"]["singleBinary"]["persistence"]["storageClass"] == "local-path"
    rec = run_main(
        config(
            storage={"storageClass": "local-path"},
            monitoring={"prometheus": {"storageClass": "fast"}},
        )
    )
    stack = rec.get("kubernetes:helm.sh/v3:Release", "osmo-monitoring-prometheus-stack")
    claim = stack.inputs["values"]["prometheus"]["prometheusSpec"]["storageSpec"]
    assert claim["volumeClaimTemplate"]["spec"]["storageClassName"] == "fast"
    assert problems(config(storage={"storageClass": "Local Path"})) == (
        "osmo-backend:storage.storageClass: 'Local Path' is not a DNS-1123 subdomain; use "
        "lowercase letters, digits, '-' and '.'",
    )


def test_control_plane_gets_the_credential_secret_and_the_service_the_bucket(
    tmp_path: Path,
) -> None:
    values = with_keys(
        config(
            osmo={"controlPlane": CONTROL_PLANE},
            storage={"workflowData": {**BUCKET, "alsoForLogs": True}},
        )
    )
    rec = run_main(values, secret_keys=KEYS)
    secret = rec.get(
        "kubernetes:core/v1:Secret", "osmo-connection-control-plane-storage-credential"
    )
    assert secret.provider is not None
    assert secret.provider.endswith("::osmo-connection-control-plane-k8s")
    # One Secret per backend: the service namespace is shared by every backend (issue 14).
    assert secret.inputs["metadata"] == {
        "name": "osmo-workflow-data-cred-lab-backend",
        "namespace": "osmo",
    }
    assert secret.inputs["stringData"] == "[secret]"
    assert engine.unwrap_secrets(secret.raw_inputs)["stringData"]["access_key"] == (
        "planted-secret-access-key"
    )
    configs = rec.outputs["osmo_service_values"]["services"]["configs"]
    name = "osmo-workflow-data-cred-lab-backend"
    assert configs["secretRefs"] == [{"secretName": name}]
    assert {k: v for k, v in configs["workflow"].items() if k != "backend_images"} == {
        "workflow_data": {
            "credential": {"secretName": name},
            "base_url": "s3://osmo-lab/workflows",
        },
        "workflow_log": {"credential": {"secretName": name}},
        "workflow_app": {"credential": {"secretName": name}},
    }
    plan.write(rec, tmp_path)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert "planted-secret-access-key" not in path.read_text(), path


def test_without_a_control_plane_only_the_fragment_names_the_secret() -> None:
    values = with_keys(config(storage={"workflowData": BUCKET}))
    rec = run_main(values, secret_keys=KEYS)
    assert not [r for r in rec.resources if "storage-credential" in r.name]
    assert "workflow" in rec.outputs["osmo_service_values"]["services"]["configs"]
    # The API Deployment mounts each backend token Secret and each secretRefs entry without
    # `optional` (NVIDIA/OSMO deployments/charts/service/templates/api-service.yaml:282-290):
    # the values leave the stack as secret outputs, and the plan prints how to create them.
    token = rec.raw_outputs["backend_token"]
    credential = rec.raw_outputs["workflow_data_credential"]
    assert rpc.is_rpc_secret(token)
    assert rpc.is_rpc_secret(credential)
    assert engine.unwrap_secrets(credential)["access_key"] == "planted-secret-access-key"
    steps = control_plane_steps(spec(values).osmo, has_data=True, stack="test")
    assert [m for _, m in rec.logs if m.startswith("service side:")] == steps
    assert {level for level, m in rec.logs if m in steps} == {"info"}


def test_logs_and_app_data_use_the_workflow_store_by_default() -> None:
    # Without workflow_log the logs API and the log upload/cleanup jobs fail, without
    # workflow_app the app service: NVIDIA/OSMO src/service/core/workflow/workflow_service.py:817,
    # :851, :890, :922, src/utils/job/jobs.py:393, :1503 and src/service/core/app/
    # app_service.py:100 raise when the credential is None.
    data = spec(with_keys(config(storage={"workflowData": BUCKET}))).storage.workflow_data
    assert data is not None
    assert data.also_logs is True
    workflow = workflow_storage_values(data, "lab")["workflow"]
    assert set(workflow) == {"workflow_data", "workflow_log", "workflow_app"}


def test_secret_refs_of_two_backends_merge_by_secret_name() -> None:
    data = spec(with_keys(config(storage={"workflowData": BUCKET}))).storage.workflow_data
    assert data is not None
    fragment = {"services": {"configs": workflow_storage_values(data, "lab-backend")}}
    merged = merge([("a", fragment), ("b", fragment)])
    assert merged["services"]["configs"]["secretRefs"] == [
        {"secretName": "osmo-workflow-data-cred-lab-backend"}
    ]


def test_backends_sharing_the_service_namespace_get_their_own_credential_secret() -> None:
    # Two stacks whose backend names differ only at the end: one fixed name would make each
    # overwrite the other's Secret, and one stack's destroy delete the other's credential.
    names = {}
    for backend in ("osmo-prod-us-central1-a", "osmo-prod-us-central1-b"):
        values = with_keys(
            config(
                osmo={"controlPlane": CONTROL_PLANE, "backendName": backend},
                storage={"workflowData": BUCKET},
            )
        )
        rec = run_main(values, secret_keys=KEYS)
        secret = rec.get(
            "kubernetes:core/v1:Secret", "osmo-connection-control-plane-storage-credential"
        )
        names[backend] = secret.inputs["metadata"]["name"]
        refs = rec.outputs["osmo_service_values"]["services"]["configs"]["secretRefs"]
        assert refs == [{"secretName": names[backend]}]
    assert names == {
        "osmo-prod-us-central1-a": "osmo-workflow-data-cred-osmo-prod-us-central1-a",
        "osmo-prod-us-central1-b": "osmo-workflow-data-cred-osmo-prod-us-central1-b",
    }
