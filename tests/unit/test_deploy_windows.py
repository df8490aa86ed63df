"""Deploy windows: the arithmetic (inside, outside, next opening, midnight, daylight saving) and the
config's messages for a window that cannot be."""
from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import config_problems, load_config_text
from shipline.config import DAYS, DeployWindow
from shipline.deployment.windows import is_open, next_opening

UTC = dt.timezone.utc
BERLIN = "Europe/Berlin"
OFFICE = DeployWindow(days=["mon", "tue", "wed", "thu", "fri"], hours="09:00-17:00", timezone=BERLIN)
NIGHT = DeployWindow(days=["fri"], hours="22:00-02:00", timezone=BERLIN)   # Friday 22:00 to Saturday 02:00


def berlin(*args: int, fold: int = 0) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime(*args, tzinfo=ZoneInfo(BERLIN), fold=fold)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


# 2026-12-02 is a Wednesday; 2026-12-04 a Friday.
@pytest.mark.parametrize(("now", "inside"), [
    (berlin(2026, 12, 2, 10, 0), True),
    (berlin(2026, 12, 2, 9, 0), True),              # the start is inside
    (berlin(2026, 12, 2, 8, 59, 59), False),
    (berlin(2026, 12, 2, 17, 0), False),            # the end is outside
    (berlin(2026, 12, 5, 10, 0), False),            # Saturday
    (utc(2026, 12, 2, 8, 30), True),                # 09:30 in Berlin (CET, +01:00)
    (utc(2026, 12, 2, 16, 30), False),              # 17:30 in Berlin
])
def test_inside_and_outside_by_the_windows_wall_clock(now: dt.datetime, inside: bool) -> None:
    assert is_open([OFFICE], now) is inside


def test_no_window_is_always_open() -> None:
    assert is_open([], utc(2026, 12, 5, 3, 0))
    assert next_opening([], utc(2026, 12, 5, 3, 0)) is None


def test_next_opening_after_the_weekend_in_the_windows_zone() -> None:
    opening = next_opening([OFFICE], berlin(2026, 12, 4, 18, 0))
    assert opening.at == berlin(2026, 12, 7, 9, 0) and opening.at.tzinfo.key == BERLIN
    assert opening.window is OFFICE


def test_next_opening_later_today_and_now_when_open() -> None:
    assert next_opening([OFFICE], berlin(2026, 12, 2, 7, 15)).at == berlin(2026, 12, 2, 9, 0)
    now = berlin(2026, 12, 2, 11, 0)
    assert next_opening([OFFICE], now).at == now


@pytest.mark.parametrize(("now", "inside"), [
    (berlin(2026, 12, 4, 23, 0), True),             # Friday night
    (berlin(2026, 12, 5, 0, 0), True),              # midnight: Saturday, still Friday's window
    (berlin(2026, 12, 5, 1, 59), True),
    (berlin(2026, 12, 5, 2, 0), False),             # its end on Saturday
    (berlin(2026, 12, 4, 21, 59), False),
    (berlin(2026, 12, 3, 23, 0), False),            # Thursday night: Thursday is not listed
    (berlin(2026, 12, 4, 1, 0), False),             # Friday 01:00 belongs to Thursday's window
    (berlin(2026, 12, 5, 23, 0), False),            # Saturday night
])
def test_a_window_crossing_midnight_belongs_to_the_day_it_opens(now: dt.datetime, inside: bool) -> None:
    assert is_open([NIGHT], now) is inside


def test_a_sunday_night_window_crosses_into_monday() -> None:
    window = DeployWindow(days=["sun"], hours="23:00-01:00", timezone="UTC")
    assert is_open([window], utc(2026, 12, 7, 0, 30))        # Monday 00:30
    assert next_opening([window], utc(2026, 12, 7, 1, 0)).at == utc(2026, 12, 13, 23, 0)


def test_whole_days_and_a_window_ending_at_midnight() -> None:
    whole = DeployWindow(days=["sat"], hours="00:00-24:00", timezone="UTC")
    late = DeployWindow(days=["sat"], hours="22:00-00:00", timezone="UTC")
    assert is_open([whole], utc(2026, 12, 5, 0, 0)) and is_open([whole], utc(2026, 12, 5, 23, 59))
    assert not is_open([whole], utc(2026, 12, 6, 0, 0))
    assert is_open([late], utc(2026, 12, 5, 23, 59)) and not is_open([late], utc(2026, 12, 6, 0, 0))


# Berlin's clocks go forward on 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST) and back on 2026-10-25
# at 01:00 UTC (03:00 CEST -> 02:00 CET).
def test_a_window_opening_in_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    window = DeployWindow(days=["sun"], hours="02:30-04:00", timezone=BERLIN)
    opening = next_opening([window], utc(2026, 3, 28, 12, 0))
    assert opening.at == utc(2026, 3, 29, 1, 0) and opening.at.hour == 3


def test_a_window_inside_the_skipped_hour_does_not_open_that_day() -> None:
    window = DeployWindow(days=["sun"], hours="02:00-02:30", timezone=BERLIN)
    assert next_opening([window], utc(2026, 3, 28, 12, 0)).at == berlin(2026, 4, 5, 2, 0)


def test_the_repeated_hour_is_inside_a_window_twice() -> None:
    window = DeployWindow(days=["sun"], hours="02:15-02:45", timezone=BERLIN)
    assert is_open([window], utc(2026, 10, 25, 0, 20))       # 02:20 CEST
    assert not is_open([window], utc(2026, 10, 25, 0, 50))   # 02:50 CEST
    assert is_open([window], utc(2026, 10, 25, 1, 20))       # 02:20 CET, an hour later
    opening = next_opening([window], utc(2026, 10, 25, 0, 50)).at
    # (== between zones is False for a time in a repeated hour: compare in UTC)
    assert opening.astimezone(UTC) == utc(2026, 10, 25, 1, 15) and (opening.hour, opening.fold) == (2, 1)


def test_the_clock_going_back_into_a_window_reopens_it() -> None:
    window = DeployWindow(days=["sun"], hours="01:00-02:30", timezone=BERLIN)
    assert not is_open([window], utc(2026, 10, 25, 0, 35))   # 02:35 CEST: closed
    opening = next_opening([window], utc(2026, 10, 25, 0, 35)).at
    assert opening.astimezone(UTC) == utc(2026, 10, 25, 1, 0) and (opening.hour, opening.fold) == (2, 1)


def test_the_earliest_of_several_windows_in_their_own_zones() -> None:
    new_york = DeployWindow(days=["mon"], hours="09:00-10:00", timezone="America/New_York")
    tokyo = DeployWindow(days=["mon"], hours="09:00-10:00", timezone="Asia/Tokyo")
    opening = next_opening([new_york, tokyo], utc(2026, 12, 6, 12, 0))    # Sunday noon UTC
    assert opening.window is tokyo and opening.at == utc(2026, 12, 7, 0, 0)
    assert next_opening([new_york, tokyo], utc(2026, 12, 7, 1, 0)).window is new_york


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        is_open([OFFICE], dt.datetime(2026, 12, 2, 10, 0))


# --- properties ---------------------------------------------------------------------------------------
ZONES = ["UTC", BERLIN, "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
         "America/Santiago"]


@st.composite
def windows(draw: st.DrawFn) -> DeployWindow:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(0, 1440).filter(lambda minute: minute != start))
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=7, unique=True))
    return DeployWindow(days=days, hours=f"{start // 60:02}:{start % 60:02}-{end // 60:02}:{end % 60:02}",
                        timezone=draw(st.sampled_from(ZONES)))


# every zone's daylight-saving changes of 2026 and 2027 are within reach, to the second
moments = st.datetimes(dt.datetime(2026, 1, 1), dt.datetime(2027, 12, 31), timezones=st.just(UTC))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(window=windows(), now=moments)
def test_the_next_opening_is_the_first_open_minute(window: DeployWindow, now: dt.datetime) -> None:
    opening = next_opening([window], now)
    assert opening is not None and opening.at >= now and is_open([window], opening.at)
    assert (opening.at.astimezone(UTC) == now) is is_open([window], now)
    minute = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    while minute < opening.at:
        assert not is_open([window], minute), minute
        minute += dt.timedelta(minutes=1)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(window=windows(), now=moments)
def test_a_window_crossing_midnight_is_its_evening_and_the_next_mornings(window: DeployWindow,
                                                                        now: dt.datetime) -> None:
    if window.end > window.start:
        return
    evening = DeployWindow(days=window.days, hours=f"{window.hours[:5]}-24:00", timezone=window.timezone)
    following = [DAYS[(DAYS.index(day) + 1) % 7] for day in window.days]
    morning = [DeployWindow(days=following, hours=f"00:00-{window.hours[6:]}", timezone=window.timezone)
               ] if window.end else []
    assert is_open([window], now) is is_open([evening, *morning], now)


# --- the config's messages ----------------------------------------------------------------------------
CONFIG = """\
version: 1
service: web
region: eu-west-1
image: {repository: team/web}
task_definition: {template: taskdef.json.j2}
environments:
  staging: {}
  production:
    deploy:
      windows:
        - {days: [mon, tue], hours: "09:00-17:00", timezone: Europe/Berlin}
        - WINDOW
"""


def load(tmp_path: Path, window: str):
    return load_config_text(tmp_path, textwrap.dedent(CONFIG).replace("WINDOW", window))


@pytest.mark.parametrize(("window", "field", "message"), [
    ('{days: [monday], hours: "09:00-17:00", timezone: UTC}', "days[0]",
     "'monday' is not a day: use mon, tue, wed, thu, fri, sat, sun"),
    ('{days: [], hours: "09:00-17:00", timezone: UTC}', "days", "at least 1 item"),
    ('{days: [mon], hours: "9-17", timezone: UTC}', "hours", "'9-17' is not a span of hours: write HH:MM-HH:MM"),
    ('{days: [mon], hours: "09:00-25:00", timezone: UTC}', "hours", "24:00 only as an end"),
    ('{days: [mon], hours: "24:00-02:00", timezone: UTC}', "hours", "24:00 only as an end"),
    ('{days: [mon], hours: "09:60-17:00", timezone: UTC}', "hours", "minutes 00-59"),
    ('{days: [mon], hours: "09:00-09:00", timezone: UTC}', "hours", "'09:00-09:00' is empty"),
    ('{days: [mon], hours: "09:00-17:00", timezone: Europe/Berln}', "timezone",
     "unknown time zone 'Europe/Berln': use an IANA name such as Europe/Berlin or UTC"),
    ('{days: [mon], hours: "09:00-17:00", timezone: ../../etc/passwd}', "timezone", "unknown time zone"),
    ('{days: [mon], hours: "09:00-17:00"}', "timezone", "required field is missing"),
])
def test_a_window_that_cannot_be_is_named_with_its_path_and_line(tmp_path: Path, window: str, field: str,
                                                                 message: str) -> None:
    found = config_problems(tmp_path, textwrap.dedent(CONFIG).replace("WINDOW", window))
    assert len(found) == 1, found
    path, line, text = found[0]
    assert path == f"environments.production.deploy.windows[1].{field}" and line == 12 and message in text, found


def test_windows_are_per_environment_and_none_by_default(tmp_path: Path) -> None:
    config = load(tmp_path, '{days: [sat], hours: "22:00-02:00", timezone: UTC}').config
    assert config.environment("staging").deploy.windows == []
    windows = config.environment("production").deploy.windows
    assert [(w.days, w.start, w.end) for w in windows] == [(["mon", "tue"], 540, 1020), (["sat"], 1320, 120)]
