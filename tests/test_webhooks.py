"""Duplicate engagement webhooks (``systems.<channel>.webhooks``), pinned on tiny hand-checked scenarios.

Clock ``t`` is seconds after ``start``. One scripted customer (``ana``) triggers ``go`` at t=0; the
journey sends email ``m`` at once; delivery_delay 0, so it is delivered at t=0. ``open: 1`` with
``open_delay: {fixed: 1h}`` makes the open happen at the esp at t=1h; the esp -> cdp link has a fixed
10m latency. Every expectation was derived by hand before running the engine.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.engine import Engine
from simulator.engine.events import EventLog
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.load import load_scenario_text

M, H = 60.0, 3600.0

TEXT = """\
scenario: webhooks
start: 2026-12-01T00:00:00Z
duration: {duration}
seed: 1
default_timezone: UTC
population:
  size: {size}
  behaviour:
    email: {{open: {open}, open_delay: {{fixed: 1h}}}}
  events:
    - {{name: go, origin: web, once: {{probability: 1, at: {{uniform: {{low: 0s, high: 1h}}}}}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email{hooks}}}
sync:
  - {{from: web, to: cdp, fields: [go]}}
  - {{from: esp, to: cdp, fields: [events], latency: {{fixed: 10m}}}}
messages:
  m: {{channel: email, body: "Hi {{{{ unsubscribe_url }}}}"}}
  recent: {{channel: email, body: "Again {{{{ unsubscribe_url }}}}"}}
journeys:
  - name: j
    reads_from: cdp
    entry: {{event: go}}
    steps:
      - {{id: send, send: m}}
      - {{id: opened, wait_until: {{event: email_opened, timeout: 1d}}}}
      - {{id: pause, wait: 1h}}
      - id: check
        branch:
          - {{when: "has_event('email_opened', within='45m')", goto: again}}
          - {{else: end}}
      - {{id: again, send: recent}}
"""


def text(*, rate: float | None, delay: str = "{fixed: 30m}", size: int = 0, open_: float = 1,
         duration: str = "1d") -> str:
    hooks = "" if rate is None else f", webhooks: {{duplicate_rate: {rate}, duplicate_delay: {delay}}}"
    return TEXT.format(hooks=hooks, size=size, open=open_, duration=duration)


def simulate(source: str, *people: ScriptedCustomer, seed: int = 1) -> pd.DataFrame:
    sc = load_scenario_text(source)
    log = EventLog(None, sc.start)
    Engine(sc, seed=seed, log=log, scripted=list(people)).run()
    log.close()
    return log.to_pandas()


ANA = ScriptedCustomer("ana", consent={"email": True}, timezone="UTC", events=((0.0, "go"),))


def opened(ev: pd.DataFrame) -> pd.DataFrame:
    return ev[(ev["kind"] == "event") & (ev["field"] == "email_opened")]


def test_rate_1_emits_a_second_open_30m_later_that_syncs_to_the_cdp():
    """duplicate_rate 1, delay {fixed: 30m}: the open at the esp at 1h is emitted again at 1h30m, marked as a
    duplicate; the cdp receives @email_opened at 1h + 10m = 1h10m and again at 1h30m + 10m = 1h40m. The
    second message (`recent`, sent and delivered at 2h10m, see the next test) is opened at 3h10m, duplicated
    at 3h40m; those reach the cdp at 3h20m and 3h50m."""
    ev = simulate(text(rate=1), ANA)
    o = opened(ev)
    assert o["t"].tolist() == [1 * H, 1 * H + 30 * M, 3 * H + 10 * M, 3 * H + 40 * M]
    assert o["system"].tolist() == ["esp"] * 4
    assert o["detail"].isna().tolist() == [True, False, True, False]
    assert o["detail"].iloc[1] == "duplicate webhook of email_opened at 2026-12-01 01:00"
    assert o["detail"].iloc[3] == "duplicate webhook of email_opened at 2026-12-01 03:10"
    arrivals = ev[(ev["kind"] == "sync") & (ev["system"] == "cdp") & (ev["field"] == "@email_opened")]
    assert arrivals["t"].tolist() == [1 * H + 10 * M, 1 * H + 40 * M, 3 * H + 20 * M, 3 * H + 50 * M]


def test_duplicate_feeds_a_recency_branch_but_not_the_wait_already_left():
    """The wait_until email_opened is left when the first open reaches the cdp (1h10m); the duplicate (cdp at
    1h40m) does not re-trigger it. After `wait: 1h` (until 2h10m) the branch has_event('email_opened',
    within='45m') reads the last occurrence time at the cdp: with the duplicate 1h30m (40m ago: true, so
    `recent` is sent at 2h10m); with rate 0 it is 1h (70m ago: false, the journey ends)."""
    dup = simulate(text(rate=1), ANA)
    sends = dup[dup["kind"] == "send"]
    assert sends[["t", "message"]].values.tolist() == [[0.0, "m"], [2 * H + 10 * M, "recent"]]
    none = simulate(text(rate=0), ANA)
    assert none[none["kind"] == "send"]["message"].tolist() == ["m"]
    assert opened(none)["t"].tolist() == [1 * H]
    # the wait is left once, at the first arrival (1h10m), in both runs; the branch runs at 2h10m
    for ev in (dup, none):
        assert ev[ev["kind"] == "wait-end"][["t", "step"]].values.tolist() == [[1 * H + 10 * M, "opened"]]
        assert set(ev[ev["kind"] == "decision"]["t"]) == {2 * H + 10 * M}  # one record per arm evaluated


def test_rate_0_and_no_setting_give_the_same_log():
    """duplicate_rate 0 draws nothing and emits nothing: the log is identical to the one without `webhooks:`."""
    src0, srcn = text(rate=0, size=30), text(rate=None, size=30)
    a, b = simulate(src0), simulate(srcn)
    pd.testing.assert_frame_equal(a, b)
    assert opened(a)["detail"].isna().all()


def test_webhooks_only_on_channel_systems():
    """`webhooks:` on a non-channel system is an input error naming the key."""
    bad = text(rate=None).replace("cdp: {kind: cdp}", "cdp: {kind: cdp, webhooks: {duplicate_rate: 0.1}}")
    with pytest.raises(Exception, match="webhooks"):
        load_scenario_text(bad)


@settings(max_examples=15, deadline=None)
@given(rate=st.sampled_from([0.0, 0.1, 0.5, 1.0]), seed=st.integers(0, 2**16), size=st.integers(1, 40))
def test_duplicates_never_exceed_originals_and_do_not_shift_other_draws(rate, seed, size):
    """With duplicate_rate r (delay fixed 30m, horizon 2d so every duplicate lands inside it): the original
    opens are exactly those of the run without webhooks (a separate random stream); each duplicate is one
    original of the same customer 30m later; r=1 duplicates every open, r=0 none. (The journey's recency
    branch can add a second send, whose own open is an original too, so originals are compared on the
    first message's opens: sent at entry, opened 1h after delivery.)"""
    base = simulate(text(rate=None, size=size, duration="2d"), seed=seed)
    ev = simulate(text(rate=rate, size=size, duration="2d"), seed=seed)
    o = opened(ev)
    orig, dups = o[o["detail"].isna()], o[o["detail"].notna()]
    first_base = opened(base)[["t", "customer"]].sort_values(["customer", "t"]).groupby("customer").head(1)
    first_ev = orig[["t", "customer"]].sort_values(["customer", "t"]).groupby("customer").head(1)
    assert first_ev.values.tolist() == first_base.values.tolist()
    pairs = {(c, round(t - 30 * M, 6)) for c, t in dups[["customer", "t"]].itertuples(index=False)}
    assert pairs <= {(c, round(t, 6)) for c, t in orig[["customer", "t"]].itertuples(index=False)}
    assert len(dups) <= len(orig)
    if rate == 1.0:
        assert len(dups) == len(orig)
    if rate == 0.0:
        assert dups.empty
