"""Every finding kind on a tiny hand-built scenario: fires exactly N times, and not in a twin that
differs in one setting. Times in the comments are after the scenario start (UTC)."""

from __future__ import annotations

import pytest
from test_engine_semantics import M, person, scenario

from simulator.pipeline import run_scenario
from simulator.scenario.load import load_scenario_text

INSTANT_GO = "  - {from: web, to: cdp, fields: [go]}"


def link(source: str, target: str, fields: str, latency: str, extra: str = "") -> str:
    return f"  - {{from: {source}, to: {target}, fields: [{fields}], latency: {{fixed: {latency}}}{extra}}}"


def findings(text: str, *people):
    return run_scenario(load_scenario_text(text), scripted=list(people)).findings


BRANCH = ("      - id: br\n        branch:\n          - {when: \"tier == 'silver'\", goto: a}\n"
          "          - {else: end}\n      - {id: a, send: m}")
UNSUB = "    - {name: unsubscribe, origin: crm, once: {probability: 1, at: {fixed: 0s}}, opts_out: [email]}"
OPTIN = "    - {name: optin, origin: web, once: {probability: 1, at: {fixed: 0s}}, opts_in: [email]}"


def exit_race(latency):
    # entry at 0, purchase at +30m over a `latency` link, send at +1h: races when latency > 30m
    text = scenario(sync=INSTANT_GO + "\n" + link("web", "cdp", "buy, bought", latency),
                    exit_when="    exit_when: {event: buy, check: continuous}",
                    steps="      - {id: w, wait: 1h}\n      - {id: s, send: m}")
    return text, [person((0.0, "go"), (30 * M, "buy"))]


def stale_branch(latency):
    # tier changes at crm at 0, entry at +1h branches on tier at once: stale if crm->cdp takes > 1h
    return (scenario(sync=INSTANT_GO + "\n" + link("crm", "cdp", "tier", latency), steps=BRANCH),
            [person((0.0, "silver"), (60 * M, "go"))])


def propagation(latency):
    # entry at 0, tier changes at +30m, branch at +1h: a change after entry not yet at cdp
    return (scenario(sync=INSTANT_GO + "\n" + link("crm", "cdp", "tier", latency),
                     steps="      - {id: w, wait: 1h}\n" + BRANCH),
            [person((0.0, "go"), (30 * M, "silver"))])


def stale_content(latency):
    # tier set at 0 reaches cdp at once, the ESP after `latency`; the email rendered at +1h uses tier
    text = scenario(sync=INSTANT_GO + "\n" + link("crm", "cdp", "tier", "0s") + "\n" + link("cdp", "esp", "tier", latency),
                    messages="  p: {channel: email, body: \"Tier {{ tier }}\"}", steps="      - {id: a, send: p}")
    return text, [person((0.0, "silver"), (60 * M, "go"))]


def out_of_order(apply):
    # silver at crm 0 (30m link) lands after gold at pos +10m (5m link)
    sync = (INSTANT_GO + "\n" + link("crm", "cdp", "tier", "30m", f", apply: {apply}") + "\n"
            + link("pos", "cdp", "tier", "5m", f", apply: {apply}"))
    return scenario(sync=sync, steps="      - {id: w, wait: 1h}"), [person((0.0, "silver"), (10 * M, "gold"))]


def overlap(second):
    # two instances (re-entry) each send at entry; 1h apart is inside a 4h window, 5h apart is not
    text = scenario(sync=INSTANT_GO, policies="  collision_window: 4h", re_entry="true",
                    steps="      - {id: a, send: m}")
    return text, [person((0.0, "go"), (second, "go"))]


def duplicate(message):
    return (scenario(sync=INSTANT_GO, steps=f"      - {{id: a, send: m}}\n      - {{id: w, wait: 1h}}\n"
                                            f"      - {{id: b, send: {message}}}"), [person((0.0, "go"))])


def cap(lag):
    # max 1 per 1d; two sends 30m apart; counters lagging 1h let the second through
    text = scenario(sync=INSTANT_GO, policies=f"  frequency_caps: [{{channel: any, max: 1, per: 1d}}]\n"
                                              f"  cap_counter_lag: {lag}",
                    steps="      - {id: a, send: m}\n      - {id: w, wait: 30m}\n      - {id: b, send: t}")
    return text, [person((0.0, "go"))]


def consent(latency):
    # opt-out in the CRM at 0 reaches cdp and esp after `latency` each; the email goes at +1h
    sync = INSTANT_GO + "\n" + link("crm", "cdp", "consent", latency) + "\n" + link("cdp", "esp", "consent", latency)
    return (scenario(sync=sync, extra_events=UNSUB, steps="      - {id: a, send: m}"),
            [person((0.0, "unsubscribe"), (60 * M, "go"))])


def quiet(throughput):
    # three emails decided at 20:59 UTC; at 1/m the 2nd and 3rd land at 21:00 and 21:01, inside quiet hours
    text = scenario(sync=INSTANT_GO, policies="  quiet_hours: {from: \"21:00\", to: \"08:00\", channels: [email]}",
                    steps="      - {id: a, send: m}").replace(
        "esp: {kind: channel, channel: email}", f"esp: {{kind: channel, channel: email, throughput: {throughput}}}")
    return text, [person((20 * 60 * M + 59 * M, "go"), name=n) for n in ("a1", "a2", "a3")]


def missed(latency):
    # the web sign-up opts in at 0; the ESP learns it after `latency`; the welcome goes at +1m
    sync = (INSTANT_GO + "\n" + link("web", "cdp", "consent", "0s") + "\n" + link("cdp", "esp", "consent", latency))
    text = scenario(sync=sync, extra_events=OPTIN, steps="      - {id: a, send: m}")
    return text, [person((0.0, "optin"), (M, "go"), email=False)]


def late(valid_for):
    # SMS decided at 22:00 UTC is held until 08:00 (10h); valid_for 1h makes it late
    text = scenario(sync=INSTANT_GO, policies="  quiet_hours: {from: \"21:00\", to: \"08:00\", channels: [sms]}",
                    messages=f"  v: {{channel: sms, body: \"Hi. Reply STOP\", valid_for: {valid_for}}}",
                    steps="      - {id: a, send: v}")
    return text, [person((22 * 60 * M, "go"))]


def stuck(timeout):
    wait = "{event: buy}" if timeout is None else f"{{event: buy, timeout: {timeout}}}"
    return scenario(sync=INSTANT_GO + "\n" + link("web", "cdp", "buy", "0s"),
                    steps=f"      - {{id: wu, wait_until: {wait}}}\n      - {{id: a, send: m}}"), [person((0.0, "go"))]


CASES = [
    # kind, builder, firing setting, expected count, twin setting
    ("exit-race", exit_race, "2h", 1, "10m"),
    ("stale-branch", stale_branch, "3h", 1, "10m"),
    ("stage-propagation-miss", propagation, "3h", 1, "10m"),
    ("stale-content", stale_content, "3h", 1, "10m"),
    ("out-of-order", out_of_order, "arrival", 1, "version"),
    ("overlap", overlap, 60 * M, 1, 5 * 60 * M),
    ("duplicate-send", duplicate, "m", 1, "t"),
    ("frequency-cap", cap, "1h", 1, "0s"),
    ("consent-violation", consent, "3h", 1, "10m"),
    ("quiet-hours", quiet, "1/m", 2, "100/s"),
    ("missed-send", missed, "1h", 1, "0s"),
    ("late-delivery", late, "1h", 1, "1d"),
    ("stuck", stuck, None, 1, "1h"),
]


@pytest.mark.parametrize("kind, build, fire, n, twin", CASES, ids=[c[0] for c in CASES])
def test_kind_fires_exactly_and_not_in_its_twin(kind, build, fire, n, twin):
    """Each kind fires exactly n times on its scenario and never on the twin."""
    fired = findings(*_args(build(fire)))
    assert (fired["kind"] == kind).sum() == n, fired[["kind", "message"]].to_string()
    calm = findings(*_args(build(twin)))
    assert (calm["kind"] == kind).sum() == 0, calm[["kind", "message"]].to_string()


def _args(built):
    text, people = built
    return (text, *people)


def test_exit_race_root_cause_facts():
    """Purchase at +30m over a 2h link: lag 2h, it arrived 1h30m after the +1h send; the link is named."""
    race = findings(*_args(exit_race("2h")))
    race = race[race["kind"] == "exit-race"].iloc[0]
    assert race["link"] == "web->cdp" and race["lag_seconds"] == 7200.0 and race["late_by_seconds"] == 5400.0
    assert "Fixed(2h)" in race["root_cause"] and race["truth_changed_at"] == "2026-12-01 00:30"


def test_propagation_and_consent_root_cause_facts():
    """The stage change at +30m took 3h to cdp; the opt-out took 3h + 3h to the ESP via two hops."""
    miss = findings(*_args(propagation("3h")))
    miss = miss[miss["kind"] == "stage-propagation-miss"].iloc[0]
    assert miss["link"] == "crm->cdp" and miss["lag_seconds"] == 10800.0 and miss["step"] == "br"
    violation = findings(*_args(consent("3h")))
    violation = violation[violation["kind"] == "consent-violation"].iloc[0]
    assert violation["lag_seconds"] == 21600.0 and violation["link"] in ("crm->cdp", "cdp->esp")
    assert "via crm->cdp at 2026-12-01 03:00 -> cdp->esp at 2026-12-01 06:00" in violation["root_cause"]


def test_missed_send_names_the_lost_opt_in():
    """The welcome suppressed by the ESP's stale opt-out is a missed send caused by cdp->esp."""
    miss = findings(*_args(missed("1h")))
    miss = miss[miss["kind"] == "missed-send"].iloc[0]
    assert miss["link"] == "cdp->esp" and "stale opt-out" in miss["message"]
