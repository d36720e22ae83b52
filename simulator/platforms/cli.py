"""``journeysim platforms [NAME]`` and the text of ``journeysim validate --explain``."""

from __future__ import annotations

import textwrap
from pathlib import Path

import click

from simulator.platforms.merge import plan, platform_of
from simulator.platforms.presets import Preset, preset, presets

__all__ = ["platforms", "explain_text", "preset_text"]


def _wrap(text: str, indent: str, first: str | None = None) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, initial_indent=first or indent, subsequent_indent=indent)


def preset_text(p: Preset, *, full: bool) -> str:
    """One preset: its rules (value, scope, source; with ``full`` the quote) and, with ``full``, what it cannot model."""
    lines = [f"{p.name}: {p.title} ({len(p.rules)} rule{'s' if len(p.rules) != 1 else ''}, "
             f"{len(p.not_modelled)} not modelled)"]
    for r in p.rules:
        scope = f"  [{r.scope}]" if r.scope else ""
        lines.append(f"  {r.set} = {r.value}{scope}")
        lines.append(_wrap(r.behaviour, "      "))
        if full:
            lines.append(_wrap(f'"{r.quote}"', "      "))
        lines.append(f"      source: {r.source}")
    if full:
        lines.append("  not modelled:" if p.not_modelled else "  not modelled: nothing listed")
        for n in p.not_modelled:
            lines.append(_wrap(n.behaviour, "      ", first="    - "))
            lines.append(_wrap(f'"{n.quote}"', "      "))
            lines.append(f"      source: {n.source}")
    return "\n".join(lines)


@click.command("platforms")
@click.argument("name", required=False)
def platforms(name: str | None) -> None:
    """List the platform presets and their rules; with NAME, one preset in full (quotes, not modelled).

    A scenario uses one with `platform: NAME`; the scenario's own keys always win. See docs/platforms.md.
    """
    if name is not None:
        click.echo(preset_text(preset(name), full=True))
        return
    click.echo("\n\n".join(preset_text(p, full=False) for p in presets().values()))


def explain_text(path: Path, overrides: list[str]) -> str:
    """Every value the scenario's platform preset set or would have set, and where it came from.

    Call only on a scenario that validated (the same file and overrides).
    """
    from simulator.scenario.load import apply_overrides
    from simulator.scenario.yamlread import read_yaml

    data = apply_overrides(read_yaml(path), overrides).data
    p = platform_of(data)
    if p is None:
        return "  no platform: every value is the scenario's own or journeysim's default (docs/scenario-format.md)"
    outcomes = plan(data, p)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("set", "kept", "skipped")}
    lines = [f"  platform {p.name}, {p.title}: {counts['set']} value{'s' if counts['set'] != 1 else ''} set by "
             f"the preset, {counts['kept']} overridden by the scenario, {counts['skipped']} not applicable"]
    for o in outcomes:
        r = o.rule
        if o.status == "set":
            lines.append(f"  set      {o.path} = {o.value}   (preset {p.name})")
        elif o.status == "kept":
            same = " (the same value)" if o.value == r.value else ""
            lines.append(f"  override {o.path} = {o.value}   (the scenario's; preset {p.name} says {r.value}{same})")
        else:
            lines.append(f"  n/a      {o.path}: {p.name} would set {r.value}; {o.reason}")
        lines.append(_wrap(r.behaviour, "           "))
        lines.append(f"           source: {r.source}")
    if p.not_modelled:
        lines.append(f"  {p.name} behaviours journeysim does not model: `journeysim platforms {p.name}`")
    return "\n".join(lines)
