"""One sweep task, run where it lands (a local process or a Dask worker): the simulation in memory,
reduced to aggregates small enough to send back."""

from __future__ import annotations

import os
import socket
import time
import traceback as _tb
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.sweep.plan import SweepTask


@dataclass
class TaskResult:
    """A task's aggregates (or its error), small enough to send back from any worker."""

    key: str
    variant: int
    replication: int
    seed: int
    kinds: list[dict[str, Any]] = field(default_factory=list)  # kind, count, customers, entered, rate
    sends: dict[str, int] = field(default_factory=dict)         # channel -> messages delivered
    p95_week: dict[str, float] = field(default_factory=dict)    # channel/'any' -> p95 per customer-week
    error: str | None = None
    traceback: str = ""
    wall_seconds: float = 0.0
    version: str = ""
    worker: str = ""

    @property
    def ok(self) -> bool:
        return self.error is None


def _deliveries(result: Any) -> tuple[dict[str, int], dict[str, float]]:
    """Messages delivered per channel, and the p95 of messages per customer per local (Monday) week,
    over customer-weeks with at least one message (the report's weekly frequency), per channel and 'any'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from simulator.engine.population import customers_frame
    from simulator.report.data import weekly_counts, with_local_time

    table = result.log.table()
    table = table.filter(pc.equal(table["kind"].cast(pa.string()), "delivered")).select(["ts", "customer", "channel"])
    d = table.to_pandas()
    if d.empty:
        return {}, {}
    d = with_local_time(d, customers_frame(result.population).set_index("customer")["timezone"])
    sends = {str(ch): int(n) for ch, n in d["channel"].value_counts().sort_index().items()}
    weeks = weekly_counts(d)
    p95 = {str(ch): round(float(np.percentile(g["messages"].to_numpy(), 95)), 6)
           for ch, g in weeks.groupby("channel", sort=True)}
    p95["any"] = round(float(np.percentile(weeks.groupby(["customer", "week"])["messages"].sum().to_numpy(), 95)), 6)
    return sends, p95


def _run(task: SweepTask) -> Any:
    """One simulation in memory (a seam for tests)."""
    from simulator.pipeline import run_scenario

    return run_scenario(task.scenario, seed=task.seed, customers=task.customers)


def run_task(task: SweepTask) -> TaskResult:
    """Run one task where it lands (a local process or a Dask worker); errors come back as text."""
    from simulator import __version__
    from simulator.replications import rows_of

    started = time.perf_counter()
    out = TaskResult(task.key, task.variant, task.replication, task.seed, version=__version__,
                     worker=f"{socket.gethostname()}:{os.getpid()}")
    try:
        result = _run(task)
        out.kinds = [{"kind": r["kind"], "count": int(r["count"]), "customers": int(r["customers"]),
                      "entered": int(r["entered"]), "rate": float(r["rate"])}
                     for r in rows_of(result, task.replication, task.seed)]
        out.sends, out.p95_week = _deliveries(result)
    except Exception as exc:  # reported with the variant and seed; the other tasks go on
        lines = _tb.format_exception(type(exc), exc, exc.__traceback__)
        out.error = f"{type(exc).__name__}: {exc}"
        out.traceback = "".join(lines[-6:])
        out.kinds = []
    out.wall_seconds = round(time.perf_counter() - started, 3)
    return out


def failed_result(task: SweepTask, exc: BaseException) -> TaskResult:
    return TaskResult(task.key, task.variant, task.replication, task.seed, error=f"{type(exc).__name__}: {exc}")

