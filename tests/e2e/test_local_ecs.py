"""ECS rollouts on the local emulation: real containers, real health checks, a real circuit breaker.

Each test names the documented ECS or ELB behaviour it reproduces (Amazon ECS Developer Guide,
Elastic Load Balancing User Guide); every response checked is validated against botocore's output
shape for its operation.
"""
from __future__ import annotations

import base64
import json
import math
import re
import shutil
import time
from typing import Any, Callable

import pytest
from botocore.validate import ParamValidator

from deploying import build_and_push
from helpers import wait_for

CLUSTER, SERVICE = "demo", "webapp"


def valid(client, operation: str, response: dict) -> dict:
    """`response` after checking it against botocore's output shape of `operation`."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    report = ParamValidator().validate({k: v for k, v in response.items() if k != "ResponseMetadata"}, shape)
    assert not report.has_errors(), report.generate_report()
    return response



@pytest.fixture
def ecs(boto):
    return boto("ecs")


@pytest.fixture
def elb(boto):
    return boto("elbv2")


@pytest.fixture
def logs(boto):
    return boto("logs")


@pytest.fixture
def setup(aws, boto, ecs, elb, logs):
    """A cluster, a log group and a target group with fast (but real) health-check settings."""
    aws.ecs.time_scale = 0.05
    ecs.create_cluster(clusterName=CLUSTER)
    logs.create_log_group(logGroupName="/ecs/webapp")
    vpc = boto("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]
    group = elb.create_target_group(Name="webapp", Protocol="HTTP", Port=8080, VpcId=vpc, TargetType="ip",
                                    HealthCheckPath="/health", HealthCheckIntervalSeconds=5,
                                    HealthCheckTimeoutSeconds=2, HealthyThresholdCount=2,
                                    UnhealthyThresholdCount=2)["TargetGroups"][0]
    elb.modify_target_group_attributes(TargetGroupArn=group["TargetGroupArn"], Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "5"}])
    return group["TargetGroupArn"]


def register(ecs, image: str, command: list[str] | None = None) -> str:
    container: dict[str, Any] = {
        "name": "web", "image": image, "essential": True, "memory": 128,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "APP_ENV", "value": "test"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/webapp", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "web"}}}
    if command:
        container["command"] = command
    return ecs.register_task_definition(family="webapp", networkMode="bridge",
                                        containerDefinitions=[container])["taskDefinition"]["taskDefinitionArn"]


def create_service(ecs, definition: str, target_group: str, desired: int = 2, minimum: int = 50,
                   maximum: int = 150, rollback: bool = True, breaker: bool = True,
                   grace: int | None = None) -> dict:
    extra = {} if grace is None else {"healthCheckGracePeriodSeconds": grace}
    response = ecs.create_service(
        cluster=CLUSTER, serviceName=SERVICE, taskDefinition=definition, desiredCount=desired, launchType="EC2",
        loadBalancers=[{"targetGroupArn": target_group, "containerName": "web", "containerPort": 8080}],
        deploymentConfiguration={"maximumPercent": maximum, "minimumHealthyPercent": minimum,
                                 "deploymentCircuitBreaker": {"enable": breaker, "rollback": rollback}}, **extra)
    return valid(ecs, "CreateService", response)


@pytest.fixture
def push_app(boto, docker_engine, tmp_path) -> Callable[[str, str, dict[str, str]], str]:
    """Build a busybox app FROM scratch (`files` under /www, executable; `command` run by sh) and push it
    to the local ECR; return the image by digest."""
    ecr = boto("ecr")
    uri = ecr.create_repository(repositoryName="demo/probe")["repository"]["repositoryUri"]
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")

    def push(name: str, command: str, files: dict[str, str]) -> str:
        context = tmp_path / f"app-{name}"
        (context / "www").mkdir(parents=True)
        shutil.copy2("/bin/busybox", context / "busybox")
        for path, text in files.items():
            target = context / "www" / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            target.chmod(0o755)
        (context / "Dockerfile").write_text(
            'FROM scratch\nCOPY busybox /bin/busybox\nRUN ["/bin/busybox", "--install", "-s", "/bin"]\n'
            f"COPY www/ /www/\nCMD {json.dumps(['sh', '-c', command])}\n")
        return build_and_push(docker_engine, context, uri, name, {"username": user, "password": password})

    return push


def describe(ecs) -> dict:
    return valid(ecs, "DescribeServices", ecs.describe_services(cluster=CLUSTER, services=[SERVICE]))["services"][0]


def completed(ecs, definition: str) -> Callable[[], dict | None]:
    def check() -> dict | None:
        service = describe(ecs)
        primary = service["deployments"][0]
        done = len(service["deployments"]) == 1 and primary["rolloutState"] == "COMPLETED" \
            and primary["taskDefinition"] == definition
        return service if done else None
    return check


def test_rolling_update_moves_through_intermediate_states_within_min_and_max(aws, ecs, setup, push_variant):
    """ECS rolling update: a new PRIMARY deployment, the old one ACTIVE while it drains; running plus
    pending tasks never above maximumPercent, healthy tasks never below minimumHealthyPercent."""
    v1, v2 = register(ecs, push_variant("v1")), register(ecs, push_variant("v2"))
    create_service(ecs, v1, setup)
    first = wait_for("the first deployment", completed(ecs, v1))
    assert first["runningCount"] == 2
    assert first["events"][0]["message"] == "(service webapp) has reached a steady state."
    assert first["events"][1]["message"] == f"(service webapp) (deployment {first['deployments'][0]['id']}) " \
                                            "deployment completed."
    started = [e["message"] for e in first["events"] if " has started " in e["message"]]
    assert len(started) == 1 and re.fullmatch(r"\(service webapp\) has started 2 tasks: \(task [0-9a-f]{32}\) "
                                              r"\(task [0-9a-f]{32}\)\.", started[0]), started
    log_start = len(aws.ecs.log)

    deployment_id = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=v2)[
        "service"]["deployments"][0]["id"]
    seen: list[dict] = []

    def done() -> dict | None:
        service = describe(ecs)
        seen.append(service)
        return completed(ecs, v2)()

    final = wait_for("the rolling update", done)
    assert final["deployments"][0]["id"] == deployment_id
    both = [s for s in seen if len(s["deployments"]) == 2]
    assert both, "never saw two deployments"
    assert {d["status"] for d in both[0]["deployments"]} == {"PRIMARY", "ACTIVE"}
    assert any(0 < s["deployments"][0]["runningCount"] < 2 for s in both), "never saw partial counts"

    max_total, min_healthy = math.floor(2 * 150 / 100), math.ceil(2 * 50 / 100)
    rollout = aws.ecs.log[log_start:]
    assert len(rollout) > 3
    assert all(entry["alive"] <= max_total for entry in rollout), rollout
    assert all(entry["healthy"] >= min_healthy for entry in rollout), rollout
    tasks = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"]
    described = valid(ecs, "DescribeTasks", ecs.describe_tasks(cluster=CLUSTER, tasks=tasks))["tasks"]
    assert {t["taskDefinitionArn"] for t in described} == {v2} and len(described) == 2


def test_doubling_never_drops_below_full_strength(aws, ecs, setup, push_variant):
    """minimumHealthyPercent 100 / maximumPercent 200: the new set starts beside the old one."""
    v1, v2 = register(ecs, push_variant("v1")), register(ecs, push_variant("v2"))
    create_service(ecs, v1, setup, minimum=100, maximum=200)
    wait_for("the first deployment", completed(ecs, v1))
    log_start = len(aws.ecs.log)
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=v2)
    wait_for("the doubling update", completed(ecs, v2))
    rollout = aws.ecs.log[log_start:]
    assert all(entry["healthy"] >= 2 and entry["alive"] <= 4 for entry in rollout), rollout
    assert max(entry["alive"] for entry in rollout) == 4


def test_failing_health_trips_the_circuit_breaker_and_ecs_rolls_back(aws, ecs, elb, setup, push_variant):
    """Targets failing ELB health checks are stopped ("Task failed ELB health checks"); at the failure
    threshold the deployment is FAILED and a new PRIMARY rolls back to the last completed one."""
    good, bad = register(ecs, push_variant("v1")), register(ecs, push_variant("unhealthy"))
    create_service(ecs, good, setup)
    stable_id = wait_for("the first deployment", completed(ecs, good))["deployments"][0]["id"]
    failing_id = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=bad)[
        "service"]["deployments"][0]["id"]

    def unhealthy_target() -> bool:
        health = valid(elb, "DescribeTargetHealth", elb.describe_target_health(TargetGroupArn=setup))
        return any(t["TargetHealth"]["State"] == "unhealthy" for t in health["TargetHealthDescriptions"])

    wait_for("an unhealthy target", unhealthy_target)

    def rolled_back() -> dict | None:
        service = describe(ecs)
        failed = [d for d in service["deployments"] if d["id"] == failing_id and d["rolloutState"] == "FAILED"]
        return service if failed and service["deployments"][0]["id"] != failing_id else None

    service = wait_for("the circuit breaker", rolled_back)
    primary = service["deployments"][0]
    failed = next(d for d in service["deployments"] if d["id"] == failing_id)
    assert primary["taskDefinition"] == good and service["taskDefinition"] == good
    assert primary["rolloutStateReason"] == f"ECS deployment circuit breaker: rolling back to deploymentId {stable_id}."
    assert failed["status"] == "ACTIVE" and failed["failedTasks"] >= 3
    assert failed["rolloutStateReason"] == "ECS deployment circuit breaker: tasks failed to start."
    messages = [e["message"] for e in service["events"]]
    assert f"(service webapp) (deployment {failing_id}) deployment failed: tasks failed to start." in messages
    assert f"(service webapp) rolling back to deployment {stable_id}." in messages
    final = wait_for("the rollback to complete", completed(ecs, good))
    assert final["deployments"][0]["id"] == primary["id"]
    stopped = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
    reasons = {t["stoppedReason"] for t in ecs.describe_tasks(cluster=CLUSTER, tasks=stopped)["tasks"]
               if t["taskDefinitionArn"] == bad}
    assert f"Task failed ELB health checks in (target-group {setup})" in reasons
    bad_ids = {t["taskArn"].split("/")[-1] for t in ecs.describe_tasks(cluster=CLUSTER, tasks=stopped)["tasks"]
               if t["taskDefinitionArn"] == bad}
    unhealthy = [m for m in messages if any(m.startswith(f"(service webapp) (task {i}) (port ") for i in bad_ids)]
    assert unhealthy and all(m.endswith(f") is unhealthy in (target-group {setup}) due to (reason Health checks "
                                        "failed with these codes: [404]).") for m in unhealthy), messages


def test_a_version_that_crashes_at_start_gives_stopped_tasks_with_reason_and_exit_code(aws, ecs, setup,
                                                                                       push_variant):
    """An essential container that exits stops its task: stoppedReason "Essential container in task
    exited", stopCode EssentialContainerExited, the container's exitCode."""
    good, crash = register(ecs, push_variant("v1")), register(ecs, push_variant("crash"))
    create_service(ecs, good, setup, rollback=False)
    wait_for("the first deployment", completed(ecs, good))
    failing_id = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=crash)[
        "service"]["deployments"][0]["id"]

    def crashed_tasks() -> list[dict]:
        arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
        tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
        return [t for t in tasks if t["taskDefinitionArn"] == crash and t["lastStatus"] == "STOPPED"]

    task = wait_for("a crashed task", crashed_tasks)[0]
    assert task["stoppedReason"] == "Essential container in task exited"
    assert task["stopCode"] == "EssentialContainerExited"
    assert task["containers"][0]["exitCode"] == 7
    service = wait_for("the circuit breaker", lambda: (lambda s: s if s["deployments"][0]["rolloutState"] ==
                                                       "FAILED" else None)(describe(ecs)))
    assert service["deployments"][0]["id"] == failing_id  # no rollback asked: the failed one stays PRIMARY
    assert service["runningCount"] >= 1  # minimumHealthyPercent kept old tasks serving


def test_run_task_runs_to_its_exit_code_and_its_output_reaches_cloudwatch_logs(aws, ecs, logs, setup,
                                                                                push_variant):
    """RunTask: the task stops when its essential container exits; with the awslogs driver its output
    is in the log group, in stream <prefix>/<container>/<task id>."""
    job = register(ecs, push_variant("job"))
    started = valid(ecs, "RunTask", ecs.run_task(cluster=CLUSTER, taskDefinition=job, startedBy="migration"))
    task_arn = started["tasks"][0]["taskArn"]
    assert started["tasks"][0]["lastStatus"] in ("PROVISIONING", "PENDING")

    def stopped() -> dict | None:
        task = valid(ecs, "DescribeTasks", ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn]))["tasks"][0]
        return task if task["lastStatus"] == "STOPPED" else None

    task = wait_for("the one-off task", stopped)
    assert task["containers"][0]["exitCode"] == 3 and task["stopCode"] == "EssentialContainerExited"
    assert ecs.list_tasks(cluster=CLUSTER, startedBy="migration", desiredStatus="STOPPED")["taskArns"] == [task_arn]
    events = valid(logs, "GetLogEvents", logs.get_log_events(
        logGroupName="/ecs/webapp", logStreamName=f"web/web/{task_arn.split('/')[-1]}", startFromHead=True))
    assert [e["message"] for e in events["events"]] == ["migrating 1", "migrating 2", "done"]


def test_an_image_that_cannot_be_pulled_gives_cannot_pull_container_error(aws, ecs, setup):
    """A task whose image cannot be pulled stops with CannotPullContainerError (TaskFailedToStart)."""
    missing = register(ecs, f"{aws.registry.address}/demo/nothing@sha256:{'0' * 64}")
    task_arn = ecs.run_task(cluster=CLUSTER, taskDefinition=missing)["tasks"][0]["taskArn"]
    task = wait_for("the task to stop", lambda: (lambda t: t if t["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"][0]))
    assert task["stoppedReason"].startswith("CannotPullContainerError:")
    assert task["stopCode"] == "TaskFailedToStart"


def test_a_missing_log_group_stops_the_task_before_it_runs(aws, ecs, logs, setup, push_variant):
    """The awslogs driver needs its log group (unless awslogs-create-group is true)."""
    job = register(ecs, push_variant("job"))
    logs.delete_log_group(logGroupName="/ecs/webapp")
    task_arn = ecs.run_task(cluster=CLUSTER, taskDefinition=job)["tasks"][0]["taskArn"]
    task = wait_for("the task to stop", lambda: (lambda t: t if t["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"][0]))
    assert task["stoppedReason"].startswith("ResourceInitializationError:")


def test_stop_task_and_target_health_through_initial_healthy_draining(aws, ecs, elb, setup, push_variant):
    """A service's task registers as `initial`, turns `healthy`; StopTask deregisters it (`draining`
    for the deregistration delay) and stops it with the given reason; the service replaces it."""
    v1 = register(ecs, push_variant("v1"))
    create_service(ecs, v1, setup, desired=1, minimum=0, maximum=100)
    states: list[str] = []

    def healthy() -> bool:
        found = elb.describe_target_health(TargetGroupArn=setup)["TargetHealthDescriptions"]
        states.extend(t["TargetHealth"]["State"] for t in found)
        return any(t["TargetHealth"]["State"] == "healthy" for t in found)

    wait_for("a healthy target", healthy)
    assert states[0] == "initial"
    task_arn = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"][0]
    stopped = valid(ecs, "StopTask", ecs.stop_task(cluster=CLUSTER, task=task_arn, reason="operator test"))
    assert stopped["task"]["desiredStatus"] == "STOPPED"
    draining = elb.describe_target_health(TargetGroupArn=setup)["TargetHealthDescriptions"]
    assert [t["TargetHealth"]["State"] for t in draining] == ["draining"]
    task = wait_for("the stopped task", lambda: (lambda t: t if t["lastStatus"] == "STOPPED" else None)(
        ecs.describe_tasks(cluster=CLUSTER, tasks=[task_arn])["tasks"][0]))
    assert task["stoppedReason"] == "operator test" and task["stopCode"] == "UserInitiated"
    replacement = wait_for("a replacement task", lambda: [a for a in ecs.list_tasks(
        cluster=CLUSTER, serviceName=SERVICE)["taskArns"] if a != task_arn])
    assert len(replacement) == 1


def test_desired_count_changes_scale_the_primary_without_a_new_deployment(aws, ecs, setup, push_variant,
                                                                        docker_engine):
    """UpdateService with only desiredCount keeps the deployment and starts or stops tasks; tasks are
    containers with the task definition's environment, ports published on 127.0.0.1 only; DeleteService
    (force) stops them."""
    v1 = register(ecs, push_variant("v1"))
    deployment_id = create_service(ecs, v1, setup, desired=1, minimum=100, maximum=200)["service"][
        "deployments"][0]["id"]
    wait_for("one task", completed(ecs, v1))
    updated = valid(ecs, "UpdateService", ecs.update_service(cluster=CLUSTER, service=SERVICE, desiredCount=2))
    assert [d["id"] for d in updated["service"]["deployments"]] == [deployment_id]
    service = wait_for("two healthy tasks", lambda: (lambda s: s if s["runningCount"] == 2 and s["deployments"][0][
        "rolloutState"] == "COMPLETED" else None)(describe(ecs)))
    assert service["deployments"][0]["id"] == deployment_id
    arns = valid(ecs, "ListTasks", ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE))["taskArns"]
    for task_arn in arns:
        container = docker_engine.containers.list(filters={"label": f"io.shipline.local.task={task_arn}"})[0]
        assert "APP_ENV=test" in container.attrs["Config"]["Env"]
        bindings = container.attrs["HostConfig"]["PortBindings"]["8080/tcp"]
        assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
    ecs.delete_service(cluster=CLUSTER, service=SERVICE, force=True)
    wait_for("no task left", lambda: not ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])


def test_a_deployment_alarm_in_alarm_fails_the_deployment_and_rolls_back(aws, boto, ecs, setup, push_variant):
    """Deployment alarms (deploymentConfiguration.alarms): an alarm going to ALARM during the deployment
    fails it and, with rollback, returns to the last completed deployment. No traffic flows, so the test
    sets the alarm state through the CloudWatch API; missing data is ignored, so the evaluations of the
    alarm keep that state."""
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="webapp-5xx", Namespace="AWS/ApplicationELB",
                                MetricName="HTTPCode_Target_5XX_Count", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=5, ComparisonOperator="GreaterThanThreshold",
                                TreatMissingData="ignore")
    v1, v2 = register(ecs, push_variant("v1")), register(ecs, push_variant("v2"))
    create_service(ecs, v1, setup)
    stable_id = wait_for("the first deployment", completed(ecs, v1))["deployments"][0]["id"]
    updated = ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=v2, deploymentConfiguration={
            "maximumPercent": 150, "minimumHealthyPercent": 50,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "alarms": {"alarmNames": ["webapp-5xx"], "enable": True, "rollback": True}})
    deployment_id = updated["service"]["deployments"][0]["id"]
    cloudwatch.set_alarm_state(AlarmName="webapp-5xx", StateValue="ALARM", StateReason="test: 5xx burst")
    service = wait_for("the alarm rollback", lambda: (lambda s: s if s["deployments"][0]["id"] != deployment_id
                                                      else None)(describe(ecs)))
    messages = [e["message"] for e in service["events"]]
    assert f"(service webapp) (deployment {deployment_id}) deployment failed: alarm detected." in messages
    assert f"(service webapp) rolling back to deployment {stable_id}." in messages
    assert service["deployments"][0]["taskDefinition"] == v1
    wait_for("the rollback to complete", completed(ecs, v1))


# --- fidelity: what is asked of the app stays real; ECS's waits, grace period and counting -------------
SERVE = "mkdir -p /tmp; date +%s > /tmp/started; exec httpd -f -p 8080 -h /www"
CGI_OK = "printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'\n"
SLOW_HEALTH = "#!/bin/sh\nsleep 1\n" + CGI_OK                      # answers in 1 s, always
WARMING_HEALTH = ("#!/bin/sh\n"                                     # hangs 3 s for its first 8 s, then answers
                  "if [ $(( $(date +%s) - $(cat /tmp/started) )) -lt 8 ]; then sleep 3; fi\n" + CGI_OK)
HEALTHY_THEN_EXIT = "httpd -p 8080 -h /www; sleep 2; echo giving up; exit 1"   # healthy, then exits


def not_failed(ecs, check: Callable[[], dict | None]) -> Callable[[], dict | None]:
    """`check`, failing at once when the PRIMARY deployment is FAILED."""
    def guarded() -> dict | None:
        service = describe(ecs)
        assert service["deployments"][0]["rolloutState"] != "FAILED", [e["message"] for e in service["events"]]
        return check()
    return guarded


def stopped_tasks(ecs, definition: str) -> list[dict]:
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE, desiredStatus="STOPPED")["taskArns"]
    tasks = valid(ecs, "DescribeTasks", ecs.describe_tasks(cluster=CLUSTER, tasks=arns))["tasks"] if arns else []
    return [t for t in tasks if t["taskDefinitionArn"] == definition and t["lastStatus"] == "STOPPED"]


def test_time_scale_never_shortens_the_health_check_timeout(aws, ecs, elb, setup, push_app):
    """--time-scale shortens how long ECS and ELB wait, never what is asked of the app: a /health that
    answers in 1 s passes HealthCheckTimeoutSeconds 2 (as on AWS), whatever the scale."""
    elb.modify_target_group(TargetGroupArn=setup, HealthCheckPath="/cgi-bin/health")
    slow = register(ecs, push_app("slow", SERVE, {"cgi-bin/health": SLOW_HEALTH}))
    create_service(ecs, slow, setup, desired=1, minimum=0, maximum=100)
    service = wait_for("the slow app to be healthy", not_failed(ecs, completed(ecs, slow)), timeout=60)
    assert service["deployments"][0]["failedTasks"] == 0
    assert [(t["stoppedReason"], t["containers"][0].get("exitCode")) for t in stopped_tasks(ecs, slow)] == []


def test_an_app_warming_up_within_the_grace_period_is_left_to_warm_up(aws, ecs, elb, setup, push_app):
    """healthCheckGracePeriodSeconds: the scheduler ignores unhealthy ELB health checks of a task for
    that long after it started (a wait, so scaled): the task is neither stopped nor counted as failed."""
    elb.modify_target_group(TargetGroupArn=setup, HealthCheckPath="/cgi-bin/health")
    warming = register(ecs, push_app("warming", SERVE, {"cgi-bin/health": WARMING_HEALTH}))
    created = create_service(ecs, warming, setup, desired=1, minimum=0, maximum=100, grace=300)
    assert created["service"]["healthCheckGracePeriodSeconds"] == 300
    saw_unhealthy: list[bool] = []

    def done() -> dict | None:
        found = elb.describe_target_health(TargetGroupArn=setup)["TargetHealthDescriptions"]
        saw_unhealthy.extend(t["TargetHealth"]["State"] == "unhealthy" for t in found)
        return completed(ecs, warming)()

    service = wait_for("the warmed-up app", not_failed(ecs, done), timeout=60)
    assert any(saw_unhealthy), "the app never looked unhealthy: the test proves nothing"
    assert service["deployments"][0]["failedTasks"] == 0
    assert service["healthCheckGracePeriodSeconds"] == 300
    assert [(t["stoppedReason"], t["containers"][0].get("exitCode")) for t in stopped_tasks(ecs, warming)] == []


@pytest.mark.parametrize("breaker", [True, False], ids=["circuit-breaker", "no-circuit-breaker"])
def test_without_a_grace_period_the_warming_app_is_replaced(aws, ecs, elb, setup, push_app, breaker):
    """Without a grace period the same app fails its health checks (the 2 s timeout is real) and its
    tasks are replaced, each a failed task, the event worded as ECS words it. With the circuit breaker
    (and rollback) on, the first deployment of a service has nothing COMPLETED to roll back to: it is
    FAILED, stays PRIMARY and launches nothing more (the deployment stalls)."""
    elb.modify_target_group(TargetGroupArn=setup, HealthCheckPath="/cgi-bin/health")
    warming = register(ecs, push_app("warming", SERVE, {"cgi-bin/health": WARMING_HEALTH}))
    deployment_id = create_service(ecs, warming, setup, desired=1, minimum=0, maximum=100,
                                   breaker=breaker)["service"]["deployments"][0]["id"]
    replaced = wait_for("three replaced tasks", lambda: (lambda t: t if len(t) >= 3 else None)(
        stopped_tasks(ecs, warming)), timeout=90)
    assert {t["stoppedReason"] for t in replaced} == {f"Task failed ELB health checks in (target-group {setup})"}
    service = describe(ecs)
    messages = [e["message"] for e in service["events"]]
    for task in replaced:
        task_id = task["taskArn"].split("/")[-1]
        unhealthy = [m for m in messages if m.startswith(f"(service webapp) (task {task_id}) (port ")]
        assert unhealthy and unhealthy[0].endswith(
            f") is unhealthy in (target-group {setup}) due to (reason Request timed out)."), messages
    if not breaker:
        assert service["deployments"][0]["rolloutState"] == "IN_PROGRESS"
        assert service["deployments"][0]["failedTasks"] >= 3
        wait_for("a replacement", lambda: ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])
        return
    service = wait_for("the circuit breaker", lambda: (lambda s: s if s["deployments"][0]["rolloutState"] ==
                                                       "FAILED" else None)(describe(ecs)))
    assert [(d["id"], d["status"]) for d in service["deployments"]] == [(deployment_id, "PRIMARY")]
    messages = [e["message"] for e in service["events"]]
    assert f"(service webapp) (deployment {deployment_id}) deployment failed: tasks failed to start." in messages
    assert not any("rolling back" in m for m in messages)
    wait_for("the failed deployment's tasks to stop",
             lambda: not ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"])
    launched = len(stopped_tasks(ecs, warming))
    time.sleep(2)  # 40 s of ECS time at this scale: a stalled deployment launches nothing
    assert ecs.list_tasks(cluster=CLUSTER, serviceName=SERVICE)["taskArns"] == []
    assert len(stopped_tasks(ecs, warming)) == launched
    assert [d["id"] for d in describe(ecs)["deployments"]] == [deployment_id]


@pytest.mark.parametrize("reset", [True, False], ids=["reset-on-healthy-task", "no-reset"])
def test_a_task_that_turns_healthy_resets_the_failed_task_count(aws, ecs, elb, setup, push_variant, push_app,
                                                                 reset):
    """The circuit breaker counts consecutive failed tasks: a task of the deployment that turns healthy
    resets the count (resetOnHealthyTask, true unless configured otherwise), so a release whose tasks
    pass their health checks and exit later never trips it; without the reset, it trips at the
    threshold. (The old task drains for 150 s of local time, keeping the deployment IN_PROGRESS.)"""
    good = register(ecs, push_variant("v1"))
    exits = register(ecs, push_app("exits", HEALTHY_THEN_EXIT, {"health": "ok\n"}))
    create_service(ecs, good, setup, desired=1, minimum=100, maximum=200)
    wait_for("the first deployment", completed(ecs, good))
    elb.modify_target_group_attributes(TargetGroupArn=setup, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3000"}])
    deployment_id = ecs.update_service(
        cluster=CLUSTER, service=SERVICE, taskDefinition=exits, deploymentConfiguration={
            "maximumPercent": 200, "minimumHealthyPercent": 100, "deploymentCircuitBreaker": {
                "enable": True, "rollback": False, "resetOnHealthyTask": reset}})["service"]["deployments"][0]["id"]
    if not reset:
        service = wait_for("the circuit breaker", lambda: (lambda s: s if s["deployments"][0]["rolloutState"] ==
                                                           "FAILED" else None)(describe(ecs)), timeout=60)
        assert service["deployments"][0]["id"] == deployment_id and service["deployments"][0]["failedTasks"] >= 3
        return
    wait_for("four tasks that were healthy and exited", lambda: len(stopped_tasks(ecs, exits)) >= 4, timeout=60)
    service = describe(ecs)
    primary = service["deployments"][0]
    assert primary["id"] == deployment_id and primary["rolloutState"] == "IN_PROGRESS", service["events"][:8]
    assert primary["failedTasks"] <= 1
    assert all(t["stopCode"] == "EssentialContainerExited" for t in stopped_tasks(ecs, exits))


def test_tasks_that_never_reach_running_fail_the_deployment_in_stage_1(aws, ecs, setup, push_variant):
    """Stage 1 of the circuit breaker: tasks of the deployment that never reach RUNNING (here the image
    cannot be pulled: TaskFailedToStart) are counted until the threshold; the deployment is FAILED and,
    with rollback on, a new PRIMARY returns to the last COMPLETED deployment."""
    good = register(ecs, push_variant("v1"))
    missing = register(ecs, f"{aws.registry.address}/demo/webapp@sha256:{'0' * 64}")
    create_service(ecs, good, setup)
    stable_id = wait_for("the first deployment", completed(ecs, good))["deployments"][0]["id"]
    failing_id = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=missing)[
        "service"]["deployments"][0]["id"]
    service = wait_for("the rollback", lambda: (lambda s: s if s["deployments"][0]["id"] != failing_id
                                                else None)(describe(ecs)))
    failed = next(d for d in service["deployments"] if d["id"] == failing_id)
    assert failed["rolloutState"] == "FAILED" and failed["failedTasks"] >= 3
    assert service["deployments"][0]["rolloutStateReason"] == \
        f"ECS deployment circuit breaker: rolling back to deploymentId {stable_id}."
    assert {t["stopCode"] for t in stopped_tasks(ecs, missing)} == {"TaskFailedToStart"}
    assert all(t["stoppedReason"].startswith("CannotPullContainerError:") for t in stopped_tasks(ecs, missing))
    wait_for("the rollback to complete", completed(ecs, good))
