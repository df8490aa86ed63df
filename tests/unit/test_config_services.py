"""shipline.yaml describing several services (`services`): each entry's settings over the top level, every
problem at the entry's own path and line, and one-service commands told to name the service."""
from __future__ import annotations

from pathlib import Path

import pytest

from helpers import config_problems, load_config_text
from shipline.errors import BadInput

SEVERAL = """\
version: 1
cluster: main
region: eu-west-1
services:
  - name: web
  - name: jobs
    load_balancer: null
    deploy:
      max_percent: 150
      pause_at: [before-known-good]
image:
  repository: team/app
task_definition:
  template: taskdef.json.j2
load_balancer:
  container: web
  port: 8080
deploy:
  max_percent: 200
environments:
  staging: {}
  production:
    deploy:
      min_healthy_percent: 100
"""


def test_each_service_gets_its_entrys_sections_over_the_top_level_and_environments_over_both(tmp_path: Path) -> None:
    config = load_config_text(tmp_path, SEVERAL).config
    assert config.names == ["web", "jobs"]
    web, jobs = config.select("web"), config.select("jobs")
    assert (web.load_balancer.port, jobs.load_balancer) == (8080, None)   # `load_balancer: null`: none
    assert (web.deploy.max_percent, jobs.deploy.max_percent, jobs.deploy.pause_at) == (200, 150, ["before-known-good"])
    production = jobs.environment("production")
    assert (production.service, production.cluster, production.deploy.min_healthy_percent,
            production.deploy.max_percent) == ("jobs", "main", 100, 150)
    assert production.lock == "shipline/eu-west-1/main/jobs"


def test_a_one_service_command_on_several_services_must_name_one(tmp_path: Path) -> None:
    loaded = load_config_text(tmp_path, SEVERAL)
    with pytest.raises(BadInput, match=r"several services \(web, jobs\): name one with --service"):
        loaded.config.environment("staging")
    with pytest.raises(BadInput, match="unknown service 'api'; shipline.yaml describes web, jobs"):
        loaded.config.select("api")
    assert loaded.config.access("production") == ("eu-west-1", None)   # the registry needs no service


@pytest.mark.parametrize("change, path, line, words", [
    (("  - name: jobs\n", "  - name: web\n"), "services[1].name", 6, "'web' is listed twice"),
    (("services:\n", "service: web\nservices:\n"), "services", 5, "not both"),
    (("services:\n  - name: web\n  - name: jobs\n    load_balancer: null\n    deploy:\n      max_percent: 150\n"
      "      pause_at: [before-known-good]\n", ""), "service", 1, "required field is missing"),
    (("      max_percent: 150", "      max_percent: 50"), "services[1].deploy.max_percent", 9,
     "greater than or equal to 100"),
    (("      max_percent: 150", "      max_percent: 150\n      min_healthy_percent: 150"),
     "services[1].deploy.min_healthy_percent", 10, "less than or equal to 100"),
    (("      max_percent: 150", "      max_percent: 100\n      min_healthy_percent: 100"),
     "services[1].deploy.max_percent", 9, "must be above min_healthy_percent"),
    (("    load_balancer: null\n", "    load_balancer: null\n    task_definition: {template: gone.j2}\n"),
     "services[1].task_definition.template", 8, "'gone.j2' not found"),
    (("  staging: {}", "  staging: {service: web2}"), "environments.staging.service", 21, "cannot rename"),
    (("  - name: jobs\n", "  - name: jobs\n    image: {repository: other}\n"), "services[1].image", 7,
     "unknown field"),
])
def test_each_services_problem_names_its_entry(tmp_path: Path, change: tuple[str, str], path: str, line: int,
                                               words: str) -> None:
    assert change[0] in SEVERAL, change[0]
    found = config_problems(tmp_path, SEVERAL.replace(*change))
    assert any(p == path and ln == line and words in message for p, ln, message in found), found
