"""Profile the engine phase of ``bench_engine.py`` (the simulation writing its event log) with cProfile.

    python benchmarks/profile_engine.py --size 20000                 # top 25 by tottime and cumtime
    python benchmarks/profile_engine.py --size 20000 --top 40 --stats engine.prof
    py-spy record -o engine.svg -- python benchmarks/profile_engine.py --size 20000 --no-profile

cProfile roughly doubles the run time and charges its overhead to every call, so small functions
called millions of times look heavier than they are; ``--no-profile`` runs the same work bare (for a
sampling profiler such as py-spy, or to time it). Figures are never asserted anywhere.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import tempfile
import time
from pathlib import Path

from simulator.engine import Engine
from simulator.engine.events import EventLog
from simulator.scenario.load import load_scenario
from simulator.scenario.model import Scenario

HERE = Path(__file__).resolve().parent
REFERENCE = HERE / "reference.yaml"


def run_engine(sc: Scenario, size: int, seed: int, folder: Path) -> int:
    """The timed part of ``bench_engine.py``'s engine phase; returns the number of records."""
    with EventLog(folder / "events.parquet", sc.start) as log:
        Engine(sc, seed=seed, log=log, size=size).run()
    return log.rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", default=str(REFERENCE))
    parser.add_argument("--size", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--top", type=int, default=25, help="entries printed per sort order")
    parser.add_argument("--stats", type=Path, default=None, help="also save the raw pstats here")
    parser.add_argument("--no-profile", action="store_true", help="run without cProfile (for py-spy or timing)")
    args = parser.parse_args()
    sc = load_scenario(args.scenario)  # outside the timed part, as in bench_engine.py
    with tempfile.TemporaryDirectory(prefix="profile-engine-") as tmp:
        started, cpu = time.perf_counter(), time.process_time()
        if args.no_profile:
            rows = run_engine(sc, args.size, args.seed, Path(tmp))
            print(f"{args.size} customers, {rows} records, {time.perf_counter() - started:.2f} s wall, "
                  f"{time.process_time() - cpu:.2f} s CPU (no profiler)")
            return
        profiler = cProfile.Profile()
        rows = profiler.runcall(run_engine, sc, args.size, args.seed, Path(tmp))
        wall = time.perf_counter() - started
    if args.stats:
        profiler.dump_stats(str(args.stats))
    print(f"{args.size} customers, {rows} records, {wall:.2f} s under cProfile")
    for order in ("tottime", "cumtime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(args.top)
        text = out.getvalue()
        print(f"\n=== top {args.top} by {order} ===")
        print(text[text.index("   ncalls"):] if "   ncalls" in text else text)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
