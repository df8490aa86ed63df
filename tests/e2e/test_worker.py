"""A worker: a service with no load balancer (examples/worker) deploys in place, judged by the health signal it
has (its container health check and its running count), and a release that fails late is refused.

ECS's circuit breaker is off throughout, so only shipline's own judgement can refuse a release.
"""
from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Callable

import pytest

from deploying import CLUSTER, bootstrapped, build_and_push, config_of, running_on, service_of, steady, with_deploy_settings
from helpers import ROOT, git, run_cli, wait_for
from shipline.config import DEFAULT_STABILITY_WINDOW, load_config
from shipline.deployment.engine import deploy

WORKER = "worker"
BUSYBOX = Path("/bin/busybox")
# releases of the sample worker, by its FAILURE build argument (examples/worker/work)
RELEASES = {
    "v1": {"GIT_SHA": "v1"},
    "v2": {"GIT_SHA": "v2"},
    "crash-late": {"FAILURE": "crash-after:15"},   # healthy, then exits 42 after 15 s
    "stall-late": {"FAILURE": "stall-after:10"},   # healthy, then stops working after 10 s: keeps running
}


@pytest.fixture
def worker(aws, tmp_path: Path) -> Path:
    """The sample worker in a fresh git repository, with fast emulated ECS timings, no circuit breaker and a
    25 s stability window (a late-failing release fails within 15 s of its tasks' start)."""
    app = tmp_path / WORKER
    shutil.copytree(ROOT / "examples" / WORKER, app, ignore=shutil.ignore_patterns("busybox"))
    shutil.copy2(BUSYBOX, app / "busybox")
    git(app, "init", "-q", "-b", "main")
    git(app, "add", "-A")
    git(app, "commit", "-q", "-m", "initial")
    aws.ecs.time_scale = 0.05
    with_deploy_settings(app, "timeout: 2m\ndesired_count: 2\nbake_time: 25s\ncircuit_breaker: false")
    return app


@pytest.fixture
def release(aws, boto, docker_engine, worker: Path) -> Callable[[str], str]:
    """Build a release of the sample worker and push it to the local ECR; return its image by digest."""
    ecr = boto("ecr")
    uri = ecr.create_repository(repositoryName="demo/worker")["repository"]["repositoryUri"]
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    return lambda name: build_and_push(docker_engine, worker, uri, name, {"username": user, "password": password},
                                       buildargs=RELEASES[name])


def test_a_worker_without_a_load_balancer_has_the_documented_default_stability_window():
    env = load_config(ROOT / "examples" / WORKER / "shipline.yaml").config.environment("staging")
    assert env.stability_window == DEFAULT_STABILITY_WINDOW == 60.0


def test_a_worker_deploys_in_place_from_a_good_release_to_a_good_release(aws, boto, worker, release):
    config = worker / "shipline.yaml"
    config.write_text(config.read_text().replace("  bake_time: 25s\n", "  bake_time: 15s\n"))
    git(worker, "commit", "-qam", "a shorter stability window: nothing fails late here")
    v1, v2 = release("v1"), release("v2")
    first = bootstrapped(worker, boto, v1, service=WORKER)
    assert not service_of(boto, WORKER)["loadBalancers"]
    running_on(boto, WORKER, first, 2)
    plan = deploy(config_of(worker), environment="staging", image=v2, dry_run=True)
    assert plan["health_signal"].startswith("the containers' health checks and the running count")
    start = len(aws.ecs.log)
    result = deploy(config_of(worker), environment="staging", image=v2)
    assert result["decision"] == "succeeded" and result["strategy"] == "rolling", result
    assert result["parameters"]["stability_window"] == 15.0
    assert "stayed healthy through a 15s stability window" in result["reason"], result["reason"]
    assert [p["phase"] for p in result["phases"]][:4] == ["prepare", "known good", "shift",
                                                          "stability window passed"]
    running_on(boto, WORKER, result["task_definition"], 2)
    assert result["task_definition"] != first
    rollout = [e for e in aws.ecs.log[start:] if e["service"] == WORKER]
    assert rollout and all(e["healthy"] >= 1 and e["alive"] <= 4 for e in rollout), rollout  # 50 % / 200 %


def test_a_worker_release_that_crashes_after_passing_its_health_checks_is_refused(aws, boto, worker, release):
    v1, late = release("v1"), release("crash-late")
    good = bootstrapped(worker, boto, v1, service=WORKER)
    result = run_cli("deploy", "--config", config_of(worker), "--environment", "staging", "--image", late,
                     "--json", timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "stability window" in error["message"] and "exit code 42" in error["message"], error["message"]
    assert f"back on {good.rsplit('/', 1)[-1]}" in error["message"], error["message"]
    record = json.loads(Path(error["record"]).read_text())
    assert record["decision"] == "rolled back", record
    assert record["rollback"]["to"] == good and record["rollback"]["success"] is True, record["rollback"]
    assert record["parameters"]["circuit_breaker"] is False
    wait_for("the worker steady on its last good revision", lambda: steady(boto, WORKER))
    running_on(boto, WORKER, good, 2)


def test_the_emulation_replaces_a_service_task_whose_container_health_check_fails_as_ecs_does(aws, boto, worker,
                                                                                              release):
    """A service's task turning UNHEALTHY is stopped and replaced; a one-off task is left running (ECS's
    HealthCheck reference). The rollout completes first: the tasks are HEALTHY for their first 10 s."""
    stalling = bootstrapped(worker, boto, release("stall-late"), service=WORKER)
    ecs = boto("ecs")
    network = service_of(boto, WORKER)["networkConfiguration"]
    one_off = ecs.run_task(cluster=CLUSTER, taskDefinition=stalling, launchType="FARGATE",
                           networkConfiguration=network)["tasks"][0]["taskArn"]

    def described(arns: list[str]) -> list[dict]:
        return ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []

    stopped = wait_for("a service task stopped for failing its container health check", lambda: described(
        ecs.list_tasks(cluster=CLUSTER, serviceName=WORKER, desiredStatus="STOPPED")["taskArns"]))
    assert (stopped[0]["stoppedReason"], stopped[0]["stopCode"], stopped[0]["healthStatus"],
            stopped[0]["containers"][0]["healthStatus"]) == (
        "Task failed container health checks", "ServiceSchedulerInitiated", "UNHEALTHY", "UNHEALTHY"), stopped[0]
    task_id = stopped[0]["taskArn"].rsplit("/", 1)[-1]
    assert f"(service {WORKER}) (task {task_id}) failed container health checks." in [
        e["message"] for e in service_of(boto, WORKER)["events"]]
    wait_for("the one-off task UNHEALTHY", lambda: described([one_off])[0]["healthStatus"] == "UNHEALTHY")
    assert described([one_off])[0]["lastStatus"] == "RUNNING"  # not a service's task: left alone
    wait_for("replacements started", lambda: service_of(boto, WORKER)["runningCount"] == 2)


def test_a_worker_release_whose_container_health_check_turns_unhealthy_late_is_refused(aws, boto, worker, release):
    """The process keeps running but stops working 10 s after it starts: its container health check turns
    UNHEALTHY and ECS replaces the task (stoppedReason "Task failed container health checks")."""
    v1, late = release("v1"), release("stall-late")
    good = bootstrapped(worker, boto, v1, service=WORKER)
    result = run_cli("deploy", "--config", config_of(worker), "--environment", "staging", "--image", late,
                     "--json", timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "stability window" in error["message"] and "failed container health checks" in error["message"], \
        error["message"]
    assert f"back on {good.rsplit('/', 1)[-1]}" in error["message"], error["message"]
    record = json.loads(Path(error["record"]).read_text())
    assert record["decision"] == "rolled back" and record["rollback"]["success"] is True, record
    wait_for("the worker steady on its last good revision", lambda: steady(boto, WORKER))
    running_on(boto, WORKER, good, 2)
