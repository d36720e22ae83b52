"""The projections lines of the run summary ``journeysim run`` prints."""

from __future__ import annotations

from typing import Any

__all__ = ["projection_lines"]


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def _arm(name: str, a: dict[str, Any]) -> str:
    if a["rate"] is None:
        return f"{name} 0 customers"
    return f"{name} {_pct(a['rate'])} [{_pct(a['low'])}, {_pct(a['high'])}] of {a['customers']}"


def projection_lines(projections: dict[str, Any] | None) -> list[str]:
    """``projections (purchase, 95% intervals):`` then per journey its arms' conversion rates and the lift."""
    if not projections:
        return []
    window = projections.get("window_seconds")
    from simulator.scenario.units import format_duration

    within = f" within {format_duration(window)} of entry" if window else ""
    lines = [f"projections ({projections['conversion']}{within}; 95% intervals):"]
    for name, j in projections["journeys"].items():
        text = ", ".join(_arm(arm, a) for arm, a in j["arms"].items())
        lift = j.get("lift")
        if lift is not None:
            if lift["absolute"] is None:
                text += "; lift: cannot be measured"
            else:
                text += (f"; lift {100 * lift['absolute']:+.1f} points [{100 * lift['absolute_low']:+.1f}, "
                         f"{100 * lift['absolute_high']:+.1f}]")
                if lift["relative"] is not None:
                    text += f" ({100 * lift['relative']:+.0f}% relative)"
        lines.append(f"  {name}: {text}")
    for channel, imp in (projections.get("impact") or {}).items():
        for name, j in imp["journeys"].items():
            if j["contribution"] is None:
                lines.append(f"  impact of {channel} on {name}: no customer entered in both runs")
                continue
            lines.append(f"  impact of {channel} on {name}: {_pct(j['rate_with'])} with, {_pct(j['rate_without'])} "
                         f"without: {100 * j['contribution']:+.1f} points [{100 * j['low']:+.1f}, "
                         f"{100 * j['high']:+.1f}] over {j['customers']} customers (paired what-if run)")
    return lines
