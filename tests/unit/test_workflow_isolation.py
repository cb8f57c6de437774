"""Workflows are isolated from each other (issue 20 item 4), through OSMO's group templates.

Facts pinned here (NVIDIA/OSMO at ee78e478a, the commit that made the backend-operator chart
1.4.0 / app 6.4.0, and unchanged up to 1da31e19e):
- group templates exist: docs/deployment_guide/advanced_config/group_template.rst; the service
  chart renders `services.configs.groupTemplates` as `group_templates`
  (deployments/charts/service/templates/configs.yaml:68-70) and pools list them in
  `common_group_templates` (src/service/core/config/configmap_loader.py:936).
- they are created before the group's pods (src/utils/job/task.py:2396-2408, prepended) and
  rendered by render_group_templates (task.py:1485), which substitutes `{{...}}` tokens in every
  string of the manifest (substitute_pod_template_tokens, task.py:1425); the tokens come from the
  pods' own labels (_convert_labels_to_variables, task.py:2497: osmo.workflow_uuid -> WF_UUID,
  osmo.group_uuid -> WF_GROUP_UUID), which system_labels sets on every task pod (task.py:2420).
- the worker's Role has no networkpolicies (deployments/charts/backend-operator/templates/
  backend-worker-rbac.yaml:64-76) but appends `services.backendWorker.extraRBACRules`, with at
  least list, create, delete, patch on each kind a group template creates (group_template.rst,
  Required Backend Permissions).
- pod templates are merged over the base pod spec, metadata.labels included
  (docs/deployment_guide/advanced_config/pod_template.rst, Base Pod Specification Details).
"""

from typing import Any

from components import chart_keys, versions
from components.networking import (
    ISOLATION_LABEL,
    ISOLATION_TEMPLATE,
    isolation_group_template,
)
from tests.harness import config, run_main

CIDRS = {"clusterCIDRs": ["10.0.0.0/8"]}
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
RELEASE = "kubernetes:helm.sh/v3:Release"


def test_each_group_admits_every_pod_of_its_own_workflow() -> None:
    template = isolation_group_template()
    assert template == {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "osmo-isolation-{{WF_GROUP_UUID}}"},
        "spec": {
            "podSelector": {"matchLabels": {"osmo.group_uuid": "{{WF_GROUP_UUID}}"}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"from": [{"podSelector": {"matchLabels": {"osmo.workflow_uuid": "{{WF_UUID}}"}}}]}
            ],
        },
    }
    # No namespace: OSMO strips it and sets the workflow namespace (render_group_templates).
    assert "namespace" not in template["metadata"]


def _plan(policy: dict[str, Any]) -> Any:
    return run_main(config(networking={"workflowPolicy": {**CIDRS, **policy}}))


def test_the_plan_isolates_workflows_by_default() -> None:
    rec = _plan({})
    default = rec.get(POLICY, "osmo-connection-workflow-isolation")
    assert default.inputs["metadata"] == {"name": ISOLATION_TEMPLATE, "namespace": "osmo-workflows"}
    assert default.inputs["spec"] == {
        "podSelector": {"matchLabels": {ISOLATION_LABEL: "true"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": "osmo-operator"}
                        }
                    }
                ]
            }
        ],
    }
    configs = rec.outputs["osmo_service_values"]["services"]["configs"]
    assert configs["groupTemplates"] == {ISOLATION_TEMPLATE: isolation_group_template()}
    assert configs["podTemplates"][ISOLATION_TEMPLATE] == {
        "metadata": {"labels": {ISOLATION_LABEL: "true"}}
    }
    pool = configs["pools"]["lab-backend"]
    assert pool["common_group_templates"] == [ISOLATION_TEMPLATE]
    assert pool["common_pod_template"][-1] == ISOLATION_TEMPLATE
    worker = rec.get(RELEASE, "osmo-operators-backend-operator").inputs["values"]["services"][
        "backendWorker"
    ]
    assert worker["extraRBACRules"] == [
        {
            "apiGroups": ["networking.k8s.io"],
            "resources": ["networkpolicies"],
            "verbs": ["list", "create", "delete", "patch"],
        }
    ]
    index = chart_keys.load("backend-operator", versions.BACKEND_OPERATOR.version)
    assert chart_keys.unknown_keys(index, {"services": {"backendWorker": worker}}) == []


def test_isolation_can_be_turned_off() -> None:
    rec = _plan({"isolateWorkflows": False})
    assert [r for r in rec.by_type(POLICY) if r.name == "osmo-connection-workflow-isolation"] == []
    configs = rec.outputs["osmo_service_values"]["services"]["configs"]
    assert "groupTemplates" not in configs
    assert ISOLATION_TEMPLATE not in configs["podTemplates"]
    assert "common_group_templates" not in configs["pools"]["lab-backend"]
    worker = rec.get(RELEASE, "osmo-operators-backend-operator").inputs["values"]["services"][
        "backendWorker"
    ]
    assert "extraRBACRules" not in worker
