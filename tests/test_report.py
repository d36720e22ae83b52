"""report.html: every section and figure present, numbers equal to the log, golden daily frequency."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.engine import run_scenario
from simulator.population import ScriptedCustomer
from simulator.report.data import load_run
from simulator.scenario.load import load_scenario, load_scenario_text

SECTIONS = ("summary", "gates", "findings", "recommendations", "frequency", "timing", "sync", "funnel", "customers")
FIGURES = ("frequency", "volume", "send_hours", "findings_by_step", "findings_over_time", "sync_lags", "funnel",
           "optout")


@pytest.fixture(scope="module")
def promo_run(tmp_path_factory):
    """A 400-customer promo-calendar run folder with its report."""
    out = tmp_path_factory.mktemp("runs") / "promo"
    result = CliRunner().invoke(cli, ["run", str(ROOT / "scenarios" / "promo_calendar.yaml"), "--customers", "400",
                                      "--out", str(out), "--quiet"])
    assert result.exit_code in (0, 1), result.output
    return out


def test_report_has_every_section_and_figure(promo_run):
    """Each section anchor and each figure is in report.html, and every figure is a real PNG."""
    html = (promo_run / "report.html").read_text()
    for section in SECTIONS:
        assert f'id="{section}"' in html
    for key in FIGURES:
        match = re.search(rf'<figure id="fig-{key}"><img alt="[^"]*" src="data:image/png;base64,([^"]+)"', html)
        assert match, f"figure {key} missing"
        png = base64.b64decode(match.group(1))
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000, key
    assert "http://" not in html.replace("http://www.w3.org", "") and "<script" not in html  # self-contained


def _rows(html: str, heading: str) -> list[list[str]]:
    """Cells of the first table after ``heading``."""
    part = html.split(heading, 1)[1].split("</table>", 1)[0]
    return [[re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", part, re.S)]


def test_report_numbers_equal_the_log(promo_run):
    """The sends table and the gate figures equal counts computed directly from events.parquet."""
    html = (promo_run / "report.html").read_text()
    ev = pd.read_parquet(promo_run / "events.parquet", columns=["kind", "journey", "channel"])
    rows = _rows(html, "Sends and suppressions by journey and channel")
    header, body = rows[0], rows[1:]
    assert header[:4] == ["journey", "channel", "decided", "delivered"]
    for journey, channel, decided, delivered, *_ in body:
        mine = ev[(ev["journey"] == journey) & (ev["channel"] == channel)]
        assert int(decided) == int((mine["kind"] == "send").sum())
        assert int(delivered) == int((mine["kind"] == "delivered").sum())
    assert len(body) == ev[ev["kind"] == "send"].groupby(["journey", "channel"]).ngroups
    findings = pd.read_csv(promo_run / "findings.csv")
    for kind, n in findings["kind"].value_counts().items():
        assert f"{kind} == 0</td>" not in html or f"{n} finding" in html


GOLDEN = """\
scenario: golden-frequency
start: 2026-12-01T00:00:00Z
duration: 3d
population:
  size: 0
  events:
    - {name: go, origin: web, once: {probability: 1, at: {fixed: 0s}}}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
sync:
  - {from: web, to: cdp, fields: [events]}
messages:
  hello: {channel: email, body: "Hello"}
journeys:
  - name: twice
    reads_from: cdp
    entry: {event: go}
    steps:
      - {id: first, send: hello}
      - {id: wait_2h, wait: 2h}
      - {id: second, send: hello}
"""


def test_golden_daily_frequency(tmp_path):
    """Hand-computed per-channel daily frequency: ana gets 2 on one London day; bob's 2 straddle New York midnight.

    ana: 10:00 and 12:00 London on 1 Dec -> one customer-day with 2.
    bob: 23:30 New York on 1 Dec and 01:30 on 2 Dec -> two customer-days with 1.
    3 simulated days x 2 messaged customers = 6 customer-days, so 3 with none.
    """
    scenario = load_scenario_text(GOLDEN)
    people = [ScriptedCustomer("ana", consent={"email": True}, timezone="Europe/London", events=((10 * 3600, "go"),)),
              ScriptedCustomer("bob", consent={"email": True}, timezone="America/New_York",
                               events=((28 * 3600 + 1800, "go"),))]
    run_scenario(scenario, scripted=people, out=tmp_path / "run", report=True)
    daily = pd.read_csv(tmp_path / "run" / "daily_frequency.csv")
    email = daily[daily["channel"] == "email"].set_index("messages_per_day")["customer_days"].to_dict()
    assert email == {0: 3, 1: 2, 2: 1}
    shares = daily[daily["channel"] == "email"].set_index("messages_per_day")["share"]
    assert shares.loc[2] == pytest.approx(1 / 6)
    sends = pd.read_csv(tmp_path / "run" / "sends.csv")
    assert sorted(sends["delivered_local"].str[:16]) == ["2026-12-01 10:00", "2026-12-01 12:00",
                                                        "2026-12-01 23:30", "2026-12-02 01:30"]


def test_report_command_rebuilds(promo_run):
    """`journeysim report RUN_DIR` rebuilds the file; a non-run folder exits 2."""
    (promo_run / "report.html").unlink()
    result = CliRunner().invoke(cli, ["report", str(promo_run)])
    assert result.exit_code == 0 and (promo_run / "report.html").exists()
    bad = CliRunner().invoke(cli, ["report", str(promo_run.parent)])
    assert bad.exit_code == 2 and "not a complete run folder" in bad.output


def test_run_data_reads_columns_only(promo_run):
    """The report's data layer reads selected kinds and columns, and the scenario as run."""
    run = load_run(promo_run)
    log = run.log(["delivered"], ["t", "customer"])
    assert list(log.columns) == ["t", "customer"] and len(log) == len(run.deliveries)
    as_loaded = load_scenario(ROOT / "scenarios" / "promo_calendar.yaml")
    assert run.scenario.model_dump(mode="json") == as_loaded.model_dump(mode="json")


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_report_renders_in_headless_chromium(promo_run, tmp_path):
    """A real browser renders the report: the screenshot is a large, non-blank PNG."""
    shot = tmp_path / "report.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,4000",
                    f"--screenshot={shot}", (promo_run / "report.html").as_uri()],
                   check=True, capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 100_000
    dom = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={tmp_path / 'profile2'}",
                          "--dump-dom", (promo_run / "report.html").as_uri()],
                         check=True, capture_output=True, text=True, timeout=120).stdout
    assert dom.count("<figure") >= len(FIGURES) and "Gates" in dom
