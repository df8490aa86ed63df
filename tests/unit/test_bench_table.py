"""bench/benchmarks.py prints its table whatever happens: a row that raises is printed as failed, with its
error, and every other row still prints (the run exits 1)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import benchmarks  # noqa: E402


def fast() -> benchmarks.Row:
    return benchmarks.Row("startup: fast", "shipline x", "other x", 0.5, 1.0, "ratio <= 1")


def push_refused() -> benchmarks.Row:
    raise subprocess.CalledProcessError(1, ["shipline", "deploy"], stderr="step 1\npush: connection refused\n")


def slow() -> benchmarks.Row:
    return benchmarks.Row("startup: slow", "shipline y", "other y", 3.0, 1.5, "(for reading)")


def test_a_row_that_raises_is_printed_as_failed_and_the_others_still_print(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(benchmarks, "ROWS", [fast, push_refused, slow])
    assert benchmarks.main([]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["benchmark", "shipline", "s", "baseline", "s", "ratio", "target"]
    assert lines[2].split()[:6] == ["startup:", "fast", "shipline", "x", "0.500", "other"]
    assert lines[3].split()[:2] == ["push", "refused"] and "FAILED" in lines[3]
    assert lines[4].split()[:2] == ["startup:", "slow"] and "2.00" in lines[4]
    assert "push refused: failed: command 'shipline deploy' exited 1: push: connection refused" in lines


def test_every_row_measured_is_exit_0(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(benchmarks, "ROWS", [fast, slow])
    assert benchmarks.main(["slow"]) == 0
    assert [line.split()[:2] for line in capsys.readouterr().out.splitlines()[2:]] == [["startup:", "slow"]]


def test_a_shared_measurement_that_failed_is_not_run_again() -> None:
    calls = []

    @benchmarks.once
    def measure() -> dict[str, float]:
        calls.append(1)
        raise RuntimeError("registry down")

    for _ in range(2):
        with pytest.raises(RuntimeError, match="registry down"):
            measure()
    assert calls == [1]
