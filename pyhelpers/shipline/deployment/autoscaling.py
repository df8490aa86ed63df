"""Service auto scaling suspended for the length of a deploy or a rollback (deploy.suspend_autoscaling),
then put back as it was: two planned actions, the second performed however the run ends."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import aws
from ..actions import Action

if TYPE_CHECKING:
    from .context import DeployContext

DIMENSION = "ecs:service:DesiredCount"
SUSPENDED = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True,
             "ScheduledScalingSuspended": True}
CALL = "application-autoscaling.RegisterScalableTarget"


def suspension(ctx: "DeployContext") -> tuple[Action, Action] | None:
    """The actions that suspend the service's scalable target and put it back as the plan found it; None
    when the setting is off or the service has no scalable target (read calls only)."""
    if not ctx.env.deploy.suspend_autoscaling:
        return None
    client, resource = _client(ctx), f"service/{ctx.env.cluster}/{ctx.env.service}"
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource],
                                               ScalableDimension=DIMENSION)["ScalableTargets"]
    if not targets:
        return None
    previous = {key: targets[0].get("SuspendedState", {}).get(key, False) for key in SUSPENDED}

    def suspend(run: Any) -> None:
        _register(client, resource, SUSPENDED)
        run.record.phase("autoscaling suspended", previous=previous)

    def resume(run: Any) -> None:
        _register(client, resource, previous)
        run.record.phase("autoscaling restored", state=previous)

    return (Action(f"suspend auto scaling of {resource} (scaling in, out and scheduled)", (CALL,),
                   reason="deploy.suspend_autoscaling: no scaling activity while tasks are replaced", run=suspend),
            Action(f"restore auto scaling of {resource} as it was", (CALL,), always=True, run=resume))


def _register(client: Any, resource: str, state: dict[str, bool]) -> None:
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
                                    SuspendedState=state)


def _client(ctx: "DeployContext") -> Any:
    return aws.client("application-autoscaling", region=ctx.env.region, role_arn=ctx.env.role_arn)
