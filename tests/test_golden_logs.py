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
    "cart_abandonment": ("56482f944a391bf383790b92f7ee2bca1521902d1afc18387e550c0d1cf00d48", 3523),
    "welcome_series": ("d5be03f460f1cf2c7b16d8dbbef3025bf22d5dba0ea92ad68ed0c28498fe24d6", 7175),
    "stage_nurture": ("27817453d066300cf54eece7cee82aebcf5bc0b49be4da5a85a1a2d010ba30d7", 3701),
    "promo_calendar": ("6bdb632ca769fc5420a3d4705e5275da92d0a0ae56a94f7078279429ce5ffcf0", 14792),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_event_log_content_is_unchanged(name):
    """The log's content (as CSV, independent of the Parquet writer version) hashes to the golden value."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), customers=200)
    events = result.events().drop(columns=["ts"])
    digest = hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()
    assert (digest, len(events)) == GOLDEN[name]
