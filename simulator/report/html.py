"""``journeysim report RUN_DIR``: one self-contained report.html (figures embedded as PNG data URIs)."""

from __future__ import annotations

import base64
from pathlib import Path

import jinja2
import pandas as pd
from markupsafe import Markup

from simulator.fileio import atomic_write_text
from simulator.report import figures
from simulator.report.data import RunData, load_run
from simulator.report.projections import projections_section
from simulator.engine.events import read_events
from simulator.report.trace import CustomerTrace, swimlane_png, time_window

__all__ = ["build_report"]


def _table(frame: pd.DataFrame) -> Markup:
    if frame.empty:
        return Markup("<p>Nothing to show.</p>")
    return Markup(frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}"))


def _sends_table(run: RunData) -> pd.DataFrame:
    ev = run.log(["send", "delivered", "suppressed", "held"], ["kind", "journey", "channel"])
    if ev.empty:
        return ev
    table = pd.crosstab([ev["journey"], ev["channel"]], ev["kind"])
    table.columns.name = None
    order = [c for c in ("send", "delivered", "suppressed", "held") if c in table.columns]
    return table[order].reset_index().rename(columns={"send": "decided", "held": "held (quiet hours)"})


def _paths_table(run: RunData) -> pd.DataFrame:
    """Per blamed link (the slowest hop), the hop the change was on at the decision (findings.csv's
    ``hop_at_decision``, when the run has that column and any value in it) and kind: findings, customers,
    median lag."""
    f = run.findings
    if f.empty or "link" not in f or f["link"].isna().all():
        return pd.DataFrame()
    f = f[f["link"].notna()]
    keys = ["link", "hop_at_decision", "kind"] if _has_values(f, "hop_at_decision") else ["link", "kind"]
    table = f.groupby(keys, dropna=False, sort=True).agg(
        findings=("kind", "size"), customers=("customer", "nunique"),
        median_lag_h=("lag_seconds", lambda s: s.median() / 3600))
    table = table.reset_index().sort_values("findings", ascending=False, kind="stable")
    return table.rename(columns={"hop_at_decision": "hop at decision"})


#: findings.csv's ``phase`` values (exit-race), in the order a send goes through them.
PHASES = ("decided", "held", "deferred", "queued")


def _has_values(frame: pd.DataFrame, column: str) -> bool:
    return column in frame and bool((frame[column].notna() & (frame[column].astype(str) != "")).any())


def _phase_table(run: RunData) -> pd.DataFrame:
    """Per kind, journey, step and phase (findings.csv's ``phase``: where an exit race slipped through),
    for the findings that have a phase: findings and customers. Empty when no finding has one."""
    f = run.findings
    if f.empty or not _has_values(f, "phase"):
        return pd.DataFrame()
    f = f[f["phase"].notna() & (f["phase"].astype(str) != "")].copy()
    known = [p for p in PHASES if p in set(f["phase"])]
    f["phase"] = pd.Categorical(f["phase"], categories=known + sorted(set(f["phase"]) - set(known)), ordered=True)
    table = f.groupby(["kind", "journey", "step", "phase"], dropna=False, sort=True, observed=True).agg(
        findings=("kind", "size"), customers=("customer", "nunique"))
    return table.reset_index()


#: A customer whose events span more than this gets a second lane: the day around the finding.
ZOOM_SPAN = 36 * 3600.0
ZOOM_WINDOW = 24 * 3600.0


def _swimlanes(run: RunData, limit: int = 6) -> list[tuple[str, str, str, str | None, str]]:
    """One swimlane per finding kind (first example customer), from a single filtered read of the log:
    (kind, customer, whole-run PNG, zoom PNG or None, the zoom's window in words). When the customer's
    events span more than a day and a half, the zoom shows the 24 hours around the finding, so a busy day
    is readable."""
    out: list[tuple[str, str, str, str | None, str]] = []
    if run.findings.empty:
        return out
    examples = [(kind, group.iloc[0]) for kind, group in run.findings.groupby("kind", sort=True)][:limit]
    ids = sorted({str(row["customer"]) for _, row in examples})
    events = read_events(run.folder / "events.parquet", filters=[("customer", "in", ids)])
    tmp = run.folder / ".swimlane.png"
    for kind, finding in examples:
        customer = str(finding["customer"])
        mine = events[events["customer"] == customer].sort_values("seq", kind="stable").reset_index(drop=True)
        profile = run.customers[run.customers["customer"] == customer]
        found = run.findings[run.findings["customer"] == customer].reset_index(drop=True)
        profile_row = profile.iloc[0].to_dict() if len(profile) else {}
        swimlane_png(CustomerTrace(customer, mine, found, profile_row, run.summary), tmp)
        whole = base64.b64encode(tmp.read_bytes()).decode()
        zoom, window = None, ""
        if len(mine) and float(mine["t"].max() - mine["t"].min()) > ZOOM_SPAN:
            start = max(float(mine["t"].min()), float(finding["t"]) - ZOOM_WINDOW / 2)
            end = start + ZOOM_WINDOW
            near = mine[(mine["t"] >= start) & (mine["t"] <= end)].reset_index(drop=True)
            near_found = found[(found["t"] >= start) & (found["t"] <= end)].reset_index(drop=True)
            swimlane_png(CustomerTrace(customer, near, near_found, profile_row, run.summary), tmp)
            zoom = base64.b64encode(tmp.read_bytes()).decode()
            if len(near):  # the figure's axis: at least trace.MIN_SPAN wide, centred on events at one instant
                first, last = time_window(list(near["ts"]) + list(near_found["time"]))
                window = f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} UTC"
        out.append((kind, customer, whole, zoom, window))
    tmp.unlink(missing_ok=True)
    return out


def build_report(folder: str | Path, summary: dict | None = None, *, shown_as: str | Path | None = None) -> Path:
    """Write ``report.html`` (and daily_frequency.csv, sends.csv) into a run folder.

    ``shown_as`` is the folder named in the report's ``journeysim trace`` commands (default ``folder``):
    a run builds its report in its temporary folder and passes the final one."""
    run = load_run(folder, summary)
    run.export()
    images: dict[str, tuple[str | None, str]] = {}
    for key, (make, caption) in figures.FIGURES.items():
        png = make(run)
        images[key] = (base64.b64encode(png).decode() if png else None, caption)

    def figure(key: str) -> Markup:
        data, caption = images[key]
        if data is None:
            return Markup(f"<p><em>{caption}: nothing to show in this run.</em></p>")
        return Markup(f'<figure id="fig-{key}"><img alt="{caption}" src="data:image/png;base64,{data}">'
                      f"<figcaption>{caption}</figcaption></figure>")

    env = jinja2.Environment(loader=jinja2.PackageLoader("simulator", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    s = run.summary
    findings = s.get("findings", {})
    gates = findings.get("gates", [])
    daily = run.daily_frequency
    daily_wide = daily.pivot_table(index="messages_per_day", columns="channel", values="share",
                                   fill_value=0.0).reset_index() if not daily.empty else daily
    daily_wide.columns.name = None
    phases = _phase_table(run)
    html = env.get_template("report.html.j2").render(
        s=s, days=round(run.scenario.duration / 86400, 2), passed=findings.get("passed", True),
        verdict="; ".join(f"{g['gate']}: {g['actual']}" for g in gates if not g["passed"]) or
                f"{len(gates)} gate(s) checked",
        gates=gates, by_step=findings.get("by_step", []), recommendations=findings.get("recommendations", []),
        sends_table=_table(_sends_table(run)), paths_table=_table(_paths_table(run)),
        phase_table=None if phases.empty else _table(phases),
        daily_table=_table(daily_wide), sms_table=_table(run.sms_segments()), figure=figure,
        swimlanes=_swimlanes(run),
        projections_section=projections_section(s),
        placeholders=list(s.get("warnings") or []),  # placeholders left by `journeysim import` (older runs: none)
        folder=str(run.folder if shown_as is None else shown_as),
        entries=int(s.get("counts", {}).get("entry", 0)),
        pct=lambda v: "" if v is None else f"{100 * v:.2f}%")
    out = run.folder / "report.html"
    atomic_write_text(out, html)
    return out
