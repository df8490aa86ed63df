"""The freeze and the deploy windows, asked before a deploy changes anything, and shown by `status`.

A freeze always refuses a deploy (`shipline unfreeze` lifts it; `--force` does not); a closed deploy window
refuses it unless the deploy is forced with a reason.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from ..config import ResolvedEnvironment
from ..errors import BadInput, Problem
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


def _iso(opening: Opening | None) -> str | None:
    return None if opening is None else opening.at.isoformat()


def _when(opening: Opening | None) -> str:
    if opening is None:
        return "never"
    return f"{opening.at:%a %Y-%m-%d %H:%M %Z} ({opening.window.timezone})"
