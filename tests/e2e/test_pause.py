"""Pause and resume: a deploy stops at each point of deploy.pause_at (exit 6) keeping its lease, marked paused,
AWS-side; `deploy --resume` from another shell continues it to success; `rollback` aborts it — ending it when
its traffic never moved, returning to the last revision known good when it had. ECS's circuit breaker is off."""
from __future__ import annotations

import json

from deploying import bootstrapped, config_of, healthy_on, service_of, with_deploy_settings
from helpers import run_cli


def _run(app, command: str, *args: str):
    return run_cli(command, "--config", config_of(app), "--environment", "staging", "--json", *args, timeout=300)


def _lease(boto) -> dict:
    item = boto("dynamodb").get_item(TableName="shipline-deploys", ConsistentRead=True,
                                     Key={"service": {"S": "demo/webapp"}, "kind": {"S": "lease"}})["Item"]
    return {key: next(iter(value.values())) for key, value in item.items()}


def _paused_at(result, point: str) -> None:
    assert result.returncode == 6, result.stdout + result.stderr
    error = json.loads(result.stdout)["error"]
    assert f"paused at {point}, awaiting approval" in error["message"] and "--resume" in error["message"]


def test_a_paused_deploy_resumes_to_success_or_is_aborted_by_a_rollback_and_keeps_its_lease(
        aws, boto, sample_app, push_variant) -> None:
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 3s\ncircuit_breaker: false\n"
                                     "pause_at: [before-traffic, before-known-good]")
    v1, v2, v3 = push_variant("v1"), push_variant("v2"), push_variant("v3")
    good = bootstrapped(sample_app, boto, v1)

    # paused before traffic: nothing moved, the lease is kept, marked paused, and guards the service
    _paused_at(_run(sample_app, "deploy", "--image", v2, "--run-id", "jenkins-web-1"), "before-traffic")
    assert service_of(boto)["taskDefinition"] == good
    lease = _lease(boto)
    assert (lease["state"], lease["point"], lease["run_id"]) == ("paused", "before-traffic", "jenkins-web-1")
    other = _run(sample_app, "deploy", "--image", v3, "--run-id", "jenkins-web-2")
    assert other.returncode == 7 and "paused at before-traffic" in other.stdout, other.stdout + other.stderr
    nothing = _run(sample_app, "deploy", "--image", v3, "--resume", "--run-id", "jenkins-web-2")
    assert nothing.returncode == 3 and "no deploy of this release is paused" in nothing.stdout, nothing.stdout

    # resumed from another shell (another run id): traffic moves, then it pauses before counting as good
    _paused_at(_run(sample_app, "deploy", "--image", v2, "--resume", "--run-id", "approver-shell"),
               "before-known-good")
    released = service_of(boto)["taskDefinition"]
    assert released != good and _lease(boto)["point"] == "before-known-good"
    done = _run(sample_app, "deploy", "--image", v2, "--resume", "--run-id", "approver-shell")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["result"]["decision"] == "succeeded" and _lease(boto)["state"] == "free"
    healthy_on(boto, released)

    # a rollback aborts a deploy paused before its traffic moved: it ends, nothing changes
    _paused_at(_run(sample_app, "deploy", "--image", v3, "--run-id", "jenkins-web-3"), "before-traffic")
    aborted = _run(sample_app, "rollback")
    assert aborted.returncode == 0, aborted.stdout + aborted.stderr
    assert "its traffic never moved" in json.loads(aborted.stdout)["result"]["reason"]
    assert service_of(boto)["taskDefinition"] == released and _lease(boto)["state"] == "free"

    # ... and returns a deploy paused after its traffic moved to the last revision known good
    _paused_at(_run(sample_app, "deploy", "--image", v3, "--run-id", "jenkins-web-4"), "before-traffic")
    _paused_at(_run(sample_app, "deploy", "--image", v3, "--resume", "--run-id", "jenkins-web-4"),
               "before-known-good")
    assert service_of(boto)["taskDefinition"] != released
    back = _run(sample_app, "rollback")
    assert back.returncode == 0, back.stdout + back.stderr
    assert service_of(boto)["taskDefinition"] == released and _lease(boto)["state"] == "free"
    healthy_on(boto, released)
