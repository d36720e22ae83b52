"""Throughput of compiled conditions: scalar ``__call__`` on dict records and ``evaluate_many``.

Run from the repository root: ``python benchmarks/bench_conditions.py --n 1000000``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from a checkout

from simulator.scenario.conditions import compile_condition  # noqa: E402

TEXT = "stage == 'B' and lifetime_value > 100"


def main() -> None:
    """Parse arguments, time both evaluation paths and print evaluations per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="records / rows to evaluate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    stage = rng.choice(np.array(["A", "B"]), size=args.n, p=[0.8, 0.2])
    ltv = rng.normal(120.0, 40.0, size=args.n)
    missing = rng.random(args.n) < 0.05  # some customers have no lifetime_value at all
    records = [{"stage": s, "lifetime_value": v} if not m else {"stage": s}
               for s, v, m in zip(stage.tolist(), ltv.tolist(), missing.tolist())]
    cond = compile_condition(TEXT)

    start = time.perf_counter()
    hits = 0
    for record in records:
        if cond(record):
            hits += 1
    scalar = time.perf_counter() - start
    print(f"condition: {TEXT}")
    print(f"scalar __call__ : {args.n / scalar:>14,.0f} evaluations/s  ({args.n:,} dict records, {hits:,} true)")

    ltv_obj = ltv.astype(object)
    ltv_obj[missing] = None
    for label, columns in (("float64/str", {"stage": stage, "lifetime_value": np.where(missing, np.nan, ltv)}),
                           ("object+None", {"stage": stage.astype(object), "lifetime_value": ltv_obj})):
        cond.evaluate_many(columns)  # warm-up
        start = time.perf_counter()
        out = cond.evaluate_many(columns)
        elapsed = time.perf_counter() - start
        print(f"evaluate_many   : {args.n / elapsed:>14,.0f} rows/s        ({label} columns, {int(out.sum()):,} true)")
        if int(out.sum()) != hits:
            raise SystemExit("evaluate_many disagrees with __call__")


if __name__ == "__main__":
    main()
