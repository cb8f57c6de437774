"""Issue 16 item 1: messages that name the real cause, each through the CLI with its exact text.

Every case writes a stack file as a new user would (YAML text, not a dict), runs
`osmo-backend validate --config-file`, and compares stderr line for line.
"""

from pathlib import Path

import pytest

from components import policy
from offline import cli
from tests.harness import REPO, SAMPLE_KUBECONFIG

OSMO = """\
  osmo-backend:osmo: {backendName: lab, serviceUrl: https://osmo.example.com}
  osmo-backend:networking: {workflowPolicy: {clusterCIDRs: [10.0.0.0/8]}}
"""
EXISTING = f"""\
config:
  osmo-backend:cluster:
    kind: existing
    name: lab
    kubeconfig: {SAMPLE_KUBECONFIG}
    context: onprem-lab-admin
{OSMO}"""


def validate(
    tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str], name: str = "t"
) -> tuple[int, list[str], Path]:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    status = cli.main(["--project-dir", str(REPO), "validate", "--config-file", str(path)])
    return status, capsys.readouterr().err.splitlines(), path


# --- YAML syntax: the parser's reason and position ---------------------------------------------


def test_a_yaml_syntax_error_keeps_the_parsers_reason_and_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "config:\n  osmo-backend:cluster: {kind: existing, name: [a, b c}\n"
    status, err, path = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        f"{path}: not valid YAML at line 2, column 55: expected ',' or ']', but got '}}' "
        "(while parsing a flow sequence that starts at line 2, column 48)"
    ]


def test_a_tab_is_named_with_the_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, err, path = validate(tmp_path, "config:\n\tosmo-backend:cluster: x\n", capsys)
    assert status == 2
    assert err == [
        f"{path}: not valid YAML at line 2, column 1: found character '\\t' that cannot start "
        "any token (while scanning for the next token); YAML indents with spaces, not tabs"
    ]


# --- empty files and keys outside `config:` ---------------------------------------------------

STARTER = (
    "a stack's settings go under a top-level `config:` key "
    "(`osmo-backend init --kind KIND --name NAME` writes a commented starter)"
)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "the stack file is empty"),
        ("\n\n", "the stack file is empty"),
        ("# my east stack\n# TODO\n", "the stack file has only comments"),
    ],
)
def test_an_empty_or_comment_only_file_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    # The CLI reads an empty document as a stack with no config (LoadProjectStackBytes in
    # pulumi/pulumi sdk/go/common/workspace/loaders.go) and would report the declared keys missing.
    status, err, path = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [f"{path}: {reason}; {STARTER}"]


def test_config_keys_without_config_say_where_they_belong(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXISTING.replace("config:\n", "").replace("\n  ", "\n").lstrip()
    status, err, path = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        f"{path}: osmo-backend:cluster, osmo-backend:osmo, osmo-backend:networking are at the "
        f"top level; {STARTER}"
    ]


def test_a_misspelled_top_level_key_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # ProjectStack (sdk/go/common/workspace/project.go) has exactly these keys; go-yaml's
    # non-strict Unmarshal drops any other one silently.
    status, err, path = validate(tmp_path, EXISTING.replace("config:", "confg:"), capsys)
    assert status == 2
    assert err == [
        f"{path}: top-level key 'confg' is not read by the Pulumi CLI; did you mean 'config'? "
        "(a stack file has: config, environment, secretsprovider, encryptedkey, encryptionsalt)"
    ]


# --- required values and typos ----------------------------------------------------------------


def test_a_typo_in_a_required_key_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err, _ = validate(tmp_path, EXISTING.replace("    name: lab", "    nme: lab"), capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.nme: unknown key; did you mean 'name'? (allowed: context, "
        "gpuStack, kind, kubeconfig, name, nodeRoles)"
    ]


def test_a_missing_required_value_says_is_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXISTING.replace("    name: lab\n", "").replace("backendName: lab, ", "")
    status, err, _ = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.name: is required",
        "osmo-backend:osmo.backendName: is required",
    ]


def test_a_missing_kind_and_pool_fields_say_is_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    no_kind = EXISTING.replace("    kind: existing\n", "")
    status, err, _ = validate(tmp_path, no_kind, capsys)
    assert (status, err) == (
        2,
        ["osmo-backend:cluster.kind: is required (one of: existing, eks, gke, aks)"],
    )
    pools = """\
config:
  aws:region: us-west-2
  osmo-backend:cluster:
    kind: eks
    name: east
    nodePools:
      - {name: operator, role: operator, instanceType: m6i.xlarge, minSize: 1}
      - {name: gpu, role: gpu}
      - {name: cpu, rol: compute, instanceType: m6i.xlarge}
""" + OSMO.replace(
        "  osmo-backend:networking: {workflowPolicy: {clusterCIDRs: [10.0.0.0/8]}}\n", ""
    )
    status, err, _ = validate(tmp_path, pools, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.nodePools[1].instanceType: is required",
        "osmo-backend:cluster.nodePools[2].rol: unknown key; did you mean 'role'? (allowed: "
        "capacityType, desiredSize, diskSizeGiB, gpusPerNode, instanceType, instanceTypes, "
        "labels, maxSize, minSize, name, role, subnetIds, taints, zones)",
    ]


def test_an_unquoted_kubernetes_version_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = """\
config:
  aws:region: us-west-2
  osmo-backend:cluster: {kind: eks, name: east, kubernetesVersion: 1.30}
  osmo-backend:osmo: {backendName: east, serviceUrl: https://osmo.example.com}
"""
    status, err, _ = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.kubernetesVersion: is the number 1.3: YAML reads an unquoted "
        'version as a number (1.30 becomes 1.3); write it quoted, like kubernetesVersion: "1.30"'
    ]


AKS = """\
config:
  azure-native:location: westeurope
  osmo-backend:cluster:
    kind: aks
    name: weu
    resourceGroup: weu-rg
    apiServer: {authorizedIpRanges: [203.0.113.0/24]}
    nodePools:
      - {name: operator, role: operator, vmSize: Standard_D4s_v3, minCount: 1, maxCount: 3}
      - {name: operator2, role: operator, vmSize: Standard_D4s_v3, minCount: 0, maxCount: 3}
      - {name: a100, role: gpu, vmSize: Standard_NC24ads_A100_v4, minCount: 0, maxCount: 2}
  osmo-backend:osmo: {backendName: weu, serviceUrl: https://osmo.example.com}
"""


def test_a_second_aks_operator_pool_is_reported_as_that(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before: "nodePools[1].minCount: the operator pool is AKS's system pool and needs at least
    # 1 node" (the rule for the one system pool, applied to a pool that should not exist).
    status, err, _ = validate(tmp_path, AKS, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.nodePools: needs exactly one operator pool (AKS's system pool, "
        "where KAI, the GPU Operator and OSMO's operator run); got 2"
    ]


# --- the public-endpoint opt-out: two steps, one message, validate and plan agree --------------

EKS_PUBLIC = """\
config:
  aws:region: us-west-2
  osmo-backend:cluster:
    kind: eks
    name: east
    endpoint: {publicAccessCidrs: [0.0.0.0/0]}
  osmo-backend:osmo: {backendName: east, serviceUrl: https://osmo.example.com}
"""


def test_an_open_endpoint_names_both_steps_of_the_opt_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err, _ = validate(tmp_path, EKS_PUBLIC, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.endpoint.publicAccessCidrs[0]: opens the API server to the "
        "internet; list your networks, or opt out in two explicit steps: set "
        "endpoint.allowPublicFromAnywhere: true and list OSMO-EKS-001 under "
        "osmo-backend:policy.allow"
    ]


def test_the_config_flag_alone_is_refused_by_validate_as_plan_refuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EKS_PUBLIC.replace("[0.0.0.0/0]}", "[0.0.0.0/0], allowPublicFromAnywhere: true}")
    status, err, path = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.endpoint.allowPublicFromAnywhere: opts out of a secure default; "
        "the second step is also required: list OSMO-EKS-001 under osmo-backend:policy.allow "
        "(README: Security checks)"
    ]
    out = tmp_path / "plan"
    args = ["--project-dir", str(REPO), "plan", "--config-file", str(path), "--out", str(out)]
    assert cli.main(args) == 2
    assert capsys.readouterr().err.splitlines() == err


def test_both_steps_are_accepted_by_validate_and_plan(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EKS_PUBLIC.replace("[0.0.0.0/0]}", "[0.0.0.0/0], allowPublicFromAnywhere: true}") + (
        "  osmo-backend:policy: {allow: [OSMO-EKS-001]}\n"
    )
    status, err, path = validate(tmp_path, text, capsys)
    assert (status, err) == (0, [])
    out = tmp_path / "plan"
    args = ["--project-dir", str(REPO), "plan", "--config-file", str(path), "--out", str(out)]
    assert cli.main(args) == 0
    printed = capsys.readouterr()
    assert "OSMO-EKS-001" not in printed.err
    lines = printed.out.splitlines()
    assert "policy: OSMO-EKS-001 is allowed by osmo-backend:policy.allow (opt-out)" in lines
    assert [line.split(" ", 2)[:2] for line in lines if " OSMO-EKS-001 urn:" in line] == [
        ["allowed", "OSMO-EKS-001"]
    ]
    assert f"Security checks: {len(policy.CHECKS)} run, 1 findings, 0 failing" in lines


# --- secrets, namespaces, kubeconfig servers, stack names -------------------------------------


def test_plain_text_secrets_are_reported_with_every_other_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXISTING.replace("    name: lab\n", "    name: Lab\n") + (
        "  osmo-backend:backendToken: plaintoken\n"
        "  osmo-backend:ngcApiKey: nvapi-plain\n"
        "  osmo-backend:monitoring: {grafan: {}}\n"
    )
    status, err, _ = validate(tmp_path, text, capsys)
    assert status == 2
    assert err[:2] == [
        "osmo-backend:backendToken: holds the OSMO backend bootstrap token and must be a "
        "secret: set it with `pulumi config set --secret backendToken ...`",
        "osmo-backend:ngcApiKey: holds an NGC API key and must be a secret: set it with "
        "`pulumi config set --secret ngcApiKey ...`",
    ]
    assert (
        "osmo-backend:cluster.name: 'Lab' is not a DNS-1123 label; use lowercase letters, "
        "digits and '-', starting and ending with a letter or digit"
    ) in err
    assert any(line.startswith("osmo-backend:monitoring.grafan: unknown key") for line in err)
    assert not any("plaintoken" in line or "nvapi-plain" in line for line in err)


def test_unknown_namespaces_get_a_suggestion_and_provider_keys_stay_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    allowed = (
        "(a stack sets osmo-backend:, pulumi:, kubernetes:, aws:, gcp:, azure-native:, "
        "random:, time: keys)"
    )
    text = EXISTING + (
        "  osmo_backend:monitoring: {clusterLabel: osmo-lab}\n"
        "  osmo-backnd:policy: {protect: true}\n"
        "  aws:region: us-west-2\n"
        "  kubernetes:enableServerSideApply: true\n"
    )
    status, err, _ = validate(tmp_path, text, capsys)
    assert status == 2
    assert err == [
        "osmo-backnd:policy: unknown config namespace 'osmo-backnd'; did you mean "
        f"osmo-backend:policy? {allowed}",
        "osmo_backend:monitoring: unknown config namespace 'osmo_backend'; did you mean "
        f"osmo-backend:monitoring? {allowed}",
    ]


def test_a_misspelled_namespace_is_named_when_a_declared_key_is_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = EXISTING.replace("  osmo-backend:osmo:", "  osmo_backend:osmo:")
    status, err, path = validate(tmp_path, text, capsys, name="east")
    assert status == 2
    assert err == [
        f"{path}: Stack 'east' is missing configuration value 'osmo-backend:osmo'",
        f"{path}: osmo_backend:osmo: unknown config namespace 'osmo_backend'; did you mean "
        "osmo-backend:osmo?",
    ]


def _kubeconfig(tmp_path: Path, server: str) -> Path:
    path = tmp_path / "kubeconfig.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: '{server}'}}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
    )
    return path


def test_a_plain_http_api_server_is_refused_unless_loopback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def text(server: str) -> str:
        kubeconfig = _kubeconfig(tmp_path, server)
        return EXISTING.replace(str(SAMPLE_KUBECONFIG), str(kubeconfig)).replace(
            "    context: onprem-lab-admin\n", ""
        )

    status, err, _ = validate(tmp_path, text("http://10.0.0.5:6443"), capsys)
    assert status == 2
    assert err == [
        "osmo-backend:cluster.kubeconfig: cluster 'k' has server 'http://10.0.0.5:6443': plain "
        "http:// sends the credentials unencrypted; use the API server's https:// URL (http:// "
        "is accepted only for a loopback address, such as a local kind cluster or a tunnel)"
    ]
    for server in ("http://127.0.0.1:8001", "http://localhost:8080", "http://[::1]:6443"):
        assert validate(tmp_path, text(server), capsys)[:2] == (0, []), server


@pytest.mark.parametrize("file_name", ["Pulumi.east.yaml", "east.yaml"])
def test_a_config_file_names_the_stack_without_pulumi_and_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], file_name: str
) -> None:
    path = tmp_path / "ci" / file_name
    path.parent.mkdir()
    path.write_text(EXISTING)
    status = cli.main(["--project-dir", str(REPO), "validate", "--config-file", str(path)])
    assert status == 0
    assert capsys.readouterr().out == f"stack east: config is valid ({path})\n"
