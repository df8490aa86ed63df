"""Container health checks (a container definition's `healthCheck`), run by the Docker engine.

Amazon ECS API Reference, "HealthCheck": the command (["CMD", exe, args...] or ["CMD-SHELL", line]) runs in
the container every `interval` seconds (default 30) and fails when it exits non-zero or runs longer than
`timeout` (default 5); the container is UNHEALTHY after `retries` (default 3) consecutive failures, and
failures within `startPeriod` (default 0) do not count. It is UNKNOWN until a check has passed or failed
enough, and when it has no check. This is Docker's HEALTHCHECK, so the engine runs the checks and their
state is read back from `docker inspect`.

Under --time-scale the interval and the start period are scaled (ECS's waits), the interval no shorter
than MIN_INTERVAL (each check starts a process in the container); the timeout is what each check asks of
the app, so it stays real.
"""
from __future__ import annotations

from typing import Any, Callable

DEFAULTS = {"interval": 30, "timeout": 5, "retries": 3, "startPeriod": 0}
MIN_INTERVAL = 1.0           # seconds
_NANOSECONDS = 1_000_000_000
_STATUS = {"healthy": "HEALTHY", "unhealthy": "UNHEALTHY"}


def docker_healthcheck(check: dict[str, Any] | None, seconds: Callable[[float], float]) -> dict[str, Any] | None:
    """Docker's healthcheck for an ECS `healthCheck` (None without one), with ECS's defaults."""
    if not check:
        return None
    settings = {**DEFAULTS, **check}
    start_period = seconds(settings["startPeriod"])
    return {"test": list(check["command"]),
            "interval": int(max(MIN_INTERVAL, seconds(settings["interval"])) * _NANOSECONDS),
            "timeout": int(settings["timeout"] * _NANOSECONDS), "retries": int(settings["retries"]),
            # Docker reads 0 as "inherit the image's"; any other value is at least 1 ms
            "start_period": int(max(0.001, start_period) * _NANOSECONDS) if start_period > 0 else 0}


def ecs_status(docker_status: str | None) -> str:
    """A container's healthStatus from Docker's ("starting", "healthy", "unhealthy" or none)."""
    return _STATUS.get(docker_status or "", "UNKNOWN")
