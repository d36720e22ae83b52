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
    "cart_abandonment": ("159d5e57ab1f8d840c8817cbd6e74d4862986c017ab1eedbd3df296dcf90747c", 3558),
    "welcome_series": ("7b83c08a1e9355c6ebb24f1b66c31d0e28761045f80712a50d16f79c8d228e76", 7009),
    "stage_nurture": ("5c8f8e4c0be0fa0fa7de532e4da7d2a1862faa0afd618b94dacbdcf62a154103", 3733),
    "promo_calendar": ("a3bee48872e99e4e711c4cde2bde8c53fb2fb3909b7cd4271c2454ee53b0e82e", 14933),
    "creative_compliance": ("700f5739efc9086f5a3587352fe5fe1153a7317248f479dc9bc017cd6ff34be3", 4483),
    "creative_compliance_fixed": ("e1cda6b54a63421bebd1df79d81e81de6e0c443e97bf67f6e00488f5958fe9af", 4491),
    "compliance_jurisdiction": ("cd1f5498df3f8c76ca6f6f459128b4a712ae1792f5844b7614c2f1c8a8df654b", 6852),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_event_log_content_is_unchanged(name):
    """The log's content (as CSV, independent of the Parquet writer version) hashes to the golden value."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), customers=200)
    events = result.events().drop(columns=["ts"])
    digest = hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()
    assert (digest, len(events)) == GOLDEN[name]
