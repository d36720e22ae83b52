"""Recommendations computed from the run, never canned.

- Exit races (phase decided) and stale reads: per journey step and responsible link, the link's
  observed lag quantiles, the wait before the decision, and the longer wait that would have let the
  change arrive first for 95% / all of the affected customers (from each finding's
  arrival-after-decision).
- Exit races that slipped through later (held, deferred, queued): turn the re-check on, or the link
  that made the re-check read a stale replica, or the channel queue.
- Out-of-order applies and consent violations: per responsible link, its lag and the fix.
- Overlaps: which journey pairs collide, how often.
- Caps: the share of messaged customers who went over a cap.
- Stale branches on journey data frozen at entry: the journey's data mode, not a link.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from simulator.findings.staleness import FROZEN
from simulator.findings.totals import RunTotals
from simulator.scenario.model import Scenario
from simulator.scenario.units import format_duration

__all__ = ["recommend"]

_RACE_KINDS = ("exit-race", "stale-branch", "stage-propagation-miss", "stale-content")


def _span(seconds: float) -> str:
    return format_duration(float(round(max(0.0, seconds), 0)))


def _wait_before(scenario: Scenario, journey: str, step: str | None) -> tuple[str, float] | None:
    """The nearest wait (or wait_until timeout) before ``step`` in the journey's step list."""
    j = scenario.journey_by_name.get(journey)
    if j is None or step is None:
        return None
    ids = [s.id for s in j.steps]
    if step not in ids:
        return None
    for s in reversed(j.steps[: ids.index(step)]):
        if s.wait is not None:
            return (s.id, s.wait)
        if s.wait_until is not None and s.wait_until.timeout is not None:
            return (s.id, s.wait_until.timeout)
    return None


def _lag_text(lags: pd.DataFrame, link: str, field: Any) -> str | None:
    """The observed lag quantiles of ``link`` for ``field`` over the whole run."""
    observed = lags[(lags["link"] == link) & (lags["field"] == field)]["lag"].to_numpy()
    if not observed.size:
        return None
    q = np.quantile(observed, [0.5, 0.95, 0.99])
    return (f"{link} lag for {field} observed p50 {_span(q[0])}, p95 {_span(q[1])}, "
            f"p99 {_span(q[2])} over {observed.size} records")


def _row(kind: str, journey: Any, step: Any, link: Any, n: int, parts: list[str]) -> dict[str, Any]:
    return {"kind": kind, "journey": journey, "step": step, "link": link, "findings": int(n),
            "text": "; ".join(parts)}


def _were(n: int) -> str:
    return "was" if n == 1 else "were"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def recommend(scenario: Scenario, totals: RunTotals, findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Recommendations with the figures behind them, most affected first."""
    out: list[dict[str, Any]] = []
    if findings.empty:
        return out
    lags = totals.lags
    phase = (findings["phase"] if "phase" in findings else pd.Series(None, index=findings.index, dtype=object))
    findings = findings.assign(phase=phase.fillna("decided"))
    decided = findings["phase"] == "decided"
    races = findings[findings["kind"].isin(_RACE_KINDS) & findings["link"].notna() & decided]
    for (kind, journey, step, link), group in races.groupby(["kind", "journey", "step", "link"], sort=True):
        field = group["field"].iloc[0]
        # how much later the decision would have had to happen for the change to be there first
        late_by = group["late_by_seconds"].astype(float)
        needed = late_by.dropna().to_numpy()
        never = int(late_by.isna().sum())
        parts = [f"{journey}/{step}: {len(group)} {kind} finding{'s' if len(group) != 1 else ''} "
                 f"caused by {link}"]
        hops = sorted(set(group["hop_at_decision"].dropna()) - {link}) if "hop_at_decision" in group else []
        if hops:
            parts.append(f"at the decision the change was still on {', '.join(hops)} (the slowest hop was {link})")
        lag = _lag_text(lags, link, field)
        if lag:
            parts.append(lag)
        wait = _wait_before(scenario, journey, step)
        if needed.size:
            q95, qmax = np.quantile(needed, 0.95), needed.max()
            if wait is not None:
                parts.append(f"{wait[0]} is {_span(wait[1])}; {_span(wait[1] + q95)} would have let the change "
                             f"arrive first for 95% of these, {_span(wait[1] + qmax)} for all that arrived")
            else:
                parts.append(f"deciding {_span(q95)} later would have let the change arrive first for 95% of these")
        if never:
            parts.append(f"{never} never arrived (lost, still pending, or overwritten by an older record): "
                         "no wait fixes those; fix the link")
        out.append(_row(kind, journey, step, link, len(group), parts))
    exits = findings[(findings["kind"] == "exit-race") & ~decided]
    for (journey, step, ph), group in exits.groupby(["journey", "step", "phase"], sort=True):
        out.extend(_later_phase(scenario, lags, journey, step, ph, group))
    not_checked = findings[(findings["kind"] == "exit-race") & decided & (findings["replica_value"] == "true")]
    for (journey, step), group in not_checked.groupby(["journey", "step"], sort=True):
        j = scenario.journey_by_name.get(journey)
        check = j.exit_when.check if j is not None and j.exit_when else "?"
        out.append(_row("exit-race", journey, step, None, len(group), [
            f"{journey}/{step}: {_plural(len(group), 'exit-race finding')} although {group['system'].iloc[0]} "
            f"already had the exit: exit_when is checked with check: {check}; check it continuously or at every "
            "step"]))
    disorder = findings[findings["kind"] == "out-of-order"]
    for link, group in disorder.groupby("link", sort=True):
        fields = ", ".join(sorted(set(group["field"].astype(str))))
        # a downstream apply that only forwarded this link's reordering names this link, with its own hop
        downstream = group[group["hop_at_decision"].notna() & (group["hop_at_decision"] != link)] \
            if "hop_at_decision" in group else group.iloc[0:0]
        parts = [f"{link}: {_plural(len(group) - len(downstream), 'older record')} applied over newer ones ({fields})"]
        if len(downstream):
            parts.append(f"propagated to {_plural(len(downstream), 'more out-of-order apply')} downstream on "
                         f"{', '.join(sorted(set(downstream['hop_at_decision'].astype(str))))}, which kept the order")
        lag = _lag_text(lags, link, group["field"].iloc[0])
        if lag:
            parts.append(lag)
        spec = next((x for x in scenario.sync if x.label == link), None)
        if spec is not None and spec.apply == "arrival":
            parts.append(f"set apply: version on {link} so a late older record cannot overwrite a newer one")
        out.append(_row("out-of-order", None, None, link, len(group), parts))
    out.extend(_frozen_branches(findings))
    consent = findings[(findings["kind"] == "consent-violation") & findings["link"].notna()]
    for link, group in consent.groupby("link", sort=True):
        parts = [f"{_plural(len(group), 'consent-violation finding')} caused by {link}: the opt-out had not "
                 f"reached {group['system'].iloc[0]} when it checked consent"]
        lag = _lag_text(lags, link, group["field"].iloc[0])
        if lag:
            parts.append(lag)
        parts.append(f"stream opt-outs on {link} (or shorten its schedule); no journey wait fixes consent")
        out.append(_row("consent-violation", None, None, link, len(group), parts))
    overlaps = findings[findings["kind"] == "overlap"]
    if not overlaps.empty and "pair" in overlaps:
        for pair, n in overlaps["pair"].value_counts().items():
            out.append({"kind": "overlap", "journey": None, "step": None, "link": None, "findings": int(n),
                        "text": f"{pair}: {n} message{'s' if n != 1 else ''} inside the collision window; "
                                "add a collision rule or stagger their sends"})
    caps = findings[findings["kind"] == "frequency-cap"]
    if not caps.empty:
        messaged = totals.messaged
        for cap, group in caps.groupby("cap", sort=True) if "cap" in caps else []:
            share = group["customer"].nunique() / messaged if messaged else 0.0
            out.append({"kind": "frequency-cap", "journey": None, "step": None, "link": None,
                        "findings": int(len(group)),
                        "text": f"cap {cap}: {100 * share:.2f}% of messaged customers went over it"})
    return sorted(out, key=lambda r: -r["findings"])



def _later_phase(scenario: Scenario, lags: pd.DataFrame, journey: str, step: str, phase: str,
                 group: pd.DataFrame) -> list[dict[str, Any]]:
    """Exit races that slipped through after the decision: held, deferred or queued messages."""
    j = scenario.journey_by_name.get(journey)
    recheck = j.exit_when.recheck if j is not None and j.exit_when else "never"
    head = f"{journey}/{step}: {_plural(len(group), 'message')} delivered after the customer exited"
    out = []
    if phase == "queued":
        channels = ", ".join(sorted(set(group["channel"].dropna().astype(str))))
        out.append(_row("exit-race", journey, step, None, len(group), [
            f"{head} while queued at the {channels or 'channel'} channel system",
            "the channel does not re-check exit_when: raise the channel's throughput, shorten its delivery "
            "delay, or spread the sends"]))
        return out
    reason = {"held": "held by quiet hours", "deferred": "deferred by a frequency cap"}.get(phase, phase)
    synced = group[group["link"].notna()]
    unsynced = group[group["link"].isna()]
    if len(unsynced):
        out.append(_row("exit-race", journey, step, None, len(unsynced), [
            f"{journey}/{step}: {_plural(len(unsynced), 'message')} {reason} {_were(len(unsynced))} delivered after "
            "the customer "
            f"exited although {unsynced['system'].iloc[0]} had the exit at the release",
            f"set exit_when.recheck: at_release on {journey} (it is {recheck})" if recheck != "at_release"
            else "re-check exit_when at release"]))
    for link, part in synced.groupby("link", sort=True):
        late = part["late_by_seconds"].astype(float).dropna().to_numpy()
        parts = [f"{journey}/{step}: {_plural(len(part), 'message')} {reason} {_were(len(part))} delivered after "
                 "the customer exited: " + ("the re-check at release read" if recheck == "at_release" else
                                            "a re-check at release would have read")
                 + f" a stale {part['system'].iloc[0]}, caused by {link}"]
        hops = sorted(set(part["hop_at_decision"].dropna()) - {link})
        if hops:
            parts.append(f"at the release the change was still on {', '.join(hops)} (the slowest hop was {link})")
        lag = _lag_text(lags, link, part["field"].iloc[0])
        if lag:
            parts.append(lag)
        if late.size:
            parts.append(f"the exit arrived up to {_span(late.max())} after the release (95%: "
                         f"{_span(np.quantile(late, 0.95))}): a faster {link} would have let the re-check stop them")
        out.append(_row("exit-race", journey, step, link, len(part), parts))
    return out


def _frozen_branches(findings: pd.DataFrame) -> list[dict[str, Any]]:
    """Stale branches on the entry snapshot of a journey with journey_data: entry, changed after entry: no
    sync link to fix, the journey's data mode is the cause."""
    frozen = findings[(findings["kind"] == "stale-branch") & findings["link"].isna()
                      & findings["root_cause"].astype(str).str.startswith(f"{FROZEN} ")]
    out = []
    for (journey, step), group in frozen.groupby(["journey", "step"], sort=True):
        live = int(group["root_cause"].astype(str).str.contains("journey_data: live would have read it").sum())
        out.append(_row("stale-branch", journey, step, None, len(group), [
            f"{journey}/{step}: {_plural(len(group), 'stale-branch finding')} read journey data frozen at entry "
            "(journey_data: entry); branch on contact data (journey_data: live) or re-read the field at the branch",
            f"the live replica had the change at the branch in {live} of them"]))
    return out
