"""Recommendations computed from the run, never canned.

- Exit races and stale reads: per journey step and responsible link, the link's observed lag
  quantiles, the wait before the decision, and the longer wait that would have let the change
  arrive first for 95% / all of the affected customers (from each finding's arrival-after-decision).
- Overlaps: which journey pairs collide, how often.
- Caps: the share of messaged customers who went over a cap.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulator.findings.totals import RunTotals
from simulator.scenario.model import Scenario
from simulator.scenario.units import format_duration

__all__ = ["recommend"]

_RACE_KINDS = ("exit-race", "stale-branch", "stage-propagation-miss", "stale-content")


def _span(seconds: float) -> str:
    return format_duration(float(round(max(0.0, seconds), 0)))


def _wait_before(scenario: Scenario, journey: str, step: str | None) -> tuple[str, float] | None:
    """The nearest wait (or wait_until timeout) before ``step`` in the journey's step list."""
    j = scenario.journey_by_name.get(journey)
    if j is None or step is None:
        return None
    ids = [s.id for s in j.steps]
    if step not in ids:
        return None
    for s in reversed(j.steps[: ids.index(step)]):
        if s.wait is not None:
            return (s.id, s.wait)
        if s.wait_until is not None and s.wait_until.timeout is not None:
            return (s.id, s.wait_until.timeout)
    return None


def recommend(scenario: Scenario, totals: RunTotals, findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Recommendations with the figures behind them, most affected first."""
    out: list[dict[str, Any]] = []
    if findings.empty:
        return out
    lags = totals.lags
    races = findings[findings["kind"].isin(_RACE_KINDS) & findings["link"].notna()]
    for (kind, journey, step, link), group in races.groupby(["kind", "journey", "step", "link"], sort=True):
        field = group["field"].iloc[0]
        observed = lags[(lags["link"] == link) & (lags["field"] == field)]["lag"].to_numpy()
        # how much later the decision would have had to happen for the change to be there first
        late_by = group["late_by_seconds"].astype(float)
        needed = late_by.dropna().to_numpy()
        never = int(late_by.isna().sum())
        parts = [f"{journey}/{step}: {len(group)} {kind} finding{'s' if len(group) != 1 else ''} "
                 f"caused by {link}"]
        if observed.size:
            q = np.quantile(observed, [0.5, 0.95, 0.99])
            parts.append(f"{link} lag for {field} observed p50 {_span(q[0])}, p95 {_span(q[1])}, "
                         f"p99 {_span(q[2])} over {observed.size} records")
        wait = _wait_before(scenario, journey, step)
        if needed.size:
            q95, qmax = np.quantile(needed, 0.95), needed.max()
            if wait is not None:
                parts.append(f"{wait[0]} is {_span(wait[1])}; {_span(wait[1] + q95)} would have let the change "
                             f"arrive first for 95% of these, {_span(wait[1] + qmax)} for all that arrived")
            else:
                parts.append(f"deciding {_span(q95)} later would have let the change arrive first for 95% of these")
        if never:
            parts.append(f"{never} never arrived (lost, still pending, or overwritten by an older record): "
                         "no wait fixes those; fix the link")
        if kind == "exit-race" and (group["replica_value"] == "true").any():
            parts.append("some sends happened although the replica already had the exit: check exit_when "
                         "continuously or at every step")
        out.append({"kind": kind, "journey": journey, "step": step, "link": link, "findings": int(len(group)),
                    "text": "; ".join(parts)})
    overlaps = findings[findings["kind"] == "overlap"]
    if not overlaps.empty and "pair" in overlaps:
        for pair, n in overlaps["pair"].value_counts().items():
            out.append({"kind": "overlap", "journey": None, "step": None, "link": None, "findings": int(n),
                        "text": f"{pair}: {n} message{'s' if n != 1 else ''} inside the collision window; "
                                "add a collision rule or stagger their sends"})
    caps = findings[findings["kind"] == "frequency-cap"]
    if not caps.empty:
        messaged = totals.messaged
        for cap, group in caps.groupby("cap", sort=True) if "cap" in caps else []:
            share = group["customer"].nunique() / messaged if messaged else 0.0
            out.append({"kind": "frequency-cap", "journey": None, "step": None, "link": None,
                        "findings": int(len(group)),
                        "text": f"cap {cap}: {100 * share:.2f}% of messaged customers went over it"})
    return sorted(out, key=lambda r: -r["findings"])

