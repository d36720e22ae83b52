"""The small public API the CLI, the UAT steps and sweeps all call, so none re-implements a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from simulator.pipeline import RunResult, run_scenario
from simulator.errors import UsageError
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario
from simulator.scenario.model import Scenario

__all__ = ["run"]


def run(scenario: Scenario | str | Path, *, seed: int | None = None,
        overrides: dict[str, Any] | list[str] | None = None, scripted: Sequence[ScriptedCustomer] | None = None,
        out: str | Path | None = None, customers: int | None = None, overwrite: bool = False) -> RunResult:
    """Run a scenario (a loaded :class:`Scenario` or a path) once and return its :class:`RunResult`.

    ``overrides`` are ``key.path=value`` strings or a ``{path: value}`` dict, validated like the file
    (a loaded scenario is re-read from its file to apply them). ``scripted`` adds named customers who
    receive only their own events. ``out`` writes the run folder; without it the log stays in memory.
    ``overwrite`` replaces an existing ``out`` only if it is a journeysim run folder (anything else raises
    :class:`UsageError`, nothing deleted); see docs/run-folders.md for what the folder holds.
    """
    if isinstance(scenario, (str, Path)):
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        if scenario.source_file is None:
            raise UsageError("overrides need a scenario loaded from a file; pass the path instead")
        scenario = load_scenario(scenario.source_file, overrides)
    return run_scenario(scenario, seed=seed, customers=customers, scripted=scripted or (), out=out,
                        overwrite=overwrite)
