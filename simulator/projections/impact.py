"""Incremental impact of a channel (``journeysim run --impact CHANNEL``, docs/projections.md#channel-impact).

A **what-if run** repeats the run with the same scenario, seed and population, except that every send
step whose message goes out on ``CHANNEL`` logs ``held-out`` ("what-if without CHANNEL") instead of
asking the orchestrator: nothing on that channel is queued, rendered or delivered. Every random stream
is keyed by its component (population, each sync link, each channel, each journey's splits, each
response event), so the two runs share their random numbers wherever the removed sends do not change
what is drawn (common random numbers): customer c's first conversion hazard, entry times and the
other channels' draws are the same in both runs.

The comparison is **paired**, per journey, over the customers who entered it in both runs (the
treated arm when the journey has a holdout): with ``x`` 1 when the customer converted in the window
and 0 if not, the channel's contribution is the mean of ``x_with - x_without`` with a Wald 95% interval
``mean +- 1.959964 * sd / sqrt(n)`` (sd with n - 1). Customers who entered in only one of the runs are
counted apart (``entered_only_with``, ``entered_only_without``), not compared.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.projections.compute import ALL, PROJECTION_COLUMNS, PROJECTION_KINDS, first_passes
from simulator.projections.holdout import TREATED

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from simulator.engine.population import ScriptedCustomer
    from simulator.scenario.model import Scenario

__all__ = ["Z95", "paired_difference", "channel_impact", "impact_hook"]

Z95 = 1.959964


def paired_difference(with_: np.ndarray, without: np.ndarray) -> tuple[float, float, float] | None:
    """(mean of with - without, low, high): a Wald 95% interval of a mean paired difference; None for n = 0."""
    n = len(with_)
    if n == 0:
        return None
    d = with_.astype(float) - without.astype(float)
    mean = float(d.mean())
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(n) if n > 1 else math.inf
    return mean, mean - half, mean + half


def channel_impact(scenario: Scenario, base: dict[str, pd.DataFrame], whatif: dict[str, pd.DataFrame],
                   channel: str) -> dict[str, Any]:
    """``projections.impact.<channel>``: per journey, the paired comparison of the two runs."""
    journeys: dict[str, Any] = {}
    for journey in scenario.journeys:
        arm = TREATED if journey.holdout is not None else ALL
        b = base[journey.name]
        w = whatif[journey.name]
        b, w = b[b["arm"] == arm], w[w["arm"] == arm]
        paired = b.merge(w, on="customer", suffixes=("_with", "_without"))
        x_with = paired["t_conv_with"].notna().to_numpy()
        x_without = paired["t_conv_without"].notna().to_numpy()
        diff = paired_difference(x_with, x_without)
        n = int(len(paired))
        rate_with = float(x_with.mean()) if n else None
        rate_without = float(x_without.mean()) if n else None
        journeys[journey.name] = {
            "arm": arm, "customers": n,
            "converted_with": int(x_with.sum()), "converted_without": int(x_without.sum()),
            "rate_with": rate_with, "rate_without": rate_without,
            "contribution": diff[0] if diff else None,
            "low": diff[1] if diff else None, "high": diff[2] if diff else None,
            "relative": (rate_with / rate_without - 1) if n and rate_without else None,
            "converted_only_with": int((x_with & ~x_without).sum()),
            "converted_only_without": int((~x_with & x_without).sum()),
            "entered_only_with": int(len(b) - n), "entered_only_without": int(len(w) - n),
        }
    return {"removed": channel, "method": "paired what-if run, same seed (docs/projections.md#channel-impact)",
            "journeys": journeys}


def impact_hook(scenario: Scenario, seed: int, channels: Sequence[str], *, customers: int | None = None,
                scripted: Sequence[ScriptedCustomer] = (),
                announce: Callable[[str], None] | None = None) -> Callable[..., dict[str, Any]]:
    """A ``before_commit`` hook for :func:`simulator.engine.run_scenario`: one what-if run per channel,
    in memory, compared with the run's own log; adds ``impact`` to ``summary['projections']``."""

    def hook(result: Any, file: Callable[[str], Any]) -> dict[str, Any]:
        from simulator.engine import Engine
        from simulator.engine.events import EventLog, read_events

        events = read_events(file("events.parquet"), columns=PROJECTION_COLUMNS,
                             filters=[("kind", "in", list(PROJECTION_KINDS))])
        base = first_passes(scenario, events)
        impact: dict[str, Any] = {}
        for channel in channels:
            if announce is not None:
                announce(f"impact: what-if run without {channel}")
            log = EventLog(None, scenario.start)
            engine = Engine(scenario, seed=seed, log=log, size=customers, scripted=scripted,
                            without=frozenset({channel}))
            engine.run()
            log.close()
            impact[channel] = channel_impact(scenario, base, first_passes(scenario, log.to_pandas()), channel)
        result.summary["projections"]["impact"] = impact
        return {}

    return hook
