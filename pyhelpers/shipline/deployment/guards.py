"""The guards asked before a deploy changes anything: the freeze and the deploy windows (also shown by
`status`), schema compatibility with the revision in service, and no older release by accident.

A freeze always refuses a deploy (`shipline unfreeze` lifts it; `--force` does not); a closed deploy window
refuses it unless the deploy is forced with a reason. A release that cannot run beside the revision in
service is refused; a rollback across an incompatible migration only goes ahead forced with a reason. A
deploy of a commit that is an ancestor of the one in service is refused unless older is allowed.
"""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from ..config import ResolvedEnvironment, SchemaLevels
from ..errors import BadInput, Problem
from ..revision import is_ancestor
from ..taskdef.marks import read, recorded
from .deploy_table import DeployTable, MissingTable
from .freeze import frozen
from .windows import Opening, describe_window, is_open, next_opening

log = logging.getLogger(__name__)


def deploy_refusal(env: ResolvedEnvironment, table: DeployTable, now: dt.datetime,
                   force_reason: str | None) -> str | None:
    """Why a deploy of `env` is refused at `now` (an aware datetime), or None when it may go ahead.

    `force_reason` is the reason given with --force (None: not forced); it overrides a closed window, never
    a freeze; a blank one is bad input (exit 2). A missing deploy table is exit 3 (MissingTable).
    """
    if force_reason is not None and not force_reason.strip():
        raise BadInput("--force needs a reason: say why the deploy may go outside its deploy windows",
                       [Problem("force", "a blank reason")])
    freeze = frozen(table)
    if freeze is not None:
        return (f"{table.service} in {env.name} is frozen since {freeze['since']} by {freeze['who']}: "
                f"{freeze['reason']} (shipline unfreeze --environment {env.name} lifts it; --force does not)")
    windows = env.deploy.windows
    if is_open(windows, now):
        return None
    if force_reason is not None:
        log.warning("%s is outside its deploy windows; deploying anyway (--force: %s)", env.name, force_reason)
        return None
    opening = next_opening(windows, now)
    listed = "; ".join(describe_window(window) for window in windows)
    return (f"{env.name} is outside its deploy windows ({listed}): the next opens {_when(opening)}; deploy "
            "then, or --force with a reason")


def schema_refusal(running: SchemaLevels | None, target: SchemaLevels | None, *, rollback: bool,
                   force_reason: str | None = None) -> str | None:
    """Why `target` (the release's levels) cannot run beside `running` (the revision in service's), or None
    when it can: iff target.runs_beside <= running.schema_level and running.runs_beside <= target.schema_level
    (during a rolling deploy both run side by side). Either side without levels is compatible.

    `force_reason` (--force) lets a rollback go ahead anyway, with a warning naming it; never a deploy. A blank
    reason is bad input (exit 2)."""
    if force_reason is not None and not force_reason.strip():
        raise BadInput("--force needs a reason: say why the rollback may cross an incompatible migration",
                       [Problem("force", "a blank reason")])
    if running is None or target is None:
        return None
    new, old = ("the rollback's target", "the revision in service") if rollback else \
        ("the release", "the revision in service")
    if target.runs_beside > running.schema_level:
        why = (f"{new} ({_levels(target)}) cannot run beside {old} ({_levels(running)}): it needs schema level "
               f"{target.runs_beside} or above")
    elif running.runs_beside > target.schema_level:
        why = (f"{old} ({_levels(running)}) cannot run beside {new} ({_levels(target)}): it needs schema level "
               f"{running.runs_beside} or above")
    else:
        return None
    if not rollback:
        return (f"{why}; deploy a release that runs beside both levels first (release.runs_beside in "
                "shipline.yaml), then this one")
    if force_reason is not None:
        log.warning("%s; rolling back anyway (--force: %s)", why, force_reason)
        return None
    return f"{why}: a rollback across an incompatible migration; --force with a reason rolls back anyway"


def older_refusal(repo: str | Path, deploying_commit: str | None, running_commit: str | None,
                  allow_older: bool) -> str | None:
    """Why deploying `deploying_commit` is refused when `running_commit` is in service: it is a strict
    ancestor of it (an old build finishing late); None otherwise, and when `allow_older` (with a warning),
    or when it cannot tell (older_unknown says why)."""
    if deploying_commit is None or running_commit is None or deploying_commit == running_commit:
        return None
    if not is_ancestor(repo, deploying_commit, running_commit):
        return None
    if allow_older:
        log.warning("commit %s is older than %s, the commit in service; deploying it anyway (--allow-older)",
                    deploying_commit[:12], running_commit[:12])
        return None
    return (f"commit {deploying_commit[:12]} is older than the commit in service, {running_commit[:12]} (an "
            "ancestor of it): an old build finishing late? deploy a newer commit, or pass --allow-older")


def older_unknown(repo: str | Path, deploying_commit: str | None, running_commit: str | None) -> str | None:
    """Why the older-release guard cannot tell whether `deploying_commit` is older than `running_commit` (the
    caller warns), or None when it can."""
    if deploying_commit is None:
        return "cannot tell whether the release is older than the one in service: its commit is unknown " \
               "(its task definition was not rendered from a git checkout)"
    if running_commit is None:
        return "cannot tell whether the release is older than the one in service: the revision in service " \
               "records no commit (rendered before shipline recorded commits, or not from a git checkout)"
    missing = [commit for commit in (deploying_commit, running_commit)
               if is_ancestor(repo, commit, commit) is None]
    if missing:
        return f"cannot tell whether the release is older than the one in service: commit {missing[0][:12]} " \
               "is not in this checkout (fetch more history)"
    return None


def release_refusal(ecs: Any, running: str, document: dict[str, Any] | None, target: str | None,
                    repo: Path | None, allow_older: bool, warnings: list[str]) -> str | None:
    """Why the release cannot replace the revision in service: their schema levels cannot run side by side,
    or its commit is older (an ancestor of the running one's) and not `allow_older`. What cannot be told
    (a commit not in this checkout) goes to `warnings`."""
    in_service = recorded(ecs, running)
    release = read(document.get("tags")) if document is not None else recorded(ecs, target or "")
    refusal = schema_refusal(in_service.levels, release.levels, rollback=False)
    if refusal is None and repo is not None:
        refusal = older_refusal(repo, release.commit, in_service.commit, allow_older)
        unknown = None if refusal else older_unknown(repo, release.commit, in_service.commit)
        warnings += [unknown] if unknown else []
    return refusal


def describe(env: ResolvedEnvironment, table: DeployTable, now: dt.datetime) -> dict[str, Any]:
    """The freeze and the window state, read only: `frozen` is None when the deploy table is missing."""
    try:
        freeze = frozen(table)
        missing = False
    except MissingTable:
        freeze, missing = None, True
    windows = env.deploy.windows
    open_now = is_open(windows, now)
    opening = None if open_now else next_opening(windows, now)
    return {"deploy_table": {"name": table.name, "missing": missing},
            "frozen": None if missing else freeze is not None, "freeze": freeze,
            "window": {"open": open_now, "windows": [describe_window(window) for window in windows],
                       "next_opening": None if open_now else _iso(opening),
                       "next_opening_text": None if open_now else _when(opening)}}


def render(guards: dict[str, Any], environment: str) -> list[str]:
    """The lines `status` prints for `describe`'s result."""
    table, freeze, window = guards["deploy_table"], guards["freeze"], guards["window"]
    if table["missing"]:
        lines = [f"freeze: unknown: deploy table {table['name']} missing (shipline infra bootstrap creates it)"]
    elif freeze:
        lines = [f"FROZEN since {freeze['since']} by {freeze['who']}: {freeze['reason']} "
                 f"(shipline unfreeze --environment {environment} lifts it)"]
    else:
        lines = ["not frozen"]
    if not window["windows"]:
        lines.append("deploy windows: none (always open)")
    elif window["open"]:
        lines.append(f"deploy window: open ({'; '.join(window['windows'])})")
    else:
        lines.append(f"deploy window: closed ({'; '.join(window['windows'])}); next opens "
                     f"{window['next_opening_text']}")
    return lines


def _levels(levels: SchemaLevels) -> str:
    return f"schema level {levels.schema_level}, runs beside {levels.runs_beside} and up"


def _iso(opening: Opening | None) -> str | None:
    return None if opening is None else opening.at.isoformat()


def _when(opening: Opening | None) -> str:
    if opening is None:
        return "never"
    return f"{opening.at:%a %Y-%m-%d %H:%M %Z} ({opening.window.timezone})"
