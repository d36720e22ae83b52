"""The ``journeysim`` command line: thin wrappers that parse, call the library, print, exit.

Exit codes everywhere: 0 clean, 1 findings broke a gate, 2 usage or scenario error. Errors print
without a Python traceback unless ``--debug`` is given.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from simulator import __version__
from simulator.errors import JourneySimError, ScenarioError

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Maps journeysim's own errors to exit code 2 with a clean message."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except JourneySimError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(str(exc) if isinstance(exc, ScenarioError) else f"error: {exc}", err=True)
            ctx.exit(2)


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

    Exit codes: 0 clean, 1 a gate failed, 2 usage or scenario error.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY.PATH=VALUE",
              help="Override a value before validating, e.g. --set population.size=500 (repeatable).")
def validate(scenarios: tuple[Path, ...], overrides: tuple[str, ...]) -> None:
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
    if failed:
        click.echo(f"{failed} of {len(scenarios)} scenario{'s' if len(scenarios) != 1 else ''} invalid", err=True)
        sys.exit(2)


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
              help="Also run N-1 more seeds and report each finding rate's mean and 95% interval.")
@click.option("--no-report", is_flag=True, help="Skip report.html (and its CSV exports).")
@click.option("--quiet", is_flag=True, help="No progress bar and a one-line summary.")
def run(scenario: Path, seed: int | None, customers: int | None, overrides: tuple[str, ...], out: Path | None,
        fmt: str, overwrite: bool, fail_on: tuple[str, ...], replications: int, no_report: bool,
        quiet: bool) -> None:
    """Simulate SCENARIO, detect findings, check gates and write the run folder.

    The folder holds events.parquet, customers.parquet, findings.csv and summary.json. It appears
    only when the run is complete; a failed run leaves '<folder>.failed' with a summary.json saying
    why, and Ctrl-C leaves nothing. Exit code 1 when a gate fails (the scenario's gates: plus
    --fail-on; with none, any error-severity finding fails).
    """
    from simulator.findings.gates import parse_fail_on

    extra_gates = [parse_fail_on(text) for text in fail_on]
    from simulator.engine import run_scenario
    from simulator.runfolder import default_run_dir, new_run_id
    from simulator.scenario.load import load_scenario

    sc = load_scenario(scenario, list(overrides))
    seed = sc.seed if seed is None else seed
    if out is None:
        out = default_run_dir(Path("reports"), sc.scenario, new_run_id(seed))
    days = sc.duration / 86400
    show = not quiet and sys.stderr.isatty()
    hook = None
    if replications > 1:
        from simulator.replications import replication_hook

        hook = replication_hook(sc, seed, replications, customers=customers,
                                announce=None if quiet else (lambda text: click.echo(text, err=True)))
    try:
        if show:
            with click.progressbar(length=int(sc.duration), label=f"simulating {days:g} days",
                                   file=sys.stderr, show_eta=True) as bar:
                done = [0]

                def progress(t: float) -> None:
                    bar.update(int(t) - done[0])
                    done[0] = int(t)

                result = run_scenario(sc, seed=seed, customers=customers, out=out, overwrite=overwrite,
                                      csv=fmt == "csv", gates=extra_gates, progress=progress, before_commit=hook,
                                      report=not no_report)
        else:
            result = run_scenario(sc, seed=seed, customers=customers, out=out, overwrite=overwrite,
                                  csv=fmt == "csv", gates=extra_gates, before_commit=hook, report=not no_report)
    except KeyboardInterrupt:
        click.echo("interrupted: no output folder was written", err=True)
        sys.exit(130)
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

    Uses pytest with the journeysim step library; exit code is pytest's (0 all passed, 1 some
    failed, 2+ usage/collection problems). Scenarios tagged @known-defect must fail.
    """
    import pytest

    targets = [str(p) for p in paths] or ["features"]
    missing = [t for t in targets if not Path(t).exists()]
    if missing:
        raise click.UsageError(f"not found: {', '.join(missing)} (give .feature files or folders)")
    args = [*targets, "-p", "no:cacheprovider", "-o", "python_files=__no_python_tests__", "-rfE"]
    args += ["-q"] if quiet else ["-v"]
    if junit_xml:
        args.append(f"--junitxml={junit_xml}")
    if cucumber_json:
        args.append(f"--cucumberjson={cucumber_json}")
    if keyword:
        args += ["-k", keyword]
    from simulator.bdd.summary import FeatureSummary

    summary = FeatureSummary()
    code = int(pytest.main(args, plugins=[summary]))
    for line in summary.lines():
        click.echo(line)
    sys.exit(code)


@cli.command()
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    """(Re)build report.html of a run folder from its event log, with daily_frequency.csv and sends.csv.

    The report is one self-contained file (figures embedded) that opens offline and prints.
    """
    from simulator.report.html import build_report

    click.echo(f"wrote {build_report(run_dir)}")


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

    data = load_trace(run_dir, customer)
    click.echo(format_trace(data))
    if png is not None:
        click.echo(f"wrote {swimlane_png(data, png)}")


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="journeysim")


if __name__ == "__main__":  # pragma: no cover
    main()
