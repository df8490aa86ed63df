"""`shipline infra bootstrap` on the local emulation: it plans with read calls only and then makes exactly the
planned calls; with --wait it returns only when the created service's deployment is COMPLETED with every task
running, printing its progress; exit 4 when deploy.timeout passes."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from deploying import EXAMPLE_LIMITS
from helpers import git, run_cli
from shipline.deployment.infra import bootstrap


def _app(sample_app: Path, timeout: str) -> str:
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace(EXAMPLE_LIMITS, f"  timeout: {timeout}\n  desired_count: 2\n"
                                                                 "  bake_time: 2s\n"))
    git(sample_app, "commit", "-qam", "two tasks")
    return str(config)


def _service(boto) -> dict:
    return boto("ecs").describe_services(cluster="demo", services=["webapp"])["services"][0]


def _mutations(recorder) -> list[str]:
    return [str(call) for call in recorder.calls(product_only=True) if call.mutating]


def _planned(plan: dict) -> list[str]:
    return [call for action in plan["actions"] for call in action["calls"]]


def test_bootstrap_plans_with_reads_only_and_makes_exactly_the_planned_calls(aws, boto, recorder, sample_app: Path,
                                                                              push_variant) -> None:
    aws.ecs.time_scale = 0.05
    config, v1 = _app(sample_app, "2m"), push_variant("v1")
    recorder.clear()
    printed = run_cli("infra", "bootstrap", "--config", config, "--environment", "staging", "--image", v1,
                      "--dry-run", "--json")
    assert printed.returncode == 0, printed.stderr
    plan = json.loads(printed.stdout)["result"]
    assert _mutations(recorder) == []
    assert plan["would"] == [action["action"] for action in plan["actions"]]
    assert _planned(plan) == ["dynamodb.CreateTable", "ecs.CreateCluster", "logs.CreateLogGroup", "iam.CreateRole", "iam.PutRolePolicy",
                              "elbv2.CreateTargetGroup", "elbv2.ModifyTargetGroupAttributes",
                              "elbv2.CreateLoadBalancer", "elbv2.CreateListener", "ecs.RegisterTaskDefinition",
                              "ecs.CreateService"]
    recorder.clear()
    created = bootstrap(config, environment="staging", image=v1)
    assert created["created"] == plan["would"]
    assert _mutations(recorder) == _planned(plan)

    # only the service is missing, and the family's latest revision is the release's: it is reused
    boto("ecs").delete_service(cluster="demo", service="webapp", force=True)
    recorder.clear()
    again = bootstrap(config, environment="staging", image=v1, dry_run=True)
    assert _mutations(recorder) == [] and _planned(again) == ["ecs.CreateService"]
    assert again["would"][0].startswith("create service webapp with arn:aws:ecs:")
    recorder.clear()
    bootstrap(config, environment="staging", image=v1)
    assert _mutations(recorder) == ["ecs.CreateService"]


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
