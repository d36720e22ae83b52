"""The concise end-of-run summary printed by ``journeysim run`` (computed from the run's counts/log)."""

from __future__ import annotations

from simulator.engine import RunResult

__all__ = ["run_summary_lines"]


def run_summary_lines(result: RunResult) -> list[str]:
    """First line: one-line summary; following lines: entries per journey, sends per channel, suppressions."""
    counts = result.counts
    where = f" -> {result.out}" if result.out else ""
    lines = [f"{result.scenario.scenario}: {result.customers} customers, {counts.get('entry', 0)} entries, "
             f"{counts.get('delivered', 0)} delivered, {counts.get('suppressed', 0)} suppressed, "
             f"{result.log.rows} events in {result.wall_seconds:.1f}s (seed {result.seed}){where}"]
    frame = result.events(["kind", "journey", "channel", "detail"])
    entries = frame[frame["kind"] == "entry"].groupby("journey").size()
    if len(entries):
        lines.append("entries: " + ", ".join(f"{j} {n}" for j, n in entries.items()))
    sends = frame[frame["kind"] == "delivered"].groupby("channel").size()
    if len(sends):
        lines.append("delivered: " + ", ".join(f"{c} {n}" for c, n in sends.items()))
    held = counts.get("held", 0)
    if held:
        lines.append(f"held for quiet hours: {held}")
    suppressed = frame[frame["kind"] == "suppressed"]
    if len(suppressed):
        reasons = suppressed["detail"].str.split(":").str[0].value_counts().sort_index()
        lines.append("suppressed: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))
    return lines
