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
    "cart_abandonment": ("11d112a91c0a6a846a5fe7c92b94bd10ea79d34e8578672c1a86326bc52b0586", 3524),
    "welcome_series": ("aee6466ceafbbd35d0bf54b48fc8f2f76e945968f22fe0a9b3a30e8db91756c7", 7176),
    "stage_nurture": ("c6dd5fd975045dd8068443322d75ff3071c7d2c084a888498f13aea51309d76c", 3703),
    "promo_calendar": ("7f88766ee3cd0a41af59a1c6361b6f422b91e1237effbcfaf2ecb590fd226acb", 14792),
    "creative_compliance": ("040474fa5c7ed138f3498d206350af8418cff638b794c53e716e8a2b193c1876", 4483),
    "creative_compliance_fixed": ("c11e6d9cf893e58291e108ac7462b0ee5d528c8029e64adefe952e15ad6084be", 4491),
    "compliance_jurisdiction": ("61bb3ca51b4002c3a9d4738a469c01850747b2d6ec115e04e46f9c7f7bb3b42c", 6852),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_event_log_content_is_unchanged(name):
    """The log's content (as CSV, independent of the Parquet writer version) hashes to the golden value."""
    result = run_scenario(load_scenario(ROOT / "scenarios" / f"{name}.yaml"), customers=200)
    events = result.events().drop(columns=["ts"])
    digest = hashlib.sha256(events.to_csv(index=False).encode()).hexdigest()
    assert (digest, len(events)) == GOLDEN[name]
