"""CloudWatch metrics from real requests through the listener data plane, and alarms evaluated from them.

Targets are in-process HTTP servers on 127.0.0.1 registered with RegisterTargets; requests go through
each load balancer's own 127.0.0.x. At time scale 0.1 a query Period of 1 s is 10 s of CloudWatch time
and an alarm Period of 10 runs 1 real second; metrics are published every second (the world's
metric_period). Elastic Load Balancing, "CloudWatch metrics for your Application Load Balancer"; Amazon
CloudWatch, "Alarm evaluation".
"""
from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

import pytest

from helpers import wait_for

NAMESPACE = "AWS/ApplicationELB"


class Target:
    """An app on 127.0.0.1: every `fail_every`-th request answers 500 (0: never), each after `delay` s;
    /health answers 200. `hits` counts requests, `failures` the 500s."""

    def __init__(self, delay: float = 0.0, fail_every: int = 0) -> None:
        self.delay, self.fail_every, self.hits, self.failures = delay, fail_every, 0, 0
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                if self.path == "/health":
                    self._send(200)
                    return
                with target._lock:
                    target.hits += 1
                    failing = target.fail_every and target.hits % target.fail_every == 0
                    target.failures += bool(failing)
                time.sleep(target.delay)
                self._send(500 if failing else 200)

            def _send(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def targets() -> Iterator[Callable[..., Target]]:
    started: list[Target] = []

    def start(**options: Any) -> Target:
        started.append(Target(**options))
        return started[-1]

    yield start
    for target in started:
        target.stop()


@pytest.fixture
def cloudwatch(boto):
    return boto("cloudwatch")


@pytest.fixture
def group(boto, elb) -> Callable[..., str]:
    vpc = boto("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]

    def create(name: str, *members: Target) -> str:
        """A target group with health checks every 0.5 real seconds, its members healthy."""
        arn = elb.create_target_group(Name=name, Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                      HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                      HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                                      UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "127.0.0.1", "Port": m.port} for m in members])
        wait_for(f"{name}'s targets to be healthy", lambda: {
            t["TargetHealth"]["State"] for t in elb.describe_target_health(TargetGroupArn=arn)[
                "TargetHealthDescriptions"]} == {"healthy"})
        return arn

    return create


def listen(aws, elb, balancer: dict, default: str, rules: dict[str, str] | None = None) -> "Client":
    """A listener forwarding to `default`, and to rules' groups by path pattern; a client of it."""
    listener = elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": default}])["Listeners"][0]
    for priority, (pattern, arn) in enumerate((rules or {}).items(), 1):
        elb.create_rule(ListenerArn=listener["ListenerArn"], Priority=priority,
                        Conditions=[{"Field": "path-pattern", "Values": [pattern]}],
                        Actions=[{"Type": "forward", "TargetGroupArn": arn}])
    port = next(e.port for e in aws.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])
    return Client(balancer["DNSName"], port)


class Client:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.connection = http.client.HTTPConnection(host, port, timeout=30)

    def get(self, path: str = "/") -> int:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        response.read()
        return response.status


def lb_dims(balancer: dict) -> list[dict[str, str]]:
    return [{"Name": "LoadBalancer", "Value": balancer["LoadBalancerArn"].split(":loadbalancer/")[1]}]


def tg_dims(balancer: dict, group_arn: str) -> list[dict[str, str]]:
    return [{"Name": "TargetGroup", "Value": group_arn.split(":")[-1]}] + lb_dims(balancer)


def statistics(cloudwatch, name: str, dims: list[dict[str, str]], since: dt.datetime, **asked: Any) -> list[dict]:
    """The metric's datapoints since `since`, 1-s periods (10 s of CloudWatch time at scale 0.1), oldest first."""
    asked = asked or {"Statistics": ["Sum"]}
    points = cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName=name, Dimensions=dims, Period=1,
                                              StartTime=since, EndTime=dt.datetime.now(dt.timezone.utc)
                                              + dt.timedelta(seconds=5), **asked)["Datapoints"]
    return sorted(points, key=lambda p: p["Timestamp"])


def total(cloudwatch, name: str, dims: list[dict[str, str]], since: dt.datetime) -> float:
    return sum(p["Sum"] for p in statistics(cloudwatch, name, dims, since))


def alarm(cloudwatch, name: str) -> dict:
    return cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=1)


# --- failure paths --------------------------------------------------------------------------------------
def test_a_period_that_is_no_cloudwatch_period_in_scaled_time_is_refused_as_cloudwatch_refuses_it(aws, elb,
                                                                                                   cloudwatch):
    """At time scale 0.1 a query Period of 4 s is 40 s of CloudWatch time: InvalidParameterValue, as
    CloudWatch answers; 1, 2, 3, 6 and 12 s (10, 20, 30, 60 and 120 s) are accepted. An alarm's Period is
    the user's real one: 15 is refused, 10 accepted."""
    from botocore.exceptions import ClientError

    since = now()
    until = since + dt.timedelta(minutes=1)
    for period in (4, 7, 9, 45):
        with pytest.raises(ClientError) as refused:
            cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName="RequestCount", Period=period,
                                             StartTime=since, EndTime=until, Statistics=["Sum"])
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert refused.value.response["Error"]["Message"] == "The parameter Period must be a multiple of 60."
        with pytest.raises(ClientError) as refused:
            cloudwatch.get_metric_data(StartTime=since, EndTime=until, MetricDataQueries=[{"Id": "q", "MetricStat": {
                "Metric": {"Namespace": NAMESPACE, "MetricName": "RequestCount"}, "Period": period, "Stat": "p95"}}])
        assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    for period in (1, 2, 3, 6, 12):
        assert cloudwatch.get_metric_statistics(Namespace=NAMESPACE, MetricName="RequestCount", Period=period,
                                                StartTime=since, EndTime=until, Statistics=["Sum"])["Datapoints"] == []
    with pytest.raises(ClientError) as refused:
        cloudwatch.put_metric_alarm(AlarmName="odd", Namespace=NAMESPACE, MetricName="RequestCount", Statistic="Sum",
                                    Period=15, EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert cloudwatch.describe_alarms()["MetricAlarms"] == []


def test_an_alarm_is_insufficient_data_until_its_metric_has_data_and_a_set_state_lasts_one_period(
        aws, elb, cloudwatch, alb):
    """A new alarm starts INSUFFICIENT_DATA and stays so while its metric has no data (TreatMissingData
    `missing`); SetAlarmState lasts until the next evaluation, as on CloudWatch."""
    dims = lb_dims(alb("quiet"))
    cloudwatch.put_metric_alarm(AlarmName="quiet", Namespace=NAMESPACE, MetricName="HTTPCode_Target_5XX_Count",
                                Dimensions=dims, Statistic="Sum", Period=10, EvaluationPeriods=1, Threshold=0,
                                ComparisonOperator="GreaterThanThreshold")
    state = alarm(cloudwatch, "quiet")
    assert (state["StateValue"], state["StateReason"]) == ("INSUFFICIENT_DATA", "Unchecked: Initial alarm creation")
    cloudwatch.set_alarm_state(AlarmName="quiet", StateValue="ALARM", StateReason="test")
    wait_for("the next evaluation to put it back", lambda: alarm(cloudwatch, "quiet")["StateValue"] ==
             "INSUFFICIENT_DATA", timeout=5)
    assert alarm(cloudwatch, "quiet")["StateReason"] == "Insufficient Data: 1 datapoint was unknown."
    time.sleep(2)  # two more periods with no data: no change
    history = cloudwatch.describe_alarm_history(AlarmName="quiet")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == ["Alarm updated from ALARM to INSUFFICIENT_DATA",
                                                      "Alarm updated from INSUFFICIENT_DATA to ALARM"]


# --- metrics from requests --------------------------------------------------------------------------------
def test_request_counts_match_the_requests_sent_exactly_per_group_and_per_load_balancer(
        aws, elb, cloudwatch, alb, group, targets):
    """RequestCount per target group (TargetGroup + LoadBalancer) and per load balancer (LoadBalancer
    alone: a metric of its own) sums to exactly the requests sent; Minimum and Maximum are 1 (ELB's counts);
    no requests, no RequestCount."""
    front = alb("counted")
    one, two = targets(), targets()
    first, second = group("first", one), group("second", two)
    client = listen(aws, elb, front, first, {"/second/*": second})
    since = now()
    for _ in range(150):
        assert client.get("/") == 200
    for _ in range(70):
        assert client.get("/second/x") == 200
    wait_for("every request counted", lambda: total(cloudwatch, "RequestCount", lb_dims(front), since) == 220,
             timeout=10)
    time.sleep(1.5)  # a period more: nothing counted twice
    assert total(cloudwatch, "RequestCount", lb_dims(front), since) == 220
    assert total(cloudwatch, "RequestCount", tg_dims(front, first), since) == 150 == one.hits
    assert total(cloudwatch, "RequestCount", tg_dims(front, second), since) == 70 == two.hits
    assert total(cloudwatch, "HTTPCode_Target_2XX_Count", tg_dims(front, second), since) == 70
    points = statistics(cloudwatch, "RequestCount", lb_dims(front), since, Statistics=["Minimum", "Maximum"])
    assert {(p["Minimum"], p["Maximum"], p["Unit"]) for p in points} == {(1.0, 1.0, "Count")}
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName="RequestCount")["Metrics"]
    assert sorted(sorted((d["Name"], d["Value"]) for d in m["Dimensions"]) for m in listed) == sorted(
        sorted((d["Name"], d["Value"]) for d in dims)
        for dims in (lb_dims(front), tg_dims(front, first), tg_dims(front, second)))
    quiet = statistics(cloudwatch, "RequestCount", lb_dims(front), now())
    time.sleep(1.5)
    assert statistics(cloudwatch, "RequestCount", lb_dims(front), now() - dt.timedelta(seconds=1)) == quiet == []


def test_a_target_answering_500_on_20_percent_drives_its_5xx_count_and_alarm_to_alarm_and_back_to_ok(
        aws, elb, cloudwatch, alb, group, targets):
    """A target failing one request in five: HTTPCode_Target_5XX_Count is 20% of RequestCount, a
    2-of-3 alarm on it (Sum > 5 per 10 s of CloudWatch time, missing data not breaching) goes ALARM;
    once the target stops failing the count is no longer published and the alarm returns to OK.
    Meanwhile no 5XX comes from the load balancer itself."""
    front = alb("flaky")
    flaky = targets(fail_every=5)
    arn = group("flaky", flaky)
    client = listen(aws, elb, front, arn)
    cloudwatch.put_metric_alarm(AlarmName="flaky-5xx", Namespace=NAMESPACE, MetricName="HTTPCode_Target_5XX_Count",
                                Dimensions=tg_dims(front, arn), Statistic="Sum", Period=10, EvaluationPeriods=3,
                                DatapointsToAlarm=2, Threshold=5, ComparisonOperator="GreaterThanThreshold",
                                TreatMissingData="notBreaching")
    since, sent, stop = now(), [0], threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            client.get("/")
            sent[0] += 1
            time.sleep(0.005)

    runner = threading.Thread(target=traffic)
    runner.start()
    try:
        started = time.monotonic()
        wait_for("the alarm to go to ALARM", lambda: alarm(cloudwatch, "flaky-5xx")["StateValue"] == "ALARM",
                 timeout=15)
        to_alarm = time.monotonic() - started
        state = alarm(cloudwatch, "flaky-5xx")
        assert state["StateReason"].startswith("Threshold Crossed: ") and "greater than the threshold (5.0)" in \
            state["StateReason"], state["StateReason"]
        assert json.loads(state["StateReasonData"])["statistic"] == "Sum"
        flaky.fail_every, healed, healed_at, failing_hits = 0, time.monotonic(), dt.datetime.now(dt.timezone.utc), \
            flaky.hits
        wait_for("the alarm to return to OK", lambda: alarm(cloudwatch, "flaky-5xx")["StateValue"] == "OK",
                 timeout=15)
        to_ok = time.monotonic() - healed
    finally:
        stop.set()
        runner.join()
    wait_for("every request counted", lambda: total(cloudwatch, "RequestCount", tg_dims(front, arn), since) ==
             sent[0], timeout=10)
    errors = total(cloudwatch, "HTTPCode_Target_5XX_Count", tg_dims(front, arn), since)
    print(f"{sent[0]} requests, {errors:.0f} 5XX (the target failed {flaky.failures}); ALARM after {to_alarm:.1f}s, "
          f"OK {to_ok:.1f}s after the target stopped failing")
    assert errors == flaky.failures == failing_hits // 5 == total(cloudwatch, "HTTPCode_Target_5XX_Count",
                                                                   lb_dims(front), since)
    before = since, healed_at - dt.timedelta(seconds=1)  # the periods that ended before the target healed
    failing = [(p["Sum"], sum(q["Sum"] for q in statistics(cloudwatch, "HTTPCode_Target_5XX_Count",
                                                          tg_dims(front, arn), since) if q["Timestamp"] == p["Timestamp"]))
               for p in statistics(cloudwatch, "RequestCount", tg_dims(front, arn), since) if p["Timestamp"] < before[1]]
    assert 0.15 <= sum(e for _, e in failing) / sum(r for r, _ in failing) <= 0.25, failing
    assert statistics(cloudwatch, "HTTPCode_ELB_5XX_Count", lb_dims(front), since) == []
    summaries = [h["HistorySummary"] for h in cloudwatch.describe_alarm_history(
        AlarmName="flaky-5xx", HistoryItemType="StateUpdate", ScanBy="TimestampAscending")["AlarmHistoryItems"]]
    assert summaries[-2:] == ["Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"], summaries


def test_a_slow_target_group_raises_its_p95_response_time_while_the_fast_groups_stays_put(
        aws, elb, cloudwatch, alb, group, targets):
    """TargetResponseTime from the raw samples: a group whose target takes 200 ms more has its p95
    (GetMetricStatistics' ExtendedStatistics, GetMetricData's Stat p95) above 0.2 s; the fast group's p95
    is the same before and while the slow group is loaded."""
    front = alb("latency")
    fast, slow = group("fast", targets()), group("slow", targets(delay=0.2))
    client = listen(aws, elb, front, fast, {"/slow/*": slow})
    since = now()
    for _ in range(100):
        client.get("/")
    wait_for("the fast group's first requests", lambda: sum(
        p["SampleCount"] for p in statistics(cloudwatch, "TargetResponseTime", tg_dims(front, fast), since,
                                             Statistics=["SampleCount"])) == 100, timeout=10)
    baseline = fast_p95(cloudwatch, front, fast, since)

    def slow_requests() -> None:
        slow_client = Client(client.host, client.port)
        for _ in range(8):
            slow_client.get("/slow/x")

    loaders = [threading.Thread(target=slow_requests) for _ in range(5)]
    during = now()
    for loader in loaders:
        loader.start()
    for _ in range(100):
        client.get("/")
    for loader in loaders:
        loader.join()
    wait_for("the slow group's requests", lambda: sum(
        p["SampleCount"] for p in statistics(cloudwatch, "TargetResponseTime", tg_dims(front, slow), during,
                                             Statistics=["SampleCount"])) == 40, timeout=10)
    points = statistics(cloudwatch, "TargetResponseTime", tg_dims(front, slow), during,
                        ExtendedStatistics=["p50", "p90", "p95", "p99"])
    assert points and all(0.2 <= p["ExtendedStatistics"]["p95"] < 1.0 for p in points), points
    assert all(p["ExtendedStatistics"]["p50"] <= p["ExtendedStatistics"]["p90"] <= p["ExtendedStatistics"]["p95"]
               <= p["ExtendedStatistics"]["p99"] for p in points)
    loaded = fast_p95(cloudwatch, front, fast, during)
    print(f"fast group's p95: {baseline * 1000:.1f} ms alone, {loaded * 1000:.1f} ms beside the slow group; "
          f"slow group's p95: {max(p['ExtendedStatistics']['p95'] for p in points) * 1000:.0f} ms")
    assert baseline < 0.05 and loaded < 0.05
    lb_level = statistics(cloudwatch, "TargetResponseTime", lb_dims(front), during, Statistics=["Maximum"])
    assert max(p["Maximum"] for p in lb_level) >= 0.2  # the load balancer's metric holds both groups


def fast_p95(cloudwatch, front: dict, group_arn: str, since: dt.datetime) -> float:
    """The group's p95 TargetResponseTime over everything since `since`, by GetMetricData (one 60-s period
    of CloudWatch time, 6 real seconds: the query's span)."""
    result = cloudwatch.get_metric_data(
        StartTime=since, EndTime=dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=5), MetricDataQueries=[{
            "Id": "p95", "MetricStat": {"Metric": {"Namespace": NAMESPACE, "MetricName": "TargetResponseTime",
                                                   "Dimensions": tg_dims(front, group_arn)},
                                        "Period": 6, "Stat": "p95"}}])["MetricDataResults"][0]
    assert result["StatusCode"] == "Complete" and result["Values"], result
    return max(result["Values"])


def test_healthy_and_unhealthy_host_counts_follow_a_target_being_stopped(aws, elb, cloudwatch, alb, group,
                                                                         targets):
    """HealthyHostCount and UnHealthyHostCount (TargetGroup + LoadBalancer) are published every period,
    traffic or not, and follow the health checks: a stopped target turns the counts from 2 / 0 to 1 / 1."""
    front = alb("hosts")
    one, two = targets(), targets()
    arn = group("pair", one, two)
    listen(aws, elb, front, arn)
    since = now()

    def latest(name: str) -> float | None:
        points = statistics(cloudwatch, name, tg_dims(front, arn), since, Statistics=["Maximum"])
        return points[-1]["Maximum"] if points else None

    wait_for("2 healthy, 0 unhealthy", lambda: (latest("HealthyHostCount"), latest("UnHealthyHostCount")) ==
             (2.0, 0.0), timeout=10)
    assert statistics(cloudwatch, "HealthyHostCount", lb_dims(front), since, Statistics=["Maximum"]) == []
    two.stop()
    stopped = time.monotonic()
    wait_for("1 healthy, 1 unhealthy", lambda: (latest("HealthyHostCount"), latest("UnHealthyHostCount")) ==
             (1.0, 1.0), timeout=10)
    print(f"the counts followed the stopped target in {time.monotonic() - stopped:.1f}s")
