"""The report's figures (matplotlib, Agg): each function returns PNG bytes, or None when the run has
nothing to show for it (the report then says so instead of showing an empty chart)."""

from __future__ import annotations

import io
import textwrap
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

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
    """Messages per customer per local day (top) and per week (bottom), by channel and for all channels
    together ("any"), with the caps that apply drawn and named in a legend."""
    weekly = run.weekly_counts()
    if weekly.empty:
        return None
    daily = run.daily_frequency
    channels = sorted(c for c in weekly["channel"].unique() if c != "any") + ["any"]
    persons = per_person_weekly(run, weekly)  # population.identity: a per-person row under the per-profile one
    rows = 2 if persons is None else 3
    fig, axes = plt.subplots(rows, len(channels), figsize=(3.3 * len(channels), 2.9 * rows), squeeze=False)
    for col, channel in enumerate(channels):
        colour = CHANNEL_COLOURS.get(channel, "#666")
        title = "all channels" if channel == "any" else channel
        day = daily[daily["channel"] == channel]
        ax = axes[0, col]
        ax.bar(day["messages_per_day"], 100 * day["share"], color=colour, alpha=0.85)
        busy = day[day["messages_per_day"] > 0]
        p95 = _weighted_quantile(busy["messages_per_day"].to_numpy(), busy["customer_days"].to_numpy(), 0.95)
        caps = _caps(ax, run, channel, 86400, int(day["messages_per_day"].max()) if len(day) else 0)
        ax.set_title(f"{title}: per local day\n(p95 of days with any: {p95:g})", fontsize=9, pad=10)
        ax.text(0.5, 1.0, caps, transform=ax.transAxes, ha="center", va="bottom", fontsize=6.5, color="#d62728")
        ax.set_xlabel("messages per customer per day")
        ax.set_ylabel("% of customer-days")
        counts = weekly[weekly["channel"] == channel]["messages"].to_numpy()
        ax = axes[1, col]
        ax.hist(counts, bins=np.arange(0.5, max(counts.max(), 3) + 1.5), color=colour, alpha=0.85)
        p = percentiles(counts)
        caps = _caps(ax, run, channel, 7 * 86400, int(counts.max()))
        ax.set_title(f"{title}: per {'week' if persons is None else 'profile per week'}\n(p50 {p[50]:g}, p95 "
                     f"{p[95]:g}, p99 {p[99]:g})", fontsize=9, pad=10)
        ax.text(0.5, 1.0, caps, transform=ax.transAxes, ha="center", va="bottom", fontsize=6.5, color="#d62728")
        ax.set_xlabel("messages per customer per week")
        ax.set_ylabel("customer-weeks")
        if persons is not None:
            _person_panel(axes[2, col], run, persons[persons["channel"] == channel]["messages"].to_numpy(),
                          channel, title, colour)
    return _png(fig)


def per_person_weekly(run: RunData, weekly: pd.DataFrame) -> pd.DataFrame | None:
    """Messages per **person** (all its profiles together) per local week and channel; None without
    population.identity (docs/identity.md). A profile's weeks follow its own time zone."""
    if "person" not in run.customers.columns:
        return None
    person = run.customers.set_index("customer")["person"]
    return (weekly.assign(person=weekly["customer"].map(person)).groupby(["channel", "person", "week"])["messages"]
            .sum().reset_index())


def _person_panel(ax: plt.Axes, run: RunData, counts: np.ndarray, channel: str, title: str, colour: str) -> None:
    """The per-person weekly histogram (hatched), with the caps of a week drawn like the others."""
    if not len(counts):
        ax.set_axis_off()
        return
    ax.hist(counts, bins=np.arange(0.5, max(counts.max(), 3) + 1.5), color=colour, alpha=0.6, hatch="//")
    p = percentiles(counts)
    caps = _caps(ax, run, channel, 7 * 86400, int(counts.max()))
    ax.set_title(f"{title}: per person per week\n(all profiles; p50 {p[50]:g}, p95 {p[95]:g}, p99 {p[99]:g})",
                 fontsize=9, pad=10)
    ax.text(0.5, 1.0, caps, transform=ax.transAxes, ha="center", va="bottom", fontsize=6.5, color="#d62728")
    ax.set_xlabel("messages per person per week")
    ax.set_ylabel("person-weeks")


def _caps(ax: plt.Axes, run: RunData, channel: str, per: float, highest: int) -> str:
    """A line just past each cap of this length that applies to the channel (its own caps and the
    all-channel ones; for 'any', only the all-channel ones). Returns their key for the panel's title
    (e.g. 'dashed: cap 2 (any, sliding)'), so no label is drawn over the bars or another label."""
    styles = [("--", "dashed"), (":", "dotted"), ("-.", "dash-dot")]
    names = []
    for cap in run.scenario.policies.frequency_caps:
        applies = cap.channel == "any" if channel == "any" else cap.channel in (channel, "any")
        if applies and abs(cap.per - per) < 1:
            style, word = styles[len(names) % len(styles)]
            ax.axvline(cap.max + 0.5, color="#d62728", ls=style, lw=1.2)
            names.append(f"{word}: cap {cap.max} ({cap.channel}, {cap.window})")
            highest = max(highest, cap.max + 1)
    ax.set_xticks(range(0, highest + 1) if highest <= 12 else ax.get_xticks())
    return "; ".join(names)


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
        few = len(series) < 50  # a handful of hours: markers, or a lone hour would draw nothing
        ax.plot(series.index, series.to_numpy(), label=channel, color=CHANNEL_COLOURS.get(channel, "#666"), lw=1,
                marker="o" if few else None, ms=3)
        peak_text.append(f"{channel} peak {int(series.max())}/h")
        system = run.scenario.channel_systems.get(channel)
        rate = run.scenario.systems[system].throughput if system else None
        if rate and rate * 3600 < series.max() * 20:
            ax.axhline(rate * 3600, color=CHANNEL_COLOURS.get(channel, "#666"), ls=":", lw=1)
    start = pd.Timestamp(run.scenario.start)
    start = start.tz_convert(d["ts"].dt.tz) if d["ts"].dt.tz is not None else start.tz_localize(None)
    ax.set_xlim(start, max(start + pd.Timedelta(seconds=run.scenario.duration), d["ts"].max()))  # the run's span
    ax.set_ylim(bottom=0)
    ax.set_ylabel("messages delivered per hour")
    ax.set_xlabel("simulated time (UTC)")
    ax.set_title("Send volume over time (" + ", ".join(peak_text) + "); dotted: throughput limit when near")
    ax.legend(frameon=False)
    return _png(fig)


def send_hours(run: RunData) -> bytes | None:
    """Deliveries by local weekday x hour, one heatmap per channel; quiet hours shaded only on the channels
    they apply to, with the count of deliveries that landed inside them."""
    grids = run.send_hour_grids()
    if not grids:
        return None
    quiet = run.scenario.policies.quiet_hours
    fig, axes = plt.subplots(len(grids), 1, figsize=(10, 2.3 * len(grids) + 0.4), squeeze=False)
    for ax, (channel, grid) in zip(axes[:, 0], grids.items()):
        im = ax.imshow(grid, aspect="auto", cmap="Blues", vmin=0)
        spans = run.quiet_hours_of(channel)
        for a, b in spans:
            ax.axvspan(a - 0.5, b - 0.5, facecolor="none", edgecolor="#d62728", hatch="///", lw=0, alpha=0.5)
        total = int(grid.sum())
        if spans:
            inside = sum(int(grid[:, h].sum()) for h in range(24)
                         if any(a <= h < b for a, b in spans))
            label = (f"quiet hours {_clock(quiet.from_)}-{_clock(quiet.to)} hatched: {inside} of {total} "
                     "delivered inside (whole hours)")
        elif quiet is not None:
            label = f"{total} delivered; quiet hours do not apply to {channel} (only {', '.join(quiet.channels)})"
        else:
            label = f"{total} delivered; no quiet hours configured"
        ax.set_title(f"{channel}: {label}", fontsize=9, loc="left")
        ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], fontsize=8)
        ax.set_xticks(range(0, 24, 2))
        fig.colorbar(im, ax=ax, label="messages", pad=0.01)
    axes[-1, 0].set_xlabel("hour of day in the customer's time zone")
    return _png(fig)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 3600):02d}:{int(seconds % 3600 // 60):02d}"


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
    """Findings per simulated day, by kind; every day of the run is on the axis (days without findings
    show as empty). Runs longer than 400 days are drawn per simulated week (over 2800 days, per 30 days),
    so a long run stays readable and quick to draw."""
    if run.findings.empty:
        return None
    table = run.findings_per_day()
    width, unit = (1, "day") if len(table) <= 400 else (7, "week") if len(table) <= 2800 else (30, "30 days")
    if width > 1:
        table = table.groupby((table.index - 1) // width + 1).sum()
        table.index.name = unit
    fig, ax = plt.subplots(figsize=(11, 2.9))
    x = np.arange(len(table))
    bottom = np.zeros(len(table))
    for kind in table.columns:  # stacked bars drawn directly: pandas' bar plot makes one tick per bar
        values = table[kind].to_numpy(dtype=float)
        ax.bar(x, values, bottom=bottom, width=0.85, label=kind)
        bottom += values
    ax.set_xlim(-0.6, len(table) - 0.4)
    ax.legend(frameon=False, fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # never over the bars
    empty = int((table.sum(axis=1) == 0).sum())
    step = max(1, int(np.ceil(len(table) / 30)))
    ax.set_xticks(x[::step], [str(d) for d in table.index[::step]], rotation=0)
    ax.set_xlabel(f"simulated {unit}")
    ax.set_ylabel("findings")
    plural = {"day": "days", "week": "weeks", "30 days": "30-day periods"}[unit]
    ax.set_title(f"Findings per simulated {unit} ({len(table)} {plural}, {empty} without findings)")
    return _png(fig)


def sync_lags(run: RunData) -> bytes | None:
    """Per link: its own lag (from the version being at the link's source to its arrival at the target) and
    the end-to-end lag (from the truth change at its origin to the same arrival; the same on a first hop),
    with the waits of journeys deciding at the target, which race the end-to-end lag."""
    lags = run.hop_lags
    if lags is None or lags.empty:
        return None
    links = sorted(lags["link"].dropna().unique())
    silent = {label for label in links if float(lags.loc[lags["link"] == label, "end_to_end"].max()) <= 0}
    heights = [0.8 if label in silent else 2.3 for label in links]  # a no-latency panel is one line of words
    fig, axes = plt.subplots(len(links), 1, figsize=(10, sum(heights) + 0.6), squeeze=False,
                             gridspec_kw={"height_ratios": heights})
    drawn = None  # the lowest panel with a histogram: it carries the axis label
    for ax, label in zip(axes[:, 0], links):
        mine = lags[lags["link"] == label]
        hop = mine["per_link"].dropna().to_numpy() / 3600.0
        e2e = mine["end_to_end"].to_numpy() / 3600.0
        first_hop = len(hop) == len(e2e) and np.allclose(hop, e2e)
        link = next((s for s in run.scenario.sync if s.label == label), None)
        if label in silent:  # a zero-latency link: a histogram of one bar at 0 would say nothing
            _no_latency(ax, label, link, len(e2e))
            continue
        drawn = ax
        top = float(e2e.max())
        bins = np.linspace(0, top, 61)
        p = percentiles(e2e)
        if first_hop:
            ax.hist(e2e, bins=bins, color="#7f7f7f", label="per-link = end-to-end (first hop)")
            text = f"per-link = end-to-end lag p50 {p[50]:.2f} h, p95 {p[95]:.2f} h, p99 {p[99]:.2f} h"
        else:
            q = percentiles(hop)
            ax.hist(e2e, bins=bins, color="#bbbbbb", label="end-to-end (from the truth change)")
            ax.hist(hop, bins=bins, color="#1f77b4", alpha=0.75, label="per-link (from arrival at the source)")
            text = (f"per-link lag p50 {q[50]:.2f} h, p95 {q[95]:.2f} h; end-to-end p50 {p[50]:.2f} h, "
                    f"p95 {p[95]:.2f} h, p99 {p[99]:.2f} h")
        route = f" ({link.from_} -> {link.to})" if link is not None else ""
        waits: dict[float, list[str]] = {}
        target = link.to if link is not None else None
        for j in run.scenario.journeys:
            if j.reads_from != target:
                continue
            for step in j.steps:
                if step.wait is not None and step.wait / 3600 <= top * 1.2:
                    waits.setdefault(step.wait / 3600, []).append(f"{j.name}/{step.id}")
        for k, (hours, names) in enumerate(sorted(waits.items())):
            ax.axvline(hours, color="#d62728", ls="--", lw=1, label="wait of a journey deciding here" if k == 0 else None)
        title = f"{label}{route}: {text} ({len(e2e)} arrivals)"
        if waits:
            listed = ", ".join(f"{_hours(h)} ({', '.join(n)})" for h, n in sorted(waits.items()))
            title += "\n" + textwrap.fill("red dashed: waits of journeys deciding at the target, " + listed, 140)
        ax.set_title(title, fontsize=8, loc="left")
        ax.set_ylabel("arrivals")
        ax.ticklabel_format(axis="x", style="plain", useOffset=False)  # lags of seconds: no '1e-4' multiplier
        ax.legend(frameon=True, framealpha=0.9, edgecolor="none", fontsize=7, loc="upper right")
    sample = f" (lags of a sample: the first {run.sampled:,} customer ids)" if run.sampled else ""
    if drawn is not None:
        drawn.set_xlabel("hours" + sample)
    elif sample:
        axes[-1, 0].set_title(axes[-1, 0].get_title(loc="left") + sample, fontsize=8, loc="left")
    return _png(fig)


def _no_latency(ax: plt.Axes, label: str, link: Any, arrivals: int) -> None:
    """A panel for a link whose every arrival came 0 s after the truth change: words, no axes."""
    route = f" ({link.from_} -> {link.to})" if link is not None else ""
    ax.set_title(f"{label}{route}: all {arrivals} arrivals at 0 s: no latency on this link", fontsize=8, loc="left")
    ax.text(0.0, 0.5, "per-link and end-to-end lag 0 s for every arrival (each came at the instant of its truth "
            "change): no histogram to draw", transform=ax.transAxes, ha="left", va="center", fontsize=9,
            color="#444444")
    ax.set_axis_off()


def _hours(h: float) -> str:
    return f"{h:g}h" if h < 48 else f"{h / 24:g}d"


def funnel(run: RunData) -> bytes | None:
    """Per journey: entries reaching each step, sends decided, suppressions and exits there (all counted in
    entries, so the entry count equals the run summary's)."""
    table = run.funnel_table()
    table = table[table["entries"] > 0]
    if table.empty:
        return None
    journeys = list(dict.fromkeys(table["journey"]))
    fig, axes = plt.subplots(len(journeys), 1, figsize=(10, 1.2 + 0.32 * len(table) + 0.35 * len(journeys)),
                             squeeze=False)
    for ax, name in zip(axes[:, 0], journeys):
        mine = table[table["journey"] == name]
        y = np.arange(len(mine))[::-1]
        ax.barh(y, mine["reached"], color="#c6dbef", label="reached (entries)")
        ax.barh(y, mine["sent"], height=0.45, color="#1f77b4", label="send decided")
        ax.barh(y, mine["suppressed"], height=0.25, color="#d62728", label="suppressed")
        ax.scatter(mine["exited"], y, marker="P", color="#17becf", label="exited here (exit_when)", zorder=3)
        ax.set_yticks(y, mine["step"])
        first = mine.iloc[0]
        ax.set_title(f"{name}: {first['entries']} entries by {first['customers']} customers, "
                     f"{int(mine['exited'].sum())} left on exit_when", loc="left", fontsize=9)
        ax.set_xlim(0, max(1, first["entries"], mine["sent"].max()) * 1.05)
    axes[0, 0].legend(frameon=False, fontsize=7, ncol=4, loc="lower right")
    axes[-1, 0].set_xlabel("entries (steps) / messages")
    return _png(fig)


def optout_vs_frequency(run: RunData) -> bytes | None:
    """Share who unsubscribed by messages received per week, with 95% Wilson intervals (a correlation)."""
    table = run.optout_table()
    if table.empty:
        return None
    fig, ax = plt.subplots(figsize=(7, 3.2))
    rate = 100 * table["rate"]
    err = np.clip(np.vstack([rate - 100 * table["low"], 100 * table["high"] - rate]), 0, None)  # rounding
    ax.bar(table["per_week"], rate, color="#8c564b", alpha=0.85)
    ax.errorbar(table["per_week"], rate, yerr=err, fmt="none", ecolor="#333", capsize=3, lw=1)
    for x, n, hi in zip(table["per_week"], table["customers"], table["high"]):
        ax.annotate(f"n={n}", (x, 100 * hi), ha="center", va="bottom", fontsize=7)
    ax.set_xticks(table["per_week"], table["label"])
    ax.set_xlabel("messages received per week, all channels (rounded; N+ = N or more)")
    ax.set_ylabel("% who unsubscribed")
    ax.set_ylim(0, max(1.0, 100 * float(table["high"].max())) * 1.15)
    ax.set_title("Frequency vs opt-out: a correlation (whiskers: 95% Wilson intervals)")
    return _png(fig)


FIGURES: dict[str, Any] = {
    "frequency": (frequency, "Messages per customer per local day and per week, by channel and for all "
                  "channels together; dashed: caps that apply. With population.identity, a customer is a profile, "
                  "and a third row counts each person across all its profiles (hatched)"),
    "volume": (volume, "Send volume over time against throughput"),
    "send_hours": (send_hours, "Send hours in customers' local time, per channel; hatched: quiet hours, "
                   "only on the channels they apply to"),
    "findings_by_step": (findings_by_step, "Findings by journey step"),
    "findings_over_time": (findings_over_time, "Findings per simulated day; every day of the run is shown, "
                           "days without findings are empty"),
    "sync_lags": (sync_lags, "Sync lags per link: per-link lag (from the version reaching the link's source) and "
                  "end-to-end lag (from the truth change); journeys deciding at the target race the end-to-end lag"),
    "funnel": (funnel, "Journey funnels, counted in entries (a re-entering customer counts each time)"),
    "optout": (optout_vs_frequency, "Frequency vs opt-out. Correlation, not causation: customers who receive "
               "more messages also differ in other ways (more journeys, more activity), so a higher opt-out "
               "rate among them does not show that the extra messages caused it. Whiskers: 95% Wilson intervals; "
               "n = customers in the group"),
}
