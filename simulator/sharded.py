"""One run split into customer shards, with the same result whatever the number of shards.

Customers interact only through the channels' throughput queues (:mod:`simulator.engine.ledger`) and the
run-level records of batch runs (whose record counts add up). Everything else a customer meets is its
own (its journeys, caps, consent, replicas, per-customer random draws) or exogenous (batch timetables,
outages, segment schedules), so a shard can simulate its customers over the whole horizon alone, given
when each of their sends leaves the channel queue.

Fixed-point relaxation at the channel boundary (docs/architecture.md):

1. every shard simulates its customers, assuming no queue wait for sends it has no start for, and
   returns its sends' queue requests;
2. the ledger places all requests of a channel in one order (:func:`simulator.engine.ledger.settle`);
3. customers with a send whose start differs from the one they were simulated with are simulated
   again with the new starts; repeat until no start changes.

A queue's outcome depends only on earlier requests and every delivery comes after its request, so
each round fixes at least one more send in time order and the loop ends; the fixed point is the one
solution a single process computes with :class:`simulator.engine.ledger.InlineQueue`. Only customers whose
starts changed are simulated again; only the final round's records are kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import math
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simulator.errors import EngineError
from simulator.engine.events import EventLog, canonical_order
from simulator.engine.ledger import settle
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.model import Scenario
from simulator.engine.shard import RunRecord, Shard
from simulator.engine.systems import run_detail

__all__ = ["ShardTask", "ShardOutput", "simulate_shard", "run_sharded", "assign_shards", "MAX_ROUNDS"]

#: Rounds of relaxation before a run gives up (each round fixes at least one more send in time order;
#: real scenarios settle in a few).
MAX_ROUNDS = 200


@dataclass
class ShardTask:
    """What a worker needs to simulate some customers of a run."""

    scenario: Scenario
    seed: int
    size: int | None
    scripted: tuple[ScriptedCustomer, ...]
    customers: np.ndarray
    assumed: dict[str, dict[tuple[int, int], float]]
    round: int = 0
    shard: int = 0
    scratch: str | None = None  # a folder of the driver's for temporary files (local workers), else the system's


@dataclass
class ShardOutput:
    """What a worker gives back: its customers' records and what other shards depend on."""

    customers: np.ndarray
    records: bytes  # the customers' event log: an Arrow IPC stream (LZ4) in canonical order
    requests: dict[str, np.ndarray]  # channel -> rows of (t, customer, n, start used), float64
    runs: list[RunRecord]
    tallies: np.ndarray  # rows of (customer, index in runs, count), int64
    round: int = 0
    shard: int = 0


def simulate_shard(task: ShardTask) -> ShardOutput:
    """Simulate ``task.customers`` over the whole horizon with the assumed queue starts."""
    from simulator.engine import Engine

    scratch = task.scratch if task.scratch and os.path.isdir(task.scratch) else None  # not there: a remote worker
    with tempfile.TemporaryDirectory(prefix="journeysim-shard-", dir=scratch) as tmp:
        path = Path(tmp) / "events.arrow"
        with EventLog(path, task.scenario.start, arrow=True) as log:
            shard = Shard(np.asarray(task.customers, dtype=np.int64), assumed=task.assumed)
            engine = Engine(task.scenario, seed=task.seed, log=log, size=task.size, scripted=task.scripted,
                            shard=shard)
            engine.run()
        records = path.read_bytes()
    requests = {ch: np.asarray(rows, dtype=np.float64).reshape(-1, 4) for ch, rows in shard.requests.items()}
    tallies = np.asarray(shard.tallies, dtype=np.int64).reshape(-1, 3)
    return ShardOutput(shard.customers, records, requests, shard.runs, tallies, task.round, task.shard)


def assign_shards(persons: np.ndarray, shards: int) -> np.ndarray:
    """Shard of every customer: persons round-robin, all profiles of one person together (identity merges,
    person caps and opt-outs stay inside one shard)."""
    return (np.asarray(persons, dtype=np.int64) % shards).astype(np.int64)


Execute = Callable[[list[ShardTask]], Iterable[ShardOutput]]


def in_process(tasks: list[ShardTask]) -> Iterator[ShardOutput]:
    """Run the tasks one after the other in this process."""
    for task in tasks:
        yield simulate_shard(task)


@dataclass
class _State:
    """The current output of every customer (the latest round that simulated it)."""

    size: int
    spill: Path  # where each output's records wait for the merge
    outputs: list[ShardOutput] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    owner: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.owner = np.full(self.size, -1, dtype=np.int64)

    def add(self, out: ShardOutput) -> None:
        """Keep ``out`` (its records go to a file: only the final merge reads them)."""
        k = len(self.outputs)
        self.owner[out.customers] = k
        path = self.spill / f"round{out.round}-shard{out.shard}.arrow"
        path.write_bytes(out.records)
        out.records = b""
        self.outputs.append(out)
        self.files.append(path)

    def current(self, k: int, customers: np.ndarray) -> np.ndarray:
        """Mask of ``customers`` (indices) whose current output is output ``k``."""
        return self.owner[customers.astype(np.int64)] == k

    def requests(self, channel: str) -> np.ndarray:
        parts = []
        for k, out in enumerate(self.outputs):
            rows = out.requests.get(channel)
            if rows is not None and len(rows):
                parts.append(rows[self.current(k, rows[:, 1])])
        return np.concatenate(parts) if parts else np.zeros((0, 4))


def run_sharded(scenario: Scenario, *, seed: int, size: int | None, scripted: Sequence[ScriptedCustomer],
                population_size: int, persons: np.ndarray, ids: Sequence[str], shards: int, into: EventLog,
                execute: Execute = in_process, assignment: np.ndarray | None = None,
                say: Callable[[str], None] | None = None, max_rounds: int = MAX_ROUNDS,
                scratch: str | Path | None = None) -> dict[str, Any]:
    """Run ``scenario`` as ``shards`` shards (``execute`` runs a round's tasks, in any order), append the
    merged log to ``into`` in canonical order, and return figures on the relaxation (rounds, customers
    simulated again). ``assignment`` (customer -> shard) defaults to :func:`assign_shards`; any
    assignment gives the same log. ``scratch``: a folder for every temporary file, the workers' too
    (the caller removes it after stopping them, so a killed worker leaves nothing behind)."""
    say = say or (lambda _text: None)
    persons = np.asarray(persons, dtype=np.int64)
    profiles = len(np.unique(persons)) < len(persons)  # population.identity: some persons have several profiles
    shard_of = assign_shards(persons, shards) if assignment is None else np.asarray(assignment, dtype=np.int64)
    spacing = {ch: 1.0 / scenario.systems[system].throughput
               for ch, system in scenario.channel_systems.items() if scenario.systems[system].throughput}
    base = dict(scenario=scenario, seed=seed, size=size, scripted=tuple(scripted),
                scratch=None if scratch is None else str(scratch))
    tasks = [ShardTask(**base, customers=np.flatnonzero(shard_of == s), assumed={}, round=0, shard=s)
             for s in range(shards)]
    # more shards than customers (persons): the empty ones are dropped, but one always runs (with no
    # customers at all it still gives the run-level records: batch runs of 0 records)
    tasks = [t for t in tasks if len(t.customers)] or tasks[:1]
    used = len(tasks)
    again_total = 0
    rounds = 0
    begun = time.perf_counter()
    timing: list[dict[str, Any]] = []  # per round: customers simulated, seconds simulating, seconds settling
    with tempfile.TemporaryDirectory(prefix="journeysim-shards-" if scratch is None else "spill-", dir=scratch) as spill:
        state = _State(population_size, Path(spill))
        while True:
            rounds += 1
            total = sum(len(t.customers) for t in tasks)
            why = "" if rounds == 1 else " whose queue starts changed"
            say(f"simulating: round {rounds}: {_count(total, 'customer')}{why}, {_count(len(tasks), 'shard')}")
            done = 0
            started = time.perf_counter()
            for out in execute(tasks):  # as they finish: each is written to the spill folder at once
                state.add(out)
                done += 1
                say(f"simulating: round {rounds}: {done} of {_count(len(tasks), 'shard')} done "
                    f"({time.perf_counter() - begun:.0f} s)")
            simulated = time.perf_counter()
            again, settled = _unsettled(state, spacing)
            timing.append({"customers": total, "simulate_s": round(simulated - started, 3),
                           "settle_s": round(time.perf_counter() - simulated, 3)})
            if not len(again):
                break
            if profiles:
                again = _whole_persons(again, persons)
            if rounds >= max_rounds:
                raise EngineError(f"the channel queues did not settle after {max_rounds} rounds of the sharded run "
                                  f"({len(again)} customers still change); run it with --workers 1")
            again_total += len(again)
            tasks = [ShardTask(**base, customers=members, assumed=_assumed(settled, members), round=rounds, shard=s)
                     for s in np.unique(shard_of[again]).tolist()
                     for members in [again[shard_of[again] == s]]]
        say(f"simulating: merging the shards' logs ({rounds} round{'s' if rounds != 1 else ''})")
        started = time.perf_counter()
        _merge(state, ids, scenario, into)
        merge_s = round(time.perf_counter() - started, 3)
    return {"shards": used, "rounds": rounds, "simulated_again": again_total, "per_round": timing,
            "merge_s": merge_s}


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _whole_persons(customers: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """``customers`` and every other profile of their persons (population.identity): a profile's records
    depend on its person's other profiles (person caps, merged opt-outs, the merge itself), so a person is
    simulated again whole, never one profile without the others."""
    return np.flatnonzero(np.isin(persons, persons[customers]))


def _unsettled(state: _State, spacing: dict[str, float]) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Customers with a send whose queue start (from every current request) differs from the one they were
    simulated with, and each channel's requests with their starts."""
    dirty: list[np.ndarray] = []
    settled: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for ch, gap in sorted(spacing.items()):
        rows = state.requests(ch)
        if not len(rows):
            continue
        customer, n = rows[:, 1].astype(np.int64), rows[:, 2].astype(np.int64)
        starts = settle(rows[:, 0], customer, n, gap)
        dirty.append(customer[starts != rows[:, 3]])
        settled[ch] = (rows, starts)
    return (np.unique(np.concatenate(dirty)) if dirty else np.zeros(0, dtype=np.int64)), settled


def _assumed(settled: dict[str, tuple[np.ndarray, np.ndarray]], members: np.ndarray
             ) -> dict[str, dict[tuple[int, int], float]]:
    """The starts ``members``' known sends take, per channel (what they are simulated with next)."""
    out: dict[str, dict[tuple[int, int], float]] = {}
    for ch, (rows, starts) in settled.items():
        keep = np.isin(rows[:, 1].astype(np.int64), members)
        keys = zip(rows[keep, 1].astype(np.int64).tolist(), rows[keep, 2].astype(np.int64).tolist())
        out[ch] = dict(zip(keys, starts[keep].tolist()))
    return out


def _current_batches(state: _State, k: int, ids_array: pa.Array) -> Iterator[pa.Table]:
    """Output ``k``'s records of the customers it is still current for, in its (canonical) order."""
    out = state.outputs[k]
    mine = state.current(k, out.customers)
    if not mine.any():
        return
    value_set = None if mine.all() else ids_array.take(pa.array(out.customers[mine]))
    reader = pa.ipc.open_stream(pa.memory_map(str(state.files[k])))  # LZ4: batches are decompressed copies
    for batch in reader:
        table = pa.Table.from_batches([batch])
        if value_set is not None:
            table = table.filter(pc.is_in(table.column("customer"), value_set=value_set))
        if table.num_rows:
            yield table


def _merge(state: _State, ids: Sequence[str], scenario: Scenario, into: EventLog) -> None:
    """Every customer's records from its latest simulation, plus the run-level records with their counts
    summed over all customers, appended to ``into`` in canonical order, a time slice at a time (each
    output is already in canonical order, so memory holds about one batch per output)."""
    ids_array = pa.array(list(ids), type=pa.string())
    streams = [_current_batches(state, k, ids_array) for k in range(len(state.outputs))]
    streams.append(iter([_run_records(state, scenario)]))
    merge_streams(streams, into)


def merge_streams(streams: list[Iterator[pa.Table]], into: EventLog) -> None:
    """Append the records of ``streams`` (each already in canonical order, no customer in two streams) to
    ``into`` in canonical order, a time slice at a time: memory holds about one batch per stream."""
    n = len(streams)
    buffers: dict[int, pa.Table] = {}
    exhausted: set[int] = set()

    def refill(i: int) -> None:
        nxt = next(streams[i], None)
        if nxt is None:
            exhausted.add(i)
        else:
            buffers[i] = nxt if i not in buffers else pa.concat_tables([buffers[i], nxt])

    def last_t(i: int) -> float:
        return float(buffers[i].column("t")[-1].as_py())

    while True:
        for i in range(n):
            while i not in exhausted and (i not in buffers or buffers[i].num_rows == 0):
                refill(i)
        if not any(b.num_rows for b in buffers.values()):
            break
        open_ = [i for i in range(n) if i not in exhausted]
        horizon = min(last_t(i) for i in open_) if open_ else math.inf  # every record before it is here
        parts = []
        for i, buf in buffers.items():
            cut = buf.num_rows if horizon == math.inf else \
                int(np.searchsorted(buf.column("t").to_numpy(), horizon, side="left"))
            if cut:
                parts.append(buf.slice(0, cut))
                buffers[i] = buf.slice(cut)
        if parts:
            into.extend_ordered(canonical_order(pa.concat_tables(parts)))
        else:  # the streams that set the horizon hold only records at it: read on
            for i in open_:
                if last_t(i) == horizon:
                    refill(i)


def _run_records(state: _State, scenario: Scenario) -> pa.Table:
    """The run-level records (every shard has the same ones; their counts are the sum of the current tallies)."""
    runs = state.outputs[0].runs if state.outputs else []
    counts = np.zeros(len(runs), dtype=np.int64)
    for k, out in enumerate(state.outputs):
        rows = out.tallies
        if len(rows):
            rows = rows[state.current(k, rows[:, 0])]
            np.add.at(counts, rows[:, 1], rows[:, 2])
    return run_records_table(runs, counts, scenario)


def run_records_table(runs: Sequence[RunRecord], counts: np.ndarray, scenario: Scenario) -> pa.Table:
    """The run-level records with their summed counts, as log records in canonical order."""
    log = EventLog(None, scenario.start)
    for (t, kind, system, form, args), n in zip(runs, counts.tolist()):
        log.record(t, kind, None, system=system, detail=run_detail(form, n, args))
    log.close()
    return log.table()


def local_pool(workers: int) -> tuple[Execute, Callable[[bool], None]]:
    """Run tasks on ``workers`` local processes (forked; they never outlive this one). Returns the
    executor and its closer (``close(abort)``)."""
    from concurrent.futures import ProcessPoolExecutor, as_completed

    from simulator.interrupts import signals_deferred
    from simulator.parallel import close_pool, process_context

    pool = ProcessPoolExecutor(workers, mp_context=process_context(fork=True))

    def execute(tasks: list[ShardTask]) -> Iterator[ShardOutput]:
        with signals_deferred():  # submitting starts the worker processes
            futures = [pool.submit(simulate_shard, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()

    return execute, lambda abort: close_pool(pool, abort=abort)


def dask_cluster(address: Any) -> tuple[Execute, Callable[[bool], None], int]:
    """Run tasks on the Dask cluster at ``address`` (``tcp://host:port``, a cluster object, or a connected
    ``distributed.Client``, which stays open; the ``journeysim[dask]`` extra). Returns the executor, its
    closer and the number of workers it has."""
    from simulator.sweep.backends import dask_client

    owned = not _is_client(address)
    client = dask_client(address) if owned else address
    running: list[Any] = []

    def execute(tasks: list[ShardTask]) -> Iterator[ShardOutput]:
        from distributed import as_completed

        futures = client.map(simulate_shard, tasks, pure=False)
        running[:] = futures
        for future in as_completed(futures, loop=client.loop):
            yield future.result()
            future.release()

    def close(abort: bool) -> None:
        if owned:
            client.close()
        elif abort and running:
            client.cancel(running)

    workers = max(1, len(client.scheduler_info().get("workers", {})))
    return execute, close, workers


def _is_client(obj: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:
        return False
    return isinstance(obj, Client)


def dask_address(dask: Any) -> str:
    """The scheduler address of ``dask`` (an address, a cluster object or a client), as the summary says it."""
    if _is_client(dask):
        return str(dask.scheduler.address)
    return str(getattr(dask, "scheduler_address", dask))


def run_on(engine: Any, *, workers: int = 1, shards: int | None = None, dask: Any = None,
           say: Callable[[str], None] | None = None, scratch: str | Path | None = None) -> dict[str, Any]:
    """Simulate ``engine``'s run (built, not run) as customer shards and write the merged log into its log.

    Local processes (``workers``) or a Dask cluster (``dask``); ``shards`` defaults to the number of
    workers. Temporary files go to a folder made in ``scratch`` (default: the system's temp dir).
    Returns the relaxation's figures (shards, rounds, customers simulated again)."""
    pop = engine.population
    persons = pop.profiles.person if pop.profiles is not None else np.arange(pop.size)
    # Every temporary file of the run (the spilled shard logs, and the local workers' own) lives under one
    # folder, removed only after the workers are stopped: an interrupted run leaves nothing in the temp dir.
    with tempfile.TemporaryDirectory(prefix="journeysim-shards-", dir=scratch, ignore_cleanup_errors=True) as folder:
        closer: Callable[[bool], None] | None = None
        local = None  # a Dask cluster's workers may be on other machines: they use their own temp dir
        if dask is not None:
            execute, closer, cluster = dask_cluster(dask)
            shards = shards or 2 * cluster
        elif workers > 1:
            execute, closer = local_pool(workers)
            shards = shards or workers
            local = folder
        else:
            execute = in_process
            shards = shards or 1
            local = folder
        finished = False
        try:
            info = run_sharded(engine.scenario, seed=engine.seed, size=engine.size, scripted=engine.scripted,
                               population_size=pop.size, persons=persons, ids=pop.ids, shards=shards,
                               into=engine.log, execute=execute, say=say, scratch=local)
            finished = True
        finally:
            if closer is not None:
                closer(not finished)
    return {**info, "workers": workers if dask is None else None,
            "dask": None if dask is None else dask_address(dask)}
