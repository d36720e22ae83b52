"""Engine rules pinned on tiny hand-checked scenarios.

Every expectation below (times, counts, values) was derived by hand from the scenario text, not by
running the engine. Conventions: the clock ``t`` is seconds after ``start``; customers are scripted
(``population.size: 0``) with explicit event times; latencies, batch durations and delivery delays
are fixed (the defaults are 0), so nothing here depends on the seed except the split test.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd
import pytest

from simulator.engine import Engine
from simulator.engine.events import EventLog
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario_text

S = 1.0
M = 60.0
H = 3600.0
D = 86400.0

# ---------------------------------------------------------------------------------------------------- helpers

#: One scenario skeleton for every rule: web (storefront), crm and pos (a second origin of `tier`)
#: feed the cdp the journeys read; esp (email) and sms are the channels. Every event has a harmless
#: ``once`` (size 0: no generated customer draws it); scripted customers say when events happen.
BASE = """\
scenario: rules
start: {start}
duration: {duration}
seed: 1
default_timezone: UTC
population:
  size: {size}
  attributes:
    stage: {{choice: {{A: 1.0}}}}
    tier: {{choice: {{bronze: 1.0}}}}
  events:
    - {{name: go, origin: web, once: {{probability: {go_probability}, at: {go_at}}}}}
    - {{name: purchase, origin: web, once: {{probability: 1, at: {{fixed: 0s}}}}}}
    - {{name: silver, origin: crm, once: {{probability: 1, at: {{fixed: 0s}}}}, sets: {{tier: silver}}}}
    - {{name: gold, origin: pos, once: {{probability: 1, at: {{fixed: 0s}}}}, sets: {{tier: gold}}}}
    - {{name: stage_up, origin: crm, once: {{probability: 1, at: {{fixed: 0s}}}}, sets: {{stage: B}}}}
    - {{name: unsub, origin: crm, once: {{probability: 1, at: {{fixed: 0s}}}}, opts_out: [email]}}
systems:
  web: {{kind: source}}
  crm: {{kind: crm}}
  pos: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email{esp}}}
  sms: {{kind: channel, channel: sms}}
sync:
{sync}
policies:
  consent_required: [email, sms]
{policies}
messages:
  m: {{channel: email, body: "Hi"}}
  m2: {{channel: email, body: "Thanks"}}
  t: {{channel: sms, body: "Hi. Reply STOP to opt out"}}
journeys:
{journeys}
"""

#: The entry event reaches the cdp at once (stream link, latency 0 by default).
GO = "  - {from: web, to: cdp, fields: [go]}"


def journey(steps: str, *, name: str = "j", exit_when: str | None = None, re_entry: str = "false") -> str:
    """One journey entered on `go`, reading the cdp; ``steps`` are YAML flow lines without indent."""
    lines = [f"  - name: {name}", "    reads_from: cdp", "    entry: {event: go}", f"    re_entry: {re_entry}"]
    if exit_when:
        lines.append(f"    exit_when: {exit_when}")
    lines.append("    steps:")
    lines += [f"      - {s}" for s in steps.strip().splitlines()]
    return "\n".join(lines)


def scenario(*, sync: Sequence[str] = (GO,), steps: str = "{id: w, wait: 1h}", journeys: str | None = None,
             policies: str = "", start: str = "2026-12-01T00:00:00Z", duration: str = "3d", size: int = 0,
             go_probability: float = 1, go_at: str = "{fixed: 0s}", esp: str = "") -> str:
    return BASE.format(start=start, duration=duration, size=size, go_probability=go_probability, go_at=go_at,
                       sync="\n".join(sync), policies=policies, esp=esp,
                       journeys=journeys if journeys is not None else journey(steps))


def person(*events: tuple[float, str], name: str = "ana", zone: str = "UTC", stage: str = "A") -> ScriptedCustomer:
    """A scripted customer opted in to email and SMS."""
    return ScriptedCustomer(name, attributes={"stage": stage, "tier": "bronze"}, consent={"email": True, "sms": True},
                            timezone=zone, events=tuple(events))


def simulate(text: str, *people: ScriptedCustomer, seed: int = 1) -> tuple[Engine, pd.DataFrame]:
    """Run the scenario in memory; the engine (for final replicas) and the event log."""
    sc = load_scenario_text(text)
    log = EventLog(None, sc.start)
    engine = Engine(sc, seed=seed, log=log, scripted=list(people))
    engine.run()
    log.close()
    return engine, log.to_pandas()


def rows(ev: pd.DataFrame, kind: str, **match: object) -> pd.DataFrame:
    out = ev[ev["kind"] == kind]
    for column, value in match.items():
        out = out[out[column] == value]
    return out


def times(ev: pd.DataFrame, kind: str, **match: object) -> list[float]:
    return rows(ev, kind, **match)["t"].tolist()


def replica(engine: Engine, system: str, customer: str, key: str):
    return engine.replicas[system].get_value(engine.population.index_of(customer), key)


# ---------------------------------------------------------------------------------------------------- sync links


def test_stream_link_fixed_latency_arrives_exactly_10m_later():
    """Stream link with latency {fixed: 10m}: a change at crm at 01:00 is applied at the cdp at 01:10."""
    text = scenario(sync=[GO, "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}}"])
    engine, ev = simulate(text, person((1 * H, "silver")))
    assert times(ev, "truth", field="tier") == [1 * H]
    arrival = rows(ev, "sync", system="cdp", field="tier")
    assert arrival["t"].tolist() == [1 * H + 10 * M]
    assert arrival[["value", "version", "truth_value", "truth_version"]].values.tolist() == [["silver", 1, "silver", 1]]
    assert arrival["detail"].iloc[0] == "link=crm->cdp; changed=2026-12-01 01:00; lag=10m"
    assert replica(engine, "cdp", "ana", "tier") == "silver"


def test_batch_every_4h_offset_1h_carries_a_0230_change_at_0500_plus_run_duration():
    """A 4-hourly batch with offset 1h carries a 02:30 change in the 05:00 run, landing at 05:00 + duration (05:10)."""
    # Batch every 4h, offset 1h runs at 01:00, 05:00, 09:00...; a change at 02:30 misses 01:00, leaves with the
    # 05:00 run and lands when the {fixed: 10m} run ends: 05:10.
    text = scenario(sync=[GO, "  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, "
                              "duration: {fixed: 10m}}"])
    _, ev = simulate(text, person((2.5 * H, "silver")))
    runs = rows(ev, "batch-run")
    assert runs["t"].tolist() == [d * D + h * H for d in range(3) for h in (1, 5, 9, 13, 17, 21)]  # 3 days
    assert runs["detail"].iloc[0] == "link=crm->cdp; records=0; duration=10m"
    assert runs["detail"].iloc[1] == "link=crm->cdp; records=1; duration=10m"
    assert times(ev, "sync", system="cdp", field="tier") == [5 * H + 10 * M]


def test_daily_batch_at_local_clock_time_across_spring_forward():
    """A daily batch `at: "02:00"` in New York runs at local 02:00, at the first valid instant on the spring-forward day."""
    # A batch `at: "02:00"` New York, 2026-03-06 to 03-10: 02:00 EST = 07:00Z on 03-06 and 03-07 (t 7h, 31h);
    # 02:00 does not exist on 03-08 (clocks jump to 03:00 EDT), so that run is at the first valid instant,
    # 07:00Z (t 55h); 02:00 EDT on 03-09 = 06:00Z (t 78h).
    text = scenario(start="2026-03-06T00:00:00Z", duration="4d",
                    sync=[GO, '  - {from: crm, to: cdp, fields: [tier], mode: batch, at: "02:00", '
                              'timezone: America/New_York}'])
    _, ev = simulate(text, person((H, "silver")))
    assert times(ev, "batch-run") == [7 * H, 31 * H, 55 * H, 78 * H]
    assert times(ev, "sync", field="tier") == [7 * H]


def test_multi_hop_paths_compose():
    """Multi-hop paths compose: crm -> cdp (batch) then cdp -> esp (stream) add up."""
    # crm -> cdp (4-hourly batch at 01:00, 05:00..., 10m runs) then cdp -> esp (stream, fixed 5m): a change at
    # 02:30 reaches the cdp at 05:10 and the esp at 05:15, not before.
    text = scenario(sync=[GO, "  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, "
                              "duration: {fixed: 10m}}",
                          "  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 5m}}"])
    _, ev = simulate(text, person((2.5 * H, "silver")))
    arrivals = rows(ev, "sync", field="tier")
    assert arrivals[["t", "system"]].values.tolist() == [[5 * H + 10 * M, "cdp"], [5 * H + 15 * M, "esp"]]
    assert arrivals["detail"].iloc[1] == "link=cdp->esp; changed=2026-12-01 02:30; lag=2h45m"


OUTAGE = "outages: [{{start: 2026-12-01T02:00:00Z, duration: 6h, on_outage: {action}}}]"


def test_stream_outage_queue_delivers_at_outage_end_plus_latency():
    """A stream outage with on_outage: queue delivers a change made during it at outage end + latency."""
    # Stream link (fixed 10m) down 02:00-08:00 with on_outage: queue: a change at 03:00 is queued at 03:00 and
    # applied at 08:00 + 10m = 08:10.
    link = "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, " + OUTAGE.format(action="queue") + "}"
    _, ev = simulate(scenario(sync=[GO, link]), person((3 * H, "silver")))
    queued = rows(ev, "sync-queued", field="tier")
    assert queued["t"].tolist() == [3 * H]
    assert queued["detail"].iloc[0] == "link=crm->cdp; outage until 2026-12-01 08:00"
    assert times(ev, "sync", system="cdp", field="tier") == [8 * H + 10 * M]
    assert rows(ev, "sync-lost").empty


def test_stream_outage_drop_never_delivers_and_names_the_outage():
    """A stream outage with on_outage: drop never delivers a change made during it; sync-lost names the outage."""
    # Stream link down 02:00-08:00 with on_outage: drop: a change at 03:00 never arrives; one sync-lost record
    # at 03:00 names the link and the outage window.
    link = "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, " + OUTAGE.format(action="drop") + "}"
    engine, ev = simulate(scenario(sync=[GO, link]), person((3 * H, "silver")))
    assert rows(ev, "sync", field="tier").empty
    lost = rows(ev, "sync-lost", field="tier")
    assert lost["t"].tolist() == [3 * H]
    assert lost["detail"].tolist() == ["link=crm->cdp; dropped in outage of crm->cdp (2026-12-01 02:00 for 6h)"]
    assert replica(engine, "cdp", "ana", "tier") == "bronze"


def test_stream_outage_only_affects_changes_sent_during_it():
    """A stream outage only affects changes sent during [start, end): in-flight ones land, later ones pass."""
    # A change at 01:55 over a stream link (fixed 10m) is already in flight when the 02:00 outage starts: it
    # lands at 02:05; a change at 08:00 (the outage end is exclusive) goes straight through: 08:10.
    link = "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, " + OUTAGE.format(action="drop") + "}"
    _, ev = simulate(scenario(sync=[GO, link]), person((115 * M, "silver"), (8 * H, "silver")))
    assert times(ev, "sync", system="cdp", field="tier") == [2 * H + 5 * M, 8 * H + 10 * M]
    assert rows(ev, "sync-lost").empty


def test_batch_outage_skip_misses_the_run_inside_it_and_the_next_run_carries_the_change():
    """A batch outage with skip misses the run inside it; the next scheduled run carries the change."""
    # 4-hourly batch (01:00, 05:00, 09:00; 10m runs) down 04:00-08:00, skip: a change at 02:00 waits, the 05:00
    # run is skipped (batch-skipped, 1 record waiting) and the 09:00 run lands it at 09:10.
    # (queue and drop make a catch-up run at 08:00 instead: tests/test_sync_outages.py)
    link = ("  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}, "
            "outages: [{start: 2026-12-01T04:00:00Z, duration: 4h, on_outage: skip}]}")
    _, ev = simulate(scenario(sync=[GO, link]), person((2 * H, "silver")))
    skipped = rows(ev, "batch-skipped")
    assert skipped["t"].tolist() == [5 * H]
    assert skipped["detail"].iloc[0] == ("link=crm->cdp; outage until 2026-12-01 08:00 (on_outage: skip); "
                                         "1 record waits for the next scheduled run at 2026-12-01 09:00")
    assert times(ev, "sync", system="cdp", field="tier") == [9 * H + 10 * M]


def test_batch_outage_drop_keeps_earlier_changes_for_the_catch_up_run():
    """A batch outage with drop loses only changes made while down; an earlier one rides the catch-up run."""
    # Same batch, on_outage: drop: the 02:00 change was queued before the outage, the 05:00 run is missed and
    # the catch-up run at the outage end (08:00) carries it: lands 08:10. Nothing is lost.
    link = ("  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}, "
            "outages: [{start: 2026-12-01T04:00:00Z, duration: 4h, on_outage: drop}]}")
    engine, ev = simulate(scenario(sync=[GO, link]), person((2 * H, "silver")))
    assert rows(ev, "sync-lost").empty
    assert times(ev, "sync", system="cdp", field="tier") == [8 * H + 10 * M]
    assert replica(engine, "cdp", "ana", "tier") == "silver"


def test_failure_rate_one_without_retry_loses_every_record():
    """failure_rate: 1 (no retry_after): the change at 01:00 is lost at once (sync-lost naming the rate)."""
    text = scenario(sync=[GO, "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, failure_rate: 1}"])
    _, ev = simulate(text, person((1 * H, "silver")))
    assert rows(ev, "sync", field="tier").empty
    lost = rows(ev, "sync-lost", field="tier")
    assert lost["t"].tolist() == [1 * H]
    assert lost["detail"].iloc[0] == "link=crm->cdp; record lost by crm->cdp (failure_rate 1)"


@pytest.mark.parametrize("apply, kind, final", [("arrival", "out-of-order", "silver"), ("version", "sync-skip", "gold")])
def test_apply_arrival_lets_an_older_version_win_apply_version_keeps_the_newer(apply, kind, final):
    """apply: arrival lets a late older version overwrite a newer one (out-of-order); apply: version keeps the newer (sync-skip)."""
    # Two origins of `tier`, so each change gets its own fixed latency deterministically: silver (version 1) at
    # crm at 00:00 over a 30m link, then gold (version 2) at pos at 00:10 over a 5m link. Gold lands first
    # (00:15); silver lands at 00:30 over it. apply: arrival overwrites gold with the older silver (out-of-
    # order); apply: version refuses it (sync-skip) and the cdp keeps gold.
    text = scenario(sync=[GO, f"  - {{from: crm, to: cdp, fields: [tier], latency: {{fixed: 30m}}, apply: {apply}}}",
                          f"  - {{from: pos, to: cdp, fields: [tier], latency: {{fixed: 5m}}, apply: {apply}}}"])
    engine, ev = simulate(text, person((0.0, "silver"), (10 * M, "gold")))
    assert rows(ev, "truth", field="tier")[["t", "value", "version"]].values.tolist() == [
        [0.0, "silver", 1], [10 * M, "gold", 2]]
    at_cdp = ev[(ev["system"] == "cdp") & (ev["field"] == "tier") & (ev["kind"] != "truth")]
    assert at_cdp[["t", "kind", "value", "version", "truth_value", "truth_version"]].values.tolist() == [
        [15 * M, "sync", "gold", 2, "gold", 2],
        [30 * M, kind, "silver", 1, "gold", 2],
    ]
    assert replica(engine, "cdp", "ana", "tier") == final
    if kind == "out-of-order":
        assert at_cdp["detail"].iloc[1].endswith("; overwrote newer version 2")
    else:
        assert at_cdp["detail"].iloc[1].endswith("; held version 2 is newer")


# ---------------------------------------------------------------------------------------------------- quiet hours

QUIET = 'quiet_hours: {{from: "21:00", to: "08:00", channels: [sms], action: {action}}}'
NY = "America/New_York"


@pytest.mark.parametrize("start, decided, released", [
    # 2026-12-01 22:00 EST (UTC-5) = 12-02 03:00Z (t 27h); 08:00 EST on 12-02 = 13:00Z (t 37h)
    pytest.param("2026-12-01T00:00:00Z", 27 * H, 37 * H, id="winter-EST"),
    # 2026-07-01 22:00 EDT (UTC-4) = 07-02 02:00Z (t 26h); 08:00 EDT on 07-02 = 12:00Z (t 36h)
    pytest.param("2026-07-01T00:00:00Z", 26 * H, 36 * H, id="summer-EDT"),
    # 2026-10-31 22:00 EDT = 11-01 02:00Z (t 26h); clocks fall back at 02:00 EDT on Sunday 11-01, so
    # 08:00 that morning is EST = 13:00Z (t 37h): an 11 h hold
    pytest.param("2026-10-31T00:00:00Z", 26 * H, 37 * H, id="across-fall-back"),
    # 2026-11-01 22:00 EST (already after the change) = 11-02 03:00Z (t 27h); 08:00 EST 11-02 = 13:00Z (t 37h)
    pytest.param("2026-11-01T00:00:00Z", 27 * H, 37 * H, id="day-of-fall-back-evening"),
    # 2026-03-07 22:00 EST = 03-08 03:00Z (t 27h); clocks spring forward at 02:00 EST on Sunday 03-08, so
    # 08:00 that morning is EDT = 12:00Z (t 36h): a 9 h hold
    pytest.param("2026-03-07T00:00:00Z", 27 * H, 36 * H, id="across-spring-forward"),
    # the repeated hour: 01:30 EDT on 11-01 = 05:30Z and 01:30 EST = 06:30Z; both wait for 08:00 EST = 13:00Z
    pytest.param("2026-11-01T00:00:00Z", 5.5 * H, 13 * H, id="ambiguous-0130-first"),
    pytest.param("2026-11-01T00:00:00Z", 6.5 * H, 13 * H, id="ambiguous-0130-second"),
])
def test_quiet_hours_hold_an_sms_until_0800_new_york(start, decided, released):
    """Quiet hours hold an SMS decided at night until 08:00 New York, in EST, EDT and across both DST changes."""
    # An SMS decided in quiet hours (21:00-08:00 New York) is held and delivered at 08:00 New York, in EST, in
    # EDT and across both DST changes (UTC instants computed by hand in the parameters).
    text = scenario(start=start, steps="{id: s, send: t}", policies="  " + QUIET.format(action="hold"))
    _, ev = simulate(text, person((decided, "go"), zone=NY))
    assert times(ev, "send") == [decided]
    assert times(ev, "held") == [decided]
    assert times(ev, "delivered") == [released]
    assert rows(ev, "suppressed").empty


@pytest.mark.parametrize("local, decided, released", [
    pytest.param("08:00 EST", 13 * H, 13 * H, id="0800-is-outside"),      # `to` is not inside
    pytest.param("07:59:59 EST", 13 * H - 1, 13 * H, id="0759-is-inside"),
    pytest.param("21:00 EST", 26 * H, 37 * H, id="2100-is-inside"),       # `from` is inside
    pytest.param("20:59:59 EST", 26 * H - 1, 26 * H - 1, id="2059-is-outside"),
])
def test_quiet_hours_boundaries(local, decided, released):
    """Quiet hours are [from, to): 21:00 local is inside, 08:00 local is not (winter, New York = UTC-5)."""
    text = scenario(steps="{id: s, send: t}", policies="  " + QUIET.format(action="hold"))
    _, ev = simulate(text, person((decided, "go"), zone=NY))
    assert times(ev, "delivered") == [released]
    assert len(rows(ev, "held")) == (decided != released)


def test_quiet_hours_drop_suppresses():
    """action: drop: the SMS decided at 22:00 New York (03:00Z, t 27h) is suppressed then, never delivered."""
    text = scenario(steps="{id: s, send: t}", policies="  " + QUIET.format(action="drop"))
    _, ev = simulate(text, person((27 * H, "go"), zone=NY))
    assert rows(ev, "delivered").empty and rows(ev, "held").empty
    suppressed = rows(ev, "suppressed")
    assert suppressed["t"].tolist() == [27 * H]
    assert suppressed["detail"].iloc[0].startswith("quiet-hours: 22:00 EST local; dropped; ")


def test_quiet_hours_do_not_apply_to_other_channels():
    """Quiet hours for [sms] only: an email decided at 22:00 New York is delivered at once."""
    text = scenario(steps="{id: s, send: m}", policies="  " + QUIET.format(action="hold"))
    _, ev = simulate(text, person((27 * H, "go"), zone=NY))
    assert times(ev, "delivered") == [27 * H] and rows(ev, "held").empty


# ---------------------------------------------------------------------------------------------------- caps

CAP = "  frequency_caps: [{channel: any, max: 1, per: 1d}]"
TWO_SENDS = "{id: a, send: m}\n{id: w, wait: 10h}\n{id: b, send: t}"


def test_daily_cap_of_one_drops_the_second_send():
    """A daily cap of 1 (any channel, sliding) suppresses the second send with a frequency-cap reason."""
    # max 1 per 1d (sliding, channel any): an email at 00:00 and an SMS at 10:00 -> 1 delivered, the SMS
    # suppressed at 10:00 with a frequency-cap reason.
    _, ev = simulate(scenario(steps=TWO_SENDS, policies=CAP), person((0.0, "go")))
    delivered = rows(ev, "delivered")
    assert delivered[["t", "step"]].values.tolist() == [[0.0, "a"]]
    suppressed = rows(ev, "suppressed")
    assert suppressed[["t", "step"]].values.tolist() == [[10 * H, "b"]]
    assert suppressed["detail"].iloc[0].startswith("frequency-cap: any max 1 per 1d (sliding); dropped; ")


def test_daily_cap_defer_delivers_at_release():
    """on_cap: defer delivers the capped send exactly when the first leaves the 24 h window."""
    # on_cap: defer: the 10:00 SMS is deferred until the 00:00 email leaves the 24 h window, and is delivered
    # exactly at 24:00 (t = 86400).
    _, ev = simulate(scenario(steps=TWO_SENDS, policies=CAP + "\n  on_cap: defer"), person((0.0, "go")))
    assert rows(ev, "delivered")[["t", "step"]].values.tolist() == [[0.0, "a"], [D, "b"]]
    deferred = rows(ev, "deferred")
    assert deferred["t"].tolist() == [10 * H]
    assert "; until 2026-12-02 00:00; " in deferred["detail"].iloc[0]
    assert rows(ev, "suppressed").empty


def test_channel_cap_does_not_count_other_channels():
    """An sms cap (max 1 per 1d) ignores the email: email at 00:00 and SMS at 10:00 are both delivered."""
    _, ev = simulate(scenario(steps=TWO_SENDS, policies="  frequency_caps: [{channel: sms, max: 1, per: 1d}]"),
                     person((0.0, "go")))
    assert times(ev, "delivered") == [0.0, 10 * H]


# ---------------------------------------------------------------------------------------------------- re-entry


def test_re_entry_false_blocks_a_second_entry():
    """re_entry: false: the journey ends at 00:00; the second `go` at day 2 is skipped ("re-entry is off")."""
    text = scenario(steps="{id: a, send: m}", duration="10d")
    _, ev = simulate(text, person((0.0, "go"), (2 * D, "go")))
    assert times(ev, "entry") == [0.0]
    skip = rows(ev, "entry-skip")
    assert skip[["t", "detail"]].values.tolist() == [[2 * D, "re-entry is off"]]
    assert times(ev, "delivered") == [0.0]


def test_re_entry_cooldown_allows_a_new_entry_only_after_7_days():
    """re_entry: {cooldown: 7d}: entries at 0 and exactly 7d; `go` at 2d and at 7d minus 1s are skipped."""
    text = scenario(journeys=journey("{id: a, send: m}", re_entry="{cooldown: 7d}"), duration="10d")
    _, ev = simulate(text, person((0.0, "go"), (2 * D, "go"), (7 * D - 1, "go"), (7 * D, "go")))
    entries = rows(ev, "entry")
    assert entries[["t", "value"]].values.tolist() == [[0.0, "1"], [7 * D, "2"]]
    skips = rows(ev, "entry-skip")
    assert skips["t"].tolist() == [2 * D, 7 * D - 1]
    assert set(skips["detail"]) == {"re-entry cooldown until 2026-12-08 00:00"}
    assert times(ev, "delivered") == [0.0, 7 * D]


def test_no_second_instance_while_inside():
    """Even with re-entry allowed, a customer still inside (waiting 1d) is skipped ("already in the journey")."""
    text = scenario(journeys=journey("{id: w, wait: 1d}", re_entry="true"))
    _, ev = simulate(text, person((0.0, "go"), (H, "go"), (D, "go")))
    assert times(ev, "entry") == [0.0, D]
    assert rows(ev, "entry-skip")[["t", "detail"]].values.tolist() == [[H, "already in the journey"]]


# ---------------------------------------------------------------------------------------------------- waits

WAIT_UNTIL = """\
{id: wu, wait_until: {event: purchase, timeout: 2h, then: thanks, on_timeout: nudge}}
{id: nudge, send: m, next: end}
{id: thanks, send: m2}"""
PURCHASE_10M = "  - {from: web, to: cdp, fields: [purchase], latency: {fixed: 10m}}"


def test_wait_until_routes_on_arrival_or_timeout():
    """wait_until routes to `then` when the event arrives at reads_from, else to `on_timeout` at entry + timeout."""
    # wait_until purchase, timeout 2h; purchase reaches the cdp 10m after it happens. ana buys at 00:30 -> it
    # arrives 00:40 -> `then` (thanks) at 00:40; bob never buys -> `on_timeout` (nudge) at exactly entry + 2h;
    # cleo buys at 01:55, arriving 02:05 after the 02:00 timeout -> nudge at 02:00.
    text = scenario(sync=[GO, PURCHASE_10M], steps=WAIT_UNTIL)
    _, ev = simulate(text, person((0.0, "go"), (30 * M, "purchase"), name="ana"),
                     person((0.0, "go"), name="bob"),
                     person((0.0, "go"), (115 * M, "purchase"), name="cleo"))
    ends = rows(ev, "wait-end")
    assert ends[["customer", "t", "detail"]].values.tolist() == [
        ["ana", 40 * M, "event arrived"], ["bob", 2 * H, "timeout"], ["cleo", 2 * H, "timeout"]]
    sends = rows(ev, "send")
    assert sends[["customer", "t", "step"]].values.tolist() == [
        ["ana", 40 * M, "thanks"], ["bob", 2 * H, "nudge"], ["cleo", 2 * H, "nudge"]]
    assert set(rows(ev, "exit")["detail"]) == {"completed"}


# ---------------------------------------------------------------------------------------------------- exit checks


@pytest.mark.parametrize("check, latency, exit_at, send_at", [
    # purchase at 00:30 reaches the cdp at 00:40
    ("continuous", "10m", 40 * M, None),        # exits the moment it arrives, inside the 1h wait
    ("after_waits", "10m", H, None),            # seen at 00:40 but only checked when the wait ends, 01:00
    ("at_steps", "10m", H, None),               # checked before the send step at 01:00
    # purchase reaches the cdp at 02:30: the 01:00 send goes out in every mode (the exit race)
    ("continuous", "2h", 150 * M, H),           # exits on arrival at 02:30, inside the 1d wait
    ("after_waits", "2h", H + D, H),            # exits when the 1d wait ends
    ("at_steps", "2h", None, H),                # no step after the last wait: completes, never exits
])
def test_exit_check_modes(check, latency, exit_at, send_at):
    """Exit check modes: continuous exits on arrival, after_waits when a wait ends, at_steps before the next step."""
    # Entry at 00:00, purchase at 00:30 over a web -> cdp link with fixed latency; steps: wait 1h, send, wait
    # 1d. Pins when each exit check mode exits and whether the send still happens.
    text = scenario(sync=[GO, f"  - {{from: web, to: cdp, fields: [purchase], latency: {{fixed: {latency}}}}}"],
                    journeys=journey("{id: w, wait: 1h}\n{id: s, send: m}\n{id: w2, wait: 1d}",
                                     exit_when=f"{{event: purchase, check: {check}}}"))
    _, ev = simulate(text, person((0.0, "go"), (30 * M, "purchase")))
    exits = rows(ev, "exit")
    assert exits[exits["detail"].str.startswith("exit_when")]["t"].tolist() == ([exit_at] if exit_at else [])
    sends = rows(ev, "send")
    assert sends["t"].tolist() == ([send_at] if send_at else [])
    if send_at:  # the race the exit-race finding flags: the cdp had not seen the purchase, truth had
        assert sends[["field", "value", "version", "truth_value", "truth_version"]].values.tolist() == [
            ["@purchase", "false", 0, "true", 1]]
        assert times(ev, "delivered") == [send_at]
    else:
        assert rows(ev, "delivered").empty
    if exit_at is None:
        assert rows(ev, "exit")[["t", "detail"]].values.tolist() == [[H + D, "completed"]]


def test_exit_event_before_entry_does_not_count():
    """An exit event that happened before the entry trigger does not make the customer exit."""
    # Exit on purchase only counts occurrences after the entry trigger: a purchase at 00:00 then `go` at 00:30
    # (both instant) -> the journey runs (continuous check at entry logs exit-check false) and sends at 01:30.
    text = scenario(sync=[GO, "  - {from: web, to: cdp, fields: [purchase]}"],
                    journeys=journey("{id: w, wait: 1h}\n{id: s, send: m}", exit_when="{event: purchase}"))
    _, ev = simulate(text, person((0.0, "purchase"), (30 * M, "go")))
    assert rows(ev, "exit-check")[["t", "value"]].values.tolist() == [[30 * M, "false"]]
    assert times(ev, "delivered") == [90 * M]


# ---------------------------------------------------------------------------------------------------- consent


@pytest.mark.parametrize("latency, delivered", [("2h", True), ("10m", False)])
def test_consent_is_checked_on_the_channel_replica(latency, delivered):
    """Consent is checked on the channel's replica: an opt-out not yet synced there does not stop the send."""
    # Opt-out at crm at 00:30 synced to the esp with fixed latency; email decided at 01:00. 2h: it reaches the
    # esp at 02:30, after the send -> delivered although truth is opted out (consent-check value true, truth
    # false); 10m: it is there at 00:40 -> suppressed.
    text = scenario(sync=[GO, f"  - {{from: crm, to: esp, fields: [consent], latency: {{fixed: {latency}}}}}"],
                    steps="{id: w, wait: 1h}\n{id: s, send: m}")
    _, ev = simulate(text, person((0.0, "go"), (30 * M, "unsub")))
    check = rows(ev, "consent-check")
    assert check["t"].tolist() == [H]
    expected = ["true", 0] if delivered else ["false", 1]
    assert check[["field", "value", "version", "truth_value", "truth_version"]].values.tolist() == [
        ["consent.email", *expected, "false", 1]]
    assert times(ev, "sync", system="esp", field="consent.email") == [30 * M + (2 * H if delivered else 10 * M)]
    if delivered:
        assert rows(ev, "delivered")[["t", "value", "truth_value"]].values.tolist() == [[H, "true", "false"]]
        assert rows(ev, "suppressed").empty
    else:
        assert rows(ev, "delivered").empty
        suppressed = rows(ev, "suppressed")
        assert suppressed["t"].tolist() == [H]
        assert suppressed["detail"].iloc[0].startswith("consent: esp has email opt-out; ")


# ---------------------------------------------------------------------------------------------------- priority


@pytest.mark.parametrize("order, priority, winner", [
    (("alpha", "beta"), ("beta", "alpha"), "beta"),
    (("alpha", "beta"), ("alpha", "beta"), "alpha"),
    (("beta", "alpha"), ("alpha", "beta"), "alpha"),
    (("beta", "alpha"), ("beta", "alpha"), "beta"),
])
def test_priority_decides_same_instant_sends_under_a_cap(order, priority, winner):
    """Same-instant sends under a cap go to the journey first in policies.priority, whatever the YAML order."""
    # Two journeys send to one customer at the same instant under max 1 per 1d: the journey listed first in
    # policies.priority is delivered and the other suppressed (frequency-cap), whatever the YAML order.
    journeys = "\n".join(journey("{id: s, send: m}", name=name) for name in order)
    policies = CAP + f"\n  priority: [{', '.join(priority)}]"
    _, ev = simulate(scenario(journeys=journeys, policies=policies), person((H, "go")))
    assert rows(ev, "send")["t"].tolist() == [H, H]
    assert rows(ev, "delivered")[["t", "journey"]].values.tolist() == [[H, winner]]
    loser = ({"alpha", "beta"} - {winner}).pop()
    suppressed = rows(ev, "suppressed")
    assert suppressed[["t", "journey"]].values.tolist() == [[H, loser]]
    assert suppressed["detail"].iloc[0].startswith("frequency-cap: ")


# ---------------------------------------------------------------------------------------------------- throughput


def test_throughput_queues_same_instant_sends_a_minute_apart():
    """Throughput 1/m queues three same-instant sends 0, 1 and 2 minutes (FIFO)."""
    # esp throughput 1/m: three customers' emails decided at 01:00 are queued 0, 1 and 2 minutes (FIFO by
    # customer) and delivered at 01:00, 01:01, 01:02.
    text = scenario(steps="{id: s, send: m}", esp=", throughput: 1/m")
    _, ev = simulate(text, *(person((H, "go"), name=n) for n in ("a1", "a2", "a3")))
    queued = rows(ev, "queued")
    assert queued["t"].tolist() == [H, H, H]
    assert [d.split(";")[0] for d in queued["detail"]] == ["queue wait 0s", "queue wait 1m", "queue wait 2m"]
    assert rows(ev, "delivered")[["customer", "t"]].values.tolist() == [["a1", H], ["a2", H + M], ["a3", H + 2 * M]]


def test_throughput_slot_frees_with_time():
    """1/m: a send at 01:00 then another at 01:00:30 waits 30s (next free slot 01:01); one at 01:05 does not wait."""
    text = scenario(steps="{id: s, send: m}", esp=", throughput: 1/m")
    _, ev = simulate(text, person((H, "go"), name="a1"), person((H + 30, "go"), name="a2"),
                     person((H + 5 * M, "go"), name="a3"))
    assert rows(ev, "delivered")[["customer", "t"]].values.tolist() == [["a1", H], ["a2", H + M], ["a3", H + 5 * M]]


# ---------------------------------------------------------------------------------------------------- splits


def test_split_with_zero_weight_arm_always_takes_the_other():
    """split {a: 100, end: 0}: all 300 generated customers go to a."""
    text = scenario(size=300, go_at="{uniform: {low: 0s, high: 1d}}",
                    steps="{id: ab, split: {a: 100, end: 0}}\n{id: a, wait: 1h}")
    _, ev = simulate(text)
    splits = rows(ev, "split")
    assert len(splits) == 300 and set(splits["value"]) == {"a"}
    assert len(rows(ev, "step", step="a")) == 300


def test_fifty_fifty_split_is_within_four_sigma():
    """A seeded 50/50 split over 2000 customers is within 4 sigma of 1000 and repeats for the same seed."""
    # split {a: 50, end: 50} over 2000 customers: a count within 1000 +- 4 sqrt(2000 / 4) (= 89.4); the same
    # seed gives the same count.
    text = scenario(size=2000, go_at="{uniform: {low: 0s, high: 1d}}", duration="2d",
                    steps="{id: ab, split: {a: 50, end: 50}}\n{id: a, wait: 1h}")
    counts = []
    for seed in (3, 3, 4):
        _, ev = simulate(text, seed=seed)
        splits = rows(ev, "split")
        assert len(splits) == 2000
        counts.append(int((splits["value"] == "a").sum()))
    for count in counts:
        assert abs(count - 1000) <= 4 * math.sqrt(2000 * 0.25)
    assert counts[0] == counts[1]


# ---------------------------------------------------------------------------------------------------- decisions


@pytest.mark.parametrize("wait, replica_value, version, step_after", [
    ("1h", "A", 0, None),        # at 01:00 the change is still in the 01:00 batch run (lands 01:10)
    ("2h", "B", 1, "vip"),       # at 02:00 the cdp has it
])
def test_branch_decision_records_replica_and_truth(wait, replica_value, version, step_after):
    """A branch decision record logs the replica value/version it used next to truth's."""
    # stage A -> B at crm at 00:30; crm -> cdp batch every 4h offset 1h, 10m runs (lands 01:10). A branch on
    # stage == 'B' after waiting 1h logs value A (version 0) vs truth B (version 1) and goes to end; after 2h it
    # reads B like truth and goes to vip.
    sync = [GO, "  - {from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}}"]
    steps = f"{{id: w, wait: {wait}}}\n{{id: br, branch: [{{when: \"stage == 'B'\", goto: vip}}, {{else: end}}]}}\n" \
            "{id: vip, send: m}"
    _, ev = simulate(scenario(sync=sync, steps=steps), person((0.0, "go"), (30 * M, "stage_up")))
    at = 1 * H if wait == "1h" else 2 * H
    decisions = rows(ev, "decision")
    first = decisions[decisions["field"] == "stage"]
    assert first[["t", "step", "value", "version", "truth_value", "truth_version"]].values.tolist() == [
        [at, "br", replica_value, version, "B", 1]]
    taken = "true" if replica_value == "B" else "false"
    assert first["detail"].iloc[0] == f"arm 0: stage == 'B' -> {taken} (truth: true)"
    assert times(ev, "send", step="vip") == ([at] if step_after else [])
    if step_after is None:  # the else arm is logged too
        assert decisions["detail"].tolist()[-1] == "arm 1: else"


def test_render_records_the_channel_replica_against_truth():
    """A render record logs the channel replica's field value/version next to truth's."""
    # tier bronze -> silver at crm at 00:30, reaching the esp only at 02:30 (fixed 2h); an email whose body
    # reads {{ tier }} is rendered at 01:00 from the esp's copy: render value bronze (version 0) vs truth silver
    # (version 1).
    sync = [GO, "  - {from: crm, to: esp, fields: [tier], latency: {fixed: 2h}}"]
    text = scenario(sync=sync, steps="{id: w, wait: 1h}\n{id: s, send: tiered}").replace(
        '  m2: {channel: email, body: "Thanks"}',
        '  m2: {channel: email, body: "Thanks"}\n  tiered: {channel: email, body: "Your tier: {{ tier }}"}')
    _, ev = simulate(text, person((0.0, "go"), (30 * M, "silver")))
    render = rows(ev, "render")
    assert render[["t", "system", "field", "value", "version", "truth_value", "truth_version"]].values.tolist() == [
        [H, "esp", "tier", "bronze", 0, "silver", 1]]
    assert times(ev, "delivered") == [H]


@pytest.mark.parametrize("stage, stage_up_at, entered_at", [
    ("B", None, 0.0),              # in the segment at the first evaluation
    ("A", 23 * H, 2 * D),          # B at crm at 23:00, at the cdp at 01:10 (batch): misses the 24:00 evaluation
    ("A", 22 * H + 30 * M, 2 * D), # B at 22:30 still waits for the 01:00 batch
    ("A", 20 * H, D),              # B at 20:00 leaves with the 21:00 batch, at the cdp 21:10: in at 24:00
])
def test_segment_entry_reads_the_replica_at_each_evaluation(stage, stage_up_at, entered_at):
    """A segment entry is evaluated on the reads_from replica at each `every` tick."""
    # entry {segment: "stage == 'B'", every: 1d} is evaluated at 00:00 each day on the cdp's copy of stage, fed
    # by a 4-hourly batch (01:00, 05:00, ..., 21:00; 10m runs). The entry decision record reads B like truth.
    sync = [GO, "  - {from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}}"]
    text = scenario(sync=sync, journeys=journey("{id: w, wait: 1h}").replace(
        "entry: {event: go}", "entry: {segment: \"stage == 'B'\", every: 1d}"))
    events = [(stage_up_at, "stage_up")] if stage_up_at is not None else []
    _, ev = simulate(text, person(*events, stage=stage))
    assert times(ev, "entry") == [entered_at]
    decision = rows(ev, "decision")
    assert decision[["t", "field", "value", "truth_value"]].values.tolist() == [[entered_at, "stage", "B", "B"]]


def test_late_delivery_is_marked_when_a_hold_outlasts_valid_for():
    """A delivery later than valid_for after the decision is marked 'later than valid_for'."""
    # An SMS with valid_for 8h decided at 22:00 New York and held to 08:00 (10 h) is delivered with 'later than
    # valid_for' in its detail.
    text = scenario(steps="{id: s, send: t}", policies="  " + QUIET.format(action="hold")).replace(
        '  t: {channel: sms, body: "Hi. Reply STOP to opt out"}',
        '  t: {channel: sms, body: "Hi. Reply STOP to opt out", valid_for: 8h}')
    _, ev = simulate(text, person((27 * H, "go"), zone=NY))
    delivered = rows(ev, "delivered")
    assert delivered["t"].tolist() == [37 * H]
    assert delivered["detail"].iloc[0].startswith("decided 2026-12-02 03:00; after 10h; later than valid_for; ")


def test_a_held_send_is_not_delivered_after_its_instance_exited():
    """A send held by quiet hours is not delivered after its journey instance exited on exit_when."""
    # Continuous exit on purchase (instant link). SMS decided at 22:00 New York, held to 08:00; purchase at
    # 23:00 exits the instance at 23:00. With the default recheck: at_release the release at 08:00 (13:00 UTC,
    # 37h) re-reads the cdp, which has the purchase: the held SMS is suppressed there, not delivered.
    text = scenario(sync=[GO, "  - {from: web, to: cdp, fields: [purchase]}"],
                    policies="  " + QUIET.format(action="hold"),
                    journeys=journey("{id: s, send: t}\n{id: w, wait: 1d}", exit_when="{event: purchase}"))
    _, ev = simulate(text, person((27 * H, "go"), (28 * H, "purchase"), zone=NY))
    assert rows(ev, "exit")[["t", "detail"]].values.tolist() == [[28 * H, "exit_when met (purchase)"]]
    assert rows(ev, "exit-recheck")[["t", "value", "truth_value"]].values.tolist() == [[37 * H, "true", "true"]]
    assert rows(ev, "suppressed")[["t", "detail"]].values.tolist() == [
        [37 * H, "exit_when met at release (purchase); req=1; inst=1"]]
    assert rows(ev, "delivered").empty
