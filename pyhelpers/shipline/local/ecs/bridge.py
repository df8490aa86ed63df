"""The one module that reads and writes moto's ECS, ELBv2 and CloudWatch Logs models (CloudWatch's are
cloudwatch/store.py's).

The rest of the emulation sees plain values: a service's facts, a task definition, a target group's
health-check settings, a listener's rules. moto's service and listener objects travel
through it as opaque handles that only this module opens (moto is pinned exactly in the `local` extra).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .health import TargetGroupSettings


@dataclass(frozen=True)
class ServiceFacts:
    """What the scheduler needs to know of a moto service when it is created or updated."""

    account: str
    region: str
    cluster: str
    name: str
    controller: str
    task_definition: str | None
    desired: int
    launch_type: str
    network_configuration: dict[str, Any] | None
    load_balancers: list[dict[str, Any]]


@dataclass(frozen=True)
class TaskDefinition:
    arn: str
    family: str
    containers: list[dict[str, Any]]


def service_facts(backend: Any, service: Any) -> ServiceFacts:
    """The facts of `service` (a moto service of `backend`), its task definition as an ARN."""
    reference = service.task_definition
    return ServiceFacts(
        account=backend.account_id, region=backend.region_name, cluster=service.cluster_name,
        name=service.name, controller=(service.deployment_controller or {}).get("type", "ECS"),
        task_definition=backend.describe_task_definition(reference).arn if reference else None,
        desired=int(service.desired_count or 0), launch_type=service.launch_type or "EC2",
        network_configuration=service.network_configuration or None,
        load_balancers=list(service.load_balancers or []))


def set_configuration(service: Any, configuration: dict[str, Any]) -> None:
    service.deployment_configuration = configuration


def set_grace_period(service: Any, seconds: int) -> None:
    service.health_check_grace_period_seconds = seconds


def set_task_definition(service: Any, arn: str | None) -> None:
    service.task_definition = arn


def publish(service: Any, deployments: list[dict[str, Any]], running: int, pending: int,
            events: list[dict[str, Any]]) -> None:
    """Write the scheduler's view into moto's service object (what DescribeServices returns)."""
    service.deployments = deployments
    service.running_count, service.pending_count = running, pending
    service.events = events


def task_definition(account: str, region: str, reference: str) -> TaskDefinition:
    definition = _ecs(account, region).describe_task_definition(reference)
    return TaskDefinition(definition.arn, definition.family, definition.container_definitions)


def cluster_arn(account: str, region: str, cluster: str) -> str:
    return _ecs(account, region).clusters[cluster].arn


def health_settings(account: str, region: str, group_arn: str) -> TargetGroupSettings | None:
    """A target group's health-check settings in real seconds (None when the group is gone)."""
    group = _target_groups(account, region).get(group_arn)
    if group is None:
        return None
    matcher = getattr(group, "matcher", None) or {"HttpCode": "200"}
    return TargetGroupSettings(
        path=group.health_check_path or "/",
        port=str(group.health_check_port or "traffic-port"),
        interval=float(group.health_check_interval_seconds),
        timeout=float(group.health_check_timeout_seconds),
        healthy_threshold=int(group.healthy_threshold_count),
        unhealthy_threshold=int(group.unhealthy_threshold_count),
        codes=str(matcher.get("HttpCode", "200")),
        deregistration_delay=_deregistration_delay(group),
    )


def target_group_port(account: str, region: str, group_arn: str) -> int | None:
    """The port a target registered without one gets (None when the group is gone)."""
    group = _target_groups(account, region).get(group_arn)
    return int(group.port) if group is not None and group.port else None


def deregistration_delay(account: str, region: str, group_arn: str) -> float:
    """The group's deregistration delay in real seconds (0 when the group is gone)."""
    group = _target_groups(account, region).get(group_arn)
    return _deregistration_delay(group) if group else 0.0


@dataclass(frozen=True)
class ListenerFacts:
    """An HTTP(S) listener of a load balancer; `handle` is moto's listener object (opened only here)."""

    arn: str
    load_balancer_arn: str
    load_balancer_name: str
    port: int
    protocol: str
    handle: Any


@dataclass(frozen=True)
class Rule:
    """One listener rule: priority None for the default rule; conditions and actions as the API gives them."""

    priority: int | None
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]


def load_balancers(account: str, region: str) -> dict[str, str]:
    """ARN -> DNSName of the region's application load balancers."""
    return {arn: lb.dns_name for arn, lb in list(_elbv2(account, region).load_balancers.items())
            if lb.type == "application"}


def set_dns_name(account: str, region: str, load_balancer_arn: str, dns_name: str) -> None:
    balancer = _elbv2(account, region).load_balancers.get(load_balancer_arn)
    if balancer is not None:
        balancer.dns_name = dns_name


def listeners(account: str, region: str) -> list[ListenerFacts]:
    """The listeners of the region's application load balancers."""
    return [ListenerFacts(listener.arn, arn, lb.name, int(listener.port), listener.protocol, listener)
            for arn, lb in list(_elbv2(account, region).load_balancers.items()) if lb.type == "application"
            for listener in list(lb.listeners.values())]


def listener_rules(handle: Any) -> list[Rule]:
    """A listener's rules as they are now, by priority, the default rule last."""
    rules = sorted(list(handle._non_default_rules.values()), key=lambda rule: int(rule.priority))
    return [Rule(int(rule.priority), list(rule.conditions), [a.data for a in rule.actions]) for rule in rules] + \
        [Rule(None, [], [a.data for a in handle.default_actions])]


def idle_timeout(account: str, region: str, load_balancer_arn: str) -> float:
    """The load balancer's idle timeout in seconds (ELB's default, 60, unless set or when it is gone)."""
    balancer = _elbv2(account, region).load_balancers.get(load_balancer_arn)
    return float((balancer.attrs if balancer else {}).get("idle_timeout.timeout_seconds", 60))


def target_group_attributes(account: str, region: str, group_arn: str) -> dict[str, str]:
    """A target group's attributes as strings (none when the group is gone)."""
    group = _target_groups(account, region).get(group_arn)
    return {key: str(value) for key, value in group.attributes.items()} if group else {}


def log_group_ready(account: str, region: str, group: str, create: bool) -> bool:
    """Whether the log group exists (created first when `create`, as awslogs-create-group does)."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    if group not in backend.groups and create:
        backend.create_log_group(group, tags={})
    return group in backend.groups


def put_log_lines(account: str, region: str, group: str, stream: str, lines: list[tuple[int, str]]) -> None:
    """Append (ms timestamp, text) lines to a stream; dropped when the group is gone, as the agent does."""
    from moto.logs.exceptions import ResourceNotFoundException
    from moto.logs.models import logs_backends

    backend = logs_backends[account][region]
    try:
        backend.ensure_log_stream(group, stream)
        backend.put_log_events(group, stream, [{"timestamp": ms, "message": text} for ms, text in lines])
    except ResourceNotFoundException:
        pass


def _ecs(account: str, region: str) -> Any:
    from moto.ecs.models import ecs_backends

    return ecs_backends[account][region]


def _elbv2(account: str, region: str) -> Any:
    from moto.elbv2.models import elbv2_backends

    return elbv2_backends[account][region]


def _target_groups(account: str, region: str) -> dict[str, Any]:
    return _elbv2(account, region).target_groups


def _deregistration_delay(group: Any) -> float:
    return float(group.attributes.get("deregistration_delay.timeout_seconds", 300))
