"""`journeysim run --impact CHANNEL`: a paired what-if run without the channel's sends (docs/projections.md).

Hand-derived: in the click scenario three generated customers (scripted ones get only their own
events, so no `after` follower) enter at 00:00, every delivered email is clicked 10 minutes after
delivery and a click is followed by a purchase 1 hour later, so with email every entrant converts and without it
none does: contribution 1.0 with a zero-width interval, and an SMS channel that sends nothing
contributes exactly 0. The statistical test uses the response model: a 0.1/day purchase rate tripled
for 2 days by the email; within 3 days the contribution is (1 - exp(-0.7)) - (1 - exp(-0.3)) = 0.244233,
and because both runs share each customer's conversion draw, nobody converts only without the email.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner
from test_projections import HOLDOUT_STEPS, scenario

from simulator.cli import cli
from simulator.pipeline import run_scenario
from simulator.engine.events import read_events
from simulator.projections.impact import impact_hook, paired_difference
from simulator.scenario.load import load_scenario_text

CLICKS = """\
scenario: clicks
start: 2026-12-01T00:00:00Z
duration: 3d
population:
  size: 3
  consent: {email: 1.0, sms: 1.0}
  behaviour:
    email: {click: 1.0, click_delay: {fixed: 10m}}
  events:
    - {name: cart, origin: web, once: {probability: 1, at: {fixed: 0s}}}
    - {name: purchase, origin: web, after: {event: email_clicked, probability: 1, delay: {fixed: 1h}}}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
  sms: {kind: channel, channel: sms}
sync:
  - {from: web, to: cdp, fields: [events]}
  - {from: esp, to: cdp, fields: [events]}
messages:
  m: {channel: email, body: "Hi"}
  t: {channel: sms, body: "Hi. Reply STOP to opt out"}
projections: {conversion: purchase}
journeys:
  - name: j
    reads_from: cdp
    entry: {event: cart}
    steps:
      - {id: e1, send: m}
"""


def impact_of(text: str, channels: list[str], tmp_path, scripted=(), customers=None) -> dict:
    sc = load_scenario_text(text)
    hook = impact_hook(sc, sc.seed, channels, customers=customers, scripted=scripted)
    result = run_scenario(sc, out=tmp_path / "run", scripted=scripted, before_commit=hook, customers=customers)
    return result.summary["projections"]["impact"]


def test_paired_difference_by_hand():
    """d = [1, 0, 1, 0]: mean 0.5, sd (n-1) = sqrt(1/3) = 0.57735, half-width 1.959964 * 0.57735 / 2 = 0.565792."""
    mean, low, high = paired_difference(np.array([1, 1, 1, 0]), np.array([0, 1, 0, 0]))
    assert mean == 0.5 and low == pytest.approx(0.5 - 0.565792, abs=1e-6) and high == pytest.approx(1.065792, abs=1e-6)
    assert paired_difference(np.array([]), np.array([])) is None


def test_removing_the_only_converting_channel_removes_every_conversion(tmp_path):
    imp = impact_of(CLICKS, ["email", "sms"], tmp_path)
    email = imp["email"]["journeys"]["j"]
    assert (email["customers"], email["converted_with"], email["converted_without"]) == (3, 3, 0)
    assert (email["contribution"], email["low"], email["high"]) == (1.0, 1.0, 1.0)
    assert email["relative"] is None  # nobody converts without: the ratio is undefined
    assert email["converted_only_without"] == 0 and email["entered_only_with"] == 0
    sms = imp["sms"]["journeys"]["j"]
    assert (sms["converted_with"], sms["converted_without"], sms["contribution"], sms["low"], sms["high"]) == \
        (3, 3, 0.0, 0.0, 0.0)


def test_the_run_itself_is_untouched_by_the_what_if_run(tmp_path):
    """The run folder's log is the plain run's: the what-if run is in memory only."""
    sc = load_scenario_text(CLICKS)
    plain = run_scenario(sc, out=tmp_path / "a")
    with_hook = run_scenario(sc, out=tmp_path / "b", before_commit=impact_hook(sc, sc.seed, ["email"]))
    a = read_events(tmp_path / "a").drop(columns=["ts"])
    b = read_events(tmp_path / "b").drop(columns=["ts"])
    assert a.equals(b)
    assert "impact" not in plain.summary["projections"] and "impact" in with_hook.summary["projections"]


def test_a_response_lift_is_measured_by_the_paired_run(tmp_path):
    text = scenario(steps=HOLDOUT_STEPS, size=20000, seed=4, projections="{conversion: purchase, window: 3d}",
                    purchase="poisson: {rate_per_day: 0.1}, response: [{to: m, multiply: 3, for: 2d}]")
    j = impact_of(text, ["email"], tmp_path)["email"]["journeys"]["j"]
    expected = (1 - math.exp(-0.7)) - (1 - math.exp(-0.3))
    se = (j["high"] - j["low"]) / (2 * 1.959964)
    assert j["customers"] == 20000
    assert abs(j["contribution"] - expected) <= 2.5758293 * se, (j, expected)
    assert j["converted_only_without"] == 0  # common random numbers: a lower hazard never converts sooner
    assert j["rate_without"] == pytest.approx(1 - math.exp(-0.3), abs=2.5758293 * math.sqrt(0.26 * 0.74 / 20000))


def test_cli_impact_prints_writes_and_reports(tmp_path):
    path = tmp_path / "clicks.yaml"
    path.write_text(CLICKS.replace("size: 3", "size: 50"))
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "run"), "--impact", "email,sms"])
    assert r.exit_code in (0, 1), r.output
    assert "impact of email on j: 100.0% with, 0.0% without: +100.0 points" in r.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(summary["projections"]["impact"]) == {"email", "sms"}
    assert "Channel impact" in (tmp_path / "run" / "report.html").read_text()


@pytest.mark.parametrize("args, words", [
    (["--impact", "emial"], "did you mean 'email'"),
    (["--impact", "fax"], "no such channel"),
])
def test_cli_bad_impact_channels_exit_2(args, words, tmp_path):
    path = tmp_path / "clicks.yaml"
    path.write_text(CLICKS)
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "run"), *args])
    assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output
    assert not (tmp_path / "run").exists()


def test_cli_impact_without_projections_exits_2(tmp_path):
    path = tmp_path / "clicks.yaml"
    path.write_text(CLICKS.replace("projections: {conversion: purchase}\n", ""))
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(tmp_path / "run"), "--impact", "email"])
    assert r.exit_code == 2 and "projections: {conversion: EVENT}" in r.output
