"""The run loop: one :class:`Engine` per simulation (or per shard of one), on one :class:`Clock`.

Phases (desmod-style): build (population, replicas, links, journeys) -> run (the clock) -> finalise
(instances still inside). Writing the run folder, the findings and the report are the pipeline's
(:mod:`simulator.pipeline`), not the engine's. Randomness: one ``numpy.random.SeedSequence`` per run, and every consumer draws
from its own named stream, so changing one part of a scenario does not shift the draws of the
others. What is built before the clock starts (population, exogenous schedule, holdouts) is drawn
vectorised over the whole population from ``child_rng`` streams. Everything drawn while the clock
runs comes from per-customer streams (simulator/engine/streams.py): customer c's n-th draw of a stream is
a hash of (stream, c, n), so it never depends on which other customers exist or in which order
they draw, and a run split into customer shards gives every customer the same draws. Streams:
``after`` (follower events), ``split:<journey>``, ``window:<journey>``, ``sync:<i>:<link>``
(latency and failures), ``channel:<system>`` (delivery delay), ``behaviour:<system>``,
``webhooks:<system>``, ``fatigue:<channel>``; ``response:<event>`` keys the response model's
per-customer hashes. The one shared run-time stream is ``sync:<i>:<link>:duration``: one batch-run
duration per run, in run order, the same in every shard because every shard runs the same timetable.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import numpy as np
import simpy

from simulator.engine.channels import Orchestrator, Renderer, template_fields
from simulator.engine.clock import Clock
from simulator.engine.events import EventLog
from simulator.engine.journeycaps import JourneyCaps
from simulator.engine.journeys import JourneyRunner
from simulator.engine.policies import LocalClock
from simulator.engine.population import (
    ScriptedCustomer,
    build_population,
    child_rng,
    exogenous_schedule,
    followers,
)
from simulator.engine.response import ResponseModel
from simulator.engine.shard import Shard
from simulator.engine.streams import Stream
from simulator.engine.systems import Replicas, SyncNetwork
from simulator.scenario.model import Scenario
from simulator.scenario.semantics import FieldCatalogue
from simulator.scenario.units import format_span, format_stamp

__all__ = ["Engine"]

#: SimPy priority for work that must happen after everything else scheduled at the same instant.
_END_OF_INSTANT = 2


class Engine:
    """One simulation: build everything from the frozen scenario, then run the clock."""

    def __init__(self, scenario: Scenario, *, seed: int, log: EventLog, size: int | None = None,
                 scripted: Sequence[ScriptedCustomer] = (), without: frozenset[str] = frozenset(),
                 shard: Shard | None = None):
        self.scenario = scenario
        #: a shard of a sharded run simulates only ``shard.members`` (simulator/sharded.py); None: everyone
        self.shard = shard
        self.sharding: dict[str, Any] | None = None  # figures of a sharded run (rounds, ...), set by simulate()
        #: channels whose sends a what-if run leaves out (``run --impact``; simulator/projections/impact.py)
        self.without = without
        self.seed = seed
        self.log = log
        self.size = size
        self.scripted = tuple(scripted)  # as given (a sharded run hands them to its shards)
        self.seed_base = int(np.random.SeedSequence(seed).generate_state(1)[0])
        scripted, self._opt_outs = _split_opt_outs(scenario, scripted)
        self.population = build_population(scenario, child_rng(self.seed_base, "population"), size=size,
                                           scripted=scripted)
        self.horizon = scenario.duration
        self.schedule = exogenous_schedule(scenario, self.population, child_rng(self.seed_base, "exogenous"),
                                           horizon=self.horizon)
        if shard is not None:
            shard.attach(self.population.size)
            keep = shard.members[self.schedule.customers]
            self.schedule = type(self.schedule)(self.schedule.times[keep], self.schedule.customers[keep],
                                                self.schedule.events[keep])
        self.env = Clock()
        self.replicas = Replicas(self.population, scenario.systems)
        self.net = SyncNetwork(self.env, scenario, self.replicas, log, self.population, self.seed_base,
                               on_change=self._on_change)
        self.net.shard = shard
        self.clock = LocalClock(scenario.start, self.population.zone_names)
        self.runners = [JourneyRunner(self, j, self.seed_base) for j in scenario.journeys]
        self.journey_caps = JourneyCaps(self) if scenario.policies.journey_caps else None
        self.by_system: dict[str, list[JourneyRunner]] = {}
        for runner in self.runners:
            self.by_system.setdefault(runner.j.reads_from, []).append(runner)
        self.orchestrator = Orchestrator(self, self.clock)
        self.events_by_name = {e.name: e for e in scenario.population.events}
        self.followers = {name: [scenario.population.events[i] for i in idx]
                          for name, idx in followers(scenario).items()}
        self.after_draws = Stream(self.seed_base, "after", self.population.size)  # per customer: sharded runs
        catalogue = FieldCatalogue(scenario).fields
        self._template_fields = {name: tuple(f for f in template_fields(m) if f in catalogue)
                                 for name, m in scenario.messages.items()}
        self.render = Renderer(scenario.messages, clock=lambda: scenario.start + timedelta(seconds=self.env.now))
        self.response = ResponseModel.build(self)  # None unless a scenario uses response or fatigue

    def simulates(self, customer: int) -> bool:
        """Whether this engine simulates ``customer`` (everyone, unless it runs one shard)."""
        return self.shard is None or bool(self.shard.members[customer])

    # ------------------------------------------------------------------ clock helpers

    @property
    def now(self) -> float:
        return self.env.now

    def at(self, t: float, action: Callable[[], None]) -> None:
        """Run ``action`` at simulation time ``t`` (clamped to now)."""
        self.env.call_at(t, action)

    def at_end_of_instant(self, action: Callable[[], None], priority: int = _END_OF_INSTANT) -> None:
        """Run ``action`` after everything else already due at this instant (priority arbitration);
        a higher ``priority`` runs later (channel queues place their sends after the decisions)."""
        event = simpy.Event(self.env)
        event._ok = True
        event._value = None
        event.callbacks.append(lambda _e: action())
        self.env.schedule(event, priority, 0)

    def stamp(self, t: float) -> str:
        return format_stamp(self.scenario.start, t)

    @staticmethod
    def span(seconds: float) -> str:
        return format_span(seconds)

    def template_fields(self, message: str) -> tuple[str, ...]:
        return self._template_fields[message]

    # ------------------------------------------------------------------ customer events

    def occur(self, customer: int, name: str, origin: str, changes: Sequence[tuple[str, Any]] = (),
              detail: str | None = None) -> None:
        """Event ``name`` happens to ``customer`` at ``origin`` now: truth and origin change, then sync."""
        now = self.env.now
        self.log.record(now, "event", self.population.ids[customer], system=origin, field=name, detail=detail)
        self.net.write(origin, customer, [*changes, (f"@{name}", now)], detail=f"event {name}")
        if customer < self.population.generated:  # scripted customers get only their own events
            for follower in self.followers.get(name, ()):
                after = follower.after
                draws = self.after_draws.of(customer)
                if after.probability >= 1 or draws.random() < after.probability:
                    delay = float(after.delay.sample(draws))
                    self.at(now + delay, lambda f=follower: self.fire(customer, f.name))

    def fire(self, customer: int, name: str, detail: str | None = None) -> None:
        """An exogenous (population) event: checks ``when`` on truth, applies ``sets`` and opt-outs."""
        ev = self.events_by_name[name]
        scripted = customer >= self.population.generated  # a UAT step said it happens: no precondition
        if ev.when is not None and not scripted and not ev.when(self.replicas.truth.view(customer), self.env.now):
            return
        changes: list[tuple[str, Any]] = list(ev.sets.items())
        changes += [(f"consent.{ch}", False) for ch in ev.opts_out]
        changes += [(f"consent.{ch}", True) for ch in ev.opts_in]
        self.occur(customer, name, ev.origin, changes, detail)

    def _on_change(self, system: str, customer: int, key: str, now: float) -> None:
        for runner in self.by_system.get(system, ()):
            runner.on_change(customer, key, now)

    def columns(self, system: str, keys: set[str], replica: Any = None) -> dict[str, np.ndarray]:
        """Current values of ``keys`` at ``system`` for every customer, as arrays (segment evaluation);
        ``replica``: read that copy of the system instead (a journey's recomputed segments)."""
        replica = self.replicas[system] if replica is None else replica
        pop = self.population
        out: dict[str, np.ndarray] = {}
        for key in sorted(keys):
            if key.startswith("@"):
                column = np.full(pop.size, np.nan)
            elif key.startswith("consent."):
                base = pop.consent.get(key[8:])
                column = base.copy() if base is not None else np.zeros(pop.size, bool)
            else:
                base = pop.attributes.get(key)
                column = base.astype(object) if base is not None else np.full(pop.size, None, dtype=object)
            changed = replica.changed_customers(key)
            if changed:
                if column.dtype != object and any(not isinstance(v[0], (int, float, bool)) or v[0] is None
                                                  for v in changed.values()):
                    column = column.astype(object)
                idx = np.fromiter(changed.keys(), dtype=np.int64, count=len(changed))
                column[idx] = [v[0] for v in changed.values()]
            out[key] = column
        return out

    # ------------------------------------------------------------------ running

    def _exogenous(self):
        sched = self.schedule
        env = self.env
        names = [e.name for e in self.scenario.population.events]
        for t, customer, event in zip(sched.times.tolist(), sched.customers.tolist(), sched.events.tolist()):
            if t > env.now:
                yield env.timeout_at(t)
            self.fire(customer, names[event])

    def _entries(self) -> None:
        for runner in self.runners:
            entry = runner.j.entry
            if entry.kind == "segment":
                for t in np.arange(0.0, self.horizon, entry.every).tolist():  # type: ignore[arg-type]
                    self.at(t, lambda r=runner: r.enter_segment(r.j.entry.segment, "segment"))
            elif entry.kind == "scheduled":
                t = (entry.at - self.scenario.start).total_seconds()  # type: ignore[operator]
                if 0 <= t < self.horizon:
                    self.at(t, lambda r=runner: r.enter_segment(r.j.entry.segment, "scheduled"))

    def _scripted_opt_outs(self) -> None:
        """Scripted ``opt_out:<channel>`` events: the customer unsubscribes at the channel system."""
        for name, items in self._opt_outs.items():
            customer = self.population.index_of(name)
            if not self.simulates(customer):
                continue
            for t, channel in items:
                system = self.scenario.channel_systems[channel]
                self.at(t, lambda c=customer, ch=channel, s=system: self.occur(
                    c, f"{ch}_unsubscribed", s, [(f"consent.{ch}", False)]))

    def run(self, progress: Callable[[float], None] | None = None) -> None:
        """Run the clock to the scenario's end; ``progress`` gets the simulated seconds done."""
        self.start()
        step = max(self.horizon / 200, 3600.0)
        t = 0.0
        with _young_gc_only():
            while t < self.horizon:
                t = min(self.horizon, t + step)
                self.advance(t)
                if progress is not None:
                    progress(t)
        self.finish()

    def start(self) -> None:
        """Put everything that starts the run on the clock (nothing has happened yet)."""
        self.env.process(self._exogenous())
        if self.response is not None:
            self.response.start()
        self._scripted_opt_outs()
        self.net.start_batches(self.horizon)
        self._entries()

    def advance(self, until: float) -> None:
        """Process every event before ``until`` (none at ``until`` itself: a run split in time windows
        processes each instant in exactly one window)."""
        env = self.env
        step = env.step
        while env.peek() < until:
            step()

    def finish(self) -> None:
        """The end of the run (the clock stands at the horizon): instances still inside are recorded."""
        self.env._now = max(self.env.now, self.horizon)  # SimPy has no public way to move an idle clock
        for runner in self.runners:
            runner.close()


OPT_OUT = "opt_out:"


@contextmanager
def _young_gc_only() -> Iterator[None]:
    """Move what exists (scenario, population, compiled conditions) out of the collector's sight and
    make young collections rarer while the clock runs. A run allocates millions of short-lived tuples
    and callbacks; with the default thresholds CPython rescans the long-lived heap again and again.
    Young garbage is still collected while it runs; afterwards the thresholds are restored and the
    frozen objects handed back to the collector. Results do not depend on it."""
    old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def _split_opt_outs(scenario: Scenario, scripted: Sequence[ScriptedCustomer]
                    ) -> tuple[list[ScriptedCustomer], dict[str, list[tuple[float, str]]]]:
    """Take ``opt_out:<channel>`` pseudo-events out of scripted customers' event lists.

    They are not scenario events: the engine plays them as an unsubscribe at the channel system.
    """
    from dataclasses import replace

    from simulator.errors import ScenarioError, ScenarioIssue

    cleaned: list[ScriptedCustomer] = []
    opt_outs: dict[str, list[tuple[float, str]]] = {}
    for customer in scripted:
        keep = []
        for t, name in customer.events:
            if name.startswith(OPT_OUT):
                channel = name[len(OPT_OUT):]
                if channel not in scenario.channel_systems:
                    raise ScenarioError(ScenarioIssue(f"scripted.{customer.name}.events",
                                                      f"no system serves channel '{channel}'",
                                                      hint=f"channels: {', '.join(sorted(scenario.channel_systems))}"))
                opt_outs.setdefault(customer.name, []).append((float(t), channel))
            else:
                keep.append((t, name))
        cleaned.append(replace(customer, events=tuple(keep)))
    return cleaned, opt_outs
