"""Engine benchmark: customers/s, events/s, wall time and peak RSS per population size.

Each size runs in a fresh subprocess so its peak RSS is its own. The event log is written to a
temporary folder exactly as `journeysim run` writes it.

    python benchmarks/bench_engine.py                      # 10k and 100k on the cart scenario
    python benchmarks/bench_engine.py --sizes 1000,10000 --scenario scenarios/promo_calendar.yaml --json out.json
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def one(scenario: str, size: int, seed: int) -> dict:
    from simulator.engine import run_scenario
    from simulator.scenario.load import load_scenario

    sc = load_scenario(scenario)
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        result = run_scenario(sc, seed=seed, customers=size, out=Path(tmp) / "run")
        wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"scenario": sc.scenario, "customers": size, "events": result.log.rows, "wall_s": round(wall, 2),
            "customers_per_s": round(size / wall), "events_per_s": round(result.log.rows / wall),
            "peak_rss_mib": round(peak, 1), "simulated_days": sc.duration / 86400}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "cart_abandonment.yaml"))
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated population sizes")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    parser.add_argument("--one", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one is not None:
        print(json.dumps(one(args.scenario, args.one, args.seed)))
        return
    rows = []
    print(f"{'customers':>10} {'events':>10} {'wall s':>8} {'cust/s':>9} {'events/s':>10} {'peak RSS MiB':>13}")
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        out = subprocess.run([sys.executable, __file__, "--scenario", args.scenario, "--seed", str(args.seed),
                              "--one", str(size)], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{row['customers']:>10} {row['events']:>10} {row['wall_s']:>8} {row['customers_per_s']:>9} "
              f"{row['events_per_s']:>10} {row['peak_rss_mib']:>13}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
