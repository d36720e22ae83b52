"""``compare.html``: one self-contained page per comparison (rates side by side with 95% intervals,
paired differences against the first platform with a figure, the rules that differ, volumes, failed
runs). Built from sweep.html's pieces; the figure is a PNG embedded as a data URI (opens offline)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import pandas as pd

from simulator.fileio import atomic_write_text
from simulator.report.sweep_page import _table, _volumes_table, what_if_png

if TYPE_CHECKING:
    from simulator.platforms.compare import ComparePlan

__all__ = ["write_compare_page"]


def _rules_frame(rules: pd.DataFrame, platforms: Sequence[str], which: str) -> pd.DataFrame:
    """The rules table for the page: key, one 'value (from)' column per platform, the sources."""
    sub = rules[rules["differs"]] if which == "differ" else rules[~rules["differs"]]
    rows = []
    for r in sub.to_dict("records"):
        row: dict[str, Any] = {"key": r["key"]}
        row.update({name: r[name] if r[f"{name}_from"] == "n/a" else f"{r[name]} ({r[f'{name}_from']})"
                    for name in platforms})
        row["preset says"] = r["preset_says"]
        row["sources"] = r["sources"]
        rows.append(row)
    return pd.DataFrame(rows)


def write_compare_page(path: str | Path, *, cplan: ComparePlan, frame: pd.DataFrame, summary: pd.DataFrame,
                       failures: Sequence[dict[str, Any]], manifest: dict[str, Any]) -> Path:
    """Render compare.html (atomically) and return its path."""
    from simulator.platforms.compare import PLATFORM, wide_rates

    names = list(cplan.platforms)
    deltas = frame[frame["delta"].notna()] if not frame.empty else frame
    if not deltas.empty:  # the chart shows differences that are not exactly 0 on every seed
        deltas = deltas[(deltas["delta"] != 0) | (deltas["delta_high"] != deltas["delta_low"])]
    if not deltas.empty:
        deltas = deltas.assign(what_if=[f"{p} - {names[0]}" for p in deltas[PLATFORM]])
    figure = what_if_png(deltas) if not deltas.empty else None
    env = jinja2.Environment(loader=jinja2.PackageLoader("simulator", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined)
    html = env.get_template("compare.html.j2").render(
        m=manifest, platforms=names, first=names[0], figure=figure,
        rates=_table(wide_rates(frame, names)),
        differ=_table(_rules_frame(cplan.rules, names, "differ")),
        same=_table(_rules_frame(cplan.rules, names, "same")),
        pinned=cplan.rules[cplan.rules["pinned"] & ~cplan.rules["differs"]].to_dict("records"),
        volumes=_table(_volumes_table(summary, cplan.sweep)),
        failures=_table(pd.DataFrame(list(failures)).drop(columns=["traceback"], errors="ignore")),
        n_failures=len(failures))
    path = Path(path)
    atomic_write_text(path, html)
    return path
