"""`osmo-backend:policy`: explicit, named opt-outs from the plan's security checks."""

from dataclasses import dataclass
from typing import Any, cast

from components._validate import Problems, show
from components.config._common import PROJECT, decode, flag, section
from components.policy import CHECKS


@dataclass(frozen=True)
class PolicySpec:
    allow: tuple[str, ...] = ()
    """Check ids whose errors do not fail the plan (each is printed on every plan)."""
    protect: bool = False
    """Production preset: the cloud cluster, buckets and encryption keys get Pulumi's `protect`,
    so `pulumi destroy` (or a replacement) fails until it is turned off."""


def parse_policy(problems: Problems, value: Any) -> PolicySpec | None:
    path = f"{PROJECT}:policy"
    body = section(problems, path, decode(problems, path, value), ("allow", "protect"))
    if body is None:
        return None
    protect = flag(problems, f"{path}.protect", body.get("protect", False))
    if protect is None:
        return None
    allow = body.get("allow", [])
    if not isinstance(allow, list):
        problems.add(f"{path}.allow", f"must be a list of check ids, got {show(allow)}")
        return None
    known = {check.id for check in CHECKS}
    ok = True
    for index, item in enumerate(cast(list[Any], allow)):
        if item not in known:
            problems.add(
                f"{path}.allow[{index}]",
                f"{show(item)} is not a check id (known: {', '.join(sorted(known))})",
            )
            ok = False
    if not ok:
        return None
    return PolicySpec(allow=tuple(str(a) for a in cast(list[Any], allow)), protect=protect)
