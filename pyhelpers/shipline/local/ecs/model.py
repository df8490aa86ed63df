"""The emulated ECS objects: services, their deployments and tasks, and how the ECS API shows them."""
from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def new_deployment_id() -> str:
    return f"ecs-svc/{uuid.uuid4().int % 10**19:019d}"


@dataclass
class ContainerRecord:
    name: str
    image: str
    essential: bool
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None
    docker_id: str | None = None
    log_options: dict[str, str] | None = None
    health_checked: bool = False       # the container definition has a healthCheck
    health_status: str = "UNKNOWN"     # HEALTHY, UNHEALTHY or UNKNOWN (container_health.py)

    def to_api(self, task_arn: str) -> dict[str, Any]:
        out: dict[str, Any] = {"containerArn": f"{task_arn}/{self.name}", "taskArn": task_arn, "name": self.name,
                               "image": self.image, "lastStatus": self.last_status,
                               "healthStatus": self.health_status}
        if self.docker_id:
            out["runtimeId"] = self.docker_id
        if self.exit_code is not None:
            out["exitCode"] = self.exit_code
        if self.reason:
            out["reason"] = self.reason
        return out


@dataclass
class TaskRecord:
    """One task: a real container set on the local engine, in ECS's task lifecycle."""

    arn: str
    cluster_arn: str
    cluster: str
    account: str
    region: str
    task_definition_arn: str
    group: str
    started_by: str
    launch_type: str
    containers: list[ContainerRecord]
    overrides: dict[str, Any] = field(default_factory=dict)
    service_key: str | None = None
    deployment_id: str | None = None
    last_status: str = "PROVISIONING"
    desired_status: str = "RUNNING"
    created_at: dt.datetime = field(default_factory=now)
    pull_started_at: dt.datetime | None = None
    pull_stopped_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    stopping_at: dt.datetime | None = None
    stopped_at: dt.datetime | None = None
    stopped_reason: str | None = None
    stop_code: str | None = None
    host_ports: dict[int, int] = field(default_factory=dict)
    targets: list[tuple[str, int]] = field(default_factory=list)    # (target group ARN, host port)
    expects_targets: bool = False      # behind a load balancer: healthy only once registered and healthy
    failure_counted: bool = False
    healthy_counted: bool = False      # its turning healthy has been seen by the circuit breaker
    stop_at: float | None = None       # when a draining task's containers get stopped

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    @property
    def alive(self) -> bool:
        return self.last_status != "STOPPED"

    @property
    def health_checked(self) -> bool:
        return any(c.health_checked for c in self.containers)

    @property
    def health_status(self) -> str:
        """ECS's task healthStatus: UNHEALTHY when a checked essential container is, HEALTHY when all of
        them are, else UNKNOWN; non-essential containers' checks count only when no essential container
        has one."""
        checked = [c for c in self.containers if c.health_checked and c.essential] or \
            [c for c in self.containers if c.health_checked]
        statuses = {c.health_status for c in checked}
        if "UNHEALTHY" in statuses:
            return "UNHEALTHY"
        return "HEALTHY" if statuses == {"HEALTHY"} else "UNKNOWN"

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "taskArn": self.arn, "clusterArn": self.cluster_arn, "taskDefinitionArn": self.task_definition_arn,
            "lastStatus": self.last_status, "desiredStatus": self.desired_status, "group": self.group,
            "launchType": self.launch_type, "createdAt": self.created_at, "overrides": {
                "containerOverrides": self.overrides.get("containerOverrides", [])},
            "containers": [c.to_api(self.arn) for c in self.containers], "version": 1,
            "availabilityZone": f"{self.region}a", "connectivity": "CONNECTED", "healthStatus": self.health_status,
        }
        if self.started_by:
            out["startedBy"] = self.started_by
        for key, value in (("pullStartedAt", self.pull_started_at), ("pullStoppedAt", self.pull_stopped_at),
                           ("startedAt", self.started_at), ("stoppingAt", self.stopping_at),
                           ("stoppedAt", self.stopped_at), ("stoppedReason", self.stopped_reason),
                           ("stopCode", self.stop_code)):
            if value is not None:
                out[key] = value
        return out


@dataclass
class Deployment:
    id: str
    task_definition: str
    desired_count: int
    launch_type: str
    status: str = "PRIMARY"
    rollout_state: str = "IN_PROGRESS"
    rollout_state_reason: str = ""
    failed_tasks: int = 0              # consecutive failed tasks, as the circuit breaker counts them
    stage: int = 1                     # the circuit breaker's stage: 1 until a task is RUNNING, then 2
    rollback: bool = False             # started by the scheduler to return to the last COMPLETED one
    created_at: dt.datetime = field(default_factory=now)
    updated_at: dt.datetime = field(default_factory=now)
    network_configuration: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        self.rollout_state_reason = self.rollout_state_reason or f"ECS deployment {self.id} in progress."

    def to_api(self, running: int, pending: int) -> dict[str, Any]:
        out = {"id": self.id, "status": self.status, "taskDefinition": self.task_definition,
               "desiredCount": self.desired_count, "pendingCount": pending, "runningCount": running,
               "failedTasks": self.failed_tasks, "createdAt": self.created_at, "updatedAt": self.updated_at,
               "launchType": self.launch_type, "rolloutState": self.rollout_state,
               "rolloutStateReason": self.rollout_state_reason}
        if self.network_configuration:
            out["networkConfiguration"] = self.network_configuration
        return out


@dataclass
class ServiceSim:
    """The scheduler's view of one ECS-controller service; `handle` is moto's service object, which
    only the bridge opens."""

    account: str
    region: str
    cluster: str
    name: str
    handle: Any
    desired: int
    configuration: dict[str, Any]
    load_balancers: list[dict[str, Any]]
    grace_period: float = 0.0          # healthCheckGracePeriodSeconds, in real seconds
    deployments: list[Deployment] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    last_completed: Deployment | None = None

    @property
    def key(self) -> str:
        return service_key(self.account, self.region, self.cluster, self.name)

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    def event(self, message: str) -> None:
        self.events.insert(0, {"id": str(uuid.uuid4()), "createdAt": now(),
                               "message": f"(service {self.name}) {message}"})
        del self.events[100:]


def service_key(account: str, region: str, cluster: str, name: str) -> str:
    return f"{account}:{region}:{cluster}:{name}"
