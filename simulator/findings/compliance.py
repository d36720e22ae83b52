"""compliance-quiet-hours: a delivery outside a quiet-hours window of a compliance pack the scenario
enables (``compliance: [us-fl, ...]``), in the recipient's local time (or the zone the rule names).

A pack covers a recipient when their time zone's country is the pack's
(:func:`simulator.creative.jurisdiction.pack_applies`, shared with ``journeysim lint``). A rule covers a
delivery when its pack covers the recipient and it covers the delivery's channel and its purpose: ``marketing`` for a promotional
message (:func:`simulator.creative.rules.is_promotional`), ``transactional`` otherwise. One finding
per delivery, naming every pack rule that forbids it (column ``rule``: ``us-fl:quiet-hours``), the
first rule's citation and confidence, the recipient's local time and the next allowed instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from simulator.creative.compliance import check_quiet_hours, quiet_hours_allows
from simulator.creative.jurisdiction import pack_applies
from simulator.creative.rulepacks import QuietHours, load_packs
from simulator.creative.rules import is_promotional
from simulator.findings.base import Detector, finding
from simulator.findings.context import FindingContext
from simulator.scenario.units import parse_timezone

__all__ = ["ComplianceQuietHours"]


class ComplianceQuietHours(Detector):
    kinds = ("compliance-quiet-hours",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        if not ctx.scenario.compliance:
            return
        packs = load_packs(ctx.scenario.compliance)
        rules = [(p, r) for p in packs for r in p.rules if isinstance(r, QuietHours)]
        if not rules:
            return
        channels = {ch for _, r in rules for ch in r.channels}
        messages = ctx.scenario.messages
        purpose = {name: "marketing" if is_promotional(m) else "transactional" for name, m in messages.items()}
        delivered = ctx.of("delivered")
        delivered = delivered[delivered["channel"].isin(list(channels))]
        zones = ctx.customers["timezone"]
        tz = {name: parse_timezone(str(name)) for name in set(zones)}
        start = ctx.scenario.start
        for row in delivered.itertuples(index=False):
            why = purpose[row.message]
            zone = tz[zones[row.customer]]
            covering = [(p, r) for p, r in rules if r.applies(row.channel, why) and pack_applies(p, zone)]
            if not covering:
                continue
            at = start + timedelta(seconds=float(row.t))
            blocked = [(p, r) for p, r in covering if not quiet_hours_allows(r, at, zone)]
            if not blocked:
                continue
            verdict = check_quiet_hours([p for p, _ in covering], at, zone, channel=row.channel, purpose=why)
            pack, rule = blocked[0]
            local = at.astimezone(zone).strftime("%a %H:%M %Z")
            names = ", ".join(f"{p.pack} {r.id}" for p, r in blocked)
            allowed = "; ".join(f"{w.days} {w.start:%H:%M}-{w.end:%H:%M}" for w in rule.windows)
            where = "the recipient's local time" if rule.zone == "recipient" else rule.zone
            nxt = verdict.next_allowed
            yield finding(
                ctx, "compliance-quiet-hours", row,
                f"{'promotional' if why == 'marketing' else 'transactional'} {row.channel} {row.message} delivered to "
                f"{row.customer} at {local} ({zones[row.customer]}): outside {names}",
                f"{pack.pack} {rule.id} allows only {allowed} ({where}) [{rule.citation.ref}, confidence "
                f"{rule.confidence}]; the next allowed instant was {ctx.stamp((nxt - start).total_seconds())} UTC "
                f"({nxt.astimezone(zone):%H:%M %Z}); {_policy(ctx, str(row.channel))}",
                rule="; ".join(f"{p.pack}:{r.id}" for p, r in blocked))


def _policy(ctx: FindingContext, channel: str) -> str:
    """The scenario's own quiet hours for ``channel``, in words."""
    q = ctx.scenario.policies.quiet_hours
    if q is None or channel not in q.channels:
        return f"the scenario has no quiet hours for {channel}"
    hm = lambda s: f"{s // 3600:02d}:{s % 3600 // 60:02d}"  # noqa: E731
    return (f"the scenario's quiet hours ({hm(q.from_)}-{hm(q.to)} local) do not cover it, or the channel's "
            "queue and delivery delay carried it past them")
