"""Secret hygiene for every reference stack: planted credentials appear in no plan file, stack
output, ConfigMap, Helm value or log line, and every input carrying them is a Pulumi secret."""

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import BACKEND_TOKEN_KEY, KUBECONFIG_SECRET_KEY
from offline import engine, plan
from offline.stackfile import find_project, load_stack_config
from tests.harness import REPO, SAMPLE_KUBECONFIG, run_main
from tests.stacks.test_reference_stacks import STACKS

TOKEN = "PlantedBootstrapToken_0123456789abcdefghijk"  # 43 characters
KUBE_TOKEN = "planted-kubeconfig-user-token"
NGC_KEY = "nvapi-planted-ngc-key"
PLANTED = (TOKEN, KUBE_TOKEN, NGC_KEY)
SECRET_KEYS = (KUBECONFIG_SECRET_KEY, BACKEND_TOKEN_KEY, "osmo-backend:ngcApiKey")


def planted_config(stack: str) -> dict[str, Any]:
    project = find_project(REPO)
    values = load_stack_config(project, project.stack_file(stack)).values
    config = {k: yaml.safe_load(v) if v[:1] in "{[" else v for k, v in values.items()}
    cluster = config["osmo-backend:cluster"]
    if cluster["kind"] == "existing":
        cluster.pop("kubeconfig", None)
        kubeconfig = yaml.safe_load(SAMPLE_KUBECONFIG.read_text())
        for user in kubeconfig["users"]:
            user["user"]["token"] = KUBE_TOKEN
        config[KUBECONFIG_SECRET_KEY] = yaml.safe_dump(kubeconfig)
    config["osmo-backend:osmo"]["token"] = {"source": "config"}
    config[BACKEND_TOKEN_KEY] = TOKEN
    config["osmo-backend:ngcApiKey"] = NGC_KEY
    return config


@functools.cache
def planted_run(stack: str) -> engine.Recording:
    """One run per stack with the planted config, shared by the tests below (read only)."""
    return run_main(planted_config(stack), secret_keys=SECRET_KEYS)


@pytest.mark.parametrize("stack", STACKS)
def test_planted_credentials_leak_nowhere(stack: str, tmp_path: Path) -> None:
    rec = planted_run(stack)
    plan.write(rec, tmp_path)
    texts = [p.read_text() for p in tmp_path.rglob("*") if p.is_file()]
    texts += [str(rec.outputs), "\n".join(m for _, m in rec.logs), "\n".join(plan.tree(rec))]
    for record in rec.resources:
        if record.type in ("kubernetes:helm.sh/v3:Release", "kubernetes:core/v1:ConfigMap"):
            texts.append(str(engine.unwrap_secrets(record.raw_inputs)))
    assert len(texts) > 20
    for text in texts:
        for value in PLANTED:
            assert value not in text


@pytest.mark.parametrize("stack", STACKS)
def test_every_input_carrying_a_credential_is_secret(stack: str) -> None:
    rec = planted_run(stack)
    carriers = 0
    for record in rec.resources:
        for key, value in record.raw_inputs.items():
            if any(p in str(engine.unwrap_secrets(value)) for p in PLANTED):
                carriers += 1
                assert engine.mask_secrets(value) == "[secret]", (record.name, key)
    # The compute token Secret and the pull Secret; on adopted clusters also the cluster
    # provider and the control-plane token Secret.
    assert carriers >= (4 if kind(stack) == "existing" else 2)
    assert rec.outputs["kubeconfig"] == "[secret]"


def kind(stack: str) -> str:
    return planted_config(stack)["osmo-backend:cluster"]["kind"]


@pytest.mark.parametrize("stack", [s for s in STACKS if kind(s) == "existing"])
def test_adopted_clusters_get_no_deleted_with(stack: str) -> None:
    rec = planted_run(stack)
    assert [r.name for r in rec.resources if r.options["deletedWith"]] == []
