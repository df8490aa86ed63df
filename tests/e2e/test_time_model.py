"""The time model: the sample's real shipline.yaml (production-like: `bake_time: 5m`, `timeout: 10m`)
rehearses locally at the world's time scale, with shipline's own waits at the same scale (as
`eval "$(shipline local env)"` sets them), and reaches the outcomes it reaches at scale 1: a good release
passes its window; a release that crashes 20 s after passing its health checks (ECS's circuit breaker
off, so only shipline can catch it) is refused and undone. Scale 1 takes minutes: a release's run
(`pytest --full`) has it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from deploying import bootstrapped, config_of, healthy_on, service_of, steady
from helpers import full_run, git, wait_for
from shipline import timescale
from shipline.deployment.engine import deploy
from shipline.errors import OperationFailed

BAKE = 300.0  # the sample's bake_time: 5m, on AWS


@pytest.mark.parametrize("scale", [0.1, 1.0] if full_run() else [0.1])
def test_the_samples_real_config_rehearses_with_the_outcomes_it_has_at_scale_1(aws, boto, monkeypatch,
                                                                                sample_app: Path, push_variant,
                                                                                scale: float) -> None:
    aws.ecs.time_scale = scale
    monkeypatch.setenv(timescale.ENV, repr(scale))
    config = sample_app / "shipline.yaml"
    config.write_text(config.read_text().replace("  bake_time: 5m\n", "  bake_time: 5m\n  circuit_breaker: false\n"))
    git(sample_app, "commit", "-qam", "ECS's circuit breaker off: only shipline may catch a late failure")
    v1, v2, late = push_variant("v1"), push_variant("v2"), push_variant("crash-late")
    bootstrapped(sample_app, boto, v1)

    plan = deploy(config_of(sample_app), environment="staging", image=v2, dry_run=True)
    window = f"then through the {BAKE * scale:g}s stability window"
    assert any(window in action["action"] for action in plan["actions"]), plan["actions"]

    good = deploy(config_of(sample_app), environment="staging", image=v2)
    assert good["decision"] == "succeeded", good
    record = json.loads(Path(good["record"]).read_text())
    assert record["parameters"]["stability_window"] == BAKE * scale
    assert record["parameters"]["time_scale"] == scale and record["parameters"]["timeout"] == 600.0
    passed = next(p for p in record["phases"] if p["phase"] == "stability window passed")
    assert passed["seconds"] == BAKE * scale

    with pytest.raises(OperationFailed, match="exit code 42") as refused:
        deploy(config_of(sample_app), environment="staging", image=late)
    failed = json.loads(Path(refused.value.details["record"]).read_text())
    assert failed["decision"] == "rolled back" and failed["rollback"]["to"] == good["task_definition"]
    wait_for("the service steady on the good release", lambda: steady(boto), timeout=120 / scale)
    healthy_on(boto, good["task_definition"], count=service_of(boto)["desiredCount"])
