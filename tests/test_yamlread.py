"""Reading YAML with line numbers and YAML 1.2 scalar rules."""

from __future__ import annotations

import pytest

from simulator.errors import ScenarioError
from simulator.scenario.yamlread import format_path, read_yaml, read_yaml_text


def test_clock_times_and_timestamps_stay_strings():
    """21:00 is not the base-60 integer 1260 and ISO times are not converted by YAML."""
    data = read_yaml_text("a: 21:00\nb: 2026-12-01T00:00:00Z\n").data
    assert data == {"a": "21:00", "b": "2026-12-01T00:00:00Z"}


def test_only_true_and_false_are_booleans():
    """'on', 'no' and 'yes' are strings (the Norway problem), true/false are booleans."""
    data = read_yaml_text("a: on\nb: no\nc: yes\nd: true\ne: False\nf: null\ng: 1.5\nh: 0x1f\n").data
    assert data == {"a": "on", "b": "no", "c": "yes", "d": True, "e": False, "f": None, "g": 1.5, "h": 31}


def test_positions_of_values_and_keys():
    """Every value and key records its 1-based line and column."""
    loc = read_yaml_text("top:\n  list:\n    - {x: 1}\n    - y\n")
    assert loc.positions[("top", "list", 0, "x")] == (3, 11)
    assert loc.key_positions[("top", "list")] == (2, 3)
    assert loc.positions[("top", "list", 1)] == (4, 7)
    assert loc.where(("top", "list", 0, "missing")) == (3, 7)


def test_duplicate_keys_are_errors_with_both_lines():
    """PyYAML keeps the last duplicate silently; we report it."""
    with pytest.raises(ScenarioError) as err:
        read_yaml_text("a: 1\nb: 2\na: 3\n", "f.yaml")
    issue = err.value.issues[0]
    assert (issue.path, issue.line) == ("a", 3)
    assert "first written on line 1" in issue.message


def test_syntax_error_has_line():
    """A YAML syntax error names the line where the parser stopped."""
    with pytest.raises(ScenarioError) as err:
        read_yaml_text("a: [1, 2\nb: 3\n", "f.yaml")
    assert err.value.issues[0].line == 2
    assert "YAML syntax error" in err.value.issues[0].message


def test_missing_file(tmp_path):
    """A missing file is a ScenarioError naming the file."""
    with pytest.raises(ScenarioError) as err:
        read_yaml(tmp_path / "nope.yaml")
    assert "file not found" in str(err.value) and "nope.yaml" in str(err.value)


def test_format_path():
    """Key paths print the way users write them."""
    assert format_path(("journeys", 0, "steps", 3, "goto")) == "journeys[0].steps[3].goto"
    assert format_path(()) == ""
