"""`journeysim run` through click's CliRunner: run folders, exit codes, overrides, formats, Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from conftest import ROOT

import simulator.engine
from simulator.cli import cli
from simulator.engine.events import read_events

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")
#: A gate that always passes, replacing the scenario's own: the exit code then says only "ran fine".
LENIENT = 'gates={consent-violation: "<= 100%"}'


def run(*args: str):
    return CliRunner().invoke(cli, ["run", *args])


def leftovers(parent: Path) -> list[str]:
    """Anything a run may leave next to --out (the final folder, .failed, hidden .partial folders)."""
    return sorted(p.name for p in parent.iterdir())


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_run_bundled_scenario_writes_a_complete_folder(path, tmp_path):
    """`journeysim run X --customers 100 --out DIR --quiet` writes a complete folder; exit code follows the gates."""
    # `journeysim run scenarios/X.yaml --customers 100 --out DIR --quiet` writes a complete folder for each
    # bundled scenario: events.parquet, summary.json (status complete, counts equal to the parquet's kind
    # counts) and report.html. The exit code is 0 when all the scenario's own gates pass and 1 otherwise
    # (several bundled scenarios are built to fail theirs), with one PASS/FAIL line per gate.
    out = tmp_path / "run"
    result = run(str(path), "--customers", "100", "--out", str(out), "--quiet")
    assert (out / "events.parquet").is_file() and (out / "summary.json").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "complete"
    assert summary["customers"] == 100
    kinds = read_events(out, columns=["kind"])["kind"].astype(str).value_counts().to_dict()
    assert summary["counts"] == kinds
    assert summary["events"] == sum(kinds.values())
    gates = summary["findings"]["gates"]
    assert gates and result.exit_code == (0 if all(g["passed"] for g in gates) else 1), result.output
    lines = result.output.strip().splitlines()
    assert lines[1:] == [f"gate {'PASS' if g['passed'] else 'FAIL'}: {g['gate']} (actual: {g['actual']})"
                         for g in gates]  # --quiet: one summary line, then the gates
    assert (out / "report.html").is_file()
    assert leftovers(tmp_path) == ["run"]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_run_exits_0_when_the_gates_pass(path, tmp_path):
    """Every bundled scenario exits 0 when its gates are replaced by one that passes."""
    # With the scenario's gates replaced by one that always passes (--set gates=...), every bundled scenario
    # exits 0 at 100 customers.
    out = tmp_path / "run"
    result = run(str(path), "--customers", "100", "--out", str(out), "--quiet", "--no-report", "--set", LENIENT)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"
    assert not (out / "report.html").exists()


def test_bad_set_key_path_exits_2_without_traceback_or_folder(tmp_path):
    """--set with a bad key path exits 2 with a clear message, no traceback and no folder."""
    # --set with a key path that leads nowhere: exit 2, a message naming the override and the problem, no
    # traceback, and no run folder (nor any partial one).
    out = tmp_path / "run"
    result = run(CART, "--customers", "10", "--out", str(out), "--quiet", "--set", "sync[9].every=1h")
    assert result.exit_code == 2
    assert "sync[9].every" in result.output
    assert "index 9 is out of range" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert leftovers(tmp_path) == []


def test_bad_set_value_exits_2(tmp_path):
    """--set with a valid path but an invalid value: exit 2, validated like the file, says it came from --set."""
    out = tmp_path / "run"
    result = run(CART, "--out", str(out), "--set", "sync[1].every=4 hours")
    assert result.exit_code == 2
    assert "sync[1].every" in result.output and "(value given with --set)" in result.output
    assert "Traceback" not in result.output
    assert leftovers(tmp_path) == []


def test_format_csv_writes_events_csv(tmp_path):
    """--format csv writes events.csv next to events.parquet, with the same rows."""
    out = tmp_path / "run"
    result = run(CART, "--customers", "50", "--out", str(out), "--quiet", "--no-report", "--format", "csv",
                 "--set", LENIENT)
    assert result.exit_code == 0, result.output
    csv = pacsv.read_csv(out / "events.csv")
    parquet = pq.read_table(out / "events.parquet")
    assert csv.num_rows == parquet.num_rows > 0
    assert csv.column_names == parquet.column_names


def test_default_format_writes_no_csv(tmp_path):
    """Without --format the folder has events.parquet only."""
    out = tmp_path / "run"
    assert run(CART, "--customers", "20", "--out", str(out), "--quiet", "--no-report", "--set", LENIENT).exit_code == 0
    assert (out / "events.parquet").is_file() and not (out / "events.csv").exists()


def test_existing_out_needs_overwrite(tmp_path):
    """An existing --out without --overwrite exits 2 and leaves the folder alone; --overwrite refuses a folder
    that is not a run folder (nothing deleted) and replaces a run folder."""
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    result = run(CART, "--customers", "20", "--out", str(out), "--quiet", "--no-report")
    assert result.exit_code == 2
    assert "already exists" in result.output and "--overwrite" in result.output
    assert "Traceback" not in result.output
    assert (out / "keep.txt").read_text() == "mine"
    assert leftovers(tmp_path) == ["run"]
    refused = run(CART, "--customers", "20", "--out", str(out), "--quiet", "--no-report", "--overwrite")
    assert refused.exit_code == 2
    assert "not a journeysim run folder" in refused.output and "nothing was deleted" in refused.output
    assert (out / "keep.txt").read_text() == "mine"
    assert leftovers(tmp_path) == ["run"]
    (out / "keep.txt").unlink()
    out.rmdir()
    assert run(CART, "--customers", "20", "--out", str(out), "--quiet", "--no-report", "--set", LENIENT).exit_code == 0
    first = (out / "events.parquet").stat().st_mtime_ns
    again = run(CART, "--customers", "20", "--out", str(out), "--quiet", "--no-report", "--overwrite", "--set", LENIENT)
    assert again.exit_code == 0, again.output
    assert (out / "events.parquet").stat().st_mtime_ns != first
    assert leftovers(tmp_path) == ["run"]


def test_keyboard_interrupt_exits_130_and_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C during the run: exit 130, a message, no folder at --out, no .partial folder, no .failed."""
    def interrupted(self, progress=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(simulator.engine.Engine, "run", interrupted)
    out = tmp_path / "run"
    result = run(CART, "--customers", "20", "--out", str(out), "--quiet")
    assert result.exit_code == 130
    assert "interrupted" in result.output
    assert leftovers(tmp_path) == []


def test_keyboard_interrupt_midway_leaves_nothing(tmp_path, monkeypatch):
    """Ctrl-C after some simulated time (records already logged): still exit 130 and nothing on disk."""
    original = simulator.engine.Engine.run

    def interrupted(self, progress=None):
        def tick(t):
            if t >= 86400:
                raise KeyboardInterrupt
        original(self, tick)

    monkeypatch.setattr(simulator.engine.Engine, "run", interrupted)
    result = run(CART, "--customers", "50", "--out", str(tmp_path / "run"), "--quiet")
    assert result.exit_code == 130
    assert leftovers(tmp_path) == []


def test_seed_and_customers_are_recorded(tmp_path):
    """--seed and --customers reach the run: summary.json records them."""
    out = tmp_path / "run"
    result = run(CART, "--customers", "30", "--seed", "5", "--out", str(out), "--quiet", "--no-report", "--set", LENIENT)
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seed"] == 5 and summary["customers"] == 30 and summary["customers_requested"] == 30


def test_suppressed_line_groups_by_reason_without_ids(tmp_path):
    """The summary's `suppressed:` line counts each reason once: a re-check suppression's detail is
    "exit_when met at release (purchase); req=N; inst=K", and its ids must not split the count. The
    reasons' counts add up to the first line's suppressed total."""
    import re
    promo = str(ROOT / "scenarios" / "promo_calendar.yaml")
    r = run(promo, "--customers", "600", "--no-report", "--out", str(tmp_path / "p"), "--set", LENIENT)
    line = next(x for x in r.output.splitlines() if x.startswith("suppressed: "))
    parts = [re.fullmatch(r"(.+) (\d+)", p).groups() for p in line[len("suppressed: "):].split(", ")]
    reasons = [reason for reason, _ in parts]
    assert "req=" not in line and len(reasons) == len(set(reasons)), line
    assert "exit_when met at release" in reasons, line
    total = int(re.search(r"(\d+) suppressed", r.output)[1])
    assert sum(int(n) for _, n in parts) == total


def test_without_a_report_the_summary_does_not_point_to_one(tmp_path):
    """promo_calendar at 300 customers has 6 recommendations: the summary lists 5 and says where the
    sixth is. With --no-report there is no report.html to point to: only summary.json."""
    result = run(str(ROOT / "scenarios" / "promo_calendar.yaml"), "--customers", "300", "--no-report",
                 "--out", str(tmp_path / "r"))
    assert "  ... and 1 more in summary.json" in result.output.splitlines()
    assert "report.html" not in result.output
