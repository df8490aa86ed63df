"""Plan a deploy or a rollback with read calls only: a DeployPlan says what will change, in order, why,
how long it should take, and what makes it slow. `--dry-run` prints it; engine.execute performs it.

The plan's actions are the run's mutating calls, in order, on the way to a success; `way_back` holds
those made after a failure (the strategy's own way back), and actions marked `always` (restoring auto
scaling) are made however the run ends.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..actions import Action, calls_of
from ..config import ResolvedEnvironment
from ..errors import BadInput, EnvironmentProblem
from ..taskdef.marks import recorded
from .autoscaling import suspension
from .context import DeployContext
from .deploy_table import DeployTable
from .guards import deploy_refusal, release_refusal, schema_refusal
from .lease import DETACHED, PAUSED, Lease
from .lease_terms import LeaseTerms, abort, leasing, pause_actions
from .record import Record
from .revisions import active_revisions, family_and_revision, revisions_to_deregister
from .run import Run
from .starting_point import StartingPoint, assess
from .strategies import load as load_strategy
from .strategies.base import Strategy
from .watch import Outcome

log = logging.getLogger(__name__)
SLOW_DEREGISTRATION = 60.0    # seconds of draining per batch that deserve a warning
SLOW_TO_HEALTHY = 60.0        # seconds before a new task takes traffic that deserve a warning


@dataclass
class DeployPlan:
    kind: str                          # "deploy" or "rollback"
    ctx: DeployContext
    record: Record                     # the run's record, written when execution starts
    strategy: Strategy
    start: StartingPoint
    record_dir: Path
    actions: list[Action]
    way_back: list[Action]
    seconds: dict[str, float]
    warnings: list[str]
    health_signal: str
    lease: LeaseTerms
    refusal: str | None = None         # a guard's (freeze, window, schema, older commit): it must not start
    configuration: dict[str, Any] = field(default_factory=dict)

    @property
    def expected_seconds(self) -> float:
        return round(sum(self.seconds.values()), 1)

    @property
    def calls(self) -> list[str]:
        """The mutating calls a successful run makes, in order."""
        return calls_of(self.actions)

    def summary(self) -> str:
        env, start = self.ctx.env, self.start
        if self.refusal is not None:
            return f"refuse: {self.refusal}"
        if self.lease.blocker is not None:
            return f"{'wait for' if self.lease.wait else 'refuse:'} {env.service} is being deployed by " \
                   f"{self.lease.blocker.describe(time.time())}"
        if start.refused:
            return f"refuse: {env.service} is being deployed by another run ({start.in_flight})"
        if start.already_good:
            return f"nothing: {env.service} already runs {_short(self.ctx.task_definition)}, its last revision " \
                   "known good"
        if start.adopt:
            return f"judge deployment {start.adopt} of {_short(self.ctx.task_definition)}, already under way"
        return f"{self.kind} {env.service} in {env.cluster} from {_short(start.running)} to " \
               f"{_short(self.ctx.task_definition) if self.ctx.task_definition else 'a new revision'} " \
               f"({self.strategy.name})"

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": True, "kind": self.kind, "would": self.summary(), "strategy": self.strategy.name,
                "service": self.ctx.env.service, "cluster": self.ctx.env.cluster,
                "environment": self.ctx.env.name, "running": self.start.running,
                "target": self.ctx.task_definition or None, "undo_target": self.start.known_good,
                "deploymentConfiguration": self.configuration, "health_signal": self.health_signal,
                "actions": [a.to_json() for a in self.actions], "way_back": [a.to_json() for a in self.way_back],
                "expected_seconds": self.expected_seconds, "expected": self.seconds, "warnings": self.warnings,
                "run_id": self.lease.lease.identity.run_id, "lease": self.lease.to_json()}


def plan_deploy(env: ResolvedEnvironment, *, strategy: str, target: str | None,
                document: dict[str, Any] | None, image: str | None, record_dir: Path, run_id: str,
                wait_for_lease: float = 0.0, force: str | None = None, resume: bool = False,
                allow_older: bool = False, repo: Path | None = None) -> DeployPlan:
    """The plan of a deploy of `target` (a registered revision) or `document` (registered by the plan's
    first action unless an equal revision exists): read calls only. The guards refuse a new change: a
    freeze, a closed deploy window too unless `force` gives the reason to go anyway. `resume`: continue
    this release's deploy paused at a point of deploy.pause_at (exit 3 when none is paused, unless the release
    is in service and known good already: nothing to resume). A release that
    cannot run beside the revision in service (schema levels), or whose commit is older than its commit (in
    the checkout at `repo`) unless `allow_older`, is refused."""
    from ..taskdef.register import register_document

    chosen = load_strategy(strategy)
    if document is not None:
        target = register_document(env, document, dry_run=True).get("taskDefinitionArn")
    record = Record(service=env.service, environment=env.name, strategy=chosen.name, image=image,
                    task_definition=target or "", previous_task_definition=None, run_id=run_id,
                    parameters=_parameters(env))
    ctx = DeployContext(env, target or "", None)
    service = ctx.describe_service()
    lease = leasing(ctx, image or target or "", run_id, wait=wait_for_lease, resumes=resume)
    start = assess(service, target or "(a new revision)", lease.known_good)
    lease = dataclasses.replace(lease, continues=start.adopt)  # the lease item read once
    release_warnings: list[str] = []
    # the guards stop new changes; a re-run judging its own deployment already under way goes on
    refusal = None if start.adopt else deploy_refusal(env, DeployTable(env), dt.datetime.now(dt.timezone.utc), force)
    if refusal is None and start.running != target:
        refusal = release_refusal(ctx.ecs, start.running, document, target, repo, allow_older, release_warnings)
    if resume and lease.resumed_at is None and not start.already_good:  # done already: nothing to resume
        raise EnvironmentProblem(f"--resume: no deploy of this release is paused on {env.service} (the deploy lease: "
                                 f"{lease.holder.describe(time.time()) if lease.holder else 'free'})")
    pauses = pause_actions(ctx, lease)
    ctx.known_good = record.undo_target = start.known_good
    record.previous_task_definition = start.running
    facts = _facts(ctx, service, document)
    actions: list[Action] = []
    if force is not None:
        record.phase("forced", reason=force)
    if refusal is not None or start.refused:
        plan = _plan("deploy", ctx, record, chosen, start, record_dir, actions, [], facts, lease)
        return dataclasses.replace(plan, refusal=refusal)
    facts["warnings"] = release_warnings
    if start.already_good:  # judged once more (no window); a failure has nothing to return to
        actions.append(_verify(ctx, chosen, start, chosen.health_signal(ctx, facts)))
        return _plan("deploy", ctx, record, chosen, start, record_dir, actions, [], facts, lease)
    if target is None and document is not None:
        actions.append(_register(ctx, document))
    if start.assumed_good and start.known_good is not None:
        actions.append(Action(f"mark {_short(start.known_good)} as the service's last revision known good",
                              ("dynamodb.UpdateItem",), reason="it ran steadily before this deploy: the way back",
                              run=lambda run: _mark_good(run, lease.lease, start.known_good,
                                                         "it ran steadily before this deploy")))
    if env.deploy.pre_deploy is not None and start.adopt is None and lease.resumed_at is None:
        actions.append(_pre_deploy(ctx))  # a resumed deploy ran it before its pause
    actions += pauses.get("before-traffic", []) if start.adopt is None else []
    suspended = suspension(ctx)
    actions += [suspended[0]] if suspended else []
    if start.adopt is None:
        shift = chosen.shift_actions(ctx, force=start.running == target)
        actions += shift[:-1] + [_handing(shift[-1])]
    family = document["family"] if document is not None else family_and_revision(target or "")[0]
    actions += _judge_and_finish(ctx, chosen, start, lease.lease, facts, family, registering=target is None,
                                 resume=suspended[1] if suspended else None, pauses=pauses)
    way_back = chosen.way_back(ctx, start.known_good, start.adopt) if start.known_good else []
    return _plan("deploy", ctx, record, chosen, start, record_dir, actions, way_back, facts, lease)


def plan_follow(env: ResolvedEnvironment, *, token: str, record_dir: Path, run_id: str) -> DeployPlan:
    """The plan that picks up a detached deploy from AWS state alone: judge what the token's handle names,
    then finish, or take the strategy's way back to the last revision known good (the deploy table's)."""
    name, handle, target = parse_token(token)
    chosen = load_strategy(name)
    record = Record(service=env.service, environment=env.name, strategy=chosen.name, image=None,
                    task_definition="", previous_task_definition=None, run_id=run_id,
                    parameters={**_parameters(env), "following": token})
    ctx = DeployContext(env, "", None)
    service = ctx.describe_service()
    try:
        arn = ctx.ecs.describe_task_definition(taskDefinition=target)["taskDefinition"]["taskDefinitionArn"]
    except ctx.ecs.exceptions.ClientException:
        raise BadInput(f"follow: task definition {target} (from {token!r}) not found") from None
    ctx.task_definition = record.task_definition = arn
    lease = leasing(ctx, arn, run_id, continues=handle)
    known_good = lease.known_good
    primary = service["deployments"][0] if service.get("deployments") else {}
    already_good = known_good == arn and primary.get("id") == handle and primary.get("rolloutState") == "COMPLETED"
    start = StartingPoint(running=primary.get("taskDefinition", ""), known_good=known_good, assumed_good=False,
                          adopt=handle, already_good=already_good)
    ctx.known_good = record.undo_target = known_good
    record.previous_task_definition = known_good
    facts = _facts(ctx, service, None)
    if already_good:
        verify = _verify(ctx, chosen, start, chosen.health_signal(ctx, facts))
        return _plan("deploy", ctx, record, chosen, start, record_dir, [verify], [], facts, lease)
    actions = _judge_and_finish(ctx, chosen, start, lease.lease, facts, family_and_revision(arn)[0],
                                registering=False, resume=None, pauses=pause_actions(ctx, lease))
    way_back = chosen.way_back(ctx, known_good, handle) if known_good else []
    return _plan("deploy", ctx, record, chosen, start, record_dir, actions, way_back, facts, lease)


def follow_token(strategy: str, handle: str, task_definition: str) -> str:
    """What `deploy --detach` prints and `shipline follow` takes: strategy/handle/family:revision."""
    return f"{strategy}/{handle}/{_short(task_definition)}"


def parse_token(token: str) -> tuple[str, str, str]:
    name, _, rest = token.partition("/")
    handle, _, target = rest.rpartition("/")
    if not (name and handle and ":" in target):
        raise BadInput(f"follow: {token!r} is not what 'deploy --detach' prints "
                       "(<strategy>/<handle>/<family>:<revision>)")
    return name, handle, target


def _judge_and_finish(ctx: DeployContext, chosen: Strategy, start: StartingPoint, lease: Lease,
                      facts: dict[str, Any], family: str, *, registering: bool,
                      resume: Action | None, pauses: dict[str, list[Action]]) -> list[Action]:
    """Verify, (restore auto scaling), (pause before known good), mark the new revision known good, finish."""
    actions = [_verify(ctx, chosen, start, chosen.health_signal(ctx, facts))] + ([resume] if resume else [])
    actions += pauses.get("before-known-good", [])
    actions.append(Action("mark the new revision as the service's last revision known good",
                          ("dynamodb.UpdateItem",), run=lambda run: _mark_good(run, lease, ctx.task_definition)))
    return actions + chosen.finish(ctx, revisions_to_deregister(ctx, family, registering=registering))


def plan_rollback(env: ResolvedEnvironment, *, to: str | None, record_dir: Path, run_id: str,
                  force: str | None = None) -> DeployPlan:
    """The plan of a rollback: the environment's strategy's way back to `to`, or to the last revision
    known good (or, when the service runs that already, the newest older active revision). Across schema
    levels that cannot run side by side (a migration in between) it is refused unless `force` gives why."""
    chosen = load_strategy(env.deploy.strategy)
    record = Record(service=env.service, environment=env.name, strategy="rollback", image=None,
                    task_definition="", previous_task_definition=None, run_id=run_id,
                    parameters={"strategy": chosen.name, "rollback_timeout": env.deploy.rollback_timeout})
    ctx = DeployContext(env, "", None)
    service = ctx.describe_service()
    current = service["taskDefinition"]
    record.previous_task_definition = current
    facts = _facts(ctx, service, None)
    held = leasing(ctx, current, run_id, aborts_paused=True)
    if to is None and held.holder is not None and held.holder.state in (PAUSED, DETACHED) and \
            held.known_good == current:  # a deploy paused before its traffic moved: nothing to undo
        ctx.task_definition = ctx.known_good = record.task_definition = record.undo_target = current
        start = StartingPoint(running=current, known_good=current, assumed_good=False)
        return _plan("rollback", ctx, record, chosen, start, record_dir, [abort(held.holder, current)], [], facts,
                     held)
    target = _rollback_target(ctx, current, held.known_good, to)
    ctx.task_definition = ctx.known_good = record.task_definition = record.undo_target = target
    lease = held.for_release(target)  # the lease item read once
    start = StartingPoint(running=current, known_good=target, assumed_good=False)
    refusal = schema_refusal(recorded(ctx.ecs, current).levels, recorded(ctx.ecs, target).levels, rollback=True,
                             force_reason=force) if target != current else None
    if refusal is not None:
        plan = _plan("rollback", ctx, record, chosen, start, record_dir, [], [], facts, lease)
        return dataclasses.replace(plan, refusal=refusal)
    suspended = suspension(ctx)
    actions = ([suspended[0]] if suspended else []) + _judged(chosen.way_back(ctx, target, None))
    actions += [suspended[1]] if suspended else []
    actions.append(Action(f"mark {_short(target)} as the service's last revision known good", ("dynamodb.UpdateItem",),
                          run=lambda run: _mark_good(run, lease.lease, target)))
    return _plan("rollback", ctx, record, chosen, start, record_dir, actions, [], facts, lease)


def _plan(kind: str, ctx: DeployContext, record: Record, chosen: Strategy, start: StartingPoint,
          record_dir: Path, actions: list[Action], way_back: list[Action], facts: dict[str, Any],
          lease: LeaseTerms) -> DeployPlan:
    """The plan; its actions (when there are any) between taking and releasing the service's lease."""
    seconds = chosen.seconds(ctx, facts) if actions else {}
    if kind == "rollback":
        seconds.pop("stability window", None)
    if actions:
        actions = [lease.take()] + actions + [lease.release()]
    return DeployPlan(kind, ctx, record, chosen, start, record_dir, actions, way_back, seconds,
                      _warnings(ctx, facts), chosen.health_signal(ctx, facts), lease,
                      configuration=chosen.settings(ctx))


def _facts(ctx: DeployContext, service: dict[str, Any], document: dict[str, Any] | None) -> dict[str, Any]:
    """What the expected duration and the warnings are computed from (read calls only)."""
    groups = [lb["targetGroupArn"] for lb in service.get("loadBalancers", []) if "targetGroupArn" in lb]
    facts: dict[str, Any] = {"desired": service.get("desiredCount", 0), "target_groups": [],
                             "seconds_to_healthy": 0.0, "deregistration_delay": 0.0}
    if groups:
        for group in ctx.elb.describe_target_groups(TargetGroupArns=groups)["TargetGroups"]:
            attributes = ctx.elb.describe_target_group_attributes(TargetGroupArn=group["TargetGroupArn"])
            delay = next((float(a["Value"]) for a in attributes["Attributes"]
                          if a["Key"] == "deregistration_delay.timeout_seconds"), 300.0)
            to_healthy = float(group.get("HealthCheckIntervalSeconds", 30) * group.get("HealthyThresholdCount", 5))
            facts["target_groups"].append({"name": group["TargetGroupName"], "deregistration_delay": delay,
                                           "protocol": group.get("Protocol", "HTTP"),
                                           "seconds_to_healthy": to_healthy,
                                           "interval": group.get("HealthCheckIntervalSeconds", 30),
                                           "healthy_threshold": group.get("HealthyThresholdCount", 5)})
            facts["seconds_to_healthy"] = max(facts["seconds_to_healthy"], to_healthy)
            facts["deregistration_delay"] = max(facts["deregistration_delay"], delay)
    facts["service_connect"] = any(d.get("serviceConnectConfiguration", {}).get("enabled")
                                   for d in service.get("deployments", []))
    containers = (document or {}).get("containerDefinitions")
    if containers is None and ctx.task_definition:
        containers = ctx.ecs.describe_task_definition(taskDefinition=ctx.task_definition)["taskDefinition"][
            "containerDefinitions"]
    checks = [c["healthCheck"] for c in containers or [] if c.get("healthCheck")]
    facts["container_health_checks"] = len(checks)
    if not groups:
        facts["seconds_to_healthy"] = max((float(c.get("startPeriod", 0) + c.get("interval", 30)) for c in checks),
                                          default=0.0)
    return facts


def _warnings(ctx: DeployContext, facts: dict[str, Any]) -> list[str]:
    """Each setting that makes deploys slow (or blind), named with a remedy; what a guard cannot tell."""
    warnings = list(facts.get("warnings", []))
    for group in facts["target_groups"]:
        delay = group["deregistration_delay"]
        if delay >= SLOW_DEREGISTRATION:
            warnings.append(f"target group {group['name']}: deregistration_delay.timeout_seconds is {delay:g}s"
                            f"{' (the default)' if delay == 300 else ''}: old tasks drain that long at every "
                            "batch; 5-30 s is enough for most HTTP services")
        if group["seconds_to_healthy"] >= SLOW_TO_HEALTHY:
            warnings.append(f"target group {group['name']}: health check interval {group['interval']}s x healthy "
                            f"threshold {group['healthy_threshold']} = {group['seconds_to_healthy']:g}s before a "
                            "new task takes traffic")
    if ctx.env.stability_window <= 0:
        warnings.append("deploy.bake_time is 0: no stability window, so a release that fails after its "
                        "deployment completes is reported as a success")
    return warnings


def _register(ctx: DeployContext, document: dict[str, Any]) -> Action:
    from ..taskdef.register import register_document

    def register(run: Run) -> None:
        arn = register_document(ctx.env, document)["taskDefinitionArn"]
        ctx.task_definition = run.record.task_definition = arn

    return Action(f"register a new revision of task definition family {document['family']}",
                  ("ecs.RegisterTaskDefinition",), reason="no revision of the family equals the release's",
                  run=register)


def _pre_deploy(ctx: DeployContext) -> Action:
    task = ctx.env.deploy.pre_deploy
    assert task is not None

    def pre_deploy(run: Run) -> None:
        from ..errors import OperationFailed
        from .run_task import run_one_off

        run.record.phase("pre_deploy", command=task.command)
        result = run_one_off(ctx.ecs, ctx.env, ctx.task_definition, task.command, task.container, task.timeout)
        run.record.phase("pre_deploy done", exit_code=result["exitCode"])
        if result["exitCode"] != 0:
            run.record.decide("stopped before traffic moved", f"pre_deploy exited {result['exitCode']}")
            raise OperationFailed(f"pre_deploy task {' '.join(task.command)!r} exited {result['exitCode']}: "
                                  "nothing was deployed", details={"task": result})

    return Action(f"run the pre_deploy task ({' '.join(task.command)}) from the new revision", ("ecs.RunTask",),
                  reason="it must succeed before traffic moves", run=pre_deploy)


def _handing(action: Action) -> Action:
    """The strategy's last shift action, keeping the handle it returns for what follows."""
    def run(state: Run) -> None:
        state.handle = action.run(state) if action.run else None
        state.record.deployment_id = state.handle
        state.record.phase("shift", deployment=state.handle)
        log.info("deployment %s started: %s -> %s", state.handle, _short(state.record.previous_task_definition),
                 _short(state.ctx.task_definition))

    return dataclasses.replace(action, run=run)


def _verify(ctx: DeployContext, chosen: Strategy, start: StartingPoint, signal: str) -> Action:
    def verify(run: Run) -> Outcome:
        if start.adopt is not None:
            run.handle = run.record.deployment_id = start.adopt
            run.record.phase("adopt", deployment=start.adopt)
            log.info("deployment %s of %s is already under way: judging it", start.adopt,
                     _short(ctx.task_definition))
        assert run.handle is not None
        run.outcome = chosen.verify(ctx, run.record, run.handle, window=not start.already_good)
        run.record.phase("verify", success=run.outcome.success, reason=run.outcome.reason)
        return run.outcome

    scale = (f" ({ctx.env.stability_window / ctx.env.time_scale:g}s on AWS, at time scale {ctx.env.time_scale:g})"
             if ctx.env.time_scale != 1 else "")
    window = f", then through the {ctx.env.stability_window:g}s stability window{scale}" \
        if ctx.env.stability_window else ""
    return Action(f"watch the deployment until it completes with every task healthy (by {signal}; timeout "
                  f"{ctx.env.deploy.timeout:g}s){window}", (), run=verify)


def _parameters(env: ResolvedEnvironment) -> dict[str, Any]:
    """What a record keeps of the settings a deploy ran with (the stability window in this run's time)."""
    return {**env.deploy.model_dump(mode="json"), "stability_window": env.stability_window,
            "time_scale": env.time_scale}


def _judged(way_back: list[Action]) -> list[Action]:
    """A rollback's way back, its outcome recorded like a deploy's verify."""
    last = way_back[-1]

    def run(state: Run) -> Outcome:
        state.outcome = last.run(state) if last.run else None
        assert state.outcome is not None
        state.record.phase("verify", success=state.outcome.success, reason=state.outcome.reason)
        return state.outcome

    return way_back[:-1] + [dataclasses.replace(last, run=run)]


def _mark_good(run: Run, lease: Lease, task_definition: str | None, assumed: str | None = None) -> None:
    """Name the revision known good in the deploy table, fenced by the lease (LeaseLost when it is lost)."""
    assert task_definition is not None
    lease.mark_good(task_definition)
    run.record.phase("known good", task_definition=task_definition, **({"assumed": assumed} if assumed else {}))


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


def _short(arn: str | None) -> str:
    return (arn or "none").rsplit("/", 1)[-1]
