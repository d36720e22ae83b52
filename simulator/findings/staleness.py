"""Stale reads: stale-branch, stage-propagation-miss, stale-content, and out-of-order applies.

A decision (branch or entry) or a render that used an older version of a key than truth held, with a
value that differs from truth's, is stale. If the change it missed happened while the customer was
inside the journey (after entry) and the key is a field, a stage change had not propagated to the
system choosing or rendering the touchpoint: ``stage-propagation-miss``. Otherwise it is
``stale-branch`` (decisions) or ``stale-content`` (renders). One finding per decision/render,
naming the first stale key.

A branch of a journey with ``journey_data: entry`` reads a snapshot taken at entry (its ``decision``
records say ``journey data frozen at entry``). A change truth made after the snapshot is missed by
design, whatever the sync did: ``stale-branch`` with the root cause "journey data frozen at entry"
(no link, lag or late_by; ``truth_changed_at`` is the change). A change made before entry that the
replica had not received when the snapshot was taken is a sync miss, traced at the entry time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

from simulator.findings.base import Detector, finding
from simulator.findings.context import Cause, FindingContext

__all__ = ["StaleReads", "OutOfOrder"]


class StaleReads(Detector):
    kinds = ("stale-branch", "stage-propagation-miss", "stale-content")
    reads = ("decision", "render", "entry")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        reads = ctx.of("decision", "render")
        # an older version with the same value as truth (e.g. a flag set to true twice) is not stale:
        # the decision or the content is what it would have been on truth
        differs = reads["value"].fillna("\0").astype(str) != reads["truth_value"].fillna("\0").astype(str)
        stale = reads[reads["version"].notna() & reads["truth_version"].notna()
                      & (reads["version"] < reads["truth_version"]) & differs]
        if stale.empty:
            return
        entries = ctx.of("entry")[["customer", "journey", "t"]].rename(columns={"t": "entered"})
        stale = stale.sort_values("t", kind="stable")
        stale = pd.merge_asof(stale, entries.sort_values("entered", kind="stable"), left_on="t", right_on="entered",
                              by=["customer", "journey"], direction="backward")
        stale = stale.sort_values("seq", kind="stable")
        seen: set[tuple[Any, ...]] = set()
        for row in stale.itertuples(index=False):
            group = (row.customer, row.journey, row.step, row.t, row.kind)
            if group in seen:
                continue
            frozen = FROZEN in str(row.detail)
            if frozen:
                cause = _frozen_cause(ctx, row)
                yield finding(ctx, "stale-branch", row,
                              f"{row.journey}/{row.step} decided for {row.customer} on {row.field}={row.value!s} "
                              f"(v{int(row.version)}, {FROZEN} {ctx.stamp(row.entered)}) while truth had "
                              f"{row.truth_value!s} (v{int(row.truth_version)})", cause.text, cause=cause)
                seen.add(group)
                continue
            cause = ctx.cause(row.customer, row.field, int(row.version) + 1, row.system, row.t)
            during = (not str(row.field).startswith(("@", "consent."))) and row.step is not None \
                and isinstance(row.step, str) and cause.changed_at >= row.entered
            seen.add(group)
            where = f"{row.journey}/{row.step}" if isinstance(row.step, str) else f"{row.journey} entry"
            used = f"{row.field}={row.value!s} (v{int(row.version)}) while truth had {row.truth_value!s} " \
                   f"(v{int(row.truth_version)})"
            if during:
                kind = "stage-propagation-miss"
                act = "rendered" if row.kind == "render" else "chose"
                message = (f"{row.system} {act} {where} for {row.customer} with {used}: the change made at "
                           f"{ctx.stamp(cause.changed_at)}, after entry, had not reached {row.system}")
            elif row.kind == "render":
                kind = "stale-content"
                message = f"{row.message} rendered at {row.system} for {row.customer} with {used}"
            else:
                kind = "stale-branch"
                message = f"{where} decided for {row.customer} on {used} at {row.system}"
            yield finding(ctx, kind, row, message, cause.text, cause=cause)


#: The marker the engine writes in the detail of a decision read from the entry snapshot.
FROZEN = "journey data frozen at entry"


def _frozen_cause(ctx: FindingContext, row: Any) -> Cause:
    """Why a branch on the entry snapshot read an old version: truth changed after entry (the freeze), or
    before it while the replica had not yet received the change (a sync miss at the snapshot)."""
    missed = int(row.version) + 1
    entered = float(row.entered)
    changed = ctx.change_time(row.customer, row.field, missed)
    if changed is not None and changed < entered:
        sync = ctx.cause(row.customer, row.field, missed, row.system, entered)
        return Cause(f"the {FROZEN} {ctx.stamp(entered)} (journey_data: entry) was already stale: {sync.text}",
                     sync.link, sync.lag, sync.changed_at, sync.late_by, sync.hop_at_decision)
    live = ctx.cause(row.customer, row.field, missed, row.system, float(row.t))
    if math.isnan(live.changed_at):
        return Cause(f"{FROZEN} {ctx.stamp(entered)} (journey_data: entry): {live.text}", None, math.nan, math.nan)
    if not math.isnan(live.late_by) and live.late_by <= 0:
        would = f"{row.system} had it at the branch, so journey_data: live would have read it"
    else:
        would = f"{row.system} did not have it at the branch either ({live.text})"
    return Cause(f"{FROZEN} {ctx.stamp(entered)} (journey_data: entry): {row.field} changed in truth at "
                 f"{ctx.stamp(live.changed_at)} (v{missed}), after the snapshot; {would}",
                 None, math.nan, live.changed_at)


class OutOfOrder(Detector):
    kinds = ("out-of-order",)
    reads = ("out-of-order",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        for row in ctx.of("out-of-order").itertuples(index=False):
            link = ctx.links_by_label.get(str(row.detail).split(";")[0].removeprefix("link="))
            rule = "apply: arrival (last arrival wins)" if link is None or link.apply == "arrival" else f"apply: {link.apply}"
            what = (f"{row.field[1:]} occurrence {int(row.version)} (of {ctx.stamp(float(row.value))})"
                    if str(row.field).startswith("@") else f"{row.field}={row.value} (v{int(row.version)})")
            label = str(row.detail).split(";")[0].removeprefix("link=")
            changed = ctx.change_time(row.customer, row.field, int(row.version))
            nan = float("nan")
            message = f"{row.system} applied {what} over a newer version for {row.customer}"
            why = f"{row.detail}; the link uses {rule}: a late older record overwrote a newer one; " \
                  "apply: version would keep the newer value"
            blamed, applied_at = label, float(row.t)
            up = ctx.reordered_upstream(row.customer, row.field, int(row.version), row.system, float(row.t))
            if up is not None:  # this link kept the order: it forwarded an older version applied upstream
                blamed, applied_at, where = up
                spec = ctx.links_by_label.get(blamed)
                rule = "apply: arrival (last arrival wins)" if spec is None or spec.apply == "arrival" \
                    else f"apply: {spec.apply}"
                message += f", propagated from the reordering on {blamed}"
                why = (f"{row.detail}; propagated from the reordering on {blamed}: {where} applied the older "
                       f"version over a newer one at {ctx.stamp(applied_at)} and forwarded it, and {label} kept "
                       f"the order; {blamed} uses {rule}: apply: version on {blamed} would keep the newer value")
            cause = Cause("", blamed, applied_at - changed if changed is not None else nan,
                          changed if changed is not None else nan, hop_at_decision=label)
            yield finding(ctx, "out-of-order", row, message, why, cause=cause)
