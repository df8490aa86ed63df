"""A stability window that began before the run watching it: when it began, and the alarms since."""
from __future__ import annotations

import datetime as dt

from shipline.deployment.watch import _alarm_verdict, completed_at

BEGAN = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def _alarm(state: str, changed: dt.datetime) -> dict:
    return {"AlarmName": "web-5xx", "StateValue": state, "StateUpdatedTimestamp": changed}


def test_the_window_begins_at_ecss_completion_event_of_this_deployment_only() -> None:
    events = [{"message": "(service web) has reached a steady state.", "createdAt": BEGAN},
              {"message": "(service web) (deployment ecs-svc/2) deployment completed.", "createdAt": BEGAN},
              {"message": "(service web) (deployment ecs-svc/1) deployment completed.",
               "createdAt": BEGAN - dt.timedelta(hours=1)}]
    assert completed_at({"events": events}, "ecs-svc/1") == BEGAN - dt.timedelta(hours=1)
    assert completed_at({"events": events}, "ecs-svc/3") is None


def test_an_alarm_fails_the_window_in_alarm_or_when_its_history_went_to_alarm_since_the_window_began() -> None:
    before, after = BEGAN - dt.timedelta(minutes=5), BEGAN + dt.timedelta(seconds=10)
    asked: list[tuple] = []

    def history(went: bool):
        def went_to_alarm(name: str, since: dt.datetime, changed: dt.datetime) -> bool:
            asked.append((name, since, changed))
            return went
        return went_to_alarm

    assert _alarm_verdict([_alarm("OK", before)], BEGAN, history(True)) is None and asked == []  # unchanged
    firing = _alarm_verdict([_alarm("ALARM", before)], BEGAN, history(False))
    assert firing is not None and "went to ALARM" in firing.reason
    # INSUFFICIENT_DATA -> OK as traffic starts: a change, but never ALARM
    assert _alarm_verdict([_alarm("OK", after)], BEGAN, history(False)) is None
    assert asked == [("web-5xx", BEGAN, after)]
    cleared = _alarm_verdict([_alarm("OK", after)], BEGAN, history(True))  # ALARM, then OK between two looks
    assert cleared is not None and "has left it since" in cleared.reason
