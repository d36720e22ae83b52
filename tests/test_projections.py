"""Projections (docs/projections.md): conversions per arm, split branch and path, intervals, revenue, gates.

Every expected number is derived by hand from the scripted customers' event times (written in each
docstring). Sync latencies are 0, so a customer enters at the instant of the cart event. Interval
values are worked out from the formulas in docs/projections.md (z = 1.959964, z^2 = 3.841459) and
checked against published values where they exist (Wilson 2/5; Newcombe 1998's worked example).
"""

from __future__ import annotations

import json
import math

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from simulator.cli import cli
from simulator.pipeline import run_scenario
from simulator.errors import ScenarioError
from simulator.findings.gates import evaluate_projection_gates
from simulator.engine.population import ScriptedCustomer
from simulator.projections.stats import katz_ratio, newcombe, wilson
from simulator.scenario.load import load_scenario_text
from simulator.scenario.model import Gate

H = 3600.0
D = 86400.0

TEXT = """\
scenario: proj
start: 2026-12-01T00:00:00Z
duration: 10d
seed: {seed}
population:
  size: {size}
  attributes: {{tier: {{choice: {{bronze: 1.0}}}}, value: {{fixed: 10}}}}
  consent: {{email: 1.0}}
  events:
    - {{name: cart, origin: web, once: {{probability: 1, at: {cart_at}}}}}
    - {{name: purchase, origin: web, {purchase}}}
    - {{name: upgrade, origin: web, once: {{probability: 0, at: {{fixed: 0s}}}}, sets: {{value: 80}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
sync:
  - {{from: web, to: cdp, fields: [events, tier]}}
  - {{from: esp, to: cdp, fields: [events]}}
messages:
  m: {{channel: email, body: "Hi"}}
projections: {projections}
{gates}journeys:
  - name: j
    reads_from: cdp
{holdout}    entry: {{event: cart}}
    steps:
{steps}
"""

BRANCH_STEPS = """\
      - {id: w, wait: 1h}
      - id: vip
        branch: [{when: "tier == 'gold'", goto: g}, {else: end}]
      - {id: g, send: m}"""

HOLDOUT_STEPS = """\
      - {id: w, wait: 1h}
      - {id: e1, send: m}
      - {id: w2, wait: 1d}"""


def scenario(*, steps: str = BRANCH_STEPS, holdout: str | None = None, projections: str = "{conversion: purchase}",
             gates: str = "", size: int = 0, seed: int = 1, cart_at: str = "{fixed: 0s}",
             purchase: str = "once: {probability: 0, at: {fixed: 0s}}") -> str:
    return TEXT.format(steps=steps, holdout=f"    holdout: {holdout}\n" if holdout else "", projections=projections,
                       gates=f"gates: {gates}\n" if gates else "", size=size, seed=seed, cart_at=cart_at,
                       purchase=purchase)


def customer(name: str, *events: tuple[float, str], tier: str = "bronze", value: float | None = None):
    attrs = {"tier": tier}
    if value is not None:
        attrs["value"] = value
    return ScriptedCustomer(name, attributes=attrs, consent={"email": True}, events=tuple(events))


#: The five entrants of the branch scenario and one who never enters.
FIVE = [
    customer("ana", (1 * H, "cart"), (5 * H, "purchase"), tier="gold", value=30),   # converts 4h after entry
    customer("bo", (1 * H, "purchase"), (2 * H, "cart")),                           # bought before entering
    customer("cy", (3 * H, "cart")),                                                # never buys
    customer("dee", (4 * H, "cart"), (4 * H, "purchase")),                          # buys at the entry instant
    customer("eve", (1 * D, "cart"), (1 * D + 2 * H, "purchase"), (1 * D + 3 * H, "upgrade"),
             (2 * D, "purchase"), tier="gold", value=50),                           # converts 2h after, twice
    customer("fay", (2 * H, "purchase")),                                           # never enters
]


def project_of(text: str, people=FIVE, seed: int | None = None) -> dict:
    result = run_scenario(load_scenario_text(text), scripted=list(people), seed=seed)
    return result.summary["projections"]


# ---------------------------------------------------------------------------------------------------- intervals


def test_wilson_matches_the_published_2_of_5_interval():
    """Wilson 2/5: centre (0.4 + 3.841459/10) / (1 + 3.841459/5) = 0.784146 / 1.768292 = 0.443448; half width
    1.959964 / 1.768292 * sqrt(0.4 * 0.6 / 5 + 3.841459 / 100) = 1.108394 * 0.293964 = 0.325827; so
    [0.117621, 0.769276] (the 0.1176-0.7693 of published tables)."""
    low, high = wilson(2, 5)
    assert low == pytest.approx(0.117621, abs=1e-6) and high == pytest.approx(0.769276, abs=1e-6)
    assert wilson(0, 0) is None
    assert wilson(0, 10)[0] == 0.0 and wilson(10, 10)[1] == 1.0


def test_newcombe_matches_his_1998_worked_example():
    """Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 - 48/80 = 0.2000, hybrid score
    interval (method 10) 0.0524 to 0.3339."""
    d, low, high = newcombe(56, 70, 48, 80)
    assert d == pytest.approx(0.2)
    assert round(low, 4) == 0.0524 and round(high, 4) == 0.3339


def test_two_of_three_vs_one_of_three_by_hand():
    """Wilson 2/3: denominator 1 + 3.841459/3 = 2.280486; centre (0.666667 + 0.640243) / 2.280486 = 0.573084;
    half 1.959964 / 2.280486 * sqrt(0.222222/3 + 3.841459/36) = 0.859450 * 0.425184 = 0.365424:
    [0.207660, 0.938508]; Wilson 1/3 mirrors it: [0.061492, 0.792340].
    Newcombe: d = 1/3; low = d - sqrt((0.666667 - 0.207660)^2 + (0.792340 - 0.333333)^2) = 0.333333 - 0.649134
    = -0.315801; high = d + sqrt((0.938508 - 0.666667)^2 + (0.333333 - 0.061492)^2) = 0.333333 + 0.384442
    = 0.717775.
    Katz: ratio 2; se = sqrt(1/2 - 1/3 + 1/1 - 1/3) = 0.912871; 2 * exp(-+1.959964 * 0.912871) = 2 * exp(-+1.789189)
    = [0.334190, 11.969256]."""
    assert wilson(2, 3) == pytest.approx((0.207660, 0.938508), abs=1e-6)
    assert wilson(1, 3) == pytest.approx((0.061492, 0.792340), abs=1e-6)
    assert newcombe(2, 3, 1, 3) == pytest.approx((1 / 3, -0.315801, 0.717775), abs=1e-6)
    assert katz_ratio(2, 3, 1, 3) == pytest.approx((2.0, 0.334190, 11.969256), abs=1e-6)
    assert katz_ratio(2, 3, 0, 3) is None


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 500), st.integers(1, 500))
def test_intervals_contain_their_estimates(x1, n1, x0, n0):
    x1, x0 = min(x1, n1), min(x0, n0)
    low, high = wilson(x1, n1)
    assert 0 <= low <= x1 / n1 <= high <= 1
    assert wilson(n1 - x1, n1) == pytest.approx((1 - high, 1 - low), abs=1e-12)
    d, dl, dh = newcombe(x1, n1, x0, n0)
    assert -1 <= dl <= d <= dh <= 1
    ratio = katz_ratio(x1, n1, x0, n0)
    if ratio is not None:
        assert ratio[1] <= ratio[0] <= ratio[2]


# ---------------------------------------------------------------------------------------------------- one arm


def test_conversions_of_the_all_arm_by_hand():
    """Entrants: ana (cart 01:00), bo (02:00), cy (03:00), dee (04:00), eve (1d 00:00); fay never enters.
    Converted: ana (purchase 05:00, 4h after entry) and eve (1d 02:00, 2h after; again at 2d: 2 conversions);
    not bo (purchase 01:00, before entry), cy (none), dee (purchase at the entry instant: not after it).
    So all: customers 5, converted 2, rate 0.4, Wilson [0.117621, 0.769276], conversions 3;
    time to conversion {2h, 4h}: p50 3h = 10800 s, p90 2h + 0.9 * 2h = 3.8h = 13680 s (linear interpolation).
    Revenue (field `value`): ana 30 (her attribute); eve 50 at 1d 02:00, then `upgrade` sets 80 at 1d 03:00,
    so 80 at 2d: 130; total 160, per customer 160 / 5 = 32."""
    p = project_of(scenario())
    assert p["conversion"] == "purchase" and p["window_seconds"] is None and p["value_field"] == "value"
    j = p["journeys"]["j"]
    assert j["holdout"] is None and j["entered"] == 5 and "lift" not in j and set(j["arms"]) == {"all"}
    a = j["arms"]["all"]
    assert (a["customers"], a["converted"], a["rate"], a["conversions"]) == (5, 2, 0.4, 3)
    assert (a["low"], a["high"]) == pytest.approx((0.117621, 0.769276), abs=1e-6)
    assert a["time_to_conversion"] == {"p50": 3 * H, "p90": pytest.approx(3.8 * H)}
    assert (a["revenue"], a["revenue_per_customer"], a["revenue_missing"]) == (160.0, 32.0, 0)


def test_paths_by_hand():
    """ana and eve are gold: `w > vip > g` (2 customers, both converted: rate 1, times 4h and 2h); bo, cy and dee
    are bronze: `w > vip`, then end (3 customers, none converted). For x = n the Wilson interval is
    [n / (n + z^2), 1] (centre and half width both carry z^2 / 2n): 2 / 5.841459 = 0.342380; for x = 0 it is
    [0, z^2 / (n + z^2)]: 3.841459 / 6.841459 = 0.561497."""
    j = project_of(scenario())["journeys"]["j"]
    paths = {(p["arm"], p["path"]): p for p in j["paths"]}
    assert list(paths) == [("all", "w > vip"), ("all", "w > vip > g")]  # most customers first
    gold, bronze = paths[("all", "w > vip > g")], paths[("all", "w > vip")]
    assert (gold["customers"], gold["converted"], gold["rate"]) == (2, 2, 1.0)
    assert (gold["low"], gold["high"]) == pytest.approx((2 / (2 + 1.959964 ** 2), 1.0), abs=1e-6)
    assert gold["time_to_conversion"] == {"p50": 3 * H, "p90": pytest.approx(3.8 * H)}
    assert (bronze["customers"], bronze["converted"], bronze["rate"]) == (3, 0, 0.0)
    assert bronze["high"] == pytest.approx(0.561497, abs=1e-6)
    assert bronze["time_to_conversion"] == {"p50": None, "p90": None}
    assert j["paths_omitted"] == 0


def test_window_counts_only_conversions_soon_enough_after_entry():
    """window: 3h: ana's purchase 4h after entry is too late; eve's at 2h counts, her 2d one (1d after entry)
    does not: converted 1 of 5 (rate 0.2), conversions 1, revenue 50 (her attribute at 1d 02:00)."""
    a = project_of(scenario(projections="{conversion: purchase, window: 3h}"))["journeys"]["j"]["arms"]["all"]
    assert (a["customers"], a["converted"], a["conversions"], a["revenue"]) == (5, 1, 1, 50.0)
    assert a["time_to_conversion"] == {"p50": 2 * H, "p90": 2 * H}


def test_no_value_field_means_no_revenue_and_a_named_one_is_used():
    """projections.value names another field; without a `value` field nothing about revenue appears."""
    text = scenario().replace("value: {fixed: 10}", "amount: {fixed: 10}").replace("sets: {value: 80}",
                                                                                   "sets: {amount: 80}")
    people = [ScriptedCustomer(c.name, attributes={"tier": c.attributes["tier"]}, consent=c.consent,
                               events=c.events) for c in FIVE]
    a = project_of(text, people)["journeys"]["j"]["arms"]["all"]
    assert "revenue" not in a
    named = project_of(text.replace("{conversion: purchase}", "{conversion: purchase, value: amount}"), people)
    assert named["value_field"] == "amount"
    # no scripted amount: ana None -> NaN, not counted but reported; eve's 80 (upgrade) counts at 2d
    a = named["journeys"]["j"]["arms"]["all"]
    assert (a["revenue"], a["revenue_missing"]) == (80.0, 2)


# ---------------------------------------------------------------------------------------------------- holdout


SIX = [customer(f"a{i}", (1 * H, "cart"), *([(3 * H, "purchase")] if i in (1, 2, 4) else []), value=10)
       for i in range(1, 7)]


def test_holdout_arms_and_lift_by_hand():
    """Seed 198 draws a4, a5, a6 into the 50% holdout (the holdout tests pin this from the log). Purchases at
    03:00 (2h after entry) by a1, a2 (treated) and a4 (holdout). Treated: 2 of 3, Wilson [0.207660, 0.938508];
    holdout: 1 of 3, [0.061492, 0.792340]; lift +1/3 with Newcombe [-0.315801, 0.717775]; relative
    2 - 1 = +1 with Katz [0.334190 - 1, 11.969256 - 1]; incremental conversions 1/3 * 3 = 1; revenue per
    customer (value 10 each): 20/3 - 10/3 = 3.333333."""
    j = project_of(scenario(steps=HOLDOUT_STEPS, holdout="50%"), SIX, seed=198)["journeys"]["j"]
    assert j["holdout"] == 0.5 and set(j["arms"]) == {"treated", "holdout"}
    t, h = j["arms"]["treated"], j["arms"]["holdout"]
    assert (t["customers"], t["converted"], h["customers"], h["converted"]) == (3, 2, 3, 1)
    assert (t["low"], t["high"], h["low"], h["high"]) == pytest.approx((0.207660, 0.938508, 0.061492, 0.792340),
                                                                         abs=1e-6)
    lift = j["lift"]
    assert (lift["absolute"], lift["absolute_low"], lift["absolute_high"]) == pytest.approx(
        (1 / 3, -0.315801, 0.717775), abs=1e-6)
    assert (lift["relative"], lift["relative_low"], lift["relative_high"]) == pytest.approx(
        (1.0, 0.334190 - 1, 11.969256 - 1), abs=1e-6)
    assert lift["incremental_conversions"] == pytest.approx(1.0)
    assert lift["revenue_per_customer"] == pytest.approx(10 / 3)
    assert {(p["arm"], p["path"], p["customers"], p["converted"]) for p in j["paths"]} == {
        ("treated", "w > e1 > w2", 3, 2), ("holdout", "w > e1 > w2", 3, 1)}


def test_split_branches_are_arms():
    """split {g: 50, end: 50} instead of the branch: each branch's customers are read from the split records
    (the draw is random), and its numbers must follow from the script: converted = those of ana and eve
    on it; the second branch carries its difference from the first."""
    steps = "      - {id: w, wait: 1h}\n      - {id: ab, split: {g: 50, end: 50}}\n      - {id: g, send: m}"
    text = scenario(steps=steps)
    result = run_scenario(load_scenario_text(text), scripted=list(FIVE))
    ev = result.events()
    took = dict(zip(ev[ev["kind"] == "split"]["customer"], ev[ev["kind"] == "split"]["value"]))
    assert set(took) == {"ana", "bo", "cy", "dee", "eve"}
    branches = result.summary["projections"]["journeys"]["j"]["splits"]["ab"]
    assert list(branches) == ["g", "end"]
    for target, stats in branches.items():
        members = {c for c, v in took.items() if v == target}
        assert stats["customers"] == len(members)
        assert stats["converted"] == len(members & {"ana", "eve"})
    assert "difference_vs_first" not in branches["g"]
    g, end = branches["g"], branches["end"]
    if g["customers"] and end["customers"]:
        d = branches["end"]["difference_vs_first"]
        assert d["absolute"] == pytest.approx(end["rate"] - g["rate"])


# ---------------------------------------------------------------------------------------------------- validation


def errors(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "s.yaml")
    return [i.format() for i in err.value.issues]


@pytest.mark.parametrize("projections, gates, says", [
    ("{conversion: purchse}", "", "projections.conversion: unknown population event 'purchse'; did you mean 'purchase'?"),
    ("{conversion: email_opened}", "", "projections.conversion: 'email_opened' is an engagement event"),
    ("{conversion: purchase, value: valeu}", "", "projections.value: unknown field 'valeu'; did you mean 'value'?"),
    ("{conversion: purchase, window: 0s}", "", "projections.window must be longer than 0s"),
    ("{conversion: purchase, windw: 1d}", "", "unknown key 'windw'"),
    ("{conversion: purchase}", '{conversion-lfit: "> 2%"}', "unknown gate 'conversion-lfit'; did you mean 'conversion-lift'?"),
    ("{conversion: purchase}", '{conversion-lift: "> 2%"}', "no journey has a (valid) holdout"),
    ("{conversion: purchase}", '{conversion-rate: "> 2"}', "needs a percentage"),
    ("{conversion: purchase}", '{exit-race: "< -1%"}', "cannot be negative"),
])
def test_bad_projections_and_gates_are_located_errors(projections, gates, says):
    found = errors(scenario(projections=projections, gates=gates))
    assert len(found) == 1 and says in found[0], found


def test_projection_gate_needs_projections():
    text = scenario(gates='{conversion-rate: "> 2%"}').replace("projections: {conversion: purchase}\n", "")
    found = errors(text)
    assert len(found) == 1 and "gate 'conversion-rate' judges projections, but the scenario has no projections" in found[0]


def test_no_projections_no_section():
    text = scenario().replace("projections: {conversion: purchase}\n", "")
    assert "projections" not in run_scenario(load_scenario_text(text), scripted=list(FIVE)).summary


# ---------------------------------------------------------------------------------------------------- gates


def _proj(t: tuple[int, int], h: tuple[int, int] | None) -> dict:
    """A projections section with one journey: treated/all arm x of n, holdout x of n (or none)."""
    def arm(x, n):
        return {"customers": n, "converted": x, "rate": x / n if n else None}

    if h is None:
        return {"journeys": {"j": {"arms": {"all": arm(*t)}}}}
    d, r = newcombe(*t, *h), katz_ratio(*t, *h)
    lift = {"absolute": d[0] if d else None, "absolute_low": d[1] if d else None, "absolute_high": d[2] if d else None,
            "relative": r[0] - 1 if r else None, "relative_low": r[1] - 1 if r else None,
            "relative_high": r[2] - 1 if r else None}
    return {"journeys": {"j": {"arms": {"treated": arm(*t), "holdout": arm(*h)}, "lift": lift}}}


@pytest.mark.parametrize("kind, op, value, t, h, passed", [
    ("conversion-lift", ">", 2, (30, 100), (25, 100), True),           # +5 points
    ("conversion-lift", ">", 5, (30, 100), (25, 100), False),          # +5 is not > 5
    ("conversion-lift", ">=", 5, (30, 100), (25, 100), True),
    ("conversion-lift", ">", -1, (24, 100), (25, 100), False),         # -1 point is not above -1 ...
    ("conversion-lift", ">=", -1, (24, 100), (25, 100), True),         # ... but not below it either
    ("conversion-lift", ">", -1.5, (24, 100), (25, 100), True),
    ("conversion-lift", "<=", 2.1, (121, 1000), (100, 1000), True),    # exactly 2.1 points (float would miss)
    ("conversion-lift-relative", ">", 19, (30, 100), (25, 100), True),  # 30/25 - 1 = +20%
    ("conversion-lift-relative", ">", 21, (30, 100), (25, 100), False),
    ("conversion-lift-relative", ">", 0, (3, 100), (0, 100), False),   # holdout never converted: unmeasurable
    ("conversion-rate", ">", 29.9, (30, 100), (25, 100), True),        # the treated arm's 30%
    ("conversion-rate", "<", 30, (30, 100), None, False),              # the all arm's 30%
    ("conversion-rate", ">", 0, (0, 0), None, False),                  # nobody entered: unmeasurable
])
def test_projection_gates_by_hand(kind, op, value, t, h, passed):
    [result] = evaluate_projection_gates([Gate(kind=kind, op=op, value=value, percent=True)], _proj(t, h))
    assert result.passed is passed, result.actual


def test_lift_gate_text_names_journey_arms_and_interval():
    [r] = evaluate_projection_gates([Gate(kind="conversion-lift", op=">", value=2, percent=True)],
                                    _proj((30, 100), (25, 100)))
    assert r.actual.startswith("j: +5 points (treated 30% of 100, holdout 25% of 100; 95% interval ")


def test_lift_gate_without_any_holdout_fails():
    [r] = evaluate_projection_gates([Gate(kind="conversion-lift", op=">", value=2, percent=True)],
                                    _proj((30, 100), None))
    assert not r.passed and "a lift needs a holdout" in r.actual


# ---------------------------------------------------------------------------------------------------- CLI


#: Only a delivered email makes a customer buy (purchase follows email_delivered, probability 1, after 1h),
#: so every treated customer converts and no holdout customer can: treated 100%, holdout 0%, lift +100 points
#: exactly, relative lift unmeasurable, whatever the draw. 200 generated customers, carts over the first day.
DELIVERED_BUYS = scenario(
    steps=HOLDOUT_STEPS, holdout="20%", size=200, seed=4, cart_at="{uniform: {low: 0s, high: 1d}}",
    purchase="after: {event: email_delivered, probability: 1, delay: 1h}")


@pytest.fixture()
def scenario_file(tmp_path):
    def write(gates: str) -> str:
        path = tmp_path / "s.yaml"
        path.write_text(DELIVERED_BUYS.replace("journeys:\n", f"gates: {gates}\njourneys:\n", 1))
        return str(path)
    return write


def test_cli_gates_pass_exit_0_and_summary_has_arms(scenario_file, tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", scenario_file('{conversion-lift: "> 99%", conversion-rate: "== 100%"}'),
                                      "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    arms = summary["projections"]["journeys"]["j"]["arms"]
    assert arms["treated"]["rate"] == 1.0 and arms["holdout"]["rate"] == 0.0
    assert arms["treated"]["customers"] + arms["holdout"]["customers"] == 200
    assert summary["projections"]["journeys"]["j"]["lift"]["absolute"] == 1.0
    assert "gate PASS: conversion-lift > 99% (actual: j: +100 points" in result.output
    line = [ln for ln in result.output.splitlines() if ln.startswith("  j: treated 100.0%")]
    assert line and "holdout 0.0%" in line[0] and "lift +100.0 points" in line[0]
    assert result.output.splitlines()[3] == "projections (purchase; 95% intervals):"


def test_cli_failing_and_unmeasurable_gates_exit_1(scenario_file, tmp_path):
    result = CliRunner().invoke(cli, ["run", scenario_file('{conversion-lift-relative: "> 0%"}'),
                                      "--out", str(tmp_path / "r1"), "--no-report", "--quiet"])
    assert result.exit_code == 1, result.output
    assert "gate FAIL: conversion-lift-relative > 0% (actual: j: cannot be measured (treated 100% of" in result.output
    result = CliRunner().invoke(cli, ["run", scenario_file('{conversion-rate: "> 2%"}'), "--out", str(tmp_path / "r2"),
                                      "--no-report", "--quiet", "--fail-on", "conversion-lift<101%"])
    assert result.exit_code == 1 and "gate FAIL: conversion-lift >= 101%" in result.output, result.output


def test_cli_bad_gates_exit_2(scenario_file, tmp_path):
    result = CliRunner().invoke(cli, ["run", scenario_file('{conversion-lfit: "> 2%"}'), "--no-report"])
    assert result.exit_code == 2 and "did you mean 'conversion-lift'?" in result.output
    result = CliRunner().invoke(cli, ["run", scenario_file("{}"), "--no-report", "--fail-on", "conversion-lfit<2%"])
    assert result.exit_code == 2 and "did you mean 'conversion-lift'?" in result.output
    result = CliRunner().invoke(cli, ["run", scenario_file("{}"), "--no-report", "--fail-on", "conversion-lift<2"])
    assert result.exit_code == 2 and "give a percentage" in result.output
    assert "Traceback" not in result.output


def test_cli_replicated_lift_gate_uses_the_unfavourable_bound(scenario_file, tmp_path):
    """Over 2 replications the lift is +100 points in each (deterministic), so mean and both bounds are 100:
    `> 99%` passes on the mean and on the lower bound (--gate-on upper)."""
    result = CliRunner().invoke(cli, ["run", scenario_file('{conversion-lift: "> 99%"}'), "--out", str(tmp_path / "r"),
                                      "--no-report", "--quiet", "--replications", "2", "--gate-on", "upper"])
    assert result.exit_code == 0, result.output
    assert "gate PASS: conversion-lift > 99% (j: lower 95% bound over 2 replications: 100 points" in result.output


def test_report_has_a_projections_section(scenario_file, tmp_path):
    out = tmp_path / "rep"
    result = CliRunner().invoke(cli, ["run", scenario_file("{}"), "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert '<h2 id="projections">Projections</h2>' in html and "conversion rate per arm of j" in html
    assert "+100.00 points" in html


def test_replicated_projection_gates_by_hand():
    """Two replications with lifts of 5 and 7 points: mean 6, sd sqrt(2), half width 1.959964 * sqrt(2) / sqrt(2)
    = 1.959964, interval [4.040036, 7.959964]. `> 4.5%`: passes on the mean, fails on the lower bound
    (--gate-on upper takes the bound unfavourable to the gate); `< 7.5%`: passes on the mean, fails on the
    upper bound; a replication where the lift cannot be measured fails the gate."""
    from simulator.findings.gates import evaluate_replicated_projection_gates

    runs = [_proj((30, 100), (25, 100)), _proj((32, 100), (25, 100))]
    above = Gate(kind="conversion-lift", op=">", value=4.5, percent=True)
    below = Gate(kind="conversion-lift", op="<", value=7.5, percent=True)
    [m1, m2] = evaluate_replicated_projection_gates([above, below], runs, "mean")
    assert m1.passed and m2.passed
    assert m1.actual == ("j: mean over 2 replications: 6 points (95% interval 4.04 to 7.96); "
                         "first seed alone: 5 points")  # the mean once (it was also repeated in the brackets)
    [u1, u2] = evaluate_replicated_projection_gates([above, below], runs, "upper")
    assert not u1.passed and not u2.passed
    assert u1.actual == ("j: lower 95% bound over 2 replications: 4.04 points (mean 6 points, 95% interval 4.04 "
                         "to 7.96); first seed alone: 5 points")
    assert u2.actual.startswith("j: upper 95% bound over 2 replications: 7.96 points")
    [bad] = evaluate_replicated_projection_gates([above], [runs[0], _proj((0, 0), (25, 100))], "mean")
    assert not bad.passed and bad.actual == "j: not measurable in 1 of 2 replications"


def test_replicated_summary_by_hand():
    """Rates 0.30 and 0.32 (treated) over two replications: mean 0.31, sd 0.0141421, half width
    1.959964 * 0.0141421 / sqrt(2) = 0.0195996: [0.2904004, 0.3295996]; lifts 0.05 and 0.07: mean 0.06,
    [0.0404004, 0.0795996]. One run alone has no interval (null ends)."""
    from simulator.projections.compute import summarise_replicated

    runs = [_proj((30, 100), (25, 100)), _proj((32, 100), (25, 100))]
    j = summarise_replicated(runs)["journeys"]["j"]
    t = j["arms"]["treated"]["rate"]
    assert (t["mean"], t["low"], t["high"], t["replications"]) == pytest.approx((0.31, 0.2904004, 0.3295996, 2), abs=1e-7)
    lift = j["lift"]["absolute"]
    assert (lift["mean"], lift["low"], lift["high"]) == pytest.approx((0.06, 0.0404004, 0.0795996), abs=1e-7)
    one = summarise_replicated(runs[:1])["journeys"]["j"]["arms"]["holdout"]["rate"]
    assert one == {"mean": 0.25, "low": None, "high": None, "replications": 1}
    assert summarise_replicated([None, None]) is None


def test_customers_who_leave_at_entry_have_an_empty_path():
    """`exit_when: {when: "tier == 'bronze'"}` (continuous check, so also at entry) makes bo, cy and dee
    (bronze) exit at entry, before `w`: their path is empty (""), 3 customers, none converted; ana and eve
    (gold) walk `w > vip > g` (2, both converted). With a condition everyone meets, every path is empty."""
    text = scenario().replace("    entry: {event: cart}", "    exit_when: {when: \"tier == 'bronze'\"}\n    entry: {event: cart}")
    j = project_of(text)["journeys"]["j"]
    paths = {p["path"]: (p["customers"], p["converted"]) for p in j["paths"]}
    assert paths == {"": (3, 0), "w > vip > g": (2, 2)}
    text = text.replace("tier == 'bronze'", "tier != 'nobody'")
    assert {p["path"]: p["customers"] for p in project_of(text)["journeys"]["j"]["paths"]} == {"": 5}


def test_constant_hazard_conversion_share_matches_the_closed_form():
    """20,000 generated customers all enter at 00:00 (cart once at 0s); `purchase` is a Poisson process of
    0.1 per day that messages do not change, counted within `window: 3d` (the run lasts 10 days, so no
    entrant is cut short). The share converted in each arm is 1 - exp(-0.1 * 3) = 0.259182; at n customers
    its 99% interval is +- 2.5758 * sqrt(0.259182 * 0.740818 / n) (+- 0.0080 at 20,000). Both arms of a
    10% holdout must be within theirs, and the lift's interval must be consistent with no effect."""
    text = scenario(steps=HOLDOUT_STEPS, holdout="10%", size=20000, seed=2,
                    projections="{conversion: purchase, window: 3d}",
                    purchase="poisson: {rate_per_day: 0.1}")
    result = run_scenario(load_scenario_text(text))
    j = result.summary["projections"]["journeys"]["j"]
    p = 1 - math.exp(-0.3)
    assert j["entered"] == 20000
    for arm in ("treated", "holdout"):
        a = j["arms"][arm]
        half = 2.5758293 * math.sqrt(p * (1 - p) / a["customers"])
        assert abs(a["rate"] - p) <= half, (arm, a["rate"], p, half)
    assert j["lift"]["absolute_low"] <= 0 <= j["lift"]["absolute_high"]


def test_sweep_refuses_projection_gates(scenario_file):
    """A sweep's recommendations judge finding rates: a projection gate in its --fail-on is a usage error
    (exit 2), not silently ignored."""
    result = CliRunner().invoke(cli, ["sweep", scenario_file("{}"), "--vary", "journeys[j].holdout=10%,20%",
                                      "--fail-on", "conversion-lift<1%"])
    assert result.exit_code == 2 and "projection gates (conversion-lift, ...) are judged by `journeysim run`" \
        in result.output, result.output


@pytest.mark.parametrize("seed", [1, 2])
def test_projections_agree_with_a_plain_loop_over_the_log(seed):
    """800 generated customers, carts over 5 days, purchases following carts (probability 0.4, mean 1 day),
    a 20% holdout and a split: recount every arm, path and split branch with a plain Python loop over the
    event log (first entry per customer, first purchase strictly after it) and compare with the projections.
    Paths of an arm add up to the arm; split branches add up to the treated customers whose first pass
    reached the split."""
    steps = ("      - {id: w, wait: 1h}\n      - {id: ab, split: {g: 30, end: 70}}\n"
             "      - {id: g, send: m}\n      - {id: w2, wait: 2d}")
    text = scenario(steps=steps, holdout="20%", size=800, seed=seed, cart_at="{uniform: {low: 0s, high: 5d}}",
                    purchase="after: {event: cart, probability: 0.4, delay: {exponential: {mean: 1d}}}")
    result = run_scenario(load_scenario_text(text))
    j = result.summary["projections"]["journeys"]["j"]
    ev = result.events().sort_values("seq")
    first: dict[str, tuple[float, int, str]] = {}
    buys: dict[str, list[float]] = {}
    steps_of: dict[str, list[tuple[int, str]]] = {}
    split_of: dict[str, str] = {}
    for row in ev.itertuples(index=False):
        if row.kind == "entry" and row.customer not in first:
            first[row.customer] = (row.t, row.seq, row.field)
        elif row.kind == "event" and row.field == "purchase":
            buys.setdefault(row.customer, []).append(row.t)
        elif row.kind == "step" and row.customer in first:
            steps_of.setdefault(row.customer, []).append((row.seq, row.step))
        elif row.kind == "split" and row.customer in first and row.customer not in split_of:
            split_of[row.customer] = row.value
    converted = {c for c, (t, _, _) in first.items() if any(b > t for b in buys.get(c, []))}
    for arm in ("treated", "holdout"):
        members = {c for c, (_, _, a) in first.items() if a == arm}
        stats = j["arms"][arm]
        assert (stats["customers"], stats["converted"]) == (len(members), len(members & converted))
        paths = [p for p in j["paths"] if p["arm"] == arm]
        assert sum(p["customers"] for p in paths) == len(members)
        assert sum(p["converted"] for p in paths) == len(members & converted)
        for p in paths:
            who = {c for c in members if " > ".join(s for _, s in steps_of.get(c, [])) == p["path"]}
            assert (p["customers"], p["converted"]) == (len(who), len(who & converted))
    treated = {c for c, (_, _, a) in first.items() if a == "treated"}
    for target, stats in j["splits"]["ab"].items():
        who = {c for c in treated if split_of.get(c) == target}
        assert (stats["customers"], stats["converted"]) == (len(who), len(who & converted))
    assert sum(b["customers"] for b in j["splits"]["ab"].values()) == len(treated & set(split_of))
    assert j["entered"] == len(first) and j["paths_omitted"] == 0


def test_holdout_and_a_fixed_lift_measure_the_configured_lift():
    """20,000 customers enter at 00:00; a 50% holdout; the treated arm's email `m` is delivered at 01:00
    (wait 1h, delivery delay 0) and multiplies the 0.1/day `purchase` rate by 3 for 2 days. Within the
    3-day window the treated hazard is 0.1 * (1h + 3 * 2d + 23h) = 0.1 * 7 days = 0.7, so the share
    converted is 1 - exp(-0.7) = 0.503415; the holdout's is 1 - exp(-0.3) = 0.259182. The configured
    absolute lift is their difference, 0.244233 (relative 0.942320). Each arm within its 99% interval,
    and the measured lift within 2.5758 standard errors of the configured one."""
    text = scenario(steps=HOLDOUT_STEPS, holdout="50%", size=20000, seed=3,
                    projections="{conversion: purchase, window: 3d}",
                    purchase="poisson: {rate_per_day: 0.1}, response: [{to: m, multiply: 3, for: 2d}]")
    j = run_scenario(load_scenario_text(text)).summary["projections"]["journeys"]["j"]
    p_t, p_h = 1 - math.exp(-0.7), 1 - math.exp(-0.3)
    t, h = j["arms"]["treated"], j["arms"]["holdout"]
    for arm, p in ((t, p_t), (h, p_h)):
        assert abs(arm["rate"] - p) <= 2.5758293 * math.sqrt(p * (1 - p) / arm["customers"]), (arm, p)
    se = math.sqrt(p_t * (1 - p_t) / t["customers"] + p_h * (1 - p_h) / h["customers"])
    assert abs(j["lift"]["absolute"] - (p_t - p_h)) <= 2.5758293 * se, (j["lift"], p_t - p_h, se)
    assert j["lift"]["absolute_low"] <= p_t - p_h <= j["lift"]["absolute_high"]


def test_frequency_groups_by_hand():
    """a: no delivery; b: 2 deliveries and an open; c: 2 deliveries and an unsubscribe; d: 12 deliveries and
    a purchase. Groups 0 (a), 2 (b, c) and 10+ (d). 1 of 2 has the Wilson interval
    (0.5 +- 0.405469) = [0.094531, 0.905469] (z = 1.959964)."""
    import pandas as pd

    from simulator.projections.frequency import frequency_curves

    rows = [("b", "delivered", None)] * 2 + [("b", "event", "email_opened")]
    rows += [("c", "delivered", None)] * 2 + [("c", "event", "sms_unsubscribed")]
    rows += [("d", "delivered", None)] * 12 + [("d", "event", "purchase")]
    ev = pd.DataFrame(rows, columns=["customer", "kind", "field"])
    got = frequency_curves(ev, pd.Series(["a", "b", "c", "d"]), "purchase")["groups"]
    assert [(g["deliveries"], g["customers"]) for g in got] == [("0", 1), ("2", 2), ("10+", 1)]
    two = got[1]
    assert (two["engaged"]["count"], two["opted_out"]["count"], two["converted"]["count"]) == (1, 1, 0)
    assert two["engaged"]["rate"] == 0.5
    assert two["engaged"]["low"] == pytest.approx(0.094531, abs=1e-6)
    assert two["engaged"]["high"] == pytest.approx(0.905469, abs=1e-6)
    assert got[2]["converted"]["rate"] == 1.0 and got[0]["engaged"]["rate"] == 0.0


def test_summary_has_frequency_groups_with_every_customer():
    text = scenario(steps=HOLDOUT_STEPS, size=300, seed=5, purchase="poisson: {rate_per_day: 0.1}")
    freq = run_scenario(load_scenario_text(text)).summary["projections"]["frequency"]
    assert sum(g["customers"] for g in freq["groups"]) == 300
    assert {g["deliveries"] for g in freq["groups"]} <= {"0", "1"}  # one send step, once per customer


def test_sweep_says_it_does_not_judge_the_scenario_projection_gates(scenario_file, tmp_path):
    """A projection gate in the scenario's own gates: is valid for `run`; a sweep says it leaves it out."""
    result = CliRunner().invoke(cli, ["sweep", scenario_file('{conversion-lift: "> 1%"}'), "--vary",
                                      "journeys[j].holdout=10%,20%", "--out", str(tmp_path / "sw")])
    assert result.exit_code in (0, 1), result.output
    assert "the scenario's projection gates (conversion-lift) are not judged by sweep" in result.output
