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
    "cart_abandonment": ("9f732a8516aa3cacde4cb7c43a17cd7ea02588e61c0ecc8a14b3ffcd7fac0f1c", 3558),
    "welcome_series": ("e31b2d97f3355c8eabe434c10353b42be91e15957d3f7da031982c8026ce9a81", 7009),
    "stage_nurture": ("c8c129e50de87a7a45b0193fb192964240ea4eea86d4076ee48bb641081b5ca8", 3733),
    "promo_calendar": ("d971d2d60a99b5f17190cbcd85c00f458f54322d822a577bb86e9a7298a62ee3", 14933),
    "creative_compliance": ("c6e535054ad8d289ebe5fd90a630694c1d184e73a148870f90af3923f7b3aeb6", 4483),
    "creative_compliance_fixed": ("341f950e42673ad9bc7b14bfa004c1f3345a1183207d7930c0019bf4a86320c4", 4491),
    "compliance_jurisdiction": ("b3aaf5c4012ea250a5f7d3c80d45bbdba573a3428b5c77deb3d37e1dcedcc505", 6852),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_event_log_content_is_unchanged(name):
    """The log's content (as CSV, independent of the Parquet writer version) hashes to the golden value."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), customers=200)
    events = result.events().drop(columns=["ts"])
    digest = hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()
    assert (digest, len(events)) == GOLDEN[name]
