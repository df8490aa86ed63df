"""bench/dataplane_rows.py: both sides run in alternating order, each side's rounds are pooled before its
percentiles are taken, and the rows say the added latency and whatever else went wrong (errors, unsent)."""
from __future__ import annotations

import sys

import pytest

from helpers import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import benchmarks  # noqa: E402
import dataplane_rows  # noqa: E402


def run(latencies_ms: list[float], errors: int = 0, unsent: int = 0) -> dict:
    sent = len(latencies_ms) + errors
    return {"latencies": [ms / 1000 for ms in latencies_ms], "planned": sent + unsent, "sent": sent,
            "errors": errors, "late": 0}


def test_the_side_that_goes_first_alternates_round_by_round() -> None:
    assert list(dataplane_rows.rounds(4)) == ["direct", "listener", "listener", "direct",
                                              "direct", "listener", "listener", "direct"]
    assert list(dataplane_rows.rounds(1)) == ["direct", "listener"]


def test_rounds_are_pooled_and_the_added_latency_is_the_difference() -> None:
    direct, listener = dataplane_rows.Side(), dataplane_rows.Side()
    direct.add(run([1.0] * 50))
    direct.add(run([1.0] * 49 + [5.0]))
    listener.add(run([3.0] * 99 + [20.0]))
    listener.add(run([3.0]))
    assert direct.ms(50) == 1.0 and listener.ms(50) == 3.0
    through, straight, added = dataplane_rows.added(direct, listener, 50)
    assert (through, straight) == (3.0, 1.0) and added == pytest.approx(2.0)
    assert direct.planned == direct.sent == 100 and direct.note() == ""


def test_errors_and_unsent_requests_are_noted_and_a_side_without_answers_fails() -> None:
    side = dataplane_rows.Side()
    side.add(run([2.0] * 10, errors=3, unsent=2))
    assert side.note() == "3 errors, 2 unsent"
    with pytest.raises(RuntimeError, match="no request answered 200"):
        dataplane_rows.Side().ms(99)


def test_the_rows_print_milliseconds_side_by_side(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    direct, listener = dataplane_rows.Side(), dataplane_rows.Side()
    direct.add(run([1.0] * 100))
    listener.add(run([2.5] * 100, errors=1))
    monkeypatch.setattr(benchmarks, "_dataplane", lambda: {"direct": direct, "listener": listener})
    assert benchmarks.main(["dataplane"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:4] for line in lines[2:]] == [["data", "plane:", "p50", "latency"],
                                                        ["data", "plane:", "p99", "latency"]]
    assert "2.500" in lines[2] and "1.000" in lines[2] and "2.50" in lines[2]
    assert "added +1.50 ms; listener: 1 errors" in lines[2]
