"""``journeysim compare SCENARIO --platforms braze,sfmc,customerio``: one journey and population under
several platform presets, with common random numbers.

A platform is a sweep variant that sets ``platform:`` (as ``--vary platform=braze,sfmc`` would), so the
sweep machinery plans, runs and stores it: every platform runs under the same N seeds, and the engine
derives every random stream from the seed by name, so customers, their events and their timings are the
same under every platform and only the presets' rules differ. The tables here add:

- per finding kind and platform, the mean rate (share of entered customers) with its 95% interval
  across replications (the interval of ``run --replications`` and ``sweep``);
- per finding kind and platform, the difference from the FIRST platform, paired by seed (replication r
  under platform B minus replication r under platform A), with its 95% interval;
- the rules that differ: every key a preset reaches, with the effective value under each platform,
  where it came from (the preset, the scenario, journeysim's default) and the preset's source.

docs/platforms.md ("Comparing platforms") explains the output.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

import click
import pandas as pd

from simulator.errors import EngineError, UsageError
from simulator.scenario.vocabulary import FINDING_KINDS
from simulator.sweep.grid import Vary
from simulator.sweep.plan import SweepPlan

__all__ = ["PLATFORM", "ComparePlan", "CompareOutcome", "parse_platforms", "plan_compare", "rule_table",
           "paired_differences", "compare_table", "identical_runs", "run_compare", "compare"]

#: The scenario key a compare varies.
PLATFORM = "platform"
_Z95 = NormalDist().inv_cdf(0.975)


@dataclass
class ComparePlan:
    """A validated comparison: the sweep plan (one variant per platform, in the order given) and the
    rules table (:func:`rule_table`)."""

    sweep: SweepPlan
    platforms: tuple[str, ...]
    rules: pd.DataFrame


def parse_platforms(text: str) -> list[str]:
    """``'braze, sfmc,customerio'`` -> names, each checked (did-you-mean), none twice, at least two."""
    from simulator.platforms.presets import presets, unknown_platform_hint

    names = [n.strip() for n in text.split(",")]
    if any(not n for n in names):
        raise UsageError(f"--platforms {text!r}: empty name; give names separated by commas, "
                         "e.g. braze,sfmc,customerio")
    for name in names:
        if name not in presets():
            raise UsageError(f"--platforms: unknown platform '{name}'; {unknown_platform_hint(name)}")
    for i, name in enumerate(names):
        if name in names[:i]:
            raise UsageError(f"--platforms: '{name}' is given twice")
    if len(names) < 2:
        raise UsageError(f"--platforms {text!r}: give two or more platforms to compare, e.g. braze,sfmc,customerio")
    return names


def plan_compare(path: str | Path, platforms: Sequence[str], *, replications: int = 5, seed: int | None = None,
                 customers: int | None = None, overrides: Sequence[str] = ()) -> ComparePlan:
    """Validate the scenario under every platform before anything runs (all problems at once, as sweep)."""
    from simulator.scenario.load import parse_key_path

    for text in overrides:
        key = text.partition("=")[0].strip()
        try:
            first = parse_key_path(key)[0] if key else None
        except ValueError:
            continue  # plan_sweep reports it with the fix
        if first == PLATFORM:
            raise UsageError(f"--set {text!r}: compare sets platform itself; give the platforms with --platforms")
    from simulator.sweep.plan import plan_sweep

    names = list(platforms)
    sweep = plan_sweep(path, [Vary(PLATFORM, tuple(names))], replications=replications, seed=seed,
                       customers=customers, overrides=overrides)
    return ComparePlan(sweep, tuple(names), rule_table(path, names, sweep, overrides))


# ----------------------------------------------------------------------------------------- rules

def _lookup(data: Any, parts: Sequence[str | int]) -> tuple[bool, Any]:
    """(found, value) at ``parts`` in JSON-like data; list items by index or by ``name``."""
    node = data
    for part in parts:
        if isinstance(node, dict):
            if part not in node:
                return False, None
            node = node[part]
        elif isinstance(node, list):
            if isinstance(part, int):
                if not 0 <= part < len(node):
                    return False, None
                node = node[part]
            else:
                match = [item for item in node if isinstance(item, dict) and item.get("name") == part]
                if not match:
                    return False, None
                node = match[0]
        else:
            return False, None
    return True, node


def _show(path: str, value: Any) -> str:
    from simulator.scenario.units import format_duration

    if value is None:
        return "none"
    if path.endswith(("max_duration", "recompute_every", "jitter", "entry.every")) and isinstance(value, (int, float)):
        return format_duration(value)
    return str(value)


def rule_table(path: str | Path, platforms: Sequence[str], sweep: SweepPlan,
               overrides: Sequence[str] = ()) -> pd.DataFrame:
    """Every key a rule of one of the presets reaches in this scenario, one row each, in preset order.

    Columns: ``key``; per platform ``<p>`` (the value that runs, read from the validated scenario) and
    ``<p>_from`` (``preset`` when the preset set it, ``scenario`` when the scenario or ``--set`` gives
    the key, ``default`` when neither does: journeysim's default; ``n/a`` when the scenario has nothing
    there, e.g. no caps); ``differs`` (the values are not all equal); ``pinned`` (the scenario's own
    value runs under every platform while at least one preset says otherwise: why two platforms can
    give the same rates); ``preset_says`` and ``sources`` (``p: value`` and ``p: URL`` for each preset
    with a rule for the key, joined by ``; ``).
    """
    from simulator.platforms.merge import plan
    from simulator.platforms.presets import preset
    from simulator.scenario.load import apply_overrides, parse_key_path
    from simulator.scenario.yamlread import read_yaml

    raw = apply_overrides(read_yaml(path), list(overrides)).data
    effective = [sc.model_dump(mode="json", by_alias=True) for sc in sweep.scenarios]
    outcomes: dict[str, dict[str, Any]] = {}
    for name in platforms:
        for o in plan(raw, preset(name)):
            outcomes.setdefault(o.path, {}).setdefault(name, o)
    rows = []
    for key, by_platform in outcomes.items():
        parts = parse_key_path(key)
        given, _ = _lookup(raw, parts)
        row: dict[str, Any] = {"key": key}
        values = []
        for name, data in zip(platforms, effective):
            o = by_platform.get(name)
            found, value = _lookup(data, parts)
            shown = _show(key, value) if found else "n/a"
            values.append(shown)
            row[name] = shown
            row[f"{name}_from"] = ("n/a" if not found else "preset" if o is not None and o.status == "set"
                                   else "scenario" if given else "default")
        row["differs"] = len(set(values)) > 1
        row["pinned"] = given and any(o.status == "kept" and o.value != o.rule.value for o in by_platform.values())
        row["sources"] = "; ".join(f"{name}: {by_platform[name].rule.source}" for name in platforms
                                  if name in by_platform)
        row["preset_says"] = "; ".join(f"{name}: {_show(key, by_platform[name].rule.value)}" for name in platforms
                                       if name in by_platform)
        rows.append(row)
    columns = ["key", *[c for n in platforms for c in (n, f"{n}_from")], "differs", "pinned", "preset_says", "sources"]
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------------------- rates

def _half(values: Sequence[float]) -> float:
    n = len(values)
    if n < 2:
        return float("nan")
    return _Z95 * float(pd.Series(values, dtype=float).std(ddof=1)) / math.sqrt(n)


def paired_differences(table: pd.DataFrame, platforms: Sequence[str]) -> pd.DataFrame:
    """Per kind and platform after the first: the mean of (rate under the platform - rate under the first
    platform) over the seeds both ran, and its 95% interval (``mean +- 1.96 sd / sqrt(n)``, sd with
    n - 1; NaN ends with one pair). ``table`` has columns platform, seed, kind, rate (sweep.csv).
    Columns: kind, platform, vs, delta, delta_low, delta_high, pairs."""
    first = platforms[0]
    rows = []
    wide = table.pivot_table(index=["kind", "seed"], columns=PLATFORM, values="rate", aggfunc="first")
    for kind in [k for k in FINDING_KINDS if k in set(table["kind"])] + sorted(set(table["kind"]) - set(FINDING_KINDS)):
        if kind not in wide.index.get_level_values(0):
            continue
        sub = wide.loc[kind]
        for name in platforms[1:]:
            if first not in sub.columns or name not in sub.columns:
                continue
            pairs = sub[[first, name]].dropna()
            diff = (pairs[name] - pairs[first]).tolist()
            mean = float(sum(diff) / len(diff)) if diff else float("nan")
            half = _half(diff)
            rows.append({"kind": kind, PLATFORM: name, "vs": first, "delta": mean, "delta_low": mean - half,
                         "delta_high": mean + half, "pairs": len(diff)})
    return pd.DataFrame(rows, columns=["kind", PLATFORM, "vs", "delta", "delta_low", "delta_high", "pairs"])


def compare_table(table: pd.DataFrame, platforms: Sequence[str]) -> pd.DataFrame:
    """compare.csv: one row per finding kind x platform (kinds in journeysim's order, platforms as given):
    replications, mean_rate, low, high (95% interval across replications, lower end clipped at 0),
    mean_count, mean_entered, and the paired difference from the first platform (vs, delta, delta_low,
    delta_high, pairs; empty on the first platform's rows)."""
    from simulator.sweep.tables import summarise

    columns = ["kind", PLATFORM, "replications", "mean_rate", "low", "high", "mean_count", "mean_entered", "vs",
               "delta", "delta_low", "delta_high", "pairs"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    summary = summarise(table, [PLATFORM]).set_index(["kind", PLATFORM])
    deltas = paired_differences(table, platforms).set_index(["kind", PLATFORM])
    rows = []
    for kind in FINDING_KINDS:
        for name in platforms:
            if (kind, name) not in summary.index:
                continue
            s = summary.loc[(kind, name)]
            row = {"kind": kind, PLATFORM: name, "replications": int(s["replications"]),
                   "mean_rate": float(s["mean_rate"]), "low": float(s["low"]), "high": float(s["high"]),
                   "mean_count": float(s["mean_count"]), "mean_entered": float(s["mean_entered"])}
            if (kind, name) in deltas.index:
                d = deltas.loc[(kind, name)]
                row.update({"vs": d["vs"], "delta": float(d["delta"]), "delta_low": float(d["delta_low"]),
                            "delta_high": float(d["delta_high"]), "pairs": int(d["pairs"])})
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)


def _pp(d: float, lo: float, hi: float) -> str:
    text = f"{100 * d:+.2f} pp"
    return text + (f" [{100 * lo:+.2f}, {100 * hi:+.2f}]" if not math.isnan(hi) else "")


def _band(mean: float, low: float, high: float) -> str:
    return f"{100 * mean:.2f}%" + (f" ({100 * low:.2f}-{100 * high:.2f})" if not math.isnan(high) else "")


def shown_kinds(frame: pd.DataFrame) -> list[str]:
    """Kinds with a non-zero rate under some platform, in journeysim's order."""
    seen = set(frame.loc[frame["mean_rate"] > 0, "kind"]) if not frame.empty else set()
    return [k for k in FINDING_KINDS if k in seen]


def wide_rates(frame: pd.DataFrame, platforms: Sequence[str]) -> pd.DataFrame:
    """Kinds as rows; per platform 'mean% (low-high)', then per later platform 'p - first' in pp [interval]."""
    rows = []
    for kind in shown_kinds(frame):
        sub = frame[frame["kind"] == kind].set_index(PLATFORM)
        row: dict[str, Any] = {"kind": kind}
        for name in platforms:
            if name in sub.index:
                r = sub.loc[name]
                row[name] = _band(r["mean_rate"], r["low"], r["high"])
        for name in platforms[1:]:
            if name in sub.index and pd.notna(sub.loc[name, "delta"]):
                r = sub.loc[name]
                row[f"{name} - {platforms[0]}"] = _pp(r["delta"], r["delta_low"], r["delta_high"])
        rows.append(row)
    return pd.DataFrame(rows)


def _sources(text: str) -> list[tuple[str, str]]:
    """``'braze: URL; sfmc: URL'`` -> [(braze, URL), (sfmc, URL)]."""
    return [tuple(part.split(": ", 1)) for part in text.split("; ") if part]  # type: ignore[misc]


def rates_text(frame: pd.DataFrame, platforms: Sequence[str]) -> list[str]:
    """The terminal lines for the rates: per shown kind, one line per platform with its difference."""
    width = max(len(p) for p in platforms)
    lines = []
    for kind in shown_kinds(frame):
        lines.append(f"  {kind}")
        sub = frame[frame["kind"] == kind].set_index(PLATFORM)
        for name in platforms:
            if name not in sub.index:
                lines.append(f"    {name:<{width}}  no finished run")
                continue
            r = sub.loc[name]
            text = f"    {name:<{width}}  {_band(r['mean_rate'], r['low'], r['high']):<24}"
            if pd.notna(r["delta"]):
                text += f"  {name} - {platforms[0]}: {_pp(r['delta'], r['delta_low'], r['delta_high'])}"
            lines.append(text.rstrip())
    return lines


def identical_runs(table: pd.DataFrame, platforms: Sequence[str]) -> bool:
    """Whether every platform gave the same count of every finding kind and the same deliveries on every
    seed that all platforms finished (False when no seed was finished by all)."""
    if table.empty:
        return False
    metrics = ["count", "customers", "entered", *[c for c in table.columns if c.startswith("sends_")]]
    done = table.groupby("seed")[PLATFORM].nunique()
    seeds = done[done == len(platforms)].index
    if seeds.empty:
        return False
    sub = table[table["seed"].isin(seeds)]
    return bool((sub.groupby(["seed", "kind"])[metrics].nunique() == 1).all().all())


def rules_text(rules: pd.DataFrame, platforms: Sequence[str]) -> list[str]:
    """The terminal lines for the rules: each differing key with its values, then the pinned keys."""
    lines = []
    differ = rules[rules["differs"]]
    if differ.empty:
        lines.append("rules that differ: none (every key a preset reaches runs with the same value on each platform)")
    else:
        lines.append("rules that differ:")
        for r in differ.to_dict("records"):
            values = ", ".join(f"{n} {r[n]} ({r[f'{n}_from']})" for n in platforms)
            lines.append(f"  {r['key']}: {values}")
            lines += [f"      {n}: {u}" for n, u in _sources(r["sources"])]
    for r in rules[rules["pinned"] & ~rules["differs"]].to_dict("records"):
        lines.append(f"the scenario's own {r['key']} = {r[platforms[0]]} runs under every platform "
                     f"(presets: {r['preset_says']}); remove it from the scenario to compare the presets' values")
    return lines


# ----------------------------------------------------------------------------------------- running

@dataclass
class CompareOutcome:
    folder: Path
    table: pd.DataFrame       #: sweep.csv: one row per platform x replication x kind
    compare: pd.DataFrame     #: compare.csv
    rules: pd.DataFrame       #: compare_rules.csv
    failures: list[dict[str, Any]]
    files: list[str]
    ran: int
    wall_seconds: float
    backend: str


def run_compare(cplan: ComparePlan, out: str | Path, *, workers: int | None = None, report: bool = True,
                on_start: Any = None, on_task: Any = None) -> CompareOutcome:
    """Run every platform x seed through the sweep runner, then write compare.csv, compare_rules.csv,
    compare.html and a summary.json of kind ``compare``."""
    from simulator.fileio import atomic_path, atomic_write_text
    from simulator.sweep.runner import run_sweep

    out = Path(out)
    outcome = run_sweep(cplan.sweep, out, workers=workers, report=False, on_start=on_start, on_task=on_task)
    frame = compare_table(outcome.table, cplan.platforms)
    files = [*outcome.files, "compare.csv", "compare_rules.csv"]
    with atomic_path(out / "compare.csv") as tmp:
        frame.to_csv(tmp, index=False)
    with atomic_path(out / "compare_rules.csv") as tmp:
        cplan.rules.to_csv(tmp, index=False)
    summary_file = out / "summary.json"
    manifest = json.loads(summary_file.read_text(encoding="utf-8"))
    manifest.update({"kind": "compare", "platforms": list(cplan.platforms),
                     "rules_differ": cplan.rules.loc[cplan.rules["differs"], "key"].tolist(),
                     "rules_pinned": cplan.rules.loc[cplan.rules["pinned"], "key"].tolist(),
                     "identical_runs": identical_runs(outcome.table, cplan.platforms)})
    if report:
        from simulator.platforms.compare_page import write_compare_page

        write_compare_page(out / "compare.html", cplan=cplan, frame=frame, summary=outcome.summary,
                           failures=outcome.failures, manifest=manifest)
        files.append("compare.html")
    atomic_write_text(summary_file, json.dumps(manifest, indent=2, default=str) + "\n")
    return CompareOutcome(out, outcome.table, frame, cplan.rules, outcome.failures, files, outcome.ran,
                          outcome.wall_seconds, outcome.backend)


@click.command("compare")
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--platforms", "platforms_text", required=True, metavar="P1,P2,...",
              help="Platform presets to compare, e.g. braze,sfmc,customerio; differences are against the first.")
@click.option("--replications", type=click.IntRange(min=1), default=5, show_default=True,
              help="Seeds per platform (the scenario's seed, then seeds spawned from it; the same for every platform).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Base seed (default: the scenario's seed).")
@click.option("--customers", type=click.IntRange(min=0), default=None,
              help="Population size of every run (default: the scenario's population.size).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value under every platform, validated like the file (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: the number of cores).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: reports/<scenario>-compare-<run-id>).")
@click.option("--no-report", is_flag=True, help="Skip compare.html.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def compare(scenario: Path, platforms_text: str, replications: int, seed: int | None, customers: int | None,
            overrides: tuple[str, ...], workers: int | None, out: Path | None, no_report: bool, quiet: bool) -> None:
    """Run SCENARIO under each platform preset with the same seeds and compare finding rates.

    Prints, per finding kind, each platform's mean rate with its 95% interval and the difference from the
    first platform paired by seed, then the preset rules whose values differ. Writes compare.csv,
    compare_rules.csv, compare.html, sweep.csv (every run) and summary.json. Exit code 0 when every run
    finished, 2 when one failed or on usage and scenario errors. See docs/platforms.md.
    """
    from simulator.runfolder import default_run_dir, new_run_id
    from simulator.sweep.runner import reserve_folder

    names = parse_platforms(platforms_text)
    cplan = plan_compare(scenario, names, replications=replications, seed=seed, customers=customers,
                         overrides=overrides)
    plan = cplan.sweep
    reserved = out is None
    if out is None:
        out = reserve_folder(default_run_dir(Path("reports"), f"{plan.base.scenario}-compare", new_run_id(plan.seed)))
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise UsageError(f"{out} already exists and is not an empty folder; pass --out with a new folder")
    show = not quiet and sys.stderr.isatty()
    bar = None

    def on_start(todo: int, done: int) -> None:
        nonlocal bar
        if not quiet:
            click.echo(f"compare: {len(names)} platforms x {len(plan.seeds)} replication"
                       f"{'s' if len(plan.seeds) != 1 else ''} = {len(plan.tasks)} runs", err=True)
        if show and todo:
            bar = click.progressbar(length=todo, label="running", file=sys.stderr, show_eta=True, show_pos=True)
            bar.__enter__()

    try:
        outcome = run_compare(cplan, out, workers=workers, report=not no_report, on_start=on_start,
                              on_task=lambda _r: bar.update(1) if bar is not None else None)
    except KeyboardInterrupt as exc:
        from simulator.interrupts import describe, exit_code

        click.echo(f"\ninterrupted ({describe(exc)}): finished runs are in {out}", err=True)
        sys.exit(exit_code(exc))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if reserved and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
    customers_each = plan.customers if plan.customers is not None else plan.base.population.size
    lines = [f"{plan.base.scenario}: {len(plan.seeds)} replication{'s' if len(plan.seeds) != 1 else ''} x "
             f"{customers_each} customers per platform, the same seeds for every platform ({outcome.ran} runs on "
             f"{outcome.backend} in {outcome.wall_seconds:.1f} s)"]
    wide = wide_rates(outcome.compare, names)
    if wide.empty:
        lines.append("finding rates: no findings under any platform")
    else:
        lines.append(f"finding rates: % of entered customers, mean (95% interval); the difference from {names[0]} "
                     "is paired by seed, in percentage points [95% interval]")
        lines += rates_text(outcome.compare, names)
    if json.loads((outcome.folder / "summary.json").read_text(encoding="utf-8"))["identical_runs"]:
        lines.append("every platform gave the same finding counts and deliveries on every seed: the rules that "
                     "differ do not change this journey's outcome (docs/platforms.md, \"Comparing platforms\")")
    lines += rules_text(outcome.rules, names)
    lines.append(f"wrote {outcome.folder} ({', '.join(outcome.files)})")
    click.echo("\n".join(lines))
    if outcome.failures:
        for f in outcome.failures:
            click.echo(f"failed: {f['settings']} replication {f['replication']} seed {f['seed']}: {f['error']}",
                       err=True)
        raise EngineError(f"{len(outcome.failures)} of {len(plan.tasks)} runs failed; the platforms' tables leave "
                          f"them out (see {outcome.folder / 'failures.csv'})")

