"""Outages on sync links: on_outage queue / drop / skip on stream and batch links, hand-derived.

Conventions (as in test_engine_rules.py, whose helpers these tests reuse): ``t`` is seconds after
``start`` (2026-12-01T00:00:00Z unless a test says otherwise); customers are scripted with exact event
times; latencies and run durations are fixed. An outage is the half-open window ``[start, end)``.

The crm events of the skeleton: ``silver`` sets ``tier`` (every occurrence is a new version: v1, v2 ...),
``stage_up`` sets ``stage`` (v1), ``unsub`` opts out of email (``consent.email`` v1).

The batch link of most tests, ``BATCH``: crm -> cdp every 4h with offset 1h (scheduled runs 01:00,
05:00, 09:00, 13:00, 17:00, 21:00 each day) and a fixed 10m run, so a run at T lands at T + 10m.
Every expected number below was worked out from these rules before the tests were run
(docs/semantics.md, "Outages", states the same rules with the same examples).
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_engine_rules import GO, D, H, M, person, replica, rows, scenario, simulate, times

from simulator.errors import ScenarioError
from simulator.scenario.load import load_scenario_text

BATCH = ("  - {{from: crm, to: cdp, fields: [tier, stage], mode: batch, every: 4h, offset: 1h, "
         "duration: {{fixed: 10m}}, outages: [{{start: {start}, duration: {length}, on_outage: {mode}}}]}}")


def batch(start: str, length: str, mode: str) -> list[str]:
    return [GO, BATCH.format(start=f"2026-12-01T{start}:00Z", length=length, mode=mode)]


def arrivals(ev, field: str, system: str = "cdp") -> list[tuple[float, int]]:
    """(time, version) of every arrival of ``field`` at ``system``."""
    got = rows(ev, "sync", system=system, field=field)
    return [(float(t), int(v)) for t, v in zip(got["t"], got["version"])]


def lost(ev, field: str) -> list[tuple[float, int]]:
    got = rows(ev, "sync-lost", field=field)
    return [(float(t), int(v)) for t, v in zip(got["t"], got["version"])]


def day0(ev, kind: str) -> list[float]:
    return [t for t in times(ev, kind) if t < D]


# ------------------------------------------------------------------------------------------ batch links

#: Outage 04:00 for 6h = [04:00, 10:00) spans the 05:00 and 09:00 runs. Changes: silver at 02:00 (tier
#: v1, before the outage), stage_up at 06:00 (stage v1, during), silver at 07:00 (tier v2, during).
SPAN_PEOPLE = ((2 * H, "silver"), (6 * H, "stage_up"), (7 * H, "silver"))


def test_batch_queue_outage_spanning_two_runs_catches_up_once_at_the_outage_end():
    """queue: 05:00 and 09:00 are skipped; ONE catch-up run at 10:00 carries everything, landing at 10:10.

    05:00 skipped with 1 record waiting (tier); 09:00 skipped with 2 (tier, stage); the catch-up run at
    10:00 (records=2) lands stage v1 and tier v2 (the latest version: tier v1 was superseded while
    queued) at 10:10. Nothing is lost. Runs on day 0: 01:00, 10:00, 13:00, 17:00, 21:00.
    """
    engine, ev = simulate(scenario(sync=batch("04:00", "6h", "queue")), person(*SPAN_PEOPLE))
    assert day0(ev, "batch-skipped") == [5 * H, 9 * H]
    assert rows(ev, "batch-skipped")["detail"].tolist()[:2] == [
        "link=crm->cdp; outage until 2026-12-01 10:00 (on_outage: queue); 1 record waits for the catch-up run "
        "at 2026-12-01 10:00",
        "link=crm->cdp; outage until 2026-12-01 10:00 (on_outage: queue); 2 records wait for the catch-up run "
        "at 2026-12-01 10:00"]
    assert day0(ev, "batch-run") == [1 * H, 10 * H, 13 * H, 17 * H, 21 * H]
    catch_up = rows(ev, "batch-run")["detail"].tolist()[1]
    assert catch_up == ("link=crm->cdp; records=2; duration=10m; catch-up after the outage 2026-12-01 04:00 "
                        "for 6h (on_outage: queue)")
    assert arrivals(ev, "stage") == [(10 * H + 10 * M, 1)]
    assert arrivals(ev, "tier") == [(10 * H + 10 * M, 2)]
    assert rows(ev, "sync-lost").empty
    assert replica(engine, "cdp", "ana", "stage") == "B"


def test_batch_drop_outage_loses_changes_made_while_down_and_catches_up_the_earlier_ones():
    """drop: the 06:00 and 07:00 changes are lost when made; the 02:00 change rides the 10:00 catch-up run.

    sync-lost at 06:00 (stage v1) and 07:00 (tier v2), each naming the outage. 05:00 and 09:00 are
    skipped with 1 record (tier v1) waiting; the catch-up run at 10:00 carries tier v1 (records=1), not
    the source's newer v2: it lands at 10:10. The cdp ends with tier v1 while truth holds v2, and stage
    never changes there.
    """
    engine, ev = simulate(scenario(sync=batch("04:00", "6h", "drop")), person(*SPAN_PEOPLE))
    assert lost(ev, "stage") == [(6 * H, 1)]
    assert lost(ev, "tier") == [(7 * H, 2)]
    assert set(rows(ev, "sync-lost")["detail"]) == {
        "link=crm->cdp; dropped in outage of crm->cdp (2026-12-01 04:00 for 6h)"}
    assert day0(ev, "batch-skipped") == [5 * H, 9 * H]
    assert day0(ev, "batch-run") == [1 * H, 10 * H, 13 * H, 17 * H, 21 * H]
    assert rows(ev, "batch-run")["detail"].tolist()[1].startswith("link=crm->cdp; records=1; duration=10m")
    assert arrivals(ev, "tier") == [(10 * H + 10 * M, 1)]
    assert arrivals(ev, "stage") == []
    assert engine.replicas["cdp"].version(engine.population.index_of("ana"), "tier") == 1
    assert replica(engine, "cdp", "ana", "stage") == "A"


def test_batch_skip_outage_spanning_two_runs_waits_for_the_next_scheduled_run():
    """skip: 05:00 and 09:00 are skipped, no catch-up; the 13:00 run carries everything, landing at 13:10.

    Nothing is lost; the runs on day 0 are 01:00, 13:00, 17:00, 21:00 (no 10:00 run).
    """
    _, ev = simulate(scenario(sync=batch("04:00", "6h", "skip")), person(*SPAN_PEOPLE))
    assert day0(ev, "batch-skipped") == [5 * H, 9 * H]
    assert rows(ev, "batch-skipped")["detail"].iloc[1] == (
        "link=crm->cdp; outage until 2026-12-01 10:00 (on_outage: skip); 2 records wait for the next scheduled "
        "run at 2026-12-01 13:00")
    assert day0(ev, "batch-run") == [1 * H, 13 * H, 17 * H, 21 * H]
    assert arrivals(ev, "stage") == [(13 * H + 10 * M, 1)]
    assert arrivals(ev, "tier") == [(13 * H + 10 * M, 2)]
    assert rows(ev, "sync-lost").empty


@pytest.mark.parametrize("mode, catch_up", [("queue", True), ("drop", True), ("skip", False)])
def test_batch_outage_ending_exactly_at_a_scheduled_run_makes_one_run_not_two(mode, catch_up):
    """Outage 04:00 for 5h = [04:00, 09:00): the 09:00 run is outside it (end exclusive) and is the only run.

    A change at 02:00 waits; 05:00 is skipped; the 09:00 run carries it (lands 09:10) in every mode. For
    queue and drop the 09:00 run is also the catch-up run (its detail says so): one run at 09:00, not two.
    """
    _, ev = simulate(scenario(sync=batch("04:00", "5h", mode)), person((2 * H, "silver")))
    assert day0(ev, "batch-skipped") == [5 * H]
    assert day0(ev, "batch-run") == [1 * H, 9 * H, 13 * H, 17 * H, 21 * H]
    detail = rows(ev, "batch-run")["detail"].tolist()[1]
    assert detail.startswith("link=crm->cdp; records=1; duration=10m")
    assert ("catch-up after the outage 2026-12-01 04:00 for 5h" in detail) is catch_up
    assert arrivals(ev, "tier") == [(9 * H + 10 * M, 1)]
    assert rows(ev, "sync-lost").empty


@pytest.mark.parametrize("mode, tier_at, stage, stage_lost", [
    ("queue", 7 * H + 10 * M, [(7 * H + 10 * M, 1)], []),
    ("drop", 7 * H + 10 * M, [], [(5 * H, 1)]),
    ("skip", 9 * H + 10 * M, [(9 * H + 10 * M, 1)], []),
])
def test_batch_outage_starting_exactly_at_a_run_time(mode, tier_at, stage, stage_lost):
    """Outage 05:00 for 2h = [05:00, 07:00): the 05:00 run is inside it (start inclusive) and is skipped.

    silver at 02:00 (tier v1) is made before the outage; stage_up at 05:00, the outage's first instant,
    is made while the link is down. queue: the catch-up run at 07:00 carries both (07:10). drop: stage is
    lost at 05:00, tier rides the catch-up run (07:10). skip: both wait for the 09:00 run (09:10).
    """
    _, ev = simulate(scenario(sync=batch("05:00", "2h", mode)), person((2 * H, "silver"), (5 * H, "stage_up")))
    assert day0(ev, "batch-skipped") == [5 * H]
    assert arrivals(ev, "tier") == [(tier_at, 1)]
    assert arrivals(ev, "stage") == stage
    assert lost(ev, "stage") == stage_lost
    assert lost(ev, "tier") == []


def test_batch_change_at_the_exact_outage_end_is_not_lost_and_misses_the_catch_up_run():
    """drop, outage [05:00, 07:00): a change at 07:00 is made after the outage (not lost), but the catch-up
    run at 07:00 has already taken its records (a run at T carries what was pending before T), so it
    waits for the 09:00 run and lands at 09:10. The 02:00 change rides the catch-up run: 07:10.
    """
    _, ev = simulate(scenario(sync=batch("05:00", "2h", "drop")), person((2 * H, "silver"), (7 * H, "stage_up")))
    assert rows(ev, "sync-lost").empty
    assert arrivals(ev, "tier") == [(7 * H + 10 * M, 1)]
    assert arrivals(ev, "stage") == [(9 * H + 10 * M, 1)]


def test_a_change_at_a_scheduled_run_time_waits_for_the_next_run():
    """No outage: stage_up at 05:00 exactly, when a run starts, is not in that run: it lands with 09:00 at 09:10."""
    link = "  - {from: crm, to: cdp, fields: [tier, stage], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}}"
    _, ev = simulate(scenario(sync=[GO, link], duration="1d"), person((5 * H, "stage_up")))
    assert arrivals(ev, "stage") == [(9 * H + 10 * M, 1)]


def test_a_scripted_opt_out_at_a_run_time_also_waits_for_the_next_run():
    """The same-instant rule holds whatever scheduled the change: a scripted email opt-out at the esp at 05:00
    exactly (scheduled before the batch runs are) misses the 05:00 esp -> cdp run and lands at 09:10."""
    link = ("  - {from: esp, to: cdp, fields: [consent], mode: batch, every: 4h, offset: 1h, "
            "duration: {fixed: 10m}}")
    _, ev = simulate(scenario(sync=[GO, link], duration="12h"), person((5 * H, "opt_out:email")))
    assert arrivals(ev, "consent.email") == [(9 * H + 10 * M, 1)]


@pytest.mark.parametrize("mode", ["queue", "drop", "skip"])
def test_a_batch_run_started_before_the_outage_completes(mode):
    """Runs last 2h: the 01:00 run carries a 00:30 change and lands at 03:00, inside the outage
    [02:00, 08:00): a run that started while the link was up finishes, in every mode."""
    link = ("  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {fixed: 2h}, "
            f"outages: [{{start: 2026-12-01T02:00:00Z, duration: 6h, on_outage: {mode}}}]}}")
    _, ev = simulate(scenario(sync=[GO, link], duration="1d"), person((30 * M, "silver")))
    assert arrivals(ev, "tier") == [(3 * H, 1)]


#: Daily import at 02:00 New York; in December New York is on EST (UTC-5), so every run is at 07:00Z:
#: t = 7h, 31h, 55h. Outage 2026-12-02 06:00Z for 6h = [30h, 36h) covers the 31h run. Run time 20m.
#: silver at 20:00Z on 12-01 (t 20h, before); stage_up at 08:00Z on 12-02 (t 32h, during).
DAILY = ('  - {{from: crm, to: cdp, fields: [tier, stage], mode: batch, at: "02:00", timezone: America/New_York, '
         'duration: {{fixed: 20m}}, outages: [{{start: 2026-12-02T06:00:00Z, duration: 6h, on_outage: {mode}}}]}}')


@pytest.mark.parametrize("mode, runs, tier_at, stage, stage_lost", [
    ("queue", [7 * H, 36 * H, 55 * H], 36 * H + 20 * M, [(36 * H + 20 * M, 1)], []),
    ("drop", [7 * H, 36 * H, 55 * H], 36 * H + 20 * M, [], [(32 * H, 1)]),
    ("skip", [7 * H, 55 * H], 55 * H + 20 * M, [(55 * H + 20 * M, 1)], []),
])
def test_daily_batch_in_a_zone_with_an_outage(mode, runs, tier_at, stage, stage_lost):
    """The 02:00 EST (07:00Z) import of 12-02 falls in the outage 06:00-12:00Z. queue: catch-up at 12:00Z
    (t 36h) lands both changes at 12:20Z; drop: the same run carries only the 20:00Z change, the 08:00Z one
    is lost when made; skip: both wait for the next night's 07:00Z run (t 55h) and land at 07:20Z."""
    _, ev = simulate(scenario(sync=[GO, DAILY.format(mode=mode)]), person((20 * H, "silver"), (32 * H, "stage_up")))
    assert times(ev, "batch-skipped") == [31 * H]
    assert times(ev, "batch-run") == runs
    assert arrivals(ev, "tier") == [(tier_at, 1)]
    assert arrivals(ev, "stage") == stage
    assert lost(ev, "stage") == stage_lost


# ------------------------------------------------------------------------------------------ DST and batch runs

def _daily(at: str) -> str:
    return f'  - {{from: crm, to: cdp, fields: [tier], mode: batch, at: {at}, timezone: America/New_York}}'


def test_daily_batch_at_a_repeated_local_time_runs_once_at_its_first_occurrence():
    """at "01:30" New York from 2026-10-31: 01:30 EDT = 05:30Z on 10-31 (t 5.5h). On 11-01 clocks fall back
    at 02:00 EDT, so 01:30 happens twice (05:30Z EDT, 06:30Z EST): one run, at the first (t 29.5h). On 11-02
    01:30 EST = 06:30Z (t 54.5h)."""
    _, ev = simulate(scenario(start="2026-10-31T00:00:00Z", sync=[GO, _daily('"01:30"')]))
    assert times(ev, "batch-run") == [5.5 * H, 29.5 * H, 54.5 * H]


def test_daily_batch_at_a_non_existent_local_time_runs_at_the_first_instant_after_the_gap():
    """at "02:30" New York from 2026-03-07: 02:30 EST = 07:30Z (t 7.5h). On 03-08 clocks jump 02:00 EST ->
    03:00 EDT, so 02:30 does not exist; the run is at the first instant after the gap, 03:00 EDT = 07:00Z
    (t 31h), as quiet hours end there too. On 03-09 02:30 EDT = 06:30Z (t 54.5h)."""
    _, ev = simulate(scenario(start="2026-03-07T00:00:00Z", sync=[GO, _daily('"02:30"')]))
    assert times(ev, "batch-run") == [7.5 * H, 31 * H, 54.5 * H]


def test_two_daily_clock_times_on_one_instant_make_one_run():
    """at ["02:00", "02:30"] New York from 2026-03-07: 03-07 07:00Z and 07:30Z (EST); on 03-08 both fall in the
    gap and map to 03:00 EDT = 07:00Z: one run, not two; 03-09 06:00Z and 06:30Z (EDT)."""
    _, ev = simulate(scenario(start="2026-03-07T00:00:00Z", sync=[GO, _daily('["02:00", "02:30"]')]))
    assert times(ev, "batch-run") == [7 * H, 7.5 * H, 31 * H, 54 * H, 54.5 * H]


# ------------------------------------------------------------------------------------------ stream links

STREAM = ("  - {{from: crm, to: cdp, fields: [tier, stage, consent], latency: {{fixed: 10m}}, "
          "outages: [{{start: 2026-12-01T02:00:00Z, duration: 6h, on_outage: {mode}}}]}}")

#: Stream link (fixed 10m) down [02:00, 08:00). silver at 01:55 (tier v1) is sent before the outage and
#: in flight when it starts; stage_up at 02:00 (stage v1) is sent at the outage's first instant; silver at
#: 03:00 (tier v2) during it; unsub at 08:00 (consent.email v1) at the outage end, which is exclusive.
STREAM_PEOPLE = ((115 * M, "silver"), (2 * H, "stage_up"), (3 * H, "silver"), (8 * H, "unsub"))


def test_stream_queue_outage_sends_changes_made_while_down_at_the_end():
    """queue: the in-flight 01:55 record lands at 02:05; the 02:00 and 03:00 changes are held (sync-queued at
    02:00 and 03:00) and sent at 08:00, landing at 08:10; the 08:00 change is sent at once: 08:10."""
    _, ev = simulate(scenario(sync=[GO, STREAM.format(mode="queue")]), person(*STREAM_PEOPLE))
    assert arrivals(ev, "tier") == [(2 * H + 5 * M, 1), (8 * H + 10 * M, 2)]
    assert arrivals(ev, "stage") == [(8 * H + 10 * M, 1)]
    assert arrivals(ev, "consent.email") == [(8 * H + 10 * M, 1)]
    assert times(ev, "sync-queued") == [2 * H, 3 * H]
    assert rows(ev, "sync-lost").empty


def test_stream_drop_outage_loses_changes_made_while_down_only():
    """drop: the in-flight 01:55 record still lands at 02:05; the 02:00 (stage v1) and 03:00 (tier v2)
    changes are lost when made; the 08:00 change lands at 08:10."""
    engine, ev = simulate(scenario(sync=[GO, STREAM.format(mode="drop")]), person(*STREAM_PEOPLE))
    assert arrivals(ev, "tier") == [(2 * H + 5 * M, 1)]
    assert arrivals(ev, "stage") == []
    assert arrivals(ev, "consent.email") == [(8 * H + 10 * M, 1)]
    assert lost(ev, "stage") == [(2 * H, 1)]
    assert lost(ev, "tier") == [(3 * H, 2)]
    assert replica(engine, "cdp", "ana", "tier") == "silver"  # v1: same value, older version
    assert engine.replicas["cdp"].version(engine.population.index_of("ana"), "tier") == 1


def test_a_stream_record_queued_until_the_start_of_a_drop_outage_is_lost_then():
    """Touching outages [02:00, 04:00) queue and [04:00, 06:00) drop: the 03:00 change is queued until 04:00,
    sent again then, inside the drop outage, and lost at 04:00; a change at 05:00 is lost at 05:00."""
    link = ("  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, outages: ["
            "{start: 2026-12-01T02:00:00Z, duration: 2h}, {start: 2026-12-01T04:00:00Z, duration: 2h, on_outage: drop}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="8h"), person((3 * H, "silver"), (5 * H, "silver")))
    assert times(ev, "sync-queued") == [3 * H]
    assert lost(ev, "tier") == [(4 * H, 1), (5 * H, 2)]
    assert arrivals(ev, "tier") == []


def test_skip_on_a_stream_link_is_a_validation_error_with_a_fix():
    """A stream link has no scheduled runs to miss: on_outage: skip is refused, naming the key and the fix."""
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(scenario(sync=[GO, STREAM.format(mode="skip")]))
    text = str(caught.value)
    assert "sync[1].outages[0].on_outage: on_outage: skip means a batch link misses its scheduled runs" in text
    assert "use queue (changes made while down are sent when it is back) or drop (they are lost)" in text


def test_a_misspelt_on_outage_gets_a_did_you_mean():
    with pytest.raises(ScenarioError) as caught:
        load_scenario_text(scenario(sync=batch("04:00", "6h", "skp")))
    assert "invalid value 'skp': expected one of queue, drop, skip; did you mean 'skip'?" in str(caught.value)


def test_overlapping_batch_outages_take_the_most_damaging_mode_where_they_overlap():
    """queue [04:00, 10:00) and drop [06:00, 08:00): down 04:00-10:00, in parts queue [04, 06), drop [06, 08),
    queue [08, 10). The 05:00 and 09:00 runs are skipped, and so are the catch-up slots at 06:00 and 08:00 (the
    link is still down then); the catch-up run at 10:00 carries everything kept. tier at 02:00 (v1) and at 09:00
    (v2) are kept, stage at 07:00 is lost then: tier v2 lands at 10:10, stage never."""
    link = ("  - {from: crm, to: cdp, fields: [tier, stage], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}, "
            "outages: [{start: 2026-12-01T04:00:00Z, duration: 6h}, "
            "{start: 2026-12-01T06:00:00Z, duration: 2h, on_outage: drop}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="1d"),
                     person((2 * H, "silver"), (7 * H, "stage_up"), (9 * H, "silver")))
    assert times(ev, "batch-skipped") == [5 * H, 6 * H, 8 * H, 9 * H]
    assert times(ev, "batch-run") == [1 * H, 10 * H, 13 * H, 17 * H, 21 * H]
    assert lost(ev, "stage") == [(7 * H, 1)]
    assert rows(ev, "sync-lost")["detail"].tolist() == [
        "link=crm->cdp; dropped in outage of crm->cdp (2026-12-01 06:00 for 2h)"]
    assert arrivals(ev, "tier") == [(10 * H + 10 * M, 2)]
    assert arrivals(ev, "stage") == []


def test_a_longer_drop_outage_over_a_queue_outage_drops_throughout():
    """drop [00:00, 1d) over queue [06:00, 12:00) on a stream link: drop covers the whole queue outage, so a change
    at 08:00 is lost (naming the day-long outage); one at 1d 01:00 arrives 10m later."""
    link = ("  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, outages: ["
            "{start: 2026-12-01T06:00:00Z, duration: 6h}, {start: 2026-12-01T00:00:00Z, duration: 1d, on_outage: drop}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="2d"), person((8 * H, "silver"), (25 * H, "silver")))
    assert lost(ev, "tier") == [(8 * H, 1)]
    assert rows(ev, "sync-lost")["detail"].tolist() == [
        "link=crm->cdp; dropped in outage of crm->cdp (2026-12-01 00:00 for 1d)"]
    assert arrivals(ev, "tier") == [(25 * H + 10 * M, 2)]


def test_outage_segments_split_overlaps_by_severity():
    """Unit rule of outage_segments: disjoint outages unchanged; overlaps split, drop > skip > queue, ties to the
    earlier-listed; each part keeps its declared window."""
    from simulator.engine.systems import outage_segments

    assert outage_segments([(0, 10, "queue"), (20, 30, "drop")]) == [(0, 10, "queue", 0, 10), (20, 30, "drop", 20, 30)]
    assert outage_segments([(0, 10, "queue"), (4, 6, "skip"), (5, 20, "drop")]) == [
        (0, 4, "queue", 0, 10), (4, 5, "skip", 4, 6), (5, 20, "drop", 5, 20)]
    assert outage_segments([(0, 10, "queue"), (0, 10, "queue")]) == [(0, 10, "queue", 0, 10)]
    assert outage_segments([(0, 0, "drop")]) == []


def test_touching_outages_the_catch_up_run_of_the_first_is_missed_in_the_second():
    """queue [04:00, 06:00) then queue [06:00, 08:00): the 05:00 run is skipped; its catch-up at 06:00 falls in
    the second outage and is skipped too; the catch-up at 08:00 carries the 02:00 change: 08:10."""
    link = ("  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}, "
            "outages: [{start: 2026-12-01T04:00:00Z, duration: 2h}, {start: 2026-12-01T06:00:00Z, duration: 2h}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="1d"), person((2 * H, "silver")))
    assert times(ev, "batch-skipped") == [5 * H, 6 * H]
    assert times(ev, "batch-run") == [1 * H, 8 * H, 9 * H, 13 * H, 17 * H, 21 * H]
    assert arrivals(ev, "tier") == [(8 * H + 10 * M, 1)]


# ------------------------------------------------------------------------------------------ failures and retries

RETRY = ("  - {{from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {{fixed: 10m}}, "
         "failure_rate: 1, retry_after: {retry}}}")


@pytest.mark.parametrize("retry, retried_at", [
    ("4h", [5 * H, 9 * H, 13 * H, 17 * H, 21 * H]),  # due at 09:00: the 09:00 run retries it (and so on)
    ("5h", [5 * H, 13 * H, 21 * H]),                 # due at 10:00: the first run from then is 13:00
    ("1h", [5 * H, 9 * H, 13 * H, 17 * H, 21 * H]),  # due at 06:00: the next run, 09:00
])
def test_a_failed_batch_record_is_retried_by_the_first_run_from_failure_plus_retry_after(retry, retried_at):
    """failure_rate 1: the 02:00 change fails in every run it rides. It first rides 05:00; each failure logs
    sync-retry and the record is retried by the first run starting at or after failure + retry_after. With
    retry_after equal to the 4h interval that is the very next run (not the one after: a tie goes to the retry)."""
    _, ev = simulate(scenario(sync=[GO, RETRY.format(retry=retry)], duration="1d"), person((2 * H, "silver")))
    assert times(ev, "sync-retry") == retried_at
    assert [int(d.split("records=")[1].split(";")[0]) for d in rows(ev, "batch-run")["detail"]] == [
        int(t in retried_at) for t in (1 * H, 5 * H, 9 * H, 13 * H, 17 * H, 21 * H)]
    assert rows(ev, "sync").query("field == 'tier'").empty


def test_a_newer_change_supersedes_a_failed_batch_record():
    """silver at 02:00 (tier v1) fails in the 05:00 run (retry from 09:00); silver at 06:00 (tier v2) is queued:
    the 09:00 run carries v2 once (records=1), not v1 and v2."""
    _, ev = simulate(scenario(sync=[GO, RETRY.format(retry="4h")], duration="12h"),
                     person((2 * H, "silver"), (6 * H, "silver")))
    retries = rows(ev, "sync-retry")
    assert retries[["t", "version"]].values.tolist() == [[5 * H, 1], [9 * H, 2]]
    assert rows(ev, "batch-run")["detail"].tolist()[2].startswith("link=crm->cdp; records=1;")


def test_a_stream_retry_inside_a_queue_outage_waits_for_its_end():
    """Stream, latency 10m, failure_rate 1, retry_after 30m, outage [01:15, 02:45) with queue: the 01:00 change
    fails (sync-retry 01:00); its retry at 01:30 is inside the outage, so it is queued (sync-queued 01:30) and
    sent at 02:45, fails again (sync-retry 02:45), and is retried at 03:15, 03:45 ... (every 30m)."""
    link = ("  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, failure_rate: 1, retry_after: 30m, "
            "outages: [{start: 2026-12-01T01:15:00Z, duration: 1h30m}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="4h"), person((1 * H, "silver")))
    assert times(ev, "sync-queued") == [1.5 * H]
    assert times(ev, "sync-retry") == [1 * H, 2.75 * H, 3.25 * H, 3.75 * H]
    assert rows(ev, "sync").query("field == 'tier'").empty


def test_a_stream_retry_that_falls_inside_a_drop_outage_is_lost():
    """Stream, failure_rate 1, retry_after 30m, outage [01:15, 02:45) with drop: the 01:00 change fails (sync-retry
    at 01:00); its retry at 01:30 is a send while the link is down, so it is lost then (sync-lost at 01:30)."""
    link = ("  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 10m}, failure_rate: 1, retry_after: 30m, "
            "outages: [{start: 2026-12-01T01:15:00Z, duration: 1h30m, on_outage: drop}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="4h"), person((1 * H, "silver")))
    assert times(ev, "sync-retry") == [1 * H]
    assert lost(ev, "tier") == [(1.5 * H, 1)]


def test_a_failed_batch_record_is_kept_through_a_drop_outage():
    """Batch every 4h from 01:00, failure_rate 1, retry_after 4h, outage [06:00, 08:00) with drop: the 02:00
    change fails at 05:00 and waits for its retry (due 09:00); it was not made while the link was down, so the
    outage does not lose it (no run fell inside the outage, so there is no catch-up run): retried at 09:00."""
    link = ("  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, failure_rate: 1, "
            "retry_after: 4h, outages: [{start: 2026-12-01T06:00:00Z, duration: 2h, on_outage: drop}]}")
    _, ev = simulate(scenario(sync=[GO, link], duration="10h"), person((2 * H, "silver")))
    assert times(ev, "sync-retry") == [5 * H, 9 * H]
    assert lost(ev, "tier") == []
    assert times(ev, "batch-run") == [1 * H, 5 * H, 9 * H]


# ------------------------------------------------------------------------------------------ properties

RUNS = [1 * H, 5 * H, 9 * H, 13 * H, 17 * H, 21 * H]  # BATCH's scheduled runs on the one simulated day


def _expected(mode: str, start: float, end: float, change: float) -> float | None:
    """When a change at ``change`` lands over BATCH (1-day run), or None if it is lost / never lands.

    An independent statement of the rules: the first run that starts after the change (a run at the
    change's instant has already left) and is not inside the outage, where queue and drop add a run at
    ``end`` if a scheduled run fell inside the outage; drop loses changes made inside the outage.
    """
    if mode == "drop" and start <= change < end:
        return None
    runs = [r for r in RUNS if not start <= r < end]
    if mode != "skip" and any(start <= r < end for r in RUNS) and end < D:
        runs.append(end)
    later = sorted(r for r in set(runs) if r > change)
    return later[0] + 10 * M if later else None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["queue", "drop", "skip"]), start_min=st.integers(0, 23 * 60),
       length_min=st.integers(1, 10 * 60), change_min=st.integers(0, 24 * 60 - 1))
def test_property_a_batch_change_lands_when_the_outage_rules_say(mode, start_min, length_min, change_min):
    """For any outage (minute grid) and any change time on a 1-day run, the change lands exactly when the
    rules stated in _expected say, or is lost (sync-lost at the change) exactly when they say so."""
    start, end, change = start_min * M, (start_min + length_min) * M, change_min * M
    if change % (4 * H) == H:
        change += M  # keep the property off the same-instant rule, which has its own test
    stamp = f"{int(start // H):02d}:{int(start % H // M):02d}"
    link = (f"  - {{from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {{fixed: 10m}}, "
            f"outages: [{{start: 2026-12-01T{stamp}:00Z, duration: {length_min}m, on_outage: {mode}}}]}}")
    _, ev = simulate(scenario(sync=[GO, link], duration="1d"), person((change, "silver")))
    expected = _expected(mode, start, end, change)
    assert [t for t, _v in arrivals(ev, "tier")] == ([] if expected is None else [expected])
    was_lost = mode == "drop" and start <= change < end
    assert lost(ev, "tier") == ([(change, 1)] if was_lost else [])
    assert not any(start <= t < end for t in times(ev, "batch-run"))


# ------------------------------------------------------------------------------------------ end to end

def test_cli_validate_refuses_skip_on_a_stream_link_with_file_line_and_fix(tmp_path):
    """`journeysim validate` on a stream link with on_outage: skip exits 2 naming file:line:column, the key path
    and the fix, without a traceback."""
    from click.testing import CliRunner

    from simulator.cli import cli

    text = scenario(sync=[GO, STREAM.format(mode="skip")])
    path = tmp_path / "stream_skip.yaml"
    path.write_text(text, encoding="utf-8")
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "on_outage: skip" in row)
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert f"stream_skip.yaml:{line}:" in result.output
    assert "sync[1].outages[0].on_outage: on_outage: skip means a batch link misses its scheduled runs" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("mode, expected_runs", [
    # cart_abandonment's cdp-to-esp import runs at 02:00 New York = 07:00Z; down 3 Dec 06:00-12:00Z
    ("queue", ["2026-12-03 12:00"]),   # the missed 07:00Z run is caught up at 12:00Z
    ("skip", []),                      # no run on 3 Dec: the records wait for 4 Dec 07:00Z
])
def test_cli_run_of_the_cart_scenario_catches_up_its_import_or_skips_it(mode, expected_runs, tmp_path):
    """`journeysim run scenarios/cart_abandonment.yaml` (100 customers) with the import outage in each mode: the
    3 Dec 07:00Z run is skipped; queue makes one catch-up run at 12:00Z, skip none (the next run is 4 Dec 07:00Z)."""
    from click.testing import CliRunner
    from conftest import ROOT

    from simulator.cli import cli
    from simulator.engine.events import read_events

    out = tmp_path / "run"
    result = CliRunner().invoke(cli, [
        "run", str(ROOT / "scenarios" / "cart_abandonment.yaml"), "--customers", "100", "--out", str(out),
        "--quiet", "--no-report", "--set", f"sync[cdp-to-esp].outages[0].on_outage={mode}"])
    assert result.exit_code in (0, 1), result.output
    ev = read_events(out)
    ev = ev[ev["detail"].fillna("").str.startswith("link=cdp-to-esp;")]
    skipped = ev[ev["kind"] == "batch-skipped"]
    assert [str(t)[:16] for t in skipped["ts"]] == ["2026-12-03 07:00"]
    then = "the catch-up run at 2026-12-03 12:00" if mode == "queue" else "the next scheduled run at 2026-12-04 07:00"
    assert skipped["detail"].iloc[0].endswith(then)
    runs = ev[(ev["kind"] == "batch-run")]
    on_the_3rd = [str(t)[:16] for t in runs["ts"] if str(t).startswith("2026-12-03")]
    assert on_the_3rd == expected_runs


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mode=st.sampled_from(["queue", "drop"]), start_min=st.integers(0, 23 * 60),
       length_min=st.integers(1, 10 * 60), change_min=st.integers(0, 24 * 60 - 1))
def test_property_a_stream_change_lands_when_the_outage_rules_say(mode, start_min, length_min, change_min):
    """Stream link, latency 10m, one outage: a change at c inside [start, end) arrives at end + 10m (queue) or
    is lost at c (drop); any other change arrives at c + 10m, even when it lands inside the outage."""
    start, end, change = start_min * M, (start_min + length_min) * M, change_min * M
    stamp = f"{int(start // H):02d}:{int(start % H // M):02d}"
    link = (f"  - {{from: crm, to: cdp, fields: [tier], latency: {{fixed: 10m}}, "
            f"outages: [{{start: 2026-12-01T{stamp}:00Z, duration: {length_min}m, on_outage: {mode}}}]}}")
    _, ev = simulate(scenario(sync=[GO, link], duration="2d"), person((change, "silver")))
    inside = start <= change < end
    expected = [] if inside and mode == "drop" else [(end if inside else change) + 10 * M]
    assert [t for t, _v in arrivals(ev, "tier")] == expected
    assert lost(ev, "tier") == ([(change, 1)] if inside and mode == "drop" else [])
