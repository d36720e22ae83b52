"""Replications: the same scenario under N seeds, finding rates with mean and 95% interval.

Replication 1 uses the run's own seed (so it equals a single run); the others use seeds spawned
from it with ``numpy.random.SeedSequence``, so the set is reproducible from one number.

Gates over replications compare one statistic of the per-replication values with the gate: the
mean (default) or the upper end of its 95% interval (``--gate-on upper``, a conservative CI gate for
``<``/``<=`` gates). The interval is the normal approximation used everywhere in journeysim
(``mean +- 1.96 * sd / sqrt(n)``, sd with ``n - 1``; the lower end clipped at 0).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from simulator.pipeline import run_scenario
from simulator.scenario.model import Gate, Scenario

if TYPE_CHECKING:
    from simulator.findings.gates import GateResult

__all__ = ["replication_seeds", "replicate", "rows_of", "summarise_replications", "replication_hook",
           "GATE_ON", "check_gate_on", "mean_interval", "evaluate_replicated_gates"]

#: What a gate over replications compares: the mean, or the upper end of its 95% interval.
GATE_ON = ("mean", "upper")
_Z95 = NormalDist().inv_cdf(0.975)


def replication_seeds(seed: int, n: int) -> list[int]:
    """``seed`` first, then ``n - 1`` seeds spawned from it."""
    children = np.random.SeedSequence(seed).spawn(max(0, n - 1))
    return [seed] + [int(c.generate_state(1)[0]) for c in children]


def replicate(scenario: Scenario, seeds: list[int], *, customers: int | None = None,
              on_done: Callable[[int], None] | None = None,
              on_result: Callable[[Any], None] | None = None) -> pd.DataFrame:
    """Run each seed in memory; one row per replication x finding kind: count, customers, entered, rate.
    ``on_result(result)`` sees each replication's run (e.g. to keep its projections)."""
    rows: list[dict[str, Any]] = []
    for index, seed in enumerate(seeds, start=1):
        result = run_scenario(scenario, seed=seed, customers=customers)
        rows += rows_of(result, index, seed)
        if on_result is not None:
            on_result(result)
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


def check_gate_on(text: str | None, replications: int) -> str:
    """``--gate-on``'s value, checked: one of :data:`GATE_ON` (did-you-mean otherwise); ``upper`` needs
    two or more replications (one run has no interval). None means ``mean``."""
    from simulator.errors import UsageError
    from simulator.scenario.units import did_you_mean

    if text is None:
        return "mean"
    value = text.strip().lower()
    if value not in GATE_ON:
        guess = did_you_mean(value, GATE_ON)
        raise UsageError(f"--gate-on {text!r}: expected one of {', '.join(GATE_ON)}"
                         + (f"; did you mean '{guess}'?" if guess else ""))
    if value == "upper" and replications < 2:
        raise UsageError("--gate-on upper gates on the upper end of a 95% interval across replications; "
                         "give --replications 2 or more (e.g. --replications 5)")
    return value


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of ``values``: the normal-approximation interval of the mean,
    ``mean +- z * sd / sqrt(n)`` (sd with n - 1 degrees of freedom), low clipped at 0; NaN ends for n < 2."""
    x = np.asarray(values, dtype=float)
    n = len(x)
    mean = float(x.mean()) if n else 0.0
    if n < 2:
        return mean, float("nan"), float("nan")
    z = _Z95 if level == 0.95 else NormalDist().inv_cdf(0.5 + level / 2)
    half = z * float(x.std(ddof=1)) / math.sqrt(n)
    return mean, max(0.0, mean - half), mean + half


def evaluate_replicated_gates(gates: Sequence[Gate], table: pd.DataFrame, *, severities: dict[str, str],
                              statistic: str = "mean") -> list[GateResult]:
    """Each gate against ``statistic`` (``mean`` or ``upper``) of its per-replication values in ``table``
    (replications.csv's rows): the rate in % of entered customers for percent gates, the count otherwise.
    With no gates: no error-severity finding in any replication (the mean count of those must be 0)."""
    from simulator.findings.gates import GateResult, gate_holds

    n = int(table["replication"].nunique())
    over = f"over {n} replication{'s' if n != 1 else ''}"
    results = []
    for gate in gates:
        rows = table[table["kind"] == gate.kind].sort_values("replication")
        values = (100.0 * rows["rate"] if gate.percent else rows["count"]).to_numpy(dtype=float)
        mean, low, high = mean_interval(values)
        value = high if statistic == "upper" else mean

        def show(v: float) -> str:
            return f"{v:.3g}%" if gate.percent else f"{v:.3g}"

        band = "" if math.isnan(low) else f" [95% interval {show(low)}-{show(high)}]"
        first = show(values[0]) if len(values) else "n/a"
        head = (f"mean {over}: {show(mean)}{band}" if statistic == "mean"
                else f"upper 95% bound {over}: {show(high)} (mean {show(mean)}, interval {show(low)}-{show(high)})")
        if not gate.percent:
            head += " findings per run"
        results.append(GateResult(gate.text, gate_holds(gate, value), f"{head}; first seed alone: {first}",
                                  statistic))
    if not gates:
        errors = table[table["kind"].map(lambda k: severities.get(k) == "error")]
        per_rep = errors.groupby("replication")["count"].sum().reindex(sorted(table["replication"].unique()),
                                                                       fill_value=0)
        mean, low, high = mean_interval(per_rep.to_numpy(dtype=float))
        value = high if statistic == "upper" else mean
        by_kind = errors.groupby("kind")["count"].sum()
        detail = ", ".join(f"{k} {int(c)}" for k, c in by_kind.items() if c) or "none"
        results.append(GateResult("no error-severity findings (default gate)", value == 0,
                                  f"{statistic} {over}: {value:.3g} error-severity findings per run "
                                  f"(total across replications: {detail})", statistic))
    return results


def replication_hook(scenario: Scenario, seed: int, n: int, *, customers: int | None = None,
                     announce: Callable[[str], None] | None = None, gates: Sequence[Gate] = (),
                     gate_on: str = "mean"):
    """A ``before_commit`` hook for :func:`run_scenario`: runs replications 2..n, writes replications.csv,
    re-evaluates the gates (the scenario's plus ``gates``, i.e. --fail-on) on ``gate_on`` of the
    replications, and returns the ``replications`` section of summary.json with the new ``findings``
    gates and verdict. The run's :class:`~simulator.analysis.Analysis` gets the new gate results, so the
    exit code follows them."""

    def hook(result: Any, file: Callable[[str], Any]) -> dict[str, Any]:
        seeds = replication_seeds(seed, n)
        if announce is not None:
            announce(f"running {n - 1} more replication{'s' if n > 2 else ''}...")
        table = pd.DataFrame(rows_of(result, 1, seeds[0]))
        projected = [result.summary.get("projections")]  # per replication, for the projection gates
        others = replicate(scenario, seeds[1:], customers=customers,
                           on_result=lambda r: projected.append(r.summary.get("projections")))
        if not others.empty:
            table = pd.concat([table, others.assign(replication=others["replication"] + 1)], ignore_index=True)
        table.to_csv(file("replications.csv"), index=False)
        extra: dict[str, Any] = {"replications": {"seeds": seeds, "gate_on": gate_on,
                                                  "by_kind": summarise_replications(table)}}
        if projected[0] is not None:
            from simulator.projections.compute import summarise_replicated

            extra["replications"]["projections"] = summarise_replicated(projected)
        if result.analysis is not None:
            from simulator.scenario.vocabulary import DEFAULT_SEVERITY

            severities = {**DEFAULT_SEVERITY, **scenario.severity}
            from simulator.findings.gates import evaluate_replicated_projection_gates
            from simulator.scenario.experiments import is_projection_gate

            verdicts = evaluate_replicated_gates([*scenario.gate_list, *(g for g in gates if not is_projection_gate(g.kind))],
                                                 table, severities=severities, statistic=gate_on)
            verdicts += evaluate_replicated_projection_gates([*scenario.projection_gates, *gates], projected, gate_on)
            first_run = result.analysis.gates
            result.analysis.gates = verdicts
            findings = dict(result.summary.get("findings", {}))
            findings.update({"gates": [g.as_dict() for g in verdicts], "passed": result.analysis.passed,
                             "gate_on": gate_on,
                             "first_replication_gates": [g.as_dict() for g in first_run]})
            extra["findings"] = findings
        return extra

    return hook


def summarise_replications(table: pd.DataFrame, level: float = 0.95) -> dict[str, dict[str, float]]:
    """Per kind: mean rate, normal-approximation interval of the mean across replications, n."""
    out: dict[str, dict[str, float]] = {}
    for kind, group in table.groupby("kind", sort=True):
        rates = group["rate"].to_numpy(dtype=float)
        if not rates.any():
            continue
        mean, low, high = mean_interval(rates, level)
        out[kind] = {"mean": mean, "low": low, "high": high, "replications": len(rates),
                     "mean_count": float(group["count"].mean())}
    return out
