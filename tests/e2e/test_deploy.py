"""The deploy engine on the local emulation: rolling and doubling that never report a false success."""
from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from deploying import bootstrapped, config_of, healthy_on, known_good_of, service_of, steady, with_deploy_settings
from helpers import git, run_cli, shipline_exe, wait_for
from shipline.deployment.engine import deploy, rollback
from shipline.deployment.infra import bootstrap, check
from shipline.errors import EnvironmentProblem, OperationFailed


@pytest.fixture
def app(aws, sample_app: Path, push_variant):
    """The sample service with fast settings, its v1 bootstrapped and running on the emulation."""
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s")
    return sample_app


def test_infra_check_names_each_missing_piece_and_bootstrap_makes_the_deploy_pass(aws, boto, app, push_variant):
    v1 = push_variant("v1")
    result = run_cli("infra", "check", "--config", config_of(app), "--environment", "staging", "--json")
    assert result.returncode == 3, result.stderr
    error = json.loads(result.stdout)["error"]
    assert "cluster demo does not exist" in error["message"] and "service webapp does not exist" in error["message"]
    with pytest.raises(EnvironmentProblem, match="infra bootstrap"):
        deploy(config_of(app), environment="staging", image=v1)

    planned = bootstrap(config_of(app), environment="staging", image=v1, dry_run=True)["would"]
    assert [w.split()[0:2] for w in planned] == [["create", "deploy"], ["create", "cluster"], ["create", "log"],
                                                 ["create", "role"],
                                                 ["create", "target"], ["register", "the"]]
    bootstrapped(app, boto, v1)
    assert all(c["ok"] for c in check(config_of(app), environment="staging")["checks"])
    assert bootstrap(config_of(app), environment="staging", image=v1)["created"] == []  # idempotent


def test_rolling_then_doubling_deploys_stay_within_their_bounds(aws, boto, app, push_variant):
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    start = len(aws.ecs.log)
    result = deploy(config_of(app), environment="staging", image=v2)
    assert result["decision"] == "succeeded" and service_of(boto)["taskDefinition"] == result["task_definition"]
    record = json.loads(Path(result["record"]).read_text())
    assert [p["phase"] for p in record["phases"]] == ["prepare", "known good", "shift", "stability window passed",
                                                      "verify", "known good", "revisions", "finish"]
    assert record["deployment_id"] == service_of(boto)["deployments"][0]["id"] and record["commit"]
    rolling = aws.ecs.log[start:]
    assert all(e["alive"] <= math.floor(2 * 200 / 100) and e["healthy"] >= 1 for e in rolling), rolling

    start = len(aws.ecs.log)
    doubled = deploy(config_of(app), environment="staging", image=v1, strategy="doubling")
    assert doubled["decision"] == "succeeded"
    assert doubled["parameters"]["strategy"] == "rolling" and doubled["strategy"] == "doubling"
    assert all(e["healthy"] >= 2 for e in aws.ecs.log[start:])  # never below 100 %


def test_a_failing_health_check_version_rolls_back_with_exit_1(aws, boto, app, push_variant):
    v1, bad = push_variant("v1"), push_variant("unhealthy")
    bootstrapped(app, boto, v1)
    before = service_of(boto)["taskDefinition"]
    result = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", bad, "--json",
                     timeout=300)
    assert result.returncode == 1, result.stderr
    error = json.loads(result.stdout)["error"]
    assert f"the service is back on {before.rsplit('/', 1)[-1]}" in error["message"]
    assert service_of(boto)["taskDefinition"] == before
    record = json.loads(Path(error["record"]).read_text())
    assert record["decision"] == "rolled back" and record["rollback"]["success"] is True
    assert "failed ELB health checks" in json.dumps(record) or "circuit breaker" in record["reason"]


def test_a_crashing_version_fails_fast_with_the_exit_code(aws, boto, app, push_variant):
    v1, crash = push_variant("v1"), push_variant("crash")
    bootstrapped(app, boto, v1)
    start = time.monotonic()
    with pytest.raises(OperationFailed) as caught:
        deploy(config_of(app), environment="staging", image=crash)
    assert time.monotonic() - start < 60
    assert "Essential container in task exited (exit code 7)" in caught.value.message


def test_ecs_circuit_breaker_rollback_is_reported_as_failure(aws, boto, app, push_variant):
    """The false-success regression: ECS rolls back on its own; the deploy must not say success."""
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace("  desired_count: 2\n",
                                                 "  desired_count: 2\n  fail_fast_after: 100\n"))
    v1, bad = push_variant("v1"), push_variant("unhealthy")
    bootstrapped(app, boto, v1)
    before = service_of(boto)["taskDefinition"]
    with pytest.raises(OperationFailed) as caught:
        deploy(config_of(app), environment="staging", image=bad)
    message = caught.value.message
    assert "ECS rolled back" in message or "circuit breaker" in message, message
    assert service_of(boto)["taskDefinition"] == before


def test_a_failing_migration_stops_the_deploy_before_any_traffic_moves(aws, boto, recorder, app, push_variant):
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace("  desired_count: 2\n", "  desired_count: 2\n  pre_deploy:\n"
                                                 "    command: [sh, -c, 'echo migrating; echo boom >&2; exit 3']\n"))
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    before = service_of(boto)["taskDefinition"]
    recorder.clear()
    result = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", v2, timeout=300)
    assert result.returncode == 1, result.stderr
    assert "exited 3: nothing was deployed" in result.stderr and "| migrating" in result.stderr
    assert service_of(boto)["taskDefinition"] == before
    assert not [c for c in recorder.calls(product_only=True) if c.operation == "UpdateService"]


def test_run_task_and_rollback_on_demand(aws, boto, app, push_variant):
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    first = service_of(boto)["taskDefinition"]
    deploy(config_of(app), environment="staging", image=v2)
    job = run_cli("run-task", "--config", config_of(app), "--environment", "staging",
                  "--command=sh", "--command=-c", "--command=echo one; echo two; exit 4")
    assert job.returncode == 1 and "the task exited 4" in job.stderr and "| two" in job.stderr
    ok = run_cli("run-task", "--config", config_of(app), "--environment", "staging", "--command", "true")
    assert ok.returncode == 0, ok.stderr
    back = rollback(config_of(app), environment="staging")
    assert back["decision"] == "succeeded" and service_of(boto)["taskDefinition"] == first


def _set(app: Path, old: str, new: str) -> None:
    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace(old, new))
    git(app, "commit", "-qam", "settings")


def test_autoscaling_is_suspended_during_the_deploy_and_restored(aws, boto, recorder, app, push_variant):
    _set(app, "  desired_count: 2\n", "  desired_count: 2\n  suspend_autoscaling: true\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    scaling = boto("application-autoscaling")
    scaling.register_scalable_target(ServiceNamespace="ecs", ResourceId="service/demo/webapp",
                                     ScalableDimension="ecs:service:DesiredCount", MinCapacity=2, MaxCapacity=4)
    recorder.clear()
    result = deploy(config_of(app), environment="staging", image=v2)
    calls = [c for c in recorder.calls(product_only=True) if c.operation in ("RegisterScalableTarget", "UpdateService")]
    assert [c.operation for c in calls] == ["RegisterScalableTarget", "UpdateService", "RegisterScalableTarget"]
    assert calls[0].params["SuspendedState"]["DynamicScalingInSuspended"] is True
    assert calls[2].params["SuspendedState"]["DynamicScalingInSuspended"] is False
    target = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"][0]
    assert not target.get("SuspendedState", {}).get("DynamicScalingInSuspended")
    assert {"autoscaling suspended", "autoscaling restored"} <= {p["phase"] for p in result["phases"]}


def test_an_alarm_during_the_stability_window_fails_and_rolls_back_and_no_alarm_blocks_the_way_back(
        aws, boto, recorder, app, push_variant):
    """The alarm stays in ALARM: the way back of the deploy and a rollback after it disarm it; the rollback
    suspends auto scaling and restores it, and its record has every phase."""
    import threading

    _set(app, "  bake_time: 2s\n", "  bake_time: 5s\n  alarms: [webapp-5xx]\n  suspend_autoscaling: true\n")
    cloudwatch = boto("cloudwatch")
    cloudwatch.put_metric_alarm(AlarmName="webapp-5xx", Namespace="AWS/ApplicationELB", MetricName="5xx",
                                Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=5,
                                ComparisonOperator="GreaterThanThreshold",
                                TreatMissingData="ignore")  # the metric has no data: evaluations keep the set state
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    before = service_of(boto)["taskDefinition"]
    boto("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs", ResourceId="service/demo/webapp", ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1, MaxCapacity=4)

    def alarm_once_completed() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            service = service_of(boto)
            if service["taskDefinition"] != before and service["deployments"][0]["rolloutState"] == "COMPLETED":
                cloudwatch.set_alarm_state(AlarmName="webapp-5xx", StateValue="ALARM", StateReason="5xx burst")
                return
            time.sleep(0.1)

    thread = threading.Thread(target=alarm_once_completed)
    thread.start()
    with pytest.raises(OperationFailed, match="went to ALARM during the stability window"):
        deploy(config_of(app), environment="staging", image=v2)
    thread.join()
    assert service_of(boto)["taskDefinition"] == before

    recorder.clear()
    result = rollback(config_of(app), environment="staging", to=before.rsplit(":", 1)[-1])
    assert result["decision"] == "succeeded" and service_of(boto)["taskDefinition"] == before
    assert cloudwatch.describe_alarms(AlarmNames=["webapp-5xx"])["MetricAlarms"][0]["StateValue"] == "ALARM"
    calls = recorder.calls(product_only=True)
    update = next(c for c in calls if c.operation == "UpdateService")
    assert update.params["deploymentConfiguration"]["alarms"] == {"alarmNames": ["webapp-5xx"], "enable": False,
                                                                 "rollback": False}
    suspended = [c.params["SuspendedState"]["DynamicScalingInSuspended"] for c in calls
                 if c.operation == "RegisterScalableTarget"]
    assert suspended == [True, False]  # suspended for the way back, then as it was
    phases = [p["phase"] for p in json.loads(Path(result["record"]).read_text())["phases"]]
    assert phases == ["prepare", "autoscaling suspended", "way back", "verify", "autoscaling restored",
                      "known good", "finish"]


def test_old_revisions_are_deregistered_after_success_keeping_the_last_n(aws, boto, app, push_variant):
    _set(app, "  desired_count: 2\n", "  desired_count: 2\n  keep_revisions: 1\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    result = deploy(config_of(app), environment="staging", image=v2)
    active = boto("ecs").list_task_definitions(familyPrefix="webapp", status="ACTIVE")["taskDefinitionArns"]
    assert active == [result["task_definition"]]
    assert next(p for p in result["phases"] if p["phase"] == "revisions")["deregistered"] == [
        result["previous_task_definition"]]


# --- a release fails late; the way back points at a known-good revision; other deploys ---------------------
def _cli_deploy(app: Path, image: str, *extra: str, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([str(shipline_exe()), "deploy", "--config", config_of(app), "--environment", "staging",
                             "--image", image, "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **(env or {})})


@pytest.mark.parametrize("window", ["bake_time: 45s", "default"])
def test_a_release_that_crashes_20s_after_passing_its_health_checks_is_refused(aws, boto, app, push_variant,
                                                                               window):
    """Circuit breaker off: only shipline's stability window can catch it (default: 2 x (2 x 5s + 2s) = 24s)."""
    setting = "  bake_time: 45s\n" if window != "default" else ""
    _set(app, "  bake_time: 2s\n", setting + "  circuit_breaker: false\n")
    v1, late = push_variant("v1"), push_variant("crash-late")
    bootstrapped(app, boto, v1)
    before = service_of(boto)["taskDefinition"]
    result = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", late, "--json",
                     timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "stability window" in error["message"] and "exit code 42" in error["message"], error["message"]
    record = json.loads(Path(error["record"]).read_text())
    assert record["parameters"]["stability_window"] == (45.0 if window != "default" else 24.0)
    assert record["decision"] == "rolled back" and record["rollback"]["to"] == before
    wait_for("the service steady on its previous revision", lambda: steady(boto))
    healthy_on(boto, before)


@pytest.mark.parametrize("strategy", ["rolling", "doubling"])
@pytest.mark.parametrize("release", ["errors-late", "slow-late"])
def test_a_release_whose_health_turns_bad_after_a_warm_up_is_refused(aws, boto, app, push_variant, strategy,
                                                                     release):
    """Healthy for 15 s, then /health answers 404 (errors-late) or never answers (slow-late)."""
    _set(app, "  bake_time: 2s\n", "  bake_time: 25s\n  circuit_breaker: false\n")
    v1, late = push_variant("v1"), push_variant(release)
    good = bootstrapped(app, boto, v1)
    result = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", late,
                     "--strategy", strategy, "--json", timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert "stability window" in message and f"back on {good.rsplit('/', 1)[-1]}" in message, message
    wait_for("the service steady on its previous revision", lambda: steady(boto))
    healthy_on(boto, good)


def test_kill_9_during_a_bad_release_then_a_rerun_on_a_fresh_agent_returns_to_the_last_good_revision(
        aws, boto, app, push_variant, tmp_path):
    """The re-run has no local state (another checkout, another home): the way back comes from AWS alone."""
    _set(app, "  bake_time: 2s\n", "  bake_time: 40s\n  circuit_breaker: false\n")
    v1, late = push_variant("v1"), push_variant("crash-late")
    bootstrapped(app, boto, v1)
    good = service_of(boto)["taskDefinition"]
    first = _cli_deploy(app, late, "--run-id", "jenkins-web-3")  # the stage's run, retried on a fresh agent below
    wait_for("the bad release to complete (its stability window running)",
              lambda: service_of(boto)["taskDefinition"] != good and
              service_of(boto)["deployments"][0]["rolloutState"] == "COMPLETED")
    first.kill()
    first.wait()
    left = json.loads(next((app / ".shipline" / "records").glob("deploy-staging-*.json")).read_text())
    assert left["decision"] == "in progress" and left["undo_target"] == good  # written when the run started
    bad = service_of(boto)["taskDefinition"]
    assert bad != good and len(service_of(boto)["deployments"]) == 1  # ECS calls the bad release steady

    agent = tmp_path / "agent-2"
    shutil.copytree(app, agent, ignore=shutil.ignore_patterns(".shipline"))
    home = tmp_path / "home-2"
    home.mkdir()
    rerun = run_cli("deploy", "--config", config_of(agent), "--environment", "staging", "--image", late, "--json",
                    "--run-id", "jenkins-web-3", env={"HOME": str(home)}, timeout=300)
    assert rerun.returncode == 1, rerun.stdout + rerun.stderr
    message = json.loads(rerun.stdout)["error"]["message"]
    assert f"back on {good.rsplit('/', 1)[-1]}" in message and "exit code 42" in message, message
    assert "already under way: judging it" in rerun.stderr
    wait_for("the service steady on the good revision", lambda: steady(boto))
    healthy_on(boto, good)


def test_a_deploy_beside_an_in_flight_deployment_is_refused_and_the_first_returns_to_the_good_revision(
        aws, boto, recorder, app, push_variant):
    _set(app, "  timeout: 2m\n", "  timeout: 20s\n  circuit_breaker: false\n  fail_fast_after: 100\n")
    v1, v2, bad = push_variant("v1"), push_variant("v2"), push_variant("unhealthy")
    bootstrapped(app, boto, v1)
    good = service_of(boto)["taskDefinition"]
    first = _cli_deploy(app, bad)
    wait_for("the bad deployment in flight", lambda: service_of(boto)["taskDefinition"] != good)
    recorder.clear()
    second = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", v2, "--json")
    assert second.returncode == 7, second.stdout + second.stderr
    message = json.loads(second.stdout)["error"]["message"]
    assert "is being deployed by run " in message and "--wait-for-lease" in message, message
    assert not [c for c in recorder.calls(product_only=True, mutating_only=True) if c.operation == "UpdateService"]
    assert known_good_of(app) == good
    out, err = first.communicate(timeout=300)
    assert first.returncode == 4, out + err   # it timed out (its deadline) and was put back
    assert f"back on {good.rsplit('/', 1)[-1]}" in json.loads(out)["error"]["message"]
    wait_for("the service steady on the good revision", lambda: steady(boto))
    healthy_on(boto, good)


def test_another_actors_release_during_verify_is_a_take_over_and_is_never_undone(aws, boto, recorder, app,
                                                                                   push_variant):
    _set(app, "  bake_time: 2s\n", "  bake_time: 30s\n  circuit_breaker: false\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    ecs = boto("ecs")
    good = service_of(boto)["taskDefinition"]
    definition = ecs.describe_task_definition(taskDefinition=good)["taskDefinition"]
    theirs = ecs.register_task_definition(family=definition["family"], networkMode=definition["networkMode"],
                                          containerDefinitions=definition["containerDefinitions"],
                                          requiresCompatibilities=definition["requiresCompatibilities"],
                                          cpu=definition["cpu"], memory=definition["memory"],
                                          executionRoleArn=definition["executionRoleArn"]
                                          )["taskDefinition"]["taskDefinitionArn"]
    ours = _cli_deploy(app, v2)
    wait_for("our release in its stability window",
              lambda: service_of(boto)["taskDefinition"] not in (good, theirs) and
              service_of(boto)["deployments"][0]["rolloutState"] == "COMPLETED")
    recorder.clear()
    ecs.update_service(cluster="demo", service="webapp", taskDefinition=theirs)
    out, err = ours.communicate(timeout=300)
    assert ours.returncode == 7, out + err
    message = json.loads(out)["error"]["message"]
    assert "another deploy took the service over" in message and "nothing was undone" in message, message
    assert "ECS rolled back" not in out + err
    product = [c.operation for c in recorder.calls(product_only=True, mutating_only=True)]
    assert "UpdateService" not in product and known_good_of(app) == good, product
    wait_for("their release steady", lambda: steady(boto))
    healthy_on(boto, theirs)


def test_a_timed_out_release_goes_back_within_its_own_budget_exit_4(aws, boto, app, push_variant):
    """deploy.timeout 5s is too short for the release (real-ish ELB timing); the way back has its own budget."""
    _set(app, "  timeout: 2m\n", "  timeout: 5s\n")
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    good = service_of(boto)["taskDefinition"]
    aws.ecs.time_scale = 0.3  # healthy after ~3 s, old targets drain for 9 s: longer than 5 s, a good release
    result = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", v2, "--json",
                     timeout=300)
    assert result.returncode == 4, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert "timed out after 5s" in error["message"] and f"back on {good.rsplit('/', 1)[-1]}" in error["message"]
    record = json.loads(Path(error["record"]).read_text())
    assert record["decision"] == "rolled back" and record["rollback"]["success"] is True
    healthy_on(boto, good)


def test_an_internal_error_still_completes_the_record(aws, boto, app, push_variant, monkeypatch):
    from shipline.deployment.strategies.base import InPlace

    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)

    def broken(*args, **kwargs):
        raise RuntimeError("a bug in verify")

    monkeypatch.setattr(InPlace, "verify", broken)
    with pytest.raises(RuntimeError):
        deploy(config_of(app), environment="staging", image=v2)
    record = json.loads(next((app / ".shipline" / "records").glob("deploy-staging-*.json")).read_text())
    assert record["decision"] == "internal error" and "a bug in verify" in record["reason"]
    assert [p["phase"] for p in record["phases"]][:3] == ["prepare", "known good", "shift"]


def test_two_deploys_started_together_never_end_on_a_bad_revision(aws, boto, app, push_variant):
    """A bad and a good release at the same moment: one may be refused or taken over (exit 7), but the way
    back always points at a known-good revision and the service ends healthy on one."""
    _set(app, "  bake_time: 2s\n", "  bake_time: 10s\n  circuit_breaker: false\n")
    v1, v2, bad = push_variant("v1"), push_variant("v2"), push_variant("unhealthy")
    bootstrapped(app, boto, v1)
    good = service_of(boto)["taskDefinition"]
    runs = [_cli_deploy(app, image) for image in (bad, v2)]
    outcomes = [(run.returncode, out, err) for run in runs for out, err in [run.communicate(timeout=300)]]
    codes = [code for code, _, _ in outcomes]
    assert set(codes) <= {0, 1, 7} and 7 in codes or codes == [1, 0], outcomes
    for code, out, err in outcomes:
        if code == 1:
            assert f"back on {good.rsplit('/', 1)[-1]}" in json.loads(out)["error"]["message"], out
    wait_for("the service steady", lambda: steady(boto), timeout=120)
    final = service_of(boto)["taskDefinition"]
    assert boto("ecs").describe_task_definition(taskDefinition=final)["taskDefinition"]["containerDefinitions"][0][
        "image"] in (v1, v2)
    healthy_on(boto, final)
