"""``journeysim import FORMAT FILE -o scenario.yaml``: a vendor export -> a scenario that validates.

Registered on the ``journeysim`` group in ``simulator/cli.py`` (``cli.add_command``). Prints what it mapped
(one line per step) and, plainly, what it could not map (with the JSON path). Exit 2, never a
traceback, for an unknown format, an unreadable or malformed export, or an existing output file
(without ``--overwrite``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

__all__ = ["import_command", "FORMATS", "import_file"]

#: format name -> (importer module attribute, what the file must be); more formats come later
FORMATS = {"sfmc": "Salesforce Marketing Cloud Journey Builder interaction JSON",
           "dittofeed": "Dittofeed JourneyDefinition / journey resource JSON (with its segments)",
           "braze": "Braze GET /canvas/details response JSON (the step graph; missing values become placeholders)"}


def import_file(fmt: str, path: Path) -> tuple[list, str]:
    """(journeys, scenario YAML text) for the export at ``path``; raises ImportInputError."""
    from simulator.importers.base import read_json
    from simulator.importers.writer import write_scenario

    if fmt == "braze":
        from simulator.importers.braze import EXPECTED as BRAZE_EXPECTED
        from simulator.importers.braze import import_braze

        journeys = import_braze(read_json(path, BRAZE_EXPECTED), str(path))
    elif fmt == "dittofeed":
        from simulator.importers.dittofeed import EXPECTED as DF_EXPECTED
        from simulator.importers.dittofeed import import_dittofeed

        journeys = import_dittofeed(read_json(path, DF_EXPECTED), str(path))
    else:
        from simulator.importers.sfmc import EXPECTED, import_sfmc

        journeys = import_sfmc(read_json(path, EXPECTED), str(path))
    return journeys, write_scenario(journeys, source=path.name, fmt=fmt)


def _describe(node) -> str:
    from simulator.importers import ir
    from simulator.importers.ir import pass_through_note
    from simulator.importers.writer import format_duration

    if isinstance(node, ir.Wait):
        return f"wait {format_duration(node.seconds)} -> {node.next}"
    if isinstance(node, ir.WaitUntilEvent):
        limit = f" (timeout {format_duration(node.timeout)} -> {node.on_timeout})" if node.timeout is not None else ""
        return f"wait_until {node.event} -> {node.then}{limit}"
    if isinstance(node, ir.WaitUntilWindow):
        when = f"until {node.start}" if node.start == node.end else f"for {node.start}-{node.end}"
        days = f" on {','.join(node.days)}" if node.days else ""
        return f"wait_window {when}{days} in {node.zone or 'the customer zone'} -> {node.next}"
    if isinstance(node, ir.Send):
        return f"send {node.channel} ({node.category}) -> {node.next}"
    if isinstance(node, ir.ProfileUpdate):
        return f"update {', '.join(f'{k}={v!r}' for k, v in node.fields.items())} -> {node.next}"
    if isinstance(node, ir.Branch):
        arms = [f"{a.condition if a.mapped else 'NOT MAPPED'} -> {a.target}" for a in node.arms]
        arms += [f"else -> {node.default.target}"] if node.default else ["else -> end"]
        return "branch: " + "; ".join(arms)
    if isinstance(node, ir.RandomSplit):
        return "split " + ", ".join(f"{p:g}% -> {t}" for _, t, p in node.weights)
    if pass_through_note(node) is not None:
        return f"pass-through (not modelled) -> {', '.join(dict.fromkeys(node.targets()))}"
    return f"-> {', '.join(node.targets())}"  # pragma: no cover - every imported node kind is listed above


@click.command("import")
@click.argument("fmt", metavar="FORMAT")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario YAML file to write.")
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
def import_command(fmt: str, file: Path, output: Path, overwrite: bool) -> None:
    """Turn a journey export into a scenario: journeysim import sfmc journey.json -o journey.yaml

    FORMAT is one of: sfmc (Journey Builder interaction JSON, one journey or a paged collection
    {count, page, pageSize, items}; a collection becomes one scenario with one journey per item);
    dittofeed (a JourneyDefinition, a journey resource or {journeys: [...]}, optionally with
    segments: [...] beside it); braze (a GET /canvas/details response, a list of them or
    {canvases: [...]}: the step graph only, every value the export lacks becomes a step marked
    'placeholder', which validate and run warn about until you set it).
    Systems, sync links and population are not in an export: the output has a commented default
    to edit. Exit 2 on unknown format, malformed input or an existing output without --overwrite.
    """
    from simulator.errors import ScenarioError
    from simulator.importers.base import ImportInputError, did_you_mean
    from simulator.scenario.load import load_scenario_text

    if fmt not in FORMATS:
        hint = did_you_mean(fmt, list(FORMATS))
        raise click.UsageError(f"unknown format '{fmt}'; {hint + ' ' if hint else ''}"
                               f"known formats: {', '.join(FORMATS)}")
    if output.exists() and not overwrite:
        click.echo(f"error: {output} exists; add --overwrite to replace it, or choose another -o file", err=True)
        raise SystemExit(2)
    if not file.exists():
        click.echo(f"error: {file}: no such file; check the path", err=True)
        raise SystemExit(2)
    try:
        journeys, text = import_file(fmt, file)
    except ImportInputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    try:
        load_scenario_text(text, str(output))
    except ScenarioError as exc:  # a writer bug, never the user's: say so, keep the text for a report
        bad = output.with_name(output.name + ".invalid")
        bad.write_text(text, encoding="utf-8")
        click.echo(f"error: the generated scenario does not validate (a journeysim bug, please report it with "
                   f"{file}); the text is in {bad}\n{exc.format()}", err=True)
        raise SystemExit(2) from None
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"error: cannot write {output}: {exc.strerror or exc}; check that its folder exists", err=True)
        raise SystemExit(2) from None
    steps = sum(len(j.nodes) for j in journeys)
    click.echo(f"imported {fmt} {file} -> {output}: {len(journeys)} journey{'s' if len(journeys) != 1 else ''}, "
               f"{steps} step{'s' if steps != 1 else ''}")
    notes = []
    for j in journeys:
        kinds = Counter(type(n).__name__ for n in j.nodes)
        click.echo(f"journey {j.name} ({j.title}): entry {j.entry.kind}"
                   f"{' ' + j.entry.event if j.entry.event else ''}; "
                   + ", ".join(f"{c} {k}" for k, c in sorted(kinds.items())))
        for n in j.nodes:
            click.echo(f"  {n.id:<28} {n.source_type:<24} {_describe(n)}"
                       + (f"   PLACEHOLDER: {n.placeholder}" if n.placeholder else ""))
        notes += j.all_unmapped()
    if notes:
        click.echo(f"NOT MAPPED ({len(notes)}): each is also a '# NOT MAPPED:' comment in {output}")
        for u in notes:
            click.echo(f"  {u.line()}")
    else:
        click.echo("everything in the export was mapped")
    click.echo(f"generated defaults (systems, sync, population, message texts) are marked in {output}: edit them; "
               f"then: journeysim validate {output} && journeysim run {output}")
