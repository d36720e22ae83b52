"""``sweep.html``: one self-contained page per sweep: finding-rate curves against each varied parameter
with 95% bands, gate lines and the recommended settings, what-if deltas, and the tables behind them.
Figures are matplotlib PNGs embedded as base64 data URIs (the page opens offline)."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from markupsafe import Markup  # noqa: E402

from simulator.fileio import atomic_write_text  # noqa: E402
from simulator.scenario.model import Gate  # noqa: E402
from simulator.scenario.vocabulary import FINDING_KINDS  # noqa: E402

if TYPE_CHECKING:
    from simulator.sweep import SweepPlan

__all__ = ["write_sweep_page", "curves_png", "what_if_png"]

MAX_PANELS = 9   # finding kinds per figure (gated kinds first)
MAX_LINES = 6    # combinations of the other settings drawn per panel
_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode()


def _kinds(summary: pd.DataFrame, gates: Sequence[Gate]) -> list[str]:
    """Kinds worth a panel: gated kinds, then any kind with a non-zero mean somewhere."""
    gated = list(dict.fromkeys(g.kind for g in gates))
    seen = set(summary.loc[summary["mean_rate"] > 0, "kind"])
    rest = [k for k in FINDING_KINDS if k in seen and k not in gated]
    return (gated + rest)[:MAX_PANELS]


def _axis(values: Sequence[str]) -> tuple[list[float], bool]:
    """x positions of the values: numbers (durations in seconds) when all are, else 0..n-1."""
    from simulator.sweep import numeric_value

    numbers = [numeric_value(v) for v in values]
    if all(n is not None for n in numbers):
        return [float(n) for n in numbers], True  # type: ignore[arg-type]
    return [float(i) for i in range(len(values))], False


def _ticks(ax: plt.Axes, xs: list[float], labels: Sequence[str]) -> None:
    step = max(1, int(np.ceil(len(xs) / 8)))
    ax.set_xticks(xs[::step], [str(v) for v in labels][::step], rotation=30 if step > 1 or len(xs) > 5 else 0,
                  fontsize=7)


def curves_png(summary: pd.DataFrame, plan: SweepPlan, vary_key: str, gates: Sequence[Gate],
               recommendations: Sequence[dict[str, Any]]) -> str | None:
    """Mean finding rate (% of entered customers) against one varied key, a 95% band, gate lines and the
    recommended setting; one panel per kind, one line per combination of the other settings; then
    messages delivered per channel. Returns base64 PNG, or None with nothing to draw."""
    from simulator.sweep import short_name

    kinds = _kinds(summary, gates)
    vary = next(v for v in plan.varies if v.key == vary_key)
    xs, numeric = _axis(vary.values)
    order = np.argsort(xs) if numeric else np.arange(len(xs))
    xs_sorted = [xs[i] for i in order]
    labels = [vary.values[i] for i in order]
    x_of = dict(zip(vary.values, xs))
    others = [c for c in plan.columns if c != vary_key]
    combos = list(dict.fromkeys(tuple(dict(v.settings)[c] for c in others) for v in plan.variants))[:MAX_LINES]
    panels = len(kinds) + 1
    cols = min(3, panels)
    rows = int(np.ceil(panels / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.1 * rows), squeeze=False)
    name = short_name(vary_key)
    frame = summary.copy()
    for c in others:
        frame[c] = frame[c].astype(str)
    for i, kind in enumerate(kinds):
        ax = axes[i // cols, i % cols]
        sub = frame[frame["kind"] == kind]
        for j, combo in enumerate(combos):
            mask = np.ones(len(sub), bool)
            for c, v in zip(others, combo):
                mask &= (sub[c] == v).to_numpy()
            line = sub[mask].assign(x=lambda d: d[vary_key].map(x_of)).sort_values("x")
            if line.empty:
                continue
            colour = _COLOURS[j % len(_COLOURS)]
            label = ", ".join(f"{c}={v}" for c, v in zip(others, combo)) or None
            ax.plot(line["x"], 100 * line["mean_rate"], marker="o", ms=3, color=colour, label=label)
            if line["high"].notna().any():
                ax.fill_between(line["x"], 100 * line["low"], 100 * line["high"], color=colour, alpha=0.18, lw=0)
        for gate in gates:
            if gate.kind == kind and gate.percent:
                ax.axhline(gate.value, color="#d62728", ls="--", lw=1)
                ax.annotate(f"gate {gate.op} {gate.value:g}%", (xs_sorted[0], gate.value), color="#d62728",
                            fontsize=7, va="bottom")
        for rec in recommendations:
            if rec["kind"] == kind and rec["parameter"] == vary_key and rec["holds"] in (">=", "<=") \
                    and tuple(rec["with"].get(c) for c in others) == combos[0]:
                x = x_of.get(rec["threshold"])
                if x is not None:
                    ax.axvline(x, color="#2ca02c", ls=":", lw=1.2)
                    label = (f"only at {rec['threshold']} (grid edge)" if rec.get("at_edge")
                             else f"{rec['holds']} {rec['threshold']}")
                    if rec.get("unresolved"):
                        label += " (not resolved)"
                    ax.annotate(label, (x, ax.get_ylim()[1] * 0.92), color="#2ca02c", fontsize=7,
                                ha="right" if x == max(xs_sorted) else "left")
        ax.set_title(f"{kind} (% of entered customers)", fontsize=9)
        ax.set_ylim(bottom=0)
        _ticks(ax, xs_sorted, labels)
        ax.set_xlabel(name, fontsize=8)
        if i == 0 and any(others):
            ax.legend(frameon=False, fontsize=7)
    ax = axes[len(kinds) // cols, len(kinds) % cols]
    first = frame[frame["kind"] == frame["kind"].iloc[0]] if not frame.empty else frame
    mask = np.ones(len(first), bool)
    for c, v in zip(others, combos[0] if combos else ()):
        mask &= (first[c] == v).to_numpy()
    line = first[mask].assign(x=lambda d: d[vary_key].map(x_of)).sort_values("x")
    channels = [c for c in line.columns if c.startswith("sends_") and c != "sends_total"]
    for j, column in enumerate(channels):
        ax.plot(line["x"], line[column], marker="o", ms=3, color=_COLOURS[j % len(_COLOURS)],
                label=column.removeprefix("sends_"))
    ax.set_title("messages delivered per run (mean)", fontsize=9)
    ax.set_ylim(bottom=0)
    _ticks(ax, xs_sorted, labels)
    ax.set_xlabel(name, fontsize=8)
    if channels:
        ax.legend(frameon=False, fontsize=7)
    for k in range(panels, rows * cols):
        axes[k // cols, k % cols].axis("off")
    fig.suptitle(f"Findings vs {vary_key} (mean of replications, shaded: 95% interval)", fontsize=10)
    return _png(fig)


def what_if_png(deltas: pd.DataFrame) -> str | None:
    """Change in each finding rate (percentage points) per what-if, with the paired 95% interval."""
    d = deltas[deltas["kind"].isin(FINDING_KINDS)] if not deltas.empty else deltas
    if d.empty:
        return None
    labels = list(dict.fromkeys(d["what_if"]))
    kinds = [k for k in FINDING_KINDS if k in set(d["kind"])]
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(kinds) * len(labels) + 1.2))
    height = 0.8 / len(labels)
    for j, label in enumerate(labels):
        sub = d[d["what_if"] == label].groupby("kind").first().reindex(kinds)
        y = np.arange(len(kinds)) + j * height
        err = np.vstack([(sub["delta"] - sub["delta_low"]).fillna(0), (sub["delta_high"] - sub["delta"]).fillna(0)])
        ax.barh(y, 100 * sub["delta"].fillna(0), height=height, xerr=100 * err, color=_COLOURS[j % len(_COLOURS)],
                label=label, capsize=2)
    ax.set_yticks(np.arange(len(kinds)) + height * (len(labels) - 1) / 2, kinds, fontsize=8)
    ax.axvline(0, color="#444", lw=0.8)
    ax.set_xlabel("change in rate vs baseline (percentage points of entered customers)")
    ax.invert_yaxis()
    ax.legend(frameon=False, fontsize=8)
    return _png(fig)


def _table(frame: pd.DataFrame) -> Markup:
    if frame.empty:
        return Markup("<p>Nothing to show.</p>")
    return Markup(frame.to_html(index=False, border=0, na_rep="", float_format=lambda v: f"{v:.4g}"))


def _pct(v: float) -> str:
    return "" if v is None or pd.isna(v) else f"{100 * v:.2f}%"


def _settings(variant: Any) -> dict[str, str]:
    """A variant's settings with short column names (``wait_1h.wait``, not the whole key path)."""
    from simulator.sweep import short_name

    return {short_name(k): v for k, v in variant.settings}


def _band(mean: float, low: float, high: float) -> str:
    """``0.81% (0.35-1.26)``: the mean and its 95% interval, in % of entered customers."""
    if mean is None or pd.isna(mean):
        return ""
    text = f"{100 * mean:.2f}%"
    return text + (f" ({100 * low:.2f}\u2060–\u2060{100 * high:.2f})" if pd.notna(high) else "")  # no break inside


def _rates_table(summary: pd.DataFrame, plan: SweepPlan, kinds: list[str]) -> pd.DataFrame:
    """Variants as rows, kinds as columns: 'mean% (low-high)'."""
    if summary.empty or not kinds:
        return pd.DataFrame()
    rows = []
    for variant in plan.variants:
        sub = summary[summary["variant"] == variant.index].set_index("kind")
        row: dict[str, Any] = {"variant": variant.index, **_settings(variant)}
        for kind in kinds:
            if kind in sub.index:
                r = sub.loc[kind]
                row[kind] = _band(r["mean_rate"], r["low"], r["high"])
        rows.append(row)
    return pd.DataFrame(rows)


def _volumes_table(summary: pd.DataFrame, plan: SweepPlan) -> pd.DataFrame:
    """Variants as rows: replications, mean entered customers, messages delivered per channel and p95
    messages per customer per week (means across replications)."""
    if summary.empty:
        return pd.DataFrame()
    rows = []
    for variant in plan.variants:
        sub = summary[summary["variant"] == variant.index]
        if sub.empty:
            continue
        r = sub.iloc[0]
        row: dict[str, Any] = {"variant": variant.index, **_settings(variant), "replications": int(r["replications"]),
                               "entered (mean)": round(float(r["mean_entered"]), 1)}
        for c in [c for c in sub.columns if c.startswith(("sends_", "p95_week_"))]:
            name = c.replace("sends_", "delivered ").replace("p95_week_", "p95/week ")
            row[name] = round(float(r[c]), 2)
        rows.append(row)
    return pd.DataFrame(rows)


def _deltas_table(deltas: pd.DataFrame) -> pd.DataFrame:
    if deltas.empty:
        return deltas
    out = deltas.copy()
    finding = out["kind"].isin(FINDING_KINDS)
    for col in ("baseline", "what_if_value"):
        out[col] = [_pct(v) if f else f"{v:.4g}" for v, f in zip(out[col], finding)]
    def change(d: float, lo: float, hi: float, is_rate: bool) -> str:
        text = f"{100 * d:+.2f} pp" if is_rate else f"{d:+.4g}"
        if pd.notna(hi):
            text += f" [{100 * lo:+.2f}, {100 * hi:+.2f}]" if is_rate else f" [{lo:+.4g}, {hi:+.4g}]"
        return text

    out["change"] = [change(*row) for row in zip(out["delta"], out["delta_low"], out["delta_high"], finding)]
    return out.drop(columns=["delta", "delta_low", "delta_high"]).rename(columns={"what_if_value": "what-if"})


def write_sweep_page(path: str | Path, *, plan: SweepPlan, summary: pd.DataFrame,
                     recommendations: Sequence[dict[str, Any]], deltas: pd.DataFrame,
                     failures: Sequence[dict[str, Any]], gates: Sequence[Gate], manifest: dict[str, Any]) -> Path:
    """Render sweep.html (atomically) and return its path."""
    figures = []
    if not summary.empty:
        for vary in plan.varies:
            png = curves_png(summary, plan, vary.key, gates, recommendations)
            if png:
                figures.append((vary.key, png))
    # Crossed with --vary, the curves show each what-if as its own line; the bars are for what-ifs alone.
    what_if_fig = what_if_png(deltas) if not deltas.empty and not plan.varies else None
    env = jinja2.Environment(loader=jinja2.PackageLoader("simulator", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    kinds = _kinds(summary, gates) if not summary.empty else []
    html = env.get_template("sweep.html.j2").render(
        m=manifest, plan=plan, figures=figures, what_if_fig=what_if_fig, recommendations=recommendations,
        rates=_table(_rates_table(summary, plan, kinds)), volumes=_table(_volumes_table(summary, plan)),
        deltas=_table(_deltas_table(deltas)),
        failures=_table(pd.DataFrame(list(failures)).drop(columns=["traceback"], errors="ignore")),
        n_failures=len(failures), gates=[g.text for g in gates])
    path = Path(path)
    atomic_write_text(path, html)
    return path
