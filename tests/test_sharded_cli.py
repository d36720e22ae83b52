"""Sharded runs as a user meets them (simulator/sharded.py, simulator/cli.py `run`): cases found by
trying to break `journeysim run --workers/--shards/--dask` (issue 19), each failing before its fix.

The layers: hand-derived scenarios (a person's profiles are simulated again together; a customer's
records on two throughput channels: placed channel by channel), a Hypothesis property
over identity splits, and end-to-end runs of the real command (signals, kill -9 of the parent or of a
worker, bad --workers/--dask/--shards input: exit codes, messages, nothing left behind).
"""

from __future__ import annotations

import os
import signal
import sys
import time

import numpy as np
import pyarrow as pa
import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import Engine
from simulator.engine.events import EventLog
from simulator.engine.population import ScriptedCustomer
from simulator.parallel import process_start_time
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.sharded import in_process, run_sharded
from test_sharded import _inline as run_inline
from test_sharded import _plain
from test_sharded import _sharded as run_split

PERSON_CAP = """\
scenario: person-cap
start: 2026-12-01T00:00:00Z
duration: 1d
default_timezone: UTC
population:
  size: 0
  identity: {profiles: {fixed: 1}, merge: {at: cdp, latency: {fixed: 1m}}}
  events:
    - {name: go, origin: web, once: {probability: 0, at: {fixed: 0s}}}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email, throughput: 1/m, delivery_delay: {fixed: 10s}}
sync:
  - {from: web, to: cdp, fields: [events], latency: {fixed: 0s}}
policies:
  frequency_caps:
    - {channel: email, max: 2, per: 1d}
messages:
  m: {channel: email, body: "Hi"}
  m2: {channel: email, body: "Hi again"}
journeys:
  - name: j
    reads_from: cdp
    entry: {event: go}
    steps:
      - {id: s, send: m}
      - {id: w, wait: 5m}
      - {id: s2, send: m2}
"""


def _go(name: str, t: float) -> ScriptedCustomer:
    return ScriptedCustomer(name, consent={"email": True}, timezone="UTC", events=((t, "go"),))


def _inline(scenario, people) -> tuple[pa.Table, Engine]:
    return run_inline(scenario, 1, None, people)


def _sharded(scenario, engine: Engine, people, shards: int) -> tuple[pa.Table, dict]:
    return run_split(scenario, engine, 1, None, shards, people)


def test_a_person_is_simulated_again_with_all_its_profiles():
    """ana-p2 (profile 2 of ana) carts at 0: m starts at once (empty queue), delivered at 10 s; it is
    merged into ana at 1m, so ana's email cap (2 per day) counts ana-p2's send. At 2m a1 and ana cart:
    ledger order a1 (start 120), ana (start 180, `queue wait 1m`). Both wait 5m; at 420 s a1 gets m2
    (its 2nd send), ana's m2 would be the person's 3rd: suppressed by the cap.

    Sharded, round 1 assumes no queue wait, so ana's start (120 assumed, 180 settled) is wrong and ana is
    simulated again; only ana's start changed, but without ana-p2 in that simulation nothing is merged
    into ana, the cap sees 1 send and m2 goes out (the bug: 4 extra records for ana). The whole person
    must be simulated again."""
    sc = load_scenario_text(PERSON_CAP)
    people = [_go("a1", 120.0), _go("ana", 120.0), _go("ana-p2", 0.0)]
    ref, engine = _inline(sc, people)
    ev = ref.to_pandas()
    ana = ev[ev["customer"] == "ana"]
    assert ana[ana["kind"] == "queued"]["detail"].str.startswith("queue wait 1m").tolist() == [True]
    assert ana[ana["kind"] == "delivered"]["t"].tolist() == [190.0]
    assert ana[ana["kind"] == "suppressed"][["t", "message"]].values.tolist() == [[420.0, "m2"]]
    assert ana[ana["kind"] == "suppressed"]["detail"].str.startswith("frequency-cap: email max 2 per 1d").all()
    sent = ev[ev["kind"] == "queued"][["customer", "message", "t"]].values.tolist()
    assert sent == [["ana-p2", "m", 0.0], ["a1", "m", 120.0], ["ana", "m", 120.0], ["a1", "m2", 420.0]]
    for shards in (1, 2, 3):
        table, info = _sharded(sc, engine, people, shards)
        assert _plain(table).equals(_plain(ref)), f"{shards} shards"
        assert info["rounds"] == 2  # round 2 re-simulates ana with ana-p2 and settles


TWO_QUEUES = """\
scenario: two-queues
start: 2026-12-01T00:00:00Z
duration: 1d
default_timezone: UTC
population:
  size: 0
  events:
    - {name: go, origin: web, once: {probability: 0, at: {fixed: 0s}}}
    - {name: mail, origin: web, once: {probability: 0, at: {fixed: 0s}}}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email, throughput: 1/m, delivery_delay: {fixed: 10s}}
  app: {kind: channel, channel: push, throughput: 1/m, delivery_delay: {fixed: 10s}}
sync:
  - {from: web, to: cdp, fields: [events], latency: {fixed: 0s}}
messages:
  p: {channel: push, body: "Hi"}
  m: {channel: email, body: "Hi"}
journeys:
  - {name: both, reads_from: cdp, entry: {event: go}, steps: [{id: sp, send: p}, {id: sm, send: m}]}
  - {name: mail, reads_from: cdp, entry: {event: mail}, steps: [{id: s, send: m}]}
"""


def test_a_customers_queued_records_on_two_channels_keep_their_order_in_any_shard():
    """a1 is sent email m at 0; a2 is sent push p then email m at 0. Both channels 1/m, 10 s delivery.
    Email: a1 starts at 0 (delivered 10), a2 at 60 (`queue wait 1m`, delivered 70); push: a2 at 0
    (delivered 10). Each channel's end-of-instant pass has its own priority in channel-name order, so
    a2's `queued` records are email then push whoever sent first. (Before, the first send of the instant
    from any customer scheduled the pass: one process gave email then push, a sharded round 2 that
    simulates a2 alone gave push then email; promo_calendar at 2000 customers on 7 shards showed it for
    c000010 at 2026-11-27 13:00.)"""
    sc = load_scenario_text(TWO_QUEUES)
    consent = {"email": True, "push": True}
    people = [ScriptedCustomer("a1", consent=consent, timezone="UTC", events=((0.0, "mail"),)),
              ScriptedCustomer("a2", consent=consent, timezone="UTC", events=((0.0, "go"),))]
    ref, engine = _inline(sc, people)
    ev = ref.to_pandas()
    queued = ev[ev["kind"] == "queued"]
    assert queued[["customer", "channel"]].values.tolist() == [["a1", "email"], ["a2", "email"], ["a2", "push"]]
    assert queued["detail"].str.split(";").str[0].tolist() == ["queue wait 0s", "queue wait 1m", "queue wait 0s"]
    delivered = ev[ev["kind"] == "delivered"]
    assert delivered[["customer", "channel", "t"]].values.tolist() == [
        ["a1", "email", 10.0], ["a2", "push", 10.0], ["a2", "email", 70.0]]
    pop = engine.population
    for shards in (1, 2):
        log = EventLog(None, sc.start)
        run_sharded(sc, seed=1, size=None, scripted=people, population_size=pop.size, persons=np.arange(pop.size),
                    ids=pop.ids, shards=shards, into=log)
        log.close()
        assert _plain(log.table()).equals(_plain(ref)), f"{shards} shards"


def test_shard_outputs_may_arrive_in_any_order_and_progress_says_each_round():
    """Local workers and Dask hand back shard outputs as they finish (no waiting for the whole round, so
    the progress lines are real and memory holds one output at a time): the log must not depend on that
    order. cart_abandonment at 60 customers on 3 shards, outputs taken in order and reversed."""
    sc = load_scenario(ROOT / "scenarios" / "cart_abandonment.yaml")
    log = EventLog(None, sc.start)
    engine = Engine(sc, seed=7, log=log, size=60)
    engine.run()
    log.close()
    ref = log.table()
    pop = engine.population
    for order in (list, lambda outs: list(reversed(list(outs)))):
        said: list[str] = []
        out = EventLog(None, sc.start)
        info = run_sharded(sc, seed=7, size=60, scripted=(), population_size=pop.size, persons=np.arange(pop.size),
                           ids=pop.ids, shards=3, into=out, execute=lambda tasks: order(in_process(tasks)),
                           say=said.append)
        out.close()
        assert _plain(out.table()).equals(_plain(ref))
        assert said[0] == "simulating: round 1: 60 customers, 3 shards"
        assert [s.split(" (")[0] for s in said[1:4]] == [f"simulating: round 1: {k} of 3 shards done" for k in (1, 2, 3)]
        rounds = info["rounds"]
        assert said[-1] == f"simulating: merging the shards' logs ({rounds} round{'s' if rounds != 1 else ''})"


def _wait_for_a_shard(proc, where) -> None:
    """Poll every 10 ms until a worker has created its shard folder somewhere under ``where``."""
    deadline = time.monotonic() + 120
    while not list(where.rglob("journeysim-shard-*")):
        assert proc.poll() is None, proc.communicate()[1].decode()
        assert time.monotonic() < deadline, "no shard started within 120 s"
        time.sleep(0.01)


def _journeysim(*args: str, env: dict[str, str]):
    from test_processes import journeysim

    return journeysim(*args, env=env)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_an_interrupted_sharded_run_leaves_no_folder_no_temporary_file_and_no_worker(tmp_path):
    """SIGTERM to `journeysim run --workers 2` while both workers simulate their shards (seen by the
    shard folders they create): exit 143, no --out folder (nor its .partial-run), nothing left in TMPDIR
    (the workers are killed, so they could not remove their own temporary folders: those must live in
    the driver's, removed after the workers are stopped), and no worker left."""
    from test_processes import alive, descendants

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "X"
    proc = _journeysim("run", str(ROOT / "benchmarks" / "reference.yaml"), "--customers", "5000", "--workers", "2",
                       "--out", str(out), "--quiet", "--no-report", env={"TMPDIR": str(tmp)})
    _wait_for_a_shard(proc, tmp_path)
    kids = descendants(proc.pid)
    starts = {pid: process_start_time(pid) for pid in kids}
    os.kill(proc.pid, signal.SIGTERM)
    _stdout, stderr = proc.communicate(timeout=60)
    text = stderr.decode()
    assert proc.returncode == 143, text
    assert "interrupted (SIGTERM): no output folder was written" in text and "Traceback" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]
    assert list(tmp.iterdir()) == []
    time.sleep(0.5)
    assert [pid for pid in kids if alive(pid, starts[pid])] == []


CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")


@pytest.mark.parametrize(("args", "message"), [
    (["--workers", "2", "--dask", "tcp://127.0.0.1:1"], "give --workers or --dask, not both"),
    (["--workers", "1", "--dask", "tcp://127.0.0.1:1"], "give --workers or --dask, not both"),
    (["--dask", "nonsense"], "--dask 'nonsense' is not a scheduler address"),
    (["--dask", "tcp://127.0.0.1:1"], "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
], ids=["workers-and-dask", "workers-1-and-dask", "not-an-address", "no-scheduler"])
def test_bad_split_options_exit_2_with_the_message_and_write_nothing(tmp_path, args, message):
    """A Dask address is checked (and the scheduler reached) before the run starts: the message is Dask's
    own, not wrapped in 'the run failed at ... after 0 events: UsageError(...)', and no '<out>.failed'
    folder is left. --workers with --dask is ambiguous (the cluster has its own workers): refused, as
    `journeysim sweep` does."""
    pytest.importorskip("distributed")
    from click.testing import CliRunner

    from simulator.cli import cli

    result = CliRunner().invoke(cli, ["run", CART, "--customers", "20", "--out", str(tmp_path / "x"), "--quiet",
                                      "--no-report", *args])
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {message}"), result.output
    assert "Traceback" not in result.output and "the run failed" not in result.output
    assert list(tmp_path.iterdir()) == []


def test_more_shards_than_customers_runs_the_non_empty_ones(tmp_path):
    """--shards 1000 with 50 customers: customer i is in shard i % 1000, so 50 shards hold one customer
    each and 950 are empty; the log is the one-process log and the summary says 50 shards ran."""
    from click.testing import CliRunner

    from simulator.cli import cli

    common = ["run", CART, "--customers", "50", "--quiet", "--no-report", "--set", 'gates={consent-violation: "<= 100%"}']
    one = CliRunner().invoke(cli, [*common, "--out", str(tmp_path / "one")])
    many = CliRunner().invoke(cli, [*common, "--out", str(tmp_path / "many"), "--shards", "1000"])
    assert one.exit_code == many.exit_code == 0, one.output + many.output
    for name in ("events.parquet", "findings.csv"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "many" / name).read_bytes(), name
    import json

    assert json.loads((tmp_path / "many" / "summary.json").read_text())["sharding"]["shards"] == 50


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_kill9_of_a_sharded_run_leaves_only_its_partial_folder_which_the_next_run_removes(tmp_path):
    """kill -9 of `journeysim run --workers 2` during round 1: both workers are gone within 5 s; the
    shards' temporary files are inside the run's own `.X.partial-run` (nothing in TMPDIR, where nobody
    would ever remove them), and the next run into the same parent folder removes that."""
    from test_processes import descendants, kill9_and_check

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    runs = tmp_path / "runs"
    proc = _journeysim("run", str(ROOT / "benchmarks" / "reference.yaml"), "--customers", "5000", "--workers", "2",
                       "--out", str(runs / "X"), "--quiet", "--no-report", env={"TMPDIR": str(tmp)})
    _wait_for_a_shard(proc, runs)
    kill9_and_check(proc, descendants(proc.pid))
    assert list(tmp.iterdir()) == []
    partial = runs / ".X.partial-run"
    assert [p.name for p in runs.iterdir()] == [partial.name]
    assert list(partial.rglob("journeysim-shard-*"))
    from click.testing import CliRunner

    from simulator.cli import cli

    again = CliRunner().invoke(cli, ["run", CART, "--customers", "20", "--out", str(runs / "next"), "--quiet",
                                     "--no-report", "--set", 'gates={consent-violation: "<= 100%"}'])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in runs.iterdir()) == ["next"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")
def test_a_worker_killed_from_outside_fails_the_run_with_a_plain_message(tmp_path):
    """kill -9 of one worker of `journeysim run --workers 2` (the out-of-memory killer) during round 1:
    exit 2 with the same message as in the findings pass, not 'the run failed at <start> after 0
    events: BrokenProcessPool(...)' (the driver's clock never moves in a sharded run); X.failed says why."""
    from test_processes import descendants

    out = tmp_path / "X"
    proc = _journeysim("run", str(ROOT / "benchmarks" / "reference.yaml"), "--customers", "5000", "--workers", "2",
                       "--out", str(out), "--quiet", "--no-report", env={})
    _wait_for_a_shard(proc, tmp_path)
    os.kill(descendants(proc.pid)[0], signal.SIGKILL)
    _stdout, stderr = proc.communicate(timeout=60)
    text = stderr.decode()
    assert proc.returncode == 2, text
    assert text.startswith("error: the sharded simulation failed: a worker process died before it finished "
                           "(killed from outside"), text
    assert "Traceback" not in text and "BrokenProcessPool" not in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["X.failed"]


def test_a_sharded_run_of_no_customers_keeps_the_batch_runs(tmp_path):
    """benchmarks/reference.yaml with --customers 0: the log is only its run-level records, the
    crm-to-cdp batch link's runs (`batch-run`, records=0), every 4 h from 01:00 (6 a day) over 14 days: 84.
    Split into shards, every shard was empty and dropped, so the log was empty; one (empty) shard must
    still run."""
    from click.testing import CliRunner

    from simulator.cli import cli
    from simulator.engine.events import read_events

    ref = str(ROOT / "benchmarks" / "reference.yaml")
    for name, split in (("one", []), ("two", ["--workers", "2"]), ("seven", ["--shards", "7"])):
        result = CliRunner().invoke(cli, ["run", ref, "--customers", "0", "--out", str(tmp_path / name), "--quiet",
                                          "--no-report", *split])
        assert result.exit_code == 0, result.output
    ev = read_events(tmp_path / "one")
    assert ev["kind"].astype(str).tolist() == ["batch-run"] * 84
    assert ev["detail"].str.contains("records=0;").all()
    for name in ("two", "seven"):
        assert (tmp_path / name / "events.parquet").read_bytes() == (tmp_path / "one" / "events.parquet").read_bytes()


_IDENTITY = ("population.identity={profiles: {choice: {1: 0.5, 2: 0.4, 3: 0.1}}, "
             "merge: {at: cdp, latency: {fixed: 6h}, never: 0.2}}")
_ID_REF: dict[int, tuple[pa.Table, Engine]] = {}
_ID_SCENARIO: dict[str, object] = {}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_identity_runs_give_the_same_log_for_any_split_that_keeps_persons_together(data):
    """benchmarks/reference.yaml with 1-3 profiles per person merged after 6 h (300 persons): any shard
    count and any assignment of persons to shards (a person's profiles together, as assign_shards does)
    gives the one-process log. Before persons were simulated again whole, seeds 1, 2 and 3 all differed."""
    sc = _ID_SCENARIO.setdefault("sc", load_scenario(ROOT / "benchmarks" / "reference.yaml", [_IDENTITY]))
    seed = data.draw(st.integers(1, 4), label="seed")
    if seed not in _ID_REF:
        log = EventLog(None, sc.start)
        engine = Engine(sc, seed=seed, log=log, size=300)
        engine.run()
        log.close()
        _ID_REF[seed] = (log.table(), engine)
    ref, engine = _ID_REF[seed]
    pop = engine.population
    persons = pop.profiles.person
    shards = data.draw(st.integers(1, 6), label="shards")
    people = np.unique(persons)
    shard_of_person = dict(zip(people.tolist(), data.draw(
        st.lists(st.integers(0, shards - 1), min_size=len(people), max_size=len(people)), label="person shards")))
    assignment = np.array([shard_of_person[p] for p in persons.tolist()])
    out = EventLog(None, sc.start)
    run_sharded(sc, seed=seed, size=300, scripted=(), population_size=pop.size, persons=persons, ids=pop.ids,
                shards=shards, into=out, assignment=assignment)
    out.close()
    assert _plain(out.table()).equals(_plain(ref))

