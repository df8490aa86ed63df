"""An Application Load Balancer's CloudWatch metrics, made of what its listeners served in a period and
its target groups' health (Elastic Load Balancing, User Guide for Application Load Balancers,
"CloudWatch metrics for your Application Load Balancer"), namespace AWS/ApplicationELB:

| metric | per load balancer | per target group (and its load balancer) | published |
|---|---|---|---|
| RequestCount (requests for which a target was chosen) | yes | yes | when not zero |
| HTTPCode_Target_2XX..5XX_Count (statuses from targets) | yes | yes | when not zero |
| HTTPCode_ELB_3XX..5XX_Count (statuses from the load balancer) | yes | no | when not zero |
| TargetResponseTime (seconds to the target's response headers; raw values, so percentiles) | yes | yes | when a target answered |
| HealthyHostCount, UnHealthyHostCount (targets healthy / unhealthy) | no | yes | every period |

Counts are published as ELB does: Sum is the count, Minimum, Maximum and Average are 1. A target group
counts for every load balancer whose listener rules forward to it.
"""
from __future__ import annotations

import threading
from collections import defaultdict

from ..elb.proxy import Served
from . import dimensions
from .statistics import Sample
from .store import Datum

Region = tuple[str, str]  # (account, region)


class Collector:
    """What the listeners served since the last period ended (the data plane's observer)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: list[tuple[str, Served]] = []

    def observe(self, load_balancer_arn: str, served: Served) -> None:
        with self._lock:
            self._served.append((load_balancer_arn, served))

    def take(self) -> list[tuple[str, Served]]:
        """Everything observed since the last take (each request lands in exactly one period)."""
        with self._lock:
            taken, self._served = self._served, []
            return taken


def datapoints(served: list[tuple[str, Served]], groups: dict[str, set[str]],
               hosts: dict[str, tuple[int, int]]) -> dict[Region, list[Datum]]:
    """One period's datapoints by account and region: `served` is what the listeners served (load balancer
    ARN, request), `groups` each load balancer's target groups, `hosts` each group's (healthy, unhealthy)
    target counts."""
    counts: defaultdict[tuple[str, str, str | None], int] = defaultdict(int)      # (metric, LB, group)
    times: defaultdict[tuple[str, str | None], list[float]] = defaultdict(list)  # (LB, group)
    for balancer, request in served:
        scopes = [(balancer, None)] + ([(balancer, request.group)] if request.group else [])
        if request.target is not None:
            for scope in scopes:
                counts[("RequestCount", *scope)] += 1
        if request.target_status is not None:
            for scope in scopes:
                if 2 <= request.target_status // 100 <= 5:
                    counts[(f"HTTPCode_Target_{request.target_status // 100}XX_Count", *scope)] += 1
                if request.target_seconds is not None:
                    times[scope].append(request.target_seconds)
        elif 3 <= request.elb_status // 100 <= 5:
            counts[(f"HTTPCode_ELB_{request.elb_status // 100}XX_Count", balancer, None)] += 1
    found: defaultdict[Region, list[Datum]] = defaultdict(list)
    for (name, balancer, group), count in counts.items():
        found[dimensions.account_region(balancer)].append(
            Datum(name, dimensions.of(balancer, group), Sample.events(count), "Count"))
    for (balancer, group), values in times.items():
        found[dimensions.account_region(balancer)].append(
            Datum("TargetResponseTime", dimensions.of(balancer, group), Sample.of(values), "Seconds"))
    for balancer, names in groups.items():
        for group in names:
            healthy, unhealthy = hosts.get(group, (0, 0))
            for name, value in (("HealthyHostCount", healthy), ("UnHealthyHostCount", unhealthy)):
                found[dimensions.account_region(balancer)].append(
                    Datum(name, dimensions.of(balancer, group), Sample.of([float(value)]), "Count"))
    return dict(found)
