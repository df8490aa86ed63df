"""What a run's answers say, per revision: requests, share, errors by kind, latency percentiles; and how far
the generator fell behind its plan. Counted as outcomes arrive, so a progress line and the final summary
come from the same counts."""
from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

from .load import Load, Outcome

LATE_S = 0.1  # a request sent more than this after its planned time counts as late
PERCENTILES = (50, 90, 95, 99)
ERROR_KINDS = ("http_5xx", "connection", "timeout")


def error_kind(outcome: Outcome) -> str | None:
    """http_5xx, connection or timeout; None for an answer below 500."""
    if outcome.error is not None:
        return outcome.error
    return "http_5xx" if outcome.status is not None and outcome.status >= 500 else None


def percentiles(latencies: list[float]) -> dict[str, float | None]:
    """p50, p90, p95, p99 in milliseconds (None without any answer)."""
    if not latencies:
        return {f"p{p}": None for p in PERCENTILES}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
    return {f"p{p}": round(cuts[p - 1] * 1000, 2) for p in PERCENTILES}


@dataclass
class _Group:
    """One revision's answers (or the requests no revision answered)."""

    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)  # of answered requests

    def add(self, outcome: Outcome) -> None:
        self.requests += 1
        if outcome.status is not None:
            self.statuses[str(outcome.status)] += 1
            self.latencies.append(outcome.latency)
        if kind := error_kind(outcome):
            self.errors[kind] += 1

    def to_json(self, total: int) -> dict[str, Any]:
        errors = sum(self.errors.values())
        return {"requests": self.requests, "share": _ratio(self.requests, total),
                "statuses": dict(sorted(self.statuses.items())),
                "errors": {kind: self.errors[kind] for kind in ERROR_KINDS},
                "error_rate": _ratio(errors, self.requests), "latency_ms": percentiles(self.latencies)}


@dataclass
class Tally:
    """The counts of the outcomes added so far: overall, per revision, and the generator's lateness."""

    all: _Group = field(default_factory=_Group)
    revisions: dict[str | None, _Group] = field(default_factory=dict)
    late: int = 0
    max_lag: float = 0.0

    def add(self, outcomes: Iterable[Outcome]) -> None:
        for outcome in outcomes:
            self.all.add(outcome)
            self.revisions.setdefault(outcome.revision, _Group()).add(outcome)
            if outcome.lag > LATE_S:
                self.late += 1
            self.max_lag = max(self.max_lag, outcome.lag)

    @property
    def sent(self) -> int:
        return self.all.requests

    @property
    def errors(self) -> int:
        return sum(self.all.errors.values())

    @property
    def error_rate(self) -> float:
        return _ratio(self.errors, self.sent)

    def shares(self) -> list[tuple[str | None, float]]:
        """Each revision's share of the requests sent, largest first."""
        return [(name, _ratio(group.requests, self.sent)) for name, group in self._by_size()]

    def summary(self, planned: int) -> dict[str, Any]:
        """The JSON summary: totals, lateness, then one row per revision (revision None: no revision said)."""
        overall = self.all.to_json(self.sent)
        return {"planned": planned, "sent": self.sent, "unsent": planned - self.sent, "late": self.late,
                "late_after_ms": LATE_S * 1000, "max_lag_ms": round(self.max_lag * 1000, 2),
                "errors": overall["errors"], "error_rate": overall["error_rate"],
                "statuses": overall["statuses"], "latency_ms": overall["latency_ms"],
                "revisions": [{"revision": name, **group.to_json(self.sent)} for name, group in self._by_size()]}

    def _by_size(self) -> list[tuple[str | None, _Group]]:
        return sorted(self.revisions.items(), key=lambda item: (-item[1].requests, item[0] is None, item[0] or ""))


def summarise(load: Load) -> dict[str, Any]:
    """The summary of a finished run."""
    tally = Tally()
    tally.add(load.outcomes)
    return tally.summary(load.planned)


def _ratio(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0
