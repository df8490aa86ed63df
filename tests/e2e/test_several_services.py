"""Several services of one shipline.yaml (`services`), deployed by one `shipline deploy` in parallel: each is
judged and rolled back on its own; with --all-or-nothing one bad service returns every other to the revision it
ran before (its previous release, not the first one), and a guard refusing one service refuses them all before
any change. ECS's circuit breaker is off: only shipline's own judgement refuses a release.

The services run one image; a release breaks one of them through its own task-definition settings (the sample
app's SAMPLE_FAILURE: healthy first, then it exits 42), as a bad config change of one service would.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from deploying import config_of, product_mutations, service_of, steady, with_deploy_settings
from helpers import git, run_cli, wait_for

SERVICES = ("web", "api", "jobs")
# every service's container gets SAMPLE_FAILURE from its task_definition.variables
FAILURE_ENV = '"environment": [{"name": "APP_ENV", "value": "{{ environment }}"}, ' \
              '{"name": "SAMPLE_FAILURE", "value": "{{ vars.failure }}"}],'


def _several(app: Path, bad: str | None = None) -> None:
    """Make the sample app's shipline.yaml describe SERVICES; `bad` crashes 6 s after its tasks start."""
    template = app / "taskdef.json.j2"
    text = template.read_text()
    if "SAMPLE_FAILURE" not in text:
        template.write_text(re.sub(r'"environment": \[.*\],', FAILURE_ENV, text))
    config = app / "shipline.yaml"
    entries = "".join(f"  - name: {name}\n" + (
        "    task_definition:\n      template: taskdef.json.j2\n      variables: {failure: crash-after:6}\n"
        if name == bad else "") for name in SERVICES)
    text = re.sub(r"^(service: webapp|services:\n(  .*\n)+)", "", config.read_text(), flags=re.M)
    text = re.sub(r"^task_definition:\n  template: taskdef.json.j2\n(  variables: .*\n)?",
                  "task_definition:\n  template: taskdef.json.j2\n  variables: {failure: none}\n", text, flags=re.M)
    config.write_text(f"services:\n{entries}" + text)
    git(app, "commit", "-qam", f"several services{f', {bad} broken' if bad else ''}")


@pytest.fixture
def app(aws, sample_app: Path) -> Path:
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 1\nbake_time: 12s\ncircuit_breaker: false")
    _several(sample_app)
    return sample_app


def _bootstrapped(app: Path, boto, image: str) -> dict[str, str]:
    """Every service created on `image` and steady; each one's task definition."""
    from shipline.deployment.infra import bootstrap

    for name in SERVICES:
        bootstrap(config_of(app), environment="staging", service=name, image=image, wait=True)
    wait_for("every service steady", lambda: all(steady(boto, name) for name in SERVICES), timeout=120)
    return _revisions(boto)


def _revisions(boto) -> dict[str, str]:
    return {name: service_of(boto, name)["taskDefinition"] for name in SERVICES}


def _deploy(app: Path, image: str, *extra: str):
    return run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", image, "--json",
                   *extra, timeout=600)


def _services(result) -> dict:
    return json.loads(result.stdout)["error"]["services"]


def test_a_bad_service_rolls_back_alone_and_all_or_nothing_returns_every_service_to_its_previous_release(
        app, boto, push_variant) -> None:
    v1, v2, v3 = push_variant("v1"), push_variant("v2"), push_variant("v3")
    first = _bootstrapped(app, boto, v1)
    _several(app, bad="jobs")

    alone = _deploy(app, v2, "--all")
    assert alone.returncode == 1, alone.stdout + alone.stderr
    ended = _services(alone)
    assert ended["jobs"]["decision"] == "rolled back" and ended["jobs"]["exit_code"] == 1, ended
    assert {ended[name]["decision"] for name in ("web", "api")} == {"succeeded"}, ended
    second = _revisions(boto)
    assert second["jobs"] == first["jobs"] and all(second[n] != first[n] for n in ("web", "api")), second
    for name in SERVICES:  # each service's progress lines are tagged with its name
        assert f"[{name}] " in alone.stderr
    records = sorted(p.name for p in (app / ".shipline" / "records").glob("deploy-staging-*.json"))
    assert [sum(f"-{name}-" in r for r in records) for name in SERVICES] == [1, 1, 1], records

    together = _deploy(app, v3, "--all", "--all-or-nothing")
    assert together.returncode == 1, together.stdout + together.stderr
    ended = _services(together)
    assert ended["jobs"]["decision"] == "rolled back", ended
    assert {ended[name]["decision"] for name in ("web", "api")} == {"returned"}, ended
    assert _revisions(boto) == second   # web and api on v2 (their previous release), jobs on v1
    wait_for("every service steady", lambda: all(steady(boto, name) for name in SERVICES))


def test_all_or_nothing_refuses_every_service_before_any_change_when_a_guard_refuses_one(
        aws, app, boto, recorder, push_variant) -> None:
    v1, v2 = push_variant("v1"), push_variant("v2")
    first = _bootstrapped(app, boto, v1)
    frozen = run_cli("freeze", "--config", config_of(app), "--environment", "staging", "--service", "api",
                     "--reason", "incident 4711")
    assert frozen.returncode == 0, frozen.stderr

    recorder.clear()
    refused = _deploy(app, v2, "--all", "--all-or-nothing")
    assert refused.returncode == 7, refused.stdout + refused.stderr
    error = json.loads(refused.stdout)["error"]
    assert "nothing changed" in error["message"] and list(error["refused"]) == ["api"], error
    assert "incident 4711" in error["refused"]["api"]
    assert product_mutations(recorder) == []
    assert _revisions(boto) == first

    planned = _deploy(app, v2, "--service", "web", "--service", "jobs", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    plans = json.loads(planned.stdout)["result"]["services"]
    assert set(plans) == {"web", "jobs"} and all(p["dry_run"] and p["actions"] for p in plans.values())

    unknown = _deploy(app, v2, "--service", "web", "--service", "nope")
    assert unknown.returncode == 2 and "unknown service 'nope'" in unknown.stderr, unknown.stderr
    one = run_cli("status", "--config", config_of(app), "--environment", "staging", "--json")
    assert one.returncode == 2 and "--service" in one.stderr, one.stderr   # several: name the one
