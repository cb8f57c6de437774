"""Security checks over the resources a stack registers (the records the offline engine writes).

Pure functions: each takes one resource record (`type`, `name`, `urn`, `provider`, masked
`inputs`, effective `options`) and returns findings. `osmo-backend plan` runs them on every plan
and fails (exit 2) on an error unless the stack lists the check id under
`osmo-backend:policy.allow`, which the plan prints. Every check names its benchmark with the
version its section number comes from (numbering drifts between versions): the Kubernetes-object
checks cite CIS Amazon EKS Benchmark v1.8.0 section 4 (the same policies in the GKE and AKS
benchmarks), the cloud checks CIS EKS v1.4.0 (as Aqua encodes it), CIS GKE v1.6.0 and CIS AKS
v1.8.0 (as kube-bench encodes them), plus the Checkov 3.3.30 id where one exists; a check with
neither is this project's own rule (DESIGN section 7). A config switch that opts out of a secure
default (for example `allowPublicFromAnywhere`) still fails here until the stack also allows the
check: two explicit steps.

`evaluate_known` runs the same rules where some inputs are not known yet (a preview, or before the
cloud computed them): a rule that reads an unknown value is skipped, so every finding it returns is
certain. components/policy_gate.py gates the real `pulumi preview`/`up` with it.
"""

import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

from components._psa import PRIVILEGED_NAMESPACES, PSA_EXCEPTION_LABEL
from components.versions import EXACT_VERSION

Severity = Literal["error", "warning"]
CIS = "CIS Amazon EKS Benchmark v1.8.0"
CIS_EKS = "CIS Amazon EKS Benchmark v1.4.0"
CIS_GKE = "CIS GKE Benchmark v1.6.0"
CIS_AKS = "CIS AKS Benchmark v1.8.0"
_SECRET = "[secret]"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    severity: Severity
    cis: str | None
    checkov: str | None
    fix: str
    benchmark: str = CIS
    """The benchmark and version `cis` is numbered in."""


@dataclass(frozen=True)
class Finding:
    check: Check
    urn: str
    message: str

    def line(self) -> str:
        refs = ", ".join(
            ref
            for ref in (
                f"{self.check.benchmark} {self.check.cis}" if self.check.cis else None,
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

EKS_ENDPOINT = Check(
    "OSMO-EKS-001",
    "The EKS API endpoint is private or limited to listed networks",
    "error",
    "5.4.2",
    "CKV_AWS_38",
    "list networks in cluster.endpoint.publicAccessCidrs, or none for a private endpoint",
    CIS_EKS,
)
EKS_SECRETS = Check(
    "OSMO-EKS-002",
    "EKS Secrets are envelope-encrypted with KMS",
    "error",
    "5.3.1",
    "CKV_AWS_58",
    "set encryption_config resources [secrets] with a KMS key",
    CIS_EKS,
)
EKS_LOGS = Check(
    "OSMO-EKS-003",
    "All five EKS control-plane log types are on",
    "error",
    "2.1.1",
    "CKV_AWS_37",
    "enable api, audit, authenticator, controllerManager and scheduler logs",
    CIS_EKS,
)
EKS_IMDS = Check(
    "OSMO-EKS-004",
    "Nodes require IMDSv2",
    "error",
    None,
    "CKV_AWS_79",
    "set the launch template's metadata_options http_tokens to required",
    CIS_EKS,
)
KMS_ROTATION = Check(
    "OSMO-KMS-001",
    "Customer KMS keys rotate",
    "error",
    None,
    "CKV_AWS_7",
    "set enable_key_rotation",
    CIS_EKS,
)
GKE_PRIVATE_NODES = Check(
    "OSMO-GKE-001",
    "GKE nodes have no public IPs",
    "error",
    "5.6.5",
    "CKV_GCP_64",
    "keep cluster.privateNodes true",
    CIS_GKE,
)
GKE_ENDPOINT = Check(
    "OSMO-GKE-002",
    "The GKE control plane is private or limited to listed networks",
    "error",
    "5.6.4",
    "CKV_GCP_18",
    "keep endpoint.privateEndpoint true, or list networks without 0.0.0.0/0",
    CIS_GKE,
)
GKE_SECRETS = Check(
    "OSMO-GKE-003",
    "GKE Secrets are encrypted with Cloud KMS",
    "error",
    "5.3.1",
    None,
    "set database_encryption state ENCRYPTED with a KMS key",
    CIS_GKE,
)
GKE_IDENTITY = Check(
    "OSMO-GKE-004",
    "Workload Identity with the GKE metadata server on every pool",
    "error",
    "5.2.2",
    "CKV_GCP_69",
    "set workload_identity_config and the pools' workload_metadata_config mode GKE_METADATA",
    CIS_GKE,
)
GKE_NODE_ACCOUNT = Check(
    "OSMO-GKE-005",
    "GKE nodes run as a dedicated service account",
    "error",
    "5.2.1",
    None,
    "give node_config a dedicated service_account",
    CIS_GKE,
)
GKE_NODE_MANAGEMENT = Check(
    "OSMO-GKE-006",
    "GKE pools auto-repair and auto-upgrade",
    "error",
    "5.5.2",
    "CKV_GCP_9",
    "set management auto_repair and auto_upgrade",
    CIS_GKE,
)
GKE_AUTH = Check(
    "OSMO-GKE-007",
    "No legacy ABAC and no client certificate",
    "error",
    "5.8.1",
    "CKV_GCP_13",
    "set enable_legacy_abac false and issue_client_certificate false",
    CIS_GKE,
)
GKE_PLATFORM = Check(
    "OSMO-GKE-008",
    "Release channel, network policy and shielded nodes",
    "error",
    "5.5.4",
    "CKV_GCP_70",
    "set a release_channel, datapath_provider ADVANCED_DATAPATH and enable_shielded_nodes",
    CIS_GKE,
)
GKE_SECURE_BOOT = Check(
    "OSMO-GKE-009",
    "GKE nodes use Secure Boot",
    "warning",
    "5.5.7",
    "CKV_GCP_68",
    "off only on pools whose GPU driver the GPU Operator builds (gpuDriver: operator): "
    "Secure Boot refuses its unsigned modules",
    CIS_GKE,
)
AKS_ENDPOINT = Check(
    "OSMO-AKS-001",
    "The AKS API server is private or limited to listed ranges",
    "error",
    "5.4.2",
    "CKV_AZURE_6",
    "keep apiServer private, or list authorizedIpRanges without 0.0.0.0/0",
    CIS_AKS,
)
AKS_IDENTITY = Check(
    "OSMO-AKS-002",
    "Entra ID with Azure RBAC and no local accounts",
    "error",
    "5.5.1",
    "CKV_AZURE_141",
    "set aad_profile enable_azure_rbac and disable_local_accounts",
    CIS_AKS,
)
AKS_PLATFORM = Check(
    "OSMO-AKS-003",
    "Network policy, KMS, Workload Identity and an upgrade channel",
    "error",
    "5.4.4",
    "CKV_AZURE_7",
    "set network_policy, azure_key_vault_kms, the OIDC issuer, workload_identity and an "
    "upgrade_channel",
    CIS_AKS,
)
AKS_NODE_IPS = Check(
    "OSMO-AKS-004",
    "AKS nodes have no public IPs",
    "error",
    "5.4.3",
    "CKV_AZURE_143",
    "set enable_node_public_ip false on every pool",
    CIS_AKS,
)
BUCKET_PRIVATE = Check(
    "OSMO-DATA-001",
    "Workflow buckets block public access",
    "error",
    None,
    "CKV_AWS_53",
    "block public ACLs and policies (S3), enforce public access prevention and uniform access "
    "(GCS), disallow public blobs, plain HTTP and old TLS (Azure)",
)
KEEP_ON_DESTROY = Check(
    "OSMO-DATA-002",
    "Buckets and encryption keys survive pulumi destroy",
    "warning",
    None,
    None,
    "keep retain_on_delete (storage.bucket.retainOnDelete: true); data and keys cannot be "
    "recovered once deleted",
)

METADATA_EGRESS = Check(
    "OSMO-NET-001",
    "Workflow pods cannot reach the instance metadata service",
    "error",
    None,
    None,
    "keep networking.workflowPolicy.blockedCIDRs at its default (169.254.0.0/16, and "
    "168.63.129.16/32 on Azure and existing clusters); GKE keeps its metadata server reachable "
    "for Workload Identity",
)
EKS_IMDS_HOPS = Check(
    "OSMO-EKS-005",
    "The IMDSv2 hop limit keeps node credentials on the node",
    "error",
    None,
    "CKV_AWS_341",
    "keep cluster.imdsHopLimit at 1: with 2, every pod can fetch the node role's credentials",
    CIS_EKS,
)
SECRET_READERS = Check(
    "OSMO-K8S-006",
    "No platform chart reads every Secret",
    "error",
    None,
    None,
    "keep the monitoring values this project sets: Grafana's sidecars on ConfigMaps of their "
    "namespace (grafana.rbac.namespaced with useExistingRole), kube-state-metrics without the "
    "secrets collector, Alloy's rbac.rules without secrets",
)
NODES_PROXY = Check(
    "OSMO-K8S-007",
    "No `nodes/proxy` (it reaches every kubelet endpoint, exec included)",
    "error",
    None,
    None,
    "scrape kubelet stats through `nodes/stats` (the ephemeral-storage exporter with "
    "kubelet.scrape and rbac.create false, bound to this project's ClusterRole)",
)
CLOUD_SCOPE = Check(
    "OSMO-AWS-001",
    "IAM grants reach only this cluster's resources",
    "error",
    None,
    None,
    "condition autoscaling writes on aws:ResourceTag/k8s.io/cluster-autoscaler/<cluster>, and "
    "grant iam:SimulatePrincipalPolicy on the caller itself, not *",
    CIS_EKS,
)
RESERVATION_PSA = Check(
    "OSMO-K8S-008",
    "The KAI reservation namespace enforces a Pod Security Standard",
    "error",
    "4.2",
    None,
    "set global.resourceReservation.namespaceLabels with pod-security.kubernetes.io/enforce "
    "(components.operator.kai_values does)",
)
MONITORING_OPEN = Check(
    "OSMO-K8S-009",
    "Unauthenticated monitoring endpoints admit only their clients",
    "error",
    None,
    None,
    "create the monitoring namespace's NetworkPolicies (components.monitoring.access_policies) "
    "for Prometheus, Alertmanager and Loki",
)
PLAIN_HTTP_UI = Check(
    "OSMO-NET-002",
    "Lab web UIs and the lab object store are served over TLS",
    "warning",
    None,
    None,
    "set networking.ingress.tls (secretName of a kubernetes.io/tls Secret in the ingress "
    "namespace, or a cert-manager issuer or clusterIssuer): Traefik then redirects port 80 to "
    "443 and OSMO gets an https URL for the lab store",
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
    EKS_ENDPOINT,
    EKS_SECRETS,
    EKS_LOGS,
    EKS_IMDS,
    KMS_ROTATION,
    GKE_PRIVATE_NODES,
    GKE_ENDPOINT,
    GKE_SECRETS,
    GKE_IDENTITY,
    GKE_NODE_ACCOUNT,
    GKE_NODE_MANAGEMENT,
    GKE_AUTH,
    GKE_PLATFORM,
    GKE_SECURE_BOOT,
    AKS_ENDPOINT,
    AKS_IDENTITY,
    AKS_PLATFORM,
    AKS_NODE_IPS,
    BUCKET_PRIVATE,
    KEEP_ON_DESTROY,
    METADATA_EGRESS,
    EKS_IMDS_HOPS,
    SECRET_READERS,
    NODES_PROXY,
    CLOUD_SCOPE,
    RESERVATION_PSA,
    MONITORING_OPEN,
    PLAIN_HTTP_UI,
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


def _inputs(record: Record) -> Mapping[str, Any]:
    inputs = record.get("inputs", {})
    return inputs if isinstance(inputs, Mapping) else {}


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


_OPEN = "0.0.0.0/0"
_EKS_LOG_TYPES = {"api", "audit", "authenticator", "controllerManager", "scheduler"}


def _eks_checks(record: Record) -> Iterable[tuple[Check, str]]:
    inputs, type_ = _inputs(record), record["type"]
    if type_ == "aws:eks/cluster:Cluster":
        vpc = inputs.get("vpcConfig") or {}
        cidrs = vpc.get("publicAccessCidrs") or []
        if vpc.get("endpointPublicAccess") and (not cidrs or _OPEN in cidrs):
            yield EKS_ENDPOINT, f"public endpoint open to {cidrs or 'every address'}"
        if "secrets" not in (_get(inputs, "encryptionConfig", "resources") or []):
            yield EKS_SECRETS, "Secrets are not envelope-encrypted"
        missing = _EKS_LOG_TYPES - set(inputs.get("enabledClusterLogTypes") or [])
        if missing:
            yield EKS_LOGS, f"control-plane logs off: {', '.join(sorted(missing))}"
    elif type_ == "aws:ec2/launchTemplate:LaunchTemplate":
        if _get(inputs, "metadataOptions", "httpTokens") != "required":
            yield EKS_IMDS, "IMDSv1 is allowed"
    elif type_ == "aws:kms/key:Key" and inputs.get("enableKeyRotation") is not True:
        yield KMS_ROTATION, "key rotation is off"


def _gke_checks(record: Record) -> Iterable[tuple[Check, str]]:
    inputs, type_ = _inputs(record), record["type"]
    if type_ == "gcp:container/cluster:Cluster":
        private = inputs.get("privateClusterConfig") or {}
        if private.get("enablePrivateNodes") is not True:
            yield GKE_PRIVATE_NODES, "nodes get public IPs"
        blocks = [
            b.get("cidrBlock")
            for b in _get(inputs, "masterAuthorizedNetworksConfig", "cidrBlocks") or []
        ]
        if private.get("enablePrivateEndpoint") is not True and (not blocks or _OPEN in blocks):
            yield GKE_ENDPOINT, f"public control plane open to {blocks or 'every address'}"
        if _get(inputs, "databaseEncryption", "state") != "ENCRYPTED":
            yield GKE_SECRETS, "Secrets are not encrypted with Cloud KMS"
        if not _get(inputs, "workloadIdentityConfig", "workloadPool"):
            yield GKE_IDENTITY, "Workload Identity is off"
        if inputs.get("enableLegacyAbac") is not False or (
            _get(inputs, "masterAuth", "clientCertificateConfig", "issueClientCertificate")
            is not False
        ):
            yield GKE_AUTH, "legacy ABAC or client certificates are not turned off"
        if (
            _get(inputs, "releaseChannel", "channel") in (None, "UNSPECIFIED")
            or (
                inputs.get("datapathProvider") != "ADVANCED_DATAPATH"
                and _get(inputs, "networkPolicy", "enabled") is not True
            )
            or inputs.get("enableShieldedNodes") is not True
        ):
            yield GKE_PLATFORM, "no release channel, network policy or shielded nodes"
    elif type_ == "gcp:container/nodePool:NodePool":
        node = inputs.get("nodeConfig") or {}
        if _get(node, "workloadMetadataConfig", "mode") != "GKE_METADATA":
            yield GKE_IDENTITY, "the pool does not use the GKE metadata server"
        if node.get("serviceAccount") in (None, "", "default"):
            yield GKE_NODE_ACCOUNT, "nodes run as the Compute Engine default service account"
        management = inputs.get("management") or {}
        if management.get("autoRepair") is not True or management.get("autoUpgrade") is not True:
            yield GKE_NODE_MANAGEMENT, "auto-repair or auto-upgrade is off"
        if _get(node, "shieldedInstanceConfig", "enableSecureBoot") is not True:
            yield GKE_SECURE_BOOT, "Secure Boot is off"


def _aks_pool_public(pool: Any) -> bool:
    return isinstance(pool, Mapping) and pool.get("enableNodePublicIP") is not False


def _aks_checks(record: Record) -> Iterable[tuple[Check, str]]:
    inputs, type_ = _inputs(record), record["type"]
    if type_ == "azure-native:containerservice:ManagedCluster":
        access = inputs.get("apiServerAccessProfile") or {}
        ranges = access.get("authorizedIPRanges") or []
        if access.get("enablePrivateCluster") is not True and (not ranges or _OPEN in ranges):
            yield AKS_ENDPOINT, f"public API server open to {ranges or 'every address'}"
        if (
            _get(inputs, "aadProfile", "enableAzureRBAC") is not True
            or inputs.get("disableLocalAccounts") is not True
        ):
            yield AKS_IDENTITY, "no Azure RBAC, or local accounts are on"
        security = inputs.get("securityProfile") or {}
        if (
            not _get(inputs, "networkProfile", "networkPolicy")
            or _get(security, "azureKeyVaultKms", "enabled") is not True
            or _get(security, "workloadIdentity", "enabled") is not True
            or _get(inputs, "oidcIssuerProfile", "enabled") is not True
            or _get(inputs, "autoUpgradeProfile", "upgradeChannel") in (None, "none")
        ):
            yield (
                AKS_PLATFORM,
                "network policy, KMS, Workload Identity or an upgrade channel is off",
            )
        if any(_aks_pool_public(p) for p in inputs.get("agentPoolProfiles") or []):
            yield AKS_NODE_IPS, "a pool gives nodes public IPs"
    elif type_ == "azure-native:containerservice:AgentPool" and _aks_pool_public(inputs):
        yield AKS_NODE_IPS, "the pool gives nodes public IPs"


def _data_checks(record: Record) -> Iterable[tuple[Check, str]]:
    inputs, type_ = _inputs(record), record["type"]
    if type_ == "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
        keys = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        off = [k for k in keys if inputs.get(k) is not True]
        if off:
            yield BUCKET_PRIVATE, f"public access not blocked: {', '.join(off)}"
    elif type_ == "gcp:storage/bucket:Bucket" and (
        inputs.get("publicAccessPrevention") != "enforced"
        or inputs.get("uniformBucketLevelAccess") is not True
    ):
        yield BUCKET_PRIVATE, "public access prevention or uniform access is off"
    elif type_ == "azure-native:storage:StorageAccount" and (
        inputs.get("allowBlobPublicAccess") is not False
        or inputs.get("minimumTlsVersion") != "TLS1_2"
        or inputs.get("enableHttpsTrafficOnly") is not True
    ):
        # Shared keys stay allowed: OSMO's static Azure credential, which workflow data needs,
        # is a connection string with the account key (NVIDIA/OSMO
        # src/lib/data/storage/backends/azure.py create_client, _get_sas_url_for_copy).
        yield BUCKET_PRIVATE, "public blobs, plain HTTP or old TLS are allowed"
    kept = (
        "aws:s3/bucket:Bucket",
        "aws:kms/key:Key",
        "gcp:storage/bucket:Bucket",
        "gcp:kms/cryptoKey:CryptoKey",
        "azure-native:storage:StorageAccount",
        "azure-native:keyvault:Vault",
        "azure-native:keyvault:Key",
    )
    options = record.get("options") or {}
    if type_ in kept and not (options.get("retainOnDelete") or options.get("protect")):
        yield KEEP_ON_DESTROY, "is deleted by pulumi destroy"


def _chart(record: Record) -> Any:
    if record["type"] != "kubernetes:helm.sh/v3:Release":
        return None
    return _inputs(record).get("chart")


def _values(record: Record) -> Mapping[str, Any]:
    values = _inputs(record).get("values")
    return values if isinstance(values, Mapping) else {}


_KSM_DEFAULT_COLLECTORS_HAVE_SECRETS = True
"""kube-state-metrics 8.4.0 values.yaml `collectors` lists `secrets`."""


_GRAFANA_OFF_SIDECARS = ("alerts", "plugins", "notifiers")
"""Grafana sidecars off by default (grafana chart 12.11.1 values.yaml `sidecar.alerts.enabled`,
`sidecar.plugins.enabled`, `sidecar.notifiers.enabled`: false; kube-prometheus-stack 88.5.3 sets
only dashboards and datasources) whose `resource` defaults to `both`: ConfigMaps and Secrets."""


def _secret_reader_checks(record: Record) -> Iterable[tuple[Check, str]]:
    chart, values = _chart(record), _values(record)
    if chart == "kube-prometheus-stack":
        grafana = values.get("grafana") or {}
        if grafana.get("enabled", True) and not (
            _get(grafana, "rbac", "namespaced") is True and _get(grafana, "rbac", "useExistingRole")
        ):
            yield SECRET_READERS, "Grafana's sidecar role reads Secrets"
        for sidecar in _GRAFANA_OFF_SIDECARS:
            settings = _get(grafana, "sidecar", sidecar) or {}
            if settings.get("enabled") is True and settings.get("resource") != "configmap":
                yield SECRET_READERS, f"Grafana's {sidecar} sidecar watches Secrets"
        ksm = values.get("kube-state-metrics") or {}
        collectors = ksm.get("collectors")
        has = (
            "secrets" in collectors
            if isinstance(collectors, list)
            else (_KSM_DEFAULT_COLLECTORS_HAVE_SECRETS)
        )
        if has and "secrets" not in (ksm.get("collectorsExclude") or []):
            yield SECRET_READERS, "kube-state-metrics collects (and lists) every Secret"
    elif chart == "alloy":
        rules = _get(values, "rbac", "rules")
        cluster_rules = _get(values, "rbac", "clusterRules")
        granted = [
            resource
            for rule in [*(rules or []), *(cluster_rules or [])]
            if isinstance(rule, Mapping)
            for resource in rule.get("resources") or []
        ]
        if rules is None or cluster_rules is None or "secrets" in granted:
            yield SECRET_READERS, "Alloy's role reads Secrets (the chart's default rules)"


def _nodes_proxy_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if _chart(record) == "k8s-ephemeral-storage-metrics":
        if _get(_values(record), "rbac", "create") is not False:
            yield NODES_PROXY, "the chart's ClusterRole grants nodes/proxy"
    elif record["type"] in (
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
        "kubernetes:rbac.authorization.k8s.io/v1:Role",
    ):
        for rule in _inputs(record).get("rules") or []:
            if isinstance(rule, Mapping) and "nodes/proxy" in (rule.get("resources") or []):
                yield NODES_PROXY, "grants nodes/proxy"


def _reservation_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if _chart(record) == "kai-scheduler":
        labels = _get(_values(record), "global", "resourceReservation", "namespaceLabels")
        enforce = (labels or {}).get("pod-security.kubernetes.io/enforce")
        if enforce not in ("baseline", "restricted"):
            yield RESERVATION_PSA, f"the chart's reservation namespace enforces {enforce!r}"


def _hop_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"] == "aws:ec2/launchTemplate:LaunchTemplate":
        hops = _get(_inputs(record), "metadataOptions", "httpPutResponseHopLimit")
        if isinstance(hops, int) and hops > 1:
            yield EKS_IMDS_HOPS, f"hop limit {hops} lets pods reach the node's IMDS credentials"


_IAM_POLICIES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
)
_ASG_WRITES = {"autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"}
_CA_TAG = "aws:ResourceTag/k8s.io/cluster-autoscaler/"


def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _iam_checks(record: Record) -> Iterable[tuple[Check, str]]:
    if record["type"] not in _IAM_POLICIES:
        return
    document = _inputs(record).get("policy")
    try:
        parsed = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return
    for statement in _listed(_get(parsed, "Statement") or []):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        actions = set(_listed(statement.get("Action")))
        resources = _listed(statement.get("Resource"))
        if "iam:SimulatePrincipalPolicy" in actions and "*" in resources:
            yield CLOUD_SCOPE, "iam:SimulatePrincipalPolicy on every principal"
        if actions & _ASG_WRITES:
            tags = _get(statement, "Condition", "StringEquals") or {}
            owned = [k for k in tags if k.startswith(_CA_TAG) and k != f"{_CA_TAG}enabled"]
            if not owned:
                yield CLOUD_SCOPE, "resizes Auto Scaling groups of every cluster in the account"


_RULES = (
    _namespace_checks,
    _binding_checks,
    _default_namespace_checks,
    _secret_checks,
    _helm_checks,
    _provider_checks,
    _eks_checks,
    _gke_checks,
    _aks_checks,
    _data_checks,
    _secret_reader_checks,
    _nodes_proxy_checks,
    _reservation_checks,
    _hop_checks,
    _iam_checks,
)

_METADATA_ADDRESSES = {
    "aws": ("169.254.169.254",),
    "azure": ("169.254.169.254", "168.63.129.16"),
    "existing": ("169.254.169.254",),
}


def _cloud(records: Sequence[Record]) -> str:
    types = {r["type"] for r in records}
    if "gcp:container/cluster:Cluster" in types:
        return "gcp"
    if "azure-native:containerservice:ManagedCluster" in types:
        return "azure"
    if "aws:eks/cluster:Cluster" in types:
        return "aws"
    return "existing"


def _excepted(address: str, cidrs: Any) -> bool:
    ip = ipaddress.ip_address(address)
    for cidr in cidrs if isinstance(cidrs, list) else []:
        try:
            if ip in ipaddress.ip_network(str(cidr), strict=False):
                return True
        except ValueError:
            continue
    return False


def _metadata_egress(record: Record, cloud: str) -> Iterable[tuple[Check, str]]:
    """The backend-operator chart's workflow policy allows 0.0.0.0/0 except `clusterCIDRs`
    (NVIDIA/OSMO deployments/charts/backend-operator/templates/backend-network-policy.yaml)."""
    if _chart(record) != "backend-operator" or cloud == "gcp":
        return
    policy = _get(_values(record), "global", "networkPolicy") or {}
    if policy.get("enabled") is not True:
        return
    cidrs = policy.get("clusterCIDRs")
    open_to = [a for a in _METADATA_ADDRESSES[cloud] if not _excepted(a, cidrs)]
    if open_to:
        yield METADATA_EGRESS, f"workflow egress reaches {', '.join(open_to)}"


_UNAUTHENTICATED = {
    "kube-prometheus-stack": ("prometheus", "alertmanager"),
    "loki": ("loki",),
}


def _monitoring_access(record: Record, records: Sequence[Record]) -> Iterable[tuple[Check, str]]:
    targets = _UNAUTHENTICATED.get(_chart(record) or "")
    if not targets:
        return
    namespace = _inputs(record).get("namespace")
    guarded: set[Any] = set()
    for other in records:
        if other["type"] != "kubernetes:networking.k8s.io/v1:NetworkPolicy":
            continue
        if _metadata(other).get("namespace") != namespace:
            continue
        spec = _inputs(other).get("spec") or {}
        if "Ingress" in (spec.get("policyTypes") or []):
            guarded.add(_get(spec, "podSelector", "matchLabels", "app.kubernetes.io/name"))
    open_ = [t for t in targets if t not in guarded]
    if open_:
        yield MONITORING_OPEN, f"{', '.join(open_)} admit every pod (no ingress NetworkPolicy)"


@dataclass(frozen=True)
class _Controller:
    redirect: bool
    """Port 80 only redirects to websecure (`ports.web.http.redirections.entryPoint.to`)."""
    default_certificate: bool
    """Ingresses naming no certificate get one (`tlsStore.default.defaultCertificate`)."""


def _traefik_classes(records: Sequence[Record]) -> dict[Any, _Controller]:
    """The IngressClass of each Traefik release in the plan, and its TLS settings."""
    classes: dict[Any, _Controller] = {}
    for record in records:
        if _chart(record) != "traefik":
            continue
        values = _values(record)
        redirect = _get(values, "ports", "web", "http", "redirections", "entryPoint", "to")
        default = _get(values, "tlsStore", "default", "defaultCertificate", "secretName")
        classes[_get(values, "ingressClass", "name")] = _Controller(
            redirect == "websecure", bool(default)
        )
    return classes


def _served_ingresses(record: Record) -> Iterable[tuple[str, Any, Any]]:
    """(what, IngressClass, tls entries) of every ingress a record creates: Ingress objects and
    the Grafana and Headlamp charts' own."""
    if record["type"] == "kubernetes:networking.k8s.io/v1:Ingress":
        spec = _inputs(record).get("spec") or {}
        hosts = [str(_get(rule, "host")) for rule in _listed(spec.get("rules") or [])]
        yield f"ingress {', '.join(hosts)}", spec.get("ingressClassName"), spec.get("tls")
        return
    chart, values = _chart(record), _values(record)
    charts = {
        "kube-prometheus-stack": ("Grafana", _get(values, "grafana", "ingress")),
        "headlamp": ("the Kubernetes web UI", values.get("ingress")),
    }
    what, ingress = charts.get(chart or "", ("", None))
    if isinstance(ingress, Mapping) and ingress.get("enabled") is True:
        yield what, ingress.get("ingressClassName"), ingress.get("tls")  # pyright: ignore[reportUnknownMemberType]


def _plain_http(record: Record, classes: Mapping[Any, _Controller]) -> Iterable[tuple[Check, str]]:
    """An ingress is over TLS when it has `tls` entries or its Traefik class has a default
    certificate; on a Traefik class of this stack, port 80 must also only redirect."""
    for what, class_name, tls in _served_ingresses(record):
        controller = classes.get(class_name)
        covered = bool(tls) or (controller is not None and controller.default_certificate)
        if not covered or (controller is not None and not controller.redirect):
            yield PLAIN_HTTP_UI, f"{what} is served over plain HTTP"


PLAN_ROOT = "osmo-backend:index:OsmoBackend"
"""The program's root component: records holding it are a whole plan."""


def _plan_rules(records: Sequence[Record]) -> list[Callable[[Record], Iterable[tuple[Check, str]]]]:
    """Rules that need the whole plan (which cloud it is, what else it creates): only over a
    whole plan (one holding PLAN_ROOT), never over one registration seen alone."""
    if not any(r["type"] == PLAN_ROOT for r in records):
        return []
    cloud = _cloud(records)
    classes = _traefik_classes(records)
    return [
        lambda r: _metadata_egress(r, cloud),
        lambda r: _monitoring_access(r, records),
        lambda r: _plain_http(r, classes),
    ]


def evaluate(records: Iterable[Record]) -> list[Finding]:
    """Every finding over `records`, in record order then rule order."""
    listed = list(records)
    rules = [*_RULES, *_plan_rules(listed)]
    return [
        Finding(check, record["urn"], message)
        for record in listed
        for rule in rules
        for check, message in rule(record)
    ]


def blocking(findings: Iterable[Finding], allowed: Iterable[str]) -> list[Finding]:
    """Errors the stack has not explicitly allowed."""
    allow = set(allowed)
    return [f for f in findings if f.check.severity == "error" and f.check.id not in allow]


class _UnknownValue:
    """A value not known yet (an unresolved Pulumi Output, or computed by the cloud)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _UnknownValue()
"""Stands for an unknown input value in records given to `evaluate_known`."""


class _ReadUnknown(Exception):
    """A rule read an unknown value: its result would not be certain."""


class _KnownMapping(Mapping[str, Any]):
    """A mapping holding unknowns: reading one (directly or by iterating values) raises."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        value = self._data[key]
        if value is UNKNOWN:
            raise _ReadUnknown(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        raise _ReadUnknown("repr")


class _KnownSequence(Sequence[Any]):
    """A list holding unknowns: reading one (by index, iteration or `in`) raises."""

    def __init__(self, data: Sequence[Any]) -> None:
        self._data = data

    def __getitem__(self, index: Any) -> Any:
        value = self._data[index]
        if value is UNKNOWN:
            raise _ReadUnknown(index)
        return value

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        raise _ReadUnknown("repr")


def _has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, Mapping):
        return any(_has_unknown(v) for v in cast(Mapping[str, Any], value).values())
    if isinstance(value, list | tuple):
        return any(_has_unknown(v) for v in cast(Sequence[Any], value))
    return False


def _guarded(value: Any) -> Any:
    """`value` itself where it holds no unknown (so rules see exactly what `evaluate` sees),
    else a view that raises when a rule reads an unknown."""
    if not _has_unknown(value) or value is UNKNOWN:
        return value
    if isinstance(value, Mapping):
        return _KnownMapping({k: _guarded(v) for k, v in cast(Mapping[str, Any], value).items()})
    return _KnownSequence([_guarded(v) for v in cast(Sequence[Any], value)])


def evaluate_known(records: Iterable[Record]) -> list[Finding]:
    """The findings of `evaluate` that hold whatever the unknown values (`UNKNOWN`) turn out to
    be: a rule that reads an unknown yields nothing past that read (what it yielded before
    depended on known values only). On records without unknowns it equals `evaluate`."""
    findings: list[Finding] = []
    records = list(records)
    views = [_guarded(record) for record in records]
    try:
        rules = [*_RULES, *_plan_rules(views)]
    except _ReadUnknown:
        rules = list(_RULES)
    for record, view in zip(records, views, strict=True):
        for rule in rules:
            try:
                for check, message in rule(view):
                    findings.append(Finding(check, record["urn"], message))
            except _ReadUnknown:
                continue
    return findings


def report_line(finding: Finding, allowed: Iterable[str]) -> str:
    """A finding as the plan and the program print it: an error the stack allows reads
    `allowed ...` (opted out, not an error)."""
    line = finding.line()
    if finding.check.id in set(allowed) and line.startswith("error "):
        return "allowed " + line.removeprefix("error ")
    return line


def failure_message(failing: Sequence[Finding]) -> str:
    """What the program prints when checks fail under the Pulumi engine: one line per finding
    (as `osmo-backend plan` prints them), then how to opt out."""
    return "\n".join(
        [
            *(f.line() for f in failing),
            f"{len(failing)} failing security checks: fix them, or list the check id under "
            "osmo-backend:policy.allow (an explicit, logged opt-out; README: Security checks)",
        ]
    )
