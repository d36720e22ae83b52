"""What reached the customer: overlap, duplicate-send, frequency-cap, consent-violation, quiet-hours.

All read ``delivered`` records (what truly landed, when), the customer table (zones) and the policies.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from simulator.findings.base import Detector, finding, request_key
from simulator.findings.context import FindingContext
from simulator.engine.policies import LocalClock, QuietHoursRule

__all__ = ["Overlap", "DuplicateSend", "FrequencyCapBreach", "ConsentViolation", "QuietHoursBreach", "delivered"]


def delivered(ctx: FindingContext) -> pd.DataFrame:
    """Delivered messages in time order, with their request and instance ids."""
    d = ctx.of("delivered").copy()
    d["req"] = d["detail"].str.extract(r"req=(\d+)", expand=False)
    d["inst"] = d["detail"].str.extract(r"inst=(\d+)", expand=False)
    return d.sort_values(["customer", "t", "seq"], kind="stable")


class Overlap(Detector):
    kinds = ("overlap",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        window = ctx.scenario.policies.collision_window
        if not window:
            return
        d = delivered(ctx)
        prev = d.groupby("customer", sort=False).shift(1)
        gap = d["t"] - prev["t"]
        same_instance = (d["journey"] == prev["journey"]) & (d["inst"] == prev["inst"])
        hits = d[(gap < window) & ~same_instance]
        for (idx, row) in zip(hits.index, hits.itertuples(index=False)):
            before = prev.loc[idx]
            pair = (" and ".join(sorted((before["journey"], row.journey))) if before["journey"] != row.journey
                    else f"{row.journey} re-entered")
            yield finding(ctx, "overlap", row,
                          f"{row.customer} got {row.message} ({row.journey}) {ctx.span(row.t - before['t'])} after "
                          f"{before['message']} ({before['journey']}), inside the {ctx.span(window)} collision window",
                          f"{pair}: both target this customer and nothing keeps their messages "
                          f"{ctx.span(window)} apart", pair=pair)


class DuplicateSend(Detector):
    kinds = ("duplicate-send",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        d = delivered(ctx)
        d["n"] = d.groupby(["customer", "journey", "message"], sort=False).cumcount()
        first_inst = d.groupby(["customer", "journey", "message"], sort=False)["inst"].transform("first")
        for row, inst0 in zip(d[d["n"] > 0].itertuples(index=False), first_inst[d["n"] > 0]):
            how = "in the same journey instance" if row.inst == inst0 else f"after re-entry (instance {row.inst})"
            yield finding(ctx, "duplicate-send", row,
                          f"{row.customer} got {row.message} from {row.journey} a {_ordinal(row.n + 1)} time, {how}",
                          "the journey routes to this send more than once" if row.inst == inst0 else
                          f"re_entry lets {row.journey} start again while the message is still relevant")


class FrequencyCapBreach(Detector):
    kinds = ("frequency-cap",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        caps = ctx.scenario.policies.frequency_caps
        if not caps:
            return
        d = delivered(ctx)
        lag = ctx.scenario.policies.cap_counter_lag
        zones = _zone_index(ctx, d)
        clock = LocalClock(ctx.scenario.start, zones[1])
        for cap in caps:
            sub = d if cap.channel == "any" else d[d["channel"] == cap.channel]
            if sub.empty:
                continue
            if cap.window == "calendar":
                days = np.array([clock.local_day(t, z) for t, z in zip(sub["t"], zones[0][sub.index])], dtype=float)
                keys, span = days, cap.per / 86400 - 1e-9
            else:
                keys, span = sub["t"].to_numpy(dtype=float), cap.per - 1e-9
            for customer, positions in sub.groupby("customer", sort=False).indices.items():
                k = keys[positions]
                lo = np.searchsorted(k, k - span, side="left")
                counts = np.arange(len(k)) - lo + 1
                for p in np.flatnonzero(counts > cap.max):
                    row = next(sub.iloc[[positions[p]]].itertuples(index=False))
                    text = f"{cap.channel} max {cap.max} per {ctx.span(cap.per)} ({cap.window})"
                    why = (f"caps are enforced on the orchestrator's counters, which lag sends by {ctx.span(lag)}"
                           if lag else "caps count send decisions; held, deferred or queued messages delivered "
                                       "later land together")
                    yield finding(ctx, "frequency-cap", row,
                                  f"{customer} got {int(counts[p])} messages within one window of the cap {text}",
                                  why, cap=text)


class ConsentViolation(Detector):
    kinds = ("consent-violation",)
    reads = ("delivered", "consent-check")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        required = set(ctx.scenario.policies.consent_required)
        d = ctx.of("delivered")
        d = d[(d["truth_value"] == "false") & d["channel"].isin(required)]
        checks: dict[str | None, Any] = {}  # (customer, req) -> the send's consent check
        if (d["value"] == "false").any():
            wanted = {request_key(x) for x in d.itertuples(index=False)}
            for check in ctx.of("consent-check").itertuples(index=False):
                key = request_key(check)
                if key in wanted:
                    checks[key] = check
        for row in d.itertuples(index=False):
            if row.value == "false":  # the opt-out reached the channel while the message was in its queue
                check = checks.get(request_key(row))
                cause = None
                if check is not None and check.version == check.version:
                    cause = ctx.cause(row.customer, row.field, int(check.version) + 1, row.system, float(check.t))
                cause_text = (f"the opt-out reached {row.system} after the consent check, while the message "
                              "was queued for delivery; the channel does not re-check at delivery"
                              + (f": {cause.text}" if cause is not None else ""))
            else:
                cause = ctx.cause(row.customer, row.field, int(row.version) + 1, row.system, row.t)
                cause_text = cause.text
            yield finding(ctx, "consent-violation", row,
                          f"{row.message} delivered to {row.customer} on {row.channel} after they opted out",
                          cause_text, cause=cause)


class QuietHoursBreach(Detector):
    kinds = ("quiet-hours",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        rule = ctx.scenario.policies.quiet_hours
        if rule is None:
            return
        d = delivered(ctx)
        d = d[d["channel"].isin(rule.channels)]
        if d.empty:
            return
        zones = _zone_index(ctx, d)
        clock = LocalClock(ctx.scenario.start, zones[1])
        quiet = QuietHoursRule(rule, clock)
        for row, zone in zip(d.itertuples(index=False), zones[0][d.index]):
            if quiet.inside(row.t, int(zone), row.channel):
                local = clock.local(row.t, int(zone))
                yield finding(ctx, "quiet-hours", row,
                              f"{row.message} delivered to {row.customer} at {local:%H:%M} local ({zones[1][zone]}), "
                              f"inside quiet hours",
                              f"{row.detail.split('; req=')[0]}: the send was decided outside quiet hours "
                              "but queueing or the delivery delay carried it into them")


def _zone_index(ctx: FindingContext, d: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Zone index per delivered row (aligned on ``d.index``) and the zone names."""
    names = sorted(set(ctx.customers["timezone"]))
    code = {n: i for i, n in enumerate(names)}
    zone_of = ctx.customers["timezone"].map(code)
    return pd.Series(d["customer"].map(zone_of).to_numpy(), index=d.index), names


def _ordinal(n: int) -> str:
    return {2: "second", 3: "third"}.get(n, f"{n}th")
