"""`shipline deploy` and `shipline rollback`: one release to one environment, with the truth and a way back.

Where it starts is decided from the live service alone (starting_point.py): a re-run adopts its own
deployment, a deploy beside another in-flight deployment is refused (exit 7). Then prepare ->
(pre_deploy task) -> shift -> verify (completion, then the stability window) -> finish, or undo to the last
revision known good (a tag on the service) on failure. Exit 0 on success; 1 when it failed and the service
is back on its last good revision; 4 on timeout (after putting it back); 5 when putting it back failed too
(the message says in which state the service is); 7 when another deploy took the service over (nothing
undone). The record is written when the run starts and completed however it ends.
"""
from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .. import references
from ..config import load_config
from ..errors import BadInput, NeedsHuman, OperationFailed, RefusedByGuard, ShiplineError, TimedOut
from ..taskdef.register import register_document
from ..taskdef.render import render_document
from .autoscaling import suspended
from .context import DeployContext
from .infra import require_infrastructure
from .known_good import last_good, mark_good
from .record import Record
from .revisions import active_revisions, family_and_revision
from .starting_point import StartingPoint, assess
from .strategies import strategy_for
from .watch import Outcome, watch

log = logging.getLogger(__name__)


def deploy(config: str = "shipline.yaml", *, environment: str, image: str | None = None,
           task_definition: str | None = None, strategy: str | None = None, record_dir: str | None = None,
           dry_run: bool = False) -> dict[str, Any]:
    """Deploy `image` (rendered and registered here) or a registered `task_definition` to `environment`."""
    references.require(references.task_definition, task_definition, "task_definition")
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
    require_infrastructure(loaded, env, document)
    if document is not None:
        task_definition = register_document(env, document, dry_run).get("taskDefinitionArn")
    target = task_definition or "(not registered: dry run)"
    record = Record(service=env.service, environment=environment, strategy=name, image=image,
                    task_definition=target, previous_task_definition=None,
                    parameters={**env.deploy.model_dump(mode="json"), "stability_window": env.stability_window})
    _revision(loaded.path.parent, record)
    ctx = DeployContext(env, target, None, record)
    service = ctx.describe_service(tags=True)
    start = assess(service, target)
    ctx.known_good = record.undo_target = start.known_good
    record.previous_task_definition = start.running
    configuration = chosen.prepare(ctx)
    if dry_run:
        return {"dry_run": True, "would": _plan(env, start, target), "deploymentConfiguration": configuration,
                "strategy": name, "undo_target": start.known_good}
    if start.refused:
        raise RefusedByGuard(f"{env.service} is being deployed by another run ({start.in_flight}): wait for it "
                             "to finish, or stop it, then deploy again")
    directory = Path(record_dir) if record_dir else loaded.path.parent / ".shipline" / "records"
    record.phase("prepare", deploymentConfiguration=configuration, adopt=start.adopt, known_good=start.known_good)
    record.write(directory)  # a killed run leaves its record "in progress"
    with _recorded(record, directory):
        return _execute(chosen, ctx, start, service, configuration, directory)


def _plan(env: Any, start: StartingPoint, target: str) -> str:
    if start.refused:
        return f"refuse: {env.service} is being deployed by another run ({start.in_flight})"
    if start.already_good:
        return f"nothing: {env.service} already runs {_short(target)}, its last revision known good"
    if start.adopt:
        return f"judge deployment {start.adopt} of {_short(target)}, already under way in {env.cluster}"
    return f"update {env.service} in {env.cluster} to {target}"


def _execute(chosen: Any, ctx: DeployContext, start: StartingPoint, service: dict[str, Any],
             configuration: dict[str, Any], directory: Path) -> dict[str, Any]:
    record, env = ctx.record, ctx.env
    if start.assumed_good and start.known_good is not None:  # tagged before the first change, for any re-run
        mark_good(ctx.ecs, service["serviceArn"], start.known_good)
        record.phase("known good", task_definition=start.known_good, assumed="it ran steadily before this deploy")
    if env.deploy.pre_deploy is not None and start.adopt is None:
        _pre_deploy(ctx, env)
    with suspended(ctx):
        if start.adopt is not None:
            deployment_id = start.adopt
            log.info("deployment %s of %s is already under way: judging it", deployment_id,
                     _short(ctx.task_definition))
            record.phase("adopt", deployment=deployment_id)
        else:
            deployment_id = chosen.shift(ctx, configuration, force=start.running == ctx.task_definition)
            record.phase("shift", deployment=deployment_id)
            log.info("deployment %s started (%s): %s -> %s", deployment_id, chosen.name, _short(start.running),
                     _short(ctx.task_definition))
        record.deployment_id = deployment_id
        outcome = chosen.verify(ctx, deployment_id, window=not start.already_good)
        record.phase("verify", success=outcome.success, reason=outcome.reason)
        if outcome.taken_over:
            record.decide("taken over", outcome.reason)
            raise RefusedByGuard(f"deploy stopped: {outcome.reason}; nothing was undone (the other deploy owns "
                                 "the service now)", details={"diagnosis": outcome.diagnosis})
        if not outcome.success:
            raise _undo(chosen, ctx, outcome)
    if not start.already_good:
        mark_good(ctx.ecs, service["serviceArn"], ctx.task_definition)
        record.phase("known good", task_definition=ctx.task_definition)
    chosen.finish(ctx)
    record.phase("finish")
    record.decide("succeeded", outcome.reason)
    log.info("%s", outcome.reason)
    return _result(record, directory)


@contextmanager
def _recorded(record: Record, directory: Path) -> Iterator[None]:
    """Complete the record however the run ends (a decision already taken stands)."""
    try:
        yield
    except ShiplineError as error:
        if record.decision == "in progress":
            record.decide("failed", error.message)
        error.details["record"] = str(record.write(directory))
        raise
    except BaseException as error:  # a bug or an interruption: the record says so, then it propagates
        record.decide("interrupted" if isinstance(error, KeyboardInterrupt) else "internal error",
                      f"{type(error).__name__}: {error}")
        record.write(directory)
        raise


def _undo(chosen: Any, ctx: DeployContext, failure: Outcome) -> OperationFailed | TimedOut | NeedsHuman:
    """Put the last revision known good back; return the error that says how it ended."""
    record = ctx.record
    record.phase("undo", reason=failure.reason, diagnosis=failure.diagnosis, to=ctx.known_good)
    if ctx.known_good is None or ctx.known_good == ctx.task_definition:
        why = "no revision of it is known good" if ctx.known_good is None else \
            f"{_short(ctx.known_good)} was its last revision known good"
        record.decide("needs a human", f"{failure.reason}; nothing to return to: {why}")
        return NeedsHuman(f"deploy failed ({failure.reason}) and there is nothing to return to ({why}): the "
                          "service needs a human", details={"diagnosis": failure.diagnosis})
    log.warning("deploy failed: %s; returning to %s, the last revision known good", failure.reason,
                _short(ctx.known_good))
    back = chosen.undo(ctx)
    record.rollback = {"to": ctx.known_good, "success": back.success, "reason": back.reason}
    record.phase("undone", success=back.success)
    if not back.success:
        record.decide("needs a human", f"{failure.reason}; the rollback failed too: {back.reason}")
        return NeedsHuman(f"deploy failed ({failure.reason}) and the rollback to "
                          f"{_short(ctx.known_good)} failed too ({back.reason}): the service needs "
                          "a human", details={"diagnosis": failure.diagnosis})
    record.decide("rolled back", failure.reason)
    message = f"deploy failed: {failure.reason}; the service is back on {_short(ctx.known_good)}"
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
    """`shipline rollback`: return the service to `to`, or to its last revision known good (or, when it
    already runs that, the newest older active revision), and wait until healthy; the target becomes the
    revision known good."""
    references.require(references.rollback_target, to, "to")
    loaded = load_config(config)
    env = loaded.config.environment(environment)
    record = Record(service=env.service, environment=environment, strategy="rollback", image=None,
                    task_definition="", previous_task_definition=None, parameters={})
    ctx = DeployContext(env, "", None, record)
    service = ctx.describe_service(tags=True)
    current = service["taskDefinition"]
    target = _rollback_target(ctx, current, last_good(service), to)
    ctx.task_definition = ctx.known_good = record.task_definition = target
    record.previous_task_definition = current
    if dry_run:
        return {"dry_run": True, "would": f"update {env.service} from {_short(current)} to {_short(target)}"}
    directory = loaded.path.parent / ".shipline" / "records"
    record.write(directory)
    with _recorded(record, directory):
        response = ctx.ecs.update_service(cluster=env.cluster, service=env.service, taskDefinition=target,
                                          forceNewDeployment=True)
        deployment_id = record.deployment_id = response["service"]["deployments"][0]["id"]
        record.phase("shift", deployment=deployment_id)
        outcome = watch(ctx, deployment_id, target, env.deploy.rollback_timeout)
        record.phase("verify", success=outcome.success, reason=outcome.reason)
        if not outcome.success:
            record.decide("needs a human", outcome.reason)
            raise NeedsHuman(f"rollback to {_short(target)} failed: {outcome.reason}")
        mark_good(ctx.ecs, service["serviceArn"], target)
        record.decide("succeeded", outcome.reason)
        return _result(record, directory)


def _rollback_target(ctx: DeployContext, current: str, known_good: str | None, to: str | None) -> str:
    family, revision = family_and_revision(current)
    if to:
        reference = to if to.startswith("arn:") or ":" in to else f"{family}:{to}"
    elif known_good is not None and known_good != current:
        reference = known_good
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
