"""What should have happened and did not: missed-send, late-delivery, stuck.

``missed-send`` is the symptom; its root cause is the lost or late sync record (consent that had
not reached the channel), the policy that dropped the message, or the queue it never left. Sends
are tied to their outcome by the request id the send pipeline writes into ``detail``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from simulator.findings.base import Detector, finding, request_key, request_keys
from simulator.findings.context import FindingContext

__all__ = ["MissedSend", "LateDelivery", "Stuck"]


def _by_req(ctx: FindingContext, *kinds: str, only: set[str] | None = None) -> dict[str, Any]:
    """Last record of the given kinds per send request (restricted to ``only`` when given)."""
    rows = ctx.of(*kinds)
    reqs = request_keys(rows)
    keep = reqs.notna() if only is None else reqs.isin(only)
    out: dict[str, Any] = {}
    for req, row in zip(reqs[keep], rows[keep].itertuples(index=False)):
        out[req] = row
    return out


def _read(record: Any) -> dict[str, Any]:
    """The read columns of a finding taken from ``record`` (what the system held vs truth)."""
    def clean(v: Any) -> Any:
        return None if v is None or v != v else v
    version, truth_version = clean(record.version), clean(record.truth_version)
    return {"system": clean(record.system), "field": clean(record.field), "replica_value": clean(record.value),
            "replica_version": None if version is None else int(version), "truth_value": clean(record.truth_value),
            "truth_version": None if truth_version is None else int(truth_version)}


def _reqs(ctx: FindingContext, kind: str) -> set[str]:
    """Send requests (customer and ``req=N``) of every record of one kind (vectorised)."""
    return set(request_keys(ctx.of(kind)).dropna())


class MissedSend(Detector):
    kinds = ("missed-send",)
    reads = ("send", "suppressed", "held", "deferred", "queued", "consent-check", "delivered")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        sends = ctx.of("send")
        send_reqs = request_keys(sends)
        missing = send_reqs.notna() & ~send_reqs.isin(_reqs(ctx, "delivered"))
        if not missing.any():
            return
        wanted = set(send_reqs[missing])
        suppressed = _by_req(ctx, "suppressed", only=wanted)
        checks = _by_req(ctx, "consent-check", only=wanted)
        pending = _by_req(ctx, "held", "deferred", "queued", only=wanted)
        for req, row in zip(send_reqs[missing], sends[missing].itertuples(index=False)):
            what = f"{row.message} for {row.customer} ({row.journey}/{row.step}, decided {ctx.stamp(row.t)})"
            stop = suppressed.get(req)
            if stop is not None and str(stop.detail).startswith("consent:"):
                check = checks.get(req)
                if check is None or check.truth_value != "true":
                    continue  # truly opted out: suppressing was right
                cause = ctx.cause(check.customer, check.field, int(check.version) + 1, check.system, check.t)
                yield finding(ctx, "missed-send", row, f"{what} was suppressed by {check.system}'s stale opt-out: "
                              f"the customer was opted in", cause.text, cause=cause)
            elif stop is not None and str(stop.detail).startswith("exit_when met at release"):
                if stop.truth_value == "true":
                    continue  # the customer had truly met exit_when: dropping it was right
                text = f"the re-check at release read exit_when as met on {stop.system} while truth had not met it"
                cause = None
                if isinstance(stop.field, str) and stop.field != "exit_when" and stop.version == stop.version:
                    cause = ctx.cause(stop.customer, stop.field, int(stop.version) + 1, stop.system, float(stop.t))
                    text += f": {cause.text}"
                yield finding(ctx, "missed-send", row, f"{what} was dropped at its release {ctx.stamp(stop.t)}",
                              text, cause=cause, **_read(stop))
            elif stop is not None and str(stop.detail).startswith("render:"):
                continue  # a template that failed to render: creative-render-error (findings/creative.py)
            elif stop is not None and str(stop.detail).startswith("identity:"):
                continue  # the merge ruled it out (docs/identity.md); identity findings judge the person
            elif stop is not None:
                reason = str(stop.detail).split("; req=")[0]
                yield finding(ctx, "missed-send", row, f"{what} was dropped at {ctx.stamp(stop.t)}",
                              f"dropped by policy: {reason}")
            else:
                last = pending.get(req)
                state = f"last {last.kind} at {ctx.stamp(last.t)} ({str(last.detail).split('; req=')[0]})" \
                    if last is not None else "no channel outcome"
                yield finding(ctx, "missed-send", row, f"{what} was not delivered before the run ended",
                              f"still in the pipeline: {state}")


class LateDelivery(Detector):
    kinds = ("late-delivery",)
    reads = ("delivered", "queued", "held", "deferred")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        d = ctx.of("delivered")
        d = d[d["detail"].str.contains("later than valid_for", regex=False, na=False)]
        if d.empty:
            return
        wanted = set(request_keys(d).dropna())
        queued = _by_req(ctx, "queued", only=wanted)
        held = request_keys(ctx.of("held", "deferred"))
        holds: dict[str, int] = held[held.isin(wanted)].value_counts().to_dict()
        messages = ctx.scenario.messages
        for row in d.itertuples(index=False):
            req = request_key(row)
            valid = messages[row.message].valid_for or 0.0
            parts = []
            if holds.get(req):
                parts.append(f"held or deferred {holds[req]} time{'s' if holds[req] > 1 else ''} by policy")
            q = queued.get(req)
            if q is not None:
                parts.append(str(q.detail).split(";")[0] + f" at {row.system} (throughput backlog)")
            yield finding(ctx, "late-delivery", row,
                          f"{row.message} reached {row.customer} {str(row.detail).split(';')[1].strip()}, "
                          f"past its valid_for of {ctx.span(valid)}",
                          "; ".join(parts) or "delivery delay")


class Stuck(Detector):
    kinds = ("stuck",)
    reads = ("active-at-end",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        journeys = ctx.scenario.journey_by_name
        for row in ctx.of("active-at-end").itertuples(index=False):
            journey = journeys[row.journey]
            step = next(s for s in journey.steps if s.id == row.step)
            if step.wait_until is None or step.wait_until.timeout is not None:
                continue
            yield finding(ctx, "stuck", row,
                          f"{row.customer} still waits at {row.journey}/{row.step} for {step.wait_until.event} "
                          f"when the run ends",
                          f"wait_until {step.wait_until.event} has no timeout: a customer who never does it "
                          "never leaves; add timeout and on_timeout")
