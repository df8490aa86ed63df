"""The ECS, ELB and CloudWatch Logs operations the emulation serves instead of moto (pinned exactly):
CreateService, UpdateService, DescribeServices, DeleteService, RunTask, StopTask, DescribeTasks,
ListTasks, RegisterTargets, DeregisterTargets (for 127.0.0.1 targets), DeleteTargetGroup and
DescribeTargetHealth;
RegisterTaskDefinition keeps every field as ECS does (moto drops or rewrites some). After the ELB
calls that add, change or remove load balancers and listeners, the listener data plane syncs.
Everything else stays moto's.

The patched operations reach the emulation only through `Emulation` and `Listeners`, installed by
the local world; moto's backend and service objects pass through them as opaque handles.
"""
from __future__ import annotations

from typing import Any, Protocol


class Task(Protocol):
    cluster: str

    def to_api(self) -> dict[str, Any]: ...


class Emulation(Protocol):
    """What the patched operations ask of the ECS emulation."""

    def service_created(self, backend: Any, handle: Any, configuration: dict[str, Any] | None,
                        grace_period: int | None) -> None: ...

    def service_updated(self, backend: Any, handle: Any, previous_definition: str | None,
                        configuration: dict[str, Any] | None, grace_period: int | None, force: bool) -> None: ...

    def service_deleted(self, backend: Any, handle: Any) -> None: ...

    def sync(self, account: str, region: str, cluster: str, names: list[str]) -> None: ...

    def run_task(self, account: str, region: str, cluster: str, definition_arn: str, count: int,
                 started_by: str, group: str | None, launch_type: str,
                 overrides: dict[str, Any]) -> list[Task]: ...

    def stop_task(self, task: Task, reason: str) -> None: ...

    def find_task(self, reference: str) -> Task | None: ...

    def list_tasks(self, account: str, region: str, cluster: str, service: str | None, family: str | None,
                   started_by: str | None, desired_status: str) -> list[str]: ...

    def targets_of(self, group_arn: str) -> list[dict[str, Any]]: ...

    def targets_registered(self, account: str, region: str, group_arn: str,
                           targets: list[dict[str, Any]]) -> None: ...

    def targets_deregistered(self, group_arn: str, targets: list[dict[str, Any]]) -> None: ...

    def target_group_deleted(self, group_arn: str) -> None: ...


class Listeners(Protocol):
    """What the patched ELB operations ask of the listener data plane."""

    def sync(self, account: str, region: str) -> None: ...


# the ELB operations after which the data plane syncs
LISTENER_CHANGES = ("create_load_balancer", "delete_load_balancer", "create_listener", "modify_listener",
                    "delete_listener")
_active: Emulation | None = None
_listeners: Listeners | None = None
_installed = False


def install(emulation: Emulation, listeners: Listeners) -> None:
    """Route the operations to `emulation` and `listeners` (patching moto once per process)."""
    global _active, _listeners, _installed
    _active, _listeners = emulation, listeners
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.responses import EC2ContainerServiceResponse as ECS
    from moto.elbv2.responses import ELBV2Response as ELB

    from . import valid_requests

    original = {name: getattr(ECS, name) for name in ("create_service", "update_service", "describe_services",
                                                       "delete_service", "register_task_definition",
                                                       "tag_resource")}
    original_target_health = ELB.describe_target_health
    original_elb = {name: getattr(ELB, name) for name in (*LISTENER_CHANGES, "register_targets",
                                                           "deregister_targets", "delete_target_group")}

    def register_task_definition(self: Any) -> Any:
        """moto's register, then every field of the request on the stored revision, as given."""
        from botocore import xform_name

        result = original["register_task_definition"](self)
        definition = self.ecs_backend.describe_task_definition(self._get_param("family"))
        for name, value in self._get_params().items():
            if name != "tags":
                setattr(definition, xform_name(name), value)
        return result

    def create_service(self: Any) -> Any:
        valid_requests.service_network(self.params)
        result = original["create_service"](self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                                self._get_param("serviceName"))
        _emulation().service_created(self.ecs_backend, service, self._get_param("deploymentConfiguration"),
                                     self._get_param("healthCheckGracePeriodSeconds"))
        return result

    def update_service(self: Any) -> Any:
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        previous = service.task_definition
        result = original["update_service"](self)
        _emulation().service_updated(self.ecs_backend, service, previous, self._get_param("deploymentConfiguration"),
                                     self._get_param("healthCheckGracePeriodSeconds"),
                                     bool(self._get_param("forceNewDeployment")))
        return result

    def describe_services(self: Any) -> Any:
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        _emulation().sync(backend.account_id, backend.region_name, cluster.name, self._get_param("services", []))
        return original["describe_services"](self)

    def delete_service(self: Any) -> Any:
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        result = original["delete_service"](self)
        _emulation().service_deleted(self.ecs_backend, service)
        return result

    def run_task(self: Any) -> Any:
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        definition = backend.describe_task_definition(self._get_param("taskDefinition"))
        count = self._get_int_param("count", 1)
        if not 1 <= count <= 10:
            raise InvalidParameterException("count must be between 1 and 10.")
        tasks = _emulation().run_task(backend.account_id, backend.region_name, cluster.name, definition.arn, count,
                                      self._get_param("startedBy") or "",
                                      self._get_param("group"), self._get_param("launchType") or "EC2",
                                      self._get_param("overrides") or {})
        return ActionResult({"tasks": [t.to_api() for t in tasks], "failures": []})

    def stop_task(self: Any) -> Any:
        self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        task = _emulation().find_task(self._get_param("task"))
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        _emulation().stop_task(task, self._get_param("reason") or "Task stopped by user")
        return ActionResult({"task": task.to_api()})

    def describe_tasks(self: Any) -> Any:
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        found, failures = [], []
        for reference in self._get_param("tasks", []):
            task = _emulation().find_task(reference)
            if task is None or task.cluster != cluster.name:
                failures.append({"arn": reference, "reason": "MISSING"})
            else:
                found.append(task.to_api())
        return ActionResult({"tasks": found, "failures": failures})

    def list_tasks(self: Any) -> Any:
        backend = self.ecs_backend
        cluster = backend._get_cluster(self._get_param("cluster", "default"))
        arns = _emulation().list_tasks(backend.account_id, backend.region_name, cluster.name,
                                       self._get_param("serviceName"), self._get_param("family"),
                                       self._get_param("startedBy"), self._get_param("desiredStatus") or "RUNNING")
        return ActionResult({"taskArns": arns})

    def tag_resource(self: Any) -> Any:
        try:
            valid_requests.tags(self.params)
        except valid_requests.Refused as refused:
            raise InvalidParameterException(str(refused)) from None
        return original["tag_resource"](self)

    def describe_target_health(self: Any) -> Any:
        group_arn = self._get_param("TargetGroupArn")
        ours = _emulation().targets_of(group_arn)
        if not ours:
            return original_target_health(self)
        wanted = {(t["Id"], int(t["Port"])) for t in self._get_param("Targets", []) if "Port" in t}
        if wanted:
            ours = [t for t in ours if (t["Target"]["Id"], t["Target"]["Port"]) in wanted]
        return ActionResult({"TargetHealthDescriptions": ours})

    def register_targets(self: Any) -> Any:
        backend = self.elbv2_backend
        result = original_elb["register_targets"](self)
        _emulation().targets_registered(backend.account_id, backend.region_name, self._get_param("TargetGroupArn"),
                                        self._get_param("Targets", []))
        return result

    def deregister_targets(self: Any) -> Any:
        result = original_elb["deregister_targets"](self)
        _emulation().targets_deregistered(self._get_param("TargetGroupArn"), self._get_param("Targets", []))
        return result

    def delete_target_group(self: Any) -> Any:
        result = original_elb["delete_target_group"](self)
        _emulation().target_group_deleted(self._get_param("TargetGroupArn"))
        return result

    def syncing(name: str) -> Any:
        def call(self: Any) -> Any:
            result = original_elb[name](self)
            _data_plane().sync(self.elbv2_backend.account_id, self.elbv2_backend.region_name)
            return result

        return call

    for name, method in (("register_task_definition", register_task_definition),
                         ("create_service", create_service), ("update_service", update_service),
                         ("describe_services", describe_services), ("delete_service", delete_service),
                         ("run_task", run_task), ("stop_task", stop_task), ("describe_tasks", describe_tasks),
                         ("list_tasks", list_tasks), ("tag_resource", tag_resource)):
        setattr(ECS, name, method)
    ELB.describe_target_health = describe_target_health
    ELB.register_targets = register_targets
    ELB.deregister_targets = deregister_targets
    ELB.delete_target_group = delete_target_group
    for name in LISTENER_CHANGES:
        setattr(ELB, name, syncing(name))
    _installed = True


def _emulation() -> Emulation:
    if _active is None:
        raise RuntimeError("the ECS emulation is not running")
    return _active


def _data_plane() -> Listeners:
    if _listeners is None:
        raise RuntimeError("the listener data plane is not running")
    return _listeners
