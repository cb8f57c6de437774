"""The multi-language package as a TypeScript, Go or YAML program meets it: a ConstructRequest over
gRPC to the SDK's provider server, with a fake engine, everything on 127.0.0.1 (loopback.py).

What the wire changes, each checked against the SDK (pulumi 3.272.0, site-packages):
- numbers arrive as protobuf doubles (`generation: 1` is 1.0); pulumi/provider/experimental/
  component.py `map_input_properties` converts an integer property with `int(...)` and then
  overwrites the result with the raw float, so the component gets 1.0;
- whatever the constructor raises is wrapped in `ComponentInitError` (component.py `construct`),
  which pulumi/provider/server.py `ProviderServicer.Construct` reports as an UNKNOWN status with a
  traceback; only an `InputPropertiesError` raised by the provider's `construct` becomes
  INVALID_ARGUMENT with one `InputPropertiesError.PropertyError` per input path, which the engine
  prints one per line (pulumi/pulumi pkg/resource/deploy/source_eval.go `errorToMessage`);
- an Output input (a cluster's kubeconfig from the same program) arrives as an output value
  (pulumi/runtime/rpc.py `deserialize_output_value`), unknown in a preview.
"""

import copy
from typing import Any

import grpc
import pytest
import yaml

from tests.harness import SAMPLE_KUBECONFIG
from tests.package.loopback import (
    SECRET_SIG,
    SIG,
    UNKNOWN,
    Loopback,
    invalid_properties,
    loopback,
    output_value,
)

KUBECONFIG_TEXT = SAMPLE_KUBECONFIG.read_text()
EKS_URN = "urn:pulumi:dev::consumer::eks:index:Cluster::gpu"

ARGS: dict[str, Any] = {
    "cluster": {
        "kind": "existing",
        "name": "lab",
        "kubeconfig": str(SAMPLE_KUBECONFIG),
        "context": "onprem-lab-admin",
    },
    "osmo": {"backendName": "osmo-lab", "serviceUrl": "https://osmo.example.com"},
    "networking": {"workflowPolicy": {"clusterCidrs": ["10.0.0.0/8"]}},
    "monitoring": {"logs": {"backend": "none"}},
}

PROVIDER = "pulumi:providers:kubernetes"


@pytest.fixture(scope="module")
def wire() -> Any:
    with loopback() as lb:
        yield lb


def _with(**sections: dict[str, Any]) -> dict[str, Any]:
    return {**ARGS, **{k: {**ARGS.get(k, {}), **v} for k, v in sections.items()}}


def _construct_error(wire: Loopback, inputs: dict[str, Any], **kw: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as err:
        wire.construct(inputs, **kw)
    return err.value


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def test_a_whole_number_float_is_an_integer(wire: Loopback) -> None:
    inputs = _with(osmo={"token": {"generation": 1, "overlap": True}})
    response = wire.construct(inputs, name="rotate")
    assert response.urn == "urn:pulumi:dev::consumer::osmo-backend:index:OsmoBackendStack::rotate"
    # Generation 1 during an overlap: both random slots, the current one keyed by "1".
    slots = {
        r.name: r.inputs["keepers"]
        for r in wire.engine.registrations
        if r.type == "random:index/randomBytes:RandomBytes" and r.name.startswith("rotate-")
    }
    assert slots == {
        "rotate-connection-token-slot-0": {"generation": "0"},
        "rotate-connection-token-slot-1": {"generation": "1"},
    }


def test_a_fractional_number_is_refused_by_its_input_path(wire: Loopback) -> None:
    err = _construct_error(wire, _with(osmo={"token": {"generation": 1.5}}), name="fraction")
    assert invalid_properties(err) == (
        "invalid OsmoBackendStack arguments",
        [("osmo.token.generation", "must be a whole number >= 0, got 1.5")],
    )


def test_every_reason_reaches_the_caller_by_input_path(wire: Loopback) -> None:
    inputs = _with(
        osmo={"backendName": "Bad", "serviceUrl": "http://x"},
        networking={"workflowPolicy": {"clusterCidrs": ["10.0.0.0/33"]}},
    )
    err = _construct_error(wire, inputs, name="bad")
    message, details = invalid_properties(err)
    assert message == "invalid OsmoBackendStack arguments"
    # Input paths in the schema's spelling (clusterCidrs, not the stack file's clusterCIDRs).
    assert details == [
        (
            "osmo.backendName",
            "'Bad' is not a DNS-1123 label; use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit",
        ),
        ("osmo.serviceUrl", "'http://x' must be an absolute https:// URL with a host"),
        (
            "networking.workflowPolicy.clusterCidrs[0]",
            "'10.0.0.0/33' is not a CIDR ('10.0.0.0/33' does not appear to be an IPv4 or "
            "IPv6 network)",
        ),
    ]
    assert "Traceback" not in (err.details() or "")  # pyright: ignore[reportAttributeAccessIssue]
    assert not [r for r in wire.engine.registrations if r.name.startswith("bad")]


def _content_cluster(content: Any, context: str = "onprem-lab-admin") -> dict[str, Any]:
    return {"kind": "existing", "name": "gpu", "kubeconfigContent": content, "context": context}


def test_kubeconfig_content_output_is_unknown_in_a_preview(wire: Loopback) -> None:
    unknown = output_value(secret=True, dependencies=[EKS_URN])
    inputs = {**ARGS, "cluster": _content_cluster(unknown)}
    response = wire.construct(
        inputs, name="preview", dry_run=True, input_dependencies={"cluster": [EKS_URN]}
    )
    assert response.urn.endswith("::preview")
    provider = wire.engine.get(PROVIDER, "preview-cluster-k8s")
    assert provider.inputs["kubeconfig"] == {SIG: SECRET_SIG, "value": UNKNOWN}
    assert provider.inputs["clusterIdentifier"] == "gpu"


def test_kubeconfig_content_output_becomes_the_provider_kubeconfig_secret(wire: Loopback) -> None:
    content = output_value(KUBECONFIG_TEXT, secret=True, dependencies=[EKS_URN])
    inputs = {**ARGS, "cluster": _content_cluster(content)}
    response = wire.construct(inputs, name="known", input_dependencies={"cluster": [EKS_URN]})
    provider = wire.engine.get(PROVIDER, "known-cluster-k8s")
    kubeconfig = provider.inputs["kubeconfig"]
    assert _is_secret(kubeconfig)
    minified = yaml.safe_load(kubeconfig["value"])
    # The same checks and minifying as a kubeconfig file: only the chosen context is kept.
    assert minified["current-context"] == "onprem-lab-admin"
    assert [c["name"] for c in minified["contexts"]] == ["onprem-lab-admin"]
    assert [u["name"] for u in minified["users"]] == ["onprem-lab-admin"]
    assert provider.additional_secret_outputs == ["kubeconfig"]
    # The component's own kubeconfig output goes back to the caller as a secret.
    assert response.state["kubeconfig"][SIG] == SECRET_SIG


def test_a_plain_string_kubeconfig_content_is_checked_up_front(wire: Loopback) -> None:
    inputs = {**ARGS, "cluster": _content_cluster(KUBECONFIG_TEXT, context="nope")}
    err = _construct_error(wire, inputs, name="plain")
    message, details = invalid_properties(err)
    # A problem with a secret input is a line of the message: the engine prints the value of
    # every detail's input path it finds, secrets too (source_eval.go errorToMessage).
    assert message == (
        "invalid OsmoBackendStack arguments\n\t\t- property cluster.kubeconfigContent has a "
        "problem: context 'nope' not found; the kubeconfig has: onprem-lab-admin, "
        "onprem-lab-readonly"
    )
    assert details == []
    assert not [r for r in wire.engine.registrations if r.name.startswith("plain")]


def test_a_deferred_kubeconfig_problem_reaches_the_caller_without_its_content(
    wire: Loopback,
) -> None:
    user = {"name": "u", "user": {"token": "s3cr3t"}}
    broken = yaml.safe_dump({"kind": "Config", "clusters": [], "contexts": [], "users": [user]})
    content = output_value(broken, secret=True, dependencies=[EKS_URN])
    inputs = {**ARGS, "cluster": _content_cluster(content)}
    err = _construct_error(wire, inputs, name="deferred", input_dependencies={"cluster": [EKS_URN]})
    message, details = invalid_properties(err)
    assert message == (
        "invalid OsmoBackendStack arguments"
        "\n\t\t- property cluster.kubeconfigContent has a problem: kubeconfig defines no clusters"
        "\n\t\t- property cluster.kubeconfigContent has a problem: kubeconfig defines no contexts"
    )
    assert details == []
    assert "s3cr3t" not in (err.details() or "")  # pyright: ignore[reportAttributeAccessIssue]
    assert not [e for e in wire.engine.loop_errors if "s3cr3t" in e]


def test_the_rest_is_validated_up_front_while_the_kubeconfig_is_unknown(wire: Loopback) -> None:
    unknown = output_value(secret=True, dependencies=[EKS_URN])
    inputs = {
        **ARGS,
        "cluster": _content_cluster(unknown),
        "osmo": {"backendName": "osmo-lab", "serviceUrl": "http://x"},
    }
    err = _construct_error(
        wire, inputs, name="early", dry_run=True, input_dependencies={"cluster": [EKS_URN]}
    )
    assert invalid_properties(err) == (
        "invalid OsmoBackendStack arguments",
        [("osmo.serviceUrl", "'http://x' must be an absolute https:// URL with a host")],
    )


def test_a_file_and_content_together_are_refused(wire: Loopback) -> None:
    content = output_value(KUBECONFIG_TEXT, secret=True, dependencies=[EKS_URN])
    cluster = {**_content_cluster(content), "kubeconfig": str(SAMPLE_KUBECONFIG)}
    err = _construct_error(
        wire, {**ARGS, "cluster": cluster}, name="both", input_dependencies={"cluster": [EKS_URN]}
    )
    assert invalid_properties(err) == (
        "invalid OsmoBackendStack arguments",
        [
            (
                "cluster.kubeconfig",
                "set either a file path here or cluster.kubeconfigContent, not both",
            )
        ],
    )


EKS_CLUSTER: dict[str, Any] = {
    "kind": "eks",
    "name": "osmo-usw2",
    "network": {"vpcCidr": "10.40.0.0/16", "natGateways": "perAz"},
    "endpoint": {"publicAccessCidrs": ["203.0.113.0/24"]},
    "nodePools": [
        {
            "name": "operator",
            "role": "operator",
            "instanceType": "m6i.xlarge",
            "minSize": 2,
            "maxSize": 3,
        },
        {
            "name": "gpu",
            "role": "gpu",
            "instanceType": "p5.48xlarge",
            "capacityType": "spot",
            "maxSize": 4,
            "diskSizeGib": 500,
        },
    ],
}
"""An EKS cluster as a TypeScript program writes it (the schema's spelling: diskSizeGib)."""


def _eks_inputs(**cluster: Any) -> dict[str, Any]:
    return {
        "cluster": copy.deepcopy({**EKS_CLUSTER, **cluster}),
        "osmo": {"backendName": "aws-usw2", "serviceUrl": "https://osmo.example.com"},
        # 1.0 on the wire, made an integer for the model (which takes no float here).
        "storage": {"bucket": {"name": "osmo-usw2-workflows", "keyGeneration": 1}},
    }


def test_an_eks_backend_is_constructed_in_the_programs_region(wire: Loopback) -> None:
    # No cluster.region: the program's aws:region, which the engine sends with the Construct.
    response = wire.construct(_eks_inputs(), name="eks", config={"aws:region": "us-west-2"})
    assert response.urn == "urn:pulumi:dev::consumer::osmo-backend:index:OsmoBackendStack::eks"
    (cluster,) = [
        r
        for r in wire.engine.registrations
        if r.type == "aws:eks/cluster:Cluster" and r.name.startswith("eks-")
    ]
    by_urn = {r.urn: r for r in wire.engine.registrations}
    chain: list[str] = []
    parent = cluster.parent
    while parent in by_urn:
        chain.append(by_urn[parent].type)
        parent = by_urn[parent].parent
    assert chain[-2:] == ["osmo-backend:index:OsmoBackend", "osmo-backend:index:OsmoBackendStack"]
    assert cluster.inputs["name"] == "osmo-usw2"
    provider = by_urn[cluster.provider.rsplit("::", 1)[0]]  # a provider reference: urn::id
    assert (provider.type, provider.inputs["region"]) == ("pulumi:providers:aws", "us-west-2")
    groups = [
        r.inputs["nodeGroupName"]
        for r in wire.engine.registrations
        if r.type == "aws:eks/nodeGroup:NodeGroup" and r.name.startswith("eks-")
    ]
    assert sorted(groups) == ["osmo-usw2-gpu", "osmo-usw2-operator"]
    # diskSizeGib (a double on the wire) reached the gpu pool as the config's diskSizeGiB.
    (template,) = [
        r
        for r in wire.engine.registrations
        if r.type == "aws:ec2/launchTemplate:LaunchTemplate"
        and r.name.endswith("-gpu-lt")
        and r.name.startswith("eks-")
    ]
    assert template.inputs["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 500
    assert "aws:index/getCallerIdentity:getCallerIdentity" in wire.engine.invokes


def test_a_key_of_another_kind_is_refused_over_the_wire(wire: Loopback) -> None:
    inputs = _eks_inputs(region="us-west-2", releaseChannel="REGULAR")  # gke's
    inputs["cluster"]["nodePools"][0]["machineType"] = "n1-standard-4"  # gke's pools'
    err = _construct_error(wire, inputs, name="mixed")
    message, details = invalid_properties(err)
    assert message == "invalid OsmoBackendStack arguments"
    assert [path for path, _ in details] == [
        "cluster.releaseChannel",
        "cluster.nodePools[0].machineType",
    ]
    assert all(reason.startswith("unknown key") for _, reason in details)
    assert not [r for r in wire.engine.registrations if r.name.startswith("mixed")]
