"""Rollout decisions of the ECS service scheduler: replace tasks, complete, fail, roll back.

Behaviour reproduced (Amazon ECS Developer Guide, "Deploy Amazon ECS services by replacing tasks",
"How the Amazon ECS deployment circuit breaker detects failures"
<https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html>;
Amazon ECS API Reference, "DeploymentCircuitBreaker" and "Deployment.failedTasks"; CreateService's
healthCheckGracePeriodSeconds):
- UpdateService with a new task definition (or forceNewDeployment) creates a PRIMARY deployment; the
  previous one becomes ACTIVE and drains. Running plus pending tasks never exceed
  maximumPercent of the desired count; healthy tasks never drop below minimumHealthyPercent.
- A task is healthy when RUNNING and, behind a load balancer, healthy in every target group. A task
  whose target stays unhealthy is stopped ("Task failed ELB health checks in (target-group G)", the
  event "(task T) (port P) is unhealthy in (target-group G) due to (reason R).") -- but not within the
  service's health-check grace period after it started: the scheduler ignores its ELB checks then.
- With container health checks (a container definition's healthCheck), a task is healthy only once
  HEALTHY; a task that turns UNHEALTHY is stopped ("Task failed container health checks", the event
  "(task T) failed container health checks.") and replaced -- also only after the grace period.
- The circuit breaker counts consecutive failed tasks of a deployment (tasks that fail to start or
  stop on their own, tasks stopped for failing ELB or container health checks) in two stages: stage 1 until a task
  of the deployment is RUNNING (then the stage-1 count is dropped), stage 2 after. A task that turns
  healthy through its health checks resets the count to 0 (deploymentCircuitBreaker.resetOnHealthyTask,
  true unless set false). At max(3, min(200, ceil(0.5 × desired))) failures the deployment is FAILED
  ("ECS deployment circuit breaker: tasks failed to start.") and launches nothing more; with rollback
  on, a new PRIMARY deployment returns to the last COMPLETED one ("...rolling back to deploymentId
  ecs-svc/..."), which is no rollback target again until it completes. With no COMPLETED deployment
  there is nothing to roll back to: the FAILED deployment stays PRIMARY and the rollout stalls.
- With deployment alarms enabled, an alarm in ALARM while the deployment runs fails it the same way
  (not a rollback the scheduler started: the alarm that caused it is still in ALARM then).
- A deployment is COMPLETED when its desired count of tasks is healthy and no other deployment has
  a task left; service events tell each step, newest first.
"""
from __future__ import annotations

import math
from typing import Callable

from ..cloudwatch import store as cloudwatch
from . import bridge
from .model import Deployment, ServiceSim, new_deployment_id, now
from .tasks import TaskLifecycle

_STOPPED_ON_ITS_OWN = ("EssentialContainerExited", "TaskFailedToStart")
_FAILED_HEALTH_CHECKS = ("Task failed ELB health checks", "Task failed container health checks")


class Rollout:
    """One scheduler step for one service at a time."""

    def __init__(self, tasks: TaskLifecycle, seconds: Callable[[float], float]) -> None:
        self.tasks = tasks
        self.seconds = seconds

    def step(self, sim: ServiceSim) -> None:
        self._stop_unhealthy(sim)
        self._count_failures(sim)
        self._count_successes(sim)
        self._circuit_breaker(sim)
        self._deployment_alarms(sim)
        self._replace_tasks(sim)
        self._complete(sim)

    def _stop_unhealthy(self, sim: ServiceSim) -> None:
        """Replace tasks whose targets stay unhealthy (the scheduler notices on its next health poll,
        one health-check interval later: until then DescribeTargetHealth shows them unhealthy) or whose
        container health checks report UNHEALTHY, once the service's grace period after the task
        started is over."""
        poll, grace = self.seconds(10), self.seconds(sim.grace_period)
        health = self.tasks.health
        for task in self.tasks.of_service(sim):
            if task.desired_status != "RUNNING" or task.started_at is None \
                    or (now() - task.started_at).total_seconds() < grace:
                continue
            if task.health_status == "UNHEALTHY":
                sim.event(f"(task {task.id}) failed container health checks.")
                self.tasks.begin_stop(task, "Task failed container health checks", "ServiceSchedulerInitiated")
                continue
            bad = next(((arn, port) for arn, port in task.targets if health.unhealthy_for(arn, port) > poll), None)
            if bad is not None:
                group_arn, port = bad
                sim.event(f"(task {task.id}) (port {port}) is unhealthy in (target-group {group_arn}) due to "
                          f"(reason {health.description(group_arn, port)}).")
                self.tasks.begin_stop(task, f"Task failed ELB health checks in (target-group {group_arn})",
                                      "ServiceSchedulerInitiated")

    def _count_failures(self, sim: ServiceSim) -> None:
        """Each failed task of a deployment in progress adds to its count."""
        for task in self.tasks.tasks.values():
            if task.service_key != sim.key or task.failure_counted or task.desired_status != "STOPPED":
                continue
            failed = task.stop_code in _STOPPED_ON_ITS_OWN or \
                (task.stopped_reason or "").startswith(_FAILED_HEALTH_CHECKS)
            if not failed:
                continue
            task.failure_counted = True
            deployment = next((d for d in sim.deployments if d.id == task.deployment_id), None)
            if deployment is not None and deployment.rollout_state == "IN_PROGRESS":
                deployment.failed_tasks += 1
                deployment.updated_at = now()

    def _count_successes(self, sim: ServiceSim) -> None:
        """A deployment's first RUNNING task moves its circuit breaker to stage 2 (stage-1 failures are
        dropped); a task turning healthy through its (ELB or container) health checks resets the count unless
        resetOnHealthyTask is false."""
        breaker = sim.configuration.get("deploymentCircuitBreaker") or {}
        for deployment in sim.deployments:
            if deployment.rollout_state != "IN_PROGRESS":
                continue
            tasks = self.tasks.of_service(sim, deployment.id)
            if deployment.stage == 1 and any(t.last_status == "RUNNING" for t in tasks):
                deployment.stage, deployment.failed_tasks = 2, 0
            for task in tasks:
                checked = task.targets or task.health_checked  # it turns healthy through health checks
                if task.healthy_counted or not checked or not self.tasks.healthy(task):
                    continue
                task.healthy_counted = True
                if breaker.get("resetOnHealthyTask", True) and deployment.failed_tasks:
                    deployment.failed_tasks, deployment.updated_at = 0, now()

    def _circuit_breaker(self, sim: ServiceSim) -> None:
        primary = sim.primary
        breaker = sim.configuration.get("deploymentCircuitBreaker") or {}
        threshold = min(200, max(3, math.ceil(0.5 * sim.desired)))
        if breaker.get("enable") and primary.rollout_state == "IN_PROGRESS" and primary.failed_tasks >= threshold:
            self._fail(sim, "ECS deployment circuit breaker: tasks failed to start.",
                       "deployment failed: tasks failed to start.", bool(breaker.get("rollback")))

    def _deployment_alarms(self, sim: ServiceSim) -> None:
        """Deployment alarms: an alarm in ALARM while the deployment runs fails it (alarms are evaluated
        from their metrics, e.g. the load balancer's, by cloudwatch/alarms.py)."""
        alarms = sim.configuration.get("alarms") or {}
        if not alarms.get("enable") or sim.primary.rollout_state != "IN_PROGRESS" or sim.primary.rollback:
            return
        firing = cloudwatch.alarms_in_alarm(sim.account, sim.region, alarms.get("alarmNames", []))
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
                                 network_configuration=primary.network_configuration, rollback=True)
        primary.status = "ACTIVE"
        for old in [d for d in sim.deployments if d.task_definition == stable.task_definition]:
            for task in self.tasks.of_service(sim, old.id):
                task.deployment_id = rollback_to.id  # ECS keeps the stable tasks: they are the rollback's
            sim.deployments.remove(old)
        sim.deployments.insert(0, rollback_to)
        sim.last_completed = None  # the way back is no rollback target until it completes
        bridge.set_task_definition(sim.handle, stable.task_definition)
        sim.event(f"rolling back to deployment {stable.id}.")

    def _replace_tasks(self, sim: ServiceSim) -> None:
        """Stop old tasks and start new ones within minimumHealthyPercent and maximumPercent."""
        desired, primary, healthy_of = sim.desired, sim.primary, self.tasks.healthy
        max_total = math.floor(desired * int(sim.configuration.get("maximumPercent", 200)) / 100)
        min_healthy = math.ceil(desired * int(sim.configuration.get("minimumHealthyPercent", 100)) / 100)
        running = [t for t in self.tasks.of_service(sim) if t.desired_status == "RUNNING"]
        old = [t for t in running if t.deployment_id != primary.id]
        healthy = sum(1 for t in running if healthy_of(t))
        for task in sorted(old, key=healthy_of):  # unhealthy old tasks first: they cost nothing
            if not healthy_of(task):
                self.tasks.begin_stop(task, "Scaling activity initiated by (deployment "
                                            f"{primary.id})", "ServiceSchedulerInitiated")
            elif healthy - 1 >= min_healthy and primary.rollout_state != "FAILED":
                healthy -= 1
                self.tasks.begin_stop(task, f"Scaling activity initiated by (deployment {primary.id})",
                                      "ServiceSchedulerInitiated")
        mine = [t for t in running if t.deployment_id == primary.id]
        extra = len(mine) - desired
        for task in sorted(mine, key=healthy_of)[:max(0, extra)]:
            self.tasks.begin_stop(task, "Scaling activity initiated by (service scaling)",
                                  "ServiceSchedulerInitiated")
        if primary.rollout_state == "FAILED":
            return  # a failed deployment launches nothing more
        alive = len(self.tasks.of_service(sim))
        room = min(max_total - alive, desired - len(mine))
        if room <= 0:
            return
        definition = bridge.task_definition(sim.account, sim.region, primary.task_definition)
        cluster_arn = bridge.cluster_arn(sim.account, sim.region, sim.cluster)
        started = [self.tasks.launch(sim.account, sim.region, sim.cluster, cluster_arn, definition,
                                     f"service:{sim.name}", primary.id, primary.launch_type, {},
                                     sim=sim, deployment_id=primary.id) for _ in range(room)]
        sim.event(f"has started {len(started)} tasks: {' '.join(f'(task {t.id})' for t in started)}.")

    def _complete(self, sim: ServiceSim) -> None:
        primary, of_service = sim.primary, self.tasks.of_service
        for deployment in sim.deployments[1:]:  # drained ones go; a FAILED one stays until the end
            if deployment.rollout_state != "FAILED" and not of_service(sim, deployment.id):
                sim.deployments.remove(deployment)
        if primary.rollout_state != "IN_PROGRESS" or any(of_service(sim, d.id) for d in sim.deployments[1:]):
            return
        mine = of_service(sim, primary.id)
        if len(mine) == sim.desired and all(self.tasks.healthy(t) for t in mine):
            sim.deployments[1:] = []
            primary.rollout_state = "COMPLETED"
            primary.rollout_state_reason = f"ECS deployment {primary.id} completed."
            primary.updated_at = now()
            sim.last_completed = primary
            sim.event(f"(deployment {primary.id}) deployment completed.")
            sim.event("has reached a steady state.")
