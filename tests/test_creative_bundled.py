"""The bundled creative/compliance pair: scenarios/creative_compliance.yaml (deliberate defects) is
found by `journeysim lint` and by `journeysim run` (both exit 1), its fixed twin is clean (exit 0).

Hand derivations (both files: 120 customers, each abandons a cart once (probability 1), gets the
promotional email at once and the promotional SMS an hour later; 75% America/New_York, 25%
Europe/London; compliance: [us-tcpa, us-fl]):

* creative-unsubscribe: the defect email has no {{ unsubscribe_url }}, so every render lacks it: in
  lint 50 sampled + 6 edge profiles = 56 of 56; in the run one finding per email send = 120.
* creative-sms-segments: 78 fixed characters + the name. Ann/James: 81/83 GSM-7 septets, 1 segment.
  Zoë/Inês: 'ë'/'ê' are not GSM-7, so 81/82 UCS-2 units > 70: 2 segments. Edge profiles over
  budget: accented "Zoë Núñez", Cyrillic and CJK (3); empty, missing and the 53-letter GSM-7 name
  (131 septets) fit. In the run: one finding per SMS to a Zoë or an Inês.
* compliance-quiet-hours: the policy holds SMS 21:00-08:00 local, so texts go out 08:00-21:00; us-tcpa
  allows 08:00-21:00, us-fl 08:00-20:00, so lint flags 20:00-21:00 for America/New_York only (London's
  country is GB: no US pack covers it). In the run: one finding per SMS delivered to a New York
  customer at 20:00-20:59 local, each blocked by us-fl alone.
* The fixed twin: link present; 50 fixed characters + the name (longest UCS-2 render: Cyrillic,
  17 + 50 = 67 <= 70); quiet hours from 20:00, held texts delivered at 08:00 local: nothing.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.creative.lint import lint_scenario
from simulator.creative.rulepacks import load_packs
from simulator.engine.events import read_events
from simulator.scenario.load import load_scenario

DEFECTS = ROOT / "scenarios" / "creative_compliance.yaml"
FIXED = ROOT / "scenarios" / "creative_compliance_fixed.yaml"
KINDS = ("creative-unsubscribe", "creative-sms-segments", "compliance-quiet-hours")


def test_lint_finds_the_three_defects():
    """Exit 1; exactly the three kinds, with the hand-derived counts and ranges above."""
    r = CliRunner().invoke(cli, ["lint", str(DEFECTS)])
    assert r.exit_code == 1, r.output
    found = [line.split(":")[0] for line in r.output.splitlines() if line.startswith(("error ", "warning "))]
    assert found == ["error creative-unsubscribe", "warning creative-sms-segments", "error compliance-quiet-hours"]
    assert "cart_email lacks the unsubscribe link ({{ unsubscribe_url }}; CAN-SPAM, CASL) in 56 of 56 renders" in r.output
    assert ("compliance-quiet-hours: promotional sms can go out at 20:00-21:00 local time for customers in "
            "America/New_York (the scenario's policy: quiet hours 21:00-08:00); us-fl quiet-hours") in r.output
    assert "Europe/London" not in r.output and "us-tcpa quiet-hours" not in r.output
    assert "note: us-fl (US-FL) applies to every recipient whose time zone is in US" in r.output
    assert r.output.rstrip().endswith("2 errors, 1 warning")

    sc = load_scenario(DEFECTS)
    report = lint_scenario(sc, sample=50, packs=load_packs(sc.compliance))
    sms = next(m for m in report.messages if m.name == "cart_sms")
    assert set(sms.variants) == {("GSM-7", 1), ("UCS-2", 2)} and sum(sms.variants.values()) == 56
    assert sms.variants[("UCS-2", 2)] >= 3  # the 3 edge profiles + the sampled Zoë/Inês
    assert "UCS-2 because of 'ë' U+00EB" in r.output or "UCS-2 because of 'ê' U+00EA" in r.output


def test_lint_fixed_twin_is_clean():
    r = CliRunner().invoke(cli, ["lint", str(FIXED)])
    assert r.exit_code == 0, r.output
    assert r.output.rstrip().endswith("0 errors, 0 warnings")
    assert "UCS-2 2 segments" not in r.output


@pytest.fixture(scope="module")
def defect_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cc") / "run"
    result = CliRunner().invoke(cli, ["run", str(DEFECTS), "--out", str(out), "--quiet", "--no-report"])
    return result, out


def test_run_finds_the_three_defects(defect_run):
    """Exit 1, the three gates fail; counts as derived in the module docstring, recomputed from the log."""
    result, out = defect_run
    assert result.exit_code == 1, result.output
    gates = {g["gate"].split()[0]: g for g in json.loads((out / "summary.json").read_text())["findings"]["gates"]}
    assert set(gates) == set(KINDS) and not any(g["passed"] for g in gates.values())
    findings = pd.read_csv(out / "findings.csv")
    counts = findings["kind"].value_counts().to_dict()
    assert set(counts) == set(KINDS)

    customers = pd.read_parquet(out / "customers.parquet")
    ev = read_events(out)
    sms = ev[(ev["kind"] == "delivered") & (ev["channel"] == "sms")].merge(
        customers[["customer", "timezone", "first_name"]], on="customer")
    assert len(ev[(ev["kind"] == "delivered") & (ev["channel"] == "email")]) == 120 and len(sms) == 120
    assert counts["creative-unsubscribe"] == 120
    accented = sms["first_name"].isin(["Zoë", "Inês"])
    assert counts["creative-sms-segments"] == int(accented.sum()) > 0
    seg = findings[findings["kind"] == "creative-sms-segments"]
    assert set(seg["customer"]) == set(sms.loc[accented, "customer"])

    hour = [ts.tz_convert(z).hour for ts, z in zip(sms["ts"], sms["timezone"])]
    late_ny = sms[(pd.Series(hour, index=sms.index) == 20) & (sms["timezone"] == "America/New_York")]
    quiet = findings[findings["kind"] == "compliance-quiet-hours"]
    assert len(quiet) == len(late_ny) > 0
    assert set(quiet["customer"]) == set(late_ny["customer"])
    assert set(quiet["rule"]) == {"us-fl:quiet-hours"}
    assert max(hour) == 20 and min(hour) == 8  # the policy lets texts out 08:00-21:00 local


def test_run_fixed_twin_is_clean(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(FIXED), "--out", str(out), "--quiet", "--no-report"])
    assert result.exit_code == 0, result.output
    gates = json.loads((out / "summary.json").read_text())["findings"]["gates"]
    assert len(gates) == 3 and all(g["passed"] and g["actual"] == "0 findings" for g in gates)
    findings = pd.read_csv(out / "findings.csv")
    assert not findings["kind"].isin(KINDS).any()
    ev = read_events(out)
    assert len(ev[(ev["kind"] == "delivered") & (ev["channel"] == "sms")]) == 120
