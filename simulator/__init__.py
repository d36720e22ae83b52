"""journeysim: a discrete-event simulator and QA harness for multi-channel marketing journeys.

Public API (kept small; the CLI, the UAT steps and sweeps all go through it)::

    from simulator import load_scenario, run
    scenario = load_scenario("scenarios/cart_abandonment.yaml", overrides=["population.size=500"])
    result = run(scenario, seed=7)                 # RunResult; result.events() is the log as a DataFrame
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from simulator.errors import ConditionError, EngineError, JourneySimError, ScenarioError, ScenarioIssue, UsageError

try:
    __version__ = version("journeysim")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "__version__",
    "load_scenario",
    "load_scenario_text",
    "run",
    "ScriptedCustomer",
    "JourneySimError",
    "ScenarioError",
    "ScenarioIssue",
    "ConditionError",
    "EngineError",
    "UsageError",
]


def __getattr__(name: str):
    # Lazy so that `import simulator` stays cheap (no pydantic/numpy work at import time).
    if name in ("load_scenario", "load_scenario_text"):
        from simulator.scenario import load

        return getattr(load, name)
    if name == "run":
        from simulator.api import run

        return run
    if name == "ScriptedCustomer":
        from simulator.engine.population import ScriptedCustomer

        return ScriptedCustomer
    raise AttributeError(f"module 'simulator' has no attribute {name!r}")
