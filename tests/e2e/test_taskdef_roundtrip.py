"""Clone the live revision and swap the image, on the emulated ECS, for every corpus example:
describe -> clone -> register -> describe keeps every field but the image."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from helpers import ROOT
from shipline.deployment.release import register
from shipline.taskdef.shape import register_input

CORPUS = sorted((ROOT / "tests" / "data" / "taskdefs").glob("*.json"))
NEW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:" + "c" * 64

CONFIG = """\
version: 1
service: corpus
cluster: corpus
region: us-east-1
image:
  repository: team/app
task_definition:
  from_service: true
  container: {container}
environments:
  live: {{}}
"""


@pytest.mark.parametrize("path", CORPUS, ids=lambda p: p.stem)
def test_clone_and_swap_image_preserves_every_field(aws, boto, tmp_path: Path, path: Path) -> None:
    original = json.loads(path.read_text())["taskDefinition"]
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="corpus")
    arn = ecs.register_task_definition(**original)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="corpus", serviceName="corpus", taskDefinition=arn, desiredCount=0)
    before = ecs.describe_task_definition(taskDefinition=arn, include=["TAGS"])
    container = original["containerDefinitions"][0]["name"]
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    config = tmp_path / "shipline.yaml"
    config.write_text(CONFIG.format(container=container))

    result = register(str(config), environment="live", image=NEW_IMAGE)
    assert result["reused"] is False and result["taskDefinitionArn"] != arn
    after = ecs.describe_task_definition(taskDefinition=result["taskDefinitionArn"], include=["TAGS"])

    expected = copy.deepcopy(register_input(before["taskDefinition"], before.get("tags")))
    expected["containerDefinitions"][0]["image"] = NEW_IMAGE
    assert register_input(after["taskDefinition"], after.get("tags")) == expected
    assert _contains(register_input(before["taskDefinition"], before.get("tags")), original)  # nothing dropped


def _contains(described: object, given: object) -> bool:
    """Every field given is described as given (ECS may add defaults, never drop or change a field)."""
    if isinstance(given, dict):
        return isinstance(described, dict) and all(k in described and _contains(described[k], v)
                                                   for k, v in given.items())
    if isinstance(given, list):
        return isinstance(described, list) and len(described) == len(given) and \
            all(_contains(d, g) for d, g in zip(described, given))
    return described == given
