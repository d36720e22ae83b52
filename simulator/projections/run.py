"""Attach projections to a finished run: the summary.json section and the projection gates' verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.projections.compute import PROJECTION_COLUMNS, PROJECTION_KINDS, project

if TYPE_CHECKING:  # pragma: no cover
    from simulator.analysis import Analysis
    from simulator.engine import Engine

__all__ = ["attach_projections"]


def attach_projections(engine: Engine, analysis: Analysis | None, summary: dict[str, Any]) -> None:
    """With ``projections:`` in the scenario: compute them from the run's log (in memory, or the written
    events.parquet), put them in ``summary['projections']`` and add the projection gates' verdicts to the
    analysis (so the exit code follows them). Nothing otherwise."""
    scenario = engine.scenario
    if scenario.projections is None:
        return
    from simulator.findings.gates import evaluate_projection_gates
    from simulator.engine.population import customers_frame

    log = engine.log
    if log.path is None:
        events = log.to_pandas()
    else:
        from simulator.engine.events import read_events

        events = read_events(log.path, columns=PROJECTION_COLUMNS, filters=[("kind", "in", list(PROJECTION_KINDS))])
    summary["projections"] = project(scenario, events, customers_frame(engine.population))
    if analysis is not None:
        gates = [*scenario.projection_gates, *analysis.projection_gates]
        analysis.gates.extend(evaluate_projection_gates(gates, summary["projections"]))
