"""Tests of simulator.engine.population: generated and scripted customers, exogenous schedules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import MINIMAL

from simulator.errors import ScenarioError
from simulator.engine.population import (
    ExogenousSchedule,
    Population,
    ScriptedCustomer,
    build_population,
    child_rng,
    exogenous_schedule,
    followers,
)
from simulator.scenario.load import load_scenario_text

# The shared minimal scenario with three zones, a faker field and a push channel.
BASE = (MINIMAL
        .replace("timezones: {America/New_York: 0.5, Europe/London: 0.5}",
                 "timezones: {America/New_York: 0.5, Europe/London: 0.3, Asia/Tokyo: 0.2}")
        .replace("    lifetime_value: {normal: {mean: 120, sd: 40}}\n",
                 "    lifetime_value: {normal: {mean: 120, sd: 40}}\n    first_name: {faker: first_name}\n")
        .replace("  sms: {kind: channel, channel: sms}\n",
                 "  sms: {kind: channel, channel: sms}\n  app: {kind: channel, channel: push}\n"))


@pytest.fixture(scope="module")
def scenario():
    return load_scenario_text(BASE)


def rng(seed: int = 1) -> np.random.Generator:
    return np.random.default_rng(seed)


ALICE = ScriptedCustomer(name="alice", attributes={"stage": "B", "lifetime_value": 250.0, "first_name": "Alice"},
                         consent={"email": True}, timezone="Europe/London",
                         events=((3600.0, "cart_abandoned"), (7200.0, "purchase")))
BOB = ScriptedCustomer(name="bob", attributes={"stage": "A"})


def test_shapes_and_dtypes(scenario):
    """Every column has the population's length and the documented dtype."""
    pop = build_population(scenario, rng(), size=1000)
    assert isinstance(pop, Population)
    assert (pop.size, pop.generated, len(pop.ids)) == (1000, 1000, 1000)
    assert pop.zone.dtype == np.int16 and pop.zone.shape == (1000,)
    assert set(pop.zone_names) == {"America/New_York", "Europe/London", "Asia/Tokyo"}
    assert set(pop.attributes) == {"stage", "lifetime_value"}
    assert pop.attributes["stage"].dtype == object and pop.attributes["lifetime_value"].dtype == np.float64
    assert all(a.shape == (1000,) for a in pop.attributes.values())
    assert set(pop.consent) == {"email", "sms", "push"}
    assert all(c.dtype == np.bool_ and c.shape == (1000,) for c in pop.consent.values())
    assert pop.consent["push"].all()  # served by a system, no share given: 1.0
    assert set(pop.faker_fields) == {"first_name"}
    assert pop.ids[0] == "c000001" and pop.ids[-1] == "c001000"


def test_size_defaults_to_scenario_and_ids_widen(scenario):
    """Size defaults to population.size; ids are padded to the width of the count (min 6)."""
    assert build_population(scenario, rng()).size == 10
    pop = build_population(scenario, rng(), size=1_234_567)
    assert pop.ids[0] == "c0000001" and pop.ids[-1] == "c1234567"
    assert pop.index_of("c0000042") == 41


def test_empty_population(scenario):
    """A population of 0 customers builds and schedules nothing."""
    pop = build_population(scenario, rng(), size=0)
    sched = exogenous_schedule(scenario, pop, rng(), horizon=scenario.duration)
    assert pop.size == 0 and len(sched) == 0 and sched.customers.dtype == np.int64


def test_zone_shares(scenario):
    """Zone shares match the configured shares within tolerance at n=20000."""
    pop = build_population(scenario, rng(3), size=20000)
    counts = np.bincount(pop.zone, minlength=len(pop.zone_names)) / 20000
    for name, share in scenario.population.timezones.items():
        assert abs(counts[pop.zone_names.index(name)] - share) < 0.015
    assert abs(pop.attributes["stage"].tolist().count("A") / 20000 - 0.8) < 0.015
    assert abs(pop.consent["sms"].mean() - 0.5) < 0.015


def test_deterministic_per_seed(scenario):
    """The same seed gives identical arrays; a different seed differs."""
    a, b, c = (build_population(scenario, rng(s), size=500) for s in (5, 5, 6))
    assert np.array_equal(a.zone, b.zone)
    for k in a.attributes:
        assert np.array_equal(a.attributes[k], b.attributes[k])
    for k in a.consent:
        assert np.array_equal(a.consent[k], b.consent[k])
    assert not np.array_equal(a.attributes["lifetime_value"], c.attributes["lifetime_value"])
    assert not np.array_equal(a.zone, c.zone)


def test_adding_an_attribute_keeps_other_draws(scenario):
    """Adding an attribute (sorted before the others) leaves the other attributes' draws unchanged."""
    text = BASE.replace("    stage: {choice", "    aaa_score: {uniform: {low: 0, high: 1}}\n    stage: {choice")
    bigger = load_scenario_text(text)
    a, b = build_population(scenario, rng(9), size=300), build_population(bigger, rng(9), size=300)
    assert "aaa_score" in b.attributes and "aaa_score" not in a.attributes
    for k in a.attributes:
        assert np.array_equal(a.attributes[k], b.attributes[k])
    assert np.array_equal(a.zone, b.zone)
    assert all(np.array_equal(a.consent[k], b.consent[k]) for k in a.consent)


def test_child_streams_are_stable():
    """A stream depends only on the base seed and its own key."""
    assert child_rng(1, "x").random() == child_rng(1, "x").random()
    assert child_rng(1, "x").random() != child_rng(1, "y").random()


def test_scripted_customers_exact(scenario):
    """Scripted customers follow the generated ones with exactly their values, ids and zones."""
    pop = build_population(scenario, rng(), size=50, scripted=[ALICE, BOB])
    assert (pop.size, pop.generated) == (52, 50)
    assert pop.ids[50:] == ["alice", "bob"]
    assert pop.index["alice"] == 50 and pop.index_of("bob") == 51 and pop.index["c000050"] == 49
    assert pop.value(50, "stage") == "B" and pop.value(50, "lifetime_value") == 250.0
    assert pop.value(51, "lifetime_value") is None  # not sampled for scripted customers
    assert pop.attributes["lifetime_value"].dtype == object  # upcast to hold None
    assert pop.display_value(50, "first_name") == "Alice" and pop.display_value(51, "first_name") is None
    assert pop.timezone_of(50) == "Europe/London" and pop.timezone_of(51) == "America/New_York"
    assert pop.consent["email"][50] and not pop.consent["sms"][50] and not pop.consent["email"][51]
    assert not pop.consent["push"][51]
    with pytest.raises(KeyError):
        pop.index_of("carol")


def test_scripted_keep_dtype_when_values_fit(scenario):
    """Numeric columns stay float64 when every scripted customer gives a number."""
    pop = build_population(scenario, rng(), size=5, scripted=[ALICE])
    assert pop.attributes["lifetime_value"].dtype == np.float64
    assert pop.attributes["lifetime_value"][5] == 250.0


def test_scripted_do_not_change_generated_draws(scenario):
    """Appending scripted customers leaves the generated customers' draws unchanged."""
    a = build_population(scenario, rng(2), size=100)
    b = build_population(scenario, rng(2), size=100, scripted=[ALICE])
    assert np.array_equal(a.zone, b.zone[:100])
    assert np.array_equal(a.attributes["stage"], b.attributes["stage"][:100])


def test_scripted_may_set_event_fields(scenario):
    """A scripted customer may give a field set by an event; generated customers get None."""
    pop = build_population(scenario, rng(), size=3, scripted=[ScriptedCustomer("c", {"has_purchased": False})])
    assert pop.value(3, "has_purchased") is False and pop.value(0, "has_purchased") is None
    assert pop.value(0, "nonexistent") is None


def test_faker_values_deterministic_and_order_free(scenario):
    """Faker display values are deterministic per seed and independent of query order."""
    a, b = build_population(scenario, rng(4), size=100), build_population(scenario, rng(4), size=100)
    forward = [a.display_value(i, "first_name") for i in range(100)]
    backward = [b.display_value(i, "first_name") for i in reversed(range(100))][::-1]
    assert forward == backward
    assert all(isinstance(v, str) and v for v in forward) and len(set(forward)) > 20
    assert a.value(7, "first_name") == forward[7]
    other = build_population(scenario, rng(5), size=100)
    assert [other.display_value(i, "first_name") for i in range(100)] != forward
    with pytest.raises(IndexError):
        a.display_value(100, "first_name")


def _issue_paths(exc: pytest.ExceptionInfo) -> dict[str, object]:
    return {i.path: i for i in exc.value.issues}


def test_scripted_errors(scenario):
    """Bad scripted customers raise ScenarioError with key paths and did-you-mean hints."""
    bad = ScriptedCustomer("zed", attributes={"stgae": "A"}, consent={"emial": True}, timezone="Europe/Londn",
                           events=((10.0, "purchse"), (-1.0, "purchase")))
    with pytest.raises(ScenarioError) as exc:
        build_population(scenario, rng(), size=5, scripted=[bad])
    issues = _issue_paths(exc)
    assert issues["scripted.zed.stgae"].hint == "did you mean 'stage'?"
    assert "unknown attribute 'stgae'" in issues["scripted.zed.stgae"].message
    assert issues["scripted.zed.emial"].hint == "did you mean 'email'?"
    assert "Europe/London" in issues["scripted.zed.timezone"].message
    assert issues["scripted.zed.events[0]"].hint == "did you mean 'purchase'?"
    assert "invalid time" in issues["scripted.zed.events[1]"].message


def test_scripted_duplicate_and_clashing_names(scenario):
    """Duplicate scripted names and names equal to a generated id are errors."""
    with pytest.raises(ScenarioError, match="duplicate scripted customer 'bob'"):
        build_population(scenario, rng(), size=5, scripted=[BOB, BOB])
    with pytest.raises(ScenarioError, match="id of a generated customer"):
        build_population(scenario, rng(), size=5, scripted=[ScriptedCustomer("c000003")])
    assert build_population(scenario, rng(), size=2, scripted=[ScriptedCustomer("c000003")]).size == 3


def test_schedule_shapes_sorted(scenario):
    """The schedule has the documented dtypes and is sorted by time, customer, event."""
    pop = build_population(scenario, rng(), size=2000)
    s = exogenous_schedule(scenario, pop, rng(), horizon=scenario.duration)
    assert isinstance(s, ExogenousSchedule)
    assert (s.times.dtype, s.customers.dtype, s.events.dtype) == (np.float64, np.int64, np.int32)
    assert len(s.times) == len(s.customers) == len(s.events) > 0
    assert np.all(np.diff(s.times) >= 0)
    assert set(np.unique(s.events)) <= {0, 2}  # `after` events (index 1) are not scheduled here


def test_schedule_ties_sorted_by_customer_then_event():
    """Equal times are ordered by customer, then event index."""
    text = BASE.replace("at: {uniform: {low: 0s, high: 1d}}", "at: {fixed: 1h}").replace(
        "    - name: purchase", "    - name: zz_same\n      origin: web\n      once: {probability: 1, at: 1h}\n"
                               "    - name: purchase")
    sc = load_scenario_text(text.replace("probability: 0.5", "probability: 1"))
    pop = build_population(sc, rng(), size=3)
    s = exogenous_schedule(sc, pop, rng(), horizon=sc.duration)
    first = [(int(c), int(e)) for t, c, e in zip(s.times, s.customers, s.events) if t == 3600]
    assert first == [(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)]


def test_schedule_deterministic(scenario):
    """Same seed, same schedule; different seed, different schedule."""
    pop = build_population(scenario, rng(), size=500)
    a, b, c = (exogenous_schedule(scenario, pop, rng(s), horizon=scenario.duration) for s in (1, 1, 2))
    assert np.array_equal(a.times, b.times) and np.array_equal(a.customers, b.customers)
    assert not np.array_equal(a.times, c.times)


def test_once_probability(scenario):
    """A once event occurs for a share matching its probability within 4 sigma at n=20000."""
    n, p = 20000, 0.5
    pop = build_population(scenario, rng(), size=n)
    s = exogenous_schedule(scenario, pop, rng(11), horizon=scenario.duration)
    once = s.events == 0
    assert len(np.unique(s.customers[once])) == once.sum()  # at most once per customer
    assert abs(once.sum() - n * p) < 4 * math.sqrt(n * p * (1 - p))
    assert s.times[once].min() >= 0 and s.times[once].max() < 86400


def test_poisson_mean(scenario):
    """Poisson counts per customer average rate_per_day x days."""
    n, days = 20000, 3.0
    pop = build_population(scenario, rng(), size=n)
    s = exogenous_schedule(scenario, pop, rng(12), horizon=days * 86400)
    counts = np.bincount(s.customers[s.events == 2], minlength=n)
    lam = 0.1 * days
    assert abs(counts.mean() - lam) < 4 * math.sqrt(lam / n)
    assert abs(counts.var() - lam) < 0.05


def test_horizon_respected(scenario):
    """Nothing is scheduled at or after the horizon, including scripted events."""
    pop = build_population(scenario, rng(), size=5000, scripted=[ALICE])
    s = exogenous_schedule(scenario, pop, rng(), horizon=4 * 3600.0)
    assert len(s) > 0 and s.times.max() < 4 * 3600.0 and s.times.min() >= 0
    s2 = exogenous_schedule(scenario, pop, rng(), horizon=5000.0)
    assert (3600.0, 5000, 0) in zip(s2.times.tolist(), s2.customers.tolist(), s2.events.tolist())
    assert 7200.0 not in s2.times[s2.customers == 5000]


def test_scripted_events_only_their_own(scenario):
    """Scripted customers get exactly their scripted events, mapped to event indexes."""
    pop = build_population(scenario, rng(), size=100, scripted=[ALICE, BOB])
    s = exogenous_schedule(scenario, pop, rng(), horizon=scenario.duration)
    mine = s.customers >= 100
    assert list(zip(s.times[mine].tolist(), s.customers[mine].tolist(), s.events[mine].tolist())) == [
        (3600.0, 100, 0), (7200.0, 100, 1)]


def test_adding_an_event_keeps_other_draws(scenario):
    """Adding an event does not change other events' draws."""
    extra = BASE.replace("    - name: purchase", "    - name: aaa_visit\n      origin: web\n"
                                                   "      poisson: {rate_per_day: 1}\n    - name: purchase")
    bigger = load_scenario_text(extra)
    pop = build_population(scenario, rng(), size=1000)
    a = exogenous_schedule(scenario, pop, rng(8), horizon=scenario.duration)
    b = exogenous_schedule(bigger, pop, rng(8), horizon=scenario.duration)
    for name in ("cart_abandoned", "stage_up"):
        ia = [e.name for e in scenario.population.events].index(name)
        ib = [e.name for e in bigger.population.events].index(name)
        assert np.array_equal(a.times[a.events == ia], b.times[b.events == ib])
        assert np.array_equal(a.customers[a.events == ia], b.customers[b.events == ib])


def test_unknown_scripted_event_in_schedule(scenario):
    """An unknown event name of a scripted customer raises ScenarioError with a hint."""
    pop = build_population(scenario, rng(), size=3)
    pop.scripted = (ScriptedCustomer("x", events=((1.0, "stage_upp"),)),)  # bypasses build-time checks
    with pytest.raises(ScenarioError) as exc:
        exogenous_schedule(scenario, pop, rng(), horizon=100.0)
    assert exc.value.issues[0].hint == "did you mean 'stage_up'?"


def test_followers(scenario):
    """followers maps each event to the indexes of the events that follow it."""
    assert followers(scenario) == {"cart_abandoned": [1], "purchase": [], "stage_up": []}
