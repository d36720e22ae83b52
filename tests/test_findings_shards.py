"""Large runs are analysed in customer shards (bounded memory); the result must be exactly one pass's."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from simulator.analysis import analyse_log
from simulator.pipeline import run_scenario
from simulator.findings import LOG_KINDS
from simulator.findings.shards import partition_log, read_shard
from simulator.scenario.load import load_scenario

SCENARIOS = ["cart_abandonment", "welcome_series", "stage_nurture", "promo_calendar"]


@pytest.fixture(scope="module", params=SCENARIOS)
def run_folder(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "run"
    run_scenario(load_scenario(ROOT / "scenarios" / f"{request.param}.yaml"), customers=400, out=out)
    return out


def _load(folder):
    return load_scenario(ROOT / "scenarios" / f"{folder.parent.name.rstrip('0123456789')}.yaml")


@pytest.mark.parametrize("shard_customers, workers", [(70, 2), (199, 1)])
def test_sharded_analysis_equals_one_pass(run_folder, shard_customers, workers):
    """Findings (row for row, in order), per-kind totals, aggregates, gates and recommendations agree,
    whether the shards are analysed here or on worker processes."""
    scenario = _load(run_folder)
    customers = pd.read_parquet(run_folder / "customers.parquet")
    calls = []
    one = analyse_log(scenario, run_folder / "events.parquet", customers)
    sharded = analyse_log(scenario, run_folder / "events.parquet", customers, shard_customers=shard_customers,
                          workers=workers, progress=lambda done, total: calls.append((done, total)))
    shards = -(-400 // shard_customers)
    assert calls == [(i, shards) for i in range(1, shards + 1)]
    assert len(one.findings) > 0
    assert one.findings.to_csv(index=False) == sharded.findings.to_csv(index=False)
    assert json.dumps(one.summary(), sort_keys=True, default=str) == \
        json.dumps(sharded.summary(), sort_keys=True, default=str)
    assert one.examples() == sharded.examples()
    assert not list(run_folder.glob(".shards-*")), "shard files are removed"


def test_partition_keeps_every_row_once_in_log_order(tmp_path, run_folder):
    """Each customer's rows land in shard index % shards, in log order (also when two processes each
    partition half the row groups); other kinds are left out."""
    customers = pd.read_parquet(run_folder / "customers.parquet")["customer"].tolist()
    files = partition_log(run_folder / "events.parquet", tmp_path, customers, 3, LOG_KINDS, workers=2)
    log = pq.read_table(run_folder / "events.parquet", columns=["seq", "customer", "kind"]).to_pandas()
    log = log[log["kind"].astype(str).isin(LOG_KINDS)]
    parts = [read_shard(f)[["seq", "customer"]] for f in files]
    for i, part in enumerate(parts):
        assert part["seq"].is_monotonic_increasing
        assert set(part["customer"]) <= set(customers[i::3])
    assert sorted(pd.concat(parts)["seq"]) == sorted(log["seq"])


def test_partition_rejects_a_customer_missing_from_the_table(tmp_path, run_folder):
    customers = pd.read_parquet(run_folder / "customers.parquet")["customer"].tolist()
    with pytest.raises(ValueError, match="not in customers.parquet"):
        partition_log(run_folder / "events.parquet", tmp_path, customers[1:], 2, LOG_KINDS)


def test_run_reports_its_phases_after_the_simulation(tmp_path):
    """`status` hears each phase after the clock stops (the CLI prints these under the progress bar)."""
    lines: list[str] = []
    result = run_scenario(load_scenario(ROOT / "scenarios" / "cart_abandonment.yaml"), customers=120,
                          out=tmp_path / "run", report=True, status=lines.append)
    assert lines == [f"findings: reading {result.log.rows:,} events", "report: building report.html"]


def test_partition_copies_run_level_rows_to_every_shard(tmp_path):
    """A record without a customer is context for every shard; customers' rows go to one shard each, in
    log order across the parts two processes wrote."""
    from datetime import datetime, timezone

    from simulator.engine.events import EventLog

    path = tmp_path / "events.parquet"
    with EventLog(path, datetime(2026, 12, 1, tzinfo=timezone.utc), chunk_rows=1) as log:  # 4 row groups
        log.record(1.0, "sync", "c1", system="cdp", field="stage")
        log.record(2.0, "sync", None, system="cdp", detail="run-level")
        log.record(3.0, "sync", "c2", system="cdp", field="stage")
        log.record(4.0, "batch-run", None, system="cdp")
    files = partition_log(path, tmp_path, ["c1", "c2"], 2, ["sync"], workers=2)  # rows 0-1 and 2-3 apart
    assert [len(parts) for parts in files] == [2, 2]
    parts = [[{"seq": seq, "customer": None if pd.isna(c) else c} for seq, c in
              read_shard(f)[["seq", "customer"]].itertuples(index=False)] for f in files]
    assert parts == [[{"seq": 0, "customer": "c1"}, {"seq": 1, "customer": None}],
                     [{"seq": 1, "customer": None}, {"seq": 2, "customer": "c2"}]]


def test_sync_lags_file_matches_the_log_and_the_report_reads_either(run_folder, tmp_path):
    """sync_lags.parquet holds every arrival's lag as computed from the log; the report's lag figure
    is the same picture from the file or, for older folders without it, from the log."""
    import shutil

    from simulator.findings.context import FindingContext
    from simulator.findings.totals import link_lags
    from simulator.report.data import load_run
    from simulator.report.figures import sync_lags

    run = load_run(run_folder)
    saved = run.sync_lags
    events = run.log(["truth", "sync", "out-of-order"], ["customer", "kind", "field", "version", "t", "detail"])
    fresh = link_lags(FindingContext(run.scenario, events, run.customers))
    key = ["link", "field", "lag"]
    pd.testing.assert_frame_equal(saved.astype(str).sort_values(key).reset_index(drop=True),
                                  fresh.astype(str).sort_values(key).reset_index(drop=True))
    old = tmp_path / "old"
    shutil.copytree(run_folder, old)
    (old / "sync_lags.parquet").unlink()
    assert load_run(old).sync_lags is None
    assert sync_lags(load_run(old)) == sync_lags(run)
