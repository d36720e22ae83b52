"""The concise end-of-run summary printed by ``journeysim run`` (computed from the run's counts/log)."""

from __future__ import annotations

from simulator.pipeline import RunResult

__all__ = ["run_summary_lines"]


def run_summary_lines(result: RunResult) -> list[str]:
    """First line: one-line summary; following lines: entries per journey, sends per channel, suppressions."""
    counts = result.counts
    where = f" -> {result.out}" if result.out else ""
    lines = [f"{result.scenario.scenario}: {result.customers} customers, {counts.get('entry', 0)} entries, "
             f"{counts.get('delivered', 0)} delivered, {counts.get('suppressed', 0)} suppressed, "
             f"{result.log.rows} events in {result.wall_seconds:.1f}s (seed {result.seed}){where}"]
    split = result.summary.get("sharding")
    if split:  # how a split simulation went (the log is the same whatever the split)
        on = f"the Dask cluster {split['dask']}" if split.get("dask") else \
            f"{split['workers']} worker process{'es' if split['workers'] != 1 else ''}"
        lines.append(f"simulated as {split['shards']} customer shards on {on}: {split['rounds']} "
                     f"round{'s' if split['rounds'] != 1 else ''} of queue relaxation, "
                     f"{split['simulated_again']:,} customer simulations repeated")
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
        # the reason is the detail's head: "consent: ...", "exit_when met at release (purchase); req=..."
        reasons = suppressed["detail"].str.split(r"[:;(]", regex=True).str[0].str.strip().value_counts().sort_index()
        lines.append("suppressed: " + ", ".join(f"{r} {n}" for r, n in reasons.items()))
    from simulator.projections.text import projection_lines

    lines += projection_lines(result.summary.get("projections"))
    analysis = result.analysis
    if analysis is not None:
        if analysis.totals:
            lines.append("findings:")
            examples = analysis.examples()
            for kind, t in sorted(analysis.totals.items(), key=lambda kv: (-kv[1]["count"], kv[0])):
                lines.append(f"  {kind:<24} {t['count']:>6}  {t['customers']} customer{'s' if t['customers'] != 1 else ''} "
                             f"({100 * t['rate']:.2f}% of entered) [{t['severity']}]  e.g. {', '.join(examples[kind])}")
        else:
            lines.append("findings: none")
        if analysis.recommendations:
            lines.append("recommendations:")
            for rec in analysis.recommendations[:5]:
                lines.append(f"  - {rec['text']}")
            if len(analysis.recommendations) > 5:
                where = "report.html and summary.json" if result.out is not None and \
                    (result.out / "report.html").exists() else "summary.json"
                lines.append(f"  ... and {len(analysis.recommendations) - 5} more in {where}")
        reps = result.summary.get("replications")
        if reps:
            across = f"across {len(reps['seeds'])} replications"
            if not reps["by_kind"]:  # a heading with nothing under it reads like a crash
                lines.append(f"{across}: no findings in any replication")
            else:
                lines.append(f"{across} (mean rate per entered customer, 95% interval):")
            for kind, r in sorted(reps["by_kind"].items()):
                lines.append(f"  {kind:<24} {100 * r['mean']:.2f}%  [{100 * r['low']:.2f}%, {100 * r['high']:.2f}%]")
        for gate in analysis.gates:
            lines.append(gate.line())
        if result.out is not None and (result.out / "report.html").exists():
            lines.append(f"report: {result.out / 'report.html'}")
        if result.out is not None and analysis.totals:
            first = next(iter(analysis.examples().values()))[0]
            lines.append(f"trace one: journeysim trace {result.out} --customer {first}")
    return lines
