"""Segments recomputed on an interval, and segment entries on joining (docs/semantics.md, "Segments
recomputed on an interval" and "Entering on joining a segment").

``journeys[].recompute_every: N``: the orchestrator does not see ``reads_from`` live; it computes the
journey's segments from it every N, at N, 2N, 3N, ... after the start. The runner reads a private copy
of ``reads_from`` (:class:`Recompute`) refreshed at those instants: segment entries, branch conditions,
exit checks and re-checks, and ``wait_until`` arrivals all see a change at the first refresh after it
arrived. The entry event of an event-entry journey is the exception: it is taken at once.

``entry.enter: join`` (segment entries): an evaluation enters only customers who were not in the segment
at the previous evaluation (:class:`Joins`).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
from simpy.events import URGENT

from simulator.engine.systems import Replica

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine.journeys import JourneyRunner

__all__ = ["Recompute", "Joins"]


class Recompute:
    """The runner's copy of ``reads_from``, refreshed every ``recompute_every`` (installs itself as
    ``runner.reads``)."""

    __slots__ = ("runner", "every", "live", "copy", "pending", "due", "flushing", "keys")

    def __init__(self, runner: JourneyRunner, every: float):
        self.runner = runner
        self.every = float(every)
        self.live = runner.reads
        self.copy = Replica(self.live.name, self.live._initial)
        self.pending: dict[tuple[int, str], None] = {}  # arrivals since the last refresh, in order
        self.due: float | None = None                    # the refresh scheduled, if any
        self.flushing: tuple[int, str] | None = None  # the change a refresh is handing to the runner
        self.keys = read_keys(runner)  # changes to other keys concern no decision of this journey
        runner.reads = self.copy

    def defer(self, customer: int, key: str) -> bool:
        """A change of ``key`` arrived at ``reads_from``: True if the runner must not see it before the next
        refresh (it is queued); False for the entry event (copied at once) and for the change a refresh
        hands over (a change made meanwhile, e.g. by an update step, waits for the next refresh)."""
        if self.flushing == (customer, key) and self.live.version(customer, key) == self.copy.version(customer, key):
            return False
        if key == self.runner.entry_key:
            self._take(customer, key)
            return False
        if key not in self.keys:
            return True  # nothing of this journey reads it: no copy, no reaction (as live, where it does nothing)
        self.pending[(customer, key)] = None
        if self.due is None:
            now = self.runner.engine.now
            self.due = (math.floor(now / self.every) + 1) * self.every
            # URGENT: at its instant the refresh runs before the waits, sends and evaluations due then
            self.runner.engine.env.call_at(self.due, self.refresh, URGENT)
        return True

    def _take(self, customer: int, key: str) -> None:
        value, version, changed, arrived = self.live.entry(customer, key)
        self.copy.put(customer, key, value, version, changed, arrived)

    def refresh(self) -> None:
        """Copy every change that arrived since the last refresh, then let the runner react to each."""
        pending, self.pending, self.due = self.pending, {}, None
        now = self.runner.engine.now
        for customer, key in pending:
            self._take(customer, key)
        try:
            for customer, key in pending:
                self.flushing = (customer, key)
                self.runner.on_change(customer, key, now)
        finally:
            self.flushing = None


def read_keys(runner: JourneyRunner) -> frozenset[str]:
    """Every ``reads_from`` key a decision of the journey reads: the entry segment, branch conditions,
    exit_when and wait_until events."""
    from simulator.engine.journeys import _keys

    j = runner.j
    keys = set(runner.exit_keys)
    if j.entry.segment is not None:
        keys |= _keys(j.entry.segment)
    for step in j.steps:
        for arm in step.branch or []:
            if arm.when is not None:
                keys |= _keys(arm.when)
        if step.wait_until is not None:
            keys.add(f"@{step.wait_until.event}")
    return frozenset(keys)


class Joins:
    """``entry.enter: join``: who joined the segment since the previous evaluation."""

    __slots__ = ("was",)

    def __init__(self) -> None:
        self.was: np.ndarray | None = None  # boolean membership at the previous evaluation

    def since_last(self, members: np.ndarray, size: int) -> np.ndarray:
        """Of ``members`` (customer indices in the segment now), those not in it at the previous evaluation;
        the first evaluation counts every member as joined."""
        now = np.zeros(size, dtype=bool)
        now[members] = True
        joined = members if self.was is None else members[~self.was[members]]
        self.was = now
        return joined
