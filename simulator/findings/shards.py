"""Split an event log into customer shards, so a large run's findings pass holds one shard in memory.

Every detector looks at one customer's records at a time, so the findings of a shard are exactly the
findings of those customers in a pass over the whole log. One streaming read writes each shard's
rows, in log order and with the log's own schema, to its own Parquet file; a shard is then read back
with :func:`simulator.events.read_events` like a whole log.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["partition_log", "SHARD_CUSTOMERS"]

#: Customers per shard: a shard of the cart scenario (14 days) holds ~630k log rows, ~0.5 GiB in the pass.
SHARD_CUSTOMERS = 50_000


def partition_log(path: str | Path, folder: str | Path, customers: Sequence[str], shards: int,
                  kinds: Sequence[str], batch_rows: int = 262_144) -> list[Path]:
    """Write the rows of ``kinds`` to ``folder/shard-NNN.parquet``: customer ``customers[i]`` goes to
    shard ``i % shards``. Rows without a customer (run-level records) go to every shard. Returns the
    shard files in order."""
    folder = Path(folder)
    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    shard_of = {cid: i % shards for i, cid in enumerate(customers)}
    value_set = pa.array([str(k) for k in kinds], type=pa.string())
    files = [folder / f"shard-{i:03d}.parquet" for i in range(shards)]
    writers = [pq.ParquetWriter(f, schema) for f in files]
    try:
        for batch in pf.iter_batches(batch_size=batch_rows):
            batch = batch.filter(pc.is_in(batch.column("kind").cast(pa.string()), value_set=value_set))
            if batch.num_rows == 0:
                continue
            # a batch holds far fewer distinct customers than rows: look each one up once
            encoded = pc.dictionary_encode(batch.column("customer"))
            names = encoded.dictionary.to_pylist()
            unknown = [n for n in names if n not in shard_of]
            if unknown:
                raise ValueError(f"{path}: customer {unknown[0]} is in the event log but not in customers.parquet")
            per_name = np.array([shard_of[n] for n in names], dtype=np.int64)
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
