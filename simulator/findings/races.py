"""exit-race: a message reached the customer, or an ``update`` step ran, after the customer truly met
``exit_when``; one finding per delivered send request or update step, with the phase it slipped
through and its root cause.

Phases (docs/findings.md):

- ``decided``: truth already met exit_when when the journey decided (the ``send`` / ``step`` record's
  exit evidence says truth ``true``); the deciding replica had not seen it (a sync cause) or had
  seen it but the check mode did not look (``check: after_waits``; ``check: at_sends`` at an
  ``update`` step, which that mode does not check: the update still ran after the exit). Counted only if the message was
  delivered (a send the re-check or a policy stopped reached nobody).
- ``held`` / ``deferred``: truth met exit_when while quiet hours held the message or a cap deferred
  it. With ``recheck: at_release`` the re-check (``exit-recheck``) read a replica that had not seen
  the change (a sync cause); with ``recheck: never`` nothing looked.
- ``queued``: truth met exit_when while the message waited in the channel's throughput queue or its
  delivery delay; the channel does not re-check.

The later phases are read from the ``exit-status`` record the engine writes at a delivery when truth
meets exit_when: it names the key that made it true; the first truth change of that key after the
decision is when truth changed, and the pipeline record (``held``, ``deferred``, ``queued``) logged
last before that change is the phase.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from simulator.findings.base import Detector, finding, request_keys
from simulator.findings.context import FindingContext

__all__ = ["ExitRace", "PHASES"]

#: The phases an exit race can slip through, in pipeline order.
PHASES: tuple[str, ...] = ("decided", "held", "deferred", "queued")

_WHEN = {"after_waits": "only when a wait ends", "at_steps": "only before each step",
         "continuous": "as changes arrive", "at_sends": "only when a send step is reached"}
_PIPELINE = ("held", "deferred", "queued")


def _reqs(frame: Any) -> Any:
    """The send request of each record (customer and ``req=N``), as a Series aligned on ``frame``."""
    return request_keys(frame)


def _what_changed(key: str, origin: str, t: str, version: int) -> str:
    if key.startswith("@"):
        return f"{key[1:]} happened at {origin} {t} (v{version})"
    return f"{key} changed at {origin} {t} (v{version})"


class ExitRace(Detector):
    kinds = ("exit-race",)
    reads = ("send", "step", "delivered", "held", "deferred", "queued", "exit-recheck", "exit-status")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        journeys = ctx.scenario.journey_by_name
        sends = ctx.of("send")
        late = sends[sends["truth_value"] == "true"]
        if not late.empty:
            delivered = set(_reqs(ctx.of("delivered")).dropna())
            for req, row in zip(_reqs(late), late.itertuples(index=False)):
                if req in delivered:
                    what = f"{row.message} sent to {row.customer} at {ctx.stamp(row.t)} by {row.journey}/{row.step}"
                    yield self._decided(ctx, row, journeys, what)
        steps = ctx.of("step")
        updates = steps[(steps["detail"] == "update") & (steps["truth_value"] == "true")]
        for row in updates.itertuples(index=False):
            what = f"update step {row.journey}/{row.step} ran for {row.customer} at {ctx.stamp(row.t)}"
            yield self._decided(ctx, row, journeys, what)
        status = ctx.of("exit-status")
        if status.empty:
            return
        status_req = _reqs(status)
        wanted = set(status_req.dropna())
        send_req = _reqs(sends)
        keep = send_req.isin(wanted)
        send_of = dict(zip(send_req[keep], sends[keep].itertuples(index=False)))
        pipe = ctx.of(*_PIPELINE, "exit-recheck")
        pipe_req = _reqs(pipe)
        keep = pipe_req.isin(wanted)
        records: dict[str, list[Any]] = {}
        for req, row in zip(pipe_req[keep], pipe[keep].itertuples(index=False)):
            records.setdefault(req, []).append(row)
        for req, row in zip(status_req, status.itertuples(index=False)):
            send = send_of.get(req)
            if send is None or send.truth_value == "true":
                continue  # phase decided: reported from the send record above
            pipeline = sorted(records.get(req, []), key=lambda r: r.seq)
            yield self._after_decision(ctx, row, send, pipeline, journeys)

    # ------------------------------------------------------------------ decided

    def _decided(self, ctx: FindingContext, row: Any, journeys: dict[str, Any], what: str) -> dict[str, Any]:
        journey = journeys[row.journey]
        check = journey.exit_when.check if journey.exit_when else "continuous"
        key = row.field if isinstance(row.field, str) else "exit_when"
        has_version = not _nan(row.version)
        if row.value == "true":
            changed = ctx.change_time(row.customer, key, int(row.version)) if has_version else None
            return finding(ctx, "exit-race", row, f"{what} although exit_when was already met at {row.system}",
                           f"exit_when is checked {_WHEN[check]} (check: {check}); {row.system} had seen the exit "
                           f"before this step, so a check here would have stopped it", phase="decided",
                           truth_changed_at=ctx.stamp(changed) if changed is not None else None)
        if key != "exit_when" and has_version:
            cause = ctx.cause(row.customer, key, int(row.version) + 1, row.system, row.t)
            seen = f"the customer's {key[1:]}" if key.startswith("@") else f"{key} changed in truth"
            return finding(ctx, "exit-race", row, f"{what} after {seen}: {row.system} had not seen it yet",
                           cause.text, cause=cause, phase="decided")
        return finding(ctx, "exit-race", row, f"{what} although the exit condition was already true in truth",
                       f"the exit condition ({journey.exit_when.when.source if journey.exit_when.when else key}) "
                       f"became true in truth without a logged change of a field it reads (it depends on time)",
                       phase="decided")

    # ------------------------------------------------------------------ held, deferred, queued

    def _after_decision(self, ctx: FindingContext, row: Any, send: Any, records: list[Any],
                        journeys: dict[str, Any]) -> dict[str, Any]:
        """A delivery (``exit-status`` record ``row``) after truth met exit_when, which it had not at the decision."""
        journey = journeys[row.journey]
        label = " or ".join(x for x in (journey.exit_when.event,
                                        journey.exit_when.when.source if journey.exit_when.when else None) if x)
        what = (f"{row.message} delivered to {row.customer} at {ctx.stamp(row.t)} by {row.journey}/{row.step} "
                f"(decided {ctx.stamp(send.t)})")
        key = row.field if isinstance(row.field, str) else "exit_when"
        change = ctx.first_change_after(row.customer, key, int(send.seq)) if key != "exit_when" else None
        if change is None:
            return finding(ctx, "exit-race", row, f"{what} although exit_when was met in truth by then",
                           f"exit_when ({label}) became true after the decision without a logged change of a "
                           "field it reads (it depends on time)", phase=None)
        changed_at, version, origin, change_seq = change
        happened = _what_changed(key, origin, ctx.stamp(changed_at), version)
        pending = [r for r in records if r.kind in _PIPELINE]
        before = [r for r in pending if r.seq < change_seq]
        phase = before[-1].kind if before else "decided"
        where = self._where(ctx, before[-1], float(row.t)) if before else "after the decision, in the same instant"
        rechecks = [r for r in records if r.kind == "exit-recheck" and r.seq > change_seq]
        stamp_changed = ctx.stamp(changed_at)
        if rechecks and not _nan(rechecks[0].version):
            r = rechecks[0]
            cause = ctx.cause(row.customer, r.field, int(r.version) + 1, r.system, r.t)
            return finding(ctx, "exit-race", r,
                           f"{what}: {happened} while the message was {phase}; the re-check at release "
                           f"{ctx.stamp(r.t)} read {r.system}, which had not seen it",
                           f"{where}; re-checked at release {ctx.stamp(r.t)}: exit_when met? {r.system} says false, "
                           f"truth says true; {cause.text}", cause=cause, phase=phase, t=float(row.t),
                           time=ctx.stamp(row.t))
        if phase == "queued":
            return finding(ctx, "exit-race", row, f"{what}: {happened} while the message was queued at the channel",
                           f"{where}; the channel system does not re-check exit_when: {happened}",
                           phase=phase, truth_changed_at=stamp_changed)
        if phase in ("held", "deferred"):
            release = next((r.t for r in pending if r.seq > before[-1].seq), row.t)
            hypothetical = ctx.cause(row.customer, key, version, row.system, float(release))
            prefix = (f"{where}; exit_when.recheck is {journey.exit_when.recheck}, so the release at "
                      f"{ctx.stamp(release)} did not re-check exit_when")
            if not math.isnan(hypothetical.late_by) and hypothetical.late_by <= 0:
                return finding(ctx, "exit-race", row, f"{what}: {happened} while the message was {phase}",
                               f"{prefix}; {row.system} had seen it {ctx.span(-hypothetical.late_by)} before the "
                               "release, so recheck: at_release would have stopped it", phase=phase,
                               truth_changed_at=stamp_changed)
            return finding(ctx, "exit-race", row, f"{what}: {happened} while the message was {phase}",
                           f"{prefix}; a re-check would have raced too: {hypothetical.text}",
                           cause=hypothetical, phase=phase)
        return finding(ctx, "exit-race", row, f"{what}: {happened} {where}",
                       f"the orchestrator decided on a replica that had not seen the exit yet: {happened}",
                       phase=phase, truth_changed_at=stamp_changed)

    @staticmethod
    def _where(ctx: FindingContext, record: Any, delivered: float) -> str:
        """Where the message was when truth changed: held/deferred (why, until when) or queued at the
        channel (its queue wait, then the delivery delay up to ``delivered``)."""
        reason = str(record.detail).split("; req=")[0]
        if record.kind == "queued":
            return (f"queued at {record.system} at {ctx.stamp(record.t)} ({reason.split(';')[0]}) and delivered "
                    f"{ctx.span(delivered - float(record.t))} later")
        return f"{record.kind} at {ctx.stamp(record.t)} ({reason})"


def _nan(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))
