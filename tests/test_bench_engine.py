"""benchmarks/bench_engine.py's pure helpers: argument parsing, medians over repeats, the table's speed-up
and same-log columns, and the targets judged from synthetic rows (no timing: figures are never asserted),
plus the process-tree memory sample that counts a forked worker's shared pages once."""

from __future__ import annotations

import gc
import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load():
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "benchmarks" / "bench_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench = _load()

SHA_A, SHA_B = "a" * 64, "b" * 64


def _row(customers, workers, engine_s, bare_s, sha=SHA_A, rounds=None, again=None, **extra):
    """An engine row as measure() builds it (customers/s, events/s and the bare ratio derived the same way)."""
    events = 32 * customers
    row = {"customers": customers, "workers": workers, "events": events, "engine_s": engine_s,
           "engine_cpu_s": round(engine_s * 1.1, 2), "customers_per_s": round(customers / engine_s),
           "events_per_s": round(events / engine_s), "engine_rss_mib": 500.0, "engine_worker_rss_mib": 0.0,
           "engine_tree_mib": 500.0, "shards": workers if workers > 1 else None, "rounds": rounds,
           "simulated_again": again, "events_sha256": sha, "engine_vs_bare": round(engine_s / bare_s, 2),
           "engine_vs_bare_cpu": 1.0}
    row.update(extra)
    return row


def _size(customers, bare_s, findings_s=1.0, report_s=2.0, **extra):
    row = {"customers": customers, "analysed_workers": 1, "findings": 10, "findings_s": findings_s,
           "findings_rss_mib": 300.0, "findings_worker_rss_mib": 0.0, "findings_workers": 2,
           "findings_tree_mib": 300.0, "report_s": report_s, "report_rss_mib": 400.0, "bare_s": bare_s,
           "bare_cpu_s": bare_s, "bare_rss_mib": 60.0}
    row.update(extra)
    return row


# ------------------------------------------------------------------------------------ parsing


@pytest.mark.parametrize(("text", "expected"), [
    ("1", [1]), ("1,2", [1, 2]), ("2,1,2", [1, 2]), (" 1 , 4 ", [1, 4]), ("1,2,", [1, 2]),
    ("1_000_000,10000", [10_000, 1_000_000]),
])
def test_parse_counts_sorts_and_dedupes(text, expected):
    assert bench.parse_counts(text) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("", "one or more positive integers"), (" , ", "one or more positive integers"),
    ("0", "0 is not a positive integer"), ("1,-2", "-2 is not a positive integer"),
    ("1,two", "'two' is not an integer"), ("1.5", "'1.5' is not an integer"),
])
def test_parse_counts_refuses_what_is_not_a_positive_integer(text, says):
    with pytest.raises(bench.argparse.ArgumentTypeError, match=says):
        bench.parse_counts(text)


def test_bad_workers_on_the_command_line_exit_2_naming_the_option(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_engine.py", "--sizes", "2000", "--workers", "1,zero"])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    assert stop.value.code == 2
    assert "argument --workers: 'zero' is not an integer (e.g. 1,2)" in capsys.readouterr().err


def test_bad_sizes_on_the_command_line_exit_2_with_an_example_of_sizes(monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["bench_engine.py", "--sizes", "10k"])
    with pytest.raises(SystemExit) as stop:
        bench.main()
    assert stop.value.code == 2
    assert "argument --sizes: '10k' is not an integer (e.g. 10000,100000)" in capsys.readouterr().err


# ------------------------------------------------------------------------------------ medians, table


def test_median_row_keeps_counts_and_every_repeat_hash():
    """Three repeats of 2,000 customers: wall 3.0, 1.0, 2.0 s -> median 2.0; customers/s 667, 2000, 1000
    -> median 1000 (an int stays an int); the events and rounds are counts (the first repeat's); each
    repeat's wall time and sha256 are kept in order."""
    rows = [_row(2000, 2, s, 1.0, sha=sha, rounds=3, again=686)
            for s, sha in ((3.0, SHA_A), (1.0, SHA_A), (2.0, SHA_B))]
    out = bench.median_row(rows)
    assert out["engine_s"] == 2.0
    assert out["customers_per_s"] == 1000 and isinstance(out["customers_per_s"], int)
    assert (out["events"], out["rounds"], out["simulated_again"], out["shards"]) == (64_000, 3, 686, 2)
    assert out["engine_s_all"] == [3.0, 1.0, 2.0]
    assert out["events_sha256_all"] == [SHA_A, SHA_A, SHA_B]


def test_annotate_gives_speed_up_and_same_log_against_the_first_worker_count():
    """At 5,000: 1 worker 3.0 s, 2 workers 2.0 s (x1.50, same hash), 4 workers 4.0 s (x0.75, another hash)."""
    rows = [_row(5000, 4, 4.0, 1.0, sha=SHA_B), _row(5000, 1, 3.0, 1.0), _row(5000, 2, 2.0, 1.0)]
    out = bench.annotate(rows)
    assert [(r["workers"], r["speed_up"], r["same_log"]) for r in out] == \
        [(1, None, "ref"), (2, "x1.50", "yes"), (4, "x0.75", "NO")]


def test_format_row_writes_missing_figures_as_a_dash_and_counts_with_separators():
    row = bench.annotate([_row(2000, 1, 1.0, 0.5)])[0]
    cells = bench.format_row(row, bench.ENGINE_COLUMNS).split()
    assert cells[:3] == ["2,000", "1", "64,000"]
    assert cells[[key for key, _, _ in bench.ENGINE_COLUMNS].index("rounds")] == "-"


# ------------------------------------------------------------------------------------ targets


def _scale_rows():
    """10k and 1M customers on 1 and 2 workers, figures chosen by hand:

    - 10k: bare 2.5 s; 1 worker 4.0 s (1.6x bare, 2,500 cust/s), 2 workers 2.5 s (1.0x, 4,000 cust/s,
      speed-up 4.0 / 2.5 = x1.60), the same events.parquet;
    - 1M: bare 200 s; 1 worker 500 s (2.5x: MISSED; 2,000 cust/s = 80% of 2,500: met, the bound is
      inclusive), 2 workers 150 s (0.75x; 1e6 / 150 = 6,667 cust/s = 167% of 4,000; speed-up x3.33;
      another sha256: MISSED);
    - 1M end to end: findings 20 s + report 9 s; 1 worker 529 s, 2 workers 179 s <= 180: best 2 workers;
    - 1M memory on 2 workers: upper bound max(1,000 + 2 x 1,500, 600 + 2 x 1,000, 2,600) = 4,000 MiB;
      sampled max(2,200, 1,800, report 2,600) = 2,600 MiB <= 4,096: met.
    """
    rows = [_row(10_000, 1, 4.0, 2.5), _row(10_000, 2, 2.5, 2.5, rounds=3, again=1200),
            _row(1_000_000, 1, 500.0, 200.0),
            _row(1_000_000, 2, 150.0, 200.0, sha=SHA_B, rounds=4, again=250_000, engine_rss_mib=1000.0,
                 engine_worker_rss_mib=1500.0, engine_tree_mib=2200.0)]
    sizes = [_size(10_000, 2.5), _size(1_000_000, 200.0, findings_s=20.0, report_s=9.0, findings_rss_mib=600.0,
                                       findings_worker_rss_mib=1000.0, findings_tree_mib=1800.0,
                                       report_rss_mib=2600.0)]
    return rows, sizes


def test_targets_per_worker_count_from_synthetic_rows():
    rows, sizes = _scale_rows()
    assert bench.targets(rows, sizes) == [
        "  [met] events.parquet on 2 workers byte-identical to 1 worker at 10,000: sha256 aaaaaaaaaaaaaaaa",
        "  [MISSED] events.parquet on 2 workers byte-identical to 1 worker at 1,000,000: sha256 bbbbbbbbbbbbbbbb "
        "vs aaaaaaaaaaaaaaaa (32,000,000 vs 32,000,000 events)",
        "  [met] engine <= 2x bare SimPy at 10,000 on 1 worker (same run, wall): 1.6x (4.0 s vs 2.5 s)",
        "  [met] engine <= 2x bare SimPy at 10,000 on 2 workers (same run, wall): 1.0x (2.5 s vs 2.5 s)",
        "  [MISSED] engine <= 2x bare SimPy at 1,000,000 on 1 worker (same run, wall): 2.5x (500.0 s vs 200.0 s)",
        "  [met] engine <= 2x bare SimPy at 1,000,000 on 2 workers (same run, wall): 0.75x (150.0 s vs 200.0 s)",
        "  [figure] speed-up at 10,000: x1.60 on 2 workers over 1 worker (wall 2.5 s vs 4.0 s; CPU 2.75 s vs "
        "4.4 s; 3 rounds, 1,200 customers simulated again)",
        "  [figure] speed-up at 1,000,000: x3.33 on 2 workers over 1 worker (wall 150.0 s vs 500.0 s; CPU 165.0 s "
        "vs 550.0 s; 4 rounds, 250,000 customers simulated again)",
        "  [met] customers/s at 1,000,000 >= 80% of 10,000 on 1 worker: 80% (2,000 vs 2,500)",
        "  [met] customers/s at 1,000,000 >= 80% of 10,000 on 2 workers: 167% (6,667 vs 4,000)",
        "  [met] 1M end to end (engine + findings + report) <= 3 min, best on 2 workers: 179.0 s "
        "(150.0 + 20.0 + 9.0) [1 worker: 529.0 s]",
        "  [met] 1M peak memory <= 4 GiB on 2 workers: 2600.0 MiB (largest phase, main process + workers sampled, "
        "shared pages once; upper bound from peak RSS 4000.0 MiB)",
    ]


def test_end_to_end_memory_falls_back_to_the_upper_bound_when_not_sampled():
    """No tree sample (not Linux): the 2-worker engine's 1,000 + 2 x 1,600 = 4,200 MiB > 4,096: MISSED."""
    rows, sizes = _scale_rows()
    rows[3].update(engine_worker_rss_mib=1600.0, engine_tree_mib=None)
    assert bench.peak_mib(rows[3], sizes[1]) == 4200.0
    assert bench.tree_peak_mib(rows[3], sizes[1]) is None
    assert bench.targets(rows, sizes)[-1] == (
        "  [MISSED] 1M peak memory <= 4 GiB on 2 workers: 4200.0 MiB (upper bound: largest phase, each of engine "
        "and findings as main + workers x largest worker's peak RSS; no sampled figure)")


def test_end_to_end_on_one_worker_only_names_it_and_misses_three_minutes():
    """Only 1 worker at 1M: 500 + 20 + 9 = 529 s > 180 s: MISSED, and no other count to list."""
    rows, sizes = _scale_rows()
    lines = bench.targets([r for r in rows if r["workers"] == 1], sizes)
    assert "  [MISSED] 1M end to end (engine + findings + report) <= 3 min, best on 1 worker: 529.0 s " \
           "(500.0 + 20.0 + 9.0)" in lines
    assert not any("speed-up" in text or "byte-identical" in text for text in lines)


def test_repeats_that_disagree_on_one_worker_are_reported():
    """Two repeats of 1 worker with different hashes: not deterministic, so 2 workers cannot match either."""
    one = bench.median_row([_row(2000, 1, 1.0, 0.5, sha=SHA_A), _row(2000, 1, 1.0, 0.5, sha=SHA_B)])
    two = bench.median_row([_row(2000, 2, 1.0, 0.5, sha=SHA_A), _row(2000, 2, 1.0, 0.5, sha=SHA_A)])
    lines = bench.targets([one, two], [_size(2000, 0.5)])
    assert lines[0] == "  [MISSED] events.parquet the same in every repeat on 1 worker at 2,000: 2 different sha256"
    assert lines[1].startswith("  [MISSED] events.parquet on 2 workers byte-identical to 1 worker at 2,000")


def test_engine_peak_counts_workers_only_for_a_split_run():
    assert bench.engine_peak_mib(_row(2000, 1, 1.0, 0.5, engine_worker_rss_mib=99.0)) == 500.0
    assert bench.engine_peak_mib(_row(2000, 3, 1.0, 0.5, engine_worker_rss_mib=100.0)) == 800.0


# ------------------------------------------------------------------------------------ memory of a process tree


@pytest.mark.skipif(bench.tree_pss_mib() is None, reason="needs /proc/PID/smaps_rollup (Linux)")
def test_tree_memory_counts_a_forked_workers_shared_pages_once():
    """The parent touches 64 MiB, then forks a child that leaves those pages alone and touches 64 MiB of its
    own. The tree grows by about the child's 64 MiB (plus its few private pages), not by 128 MiB, which
    summing peak RSS would give (a forked child's RSS includes the 64 MiB it shares with the parent)."""
    shared = bytearray(64 << 20)
    shared[::4096] = b"\1" * len(range(0, len(shared), 4096))
    before = bench.tree_pss_mib()
    ready_r, ready_w = os.pipe()
    stop_r, stop_w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no collector (it would write to inherited objects' pages), touch its own pages
        try:
            gc.disable()
            own = bytearray(64 << 20)
            own[::4096] = b"\2" * len(range(0, len(own), 4096))
            os.write(ready_w, b"x")
            os.read(stop_r, 1)
        finally:
            os._exit(0)
    try:
        os.read(ready_r, 1)
        during = bench.tree_pss_mib()
        children = bench._children_of(os.getpid())
    finally:
        os.write(stop_w, b"x")
        os.waitpid(pid, 0)
        for fd in (ready_r, ready_w, stop_r, stop_w):
            os.close(fd)
    assert pid in children
    assert 60 <= during - before < 100, (before, during)
    del shared


@pytest.mark.skipif(bench.tree_pss_mib() is None, reason="needs /proc/PID/smaps_rollup (Linux)")
def test_tree_peak_samples_once_on_entry_and_nothing_for_a_process_that_does_not_exist():
    with bench.TreePeak(every=60.0) as mine:
        assert mine.samples == 1 and mine.peak_mib > 0
    with bench.TreePeak(pid=2 ** 22 + 1, every=60.0) as nobody:  # above the kernel's pid_max
        pass
    assert (nobody.samples, nobody.peak_mib) == (0, None)
