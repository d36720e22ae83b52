"""Hypothesis properties of the engine: zero lag means no stale reads, no contact after opt-out,
caps hold when counters do not lag."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.engine import run_scenario
from simulator.population import ScriptedCustomer
from simulator.scenario.load import load_scenario_text

ZERO_LAG = """\
scenario: zero-lag
start: 2026-12-01T00:00:00Z
duration: 4d
population:
  size: 0
  attributes:
    tier: {choice: {bronze: 1.0}}
  events:
    - {name: go, origin: web, once: {probability: 1, at: {fixed: 0s}}}
    - {name: gold, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {tier: gold}}
    - {name: unsubscribe, origin: crm, once: {probability: 1, at: {fixed: 0s}}, opts_out: [email, sms]}
systems:
  web: {kind: source}
  crm: {kind: crm}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
  sms: {kind: channel, channel: sms}
sync:
  - {from: web, to: cdp, fields: [events]}
  - {from: crm, to: cdp, fields: [events, tier, consent]}
  - {from: cdp, to: esp, fields: [tier, consent]}
  - {from: cdp, to: sms, fields: [tier, consent]}
policies:
  frequency_caps:
    - {channel: any, max: 2, per: 1d}
    - {channel: sms, max: 1, per: 12h}
messages:
  m: {channel: email, body: "{% if tier == 'gold' %}Gold{% endif %} offer"}
  t: {channel: sms, body: "Offer. Reply STOP to opt out"}
journeys:
  - name: a
    reads_from: cdp
    entry: {event: go}
    re_entry: true
    steps:
      - {id: w, wait: 1h}
      - id: by_tier
        branch:
          - {when: "tier == 'gold'", goto: text}
          - {else: mail}
      - {id: mail, send: m, next: w2}
      - {id: text, send: t}
      - {id: w2, wait: 30m}
      - {id: again, send: m}
  - name: b
    reads_from: cdp
    entry: {event: go}
    re_entry: true
    steps:
      - {id: w, wait: 2h}
      - {id: s, send: t}
"""

person = st.fixed_dictionaries({
    "go": st.lists(st.integers(0, 60 * 60), min_size=1, max_size=4),          # minutes
    "gold": st.lists(st.integers(0, 60 * 60), max_size=2),
    "unsubscribe": st.lists(st.integers(0, 60 * 60), max_size=1),
})


def people(draw: list[dict[str, list[int]]]) -> list[ScriptedCustomer]:
    out = []
    for i, p in enumerate(draw):
        events = []
        for j, (name, minutes) in enumerate(sorted(p.items())):
            for k, m in enumerate(minutes):
                events.append((m * 60.0 + i * 0.001 + j * 0.0001 + k * 0.00001, name))  # no exact ties
        out.append(ScriptedCustomer(f"p{i}", consent={"email": True, "sms": True}, timezone="UTC",
                                    events=tuple(sorted(events))))
    return out


SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.lists(person, min_size=1, max_size=6))
def test_zero_lag_means_no_stale_reads(draw):
    """With every link instant and lossless, every decision, render and consent check reads truth."""
    ev = run_scenario(load_scenario_text(ZERO_LAG), scripted=people(draw)).events()
    reads = ev[ev["kind"].isin(["decision", "render", "consent-check"]) & ev["version"].notna()]
    assert (reads["version"] == reads["truth_version"]).all()
    assert (reads["value"].fillna("") == reads["truth_value"].fillna("")).all()


@SETTINGS
@given(st.lists(person, min_size=1, max_size=6))
def test_nobody_is_messaged_after_opting_out_when_sync_is_instant(draw):
    """No delivery on a channel after the customer truly opted out of it (zero sync latency)."""
    customers = people(draw)
    ev = run_scenario(load_scenario_text(ZERO_LAG), scripted=customers).events()
    delivered = ev[ev["kind"] == "delivered"]
    for c in customers:
        opt_out = min((t for t, name in c.events if name == "unsubscribe"), default=None)
        if opt_out is not None:
            assert (delivered[delivered["customer"] == c.name]["t"] <= opt_out).all()
    assert (delivered["truth_value"] == "true").all()


@SETTINGS
@given(st.lists(person, min_size=1, max_size=6))
def test_caps_hold_when_counters_do_not_lag(draw):
    """With cap_counter_lag 0 and no holds, no sliding window ever holds more messages than its cap."""
    ev = run_scenario(load_scenario_text(ZERO_LAG), scripted=people(draw)).events()
    delivered = ev[ev["kind"] == "delivered"]
    for _, mine in delivered.groupby("customer"):
        times = sorted(mine["t"])
        sms = sorted(mine[mine["channel"] == "sms"]["t"])
        for i, t in enumerate(times):
            assert sum(1 for u in times[: i + 1] if u > t - 86400) <= 2
        for i, t in enumerate(sms):
            assert sum(1 for u in sms[: i + 1] if u > t - 43200) <= 1
