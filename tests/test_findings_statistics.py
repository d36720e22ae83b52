"""Closed-form checks of finding rates over large seeded populations.

Each test builds a scenario whose race probability has a closed form and checks the simulated
rate falls inside the binomial 99% interval around it.
"""

from __future__ import annotations

import math

from simulator.pipeline import run_scenario
from simulator.scenario.load import load_scenario_text

Z99 = 2.5758293035489


def within_99(successes: int, n: int, p: float) -> tuple[bool, str]:
    half = Z99 * math.sqrt(p * (1 - p) / n)
    rate = successes / n
    return abs(rate - p) <= half, f"rate {rate:.4f} vs {p:.4f} +/- {half:.4f} (n={n})"


EXIT_RACE = """\
scenario: exit-race-closed-form
start: 2026-12-01T00:00:00Z
duration: 3d
seed: 11
population:
  size: 20000
  consent: {email: 1.0}
  events:
    - {name: cart_abandoned, origin: app, once: {probability: 1, at: {uniform: {low: 0s, high: 1d}}}}
    - {name: purchase, origin: web, after: {event: cart_abandoned, probability: 1, delay: {fixed: 10m}}}
systems:
  app: {kind: source}
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
sync:
  - {from: app, to: cdp, fields: [cart_abandoned]}                 # entry arrives at once
  - {from: web, to: cdp, fields: [purchase], latency: {exponential: {mean: 30m}}}
messages:
  reminder: {channel: email, body: "Your cart"}
journeys:
  - name: cart
    reads_from: cdp
    entry: {event: cart_abandoned}
    exit_when: {event: purchase, check: continuous}
    steps:
      - {id: wait_1h, wait: 1h}
      - {id: remind, send: reminder}
"""


def test_exit_race_rate_matches_exponential_tail():
    """Purchase 10 min after entry, exponential(30m) web->cdp lag, send at +60 min: P(race) = exp(-50/30)."""
    result = run_scenario(load_scenario_text(EXIT_RACE))
    races = result.findings[result.findings["kind"] == "exit-race"]
    entered = result.analysis.totals.get("exit-race", {}).get("entered", 20000)
    assert entered == 20000
    ok, text = within_99(races["customer"].nunique(), entered, math.exp(-5 / 3))
    assert ok, text
    # every race is explained by the web->cdp hop, with a lag over the 50 minutes it had
    assert set(races["link"]) == {"web->cdp"}
    assert (races["lag_seconds"].dropna() > 50 * 60).all()


BATCH_VS_WAIT = """\
scenario: batch-vs-wait
start: 2026-12-01T00:00:00Z
duration: 3d
seed: 5
population:
  size: 20000
  attributes:
    stage: {choice: {A: 1.0}}
  events:
    - {name: signal, origin: app, once: {probability: 1, at: {uniform: {low: 0s, high: 40h}}}}
    - {name: stage_up, origin: crm, after: {event: signal, probability: 1, delay: {fixed: 0s}}, sets: {stage: B}}
systems:
  app: {kind: source}
  crm: {kind: crm}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
sync:
  - {from: app, to: cdp, fields: [signal]}
  - {from: crm, to: cdp, fields: [stage], mode: batch, every: 4h}
messages:
  member: {channel: email, body: "Welcome, member"}
journeys:
  - name: upgrade
    reads_from: cdp
    entry: {event: signal}
    steps:
      - {id: wait_1h, wait: 1h}
      - id: by_stage
        branch:
          - {when: "stage == 'B'", goto: member}
          - {else: end}
      - {id: member, send: member}
"""


def test_stale_branch_rate_matches_batch_schedule():
    """A change at a uniform time, a 4-hourly batch, a decision 1 h later: P(stale) = 1 - 1/4 = 0.75."""
    result = run_scenario(load_scenario_text(BATCH_VS_WAIT))
    stale = result.findings[result.findings["kind"].isin(["stage-propagation-miss", "stale-branch"])]
    assert set(stale["step"]) == {"by_stage"}
    ok, text = within_99(stale["customer"].nunique(), 20000, 0.75)
    assert ok, text
    assert set(stale["link"]) == {"crm->cdp"}
    assert (stale["lag_seconds"] > 3600).all() and (stale["lag_seconds"] <= 4 * 3600).all()
