"""`shipline infra check | bootstrap`: what a deploy needs in AWS, checked (exit 3 naming each missing
piece) or created idempotently. Bootstrap plans first (only describe calls), then executes the plan."""
from __future__ import annotations

import json
import logging
import time
from typing import Any

from .. import aws, timescale
from ..actions import Action, perform
from ..config import LoadedConfig, ResolvedEnvironment, load_config
from ..errors import EnvironmentProblem, OperationFailed, TimedOut
from ..imageref import registry_and_repository
from .deploy_table import DeployTable, create_action
from .service import LiveService, find_service

log = logging.getLogger(__name__)
TASKS_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}


class Infra:
    """Describe-only look-ups of one environment's deploy infrastructure."""

    def __init__(self, loaded: LoadedConfig, env: ResolvedEnvironment) -> None:
        self.loaded, self.env = loaded, env
        self.client = lambda service: aws.client(service, region=env.region, role_arn=env.role_arn)

    def cluster(self) -> bool:
        clusters = self.client("ecs").describe_clusters(clusters=[self.env.cluster])["clusters"]
        return bool(clusters) and clusters[0]["status"] == "ACTIVE"

    def target_group(self, name: str) -> dict[str, Any] | None:
        elb = self.client("elbv2")
        try:
            return elb.describe_target_groups(Names=[name])["TargetGroups"][0]
        except elb.exceptions.TargetGroupNotFoundException:
            return None

    def target_group_by_arn(self, arn: str) -> bool:
        elb = self.client("elbv2")
        try:
            return bool(elb.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"])
        except elb.exceptions.TargetGroupNotFoundException:
            return False

    def log_group(self, name: str) -> bool:
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return any(g["logGroupName"] == name for g in groups)

    def role(self, arn: str) -> bool:
        iam = self.client("iam")
        try:
            iam.get_role(RoleName=arn.rsplit("/", 1)[-1])
            return True
        except iam.exceptions.NoSuchEntityException:
            return False

    @staticmethod
    def task_definition_needs(document: dict[str, Any]) -> tuple[list[str], list[str]]:
        """(log groups, role ARNs) a task definition refers to."""
        groups = sorted({(c.get("logConfiguration") or {}).get("options", {}).get("awslogs-group")
                         for c in document.get("containerDefinitions", [])} - {None})
        roles = [document[k] for k in ("executionRoleArn", "taskRoleArn") if document.get(k)]
        return groups, roles


def target_group_name(env: ResolvedEnvironment) -> str:
    return f"{env.service}-{env.name}"[:32]


def check(config: str = "shipline.yaml", *, environment: str, service: str | None = None) -> dict[str, Any]:
    """Verify everything a deploy needs exists; exit 3 naming each missing piece."""
    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    checks = _service_and_checks(Infra(loaded, env), loaded, env)[1]
    missing = [c for c in checks if not c["ok"]]
    if missing:
        raise EnvironmentProblem("missing for a deploy: " + "; ".join(c["detail"] for c in missing)
                                 + " (shipline infra bootstrap creates them)", details={"checks": checks})
    return {"checks": checks}


def require_infrastructure(loaded: LoadedConfig, env: ResolvedEnvironment,
                           document: dict[str, Any] | None) -> LiveService:
    """The preflight of every deploy: the checks (against the revision about to be deployed, when
    given); returns the live service."""
    service, checks = _service_and_checks(Infra(loaded, env), loaded, env, document)
    missing = [c for c in checks if not c["ok"]]
    if missing or service is None:
        raise EnvironmentProblem("missing for a deploy: " + "; ".join(c["detail"] for c in missing)
                                 + " (shipline infra bootstrap creates them)")
    return service


def _service_and_checks(infra: Infra, loaded: LoadedConfig, env: ResolvedEnvironment,
                        document: dict[str, Any] | None = None) -> tuple[LiveService | None, list[dict[str, Any]]]:
    """The live service and one check per piece; the log groups and roles are those of `document`
    (the revision about to be deployed) or else of the service's current revision."""
    checks: list[dict[str, Any]] = []

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append({"name": name, "ok": ok, "detail": detail})

    table = DeployTable(env)
    exists = table.exists()
    add("deploy table", exists, f"deploy table {table.name}" + ("" if exists else " does not exist"))
    service = find_service(env)
    if service is None:
        cluster = infra.cluster()
        add("cluster", cluster, f"cluster {env.cluster}" + ("" if cluster else " does not exist"))
        add("service", False, f"service {env.service} does not exist")
        return None, checks
    add("cluster", True, f"cluster {env.cluster}")
    add("service", True, f"service {env.service}")
    for lb in service.load_balancers:
        ok = infra.target_group_by_arn(lb["targetGroupArn"])
        add("target group", ok, f"target group {lb['targetGroupArn']}" + ("" if ok else " does not exist"))
    if loaded.config.load_balancer and not service.load_balancers:
        add("target group", False, f"service {env.service} has no target group (load_balancer is configured)")
    if document is None and service.revision is not None:
        document = infra.client("ecs").describe_task_definition(taskDefinition=service.revision)[
            "taskDefinition"]
    groups, roles = infra.task_definition_needs(document or {})
    for group in groups:
        ok = infra.log_group(group)
        add("log group", ok, f"log group {group}" + ("" if ok else " does not exist"))
    for role in roles:
        ok = infra.role(role)
        add("role", ok, f"role {role}" + ("" if ok else " does not exist"))
    return service, checks


def bootstrap(config: str = "shipline.yaml", *, environment: str, service: str | None = None,
              image: str, wait: bool = False, dry_run: bool = False) -> dict[str, Any]:
    """Create what is missing (cluster, log groups, roles, target group and load balancer, service); with
    `wait`, then wait (up to deploy.timeout) until the service's deployment is COMPLETED with every task
    running."""
    from .release import render_document

    loaded = load_config(config, service=service)
    env = loaded.config.environment(environment)
    infra = Infra(loaded, env)
    document = render_document(loaded, environment, image).document
    plan = _plan(infra, loaded, env, document)
    if dry_run:
        return {"dry_run": True, "would": [a.description for a in plan], "actions": [a.to_json() for a in plan]}
    perform(plan)
    result: dict[str, Any] = {"created": [a.description for a in plan], "service": env.service,
                              "cluster": env.cluster}
    if wait:
        result.update(_wait_until_running(env))
    return result


def _wait_until_running(env: ResolvedEnvironment) -> dict[str, Any]:
    """Poll until the service's PRIMARY deployment is COMPLETED with running = desired; exit 1 when its
    rollout fails, exit 4 after deploy.timeout. Logs each change of the running count."""
    timeout = env.deploy.timeout
    deadline, interval, last = time.monotonic() + timeout, timescale.poll(1.0), None
    while True:
        live = find_service(env)
        if live is None:
            raise EnvironmentProblem(f"service {env.service} in cluster {env.cluster} vanished while waiting")
        service = live.description
        primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
        rollout, running, desired = primary.get("rolloutState"), primary["runningCount"], primary["desiredCount"]
        state = f"{running} of {desired} tasks running (deployment {primary['id']}, {rollout})"
        if state != last:
            log.info("service %s: %s", env.service, state)
            last = state
        if rollout == "COMPLETED" and running == desired == service["desiredCount"] == service["runningCount"]:
            return {"deployment": primary["id"], "running": running, "desired": desired}
        if rollout == "FAILED":
            raise OperationFailed(f"service {env.service}: deployment {primary['id']} failed: "
                                  f"{primary.get('rolloutStateReason') or 'no reason given'}; "
                                  f"shipline status --environment {env.name} shows its events")
        if time.monotonic() >= deadline:
            raise TimedOut(f"timed out after {timeout:g}s (deploy.timeout) waiting for service {env.service} to "
                           f"run every task: {state}; it was created, shipline status --environment "
                           f"{env.name} shows its progress")
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.3, timescale.poll(5.0))


def _plan(infra: Infra, loaded: LoadedConfig, env: ResolvedEnvironment, document: dict[str, Any]) -> list[Action]:
    """Describe calls only: the changes bootstrap would make, each with the mutating calls it makes."""
    from ..taskdef.register import register_document

    plan: list[Action] = []
    ecs, logs, iam, elb, ec2 = (infra.client(s) for s in ("ecs", "logs", "iam", "elbv2", "ec2"))
    if not DeployTable(env).exists():
        plan.append(create_action(env))
    if not infra.cluster():
        plan.append(Action(f"create cluster {env.cluster}", ("ecs.CreateCluster",),
                           run=lambda: ecs.create_cluster(clusterName=env.cluster)))
    groups, roles = infra.task_definition_needs(document)
    for group in groups:
        if not infra.log_group(group):
            plan.append(Action(f"create log group {group}", ("logs.CreateLogGroup",),
                               run=lambda g=group: logs.create_log_group(logGroupName=g)))
    for role in roles:
        if not infra.role(role):
            policy = _execution_policy(document, env) if role == document.get("executionRoleArn") else None
            plan.append(Action(f"create role {role} (assumed by ECS tasks"
                               + (", least-privilege execution policy)" if policy else ")"),
                               ("iam.CreateRole", "iam.PutRolePolicy") if policy else ("iam.CreateRole",),
                               run=lambda r=role, p=policy: _create_role(iam, r, p)))
    subnets, groups_sg, vpc = _network(ec2, loaded)
    lb = loaded.config.load_balancer
    tg_name = target_group_name(env)
    if lb and infra.target_group(tg_name) is None:
        plan.append(Action(f"create target group {tg_name}, load balancer and listener", LOAD_BALANCING_CALLS,
                           run=lambda: _create_load_balancing(elb, loaded, env, vpc, subnets, groups_sg)))
    if find_service(env) is None:
        reused = register_document(env, document, dry_run=True).get("taskDefinitionArn")
        what = (f"create service {env.service} with {reused} (the family's latest revision is the same)" if reused
                else f"register the task definition and create service {env.service}")
        plan.append(Action(f"{what} ({env.deploy.desired_count} tasks)",
                           ("ecs.CreateService",) if reused else ("ecs.RegisterTaskDefinition", "ecs.CreateService"),
                           run=lambda: _create_service(ecs, infra, loaded, env, subnets, groups_sg, document)))
    return plan


def _network(ec2: Any, loaded: LoadedConfig) -> tuple[list[str], list[str], str]:
    network = loaded.config.network
    if network.subnets:
        subnets = ec2.describe_subnets(SubnetIds=network.subnets)["Subnets"]
    else:
        vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpc:
            raise EnvironmentProblem("no default VPC: set network.subnets and network.security_groups")
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])["Subnets"]
    vpc_id = subnets[0]["VpcId"]
    groups = network.security_groups or [ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}])[
        "SecurityGroups"][0]["GroupId"]]
    return [s["SubnetId"] for s in subnets], groups, vpc_id


def _create_role(iam: Any, arn: str, policy: dict[str, Any] | None) -> None:
    name = arn.rsplit("/", 1)[-1]
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TASKS_TRUST),
                    Description="created by shipline infra bootstrap")
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="shipline-execution", PolicyDocument=json.dumps(policy))


def _execution_policy(document: dict[str, Any], env: ResolvedEnvironment) -> dict[str, Any]:
    """What the ECS agent needs for this task definition and nothing more: pull its images, write its
    log groups, read its secrets."""
    account = env.account_id or "*"
    region = env.region or "*"
    names = [registry_and_repository(c.get("image", "")) for c in document.get("containerDefinitions", [])]
    repositories = sorted({f"arn:aws:ecr:{region}:{account}:repository/{name[1]}"
                           for name in names if name is not None and name[0] is not None})
    groups, _ = Infra.task_definition_needs(document)
    secrets = sorted({s["valueFrom"] for c in document.get("containerDefinitions", [])
                      for s in c.get("secrets", [])})
    statements: list[dict[str, Any]] = [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]
    if repositories:
        statements.append({"Effect": "Allow", "Action": ["ecr:BatchCheckLayerAvailability",
                                                         "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                           "Resource": repositories})
    if groups:
        statements.append({"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                           "Resource": [f"arn:aws:logs:{region}:{account}:log-group:{g}:*" for g in groups]})
    if secrets:
        statements.append({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue", "ssm:GetParameters"],
                           "Resource": secrets})
    return {"Version": "2012-10-17", "Statement": statements}


LOAD_BALANCING_CALLS = ("elbv2.CreateTargetGroup", "elbv2.ModifyTargetGroupAttributes",
                        "elbv2.CreateLoadBalancer", "elbv2.CreateListener")


def _create_load_balancing(elb: Any, loaded: LoadedConfig, env: ResolvedEnvironment, vpc: str,
                           subnets: list[str], groups: list[str]) -> None:
    lb = loaded.config.load_balancer
    check = lb.health_check
    group = elb.create_target_group(
        Name=target_group_name(env), Protocol="HTTP", Port=lb.port, VpcId=vpc, TargetType="ip",
        HealthCheckPath=check.path, HealthCheckIntervalSeconds=int(check.interval),
        HealthCheckTimeoutSeconds=int(check.timeout), HealthyThresholdCount=check.healthy_threshold,
        UnhealthyThresholdCount=check.unhealthy_threshold, Matcher={"HttpCode": check.matcher})["TargetGroups"][0]
    elb.modify_target_group_attributes(TargetGroupArn=group["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "30"}])
    balancer = elb.create_load_balancer(Name=target_group_name(env), Subnets=subnets[:2], SecurityGroups=groups,
                                        Scheme="internet-facing", Type="application")["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"], Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}])


def _create_service(ecs: Any, infra: Infra, loaded: LoadedConfig, env: ResolvedEnvironment, subnets: list[str],
                    groups: list[str], document: dict[str, Any]) -> None:
    from ..taskdef.register import register_document

    arn = register_document(env, document)["taskDefinitionArn"]
    lb = loaded.config.load_balancer
    kwargs: dict[str, Any] = {}
    if lb:
        group = infra.target_group(target_group_name(env))
        kwargs["loadBalancers"] = [{"targetGroupArn": group["TargetGroupArn"], "containerName": lb.container,
                                    "containerPort": lb.port}]
    if document.get("networkMode") == "awsvpc":
        kwargs["networkConfiguration"] = {"awsvpcConfiguration": {
            "subnets": subnets, "securityGroups": groups,
            "assignPublicIp": "ENABLED" if loaded.config.network.assign_public_ip else "DISABLED"}}
    launch = "FARGATE" if "FARGATE" in document.get("requiresCompatibilities", []) else "EC2"
    ecs.create_service(cluster=env.cluster, serviceName=env.service, taskDefinition=arn,
                       desiredCount=env.deploy.desired_count, launchType=launch, **kwargs,
                       deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100,
                                                "deploymentCircuitBreaker": {"enable": True, "rollback": True}})


def render_checks(result: dict[str, Any]) -> str:
    return "\n".join(f"{'ok' if c['ok'] else 'MISSING':7} {c['name']:12} {c['detail']}" for c in result["checks"])


def render_bootstrap(result: dict[str, Any]) -> str:
    if result.get("dry_run"):
        return "\n".join(["would:"] + [f"  {w}" for w in result["would"]]) if result["would"] else "nothing to do"
    lines = [f"created: {c}" for c in result["created"]] or ["nothing to create: all there"]
    if "running" in result:
        lines.append(f"service {result['service']}: {result['running']} of {result['desired']} tasks running, "
                     f"deployment {result['deployment']} COMPLETED")
    return "\n".join(lines)
