"""The simulation clock: a SimPy environment that schedules at absolute times.

SimPy schedules an event ``delay`` after now, at ``now + delay``. In floating point,
``now + (t - now)`` is not always ``t``, so an event meant for ``t`` would land at a time that depends
on when it was scheduled, that is on which other customer's event ran just before. A sharded run
(:mod:`simulator.sharded`) simulates other neighbours, so every time must be exactly the one computed:
:meth:`Clock.call_at` and :meth:`Clock.timeout_at` put events on the queue at ``t`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush

import simpy
from simpy.core import NORMAL

__all__ = ["Clock"]


class Clock(simpy.Environment):
    """``simpy.Environment`` plus scheduling at an absolute time (never before now)."""

    def timeout_at(self, t: float, priority: int = NORMAL) -> simpy.Event:
        """An event that fires at ``t`` (now, if ``t`` is past): yield it from a process, or add callbacks."""
        event = simpy.Event(self)
        event._ok = True
        event._value = None
        heappush(self._queue, (t if t > self._now else self._now, priority, next(self._eid), event))
        return event

    def call_at(self, t: float, action: Callable[[], None], priority: int = NORMAL) -> None:
        """Run ``action`` at ``t`` (now, if ``t`` is past)."""
        self.timeout_at(t, priority).callbacks.append(lambda _e: action())
