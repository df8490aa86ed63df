"""The deploy guards through `shipline deploy`: a frozen service refuses to deploy (whatever --force says), and
so does a service outside its deploy windows unless forced with a reason; a refused deploy changes nothing
(no mutating call, the emulated AWS state unchanged)."""
from __future__ import annotations

import datetime as dt
import json

from deploying import bootstrapped, config_of, healthy_on, service_of, with_deploy_settings
from helpers import run_cli

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _deploy(app, image: str, *extra: str):
    return run_cli("deploy", "--config", config_of(app), "--environment", "staging", "--image", image, "--json",
                   *extra, timeout=300)


def _state(aws) -> dict:
    """The emulated AWS state a deploy could change (not the log events the running tasks keep writing)."""
    return {service: state for service, state in aws.moto.snapshot().items() if service != "logs"}


def _refused_without_change(aws, recorder, result, *expected: str) -> None:
    assert result.returncode == 7, result.stdout + result.stderr
    message = json.loads(result.stdout)["error"]["message"]
    assert all(text in message for text in expected), message
    assert [str(c) for c in recorder.calls(product_only=True, mutating_only=True)] == []


def test_a_frozen_service_and_a_closed_window_refuse_to_deploy_and_change_nothing(aws, boto, recorder, sample_app,
                                                                                    push_variant) -> None:
    aws.ecs.time_scale = 0.05
    tomorrow = DAYS[(dt.datetime.now(dt.timezone.utc).weekday() + 2) % 7]   # in UTC+14 it is tomorrow already
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 2s\n"
                                     f'windows: [{{days: [{tomorrow}], hours: "00:00-24:00", timezone: UTC}}]')
    v1, v2 = push_variant("v1"), push_variant("v2")
    good = bootstrapped(sample_app, boto, v1)

    frozen = run_cli("freeze", "--config", config_of(sample_app), "--environment", "staging", "--reason",
                     "incident 4711")
    assert frozen.returncode == 0, frozen.stderr
    recorder.clear()
    before = _state(aws)
    _refused_without_change(aws, recorder, _deploy(sample_app, v2, "--force", "the fix for 4711"),
                            "is frozen since", "incident 4711", "shipline unfreeze")
    assert _state(aws) == before

    assert run_cli("unfreeze", "--config", config_of(sample_app), "--environment", "staging").returncode == 0
    recorder.clear()
    _refused_without_change(aws, recorder, _deploy(sample_app, v2), "outside its deploy windows", "--force")
    assert service_of(boto)["taskDefinition"] == good

    forced = _deploy(sample_app, v2, "--force", "the fix for 4711 cannot wait")
    assert forced.returncode == 0, forced.stdout + forced.stderr
    record = json.loads(forced.stdout)["result"]
    assert {"phase": "forced", "reason": "the fix for 4711 cannot wait"}.items() <= record["phases"][0].items()
    healthy_on(boto, record["task_definition"])
