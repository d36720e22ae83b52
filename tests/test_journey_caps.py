"""Journey caps, ``policies.journey_caps`` (docs/semantics.md, "Journey caps").

Builders from test_findings_kinds: start 2026-12-01T00:00:00Z; ``go`` reaches the cdp at once, and here
``buy`` too (web->cdp, no latency). Journey a enters on go, journey b on buy; each sends one message at
entry (and completes at once) unless a test says otherwise. Every time was derived by hand first.
"""

from __future__ import annotations

from click.testing import CliRunner
from test_findings_kinds import H, M, journey, person, run, scenario

from simulator.cli import cli

BUY_NOW = "  - {from: web, to: cdp, fields: [buy]}"


def two(caps: str, a_steps=("{id: s, send: m}",), a_re_entry="false") -> str:
    journeys = journey(*a_steps, name="a", re_entry=a_re_entry) + journey("{id: s, send: m2}", name="b",
                                                                          entry="{event: buy}")
    return scenario(sync=BUY_NOW, journeys=journeys, policies=f"  journey_caps: {caps}")


def entries(result) -> list:
    e = result.events()
    return e[e["kind"] == "entry"][["t", "journey"]].values.tolist()


def skips(result) -> list:
    e = result.events()
    return e[e["kind"] == "entry-skip"][["t", "journey", "detail"]].values.tolist()


def test_an_entries_cap_over_a_sliding_day():
    """{max: 1, per: 1d}: a enters at 0 (go). buy at 23h: the entry at 0 is within the last 24h (0 + 24h >
    23h): b is refused, entry-skip 'journey cap 0: at most 1 entry per 1d (sliding) across every journey
    (has 1)'. buy at 25h: the entry at 0 has left the window: b enters at 25h."""
    result = run(two("[{max: 1, per: 1d}]"), person((0, "go"), (23 * H, "buy"), (25 * H, "buy")))
    assert entries(result) == [[0.0, "a"], [25 * H, "b"]]
    assert skips(result) == [[23 * H, "b", "journey cap 0: at most 1 entry per 1d (sliding) across every journey "
                                           "(has 1)"]]


def test_a_calendar_cap_counts_utc_days():
    """go at 20h (Dec 1), buy at 25h (Dec 2 01:00 UTC). calendar: a new UTC day, b enters at 25h. sliding:
    20h + 24h > 25h, b is refused."""
    people = (person((20 * H, "go"), (25 * H, "buy")),)
    assert entries(run(two("[{max: 1, per: 1d, window: calendar}]"), *people)) == [[20 * H, "a"], [25 * H, "b"]]
    assert entries(run(two("[{max: 1, per: 1d}]"), *people)) == [[20 * H, "a"]]


def test_a_concurrent_cap_counts_the_journeys_a_customer_is_in():
    """{kind: concurrent, max: 1}; a waits 2h then sends. go at 0: a from 0 to 2h. buy at 1h: a customer in a
    already: b refused ('at most 1 at once ... (has 1)'). buy at 3h: a has ended: b enters at 3h."""
    text = two("[{kind: concurrent, max: 1}]", a_steps=("{id: w, wait: 2h}", "{id: s, send: m}"))
    result = run(text, person((0, "go"), (1 * H, "buy"), (3 * H, "buy")))
    assert entries(result) == [[0.0, "a"], [3 * H, "b"]]
    assert [s[:2] for s in skips(result)] == [[1 * H, "b"]]
    assert skips(result)[0][2] == "journey cap 0: at most 1 at once across every journey (has 1)"


def test_a_cap_that_starts_late_lets_early_entries_through_and_counts_them():
    """{max: 1, per: 1d, starts_after: 10m}; a has re-entry on. go at 0: a enters (the cap refuses nothing
    before 10m); buy at 5m: b enters (count 1, but before 10m); go at 15m: count 2 >= 1, a is refused."""
    result = run(two("[{max: 1, per: 1d, starts_after: 10m}]", a_re_entry="true"),
                 person((0, "go"), (5 * M, "buy"), (15 * M, "go")))
    assert entries(result) == [[0.0, "a"], [5 * M, "b"]]
    assert [s[:2] for s in skips(result)] == [[15 * M, "a"]]


def test_a_cap_counts_only_the_journeys_it_lists():
    """{max: 1, per: 1d, journeys: [b]}: a's entry at 0 is not counted (a is not listed), so b enters at 23h
    although a's entry is within the last 24h (with every journey counted it would be refused)."""
    result = run(two("[{max: 1, per: 1d, journeys: [b]}]"), person((0, "go"), (23 * H, "buy")))
    assert entries(result) == [[0.0, "a"], [23 * H, "b"]]


def test_bad_caps_exit_2(tmp_path):
    path = tmp_path / "s.yaml"
    for caps, words in [("[{max: 1, per: 1d, journeys: [bb]}]", "did you mean 'b'?"),
                        ("[{max: 1}]", "an entries cap needs 'per'"),
                        ("[{kind: concurrent, max: 1, per: 1d}]", "takes no 'per' or 'window'"),
                        ("[{max: 1, per: 36h, window: calendar}]", "whole UTC days")]:
        path.write_text(two(caps))
        out = CliRunner().invoke(cli, ["validate", str(path)])
        assert out.exit_code == 2 and words in out.output and "journey_caps" in out.output, (caps, out.output)
