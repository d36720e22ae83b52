"""Rule tests for the HubSpot and Dittofeed presets (docs/platforms.md), with hand-derived times.

Builders from test_findings_kinds: start 2026-12-01T00:00:00Z (a Tuesday); ``go`` reaches the cdp at once;
``stage_up`` sets stage B at crm; every journey reads the cdp; delivery delays 0. New York is UTC-5 in
December: 09:00 EST = 14:00Z.
"""

from __future__ import annotations

from click.testing import CliRunner
from test_findings_kinds import H, M, journey, person, run, scenario

from simulator.cli import cli
from simulator.platforms import plan, preset
from simulator.scenario.load import load_scenario_text
from simulator.scenario.yamlread import read_yaml_text

STAGE_NOW = "  - {from: crm, to: cdp, fields: [stage]}"


def ev(result, kind: str):
    e = result.events()
    return e[e["kind"] == kind].reset_index(drop=True)


def delivered(result) -> list:
    return ev(result, "delivered")[["t", "message"]].values.tolist()


def with_platform(text: str, platform: str | None) -> str:
    return text if platform is None else text.replace("duration:", f"platform: {platform}\nduration:", 1)


# ----------------------------------------------------------------------------------------------- HubSpot

def hubspot_text(platform: str | None, jitter: str = "") -> str:
    window = "{from: '09:00', to: '17:00', days: [mon, tue, wed, thu, fri], timezone: America/New_York%s}" % jitter
    text = scenario(sync=STAGE_NOW, journeys=journey("{id: s, send: m}"))
    text = text.replace("    reads_from: cdp\n", f"    reads_from: cdp\n    execution_window: {window}\n", 1)
    return with_platform(text, platform)


def test_hubspot_reschedules_into_the_15_minutes_after_the_opening():
    """platform: hubspot; the workflow runs actions Mon-Fri 09:00-17:00 in the account's zone, New York.
    Four contacts reach the send at Tue 12:00Z = 07:00 EST; HubSpot reschedules to 09:00 EST = 14:00Z
    "between 9:00 - 9:15 AM": every delivery in [14:00Z, 14:15Z), not all at once. Without the preset
    (no jitter): all four at 14:00Z exactly. The scenario's own jitter: 0s wins over the preset."""
    people = [person((12 * H, "go"), name=n) for n in ("ana", "bob", "cy", "di")]
    spread = [t for t, _ in delivered(run(hubspot_text("hubspot"), *people))]
    assert len(spread) == 4 and all(14 * H <= t < 14 * H + 15 * M for t in spread) and len(set(spread)) > 1
    assert [t for t, _ in delivered(run(hubspot_text(None), *people))] == [14 * H] * 4
    assert [t for t, _ in delivered(run(hubspot_text("hubspot", ", jitter: 0s"), *people))] == [14 * H] * 4


def test_hubspot_preset_sets_only_journeys_with_a_window():
    """A journey without execution_window is not applicable (reason given); one with it gets jitter 15m."""
    with_window = plan(read_yaml_text(hubspot_text("hubspot")).data, preset("hubspot"))
    assert [(o.path, o.status, o.value) for o in with_window] == \
        [("journeys[j].execution_window.jitter", "set", "15m")]
    bare = plan(read_yaml_text(with_platform(scenario(journeys=journey("{id: s, send: m}")), "hubspot")).data,
                preset("hubspot"))
    assert [(o.status, o.reason) for o in bare] == [("skipped", "the journey has no execution_window")]
    assert load_scenario_text(hubspot_text("hubspot")).journeys[0].execution_window.jitter == 900.0


# --------------------------------------------------------------------------------------------- Dittofeed

def ditto_text(platform: str | None, entry: str) -> str:
    text = scenario(sync=STAGE_NOW, duration="12m",
                    journeys=journey("{id: s, send: m}", entry=entry, re_entry="true"))
    return with_platform(text, platform)


def test_dittofeed_enters_a_segment_journey_at_the_next_computation_and_once_per_join():
    """platform: dittofeed, segment entry stage == 'B' with no 'every' (the preset sets 2m), re-entry on, one
    send step. stage_up at 3m (cdp at once). Segments are computed at 2m, 4m, ...: the copy is refreshed at
    4m and the evaluation at 4m enters (entry.enter: join); the customer stays in the segment, so the
    evaluations at 6m, 8m, 10m enter no one: one entry, m at 4m.
    Without the preset (every: 2m written, enter member, live reads): the evaluation at 4m enters too (3m <
    4m), and every later evaluation enters again: 4m, 6m, 8m, 10m."""
    ditto = run(ditto_text("dittofeed", "{segment: \"stage == 'B'\"}"), person((3 * M, "stage_up")))
    assert ev(ditto, "entry")["t"].tolist() == [4 * M] and delivered(ditto) == [[4 * M, "m"]]
    plain = run(ditto_text(None, "{segment: \"stage == 'B'\", every: 2m}"), person((3 * M, "stage_up")))
    assert ev(plain, "entry")["t"].tolist() == [4 * M, 6 * M, 8 * M, 10 * M]


def test_dittofeed_segment_computation_delays_an_entry_between_evaluations():
    """platform: dittofeed, but the scenario evaluates its segment entry every 1m (its own 'every' wins).
    stage_up at 2m30s: live, the evaluation at 3m would enter; the copy is only refreshed at 4m (segments
    computed every 2m), so the entry is at 4m, once (enter: join). Without the preset (live reads, enter
    member, re-entry on, a one-step journey) the evaluations at 3m, 4m, ..., 11m each enter: 9 entries."""
    text = ditto_text("dittofeed", "{segment: \"stage == 'B'\", every: 1m}")
    assert ev(run(text, person((150, "stage_up"))), "entry")["t"].tolist() == [4 * M]
    live = ditto_text(None, "{segment: \"stage == 'B'\", every: 1m}")
    assert ev(run(live, person((150, "stage_up"))), "entry")["t"].tolist() == [k * M for k in range(3, 12)]


def test_dittofeed_event_entry_is_immediate_and_not_a_segment_entry():
    """An event-entry journey under dittofeed: enter and every are not applicable (reason given); go at 7m
    enters at 7m (the entry event is taken at once); recompute_every is 2m."""
    text = with_platform(scenario(sync=STAGE_NOW, journeys=journey("{id: s, send: m}")), "dittofeed")
    outcomes = {o.path: o for o in plan(read_yaml_text(text).data, preset("dittofeed"))}
    assert outcomes["journeys[j].entry.enter"].status == "skipped"
    assert outcomes["journeys[j].recompute_every"].value == "2m"
    assert ev(run(text, person((7 * M, "go"))), "entry")["t"].tolist() == [7 * M]


def test_validate_explain_lists_the_new_presets_values(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(ditto_text("dittofeed", "{segment: \"stage == 'B'\"}"))
    out = CliRunner().invoke(cli, ["validate", "--explain", str(path)])
    assert out.exit_code == 0, out.output
    assert "set      journeys[j].recompute_every = 2m   (preset dittofeed)" in out.output
    assert "set      journeys[j].entry.every = 2m   (preset dittofeed)" in out.output
    assert "set      journeys[j].entry.enter = join   (preset dittofeed)" in out.output
    assert "source: https://docs.dittofeed.com/resources/journey-nodes/entry" in out.output


# ------------------------------------------------------------------------------------------------- AJO

def test_ajo_daily_journey_cap_resets_at_midnight_utc():
    """platform: ajo, journey_caps [{max: 1, per: 1d}] with no window: the preset makes it calendar (UTC days).
    Journey a enters on go at 20h (Dec 1), journey b on buy at 25h (Dec 2 01:00 UTC): a new UTC day, b
    enters. Without the platform (sliding 24h: 20h + 24h > 25h) b is refused at 25h."""
    journeys = journey("{id: s, send: m}", name="a") + journey("{id: s, send: m2}", name="b", entry="{event: buy}")
    text = scenario(sync="  - {from: web, to: cdp, fields: [buy]}", journeys=journeys,
                    policies="  journey_caps: [{max: 1, per: 1d}]")
    who = person((20 * H, "go"), (25 * H, "buy"))
    assert ev(run(with_platform(text, "ajo"), who), "entry")[["t", "journey"]].values.tolist() == \
        [[20 * H, "a"], [25 * H, "b"]]
    assert ev(run(text, who), "entry")[["t", "journey"]].values.tolist() == [[20 * H, "a"]]
    concurrent = text.replace("[{max: 1, per: 1d}]", "[{kind: concurrent, max: 1}]")
    [o] = [o for o in plan(read_yaml_text(with_platform(concurrent, "ajo")).data, preset("ajo"))
           if "journey_caps" in o.path]
    assert (o.status, o.reason) == ("skipped", "a concurrent cap counts journeys at once: no window")
