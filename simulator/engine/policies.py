"""Pure policy logic: customers' local clocks, quiet hours and frequency caps (no SimPy here).

The simulation clock is float seconds after the scenario ``start`` (an aware UTC datetime); each
customer has an IANA time zone, referred to here by its index in the ``zone_names`` given to
:class:`LocalClock`. The engine calls these functions; they never schedule anything themselves.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from simulator.scenario.model import FrequencyCap, QuietHours
from simulator.scenario.units import format_duration

__all__ = ["LocalClock", "QuietHoursRule", "CapCounters"]

DAY = 86400
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_SEND = struct.Struct("<dB")  # one recorded send: simulation time, channel code (9 bytes)


class LocalClock:
    """Converts simulation seconds to customers' local wall-clock time, DST-correct, with caching per zone."""

    def __init__(self, start: datetime, zone_names: Sequence[str]) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulation start must be a time-zone-aware datetime")
        self.start = start.astimezone(timezone.utc)
        self.zone_names = tuple(zone_names)
        self._t0 = self.start.timestamp()
        self._zones = [ZoneInfo(name) for name in self.zone_names]
        # per zone: UTC day number -> offset (constant that day) or (transition epoch second, before, after)
        self._days: list[dict[int, int | tuple[int, int, int]]] = [{} for _ in self._zones]

    # ---------------------------------------------------------------- UTC offsets, cached per UTC day
    def _raw_offset(self, zone: int, epoch: int) -> int:
        offset = datetime.fromtimestamp(epoch, self._zones[zone]).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def _day_entry(self, zone: int, day: int) -> int | tuple[int, int, int]:
        entry = self._days[zone].get(day)
        if entry is None:
            lo, hi = day * DAY, (day + 1) * DAY
            before, after = self._raw_offset(zone, lo), self._raw_offset(zone, hi)
            if before == after:
                entry = before
            else:  # binary search for the first second with the new offset (transitions are whole seconds)
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._raw_offset(zone, mid) == before:
                        lo = mid
                    else:
                        hi = mid
                entry = (hi, before, self._raw_offset(zone, hi))
            self._days[zone][day] = entry
        return entry

    def _offset(self, zone: int, epoch: float) -> int:
        entry = self._day_entry(zone, math.floor(epoch / DAY))
        if isinstance(entry, int):
            return entry
        return entry[1] if epoch < entry[0] else entry[2]

    def _wall_seconds(self, t: float, zone: int) -> float:
        epoch = self._t0 + t
        return epoch + self._offset(zone, epoch)

    # ---------------------------------------------------------------- public conversions
    def local(self, t: float, zone: int) -> datetime:
        """The aware local datetime of simulation time ``t`` in zone ``zone``."""
        return (self.start + timedelta(seconds=t)).astimezone(self._zones[zone])

    def local_day(self, t: float, zone: int) -> int:
        """Proleptic ordinal (``date.toordinal()``) of the local calendar date at ``t``."""
        return math.floor(self._wall_seconds(t, zone) / DAY) + _EPOCH_ORDINAL

    def seconds_of_day(self, t: float, zone: int) -> float:
        """Local seconds since local midnight at ``t``."""
        return self._wall_seconds(t, zone) % DAY

    def at_local(self, day_ordinal: int, seconds_of_day: int, zone: int) -> float:
        """Simulation seconds of a local wall time: a skipped (spring-forward) time gives the first valid
        instant after it, an ambiguous (fall-back) time its first occurrence."""
        return self._wall_to_sim(day_ordinal, seconds_of_day, zone, None)

    def _wall_to_sim(self, day_ordinal: int, seconds_of_day: float, zone: int, after: float | None) -> float:
        """Like :meth:`at_local`, but the first occurrence later than ``after`` when one is given."""
        wall = (day_ordinal - _EPOCH_ORDINAL) * DAY + seconds_of_day
        offsets = {self._offset(zone, wall + d) for d in (-DAY, 0, DAY)}
        hits = sorted(wall - o for o in offsets if self._offset(zone, wall - o) == o)
        if not hits:  # in a gap: the transition that skipped this wall time
            lo, hi = wall - max(offsets), wall - min(offsets)
            entries = (self._day_entry(zone, d) for d in range(math.floor(lo / DAY), math.floor(hi / DAY) + 1))
            hits = [next((e[0] for e in entries if isinstance(e, tuple) and lo < e[0] <= hi), hi)]
        sims = [h - self._t0 for h in hits]
        if after is not None:
            sims = [s for s in sims if s > after] or sims[-1:]
        return sims[0]


class QuietHoursRule:
    """Quiet hours in the customer's local time: ``from`` is inside, ``to`` is not; ``from == to`` is empty."""

    def __init__(self, rule: QuietHours | None, clock: LocalClock) -> None:
        self.rule = rule
        self.clock = clock
        self.action: str = rule.action if rule is not None else "hold"
        self._channels = frozenset(rule.channels) if rule is not None else frozenset()

    def applies(self, channel: str) -> bool:
        """Whether quiet hours restrict ``channel`` at all."""
        return channel in self._channels

    def inside(self, t: float, zone: int, channel: str) -> bool:
        """Whether ``t`` is inside quiet hours for ``channel`` in zone ``zone``."""
        return self.window_end(t, zone, channel) is not None

    def window_end(self, t: float, zone: int, channel: str) -> float | None:
        """None outside quiet hours; otherwise the simulation time the window ends (the next local ``to``)."""
        rule = self.rule
        if rule is None or channel not in self._channels or rule.from_ == rule.to:
            return None
        sod = self.clock.seconds_of_day(t, zone)
        start, end = rule.from_, rule.to
        if start < end:
            if not start <= sod < end:
                return None
            day = self.clock.local_day(t, zone)
        elif sod >= start:
            day = self.clock.local_day(t, zone) + 1
        elif sod < end:
            day = self.clock.local_day(t, zone)
        else:
            return None
        return self.clock._wall_to_sim(day, end, zone, after=t)


class CapCounters:
    """Frequency caps over per-customer send histories, as the orchestrator's counters see them.

    ``counter_lag`` (seconds): a send only counts towards caps once it is that old (counters updated
    late, as in real orchestrators), so caps can break when lag > 0. Histories are packed bytes
    (9 bytes a send), kept only for customers who were sent something, trimmed to the longest window.
    ``record`` must be called with non-decreasing times and queries must not go back before them.
    """

    def __init__(self, caps: Sequence[FrequencyCap], clock: LocalClock, counter_lag: float = 0.0) -> None:
        self.caps = tuple(caps)
        self.clock = clock
        self.counter_lag = float(counter_lag)
        if self.counter_lag < 0:
            raise ValueError(f"cap_counter_lag must be 0s or longer, got {counter_lag!r}")
        self._days: list[int | None] = []  # whole days of each calendar cap; None for sliding caps
        horizon = 0.0
        for i, cap in enumerate(self.caps):
            if cap.per <= 0:
                raise ValueError(f"frequency_caps[{i}].per: a cap's window must be longer than 0s, e.g. per: 1d")
            if cap.window == "calendar":
                if cap.per % DAY:
                    raise ValueError(
                        f"frequency_caps[{i}].per: a calendar cap counts whole local days, so 'per' must be a "
                        f"whole number of days such as 1d or 7d, got {format_duration(cap.per)}; "
                        "use window: sliding for other lengths")
                self._days.append(int(cap.per // DAY))
                horizon = max(horizon, cap.per + 2 * DAY)  # local dates reach up to a day past UTC ones
            else:
                self._days.append(None)
                horizon = max(horizon, cap.per)
        self._horizon = horizon
        self._codes: dict[str, int] = {}
        self._history: dict[int, bytes] = {}

    def _code(self, channel: str) -> int:
        code = self._codes.get(channel)
        if code is None:
            if len(self._codes) >= 255:
                raise ValueError("too many distinct channels for the cap counters (255 at most)")
            code = self._codes[channel] = len(self._codes)
        return code

    def _sends(self, customer: int) -> list[tuple[float, int]]:
        data = self._history.get(customer)
        return list(_SEND.iter_unpack(data)) if data else []

    def record(self, customer: int, channel: str, t: float) -> None:
        """Record a send to ``customer`` on ``channel`` at simulation time ``t``."""
        code = self._code(channel)
        data = self._history.get(customer, b"")
        if data and _SEND.unpack_from(data, len(data) - _SEND.size)[0] > t:  # out of order: re-sort
            sends = sorted([*_SEND.iter_unpack(data), (t, code)])
            data = b"".join(_SEND.pack(*s) for s in sends)
        else:
            data += _SEND.pack(t, code)
        cutoff = t - self._horizon
        if _SEND.unpack_from(data)[0] <= cutoff:
            keep = next((i for i, (s, _) in enumerate(_SEND.iter_unpack(data)) if s > cutoff), len(data))
            data = data[keep * _SEND.size:]
        self._history[customer] = data

    def merge(self, source: int, target: int) -> None:
        """Count ``source``'s sends as ``target``'s from now on (identity resolution merged the two profiles)."""
        data = self._history.pop(source, b"")
        if data:
            sends = sorted([*_SEND.iter_unpack(self._history.get(target, b"")), *_SEND.iter_unpack(data)])
            self._history[target] = b"".join(_SEND.pack(*x) for x in sends)

    def _filter(self, cap_index: int, channel: str | None) -> int | None:
        """Channel code a cap counts (-1: all channels; None: a channel never sent on, so nothing)."""
        cap_channel = self.caps[cap_index].channel
        if cap_channel == "any" and channel is None:
            return -1
        wanted = channel if cap_channel == "any" else cap_channel
        if channel is not None and channel != wanted:
            return None
        return self._codes.get(wanted)  # type: ignore[arg-type]

    def _count(self, sends: list[tuple[float, int]], cap_index: int, code: int | None, t: float, zone: int) -> int:
        if code is None:
            return 0
        lag, days = self.counter_lag, self._days[cap_index]
        if days is None:  # s in (t - per, t], written as s + per > t so that t = s + per drops s exactly
            per = self.caps[cap_index].per
            return sum(1 for s, c in sends if s + per > t and s + lag <= t and (code < 0 or c == code))
        first_day = self.clock.local_day(t, zone) - days + 1
        return sum(1 for s, c in sends if s + lag <= t and (code < 0 or c == code)
                   and self.clock.local_day(s, zone) >= first_day)

    def _release(self, sends: list[tuple[float, int]], cap_index: int, code: int | None, t: float, zone: int) -> float:
        """Earliest time >= t at which the cap's count drops below max (counts only fall at these candidates)."""
        cap, days = self.caps[cap_index], self._days[cap_index]
        if days is None:
            candidates = sorted(s + cap.per for s, c in sends if s + cap.per > t and (code == -1 or c == code))
        else:
            today = self.clock.local_day(t, zone)
            extra = days + math.ceil(self.counter_lag / DAY) + 2
            candidates = [self.clock.at_local(today + k, 0, zone) for k in range(1, extra + 1)]
        return next((x for x in candidates if self._count(sends, cap_index, code, x, zone) < cap.max), math.inf)

    def blocking(self, customer: int, channel: str, t: float, zone: int) -> tuple[int, float] | None:
        """None if every cap allows a send on ``channel`` at ``t``; otherwise (index of the first cap that
        blocks, earliest time that cap would allow it; ``inf`` for a cap with max 0)."""
        sends = self._sends(customer)
        for i, cap in enumerate(self.caps):
            if cap.channel != "any" and cap.channel != channel:
                continue
            if sends or cap.max == 0:
                code = self._filter(i, None)
                if self._count(sends, i, code, t, zone) >= cap.max:
                    return i, self._release(sends, i, code, t, zone)
        return None

    def count(self, customer: int, channel: str | None, t: float, cap_index: int, zone: int) -> int:
        """Sends cap ``cap_index`` counts at ``t`` (as the lagging counter sees them); with ``channel``,
        only those on that channel."""
        return self._count(self._sends(customer), cap_index, self._filter(cap_index, channel), t, zone)
