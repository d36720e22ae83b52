"""Sharded runs (simulator/sharded.py): the event log does not depend on how customers are split.

Three layers: a congested blast derived by hand (queue starts feed an engagement branch, so the
relaxation needs several rounds), shard-count invariance on every bundled scenario and the benchmark
reference at small sizes (1/2/3/7 shards in this process), a Hypothesis property over shard counts and
arbitrary assignments, and end-to-end runs on local worker processes and a Dask LocalCluster.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import Engine
from simulator.pipeline import run_scenario
from simulator.engine.events import EventLog
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.sharded import run_sharded

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml")) + [ROOT / "benchmarks" / "reference.yaml"]

BLAST = """\
scenario: blast
start: 2026-12-01T00:00:00Z
duration: 1d
default_timezone: UTC
population:
  size: 0
  events:
    - {name: go, origin: web, once: {probability: 1, at: {fixed: 0s}}}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email, throughput: 1/m, delivery_delay: {fixed: 10s}}
  gw: {kind: channel, channel: sms, throughput: 1/m, delivery_delay: {fixed: 10s}}
sync:
  - {from: web, to: cdp, fields: [events], latency: {fixed: 0s}}
  - {from: esp, to: cdp, fields: [events], latency: {fixed: 0s}}
policies:
  consent_required: [email, sms]
messages:
  m: {channel: email, body: "Hi"}
  fast: {channel: sms, body: "Thanks. Reply STOP to opt out"}
  slow: {channel: sms, body: "Still there? Reply STOP to opt out"}
journeys:
  - name: j
    reads_from: cdp
    entry: {event: go}
    steps:
      - {id: s, send: m}
      - {id: wu, wait_until: {event: email_delivered, timeout: 150s, then: f, on_timeout: w}}
      - {id: w, send: slow, next: end}
      - {id: f, send: fast}
"""


def _plain(table: pa.Table) -> pa.Table:
    """One chunk, ``kind`` as text: tables with the same records compare equal whatever their batching."""
    kind = table.column("kind").cast(pa.string())
    return table.set_column(table.schema.get_field_index("kind"), "kind", kind).combine_chunks()


def _same(a: pa.Table, b: pa.Table) -> bool:
    return _plain(a).equals(_plain(b))


def _people(n: int) -> list[ScriptedCustomer]:
    return [ScriptedCustomer(f"a{i}", consent={"email": True, "sms": True}, timezone="UTC", events=((0.0, "go"),))
            for i in range(1, n + 1)]


def _inline(scenario, seed: int, size: int | None, scripted=()) -> tuple[pa.Table, Engine]:
    log = EventLog(None, scenario.start)
    engine = Engine(scenario, seed=seed, log=log, size=size, scripted=scripted)
    engine.run()
    log.close()
    return log.table(), engine


def _sharded(scenario, engine: Engine, seed: int, size: int | None, shards: int, scripted=(),
             assignment: np.ndarray | None = None) -> tuple[pa.Table, dict]:
    pop = engine.population
    persons = pop.profiles.person if pop.profiles is not None else np.arange(pop.size)
    log = EventLog(None, scenario.start)
    info = run_sharded(scenario, seed=seed, size=size, scripted=scripted, population_size=pop.size, persons=persons,
                       ids=pop.ids, shards=shards, assignment=assignment, into=log)
    log.close()
    return log.table(), info


def test_congested_blast_by_hand():
    """Five customers enter at 0; email at 1/m with a 10 s delivery: queue starts 0, 60, 120, 180, 240
    (ledger order: customer index), deliveries at 10, 70, 130, 190, 250. The wait for the delivery times
    out at 150 s: a1-a3 take `fast` at 10, 70 and 130, a4 and a5 take `slow` at 150. SMS at 1/m: a1-a3
    start at once; a4 asks at 150 but the previous start was 130, so 190; a5 (same instant, next in
    ledger order) 250. SMS deliveries: 20, 80, 140, 200, 260. Sharded, round 1 assumes no wait (everyone
    fast at 10), so the relaxation needs more rounds to reach the same log."""
    sc = load_scenario_text(BLAST)
    people = _people(5)
    ref, engine = _inline(sc, 1, None, people)
    ev = ref.to_pandas()
    email = ev[(ev["kind"] == "delivered") & (ev["channel"] == "email")]
    assert email[["customer", "t"]].values.tolist() == [["a1", 10.0], ["a2", 70.0], ["a3", 130.0], ["a4", 190.0],
                                                        ["a5", 250.0]]
    sends = ev[(ev["kind"] == "send") & (ev["channel"] == "sms")]
    assert sends[["customer", "message", "t"]].values.tolist() == [
        ["a1", "fast", 10.0], ["a2", "fast", 70.0], ["a3", "fast", 130.0], ["a4", "slow", 150.0], ["a5", "slow", 150.0]]
    sms = ev[(ev["kind"] == "delivered") & (ev["channel"] == "sms")]
    assert sorted(sms["t"].tolist()) == [20.0, 80.0, 140.0, 200.0, 260.0]
    queued = ev[(ev["kind"] == "queued") & (ev["channel"] == "sms")].set_index("customer")["detail"]
    assert queued["a4"].startswith("queue wait 40s") and queued["a5"].startswith("queue wait 1m40s")
    for shards in (1, 2, 3, 5):
        table, info = _sharded(sc, engine, 1, None, shards, people)
        assert _same(table, ref), f"{shards} shards"
        assert info["rounds"] >= 2  # round 1's no-wait assumption was wrong for a2-a5


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_every_bundled_scenario_gives_the_same_log_on_1_2_3_and_7_shards(path):
    sc = load_scenario(path)
    ref, engine = _inline(sc, sc.seed, 120)
    for shards in (1, 2, 3, 7):
        table, _info = _sharded(sc, engine, sc.seed, 120, shards)
        assert table.num_rows == ref.num_rows, f"{path.stem}: {shards} shards"
        assert _same(table, ref), f"{path.stem}: {shards} shards"


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_assignment_of_customers_to_shards_gives_the_same_log(data):
    """Shard count and which customer goes where are arbitrary: the log never changes."""
    sc = load_scenario(ROOT / "scenarios" / "cart_abandonment.yaml")
    ref, engine = _REF.setdefault("cart", _inline(sc, 7, 60))
    n = engine.population.size
    shards = data.draw(st.integers(1, 8), label="shards")
    assignment = np.array(data.draw(st.lists(st.integers(0, shards - 1), min_size=n, max_size=n), label="assignment"))
    table, _info = _sharded(sc, engine, 7, 60, shards, assignment=assignment)
    assert _same(table, ref)


_REF: dict[str, tuple[pa.Table, Engine]] = {}


def test_run_on_two_local_workers_writes_the_same_folder(tmp_path):
    """End to end: `run_scenario(workers=2)` writes the same events.parquet bytes and findings.csv."""
    sc = load_scenario(ROOT / "scenarios" / "welcome_series.yaml")
    one = run_scenario(sc, customers=150, out=tmp_path / "one")
    two = run_scenario(sc, customers=150, out=tmp_path / "two", workers=2)
    for name in ("events.parquet", "findings.csv", "customers.parquet"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert one.summary["counts"] == two.summary["counts"]
    assert one.summary["findings"] == two.summary["findings"]


def test_run_on_a_dask_local_cluster_writes_the_same_log(tmp_path):
    distributed = pytest.importorskip("distributed")
    sc = load_scenario(ROOT / "scenarios" / "cart_abandonment.yaml")
    run_scenario(sc, customers=100, out=tmp_path / "one")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, protocol="tcp",
                                  dashboard_address=None) as cluster:
        run_scenario(sc, customers=100, out=tmp_path / "dask", dask=cluster.scheduler_address)
    assert (tmp_path / "one" / "events.parquet").read_bytes() == (tmp_path / "dask" / "events.parquet").read_bytes()
