"""The emulated CloudWatch's clock: at the end of every metric period (`metric_period` real seconds, 1 by
default; ALB's is 60 s of AWS time) it publishes the load balancers' metrics of that period into moto's
CloudWatch (directly, not over HTTP), timestamped at the period's start, then evaluates the alarms whose
period has ended."""
from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from ..ecs.health import HealthChecker
from ..elb.proxy import Served
from . import alb, dimensions, periods, store
from .alarms import AlarmEvaluator

TargetGroups = Callable[[], dict[str, set[str]]]  # each load balancer's target groups, by ARN


class CloudWatchEmulation:
    """Metrics from the data plane's requests and the health model; alarms evaluated from the metrics."""

    def __init__(self, health: HealthChecker, time_scale: Callable[[], float], metric_period: float = 1.0) -> None:
        self.health, self.time_scale, self.metric_period = health, time_scale, metric_period
        self.collector = alb.Collector()
        self.alarms = AlarmEvaluator()
        self._groups: TargetGroups = dict
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cloudwatch", daemon=True)

    def observe(self, load_balancer_arn: str, served: Served) -> None:
        """The data plane's observer: one request served by a listener of `load_balancer_arn`."""
        self.collector.observe(load_balancer_arn, served)

    def start(self, target_groups: TargetGroups) -> "CloudWatchEmulation":
        self._groups = target_groups
        self._thread.start()
        return self

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No publishing or evaluating meanwhile (while the world resets); what was pending is dropped."""
        with self._lock:
            yield
            self.collector.take()
            self.alarms.reset()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def tick(self, end: float) -> None:
        """The metric period ending at `end` is over: publish it, then evaluate the alarms."""
        with self._lock:
            served = self.collector.take()
            groups = self._groups()
            hosts = {group: self._hosts(group) for names in groups.values() for group in names}
            for (account, region), data in alb.datapoints(served, groups, hosts).items():
                store.put(account, region, dimensions.NAMESPACE, end - self.metric_period, data)
            self.alarms.evaluate(end, self.time_scale())

    def _hosts(self, group: str) -> tuple[int, int]:
        states = [target.state for target in self.health.of_group(group)]
        return states.count("healthy"), states.count("unhealthy")

    def _run(self) -> None:
        end = (periods.index_of(time.time(), self.metric_period) + 1) * self.metric_period
        while not self._stop.wait(max(0.0, end - time.time())):
            self.tick(end)
            end += self.metric_period
