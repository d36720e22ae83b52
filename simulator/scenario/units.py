"""Parsers for the scalar values of a scenario: durations, times, clocks, rates, zones, shares.

Every parser raises :class:`ValueError` with a full sentence naming the bad value, what was
expected and an example; the validator adds the key path and YAML line. ``did_you_mean`` is the
one fuzzy matcher used for unknown keys, steps, systems, units and zones.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Iterable
from datetime import timedelta, date, datetime, time, timezone, tzinfo
from fractions import Fraction
from numbers import Real
from zoneinfo import ZoneInfo, available_timezones

__all__ = [
    "format_stamp",
    "format_span",
    "DURATION_UNITS",
    "parse_duration",
    "format_duration",
    "parse_time",
    "parse_local_time",
    "parse_clock",
    "parse_throughput",
    "parse_timezone",
    "parse_percentage_or_probability",
    "did_you_mean",
]

#: The longest duration a scenario may give (100 years of 365 days): any wait, delay, period or run length.
#: Together with the calendar range of :func:`parse_time` it keeps every simulated instant a valid date.
MAX_DURATION = 36500 * 86400.0

#: Times must lie in these years (a run of up to 100 years from a start before 9000 stays a valid date).
MIN_YEAR, MAX_YEAR = 1900, 8999

#: Seconds per duration unit, largest first (the canonical order of compound durations).
DURATION_UNITS: dict[str, int] = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

# Spellings people write for the units we accept.
_UNIT_ALIASES: dict[str, str] = {
    **{a: "s" for a in ("sec", "secs", "second", "seconds")},
    **{a: "m" for a in ("min", "mins", "minute", "minutes")},
    **{a: "h" for a in ("hr", "hrs", "hour", "hours")},
    **{a: "d" for a in ("day", "days")},
    **{a: "w" for a in ("wk", "wks", "week", "weeks")},
}
_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_DURATION_PART = re.compile(rf"\s*({_NUMBER})\s*([A-Za-z]+)")
_DURATION_EXPECTED = (
    "expected a number of seconds or a number with a unit s, m, h, d or w, "
    "such as '90s', '30m', '4h', '2d', '1w'"
)


def _is_number(value: object) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool)


def _unit_suggestion(parts: list[tuple[str, str]]) -> str | None:
    """Rewrite ``[('1', 'hr'), ('30', 'min')]`` as ``'1h30m'`` when every unit has a known alias."""
    units = [u if u in DURATION_UNITS else _UNIT_ALIASES.get(u.lower(), u.lower() if u in "SHDW" else None)
             for _, u in parts]
    if None in units:
        return None
    return "".join(n + str(u) for (n, _), u in zip(parts, units))


def parse_duration(value: object) -> float:
    """Parse ``90s``, ``1.5h``, ``1h30m`` or a number of seconds into seconds (>= 0, at most :data:`MAX_DURATION`)."""
    seconds = _parse_duration(value)
    if seconds > MAX_DURATION:
        raise ValueError(f"invalid duration {_short(value)}: longer than 36500d (100 years), the longest "
                         f"duration a scenario may give; {_DURATION_EXPECTED}")
    return seconds


def _short(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text if len(text) <= 40 else text[:20] + "..." + text[-10:])


def _exact(total: Fraction) -> float:
    """A Fraction as a float; too large for a float becomes infinity (refused by the callers' range checks)."""
    try:
        return float(total)
    except OverflowError:
        return math.inf


def _parse_duration(value: object) -> float:
    if _is_number(value):
        try:
            seconds = float(value)  # type: ignore[arg-type]
        except OverflowError:
            seconds = math.inf if value > 0 else -math.inf  # type: ignore[operator]
        if seconds == math.inf:
            return seconds
        if not math.isfinite(seconds):
            raise ValueError(f"invalid duration {value!r}: {_DURATION_EXPECTED}")
        if seconds < 0:
            raise ValueError(f"invalid duration {value!r}: a duration must not be negative; "
                             f"{_DURATION_EXPECTED}")
        return seconds
    if not isinstance(value, str):
        raise ValueError(f"invalid duration {value!r} ({type(value).__name__}): {_DURATION_EXPECTED}")
    text = value.strip()
    if not text:
        raise ValueError(f"invalid duration '': the value is empty; {_DURATION_EXPECTED}")
    if text.startswith("-"):
        raise ValueError(f"invalid duration '{value}': a duration must not be negative; "
                         f"{_DURATION_EXPECTED}")
    if re.fullmatch(_NUMBER, text):
        return _exact(Fraction(text))
    parts, pos = [], 0
    while pos < len(text):
        match = _DURATION_PART.match(text, pos)
        if not match:
            raise ValueError(f"invalid duration '{value}': {_DURATION_EXPECTED}")
        parts.append((match.group(1), match.group(2)))
        pos = match.end()
    unknown = [u for _, u in parts if u not in DURATION_UNITS]
    if unknown:
        hint = _unit_suggestion(parts)
        tail = f"; did you mean '{hint}'?" if hint else ""
        raise ValueError(f"invalid duration '{value}': {_DURATION_EXPECTED}; "
                         f"'{unknown[0]}' is not a unit{tail}")
    order = [list(DURATION_UNITS).index(u) for _, u in parts]
    if order != sorted(set(order)):
        total = _exact(sum(Fraction(n) * DURATION_UNITS[u] for n, u in parts))
        hint = format_duration(total) if total <= MAX_DURATION else "one unit per part"
        raise ValueError(f"invalid duration '{value}': write each unit once, largest first, "
                         f"such as '1h30m'; did you mean '{hint}'?")
    return _exact(sum(Fraction(n) * DURATION_UNITS[u] for n, u in parts))


_UNIT_SIZES: tuple[tuple[str, int], ...] = tuple(DURATION_UNITS.items())


def format_duration(seconds: float) -> str:
    """Format seconds in canonical compact form (``1d2h``, ``1m30s``, ``0.5s``), to milliseconds."""
    if type(seconds) is float and 0.0 <= seconds < 1e9:
        # fast path (log details format ~5 spans per customer): below 1e9 s the product has an error
        # under 1e-4 ms, so away from a half millisecond its rounding is the exact one below
        scaled = seconds * 1000.0
        millis = int(scaled)
        below = scaled - millis  # exact: the fraction of a float
        if below > 0.501:
            millis += 1
        elif below >= 0.499:
            millis = _exact_millis(seconds)
    else:
        if not _is_number(seconds) or not math.isfinite(seconds) or seconds < 0:
            raise ValueError(f"cannot format {seconds!r} as a duration: expected a finite number of "
                             "seconds >= 0, such as 5400")
        millis = _exact_millis(seconds)
    text = _DURATION_TEXT.get(millis)
    if text is None:
        text = _format_millis(millis)
        if len(_DURATION_TEXT) < 100_000:
            _DURATION_TEXT[millis] = text
    return text


#: Texts of whole-millisecond durations seen so far (waits, latencies and lags repeat a lot).
_DURATION_TEXT: dict[int, str] = {}


def _exact_millis(seconds: float) -> int:
    """Exact milliseconds, rounded half to even, in integer arithmetic (the float's exact binary value)."""
    num, den = float(seconds).as_integer_ratio()
    millis, rest = divmod(num * 1000, den)
    if 2 * rest > den or (2 * rest == den and millis % 2):
        millis += 1
    return millis


def _format_millis(millis: int) -> str:
    whole, frac = divmod(millis, 1000)
    out = []
    for unit, size in _UNIT_SIZES:
        count, whole = divmod(whole, size)
        if unit == "s":
            if frac:
                out.append(f"{count}.{frac:03d}".rstrip("0") + "s")
            elif count:
                out.append(f"{count}s")
        elif count:
            out.append(f"{count}{unit}")
    return "".join(out) or "0s"


_TIME_EXAMPLE = "such as '2026-12-01T00:00:00Z' or '2026-12-01T09:00:00+01:00'"


def _parse_iso(value: object, what: str) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        raise ValueError(f"invalid {what} '{value}': a date alone is not a time; expected an ISO 8601 "
                         f"date and time with a zone, {_TIME_EXAMPLE}")
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"invalid {what} {value!r}: expected an ISO 8601 date and time with a zone, "
                         f"{_TIME_EXAMPLE}")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"invalid {what} {_short(value)}: expected an ISO 8601 date and time with a zone, "
                         f"{_TIME_EXAMPLE}") from None
    return parsed


def _in_range(parsed: datetime, value: object, what: str) -> datetime:
    """Convert to UTC, refusing years outside MIN_YEAR..MAX_YEAR (the simulated calendar's range)."""
    try:
        utc = parsed.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or not MIN_YEAR <= utc.year <= MAX_YEAR:
        raise ValueError(f"invalid {what} {_short(value)}: times must lie between the years {MIN_YEAR} and "
                         f"{MAX_YEAR} (so that every simulated instant, up to 100 years later, is a valid "
                         f"date), {_TIME_EXAMPLE}")
    return utc


def parse_time(value: object) -> datetime:
    """Parse an ISO 8601 time with an explicit zone (or an aware datetime) into an aware UTC datetime."""
    parsed = _parse_iso(value, "time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"invalid time '{value}': the time has no zone; add a zone such as 'Z' or "
                         f"'+01:00', e.g. '{parsed.isoformat()}Z'")
    return _in_range(parsed, value, "time")


def parse_local_time(value: object, tz: tzinfo | str) -> datetime:
    """Parse a wall-clock time in zone ``tz`` (``"2026-12-01 10:00"``) into an aware UTC datetime.

    A date alone means local midnight. A value that carries its own zone keeps it. Wall times
    that do not exist (spring forward) or occur twice (fall back) are resolved with ``fold=0``:
    the offset in force *before* the transition, so ``02:30`` on a New York spring-forward day
    means 07:30 UTC and ``01:30`` on a fall-back day means its first (daylight) occurrence.
    """
    zone = parse_timezone(tz) if isinstance(tz, str) else tz
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        value = value.strip() + "T00:00"
    parsed = _parse_iso(value, "local time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone, fold=0)
    return _in_range(parsed, value, "local time")


def parse_clock(value: object) -> int:
    """Parse a 24-hour clock time ``"21:00"``, ``"7:05"`` (or ``"07:05:30"``) into seconds after midnight."""
    example = "such as '21:00' or '08:30'"
    if isinstance(value, time):
        return value.hour * 3600 + value.minute * 60 + value.second
    if not isinstance(value, str):
        hint = ""
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1440:
            hint = f"; did you mean '{value // 60:02d}:{value % 60:02d}'?"
        raise ValueError(f"invalid clock time {value!r}: expected a quoted 24-hour time 'HH:MM', {example}; "
                         f"quote it in YAML so it stays text{hint}")
    text = value.strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", text)
    if match:
        hours, minutes, secs = int(match[1]), int(match[2]), int(match[3] or 0)
        if hours == 24 and minutes == 0 and secs == 0:
            raise ValueError(f"invalid clock time '{value}': hours run from 00 to 23; write midnight "
                             "as '00:00'")
        if hours < 24 and minutes < 60 and secs < 60:
            return hours * 3600 + minutes * 60 + secs
        raise ValueError(f"invalid clock time '{value}': hours run from 00 to 23 and minutes from 00 "
                         f"to 59, {example}")
    hint = ""
    ampm = re.fullmatch(r"(\d{1,2})(?::(\d{2}))?\s*([aApP])\.?[mM]\.?", text)
    dotted = re.fullmatch(r"(\d{1,2})[.h](\d{2})", text)
    if ampm and 1 <= int(ampm[1]) <= 12:
        hours = int(ampm[1]) % 12 + (12 if ampm[3] in "pP" else 0)
        hint = f"; use the 24-hour clock: did you mean '{hours:02d}:{ampm[2] or '00'}'?"
    elif dotted:
        hint = f"; separate hours and minutes with ':': did you mean '{int(dotted[1]):02d}:{dotted[2]}'?"
    raise ValueError(f"invalid clock time '{value}': expected a 24-hour time 'HH:MM', {example}{hint}")


_RATE_UNITS: dict[str, int] = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE_EXPECTED = ("expected a number per second or a count per unit s, m, h or d, "
                  "such as '50/s', '3000/m', '100/h', '10000/d'")


def parse_throughput(value: object) -> float:
    """Parse ``50/s``, ``3000/m``, ``100/h``, ``10000/d`` or a plain number (per second) into a rate per second (> 0)."""
    if _is_number(value):
        rate = float(value)  # type: ignore[arg-type]
        if math.isfinite(rate) and rate > 0:
            return _rate_in_range(rate, value)
        raise ValueError(f"invalid throughput {value!r}: a throughput must be a positive finite "
                         f"number; {_RATE_EXPECTED}")
    if not isinstance(value, str):
        raise ValueError(f"invalid throughput {value!r}: {_RATE_EXPECTED}")
    text = value.strip()
    match = re.fullmatch(rf"({_NUMBER})\s*/\s*([a-z]+)", text)
    if match and match[2] in _RATE_UNITS:
        rate = Fraction(match[1]) / _RATE_UNITS[match[2]]
        if rate > 0:
            return _rate_in_range(_exact(rate), value)
        raise ValueError(f"invalid throughput '{value}': a throughput must be positive; {_RATE_EXPECTED}")
    hint = ""
    loose = re.fullmatch(rf"({_NUMBER})\s*(?:/|per|a|an)\s*([A-Za-z]+)", text)
    if loose:
        unit = loose[2].lower()
        unit = unit if unit in _RATE_UNITS else _UNIT_ALIASES.get(unit)
        if unit in _RATE_UNITS:
            hint = f"; did you mean '{loose[1]}/{unit}'?"
    raise ValueError(f"invalid throughput '{value}': {_RATE_EXPECTED}{hint}")


def _rate_in_range(rate: float, value: object) -> float:
    if not rate * MAX_DURATION >= 1 or not math.isfinite(rate):
        raise ValueError(f"invalid throughput {_short(value)}: a throughput must be a finite rate of at least one "
                         f"message per 36500d (100 years); {_RATE_EXPECTED}")
    return rate


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() | {"UTC"}))


def parse_timezone(name: object) -> ZoneInfo:
    """Return the :class:`~zoneinfo.ZoneInfo` for an IANA name such as ``America/New_York`` or ``UTC``."""
    example = "such as 'America/New_York', 'Europe/London' or 'UTC'"
    if isinstance(name, ZoneInfo):
        return name
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"invalid time zone {name!r}: expected an IANA time zone name, {example}")
    text = name.strip()
    if text in _zone_names():
        return ZoneInfo(text)
    hint = did_you_mean(text, _zone_names())
    tail = f"; did you mean '{hint}'?" if hint else ""
    raise ValueError(f"unknown time zone '{name}': expected an IANA time zone name, {example}{tail}")


def parse_percentage_or_probability(value: object) -> float:
    """Parse a share in [0, 1]: a number such as ``0.35`` or a string such as ``'35%'``."""
    expected = "expected a number from 0 to 1 or a percentage from 0% to 100%, such as 0.35 or '35%'"
    if _is_number(value):
        share = float(value)  # type: ignore[arg-type]
        if 0.0 <= share <= 1.0:
            return share
        hint = f"; did you mean '{value}%'?" if 1 < share <= 100 else ""
        raise ValueError(f"invalid probability {value!r}: {expected}{hint}")
    if isinstance(value, str):
        text = value.strip()
        match = re.fullmatch(rf"({_NUMBER})\s*%", text)
        if match and Fraction(match[1]) <= 100:
            return float(Fraction(match[1]) / 100)
        if re.fullmatch(_NUMBER, text) and Fraction(text) <= 1:
            return float(Fraction(text))
        raise ValueError(f"invalid probability '{value}': {expected}")
    raise ValueError(f"invalid probability {value!r}: {expected}")


def _norm(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.casefold())


def did_you_mean(word: str, options: Iterable[str]) -> str | None:
    """Return the option closest to ``word`` (case, ``_``/``-``/space insensitive), or None.

    Tries, in order: an exact normalised match; an option that starts with ``word`` (3+
    characters, shortest wins: ``expo`` -> ``exponential``); an option whose last ``/`` or ``.``
    component matches (``london`` -> ``Europe/London``); then difflib with cutoff 0.6.
    """
    choices = list(dict.fromkeys(str(o) for o in options))
    key = _norm(str(word))
    if not key or not choices:
        return None
    normed: dict[str, str] = {}
    for option in choices:
        normed.setdefault(_norm(option), option)
    if key in normed:
        return normed[key]
    if len(key) >= 3:
        prefixed = [n for n in normed if n.startswith(key)]
        if prefixed:
            return normed[min(prefixed, key=len)]
        for n, option in normed.items():
            if re.split(r"[/.]", n)[-1] == key:
                return option
    close = difflib.get_close_matches(key, list(normed), n=1, cutoff=0.6)
    return normed[close[0]] if close else None


def format_stamp(start: datetime, t: float) -> str:
    """Simulation seconds ``t`` after ``start`` as 'YYYY-MM-DD HH:MM' in UTC (log details, findings)."""
    t = float(t)
    cache = _STAMPS.get(start)
    if cache is None or cache[2] is not start.tzinfo or len(cache[1]) >= 500_000:
        if len(_STAMPS) >= 64:
            _STAMPS.clear()
        cache = _STAMPS[start] = (start.second + start.microsecond / 1e6, {}, start.tzinfo)
    # the text only changes at whole minutes of start + t: reuse it for any t more than a millisecond
    # from a minute boundary (float and microsecond rounding move t by far less)
    into = t + cache[0]
    minute = math.floor(into / 60.0)
    if 0.001 < into - 60.0 * minute < 59.999:
        text = cache[1].get(minute)
        if text is None:
            text = cache[1][minute] = _stamp(start, t)
        return text
    return _stamp(start, t)


#: start -> (its seconds past the minute, {whole minutes after start's minute: text}, its tzinfo).
#: Equal instants in other zones hash alike but print other wall times: the tzinfo check tells them apart.
_STAMPS: dict[datetime, tuple[float, dict[int, str], object]] = {}


def _stamp(start: datetime, t: float) -> str:
    d = start + timedelta(seconds=t)
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d} {d.hour:02d}:{d.minute:02d}"


def format_span(seconds: float, digits: int = 3) -> str:
    """A non-negative duration rounded to ``digits`` decimals, in the compact form of format_duration."""
    return format_duration(round(max(0.0, float(seconds)), digits))
