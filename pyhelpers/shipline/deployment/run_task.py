"""`shipline run-task`: a one-off task (e.g. a migration) from a revision, its log lines streamed from
CloudWatch Logs, failing with the container's exit code."""
from __future__ import annotations

import logging
import time
from typing import Any

from .. import aws, references
from ..config import ResolvedEnvironment, load_config
from ..errors import BadInput, OperationFailed, TimedOut
from .service import describe_service, find_service

log = logging.getLogger(__name__)


def run_task(config: str = "shipline.yaml", *, environment: str, service: str | None = None,
             command: list[str] | None = None, task_definition: str | None = None,
             container: str | None = None, timeout: float = 600.0) -> dict[str, Any]:
    """Run the service's current revision (or `task_definition`) once; exit 1 when it exits non-zero."""
    references.require(references.task_definition, task_definition, "task_definition")
    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    ecs = aws.client("ecs", region=env.region, role_arn=env.role_arn)
    if task_definition is None:
        service = describe_service(env, fix="pass --task-definition")
        if service.revision is None:
            raise BadInput(f"service {env.service} runs no task definition of its own (its deployment controller "
                           f"is {service.controller}): pass --task-definition")
        task_definition = service.revision
    result = run_one_off(ecs, env, task_definition, command or [], container, timeout)
    if result["exitCode"] != 0:
        raise OperationFailed(f"the task exited {result['exitCode']}: {result.get('stoppedReason')}",
                              details={"task": result})
    return result


def run_one_off(ecs: Any, env: ResolvedEnvironment, task_definition: str, command: list[str],
                container: str | None, timeout: float) -> dict[str, Any]:
    """Start the task, stream its log lines, wait until STOPPED; return its outcome."""
    definition = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
    containers = definition["containerDefinitions"]
    target = next((c for c in containers if c["name"] == container), None) if container else \
        next((c for c in containers if c.get("essential", True)), containers[0])
    if target is None:
        raise BadInput(f"no container {container!r} in {task_definition}")
    overrides = {"containerOverrides": [{"name": target["name"], "command": command}]} if command else {}
    kwargs: dict[str, Any] = {}
    if definition.get("networkMode") == "awsvpc":
        service = find_service(env)
        if service is not None and service.network_configuration:
            kwargs["networkConfiguration"] = service.network_configuration
    started = ecs.run_task(cluster=env.cluster, taskDefinition=task_definition, count=1, startedBy="shipline",
                           overrides=overrides, launchType=_launch_type(definition), **kwargs)
    if started.get("failures"):
        raise OperationFailed(f"the task could not start: {started['failures']}")
    task_arn = started["tasks"][0]["taskArn"]
    log.info("started task %s (%s)", task_arn.rsplit("/", 1)[-1], " ".join(command) or "default command")
    lines = _LogTail(env, target, task_arn)
    deadline, interval = time.monotonic() + timeout, 0.25
    while True:
        task = ecs.describe_tasks(cluster=env.cluster, tasks=[task_arn])["tasks"][0]
        lines.poll()
        if task["lastStatus"] == "STOPPED":
            lines.poll()
            exit_code = next((c.get("exitCode") for c in task["containers"] if c["name"] == target["name"]), None)
            return {"taskArn": task_arn, "exitCode": exit_code if exit_code is not None else -1,
                    "stoppedReason": task.get("stoppedReason"), "stopCode": task.get("stopCode"),
                    "lines": lines.count}
        if time.monotonic() >= deadline:
            ecs.stop_task(cluster=env.cluster, task=task_arn, reason="shipline run-task timed out")
            raise TimedOut(f"timed out after {timeout:g}s waiting for task {task_arn.rsplit('/', 1)[-1]} to stop "
                           "(it was stopped)")
        time.sleep(interval)
        interval = min(interval * 1.3, 3.0)


def _launch_type(definition: dict[str, Any]) -> str:
    return "FARGATE" if "FARGATE" in definition.get("requiresCompatibilities", []) else "EC2"


class _LogTail:
    """Prints a container's new CloudWatch Logs lines (awslogs driver) as they arrive."""

    def __init__(self, env: ResolvedEnvironment, container: dict[str, Any], task_arn: str) -> None:
        options = (container.get("logConfiguration") or {}).get("options", {})
        self.group = options.get("awslogs-group") if container.get("logConfiguration", {}).get(
            "logDriver") == "awslogs" else None
        prefix = options.get("awslogs-stream-prefix")
        task_id = task_arn.rsplit("/", 1)[-1]
        self.stream = f"{prefix}/{container['name']}/{task_id}" if prefix else task_id
        self.logs = aws.client("logs", region=options.get("awslogs-region") or env.region, role_arn=env.role_arn)
        self.token: str | None = None
        self.count = 0

    def poll(self) -> None:
        if self.group is None:
            return
        kwargs = {"nextToken": self.token} if self.token else {"startFromHead": True}
        try:
            page = self.logs.get_log_events(logGroupName=self.group, logStreamName=self.stream, **kwargs)
        except self.logs.exceptions.ResourceNotFoundException:
            return  # no line written yet
        for event in page["events"]:
            log.info("| %s", event["message"])
            self.count += 1
        self.token = page["nextForwardToken"]


def render(result: dict[str, Any]) -> str:
    return f"task {result['taskArn'].rsplit('/', 1)[-1]} exited {result['exitCode']} ({result['lines']} log lines)"
