"""Large runs are analysed in customer shards (bounded memory); the result must be exactly one pass's."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import ROOT

from simulator.analysis import analyse_log
from simulator.engine import run_scenario
from simulator.findings import LOG_KINDS
from simulator.findings.shards import partition_log
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
    """Each customer's rows land in shard index % shards, in log order; other kinds are left out."""
    customers = pd.read_parquet(run_folder / "customers.parquet")["customer"].tolist()
    files = partition_log(run_folder / "events.parquet", tmp_path, customers, 3, LOG_KINDS)
    log = pq.read_table(run_folder / "events.parquet", columns=["seq", "customer", "kind"]).to_pandas()
    log = log[log["kind"].astype(str).isin(LOG_KINDS)]
    parts = [pq.read_table(f, columns=["seq", "customer"]).to_pandas() for f in files]
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
