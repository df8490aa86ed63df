"""The load generator's arithmetic: its plan, the revision of an answer, and the summary per revision."""
from __future__ import annotations

import re

import pytest

from shipline.local.traffic.command import render
from shipline.local.traffic.load import Outcome, planned_count, revision_of
from shipline.local.traffic.summary import Tally, percentiles


def answered(revision: str | None, status: int = 200, latency: float = 0.01, lag: float = 0.0) -> Outcome:
    return Outcome(sent_at=0.0, lag=lag, latency=latency, status=status, error=None, revision=revision)


def failed(error: str, lag: float = 0.0) -> Outcome:
    return Outcome(sent_at=0.0, lag=lag, latency=5.0, status=None, error=error, revision=None)


def test_nothing_sent_is_all_unsent_with_no_rates_or_latencies() -> None:
    summary = Tally().summary(planned=10)
    assert (summary["sent"], summary["unsent"], summary["error_rate"], summary["revisions"]) == (0, 10, 0.0, [])
    assert summary["latency_ms"] == {"p50": None, "p90": None, "p95": None, "p99": None}


def test_errors_are_counted_by_kind_and_by_revision_and_a_4xx_is_no_error() -> None:
    tally = Tally()
    tally.add([answered("v1")] * 6 + [answered("v1", 500), answered("v2", 503), answered("v2", 404),
                                      failed("connection"), failed("timeout"), failed("timeout")])
    summary = tally.summary(planned=12)
    assert (summary["sent"], summary["unsent"]) == (12, 0)
    assert summary["errors"] == {"http_5xx": 2, "connection": 1, "timeout": 2}
    assert summary["error_rate"] == round(5 / 12, 6)
    rows = {row["revision"]: row for row in summary["revisions"]}
    assert [row["revision"] for row in summary["revisions"]] == ["v1", None, "v2"]  # largest first
    assert rows["v1"]["requests"] == 7 and rows["v1"]["share"] == round(7 / 12, 6)
    assert rows["v1"]["errors"] == {"http_5xx": 1, "connection": 0, "timeout": 0}
    assert rows["v1"]["statuses"] == {"200": 6, "500": 1}
    assert rows["v2"]["errors"]["http_5xx"] == 1 and rows["v2"]["error_rate"] == 0.5
    assert rows[None]["errors"] == {"http_5xx": 0, "connection": 1, "timeout": 2}
    assert rows[None]["latency_ms"]["p50"] is None  # no answer, no latency


def test_percentiles_are_of_the_answers_latencies_in_milliseconds() -> None:
    assert percentiles([i / 1000 for i in range(1, 101)]) == {"p50": 50.5, "p90": 90.1, "p95": 95.05, "p99": 99.01}
    assert percentiles([0.25]) == {"p50": 250.0, "p90": 250.0, "p95": 250.0, "p99": 250.0}


def test_requests_sent_after_their_time_are_late_and_the_worst_lag_is_kept() -> None:
    tally = Tally()
    tally.add([answered("v1", lag=0.1), answered("v1", lag=0.1001), failed("timeout", lag=2.5)])
    summary = tally.summary(planned=3)
    assert (summary["late"], summary["max_lag_ms"]) == (2, 2500.0)


@pytest.mark.parametrize(("rps", "seconds", "count"), [(200, 60, 12000), (0.1, 30, 3), (0.3, 10, 3), (1 / 3, 1, 1),
                                                       (7, 0.1, 1), (1000, 0.5, 500)])
def test_the_plan_is_one_request_each_one_over_rps_seconds(rps: float, seconds: float, count: int) -> None:
    assert planned_count(rps, seconds) == count


def test_the_revision_header_wins_over_the_body_pattern() -> None:
    pattern = re.compile(r"version (\w+)")
    assert revision_of({"X-Revision": " abc123 "}, b"version two", pattern) == "abc123"
    assert revision_of({}, b"<p>version two</p>", pattern) == "two"
    assert revision_of({}, b"<p>v9</p>", re.compile(r"v\d")) == "v9"
    assert revision_of({}, b"nothing", pattern) is None
    assert revision_of({"X-Revision": ""}, b"version two", None) is None


def test_the_text_has_a_row_per_revision_and_one_for_all() -> None:
    tally = Tally()
    tally.add([answered("v1")] * 9 + [answered(None, 502)])
    text = render({"url": "http://127.0.0.2/", "address": "127.0.0.2", "rps": 10.0, "for_s": 1.0,
                   "elapsed_s": 1.02, **tally.summary(planned=10)})
    lines = text.splitlines()
    assert lines[0].startswith("10 of 10 requests sent to http://127.0.0.2/ (127.0.0.2) at 10/s for 1 s")
    assert [line.split()[:3] for line in lines[2:]] == [["v1", "9", "90.0%"], ["(none)", "1", "10.0%"],
                                                         ["all", "10", "100.0%"]]
