"""Event log schema, streaming Parquet writer, CSV conversion and the atomic run folder."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from simulator.errors import UsageError
from simulator.engine.events import COLUMNS, SCHEMA, EventLog, encode_value, read_events, write_csv
from simulator.runfolder import RunFolder, default_run_dir, new_run_id

START = datetime(2026, 12, 1, tzinfo=timezone.utc)

EXPECTED_TYPES = {
    "t": pa.float64(),
    "ts": pa.timestamp("ms", tz="UTC"),
    "seq": pa.int64(),
    "customer": pa.string(),
    "kind": pa.dictionary(pa.int32(), pa.string()),
    "journey": pa.string(),
    "step": pa.string(),
    "system": pa.string(),
    "field": pa.string(),
    "value": pa.string(),
    "version": pa.int64(),
    "truth_value": pa.string(),
    "truth_version": pa.int64(),
    "channel": pa.string(),
    "message": pa.string(),
    "detail": pa.string(),
}


def _records(n: int) -> list[tuple[float, str, str | None, dict]]:
    """n deterministic records of varied shape, including nulls and non-string values."""
    out = []
    for i in range(n):
        kind = ("send", "decision", "sync_apply", "truth")[i % 4]
        customer = None if i % 7 == 0 else f"c{i % 13:05d}"
        kw: dict = {"journey": "cart" if i % 2 else None, "step": f"s{i % 5}", "system": ("cdp", "esp", None)[i % 3]}
        if kind in ("decision", "sync_apply", "truth"):
            kw.update(field="stage", value=("A", True, 3, 0.1, None)[i % 5], version=i % 9,
                      truth_value="B" if i % 3 else None, truth_version=(i % 9) + 1 if i % 3 else None)
        if kind == "send":
            kw.update(channel="email", message="cart_email_1", detail="" if i % 8 == 0 else f"d{i}")
        out.append((i * 37.25 + 0.001 * (i % 3), kind, customer, kw))
    return out


def _fill(log: EventLog, records) -> None:
    for t, kind, customer, kw in records:
        log.record(t, kind, customer, **kw)


def _expected_rows(records) -> list[dict]:
    rows = []
    for seq, (t, kind, customer, kw) in enumerate(records):
        row = {c: None for c in COLUMNS}
        row.update(t=t, seq=seq, kind=kind, customer=customer, **kw)
        row["value"] = encode_value(row["value"])
        row["truth_value"] = encode_value(row["truth_value"])
        row["ts"] = START + timedelta(milliseconds=round(t * 1000))
        rows.append(row)
    return rows


def _plain(table: pa.Table) -> list[dict]:
    return table.cast(pa.schema([pa.field(f.name, pa.string() if f.name == "kind" else f.type)
                                 for f in table.schema])).to_pylist()


def test_schema_column_order_and_types():
    """SCHEMA has the contract's column order and types; only t/ts/seq/kind are non-nullable."""
    assert COLUMNS == tuple(EXPECTED_TYPES)
    assert [f.type for f in SCHEMA] == list(EXPECTED_TYPES.values())
    assert {f.name for f in SCHEMA if not f.nullable} == {"t", "ts", "seq", "kind"}


def test_chunked_flush_reads_back_equal(tmp_path):
    """chunk_rows=10 with 95 records: 95 rows in 10 row groups, equal to what was recorded."""
    path = tmp_path / "events.parquet"
    records = _records(95)
    log = EventLog(path, START, chunk_rows=10)
    _fill(log, records)
    assert log.rows == 95
    assert not path.exists(), "the file must not appear under its real name before close()"
    log.close()
    log.close()  # idempotent
    meta = pq.ParquetFile(path).metadata
    assert meta.num_rows == 95 and meta.num_row_groups == 10
    table = pq.read_table(path)
    assert table.schema.equals(SCHEMA)
    assert _plain(table) == _expected_rows(records)
    assert log.counts == {"send": 24, "decision": 24, "sync_apply": 24, "truth": 23}
    assert [p.name for p in tmp_path.iterdir()] == ["events.parquet"]


def test_ts_is_start_plus_t_in_milliseconds(tmp_path):
    """ts = start + t rounded to the millisecond, also for a non-UTC start."""
    start = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=-5)))
    log = EventLog(None, start)
    for t in (0, 0.0004, 0.0006, 59.999, 86400 * 14 + 0.25):
        log.record(t, "tick")
    got = log.to_pandas()["ts"].tolist()
    want = [start + timedelta(milliseconds=ms) for ms in (0, 0, 1, 59999, 86400 * 14 * 1000 + 250)]
    assert [g.to_pydatetime() for g in got] == want


def test_identical_records_give_byte_identical_files(tmp_path):
    """The same records written twice give byte-for-byte identical Parquet files."""
    records = _records(500)
    paths = []
    for name in ("a.parquet", "b.parquet"):
        log = EventLog(tmp_path / name, START, chunk_rows=64)
        _fill(log, records)
        log.close()
        paths.append(tmp_path / name)
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_in_memory_mode():
    """path=None keeps the whole log in memory, flushed and pending records alike."""
    records = _records(25)
    log = EventLog(None, START, chunk_rows=10)
    _fill(log, records)
    assert log.rows == 25 and log.table().num_rows == 25  # 20 flushed + 5 pending
    assert _plain(log.table()) == _expected_rows(records)
    df = log.to_pandas()
    assert list(df.columns) == list(COLUMNS)
    assert df["seq"].tolist() == list(range(25))
    log.close()
    assert log.table().num_rows == 25
    with pytest.raises(RuntimeError):
        log.record(1.0, "late")


def test_keep_in_memory_copy_and_stream_only(tmp_path):
    """keep_in_memory keeps a copy equal to the file; a streaming-only log refuses table()."""
    records = _records(30)
    log = EventLog(tmp_path / "e.parquet", START, chunk_rows=7, keep_in_memory=True)
    _fill(log, records)
    log.close()
    assert log.table().equals(pq.read_table(tmp_path / "e.parquet"))
    stream = EventLog(tmp_path / "f.parquet", START)
    with pytest.raises(RuntimeError, match="read_events"):
        stream.table()
    stream.close()
    assert pq.read_table(tmp_path / "f.parquet").num_rows == 0


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, None),
        (True, "true"),
        (False, "false"),
        (0, "0"),
        (-42, "-42"),
        (10**20, "100000000000000000000"),
        (1.0, "1.0"),
        (0.1, "0.1"),
        (-2.5e-07, "-2.5e-07"),
        (float("inf"), "inf"),
        ("B", "B"),
        ("", ""),
        (np.int64(7), "7"),
        (np.float64(0.5), "0.5"),
        (np.bool_(True), "true"),
        (datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc), "2026-12-01T08:00:00+00:00"),
        ({"b": 1, "a": [1, 2]}, '{"a": [1, 2], "b": 1}'),
        ((1, "x"), '[1, "x"]'),
        ({"z", "a", "m"}, '["a", "m", "z"]'),
        ({2: "x", 1: "y"}, '{"1": "y", "2": "x"}'),
    ],
)
def test_encode_value_cases(value, text):
    """encode_value gives one canonical text per value, independent of dict/set order."""
    assert encode_value(value) == text


def test_csv_conversion_equals_parquet(tmp_path):
    """write_csv streams the parquet file to CSV with the same content (nulls vs '' kept apart)."""
    src = tmp_path / "events.parquet"
    log = EventLog(src, START, chunk_rows=16)
    _fill(log, _records(100))
    log.close()
    dst = write_csv(src, tmp_path / "events.csv")
    types = {f.name: (pa.string() if f.name == "kind" else f.type) for f in SCHEMA}
    back = pacsv.read_csv(dst, convert_options=pacsv.ConvertOptions(
        column_types=types, strings_can_be_null=True, quoted_strings_can_be_null=False))
    assert back.column_names == list(COLUMNS)
    assert back.to_pylist() == _plain(pq.read_table(src))
    assert [p.name for p in sorted(tmp_path.iterdir())] == ["events.csv", "events.parquet"]


def test_read_events_selects_columns_and_filters(tmp_path):
    """read_events reads selected columns and row filters from a file or its run folder."""
    log = EventLog(tmp_path / "events.parquet", START, chunk_rows=10)
    _fill(log, _records(40))
    log.close()
    df = read_events(tmp_path, columns=["seq", "kind"], filters=[("kind", "==", "send")])
    assert list(df.columns) == ["seq", "kind"] and len(df) == 10
    with pytest.raises(UsageError, match="did you mean 'customer'"):
        read_events(tmp_path / "events.parquet", columns=["custmer"])


def test_runfolder_commit_renames_into_place(tmp_path):
    """commit() renames the temp folder to the final path with summary.json status complete."""
    final = default_run_dir(tmp_path / "reports", "cart-abandonment", "20261123-142501-s42")
    assert final == tmp_path / "reports" / "cart-abandonment-20261123-142501-s42"
    rf = RunFolder(final)
    rf.manifest["seed"] = 42
    assert rf.path.parent == final.parent and rf.path.name.startswith(f".{final.name}.partial-")
    rf.file("events.parquet").write_bytes(b"x")
    assert not final.exists()
    assert rf.commit({"counts": {"send": 1}}) == final
    summary = json.loads((final / "summary.json").read_text())
    assert summary == {"status": "complete", "seed": 42, "counts": {"send": 1}}
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name]
    assert sorted(p.name for p in final.iterdir()) == ["events.parquet", "summary.json"]


def test_runfolder_overwrite_replaces_existing(tmp_path):
    """overwrite=True replaces an existing final folder and leaves no aside folder behind."""
    final = tmp_path / "run"
    final.mkdir()
    (final / "old.txt").write_text("old")
    (final / "summary.json").write_text('{"status": "complete", "scenario": "x", "version": "0"}')  # a run folder
    rf = RunFolder(final, overwrite=True)
    rf.file("new.txt").write_text("new")
    rf.commit({})
    assert sorted(p.name for p in final.iterdir()) == ["new.txt", "summary.json"]
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_runfolder_exception_leaves_only_failed(tmp_path):
    """An exception inside the context manager leaves only <final>.failed, status failed with the error."""
    final = tmp_path / "run"
    with pytest.raises(ValueError, match="boom"):
        with RunFolder(final) as rf:
            rf.manifest.update(seed=7, scenario="tiny")
            rf.file("events.parquet").write_bytes(b"partial")
            raise ValueError("boom")
    assert [p.name for p in tmp_path.iterdir()] == ["run.failed"]
    summary = json.loads((tmp_path / "run.failed" / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert summary["error"] == "ValueError('boom')"
    assert summary["error_type"] == "builtins.ValueError"
    assert summary["seed"] == 7 and summary["scenario"] == "tiny"
    assert (tmp_path / "run.failed" / "events.parquet").read_bytes() == b"partial"


def test_runfolder_keyboard_interrupt_leaves_nothing(tmp_path):
    """KeyboardInterrupt inside the context manager removes the temporary folder: nothing is left."""
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(tmp_path / "run") as rf:
            rf.file("sub/figure.png").write_bytes(b"png")
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_runfolder_without_commit_leaves_nothing(tmp_path):
    """Leaving the context manager without commit() or an exception abandons the folder."""
    with RunFolder(tmp_path / "run") as rf:
        rf.file("a.txt").write_text("a")
    assert list(tmp_path.iterdir()) == []


def test_runfolder_existing_final_without_overwrite(tmp_path):
    """An existing final folder without overwrite raises UsageError with a hint, creating nothing."""
    (tmp_path / "run").mkdir()
    with pytest.raises(UsageError, match="overwrite"):
        RunFolder(tmp_path / "run")
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_runfolder_file_rejects_escaping_names(tmp_path):
    """file() refuses names that would land outside the run folder."""
    with RunFolder(tmp_path / "run") as rf:
        with pytest.raises(UsageError):
            rf.file("../outside.txt")


def test_new_run_id_format():
    """new_run_id is <date>-<time>-s<seed> from the given (or current) clock."""
    assert new_run_id(42, datetime(2026, 11, 23, 14, 25, 1)) == "20261123-142501-s42"
    assert new_run_id(3).endswith("-s3")


def test_an_instant_larger_than_the_buffer_comes_out_in_canonical_order(tmp_path):
    """23 records at one instant with chunk_rows=5 (the buffer fills four times before time moves on), for
    customers c, a, b in turn, then one record at t=2: the instant comes out sorted by customer, each
    customer's records in the order recorded, then the later record; the file and the in-memory table
    agree, and the row count is right while the instant is still open."""
    log = EventLog(tmp_path / "e.parquet", START, chunk_rows=5, keep_in_memory=True)
    order = ["c", "a", "b"]
    for i in range(23):
        log.record(1.0, "step", order[i % 3], detail=str(i))
    assert log.rows == 23 and log.table().num_rows == 23
    log.record(2.0, "step", "a", detail="later")
    log.close()
    table = pq.read_table(tmp_path / "e.parquet")
    assert table.column("customer").to_pylist() == ["a"] * 8 + ["b"] * 7 + ["c"] * 8 + ["a"]
    expected = [str(i) for i in range(1, 23, 3)] + [str(i) for i in range(2, 23, 3)] + \
        [str(i) for i in range(0, 23, 3)] + ["later"]
    assert table.column("detail").to_pylist() == expected
    assert table.column("seq").to_pylist() == list(range(24))
    assert log.table().equals(table)
