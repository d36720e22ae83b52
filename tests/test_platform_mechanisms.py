"""Two engine mechanisms the platform presets need (docs/exits.md): ``exit_when.check: at_sends`` and
``journey_data: entry``. Each is usable in any scenario; every time and column below was derived by hand
before running.

Builders come from test_findings_kinds: the scenario starts 2026-12-01T00:00:00Z; sources web/app/pos,
crm, cdp, esp (email), sms; the entry event ``go`` reaches the cdp at once; ``buy`` happens at web;
``stage_up`` sets stage B at crm; every journey reads the cdp; delivery delays 0. ana starts in stage A,
tier bronze. New York is UTC-5 in December: 22:00 EST is 03:00 UTC the next day (t = 27h).
"""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_findings_kinds import H, M, journey, of_kind, person, run, scenario

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.scenario.load import load_scenario_text

BUY_10M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 10m}}"
BUY_2M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}"
BUY_2H = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2h}}"
STAGE_NOW = "  - {from: crm, to: cdp, fields: [stage]}"
STAGE_1H = "  - {from: crm, to: cdp, fields: [stage], latency: {fixed: 1h}}"
NY = "America/New_York"


def times(result, kind: str) -> list:
    ev = result.events()
    return ev[ev["kind"] == kind]["t"].tolist()


def delivered(result) -> list:
    ev = result.events()
    return ev[ev["kind"] == "delivered"][["t", "message"]].values.tolist()


def records(result, kind: str):
    ev = result.events()
    return ev[ev["kind"] == kind].reset_index(drop=True)


# ------------------------------------------------------------------------------------ check: at_sends

def wait_send_wait(check: str, latency: str = BUY_10M):
    """Entry 0; steps w1 wait 1h, s1 send m, w2 wait 1d; exit on buy; ana buys at 30m at web."""
    text = scenario(sync=latency, journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}", "{id: w2, wait: 1d}",
                                                   exit_when=f"{{event: buy, check: {check}}}"))
    return run(text, person((0, "go"), (30 * M, "buy")))


def test_at_sends_purchase_during_the_wait_exits_at_the_send_instant_and_nothing_is_sent():
    """at_sends, web->cdp 10m: the buy (30m) is at the cdp at 40m, mid-wait; nothing looks then (no check at
    entry, none when the wait ends). At 1h the send step s1 is reached: the check reads the cdp (true) and the
    instance exits at 1h, at s1; m is never sent. Exactly one exit-check, at 1h, at step s1."""
    result = wait_send_wait("at_sends")
    assert times(result, "exit") == [1 * H]
    assert delivered(result) == []
    checks = records(result, "exit-check")
    assert checks["t"].tolist() == [1 * H] and checks["step"].tolist() == ["s1"]
    assert checks["detail"][0] == "at_sends check at send; exit_when: buy"
    assert (checks["value"][0], checks["truth_value"][0]) == ("true", "true")
    assert records(result, "exit")["step"].tolist() == ["s1"]
    assert of_kind(result, "exit-race").empty


def test_at_sends_a_send_on_a_stale_replica_races_and_the_end_of_the_journey_is_not_checked():
    """at_sends, web->cdp 2h: the buy (30m) reaches the cdp at 2h30m. The check at s1 (1h) reads false (truth
    true): m is delivered at 1h and is one exit-race, phase decided, link web->cdp, lag 7200 s, late by
    2h30m - 1h = 5400 s. No step after w2 sends, so nothing checks again: the instance completes when the
    1d wait ends, at 1h + 24h = 25h (detail 'completed'), although the cdp has had the buy since 2h30m."""
    result = wait_send_wait("at_sends", BUY_2H)
    assert delivered(result) == [[1 * H, "m"]]
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert (race["phase"], race["link"], race["lag_seconds"], race["late_by_seconds"]) == \
        ("decided", "web->cdp", 7200.0, 5400.0)
    assert (race["step"], race["t"]) == ("s1", 1 * H)
    exits = records(result, "exit")
    assert exits["t"].tolist() == [25 * H] and exits["detail"].tolist() == ["completed"]
    assert times(result, "exit-check") == [1 * H]


def send_update_send(check: str):
    """Entry 0; steps s1 send m, w wait 1h, u update {stage: C} at crm, s2 send m2; exit on buy; ana buys at
    30m, at the cdp at 40m (web->cdp 10m)."""
    text = scenario(sync=BUY_10M, journeys=journey(
        "{id: s1, send: m}", "{id: w, wait: 1h}", "{id: u, update: {stage: C}, at: crm}", "{id: s2, send: m2}",
        exit_when=f"{{event: buy, check: {check}}}"))
    return run(text, person((0, "go"), (30 * M, "buy")))


def test_at_sends_runs_an_update_step_after_the_exit_and_at_steps_does_not():
    """The same journey and purchase under the two modes.

    at_steps: checks before s1 (0, false), before w (0, false), before u (1h, true: the cdp has had the buy
    since 40m): exit at 1h at u; m delivered at 0; the update never runs; no finding.

    at_sends: checks only at s1 (0, false) and s2. m is delivered at 0; at 1h the wait ends and u runs
    (stage C written at crm at 1h) although the cdp has the buy: one exit-race at u, phase decided, replica
    true (nothing looked: 'checked only when a send step is reached'), truth changed at 00:30; then s2
    checks (true) and the instance exits at 1h at s2; m2 is never sent."""
    steps = send_update_send("at_steps")
    assert (times(steps, "exit"), delivered(steps)) == ([1 * H], [[0.0, "m"]])
    assert records(steps, "exit")["step"].tolist() == ["u"]
    assert times(steps, "exit-check") == [0.0, 0.0, 1 * H]
    assert "stage" not in set(records(steps, "truth")["field"])  # the update never ran
    assert of_kind(steps, "exit-race").empty

    sends = send_update_send("at_sends")
    assert (times(sends, "exit"), delivered(sends)) == ([1 * H], [[0.0, "m"]])
    assert records(sends, "exit")["step"].tolist() == ["s2"]
    assert times(sends, "exit-check") == [0.0, 1 * H]
    truth = records(sends, "truth")
    assert truth[truth["field"] == "stage"][["t", "value", "system"]].values.tolist() == [[1 * H, "C", "crm"]]
    [race] = of_kind(sends, "exit-race").to_dict("records")
    assert (race["step"], race["t"], race["phase"], race["replica_value"]) == ("u", 1 * H, "decided", "true")
    assert race["truth_changed_at"] == "2026-12-01 00:30"
    assert "exit_when is checked only when a send step is reached (check: at_sends)" in race["root_cause"]
    assert race["link"] is None


def test_at_sends_does_not_check_at_branches_splits_or_waits():
    """exit_when `tier == 'bronze'` holds from the start. at_sends: steps w wait 1h, b branch (stage == 'B'
    -> end, else s), s send m: no check at entry, at w's end or at b; the first check is at s (1h): exit at
    1h, nothing sent. continuous exits at entry (0); after_waits when w ends (1h, at w)."""
    def flow(check: str):
        ew = f"{{when: \"tier == 'bronze'\", check: {check}}}"
        text = scenario(sync=STAGE_NOW + "\n  - {from: crm, to: cdp, fields: [tier]}\n"
                             "  - {from: pos, to: cdp, fields: [tier]}", journeys=journey("{id: w, wait: 1h}",
                                         "{id: b, branch: [{when: \"stage == 'B'\", goto: end}, {else: s}]}",
                                         "{id: s, send: m}", exit_when=ew))
        return run(text, person((0, "go")))

    sends = flow("at_sends")
    assert (times(sends, "exit-check"), times(sends, "exit"), delivered(sends)) == ([1 * H], [1 * H], [])
    assert records(sends, "exit-check")["step"].tolist() == ["s"]
    assert records(sends, "decision")[["t", "step"]].values.tolist() == [[1 * H, "b"]] * 2  # arm 0, else: unchecked
    assert times(flow("continuous"), "exit") == [0.0]
    waits = flow("after_waits")
    assert (times(waits, "exit"), records(waits, "exit")["step"].tolist()) == ([1 * H], ["w"])


def test_at_sends_rechecks_a_held_message_at_release():
    """ana (New York) enters at 27h (22:00 EST); the SMS t is decided at once (the check at s reads false: she
    has not bought) and held by quiet hours until 37h (08:00 EST). She buys at 28h, at the cdp at 28h02m.
    at_sends does not look while t is held; with recheck at_release (default) the release at 37h re-reads the
    cdp (true): t is suppressed and the instance exits at 37h. With recheck never, t is delivered at 37h
    and is an exit-race, phase held; nothing checks again (no send after w), and the 1d wait would end at
    27h + 24h = 51h, after the 2d (48h) run: the instance is still inside at the end (active-at-end, 48h)."""
    policies = "  quiet_hours: {from: \"21:00\", to: \"08:00\", channels: [sms], action: hold}"

    def held(recheck: str):
        text = scenario(sync=BUY_2M, policies=policies,
                        journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}",
                                         exit_when=f"{{event: buy, check: at_sends, recheck: {recheck}}}"))
        return run(text, person((27 * H, "go"), (28 * H, "buy"), zone=NY))

    release = held("at_release")
    assert times(release, "exit-check") == [27 * H]
    assert times(release, "suppressed") == [37 * H] and times(release, "exit") == [37 * H]
    assert delivered(release) == [] and of_kind(release, "exit-race").empty
    blind = held("never")
    assert delivered(blind) == [[37 * H, "t"]]
    assert of_kind(blind, "exit-race")["phase"].tolist() == ["held"]
    assert times(blind, "exit") == [] and times(blind, "active-at-end") == [48 * H]


def test_at_sends_and_journey_data_are_checked_names_with_did_you_mean():
    """A misspelt value is an error at its key with a suggestion (exit code 2 at the CLI)."""
    bad = scenario(sync=BUY_2M, journeys=journey("{id: a, send: m}", exit_when="{event: buy, check: at_send}"))
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(bad, file="s.yaml")
    [issue] = info.value.issues
    assert issue.path == "journeys[0].exit_when.check" and issue.hint == "did you mean 'at_sends'?"
    assert issue.message.endswith("expected one of continuous, at_steps, after_waits, at_sends")
    bad = scenario(journeys=journey("{id: a, send: m}")).replace("    re_entry: false\n",
                                                                  "    re_entry: false\n    journey_data: entri\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(bad, file="s.yaml")
    [issue] = info.value.issues
    assert issue.path == "journeys[0].journey_data" and issue.hint == "did you mean 'entry'?"
    assert issue.line == bad.splitlines().index("    journey_data: entri") + 1


# ------------------------------------------------------------------------------------ journey_data: entry

BRANCH = ("{id: w, wait: 1h}", "{id: b, branch: [{when: \"stage == 'B'\", goto: sb}, {else: sa}]}",
          "{id: sa, send: m, next: end}", "{id: sb, send: m2}")


def staged(journey_data: str, sync: str = STAGE_NOW, *events: tuple[float, str]):
    """Entry at the time of `go`; steps w wait 1h, b branch (stage == 'B' -> sb (m2), else sa (m))."""
    text = scenario(sync=sync, journeys=journey(*BRANCH).replace(
        "    re_entry: false\n", f"    re_entry: false\n    journey_data: {journey_data}\n"))
    return run(text, person(*events))


def test_live_journey_data_branches_on_the_current_value():
    """live (default): stage A at entry (0); stage_up at crm at 30m reaches the cdp at once; the branch at 1h
    reads B (v1) on the cdp: m2 at 1h; the decision is not stale: no finding."""
    result = staged("live", STAGE_NOW, (0, "go"), (30 * M, "stage_up"))
    assert delivered(result) == [[1 * H, "m2"]]
    assert result.findings.empty or of_kind(result, "stale-branch").empty


def test_entry_journey_data_branches_on_the_snapshot_and_is_a_stale_branch_naming_the_freeze():
    """entry: the snapshot at entry (0) holds stage A (v0). stage -> B at crm at 30m (at the cdp at once).
    The branch at 1h reads the snapshot: A, so the else arm: m at 1h. The decision record carries value A,
    version 0, truth B, version 1 and says the journey data was frozen at entry. One stale-branch (not a
    stage-propagation-miss: nothing failed to propagate): no link, lag or late_by; truth changed at 00:30;
    the root cause names the freeze and says the live cdp had B at the branch."""
    result = staged("entry", STAGE_NOW, (0, "go"), (30 * M, "stage_up"))
    assert delivered(result) == [[1 * H, "m"]]
    decisions = records(result, "decision")
    assert decisions["detail"].tolist()[1] == "arm 1: else"  # the else arm reads nothing
    [decision] = decisions[decisions["field"] == "stage"].to_dict("records")
    assert (decision["value"], decision["version"], decision["truth_value"], decision["truth_version"]) == \
        ("A", 0, "B", 1)
    assert "journey data frozen at entry 2026-12-01 00:00" in decision["detail"]
    assert of_kind(result, "stage-propagation-miss").empty
    [f] = of_kind(result, "stale-branch").to_dict("records")
    assert (f["step"], f["t"], f["field"], f["replica_value"], f["replica_version"], f["truth_value"],
            f["truth_version"]) == ("b", 1 * H, "stage", "A", 0, "B", 1)
    assert (f["link"], f["lag_seconds"], f["late_by_seconds"]) == (None, None, None)
    assert f["truth_changed_at"] == "2026-12-01 00:30"
    assert f["root_cause"].startswith("journey data frozen at entry 2026-12-01 00:00 (journey_data: entry): "
                                      "stage changed in truth at 2026-12-01 00:30 (v1), after the snapshot")
    assert "cdp had it at the branch, so journey_data: live would have read it" in f["root_cause"]
    assert "journey data frozen at entry" in f["message"]


def test_a_snapshot_taken_on_a_stale_replica_is_traced_to_the_late_link_at_entry():
    """stage_up at crm at 0; crm->cdp 1h (B at the cdp at 1h); ana enters at 10m: the snapshot holds A (v0)
    though truth has B. The branch at 1h10m reads the snapshot (A): m. The change happened before entry,
    so the cause is the sync at the snapshot: link crm->cdp, lag 3600 s, arrived 1h - 10m = 3000 s after
    the snapshot; truth changed at 00:00. With live, the cdp has B at 1h10m: m2, no finding."""
    result = staged("entry", STAGE_1H, (0, "stage_up"), (10 * M, "go"))
    assert delivered(result) == [[70 * M, "m"]]
    [f] = of_kind(result, "stale-branch").to_dict("records")
    assert (f["link"], f["lag_seconds"], f["late_by_seconds"]) == ("crm->cdp", 3600.0, 3000.0)
    assert f["truth_changed_at"] == "2026-12-01 00:00"
    assert f["root_cause"].startswith("the journey data frozen at entry 2026-12-01 00:10 (journey_data: "
                                      "entry) was already stale: stage changed at crm")
    live = staged("live", STAGE_1H, (0, "stage_up"), (10 * M, "go"))
    assert delivered(live) == [[70 * M, "m2"]] and of_kind(live, "stale-branch").empty


def test_entry_journey_data_exit_checks_still_read_the_live_replica():
    """journey_data entry with exit_when `stage == 'B'` (continuous): stage B reaches the cdp at 30m and the
    instance exits then, although the snapshot still says A; nothing is sent."""
    text = scenario(sync=STAGE_NOW, journeys=journey(*BRANCH, exit_when="{when: \"stage == 'B'\"}").replace(
        "    re_entry: false\n", "    re_entry: false\n    journey_data: entry\n"))
    result = run(text, person((0, "go"), (30 * M, "stage_up")))
    assert times(result, "exit") == [30 * M] and delivered(result) == []


def test_each_instance_freezes_its_own_entry():
    """re_entry on: ana enters at 0 (stage A) and again at 2h after stage_up at 30m (B at the cdp at once).
    The first instance's branch at 1h reads its snapshot A: m at 1h, a stale-branch. The second instance's
    snapshot (2h) holds B: branch at 3h -> m2, not stale."""
    text = scenario(sync=STAGE_NOW, journeys=journey(*BRANCH, re_entry="true").replace(
        "    re_entry: true\n", "    re_entry: true\n    journey_data: entry\n"))
    result = run(text, person((0, "go"), (30 * M, "stage_up"), (2 * H, "go")))
    assert delivered(result) == [[1 * H, "m"], [3 * H, "m2"]]
    assert of_kind(result, "stale-branch")["t"].tolist() == [1 * H]


# ------------------------------------------------------------------------------------ the presets

def test_klaviyo_checks_flow_filters_only_before_messages():
    """klaviyo sets check at_sends ('before every email in the flow is sent'). Entry 0; steps w1 wait 1h,
    u update {stage: C} at crm, s1 send m; exit on buy; ana buys at 30m, at the cdp at 40m. Nothing looks at
    entry, at w1's end or at u: u runs at 1h (an exit-race, phase decided, replica true); the check at s1
    (1h) exits her; m is not sent. The scenario's own `check: at_steps` exits at 1h before u: no update."""
    def flow(check: str = ""):
        ew = "{event: buy" + (f", check: {check}" if check else "") + "}"
        text = scenario(sync=BUY_10M, extra="platform: klaviyo\n",
                        journeys=journey("{id: w1, wait: 1h}", "{id: u, update: {stage: C}, at: crm}",
                                         "{id: s1, send: m}", exit_when=ew))
        return run(text, person((0, "go"), (30 * M, "buy")))

    result = flow()
    assert result.scenario.journeys[0].exit_when.check == "at_sends"
    assert (times(result, "exit-check"), times(result, "exit"), delivered(result)) == ([1 * H], [1 * H], [])
    assert records(result, "exit")["step"].tolist() == ["s1"]
    assert of_kind(result, "exit-race")[["step", "phase", "replica_value"]].values.tolist() == \
        [["u", "decided", "true"]]
    own = flow("at_steps")
    assert records(own, "exit")["step"].tolist() == ["u"] and of_kind(own, "exit-race").empty


def test_sfmc_preset_leaves_journey_data_to_the_journey():
    """Which data a Decision Split reads is chosen per filter in SFMC, so the sfmc preset does not set
    journey_data: a journey without it stays live; one that gives `entry` keeps it."""
    text = scenario(sync=STAGE_NOW, extra="platform: sfmc\n", journeys=journey(*BRANCH))
    assert load_scenario_text(text).journeys[0].journey_data == "live"
    frozen = text.replace("    re_entry: false\n", "    re_entry: false\n    journey_data: entry\n")
    assert load_scenario_text(frozen).journeys[0].journey_data == "entry"


# ------------------------------------------------------------------------------------ properties

@settings(max_examples=25, deadline=None)
@given(buy=st.integers(min_value=1, max_value=179), lag=st.integers(min_value=0, max_value=180))
def test_at_sends_closed_form(buy: int, lag: int):
    """wait 1h, send m, wait 1d; exit on buy made at `buy` minutes, at the cdp `lag` minutes later.
    at_sends looks only at 1h: the cdp has the buy then iff buy + lag < 60. If so: exit at 1h, nothing
    sent. Otherwise m is delivered at 1h, the instance completes at 25h, and m is an exit race iff the buy
    came before 1h (truth met exit_when at the decision: buy < 60). An arrival at 1h itself (a tie with the
    wait's end, ordered by the engine) is left out."""
    assume(buy + lag != 60 and buy != 60)
    text = scenario(sync=f"  - {{from: web, to: cdp, fields: [buy], latency: {{fixed: {lag}m}}}}",
                    journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}", "{id: w2, wait: 1d}",
                                     exit_when="{event: buy, check: at_sends}"))
    result = run(text, person((0, "go"), (buy * M, "buy")))
    exits = records(result, "exit")
    if buy + lag < 60:
        assert exits[["t", "step"]].values.tolist() == [[1 * H, "s1"]] and delivered(result) == []
    else:
        assert delivered(result) == [[1 * H, "m"]]
        assert exits[["t", "detail"]].values.tolist() == [[25 * H, "completed"]]
        assert len(of_kind(result, "exit-race")) == (1 if buy < 60 else 0)
    assert times(result, "exit-check") == [1 * H]


@settings(max_examples=25, deadline=None)
@given(change=st.integers(min_value=0, max_value=119), go=st.integers(min_value=0, max_value=59),
       lag=st.integers(min_value=0, max_value=90))
def test_entry_journey_data_reads_the_replica_at_entry(change: int, go: int, lag: int):
    """stage B made at crm at `change` minutes, at the cdp `lag` minutes later; ana enters at `go`; the branch
    runs at go + 60. With entry the branch takes B iff the cdp had B at entry (change + lag < go); with
    live iff it had it at the branch (change + lag < go + 60). A frozen decision that took A while truth
    had B at the branch (change < go + 60) is exactly one stale-branch; its link is crm->cdp iff the change
    was made before entry (the snapshot was already stale), else empty. Ties between an arrival and the
    entry or the branch (same instant: the order is the engine's) are left out."""
    assume(change + lag not in (go, go + 60) and change not in (go, go + 60))
    sync = f"  - {{from: crm, to: cdp, fields: [stage], latency: {{fixed: {lag}m}}}}"
    events = sorted([(change * M, "stage_up"), (go * M, "go")], key=lambda e: (e[0], e[1] != "stage_up"))
    frozen = staged("entry", sync, *events)
    live = staged("live", sync, *events)
    at_entry, at_branch = change + lag < go, change + lag < go + 60
    assert delivered(frozen) == [[(go + 60) * M, "m2" if at_entry else "m"]]
    assert delivered(live) == [[(go + 60) * M, "m2" if at_branch else "m"]]
    stale = of_kind(frozen, "stale-branch")
    if not at_entry and change < go + 60:
        [f] = stale.to_dict("records")
        assert f["link"] == ("crm->cdp" if change < go else None)
    else:
        assert stale.empty


# ------------------------------------------------------------------------------------ the CLI

def test_cli_bad_values_exit_2_and_a_frozen_run_names_the_cause(tmp_path):
    """`journeysim validate` on `check: at_send` exits 2 with the suggestion; `--set journeys[j].journey_data=
    entri` too. `journeysim run` with journey_data entry on one generated customer (go at 0, stage B at crm
    at 30m, at the cdp at once; the branch at 1h reads the snapshot A) writes exactly one stale-branch to
    findings.csv, naming the freeze, with an empty link and truth changed at 00:30."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(scenario(sync=BUY_2M,
                            journeys=journey("{id: a, send: m}", exit_when="{event: buy, check: at_send}")))
    result = CliRunner().invoke(cli, ["validate", str(bad)])
    assert result.exit_code == 2 and "did you mean 'at_sends'?" in result.output
    good = tmp_path / "frozen.yaml"
    events = ("    - {name: go, origin: app, once: {probability: 1, at: {fixed: 0s}}}\n"
              "    - {name: stage_up, origin: crm, once: {probability: 1, at: {fixed: 30m}}, sets: {stage: B}}\n")
    good.write_text(scenario(size=1, sync=STAGE_NOW, events=events, journeys=journey(*BRANCH)))
    result = CliRunner().invoke(cli, ["validate", str(good), "--set", "journeys[j].journey_data=entri"])
    assert result.exit_code == 2 and "did you mean 'entry'?" in result.output
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(good), "--out", str(out), "--set", "journeys[j].journey_data=entry"])
    assert result.exit_code == 0, result.output
    findings = pd.read_csv(out / "findings.csv")
    assert findings["kind"].tolist() == ["stale-branch"]
    assert findings["root_cause"][0].startswith("journey data frozen at entry 2026-12-01 00:00 (journey_data: entry)")
    assert findings["link"].isna().all() and findings["truth_changed_at"][0] == "2026-12-01 00:30"
