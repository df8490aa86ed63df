"""Target health from real HTTP health checks, with each target group's own settings.

Elastic Load Balancing (User Guide for Application Load Balancers, "Health checks for your target
groups"): a registered target starts `initial`, becomes `healthy` after HealthyThresholdCount
consecutive successes and `unhealthy` after UnhealthyThresholdCount consecutive failures, each check
a request to HealthCheckPath every HealthCheckIntervalSeconds that must answer within
HealthCheckTimeoutSeconds with a code the Matcher accepts. An unhealthy target's reason is
Target.Timeout ("Request timed out"), Target.ResponseCodeMismatch ("Health checks failed with these
codes: [N]") or, for a refused or dropped connection, Target.FailedHealthChecks ("Health checks
failed"). A deregistered target is `draining` for the group's deregistration delay, then gone.

Under --time-scale the interval and the deregistration delay are scaled (ELB's waits); the timeout
is not: it is what each check asks of the app.

Targets here are 127.0.0.1 and a host port: checks never reach a bridge or ENI address.
"""
from __future__ import annotations

import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable

_REASONS = {
    "initial": ("Elb.RegistrationInProgress", "Target registration is in progress"),
    "draining": ("Target.DeregistrationInProgress", "Target deregistration is in progress"),
}


@dataclass
class TargetGroupSettings:
    path: str
    port: str            # "traffic-port" or a number
    interval: float      # seconds
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    codes: str           # "200", "200-299", "200,302"
    deregistration_delay: float

    def scaled(self, seconds: Callable[[float], float]) -> "TargetGroupSettings":
        """These settings with ELB's waits on the emulation's clock (interval, deregistration delay);
        the timeout is what each check asks of the app, so it stays real."""
        return replace(self, interval=seconds(self.interval),
                       deregistration_delay=seconds(self.deregistration_delay))

    def accepts(self, status: int) -> bool:
        for part in self.codes.split(","):
            low, _, high = part.partition("-")
            if int(low) <= status <= int(high or low):
                return True
        return False


@dataclass
class Target:
    group_arn: str
    port: int
    settings: TargetGroupSettings
    state: str = "initial"
    reason: str | None = "Elb.RegistrationInProgress"
    description: str | None = "Target registration is in progress"
    successes: int = 0
    failures: int = 0
    next_check: float = 0.0
    draining_until: float | None = None
    changed_at: float = field(default_factory=time.time)
    history: list[str] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        health: dict[str, Any] = {"State": self.state}
        if self.reason:
            health["Reason"] = self.reason
        if self.description:
            health["Description"] = self.description
        check_port = str(self.port) if self.settings.port == "traffic-port" else self.settings.port
        return {"Target": {"Id": "127.0.0.1", "Port": self.port}, "HealthCheckPort": check_port,
                "TargetHealth": health}


class HealthChecker:
    """Runs every registered target's checks on its own schedule, in a background thread."""

    def __init__(self) -> None:
        self.targets: dict[tuple[str, int], Target] = {}
        self.lock = threading.RLock()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="healthcheck")
        self._stop = threading.Event()
        self._in_flight: set[tuple[str, int]] = set()
        self._thread = threading.Thread(target=self._run, name="healthchecker", daemon=True)
        self._thread.start()

    def register(self, group_arn: str, port: int, settings: TargetGroupSettings) -> Target:
        with self.lock:
            target = Target(group_arn, port, settings, next_check=time.time() + settings.interval / 2)
            self.targets[(group_arn, port)] = target
            self._changed(target)
            return target

    def deregister(self, group_arn: str, port: int) -> None:
        with self.lock:
            target = self.targets.get((group_arn, port))
            if target is None or target.state == "draining":
                return
            target.draining_until = time.time() + target.settings.deregistration_delay
            self._set(target, "draining", *_REASONS["draining"])

    def forget_group(self, group_arn: str) -> None:
        """Drop a deleted group's targets (DeleteTargetGroup deregisters them, with no draining)."""
        with self.lock:
            for key in [key for key in self.targets if key[0] == group_arn]:
                del self.targets[key]

    def of_group(self, group_arn: str) -> list[Target]:
        with self.lock:
            return [t for (arn, _), t in self.targets.items() if arn == group_arn]

    def state(self, group_arn: str, port: int) -> str:
        with self.lock:
            target = self.targets.get((group_arn, port))
            return target.state if target else "unused"

    def description(self, group_arn: str, port: int) -> str | None:
        """Why the target is in its state, as DescribeTargetHealth words it."""
        with self.lock:
            target = self.targets.get((group_arn, port))
            return target.description if target else None

    def unhealthy_for(self, group_arn: str, port: int) -> float:
        """Seconds the target has been unhealthy (0 when it is not)."""
        with self.lock:
            target = self.targets.get((group_arn, port))
            return time.time() - target.changed_at if target and target.state == "unhealthy" else 0.0

    def clear(self) -> None:
        with self.lock:
            self.targets.clear()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            now = time.time()
            with self.lock:
                for key, target in list(self.targets.items()):
                    if target.draining_until is not None:
                        if now >= target.draining_until:
                            del self.targets[key]
                        continue
                    if now >= target.next_check and key not in self._in_flight:
                        self._in_flight.add(key)
                        target.next_check = now + target.settings.interval
                        self._pool.submit(self._check, key, target)

    def _check(self, key: tuple[str, int], target: Target) -> None:
        settings = target.settings
        port = target.port if settings.port == "traffic-port" else int(settings.port)
        timed_out = False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{settings.path}",
                                        timeout=settings.timeout) as response:
                response.read()
                status: int | None = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except urllib.error.URLError as error:
            status, timed_out = None, isinstance(error.reason, TimeoutError)
        except TimeoutError:
            status, timed_out = None, True
        except OSError:
            status = None
        with self.lock:
            self._in_flight.discard(key)
            if self.targets.get(key) is not target or target.draining_until is not None:
                return
            if status is not None and settings.accepts(status):
                target.successes, target.failures = target.successes + 1, 0
                if target.state != "healthy" and target.successes >= settings.healthy_threshold:
                    self._set(target, "healthy", None, None)
            else:
                target.failures, target.successes = target.failures + 1, 0
                if target.state != "unhealthy" and target.failures >= settings.unhealthy_threshold:
                    if timed_out:
                        self._set(target, "unhealthy", "Target.Timeout", "Request timed out")
                    elif status is None:
                        self._set(target, "unhealthy", "Target.FailedHealthChecks", "Health checks failed")
                    else:
                        self._set(target, "unhealthy", "Target.ResponseCodeMismatch",
                                  f"Health checks failed with these codes: [{status}]")

    def _set(self, target: Target, state: str, reason: str | None, description: str | None) -> None:
        target.state, target.reason, target.description = state, reason, description
        self._changed(target)

    def _changed(self, target: Target) -> None:
        target.changed_at = time.time()
        target.history.append(target.state)
