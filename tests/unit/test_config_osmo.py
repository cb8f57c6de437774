"""`osmo-backend:osmo` and `osmo-backend:operators`: defaults and every rejected input."""

from typing import Any

import pytest

from components.config import (
    BACKEND_TOKEN_KEY,
    PREVIOUS_BACKEND_TOKEN_KEY,
    ConfigError,
    StackSpec,
    load_spec,
)
from tests.harness import REPO, SAMPLE_KUBECONFIG, config, encode

TOKEN = "A" * 43
OTHER = "b" * 64
SECRETS = (BACKEND_TOKEN_KEY, PREVIOUS_BACKEND_TOKEN_KEY, "osmo-backend:ngcApiKey")


def spec(values: dict[str, Any], secret_keys: tuple[str, ...] = SECRETS) -> StackSpec:
    return load_spec(encode(values), secret_keys, base_dir=REPO)


def problems(values: dict[str, Any], secret_keys: tuple[str, ...] = SECRETS) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        spec(values, secret_keys)
    return err.value.problems


def osmo(**fields: Any) -> dict[str, Any]:
    return config(osmo=fields)


def test_defaults_follow_osmo_docs() -> None:
    s = spec(config())
    o = s.osmo
    assert (o.namespaces.operator, o.namespaces.workflows, o.test_namespace) == (
        "osmo-operator",
        "osmo-workflows",
        None,
    )
    assert o.router_address == "wss://osmo.example.com"
    assert o.image_tag == "6.4.0"
    assert o.pool == "lab-backend"
    assert o.token.source == "generate"
    assert o.token.credential_name == "lab-backend"
    assert o.token.secret_name == "osmo-backend-token-lab-backend"
    assert o.token.secret_key == "token"
    assert (o.token.generation, o.token.overlap) == (0, False)
    assert o.control_plane is None
    assert o.pull_secret is None
    ops = s.operators
    assert (ops.kai_scheduler.release_name, ops.kai_scheduler.namespace) == (
        "kai-scheduler",
        "kai-scheduler",
    )
    assert ops.gpu_operator is not None
    assert (ops.gpu_operator.release_name, ops.gpu_operator.namespace) == (
        "gpu-operator",
        "gpu-operator",
    )
    assert ops.backend_operator.release_name == "osmo-operator"
    assert ops.backend_operator.wait is False


def test_backend_tests_add_the_test_namespace() -> None:
    assert spec(osmo(backendTests=True)).osmo.test_namespace == "osmo-test"


def test_token_from_secret_config_with_overlap() -> None:
    values = osmo(token={"source": "config", "overlap": True})
    values[BACKEND_TOKEN_KEY] = TOKEN + "\n"  # a trailing newline from `< file` is tolerated
    values[PREVIOUS_BACKEND_TOKEN_KEY] = OTHER
    token = spec(values).osmo.token
    assert (token.value, token.previous) == (TOKEN, OTHER)
    assert TOKEN not in repr(token)


def test_ngc_key_creates_the_default_pull_secret() -> None:
    values = config()
    values["osmo-backend:ngcApiKey"] = "nvapi-xyz"
    pull = spec(values).osmo.pull_secret
    assert pull is not None
    assert pull.name == "nvcr-secret"
    assert pull.ngc_api_key == "nvapi-xyz"
    assert "nvapi" not in repr(pull)


def test_control_plane_defaults_its_namespace() -> None:
    values = osmo(controlPlane={"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG)})
    plane = spec(values).osmo.control_plane
    assert plane is not None
    assert (plane.name, plane.namespace) == ("svc", "osmo")
    assert plane.kubeconfig.context == "onprem-lab-readonly"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"serviceUrl": "http://osmo.example.com"},
            "osmo-backend:osmo.serviceUrl: 'http://osmo.example.com' must be an absolute "
            "https:// URL with a host",
        ),
        (
            {"serviceUrl": "osmo.example.com"},
            "osmo-backend:osmo.serviceUrl: 'osmo.example.com' must be an absolute https:// URL "
            "with a host",
        ),
        (
            {"serviceUrl": "https://user:pw@osmo.example.com"},
            "osmo-backend:osmo.serviceUrl: must not carry credentials (user:password@); the "
            "token authenticates",
        ),
        (
            {"serviceUrl": "https://osmo.example.com/?a=1"},
            "osmo-backend:osmo.serviceUrl: 'https://osmo.example.com/?a=1' must not have a "
            "query or fragment",
        ),
        (
            {"serviceUrl": None},
            "osmo-backend:osmo.serviceUrl: is required",
        ),
        (
            {"routerAddress": "https://osmo.example.com"},
            "osmo-backend:osmo.routerAddress: 'https://osmo.example.com' must be an absolute "
            "wss:// URL with a host",
        ),
        (
            {"imageTag": "latest"},
            "osmo-backend:osmo.imageTag: 'latest' is not a pinned version tag (like '6.4.0'); "
            "floating tags such as 'latest' drift between nodes",
        ),
        (
            {"namespaces": {"operator": "same", "workflows": "same"}},
            "osmo-backend:osmo.namespaces: operator, workflows and test must be different "
            "namespaces: {'operator': 'same', 'workflows': 'same', 'test': 'osmo-test'}",
        ),
        (
            {"namespaces": {"workflows": "Osmo_WF"}},
            "osmo-backend:osmo.namespaces.workflows: 'Osmo_WF' is not a DNS-1123 label; use "
            "lowercase letters, digits and '-', starting and ending with a letter or digit",
        ),
        (
            {"backendTests": "yes"},
            "osmo-backend:osmo.backendTests: must be true or false, got 'yes'",
        ),
        (
            {"token": {"source": "vault"}},
            "osmo-backend:osmo.token.source: 'vault' is not one of: generate, config, existing",
        ),
        (
            {"token": {"credentialName": "c" * 50}},
            f"osmo-backend:osmo.token.credentialName: {'c' * 50!r} is 50 characters; at most 49 "
            "are allowed",
        ),
        (
            {"backendName": "b" * 50},
            f"osmo-backend:osmo.token.credentialName: {'b' * 50!r} is 50 characters; at most 49 "
            "are allowed (it defaults to backendName; set it)",
        ),
        (
            {"token": {"secretKey": "to ken"}},
            "osmo-backend:osmo.token.secretKey: 'to ken' is not a valid Secret data key",
        ),
        (
            {"token": {"generation": -1}},
            "osmo-backend:osmo.token.generation: must be a whole number >= 0, got -1",
        ),
        (
            {"token": {"overlap": True}},
            "osmo-backend:osmo.token.overlap: needs a previous generated token: bump "
            "osmo.token.generation in the same change",
        ),
        (
            {"token": {"source": "existing", "overlap": True}},
            "osmo-backend:osmo.token.overlap: needs the token value; not possible with 'existing'",
        ),
        (
            {"token": {"source": "config"}},
            "osmo-backend:backendToken: is required when osmo.token.source is 'config': pulumi "
            "config set --secret backendToken ...",
        ),
        (
            {"imagePullSecret": "Bad_Name"},
            "osmo-backend:osmo.imagePullSecret: 'Bad_Name' is not a DNS-1123 subdomain; use "
            "lowercase letters, digits, '-' and '.'",
        ),
        (
            {"controlPlane": {"kubeconfig": str(SAMPLE_KUBECONFIG)}},
            "osmo-backend:osmo.controlPlane.name: is required",
        ),
    ],
)
def test_rejected_osmo_inputs(fields: dict[str, Any], expected: str) -> None:
    assert problems(osmo(**fields)) == (expected,)


@pytest.mark.parametrize(
    ("token", "length"),
    [("short", 5), ("A" * 42, 42), ("A" * 44, 44), ("A" * 42 + "+", 43), ("A" * 42 + "=", 43)],
)
def test_token_values_must_be_43_or_64_urlsafe_characters(token: str, length: int) -> None:
    values = osmo(token={"source": "config"})
    values[BACKEND_TOKEN_KEY] = token
    (line,) = problems(values)
    assert line.startswith(
        f"osmo-backend:backendToken: must be 43 or 64 characters of [A-Za-z0-9_-] (got {length} "
        "characters)"
    )
    assert token not in line


def test_token_values_must_be_secret() -> None:
    values = osmo(token={"source": "config"})
    values[BACKEND_TOKEN_KEY] = TOKEN
    assert problems(values, ()) == (
        "osmo-backend:backendToken: holds the OSMO backend bootstrap token and must be a secret: "
        "set it with `pulumi config set --secret backendToken ...`",
    )


def test_a_token_that_would_be_ignored_is_an_error() -> None:
    values = config()
    values[BACKEND_TOKEN_KEY] = TOKEN
    assert problems(values) == (
        "osmo-backend:backendToken: is set but osmo.token.source is 'generate', not 'config'",
    )


def test_previous_token_must_differ_and_only_during_overlap() -> None:
    values = osmo(token={"source": "config", "overlap": True})
    values[BACKEND_TOKEN_KEY] = TOKEN
    values[PREVIOUS_BACKEND_TOKEN_KEY] = TOKEN
    assert problems(values) == (
        "osmo-backend:previousBackendToken: must differ from backendToken (the service ignores "
        "a token listed twice)",
    )
    values = osmo(token={"source": "config"})
    values[BACKEND_TOKEN_KEY] = TOKEN
    values[PREVIOUS_BACKEND_TOKEN_KEY] = OTHER
    assert problems(values) == (
        "osmo-backend:previousBackendToken: is set but osmo.token.overlap is false; remove it to "
        "finish the rotation",
    )
    values = osmo(token={"source": "config", "overlap": True})
    values[BACKEND_TOKEN_KEY] = TOKEN
    assert problems(values) == (
        "osmo-backend:previousBackendToken: is required while osmo.token.overlap is true",
    )


def test_existing_token_cannot_be_copied_to_the_control_plane() -> None:
    values = osmo(
        token={"source": "existing"},
        controlPlane={"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG)},
    )
    assert problems(values) == (
        "osmo-backend:osmo.token.source: 'existing' cannot be copied to the control plane (its "
        "value is not known to the stack); use 'generate' or 'config', or remove "
        "osmo.controlPlane",
    )


def test_control_plane_kubeconfig_is_checked_like_the_cluster_one() -> None:
    values = osmo(
        controlPlane={"name": "svc", "kubeconfig": str(SAMPLE_KUBECONFIG), "context": "nope"}
    )
    assert problems(values) == (
        "osmo-backend:osmo.controlPlane.kubeconfig: context 'nope' not found; the kubeconfig "
        "has: onprem-lab-admin, onprem-lab-readonly",
    )


@pytest.mark.parametrize(
    ("operators", "expected"),
    [
        (
            {"gpuOperator": {"values": {"driver": {"enabeld": False}}}},
            "osmo-backend:operators.gpuOperator.values.driver.enabeld: the gpu-operator chart "
            "v25.10.1 does not read this key (see https://github.com/NVIDIA/gpu-operator/blob/"
            "v25.10.1/deployments/gpu-operator/values.yaml)",
        ),
        (
            {"kaiScheduler": {"values": {"scheduler": {"additionalArgs": ["--x"]}}}},
            "osmo-backend:operators.kaiScheduler.values.scheduler.additionalArgs: the "
            "kai-scheduler chart v0.16.8 does not read this key (see https://github.com/"
            "kai-scheduler/KAI-Scheduler/blob/v0.16.8/deployments/kai-scheduler/values.yaml)",
        ),
        (
            {"backendOperator": {"releaseName": "x" * 54}},
            f"osmo-backend:operators.backendOperator.releaseName: {'x' * 54!r} is 54 characters; "
            "at most 53 are allowed",
        ),
        (
            {"backendOperator": {"namespace": "elsewhere"}},
            "osmo-backend:operators.backendOperator.namespace: unknown key (allowed: "
            "releaseName, values, wait)",
        ),
        (
            {"gpuOperator": {"enabled": "no"}},
            "osmo-backend:operators.gpuOperator.enabled: must be true or false, got 'no'",
        ),
        (
            {"kaiScheduler": {"namespace": "KAI"}},
            "osmo-backend:operators.kaiScheduler.namespace: 'KAI' is not a DNS-1123 label; use "
            "lowercase letters, digits and '-', starting and ending with a letter or digit",
        ),
        (
            {"kai": {}},
            "osmo-backend:operators.kai: unknown key (allowed: backendOperator, gpuOperator, "
            "kaiScheduler)",
        ),
    ],
)
def test_rejected_operator_inputs(operators: dict[str, Any], expected: str) -> None:
    assert problems(config(operators=operators)) == (expected,)


def test_valid_overrides_and_gpu_operator_off() -> None:
    s = spec(
        config(
            operators={
                "gpuOperator": {"enabled": False, "runtimeClassStub": False},
                "backendOperator": {
                    "values": {"services": {"backendWorker": {"extraRBACRules": []}}}
                },
            }
        )
    )
    assert s.operators.gpu_operator is None
    assert s.operators.gpu.runtime_class_stub is False
    assert s.operators.backend_operator.values == {
        "services": {"backendWorker": {"extraRBACRules": []}}
    }


@pytest.mark.parametrize(
    ("tag", "why"),
    [
        ("6.3.1", "is older than 6.4.0"),
        ("v6.2.10", "is older than 6.4.0"),
        ("2026.08.10.abc1234.stg1", "is a build from before 2026.08.11"),
    ],
)
def test_image_tags_older_than_the_backend_token_flow_are_refused(tag: str, why: str) -> None:
    # `services.backendApiTokens` and the backend token directory arrived in NVIDIA/OSMO
    # 27af88d8a (#1275, 2026-08-11); no release tag contains it (`git tag --contains` is
    # empty; the newest, 6.3.1, predates it) and the charts say 1.4.0 / 6.4.0 both before and
    # after it (deployments/charts/service/Chart.yaml). Dated builds are tagged
    # YYYY.MM.DD.<hash>.stgN (.github/workflows/deployment-test.yaml:170-172).
    assert problems(
        osmo(backendName="lab", serviceUrl="https://osmo.example.com", imageTag=tag)
    ) == (
        f"osmo-backend:osmo.imageTag: {tag!r} {why}: the backend token flow "
        "(services.backendApiTokens) arrived in NVIDIA/OSMO commit 27af88d8a (#1275); use "
        "6.4.0 or later",
    )


@pytest.mark.parametrize(
    "tag", ["6.4.0", "v6.4.1", "7.0.0", "2026.08.11.abc1234.stg1", "6.4.0-rc1"]
)
def test_image_tags_with_the_token_flow_are_accepted(tag: str) -> None:
    assert spec(osmo(backendName="lab", serviceUrl="https://osmo.example.com", imageTag=tag))


@pytest.mark.parametrize("pool", ["admin", "user", "default", "ctrl", "backend"])
def test_a_pool_whose_role_would_replace_a_chart_role_is_refused(pool: str) -> None:
    # The chart's roles (NVIDIA/OSMO deployments/charts/service/values.yaml:772-832); each pool
    # gets the role `osmo-<pool>` (src/cli/config.py:618-620 names pool roles so).
    found = problems(osmo(backendName="lab", serviceUrl="https://osmo.example.com", pool=pool))
    assert found == (
        f"osmo-backend:osmo.pool: {pool!r} would name its user role 'osmo-{pool}', one of the "
        "OSMO service chart's own roles (osmo-admin, osmo-user, osmo-default, osmo-ctrl, "
        "osmo-backend); choose another pool name",
    )


def test_an_invalid_backend_name_does_not_hide_the_token_problems() -> None:
    # Every problem at once: the token's own settings are checked even when the credential name
    # it would default to (backendName) is invalid; only the names derived from it are skipped.
    found = problems(
        config(osmo={"backendName": "Not_A_Label", "token": {"generation": -1, "overlap": "no"}})
    )
    assert [p.split(":", 2)[1] for p in found] == [
        "osmo.backendName",
        "osmo.token.generation",
        "osmo.token.overlap",
    ]
