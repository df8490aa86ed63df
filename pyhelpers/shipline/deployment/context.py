"""What a command on one service works with: the environment, the AWS clients, the revisions involved.
(A deploy's or a rollback's record is a thing apart: read-only commands have none.)"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import aws
from ..config import ResolvedEnvironment
from .service import describe_service


@dataclass
class DeployContext:
    env: ResolvedEnvironment
    task_definition: str
    known_good: str | None      # the way back: the last revision known good, never whatever ran at the start
    ecs: Any = field(init=False)
    elb: Any = field(init=False)

    def __post_init__(self) -> None:
        self.ecs = aws.client("ecs", region=self.env.region, role_arn=self.env.role_arn)
        self.elb = aws.client("elbv2", region=self.env.region, role_arn=self.env.role_arn)

    def describe_service(self) -> dict[str, Any]:
        """The live service's description."""
        return describe_service(self.env).description
