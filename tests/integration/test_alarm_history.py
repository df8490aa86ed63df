"""The stability window reads an alarm's history on the emulated CloudWatch: an ALARM that cleared
before the deploy looked still counts; a change to OK alone does not."""
from __future__ import annotations

import datetime as dt

from shipline.deployment.watch import _history_reader


def test_the_history_says_whether_an_alarm_went_to_alarm_since_a_time(aws, boto) -> None:
    cloudwatch = boto("cloudwatch")
    for name in ("flapped", "calm"):
        cloudwatch.put_metric_alarm(AlarmName=name, Namespace="AWS/ApplicationELB", MetricName="RequestCount",
                                    Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
                                    ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore")
    began = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)
    cloudwatch.set_alarm_state(AlarmName="flapped", StateValue="ALARM", StateReason="test: 5xx")
    cloudwatch.set_alarm_state(AlarmName="flapped", StateValue="OK", StateReason="test: calm again")
    cloudwatch.set_alarm_state(AlarmName="calm", StateValue="OK", StateReason="test: traffic started")
    went_to_alarm = _history_reader(cloudwatch)
    stamps = {a["AlarmName"]: a["StateUpdatedTimestamp"] for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert {a: stamps[a] >= began for a in stamps} == {"flapped": True, "calm": True}
    assert went_to_alarm("flapped", began, stamps["flapped"]) is True
    assert went_to_alarm("calm", began, stamps["calm"]) is False
    assert went_to_alarm("flapped", dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5),
                         stamps["flapped"]) is False  # nothing since a later time
