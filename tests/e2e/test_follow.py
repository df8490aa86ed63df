"""`deploy --detach` then `shipline follow` from another directory and home: the verdict and record of an
attached deploy, from AWS state alone."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deploying import bootstrapped, config_of, healthy_on, known_good_of, service_of, steady, with_deploy_settings
from helpers import run_cli, wait_for


@pytest.fixture
def app(aws, sample_app, push_variant):
    aws.ecs.time_scale = 0.05
    # circuit breaker off: only shipline's stability window can catch the late crash
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 25s\ncircuit_breaker: false")
    return sample_app


def _elsewhere(tmp_path: Path, name: str) -> tuple[Path, dict[str, str]]:
    """Another working directory and home, as on another agent."""
    home = tmp_path / f"{name}-home"
    work = tmp_path / f"{name}-work"
    home.mkdir()
    work.mkdir()
    return work, {"HOME": str(home)}


def _detach(app: Path, image: str) -> dict:
    detached = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", image,
                       "--detach", "--json", timeout=120)
    assert detached.returncode == 0, detached.stderr
    result = json.loads(detached.stdout)["result"]
    assert result["decision"] == "detached" and result["following"].startswith("rolling/ecs-svc/")
    return result


def _follow(app: Path, token: str, tmp_path: Path, name: str):
    work, env = _elsewhere(tmp_path, name)
    return run_cli("follow", token, "--config", config_of(app), "--environment", "staging", "--json",
                   "--record-dir", str(work / "records"), cwd=work, env=env, timeout=300)


def _after_verify(record: dict) -> list[str]:
    phases = [p["phase"] for p in record["phases"]]
    return phases[phases.index("verify"):]


def _completed(boto, deployment_id: str) -> bool:
    return any(f"(deployment {deployment_id}) deployment completed" in e["message"]
               for e in service_of(boto)["events"])


def test_a_detached_good_release_is_followed_to_success_from_another_agent(aws, boto, app, push_variant,
                                                                          tmp_path) -> None:
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    detached = _detach(app, v2)
    assert detached["follow_after_seconds"] > 25  # the time to complete and the stability window
    followed = _follow(app, detached["following"], tmp_path, "agent-b")
    assert followed.returncode == 0, followed.stdout + followed.stderr
    result = json.loads(followed.stdout)["result"]
    assert result["decision"] == "succeeded" and "stability window" in result["reason"]
    assert result["task_definition"] == detached["task_definition"] == service_of(boto)["taskDefinition"]
    assert result["deployment_id"] == detached["deployment_id"]
    record = json.loads(Path(result["record"]).read_text())
    assert str(tmp_path / "agent-b-work") in result["record"]
    assert _after_verify(record) == ["verify", "known good", "revisions", "finish"]
    assert "adopt" in [p["phase"] for p in record["phases"]]
    assert known_good_of(app) == result["task_definition"]  # in the deploy table, for the next agent


def test_a_detached_late_crash_is_followed_to_the_same_rollback_as_an_attached_deploy(
        aws, boto, app, push_variant, tmp_path) -> None:
    v1, late = push_variant("v1"), push_variant("crash-late")
    good = bootstrapped(app, boto, v1)
    attached = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", late, "--json",
                       timeout=300)
    assert attached.returncode == 1, attached.stdout + attached.stderr
    attached_record = json.loads(Path(json.loads(attached.stdout)["error"]["record"]).read_text())
    wait_for("the service steady on the good revision", lambda: steady(boto))

    detached = _detach(app, late)
    # followed late, as a Jenkins stage that waited outside any node: the crash already happened
    wait_for("the late crash", lambda: _completed(boto, detached["deployment_id"]) and boto("ecs").list_tasks(
        cluster="demo", startedBy=detached["deployment_id"], desiredStatus="STOPPED")["taskArns"], timeout=120)
    followed = _follow(app, detached["following"], tmp_path, "agent-c")
    assert followed.returncode == 1, followed.stdout + followed.stderr
    error = json.loads(followed.stdout)["error"]
    assert "exit code 42" in error["message"] and f"back on {good.rsplit('/', 1)[-1]}" in error["message"]
    record = json.loads(Path(error["record"]).read_text())
    for key in ("decision", "task_definition", "undo_target"):
        assert record[key] == attached_record[key], key
    assert record["rollback"]["to"] == attached_record["rollback"]["to"] == good == known_good_of(app)
    assert _after_verify(record) == _after_verify(attached_record) == ["verify", "undo", "way back", "undone"]
    assert "42" in next(p for p in record["phases"] if p["phase"] == "stability window failed")["reason"]
    wait_for("the service steady on the good revision", lambda: steady(boto))
    healthy_on(boto, good)


def test_a_deploy_followed_after_its_window_is_judged_from_aws_state_without_waiting_it_again(
        aws, boto, app, push_variant, tmp_path) -> None:
    """Followed with 'deploy --follow' (the same release, no token): it starts nothing."""
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    work, env = _elsewhere(tmp_path, "agent-d")
    nothing = run_cli("deploy", "--follow", "--config", config_of(app), "--environment", "staging", "--image", v2,
                      "--json", cwd=work, env=env)
    assert nothing.returncode == 3 and "no deploy of this release is under way" in nothing.stdout
    detached = _detach(app, v2)
    wait_for("the deployment completed", lambda: _completed(boto, detached["deployment_id"]), timeout=120)
    time.sleep(26)  # the 25 s stability window has passed, unwatched
    followed = run_cli("deploy", "--follow", "--config", config_of(app), "--environment", "staging", "--image", v2,
                       "--json", "--record-dir", str(work / "records"), cwd=work, env=env, timeout=300)
    assert followed.returncode == 0, followed.stdout + followed.stderr
    assert json.loads(followed.stdout)["result"]["deployment_id"] == detached["deployment_id"]
    record = json.loads(Path(json.loads(followed.stdout)["result"]["record"]).read_text())
    window = next(p for p in record["phases"] if p["phase"] == "stability window passed")
    assert window["judged_after"] >= 25 and window["seconds"] == 25


def test_follow_refuses_a_token_it_cannot_read(aws, app) -> None:
    printed = run_cli("follow", "not-a-token", "--config", config_of(app), "--environment", "staging", "--json")
    assert printed.returncode == 2 and "is not what 'deploy --detach' prints" in printed.stdout
