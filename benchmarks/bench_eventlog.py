"""Benchmark the streaming event log: records/s and peak RSS for N realistic records.

    python benchmarks/bench_eventlog.py [--records 2000000] [--chunk-rows 65536]

Record shapes mimic a run: decisions with replica/truth values, sync applies, sends, deliveries.
Inputs are generated in blocks outside the timed loop, so the figures are ``EventLog.record``
plus its flushes, and peak RSS is not inflated by a precomputed input of N records.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from simulator.engine.events import EventLog


def _peak_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KiB on Linux


def _block(rng: np.random.Generator, lo: float, hi: float, size: int) -> tuple[list, ...]:
    """Inputs for ``size`` records with times in [lo, hi): customer index, shape, time, version."""
    return (rng.integers(0, 100_000, size=size).tolist(), rng.integers(0, 4, size=size).tolist(),
            np.sort(rng.uniform(lo, hi, size=size)).tolist(), rng.integers(1, 20, size=size).tolist())


def run(n: int, chunk_rows: int, block: int = 50_000) -> None:
    rng = np.random.default_rng(0)
    customers = [f"c{i:06d}" for i in range(100_000)]
    horizon = 14 * 86400.0
    rss_before = _peak_rss_mib()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.parquet"
        log = EventLog(path, datetime(2026, 12, 1, tzinfo=timezone.utc), chunk_rows=chunk_rows)
        record = log.record
        t_loop = 0.0
        for b0 in range(0, n, block):
            size = min(block, n - b0)
            cust_idx, shape, times, versions = _block(rng, horizon * b0 / n, horizon * (b0 + size) / n, size)
            t0 = time.perf_counter()
            for i in range(size):
                c = customers[cust_idx[i]]
                s = shape[i]
                t = times[i]
                if s == 0:
                    v = versions[i]
                    record(t, "decision", c, journey="cart-abandonment", step="by_stage", system="cdp",
                           field="stage", value="A", version=v, truth_value="B", truth_version=v + 1)
                elif s == 1:
                    record(t, "sync_apply", c, system="esp", field="has_purchased", value=True,
                           version=versions[i], detail="cdp->esp batch")
                elif s == 2:
                    record(t, "send", c, journey="cart-abandonment", step="email_1", system="esp",
                           channel="email", message="cart_email_1")
                else:
                    record(t, "delivered", c, system="esp", channel="email", message="cart_email_1")
            t_loop += time.perf_counter() - t0
        t0 = time.perf_counter()
        log.close()
        t_total = t_loop + time.perf_counter() - t0
        size = path.stat().st_size
        rows = pq.ParquetFile(path).metadata.num_rows
    assert rows == n, (rows, n)
    print(f"records:        {n:,} (chunk_rows={chunk_rows:,})")
    print(f"record loop:    {t_loop:.2f} s  -> {n / t_loop:,.0f} records/s (incl. flushes)")
    print(f"incl. close:    {t_total:.2f} s  -> {n / t_total:,.0f} records/s")
    print(f"file size:      {size / 2**20:.1f} MiB ({size / n:.1f} bytes/record)")
    print(f"peak RSS:       {_peak_rss_mib():.0f} MiB (after imports and inputs setup: {rss_before:.0f} MiB)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2_000_000)
    ap.add_argument("--chunk-rows", type=int, default=65536)
    args = ap.parse_args()
    run(args.records, args.chunk_rows)


if __name__ == "__main__":
    main()
