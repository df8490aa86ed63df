"""In place, doubling (the talk's "In Place – Doubling"): the whole new set starts beside the old one
and takes traffic only when healthy; then the old set drains. Never below full strength."""
from __future__ import annotations

from typing import Any

from ..context import DeployContext
from .base import InPlace


class Doubling(InPlace):
    def deployment_configuration(self, ctx: DeployContext) -> dict[str, Any]:
        return {"minimumHealthyPercent": 100, "maximumPercent": 200}
