"""A lab object store: one MinIO server inside an existing cluster, holding the workflow data
bucket, for labs with no S3-compatible store of their own.

Hardened as far as MinIO allows: a `restricted` namespace, non-root with a read-only root
filesystem and no capabilities, no service account token, a generated root password kept as a
Pulumi secret (the pods read it from a Secret), a NetworkPolicy that admits only the workflow
namespace, the bucket Job and (with an ingress host) the ingress controller. It is one replica on
one volume: a lab store, not a production one (DESIGN section 7 exceptions: image tags are pinned
but digests cannot be checked offline; MinIO reads its root credentials from the environment).
"""

import json
from typing import Any, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components._namespaces import namespace
from components.config import IngressControllerSpec
from components.config.storage import ObjectStoreSpec
from components.networking import TRAEFIK_WEB_PORT, TRAEFIK_WEBSECURE_PORT, ingress_tls

TYPE = "osmo-backend:index:LabObjectStore"
MINIO_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z"
MC_IMAGE = "quay.io/minio/mc:RELEASE.2025-08-13T08-35-41Z"
ROOT_USER = "osmo"
"""MinIO's root account: administration only (the bucket Job)."""
DATA_USER = "osmo-workflow-data"
"""The MinIO user OSMO's workflow data credential holds: this bucket only (DATA_POLICY)."""
DATA_POLICY = "osmo-workflow-data"
NAME = "object-store"
PORT = 9000
TLS_SECRET = f"{NAME}-tls"
"""Where cert-manager puts the store's certificate (networking.ingress.tls issuer or
clusterIssuer)."""
UID = 10001
_LABELS = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/managed-by": "osmo-backend"}
_POD_SECURITY: k8s.core.v1.PodSecurityContextArgsDict = {
    "run_as_non_root": True,
    "run_as_user": UID,
    "run_as_group": UID,
    "fs_group": UID,
    "seccomp_profile": {"type": "RuntimeDefault"},
}
_CONTAINER_SECURITY: k8s.core.v1.SecurityContextArgsDict = {
    "allow_privilege_escalation": False,
    "read_only_root_filesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
_RESOURCES: k8s.core.v1.ResourceRequirementsArgsDict = {
    "requests": {"cpu": "250m", "memory": "512Mi"},
    "limits": {"cpu": "2", "memory": "4Gi"},
}


class LabObjectStoreArgs(TypedDict):
    spec: ObjectStoreSpec
    workflow_namespace: str
    ingress: IngressControllerSpec | None


def _secret_env(secret: str, *keys: str) -> list[k8s.core.v1.EnvVarArgsDict]:
    return [
        {"name": key, "value_from": {"secret_key_ref": {"name": secret, "key": key}}}
        for key in keys
    ]


def _root_env() -> list[k8s.core.v1.EnvVarArgsDict]:
    return _secret_env(f"{NAME}-root", "MINIO_ROOT_USER", "MINIO_ROOT_PASSWORD")


def data_policy(bucket: str) -> dict[str, Any]:
    """The MinIO policy of OSMO's user: list and read/write/delete objects in its bucket
    (MinIO policies are AWS IAM policy documents over `arn:aws:s3:::` resources)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "s3:ListBucket",
                    "s3:GetBucketLocation",
                    "s3:ListBucketMultipartUploads",
                ],
                "Resource": [f"arn:aws:s3:::{bucket}"],
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
                "Resource": [f"arn:aws:s3:::{bucket}/*"],
            },
        ],
    }


def bucket_script(spec: ObjectStoreSpec) -> str:
    """As root: the bucket, OSMO's user with a policy on that bucket alone. Re-runnable: `mb
    --ignore-existing`; `policy create` overwrites a policy of the same name and `user add` sets
    an existing user's secret; the policy is detached (if attached) before it is attached again
    (min.io/docs/minio/linux/reference/minio-mc-admin/mc-admin-policy-create.html and
    mc-admin-policy-attach.html: attaching needs the user to exist)."""
    policy = json.dumps(data_policy(spec.bucket), sort_keys=True)
    return " && ".join(
        [
            f'mc alias set lab {spec.in_cluster_url} "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"',
            f"mc mb --ignore-existing lab/{spec.bucket}",
            f"printf '%s' '{policy}' > /tmp/policy.json",
            f"mc admin policy create lab {DATA_POLICY} /tmp/policy.json",
            'mc admin user add lab "$OSMO_ACCESS_KEY" "$OSMO_SECRET_KEY"',
            f'{{ mc admin policy detach lab {DATA_POLICY} --user "$OSMO_ACCESS_KEY" || true; }}',
            f'mc admin policy attach lab {DATA_POLICY} --user "$OSMO_ACCESS_KEY"',
        ]
    )


def workflow_egress_rules(
    spec: ObjectStoreSpec, ingress: IngressControllerSpec | None
) -> tuple[dict[str, Any], ...]:
    """The egress rule that lets workflow pods reach the store at the address OSMO hands them
    (`spec.url`, the credential's `override_url`) and nothing else of it: through an ingress
    host, Traefik's pods on the web port, or with TLS the websecure port (a NodePort or load
    balancer address is translated to them before the policy applies); else the store's own pods
    on the S3 port."""
    if spec.ingress_host and ingress is not None:
        port = TRAEFIK_WEBSECURE_PORT if spec.tls else TRAEFIK_WEB_PORT
        namespace, pods = ingress.namespace, {"app.kubernetes.io/name": "traefik"}
    else:
        namespace, pods, port = spec.namespace, {"app.kubernetes.io/name": NAME}, PORT
    return (
        {
            "to": [
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": namespace}
                    },
                    "podSelector": {"matchLabels": pods},
                }
            ],
            "ports": [{"port": port, "protocol": "TCP"}],
        },
    )


class LabObjectStore(pulumi.ComponentResource):
    """MinIO with the workflow data bucket, in its own namespace."""

    access_key_id: str
    secret_access_key: pulumi.Output[str]
    """OSMO's bucket-scoped MinIO user and its password (secret): the static key OSMO's
    credential carries. The root account stays with the bucket Job."""
    deployment: k8s.apps.v1.Deployment
    bucket_job: k8s.batch.v1.Job

    def __init__(
        self, name: str, args: LabObjectStoreArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        spec = args["spec"]
        child = pulumi.ResourceOptions(parent=self)
        ns = namespace(
            f"{name}-ns", name=spec.namespace, role=NAME, enforce="restricted", opts=child
        )
        self._ns = ns
        password = random.RandomPassword(
            f"{name}-root-password", length=40, special=False, opts=child
        )
        root_password = pulumi.Output.secret(password.result)
        root = k8s.core.v1.Secret(
            f"{name}-root",
            metadata=self._meta(f"{NAME}-root"),
            type="Opaque",
            string_data={"MINIO_ROOT_USER": ROOT_USER, "MINIO_ROOT_PASSWORD": root_password},
            opts=child,
        )
        data_password = random.RandomPassword(
            f"{name}-data-password", length=40, special=False, opts=child
        )
        self.access_key_id = DATA_USER
        self.secret_access_key = pulumi.Output.secret(data_password.result)
        data_user = k8s.core.v1.Secret(
            f"{name}-data-user",
            metadata=self._meta(f"{NAME}-data-user"),
            type="Opaque",
            string_data={"OSMO_ACCESS_KEY": DATA_USER, "OSMO_SECRET_KEY": self.secret_access_key},
            opts=child,
        )
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-data",
            metadata=self._meta(f"{NAME}-data"),
            spec={
                "access_modes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": spec.storage_size}},
                "storage_class_name": spec.storage_class,
            },
            opts=child,
        )
        selector = {"app.kubernetes.io/name": NAME}
        live: k8s.core.v1.ProbeArgsDict = {
            "http_get": {"path": "/minio/health/live", "port": PORT},
            "period_seconds": 10,
        }
        ready: k8s.core.v1.ProbeArgsDict = {
            "http_get": {"path": "/minio/health/ready", "port": PORT},
            "period_seconds": 10,
        }
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-server",
            metadata=self._meta(NAME),
            spec={
                "replicas": 1,
                # One ReadWriteOnce volume: the old pod must let go before the new one starts.
                "strategy": {"type": "Recreate"},
                "selector": {"match_labels": selector},
                "template": {
                    "metadata": {"labels": {**_LABELS, **selector}},
                    "spec": {
                        "automount_service_account_token": False,
                        "security_context": _POD_SECURITY,
                        "containers": [
                            {
                                "name": "minio",
                                "image": MINIO_IMAGE,
                                "image_pull_policy": "Always",
                                "args": ["server", "/data", "--certs-dir", "/tmp/certs"],
                                "env": _root_env(),
                                "ports": [{"name": "s3", "container_port": PORT}],
                                "liveness_probe": live,
                                "readiness_probe": ready,
                                "resources": _RESOURCES,
                                "security_context": _CONTAINER_SECURITY,
                                "volume_mounts": [
                                    {"name": "data", "mount_path": "/data"},
                                    {"name": "tmp", "mount_path": "/tmp"},
                                ],
                            }
                        ],
                        "volumes": [
                            {
                                "name": "data",
                                "persistent_volume_claim": {"claim_name": f"{NAME}-data"},
                            },
                            {"name": "tmp", "empty_dir": {}},
                        ],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[root, claim]),
        )
        k8s.core.v1.Service(
            f"{name}-service",
            metadata=self._meta(NAME),
            spec={
                "type": "ClusterIP",
                "selector": selector,
                "ports": [{"name": "s3", "port": PORT, "target_port": PORT}],
            },
            opts=child,
        )
        self.bucket_job = k8s.batch.v1.Job(
            f"{name}-bucket",
            metadata=self._meta(f"{NAME}-bucket-{spec.bucket}"[:63].rstrip("-.")),
            spec={
                "backoff_limit": 6,
                "template": {
                    "metadata": {"labels": {**_LABELS, "app.kubernetes.io/component": "bucket"}},
                    "spec": {
                        "restart_policy": "OnFailure",
                        "automount_service_account_token": False,
                        "security_context": _POD_SECURITY,
                        "containers": [
                            {
                                "name": "mc",
                                "image": MC_IMAGE,
                                "image_pull_policy": "Always",
                                "command": ["sh", "-c", bucket_script(spec)],
                                "env": [
                                    *_root_env(),
                                    *_secret_env(
                                        f"{NAME}-data-user", "OSMO_ACCESS_KEY", "OSMO_SECRET_KEY"
                                    ),
                                    {"name": "MC_CONFIG_DIR", "value": "/tmp/mc"},
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "64Mi"},
                                    "limits": {"cpu": "500m", "memory": "256Mi"},
                                },
                                "security_context": _CONTAINER_SECURITY,
                                "volume_mounts": [{"name": "tmp", "mount_path": "/tmp"}],
                            }
                        ],
                        "volumes": [{"name": "tmp", "empty_dir": {}}],
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.deployment, data_user]),
        )
        # Who reaches the store is who uses its URL: through an ingress host only the ingress
        # controller (workflow pods and the service both come through it); else workflow pods.
        sources: list[k8s.networking.v1.NetworkPolicyPeerArgsDict] = [
            {"pod_selector": {"match_labels": {"app.kubernetes.io/component": "bucket"}}},
        ]
        ingress = args["ingress"]
        if not (spec.ingress_host and ingress is not None):
            sources.insert(0, {"namespace_selector": _named(args["workflow_namespace"])})
        if spec.ingress_host and ingress is not None:
            sources.append({"namespace_selector": _named(ingress.namespace)})
            annotations, tls = ingress_tls(ingress.tls, spec.ingress_host, TLS_SECRET)
            metadata = self._meta(NAME)
            if annotations:
                metadata["annotations"] = annotations
            ingress_spec: k8s.networking.v1.IngressSpecArgsDict = {
                "ingress_class_name": ingress.class_name,
                "rules": [
                    {
                        "host": spec.ingress_host,
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "path_type": "Prefix",
                                    "backend": {
                                        "service": {"name": NAME, "port": {"number": PORT}}
                                    },
                                }
                            ]
                        },
                    }
                ],
            }
            if tls:
                ingress_spec["tls"] = [
                    {"hosts": entry["hosts"], "secret_name": entry["secretName"]} for entry in tls
                ]
            k8s.networking.v1.Ingress(
                f"{name}-ingress", metadata=metadata, spec=ingress_spec, opts=child
            )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-policy",
            metadata=self._meta(NAME),
            spec={
                "pod_selector": {},
                "policy_types": ["Ingress"],
                "ingress": [{"from_": sources, "ports": [{"port": PORT, "protocol": "TCP"}]}],
            },
            opts=child,
        )
        self.register_outputs({})

    def _meta(self, name: str) -> k8s.meta.v1.ObjectMetaArgsDict:
        return {"name": name, "namespace": self._ns.metadata.name, "labels": dict(_LABELS)}


def _named(namespace_name: str) -> k8s.meta.v1.LabelSelectorArgsDict:
    return {"match_labels": {"kubernetes.io/metadata.name": namespace_name}}
