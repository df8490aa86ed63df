"""What a plan says of a service: its health signal, its expected duration, its slow settings."""
from __future__ import annotations

import pytest

from helpers import ROOT
from shipline.config import load_config
from shipline.deployment.context import DeployContext
from shipline.deployment.plan import _warnings
from shipline.deployment.strategies import load


def _ctx() -> DeployContext:
    env = load_config(ROOT / "examples" / "webapp" / "shipline.yaml").config.environment("staging")
    return DeployContext(env, "arn:td/webapp:2", "arn:td/webapp:1")


def _group(protocol: str = "HTTP", delay: float = 5.0, interval: int = 5, healthy: int = 2) -> dict:
    return {"name": "web", "protocol": protocol, "deregistration_delay": delay, "interval": interval,
            "healthy_threshold": healthy, "seconds_to_healthy": float(interval * healthy)}


@pytest.mark.parametrize(("facts", "signal"), [
    ({"target_groups": [_group()]}, "load balancer target health and the running count and task exits"),
    ({"target_groups": [_group("TCP")], "container_health_checks": 1},
     "network load balancer target health (TCP: a port that answers), the containers' health checks and the "
     "running count and task exits"),
    ({"target_groups": [], "container_health_checks": 1},
     "the containers' health checks and the running count and task exits (no load balancer)"),
    ({"target_groups": []},
     "the running count and task exits (no load balancer, no container health check)"),
    ({"target_groups": [_group()], "service_connect": True},
     "load balancer target health and the running count and task exits; Service Connect routes by the same "
     "task health"),
])
def test_the_plan_names_the_health_signal_the_service_has(facts: dict, signal: str) -> None:
    assert load("rolling").health_signal(_ctx(), facts) == signal


def test_expected_duration_counts_batches_of_time_to_healthy_and_draining() -> None:
    ctx = _ctx()  # the sample rolls with min 50 %, max 200 %: room for all tasks at once
    facts = {"desired": 4, "seconds_to_healthy": 150.0, "deregistration_delay": 300.0}
    rolling = load("rolling").seconds(ctx, facts)
    assert rolling == {"replace tasks": 10 + 150 + 300, "stability window": ctx.env.stability_window}
    narrow = ctx.env.deploy.model_copy(update={"max_percent": 100})
    ctx.env = ctx.env.model_copy(update={"deploy": narrow})
    assert load("rolling").seconds(ctx, facts)["replace tasks"] == 2 * (10 + 150 + 300)
    assert load("rolling").seconds(ctx, {**facts, "desired": 0})["replace tasks"] == 0


def test_slow_and_blind_settings_are_warned_of_by_name() -> None:
    ctx = _ctx()
    assert _warnings(ctx, {"target_groups": [_group()]}) == []
    slow = _warnings(ctx, {"target_groups": [_group(delay=300, interval=30, healthy=5)]})
    assert "deregistration_delay.timeout_seconds is 300s (the default)" in slow[0]
    assert "30s x healthy threshold 5 = 150s" in slow[1]
    blind = ctx.env.model_copy(update={"stability_window": 0.0})
    ctx.env = blind
    assert "deploy.bake_time is 0" in _warnings(ctx, {"target_groups": []})[0]
