"""Answers to GetMetricStatistics and GetMetricData's metric queries, from the stored datapoints: one
datapoint per period holding data, periods starting at multiples of their length (a query's start is
rounded down to one), statistics and percentiles over everything the period holds."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from . import statistics, store
from .periods import index_of
from .statistics import Sample


def periods(account: str, region: str, namespace: str, name: str, dimensions: list[dict[str, str]],
            unit: str | None, start: float, end: float, period: float) -> list[tuple[dt.datetime, Sample, str | None]]:
    """The metric's periods between `start` (rounded down to a period) and `end` that hold data: each
    one's start, everything it holds, its unit; oldest first."""
    first = index_of(start, period) * period
    held: defaultdict[int, list[store.Stored]] = defaultdict(list)
    for stored in store.samples(account, region, namespace, name, dimensions, unit, first, end):
        held[index_of(stored.timestamp, period)].append(stored)
    return [(dt.datetime.fromtimestamp(index * period, dt.timezone.utc),
             statistics.merge(s.sample for s in found), found[-1].unit) for index, found in sorted(held.items())]


def datapoints(found: list[tuple[dt.datetime, Sample, str | None]], wanted: list[str],
               extended: list[str]) -> list[dict[str, Any]]:
    """GetMetricStatistics' Datapoints (a percentile the data cannot give is left out)."""
    points = []
    for when, sample, unit in found:
        point: dict[str, Any] = {"Timestamp": when, "Unit": unit or "None"}
        point.update({name: statistics.value(sample, name) for name in wanted})
        percentiles = {name: statistics.value(sample, name) for name in extended}
        if any(value is not None for value in percentiles.values()):
            point["ExtendedStatistics"] = {k: v for k, v in percentiles.items() if v is not None}
        points.append(point)
    return points


def series(found: list[tuple[dt.datetime, Sample, str | None]], stat: str) -> tuple[list[dt.datetime], list[float]]:
    """A MetricStat query's timestamps and values, oldest first (periods the statistic has no value for
    are left out)."""
    pairs = [(when, statistics.value(sample, stat)) for when, sample, _ in found]
    kept = [(when, value) for when, value in pairs if value is not None]
    return [when for when, _ in kept], [value for _, value in kept]
