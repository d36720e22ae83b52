"""When a ``wait_window`` step lets a customer go on: the first instant at or after ``t`` that a local
clock is inside the step's window (docs/semantics.md, "Waiting for a time window").

The clock is the customer's own zone (``zone: customer``) or one fixed IANA zone (an account's). DST
follows :class:`~simulator.engine.policies.LocalClock`: a window edge that does not exist on a spring-forward
day is the first valid instant after it; a repeated wall time is its first occurrence.
"""

from __future__ import annotations

from datetime import date

from simulator.engine.policies import LocalClock
from simulator.scenario.model import WEEKDAYS, WaitWindow

__all__ = ["next_open", "opening", "WindowClocks"]


def next_open(w: WaitWindow, clock: LocalClock, zone: int, t: float) -> float:
    """The first simulation time >= ``t`` at which the ``wait_window`` ``w`` is open in ``clock``'s zone ``zone``."""
    days = None if w.days is None else frozenset(WEEKDAYS.index(d) for d in w.days)
    return opening(w.from_, w.to, w.at, days, clock, zone, t)


def opening(start: int | None, end: int | None, at: int | None, days: frozenset[int] | None, clock: LocalClock,
            zone: int, t: float) -> float:
    """The first simulation time >= ``t`` at which a window is open (``t`` itself when it is open at ``t``).

    The window is open from local ``start`` (inside) to ``end`` (outside) on each of ``days`` (weekday
    numbers, Monday 0; None: every day), running into the next day when ``start`` is after ``end``; with
    ``at`` instead, only at that instant. Shared by ``wait_window`` steps and journeys' execution windows.
    """
    today = clock.local_day(t, zone)
    for d in range(today - 1, today + 9):  # yesterday's window may run over midnight; a week covers any day list
        if days is not None and date.fromordinal(d).weekday() not in days:
            continue
        if at is not None:
            s = clock.at_local(d, at, zone)
            if s >= t:
                return s
            continue
        s = clock.at_local(d, start, zone)  # type: ignore[arg-type]
        if s > t:
            return s
        e = clock.at_local(d + (1 if start > end else 0), end, zone)  # type: ignore[operator, arg-type]
        if t < e:
            return t
    raise AssertionError("a window with at least one day opens within 8 days")  # pragma: no cover


class WindowClocks:
    """Release times of ``wait_window`` steps for one run: the customers' zones come from the run's
    clock; each fixed zone gets its own clock."""

    def __init__(self, clock: LocalClock, customer_zones) -> None:
        self.clock = clock
        self.customer_zones = customer_zones
        self._fixed: dict[str, LocalClock] = {}

    def release(self, w: WaitWindow, customer: int, t: float) -> float:
        if w.zone == "customer":
            return next_open(w, self.clock, int(self.customer_zones[customer]), t)
        fixed = self._fixed.get(w.zone)
        if fixed is None:
            fixed = self._fixed[w.zone] = LocalClock(self.clock.start, [w.zone])
        return next_open(w, fixed, 0, t)
