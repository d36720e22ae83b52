"""Report defects found by a new-user trial: a zero-width zoom swimlane, an unreadable sync-lag chart for
a zero-latency link, import placeholders invisible in the report and summary.json."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.report.trace import MIN_SPAN, time_window

#: Five customers fire ``go`` at app at 1d (2026-01-06 00:00 UTC); app->cdp is instant. j sends m and m2
#: at that same instant; the cap (1 per day, counted at once) drops m2 -> a missed-send at 00:00 for
#: each customer. Each also fires ``buy`` at 4d, so their events span 3 days (> 36 h): the report draws a
#: zoom figure of the 24 hours around the finding, where every event is at 00:00.
CAP_SCENARIO = """\
scenario: capzoom
start: 2026-01-05T00:00:00Z
duration: 5d
default_timezone: UTC
population:
  size: 5
  attributes:
    stage: {choice: {A: 1.0}}
  events:
    - {name: go, origin: app, once: {probability: 1, at: {fixed: 1d}}}
    - {name: buy, origin: web, once: {probability: 1, at: {fixed: 4d}}}
systems:
  web: {kind: source}
  app: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
sync:
  - {from: app, to: cdp, fields: [go]}
  - {from: web, to: cdp, fields: [buy]}
policies:
  frequency_caps: [{channel: any, max: 1, per: 1d}]
  cap_counter_lag: 0s
messages:
  m: {channel: email, body: "Hi"}
  m2: {channel: email, body: "Hi again"}
journeys:
  - name: j
    reads_from: cdp
    entry: {event: go}
    re_entry: false
    steps:
      - {id: a, send: m}
      - {id: b, send: m2}
"""


@pytest.fixture(scope="module")
def cap_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("capzoom")
    path = folder / "cap.yaml"
    path.write_text(CAP_SCENARIO)
    result = CliRunner().invoke(cli, ["run", str(path), "--out", str(folder / "run"), "--quiet"])
    assert result.exit_code == 0, result.output
    return folder / "run"


def test_time_window_has_a_minimum_span():
    """One instant, 2026-01-06 00:00: widened to MIN_SPAN (600 s) centred on it -> 23:55 to 00:05. Two
    times 4 min apart (00:00, 00:04): midpoint 00:02 -> 23:57 to 00:07. Two times 1 h apart: unchanged."""
    assert MIN_SPAN == 600.0
    t0 = pd.Timestamp("2026-01-06 00:00", tz="UTC")
    assert time_window([t0]) == (pd.Timestamp("2026-01-05 23:55", tz="UTC"), pd.Timestamp("2026-01-06 00:05", tz="UTC"))
    assert time_window([t0, t0 + pd.Timedelta(minutes=4)]) == (pd.Timestamp("2026-01-05 23:57", tz="UTC"),
                                                               pd.Timestamp("2026-01-06 00:07", tz="UTC"))
    assert time_window([t0 + pd.Timedelta(hours=1), t0]) == (t0, t0 + pd.Timedelta(hours=1))


def test_zoom_of_a_single_instant_spans_ten_minutes(cap_run):
    """Every event in the zoom window is at 2026-01-06 00:00 (see CAP_SCENARIO): the caption names the
    10-minute axis 23:55 to 00:05, not a zero-width '00:00 to 00:00'."""
    html = (cap_run / "report.html").read_text()
    assert "missed-send: customer c000001; second figure: 2026-01-05 23:55 to 2026-01-06 00:05 UTC" in html
    assert "00:00 to 2026-01-06 00:00" not in html


def test_zero_latency_link_says_so_instead_of_a_1e6_axis(cap_run, monkeypatch):
    """CAP_SCENARIO's links have no latency: go (5 customers, at 1d) and buy (at 4d) arrive at the CDP at the
    instant they happen -> per link 5 arrivals, every lag 0 s. Each panel is words, not a histogram on a
    0..1e-6 h axis: its title says 'all 5 arrivals at 0 s: no latency on this link' and its axes are off."""
    from simulator.report import figures
    from simulator.report.data import load_run

    drawn = []
    monkeypatch.setattr(figures, "_png", lambda fig: drawn.append(fig) or b"png")
    assert figures.sync_lags(load_run(cap_run)) == b"png"
    axes = drawn[0].axes
    assert [ax.get_title(loc="left") for ax in axes] == [
        "app->cdp (app -> cdp): all 5 arrivals at 0 s: no latency on this link",
        "web->cdp (web -> cdp): all 5 arrivals at 0 s: no latency on this link"]
    assert not any(ax.axison for ax in axes)
    assert not any(ax.patches for ax in axes)  # no histogram bars


BRAZE = "tests/data/import/braze/abandoned_cart.json"


def test_import_placeholders_reach_summary_and_report(tmp_path):
    """The Braze abandoned-cart canvas imports with two placeholders (docs/import.md): the Delay's length
    (step s-delay-1, written on line 61) and the Decision Split's filter (s-split-1, line 66). A run of it
    passes its default gate, yet summary.json's ``warnings`` lists both, in file order, exactly as
    validate/run print them, and report.html's verdict area says '2 placeholder values ...' and lists them."""
    from conftest import ROOT

    scenario = tmp_path / "b.yaml"
    result = CliRunner().invoke(cli, ["import", "braze", str(ROOT / BRAZE), "-o", str(scenario)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["run", str(scenario), "--customers", "50", "--out", str(tmp_path / "bz"),
                                      "--quiet"])
    assert result.exit_code == 0, result.output
    import json

    warnings = json.loads((tmp_path / "bz" / "summary.json").read_text())["warnings"]
    assert [w.split(": placeholder: ")[0] for w in warnings] == [
        f"{scenario}:61: journeys[abandoned-cart-recovery].steps[s-delay-1]",
        f"{scenario}:66: journeys[abandoned-cart-recovery].steps[s-split-1]"]
    assert "the export does not carry the Delay's length" in warnings[0]
    assert "the export does not carry the Decision Split's filter" in warnings[1]
    html = (tmp_path / "bz" / "report.html").read_text()
    verdict = html.split('<p class="verdict', 1)[1].split("<nav>", 1)[0]
    assert "All gates pass, on placeholder values (below)" in verdict
    assert ("2 placeholder values from <code>journeysim import</code>: these numbers rest on values the export "
            "did not carry.") in verdict
    assert verdict.count("<li>") == 2 and "steps[s-split-1]" in verdict


def test_a_scenario_without_placeholders_has_an_empty_warnings_list(cap_run):
    """CAP_SCENARIO is hand-written (no placeholder keys): ``warnings`` is present and [], no caveat box."""
    import json

    assert json.loads((cap_run / "summary.json").read_text())["warnings"] == []
    html = (cap_run / "report.html").read_text()
    assert 'id="placeholders"' not in html and "All gates pass:" in html


def test_replications_without_findings_say_so(tmp_path):
    """tests/test_impact.py's CLICKS: 3 customers, all consenting, each sent one email on entering; no rule
    can fire (no cap, no quiet hours, no sync race: the web->cdp link is instant and the journey has no
    wait or exit) -> no finding in any of 3 replications. The heading says so instead of a bare
    'across 3 replications (mean rate ...):' with nothing under it."""
    from test_impact import CLICKS

    path = tmp_path / "clicks.yaml"
    path.write_text(CLICKS)
    result = CliRunner().invoke(cli, ["run", str(path), "--impact", "sms", "--replications", "3",
                                      "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "across 3 replications: no findings in any replication" in result.output
    assert "(mean rate per entered customer, 95% interval):" not in result.output
