"""Old task-definition revisions, deregistered only after a successful deploy: the last N are kept,
and never one that runs (after success, the service runs only the new revision: the watch saw it
alone, COMPLETED)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import DeployContext
    from .record import Record

log = logging.getLogger(__name__)


def family_and_revision(arn: str) -> tuple[str, int]:
    """('web', 7) of .../task-definition/web:7."""
    family, revision = arn.rsplit("/", 1)[-1].rsplit(":", 1)
    return family, int(revision)


def active_revisions(ecs: Any, family: str) -> list[str]:
    """The family's ACTIVE revisions, newest first (familyPrefix also matches longer family names)."""
    arns = ecs.list_task_definitions(familyPrefix=family, status="ACTIVE")["taskDefinitionArns"]
    mine = [arn for arn in arns if family_and_revision(arn)[0] == family]
    return sorted(mine, key=lambda arn: family_and_revision(arn)[1], reverse=True)


def revisions_to_deregister(ctx: "DeployContext", family: str, registering: bool) -> list[str]:
    """The family's revisions a success would deregister: all but the newest deploy.keep_revisions (the
    target among them; `registering`: the target is not registered yet and will be the newest)."""
    keep = ctx.env.deploy.keep_revisions
    mine = active_revisions(ctx.ecs, family)
    if registering:
        return mine[keep - 1:]
    kept = set(mine[:keep]) | {ctx.task_definition}
    return [arn for arn in mine if arn not in kept]


def deregister_old_revisions(ctx: "DeployContext", record: "Record", gone: list[str]) -> None:
    """Deregister the revisions the plan named (never one that runs: after success the service runs only
    the target, which the plan kept)."""
    for arn in gone:
        ctx.ecs.deregister_task_definition(taskDefinition=arn)
    if gone:
        log.info("deregistered %d old revision(s) (keeping %d)", len(gone), ctx.env.deploy.keep_revisions)
    record.phase("revisions", deregistered=gone)
