"""`shipline freeze | unfreeze`: stop the line for one environment's service, and start it again.

The freeze is the service's "freeze" item in the deploy table: reason, who, the build, since when (UTC).
Both commands plan with one read, then write (`--dry-run` prints the plan); both are idempotent. While the
item exists, deploys are refused (guards.py); `--force` never lifts it, `unfreeze` does.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from ..actions import Action, perform
from ..config import load_config
from ..errors import BadInput, Problem
from .deploy_table import DeployTable
from .record import actor

KIND = "freeze"
FIELDS = ("reason", "who", "build", "since")
MAX_REASON = 1000


def frozen(table: DeployTable) -> dict[str, Any] | None:
    """The service's freeze ({reason, who, build, since}), or None when it is not frozen."""
    item = table.get(KIND)
    return None if item is None else {name: item.get(name) for name in FIELDS}


def freeze(config: str = "shipline.yaml", *, environment: str, service: str | None = None,
           reason: str, dry_run: bool = False) -> dict[str, Any]:
    """Freeze the environment's service: deploys are refused until `unfreeze`. Freezing a frozen service
    replaces the reason (and who, and the build) and keeps since when it is frozen."""
    reason = _reason(reason)
    env = load_config(config, service=service).config.environment(environment)
    table = DeployTable(env)
    current = frozen(table)
    values = {"reason": reason, **actor(), "since": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    what = (f"freeze {table.service} in {env.name}" if current is None
            else f"update the freeze of {table.service} in {env.name} (frozen since {current['since']})")
    action = Action(f"{what}: {reason}", ("dynamodb.UpdateItem",),
                    reason=f"deploys are refused until shipline unfreeze --environment {env.name}",
                    run=lambda: table.put(KIND, values, keep=("since",)))
    result: dict[str, Any] = {"environment": env.name, "service": table.service, "table": table.name,
                              "already_frozen_since": current["since"] if current else None}
    if dry_run:
        return {**result, "dry_run": True, "would": [action.description], "actions": [action.to_json()]}
    written, = perform([action])
    return {**result, "frozen": True, "freeze": {name: written.get(name) for name in FIELDS}}


def unfreeze(config: str = "shipline.yaml", *, environment: str, service: str | None = None,
             reason: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Lift the environment's service's freeze; nothing to do when it is not frozen."""
    reason = None if reason is None else _reason(reason)
    env = load_config(config, service=service).config.environment(environment)
    table = DeployTable(env)
    current = frozen(table)
    plan = [] if current is None else [
        Action(f"unfreeze {table.service} in {env.name} (frozen since {current['since']} by {current['who']}: "
               f"{current['reason']})", ("dynamodb.DeleteItem",), reason=reason or "", run=lambda: table.delete(KIND))]
    result: dict[str, Any] = {"environment": env.name, "service": table.service, "table": table.name,
                              "was_frozen": current, "reason": reason}
    if dry_run:
        return {**result, "dry_run": True, "would": [a.description for a in plan],
                "actions": [a.to_json() for a in plan]}
    perform(plan)
    return {**result, "frozen": False}


def _reason(reason: str) -> str:
    """The reason, stripped; blank or longer than MAX_REASON characters is bad input (exit 2)."""
    text = reason.strip()
    if not text or len(text) > MAX_REASON:
        raise BadInput(f"--reason: say why, in words (1 to {MAX_REASON} characters)",
                       [Problem("reason", f"got {len(text)} characters")])
    return text


def render_freeze(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return "\n".join(["would:"] + [f"  {w}" for w in result["would"]])
    done = result["freeze"]
    line = f"frozen: {result['service']} in {result['environment']} since {done['since']} by {done['who']}: " \
           f"{done['reason']}"
    if result["already_frozen_since"]:
        line += f" (it was already frozen since {result['already_frozen_since']}: reason updated)"
    return line + f"\nshipline unfreeze --environment {result['environment']} lifts it"


def render_unfreeze(result: dict[str, Any]) -> str:
    was = result["was_frozen"]
    if was is None:
        return f"not frozen: {result['service']} in {result['environment']}; nothing to do"
    if result.get("dry_run"):
        return "\n".join(["would:"] + [f"  {w}" for w in result["would"]])
    return f"unfrozen: {result['service']} in {result['environment']} (frozen since {was['since']} by " \
           f"{was['who']}: {was['reason']})"
