"""Compliance findings of a run, against the packs a scenario enables (``compliance: [us-fl, ...]``).

Every finding names the pack rule (column ``rule``: ``us-fl:quiet-hours``), its citation and
confidence, and the signals that put the customer under the pack (column ``signal``: ``phone area
code 305 (US-FL)``; :func:`simulator.creative.jurisdiction.covering`). A rule covers a send when its
pack covers the recipient and the rule lists the send's channel and purpose: ``marketing`` for a
promotional message (:func:`simulator.creative.rules.is_promotional`), ``transactional`` otherwise.

* ``compliance-quiet-hours``: a delivery outside a quiet-hours window, in the recipient's local time
  (their ``timezone``) or the zone the rule names. One per delivery, naming every rule that forbids it.
* ``compliance-zone-mismatch``: a delivery covered by a quiet-hours rule through the phone's area code
  or the address, to a customer whose time zone (the one used for sending) is not a zone of that area
  code or region. One per delivery and rule; it says whether the rule forbids the delivery in the
  jurisdiction's zones. Only with ``population.jurisdiction``.
* ``compliance-frequency``: a delivery that is more than ``max`` in a rolling ``window_hours`` to one
  recipient on the same subject. The subject of a send is its journey (one journey is one campaign
  about one matter); ``scope: any`` counts every covered send. One per delivery over the cap.
* ``compliance-consent``: a delivery whose recipient had no consent for that channel when it landed
  (truth's ``consent.<channel>`` false), whatever the scenario's ``consent_required``; consent for
  another channel does not count. The root cause says whether consent was never given or was
  withdrawn, and the sync path that kept the withdrawal from the channel.
* ``compliance-unsubscribe``: (a) a delivery after the opt-out deadline of a request (the customer's
  consent for the channel turned false): the deadline counts business days in the sender's zone
  (``default_timezone``), and the root cause names the sync path that had not carried the opt-out;
  (b) a promotional send without its opt-out (``optout=missing`` in its ``queued`` record) to a
  recipient an ``unsubscribe_link`` rule covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import numpy as np

from simulator.creative.compliance import check_quiet_hours, frequency_check, opt_out_deadline, quiet_hours_allows
from simulator.creative.jurisdiction import covering, signal_zones
from simulator.creative.rulepacks import (
    Consent,
    Frequency,
    OptOutDeadline,
    Pack,
    QuietHours,
    UnsubscribeLink,
    load_packs,
)
from simulator.creative.rules import is_promotional, opt_out_requirement
from simulator.findings.base import Detector, finding
from simulator.findings.context import FindingContext
from simulator.scenario.units import parse_timezone

__all__ = ["ComplianceQuietHours", "ComplianceZoneMismatch", "ComplianceFrequency", "ComplianceConsent",
           "ComplianceUnsubscribe"]


class _Cover:
    """Per-run lookups shared by the compliance detectors: packs, purposes, coverage per customer."""

    def __init__(self, ctx: FindingContext):
        self.ctx = ctx
        self.packs: tuple[Pack, ...] = load_packs(ctx.scenario.compliance) if ctx.scenario.compliance else ()
        self.modelled = "phone_country" in ctx.customers.columns
        self.purpose = {name: "marketing" if is_promotional(m) else "transactional"
                        for name, m in ctx.scenario.messages.items()}
        self._rows: dict[str, dict[str, Any]] = {}
        self._signals: dict[tuple[str, str], tuple[str, ...]] = {}

    def rules(self, kind: type) -> list[tuple[Pack, Any]]:
        return [(p, r) for p in self.packs for r in p.rules if isinstance(r, kind)]

    def customer(self, cid: str) -> dict[str, Any]:
        if cid not in self._rows:
            self._rows[cid] = self.ctx.customers.loc[cid].to_dict()
        return self._rows[cid]

    def signals(self, pack: Pack, cid: str) -> tuple[str, ...]:
        key = (pack.pack, cid)
        if key not in self._signals:
            self._signals[key] = covering(pack, self.customer(cid), self.modelled)
        return self._signals[key]

    def applies(self, pack: Pack, rule: Any, row: Any) -> tuple[str, ...]:
        """The signals when ``rule`` of ``pack`` covers this send (channel, purpose, recipient); else ()."""
        if not rule.applies(row.channel, self.purpose.get(row.message)):
            return ()
        return self.signals(pack, row.customer)


def _cite(rule: Any) -> str:
    return f"[{rule.citation.ref}, confidence {rule.confidence}]"


def _sends(ctx: FindingContext, kind: str, channels: set[str]):
    frame = ctx.of(kind)
    return frame[frame["channel"].isin(sorted(channels))]


class ComplianceQuietHours(Detector):
    kinds = ("compliance-quiet-hours",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        cover = _Cover(ctx)
        rules = cover.rules(QuietHours)
        if not rules:
            return
        zones = ctx.customers["timezone"]
        tz = {name: parse_timezone(str(name)) for name in set(zones)}
        start = ctx.scenario.start
        for row in _sends(ctx, "delivered", {ch for _, r in rules for ch in r.channels}).itertuples(index=False):
            why = cover.purpose[row.message]
            zone = tz[zones[row.customer]]
            covering_ = [(p, r, s) for p, r in rules if (s := cover.applies(p, r, row))]
            if not covering_:
                continue
            at = start + timedelta(seconds=float(row.t))
            blocked = [(p, r, s) for p, r, s in covering_ if not quiet_hours_allows(r, at, zone)]
            if not blocked:
                continue
            verdict = check_quiet_hours(list(dict.fromkeys(p for p, _, _ in covering_)), at, zone,
                                        channel=row.channel, purpose=why)
            pack, rule, signals = blocked[0]
            local = at.astimezone(zone).strftime("%a %H:%M %Z")
            names = ", ".join(f"{p.pack} {r.id}" for p, r, _ in blocked)
            allowed = "; ".join(f"{w.days} {w.start:%H:%M}-{w.end:%H:%M}" for w in rule.windows)
            where = "the recipient's local time" if rule.zone == "recipient" else rule.zone
            nxt = verdict.next_allowed
            yield finding(
                ctx, "compliance-quiet-hours", row,
                f"{'promotional' if why == 'marketing' else 'transactional'} {row.channel} {row.message} delivered to "
                f"{row.customer} at {local} ({zones[row.customer]}): outside {names}",
                f"{pack.pack} {rule.id} allows only {allowed} ({where}) {_cite(rule)}; the customer is under "
                f"{pack.pack} by {' and '.join(signals)}; the next allowed instant was "
                f"{ctx.stamp((nxt - start).total_seconds())} UTC ({nxt.astimezone(zone):%H:%M %Z}); "
                f"{_policy(ctx, str(row.channel))}",
                rule="; ".join(f"{p.pack}:{r.id}" for p, r, _ in blocked), signal="; ".join(signals))


class ComplianceZoneMismatch(Detector):
    kinds = ("compliance-zone-mismatch",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        cover = _Cover(ctx)
        rules = [(p, r) for p, r in cover.rules(QuietHours) if r.zone == "recipient"]
        if not rules or not cover.modelled:
            return
        start = ctx.scenario.start
        for row in _sends(ctx, "delivered", {ch for _, r in rules for ch in r.channels}).itertuples(index=False):
            customer = cover.customer(row.customer)
            sending = str(customer["timezone"])
            for pack, rule in rules:
                signals = cover.applies(pack, rule, row)
                if not signals:
                    continue
                places = signal_zones(customer, signals)
                if not places or any(sending in zs for _, zs in places):
                    continue
                at = start + timedelta(seconds=float(row.t))
                zones = sorted({z for _, zs in places for z in zs})
                there = ", ".join(f"{at.astimezone(parse_timezone(z)):%a %H:%M %Z} in {z}" for z in zones)
                forbidden = [z for z in zones if not quiet_hours_allows(rule, at, z)]
                verdict = (f"{pack.pack} {rule.id} forbids it there ({', '.join(forbidden)})" if forbidden
                           else f"{pack.pack} {rule.id} allows it there too")
                local = at.astimezone(parse_timezone(sending)).strftime("%a %H:%M %Z")
                yield finding(
                    ctx, "compliance-zone-mismatch", row,
                    f"{row.channel} {row.message} to {row.customer} was timed in {sending} ({local}), but "
                    f"{' and '.join(s for s, _ in places)} put them under {pack.pack}, whose zones are "
                    f"{', '.join(zones)}: it landed at {there}",
                    f"the time zone used for sending is not the jurisdiction's; {verdict} {_cite(rule)}; "
                    "derive the send zone from the number or address, or check the rule in every zone of "
                    "the customer's jurisdiction",
                    rule=f"{pack.pack}:{rule.id}", signal="; ".join(s for s, _ in places))


class ComplianceFrequency(Detector):
    kinds = ("compliance-frequency",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        cover = _Cover(ctx)
        rules = cover.rules(Frequency)
        if not rules:
            return
        d = _sends(ctx, "delivered", {ch for _, r in rules for ch in r.channels}).sort_values(
            ["customer", "t", "seq"], kind="stable")
        start = ctx.scenario.start
        for pack, rule in rules:
            rows = [row for row in d.itertuples(index=False) if cover.applies(pack, rule, row)]
            groups: dict[tuple[str, str], list[Any]] = {}
            for row in rows:
                subject = row.journey if rule.scope == "same_subject" else "*"
                groups.setdefault((row.customer, subject), []).append(row)
            window = rule.window_hours * 3600.0
            for (customer, subject), sends in groups.items():
                t = np.array([float(r.t) for r in sends])
                lo = np.searchsorted(t, t - window, side="right")  # earlier sends in (t - window, t]
                for i in np.flatnonzero(np.arange(len(t)) - lo + 1 > rule.max):
                    row = sends[i]
                    at = start + timedelta(seconds=float(row.t))
                    previous = [start + timedelta(seconds=float(x)) for x in t[lo[i]:i]]
                    verdict = frequency_check(rule, previous, at)
                    what = f"on the same subject (journey {subject})" if subject != "*" else "in total"
                    yield finding(
                        ctx, "compliance-frequency", row,
                        f"{row.channel} {row.message} to {customer} is number {verdict.in_window + 1} within "
                        f"{rule.window_hours:g} h {what}; {pack.pack} {rule.id} allows at most {rule.max}",
                        f"earlier sends at {', '.join(ctx.stamp(float(x)) for x in t[lo[i]:i])}; the customer is "
                        f"under {pack.pack} by {' and '.join(cover.signals(pack, customer))} {_cite(rule)}; the next "
                        f"allowed instant was {ctx.stamp((verdict.next_allowed - start).total_seconds())} UTC; "
                        "the scenario's frequency caps do not hold the journey to the rule",
                        rule=f"{pack.pack}:{rule.id}", signal="; ".join(cover.signals(pack, customer)))


class ComplianceConsent(Detector):
    kinds = ("compliance-consent",)
    reads = ("delivered",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        cover = _Cover(ctx)
        rules = cover.rules(Consent)
        if not rules:
            return
        d = _sends(ctx, "delivered", {ch for _, r in rules for ch in r.channels})
        d = d[d["truth_value"] == "false"]
        for row in d.itertuples(index=False):
            hits = [(p, r, s) for p, r in rules if (s := cover.applies(p, r, row))]
            if not hits:
                continue
            pack, rule, signals = hits[0]
            customer = cover.customer(row.customer)
            other = [c.removeprefix("consent.") for c, v in customer.items()
                     if c.startswith("consent.") and c != row.field and isinstance(v, (bool, np.bool_)) and v]
            cause = None
            if int(row.truth_version) == 0:
                why = (f"{row.customer} never consented to {row.channel}"
                       + (f"; consent for {', '.join(other)} does not cover {row.channel}" if other else ""))
            else:
                changed = ctx.change_time(row.customer, row.field, int(row.truth_version))
                why = f"{row.customer} withdrew {row.channel} consent at {ctx.stamp(changed) if changed is not None else '?'}"
                if row.value == "true" and row.version == row.version:
                    cause = ctx.cause(row.customer, row.field, int(row.version) + 1, row.system, float(row.t))
                    why += f"; {row.system} still had consent: {cause.text}"
            yield finding(
                ctx, "compliance-consent", row,
                f"promotional {row.channel} {row.message} delivered to {row.customer} without {row.channel} consent; "
                f"{', '.join(f'{p.pack} {r.id}' for p, r, _ in hits)} requires it",
                f"{why}; {pack.pack} {rule.id}: {rule.summary} {_cite(rule)}; the customer is under {pack.pack} by "
                f"{' and '.join(signals)}", cause=cause,
                rule="; ".join(f"{p.pack}:{r.id}" for p, r, _ in hits), signal="; ".join(signals))


class ComplianceUnsubscribe(Detector):
    kinds = ("compliance-unsubscribe",)
    reads = ("delivered", "queued")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        cover = _Cover(ctx)
        yield from self._late(ctx, cover)
        yield from self._missing(ctx, cover)

    def _late(self, ctx: FindingContext, cover: _Cover) -> Iterable[dict[str, Any]]:
        rules = cover.rules(OptOutDeadline)
        if not rules:
            return
        d = _sends(ctx, "delivered", {ch for _, r in rules for ch in r.channels})
        d = d[(d["truth_value"] == "false") & (d["truth_version"].fillna(0) > 0)]
        start, zone = ctx.scenario.start, ctx.scenario.default_timezone
        for row in d.itertuples(index=False):
            changed = ctx.change_time(row.customer, row.field, int(row.truth_version))
            if changed is None:
                continue
            requested = start + timedelta(seconds=changed)
            at = start + timedelta(seconds=float(row.t))
            for pack, rule in rules:
                signals = cover.applies(pack, rule, row)
                if not signals:
                    continue
                deadline = opt_out_deadline(rule, requested, zone)
                if at <= deadline:
                    continue
                cause = None
                if row.value == "true" and row.version == row.version:
                    cause = ctx.cause(row.customer, row.field, int(row.version) + 1, row.system, float(row.t))
                path = (f"the opt-out had not reached {row.system}: {cause.text}" if cause is not None else
                        f"{row.system} had the opt-out but the message was already queued")
                yield finding(
                    ctx, "compliance-unsubscribe", row,
                    f"{row.channel} {row.message} delivered to {row.customer} {ctx.span(float(row.t) - changed)} after "
                    f"they opted out ({ctx.stamp(changed)}), past {pack.pack} {rule.id}'s deadline of "
                    f"{rule.business_days} business days ({ctx.stamp((deadline - start).total_seconds())} UTC)",
                    f"{path}; {rule.summary} {_cite(rule)}; business days counted in {zone}; the customer is "
                    f"under {pack.pack} by {' and '.join(signals)}", cause=cause,
                    rule=f"{pack.pack}:{rule.id}", signal="; ".join(signals))

    def _missing(self, ctx: FindingContext, cover: _Cover) -> Iterable[dict[str, Any]]:
        rules = cover.rules(UnsubscribeLink)
        if not rules:
            return
        q = _sends(ctx, "queued", {ch for _, r in rules for ch in r.channels})
        q = q[q["detail"].str.contains("optout=missing", regex=False, na=False)]
        for row in q.itertuples(index=False):
            hits = [(p, r, s) for p, r in rules if (s := cover.applies(p, r, row))]
            if not hits:
                continue
            pack, rule, signals = hits[0]
            yield finding(
                ctx, "compliance-unsubscribe", row,
                f"promotional {row.channel} {row.message} to {row.customer} went out without "
                f"{opt_out_requirement(str(row.channel))}, which {', '.join(f'{p.pack} {r.id}' for p, r, _ in hits)} "
                "requires",
                f"the rendered message lacks it; {rule.summary} {_cite(rule)}; the customer is under {pack.pack} by "
                f"{' and '.join(signals)}",
                rule="; ".join(f"{p.pack}:{r.id}" for p, r, _ in hits), signal="; ".join(signals))


def _policy(ctx: FindingContext, channel: str) -> str:
    """The scenario's own quiet hours for ``channel``, in words."""
    q = ctx.scenario.policies.quiet_hours
    if q is None or channel not in q.channels:
        return f"the scenario has no quiet hours for {channel}"
    hm = lambda s: f"{s // 3600:02d}:{s % 3600 // 60:02d}"  # noqa: E731
    return (f"the scenario's quiet hours ({hm(q.from_)}-{hm(q.to)} local) do not cover it, or the channel's "
            "queue and delivery delay carried it past them")
