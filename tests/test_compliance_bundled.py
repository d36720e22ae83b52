"""The bundled scenarios/compliance_jurisdiction.yaml: four compliance defects found by `journeysim run`
(the four gates fail, exit 1) and the time-zone ones by `journeysim lint` (exit 1).

200 customers (50% New York, 30% Los Angeles, 20% London), phones and addresses drawn
(population.jurisdiction: New York-zone addresses 60% FL / 40% NY, 10% movers with a 305 or 786
number), 80% opted in to SMS; each gets 4 promotional texts 4 hours apart; the scenario holds texts
21:00-08:00 local and checks consent for email only. compliance: [us-tcpa, us-fl, ctia, uk-pecr].

The expected counts are recomputed here from the run's own customer table and log, by the rules
(not by the detectors' code):

* compliance-consent: every text to a customer without SMS consent (every customer is covered: the US
  ones by CTIA's clear opt-in, the London ones by PECR): 4 x the customers with consent.sms false;
* us-fl covers a customer whose phone region or address region is FL;
* compliance-quiet-hours: texts to a us-fl customer delivered at 20:xx in their own zone (the
  scenario's hold stops everything from 21:00 to 08:00, so TCPA is never broken);
* compliance-zone-mismatch: every text to a us-fl customer whose zone is not one of the area code's
  (phone) or Florida's (address) zones: in this population, the movers living in Los Angeles;
* compliance-frequency: one per us-fl customer whose 4th text landed less than 24 h after the 1st.
"""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.creative.areacodes import area_code, region_zones

SCENARIO = ROOT / "scenarios" / "compliance_jurisdiction.yaml"
KINDS = ("compliance-quiet-hours", "compliance-zone-mismatch", "compliance-frequency", "compliance-consent")


def test_run_finds_the_four_defects(tmp_path):
    r = CliRunner().invoke(cli, ["run", str(SCENARIO), "--out", str(tmp_path / "run")])
    assert r.exit_code == 1, r.output
    for kind in KINDS:
        assert f"gate FAIL: {kind} == 0" in r.output
    folder = tmp_path / "run"
    customers = pd.read_parquet(folder / "customers.parquet").set_index("customer")
    findings = pd.read_csv(folder / "findings.csv")
    events = pd.read_parquet(folder / "events.parquet")
    texts = events[(events["kind"] == "delivered") & (events["channel"] == "sms")].sort_values(["customer", "t"])
    count = findings["kind"].value_counts()

    no_consent = customers.index[~customers["consent.sms"].astype(bool)]
    assert count["compliance-consent"] == 4 * len(no_consent) > 0

    fl = customers[(customers["phone_region"] == "FL") | (customers["address_region"] == "FL")]
    local_hour = [pd.Timestamp("2025-11-03", tz="UTC") + pd.Timedelta(seconds=t) for t in texts["t"]]
    hours = [ts.tz_convert(customers.loc[c, "timezone"]).hour for ts, c in zip(local_hour, texts["customer"])]
    late = sum(1 for h, c in zip(hours, texts["customer"]) if h == 20 and c in fl.index)
    assert count["compliance-quiet-hours"] == late > 0

    def mismatched(row) -> bool:
        zones = set()
        if row["phone_region"] == "FL":
            zones.add(area_code(row["phone_area_code"]).zones)
        if row["address_region"] == "FL":
            zones.add(region_zones("US", "FL"))
        return all(row["timezone"] not in z for z in zones)

    off = [c for c, row in fl.iterrows() if mismatched(row)]
    assert count["compliance-zone-mismatch"] == 4 * len(off) > 0
    assert set(customers.loc[off, "timezone"]) == {"America/Los_Angeles"} and customers.loc[off, "mover"].all()

    first_to_fourth = texts.groupby("customer")["t"].agg(lambda t: t.iloc[3] - t.iloc[0])
    capped = [c for c in fl.index if first_to_fourth[c] < 24 * 3600]
    assert count["compliance-frequency"] == len(capped) > 0
    assert set(findings[findings["kind"] == "compliance-frequency"]["customer"]) == set(capped)


def test_lint_finds_the_zone_defects():
    """Lint: us-fl covers New York and Los Angeles customers (the latter movers with Miami numbers), so
    20:00-21:00 is flagged in both zones; some covered customers are timed in a zone not their own."""
    r = CliRunner().invoke(cli, ["lint", str(SCENARIO)])
    assert r.exit_code == 1, r.output
    found = [line.split(":")[0] for line in r.output.splitlines() if line.startswith(("error ", "warning "))]
    assert found == ["error compliance-quiet-hours", "warning compliance-zone-mismatch"]
    assert "20:00-21:00 local time for customers in America/Los_Angeles, America/New_York" in r.output
    assert "note: us-fl covers" in r.output and "by phone or address" in r.output
    assert "by phone, address or zone" in r.output
