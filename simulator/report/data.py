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
from simulator.engine.events import read_events
from simulator.findings.aggregate import wilson
from simulator.scenario.model import Scenario

__all__ = ["RunData", "load_run", "with_local_time", "weekly_counts", "wilson_interval", "hop_lags",
           "sms_segment_table"]


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


def wilson_interval(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of a proportion (the findings table's interval); (0, 0) for n == 0."""
    if n <= 0:
        return 0.0, 0.0
    return wilson(successes, n)


def hop_lags(events: pd.DataFrame, link_source: dict[str, str]) -> pd.DataFrame:
    """Per arrival: ``end_to_end`` (seconds from the truth change at its origin to this arrival) and
    ``per_link`` (seconds from the version being at the link's source system to this arrival: the
    truth change when the source is the origin, else the earliest arrival of that version there).

    ``events``: truth, sync and out-of-order rows with customer, kind, system, field, version, t, detail;
    ``link_source``: link label -> its ``from`` system. Columns: link, field, end_to_end, per_link (NaN
    when the version never reached the source, which cannot happen for a delivered arrival)."""
    truth = events[events["kind"] == "truth"][["customer", "field", "version", "t", "system"]].rename(
        columns={"t": "changed", "system": "origin"})
    arrivals = events[events["kind"].isin(["sync", "out-of-order"])][
        ["customer", "field", "version", "t", "system", "detail"]].copy()
    arrivals["link"] = arrivals["detail"].str.extract(r"link=([^;]+)", expand=False)
    joined = arrivals.merge(truth, on=["customer", "field", "version"], how="inner")
    joined["source"] = joined["link"].map(link_source)
    first_at = (arrivals.groupby(["customer", "field", "version", "system"], observed=True)["t"].min()
                .rename("at_source").reset_index().rename(columns={"system": "source"}))
    joined = joined.merge(first_at, on=["customer", "field", "version", "source"], how="left")
    at_source = joined["changed"].where(joined["source"] == joined["origin"], joined["at_source"])
    out = pd.DataFrame({"link": joined["link"], "field": joined["field"],
                        "end_to_end": joined["t"] - joined["changed"], "per_link": joined["t"] - at_source})
    return out.reset_index(drop=True)


def sms_segment_table(queued: pd.DataFrame, days: float, budgets: dict[str, int | None] | None = None) -> pd.DataFrame:
    """SMS segments per message (SMS is billed per segment), from the ``queued`` records of SMS sends
    (``message`` and ``detail`` with ``enc=...; seg=N``): sends, sends per encoding, segments per send
    (mean and max), sends over the message's budget, total segments and segments per day over ``days``
    simulated days. A send counts when the channel accepted it for sending (its ``queued`` record).
    One row per message, by name; empty when no SMS was sent."""
    columns = ["message", "sends", "GSM-7 sends", "UCS-2 sends", "segments per send", "max segments per send",
               "budget", "sends over budget", "segments", "segments per day"]
    parts = queued["detail"].str.extract(r"enc=([^;]+); seg=(\d+)") if len(queued) else None
    if parts is None or parts[1].isna().all():
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"message": queued["message"].to_numpy(), "enc": parts[0].to_numpy(),
                          "seg": parts[1].astype(float).to_numpy()}).dropna()
    frame["seg"] = frame["seg"].astype(int)
    rows = []
    for name, g in frame.groupby("message", sort=True):
        budget = (budgets or {}).get(name)
        total = int(g["seg"].sum())
        rows.append({"message": name, "sends": len(g), "GSM-7 sends": int((g["enc"] == "GSM-7").sum()),
                     "UCS-2 sends": int((g["enc"] == "UCS-2").sum()), "segments per send": round(total / len(g), 3),
                     "max segments per send": int(g["seg"].max()), "budget": budget if budget is not None else "none",
                     "sends over budget": int((g["seg"] > budget).sum()) if budget is not None else 0,
                     "segments": total, "segments per day": round(total / days, 3)})
    return pd.DataFrame(rows, columns=columns)


#: Above this many customers, per-link lags in the report are computed on this many (the first ids).
HOP_SAMPLE = 200_000


@dataclass
class RunData:
    folder: Path
    scenario: Scenario
    summary: dict[str, Any]
    customers: pd.DataFrame
    findings: pd.DataFrame
    sampled: int | None = None  # set by hop_lags when it used a sample of customers

    def log(self, kinds: list[str], columns: list[str]) -> pd.DataFrame:
        """Rows of the given kinds, only the given columns."""
        return read_events(self.folder / "events.parquet", columns=columns, filters=[("kind", "in", kinds)])

    @cached_property
    def sync_lags(self) -> pd.DataFrame | None:
        """Every sync arrival's lag (link, field, lag seconds) as the findings pass saved it, or None."""
        path = self.folder / "sync_lags.parquet"
        return pd.read_parquet(path) if path.exists() else None

    @cached_property
    def hop_lags(self) -> pd.DataFrame | None:
        """Every arrival's per-link and end-to-end lag (:func:`hop_lags`), from the log; None without sync.

        Large runs: above ``HOP_SAMPLE`` customers the lags are computed for the first ``HOP_SAMPLE`` customer
        ids (deterministic), and ``sampled`` says how many customers that is."""
        ids = None
        if len(self.customers) > HOP_SAMPLE:
            ids = sorted(self.customers["customer"].astype(str))[:HOP_SAMPLE]
        filters = [("kind", "in", ["truth", "sync", "out-of-order"])]
        if ids is not None:
            filters.append(("customer", "in", ids))
        events = read_events(self.folder / "events.parquet",
                             columns=["customer", "kind", "system", "field", "version", "t", "detail"], filters=filters)
        self.sampled = len(ids) if ids is not None else None
        if events.empty or not (events["kind"] != "truth").any():
            return None
        return hop_lags(events, {link.label: link.from_ for link in self.scenario.sync})

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
        """Messages per customer per (local, Monday-start) week and channel, for customers messaged at all;
        channel ``any`` counts every channel together."""
        per_channel = weekly_counts(self.deliveries)
        if per_channel.empty:
            return per_channel
        every = per_channel.groupby(["customer", "week"])["messages"].sum().reset_index().assign(channel="any")
        return pd.concat([per_channel, every[per_channel.columns]], ignore_index=True)

    @property
    def days(self) -> int:
        """Simulated days, counting a partial last day."""
        return max(1, int(np.ceil(self.scenario.duration / 86400 - 1e-9)))

    def findings_per_day(self) -> pd.DataFrame:
        """Findings per simulated day (rows: day 1 .. the run's last day, empty days as zeros; columns: kinds)."""
        f = self.findings
        index = pd.RangeIndex(1, self.days + 1, name="day")
        if f.empty:
            return pd.DataFrame(index=index)
        day = (f["t"] // 86400).astype(int) + 1
        table = pd.crosstab(day, f["kind"]).reindex(index, fill_value=0)
        table.columns.name = None
        return table

    def funnel_table(self) -> pd.DataFrame:
        """Per journey and step, counted in entries (a customer who re-enters counts each time, like the run
        summary's entries): entries, reached, sends decided, suppressed, exits on exit_when; plus distinct
        customers who entered. One row per step, in the journey's order."""
        ev = self.log(["entry", "step", "send", "suppressed", "exit"], ["kind", "journey", "step", "customer", "detail"])
        rows = []
        for j in self.scenario.journeys:
            mine = ev[ev["journey"] == j.name]
            entries = int((mine["kind"] == "entry").sum())
            customers = int(mine.loc[mine["kind"] == "entry", "customer"].nunique())
            order = [s.id for s in j.steps]

            def per_step(mask: pd.Series) -> pd.Series:
                return mine[mask].groupby("step").size().reindex(order, fill_value=0)

            reached = per_step(mine["kind"] == "step")
            sent = per_step(mine["kind"] == "send")
            suppressed = per_step(mine["kind"] == "suppressed")
            exited = per_step((mine["kind"] == "exit") & mine["detail"].str.startswith("exit_when", na=False))
            for step in order:
                rows.append({"journey": j.name, "entries": entries, "customers": customers, "step": step,
                             "reached": int(reached[step]), "sent": int(sent[step]),
                             "suppressed": int(suppressed[step]), "exited": int(exited[step])})
        return pd.DataFrame(rows, columns=["journey", "entries", "customers", "step", "reached", "sent", "suppressed",
                                           "exited"])

    def send_hour_grids(self) -> dict[str, np.ndarray]:
        """Per channel: deliveries by local weekday (rows, Monday first) x local hour (columns)."""
        d = self.deliveries
        grids = {}
        for channel in sorted(d["channel"].unique()):
            sub = d[d["channel"] == channel]
            grid = np.zeros((7, 24), dtype=int)
            np.add.at(grid, (sub["local"].dt.day_of_week.to_numpy(), sub["local"].dt.hour.to_numpy()), 1)
            grids[channel] = grid
        return grids

    def quiet_hours_of(self, channel: str) -> list[tuple[float, float]]:
        """The local-hour spans (start, end) of quiet hours on ``channel``; [] when none apply to it."""
        quiet = self.scenario.policies.quiet_hours
        if quiet is None or channel not in quiet.channels:
            return []
        start, end = quiet.from_ / 3600, quiet.to / 3600
        return [(start, 24.0), (0.0, end)] if start > end else [(start, end)]

    def optout_table(self, top: int = 8, min_group: int = 30) -> pd.DataFrame:
        """Customers with at least one delivered message, by messages received per week over the run (all
        channels: delivered messages / (simulated days / 7), rounded): customers, how many unsubscribed
        from any channel during the run, the rate and its 95% Wilson interval. The last group is "``top``
        or more"; while it has fewer than ``min_group`` customers it is merged into the one before (a
        group of 2 says nothing and would dwarf the rest of the chart). ``label``: '3' or '6+'."""
        columns = ["per_week", "label", "customers", "unsubscribed", "rate", "low", "high"]
        d = self.deliveries
        if d.empty:
            return pd.DataFrame(columns=columns)
        weeks = self.scenario.duration / (7 * 86400)
        per_week = (d.groupby("customer").size() / weeks).round().astype(int)
        cut = min(top, int(per_week.max()))
        while cut > int(per_week.min()) and int((per_week >= cut).sum()) < min_group:
            cut -= 1
        bucket = per_week.clip(upper=cut)
        unsub = self.log(["event"], ["customer", "field"])
        unsubscribed = set(unsub.loc[unsub["field"].str.endswith("_unsubscribed", na=False), "customer"])
        rows = []
        for k, members in bucket.groupby(bucket):
            n = len(members)
            hits = sum(1 for c in members.index if c in unsubscribed)
            low, high = wilson_interval(hits, n)
            label = f"{k}+" if k == cut and int(per_week.max()) > cut else str(k)
            rows.append({"per_week": int(k), "label": label, "customers": n, "unsubscribed": hits,
                         "rate": hits / n, "low": low, "high": high})
        return pd.DataFrame(rows, columns=columns)

    def sms_segments(self) -> pd.DataFrame:
        """:func:`sms_segment_table` of this run (per day over the simulated duration)."""
        from simulator.creative.rules import segment_budget

        queued = self.log(["queued"], ["channel", "message", "detail"])
        queued = queued[queued["channel"] == "sms"]
        budgets = {name: segment_budget(m) for name, m in self.scenario.messages.items()}
        return sms_segment_table(queued, self.scenario.duration / 86400, budgets)

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
