"""Plan runs shared by the tests that read the same reference stack (issue 17: the suite stays
under 60 s). Each stack is planned once per session, when a test first asks for it; the tests
only read what that plan wrote and printed."""

import contextlib
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from offline import cli
from tests.harness import REPO


@dataclass(frozen=True)
class Planned:
    """One `osmo-backend plan --stack NAME --out OUT` run: its directory and what it printed."""

    out: Path
    stdout: str
    stderr: str


Plans = Callable[[str], Planned]


@pytest.fixture(scope="session")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Plans:
    cache: dict[str, Planned] = {}

    def plan(stack: str) -> Planned:
        if stack not in cache:
            out = tmp_path_factory.mktemp(f"plan-{stack}")
            stdout, stderr = io.StringIO(), io.StringIO()
            args = ["--project-dir", str(REPO), "plan", "--stack", stack, "--out", str(out)]
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                status = cli.main(args)
            assert status == cli.EXIT_OK, stderr.getvalue()
            cache[stack] = Planned(out, stdout.getvalue(), stderr.getvalue())
        return cache[stack]

    return plan
