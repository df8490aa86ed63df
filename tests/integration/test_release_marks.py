"""A release's task definition records its schema levels and commit as tags, on the emulated AWS: read back
from the registered revision with one call; another level or commit never reuses an older revision; a clone
of the live revision carries this release's marks, not the clone's; and the guards judge two registered
revisions by what they record."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helpers import git
from shipline import aws as clients
from shipline.config import SchemaLevels
from shipline.deployment.guards import older_refusal, older_unknown, schema_refusal
from shipline.deployment.release import register, render
from shipline.taskdef.marks import COMMIT_TAG, RUNS_BESIDE_TAG, SCHEMA_LEVEL_TAG, Marks, read, recorded

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/web@sha256:" + "a" * 64
CONFIG = """\
version: 1
service: web
cluster: demo
region: us-east-1
image:
  repository: demo/web
task_definition:
  {source}
  container: web
{release}
environments:
  staging:
    account_id: "123456789012"
"""
TEMPLATE: dict[str, Any] = {
    "family": "web", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
    "memory": "512", "executionRoleArn": "arn:aws:iam::{{ account_id }}:role/web-execution",
    "containerDefinitions": [{
        "name": "web", "image": "{{ image }}", "essential": True,
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "/ecs/web", "awslogs-region": "{{ region }}", "awslogs-stream-prefix": "web"}}}],
}


def levels(schema_level: int, runs_beside: int) -> SchemaLevels:
    return SchemaLevels(schema_level=schema_level, runs_beside=runs_beside)


def configure(app: Path, release: str, source: str = "template: taskdef.json.j2") -> str:
    """Write the app's shipline.yaml with `release` (a YAML line, or "") and commit it; the config's path."""
    config = app / "shipline.yaml"
    config.write_text(CONFIG.format(source=source, release=release))
    git(app, "add", "-A")
    git(app, "commit", "-q", "--allow-empty", "-m", f"release: {release or 'none'}")
    return str(config)


@pytest.fixture
def app(tmp_path: Path) -> Path:
    """An application repository: a Dockerfile and a task-definition template, in git."""
    app = tmp_path / "web"
    app.mkdir()
    (app / "Dockerfile").write_text("FROM scratch\n")
    (app / "taskdef.json.j2").write_text(json.dumps(TEMPLATE))
    git(app, "init", "-q", "-b", "main")
    return app


def test_the_registered_revision_records_the_levels_and_commit_read_back_in_one_call(aws, recorder, app) -> None:
    config = configure(app, "release: {schema_level: 7, runs_beside: 6}")
    head = git(app, "rev-parse", "HEAD")
    arn = register(config, environment="staging", image=IMAGE)["taskDefinitionArn"]
    recorder.clear()
    marks = recorded(clients.client("ecs", region="us-east-1"), arn)
    assert marks == Marks(levels(7, 6), head)
    assert [f"{c.service}.{c.operation}" for c in recorder.calls(product_only=True)] == ["ecs.DescribeTaskDefinition"]


def test_another_level_or_commit_never_reuses_an_older_revision(aws, boto, app) -> None:
    config = configure(app, "release: {schema_level: 6, runs_beside: 5}")
    first = register(config, environment="staging", image=IMAGE)
    again = register(config, environment="staging", image=IMAGE)
    assert again["reused"] is True and again["taskDefinitionArn"] == first["taskDefinitionArn"]
    (app / "shipline.yaml").write_text((app / "shipline.yaml").read_text().replace("schema_level: 6", "schema_level: 7"))
    level = register(config, environment="staging", image=IMAGE)             # the same commit, another level
    assert level["reused"] is False and level["taskDefinitionArn"].endswith(":2")
    configure(app, "release: {schema_level: 7, runs_beside: 5}")               # another commit, the same levels
    commit = register(config, environment="staging", image=IMAGE)
    assert commit["reused"] is False and commit["taskDefinitionArn"].endswith(":3")
    configure(app, "")                                                           # no levels any more
    plain = register(config, environment="staging", image=IMAGE)
    assert plain["reused"] is False
    assert recorded(boto("ecs"), plain["taskDefinitionArn"]).levels is None
    assert [recorded(boto("ecs"), r["taskDefinitionArn"]).levels for r in (first, level, commit)] == [
        levels(6, 5), levels(7, 5), levels(7, 5)]


def test_a_clone_of_the_live_revision_carries_this_releases_marks(aws, boto, app) -> None:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="demo")
    live = copy.deepcopy(TEMPLATE)
    live["containerDefinitions"][0]["image"] = IMAGE.replace("a" * 64, "b" * 64)
    live["executionRoleArn"] = "arn:aws:iam::123456789012:role/web-execution"
    old = [{"key": "team", "value": "payments"}, {"key": SCHEMA_LEVEL_TAG, "value": "6"},
           {"key": RUNS_BESIDE_TAG, "value": "5"}, {"key": COMMIT_TAG, "value": "c" * 40}]
    arn = ecs.register_task_definition(**live, tags=old)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="demo", serviceName="web", taskDefinition=arn, desiredCount=0)

    config = configure(app, "release: {schema_level: 7, runs_beside: 6}", source="from_service: true")
    document = render(config, environment="staging", image=IMAGE)["document"]
    assert read(document["tags"]) == Marks(levels(7, 6), git(app, "rev-parse", "HEAD"))
    assert {"key": "team", "value": "payments"} in document["tags"]
    registered = register(config, environment="staging", image=IMAGE)
    assert registered["reused"] is False and recorded(ecs, registered["taskDefinitionArn"]).levels == levels(7, 6)

    configure(app, "", source="from_service: true")                            # this release declares no levels
    document = render(config, environment="staging", image=IMAGE)["document"]
    assert read(document["tags"]).levels is None and {"key": "team", "value": "payments"} in document["tags"]


def test_the_guards_judge_two_registered_revisions_by_what_they_record(aws, boto, app) -> None:
    ecs = boto("ecs")
    config = configure(app, "release: {schema_level: 6, runs_beside: 5}")
    old_commit = git(app, "rev-parse", "HEAD")
    old = register(config, environment="staging", image=IMAGE)["taskDefinitionArn"]
    configure(app, "release: {schema_level: 8, runs_beside: 8}")        # a migration that cannot run beside 6
    new_commit = git(app, "rev-parse", "HEAD")
    new = register(config, environment="staging", image=IMAGE)["taskDefinitionArn"]
    running, target = recorded(ecs, old), recorded(ecs, new)

    refusal = schema_refusal(running.levels, target.levels, rollback=False)
    assert refusal is not None and "the release (schema level 8, runs beside 8 and up) cannot run beside the " \
        "revision in service (schema level 6, runs beside 5 and up)" in refusal
    back = schema_refusal(target.levels, running.levels, rollback=True)      # 8 in service, back to 6
    assert back is not None and "--force" in back and "the revision in service (schema level 8" in back
    assert schema_refusal(target.levels, running.levels, rollback=True, force_reason="incident 9") is None

    # the older release, deployed again while the newer one is in service: an old build finishing late
    refused = older_refusal(app, running.commit, target.commit, allow_older=False)
    assert refused is not None and old_commit[:12] in refused and new_commit[:12] in refused
    assert older_refusal(app, target.commit, running.commit, allow_older=False) is None
    assert older_unknown(app, running.commit, target.commit) is None
