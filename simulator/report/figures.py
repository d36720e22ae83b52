"""The report's figures (matplotlib, Agg): each function returns PNG bytes, or None when the run has
nothing to show for it (the report then says so instead of showing an empty chart)."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from simulator.findings.context import FindingContext  # noqa: E402
from simulator.findings.totals import link_lags  # noqa: E402
from simulator.report.data import RunData, percentiles  # noqa: E402

__all__ = ["frequency", "volume", "send_hours", "findings_by_step", "findings_over_time", "sync_lags", "funnel",
           "optout_vs_frequency"]

CHANNEL_COLOURS = {"email": "#1f77b4", "sms": "#ff7f0e", "push": "#2ca02c", "in_app": "#9467bd",
                   "whatsapp": "#17becf", "any": "#444444"}
plt.rcParams.update({"figure.dpi": 100, "axes.spines.top": False, "axes.spines.right": False, "font.size": 9})


def _png(fig: plt.Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def frequency(run: RunData) -> bytes | None:
    """Messages per customer per local day (top) and per week (bottom), by channel, with caps drawn."""
    weekly = run.weekly_counts()
    if weekly.empty:
        return None
    daily = run.daily_frequency
    channels = sorted(weekly["channel"].unique())
    fig, axes = plt.subplots(2, len(channels), figsize=(3.6 * len(channels), 5.6), squeeze=False)
    for col, channel in enumerate(channels):
        colour = CHANNEL_COLOURS.get(channel, "#666")
        day = daily[daily["channel"] == channel]
        ax = axes[0, col]
        ax.bar(day["messages_per_day"], 100 * day["share"], color=colour, alpha=0.85)
        busy = day[day["messages_per_day"] > 0]
        p95 = _weighted_quantile(busy["messages_per_day"].to_numpy(), busy["customer_days"].to_numpy(), 0.95)
        ax.set_title(f"{channel}: per local day (p95 when > 0: {p95:g})", fontsize=9)
        ax.set_xlabel("messages per customer per day")
        ax.set_ylabel("% of customer-days")
        _caps(ax, run, channel, 86400)
        counts = weekly[weekly["channel"] == channel]["messages"].to_numpy()
        ax = axes[1, col]
        ax.hist(counts, bins=np.arange(0.5, max(counts.max(), 3) + 1.5), color=colour, alpha=0.85)
        p = percentiles(counts)
        ax.set_title(f"{channel}: per week, p50 {p[50]:g}, p95 {p[95]:g}, p99 {p[99]:g}", fontsize=9)
        ax.set_xlabel("messages per customer per week")
        ax.set_ylabel("customer-weeks")
        _caps(ax, run, channel, 7 * 86400)
    return _png(fig)


def _caps(ax: plt.Axes, run: RunData, channel: str, per: float) -> None:
    """Dashed line at each cap of this length that applies to the channel."""
    for cap in run.scenario.policies.frequency_caps:
        if cap.channel in (channel, "any") and abs(cap.per - per) < 1:
            ax.axvline(cap.max + 0.5, color="#d62728", ls="--", lw=1)
            ax.annotate(f"cap {cap.max} ({cap.channel})", (cap.max + 0.55, ax.get_ylim()[1] * 0.9),
                        color="#d62728", fontsize=7)


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    if not len(values) or weights.sum() == 0:
        return 0.0
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    return float(values[order][np.searchsorted(cum, q)])


def volume(run: RunData) -> bytes | None:
    """Deliveries per hour per channel against each channel system's throughput."""
    d = run.deliveries
    if d.empty:
        return None
    fig, ax = plt.subplots(figsize=(10, 3.2))
    hourly = d.set_index("ts").groupby("channel").resample("1h").size()
    peak_text = []
    for channel in sorted(d["channel"].unique()):
        series = hourly.loc[channel]
        ax.plot(series.index, series.to_numpy(), label=channel, color=CHANNEL_COLOURS.get(channel, "#666"), lw=1)
        peak_text.append(f"{channel} peak {int(series.max())}/h")
        system = run.scenario.channel_systems.get(channel)
        rate = run.scenario.systems[system].throughput if system else None
        if rate and rate * 3600 < series.max() * 20:
            ax.axhline(rate * 3600, color=CHANNEL_COLOURS.get(channel, "#666"), ls=":", lw=1)
    ax.set_ylabel("messages delivered per hour")
    ax.set_xlabel("simulated time (UTC)")
    ax.set_title("Send volume over time (" + ", ".join(peak_text) + "); dotted: throughput limit when near")
    ax.legend(frameon=False)
    return _png(fig)


def send_hours(run: RunData) -> bytes | None:
    """Deliveries by local weekday x hour, quiet hours shaded."""
    d = run.deliveries
    if d.empty:
        return None
    grid = np.zeros((7, 24))
    np.add.at(grid, (d["local"].dt.day_of_week.to_numpy(), d["local"].dt.hour.to_numpy()), 1)
    fig, ax = plt.subplots(figsize=(10, 3.0))
    im = ax.imshow(grid, aspect="auto", cmap="Blues")
    quiet = run.scenario.policies.quiet_hours
    if quiet is not None:
        start, end = quiet.from_ / 3600, quiet.to / 3600
        spans = [(start, 24), (0, end)] if start > end else [(start, end)]
        for a, b in spans:
            ax.axvspan(a - 0.5, b - 0.5, color="#d62728", alpha=0.12)
        label = f"quiet hours shaded ({', '.join(quiet.channels)})"
    else:
        label = "no quiet hours configured"
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    ax.set_xticks(range(0, 24, 2))
    ax.set_xlabel("hour of day in the customer's time zone")
    ax.set_title(f"When messages land, in customers' local time; {label}")
    fig.colorbar(im, ax=ax, label="messages")
    return _png(fig)


def findings_by_step(run: RunData) -> bytes | None:
    """Findings per journey step, stacked by kind."""
    f = run.findings
    if f.empty:
        return None
    where = f["journey"].fillna("(no journey)") + "/" + f["step"].fillna("-")
    table = pd.crosstab(where, f["kind"])
    table = table.loc[table.sum(axis=1).sort_values().index]
    fig, ax = plt.subplots(figsize=(10, 0.35 * len(table) + 1.4))
    table.plot.barh(stacked=True, ax=ax, width=0.8)
    ax.set_xlabel("findings")
    ax.set_ylabel("")
    worst = table.sum(axis=1).idxmax()
    ax.set_title(f"Findings by journey step: most at {worst}")
    ax.legend(frameon=False, fontsize=7, loc="lower right")
    return _png(fig)


def findings_over_time(run: RunData) -> bytes | None:
    """Findings per simulated day, by kind."""
    f = run.findings
    if f.empty:
        return None
    day = (f["t"] // 86400).astype(int) + 1
    table = pd.crosstab(day, f["kind"])
    fig, ax = plt.subplots(figsize=(10, 2.8))
    table.plot.bar(stacked=True, ax=ax, width=0.85)
    ax.set_xlabel("simulated day")
    ax.set_ylabel("findings")
    ax.set_title("Findings over simulated time")
    ax.legend(frameon=False, fontsize=7, ncol=4)
    return _png(fig)


def sync_lags(run: RunData) -> bytes | None:
    """Observed lag from truth change to arrival, per link, with the waits of journeys reading the target."""
    lags = run.sync_lags
    if lags is None:  # a folder from before sync_lags.parquet: compute from the log
        events = run.log(["truth", "sync", "out-of-order"], ["customer", "kind", "field", "version", "t", "detail"])
        if events.empty:
            return None
        lags = link_lags(FindingContext(run.scenario, events, run.customers))
    if lags.empty:
        return None
    links = sorted(lags["link"].dropna().unique())
    fig, axes = plt.subplots(len(links), 1, figsize=(10, 1.6 * len(links) + 0.6), squeeze=False)
    for ax, label in zip(axes[:, 0], links):
        hours = lags[lags["link"] == label]["lag"].to_numpy() / 3600.0
        ax.hist(hours, bins=60, color="#7f7f7f")
        p = percentiles(hours)
        ax.set_title(f"{label}: lag p50 {p[50]:.2f} h, p95 {p[95]:.2f} h, p99 {p[99]:.2f} h ({len(hours)} records)",
                     fontsize=8, loc="left")
        target = next((s.to for s in run.scenario.sync if s.label == label), None)
        for j in run.scenario.journeys:
            if j.reads_from != target:
                continue
            for step in j.steps:
                if step.wait is not None and step.wait / 3600 <= max(hours.max(), 1) * 1.2:
                    ax.axvline(step.wait / 3600, color="#d62728", ls="--", lw=1)
                    ax.annotate(f"{j.name}/{step.id}", (step.wait / 3600, ax.get_ylim()[1] * 0.8),
                                color="#d62728", fontsize=7, rotation=90, va="top")
        ax.set_ylabel("records")
    axes[-1, 0].set_xlabel("hours from truth change to arrival (dashed: waits of journeys deciding there)")
    return _png(fig)


def funnel(run: RunData) -> bytes | None:
    """Per journey: customers who reached each step, and sends, suppressions and exits there."""
    steps = run.log(["step", "send", "suppressed", "exit"], ["kind", "journey", "step", "customer", "detail"])
    if steps.empty:
        return None
    journeys = [j for j in run.scenario.journeys if (steps["journey"] == j.name).any()]
    fig, axes = plt.subplots(len(journeys), 1, figsize=(10, 1.1 + 0.3 * sum(len(j.steps) for j in journeys)),
                             squeeze=False)
    for ax, j in zip(axes[:, 0], journeys):
        mine = steps[steps["journey"] == j.name]
        order = [s.id for s in j.steps]
        reached = mine[mine["kind"] == "step"].groupby("step")["customer"].nunique().reindex(order, fill_value=0)
        sent = mine[mine["kind"] == "send"].groupby("step").size().reindex(order, fill_value=0)
        suppressed = mine[mine["kind"] == "suppressed"].groupby("step").size().reindex(order, fill_value=0)
        exited = mine[(mine["kind"] == "exit") & mine["detail"].str.startswith("exit_when", na=False)
                      ].groupby("step").size().reindex(order, fill_value=0)
        y = np.arange(len(order))[::-1]
        ax.barh(y, reached.to_numpy(), color="#c6dbef", label="reached")
        ax.barh(y, sent.to_numpy(), height=0.45, color="#1f77b4", label="send decided")
        ax.barh(y, suppressed.to_numpy(), height=0.25, color="#d62728", label="suppressed")
        ax.scatter(exited.to_numpy(), y, marker="P", color="#17becf", label="exited here", zorder=3)
        ax.set_yticks(y, order)
        ax.set_title(f"{j.name}: {int(reached.iloc[0])} entered, {int(exited.sum())} left on exit_when", loc="left")
    axes[0, 0].legend(frameon=False, fontsize=7, ncol=4, loc="lower right")
    axes[-1, 0].set_xlabel("customers (steps) / messages")
    return _png(fig)


def optout_vs_frequency(run: RunData) -> bytes | None:
    """Unsubscribe rate by messages received per week (the frequency-vs-opt-out measure)."""
    weekly = run.weekly_counts()
    if weekly.empty:
        return None
    unsub = run.log(["event"], ["customer", "field", "t"])
    unsub = unsub[unsub["field"].str.endswith("_unsubscribed", na=False)]
    per_customer = weekly.groupby("customer")["messages"].mean()
    bucket = per_customer.round().clip(upper=8).astype(int)
    rate = bucket.groupby(bucket).apply(lambda s: s.index.isin(unsub["customer"]).mean())
    size = bucket.value_counts().sort_index()
    fig, ax = plt.subplots(figsize=(6, 3.0))
    ax.bar(rate.index, 100 * rate.to_numpy(), color="#8c564b")
    for x, n in size.items():
        ax.annotate(f"n={n}", (x, 100 * rate.get(x, 0)), ha="center", va="bottom", fontsize=7)
    ax.set_xlabel("average messages per week received (8 = 8 or more)")
    ax.set_ylabel("% who unsubscribed")
    ax.set_title("Frequency vs opt-out")
    return _png(fig)


FIGURES: dict[str, Any] = {
    "frequency": (frequency, "Projected messages per customer per day and per week, by channel"),
    "volume": (volume, "Send volume over time against throughput"),
    "send_hours": (send_hours, "Send hours in customers' local time"),
    "findings_by_step": (findings_by_step, "Findings by journey step"),
    "findings_over_time": (findings_over_time, "Findings over time"),
    "sync_lags": (sync_lags, "Sync lag distributions against the waits that depend on them"),
    "funnel": (funnel, "Journey funnels"),
    "optout": (optout_vs_frequency, "Frequency vs opt-out"),
}
