"""Pure parts of the connection: token encoding, rotation slots, registry auth, service values."""

import base64
import json

from components.cluster.base import GPU_TOLERATION, NodeRole
from components.config import TOKEN_PATTERN
from components.connection import dockerconfigjson, service_values, token_slots, urlsafe_token
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
        "lab": {
            "description": "OSMO backend lab (managed by osmo-backend)",
            "k8s_namespace": "osmo-workflows",
            "router_address": "wss://osmo.example.com",
            "scheduler_settings": {
                "scheduler_type": "kai",
                "scheduler_name": "kai-scheduler",
                "scheduler_timeout": 30,
            },
        }
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
