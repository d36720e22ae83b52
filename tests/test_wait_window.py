"""`wait_window` steps: wait until a local clock is inside a window (or reads an instant).

Every time below was derived by hand from the scenario text before running (conventions of
tests/test_engine_rules.py: t in seconds after ``start``; scripted customers). 2026-01-05 is a
Monday; New York is UTC-5 in January; on 2026-03-08 New York's clocks jump from 02:00 EST to 03:00
EDT (07:00Z). A Hypothesis property compares :func:`next_open` with a minute-by-minute scan of the
local clock through ``zoneinfo`` (an independent statement of the rule).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_rules import GO, D, H, journey, person, rows, scenario, simulate, times

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.engine.policies import LocalClock
from simulator.scenario.load import load_scenario_text
from simulator.scenario.model import WEEKDAYS, WaitWindow
from simulator.engine.windows import next_open

MONDAY = "2026-01-05T00:00:00Z"
OFFICE = "{id: ww, wait_window: {from: '09:00', to: '17:00', days: [mon, tue, wed, thu, fri]}}\n{id: s, send: m}"


def sent_at(steps: str, *events: tuple[float, str], zone: str = "America/New_York", start: str = MONDAY,
            duration: str = "10d", exit_when: str | None = None) -> tuple[list[float], object]:
    sync = [GO] + (["  - {from: web, to: cdp, fields: [purchase]}"] if exit_when else [])
    text = scenario(start=start, duration=duration, sync=sync, journeys=journey(steps, exit_when=exit_when))
    _, ev = simulate(text, person(*events, zone=zone))
    return times(ev, "step", step="s"), ev


def test_outside_office_hours_waits_for_0900_local():
    """Go Mon 00:00Z = Sun 19:00 EST: the next weekday 09:00 EST is Mon 14:00Z (t 14h)."""
    assert sent_at(OFFICE, (0, "go"))[0] == [14 * H]


def test_inside_the_window_goes_on_at_once():
    """Go Mon 15:00Z = 10:00 EST: inside 09:00-17:00, so the send is at t 15h."""
    assert sent_at(OFFICE, (15 * H, "go"))[0] == [15 * H]


def test_at_the_closing_time_waits_for_the_next_weekday():
    """Go Fri 2026-01-09 22:00Z = 17:00 EST (``to`` is outside): Sat and Sun are not listed, so Mon
    2026-01-12 09:00 EST = 14:00Z, t = 7d 14h."""
    assert sent_at(OFFICE, (4 * D + 22 * H, "go"))[0] == [7 * D + 14 * H]


def test_a_window_over_midnight_opened_yesterday_is_still_open():
    """22:00-06:00 in UTC: go at 03:00 is inside (Sunday's window runs into Monday) -> 03:00; go at
    12:00 waits for 22:00."""
    steps = "{id: ww, wait_window: {from: '22:00', to: '06:00'}}\n{id: s, send: m}"
    assert sent_at(steps, (3 * H, "go"), zone="UTC")[0] == [3 * H]
    assert sent_at(steps, (12 * H, "go"), zone="UTC")[0] == [22 * H]


def test_a_day_names_the_start_of_a_window_over_midnight():
    """22:00-06:00 on Fridays only, UTC: Sat 03:00 is inside Friday's window; Sun 03:00 is not, and waits
    for the next Friday 22:00 (2026-01-16, t 11d 22h)."""
    steps = "{id: ww, wait_window: {from: '22:00', to: '06:00', days: [fri]}}\n{id: s, send: m}"
    assert sent_at(steps, (5 * D + 3 * H, "go"), zone="UTC", duration="14d")[0] == [5 * D + 3 * H]
    assert sent_at(steps, (6 * D + 3 * H, "go"), zone="UTC", duration="14d")[0] == [11 * D + 22 * H]


def test_at_an_instant_that_does_not_exist_is_the_first_valid_instant_after_it():
    """at 02:30 New York from Sat 2026-03-07 12:00Z (07:00 EST): 02:30 does not exist on Sun 03-08
    (02:00 EST -> 03:00 EDT at 07:00Z), so the customer goes on at 07:00Z, t = 19h."""
    steps = "{id: ww, wait_window: {at: '02:30'}}\n{id: s, send: m}"
    assert sent_at(steps, (0, "go"), start="2026-03-07T12:00:00Z", duration="3d")[0] == [19 * H]


def test_a_fixed_zone_ignores_the_customer_zone():
    """09:00-10:00 Europe/London (GMT in January) for a Tokyo customer: go Mon 00:00Z -> 09:00Z (t 9h).
    In the customer's own zone the same window is open at once (Mon 09:00 JST = 00:00Z)."""
    fixed = "{id: ww, wait_window: {from: '09:00', to: '10:00', zone: Europe/London}}\n{id: s, send: m}"
    own = "{id: ww, wait_window: {from: '09:00', to: '10:00'}}\n{id: s, send: m}"
    assert sent_at(fixed, (0, "go"), zone="Asia/Tokyo")[0] == [9 * H]
    assert sent_at(own, (0, "go"), zone="Asia/Tokyo")[0] == [0.0]


def test_after_waits_exit_is_checked_when_the_window_opens():
    """check: after_waits, purchase at 01:00Z while waiting for 09:00 EST (14:00Z): the customer exits
    at 14:00Z and is never sent the message."""
    steps, ev = sent_at(OFFICE, (0, "go"), (H, "purchase"), exit_when="{event: purchase, check: after_waits}")
    assert steps == []
    assert times(ev, "exit", journey="j") == [14 * H]


def test_a_customer_still_waiting_at_the_end_is_active_at_end_on_the_window():
    """Go Mon 00:00Z with a 10h run: 09:00 EST (14:00Z) is after the end."""
    text = scenario(start=MONDAY, duration="10h", journeys=journey(OFFICE))
    _, ev = simulate(text, person((0, "go"), zone="America/New_York"))
    end = rows(ev, "active-at-end")
    assert end["step"].tolist() == ["ww"] and end["field"].tolist() == ["wait"]


@pytest.mark.parametrize("window, words", [
    ("{from: '09:00', to: '09:00'}", "window is empty"),
    ("{from: '09:00'}", "needs 'from' and 'to'"),
    ("{at: '09:00', from: '08:00', to: '10:00'}", "not both"),
    ("{from: '09:00', to: '17:00', zone: America/New_Yrok}", "did you mean 'America/New_York'"),
    ("{from: '09:00', to: '17:00', days: [mon, mon]}", "listed twice"),
    ("{from: '09:00', to: '17:00', days: [monday]}", "days"),
    ("{from: '9am', to: '17:00'}", "from"),
])
def test_bad_windows_are_validation_errors(window, words):
    text = scenario(journeys=journey(f"{{id: ww, wait_window: {window}}}\n{{id: s, send: m}}"))
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "w.yaml")
    assert words in err.value.format()


def test_cli_validate_exits_2_on_a_bad_window(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text(scenario(journeys=journey("{id: ww, wait_window: {from: '09:00', to: '09:00'}}")))
    r = CliRunner().invoke(cli, ["validate", str(path)])
    assert r.exit_code == 2 and "wait_window" in r.output and "Traceback" not in r.output


# ---------------------------------------------------------------------------------------------------- property

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
ZONES = ["UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago"]


def brute_force(w: WaitWindow, zone: str, t: float) -> float:
    """Scan minute by minute through zoneinfo: the first minute at or after ``t`` that is open."""
    z = ZoneInfo(zone)
    days = set(range(7)) if w.days is None else {WEEKDAYS.index(d) for d in w.days}
    for m in range(0, 9 * 1440):
        x = t + 60 * m
        local = (START + timedelta(seconds=x)).astimezone(z)
        sod = local.hour * 3600 + local.minute * 60
        wd = local.weekday()
        lo, hi = w.from_, w.to
        if lo < hi:
            ok = wd in days and lo <= sod < hi
        else:
            ok = (wd in days and sod >= lo) or ((wd - 1) % 7 in days and sod < hi)
        if ok:
            return x
    raise AssertionError("no open minute in 9 days")


@settings(max_examples=60, deadline=None)
@given(zone=st.sampled_from(ZONES), lo=st.integers(0, 95), hi=st.integers(0, 95),
       days=st.none() | st.sets(st.sampled_from(WEEKDAYS), min_size=1), minute=st.integers(0, 366 * 1440))
def test_next_open_equals_a_minute_scan_of_the_local_clock(zone, lo, hi, days, minute):
    if lo == hi:
        hi = (hi + 1) % 96
    w = WaitWindow.model_validate({"from": f"{lo // 4:02d}:{lo % 4 * 15:02d}", "to": f"{hi // 4:02d}:{hi % 4 * 15:02d}",
                                   "days": sorted(days, key=WEEKDAYS.index) if days else None})
    clock = LocalClock(START, [zone])
    t = 60.0 * minute
    assert next_open(w, clock, 0, t) == brute_force(w, zone, t)


def test_a_misspelt_day_lists_the_days_without_stray_quotes():
    text = scenario(journeys=journey("{id: ww, wait_window: {from: '09:00', to: '17:00', days: [mon, tues]}}"))
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "w.yaml")
    assert ("invalid value 'tues': expected one of mon, tue, wed, thu, fri, sat, sun; did you mean 'tue'?"
            in err.value.format())
