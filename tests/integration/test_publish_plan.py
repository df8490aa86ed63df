"""Publish and promote plan first, with read calls only, then make exactly the planned mutating AWS calls, in
order. Registry requests (the push, the blob copy) are no AWS API call: their actions list no calls."""
from __future__ import annotations

import json

import pytest

from deploying import config_of
from helpers import git, run_cli
from shipline.image.promote import promote
from shipline.image.publish import publish

CREATE = ["ecr.CreateRepository", "ecr.PutLifecyclePolicy"]
FIX = ["ecr.PutImageTagMutability", "ecr.PutImageScanningConfiguration", "ecr.PutLifecyclePolicy"]


pytestmark = pytest.mark.usefixtures("fresh_login_cache")


def _mutations(recorder) -> list[str]:
    return [str(call) for call in recorder.calls(product_only=True) if call.mutating]


def _planned(plan: dict) -> list[str]:
    return [call for action in plan["actions"] for call in action["calls"]]


def _dry_run(recorder, *args: str) -> dict:
    """The CLI's --dry-run --json result; the recorder saw no mutating call."""
    recorder.clear()
    printed = run_cli(*args, "--dry-run", "--json")
    assert printed.returncode == 0, printed.stderr
    assert _mutations(recorder) == []
    recorder.clear()
    return json.loads(printed.stdout)["result"]


def test_publish_makes_exactly_the_planned_calls_creating_fixing_and_retagging(aws, boto, recorder,
                                                                               sample_app) -> None:
    config = config_of(sample_app)
    plan = _dry_run(recorder, "publish", "--config", config)
    assert plan["would"] == [action["action"] for action in plan["actions"]]
    assert [a["action"].split()[0] for a in plan["actions"]] == ["create", "build", "push", "tag"]
    assert _planned(plan) == CREATE + ["ecr.PutImage"]  # the short SHA, through the ECR API
    first = publish(config)
    assert _mutations(recorder) == _planned(plan)

    # a semver tag at HEAD: the image is there, only the version tag is missing
    git(sample_app, "tag", "v2.0.1")
    plan = _dry_run(recorder, "publish", "--config", config)
    assert plan["skipped"] == "exists" and _planned(plan) == ["ecr.PutImage"]
    assert publish(config)["added_tags"] == ["2.0.1"]
    assert _mutations(recorder) == _planned(plan)
    assert _dry_run(recorder, "publish", "--config", config)["actions"] == []  # every tag is there
    publish(config)
    assert _mutations(recorder) == []

    # a repository that drifted: a warning, left as is; fixed with --fix-repo
    boto("ecr").put_image_tag_mutability(repositoryName=first["repository"], imageTagMutability="MUTABLE")
    (sample_app / "www" / "index.html").write_text("<p>changed</p>\n")
    git(sample_app, "commit", "-qam", "change the page")
    assert _planned(_dry_run(recorder, "publish", "--config", config)) == ["ecr.PutImage"]
    plan = _dry_run(recorder, "publish", "--config", config, "--fix-repo")
    assert plan["actions"][0]["action"] == "fix repository demo/webapp: tag mutability is not IMMUTABLE"
    assert _planned(plan) == FIX + ["ecr.PutImage"]
    publish(config, fix_repo=True)
    assert _mutations(recorder) == _planned(plan)


def test_promote_makes_exactly_the_planned_calls(aws, recorder, sample_app) -> None:
    config = config_of(sample_app)
    digest = publish(config)["digest"]
    args = ("promote", "--config", config, "--digest", digest, "--to-repository", "demo/webapp-prod")
    plan = _dry_run(recorder, *args)
    assert plan["to_repository"] == "demo/webapp-prod" and len(plan["tags"]) == 2
    assert [a["action"].split()[0] for a in plan["actions"]] == ["create", "copy"]
    assert _planned(plan) == CREATE  # the copy is registry requests only
    promoted = promote(config, digest=digest, to_repository="demo/webapp-prod")
    assert promoted["copied_blobs"] >= 2 and _mutations(recorder) == _planned(plan)

    again = _dry_run(recorder, *args)
    assert [a["action"].split()[0] for a in again["actions"]] == ["copy"] and _planned(again) == []
    assert promote(config, digest=digest, to_repository="demo/webapp-prod")["copied_blobs"] == 0
    assert _mutations(recorder) == []
