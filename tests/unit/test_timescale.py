"""The time model: SHIPLINE_TIME_SCALE / --time-scale runs shipline's own waits (stability windows,
polling) by one factor; limits (timeouts) stay as written; a bad factor is exit 2 naming it."""
from __future__ import annotations

import json
import os

import pytest

from helpers import ROOT, run_cli
from shipline import cli, timescale
from shipline.config import load_config
from shipline.errors import BadInput

EXAMPLE = str(ROOT / "examples" / "webapp" / "shipline.yaml")
BAD = ["0", "-0.5", "1.5", "nan", "inf", "fast", "1e400"]


@pytest.mark.parametrize("value", BAD)
def test_a_bad_environment_factor_is_bad_input_naming_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                                     value: str) -> None:
    monkeypatch.setenv(timescale.ENV, value)
    with pytest.raises(BadInput, match=timescale.ENV) as raised:
        load_config(EXAMPLE).config.environment("staging")
    assert raised.value.problems[0].path == timescale.ENV


@pytest.mark.parametrize("value", BAD)
def test_a_bad_time_scale_option_is_exit_2_naming_the_option(value: str) -> None:
    result = run_cli("config", "check", "--config", EXAMPLE, "--time-scale", value, "--json")
    if value == "fast":  # not a number: argparse's own usage error
        assert result.returncode == 2 and "--time-scale" in result.stderr
        return
    document = json.loads(result.stdout)
    assert (result.returncode, document["error"]["problems"][0]["path"]) == (2, "time_scale"), result.stdout
    assert "--time-scale" in document["error"]["message"] and "Traceback" not in result.stderr


def test_the_stability_window_runs_at_the_scale_and_the_timeout_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(timescale.ENV, raising=False)
    aws_time = load_config(EXAMPLE).config.environment("staging")
    assert (aws_time.stability_window, aws_time.time_scale, aws_time.deploy.timeout) == (300.0, 1.0, 600.0)
    monkeypatch.setenv(timescale.ENV, "0.1")
    local = load_config(EXAMPLE).config.environment("staging")
    assert (local.stability_window, local.time_scale, local.deploy.timeout) == (30.0, 0.1, 600.0)


def test_polling_scales_but_never_below_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(timescale.ENV, "0.1")
    assert timescale.poll(3.0) == pytest.approx(0.3)
    monkeypatch.setenv(timescale.ENV, "0.01")
    assert timescale.poll(1.0) == timescale.SHORTEST_POLL


def test_the_option_sets_the_factor_for_the_command_and_its_children(monkeypatch: pytest.MonkeyPatch,
                                                                       capsys: pytest.CaptureFixture) -> None:
    monkeypatch.delenv(timescale.ENV, raising=False)
    assert cli.main(["config", "check", "--config", EXAMPLE, "--time-scale", "0.25", "--json"]) == 0
    assert os.environ[timescale.ENV] == "0.25" and timescale.factor() == 0.25
    assert json.loads(capsys.readouterr().out)["ok"]


def test_local_up_keeps_its_own_time_scale_for_the_world() -> None:
    """`local up --time-scale` sets the emulation's pace (its parameter), not a second option."""
    result = run_cli("local", "up", "--help")
    text = " ".join(result.stdout.split())
    assert "ECS and ELB waits" in text and "shipline local env" in text and "shipline's own waits" not in text
