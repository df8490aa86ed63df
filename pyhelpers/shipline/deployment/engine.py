"""`shipline deploy` and `shipline rollback`: one release to one environment, with the truth and a way back.

prepare -> (pre_deploy task) -> shift -> verify -> finish, or undo on failure. Exit 0 on success; 1 when
it failed and the service is back on its previous revision; 4 on timeout (after putting it back); 5
when putting it back failed too (the message says in which state the service is).
"""
from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from ..config import load_config
from ..errors import BadInput, NeedsHuman, OperationFailed, TimedOut
from ..taskdef.register import register_document
from ..taskdef.render import render_document
from .autoscaling import suspended
from .context import DeployContext
from .infra import require_infrastructure
from .record import Record
from .revisions import active_revisions, family_and_revision
from .strategies import strategy_for
from .watch import Outcome

log = logging.getLogger(__name__)


def deploy(config: str = "shipline.yaml", *, environment: str, image: str | None = None,
           task_definition: str | None = None, strategy: str | None = None, record_dir: str | None = None,
           dry_run: bool = False) -> dict[str, Any]:
    """Deploy `image` (rendered and registered here) or a registered `task_definition` to `environment`."""
    loaded = load_config(config)
    env = loaded.config.environment(environment)
    name = strategy or env.deploy.strategy
    chosen = strategy_for(name)
    if (image is None) == (task_definition is None):
        raise BadInput("pass exactly one of --image <repository>@sha256:<digest> or --task-definition <ARN>")
    if image is not None and not re.search(r"@sha256:[0-9a-f]{64}$", image):
        raise BadInput(f"image {image!r} is not pinned by digest: deploy the image publish printed "
                       "(<repository>@sha256:<digest>)")
    document = render_document(loaded, environment, image).document if image else None
    service = require_infrastructure(loaded, env, document)
    previous = service["taskDefinition"]
    if document is not None:
        task_definition = register_document(env, document, dry_run).get("taskDefinitionArn")
    record = Record(service=env.service, environment=environment, strategy=name, image=image,
                    task_definition=task_definition or "(not registered: dry run)",
                    previous_task_definition=previous, parameters=env.deploy.model_dump(mode="json"))
    _revision(loaded.path.parent, record)
    ctx = DeployContext(env, record.task_definition, previous, record)
    configuration = chosen.prepare(ctx)
    record.phase("prepare", deploymentConfiguration=configuration)
    if dry_run:
        return {"dry_run": True, "would": f"update {env.service} in {env.cluster} to {record.task_definition}",
                "deploymentConfiguration": configuration, "strategy": name}
    directory = Path(record_dir) if record_dir else loaded.path.parent / ".shipline" / "records"
    try:
        if env.deploy.pre_deploy is not None:
            _pre_deploy(ctx, env)
        with suspended(ctx):
            deployment_id = chosen.shift(ctx, configuration)
            record.deployment_id = deployment_id
            record.phase("shift", deployment=deployment_id)
            log.info("deployment %s started (%s): %s -> %s", deployment_id, name, _short(previous),
                     _short(task_definition))
            outcome = chosen.verify(ctx, deployment_id)
            record.phase("verify", success=outcome.success, reason=outcome.reason)
            if not outcome.success:
                raise _undo(chosen, ctx, outcome)
        chosen.finish(ctx)
        record.phase("finish")
        record.decide("succeeded", outcome.reason)
        log.info("%s", outcome.reason)
        return _result(record, directory)
    except (OperationFailed, TimedOut, NeedsHuman) as error:
        error.details["record"] = str(record.write(directory))
        raise


def _undo(chosen: Any, ctx: DeployContext, failure: Outcome) -> OperationFailed | TimedOut | NeedsHuman:
    """Put the previous revision back; return the error that says how it ended."""
    record = ctx.record
    log.warning("deploy failed: %s; returning to %s", failure.reason, _short(ctx.previous_task_definition))
    record.phase("undo", reason=failure.reason, diagnosis=failure.diagnosis)
    back = chosen.undo(ctx)
    record.rollback = {"to": ctx.previous_task_definition, "success": back.success, "reason": back.reason}
    record.phase("undone", success=back.success)
    if not back.success:
        record.decide("needs a human", f"{failure.reason}; the rollback failed too: {back.reason}")
        return NeedsHuman(f"deploy failed ({failure.reason}) and the rollback to "
                         f"{_short(ctx.previous_task_definition)} failed too ({back.reason}): the service needs "
                         "a human", details={"diagnosis": failure.diagnosis})
    record.decide("rolled back", failure.reason)
    message = f"deploy failed: {failure.reason}; the service is back on {_short(ctx.previous_task_definition)}"
    if failure.timed_out:
        return TimedOut(message, details={"diagnosis": failure.diagnosis})
    return OperationFailed(message, details={"diagnosis": failure.diagnosis})


def _pre_deploy(ctx: DeployContext, env: Any) -> None:
    from .run_task import run_one_off

    task = env.deploy.pre_deploy
    ctx.record.phase("pre_deploy", command=task.command)
    result = run_one_off(ctx.ecs, env, ctx.task_definition, task.command, task.container, task.timeout)
    ctx.record.phase("pre_deploy done", exit_code=result["exitCode"])
    if result["exitCode"] != 0:
        ctx.record.decide("stopped before traffic moved", f"pre_deploy exited {result['exitCode']}")
        raise OperationFailed(f"pre_deploy task {' '.join(task.command)!r} exited {result['exitCode']}: nothing "
                              "was deployed", details={"task": result})


def _result(record: Record, directory: Path) -> dict[str, Any]:
    path = record.write(directory)
    return {**record.to_json(), "record": str(path)}


def _revision(repo: Path, record: Record) -> None:
    """The commit behind the release, for the record's lead time (when deploying from a checkout)."""
    from ..errors import ShiplineError
    from ..revision import current

    try:
        revision = current(repo)
    except ShiplineError:
        return
    record.commit, record.commit_time = revision.sha, revision.commit_time


def _short(arn: str | None) -> str:
    return (arn or "none").rsplit("/", 1)[-1]


def rollback(config: str = "shipline.yaml", *, environment: str, to: str | None = None,
             dry_run: bool = False) -> dict[str, Any]:
    """`shipline rollback`: return the service to the previous revision (or `to`) and wait until healthy."""
    loaded = load_config(config)
    env = loaded.config.environment(environment)
    record = Record(service=env.service, environment=environment, strategy="rollback", image=None,
                    task_definition="", previous_task_definition=None, parameters={})
    ctx = DeployContext(env, "", None, record)
    current = ctx.describe_service()["taskDefinition"]
    target = _rollback_target(ctx, current, to)
    ctx.task_definition, ctx.previous_task_definition = target, current
    record.task_definition, record.previous_task_definition = target, current
    if dry_run:
        return {"dry_run": True, "would": f"update {env.service} from {_short(current)} to {_short(target)}"}
    response = ctx.ecs.update_service(cluster=env.cluster, service=env.service, taskDefinition=target)
    deployment_id = response["service"]["deployments"][0]["id"]
    from .watch import watch

    outcome = watch(ctx, deployment_id, target, env.deploy.timeout)
    directory = loaded.path.parent / ".shipline" / "records"
    if not outcome.success:
        record.decide("needs a human", outcome.reason)
        raise NeedsHuman(f"rollback to {_short(target)} failed: {outcome.reason}",
                         details={"record": str(record.write(directory))})
    record.decide("succeeded", outcome.reason)
    return _result(record, directory)


def _rollback_target(ctx: DeployContext, current: str, to: str | None) -> str:
    family, revision = family_and_revision(current)
    if to:
        reference = to if to.startswith("arn:") or ":" in to else f"{family}:{to}"
    else:
        older = [arn for arn in active_revisions(ctx.ecs, family) if family_and_revision(arn)[1] < revision]
        if not older:
            raise BadInput(f"{family}:{revision} has no earlier active revision to roll back to; pass --to")
        reference = older[0]
    try:
        return ctx.ecs.describe_task_definition(taskDefinition=reference)["taskDefinition"]["taskDefinitionArn"]
    except ctx.ecs.exceptions.ClientException:
        raise BadInput(f"task definition {reference} not found") from None


def render(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return f"would {result['would']} ({result.get('strategy', 'rollback')})"
    return f"{result['decision']}: {result['reason']} (record: {result['record']})"
