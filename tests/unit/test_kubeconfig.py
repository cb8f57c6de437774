from pathlib import Path

import pytest
import yaml

from components import kubeconfig as kc
from components._validate import Problems

TWO_CONTEXTS = """
apiVersion: v1
kind: Config
clusters:
  - name: c1
    cluster: {server: "https://api.one:6443", certificate-authority: certs/ca.crt}
  - name: c2
    cluster: {server: "https://api.two:6443"}
contexts:
  - name: one
    context: {cluster: c1, user: u1}
  - name: two
    context: {cluster: c2, user: u2}
current-context: two
users:
  - name: u1
    user: {token: secret-one, client-key: keys/u1.key}
  - name: u2
    user: {token: secret-two}
"""


def check(text: str, context: str | None = None, base: Path | None = None):
    problems = Problems()
    result = kc.check(problems, "kc", text, context, base)
    return result, problems.lines


def test_selects_the_requested_context_and_minifies_to_it(tmp_path: Path) -> None:
    for rel in ("certs/ca.crt", "keys/u1.key"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    result, lines = check(TWO_CONTEXTS, "one", tmp_path)
    assert lines == []
    assert result is not None
    assert (result.context, result.cluster, result.server) == ("one", "c1", "https://api.one:6443")
    doc = yaml.safe_load(result.content)
    assert doc["current-context"] == "one"
    assert [c["name"] for c in doc["contexts"]] == ["one"]
    assert [c["name"] for c in doc["clusters"]] == ["c1"]
    assert [u["name"] for u in doc["users"]] == ["u1"]
    assert "secret-two" not in result.content
    # Relative certificate paths are made absolute: the provider gets content, not a file.
    assert doc["clusters"][0]["cluster"]["certificate-authority"] == str(tmp_path / "certs/ca.crt")
    assert doc["users"][0]["user"]["client-key"] == str(tmp_path / "keys/u1.key")


def test_fails_when_a_referenced_certificate_file_is_missing(tmp_path: Path) -> None:
    result, lines = check(TWO_CONTEXTS, "one", tmp_path)
    assert result is None
    assert lines == [
        f"kc: cluster 'c1' refers to certificate-authority file "
        f"{str(tmp_path / 'certs/ca.crt')!r}, which does not exist",
        f"kc: user 'u1' refers to client-key file {str(tmp_path / 'keys/u1.key')!r}, "
        "which does not exist",
    ]


def test_uses_current_context_when_none_is_requested() -> None:
    result, lines = check(TWO_CONTEXTS)
    assert lines == []
    assert result is not None
    assert result.context == "two"


def test_single_context_without_current_context_is_used() -> None:
    text = """
clusters: [{name: c, cluster: {server: "https://x"}}]
contexts: [{name: only, context: {cluster: c}}]
"""
    result, lines = check(text)
    assert lines == []
    assert result is not None
    assert result.context == "only"


def test_fails_on_unknown_context_and_lists_the_available_ones() -> None:
    result, lines = check(TWO_CONTEXTS, "three")
    assert result is None
    assert lines == ["kc: context 'three' not found; the kubeconfig has: one, two"]


def test_fails_without_current_context_among_several() -> None:
    text = TWO_CONTEXTS.replace("current-context: two", "")
    _, lines = check(text)
    assert lines == [
        "kc: kubeconfig has no current-context; set cluster.context to one of: one, two"
    ]


def test_fails_on_empty_server() -> None:
    text = TWO_CONTEXTS.replace('"https://api.two:6443"', '""')
    _, lines = check(text, "two")
    assert lines == ["kc: cluster 'c2' of context 'two' has no server URL"]


def test_fails_on_server_that_is_not_a_url() -> None:
    text = TWO_CONTEXTS.replace('"https://api.two:6443"', "api.two")
    _, lines = check(text, "two")
    assert lines == ["kc: cluster 'c2' has server 'api.two'; expected an https:// URL with a host"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "clusters: []\ncontexts: []\n",
            ["kc: kubeconfig defines no clusters", "kc: kubeconfig defines no contexts"],
        ),
        ("contexts: [{name: a, context: {cluster: c}}]\n", ["kc: kubeconfig defines no clusters"]),
        (
            "- just\n- a list\n",
            ["kc: kubeconfig must be a YAML mapping with clusters, contexts and users"],
        ),
    ],
)
def test_fails_on_kubeconfig_without_clusters_or_contexts(text: str, expected: list[str]) -> None:
    assert check(text)[1] == expected


def test_unparsable_yaml_reports_position_without_quoting_content() -> None:
    text = "clusters:\n  - name: c\n    token: hunter2-secret: [\n"
    _, lines = check(text)
    assert len(lines) == 1
    assert lines[0].startswith("kc: kubeconfig is not valid YAML at line ")
    assert "hunter2" not in lines[0]


def test_fails_when_context_names_an_undefined_cluster_or_user() -> None:
    text = TWO_CONTEXTS.replace("{cluster: c2, user: u2}", "{cluster: nope, user: u2}")
    assert check(text, "two")[1] == [
        "kc: context 'two' refers to cluster 'nope', which the kubeconfig does not define "
        "(it has: c1, c2)"
    ]
    text = TWO_CONTEXTS.replace("{cluster: c2, user: u2}", "{cluster: c2, user: ghost}")
    assert check(text, "two")[1] == [
        "kc: context 'two' refers to user 'ghost', which is not defined"
    ]


def test_read_file_reports_missing_directory_and_unreadable(tmp_path: Path) -> None:
    problems = Problems()
    assert kc.read_file(problems, "p", tmp_path / "missing.yaml") is None
    assert kc.read_file(problems, "p", tmp_path) is None
    assert problems.lines == [
        f"p: kubeconfig file {str(tmp_path / 'missing.yaml')!r} does not exist",
        f"p: {str(tmp_path)!r} is a directory, not a kubeconfig file",
    ]
