"""`--set key.path=value` overrides: applied before validation, validated like the file."""

from __future__ import annotations

import pytest
from conftest import MINIMAL

from simulator.errors import ScenarioError
from simulator.scenario.load import load_scenario_text, parse_key_path


def test_parse_key_path():
    """Dots, indexes and names in brackets."""
    assert parse_key_path("sync[1].every") == ["sync", 1, "every"]
    assert parse_key_path("journeys[cart].steps[wait_1h].wait") == ["journeys", "cart", "steps", "wait_1h", "wait"]
    assert parse_key_path("sync[web->cdp].latency") == ["sync", "web->cdp", "latency"]
    assert parse_key_path("population.size") == ["population", "size"]


def test_override_by_index_and_by_name():
    """Overrides reach list items by index, by name/id and links by from->to."""
    sc = load_scenario_text(MINIMAL, overrides=["population.size=42", "sync[1].every=12h",
                                                "journeys[cart].steps[wait_1h].wait=2h",
                                                "sync[web->cdp].latency={fixed: 45m}"])
    assert sc.population.size == 42
    assert sc.sync[1].every == 12 * 3600
    assert sc.journeys[0].steps[0].wait == 7200
    assert sc.sync[0].latency.mean == 45 * 60


def test_override_adds_missing_key():
    """An override may set a key the file leaves at its default."""
    sc = load_scenario_text(MINIMAL, overrides=["policies.collision_window=4h"])
    assert sc.policies.collision_window == 4 * 3600


def test_bad_override_value_is_validated_like_the_file():
    """A bad value given with --set is reported at its key path and says it came from --set."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(MINIMAL, "s.yaml", overrides=["sync[1].every=4 hours"])
    issue = err.value.issues[0]
    assert issue.path == "sync[1].every" and "(value given with --set)" in issue.message


def test_bad_override_path():
    """A path that leads nowhere is an error naming it, with a suggestion for list items."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(MINIMAL, overrides=["sync[7].every=1h", "journeys[crt].name=x", "seed.x=1", "size"])
    messages = [i.format() for i in err.value.issues]
    assert any("sync has 3 items; index 7 is out of range" in m for m in messages)
    assert any("no item called 'crt'; did you mean 'cart'?" in m for m in messages)
    assert any("single value" in m for m in messages)
    assert any("key.path=value" in m for m in messages)


def test_unknown_override_key_gets_did_you_mean():
    """A misspelt key in an override is an unknown key with a suggestion."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(MINIMAL, overrides=["population.sise=5"])
    issue = err.value.issues[0]
    assert issue.path == "population.sise" and issue.hint == "did you mean 'size'?"


@pytest.mark.parametrize("path, column", [("population..size", 11), (".population.size", 1),
                                          ("population.size.", 16), ("sync[].every", 5), ("sync.[1].every", 5)])
def test_key_path_with_an_empty_part_is_an_error(path, column):
    """'population..size' used to be read as population.size; an empty part is now an error naming its place."""
    with pytest.raises(ValueError, match=f"empty part at character {column}"):
        parse_key_path(path)
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(MINIMAL, overrides=[f"{path}=5"])
    assert err.value.issues[0].path == path and "empty part" in err.value.issues[0].message
