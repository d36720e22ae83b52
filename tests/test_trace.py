"""`journeysim trace`: one customer's timeline and swimlane from a run folder."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from test_findings_statistics import EXIT_RACE


@pytest.fixture(scope="module")
def race_run(tmp_path_factory):
    """A small run of the exit-race scenario written to a folder."""
    scenario = tmp_path_factory.mktemp("sc") / "race.yaml"
    scenario.write_text(EXIT_RACE.replace("size: 20000", "size: 300"))
    out = tmp_path_factory.mktemp("runs") / "race"
    result = CliRunner().invoke(cli, ["run", str(scenario), "--out", str(out), "--quiet"])
    assert result.exit_code in (0, 1), result.output
    return out


def test_trace_shows_the_race_and_its_root_cause(race_run, tmp_path):
    """The trace of an exit-race customer shows the purchase, the send marked RACE and the late hop."""
    findings = pd.read_csv(race_run / "findings.csv")
    customer = findings[findings["kind"] == "exit-race"]["customer"].iloc[0]
    png = tmp_path / "lane.png"
    result = CliRunner().invoke(cli, ["trace", str(race_run), "--customer", customer, "--png", str(png)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"customer {customer}" in out
    assert "purchase happened" in out and "SEND reminder" in out and "<< RACE" in out
    assert "exit-race" in out and "root cause: @purchase changed at web" in out and "web->cdp" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_trace_unknown_customer_suggests(race_run):
    """An unknown id exits 2 with a did-you-mean."""
    result = CliRunner().invoke(cli, ["trace", str(race_run), "--customer", "c00001"])
    assert result.exit_code == 2 and "no customer 'c00001'" in result.output and "did you mean 'c0000" in result.output


def test_trace_not_a_run_folder(tmp_path):
    """A folder without events.parquet is a usage error."""
    result = CliRunner().invoke(cli, ["trace", str(tmp_path), "--customer", "x"])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_trace_png_on_a_read_only_disk_names_png_not_out(race_run, tmp_path, monkeypatch):
    """A --png path that cannot be written exits 2 and tells the user to pass --png elsewhere (trace has
    no --out option)."""
    import errno

    import simulator.report.trace as trace_mod

    def read_only(data, path):
        raise OSError(errno.EROFS, "Read-only file system", str(path))

    monkeypatch.setattr(trace_mod, "swimlane_png", read_only)
    customer = pd.read_csv(race_run / "findings.csv")["customer"].iloc[0]
    result = CliRunner().invoke(cli, ["trace", str(race_run), "--customer", customer, "--png", str(tmp_path / "x.png")])
    assert result.exit_code == 2, result.output
    assert "cannot write the --png file: read-only file system" in result.output
    assert "pass --png with a path on a writable disk" in result.output and "--out" not in result.output
