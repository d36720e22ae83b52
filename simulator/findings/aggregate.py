"""Aggregates of findings: per kind x journey x step, with Wilson 95% intervals, and per kind. Every
denominator counts distinct customers (who entered a journey, or reached a step), never entries."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from simulator.findings.totals import RunTotals

__all__ = ["wilson", "aggregate", "kind_totals"]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default); (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def aggregate(totals: RunTotals, findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows per kind x journey x step: count, customers, rate per customer who reached the step, the
    rate's Wilson 95% interval, and findings per 1000 customers who entered the journey.

    The denominator of the last is **distinct customers** who entered the journey, not entries (a
    customer who re-entered counts once). It is ``per_1000_entered_customers``; ``per_1000_entries`` is
    the same value under its original name, kept because summary.json's keys are a contract."""
    if findings.empty:
        return []
    rows = []
    keys = findings[["kind", "journey", "step"]].astype(object).where(findings[["kind", "journey", "step"]].notna(), None)
    groups = findings.assign(journey=keys["journey"], step=keys["step"]).groupby(
        ["kind", "journey", "step"], dropna=False, sort=True)
    for (kind, journey, step), group in groups:
        journey = None if pd.isna(journey) else journey
        step = None if pd.isna(step) else step
        entered = totals.entered.get(journey, 0) if journey else 0
        base = totals.reached.get((journey, step), entered) if journey and step else entered
        affected = int(group["customer"].nunique())
        low, high = wilson(affected, base)
        per_1000 = round(1000 * len(group) / entered, 3) if entered else None
        rows.append({
            "kind": kind, "journey": journey, "step": step, "count": int(len(group)), "customers": affected,
            "reached": int(base), "rate": round(affected / base, 6) if base else None,
            "rate_low": round(low, 6) if base else None, "rate_high": round(high, 6) if base else None,
            "per_1000_entered_customers": per_1000,
            "per_1000_entries": per_1000,  # the original name of the same value (a summary.json contract)
            "severity": group["severity"].iloc[0],
        })
    return rows


def kind_totals(totals: RunTotals, findings: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per kind: count, affected customers, and the rate per customer who entered any journey."""
    entered = totals.entered_any
    out: dict[str, dict[str, Any]] = {}
    for kind, group in findings.groupby("kind", sort=True):
        affected = int(group["customer"].nunique())
        low, high = wilson(affected, entered)
        out[kind] = {"count": int(len(group)), "customers": affected, "entered": entered,
                     "rate": affected / entered if entered else 0.0, "rate_low": low, "rate_high": high,
                     "severity": group["severity"].iloc[0]}
    return out
