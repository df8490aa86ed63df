"""Old task-definition revisions, deregistered only after a successful deploy: the last N are kept,
and never one that runs (after success, the service runs only the new revision: the watch saw it
alone, COMPLETED)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import DeployContext

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


def deregister_old_revisions(ctx: "DeployContext") -> list[str]:
    family, revision = family_and_revision(ctx.task_definition)
    if revision <= ctx.env.deploy.keep_revisions:
        ctx.record.phase("revisions", deregistered=[])
        return []  # the family cannot have more revisions than it keeps yet
    mine = active_revisions(ctx.ecs, family)
    keep = set(mine[:ctx.env.deploy.keep_revisions]) | {ctx.task_definition}
    gone = [arn for arn in mine if arn not in keep]
    for arn in gone:
        ctx.ecs.deregister_task_definition(taskDefinition=arn)
    if gone:
        log.info("deregistered %d old revision(s) of %s (keeping %d)", len(gone), family,
                 ctx.env.deploy.keep_revisions)
    ctx.record.phase("revisions", deregistered=gone)
    return gone
