"""The one module that reads and writes moto's CloudWatch models (moto is pinned exactly in the `local`
extra): metric data in, samples and alarms out, alarm states and history.

Datapoints the emulation publishes keep their raw values beside moto's statistic set (a subclass of
moto's MetricAggregatedDatum), so percentiles come from the real samples; moto's own operations still
read them as statistic sets.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Iterator

from .statistics import Sample


@dataclass(frozen=True)
class Datum:
    """One metric's sample for one period, to publish."""

    name: str
    dimensions: list[dict[str, str]]
    sample: Sample
    unit: str


@dataclass(frozen=True)
class Stored:
    """A datapoint as stored: when, what it holds, its unit."""

    timestamp: float
    sample: Sample
    unit: str | None


@dataclass(frozen=True)
class MetricAlarm:
    """A metric alarm on one metric (not a metric-math or composite alarm), as PutMetricAlarm set it."""

    account: str
    region: str
    name: str
    namespace: str
    metric_name: str
    dimensions: list[dict[str, str]]
    period: int
    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    statistic: str              # the Statistic or the ExtendedStatistic
    unit: str | None
    treat_missing: str
    state: str


@dataclass(frozen=True)
class Transition:
    """One change of an alarm's state (DescribeAlarmHistory's StateUpdate)."""

    timestamp: dt.datetime
    old_state: str
    old_reason: str
    new_state: str
    new_reason: str
    new_reason_data: str


def put(account: str, region: str, namespace: str, timestamp: float, data: list[Datum]) -> None:
    """Store datapoints as PutMetricData would, their raw values kept."""
    backend = _backend(account, region)
    when = dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)
    backend.metric_data.extend(_sampled_datum()(namespace, d.name, d.dimensions, when, d.unit, d.sample) for d in data)


def samples(account: str, region: str, namespace: str, name: str, dimensions: list[dict[str, str]],
            unit: str | None, start: float, end: float) -> list[Stored]:
    """The datapoints of the metric with exactly these dimensions (and this unit, when given) with a
    timestamp in [start, end), oldest first."""
    from moto.cloudwatch.models import MetricAggregatedDatum, MetricDatum

    wanted = {(d["Name"], d["Value"]) for d in dimensions}
    found = []
    for datum in list(_backend(account, region).metric_data):
        stamp = epoch(datum.timestamp)
        if datum.namespace != namespace or datum.name != name or not start <= stamp < end:
            continue
        if {(d.name, d.value) for d in datum.dimensions} != wanted or (unit and datum.unit != unit):
            continue
        if isinstance(datum, _sampled_datum()):
            sample = datum.sample
        elif isinstance(datum, MetricAggregatedDatum):
            sample = Sample(datum.sample_count, datum.sum, datum.min, datum.max)
        elif isinstance(datum, MetricDatum):
            sample = Sample.of([datum.value])
        else:
            continue
        found.append(Stored(stamp, sample, datum.unit))
    return sorted(found, key=lambda stored: stored.timestamp)


def distinct_metrics(backend: Any, namespace: str | None, name: str | None,
                     dimensions: list[dict[str, str]]) -> list[Any]:
    """ListMetrics' metrics: one datum per namespace, name and dimension set (moto's own test of "already
    listed" fails for two dimensions or more), filtered as ListMetrics filters."""
    seen: dict[tuple[str, str, frozenset[tuple[str, str]]], Any] = {}
    for datum in backend.get_all_metrics():
        if datum.filter(namespace, name, dimensions):
            seen.setdefault((datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions)),
                            datum)
    return list(seen.values())


def metric_alarms() -> list[MetricAlarm]:
    """Every account's and region's alarms on one metric, as they are now."""
    alarms = []
    for account, region, backend in _backends():
        for alarm in list(backend.alarms.values()):
            if alarm.rule is not None or not alarm.metric_name or alarm.metric_data_queries:
                continue
            alarms.append(MetricAlarm(
                account, region, alarm.name, alarm.namespace, alarm.metric_name,
                [{"Name": d.name, "Value": d.value} for d in alarm.dimensions], int(alarm.period),
                int(alarm.evaluation_periods), int(alarm.datapoints_to_alarm or alarm.evaluation_periods),
                float(alarm.threshold), alarm.comparison_operator, alarm.extended_statistic or alarm.statistic,
                alarm.unit, alarm.treat_missing_data or "missing", alarm.state_value))
    return alarms


def set_state(account: str, region: str, name: str, state: str, reason: str, reason_data: dict[str, Any]) -> None:
    """Change an alarm's state as SetAlarmState does (its history keeps the change); nothing if it is gone."""
    backend = _backend(account, region)
    if name in backend.alarms:
        backend.set_alarm_state(name, reason, json.dumps(reason_data), state)


def alarm_state(backend: Any, name: str) -> Any | None:
    """An alarm's state, reason, timestamps and history, to carry over when PutMetricAlarm replaces it."""
    alarm = backend.alarms.get(name)
    if alarm is None:
        return None
    return (alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp,
            alarm.history)


def restore_state(backend: Any, name: str, kept: Any | None) -> None:
    """After PutMetricAlarm: an updated alarm keeps its state; a new one starts INSUFFICIENT_DATA."""
    alarm = backend.alarms[name]
    if kept is None:
        alarm.state_value, alarm.state_reason = "INSUFFICIENT_DATA", "Unchecked: Initial alarm creation"
    else:
        (alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp,
         alarm.history) = kept


def transitions(backend: Any, name: str) -> list[Transition]:
    """An alarm's state changes, oldest first (none for an alarm that does not exist)."""
    alarm = backend.alarms.get(name)
    if alarm is None:
        return []
    # moto's history holds the state each change left: (kind, reason, reason data, state, since)
    states = [(h[3], h[1], h[2], h[4]) for h in alarm.history if h[0] == "StateUpdate"]
    states.append((alarm.state_value, alarm.state_reason, alarm.state_reason_data, alarm.state_updated_timestamp))
    return [Transition(new[3], old[0], old[1], new[0], new[1], new[2]) for old, new in zip(states, states[1:])]


def alarms_in_alarm(account: str, region: str, names: list[str]) -> list[str]:
    """Those of the named CloudWatch alarms that exist and are in state ALARM."""
    known = _backend(account, region).alarms
    return [name for name in names if name in known and known[name].state_value == "ALARM"]


def epoch(value: Any) -> float:
    """Seconds since the epoch of a time stamp: a datetime (naive meaning UTC, as moto's own) or a number."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    return float(value)


def _backend(account: str, region: str) -> Any:
    from moto.cloudwatch.models import cloudwatch_backends

    return cloudwatch_backends[account][region]


def _backends() -> Iterator[tuple[str, str, Any]]:
    """The CloudWatch backends moto has created (none is created by looking)."""
    from moto.cloudwatch.models import cloudwatch_backends

    for account, regions in list(dict.items(cloudwatch_backends)):
        for region, backend in list(dict.items(regions)):
            yield account, region, backend


@lru_cache(maxsize=None)
def _sampled_datum() -> type:
    """moto's statistic-set datum, with the raw values (moto imported on first use)."""
    from moto.cloudwatch.models import MetricAggregatedDatum

    class SampledDatum(MetricAggregatedDatum):
        def __init__(self, namespace: str, name: str, dimensions: list[dict[str, str]], timestamp: dt.datetime,
                     unit: str, sample: Sample) -> None:
            super().__init__(namespace, name, sample.minimum, sample.maximum, sample.count, sample.total,
                             dimensions, timestamp, unit)
            self.sample = sample

    return SampledDatum
