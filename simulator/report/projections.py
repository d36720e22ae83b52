"""The report's "Projections" section, from summary.json's ``projections`` (docs/projections.md): per
journey a table of arms (conversion rate with its Wilson interval, lift), a figure of the rate per arm
and split branch with interval bars, and the paths with time to conversion."""

from __future__ import annotations

import base64
import html
from typing import Any

from markupsafe import Markup

from simulator.report.figures import _png, plt
from simulator.scenario.units import format_span

__all__ = ["projections_section"]


def _pct(v: float | None) -> str:
    return "" if v is None else f"{100 * v:.2f}%"


def _span(v: float | None) -> str:
    return "" if v is None else format_span(v, 0)


def _money(v: float | None) -> str:
    return "" if v is None else f"{v:,.2f}"


def _groups(j: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(label, statistics) of each arm, then of each split branch."""
    order = {"treated": 0, "holdout": 1, "all": 2}
    rows = sorted(j["arms"].items(), key=lambda kv: order.get(kv[0], 3))
    for step, branches in j.get("splits", {}).items():
        rows += [(f"{step} -> {target}", b) for target, b in branches.items()]
    return rows


def _figure(name: str, j: dict[str, Any]) -> str | None:
    """Conversion rate per arm and split branch, with 95% Wilson interval bars (PNG, base64)."""
    rows = [(label, g) for label, g in _groups(j) if g["rate"] is not None]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(min(9.0, 1.2 + 1.1 * len(rows)), 2.8))
    xs = list(range(len(rows)))
    rates = [100 * g["rate"] for _, g in rows]
    err = [[100 * (g["rate"] - g["low"]) for _, g in rows], [100 * (g["high"] - g["rate"]) for _, g in rows]]
    colours = ["#7f7f7f" if label == "holdout" else "#1f77b4" if "->" not in label else "#2ca02c"
               for label, _ in rows]
    ax.bar(xs, rates, color=colours, alpha=0.85)
    ax.errorbar(xs, rates, yerr=err, fmt="none", ecolor="black", capsize=4, linewidth=1)
    ax.set_xticks(xs, [f"{label}\n(n={g['customers']})" for label, g in rows], fontsize=7.5)
    ax.set_ylabel("% converted")
    ax.set_title(f"{name}: conversion rate with 95% interval", fontsize=9)
    return base64.b64encode(_png(fig)).decode()


def _arm_rows(j: dict[str, Any], revenue: bool) -> str:
    out = []
    for label, g in _groups(j):
        ttc = g["time_to_conversion"]
        cells = [html.escape(label), str(g["customers"]), str(g["converted"]), _pct(g["rate"]),
                 f"{_pct(g['low'])} – {_pct(g['high'])}" if g["rate"] is not None else "",
                 _span(ttc["p50"]), _span(ttc["p90"])]
        if revenue:
            cells += [_money(g.get("revenue")), _money(g.get("revenue_per_customer"))]
        out.append("<tr>" + "".join(f'<td class="num">{c}</td>' if i else f"<td>{c}</td>"
                                    for i, c in enumerate(cells)) + "</tr>")
    return "".join(out)


def _lift_text(lift: dict[str, Any] | None) -> str:
    if not lift:
        return ""
    if lift["absolute"] is None:
        return "<p>Lift: cannot be measured (an arm is empty).</p>"
    text = (f"<p>Lift of the treated arm over the holdout: <b>{100 * lift['absolute']:+.2f} points</b> "
            f"(95% interval {100 * lift['absolute_low']:+.2f} to {100 * lift['absolute_high']:+.2f}, Newcombe)")
    if lift["relative"] is not None:
        text += (f"; relative <b>{100 * lift['relative']:+.1f}%</b> (95% interval {100 * lift['relative_low']:+.1f}% "
                 f"to {100 * lift['relative_high']:+.1f}%, Katz)")
    elif lift.get("relative_note"):
        text += f"; relative: {html.escape(lift['relative_note'])}"
    text += f"; incremental conversions among the treated: {lift['incremental_conversions']:.1f}"
    if "revenue_per_customer" in lift:
        text += f"; revenue per customer {lift['revenue_per_customer']:+,.2f}"
    return text + ".</p>"


def _path_rows(j: dict[str, Any]) -> str:
    out = []
    for p in j["paths"]:
        ttc = p["time_to_conversion"]
        cells = [html.escape(p["arm"]), html.escape(p["path"] or "(no step)"), str(p["customers"]),
                 str(p["converted"]), _pct(p["rate"]), f"{_pct(p['low'])} – {_pct(p['high'])}",
                 _span(ttc["p50"]), _span(ttc["p90"])]
        out.append("<tr>" + "".join(f"<td>{c}</td>" if i < 2 else f'<td class="num">{c}</td>'
                                    for i, c in enumerate(cells)) + "</tr>")
    return "".join(out)


def projections_section(summary: dict[str, Any]) -> Markup:
    """The section's HTML (empty when the run has no projections)."""
    proj = summary.get("projections")
    if not proj:
        return Markup("")
    window = proj.get("window_seconds")
    revenue = proj.get("value_field") is not None
    parts = ['<h2 id="projections">Projections</h2>',
             f"<p>Conversion: <code>{html.escape(proj['conversion'])}</code> in truth after a customer's first "
             f"entry into the journey, {'within ' + format_span(window) if window else 'until the end of the run'}"
             f"{'; revenue from the field <code>' + html.escape(proj['value_field']) + '</code>' if revenue else ''}."
             " Rates with 95% Wilson intervals; split branches count the treated customers (all without a holdout)."
             " Method and examples: docs/projections.md.</p>"]
    for name, j in proj["journeys"].items():
        parts.append(f"<h3>{html.escape(name)}</h3>")
        head = ["arm / split branch", "customers", "converted", "rate", "95% interval", "time to conversion p50",
                "p90"] + (["revenue", "revenue per customer"] if revenue else [])
        parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + _arm_rows(j, revenue)
                     + "</table>")
        parts.append(_lift_text(j.get("lift")))
        png = _figure(name, j)
        if png:
            parts.append(f'<figure><img alt="conversion rate per arm of {html.escape(name)}" '
                         f'src="data:image/png;base64,{png}"><figcaption>{html.escape(name)}: conversion rate per '
                         f"arm and split branch; bars: 95% Wilson interval</figcaption></figure>")
        if j["paths"]:
            parts.append("<h4>By path (the steps of the first pass)</h4><table><tr><th>arm</th><th>path</th>"
                         "<th>customers</th><th>converted</th><th>rate</th><th>95% interval</th>"
                         "<th>time to conversion p50</th><th>p90</th></tr>" + _path_rows(j) + "</table>")
            if j.get("paths_omitted"):
                parts.append(f"<p>{j['paths_omitted']} rarer paths not shown (summary.json lists the "
                             f"{len(j['paths'])} most common).</p>")
    if proj.get("impact"):
        parts.append(_impact_table(proj["impact"]))
    if proj.get("frequency", {}).get("groups"):
        parts.append(_frequency_part(proj["frequency"]))
    return Markup("\n".join(parts))


def _frequency_part(freq: dict[str, Any]) -> str:
    """Engagement, opt-out and conversion shares by deliveries per customer, with 95% Wilson bars."""
    groups = freq["groups"]
    fig, ax = plt.subplots(figsize=(8.0, 3.0))
    xs = list(range(len(groups)))
    for key, label, colour in (("engaged", "engaged (opened or clicked)", "#1f77b4"),
                               ("opted_out", "opted out", "#d62728"), ("converted", "converted", "#2ca02c")):
        rates = [100 * g[key]["rate"] for g in groups]
        err = [[100 * (g[key]["rate"] - g[key]["low"]) for g in groups],
               [100 * (g[key]["high"] - g[key]["rate"]) for g in groups]]
        ax.errorbar(xs, rates, yerr=err, marker="o", markersize=3.5, capsize=3, linewidth=1.2, color=colour,
                    label=label)
    ax.set_xticks(xs, [f"{g['deliveries']}\n(n={g['customers']})" for g in groups], fontsize=7.5)
    ax.set_xlabel("messages delivered per customer during the run")
    ax.set_ylabel("% of customers")
    ax.legend(fontsize=7.5, frameon=False)
    ax.set_title("Frequency against engagement, opt-outs and conversion (95% intervals)", fontsize=9)
    png = base64.b64encode(_png(fig)).decode()
    return ('<h3 id="frequency-curves">Frequency against engagement and opt-outs</h3>'
            '<figure><img alt="engagement, opt-out and conversion share by deliveries per customer" '
            f'src="data:image/png;base64,{png}"><figcaption>Customers grouped by how many messages were '
            "delivered to them; associations in the simulated population, not effects (an early opt-out also "
            "means fewer deliveries): docs/projections.md#frequency-curves</figcaption></figure>")


def _impact_table(impact: dict[str, Any]) -> str:
    """Channel impact (``run --impact``): per channel and journey, the paired what-if comparison."""
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{100 * v:.1f}%"

    rows = []
    for channel, imp in impact.items():
        for name, j in imp["journeys"].items():
            if j["contribution"] is None:
                cells = [channel, name, str(j["customers"]), "n/a", "n/a", "n/a", "n/a"]
            else:
                cells = [channel, name, str(j["customers"]), pct(j["rate_with"]), pct(j["rate_without"]),
                         f"{100 * j['contribution']:+.1f} points",
                         f"[{100 * j['low']:+.1f}, {100 * j['high']:+.1f}]"]
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
    head = ["channel removed", "journey", "customers in both runs", "converted with", "without", "contribution",
            "95% interval"]
    return ('<h3 id="impact">Channel impact</h3><p>Each channel\'s contribution: the run compared with a what-if run '
            "of the same seed in which that channel's sends are left out (paired per customer; docs/projections.md"
            "#channel-impact).</p><table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows)
            + "</table>")
