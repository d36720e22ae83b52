"""Split an event log into customer shards, so a large run's findings pass holds one shard in memory.

Every detector looks at one customer's records at a time, so the findings of a shard are exactly the
findings of those customers in a pass over the whole log. One streaming read writes each shard's
rows, in log order and with the log's own column types, to its own temporary file; a shard then reads
back as the same DataFrame a read of the whole log would give for those customers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simulator.errors import UsageError
from simulator.interrupts import signals_deferred
from simulator.parallel import close_pool, process_context

__all__ = ["partition_log", "read_shard", "SHARD_CUSTOMERS"]

#: Environment variable overriding :data:`SHARD_CUSTOMERS` (internal: lets tests reach the sharded,
#: multi-process findings pass with a small run; read once, at import).
SHARD_ENV = "JOURNEYSIM_SHARD_CUSTOMERS"


def _shard_customers() -> int:
    text = os.environ.get(SHARD_ENV)
    if text is None:
        return 50_000
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise UsageError(f"{SHARD_ENV}={text!r} must be a whole number of customers >= 1 (or unset it: "
                         "the default is 50000)")
    return value


#: Customers per shard: a shard of the cart scenario (14 days) holds ~630k log rows, ~0.5 GiB in the pass.
SHARD_CUSTOMERS = _shard_customers()


def partition_log(path: str | Path, folder: str | Path, customers: Sequence[str], shards: int,
                  kinds: Sequence[str], columns: Sequence[str] | None = None, *, workers: int = 1,
                  batch_rows: int = 262_144) -> list[list[Path]]:
    """Write the rows of ``kinds`` (only ``columns``, default all) into ``shards`` customer shards
    under ``folder``: customer ``customers[i]`` goes to shard ``i % shards``; rows without a customer
    (run-level records) go to every shard. Returns, per shard, its part files in log order; read a
    shard with :func:`read_shard`.

    With ``workers`` > 1 the log's row groups are split into that many contiguous ranges, each
    partitioned by its own (forked) process into its own part of every shard; as row groups are in
    log order, reading the parts in order gives the shard in log order. Shards are temporary, so they
    are Arrow IPC streams (LZ4): several times faster to write than Parquet, same pandas types back.
    """
    folder = Path(folder)
    groups = pq.ParquetFile(path).metadata.num_row_groups
    workers = max(1, min(workers, groups))
    ranges = [list(r) for r in np.array_split(np.arange(groups), workers)]
    if workers == 1:
        parts = [_partition_part(path, folder, 0, ranges[0], customers, shards, kinds, columns, batch_rows)]
    else:
        pool = ProcessPoolExecutor(workers, mp_context=process_context(fork=True))
        finished = False
        try:
            with signals_deferred():  # map submits every part at once, which starts the workers
                results = pool.map(_partition_part, [path] * workers, [folder] * workers, range(workers), ranges,
                                   [customers] * workers, [shards] * workers, [list(kinds)] * workers,
                                   [columns] * workers, [batch_rows] * workers)
            parts = list(results)
            finished = True
        finally:
            close_pool(pool, abort=not finished)  # interrupted or failed: kill the workers, do not wait
    return [[part[i] for part in parts] for i in range(shards)]


def _partition_part(path: str | Path, folder: Path, part: int, row_groups: list[int], customers: Sequence[str],
                    shards: int, kinds: Sequence[str], columns: Sequence[str] | None,
                    batch_rows: int) -> list[Path]:
    """Partition the given row groups of the log into ``folder/shard-NNN-P.arrows`` (one per shard)."""
    pf = pq.ParquetFile(path)
    columns = list(columns) if columns is not None else list(pf.schema_arrow.names)
    for needed in ("kind", "customer"):
        if needed not in columns:
            columns.append(needed)
    schema = pa.schema([pf.schema_arrow.field(c) for c in columns])
    lookup = pd.Index(list(customers))  # one hash table, reused for every batch
    if not lookup.is_unique:
        raise ValueError("customer ids must be unique")
    value_set = pa.array([str(k) for k in kinds], type=pa.string())
    files = [folder / f"shard-{i:03d}-{part}.arrows" for i in range(shards)]
    options = pa.ipc.IpcWriteOptions(compression="lz4" if pa.Codec.is_available("lz4") else None)
    writers = [pa.ipc.new_stream(str(f), schema, options=options) for f in files]
    try:
        batches = pf.iter_batches(batch_size=batch_rows, columns=columns, row_groups=row_groups) if row_groups \
            else iter(())
        for batch in batches:
            batch = batch.filter(pc.is_in(batch.column("kind").cast(pa.string()), value_set=value_set))
            if batch.num_rows == 0:
                continue
            # a batch holds far fewer distinct customers than rows: look each one up once
            encoded = pc.dictionary_encode(batch.column("customer"))
            names = encoded.dictionary
            position = lookup.get_indexer(names.to_pandas())
            if (position < 0).any():
                who = names[int(np.flatnonzero(position < 0)[0])]
                raise ValueError(f"{path}: customer {who} is in the event log but not in customers.parquet")
            per_name = position % shards
            codes = encoded.indices.fill_null(0).to_numpy(zero_copy_only=False)
            customer_null = encoded.is_null().to_numpy(zero_copy_only=False)
            shard = per_name[codes] if len(per_name) else np.zeros(len(codes), dtype=np.int64)
            table = pa.Table.from_batches([batch])
            if customer_null.any():  # run-level records go to every shard
                for i, writer in enumerate(writers):
                    writer.write_table(table.filter(pa.array((shard == i) & ~customer_null | customer_null)))
                continue
            order = np.argsort(shard, kind="stable")  # log order kept within each shard
            bounds = np.searchsorted(shard[order], np.arange(shards + 1))
            grouped = table.take(pa.array(order))
            for i, writer in enumerate(writers):
                if bounds[i + 1] > bounds[i]:
                    writer.write_table(grouped.slice(bounds[i], bounds[i + 1] - bounds[i]))
    finally:
        for writer in writers:
            writer.close()
    return files


def read_shard(parts: Sequence[str | Path]) -> pd.DataFrame:
    """A shard written by :func:`partition_log` (its part files, in order), as
    :func:`simulator.engine.events.read_events` would return those rows."""
    tables = []
    for file in parts:
        with pa.ipc.open_stream(str(file)) as reader:
            tables.append(reader.read_all())
    return pa.concat_tables(tables).to_pandas()
