"""Per-customer random streams (simulator/engine/streams.py) and per-customer request ids.

Exact values come from the published SplitMix64 test vectors: seeded with 0, SplitMix64's first three
outputs are 0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F (the state advances by
0x9E3779B97F4A7C15 before each output). Our hash of (key, customer, n) adds ``customer`` times that
same constant, so key 0, draw 0 of customers 1, 2, 3 are exactly those outputs, and the uniform is
``((h >> 12) + 0.5) / 2**52``.
"""

from __future__ import annotations

import math
import zlib
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_findings_kinds import journey, of_kind, person, run, scenario

from simulator.pipeline import run_scenario
from simulator.engine.response import unit_exponential as response_unit_exponential
from simulator.scenario.distributions import parse_distribution
from simulator.scenario.load import load_scenario_text
from simulator.engine.streams import Stream, splitmix, stream_key, unit, unit_exponential, unit_exponentials, units

#: SplitMix64 seeded with 0: its first three outputs (the published reference vectors).
VECTORS = (0xE220A8397B1DCDAF, 0x6E789E6AA1B965F4, 0x06C45D188009454F)
GOLDEN, ODD = 0x9E3779B97F4A7C15, 0xD1B54A32D192ED03


def _stream_at(key: int, size: int = 10) -> Stream:
    """A stream with a chosen key (the hand-derived values below are for key 0)."""
    s = Stream(0, "test", size)
    s.key = key
    return s


# --------------------------------------------------------------------------- the hash, exactly


def test_hash_of_key_0_is_splitmix64_seeded_with_0():
    """Key 0, draw 0 of customer k is SplitMix64's k-th output from seed 0; customer 0 hashes 0 to 0."""
    assert [splitmix(0, c, 0) for c in (1, 2, 3)] == list(VECTORS)
    assert splitmix(0, 0, 0) == 0  # the finaliser maps 0 to 0: the smallest uniform, 2**-53
    assert unit(0, 0, 0) == 2.0**-53


def test_draw_index_and_key_enter_the_same_sum():
    """The hash input is key + customer * GOLDEN + n * ODD (mod 2**64), so (key=K, c, n) equals
    (key=K + n * ODD, c, 0), and (0, 0, 1) is the finaliser of ODD alone."""
    assert splitmix(5, 7, 3) == splitmix((5 + 3 * ODD) % 2**64, 7, 0)
    assert splitmix(0, 0, 1) == splitmix(ODD, 0, 0)
    assert splitmix(0, 1, 0) != splitmix(0, 0, 1)


def test_exact_uniforms_and_draws_of_one_customer():
    """Customer 1 of a key-0 stream: its first uniform is ((0xE220A8397B1DCDAF >> 12) + 0.5) / 2**52
    = (0xE220A8397B1DC + 0.5) / 2**52 = 0.88331...; each method turns it into its value by the inverse
    CDF, and the second draw (n = 1) is a different hash."""
    u = (0xE220A8397B1DC + 0.5) / 2**52
    assert 0.8833 < u < 0.8834
    assert _stream_at(0).of(1).random() == u
    assert _stream_at(0).of(1).uniform(10.0, 20.0) == 10.0 + u * 10.0
    assert _stream_at(0).of(1).exponential(60.0) == -60.0 * math.log(1.0 - u)
    z = NormalDist().inv_cdf(u)
    assert 1.19 < z < 1.20
    assert _stream_at(0).of(1).normal(5.0, 2.0) == 5.0 + 2.0 * z
    assert _stream_at(0).of(1).lognormal(1.0, 0.5) == math.exp(1.0 + 0.5 * z)
    assert _stream_at(0).of(1).choice(4) == 3  # floor(0.883 * 4)
    assert _stream_at(0).of(1).choice(3, p=[0.5, 0.0, 0.5]) == 2  # 0.883 is past the cumulative 0.5
    draws = _stream_at(0).of(1)
    assert [draws.random(), draws.random()] == [u, unit(0, 1, 1)]


def test_stream_key_is_child_rngs_first_word():
    """A stream's key is the first 64-bit word of SeedSequence([seed_base, crc32(name)]), the sequence
    child_rng(seed_base, name) seeds; every draw is unit(key, customer, n)."""
    key = int(np.random.SeedSequence([12345, zlib.crc32(b"after")]).generate_state(1, np.uint64)[0])
    assert stream_key(12345, "after") == key
    s = Stream(12345, "after", 5)
    assert s.key == key and s.taken(3) == 0
    assert [s.of(3).random() for _ in range(3)] == [unit(key, 3, n) for n in range(3)]
    assert s.taken(3) == 3 and s.taken(2) == 0
    assert stream_key(12345, "after") != stream_key(12345, "split:j") != stream_key(12346, "after")


def test_scalar_and_vector_hashes_agree_bit_for_bit():
    customers = np.arange(0, 50_000, 7, dtype=np.uint64)
    n = (customers % 5).astype(np.uint64)
    key = stream_key(99, "channel:esp")
    assert units(key, customers, n).tolist() == [unit(key, int(c), int(k)) for c, k in zip(customers, n)]
    e = unit_exponentials(key, customers, n)
    assert all(math.isclose(unit_exponential(key, int(c), int(k)), x, rel_tol=1e-15)
               for c, k, x in zip(customers.tolist(), n.tolist(), e.tolist()))
    assert response_unit_exponential is unit_exponential  # one hash for the response model and the engine


def test_uniforms_are_strictly_inside_0_1_and_symmetric():
    """The largest hash gives (2**52 - 1 + 0.5) / 2**52 < 1; 1 - u of any uniform is another one, exactly."""
    top = ((2**64 - 1 >> 12) + 0.5) * 2.0**-52
    assert top < 1.0 and 1.0 - top == 2.0**-53
    u = units(3, np.arange(100_000, dtype=np.uint64), np.zeros(100_000, dtype=np.uint64))
    assert u.min() > 0.0 and u.max() < 1.0


# --------------------------------------------------------------------------- the Generator-like view


def test_distribution_sample_accepts_the_view():
    """Distribution.sample asks for size 1 and takes the one value; the customer's counter moves by one
    per value (two for a truncated normal that redraws once)."""
    s = Stream(4, "x", 3)
    expo = parse_distribution({"exponential": {"mean": "1m"}})
    got = expo.sample(s.of(2))
    assert isinstance(got, float) and got == -60.0 * math.log(1.0 - unit(s.key, 2, 0))
    assert s.taken(2) == 1
    fixed = parse_distribution("5m")
    assert fixed.sample(s.of(2)) == 300.0 and s.taken(2) == 1  # a fixed value draws nothing
    emp = parse_distribution({"empirical": ["1m", "2m", "5m"]})
    u = unit(s.key, 2, 1)
    assert emp.sample(s.of(2)) == (60.0, 120.0, 300.0)[int(u * 3)]
    assert s.of(1).exponential(2.0, size=(2, 3)).shape == (2, 3) and s.taken(1) == 6


def test_unknown_methods_raise_instead_of_using_a_shared_stream():
    draws = Stream(1, "behaviour:esp", 3).of(0)
    with pytest.raises(AttributeError, match="'behaviour:esp' has no method 'integers'.*random, uniform"):
        draws.integers(5)
    with pytest.raises(AttributeError):
        draws.poisson(1.0)
    with pytest.raises(ValueError, match="with replacement only"):
        draws.choice(3, 2, replace=False)
    with pytest.raises(ValueError, match="adding up to 1"):
        draws.choice(2, p=[0.5, 0.6])


N = 100_000


def _one_each(method: str, *args, **kwargs) -> np.ndarray:
    """One draw for each of N customers (as the engine draws), from a fresh stream."""
    s = Stream(2026, f"moments:{method}", N)
    return np.array([getattr(s.of(c), method)(*args, **kwargs) for c in range(N)], dtype=float)


def _within_4_se(x: np.ndarray, mean: float, sd: float) -> None:
    se = sd / math.sqrt(len(x))
    assert abs(x.mean() - mean) < 4 * se, (x.mean(), mean, se)


def test_moments_over_100k_customers_within_4_standard_errors():
    """Uniform(0, 1): mean 1/2, sd 1/sqrt(12); Exp(scale 3): mean 3, sd 3 (and its variance 9 with the
    sample variance's sd 3**2 sqrt(8) for an exponential, fourth central moment 9 * 9);
    Normal(5, 2): mean 5, sd 2, and P(X < 5) = 1/2; Lognormal(0, 0.5): mean exp(0.125), sd
    sqrt((exp(0.25) - 1) exp(0.25))."""
    u = _one_each("random")
    _within_4_se(u, 0.5, 1 / math.sqrt(12))
    e = _one_each("exponential", 3.0)
    _within_4_se(e, 3.0, 3.0)
    _within_4_se((e - 3.0) ** 2, 9.0, 9.0 * math.sqrt(8))
    z = _one_each("normal", 5.0, 2.0)
    _within_4_se(z, 5.0, 2.0)
    _within_4_se((z - 5.0) ** 2, 4.0, 4.0 * math.sqrt(2))
    _within_4_se((z < 5.0).astype(float), 0.5, 0.5)
    ln = _one_each("lognormal", 0.0, 0.5)
    _within_4_se(ln, math.exp(0.125), math.sqrt((math.exp(0.25) - 1) * math.exp(0.25)))


def test_choice_frequencies_within_4_standard_errors():
    """With p = (0.2, 0, 0.8) index 1 never comes and index 0 comes with share 0.2 (sd 0.4); without p
    each of 4 indexes has share 1/4 (sd sqrt(3)/4)."""
    picks = _one_each("choice", 3, p=[0.2, 0.0, 0.8])
    assert not (picks == 1).any()
    _within_4_se((picks == 0).astype(float), 0.2, 0.4)
    flat = _one_each("choice", 4)
    for k in range(4):
        _within_4_se((flat == k).astype(float), 0.25, math.sqrt(3) / 4)


def test_truncated_normal_respects_its_bound_and_mean():
    """A duration normal(mean 1m, sd 2m) is conditioned on >= 0: every draw is >= 0, and the mean is the
    truncated mean mu + sd phi(a) / (1 - Phi(a)) with a = -mu/sd = -0.5 (= 60 + 120 * 0.3521 / 0.6915
    = 121.1 s), within 4 standard errors of the truncated distribution's sd (computed from its variance)."""
    dist = parse_distribution({"normal": {"mean": "1m", "sd": "2m"}})
    s = Stream(7, "truncated", N)
    x = np.array([dist.sample(s.of(c)) for c in range(N)])
    assert x.min() >= 0.0
    a = -0.5
    std = NormalDist()
    lam = std.pdf(a) / (1 - std.cdf(a))
    mean = 60.0 + 120.0 * lam
    assert abs(mean - dist.mean) < 1e-9 and 121.0 < mean < 121.2
    sd = 120.0 * math.sqrt(1 + a * lam - lam**2)
    _within_4_se(x, mean, sd)
    assert sum(s.taken(c) for c in range(N)) > N  # some customers redrew (P(X < 0) = 0.31)


# --------------------------------------------------------------------------- independence of other customers


ops = st.lists(st.tuples(st.integers(0, 4), st.sampled_from(["random", "exponential", "normal", "choice"])),
               max_size=60)


@settings(max_examples=60, deadline=None)
@given(ops, st.randoms(use_true_random=False))
def test_a_customers_draws_do_not_depend_on_other_customers(sequence, rnd):
    """Customer c's values are the same whether the others draw before, after or between its draws:
    play the sequence, each customer alone, and another interleaving of the same per-customer sequences."""
    def play(order):
        s = Stream(11, "prop", 5)
        out: dict[int, list[float]] = {}
        for c, method in order:
            draws = s.of(c)
            value = draws.choice(7) if method == "choice" else getattr(draws, method)()
            out.setdefault(c, []).append(float(value))
        return out

    first = play(sequence)
    for c in first:
        assert play([op for op in sequence if op[0] == c])[c] == first[c]  # alone
    mine = {c: [op for op in sequence if op[0] == c] for c in first}
    cursors = {c: 0 for c in mine}
    merged = []  # the customers' own sequences interleaved at random (each customer's order kept)
    while any(cursors[c] < len(mine[c]) for c in mine):
        c = rnd.choice(sorted(c for c in mine if cursors[c] < len(mine[c])))
        merged.append(mine[c][cursors[c]])
        cursors[c] += 1
    assert play(merged) == first


# --------------------------------------------------------------------------- engine: a customer's own records

#: Every per-customer stream at work on generated customers: split, execution-window jitter, stream and
#: batch links with failures and retries, delivery delays (normal, empirical), opens, clicks, SMS
#: unsubscribes, duplicate webhooks, an ``after`` follower of email_opened, email fatigue.
SCENARIO = """\
scenario: per-customer-streams
start: 2026-03-02T00:00:00Z
duration: 4d
seed: 5
default_timezone: UTC
population:
  size: 200
  timezones: {UTC: 0.5, America/New_York: 0.5}
  attributes:
    tier: {choice: {gold: 0.3, silver: 0.7}}
  consent: {email: 0.8, sms: 0.9}
  behaviour:
    email:
      open: 0.5
      open_delay: {lognormal: {median: 1h, p95: 12h}}
      click_given_open: 0.3
      click_delay: {exponential: {mean: 10m}}
      fatigue: {window: 3d, unsubscribe: [0.05, 0.2], delay: {uniform: {low: 1m, high: 1h}}}
    unsubscribe_per_message: {sms: 0.05}
  events:
    - name: browse
      origin: web
      after: {event: email_opened, probability: 0.5, delay: {exponential: {mean: 2h}}}
      sets: {engaged: true}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp:
    kind: channel
    channel: email
    delivery_delay: {normal: {mean: 2m, sd: 3m}}
    webhooks: {duplicate_rate: 0.2, duplicate_delay: {exponential: {mean: 5m}}}
  sms: {kind: channel, channel: sms, delivery_delay: {empirical: [5s, 30s, 2m]}}
sync:
  - {from: web, to: cdp, fields: [events, engaged], latency: {lognormal: {median: 1m, p95: 20m}}, failure_rate: 0.1, retry_after: 5m}
  - {from: esp, to: cdp, fields: [events, consent], mode: batch, every: 1h, duration: {uniform: {low: 1m, high: 20m}}, failure_rate: 0.1, retry_after: 1h}
  - {from: cdp, to: esp, fields: [consent], latency: {exponential: {mean: 10m}}, failure_rate: 0.05}
  - {from: cdp, to: sms, fields: [consent], latency: {exponential: {mean: 10m}}}
policies:
  consent_required: [email, sms]
messages:
  m: {channel: email, body: "Hi {{ tier }}"}
  m2: {channel: email, body: "Again"}
  t: {channel: sms, body: "Hi. Reply STOP to opt out"}
journeys:
  - name: blast
    reads_from: cdp
    entry: {at: 2026-03-02T06:00:00Z, segment: "opted_in('email')"}
    execution_window: {days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00", timezone: recipient, jitter: 2h}
    steps:
      - {id: pick, split: {a: 50, b: 50}}
      - {id: a, send: m, next: w}
      - {id: b, send: m2}
      - {id: w, wait: 1d}
      - id: br
        branch:
          - {when: "engaged", goto: sms1}
          - {else: end}
      - {id: sms1, send: t}
"""


def _records(events, customer: str) -> list[tuple]:
    cols = [c for c in events.columns if c not in ("seq", "ts")]
    mine = events[events["customer"] == customer][cols]
    return [tuple(None if v != v else str(v) for v in row) for row in mine.itertuples(index=False)]


def test_a_customers_records_do_not_depend_on_the_population_size():
    """Every draw made while the clock runs is the customer's own (split, execution-window jitter, sync
    latency, failures and retries of stream and batch links, delivery delays, opens and clicks,
    duplicate webhooks, the ``after`` follower event, fatigue opt-outs), so customer c's records are
    the same with 200 or 400 customers as long as its attributes are. They are here: attributes,
    consent and zones are drawn vectorised and numpy's draws for the first 200 do not depend on how
    many follow; there is no once/poisson event (the exogenous schedule is not prefix-stable), no
    channel throughput (the queue couples customers), and batch durations are one shared draw per run."""
    sc = load_scenario_text(SCENARIO)
    small = run_scenario(sc, customers=200)
    big = run_scenario(sc, customers=400)
    a, b = small.customer_table(), big.customer_table()
    assert a.equals(b.iloc[:200].reset_index(drop=True))  # the precondition: same customers
    ea, eb = small.events(), big.events()
    ids = sorted(set(ea["customer"].dropna()))
    assert ids == sorted(c for c in set(eb["customer"].dropna()) if c <= "c000200")
    kinds = set(ea["kind"])
    assert {"split", "rescheduled", "sync-retry", "delivered"} <= kinds  # the streams were exercised
    assert ea["detail"].str.contains("duplicate webhook", na=False).any()
    assert (ea["field"] == "browse").any() and (ea["field"] == "email_unsubscribed").any()
    assert len(ids) > 100
    for cid in ids:
        assert _records(ea, cid) == _records(eb, cid), cid


# --------------------------------------------------------------------------- request ids per customer


def test_requests_are_numbered_per_customer_and_findings_keep_customers_apart():
    """ana starts opted out of email and signs up at 0 (opt-in; entry); cdp->esp brings her consent
    after 1h, so the welcome email decided at 5m is suppressed by the ESP's stale opt-out: 1
    missed-send (as test_findings_kinds.missed_opt_in). bob was opted in already: his welcome is
    delivered. Each is its customer's first send request, so both are ``req=1``: keyed by the number
    alone, ana's request would count as delivered (bob's req=1 was) and her missed-send would vanish."""
    text = scenario(sync="  - {from: web, to: cdp, fields: [signup, consent]}\n"
                         "  - {from: cdp, to: esp, fields: [consent], latency: {fixed: 1h}}",
                    journeys=journey("{id: w, wait: 5m}", "{id: welcome, send: m}", entry="{event: signup}"))
    both = run(text, person((0, "signup"), email=False), person((0, "signup"), name="bob"))
    ev = both.events()
    sends = ev[ev["kind"] == "send"]
    assert sorted(zip(sends["customer"], sends["detail"])) == [("ana", "req=1; inst=1"), ("bob", "req=1; inst=1")]
    assert list(ev[ev["kind"] == "delivered"]["customer"]) == ["bob"]
    missed = of_kind(both, "missed-send")
    assert list(missed["customer"]) == ["ana"] and "stale opt-out" in missed["message"][0]
    alone = run(text, person((0, "signup"), email=False))
    keep = ["kind", "customer", "step", "time", "message", "root_cause"]
    assert both.findings[keep].to_dict("records") == alone.findings[keep].to_dict("records")
