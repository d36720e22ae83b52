"""Worked examples of docs/semantics.md that no other rule test pins, derived by hand before running.

Conventions as in test_engine_rules.py (whose helpers these reuse): ``t`` is seconds after ``start``
(2026-12-01T00:00:00Z: New York is on EST, UTC-5), scripted customers, fixed latencies and durations.
"""

from __future__ import annotations

from test_engine_rules import GO, H, M, person, rows, scenario, simulate, times

from simulator.engine.population import ScriptedCustomer


def test_an_offset_longer_than_the_interval_wraps():
    """every: 4h, offset: 5h: the first run is at 5h mod 4h = 01:00, then 05:00, 09:00 ..."""
    link = "  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 5h}"
    _, ev = simulate(scenario(sync=[GO, link], duration="12h"))
    assert times(ev, "batch-run") == [1 * H, 5 * H, 9 * H]


def test_a_batch_run_carries_only_the_latest_version_of_a_key():
    """silver at 02:00 (tier v1) and again at 03:00 (tier v2), both before the 05:00 run: the run carries one
    record, v2 (records=1), landing at 05:10; the cdp never holds v1."""
    link = "  - {from: crm, to: cdp, fields: [tier], mode: batch, every: 4h, offset: 1h, duration: {fixed: 10m}}"
    _, ev = simulate(scenario(sync=[GO, link], duration="12h"), person((2 * H, "silver"), (3 * H, "silver")))
    assert rows(ev, "batch-run")["detail"].tolist()[1] == "link=crm->cdp; records=1; duration=10m"
    arrivals = rows(ev, "sync", system="cdp", field="tier")
    assert arrivals[["t", "version"]].values.tolist() == [[5 * H + 10 * M, 2]]


def test_a_stream_record_refused_by_apply_version_is_not_forwarded_on_the_next_hop():
    """crm -> cdp (30m) and pos -> cdp (5m), both apply: version; cdp -> esp (stream, 1m). silver (v1) at 00:00,
    gold (v2) at 00:10: gold reaches the cdp at 00:15 and the esp at 00:16; silver reaches the cdp at 00:30,
    is refused there (sync-skip) and so never travels on to the esp."""
    sync = [GO, "  - {from: crm, to: cdp, fields: [tier], latency: {fixed: 30m}, apply: version}",
            "  - {from: pos, to: cdp, fields: [tier], latency: {fixed: 5m}, apply: version}",
            "  - {from: cdp, to: esp, fields: [tier], latency: {fixed: 1m}}"]
    _, ev = simulate(scenario(sync=sync), person((0.0, "silver"), (10 * M, "gold")))
    assert rows(ev, "sync", field="tier")[["t", "system", "version"]].values.tolist() == [
        [15 * M, "cdp", 2], [16 * M, "esp", 2]]
    assert rows(ev, "sync-skip", field="tier")[["t", "system", "version"]].values.tolist() == [[30 * M, "cdp", 1]]


def test_a_cap_counts_a_send_the_channel_then_suppresses_for_consent():
    """Cap any 1 per 1d (sliding). ana is opted out of email at the esp and in to SMS. The email decided at 00:00
    passes the orchestrator (the cap counts it) and is suppressed by the esp for consent; the SMS decided at
    10:00 is then over the cap and dropped (frequency-cap), although nothing was delivered that day."""
    ana = ScriptedCustomer("ana", attributes={"stage": "A", "tier": "bronze"}, consent={"email": False, "sms": True},
                           timezone="UTC", events=((0.0, "go"),))
    steps = "{id: a, send: m}\n{id: w, wait: 10h}\n{id: b, send: t}"
    _, ev = simulate(scenario(steps=steps, policies="  frequency_caps: [{channel: any, max: 1, per: 1d}]"), ana)
    suppressed = rows(ev, "suppressed")
    assert suppressed[["t", "step"]].values.tolist() == [[0.0, "a"], [10 * H, "b"]]
    assert suppressed["detail"].iloc[0].startswith("consent: esp has email opt-out")
    assert suppressed["detail"].iloc[1].startswith("frequency-cap: any max 1 per 1d (sliding); dropped")
    assert rows(ev, "delivered").empty


def test_policies_apply_again_at_every_release():
    """Quiet hours 21:00-08:00 New York for SMS (hold), cap any 1 per 1d (sliding), on_cap: defer.

    go at 03:00Z on 12-02 (22:00 EST, t 27h): the SMS is held until 08:00 EST = 13:00Z (t 37h). The email one
    hour later (04:00Z, t 28h) is delivered at once and fills the cap. At 13:00Z the released SMS meets the cap
    and is deferred until the email leaves the 24 h window, 04:00Z on 12-03 (t 52h) = 23:00 EST: inside quiet
    hours again, so it is held until 08:00 EST on 12-03 = 13:00Z (t 61h), and delivered then, 1d10h after
    its decision.
    """
    policies = ('  quiet_hours: {from: "21:00", to: "08:00", channels: [sms], action: hold}\n'
                "  frequency_caps: [{channel: any, max: 1, per: 1d}]\n  on_cap: defer")
    steps = "{id: a, send: t}\n{id: w, wait: 1h}\n{id: b, send: m}"
    _, ev = simulate(scenario(steps=steps, policies=policies), person((27 * H, "go"), zone="America/New_York"))
    assert times(ev, "held") == [27 * H, 52 * H]
    assert times(ev, "deferred") == [37 * H]
    assert rows(ev, "delivered")[["t", "step"]].values.tolist() == [[28 * H, "b"], [61 * H, "a"]]
    assert rows(ev, "delivered")["detail"].iloc[1].startswith("decided 2026-12-02 03:00; after 1d10h")


def test_a_cap_of_zero_drops_even_with_on_cap_defer():
    """email max 0 per 1d with on_cap: defer: no time would ever allow the send, so it is dropped at once."""
    policies = "  frequency_caps: [{channel: email, max: 0, per: 1d}]\n  on_cap: defer"
    _, ev = simulate(scenario(steps="{id: a, send: m}", policies=policies), person((H, "go")))
    assert rows(ev, "deferred").empty and rows(ev, "delivered").empty
    assert rows(ev, "suppressed")["detail"].iloc[0].startswith("frequency-cap: email max 0 per 1d (sliding); dropped")


def test_every_test_named_in_docs_semantics_exists():
    """docs/semantics.md backs each example with a test name: every one of them must be a test in tests/."""
    import re

    from conftest import ROOT

    named = set(re.findall(r"`(test_\w+)`", (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")))
    defined = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        defined |= set(re.findall(r"^def (test_\w+)\(", path.read_text(encoding="utf-8"), re.M))
    assert len(named) >= 40
    assert sorted(named - defined) == []
