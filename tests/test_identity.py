"""One person, several profiles (docs/identity.md): hand-built scenarios with exact counts, the profile
share at 20k persons, ids, attribution, bad input through the CLI, trace and report.

Conventions: the scenario starts 2026-12-01T00:00:00Z; times are after the start. Population size 0
and scripted persons: a scripted customer named ``<person>-p2`` is the second profile of the scripted
customer ``<person>`` and is created by its first scripted event. Systems: web (source: cart, visit),
crm (unsubscribe, which opts out of email), cdp (identity resolution, every journey reads it), esp
(email, zero delivery delay). Sync: web->cdp events at once; crm->cdp consent 10m; cdp->esp consent at
once. Merge latencies are fixed, so every time below is exact.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.cli import cli
from simulator.pipeline import RunResult, run_scenario
from simulator.findings.aggregate import wilson
from simulator.engine.population import ScriptedCustomer, build_population, child_rng, exogenous_schedule
from simulator.scenario.load import load_scenario_text

H, M = 3600.0, 60.0

CONSENT_SYNC = "  - {from: crm, to: cdp, fields: [consent], latency: {fixed: 10m}}\n"


def id_scenario(*, latency: str = "2h", never: float = 0, steps: str = "[{id: w, wait: 1h}, {id: s, send: m}]",
                policies: str = "", consent_sync: str = CONSENT_SYNC, identity: str | None = None,
                size: int = 0, events: str = "", duration: str = "2d") -> str:
    identity = identity or (f"{{profiles: {{fixed: 1}}, merge: {{at: cdp, latency: {{fixed: {latency}}}, "
                            f"never: {never}}}}}")
    return f"""\
scenario: identity
start: 2026-12-01T00:00:00Z
duration: {duration}
population:
  size: {size}
  identity: {identity}
  events:
    - {{name: cart, origin: web, once: {{probability: 1, at: {{fixed: 0s}}}}}}
    - {{name: visit, origin: web, once: {{probability: 1, at: {{fixed: 0s}}}}}}
    - {{name: unsubscribe, origin: crm, once: {{probability: 1, at: {{fixed: 0s}}}}, opts_out: [email]}}
{events}systems:
  web: {{kind: source}}
  crm: {{kind: crm}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
sync:
  - {{from: web, to: cdp, fields: [events]}}
{consent_sync}  - {{from: cdp, to: esp, fields: [consent]}}
policies:
  consent_required: [email]
{policies}
messages:
  m: {{channel: email, body: "Your cart"}}
journeys:
  - name: cart
    reads_from: cdp
    entry: {{event: cart}}
    steps: {steps}
"""


def generated(text: str, carts_per_day: float) -> str:
    """The scenario for generated persons: carts as a Poisson process, no visit or unsubscribe (their
    ``once`` at 0 is for scripted persons)."""
    return (text.replace("- {name: cart, origin: web, once: {probability: 1, at: {fixed: 0s}}}",
                         f"- {{name: cart, origin: web, poisson: {{rate_per_day: {carts_per_day}}}}}")
            .replace("visit, origin: web, once: {probability: 1", "visit, origin: web, once: {probability: 0")
            .replace("crm, once: {probability: 1", "crm, once: {probability: 0"))


def who(name: str, *events: tuple[float, str]) -> ScriptedCustomer:
    """A scripted profile opted in to email, with its events (seconds after the start, event name)."""
    return ScriptedCustomer(name, consent={"email": True}, events=tuple(events))


def run(text: str, *people: ScriptedCustomer) -> RunResult:
    return run_scenario(load_scenario_text(text), seed=1, scripted=list(people))


def run_case(case: tuple[str, list[ScriptedCustomer]]) -> RunResult:
    text, people = case
    return run(text, *people)


def of_kind(result: RunResult, kind: str) -> pd.DataFrame:
    f = result.findings
    return f[f["kind"] == kind].reset_index(drop=True) if not f.empty else f


def log(result: RunResult, kind: str) -> pd.DataFrame:
    ev = result.events()
    return ev[ev["kind"] == kind].reset_index(drop=True)


# --------------------------------------------------------------------------- the three kinds, with twins


def duplicate_case(latency: str):
    """Journey cart (reads cdp): wait 1h, send m; re-entry off. Every first profile carts at 0 except fen.

    Each p2 is created by its first event and merged ``latency`` later. With 2h:
    - ana-p2: cart 30m creates it (merge 2h30m); it enters at 30m and gets m at 1h30m, after ana's m at
      1h -> a duplicate on ana-p2.
    - bob-p2: visit 0 creates it (merge 2h); cart 1h30m enters; the merge at 2h ends the instance before
      its send at 2h30m -> none.
    - cy-p2: visit 0 (merge 2h); cart 30m enters, m at 1h30m, before the merge -> a duplicate on cy-p2.
    - dee-p2: visit 0 (merge 2h); cart 3h: merged, it cannot enter -> none.
    - fen-p2: cart 0 creates it (merge 2h), m at 1h; fen carts at 30m, m at 1h30m -> a duplicate on fen.
    N = 3 persons (ana, cy, fen). With 0s every p2 is merged the instant it is created, before its own
    cart reaches cdp, so no p2 ever enters; fen (cart 30m) gets m once -> 0."""
    people = [who("ana", (0, "cart")), who("ana-p2", (30 * M, "cart")),
              who("bob", (0, "cart")), who("bob-p2", (0, "visit"), (90 * M, "cart")),
              who("cy", (0, "cart")), who("cy-p2", (0, "visit"), (30 * M, "cart")),
              who("dee", (0, "cart")), who("dee-p2", (0, "visit"), (3 * H, "cart")),
              who("fen", (30 * M, "cart")), who("fen-p2", (0, "cart"))]
    return id_scenario(latency=latency), people


def over_contact_case(latency: str):
    """Journey cart sends m at entry; cap email max 1 per 1d (sliding), counted per profile until a merge.

    ana carts at 0 (m at 0); ana-p2 carts at 2h, which creates it. With a 1d latency it merges at 26h, so
    at 2h its own counter is empty: m goes out; the person has 2 in one day, the profile 1 -> 1 finding.
    bob carts at 0, bob-p2 at 25h: the window (1h, 25h] holds only bob-p2's -> none. N = 1.
    With 0s each p2 is merged the instant it is created and never enters -> 0."""
    people = [who("ana", (0, "cart")), who("ana-p2", (2 * H, "cart")),
              who("bob", (0, "cart")), who("bob-p2", (25 * H, "cart"))]
    return id_scenario(latency=latency, steps="[{id: s, send: m}]",
                       policies="  frequency_caps: [{channel: email, max: 1, per: 1d}]"), people


def consent_split_case(latency: str):
    """Journey cart sends m at entry. unsubscribe (crm, opts out of email) reaches cdp 10m later, then esp.

    - ana unsubscribes at 0; ana-p2 carts at 1h and gets m on its own opt-in -> 1 finding.
    - bob-p2 unsubscribes at 0 (which creates it); bob carts at 1h and gets m -> 1 finding.
    - cy unsubscribes at 0 and carts at 1h: esp holds cy's own opt-out since 10m: suppressed -> none.
    N = 2 with a 1d latency (no merge in the run). With 0s: ana-p2 is merged when its cart creates it
    and never enters; bob-p2 is merged at 0, cdp holds its opt-out from 10m, so bob's send at 1h is
    suppressed ('identity: cdp holds an opt-out of email on bob-p2') -> 0."""
    people = [who("ana", (0, "unsubscribe")), who("ana-p2", (H, "cart")),
              who("bob", (H, "cart")), who("bob-p2", (0, "unsubscribe")),
              who("cy", (0, "unsubscribe"), (H, "cart"))]
    return id_scenario(latency=latency, steps="[{id: s, send: m}]"), people


#: Cases of tests/test_findings_kinds.py's table: (kind, builder, fire, N, twin).
IDENTITY_CASES = [
    ("identity-duplicate-send", duplicate_case, "2h", 3, "0s"),
    ("identity-over-contact", over_contact_case, "1d", 1, "0s"),
    ("identity-consent-split", consent_split_case, "1d", 2, "0s"),
]


def test_duplicate_send_exact_customers_times_and_causes():
    """The three duplicates of duplicate_case (docstring): on ana-p2 and cy-p2 at 1h30m, on fen at 1h30m;
    causes name the merge that came too late; the plain duplicate-send kind does not fire."""
    result = run_case(duplicate_case("2h"))
    found = of_kind(result, "identity-duplicate-send")
    assert sorted(zip(found["customer"], found["t"])) == [("ana-p2", 90 * M), ("cy-p2", 90 * M), ("fen", 90 * M)]
    ana = found[found["customer"] == "ana-p2"].iloc[0]
    assert ana["message"] == "ana got m on ana-p2 after it reached them on ana at 2026-12-01 01:00 (cart)"
    assert ana["root_cause"] == ("ana-p2 was created 2026-12-01 00:30 and merged into ana at cdp only at "
                                 "2026-12-01 02:30, 2h later (merge.latency Fixed(2h)); this send was decided "
                                 "1h before the merge")
    assert ana["profiles"] == "ana, ana-p2" and ana["merge_latency_seconds"] == 2 * H
    assert of_kind(result, "duplicate-send").empty
    exits = log(result, "exit")
    assert exits[exits["customer"] == "bob-p2"]["detail"].tolist() == ["identity: merged into bob at cdp"]
    skips = log(result, "entry-skip")
    assert skips[skips["customer"] == "dee-p2"]["detail"].tolist() == ["identity: merged into dee at cdp "
                                                                       "2026-12-01 02:00"]
    merges = log(result, "identity-merge")
    assert sorted(zip(merges["customer"], merges["t"], merges["value"])) == [
        ("ana-p2", 150 * M, "ana"), ("bob-p2", 2 * H, "bob"), ("cy-p2", 2 * H, "cy"), ("dee-p2", 2 * H, "dee"),
        ("fen-p2", 2 * H, "fen")]


def test_instant_merge_twin_sends_each_person_once():
    """The 0s twin of duplicate_case: every first profile gets m once (fen at 1h30m, the others at 1h)
    and no p2 gets anything."""
    result = run_case(duplicate_case("0s"))
    d = log(result, "delivered")
    assert sorted(zip(d["customer"], d["t"])) == [("ana", H), ("bob", H), ("cy", H), ("dee", H), ("fen", 90 * M)]


def test_caps_count_the_person_after_the_merge():
    """Cap email max 1 per 1d. ana-p2: visit 0 creates it (merge 1h), cart 30m: m at 30m on ana-p2's
    own counter. The merge at 1h moves that send to ana's counter, so ana's cart at 2h is dropped by
    the cap. With a 1d latency nothing merges: ana gets m at 2h, an identity-over-contact finding."""
    people = [who("ana", (2 * H, "cart")), who("ana-p2", (0, "visit"), (30 * M, "cart"))]
    caps = "  frequency_caps: [{channel: email, max: 1, per: 1d}]"
    merged = run(id_scenario(latency="1h", steps="[{id: s, send: m}]", policies=caps), *people)
    d = log(merged, "delivered")
    assert list(zip(d["customer"], d["t"])) == [("ana-p2", 30 * M)]
    s = log(merged, "suppressed")
    assert list(zip(s["customer"], s["t"])) == [("ana", 2 * H)]
    assert s["detail"][0].startswith("frequency-cap: email max 1 per 1d (sliding); dropped")
    assert of_kind(merged, "identity-over-contact").empty
    apart = run(id_scenario(latency="1d", steps="[{id: s, send: m}]", policies=caps), *people)
    assert list(zip(log(apart, "delivered")["customer"], log(apart, "delivered")["t"])) == [
        ("ana-p2", 30 * M), ("ana", 2 * H)]
    found = of_kind(apart, "identity-over-contact")
    assert list(found["customer"]) == ["ana"]
    assert found["message"][0] == ("ana got 2 messages across ana, ana-p2 within one window of the cap email max 1 "
                                   "per 1d (sliding); ana alone got 1")


def test_consent_split_twin_suppresses_on_the_merged_opt_out():
    """consent_split_case with 0s: bob's send at 1h is suppressed by the opt-out cdp holds on bob-p2."""
    result = run_case(consent_split_case("0s"))
    s = log(result, "suppressed")
    bob = s[s["customer"] == "bob"]
    assert list(bob["t"]) == [H]
    assert bob["detail"].iloc[0].startswith("identity: cdp holds an opt-out of email on bob-p2, merged with bob "
                                            "into bob")
    assert of_kind(result, "missed-send").empty  # the merge's own suppressions are not missed sends


def test_consent_split_after_the_merge_when_cdp_never_learns_the_opt_out():
    """As the 0s twin, but no crm->cdp consent link: cdp never holds bob-p2's opt-out, so bob (merged
    with bob-p2 at 0) still gets m at 1h: one finding on bob, caused by what cdp did not hold. (ana-p2
    is merged at its creation and never enters; cy's own opt-out never reaches esp, so cy gets m too,
    a plain consent-violation.)"""
    text, people = consent_split_case("0s")
    result = run(text.replace(CONSENT_SYNC, ""), *people)
    found = of_kind(result, "identity-consent-split")
    assert list(zip(found["customer"], found["t"])) == [("bob", H)]
    assert found["root_cause"][0] == (
        "the opt-out was made on bob-p2 only; bob-p2 was merged into bob at cdp 2026-12-01 00:00, before this send "
        "was decided, but cdp did not hold the opt-out of bob-p2 when the send was decided (it reaches cdp only "
        "over its sync links)")
    assert found["severity"][0] == "error"


def test_never_merged_share_is_the_root_cause():
    """duplicate_case with never: 1 (latency 2h unused): no merge at all, so bob-p2 and dee-p2 get m too
    (1h after their carts at 1h30m and 3h) -> 5 persons; the cause says the profile is in the never share."""
    text, people = duplicate_case("2h")
    result = run(text.replace("never: 0}", "never: 1}"), *people)
    found = of_kind(result, "identity-duplicate-send")
    assert sorted(found["customer"]) == ["ana-p2", "bob-p2", "cy-p2", "dee-p2", "fen"]
    assert log(result, "identity-merge").empty
    dee = found[found["customer"] == "dee-p2"].iloc[0]
    assert dee["t"] == 4 * H
    assert dee["root_cause"] == ("dee-p2 (created 2026-12-01 00:00) was never merged into dee: in the share never "
                                 "merged (merge.never 1)")


def test_journey_reading_another_system_does_not_see_the_merge():
    """A journey reading crm: the merge at cdp does not stop it. ana carts at 0, ana-p2 (created by its
    cart at 30m, merged at 30m with 0s) at 2h: both enter and get m 1h later (1h, 3h) -> 1 finding whose
    cause names the journey's reads_from."""
    text = id_scenario(latency="0s").replace("reads_from: cdp", "reads_from: crm").replace(
        "  - {from: web, to: cdp, fields: [events]}", "  - {from: web, to: crm, fields: [events]}")
    result = run(text, who("ana", (0, "cart")), who("ana-p2", (30 * M, "visit"), (2 * H, "cart")))
    found = of_kind(result, "identity-duplicate-send")
    assert list(zip(found["customer"], found["t"])) == [("ana-p2", 3 * H)]
    assert found["root_cause"][0] == ("ana-p2 was merged into ana at cdp 2026-12-01 00:30, before this send was "
                                      "decided, but cart reads from crm, which does not see the merge")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(created=st.integers(0, 20 * 60), latency=st.integers(0, 180))
def test_duplicate_iff_the_merge_comes_after_the_second_send(created, latency):
    """ana carts at 0 (m at 1h); ana-p2 is created by its cart at ``created`` minutes and merged
    ``latency`` minutes later; its m is due 1h after its cart. It reaches ana-p2 (one
    identity-duplicate-send) exactly when the merge comes after that send: latency > 60 minutes (at 60
    the merge, first in its instant, ends the instance before the send)."""
    text = id_scenario(latency=f"{latency}m")
    result = run(text, who("ana", (0, "cart")), who("ana-p2", (created * M, "cart")))
    found = of_kind(result, "identity-duplicate-send")
    assert len(found) == (1 if latency > 60 else 0), (created, latency)
    merges = log(result, "identity-merge")
    assert list(merges["t"]) == [(created + latency) * M]


def test_a_profile_is_in_no_segment_before_it_is_created():
    """A segment journey (every customer, re-evaluated every 1d at 0 and 1d; merge never): at 0 only ana
    exists (ana-p2 is created by its visit at 1h), so only ana enters; at 1d ana may not re-enter and
    ana-p2 enters. Entries: ana at 0, ana-p2 at 1d."""
    text = id_scenario(never=1).replace("entry: {event: cart}", 'entry: {segment: "true", every: 1d}')
    result = run(text, who("ana"), who("ana-p2", (H, "visit")))
    entries = log(result, "entry")
    assert list(zip(entries["customer"], entries["t"])) == [("ana", 0.0), ("ana-p2", 86400.0)]


# --------------------------------------------------------------------------- generated persons


SHARE = id_scenario(identity="{profiles: {choice: {1: 0.9, 2: 0.1}}, merge: {at: cdp, latency: {fixed: 1d}}}",
                    size=20000, events="    - {name: browse, origin: web, poisson: {rate_per_day: 1}}\n")


def test_profile_share_and_ids_at_20k():
    """{choice: {1: 0.9, 2: 0.1}} over 20,000 persons: the share with two profiles is inside its 99%
    Wilson interval around 0.1 (+-0.0055); first profiles keep c000001..c020000, the extras are
    <person>-p2, placed after them, with their person's attributes and zone."""
    sc = load_scenario_text(SHARE)
    pop = build_population(sc, np.random.default_rng(5))
    extra = [cid for cid in pop.ids if cid.endswith("-p2")]
    assert pop.persons == 20000 and pop.size == 20000 + len(extra)
    assert pop.ids[:3] == ["c000001", "c000002", "c000003"] and pop.ids[19999] == "c020000"
    assert pop.ids[20000:] == extra and all(cid[:7] in set(pop.ids[:20000]) for cid in extra)
    low, high = wilson(len(extra), 20000, z=2.5758293035489)
    assert low <= 0.1 <= high, (len(extra), low, high)
    first = pop.ids.index(extra[0][:7])
    assert pop.zone[20000] == pop.zone[first] and pop.index_of(extra[0]) == 20000
    assert pop.profiles.person[20000] == first and pop.profiles.number[20000] == 2
    with pytest.raises(KeyError):
        pop.index_of("c020001")


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10**6), three=st.floats(0, 0.5), latency=st.sampled_from(["0s", "3h", "1d"]))
def test_attribution_keeps_each_persons_events(seed, three, latency):
    """Identity moves each occurrence to one of the person's profiles and never changes how many a
    person has or when: the schedule mapped back to persons equals the schedule without identity;
    each extra profile is created by its first event and gets none once merged."""
    spec = (f"  identity: {{profiles: {{choice: {{1: 0.5, 2: {0.5 - three / 2}, 3: {three / 2}}}}}, "
            f"merge: {{at: cdp, latency: {{fixed: {latency}}}}}}}\n")
    text = generated(SHARE.replace("size: 20000", "size: 300"), 2)
    with_identity = load_scenario_text(text.replace(
        "  identity: {profiles: {choice: {1: 0.9, 2: 0.1}}, merge: {at: cdp, latency: {fixed: 1d}}}\n", spec))
    without = load_scenario_text(text.replace(
        "  identity: {profiles: {choice: {1: 0.9, 2: 0.1}}, merge: {at: cdp, latency: {fixed: 1d}}}\n", ""))
    a_pop = build_population(with_identity, child_rng(seed, "population"))
    b_pop = build_population(without, child_rng(seed, "population"))
    a = exogenous_schedule(with_identity, a_pop, child_rng(seed, "exogenous"), horizon=2 * 86400.0)
    b = exogenous_schedule(without, b_pop, child_rng(seed, "exogenous"), horizon=2 * 86400.0)
    assert a_pop.ids[:300] == b_pop.ids and (a_pop.zone[:300] == b_pop.zone).all()
    persons = a_pop.profiles.person[a.customers]
    assert sorted(zip(a.times.tolist(), persons.tolist(), a.events.tolist())) == \
        sorted(zip(b.times.tolist(), b.customers.tolist(), b.events.tolist()))
    moved = a.customers >= 300
    created = a_pop.profiles.created
    for q in np.unique(a.customers[moved]).tolist():  # each extra profile is created by its first event
        mine = a.times[a.customers == q]
        assert created[q] == mine.min()
        assert (mine < a_pop.profiles.merge_time(q)).all()  # and gets none once merged
    if latency == "0s":
        assert not moved.any()  # merged the instant it would be created: never gets an event


def test_generated_run_finds_fragmentation_and_is_deterministic():
    """A generated 300-person cart run: identity findings appear, and the same seed gives the same log."""
    text = generated(id_scenario(
        identity="{profiles: {choice: {1: 0.5, 2: 0.5}}, merge: {at: cdp, latency: {fixed: 6h}}}", size=300,
        duration="3d", events="    - {name: browse, origin: web, poisson: {rate_per_day: 0.5}}\n"), 1)
    first = run_scenario(load_scenario_text(text), seed=3)
    again = run_scenario(load_scenario_text(text), seed=3)
    assert first.events().equals(again.events())
    assert len(of_kind(first, "identity-duplicate-send")) > 0
    table = first.customer_table()
    assert set(table.columns) >= {"person", "profile"}
    assert (table.loc[table["profile"] == 2, "customer"] == table.loc[table["profile"] == 2, "person"] + "-p2").all()


def test_response_events_belong_to_the_person():
    """A response event (docs/response.md: purchase, lifted x20 for 1d by each delivery of m) runs once
    per person, on its first profile; a delivery to the second profile lifts the person's rate."""
    text = generated(id_scenario(
        identity="{profiles: {fixed: 2}, merge: {at: cdp, never: 1}}", size=300, duration="4d",
        steps="[{id: s, send: m}]",
        events="    - {name: purchase, origin: web, poisson: {rate_per_day: 0.05}, "
               "response: [{to: m, multiply: 20, for: 1d}]}\n"), 1)
    result = run_scenario(load_scenario_text(text), seed=2)
    ev = result.events()
    buys = ev[(ev["kind"] == "event") & (ev["field"] == "purchase")]
    assert len(buys) > 0 and not buys["customer"].str.contains("-p").any()
    d = ev[ev["kind"] == "delivered"]
    stamps = {(c, f"{t:%Y-%m-%d %H:%M}") for c, t in zip(d["customer"], d["ts"])}
    lifted_by_p2 = [c for c, detail in zip(buys["customer"], buys["detail"])
                    for stamp in re.findall(r"m delivered (\S+ \S+) x20", str(detail))
                    if (f"{c}-p2", stamp) in stamps and (c, stamp) not in stamps]
    assert lifted_by_p2, "no purchase was lifted by a delivery to the second profile"


# --------------------------------------------------------------------------- bad input, CLI, trace, report


@pytest.mark.parametrize("identity, expected", [
    ("{profiles: {fixed: 2}, merge: {at: cpd}}",
     "population.identity.merge.at: unknown system 'cpd'; did you mean 'cdp'?"),
    ("{profiles: {fixed: 2}, merge: {at: cdp, never: 1.5}}",
     "population.identity.merge.never: invalid probability 1.5: expected a number from 0 to 1"),
    ("{profiles: {choice: {0: 0.5, 2: 0.5}}}",
     "population.identity.profiles: profiles: 0 is not a number of profiles; expected whole numbers >= 1"),
    ("{profiles: {exponential: {mean: 2}}}",
     "population.identity.profiles: profiles: expected {choice: {1: 0.9, 2: 0.1}} or {fixed: 2}"),
    ("{profiles: {fixed: 2}, merge: {at: cdp, latenci: 1h}}",
     "population.identity.merge.latenci: unknown key 'latenci'"),
])
def test_bad_identity_exits_2_with_a_fix(tmp_path, identity, expected):
    """validate and run both exit 2 (not 1), name the key path and give the fix, without a traceback."""
    path = tmp_path / "bad.yaml"
    path.write_text(id_scenario(identity=identity))
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert expected in result.output, result.output
        assert "Traceback" not in result.output


def test_customer_limit_counts_every_profile(tmp_path):
    """1.9M persons with 1.25 profiles on average are about 2.375M customer rows: over the default
    max_customers (2M), so validate exits 2 and says so; without identity 1.9M passes that check."""
    path = tmp_path / "big.yaml"
    path.write_text(id_scenario(identity="{profiles: {choice: {1: 0.8, 2: 0.15, 3: 0.05}}}"))
    result = CliRunner().invoke(cli, ["validate", str(path), "--set", "population.size=1900000"])
    assert result.exit_code == 2, result.output
    assert "1,900,000 persons with their profiles (about 2,375,000 customers) is over the limit" in result.output


def test_scripted_profile_without_its_person_is_an_error():
    """A scripted 'zed-p2' with no scripted 'zed': a scenario error naming the fix."""
    from simulator.errors import ScenarioError

    with pytest.raises(ScenarioError, match="'zed-p2' is profile 2 of 'zed', but there is no scripted person 'zed'"):
        run(id_scenario(), who("zed-p2", (0, "cart")))


def test_cli_run_trace_shows_every_profile_and_report_has_the_person_row(tmp_path):
    """`journeysim run` then `trace --customer ana-p2`: the timeline holds both profiles' records (each
    line tagged) and both findings; the report's frequency figure is built with the per-person row."""
    from simulator.report.data import load_run
    from simulator.report.figures import per_person_weekly

    text, _people = duplicate_case("2h")
    sc = tmp_path / "id.yaml"
    sc.write_text(generated(text, 3).replace("size: 0", "size: 40").replace("{profiles: {fixed: 1}",
                                                                           "{profiles: {fixed: 2}"))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(sc), "--out", str(out), "--seed", "2"])
    assert result.exit_code in (0, 1), result.output
    found = pd.read_csv(out / "findings.csv")
    dup = found[found["kind"] == "identity-duplicate-send"]
    assert len(dup) > 0
    profile = dup["customer"].iloc[0]
    person = profile.split("-p")[0]
    traced = CliRunner().invoke(cli, ["trace", str(out), "--customer", profile])
    assert traced.exit_code == 0, traced.output
    assert f"person {person}: 2 profiles, {person}, {person}-p2" in traced.output
    assert f"[{person}] " in traced.output and f"[{person}-p2] " in traced.output
    assert f"identity-duplicate-send on {profile}" in traced.output
    run_data = load_run(out)
    weekly = per_person_weekly(run_data, run_data.weekly_counts())
    assert weekly is not None and set(weekly["person"]) <= set(run_data.customers["person"])
    per_profile = run_data.weekly_counts()
    assert weekly["messages"].sum() == per_profile["messages"].sum()
    assert 'id="fig-frequency"' in (out / "report.html").read_text()


def test_sharded_findings_pass_keeps_a_persons_profiles_together(tmp_path):
    """The findings pass split into customer shards (as large runs are) gives the same identity
    findings as one pass: every profile of a person goes to the same shard."""
    from simulator.analysis import analyse_log

    text = generated(id_scenario(
        identity="{profiles: {choice: {1: 0.4, 2: 0.4, 3: 0.2}}, merge: {at: cdp, latency: {fixed: 6h}}}",
        size=200, duration="3d", steps="[{id: s, send: m}]",
        policies="  frequency_caps: [{channel: email, max: 1, per: 1d}]"), 2)
    sc = load_scenario_text(text)
    result = run_scenario(sc, seed=4, out=tmp_path / "run")
    customers = result.customer_table()
    one = analyse_log(sc, tmp_path / "run" / "events.parquet", customers).findings
    many = analyse_log(sc, tmp_path / "run" / "events.parquet", customers, shard_customers=37, workers=1).findings
    kinds = ["identity-duplicate-send", "identity-over-contact"]
    assert (one["kind"].isin(kinds)).sum() > 0
    key = ["kind", "customer", "t", "message", "root_cause"]
    assert one[key].reset_index(drop=True).equals(many[key].reset_index(drop=True))


def test_gates_take_identity_kinds():
    """A --fail-on on an identity kind is accepted and judged like any kind."""
    from simulator.findings.gates import parse_fail_on

    gate = parse_fail_on("identity-duplicate-send>0")
    assert gate.kind == "identity-duplicate-send" and gate.op == "<=" and not math.isnan(gate.value)


def test_a_profile_that_never_opted_in_does_not_stop_the_merged_person():
    """bob opted in to email; bob-p2 never did (initial consent 'no', no opt-out: created by a visit at 0) and
    is merged at 0. bob carts at 1h: cdp holds no opt-out of bob-p2 (its consent never changed), so bob gets m
    at 1h; nothing is suppressed by identity."""
    people = [who("bob", (H, "cart")), ScriptedCustomer("bob-p2", consent={"email": False}, events=((0, "visit"),))]
    result = run(id_scenario(latency="0s", steps="[{id: s, send: m}]"), *people)
    d = log(result, "delivered")
    assert list(zip(d["customer"], d["t"])) == [("bob", H)]
    s = log(result, "suppressed")
    assert not s["detail"].astype(str).str.startswith("identity:").any()
