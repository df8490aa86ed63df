"""The Strategy interface: the phases every deployment goes through.

prepare: decide the deploymentConfiguration (no AWS change) · shift: the one call that starts the
deployment · verify: watch the deployment this run created until it is done or failed, then through the
stability window · finish: clean up after success · undo: return to the last revision known good.
"""
from __future__ import annotations

from typing import Any

from ..context import DeployContext
from ..revisions import deregister_old_revisions
from ..watch import Outcome, stability_window, watch


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

    def shift(self, ctx: DeployContext, configuration: dict[str, Any], force: bool = False) -> str:
        """One UpdateService call: task definition and deploymentConfiguration together (`force`: a new
        deployment of the revision the service already names); return the id of the deployment it
        created (from the response, never guessed later)."""
        response = ctx.ecs.update_service(cluster=ctx.env.cluster, service=ctx.env.service,
                                          taskDefinition=ctx.task_definition, deploymentConfiguration=configuration,
                                          forceNewDeployment=force)
        deployment = response["service"]["deployments"][0]
        return deployment["id"]

    def verify(self, ctx: DeployContext, deployment_id: str, window: bool = True) -> Outcome:
        """Watch until completed; then, unless `window` is False, through the stability window."""
        outcome = watch(ctx, deployment_id, ctx.task_definition, ctx.env.deploy.timeout)
        if outcome.success and window:
            return stability_window(ctx, deployment_id, outcome)
        return outcome

    def finish(self, ctx: DeployContext) -> None:
        """After success only: deregister old revisions, keeping the last N and any that runs."""
        deregister_old_revisions(ctx)

    def undo(self, ctx: DeployContext) -> Outcome:
        """Return the service to the last revision known good and wait (deploy.rollback_timeout, a budget
        of its own) until it is healthy."""
        assert ctx.known_good is not None, "the engine undoes only when a revision is known good"
        service = ctx.describe_service()
        primary = service["deployments"][0]
        if primary["taskDefinition"] == ctx.known_good and primary["rolloutState"] != "FAILED":
            deployment_id = primary["id"]  # ECS already rolled back to it (circuit breaker): watch that
        else:
            configuration = self.prepare(ctx)
            if "alarms" in configuration:  # the alarm that failed the release must not block the way back
                configuration["alarms"] = {**configuration["alarms"], "enable": False, "rollback": False}
            response = ctx.ecs.update_service(cluster=ctx.env.cluster, service=ctx.env.service,
                                              taskDefinition=ctx.known_good, deploymentConfiguration=configuration,
                                              forceNewDeployment=True)
            deployment_id = response["service"]["deployments"][0]["id"]
        return watch(ctx, deployment_id, ctx.known_good, ctx.env.deploy.rollback_timeout)
