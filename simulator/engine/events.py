"""The event record schema and the streaming columnar writer.

Events are flat immutable records. :class:`EventLog` appends their fields to one flat Python list (the
hot path does nothing else) and every ``chunk_rows`` records slices it into one list per column and
turns those into one Arrow record batch, written as one Parquet row group. The same records always
give a byte-identical file: the writer configuration is fixed and nothing in the file depends on the
wall clock or on dict/set order.
"""

from __future__ import annotations

import collections
import datetime as _dt
import difflib
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from simulator.errors import UsageError
from simulator.fileio import atomic_path

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "SCHEMA",
    "COLUMNS",
    "COMPRESSION",
    "EventLog",
    "canonical_order",
    "encode_value",
    "read_events",
    "write_csv",
]

SCHEMA: pa.Schema = pa.schema(
    [
        pa.field("t", pa.float64(), nullable=False),
        pa.field("ts", pa.timestamp("ms", tz="UTC"), nullable=False),
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("customer", pa.string()),
        pa.field("kind", pa.dictionary(pa.int32(), pa.string()), nullable=False),
        pa.field("journey", pa.string()),
        pa.field("step", pa.string()),
        pa.field("system", pa.string()),
        pa.field("field", pa.string()),
        pa.field("value", pa.string()),
        pa.field("version", pa.int64()),
        pa.field("truth_value", pa.string()),
        pa.field("truth_version", pa.int64()),
        pa.field("channel", pa.string()),
        pa.field("message", pa.string()),
        pa.field("detail", pa.string()),
    ]
)
"""Column order and types of the event log: a contract users script against."""

COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)

# Columns filled from record() arguments, in the order of their buffers (t, ts, seq are derived).
_RECORDED = tuple(c for c in COLUMNS if c not in ("ts", "seq"))
_WIDTH = len(_RECORDED)
_KIND = _RECORDED.index("kind")

COMPRESSION: str = "zstd" if pa.Codec.is_available("zstd") else "snappy"

# Fixed writer configuration: everything that shapes the bytes is pinned here, not left to defaults.
# Dictionary pages only for the repetitive columns (strings, versions); t/ts/seq are near-unique.
_WRITER_OPTIONS: dict[str, Any] = dict(
    version="2.6",
    compression=COMPRESSION,
    compression_level=3 if COMPRESSION == "zstd" else None,
    use_dictionary=[f.name for f in SCHEMA if f.name not in ("t", "ts", "seq")],
    write_statistics=True,
    data_page_version="1.0",
    store_schema=True,
    write_page_index=False,
    write_page_checksum=False,
    use_byte_stream_split=False,
)

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


# --------------------------------------------------------------------------------------- values


def _canonical(v: Any) -> Any:
    """JSON-ready form of ``v`` that does not depend on dict or set order."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, np.generic):
        return _canonical(v.item())
    if isinstance(v, dict):
        return {(k if isinstance(k, str) else encode_value(k)): _canonical(x) for k, x in v.items()}
    if isinstance(v, (set, frozenset)):
        items = [_canonical(x) for x in v]
        return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, default=str))
    if isinstance(v, (list, tuple)):
        return [_canonical(x) for x in v]
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, _dt.timedelta):
        return v.total_seconds()
    return str(v)


def encode_value(v: Any) -> str | None:
    """Canonical text of a field value.

    ``None`` -> ``None``; ``bool`` -> ``'true'``/``'false'``; ``int`` -> decimal text; ``float`` ->
    ``repr`` (``1.0``, ``0.1``, ``nan``, ``inf``); ``str`` -> itself; date/datetime/time -> ISO 8601;
    numpy scalars as their Python value; anything else -> ``json.dumps(sort_keys=True)`` of a form
    with sets sorted, tuples as lists and non-string keys encoded, so equal values give equal text.
    """
    if v is None:
        return None
    tv = type(v)
    if tv is str:
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(int(v))
    if isinstance(v, float):
        return repr(float(v))
    if isinstance(v, str):  # str subclasses and str-mixin enums: the underlying text
        return str.__str__(v)
    if isinstance(v, np.generic):
        return encode_value(v.item())
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    return json.dumps(_canonical(v), sort_keys=True, default=str)


# --------------------------------------------------------------------------------------- writer


class EventLog:
    """Collects records in column lists and flushes them as RecordBatches to a Parquet file every
    ``chunk_rows`` records.

    ``path=None`` keeps everything in memory (tests, UAT); ``keep_in_memory=True`` also keeps a copy
    of what is written. The file is written as ``.<name>.partial`` next to ``path`` and renamed to
    ``path`` by :meth:`close`, so a crashed run never leaves a truncated file under the real name.
    Also a context manager (``close()`` on exit).
    """

    def __init__(
        self,
        path: str | Path | None,
        start: _dt.datetime,
        *,
        chunk_rows: int = 65536,
        keep_in_memory: bool = False,
        arrow: bool = False,
    ) -> None:
        if not isinstance(start, _dt.datetime) or start.tzinfo is None or start.utcoffset() is None:
            raise ValueError(f"EventLog start must be a timezone-aware datetime, got {start!r}; "
                             "e.g. datetime(2026, 12, 1, tzinfo=timezone.utc)")
        if int(chunk_rows) < 1:
            raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows!r}")
        self.path: Path | None = Path(path) if path is not None else None
        self.arrow = arrow  # write an Arrow IPC file instead of Parquet
        self.start = start
        self.chunk_rows = int(chunk_rows)
        self._chunk_items = self.chunk_rows * _WIDTH
        self.keep_in_memory = keep_in_memory or self.path is None
        # integer microseconds since the epoch: exact, whatever the start's precision
        self._start_us = (start - _EPOCH) // _dt.timedelta(microseconds=1)
        # the records not yet flushed, flat: record i is _rows[i * _WIDTH:(i + 1) * _WIDTH], in _RECORDED
        # order (column c is then the C-level slice _rows[c::_WIDTH], no per-record transposing)
        self._rows: list[Any] = []
        self._flushed_rows = 0
        self._instant: list[pa.Table] = []  # sorted runs of one instant too large for one buffer
        self._instant_rows = 0
        self._last_t = -math.inf  # time of the last record moved to the ordered output
        self._ready: list[pa.Table] = []  # ordered records not yet written as a row group
        self._ready_rows = 0
        self._flushed_counts: collections.Counter[str] = collections.Counter()
        self._batches: list[pa.Table] = []
        self._writer: Any = None  # pq.ParquetWriter, or a pa.ipc writer with ``arrow``
        self._tmp: Path | None = None
        self._closed = False

    # -- hot path -------------------------------------------------------------------------------

    def record(
        self,
        t: float,
        kind: str,
        customer: str | None = None,
        *,
        journey: str | None = None,
        step: str | None = None,
        system: str | None = None,
        field: str | None = None,
        value: Any = None,
        version: int | None = None,
        truth_value: Any = None,
        truth_version: int | None = None,
        channel: str | None = None,
        message: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Append one record (``value``/``truth_value`` go through :func:`encode_value`)."""
        if self._closed:
            raise RuntimeError("EventLog.record() after close()")
        # booleans (exit verdicts, consent) and floats (event times) are the commonest non-text values:
        # encoded inline, as encode_value would
        if value is not None and type(value) is not str:
            value = "true" if value is True else "false" if value is False else repr(value) \
                if type(value) is float else encode_value(value)
        if truth_value is not None and type(truth_value) is not str:
            truth_value = "true" if truth_value is True else "false" if truth_value is False else \
                repr(truth_value) if type(truth_value) is float else encode_value(truth_value)
        rows = self._rows
        rows += (t, customer, kind, journey, step, system, field, value, version, truth_value, truth_version,
                 channel, message, detail)
        if len(rows) >= self._chunk_items:
            self._flush()

    # -- state ----------------------------------------------------------------------------------

    @property
    def rows(self) -> int:
        """Records recorded so far (flushed or not)."""
        return self._flushed_rows + self._instant_rows + len(self._rows) // _WIDTH

    @property
    def counts(self) -> collections.Counter[str]:
        """Records per kind so far (a fresh Counter)."""
        c = collections.Counter(self._flushed_counts)
        c.update(self._rows[_KIND::_WIDTH])
        return c

    @property
    def closed(self) -> bool:
        return self._closed

    # -- conversion -----------------------------------------------------------------------------

    def _pending_batch(self, rows: list[Any] | None = None) -> pa.Table:
        """Buffered records (``rows``, else all of them) as a table in canonical order, ``seq`` unset (0)."""
        rows = self._rows if rows is None else rows  # one list per column (pyarrow converts lists fast)
        b = {c: rows[i::_WIDTH] for i, c in enumerate(_RECORDED)}
        n = len(rows) // _WIDTH
        t = pa.array(b["t"], type=pa.float64())
        t_np = t.to_numpy(zero_copy_only=False)
        if t.null_count or not np.isfinite(t_np).all():
            bad = next(i for i, x in enumerate(b["t"]) if x is None or not math.isfinite(x))
            raise ValueError(f"event t must be a finite number of seconds; record "
                             f"{self._flushed_rows + bad} has t={b['t'][bad]!r}")
        frac_us = self._start_us % 1000
        ts_ms = (self._start_us // 1000) + np.rint(t_np * 1000.0 + frac_us / 1000.0).astype(np.int64)
        kind = pa.array(b["kind"], type=pa.string())
        if kind.null_count:
            raise ValueError("event kind must not be None")
        arrays: dict[str, pa.Array] = {
            "t": t,
            "ts": pa.array(ts_ms, type=pa.timestamp("ms", tz="UTC")),
            "seq": pa.array(np.zeros(n, dtype=np.int64)),
            "kind": kind.dictionary_encode(),
        }
        for col in SCHEMA:
            if col.name not in arrays:
                arrays[col.name] = pa.array(b[col.name], type=col.type)
        return canonical_order(pa.Table.from_arrays([arrays[c] for c in COLUMNS], schema=SCHEMA))

    def _flush(self, final: bool = False) -> None:
        """Move buffered records to the ordered output. Records arrive in time order; those at the latest
        instant stay buffered (more may come at that instant) unless ``final``."""
        rows = self._rows
        if not rows and not (final and self._instant):
            return
        if not final:
            times = rows[0::_WIDTH]
            last = times[-1]
            cut = len(times)
            while cut and times[cut - 1] == last:
                cut -= 1
            if cut == 0:  # one instant fills the buffer (a blast): keep what it has so far as a sorted Arrow run
                self._flushed_counts.update(rows[_KIND::_WIDTH])
                self._instant.append(self._pending_batch(rows))
                self._instant_rows += len(rows) // _WIDTH
                self._rows = []
                return
            ready, self._rows = rows[:cut * _WIDTH], rows[cut * _WIDTH:]
        else:
            ready, self._rows = rows, []
        self._flushed_counts.update(ready[_KIND::_WIDTH])
        table = self._pending_batch(ready) if ready else None
        if self._instant:  # the instant kept in runs is complete: its runs and the records after it, in order
            whole = pa.concat_tables(self._instant + ([table] if table is not None else [])).unify_dictionaries()
            self._instant, self._instant_rows = [], 0
            order = canonical_indices(whole)
            for at in range(0, len(order), self.chunk_rows):  # taken a row group at a time: no sorted copy
                self._append_ordered(whole.take(order.slice(at, self.chunk_rows)))
            return
        if table is not None:
            self._append_ordered(table)

    def extend_ordered(self, table: pa.Table) -> None:
        """Append records already in canonical order (a sharded run's merged log, :mod:`simulator.sharded`);
        they must not precede what was appended before. ``seq`` is renumbered."""
        if self._closed:
            raise RuntimeError("EventLog.extend_ordered() after close()")
        if self._rows:
            self._flush(final=True)
        counts = table.column("kind").cast(pa.string()).value_counts()
        self._flushed_counts.update({str(k): int(n) for k, n in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist())})
        self._append_ordered(table)

    def _append_ordered(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        t = table.column("t").to_numpy()
        if (len(t) > 1 and bool((np.diff(t) < 0).any())) or t[0] < self._last_t:
            raise RuntimeError("event log records out of time order (an engine bug): "
                               f"t={float(t.min())} after t={max(self._last_t, float(t[0]))}")
        self._last_t = float(t[-1])
        n = table.num_rows
        seq = pa.array(np.arange(self._flushed_rows, self._flushed_rows + n, dtype=np.int64))
        table = table.set_column(COLUMNS.index("seq"), SCHEMA.field("seq"), seq)
        self._flushed_rows += n
        self._ready.append(table)
        self._ready_rows += n
        while self._ready_rows >= self.chunk_rows:
            self._write_group(self.chunk_rows)

    def _write_group(self, n: int) -> None:
        """Write the first ``n`` ordered records as one row group (its bytes depend only on its records)."""
        ready = pa.concat_tables(self._ready)
        group, rest = ready.slice(0, n), ready.slice(n)
        self._ready, self._ready_rows = ([rest] if rest.num_rows else []), rest.num_rows
        group = _encoded(group)
        if self.path is not None:
            if self._writer is None:
                self._open_writer()
            self._writer.write_table(group, row_group_size=self.chunk_rows) if self.arrow is False else \
                self._writer.write_table(group)
        if self.keep_in_memory:
            self._batches.append(group)

    def _open_writer(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.partial")
        if self.arrow:  # an Arrow IPC stream (LZ4): a shard's log on its way to the merge, fast to write and read
            self._writer = pa.ipc.new_stream(str(self._tmp), SCHEMA,
                                           options=pa.ipc.IpcWriteOptions(compression="lz4"))
        else:
            self._writer = pq.ParquetWriter(str(self._tmp), SCHEMA, **_WRITER_OPTIONS)

    def close(self) -> None:
        """Flush the rest and close the writer; the file appears under ``path`` now (idempotent)."""
        if self._closed:
            return
        self._flush(final=True)
        if self._ready_rows:
            self._write_group(self._ready_rows)
        self._closed = True
        if self.path is None:
            return
        if self._writer is None:  # no records at all: still a valid, empty file
            self._open_writer()
        self._writer.close()
        assert self._tmp is not None
        os.replace(self._tmp, self.path)

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- in-memory access -----------------------------------------------------------------------

    def table(self) -> pa.Table:
        """The whole log as one Arrow table (only with ``path=None`` or ``keep_in_memory=True``)."""
        if not self.keep_in_memory:
            raise RuntimeError("this EventLog streams to disk only; use read_events(path) after "
                               "close(), or create it with keep_in_memory=True")
        parts = list(self._batches) + list(self._ready)
        tail = self._instant + ([self._pending_batch()] if self._rows else [])
        if tail:
            part = canonical_order(pa.concat_tables(tail))
            seq = np.arange(self._flushed_rows, self._flushed_rows + part.num_rows, dtype=np.int64)
            parts.append(part.set_column(COLUMNS.index("seq"), SCHEMA.field("seq"), pa.array(seq)))
        if not parts:
            return SCHEMA.empty_table()
        return pa.concat_tables(parts[:len(self._batches)] + [_encoded(p) for p in parts[len(self._batches):]])

    def to_pandas(self) -> pd.DataFrame:
        """The whole log as a pandas DataFrame (see :meth:`table`)."""
        return self.table().to_pandas()


def _encoded(table: pa.Table) -> pa.Table:
    """``table`` in one chunk, its ``kind`` dictionary built from its own records (so a row group's bytes
    depend only on its records, not on how they were batched before)."""
    kind = table.column("kind").cast(pa.string()).combine_chunks().dictionary_encode()
    return table.set_column(COLUMNS.index("kind"), SCHEMA.field("kind"), kind).combine_chunks()


def canonical_order(table: pa.Table) -> pa.Table:
    """``table`` sorted by time, then customer id (records of no customer first), stably: the order of a
    log whatever the number of shards that produced it (records of one customer keep their order)."""
    if table.num_rows < 2:
        return table
    table = table.unify_dictionaries()  # parts encoded separately (a sharded merge, the runs of one instant)
    return table.take(canonical_indices(table))


def canonical_indices(table: pa.Table) -> pa.Array:
    """The row order of :func:`canonical_order` (a stable sort by time, then customer, no customer first)."""
    keys = pa.table({"t": table.column("t"), "c": pc.fill_null(table.column("customer"), "")})  # ids are never ""
    return pc.sort_indices(keys, sort_keys=[("t", "ascending"), ("c", "ascending")])


# --------------------------------------------------------------------------------------- readers


def _check_columns(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    cols = [columns] if isinstance(columns, str) else list(columns)
    for c in cols:
        if c not in COLUMNS:
            close = difflib.get_close_matches(c, COLUMNS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; columns are {', '.join(COLUMNS)}"
            raise UsageError(f"unknown event column {c!r}{hint}")
    return cols


def _events_file(path: str | Path) -> Path:
    p = Path(path)
    if p.is_dir():
        p = p / "events.parquet"
    if not p.exists():
        raise UsageError(f"{p}: no event log here; give a run folder or its events.parquet")
    return p


def read_events(
    path: str | Path,
    columns: Sequence[str] | None = None,
    filters: Any = None,
) -> pd.DataFrame:
    """Read an event log (a ``.parquet`` file or a run folder) into pandas.

    ``columns`` selects columns (only those are read); ``filters`` is passed to
    :func:`pyarrow.parquet.read_table`, e.g. ``[("kind", "==", "send")]``.
    """
    table = pq.read_table(_events_file(path), columns=_check_columns(columns), filters=filters)
    return table.to_pandas()


def write_csv(parquet_path: str | Path, csv_path: str | Path) -> Path:
    """Convert an event log to CSV batch by batch (memory stays bounded); written atomically.

    Nulls are empty fields, strings are always quoted (so an empty string is ``""``), ``ts`` is
    written as ``YYYY-MM-DD HH:MM:SS.mmmZ``.
    """
    src = _events_file(parquet_path)
    dst = Path(csv_path)
    with atomic_path(dst) as tmp:
        pf = pq.ParquetFile(src)
        out_schema = pa.schema([pa.field(f.name, pa.string() if f.name == "kind" else f.type)
                                for f in pf.schema_arrow])
        with pacsv.CSVWriter(str(tmp), out_schema, write_options=pacsv.WriteOptions(
                include_header=True, quoting_style="needed")) as writer:
            for batch in pf.iter_batches(batch_size=65536):
                writer.write_table(pa.Table.from_batches([batch]).cast(out_schema))
    return dst
