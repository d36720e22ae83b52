"""Readable UAT failures: usage errors first and plain, known defects that pass show the trace."""

from __future__ import annotations

import pytest
from test_bdd_phrases import TINY

pytest_plugins = ["pytester"]

HEAD = """\
Feature: Onboarding
  Background:
    Given the scenario "tiny.yaml"
    And 0 customers
    And a customer "ana" in time zone "UTC" opted in to "email, sms"

"""


def _run(pytester: pytest.Pytester, body: str) -> pytest.RunResult:
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "onboarding.feature").write_text(HEAD + body)
    return pytester.runpytest("-p", "no:cacheprovider")


def _failure(result: pytest.RunResult, test: str) -> list[str]:
    lines = result.stdout.lines
    start = next(i for i, line in enumerate(lines) if f" {test} " in line and line.startswith("_"))
    return lines[start + 1:]


def test_known_defect_that_passes_shows_the_trace(pytester: pytest.Pytester):
    """ana signs up at 10:00 and gets the welcome at 10:00, so a @known-defect scenario expecting it passes:
    the run fails (strict), says why, and shows ana's trace with the delivery."""
    result = _run(pytester, """\
  @known-defect
  Scenario: Welcome arrives
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 1 day
    Then "ana" receives "welcome"
""")
    result.assert_outcomes(failed=1)
    text = "\n".join(_failure(result, "test_welcome_arrives"))
    assert text.startswith("[XPASS(strict)] known defect demonstrated by this UAT scenario"), text[:500]
    assert "tagged @known-defect but every step passed" in text
    assert "customer ana  (UTC" in text
    assert "2026-03-02 10:00  esp      DELIVERED welcome on email" in text


def test_known_defect_with_a_usage_error_is_not_an_expected_failure(pytester: pytest.Pytester):
    """A misspelt name in a @known-defect scenario would otherwise 'fail as expected' for ever."""
    result = _run(pytester, """\
  @known-defect
  Scenario: Typo in a known defect
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 1 day
    Then "ana" receives no "welcme"
""")
    result.assert_outcomes(failed=1)
    first = _failure(result, "test_typo_in_a_known_defect")[:3]
    assert first == ["usage error: 1 problem in this scenario's steps:",
                     'onboarding.feature:11: Then "ana" receives no "welcme"',
                     '  unknown message "welcme"; did you mean "welcome"?'], first


def test_known_defect_that_fails_its_expectation_is_expected(pytester: pytest.Pytester):
    result = _run(pytester, """\
  @known-defect
  Scenario: Welcome never arrives
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 1 day
    Then "ana" receives no "welcome"
""")
    result.assert_outcomes(xfailed=1)


def test_usage_error_found_while_running_names_the_step_first(pytester: pytest.Pytester):
    """'N minutes later' with no earlier event is only known when the step runs: still the step's line first,
    the message plainly, no traceback."""
    result = _run(pytester, """\
  Scenario: Later than nothing
    When "ana" triggers "purchase" 5 minutes later
    And the simulation runs for 1 day
    Then "ana" receives no "welcome"
""")
    result.assert_outcomes(failed=1)
    lines = _failure(result, "test_later_than_nothing")
    assert lines[0] == 'usage error: onboarding.feature:8: When "ana" triggers "purchase" 5 minutes later', lines[:3]
    assert lines[1].startswith('  "ana" has no earlier event to count "later" from; give a time first'), lines[:3]
    assert "Traceback" not in result.stdout.str() and ".py:" not in "\n".join(lines[:6])


def test_invalid_scenario_file_is_reported_plainly(pytester: pytest.Pytester):
    """A scenario file that does not validate: its own errors (file:line: key path: message), first."""
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "onboarding.feature").write_text(HEAD.replace("tiny.yaml", "bad.yaml") + """\
  Scenario: Bad file
    When the simulation runs for 1 day
""")
    (pytester.path / "bad.yaml").write_text(TINY.replace("reads_from: cdp", "reads_from: cpd"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    lines = _failure(result, "test_bad_file")
    assert lines[0] == "usage error: 1 problem in this scenario's steps (checking stopped there):"
    assert lines[1] == 'onboarding.feature:3: Given the scenario "bad.yaml"'
    assert "reads_from" in "\n".join(lines[2:5]) and "did you mean 'cdp'?" in "\n".join(lines[2:5])


def test_invalid_gherkin_is_reported_plainly(pytester: pytest.Pytester):
    """A journeysim feature (tagged) that is not valid Gherkin: the parser's message with the line, no traceback;
    an unparsable feature that is not journeysim's is left alone."""
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "broken.feature").write_text(
        '@journeysim\nFeature: Broken\n  Scenario: S\n    Given the scenario "tiny.yaml"\n  Then\n  Examples x\n')
    (pytester.path / "theirs.feature").write_text("Feature: Theirs\n  Then\n  Examples x\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert f"usage error: {pytester.path / 'broken.feature'} is not valid Gherkin:" in out
    assert "Line number: 5" in out and "Traceback" not in out and "site-packages" not in out
    assert "theirs.feature" not in out
