import pytest

from components._validate import (
    ConfigError,
    Problems,
    dns1123_label_problem,
    label_key_problem,
    label_value_problem,
    show,
    unknown_keys,
)


@pytest.mark.parametrize("name", ["a", "lab-1", "x" * 63, "0abc"])
def test_dns1123_label_accepts_valid_names(name: str) -> None:
    assert dns1123_label_problem(name) is None


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("Lab", "is not a DNS-1123 label"),
        ("-lab", "is not a DNS-1123 label"),
        ("lab_1", "is not a DNS-1123 label"),
        ("lab.", "is not a DNS-1123 label"),
        ("x" * 64, "is 64 characters; at most 63 are allowed"),
    ],
)
def test_dns1123_label_rejects_with_reason(name: str, fragment: str) -> None:
    reason = dns1123_label_problem(name)
    assert reason is not None
    assert fragment in reason


def test_dns1123_label_honours_a_shorter_limit() -> None:
    assert dns1123_label_problem("x" * 50, max_length=49) == (
        f"{'x' * 50!r} is 50 characters; at most 49 are allowed"
    )


@pytest.mark.parametrize("key", ["node-type", "nvidia.com/gpu", "example.com/a_b.c"])
def test_label_keys_accepted(key: str) -> None:
    assert label_key_problem(key) is None


@pytest.mark.parametrize("key", ["", "/x", "Bad_Prefix/x", "x/", "a" * 64, "-x"])
def test_label_keys_rejected(key: str) -> None:
    assert label_key_problem(key) is not None


def test_label_values() -> None:
    assert label_value_problem("") is None
    assert label_value_problem("gpu") is None
    assert label_value_problem("a b") is not None
    assert label_value_problem("x" * 64) is not None


def test_unknown_keys_suggests_the_closest_allowed_key() -> None:
    problems = Problems()
    unknown_keys(problems, "osmo-backend:osmo", {"backendNmae": "x", "zzz": 1}, ["backendName"])
    assert problems.lines == [
        "osmo-backend:osmo.backendNmae: unknown key; did you mean 'backendName'? "
        "(allowed: backendName)",
        "osmo-backend:osmo.zzz: unknown key (allowed: backendName)",
    ]


def test_problems_raise_all_lines_at_once() -> None:
    problems = Problems()
    problems.add("a", "first")
    problems.add("b", "second")
    with pytest.raises(ConfigError) as err:
        problems.check()
    assert err.value.problems == ("a: first", "b: second")


def test_show_shortens_long_values() -> None:
    assert show("x" * 200).endswith("...")
    assert len(show("x" * 200)) == 80
