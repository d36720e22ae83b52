"""The behavioural response model: delivery-driven rate lifts of ``poisson`` events, and fatigue opt-outs.

Rate lifts (docs/response.md). A ``poisson`` event with ``response: [{to, multiply, for}]`` is not
pregenerated; each generated customer ``c`` gets a Poisson process whose rate at time ``t`` is

    h_c(t) = base_c * M_c(t),   M_c(t) = product of ``multiply`` over the lifts active at t,

a lift being active during ``[d, d + for)`` after a delivery at ``d`` that matches its ``to`` (the
message's name, or its channel). The process is simulated by the time change: draw ``E ~ Exp(1)``;
the next occurrence is when the cumulative hazard since the last one reaches ``E``. The n-th ``E`` of
customer c is ``-log(u)`` for the uniform hashed from (stream key, c, n) (:func:`simulator.engine.streams.unit_exponential`), so it is the same in every
run with the same seed, whatever else happened: two runs that differ only in deliveries share every
customer's draws (common random numbers), and a lift >= 1 can only bring each occurrence earlier.
Whenever the rate changes (a lift starts or ends) the hazard used so far is subtracted and the
occurrence rescheduled from the rest, which gives exactly the law of the piecewise-constant-rate
process. An occurrence
goes through :meth:`Engine.fire` like any population event (``when`` on truth, ``sets``, opt-outs, sync,
``after`` followers), with the rate and the active lifts in its ``detail``. The stream key is the one
draw from ``child_rng(seed_base, "response:<event>")``.

Fatigue: a channel's ``behaviour.<channel>.fatigue: {window, unsubscribe: [p1, p2, ...], delay}``:
the k-th delivery on the channel to a customer within the trailing window (this one included)
makes them opt out with probability ``p_k`` (the last entry for k beyond the list), ``delay`` later
(no draw while the customer has truly opted out or an opt-out is pending), as a
``<channel>_unsubscribed`` event at the channel system that sets ``consent.<channel>`` to false and
syncs like any unsubscribe. Draws come from the customer's own stream ``fatigue:<channel>``
(simulator/engine/streams.py: the opt-out uniform, then the delay), so they never depend on other customers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.population import child_rng
from simulator.engine.streams import Stream, unit_exponential, unit_exponentials
from simulator.scenario.model import ExogenousEvent, Fatigue
from simulator.scenario.rates import customer_rates

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine.channels import Channel
    from simulator.engine import Engine

__all__ = ["ResponseModel", "ResponseProcess", "FatigueRule", "unit_exponential", "unit_exponentials"]


@dataclass(eq=False)
class _Lift:
    end: float
    factor: float
    label: str


@dataclass(eq=False)
class ResponseProcess:
    """One response event's per-customer rate processes (generated customers only)."""

    engine: Engine
    event: ExogenousEvent
    base: np.ndarray  # rate per second of each generated customer
    rng: np.random.Generator
    by_message: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # name -> [(factor, for)]
    by_channel: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for r in self.event.response:
            if r.to in self.engine.scenario.messages:
                self.by_message.setdefault(r.to, []).append((r.multiply, r.for_))
            else:
                self.by_channel.setdefault(r.to, []).append((r.multiply, r.for_))
        n = len(self.base)
        self.key = int(self.rng.integers(0, 2**63))  # the stream's one draw: the key of every Exp(1) below
        self.count = np.zeros(n, dtype=np.int64)  # occurrences so far: the index of the next draw
        self.remaining = unit_exponentials(self.key, np.arange(n, dtype=np.uint64), self.count.astype(np.uint64))
        self.last = np.zeros(n)  # when ``remaining`` was last brought up to date
        self.token = np.zeros(n, dtype=np.int64)  # bumped on every reschedule: older timers are stale
        self.lifts: dict[int, list[_Lift]] = {}  # active lifts of customers that have any

    def first(self) -> tuple[np.ndarray, np.ndarray]:
        """Times and customers of every first occurrence before the horizon at the baseline rates
        (scheduled with token 0: a lift before then makes them stale)."""
        positive = self.base > 0
        t = np.full(len(self.base), np.inf)
        t[positive] = self.remaining[positive] / self.base[positive]
        who = np.flatnonzero(t < self.engine.horizon)
        return t[who], who

    def multiplier(self, customer: int) -> float:
        return math.prod(lift.factor for lift in self.lifts.get(customer, ()))

    def rate(self, customer: int) -> float:
        lifts = self.lifts.get(customer)
        return float(self.base[customer]) * (math.prod(x.factor for x in lifts) if lifts else 1.0)

    def _advance(self, customer: int, now: float) -> None:
        """Spend the hazard accumulated at the current rate since ``last``."""
        used = self.rate(customer) * (now - self.last[customer])
        self.remaining[customer] = max(0.0, self.remaining[customer] - used)
        self.last[customer] = now

    def _schedule(self, customer: int, now: float) -> None:
        self.token[customer] += 1
        token = int(self.token[customer])
        rate = self.rate(customer)
        if rate > 0:
            t = now + self.remaining[customer] / rate
            if t < self.engine.horizon:
                self.engine.at(t, lambda: self.occur(customer, token))

    def occur(self, customer: int, token: int) -> None:
        """A scheduled occurrence: fire the event unless the rate changed since it was scheduled."""
        if token != self.token[customer]:
            return
        eng = self.engine
        now = eng.now
        detail = self.detail(customer)
        self.count[customer] += 1
        self.remaining[customer] = unit_exponential(self.key, customer, int(self.count[customer]))
        self.last[customer] = now
        self._schedule(customer, now)
        eng.fire(customer, self.event.name, detail)

    def detail(self, customer: int) -> str:
        lifts = self.lifts.get(customer, ())
        base = self.base[customer] * 86400.0
        text = f"response: rate {base:g}/d x{self.multiplier(customer):g}"
        if lifts:
            text += "; lifts: " + ", ".join(f"{x.label} x{x.factor:g} until {self.engine.stamp(x.end)}" for x in lifts)
        return text

    def delivered(self, customer: int, message: str, channel: str) -> None:
        """Start the lifts a delivery of ``message`` on ``channel`` matches."""
        matched = self.by_message.get(message, []) + self.by_channel.get(channel, [])
        if not matched:
            return
        eng = self.engine
        now = eng.now
        self._advance(customer, now)
        active = self.lifts.setdefault(customer, [])
        label = f"{message} delivered {eng.stamp(now)}"
        for factor, duration in matched:
            lift = _Lift(now + duration, factor, label)
            active.append(lift)
            if lift.end < eng.horizon:
                eng.at(lift.end, lambda x=lift: self._expire(customer, x))
        self._schedule(customer, now)

    def _expire(self, customer: int, lift: _Lift) -> None:
        now = self.engine.now
        self._advance(customer, now)
        active = self.lifts[customer]
        active.remove(lift)
        if not active:
            del self.lifts[customer]
        self._schedule(customer, now)


@dataclass(eq=False)
class FatigueRule:
    """One channel's fatigue opt-outs: p_k for the k-th delivery within the trailing window."""

    spec: Fatigue
    draws: Stream  # per customer: fatigue:<channel>
    recent: dict[int, deque[float]] = field(default_factory=dict)  # customer -> delivery times in window
    pending: set[int] = field(default_factory=set)  # customers whose opt-out is drawn but not yet made

    def probability(self, customer: int, now: float) -> float:
        """Record a delivery now and return its opt-out probability."""
        times = self.recent.setdefault(customer, deque())
        while times and times[0] <= now - self.spec.window:
            times.popleft()
        times.append(now)
        k = len(times)
        schedule = self.spec.unsubscribe
        return schedule[min(k, len(schedule)) - 1]

    def delivered(self, customer: int, channel: Channel) -> None:
        eng = channel.engine
        now = eng.now
        p = self.probability(customer, now)
        ch = channel.channel
        if customer in self.pending or not eng.replicas.truth.entry(customer, f"consent.{ch}")[0]:
            return  # already opted out (truly), or about to: nothing more to opt out of
        draws = self.draws.of(customer)
        if p and draws.random() < p:
            later = now + float(self.spec.delay.sample(draws))
            self.pending.add(customer)
            eng.at(later, lambda: self._opt_out(customer, channel))

    def _opt_out(self, customer: int, channel: Channel) -> None:
        self.pending.discard(customer)
        ch = channel.channel
        channel._emit(customer, f"{ch}_unsubscribed", [(f"consent.{ch}", False)])


class ResponseModel:
    """Everything of the response model one run uses; :meth:`build` gives None when nothing is configured."""

    def __init__(self, engine: Engine, processes: list[ResponseProcess], fatigue: dict[str, FatigueRule]):
        self.engine = engine
        self.processes = processes
        self.fatigue = fatigue

    @classmethod
    def build(cls, engine: Engine) -> ResponseModel | None:
        sc = engine.scenario
        pop = engine.population
        processes = []
        for ev in sc.population.events:
            if ev.response and ev.poisson is not None:
                rate = customer_rates(ev.poisson.rate_per_day, pop.attributes, pop.persons)  # docs/identity.md
                base = np.broadcast_to(np.asarray(rate, dtype=np.float64), (pop.persons,)) / 86400.0
                processes.append(ResponseProcess(engine, ev, np.array(base),
                                                 child_rng(engine.seed_base, f"response:{ev.name}")))
        fatigue = {}
        for ch in sorted(sc.channel_systems):
            spec = getattr(sc.population.behaviour, ch).fatigue
            if spec is not None:
                fatigue[ch] = FatigueRule(spec, Stream(engine.seed_base, f"fatigue:{ch}", pop.size))
        if not processes and not fatigue:
            return None
        return cls(engine, processes, fatigue)

    def start(self) -> None:
        """Schedule every customer's first occurrence of each response event (one process, in time order)."""
        if self.processes:
            self.engine.env.process(self._first_occurrences())

    def _first_occurrences(self):
        """One SimPy process plays every first occurrence in time order (ties: customer, then event)."""
        env = self.engine.env
        parts = [(*p.first(), k) for k, p in enumerate(self.processes)]
        times = np.concatenate([t for t, _, _ in parts])
        customers = np.concatenate([c for _, c, _ in parts])
        events = np.concatenate([np.full(len(c), k) for _, c, k in parts])
        if self.engine.shard is not None:  # a shard plays only its own customers' occurrences
            keep = self.engine.shard.members[customers]
            times, customers, events = times[keep], customers[keep], events[keep]
        order = np.lexsort((events, customers, times))
        for t, c, k in zip(times[order].tolist(), customers[order].tolist(), events[order].tolist()):
            if t > env.now:
                yield env.timeout_at(t)
            self.processes[k].occur(c, 0)

    def delivered(self, customer: int, message: str, channel: Channel) -> None:
        """A message was delivered to ``customer`` (called by :meth:`Channel.deliver`)."""
        pop = self.engine.population  # with identity: a delivery to any profile lifts the person's rate
        person = customer if pop.profiles is None else int(pop.profiles.person[customer])
        if person < pop.persons:
            for process in self.processes:
                process.delivered(person, message, channel.channel)
        rule = self.fatigue.get(channel.channel)
        if rule is not None:
            rule.delivered(customer, channel)
