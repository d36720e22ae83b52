"""Polled waits, ``wait_until: {event: E, poll: N}`` (docs/semantics.md, "Polling waits").

Builders from test_findings_kinds: start 2026-12-01T00:00:00Z; ``go`` reaches the cdp at once; ``buy``
happens at web; every journey reads the cdp; delivery delays 0. Every time below was derived by hand
(in each docstring) before running.
"""

from __future__ import annotations

import math

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from test_findings_kinds import H, M, journey, person, run, scenario

from simulator.cli import cli

BUY_2M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}"


def ev(result, kind: str):
    e = result.events()
    return e[e["kind"] == kind].reset_index(drop=True)


def delivered(result) -> list:
    return ev(result, "delivered")[["t", "message"]].values.tolist()


GOLD = "\n  - {from: pos, to: cdp, fields: [gold]}"


def waits(wait_until: str, *events, pre: str = "", exit_when: str = ""):
    steps = ([pre] if pre else []) + [f"{{id: w, wait_until: {wait_until}}}", "{id: s, send: m}"]
    return run(scenario(sync=BUY_2M + GOLD, journeys=journey(*steps, exit_when=exit_when)), person(*events))


def test_a_buy_between_looks_is_seen_at_the_next_look():
    """poll 10m: looks at 10m, 20m, 30m, ... after the wait began (0). ana buys at 23m; the buy reaches the
    cdp at 25m (web->cdp 2m); the look at 20m sees nothing, the look at 30m (poll 3) sees it: the wait ends
    at 30m and m is delivered at 30m. Without poll the wait ends when the buy arrives: 25m."""
    polled = waits("{event: buy, poll: 10m}", (0, "go"), (23 * M, "buy"))
    end = ev(polled, "wait-end")
    assert end["t"].tolist() == [30 * M]
    assert end["detail"][0] == "event seen at poll 3 (arrived at cdp 2026-12-01 00:25; polled every 10m)"
    assert delivered(polled) == [[30 * M, "m"]]
    plain = waits("{event: buy}", (0, "go"), (23 * M, "buy"))
    assert ev(plain, "wait-end")["t"].tolist() == [25 * M]
    assert delivered(plain) == [[25 * M, "m"]]


def test_a_look_at_the_timeout_instant_comes_first():
    """poll 10m, timeout 1h, on_timeout end. Buy at 55m, at the cdp at 57m. The looks at 10m..50m see
    nothing; the look at 60m is due at the timeout instant and comes first: it sees the buy (poll 6), the
    wait ends as an event at 1h and m is delivered at 1h (not the timeout's 'end')."""
    result = waits("{event: buy, poll: 10m, timeout: 1h, on_timeout: end}", (0, "go"), (55 * M, "buy"))
    end = ev(result, "wait-end")
    assert end["t"].tolist() == [1 * H] and end["detail"][0].startswith("event seen at poll 6 ")
    assert delivered(result) == [[1 * H, "m"]]


def test_a_timeout_between_looks_ends_the_wait_before_the_next_look():
    """poll 10m, timeout 55m, on_timeout end. Buy at 50m, at the cdp at 52m. The look at 50m sees nothing
    (the buy is not there yet); the timeout at 55m ends the wait (detail 'timeout') and the journey (end):
    nothing is sent, although the cdp has had the buy since 52m. Without poll: wait-end at 52m, m at 52m."""
    result = waits("{event: buy, poll: 10m, timeout: 55m, on_timeout: end}", (0, "go"), (50 * M, "buy"))
    end = ev(result, "wait-end")
    assert end[["t", "detail"]].values.tolist() == [[55 * M, "timeout"]]
    assert delivered(result) == []
    assert ev(result, "exit")[["t", "detail"]].values.tolist() == [[55 * M, "completed"]]
    plain = waits("{event: buy, timeout: 55m, on_timeout: end}", (0, "go"), (50 * M, "buy"))
    assert delivered(plain) == [[52 * M, "m"]]


def test_an_event_that_arrived_before_the_wait_began_does_not_count():
    """wait 30m, then the polled wait (poll 10m, timeout 1h, on_timeout end). Buy at 5m, at the cdp at 7m,
    before the wait began (30m): the looks at 40m..90m see no newer buy, the wait times out at 90m; nothing
    is sent (as an unpolled wait_until, which waits for an arrival too)."""
    result = waits("{event: buy, poll: 10m, timeout: 1h, on_timeout: end}", (0, "go"), (5 * M, "buy"),
                   pre="{id: pause, wait: 30m}")
    assert ev(result, "wait-end")[["t", "detail"]].values.tolist() == [[90 * M, "timeout"]]
    assert delivered(result) == []


def test_an_exit_during_a_polled_wait_stops_the_looks():
    """continuous exit on buy, polled wait on the event 'gold' (never happens), poll 10m, no timeout, 2d run.
    The buy at 23m reaches the cdp at 25m: the instance exits at 25m; no wait-end, no send, and it is not
    'active-at-end'."""
    result = waits("{event: gold, poll: 10m}", (0, "go"), (23 * M, "buy"),
                   exit_when="{event: buy, check: continuous}")
    assert ev(result, "exit")["t"].tolist() == [25 * M]
    assert ev(result, "wait-end").empty and delivered(result) == [] and ev(result, "active-at-end").empty


def test_still_waiting_at_the_end_names_the_polled_key():
    """No buy; poll 1h, no timeout, a 2d run: the customer is active at the end, waiting for '@buy polled
    every 1h'."""
    result = waits("{event: buy, poll: 1h}", (0, "go"))
    assert ev(result, "active-at-end")["field"].tolist() == ["@buy polled every 1h"]


def test_after_waits_exit_check_runs_when_a_polled_wait_ends():
    """after_waits exit on buy; polled wait on 'gold' (poll 10m); ana buys at 3m (cdp 5m), golds at 12m
    (gold happens at pos; no pos->cdp link carries it, so add one with no latency: at the cdp at 12m). The
    look at 20m sees gold; the after-wait check sees the buy and the instance exits at 20m; m is not sent."""
    text = scenario(sync=BUY_2M + GOLD,
                    journeys=journey("{id: w, wait_until: {event: gold, poll: 10m}}", "{id: s, send: m}",
                                     exit_when="{event: buy, check: after_waits}"))
    result = run(text, person((0, "go"), (3 * M, "buy"), (12 * M, "gold")))
    assert ev(result, "wait-end")["t"].tolist() == [20 * M]
    assert ev(result, "exit")[["t", "detail"]].values.tolist() == [[20 * M, "exit_when met (buy)"]]
    assert delivered(result) == []


@settings(max_examples=25, deadline=None)
@given(buy_minute=st.integers(0, 180), poll_minutes=st.sampled_from([1, 5, 10, 15, 60]))
def test_the_wait_ends_at_the_first_look_after_the_arrival(buy_minute: int, poll_minutes: int):
    """Buy at b = buy_minute min + 30 s (never on a look: looks are whole multiples of the poll), at the cdp
    at a = b + 2 min. The wait (begun at 0) ends at the first look at or after a: ceil(a / N) * N."""
    b = buy_minute * M + 30
    poll = poll_minutes * M
    result = waits(f"{{event: buy, poll: {poll_minutes}m}}", (0, "go"), (b, "buy"))
    expected = math.ceil((b + 2 * M) / poll) * poll
    assert ev(result, "wait-end")["t"].tolist() == [expected]
    assert delivered(result) == [[expected, "m"]]


def test_bad_poll_is_exit_2_with_the_key_path(tmp_path):
    text = scenario(sync=BUY_2M, journeys=journey("{id: w, wait_until: {event: buy, poll: 0s}}", "{id: s, send: m}"))
    path = tmp_path / "s.yaml"
    path.write_text(text)
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2, out.output
    assert "wait_until.poll" in out.output and "poll must be longer than 0s" in out.output
    path.write_text(text.replace("poll: 0s", "pol: 10m"))
    out = CliRunner().invoke(cli, ["validate", str(path)])
    assert out.exit_code == 2 and "poll" in out.output, out.output
