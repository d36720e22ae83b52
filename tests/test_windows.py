"""Execution windows, ``journeys[].execution_window`` (docs/platforms.md, "Execution windows").

Builders from test_findings_kinds: start 2026-12-01T00:00:00Z, a Tuesday; ``go`` reaches the cdp at once;
every journey reads the cdp; delivery delays 0. New York is UTC-5 in December (09:00 EST = 14:00Z),
Tokyo UTC+9 (09:00 JST = 00:00Z). Every time was derived by hand (in each docstring) before running.
"""

from __future__ import annotations

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_findings_kinds import H, M, journey, person, run, scenario

from simulator.cli import cli

NY = "America/New_York"
D = 24 * H
BUY_NOW = "  - {from: web, to: cdp, fields: [buy]}\n  - {from: crm, to: cdp, fields: [tier]}"


def windowed(window: str, *steps: str, exit_when: str = "", duration: str = "10d") -> str:
    text = scenario(sync=BUY_NOW, duration=duration, journeys=journey(*steps, exit_when=exit_when))
    return text.replace("    reads_from: cdp\n", f"    reads_from: cdp\n    execution_window: {window}\n", 1)


def ev(result, kind: str):
    e = result.events()
    return e[e["kind"] == kind].reset_index(drop=True)


def delivered(result) -> list:
    return ev(result, "delivered")[["t", "message"]].values.tolist()


MON_THU = "{from: '09:00', to: '17:00', days: [mon, tue, wed, thu], timezone: %s}"


def test_an_action_before_the_window_opens_runs_at_the_opening_in_the_account_zone():
    """Window Mon-Thu 09:00-17:00 America/New_York. go at Tue 12:00Z = 07:00 EST: before the opening, so
    the send is rescheduled to Tue 09:00 EST = 14:00Z (t = 14h), delivered then; one 'rescheduled' record
    at 12h. Inside the window (go at 15:00Z = 10:00 EST) it runs at once."""
    text = windowed(MON_THU % NY, "{id: s, send: m}")
    early = run(text, person((12 * H, "go")))
    assert delivered(early) == [[14 * H, "m"]]
    [r] = ev(early, "rescheduled").to_dict("records")
    assert (r["t"], r["step"]) == (12 * H, "s")
    assert r["detail"] == ("execution window mon,tue,wed,thu 09:00-17:00 America/New_York: reached Tue 07:00 "
                           "local; runs 2026-12-01 14:00")
    assert delivered(run(text, person((15 * H, "go")))) == [[15 * H, "m"]]


def test_the_account_zone_against_the_recipients_zone():
    """A Tokyo customer, go at Tue 12:00Z. Account zone New York: 07:00 EST, rescheduled to 14:00Z (t = 14h).
    recipient: 21:00 JST Tue, after 17:00: next opening Wed 09:00 JST = Wed 00:00Z (t = 24h)."""
    tokyo = person((12 * H, "go"), zone="Asia/Tokyo")
    assert delivered(run(windowed(MON_THU % NY, "{id: s, send: m}"), tokyo)) == [[14 * H, "m"]]
    assert delivered(run(windowed(MON_THU % "recipient", "{id: s, send: m}"), tokyo)) == [[24 * H, "m"]]


def test_delays_and_branches_are_not_rescheduled_but_the_next_action_is():
    """HubSpot's example: Mon-Thu 09:00-17:00 New York; go Thu Dec 3 15:00Z (10:00 EST, t = 2d15h); a 2-day
    delay ends Sat Dec 5 15:00Z (t = 4d15h); the branch runs then (its decision record is at 4d15h); the
    send after it is rescheduled to Mon Dec 7 09:00 EST = 14:00Z (t = 6d14h)."""
    text = windowed(MON_THU % NY, "{id: w, wait: 2d}",
                    "{id: b, branch: [{when: \"tier == 'bronze'\", goto: s}, {else: end}]}", "{id: s, send: m}")
    result = run(text, person((2 * D + 15 * H, "go")))
    assert ev(result, "decision")["t"].tolist() == [4 * D + 15 * H]
    assert ev(result, "rescheduled")[["t", "step"]].values.tolist() == [[4 * D + 15 * H, "s"]]
    assert delivered(result) == [[6 * D + 14 * H, "m"]]


def test_update_steps_are_actions_too():
    """Window every day 09:00-17:00 UTC; go at 20:00 (t = 20h); steps: update stage C at crm, send m. The
    update is rescheduled to Wed 09:00 UTC (t = 33h); it writes stage C at crm then, and the send, inside
    the window by then, runs at once: m at 33h."""
    text = windowed("{from: '09:00', to: '17:00', timezone: UTC}", "{id: u, update: {stage: C}, at: crm}",
                    "{id: s, send: m}")
    result = run(text, person((20 * H, "go")))
    truth = ev(result, "truth")
    assert truth[truth["field"] == "stage"][["t", "value"]].values.tolist() == [[33 * H, "C"]]
    assert delivered(result) == [[33 * H, "m"]]


def test_an_exit_while_rescheduled_cancels_the_action():
    """Window 09:00-17:00 UTC, continuous exit on buy. go at 02:00: the send is rescheduled to 09:00; buy at
    05:00 (cdp at once): exit at 05:00; nothing is sent at 09:00."""
    text = windowed("{from: '09:00', to: '17:00', timezone: UTC}", "{id: s, send: m}",
                    exit_when="{event: buy, check: continuous}")
    result = run(text, person((2 * H, "go"), (5 * H, "buy")))
    assert ev(result, "exit")["t"].tolist() == [5 * H] and delivered(result) == []


def test_jitter_spreads_rescheduled_actions_over_its_window():
    """jitter 15m: three customers reaching the send at 02:00 UTC run at 09:00 + u*15m, u uniform on [0, 1)
    from the journey's own stream: every time in [09:00, 09:15), not all equal; the same seed gives the
    same times."""
    text = windowed("{from: '09:00', to: '17:00', timezone: UTC, jitter: 15m}", "{id: s, send: m}")
    people = [person((2 * H, "go"), name=n) for n in ("ana", "bob", "cy")]
    first = [t for t, _ in delivered(run(text, *people))]
    assert len(first) == 3 and all(9 * H <= t < 9 * H + 15 * M for t in first) and len(set(first)) == 3
    assert [t for t, _ in delivered(run(text, *people))] == first


def test_bad_windows_exit_2_with_a_fix(tmp_path):
    path = tmp_path / "s.yaml"
    cases = {
        "{from: '17:00', to: '09:00', timezone: UTC}": "runs from 'from' to a later 'to'",
        "{from: '09:00', to: '09:10', timezone: UTC, jitter: 15m}": "'jitter' must be shorter than the window",
        "{from: '09:00', to: '17:00', timezone: America/New_Yrok}": "did you mean 'America/New_York'?",
        "{from: '09:00', to: '17:00'}": "timezone",
        "{from: '09:00', to: '17:00', timezone: UTC, days: [mon, mon]}": "names a day twice",
        "{from: '09:00', to: '17:00', timezone: UTC, days: [monday]}": "mon",
    }
    for window, message in cases.items():
        path.write_text(windowed(window, "{id: s, send: m}"))
        out = CliRunner().invoke(cli, ["validate", str(path)])
        assert out.exit_code == 2 and message in out.output and "execution_window" in out.output, (window, out.output)


@settings(max_examples=20, deadline=None)
@given(reach=st.integers(0, 3 * 86400 - 1), start_h=st.integers(0, 22), hours=st.integers(1, 8))
def test_an_action_runs_at_the_next_opening(reach: int, start_h: int, hours: int):
    """Window every day from F = start_h:00 to T = min(F + hours, 24:00) UTC, no jitter; go at r seconds (sod =
    r mod 1d). Inside [F, T): the send runs at r. Before F: at that day's F. At or after T: the next day's F."""
    end_h = min(start_h + hours, 24)
    to = "23:59" if end_h == 24 else f"{end_h:02d}:00"
    f, t = start_h * 3600, (end_h * 3600 if end_h < 24 else 23 * 3600 + 59 * 60)
    text = windowed(f"{{from: '{start_h:02d}:00', to: '{to}', timezone: UTC}}", "{id: s, send: m}", duration="5d")
    day, sod = divmod(reach, 86400)
    expected = reach if f <= sod < t else day * 86400 + f if sod < f else (day + 1) * 86400 + f
    assert delivered(run(text, person((float(reach), "go")))) == [[float(expected), "m"]]
