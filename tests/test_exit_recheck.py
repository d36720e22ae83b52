"""Exit after the decision: held (quiet hours), deferred (cap) and queued (channel throughput) messages,
``exit_when.recheck`` and the ``exit-race`` phases and root-cause columns.

Every time below was derived by hand from the scenario text before running anything. The scenario
starts 2026-12-01T00:00:00Z (UTC); New York is UTC-5 in December, so 22:00 EST is 03:00 UTC the next
day. Quiet hours hold SMS from 21:00 to 08:00 local time. The entry event ``go`` reaches the cdp at
once; delivery delays are 0. Builders come from test_findings_kinds (systems web/app/pos sources,
crm, cdp, esp for email, sms; ``buy`` happens at web).
"""

from __future__ import annotations

import pytest
from test_findings_kinds import H, M, QUIET_SMS, journey, of_kind, person, run, scenario

from simulator.errors import ScenarioError
from simulator.report.trace import format_trace, load_trace
from simulator.scenario.load import load_scenario_text

NY = "America/New_York"
D = 24 * H

CAUSE_COLUMNS = ["phase", "link", "hop_at_decision", "lag_seconds", "late_by_seconds", "truth_changed_at"]


def held(recheck: str, buy_path: str) -> tuple[str, list]:
    """An SMS decided at 22:00 EST (03:00 UTC on Dec 2, t = 27h), held until 08:00 EST (13:00 UTC, 37h);
    ana buys at 23:00 EST (04:00 UTC, 28h) at web; ``buy_path`` is how the purchase reaches the cdp."""
    text = scenario(sync=buy_path, policies=QUIET_SMS,
                    journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}",
                                     exit_when=f"{{event: buy, check: continuous, recheck: {recheck}}}"))
    return text, [person((27 * H, "go"), (28 * H, "buy"), zone=NY)]


FAST = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}"
SLOW = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 12h}}"
#: web -> crm takes 8h (the slowest hop), crm -> cdp 2h: a buy at 28h is at crm from 36h, at the cdp at 38h
TWO_HOPS = ("  - {from: web, to: crm, fields: [buy], latency: {fixed: 8h}}\n"
            "  - {from: crm, to: cdp, fields: [buy], latency: {fixed: 2h}}")


def play(built: tuple[str, list]):
    text, people = built
    return run(text, *people)


def columns(row) -> list:
    return [None if row[c] != row[c] else row[c] for c in CAUSE_COLUMNS]


# ------------------------------------------------------------------------------------- held by quiet hours


def test_held_then_purchase_recheck_never_is_flagged_in_phase_held():
    """recheck: never. The buy reaches the cdp at 28h02m and the instance exits then (continuous), but
    the held SMS is released at 37h without a look and delivered at 37h (13:00 UTC): one exit-race,
    phase held, truth changed at 04:00 UTC; no sync cause (the cdp had the buy 8h58m before the release),
    so link, lag and hop are empty."""
    result = play(held("never", FAST))
    ev = result.events()
    assert ev[ev["kind"] == "exit"]["t"].tolist() == [28 * H + 2 * M]
    assert ev[ev["kind"] == "delivered"]["t"].tolist() == [37 * H]
    assert ev[ev["kind"] == "exit-recheck"].empty
    [status] = ev[ev["kind"] == "exit-status"].to_dict("records")
    assert (status["t"], status["field"], status["value"], status["truth_value"]) == (37 * H, "@buy", "true", "true")
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert (race["customer"], race["step"], race["time"], race["message_name"]) == ("ana", "s", "2026-12-02 13:00", "t")
    assert columns(race) == ["held", None, None, None, None, "2026-12-02 04:00"]
    assert race["root_cause"] == (
        "held at 2026-12-02 03:00 (quiet-hours: 22:00 EST local; held until 2026-12-02 13:00 UTC); "
        "exit_when.recheck is never, so the release at 2026-12-02 13:00 did not re-check exit_when; "
        "cdp had seen it 8h58m before the release, so recheck: at_release would have stopped it")
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "exit-race"]
    assert "set exit_when.recheck: at_release on j (it is never)" in advice


def test_held_then_purchase_recheck_at_release_with_the_replica_updated_is_suppressed():
    """recheck: at_release, buy at the cdp from 28h02m: the re-check at 37h reads true on the cdp (truth
    true too), the SMS is suppressed there and nothing is delivered: no exit-race, no missed-send."""
    result = play(held("at_release", FAST))
    ev = result.events()
    [recheck] = ev[ev["kind"] == "exit-recheck"].to_dict("records")
    assert (recheck["t"], recheck["system"], recheck["value"], recheck["truth_value"]) == (37 * H, "cdp", "true", "true")
    assert recheck["detail"] == "re-checked at release (held); exit_when: buy; req=1; inst=1"
    suppressed = ev[ev["kind"] == "suppressed"]
    assert suppressed[["t", "detail"]].values.tolist() == [[37 * H, "exit_when met at release (buy); req=1; inst=1"]]
    assert ev[ev["kind"] == "delivered"].empty
    assert result.findings.empty or set(result.findings["kind"]) <= {"late-delivery"}


def test_held_then_purchase_recheck_at_release_with_a_stale_replica_is_flagged_with_the_late_link():
    """recheck: at_release, web->cdp 12h: the buy (28h) reaches the cdp at 40h. The re-check at 37h reads
    false there (truth true), so the SMS is delivered at 37h and flagged: phase held, link web->cdp, lag
    12h (43200 s), 3h (10800 s) after the re-check, truth changed at 04:00 UTC. The instance then exits at
    40h when the buy arrives."""
    result = play(held("at_release", SLOW))
    ev = result.events()
    [recheck] = ev[ev["kind"] == "exit-recheck"].to_dict("records")
    assert (recheck["t"], recheck["value"], recheck["truth_value"], recheck["version"], recheck["truth_version"]) == (
        37 * H, "false", "true", 0, 1)
    assert ev[ev["kind"] == "delivered"]["t"].tolist() == [37 * H]
    assert ev[ev["kind"] == "exit"]["t"].tolist() == [40 * H]
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert race["time"] == "2026-12-02 13:00" and race["t"] == 37 * H
    assert (race["field"], race["replica_value"], race["replica_version"], race["truth_version"]) == ("@buy", "false", 0, 1)
    assert columns(race) == ["held", "web->cdp", "web->cdp", 43200.0, 10800.0, "2026-12-02 04:00"]
    assert race["root_cause"].startswith(
        "held at 2026-12-02 03:00 (quiet-hours: 22:00 EST local; held until 2026-12-02 13:00 UTC); re-checked at "
        "release 2026-12-02 13:00: exit_when met? cdp says false, truth says true; @buy changed at web "
        "2026-12-02 04:00 (v1); reached cdp 2026-12-02 16:00, 12h later and 3h after this decision")
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "exit-race"]
    assert "the re-check at release read a stale cdp, caused by web->cdp" in advice
    assert "the exit arrived up to 3h after the release" in advice


def test_a_stale_recheck_on_two_hops_names_the_hop_at_release_and_the_slowest_hop():
    """web->crm 8h, crm->cdp 2h: the buy (28h) is at crm from 36h and at the cdp from 38h. At the re-check
    (37h) it is on crm->cdp (hop_at_decision) while the slowest hop is web->crm (link); lag 10h (36000 s),
    1h (3600 s) after the re-check."""
    result = play(held("at_release", TWO_HOPS))
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert columns(race) == ["held", "web->crm", "crm->cdp", 36000.0, 3600.0, "2026-12-02 04:00"]
    assert "at the decision it was on crm->cdp; slowest hop web->crm took 8h" in race["root_cause"]
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "exit-race"]
    assert ("the re-check at release read a stale cdp, caused by web->crm; at the release the change was still "
            "on crm->cdp (the slowest hop was web->crm)") in advice
    assert "the exit arrived up to 1h after the release" in advice


# ------------------------------------------------------------------------------------- deferred by a cap


def deferred(recheck: str, latency: str) -> tuple[str, list]:
    """Email cap 1 per 1d (sliding), on_cap: defer. ana enters at 0: m at 0 is delivered; m2 decided at 1h
    is deferred until 24h (the 0 send leaves the window at 0 + 1d). She buys at 2h; web->cdp takes
    ``latency``."""
    text = scenario(sync=f"  - {{from: web, to: cdp, fields: [buy], latency: {{fixed: {latency}}}}}",
                    policies="  frequency_caps: [{channel: email, max: 1, per: 1d, window: sliding}]\n"
                             "  on_cap: defer",
                    journeys=journey("{id: a, send: m}", "{id: w, wait: 1h}", "{id: b, send: m2}",
                                     "{id: w2, wait: 2d}",
                                     exit_when=f"{{event: buy, check: continuous, recheck: {recheck}}}"),
                    duration="3d")
    return text, [person((0, "go"), (2 * H, "buy"))]


@pytest.mark.parametrize("recheck, latency, delivered, expected", [
    # never: the buy is at the cdp from 2h02m, the deferred m2 goes out at 24h anyway -> flagged, no link
    ("never", "2m", [0.0, 24 * H], ["deferred", None, None, None, None, "2026-12-01 02:00"]),
    # at_release, fast link: the re-check at 24h reads true -> suppressed, nothing flagged
    ("at_release", "2m", [0.0], None),
    # at_release, 23h link: the buy reaches the cdp at 25h; the re-check at 24h reads false -> delivered and
    # flagged: lag 23h (82800 s), 1h (3600 s) after the re-check
    ("at_release", "23h", [0.0, 24 * H], ["deferred", "web->cdp", "web->cdp", 82800.0, 3600.0, "2026-12-01 02:00"]),
])
def test_cap_deferred_send_after_a_purchase(recheck, latency, delivered, expected):
    """A cap-deferred email released after the customer bought: flagged in phase deferred unless the
    re-check at release sees the purchase."""
    result = play(deferred(recheck, latency))
    ev = result.events()
    assert ev[ev["kind"] == "deferred"]["detail"].tolist() == [
        "frequency-cap: email max 1 per 1d (sliding); until 2026-12-02 00:00; req=2; inst=1"]
    assert ev[ev["kind"] == "delivered"]["t"].tolist() == delivered
    races = of_kind(result, "exit-race")
    if expected is None:
        assert races.empty and of_kind(result, "missed-send").empty
        return
    [race] = races.to_dict("records")
    assert (race["step"], race["time"], race["message_name"]) == ("b", "2026-12-02 00:00", "m2")
    assert columns(race) == expected


# ------------------------------------------------------------------------------------- queued at the channel


def test_throughput_queued_send_after_a_purchase_is_flagged_in_phase_queued():
    """esp sends 1/h. ana and bob enter at 0 and are emailed at 0: ana's goes out at 0, bob's waits for
    the next slot at 1h. bob buys at 30m (web->cdp 2m, so his instance exits at 32m) while his email is
    queued at the esp, which does not re-check: delivered at 01:00 -> one exit-race, phase queued, truth
    changed at 00:30, no link (nothing synced late; the queue held it)."""
    text = scenario(sync=FAST, esp=", throughput: 1/h",
                    journeys=journey("{id: a, send: m}", "{id: w, wait: 1d}", exit_when="{event: buy}"))
    result = run(text, person((0, "go")), person((0, "go"), (30 * M, "buy"), name="bob"))
    ev = result.events()
    assert ev[ev["kind"] == "delivered"][["customer", "t"]].values.tolist() == [["ana", 0.0], ["bob", H]]
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert (race["customer"], race["time"]) == ("bob", "2026-12-01 01:00")
    assert columns(race) == ["queued", None, None, None, None, "2026-12-01 00:30"]
    assert race["root_cause"].startswith("queued at esp at 2026-12-01 00:00 (queue wait 1h) and delivered 1h later; "
                                         "the channel system does not re-check exit_when")
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "exit-race"]
    assert "while queued at the email channel system" in advice and "raise the channel's throughput" in advice


def test_a_purchase_during_the_delivery_delay_is_phase_queued_too():
    """esp delivery_delay fixed 1h, no throughput limit: ana is emailed at 0 (queue wait 0s), buys at 30m,
    the email lands at 01:00: phase queued, truth changed 00:30, root cause says it was delivered 1h later."""
    text = scenario(sync=FAST, esp=", delivery_delay: {fixed: 1h}",
                    journeys=journey("{id: a, send: m}", "{id: w, wait: 1d}", exit_when="{event: buy}"))
    [race] = of_kind(run(text, person((0, "go"), (30 * M, "buy"))), "exit-race").to_dict("records")
    assert (race["time"], race["phase"], race["truth_changed_at"]) == ("2026-12-01 01:00", "queued", "2026-12-01 00:30")
    assert race["root_cause"].startswith("queued at esp at 2026-12-01 00:00 (queue wait 0s) and delivered 1h later")


# ------------------------------------------------------------------------------------- update steps, field exits


def test_update_step_after_the_true_exit_names_the_late_link():
    """ana buys at 00:30; web->cdp takes 2h (at the cdp 02:30); the update at 01:00 runs although she had
    bought: phase decided, link web->cdp, lag 2h (7200 s), 1h30m (5400 s) after the decision."""
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2h}}",
                    journeys=journey("{id: w, wait: 1h}", "{id: mark, update: {reminded: true}, at: crm}",
                                     exit_when="{event: buy}"))
    [race] = of_kind(run(text, person((0, "go"), (30 * M, "buy"))), "exit-race").to_dict("records")
    assert (race["step"], race["time"], race["field"]) == ("mark", "2026-12-01 01:00", "@buy")
    assert columns(race) == ["decided", "web->cdp", "web->cdp", 7200.0, 5400.0, "2026-12-01 00:30"]
    assert race["message"].startswith("update step j/mark ran for ana at 2026-12-01 01:00")


def test_field_condition_exit_race_fills_the_cause_columns():
    """exit_when: stage == 'B'. stage_up at crm at 00:30; crm->cdp is a 4-hourly batch at offset 1h with
    10m runs, so B reaches the cdp at 01:10. The send at 01:00 reads stage A (v0) while truth has B (v1):
    phase decided, field stage, link crm->cdp, lag 40m (2400 s), 10m (600 s) after the decision, truth
    changed at 00:30; the recommendation names the link."""
    text = scenario(sync="  - {from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: 1h, "
                         "duration: {fixed: 10m}}",
                    journeys=journey("{id: w, wait: 1h}", "{id: s, send: m}",
                                     exit_when="{when: \"stage == 'B'\", check: at_steps}"))
    result = run(text, person((0, "go"), (30 * M, "stage_up")))
    [race] = of_kind(result, "exit-race").to_dict("records")
    assert (race["field"], race["replica_value"], race["replica_version"], race["truth_version"]) == ("stage", "false", 0, 1)
    assert columns(race) == ["decided", "crm->cdp", "crm->cdp", 2400.0, 600.0, "2026-12-01 00:30"]
    assert "see the trace" not in race["root_cause"] and "batch every 4h offset 1h" in race["root_cause"]
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "exit-race"]
    assert advice.startswith("j/s: 1 exit-race finding caused by crm->cdp")
    assert "w is 1h; 1h10m would have let the change arrive first" in advice


def test_a_decided_race_on_a_message_the_recheck_stopped_is_not_a_finding():
    """A send decided after the true exit but stopped by the re-check at release reached nobody.
    ana (New York) enters at 27h (22:00 EST) and buys at 27h10m; web->cdp takes 5h (at the cdp 32h10m).
    check: at_steps reads false before s at 27h30m, so s is decided with truth true (a decided race),
    then held until 37h (08:00 EST). The re-check at 37h reads true on the cdp: suppressed, the instance
    exits at 37h, nothing is delivered and there is no exit-race finding."""
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy], latency: {fixed: 5h}}", policies=QUIET_SMS,
                    journeys=journey("{id: w, wait: 30m}", "{id: s, send: t}", "{id: w2, wait: 1d}",
                                     exit_when="{event: buy, check: at_steps}"))
    result = run(text, person((27 * H, "go"), (27 * H + 10 * M, "buy"), zone=NY))
    ev = result.events()
    [send] = ev[ev["kind"] == "send"].to_dict("records")
    assert (send["t"], send["value"], send["truth_value"]) == (27 * H + 30 * M, "false", "true")
    assert ev[ev["kind"] == "exit-recheck"][["t", "value"]].values.tolist() == [[37 * H, "true"]]
    assert ev[ev["kind"] == "delivered"].empty and ev[ev["kind"] == "exit"]["t"].tolist() == [37 * H]
    assert of_kind(result, "exit-race").empty


def test_a_recheck_on_a_replica_that_wrongly_says_exit_is_a_missed_send():
    """exit_when: tier == 'silver', check: after_waits. ana (New York) enters at 27h (22:00 EST); the SMS is
    held until 37h. tier -> silver at crm at 28h (crm->cdp 1m: at the cdp 28h01m), then -> gold at pos at 29h
    (pos->cdp 12h: at the cdp 41h). At the 37h re-check the cdp says silver (exit met) while truth has gold
    (not met): the SMS is dropped and the instance exits at 37h; that drop is one missed-send caused by
    pos->cdp (lag 12h, 4h after the re-check), and no exit-race."""
    text = scenario(sync="  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 1m}}\n"
                         "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 12h}}",
                    policies=QUIET_SMS,
                    journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}",
                                     exit_when="{when: \"tier == 'silver'\", check: after_waits}"))
    result = run(text, person((27 * H, "go"), (28 * H, "silver"), (29 * H, "gold"), zone=NY))
    ev = result.events()
    assert ev[ev["kind"] == "exit-recheck"][["t", "value", "truth_value"]].values.tolist() == [[37 * H, "true", "false"]]
    assert ev[ev["kind"] == "exit"][["t", "detail"]].values.tolist() == [
        [37 * H, "exit_when met at release re-check (tier == 'silver')"]]
    assert of_kind(result, "exit-race").empty
    [missed] = of_kind(result, "missed-send").to_dict("records")
    assert missed["message"].endswith("was dropped at its release 2026-12-02 13:00")
    assert missed["root_cause"].startswith("the re-check at release read exit_when as met on cdp while truth had not "
                                           "met it: tier changed at pos 2026-12-02 05:00 (v2); reached cdp "
                                           "2026-12-02 17:00, 12h later and 4h after this decision")
    # the gold change made at 29h took 12h over pos->cdp and arrived 4h after the 37h re-check
    assert [missed[c] for c in ("field", "link", "hop_at_decision", "lag_seconds", "late_by_seconds",
                                "truth_changed_at")] == ["tier", "pos->cdp", "pos->cdp", 43200.0, 14400.0,
                                                         "2026-12-02 05:00"]


# ------------------------------------------------------------------------------------- trace, validation


def test_trace_shows_the_recheck_and_the_delivery_after_the_exit(tmp_path):
    """The trace of the stale re-check case says what the re-check read and flags the delivery."""
    text, people = held("at_release", SLOW)
    run(text, *people, out=tmp_path / "run")
    out = format_trace(load_trace(tmp_path / "run", "ana"))
    assert ("2026-12-02 13:00  cdp      re-checked t at release (held): exit met? cdp says false, truth says true"
            "  << RACE") in out
    assert "at delivery of t: exit met? cdp says false, truth says true  << DELIVERED AFTER THE CUSTOMER EXITED" in out
    assert "columns: phase=held, link=web->cdp, hop_at_decision=web->cdp, lag_seconds=43200.0" in out


def test_recheck_is_validated_with_a_did_you_mean():
    """A misspelt recheck value is an error naming the key path and the nearest value."""
    text, _ = held("at_relase", FAST)
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text)
    message = str(err.value)
    assert "journeys[0].exit_when.recheck" in message and "did you mean 'at_release'?" in message


def test_recheck_defaults_to_at_release():
    """Without recheck the journey re-checks at release (Customer.io and Braze check at send time)."""
    sc = load_scenario_text(scenario(sync=FAST, journeys=journey("{id: s, send: t}", exit_when="{event: buy}")))
    assert sc.journeys[0].exit_when.recheck == "at_release"


# ------------------------------------------------------------------------------------- property


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(go_minutes=st.integers(0, 40 * 60), buy_offset=st.one_of(st.integers(-30, 60), st.integers(60, 20 * 60)),
       latency=st.sampled_from(["0s", "2m", "3h", "12h"]), recheck=st.sampled_from(["never", "at_release"]),
       check=st.sampled_from(["continuous", "at_steps", "after_waits"]))
def test_every_delivery_after_the_true_exit_is_one_finding(go_minutes, buy_offset, latency, recheck, check):
    """Oracle from first principles: ana (New York) enters at go, waits 30m, is sent an SMS (held in quiet
    hours), buys at buy (7 s past a whole minute, so never at the same instant as a decision or a release).
    There is one exit-race finding per delivery that came after a purchase made after entry, and none
    otherwise. Its phase is decided if she bought before the decision, held if during the hold; with
    recheck at_release a held one was delivered only because the purchase reached the cdp after the
    release (late_by > 0)."""
    go = go_minutes * M
    buy = go + buy_offset * M + 7
    if buy < 0:
        buy = 7.0
    text = scenario(sync=f"  - {{from: web, to: cdp, fields: [buy], latency: {{fixed: {latency}}}}}",
                    policies=QUIET_SMS, duration="4d",
                    journeys=journey("{id: w, wait: 30m}", "{id: s, send: t}", "{id: w2, wait: 1d}",
                                     exit_when=f"{{event: buy, check: {check}, recheck: {recheck}}}"))
    result = run(text, person((go, "go"), (buy, "buy"), zone=NY))
    ev = result.events()
    deliveries = ev[ev["kind"] == "delivered"]["t"].tolist()
    expected = [d for d in deliveries if go < buy < d]
    races = of_kind(result, "exit-race")
    assert len(races) == len(expected)
    later = races[races["phase"] != "decided"] if not races.empty else races
    assert set(later["t"]) <= set(expected)  # held ones are reported at their delivery
    sends = ev[ev["kind"] == "send"]["t"].tolist()
    holds = ev[ev["kind"] == "held"]["detail"].tolist()
    lag = {"0s": 0.0, "2m": 120.0, "3h": 3 * H, "12h": 12 * H}[latency]
    for race in races.to_dict("records"):
        decided = sends[0]
        if buy < decided:
            assert race["phase"] == "decided"
        else:
            assert race["phase"] == "held" and holds
            release = race["t"]  # no throughput limit or delay: delivered at the release
            if recheck == "at_release":
                assert race["late_by_seconds"] == pytest.approx(buy + lag - release) and race["late_by_seconds"] > 0
            elif buy + lag <= release:
                assert race["link"] is None


# ------------------------------------------------------------------------------------- command line


def _held_file(tmp_path) -> str:
    """The stale-replica case as a file: one generated New York customer who enters at 27h (22:00 EST) and
    buys at 28h; web->cdp takes 12h."""
    from test_findings_kinds import EVENTS

    events = EVENTS.replace("name: go, origin: app, once: {probability: 1, at: {fixed: 0s}}",
                            "name: go, origin: app, once: {probability: 1, at: {fixed: 27h}}").replace(
        "name: buy, origin: web, once: {probability: 1, at: {fixed: 0s}}",
        "name: buy, origin: web, once: {probability: 1, at: {fixed: 28h}}")
    text = scenario(sync=SLOW, policies=QUIET_SMS, size=1, events=events,
                    journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}",
                                     exit_when="{event: buy, check: continuous}"))
    path = tmp_path / "held.yaml"
    path.write_text(text.replace("default_timezone: UTC", "default_timezone: America/New_York"))
    return str(path)


def test_cli_run_and_trace_show_the_recheck_and_the_override(tmp_path):
    """journeysim run prints the held exit-race and its recommendation; trace shows the re-check; with
    --set ...recheck=never the root cause says nothing re-checked and that a re-check would have raced too
    (the purchase reached the cdp at 16:00, after the 13:00 release)."""
    from click.testing import CliRunner

    from simulator.cli import cli

    path = _held_file(tmp_path)
    out = CliRunner().invoke(cli, ["run", path, "--out", str(tmp_path / "r"), "--no-report"])
    assert out.exit_code == 0, out.output
    assert "exit-race                     1" in out.output
    assert "1 message held by quiet hours was delivered after the customer exited: the re-check at release " \
           "read a stale cdp, caused by web->cdp" in out.output
    trace = CliRunner().invoke(cli, ["trace", str(tmp_path / "r"), "--customer", "c000001"])
    assert "re-checked t at release (held): exit met? cdp says false, truth says true  << RACE" in trace.output
    never = CliRunner().invoke(cli, ["run", path, "--out", str(tmp_path / "n"), "--no-report",
                                     "--set", "journeys[j].exit_when.recheck=never"])
    assert never.exit_code == 0, never.output
    row = __import__("pandas").read_csv(tmp_path / "n" / "findings.csv").iloc[0]
    assert (row["phase"], row["link"], row["late_by_seconds"]) == ("held", "web->cdp", 10800.0)
    assert "exit_when.recheck is never, so the release at 2026-12-02 13:00 did not re-check exit_when; " \
           "a re-check would have raced too" in row["root_cause"]


def test_cli_rejects_a_misspelt_recheck_with_exit_2(tmp_path):
    """A misspelt value given with --set is a usage error (exit 2) naming the key and the nearest value."""
    from click.testing import CliRunner

    from simulator.cli import cli

    out = CliRunner().invoke(cli, ["validate", _held_file(tmp_path), "--set", "journeys[j].exit_when.recheck=at-release"])
    assert out.exit_code == 2 and "Traceback" not in out.output
    assert "exit_when.recheck" in out.output and "did you mean 'at_release'?" in out.output
