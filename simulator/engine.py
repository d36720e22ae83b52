"""Wires one run together on a single ``simpy.Environment`` and returns a :class:`RunResult`.

Phases (desmod-style): build (population, replicas, links, journeys) -> run (the clock) -> finalise
(instances still inside, counts) -> write (event log, ``summary.json``; atomically, with a manifest
even on failure). Randomness: one ``numpy.random.SeedSequence`` per run, and every consumer draws
from its own named stream, so changing one part of a scenario does not shift the draws of the
others. What is built before the clock starts (population, exogenous schedule, holdouts) is drawn
vectorised over the whole population from ``child_rng`` streams. Everything drawn while the clock
runs comes from per-customer streams (simulator/streams.py): customer c's n-th draw of a stream is
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
import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import simpy

from simulator.analysis import Analysis, analyse, analyse_log
from simulator.clock import Clock
from simulator.channels import Orchestrator, Renderer, template_fields
from simulator.errors import EngineError
from simulator.events import EventLog, write_csv
from simulator.fileio import atomic_path, atomic_write_text
from simulator.journeycaps import JourneyCaps
from simulator.journeys import JourneyRunner
from simulator.shard import Shard
from simulator.policies import LocalClock
from simulator.population import (
    Population,
    ScriptedCustomer,
    build_population,
    child_rng,
    customers_frame,
    exogenous_schedule,
    followers,
)
from simulator.projections.run import attach_projections
from simulator.response import ResponseModel
from simulator.runfolder import RunFolder
from simulator.scenario.model import Gate, Scenario
from simulator.scenario.semantics import FieldCatalogue
from simulator.scenario.units import format_span, format_stamp
from simulator.streams import Stream
from simulator.systems import Replicas, SyncNetwork

__all__ = ["Engine", "RunResult", "run_scenario"]

#: SimPy priority for work that must happen after everything else scheduled at the same instant.
_END_OF_INSTANT = 2


@dataclass
class RunResult:
    """What a run produced: the log (in memory or on disk), counts and where it was written."""

    scenario: Scenario
    seed: int
    customers: int
    counts: Counter
    wall_seconds: float
    population: Population
    log: EventLog
    out: Path | None = None
    summary: dict[str, Any] = field(default_factory=dict)
    analysis: Analysis | None = None

    @property
    def findings(self) -> pd.DataFrame:
        """One row per finding (findings.csv's columns)."""
        return self.analysis.findings if self.analysis is not None else pd.DataFrame()

    @property
    def passed(self) -> bool:
        """True when every gate passed."""
        return self.analysis is None or self.analysis.passed

    def customer_table(self) -> pd.DataFrame:
        """One row per customer: id, time zone, initial attributes and consent."""
        if self.out is not None:
            return pd.read_parquet(self.out / "customers.parquet")
        return customers_frame(self.population)

    def events(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The event log as a DataFrame (from memory, or read back from ``events.parquet``)."""
        if self.out is not None:
            from simulator.events import read_events

            return read_events(self.out / "events.parquet", columns=list(columns) if columns else None)
        frame = self.log.to_pandas()
        return frame[list(columns)] if columns else frame


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
        self.env.process(self._exogenous())
        if self.response is not None:
            self.response.start()
        self._scripted_opt_outs()
        self.net.start_batches(self.horizon)
        self._entries()
        step = max(self.horizon / 200, 3600.0)
        t = 0.0
        with _young_gc_only():
            while t < self.horizon:
                t = min(self.horizon, t + step)
                self.env.run(until=t)
                if progress is not None:
                    progress(t)
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


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_scenario(scenario: Scenario, *, seed: int | None = None, customers: int | None = None,
                 scripted: Sequence[ScriptedCustomer] = (), out: str | Path | None = None,
                 overwrite: bool = False, csv: bool = False, gates: Sequence[Gate] = (),
                 progress: Callable[[float], None] | None = None,
                 before_commit: Callable[[RunResult, Callable[[str], Path]], dict[str, Any]] | None = None,
                 report: bool = False, status: Callable[[str], None] | None = None,
                 unique: bool = False, workers: int = 1, shards: int | None = None,
                 dask: str | None = None) -> RunResult:
    """Run ``scenario`` once. With ``out``, write the run folder atomically; otherwise keep the log in memory.

    Raises :class:`EngineError` if the run fails (the folder is then left as ``<out>.failed`` with a
    manifest saying why); a KeyboardInterrupt leaves no folder. ``before_commit(result, file)`` may add
    files to the folder (``file(name)`` gives their path) and returns extra summary.json keys; it runs
    before the folder is renamed into place, so nothing is visible until it is all there. ``status``
    gets a line as each phase after the simulation starts (findings shard by shard, the report).
    ``unique`` (default output names): if ``out`` is taken, write ``<out>-2``, ``<out>-3``, ... instead
    (``result.out`` says which). ``workers`` > 1, ``shards`` or ``dask`` (a scheduler address): split the
    simulation into customer shards run by local worker processes or a Dask cluster
    (:mod:`simulator.sharded`); the event log is the same whatever the split.
    """
    seed = scenario.seed if seed is None else seed
    from simulator.scenario.limits import check_resources

    check_resources(scenario, customers)  # refuse a run that cannot finish before building anything
    started = time.perf_counter()
    manifest = run_manifest(scenario, seed, customers, scripted)
    if out is None:
        log = EventLog(None, scenario.start)
        engine = Engine(scenario, seed=seed, log=log, size=customers, scripted=scripted)
        simulate(engine, progress, workers=workers, shards=shards, dask=dask, status=status)
        log.close()
        analysis = analyse(scenario, log.to_pandas(), customers_frame(engine.population), list(gates))
        return _result(engine, started, None, manifest, analysis)
    folder = RunFolder(Path(out), overwrite=overwrite, unique=unique, record_sizes=True)
    out = Path(out).with_name(folder.final_path.name) if unique else Path(out)  # as given, or the name taken
    folder.manifest.update(manifest)
    with folder:
        with EventLog(folder.file("events.parquet"), scenario.start) as log:
            engine = None
            try:
                engine = Engine(scenario, seed=seed, log=log, size=customers, scripted=scripted)
                simulate(engine, progress, workers=workers, shards=shards, dask=dask, status=status)
            except (KeyboardInterrupt, EngineError):
                raise
            except Exception as exc:  # a bug or resource problem: keep the manifest, say what happened
                when = f"at {engine.stamp(engine.now)}" if engine is not None else "while building"
                raise EngineError(f"the run failed {when} after {log.rows} events: {exc!r}") from exc
        _write_customers(engine.population, folder.file("customers.parquet"))
        atomic_write_text(folder.file("scenario.json"), json.dumps(scenario.effective(), indent=2, sort_keys=True))
        if csv:
            write_csv(folder.file("events.parquet"), folder.file("events.csv"))
        say = status or (lambda _text: None)
        phase_started = time.perf_counter()

        def shard_done(done: int, total: int) -> None:
            if total > 1:
                say(f"findings: {done} of {total} customer shards ({time.perf_counter() - phase_started:.0f} s)")

        say(f"findings: reading {log.rows:,} events")
        analysis = analyse_log(scenario, folder.file("events.parquet"),
                               pd.read_parquet(folder.file("customers.parquet")), list(gates), progress=shard_done)
        write_analysis(analysis, folder.file)
        result = _result(engine, started, Path(out), manifest, analysis)
        if before_commit is not None:
            result.summary.update(before_commit(result, folder.file))
        if report:
            from simulator.report.html import build_report

            say("report: building report.html")
            build_report(folder.path, summary={**result.summary, "status": "complete"}, shown_as=out)
        folder.commit(result.summary)
    return result


def simulate(engine: Engine, progress: Callable[[float], None] | None = None, *, workers: int = 1,
             shards: int | None = None, dask: str | None = None, status: Callable[[str], None] | None = None) -> None:
    """Run ``engine``'s simulation into its log: in this process, or split into customer shards."""
    if workers <= 1 and shards is None and dask is None:
        engine.run(progress)
        return
    from simulator.sharded import run_on

    info = run_on(engine, workers=workers, shards=shards, dask=dask, say=status)
    engine.sharding = info
    if progress is not None:
        progress(engine.horizon)


def run_manifest(scenario: Scenario, seed: int, customers: int | None,
                 scripted: Sequence[ScriptedCustomer] = ()) -> dict[str, Any]:
    """What a run's summary.json says about its inputs (before anything has run)."""
    return {
        "scenario": scenario.scenario, "scenario_file": scenario.source_file, "scenario_hash": scenario.source_hash,
        "seed": seed, "customers_requested": customers if customers is not None else scenario.population.size,
        "scripted": [s.name for s in scripted], "version": _version(),
        "start": scenario.start.isoformat(), "duration_seconds": scenario.duration,
        "warnings": list(scenario.warnings),  # placeholders left by `journeysim import`; [] when none
    }


def _write_customers(population: Population, path: Path) -> None:
    """customers.parquet: id, zone, initial attributes and consent (mixed object columns as text)."""
    frame = customers_frame(population)
    for name in frame.columns:
        if frame[name].dtype == object and name not in ("customer", "timezone"):
            frame[name] = frame[name].map(lambda v: None if v is None else str(v))
    frame.to_parquet(path, index=False)


def write_analysis(analysis: Analysis, file: Callable[[str], Path]) -> None:
    """findings.csv and sync_lags.parquet of a run folder (``file(name)`` gives their paths)."""
    write_findings_csv(analysis.findings, file("findings.csv"))
    if analysis.lags is not None:
        with atomic_path(file("sync_lags.parquet")) as tmp:
            analysis.lags.to_parquet(tmp, index=False)


def write_findings_csv(findings: pd.DataFrame, path: Path) -> None:
    """findings.csv, written atomically (one row per finding; columns: FINDING_COLUMNS)."""
    with atomic_path(path) as tmp:
        findings.to_csv(tmp, index=False)


def _result(engine: Engine, started: float, out: Path | None, manifest: dict[str, Any],
            analysis: Analysis | None = None) -> RunResult:
    log = engine.log
    wall = time.perf_counter() - started
    summary = dict(manifest)
    summary.update({
        "customers": engine.population.size,
        "events": log.rows,
        "counts": dict(sorted(log.counts.items())),
        "wall_seconds": round(wall, 3),
        "peak_rss_mib": round(_peak_rss_mib(), 1),
    })
    if engine.sharding is not None:
        summary["sharding"] = engine.sharding
    attach_projections(engine, analysis, summary)  # only with projections: in the scenario
    if analysis is not None:
        summary["findings"] = analysis.summary()
        summary["examples"] = analysis.examples()
    return RunResult(engine.scenario, engine.seed, engine.population.size, Counter(log.counts), wall,
                     engine.population, log, out, summary, analysis)


def _version() -> str:
    from simulator import __version__

    return __version__
