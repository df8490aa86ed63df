"""render / diff / register: bad templates and documents are exit 2 with their JSON path and change
nothing; register is idempotent; diff shows field-level changes; lookups read SSM and Secrets Manager."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

import pytest

from helpers import run_cli
from shipline.deployment.release import diff, register, render
from shipline.errors import BadInput

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/web@sha256:" + "a" * 64
OTHER = "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo/web@sha256:" + "b" * 64

CONFIG = """\
version: 1
service: web
cluster: demo
region: us-east-1
image:
  repository: demo/web
task_definition:
  template: {template}
  variables: {{log_group: /ecs/web}}
  allow_plain_env: [PUBLIC_KEY_URL]
load_balancer:
  container: web
  port: 8080
environments:
  staging:
    account_id: "123456789012"
"""

TEMPLATE: dict[str, Any] = {
    "family": "web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "executionRoleArn": "arn:aws:iam::{{ account_id }}:role/web-execution",
    "containerDefinitions": [{
        "name": "web", "image": "{{ image }}", "essential": True, "memory": 512,
        "portMappings": [{"containerPort": 8080, "protocol": "tcp"}],
        "environment": [{"name": "APP_ENV", "value": "{{ environment }}"},
                        {"name": "PUBLIC_KEY_URL", "value": "https://keys.example.com/jwks.json"}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": "{{ vars.log_group }}", "awslogs-region": "{{ region }}",
            "awslogs-stream-prefix": "web"}}}],
}


def make_app(tmp_path: Path, template: str | None = None, name: str = "taskdef.json.j2") -> str:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / name).write_text(template if template is not None else json.dumps(TEMPLATE, indent=2))
    config = tmp_path / "shipline.yaml"
    config.write_text(CONFIG.format(template=name))
    return str(config)


def edited(change: Callable[[dict[str, Any]], None]) -> str:
    document = json.loads(json.dumps(TEMPLATE))
    change(document)
    return json.dumps(document, indent=2)


def container(change: Callable[[dict[str, Any]], None]) -> str:
    return edited(lambda d: change(d["containerDefinitions"][0]))


UNDEFINED = json.dumps(TEMPLATE, indent=2).replace("{{ vars.log_group }}", "{{ vars.log_groop }}")
UNDEFINED_LINE = next(n for n, line in enumerate(UNDEFINED.splitlines(), 1) if "log_groop" in line)

# kind -> (template text, the JSON path (or template line) of the problem, words of the message)
BAD: dict[str, tuple[str, str, str]] = {
    "undefined variable": (UNDEFINED, f"line {UNDEFINED_LINE}", "'dict object' has no attribute 'log_groop'"),
    "template syntax error": (json.dumps(TEMPLATE).replace("{{ region }}", "{{ region "), "line 1",
                              "expected token"),
    "not JSON after rendering": ('{"family": "web",\n "cpu": }', "line 2", "Expecting value"),
    "not an object": ('["web"]', "", "must be an object"),
    "unknown field": (edited(lambda d: d.update(familly="web")), "familly", "unknown field"),
    "wrong type": (container(lambda c: c.update(memory="512")), "containerDefinitions[0].memory", "wrong type"),
    "missing required field": (edited(lambda d: d.pop("family")), "family", "required field is missing"),
    "invalid enum": (edited(lambda d: d.update(networkMode="overlay")), "networkMode", "is not one of"),
    "fargate without awsvpc": (edited(lambda d: d.update(networkMode="bridge")), "networkMode", "awsvpc"),
    "fargate cpu memory pair": (edited(lambda d: d.update(memory="8192")), "memory", "does not go with 256"),
    "fargate without task cpu": (edited(lambda d: d.pop("cpu")), "cpu", "task-level cpu and memory"),
    "container memory above task": (edited(lambda d: (d.update(memory="1024"),
                                                      d["containerDefinitions"][0].update(memory=2048))),
                                    "containerDefinitions[0].memory", "more than the task's 1024"),
    "no essential container": (container(lambda c: c.update(essential=False)), "containerDefinitions",
                               "no container is essential"),
    "dependsOn unknown container": (container(lambda c: c.update(dependsOn=[{"containerName": "db",
                                                                               "condition": "START"}])),
                                    "containerDefinitions[0].dependsOn[0].containerName", "'db' is not another"),
    "load balancer port not mapped": (container(lambda c: c.update(portMappings=[{"containerPort": 9090}])),
                                      "containerDefinitions[0].portMappings", "no containerPort 8080"),
    "load balancer container missing": (container(lambda c: c.update(name="app")), "containerDefinitions",
                                        "no container named 'web'"),
    "template ignores the release's image": (container(lambda c: c.update(image="demo/web:1.0.0")),
                                             "containerDefinitions[0].image", "does not run the release's image"),
    "image not pinned": (edited(lambda d: d["containerDefinitions"].append(
        {"name": "envoy", "image": "envoyproxy/envoy:latest", "essential": False, "memory": 64,
         "logConfiguration": {"logDriver": "awslogs", "options": {}}})), "containerDefinitions[1].image",
        "is not pinned"),
    "no log configuration": (container(lambda c: c.pop("logConfiguration")),
                             "containerDefinitions[0].logConfiguration", "no log configuration"),
    "secret in environment (name)": (container(lambda c: c["environment"].append(
        {"name": "DB_PASSWORD", "value": "hunter2"})), "containerDefinitions[0].environment[2]", "looks like a secret"),
    "secret in environment (value)": (container(lambda c: c["environment"].append(
        {"name": "UPSTREAM", "value": "xK9fQ2mZ7vB4nR8tW1yH6jL3pD5sG0cA"})), "containerDefinitions[0].environment[2]",
        "looks like a secret"),
    "bad secret reference": (container(lambda c: c.update(secrets=[{"name": "DB", "valueFrom": "not a ref!"}])),
                             "containerDefinitions[0].secrets[0].valueFrom", "not a Secrets Manager or SSM"),
    "mount of undeclared volume": (container(lambda c: c.update(mountPoints=[{"sourceVolume": "data",
                                                                              "containerPath": "/data"}])),
                                   "containerDefinitions[0].mountPoints[0].sourceVolume", "not declared"),
    "duplicate container names": (edited(lambda d: d["containerDefinitions"].append(
        dict(d["containerDefinitions"][0], essential=False))), "containerDefinitions[1].name", "more than once"),
    "awsvpc host port differs": (container(lambda c: c.update(portMappings=[{"containerPort": 8080,
                                                                             "hostPort": 80}])),
                                 "containerDefinitions[0].portMappings[0].hostPort", "must equal containerPort"),
    "fargate awslogs without execution role": (edited(lambda d: d.pop("executionRoleArn")), "executionRoleArn",
                                               "need an executionRoleArn"),
}


def test_at_least_20_distinct_kinds() -> None:
    assert len(BAD) >= 20


@pytest.mark.parametrize("kind", sorted(BAD))
def test_bad_template_or_document_is_exit_2_with_its_path_and_changes_nothing(aws, recorder, tmp_path: Path,
                                                                               kind: str) -> None:
    text, where, words = BAD[kind]
    config = make_app(tmp_path, text)
    with pytest.raises(BadInput) as caught:
        register(config, environment="staging", image=IMAGE)
    problems = caught.value.problems
    if where.startswith("line "):
        assert any(p.line == int(where[5:]) and words in p.message for p in problems), problems
    else:
        assert any(p.path == where and words in p.message for p in problems) or \
            (not problems and words in caught.value.message), (problems, caught.value.message)
    assert caught.value.exit_code == 2
    assert recorder.calls(product_only=True, mutating_only=True) == []


def test_the_cli_reports_the_template_and_line_of_an_undefined_variable(aws, tmp_path: Path) -> None:
    config = make_app(tmp_path, BAD["undefined variable"][0])
    result = run_cli("register", "--config", config, "--environment", "staging", "--image", IMAGE)
    assert result.returncode == 2
    assert f"{tmp_path / 'taskdef.json.j2'}:{UNDEFINED_LINE}:" in result.stderr and "log_groop" in result.stderr


def test_render_writes_the_document_and_register_is_idempotent(aws, boto, tmp_path: Path) -> None:
    config = make_app(tmp_path)
    rendered = render(config, environment="staging", image=IMAGE)
    document = json.loads(Path(rendered["file"]).read_text())
    assert document == rendered["document"]
    assert document["containerDefinitions"][0]["logConfiguration"]["options"]["awslogs-group"] == "/ecs/web"
    first = register(config, environment="staging", image=IMAGE)
    again = register(config, environment="staging", image=IMAGE)
    assert again["taskDefinitionArn"] == first["taskDefinitionArn"] and again["reused"] is True
    from_file = register(config, environment="staging", file=rendered["file"])
    assert from_file["reused"] is True
    changed = register(config, environment="staging", image=OTHER)
    assert changed["reused"] is False and changed["taskDefinitionArn"].endswith(":2")
    assert [d for d in boto("ecs").list_task_definitions(familyPrefix="web")["taskDefinitionArns"]] == [
        first["taskDefinitionArn"], changed["taskDefinitionArn"]]


def test_diff_shows_field_level_changes_against_the_live_revision(aws, boto, tmp_path: Path) -> None:
    config = make_app(tmp_path)
    live = register(config, environment="staging", image=IMAGE)
    ecs = boto("ecs")
    ecs.create_cluster(clusterName="demo")
    ecs.create_service(cluster="demo", serviceName="web", taskDefinition=live["taskDefinitionArn"], desiredCount=0)
    result = diff(config, environment="staging", image=OTHER)
    assert result["against"] == live["taskDefinitionArn"]
    assert result["changes"] == [{"path": "containerDefinitions[0].image", "change": "changed",
                                  "old": IMAGE, "new": OTHER}]
    assert diff(config, environment="staging", image=IMAGE)["identical"] is True
    human = run_cli("diff", "--config", config, "--environment", "staging", "--image", OTHER)
    assert human.returncode == 0, human.stderr
    assert f'~ containerDefinitions[0].image: "{IMAGE}" -> "{OTHER}"' in human.stdout


def test_templates_look_up_ssm_parameters_and_secret_arns(aws, boto, tmp_path: Path) -> None:
    boto("ssm").put_parameter(Name="/web/feature", Value="on", Type="String")
    boto("ssm").put_parameter(Name="/web/db-password", Value="s3cret", Type="SecureString")
    secret = boto("secretsmanager").create_secret(Name="web/api-key", SecretString="k")["ARN"]
    def lookups(web: dict[str, Any]) -> None:
        web["environment"].append({"name": "FEATURE", "value": "{{ ssm('/web/feature') }}"})
        web["secrets"] = [{"name": "API_KEY", "valueFrom": "{{ secret_arn('web/api-key') }}"},
                          {"name": "DB_PASSWORD", "valueFrom": "{{ ssm_arn('/web/db-password') }}"}]

    template = container(lookups)
    rendered = render(make_app(tmp_path, template), environment="staging", image=IMAGE)["document"]
    web = rendered["containerDefinitions"][0]
    assert {"name": "FEATURE", "value": "on"} in web["environment"]
    assert web["secrets"][0]["valueFrom"] == secret
    assert web["secrets"][1]["valueFrom"].endswith(":parameter/web/db-password")
    plain_secret = container(lambda c: c["environment"].append({"name": "DB",
                                                                "value": "{{ ssm('/web/db-password') }}"}))
    with pytest.raises(BadInput, match="SecureString"):
        render(make_app(tmp_path, plain_secret), environment="staging", image=IMAGE)


def test_yaml_templates_render_too(aws, tmp_path: Path) -> None:
    import yaml

    config = make_app(tmp_path, yaml.safe_dump(TEMPLATE), name="taskdef.yaml.j2")
    assert render(config, environment="staging", image=IMAGE)["document"]["family"] == "web"


def test_templates_see_only_the_variables_env_passthrough_names(aws, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_VERSION", "1.2.3")
    monkeypatch.setenv("APP_SIGNING_TOKEN", "never-rendered")
    text = container(lambda c: c["environment"].append({"name": "VERSION", "value": "{{ env.APP_VERSION }}"}))
    config = Path(make_app(tmp_path, text))
    config.write_text(config.read_text().replace("  allow_plain_env:", "  env_passthrough: [APP_*]\n  allow_plain_env:"))
    document = render(str(config), environment="staging", image=IMAGE)["document"]
    assert {"name": "VERSION", "value": "1.2.3"} in document["containerDefinitions"][0]["environment"]
    leaky = container(lambda c: c["environment"].append({"name": "T", "value": "{{ env.APP_SIGNING_TOKEN }}"}))
    (tmp_path / "taskdef.json.j2").write_text(leaky)
    with pytest.raises(BadInput, match="APP_SIGNING_TOKEN"):
        render(str(config), environment="staging", image=IMAGE)
