"""Policy logic: local clocks across DST, quiet hours, frequency caps (sliding, calendar, lagging counters)."""

from __future__ import annotations

import math
import tracemalloc
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine.policies import CapCounters, LocalClock, QuietHoursRule
from simulator.scenario.model import FrequencyCap, QuietHours

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
ZONES = ["America/New_York", "Europe/London", "Asia/Tokyo", "UTC"]
NY, LON, TYO, UTC = range(4)
H = 3600.0
D = 86400.0


def sim(iso: str) -> float:
    """Simulation seconds (after START) of an ISO UTC time."""
    return (datetime.fromisoformat(iso.replace("Z", "+00:00")) - START).total_seconds()


def day(y: int, m: int, d: int) -> int:
    return date(y, m, d).toordinal()


@pytest.fixture
def clock() -> LocalClock:
    return LocalClock(START, ZONES)


def night(channels: list[str] | None = None, action: str = "hold", frm: str = "21:00", to: str = "08:00") -> QuietHours:
    data: dict = {"from": frm, "to": to, "action": action}
    if channels is not None:
        data["channels"] = channels
    return QuietHours(**data)


def cap(channel: str, mx: int, per: str, window: str = "sliding") -> FrequencyCap:
    return FrequencyCap(channel=channel, max=mx, per=per, window=window)


# --------------------------------------------------------------------------- LocalClock


def test_local_winter_conversions(clock: LocalClock) -> None:
    """2026-12-01 00:00 UTC is 19:00 EST on Nov 30 in New York and 09:00 on Dec 1 in Tokyo."""
    t = sim("2026-12-01T00:00:00Z")
    assert clock.local(t, NY) == datetime(2026, 11, 30, 19, 0, tzinfo=ZoneInfo("America/New_York"))
    assert clock.local(t, NY).utcoffset() == timedelta(hours=-5)
    assert clock.local_day(t, NY) == day(2026, 11, 30)
    assert clock.seconds_of_day(t, NY) == 19 * H
    assert clock.local_day(t, TYO) == day(2026, 12, 1)
    assert clock.seconds_of_day(t, TYO) == 9 * H
    assert clock.seconds_of_day(t, UTC) == 0.0


def test_spring_forward_skips_an_hour(clock: LocalClock) -> None:
    """New York jumps from 01:59:59 EST to 03:00:00 EDT at 2026-03-08 07:00 UTC."""
    t = sim("2026-03-08T06:59:59Z")
    assert clock.seconds_of_day(t, NY) == 7199.0
    assert clock.seconds_of_day(t + 1, NY) == 3 * H
    assert clock.local(t + 1, NY).utcoffset() == timedelta(hours=-4)
    assert clock.local_day(sim("2026-03-08T03:30:00Z"), NY) == day(2026, 3, 7)  # 22:30 EST


def test_fall_back_repeats_an_hour(clock: LocalClock) -> None:
    """01:30 happens twice in New York on 2026-11-01: at 05:30 UTC (EDT) and 06:30 UTC (EST)."""
    assert clock.seconds_of_day(sim("2026-11-01T05:30:00Z"), NY) == 1.5 * H
    assert clock.seconds_of_day(sim("2026-11-01T06:30:00Z"), NY) == 1.5 * H
    assert clock.local(sim("2026-11-01T06:30:00Z"), NY).utcoffset() == timedelta(hours=-5)


def test_at_local_normal_gap_and_ambiguous(clock: LocalClock) -> None:
    """at_local: plain times, skipped times -> the instant after the gap, repeated times -> first occurrence."""
    assert clock.at_local(day(2026, 7, 1), 8 * 3600, NY) == sim("2026-07-01T12:00:00Z")
    assert clock.at_local(day(2026, 12, 1), 8 * 3600, NY) == sim("2026-12-01T13:00:00Z")
    assert clock.at_local(day(2026, 3, 8), 9000, NY) == sim("2026-03-08T07:00:00Z")  # 02:30 -> 03:00 EDT
    assert clock.at_local(day(2026, 11, 1), 5400, NY) == sim("2026-11-01T05:30:00Z")  # 01:30 EDT
    assert clock.at_local(day(2026, 3, 29), 5400, LON) == sim("2026-03-29T01:00:00Z")  # 01:30 -> 02:00 BST
    assert clock.at_local(day(2026, 7, 1), 0, LON) == sim("2026-06-30T23:00:00Z")
    assert clock.at_local(day(2026, 12, 2), 0, TYO) == sim("2026-12-01T15:00:00Z")


def test_clock_matches_zoneinfo_all_year(clock: LocalClock) -> None:
    """Every 20 minutes of 2026 in every zone agrees with zoneinfo, and at_local inverts it (except repeats)."""
    for zone, name in enumerate(ZONES):
        zi = ZoneInfo(name)
        for step in range(0, 365 * 72):
            t = step * 1200.0 + 7.0
            expect = (START + timedelta(seconds=t)).astimezone(zi)
            assert clock.local(t, zone) == expect
            assert clock.local_day(t, zone) == expect.date().toordinal()
            sod = expect.hour * 3600 + expect.minute * 60 + expect.second
            assert clock.seconds_of_day(t, zone) == sod
            if expect.fold == 0:  # the second occurrence of a repeated wall time maps to the first
                assert clock.at_local(expect.date().toordinal(), sod, zone) == t


def test_naive_start_rejected() -> None:
    """A naive start datetime is an error."""
    with pytest.raises(ValueError, match="aware"):
        LocalClock(datetime(2026, 1, 1), ZONES)


# --------------------------------------------------------------------------- quiet hours


def test_quiet_hours_winter_new_york(clock: LocalClock) -> None:
    """SMS decided at 22:00 New York on 2026-12-01 is held until 2026-12-02 13:00 UTC (08:00 EST)."""
    rule = QuietHoursRule(night(), clock)
    assert rule.window_end(sim("2026-12-02T03:00:00Z"), NY, "sms") == sim("2026-12-02T13:00:00Z")
    assert rule.window_end(sim("2026-12-02T07:00:00Z"), NY, "sms") == sim("2026-12-02T13:00:00Z")  # 02:00 EST


def test_quiet_hours_summer_new_york(clock: LocalClock) -> None:
    """SMS decided at 22:00 New York on 2026-07-01 is held until 2026-07-02 12:00 UTC (08:00 EDT)."""
    rule = QuietHoursRule(night(), clock)
    assert rule.window_end(sim("2026-07-02T02:00:00Z"), NY, "sms") == sim("2026-07-02T12:00:00Z")


def test_quiet_hours_fall_back_night(clock: LocalClock) -> None:
    """22:00 EDT on 2026-10-31 ends at 08:00 EST on 2026-11-01 = 13:00 UTC (an 11-hour night)."""
    rule = QuietHoursRule(night(), clock)
    assert rule.window_end(sim("2026-11-01T02:00:00Z"), NY, "sms") == sim("2026-11-01T13:00:00Z")
    assert rule.window_end(sim("2026-11-01T06:30:00Z"), NY, "sms") == sim("2026-11-01T13:00:00Z")  # 2nd 01:30


def test_quiet_hours_spring_forward_night(clock: LocalClock) -> None:
    """22:00 EST on 2026-03-07 ends at 08:00 EDT on 2026-03-08 = 12:00 UTC (a 9-hour night)."""
    rule = QuietHoursRule(night(), clock)
    assert rule.window_end(sim("2026-03-08T03:00:00Z"), NY, "sms") == sim("2026-03-08T12:00:00Z")


def test_quiet_hours_end_inside_the_gap(clock: LocalClock) -> None:
    """A window 01:00-02:30 on the spring-forward night ends at 03:00 EDT = 07:00 UTC (02:30 never happens)."""
    rule = QuietHoursRule(night(frm="01:00", to="02:30"), clock)
    assert rule.window_end(sim("2026-03-08T06:30:00Z"), NY, "sms") == sim("2026-03-08T07:00:00Z")


def test_quiet_hours_london_vs_new_york_in_march(clock: LocalClock) -> None:
    """Mar 8-29 2026 the US has changed and the UK has not: London and New York mornings are 4 hours apart."""
    rule = QuietHoursRule(night(), clock)
    t = sim("2026-03-20T21:30:00Z")  # 21:30 GMT in London, 17:30 EDT in New York
    assert rule.window_end(t, LON, "sms") == sim("2026-03-21T08:00:00Z")
    assert rule.window_end(t, NY, "sms") is None
    ny_end = rule.window_end(sim("2026-03-21T02:00:00Z"), NY, "sms")  # 22:00 EDT
    assert ny_end == sim("2026-03-21T12:00:00Z")
    assert ny_end - rule.window_end(t, LON, "sms") == 4 * H
    winter = rule.window_end(sim("2026-12-02T03:00:00Z"), NY, "sms") - rule.window_end(
        sim("2026-12-01T21:30:00Z"), LON, "sms")
    assert winter == 5 * H


def test_quiet_hours_non_wrapping_window(clock: LocalClock) -> None:
    """A 12:00-14:00 window in Tokyo: 12:00 and 13:59:59 are inside (ending 05:00 UTC), 11:59:59 and 14:00 not."""
    rule = QuietHoursRule(night(frm="12:00", to="14:00"), clock)
    assert rule.window_end(sim("2026-12-01T03:00:00Z"), TYO, "sms") == sim("2026-12-01T05:00:00Z")
    assert rule.window_end(sim("2026-12-01T04:59:59Z"), TYO, "sms") == sim("2026-12-01T05:00:00Z")
    assert rule.window_end(sim("2026-12-01T02:59:59Z"), TYO, "sms") is None
    assert rule.window_end(sim("2026-12-01T05:00:00Z"), TYO, "sms") is None


def test_quiet_hours_boundaries(clock: LocalClock) -> None:
    """Exactly at `from` (21:00) is inside; exactly at `to` (08:00) is outside."""
    rule = QuietHoursRule(night(), clock)
    assert rule.window_end(sim("2026-12-02T02:00:00Z"), NY, "sms") == sim("2026-12-02T13:00:00Z")  # 21:00
    assert rule.window_end(sim("2026-12-02T01:59:59Z"), NY, "sms") is None  # 20:59:59
    assert rule.window_end(sim("2026-12-02T12:59:59Z"), NY, "sms") == sim("2026-12-02T13:00:00Z")
    assert rule.window_end(sim("2026-12-02T13:00:00Z"), NY, "sms") is None  # 08:00
    assert rule.inside(sim("2026-12-02T02:00:00Z"), NY, "sms")


def test_quiet_hours_channel_filter_and_action(clock: LocalClock) -> None:
    """Only the listed channels are held; no rule means nothing is quiet; the action is passed through."""
    rule = QuietHoursRule(night(action="drop"), clock)
    t = sim("2026-12-02T03:00:00Z")
    assert rule.applies("sms") and rule.applies("push") and not rule.applies("email")
    assert rule.window_end(t, NY, "email") is None
    assert rule.window_end(t, NY, "push") == sim("2026-12-02T13:00:00Z")
    assert rule.action == "drop"
    email_only = QuietHoursRule(night(channels=["email"]), clock)
    assert email_only.window_end(t, NY, "sms") is None and email_only.window_end(t, NY, "email") is not None
    none = QuietHoursRule(None, clock)
    assert not none.applies("sms") and none.window_end(t, NY, "sms") is None and none.action == "hold"


# --------------------------------------------------------------------------- frequency caps

T0 = sim("2026-12-01T00:00:00Z")


def test_sliding_daily_cap(clock: LocalClock) -> None:
    """Max 1 per 1d: a second send 10h later is blocked until exactly 24h after the first; 25h later it is allowed."""
    counters = CapCounters([cap("any", 1, "1d")], clock)
    assert counters.blocking(7, "email", T0, NY) is None
    counters.record(7, "email", T0)
    assert counters.blocking(7, "email", T0 + 10 * H, NY) == (0, T0 + D)
    assert counters.blocking(7, "email", T0 + D - 0.001, NY) == (0, T0 + D)
    assert counters.blocking(7, "email", T0 + D, NY) is None
    assert counters.blocking(7, "email", T0 + 25 * H, NY) is None
    assert counters.blocking(8, "email", T0 + 10 * H, NY) is None


def test_any_cap_counts_all_channels(clock: LocalClock) -> None:
    """A cap on 'any' counts email and SMS together; a per-channel cap counts only its channel."""
    counters = CapCounters([cap("any", 2, "1d"), cap("sms", 1, "7d")], clock)
    counters.record(1, "email", T0)
    counters.record(1, "sms", T0 + H)
    assert counters.blocking(1, "push", T0 + 2 * H, NY) == (0, T0 + D)
    assert counters.blocking(1, "sms", T0 + 2 * H, NY) == (0, T0 + D)
    assert counters.blocking(1, "sms", T0 + 25 * H, NY) == (1, T0 + H + 7 * D)
    assert counters.blocking(1, "email", T0 + 25 * H, NY) is None
    assert counters.count(1, None, T0 + 2 * H, 0, NY) == 2
    assert counters.count(1, "sms", T0 + 2 * H, 0, NY) == 1
    assert counters.count(1, None, T0 + 2 * H, 1, NY) == 1
    assert counters.count(1, "email", T0 + 2 * H, 1, NY) == 0
    only_sms = CapCounters([cap("sms", 1, "1d")], clock)
    only_sms.record(2, "email", T0)
    assert only_sms.blocking(2, "sms", T0 + H, NY) is None


def test_calendar_day_cap_in_tokyo(clock: LocalClock) -> None:
    """Max 1 per Tokyo calendar day: 23:00 and 01:00 JST are different days; release is the next Tokyo midnight."""
    counters = CapCounters([cap("any", 1, "1d", "calendar")], clock)
    first, second = sim("2026-12-01T14:00:00Z"), sim("2026-12-01T16:00:00Z")
    assert counters.blocking(3, "email", first, TYO) is None
    counters.record(3, "email", first)
    assert counters.blocking(3, "email", second, TYO) is None
    counters.record(3, "email", second)
    assert counters.blocking(3, "email", sim("2026-12-01T18:00:00Z"), TYO) == (0, sim("2026-12-02T15:00:00Z"))
    assert counters.count(3, None, sim("2026-12-01T18:00:00Z"), 0, TYO) == 1
    assert counters.count(3, None, sim("2026-12-01T18:00:00Z"), 0, NY) == 2  # both on Dec 1 in New York
    sliding = CapCounters([cap("any", 1, "1d")], clock)
    sliding.record(3, "email", first)
    assert sliding.blocking(3, "email", second, TYO) == (0, sim("2026-12-02T14:00:00Z"))


def test_calendar_two_day_cap_release(clock: LocalClock) -> None:
    """Max 1 per 2 calendar days: a send on Dec 1 (JST) blocks until Tokyo midnight starting Dec 3."""
    counters = CapCounters([cap("any", 1, "2d", "calendar")], clock)
    counters.record(4, "sms", sim("2026-12-01T14:00:00Z"))
    assert counters.blocking(4, "sms", sim("2026-12-01T16:00:00Z"), TYO) == (0, sim("2026-12-02T15:00:00Z"))


def test_calendar_release_at_dst_midnights(clock: LocalClock) -> None:
    """New York midnight is 04:00 UTC on 2026-11-01 (EDT) and 05:00 UTC on 2026-11-02 (EST)."""
    counters = CapCounters([cap("email", 1, "1d", "calendar")], clock)
    counters.record(5, "email", sim("2026-11-01T00:00:00Z"))  # 20:00 EDT Oct 31
    assert counters.blocking(5, "email", sim("2026-11-01T01:00:00Z"), NY) == (0, sim("2026-11-01T04:00:00Z"))
    counters.record(6, "email", sim("2026-11-02T01:00:00Z"))  # 20:00 EST Nov 1
    assert counters.blocking(6, "email", sim("2026-11-02T02:00:00Z"), NY) == (0, sim("2026-11-02T05:00:00Z"))


def test_counter_lag_lets_caps_break(clock: LocalClock) -> None:
    """With a 1h counter lag, a second send 30 min after the first is allowed; at 2h it is blocked."""
    counters = CapCounters([cap("any", 1, "1d")], clock, counter_lag=H)
    counters.record(9, "sms", T0)
    assert counters.blocking(9, "sms", T0 + 1800, NY) is None
    assert counters.blocking(9, "sms", T0 + H, NY) == (0, T0 + D)  # exactly 1h old: now counted
    assert counters.blocking(9, "sms", T0 + 2 * H, NY) == (0, T0 + D)
    counters.record(9, "sms", T0 + 1800)  # the engine sent it: the cap is broken
    assert counters.count(9, None, T0 + 2 * H, 0, NY) == 2
    assert counters.blocking(9, "sms", T0 + 2 * H, NY) == (0, T0 + 1800 + D)


def unchecked_cap(channel: str, mx: int, per: float, window: str = "sliding") -> FrequencyCap:
    """A cap that skips the model's own validation, to test CapCounters' defence in depth."""
    return FrequencyCap.model_construct(channel=channel, max=mx, per=per, window=window)


def test_cap_errors(clock: LocalClock) -> None:
    """A calendar cap of 36h and a zero-length cap are errors, in the model and in CapCounters."""
    with pytest.raises(ValueError, match="whole local days"):
        cap("any", 1, "36h", "calendar")
    with pytest.raises(ValueError, match=r"frequency_caps\[1\].per: .*whole number of days.*1d12h"):
        CapCounters([cap("any", 1, "1d"), unchecked_cap("any", 1, 36 * 3600.0, "calendar")], clock)
    with pytest.raises(ValueError, match="longer than 0s"):
        CapCounters([unchecked_cap("any", 1, 0.0)], clock)
    with pytest.raises(ValueError, match="cap_counter_lag"):
        CapCounters([], clock, counter_lag=-1)


def test_zero_max_blocks_forever(clock: LocalClock) -> None:
    """A cap with max 0 blocks even a customer never sent anything, with no release time."""
    counters = CapCounters([cap("push", 0, "1d")], clock)
    assert counters.blocking(1, "push", T0, NY) == (0, math.inf)
    assert counters.blocking(1, "email", T0, NY) is None


def test_memory_is_compact_and_trimmed(clock: LocalClock) -> None:
    """Unsent customers cost nothing; 3 sends cost < 200 bytes a customer; histories trim to the longest window."""
    counters = CapCounters([cap("any", 3, "1d"), cap("sms", 2, "7d")], clock)
    for c in range(1000):
        counters.blocking(c, "sms", T0, NY)
    assert counters._history == {}
    n = 50_000
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for k in range(3):
        for c in range(1000, 1000 + n):
            counters.record(c, ("email", "sms", "push")[k], T0 + k * H)
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert used / n < 200
    for k in range(100):
        counters.record(1, "sms", T0 + k * D)
    assert len(counters._history[1]) // 9 == 7  # sends in the last 7 days only


# --------------------------------------------------------------------------- property

_caps = st.one_of(
    st.builds(lambda ch, mx, per: FrequencyCap(channel=ch, max=mx, per=per),
              st.sampled_from(["any", "email", "sms"]), st.integers(0, 3), st.sampled_from([1800, H, 6 * H, D, 3 * D])),
    st.builds(lambda ch, mx, per: FrequencyCap(channel=ch, max=mx, per=per, window="calendar"),
              st.sampled_from(["any", "email", "sms"]), st.integers(0, 3), st.sampled_from([D, 2 * D])),
)
_sends = st.lists(st.tuples(st.one_of(st.integers(0, 2 * 86400), st.floats(0, 2 * D)),
                            st.sampled_from(["email", "sms", "push"])), max_size=40)


@settings(max_examples=300, deadline=None)
@given(caps=st.lists(_caps, min_size=1, max_size=3), sends=_sends, zone=st.sampled_from(range(4)),
       base=st.sampled_from(["2026-03-06T00:00:00Z", "2026-10-30T12:00:00Z", "2026-12-01T00:00:00Z"]))
def test_enforced_caps_never_exceeded(caps: list[FrequencyCap], sends: list, zone: int, base: str) -> None:
    """Recording only sends that `blocking` allows (lag 0) never puts more than max sends in any cap's window."""
    clock = LocalClock(START, ZONES)
    counters = CapCounters(caps, clock)
    t, accepted = sim(base), []
    for gap, channel in sends:
        t += gap
        verdict = counters.blocking(0, channel, t, zone)
        if verdict is None:
            counters.record(0, channel, t)
            accepted.append((t, channel))
            continue
        index, release = verdict
        assert release > t
        if math.isfinite(release):
            assert counters.count(0, None, release, index, zone) < caps[index].max
            if release - 0.001 >= t:
                assert counters.count(0, None, release - 0.001, index, zone) >= caps[index].max
    zi = ZoneInfo(ZONES[zone])

    def local_date(s: float) -> int:
        return (START + timedelta(seconds=s)).astimezone(zi).date().toordinal()

    for c in caps:
        counted = [(s, ch) for s, ch in accepted if c.channel in ("any", ch)]
        for end, _ in counted:
            if c.window == "sliding":
                inside = [s for s, _ in counted if s + c.per > end and s <= end]
            else:
                first = local_date(end) - int(c.per // D) + 1
                inside = [s for s, _ in counted if s <= end and local_date(s) >= first]
            assert len(inside) <= c.max
