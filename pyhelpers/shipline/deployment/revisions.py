"""Old task-definition revisions, deregistered only after a successful deploy: the last N are kept,
and never one that runs (after success, the service runs only the new revision: the watch saw it
alone, COMPLETED)."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import DeployContext

log = logging.getLogger(__name__)


def deregister_old_revisions(ctx: "DeployContext") -> list[str]:
    family, revision = ctx.task_definition.rsplit("/", 1)[-1].rsplit(":", 1)
    if int(revision) <= ctx.env.deploy.keep_revisions:
        ctx.record.phase("revisions", deregistered=[])
        return []  # the family cannot have more revisions than it keeps yet
    arns = ctx.ecs.list_task_definitions(familyPrefix=family, status="ACTIVE", sort="DESC")["taskDefinitionArns"]
    mine = sorted((arn for arn in arns if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family),
                  key=lambda arn: int(arn.rsplit(":", 1)[-1]), reverse=True)  # newest first
    keep = set(mine[:ctx.env.deploy.keep_revisions]) | {ctx.task_definition}
    gone = [arn for arn in mine if arn not in keep]
    for arn in gone:
        ctx.ecs.deregister_task_definition(taskDefinition=arn)
    if gone:
        log.info("deregistered %d old revision(s) of %s (keeping %d)", len(gone), family,
                 ctx.env.deploy.keep_revisions)
    ctx.record.phase("revisions", deregistered=gone)
    return gone
