"""Cloning the live revision (task_definition.from_service): what already runs in the account is never
refused on an opinion (a sidecar without logConfiguration is a warning naming the rule, exit 0), while what
ECS itself refuses still is (exit 2); a template is still refused on an opinion unless the rule is silenced."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT, run_cli
from shipline.deployment.release import diff, render
from shipline.errors import EnvironmentProblem

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/colorteller@sha256:" + "c" * 64
ENVOY = json.loads((ROOT / "tests" / "data" / "taskdefs" / "02-fargate-appmesh-envoy.json").read_text())

CONFIG = """\
version: 1
service: colorteller
cluster: mesh
region: us-east-1
image:
  repository: colorteller
task_definition:
  {source}
  container: app
  silence_rules: {silenced}
load_balancer:
  container: app
  port: {port}
environments:
  live:
    account_id: "123456789012"
"""


def envoy_without_logs() -> dict[str, Any]:
    """App Mesh's task definition, its Envoy sidecar without logConfiguration (as real ones run)."""
    document = copy.deepcopy(ENVOY["taskDefinition"])
    next(c for c in document["containerDefinitions"] if c["name"] == "envoy").pop("logConfiguration")
    return document


def live_service(boto: Any, document: dict[str, Any]) -> str:
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="mesh")
    arn = ecs.register_task_definition(**document)["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="mesh", serviceName="colorteller", taskDefinition=arn, desiredCount=0)
    return arn


def app(tmp_path: Path, *, port: int = 9080, template: dict[str, Any] | None = None,
        silenced: list[str] | None = None) -> str:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    source = "from_service: true"
    if template is not None:
        (tmp_path / "taskdef.json.j2").write_text(json.dumps(template))
        source = "template: taskdef.json.j2"
    config = tmp_path / "shipline.yaml"
    config.write_text(CONFIG.format(source=source, port=port, silenced=json.dumps(silenced or [])))
    return str(config)


def test_a_cloned_sidecar_without_log_configuration_is_a_warning_and_registers(aws, boto, tmp_path: Path) -> None:
    live = live_service(boto, envoy_without_logs())
    config = app(tmp_path)
    rendered = run_cli("render", "--config", config, "--environment", "live", "--image", IMAGE, "--json")
    assert rendered.returncode == 0, rendered.stderr
    assert "warning: " in rendered.stderr and "containerDefinitions[1].logConfiguration: " \
        "log-configuration-missing" in rendered.stderr
    result = json.loads(rendered.stdout)["result"]
    assert [(w["rule"], w["severity"]) for w in result["warnings"]] == [("log-configuration-missing", "warning")]
    assert result["source"] == live

    registered = run_cli("register", "--config", config, "--environment", "live", "--file", result["file"])
    assert registered.returncode == 0, registered.stderr
    assert "log-configuration-missing" in registered.stderr
    assert len(boto("ecs").list_task_definitions(familyPrefix="colorteller-black")["taskDefinitionArns"]) == 2


def test_a_clone_that_ecs_would_refuse_is_still_exit_2_naming_the_rule(aws, boto, recorder, tmp_path: Path) -> None:
    live_service(boto, envoy_without_logs())
    config = app(tmp_path, port=8080)  # the load balancer's port: the live revision maps no 8080
    result = run_cli("register", "--config", config, "--environment", "live", "--image", IMAGE)
    assert result.returncode == 2, result.stderr
    assert "containerDefinitions[0].portMappings: load-balancer-target: " in result.stderr
    assert "Traceback" not in result.stderr
    assert len(boto("ecs").list_task_definitions(familyPrefix="colorteller-black")["taskDefinitionArns"]) == 1


def test_a_template_is_refused_on_an_opinion_unless_the_rule_is_silenced(aws, boto, tmp_path: Path) -> None:
    template = envoy_without_logs()
    template["containerDefinitions"][0]["image"] = "{{ image }}"
    refused = run_cli("render", "--config", app(tmp_path, template=template), "--environment", "live",
                      "--image", IMAGE)
    assert refused.returncode == 2
    assert "log-configuration-missing" in refused.stderr and "task_definition.silence_rules" in refused.stderr
    silenced = run_cli("render", "--config", app(tmp_path, template=template,
                                                 silenced=["log-configuration-missing"]),
                       "--environment", "live", "--image", IMAGE)
    assert silenced.returncode == 0, silenced.stderr
    assert "log-configuration-missing" not in silenced.stderr


def test_the_clone_source_is_the_live_services_revision_and_a_missing_service_is_exit_3(aws, boto, recorder,
                                                                                      tmp_path: Path) -> None:
    config = app(tmp_path)
    boto("ecs").create_cluster(clusterName="mesh")
    with pytest.raises(EnvironmentProblem) as missing:
        render(config, environment="live", image=IMAGE)
    assert missing.value.message == ("service colorteller not found in cluster mesh: there is no live revision to "
                                     "clone; use task_definition.template or create the service")
    live = live_service(boto, envoy_without_logs())
    recorder.clear()
    assert render(config, environment="live", image=IMAGE)["source"] == live
    assert diff(config, environment="live", image=IMAGE)["against"] == live
    described = [c.operation for c in recorder.calls(product_only=True) if c.operation == "DescribeServices"]
    assert described == ["DescribeServices", "DescribeServices"], "one look-up of the live service per command"


def test_a_template_looks_no_service_up_to_render(aws, boto, recorder, tmp_path: Path) -> None:
    template = envoy_without_logs()
    template["containerDefinitions"][0]["image"] = "{{ image }}"
    config = app(tmp_path, template=template, silenced=["log-configuration-missing"])
    render(config, environment="live", image=IMAGE)
    assert [c.operation for c in recorder.calls(product_only=True)] == []
