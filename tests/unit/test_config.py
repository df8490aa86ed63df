"""shipline.yaml: every kind of problem is reported with its field path and line, all at once."""
from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import pytest

from helpers import ROOT, run_cli
from shipline.config import load_config
from shipline.errors import BadInput

VALID = """\
version: 1
service: web
cluster: main
region: eu-west-1
image:
  repository: team/web
task_definition:
  template: taskdef.json.j2
load_balancer:
  container: web
  port: 8080
deploy:
  strategy: rolling
  min_healthy_percent: 50
  max_percent: 200
environments:
  staging:
    account_id: "123456789012"
  production:
    account_id: "210987654321"
    role_arn: arn:aws:iam::210987654321:role/deployer
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "taskdef.json.j2").write_text("{}\n")
    path = tmp_path / "shipline.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def problems(tmp_path: Path, text: str) -> list[tuple[str, int | None, str]]:
    with pytest.raises(BadInput) as caught:
        load_config(write(tmp_path, text))
    return [(p.path, p.line, p.message) for p in caught.value.problems]


def replace(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new)


def test_valid_config_loads_with_environment_overrides(tmp_path: Path) -> None:
    loaded = load_config(write(tmp_path, VALID))
    prod = loaded.config.environment("production")
    assert (prod.region, prod.cluster, prod.service, prod.deploy.max_percent) == ("eu-west-1", "main", "web", 200)
    assert prod.role_arn.endswith(":role/deployer")


def test_example_app_config_is_valid() -> None:
    loaded = load_config(ROOT / "examples" / "webapp" / "shipline.yaml")
    assert loaded.config.environment("production").deploy.strategy == "doubling"
    assert loaded.config.environment("staging").deploy.strategy == "rolling"


# Each case: a distinct kind of mistake, the field path it must name, the line, and words of the message.
CASES = {
    "yaml syntax": (replace("cluster: main", "cluster: [main"), "", 4, "flow sequence started on line 3"),
    "missing required field": (replace("service: web\n", ""), "service", 1, "required field is missing"),
    "unknown field with hint": (replace("  strategy: rolling", "  strategy: rolling\n  stratgy: x"),
                                "deploy.stratgy", 14, "did you mean 'strategy'"),
    "wrong type": (replace("  port: 8080", "  port: eighty"), "load_balancer.port", 11, "valid integer"),
    "not one of the choices": (replace("strategy: rolling", "strategy: big-bang"), "deploy.strategy", 13,
                               "not available; use one of rolling, doubling"),
    "out of range": (replace("min_healthy_percent: 50", "min_healthy_percent: 150"),
                     "deploy.min_healthy_percent", 14, "less than or equal to 100"),
    "invalid ECR repository name": (replace("repository: team/web", "repository: Team/Web"),
                                    "image.repository", 6, "not a valid ECR repository name"),
    "duplicate key": (replace("cluster: main\n", "cluster: main\ncluster: other\n"), "cluster", 4,
                      "duplicate key (first set on line 3)"),
    "bad duration": (replace("  max_percent: 200", "  max_percent: 200\n  timeout: 10 minutes"),
                     "deploy.timeout", 16, "invalid duration '10 minutes'"),
    "max not above min": (replace("max_percent: 200", "max_percent: 100")
                          .replace("min_healthy_percent: 50", "min_healthy_percent: 100"),
                          "deploy.max_percent", 15, "must be above min_healthy_percent"),
    "missing template file": (replace("template: taskdef.json.j2", "template: missing.json"),
                              "task_definition.template", 8, "not found"),
    "environment override invalid": (replace('  staging:\n    account_id: "123456789012"',
                                             '  staging:\n    account_id: "123456789012"\n    deploy:\n'
                                             '      fail_fast_after: 0'),
                                     "environments.staging.deploy.fail_fast_after", 20, "greater than or equal"),
    "invalid account id": (replace('account_id: "123456789012"', "account_id: 12345"),
                           "environments.staging.account_id", 18, "string"),
    "role in another account": (replace(
        "arn:aws:iam::210987654321:role/deployer", "arn:aws:iam::123456789012:role/deployer"),
        "environments.production.role_arn", 21, "another account"),
    "traffic strategy without load balancer": (
        replace("load_balancer:\n  container: web\n  port: 8080\n", "").replace("strategy: rolling",
                                                                             "strategy: toy-traffic"),
        "deploy.strategy", 10, "add a 'load_balancer' section"),
    "no environments": (VALID.split("environments:")[0] + "environments: {}\n", "environments", 16,
                        "at least 1 item"),
    "unsupported version": (replace("version: 1", "version: 2"), "version", 1, "Input should be 1"),
    "template and from_service both": (replace("  template: taskdef.json.j2",
                                               "  template: taskdef.json.j2\n  from_service: true"),
                                       "task_definition", 7, "exactly one"),
    "bad environment name": (replace("  staging:", "  Staging:"), "environments.Staging", 17,
                             "not a valid environment name"),
    "top level not a mapping": ("- web\n- api\n", "", 1, "expected a mapping"),
}


@pytest.fixture(autouse=True)
def _a_traffic_strategy():
    """No strategy that moves traffic ships yet: a toy one, so the load-balancer rule is exercised."""
    from shipline.deployment.strategies import registry

    registry.register("toy-traffic", "a toy that moves traffic", moves_traffic=True)(type("ToyTraffic", (), {}))
    yield
    registry.unregister("toy-traffic")


@pytest.mark.parametrize("kind", sorted(CASES))
def test_each_kind_of_problem_names_path_and_line(tmp_path: Path, kind: str) -> None:
    text, path, line, words = CASES[kind]
    found = problems(tmp_path, text)
    assert any(p == path and ln == line and words in msg for p, ln, msg in found), found


def test_at_least_ten_distinct_kinds_are_covered() -> None:
    assert len(CASES) >= 10
    assert len({case[1] for case in CASES.values()}) >= 10  # distinct field paths too


MANY_ERRORS = """\
version: 1
service: web
cluster: bad cluster name
image:
  repository: UPPER
  keep_images: 0
  colour: blue
deploy:
  strategy: teleport
  timeout: soon
environments:
  staging:
    region: mars-north-9
    account_id: "42"
  production:
    deploy:
      max_percent: 50
    approval:
      timeout: forever
"""


def test_a_file_with_many_errors_reports_all_of_them_via_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path, MANY_ERRORS)
    result = run_cli("config", "check", "--config", str(path), "--json")
    assert result.returncode == 2, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is False and document["exit_code"] == 2
    found = {(p["path"], p["line"]) for p in document["error"]["problems"]}
    assert found >= {
        ("cluster", 3), ("image.repository", 5), ("image.keep_images", 6), ("image.colour", 7),
        ("deploy.strategy", 9), ("deploy.timeout", 10), ("environments.staging.region", 13),
        ("environments.staging.account_id", 14), ("environments.production.deploy.max_percent", 17),
        ("environments.production.approval.timeout", 19),
    }, found
    # Human output: one line per problem, with file:line and the field path.
    human = run_cli("config", "check", "--config", str(path))
    assert human.returncode == 2
    assert f"{path}:9: deploy.strategy:" in human.stderr
    assert "Traceback" not in human.stderr


def test_missing_config_file_is_bad_input_with_a_fix(tmp_path: Path) -> None:
    result = run_cli("config", "check", "--config", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "file not found; create it or pass --config PATH" in result.stderr


def test_expired_allowlist_entry_is_a_warning(tmp_path: Path) -> None:
    text = VALID + "scan:\n  allowlist:\n    - {id: CVE-2020-1234, expires: 2021-01-01, reason: no fix}\n"
    loaded = load_config(write(tmp_path, text), today=dt.date(2026, 1, 1))
    assert loaded.warnings == ["scan.allowlist: CVE-2020-1234 expired on 2021-01-01; it no longer "
                               "silences findings"]


def test_schema_command_prints_the_json_schema() -> None:
    result = run_cli("config", "schema", "--json")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)["result"]
    assert schema["title"] == "Config"
    assert {"image", "environments"} <= set(schema["required"])
    assert schema["oneOf"] == [{"required": ["service"]}, {"required": ["services"]}]  # one service, or several
