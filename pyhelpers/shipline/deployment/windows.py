"""Deploy windows (`deploy.windows`): is a deploy allowed now, and when does a window open next.

Pure arithmetic on the wall clock of each window's time zone: a window is open while the local time is
within its hours on one of its days (from the start on a listed day to the end on the next day when the
end is before the start). A daylight-saving jump is what the wall clock does: on the day clocks go forward
a window opening in the skipped hour opens when the clock jumps past its start; on the day they go back
the repeated hour is inside a window twice. No window configured means always open.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

from ..config import DAYS, DeployWindow

UTC = dt.timezone.utc
_SEARCH_DAYS = 9          # every window opens within a week (plus days to spare for the zones' offsets)


class Opening(NamedTuple):
    at: dt.datetime           # in the window's time zone
    window: DeployWindow


def is_open(windows: Sequence[DeployWindow], now: dt.datetime) -> bool:
    """Whether `now` (an aware datetime) is inside any of `windows`; True when there are none."""
    return not windows or any(_inside(window, now) for window in windows)


def next_opening(windows: Sequence[DeployWindow], now: dt.datetime) -> Opening | None:
    """The first moment at or after `now` when one of `windows` is open (`now` itself when one is), in that
    window's time zone; None when there are no windows (always open)."""
    found = [opening for opening in (_next(window, now) for window in windows) if opening is not None]
    return min(found, key=lambda opening: opening.at) if found else None


def describe_window(window: DeployWindow) -> str:
    """'mon,tue 09:00-17:00 Europe/Berlin'."""
    return f"{','.join(window.days)} {window.hours} {window.timezone}"


def _inside(window: DeployWindow, now: dt.datetime) -> bool:
    local = _aware(now).astimezone(window.zone)
    minute = local.hour * 60 + local.minute
    today = _day(local.date())
    yesterday = _day(local.date() - dt.timedelta(days=1))
    if window.end > window.start:
        return today in window.days and window.start <= minute < window.end
    return (today in window.days and minute >= window.start) or (yesterday in window.days and minute < window.end)


def _next(window: DeployWindow, now: dt.datetime) -> Opening | None:
    """The window opens where the wall clock reaches its start on a listed day, or where the zone's offset
    changes (a jump into the window): the earliest such moment at or after `now` that is inside it."""
    now = _aware(now)
    if _inside(window, now):
        return Opening(now.astimezone(window.zone), window)
    zone = window.zone
    first = now.astimezone(zone).date()
    candidates = [_transition(zone, before, after) for before, after in _offset_changes(zone, now)]
    for offset in range(_SEARCH_DAYS):
        day = first + dt.timedelta(days=offset)
        if _day(day) in window.days:
            start = dt.datetime.combine(day, dt.time(window.start // 60, window.start % 60), tzinfo=zone)
            candidates += [start.replace(fold=fold).astimezone(UTC) for fold in (0, 1)]
    opening = min((c for c in candidates if c >= now and _inside(window, c)), default=None)
    return None if opening is None else Opening(opening.astimezone(zone), window)


def _offset_changes(zone: dt.tzinfo, now: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Hour-apart pairs of UTC moments, from now through the search span, between which `zone`'s offset
    changes."""
    start = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [start + dt.timedelta(hours=n) for n in range(_SEARCH_DAYS * 24 + 1)]
    offsets = [hour.astimezone(zone).utcoffset() for hour in hours]
    return [(hours[n], hours[n + 1]) for n in range(len(hours) - 1) if offsets[n] != offsets[n + 1]]


def _transition(zone: dt.tzinfo, before: dt.datetime, after: dt.datetime) -> dt.datetime:
    """The first whole minute in (before, after] with the offset `after` has (offsets change on minutes)."""
    offset = after.astimezone(zone).utcoffset()
    low, high = 0, int((after - before).total_seconds() // 60)   # before + high minutes has the new offset
    while high - low > 1:
        middle = (low + high) // 2
        if (before + dt.timedelta(minutes=middle)).astimezone(zone).utcoffset() == offset:
            high = middle
        else:
            low = middle
    return before + dt.timedelta(minutes=high)


def _day(date: dt.date) -> str:
    return DAYS[date.weekday()]


def _aware(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("a deploy window needs an aware datetime (e.g. datetime.now(timezone.utc))")
    return now
