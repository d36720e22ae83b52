"""How journeysim UAT failures read: usage errors first and plain, known defects that pass with traces."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

__all__ = ["USAGE", "is_usage_error", "usage_text", "xpass_text", "fail_cucumber_steps"]

#: user_properties entry of a report whose failure is a usage error (`journeysim uat` exits 2).
USAGE = ("journeysim", "usage-error")


def is_usage_error(excinfo: pytest.ExceptionInfo[BaseException]) -> bool:
    """A feature that cannot mean what it says: misspelt name, unknown phrase, missing or invalid scenario."""
    from simulator.errors import ConditionError, ScenarioError, UsageError

    return excinfo.errisinstance((UsageError, ScenarioError, ConditionError))


def usage_text(feature: str, step: Any, excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """'usage error: <feature>:<line>: <step>' then the message (the pre-flight check names its own lines)."""
    from simulator.bdd.lint import StepsError

    text = str(excinfo.value)
    if excinfo.errisinstance(StepsError) or step is None:
        return "usage error: " + text
    where = f"{Path(feature).name}:{step.line_number}: {step.keyword.strip()} {step.name}"
    return f"usage error: {where}\n  " + text.replace("\n", "\n  ")


def xpass_text(world: Any, head: str) -> str:
    """A @known-defect scenario that passed: say so, with every scripted customer's trace."""
    lines = [head, "This scenario is tagged @known-defect but every step passed: the defect no longer shows here "
                   "(fixed, or the scenario no longer demonstrates it). Remove the tag once that is confirmed."]
    if world is not None and world.result is not None:
        for name in world.people:
            with contextlib.suppress(Exception):
                lines += ["", world.trace(name)]
    return "\n".join(lines)


def fail_cucumber_steps(request: pytest.FixtureRequest, scenario: Any) -> None:
    """Mark every step of the scenario failed in pytest-bdd's Cucumber report (none of them could run)."""
    with contextlib.suppress(Exception):  # pytest-bdd's reporting internals; the test fails regardless
        from pytest_bdd.reporting import StepReport, scenario_reports_registry

        report = scenario_reports_registry[request.node]
        for step in scenario.steps:
            step_report = StepReport(step=step)
            step_report.finalize(failed=True)
            report.add_step_report(step_report)
