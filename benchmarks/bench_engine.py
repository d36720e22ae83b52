"""Engine-at-scale benchmark: engine, findings and report separately, against a bare-SimPy model.

For each population size (and each repeat) fresh subprocesses run one after the other, so each
phase's peak RSS is its own:

1. engine   - the simulation writing events.parquet, customers.parquet, scenario.json and
              summary.json, as `journeysim run --workers N` does (no findings, no report): once per
              worker count of `--workers` (1 = one process; N > 1 = N customer shards on N forked
              worker processes, :func:`simulator.engine.simulate` with ``workers=N``);
2. findings - the findings pass over the folder of the smallest worker count (1 by default; every
              count gives the same events.parquet bytes, checked below), findings.csv; customer
              shards on worker processes on large runs, so its peak RSS is shown for the main
              process and the largest worker;
3. report   - report.html and the analysts' CSVs from that folder;
4. bare     - `bare_simpy.run_bare`: the same three journeys as plain SimPy generators with one stale
              replica and one sync process, no logging (the floor a SimPy engine cannot beat).

    python benchmarks/bench_engine.py                                  # 10k and 100k, one process
    python benchmarks/bench_engine.py --sizes 10000,100000,1000000 --workers 1,2 --json bench.json
    python benchmarks/bench_engine.py --scenario scenarios/cart_abandonment.yaml --no-bare --repeat 3

Prints the engine rows (one per size and worker count, medians over repeats: wall and CPU seconds,
the CPU of the worker processes included; peak RSS of the main process and of the largest worker;
the peak memory of the whole process tree, sampled; events/s, customers/s; for split runs the
relaxation rounds and the customers simulated again),
then the findings, report and bare-model figures per size, then each target of the issue "Engine
at scale, second step" as met or MISSED with the measured figure:

- every worker count wrote the same events.parquet bytes (sha256) as the smallest one at that size;
- engine <= 2x the bare model (wall) at every size run, per worker count;
- the speed-up of N workers over one (wall), as a figure (no target);
- customers/s at the largest size >= 80% of the smallest, per worker count;
- only when 1M is run: 1M customers end to end (engine + findings + report) <= 3 min and <= 4 GiB,
  with the worker count that gave the shortest end-to-end time (named).

Figures come from this machine; they are never asserted in tests. CPU seconds (user + system) are
disturbed far less than wall time by a shared machine.

Memory: a forked worker's peak RSS includes the pages it still shares with the main process, so
"main + workers x largest worker" overstates a split phase (it is kept as an upper bound). The
"tree" figure sums the proportional set size (PSS, /proc/PID/smaps_rollup) of the phase's process and
its workers, shared pages counted once, sampled from this driver every 0.2 s (less often for large
processes, whose sample costs about 16 ms per GiB: at most 2% of a core, not charged to the phase's
CPU); the 4 GiB target is judged on it where it is available (Linux), else on the upper bound.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.yaml"


def _peak_mib() -> float:
    """Peak RSS of this process."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _cpu_s() -> float:
    """CPU seconds (user + system) of this process so far, its threads included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _children_cpu_s() -> float:
    """CPU seconds (user + system) of the child processes this one started and reaped (worker pools)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _worker_peak_mib() -> float:
    """Peak RSS of the largest worker process this one started (0 when none)."""
    return round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)


def _pss_kib(pid: int) -> int | None:
    """Proportional set size of ``pid`` (its private pages plus its share of pages shared with others), or
    None where /proc/PID/smaps_rollup cannot be read (not Linux, or the process is gone)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for text in fh:
                if text.startswith("Pss:"):
                    return int(text.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _children_of(pid: int) -> list[int]:
    """Child processes of ``pid`` (forked by any of its threads), from /proc/PID/task/*/children."""
    out: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out.extend(int(child) for child in fh.read().split())
        except (OSError, ValueError):
            continue
    return out


def tree_pss_mib(pid: int | None = None) -> float | None:
    """Memory in use by ``pid`` (default: this process) and all its descendants now: the sum of their
    proportional set sizes, so pages a forked worker shares with its parent count once. None off Linux."""
    root = os.getpid() if pid is None else pid
    total, stack, seen = 0, [root], set()
    while stack:
        proc = stack.pop()
        if proc in seen:
            continue
        seen.add(proc)
        kib = _pss_kib(proc)
        if kib is None:
            if proc == root:
                return None
            continue  # a worker that just exited
        total += kib
        stack.extend(_children_of(proc))
    return round(total / 1024, 1)


class TreePeak:
    """The largest :func:`tree_pss_mib` of process ``pid`` and its workers, sampled by a daemon thread
    while the ``with`` block runs (``peak_mib``; None off Linux). The benchmark samples each phase's
    process from the driver, so the sampling's CPU is not charged to the phase. Reading smaps_rollup
    walks the process's page tables (about 16 ms per GiB resident), so the thread waits ``every``
    seconds or, when a sample took longer, long enough to keep to ``budget`` of one core. Sampled: a
    peak shorter than the interval can be missed."""

    def __init__(self, pid: int | None = None, every: float = 0.2, budget: float = 0.02) -> None:
        import threading

        self.pid = os.getpid() if pid is None else pid
        self.every, self.budget = every, budget
        self.peak_mib: float | None = None
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="bench-tree-peak", daemon=True)

    def _sample(self) -> float:
        """Take one sample; returns how long it took (s)."""
        started = time.perf_counter()
        now = tree_pss_mib(self.pid)
        if now is not None:
            self.samples += 1
            if self.peak_mib is None or now > self.peak_mib:
                self.peak_mib = now
        return time.perf_counter() - started

    def _watch(self) -> None:
        took = 0.0
        while not self._stop.wait(max(self.every, took / self.budget)):
            took = self._sample()

    def __enter__(self) -> TreePeak:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(4 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parse_counts(text: str, example: str = "1,2") -> list[int]:
    """``"1,2"`` -> ``[1, 2]``: positive integers (``_`` allowed as in ``1_000_000``), sorted, once each.
    ``example`` is shown in the error (an :class:`argparse.ArgumentTypeError`, which argparse turns into
    exit code 2 naming the option)."""
    items = [item.strip().replace("_", "") for item in text.split(",")]
    if not any(items):
        raise argparse.ArgumentTypeError(f"give one or more positive integers separated by commas, e.g. {example}")
    counts = set()
    for item in items:
        if not item:
            continue
        try:
            value = int(item)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{item}' is not an integer (e.g. {example})") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"{value} is not a positive integer (e.g. {example})")
        counts.add(value)
    return sorted(counts)


# ------------------------------------------------------------------------------------ the phases


def phase_engine(scenario_path: str, size: int, seed: int, folder: Path, workers: int = 1) -> dict[str, Any]:
    """The simulation as `journeysim run --workers N` runs it (simulate(engine, workers=N)), no findings."""
    from simulator.engine import Engine
    from simulator.engine.events import EventLog
    from simulator.pipeline import _result, _write_customers, run_manifest, simulate
    from simulator.fileio import atomic_write_text
    from simulator.scenario.load import load_scenario

    sc = load_scenario(scenario_path)
    folder.mkdir(parents=True, exist_ok=True)
    started, cpu, children = time.perf_counter(), _cpu_s(), _children_cpu_s()
    with EventLog(folder / "events.parquet", sc.start) as log:
        engine = Engine(sc, seed=seed, log=log, size=size)
        simulate(engine, workers=workers)
    _write_customers(engine.population, folder / "customers.parquet")
    atomic_write_text(folder / "scenario.json", json.dumps(sc.effective(), indent=2, sort_keys=True))
    wall = time.perf_counter() - started
    cpu, children = _cpu_s() - cpu, _children_cpu_s() - children  # the pool is shut down: workers reaped
    manifest = run_manifest(sc, seed, size)
    summary = _result(engine, started, folder, manifest).summary
    (folder / "summary.json").write_text(json.dumps({**summary, "status": "complete"}, indent=2, default=str))
    sharding = engine.sharding or {}
    return {"wall_s": round(wall, 2), "cpu_s": round(cpu + children, 2), "workers_cpu_s": round(children, 2),
            "events": log.rows, "simulated_days": sc.duration / 86400, "peak_rss_mib": _peak_mib(),
            "worker_rss_mib": _worker_peak_mib(), "shards": sharding.get("shards"),
            "rounds": sharding.get("rounds"), "simulated_again": sharding.get("simulated_again")}


def phase_findings(folder: Path) -> dict[str, Any]:
    import pandas as pd

    from simulator.analysis import analyse_log
    from simulator.parallel import usable_cores
    from simulator.pipeline import write_analysis
    from simulator.scenario.model import Scenario

    sc = Scenario.model_validate(json.loads((folder / "scenario.json").read_text()))
    started = time.perf_counter()
    analysis = analyse_log(sc, folder / "events.parquet", pd.read_parquet(folder / "customers.parquet"))
    write_analysis(analysis, lambda name: folder / name)  # findings.csv, sync_lags.parquet
    summary = json.loads((folder / "summary.json").read_text())
    summary.update({"findings": analysis.summary(), "examples": analysis.examples()})
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    return {"wall_s": round(time.perf_counter() - started, 2), "findings": int(len(analysis.findings)),
            "peak_rss_mib": _peak_mib(), "worker_rss_mib": _worker_peak_mib(), "workers": usable_cores()}


def phase_report(folder: Path) -> dict[str, Any]:
    from simulator.report.html import build_report

    started = time.perf_counter()
    build_report(folder)
    return {"wall_s": round(time.perf_counter() - started, 2), "peak_rss_mib": _peak_mib()}


def phase_bare(size: int, seed: int) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    from bare_simpy import run_bare

    started, cpu = time.perf_counter(), _cpu_s()
    counts = run_bare(size, seed)
    return {"wall_s": round(time.perf_counter() - started, 2), "cpu_s": round(_cpu_s() - cpu, 2),
            "peak_rss_mib": _peak_mib(), "counts": counts}


# ------------------------------------------------------------------------------------ the driver


def _child(args: list[str]) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its last stdout line is the JSON result, to which ``tree_mib``
    is added: the peak memory of the phase's process and its workers (:class:`TreePeak`, sampled here)."""
    with subprocess.Popen([sys.executable, __file__, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        with TreePeak(proc.pid) as tree:
            out, err = proc.communicate()
    if proc.returncode != 0:
        sys.stderr.write(err)
        raise SystemExit(f"phase {args} failed with exit code {proc.returncode}")
    return {**json.loads(out.strip().splitlines()[-1]), "tree_mib": tree.peak_mib}


def engine_row(size: int, workers: int, engine: dict[str, Any], sha256: str) -> dict[str, Any]:
    """One engine row (a size on a worker count) from the engine phase's figures."""
    return {"customers": size, "workers": workers, "events": engine["events"], "engine_s": engine["wall_s"],
            "engine_cpu_s": engine["cpu_s"], "engine_workers_cpu_s": engine["workers_cpu_s"],
            "customers_per_s": round(size / engine["wall_s"]), "events_per_s": round(engine["events"] / engine["wall_s"]),
            "engine_rss_mib": engine["peak_rss_mib"], "engine_worker_rss_mib": engine["worker_rss_mib"],
            "engine_tree_mib": engine["tree_mib"],
            "shards": engine["shards"], "rounds": engine["rounds"], "simulated_again": engine["simulated_again"],
            "simulated_days": engine["simulated_days"], "events_sha256": sha256}


def measure(scenario: str, size: int, seed: int, workers: list[int], bare: bool, keep: Path | None
            ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One repeat at ``size``: the engine on each worker count (``workers``, ascending), then findings and
    report over the first count's folder, then the bare model. Returns the engine rows and the size row."""
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-{size}-", dir=keep))
    try:
        rows = []
        for n in workers:
            folder = tmp / f"run-w{n}"
            engine = _child(["--phase", "engine", "--scenario", scenario, "--size", str(size), "--seed", str(seed),
                             "--folder", str(folder), "--workers", str(n)])
            rows.append(engine_row(size, n, engine, file_sha256(folder / "events.parquet")))
            print(f"  {size:,} customers on {n} worker{'s' if n > 1 else ''}: engine {engine['wall_s']} s",
                  file=sys.stderr, flush=True)
            if n != workers[0] and keep is None:
                shutil.rmtree(folder, ignore_errors=True)  # hashed; only the first count's folder is analysed
        folder = tmp / f"run-w{workers[0]}"
        sizes: dict[str, Any] = {"customers": size, "analysed_workers": workers[0]}
        findings = _child(["--phase", "findings", "--folder", str(folder)])
        sizes.update({"findings": findings["findings"], "findings_s": findings["wall_s"],
                      "findings_rss_mib": findings["peak_rss_mib"], "findings_worker_rss_mib": findings["worker_rss_mib"],
                      "findings_workers": findings["workers"], "findings_tree_mib": findings["tree_mib"]})
        report = _child(["--phase", "report", "--folder", str(folder)])
        sizes.update({"report_s": report["wall_s"], "report_rss_mib": report["peak_rss_mib"],
                      "report_tree_mib": report["tree_mib"]})
        if bare:
            b = _child(["--phase", "bare", "--size", str(size), "--seed", str(seed)])
            sizes.update({"bare_s": b["wall_s"], "bare_cpu_s": b["cpu_s"], "bare_rss_mib": b["peak_rss_mib"]})
            for row in rows:
                row.update({"engine_vs_bare": round(row["engine_s"] / b["wall_s"], 2),
                            "engine_vs_bare_cpu": round(row["engine_cpu_s"] / b["cpu_s"], 2)})
        return rows, sizes
    finally:
        if keep is None:
            shutil.rmtree(tmp, ignore_errors=True)


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of the numeric figures over repeats (the counts are the same in every repeat); every
    repeat's wall time and events.parquet sha256 are kept (``engine_s_all``, ``events_sha256_all``)."""
    out = dict(rows[0])
    for key, value in rows[0].items():
        if value is None or isinstance(value, (bool, str)):
            continue
        if isinstance(value, float) or key.endswith(("_s", "_mib", "_per_s")) or key.startswith("engine_vs_bare"):
            middle = statistics.median(r[key] for r in rows)
            out[key] = round(middle) if all(isinstance(r[key], int) for r in rows) else round(middle, 2)
    if "engine_s" in out:
        out["engine_s_all"] = [r["engine_s"] for r in rows]
    if "events_sha256" in out:
        out["events_sha256_all"] = [r["events_sha256"] for r in rows]
    return out


def speed_up(row: dict[str, Any], reference: dict[str, Any]) -> float:
    """Wall-time speed-up of ``row`` over ``reference`` (the same size on the smallest worker count)."""
    return round(reference["engine_s"] / row["engine_s"], 2)


def _same_log(row: dict[str, Any], reference: dict[str, Any]) -> bool:
    shas = set(row.get("events_sha256_all", [row["events_sha256"]]))
    return shas == set(reference.get("events_sha256_all", [reference["events_sha256"]])) and len(shas) == 1


ENGINE_COLUMNS = [("customers", "customers", 10), ("workers", "workers", 7), ("events", "events", 11),
                  ("engine_s", "wall s", 8), ("engine_cpu_s", "CPU s", 7), ("customers_per_s", "cust/s", 8),
                  ("events_per_s", "events/s", 9), ("engine_rss_mib", "RSS MiB", 8),
                  ("engine_worker_rss_mib", "worker MiB", 10), ("engine_tree_mib", "tree MiB", 8),
                  ("rounds", "rounds", 6),
                  ("simulated_again", "again", 7), ("engine_vs_bare", "x bare", 7), ("engine_vs_bare_cpu", "x CPU", 6),
                  ("speed_up", "speed-up", 8), ("same_log", "same log", 8)]

SIZE_COLUMNS = [("customers", "customers", 10), ("findings", "findings", 8), ("findings_s", "find. s", 8),
                ("findings_rss_mib", "RSS MiB", 8), ("findings_worker_rss_mib", "worker MiB", 10),
                ("findings_tree_mib", "tree MiB", 8),
                ("report_s", "report s", 9), ("report_rss_mib", "RSS MiB", 8), ("bare_s", "bare s", 8),
                ("bare_cpu_s", "CPU s", 7), ("bare_rss_mib", "RSS MiB", 8)]


def header(columns: list[tuple[str, str, int]]) -> str:
    return " ".join(f"{title:>{width}}" for _, title, width in columns)


def format_row(row: dict[str, Any], columns: list[tuple[str, str, int]]) -> str:
    def cell(key: str) -> str:
        value = row.get(key)
        return "-" if value is None else f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) \
            else str(value)
    return " ".join(f"{cell(key):>{width}}" for key, _, width in columns)


def annotate(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Engine rows with the speed-up over the size's first (smallest) worker count and whether the log
    is the same as its (``speed_up``, ``same_log``: for the table)."""
    first: dict[int, dict[str, Any]] = {}
    out = []
    for row in sorted(rows, key=lambda r: (r["customers"], r["workers"])):
        ref = first.setdefault(row["customers"], row)
        same = _same_log(row, ref)
        out.append({**row, "speed_up": None if row is ref else f"x{speed_up(row, ref):.2f}",
                    "same_log": ("ref" if row is ref else "yes") if same else "NO"})
    return out


#: The targets of the issue "Engine at scale, second step" (engine vs bare SimPy, linear cost, 1M end to end).
BARE_RATIO = 2.0
LINEAR_SHARE = 0.8
END_TO_END_S = 180.0
END_TO_END_MIB = 4096.0
END_TO_END_SIZE = 1_000_000


def engine_peak_mib(row: dict[str, Any]) -> float:
    """Peak memory of an engine phase: the main process plus, for a split run, every worker at the size of
    the largest one (they run at once). An upper bound: pages a forked worker still shares with the main
    process (copy-on-write) are counted in both."""
    workers = row["workers"] if row["workers"] > 1 else 0
    return round(row["engine_rss_mib"] + workers * (row.get("engine_worker_rss_mib") or 0.0), 1)


def peak_mib(row: dict[str, Any], size_row: dict[str, Any]) -> float:
    """Upper bound of the run's peak memory from the kernel's peak RSS of each process: the largest of
    its phases (they run one after another). The engine counts as :func:`engine_peak_mib`; the findings
    phase its main process plus every worker at the size of the largest one."""
    findings = size_row["findings_rss_mib"] + size_row.get("findings_workers", 1) * size_row.get(
        "findings_worker_rss_mib", 0.0)
    return round(max(engine_peak_mib(row), findings, size_row["report_rss_mib"]), 1)


def tree_peak_mib(row: dict[str, Any], size_row: dict[str, Any]) -> float | None:
    """The run's peak memory as sampled: the largest of the engine's and the findings' process-tree peaks
    (:class:`TreePeak`: main process plus workers, shared pages once) and the report's (its peak RSS,
    exact for one process, or its tree if larger); None when the trees were not sampled (not Linux)."""
    engine, findings = row.get("engine_tree_mib"), size_row.get("findings_tree_mib")
    if engine is None or findings is None:
        return None
    return round(max(engine, findings, size_row["report_rss_mib"], size_row.get("report_tree_mib") or 0.0), 1)


def _on(workers: int) -> str:
    return f"{workers} worker{'s' if workers != 1 else ''}"


def targets(rows: list[dict[str, Any]], size_rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets against what was measured (only those the sizes and worker counts run can
    answer): ``rows`` the engine rows (one per size and worker count), ``size_rows`` the findings, report
    and bare figures per size. Speed-ups are figures, not targets (their lines say "figure")."""
    by: dict[int, dict[int, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["customers"], {})[r["workers"]] = r
    sizes = {r["customers"]: r for r in size_rows}
    out = []

    def line(ok: bool, text: str) -> None:
        out.append(f"  [{'met' if ok else 'MISSED'}] {text}")

    for size, per in sorted(by.items()):
        ref_n = min(per)
        ref = per[ref_n]
        if len(set(ref.get("events_sha256_all", []))) > 1:
            line(False, f"events.parquet the same in every repeat on {_on(ref_n)} at {size:,}: "
                        f"{len(set(ref['events_sha256_all']))} different sha256")
        for n, r in sorted(per.items()):
            if n == ref_n:
                continue
            same = _same_log(r, ref)
            line(same, f"events.parquet on {_on(n)} byte-identical to {_on(ref_n)} at {size:,}: "
                       + (f"sha256 {ref['events_sha256'][:16]}" if same else
                          f"sha256 {', '.join(s[:16] for s in r.get('events_sha256_all', [r['events_sha256']]))} vs "
                          f"{ref['events_sha256'][:16]} ({r['events']:,} vs {ref['events']:,} events)"))
    for size, per in sorted(by.items()):
        for n, r in sorted(per.items()):
            if "engine_vs_bare" in r:
                line(r["engine_vs_bare"] <= BARE_RATIO,
                     f"engine <= {BARE_RATIO:g}x bare SimPy at {size:,} on {_on(n)} (same run, wall): "
                     f"{r['engine_vs_bare']}x ({r['engine_s']} s vs {sizes[size]['bare_s']} s)")
    for size, per in sorted(by.items()):
        ref_n = min(per)
        for n, r in sorted(per.items()):
            if n != ref_n:
                relaxed = "" if r.get("rounds") is None else \
                    f"; {r['rounds']} rounds, {r['simulated_again']:,} customers simulated again"
                out.append(f"  [figure] speed-up at {size:,}: x{speed_up(r, per[ref_n]):.2f} on {_on(n)} over "
                           f"{_on(ref_n)} (wall {r['engine_s']} s vs {per[ref_n]['engine_s']} s; CPU "
                           f"{r['engine_cpu_s']} s vs {per[ref_n]['engine_cpu_s']} s{relaxed})")
    small, large = min(by), max(by)
    if large > small:
        for n in sorted(set(by[small]) & set(by[large])):
            a, b = by[small][n], by[large][n]
            share = b["customers_per_s"] / a["customers_per_s"]
            line(share >= LINEAR_SHARE, f"customers/s at {large:,} >= {100 * LINEAR_SHARE:.0f}% of {small:,} on "
                                        f"{_on(n)}: {100 * share:.0f}% ({b['customers_per_s']:,} vs "
                                        f"{a['customers_per_s']:,})")
    if END_TO_END_SIZE in by and END_TO_END_SIZE in sizes:
        s = sizes[END_TO_END_SIZE]
        totals = {n: round(r["engine_s"] + s["findings_s"] + s["report_s"], 2) for n, r in by[END_TO_END_SIZE].items()}
        best = min(totals, key=lambda n: (totals[n], n))
        r = by[END_TO_END_SIZE][best]
        others = "; ".join(f"{_on(n)}: {t} s" for n, t in sorted(totals.items()) if n != best)
        line(totals[best] <= END_TO_END_S,
             f"1M end to end (engine + findings + report) <= {END_TO_END_S / 60:g} min, best on {_on(best)}: "
             f"{totals[best]} s ({r['engine_s']} + {s['findings_s']} + {s['report_s']})"
             + (f" [{others}]" if others else ""))
        bound, sampled = peak_mib(r, s), tree_peak_mib(r, s)
        if sampled is None:
            line(bound <= END_TO_END_MIB, f"1M peak memory <= {END_TO_END_MIB / 1024:g} GiB on {_on(best)}: "
                                          f"{bound} MiB (upper bound: largest phase, each of engine and findings "
                                          "as main + workers x largest worker's peak RSS; no sampled figure)")
        else:
            line(sampled <= END_TO_END_MIB, f"1M peak memory <= {END_TO_END_MIB / 1024:g} GiB on {_on(best)}: "
                                            f"{sampled} MiB (largest phase, main process + workers sampled, shared "
                                            f"pages once; upper bound from peak RSS {bound} MiB)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(REFERENCE), help="scenario file (default: benchmarks/reference.yaml)")
    parser.add_argument("--sizes", type=lambda text: parse_counts(text, "10000,100000"), default=[10_000, 100_000],
                        help="comma-separated population sizes (default: 10000,100000)")
    parser.add_argument("--workers", type=parse_counts, default=[1],
                        help="comma-separated worker counts for the engine phase, as `journeysim run --workers N` "
                             "(default: 1); findings and report run once per size, on the smallest count's folder")
    parser.add_argument("--repeat", type=int, default=1, help="runs per size; medians are printed")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-SimPy comparison")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--keep", type=Path, default=None, help="keep the run folders under this folder")
    parser.add_argument("--phase", choices=["engine", "findings", "report", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "engine":
        print(json.dumps(phase_engine(args.scenario, args.size, args.seed, args.folder, args.workers[0])))
        return
    if args.phase == "findings":
        print(json.dumps(phase_findings(args.folder)))
        return
    if args.phase == "report":
        print(json.dumps(phase_report(args.folder)))
        return
    if args.phase == "bare":
        print(json.dumps(phase_bare(args.size, args.seed)))
        return
    if args.repeat < 1:
        parser.error(f"argument --repeat: {args.repeat} is not a positive integer")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"scenario {args.scenario}, seed {args.seed}, {args.repeat} repeat(s), workers "
          f"{','.join(map(str, args.workers))}; {machine}")
    print("engine (one row per size and worker count; CPU = main process + workers; RSS = peak of the main "
          "process, worker = of the largest worker (forked: counts the pages it shares with the main process), "
          "tree = main + workers (PSS, sampled), shared pages once; speed-up and same log vs the size's "
          "first row):")
    print(header(ENGINE_COLUMNS), flush=True)
    rows: list[dict[str, Any]] = []
    size_rows: list[dict[str, Any]] = []
    for size in args.sizes:
        runs = [measure(args.scenario, size, args.seed, args.workers, not args.no_bare, args.keep)
                for _ in range(args.repeat)]
        engine_rows = [median_row([run[0][i] for run in runs]) for i in range(len(args.workers))]
        rows.extend(engine_rows)
        size_rows.append(median_row([run[1] for run in runs]))
        for row in annotate(engine_rows):
            print(format_row(row, ENGINE_COLUMNS), flush=True)
    print(f"findings and report (over the {_on(args.workers[0])} folder), bare SimPy model:")
    print(header(SIZE_COLUMNS))
    for row in size_rows:
        print(format_row(row, SIZE_COLUMNS))
    print("targets (issue 'Engine at scale, second step'; 2-core reference machine):")
    print("\n".join(targets(rows, size_rows)) or "  (none can be judged from these sizes: run 10000,100000,1000000)")
    if END_TO_END_SIZE not in args.sizes:
        print("  (1M end to end <= 3 min and <= 4 GiB: only judged when 1000000 is among the sizes)")
    if args.json:
        args.json.write_text(json.dumps({"scenario": args.scenario, "seed": args.seed, "repeat": args.repeat,
                                         "workers": args.workers, "machine": machine, "engine": annotate(rows),
                                         "sizes": size_rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
