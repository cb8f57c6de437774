"""`storage.objectStore`: the lab object store on an existing cluster as exact objects (hardened
pod, volume, network policy, bucket Job, ingress), its generated credential reaching only the
control plane's Secret, the workflow policy letting workflow pods in, and the config's refusals."""

import json
from functools import cache
from typing import Any

import pytest

from components.config import ConfigError, load_spec
from components.object_store import MC_IMAGE, MINIO_IMAGE, data_policy
from offline import engine
from tests.components.test_eks_cluster import eks_config
from tests.harness import REPO, SAMPLE_KUBECONFIG, config, encode, run_main

STORE = {"bucket": "osmo-workflows", "storageSize": "100Gi", "ingressHost": "s3.lab.internal"}
K8S = "kubernetes:"


def lab_config(**store: Any) -> dict[str, Any]:
    values = config(
        osmo={
            "controlPlane": {"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG)},
        },
        storage={"objectStore": {**STORE, **store}},
    )
    values["osmo-backend:networking"] = {
        **values["osmo-backend:networking"],
        "ingress": {"enabled": True, "serviceType": "NodePort"},
    }
    return values


@cache
def recording() -> engine.Recording:
    return run_main(lab_config())


def get(type_: str, name: str) -> engine.ResourceRecord:
    return recording().get(f"{K8S}{type_}", name)


def test_the_server_runs_hardened_on_its_own_volume() -> None:
    ns = get("core/v1:Namespace", "osmo-object-store-ns").raw_inputs["metadata"]
    assert ns["name"] == "osmo-object-store"
    assert ns["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    deployment = get("apps/v1:Deployment", "osmo-object-store-server")
    spec = deployment.raw_inputs["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "runAsGroup": 10001,
        "fsGroup": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    (container,) = pod["containers"]
    assert container["image"] == MINIO_IMAGE == "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
    assert container["args"] == ["server", "/data", "--certs-dir", "/tmp/certs"]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/minio/health/ready", "port": 9000}
    assert [e["valueFrom"]["secretKeyRef"] for e in container["env"]] == [
        {"name": "object-store-root", "key": "MINIO_ROOT_USER"},
        {"name": "object-store-root", "key": "MINIO_ROOT_PASSWORD"},
    ]
    claim = get("core/v1:PersistentVolumeClaim", "osmo-object-store-data").raw_inputs["spec"]
    assert claim == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "100Gi"}},
    }
    root = get("core/v1:Secret", "osmo-object-store-root")
    assert root.inputs["stringData"] == "[secret]"
    assert {
        get("core/v1:Secret", "osmo-object-store-root").urn,
        get("core/v1:PersistentVolumeClaim", "osmo-object-store-data").urn,
    } <= set(deployment.options["dependsOn"])


def test_the_bucket_job_creates_a_bucket_scoped_user_for_osmo_after_the_server() -> None:
    job = get("batch/v1:Job", "osmo-object-store-bucket")
    (container,) = job.raw_inputs["spec"]["template"]["spec"]["containers"]
    assert container["image"] == MC_IMAGE
    policy = json.dumps(data_policy("osmo-workflows"), sort_keys=True)
    # mc syntax: min.io/docs/minio/linux/reference/minio-mc-admin/mc-admin-policy-create.html,
    # mc-admin-policy-attach.html, mc-admin-user-add.html.
    assert container["command"] == [
        "sh",
        "-c",
        "mc alias set lab http://object-store.osmo-object-store.svc.cluster.local:9000 "
        '"$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" && mc mb --ignore-existing lab/osmo-workflows'
        f" && printf '%s' '{policy}' > /tmp/policy.json"
        " && mc admin policy create lab osmo-workflow-data /tmp/policy.json"
        ' && mc admin user add lab "$OSMO_ACCESS_KEY" "$OSMO_SECRET_KEY"'
        ' && { mc admin policy detach lab osmo-workflow-data --user "$OSMO_ACCESS_KEY" || true; }'
        ' && mc admin policy attach lab osmo-workflow-data --user "$OSMO_ACCESS_KEY"',
    ]
    assert [e["valueFrom"]["secretKeyRef"] for e in container["env"][:4]] == [
        {"name": "object-store-root", "key": "MINIO_ROOT_USER"},
        {"name": "object-store-root", "key": "MINIO_ROOT_PASSWORD"},
        {"name": "object-store-data-user", "key": "OSMO_ACCESS_KEY"},
        {"name": "object-store-data-user", "key": "OSMO_SECRET_KEY"},
    ]
    assert data_policy("b")["Statement"] == [
        {
            "Effect": "Allow",
            "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
            "Resource": ["arn:aws:s3:::b"],
        },
        {
            "Effect": "Allow",
            "Action": [
                "s3:GetObject",
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:AbortMultipartUpload",
                "s3:ListMultipartUploadParts",
            ],
            "Resource": ["arn:aws:s3:::b/*"],
        },
    ]
    user = get("core/v1:Secret", "osmo-object-store-data-user")
    assert user.inputs["stringData"] == "[secret]"
    assert job.options["dependsOn"] == [
        get("apps/v1:Deployment", "osmo-object-store-server").urn,
        user.urn,
    ]


def test_through_an_ingress_host_only_the_job_and_the_ingress_controller_get_in() -> None:
    policy = get("networking.k8s.io/v1:NetworkPolicy", "osmo-object-store-policy").raw_inputs
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (rule,) = policy["spec"]["ingress"]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/component": "bucket"}}},
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}}},
    ]
    assert rule["ports"] == [{"port": 9000, "protocol": "TCP"}]
    ingress = get("networking.k8s.io/v1:Ingress", "osmo-object-store-ingress").raw_inputs["spec"]
    assert ingress["ingressClassName"] == "osmo"
    assert ingress["rules"][0]["host"] == "s3.lab.internal"


def test_workflow_pods_reach_exactly_the_address_osmo_hands_them() -> None:
    """OSMO gives workflow pods and the service the same `override_url` (issue 15 item 9): with
    an ingress host that is Traefik's web entrypoint (container port 8000, pods labelled
    app.kubernetes.io/name=traefik: traefik-helm-chart v41.3.0 values.yaml ports.web.port,
    templates/_helpers.tpl traefik.labelselector); the whole store namespace is not opened."""
    operator = recording().get(K8S + "helm.sh/v3:Release", "osmo-operators-backend-operator")
    policy = operator.raw_inputs["values"]["global"]["networkPolicy"]
    assert policy["allowedNamespaces"] == []
    assert policy["additionalEgressRules"][-1] == {
        "to": [
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress"}},
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
            }
        ],
        "ports": [{"port": 8000, "protocol": "TCP"}],
    }


def test_the_control_plane_gets_the_generated_credential_as_a_secret_only() -> None:
    rec = recording()
    secret = rec.get(K8S + "core/v1:Secret", "osmo-connection-control-plane-storage-credential")
    assert secret.inputs["stringData"] == "[secret]"
    data = engine.unwrap_secrets(secret.raw_inputs["stringData"])
    password = engine.unwrap_secrets(
        get("core/v1:Secret", "osmo-object-store-root").raw_inputs["stringData"]
    )["MINIO_ROOT_PASSWORD"]
    user = engine.unwrap_secrets(
        get("core/v1:Secret", "osmo-object-store-data-user").raw_inputs["stringData"]
    )
    # OSMO holds the bucket-scoped user, never MinIO's root account.
    assert user["OSMO_ACCESS_KEY"] == "osmo-workflow-data"
    assert user["OSMO_SECRET_KEY"] != password
    assert data == {
        "access_key_id": "osmo-workflow-data",
        "access_key": user["OSMO_SECRET_KEY"],
        "endpoint": "s3://osmo-workflows",
        "region": "us-east-1",
        "override_url": "http://s3.lab.internal",
        "addressing_style": "path",
    }
    workflow = rec.raw_outputs["osmo_service_values"]["services"]["configs"]["workflow"]
    credential = {"credential": {"secretName": "osmo-workflow-data-cred-lab-backend"}}
    # Logs and app data use the store too by default (without them OSMO's logs API fails).
    assert {k: v for k, v in workflow.items() if k != "backend_images"} == {
        "workflow_data": {**credential, "base_url": "s3://osmo-workflows"},
        "workflow_log": credential,
        "workflow_app": credential,
    }
    assert password not in str(rec.outputs)
    assert user["OSMO_SECRET_KEY"] not in str(rec.outputs)


def test_without_an_ingress_host_the_service_uses_the_in_cluster_address() -> None:
    rec = run_main(lab_config(ingressHost=None))
    ingresses = rec.by_type(K8S + "networking.k8s.io/v1:Ingress")
    assert not [r.name for r in ingresses if r.name.startswith("osmo-object-store")]
    secret = rec.get(K8S + "core/v1:Secret", "osmo-connection-control-plane-storage-credential")
    data = engine.unwrap_secrets(secret.raw_inputs["stringData"])
    assert data["override_url"] == "http://object-store.osmo-object-store.svc.cluster.local:9000"
    # Workflow pods reach the store's pods on the S3 port, and the store admits them.
    operator = rec.get(K8S + "helm.sh/v3:Release", "osmo-operators-backend-operator")
    assert operator.raw_inputs["values"]["global"]["networkPolicy"]["additionalEgressRules"][
        -1
    ] == {
        "to": [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "osmo-object-store"}
                },
                "podSelector": {"matchLabels": {"app.kubernetes.io/name": "object-store"}},
            }
        ],
        "ports": [{"port": 9000, "protocol": "TCP"}],
    }
    policy = rec.get(K8S + "networking.k8s.io/v1:NetworkPolicy", "osmo-object-store-policy")
    assert policy.raw_inputs["spec"]["ingress"][0]["from"][0] == {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "osmo-workflows"}}
    }


def problems(values: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        load_spec(encode(values), base_dir=REPO)
    return err.value.problems


P = "osmo-backend:storage.objectStore"


@pytest.mark.parametrize(
    ("store", "expected"),
    [
        ({"bucket": "Osmo"}, f"{P}.bucket: 'Osmo' is not an S3 bucket name"),
        ({"storageSize": "lots"}, f"{P}.storageSize: 'lots' is not a size like 50Gi"),
        ({"namespace": "Store"}, f"{P}.namespace: 'Store' is not a DNS-1123 label"),
        ({"ingressHost": "s3 lab"}, f"{P}.ingressHost: 's3 lab' is not a host name"),
    ],
)
def test_store_mistakes(store: dict[str, Any], expected: str) -> None:
    assert problems(lab_config(**store)) == (expected,)


def test_the_store_is_for_existing_clusters_needs_the_ingress_for_a_host_and_is_alone() -> None:
    values = eks_config()
    values["osmo-backend:storage"] = {"objectStore": {"bucket": "osmo-data"}}
    assert problems(values) == (
        f"{P}: is for labs on an existing cluster; cloud clusters use storage.bucket (workload "
        "identity, no keys)",
    )
    values = config(storage={"objectStore": STORE})
    assert problems(values) == (
        f"{P}.ingressHost: needs the stack's ingress controller (networking.ingress.enabled: true)",
    )
    values = lab_config()
    values["osmo-backend:storage"]["workflowData"] = {"uri": "s3://other"}
    assert problems(values) == (
        "osmo-backend:storage: set one workflow data store, not workflowData and objectStore",
    )
