"""Service auto scaling suspended for the length of a deploy (deploy.suspend_autoscaling), then restored."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from .. import aws

if TYPE_CHECKING:
    from .context import DeployContext

log = logging.getLogger(__name__)
DIMENSION = "ecs:service:DesiredCount"
SUSPENDED = {"DynamicScalingInSuspended": True, "DynamicScalingOutSuspended": True,
             "ScheduledScalingSuspended": True}


@contextmanager
def suspended(ctx: "DeployContext") -> Iterator[None]:
    """Suspend the service's scalable target (if it has one) and put its previous state back after."""
    if not ctx.env.deploy.suspend_autoscaling:
        yield
        return
    client = aws.client("application-autoscaling", region=ctx.env.region, role_arn=ctx.env.role_arn)
    resource = f"service/{ctx.env.cluster}/{ctx.env.service}"
    targets = client.describe_scalable_targets(ServiceNamespace="ecs", ResourceIds=[resource],
                                               ScalableDimension=DIMENSION)["ScalableTargets"]
    if not targets:
        log.info("no scalable target for %s: nothing to suspend", resource)
        yield
        return
    previous = {key: targets[0].get("SuspendedState", {}).get(key, False) for key in SUSPENDED}
    client.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
                                    SuspendedState=SUSPENDED)
    ctx.record.phase("autoscaling suspended", previous=previous)
    try:
        yield
    finally:
        client.register_scalable_target(ServiceNamespace="ecs", ResourceId=resource, ScalableDimension=DIMENSION,
                                        SuspendedState=previous)
        ctx.record.phase("autoscaling restored", state=previous)
