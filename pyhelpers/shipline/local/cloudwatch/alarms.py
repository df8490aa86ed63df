"""Metric alarms evaluated as CloudWatch evaluates them: once each of its periods ends, every alarm on one
metric gets its statistic over each period of its evaluation range and the state alarm_rules.py decides,
set (with CloudWatch's StateReason and StateReasonData) through moto's backend only when it changes, so
DescribeAlarms and DescribeAlarmHistory show it, and ECS deployment alarms read it.

An alarm's Period is the user's real infrastructure: it runs Period x time scale real seconds. A state
set with SetAlarmState lasts until the alarm's next evaluation, as on CloudWatch. Not evaluated:
metric-math, anomaly-detection and composite alarms (their state stays as set).
"""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from . import alarm_rules, periods, statistics, store
from .alarm_rules import Rule


class AlarmEvaluator:
    """Remembers which period each alarm was last evaluated for."""

    def __init__(self) -> None:
        self._evaluated: dict[tuple[str, str, str], int] = {}

    def reset(self) -> None:
        self._evaluated.clear()

    def evaluate(self, through: float, time_scale: float) -> None:
        """Evaluate every alarm whose latest period ended by `through` (data is published up to then) and
        has not been evaluated yet."""
        for alarm in store.metric_alarms():
            if alarm.comparison not in alarm_rules.COMPARISONS or alarm.treat_missing not in alarm_rules.TREATMENTS:
                continue
            period = periods.real(alarm.period, time_scale)
            if period <= 0:
                continue
            last = periods.index_of(through, period) - 1  # the latest period that has ended
            key = (alarm.account, alarm.region, alarm.name)
            if self._evaluated.get(key) != last:
                self._evaluated[key] = last
                _evaluate(alarm, period, last)


def _evaluate(alarm: store.MetricAlarm, period: float, last: int) -> None:
    rule = Rule(alarm.evaluation_periods, alarm.datapoints_to_alarm, alarm.threshold, alarm.comparison,
                alarm.treat_missing)
    indexes = list(range(last - rule.evaluation_range + 1, last + 1))
    held: defaultdict[int, list[statistics.Sample]] = defaultdict(list)
    for stored in store.samples(alarm.account, alarm.region, alarm.namespace, alarm.metric_name, alarm.dimensions,
                                alarm.unit, indexes[0] * period, (last + 1) * period):
        held[periods.index_of(stored.timestamp, period)].append(stored.sample)
    merged = {index: statistics.merge(samples) for index, samples in held.items()}
    points = [statistics.value(merged[i], alarm.statistic) if i in merged else None for i in indexes]
    decision = alarm_rules.decide(points, rule)
    if decision.state is None or decision.state == alarm.state:
        return
    starts = [dt.datetime.fromtimestamp(i * period, dt.timezone.utc) for i in indexes]
    reason = alarm_rules.reason(decision, rule, points, [s.strftime("%d/%m/%y %H:%M:%S") for s in starts],
                                alarm.state)
    data = {"version": "1.0", "queryDate": _iso(dt.datetime.now(dt.timezone.utc)), "startDate": _iso(starts[0]),
            "statistic" if alarm.statistic in statistics.STATISTICS else "extendedStatistic": alarm.statistic,
            "period": alarm.period, "recentDatapoints": [points[i] for i in decision.evaluated],
            "threshold": alarm.threshold,
            "evaluatedDatapoints": [{"timestamp": _iso(starts[i]), "sampleCount": merged[indexes[i]].count,
                                     "value": points[i]} for i in reversed(decision.evaluated)]}
    store.set_state(alarm.account, alarm.region, alarm.name, decision.state, reason, data)


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"
