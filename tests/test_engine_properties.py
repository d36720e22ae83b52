"""Hypothesis properties of the engine: the same seed gives the same bytes, zero lag means no stale
reads, nobody is messaged after truly opting out when sync is instant, caps hold when counters do not
lag. Example counts are small on purpose (the whole file runs in well under a minute)."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.pipeline import run_scenario
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.yamlread import read_yaml

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
SETTINGS = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FEW = settings(SETTINGS, max_examples=2)
seeds = st.integers(min_value=0, max_value=2**31 - 1)


def instant_sync(path: Path) -> list[dict]:
    """The file's sync links made instant and lossless: every link `mode: stream` with latency 0, no
    failures, no outages (the apply rule is kept)."""
    links = read_yaml(path).data["sync"]
    return [{k: v for k, v in link.items() if k in ("name", "from", "to", "fields", "apply")} for link in links]


def _no_ties(people: list[list[float]]) -> list[list[float]]:
    """Give every scripted time its own sub-second offset, so no two happenings share an instant (which
    one goes first at one instant is an ordering question, not what these properties are about)."""
    return [[t + 0.001 * (i + 1) + 0.00001 * (j + 1) for j, t in enumerate(ts)] for i, ts in enumerate(people)]


# ---------------------------------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
@FEW
@given(seed=seeds)
def test_same_seed_same_bytes_other_seed_differs(path, seed):
    """Determinism: the same scenario and seed give byte-identical events.parquet; another seed differs."""
    # Determinism: the same scenario and seed give a byte-identical events.parquet (and findings.csv); another
    # seed gives a different log (200 customers).
    sc = load_scenario(path)
    with tempfile.TemporaryDirectory() as tmp:
        for name, s in (("a", seed), ("b", seed), ("c", seed + 1)):
            run_scenario(sc, seed=s, customers=200, out=Path(tmp) / name)
        a, b, c = (Path(tmp, name, "events.parquet").read_bytes() for name in "abc")
        assert a == b
        assert a != c
        assert Path(tmp, "a", "findings.csv").read_bytes() == Path(tmp, "b", "findings.csv").read_bytes()


# ---------------------------------------------------------------------------------------------------- zero lag


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
@FEW
@given(seed=seeds)
def test_zero_lag_bundled_scenarios_read_truth(path, seed):
    """With instant lossless links no decision/render/consent check in a bundled scenario reads other than truth."""
    # With every link instant and lossless, no decision, render or consent check in a bundled scenario reads a
    # replica value/version different from truth (150 generated customers).
    sc = load_scenario(path, {"sync": instant_sync(path)})
    ev = run_scenario(sc, seed=seed, customers=150).events()
    reads = ev[ev["kind"].isin(["decision", "render", "consent-check"]) & ev["field"].notna()]
    assert len(reads) > 0
    stale = reads[(reads["version"] != reads["truth_version"]) | (reads["value"].fillna("<none>")
                                                                   != reads["truth_value"].fillna("<none>"))]
    assert stale.empty, stale[["t", "customer", "kind", "step", "system", "field", "value", "truth_value"]].head()


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
  - {from: esp, to: cdp, fields: [events, consent]}
  - {from: sms, to: cdp, fields: [events, consent]}
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
          - {when: "tier == 'gold' and opted_in('sms')", goto: text}
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

minutes = st.integers(0, 3 * 24 * 60)
zero_lag_person = st.fixed_dictionaries({
    "go": st.lists(minutes, min_size=1, max_size=4),
    "gold": st.lists(minutes, max_size=2),
    "unsubscribe": st.lists(minutes, max_size=1),     # at crm: crm -> cdp -> esp/sms
    "opt_out:email": st.lists(minutes, max_size=1),   # at the esp itself (footer link)
    "opt_out:sms": st.lists(minutes, max_size=1),     # at the sms gateway (STOP reply)
})


def zero_lag_people(draw: list[dict[str, list[int]]]) -> list[ScriptedCustomer]:
    out = []
    for i, p in enumerate(draw):
        names = [name for name in sorted(p) for _ in p[name]]
        stamps = _no_ties([[m * 60.0 for name in sorted(p) for m in p[name]]])[0]
        stamps = [s + 0.01 * i for s in stamps]
        out.append(ScriptedCustomer(f"p{i}", consent={"email": True, "sms": True}, timezone="UTC",
                                    events=tuple(sorted(zip(stamps, names)))))
    return out


@SETTINGS
@given(st.lists(zero_lag_person, min_size=1, max_size=6))
def test_zero_lag_scripted_customers_read_truth(draw):
    """With instant lossless links every decision, render and consent check reads exactly truth."""
    # Instant, lossless links and random scripted histories: every decision, render and consent check reads
    # exactly truth's value and version.
    ev = run_scenario(load_scenario_text(ZERO_LAG), scripted=zero_lag_people(draw)).events()
    reads = ev[ev["kind"].isin(["decision", "render", "consent-check"]) & ev["field"].notna()]
    assert (reads["version"] == reads["truth_version"]).all()
    assert (reads["value"].fillna("") == reads["truth_value"].fillna("")).all()


# ---------------------------------------------------------------------------------------------------- opt-outs


def _opt_out_times(customer: ScriptedCustomer) -> dict[str, float]:
    """First true opt-out per channel: crm unsubscribes (both channels) and channel-side opt-outs."""
    first: dict[str, float] = {}
    for t, name in customer.events:
        channels = ("email", "sms") if name == "unsubscribe" else (name[8:],) if name.startswith("opt_out:") else ()
        for ch in channels:
            first[ch] = min(first.get(ch, t), t)
    return first


@SETTINGS
@given(st.lists(zero_lag_person, min_size=1, max_size=6))
def test_nobody_is_messaged_after_opting_out_when_sync_is_instant(draw):
    """With zero sync latency nobody gets a delivery on a channel after truly opting out of it."""
    # Zero sync latency (and zero delivery delay): no delivery on a channel after the customer truly opted out
    # of it, whether at the crm (multi-hop) or at the channel; every delivery has truth opted in.
    customers = zero_lag_people(draw)
    ev = run_scenario(load_scenario_text(ZERO_LAG), scripted=customers).events()
    delivered = ev[ev["kind"] == "delivered"]
    for c in customers:
        mine = delivered[delivered["customer"] == c.name]
        for channel, t in _opt_out_times(c).items():
            assert (mine[mine["channel"] == channel]["t"] < t).all()
    assert (delivered["truth_value"] == "true").all()


CART = ROOT / "scenarios" / "cart_abandonment.yaml"
cart_person = st.fixed_dictionaries({
    "cart_abandoned": st.lists(st.integers(0, 10 * 24 * 60), min_size=1, max_size=3),
    "loyalty_join": st.lists(st.integers(0, 10 * 24 * 60), max_size=1),
    "preference_optout": st.lists(st.integers(0, 10 * 24 * 60), max_size=1),   # crm: email
    "opt_out:email": st.lists(st.integers(0, 10 * 24 * 60), max_size=1),
    "opt_out:sms": st.lists(st.integers(0, 10 * 24 * 60), max_size=1),
})


@SETTINGS
@given(st.lists(cart_person, min_size=1, max_size=5), st.sampled_from(["America/New_York", "Asia/Tokyo"]))
def test_bundled_cart_scenario_never_messages_opted_out_customers_when_sync_is_instant(draw, zone):
    """cart_abandonment with instant sync never delivers on a channel after a true opt-out."""
    # cart_abandonment with instant links and no delivery delay: scripted customers with random carts, loyalty
    # joins and opt-outs (crm preference centre, ESP link, SMS STOP) get nothing on a channel after truly opting
    # out of it.
    overrides = {"sync": instant_sync(CART), "systems.esp.delivery_delay": 0, "systems.sms.delivery_delay": 0}
    sc = load_scenario(CART, overrides)
    customers = []
    for i, p in enumerate(draw):
        names = [name for name in sorted(p) for _ in p[name]]
        stamps = [m * 60.0 + 0.001 * (i + 1) + 0.00001 * (j + 1)
                  for j, m in enumerate(m for name in sorted(p) for m in p[name])]
        customers.append(ScriptedCustomer(f"p{i}", attributes={"stage": "A"}, consent={"email": True, "sms": True},
                                          timezone=zone, events=tuple(sorted(zip(stamps, names)))))
    ev = run_scenario(sc, customers=0, scripted=customers).events()
    delivered = ev[ev["kind"] == "delivered"]
    for c in customers:
        first: dict[str, float] = {}
        for t, name in c.events:
            ch = "email" if name == "preference_optout" else name[8:] if name.startswith("opt_out:") else None
            if ch:
                first[ch] = min(first.get(ch, t), t)
        mine = delivered[delivered["customer"] == c.name]
        for ch, t in first.items():
            assert (mine[mine["channel"] == ch]["t"] < t).all()
    assert (delivered["truth_value"] == "true").all()


# ---------------------------------------------------------------------------------------------------- caps

CHANNELS = {"email": "e", "sms": "s", "push": "p"}


@st.composite
def cap_scenarios(draw):
    """A scenario with 2-4 journeys of random waits and sends on three channels, and random caps."""
    caps = draw(st.lists(st.fixed_dictionaries({
        "channel": st.sampled_from(["any", "email", "sms", "push"]),
        "max": st.integers(1, 3),
        "per": st.sampled_from(["2h", "6h", "1d", "2d"]),
        "window": st.sampled_from(["sliding", "sliding", "calendar"]),
    }), min_size=1, max_size=3))
    for cap in caps:
        if cap["window"] == "calendar" and not cap["per"].endswith("d"):
            cap["per"] = "1d"
    on_cap = draw(st.sampled_from(["drop", "defer"]))
    journeys = []
    for j in range(draw(st.integers(2, 4))):
        steps = []
        for k in range(draw(st.integers(1, 5))):
            if draw(st.booleans()):
                steps.append(f"      - {{id: w{k}, wait: {draw(st.integers(0, 36 * 60))}m}}")
            else:
                steps.append(f"      - {{id: s{k}, send: {CHANNELS[draw(st.sampled_from(sorted(CHANNELS)))]}}}")
        steps.append("      - {id: last, send: e}")
        journeys.append(f"  - name: j{j}\n    reads_from: cdp\n    entry: {{event: go}}\n    re_entry: true\n"
                        "    steps:\n" + "\n".join(steps))
    cap_lines = "\n".join(f"    - {{channel: {c['channel']}, max: {c['max']}, per: {c['per']}, window: {c['window']}}}"
                          for c in caps)
    text = f"""\
scenario: caps
start: 2026-12-01T00:00:00Z
duration: 6d
population:
  size: 0
  events:
    - {{name: go, origin: web, once: {{probability: 1, at: {{fixed: 0s}}}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
  sms: {{kind: channel, channel: sms}}
  push: {{kind: channel, channel: push}}
sync:
  - {{from: web, to: cdp, fields: [events]}}
policies:
  consent_required: []
  on_cap: {on_cap}
  cap_counter_lag: 0s
  frequency_caps:
{cap_lines}
messages:
  e: {{channel: email, body: "e"}}
  s: {{channel: sms, body: "s"}}
  p: {{channel: push, body: "p"}}
journeys:
""" + "\n".join(journeys) + "\n"
    return text, caps


DURATIONS = {"2h": 7200.0, "6h": 21600.0, "1d": 86400.0, "2d": 172800.0}


@SETTINGS
@given(cap_scenarios(), st.lists(st.lists(st.integers(0, 4 * 24 * 60), min_size=1, max_size=4), min_size=1, max_size=3),
       st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]))
def test_caps_hold_in_every_window_when_counters_do_not_lag(spec, entries, zone):
    """With cap_counter_lag 0 no cap window (sliding or calendar) ever holds more deliveries than its max."""
    # cap_counter_lag 0, no delivery delay: for every cap, no sliding window (t - per, t] and no run of `per`
    # local calendar days ever holds more deliveries than its max, with drop or defer.
    text, caps = spec
    stamps = _no_ties([[m * 60.0 for m in ts] for ts in entries])
    people = [ScriptedCustomer(f"p{i}", timezone=zone, events=tuple((t, "go") for t in sorted(ts)))
              for i, ts in enumerate(stamps)]
    ev = run_scenario(load_scenario_text(text), scripted=people).events()
    delivered = ev[ev["kind"] == "delivered"]
    start = datetime(2026, 12, 1, tzinfo=timezone.utc)
    tz = ZoneInfo(zone)
    for _, mine in delivered.groupby("customer"):
        for cap in caps:
            rows = mine if cap["channel"] == "any" else mine[mine["channel"] == cap["channel"]]
            t_all = sorted(rows["t"])
            per = DURATIONS[cap["per"]]
            for t in t_all:
                if cap["window"] == "sliding":
                    inside = [u for u in t_all if u <= t < u + per]  # the engine's own float form of (t - per, t]
                else:
                    day = (start + timedelta(seconds=t)).astimezone(tz).date()
                    first_day = day - timedelta(days=int(per // 86400) - 1)
                    inside = [u for u in t_all if first_day <= (start + timedelta(seconds=u)).astimezone(tz).date() <= day]
                assert len(inside) <= cap["max"], (cap, t, inside)
