"""The task-definition rules: each named, with a severity; errors (what ECS refuses) always refuse, warnings
(opinions) refuse a new document but only warn for a clone of the live revision; silence_rules entries must
name a rule."""
from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT, run_cli
from shipline.errors import BadInput
from shipline.image.dockerfile_rules import RULES as DOCKERFILE_RULES
from shipline.taskdef.validate import RULES, SILENCEABLE, findings, require_valid, validate

ENVOY = json.loads((ROOT / "tests" / "data" / "taskdefs" / "02-fargate-appmesh-envoy.json").read_text())


def envoy_without_logs() -> dict[str, Any]:
    """App Mesh's task definition with its Envoy sidecar logging nowhere, as real ones do."""
    document = copy.deepcopy(ENVOY["taskDefinition"])
    envoy = next(c for c in document["containerDefinitions"] if c["name"] == "envoy")
    envoy.pop("logConfiguration")
    return document


def test_every_rule_is_an_error_or_a_warning_and_opinions_are_warnings() -> None:
    assert set(RULES.values()) == {"error", "warning"}
    assert {r for r, s in RULES.items() if s == "warning"} == {
        "image-unpinned", "log-configuration-missing", "secret-in-environment"}
    assert "request-shape" in RULES and "request-shape" not in SILENCEABLE


def test_a_sidecar_without_log_configuration_is_a_warning_naming_the_rule() -> None:
    found = findings(envoy_without_logs(), "live")
    assert [(f.rule, f.severity, f.path) for f in found] == [
        ("log-configuration-missing", "warning", "containerDefinitions[1].logConfiguration")]


def test_a_warning_refuses_a_new_document_and_only_warns_for_a_clone(caplog: pytest.LogCaptureFixture) -> None:
    document = envoy_without_logs()
    assert [p.message.split(":")[0] for p in validate(document, "new")] == ["log-configuration-missing"]
    with pytest.raises(BadInput) as caught:
        require_valid(document, "template.json")
    assert "task_definition.silence_rules" in caught.value.message
    assert [f.rule for f in require_valid(document, "arn:live", cloned=True)] == ["log-configuration-missing"]
    assert "containerDefinitions[1].logConfiguration: log-configuration-missing" in caplog.text


def test_an_error_refuses_a_clone_too() -> None:
    document = envoy_without_logs()
    document["containerDefinitions"][0]["essential"] = False
    for container in document["containerDefinitions"]:
        container["essential"] = False
    with pytest.raises(BadInput) as caught:
        require_valid(document, "arn:live", cloned=True)
    assert [(p.path, p.message.split(":")[0]) for p in caught.value.problems] == [
        ("containerDefinitions", "essential-container")]
    assert "silence_rules" not in caught.value.message


def test_silenced_rules_are_not_reported() -> None:
    assert validate(envoy_without_logs(), "new", silenced=["log-configuration-missing"]) == []


def test_a_shape_error_is_the_request_shape_rule() -> None:
    document = envoy_without_logs()
    document["networkMode"] = "overlay"
    assert [(p.path, p.message.split(":")[0]) for p in validate(document, "new", cloned=True)] == [
        ("networkMode", "request-shape")]


CONFIG = """\
version: 1
service: web
cluster: main
region: eu-west-1
image:
  repository: team/web
  silence_rules: {image}
task_definition:
  template: taskdef.json.j2
  silence_rules: {task}
environments:
  staging:
    account_id: "123456789012"
"""


def check(tmp_path: Path, image: list[str], task: list[str]) -> Any:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "taskdef.json.j2").write_text("{}\n")
    (tmp_path / "shipline.yaml").write_text(CONFIG.format(image=json.dumps(image), task=json.dumps(task)))
    return run_cli("config", "check", "--config", str(tmp_path / "shipline.yaml"))


@pytest.mark.parametrize("field,known", [("image", list(DOCKERFILE_RULES)), ("task_definition", list(SILENCEABLE))])
def test_a_silence_rules_entry_naming_no_rule_is_exit_2_with_the_known_names(tmp_path: Path, field: str,
                                                                            known: list[str]) -> None:
    lists = {"image": ["add-url"], "task_definition": ["image-unpinned"]}
    lists[field] = [lists[field][0], "log-config-missing"]
    result = check(tmp_path, lists["image"], lists["task_definition"])
    assert result.returncode == 2, result.stderr
    assert f"{field}.silence_rules[1]" in result.stderr and "'log-config-missing'" in result.stderr
    assert all(name in result.stderr for name in known)
    assert "Traceback" not in result.stderr


def test_request_shape_cannot_be_silenced_and_known_names_are_accepted(tmp_path: Path) -> None:
    result = check(tmp_path, [], ["request-shape"])
    assert result.returncode == 2 and "task_definition.silence_rules[0]" in result.stderr
    assert check(tmp_path, list(DOCKERFILE_RULES), list(SILENCEABLE)).returncode == 0


def test_the_readme_lists_every_rule_with_its_severity() -> None:
    readme = (ROOT / "README.md").read_text()
    for rule, severity in RULES.items():
        assert re.search(rf"^\| `{rule}` \| {severity} \|", readme, re.M), rule


def _app(document: dict[str, Any]) -> dict[str, Any]:
    return document["containerDefinitions"][0]


# each rule, and a change to App Mesh's (valid) task definition that breaks it
BREAKS = {
    "request-shape": lambda d: d.update(networkMode="overlay"),
    "fargate-network-mode": lambda d: d.update(networkMode="bridge"),
    "fargate-task-size": lambda d: d.update(memory="1536"),
    "fargate-execution-role": lambda d: d.pop("executionRoleArn"),
    "container-memory": lambda d: _app(d).update(memory=4096),
    "container-cpu": lambda d: _app(d).update(cpu=4096),
    "container-name-unique": lambda d: d["containerDefinitions"][2].update(name="envoy"),
    "essential-container": lambda d: [c.update(essential=False) for c in d["containerDefinitions"]],
    "depends-on-unknown-container": lambda d: _app(d).update(dependsOn=[{"containerName": "db",
                                                                         "condition": "START"}]),
    "mount-undeclared-volume": lambda d: _app(d).update(mountPoints=[{"sourceVolume": "data",
                                                                      "containerPath": "/data"}]),
    "awsvpc-host-port": lambda d: _app(d).update(portMappings=[{"containerPort": 9080, "hostPort": 80}]),
    "secret-reference": lambda d: _app(d).update(secrets=[{"name": "DB", "valueFrom": "not a ref!"}]),
    "load-balancer-target": lambda d: _app(d).update(portMappings=[{"containerPort": 8080}]),
    "image-unpinned": lambda d: _app(d).update(image="colorteller:latest"),
    "log-configuration-missing": lambda d: _app(d).pop("logConfiguration"),
    "secret-in-environment": lambda d: _app(d).update(environment=[{"name": "DB_PASSWORD", "value": "x"}]),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_fires_with_its_severity(rule: str) -> None:
    document = copy.deepcopy(ENVOY["taskDefinition"])
    assert findings(document, "new", load_balancer=("app", 9080)) == []
    BREAKS[rule](document)
    found = findings(document, "new", load_balancer=("app", 9080))
    assert {f.rule for f in found} == {rule}, found
    assert {f.severity for f in found} == {RULES[rule]}


@pytest.mark.parametrize("memory", ["1" + "0" * 400, "1" + "0" * 400 + " GB"])
def test_a_task_size_with_more_digits_than_a_float_holds_is_a_finding_not_a_crash(memory: str) -> None:
    document = copy.deepcopy(ENVOY["taskDefinition"])
    document["memory"] = memory
    found = findings(document, "new", load_balancer=("app", 9080))
    assert [(f.rule, f.path) for f in found] == [("fargate-task-size", "memory")]
