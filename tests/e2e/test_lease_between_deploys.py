"""The deploy lease between real deploys, each a process with its own home, temp directory and access key:
another deploy is refused naming the holder; a holder stopped (SIGSTOP) past its lease's expiry is taken
over, and once resumed (SIGCONT) makes no mutating call at all. ECS's circuit breaker is off."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from deploying import bootstrapped, config_of, healthy_on, service_of, steady, with_deploy_settings
from helpers import run_cli, shipline_exe, wait_for


def _agent(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of a deploy on its own agent: home, temp directory, access key."""
    home = tmp_path / f"home-{name}"
    (home / "tmp").mkdir(parents=True)
    return {"HOME": str(home), "TMPDIR": str(home / "tmp"), "AWS_ACCESS_KEY_ID": f"AKIA{name.upper():X<16}"}


def _deploy(app: Path, image: str, agent: dict[str, str], *extra: str) -> subprocess.Popen:
    return subprocess.Popen([str(shipline_exe()), "deploy", "--config", config_of(app), "--environment", "staging",
                             "--image", image, "--json", *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, **agent})


def test_a_holder_stopped_past_expiry_is_taken_over_and_makes_no_change_when_it_wakes(
        aws, boto, recorder, sample_app, push_variant, tmp_path) -> None:
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 3m\ndesired_count: 2\nbake_time: 25s\ncircuit_breaker: false\n"
                                     "lease: {ttl: 3s}")
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(sample_app, boto, v1)
    a, b, c = (_agent(tmp_path, name) for name in ("a", "b", "c"))

    first = _deploy(sample_app, v2, a, "--run-id", "jenkins-web-1")
    wait_for("the first deploy in its stability window", lambda: service_of(boto)["deployments"][0]["rolloutState"]
             == "COMPLETED" and service_of(boto)["taskDefinition"].endswith(":2"), timeout=120)

    # another deploy while the first holds the lease: refused, naming the holder and since when, no change
    recorder.clear()
    refused = run_cli("deploy", "--config", config_of(sample_app), "--environment", "staging", "--image", v2,
                      "--run-id", "jenkins-web-2", "--json", env=b)
    assert refused.returncode == 7, refused.stdout + refused.stderr
    message = json.loads(refused.stdout)["error"]["message"]
    assert "is being deployed by run jenkins-web-1" in message and " since 20" in message, message
    assert [str(call) for call in recorder.calls(mutating_only=True) if call.access_key == b["AWS_ACCESS_KEY_ID"]] \
        == []

    # the holder stops past its lease's expiry; the same release's deploy by another run takes over
    os.kill(first.pid, signal.SIGSTOP)
    try:
        time.sleep(4)
        taker = run_cli("deploy", "--config", config_of(sample_app), "--environment", "staging", "--image", v2,
                        "--run-id", "jenkins-web-2", "--json", env=c, timeout=300)
        assert taker.returncode == 0, taker.stdout + taker.stderr
        assert "took over the deploy lease of demo/webapp from run jenkins-web-1" in taker.stderr
        recorder.clear()
    finally:
        os.kill(first.pid, signal.SIGCONT)
    out, err = first.communicate(timeout=300)
    woke = [str(call) for call in recorder.calls(mutating_only=True) if call.access_key == a["AWS_ACCESS_KEY_ID"]]
    assert woke == [], woke
    assert first.returncode == 7, out + err
    assert "is no longer this run's" in json.loads(out)["error"]["message"]
    wait_for("the service steady", lambda: steady(boto))
    healthy_on(boto, service_of(boto)["taskDefinition"])
