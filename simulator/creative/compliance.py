"""Pure evaluation of compliance pack rules: quiet hours, rolling frequency caps, opt-out deadlines.

All instants are timezone-aware ``datetime`` values (naive ones raise ``ValueError``); results are
returned in UTC. Local times come from the IANA database (``zoneinfo``), so DST changes are
handled by the zone, never by fixed offsets. Semantics (docs/creative.md):

* a quiet-hours window is half-open, ``[from, to)`` in local time: at 20:00:00 exactly an
  08:00-20:00 window is closed;
* a frequency cap counts sends in the rolling half-open interval ``(at - window, at]`` of
  elapsed time (24 h is 86,400 s even across a DST change);
* an opt-out deadline is the end (24:00 local) of the N-th business day (Monday to Friday, not a
  listed holiday) after the day the request arrived.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from simulator.creative.rulepacks import Frequency, OptOutDeadline, OptOutKeywords, Pack, QuietHours
from simulator.scenario.units import parse_timezone

__all__ = [
    "FrequencyVerdict",
    "QuietVerdict",
    "check_quiet_hours",
    "frequency_check",
    "is_opt_out",
    "opt_out_deadline",
    "quiet_hours_allows",
    "quiet_hours_next",
]

_MAX_STEPS = 64  # each step jumps to a window start; real packs converge in 2-3


def _aware(instant: datetime, what: str = "instant") -> datetime:
    if not isinstance(instant, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"{what} {instant.isoformat()} has no time zone: give an aware datetime (e.g. UTC)")
    return instant.astimezone(timezone.utc)


def _zone(rule: QuietHours, recipient_zone: str | ZoneInfo) -> ZoneInfo:
    return parse_timezone(recipient_zone if rule.zone == "recipient" else rule.zone)


def quiet_hours_allows(rule: QuietHours, instant: datetime, recipient_zone: str | ZoneInfo) -> bool:
    """True when ``instant`` falls inside one of the rule's windows in its local time."""
    local = _aware(instant).astimezone(_zone(rule, recipient_zone))
    t = local.time().replace(tzinfo=None)
    return any(local.weekday() in w.weekdays and w.start <= t < w.end for w in rule.windows)


def quiet_hours_next(rule: QuietHours, instant: datetime, recipient_zone: str | ZoneInfo) -> datetime:
    """The first instant at or after ``instant`` that the rule allows, in UTC."""
    utc = _aware(instant)
    if quiet_hours_allows(rule, utc, recipient_zone):
        return utc
    zone = _zone(rule, recipient_zone)
    day = utc.astimezone(zone).date()
    for offset in range(8):
        d = day + timedelta(days=offset)
        starts = sorted(w.start for w in rule.windows if d.weekday() in w.weekdays)
        for start in starts:
            candidate = datetime.combine(d, start, tzinfo=zone).astimezone(timezone.utc)
            if candidate > utc:
                return candidate
    raise ValueError(f"rule {rule.id} has no window on any day")  # unreachable for a validated rule


@dataclass(frozen=True)
class QuietVerdict:
    """Result of :func:`check_quiet_hours`.

    ``blocked_by`` lists ``(pack, rule id)`` of every rule that forbids ``instant``;
    ``next_allowed`` is the first instant at or after it that every applicable rule allows.
    """

    instant: datetime
    allowed: bool
    next_allowed: datetime
    blocked_by: tuple[tuple[str, str], ...]


def check_quiet_hours(packs: Iterable[Pack], instant: datetime, recipient_zone: str | ZoneInfo, *,
                      channel: str | None = None, purpose: str | None = None) -> QuietVerdict:
    """Whether a message delivered at ``instant`` to a recipient in ``recipient_zone`` respects every
    quiet-hours rule of ``packs`` that covers ``channel`` and ``purpose`` (None: any), and when the
    next allowed instant is. The sender's own zone plays no part: rules use the recipient's zone or
    the zone the rule names (India: Asia/Kolkata).
    """
    utc = _aware(instant)
    parse_timezone(recipient_zone)
    rules = [(p.pack, r) for p in packs for r in p.rules
             if isinstance(r, QuietHours) and r.applies(channel, purpose)]
    blocked = tuple((name, r.id) for name, r in rules if not quiet_hours_allows(r, utc, recipient_zone))
    t = utc
    for _ in range(_MAX_STEPS):
        later = [quiet_hours_next(r, t, recipient_zone) for _, r in rules]
        nxt = max(later, default=t)
        if nxt == t:
            break
        t = nxt
    else:  # pragma: no cover - packs whose windows never overlap
        raise ValueError("the quiet-hours windows of these packs never overlap: no instant is allowed")
    return QuietVerdict(instant=utc, allowed=not blocked, next_allowed=t, blocked_by=blocked)


@dataclass(frozen=True)
class FrequencyVerdict:
    """Result of :func:`frequency_check`: ``in_window`` earlier sends count against the cap."""

    allowed: bool
    in_window: int
    next_allowed: datetime


def frequency_check(rule: Frequency, previous: Sequence[datetime], at: datetime) -> FrequencyVerdict:
    """Whether one more message at ``at`` stays within ``rule.max`` per rolling ``rule.window_hours``.

    ``previous`` are the earlier sends to the same recipient (on the same subject for a
    ``same_subject`` rule; the caller selects them). When the cap is reached, ``next_allowed`` is
    the instant the oldest counted send leaves the window.
    """
    now = _aware(at, "at")
    window = timedelta(hours=rule.window_hours)
    counted = sorted(t for t in (_aware(p, "previous send") for p in previous) if now - window < t <= now)
    if len(counted) < rule.max:
        return FrequencyVerdict(True, len(counted), now)
    # The (len - max + 1)-th oldest counted send must leave the window first.
    leaves = counted[len(counted) - rule.max] + window
    return FrequencyVerdict(False, len(counted), leaves)


def opt_out_deadline(rule: OptOutDeadline, requested_at: datetime, zone: str | ZoneInfo,
                     holidays: Iterable[date] = ()) -> datetime:
    """Latest instant (UTC) the opt-out requested at ``requested_at`` may take effect.

    Counts ``rule.business_days`` business days after the request's local date in ``zone`` (the
    sender's business zone), skipping Saturdays, Sundays and ``holidays``; the deadline is the
    end of the last one (00:00 local on the following day).
    """
    tz = parse_timezone(zone)
    off = set(holidays)
    d = _aware(requested_at, "requested_at").astimezone(tz).date()
    left = rule.business_days
    while left:
        d += timedelta(days=1)
        if d.weekday() < 5 and d not in off:
            left -= 1
    return datetime.combine(d + timedelta(days=1), time(0), tzinfo=tz).astimezone(timezone.utc)


def is_opt_out(rule: OptOutKeywords, reply: str) -> bool:
    """True when ``reply``, trimmed of spaces and trailing punctuation, is one of the keywords (any case)."""
    word = re.sub(r"[\s.!?,;:]+$", "", reply.strip())
    return word.upper() in rule.keywords
