"""Conversion projections of one run, from its event log (docs/projections.md).

For every journey, each customer's **first** entry starts a measurement window (``projections.window``
long; without it, until the end of the run). The customer **converted** when the conversion event
(``projections.conversion``, a population event) happened in truth strictly after that entry and at
most ``window`` after it. Customers are grouped by arm (``treated``/``holdout`` for a journey with a
holdout, ``all`` otherwise), by the branch each split step sent them down, and by path (the step ids
their first pass ran, in order); each group gets its conversion rate with a Wilson interval, time to
conversion percentiles and revenue; the treated arm gets its lift over the holdout.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from simulator.projections.holdout import HOLDOUT, TREATED
from simulator.projections.stats import katz_ratio, newcombe, signed_mean_interval, wilson
from simulator.scenario.experiments import DEFAULT_VALUE_FIELD
from simulator.scenario.model import Scenario

__all__ = ["PROJECTION_KINDS", "PROJECTION_COLUMNS", "MAX_PATHS", "ALL", "value_field", "project", "first_passes"]

#: Log kinds and columns the projections read.
PROJECTION_KINDS = ("entry", "event", "truth", "step", "split", "delivered")
PROJECTION_COLUMNS = ["t", "seq", "customer", "kind", "journey", "step", "field", "value"]
#: Paths listed per journey (most customers first); the rest are counted in ``paths_omitted``.
MAX_PATHS = 50
ALL = "all"


def value_field(scenario: Scenario) -> str | None:
    """The revenue field: ``projections.value``, else ``value`` if the scenario has such a field, else None."""
    from simulator.scenario.semantics import FieldCatalogue

    proj = scenario.projections
    if proj is None:
        return None
    if proj.value is not None:
        return proj.value
    return DEFAULT_VALUE_FIELD if DEFAULT_VALUE_FIELD in FieldCatalogue(scenario).fields else None


def project(scenario: Scenario, events: pd.DataFrame, customers: pd.DataFrame) -> dict[str, Any] | None:
    """The ``projections`` section of summary.json (None when the scenario has no ``projections``).

    ``events`` holds at least :data:`PROJECTION_COLUMNS` for :data:`PROJECTION_KINDS` (more is fine);
    ``customers`` is customers.parquet's frame (initial attributes, for the revenue field)."""
    proj = scenario.projections
    if proj is None:
        return None
    ev, conv, window = _prepared(scenario, events)
    field = value_field(scenario)
    if field is not None:
        conv = _with_values(conv, ev, customers, field)
    out: dict[str, Any] = {"conversion": proj.conversion, "window_seconds": proj.window, "value_field": field,
                           "level": 0.95, "journeys": {}}
    for journey in scenario.journeys:
        out["journeys"][journey.name] = _journey(journey, ev, conv, window, field is not None)
    from simulator.projections.frequency import frequency_curves

    out["frequency"] = frequency_curves(ev, customers["customer"], proj.conversion)
    return out


def first_passes(scenario: Scenario, events: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Per journey, one row per customer who entered it: ``customer``, ``arm``, ``t_entry`` and ``t_conv``
    (the first conversion in the window after the first entry; NaN if none), as :func:`project` counts
    them. ``scenario`` must have ``projections``."""
    ev, conv, window = _prepared(scenario, events)
    return {j.name: _conversions(_entries(j, ev), conv, window, False)[["customer", "arm", "t_entry", "t_conv"]]
            for j in scenario.journeys}


def _prepared(scenario: Scenario, events: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """The projection rows in log order, the conversion events (``customer``, ``t_conv``, ``seq_conv``) and
    the window in seconds (infinite without ``projections.window``)."""
    proj = scenario.projections
    assert proj is not None
    ev = events[events["kind"].isin(PROJECTION_KINDS)].sort_values("seq", kind="stable")
    conv = ev[(ev["kind"] == "event") & (ev["field"] == proj.conversion)][["customer", "t", "seq"]]
    conv = conv.rename(columns={"t": "t_conv", "seq": "seq_conv"})
    return ev, conv, proj.window if proj.window is not None else math.inf


def _entries(journey: Any, ev: pd.DataFrame) -> pd.DataFrame:
    """Each customer's first entry into ``journey``: customer, t_entry, seq_entry, arm, seq_end."""
    entries = ev[(ev["kind"] == "entry") & (ev["journey"] == journey.name)]
    first = entries.drop_duplicates("customer", keep="first")[["customer", "t", "seq", "field"]]
    first = first.rename(columns={"t": "t_entry", "seq": "seq_entry", "field": "arm"}).reset_index(drop=True)
    if journey.holdout is None:
        first["arm"] = ALL
    # the first pass ends where the customer's second entry begins
    second = entries[entries.duplicated("customer", keep="first")].drop_duplicates("customer")
    first["seq_end"] = first["customer"].map(second.set_index("customer")["seq"]).fillna(np.inf)
    return first


def _with_values(conv: pd.DataFrame, ev: pd.DataFrame, customers: pd.DataFrame, field: str) -> pd.DataFrame:
    """Each conversion's revenue: the field as truth held it right after the conversion (the last truth
    record of the field at or before the conversion's instant, so an event's own ``sets`` count), else the
    customer's initial attribute; NaN when not a number."""
    changes = ev[(ev["kind"] == "truth") & (ev["field"] == field)][["customer", "t", "seq", "value"]]
    conv = conv.copy()
    conv["revenue"] = np.nan
    if field in customers.columns:
        initial = pd.to_numeric(customers.set_index("customer")[field].astype(object), errors="coerce")
        conv["revenue"] = conv["customer"].map(initial).astype(float)
    if not changes.empty and not conv.empty:
        left = conv.sort_values("t_conv", kind="stable").reset_index(drop=True)
        right = changes.sort_values(["t", "seq"], kind="stable").rename(columns={"t": "t_set"})
        merged = pd.merge_asof(left, right[["customer", "t_set", "value"]], left_on="t_conv", right_on="t_set",
                               by="customer", direction="backward", allow_exact_matches=True)
        has = merged["t_set"].notna()
        merged.loc[has, "revenue"] = pd.to_numeric(merged.loc[has, "value"], errors="coerce")
        conv = merged.drop(columns=["t_set", "value"])
    return conv


def _journey(journey: Any, ev: pd.DataFrame, conv: pd.DataFrame, window: float, revenue: bool) -> dict[str, Any]:
    first = _conversions(_entries(journey, ev), conv, window, revenue)
    arm_names = [TREATED, HOLDOUT] if journey.holdout is not None else [ALL]
    arms = {arm: _stats(first[first["arm"] == arm], revenue) for arm in arm_names}
    result: dict[str, Any] = {"holdout": journey.holdout, "entered": int(len(first)), "arms": arms}
    if journey.holdout is not None:
        result["lift"] = _lift(arms[TREATED], arms[HOLDOUT], revenue)
    mine = ev[ev["journey"] == journey.name]
    result.update(_paths(first, mine[mine["kind"] == "step"], revenue))
    result["splits"] = _splits(journey, first, mine[mine["kind"] == "split"], revenue)
    return result


def _conversions(first: pd.DataFrame, conv: pd.DataFrame, window: float, revenue: bool) -> pd.DataFrame:
    """Adds per customer: ``t_conv`` (first conversion in the window, NaN if none), ``conversions``
    (how many in the window), ``revenue`` (their total) and ``revenue_missing`` (those without a number)."""
    pairs = first[["customer", "t_entry"]].merge(conv, on="customer", how="inner")
    pairs = pairs[(pairs["t_conv"] > pairs["t_entry"]) & (pairs["t_conv"] <= pairs["t_entry"] + window)]
    agg: dict[str, Any] = {"t_conv": ("t_conv", "min"), "conversions": ("t_conv", "size")}
    if revenue:
        pairs = pairs.assign(revenue_missing=pairs["revenue"].isna().astype(int))
        agg["revenue"] = ("revenue", "sum")  # NaN (not a number) adds nothing; counted in revenue_missing
        agg["revenue_missing"] = ("revenue_missing", "sum")
    per = pairs.groupby("customer", sort=False).agg(**agg) if len(pairs) else pd.DataFrame(
        columns=list(agg)).rename_axis("customer")
    out = first.merge(per, left_on="customer", right_index=True, how="left")
    out["conversions"] = out["conversions"].fillna(0).astype(int)
    if revenue:
        out["revenue"] = out["revenue"].fillna(0.0).astype(float)
        out["revenue_missing"] = out["revenue_missing"].fillna(0).astype(int)
    out["ttc"] = out["t_conv"].astype(float) - out["t_entry"]
    return out


def _stats(group: pd.DataFrame, revenue: bool) -> dict[str, Any]:
    """Customers, converted, rate with its Wilson interval, conversions, time to conversion, revenue."""
    n = int(len(group))
    x = int(group["t_conv"].notna().sum())
    interval = wilson(x, n)
    ttc = group["ttc"].dropna().to_numpy(dtype=float)
    row: dict[str, Any] = {
        "customers": n, "converted": x, "rate": x / n if n else None,
        "low": interval[0] if interval else None, "high": interval[1] if interval else None,
        "conversions": int(group["conversions"].sum()),
        "time_to_conversion": {"p50": float(np.percentile(ttc, 50)) if len(ttc) else None,
                               "p90": float(np.percentile(ttc, 90)) if len(ttc) else None},
    }
    if revenue:
        total = float(group["revenue"].sum())
        row.update({"revenue": total, "revenue_per_customer": total / n if n else None,
                    "revenue_missing": int(group["revenue_missing"].sum())})
    return row


def _lift(treated: dict[str, Any], holdout: dict[str, Any], revenue: bool) -> dict[str, Any]:
    """Treated minus holdout (Newcombe interval) and treated over holdout minus 1 (Katz interval)."""
    x1, n1, x0, n0 = treated["converted"], treated["customers"], holdout["converted"], holdout["customers"]
    diff = newcombe(x1, n1, x0, n0)
    ratio = katz_ratio(x1, n1, x0, n0)
    out: dict[str, Any] = {
        "absolute": diff[0] if diff else None, "absolute_low": diff[1] if diff else None,
        "absolute_high": diff[2] if diff else None,
        "relative": ratio[0] - 1 if ratio else None, "relative_low": ratio[1] - 1 if ratio else None,
        "relative_high": ratio[2] - 1 if ratio else None,
        "incremental_conversions": diff[0] * n1 if diff else None,
    }
    if not ratio and n0 and x0 == 0:
        out["relative_note"] = "undefined: no holdout customer converted"
    if revenue and n1 and n0:
        out["revenue_per_customer"] = treated["revenue_per_customer"] - holdout["revenue_per_customer"]
    return out


def _paths(first: pd.DataFrame, steps: pd.DataFrame, revenue: bool) -> dict[str, Any]:
    """Per arm and path (the step ids the first pass ran, joined by ``>``), the group's statistics."""
    if first.empty:
        return {"paths": [], "paths_omitted": 0}
    s = steps.merge(first[["customer", "seq_entry", "seq_end"]], on="customer", how="inner")
    s = s[(s["seq"] > s["seq_entry"]) & (s["seq"] < s["seq_end"])]
    path = pd.Series(dtype=object)
    if not s.empty:  # every entrant may have left at entry (exit_when met), before any step
        path = (s["step"].astype(str) + " > ").groupby(s["customer"], sort=False).sum().str[:-3]  # in seq order
    frame = first.assign(path=first["customer"].map(path).astype(object).fillna(""))
    rows = []
    for (arm, p), group in frame.groupby(["arm", "path"], sort=True):
        stats = _stats(group, revenue)
        rows.append({"arm": arm, "path": p, **stats})
    rows.sort(key=lambda r: (-r["customers"], r["arm"], r["path"]))
    return {"paths": rows[:MAX_PATHS], "paths_omitted": max(0, len(rows) - MAX_PATHS)}


def _splits(journey: Any, first: pd.DataFrame, splits: pd.DataFrame, revenue: bool) -> dict[str, Any]:
    """Per split step and branch: the treated (or all) customers whose first pass took that branch the
    first time it reached the step; each branch after the first also gets its difference from the first
    (Newcombe interval)."""
    out: dict[str, Any] = {}
    arm = TREATED if journey.holdout is not None else ALL
    mine = first[first["arm"] == arm]
    s = splits.merge(mine[["customer", "seq_entry", "seq_end"]], on="customer", how="inner")
    s = s[(s["seq"] > s["seq_entry"]) & (s["seq"] < s["seq_end"])].drop_duplicates(["customer", "step"])
    for step in journey.steps:
        if step.split is None:
            continue
        took = s[s["step"] == step.id].set_index("customer")["value"]
        branches: dict[str, Any] = {}
        base = None
        for target in step.split:
            group = mine[mine["customer"].map(took) == target]
            stats = _stats(group, revenue)
            if base is None:
                base = stats
            else:
                d = newcombe(stats["converted"], stats["customers"], base["converted"], base["customers"])
                stats["difference_vs_first"] = ({"absolute": d[0], "low": d[1], "high": d[2]} if d else None)
            branches[target] = stats
        out[step.id] = branches
    return out


def summarise_replicated(runs: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Across replications (summary.json's ``replications.projections``): per journey and arm the mean
    rate and the normal-approximation 95% interval of the mean (``mean +- 1.96 sd / sqrt(n)``), and the
    same for the absolute and relative lift; ``replications`` counts the runs where it was measured."""
    runs = [r for r in runs if r]
    if not runs:
        return None

    def band(values: list[float | None]) -> dict[str, Any]:
        xs = [float(v) for v in values if v is not None]
        if not xs:
            return {"mean": None, "low": None, "high": None, "replications": 0}
        mean, low, high = signed_mean_interval(xs)
        return {"mean": mean, "low": None if math.isnan(low) else low, "high": None if math.isnan(high) else high,
                "replications": len(xs)}

    out: dict[str, Any] = {}
    for name in runs[0]["journeys"]:
        per = [r["journeys"].get(name) for r in runs]
        per = [j for j in per if j is not None]
        entry: dict[str, Any] = {"arms": {arm: {"rate": band([j["arms"][arm]["rate"] for j in per])}
                                          for arm in per[0]["arms"]}}
        if "lift" in per[0]:
            entry["lift"] = {key: band([j["lift"][key] for j in per]) for key in ("absolute", "relative")}
        out[name] = entry
    return {"journeys": out}
