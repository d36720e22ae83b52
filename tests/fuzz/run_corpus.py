"""Run a large corpus of generated bad inputs through the CLI once (outside the test suite).

    python -m tests.fuzz.run_corpus --per-class 300 --run-share 0.3

Prints one line per unclean case and the totals: "N generated, N clean, N crashed, N hung".
Every class of tests/fuzz/mutations.py gets ``--per-class`` seeds; a share of the cases that
validate is also run with a few customers (anything validate accepts must build and run).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from .mutations import GENERATORS, generate
from .runner import check


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=300)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--run-share", type=float, default=0.3, help="share of validating cases also run")
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("--classes", default=",".join(GENERATORS))
    args = ap.parse_args(argv)
    picker = random.Random(1)
    totals: Counter = Counter()
    per_class: dict[str, Counter] = {}
    started = time.perf_counter()
    slowest = (0.0, "")
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.classes.split(","):
            counts = per_class.setdefault(kind, Counter())
            for seed in range(args.first_seed, args.first_seed + args.per_class):
                case = generate(kind, seed)
                outcome = check(case, Path(tmp) / f"{kind}-{seed}", run=picker.random() < args.run_share,
                                timeout=args.timeout)
                counts[outcome.status] += 1
                counts["validated"] += outcome.validate_code == 0
                counts["ran"] += outcome.run_code is not None
                totals[outcome.status] += 1
                if outcome.seconds > slowest[0]:
                    slowest = (outcome.seconds, f"{kind} seed {seed} ({case.note[:80]})")
                if outcome.problem:
                    print(f"{outcome.status.upper()} {kind} seed {seed} ({case.note[:120]}): {outcome.problem}",
                          flush=True)
    n = sum(totals[k] for k in ("clean", "crashed", "hung"))
    for kind, c in per_class.items():
        print(f"  {kind:13s} {sum(c[k] for k in ('clean', 'crashed', 'hung')):5d} generated, {c['clean']:5d} clean, "
              f"{c['validated']:4d} validated, {c['ran']:4d} also run")
    print(f"slowest case: {slowest[0]:.1f} s, {slowest[1]}")
    print(f"{n} generated, {totals['clean']} clean, {totals['crashed']} crashed, {totals['hung']} hung "
          f"({time.perf_counter() - started:.0f} s)")
    return 0 if totals["clean"] == n else 1


if __name__ == "__main__":
    sys.exit(main())
