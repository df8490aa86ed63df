"""The last revision known good, kept AWS-side: a tag on the service, so a re-run on a fresh agent (no
local files) finds the way back. Written only for a revision that passed its stability window (or, once,
for the revision a service ran steadily before shipline's first deploy of it)."""
from __future__ import annotations

from typing import Any

LAST_GOOD_TAG = "shipline:last-good"


def last_good(service: dict[str, Any]) -> str | None:
    """The task-definition ARN the tag names, from a service described with include=['TAGS']."""
    return next((t["value"] for t in service.get("tags", []) if t.get("key") == LAST_GOOD_TAG), None)


def mark_good(ecs: Any, service_arn: str, task_definition: str) -> None:
    """Name `task_definition` as the service's last revision known good."""
    ecs.tag_resource(resourceArn=service_arn, tags=[{"key": LAST_GOOD_TAG, "value": task_definition}])
