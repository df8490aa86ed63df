"""The ECS service scheduler moto lacks: deployments that move, real tasks, a real circuit breaker.

Behaviour reproduced (Amazon ECS Developer Guide, "Deploy Amazon ECS services by replacing tasks",
"How the Amazon ECS deployment circuit breaker detects failures", "Amazon ECS task lifecycle"):
- UpdateService with a new task definition (or forceNewDeployment) creates a PRIMARY deployment; the
  previous one becomes ACTIVE and drains. Running plus pending tasks never exceed
  maximumPercent of the desired count; healthy tasks never drop below minimumHealthyPercent.
- A task is healthy when RUNNING and, behind a load balancer, healthy in every target group.
- Tasks that stop on their own or fail ELB health checks count as failed tasks of their deployment;
  at max(3, min(200, ceil(0.5 × desired))) failures the circuit breaker marks the deployment FAILED
  ("ECS deployment circuit breaker: tasks failed to start.") and, with rollback on, a new PRIMARY
  deployment returns to the last completed one ("...rolling back to deploymentId ecs-svc/...").
- With deployment alarms enabled, an alarm in ALARM while the deployment runs fails it the same way.
- A deployment is COMPLETED when its desired count of tasks is healthy and no other deployment has
  a task left; service events tell each step, newest first.
Every change is appended to an emulation log so tests can check invariants over a whole rollout.
"""
from __future__ import annotations

import math
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .containers import ContainerRunner, PullFailed
from .health import HealthChecker, Target, settings_of
from .model import ContainerRecord, Deployment, TaskRecord, new_deployment_id, now

if TYPE_CHECKING:
    from ..ecr import EcrEmulation

DEFAULT_CONFIGURATION = {"maximumPercent": 200, "minimumHealthyPercent": 100,
                         "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
_STOPPED_ON_ITS_OWN = ("EssentialContainerExited", "TaskFailedToStart")


@dataclass
class ServiceSim:
    """The scheduler's view of one ECS-controller service."""

    account: str
    region: str
    cluster: str
    name: str
    moto: Any
    configuration: dict[str, Any]
    load_balancers: list[dict[str, Any]]
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    last_completed: Deployment | None = None

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    @property
    def desired(self) -> int:
        return int(self.moto.desired_count or 0)

    def event(self, message: str) -> None:
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": now(),
                               "message": f"(service {self.name}) {message}"})
        del self.events[100:]


class EcsEmulation:
    """Drives moto's ECS services the way ECS would, with tasks as containers on the local engine."""

    def __init__(self, ecr: "EcrEmulation", time_scale: float = 0.1) -> None:
        self.ecr = ecr
        self.time_scale = self._default_scale = time_scale
        self.lock = threading.RLock()
        self.services: dict[str, ServiceSim] = {}
        self.tasks: dict[str, TaskRecord] = {}
        self.log: list[dict[str, Any]] = []
        self._followers: dict[str, list[threading.Thread]] = {}
        self._last_logged: dict[str, Any] = {}
        self.health = HealthChecker(on_change=self._on_target_change)
        self.runner = ContainerRunner(registry_auth=self._auth_for)
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ecs-task")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecs-scheduler", daemon=True)

    def start(self) -> "EcsEmulation":
        from .patches import install

        install(self)
        self._thread.start()
        return self

    def reset(self) -> None:
        """Forget every service and task; their containers are removed by the world's reset."""
        with self.lock:
            self.services.clear()
            self.tasks.clear()
            self.log.clear()
            self._last_logged.clear()
            self.health.clear()
            self.time_scale = self._default_scale

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.health.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.runner.close()

    def seconds(self, value: float) -> float:
        """A duration of real ECS or ELB time, on the emulation's clock."""
        return value * self.time_scale

    # --- services -------------------------------------------------------------------------------------
    def service_created(self, backend: Any, moto_service: Any, configuration: dict[str, Any] | None) -> None:
        if moto_service.deployment_controller.get("type", "ECS") != "ECS":
            return
        moto_service.deployment_configuration = _merged(configuration)
        sim = ServiceSim(backend.account_id, backend.region_name, moto_service.cluster_name, moto_service.name,
                         moto_service, moto_service.deployment_configuration, moto_service.load_balancers or [])
        with self.lock:
            self.services[_key(sim.account, sim.region, sim.cluster, sim.name)] = sim
            sim.deployments.append(Deployment(new_deployment_id(), moto_service.task_definition, sim.desired,
                                              moto_service.launch_type or "EC2",
                                              network_configuration=moto_service.network_configuration or None))
            self._sync(sim)

    def service_updated(self, backend: Any, moto_service: Any, previous_definition: str | None,
                        configuration: dict[str, Any] | None, force: bool) -> None:
        sim = self.services.get(_key(backend.account_id, backend.region_name, moto_service.cluster_name,
                                     moto_service.name))
        if sim is None:
            return
        with self.lock:
            if configuration is not None:
                sim.configuration = moto_service.deployment_configuration = _merged(configuration)
            definition = _definition_arn(backend, moto_service.task_definition)
            moto_service.task_definition = definition
            if definition != previous_definition or force:
                sim.primary.status = "ACTIVE"
                sim.deployments.insert(0, Deployment(new_deployment_id(), definition, sim.desired,
                                                     moto_service.launch_type or "EC2",
                                                     network_configuration=moto_service.network_configuration or None))
            sim.primary.desired_count = sim.desired
            sim.primary.updated_at = now()
            self._sync(sim)

    def service_deleted(self, backend: Any, moto_service: Any) -> None:
        with self.lock:
            sim = self.services.pop(_key(backend.account_id, backend.region_name, moto_service.cluster_name,
                                         moto_service.name), None)
            if sim is not None:
                for task in self._tasks_of(sim):
                    self._begin_stop(task, "Service deleted", "ServiceSchedulerInitiated")

    def sync(self, backend: Any, cluster: str, names: list[str]) -> None:
        """Bring moto's service objects up to date before they are described."""
        with self.lock:
            for name in names:
                sim = self.services.get(_key(backend.account_id, backend.region_name, cluster,
                                             name.split("/")[-1]))
                if sim is not None:
                    self._sync(sim)

    # --- one-off tasks (RunTask) and tasks in general ------------------------------------------------
    def run_task(self, backend: Any, cluster: Any, definition: Any, count: int, started_by: str,
                 group: str | None, launch_type: str, overrides: dict[str, Any]) -> list[TaskRecord]:
        with self.lock:
            return [self._launch(backend.account_id, backend.region_name, cluster.name, cluster.arn, definition,
                                 group or f"family:{definition.family}", started_by, launch_type, overrides)
                    for _ in range(count)]

    def stop_task(self, task: TaskRecord, reason: str) -> None:
        with self.lock:
            self._begin_stop(task, reason, "UserInitiated")

    def find_task(self, reference: str) -> TaskRecord | None:
        with self.lock:
            return next((t for arn, t in self.tasks.items() if arn == reference or t.id == reference), None)

    def _launch(self, account: str, region: str, cluster: str, cluster_arn: str, definition: Any, group: str,
                started_by: str, launch_type: str, overrides: dict[str, Any], service_key: str | None = None,
                deployment_id: str | None = None) -> TaskRecord:
        task_id = uuid.uuid4().hex
        containers = [ContainerRecord(c["name"], c["image"], c.get("essential", True),
                                      log_options=_awslogs(c)) for c in definition.container_definitions]
        sim = self.services.get(service_key or "")
        task = TaskRecord(arn=f"arn:aws:ecs:{region}:{account}:task/{cluster}/{task_id}", cluster_arn=cluster_arn,
                          cluster=cluster, account=account, region=region, task_definition_arn=definition.arn,
                          group=group, started_by=started_by, launch_type=launch_type, containers=containers,
                          overrides=overrides, service_key=service_key, deployment_id=deployment_id,
                          expects_targets=bool(sim and sim.load_balancers))
        self.tasks[task.arn] = task
        self._pool.submit(self._start_task, task, definition.container_definitions)
        return task

    def _start_task(self, task: TaskRecord, definitions: list[dict[str, Any]]) -> None:
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
            started = self.runner.start(task.arn, task.id, definitions, task.overrides)
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

    def _follow(self, task: TaskRecord, container: ContainerRecord) -> threading.Thread:
        def run() -> None:
            on_lines = (lambda lines: self._write_logs(task, container, lines)) if container.log_options \
                else (lambda lines: None)
            code = self.runner.follow(container.docker_id, on_lines)
            with self.lock:
                container.exit_code, container.last_status = code, "STOPPED"
                if task.desired_status == "RUNNING" and container.essential:
                    self._begin_stop(task, "Essential container in task exited", "EssentialContainerExited")
                    task.stop_at = time.time()

        thread = threading.Thread(target=run, name=f"follow-{task.id[:8]}-{container.name}", daemon=True)
        thread.start()
        return thread

    def _begin_stop(self, task: TaskRecord, reason: str, stop_code: str) -> None:
        """ECS's stop: deregister targets (draining), then stop the containers after the delay."""
        if task.desired_status == "STOPPED":
            return
        task.desired_status, task.stopped_reason, task.stop_code = "STOPPED", reason, stop_code
        task.stopping_at = now()
        if task.last_status in ("PROVISIONING", "PENDING"):
            return  # _start_task sees it and stops what it started
        task.last_status = "DEACTIVATING"
        delay = 0.0
        sim = self.services.get(task.service_key or "")
        for group_arn, port in task.targets:
            self.health.deregister(group_arn, port)
            delay = max(delay, self._deregistration_delay(task, group_arn))
            if sim is not None:
                sim.event(f"deregistered 1 targets in (target-group {group_arn})")
        task.stop_at = time.time() + delay

    def _finish_stops(self) -> None:
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

    # --- load balancer targets -------------------------------------------------------------------------
    def _register_targets(self, sim: ServiceSim, task: TaskRecord) -> None:
        from moto.elbv2.models import elbv2_backends

        groups = elbv2_backends[sim.account][sim.region].target_groups
        for lb in sim.load_balancers:
            group = groups.get(lb.get("targetGroupArn", ""))
            port = task.host_ports.get(int(lb.get("containerPort", 0)))
            if group is None or port is None:
                continue
            self.health.register(group.arn, port, settings_of(group, self.time_scale))
            task.targets.append((group.arn, port))
            sim.event(f"registered 1 targets in (target-group {group.arn})")

    def _deregistration_delay(self, task: TaskRecord, group_arn: str) -> float:
        from moto.elbv2.models import elbv2_backends

        group = elbv2_backends[task.account][task.region].target_groups.get(group_arn)
        delay = float(group.attributes.get("deregistration_delay.timeout_seconds", 300)) if group else 0.0
        return self.seconds(delay)

    def _on_target_change(self, target: Target) -> None:
        pass  # the scheduler reads target states on its next tick

    def targets_of(self, group_arn: str) -> list[dict[str, Any]]:
        return [t.to_api() for t in self.health.of_group(group_arn)]

    def _healthy(self, task: TaskRecord) -> bool:
        if task.last_status != "RUNNING" or task.desired_status != "RUNNING":
            return False
        if task.expects_targets and not task.targets:
            return False
        return all(self.health.state(arn, port) == "healthy" for arn, port in task.targets)

    # --- CloudWatch Logs -------------------------------------------------------------------------------
    def _log_group_ready(self, task: TaskRecord, options: dict[str, str]) -> bool:
        from moto.logs.models import logs_backends

        backend = logs_backends[task.account][options.get("awslogs-region", task.region)]
        group = options["awslogs-group"]
        if group not in backend.groups and options.get("awslogs-create-group") == "true":
            backend.create_log_group(group, tags={})
        return group in backend.groups

    def _write_logs(self, task: TaskRecord, container: ContainerRecord, lines: list[tuple[int, str]]) -> None:
        from moto.logs.exceptions import ResourceNotFoundException
        from moto.logs.models import logs_backends

        options = container.log_options or {}
        backend = logs_backends[task.account][options.get("awslogs-region", task.region)]
        prefix = options.get("awslogs-stream-prefix")
        stream = f"{prefix}/{container.name}/{task.id}" if prefix else task.id
        with self.lock:
            if self.tasks.get(task.arn) is not task:
                return  # forgotten by a reset of the local world
            try:
                backend.ensure_log_stream(options["awslogs-group"], stream)
                backend.put_log_events(options["awslogs-group"], stream,
                                       [{"timestamp": ms, "message": text} for ms, text in lines])
            except ResourceNotFoundException:
                pass  # the log group was deleted while the task ran: the ECS agent drops the lines too

    def _auth_for(self, image: str) -> dict[str, str] | None:
        """Credentials for pulling `image` from a local ECR front, as the ECS agent gets them."""
        host = image.split("/", 1)[0]
        for (account, region), front in list(self.ecr.fronts.items()):
            if front.address == host:
                import base64

                token = self.ecr.issue_token(account, region)["authorizationToken"]
                user, _, password = base64.b64decode(token).decode().partition(":")
                return {"username": user, "password": password}
        return None

    # --- the control loop ------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            with self.lock:
                self._finish_stops()
                for sim in list(self.services.values()):
                    self._reconcile(sim)

    def _tasks_of(self, sim: ServiceSim, deployment: Deployment | None = None) -> list[TaskRecord]:
        key = _key(sim.account, sim.region, sim.cluster, sim.name)
        return [t for t in self.tasks.values() if t.service_key == key and t.alive
                and (deployment is None or t.deployment_id == deployment.id)]

    def _reconcile(self, sim: ServiceSim) -> None:
        """One scheduler step for one service."""
        self._stop_unhealthy(sim)
        self._count_failures(sim)
        self._circuit_breaker(sim)
        self._deployment_alarms(sim)
        self._replace_tasks(sim)
        self._complete(sim)
        self._sync(sim)

    def _stop_unhealthy(self, sim: ServiceSim) -> None:
        """Replace tasks whose targets stay unhealthy (the scheduler notices on its next health poll,
        one health-check interval later: until then DescribeTargetHealth shows them unhealthy)."""
        grace = self.seconds(10)
        for task in self._tasks_of(sim):
            if task.desired_status != "RUNNING":
                continue
            bad = next((arn for arn, port in task.targets if self.health.unhealthy_for(arn, port) > grace), None)
            if bad is not None:
                sim.event(f"(task {task.id}) failed ELB health checks in (target-group {bad})")
                self._begin_stop(task, f"Task failed ELB health checks in (target-group {bad})",
                                 "ServiceSchedulerInitiated")

    def _count_failures(self, sim: ServiceSim) -> None:
        key = _key(sim.account, sim.region, sim.cluster, sim.name)
        for task in self.tasks.values():
            if task.service_key != key or task.failure_counted or task.desired_status != "STOPPED":
                continue
            failed = task.stop_code in _STOPPED_ON_ITS_OWN or \
                (task.stopped_reason or "").startswith("Task failed ELB health checks")
            if not failed:
                continue
            task.failure_counted = True
            deployment = next((d for d in sim.deployments if d.id == task.deployment_id), None)
            if deployment is not None and deployment.rollout_state == "IN_PROGRESS":
                deployment.failed_tasks += 1
                deployment.updated_at = now()

    def _circuit_breaker(self, sim: ServiceSim) -> None:
        primary = sim.primary
        breaker = sim.configuration.get("deploymentCircuitBreaker") or {}
        threshold = min(200, max(3, math.ceil(0.5 * sim.desired)))
        if breaker.get("enable") and primary.rollout_state == "IN_PROGRESS" and primary.failed_tasks >= threshold:
            self._fail(sim, "ECS deployment circuit breaker: tasks failed to start.",
                       "deployment failed: tasks failed to start.", bool(breaker.get("rollback")))

    def _deployment_alarms(self, sim: ServiceSim) -> None:
        """Deployment alarms: an alarm in ALARM while the deployment runs fails it (their state is set
        through the CloudWatch API until alarms are evaluated from metrics)."""
        alarms = sim.configuration.get("alarms") or {}
        if not alarms.get("enable") or sim.primary.rollout_state != "IN_PROGRESS":
            return
        from moto.cloudwatch.models import cloudwatch_backends

        known = cloudwatch_backends[sim.account][sim.region].alarms
        firing = [name for name in alarms.get("alarmNames", []) if name in known
                  and known[name].state_value == "ALARM"]
        if firing:
            self._fail(sim, f"ECS deployment alarm(s) detected: {', '.join(firing)} in ALARM state.",
                       "deployment failed: alarm detected.", bool(alarms.get("rollback")))

    def _fail(self, sim: ServiceSim, reason: str, event: str, rollback: bool) -> None:
        """Mark the PRIMARY deployment FAILED; with rollback, a new PRIMARY returns to the last
        completed deployment and adopts its tasks."""
        primary = sim.primary
        primary.rollout_state, primary.rollout_state_reason, primary.updated_at = "FAILED", reason, now()
        sim.event(f"(deployment {primary.id}) {event}")
        stable = sim.last_completed
        if not rollback or stable is None:
            return
        rollback_to = Deployment(new_deployment_id(), stable.task_definition, sim.desired, primary.launch_type,
                                 rollout_state_reason="ECS deployment circuit breaker: rolling back to "
                                                      f"deploymentId {stable.id}.",
                                 network_configuration=primary.network_configuration)
        primary.status = "ACTIVE"
        for old in [d for d in sim.deployments if d.task_definition == stable.task_definition]:
            for task in self._tasks_of(sim, old):
                task.deployment_id = rollback_to.id  # ECS keeps the stable tasks: they are the rollback's
            sim.deployments.remove(old)
        sim.deployments.insert(0, rollback_to)
        sim.moto.task_definition = stable.task_definition
        sim.event(f"rolling back to deployment {stable.id}.")

    def _replace_tasks(self, sim: ServiceSim) -> None:
        """Stop old tasks and start new ones within minimumHealthyPercent and maximumPercent."""
        desired, primary = sim.desired, sim.primary
        max_total = math.floor(desired * int(sim.configuration.get("maximumPercent", 200)) / 100)
        min_healthy = math.ceil(desired * int(sim.configuration.get("minimumHealthyPercent", 100)) / 100)
        running = [t for t in self._tasks_of(sim) if t.desired_status == "RUNNING"]
        old = [t for t in running if t.deployment_id != primary.id]
        healthy = sum(1 for t in running if self._healthy(t))
        for task in sorted(old, key=self._healthy):  # unhealthy old tasks first: they cost nothing
            if not self._healthy(task):
                self._begin_stop(task, "Scaling activity initiated by (deployment "
                                       f"{primary.id})", "ServiceSchedulerInitiated")
            elif healthy - 1 >= min_healthy and primary.rollout_state != "FAILED":
                healthy -= 1
                self._begin_stop(task, f"Scaling activity initiated by (deployment {primary.id})",
                                 "ServiceSchedulerInitiated")
        mine = [t for t in running if t.deployment_id == primary.id]
        extra = len(mine) - desired
        for task in sorted(mine, key=self._healthy)[:max(0, extra)]:
            self._begin_stop(task, "Scaling activity initiated by (service scaling)", "ServiceSchedulerInitiated")
        if primary.rollout_state == "FAILED":
            return  # a failed deployment launches nothing more
        alive = len(self._tasks_of(sim))
        room = min(max_total - alive, desired - len(mine))
        if room <= 0:
            return
        from moto.ecs.models import ecs_backends

        backend = ecs_backends[sim.account][sim.region]
        definition = backend.describe_task_definition(primary.task_definition)
        cluster = backend.clusters[sim.cluster]
        started = [self._launch(sim.account, sim.region, sim.cluster, cluster.arn, definition,
                                f"service:{sim.name}", primary.id, primary.launch_type, {},
                                service_key=_key(sim.account, sim.region, sim.cluster, sim.name),
                                deployment_id=primary.id) for _ in range(room)]
        sim.event(f"has started {len(started)} tasks: {' '.join(f'(task {t.id})' for t in started)}.")

    def _complete(self, sim: ServiceSim) -> None:
        primary = sim.primary
        for deployment in sim.deployments[1:]:  # drained ones go; a FAILED one stays until the end
            if deployment.rollout_state != "FAILED" and not self._tasks_of(sim, deployment):
                sim.deployments.remove(deployment)
        if primary.rollout_state != "IN_PROGRESS" or any(self._tasks_of(sim, d) for d in sim.deployments[1:]):
            return
        mine = self._tasks_of(sim, primary)
        if len(mine) == sim.desired and all(self._healthy(t) for t in mine):
            sim.deployments[1:] = []
            primary.rollout_state = "COMPLETED"
            primary.rollout_state_reason = f"ECS deployment {primary.id} completed."
            primary.updated_at = now()
            sim.last_completed = primary
            sim.event(f"(deployment {primary.id}) deployment completed.")
            sim.event("has reached a steady state.")

    def _sync(self, sim: ServiceSim) -> None:
        """Write the scheduler's state into moto's service object (what DescribeServices returns)."""
        rows, totals = [], {"running": 0, "pending": 0, "healthy": 0, "alive": 0}
        for deployment in sim.deployments:
            tasks = self._tasks_of(sim, deployment)
            running = sum(1 for t in tasks if t.last_status == "RUNNING")
            pending = sum(1 for t in tasks if t.last_status in ("PROVISIONING", "PENDING"))
            healthy = sum(1 for t in tasks if self._healthy(t))
            if deployment is not sim.primary:
                deployment.desired_count = sum(1 for t in tasks if t.desired_status == "RUNNING")
            rows.append((deployment, running, pending, healthy))
            for name, value in (("running", running), ("pending", pending), ("healthy", healthy),
                                ("alive", len(tasks))):
                totals[name] += value
        sim.moto.deployments = [d.to_api(running, pending) for d, running, pending, _ in rows]
        sim.moto.running_count, sim.moto.pending_count = totals["running"], totals["pending"]
        sim.moto.events = sim.events
        summary = [(d.id, d.status, d.rollout_state, r, p, h) for d, r, p, h in rows]
        key = _key(sim.account, sim.region, sim.cluster, sim.name)
        if self._last_logged.get(key) != (summary, totals, sim.desired):
            self._last_logged[key] = (summary, totals, sim.desired)
            self.log.append({"t": time.time(), "service": sim.name, "desired": sim.desired, **totals,
                             "deployments": [{"id": d.id, "status": d.status, "rolloutState": d.rollout_state,
                                              "taskDefinition": d.task_definition, "running": r, "pending": p,
                                              "healthy": h, "failedTasks": d.failed_tasks}
                                             for d, r, p, h in rows]})


class _StartFailed(Exception):
    pass


def _key(account: str, region: str, cluster: str, name: str) -> str:
    return f"{account}:{region}:{cluster}:{name}"


def _merged(configuration: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**DEFAULT_CONFIGURATION, **(configuration or {})}
    merged["deploymentCircuitBreaker"] = {**DEFAULT_CONFIGURATION["deploymentCircuitBreaker"],
                                          **merged.get("deploymentCircuitBreaker", {})}
    return merged


def _awslogs(container: dict[str, Any]) -> dict[str, str] | None:
    config = container.get("logConfiguration") or {}
    return dict(config.get("options") or {}) if config.get("logDriver") == "awslogs" else None


def _definition_arn(backend: Any, reference: str | None) -> str | None:
    return backend.describe_task_definition(reference).arn if reference else None
