"""Validation primitives shared by the stack-config model.

Every check appends to a `Problems` list instead of raising, so a stack with five mistakes gets five
lines back at once, each `osmo-backend:<key>.<path>: <reason>`.
"""

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS1123_SUBDOMAIN_MAX = 253
# https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
_LABEL_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
LABEL_NAME_MAX = 63
RELEASE_NAME_MAX = 53
"""Helm's limit: release names end up in resource names and labels."""


class ConfigError(Exception):
    """Stack config is invalid. `problems` holds every `path: reason` line, in a stable order."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        super().__init__("invalid stack config:\n" + "\n".join(self.problems))


@dataclass
class Problems:
    """Collects `path: reason` lines; `check()` raises them all at once."""

    lines: list[str] = field(default_factory=list[str])
    suggested: set[str] = field(default_factory=set[str])
    """Paths an unknown key's "did you mean" named: the typo is the one line about them."""
    opt_outs: dict[str, str] = field(default_factory=dict[str, str])
    """Config switches set to opt out of a secure default (path -> the security check id the
    stack must also list under policy.allow: two explicit steps)."""

    def add(self, path: str, reason: str) -> None:
        self.lines.append(f"{path}: {reason}")

    def required(self, path: str, reason: str = "is required") -> None:
        """A value that is not set, unless a misspelling of its key was already reported."""
        if path not in self.suggested:
            self.add(path, reason)

    def check(self) -> None:
        if self.lines:
            raise ConfigError(self.lines)


def show(value: Any) -> str:
    """A bad value as the user wrote it, shortened so a pasted blob cannot flood the output."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def dns1123_label_problem(value: str, max_length: int = DNS1123_LABEL_MAX) -> str | None:
    if len(value) > max_length:
        return f"{show(value)} is {len(value)} characters; at most {max_length} are allowed"
    if not DNS1123_LABEL.match(value):
        return (
            f"{show(value)} is not a DNS-1123 label; use lowercase letters, digits and '-', "
            "starting and ending with a letter or digit"
        )
    return None


def release_name_problem(name: str) -> str | None:
    return dns1123_label_problem(name, max_length=RELEASE_NAME_MAX)


def dns1123_subdomain_problem(value: str) -> str | None:
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        return f"{show(value)} is longer than {DNS1123_SUBDOMAIN_MAX} characters"
    if not DNS1123_SUBDOMAIN.match(value):
        return (
            f"{show(value)} is not a DNS-1123 subdomain; use lowercase letters, digits, '-' and '.'"
        )
    return None


def label_key_problem(key: str) -> str | None:
    """Kubernetes label key: optional DNS subdomain prefix and '/', then a name of <= 63 chars."""
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or dns1123_subdomain_problem(prefix) is not None):
        return f"label key {show(key)} has an invalid prefix; it must be a DNS-1123 subdomain"
    if not name or len(name) > LABEL_NAME_MAX or not _LABEL_NAME.match(name):
        return (
            f"label key {show(key)} is invalid; the name part must be 1-63 characters of "
            "letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    if value == "":
        return None
    if len(value) > LABEL_NAME_MAX or not _LABEL_NAME.match(value):
        return (
            f"label value {show(value)} is invalid; use at most 63 letters, digits, '-', '_' "
            "and '.', starting and ending with a letter or digit"
        )
    return None


def unknown_keys(
    problems: Problems,
    path: str,
    given: Mapping[str, Any],
    allowed: Iterable[str],
    separator: str = ".",
) -> None:
    """Typos must not pass silently: every key we do not read is an error, with a suggestion."""
    allowed_list = sorted(allowed)
    for key in sorted(set(given) - set(allowed_list)):
        close = difflib.get_close_matches(key, allowed_list, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        if close and close[0] not in given:
            problems.suggested.add(f"{path}{separator}{close[0]}")
        problems.add(
            f"{path}{separator}{key}",
            f"unknown key{hint} (allowed: {', '.join(allowed_list)})",
        )
