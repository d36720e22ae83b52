"""Polled waits: ``wait_until: {event: E, poll: N}`` (docs/semantics.md, "Polling waits").

An ordinary ``wait_until`` ends the moment the event arrives at the journey's ``reads_from`` replica.
A polled one is parked: the orchestrator looks at the replica only at ``start + N``, ``start + 2N``, ...
(``start`` = when the customer reached the wait), so an event that arrives between two looks is seen at
the next look. "Arrived" means the replica holds a newer version of ``@E`` than when the wait began.

With a ``timeout`` T the wait ends on timeout at ``start + T`` unless a look sees the event first; a look
due at that same instant comes first (the event seen then ends the wait as an event, not a timeout).

The customer is not on the runner's event-wait index, so arrivals never wake it; ``inst.wait_key`` names
the polled key (``@E polled every 10m``) so ``active-at-end`` records say what it waited for.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulator.scenario.units import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine.journeys import Instance, JourneyRunner
    from simulator.scenario.model import Step

__all__ = ["park"]


def park(runner: JourneyRunner, inst: Instance, step: Step, i: int) -> None:
    """The instance reached polled wait_until step ``i``: schedule its looks (and its timeout)."""
    wu = step.wait_until
    assert wu is not None and wu.poll is not None
    eng = runner.engine
    key = f"@{wu.event}"
    poll = float(wu.poll)
    start = eng.now
    limit = float(wu.timeout) if wu.timeout is not None else math.inf
    base = runner.reads.version(inst.customer, key)
    inst.wait_key = f"{key} polled every {format_duration(poll)}"  # never a replica key: arrivals do not wake it
    inst.epoch += 1
    epoch = inst.epoch
    then = runner._target(wu.then, runner.next_of[i])
    on_timeout = runner._target(wu.on_timeout, runner.next_of[i])

    def wake(k: int) -> None:
        """The k-th wake-up, at ``start + min(k * poll, timeout)``."""
        if inst.epoch != epoch or runner.active.get(inst.customer) is not inst:
            return
        offset = k * poll
        if offset <= limit:  # a look (one due exactly at the timeout comes first)
            entry = runner.reads.entry(inst.customer, key)
            if entry[1] > base:
                runner._leave_wait(inst)
                eng.log.record(eng.now, "wait-end", runner.cid(inst.customer), journey=runner.name, step=step.id,
                               system=runner.j.reads_from, field=key, value=entry[0], version=entry[1],
                               detail=f"event seen at poll {k} (arrived at {runner.j.reads_from} "
                                      f"{eng.stamp(entry[3])}; polled every {format_duration(poll)})")
                if runner.check == "after_waits" and runner._exit_check(inst, "after wait"):
                    return
                runner.run(inst, then)
                return
        if offset >= limit:
            runner._timeout(inst, epoch, on_timeout)
            return
        eng.at(start + min((k + 1) * poll, limit), lambda: wake(k + 1))

    eng.at(start + min(poll, limit), lambda: wake(1))
