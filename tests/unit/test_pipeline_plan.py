"""The pipeline plan: what a pull request, a branch, the primary branch and a release tag each run."""
from __future__ import annotations

import pytest

from helpers import ROOT, load_config_text
from shipline.pipeline import plan

CONFIG = str(ROOT / "examples" / "webapp" / "shipline.yaml")


def names(result: dict) -> list[str]:
    return [stage["name"] for stage in result["stages"]]


@pytest.mark.parametrize("kwargs, kind, deploys", [
    ({"branch": "feature/x", "change_id": "12"}, "pull request", False),
    ({"branch": "feature/x"}, "branch", False),
    ({"branch": "main"}, "primary branch", True),
    ({"tag": "v1.2.3"}, "release tag", True),
])
def test_who_deploys(kwargs: dict, kind: str, deploys: bool, monkeypatch) -> None:
    for name in ("BRANCH_NAME", "TAG_NAME", "CHANGE_ID"):
        monkeypatch.delenv(name, raising=False)
    result = plan(CONFIG, **kwargs)
    assert (result["kind"], result["deploys"]) == (kind, deploys)
    expected = ["Source", "Build", "Test"]
    if deploys:
        expected += ["Deploy staging", "Approve production", "Deploy production"]
    assert names(result) == expected


def test_tests_run_in_parallel_and_deploys_are_locked_per_service(monkeypatch) -> None:
    monkeypatch.setenv("BRANCH_NAME", "main")
    stages = {stage["name"]: stage for stage in plan(CONFIG)["stages"]}
    assert [b["name"] for b in stages["Test"]["branches"]] == ["unit", "security"]
    assert stages["Deploy production"]["locks"] == ["shipline/us-east-1/demo/webapp"]
    assert stages["Deploy production"]["services"] == []   # the simple form: the one service
    assert stages["Deploy production"]["strategy"] == "doubling"
    assert stages["Approve production"]["timeout_seconds"] == 1800


def test_several_services_deploy_in_one_stage_holding_every_service_lock(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("BRANCH_NAME", "main")
    config = load_config_text(tmp_path, (ROOT / "examples" / "webapp" / "shipline.yaml").read_text().replace(
        "service: webapp\n", "services:\n  - name: web\n  - name: jobs\n    load_balancer: null\n"
                               "    deploy: {strategy: rolling}\n"))
    stages = {stage["name"]: stage for stage in plan(str(config.path))["stages"]}
    assert stages["Deploy production"]["services"] == ["web", "jobs"]
    assert stages["Deploy production"]["locks"] == ["shipline/us-east-1/demo/web", "shipline/us-east-1/demo/jobs"]
    assert stages["Deploy production"]["strategy"] == "doubling"   # the environment's override wins for both
    assert stages["Deploy staging"]["strategy"] == "rolling"
