"""CloudWatch's statistics over the samples of a period: SampleCount, Sum, Average, Minimum, Maximum and
percentiles (p0.0 to p100, two decimals at most) from the raw values.

A percentile needs the raw values (CloudWatch: "available ... as long as you publish the raw,
unsummarized data points"), none of them negative; a statistic set (PutMetricData's StatisticValues)
has none, so a period holding one has no percentile.
"""
from __future__ import annotations

import re
import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence

STATISTICS = ("SampleCount", "Sum", "Average", "Minimum", "Maximum")
_PERCENTILE = re.compile(r"p(100(?:\.0{1,2})?|\d{1,2}(?:\.\d{1,2})?)")
_STEPS = 10_000  # percentiles to two decimals


@dataclass(frozen=True)
class Sample:
    """What a metric holds for some stretch of time: its count, sum, extremes and, when known, its values."""

    count: float
    total: float
    minimum: float
    maximum: float
    values: tuple[float, ...] | None = None

    @classmethod
    def of(cls, values: Sequence[float]) -> "Sample":
        return cls(len(values), sum(values), min(values), max(values), tuple(values))

    @classmethod
    def events(cls, count: int) -> "Sample":
        """`count` events, each a 1 (ELB's counts: Sum is the count; Minimum, Maximum and Average are 1)."""
        return cls(count, count, 1, 1)


def merge(samples: Iterable[Sample]) -> Sample:
    """One sample of several (the raw values kept only when every one has them)."""
    parts = list(samples)
    values = None if any(p.values is None for p in parts) else tuple(v for p in parts for v in p.values or ())
    return Sample(sum(p.count for p in parts), sum(p.total for p in parts), min(p.minimum for p in parts),
                  max(p.maximum for p in parts), values)


def is_statistic(name: str) -> bool:
    return name in STATISTICS or is_percentile(name)


def is_percentile(name: str) -> bool:
    """pNN, pNN.N or pNN.NN between p0 and p100."""
    return _PERCENTILE.fullmatch(name) is not None


def value(sample: Sample, statistic: str) -> float | None:
    """`statistic` of the sample (None for a percentile it has no raw, non-negative values for)."""
    if statistic == "SampleCount":
        return float(sample.count)
    if statistic == "Sum":
        return float(sample.total)
    if statistic == "Average":
        return sample.total / sample.count
    if statistic == "Minimum":
        return float(sample.minimum)
    if statistic == "Maximum":
        return float(sample.maximum)
    if not is_percentile(statistic):
        raise ValueError(f"not a statistic: {statistic}")
    if not sample.values or min(sample.values) < 0:
        return None
    step = round(float(statistic[1:]) * _STEPS / 100)
    if step == 0 or len(sample.values) == 1:
        return min(sample.values)
    if step == _STEPS:
        return max(sample.values)
    return statistics.quantiles(sample.values, n=_STEPS, method="inclusive")[step - 1]
