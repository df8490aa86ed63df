"""The ECS service scheduler moto lacks: the operations patches.py routes here, and the control loop.

Services and tasks live here (tasks.py runs their lifecycle, rollout.py decides each rollout step,
bridge.py alone reads and writes moto's models). After each step the scheduler publishes every
service's deployments and counts to moto's service object (what DescribeServices returns) and
appends each change to an emulation log, so tests can check invariants over a whole rollout.
"""
from __future__ import annotations

import base64
import threading
import time
from typing import TYPE_CHECKING, Any

from . import bridge
from .model import Deployment, ServiceSim, TaskRecord, new_deployment_id, now, service_key
from .rollout import Rollout
from .tasks import TaskLifecycle

if TYPE_CHECKING:
    from ..ecr import EcrEmulation

LOOPBACK = "127.0.0.1"  # the one target address the emulation health-checks (tasks' host ports are there)
DEFAULT_CONFIGURATION = {"maximumPercent": 200, "minimumHealthyPercent": 100,
                         "deploymentCircuitBreaker": {"enable": False, "rollback": False}}


class EcsEmulation:
    """Drives moto's ECS services the way ECS would, with tasks as containers on the local engine."""

    def __init__(self, ecr: "EcrEmulation", time_scale: float = 0.1, *, world_id: str) -> None:
        self.ecr = ecr
        self.time_scale = self._default_scale = time_scale
        self.lock = threading.RLock()
        self.services: dict[str, ServiceSim] = {}
        self.log: list[dict[str, Any]] = []
        self._last_logged: dict[str, Any] = {}
        self.tasks = TaskLifecycle(self.lock, self.services, self.seconds, self._pull_credentials, world_id)
        self.rollout = Rollout(self.tasks, self.seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ecs-scheduler", daemon=True)

    def start(self) -> "EcsEmulation":
        self._thread.start()
        return self

    def reset(self) -> None:
        """Forget every service and task; their containers are removed by the world's reset."""
        with self.lock:
            self.services.clear()
            self.tasks.clear()
            self.log.clear()
            self._last_logged.clear()
            self.time_scale = self._default_scale

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.tasks.close()

    def seconds(self, value: float) -> float:
        """A duration of real ECS or ELB time, on the emulation's clock."""
        return value * self.time_scale

    # --- services -------------------------------------------------------------------------------------
    def service_created(self, backend: Any, handle: Any, configuration: dict[str, Any] | None,
                        grace_period: int | None) -> None:
        facts = bridge.service_facts(backend, handle)
        if facts.controller != "ECS":
            return
        merged = _merged(configuration)
        bridge.set_configuration(handle, merged)
        if grace_period is not None:
            bridge.set_grace_period(handle, grace_period)
        sim = ServiceSim(facts.account, facts.region, facts.cluster, facts.name, handle, facts.desired, merged,
                         facts.load_balancers, float(grace_period or 0))
        with self.lock:
            self.services[sim.key] = sim
            sim.deployments.append(Deployment(new_deployment_id(), facts.task_definition, sim.desired,
                                              facts.launch_type, network_configuration=facts.network_configuration))
            self._publish(sim)

    def service_updated(self, backend: Any, handle: Any, previous_definition: str | None,
                        configuration: dict[str, Any] | None, grace_period: int | None, force: bool) -> None:
        facts = bridge.service_facts(backend, handle)
        sim = self.services.get(service_key(facts.account, facts.region, facts.cluster, facts.name))
        if sim is None:
            return
        with self.lock:
            if configuration is not None:
                sim.configuration = _merged(configuration)
                bridge.set_configuration(handle, sim.configuration)
            if grace_period is not None:
                sim.grace_period = float(grace_period)
                bridge.set_grace_period(handle, grace_period)
            bridge.set_task_definition(handle, facts.task_definition)
            sim.desired = facts.desired
            if facts.task_definition != previous_definition or force:
                sim.primary.status = "ACTIVE"
                sim.deployments.insert(0, Deployment(new_deployment_id(), facts.task_definition, sim.desired,
                                                     facts.launch_type,
                                                     network_configuration=facts.network_configuration))
            sim.primary.desired_count = sim.desired
            sim.primary.updated_at = now()
            self._publish(sim)

    def service_deleted(self, backend: Any, handle: Any) -> None:
        facts = bridge.service_facts(backend, handle)
        with self.lock:
            sim = self.services.pop(service_key(facts.account, facts.region, facts.cluster, facts.name), None)
            if sim is not None:
                for task in self.tasks.of_service(sim):
                    self.tasks.begin_stop(task, "Service deleted", "ServiceSchedulerInitiated")

    def sync(self, account: str, region: str, cluster: str, names: list[str]) -> None:
        """Bring moto's service objects up to date before they are described."""
        with self.lock:
            for name in names:
                sim = self.services.get(service_key(account, region, cluster, name.split("/")[-1]))
                if sim is not None:
                    self._publish(sim)

    # --- tasks ----------------------------------------------------------------------------------------
    def run_task(self, account: str, region: str, cluster: str, definition_arn: str, count: int,
                 started_by: str, group: str | None, launch_type: str,
                 overrides: dict[str, Any]) -> list[TaskRecord]:
        definition = bridge.task_definition(account, region, definition_arn)
        cluster_arn = bridge.cluster_arn(account, region, cluster)
        with self.lock:
            return [self.tasks.launch(account, region, cluster, cluster_arn, definition,
                                      group or f"family:{definition.family}", started_by, launch_type, overrides)
                    for _ in range(count)]

    def stop_task(self, task: TaskRecord, reason: str) -> None:
        with self.lock:
            self.tasks.begin_stop(task, reason, "UserInitiated")

    def find_task(self, reference: str) -> TaskRecord | None:
        with self.lock:
            return self.tasks.find(reference)

    def list_tasks(self, account: str, region: str, cluster: str, service: str | None, family: str | None,
                   started_by: str | None, desired_status: str) -> list[str]:
        """ListTasks' answer: ARNs of the cluster's tasks with that desired status and filters."""
        with self.lock:
            return [t.arn for t in self.tasks.tasks.values()
                    if t.cluster == cluster and t.account == account and t.region == region
                    and t.desired_status == desired_status
                    and (service is None or t.group == f"service:{service.split('/')[-1]}")
                    and (family is None or t.task_definition_arn.split("/")[-1].split(":")[0] == family)
                    and (started_by is None or t.started_by == started_by)]

    def targets_of(self, group_arn: str) -> list[dict[str, Any]]:
        """DescribeTargetHealth's descriptions of a target group's targets (none when it has none here)."""
        return self.tasks.targets_of(group_arn)

    def targets_registered(self, account: str, region: str, group_arn: str, targets: list[dict[str, Any]]) -> None:
        """RegisterTargets: a 127.0.0.1 target is health-checked like a task's (ELB checks every target it
        routes to); re-registering a registered target changes nothing, as in ELB."""
        settings = bridge.health_settings(account, region, group_arn)
        if settings is None:
            return
        default_port = bridge.target_group_port(account, region, group_arn)
        for target in targets:
            port = int(target.get("Port") or default_port or 0)
            if target.get("Id") == LOOPBACK and port and self.tasks.health.state(group_arn, port) in (
                    "unused", "draining"):
                self.tasks.health.register(group_arn, port, settings.scaled(self.seconds))

    def targets_deregistered(self, group_arn: str, targets: list[dict[str, Any]]) -> None:
        for target in targets:
            if target.get("Id") == LOOPBACK and target.get("Port"):
                self.tasks.health.deregister(group_arn, int(target["Port"]))

    def target_group_deleted(self, group_arn: str) -> None:
        self.tasks.health.forget_group(group_arn)

    def _pull_credentials(self, image: str) -> dict[str, str] | None:
        """Credentials for pulling `image` from a local ECR front, as the ECS agent gets them."""
        host = image.split("/", 1)[0]
        for (account, region), front in list(self.ecr.fronts.items()):
            if front.address == host:
                token = self.ecr.issue_token(account, region)["authorizationToken"]
                user, _, password = base64.b64decode(token).decode().partition(":")
                return {"username": user, "password": password}
        return None

    # --- the control loop ------------------------------------------------------------------------------
    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            with self.lock:
                self.tasks.finish_stops()
                for sim in list(self.services.values()):
                    self.rollout.step(sim)
                    self._publish(sim)

    def _publish(self, sim: ServiceSim) -> None:
        """Write the scheduler's state into moto's service object and log what changed."""
        rows, totals = [], {"running": 0, "pending": 0, "healthy": 0, "alive": 0}
        for deployment in sim.deployments:
            tasks = self.tasks.of_service(sim, deployment.id)
            running = sum(1 for t in tasks if t.last_status == "RUNNING")
            pending = sum(1 for t in tasks if t.last_status in ("PROVISIONING", "PENDING"))
            healthy = sum(1 for t in tasks if self.tasks.healthy(t))
            if deployment is not sim.primary:
                deployment.desired_count = sum(1 for t in tasks if t.desired_status == "RUNNING")
            rows.append((deployment, running, pending, healthy))
            for name, value in (("running", running), ("pending", pending), ("healthy", healthy),
                                ("alive", len(tasks))):
                totals[name] += value
        bridge.publish(sim.handle, [d.to_api(running, pending) for d, running, pending, _ in rows],
                       totals["running"], totals["pending"], sim.events)
        summary = [(d.id, d.status, d.rollout_state, r, p, h) for d, r, p, h in rows]
        if self._last_logged.get(sim.key) != (summary, totals, sim.desired):
            self._last_logged[sim.key] = (summary, totals, sim.desired)
            self.log.append({"t": time.time(), "service": sim.name, "desired": sim.desired, **totals,
                             "deployments": [{"id": d.id, "status": d.status, "rolloutState": d.rollout_state,
                                              "taskDefinition": d.task_definition, "running": r, "pending": p,
                                              "healthy": h, "failedTasks": d.failed_tasks}
                                             for d, r, p, h in rows]})


def _merged(configuration: dict[str, Any] | None) -> dict[str, Any]:
    merged = {**DEFAULT_CONFIGURATION, **(configuration or {})}
    merged["deploymentCircuitBreaker"] = {**DEFAULT_CONFIGURATION["deploymentCircuitBreaker"],
                                          **merged.get("deploymentCircuitBreaker", {})}
    return merged
