"""Plan, then execute: the plan makes read calls only, and its actions are the calls execution makes.

And a strategy is a plug-in: a toy one registered in this module is deployable and listed wherever
strategy names are, with no change elsewhere.
"""
from __future__ import annotations

import json
from typing import Any

import pytest

from deploying import bootstrapped, config_of, known_good_of, product_mutations, service_of, with_deploy_settings
from helpers import run_cli
from shipline.deployment.engine import deploy, rollback
from shipline.deployment.strategies import registry
from shipline.deployment.strategies.base import InPlace


@pytest.fixture
def app(aws, sample_app, push_variant):
    aws.ecs.time_scale = 0.05
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s")
    return sample_app


def _planned(plan: dict[str, Any]) -> list[str]:
    return [call for action in plan["actions"] for call in action["calls"]]


def test_a_dry_run_plans_with_reads_only_and_execution_makes_exactly_the_planned_calls(
        aws, boto, recorder, app, push_variant) -> None:
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    for image, strategy in ((v2, "rolling"), (v1, "doubling")):
        recorder.clear()
        printed = run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", image,
                          "--strategy", strategy, "--dry-run", "--json")
        assert printed.returncode == 0, printed.stderr
        plan = json.loads(printed.stdout)["result"]
        assert product_mutations(recorder) == []
        assert plan["strategy"] == strategy and plan["undo_target"] == service_of(boto)["taskDefinition"]
        assert plan["expected_seconds"] > 0 and "stability window" in plan["expected"]
        assert "load balancer target health" in plan["health_signal"]
        assert plan["way_back"] and plan["way_back"][0]["calls"] == ["ecs.UpdateService"]
        assert _planned(plan)[:2] == ["dynamodb.UpdateItem", "ecs.RegisterTaskDefinition"]  # the lease first
        assert "ecs.UpdateService" in _planned(plan) and _planned(plan)[-1] == "dynamodb.UpdateItem"

        recorder.clear()
        result = deploy(config_of(app), environment="staging", image=image, strategy=strategy)
        assert result["decision"] == "succeeded"
        assert product_mutations(recorder) == _planned(plan)

    recorder.clear()
    printed = run_cli("rollback", "--config", config_of(app), "--environment", "staging", "--dry-run", "--json")
    assert printed.returncode == 0, printed.stderr
    plan = json.loads(printed.stdout)["result"]
    assert product_mutations(recorder) == [] and plan["kind"] == "rollback"
    recorder.clear()
    back = rollback(config_of(app), environment="staging")
    assert back["decision"] == "succeeded" and service_of(boto)["taskDefinition"] == plan["target"]
    assert product_mutations(recorder) == _planned(plan) == ["dynamodb.UpdateItem", "ecs.UpdateService",
                                                             "dynamodb.UpdateItem", "dynamodb.UpdateItem"]
    assert "known good" in plan["actions"][2]["action"] and known_good_of(app) == plan["target"]


def test_the_plan_warns_of_each_setting_that_makes_deploys_slow(aws, boto, recorder, app, push_variant) -> None:
    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    group = service_of(boto)["loadBalancers"][0]["targetGroupArn"]
    boto("elbv2").modify_target_group_attributes(TargetGroupArn=group, Attributes=[
        {"Key": "deregistration_delay.timeout_seconds", "Value": "300"}])
    boto("elbv2").modify_target_group(TargetGroupArn=group, HealthCheckIntervalSeconds=30, HealthyThresholdCount=5)
    plan = deploy(config_of(app), environment="staging", image=v2, dry_run=True)
    warnings = "\n".join(plan["warnings"])
    assert "deregistration_delay.timeout_seconds is 300s (the default)" in warnings
    assert "30s x healthy threshold 5 = 150s" in warnings
    # the sample rolls with max 200 %: one batch, waiting to be healthy, then draining the old tasks
    assert plan["expected"]["replace tasks"] >= 150 + 300
    _set_bounds(app, "max_percent: 200", "max_percent: 100")  # 50 % of the tasks at a time: two batches
    slow = deploy(config_of(app), environment="staging", image=v2, dry_run=True)
    assert slow["expected"]["replace tasks"] >= 2 * (150 + 300)
    assert slow["expected_seconds"] == pytest.approx(sum(slow["expected"].values()), abs=0.1)


def _set_bounds(app, old: str, new: str) -> None:
    from helpers import git

    config = app / "shipline.yaml"
    config.write_text(config.read_text().replace(old, new))
    git(app, "commit", "-qam", new)


@pytest.fixture
def toy_strategy():
    """A strategy defined and registered here, nowhere else: recreate (every task replaced at once)."""
    @registry.register("toy-recreate", "every task stopped, then the new ones started (a test's toy)")
    class Recreate(InPlace):
        def deployment_configuration(self, ctx) -> dict[str, Any]:
            return {"minimumHealthyPercent": 0, "maximumPercent": 100}

    yield "toy-recreate"
    registry.unregister("toy-recreate")


def test_a_strategy_registered_in_a_test_module_is_listed_everywhere_and_deployable(
        aws, boto, app, push_variant, toy_strategy, capsys) -> None:
    from shipline import cli
    from shipline.config import config_schema
    from shipline.jenkins.spec import steps_json

    schema = config_schema()["$defs"]["DeploySettings"]["properties"]["strategy"]
    assert toy_strategy in schema["enum"]
    assert cli.main(["deploy", "--help"]) == 0
    assert toy_strategy in capsys.readouterr().out
    deploy_step = json.loads(steps_json())["steps"]["shiplineDeploy"]
    assert toy_strategy in next(p for p in deploy_step["params"] if p["name"] == "strategy")["choices"]

    v1, v2 = push_variant("v1"), push_variant("v2")
    bootstrapped(app, boto, v1)
    result = deploy(config_of(app), environment="staging", image=v2, strategy=toy_strategy)
    assert result["decision"] == "succeeded" and result["strategy"] == toy_strategy
    assert service_of(boto)["deploymentConfiguration"]["minimumHealthyPercent"] == 0
