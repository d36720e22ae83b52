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
from simulator.pipeline import run_scenario
from simulator.engine.population import ScriptedCustomer
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
    # built inside '.promo.partial-<pid>-...' during the run, the report names the final folder
    assert ".partial-" not in html and f"journeysim trace {promo_run} --customer" in html


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


# ------------------------------------------------------------------------ figure data (hand-checked)

from simulator.report.data import hop_lags, wilson_interval  # noqa: E402

QUIET_SMS = GOLDEN + """\
policies:
  quiet_hours: {from: "21:00", to: "08:00", channels: [sms]}
"""


@pytest.fixture(scope="module")
def golden_run(tmp_path_factory):
    """GOLDEN with quiet hours on SMS only: ana (London) gets emails at 10:00 and 12:00 local on Tue 1 Dec,
    bob (New York) at 23:30 Tue 1 Dec and 01:30 Wed 2 Dec local."""
    out = tmp_path_factory.mktemp("golden") / "run"
    people = [ScriptedCustomer("ana", consent={"email": True}, timezone="Europe/London", events=((10 * 3600, "go"),)),
              ScriptedCustomer("bob", consent={"email": True}, timezone="America/New_York",
                               events=((28 * 3600 + 1800, "go"),))]
    run_scenario(load_scenario_text(QUIET_SMS), scripted=people, out=out, report=True)
    return out


def test_send_hour_heatmap_per_channel(golden_run):
    """One grid per channel; email's 23:30 and 01:30 deliveries are in the email grid at (Tue, 23) and
    (Wed, 1) (1 Dec 2026 is a Tuesday) and quiet hours, which cover SMS only, are not drawn on it."""
    run = load_run(golden_run)
    grids = run.send_hour_grids()
    assert list(grids) == ["email"]
    cells = {(int(d), int(h)): int(grids["email"][d, h]) for d, h in zip(*grids["email"].nonzero())}
    assert cells == {(1, 10): 1, (1, 12): 1, (1, 23): 1, (2, 1): 1}
    assert run.quiet_hours_of("email") == []
    assert run.quiet_hours_of("sms") == [(21.0, 24.0), (0.0, 8.0)]


def test_funnel_counts_entries_like_the_summary(golden_run, promo_run):
    """GOLDEN: 2 entries by 2 customers, each reaching first, wait_2h and second and sending twice. On the
    bundled promo run the funnel's entries per journey equal the log's entry events and sum to the run
    summary's entry count (the funnel used to count distinct customers at the first step)."""
    table = load_run(golden_run).funnel_table()
    assert table.to_dict("records") == [
        {"journey": "twice", "entries": 2, "customers": 2, "step": s, "reached": 2, "sent": n, "suppressed": 0,
         "exited": 0} for s, n in (("first", 2), ("wait_2h", 0), ("second", 2))]
    run = load_run(promo_run)
    funnel = run.funnel_table().drop_duplicates("journey").set_index("journey")["entries"]
    entries = run.log(["entry"], ["journey"]).groupby("journey").size()
    assert funnel[funnel > 0].sort_index().to_dict() == entries.sort_index().to_dict()
    assert int(funnel.sum()) == run.summary["counts"]["entry"]
    html = (promo_run / "report.html").read_text()
    assert f"<tr><th>journey entries</th><td>{run.summary['counts']['entry']} " in html


def test_findings_per_day_shows_empty_days(promo_run):
    """Findings at t = 1h (day 1), 30h and 47h (day 2) and 200h (day 9) of a 10-day run: ten rows, days 3-8
    and 10 zero."""
    run = load_run(promo_run)
    run.findings = pd.DataFrame({"kind": ["exit-race", "overlap", "exit-race", "overlap"],
                                 "t": [3600.0, 30 * 3600.0, 47 * 3600.0, 200 * 3600.0]})
    table = run.findings_per_day()
    assert list(table.index) == list(range(1, 11))
    assert table["exit-race"].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 0]
    assert table["overlap"].tolist() == [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]


def test_weekly_counts_have_an_all_channels_row(promo_run):
    """The 'any' rows are the per-channel rows summed per customer and week (the all-channels chart)."""
    weekly = load_run(promo_run).weekly_counts()
    per = weekly[weekly["channel"] != "any"].groupby(["customer", "week"])["messages"].sum()
    every = weekly[weekly["channel"] == "any"].set_index(["customer", "week"])["messages"]
    pd.testing.assert_series_equal(per.sort_index(), every.sort_index(), check_names=False)


def test_wilson_interval_by_hand():
    """3 of 10, z = 1.959964: centre (0.3 + z^2/20) / (1 + z^2/10) = 0.355500, half-width
    z * sqrt(0.021 + z^2/400) / (1 + z^2/10) = 0.247718 -> [0.1078, 0.6032]; 0 of 20 -> [0, 0.1611]."""
    low, high = wilson_interval(3, 10)
    assert low == pytest.approx(0.10779, abs=1e-5) and high == pytest.approx(0.60322, abs=1e-5)
    low, high = wilson_interval(0, 20)
    assert low == 0.0 and high == pytest.approx(0.16113, abs=1e-5)


def test_optout_groups_have_wilson_intervals(promo_run):
    """Every messaged customer is in exactly one group; each group's interval is its Wilson interval; the
    last group ('N+') holds everyone at N or more per week and at least 30 customers."""
    run = load_run(promo_run)
    table = run.optout_table()
    assert int(table["customers"].sum()) == run.deliveries["customer"].nunique()
    for row in table.to_dict("records"):
        assert (row["low"], row["high"]) == wilson_interval(row["unsubscribed"], row["customers"])
    per_week = (run.deliveries.groupby("customer").size() / (10 / 7)).round()  # the promo run is 10 days
    last = table.iloc[-1]
    assert last["customers"] >= 30 and last["customers"] == int((per_week >= last["per_week"]).sum())
    assert last["label"] == (f"{last['per_week']}+" if per_week.max() > last["per_week"] else str(last["per_week"]))
    html = (promo_run / "report.html").read_text()
    assert "Correlation, not causation" in html


def test_hop_lags_per_link_and_end_to_end():
    """stage v1 changes at crm at t=0, reaches cdp at t=100 over crm-to-cdp and esp at t=400 over cdp-to-esp:
    crm-to-cdp is a first hop (per-link = end-to-end = 100 s); cdp-to-esp's own lag is 400 - 100 = 300 s,
    its end-to-end lag 400 s."""
    events = pd.DataFrame({
        "customer": ["c1", "c1", "c1"], "kind": ["truth", "sync", "sync"], "system": ["crm", "cdp", "esp"],
        "field": ["stage"] * 3, "version": [1.0, 1.0, 1.0], "t": [0.0, 100.0, 400.0],
        "detail": ["", "link=crm-to-cdp; lag=1m40s", "link=cdp-to-esp; lag=6m40s"]})
    lags = hop_lags(events, {"crm-to-cdp": "crm", "cdp-to-esp": "cdp"}).set_index("link")
    assert lags.loc["crm-to-cdp", ["end_to_end", "per_link"]].tolist() == [100.0, 100.0]
    assert lags.loc["cdp-to-esp", ["end_to_end", "per_link"]].tolist() == [400.0, 300.0]


def _findings(rows: list[dict]) -> object:
    from types import SimpleNamespace

    columns = ["kind", "customer", "journey", "step", "link", "hop_at_decision", "lag_seconds", "phase"]
    return SimpleNamespace(findings=pd.DataFrame(rows, columns=columns))


def test_phase_and_hop_at_decision_tables_on_hand_made_findings():
    """Five hand-written findings.csv rows: exit races c1 (decided), c2 and c3 (held), c2 again (queued) at
    cart/sms, and one stale-branch (no phase). Phase table, in send order decided < held < queued:
    decided 1 finding/1 customer, held 2/2, queued 1/1; the stale-branch row is not in it. Paths table: the
    blamed link crm->cdp with the hop each change was on at the decision: (crm->cdp, crm->cdp, exit-race)
    2 findings, median lag (1 h + 3 h)/2 = 2 h; (crm->cdp, web->crm, exit-race) 1 finding, 5 h;
    (crm->cdp, empty hop, stale-branch) 1, 0.5 h. The queued race without a link is in neither link row."""
    from simulator.report.html import _paths_table, _phase_table

    h = 3600.0
    run = _findings([
        {"kind": "exit-race", "customer": "c1", "journey": "cart", "step": "sms", "link": "crm->cdp",
         "hop_at_decision": "crm->cdp", "lag_seconds": 1 * h, "phase": "decided"},
        {"kind": "exit-race", "customer": "c2", "journey": "cart", "step": "sms", "link": "crm->cdp",
         "hop_at_decision": "web->crm", "lag_seconds": 5 * h, "phase": "held"},
        {"kind": "exit-race", "customer": "c3", "journey": "cart", "step": "sms", "link": "crm->cdp",
         "hop_at_decision": "crm->cdp", "lag_seconds": 3 * h, "phase": "held"},
        {"kind": "exit-race", "customer": "c2", "journey": "cart", "step": "sms", "link": None,
         "hop_at_decision": None, "lag_seconds": None, "phase": "queued"},
        {"kind": "stale-branch", "customer": "c4", "journey": "cart", "step": "by_stage", "link": "crm->cdp",
         "hop_at_decision": None, "lag_seconds": 0.5 * h, "phase": None},
    ])
    phases = _phase_table(run)
    assert phases[["kind", "step", "phase", "findings", "customers"]].astype(str).values.tolist() == [
        ["exit-race", "sms", "decided", "1", "1"], ["exit-race", "sms", "held", "2", "2"],
        ["exit-race", "sms", "queued", "1", "1"]]
    paths = _paths_table(run).fillna("")
    assert list(paths.columns) == ["link", "hop at decision", "kind", "findings", "customers", "median_lag_h"]
    rows = {(r["link"], r["hop at decision"], r["kind"]): (r["findings"], r["median_lag_h"])
            for r in paths.to_dict("records")}
    assert rows == {("crm->cdp", "crm->cdp", "exit-race"): (2, 2.0), ("crm->cdp", "web->crm", "exit-race"): (1, 5.0),
                    ("crm->cdp", "", "stale-branch"): (1, 0.5)}


def test_runs_without_phase_or_hop_columns_keep_the_old_tables():
    """An older findings.csv (no phase, no hop_at_decision) or one where they are all empty: no phase table,
    and the paths table keeps its link x kind rows."""
    from simulator.report.html import _paths_table, _phase_table

    run = _findings([{"kind": "stale-branch", "customer": "c4", "journey": "j", "step": "b", "link": "a->b",
                      "hop_at_decision": None, "lag_seconds": 60.0, "phase": None}])
    assert _phase_table(run).empty
    assert list(_paths_table(run).columns) == ["link", "kind", "findings", "customers", "median_lag_h"]
    run.findings = run.findings.drop(columns=["phase", "hop_at_decision"])
    assert _phase_table(run).empty and len(_paths_table(run)) == 1
