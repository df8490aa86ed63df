"""Knowing the truth about the deployment this run created.

Success: that deployment (by id, from the UpdateService response) is PRIMARY, COMPLETED, runs our task
definition with running = desired, every target in the service's target groups is healthy, and it stays
so through the stability window (a release fails late: tasks that exit, targets that turn unhealthy, the
running count falling below desired, a deployment alarm). A FAILED rollout, or our deployment failed and
replaced by ECS, is a failure, never a success; our deployment replaced by somebody else's update is a
take-over, reported as such and never undone. `services-stable` is never the test.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from .. import aws, timescale

if TYPE_CHECKING:
    from .context import DeployContext
    from .record import Record

log = logging.getLogger(__name__)
_FAILED_TASK_CODES = ("TaskFailedToStart", "EssentialContainerExited")
# seconds on AWS, run at the time scale (timescale.py)
BELOW_DESIRED_TOLERANCE = 10.0  # the running count may stay below desired in the window this long
WINDOW_POLL_SECONDS = (2.0, 3.0)  # a late failure is seen within 3 s, at 3 read calls a poll
LATE_SECONDS = 5.0  # a window that began longer ago than this is judged in part from AWS state


@dataclass
class Outcome:
    success: bool
    reason: str
    timed_out: bool = False
    taken_over: bool = False     # another actor's deployment replaced ours: not ours to undo
    diagnosis: dict[str, Any] = field(default_factory=dict)


def watch(ctx: "DeployContext", record: "Record", deployment_id: str, task_definition: str,
          timeout: float) -> Outcome:
    """Poll (adaptive interval with jitter) until the deployment succeeds, fails, or `timeout` passes;
    each observation goes to `record`."""
    deadline, interval = time.monotonic() + timeout, timescale.poll(1.0)
    seen_events: set[str] = set()
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    fail_fast_after = ctx.env.deploy.fail_fast_after
    state = "not yet seen"
    while True:
        service = ctx.describe_service()
        _print_new_events(service, seen_events, since)
        verdict, state = _judge(ctx, record, service, deployment_id, task_definition)
        mine = next((d for d in service.get("deployments", []) if d["id"] == deployment_id), {})
        failed_count = mine.get("failedTasks", 0)
        # the stopped tasks are read only when they matter: a failure to explain, or enough to fail fast
        needed = (verdict is not None and not verdict.success) or failed_count >= fail_fast_after
        failures = _failed_tasks(ctx, deployment_id) if needed else []
        if verdict is not None:
            if failures:  # a failure always says why the tasks died
                verdict.reason += f" ({len(failures)} failed tasks: {_summary(failures)})"
                verdict.diagnosis = _diagnosis(service, failures)
            return verdict
        if len(failures) >= fail_fast_after:
            return Outcome(False, f"{len(failures)} tasks of deployment {deployment_id} failed: "
                                  f"{_summary(failures)}", diagnosis=_diagnosis(service, failures))
        if time.monotonic() >= deadline:
            return Outcome(False, f"timed out after {timeout:g}s waiting for deployment {deployment_id} to "
                                  f"complete (last state: {state})", timed_out=True,
                           diagnosis=_diagnosis(service, failures))
        time.sleep(min(interval * random.uniform(0.8, 1.2), max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.3, timescale.poll(5.0))


def stability_window(ctx: "DeployContext", record: "Record", deployment_id: str, done: Outcome,
                     began: dt.datetime | None = None) -> Outcome:
    """After completion, the release must stay healthy for the environment's stability window: every
    check `watch` makes, plus no task of this deployment failing, no target unhealthy, the running count
    not below desired for long, and no deployment alarm in ALARM. Any of them fails the release.

    `began`: when the window began (ECS's event saying the deployment completed). A run that picks the
    deploy up late (a re-run, `follow`) judges the time since from AWS state — tasks of the deployment
    stopped since, alarms in ALARM or whose state changed since — and watches only the rest."""
    window, alarms = ctx.env.stability_window, list(ctx.env.deploy.alarms)
    if window <= 0:
        return done
    cloudwatch = aws.client("cloudwatch", region=ctx.env.region, role_arn=ctx.env.role_arn) if alarms else None
    went_to_alarm = _history_reader(cloudwatch)
    seen_events: set[str] = set()
    since = dt.datetime.now(dt.timezone.utc)
    began = min(began or since, since)
    late = (since - began).total_seconds() if (since - began).total_seconds() > timescale.scaled(LATE_SECONDS) else 0.0
    log.info("stability window: watching deployment %s for %gs%s%s", deployment_id, max(window - late, 0),
             f" and alarms {', '.join(alarms)}" if alarms else "",
             f" ({late:.0f}s of the {window:g}s window judged from AWS state: it began before this run)"
             if late else "")
    stopped_before = _stopped_before(ctx, deployment_id, began if late else None)
    start = time.monotonic() - late
    deadline, below_since = start + window, None
    while True:
        service = ctx.describe_service()
        _print_new_events(service, seen_events, since)
        verdict = _identity(service, deployment_id)
        mine = next((d for d in service.get("deployments", []) if d["id"] == deployment_id), {})
        if verdict is None:
            verdict = _new_failures(ctx, service, deployment_id, stopped_before)
        if verdict is None:
            unhealthy = _unhealthy_targets(ctx, service, waiting=())
            if unhealthy:
                verdict = Outcome(False, f"target(s) {', '.join(unhealthy)} turned unhealthy during the "
                                         "stability window", diagnosis=_diagnosis(service, []))
        if verdict is None and mine.get("runningCount", 0) < mine.get("desiredCount", 0):
            below_since = below_since or time.monotonic()
            if time.monotonic() - below_since > timescale.scaled(BELOW_DESIRED_TOLERANCE):
                verdict = Outcome(False, f"only {mine['runningCount']} of {mine['desiredCount']} tasks running for "
                                         f"over {timescale.scaled(BELOW_DESIRED_TOLERANCE):g}s during the stability "
                                         "window",
                                  diagnosis=_diagnosis(service, []))
        elif verdict is None:
            below_since = None
        if verdict is None and cloudwatch is not None:
            verdict = _alarm_verdict(cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"], began,
                                     went_to_alarm)
        if verdict is not None:
            elapsed = time.monotonic() - start
            verdict.reason += f" ({elapsed:.0f}s into the {window:g}s stability window)"
            record.phase("stability window failed", seconds=round(elapsed, 1), reason=verdict.reason)
            return verdict
        if time.monotonic() >= deadline:
            record.phase("stability window passed", seconds=window, **({"judged_after": round(late, 1)}
                                                                        if late else {}))
            return Outcome(True, done.reason + f"; stayed healthy through a {window:g}s stability window")
        time.sleep(min(random.uniform(*map(timescale.poll, WINDOW_POLL_SECONDS)),
                       max(0.0, deadline - time.monotonic())))


def completed_at(service: dict[str, Any], deployment_id: str) -> dt.datetime | None:
    """When ECS said `deployment_id` completed (its service event), if the service still lists that event."""
    return next((e["createdAt"] for e in service.get("events", [])
                 if f"(deployment {deployment_id}) deployment completed" in e["message"]), None)


def _stopped_before(ctx: "DeployContext", deployment_id: str, began: dt.datetime | None) -> set[str]:
    """The deployment's tasks already stopped when the window began (all stopped ones when `began` is None:
    the window begins now)."""
    arns = _stopped_task_arns(ctx, deployment_id)
    if began is None or not arns:
        return set(arns)
    tasks = ctx.ecs.describe_tasks(cluster=ctx.env.cluster, tasks=arns[:100])["tasks"]
    return {t["taskArn"] for t in tasks if t.get("stoppedAt") is not None and t["stoppedAt"] < began}


WentToAlarm = Callable[[str, dt.datetime, dt.datetime], bool]  # (alarm, since, its last change): did it?


def _alarm_verdict(described: list[dict[str, Any]], began: dt.datetime, went_to_alarm: WentToAlarm) -> Outcome | None:
    """A failure when a deployment alarm is in ALARM, or went to ALARM since the window `began` (by its
    history, read only for an alarm whose state changed since): an ALARM that cleared between two polls,
    or before this run watched, still fails. A change to OK or INSUFFICIENT_DATA (a metric that starts or
    stops flowing) is no failure."""
    firing = [a["AlarmName"] for a in described if a["StateValue"] == "ALARM"]
    if firing:
        return Outcome(False, f"alarm {', '.join(firing)} went to ALARM during the stability window")
    cleared = [a["AlarmName"] for a in described if a.get("StateUpdatedTimestamp")
               and a["StateUpdatedTimestamp"] >= began
               and went_to_alarm(a["AlarmName"], began, a["StateUpdatedTimestamp"])]
    if cleared:
        return Outcome(False, f"alarm {', '.join(cleared)} went to ALARM during the stability window (and has "
                              "left it since)")
    return None


def _history_reader(cloudwatch: Any) -> WentToAlarm:
    """Whether an alarm went to ALARM since a time, by DescribeAlarmHistory; one read per change seen."""

    @functools.lru_cache(maxsize=64)
    def went_to_alarm(name: str, since: dt.datetime, changed: dt.datetime) -> bool:
        pages = cloudwatch.get_paginator("describe_alarm_history").paginate(
            AlarmName=name, HistoryItemType="StateUpdate", StartDate=since)
        return any(json.loads(item.get("HistoryData") or "{}").get("newState", {}).get("stateValue") == "ALARM"
                   for page in pages for item in page["AlarmHistoryItems"])

    return went_to_alarm


def _identity(service: dict[str, Any], deployment_id: str) -> Outcome | None:
    """A failure when our deployment failed, vanished or is no longer PRIMARY; None while it is ours."""
    deployments = service.get("deployments", [])
    mine = next((d for d in deployments if d["id"] == deployment_id), None)
    if mine is not None and mine["rolloutState"] == "FAILED":
        return Outcome(False, f"deployment {deployment_id} failed: {mine.get('rolloutStateReason')}",
                       diagnosis=_diagnosis(service, []))
    primary = deployments[0]
    if mine is not None and primary["id"] == deployment_id:
        return None
    failed_event = _failure_event(service, deployment_id)
    if failed_event is not None:  # ECS failed ours and rolled back (circuit breaker or deployment alarm)
        return Outcome(False, f"ECS failed deployment {deployment_id} and rolled back: {failed_event}",
                       diagnosis=_diagnosis(service, []))
    return Outcome(False, f"deployment {deployment_id} was replaced by deployment {primary['id']} running "
                          f"{primary['taskDefinition'].rsplit('/', 1)[-1]}: another deploy took the service "
                          "over", taken_over=True, diagnosis=_diagnosis(service, []))


def _failure_event(service: dict[str, Any], deployment_id: str) -> str | None:
    """ECS's service event saying it failed `deployment_id` ('(deployment X) deployment failed: ...')."""
    return next((e["message"] for e in service.get("events", [])
                 if f"(deployment {deployment_id}) deployment failed" in e["message"]), None)


def _judge(ctx: "DeployContext", record: "Record", service: dict[str, Any], deployment_id: str,
           task_definition: str) -> tuple[Outcome | None, str]:
    deployments = service.get("deployments", [])
    mine = next((d for d in deployments if d["id"] == deployment_id), None)
    verdict = _identity(service, deployment_id)
    if verdict is not None or mine is None:
        return verdict, "failed" if mine is not None else "vanished"
    state = (f"{mine['rolloutState']}, {mine['runningCount']}/{mine['desiredCount']} running, "
             f"{len(deployments)} deployment(s)")
    record.observe(deployment=deployment_id, rolloutState=mine["rolloutState"], running=mine["runningCount"],
                       desired=mine["desiredCount"], pending=mine["pendingCount"], failed=mine.get("failedTasks"))
    if mine["taskDefinition"] != task_definition:
        return Outcome(False, f"deployment {deployment_id} runs {mine['taskDefinition']}, not "
                              f"{task_definition}"), state
    done = mine["rolloutState"] == "COMPLETED" and mine["runningCount"] == mine["desiredCount"] and \
        len(deployments) == 1
    if done:
        unhealthy = _unhealthy_targets(ctx, service)
        if not unhealthy:
            return Outcome(True, f"deployment {deployment_id} completed: {mine['runningCount']} tasks of "
                                 f"{task_definition.rsplit('/', 1)[-1]} running and healthy"), state
        state += f", waiting for {len(unhealthy)} target(s) to be healthy"
    return None, state


def _new_failures(ctx: "DeployContext", service: dict[str, Any], deployment_id: str,
                  known: set[str]) -> Outcome | None:
    """A failure when a task of this deployment stopped on its own since `known` was taken."""
    new = [arn for arn in _stopped_task_arns(ctx, deployment_id) if arn not in known]
    if not new:
        return None
    known.update(new)
    tasks = ctx.ecs.describe_tasks(cluster=ctx.env.cluster, tasks=new[:100])["tasks"]
    failures = [t for t in tasks if _is_failure(t)]
    if not failures:
        return None
    return Outcome(False, f"{len(failures)} task(s) of deployment {deployment_id} failed after it completed: "
                          f"{_summary(failures)}", diagnosis=_diagnosis(service, failures))


def _unhealthy_targets(ctx: "DeployContext", service: dict[str, Any],
                       waiting: tuple[str, ...] = ("initial", "unavailable")) -> list[str]:
    """Targets of the service's target groups that are unhealthy (or still in a `waiting` state)."""
    found = []
    for lb in service.get("loadBalancers", []):
        if "targetGroupArn" not in lb:
            continue
        health = ctx.elb.describe_target_health(TargetGroupArn=lb["targetGroupArn"])["TargetHealthDescriptions"]
        found += [f"{t['Target']['Id']}:{t['Target'].get('Port')} {t['TargetHealth']['State']}" for t in health
                  if t["TargetHealth"]["State"] in ("unhealthy",) + waiting]
    return found


def _stopped_task_arns(ctx: "DeployContext", deployment_id: str) -> list[str]:
    return ctx.ecs.list_tasks(cluster=ctx.env.cluster, startedBy=deployment_id,
                              desiredStatus="STOPPED")["taskArns"]


def _is_failure(task: dict[str, Any]) -> bool:
    """Stopped on its own (exited, could not start) or for failing its load balancer's or its containers'
    health checks."""
    reason = task.get("stoppedReason") or ""
    return task.get("stopCode") in _FAILED_TASK_CODES or "failed ELB health checks" in reason \
        or "failed container health checks" in reason


def _failed_tasks(ctx: "DeployContext", deployment_id: str) -> list[dict[str, Any]]:
    """Stopped tasks of this deployment that failed (exited, could not start, failed health checks)."""
    arns = _stopped_task_arns(ctx, deployment_id)
    if not arns:
        return []
    tasks = ctx.ecs.describe_tasks(cluster=ctx.env.cluster, tasks=arns[:100])["tasks"]
    return [t for t in tasks if _is_failure(t)]


def _summary(failures: list[dict[str, Any]]) -> str:
    reasons: dict[str, int] = {}
    for task in failures:
        codes = [str(c["exitCode"]) for c in task.get("containers", []) if c.get("exitCode") is not None]
        reason = task.get("stoppedReason", "stopped") + (f" (exit code {', '.join(codes)})" if codes else "")
        reasons[reason] = reasons.get(reason, 0) + 1
    return "; ".join(f"{count}x {reason}" for reason, count in reasons.items())


def _diagnosis(service: dict[str, Any], failures: list[dict[str, Any]]) -> dict[str, Any]:
    return {"stopped_tasks": [{"task": t["taskArn"].rsplit("/", 1)[-1], "stoppedReason": t.get("stoppedReason"),
                               "stopCode": t.get("stopCode"),
                               "exitCodes": {c["name"]: c.get("exitCode") for c in t.get("containers", [])}}
                              for t in failures[:10]],
            "events": [e["message"] for e in service.get("events", [])[:10]]}


def _print_new_events(service: dict[str, Any], seen: set[str], since: dt.datetime) -> None:
    """Each service event once, oldest first, and only those of this run."""
    for event in reversed(service.get("events", [])[:20]):
        if event["id"] not in seen and event["createdAt"] >= since:
            seen.add(event["id"])
            log.info("%s", event["message"])
