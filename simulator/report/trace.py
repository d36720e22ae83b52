"""One customer's timeline from a run folder: truth changes, replica arrivals, decisions (replica
vs truth), sends, deliveries and findings with their root cause; as text, and as a swimlane PNG.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from simulator.errors import UsageError
from simulator.scenario.units import did_you_mean

__all__ = ["CustomerTrace", "load_trace", "format_trace", "swimlane_png", "time_window", "MIN_SPAN"]

#: The narrowest time axis a swimlane draws (seconds): events closer together than this (e.g. a send and
#: the send a frequency cap drops at the same instant) are shown on an axis this wide, centred on them.
MIN_SPAN = 600.0

#: Log kinds shown in the text timeline (the rest, e.g. batch runs, are shown only as context).
SHOWN = ("event", "truth", "sync", "out-of-order", "sync-skip", "sync-lost", "sync-queued", "sync-retry", "entry",
         "entry-skip", "step", "decision", "split", "exit-check", "exit", "wait-end", "send", "held", "deferred",
         "exit-recheck", "suppressed", "consent-check", "render", "queued", "delivered", "exit-status",
         "active-at-end", "held-out", "identity-profile", "identity-merge")


@dataclass
class CustomerTrace:
    customer: str
    events: pd.DataFrame
    findings: pd.DataFrame
    profile: dict[str, object]
    summary: dict[str, object]
    profiles: tuple[str, ...] = ()  # every profile of the customer's person (population.identity), else ()


def load_trace(run_dir: str | Path, customer: str) -> CustomerTrace:
    """Read one customer's records from a run folder (column- and row-filtered Parquet reads)."""
    run_dir = Path(run_dir)
    log = run_dir / "events.parquet"
    if not log.exists():
        hint = " (the run failed; see its summary.json)" if run_dir.with_name(run_dir.name + ".failed").exists() else ""
        raise UsageError(f"{run_dir} is not a run folder: no events.parquet{hint}; run `journeysim run` first")
    customers = pd.read_parquet(run_dir / "customers.parquet") if (run_dir / "customers.parquet").exists() \
        else pd.DataFrame({"customer": []})
    if customer not in set(customers["customer"]):
        guess = did_you_mean(customer, customers["customer"].tolist()[:200000])
        raise UsageError(f"no customer '{customer}' in {run_dir}" + (f"; did you mean '{guess}'?" if guess else ""))
    profiles = _profiles_of(customers, customer)
    events = pq.read_table(log, filters=[("customer", "in", list(profiles or (customer,)))]).to_pandas()
    events = events.sort_values("seq", kind="stable").reset_index(drop=True)
    findings = pd.DataFrame()
    if (run_dir / "findings.csv").exists():
        all_findings = pd.read_csv(run_dir / "findings.csv")
        findings = all_findings[all_findings["customer"].isin(profiles or (customer,))].reset_index(drop=True)
    profile = customers[customers["customer"] == customer].iloc[0].to_dict()
    summary = json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").exists() else {}
    summary = summary or {}
    return CustomerTrace(customer, events, findings, profile, summary, profiles)


def _profiles_of(customers: pd.DataFrame, customer: str) -> tuple[str, ...]:
    """Every profile of ``customer``'s person, first profile first; () without identity or with one profile."""
    if "person" not in customers.columns:
        return ()
    person = customers.loc[customers["customer"] == customer, "person"].iloc[0]
    mine = customers[customers["person"] == person].sort_values("profile", kind="stable")
    return tuple(mine["customer"]) if len(mine) > 1 else ()


def _v(value: object, version: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        value = "-"
    return f"{value} (v{int(version)})" if version is not None and not pd.isna(version) else str(value)


def _line(row: pd.Series) -> str | None:
    """One readable sentence per record."""
    k = row["kind"]
    field = row["field"] if isinstance(row["field"], str) else ""
    shown_field = f"{field[1:]} event" if field.startswith("@") else field
    stale = (not pd.isna(row["version"]) and not pd.isna(row["truth_version"])
             and row["version"] < row["truth_version"])
    mark = "   << STALE: truth had " + _v(row["truth_value"], row["truth_version"]) if stale else ""
    jstep = "/".join(x for x in (row["journey"], row["step"]) if isinstance(x, str))
    detail = row["detail"] if isinstance(row["detail"], str) else ""
    if k == "event":
        why = f" ({detail})" if detail.startswith("response:") else ""  # rate and lifts (docs/response.md)
        return f"{row['system']:<8} {field} happened{why}"
    if k == "truth":
        if field.startswith("@"):
            return None  # the 'event' line says it
        return f"{row['system']:<8} truth: {field} = {_v(row['value'], row['version'])}"
    if k in ("sync", "out-of-order"):
        what = "sync" if k == "sync" else "OUT-OF-ORDER sync"
        value = "" if field.startswith("@") else f" = {_v(row['value'], row['version'])}"
        return f"{row['system']:<8} {what}: {shown_field}{value} arrives ({detail})"
    if k in ("sync-lost", "sync-queued", "sync-retry", "sync-skip"):
        return f"{row['system']:<8} {k}: {shown_field} v{int(row['version'])} ({detail})"
    if k == "entry":
        arm = f"; {field} arm" if field else ""  # a journey with a holdout: treated or holdout
        return f"{row['system']:<8} ENTERS {row['journey']} (#{row['value']}, {detail}{arm})"
    if k == "held-out":
        return f"{row['system']:<8} HELD OUT {row['message']} ({jstep}): holdout customer, nothing sent"
    if k == "entry-skip":
        return f"{row['system']:<8} does not enter {row['journey']}: {detail}"
    if k in ("step", "send", "exit-check") and field:
        verdict = f"exit_when met? {row['system']} says {row['value']}, truth says {row['truth_value']}"
        if row["value"] != row["truth_value"]:
            verdict += "  << RACE"
        label = {"step": f"step {jstep} ({detail})", "send": f"SEND {row['message']} ({jstep})",
                 "exit-check": f"exit check ({detail})"}[k]
        return f"{row['system']:<8} {label}; {verdict}"
    if k == "exit-recheck":
        phase = detail.split("(", 1)[1].split(")", 1)[0] if "(" in detail else "held"
        verdict = f"exit met? {row['system']} says {row['value']}, truth says {row['truth_value']}"
        if row["value"] != row["truth_value"]:
            verdict += "  << RACE"
        return f"{row['system']:<8} re-checked {row['message']} at release ({phase}): {verdict}"
    if k == "exit-status":
        return (f"{row['system']:<8} at delivery of {row['message']}: exit met? {row['system']} says {row['value']}, "
                f"truth says {row['truth_value']}  << DELIVERED AFTER THE CUSTOMER EXITED")
    if k == "step":
        return f"{row['system']:<8} step {jstep} ({detail})"
    if k == "send":
        return f"{row['system']:<8} SEND {row['message']} ({jstep})"
    if k == "decision" and not field:
        return f"{row['system']:<8} decision {jstep}: {detail}"
    if k == "decision":
        return f"{row['system']:<8} decision {jstep}: read {shown_field} = {_v(row['value'], row['version'])}; " \
               f"{detail}{mark}"
    if k == "render":
        return f"{row['system']:<8} render {row['message']}: {field} = {_v(row['value'], row['version'])}{mark}"
    if k == "consent-check":
        flag = "  << opted out in truth" if row["truth_value"] == "false" and row["value"] == "true" else ""
        return f"{row['system']:<8} consent check {row['channel']}: {row['value']} (truth {row['truth_value']}){flag}"
    if k in ("held", "deferred", "suppressed", "queued"):
        return f"{(row['system'] if isinstance(row['system'], str) else 'orch'):<8} {k.upper()} " \
               f"{row['message']}: {detail.split('; req=')[0]}"
    if k == "delivered":
        return f"{row['system']:<8} DELIVERED {row['message']} on {row['channel']} ({detail.split('; req=')[0]})"
    if k == "identity-profile":
        return f"{row['system'] if isinstance(row['system'], str) else '':<8} PROFILE {detail}"
    if k == "identity-merge":
        return f"{row['system']:<8} MERGED: {detail}"
    if k in ("exit", "wait-end", "split", "active-at-end"):
        extra = row["value"] if k == "split" else detail
        return f"{(row['system'] if isinstance(row['system'], str) else ''):<8} {k} {jstep}: {extra}"
    return None


def format_trace(trace: CustomerTrace) -> str:
    """The terminal timeline."""
    p = trace.profile
    attrs = ", ".join(f"{k}={v}" for k, v in p.items() if k not in ("customer", "timezone", "scripted"))
    s = trace.summary
    out = [f"customer {trace.customer}  ({p.get('timezone')}; {attrs})",
           f"run: scenario {s.get('scenario')}, seed {s.get('seed')}, {s.get('customers')} customers",
           "", f"{'time (UTC)':<17} {'system':<8} what"]
    if trace.profiles:  # one person, several profiles: every line names its profile
        out[2:2] = [f"person {trace.profiles[0]}: {len(trace.profiles)} profiles, {', '.join(trace.profiles)} "
                    "(docs/identity.md); each line starts with its profile"]
    for _, row in trace.events.iterrows():
        if row["kind"] not in SHOWN:
            continue
        text = _line(row)
        if text:
            who = f"[{row['customer']}] " if trace.profiles else ""
            out.append(f"{row['ts']:%Y-%m-%d %H:%M}  {who}{text}")
    out.append("")
    if trace.findings.empty:
        out.append("findings: none for this customer")
    else:
        out.append(f"findings ({len(trace.findings)}):")
        for _, f in trace.findings.iterrows():
            on = f" on {f['customer']}" if trace.profiles else ""
            out.append(f"  [{f['severity']}] {f['kind']}{on} at {f['time']}: {f['message']}")
            out.append(f"      root cause: {f['root_cause']}")
            columns = [f"{name}={f[name]}" for name in ("phase", "link", "hop_at_decision", "lag_seconds",
                                                          "truth_changed_at") if name in f and not pd.isna(f[name])]
            if columns:
                out.append(f"      columns: {', '.join(columns)}")
    return "\n".join(out)


def time_window(times: "pd.Series | list[pd.Timestamp]") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The time axis of a swimlane: from the first to the last of ``times``, widened to ``MIN_SPAN``
    centred on them when they are closer together than that (a zero-width axis is unreadable)."""
    stamps = pd.Series(pd.to_datetime(pd.Series(list(times)), utc=True)).dropna()
    if stamps.empty:
        raise ValueError("time_window needs at least one time")
    lo, hi = stamps.min(), stamps.max()
    if (hi - lo).total_seconds() < MIN_SPAN:
        mid = lo + (hi - lo) / 2
        lo, hi = mid - pd.Timedelta(seconds=MIN_SPAN / 2), mid + pd.Timedelta(seconds=MIN_SPAN / 2)
    return lo, hi


def swimlane_png(trace: CustomerTrace, path: str | Path) -> Path:
    """A swimlane figure: one lane per system (truth on top), markers for changes, arrivals, sends, findings."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import matplotlib.dates as mdates

    ev = trace.events
    systems = ["truth"] + sorted({s for s in ev["system"].dropna() if s})
    lane = {name: i for i, name in enumerate(reversed(systems))}
    when = pd.to_datetime(ev["ts"]).dt.tz_convert("UTC").dt.tz_localize(None)
    fig, ax = plt.subplots(figsize=(12, 1.6 + 0.5 * len(systems)), dpi=110)
    # propagation: a grey line from each truth change to every arrival of that version
    changes = {(f, v): i for i, f, v in zip(ev.index, ev["field"], ev["version"]) if ev.at[i, "kind"] == "truth"}
    for i, row in ev[ev["kind"].isin(["sync", "out-of-order"])].iterrows():
        origin = changes.get((row["field"], row["version"]))
        if origin is not None:
            ax.plot([when[origin], when[i]], [lane["truth"], lane[row["system"]]], color="#999999", lw=0.8,
                    alpha=0.6, zorder=1)
    styles = {"truth": ("o", "#1f77b4", "truth change"), "sync": ("s", "#7f7f7f", "replica arrival"),
              "out-of-order": ("s", "#d62728", "out-of-order arrival"), "entry": ("D", "#2ca02c", "entry"),
              "send": ("^", "#ff7f0e", "send decision"), "delivered": ("v", "#9467bd", "delivered"),
              "suppressed": ("x", "#8c564b", "suppressed"), "held": ("|", "#bcbd22", "held (quiet hours)"),
              "exit": ("P", "#17becf", "exit")}
    for kind, (marker, colour, label) in styles.items():
        rows = ev[ev["kind"] == kind]
        if rows.empty:
            continue
        ys = [lane["truth"] if kind == "truth" else lane.get(s, lane["truth"]) for s in rows["system"]]
        ax.scatter(when[rows.index], ys, marker=marker, color=colour, label=label, s=48, zorder=3)
        if kind == "truth":  # the same change, at the system where it happened
            ax.scatter(when[rows.index], [lane[s] for s in rows["system"]], marker=marker, color=colour, s=20,
                       zorder=3, alpha=0.6)
    for _, f in trace.findings.iterrows():
        x = pd.Timestamp(f["time"])
        ax.axvline(x, color="#d62728", alpha=0.35, lw=1.5)
        ax.annotate(f["kind"], (x, len(systems) - 0.4), rotation=90, fontsize=7, color="#d62728", va="top")
    ax.set_yticks(list(lane.values()), list(lane.keys()))
    ax.set_ylim(-0.7, len(systems) - 0.3)
    shown = list(when.dropna()) + [pd.Timestamp(t) for t in trace.findings.get("time", [])]
    if shown:
        lo, hi = time_window(shown)
        if (hi - lo).total_seconds() <= MIN_SPAN:  # events at (nearly) one instant: a readable axis around them
            ax.set_xlim(lo.tz_localize(None), hi.tz_localize(None))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator()))
    ax.set_xlabel("simulated time (UTC)")
    ax.set_title(f"customer {trace.customer}: when each change reached each system, and what was sent")
    ax.grid(axis="x", alpha=0.3)
    # right of the lanes, not below them, where it would sit on the axis label and the date offset
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), ncol=1, fontsize=8, frameon=False)
    fig.tight_layout()
    path = Path(path)
    from simulator.fileio import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
