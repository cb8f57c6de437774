"""Every subcommand's --help shows examples of itself and the exit codes (issue 16 item 2)."""

import pytest

from offline import cli

SUBCOMMANDS = ("init", "plan", "validate", "stacks", "fleet", "service-values")
EXIT_CODES = (
    "exit codes: 0 success; 2 invalid input (a stack file, config or option: one `path: reason` "
    "line each on stderr); 1 a failure (the program or the offline engine"
)


def help_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    with pytest.raises(SystemExit) as done:
        cli.main([*args, "--help"])
    assert done.value.code == 0
    # argparse wraps to the terminal width; compare with the line breaks folded.
    return " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_each_subcommand_help_has_examples_and_exit_codes(
    capsys: pytest.CaptureFixture[str], command: str
) -> None:
    text = help_text(capsys, command)
    examples = text.split("examples: ", 1)[1].split(" exit codes:", 1)[0]
    assert examples.split()[:2] == ["osmo-backend", command]
    assert EXIT_CODES in text


def test_the_top_level_help_shows_where_to_start(capsys: pytest.CaptureFixture[str]) -> None:
    text = help_text(capsys)
    assert "examples: osmo-backend init --kind eks --name east" in text
    assert EXIT_CODES in text
    assert "init write a commented starter stack file that validates" in text


def test_fleet_and_plan_say_what_else_sets_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert "(the program or the offline engine, or any stack's run)" in help_text(capsys, "fleet")
    assert "2 also when a security check fails that policy.allow does not list" in help_text(
        capsys, "plan"
    )
