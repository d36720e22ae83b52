"""What a platform preset costs the engine: the reference scenario with and without ``platform: P``.

Each variant runs in a fresh interpreter, one after the other (``--order`` interleaves repeats so a
drift in the machine's load hits every variant alike): build the engine and run the clock, writing
events.parquet to a temporary folder (as ``journeysim run`` does), without findings or report. Prints
the engine seconds per variant, the ratio to the run without a platform, the events logged (a preset
changes behaviour, so the event counts differ) and the 1-minute load average before each run. The
process CPU seconds are shown too: on a shared machine they move much less with the load than wall time.

    python benchmarks/bench_platforms.py                                  # 100k customers: none, braze, dittofeed
    python benchmarks/bench_platforms.py --customers 10000 --platforms braze,sfmc,ajo --repeat 3

Figures come from this machine and are never asserted in tests.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.yaml"


def phase(scenario: str, size: int, seed: int, platform: str | None, folder: Path) -> dict[str, Any]:
    from simulator.engine import Engine
    from simulator.engine.events import EventLog
    from simulator.scenario.load import load_scenario

    sc = load_scenario(scenario, overrides=[f"platform={platform}"] if platform else [])
    folder.mkdir(parents=True, exist_ok=True)
    started, cpu = time.perf_counter(), time.process_time()
    with EventLog(folder / "events.parquet", sc.start) as log:
        engine = Engine(sc, seed=seed, log=log, size=size)
        engine.run()
    return {"wall_s": round(time.perf_counter() - started, 2), "cpu_s": round(time.process_time() - cpu, 2),
            "events": log.rows}


def child(scenario: str, size: int, seed: int, platform: str | None) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-platform-"))
    try:
        args = [sys.executable, __file__, "--phase", "--scenario", scenario, "--customers", str(size),
                "--seed", str(seed), "--folder", str(tmp / "run")] + (["--platform", platform] if platform else [])
        load = os.getloadavg()[0]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise SystemExit(f"{platform or 'no platform'} failed with exit code {done.returncode}")
        return {**json.loads(done.stdout.strip().splitlines()[-1]), "load": round(load, 2)}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(REFERENCE))
    ap.add_argument("--customers", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--platforms", default="braze,dittofeed", help="comma-separated presets to compare with none")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--phase", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--platform", help=argparse.SUPPRESS)
    ap.add_argument("--folder", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.phase:
        print(json.dumps(phase(a.scenario, a.customers, a.seed, a.platform, Path(a.folder))))
        return
    variants: list[str | None] = [None, *[p.strip() for p in a.platforms.split(",") if p.strip()]]
    runs: dict[str, list[dict[str, Any]]] = {str(v): [] for v in variants}
    for r in range(a.repeat):
        for v in variants:
            res = child(a.scenario, a.customers, a.seed, v)
            runs[str(v)].append(res)
            print(f"  repeat {r + 1}: {v or 'no platform':12} {res['wall_s']:8.2f} s wall {res['cpu_s']:8.2f} s CPU  "
                  f"{res['events']:>10,} events  load {res['load']}", flush=True)
    base = statistics.median(x["wall_s"] for x in runs["None"])
    base_cpu = statistics.median(x["cpu_s"] for x in runs["None"])
    print(f"\n{Path(a.scenario).name}, {a.customers:,} customers, seed {a.seed}, median of {a.repeat} "
          f"({os.cpu_count()} cores; 1-min load average before each run shown above)")
    print(f"  {'platform':12} {'wall s':>9} {'vs none':>8} {'CPU s':>9} {'vs none':>8} {'events':>11}")
    out = []
    for v in variants:
        wall = statistics.median(x["wall_s"] for x in runs[str(v)])
        cpu = statistics.median(x["cpu_s"] for x in runs[str(v)])
        events = runs[str(v)][0]["events"]
        print(f"  {v or 'none':12} {wall:9.2f} {wall / base:8.3f} {cpu:9.2f} {cpu / base_cpu:8.3f} {events:>11,}")
        out.append({"platform": v, "engine_s": wall, "ratio": round(wall / base, 3), "cpu_s": cpu,
                    "cpu_ratio": round(cpu / base_cpu, 3), "events": events, "runs": runs[str(v)]})
    if a.json:
        Path(a.json).write_text(json.dumps({"scenario": a.scenario, "customers": a.customers, "seed": a.seed,
                                            "rows": out}, indent=2))


if __name__ == "__main__":
    main()
