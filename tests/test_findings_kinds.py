"""Every finding kind on a tiny hand-built scenario: it fires exactly N times (N derived by hand in
each builder's comment) and never on a twin that differs in one setting. Plus exact root-cause
facts, the Wilson interval and release gates.

Conventions: the scenario starts 2026-12-01T00:00:00Z; times in comments are after the start (UTC
unless said otherwise). Population size 0 and scripted customers with explicit event times, fixed
latencies, zero delivery delays: every number below is deterministic. All journeys read from the
CDP; the entry event ``go`` happens at ``app`` and reaches the CDP at once (unless a test says
otherwise).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.pipeline import RunResult, run_scenario
from simulator.errors import UsageError
from simulator.findings.aggregate import wilson
from simulator.findings.gates import evaluate_gates, parse_fail_on
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario_text
from simulator.scenario.model import Gate
from simulator.scenario.vocabulary import DEFAULT_SEVERITY

H, M = 3600.0, 60.0

#: Every event happens at the time its scripted customer says (``once`` is for generated customers).
EVENTS = """\
    - {name: go, origin: app, once: {probability: 1, at: {fixed: 0s}}}
    - {name: buy, origin: web, once: {probability: 1, at: {fixed: 0s}}, sets: {bought: true}}
    - {name: stage_up, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {stage: B}}
    - {name: silver, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {tier: silver}}
    - {name: gold, origin: pos, once: {probability: 1, at: {fixed: 0s}}, sets: {tier: gold}}
    - {name: unsubscribe, origin: crm, once: {probability: 1, at: {fixed: 0s}}, opts_out: [email]}
    - {name: signup, origin: web, once: {probability: 1, at: {fixed: 0s}}, opts_in: [email]}
"""
GO = "  - {from: app, to: cdp, fields: [go]}"


def journey(*steps: str, name: str = "j", entry: str = "{event: go}", exit_when: str = "",
            re_entry: str = "false") -> str:
    """One journey (reads_from cdp) as YAML list item; ``steps`` are flow-style step maps."""
    out = f"  - name: {name}\n    reads_from: cdp\n    entry: {entry}\n    re_entry: {re_entry}\n"
    if exit_when:
        out += f"    exit_when: {exit_when}\n"
    return out + "    steps:\n" + "".join(f"      - {s}\n" for s in steps)


def scenario(*, sync: str = "", journeys: str, policies: str = "", messages: str = "", esp: str = "",
             sms: str = "", size: int = 0, events: str = EVENTS, go: str = GO, duration: str = "2d",
             extra: str = "", population: str = "") -> str:
    """A whole scenario: systems web/app/pos (sources), crm, cdp, esp (email), sms; messages m, m2 (email), t (sms)."""
    return f"""\
scenario: kinds
start: 2026-12-01T00:00:00Z
duration: {duration}
default_timezone: UTC
population:
  size: {size}
{population}  attributes:
    stage: {{choice: {{A: 1.0}}}}
    tier: {{choice: {{bronze: 1.0}}}}
  events:
{events}systems:
  web: {{kind: source}}
  app: {{kind: source}}
  pos: {{kind: source}}
  crm: {{kind: crm}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email{esp}}}
  sms: {{kind: channel, channel: sms{sms}}}
sync:
{go}
{sync}
policies:
  consent_required: [email, sms]
{policies}
messages:
  m: {{channel: email, body: "Hi"}}
  m2: {{channel: email, body: "Hi again"}}
  t: {{channel: sms, body: "Hi. Reply STOP to opt out"}}
{messages}
journeys:
{journeys}{extra}"""


def person(*events: tuple[float, str], name: str = "ana", zone: str = "UTC", recipient: dict | None = None,
           **consent: bool) -> ScriptedCustomer:
    """A scripted customer in stage A, tier bronze, opted in to email and SMS unless ``consent`` says otherwise."""
    return ScriptedCustomer(name, attributes={"stage": "A", "tier": "bronze"},
                            consent={"email": True, "sms": True, **consent}, timezone=zone, events=tuple(events),
                            recipient=recipient or {})


def run(text: str, *people: ScriptedCustomer, **kwargs) -> RunResult:
    return run_scenario(load_scenario_text(text), seed=1, scripted=list(people), **kwargs)


def of_kind(result: RunResult, kind: str) -> pd.DataFrame:
    f = result.findings
    return f[f["kind"] == kind].reset_index(drop=True) if not f.empty else f


def show(result: RunResult) -> str:
    f = result.findings
    return "no findings" if f.empty else f[["kind", "customer", "step", "time", "message"]].to_string()


# --------------------------------------------------------------------------- scenario builders
# Each builder takes the one setting its twin changes and returns (scenario text, scripted customers).


def exit_race(latency: str):
    # web->cdp carries buy with a fixed `latency`; entry at 0; sends at +1h (s1) and +2h (s2).
    # ana buys at +30m, bob at +1h30m. With 2h: ana's buy reaches cdp at 2h30m, after s1 and s2 (2 races);
    # bob's at 3h30m: s1 (1h) is before he bought (fine), s2 (2h) after (1 race) -> 3.
    # With 10m: ana's buy arrives 40m and bob's 1h40m, each before the next send: both exit -> 0.
    text = scenario(sync=f"  - {{from: web, to: cdp, fields: [buy], latency: {{fixed: {latency}}}}}",
                    journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}", "{id: w2, wait: 1h}",
                                     "{id: s2, send: m2}", exit_when="{event: buy, check: continuous}"))
    return text, [person((0, "go"), (30 * M, "buy")), person((0, "go"), (90 * M, "buy"), name="bob")]


def exit_race_seen(check: str):
    # go reaches cdp after 1h but buy (at +10m) after 10m: entry at 1h finds the exit already met at cdp.
    # check: after_waits never checks before the first send (at entry, no wait before it) -> 1 race with
    # replica_value true. check: continuous checks at entry and exits -> 0.
    text = scenario(go="  - {from: app, to: cdp, fields: [go], latency: {fixed: 1h}}",
                    sync="  - {from: web, to: cdp, fields: [buy], latency: {fixed: 10m}}",
                    journeys=journey("{id: s, send: m}", exit_when=f"{{event: buy, check: {check}}}"))
    return text, [person((0, "go"), (10 * M, "buy"))]


def exit_race_held(recheck: str):
    # ana (New York) enters at 27h (22:00 EST); the SMS t is held by quiet hours until 37h (08:00 EST). She buys
    # at 28h; web->cdp takes 2m, so the instance exits at 28h02m. recheck never: t is released blindly and
    # delivered at 37h -> 1 exit-race (phase held). at_release: the re-check at 37h sees the buy -> 0.
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}", policies=QUIET_SMS,
                    journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}",
                                     exit_when=f"{{event: buy, recheck: {recheck}}}"))
    return text, [person((27 * H, "go"), (28 * H, "buy"), zone="America/New_York")]


BRANCH = ("{id: br, branch: [{when: \"tier == 'silver'\", goto: a}, {else: end}]}", "{id: a, send: m}")


def stale_branch(offset: str):
    # tier -> silver at crm at 0; crm->cdp is a 4-hourly batch at `offset`. ana enters at +1h and branches at
    # once. offset 2h: cdp still has bronze (v0) while truth has silver (v1); the change was before entry,
    # so it is a stale-branch -> 1. offset 30m: silver reached cdp at 30m -> 0.
    text = scenario(sync=f"  - {{from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: {offset}}}",
                    journeys=journey(*BRANCH))
    return text, [person((0, "silver"), (H, "go"))]


def stale_entry(offset: str):
    # A scheduled segment entry at +1h reads tier at cdp: ana's tier changed to silver at crm at 0.
    # offset 2h: cdp still says bronze, so ana enters on a value truth had changed: one stale entry decision
    # (no step: stale-branch) -> 1. offset 30m: cdp has silver at 1h, ana is not in the segment -> 0.
    text = scenario(sync=f"  - {{from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: {offset}}}",
                    journeys=journey("{id: a, send: m}",
                                     entry="{at: 2026-12-01T01:00:00Z, segment: \"tier == 'bronze'\"}"))
    return text, [person((0, "silver"))]


def propagation(offset: str):
    # ana enters at 0; stage A -> B at crm at +30m, after entry; the branch at +1h reads stage at cdp (two
    # arms read it: one finding per decision). crm->cdp is a 4-hourly batch: offset 0 runs at 0 and 4h, so
    # the change lands at 4h, after the branch -> 1 stage-propagation-miss (lag 3h30m, 3h after the decision).
    # offset 45m: the batch at 45m brings it before 1h -> 0.
    text = scenario(sync=f"  - {{from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: {offset}}}",
                    journeys=journey("{id: w, wait: 1h}",
                                     "{id: br, branch: [{when: \"stage == 'B'\", goto: b}, "
                                     "{when: \"stage == 'A'\", goto: a}, {else: end}]}",
                                     "{id: b, send: m, next: end}", "{id: a, send: m2}"))
    return text, [person((0, "go"), (30 * M, "stage_up"))]


def overwritten(apply: str):
    # ana enters at 0. tier: silver at crm at 0 (v1; crm->cdp 30m, `apply`), gold at pos at +10m (v2; pos->cdp
    # 5m). Gold lands at 15m; under apply: arrival the late silver lands at 30m over it, so the branch at 1h
    # reads silver v1 while truth has gold v2, a change made after entry -> 1 stage-propagation-miss, caused
    # not by a slow link (gold was there 45m before the decision) but by crm->cdp's late older record.
    # apply: version keeps gold -> 0.
    text = scenario(sync=f"  - {{from: crm, to: cdp, fields: [tier], latency: {{fixed: 30m}}, apply: {apply}}}\n"
                         "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 5m}}",
                    journeys=journey("{id: w, wait: 1h}", *BRANCH))
    return text, [person((0, "go"), (0, "silver"), (10 * M, "gold"))]


def repeated_value(second: str):
    # tier -> silver at crm at 0 (v1, at cdp 1h); at 2h `second` changes tier again (v2; crm->cdp and pos->cdp
    # both take 1h, so cdp has it at 3h). ana enters at 2h30m and branches on tier: cdp holds silver v1.
    # second = gold: truth's value changed before entry -> 1 stale-branch. second = silver: truth's version
    # moved but its value is the one cdp holds; the branch is what it would be on truth -> 0.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 1h}}\n"
                         "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 1h}}",
                    journeys=journey(*BRANCH))
    return text, [person((0, "silver"), (2 * H, second), (150 * M, "go"))]


def stale_content(at: str):
    # tier -> silver at crm at 0 reaches cdp at once; cdp->esp is a daily batch at `at` (UTC). ana enters at
    # +1h and gets p, rendered at esp with {{ tier }}. At 02:00 the esp still has bronze at 1h, a change made
    # before entry -> 1 stale-content. At 00:30 it had silver -> 0.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [tier]}\n"
                         f"  - {{from: cdp, to: esp, fields: [tier], mode: batch, at: \"{at}\"}}",
                    messages="  p: {channel: email, body: \"Your tier: {{ tier }}\"}",
                    journeys=journey("{id: a, send: p}"))
    return text, [person((0, "silver"), (H, "go"))]


def out_of_order(apply: str):
    # Two origins write tier to cdp over links with different fixed latencies: crm->cdp 30m (`apply`),
    # pos->cdp 5m. ana: silver at crm at 0 (v1), gold at pos at 10m (v2): gold lands at 15m, silver at 30m
    # overwrites it under apply: arrival -> 1 out-of-order (at 30m, on cdp). bob: gold at 40m lands at 45m,
    # after silver (30m): in order. apply: version on crm->cdp skips the older silver -> 0.
    text = scenario(sync=f"  - {{from: crm, to: cdp, fields: [tier], latency: {{fixed: 30m}}, apply: {apply}}}\n"
                         "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 5m}}",
                    journeys=journey("{id: w, wait: 1h}"))
    return text, [person((0, "silver"), (10 * M, "gold")), person((0, "silver"), (40 * M, "gold"), name="bob")]


def overlap_journeys(window: str):
    # Two generated customers (population size 2, go once at +1h with probability 1). Journey j emails m
    # at entry (1h), journey k texts t after a 1h wait (2h). Each customer: two messages 1h apart. A 4h
    # collision window -> 1 overlap per customer = 2; a 30m window -> 0.
    events = "    - {name: go, origin: app, once: {probability: 1, at: {fixed: 1h}}}\n"
    text = scenario(events=events, size=2, policies=f"  collision_window: {window}",
                    journeys=journey("{id: a, send: m}") + journey("{id: w, wait: 1h}", "{id: b, send: t}", name="k"))
    return text, []


def overlap_reentry(second: float):
    # Re-entry allowed; j emails m at entry. ana enters at 0 and again at `second`: at 2h the second
    # email is inside the 4h window -> 1 overlap ("j re-entered"); at 5h it is not -> 0.
    text = scenario(policies="  collision_window: 4h", journeys=journey("{id: a, send: m}", re_entry="true"))
    return text, [person((0, "go"), (second, "go"))]


def duplicate(second: str):
    # One instance sends m at 0 and `second` at 1h: m twice -> 1 duplicate-send; m then m2 -> 0.
    text = scenario(journeys=journey("{id: a, send: m}", "{id: w, wait: 1h}", f"{{id: b, send: {second}}}"))
    return text, [person((0, "go"))]


def duplicate_reentry(re_entry: str):
    # j sends m at entry; ana's go at 0 and at 30h. With a 1d cooldown the second go re-enters and sends m
    # again -> 1 duplicate-send (after re-entry); with re_entry false the second entry is skipped -> 0.
    text = scenario(journeys=journey("{id: a, send: m}", re_entry=re_entry))
    return text, [person((0, "go"), (30 * H, "go"))]


def frequency_cap(lag: str):
    # Cap: any channel, max 1 per 1d (sliding). One instance sends m at 0, m2 at 30m, t (SMS) at 50m.
    # With counters lagging 1h, the orchestrator has counted nothing at 30m and 50m: all three are
    # delivered inside one day -> the 2nd and 3rd break the cap -> 2. With lag 0s both are dropped -> 0
    # (they become 2 missed-sends, dropped by policy).
    text = scenario(policies=f"  frequency_caps: [{{channel: any, max: 1, per: 1d}}]\n  cap_counter_lag: {lag}",
                    journeys=journey("{id: a, send: m}", "{id: w1, wait: 30m}", "{id: b, send: m2}",
                                     "{id: w2, wait: 20m}", "{id: c, send: t}"))
    return text, [person((0, "go"))]


def consent(link: str):
    # ana unsubscribes (email) at crm at 0; crm->cdp streams consent in 15m; cdp->esp is `link`. She enters
    # at +1h and j emails m at once; the ESP checks consent on its own replica.
    # Daily batch at 02:00: the ESP still has the opt-in at 1h -> delivered -> 1 consent-violation (the opt-out
    # reached the ESP at 02:00: lag 2h, 1h after the send; slowest hop cdp->esp took 1h45m).
    # Stream 10m: the ESP has the opt-out from 25m: suppressed, rightly (no missed-send either) -> 0.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [consent], latency: {fixed: 15m}}\n"
                         f"  - {{from: cdp, to: esp, fields: [consent], {link}}}",
                    journeys=journey("{id: a, send: m}"))
    return text, [person((0, "unsubscribe"), (H, "go"))]


DAILY = "mode: batch, at: \"02:00\""
STREAM = "latency: {fixed: 10m}"


def consent_queued(delay: str):
    # The ESP delivers after a fixed `delay`. j emails m at 0 (consent checked then: opted in); ana
    # unsubscribes at the ESP itself at +1h30m. Delay 2h: delivered at 2h, after the opt-out -> 1 violation
    # (the ESP knew, but does not re-check at delivery). Delay 10m: delivered before she opted out -> 0.
    text = scenario(esp=f", delivery_delay: {{fixed: {delay}}}", journeys=journey("{id: a, send: m}"))
    return text, [person((0, "go"), (90 * M, "opt_out:email"))]


QUIET_SMS = "  quiet_hours: {from: \"21:00\", to: \"08:00\", channels: [sms], action: hold}"


def quiet_hours(throughput: str):
    # Three customers in New York (UTC-5 in December) are texted t at 20:59 local (01:59 UTC on Dec 2,
    # 25h59m after start), decided outside quiet hours. At 1/m the SMS queue delivers them at 20:59, 21:00
    # and 21:01 local: the 2nd and 3rd land inside quiet hours (21:00 is inside) -> 2. At 100/s all three
    # land within 20:59:01 -> 0.
    text = scenario(sms=f", throughput: {throughput}", policies=QUIET_SMS, journeys=journey("{id: a, send: t}"))
    when = 25 * H + 59 * M
    return text, [person((when, "go"), name=n, zone="America/New_York") for n in ("a1", "a2", "a3")]


def missed_opt_in(latency: str):
    # ana starts opted out of email and signs up at web at 0 (opts in; entry event). web->cdp brings both at
    # once; cdp->esp brings consent after `latency`. The welcome m goes at +5m. 1h: the ESP still has the
    # opt-out and suppresses it although she is opted in -> 1 missed-send caused by cdp->esp (lag 1h, 55m
    # after the decision). 1m: the opt-in arrived at 1m -> delivered -> 0.
    text = scenario(sync="  - {from: web, to: cdp, fields: [signup, consent]}\n"
                         f"  - {{from: cdp, to: esp, fields: [consent], latency: {{fixed: {latency}}}}}",
                    journeys=journey("{id: w, wait: 5m}", "{id: welcome, send: m}", entry="{event: signup}"))
    return text, [person((0, "signup"), email=False)]


def missed_quiet_drop(action: str):
    # t decided at 22:00 UTC (ana in UTC) is inside quiet hours. action drop -> 1 missed-send, dropped by
    # policy; action hold -> delivered at 08:00 the next morning -> 0.
    text = scenario(policies=QUIET_SMS.replace("hold", action), journeys=journey("{id: a, send: t}"))
    return text, [person((22 * H, "go"))]


def missed_run_end(go_at: float):
    # The ESP delivers 2h after the decision; the run lasts 2d (48h). m decided at 47h is still in the
    # pipeline when the run ends -> 1 missed-send; decided at 45h it lands at 47h -> 0.
    text = scenario(esp=", delivery_delay: {fixed: 2h}", journeys=journey("{id: a, send: m}"))
    return text, [person((go_at, "go"))]


def late_hold(valid_for: str):
    # v (SMS) decided at 22:00 UTC is held by quiet hours until 08:00: delivered 10h after the decision.
    # valid_for 1h -> 1 late-delivery; valid_for 11h -> 0.
    text = scenario(policies=QUIET_SMS,
                    messages=f"  v: {{channel: sms, body: \"Hi. Reply STOP\", valid_for: {valid_for}}}",
                    journeys=journey("{id: a, send: v}"))
    return text, [person((22 * H, "go"))]


def late_backlog(valid_for: str):
    # Three customers emailed m3 at 0 through an ESP of 1/h: delivered at 0, 1h and 2h. valid_for 90m ->
    # only the third is late -> 1; valid_for 3h -> 0.
    text = scenario(esp=", throughput: 1/h", messages=f"  m3: {{channel: email, body: \"Hi\", valid_for: {valid_for}}}",
                    journeys=journey("{id: a, send: m3}"))
    return text, [person((0, "go"), name=n) for n in ("a1", "a2", "a3")]


def stuck(wait_until: str):
    # Both enter at 0 and wait for buy (web->cdp at once). bob buys at 2h and moves on; ana never buys.
    # No timeout: ana still waits when the run ends -> 1 stuck. timeout 1d: she leaves at 1d -> 0.
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy]}",
                    journeys=journey(f"{{id: wu, wait_until: {wait_until}}}", "{id: a, send: m}"))
    return text, [person((0, "go")), person((0, "go"), (2 * H, "buy"), name="bob")]


def render_error(body: str):
    # ana enters at 0 and is sent p at once. "{{ 100 | divided_by: 0 }}" fails to render at the ESP
    # ("can't divide by 0") -> 1 creative-render-error; "{{ 100 | divided_by: 2 }}" renders -> 0.
    text = scenario(messages=f'  p: {{channel: email, body: "{body}"}}', journeys=journey("{id: a, send: p}"))
    return text, [person((0, "go"))]


def missing_field(tier: str):
    # The email renders tier at the ESP at 0. No link carries tier to the ESP, so the ESP holds the
    # population value: '' -> 1 creative-missing-field (ana); 'bronze' -> 0.
    text = scenario(messages='  p: {channel: email, body: "Tier {{ tier }}"}', journeys=journey("{id: a, send: p}"))
    return text, [ScriptedCustomer("ana", attributes={"stage": "A", "tier": tier}, consent={"email": True},
                                   timezone="UTC", events=((0, "go"),))]


def sms_segments_over(letters: int):
    # A promotional SMS of `letters` + " Reply STOP" (11) GSM-7 characters: 150 -> 161 septets, 2 segments,
    # over the promotional default of 1 -> 1 creative-sms-segments; 149 -> 160, 1 segment -> 0.
    body = "a" * letters + " Reply STOP"
    text = scenario(messages=f'  p: {{channel: sms, body: "{body}", tags: [promo]}}', journeys=journey("{id: a, send: p}"))
    return text, [person((0, "go"))]


def unsubscribe(body: str):
    # A promotional email sent to ana at 0: without {{ unsubscribe_url }} -> 1 creative-unsubscribe; with it -> 0.
    text = scenario(messages=f'  p: {{channel: email, body: "{body}", tags: [promo]}}', journeys=journey("{id: a, send: p}"))
    return text, [person((0, "go"))]


def subject_length(limit: int):
    # An email to ana at 0 with subject "Sale ends today" (15 characters): max_subject_chars 14 ->
    # 1 creative-length; 15 -> 0.
    text = scenario(messages=f'  p: {{channel: email, subject: "Sale ends today", body: x, max_subject_chars: {limit}}}',
                    journeys=journey("{id: a, send: p}"))
    return text, [person((0, "go"))]


def preheader_length(limit: int):
    # An email to ana at 0 with preheader "Hi {{ stage }}, 20% off inside" -> "Hi A, 20% off inside" (20
    # characters): max_preheader_chars 19 -> 1 creative-length; 20 -> 0.
    text = scenario(messages='  p: {channel: email, subject: Sale, preheader: "Hi {{ stage }}, 20% off inside", '
                             f'body: x, max_preheader_chars: {limit}}}',
                    journeys=journey("{id: a, send: p}"))
    return text, [person((0, "go"))]


def compliance_quiet(at: float):
    # compliance: [us-tcpa] (08:00-21:00 recipient local; the pack covers US zones only). ana
    # (America/New_York, EST = UTC-5) gets a promotional SMS at entry: at 3h = 03:00Z = 22:00 EST
    # -> 1 compliance-quiet-hours; at 15h = 15:00Z = 10:00 EST -> 0.
    text = scenario(messages='  p: {channel: sms, body: "Sale. Reply STOP to opt out", tags: [promo]}',
                    journeys=journey("{id: a, send: p}"), extra="compliance: [us-tcpa]\n")
    return text, [person((at, "go"), zone="America/New_York")]


PROMO_SMS = '  p: {channel: sms, body: "Sale. Reply STOP to opt out", tags: [promo]}'
JURISDICTION = "  jurisdiction: {}\n"


def zone_mismatch(code: str):
    # compliance: [us-fl]; ana's send zone is America/Los_Angeles (PST = UTC-8), address US-CA. She is texted
    # at entry, 2h = 02:00Z = Mon 18:00 PST: allowed there (no compliance-quiet-hours). With area code 305
    # (Florida, America/New_York) us-fl covers her by phone, and 305's zone is not hers: 1 compliance-zone-mismatch
    # (21:00 EST there: forbidden). With 213 (Los Angeles) us-fl does not cover her -> 0.
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"), population=JURISDICTION,
                    extra="compliance: [us-fl]\n")
    return text, [person((2 * H, "go"), zone="America/Los_Angeles", recipient={"area_code": code, "address": "US-CA"})]


def compliance_frequency(gap: str):
    # compliance: [us-fl] (at most 3 per rolling 24 h on the same subject = the same journey). ana (305, US-FL,
    # America/New_York) enters at 14h and gets p four times, `gap` apart. 1h: sends at 14h, 15h, 16h, 17h -> the 4th
    # has 3 earlier in (17h - 24h, 17h] -> 1. 8h: 14h, 22h, 30h, 38h -> at 38h the window (14h, 38h] excludes the
    # send at 14h exactly: 2 earlier -> 0.
    steps = [f"{{id: s{i}, send: p}}" if i % 2 == 0 else f"{{id: w{i}, wait: {gap}}}" for i in range(7)]
    text = scenario(messages=PROMO_SMS, journeys=journey(*steps), population=JURISDICTION,
                    extra="compliance: [us-fl]\n")
    return text, [person((14 * H, "go"), zone="America/New_York", recipient={"area_code": "305", "address": "US-FL"})]


def compliance_consent(link: str):
    # compliance: [uk-pecr] (consent per channel). As `consent`: ana (Europe/London: GB by her zone) opts out of
    # email at crm at 0; crm->cdp 15m; cdp->esp `link`. She enters at 1h and gets the promotional email pm. Daily
    # batch at 02:00: the ESP still has consent at 1h -> delivered without consent -> 1. Stream 10m: suppressed -> 0.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [consent], latency: {fixed: 15m}}\n"
                         f"  - {{from: cdp, to: esp, fields: [consent], {link}}}",
                    messages='  pm: {channel: email, body: "Sale {{ unsubscribe_url }}", tags: [promo]}',
                    journeys=journey("{id: a, send: pm}"), extra="compliance: [uk-pecr]\n")
    return text, [person((0, "unsubscribe"), (H, "go"), zone="Europe/London")]


def compliance_unsubscribe_late(go: float):
    # compliance: [can-spam] (opt-out within 10 business days, counted in default_timezone UTC). ana (New York)
    # opts out of email at crm at 0 = Tue 2026-12-01; consent takes 16d to reach the cdp. Business days after
    # Dec 1: Dec 2-4 (3), 7-11 (8), 14-15 (10): the deadline is the end of Tue Dec 15 = 2026-12-16 00:00Z = 15d.
    # She enters at `go` and gets pm: at 15d1h -> delivered after the deadline -> 1; at 14d23h -> 0.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [consent], latency: {fixed: 16d}}\n"
                         "  - {from: cdp, to: esp, fields: [consent]}",
                    messages='  pm: {channel: email, body: "Sale {{ unsubscribe_url }}", tags: [promo]}',
                    journeys=journey("{id: a, send: pm}"), duration="17d", extra="compliance: [can-spam]\n")
    return text, [person((0, "unsubscribe"), (go, "go"), zone="America/New_York")]


def compliance_unsubscribe_link(body: str):
    # compliance: [can-spam]; a promotional email to ana (America/New_York: US by her zone) at entry. Without
    # {{ unsubscribe_url }} -> 1 (can-spam unsubscribe-link); with it -> 0.
    text = scenario(messages=f'  pm: {{channel: email, body: "{body}", tags: [promo]}}',
                    journeys=journey("{id: a, send: pm}"), extra="compliance: [can-spam]\n")
    return text, [person((H, "go"), zone="America/New_York")]


CASES = [
    # kind, builder, setting that fires, expected count, twin setting
    ("exit-race", exit_race, "2h", 3, "10m"),
    ("exit-race", exit_race_seen, "after_waits", 1, "continuous"),
    ("exit-race", exit_race_held, "never", 1, "at_release"),
    ("stale-branch", stale_branch, "2h", 1, "30m"),
    ("stale-branch", stale_entry, "2h", 1, "30m"),
    ("stale-branch", repeated_value, "gold", 1, "silver"),
    ("stage-propagation-miss", propagation, "0s", 1, "45m"),
    ("stage-propagation-miss", overwritten, "arrival", 1, "version"),
    ("stale-content", stale_content, "02:00", 1, "00:30"),
    ("out-of-order", out_of_order, "arrival", 1, "version"),
    ("overlap", overlap_journeys, "4h", 2, "30m"),
    ("overlap", overlap_reentry, 2 * H, 1, 5 * H),
    ("duplicate-send", duplicate, "m", 1, "m2"),
    ("duplicate-send", duplicate_reentry, "{cooldown: 1d}", 1, "false"),
    ("frequency-cap", frequency_cap, "1h", 2, "0s"),
    ("consent-violation", consent, DAILY, 1, STREAM),
    ("consent-violation", consent_queued, "2h", 1, "10m"),
    ("quiet-hours", quiet_hours, "1/m", 2, "100/s"),
    ("missed-send", missed_opt_in, "1h", 1, "1m"),
    ("missed-send", missed_quiet_drop, "drop", 1, "hold"),
    ("missed-send", missed_run_end, 47 * H, 1, 45 * H),
    ("late-delivery", late_hold, "1h", 1, "11h"),
    ("late-delivery", late_backlog, "90m", 1, "3h"),
    ("stuck", stuck, "{event: buy}", 1, "{event: buy, timeout: 1d}"),
    ("creative-render-error", render_error, "{{ 100 | divided_by: 0 }}", 1, "{{ 100 | divided_by: 2 }}"),
    ("creative-missing-field", missing_field, "", 1, "bronze"),
    ("creative-sms-segments", sms_segments_over, 150, 1, 149),
    ("creative-unsubscribe", unsubscribe, "20% off", 1, "20% off {{ unsubscribe_url }}"),
    ("creative-length", subject_length, 14, 1, 15),
    ("creative-length", preheader_length, 19, 1, 20),
    ("compliance-quiet-hours", compliance_quiet, 3 * H, 1, 15 * H),
    ("compliance-zone-mismatch", zone_mismatch, "305", 1, "213"),
    ("compliance-frequency", compliance_frequency, "1h", 1, "8h"),
    ("compliance-consent", compliance_consent, DAILY, 1, STREAM),
    ("compliance-unsubscribe", compliance_unsubscribe_late, 15 * 24 * H + H, 1, 14 * 24 * H + 23 * H),
    ("compliance-unsubscribe", compliance_unsubscribe_link, "20% off", 1, "20% off {{ unsubscribe_url }}"),
]

from test_identity import IDENTITY_CASES  # noqa: E402  (one person, several profiles: tests/test_identity.py)

CASES += IDENTITY_CASES


@pytest.mark.parametrize("kind, build, fire, n, twin", CASES, ids=[f"{c[0]}-{c[1].__name__}" for c in CASES])
def test_kind_fires_exactly_n_times_and_never_in_its_twin(kind, build, fire, n, twin):
    """The kind fires exactly n times on its scenario and not at all on the twin (see the builder's comment)."""
    text, people = build(fire)
    fired = run(text, *people)
    assert len(of_kind(fired, kind)) == n, show(fired)
    text, people = build(twin)
    calm = run(text, *people)
    assert len(of_kind(calm, kind)) == 0, show(calm)


def test_every_emitted_kind_has_a_case():
    """The cases above cover every kind a registered detector emits."""
    from simulator.findings import DETECTORS

    emitted = {k for d in DETECTORS for k in d.kinds}
    assert emitted == {c[0] for c in CASES}


# --------------------------------------------------------------------------- who, where, when, why


def test_exit_race_rows_and_root_cause():
    """Races: ana at s1 and s2, bob at s2; web->cdp took 2h; each row says how late the buy arrived."""
    races = of_kind(run(*_built(exit_race("2h"))), "exit-race")
    got = list(zip(races["customer"], races["step"], races["time"], races["late_by_seconds"]))
    # ana bought at 00:30 -> cdp 02:30: 1h30m after s1 (01:00), 30m after s2 (02:00); bob 01:30 -> 03:30
    assert got == [("ana", "s1", "2026-12-01 01:00", 5400.0), ("ana", "s2", "2026-12-01 02:00", 1800.0),
                   ("bob", "s2", "2026-12-01 02:00", 5400.0)]
    assert set(races["link"]) == {"web->cdp"} and set(races["lag_seconds"]) == {7200.0}
    assert list(races["truth_changed_at"]) == ["2026-12-01 00:30", "2026-12-01 00:30", "2026-12-01 01:30"]
    assert list(races["field"]) == ["@buy"] * 3 and list(races["replica_value"]) == ["false"] * 3
    assert list(races["truth_value"]) == ["true"] * 3 and list(races["message_name"]) == ["m", "m2", "m2"]
    assert all("stream, latency Fixed(2h)" in text for text in races["root_cause"])
    assert "slowest hop web->cdp took 2h" in races["root_cause"][0]


def test_exit_race_already_seen_blames_the_check_mode():
    """When the replica had the exit, the root cause is the check mode, not a link."""
    race = of_kind(run(*_built(exit_race_seen("after_waits"))), "exit-race").iloc[0]
    assert race["replica_value"] == "true" and race["time"] == "2026-12-01 01:00"
    assert "check: after_waits" in race["root_cause"] and race["link"] is None


def test_stale_branch_root_cause_names_the_batch_schedule():
    """The silver change at 0 waited for the 02:00 batch run: lag 2h, 1h after the branch at 01:00."""
    row = of_kind(run(*_built(stale_branch("2h"))), "stale-branch").iloc[0]
    assert (row["customer"], row["step"], row["time"]) == ("ana", "br", "2026-12-01 01:00")
    assert (row["field"], row["replica_value"], row["replica_version"]) == ("tier", "bronze", 0)
    assert (row["truth_value"], row["truth_version"]) == ("silver", 1)
    assert row["link"] == "crm->cdp" and row["lag_seconds"] == 7200.0 and row["late_by_seconds"] == 3600.0
    assert "batch every 4h offset 2h" in row["root_cause"]
    entry = of_kind(run(*_built(stale_entry("2h"))), "stale-branch").iloc[0]
    assert entry["step"] is None and "j entry" in entry["message"] and entry["link"] == "crm->cdp"


def test_stage_propagation_miss_root_cause():
    """Stage B made at 00:30 reached cdp with the 04:00 batch: lag 3h30m, 3h after the branch at 01:00."""
    result = run(*_built(propagation("0s")))
    row = of_kind(result, "stage-propagation-miss").iloc[0]
    assert (row["customer"], row["step"], row["time"]) == ("ana", "br", "2026-12-01 01:00")
    assert (row["field"], row["replica_value"], row["truth_value"]) == ("stage", "A", "B")
    assert row["link"] == "crm->cdp" and row["lag_seconds"] == 12600.0 and row["late_by_seconds"] == 10800.0
    assert row["truth_changed_at"] == "2026-12-01 00:30"
    assert "batch every 4h" in row["root_cause"] and "took 3h30m" in row["root_cause"]
    assert len(of_kind(result, "stale-branch")) == 0  # the change came after entry: not a stale-branch


def test_stale_read_of_an_overwritten_version_blames_the_out_of_order_link():
    """Gold reached cdp before the branch and was overwritten: the late older record's link is the cause."""
    result = run(*_built(overwritten("arrival")))
    row = of_kind(result, "stage-propagation-miss").iloc[0]
    assert (row["replica_value"], row["replica_version"], row["truth_value"]) == ("silver", 1, "gold")
    # crm->cdp's silver record took 30m and landed after gold; no wait would have fixed it
    assert row["link"] == "crm->cdp" and row["lag_seconds"] == 1800.0 and row["late_by_seconds"] is None
    assert "at 2026-12-01 00:30 crm->cdp applied the older v1" in row["root_cause"]
    assert "apply: arrival" in row["root_cause"]
    [advice] = [r["text"] for r in result.analysis.recommendations if r["kind"] == "stage-propagation-miss"]
    assert "overwritten by an older record" in advice and "would have let the change arrive first" not in advice


def test_stale_content_root_cause():
    """The silver change at 0 reached the ESP with the 02:00 daily batch, after the 01:00 render."""
    row = of_kind(run(*_built(stale_content("02:00"))), "stale-content").iloc[0]
    assert (row["system"], row["field"]) == ("esp", "tier")
    assert (row["replica_value"], row["truth_value"]) == ("bronze", "silver")
    assert row["message_name"] == "p" and row["link"] == "cdp->esp" and row["lag_seconds"] == 7200.0
    assert "batch daily at 02:00 UTC" in row["root_cause"]


def test_out_of_order_row():
    """ana's silver (v1) over gold (v2) at cdp at 00:30; the root cause names apply: arrival."""
    row = of_kind(run(*_built(out_of_order("arrival"))), "out-of-order").iloc[0]
    assert (row["customer"], row["system"], row["field"], row["time"]) == ("ana", "cdp", "tier", "2026-12-01 00:30")
    assert (row["replica_value"], row["replica_version"]) == ("silver", 1)
    assert "apply: arrival" in row["root_cause"] and "overwrote newer version 2" in row["root_cause"]


def test_overlap_rows_name_the_pair():
    """Each generated customer's SMS at 02:00 follows the 01:00 email from the other journey."""
    rows = of_kind(run(*_built(overlap_journeys("4h"))), "overlap")
    assert list(rows["customer"]) == ["c000001", "c000002"] and set(rows["time"]) == {"2026-12-01 02:00"}
    assert set(rows["pair"]) == {"j and k"} and set(rows["message_name"]) == {"t"}
    again = of_kind(run(*_built(overlap_reentry(2 * H))), "overlap")
    assert list(again["pair"]) == ["j re-entered"]


def test_consent_violation_root_cause():
    """The opt-out made at 00:00 took 15m to cdp and waited for the 02:00 batch to the ESP: lag 2h."""
    result = run(*_built(consent(DAILY)))
    row = of_kind(result, "consent-violation").iloc[0]
    assert (row["customer"], row["system"], row["time"], row["message_name"]) == ("ana", "esp", "2026-12-01 01:00", "m")
    assert (row["field"], row["replica_value"], row["truth_value"]) == ("consent.email", "true", "false")
    assert row["link"] == "cdp->esp" and row["lag_seconds"] == 7200.0 and row["late_by_seconds"] == 3600.0
    assert row["truth_changed_at"] == "2026-12-01 00:00" and row["severity"] == "error"
    assert "batch daily at 02:00 UTC" in row["root_cause"]
    assert "via crm->cdp at 2026-12-01 00:15 -> cdp->esp at 2026-12-01 02:00" in row["root_cause"]
    assert "slowest hop cdp->esp took 1h45m" in row["root_cause"]
    calm = run(*_built(consent(STREAM)))
    assert len(of_kind(calm, "missed-send")) == 0  # suppressing a true opt-out is right, not a miss


def test_consent_violation_while_queued_has_no_link():
    """An opt-out that reached the ESP while the message waited is explained without blaming a link."""
    row = of_kind(run(*_built(consent_queued("2h"))), "consent-violation").iloc[0]
    assert row["replica_value"] == "false" and row["link"] is None and row["time"] == "2026-12-01 02:00"
    assert "after the consent check" in row["root_cause"]


def test_quiet_hours_rows_in_local_time():
    """a2 and a3 got the SMS at 21:00 and 21:01 New York time."""
    rows = of_kind(run(*_built(quiet_hours("1/m"))), "quiet-hours")
    assert list(rows["customer"]) == ["a2", "a3"] and set(rows["severity"]) == {"error"}
    assert "21:00 local (America/New_York)" in rows["message"][0]
    assert "21:01 local (America/New_York)" in rows["message"][1]


def test_missed_send_root_causes():
    """A stale opt-in names cdp->esp and its lag; a policy drop and a run end say so."""
    row = of_kind(run(*_built(missed_opt_in("1h"))), "missed-send").iloc[0]
    assert (row["customer"], row["step"], row["time"]) == ("ana", "welcome", "2026-12-01 00:05")
    assert "stale opt-out" in row["message"]
    assert row["link"] == "cdp->esp" and row["lag_seconds"] == 3600.0 and row["late_by_seconds"] == 3300.0
    assert "Fixed(1h)" in row["root_cause"]
    drop = of_kind(run(*_built(missed_quiet_drop("drop"))), "missed-send").iloc[0]
    assert drop["root_cause"].startswith("dropped by policy: quiet-hours")
    end = of_kind(run(*_built(missed_run_end(47 * H))), "missed-send").iloc[0]
    assert end["root_cause"].startswith("still in the pipeline: last queued at 2026-12-02 23:00")
    capped = run(*_built(frequency_cap("0s")))
    dropped = of_kind(capped, "missed-send")
    assert list(dropped["step"]) == ["b", "c"] and all("frequency-cap" in t for t in dropped["root_cause"])


def test_late_delivery_root_causes():
    """The held SMS names the hold; the backlogged email names the throughput queue."""
    held = of_kind(run(*_built(late_hold("1h"))), "late-delivery").iloc[0]
    assert held["time"] == "2026-12-02 08:00" and "after 10h" in held["message"]
    assert held["root_cause"].startswith("held or deferred 1 time by policy")
    backlog = of_kind(run(*_built(late_backlog("90m"))), "late-delivery").iloc[0]
    assert backlog["customer"] == "a3" and backlog["time"] == "2026-12-01 02:00"
    assert "queue wait 2h at esp (throughput backlog)" in backlog["root_cause"]


def test_stuck_row_and_plain_wait_is_not_stuck():
    """ana waits for buy forever; a customer inside a long plain wait at the end is not stuck."""
    result = run(*_built(stuck("{event: buy}")))
    row = of_kind(result, "stuck").iloc[0]
    assert (row["customer"], row["step"], row["severity"]) == ("ana", "wu", "info")
    assert "no timeout" in row["root_cause"]
    long_wait = run(scenario(journeys=journey("{id: w, wait: 10d}", "{id: a, send: m}")), person((0, "go")))
    assert (long_wait.counts["active-at-end"], len(of_kind(long_wait, "stuck"))) == (1, 0)


def test_exit_race_for_an_update_step_after_the_exit():
    """An update step run after the customer truly bought (buy not yet at cdp) is an exit-race."""
    # ana buys at +30m; web->cdp takes 2h; the update at +1h writes reminded=true at crm although she
    # had already bought -> 1 exit-race expected.
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2h}}",
                    journeys=journey("{id: w, wait: 1h}", "{id: mark, update: {reminded: true}, at: crm}",
                                     exit_when="{event: buy}"))
    result = run(text, person((0, "go"), (30 * M, "buy")))
    assert result.counts["step"] == 2  # the update step did run at 1h
    assert len(of_kind(result, "exit-race")) == 1


CAUSE = ["phase", "link", "hop_at_decision", "lag_seconds", "late_by_seconds", "truth_changed_at"]


@pytest.mark.parametrize("kind, built, expected", [
    # ana bought 00:30, at the cdp 02:30 (web->cdp 2h); first race at s1 01:00: 1h30m late
    ("exit-race", lambda: exit_race("2h"), ["decided", "web->cdp", "web->cdp", 7200.0, 5400.0, "2026-12-01 00:30"]),
    # silver at crm 00:00 rides the 02:00 batch; branch at 01:00
    ("stale-branch", lambda: stale_branch("2h"), [None, "crm->cdp", "crm->cdp", 7200.0, 3600.0, "2026-12-01 00:00"]),
    # stage B at 00:30 rides the 04:00 batch; branch at 01:00
    ("stage-propagation-miss", lambda: propagation("0s"),
     [None, "crm->cdp", "crm->cdp", 12600.0, 10800.0, "2026-12-01 00:30"]),
    # gold (00:10) was at the cdp from 00:15 but crm->cdp's silver (made 00:00) overwrote it at 00:30: the
    # change missed is gold's; the lag is the late older record's (30m); it never arrived again
    ("stage-propagation-miss", lambda: overwritten("arrival"),
     [None, "crm->cdp", "crm->cdp", 1800.0, None, "2026-12-01 00:10"]),
    # silver at crm 00:00, at the cdp at once, at the esp with the 02:00 daily batch; render at 01:00
    ("stale-content", lambda: stale_content("02:00"), [None, "cdp->esp", "cdp->esp", 7200.0, 3600.0, "2026-12-01 00:00"]),
    # silver made 00:00 applied at 00:30 by crm->cdp over gold
    ("out-of-order", lambda: out_of_order("arrival"), [None, "crm->cdp", "crm->cdp", 1800.0, None, "2026-12-01 00:00"]),
    # opt-out at crm 00:00, at the cdp 00:15, at the esp with the 02:00 batch; consent check at 01:00
    ("consent-violation", lambda: consent(DAILY), [None, "cdp->esp", "cdp->esp", 7200.0, 3600.0, "2026-12-01 00:00"]),
    # opt-out at crm 00:00 takes 3h to the cdp (slowest hop) and 30m more to the esp (03:30); the check at
    # 03:10 finds it on cdp->esp: hop_at_decision differs from the slowest hop
    ("consent-violation", lambda: consent_two_hops(), [None, "crm->cdp", "cdp->esp", 12600.0, 1200.0, "2026-12-01 00:00"]),
    # opt-in at web 00:00, at the cdp at once, at the esp after 1h (01:00); the consent check at 00:05
    ("missed-send", lambda: missed_opt_in("1h"), [None, "cdp->esp", "cdp->esp", 3600.0, 3300.0, "2026-12-01 00:00"]),
], ids=["exit-race", "stale-branch", "propagation", "propagation-overwritten", "stale-content", "out-of-order",
        "consent", "consent-two-hops", "missed-send"])
def test_every_sync_caused_kind_fills_the_cause_columns(kind, built, expected):
    """phase, link (slowest hop or the overwriting link), hop_at_decision, lag, late_by and truth_changed_at
    are filled with the values derived in each builder's comment (first finding of the kind)."""
    row = of_kind(run(*_built(built())), kind).iloc[0]
    assert [None if row[c] != row[c] else row[c] for c in CAUSE] == expected


def consent_two_hops():
    # ana unsubscribes at crm at 0; crm->cdp takes 3h, cdp->esp 30m (at the esp 03:30). She enters at 03:10
    # and is emailed at once: the esp still has the opt-in -> 1 consent-violation.
    text = scenario(sync="  - {from: crm, to: cdp, fields: [consent], latency: {fixed: 3h}}\n"
                         "  - {from: cdp, to: esp, fields: [consent], latency: {fixed: 30m}}",
                    journeys=journey("{id: a, send: m}"))
    return text, [person((0, "unsubscribe"), (190 * M, "go"))]


def test_recommendations_for_out_of_order_and_consent_name_the_link():
    """out-of-order: crm->cdp applied 1 older record and uses apply: arrival; consent on two hops: the
    slowest hop crm->cdp is blamed, and the advice says no journey wait fixes consent."""
    disorder = run(*_built(out_of_order("arrival")))
    [text] = [r["text"] for r in disorder.analysis.recommendations if r["kind"] == "out-of-order"]
    assert text.startswith("crm->cdp: 1 older record applied over newer ones (tier)")
    assert text.endswith("set apply: version on crm->cdp so a late older record cannot overwrite a newer one")
    hops = run(*_built(consent_two_hops()))
    [text] = [r["text"] for r in hops.analysis.recommendations if r["kind"] == "consent-violation"]
    assert text.startswith("1 consent-violation finding caused by crm->cdp: the opt-out had not reached esp")


def _built(built):
    text, people = built
    return (text, *people)


# --------------------------------------------------------------------------- aggregates


Z = 1.959963984540054


def _wilson_formula(k: int, n: int) -> tuple[float, float]:
    """Wilson score interval written out independently: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n)."""
    p, z2 = k / n, Z * Z
    centre = p + z2 / (2 * n)
    half = Z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return ((centre - half) / (1 + z2 / n), (centre + half) / (1 + z2 / n))


@pytest.mark.parametrize("k, n", [(0, 10), (5, 10), (1, 10), (10, 10), (3, 1000)])
def test_wilson_matches_the_formula(k, n):
    """wilson(k, n) equals the closed-form Wilson score interval to 1e-9."""
    low, high = wilson(k, n)
    want = _wilson_formula(k, n)
    assert low == pytest.approx(max(0.0, want[0]), abs=1e-9) and high == pytest.approx(min(1.0, want[1]), abs=1e-9)


def test_wilson_known_values():
    """Published values: 0/10 -> (0, 0.2775), 5/10 -> (0.2366, 0.7634); n = 0 -> (0, 1)."""
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(Z * Z / (10 + Z * Z), abs=1e-12)  # z²/(n+z²) when k = 0
    assert high == pytest.approx(0.277533, abs=1e-6)
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.236593, abs=1e-6) and high == pytest.approx(0.763407, abs=1e-6)
    assert low + high == pytest.approx(1.0, abs=1e-12)  # symmetric around 1/2
    assert wilson(0, 0) == (0.0, 1.0)


def test_by_step_and_totals_from_a_run():
    """Exit races: 3 findings, 2 customers of 2 entered; s1 reached by 2 with 1 affected, s2 by 2 with 2."""
    result = run(*_built(exit_race("2h")))
    totals = result.analysis.totals["exit-race"]
    assert (totals["count"], totals["customers"], totals["entered"], totals["rate"]) == (3, 2, 2, 1.0)
    steps = {r["step"]: r for r in result.analysis.by_step if r["kind"] == "exit-race"}
    # both reached s1 (1h) and s2 (2h): bob bought at 1h30m but cdp heard of it only at 3h30m
    assert (steps["s1"]["count"], steps["s1"]["customers"], steps["s1"]["reached"]) == (1, 1, 2)
    assert steps["s1"]["rate"] == 0.5
    assert (steps["s1"]["rate_low"], steps["s1"]["rate_high"]) == tuple(round(x, 6) for x in wilson(1, 2))
    assert (steps["s2"]["count"], steps["s2"]["customers"], steps["s2"]["reached"]) == (2, 2, 2)
    assert steps["s2"]["per_1000_entries"] == 1000.0


# --------------------------------------------------------------------------- gates


def test_parse_fail_on_negates_into_a_passing_gate():
    """--fail-on 'exit-race>0.5%' means the run passes while exit-race <= 0.5%."""
    gate = parse_fail_on("exit-race>0.5%")
    assert gate == Gate(kind="exit-race", op="<=", value=0.5, percent=True)
    assert gate.text == "exit-race <= 0.5%"
    assert parse_fail_on(" consent-violation > 0 ") == Gate(kind="consent-violation", op="<=", value=0.0,
                                                            percent=False)
    assert parse_fail_on("overlap>=2%").op == "<" and parse_fail_on("stuck==0").op == "!="


def test_parse_fail_on_rejects_unknown_kinds_with_a_suggestion():
    """An unknown kind is a UsageError naming the closest kind; a malformed text shows the form."""
    with pytest.raises(UsageError, match=r"unknown finding kind 'exit-rase'; did you mean 'exit-race'\?"):
        parse_fail_on("exit-rase>0")
    with pytest.raises(UsageError, match="expected KIND OP NUMBER"):
        parse_fail_on("exit-race above 1%")


def test_evaluate_gates_on_hand_made_totals():
    """A rate gate uses affected customers per entered customer; a count gate uses findings."""
    totals = {"exit-race": {"count": 7, "customers": 5}, "overlap": {"count": 1, "customers": 1}}
    rate = parse_fail_on("exit-race>0.5%")
    ok, bad = (evaluate_gates([rate], totals, severities=DEFAULT_SEVERITY, entered=n)[0] for n in (1000, 100))
    assert ok.passed and ok.actual == "0.5% (5 of 1000 entered customers)"  # 0.5 <= 0.5
    assert not bad.passed and bad.actual == "5% (5 of 100 entered customers)"
    count = Gate(kind="overlap", op="==", value=0, percent=False)
    missing = Gate(kind="consent-violation", op="==", value=0, percent=False)
    results = evaluate_gates([count, missing], totals, severities=DEFAULT_SEVERITY, entered=100)
    assert [(r.passed, r.actual) for r in results] == [(False, "1 finding"), (True, "0 findings")]
    assert evaluate_gates([rate], totals, severities=DEFAULT_SEVERITY, entered=0)[0].passed  # nobody entered


def test_default_gate_fails_only_on_error_severity():
    """With no gates, any error-severity finding fails the run; warnings alone pass."""
    warnings = {"exit-race": {"count": 9, "customers": 9}, "stuck": {"count": 1, "customers": 1}}
    [result] = evaluate_gates([], warnings, severities=DEFAULT_SEVERITY, entered=10)
    assert result.passed and result.actual == "none"
    errors = {**warnings, "consent-violation": {"count": 2, "customers": 1},
              "quiet-hours": {"count": 1, "customers": 1}}
    [result] = evaluate_gates([], errors, severities=DEFAULT_SEVERITY, entered=10)
    assert not result.passed and result.actual == "consent-violation 2, quiet-hours 1"
    assert result.text == "no error-severity findings (default gate)"


def test_gates_on_real_runs():
    """The consent-violation run fails the default gate, passes when its severity is lowered; --fail-on gates bite."""
    text, people = consent(DAILY)
    failed = run(text, *people)
    assert not failed.passed and failed.analysis.gates[0].actual == "consent-violation 1"
    lowered = run(text + "severity: {consent-violation: warning}\n", *people)
    assert lowered.passed and len(of_kind(lowered, "consent-violation")) == 1
    race_text, race_people = exit_race("2h")
    strict = run(race_text, *race_people, gates=[parse_fail_on("exit-race>0")])
    assert not strict.passed and strict.analysis.gates[0].actual == "3 findings"
    lenient = run(race_text, *race_people, gates=[parse_fail_on("exit-race>100%")])
    assert lenient.passed and lenient.analysis.gates[0].actual == "100% (2 of 2 entered customers)"


def test_per_1000_counts_entered_customers_not_entries():
    """Journey j: 4 distinct customers entered it (one of them, c1, twice: 5 entries). 3 findings of one kind at
    step s (c1 twice, c2 once), reached by 4: per 1000 entered customers = 1000 x 3 / 4 = 750 (per 1000
    *entries* would be 600). The old key per_1000_entries carries the same 750; rate = 2 / 4."""
    from collections import Counter

    from simulator.findings.aggregate import aggregate
    from simulator.findings.totals import RunTotals

    totals = RunTotals(Counter({"j": 4}), Counter({("j", "s"): 4}), 4, 4, pd.DataFrame())
    findings = pd.DataFrame({"kind": ["exit-race"] * 3, "journey": ["j"] * 3, "step": ["s"] * 3,
                             "customer": ["c1", "c1", "c2"], "severity": ["warning"] * 3})
    [row] = aggregate(totals, findings)
    assert row["per_1000_entered_customers"] == 750.0 and row["per_1000_entries"] == 750.0
    assert (row["count"], row["customers"], row["reached"], row["rate"]) == (3, 2, 4, 0.5)
