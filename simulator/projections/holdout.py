"""The holdout arm of a journey (``holdout: 10%``, docs/projections.md#holdouts).

Each customer is drawn once per journey, independently, into the holdout with probability equal to
the share, from the journey's own stream ``child_rng(seed_base, "holdout:<journey>")`` (one uniform
draw per customer, in customer order), so a scenario without a holdout draws nothing new and keeps
its event log, and a customer keeps the same arm on every re-entry. A holdout customer enters and
walks the journey like anyone else (waits, branches, splits, updates, exits); at each send step the
orchestrator is not asked: a ``held-out`` record is logged instead of ``send``, and nothing is
queued, rendered or delivered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.population import child_rng

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine.journeys import Instance, JourneyRunner
    from simulator.scenario.model import Journey, Step

__all__ = ["HOLDOUT", "TREATED", "HELD_OUT", "holdout_arms", "arm_of", "log_held_out"]

HOLDOUT = "holdout"
TREATED = "treated"
#: the log kind written instead of ``send`` for a holdout customer
HELD_OUT = "held-out"


def holdout_arms(journey: Journey, size: int, seed_base: int) -> np.ndarray | None:
    """Per customer index: True when in the journey's holdout. None when the journey has none."""
    if journey.holdout is None:
        return None
    draws = child_rng(seed_base, f"holdout:{journey.name}").random(size)
    return draws < journey.holdout


def arm_of(held: np.ndarray | None, customer: int) -> dict[str, str]:
    """The ``entry`` record's arm column (``field``): ``treated`` or ``holdout``; nothing without a holdout."""
    if held is None:
        return {}
    return {"field": HOLDOUT if held[customer] else TREATED}


def log_held_out(runner: JourneyRunner, inst: Instance, step: Step, evidence: dict[str, object],
                 why: str | None = None) -> None:
    """A holdout customer (or, with ``why``, a send a what-if run leaves out) reaches a send step: log what
    would have been sent, send nothing."""
    eng = runner.engine
    message = eng.scenario.messages[step.send]  # type: ignore[index]
    eng.log.record(eng.now, HELD_OUT, runner.cid(inst.customer), journey=runner.name, step=step.id,
                   system=runner.j.reads_from, **evidence,
                   channel=message.channel, message=step.send,
                   detail=f"{why or 'holdout of ' + runner.name}: not sent; inst={inst.number}")
