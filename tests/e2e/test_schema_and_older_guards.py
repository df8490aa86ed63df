"""Schema compatibility and no older release, through `shipline deploy` and `shipline rollback`: a release
that cannot run beside the revision in service is refused (exit 7) with nothing changed; a rollback across a
migration needs --force with a reason; a commit older than the one in service is refused unless
--allow-older."""
from __future__ import annotations

import json
import shutil

from deploying import bootstrapped, config_of, healthy_on, service_of, with_deploy_settings
from helpers import git, run_cli


def _levels(app, schema_level: int, runs_beside: int) -> None:
    """Commit shipline.yaml declaring this release's schema levels."""
    config = app / "shipline.yaml"
    text = "\n".join(line for line in config.read_text().splitlines() if not line.startswith("release:"))
    config.write_text(f"{text}\nrelease: {{schema_level: {schema_level}, runs_beside: {runs_beside}}}\n")
    git(app, "commit", "-qam", f"schema level {schema_level}")


def _run(app, command: str, *args: str):
    return run_cli(command, "--config", config_of(app), "--environment", "staging", "--json", *args, timeout=300)


def _image(boto, task_definition: str) -> str:
    return boto("ecs").describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
        "containerDefinitions"][0]["image"]


def _state(aws) -> dict:
    return {service: state for service, state in aws.moto.snapshot().items() if service != "logs"}


def test_schema_levels_and_commits_guard_deploys_and_rollbacks(aws, boto, recorder, sample_app, push_variant,
                                                               tmp_path) -> None:
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s\ncircuit_breaker: false")
    _levels(sample_app, 1, 0)
    v1, v2, v3 = push_variant("v1"), push_variant("v2"), push_variant("v3")
    bootstrapped(sample_app, boto, v1)
    old_commit = git(sample_app, "rev-parse", "HEAD")

    # an old build finishing late: its commit is an ancestor of the one in service
    git(sample_app, "commit", "-q", "--allow-empty", "-m", "a newer commit")
    assert _run(sample_app, "deploy", "--image", v2).returncode == 0
    late = tmp_path / "late-build"
    shutil.copytree(sample_app, late)
    git(late, "checkout", "-q", old_commit)
    recorder.clear()
    older = _run(late, "deploy", "--image", v1)
    assert older.returncode == 7, older.stdout + older.stderr
    assert "older than the commit in service" in json.loads(older.stdout)["error"]["message"]
    assert [str(c) for c in recorder.calls(product_only=True, mutating_only=True)] == []
    allowed = _run(late, "deploy", "--image", v1, "--allow-older")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    running = service_of(boto)["taskDefinition"]
    assert _image(boto, running) == v1
    healthy_on(boto, running)

    # a release that cannot run beside the one in service (it needs level 3; level 1 runs): refused, no change
    _levels(sample_app, 3, 3)
    recorder.clear()
    before = _state(aws)
    refused = _run(sample_app, "deploy", "--image", v2)
    assert refused.returncode == 7, refused.stdout + refused.stderr
    assert "schema level" in json.loads(refused.stdout)["error"]["message"]
    assert [str(c) for c in recorder.calls(product_only=True, mutating_only=True)] == [] and _state(aws) == before

    # adjacent releases that run side by side: 1 -> 2 -> 3
    _levels(sample_app, 2, 1)
    assert _run(sample_app, "deploy", "--image", v2).returncode == 0
    _levels(sample_app, 3, 2)
    third = _run(sample_app, "deploy", "--image", v3)
    assert third.returncode == 0, third.stdout + third.stderr
    current = service_of(boto)["taskDefinition"]

    # back to level 1 from level 3 crosses a migration: refused, then forced with a reason
    back = _run(sample_app, "rollback", "--to", running.rsplit(":", 1)[-1])
    assert back.returncode == 7, back.stdout + back.stderr
    assert "rollback refused" in json.loads(back.stdout)["error"]["message"]
    assert service_of(boto)["taskDefinition"] == current
    forced = _run(sample_app, "rollback", "--to", running.rsplit(":", 1)[-1], "--force", "data migrated back by hand")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    healthy_on(boto, running)
