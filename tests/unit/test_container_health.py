"""The local ECS's container health checks: ECS's healthCheck as Docker's, and ECS's task health rule."""
from __future__ import annotations

import pytest

from shipline.local.ecs.container_health import docker_healthcheck, ecs_status
from shipline.local.ecs.model import ContainerRecord, TaskRecord

SECOND = 1_000_000_000  # Docker's durations are nanoseconds


def test_no_health_check_is_none() -> None:
    assert docker_healthcheck(None, lambda s: s) is None
    assert docker_healthcheck({}, lambda s: s) is None


def test_ecs_defaults_apply_in_real_time() -> None:
    assert docker_healthcheck({"command": ["CMD-SHELL", "true"]}, lambda s: s) == {
        "test": ["CMD-SHELL", "true"], "interval": 30 * SECOND, "timeout": 5 * SECOND, "retries": 3,
        "start_period": 0}


def test_a_time_scale_shortens_ecs_waits_never_the_timeout_asked_of_the_app() -> None:
    check = {"command": ["CMD", "/bin/check"], "interval": 60, "timeout": 2, "retries": 2, "startPeriod": 40}
    docker = docker_healthcheck(check, lambda s: s * 0.05)
    assert (docker["interval"], docker["timeout"], docker["retries"], docker["start_period"]) == (
        3 * SECOND, 2 * SECOND, 2, 2 * SECOND)
    assert docker_healthcheck({**check, "interval": 5}, lambda s: s * 0.05)["interval"] == SECOND  # the floor


@pytest.mark.parametrize("docker, ecs", [(None, "UNKNOWN"), ("starting", "UNKNOWN"), ("healthy", "HEALTHY"),
                                         ("unhealthy", "UNHEALTHY")])
def test_docker_health_maps_to_ecs_health_status(docker: str | None, ecs: str) -> None:
    assert ecs_status(docker) == ecs


def _task(*containers: tuple[bool, bool, str]) -> TaskRecord:
    """A task of (essential, checked, health status) containers."""
    records = [ContainerRecord(f"c{i}", "image", essential, health_checked=checked, health_status=status)
               for i, (essential, checked, status) in enumerate(containers)]
    return TaskRecord("arn:aws:ecs:us-east-1:1:task/c/t", "cluster", "c", "1", "us-east-1", "td", "group", "",
                      "FARGATE", records)


@pytest.mark.parametrize("containers, expected", [
    ([(True, False, "UNKNOWN")], "UNKNOWN"),                                     # no health check
    ([(True, True, "UNKNOWN")], "UNKNOWN"),                                      # still being evaluated
    ([(True, True, "HEALTHY"), (True, True, "UNKNOWN")], "UNKNOWN"),
    ([(True, True, "HEALTHY"), (True, False, "UNKNOWN")], "HEALTHY"),            # only checked ones count
    ([(True, True, "HEALTHY"), (True, True, "UNHEALTHY")], "UNHEALTHY"),
    ([(True, True, "HEALTHY"), (False, True, "UNHEALTHY")], "HEALTHY"),          # a non-essential one: ignored
    ([(True, False, "UNKNOWN"), (False, True, "UNHEALTHY")], "UNHEALTHY"),       # unless no essential is checked
])
def test_a_task_is_as_healthy_as_its_checked_essential_containers(containers: list, expected: str) -> None:
    task = _task(*containers)
    assert task.health_status == expected and task.to_api()["healthStatus"] == expected
    assert task.health_checked == any(checked for _, checked, _ in containers)
