"""Periods on the emulation's clock, and which ones CloudWatch accepts.

A query's Period is taken literally, in real seconds (shipline scales what it asks for), but accepted
only when it is, in the emulation's time (Period / time scale), one CloudWatch accepts: 1, 5, 10, 20,
30 or a multiple of 60 (GetMetricStatistics, MetricStat). An alarm's Period is the user's real
infrastructure, so it is checked as given (10, 20, 30 or a multiple of 60) and runs Period x time scale
real seconds. Periods start at multiples of their length since the epoch.
"""
from __future__ import annotations

import math

_QUERY = (1, 5, 10, 20, 30)
_ALARM = (10, 20, 30)


def valid_query_period(period: float, time_scale: float) -> bool:
    """Whether a query's Period (real seconds) is, in the emulation's time, one CloudWatch accepts."""
    aws = round(period / time_scale, 6)
    return aws == int(aws) and (int(aws) in _QUERY or (aws >= 60 and int(aws) % 60 == 0))


def valid_alarm_period(period: int) -> bool:
    return period in _ALARM or (period >= 60 and period % 60 == 0)


def real(seconds: float, time_scale: float) -> float:
    """`seconds` of the user's infrastructure (an alarm's period) on the emulation's clock."""
    return round(seconds * time_scale, 6)


def index_of(timestamp: float, period: float) -> int:
    """Which period (counted from the epoch) holds `timestamp`; it starts at index x period."""
    return math.floor(round(timestamp / period, 9))
