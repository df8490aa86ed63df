"""The time model: one factor by which shipline runs its own waits.

On AWS a stability window lasts minutes; a local rehearsal of the same shipline.yaml must take seconds.
The emulation runs ECS, ELB, CloudWatch and Route 53 delays `time_scale` times as long
(`shipline local up --time-scale`), and shipline runs its own waits — stability windows, polling,
the metric periods and TTL margins it asks for — by the same factor, read from SHIPLINE_TIME_SCALE
(`shipline local env` exports it; any command's `--time-scale` sets it). shipline never detects the
emulation: the factor is a plain option, 1 unless given. Limits (deploy and approval timeouts, the
lease's time to live) are not waits and are never scaled; neither is what is asked of the app.

Imported on every CLI start: only the standard library and errors.py.
"""
from __future__ import annotations

import math
import os

from .errors import BadInput, Problem

ENV = "SHIPLINE_TIME_SCALE"
SHORTEST_POLL = 0.05  # seconds: polling never gets tighter than this, whatever the factor


def problem(value: float) -> str | None:
    """Why `value` cannot be a time scale (None when it can): a finite number in (0, 1]."""
    if not math.isfinite(value) or not 0 < value <= 1:
        return f"must be a number greater than 0 and at most 1; got {value}"
    return None


def factor() -> float:
    """The time scale in force: SHIPLINE_TIME_SCALE, or 1."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return 1.0
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if reason := problem(value):
        raise BadInput(f"invalid {ENV}={text[:40]!r}: {reason}", [Problem(ENV, reason)])
    return value


def scaled(seconds: float) -> float:
    """`seconds` of AWS time in this run's time."""
    return seconds * factor()


def poll(seconds: float) -> float:
    """A polling interval of `seconds` on AWS, scaled (never below SHORTEST_POLL)."""
    return max(scaled(seconds), SHORTEST_POLL)
