"""The recording engine does what plain mocks do not; each behaviour is proven here."""

import pulumi
import pulumi_kubernetes as k8s
import pytest

from offline import engine


def run(program, **kwargs):  # type: ignore[no-untyped-def]
    return engine.run(program, project="p", stack="s", **kwargs)


class Parent(pulumi.ComponentResource):
    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("test:index:Parent", name, None, opts)
        self.provider = k8s.Provider(
            f"{name}-k8s", kubeconfig="x", opts=pulumi.ResourceOptions(parent=self)
        )
        self.ns = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata={"name": "a"},
            opts=pulumi.ResourceOptions(parent=self, provider=self.provider),
        )
        self.register_outputs({})


def test_options_are_inherited_down_the_parent_chain() -> None:
    def program() -> None:
        anchor = Parent("anchor")
        Parent(
            "child",
            pulumi.ResourceOptions(retain_on_delete=True, deleted_with=anchor.ns, protect=True),
        )

    rec = run(program)
    ns = rec.get("kubernetes:core/v1:Namespace", "child-ns")
    anchor_ns = rec.urn_of("kubernetes:core/v1:Namespace", "anchor-ns")
    assert ns.options["retainOnDelete"] is True
    assert ns.options["deletedWith"] == anchor_ns
    assert ns.options["protect"] is True
    assert rec.get("kubernetes:core/v1:Namespace", "anchor-ns").options["deletedWith"] is None


def test_dependencies_include_implicit_and_explicit_edges() -> None:
    def program() -> None:
        a = Parent("a")
        k8s.core.v1.ConfigMap(
            "cm",
            metadata={"namespace": a.ns.metadata.name},
            data={"k": "v"},
            opts=pulumi.ResourceOptions(provider=a.provider, depends_on=[a.provider]),
        )

    rec = run(program)
    cm = rec.get("kubernetes:core/v1:ConfigMap", "cm")
    ns = rec.urn_of("kubernetes:core/v1:Namespace", "a-ns")
    provider = rec.urn_of("pulumi:providers:kubernetes", "a-k8s")
    assert cm.dependencies == sorted([ns, provider])
    assert cm.property_dependencies["metadata"] == [ns]
    assert cm.options["dependsOn"] == [provider]


def test_declared_secret_outputs_come_back_secret() -> None:
    """Plain mocks return a plain input as a plain output even when the type declares it secret."""
    seen: dict[str, bool] = {}

    def program() -> None:
        a = Parent("a")
        declared = k8s.core.v1.ConfigMap(
            "declared",
            metadata={"namespace": "a"},
            data={"k": "plain-in-program"},
            opts=pulumi.ResourceOptions(provider=a.provider, additional_secret_outputs=["data"]),
        )
        undeclared = k8s.core.v1.ConfigMap(
            "undeclared",
            metadata={"namespace": "a"},
            data={"k": "v"},
            opts=pulumi.ResourceOptions(provider=a.provider),
        )

        async def check() -> None:
            seen["declared"] = await declared.data.is_secret()
            seen["undeclared"] = await undeclared.data.is_secret()

        pulumi.Output.from_input(check())

    rec = run(program)
    assert seen == {"declared": True, "undeclared": False}
    assert rec.get("kubernetes:core/v1:ConfigMap", "declared").options[
        "additionalSecretOutputs"
    ] == ["data"]


def test_a_kubernetes_resource_without_our_provider_fails_the_run() -> None:
    def program() -> None:
        k8s.core.v1.Namespace("stray", metadata={"name": "x"})

    with pytest.raises(engine.OfflineEngineError) as err:
        run(program)
    assert str(err.value) == (
        "kubernetes:core/v1:Namespace 'stray' has no explicit provider, and default providers "
        "for 'kubernetes' are disabled (pulumi:disable-default-providers)"
    )


def test_an_invoke_without_a_fake_fails_loudly_and_a_fake_answers() -> None:
    def program() -> None:
        pulumi.runtime.invoke("test:index:lookup", {"q": 1})

    with pytest.raises(engine.OfflineEngineError) as err:
        run(program)
    assert str(err.value) == "invoke 'test:index:lookup' has no offline fake"
    rec = run(program, invoke_fakes={"test:index:lookup": lambda args: {"answer": args["q"]}})
    assert rec.invokes == ["test:index:lookup"]


def test_duplicate_urns_fail_the_run() -> None:
    def program() -> None:
        Parent("same")
        Parent("same")

    with pytest.raises(engine.OfflineEngineError, match="duplicate resource URN"):
        run(program)


def test_secret_inputs_are_masked_and_unknowns_marked() -> None:
    assert engine.mask_secrets({"a": pulumi.runtime.rpc.wrap_rpc_secret("x"), "b": [1]}) == {
        "a": "[secret]",
        "b": [1],
    }
    assert engine.mask_secrets(pulumi.runtime.rpc.UNKNOWN) == "[unknown]"


def test_the_cyclic_gc_is_off_during_a_run_and_as_it_was_after() -> None:
    """A run loads SDK modules whose objects every full collection walks (0.3-1.0 s of a cloud
    plan, measured with benchmarks/plan_benchmark.py): the engine runs without the collector."""
    import gc

    seen: list[bool] = []

    def program() -> None:
        seen.append(gc.isenabled())
        Parent("p")

    assert gc.isenabled()
    run(program)
    assert seen == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        run(program)
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False, False]
