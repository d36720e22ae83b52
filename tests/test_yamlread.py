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


# ----------------------------------------------------------------------------- hostile files


def _issue(call):
    with pytest.raises(ScenarioError) as err:
        call()
    assert len(err.value.issues) == 1, err.value.format()
    return err.value.issues[0]


def test_nul_byte_is_refused_with_its_line_and_column(tmp_path):
    """'a: 1\\nb: \\0' has the NUL on line 2, column 4 (after 'b: ')."""
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\nb: \x00\n")
    issue = _issue(lambda: read_yaml(path))
    assert (issue.line, issue.column, issue.file) == (2, 4, str(path))
    assert "NUL byte" in issue.message and "UTF-8" in issue.hint


def test_non_utf8_is_refused_with_the_byte_offset(tmp_path):
    """b'a: 1\\nb: \\xff' : byte 0xff is the 9th byte, on line 2, column 4."""
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\nb: \xff\n")
    issue = _issue(lambda: read_yaml(path))
    assert (issue.line, issue.column) == (2, 4)
    assert "byte 0xff at byte 9" in issue.message and "UTF-8" in issue.hint


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"\xef\xbb\xbfa: 1\n")
    assert read_yaml(path).data == {"a": 1}


@pytest.mark.parametrize("kind", ["dir", "fifo", "device"])
def test_non_regular_files_are_refused_without_opening(tmp_path, kind):
    """A FIFO would block on open and /dev/zero never ends: both are refused from stat() alone."""
    import os

    path = tmp_path / "s.yaml"
    if kind == "dir":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path = "/dev/zero"
    issue = _issue(lambda: read_yaml(path))
    assert {"dir": "directory", "fifo": "FIFO", "device": "device"}[kind] in issue.message
    assert issue.hint


def test_a_file_over_the_size_limit_is_refused_without_reading(tmp_path, monkeypatch):
    """The limit is 8 MiB; a sparse 50 MB file is refused from its size, and the environment variable raises it."""
    path = tmp_path / "big.yaml"
    with open(path, "wb") as fh:
        fh.truncate(50_000_000)
    issue = _issue(lambda: read_yaml(path))
    assert "50,000,000 bytes" in issue.message and "8,388,608-byte limit" in issue.message
    assert "JOURNEYSIM_MAX_SCENARIO_BYTES" in issue.hint
    small = tmp_path / "small.yaml"
    small.write_text("a: 1\nb: 2\n")
    monkeypatch.setenv("JOURNEYSIM_MAX_SCENARIO_BYTES", "5")
    assert "5-byte limit" in _issue(lambda: read_yaml(small)).message
    monkeypatch.setenv("JOURNEYSIM_MAX_SCENARIO_BYTES", "lots")
    assert "not a positive whole number" in _issue(lambda: read_yaml(small)).message


def test_deep_nesting_is_refused_at_the_first_level_too_deep():
    """64 levels are allowed; the 65th '[' (column 3 + 64 = 67) is refused."""
    read_yaml_text("a: " + "[" * 63 + "]" * 63)  # 64 levels with the top mapping
    issue = _issue(lambda: read_yaml_text("a: " + "[" * 5000 + "]" * 5000))
    assert (issue.line, issue.column) == (1, 67)
    assert "nested more than 64 levels" in issue.message and "JOURNEYSIM_MAX_SCENARIO_DEPTH" in issue.hint


def test_alias_bomb_is_refused_before_expanding(monkeypatch):
    """Node counts (a mapping, list, key or scalar is one node; an alias counts its anchor's nodes):
    top mapping 1; a0 = key 1 + list of 10 (11) -> 13; a1 = key 1 + list 1 + 10 x 11 -> 126; a2 = 1 + 1111
    -> 1,238; a3 = 1 + 11,111 -> 12,350; a4 (line 5) = key, list, then aliases of 11,111 each: the 8th
    brings 12,352 + 8 x 11,111 = 101,240 > 100,000, so it is refused on line 5 without expanding anything."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 30)]
    issue = _issue(lambda: read_yaml_text("\n".join(lines)))
    assert issue.line == 5 and "100,000 values" in issue.message and "before expanding" in issue.message
    monkeypatch.setenv("JOURNEYSIM_MAX_SCENARIO_NODES", "200")
    with pytest.raises(ScenarioError):
        read_yaml_text("\n".join(lines[:3]))  # 1,238 nodes > 200
    assert read_yaml_text("\n".join(lines[:2])).data["a1"][0] == ["x"] * 10  # 126 nodes <= 200


@pytest.mark.parametrize("text, line", [("a: &x [1, *x]\n", 1), ("a: &x\n  b: *x\n", 2)])
def test_recursive_alias_is_refused(text, line):
    issue = _issue(lambda: read_yaml_text(text))
    assert issue.line == line and "recursive" in issue.message


def test_many_keys_are_refused_at_the_node_budget():
    """200,000 keys: refused at the 100,000th node (key 50,000 on line 50,000), so the reader stops half-way
    instead of building the whole document (how fast is benchmarks' business, not a timed assert)."""
    issue = _issue(lambda: read_yaml_text("\n".join(f"k{i}: {i}" for i in range(200_000))))
    assert issue.line == 50_000


@pytest.mark.parametrize("text, fragment", [
    ("a: " + "9" * 400, "too large (400 digits)"),
    ("a: " + "9" * 5000, "too large (5000 digits)"),  # past Python's int-string digit limit
    ("a: 9223372036854775808", "too large"),
    ("a: -9223372036854775809", "too large"),
    ("a: .inf", "not a finite number"),
    ("a: -.inf", "not a finite number"),
    ("a: .nan", "not a finite number"),
    ("a: 1e400", "not a finite number"),
    ("? " + "9" * 5000 + "\n: 1", "too large"),
])
def test_numbers_that_do_not_fit_are_issues_with_their_line(text, fragment):
    issue = _issue(lambda: read_yaml_text("x: 1\n" + text))
    assert issue.line == 2 and fragment in issue.message


def test_largest_numbers_that_fit_are_kept():
    data = read_yaml_text("a: 9223372036854775807\nb: -9223372036854775808\nc: 1.7976931348623157e308\n").data
    assert data == {"a": 2**63 - 1, "b": -(2**63), "c": 1.7976931348623157e308}
