"""The refresh-then-up diff model (offline/refresh.py): ignoreChanges paths take the stored
inputs' value, or are dropped where the stored inputs lack them, before the diff (pulumi/pulumi
pkg/resource/deploy/step_generator.go, processIgnoreChanges with PropertyPath.Reset)."""

from offline.refresh import changed_properties, reset_ignored


def test_an_ignored_property_takes_the_stored_value() -> None:
    stored = {"count": 7, "maxCount": 10, "tags": {"a": "1"}}
    program = {"count": 0, "maxCount": 10, "tags": {"a": "1"}}
    assert changed_properties(stored, program) == ["count"]
    assert changed_properties(stored, program, ["count"]) == []
    assert reset_ignored(program, stored, ["count"]) == stored
    # The program's inputs are not modified.
    assert program["count"] == 0


def test_an_ignored_property_the_stored_inputs_lack_is_dropped() -> None:
    assert reset_ignored({"count": 1, "x": 2}, {"x": 2}, ["count"]) == {"x": 2}
    assert changed_properties({"x": 2}, {"count": 1, "x": 2}, ["count"]) == []


def test_nested_paths_and_other_changes_still_show() -> None:
    stored = {"upgradeSettings": {"maxSurge": "10%", "drain": 5}, "maxCount": 3}
    program = {"upgradeSettings": {"maxSurge": "33%", "drain": 5}, "maxCount": 4}
    assert changed_properties(stored, program, ["upgradeSettings.maxSurge"]) == ["maxCount"]
    assert changed_properties(stored, program) == ["maxCount", "upgradeSettings"]
