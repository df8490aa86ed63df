"""In place, rolling (the talk's "In Place – Rolling"): replace tasks a few at a time."""
from __future__ import annotations

from typing import Any

from ..context import DeployContext
from .base import InPlace


class Rolling(InPlace):
    def deployment_configuration(self, ctx: DeployContext) -> dict[str, Any]:
        deploy = ctx.env.deploy
        return {"minimumHealthyPercent": deploy.min_healthy_percent, "maximumPercent": deploy.max_percent}
