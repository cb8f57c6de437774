"""`storage.bucket` on each cloud kind: the bucket's security settings as exact inputs, the
identity bound to exactly `system:serviceaccount:<workflow-ns>:<sa>`, the grants, retention on
destroy, the ServiceAccount, the service-side wiring, and the config's refusals."""

import json
from functools import cache
from typing import Any

import pytest
from pulumi.runtime import rpc

from components.config import ConfigError, load_spec
from offline import engine
from tests.components.test_aks_cluster import aks_config
from tests.components.test_eks_cluster import eks_config
from tests.components.test_gke_cluster import gke_config
from tests.harness import REPO, SAMPLE_KUBECONFIG, config, encode, run_main

BUCKETS = {"eks": "osmo-usw2-workflows", "gke": "osmo-usc1-workflows", "aks": "osmoeusworkflows"}
MAKERS = {"eks": eks_config, "gke": gke_config, "aks": aks_config}
SUBJECT = "system:serviceaccount:osmo-workflows:osmo-workflow"


def with_bucket(kind: str, **bucket: Any) -> dict[str, Any]:
    values = MAKERS[kind]()
    values["osmo-backend:storage"] = {"bucket": {"name": BUCKETS[kind], **bucket}}
    return values


@cache
def recording(kind: str) -> engine.Recording:
    return run_main(with_bucket(kind))


def service_values(rec: engine.Recording) -> dict[str, Any]:
    return rec.raw_outputs["osmo_service_values"]["services"]["configs"]


def test_s3_bucket_is_private_encrypted_versioned_and_kept() -> None:
    rec = recording("eks")
    bucket = rec.get("aws:s3/bucket:Bucket", "osmo-cluster-workflow-bucket")
    assert bucket.raw_inputs["bucket"] == "osmo-usw2-workflows"
    assert bucket.raw_inputs["forceDestroy"] is False
    assert bucket.options["retainOnDelete"] is True
    block = rec.get(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "osmo-cluster-workflow-bucket-public-access",
    ).raw_inputs
    assert {k: v for k, v in block.items() if k != "bucket"} == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    encryption = rec.get(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "osmo-cluster-workflow-bucket-encryption",
    ).raw_inputs
    assert encryption["rules"] == [
        {
            "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
            "bucketKeyEnabled": True,
        }
    ]
    versioning = rec.get(
        "aws:s3/bucketVersioning:BucketVersioning", "osmo-cluster-workflow-bucket-versioning"
    ).raw_inputs
    assert versioning["versioningConfiguration"] == {"status": "Enabled"}
    ownership = rec.get(
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "osmo-cluster-workflow-bucket-ownership",
    ).raw_inputs
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}


def test_s3_access_is_an_irsa_role_with_osmos_actions() -> None:
    rec = recording("eks")
    policy = json.loads(
        rec.get("aws:iam/policy:Policy", "osmo-cluster-workflow-bucket-policy").raw_inputs["policy"]
    )
    arn = "arn:aws:s3:::osmo-usw2-workflows"
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": arn},
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{arn}/*",
        },
    ]
    # OSMO's S3 check simulates the caller's own policy, an IRSA session converted to its role
    # ARN (NVIDIA/OSMO src/lib/data/storage/backends/backends.py:553-575): the role may
    # simulate itself, never every principal of the account.
    role_arn = "arn:aws:iam::000000000000:role/osmo-cluster-workflow-irsa"
    simulate = rec.get("aws:iam/rolePolicy:RolePolicy", "osmo-cluster-workflow-simulate")
    assert simulate.raw_inputs["role"] == "osmo-cluster-workflow-irsa"
    assert json.loads(simulate.raw_inputs["policy"])["Statement"] == [
        {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": role_arn}
    ]
    trust = json.loads(
        rec.get("aws:iam/role:Role", "osmo-cluster-workflow-irsa").raw_inputs["assumeRolePolicy"]
    )
    (statement,) = trust["Statement"]
    (condition,) = [
        v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
    ]
    assert condition == SUBJECT
    account = rec.get("kubernetes:core/v1:ServiceAccount", "osmo-connection-workflow-sa")
    assert account.raw_inputs["metadata"]["annotations"] == {
        "eks.amazonaws.com/role-arn": "arn:aws:iam::000000000000:role/osmo-cluster-workflow-irsa"
    }
    assert account.raw_inputs["metadata"]["namespace"] == "osmo-workflows"
    assert account.raw_inputs["metadata"]["name"] == "osmo-workflow"


def test_gcs_bucket_and_its_bucket_scoped_grants() -> None:
    rec = recording("gke")
    bucket = rec.get("gcp:storage/bucket:Bucket", "osmo-cluster-workflow-bucket")
    inputs = bucket.raw_inputs
    assert (inputs["name"], inputs["location"]) == ("osmo-usc1-workflows", "US-CENTRAL1")
    assert inputs["uniformBucketLevelAccess"] is True
    assert inputs["publicAccessPrevention"] == "enforced"
    assert inputs["versioning"] == {"enabled": True}
    assert inputs["forceDestroy"] is False
    assert bucket.options["retainOnDelete"] is True
    email = "osmo-usc1-workflow@osmo-test-1.iam.gserviceaccount.com"
    grants = {
        r.name: (r.raw_inputs["role"], r.raw_inputs["bucket"], r.raw_inputs["member"])
        for r in rec.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
    }
    key_account = "osmo-usc1-osmo-data@osmo-test-1.iam.gserviceaccount.com"
    assert grants == {
        f"osmo-cluster-workflow-bucket-{role.split('.')[-1].lower()}": (
            role,
            "osmo-usc1-workflows",
            f"serviceAccount:{email}",
        )
        for role in ("roles/storage.objectUser", "roles/storage.objectViewer")
    } | {
        f"osmo-cluster-workflow-data-sa-{role.split('.')[-1].lower()}": (
            role,
            "osmo-usc1-workflows",
            f"serviceAccount:{key_account}",
        )
        for role in ("roles/storage.objectUser", "roles/storage.objectViewer")
    }
    # No project-wide role for the workflow identity.
    assert not [r for r in rec.by_type("gcp:projects/iAMMember:IAMMember") if "workflow" in r.name]
    user = rec.get("gcp:serviceaccount/iAMMember:IAMMember", "osmo-cluster-workflow-wi-user")
    assert user.raw_inputs["member"] == (
        "serviceAccount:osmo-test-1.svc.id.goog[osmo-workflows/osmo-workflow]"
    )
    account = rec.get("kubernetes:core/v1:ServiceAccount", "osmo-connection-workflow-sa")
    assert account.raw_inputs["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": email
    }


def test_azure_storage_account_with_its_key_for_osmo_and_a_federated_identity() -> None:
    rec = recording("aks")
    account = rec.get("azure-native:storage:StorageAccount", "osmo-cluster-workflow-storage")
    inputs = account.raw_inputs
    assert inputs["accountName"] == "osmoeusworkflows"
    assert inputs["kind"] == "StorageV2"
    assert inputs["sku"] == {"name": "Standard_ZRS"}
    assert inputs["allowBlobPublicAccess"] is False
    # OSMO's static Azure credential is a connection string with the account key
    # (NVIDIA/OSMO src/lib/data/storage/backends/azure.py:288-298 create_client:
    # BlobServiceClient.from_connection_string; :757-760 copies sign a SAS with its AccountKey).
    assert inputs["allowSharedKeyAccess"] is True
    assert inputs["enableHttpsTrafficOnly"] is True
    assert inputs["minimumTlsVersion"] == "TLS1_2"
    assert account.options["retainOnDelete"] is True
    container = rec.get("azure-native:storage:BlobContainer", "osmo-cluster-workflow-container")
    assert container.raw_inputs["containerName"] == "osmo-workflows"
    assert container.raw_inputs["publicAccess"] == "None"
    assert container.options["retainOnDelete"] is True
    blobs = rec.get(
        "azure-native:storage:BlobServiceProperties", "osmo-cluster-workflow-storage-blobs"
    )
    assert blobs.raw_inputs["isVersioningEnabled"] is True
    federation = rec.get(
        "azure-native:managedidentity:FederatedIdentityCredential",
        "osmo-cluster-workflow-wi-federation",
    ).raw_inputs
    assert federation["subject"] == SUBJECT
    grant = rec.get(
        "azure-native:authorization:RoleAssignment", "osmo-cluster-workflow-storage-access"
    )
    assert grant.raw_inputs["roleDefinitionId"].endswith("ba92f5b4-2d11-453d-a403-e96b0029c9fe")
    assert grant.raw_inputs["scope"] == "osmo-cluster-workflow-storage-id"
    sa = rec.get("kubernetes:core/v1:ServiceAccount", "osmo-connection-workflow-sa")
    assert list(sa.raw_inputs["metadata"]["annotations"]) == ["azure.workload.identity/client-id"]


def test_azure_storage_is_kept_outside_the_deleted_group_with_its_container_and_settings() -> None:
    # Deleting a resource group deletes everything in it (pulumi/pulumi-azure-native#2522): a
    # retained account lives in the stack's retained group, and its container and blob service
    # properties (versioning) are kept with it; they go with the account otherwise.
    rec = recording("aks")
    keep = rec.get("azure-native:resources:ResourceGroup", "osmo-cluster-keep-rg")
    account = rec.get("azure-native:storage:StorageAccount", "osmo-cluster-workflow-storage")
    assert keep.options["retainOnDelete"] is True
    parts = (
        account,
        rec.get("azure-native:storage:BlobContainer", "osmo-cluster-workflow-container"),
        rec.get(
            "azure-native:storage:BlobServiceProperties", "osmo-cluster-workflow-storage-blobs"
        ),
    )
    for record in parts:
        assert record.raw_inputs["resourceGroupName"] == keep.raw_inputs["resourceGroupName"]
        assert record.options["retainOnDelete"] is True, record.name
    for record in parts[1:]:
        assert record.options["deletedWith"] == account.urn, record.name


def test_azure_storage_account_name_gets_a_random_suffix_when_asked() -> None:
    # Storage account names are global: a retained account keeps its name after destroy.
    rec = run_main(with_bucket("aks", randomSuffix=True))
    suffix = rec.get(
        "random:index/randomString:RandomString", "osmo-cluster-workflow-storage-suffix"
    )
    assert suffix.raw_inputs == {"length": 6, "special": False, "upper": False}
    fake = engine._fake_random_string(suffix.name, suffix.raw_inputs)["result"]  # pyright: ignore[reportPrivateUsage]
    account = rec.get("azure-native:storage:StorageAccount", "osmo-cluster-workflow-storage")
    assert account.raw_inputs["accountName"] == f"osmoeusworkflows{fake}"
    uri = f"azure://osmoeusworkflows{fake}/osmo-workflows"
    assert service_values(rec)["workflow"]["workflow_data"]["base_url"] == uri
    hosts = {e["host"] for e in rec.raw_outputs["egress_allowlist"]}
    assert "*.blob.core.windows.net" in hosts
    assert "osmoeusworkflows.blob.core.windows.net" not in hosts


def test_azure_storage_not_kept_lives_and_goes_with_the_cluster_group() -> None:
    rec = run_main(with_bucket("aks", retainOnDelete=False))
    account = rec.get("azure-native:storage:StorageAccount", "osmo-cluster-workflow-storage")
    container = rec.get("azure-native:storage:BlobContainer", "osmo-cluster-workflow-container")
    for record in (account, container):
        assert record.raw_inputs["resourceGroupName"] == "osmo-eus-rg"
        assert record.options["retainOnDelete"] is False
    assert container.options["deletedWith"] == account.urn


@pytest.mark.parametrize(
    ("kind", "uri", "region", "labels", "annotations"),
    [
        # The IRSA webhook skips the comma-separated containers of eks.amazonaws.com/
        # skip-containers (aws/amazon-eks-pod-identity-webhook README.md); Azure's webhook the
        # semicolon-separated ones of azure.workload.identity/skip-containers
        # (Azure/azure-workload-identity docs, service account labels and annotations). OSMO
        # renders {{USER_CONTAINER_NAME}} in every pod template string (NVIDIA/OSMO
        # src/utils/job/task.py: jinja_variables['USER_CONTAINER_NAME'], then
        # substitute_pod_template_tokens). GKE's metadata server serves the whole pod: none.
        (
            "eks",
            "s3://osmo-usw2-workflows",
            "us-west-2",
            None,
            {"eks.amazonaws.com/skip-containers": "{{USER_CONTAINER_NAME}}"},
        ),
        ("gke", "gs://osmo-usc1-workflows", "us-central1", None, None),
        (
            "aks",
            "azure://osmoeusworkflows/osmo-workflows",
            "eastus",
            {"azure.workload.identity/use": "true"},
            {"azure.workload.identity/skip-containers": "{{USER_CONTAINER_NAME}}"},
        ),
    ],
)
def test_service_values_carry_the_bucket_and_the_identity_template(
    kind: str,
    uri: str,
    region: str,
    labels: dict[str, str] | None,
    annotations: dict[str, str] | None,
) -> None:
    rec = recording(kind)
    configs = service_values(rec)
    # Workflow data goes through a static credential on every cloud: workflow pods get the
    # credential's `to_decrypted_dict()` as their data config (NVIDIA/OSMO
    # src/utils/job/task.py:2727-2731, create_config_dict at :105-121), osmo-ctrl copies it in
    # place for task inputs and outputs (src/runtime/cmd/ctrl/ctrl.go:1090-1092, :1133-1135)
    # and runs `osmo data` (src/runtime/pkg/data/data.go:364, :392), whose credential lookup
    # reads `access_key_id` unconditionally (src/lib/data/storage/credentials/credentials.py:
    # 197-199, called from src/lib/data/storage/backends/common.py:302): a keyless credential
    # is a KeyError there. Logs and app data use it too (on by default).
    name = "osmo-workflow-data-cred-lab-backend"
    assert configs["workflow"] == {
        "backend_images": {
            "init": "nvcr.io/nvidia/osmo/init-container:6.4.0",
            "client": "nvcr.io/nvidia/osmo/client:6.4.0",
        },
        "workflow_data": {"credential": {"secretName": name}, "base_url": uri},
        "workflow_log": {"credential": {"secretName": name}},
        "workflow_app": {"credential": {"secretName": name}},
    }
    # The chart mounts every secretRefs entry (deployments/charts/service/values.yaml:872-881).
    assert configs["secretRefs"] == [{"secretName": name}]
    credential = rec.raw_outputs["workflow_data_credential"]
    assert rpc.is_rpc_secret(credential)
    keys = engine.unwrap_secrets(credential)
    assert sorted(keys) == ["access_key", "access_key_id", "endpoint", "region"]
    assert (keys["endpoint"], keys["region"]) == (uri, region)
    template = configs["podTemplates"]["lab-backend-workflow-identity"]
    assert template["spec"] == {"serviceAccountName": "osmo-workflow"}
    assert template.get("metadata", {}).get("labels") == labels
    assert template.get("metadata", {}).get("annotations") == annotations
    pool = configs["pools"]["lab-backend"]
    assert pool["common_pod_template"] == [
        "default_ctrl",
        "default_user",
        "lab-backend-workflow-identity",
        "osmo-workflow-isolation",
    ]
    hosts = {e["host"] for e in rec.raw_outputs["egress_allowlist"]}
    expected = {
        "eks": "osmo-usw2-workflows.s3.us-west-2.amazonaws.com",
        "gke": "storage.googleapis.com",
        "aks": "osmoeusworkflows.blob.core.windows.net",
    }[kind]
    assert expected in hosts


def test_s3_key_is_an_iam_user_limited_to_the_bucket() -> None:
    rec = recording("eks")
    user = rec.get("aws:iam/user:User", "osmo-cluster-workflow-data-user")
    assert user.raw_inputs["path"] == "/osmo-backend/"
    policy = json.loads(
        rec.get(
            "aws:iam/userPolicy:UserPolicy", "osmo-cluster-workflow-data-user-policy"
        ).raw_inputs["policy"]
    )
    arn = "arn:aws:s3:::osmo-usw2-workflows"
    user_arn = "arn:aws:iam::000000000000:user/osmo-cluster-workflow-data-user"
    # OSMO's S3 check on a static key simulates the key's own user's policy
    # (NVIDIA/OSMO src/lib/data/storage/backends/backends.py:543-579: get_caller_identity, then
    # simulate_principal_policy(PolicySourceArn=<caller>)): allowed on that user only.
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": arn},
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
            "Resource": f"{arn}/*",
        },
        {"Effect": "Allow", "Action": "iam:SimulatePrincipalPolicy", "Resource": user_arn},
    ]
    key = rec.get("aws:iam/accessKey:AccessKey", "osmo-cluster-workflow-data-key-0")
    assert key.raw_inputs["user"] == "osmo-cluster-workflow-data-user"
    assert key.parent is not None
    assert key.parent.endswith("::osmo-cluster")
    keys = engine.unwrap_secrets(rec.raw_outputs["workflow_data_credential"])
    assert keys["access_key_id"] == "osmo-cluster-workflow-data-key-0-id"
    assert keys["access_key"] == "offline-fake-secret-osmo-cluster-workflow-data-key-0"


def test_gcs_key_is_an_hmac_key_of_a_bucket_only_service_account() -> None:
    rec = recording("gke")
    account = rec.get("gcp:serviceaccount/account:Account", "osmo-cluster-workflow-data-sa")
    assert account.raw_inputs["accountId"] == "osmo-usc1-osmo-data"
    email = "osmo-usc1-osmo-data@osmo-test-1.iam.gserviceaccount.com"
    # No project-wide role for it: only the bucket's (see the grants test).
    assert not [
        r for r in rec.by_type("gcp:projects/iAMMember:IAMMember") if email in str(r.raw_inputs)
    ]
    # OSMO refuses keyless credentials for gs:// (NVIDIA/OSMO
    # src/lib/data/storage/backends/backends.py:734-737 "Default data credentials are not
    # supported for GS backend yet") and reaches GCS with its S3 client at
    # https://storage.googleapis.com (GSBackend.endpoint, backends.py:676-678, used when the
    # credential has no override_url: Boto3Backend.client_factory, backends.py:214-215).
    hmac = rec.get("gcp:storage/hmacKey:HmacKey", "osmo-cluster-workflow-data-hmac-0")
    assert hmac.raw_inputs["serviceAccountEmail"] == email
    assert hmac.raw_inputs["project"] == "osmo-test-1"
    grants = [
        r.urn
        for r in rec.by_type("gcp:storage/bucketIAMMember:BucketIAMMember")
        if "workflow-data-sa" in r.name
    ]
    assert sorted(hmac.options["dependsOn"]) == sorted(grants)
    keys = engine.unwrap_secrets(rec.raw_outputs["workflow_data_credential"])
    assert keys["access_key_id"] == "GOOGOFFLINEFAKE-osmo-cluster-workflow-data-hmac-0"
    assert "override_url" not in keys


def test_azure_key_is_the_account_key_in_a_connection_string() -> None:
    rec = recording("aks")
    assert "azure-native:storage:listStorageAccountKeys" in rec.invokes
    keys = engine.unwrap_secrets(rec.raw_outputs["workflow_data_credential"])
    # As NVIDIA/OSMO's own script stores it (deployments/scripts/storage/azure-blob.sh:150,
    # :166-167): access_key_id the account, access_key the connection string.
    assert keys["access_key_id"] == "osmoeusworkflows"
    assert keys["access_key"] == (
        "DefaultEndpointsProtocol=https;AccountName=osmoeusworkflows;"
        "AccountKey=offline-fake-key1-osmoeusworkflows;EndpointSuffix=core.windows.net"
    )


@pytest.mark.parametrize(
    ("kind", "type_", "name", "found"),
    [
        ("eks", "aws:iam/accessKey:AccessKey", "osmo-cluster-workflow-data-key-3", "-key-3-id"),
        ("gke", "gcp:storage/hmacKey:HmacKey", "osmo-cluster-workflow-data-hmac-3", "-hmac-3"),
        ("aks", None, None, "AccountKey=offline-fake-key2-"),
    ],
)
def test_key_generation_issues_a_new_key(
    kind: str, type_: str | None, name: str | None, found: str
) -> None:
    rec = run_main(with_bucket(kind, keyGeneration=3))
    if type_ is not None:
        assert [r.name for r in rec.by_type(type_)] == [name]
    keys = engine.unwrap_secrets(rec.raw_outputs["workflow_data_credential"])
    assert found in keys["access_key_id"] + keys["access_key"]


def test_control_plane_gets_the_bucket_key_as_the_credential_secret() -> None:
    values = with_bucket("eks")
    values["osmo-backend:osmo"] = {
        **values["osmo-backend:osmo"],
        "controlPlane": {"name": "osmo-service", "kubeconfig": str(SAMPLE_KUBECONFIG)},
    }
    rec = run_main(values)
    secret = rec.get(
        "kubernetes:core/v1:Secret", "osmo-connection-control-plane-storage-credential"
    )
    assert secret.provider is not None
    assert secret.provider.endswith("::osmo-connection-control-plane-k8s")
    assert secret.inputs["metadata"] == {
        "name": "osmo-workflow-data-cred-lab-backend",
        "namespace": "osmo",
    }
    assert secret.inputs["stringData"] == "[secret]"
    data = engine.unwrap_secrets(secret.raw_inputs)["stringData"]
    assert data["access_key"] == "offline-fake-secret-osmo-cluster-workflow-data-key-0"
    assert data["endpoint"] == "s3://osmo-usw2-workflows"


def test_opting_out_of_retention_versioning_and_logs() -> None:
    rec = run_main(with_bucket("gke", retainOnDelete=False, versioning=False, alsoForLogs=False))
    bucket = rec.get("gcp:storage/bucket:Bucket", "osmo-cluster-workflow-bucket")
    assert bucket.options["retainOnDelete"] is False
    assert bucket.raw_inputs["versioning"] == {"enabled": False}
    workflow = service_values(rec)["workflow"]
    assert "workflow_log" not in workflow
    assert "workflow_app" not in workflow


def problems(values: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        load_spec(encode(values), base_dir=REPO)
    return err.value.problems


S = "osmo-backend:storage.bucket"


@pytest.mark.parametrize(
    ("kind", "bucket", "expected"),
    [
        ("eks", {"name": "Osmo_Bucket"}, f"{S}.name: 'Osmo_Bucket' is not an S3 bucket name"),
        ("gke", {"name": "google-data"}, f"{S}.name: 'google-data': GCS bucket names cannot"),
        (
            "aks",
            {"name": "osmo-workflows"},
            f"{S}.name: 'osmo-workflows' is not a storage account name",
        ),
        (
            "aks",
            {"name": "osmoeus", "container": "A"},
            f"{S}.container: 'A' is not a blob container name",
        ),
        ("eks", {"name": "osmo-data", "container": "x"}, f"{S}.container: only applies on aks"),
        (
            "gke",
            {"name": "osmo-data", "serviceAccount": "Bad"},
            f"{S}.serviceAccount: 'Bad' is not a DNS-1123 label",
        ),
        (
            "eks",
            {"name": "osmo-data", "retainOnDelete": "no"},
            f"{S}.retainOnDelete: must be true or false",
        ),
        (
            "gke",
            {"name": "osmo-data", "keyGeneration": -1},
            f"{S}.keyGeneration: must be a whole number >= 0, got -1",
        ),
    ],
)
def test_bucket_mistakes(kind: str, bucket: dict[str, Any], expected: str) -> None:
    values = MAKERS[kind]()
    values["osmo-backend:storage"] = {"bucket": bucket}
    assert any(p.startswith(expected) for p in problems(values)), problems(values)


def test_no_created_bucket_on_an_adopted_cluster_and_not_next_to_workflow_data() -> None:
    values = config(storage={"bucket": {"name": "osmo-lab"}})
    assert problems(values) == (
        f"{S}: the stack creates buckets in the cluster's cloud (eks, gke, aks); on an existing "
        "cluster use storage.workflowData with an S3-compatible endpoint",
    )
    values = with_bucket("eks")
    values["osmo-backend:storage"]["workflowData"] = {"uri": "s3://other"}
    assert problems(values) == (
        "osmo-backend:storage: set one workflow data store, not workflowData and bucket",
    )


S3_SETTINGS = {
    # Each one's delete undoes its setting on a bucket that stays (terraform-provider-aws
    # internal/service/s3: bucket_public_access_block.go DeletePublicAccessBlock (pulumi-aws
    # documents `skip_destroy` for that reason), bucket_ownership_controls.go
    # DeleteBucketOwnershipControls; pulumi-aws s3/bucket_server_side_encryption_configuration.py
    # "resets the bucket to Amazon S3 bucket default encryption", s3/bucket_versioning.py "will
    # ... suspend versioning").
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public-access",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ownership",
    "aws:s3/bucketServerSideEncryptionConfiguration:"
    "BucketServerSideEncryptionConfiguration": "encryption",
    "aws:s3/bucketVersioning:BucketVersioning": "versioning",
}


@pytest.mark.parametrize("retain", [True, False])
def test_a_kept_s3_bucket_keeps_its_settings(retain: bool) -> None:
    rec = recording("eks") if retain else run_main(with_bucket("eks", retainOnDelete=False))
    bucket = rec.get("aws:s3/bucket:Bucket", "osmo-cluster-workflow-bucket")
    assert bucket.options["retainOnDelete"] is retain
    for type_, suffix in S3_SETTINGS.items():
        setting = rec.get(type_, f"osmo-cluster-workflow-bucket-{suffix}")
        assert setting.options["retainOnDelete"] is retain, type_
        assert setting.raw_inputs["bucket"] == "osmo-cluster-workflow-bucket-id"
    # The identity and its grant go: nothing else of the bucket's is kept.
    assert (
        rec.get("aws:iam/policy:Policy", "osmo-cluster-workflow-bucket-policy").options[
            "retainOnDelete"
        ]
        is False
    )


def test_the_gcs_bucket_waits_for_the_storage_api_and_the_binding_for_the_cluster() -> None:
    rec = recording("gke")
    api = rec.get("gcp:projects/service:Service", "osmo-cluster-api-storage")
    assert api.raw_inputs == {
        "project": "osmo-test-1",
        "service": "storage.googleapis.com",
        "disableOnDestroy": False,
    }
    bucket = rec.get("gcp:storage/bucket:Bucket", "osmo-cluster-workflow-bucket")
    assert api.urn in bucket.options["dependsOn"]
    for grant in rec.by_type("gcp:storage/bucketIAMMember:BucketIAMMember"):
        assert api.urn in grant.options["dependsOn"]
    user = rec.get("gcp:serviceaccount/iAMMember:IAMMember", "osmo-cluster-workflow-wi-user")
    assert (
        rec.urn_of("gcp:container/cluster:Cluster", "osmo-cluster-gke") in user.options["dependsOn"]
    )


@pytest.mark.parametrize(
    ("kind", "type_", "key", "scheme", "host"),
    [
        ("eks", "aws:s3/bucket:Bucket", "bucket", "s3", "*.s3.us-west-2.amazonaws.com"),
        ("gke", "gcp:storage/bucket:Bucket", "name", "gs", "storage.googleapis.com"),
    ],
)
def test_a_random_suffix_makes_the_bucket_name_unique(
    kind: str, type_: str, key: str, scheme: str, host: str
) -> None:
    rec = run_main(with_bucket(kind, randomSuffix=True))
    suffix = rec.get(
        "random:index/randomString:RandomString", "osmo-cluster-workflow-bucket-suffix"
    )
    assert {k: suffix.raw_inputs[k] for k in ("length", "special", "upper")} == {
        "length": 6,
        "special": False,
        "upper": False,
    }
    fake = engine._fake_random_string(suffix.name, {"length": 6})["result"]  # pyright: ignore[reportPrivateUsage]
    name = f"{BUCKETS[kind]}-{fake}"
    bucket = rec.get(type_, "osmo-cluster-workflow-bucket")
    assert bucket.raw_inputs[key] == name
    assert bucket.property_dependencies[key] == [suffix.urn]
    uri = f"{scheme}://{name}"
    workflow = service_values(rec)["workflow"]
    assert workflow["workflow_data"] == {
        "credential": {"secretName": "osmo-workflow-data-cred-lab-backend"},
        "base_url": uri,
    }
    credential = engine.unwrap_secrets(rec.raw_outputs["workflow_data_credential"])
    assert credential["endpoint"] == uri
    hosts = {e["host"] for e in rec.raw_outputs["egress_allowlist"]}
    assert host in hosts
    # Without the flag there is no suffix.
    assert not [r for r in recording(kind).resources if r.name == suffix.name]


@pytest.mark.parametrize(
    ("kind", "name", "expected"),
    [
        (
            "eks",
            "a" * 57,
            f"{S}.name: {'a' * 57!r} with its random suffix ({'a' * 57 + '-xxxxxx'!r}, the suffix "
            "adds 7 characters) is not an S3 bucket name: 3-63 lowercase letters, digits, '.' "
            "and '-'",
        ),
        (
            "gke",
            "g" * 60,
            f"{S}.name: {'g' * 60!r} with its random suffix ({'g' * 60 + '-xxxxxx'!r}, the suffix "
            "adds 7 characters) is not a GCS bucket name: 3-63 lowercase letters, digits, '.', "
            "'_' and '-'",
        ),
        (
            "aks",
            "s" * 19,
            f"{S}.name: {'s' * 19!r} with its random suffix ({'s' * 19 + 'xxxxxx'!r}, the suffix "
            "adds 6 characters) is not a storage account name: 3-24 lowercase letters and digits",
        ),
    ],
)
def test_a_name_too_long_for_its_suffix_is_refused(kind: str, name: str, expected: str) -> None:
    values = MAKERS[kind]()
    values["osmo-backend:storage"] = {"bucket": {"name": name, "randomSuffix": True}}
    assert problems(values) == (expected,)
    fits = {"eks": 56, "gke": 56, "aks": 18}[kind]
    values["osmo-backend:storage"] = {"bucket": {"name": name[:fits], "randomSuffix": True}}
    spec = load_spec(encode(values), base_dir=REPO).storage.bucket
    assert spec is not None
    assert spec.random_suffix is True
    values["osmo-backend:storage"] = {"bucket": {"name": name, "randomSuffix": "yes"}}
    assert problems(values) == (f"{S}.randomSuffix: must be true or false, got 'yes'",)
