"""JSON Schema of stack files, for editors (validation and completion of `osmo-backend:*` keys).

`python -m components.config.schema > schema/stack-config.schema.json` regenerates the committed
file; a test fails when it is stale, and another walks every object in this schema, adds an
unknown key and checks that `load_spec` rejects it listing exactly the properties declared here,
so the schema and the parser cannot drift apart.
"""

import json
from typing import Any

from components import versions
from components.config._common import TAINT_EFFECTS
from components.config.monitoring import LOGS_BACKENDS
from components.config.networking import SERVICE_TYPES
from components.config.osmo import TOKEN_SOURCES
from components.config.storage import ADDRESSING_STYLES

SCHEMA_ID = "https://github.com/osmo-backend/osmo-backend/schema/stack-config.schema.json"
Json = dict[str, Any]


def obj(properties: dict[str, Json], *, required: tuple[str, ...] = (), doc: str = "") -> Json:
    schema: Json = {"type": "object", "additionalProperties": False, "properties": properties}
    if required:
        schema["required"] = list(required)
    if doc:
        schema["description"] = doc
    return schema


def string(doc: str, **extra: Any) -> Json:
    return {"type": "string", "description": doc, **extra}


def boolean(doc: str, default: bool) -> Json:
    return {"type": "boolean", "description": doc, "default": default}


def free_map(doc: str) -> Json:
    return {"type": "object", "description": doc}


def strings(doc: str) -> Json:
    return {"type": "array", "items": {"type": "string"}, "description": doc}


def string_map(doc: str) -> Json:
    return {"type": "object", "additionalProperties": {"type": "string"}, "description": doc}


def pool_extras(zones: str) -> dict[str, Json]:
    """Pool settings every cloud kind shares: extra node labels and taints, pinned zones."""
    taint = obj(
        {
            "key": string("Taint key (label key syntax)."),
            "value": string("Taint value. Default: empty."),
            "effect": string("Taint effect.", enum=list(TAINT_EFFECTS)),
        },
        required=("key", "effect"),
    )
    return {
        "labels": string_map(
            "Extra Kubernetes node labels (not node-type, nvidia.com/gpu, osmo.nvidia.com/pool, "
            "nor kubernetes.io / k8s.io / cloud domains)."
        ),
        "taints": {
            "type": "array",
            "items": taint,
            "description": "Extra taints (not on the operator pool); OSMO's platforms for the "
            "pool tolerate them.",
        },
        "zones": strings(zones),
    }


def tags(rules: str) -> Json:
    return string_map(f"Cost-allocation tags on every cloud resource of the stack ({rules}).")


SECRET: Json = {
    "description": "A Pulumi secret: set it with `pulumi config set --secret KEY ...`.",
    "type": "object",
    "properties": {"secure": {"type": "string"}},
    "required": ["secure"],
    "additionalProperties": False,
}


def _release(doc: str, *, namespace: bool = True, extra: dict[str, Json] | None = None) -> Json:
    properties: dict[str, Json] = {
        "releaseName": string("Helm release name (DNS-1123 label, at most 53 characters)."),
        "values": free_map("Chart overrides, deep-merged last; keys must be ones the chart reads."),
    }
    if namespace:
        properties["namespace"] = string("Namespace of the release.")
    properties.update(extra or {})
    return obj(properties, doc=doc)


def _web_ui(doc: str, extra: dict[str, Json] | None = None) -> Json:
    ingress = obj(
        {"host": string("Ingress host name."), "className": string("IngressClass name.")},
        required=("host",),
    )
    return obj({"url": string("External URL."), "ingress": ingress, **(extra or {})}, doc=doc)


def integer(doc: str, minimum: int, maximum: int, **extra: Any) -> Json:
    return {"type": "integer", "minimum": minimum, "maximum": maximum, "description": doc, **extra}


def cluster_schema() -> Json:
    """One `oneOf` branch per registered kind, from its `components/clusters/<kind>/schema.py`."""
    from components.clusters.registry import kind_schemas

    return {"description": "The cluster the backend runs on.", "oneOf": kind_schemas()}


def osmo_schema() -> Json:
    token = obj(
        {
            "source": string("Where the token comes from.", enum=list(TOKEN_SOURCES)),
            "credentialName": string("Credential name on the control plane (<= 49 characters)."),
            "secretName": string("Token Secret name. Default: osmo-backend-token-<credential>."),
            "secretKey": string("Data key in the compute Secret. Default: token."),
            "generation": {"type": "integer", "minimum": 0, "description": "Rotation generation."},
            "overlap": boolean(
                "Rotation phase 1: the control plane also accepts the old token.", False
            ),
        }
    )
    control_plane = obj(
        {
            "name": string("Stable id of the OSMO service cluster."),
            "kubeconfig": string("Its kubeconfig file path."),
            "context": string("Its kubeconfig context."),
            "namespace": string("The OSMO service namespace. Default: osmo."),
        },
        required=("name",),
    )
    return obj(
        {
            "backendName": string("The backend's name in the OSMO service (DNS-1123 label)."),
            "serviceUrl": string("The OSMO gateway URL (https).", format="uri"),
            "routerAddress": string("Router address (wss). Default: from serviceUrl."),
            "imageTag": string("OSMO image tag.", default=versions.OSMO_IMAGE_TAG),
            "namespaces": obj(
                {
                    "operator": string("Backend-operator namespace.", default="osmo-operator"),
                    "workflows": string("Workflow namespace.", default="osmo-workflows"),
                    "test": string("Backend test namespace.", default="osmo-test"),
                }
            ),
            "backendTests": boolean("Enable the backend test runner.", False),
            "pool": string("Pool name in the service fragment. Default: backendName."),
            "token": token,
            "controlPlane": control_plane,
            "imagePullSecret": string("nvcr.io pull Secret name (created from ngcApiKey)."),
        },
        required=("backendName", "serviceUrl"),
        doc="The OSMO connection.",
    )


def operators_schema() -> Json:
    return obj(
        {
            "kaiScheduler": _release("KAI scheduler."),
            "gpuOperator": _release(
                "NVIDIA GPU Operator.",
                extra={
                    "enabled": boolean("Install the GPU Operator.", True),
                    "runtimeClassStub": boolean("With it off: create RuntimeClass nvidia.", True),
                },
            ),
            "backendOperator": _release(
                "OSMO backend-operator (in osmo.namespaces.operator).",
                namespace=False,
                extra={"wait": boolean("Wait for its pods to become ready.", False)},
            ),
        }
    )


def monitoring_schema() -> Json:
    return obj(
        {
            "enabled": boolean("Install monitoring and logging.", True),
            "clusterLabel": string("`cluster` label value. Default: backendName."),
            "namespace": string("Monitoring namespace.", default="monitoring"),
            "agentsNamespace": string("Privileged namespace of the node exporter."),
            "prometheus": obj(
                {
                    "retention": string("Prometheus retention.", default="15d"),
                    "storageSize": string("Prometheus PVC size.", default="50Gi"),
                    "storageClass": string("StorageClass. Default: storage.storageClass."),
                    "values": free_map("kube-prometheus-stack overrides."),
                }
            ),
            "grafana": _web_ui("Grafana's external URL or ingress."),
            "alerts": boolean("Install OSMO alert rules.", True),
            "ephemeralStorageMetrics": obj(
                {
                    "enabled": boolean("Install k8s-ephemeral-storage-metrics.", True),
                    "values": free_map("Chart overrides."),
                }
            ),
            "logs": obj(
                {
                    "backend": string("Log backend.", enum=list(LOGS_BACKENDS)),
                    "retention": string("Log retention.", default="7d"),
                    "storageSize": string("Loki PVC size.", default="20Gi"),
                    "lokiValues": free_map("Loki chart overrides."),
                    "collectorValues": free_map("Alloy chart overrides."),
                }
            ),
            "dashboard": _web_ui(
                "Kubernetes web UI (Headlamp).",
                extra={
                    "enabled": boolean("Install the web UI.", False),
                    "values": free_map("Chart overrides."),
                },
            ),
        },
        doc="Monitoring and logging.",
    )


def networking_schema() -> Json:
    policy = obj(
        {
            "enabled": boolean("Workflow egress NetworkPolicy.", True),
            "clusterCIDRs": strings("The cluster's pod, service and node CIDRs."),
            "dnsNamespace": string("Where DNS runs.", default="kube-system"),
            "allowedNamespaces": strings("Namespaces workflow pods may reach."),
            "allowedCIDRs": strings("In-range CIDRs workflow pods may reach."),
            "additionalEgressRules": {"type": "array", "items": {"type": "object"}},
            "blockedCIDRs": strings(
                "Ranges outside the cluster workflow pods never reach. Default: link-local "
                "(instance metadata) on eks, plus Azure's host address 168.63.129.16/32 on aks "
                "and existing; none on gke (Workload Identity needs its metadata server)."
            ),
            "reachableCIDRs": strings(
                "The only IPv4 networks workflow pods reach (plus DNS, allowed namespaces and "
                "CIDRs) instead of everything outside the cluster; include the OSMO service."
            ),
            "isolateWorkflows": boolean(
                "Admit traffic into a workflow's pods only from the same workflow and OSMO's "
                "namespace (an OSMO group template per task group).",
                True,
            ),
        }
    )
    tls = obj(
        {
            "secretName": string(
                "A kubernetes.io/tls Secret in the ingress namespace: Traefik's default "
                "certificate for every host."
            ),
            "issuer": string("A cert-manager Issuer in each ingress's namespace."),
            "clusterIssuer": string("A cert-manager ClusterIssuer."),
        },
        doc="TLS for everything the controller serves; port 80 redirects to 443. Exactly one "
        "key. cert-manager must already run in the cluster.",
    )
    ingress = obj(
        {
            "enabled": boolean("Install Traefik as the web UIs' ingress controller.", False),
            "className": string("IngressClass it serves.", default="osmo"),
            "namespace": string("Its namespace.", default="ingress"),
            "serviceType": string("Its Service type.", enum=list(SERVICE_TYPES)),
            "values": free_map("Traefik chart overrides."),
            "tls": tls,
        }
    )
    return obj({"workflowPolicy": policy, "ingress": ingress}, doc="Networking.")


def storage_schema() -> Json:
    data = obj(
        {
            "uri": string(
                "s3://<bucket>[/prefix], gs://<bucket>[/prefix] or azure://<account>/<container>"
            ),
            "endpoint": string("S3-compatible service URL."),
            "region": string("Region.", default="us-east-1"),
            "addressingStyle": string("Addressing style.", enum=list(ADDRESSING_STYLES)),
            "alsoForLogs": boolean(
                "Use it for workflow_log and workflow_app too (OSMO's logs API needs them).", True
            ),
        },
        required=("uri",),
    )
    bucket = obj(
        {
            "name": string("S3/GCS bucket name; on AKS the storage account name."),
            "container": string("AKS: the blob container.", default="osmo-workflows"),
            "versioning": boolean("Object versioning.", True),
            "retainOnDelete": boolean("Keep the bucket on pulumi destroy.", True),
            "randomSuffix": boolean(
                "Append a random suffix, kept in state, to the globally unique name.", False
            ),
            "serviceAccount": string(
                "Workflow pods' ServiceAccount bound to the bucket's identity.",
                default="osmo-workflow",
            ),
            "keyGeneration": {
                "type": "integer",
                "minimum": 0,
                "default": 0,
                "description": "Bump to issue a new bucket-scoped key for OSMO (rotation).",
            },
            "alsoForLogs": boolean(
                "Use it for workflow_log and workflow_app too (OSMO's logs API needs them).", True
            ),
        },
        required=("name",),
        doc="A workflow data bucket the stack creates (eks, gke, aks), with workload identity.",
    )
    store = obj(
        {
            "bucket": string("The workflow data bucket it holds."),
            "storageSize": string("Its volume size.", default="50Gi"),
            "storageClass": string("Its volume's StorageClass. Default: the cluster's default."),
            "namespace": string("Its namespace.", default="osmo-object-store"),
            "ingressHost": string(
                "Host the OSMO service reaches it at through networking.ingress. Default: the "
                "in-cluster address."
            ),
            "alsoForLogs": boolean(
                "Use it for workflow_log and workflow_app too (OSMO's logs API needs them).", True
            ),
        },
        required=("bucket",),
        doc="A lab object store (one MinIO server) on an existing cluster.",
    )
    return obj(
        {
            "storageClass": string("StorageClass for in-cluster state."),
            "workflowData": data,
            "bucket": bucket,
            "objectStore": store,
        },
        doc="Storage.",
    )


def policy_schema() -> Json:
    from components.policy import CHECKS

    allow = {"type": "array", "items": {"enum": sorted(c.id for c in CHECKS)}}
    return obj(
        {
            "allow": {**allow, "description": "Check ids allowed to fail."},
            "protect": boolean(
                "Production preset: protect the cloud cluster, buckets and keys.", False
            ),
        },
        doc="Policy.",
    )


SECTIONS = {
    "cluster": cluster_schema,
    "osmo": osmo_schema,
    "operators": operators_schema,
    "monitoring": monitoring_schema,
    "networking": networking_schema,
    "storage": storage_schema,
    "policy": policy_schema,
}
SECRET_KEYS = (
    "kubeconfig",
    "backendToken",
    "previousBackendToken",
    "controlPlaneKubeconfig",
    "ngcApiKey",
    "storageAccessKeyId",
    "storageSecretAccessKey",
)


def stack_file_schema() -> Json:
    properties: dict[str, Json] = {f"osmo-backend:{k}": build() for k, build in SECTIONS.items()}
    for key in SECRET_KEYS:
        properties[f"osmo-backend:{key}"] = SECRET
    config = {
        "type": "object",
        "properties": properties,
        # Other namespaces (aws:region, pulumi:...) are the CLI's and the providers' business,
        # but an unknown osmo-backend key is a typo.
        "propertyNames": {
            "anyOf": [{"not": {"pattern": "^osmo-backend:"}}, {"enum": sorted(properties)}]
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "osmo-backend stack file (stacks/Pulumi.<stack>.yaml)",
        "type": "object",
        "properties": {
            "config": config,
            "environment": {},
            "secretsprovider": {"type": "string"},
            "encryptionsalt": {"type": "string"},
            "encryptedkey": {"type": "string"},
        },
        "additionalProperties": False,
    }


def render() -> str:
    return json.dumps(stack_file_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
