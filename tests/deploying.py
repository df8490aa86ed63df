"""Helpers the deploy tests share: the sample service's live state on the emulation, waited for and judged."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import wait_for

CLUSTER, SERVICE = "demo", "webapp"


def config_of(app: Path) -> str:
    return str(app / "shipline.yaml")


EXAMPLE_LIMITS = "  timeout: 10m\n  bake_time: 5m\n"  # the sample service's deploy settings that tests replace
WORKER_LIMITS = "  timeout: 10m\n"                     # the sample worker's


def with_deploy_settings(app: Path, settings: str) -> None:
    """Commit the sample service's (or worker's) shipline.yaml with `settings` (YAML lines of the deploy
    section) in place of its EXAMPLE_LIMITS (WORKER_LIMITS)."""
    from helpers import git

    config = app / "shipline.yaml"
    text = config.read_text()
    lines = "".join(f"  {line.strip()}\n" for line in settings.strip().splitlines())
    limits = next((limits for limits in (EXAMPLE_LIMITS, WORKER_LIMITS) if limits in text), None)
    assert limits is not None, "the samples' deploy settings changed: update EXAMPLE_LIMITS / WORKER_LIMITS"
    config.write_text(text.replace(limits, lines))
    git(app, "commit", "-qam", "deploy settings for this test")


def build_and_push(engine, context: Path, uri: str, tag: str, auth: dict[str, str],
                   buildargs: dict[str, str] | None = None) -> str:
    """Build `context` (with `buildargs`) as `uri:tag`, push it; return the image by digest."""
    engine.images.build(path=str(context), rm=True, tag=f"{uri}:{tag}", buildargs=buildargs)
    digest = ""
    for line in engine.images.push(uri, tag=tag, stream=True, decode=True, auth_config=auth):
        assert "error" not in line, line
        digest = line.get("aux", {}).get("Digest", digest)
    return f"{uri}@{digest}"


def service_of(boto, service: str = SERVICE) -> dict[str, Any]:
    return boto("ecs").describe_services(cluster=CLUSTER, services=[service])["services"][0]


def steady(boto, service: str = SERVICE) -> bool:
    """One deployment, COMPLETED."""
    deployments = service_of(boto, service)["deployments"]
    return len(deployments) == 1 and deployments[0]["rolloutState"] == "COMPLETED"



def bootstrapped(app: Path, boto, image: str, service: str = SERVICE) -> str:
    """The service created on `image` and steady; its task definition."""
    from shipline.deployment.infra import bootstrap

    bootstrap(config_of(app), environment="staging", image=image, wait=True)
    wait_for("the bootstrapped service steady", lambda: steady(boto, service))
    return service_of(boto, service)["taskDefinition"]


def known_good_of(app: Path) -> str | None:
    """The revision the deploy table marks known good for the sample service in staging (None: none yet)."""
    from shipline.config import load_config
    from shipline.deployment.deploy_table import DeployTable
    from shipline.deployment.known_good import known_good
    from shipline.deployment.lease import KIND

    return known_good(DeployTable(load_config(config_of(app)).config.environment("staging")).get(KIND))


def healthy_on(boto, task_definition: str, count: int = 2) -> None:
    """The service runs only `task_definition`, steady, with `count` targets healthy and no other live one."""
    service = service_of(boto)
    assert service["taskDefinition"] == task_definition
    assert [d["taskDefinition"] for d in service["deployments"]] == [task_definition], service["deployments"]
    group = service["loadBalancers"][0]["targetGroupArn"]
    states = [t["TargetHealth"]["State"] for t in
              boto("elbv2").describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]]
    assert states.count("healthy") == count and set(states) <= {"healthy", "draining"}, states


def running_on(boto, service: str, task_definition: str, count: int) -> None:
    """A service without a load balancer runs only `task_definition`, steady, with `count` tasks RUNNING
    (each HEALTHY when its containers have a health check) and no other task meant to run."""
    found = service_of(boto, service)
    assert found["taskDefinition"] == task_definition
    assert [d["taskDefinition"] for d in found["deployments"]] == [task_definition], found["deployments"]
    assert found["runningCount"] == found["desiredCount"] == count, found
    ecs = boto("ecs")
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=service, desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    assert [(t["taskDefinitionArn"], t["lastStatus"]) for t in tasks] == [(task_definition, "RUNNING")] * count, tasks
    checked = ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]["containerDefinitions"]
    if any("healthCheck" in c for c in checked):
        assert {t["healthStatus"] for t in tasks} == {"HEALTHY"}, tasks


def lease_renewal(call) -> bool:
    """A deploy lease's renewal (its heartbeat: as often as time passes, so not a planned call)."""
    return str(call) == "dynamodb.UpdateItem" and call.params.get("UpdateExpression") == "SET #expires_at = :expires_at"


def product_mutations(recorder) -> list[str]:
    """The mutating calls shipline made, in order, without its lease's renewals."""
    return [str(call) for call in recorder.calls(product_only=True, mutating_only=True) if not lease_renewal(call)]


def listener_in_front(aws, boto, service: str = SERVICE) -> tuple[str, str, Any]:
    """An Application Load Balancer whose HTTP listener (port 80) forwards to the bootstrapped service's
    target group, every target healthy: (the load balancer's ARN, the group's ARN, the listener's endpoint
    on the data plane)."""
    elb = boto("elbv2")
    group = service_of(boto, service)["loadBalancers"][0]["targetGroupArn"]
    subnets = [s["SubnetId"] for s in boto("ec2").describe_subnets()["Subnets"]][:2]
    balancer = elb.create_load_balancer(Name=service, Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    listener = elb.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])["Listeners"][0]
    wait_for("every target healthy", lambda: {t["TargetHealth"]["State"] for t in elb.describe_target_health(
        TargetGroupArn=group)["TargetHealthDescriptions"]} == {"healthy"}, timeout=90)
    return balancer, group, next(e for e in aws.listeners.endpoints() if e.listener_arn == listener["ListenerArn"])
