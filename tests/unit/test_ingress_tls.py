"""TLS for the lab UIs and the lab object store behind the stack's Traefik (issue 20 item 6).

Facts pinned here:
- Traefik chart 41.3.0 (traefik/traefik-helm-chart v41.3.0): `ports.web.http.redirections.
  entryPoint` {to, scheme, permanent} renders `--entryPoints.web.http.redirections.entryPoint.to=
  :443` (templates/_podtemplate.tpl:669-688, EXAMPLES.md "Redirect permanently traffic from http
  to https"); `ports.websecure.http.tls.enabled` defaults to true (values.yaml), so the websecure
  entrypoint terminates TLS for every router (_podtemplate.tpl:698-699); `tlsStore.<name>`
  renders a TLSStore (templates/tlsstore.yaml) whose `default` store's defaultCertificate serves
  routers that name none (EXAMPLES.md "Provide default certificate"); websecure listens on 8443
  (values.yaml `ports.websecure.port`).
- cert-manager's ingress-shim issues a certificate for an Ingress annotated
  `cert-manager.io/cluster-issuer` (or `cert-manager.io/issuer`, same namespace) into each
  `spec.tls[].secretName` (https://cert-manager.io/docs/usage/ingress/).
- grafana 12.11.1 and headlamp 0.45.0 render `ingress.annotations` and `ingress.tls` into their
  Ingress (grafana-community/helm-charts grafana-12.11.1 charts/grafana/templates/ingress.yaml:17,
  27; both keys in components/charts/*.json).
"""

from typing import Any

import pytest

from components import chart_keys, versions
from components.backend import lab_workflow_data
from components.config import ConfigError, StackSpec, load_spec
from components.monitoring import dashboard_values, prometheus_stack_values
from components.networking import ingress_values
from components.object_store import workflow_egress_rules
from tests.harness import REPO, config, encode, run_main
from tests.unit.test_operator_values import handle

CIDRS = {"clusterCIDRs": ["10.0.0.0/8"]}
RELEASE = "kubernetes:helm.sh/v3:Release"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


def lab(tls: dict[str, Any] | None, **sections: Any) -> dict[str, Any]:
    ingress: dict[str, Any] = {"enabled": True, "serviceType": "NodePort"}
    if tls is not None:
        ingress["tls"] = tls
    return config(
        networking={"ingress": ingress, "workflowPolicy": CIDRS},
        storage={"objectStore": {"bucket": "osmo-workflows", "ingressHost": "s3.lab.example"}},
        monitoring={
            "grafana": {"ingress": {"host": "grafana.lab.example"}},
            "dashboard": {"enabled": True, "ingress": {"host": "k8s.lab.example"}},
        },
        **sections,
    )


def spec(values: dict[str, Any]) -> StackSpec:
    return load_spec(encode(values), (), base_dir=REPO)


def problems(values: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(ConfigError) as err:
        spec(values)
    return err.value.problems


def test_a_provided_certificate_is_traefiks_default_and_port_80_redirects() -> None:
    s = spec(lab({"secretName": "lab-tls"}))
    assert s.networking.ingress is not None
    values = ingress_values(s.networking.ingress, _handle())
    assert values["ports"] == {
        "web": {
            "http": {
                "redirections": {
                    "entryPoint": {"to": "websecure", "scheme": "https", "permanent": True}
                }
            }
        }
    }
    assert values["tlsStore"] == {"default": {"defaultCertificate": {"secretName": "lab-tls"}}}
    index = chart_keys.load("traefik", versions.TRAEFIK.version)
    assert chart_keys.unknown_keys(index, values) == []


def test_without_tls_traefik_serves_plain_http_as_before() -> None:
    s = spec(lab(None))
    assert s.networking.ingress is not None
    values = ingress_values(s.networking.ingress, _handle())
    assert "ports" not in values
    assert "tlsStore" not in values


def test_cert_manager_issues_per_host_and_traefik_has_no_default_certificate() -> None:
    s = spec(lab({"clusterIssuer": "letsencrypt"}))
    assert s.networking.ingress is not None
    values = ingress_values(s.networking.ingress, _handle())
    assert values["ports"]["web"]["http"]["redirections"]["entryPoint"]["to"] == "websecure"
    assert "tlsStore" not in values
    grafana = prometheus_stack_values(
        s.monitoring, _handle(), "osmo-lab", "osmo-operator", s.networking.ingress
    )["grafana"]["ingress"]
    assert grafana["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert grafana["tls"] == [{"hosts": ["grafana.lab.example"], "secretName": "grafana-tls"}]
    headlamp = dashboard_values(s.monitoring, _handle(), s.networking.ingress)["ingress"]
    assert headlamp["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert headlamp["tls"] == [{"hosts": ["k8s.lab.example"], "secretName": "headlamp-tls"}]
    for name, version, values_ in (
        ("kube-prometheus-stack", versions.KUBE_PROMETHEUS_STACK.version, {"grafana": grafana}),
        ("headlamp", versions.HEADLAMP.version, {"ingress": headlamp}),
    ):
        index = chart_keys.load(name, version)
        assert chart_keys.unknown_keys(index, values_) == [], name


def test_a_namespaced_issuer_uses_its_own_annotation() -> None:
    s = spec(lab({"issuer": "lab-ca"}))
    grafana = prometheus_stack_values(
        s.monitoring, _handle(), "osmo-lab", "osmo-operator", s.networking.ingress
    )["grafana"]["ingress"]
    assert grafana["annotations"] == {"cert-manager.io/issuer": "lab-ca"}


def test_a_web_ui_on_another_controllers_class_gets_nothing_of_ours() -> None:
    values = lab({"clusterIssuer": "letsencrypt"})
    values["osmo-backend:monitoring"]["grafana"]["ingress"]["className"] = "nginx"
    s = spec(values)
    grafana = prometheus_stack_values(
        s.monitoring, _handle(), "osmo-lab", "osmo-operator", s.networking.ingress
    )["grafana"]["ingress"]
    assert "tls" not in grafana
    assert "annotations" not in grafana


def test_the_lab_store_url_is_https_with_tls_and_workflows_reach_websecure() -> None:
    store = spec(lab({"secretName": "lab-tls"})).storage.object_store
    assert store is not None
    assert store.url == "https://s3.lab.example"
    assert lab_workflow_data(store).endpoint == "https://s3.lab.example"
    ingress = spec(lab({"secretName": "lab-tls"})).networking.ingress
    (rule,) = workflow_egress_rules(store, ingress)
    assert rule["ports"] == [{"port": 8443, "protocol": "TCP"}]
    plain = spec(lab(None))
    assert plain.storage.object_store is not None
    assert plain.storage.object_store.url == "http://s3.lab.example"
    (rule,) = workflow_egress_rules(plain.storage.object_store, plain.networking.ingress)
    assert rule["ports"] == [{"port": 8000, "protocol": "TCP"}]


def test_the_planned_store_ingress_and_osmo_credential_use_tls() -> None:
    rec = run_main(lab({"clusterIssuer": "letsencrypt"}))
    ingress = rec.get(INGRESS, "osmo-object-store-ingress")
    assert ingress.inputs["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt"
    }
    assert ingress.inputs["spec"]["tls"] == [
        {"hosts": ["s3.lab.example"], "secretName": "object-store-tls"}
    ]
    operator = rec.get(RELEASE, "osmo-operators-backend-operator")
    rules = operator.inputs["values"]["global"]["networkPolicy"]["additionalEgressRules"]
    assert rules[-1]["ports"] == [{"port": 8443, "protocol": "TCP"}]
    # With the provided certificate, the store's Ingress names none (Traefik's default).
    plain = run_main(lab({"secretName": "lab-tls"})).get(INGRESS, "osmo-object-store-ingress")
    assert "tls" not in plain.inputs["spec"]
    assert "annotations" not in plain.inputs["metadata"]


@pytest.mark.parametrize(
    ("tls", "line"),
    [
        (
            {},
            "osmo-backend:networking.ingress.tls: set exactly one of secretName (a "
            "kubernetes.io/tls Secret in the ingress namespace), issuer or clusterIssuer "
            "(cert-manager, already installed), got none",
        ),
        (
            {"secretName": "a", "clusterIssuer": "b"},
            "osmo-backend:networking.ingress.tls: set exactly one of secretName (a "
            "kubernetes.io/tls Secret in the ingress namespace), issuer or clusterIssuer "
            "(cert-manager, already installed), got secretName, clusterIssuer",
        ),
        (
            {"secretName": "Not_A_Name"},
            "osmo-backend:networking.ingress.tls.secretName: 'Not_A_Name' is not a Kubernetes "
            "object name",
        ),
        (
            {"issuerName": "x"},
            "osmo-backend:networking.ingress.tls.issuerName: unknown key; did you mean 'issuer'?",
        ),
    ],
)
def test_tls_is_one_named_source(tls: dict[str, Any], line: str) -> None:
    found = problems(lab(tls))
    assert any(p.startswith(line) for p in found), found


def test_tls_needs_the_controller() -> None:
    values = config(
        networking={
            "ingress": {"enabled": False, "tls": {"secretName": "x"}},
            "workflowPolicy": CIDRS,
        }
    )
    assert problems(values) == (
        "osmo-backend:networking.ingress.tls: needs the ingress controller (enabled: true)",
    )


def _handle() -> Any:
    return handle()
