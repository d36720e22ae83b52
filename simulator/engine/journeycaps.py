"""Journey caps: ``policies.journey_caps`` (docs/semantics.md, "Journey caps").

Caps on how many journeys a customer enters, across the journeys a cap lists (all when it lists none):
``kind: entries`` allows at most ``max`` entries per ``per`` (a sliding window, or whole UTC days with
``window: calendar``); ``kind: concurrent`` at most ``max`` of the listed journeys at once. An entry the
caps refuse is an ``entry-skip`` naming the cap. ``starts_after``: the cap refuses nothing before that
long after the scenario start (entries in that time still count afterwards).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from simulator.scenario.units import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine import Engine
    from simulator.engine.journeys import JourneyRunner

__all__ = ["JourneyCaps"]

DAY = 86400.0


class JourneyCaps:
    """Every journey cap of a scenario, shared by the journeys' runners."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.caps = tuple(engine.scenario.policies.journey_caps)
        names = [j.name for j in engine.scenario.journeys]
        self.members = [frozenset(cap.journeys or names) for cap in self.caps]
        self.entries: list[dict[int, list[float]]] = [{} for _ in self.caps]
        self.t0 = engine.scenario.start.timestamp()
        self.labels = []
        for cap, members in zip(self.caps, self.members):
            scope = "every journey" if not cap.journeys else ", ".join(cap.journeys)
            if cap.kind == "entries":
                per = format_duration(cap.per)  # type: ignore[arg-type]
                noun = "entry" if cap.max == 1 else "entries"
                text = f"at most {cap.max} {noun} per {per} ({'UTC days' if cap.window == 'calendar' else 'sliding'})"
            else:
                text = f"at most {cap.max} at once"
            self.labels.append(f"{text} across {scope}")

    def _utc_day(self, t: float) -> int:
        return math.floor((self.t0 + t) / DAY)

    def count(self, i: int, customer: int, now: float) -> int:
        """Entries (kind entries) or journeys the customer is in now (kind concurrent) that cap ``i`` counts."""
        cap = self.caps[i]
        if cap.kind == "concurrent":
            return sum(1 for r in self.engine.runners if r.name in self.members[i] and customer in r.active)
        times = self.entries[i].get(customer, ())
        per = float(cap.per)  # type: ignore[arg-type]
        if cap.window == "calendar":
            first = self._utc_day(now) - int(per // DAY) + 1
            return sum(1 for s in times if self._utc_day(s) >= first)
        return sum(1 for s in times if s + per > now)

    def why(self, runner: JourneyRunner, customer: int, now: float) -> str | None:
        """Why a cap refuses ``customer`` entering ``runner``'s journey now, or None."""
        for i, cap in enumerate(self.caps):
            if runner.name not in self.members[i] or now < cap.starts_after:
                continue
            n = self.count(i, customer, now)
            if n >= cap.max:
                return f"journey cap {i}: {self.labels[i]} (has {n})"
        return None

    def record(self, runner: JourneyRunner, customer: int, now: float) -> None:
        """``customer`` entered ``runner``'s journey now."""
        for i, cap in enumerate(self.caps):
            if cap.kind == "entries" and runner.name in self.members[i]:
                self.entries[i].setdefault(customer, []).append(now)
