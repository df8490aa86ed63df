"""The Strategy interface: the phases every deployment goes through.

prepare: decide the deploymentConfiguration (no AWS change) · shift: the one call that starts the
deployment · verify: watch the deployment this run created until it is done or failed · finish: clean
up after success · undo: return to the previous revision after a failure.
"""
from __future__ import annotations

from typing import Any

from ..context import DeployContext
from ..revisions import deregister_old_revisions
from ..watch import Outcome, bake, watch


class Strategy:
    """In-place strategies share everything but their deploymentConfiguration."""

    name = "base"

    def deployment_configuration(self, ctx: DeployContext) -> dict[str, Any]:
        raise NotImplementedError

    def prepare(self, ctx: DeployContext) -> dict[str, Any]:
        deploy = ctx.env.deploy
        configuration = self.deployment_configuration(ctx)
        configuration["deploymentCircuitBreaker"] = {"enable": deploy.circuit_breaker,
                                                     "rollback": deploy.circuit_breaker}
        if deploy.alarms:
            configuration["alarms"] = {"alarmNames": list(deploy.alarms), "enable": True, "rollback": True}
        return configuration

    def shift(self, ctx: DeployContext, configuration: dict[str, Any]) -> str:
        """One UpdateService call: task definition and deploymentConfiguration together; return the
        id of the deployment it created (from the response, never guessed later)."""
        response = ctx.ecs.update_service(cluster=ctx.env.cluster, service=ctx.env.service,
                                          taskDefinition=ctx.task_definition, deploymentConfiguration=configuration)
        deployment = response["service"]["deployments"][0]
        return deployment["id"]

    def verify(self, ctx: DeployContext, deployment_id: str) -> Outcome:
        outcome = watch(ctx, deployment_id, ctx.task_definition, ctx.env.deploy.timeout)
        if outcome.success and ctx.env.deploy.bake_time > 0:
            return bake(ctx, deployment_id, outcome)
        return outcome

    def finish(self, ctx: DeployContext) -> None:
        """After success only: deregister old revisions, keeping the last N and any that runs."""
        deregister_old_revisions(ctx)

    def undo(self, ctx: DeployContext) -> Outcome:
        """Return the service to the previous revision and wait until it is healthy."""
        service = ctx.describe_service()
        primary = service["deployments"][0]
        if primary["taskDefinition"] == ctx.previous_task_definition:
            deployment_id = primary["id"]  # ECS already rolled back (circuit breaker): watch that
        else:
            configuration = self.prepare(ctx)
            if "alarms" in configuration:  # the alarm that failed the release must not block the way back
                configuration["alarms"] = {**configuration["alarms"], "enable": False, "rollback": False}
            response = ctx.ecs.update_service(cluster=ctx.env.cluster, service=ctx.env.service,
                                              taskDefinition=ctx.previous_task_definition,
                                              deploymentConfiguration=configuration)
            deployment_id = response["service"]["deployments"][0]["id"]
        return watch(ctx, deployment_id, ctx.previous_task_definition, ctx.env.deploy.timeout)
