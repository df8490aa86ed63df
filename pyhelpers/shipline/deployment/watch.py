"""Knowing the truth about the deployment this run created.

Success: that deployment (by id, from the UpdateService response) is PRIMARY, COMPLETED, runs our task
definition with running = desired, and every target in the service's target groups is healthy. A
FAILED rollout, a vanished deployment id, or a PRIMARY running another revision (ECS rolled back) is
a failure, never a success. `services-stable` is never the test.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import aws

if TYPE_CHECKING:
    from .context import DeployContext

log = logging.getLogger(__name__)
_FAILED_TASK_CODES = ("TaskFailedToStart", "EssentialContainerExited")


@dataclass
class Outcome:
    success: bool
    reason: str
    timed_out: bool = False
    diagnosis: dict[str, Any] = field(default_factory=dict)


def watch(ctx: "DeployContext", deployment_id: str, task_definition: str, timeout: float) -> Outcome:
    """Poll (adaptive interval with jitter) until the deployment succeeds, fails, or `timeout` passes."""
    deadline, interval = time.monotonic() + timeout, 1.0
    seen_events: set[str] = set()
    since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)
    fail_fast_after = ctx.env.deploy.fail_fast_after
    state = "not yet seen"
    while True:
        service = ctx.describe_service()
        _print_new_events(service, seen_events, since)
        verdict, state = _judge(ctx, service, deployment_id, task_definition)
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
        interval = min(interval * 1.3, 5.0)


def bake(ctx: "DeployContext", deployment_id: str, done: Outcome) -> Outcome:
    """The bake window after completion: the deployment must stay PRIMARY and every deployment alarm
    OK for deploy.bake_time, or the release fails (and is undone)."""
    bake_time, alarms = ctx.env.deploy.bake_time, list(ctx.env.deploy.alarms)
    cloudwatch = aws.client("cloudwatch", region=ctx.env.region, role_arn=ctx.env.role_arn) if alarms else None
    log.info("baking for %gs%s", bake_time, f" watching alarms {', '.join(alarms)}" if alarms else "")
    deadline = time.monotonic() + bake_time
    while time.monotonic() < deadline:
        if cloudwatch is not None:
            firing = [a["AlarmName"] for a in cloudwatch.describe_alarms(AlarmNames=alarms)["MetricAlarms"]
                      if a["StateValue"] == "ALARM"]
            if firing:
                return Outcome(False, f"alarm {', '.join(firing)} went to ALARM during the bake window")
        primary = ctx.describe_service()["deployments"][0]
        if primary["id"] != deployment_id:
            return Outcome(False, f"deployment {deployment_id} was replaced during the bake window by "
                                  f"{primary['id']}")
        time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
    ctx.record.phase("baked", seconds=bake_time)
    return Outcome(True, done.reason + f"; stayed healthy through a {bake_time:g}s bake window")


def _judge(ctx: "DeployContext", service: dict[str, Any], deployment_id: str,
           task_definition: str) -> tuple[Outcome | None, str]:
    deployments = service.get("deployments", [])
    mine = next((d for d in deployments if d["id"] == deployment_id), None)
    if mine is None:
        return Outcome(False, f"deployment {deployment_id} vanished: ECS replaced it"), "vanished"
    state = (f"{mine['rolloutState']}, {mine['runningCount']}/{mine['desiredCount']} running, "
             f"{len(deployments)} deployment(s)")
    ctx.record.observe(deployment=deployment_id, rolloutState=mine["rolloutState"], running=mine["runningCount"],
                       desired=mine["desiredCount"], pending=mine["pendingCount"], failed=mine.get("failedTasks"))
    if mine["rolloutState"] == "FAILED":
        return Outcome(False, f"deployment {deployment_id} failed: {mine.get('rolloutStateReason')}",
                       diagnosis=_diagnosis(service, [])), state
    primary = deployments[0]
    if primary["id"] != deployment_id:
        return Outcome(False, f"ECS rolled back: the PRIMARY deployment is {primary['id']} running "
                              f"{primary['taskDefinition']} ({primary.get('rolloutStateReason')})",
                       diagnosis=_diagnosis(service, [])), state
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


def _unhealthy_targets(ctx: "DeployContext", service: dict[str, Any]) -> list[str]:
    found = []
    for lb in service.get("loadBalancers", []):
        if "targetGroupArn" not in lb:
            continue
        health = ctx.elb.describe_target_health(TargetGroupArn=lb["targetGroupArn"])["TargetHealthDescriptions"]
        found += [f"{t['Target']['Id']}:{t['Target'].get('Port')} {t['TargetHealth']['State']}" for t in health
                  if t["TargetHealth"]["State"] not in ("healthy", "draining", "unused")]
    return found


def _failed_tasks(ctx: "DeployContext", deployment_id: str) -> list[dict[str, Any]]:
    """Stopped tasks of this deployment that failed (exited, could not start, failed health checks)."""
    arns = ctx.ecs.list_tasks(cluster=ctx.env.cluster, startedBy=deployment_id, desiredStatus="STOPPED")["taskArns"]
    if not arns:
        return []
    tasks = ctx.ecs.describe_tasks(cluster=ctx.env.cluster, tasks=arns[:100])["tasks"]
    return [t for t in tasks if t.get("stopCode") in _FAILED_TASK_CODES
            or "failed ELB health checks" in (t.get("stoppedReason") or "")]


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
