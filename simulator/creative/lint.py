"""Static creative and compliance checks of a scenario, without a run (``journeysim lint``).

Every message is rendered through the engine's own rendering path (:class:`simulator.engine.channels.Renderer`,
the values a channel system passes: ``customer_id``, ``unsubscribe_url`` and the template's fields)
for a sample of synthetic customers drawn with the scenario's seed, plus edge profiles (empty,
missing, long, accented, Cyrillic and CJK values in every text field). Findings:

* ``creative-render-error``: a template fails to render for some profile;
* ``creative-missing-field``: a population attribute the template reads is empty or missing for
  sampled customers (fields that only events or updates set are left to the run);
* ``creative-unsubscribe``: a promotional email without the unsubscribe link, a promotional SMS
  without an opt-out keyword (CTIA's STOP, END, CANCEL, UNSUBSCRIBE, QUIT);
* ``creative-sms-segments``: an SMS that needs more segments than its budget (``max_segments``, default
  1 for a promotional SMS) for some profile;
* ``creative-length``: a rendered subject (email) or title (push) longer than the message's
  ``max_subject_chars`` / ``max_title_chars`` for some profile (no limit unless set);
* ``compliance-quiet-hours`` (with packs): the scenario's quiet-hours policy lets promotional
  messages out at local times a pack forbids, for population zones in the pack's country.

A message is promotional when its ``tags`` contain ``promo``, ``promotional`` or ``marketing``. The
promotional, budget and opt-out rules are :mod:`simulator.creative.rules`, shared with the run's findings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta, timezone

from simulator.engine.channels import Renderer, system_values, template_fields
from simulator.creative.compliance import quiet_hours_allows
from simulator.creative.jurisdiction import pack_applies
from simulator.creative.rulepacks import Pack, QuietHours
from simulator.creative.rules import (
    PROMO_TAGS,
    is_promotional,
    lacks_opt_out,
    opt_out_requirement,
    over_length,
    segment_budget,
)
from simulator.creative.sms import sms_segments
from simulator.scenario.model import Scenario
from simulator.scenario.units import parse_timezone
from simulator.scenario.vocabulary import DEFAULT_SEVERITY

__all__ = ["EDGE_PROFILES", "PROMO_TAGS", "LintFinding", "LintReport", "MessageLint", "lint_scenario"]

#: Edge profiles: the value every text field takes (None: the field is missing).
EDGE_PROFILES: dict[str, str | None] = {
    "empty": "",
    "missing": None,
    "long": "Wolfeschlegelsteinhausenbergerdorff-Featherstonehaugh",
    "accented": "Zoë Núñez",
    "cyrillic": "Анастасия Волкова",
    "cjk": "李小龙",
}


@dataclass(frozen=True)
class LintFinding:
    """One problem: ``kind``, ``severity``, the ``message`` it concerns and a sentence."""

    kind: str
    severity: str
    message: str
    text: str


@dataclass
class MessageLint:
    """What lint saw for one message: renders, SMS variants ``(encoding, segments) -> count``."""

    name: str
    channel: str
    promotional: bool
    renders: int = 0
    variants: Counter = field(default_factory=Counter)
    examples: dict = field(default_factory=dict)


@dataclass
class LintReport:
    """Result of :func:`lint_scenario`; ``errors`` decide the exit code."""

    scenario: str
    sample: int
    messages: list[MessageLint]
    findings: list[LintFinding]
    #: with population.jurisdiction: pack -> (customers it covers, customers drawn) (:func:`pack_coverage`)
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def errors(self) -> list[LintFinding]:
        return [f for f in self.findings if f.severity == "error"]


def _severity(scenario: Scenario, kind: str) -> str:
    return scenario.severity.get(kind, DEFAULT_SEVERITY.get(kind, "error"))


def _profiles(scenario: Scenario, fields: tuple[str, ...], sample: int):
    """(label, customer id, values) for sampled customers, then the edge profiles; the sampled rows;
    the fields the population draws (fields set only by events start empty and are not judged)."""
    import numpy as np

    from simulator.engine.population import build_population, child_rng

    base = int(np.random.SeedSequence(scenario.seed).generate_state(1)[0])
    pop = build_population(scenario, child_rng(base, "population"), size=sample)
    rows = [(cid, {f: pop.value(i, f) for f in fields}) for i, cid in enumerate(pop.ids)]
    text_fields = {f for f in fields if f in pop.faker_fields or any(isinstance(v[f], str) for _, v in rows)}
    first = rows[0][1] if rows else {f: None for f in fields}
    out = [(cid, cid, values) for cid, values in rows]
    for label, value in EDGE_PROFILES.items():
        values = {f: (value if f in text_fields else first[f]) for f in fields}
        if value is None:
            values = {f: None for f in fields}
        out.append((f"edge profile '{label}'", f"edge-{label}", values))
    attributes = set(pop.attributes) | set(pop.faker_fields)
    return out, rows, attributes


def lint_scenario(scenario: Scenario, *, sample: int = 50, packs: tuple[Pack, ...] = ()) -> LintReport:
    """Render every message for ``sample`` synthetic customers and the edge profiles and check them.

    ``packs`` add the static compliance checks of their quiet-hours rules against the scenario's
    quiet-hours policy. Raises ``ValueError`` for ``sample < 1``.
    """
    if sample < 1:
        raise ValueError(f"--sample must be at least 1, got {sample}")
    from simulator.scenario.semantics import FieldCatalogue

    catalogue = FieldCatalogue(scenario).fields  # as the engine: only customer fields come from the profile
    message_fields = {name: tuple(f for f in template_fields(m) if f in catalogue)
                      for name, m in scenario.messages.items()}
    fields = tuple(sorted({f for fs in message_fields.values() for f in fs}))
    profiles, sampled, drawn = _profiles(scenario, fields, sample)
    render = Renderer(scenario.messages, clock=lambda: scenario.start)  # 'now' renders the run's start
    findings: list[LintFinding] = []
    report = []
    for name, message in scenario.messages.items():
        promo = is_promotional(message)
        budget = segment_budget(message)
        ml = MessageLint(name, message.channel, promo)
        report.append(ml)
        failures: dict[str, str] = {}
        no_opt_out: list[str] = []
        too_long: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # part -> (chars, limit, label)
        for label, cid, values in profiles:
            try:
                parts = render.parts(name, {**system_values(cid), **values})
            except Exception as exc:  # the engine suppresses such a send; lint reports it
                failures[label] = str(exc).splitlines()[0]
                continue
            text = "\n".join(parts.values())
            ml.renders += 1
            for part, n, limit in over_length(message, parts):
                too_long[part].append((n, limit, label))
            if lacks_opt_out(message, text, str(system_values(cid)["unsubscribe_url"])):
                no_opt_out.append(label)
            if message.channel == "sms":
                seg = sms_segments(text)
                key = (seg.encoding, seg.segments)
                ml.variants[key] += 1
                ml.examples.setdefault(key, (label, seg))
        for label, error in failures.items():
            findings.append(LintFinding("creative-render-error", _severity(scenario, "creative-render-error"), name,
                                        f"{name} fails to render for {label}: {error}"))
        if no_opt_out:
            what = opt_out_requirement(message.channel)
            share = f"{len(no_opt_out)} of {ml.renders} renders"
            findings.append(LintFinding("creative-unsubscribe", _severity(scenario, "creative-unsubscribe"), name,
                                        f"promotional {message.channel} {name} lacks {what} in {share} "
                                        f"(e.g. {no_opt_out[0]})"))
        for f in (f for f in message_fields[name] if f in drawn):
            empty = sum(1 for _, values in sampled if values[f] is None or values[f] == "")
            if empty:
                findings.append(LintFinding(
                    "creative-missing-field", _severity(scenario, "creative-missing-field"), name,
                    f"{name} renders '{f}' empty for {empty} of {len(sampled)} sampled customers "
                    f"({100 * empty / len(sampled):.0f}%); give a default ({{{{ {f} | default: '...' }}}}) "
                    f"or make sure the field is filled"))
        for part, hits in too_long.items():
            n, limit, label = max(hits, key=lambda h: h[0])
            findings.append(LintFinding(
                "creative-length", _severity(scenario, "creative-length"), name,
                f"{message.channel} {name}'s {part} renders to {n} characters for {label}, over its limit of "
                f"{limit} (max_{part}_chars); {len(hits)} of {ml.renders} renders exceed it"))
        over = {k: n for k, n in ml.variants.items() if budget is not None and k[1] > budget}
        if over:
            worst = max(over)
            label, seg = ml.examples[worst]
            why = ""
            if seg.encoding == "UCS-2":
                chars = ", ".join(f"'{o.char}' {'+'.join(o.codepoints)}" for o in seg.offending[:4])
                fixable = all(o.replacement is not None for o in seg.offending)
                why = f"; UCS-2 because of {chars}" + ("" if fixable else " (Smart Encoding cannot replace them)")
            findings.append(LintFinding(
                "creative-sms-segments", _severity(scenario, "creative-sms-segments"), name,
                f"{'promotional ' if promo else ''}sms {name} needs {worst[1]} segments ({worst[0]}, "
                f"{seg.characters} characters) for {label}; {sum(over.values())} of {ml.renders} renders exceed "
                f"{budget} segment{'s' if budget > 1 else ''}{why}"))
    covered = pack_coverage(scenario, packs)
    findings += _quiet_hours_findings(scenario, packs, covered)
    for pack in packs:
        if pack.pack in covered and covered[pack.pack][3] and any(
                isinstance(r, QuietHours) and r.zone == "recipient" for r in pack.rules):
            ids, n, _, off = covered[pack.pack]
            findings.append(LintFinding(
                "compliance-zone-mismatch", _severity(scenario, "compliance-zone-mismatch"), pack.pack,
                f"{off} of the {len(ids)} customers {pack.pack} covers (of {n} drawn) have a time zone that is "
                f"not their phone area code's or address's, so quiet hours timed in their zone may break "
                f"{pack.pack} in the jurisdiction's zone"))
    return LintReport(scenario.scenario, sample, report, findings,
                      {name: (len(c[0]), c[1]) for name, c in covered.items()})


#: Customers drawn to decide which zones a pack covers when phones and addresses are modelled.
COVERAGE_SAMPLE = 2000


def pack_coverage(scenario: Scenario, packs: tuple[Pack, ...]) -> dict[str, tuple[set[str], int, set[str], int]]:
    """With ``population.jurisdiction``: per pack, the ids of the customers it covers among
    :data:`COVERAGE_SAMPLE` drawn with the scenario's seed, how many were drawn, the zones of the
    covered ones (:func:`simulator.creative.jurisdiction.covering`) and how many covered ones are timed
    in a zone that is not their jurisdiction's (:func:`~simulator.creative.jurisdiction.signal_zones`).
    Empty without it."""
    if scenario.population.jurisdiction is None or not packs:
        return {}
    import numpy as np

    from simulator.creative.jurisdiction import covering, signal_zones
    from simulator.engine.population import build_population, child_rng, customers_frame

    base = int(np.random.SeedSequence(scenario.seed).generate_state(1)[0])
    frame = customers_frame(build_population(scenario, child_rng(base, "population"), size=COVERAGE_SAMPLE))
    rows = frame.to_dict("records")
    out = {}
    for pack in packs:
        hit = [(r, s) for r in rows if (s := covering(pack, r, True))]
        off = sum(1 for r, s in hit if (zs := signal_zones(r, s)) and not any(r["timezone"] in z for _, z in zs))
        out[pack.pack] = ({r["customer"] for r, _ in hit}, len(rows), {str(r["timezone"]) for r, _ in hit}, off)
    return out


def _ranges(minutes: set[int]) -> str:
    """Minutes of the day -> 'HH:MM-HH:MM, ...'."""
    out, run = [], None
    for m in sorted(minutes):
        if run and m == run[1]:
            run[1] = m + 1
        else:
            if run:
                out.append(run)
            run = [m, m + 1]
    if run:
        out.append(run)
    return ", ".join(f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in out)


def _quiet_hours_findings(scenario: Scenario, packs: tuple[Pack, ...],
                          covered: dict[str, tuple[set[str], int, set[str], int]] | None = None) -> list[LintFinding]:
    """Local times the scenario's quiet-hours policy lets promotional messages out but a pack forbids.

    Checked minute by minute over the first 7 days from ``start`` for every population time zone whose
    country is the pack's (:func:`simulator.creative.jurisdiction.pack_applies`), or, with
    ``population.jurisdiction``, that has customers the pack covers (``covered``), so weekday/weekend
    windows, fixed-zone rules and DST inside that week are all covered.
    """
    promo = {m.channel for m in scenario.messages.values() if is_promotional(m)}
    if not packs or not promo:
        return []
    zones = [z for z, p in sorted(scenario.population.timezones.items()) if p > 0] or [scenario.default_timezone]
    policy = scenario.policies.quiet_hours
    start = scenario.start.astimezone(timezone.utc).replace(second=0, microsecond=0)
    findings = []
    for pack in packs:
        for rule in pack.rules:
            if not isinstance(rule, QuietHours) or "marketing" not in rule.purposes:
                continue
            for channel in sorted(promo & set(rule.channels)):
                gaps: dict[str, set[int]] = defaultdict(set)
                for zone_name in zones:
                    tz = parse_timezone(zone_name)
                    if covered and pack.pack in covered:
                        if zone_name not in covered[pack.pack][2]:  # no drawn customer of this zone is covered
                            continue
                    elif not pack_applies(pack, tz):  # the zone's country is not the pack's
                        continue
                    for minute in range(7 * 24 * 60):
                        t = start + timedelta(minutes=minute)
                        local = t.astimezone(tz)
                        sod = local.hour * 3600 + local.minute * 60
                        quiet = False
                        if policy is not None and channel in policy.channels and policy.from_ != policy.to:
                            a, b = policy.from_, policy.to
                            quiet = a <= sod < b if a < b else (sod >= a or sod < b)
                        if not quiet and not quiet_hours_allows(rule, t, tz):
                            gaps[zone_name].add(local.hour * 60 + local.minute)
                if not gaps:
                    continue
                by_range: dict[str, list[str]] = defaultdict(list)
                for zone_name, minutes in gaps.items():
                    by_range[_ranges(minutes)].append(zone_name)
                allowed = "; ".join(f"{w.days} {w.start:%H:%M}-{w.end:%H:%M}" for w in rule.windows)
                where = "recipient's local time" if rule.zone == "recipient" else rule.zone
                own = ("no quiet hours for " + channel if policy is None or channel not in policy.channels
                       else f"quiet hours {policy.from_ // 3600:02d}:{policy.from_ % 3600 // 60:02d}-"
                            f"{policy.to // 3600:02d}:{policy.to % 3600 // 60:02d}")
                for ranges, zone_list in sorted(by_range.items()):
                    findings.append(LintFinding(
                        "compliance-quiet-hours", _severity(scenario, "compliance-quiet-hours"), f"{pack.pack}:{rule.id}",
                        f"promotional {channel} can go out at {ranges} local time for customers in "
                        f"{', '.join(zone_list)} (the scenario's policy: {own}); {pack.pack} {rule.id} allows only "
                        f"{allowed} ({where}) [{rule.citation.ref}, confidence {rule.confidence}]"))
    return findings
