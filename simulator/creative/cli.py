"""``journeysim compliance``: list the bundled compliance packs, their rules and citations, and check
a delivery instant against them. Registered on the main group by :func:`register`."""

from __future__ import annotations

import sys
from datetime import datetime, timezone
from pathlib import Path

import click

__all__ = ["compliance", "lint", "register"]


def _local(instant: datetime, zone) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _utc(instant: datetime) -> str:
    return instant.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_at(text: str) -> datetime:
    from simulator.errors import UsageError

    try:
        at = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 instant; give one such as 2025-11-02T00:30:00Z") from None
    if at.tzinfo is None:
        raise UsageError(f"--at {text!r} has no UTC offset; add Z or an offset such as -05:00 "
                         f"(e.g. {text.strip()}Z)")
    return at


def _joined(words, conj: str) -> str:
    """'phone', 'phone or address', 'phone, address or zone'."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conj} {words[-1]}"


def _describe_rule(rule) -> list[str]:
    lines = [f"  {rule.id} [{rule.kind}; {', '.join(rule.channels)}; {', '.join(rule.purposes)}] "
             f"confidence: {rule.confidence}", f"    {rule.summary}"]
    if rule.kind == "quiet_hours":
        where = "recipient's local time" if rule.zone == "recipient" else rule.zone
        for w in rule.windows:
            lines.append(f"    allowed: {w.days} {w.start:%H:%M}-{w.end:%H:%M} ({where})")
    elif rule.kind == "frequency":
        scope = "on the same subject" if rule.scope == "same_subject" else "in total"
        lines.append(f"    at most {rule.max} per rolling {rule.window_hours:g} h per recipient {scope}")
    elif rule.kind == "opt_out_deadline":
        lines.append(f"    deadline: {rule.business_days} business days (Monday-Friday) after the request")
    elif rule.kind == "opt_out_keywords":
        lines.append(f"    keywords: {', '.join(rule.keywords)}")
    else:
        lines.append(f"    requires: {'; '.join(rule.requires)}")
    lines.append(f"    cite: {rule.citation.ref} <{rule.citation.url}>")
    if rule.citation.verified_on != rule.citation.url:
        lines.append(f"    verified on: <{rule.citation.verified_on}>")
    if rule.note:
        lines.append(f"    note: {rule.note}")
    return lines


@click.command()
@click.argument("packs", nargs=-1)
@click.option("--at", "at_text", metavar="INSTANT",
              help="Check a delivery instant (ISO 8601 with Z or offset) against the packs' quiet hours.")
@click.option("--zone", metavar="IANA", help="The recipient's time zone for --at, e.g. America/New_York.")
@click.option("--channel", type=click.Choice(["sms", "voice", "email", "push", "in_app"]),
              help="Only rules covering this channel (with --at).")
@click.option("--purpose", type=click.Choice(["marketing", "transactional"]),
              help="Only rules covering this purpose (with --at).")
def compliance(packs: tuple[str, ...], at_text: str | None, zone: str | None, channel: str | None,
               purpose: str | None) -> None:
    """List compliance rule packs, or show PACKS' rules with citations and confidence.

    With --at and --zone, say whether a message delivered at that instant to a recipient in that
    zone respects the packs' quiet hours and when the next allowed instant is (exit 0 either way).
    Unknown pack or zone names exit 2 with a did-you-mean.
    """
    from simulator.creative.rulepacks import available_packs, load_packs
    from simulator.errors import UsageError

    if (at_text is None) != (zone is None):
        raise UsageError("give --at and --zone together (the delivery instant and the recipient's time zone)")
    if at_text is not None and not packs:
        raise UsageError("--at needs one or more packs, e.g. journeysim compliance us-tcpa us-fl --at ... --zone ...")
    if (channel or purpose) and at_text is None:
        raise UsageError("--channel and --purpose filter the --at check; give --at and --zone too")
    if not packs:
        loaded = load_packs(available_packs())
        width = max(len(p.pack) for p in loaded)
        click.echo(f"{'PACK':<{width}}  {'WHERE':<6}  RULES  TITLE")
        for p in loaded:
            where = p.jurisdiction.country + ("-" + ",".join(p.jurisdiction.regions) if p.jurisdiction.regions else "")
            click.echo(f"{p.pack:<{width}}  {where:<6}  {len(p.rules):>5}  {p.title}")
        click.echo(f"{len(loaded)} packs; rules and citations: journeysim compliance PACK...")
        return
    loaded = load_packs(list(packs))
    if at_text is None:
        for i, p in enumerate(loaded):
            where = p.jurisdiction.country + ("-" + ",".join(p.jurisdiction.regions) if p.jurisdiction.regions else "")
            click.echo(("\n" if i else "") + f"{p.pack}: {p.title} ({where}, version {p.version})")
            j = p.jurisdiction
            click.echo(f"  applies to a recipient by {_joined(j.trusted, 'or' if j.combine == 'any' else 'and')} "
                       "(with population.jurisdiction; otherwise by the time zone's country)")
            if j.basis is not None:
                click.echo(f"    basis: {j.basis.ref} <{j.basis.url}>")
            for rule in p.rules:
                click.echo("\n".join(_describe_rule(rule)))
        return
    from simulator.creative.compliance import check_quiet_hours
    from simulator.scenario.units import parse_timezone

    at = _parse_at(at_text)
    try:
        tz = parse_timezone(zone)
    except ValueError as exc:
        raise UsageError(f"--zone: {exc}") from None
    verdict = check_quiet_hours(loaded, at, tz, channel=channel, purpose=purpose)
    head = f"{_utc(verdict.instant)} to a recipient in {zone} ({_local(verdict.instant, tz)})"
    if verdict.allowed:
        click.echo(f"{head}: allowed by {', '.join(p.pack for p in loaded)}")
    else:
        blockers = ", ".join(f"{p} {r}" for p, r in verdict.blocked_by)
        click.echo(f"{head}: blocked by {blockers}; next allowed {_utc(verdict.next_allowed)} "
                   f"({_local(verdict.next_allowed, tz)})")
    from simulator.creative.jurisdiction import pack_applies, zone_countries

    for p in loaded:
        if not pack_applies(p, tz):
            where = ", ".join(sorted(zone_countries(tz))) or "no country"
            click.echo(f"note: {p.pack} covers recipients in {p.jurisdiction.country}; {zone} is in {where}, so "
                       "journeysim lint and runs do not apply it to this recipient")


@click.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--sample", default=50, show_default=True, type=click.IntRange(min=1),
              help="Synthetic customers to render each message for (plus the edge profiles).")
@click.option("--pack", "packs", multiple=True, metavar="PACK",
              help="Also check the scenario's quiet-hours policy against this compliance pack, besides the "
                   "scenario's own compliance: packs (repeatable).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value before validating, as in journeysim validate (repeatable).")
def lint(scenario: Path, sample: int, packs: tuple[str, ...], overrides: tuple[str, ...]) -> None:
    """Creative and compliance checks of SCENARIO without a run (fast; suits a pre-commit hook).

    Renders every message for a sample of synthetic customers and edge profiles (empty, missing,
    long, accented, Cyrillic, CJK values), reports SMS encoding and segments per message variant, a
    promotional email without its unsubscribe link or a promotional SMS without STOP text, and with
    the scenario's compliance: packs and --pack the local times the scenario's quiet hours let
    promotional messages out that a pack forbids. Exit 0 clean (warnings allowed), 1 when an error-severity finding is found, 2 on bad
    input.
    """
    from simulator.creative.lint import lint_scenario
    from simulator.creative.rulepacks import load_packs
    from simulator.scenario.load import load_scenario

    load_packs(list(packs))  # an unknown --pack is a usage error before the scenario is read
    sc = load_scenario(scenario, list(overrides))
    loaded_packs = load_packs(list(dict.fromkeys([*sc.compliance, *packs])))  # the scenario's, then --pack's
    report = lint_scenario(sc, sample=sample, packs=loaded_packs)
    lines = [f"lint {scenario}: {len(report.messages)} messages, each rendered for {sample} sampled customers "
             f"and 6 edge profiles" + (f"; packs {', '.join(p.pack for p in loaded_packs)}" if loaded_packs else "")]
    for p in loaded_packs:
        if p.pack in report.coverage:
            hit, n = report.coverage[p.pack]
            lines.append(f"  note: {p.pack} covers {hit} of {n} customers drawn with the scenario's seed, by "
                         f"{_joined(p.jurisdiction.trusted, 'or' if p.jurisdiction.combine == 'any' else 'and')}")
        elif p.jurisdiction.regions:
            lines.append(f"  note: {p.pack} ({p.jurisdiction.country}-{','.join(p.jurisdiction.regions)}) applies to every "
                         f"recipient whose time zone is in {p.jurisdiction.country}: area codes and addresses are not "
                         "modelled yet")
    for ml in report.messages:
        promo = ", promotional" if ml.promotional else ""
        head = f"  {ml.name} ({ml.channel}{promo}): {ml.renders} renders"
        if ml.variants:
            parts = []
            for (enc, segs), n in sorted(ml.variants.items(), key=lambda kv: (kv[0][1], kv[0][0])):
                label, seg = ml.examples[(enc, segs)]
                parts.append(f"{enc} {segs} segment{'s' if segs != 1 else ''} x{n} (e.g. {label}, "
                             f"{seg.characters} chars)")
            head += "; " + "; ".join(parts)
        lines.append(head)
    for f in report.findings:
        lines.append(f"{f.severity} {f.kind}: {f.text}")
    n_err = len(report.errors)
    n_warn = sum(1 for f in report.findings if f.severity == "warning")
    lines.append(f"{n_err} error{'s' if n_err != 1 else ''}, {n_warn} warning{'s' if n_warn != 1 else ''}")
    click.echo("\n".join(lines))
    if n_err:
        sys.exit(1)


def register(group: click.Group) -> None:
    """Add the creative/compliance commands to the ``journeysim`` group."""
    group.add_command(compliance)
    group.add_command(lint)
