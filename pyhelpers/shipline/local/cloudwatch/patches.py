"""The CloudWatch operations the emulation serves instead of moto (pinned exactly):

- GetMetricStatistics and GetMetricData's metric queries answer from queries.py: periods at multiples
  of their length, exact dimension sets (each set is a metric of its own), ExtendedStatistics and
  percentile Stats from the raw values; a Period is accepted when it is, on the emulation's clock
  (Period / time scale), one CloudWatch accepts, else refused with CloudWatch's error;
- PutMetricAlarm refuses a Period CloudWatch refuses and DatapointsToAlarm above EvaluationPeriods; a
  new alarm starts INSUFFICIENT_DATA ("Unchecked: Initial alarm creation"), an updated one keeps its
  state (moto starts every put at OK);
- DescribeAlarmHistory (moto has none) lists alarms' state changes;
- ListMetrics lists a metric with two dimensions or more once (moto repeats it for every datapoint).
Everything else stays moto's. Metrics Insights queries (SELECT ...) go to moto's GetMetricData as they are.
"""
from __future__ import annotations

import json
from typing import Any, Callable

from . import periods, queries, statistics, store

_time_scale: Callable[[], float] = lambda: 1.0
_installed = False


def install(time_scale: Callable[[], float]) -> None:
    """Serve the operations on the emulation's clock `time_scale` (patching moto once per process)."""
    global _time_scale, _installed
    _time_scale = time_scale
    if _installed:
        return
    from moto.cloudwatch.exceptions import InvalidParameterCombination, InvalidParameterValue, ValidationError
    from moto.cloudwatch.metric_data_expression_parser import parse_expression
    from moto.cloudwatch.responses import CloudWatchResponse as CW
    from moto.core.responses import ActionResult

    original_get_metric_data = CW.get_metric_data
    original_put_metric_alarm = CW.put_metric_alarm
    original_list_metrics = CW.list_metrics

    def get_metric_statistics(self: Any) -> Any:
        wanted, extended = self._get_param("Statistics", []), self._get_param("ExtendedStatistics", [])
        if not wanted and not extended:
            raise InvalidParameterCombination("Must specify either Statistics or ExtendedStatistics")
        for name in extended:
            if not statistics.is_percentile(name):
                raise InvalidParameterValue(f"The value {name} for parameter ExtendedStatistics is not supported.")
        period = self._get_int_param("Period")
        if not periods.valid_query_period(period, _time_scale()):
            raise InvalidParameterValue("The parameter Period must be a multiple of 60.")
        start, end = store.epoch(self._get_param("StartTime")), store.epoch(self._get_param("EndTime"))
        if start >= end:
            raise InvalidParameterValue("The parameter StartTime must be less than the parameter EndTime.")
        backend = self.cloudwatch_backend
        name = self._get_param("MetricName")
        found = queries.periods(backend.account_id, backend.region_name, self._get_param("Namespace"), name,
                                self._get_param("Dimensions", []), self._get_param("Unit"), start, end, period)
        return ActionResult({"Label": name, "Datapoints": queries.datapoints(found, wanted, extended)})

    def get_metric_data(self: Any) -> Any:
        params = self._get_params()
        asked = params.get("MetricDataQueries", [])
        if any(str(q.get("Expression", "")).startswith("SELECT") for q in asked):
            return original_get_metric_data(self)
        for number, query in enumerate(asked, 1):
            if "MetricStat" not in query and "Expression" not in query:
                raise ValidationError(f"The parameter MetricDataQueries.member.{number}.MetricStat is required.\n")
            stat = query.get("MetricStat")
            if stat and not periods.valid_query_period(int(stat["Period"]), _time_scale()):
                raise InvalidParameterValue(f"The parameter MetricDataQueries.member.{number}.MetricStat.Period "
                                            "must be a multiple of 60.")
            if stat and not statistics.is_statistic(stat["Stat"]):
                raise InvalidParameterValue(f"The value {stat['Stat']} for parameter "
                                            f"MetricDataQueries.member.{number}.MetricStat.Stat is not supported.")
        start, end = store.epoch(params["StartTime"]), store.epoch(params["EndTime"])
        if start > end:
            raise ValidationError("The parameter EndTime must be greater than StartTime.")
        if start == end:
            raise ValidationError("The parameter StartTime must not equal parameter EndTime.")
        backend = self.cloudwatch_backend
        results = []
        for query in asked:
            if "MetricStat" in query:
                stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
                found = queries.periods(backend.account_id, backend.region_name, metric["Namespace"],
                                        metric["MetricName"], metric.get("Dimensions", []), stat.get("Unit"), start,
                                        end, int(stat["Period"]))
                stamps, values = queries.series(found, stat["Stat"])
                label = query.get("Label") or f"{metric['MetricName']} {stat['Stat']}"
            else:
                values, stamps = parse_expression(query["Expression"], results)
                label = query.get("Label") or query["Id"]
            if (params.get("ScanBy") or "TimestampDescending") == "TimestampDescending":
                stamps, values = stamps[::-1], values[::-1]
            results.append({"id": query["Id"], "label": label, "values": values, "timestamps": stamps,
                            "status_code": "Complete", "return": query.get("ReturnData", True)})
        shown = [{k: v for k, v in result.items() if k != "return"} for result in results if result["return"]]
        return ActionResult({"MetricDataResults": shown})

    def put_metric_alarm(self: Any) -> Any:
        period, evaluations = self._get_param("Period"), self._get_param("EvaluationPeriods")
        if self._get_param("MetricName") and period is not None and not periods.valid_alarm_period(int(period)):
            raise InvalidParameterValue("The parameter Period must be 10, 20, 30 or a multiple of 60.")
        points = self._get_param("DatapointsToAlarm")
        if points is not None and evaluations is not None and int(points) > int(evaluations):
            raise ValidationError("DatapointsToAlarm must be less than or equal to EvaluationPeriods.")
        name = self._get_param("AlarmName")
        kept = store.alarm_state(self.cloudwatch_backend, name)
        result = original_put_metric_alarm(self)
        store.restore_state(self.cloudwatch_backend, name, kept)
        return result

    def describe_alarm_history(self: Any) -> Any:
        backend = self.cloudwatch_backend
        name, kind = self._get_param("AlarmName"), self._get_param("HistoryItemType")
        start, end = self._get_param("StartDate"), self._get_param("EndDate")
        items = []
        if kind in (None, "StateUpdate"):
            for alarm in [name] if name else list(backend.alarms):
                for change in store.transitions(backend, alarm):
                    stamp = store.epoch(change.timestamp)
                    if ((start is None or stamp >= store.epoch(start))
                            and (end is None or stamp <= store.epoch(end))):
                        items.append(_history_item(alarm, change))
        items.sort(key=lambda item: store.epoch(item["Timestamp"]),
                   reverse=(self._get_param("ScanBy") or "TimestampDescending") == "TimestampDescending")
        return ActionResult({"AlarmHistoryItems": items[:int(self._get_param("MaxRecords") or 100)]})

    def list_metrics(self: Any) -> Any:
        if self._get_param("NextToken"):
            return original_list_metrics(self)
        backend = self.cloudwatch_backend
        token, metrics = backend._get_paginated(store.distinct_metrics(
            backend, self._get_param("Namespace"), self._get_param("MetricName"),
            self._get_params().get("Dimensions", [])))
        return ActionResult({"Metrics": metrics, "NextToken": token})

    CW.list_metrics = list_metrics
    CW.get_metric_statistics = get_metric_statistics
    CW.get_metric_data = get_metric_data
    CW.put_metric_alarm = put_metric_alarm
    CW.describe_alarm_history = describe_alarm_history
    _installed = True


def _history_item(alarm: str, change: store.Transition) -> dict[str, Any]:
    new_state: dict[str, Any] = {"stateValue": change.new_state, "stateReason": change.new_reason}
    if change.new_reason_data and change.new_reason_data != "{}":
        new_state["stateReasonData"] = json.loads(change.new_reason_data)
    return {"AlarmName": alarm, "AlarmType": "MetricAlarm", "Timestamp": change.timestamp,
            "HistoryItemType": "StateUpdate",
            "HistorySummary": f"Alarm updated from {change.old_state} to {change.new_state}",
            "HistoryData": json.dumps({"version": "1.0", "oldState": {"stateValue": change.old_state,
                                                                       "stateReason": change.old_reason},
                                       "newState": new_state})}
