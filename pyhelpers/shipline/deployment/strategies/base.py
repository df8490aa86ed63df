"""The Strategy interface, and the in-place base that rolling and doubling share.

The engine knows a strategy only through this interface and an opaque **handle**: a string the strategy
alone reads, naming what it set under way (an ECS deployment id for in-place strategies; a pair of
target groups and their weights, a record set's weights, a service-deployment ARN for those to come).
Planning makes read calls only and returns Actions; executing them makes the changes.

  shift_actions  the actions that set the deploy under way; the last one returns the handle
  verify         watch what the handle names until it succeeds or fails (then the stability window)
  way_back       the actions that return the service to a revision known good; the last returns an Outcome
  finish         the actions after a success (clean-up)
  health_signal  what tells healthy from not for this service, in words, for the plan
"""
from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from ...actions import Action
from ..context import DeployContext
from ..record import Record
from ..revisions import deregister_old_revisions
from ..watch import Outcome, completed_at, stability_window, watch

Handle = str
TASK_START_SECONDS = 10.0  # placing, pulling and starting a task, before its health checks begin


class Strategy(ABC):
    name = ""  # set by the registry

    @abstractmethod
    def shift_actions(self, ctx: DeployContext, force: bool) -> list[Action]:
        """Set the deploy of ctx.task_definition under way (`force`: the service already names it)."""

    @abstractmethod
    def verify(self, ctx: DeployContext, record: Record, handle: Handle, window: bool = True) -> Outcome:
        """Watch what `handle` names until done or failed; then, unless `window` is False, through the
        stability window."""

    @abstractmethod
    def way_back(self, ctx: DeployContext, to: str, handle: Handle | None) -> list[Action]:
        """Return the service to revision `to` (known good) and wait, within deploy.rollback_timeout,
        until it is healthy; deployment alarms disarmed so that the one that failed the release cannot
        block the way back. `handle`: what this run set under way, if anything."""

    @abstractmethod
    def seconds(self, ctx: DeployContext, facts: dict[str, Any]) -> dict[str, float]:
        """The expected duration of each phase, from the service's settings (`facts` from the plan)."""

    def finish(self, ctx: DeployContext, deregister: list[str]) -> list[Action]:
        """After success only: deregister old revisions (the plan computed which)."""
        return [Action(f"deregister {len(deregister)} old revision(s) of the family, keeping "
                       f"{ctx.env.deploy.keep_revisions}", ("ecs.DeregisterTaskDefinition",) * len(deregister),
                       run=lambda run: deregister_old_revisions(ctx, run.record, deregister))]

    def settings(self, ctx: DeployContext) -> dict[str, Any]:
        """What the strategy will ask of AWS, for the plan and the record (e.g. a deploymentConfiguration)."""
        return {}

    def health_signal(self, ctx: DeployContext, facts: dict[str, Any]) -> str:
        """The signals the service has, in words: target health (an NLB's checks only see a port answer),
        container health checks, and always the running count and task exits."""
        groups = facts.get("target_groups", [])
        signals = []
        if groups:
            network = any(g["protocol"] in ("TCP", "TLS", "UDP", "TCP_UDP") for g in groups)
            signals.append("network load balancer target health (TCP: a port that answers)" if network
                           else "load balancer target health")
        if facts.get("container_health_checks"):
            signals.append("the containers' health checks")
        signals.append("the running count and task exits")
        text = ", ".join(signals[:-1]) + (" and " if len(signals) > 1 else "") + signals[-1]
        if not groups:
            text += " (no load balancer" + ("" if facts.get("container_health_checks") else
                                           ", no container health check") + ")"
        if facts.get("service_connect"):
            text += "; Service Connect routes by the same task health"
        return text


class InPlace(Strategy):
    """Rolling and doubling: one UpdateService call; the handle is the ECS deployment id it returns."""

    def deployment_configuration(self, ctx: DeployContext) -> dict[str, Any]:
        raise NotImplementedError

    def configuration(self, ctx: DeployContext, armed: bool = True) -> dict[str, Any]:
        """The deploymentConfiguration of an update; not `armed`: deployment alarms neither fail nor roll
        back (the way back)."""
        deploy = ctx.env.deploy
        configuration = self.deployment_configuration(ctx)
        configuration["deploymentCircuitBreaker"] = {"enable": deploy.circuit_breaker,
                                                     "rollback": deploy.circuit_breaker}
        if deploy.alarms:
            configuration["alarms"] = {"alarmNames": list(deploy.alarms), "enable": armed, "rollback": armed}
        return configuration

    def settings(self, ctx: DeployContext) -> dict[str, Any]:
        return self.configuration(ctx)

    def shift_actions(self, ctx: DeployContext, force: bool) -> list[Action]:
        configuration = self.configuration(ctx)
        words = (f"min {configuration['minimumHealthyPercent']}%, max {configuration['maximumPercent']}% of "
                 "desired")
        return [Action(f"update service {ctx.env.service} to the new revision ({words}"
                       f"{', a new deployment of the same revision' if force else ''})", ("ecs.UpdateService",),
                       reason=f"{self.name}: in place", run=lambda run: self._update(ctx, ctx.task_definition,
                                                                                    configuration, force))]

    @staticmethod
    def _update(ctx: DeployContext, task_definition: str, configuration: dict[str, Any], force: bool) -> Handle:
        """One UpdateService call; the id of the deployment it created (from the response, never guessed)."""
        response = ctx.ecs.update_service(cluster=ctx.env.cluster, service=ctx.env.service,
                                          taskDefinition=task_definition, deploymentConfiguration=configuration,
                                          forceNewDeployment=force)
        return response["service"]["deployments"][0]["id"]

    def verify(self, ctx: DeployContext, record: Record, handle: Handle, window: bool = True) -> Outcome:
        outcome = watch(ctx, record, handle, ctx.task_definition, ctx.env.deploy.timeout)
        if outcome.success and window:  # the window began when ECS said the deployment completed
            return stability_window(ctx, record, handle, outcome, completed_at(ctx.describe_service(), handle))
        return outcome

    def way_back(self, ctx: DeployContext, to: str, handle: Handle | None) -> list[Action]:
        configuration = self.configuration(ctx, armed=False)

        def back(run: Any) -> Outcome:
            primary = ctx.describe_service()["deployments"][0]
            if handle is not None and primary["taskDefinition"] == to and primary["rolloutState"] != "FAILED":
                deployment_id = primary["id"]  # ECS already rolled back to it (circuit breaker): watch that
            else:
                deployment_id = self._update(ctx, to, configuration, force=True)
            run.record.deployment_id = deployment_id
            run.record.phase("way back", deployment=deployment_id, to=to)
            return watch(ctx, run.record, deployment_id, to, ctx.env.deploy.rollback_timeout)

        return [Action(f"update service {ctx.env.service} back to {to.rsplit('/', 1)[-1]} (deployment alarms "
                       "disarmed) and wait until it is healthy", ("ecs.UpdateService",),
                       reason="the way back: in place, to the last revision known good", run=back,
                       seconds=ctx.env.deploy.rollback_timeout)]

    def seconds(self, ctx: DeployContext, facts: dict[str, Any]) -> dict[str, float]:
        configuration = self.deployment_configuration(ctx)
        room = configuration["maximumPercent"] - 100 + 100 - configuration["minimumHealthyPercent"]
        batches = math.ceil(100 / max(room, 1)) if facts.get("desired", 0) > 0 else 0
        batch = TASK_START_SECONDS + facts.get("seconds_to_healthy", 0.0) + facts.get("deregistration_delay", 0.0)
        return {"replace tasks": batches * batch, "stability window": ctx.env.stability_window}
