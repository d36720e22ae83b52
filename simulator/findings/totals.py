"""Run-wide denominators and lags behind the aggregates and recommendations.

They are additive over disjoint sets of customers, so an analysis split into customer shards (to keep
memory bounded on large runs) merges them into exactly the figures of one pass over the whole log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from simulator.findings.context import FindingContext

__all__ = ["RunTotals", "link_lags"]


def link_lags(ctx: FindingContext) -> pd.DataFrame:
    """Every arrival with its observed lag: columns link, field, lag (seconds from truth change)."""
    arrivals = ctx.of("sync", "out-of-order")[["customer", "field", "version", "t", "detail"]]
    truth = ctx.of("truth")[["customer", "field", "version", "t"]].rename(columns={"t": "changed"})
    joined = arrivals.merge(truth, on=["customer", "field", "version"], how="inner")
    joined["link"] = joined["detail"].str.extract(r"link=([^;]+)", expand=False)
    joined["lag"] = joined["t"] - joined["changed"]
    out = joined[["link", "field", "lag"]].reset_index(drop=True)
    return out.astype({"link": "category", "field": "category"})  # millions of rows at scale: no str objects


@dataclass
class RunTotals:
    """Distinct customers per journey and per step, who entered any journey, who got any message, and
    every sync arrival's lag."""

    entered: Counter            # journey -> distinct customers who entered it
    reached: Counter            # (journey, step) -> distinct customers who reached it
    entered_any: int            # distinct customers who entered any journey
    messaged: int               # distinct customers with a delivered message
    lags: pd.DataFrame          # link, field, lag (seconds), one row per arrival

    @classmethod
    def of(cls, ctx: FindingContext) -> RunTotals:
        entries = ctx.of("entry")
        steps = ctx.of("step")
        return cls(Counter(entries.groupby("journey")["customer"].nunique().to_dict()),
                   Counter(steps.groupby(["journey", "step"])["customer"].nunique().to_dict()),
                   int(entries["customer"].nunique()), int(ctx.of("delivered")["customer"].nunique()),
                   link_lags(ctx))

    @classmethod
    def merge(cls, parts: Iterable[RunTotals]) -> RunTotals:
        """The totals of the union of disjoint customer sets."""
        parts = list(parts)
        entered: Counter = Counter()
        reached: Counter = Counter()
        for p in parts:
            entered.update(p.entered)
            reached.update(p.reached)
        frames = [p.lags for p in parts if len(p.lags)]
        if frames:
            lags = pd.DataFrame({c: union_categoricals([f[c] for f in frames]) for c in ("link", "field")})
            lags["lag"] = np.concatenate([f["lag"].to_numpy() for f in frames])
        else:
            lags = parts[0].lags if parts else pd.DataFrame(columns=["link", "field", "lag"])
        return cls(entered, reached, sum(p.entered_any for p in parts), sum(p.messaged for p in parts), lags)
