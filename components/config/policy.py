"""`osmo-backend:policy`: explicit, named opt-outs from the plan's security checks."""

from typing import Annotated, Any, cast

from pydantic import BeforeValidator

from components._validate import Problems, show
from components.config._model import Ctx, Flag, Model, Reasons, fail, section
from components.policy import CHECKS


def _check_ids(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise fail(f"must be a list of check ids, got {show(value)}")
    known = {check.id for check in CHECKS}
    reasons = Reasons()
    items = cast(list[Any], value)
    for index, item in enumerate(items):
        if item not in known:
            reasons.add(
                index, f"{show(item)} is not a check id (known: {', '.join(sorted(known))})"
            )
    reasons.check()
    return tuple(map(str, items))


class PolicySpec(Model):
    """Explicit, named opt-outs from the security checks, and the production preset."""

    allow: Annotated[tuple[str, ...], BeforeValidator(_check_ids)] = ()
    """Check ids whose errors do not fail the plan (each is printed on every plan)."""
    protect: Flag = False
    """Production preset: the cloud cluster, buckets and encryption keys get Pulumi's `protect`,
    so `pulumi destroy` (or a replacement) fails until it is turned off."""


def parse_policy(problems: Problems, value: Any, context: Ctx | None = None) -> PolicySpec | None:
    return section(problems, "policy", PolicySpec, value, context or Ctx())
