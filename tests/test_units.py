"""Parsers of scalar scenario values: durations, times, clocks, throughputs, zones, shares."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.scenario.units import (
    DURATION_UNITS,
    did_you_mean,
    format_duration,
    parse_clock,
    parse_duration,
    parse_local_time,
    parse_percentage_or_probability,
    parse_throughput,
    parse_time,
    parse_timezone,
)

UTC = timezone.utc
NEW_YORK = ZoneInfo("America/New_York")


# ----------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90.0), ("30m", 1800.0), ("4h", 14400.0), ("2d", 172800.0), ("1w", 604800.0),
        ("1.5h", 5400.0), ("1h30m", 5400.0), ("2d12h", 216000.0), ("  45m ", 2700.0),
        ("1w2d3h4m5s", 788645.0), ("0s", 0.0), ("0.5s", 0.5), ("1h 30m", 5400.0), ("90", 90.0),
        (90, 90.0), (1.25, 1.25), (0, 0.0),
    ],
)
def test_parse_duration_values(text, seconds):
    """Each accepted duration spelling gives the hand-computed number of seconds."""
    assert parse_duration(text) == seconds
    assert isinstance(parse_duration(text), float)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("1hr", "did you mean '1h'?"), ("5min", "did you mean '5m'?"), ("2 hours", "did you mean '2h'?"),
        ("3days", "did you mean '3d'?"), ("10secs", "did you mean '10s'?"), ("1week", "did you mean '1w'?"),
        ("1h30min", "did you mean '1h30m'?"), ("2 day", "did you mean '2d'?"),
    ],
)
def test_parse_duration_suggests_the_unit(text, suggestion):
    """An unknown unit names the bad value, the accepted units and the likely fix."""
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    message = str(info.value)
    assert f"invalid duration '{text}'" in message
    assert "s, m, h, d or w" in message and "'90s'" in message
    assert suggestion in message


def test_parse_duration_message_matches_contract():
    """The message for '1hr' reads as the documented sentence."""
    with pytest.raises(ValueError) as info:
        parse_duration("1hr")
    assert str(info.value).startswith(
        "invalid duration '1hr': expected a number of seconds or a number with a unit s, m, h, d or w, "
        "such as '90s', '30m', '4h', '2d', '1w'"
    )


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (-5, "must not be negative"), ("-5m", "must not be negative"), (True, "invalid duration"),
        (False, "invalid duration"), (float("nan"), "invalid duration"), (float("inf"), "invalid duration"),
        ("", "empty"), ("   ", "empty"), ("h", "invalid duration"), ("1.5.2h", "invalid duration"),
        (None, "invalid duration"), ([1], "invalid duration"), ("1x", "'x' is not a unit"),
    ],
)
def test_parse_duration_rejects(value, fragment):
    """Negatives, bools, NaN/inf, empty strings and garbage are errors with a reason."""
    with pytest.raises(ValueError, match=None) as info:
        parse_duration(value)
    assert fragment in str(info.value)


def test_parse_duration_wants_units_largest_first_once():
    """'30m1h' and '1h1h' are errors that suggest the canonical spelling."""
    with pytest.raises(ValueError, match="did you mean '1h30m'"):
        parse_duration("30m1h")
    with pytest.raises(ValueError, match="did you mean '2h'"):
        parse_duration("1h1h")


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"), (90, "1m30s"), (3600, "1h"), (93600, "1d2h"), (0.5, "0.5s"), (604800, "1w"),
        (1209601.25, "2w1.25s"), (5400.0, "1h30m"), (60.05, "1m0.05s"), (0.001, "0.001s"),
        (0.0004, "0s"), (86399.999, "23h59m59.999s"),
    ],
)
def test_format_duration_canonical(seconds, text):
    """Seconds format to the compact canonical form, milliseconds kept."""
    assert format_duration(seconds) == text


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "5m"])
def test_format_duration_rejects(bad):
    """Only finite non-negative numbers can be formatted."""
    with pytest.raises(ValueError, match="cannot format"):
        format_duration(bad)


@given(st.integers(min_value=0, max_value=10**12))
def test_format_parse_round_trip_milliseconds(millis):
    """Any duration with millisecond resolution survives format then parse exactly."""
    seconds = millis / 1000
    assert parse_duration(format_duration(seconds)) == seconds


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_format_is_idempotent_on_floats(seconds):
    """Formatting any float, parsing and formatting again gives the same canonical text."""
    text = format_duration(seconds)
    assert format_duration(parse_duration(text)) == text
    assert abs(parse_duration(text) - seconds) <= 0.0005 + 1e-12 * seconds


@st.composite
def compound_durations(draw):
    """Random valid compound strings such as '2d 3.5h12s', units largest first, each once."""
    units = draw(st.lists(st.sampled_from(list(DURATION_UNITS)), min_size=1, max_size=5, unique=True))
    units.sort(key=list(DURATION_UNITS).index)
    parts, total = [], 0
    for unit in units:
        whole = draw(st.integers(0, 999))
        frac = draw(st.sampled_from(["", ".5", ".25", ".125"]))
        parts.append(f"{whole}{frac}{unit}")
        total += (whole + (float(frac) if frac else 0)) * DURATION_UNITS[unit]
    sep = draw(st.sampled_from(["", " "]))
    return sep.join(parts), total


@given(compound_durations())
def test_compound_strings_parse_and_canonicalise(case):
    """Random compound strings parse to their sum and their canonical form is a fixed point."""
    text, total = case
    seconds = parse_duration(text)
    assert seconds == pytest.approx(total, rel=1e-12, abs=1e-9)
    canonical = format_duration(seconds)
    assert parse_duration(canonical) == seconds
    assert format_duration(parse_duration(canonical)) == canonical


# ---------------------------------------------------------------------------------- times


def test_parse_time_utc_and_offsets():
    """ISO times with Z or an offset become aware UTC datetimes."""
    assert parse_time("2026-12-01T00:00:00Z") == datetime(2026, 12, 1, tzinfo=UTC)
    moved = parse_time("2026-12-01T01:00:00+01:00")
    assert moved == datetime(2026, 12, 1, tzinfo=UTC) and moved.tzinfo is UTC
    assert parse_time(" 2026-12-01T00:00:00-05:00 ") == datetime(2026, 12, 1, 5, tzinfo=UTC)


def test_parse_time_accepts_aware_datetime():
    """An aware datetime is converted to UTC."""
    local = datetime(2026, 7, 1, 12, tzinfo=NEW_YORK)
    assert parse_time(local) == datetime(2026, 7, 1, 16, tzinfo=UTC)
    assert parse_time(local).utcoffset() == timedelta(0)


@pytest.mark.parametrize("naive", ["2026-12-01T00:00:00", datetime(2026, 12, 1)])
def test_parse_time_rejects_naive(naive):
    """A time without a zone is an error telling to add 'Z' or '+01:00'."""
    with pytest.raises(ValueError, match=r"add a zone such as 'Z' or '\+01:00'"):
        parse_time(naive)


@pytest.mark.parametrize("bad", ["tomorrow", "", "2026-13-01T00:00:00Z", 1764547200, None])
def test_parse_time_rejects_garbage(bad):
    """Non-ISO values name the expected form with an example."""
    with pytest.raises(ValueError, match="2026-12-01T00:00:00Z"):
        parse_time(bad)


def test_parse_local_time_in_zone():
    """A wall-clock time in New York in winter is five hours behind UTC."""
    assert parse_local_time("2026-12-01 10:00", NEW_YORK) == datetime(2026, 12, 1, 15, tzinfo=UTC)
    assert parse_local_time("2026-07-01T10:00", "America/New_York") == datetime(2026, 7, 1, 14, tzinfo=UTC)
    assert parse_local_time("2026-12-01", ZoneInfo("Asia/Tokyo")) == datetime(2026, 11, 30, 15, tzinfo=UTC)


def test_parse_local_time_dst_uses_fold_zero():
    """Nonexistent and ambiguous wall times resolve with fold=0 (the offset before the change)."""
    assert parse_local_time("2026-03-08 02:30", NEW_YORK) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert parse_local_time("2026-11-01 01:30", NEW_YORK) == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)


def test_parse_local_time_keeps_an_explicit_zone():
    """A value with its own zone is not reinterpreted."""
    assert parse_local_time("2026-12-01T10:00Z", NEW_YORK) == datetime(2026, 12, 1, 10, tzinfo=UTC)


# --------------------------------------------------------------------------------- clocks


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("21:00", 75600), ("08:30", 30600), ("7:05", 25500), ("00:00", 0), ("23:59", 86340), ("12:00:30", 43230)],
)
def test_parse_clock(text, seconds):
    """24-hour clock strings are seconds after local midnight."""
    assert parse_clock(text) == seconds


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("24:00", "write midnight as '00:00'"), ("8pm", "did you mean '20:00'?"),
        ("8:30am", "did you mean '08:30'?"), ("12am", "did you mean '00:00'?"),
        ("21.00", "did you mean '21:00'?"), ("25:00", "hours run from 00 to 23"),
        ("7:60", "minutes from 00"), ("noon", "such as '21:00'"),
    ],
)
def test_parse_clock_rejects_with_hint(bad, hint):
    """Bad clock strings are errors with a concrete fix."""
    with pytest.raises(ValueError) as info:
        parse_clock(bad)
    assert hint in str(info.value) and repr(bad) in str(info.value)


def test_parse_clock_rejects_yaml_sexagesimal_int():
    """An int (YAML 1.1 read 21:00 as 1260) asks to quote the value and suggests it."""
    with pytest.raises(ValueError) as info:
        parse_clock(1260)
    assert "quote" in str(info.value) and "did you mean '21:00'?" in str(info.value)


# ----------------------------------------------------------------------------- throughput


@pytest.mark.parametrize(
    ("text", "per_second"),
    [
        ("50/s", 50.0), ("3000/m", 50.0), ("100/h", 100 / 3600), ("10000/d", 10000 / 86400),
        (5, 5.0), (0.5, 0.5), (" 12 / s ", 12.0), ("1.5/s", 1.5),
    ],
)
def test_parse_throughput(text, per_second):
    """Rates convert to per second; plain numbers are already per second."""
    assert parse_throughput(text) == per_second


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("50/min", "did you mean '50/m'?"), ("50 per second", "did you mean '50/s'?"),
        ("10/hour", "did you mean '10/h'?"), ("fast", "such as '50/s'"), (0, "positive"),
        ("0/s", "positive"), (-3, "positive"), (True, "such as '50/s'"),
    ],
)
def test_parse_throughput_rejects(bad, hint):
    """Loose spellings get a strict suggestion; zero and negatives are errors."""
    with pytest.raises(ValueError) as info:
        parse_throughput(bad)
    assert hint in str(info.value)


# -------------------------------------------------------------------------------- zones


@pytest.mark.parametrize("name", ["America/New_York", "Europe/London", "Asia/Tokyo", "UTC"])
def test_parse_timezone(name):
    """IANA names and UTC give the ZoneInfo of that key."""
    zone = parse_timezone(name)
    assert isinstance(zone, ZoneInfo) and zone.key == name


@pytest.mark.parametrize(
    ("bad", "suggestion"),
    [
        ("america/new_york", "America/New_York"), ("Europe/Londn", "Europe/London"),
        ("London", "Europe/London"), ("America/NewYork", "America/New_York"), ("utc", "UTC"),
    ],
)
def test_parse_timezone_did_you_mean(bad, suggestion):
    """Unknown zone names get the closest IANA name."""
    with pytest.raises(ValueError) as info:
        parse_timezone(bad)
    assert f"unknown time zone '{bad}'" in str(info.value)
    assert f"did you mean '{suggestion}'?" in str(info.value)


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "", None, 5])
def test_parse_timezone_rejects(bad):
    """Nonsense zones are errors with an example."""
    with pytest.raises(ValueError, match="America/New_York"):
        parse_timezone(bad)


# ------------------------------------------------------------------------------- shares


@pytest.mark.parametrize(
    ("value", "share"), [(0, 0.0), (1, 1.0), (0.35, 0.35), ("35%", 0.35), ("100%", 1.0), ("0.5", 0.5), ("2.5%", 0.025)]
)
def test_parse_percentage_or_probability(value, share):
    """Numbers in [0, 1] and percentages become probabilities."""
    assert parse_percentage_or_probability(value) == share


@pytest.mark.parametrize("bad", [1.5, -0.1, "120%", "abc", True, None, float("nan")])
def test_parse_percentage_rejects(bad):
    """Values outside [0, 1] or 0%..100% are errors with the expected form."""
    with pytest.raises(ValueError, match="such as 0.35 or '35%'"):
        parse_percentage_or_probability(bad)


def test_parse_percentage_suggests_percent_sign():
    """35 (meant as a percentage) suggests '35%'."""
    with pytest.raises(ValueError, match="did you mean '35%'"):
        parse_percentage_or_probability(35)


# ---------------------------------------------------------------------------- did_you_mean


@pytest.mark.parametrize(
    ("word", "options", "expected"),
    [
        ("expo", ["fixed", "exponential", "uniform"], "exponential"),
        ("sms_c", ["wait_1h", "email_1", "opened", "by_stage", "sms_b", "mark"], "sms_b"),
        ("Journeys", ["journeys", "systems"], "journeys"),
        ("first-name", ["first_name", "last_name"], "first_name"),
        ("reads_form", ["reads_from", "entry", "steps"], "reads_from"),
        ("quiet_hour", ["quiet_hours", "frequency_caps"], "quiet_hours"),
        ("Tokyo", ["America/New_York", "Asia/Tokyo"], "Asia/Tokyo"),
        ("lognormall", ["normal", "lognormal"], "lognormal"),
    ],
)
def test_did_you_mean_finds(word, options, expected):
    """Typos, case, separators, prefixes and zone cities find the intended option."""
    assert did_you_mean(word, options) == expected


@pytest.mark.parametrize(("word", "options"), [("zzz", ["alpha", "beta"]), ("", ["a"]), ("x", []), ("ab", ["abcdef"])])
def test_did_you_mean_none(word, options):
    """Nothing close (or nothing to choose from) gives None."""
    assert did_you_mean(word, options) is None


def test_did_you_mean_accepts_any_iterable():
    """Generators and dict keys work, and the original spelling is returned."""
    assert did_you_mean("CDP", (s for s in ["web", "crm", "cdp"])) == "cdp"
    assert did_you_mean("esp1", {"esp": 1, "sms": 2}.keys()) == "esp"


def test_no_nan_sneaks_through():
    """Parsed values are finite."""
    assert all(math.isfinite(v) for v in (parse_duration("1w"), parse_throughput("1/d")))


# ----------------------------------------------------------------------------- ranges (issue 14)


@pytest.mark.parametrize("value", ["9" * 400, "9" * 400 + "s", "36501d", "5215w", "1e400", 36500 * 86400 + 1,
                                   10**400, 1e300, "99999999999999999999999w"])
def test_durations_past_100_years_are_refused(value):
    """36500d = 3,153,600,000 s is the longest duration; anything longer (or too large for a float) is refused."""
    with pytest.raises(ValueError, match="100 years|expected a number"):
        parse_duration(value)


def test_the_longest_duration_is_accepted():
    assert parse_duration("36500d") == 3_153_600_000.0 == parse_duration("5214w2d")


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "1899-12-31T23:59:59Z",
                                  "9000-01-01T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_times_outside_1900_to_8999_are_refused(text):
    """0001-01-01 and 9999-12-31 parse as ISO dates but leave no room before/after them for a run."""
    with pytest.raises(ValueError, match="between the years 1900 and 8999"):
        parse_time(text)


def test_times_at_the_edges_of_the_range_are_accepted():
    assert parse_time("1900-01-01T00:00:00Z") == datetime(1900, 1, 1, tzinfo=UTC)
    assert parse_time("8999-12-31T23:59:59Z") == datetime(8999, 12, 31, 23, 59, 59, tzinfo=UTC)
    with pytest.raises(ValueError, match="between the years"):
        parse_local_time("0001-01-01", "Asia/Tokyo")


@pytest.mark.parametrize("value", ["9" * 400 + "/s", "0.0000000001/d", 1e-12, "1e400/s"])
def test_throughputs_too_large_or_too_small_are_refused(value):
    """A rate must be finite and at least one message per 100 years (so the queue spacing is a duration)."""
    with pytest.raises(ValueError, match="throughput"):
        parse_throughput(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(1.0005, "1s"), (0.0005, "0.001s"), (2.0015, "2.002s"), (59.9995, "59.999s")],
)
def test_format_duration_near_half_millisecond(seconds, text):
    """Values a hair from half a millisecond round by their exact binary value (the fast path hands
    them to the exact one). The doubles are 1.000499999999999944..., 0.000500000000000000010...,
    2.001500000000000056... and 59.999499999999997612..., so below, above, above and below the half:
    1000, 1, 2002 and 59999 ms."""
    assert format_duration(seconds) == text


@given(st.one_of(st.floats(min_value=0, max_value=2e9, allow_nan=False),
                 st.integers(min_value=0, max_value=2 * 10**12).map(lambda m: (m + 0.5) / 1000)))
def test_format_duration_fast_path_matches_exact_rounding(seconds):
    """The float fast path gives the text of the exact integer rounding (half to even) everywhere,
    including next to half milliseconds and past its 1e9 s range."""
    from simulator.scenario.units import _exact_millis, _format_millis

    assert format_duration(seconds) == _format_millis(_exact_millis(seconds))


def test_format_stamp_minute_boundaries_and_zones():
    """Stamps are cached per minute; values next to a boundary are computed exactly. From 00:00:00Z:
    59.9999 s is still 00:00, 60 s is 00:01, 119.9995 s is 00:01. From 00:00:30Z the minute turns at
    t = 30: 29.5 s -> 00:00, 30 s -> 00:01. The same instant written as 01:00+01:00 prints its own
    wall time (01:00), not the UTC start's cached 00:00."""
    from simulator.scenario.units import format_stamp

    utc = datetime(2026, 3, 2, tzinfo=timezone.utc)
    assert [format_stamp(utc, t) for t in (59.9999, 60.0, 119.9995, 30.0)] == [
        "2026-03-02 00:00", "2026-03-02 00:01", "2026-03-02 00:01", "2026-03-02 00:00"]
    half = datetime(2026, 3, 2, 0, 0, 30, tzinfo=timezone.utc)
    assert [format_stamp(half, t) for t in (29.5, 30.0, 0.0)] == [
        "2026-03-02 00:00", "2026-03-02 00:01", "2026-03-02 00:00"]
    plus_one = datetime(2026, 3, 2, 1, 0, tzinfo=timezone(timedelta(hours=1)))
    assert plus_one == utc
    assert (format_stamp(plus_one, 0.0), format_stamp(utc, 0.0)) == ("2026-03-02 01:00", "2026-03-02 00:00")


@given(st.integers(min_value=0, max_value=59_999_999), st.floats(min_value=0, max_value=3e9, allow_nan=False))
def test_format_stamp_cache_matches_datetime_arithmetic(start_us, t):
    """Cached or not, the stamp is the minute of ``start + timedelta(seconds=t)``."""
    from simulator.scenario.units import format_stamp

    start = datetime(2026, 3, 2, 9, 15, tzinfo=timezone.utc) + timedelta(microseconds=start_us)
    d = start + timedelta(seconds=t)
    assert format_stamp(start, t) == f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"
    assert format_stamp(start, t) == format_stamp(start, t)
