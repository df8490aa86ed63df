"""`shipline pipeline run`: the same plan the Jenkins step executes, run here on the emulation."""
from __future__ import annotations

import json
import time

from deploying import EXAMPLE_LIMITS
from helpers import git, run_cli
from shipline.deployment.infra import bootstrap


def test_the_pipeline_builds_tests_deploys_staging_and_pauses_before_production(aws, boto, sample_app):
    aws.ecs.time_scale = 0.05
    config = sample_app / "shipline.yaml"
    text = config.read_text().replace(EXAMPLE_LIMITS, "  timeout: 2m\n  bake_time: 3s\n").replace(
        '  production:\n    account_id: "123456789012"\n',
        '  production:\n    account_id: "123456789012"\n    service: webapp-prod\n')
    config.write_text(text)
    git(sample_app, "commit", "-qam", "pipeline settings")
    published = json.loads(run_cli("publish", "--config", str(config), "--json").stdout)["result"]["image"]
    for environment in ("staging", "production"):
        bootstrap(str(config), environment=environment, image=published)

    paused = run_cli("pipeline", "run", "--config", str(config), "--json", timeout=600)
    assert paused.returncode == 6, paused.stderr
    assert "waiting for approval before production" in json.loads(paused.stdout)["error"]["message"]
    assert "[unit] unit: 2 passed" in paused.stderr and "[security] security: 1 passed" in paused.stderr

    (sample_app / "www" / "index.html").write_text("<p>approved release</p>\n")
    git(sample_app, "commit", "-qam", "release")
    start = time.monotonic()
    done = run_cli("pipeline", "run", "--config", str(config), "--approve", "production", "--json", timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)["result"]
    assert [s["name"] for s in result["stages"]] == ["Source", "Build", "Test", "Deploy staging",
                                                     "Approve production", "Deploy production"]
    ecs = boto("ecs")
    running = {name: ecs.describe_services(cluster="demo", services=[name])["services"][0]["taskDefinition"]
               for name in ("webapp", "webapp-prod")}
    images = {name: ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0][
        "image"] for name, arn in running.items()}
    assert images["webapp"] == images["webapp-prod"] == result["image"]  # the same digest moved through both
    assert time.monotonic() - start < 300

    failing = sample_app / "tests" / "unit.sh"
    failing.write_text("#!/bin/sh\necho 'unit: 1 failed' >&2\nexit 1\n")
    git(sample_app, "commit", "-qam", "a failing test")
    stopped = run_cli("pipeline", "run", "--config", str(config), "--approve", "production")
    assert stopped.returncode == 1 and "Test failed: unit (exit 1)" in stopped.stderr
