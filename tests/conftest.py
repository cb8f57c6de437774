import pytest


@pytest.fixture(autouse=True)
def _no_ambient_kubeconfig(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Kubernetes SDK reads KUBECONFIG/PULUMI_* as defaults: tests must not see the host's."""
    for var in ("KUBECONFIG", "PULUMI_CONFIG", "PULUMI_CONFIG_SECRET_KEYS"):
        monkeypatch.delenv(var, raising=False)
