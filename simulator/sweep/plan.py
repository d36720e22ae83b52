"""A sweep plan: every variant loaded and validated before anything runs, the shared seeds, and one
picklable task per variant x seed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.errors import ScenarioError, ScenarioIssue, UsageError
from simulator.scenario.load import apply_overrides, load_scenario
from simulator.scenario.model import Scenario
from simulator.scenario.yamlread import format_path, read_yaml
from simulator.sweep.grid import WHAT_IF, Variant, Vary, WhatIf, build_grid, parse_vary, parse_what_if


@dataclass(frozen=True)
class SweepTask:
    """What one worker needs: the frozen scenario of a variant and one seed (picklable, ~10 kB)."""

    key: str
    variant: int
    replication: int
    seed: int
    scenario: Scenario
    customers: int | None


@dataclass
class SweepPlan:
    """A validated sweep: base scenario, variants (each with its frozen scenario), seeds and tasks."""

    path: str
    base: Scenario
    base_overrides: tuple[str, ...]
    varies: tuple[Vary, ...]
    what_ifs: tuple[WhatIf, ...]
    variants: list[Variant]
    scenarios: list[Scenario]
    seed: int
    seeds: list[int]
    customers: int | None
    tasks: list[SweepTask]

    @property
    def columns(self) -> list[str]:
        """The settings columns of sweep.csv: each --vary key, then ``what_if`` when there are what-ifs."""
        return [v.key for v in self.varies] + ([WHAT_IF] if self.what_ifs else [])


def _relabel(issues: Sequence[ScenarioIssue], vary_paths: dict[str, str]) -> list[ScenarioIssue]:
    """Say '--vary' instead of '--set' for issues at a varied key path."""
    out = []
    for issue in issues:
        if any(issue.path == p or issue.path.startswith((p + ".", p + "[")) for p in vary_paths):
            issue = ScenarioIssue(issue.path, issue.message.replace("given with --set", "given with --vary"),
                                  issue.line, issue.column, issue.hint, issue.file)
        out.append(issue)
    return out


def task_key(scenario: Scenario, seed: int, customers: int | None) -> str:
    """Identity of a task's result: the variant's scenario hash, the seed, the size and the version."""
    from simulator import __version__

    text = f"{scenario.source_hash}|{seed}|{'scenario' if customers is None else customers}|{__version__}"
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def plan_sweep(path: str | Path, varies: Sequence[str | Vary] = (), what_ifs: Sequence[str] = (), *,
               replications: int = 5, seed: int | None = None, customers: int | None = None,
               overrides: Sequence[str] = ()) -> SweepPlan:
    """Parse and validate a sweep before anything runs.

    Every variant is loaded and validated like ``run --set`` would (key paths, values, did-you-mean);
    all problems are raised at once as one :class:`ScenarioError`; grid syntax problems as
    :class:`UsageError`. ``seed`` defaults to the scenario's (after ``overrides``).
    """
    path = str(path)
    base = load_scenario(path, list(overrides))
    parsed = [v if isinstance(v, Vary) else parse_vary(v) for v in varies]
    ifs = [parse_what_if(text, base) for text in what_ifs]
    if not parsed and not ifs:
        raise UsageError("nothing to sweep: give at least one --vary KEY.PATH=V1,V2,... or --what-if")
    if len({w.label for w in ifs}) != len(ifs):
        raise UsageError("the same --what-if is given twice")
    located = read_yaml(path)
    resolved: dict[str, str] = {}
    issues: list[ScenarioIssue] = []
    claims = [(f"--vary {v.key}", f"{v.key}={v.values[0]}") for v in parsed]
    claims += [(f"--what-if '{w.label}'", o) for w in ifs for o in w.overrides]
    for who, text in claims:
        try:
            done = apply_overrides(located, [text])
        except ScenarioError as exc:
            issues += [ScenarioIssue(i.path, i.message, i.line, i.column, i.hint, who.split()[0])
                       if i.file == "--set" else i for i in exc.issues]  # say which option, not --set
            continue
        for p in done.overridden - located.overridden:
            shown = format_path(p)
            if shown in resolved and who.startswith("--vary"):
                raise UsageError(f"{who} and {resolved[shown]} both set {shown}; vary each value once")
            if shown in resolved:
                raise UsageError(f"{who} changes {shown}, which {resolved[shown]} varies; drop one of them")
            resolved[shown] = who
    if issues:
        raise ScenarioError(issues, "--vary")
    vary_paths = {p: who for p, who in resolved.items() if who.startswith("--vary")}
    variants = build_grid(parsed, ifs)
    scenarios: list[Scenario] = []
    seen: dict[str, ScenarioIssue] = {}
    for variant in variants:
        try:
            scenarios.append(load_scenario(path, [*overrides, *variant.overrides]))
        except ScenarioError as exc:
            for issue in _relabel(exc.issues, vary_paths):
                seen.setdefault(issue.format(), issue)
    if seen:
        raise ScenarioError(list(seen.values()), path)
    seed = base.seed if seed is None else seed
    from simulator.replications import replication_seeds

    seeds = replication_seeds(seed, replications)
    tasks = [SweepTask(task_key(sc, s, customers), variant.index, r, s, sc, customers)
             for variant, sc in zip(variants, scenarios) for r, s in enumerate(seeds, start=1)]
    return SweepPlan(path, base, tuple(overrides), tuple(parsed), tuple(ifs), variants, scenarios, seed, seeds,
                     customers, tasks)

