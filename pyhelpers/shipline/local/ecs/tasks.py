"""The task lifecycle ("Amazon ECS task lifecycle"): launch, start, follow, stop.

A task is PROVISIONING, then PENDING while its images are pulled and its containers created, RUNNING
once they run (a service's task then registers its targets), DEACTIVATING while its targets drain
after a stop, STOPPING while its containers get SIGTERM (SIGKILL after the stop timeout), STOPPED.
A task that cannot start stops with TaskFailedToStart and ECS's reason (CannotPullContainerError,
ResourceInitializationError for a missing log group, CannotStartContainerError); an essential
container that exits stops its task (EssentialContainerExited). Output lines of containers with the
awslogs driver reach their CloudWatch Logs stream before the task is STOPPED. Containers with a
`healthCheck` report the health Docker finds (container_health.py); such a task is healthy only once
HEALTHY.
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from . import bridge
from .container_health import docker_healthcheck, ecs_status
from .containers import ContainerRunner, PullFailed
from .health import HealthChecker
from .model import ContainerRecord, ServiceSim, TaskRecord, now

HEALTH_POLL_SECONDS = 0.5  # how often a checked container's health is read back from Docker


class TaskLifecycle:
    """Every task of the emulation, as real containers on the local engine, and their targets' health."""

    def __init__(self, lock: threading.RLock, services: dict[str, ServiceSim], seconds: Callable[[float], float],
                 registry_auth: Callable[[str], dict[str, str] | None], world_id: str) -> None:
        self.lock = lock
        self.services = services
        self.seconds = seconds
        self.tasks: dict[str, TaskRecord] = {}
        self.health = HealthChecker()
        self.runner = ContainerRunner(registry_auth, world_id)
        self._followers: dict[str, list[threading.Thread]] = {}
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ecs-task")

    def clear(self) -> None:
        self.tasks.clear()
        self.health.clear()

    def close(self) -> None:
        self.health.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.runner.close()

    # --- queries ----------------------------------------------------------------------------------------
    def find(self, reference: str) -> TaskRecord | None:
        return next((t for arn, t in self.tasks.items() if arn == reference or t.id == reference), None)

    def of_service(self, sim: ServiceSim, deployment_id: str | None = None) -> list[TaskRecord]:
        """The service's tasks not yet STOPPED (of one deployment when given)."""
        return [t for t in self.tasks.values() if t.service_key == sim.key and t.alive
                and (deployment_id is None or t.deployment_id == deployment_id)]

    def healthy(self, task: TaskRecord) -> bool:
        """RUNNING, HEALTHY when its containers have health checks and, behind a load balancer, healthy in
        every target group."""
        if task.last_status != "RUNNING" or task.desired_status != "RUNNING":
            return False
        if task.health_checked and task.health_status != "HEALTHY":
            return False
        if task.expects_targets and not task.targets:
            return False
        return all(self.health.state(arn, port) == "healthy" for arn, port in task.targets)

    def targets_of(self, group_arn: str) -> list[dict[str, Any]]:
        return [t.to_api() for t in self.health.of_group(group_arn)]

    # --- launch and start -------------------------------------------------------------------------------
    def launch(self, account: str, region: str, cluster: str, cluster_arn: str, definition: bridge.TaskDefinition,
               group: str, started_by: str, launch_type: str, overrides: dict[str, Any],
               sim: ServiceSim | None = None, deployment_id: str | None = None) -> TaskRecord:
        """A new PROVISIONING task; its containers start on a pool thread."""
        task_id = uuid.uuid4().hex
        containers = [ContainerRecord(c["name"], c["image"], c.get("essential", True), log_options=_awslogs(c),
                                      health_checked=bool(c.get("healthCheck"))) for c in definition.containers]
        task = TaskRecord(arn=f"arn:aws:ecs:{region}:{account}:task/{cluster}/{task_id}", cluster_arn=cluster_arn,
                          cluster=cluster, account=account, region=region, task_definition_arn=definition.arn,
                          group=group, started_by=started_by, launch_type=launch_type, containers=containers,
                          overrides=overrides, service_key=sim.key if sim else None, deployment_id=deployment_id,
                          expects_targets=bool(sim and sim.load_balancers))
        self.tasks[task.arn] = task
        self._pool.submit(self._start, task, definition.containers)
        return task

    def _start(self, task: TaskRecord, definitions: list[dict[str, Any]]) -> None:
        """Pull, create and start the task's containers (a pool thread); stop it with ECS's reasons."""
        with self.lock:
            task.last_status, task.pull_started_at = "PENDING", now()
        try:
            for image in dict.fromkeys(c["image"] for c in definitions):
                self.runner.pull(image)
            missing = [c.log_options["awslogs-group"] for c in task.containers
                       if c.log_options and not self._log_group_ready(task, c.log_options)]
            if missing:
                raise _StartFailed("ResourceInitializationError: failed to validate logger args: The specified "
                                   f"log group does not exist: {missing[0]}")
            checks = {c["name"]: docker_healthcheck(c.get("healthCheck"), self.seconds) for c in definitions}
            started = self.runner.start(task.arn, task.id, definitions, task.overrides, checks)
        except PullFailed as error:
            self._failed_to_start(task, f"CannotPullContainerError: {error}")
            return
        except _StartFailed as error:
            self._failed_to_start(task, str(error))
            return
        except Exception as error:  # Docker refused to create or start a container
            self._failed_to_start(task, f"CannotStartContainerError: {error}")
            return
        with self.lock:
            task.pull_stopped_at = now()
            for container in task.containers:
                container.docker_id = started.container_ids[container.name]
                container.last_status = "RUNNING"
            task.host_ports = started.host_ports
            self._followers[task.arn] = [self._follow(task, c) for c in task.containers]
            for container in task.containers:
                if container.health_checked:
                    self._watch_health(task, container)
            if task.desired_status == "STOPPED":  # stopped while it was starting
                task.stop_at = time.time()
                return
            task.last_status, task.started_at = "RUNNING", now()
            sim = self.services.get(task.service_key or "")
            if sim is not None:
                self._register_targets(sim, task)

    def _failed_to_start(self, task: TaskRecord, reason: str) -> None:
        with self.lock:
            for container in task.containers:
                container.last_status, container.reason = "STOPPED", reason
            task.desired_status, task.stopped_reason, task.stop_code = "STOPPED", reason, "TaskFailedToStart"
            task.stopping_at = task.stopped_at = now()
            task.last_status = "STOPPED"

    def _register_targets(self, sim: ServiceSim, task: TaskRecord) -> None:
        for lb in sim.load_balancers:
            group_arn = lb.get("targetGroupArn", "")
            settings = bridge.health_settings(task.account, task.region, group_arn)
            port = task.host_ports.get(int(lb.get("containerPort", 0)))
            if settings is None or port is None:
                continue
            self.health.register(group_arn, port, settings.scaled(self.seconds))
            task.targets.append((group_arn, port))
            sim.event(f"registered 1 targets in (target-group {group_arn})")

    # --- running --------------------------------------------------------------------------------------
    def _follow(self, task: TaskRecord, container: ContainerRecord) -> threading.Thread:
        def run() -> None:
            on_lines = (lambda lines: self._write_logs(task, container, lines)) if container.log_options \
                else (lambda lines: None)
            code = self.runner.follow(container.docker_id, on_lines)
            with self.lock:
                container.exit_code, container.last_status = code, "STOPPED"
                if task.desired_status == "RUNNING" and container.essential:
                    self.begin_stop(task, "Essential container in task exited", "EssentialContainerExited")
                    task.stop_at = time.time()

        thread = threading.Thread(target=run, name=f"follow-{task.id[:8]}-{container.name}", daemon=True)
        thread.start()
        return thread

    def _watch_health(self, task: TaskRecord, container: ContainerRecord) -> None:
        """Read the container's health back from Docker until it stops (or the task is forgotten)."""
        def run() -> None:
            while container.last_status != "STOPPED" and self.tasks.get(task.arn) is task:
                status = ecs_status(self.runner.health(container.docker_id or ""))
                with self.lock:
                    if container.last_status != "STOPPED":
                        container.health_status = status
                time.sleep(HEALTH_POLL_SECONDS)

        threading.Thread(target=run, name=f"health-{task.id[:8]}-{container.name}", daemon=True).start()

    def _log_group_ready(self, task: TaskRecord, options: dict[str, str]) -> bool:
        return bridge.log_group_ready(task.account, options.get("awslogs-region", task.region),
                                      options["awslogs-group"], options.get("awslogs-create-group") == "true")

    def _write_logs(self, task: TaskRecord, container: ContainerRecord, lines: list[tuple[int, str]]) -> None:
        options = container.log_options or {}
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container.name}/{task.id}" if prefix else task.id
        with self.lock:
            if self.tasks.get(task.arn) is not task:
                return  # forgotten by a reset of the local world
            bridge.put_log_lines(task.account, options.get("awslogs-region", task.region),
                                 options["awslogs-group"], stream, lines)

    # --- stop -----------------------------------------------------------------------------------------
    def begin_stop(self, task: TaskRecord, reason: str, stop_code: str) -> None:
        """ECS's stop: deregister targets (draining), then stop the containers after the delay."""
        if task.desired_status == "STOPPED":
            return
        task.desired_status, task.stopped_reason, task.stop_code = "STOPPED", reason, stop_code
        task.stopping_at = now()
        if task.last_status in ("PROVISIONING", "PENDING"):
            return  # _start sees it and stops what it started
        task.last_status = "DEACTIVATING"
        delay = 0.0
        sim = self.services.get(task.service_key or "")
        for group_arn, port in task.targets:
            self.health.deregister(group_arn, port)
            delay = max(delay, self.seconds(bridge.deregistration_delay(task.account, task.region, group_arn)))
            if sim is not None:
                sim.event(f"deregistered 1 targets in (target-group {group_arn})")
        task.stop_at = time.time() + delay

    def finish_stops(self) -> None:
        """Stop the containers of tasks whose targets are drained."""
        for task in list(self.tasks.values()):
            if task.last_status in ("DEACTIVATING", "RUNNING", "PENDING") and task.desired_status == "STOPPED" \
                    and task.stop_at is not None and time.time() >= task.stop_at:
                task.last_status, task.stop_at = "STOPPING", None
                self._pool.submit(self._stop_containers, task)

    def _stop_containers(self, task: TaskRecord) -> None:
        ids = [c.docker_id for c in task.containers if c.docker_id]
        self.runner.stop(ids, timeout=self.seconds(30))
        for thread in self._followers.pop(task.arn, []):
            thread.join(timeout=30)  # every log line is in CloudWatch Logs before the task is STOPPED
        with self.lock:
            task.last_status, task.stopped_at = "STOPPED", now()
            sim = self.services.get(task.service_key or "")
            if sim is not None and task.stop_code == "ServiceSchedulerInitiated":
                sim.event(f"has stopped 1 running tasks: (task {task.id}).")
        self.runner.remove(ids)


class _StartFailed(Exception):
    pass


def _awslogs(container: dict[str, Any]) -> dict[str, str] | None:
    config = container.get("logConfiguration") or {}
    return dict(config.get("options") or {}) if config.get("logDriver") == "awslogs" else None
