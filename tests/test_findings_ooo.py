"""Out-of-order applies that only propagate an upstream reordering, and the advice for stale branches on
journey data frozen at entry. Builders and conventions come from test_findings_kinds (start
2026-12-01T00:00:00Z; ana starts with tier bronze, stage A; every journey reads the cdp)."""

from __future__ import annotations

from test_findings_kinds import EVENTS, H, M, journey, of_kind, person, scenario
from test_platform_mechanisms import STAGE_NOW, staged

from simulator.pipeline import run_scenario
from simulator.scenario.load import load_scenario_text

CAUSE = ["system", "time", "replica_version", "link", "hop_at_decision", "lag_seconds", "truth_changed_at"]
#: silver and gold are both made at crm (gold is made at pos in test_findings_kinds).
CRM_EVENTS = EVENTS.replace("{name: gold, origin: pos", "{name: gold, origin: crm")


def _rows(result) -> list[list]:
    rows = of_kind(result, "out-of-order")
    return [[None if r[c] != r[c] else r[c] for c in CAUSE] for r in rows.to_dict("records")]


def _arrivals(result, system: str) -> list[tuple[float, int]]:
    ev = result.events()
    got = ev[ev["kind"].isin(["sync", "out-of-order"]) & (ev["system"] == system) & (ev["field"] == "tier")]
    return [(float(t), int(v)) for t, v in zip(got["t"], got["version"])]


def test_a_reordering_on_a_variable_link_propagated_downstream_names_the_reordering_link():
    """silver (v1) at crm 00:00, gold (v2) at crm 00:10; crm->cdp draws from {20m, 60m}: with seed 2 v1
    takes 60m (cdp 01:00) and v2 20m (cdp 00:30). cdp->esp is a fixed 1m: v2 at the esp 00:31, v1 01:01.
    cdp applies v1 over v2 at 01:00 (link crm->cdp, lag 01:00 - 00:00 = 3600 s). The esp applies the
    forwarded v1 over v2 at 01:01: cdp->esp kept the order (v2 sent at 00:30, v1 at 01:00), so the second
    finding names crm->cdp with its lag (3600 s) and keeps cdp->esp as hop_at_decision. Exactly two."""
    text = scenario(events=CRM_EVENTS, journeys=journey("{id: w, wait: 1h}"),
                    sync="  - {from: crm, to: cdp, fields: [tier], latency: {empirical: [20m, 60m]}}\n"
                         "  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 1m}}")
    result = run_scenario(load_scenario_text(text), seed=2, scripted=[person((0, "silver"), (10 * M, "gold"))])
    # the draws the derivation rests on (fails loudly if the random streams ever change)
    assert _arrivals(result, "cdp") == [(30 * M, 2), (H, 1)]
    assert _arrivals(result, "esp") == [(31 * M, 2), (61 * M, 1)]
    assert _rows(result) == [
        ["cdp", "2026-12-01 01:00", 1, "crm->cdp", "crm->cdp", 3600.0, "2026-12-01 00:00"],
        ["esp", "2026-12-01 01:01", 1, "crm->cdp", "cdp->esp", 3600.0, "2026-12-01 00:00"],
    ]
    esp = of_kind(result, "out-of-order").iloc[1]
    assert esp["message"].endswith("propagated from the reordering on crm->cdp")
    assert "propagated from the reordering on crm->cdp: cdp applied the older version over a newer one at " \
           "2026-12-01 01:00" in esp["root_cause"] and "cdp->esp kept the order" in esp["root_cause"]
    [advice] = [r for r in result.analysis.recommendations if r["kind"] == "out-of-order"]
    assert advice["link"] == "crm->cdp" and advice["findings"] == 2
    assert advice["text"].startswith("crm->cdp: 1 older record applied over newer ones (tier); propagated to 1 "
                                     "more out-of-order apply downstream on cdp->esp, which kept the order")
    assert advice["text"].endswith("set apply: version on crm->cdp so a late older record cannot overwrite a "
                                   "newer one")


def _two_origins(esp_link: str, pos_esp: str = ""):
    # silver (v1) at crm 00:00 over crm->cdp 30m (cdp 00:30); gold (v2) at pos 00:10 over pos->cdp 5m (cdp 00:15)
    return scenario(journeys=journey("{id: w, wait: 1h}"),
                    sync="  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 30m}}\n"
                         "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 5m}}\n" + esp_link + pos_esp)


def test_a_fixed_latency_reordering_propagated_over_two_more_hops_names_the_first_reordering():
    """Deterministic twin over three systems: cdp gets v2 00:15, v1 00:30 (out-of-order, crm->cdp, lag 30m).
    cdp->esp 1m: esp gets v2 00:16, v1 00:31 (propagated). esp->sms 1m: sms gets v2 00:17, v1 00:32
    (propagated twice: still crm->cdp, lag 1800 s; hop esp->sms)."""
    text = _two_origins("  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 1m}}\n"
                        "  - {from: esp, to: sms, fields: [tier], latency: {fixed: 1m}}")
    result = run_scenario(load_scenario_text(text), seed=1, scripted=[person((0, "silver"), (10 * M, "gold"))])
    assert _rows(result) == [
        ["cdp", "2026-12-01 00:30", 1, "crm->cdp", "crm->cdp", 1800.0, "2026-12-01 00:00"],
        ["esp", "2026-12-01 00:31", 1, "crm->cdp", "cdp->esp", 1800.0, "2026-12-01 00:00"],
        ["sms", "2026-12-01 00:32", 1, "crm->cdp", "esp->sms", 1800.0, "2026-12-01 00:00"],
    ]


def test_a_downstream_link_that_reordered_itself_is_still_blamed():
    """cdp gets silver (v1) at 00:30 and gold (v2) at 00:45 (crm->cdp 30m, pos->cdp 5m, gold made at 00:40):
    in order, no finding at cdp. cdp->esp 1h brings v1 at 01:30; pos->esp 5m brings v2 at 00:45: the esp
    applies v1 over v2 at 01:30 and cdp never reordered, so cdp->esp is the link (lag 01:30 - 00:00 = 5400 s)."""
    text = _two_origins("  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 1h}}\n",
                        "  - {from: pos, to: esp, fields: [tier], latency: {fixed: 5m}}")
    result = run_scenario(load_scenario_text(text), seed=1, scripted=[person((0, "silver"), (40 * M, "gold"))])
    assert _rows(result) == [["esp", "2026-12-01 01:30", 1, "cdp->esp", "cdp->esp", 5400.0, "2026-12-01 00:00"]]
    assert "propagated" not in of_kind(result, "out-of-order").iloc[0]["root_cause"]


def test_frozen_entry_stale_branches_get_a_journey_data_recommendation():
    """journey_data: entry; ana enters at 0 (snapshot stage A), stage_up at crm 30m reaches the cdp at once;
    the branch j/b at 1h reads the snapshot: 1 stale-branch with no link (test_platform_mechanisms). The
    advice counts it and names both fixes; the live cdp had B at the branch: 1 of 1. With live: no advice."""
    result = staged("entry", STAGE_NOW, (0, "go"), (30 * M, "stage_up"))
    assert len(of_kind(result, "stale-branch")) == 1
    [advice] = [r for r in result.analysis.recommendations if r["kind"] == "stale-branch"]
    assert (advice["journey"], advice["step"], advice["link"], advice["findings"]) == ("j", "b", None, 1)
    assert advice["text"] == ("j/b: 1 stale-branch finding read journey data frozen at entry (journey_data: entry); "
                              "branch on contact data (journey_data: live) or re-read the field at the branch; "
                              "the live replica had the change at the branch in 1 of them")
    live = staged("live", STAGE_NOW, (0, "go"), (30 * M, "stage_up"))
    assert not [r for r in live.analysis.recommendations if r["kind"] == "stale-branch"]


def test_frozen_branch_advice_counts_every_finding_of_the_step():
    """Two customers, each entering at 0 and moving to stage B at 30m: 2 frozen stale branches at j/b."""
    text = scenario(sync=STAGE_NOW, journeys=journey(
        "{id: w, wait: 1h}", "{id: b, branch: [{when: \"stage == 'B'\", goto: sb}, {else: sa}]}",
        "{id: sa, send: m, next: end}", "{id: sb, send: m2}").replace(
        "    re_entry: false\n", "    re_entry: false\n    journey_data: entry\n"))
    people = [person((0, "go"), (30 * M, "stage_up")), person((0, "go"), (30 * M, "stage_up"), name="bob")]
    result = run_scenario(load_scenario_text(text), seed=1, scripted=people)
    [advice] = [r for r in result.analysis.recommendations if r["kind"] == "stale-branch"]
    assert advice["findings"] == 2 and advice["text"].startswith("j/b: 2 stale-branch findings read journey data")
    assert advice["text"].endswith("in 2 of them")


def test_a_stale_render_on_a_propagated_overwrite_names_the_reordering_link():
    """As the two-origin twin with cdp->esp 1m: gold (v2) reached the esp at 00:16, the forwarded silver (v1)
    overwrote it at 00:31. ana enters at 00:45 and is emailed p ({{ tier }}) at once: the esp renders silver
    while truth has gold, changed at 00:10 before entry -> stale-content. Its cause is the overwrite,
    propagated from crm->cdp: link crm->cdp (silver took 30m to the cdp: 1800 s), hop cdp->esp, no late_by."""
    text = _two_origins("  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 1m}}").replace(
        "steps:\n      - {id: w, wait: 1h}", "steps:\n      - {id: a, send: p}")
    text = text.replace("messages:\n", "messages:\n  p: {channel: email, body: \"Your tier: {{ tier }}\"}\n", 1)
    result = run_scenario(load_scenario_text(text), seed=1,
                          scripted=[person((0, "silver"), (10 * M, "gold"), (45 * M, "go"))])
    [row] = of_kind(result, "stale-content").to_dict("records")
    assert (row["system"], row["time"], row["replica_value"], row["truth_value"]) == \
        ("esp", "2026-12-01 00:45", "silver", "gold")
    assert (row["link"], row["hop_at_decision"], row["lag_seconds"], row["late_by_seconds"]) == \
        ("crm->cdp", "cdp->esp", 1800.0, None)
    assert "propagated from the reordering on crm->cdp (at cdp 2026-12-01 00:30; cdp->esp kept the order)" \
        in row["root_cause"]
