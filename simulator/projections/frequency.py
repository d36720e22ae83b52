"""Frequency against engagement, opt-outs and conversion (docs/projections.md#frequency-curves).

Customers are grouped by how many messages were **delivered** to them during the run (all channels;
0, 1, ..., 9 and "10+" by default). For each group: the share who **engaged** (at least one
``<channel>_opened`` or ``<channel>_clicked`` event), the share who **opted out** (at least one
``<channel>_unsubscribed`` event: a link or STOP unsubscribe, or a fatigue opt-out of the response
model), and the share who **converted** (the conversion event at any time in the run), each with a
Wilson 95% interval.

These are associations in the simulated population, not causal effects: a customer who opts out
early receives fewer messages afterwards, which lowers the opt-out share of the high-frequency
groups. The causal question "what does one more message do" is answered by a holdout, a split or
``run --impact``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulator.projections.stats import wilson

__all__ = ["TOP", "frequency_curves"]

#: the last frequency group holds everyone with at least this many deliveries
TOP = 10


def _share(mask: np.ndarray) -> dict[str, Any]:
    n, x = int(len(mask)), int(mask.sum())
    interval = wilson(x, n)
    return {"count": x, "rate": x / n if n else None,
            "low": interval[0] if interval else None, "high": interval[1] if interval else None}


def frequency_curves(events: pd.DataFrame, customers: pd.Series, conversion: str, top: int = TOP) -> dict[str, Any]:
    """``projections.frequency``: one row per frequency group. ``events`` needs ``kind``, ``customer`` and
    ``field`` for the ``delivered`` and ``event`` records; ``customers`` is every customer id of the run."""
    ids = pd.Index(customers.astype(str))
    delivered = events.loc[events["kind"] == "delivered", "customer"].value_counts()
    ev = events[events["kind"] == "event"]
    field = ev["field"].astype(str)
    engaged = set(ev.loc[field.str.endswith(("_opened", "_clicked")), "customer"])
    opted = set(ev.loc[field.str.endswith("_unsubscribed"), "customer"])
    converted = set(ev.loc[field == conversion, "customer"])
    count = delivered.reindex(ids, fill_value=0).to_numpy()
    group = np.minimum(count, top)
    rows = []
    for g in range(0, top + 1):
        who = ids[group == g]
        if len(who) == 0:
            continue
        rows.append({"deliveries": f"{top}+" if g == top else str(g), "customers": int(len(who)),
                     "engaged": _share(who.isin(engaged)), "opted_out": _share(who.isin(opted)),
                     "converted": _share(who.isin(converted))})
    return {"groups": rows, "top": top}
