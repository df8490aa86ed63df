"""Alarm state rules against the Amazon CloudWatch User Guide ("Configuring how CloudWatch alarms treat
missing data"): its tables give, for an evaluation range of 5 datapoints (oldest first; 0 not breaching,
X breaching, - missing), the state for each TreatMissingData. RETAIN: the current state stays."""
from __future__ import annotations

import pytest

from shipline.local.cloudwatch.alarm_rules import ALARM, INSUFFICIENT_DATA, OK, Decision, Rule, decide, reason

RETAIN = None
TREATMENTS = ("missing", "ignore", "breaching", "notBreaching")

# Datapoints to Alarm 3, Evaluation Periods 3
THREE_OF_THREE = [
    ("0 - X - X", (OK, OK, OK, OK)),
    ("0 - - - -", (OK, OK, OK, OK)),
    ("- - - - -", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("0 X X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("X - - - -", (ALARM, RETAIN, ALARM, OK)),
    ("- - X - -", (ALARM, RETAIN, ALARM, OK)),
]
# Datapoints to Alarm 2, Evaluation Periods 3
TWO_OF_THREE = [
    ("0 - X - X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 0 X 0 X", (ALARM, ALARM, ALARM, ALARM)),
    ("0 - X - -", (OK, OK, ALARM, OK)),
    ("- - - - 0", (OK, OK, ALARM, OK)),
    ("- - - - X", (INSUFFICIENT_DATA, RETAIN, ALARM, OK)),
    ("- - X - -", (ALARM, RETAIN, ALARM, OK)),
]


def points(row: str) -> list[float | None]:
    """A table row as values against a threshold of 1 (GreaterThanThreshold): X is 5, 0 is 0."""
    return [{"X": 5.0, "0": 0.0, "-": None}[cell] for cell in row.split()]


@pytest.mark.parametrize("row, states", THREE_OF_THREE)
def test_three_of_three(row: str, states: tuple) -> None:
    for treatment, state in zip(TREATMENTS, states):
        rule = Rule(3, 3, 1.0, "GreaterThanThreshold", treatment)
        assert decide(points(row), rule).state == state, (row, treatment)


@pytest.mark.parametrize("row, states", TWO_OF_THREE)
def test_two_of_three(row: str, states: tuple) -> None:
    for treatment, state in zip(TREATMENTS, states):
        rule = Rule(3, 2, 1.0, "GreaterThanThreshold", treatment)
        assert decide(points(row), rule).state == state, (row, treatment)


def test_the_evaluation_range_is_two_periods_more_than_the_evaluation_periods() -> None:
    assert Rule(3, 3, 1.0, "GreaterThanThreshold").evaluation_range == 5
    assert Rule(1, 1, 1.0, "GreaterThanThreshold").evaluation_range == 3


def test_with_enough_real_datapoints_the_most_recent_ones_decide_whatever_the_treatment() -> None:
    """1 of 1: the newest real datapoint decides, even when the newest period has none."""
    for treatment in TREATMENTS:
        rule = Rule(1, 1, 1.0, "GreaterThanThreshold", treatment)
        assert decide(points("0 X -"), rule).state == ALARM
        assert decide(points("X 0 -"), rule).state == OK


@pytest.mark.parametrize("comparison, breaching, calm", [
    ("GreaterThanThreshold", 1.5, 1.0), ("GreaterThanOrEqualToThreshold", 1.0, 0.5),
    ("LessThanThreshold", 0.5, 1.0), ("LessThanOrEqualToThreshold", 1.0, 1.5)])
def test_comparison_operators_compare_the_datapoint_with_the_threshold(comparison: str, breaching: float,
                                                                       calm: float) -> None:
    rule = Rule(1, 1, 1.0, comparison)
    assert decide([None, None, breaching], rule).state == ALARM
    assert decide([None, None, calm], rule).state == OK


def test_reasons_say_what_crossed_in_cloudwatch_words() -> None:
    rule = Rule(3, 2, 1.0, "GreaterThanThreshold", "notBreaching")
    row = points("0 0 X 0 X")
    stamps = [f"01/01/25 00:00:{s:02d}" for s in range(0, 50, 10)]
    text = reason(decide(row, rule), rule, row, stamps, OK)
    assert text == ("Threshold Crossed: 2 out of the last 3 datapoints [5.0 (01/01/25 00:00:40), 5.0 (01/01/25 "
                    "00:00:20)] were greater than the threshold (1.0) (minimum 2 datapoints for OK -> ALARM "
                    "transition).")
    nothing = points("- - - - -")
    assert reason(decide(nothing, rule), rule, nothing, stamps, ALARM) == (
        "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as "
        "[NonBreaching].")
    missing = Rule(1, 1, 5.0, "GreaterThanThreshold")
    assert reason(Decision(INSUFFICIENT_DATA, [], 0, 0), missing, [None] * 3, stamps[:3], OK) == (
        "Insufficient Data: 1 datapoint was unknown.")
    single = points("- - 0")
    assert reason(decide(single, missing), missing, single, stamps[:3], ALARM) == (
        "Threshold Crossed: 1 datapoint [0.0 (01/01/25 00:00:20)] was not greater than the threshold (5.0).")
