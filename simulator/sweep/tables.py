"""The sweep's tables: sweep.csv in grid order, per-variant means with 95% bands, the settings where
each gate starts to hold, and what-if deltas paired by seed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import pandas as pd

from simulator.findings.gates import gate_holds
from simulator.scenario.load import parse_key_path
from simulator.scenario.model import Gate
from simulator.scenario.units import parse_duration
from simulator.scenario.vocabulary import FINDING_KINDS
from simulator.sweep.grid import BASELINE, WHAT_IF, number
from simulator.sweep.plan import SweepPlan
from simulator.sweep.task import TaskResult

_Z95 = NormalDist().inv_cdf(0.975)


def build_table(plan: SweepPlan, results: dict[str, TaskResult]) -> pd.DataFrame:
    """sweep.csv: one row per variant x replication x finding kind, in grid order (never finish order).

    Columns: variant, one per setting, replication, seed, kind, count, customers, entered, rate,
    ``sends_<channel>`` (messages delivered), ``sends_total``, ``p95_week_<channel>`` and ``p95_week_any``.
    """
    channels = sorted(set(plan.base.channel_systems)
                      | {ch for r in results.values() for ch in r.sends}
                      | {ch for r in results.values() for ch in r.p95_week if ch != "any"})
    rows = []
    for task in plan.tasks:
        result = results.get(task.key)
        if result is None:
            continue
        variant = plan.variants[task.variant]
        run_level: dict[str, Any] = {f"sends_{ch}": int(result.sends.get(ch, 0)) for ch in channels}
        run_level["sends_total"] = int(sum(result.sends.values()))
        run_level.update({f"p95_week_{ch}": float(result.p95_week.get(ch, 0.0)) for ch in [*channels, "any"]})
        head = {"variant": variant.index, **dict(variant.settings), "replication": task.replication,
                "seed": task.seed}
        for kind_row in result.kinds:
            rows.append({**head, **kind_row, **run_level})
    columns = (["variant", *plan.columns, "replication", "seed", "kind", "count", "customers", "entered", "rate"]
               + [f"sends_{ch}" for ch in channels] + ["sends_total"]
               + [f"p95_week_{ch}" for ch in [*channels, "any"]])
    return pd.DataFrame(rows, columns=columns)


def summarise(table: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Per variant x kind: mean rate with a 95% interval across replications (normal approximation, as
    ``run --replications``), mean count with its interval (count_low, count_high), mean customers,
    replications; and the run-level means."""
    if table.empty:
        return pd.DataFrame(columns=["variant", *columns, "kind", "mean_rate", "low", "high", "replications"])
    keys = ["variant", *columns, "kind"]
    groups = table.groupby(keys, sort=False, dropna=False)
    out = groups.agg(mean_rate=("rate", "mean"), sd=("rate", "std"), replications=("rate", "size"),
                     mean_count=("count", "mean"), sd_count=("count", "std"), mean_customers=("customers", "mean"),
                     mean_entered=("entered", "mean")).reset_index()
    for mean, sd, low, high in (("mean_rate", "sd", "low", "high"), ("mean_count", "sd_count", "count_low",
                                                                      "count_high")):
        half = _Z95 * out[sd].fillna(0.0) / np.sqrt(out["replications"])
        half[out["replications"] < 2] = np.nan
        out[low] = (out[mean] - half).clip(lower=0.0)
        out[high] = out[mean] + half
    extra = [c for c in table.columns if c.startswith(("sends_", "p95_week_"))]
    if extra:
        means = table.groupby(["variant", "kind"], sort=False)[extra].mean().reset_index()
        out = out.merge(means, on=["variant", "kind"], how="left")
    return out.drop(columns=["sd", "sd_count"])


def numeric_value(text: str) -> float | None:
    """A setting's value as a number (durations in seconds), or None when it is not one."""
    n = number(text.strip())
    if n is not None:
        return float(n)
    try:
        return parse_duration(text)
    except (ValueError, TypeError):
        return None


def _gate_value(gate: Gate, row: pd.Series, edge: str) -> float:
    """The gate's quantity for one variant: % of entered customers or a mean count; ``edge`` 'mean' or the
    pessimistic end of the 95% band ('band')."""
    if not gate.percent:
        count = float(row["mean_count"])
        if edge == "band" and "count_high" in row and not math.isnan(float(row["count_high"])):
            count = float(row["count_high"]) if gate.op in ("<", "<=", "==") else float(row["count_low"])
        return count
    rate = float(row["mean_rate"])
    if edge == "band" and not math.isnan(float(row["high"])):
        rate = float(row["high"]) if gate.op in ("<", "<=", "==") else float(row["low"])
    return 100.0 * rate


def short_name(key: str) -> str:
    """``journeys[cart].steps[wait_1h].wait`` -> ``wait_1h.wait`` (a named list item and its key); else ``key``."""
    parts = parse_key_path(key)
    if len(parts) >= 2 and isinstance(parts[-2], str) and f"[{parts[-2]}]" in key:
        return f"{parts[-2]}.{parts[-1]}"
    return key


def _threshold(points: list[tuple[str, bool]]) -> tuple[str, str | None]:
    """Where a gate starts to hold along ordered values: ('>=', v), ('<=', v), ('all', None), ('none', None),
    or ('some', 'a, b')."""
    flags = [ok for _, ok in points]
    if all(flags):
        return "all", None
    if not any(flags):
        return "none", None
    first = flags.index(True)
    if all(flags[first:]):
        return ">=", points[first][0]
    last = len(flags) - 1 - flags[::-1].index(True)
    if all(flags[: last + 1]):
        return "<=", points[last][0]
    return "some", ", ".join(v for v, ok in points if ok)


@dataclass(frozen=True)
class _Point:
    """One tested value of the varied key: the gate's quantity (mean; % or count), its 95% band (NaN ends
    without one) and whether the gate holds on the mean and at the pessimistic end of the band."""

    value: str
    mean: float
    low: float
    high: float
    holds: bool
    band_holds: bool

    @property
    def has_band(self) -> bool:
        return not (math.isnan(self.low) or math.isnan(self.high))


def _points(gate: Gate, rows: pd.DataFrame, present: list[str], by_value: dict[str, int]) -> list[_Point]:
    out = []
    for v in present:
        row = rows.loc[by_value[v]]
        mean = _gate_value(gate, row, "mean")
        if gate.percent:
            low, high = 100.0 * float(row["low"]), 100.0 * float(row["high"])
        elif "count_low" in row:
            low, high = float(row["count_low"]), float(row["count_high"])
        else:
            low = high = float("nan")
        out.append(_Point(v, mean, low, high, gate_holds(gate, mean),
                          gate_holds(gate, _gate_value(gate, row, "band"))))
    return out


def _bands_overlap(a: _Point, b: _Point) -> bool:
    """Whether two points' 95% bands overlap (False when either has no band: nothing to compare)."""
    return a.has_band and b.has_band and a.low <= b.high and b.low <= a.high


def _monotone(points: Sequence[_Point]) -> bool:
    """False when the curve both rises and falls between neighbours by more than its bands allow (a step
    counts when the two bands do not overlap; without bands, any change counts)."""
    ups = downs = False
    for a, b in zip(points, points[1:]):
        if b.mean == a.mean or _bands_overlap(a, b):
            continue
        ups |= b.mean > a.mean
        downs |= b.mean < a.mean
    return not (ups and downs)


def _show(gate: Gate, v: float) -> str:
    return f"{v:.3g}%" if gate.percent else f"{v:.3g}"


def _band_text(gate: Gate, p: _Point) -> str:
    return f"{_show(gate, p.low)}-{_show(gate, p.high)}" if p.has_band else _show(gate, p.mean)


def recommendation_text(gate: Gate, name: str, points: Sequence[_Point], *, ordered: bool = True
                        ) -> dict[str, Any]:
    """The recommendation along one varied key, from its tested points in increasing order (``ordered``
    False for values that are not numbers: no threshold is then claimed). Returns the verdict as data
    (holds, threshold, band_holds, band_threshold, monotone, at_edge, unresolved, meets) and a sentence.

    The sentence never claims more than the points show: a threshold only on a monotone curve and never
    at the grid's edge; a non-monotone curve (or unordered values) lists every tested setting that meets
    the gate; where a neighbouring pair on either side of the boundary has overlapping 95% bands the
    boundary is said to be not resolved."""
    meets = [p.value for p in points if p.holds]
    monotone = _monotone(points) if ordered else False
    how, where = _threshold([(p.value, p.holds) for p in points])
    band_how, band_where = _threshold([(p.value, p.band_holds) for p in points])
    at_edge = False
    if how in (">=", "<=", "some") and (not monotone or not ordered):
        how, where = "some", ", ".join(meets)
    if how == ">=" and where == points[-1].value:
        at_edge = True
        text = (f"{gate.text} holds only at the largest value tested, {name} = {where}: one point is not a "
                f"threshold; test values between {points[-2].value if len(points) > 1 else where} and {where} "
                f"(where it starts to hold) and beyond {where} (that it keeps holding)")
    elif how == "<=" and where == points[0].value:
        at_edge = True
        text = (f"{gate.text} holds only at the smallest value tested, {name} = {where}: one point is not a "
                f"threshold; test values between {where} and {points[1].value if len(points) > 1 else where} "
                f"(where it stops holding) and below {where} (that it keeps holding)")
    elif how in (">=", "<="):
        text = f"{gate.text} needs {name} {how} {where}"
    elif how == "all":
        text = f"{gate.text} holds at every tested {name} ({points[0].value} .. {points[-1].value})"
    elif how == "none":
        best = min(points, key=lambda p: abs(p.mean - gate.value))
        text = (f"{gate.text} fails at every tested {name}; closest: "
                + (f"{best.mean:.3g}%" if gate.percent else f"{best.mean:.3g} findings per run")
                + f" at {name} = {best.value}")
        trend = len(points) > 1 and points[0].mean != points[-1].mean and not _bands_overlap(points[0], points[-1])
        if ordered and monotone and trend and best.value in (points[0].value, points[-1].value):
            text += "; extend the grid " + ("beyond" if best is points[-1] else "below") + f" {best.value}"
    elif ordered and monotone:
        text = (f"{gate.text} holds at {name} = {where}; the tested points alternate between meeting and "
                "missing the gate within their 95% bands, so no threshold: only these tested settings meet it")
    else:
        curve = ", ".join(f"{p.value}: {_show(gate, p.mean)}" for p in points)
        why = (f"the curve is not monotone in {name} ({curve})" if ordered
               else f"the values of {name} have no order")
        text = f"{gate.text} holds at {name} = {where}; {why}, so no threshold: only these tested settings meet it"
    unresolved = [(a, b) for a, b in zip(points, points[1:]) if a.holds != b.holds and _bands_overlap(a, b)]
    if unresolved:
        pairs = "; ".join(f"{a.value} ({_band_text(gate, a)}) and {b.value} ({_band_text(gate, b)})"
                          for a, b in unresolved)
        text += (f"; not resolved: the 95% bands overlap at {pairs}, so the gate may hold on either side; "
                 "add replications or customers")
    if how in (">=", "<=") and not at_edge and (band_how, band_where) != (how, where):
        if band_how in (">=", "<="):
            text += f" ({band_how} {band_where} to hold at the pessimistic end of the 95% band)"
        elif band_how == "none":
            text += " (no tested value holds at the pessimistic end of the 95% band)"
    return {"holds": how, "threshold": where, "band_holds": band_how, "band_threshold": band_where,
            "monotone": monotone, "at_edge": at_edge, "meets": meets,
            "unresolved": [[a.value, b.value] for a, b in unresolved], "sentence": text}


def recommend(summary: pd.DataFrame, plan: SweepPlan, gates: Sequence[Gate]) -> list[dict[str, Any]]:
    """For each gate x varied key (x each combination of the other settings): where the gate holds, as data
    and a sentence (:func:`recommendation_text`), e.g. ``exit-race < 0.5% needs wait_1h.wait >= 2h30m``."""
    out: list[dict[str, Any]] = []
    if summary.empty:
        return out
    for gate in gates:
        rows = summary[summary["kind"] == gate.kind].set_index("variant")
        for vary in plan.varies:
            others = [c for c in plan.columns if c != vary.key]
            numbers = [numeric_value(v) for v in vary.values]
            ordered = list(vary.values)
            is_numeric = all(n is not None for n in numbers)
            if is_numeric:
                ordered = [v for _, v in sorted(zip(numbers, vary.values), key=lambda p: p[0])]
            combos: dict[tuple[str, ...], dict[str, int]] = {}
            for variant in plan.variants:
                settings = dict(variant.settings)
                combos.setdefault(tuple(settings[c] for c in others), {})[settings[vary.key]] = variant.index
            for combo, by_value in combos.items():
                present = [v for v in ordered if v in by_value and by_value[v] in rows.index]
                if not present:
                    continue
                verdict = recommendation_text(gate, short_name(vary.key), _points(gate, rows, present, by_value),
                                              ordered=is_numeric or len(present) == 1)
                with_text = ", ".join(f"{c}={v}" for c, v in zip(others, combo))
                if with_text:
                    verdict["sentence"] += f" (with {with_text})"
                out.append({"gate": gate.text, "kind": gate.kind, "parameter": vary.key,
                            "with": dict(zip(others, combo)), **verdict})
    return out


def what_if_deltas(table: pd.DataFrame, plan: SweepPlan) -> pd.DataFrame:
    """Each what-if against the baseline at the same other settings, paired by seed (common random
    numbers): per kind (and run-level metrics as pseudo-kinds ``sends_<channel>``, ``p95_week_any``) the
    baseline and what-if means, the mean difference and its 95% interval; kinds zero in both are left out."""
    if table.empty:
        return pd.DataFrame()
    others = [c for c in plan.columns if c != WHAT_IF]
    metrics = [c for c in table.columns if c.startswith("sends_") or c == "p95_week_any"]
    run_rows = table.drop_duplicates(["variant", "replication"])
    long = [table[[*others, WHAT_IF, "replication", "kind", "rate"]].rename(columns={"rate": "value"})]
    for metric in metrics:
        long.append(run_rows[[*others, WHAT_IF, "replication"]].assign(kind=metric, value=run_rows[metric]))
    frame = pd.concat(long, ignore_index=True)
    index = [*others, "kind", "replication"]
    base = frame[frame[WHAT_IF] == BASELINE].drop(columns=WHAT_IF).set_index(index)["value"]
    rows = []
    for w in plan.what_ifs:
        mine = frame[frame[WHAT_IF] == w.label].drop(columns=WHAT_IF).set_index(index)["value"]
        paired = pd.concat({"baseline": base, "what_if": mine}, axis=1, join="inner").reset_index()
        for key, group in paired.groupby([*others, "kind"], sort=False):
            key = key if isinstance(key, tuple) else (key,)
            if not group["baseline"].any() and not group["what_if"].any():
                continue
            diff = (group["what_if"] - group["baseline"]).to_numpy(dtype=float)
            n = len(diff)
            half = _Z95 * float(diff.std(ddof=1)) / math.sqrt(n) if n > 1 else float("nan")
            rows.append({WHAT_IF: w.label, **dict(zip([*others, "kind"], key)),
                         "baseline": float(group["baseline"].mean()), "what_if_value": float(group["what_if"].mean()),
                         "delta": float(diff.mean()), "delta_low": float(diff.mean()) - half,
                         "delta_high": float(diff.mean()) + half, "replications": n})
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    grid = {}
    for variant in plan.variants:
        settings = dict(variant.settings)
        grid.setdefault(tuple(settings[c] for c in others), variant.index)
    frame["_order"] = frame["kind"].map(lambda k: order.get(k, len(order)))
    frame["_w"] = frame[WHAT_IF].map({w.label: i for i, w in enumerate(plan.what_ifs)})
    frame["_v"] = [grid[tuple(values)] for values in frame[others].itertuples(index=False)] if others else 0
    return frame.sort_values(["_w", "_v", "_order", "kind"], kind="stable").drop(
        columns=["_order", "_w", "_v"]).reset_index(drop=True)
