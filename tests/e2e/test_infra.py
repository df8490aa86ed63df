"""`shipline infra bootstrap --wait` on the local emulation: it returns only when the created service's
deployment is COMPLETED with every task running, printing its progress; exit 4 when deploy.timeout passes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from helpers import git, run_cli


def _app(sample_app: Path, timeout: str) -> str:
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace("  timeout: 10m\n", f"  timeout: {timeout}\n  desired_count: 2\n"
                                                                      "  bake_time: 2s\n"))
    git(sample_app, "commit", "-qam", "two tasks")
    return str(config)


def _service(boto) -> dict:
    return boto("ecs").describe_services(cluster="demo", services=["webapp"])["services"][0]


def test_bootstrap_wait_returns_when_every_task_runs(aws, boto, sample_app: Path, push_variant) -> None:
    aws.ecs.time_scale = 0.05
    config, v1 = _app(sample_app, "2m"), push_variant("v1")
    result = run_cli("infra", "bootstrap", "--config", config, "--environment", "staging", "--image", v1,
                     "--wait", "--json", timeout=300)
    assert result.returncode == 0, result.stderr
    service = _service(boto)
    primary = service["deployments"][0]
    assert (primary["rolloutState"], primary["runningCount"], service["runningCount"], service["desiredCount"]) == (
        "COMPLETED", 2, 2, 2)
    assert json.loads(result.stdout)["result"] | {"created": []} == {
        "created": [], "service": "webapp", "cluster": "demo", "deployment": primary["id"], "running": 2,
        "desired": 2}
    assert f"service webapp: 2 of 2 tasks running (deployment {primary['id']}, COMPLETED)" in result.stderr

    again = run_cli("infra", "bootstrap", "--config", config, "--environment", "staging", "--image", v1, "--wait")
    assert again.returncode == 0, again.stderr
    assert "nothing to create: all there" in again.stdout and "2 of 2 tasks running" in again.stdout


def test_bootstrap_wait_times_out_with_exit_4_naming_the_running_count(aws, boto, sample_app: Path,
                                                                       push_variant) -> None:
    aws.ecs.time_scale = 1.0  # real health checks: 2 x 5 s before a target is healthy, more than the timeout
    config, v1 = _app(sample_app, "3s"), push_variant("v1")
    result = run_cli("infra", "bootstrap", "--config", config, "--environment", "staging", "--image", v1,
                     "--wait", "--json", timeout=300)
    assert result.returncode == 4, result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert "timed out after 3s (deploy.timeout) waiting for service webapp" in message
    assert " of 2 tasks running" in message and "Traceback" not in result.stderr
    assert _service(boto)["desiredCount"] == 2  # created, still starting


def test_the_readmes_main_job_runs_as_written(aws, boto, sample_app: Path, docker_engine) -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    block = readme.split("### The main job, command by command", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    assert [line.split()[1] for line in block.splitlines() if line.startswith("shipline ")] == [
        "scan-gate", "render", "register", "infra", "deploy"]
    aws.ecs.time_scale = 0.05
    config = _app(sample_app, "2m")
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=sample_app, capture_output=True, text=True,
                         timeout=600, env={**os.environ, "CONFIG": config,
                                           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert run.returncode == 0, run.stderr
    assert "2 of 2 tasks running" in run.stderr + run.stdout
    service = _service(boto)
    assert service["runningCount"] == 2 and service["deployments"][0]["rolloutState"] == "COMPLETED"
