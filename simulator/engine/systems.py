"""Systems and sync links: every system's copy of every customer, and how copies catch up.

A *key* is what a replica holds per customer: a field name (``stage``), an event's last occurrence
(``@purchase``: value = truth time of the occurrence, version = occurrence count) or a consent flag
(``consent.email``). Replicas are sparse: every system starts in sync with truth at t = 0 (the
population's initial values, version 0) and stores only what changed since, so memory grows with
activity, not with population size x systems x fields.

Changes travel over :class:`Link` objects: ``stream`` links deliver each change after a sampled
latency; ``batch`` links run on a schedule and carry the latest version of every key that changed
since their last run, arriving when the run finishes. Records can be lost (``failure_rate``) or
retried (``retry_after``). ``apply: version`` refuses an older version than the one held;
``apply: arrival`` lets a late older version overwrite a newer one (logged as ``out-of-order``).

Outages (``[start, end)``, end exclusive; docs/semantics.md has the worked examples):

- stream, ``queue``: a change sent while down waits and is sent at ``end`` (arrives ``end`` +
  latency); ``drop``: it is lost (``sync-lost`` at the change). A record sent before ``start`` is
  in flight and lands.
- batch: a scheduled run inside the outage does not happen (``batch-skipped``). ``queue``: when
  the link is back, one catch-up run at ``end`` carries every pending change (a scheduled run at
  exactly ``end`` is that run, not a second one); ``drop``: the same catch-up run, but changes
  made while down were lost (``sync-lost`` at the change), so it carries only the earlier ones;
  ``skip``: no catch-up, everything waits for the next scheduled run. A run started before
  ``start`` completes.
- overlapping outages: down on their union, each part in the most damaging mode covering it
  (:func:`outage_segments`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import simpy

from simulator.engine.events import EventLog
from simulator.engine.policies import LocalClock
from simulator.engine.population import Population, child_rng
from simulator.scenario.model import Scenario, SyncLink
from simulator.scenario.units import format_span, format_stamp
from simulator.engine.streams import Stream

__all__ = ["Replica", "Replicas", "Link", "SyncNetwork", "TRUTH", "carries", "run_detail"]

#: Name of the pseudo-system holding the truth.
TRUTH = "truth"

Entry = tuple[Any, int, float, float]  # value, version, truth time of the change, arrival time here
Record = tuple[str, Any, int, float]  # key, value, version, truth time of the change: one key in transit
Snapshot = tuple[Any, int, float]  # value, version, truth time of the change: a key waiting for a batch run
#: start, end (exclusive), on_outage, and the start and end of the declared outage it comes from
Outage = tuple[float, float, str, float, float]

#: Where declared outages overlap, the more damaging mode applies.
_SEVERITY = {"drop": 2, "skip": 1, "queue": 0}


def outage_segments(declared: Iterable[tuple[float, float, str]]) -> list[Outage]:
    """Disjoint windows of a link's outages, in time order.

    Outages that do not overlap come back unchanged. Where they overlap, the link is down on their
    union and each part takes the most damaging mode among the outages covering it (``drop`` over
    ``skip`` over ``queue``; the earlier-listed one on a tie); the parts keep their outage's declared
    window for messages. Parts may touch: the link stays down across them.
    """
    declared = [(float(s), float(e), a) for s, e, a in declared if e > s]
    cuts = sorted({t for s, e, _a in declared for t in (s, e)})
    parts: list[Outage] = []
    for lo, hi in zip(cuts, cuts[1:]):
        covering = [(s, e, a) for s, e, a in declared if s <= lo and hi <= e]
        if not covering:
            continue
        s, e, a = max(covering, key=lambda o: _SEVERITY[o[2]])  # max keeps the first of equals
        if parts and parts[-1][1] == lo and parts[-1][2:] == (a, s, e):
            parts[-1] = (parts[-1][0], hi, a, s, e)
        else:
            parts.append((lo, hi, a, s, e))
    return parts


class Replica:
    """One system's sparse copy of every customer's keys."""

    __slots__ = ("name", "_initial", "_changed")

    def __init__(self, name: str, initial: Callable[[int, str], Any]):
        self.name = name
        self._initial = initial
        self._changed: dict[str, dict[int, Entry]] = {}

    def entry(self, customer: int, key: str) -> Entry:
        """(value, version, truth time of that version, arrival time here) of ``key``."""
        table = self._changed.get(key)
        if table is not None:
            hit = table.get(customer)
            if hit is not None:
                return hit
        return (self._initial(customer, key), 0, 0.0, 0.0)

    def get_value(self, customer: int, key: str) -> Any:
        return self.entry(customer, key)[0]

    def version(self, customer: int, key: str) -> int:
        return self.entry(customer, key)[1]

    def put(self, customer: int, key: str, value: Any, version: int, changed_at: float, now: float) -> None:
        self._changed.setdefault(key, {})[customer] = (value, version, changed_at, now)

    def changed_customers(self, key: str) -> dict[int, Entry]:
        """Customers whose ``key`` differs from the initial load (read-only view)."""
        return self._changed.get(key, {})

    def view(self, customer: int) -> _View:
        """A mapping-like view for condition evaluation (``get(key)``)."""
        return _View(self, customer)


class _View:
    __slots__ = ("_replica", "_customer")

    def __init__(self, replica: Replica, customer: int):
        self._replica = replica
        self._customer = customer

    def get(self, key: str, default: Any = None) -> Any:
        value = self._replica.entry(self._customer, key)[0]
        return default if value is None else value

    def __getitem__(self, key: str) -> Any:
        return self.get(key)


def _initial_getter(population: Population, key: str) -> Callable[[int], Any]:
    """customer -> the t=0 value of ``key`` (a hot path: every read of an unchanged key lands here).
    Same values as :meth:`Population.value`: Python scalars, consent as bool, events None."""
    if key.startswith("@"):
        return lambda _customer: None
    if key.startswith("consent."):
        consent = population.consent.get(key[8:])
        if consent is None:
            return lambda _customer: False
        return lambda customer: bool(consent[customer])
    column = population.attributes.get(key)
    if key in population.faker_fields or column is None:
        return lambda customer: population.value(customer, key)
    if column.dtype == object:
        def value(customer: int) -> Any:
            out = column[customer]
            return out.item() if isinstance(out, np.generic) else out
        return value
    return column.item  # numpy scalar -> Python scalar, as Population.value does


class Replicas:
    """Truth plus one :class:`Replica` per system, all starting from the population's initial values."""

    def __init__(self, population: Population, systems: Iterable[str]):
        self.population = population

        getters: dict[str, Callable[[int], Any]] = {}

        def initial(customer: int, key: str) -> Any:
            getter = getters.get(key)
            if getter is None:
                getter = getters[key] = _initial_getter(population, key)
            return getter(customer)

        self.truth = Replica(TRUTH, initial)
        self.systems: dict[str, Replica] = {name: Replica(name, initial) for name in systems}

    def __getitem__(self, system: str) -> Replica:
        return self.truth if system == TRUTH else self.systems[system]


def carries(link: SyncLink, key: str) -> bool:
    """Whether ``link`` transports ``key`` (field, ``@event`` or ``consent.<channel>``)."""
    if key.startswith("@"):
        return "events" in link.fields or key[1:] in link.fields
    if key.startswith("consent."):
        return "consent" in link.fields
    return key in link.fields


class Link:
    """A running sync link: stream deliveries or batch runs, failures, outages, apply rule."""

    def __init__(self, net: SyncNetwork, spec: SyncLink, draws: Stream, duration_rng: np.random.Generator):
        self.net = net
        self.spec = spec
        self.label = spec.label
        self.draws = draws  # per customer: latency and failure draws of its records
        self.duration_rng = duration_rng  # one draw per batch run, in run order (the same in every shard)
        # batch: keys changed since the last run, with the version the link will carry (the latest
        # change the link accepted: equal to the source's copy unless an outage dropped a newer one)
        self.pending: dict[tuple[int, str], Snapshot] = {}
        # batch: records that failed in a run, with the earliest run time that may retry them
        self.retrying: dict[tuple[int, str], tuple[float, Snapshot]] = {}
        self.outages: list[Outage] = outage_segments(
            (self.net.seconds(o.start), self.net.seconds(o.start) + o.duration, o.on_outage) for o in spec.outages)
        self._carry: dict[str, bool] = {}

    def carries(self, key: str) -> bool:
        hit = self._carry.get(key)
        if hit is None:
            hit = self._carry[key] = carries(self.spec, key)
        return hit

    def outage_at(self, t: float) -> Outage | None:
        for outage in self.outages:
            if outage[0] <= t < outage[1]:
                return outage
        return None

    # ---------------------------------------------------------------- stream

    def send(self, customer: int, keys: list[str]) -> None:
        """Keys changed together at this link's source: stream them as one record, or queue them for the batch."""
        keys = [k for k in keys if self.carries(k)]
        if not keys:
            return
        source = self.net.replicas[self.spec.from_]
        if self.spec.mode == "batch":
            outage = self.outage_at(self.net.env.now)
            if outage is not None and outage[2] == "drop":
                self.net.lost(self, customer, [(key, *source.entry(customer, key)[:3]) for key in keys],
                              self._dropped(outage))
                return
            for key in keys:
                self.pending.pop((customer, key), None)
                self.retrying.pop((customer, key), None)  # a newer change supersedes a failed older record
                self.pending[(customer, key)] = source.entry(customer, key)[:3]
            return
        record = [(key, *source.entry(customer, key)[:3]) for key in keys]
        now = self.net.env.now
        self._transmit(customer, record, now, float(self.spec.latency.sample(self.draws.of(customer))))

    def _transmit(self, customer: int, record: list[Record], sent: float, latency: float) -> None:
        net = self.net
        outage = self.outage_at(sent)
        if outage is not None:
            end, action = outage[1], outage[2]
            if action == "drop":
                net.lost(self, customer, record, self._dropped(outage))
                return
            for key, _v, version, _c in record:
                net.log.record(sent, "sync-queued", net.customer_id(customer), system=self.spec.to, field=key,
                               version=version, detail=f"link={self.label}; outage until {net.stamp(end)}")
            # sent again when the link is back (and checked again: another outage may start right then)
            net.at(end, lambda: self._transmit(customer, record, end, latency))
            return
        if self.spec.failure_rate and self.draws.of(customer).random() < self.spec.failure_rate:
            if self.spec.retry_after is None:
                net.lost(self, customer, record, f"record lost by {self.label} (failure_rate "
                         f"{self.spec.failure_rate:g})")
                return
            for key, _v, version, _c in record:
                net.log.record(sent, "sync-retry", net.customer_id(customer), system=self.spec.to, field=key,
                               version=version,
                               detail=f"link={self.label}; retry after {net.span(self.spec.retry_after)}")
            retry_at = sent + self.spec.retry_after
            net.at(retry_at, lambda: self._transmit(customer, record, retry_at,
                                                    float(self.spec.latency.sample(self.draws.of(customer)))))
            return
        net.at(sent + latency, lambda: net.apply(self, customer, record))

    def _dropped(self, outage: Outage) -> str:
        start, end = outage[3], outage[4]
        return f"dropped in outage of {self.label} ({self.net.stamp(start)} for {self.net.span(end - start)})"

    # ---------------------------------------------------------------- batch

    def run_times(self, horizon: float) -> list[float]:
        """Scheduled start times of batch runs within [0, horizon), in simulation seconds, outages ignored.

        A daily ``at`` time is local wall time in the link's zone, read as quiet hours and calendar caps
        read theirs (:meth:`LocalClock.at_local`): a time that does not exist on a spring-forward day
        runs at the first instant after the gap (02:30 New York on 8 March 2026 -> 03:00 EDT); a time
        that happens twice on a fall-back day runs once, at its first occurrence. Clock times that land
        on one instant make one run.
        """
        spec = self.spec
        if spec.every is not None:
            first = spec.offset % spec.every
            return [float(t) for t in np.arange(first, horizon, spec.every)]
        clock = LocalClock(self.net.start, [spec.timezone])
        day = self.net.start.astimezone(ZoneInfo(spec.timezone)).date().toordinal()
        times: set[float] = set()
        while clock.at_local(day, 0, 0) < horizon:
            for seconds in spec.clock_times:
                t = clock.at_local(day, seconds, 0)
                if 0 <= t < horizon:
                    times.add(float(t))
            day += 1
        return sorted(times)

    def run_plan(self, horizon: float) -> list[tuple[float, str, Outage | None]]:
        """Every batch run of the link within [0, horizon), outages applied, in time order.

        Each item is ``(t, what, outage)``: ``what`` is ``"run"`` (a scheduled run; ``outage`` is the
        outage that ended exactly at ``t`` when this run is also its catch-up), ``"skipped"`` (a
        scheduled run inside ``outage``) or ``"catch-up"`` (the extra run at the end of a ``queue`` or
        ``drop`` outage that made the link miss a run).
        """
        plan: dict[float, tuple[str, Outage | None]] = {}
        for t in self.run_times(horizon):
            outage = self.outage_at(t)
            plan[t] = ("run", None) if outage is None else ("skipped", outage)
        missed = sorted({o for what, o in plan.values() if what == "skipped" and o is not None and o[2] != "skip"})
        done: set[Outage] = set()
        while missed:
            outage = missed.pop(0)
            end = outage[1]
            if outage in done or end >= horizon:
                continue
            done.add(outage)
            if end in plan:  # a scheduled run at exactly the end is the catch-up run: one run, not two
                if plan[end][0] == "run":
                    plan[end] = ("run", outage)
                continue  # (or it is inside an adjacent outage, which has its own catch-up rule)
            after = self.outage_at(end)  # outages may touch: the catch-up is then missed like a run
            if after is None:
                plan[end] = ("catch-up", outage)
            else:
                plan[end] = ("skipped", after)
                if after[2] != "skip":
                    missed.append(after)
        return [(t, what, outage) for t, (what, outage) in sorted(plan.items())]

    def skip_run(self, outage: Outage, next_run: float | None) -> None:
        """A scheduled run that does not happen because the link is down; ``next_run``: when the records go."""
        net = self.net
        counts: dict[int, int] = {}
        for customer, _key in [*self.pending, *self.retrying]:
            counts[customer] = counts.get(customer, 0) + 1
        then = "the catch-up run" if outage[2] != "skip" else "the next scheduled run"
        when = f"at {net.stamp(next_run)}" if next_run is not None else "(after the end of the simulation)"
        net.run_record("batch-skipped", self.spec.to, "skipped",
                       (self.label, net.stamp(outage[1]), outage[2], then, when), counts)

    def run_batch(self, catch_up: Outage | None = None) -> None:
        """One batch run: take every pending key (and failed records due for a retry), deliver when the run ends.

        ``catch_up`` is the outage this run catches up after (the detail says so).
        """
        net = self.net
        now = net.env.now
        due = [k for k, (eligible, _s) in self.retrying.items() if eligible <= now]
        pending = {k: self.retrying.pop(k)[1] for k in due}
        pending.update(self.pending)
        self.pending = {}
        duration = float(self.spec.duration.sample(self.duration_rng))
        extra = ""
        if catch_up is not None:
            extra = (f"; catch-up after the outage {net.stamp(catch_up[3])} for "
                     f"{net.span(catch_up[4] - catch_up[3])} (on_outage: {catch_up[2]})")
        by_customer: dict[int, list[Record]] = {}
        for (customer, key), snapshot in pending.items():
            by_customer.setdefault(customer, []).append((key, *snapshot))
        net.run_record("batch-run", self.spec.to, "run", (self.label, net.span(duration), extra),
                       {c: len(r) for c, r in by_customer.items()})
        for customer, record in by_customer.items():
            if self.spec.failure_rate and self.draws.of(customer).random() < self.spec.failure_rate:
                if self.spec.retry_after is None:
                    net.lost(self, customer, record, f"record lost in the batch run of {self.label} at "
                             f"{net.stamp(now)} (failure_rate {self.spec.failure_rate:g})")
                else:
                    self.retry_later(customer, record, now + self.spec.retry_after)
                continue
            net.at(now + duration, lambda c=customer, r=record: net.apply(self, c, r))

    def retry_later(self, customer: int, record: list[Record], eligible: float) -> None:
        """A record that failed in a run is retried by the first run starting at or after ``eligible``
        (so ``retry_after`` equal to ``every`` means the next run), unless a newer change of its key is
        queued by then (that change is carried instead)."""
        net = self.net
        cid = net.customer_id(customer)
        for key, value, version, changed in record:
            self.retrying[(customer, key)] = (eligible, (value, version, changed))
            net.log.record(net.env.now, "sync-retry", cid, system=self.spec.to, field=key, version=version,
                           detail=f"link={self.label}; failed in the batch run; retried by the first run from "
                                  f"{net.stamp(eligible)}")


def run_detail(form: str, n: int, args: tuple[Any, ...]) -> str:
    """The detail of a run-level record that carries ``n`` records (``form``: ``run`` or ``skipped``)."""
    if form == "run":
        label, duration, extra = args
        return f"link={label}; records={n}; duration={duration}{extra}"
    label, end, mode, then, when = args
    waits = f"{n} record{'' if n == 1 else 's'} wait{'s' if n == 1 else ''}"
    return f"link={label}; outage until {end} (on_outage: {mode}); {waits} for {then} {when}"


class SyncNetwork:
    """All links of a scenario on one SimPy environment; applies arrivals and fans changes out."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, replicas: Replicas, log: EventLog,
                 population: Population, seed_base: int, on_change: Callable[[str, int, str, float], None]):
        self.env = env
        self.scenario = scenario
        self.start = scenario.start
        self.replicas = replicas
        self.log = log
        self.population = population
        self.on_change = on_change
        self.shard: Any = None  # set by the engine when it runs one shard (simulator/engine/shard.py)
        self.links = [Link(self, spec, Stream(seed_base, f"sync:{i}:{spec.label}", population.size),
                           child_rng(seed_base, f"sync:{i}:{spec.label}:duration"))
                      for i, spec in enumerate(scenario.sync)]
        self.outgoing: dict[str, list[Link]] = {}
        for link in self.links:
            self.outgoing.setdefault(link.spec.from_, []).append(link)

    # ---------------------------------------------------------------- helpers

    def seconds(self, when: datetime) -> float:
        return (when - self.start).total_seconds()

    def stamp(self, t: float) -> str:
        return format_stamp(self.start, t)

    @staticmethod
    def span(seconds: float) -> str:
        return format_span(seconds)

    def customer_id(self, customer: int) -> str:
        return self.population.ids[customer]

    def at(self, t: float, action: Callable[[], None]) -> None:
        """Run ``action`` at simulation time ``t`` (>= now)."""
        self.env.call_at(t, action)

    def at_start_of_instant(self, t: float, action: Callable[[], None]) -> None:
        """Run ``action`` at ``t`` before anything else due at ``t`` (batch runs: a run at ``T`` carries
        what was pending before ``T``, whatever scheduled the other events at ``T``)."""
        self.env.call_at(t, action, simpy.core.URGENT)

    def start_batches(self, horizon: float) -> None:
        for link in self.links:
            if link.spec.mode == "batch":
                plan = link.run_plan(horizon)
                runs = [t for t, what, _o in plan if what != "skipped"]
                for t, what, outage in plan:
                    if what == "skipped":
                        later = next((r for r in runs if r > t), None)
                        self.at_start_of_instant(t, lambda o=outage, n=later, k=link: k.skip_run(o, n))
                    else:
                        self.at_start_of_instant(t, lambda o=outage, k=link: k.run_batch(o))

    def run_record(self, kind: str, system: str, form: str, args: tuple[Any, ...], counts: dict[int, int]) -> None:
        """A run-level record (no customer) whose detail counts records: ``counts`` gives each customer's
        share. A shard of a sharded run keeps it aside with the shares (the counts add up across shards)."""
        now = self.env.now
        if self.shard is not None:
            self.shard.run_record((now, kind, system, form, args), counts)
            return
        self.log.record(now, kind, None, system=system, detail=run_detail(form, sum(counts.values()), args))

    # ---------------------------------------------------------------- changes

    def changed(self, system: str, customer: int, keys: list[str]) -> None:
        """``keys`` changed together at ``system``: forward them on every link that carries any of them."""
        for link in self.outgoing.get(system, ()):
            link.send(customer, keys)

    def write(self, system: str, customer: int, changes: list[tuple[str, Any]], detail: str | None = None) -> None:
        """Changes made at ``system`` itself: truth and that system's copy change at once, then sync out.

        Event keys (``@name``) are applied after fields, so listeners of an event see what it set.
        """
        now = self.env.now
        truth = self.replicas.truth
        local = self.replicas[system]
        cid = self.customer_id(customer)
        keys = []
        for key, value in sorted(changes, key=lambda kv: kv[0].startswith("@")):
            version = truth.version(customer, key) + 1
            truth.put(customer, key, value, version, now, now)
            local.put(customer, key, value, version, now, now)
            self.log.record(now, "truth", cid, system=system, field=key, value=value, version=version,
                            truth_value=value, truth_version=version, detail=detail)
            keys.append(key)
        self.changed(system, customer, keys)
        for key in keys:
            self.on_change(system, customer, key, now)

    def apply(self, link: Link, customer: int, record: list[Record]) -> None:
        """A record arrives at the link's target system; each key obeys the link's apply rule."""
        now = self.env.now
        target = link.spec.to
        replica = self.replicas[target]
        truth = self.replicas.truth
        cid = self.customer_id(customer)
        applied = []
        for key, value, version, changed_at in record:
            held = replica.entry(customer, key)[1]
            if version == held:
                continue  # the same version again (e.g. by two paths): nothing changes
            truth_value, truth_version = truth.entry(customer, key)[:2]
            detail = f"link={link.label}; changed={self.stamp(changed_at)}; lag={self.span(now - changed_at)}"
            if version < held and link.spec.apply == "version":
                self.log.record(now, "sync-skip", cid, system=target, field=key, value=value, version=version,
                                truth_value=truth_value, truth_version=truth_version,
                                detail=detail + f"; held version {held} is newer")
                continue
            kind = "out-of-order" if version < held else "sync"
            replica.put(customer, key, value, version, changed_at, now)
            self.log.record(now, kind, cid, system=target, field=key, value=value, version=version,
                            truth_value=truth_value, truth_version=truth_version,
                            detail=detail + (f"; overwrote newer version {held}" if kind == "out-of-order" else ""))
            applied.append(key)
        if applied:
            self.changed(target, customer, applied)
            for key in applied:
                self.on_change(target, customer, key, now)

    def lost(self, link: Link, customer: int, record: list[Record], reason: str) -> None:
        cid = self.customer_id(customer)
        for key, _value, version, _changed in record:
            self.log.record(self.env.now, "sync-lost", cid, system=link.spec.to, field=key, version=version,
                            detail=f"link={link.label}; {reason}")
