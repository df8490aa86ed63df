"""How a metric alarm's state follows its datapoints (Amazon CloudWatch User Guide, "Alarm evaluation",
"Configuring how CloudWatch alarms treat missing data"): pure decisions, no clock, no moto.

CloudWatch retrieves more datapoints than EvaluationPeriods (N), the evaluation range (here N + 2, as
in the guide's examples: 3 -> 5), oldest first:

- with N or more real datapoints in the range, the N most recent are evaluated; missing ones do not
  matter, whatever TreatMissingData says;
- with fewer, every real one is evaluated and the rest are filled in by TreatMissingData: `breaching`
  and `notBreaching` fill them as such; `missing` fills nothing (no real datapoint at all:
  INSUFFICIENT_DATA); `ignore` does the same but keeps the current state where `missing` would leave OK;
- ALARM when at least DatapointsToAlarm (M) of the evaluated datapoints breach (with `missing` and
  `ignore`, M of them or all the real ones when fewer), else OK;
- a premature ALARM is avoided: with `missing` (or `ignore`), a lone breaching datapoint that is the most
  recent one gives INSUFFICIENT_DATA (kept state) until more data says which way it goes.

The guide's two tables (3 of 3 and 2 of 3 with a range of 5) hold: tests/unit/test_alarm_rules.py.
"""
from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Callable

OK, ALARM, INSUFFICIENT_DATA = "OK", "ALARM", "INSUFFICIENT_DATA"
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")
COMPARISONS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    "GreaterThanOrEqualToThreshold": (operator.ge, "greater than or equal to"),
    "GreaterThanThreshold": (operator.gt, "greater than"),
    "LessThanThreshold": (operator.lt, "less than"),
    "LessThanOrEqualToThreshold": (operator.le, "less than or equal to"),
}


@dataclass(frozen=True)
class Rule:
    """What of an alarm decides its state."""

    evaluation_periods: int
    datapoints_to_alarm: int
    threshold: float
    comparison: str
    treat_missing: str = "missing"

    @property
    def evaluation_range(self) -> int:
        return self.evaluation_periods + 2

    def breaches(self, value: float) -> bool:
        return COMPARISONS[self.comparison][0](value, self.threshold)


@dataclass(frozen=True)
class Decision:
    state: str | None           # None: the current state stays (TreatMissingData `ignore`)
    evaluated: list[int]        # the positions in the range of the real datapoints evaluated
    breaching: int              # how many of the evaluated datapoints breach, filled ones included
    filled: int                 # missing datapoints filled in (as breaching or not, by TreatMissingData)


def decide(points: list[float | None], rule: Rule) -> Decision:
    """The state `points` (the evaluation range, oldest first, None where a period has no datapoint) put
    the alarm in."""
    n, m = rule.evaluation_periods, rule.datapoints_to_alarm
    real = [i for i, value in enumerate(points) if value is not None]
    breaching = [i for i in real if rule.breaches(points[i])]  # type: ignore[arg-type]
    if len(real) >= n:
        chosen = real[-n:]
        count = sum(1 for i in chosen if i in breaching)
        return Decision(ALARM if count >= m else OK, chosen, count, 0)
    missing = n - len(real)
    if rule.treat_missing == "breaching":
        count = len(breaching) + missing
        return Decision(ALARM if count >= m else OK, real, count, missing)
    if rule.treat_missing == "notBreaching":
        return Decision(ALARM if len(breaching) >= m else OK, real, len(breaching), missing)
    keep = None if rule.treat_missing == "ignore" else INSUFFICIENT_DATA
    if not real or (real == breaching == [len(points) - 1]):  # nothing, or a lone breaching newest point
        return Decision(keep, real, len(breaching), 0)
    state = ALARM if len(breaching) >= min(m, len(real)) else OK
    return Decision(None if state == ALARM and rule.treat_missing == "ignore" else state, real, len(breaching), 0)


def reason(decision: Decision, rule: Rule, points: list[float | None], stamps: list[str], previous: str) -> str:
    """The alarm's StateReason for a decision, in CloudWatch's words; `stamps` label the range's periods."""
    if decision.state == INSUFFICIENT_DATA:
        unknown = rule.evaluation_periods - len(decision.evaluated)
        return f"Insufficient Data: {_count(unknown, 'datapoint')} {'was' if unknown == 1 else 'were'} unknown."
    words = COMPARISONS[rule.comparison][1]
    shown = len(decision.evaluated)
    named = [i for i in reversed(decision.evaluated)  # newest first: the breaching ones for ALARM
             if decision.state != ALARM or rule.breaches(points[i])]  # type: ignore[arg-type]
    listed = ", ".join(f"{points[i]} ({stamps[i]})" for i in named)
    if not shown:
        text = f"Threshold Crossed: no datapoints were received for {_count(rule.evaluation_periods, 'period')}"
    elif decision.state == ALARM:
        head = (f"{decision.breaching} out of the last {rule.evaluation_periods} datapoints" if rule.evaluation_periods > 1
                else "1 datapoint")
        text = (f"Threshold Crossed: {head} [{listed}] {'was' if decision.breaching == 1 else 'were'} {words} the "
                f"threshold ({rule.threshold})")
        if rule.evaluation_periods > 1:
            text += f" (minimum {_count(rule.datapoints_to_alarm, 'datapoint')} for {previous} -> ALARM transition)"
    else:
        text = (f"Threshold Crossed: {_count(shown, 'datapoint')} [{listed}] {'was' if shown == 1 else 'were'} not "
                f"{words} the threshold ({rule.threshold})")
    if decision.filled:
        as_what = "Breaching" if rule.treat_missing == "breaching" else "NonBreaching"
        text += (f"{' and' if not shown else '.'} {_count(decision.filled, 'missing datapoint')} "
                 f"{'was' if decision.filled == 1 else 'were'} treated as [{as_what}]")
    return text + "."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
