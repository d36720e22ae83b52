"""Execution windows: ``journeys[].execution_window`` (docs/platforms.md, "Execution windows").

A journey's actions (``send`` and ``update`` steps) run only on the window's days between ``from`` and
``to``, in one zone (an IANA zone: the account's, as HubSpot) or in each customer's zone
(``recipient``). An action reached outside is rescheduled to the next opening plus a uniform draw from
``[0, jitter)`` (the customer's own random stream ``window:<journey>``, simulator/engine/streams.py); the
instance waits at that step (logged as ``rescheduled``) and runs it then. Waits, branches and splits
are never rescheduled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simulator.engine.policies import LocalClock
from simulator.scenario.model import WEEKDAYS, ExecutionWindow
from simulator.scenario.units import format_duration
from simulator.engine.streams import Stream
from simulator.engine.windows import opening

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine.journeys import Instance, JourneyRunner

__all__ = ["Window"]


def _clock_text(seconds: int) -> str:
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}"


class Window:
    """One journey's execution window."""

    def __init__(self, runner: JourneyRunner, spec: ExecutionWindow, seed_base: int):
        self.runner = runner
        self.spec = spec
        self.days = frozenset(WEEKDAYS.index(d) for d in spec.days)
        eng = runner.engine
        if spec.timezone == "recipient":
            self.clock, self.zone_of = eng.clock, (lambda customer: int(eng.population.zone[customer]))
        else:
            self.clock, self.zone_of = LocalClock(eng.scenario.start, [spec.timezone]), (lambda customer: 0)
        self.draws = Stream(seed_base, f"window:{runner.name}", eng.population.size)  # per customer
        self.passing: dict[int, int] = {}  # customer -> step index released once at its rescheduled time
        days = "every day" if len(self.days) == 7 else ",".join(spec.days)
        self.label = (f"execution window {days} {_clock_text(spec.from_)}-{_clock_text(spec.to)} "
                      f"{spec.timezone}" + (f", jitter {format_duration(spec.jitter)}" if spec.jitter else ""))

    def next_opening(self, t: float, zone: int) -> float | None:
        """None if ``t`` is inside the window; else the simulation time of the next opening."""
        at = opening(self.spec.from_, self.spec.to, None, self.days, self.clock, zone, t)
        return None if at == t else at

    def defer(self, inst: Instance, i: int) -> bool:
        """At action step ``i``: True if it is outside the window (the instance is rescheduled), else False."""
        if self.passing.get(inst.customer) == i:
            del self.passing[inst.customer]
            return False
        runner = self.runner
        eng = runner.engine
        zone = self.zone_of(inst.customer)
        opening = self.next_opening(eng.now, zone)
        if opening is None:
            return False
        target = opening + (self.draws.of(inst.customer).random() * self.spec.jitter if self.spec.jitter else 0.0)
        local = self.clock.local(eng.now, zone).strftime("%a %H:%M")
        eng.log.record(eng.now, "rescheduled", runner.cid(inst.customer), journey=runner.name,
                       step=runner.steps[i].id, system=runner.j.reads_from,
                       detail=f"{self.label}: reached {local} local; runs {eng.stamp(target)}")
        inst.epoch += 1
        epoch = inst.epoch

        def resume() -> None:
            if inst.epoch != epoch or runner.active.get(inst.customer) is not inst:
                return
            self.passing[inst.customer] = i
            runner.run(inst, i)
            self.passing.pop(inst.customer, None)  # not used when an exit check before the step ended it

        eng.at(target, resume)
        return True
