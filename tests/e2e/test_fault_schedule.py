"""Rolling and doubling under a fault schedule (throttling, 500/503, resets before and after the request is
applied, slow answers, on every AWS operation a deploy uses), with ECS's circuit breaker off: every good
release succeeds, every bad or late-failing release fails — 0 false successes, 0 false failures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploying import bootstrapped, config_of, healthy_on, service_of, steady, with_deploy_settings
from helpers import run_cli, wait_for
from shipline.local.faults import FAILING, FaultProxy, FaultSchedule

SCHEDULE = FaultSchedule(seed=20261201, rate=0.1)   # one schedule for the module: every kind on every operation
RELEASES = {"v2": 0, "unhealthy": 1, "crash-late": 1}   # expected exit codes (errors and hangs: test_deploy)
OUTCOMES: list[dict] = []


@pytest.fixture
def proxy(aws):
    started = FaultProxy(aws.moto.endpoint, SCHEDULE).start()
    yield started
    started.stop()


@pytest.mark.parametrize("strategy", ["rolling", "doubling"])
@pytest.mark.parametrize("release", list(RELEASES))
def test_a_release_under_faults_gets_the_verdict_it_deserves(aws, boto, sample_app: Path, push_variant, proxy,
                                                             strategy, release):
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 3m\ndesired_count: 2\nbake_time: 25s\ncircuit_breaker: false")
    v1, image = push_variant("v1"), push_variant(release)
    good = bootstrapped(sample_app, boto, v1)
    result = run_cli("deploy", "--config", config_of(sample_app), "--environment", "staging", "--image", image,
                     "--strategy", strategy, "--json", env={"AWS_ENDPOINT_URL": proxy.endpoint}, timeout=400)
    expected = RELEASES[release]
    OUTCOMES.append({"strategy": strategy, "release": release, "expected": expected, "exit": result.returncode})
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == expected, result.stdout + result.stderr
    wait_for("the service steady", lambda: steady(boto), timeout=120)
    if expected == 0:
        healthy_on(boto, json.loads(result.stdout)["result"]["task_definition"])
    else:
        assert f"back on {good.rsplit('/', 1)[-1]}" in json.loads(result.stdout)["error"]["message"]
        healthy_on(boto, good)
    assert service_of(boto)["taskDefinition"] != image


def test_the_schedule_counted_no_false_result_and_faulted_every_operation(capsys):
    false_successes = [o for o in OUTCOMES if o["expected"] != 0 and o["exit"] == 0]
    false_failures = [o for o in OUTCOMES if o["expected"] == 0 and o["exit"] != 0]
    report = SCHEDULE.report()
    with capsys.disabled():
        print(f"\nfault schedule: {len(OUTCOMES)} deploys, {len(false_successes)} false successes, "
              f"{len(false_failures)} false failures")
        for operation, counts in report.items():
            print(f"  {operation:45} " + " ".join(f"{k}={v}" for k, v in counts.items()))
    assert len(OUTCOMES) == 2 * len(RELEASES)
    assert not false_successes and not false_failures, OUTCOMES
    # every kind comes first, a failing one never twice in a row: 2 x failing kinds + 1 calls cover them all
    enough = [op for op, counts in report.items() if counts["calls"] >= 2 * len(FAILING) + 1]
    assert {"ecs.UpdateService", "ecs.RegisterTaskDefinition", "dynamodb.UpdateItem",
            "ecs.DescribeServices"} <= set(enough)
    assert not {op: kinds for op, kinds in SCHEDULE.uncovered().items() if op in enough}
