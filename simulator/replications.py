"""Replications: the same scenario under N seeds, finding rates with mean and 95% interval.

Replication 1 uses the run's own seed (so it equals a single run); the others use seeds spawned
from it with ``numpy.random.SeedSequence``, so the set is reproducible from one number.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from simulator.engine import run_scenario
from simulator.scenario.model import Scenario

__all__ = ["replication_seeds", "replicate", "rows_of", "summarise_replications", "replication_hook"]


def replication_seeds(seed: int, n: int) -> list[int]:
    """``seed`` first, then ``n - 1`` seeds spawned from it."""
    children = np.random.SeedSequence(seed).spawn(max(0, n - 1))
    return [seed] + [int(c.generate_state(1)[0]) for c in children]


def replicate(scenario: Scenario, seeds: list[int], *, customers: int | None = None,
              on_done: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run each seed in memory; one row per replication x finding kind: count, customers, entered, rate."""
    rows: list[dict[str, Any]] = []
    for index, seed in enumerate(seeds, start=1):
        rows += rows_of(run_scenario(scenario, seed=seed, customers=customers), index, seed)
        if on_done is not None:
            on_done(index)
    return pd.DataFrame(rows)


def rows_of(result: Any, replication: int, seed: int) -> list[dict[str, Any]]:
    """One row per finding kind of one run: count, affected customers, entered customers, rate."""
    from simulator.scenario.vocabulary import FINDING_KINDS

    entered = result.analysis.entered if result.analysis else 0
    totals = result.analysis.totals if result.analysis else {}
    rows = []
    for kind in FINDING_KINDS:
        t = totals.get(kind, {"count": 0, "customers": 0})
        rows.append({"replication": replication, "seed": seed, "kind": kind, "count": t["count"],
                     "customers": t["customers"], "entered": entered,
                     "rate": t["customers"] / entered if entered else 0.0})
    return rows


def replication_hook(scenario: Scenario, seed: int, n: int, *, customers: int | None = None,
                     announce: Callable[[str], None] | None = None):
    """A ``before_commit`` hook for :func:`run_scenario`: runs replications 2..n, writes replications.csv,
    and returns the ``replications`` section of summary.json."""

    def hook(result: Any, file: Callable[[str], Any]) -> dict[str, Any]:
        seeds = replication_seeds(seed, n)
        if announce is not None:
            announce(f"running {n - 1} more replication{'s' if n > 2 else ''}...")
        table = pd.DataFrame(rows_of(result, 1, seeds[0]))
        others = replicate(scenario, seeds[1:], customers=customers)
        if not others.empty:
            table = pd.concat([table, others.assign(replication=others["replication"] + 1)], ignore_index=True)
        table.to_csv(file("replications.csv"), index=False)
        return {"replications": {"seeds": seeds, "by_kind": summarise_replications(table)}}

    return hook


def summarise_replications(table: pd.DataFrame, level: float = 0.95) -> dict[str, dict[str, float]]:
    """Per kind: mean rate, normal-approximation interval of the mean across replications, n."""
    z = NormalDist().inv_cdf(0.5 + level / 2)
    out: dict[str, dict[str, float]] = {}
    for kind, group in table.groupby("kind", sort=True):
        rates = group["rate"].to_numpy(dtype=float)
        if not rates.any():
            continue
        n = len(rates)
        mean = float(rates.mean())
        half = z * float(rates.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
        out[kind] = {"mean": mean, "low": max(0.0, mean - half) if n > 1 else float("nan"),
                     "high": mean + half if n > 1 else float("nan"), "replications": n,
                     "mean_count": float(group["count"].mean())}
    return out
