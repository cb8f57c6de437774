"""The OSMO connection: namespaces, the bootstrap token, pull secrets, the control-plane fragment.

The token is byte-identical on both sides: the compute cluster's Secret (operator namespace, read
by the backend-operator) and, when a control-plane target is configured, the control plane's
Secret (service namespace, listed in `services.backendApiTokens.credentials`). Both are written
from the same secret Output, so nobody copies tokens by hand.

Rotation is two config-driven phases (DESIGN section 5):
1. overlap: bump `osmo.token.generation` (generate) or set the new `backendToken` and the old one
   as `previousBackendToken` (config), with `osmo.token.overlap: true`. The control plane accepts
   both (`token` + `previous-token`); the compute Secret gets the new token, and the generation,
   carried as a pod annotation through the backend-operator values, restarts listener and worker.
2. finalize: `overlap: false` (and remove `previousBackendToken`): `previous-token` is dropped.
Generated tokens live in two alternating slots (generation parity), so the previous token is
still in state during the overlap and only the slot being reissued changes.
"""

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from components import versions
from components._namespaces import namespace
from components.clusters.base import ClusterHandle, NodePool, NodeRole, WorkflowBucket
from components.config import OsmoSpec, PullSecretSpec, Role, TokenSpec, WorkflowDataSpec
from components.config._rules import platform_name
from components.config.osmo import pool_role
from components.config.storage import data_credential_secret
from components.networking import (
    ISOLATION_TEMPLATE,
    isolation_default_policy,
    isolation_group_template,
    isolation_pod_template,
)
from components.storage import (
    identity_pod_template,
    identity_template_name,
    workflow_service_account,
)

TYPE = "osmo-backend:index:Connection"
TOKEN_BYTES = 32
CONTROL_PLANE_TOKEN_KEY = "token"
CONTROL_PLANE_PREVIOUS_KEY = "previous-token"
"""Keys the OSMO service reads in a backend credential Secret."""
GENERATION_ANNOTATION = "osmo-backend.nvidia.com/token-generation"
NGC_REGISTRY = "nvcr.io"
SCHEDULER_SETTINGS = {
    "scheduler_type": "kai",
    "scheduler_name": "kai-scheduler",
    "scheduler_timeout": 30,
}

# The OSMO service chart's default pool, which every pool we add mirrors.
_POOL_DEFAULTS: Mapping[str, Any] = {
    "common_pod_template": ["default_ctrl", "default_user"],
    "common_resource_validations": [
        "default_cpu",
        "default_memory",
        "default_storage",
        "default_gpu",
    ],
    "common_default_variables": {
        "USER_CPU": 1,
        "USER_GPU": 0,
        "USER_MEMORY": "1Gi",
        "USER_STORAGE": "1Gi",
    },
}
_PLATFORMS: Mapping[Role, str] = {"compute": "cpu", "gpu": "gpu"}
OSMO_USER_ROLE = "osmo-user"
"""The identity-provider role the OSMO service chart maps its user role to; each pool's role is
mapped to it too, so the same users can run on the new pool."""
CHART_PLACEHOLDERS = {"backends": "default", "pools": "default"}
"""The chart's `default` backend and pool (no backend-operator serves them): set to null so Helm
drops them from the rendered config."""


class ConnectionArgs(TypedDict):
    """Inputs for Connection."""

    osmo: OsmoSpec
    """Validated `osmo-backend:osmo` config."""
    cluster: ClusterHandle
    """The compute cluster (node roles for the service-side pod templates)."""
    workflow_data: WorkflowDataSpec | None
    """The workflow data bucket, when the stack configures one (`storage.workflowData`)."""
    workflow_data_keys: NotRequired[tuple[str, pulumi.Output[str]] | None]
    """Static keys of a store the stack runs (the lab object store), instead of config's."""
    workflow_bucket: NotRequired[WorkflowBucket | None]
    """A bucket the stack created with workload identity (`storage.bucket`): its ServiceAccount
    goes in the workflow namespace."""
    grafana_url: str | None
    """Grafana's external URL, linked from OSMO's UI (`grafana_url`), when known."""
    dashboard_url: str | None
    """The Kubernetes web UI's external URL (`dashboard_url`), when known."""
    isolate_workflows: NotRequired[bool]
    """Isolate workflows from each other (networking.workflowPolicy.isolateWorkflows): the
    namespace-wide default NetworkPolicy here, the group template in the service values."""


def urlsafe_token(standard_base64: str) -> str:
    """32 random bytes as OSMO wants them: URL-safe base64 without padding (43 characters)."""
    return standard_base64.replace("+", "-").replace("/", "_").rstrip("=")


def token_slots(generation: int) -> dict[int, int]:
    """Generation each random slot holds: the current one in slot `generation % 2`, the previous
    one (when there is one) in the other slot."""
    slots = {generation % 2: generation}
    if generation >= 1:
        slots[(generation - 1) % 2] = generation - 1
    return slots


def dockerconfigjson(api_key: str) -> str:
    """Registry credentials for nvcr.io from an NGC API key (user `$oauthtoken`)."""
    auth = base64.b64encode(f"$oauthtoken:{api_key}".encode()).decode()
    entry = {"username": "$oauthtoken", "password": api_key, "auth": auth}
    return json.dumps({"auths": {NGC_REGISTRY: entry}}, sort_keys=True)


def workflow_storage_values(
    data: WorkflowDataSpec | WorkflowBucket, backend: str
) -> dict[str, Any]:
    """Service-side `configs` for the workflow data store; the credential Secret by name (a
    static credential: OSMO's workflow pods read `access_key_id` from it unconditionally)."""
    secret = data_credential_secret(backend)
    credential = {"credential": {"secretName": secret}}
    uri = data.uri
    also_logs = data.also_logs if isinstance(data, WorkflowDataSpec) else data.spec.also_logs
    workflow: dict[str, Any] = {"workflow_data": {**credential, "base_url": uri}}
    if also_logs:
        workflow["workflow_log"] = dict(credential)
        workflow["workflow_app"] = dict(credential)
    return {"secretRefs": [{"secretName": secret}], "workflow": workflow}


def bucket_credential(bucket: WorkflowBucket) -> dict[str, pulumi.Input[str]]:
    """The credential Secret's keys for a bucket the stack created, with its bucket-scoped key
    (`access_key_id`, `access_key`, `endpoint`, `region`, as OSMO's StaticDataCredential reads
    them). No `override_url`: OSMO derives each cloud's endpoint from the URI scheme."""
    assert bucket.access_key_id is not None
    assert bucket.access_key is not None
    return {
        "access_key_id": bucket.access_key_id,
        "access_key": bucket.access_key,
        "endpoint": bucket.uri,
        "region": bucket.region,
    }


def pool_role_values(pool: str) -> dict[str, Any]:
    """A role that lets OSMO users run workflows in `pool` (the chart's `osmo-user` covers only
    `pool/default`; restating it would make fragments conflict, a role per pool merges)."""
    return {
        "description": f"Run workflows in pool {pool} (managed by osmo-backend)",
        "policies": [{"effect": "Allow", "actions": ["workflow:*"], "resources": [f"pool/{pool}"]}],
        "external_roles": [OSMO_USER_ROLE],
    }


def backend_images(image_tag: str) -> dict[str, str]:
    """`workflow.backend_images`: database mode derives them from the image location and tag;
    ConfigMap mode does not, so the fragment states them."""
    location = versions.OSMO_IMAGE_LOCATION
    return {
        "init": f"{location}/init-container:{image_tag}",
        "client": f"{location}/client:{image_tag}",
    }


def storage_credential(
    data: WorkflowDataSpec, keys: tuple[str, pulumi.Input[str]] | None = None
) -> dict[str, pulumi.Input[str]]:
    """The credential Secret's keys as OSMO's storage SDK reads them (static keys: from config,
    or `keys` a store this stack runs generated)."""
    key_id, secret = keys if keys is not None else (data.access_key_id, data.secret_access_key)
    assert key_id is not None
    assert secret is not None
    credential: dict[str, pulumi.Input[str]] = {
        "access_key_id": key_id,
        "access_key": secret,
        "endpoint": data.uri,
        "region": data.region,
        "override_url": data.endpoint or "",
    }
    if data.addressing_style is not None:
        credential["addressing_style"] = data.addressing_style
    return credential


def _pod_template(selector: Mapping[str, str], tolerations: Sequence[Mapping[str, str]]) -> Any:
    spec: dict[str, Any] = {"nodeSelector": dict(selector)}
    if tolerations:
        spec["tolerations"] = [dict(t) for t in tolerations]
    return {"spec": spec}


def pool_platforms(
    backend: str, pools: Sequence[NodePool]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One OSMO platform per compute and gpu pool (H100s apart from A100s), and its pod
    template: a node selector only that pool's nodes match, and tolerations for every taint they
    carry. OSMO puts a node in a platform when the platform's nodeSelector labels are a subset
    of the node's and its tolerations tolerate all of the node's taints (NVIDIA/OSMO
    src/service/core/config/helpers.py update_node_pool_platform, tolerations_satisfy_taints)."""
    templates: dict[str, Any] = {}
    platforms: dict[str, Any] = {}
    for pool in pools:
        if pool.role not in _PLATFORMS:
            continue
        template = f"{backend}-pool-{pool.name}"
        templates[template] = _pod_template(pool.selector, pool.tolerations)
        platforms[platform_name(pool.name)] = {
            "description": f"{pool.role} pool {pool.name} of backend {backend}",
            "override_pod_template": [template],
        }
    return templates, platforms


def service_values(
    osmo: OsmoSpec,
    roles: Mapping[Role, NodeRole],
    *,
    pools: Sequence[NodePool] = (),
    grafana_url: str | None = None,
    dashboard_url: str | None = None,
    workflow_data: WorkflowDataSpec | None = None,
    workflow_bucket: WorkflowBucket | None = None,
    isolate_workflows: bool = False,
) -> dict[str, Any]:
    """The OSMO service chart values this backend needs (no secrets: Secrets are named): a
    platform per role (the pool's default platform) and one per pool the cluster creates. With
    `isolate_workflows`, the pool's pods carry the isolation label and each task group gets
    its NetworkPolicy (a group template: `groupTemplates` and the pool's
    `common_group_templates`, service chart 1.4.0 templates/configs.yaml)."""
    links = {
        key: url
        for key, url in (("grafana_url", grafana_url), ("dashboard_url", dashboard_url))
        if url is not None
    }
    backend = osmo.backend_name
    templates: dict[str, Any] = {}
    platforms: dict[str, Any] = {}
    for role, platform in _PLATFORMS.items():
        node_role = roles.get(role)
        if node_role is None:
            continue
        template = f"{backend}-{platform}"
        templates[template] = _pod_template(node_role.selector, node_role.tolerations)
        platforms[platform] = {"override_pod_template": [template]}
    default_platform = "gpu" if "gpu" in platforms else "cpu"
    pool_templates, per_pool = pool_platforms(backend, pools)
    templates |= pool_templates
    platforms |= per_pool
    data = workflow_bucket if workflow_bucket is not None else workflow_data
    storage = workflow_storage_values(data, backend) if data is not None else {}
    workflow = {"backend_images": backend_images(osmo.image_tag), **storage.pop("workflow", {})}
    pool_defaults = dict(_POOL_DEFAULTS)
    if workflow_bucket is not None:
        identity = identity_template_name(backend)
        templates[identity] = identity_pod_template(workflow_bucket)
        pool_defaults["common_pod_template"] = [*_POOL_DEFAULTS["common_pod_template"], identity]
    isolation: dict[str, Any] = {}
    if isolate_workflows:
        templates[ISOLATION_TEMPLATE] = isolation_pod_template()
        pool_defaults["common_pod_template"] = [
            *pool_defaults["common_pod_template"],
            ISOLATION_TEMPLATE,
        ]
        pool_defaults["common_group_templates"] = [ISOLATION_TEMPLATE]
        isolation = {"groupTemplates": {ISOLATION_TEMPLATE: isolation_group_template()}}
    return {
        "services": {
            "backendApiTokens": {
                "enabled": True,
                "credentials": [
                    {
                        "name": osmo.token.credential_name,
                        "existingSecret": {"name": osmo.token.secret_name},
                    }
                ],
            },
            "configs": {
                "enabled": True,
                # ConfigMap mode skips the service's database-mode defaults: its base URL
                # and the workflow images are stated here.
                "service": {"service_base_url": osmo.service_url},
                "workflow": workflow,
                "roles": {pool_role(osmo.pool): pool_role_values(osmo.pool)},
                "backends": {
                    CHART_PLACEHOLDERS["backends"]: None,
                    backend: {
                        "description": f"OSMO backend {backend} (managed by osmo-backend)",
                        "k8s_namespace": osmo.namespaces.workflows,
                        "router_address": osmo.router_address,
                        "scheduler_settings": dict(SCHEDULER_SETTINGS),
                        **links,
                    },
                },
                "pools": {
                    CHART_PLACEHOLDERS["pools"]: None,
                    osmo.pool: {
                        "description": f"Pool on backend {backend}",
                        "backend": backend,
                        "default_platform": default_platform,
                        **pool_defaults,
                        "platforms": platforms,
                    },
                },
                "podTemplates": templates,
                **isolation,
                **storage,
            },
        }
    }


TOKEN_OUTPUT = "backend_token"
DATA_CREDENTIAL_OUTPUT = "workflow_data_credential"
"""Secret stack outputs the service-side Secrets are created from without `osmo.controlPlane`."""


def control_plane_steps(
    osmo: OsmoSpec, *, has_data: bool, stack: str, namespace: str = "osmo"
) -> list[str]:
    """The commands that create the service-side Secrets from the secret stack outputs (values
    never pass through a command line or a file), for stacks without `osmo.controlPlane`. Each
    names its stack: with several backends, the selected stack may be another one."""
    output = f"pulumi stack output --stack {stack}"
    if osmo.token.source == "existing":
        token = [
            f"service side: the Secret {osmo.token.secret_name} (key {CONTROL_PLANE_TOKEN_KEY}) "
            f"must hold this backend's token in the service namespace ({namespace})"
        ]
    else:
        token = [
            f"service side: kubectl -n {namespace} create secret generic "
            f"{osmo.token.secret_name} --from-file={CONTROL_PLANE_TOKEN_KEY}=<({output} "
            f"{TOKEN_OUTPUT} --show-secrets | tr -d '\\n')"
        ]
    if not has_data:
        return token
    data = (
        f"service side: kubectl -n {namespace} create secret generic "
        f"{data_credential_secret(osmo.backend_name)} --from-env-file=<({output} "
        f"{DATA_CREDENTIAL_OUTPUT} --show-secrets --json | jq -r "
        "'to_entries[] | \"\\(.key)=\\(.value)\"')"
    )
    return [*token, data]


class Connection(pulumi.ComponentResource):
    """Namespaces, the bootstrap token Secret(s) and pull secrets of one OSMO backend."""

    operator_namespace: k8s.core.v1.Namespace
    workflow_namespace: k8s.core.v1.Namespace
    test_namespace: k8s.core.v1.Namespace | None
    token_secret: k8s.core.v1.Secret | None
    """The compute-side token Secret; None when the token source is `existing`."""
    control_plane_secret: k8s.core.v1.Secret | None
    storage_secret: k8s.core.v1.Secret | None
    """The workflow data bucket credential on the control plane (static keys), when both exist."""
    isolation_policy: k8s.networking.v1.NetworkPolicy | None
    """The workflow namespace's default ingress policy for the pool's pods (isolation on)."""
    workflow_service_account: k8s.core.v1.ServiceAccount | None
    """The workflow pods' ServiceAccount bound to the bucket's cloud identity, when the stack
    creates the bucket."""
    pull_secrets: list[k8s.core.v1.Secret]
    backend_token: pulumi.Output[str] | None
    """The bootstrap token (secret): exported, so the service-side Secret can be created where
    the stack has no `osmo.controlPlane`."""
    workflow_data_credential: pulumi.Output[dict[str, pulumi.Input[str]]] | None
    """The workflow data credential's keys (secret), exported for the same reason."""
    service_values: dict[str, Any]
    """Control-plane values fragment (plain data, no secrets)."""

    def __init__(
        self, name: str, args: ConnectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        osmo = args["osmo"]
        child = pulumi.ResourceOptions(parent=self)

        self.operator_namespace = namespace(
            f"{name}-operator-ns",
            name=osmo.namespaces.operator,
            role="osmo-operator",
            opts=child,
        )
        self.workflow_namespace = namespace(
            f"{name}-workflows-ns",
            name=osmo.namespaces.workflows,
            role="osmo-workflows",
            opts=child,
        )
        self.test_namespace = None
        if osmo.test_namespace is not None:
            self.test_namespace = namespace(
                f"{name}-test-ns",
                name=osmo.test_namespace,
                role="osmo-backend-tests",
                opts=child,
            )

        token, previous = self._token(name, osmo.token, child)
        self.token_secret = None
        if token is not None:
            self.token_secret = k8s.core.v1.Secret(
                f"{name}-token",
                metadata={
                    "name": osmo.token.secret_name,
                    "namespace": self.operator_namespace.metadata.name,
                },
                type="Opaque",
                string_data={osmo.token.secret_key: token},
                opts=child,
            )

        self.backend_token = token
        bucket = args.get("workflow_bucket")
        data_bucket = args["workflow_data"]
        self.workflow_data_credential = None
        if bucket is not None and bucket.access_key is not None:
            self.workflow_data_credential = pulumi.Output.secret(bucket_credential(bucket))
        elif data_bucket is not None:
            self.workflow_data_credential = pulumi.Output.secret(
                storage_credential(data_bucket, args.get("workflow_data_keys"))
            )

        self.control_plane_secret = None
        self.storage_secret = None
        if osmo.control_plane is not None and token is not None:
            plane = osmo.control_plane
            provider = k8s.Provider(
                f"{name}-control-plane-k8s",
                kubeconfig=pulumi.Output.secret(plane.kubeconfig.content),
                cluster_identifier=plane.name,
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["kubeconfig"]),
            )
            data: dict[str, pulumi.Input[str]] = {CONTROL_PLANE_TOKEN_KEY: token}
            if previous is not None:
                data[CONTROL_PLANE_PREVIOUS_KEY] = previous
            self.control_plane_secret = k8s.core.v1.Secret(
                f"{name}-control-plane-token",
                metadata={"name": osmo.token.secret_name, "namespace": plane.namespace},
                type="Opaque",
                string_data=data,
                opts=pulumi.ResourceOptions(parent=self, provider=provider),
            )
            if self.workflow_data_credential is not None:
                # OSMO's service and worker read the workflow data store with this credential.
                self.storage_secret = k8s.core.v1.Secret(
                    f"{name}-control-plane-storage-credential",
                    metadata={
                        "name": data_credential_secret(osmo.backend_name),
                        "namespace": plane.namespace,
                    },
                    type="Opaque",
                    string_data=self.workflow_data_credential,
                    opts=pulumi.ResourceOptions(parent=self, provider=provider),
                )
        else:
            for step in control_plane_steps(
                osmo,
                has_data=self.workflow_data_credential is not None,
                stack=pulumi.get_stack(),
            ):
                pulumi.log.info(step)

        isolate = args.get("isolate_workflows", False)
        self.isolation_policy = None
        if isolate:
            self.isolation_policy = k8s.networking.v1.NetworkPolicy(
                f"{name}-workflow-isolation",
                metadata={
                    "name": ISOLATION_TEMPLATE,
                    "namespace": self.workflow_namespace.metadata.name,
                },
                spec=isolation_default_policy(osmo.namespaces.operator),
                opts=child,
            )

        self.workflow_service_account = None
        if bucket is not None:
            self.workflow_service_account = workflow_service_account(
                f"{name}-workflow-sa", bucket, self.workflow_namespace, child
            )

        self.pull_secrets = self._pull_secrets(name, osmo.pull_secret, child)
        self.service_values = service_values(
            osmo,
            args["cluster"].node_roles,
            pools=args["cluster"].node_pools,
            grafana_url=args["grafana_url"],
            dashboard_url=args["dashboard_url"],
            workflow_data=args["workflow_data"],
            workflow_bucket=bucket,
            isolate_workflows=isolate,
        )
        self.register_outputs({})

    def _token(
        self, name: str, spec: TokenSpec, opts: pulumi.ResourceOptions
    ) -> tuple[pulumi.Output[str] | None, pulumi.Output[str] | None]:
        """The current token and, during an overlap, the previous one (secret Outputs)."""
        if spec.source == "existing":
            return None, None
        if spec.source == "config":
            assert spec.value is not None
            previous = pulumi.Output.secret(spec.previous) if spec.previous is not None else None
            return pulumi.Output.secret(spec.value), previous
        slots = {
            slot: random.RandomBytes(
                f"{name}-token-slot-{slot}",
                length=TOKEN_BYTES,
                keepers={"generation": str(generation)},
                opts=opts,
            )
            for slot, generation in sorted(token_slots(spec.generation).items())
        }
        current = slots[spec.generation % 2].base64.apply(urlsafe_token)
        previous = None
        if spec.overlap:
            previous = slots[(spec.generation - 1) % 2].base64.apply(urlsafe_token)
        return current, previous

    def _pull_secrets(
        self, name: str, spec: PullSecretSpec | None, opts: pulumi.ResourceOptions
    ) -> list[k8s.core.v1.Secret]:
        if spec is None or spec.ngc_api_key is None:
            return []
        config = pulumi.Output.secret(spec.ngc_api_key).apply(dockerconfigjson)
        namespaces: Sequence[tuple[str, k8s.core.v1.Namespace | None]] = (
            ("operator", self.operator_namespace),
            ("workflows", self.workflow_namespace),
            ("test", self.test_namespace),
        )
        return [
            k8s.core.v1.Secret(
                f"{name}-{role}-pull-secret",
                metadata={"name": spec.name, "namespace": ns.metadata.name},
                type="kubernetes.io/dockerconfigjson",
                string_data={".dockerconfigjson": config},
                opts=opts,
            )
            for role, ns in namespaces
            if ns is not None
        ]
