"""The ``journeysim`` command line: thin wrappers that parse, call the library, print, exit.

Exit codes everywhere: 0 clean, 1 findings broke a gate, 2 usage or scenario error (or output that
cannot be written), 130/143/129 interrupted by Ctrl-C/SIGTERM/SIGHUP (docs/run-folders.md). Errors
print without a Python traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from simulator import __version__
from simulator.errors import JourneySimError, ScenarioError, UsageError

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Maps journeysim's own errors to exit code 2 with a clean message, and interruptions (Ctrl-C,
    SIGTERM, SIGHUP; see :mod:`simulator.interrupts`) to 130, 143 and 129."""

    def invoke(self, ctx: click.Context):
        from simulator.interrupts import describe, exit_code, handle_signals, pending

        try:
            with handle_signals():
                value = self._invoke_clean(ctx)
        except KeyboardInterrupt as exc:
            if _debug(ctx):
                raise
            click.echo(f"interrupted ({describe(exc)})", err=True)
            ctx.exit(exit_code(exc))
        except (SystemExit, click.exceptions.Exit):
            if pending() is not None:  # the command ended on its own after a signal: still say so
                ctx.exit(exit_code(None))
            raise
        if pending() is not None:
            ctx.exit(exit_code(None))
        return value

    def _invoke_clean(self, ctx: click.Context):
        from simulator.interrupts import Interrupted, pending

        try:
            return super().invoke(ctx)
        except JourneySimError as exc:
            if pending() is not None:
                raise Interrupted(pending()) from None
            if _debug(ctx):
                raise
            click.echo(str(exc) if isinstance(exc, ScenarioError) else f"error: {exc}", err=True)
            ctx.exit(2)
        except Exception as exc:
            from simulator.clifailures import clean_failure

            if pending() is not None:  # e.g. a worker pool broken by the interruption
                raise Interrupted(pending()) from None
            message = clean_failure(exc)
            if message is None or _debug(ctx):
                raise
            click.echo(f"error: {message}", err=True)
            ctx.exit(2)


def _debug(ctx: click.Context) -> bool:
    return bool(ctx.obj and ctx.obj.get("debug"))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="journeysim")
@click.option("--debug", is_flag=True, help="Show Python tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Simulate multi-channel marketing journeys before launch.

    journeysim replays a synthetic population through your journeys while the CRM, CDP,
    orchestrator and email/SMS/push systems sync their copies of each customer with realistic
    latency, batches, failures and outages, and flags race conditions, stage-change propagation
    misses, overlaps, broken caps, quiet hours and consent violations with their root cause.

    Exit codes: 0 clean, 1 a gate failed, 2 usage or scenario error, 130/143/129 interrupted
    (Ctrl-C, SIGTERM, SIGHUP).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value before validating, e.g. --set population.size=500 (repeatable).")
@click.option("--explain", is_flag=True, help="Print each value the scenario's platform preset set or was overridden on.")
def validate(scenarios: tuple[Path, ...], overrides: tuple[str, ...], explain: bool = False) -> None:
    """Check scenario files: every error at once, with key path, line and a fix.

    Prints 'OK <file>: N journeys, M steps, K sync links' per valid file. Exits 0 when all are
    valid, 2 otherwise.
    """
    from simulator.scenario.load import load_scenario

    failed = 0
    for path in scenarios:
        try:
            sc = load_scenario(path, list(overrides))
        except ScenarioError as exc:
            failed += 1
            click.echo(exc.format(), err=True)
            continue
        click.echo(f"OK {path}: {_plural(len(sc.journeys), 'journey')}, {_plural(sc.step_count, 'step')}, "
                   f"{_plural(len(sc.sync), 'sync link')}")
        _placeholder_warnings(sc)
        if explain:
            from simulator.platforms.cli import explain_text

            click.echo(explain_text(path, list(overrides)))
    if failed:
        click.echo(f"{failed} of {len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} invalid", err=True)
        sys.exit(2)


def _impact_channels(sc, path: Path, given: tuple[str, ...]) -> list[str]:
    """The channels of ``--impact`` (repeatable or comma-separated), checked against the scenario."""
    channels = [c.strip() for text in given for c in text.split(",") if c.strip()]
    if not channels:
        return []
    if sc.projections is None:
        raise click.UsageError(f"--impact needs a conversion to count: add 'projections: {{conversion: EVENT}}' to "
                               f"{path} (docs/projections.md)")
    known = sorted({m.channel for m in sc.messages.values()} | set(sc.channel_systems))
    for c in channels:
        if c not in known:
            from simulator.scenario.units import did_you_mean

            hint = did_you_mean(c, known)
            raise click.UsageError(f"--impact {c}: no such channel in {path}"
                                   f"{'; did you mean ' + repr(hint) + '?' if hint else ''} (channels: "
                                   f"{', '.join(known)})")
    return list(dict.fromkeys(channels))


def _placeholder_warnings(sc) -> None:
    """Warn (stderr) about every step an importer marked ``placeholder``: the run is valid but its
    numbers rest on values the export did not carry."""
    for w in sc.warnings:
        click.echo(f"warning: {w}", err=True)
    if sc.warnings:
        click.echo(f"warning: {_plural(len(sc.warnings), 'placeholder')} left from `journeysim import` "
                   "(docs/import.md): findings depend on them", err=True)


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Random seed (default: the scenario's seed).")
@click.option("--customers", type=click.IntRange(min=0), default=None,
              help="Population size (default: the scenario's population.size).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a scenario value, validated like the file (repeatable).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: reports/<scenario>-<run-id>).")
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="Event log format; csv writes events.csv next to events.parquet.")
@click.option("--overwrite", is_flag=True, help="Replace the output folder if it exists.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="KIND>N[%]",
              help="Extra release gate, e.g. --fail-on 'exit-race>0.5%' --fail-on 'consent-violation>0' (repeatable).")
@click.option("--replications", type=click.IntRange(min=1), default=1, show_default=True,
              help="Also run N-1 more seeds and report each finding rate's mean and 95% interval; "
                   "gates then judge the replications (see --gate-on).")
@click.option("--gate-on", "gate_on", default=None, metavar="mean|upper",
              help="With --replications N: gate on the mean of the N replications (default) or on the upper "
                   "end of its 95% interval (conservative for '<' gates).")
@click.option("--impact", "impact", multiple=True, metavar="CHANNEL",
              help="Also run a paired what-if run without CHANNEL's sends (same seed) and report the conversions "
                   "it contributes per journey (needs projections: in the scenario; repeatable or a,b).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Split the simulation into customer shards on this many local processes (default: 1, "
                   "not split). The event log, findings and summary are the same whatever the split.")
@click.option("--shards", type=click.IntRange(min=1), default=None,
              help="Customer shards of a split simulation (default: one per worker, or two per Dask worker).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Split the simulation over the Dask cluster at ADDRESS, e.g. tcp://scheduler:8786 (needs "
                   "journeysim[dask]; not with --workers: the cluster has its own).")
@click.option("--no-report", is_flag=True, help="Skip report.html (and its CSV exports).")
@click.option("--quiet", is_flag=True, help="No progress bar and a one-line summary.")
def run(scenario: Path, seed: int | None, customers: int | None, overrides: tuple[str, ...], out: Path | None,
        fmt: str, overwrite: bool, fail_on: tuple[str, ...], replications: int, gate_on: str | None,
        impact: tuple[str, ...], workers: int, shards: int | None, dask_address: str | None, no_report: bool,
        quiet: bool) -> None:
    """Simulate SCENARIO, detect findings, check gates and write the run folder.

    The folder holds events.parquet, customers.parquet, findings.csv and summary.json. It appears
    only when the run is complete; a failed run leaves '<folder>.failed' with a summary.json saying
    why, and Ctrl-C, SIGTERM or SIGHUP leave nothing (exit 130, 143, 129). Exit code 1 when a gate
    fails (the scenario's gates: plus --fail-on; with none, any error-severity finding fails). With
    --replications N the gates judge the mean of the N replications (or, with --gate-on upper, the
    upper end of its 95% interval).
    """
    from simulator.findings.gates import parse_fail_on
    from simulator.replications import check_gate_on

    extra_gates = [parse_fail_on(text) for text in fail_on]
    gate_on = check_gate_on(gate_on, replications)
    if workers is not None and dask_address is not None:
        raise UsageError("give --workers or --dask, not both (a Dask cluster has its own workers; --shards sets "
                         "how many shards they share)")
    from simulator.pipeline import run_scenario
    from simulator.runfolder import default_run_dir, new_run_id
    from simulator.scenario.load import load_scenario

    sc = load_scenario(scenario, list(overrides))
    _placeholder_warnings(sc)
    seed = sc.seed if seed is None else seed
    unique = out is None  # a default name never collides: a second run in the same second gets '-2'
    if out is None:
        out = default_run_dir(Path("reports"), sc.scenario, new_run_id(seed))
    days = sc.duration / 86400
    show = not quiet and sys.stderr.isatty()
    hook = None
    if replications > 1:
        from simulator.replications import replication_hook

        hook = replication_hook(sc, seed, replications, customers=customers, gates=extra_gates, gate_on=gate_on,
                                announce=None if quiet else (lambda text: click.echo(text, err=True)))
    channels = _impact_channels(sc, scenario, impact)
    if channels:
        from simulator.projections.impact import impact_hook

        hooks = [h for h in (hook, impact_hook(sc, seed, channels, customers=customers, announce=None if quiet else
                                               (lambda text: click.echo(text, err=True)))) if h is not None]
        hook = hooks[0] if len(hooks) == 1 else (lambda result, file: {**hooks[0](result, file),
                                                                         **hooks[1](result, file)})
    client = None
    if dask_address is not None:  # a bad address or no scheduler: exit 2 now, before any folder exists
        from simulator.sweep.backends import dask_client

        client = dask_client(dask_address)
    split = dict(workers=workers or 1, shards=shards, dask=client)
    sharded = (workers or 1) > 1 or shards is not None or client is not None
    try:
        if show and sharded:  # no clock to show: each shard's end, round by round, then each phase
            result = run_scenario(sc, seed=seed, customers=customers, out=out, overwrite=overwrite,
                                  csv=fmt == "csv", gates=extra_gates, before_commit=hook, report=not no_report,
                                  status=lambda text: click.echo(text, err=True), unique=unique, **split)
        elif show:
            from simulator.scenario.units import format_stamp

            with click.progressbar(length=int(sc.duration), label=f"simulating {days:g} days",
                                   file=sys.stderr, show_eta=True,
                                   item_show_func=lambda t: None if t is None else f"at {format_stamp(sc.start, t)}"
                                   ) as bar:
                done = [0]

                def progress(t: float) -> None:
                    bar.update(int(t) - done[0], t)
                    done[0] = int(t)

                def status(text: str) -> None:
                    if done[0] >= int(sc.duration):
                        bar.finish()
                        bar.render_finish()
                        done[0] += 1
                    click.echo(text, err=True)

                result = run_scenario(sc, seed=seed, customers=customers, out=out, overwrite=overwrite,
                                      csv=fmt == "csv", gates=extra_gates, progress=progress, before_commit=hook,
                                      report=not no_report, status=status, unique=unique, **split)
        else:
            result = run_scenario(sc, seed=seed, customers=customers, out=out, overwrite=overwrite,
                                  csv=fmt == "csv", gates=extra_gates, before_commit=hook, report=not no_report,
                                  unique=unique, **split)
    except KeyboardInterrupt as exc:
        from simulator.interrupts import describe, exit_code

        click.echo(f"\ninterrupted ({describe(exc)}): no output folder was written", err=True)
        raise Interrupted(exit_code(exc)) from None
    finally:
        if client is not None:
            client.close()
    from simulator.summary import run_summary_lines

    lines = run_summary_lines(result)
    click.echo("\n".join(lines[:1] + [ln for ln in lines if ln.startswith("gate")]) if quiet else "\n".join(lines))
    if not result.passed:
        sys.exit(1)


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--junit-xml", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a JUnit XML report (for CI dashboards).")
@click.option("--cucumber-json", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a Cucumber JSON report.")
@click.option("-k", "keyword", default=None, help="Only run Gherkin scenarios matching this pytest -k expression.")
@click.option("--quiet", is_flag=True, help="Less output.")
def uat(paths: tuple[Path, ...], junit_xml: Path | None, cucumber_json: Path | None, keyword: str | None,
        quiet: bool) -> None:
    """Run Gherkin UAT features (default: ./features) on the simulated clock.

    Uses pytest with the journeysim step library; only journeysim features are run (a step names a
    scenario, or the @journeysim tag: docs/uat.md). Exit code: 0 all passed, 1 some scenario failed,
    2 usage errors (misspelt names, unknown phrases, missing files) or nothing to run. Scenarios
    tagged @known-defect must fail.
    """
    import pytest

    targets = [str(p) for p in paths] or ["features"]
    missing = [t for t in targets if not Path(t).exists()]
    if missing:
        raise click.UsageError(f"not found: {', '.join(missing)} (give .feature files or folders)")
    args = [*targets, "-p", "no:cacheprovider", "-o", "python_files=__no_python_tests__", "-rfE",
            "--journeysim-uat", "-W", "ignore::pytest.PytestAssertRewriteWarning"]
    args += ["-q"] if quiet else ["-v"]
    if junit_xml:
        args.append(f"--junitxml={junit_xml}")
    if cucumber_json:
        args.append(f"--cucumberjson={cucumber_json}")
    if keyword:
        args += ["-k", keyword]
    from simulator.bdd.stopping import QuietStop
    from simulator.bdd.summary import FeatureSummary
    from simulator.interrupts import Interrupted, pending

    summary = FeatureSummary()
    stop = QuietStop([p for p in (junit_xml, cucumber_json) if p is not None])
    try:
        code = int(pytest.main(args, plugins=[summary, stop]))
        if stop.stopped and pending() is None:  # a plain Ctrl-C: pytest caught the KeyboardInterrupt
            raise KeyboardInterrupt
        if pending() is not None:
            raise Interrupted(pending())
    except KeyboardInterrupt as exc:
        from simulator.interrupts import describe, exit_code

        reports = " (no --junit-xml/--cucumber-json file was written)" if junit_xml or cucumber_json else ""
        click.echo(f"\ninterrupted ({describe(exc)}): the features did not finish{reports}", err=True)
        sys.exit(exit_code(exc))
    for line in summary.lines():
        click.echo(line)
    if code == int(pytest.ExitCode.NO_TESTS_COLLECTED) and not keyword:
        click.echo(f"no journeysim features found in {', '.join(targets)}: a feature is journeysim's when a step "
                   'reads  Given the scenario "path/to/scenario.yaml"  or it is tagged @journeysim (docs/uat.md)')
        code = 2
    if code == int(pytest.ExitCode.TESTS_FAILED) and summary.usage_errors:
        code = 2
    sys.exit(code)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    """(Re)build report.html of a run folder from its event log, with daily_frequency.csv and sends.csv.

    The report is one self-contained file (figures embedded) that opens offline and prints.
    """
    from simulator.report.html import build_report
    from simulator.runfolder import check_run_folder, reading_errors

    check_run_folder(run_dir)
    try:
        written = build_report(run_dir)
    except reading_errors() as exc:
        raise UsageError(f"{run_dir} could not be read ({exc}); a file in it is damaged: run the scenario again") \
            from None
    click.echo(f"wrote {written}")


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--customer", required=True, help="Customer id (findings lines from `run` name examples).")
@click.option("--png", "png", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write a swimlane figure to this PNG file.")
def trace(run_dir: Path, customer: str, png: Path | None) -> None:
    """Show one customer's timeline from a run folder.

    Truth changes, each system's replica arrivals, decisions with replica vs truth, sends,
    deliveries and findings with their root cause.
    """
    from simulator.report.trace import format_trace, load_trace, swimlane_png
    from simulator.runfolder import check_run_folder, reading_errors

    check_run_folder(run_dir)
    try:
        data = load_trace(run_dir, customer)
    except reading_errors() as exc:
        raise UsageError(f"{run_dir} could not be read ({exc}); a file in it is damaged: run the scenario again") \
            from None
    click.echo(format_trace(data))
    if png is not None:
        from simulator.errors import UsageError
        from simulator.fileio import describe_os_error
        try:
            written = swimlane_png(data, png)
        except OSError as exc:
            raise UsageError(f"cannot write the --png file: {describe_os_error(exc, '--png')}") from None
        click.echo(f"wrote {written}")


@cli.command()
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the schema to this file instead of standard output.")
def schema(out: Path | None) -> None:
    """Print the JSON Schema of the scenario format, for editors.

    With the YAML language server (VS Code's YAML extension and others), save it and put
    '# yaml-language-server: $schema=journeysim.schema.json' at the top of a scenario file to get
    completion and inline errors.
    """
    from simulator.scenario.schema import scenario_json_schema

    text = json.dumps(scenario_json_schema(), indent=2) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        from simulator.fileio import atomic_write_text

        atomic_write_text(out, text)
        click.echo(f"wrote {out}")


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite files that already exist.")
def init(directory: Path, force: bool) -> None:
    """Write a starter scenario and a starter UAT feature into DIRECTORY.

    The scenario validates as written; edit it, then run 'journeysim validate'.
    """
    from simulator.starter import write_starter

    for path in write_starter(directory, force=force):
        click.echo(f"wrote {path}")
    click.echo(f"next: journeysim validate {directory / 'scenario.yaml'}")


@cli.command()
@click.argument("scenario", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--vary", "varies", multiple=True, metavar="KEY.PATH=V1,V2,...",
              help="A parameter and its values, e.g. 'journeys[cart-abandonment].steps[wait_1h].wait=30m,1h..6h/30m' "
                   "(ranges START..END/STEP; repeatable: the grid is every combination).")
@click.option("--what-if", "what_ifs", multiple=True, metavar="'outage LINK --at T --for D' | 'latency LINK xF'",
              help="Compare against the baseline: a sync outage ('outage cdp->esp --at 2026-12-03T08:00Z --for 6h', "
                   "add --drop to lose the changes) or scaled latency ('latency web->cdp x3'). Repeatable.")
@click.option("--replications", type=click.IntRange(min=1), default=5, show_default=True,
              help="Seeds per variant (the scenario's seed, then seeds spawned from it; the same for every variant).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Base seed (default: the scenario's seed).")
@click.option("--customers", type=click.IntRange(min=0), default=None,
              help="Population size of every run (default: the scenario's population.size).")
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value in every variant, validated like the file (repeatable).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local worker processes (default: the number of cores).")
@click.option("--dask", "dask_address", default=None, metavar="ADDRESS",
              help="Run on a Dask distributed cluster, e.g. tcp://scheduler:8786 (needs journeysim[dask]).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder (default: reports/<scenario>-sweep-<run-id>).")
@click.option("--resume", is_flag=True, help="Continue the sweep in --out: skip runs that finished there.")
@click.option("--fail-on", "fail_on", multiple=True, metavar="KIND>N[%]",
              help="Extra gate for the recommendations, e.g. 'exit-race>0.5%' (repeatable).")
@click.option("--no-report", is_flag=True, help="Skip sweep.html.")
@click.option("--quiet", is_flag=True, help="No progress bar; only the recommendations and the folder.")
def sweep(scenario: Path, varies: tuple[str, ...], what_ifs: tuple[str, ...], replications: int, seed: int | None,
          customers: int | None, overrides: tuple[str, ...], workers: int | None, dask_address: str | None,
          out: Path | None, resume: bool, fail_on: tuple[str, ...], no_report: bool, quiet: bool) -> None:
    """Run SCENARIO over a grid of parameter values x N replications and chart finding rates.

    Writes sweep.csv and sweep.parquet (one row per variant x replication x finding kind: count, rate,
    messages delivered per channel, p95 messages per customer per week), sweep.html (curves with 95%
    bands and the settings where each gate starts to hold) and summary.json. Runs on local worker
    processes, or on a Dask cluster with --dask. Exit code 0 when every run finished, 2 when one failed
    (the others are kept; --resume retries) or on usage and scenario errors.
    """
    from simulator.errors import EngineError, UsageError
    from simulator.findings.gates import parse_fail_on
    from simulator.runfolder import default_run_dir, new_run_id
    from simulator.sweep import plan_sweep, run_sweep
    from simulator.scenario.experiments import is_projection_gate

    if workers is not None and dask_address is not None:
        raise UsageError("give --workers or --dask, not both (a Dask cluster has its own workers)")
    if resume and out is None:
        raise UsageError("--resume continues an existing sweep: give its folder with --out")
    gates = [parse_fail_on(text) for text in fail_on]
    if any(is_projection_gate(g.kind) for g in gates):  # sweep recommendations judge finding rates only
        raise UsageError("sweep --fail-on takes finding kinds; projection gates (conversion-lift, ...) are "
                         "judged by `journeysim run` (with --replications N for several seeds)")
    plan = plan_sweep(scenario, varies, what_ifs, replications=replications, seed=seed, customers=customers,
                      overrides=overrides)
    if plan.base.projection_gates and not quiet:  # said, not silently left out
        names = ", ".join(dict.fromkeys(g.kind for g in plan.base.projection_gates))
        click.echo(f"note: the scenario's projection gates ({names}) are not judged by sweep, whose "
                   "recommendations judge finding rates; `journeysim run` judges them", err=True)
    reserved = out is None
    if out is None:
        from simulator.sweep.runner import reserve_folder

        out = reserve_folder(default_run_dir(Path("reports"), f"{plan.base.scenario}-sweep", new_run_id(plan.seed)))
    show = not quiet and sys.stderr.isatty()
    bar = None

    def on_start(todo: int, done: int) -> None:
        nonlocal bar
        if not quiet:
            click.echo(f"sweep: {_plural(len(plan.variants), 'variant')} x {_plural(len(plan.seeds), 'replication')}"
                       f" = {_plural(len(plan.tasks), 'run')}" + (f" ({done} already done)" if done else ""), err=True)
        if show and todo:
            bar = click.progressbar(length=todo, label="running", file=sys.stderr, show_eta=True, show_pos=True)
            bar.__enter__()

    try:
        outcome = run_sweep(plan, out, workers=workers, dask=dask_address, resume=resume, gates=gates,
                            report=not no_report, on_start=on_start,
                            on_task=lambda _r: bar.update(1) if bar is not None else None)
    except KeyboardInterrupt as exc:
        from simulator.interrupts import describe, exit_code

        click.echo(f"\ninterrupted ({describe(exc)}): finished runs are kept in {out}; continue with --resume "
                   f"--out {out}", err=True)
        sys.exit(exit_code(exc))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
        if reserved and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # a sweep that stopped before writing anything leaves no empty folder
    lines = [f"{outcome.ran} runs on {outcome.backend} in {outcome.wall_seconds:.1f} s"
             + (f", {outcome.resumed} resumed" if outcome.resumed else "")] if not quiet else []
    lines += [rec["sentence"] for rec in outcome.recommendations]
    if not outcome.deltas.empty:
        from simulator.scenario.vocabulary import FINDING_KINDS

        others = [c for c in plan.columns if c != "what_if"]
        for row in outcome.deltas[outcome.deltas["kind"].isin(FINDING_KINDS)].to_dict("records"):
            at = " at " + ", ".join(f"{c}={row[c]}" for c in others) if others else ""
            band = f" ±{50 * (row['delta_high'] - row['delta_low']):.2f}" if len(plan.seeds) > 1 else ""
            lines.append(f"what-if {row['what_if']}{at}: {row['kind']} {100 * row['baseline']:.2f}% -> "
                         f"{100 * row['what_if_value']:.2f}% ({100 * row['delta']:+.2f}{band} pp)")
    lines.append(f"wrote {outcome.folder} ({', '.join(outcome.files)})")
    click.echo("\n".join(lines))
    if outcome.failures:
        for f in outcome.failures:
            click.echo(f"failed: variant {f['variant']} ({f['settings']}) replication {f['replication']} "
                       f"seed {f['seed']}: {f['error']}", err=True)
        raise EngineError(f"{len(outcome.failures)} of {len(plan.tasks)} runs failed; the others are in "
                          f"{outcome.folder}; retry the failed ones with: journeysim sweep ... --resume --out "
                          f"{outcome.folder}")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


from simulator.platforms.compare import compare as _compare  # noqa: E402

cli.add_command(_compare)

from simulator.creative.cli import register as _register_creative  # noqa: E402

_register_creative(cli)

from simulator.platforms.cli import platforms as _platforms  # noqa: E402

cli.add_command(_platforms)

from simulator.importers.cli import import_command as _import_command  # noqa: E402

cli.add_command(_import_command)


class Interrupted(SystemExit):
    """An interrupted run, cleaned up and reported: the process may end at once (see :func:`main`)."""


def main() -> None:
    """Console-script entry point. An interrupted run ends the process at once, after flushing its output:
    everything it wrote is already removed, and a worker pool killed mid-task can leave its manager thread
    blocked, which would keep the interpreter's exit waiting (seen once in CI after SIGHUP during findings)."""
    try:
        cli(prog_name="journeysim")
    except Interrupted as exc:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(int(exc.code or 0))


if __name__ == "__main__":  # pragma: no cover
    main()
