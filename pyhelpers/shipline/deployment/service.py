"""The live ECS service of an environment: the one place that describes it."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import aws
from ..config import ResolvedEnvironment
from ..errors import EnvironmentProblem

BOOTSTRAP = "run 'shipline infra bootstrap'"


@dataclass(frozen=True)
class LiveService:
    """What callers need of the service as DescribeServices shows it now."""

    arn: str
    revision: str | None                         # the task definition ARN it runs (None: its task sets do)
    launch_type: str | None                      # FARGATE, EC2, EXTERNAL; None with capacity providers
    capacity_providers: tuple[dict[str, Any], ...]
    network_configuration: dict[str, Any] | None
    load_balancers: tuple[dict[str, Any], ...]
    controller: str                              # its deployment controller: ECS, CODE_DEPLOY or EXTERNAL
    description: dict[str, Any]                  # the whole description: deployments, counts, events

    @classmethod
    def of(cls, description: dict[str, Any]) -> LiveService:
        return cls(arn=description["serviceArn"], revision=description.get("taskDefinition"),
                   launch_type=description.get("launchType"),
                   capacity_providers=tuple(description.get("capacityProviderStrategy") or ()),
                   network_configuration=description.get("networkConfiguration"),
                   load_balancers=tuple(description.get("loadBalancers") or ()),
                   controller=(description.get("deploymentController") or {}).get("type", "ECS"),
                   description=description)


def describe_service(env: ResolvedEnvironment, *, fix: str = BOOTSTRAP) -> LiveService:
    """The environment's ACTIVE service. EnvironmentProblem (exit 3) ending with `fix` when there is none; a
    missing cluster is AWS's own error (exit 3, a missing AWS resource)."""
    found = _active(_ecs(env), env)
    if found is None:
        raise EnvironmentProblem(f"service {env.service} not found in cluster {env.cluster}: {fix}")
    return LiveService.of(found)


def find_service(env: ResolvedEnvironment) -> LiveService | None:
    """The environment's ACTIVE service, or None when it or its cluster does not exist (yet)."""
    ecs = _ecs(env)
    try:
        found = _active(ecs, env)
    except ecs.exceptions.ClusterNotFoundException:
        return None
    return LiveService.of(found) if found is not None else None


def _ecs(env: ResolvedEnvironment) -> Any:
    return aws.client("ecs", region=env.region, role_arn=env.role_arn)


def _active(ecs: Any, env: ResolvedEnvironment) -> dict[str, Any] | None:
    services = ecs.describe_services(cluster=env.cluster, services=[env.service])["services"]
    return services[0] if services and services[0].get("status") == "ACTIVE" else None
