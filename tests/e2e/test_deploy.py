"""The deploy engine on the local emulation: rolling and doubling that never report a false success."""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pytest

from helpers import git, run_cli
from shipline.deployment.engine import deploy, rollback
from shipline.deployment.infra import bootstrap, check
from shipline.errors import EnvironmentProblem, OperationFailed


@pytest.fixture
def app(aws, sample_app: Path, push_variant):
    """The sample service with fast settings, its v1 bootstrapped and running on the emulation."""
    aws.ecs.time_scale = 0.05
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace("  timeout: 10m\n", "  timeout: 2m\n  desired_count: 2\n"))
    git(sample_app, "commit", "-qam", "fast settings")
    return sample_app


def _config(app: Path) -> str:
    return str(app / "shipline.yaml")


def _service(boto) -> dict:
    return boto("ecs").describe_services(cluster="demo", services=["webapp"])["services"][0]


def _bootstrapped(app: Path, boto, image: str) -> None:
    bootstrap(_config(app), environment="staging", image=image)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        service = _service(boto)
        if service["deployments"][0]["rolloutState"] == "COMPLETED" and len(service["deployments"]) == 1:
            return
        time.sleep(0.2)
    raise AssertionError("the bootstrapped service never became steady")


def test_infra_check_names_each_missing_piece_and_bootstrap_makes_the_deploy_pass(aws, boto, app, push_variant):
    v1 = push_variant("v1")
    result = run_cli("infra", "check", "--config", _config(app), "--environment", "staging", "--json")
    assert result.returncode == 3, result.stderr
    error = json.loads(result.stdout)["error"]
    assert "cluster demo does not exist" in error["message"] and "service webapp does not exist" in error["message"]
    with pytest.raises(EnvironmentProblem, match="infra bootstrap"):
        deploy(_config(app), environment="staging", image=v1)

    planned = bootstrap(_config(app), environment="staging", image=v1, dry_run=True)["would"]
    assert [w.split()[0:2] for w in planned] == [["create", "cluster"], ["create", "log"], ["create", "role"],
                                                 ["create", "target"], ["register", "the"]]
    _bootstrapped(app, boto, v1)
    assert all(c["ok"] for c in check(_config(app), environment="staging")["checks"])
    assert bootstrap(_config(app), environment="staging", image=v1)["created"] == []  # idempotent


def test_rolling_then_doubling_deploys_stay_within_their_bounds(aws, boto, app, push_variant):
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    start = len(aws.ecs.log)
    result = deploy(_config(app), environment="staging", image=v2)
    assert result["decision"] == "succeeded" and _service(boto)["taskDefinition"] == result["task_definition"]
    record = json.loads(Path(result["record"]).read_text())
    assert [p["phase"] for p in record["phases"]] == ["prepare", "shift", "verify", "revisions", "finish"]
    assert record["deployment_id"] == _service(boto)["deployments"][0]["id"] and record["commit"]
    rolling = aws.ecs.log[start:]
    assert all(e["alive"] <= math.floor(2 * 200 / 100) and e["healthy"] >= 1 for e in rolling), rolling

    start = len(aws.ecs.log)
    doubled = deploy(_config(app), environment="staging", image=v1, strategy="doubling")
    assert doubled["decision"] == "succeeded"
    assert doubled["parameters"]["strategy"] == "rolling" and doubled["strategy"] == "doubling"
    assert all(e["healthy"] >= 2 for e in aws.ecs.log[start:])  # never below 100 %


def test_a_failing_health_check_version_rolls_back_with_exit_1(aws, boto, app, push_variant):
    v1, bad = push_variant("v1"), push_variant("unhealthy")
    _bootstrapped(app, boto, v1)
    before = _service(boto)["taskDefinition"]
    result = run_cli("deploy", "--config", _config(app), "--environment", "staging", "--image", bad, "--json",
                     timeout=300)
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)["error"]
    assert f"the service is back on {before.rsplit('/', 1)[-1]}" in error["message"]
    assert _service(boto)["taskDefinition"] == before
    record = json.loads(Path(error["record"]).read_text())
    assert record["decision"] == "rolled back" and record["rollback"]["success"] is True
    assert "failed ELB health checks" in json.dumps(record) or "circuit breaker" in record["reason"]


def test_a_crashing_version_fails_fast_with_the_exit_code(aws, boto, app, push_variant):
    v1, crash = push_variant("v1"), push_variant("crash")
    _bootstrapped(app, boto, v1)
    start = time.monotonic()
    with pytest.raises(OperationFailed) as caught:
        deploy(_config(app), environment="staging", image=crash)
    assert time.monotonic() - start < 60
    assert "Essential container in task exited (exit code 7)" in caught.value.message


def test_ecs_circuit_breaker_rollback_is_reported_as_failure(aws, boto, app, push_variant):
    """The false-success regression: ECS rolls back on its own; the deploy must not say success."""
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace("  desired_count: 2\n",
                                                 "  desired_count: 2\n  fail_fast_after: 100\n"))
    v1, bad = push_variant("v1"), push_variant("unhealthy")
    _bootstrapped(app, boto, v1)
    before = _service(boto)["taskDefinition"]
    with pytest.raises(OperationFailed) as caught:
        deploy(_config(app), environment="staging", image=bad)
    message = caught.value.message
    assert "ECS rolled back" in message or "circuit breaker" in message, message
    assert _service(boto)["taskDefinition"] == before


def test_a_failing_migration_stops_the_deploy_before_any_traffic_moves(aws, boto, recorder, app, push_variant):
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace("  desired_count: 2\n", "  desired_count: 2\n  pre_deploy:\n"
                                                 "    command: [sh, -c, 'echo migrating; echo boom >&2; exit 3']\n"))
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    before = _service(boto)["taskDefinition"]
    recorder.clear()
    result = run_cli("deploy", "--config", _config(app), "--environment", "staging", "--image", v2, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "exited 3: nothing was deployed" in result.stderr and "| migrating" in result.stderr
    assert _service(boto)["taskDefinition"] == before
    assert not [c for c in recorder.calls(product_only=True) if c.operation == "UpdateService"]


def test_run_task_and_rollback_on_demand(aws, boto, app, push_variant):
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    first = _service(boto)["taskDefinition"]
    deploy(_config(app), environment="staging", image=v2)
    job = run_cli("run-task", "--config", _config(app), "--environment", "staging",
                  "--command=sh", "--command=-c", "--command=echo one; echo two; exit 4")
    assert job.returncode == 1 and "the task exited 4" in job.stderr and "| two" in job.stderr
    ok = run_cli("run-task", "--config", _config(app), "--environment", "staging", "--command", "true")
    assert ok.returncode == 0, ok.stderr
    back = rollback(_config(app), environment="staging")
    assert back["decision"] == "succeeded" and _service(boto)["taskDefinition"] == first


def _set(app: Path, old: str, new: str) -> None:
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace(old, new))
    git(app, "commit", "-qam", "settings")


def test_autoscaling_is_suspended_during_the_deploy_and_restored(aws, boto, recorder, app, push_variant):
    _set(app, "  desired_count: 2\n", "  desired_count: 2\n  suspend_autoscaling: true\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    scaling = boto("application-autoscaling")
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/demo/webapp",
                                     ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=4)
    recorder.clear()
    result = deploy(_config(app), environment="staging", image=v2)
    calls = [c for c in recorder.calls(product_only=True) if c.operation in ("RegisterScalableTarget", "UpdateService")]
    assert [c.operation for c in calls] == ["RegisterScalableTarget", "UpdateService", "RegisterScalableTarget"]
    assert calls[0].params["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert calls[2].params["SuspendedState"]["DynamicScalingInSuspended"] is False
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert not target.get("SuspendedState", {}).get("DynamicScalingInSuspended")
    assert {"autoscaling suspended", "autoscaling restored"} <= {p["phase"] for p in result["phases"]}


def test_an_alarm_during_the_bake_window_fails_and_rolls_back(aws, boto, app, push_variant):
    import threading

    _set(app, "  desired_count: 2\n", "  desired_count: 2\n  bake_time: 5s\n  alarms: [webapp-5xx]\n")
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="webapp-5xx", Namespace="AWS/ApplicationELB", MetricName="5xx",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
                                ComparisonOperator="GreaterThanThreshold")
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    before = _service(boto)["taskDefinition"]

    def alarm_once_completed() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            service = _service(boto)
            if service["taskDefinition"] != before and service["deployments"][0]["rolloutState"] == "COMPLETED":
                cloudwatch.set_alarm_state(AlarmName="webapp-5xx", StateValue="ALARM", StateReason="5xx burst")
                return
            time.sleep(0.1)

    thread = threading.Thread(target=alarm_once_completed)
    thread.start()
    with pytest.raises(OperationFailed, match="went to ALARM during the bake window"):
        deploy(_config(app), environment="staging", image=v2)
    thread.join()
    assert _service(boto)["taskDefinition"] == before


def test_old_revisions_are_deregistered_after_success_keeping_the_last_n(aws, boto, app, push_variant):
    _set(app, "  desired_count: 2\n", "  desired_count: 2\n  keep_revisions: 1\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    _bootstrapped(app, boto, v1)
    result = deploy(_config(app), environment="staging", image=v2)
    active = boto("ecs").list_task_definitions(familyPrefix="webapp", status="ACTIVE")["taskDefinitionArns"]
    assert active == [result["task_definition"]]
    assert next(p for p in result["phases"] if p["phase"] == "revisions")["deregistered"] == [
        result["previous_task_definition"]]
