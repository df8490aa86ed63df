"""Kill points: a deploy is killed (SIGKILL) right after its N-th mutating AWS call, then the same deploy is run
again from another working directory with another home, as a fresh agent would. Whatever N, the service
converges — on the release when it is good, on the last good revision when it is bad — steady, every target
healthy, running nothing half-done. ECS's circuit breaker is off."""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess

import pytest

from deploying import bootstrapped, config_of, healthy_on, lease_renewal, service_of, steady, with_deploy_settings
from helpers import run_cli, shipline_exe, wait_for

# The mutating calls of a deploy after bootstrap: UpdateItem (the deploy lease), RegisterTaskDefinition,
# UpdateItem (the way back marked known good, before the first change), UpdateService, then UpdateItem (known
# good) and DeregisterTaskDefinition when good, UpdateService (the way back) when bad, and UpdateItem (the lease
# released).
KILL_POINTS = (1, 2, 3, 4, 5, 6)


def _killed_after(recorder, n: int, args: list[str]) -> tuple[subprocess.Popen, list[str]]:
    """Run `shipline deploy ARGS` and SIGKILL it right after its n-th mutating call; return it and the calls."""
    seen: list[str] = []
    process = subprocess.Popen([str(shipline_exe()), "deploy", *args], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)

    def on_call(call) -> None:
        if call.by_product and call.mutating and not lease_renewal(call) and call.status < 400 and len(seen) < n:
            seen.append(call.operation)
            if len(seen) == n:
                os.kill(process.pid, signal.SIGKILL)

    recorder.listeners.append(on_call)
    process.communicate(timeout=300)
    recorder.listeners.remove(on_call)
    return process, seen


@pytest.mark.parametrize("strategy", ["rolling", "doubling"])
@pytest.mark.parametrize("release, expected", [("v2", "release"), ("unhealthy", "last good")])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_deploy_killed_after_any_mutating_call_converges_when_run_again(aws, boto, recorder, sample_app, tmp_path,
                                                                          push_variant, strategy, release, expected,
                                                                          point):
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 3s\ncircuit_breaker: false")
    v1, image = push_variant("v1"), push_variant(release)
    good = bootstrapped(sample_app, boto, v1)
    # the same deploy run again (a stage retried on a fresh agent): the same run id, which takes its lease over
    args = ["--environment", "staging", "--image", image, "--strategy", strategy, "--run-id", "jenkins-web-7",
            "--json"]
    first, calls = _killed_after(recorder, point, ["--config", config_of(sample_app), *args])
    assert first.returncode == -signal.SIGKILL, (calls, first.stderr)
    assert len(calls) == point

    agent, home = tmp_path / "agent-2", tmp_path / "home-2"
    shutil.copytree(sample_app, agent, ignore=shutil.ignore_patterns(".shipline"))
    home.mkdir()
    rerun = run_cli("deploy", "--config", config_of(agent), *args, env={"HOME": str(home)}, timeout=300)
    assert "Traceback" not in rerun.stderr, rerun.stderr
    outcome = json.loads(rerun.stdout)
    wait_for("the service steady", lambda: steady(boto), timeout=120)
    final = service_of(boto)["taskDefinition"]
    if expected == "release":
        assert rerun.returncode == 0, (calls, rerun.stdout + rerun.stderr)
        assert final == outcome["result"]["task_definition"] != good
    else:  # refused beside its own way back still under way (7), or failed and put back (1)
        assert rerun.returncode in (1, 7), (calls, rerun.stdout + rerun.stderr)
        assert final == good, (calls, outcome)
    healthy_on(boto, final)
