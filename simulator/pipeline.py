"""The run pipeline: simulate -> write -> analyse -> report, and the :class:`RunResult` it returns.

The simulation itself is the engine's (:mod:`simulator.engine`): one process, or customer shards on
local workers or a Dask cluster (:mod:`simulator.sharded`). This module builds the engine, runs it into
the event log, writes the run folder atomically (with a manifest even on failure), runs the findings
pass and the report, and assembles ``summary.json``.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.analysis import Analysis, analyse, analyse_log
from simulator.engine import Engine
from simulator.engine.events import EventLog, write_csv
from simulator.engine.population import Population, ScriptedCustomer, customers_frame
from simulator.errors import EngineError
from simulator.fileio import atomic_path, atomic_write_text
from simulator.projections.run import attach_projections
from simulator.runfolder import RunFolder
from simulator.scenario.model import Gate, Scenario

__all__ = ["RunResult", "run_scenario", "simulate", "run_manifest", "write_analysis", "write_findings_csv"]


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
            from simulator.engine.events import read_events

            return read_events(self.out / "events.parquet", columns=list(columns) if columns else None)
        frame = self.log.to_pandas()
        return frame[list(columns)] if columns else frame


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

    # the shards' temporary files go inside the run's partial folder when there is one (same disk as the
    # result, and a run killed with -9 leaves them where the next run clears them up), else to TMPDIR
    scratch = engine.log.path.parent if engine.log.path is not None else None
    try:
        info = run_on(engine, workers=workers, shards=shards, dask=dask, say=status, scratch=scratch)
    except (KeyboardInterrupt, EngineError):
        raise
    except Exception as exc:  # a worker killed from outside, a full disk: say so plainly (the clock of this
        from simulator.clifailures import clean_failure  # process never moved: "failed at <start>" would mislead)

        message = clean_failure(exc)
        if message is None:
            raise
        raise EngineError(f"the sharded simulation failed: {message}") from exc
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
