"""Segments recomputed on an interval (``journeys[].recompute_every``) and segment entries on joining
(``entry.enter: join``); docs/semantics.md.

Builders from test_findings_kinds: start 2026-12-01T00:00:00Z; ``go`` reaches the cdp at once; ``buy``
happens at web; ``stage_up`` sets stage B at crm (``stage_down`` here sets it back to A); every journey
reads the cdp; delivery delays 0. Every time below was derived by hand (in each docstring) first.
"""

from __future__ import annotations

import math

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_findings_kinds import EVENTS, H, M, journey, person, run, scenario

from simulator.cli import cli

BUY_2M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}"
STAGE_NOW = "  - {from: crm, to: cdp, fields: [stage]}"
SYNC = BUY_2M + "\n" + STAGE_NOW
DOWN = EVENTS + "    - {name: stage_down, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {stage: A}}\n"


def ev(result, kind: str):
    e = result.events()
    return e[e["kind"] == kind].reset_index(drop=True)


def delivered(result) -> list:
    return ev(result, "delivered")[["t", "message"]].values.tolist()


def with_recompute(journey_text: str, every: str | None) -> str:
    """Insert ``recompute_every`` after the journey's reads_from line."""
    if every is None:
        return journey_text
    return journey_text.replace("    reads_from: cdp\n", f"    reads_from: cdp\n    recompute_every: {every}\n", 1)


def go(every, *steps, exit_when="", events=(), entry="{event: go}", re_entry="false", duration="2d",
       extra_events=EVENTS):
    text = scenario(sync=SYNC, events=extra_events, duration=duration,
                    journeys=with_recompute(journey(*steps, exit_when=exit_when, entry=entry, re_entry=re_entry),
                                            every))
    return run(text, person(*events))


def test_a_customer_who_leaves_the_segment_is_evicted_at_the_next_recompute():
    """Exit when stage == 'B' (continuous); wait 1h, send m. stage_up at 3m30s reaches the cdp at once.
    recompute_every 2m: the copy is refreshed at 4m (the first multiple of 2m after 3m30s), the exit check
    runs then: exit at 4m, nothing sent. Without recompute: exit at 3m30s."""
    steps = ("{id: w, wait: 1h}", "{id: s, send: m}")
    ex = "{when: \"stage == 'B'\", check: continuous}"
    late = go("2m", *steps, exit_when=ex, events=((0, "go"), (210, "stage_up")))
    assert ev(late, "exit")[["t", "detail"]].values.tolist() == [[4 * M, "exit_when met (stage == 'B')"]]
    assert delivered(late) == []
    live = go(None, *steps, exit_when=ex, events=((0, "go"), (210, "stage_up")))
    assert ev(live, "exit")["t"].tolist() == [210.0]


def test_a_wait_until_sees_the_event_at_the_next_recompute():
    """wait_until buy, then send m. Buy at 23m, at the cdp at 25m; recompute_every 2m refreshes at 26m: the
    wait ends at 26m, m delivered at 26m (live: 25m)."""
    steps = ("{id: w, wait_until: {event: buy}}", "{id: s, send: m}")
    assert delivered(go("2m", *steps, events=((0, "go"), (23 * M, "buy")))) == [[26 * M, "m"]]
    assert delivered(go(None, *steps, events=((0, "go"), (23 * M, "buy")))) == [[25 * M, "m"]]


def test_a_branch_reads_the_last_recompute():
    """wait 5m, then branch stage == 'B' -> s2 (m2) else s1 (m). stage_up at 4m30s (cdp at once); with
    recompute_every 2m the next refresh is at 6m, so the branch at 5m reads stage A: m at 5m, and its
    decision record carries the copy's value A (version 0) against truth's B (version 1). Live: m2 at 5m."""
    steps = ("{id: w, wait: 5m}", "{id: b, branch: [{when: \"stage == 'B'\", goto: s2}, {else: s1}]}",
             "{id: s1, send: m, next: end}", "{id: s2, send: m2}")
    late = go("2m", *steps, events=((0, "go"), (270, "stage_up")))
    assert delivered(late) == [[5 * M, "m"]]
    decision = ev(late, "decision")
    row = decision[decision["field"] == "stage"].iloc[0]
    assert (row["t"], row["value"], row["version"], row["truth_value"], row["truth_version"]) == \
        (5 * M, "A", 0, "B", 1)
    assert delivered(go(None, *steps, events=((0, "go"), (270, "stage_up")))) == [[5 * M, "m2"]]


def test_the_entry_event_is_taken_at_once():
    """Event entry on go at 7m (cdp at once), recompute_every 5m: the customer enters at 7m, not at 10m;
    send m at entry: delivered at 7m."""
    result = go("5m", "{id: s, send: m}", events=((7 * M, "go"),))
    assert ev(result, "entry")["t"].tolist() == [7 * M] and delivered(result) == [[7 * M, "m"]]


def test_a_segment_entry_enters_late():
    """Segment entry stage == 'B' evaluated every 1m; stage_up at 2m30s. Live: the evaluation at 3m enters.
    recompute_every 5m: the copy is refreshed at 5m, before the evaluation due at 5m, which enters: 5m."""
    entry = "{segment: \"stage == 'B'\", every: 1m}"
    late = go("5m", "{id: s, send: m}", entry=entry, events=((150, "stage_up"),), duration="10m")
    assert ev(late, "entry")["t"].tolist() == [5 * M]
    live = go(None, "{id: s, send: m}", entry=entry, events=((150, "stage_up"),), duration="10m")
    assert ev(live, "entry")["t"].tolist() == [3 * M]


@settings(max_examples=25, deadline=None)
@given(second=st.integers(1, 3 * 3600 - 1), minutes=st.sampled_from([1, 2, 5, 15, 60]))
def test_an_arrival_is_seen_at_the_first_recompute_after_it(second: int, minutes: int):
    """stage_up at s seconds (not on a refresh: s is not a multiple of 60), at the cdp at once; exit when stage
    is B (continuous), a wait of 4h keeps the customer inside: exit at ceil(s / N) * N."""
    if second % 60 == 0:
        second += 1
    every = minutes * M
    result = go(f"{minutes}m", "{id: w, wait: 4h}", exit_when="{when: \"stage == 'B'\", check: continuous}",
                events=((0, "go"), (second, "stage_up")))
    assert ev(result, "exit")["t"].tolist() == [math.ceil(second / every) * every]


# ------------------------------------------------------------------------------------------ enter: join

def hourly(enter: str):
    """Segment entry stage == 'B' every 1h, re-entry on; one send step (the instance completes at once).
    stage_up at 30m, stage_down at 2h30m, stage_up at 3h30m; a 6h run: evaluations at 0..5h see A, B, B,
    A, B, B."""
    return go(None, "{id: s, send: m}", entry=f"{{segment: \"stage == 'B'\", every: 1h, enter: {enter}}}",
              re_entry="true", duration="6h", extra_events=DOWN,
              events=((30 * M, "stage_up"), (150 * M, "stage_down"), (210 * M, "stage_up")))


def test_enter_join_enters_only_customers_who_joined_since_the_last_evaluation():
    """member: every evaluation that finds B enters (1h, 2h, 4h, 5h). join: only the evaluations after one
    that found A: 1h (after 0) and 4h (after 3h)."""
    assert ev(hourly("member"), "entry")["t"].tolist() == [1 * H, 2 * H, 4 * H, 5 * H]
    joined = hourly("join")
    assert ev(joined, "entry")["t"].tolist() == [1 * H, 4 * H]
    assert delivered(joined) == [[1 * H, "m"], [4 * H, "m"]]


def test_bad_values_exit_2(tmp_path):
    path = tmp_path / "s.yaml"
    base = scenario(sync=SYNC, journeys=journey("{id: s, send: m}", entry="{event: go, enter: join}"))
    path.write_text(base)
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2 and "'enter: join' is for segment entries" in out.output, out.output
    path.write_text(with_recompute(scenario(sync=SYNC, journeys=journey("{id: s, send: m}")), "0s"))
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2 and "recompute_every must be longer than 0s" in out.output, out.output
    path.write_text(base.replace("enter: join", "enter: joins"))
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2 and "join" in out.output, out.output


def test_a_change_the_journey_makes_during_a_refresh_waits_for_the_next_one():
    """Exit when stage == 'C' (continuous); wait_until buy; update stage C at the cdp; send m; wait 1h. Buy at
    23m, at the cdp at 25m. recompute_every 2m: the refresh at 26m ends the wait; the update writes stage C at
    the cdp at 26m, which the journey sees only at the next refresh (28m), so the send runs at 26m (m
    delivered at 26m) and the instance, now in the 1h wait, exits at 28m. Live: the wait ends at 25m, the
    update's stage C ends the instance at once (continuous) and m is never sent."""
    steps = ("{id: w, wait_until: {event: buy}}", "{id: u, update: {stage: C}, at: cdp}", "{id: s, send: m}",
             "{id: w2, wait: 1h}")
    ex = "{when: \"stage == 'C'\", check: continuous}"
    late = go("2m", *steps, exit_when=ex, events=((0, "go"), (23 * M, "buy")))
    assert delivered(late) == [[26 * M, "m"]]
    assert ev(late, "exit")["t"].tolist() == [28 * M]
    live = go(None, *steps, exit_when=ex, events=((0, "go"), (23 * M, "buy")))
    assert delivered(live) == [] and ev(live, "exit")["t"].tolist() == [25 * M]
