"""CloudWatch judges real requests: while a release of the sample app that answers 500 on a fifth of
the requests takes traffic through an emulated listener, HTTPCode_Target_5XX_Count rises and an alarm on
it (the user's one-minute period, run at the time scale) goes to ALARM; once a good release replaces it,
the alarm returns to OK."""
from __future__ import annotations

import datetime as dt
import threading

from deploying import bootstrapped, config_of, listener_in_front, with_deploy_settings
from helpers import wait_for
from shipline.deployment.engine import deploy
from shipline.local.cloudwatch.dimensions import load_balancer, target_group
from shipline.local.traffic.load import Load
from shipline.local.traffic.summary import summarise
from shipline.local.traffic.target import parse

RATE, SECONDS = 40, 90


def test_a_release_answering_500_on_a_fifth_drives_a_5xx_alarm_to_alarm_and_a_good_one_back_to_ok(
        aws, boto, sample_app, push_variant):
    aws.ecs.time_scale = 0.1
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s\ncircuit_breaker: false")
    v1, bad, v2 = push_variant("v1"), push_variant("errors-20"), push_variant("v2")
    bootstrapped(sample_app, boto, v1)
    balancer, group, served = listener_in_front(aws, boto)
    cloudwatch = boto("cloudwatch")
    dimensions = [{"Name": "LoadBalancer", "Value": load_balancer(balancer)},
                  {"Name": "TargetGroup", "Value": target_group(group)}]
    cloudwatch.put_metric_alarm(
        AlarmName="webapp-5xx", Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count",
        Dimensions=dimensions, Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching")

    def state() -> str:
        return cloudwatch.describe_alarms(AlarmNames=["webapp-5xx"])["MetricAlarms"][0]["StateValue"]

    load = Load(parse(f"{served.url}/"), rps=RATE, seconds=SECONDS)
    generator = threading.Thread(target=load.run)
    generator.start()
    try:
        wait_for("the alarm OK on v1's traffic", lambda: state() == "OK", timeout=30)
        assert deploy(config_of(sample_app), environment="staging", image=bad)["decision"] == "succeeded"
        wait_for("the alarm in ALARM on the bad release's 500s", lambda: state() == "ALARM", timeout=40)
        assert deploy(config_of(sample_app), environment="staging", image=v2)["decision"] == "succeeded"
        wait_for("the alarm back to OK on the good release", lambda: state() == "OK", timeout=40)
    finally:
        generator.join()
    summary = summarise(load)
    rows = {row["revision"]: row for row in summary["revisions"]}

    def published() -> float:
        return sum(p["Sum"] for p in cloudwatch.get_metric_statistics(
            Namespace="AWS/ApplicationELB", MetricName="HTTPCode_Target_5XX_Count", StartTime=_since(SECONDS + 60),
            EndTime=_since(-5), Period=1, Statistics=["Sum"], Dimensions=dimensions)["Datapoints"])

    sent_500 = rows["errors-20"]["statuses"].get("500", 0)
    wait_for("every 500 the generator saw in HTTPCode_Target_5XX_Count", lambda: published() == sent_500, timeout=10)
    print(f"by revision: {[(r, row['requests'], row['statuses']) for r, row in rows.items()]}; "
          f"HTTPCode_Target_5XX_Count sum {published():g}")
    assert sent_500 > 0
    assert 0.1 <= rows["errors-20"]["statuses"]["500"] / rows["errors-20"]["requests"] <= 0.3
    assert all(not row["statuses"].get("500") for revision, row in rows.items() if revision != "errors-20")


def _since(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=seconds)
