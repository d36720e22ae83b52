"""Holdouts (`holdout: 10%` on a journey): who is drawn, what a holdout customer does, what the log says.

Hand-built scenarios: scripted customers (``population.size: 0``) with explicit event times, every sync
latency 0, so entry happens at the instant the cart event happens. Only the holdout draw is random;
where a test needs particular arms it names the seed that gives them and asserts them from the log.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulator.engine import Engine
from simulator.errors import ScenarioError
from simulator.engine.events import EventLog
from simulator.engine.population import ScriptedCustomer
from simulator.scenario.experiments import holdout_text, parse_holdout
from simulator.scenario.load import load_scenario_text

H = 3600.0

TEXT = """\
scenario: holdout
start: 2026-12-01T00:00:00Z
duration: {duration}
seed: 1
population:
  size: {size}
  consent: {{email: 1.0}}
  events:
    - {{name: cart, origin: web, once: {{probability: 1, at: {cart_at}}}}}
    - {{name: purchase, origin: web, once: {{probability: 0, at: {{fixed: 0s}}}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
sync:
  - {{from: web, to: cdp, fields: [events]}}
messages:
  m: {{channel: email, body: "Hi"}}
journeys:
  - name: j
    reads_from: cdp
{holdout}    entry: {{event: cart}}
    steps:
      - {{id: w, wait: 1h}}
      - {{id: e1, send: m}}
      - {{id: w2, wait: 1d}}
      - {{id: up, update: {{reminded: true}}, at: cdp}}
"""


def scenario(holdout: str | None = "50%", *, size: int = 0, duration: str = "3d",
             cart_at: str = "{fixed: 1h}") -> str:
    line = f"    holdout: {holdout}\n" if holdout is not None else ""
    return TEXT.format(holdout=line, size=size, duration=duration, cart_at=cart_at)


def people(n: int = 6) -> list[ScriptedCustomer]:
    """a1..an, opted in to email, each abandoning a cart at 01:00."""
    return [ScriptedCustomer(f"a{i}", consent={"email": True}, events=((1 * H, "cart"),)) for i in range(1, n + 1)]


def simulate(text: str, scripted: list[ScriptedCustomer] = (), seed: int = 198) -> pd.DataFrame:
    sc = load_scenario_text(text)
    log = EventLog(None, sc.start)
    Engine(sc, seed=seed, log=log, scripted=list(scripted)).run()
    log.close()
    return log.to_pandas()


def arms(ev: pd.DataFrame) -> dict[str, str]:
    entries = ev[ev["kind"] == "entry"]
    return dict(zip(entries["customer"], entries["field"]))


# ---------------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("written, share", [("10%", 0.10), (10, 0.10), ("10", 0.10), (" 12.5 % ", 0.125),
                                            (1, 0.01), ("0.5%", 0.005), (99.9, 0.999)])
def test_holdout_accepts_percentages(written, share):
    """`10%`, `10` and `'10'` all mean a tenth; `0.5%` half a percent."""
    assert parse_holdout(written) == pytest.approx(share)
    assert parse_holdout(holdout_text(parse_holdout(written))) == pytest.approx(share)


@pytest.mark.parametrize("written, says", [
    (0.1, "ambiguous holdout 0.1: a bare number is a percentage, so this would be 0.1% of customers; "
          "write '0.1%' for that, or '10%' for 10 in 100"),
    ("0%", "remove the key for no holdout"), (0, "remove the key for no holdout"),
    ("100%", "with 100% nobody would be messaged"), (150, "with 100% nobody would be messaged"),
    ("-5%", "expected a percentage above 0% and below 100%"), ("ten", "expected a percentage above 0%"),
    (True, "expected a percentage"),
])
def test_holdout_refuses_out_of_range_and_ambiguous_values(written, says):
    with pytest.raises(ValueError, match=".*" + says.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_holdout(written)


def test_a_bad_holdout_is_a_located_validation_error():
    """`holdout: 0.1` in a file: one error at journeys[0].holdout, line 22 (the holdout line: 19 lines of
    scenario before `journeys:`, then `- name`, `reads_from`), column 14 (after `    holdout: `), with the fix."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(scenario("0.1"), "s.yaml")
    issues = err.value.issues
    assert len(issues) == 1
    assert issues[0].path == "journeys[0].holdout"
    assert (issues[0].line, issues[0].column) == (22, 14)
    assert "write '0.1%' for that, or '10%' for 10 in 100" in issues[0].format()


# ---------------------------------------------------------------------------------------------------- behaviour


def test_holdout_customers_walk_the_journey_but_are_never_messaged():
    """Seed 198 draws a4, a5, a6 into the 50% holdout (asserted from the entry records).

    Everyone enters at 01:00 (cart at 01:00, latency 0) and starts `w`; at 02:00 each reaches `e1`:
    a1..a3 get a `send` and a `delivered` (no delivery delay) at 02:00; a4..a6 get a `held-out` record at
    02:00 naming channel email and message m, and no send, consent-check, render, queued or delivered.
    All six then wait `w2` (1 day) and run `up` at 1d 02:00 (the update is not a message: it runs for
    the holdout too), and complete.
    """
    ev = simulate(scenario(), people())
    assert arms(ev) == {"a1": "treated", "a2": "treated", "a3": "treated",
                        "a4": "holdout", "a5": "holdout", "a6": "holdout"}
    held = ev[ev["kind"] == "held-out"]
    assert held["customer"].tolist() == ["a4", "a5", "a6"]
    assert held["t"].tolist() == [2 * H] * 3
    assert set(held["step"]) == {"e1"} and set(held["channel"]) == {"email"} and set(held["message"]) == {"m"}
    assert held["detail"].tolist() == ["holdout of j: not sent; inst=1"] * 3
    messaged = ev[ev["kind"].isin(["send", "consent-check", "render", "queued", "delivered", "suppressed"])]
    assert set(messaged["customer"]) == {"a1", "a2", "a3"}
    assert ev[ev["kind"] == "delivered"][["customer", "t"]].values.tolist() == [["a1", 2 * H], ["a2", 2 * H],
                                                                                 ["a3", 2 * H]]
    steps = ev[ev["kind"] == "step"].groupby("customer")["step"].agg(list).to_dict()
    assert steps == {f"a{i}": ["w", "e1", "w2", "up"] for i in range(1, 7)}
    exits = ev[ev["kind"] == "exit"]
    assert exits["t"].tolist() == [26 * H] * 6 and set(exits["detail"]) == {"completed"}


def test_without_holdout_the_entry_has_no_arm_and_nothing_is_held_out():
    ev = simulate(scenario(None), people())
    assert ev[ev["kind"] == "entry"]["field"].isna().all()
    assert not (ev["kind"] == "held-out").any()
    assert (ev["kind"] == "delivered").sum() == 6


def test_a_holdout_draws_from_its_own_stream():
    """Adding a holdout changes nothing drawn elsewhere: with and without `holdout: 30%`, 300 generated
    customers have the same cart times (population/exogenous streams) and the same entries (300 each); only
    the sends of the holdout customers become held-out records (and their email_delivered events vanish)."""
    with_h = simulate(scenario("30%", size=300, cart_at="{uniform: {low: 0s, high: 1d}}"), seed=5)
    without = simulate(scenario(None, size=300, cart_at="{uniform: {low: 0s, high: 1d}}"), seed=5)
    for kind in ("event", "entry"):
        a, b = (ev[(ev["kind"] == kind) & (ev["field"] != "email_delivered")][["t", "customer"]].reset_index(drop=True)
                for ev in (with_h, without))
        assert len(a) == 300
        pd.testing.assert_frame_equal(a, b)
    held = set(with_h[with_h["kind"] == "held-out"]["customer"])
    assert held == {c for c, arm in arms(with_h).items() if arm == "holdout"}
    sends_without = without[without["kind"] == "send"]
    assert set(sends_without["customer"]) - held == set(with_h[with_h["kind"] == "send"]["customer"])


def test_re_entry_keeps_the_arm():
    """A customer is drawn once per journey: with re-entry after 1h cooldown and carts at 01:00 and
    2d 01:00, each of a1..a6 enters twice (the first pass ends at 1d 02:00) in the same arm both times."""
    text = scenario().replace("    entry: {event: cart}", "    re_entry: {cooldown: 1h}\n    entry: {event: cart}")
    again = [ScriptedCustomer(p.name, consent={"email": True}, events=((1 * H, "cart"), (49 * H, "cart")))
             for p in people()]
    ev = simulate(text, again)
    entries = ev[ev["kind"] == "entry"]
    assert entries.groupby("customer").size().tolist() == [2] * 6
    assert (entries.groupby("customer")["field"].nunique() == 1).all()
    held = ev[ev["kind"] == "held-out"]
    assert held.groupby("customer").size().to_dict() == {"a4": 2, "a5": 2, "a6": 2}


def test_holdout_share_at_20k_is_within_its_99_percent_binomial_interval():
    """`holdout: 10%`, 20,000 generated customers who all enter (cart once, uniform over the first day):
    the number in the holdout is Binomial(20000, 0.1): mean 2000, sd sqrt(20000 * 0.1 * 0.9) = 42.43, so
    its 99% interval is 2000 +- 2.5758 * 42.43 = [1890.7, 2109.3]. No holdout customer gets a send or a
    delivery; every treated customer who reached e1 (after the 1h wait: carts before 23:00 of a 1d run)
    got exactly one send."""
    ev = simulate(scenario("10%", size=20000, duration="1d", cart_at="{uniform: {low: 0s, high: 1d}}"), seed=0)
    arm = arms(ev)
    assert len(arm) == 20000
    n_hold = sum(a == "holdout" for a in arm.values())
    half = 2.5758293 * math.sqrt(20000 * 0.1 * 0.9)
    assert 2000 - half <= n_hold <= 2000 + half, n_hold
    held = {c for c, a in arm.items() if a == "holdout"}
    messaged = ev[ev["kind"].isin(["send", "delivered", "queued", "render"])]
    assert not (set(messaged["customer"]) & held)
    reached = ev[(ev["kind"] == "step") & (ev["step"] == "e1")]["customer"]
    sends = ev[ev["kind"] == "send"]["customer"]
    assert sorted(sends) == sorted(c for c in reached if c not in held)
    assert sorted(ev[ev["kind"] == "held-out"]["customer"]) == sorted(c for c in reached if c in held)


def test_holdout_draws_over_40_seeds_average_to_the_share():
    """The holdout draw alone (``holdout_arms``) for seeds 0..39 at 20,000 customers and 10%: the mean count
    is within the 99% interval of a mean of 40 Binomial(20000, 0.1) counts, 2000 +- 2.5758 * 42.43 / sqrt(40)
    = 2000 +- 17.28, and their standard deviation is within 25% of 42.43."""
    import numpy as np

    from simulator.projections.holdout import holdout_arms

    journey = load_scenario_text(scenario("10%")).journeys[0]
    counts = [int(holdout_arms(journey, 20000, int(np.random.SeedSequence(s).generate_state(1)[0])).sum())
              for s in range(40)]
    sd = math.sqrt(20000 * 0.1 * 0.9)
    assert abs(np.mean(counts) - 2000) <= 2.5758293 * sd / math.sqrt(40)
    assert abs(np.std(counts, ddof=1) / sd - 1) < 0.25


def test_trace_and_scenario_json_of_a_holdout_run(tmp_path):
    """`journeysim run` of the 50% holdout scenario with 40 generated customers (all abandon a cart at
    01:00): its scenario.json keeps `holdout: 50%` (and loads back to the same share), and `journeysim
    trace` of a holdout customer says which arm it entered in and that the send step sent nothing."""
    import json

    from click.testing import CliRunner

    from simulator.cli import cli

    path = tmp_path / "h.yaml"
    path.write_text(scenario("50%", size=40))
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--no-report", "--quiet"])
    assert result.exit_code == 0, result.output
    effective = json.loads((out / "scenario.json").read_text())
    assert effective["journeys"][0]["holdout"] == "50%"
    assert load_scenario_text(json.dumps(effective)).journeys[0].holdout == 0.5
    ev = pd.read_parquet(out / "events.parquet")
    held = ev[ev["kind"] == "held-out"]["customer"].iloc[0]
    traced = CliRunner().invoke(cli, ["trace", str(out), "--customer", held])
    assert traced.exit_code == 0, traced.output
    assert "ENTERS j (#1, event cart; holdout arm)" in traced.output
    assert "HELD OUT m (j/e1): holdout customer, nothing sent" in traced.output
    assert "SEND" not in traced.output and "DELIVERED" not in traced.output
