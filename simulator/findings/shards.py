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
    ids = pa.array(list(customers), type=pa.string())
    value_set = pa.array([str(k) for k in kinds], type=pa.string())
    files = [folder / f"shard-{i:03d}.parquet" for i in range(shards)]
    writers = [pq.ParquetWriter(f, schema) for f in files]
    try:
        for batch in pf.iter_batches(batch_size=batch_rows):
            keep = pc.is_in(batch.column("kind").cast(pa.string()), value_set=value_set)
            batch = batch.filter(keep)
            if batch.num_rows == 0:
                continue
            index = pc.index_in(batch.column("customer"), value_set=ids).to_numpy(zero_copy_only=False)
            known = ~np.isnan(index) if index.dtype.kind == "f" else np.ones(len(index), dtype=bool)
            shard = np.full(len(index), -1, dtype=np.int64)
            shard[known] = index[known].astype(np.int64) % shards
            customer_null = batch.column("customer").is_null().to_numpy(zero_copy_only=False)
            unknown = ~known & ~customer_null
            if unknown.any():
                who = batch.column("customer")[int(np.flatnonzero(unknown)[0])]
                raise ValueError(f"{path}: customer {who} is in the event log but not in customers.parquet")
            table = pa.Table.from_batches([batch])
            for i, writer in enumerate(writers):
                rows = np.flatnonzero((shard == i) | customer_null)
                if rows.size:
                    writer.write_table(table.take(pa.array(rows)))
    finally:
        for writer in writers:
            writer.close()
    return files
