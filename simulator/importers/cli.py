"""``journeysim import FORMAT FILE -o scenario.yaml``: a vendor export -> a scenario that validates.

Registered on the ``journeysim`` group in ``simulator/cli.py`` (``cli.add_command``). Prints what it mapped
(one line per step) and, plainly, what it could not map (with the JSON path). Exit 2, never a
traceback, for an unknown format, an unreadable or malformed export, or an existing output file
(without ``--overwrite``).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import click

__all__ = ["import_command", "FORMATS", "import_file"]

#: format name -> (importer module attribute, what the file must be); more formats come later
FORMATS = {"sfmc": "Salesforce Marketing Cloud Journey Builder interaction JSON",
           "dittofeed": "Dittofeed JourneyDefinition / journey resource JSON (with its segments)",
           "posthog": "PostHog workflow (HogFlow) JSON, one or the list {results: [...]}",
           "hubspot": "HubSpot Automation v4 flow JSON, one or the batch-read {results: [...]}",
           "parcelvoy": "Parcelvoy journey step map JSON ({name, steps, campaigns} or the bare map)",
           "braze": "Braze GET /canvas/details response JSON (the step graph; missing values become placeholders)"}

#: format -> (module, import function) for formats added after sfmc and dittofeed (each module has EXPECTED)
_LATER = {"posthog": ("simulator.importers.posthog", "import_posthog"),
          "hubspot": ("simulator.importers.hubspot", "import_hubspot"),
          "parcelvoy": ("simulator.importers.parcelvoy", "import_parcelvoy"),
          "braze": ("simulator.importers.braze", "import_braze")}


def import_file(fmt: str, path: Path, topology=None) -> tuple[list, str]:
    """(journeys, scenario YAML text) for the export at ``path``; raises ImportInputError. ``topology``
    (a writer.Topology, or a path to a topology YAML) replaces the generated systems and sync links."""
    from simulator.importers.base import read_json
    from simulator.importers.writer import write_scenario

    if fmt in _LATER:
        import importlib

        module = importlib.import_module(_LATER[fmt][0])
        journeys = getattr(module, _LATER[fmt][1])(read_json(path, module.EXPECTED), str(path))
    elif fmt == "dittofeed":
        from simulator.importers.dittofeed import EXPECTED as DF_EXPECTED
        from simulator.importers.dittofeed import import_dittofeed

        journeys = import_dittofeed(read_json(path, DF_EXPECTED), str(path))
    else:
        from simulator.importers.sfmc import EXPECTED, import_sfmc

        journeys = import_sfmc(read_json(path, EXPECTED), str(path))
    if topology is not None and not hasattr(topology, "reads_from"):
        from simulator.importers.writer import channels_used

        topology = load_topology(Path(topology), channels_used(journeys))
    return journeys, write_scenario(journeys, source=path.name, fmt=fmt, topology=topology)


_TOPOLOGY_KEYS = ("systems", "sync", "reads_from", "origin")


def load_topology(path: Path, channels: list[str]):
    """A user's topology file (``systems``, optional ``sync``, ``reads_from`` and ``origin``) checked
    against what the imported journeys need; raises ImportInputError naming the key and a fix."""
    import yaml

    from simulator.importers.base import ImportInputError, did_you_mean
    from simulator.importers.writer import Topology

    file = str(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ImportInputError(file, "", f"cannot read the topology file: {exc.strerror or exc}", "check the path") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}:{mark.column + 1}" if mark else file
        raise ImportInputError(where, "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                               "the topology file holds 'systems:' and 'sync:' as in a scenario") from None
    if not isinstance(doc, dict):
        raise ImportInputError(file, "", "expected a mapping with 'systems' (and 'sync')",
                               "copy the systems: and sync: blocks of a scenario into the file")
    for k in doc:
        if k not in _TOPOLOGY_KEYS:
            hint = did_you_mean(str(k), _TOPOLOGY_KEYS)
            raise ImportInputError(file, str(k), "unknown key in a topology file",
                                   hint or f"allowed: {', '.join(_TOPOLOGY_KEYS)} (the rest of the scenario comes "
                                           "from the export)")
    systems = doc.get("systems")
    if not isinstance(systems, dict) or not systems:
        raise ImportInputError(file, "systems", "expected a mapping of system name -> {kind, ...}",
                               "e.g. systems: {web: {kind: source}, cdp: {kind: cdp}, esp: {kind: channel, channel: email}}")
    sync = doc.get("sync") or []
    if not isinstance(sync, list):
        raise ImportInputError(file, "sync", "expected a list of sync links", "sync: [{name, from, to, fields, latency}]")

    def pick(key: str, kind: str, what: str) -> str:
        if key in doc:
            name = doc[key]
            if not isinstance(name, str) or name not in systems:
                hint = did_you_mean(str(name), list(systems))
                raise ImportInputError(file, key, f"names system {name!r}, which is not in systems",
                                       hint or f"systems: {', '.join(systems)}")
            return name
        found = [n for n, spec in systems.items() if isinstance(spec, dict) and spec.get("kind") == kind]
        if len(found) != 1:
            raise ImportInputError(file, "systems", f"{'no' if not found else len(found)} system(s) of kind {kind}: "
                                   f"cannot tell which one {what}", f"add '{key}: SYSTEM' to the topology file")
        return str(found[0])

    topo = Topology(label=file, systems=systems, sync=sync, reads_from=pick("reads_from", "cdp", "the journeys read"),
                    origin=pick("origin", "source", "customer events happen at"))
    for c in channels:
        if topo.channel_system(c) is None:
            raise ImportInputError(file, "systems", f"no system of kind channel serves {c}, which the journeys use",
                                   f"add e.g. {c}_provider: {{kind: channel, channel: {c}}}")
    return topo


_TOPOLOGY_PART = re.compile(r"\[(\d+)\]|([^.\[\]]+)")


def _in_topology(exc, topology: Path) -> str:
    """``exc``'s issues (a ScenarioError about the never-written scenario) at their line in the topology
    file, whose ``systems`` and ``sync`` the writer copies unchanged and in order; an issue about any
    other key names no line (the scenario file it would cite is not written)."""
    from simulator.errors import JourneySimError, ScenarioError, ScenarioIssue
    from simulator.scenario.yamlread import read_yaml

    try:
        located = read_yaml(topology)
    except JourneySimError:
        located = None
    issues = []
    for i in exc.issues:
        key = tuple(int(n) if n else name for n, name in _TOPOLOGY_PART.findall(i.path))
        if located is not None and key and key[0] in ("systems", "sync") and key[:2] in located.positions:
            line, col = located.where(key)
            issues.append(ScenarioIssue(i.path, i.message, line, col, i.hint, str(topology)))
        else:
            issues.append(ScenarioIssue(i.path, i.message, None, None, i.hint, "the scenario"))
    return ScenarioError(issues, str(topology)).format()


def _say(lines: list[str]) -> None:
    """Print ``lines`` to stdout in one write, after every file is written. A reader that stops early
    (``| head -1``) closes the pipe: then stop quietly with exit 0, as ``run`` and ``platforms`` do, with
    the rest of the output sent to the null device so the final flush cannot fail again."""
    import os
    import sys

    if not lines:
        return
    try:
        click.echo("\n".join(lines))
        sys.stdout.flush()
    except BrokenPipeError:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
        raise SystemExit(0) from None


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


def _labelled_edges(node) -> list[tuple[str, str]]:
    """(label, target) for every edge of an IR node, in the export's order."""
    from simulator.importers import ir
    from simulator.importers.writer import format_duration

    if isinstance(node, ir.Branch):
        out = [(a.label or a.key, a.target) for a in node.arms]
        return out + ([(f"else: {node.default.label or node.default.key}", node.default.target)] if node.default
                      else [("else", ir.END)])
    if isinstance(node, ir.RandomSplit):
        return [(f"{p:g}%", t) for _, t, p in node.weights]
    if isinstance(node, (ir.WaitUntilEvent, ir.WaitUntilCondition)):
        what = node.event if isinstance(node, ir.WaitUntilEvent) else "condition"
        out = [(what, node.then)]
        if node.timeout is not None:
            out.append((f"timeout {format_duration(node.timeout)}", node.on_timeout))
        return out
    if isinstance(node, ir.Unmodelled) and node.outcomes:
        return [(label or key, t) for key, t, label in node.outcomes]
    return [("", node.next)]


def graph_lines(journeys) -> list[str]:
    """The imported step graph, one line per step: id, vendor type, wait duration, edges (label -> target);
    for comparing with the platform's canvas (``journeysim import ... --graph``)."""
    from simulator.importers import ir
    from simulator.importers.writer import format_duration

    lines = []
    for j in journeys:
        e = j.entry
        how = e.event if e.kind == "event" else (e.condition or "true")
        first = j.nodes[0].id if j.nodes else ir.END
        lines.append(f"journey {j.name} ({j.title or j.name})")
        lines.append(f"  entry {e.kind} {how} -> {first}")
        for n in j.nodes:
            wait = f" wait {format_duration(n.seconds)}" if isinstance(n, ir.Wait) else ""
            edges = ", ".join(f"{label + ': ' if label else ''}{t}" for label, t in _labelled_edges(n))
            lines.append(f"  {n.id} [{n.source_type or type(n).__name__}]{wait} -> {edges}")
    return lines


@click.command("import")
@click.argument("fmt", metavar="FORMAT")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Scenario YAML file to write (required unless --graph).")
@click.option("--overwrite", is_flag=True, help="Replace the output file if it exists.")
@click.option("--graph", "show_graph", is_flag=True,
              help="Print the imported step graph (ids, edges, wait durations) to compare with the canvas.")
@click.option("--topology", type=click.Path(dir_okay=False, path_type=Path),
              help="YAML file with your own systems: and sync: (and optional reads_from:, origin:) to use instead "
                   "of the generated default topology.")
def import_command(fmt: str, file: Path, output: Path | None, overwrite: bool, show_graph: bool,
                   topology: Path | None) -> None:
    """Turn a journey export into a scenario: journeysim import sfmc journey.json -o journey.yaml

    FORMAT is one of: sfmc (Journey Builder interaction JSON, one journey or a paged collection
    {count, page, pageSize, items}; a collection becomes one scenario with one journey per item);
    dittofeed (a JourneyDefinition, a journey resource or {journeys: [...]}, optionally with
    segments: [...] beside it); posthog (a HogFlow or {results: [...]}); hubspot (a v4 flow or the
    batch-read {results: [...]}); parcelvoy (a journey step map, one journey per entrance); braze (a
    GET /canvas/details response, a list of them or {canvases: [...]}: the step graph only, every
    value the export lacks becomes a step marked 'placeholder', which validate and run warn about
    until you set it).
    Systems, sync links and population are not in an export: the output has a commented default
    to edit, or --topology FILE's systems and sync links. --graph prints the imported step graph.
    Exit 2 on unknown format, malformed input or an existing output without --overwrite.
    """
    from simulator.errors import ScenarioError
    from simulator.importers.base import ImportInputError, did_you_mean
    from simulator.scenario.load import load_scenario_text

    if fmt not in FORMATS:
        hint = did_you_mean(fmt, list(FORMATS))
        raise click.UsageError(f"unknown format '{fmt}'; {hint + ' ' if hint else ''}"
                               f"known formats: {', '.join(FORMATS)}")
    if output is None and not show_graph:
        raise click.UsageError("give -o FILE (the scenario to write) or --graph (print the imported step graph)")
    if output is not None and output.exists() and not overwrite:
        click.echo(f"error: {output} exists; add --overwrite to replace it, or choose another -o file", err=True)
        raise SystemExit(2)
    if not file.exists():
        click.echo(f"error: {file}: no such file; check the path", err=True)
        raise SystemExit(2)
    if topology is not None and not topology.exists():
        click.echo(f"error: {topology}: no such topology file; check the path", err=True)
        raise SystemExit(2)
    try:
        journeys, text = import_file(fmt, file, topology) if topology is not None else import_file(fmt, file)
    except ImportInputError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
    shown = graph_lines(journeys) if show_graph else []
    if output is None:
        _say(shown)
        return
    try:
        load_scenario_text(text, str(output))
    except ScenarioError as exc:
        if topology is not None:  # most likely the user's systems or sync links: say which file to fix
            click.echo(f"error: the scenario built with the topology from {topology} does not validate; fix "
                       f"{topology}:\n{_in_topology(exc, topology)}", err=True)
            raise SystemExit(2) from None
        # without --topology, a writer bug, never the user's: say so, keep the text for a report
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
    say = shown.append
    say(f"imported {fmt} {file} -> {output}: {len(journeys)} journey{'s' if len(journeys) != 1 else ''}, "
        f"{steps} step{'s' if steps != 1 else ''}")
    notes = []
    for j in journeys:
        kinds = Counter(type(n).__name__ for n in j.nodes)
        say(f"journey {j.name} ({j.title}): entry {j.entry.kind}"
            f"{' ' + j.entry.event if j.entry.event else ''}; "
            + ", ".join(f"{c} {k}" for k, c in sorted(kinds.items())))
        for n in j.nodes:
            say(f"  {n.id:<28} {n.source_type:<24} {_describe(n)}"
                + (f"   PLACEHOLDER: {n.placeholder}" if n.placeholder else ""))
        notes += j.all_unmapped()
    if notes:
        say(f"NOT MAPPED ({len(notes)}): each is also a '# NOT MAPPED:' comment in {output}")
        for u in notes:
            say(f"  {u.line()}")
    else:
        say("everything in the export was mapped")
    say(f"generated defaults (systems, sync, population, message texts) are marked in {output}: edit them; "
        f"then: journeysim validate {output} && journeysim run {output}")
    _say(shown)
