"""exit-race: a send happened after the customer truly met ``exit_when``.

Read from ``send`` records, which carry the exit evidence at decision time: the replica's verdict
(``value``), the truth's (``truth_value``) and, for event exits, the versions of the event key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.findings.base import Detector, finding
from simulator.findings.context import FindingContext

__all__ = ["ExitRace"]

_WHEN = {"after_waits": "only when a wait ends", "at_steps": "only before each step",
         "continuous": "as changes arrive"}


class ExitRace(Detector):
    kinds = ("exit-race",)
    reads = ("send",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        sends = ctx.of("send")
        sends = sends[sends["truth_value"] == "true"]
        journeys = ctx.scenario.journey_by_name
        for row in sends.itertuples(index=False):
            journey = journeys[row.journey]
            check = journey.exit_when.check if journey.exit_when else "continuous"
            what = f"{row.message} sent to {row.customer} at {ctx.stamp(row.t)} by {row.journey}/{row.step}"
            if row.value == "true":
                yield finding(ctx, "exit-race", row, f"{what} although exit_when was already met at {row.system}",
                              f"exit_when is checked {_WHEN[check]} (check: {check}); {row.system} had seen the exit "
                              f"before this send, so a check at the send would have stopped it")
                continue
            if isinstance(row.field, str) and row.field.startswith("@"):
                cause = ctx.cause(row.customer, row.field, int(row.version) + 1, row.system, row.t)
                yield finding(ctx, "exit-race", row,
                              f"{what} after the customer's {row.field[1:]}: {row.system} had not seen it yet",
                              cause.text, cause=cause)
            else:
                yield finding(ctx, "exit-race", row,
                              f"{what} although the exit condition was already true in truth",
                              f"the exit condition read stale values at {row.system}; see the stale reads of "
                              f"this customer in the trace")
