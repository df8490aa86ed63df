"""What the load balancer's metrics are made of: dimension values as ELB names them, which metric goes
under which dimensions, statistics and percentiles, and which periods CloudWatch accepts on the
emulation's clock."""
from __future__ import annotations

import pytest

from shipline.local.cloudwatch import alb, dimensions, periods, statistics
from shipline.local.cloudwatch.statistics import Sample
from shipline.local.elb.proxy import Served

LB = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/50dc6c495c0c9188"
TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/blue/73e2d6bc24d8a067"


def test_dimension_values_are_the_tails_of_the_arns() -> None:
    assert dimensions.load_balancer(LB) == "app/web/50dc6c495c0c9188"
    assert dimensions.target_group(TG) == "targetgroup/blue/73e2d6bc24d8a067"
    assert dimensions.of(LB) == [{"Name": "LoadBalancer", "Value": "app/web/50dc6c495c0c9188"}]
    assert dimensions.of(LB, TG) == [{"Name": "TargetGroup", "Value": "targetgroup/blue/73e2d6bc24d8a067"},
                                     {"Name": "LoadBalancer", "Value": "app/web/50dc6c495c0c9188"}]
    with pytest.raises(ValueError):
        dimensions.load_balancer(TG)
    with pytest.raises(ValueError):
        dimensions.target_group(LB)


def served(status: int, target_status: int | None, seconds: float | None = None, group: str | None = TG,
           target: str | None = "127.0.0.1:8080") -> Served:
    return Served(0.0, group, target, status, target_status, seconds, 0.01)


def by_metric(points: list) -> dict[tuple[str, tuple[str, ...]], Sample]:
    return {(d.name, tuple(x["Name"] for x in d.dimensions)): d.sample for d in points}


def test_each_metric_goes_under_the_dimensions_elb_publishes_it_under() -> None:
    requests = [(LB, served(200, 200, 0.01)), (LB, served(500, 500, 0.03)), (LB, served(502, None)),
                (LB, served(404, None, group=None, target=None))]
    found = by_metric(alb.datapoints(requests, {LB: {TG}}, {TG: (2, 1)})[("123456789012", "us-east-1")])
    both, lb = ("TargetGroup", "LoadBalancer"), ("LoadBalancer",)
    assert found[("RequestCount", lb)].total == 3 and found[("RequestCount", both)].total == 3  # a target chosen
    assert found[("HTTPCode_Target_2XX_Count", both)].total == 1
    assert found[("HTTPCode_Target_5XX_Count", lb)].total == 1
    assert found[("HTTPCode_ELB_5XX_Count", lb)].total == 1 and found[("HTTPCode_ELB_4XX_Count", lb)].total == 1
    assert ("HTTPCode_ELB_5XX_Count", both) not in found
    assert found[("TargetResponseTime", both)].values == (0.01, 0.03)
    assert (found[("HealthyHostCount", both)].total, found[("UnHealthyHostCount", both)].total) == (2, 1)
    assert ("HealthyHostCount", lb) not in found
    counted = found[("RequestCount", lb)]
    assert (statistics.value(counted, "Minimum"), statistics.value(counted, "Maximum"),
            statistics.value(counted, "Average"), statistics.value(counted, "SampleCount")) == (1, 1, 1, 3)


def test_counts_are_published_only_when_not_zero_host_counts_every_period() -> None:
    found = alb.datapoints([], {LB: {TG}}, {})
    assert sorted(d.name for d in found[("123456789012", "us-east-1")]) == ["HealthyHostCount", "UnHealthyHostCount"]
    assert alb.datapoints([], {LB: set()}, {}) == {}


def test_percentiles_come_from_the_raw_values_and_need_them() -> None:
    sample = Sample.of([float(v) for v in range(1, 101)])
    assert statistics.value(sample, "p50") == pytest.approx(50.5)
    assert statistics.value(sample, "p95") == pytest.approx(95.05)
    assert statistics.value(sample, "p99.9") == pytest.approx(99.901)
    assert (statistics.value(sample, "p0"), statistics.value(sample, "p100")) == (1.0, 100.0)
    assert statistics.value(Sample.of([0.2]), "p95") == 0.2
    merged = statistics.merge([Sample.of([0.1, 0.2]), Sample.of([0.3])])
    assert merged.values == (0.1, 0.2, 0.3) and statistics.value(merged, "Average") == pytest.approx(0.2)
    assert statistics.value(statistics.merge([merged, Sample.events(3)]), "p95") is None   # a statistic set
    assert statistics.value(Sample.of([-1.0, 2.0]), "p50") is None                         # a negative value
    assert [name for name in ("p95", "p99.99", "p100", "p0.0", "p101", "p95.123", "P95", "tm90", "Sum")
            if statistics.is_percentile(name)] == ["p95", "p99.99", "p100", "p0.0"]


@pytest.mark.parametrize("period, scale, valid", [
    (1, 0.1, True), (2, 0.1, True), (3, 0.1, True), (6, 0.1, True), (12, 0.1, True), (4, 0.1, False),
    (9, 0.1, False), (45, 0.1, False), (60, 1.0, True), (30, 1.0, True), (45, 1.0, False), (20, 1.0, True),
    (3, 0.05, True), (2, 0.05, False)])
def test_a_query_period_is_valid_when_it_is_a_cloudwatch_period_on_the_emulations_clock(
        period: int, scale: float, valid: bool) -> None:
    assert periods.valid_query_period(period, scale) is valid


def test_alarm_periods_are_checked_as_given_and_run_scaled() -> None:
    assert [p for p in (10, 20, 30, 60, 120, 15, 45, 5) if periods.valid_alarm_period(p)] == [10, 20, 30, 60, 120]
    assert periods.real(60, 0.1) == 6.0 and periods.real(30, 0.1) == 3.0
    assert periods.index_of(12.0, 3.0) == 4 and periods.index_of(11.999, 3.0) == 3
