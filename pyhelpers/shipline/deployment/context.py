"""What one deployment run works with: the environment, the AWS clients, the revisions involved."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import aws
from ..config import ResolvedEnvironment
from ..errors import EnvironmentProblem
from .record import Record


@dataclass
class DeployContext:
    env: ResolvedEnvironment
    task_definition: str
    known_good: str | None      # the way back: the last revision known good, never whatever ran at the start
    record: Record
    ecs: Any = field(init=False)
    elb: Any = field(init=False)

    def __post_init__(self) -> None:
        self.ecs = aws.client("ecs", region=self.env.region, role_arn=self.env.role_arn)
        self.elb = aws.client("elbv2", region=self.env.region, role_arn=self.env.role_arn)

    def describe_service(self, tags: bool = False) -> dict[str, Any]:
        """The live service (with its tags when `tags`)."""
        services = self.ecs.describe_services(cluster=self.env.cluster, services=[self.env.service],
                                              **({"include": ["TAGS"]} if tags else {}))["services"]
        if not services or services[0].get("status") != "ACTIVE":
            raise EnvironmentProblem(f"service {self.env.service} not found in cluster {self.env.cluster}: "
                                     "run 'shipline infra bootstrap'")
        return services[0]
