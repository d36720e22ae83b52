"""From a finished run's log to findings, aggregates and gate results (the run's verdict)."""

from __future__ import annotations

import gc
import math
import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.engine.events import read_events
from simulator.findings import FINDING_COLUMNS, LOG_COLUMNS, LOG_KINDS, FindingContext, detect_in_context, ordered
from simulator.findings.aggregate import aggregate, kind_totals
from simulator.findings.gates import GateResult, evaluate_gates
from simulator.findings.recommend import recommend
from simulator.findings.shards import SHARD_CUSTOMERS, partition_log, read_shard
from simulator.findings.totals import RunTotals
from simulator.engine.identity import shard_layout
from simulator.interrupts import signals_deferred
from simulator.parallel import close_pool, process_context, usable_cores
from simulator.scenario.experiments import is_projection_gate
from simulator.scenario.model import Gate, Scenario
from simulator.scenario.vocabulary import DEFAULT_SEVERITY

__all__ = ["Analysis", "analyse", "analyse_log"]


@dataclass
class Analysis:
    findings: pd.DataFrame
    totals: dict[str, dict[str, Any]]
    by_step: list[dict[str, Any]]
    gates: list[GateResult]
    recommendations: list[dict[str, Any]]
    entered: int = 0  # distinct customers who entered any journey
    lags: pd.DataFrame | None = None  # every sync arrival: link, field, lag seconds (sync_lags.parquet)
    projection_gates: list[Gate] = field(default_factory=list)  # --fail-on gates on projections

    @property
    def passed(self) -> bool:
        return all(g.passed for g in self.gates)

    def summary(self) -> dict[str, Any]:
        """The ``findings`` section of summary.json."""
        return {"by_kind": self.totals, "by_step": self.by_step, "gates": [g.as_dict() for g in self.gates],
                "passed": self.passed, "total": int(len(self.findings)), "recommendations": self.recommendations}

    def examples(self, per_kind: int = 3) -> dict[str, list[str]]:
        """A few customer ids per finding kind, for `journeysim trace`."""
        if self.findings.empty:
            return {}
        return {kind: list(dict.fromkeys(group["customer"]))[:per_kind]
                for kind, group in self.findings.groupby("kind", sort=True)}


def analyse(scenario: Scenario, events: pd.DataFrame, customers: pd.DataFrame,
            extra_gates: list[Gate] | None = None) -> Analysis:
    """Run the detectors, aggregate, and evaluate the scenario's gates plus ``extra_gates`` (--fail-on)."""
    ctx = FindingContext(scenario, events, customers)
    return _conclude(scenario, detect_in_context(ctx), RunTotals.of(ctx), extra_gates)


def analyse_log(scenario: Scenario, path: str | Path, customers: pd.DataFrame,
                extra_gates: list[Gate] | None = None, *, shard_customers: int = SHARD_CUSTOMERS,
                workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> Analysis:
    """:func:`analyse` of an events.parquet file, reading only the columns and kinds detectors need.

    A run with more than ``shard_customers`` customers is analysed shard by shard (customers split
    into disjoint groups, one group in memory at a time, so memory stays bounded); the findings and
    figures are the same as one pass. Shards are analysed on ``workers`` processes (default: the
    usable cores, at most one per shard). ``progress(done, shards)`` is called after each shard.
    """
    path = Path(path)
    shards = max(1, math.ceil(len(customers) / max(1, shard_customers)))
    if shards == 1:
        events = read_events(path, columns=LOG_COLUMNS, filters=[("kind", "in", list(LOG_KINDS))])
        result = analyse(scenario, events, customers, extra_gates)
        if progress is not None:
            progress(1, 1)
        return result
    found: list[pd.DataFrame] = []
    totals: list[RunTotals] = []
    workers = max(1, min(usable_cores() if workers is None else workers, shards))
    with tempfile.TemporaryDirectory(prefix=".shards-", dir=path.parent) as tmp:
        ids, tables = shard_layout(customers, shards)  # a person's profiles share a shard (docs/identity.md)
        files = partition_log(path, tmp, ids, shards, LOG_KINDS, columns=LOG_COLUMNS, workers=workers)
        jobs = [(scenario, file, tables[i]) for i, file in enumerate(files)]
        if workers == 1:
            results = map(_shard_findings, jobs)
            pool = None
        else:
            pool = ProcessPoolExecutor(workers, mp_context=process_context(["simulator.analysis"], fork=True))
            gc.freeze()  # forked workers share the parent's heap without copying it for the collector
            with signals_deferred():  # map submits every shard at once, which starts the workers
                results = pool.map(_shard_findings, jobs)
        try:
            for i, (shard_findings, shard_totals) in enumerate(results):
                found.append(shard_findings)
                totals.append(shard_totals)
                if progress is not None:
                    progress(i + 1, shards)
        finally:
            if pool is not None:
                close_pool(pool, abort=sys.exc_info()[0] is not None)  # interrupted: kill, do not wait
                gc.unfreeze()
    found = [f for f in found if not f.empty]
    findings = ordered(pd.concat(found, ignore_index=True)) if found else pd.DataFrame(columns=list(FINDING_COLUMNS))
    return _conclude(scenario, findings, RunTotals.merge(totals), extra_gates)


def _shard_findings(job: tuple[Scenario, list[Path], pd.DataFrame]) -> tuple[pd.DataFrame, RunTotals]:
    """Findings and totals of one customer shard (runs in a worker process on large runs)."""
    scenario, parts, customers = job
    ctx = FindingContext(scenario, read_shard(parts), customers)
    found = detect_in_context(ctx)
    totals = RunTotals.of(ctx)
    for part in parts:
        part.unlink()
    return found, totals


def _conclude(scenario: Scenario, findings: pd.DataFrame, totals: RunTotals,
              extra_gates: list[Gate] | None) -> Analysis:
    """Aggregates, gates and recommendations from the findings and the run's totals."""
    per_kind = kind_totals(totals, findings)
    severities = {**DEFAULT_SEVERITY, **scenario.severity}
    gates = list(scenario.gate_list) + list(extra_gates or [])
    results = evaluate_gates(gates, per_kind, severities=severities, entered=totals.entered_any)
    return Analysis(findings, per_kind, aggregate(totals, findings), results,
                    recommend(scenario, totals, findings), totals.entered_any, totals.lags,
                    [g for g in extra_gates or [] if is_projection_gate(g.kind)])
