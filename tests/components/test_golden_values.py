"""Golden files of each release's values for the onprem-lab reference stack.

The values are what the charts receive, so a change to them is a change to the cluster: review
it as a diff. Regenerate with `uv run pytest tests/components/test_golden_values.py
--update-golden` and commit the files with the change that caused them.
"""

from pathlib import Path

import pytest
import yaml

from offline import cli
from tests.harness import REPO

GOLDEN = Path(__file__).resolve().parent / "golden"
RELEASES = [
    "kai-scheduler",
    "gpu-operator",
    "osmo-operator",
    "prometheus-operator-crds",
    "kube-prometheus-stack",
    "ephemeral-storage-metrics",
    "loki",
    "alloy",
    "headlamp",
    "traefik",
]


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    assert (
        cli.main(["--project-dir", str(REPO), "plan", "--stack", "onprem-lab", "--out", str(out)])
        == 0
    )
    return out


@pytest.mark.parametrize("release", RELEASES)
def test_release_values_match_the_golden_file(
    release: str, plan_dir: Path, update_golden: bool
) -> None:
    rendered = (plan_dir / "helm" / f"{release}.yaml").read_text()
    golden = GOLDEN / f"onprem-lab-{release}.yaml"
    if update_golden:
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered)
    assert golden.is_file(), f"missing {golden}: run pytest with --update-golden"
    assert yaml.safe_load(rendered) == yaml.safe_load(golden.read_text())
    assert rendered == golden.read_text()


def test_service_values_match_the_golden_file(plan_dir: Path, update_golden: bool) -> None:
    rendered = (plan_dir / "osmo-service-values.yaml").read_text()
    golden = GOLDEN / "onprem-lab-osmo-service-values.yaml"
    if update_golden:
        golden.write_text(rendered)
    assert rendered == golden.read_text()
