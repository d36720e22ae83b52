"""From a finished run's log to findings, aggregates and gate results (the run's verdict)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from simulator.findings import FindingContext, detect_in_context
from simulator.findings.aggregate import aggregate, kind_totals
from simulator.findings.gates import GateResult, evaluate_gates
from simulator.findings.recommend import recommend
from simulator.scenario.model import Gate, Scenario
from simulator.scenario.vocabulary import DEFAULT_SEVERITY

__all__ = ["Analysis", "analyse"]


@dataclass
class Analysis:
    findings: pd.DataFrame
    totals: dict[str, dict[str, Any]]
    by_step: list[dict[str, Any]]
    gates: list[GateResult]
    recommendations: list[dict[str, Any]]
    entered: int = 0  # distinct customers who entered any journey

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
    findings = detect_in_context(ctx)
    totals = kind_totals(ctx, findings)
    severities = {**DEFAULT_SEVERITY, **scenario.severity}
    gates = list(scenario.gate_list) + list(extra_gates or [])
    entered = int(ctx.of("entry")["customer"].nunique())
    results = evaluate_gates(gates, totals, severities=severities, entered=entered)
    return Analysis(findings, totals, aggregate(ctx, findings), results, recommend(ctx, findings), entered)
