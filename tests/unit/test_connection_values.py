"""Pure parts of the connection: token encoding, rotation slots, registry auth, service values."""

import base64
import json

from components.clusters.base import GPU_TOLERATION, NodeRole, node_pool, pool_roles
from components.config import TOKEN_PATTERN
from components.config._rules import Taint
from components.config.osmo import CHART_ROLES
from components.connection import (
    control_plane_steps,
    dockerconfigjson,
    service_values,
    token_slots,
    urlsafe_token,
)
from tests.unit.test_operator_values import osmo


def test_urlsafe_token_is_43_characters_of_the_osmo_alphabet() -> None:
    raw = bytes(range(224, 256))  # bytes that produce '+' and '/' in standard base64
    standard = base64.b64encode(raw).decode()
    assert "+" in standard or "/" in standard
    token = urlsafe_token(standard)
    assert len(token) == 43
    assert TOKEN_PATTERN.match(token)
    assert base64.urlsafe_b64decode(token + "=") == raw


def test_token_slots_alternate_so_the_previous_token_survives_one_generation() -> None:
    assert token_slots(0) == {0: 0}
    assert token_slots(1) == {1: 1, 0: 0}
    assert token_slots(2) == {0: 2, 1: 1}
    assert token_slots(7) == {1: 7, 0: 6}


def test_dockerconfigjson_uses_the_ngc_oauthtoken_user() -> None:
    doc = json.loads(dockerconfigjson("KEY"))
    entry = doc["auths"]["nvcr.io"]
    assert entry["username"] == "$oauthtoken"
    assert entry["password"] == "KEY"
    assert base64.b64decode(entry["auth"]).decode() == "$oauthtoken:KEY"


def test_service_values_wire_backend_pool_and_pod_templates() -> None:
    roles = {
        "operator": NodeRole({"node-type": "operator"}),
        "compute": NodeRole({"node-type": "compute"}),
        "gpu": NodeRole({"node-type": "gpu"}, (GPU_TOLERATION,)),
    }
    values = service_values(osmo(), roles)
    services = values["services"]
    assert services["backendApiTokens"] == {
        "enabled": True,
        "credentials": [{"name": "lab", "existingSecret": {"name": "tok"}}],
    }
    configs = services["configs"]
    assert configs["enabled"] is True
    assert configs["backends"] == {
        "default": None,
        "lab": {
            "description": "OSMO backend lab (managed by osmo-backend)",
            "k8s_namespace": "osmo-workflows",
            "router_address": "wss://osmo.example.com",
            "scheduler_settings": {
                "scheduler_type": "kai",
                "scheduler_name": "kai-scheduler",
                "scheduler_timeout": 30,
            },
        },
    }
    pool = configs["pools"]["lab"]
    assert pool["backend"] == "lab"
    assert pool["default_platform"] == "gpu"
    assert pool["platforms"] == {
        "cpu": {"override_pod_template": ["lab-cpu"]},
        "gpu": {"override_pod_template": ["lab-gpu"]},
    }
    assert configs["podTemplates"]["lab-gpu"] == {
        "spec": {
            "nodeSelector": {"node-type": "gpu"},
            "tolerations": [
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
            ],
        }
    }
    assert configs["podTemplates"]["lab-cpu"] == {
        "spec": {"nodeSelector": {"node-type": "compute"}}
    }


def test_without_gpu_nodes_the_pool_defaults_to_cpu() -> None:
    values = service_values(osmo(), {"compute": NodeRole({"node-type": "compute"})})
    pool = values["services"]["configs"]["pools"]["lab"]
    assert pool["default_platform"] == "cpu"
    assert list(pool["platforms"]) == ["cpu"]


def test_each_pool_gets_a_user_role_mapped_to_osmo_user() -> None:
    # The chart's osmo-user grants workflow:* on pool/default only (NVIDIA/OSMO
    # deployments/charts/service/values.yaml:780-801; release note 6.3.1 "Default osmo-user role
    # narrowed to default pool"). Restating osmo-user would conflict between fragments (Helm
    # replaces its policies list); a role per pool named as OSMO's CLI names one
    # (src/cli/config.py:611-631 create_role: `osmo-<pool>`), mapped to the same IdP role, merges.
    roles = service_values(osmo(), {})["services"]["configs"]["roles"]
    assert roles == {
        "osmo-lab": {
            "description": "Run workflows in pool lab (managed by osmo-backend)",
            "policies": [{"effect": "Allow", "actions": ["workflow:*"], "resources": ["pool/lab"]}],
            "external_roles": ["osmo-user"],
        }
    }
    assert not set(roles) & set(CHART_ROLES)


def test_configmap_mode_states_what_database_mode_would_default() -> None:
    # With services.configs.enabled the service loads the ConfigMap (config_file) and skips
    # create_default_pool, set_default_backend_images and set_default_service_url (NVIDIA/OSMO
    # src/service/core/service.py:461-491); the chart fills service_base_url only from
    # services.service.hostname and only when `configs.service` is non-empty
    # (deployments/charts/service/templates/configs.yaml:29-37). The fragment states both, and
    # drops the chart's placeholder backend and pool (values.yaml:833-862), served by no operator.
    configs = service_values(osmo(), {})["services"]["configs"]
    assert configs["enabled"] is True
    assert configs["service"] == {"service_base_url": "https://osmo.example.com"}
    # backend_images fields: src/utils/connectors/postgres.py:1732-1740 (OsmoImageConfig); the
    # tag the service would derive: service.py:312-320 (<location>/init-container:<tag>).
    assert configs["workflow"]["backend_images"] == {
        "init": "nvcr.io/nvidia/osmo/init-container:6.4.0",
        "client": "nvcr.io/nvidia/osmo/client:6.4.0",
    }
    assert configs["backends"]["default"] is None
    assert configs["pools"]["default"] is None


def test_control_plane_steps_read_the_secret_outputs_never_the_values() -> None:
    steps = control_plane_steps(osmo(), has_data=True, stack="east")
    assert steps == [
        "service side: kubectl -n osmo create secret generic tok --from-file=token=<(pulumi stack "
        "output --stack east backend_token --show-secrets | tr -d '\\n')",
        "service side: kubectl -n osmo create secret generic osmo-workflow-data-cred-lab "
        "--from-env-file=<(pulumi stack output --stack east workflow_data_credential "
        "--show-secrets --json | jq -r 'to_entries[] | \"\\(.key)=\\(.value)\"')",
    ]
    assert control_plane_steps(osmo(), has_data=False, stack="east") == steps[:1]


def test_each_compute_and_gpu_pool_is_its_own_platform_next_to_the_role_platforms() -> None:
    # Platform schema: pools.<pool>.platforms.<name>.{description, override_pod_template}
    # (NVIDIA/OSMO src/utils/connectors/postgres.py PlatformEditable/Platform); a platform's
    # labels and tolerations are its pod template's nodeSelector and tolerations
    # (src/service/core/config/configmap_loader.py _resolve_platform_fields). A node is in a
    # platform when those labels are a subset of its own and the tolerations tolerate every
    # NoSchedule/NoExecute taint it has (src/service/core/config/helpers.py
    # update_node_pool_platform, tolerations_satisfy_taints): so the selector carries the pool
    # label, and the tolerations every taint of the pool.
    spot = {
        "key": "kubernetes.azure.com/scalesetpriority",
        "operator": "Equal",
        "value": "spot",
        "effect": "NoSchedule",
    }
    dedicated = Taint(key="example.com/team", value="vision", effect="NoSchedule")
    pools = (
        node_pool("operator", "operator", ()),
        node_pool("compute", "compute", ()),
        node_pool("h100", "gpu", (dedicated,), (spot,)),
        node_pool("gpu", "gpu", ()),
    )
    values = service_values(osmo(), pool_roles(pools), pools=pools)
    configs = values["services"]["configs"]
    pool = configs["pools"]["lab"]
    assert pool["default_platform"] == "gpu"
    assert pool["platforms"] == {
        "cpu": {"override_pod_template": ["lab-cpu"]},
        "gpu": {"override_pod_template": ["lab-gpu"]},
        "compute": {
            "description": "compute pool compute of backend lab",
            "override_pod_template": ["lab-pool-compute"],
        },
        "h100": {
            "description": "gpu pool h100 of backend lab",
            "override_pod_template": ["lab-pool-h100"],
        },
        # Named like the role-level platform: its own platform takes a prefix.
        "pool-gpu": {
            "description": "gpu pool gpu of backend lab",
            "override_pod_template": ["lab-pool-gpu"],
        },
    }
    gpu_toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    team = {
        "key": "example.com/team",
        "operator": "Equal",
        "value": "vision",
        "effect": "NoSchedule",
    }
    templates = configs["podTemplates"]
    assert templates["lab-pool-h100"] == {
        "spec": {
            "nodeSelector": {"node-type": "gpu", "osmo.nvidia.com/pool": "h100"},
            "tolerations": [gpu_toleration, spot, team],
        }
    }
    assert templates["lab-pool-compute"] == {
        "spec": {"nodeSelector": {"node-type": "compute", "osmo.nvidia.com/pool": "compute"}}
    }
    # The role platform reaches every pool of its role: it tolerates all of their taints.
    assert templates["lab-gpu"] == {
        "spec": {"nodeSelector": {"node-type": "gpu"}, "tolerations": [gpu_toleration, spot, team]}
    }
    # The operator pool runs add-ons, no workflows: no platform.
    assert "lab-pool-operator" not in templates
