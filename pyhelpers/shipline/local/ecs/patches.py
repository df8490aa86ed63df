"""The ECS, ELB and CloudWatch Logs operations the emulation serves instead of moto (pinned exactly):
CreateService, UpdateService, DescribeServices, DeleteService, RunTask, StopTask, DescribeTasks,
ListTasks and DescribeTargetHealth; RegisterTaskDefinition keeps every field as ECS does (moto drops
or rewrites some). Everything else stays moto's."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .scheduler import EcsEmulation

_active: "EcsEmulation | None" = None
_installed = False


def install(emulation: "EcsEmulation") -> None:
    """Route the operations to `emulation` (patching moto once per process)."""
    global _active, _installed
    _active = emulation
    if _installed:
        return
    from moto.core.responses import ActionResult
    from moto.ecs.exceptions import InvalidParameterException
    from moto.ecs.responses import EC2ContainerServiceResponse as ECS
    from moto.elbv2.responses import ELBV2Response as ELB

    original = {name: getattr(ECS, name) for name in ("create_service", "update_service", "describe_services",
                                                       "delete_service", "register_task_definition")}
    original_target_health = ELB.describe_target_health

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
        result = original["create_service"](self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                                self._get_param("serviceName"))
        _emulation().service_created(self.ecs_backend, service, self._get_param("deploymentConfiguration"))
        return result

    def update_service(self: Any) -> Any:
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"), self._get_param("service"))
        previous = service.task_definition
        result = original["update_service"](self)
        _emulation().service_updated(self.ecs_backend, service, previous, self._get_param("deploymentConfiguration"),
                                     bool(self._get_param("forceNewDeployment")))
        return result

    def describe_services(self: Any) -> Any:
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        _emulation().sync(self.ecs_backend, cluster.name, self._get_param("services", []))
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
        tasks = _emulation().run_task(backend, cluster, definition, count, self._get_param("startedBy") or "",
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
        cluster = self.ecs_backend._get_cluster(self._get_param("cluster", "default"))
        service = self._get_param("serviceName")
        family = self._get_param("family")
        started_by = self._get_param("startedBy")
        desired = self._get_param("desiredStatus") or "RUNNING"
        emulation = _emulation()
        with emulation.lock:
            arns = [t.arn for t in emulation.tasks.values()
                    if t.cluster == cluster.name and t.account == self.ecs_backend.account_id
                    and t.region == self.ecs_backend.region_name and t.desired_status == desired
                    and (service is None or t.group == f"service:{service.split('/')[-1]}")
                    and (family is None or t.task_definition_arn.split("/")[-1].split(":")[0] == family)
                    and (started_by is None or t.started_by == started_by)]
        return ActionResult({"taskArns": arns})

    def describe_target_health(self: Any) -> Any:
        group_arn = self._get_param("TargetGroupArn")
        ours = _emulation().targets_of(group_arn)
        if not ours:
            return original_target_health(self)
        wanted = {(t["Id"], int(t["Port"])) for t in self._get_param("Targets", []) if "Port" in t}
        if wanted:
            ours = [t for t in ours if (t["Target"]["Id"], t["Target"]["Port"]) in wanted]
        return ActionResult({"TargetHealthDescriptions": ours})

    for name, method in (("register_task_definition", register_task_definition),
                         ("create_service", create_service), ("update_service", update_service),
                         ("describe_services", describe_services), ("delete_service", delete_service),
                         ("run_task", run_task), ("stop_task", stop_task), ("describe_tasks", describe_tasks),
                         ("list_tasks", list_tasks)):
        setattr(ECS, name, method)
    ELB.describe_target_health = describe_target_health
    _installed = True


def _emulation() -> "EcsEmulation":
    if _active is None:
        raise RuntimeError("the ECS emulation is not running")
    return _active
