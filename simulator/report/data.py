"""Everything the report needs, read from a run folder with column selection (never the whole log
as Python objects), and the analysts' exports (daily_frequency.csv, sends.csv).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulator.errors import UsageError
from simulator.events import read_events
from simulator.scenario.model import Scenario

__all__ = ["RunData", "load_run", "with_local_time", "weekly_counts"]


def with_local_time(deliveries: pd.DataFrame, zones: pd.Series) -> pd.DataFrame:
    """Add ``timezone`` (from ``zones``, indexed by customer) and ``local`` (naive local wall time of ``ts``)."""
    d = deliveries
    d["timezone"] = d["customer"].map(zones)
    local = pd.Series(index=d.index, dtype="datetime64[ns]")
    for zone, rows in d.groupby("timezone").groups.items():
        local.loc[rows] = d.loc[rows, "ts"].dt.tz_convert(zone).dt.tz_localize(None)
    d["local"] = local
    return d


def weekly_counts(deliveries: pd.DataFrame) -> pd.DataFrame:
    """Messages per customer per local (Monday-start) week and channel, for customers messaged at all:
    columns channel, customer, week, messages. ``deliveries`` needs channel, customer and local."""
    d = deliveries
    week = d["local"].dt.to_period("W-SUN").astype(str)
    return d.assign(week=week).groupby(["channel", "customer", "week"]).size().rename("messages").reset_index()


@dataclass
class RunData:
    folder: Path
    scenario: Scenario
    summary: dict[str, Any]
    customers: pd.DataFrame
    findings: pd.DataFrame

    def log(self, kinds: list[str], columns: list[str]) -> pd.DataFrame:
        """Rows of the given kinds, only the given columns."""
        return read_events(self.folder / "events.parquet", columns=columns, filters=[("kind", "in", kinds)])

    @cached_property
    def sync_lags(self) -> pd.DataFrame | None:
        """Every sync arrival's lag (link, field, lag seconds) as the findings pass saved it, or None."""
        path = self.folder / "sync_lags.parquet"
        return pd.read_parquet(path) if path.exists() else None

    @cached_property
    def deliveries(self) -> pd.DataFrame:
        """Delivered messages with the customer's zone and local date/weekday/hour."""
        d = self.log(["delivered"], ["t", "ts", "customer", "journey", "step", "channel", "message"])
        d = with_local_time(d, self.customers.set_index("customer")["timezone"])
        d["local_date"] = d["local"].dt.date
        return d

    @cached_property
    def daily_frequency(self) -> pd.DataFrame:
        """Customer-days by channel and messages that day (zeros included for customers who were messaged
        on the channel at least once): columns channel, messages_per_day, customer_days, share."""
        d = self.deliveries
        days = max(1, int(round(self.scenario.duration / 86400)))
        rows = []
        for channel in sorted(set(d["channel"])) + ["any"]:
            sub = d if channel == "any" else d[d["channel"] == channel]
            counts = sub.groupby(["customer", "local_date"]).size()
            messaged = sub["customer"].nunique()
            zero_days = max(0, messaged * days - len(counts))
            table = counts.value_counts().sort_index()
            table.loc[0] = zero_days
            table = table.sort_index()
            total = table.sum()
            for k, n in table.items():
                rows.append({"channel": channel, "messages_per_day": int(k), "customer_days": int(n),
                             "share": n / total if total else 0.0})
        return pd.DataFrame(rows, columns=["channel", "messages_per_day", "customer_days", "share"])

    def weekly_counts(self) -> pd.DataFrame:
        """Messages per customer per (local, Monday-start) week and channel, for customers messaged at all."""
        return weekly_counts(self.deliveries)

    def export(self) -> list[Path]:
        """Write daily_frequency.csv and sends.csv next to the log; returns the paths."""
        from simulator.fileio import atomic_path

        out = []
        with atomic_path(self.folder / "daily_frequency.csv") as tmp:
            self.daily_frequency.to_csv(tmp, index=False)
        out.append(self.folder / "daily_frequency.csv")
        sends = self.deliveries[["ts", "customer", "timezone", "local", "journey", "step", "channel", "message"]]
        with atomic_path(self.folder / "sends.csv") as tmp:
            sends.rename(columns={"ts": "delivered_utc", "local": "delivered_local"}).to_csv(tmp, index=False)
        out.append(self.folder / "sends.csv")
        return out


def load_run(folder: str | Path, summary: dict[str, Any] | None = None) -> RunData:
    """Open a run folder (events.parquet, customers.parquet, findings.csv, summary.json, scenario.json).

    ``summary`` stands in for summary.json while a run is still being written.
    """
    folder = Path(folder)
    needed = ("events.parquet", "customers.parquet", "scenario.json") + (() if summary else ("summary.json",))
    missing = [n for n in needed if not (folder / n).exists()]
    if missing:
        hint = "; the run failed, see its summary.json" if folder.with_name(folder.name + ".failed").exists() else ""
        raise UsageError(f"{folder} is not a complete run folder (missing {', '.join(missing)}){hint}")
    scenario = Scenario.model_validate(json.loads((folder / "scenario.json").read_text()))
    summary = summary if summary is not None else json.loads((folder / "summary.json").read_text())
    findings = pd.read_csv(folder / "findings.csv") if (folder / "findings.csv").exists() else pd.DataFrame()
    return RunData(folder, scenario, summary, pd.read_parquet(folder / "customers.parquet"), findings)


def percentiles(values: np.ndarray, qs=(50, 95, 99)) -> dict[int, float]:
    return {q: float(np.percentile(values, q)) for q in qs} if len(values) else {q: 0.0 for q in qs}
