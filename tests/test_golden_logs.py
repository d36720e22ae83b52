"""Golden event-log hashes of every bundled scenario at 200 customers.

They pin engine behaviour: an optimisation must leave them unchanged. A deliberate behaviour change
updates them in the same commit, and its message says why.
"""

from __future__ import annotations

import hashlib

import pytest
from conftest import ROOT

from simulator.engine import run_scenario
from simulator.scenario.load import load_scenario

GOLDEN = {
    "cart_abandonment": ("d20c57a2d5802d3b56c6a70d3329926b61391393a8518ea9c0f15f0655044c46", 3522),
    "welcome_series": ("b79eccddcf1116f700b9e2250867f7f05f3b321f4b2c2da998cecebfa172e15a", 7163),
    "stage_nurture": ("ba2db1fa331e029565a6b24e0e2028366e3ae58542ab2cf0e414a0b2310d035b", 3702),
    "promo_calendar": ("d7abcb2b0637bf0dcf57e5e7a2795bb79cdfd7368f231611813ab7badf627887", 14760),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_event_log_content_is_unchanged(name):
    """The log's content (as CSV, independent of the Parquet writer version) hashes to the golden value."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), customers=200)
    events = result.events().drop(columns=["ts"])
    digest = hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()
    assert (digest, len(events)) == GOLDEN[name]
