"""`shipline deploy` and `shipline rollback`: plan with read calls only, then execute the plan.

Where a deploy starts is decided from the live service alone (starting_point.py): a re-run adopts its
own deployment, a deploy beside another in-flight deployment is refused (exit 7). The plan (plan.py)
lists every change in order: (register) -> (mark the way back known good) -> (pre_deploy task) -> (suspend
auto scaling) -> the strategy's shift -> verify (completion, then the stability window) -> (restore auto
scaling) -> mark known good -> finish; on failure, the strategy's way back to the last revision known good
(named on the service's lease item in the deploy table). A rollback is the strategy's way back, planned and recorded the same way.
Exit 0 on success; 1 when it failed and the service is back on its last good revision; 4 on timeout
(after putting it back); 5 when putting it back failed too (the message says in which state the service
is); 7 when another deploy took the service over (nothing undone). The record is written when the run
starts and completed however it ends.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from .. import aws, references
from ..actions import Action
from ..config import LoadedConfig, load_config
from ..errors import (BadInput, EnvironmentProblem, NeedsHuman, OperationFailed, Paused, RefusedByGuard, ShiplineError,
                      TimedOut)
from ..imageref import ImageRef
from .identity import run_id as deploy_run_id
from .infra import require_infrastructure
from .lease import DETACHED, Lease, LeaseLost
from .multi import deploy_many
from .plan import DeployPlan, follow_token, plan_deploy, plan_follow, plan_rollback
from .record import Record
from .run import Run
from .release import render_document
from .watch import Outcome

log = logging.getLogger(__name__)


def deploy(config: str = "shipline.yaml", *, environment: str, image: str | None = None,
           task_definition: str | None = None, service: list[str] | None = None, all: bool = False,
           parallel: int = 4, all_or_nothing: bool = False, strategy: str | None = None,
           record_dir: str | None = None, run_id: str | None = None, wait_for_lease: float = 0.0,
           force: str | None = None, allow_older: bool = False, detach: bool = False, follow: bool = False,
           resume: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Deploy `image` (rendered and registered here) or a registered `task_definition` to `environment`;
    `dry_run`: return the plan, change nothing; `detach`: return once the strategy's first step is under
    way, with the token `follow` takes to judge and finish it; `follow`: never start a deploy, judge and
    finish the one of this release already under way (exit 3 when there is none). `run_id` names this
    deploy (default: the CI's run identifier): the same run id re-run takes its lease over; another deploy
    of the service is refused (exit 7) unless it waits for the lease (`wait_for_lease` seconds). A frozen
    service refuses the deploy (exit 7), and so does a closed deploy window unless `force` gives a reason.
    `service`: the services to deploy when shipline.yaml lists several; more than one, or `all`, deploy in
    parallel (`parallel` at a time, multi.py), each judged on its own; `all_or_nothing`: when one fails, the
    others this run deployed return to their revisions known good."""
    references.require(references.task_definition, task_definition, "task_definition")
    if (image is None) == (task_definition is None):
        raise BadInput("pass exactly one of --image <repository>@sha256:<digest> or --task-definition <ARN>")
    if image is not None and ImageRef.find(image) is None:
        raise BadInput(f"image {image!r} is not pinned by digest: deploy the image publish printed "
                       "(<repository>@sha256:<digest>)")
    if sum((detach, follow, resume)) > 1:
        raise BadInput("pass one of --detach (start, then return), --follow (judge what is under way) and --resume "
                       "(continue a paused deploy)")
    names = list(service or [])
    loaded = load_config(config, service=names[0] if len(names) == 1 and not all else None)
    request = DeployRequest(environment=environment, image=image, task_definition=task_definition, strategy=strategy,
                            record_dir=_records(loaded.path, record_dir), run_id=deploy_run_id(run_id),
                            wait_for_lease=wait_for_lease, force=force, allow_older=allow_older, follow=follow,
                            resume=resume, detach=detach, commit=_commit(loaded.path.parent))
    if not all and len(names) < 2:
        plan = _plan_deploy(loaded, request)
        return plan.to_json() if dry_run else execute(plan, detach=detach)
    if task_definition is not None:
        raise BadInput("--task-definition names one service's revision: deploy several services with --image")
    if all_or_nothing and detach:
        raise BadInput("--all-or-nothing judges every service before it ends: it cannot --detach")
    for name in names:
        loaded.config.select(name)  # an unknown name fails here, before anything is planned
    return deploy_many(loaded.config.names if all else list(dict.fromkeys(names)),
                       plan=lambda name: _plan_deploy(_selected(loaded, name), request),
                       execute=lambda plan: execute(plan, detach=detach),
                       way_back=lambda plan: execute(_return_plan(plan)),
                       parallel=parallel, all_or_nothing=all_or_nothing, dry_run=dry_run)


@dataclass(frozen=True)
class DeployRequest:
    """What one `shipline deploy` asks of each service it deploys."""

    environment: str
    image: str | None
    task_definition: str | None
    strategy: str | None
    record_dir: Path
    run_id: str
    wait_for_lease: float
    force: str | None
    allow_older: bool
    follow: bool
    resume: bool
    detach: bool
    commit: tuple[str, int] | None  # the checkout's commit and its time, read once for every service


def _plan_deploy(loaded: LoadedConfig, request: DeployRequest) -> DeployPlan:
    """The plan of `request` on the one service `loaded` describes: read calls only."""
    env = loaded.config.environment(request.environment)
    document = render_document(loaded, request.environment, request.image).document if request.image else None
    require_infrastructure(loaded, env, document)
    if request.detach and env.deploy.suspend_autoscaling:
        raise BadInput(f"--detach: deploy.suspend_autoscaling is on for {env.service}, and a detached deploy would "
                       "leave auto scaling suspended until it is followed; deploy attached")
    plan = plan_deploy(env, strategy=request.strategy or env.deploy.strategy, target=request.task_definition,
                       document=document, image=request.image, record_dir=request.record_dir,
                       run_id=request.run_id, wait_for_lease=request.wait_for_lease, force=request.force,
                       resume=request.resume, allow_older=request.allow_older, repo=loaded.path.parent)
    if request.commit is not None:
        plan.record.commit, plan.record.commit_time = request.commit
    if request.follow and plan.start.adopt is None:
        raise EnvironmentProblem(f"--follow: no deploy of this release is under way on {env.service} (it runs "
                                 f"{_short(plan.start.running)}): nothing to follow")
    return plan


def _selected(loaded: LoadedConfig, service: str) -> LoadedConfig:
    return loaded.model_copy(update={"config": loaded.config.select(service)})


def _return_plan(plan: DeployPlan) -> DeployPlan:
    """The plan that returns a service a deploy of this run changed to its revision known good before it."""
    return plan_rollback(plan.ctx.env, to=plan.start.known_good, record_dir=plan.record_dir,
                         run_id=plan.lease.lease.identity.run_id)


def follow(config: str = "shipline.yaml", *, environment: str, service: str | None = None, token: str,
           record_dir: str | None = None, run_id: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """`shipline follow`: pick up a detached deploy from AWS state alone (any agent, any directory): judge
    it through its stability window, then finish, or return to the last revision known good."""
    loaded = load_config(config)
    env = loaded.config.environment(environment)
    plan = plan_follow(env, token=token, record_dir=_records(loaded.path, record_dir), run_id=deploy_run_id(run_id))
    return plan.to_json() if dry_run else execute(plan)


def rollback(config: str = "shipline.yaml", *, environment: str, service: str | None = None,
             to: str | None = None, record_dir: str | None = None, run_id: str | None = None,
             force: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """`shipline rollback`: the environment's strategy's way back to `to`, or to the last revision known
    good (or, when the service already runs that, the newest older active revision), with deployment
    alarms disarmed and auto scaling suspended; the target becomes the revision known good."""
    references.require(references.rollback_target, to, "to")
    loaded = load_config(config)
    env = loaded.config.environment(environment)
    plan = plan_rollback(env, to=to, record_dir=_records(loaded.path, record_dir), run_id=deploy_run_id(run_id),
                         force=force)
    return plan.to_json() if dry_run else execute(plan)


def execute(plan: DeployPlan, detach: bool = False) -> dict[str, Any]:
    """Perform the plan's actions in order, recording each; on a failed verify, the way back. `detach`:
    stop once the strategy has set the deploy under way (its handle known), keeping the lease for the
    follow. From the lease taken on, every mutating call first checks the lease is still this run's."""
    record, env, start, lease = plan.record, plan.ctx.env, plan.start, plan.lease
    if plan.refusal is not None:
        raise RefusedByGuard(f"{plan.kind} refused: {plan.refusal}")
    blocker = lease.blocker
    if blocker is not None and not lease.wait:
        raise lease.lease.refusal(blocker)
    if start.refused:
        raise RefusedByGuard(f"{env.service} is being deployed by another run ({start.in_flight}): wait for it "
                             "to finish, or stop it, then deploy again")
    record.phase("prepare", deploymentConfiguration=plan.configuration, adopt=start.adopt,
                 known_good=start.known_good, actions=[a.description for a in plan.actions],
                 expected_seconds=plan.expected_seconds, run_id=lease.lease.identity.run_id)
    record.write(plan.record_dir)  # a killed run leaves its record "in progress"
    run = Run(plan.ctx, record, handle=start.adopt)
    fenced = lease.lease

    def fence(call: str, params: dict[str, Any]) -> None:
        if not fenced.owns(params):
            fenced.fence(call)

    with _recorded(record, plan.record_dir), fenced.heartbeat(), aws.guarded(fence):
        pending = list(plan.actions)
        detached = False  # the run ends keeping its lease (detached, or paused awaiting approval)
        try:
            while pending and not all(a.always for a in pending):  # the rest is done below, once decided
                if detach and run.handle is not None:
                    detached = True
                    return _detached(plan, run)
                action = pending.pop(0)
                result = _perform(run, action)
                if isinstance(result, Outcome) and not result.success:
                    raise _failed(plan, run, result)
            outcome = run.outcome
            assert outcome is not None
            record.phase("finish")
            record.decide("succeeded", outcome.reason)
            log.info("%s", outcome.reason)
        except ShiplineError as error:
            _decide_failed(record, error)
            detached = isinstance(error, Paused)
            raise
        finally:  # however the run ends (a failure, an error, an interruption): restore what must be
            if not detached:
                _perform_all(run, [a for a in pending if a.always], fenced)
        return _result(record, plan.record_dir)


def _detached(plan: DeployPlan, run: Run) -> dict[str, Any]:
    assert run.handle is not None
    token = follow_token(plan.strategy.name, run.handle, plan.ctx.task_definition)
    run.record.phase("detached", following=token)
    run.record.decide("detached", f"under way; 'shipline follow {token}' judges and finishes it")
    plan.lease.lease.keep(DETACHED, handle=run.handle, point=None, record=run.record.to_json())
    log.info("detached: follow it with: shipline follow --environment %s %s", plan.ctx.env.name, token)
    return {**_result(run.record, plan.record_dir), "following": token,
            "follow_after_seconds": plan.expected_seconds}


def _perform(run: Run, action: Action) -> Any:
    log.info("%s", action.description)
    return action.run(run) if action.run is not None else None


def _perform_all(run: Run, actions: list[Action], lease: Lease) -> None:
    for action in actions:
        if lease.lost is not None:
            log.warning("not done, the lease is another deploy's now: %s", action.description)
            continue
        _perform(run, action)


def _failed(plan: DeployPlan, run: Run, failure: Outcome) -> ShiplineError:
    """The error that says how a run whose verify failed ended: taken over, rolled back, or not."""
    record, ctx = run.record, plan.ctx
    if failure.taken_over:
        record.decide("taken over", failure.reason)
        return RefusedByGuard(f"deploy stopped: {failure.reason}; nothing was undone (the other deploy owns "
                              "the service now)", details={"diagnosis": failure.diagnosis})
    if plan.kind == "rollback":
        record.decide("needs a human", failure.reason)
        return NeedsHuman(f"rollback to {_short(ctx.task_definition)} failed: {failure.reason}")
    return _undo(plan, run, failure)


def _undo(plan: DeployPlan, run: Run, failure: Outcome) -> OperationFailed | TimedOut | NeedsHuman:
    """Perform the strategy's way back to the last revision known good; return the error that says how
    it ended."""
    record, ctx = run.record, plan.ctx
    record.phase("undo", reason=failure.reason, diagnosis=failure.diagnosis, to=ctx.known_good)
    if ctx.known_good is None or ctx.known_good == ctx.task_definition:
        why = "no revision of it is known good" if ctx.known_good is None else \
            f"{_short(ctx.known_good)} was its last revision known good"
        record.decide("needs a human", f"{failure.reason}; nothing to return to: {why}")
        return NeedsHuman(f"deploy failed ({failure.reason}) and there is nothing to return to ({why}): the "
                          "service needs a human", details={"diagnosis": failure.diagnosis})
    log.warning("deploy failed: %s; returning to %s, the last revision known good", failure.reason,
                _short(ctx.known_good))
    way_back = plan.strategy.way_back(ctx, ctx.known_good, run.handle)
    back: Outcome = [_perform(run, action) for action in way_back][-1]
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


@contextmanager
def _recorded(record: Record, directory: Path) -> Iterator[None]:
    """Complete the record however the run ends (a decision already taken stands)."""
    try:
        yield
    except ShiplineError as error:
        _decide_failed(record, error)
        error.details.update(record=str(record.write(directory)), decision=record.decision)
        raise
    except BaseException as error:  # a bug or an interruption: the record says so, then it propagates
        record.decide("interrupted" if isinstance(error, KeyboardInterrupt) else "internal error",
                      f"{type(error).__name__}: {error}")
        record.write(directory)
        raise


def _decide_failed(record: Record, error: ShiplineError) -> None:
    """The decision of a run that ends in `error` (a decision already taken stands)."""
    if record.decision == "in progress":
        record.decide("taken over" if isinstance(error, LeaseLost) else "failed", error.message)


def _result(record: Record, directory: Path) -> dict[str, Any]:
    path = record.write(directory)
    return {**record.to_json(), "record": str(path)}


def _records(config_path: Path, record_dir: str | None) -> Path:
    return Path(record_dir) if record_dir else config_path.parent / ".shipline" / "records"


def _commit(repo: Path) -> tuple[str, int] | None:
    """The commit behind the release and its time, for the records' lead time (None: not a checkout)."""
    from ..revision import current

    try:
        revision = current(repo)
    except ShiplineError:
        return None
    return revision.sha, revision.commit_time


def _short(arn: str | None) -> str:
    return (arn or "none").rsplit("/", 1)[-1]


def render(result: dict[str, Any]) -> str:
    if "services" in result:
        return _render_several(result)
    if result.get("dry_run"):
        holder = result["lease"]["holder"]
        lines = [f"would {result['would']}", f"  run id: {result['run_id']}; deploy lease: "
                 f"{holder['description'] if holder else 'free'}", f"  health signal: {result['health_signal']}",
                 f"  expected duration: {result['expected_seconds']:g}s"]
        lines += [f"  {i}. {a['action']}" for i, a in enumerate(result["actions"], 1)]
        lines += [f"  on failure: {a['action']}" for a in result["way_back"]]
        lines += [f"warning: {w}" for w in result["warnings"]]
        return "\n".join(lines)
    return f"{result['decision']}: {result['reason']} (record: {result['record']})"


def _render_several(result: dict[str, Any]) -> str:
    """deploy_many's result: one line for the command, then one per service."""
    if result.get("dry_run"):
        return "\n".join([f"would {result['would']}", *(f"  {name}: would {plan['would']}"
                                                         for name, plan in result["services"].items())])
    return "\n".join([f"{result['decision']}: {result['reason']}", *(
        f"  {name}: {one['decision']}: {one['reason']}" + (f" (record: {one['record']})" if "record" in one else "")
        for name, one in result["services"].items())])
