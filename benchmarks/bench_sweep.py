"""Sweep benchmark: the same grid on 1, 2, ... local workers (and optionally a Dask cluster).

Default: 20 variants (the cart reminder's wait from 30m to 10h in 30m steps) x 5 replications of a
10,000-customer cart_abandonment run = 100 runs. Each backend runs `journeysim sweep` in a fresh
subprocess into its own folder; the script prints wall time, runs/s and speed-up against 1 worker,
and checks that every sweep.csv is byte-identical.

    python benchmarks/bench_sweep.py                               # 1 and 2 workers
    python benchmarks/bench_sweep.py --customers 2000 --workers 1,2 --json out.json
    python benchmarks/bench_sweep.py --dask tcp://scheduler:8786    # also time a Dask cluster
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WAIT = "journeys[cart-abandonment].steps[wait_1h].wait"


def one(args: argparse.Namespace, out: Path, backend: list[str]) -> dict:
    cmd = [sys.executable, "-m", "simulator.cli", "sweep", args.scenario, "--vary", args.vary,
           "--replications", str(args.replications), "--customers", str(args.customers), "--out", str(out),
           "--quiet", "--no-report", *backend]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr}")
    summary = json.loads((out / "summary.json").read_text())
    return {"backend": " ".join(backend), "runs": summary["tasks"], "wall_s": round(wall, 1),
            "sweep_s": summary["wall_seconds"], "runs_per_s": round(summary["tasks"] / wall, 3),
            "sweep_csv_sha256": hashlib.sha256((out / "sweep.csv").read_bytes()).hexdigest()[:16]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "cart_abandonment.yaml"))
    parser.add_argument("--vary", default=f"{WAIT}=30m..10h/30m", help="one --vary (default: 20 wait lengths)")
    parser.add_argument("--replications", type=int, default=5)
    parser.add_argument("--customers", type=int, default=10000)
    parser.add_argument("--workers", default="1,2", help="comma-separated local worker counts")
    parser.add_argument("--dask", default=None, help="also run on this Dask scheduler address")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this JSON file")
    args = parser.parse_args()
    backends = [["--workers", w.strip()] for w in args.workers.split(",") if w.strip()]
    if args.dask:
        backends.append(["--dask", args.dask])
    rows = []
    print(f"{'backend':>22} {'runs':>5} {'wall s':>8} {'runs/s':>7} {'speed-up':>9}  sweep.csv sha256")
    with tempfile.TemporaryDirectory() as tmp:
        for i, backend in enumerate(backends):
            row = one(args, Path(tmp) / f"sweep{i}", backend)
            row["speedup"] = round(rows[0]["wall_s"] / row["wall_s"], 2) if rows else 1.0
            rows.append(row)
            print(f"{row['backend']:>22} {row['runs']:>5} {row['wall_s']:>8} {row['runs_per_s']:>7} "
                  f"{row['speedup']:>8}x  {row['sweep_csv_sha256']}", flush=True)
    same = len({r["sweep_csv_sha256"] for r in rows}) == 1
    print("sweep.csv byte-identical across backends:", "yes" if same else "NO")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
