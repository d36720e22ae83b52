"""Shared fixtures: a small valid scenario as text, and helpers to find lines in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis checks properties, not speed: no per-example deadline and no "too slow" health check, so a
# loaded CI machine cannot fail a property that holds (speed is benchmarks/' business). A test's own
# @settings still sets its number of examples.
settings.register_profile("journeysim", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.load_profile("journeysim")

MINIMAL = """\
scenario: tiny
start: 2026-12-01T00:00:00Z
duration: 3d
seed: 7
default_timezone: America/New_York
population:
  size: 10
  timezones: {America/New_York: 0.5, Europe/London: 0.5}
  attributes:
    stage: {choice: {A: 0.8, B: 0.2}}
    lifetime_value: {normal: {mean: 120, sd: 40}}
  consent: {email: 0.9, sms: 0.5}
  events:
    - name: cart_abandoned
      origin: web
      once: {probability: 0.5, at: {uniform: {low: 0s, high: 1d}}}
    - name: purchase
      origin: web
      after: {event: cart_abandoned, probability: 0.3, delay: {exponential: {mean: 3h}}}
      sets: {has_purchased: true}
    - name: stage_up
      origin: crm
      when: "stage == 'A'"
      poisson: {rate_per_day: 0.1}
      sets: {stage: B}
systems:
  web: {kind: source}
  crm: {kind: crm}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email, throughput: 50/s}
  sms: {kind: channel, channel: sms}
sync:
  - {from: web, to: cdp, fields: [events, has_purchased], latency: {fixed: 10m}}
  - {from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: 1h}
  - {from: esp, to: cdp, fields: [events]}
messages:
  m1: {channel: email, subject: "Hi {{ first_name }}", body: "Hello {{ unsubscribe_url }}"}
  m2: {channel: sms, body: "Cart waiting. Reply STOP to opt out"}
journeys:
  - name: cart
    reads_from: cdp
    entry: {event: cart_abandoned}
    exit_when: {event: purchase}
    steps:
      - {id: wait_1h, wait: 1h}
      - {id: email_1, send: m1}
      - {id: opened, wait_until: {event: email_opened, timeout: 24h}}
      - id: by_stage
        branch:
          - {when: "stage == 'B'", goto: sms_b}
          - {else: end}
      - {id: sms_b, send: m2}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the ``occurrence``-th line containing ``needle``."""
    seen = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not in text")


@pytest.fixture
def minimal_text() -> str:
    return MINIMAL


@pytest.fixture
def write_scenario(tmp_path):
    """Write YAML text to a temp file and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
