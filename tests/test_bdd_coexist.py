"""Installing journeysim must not change another pytest-bdd suite; journeysim features are still found.

The plugin collects a .feature file only when it is journeysim's (a step reads  Given the scenario "..."
or the feature is tagged @journeysim, or ``journeysim_features`` lists its folder) and the step library is
visible to those features only. These tests run foreign projects with pytester (journeysim's plugin is
loaded from its entry point, as in any project where journeysim is installed).
"""

from __future__ import annotations


import pytest
from conftest import ROOT
from test_bdd_phrases import TINY

pytest_plugins = ["pytester"]

FOREIGN_FEATURE = """\
Feature: A shop's own checkout
  Its phrases overlap journeysim's on purpose ("3 customers", "exits", "the seed").

  Background:
    Given 3 customers

  Scenario: Customers check out
    When "bob" exits "the shop"
    Then the basket holds 3 items

  @known-defect
  Scenario: A tag that means something else here
    Given the seed 5
    Then the seed is 5
"""

FOREIGN_STEPS = """\
from pytest_bdd import given, parsers, scenarios, then, when

scenarios("features")


@given(parsers.parse("{n:d} customers"), target_fixture="basket")
def _customers(n, shop):
    return [shop] * n


@when(parsers.parse('"{who}" exits "{where}"'))
def _exits(who, where, basket):
    assert (who, where) == ("bob", "the shop")


@then(parsers.parse("the basket holds {n:d} items"))
def _holds(n, basket):
    assert len(basket) == n


@given(parsers.parse("the seed {n:d}"), target_fixture="seed")
def _seed(n):
    return n


@then(parsers.parse("the seed is {n:d}"))
def _seed_is(n, seed):
    assert seed == n
"""

FOREIGN_CONFTEST = """\
import pytest


@pytest.fixture
def shop():
    return "item"
"""


def _foreign(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(FOREIGN_CONFTEST)
    pytester.makepyfile(test_checkout=FOREIGN_STEPS)
    pytester.mkdir("features")
    (pytester.path / "features" / "checkout.feature").write_text(FOREIGN_FEATURE)


def test_foreign_pytest_bdd_project_passes_with_journeysim_installed(pytester: pytest.Pytester):
    """Its own conftest, steps and scenarios() call: both scenarios pass, once each (not collected a second
    time as journeysim UAT), and its @known-defect tag is a plain marker there, not a strict xfail."""
    _foreign(pytester)
    assert "journeysim" in pytester.runpytest("--trace-config", "--co", "-q").stdout.str()  # the plugin is loaded
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=2)
    assert "checkout.feature::" not in result.stdout.str()  # the .feature itself is not a test module


def test_journeysim_phrases_never_answer_a_foreign_step(pytester: pytest.Pytester):
    """A step the foreign project does not define stays undefined (pytest-bdd's own error), even though
    journeysim has a phrase that reads the same."""
    _foreign(pytester)
    (pytester.path / "features" / "checkout.feature").write_text(
        FOREIGN_FEATURE.replace("Then the basket holds 3 items", 'Then there are no "overlap" findings'))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(['*Step definition is not found: Then "there are no "overlap" findings"*'])
    assert "usage error" not in result.stdout.str()


def test_journeysim_features_still_collected_next_to_a_foreign_one(pytester: pytest.Pytester):
    """In one tree: the foreign project's feature via its scenarios(), a journeysim feature by the plugin."""
    _foreign(pytester)
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "uat.feature").write_text("""\
Feature: Onboarding
  Background:
    Given the scenario "tiny.yaml"
    And 0 customers

  Scenario: Welcome first
    Given a customer "ana" in time zone "UTC" opted in to "email, sms"
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 2 days
    Then "ana" receives "welcome" before "nudge"
""")
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["*uat.feature::test_welcome_first PASSED*"])


def test_bundled_features_are_collected(pytester: pytest.Pytester):
    """Every Gherkin scenario of features/ is collected (20: 9 + 3 + 4 + 4)."""
    result = pytester.runpytest("--co", "-q", "-p", "no:cacheprovider", f"--rootdir={ROOT}", str(ROOT / "features"))
    ids = [line for line in result.stdout.lines if ".feature::" in line]
    counts = {name: sum(1 for i in ids if i.startswith(f"features/{name}.feature::"))
              for name in ("cart_abandonment", "promo_calendar", "stage_nurture", "welcome_series")}
    assert counts == {"cart_abandonment": 9, "promo_calendar": 3, "stage_nurture": 4, "welcome_series": 4}, \
        result.stdout.str()[-2000:]


def test_tag_makes_a_feature_journeysims(pytester: pytest.Pytester):
    """@journeysim: collected even when no step names a scenario, and the misspelt phrase is reported with the
    nearest one (without the tag this file would be someone else's and left alone)."""
    (pytester.path / "tiny.yaml").write_text(TINY)
    text = """\
Feature: Tagged
  Scenario: Misspelt scenario step
    Given the scenaro "tiny.yaml"
    When the simulation runs for 1 day
"""
    (pytester.path / "tagged.feature").write_text("@journeysim\n" + text)
    (pytester.path / "plain.feature").write_text(text.replace("Tagged", "Plain"))
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert 'tagged.feature:4: unknown step phrase: Given the scenaro "tiny.yaml"' in out
    assert 'nearest documented phrase: Given the scenario "<path>"' in out
    assert "plain.feature" not in out


def test_journeysim_features_ini_limits_collection_to_its_paths(pytester: pytest.Pytester):
    """With journeysim_features = uat, only features under uat/ are journeysim's."""
    pytester.makeini("[pytest]\njourneysim_features = uat\n")
    pytester.mkdir("uat")
    pytester.mkdir("other")
    feature = """\
Feature: F
  Scenario: Runs
    Given the scenario "../tiny.yaml"
    And 0 customers
    And a customer "ana" opted in to "email"
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 1 day
    Then there are no "overlap" findings
"""
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "uat" / "a.feature").write_text(feature)
    (pytester.path / "other" / "b.feature").write_text(feature)
    result = pytester.runpytest("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*uat/a.feature::test_runs PASSED*"])


def test_own_scenarios_call_with_the_step_library(pytester: pytest.Pytester):
    """A repository that binds journeysim features itself: collection off, steps loaded via pytest_plugins;
    names are still checked and @known-defect is still a strict xfail."""
    pytester.makeini("[pytest]\njourneysim_collect_features = false\n")
    pytester.makeconftest('pytest_plugins = ["simulator.bdd.steps"]\n')
    (pytester.path / "tiny.yaml").write_text(TINY)
    (pytester.path / "onboarding.feature").write_text("""\
Feature: Onboarding
  Background:
    Given the scenario "tiny.yaml"
    And 0 customers
    And a customer "ana" in time zone "UTC" opted in to "email, sms"
    When "ana" triggers "signup" at "2026-03-02 10:00" local time
    And the simulation runs for 2 days

  Scenario: Welcome first
    Then "ana" receives "welcome" before "nudge"

  @known-defect
  Scenario: A demonstrated defect
    Then "ana" receives no "welcome"

  Scenario: Typo
    Then "ana" receives no "welcme"
""")
    pytester.makepyfile(test_team_onboarding_binding='from pytest_bdd import scenarios\n\nscenarios("onboarding.feature")\n')
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, xfailed=1, failed=1)
    result.stdout.fnmatch_lines(['*unknown message "welcme"; did you mean "welcome"?*'])


def test_named_foreign_feature_is_refused_by_journeysim_uat(tmp_path, monkeypatch):
    """`journeysim uat` on a feature that is not journeysim's: exit 2 with the recognition rule, not 'no tests'."""
    from click.testing import CliRunner

    from simulator.cli import cli

    (tmp_path / "other.feature").write_text(FOREIGN_FEATURE)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["uat", "other.feature", "--quiet"])
    assert result.exit_code == 2, result.output
    assert "other.feature is not a journeysim feature: no step names a scenario" in result.output
    folder = CliRunner().invoke(cli, ["uat", ".", "--quiet"])
    assert folder.exit_code == 2, folder.output
    assert "not journeysim features" in folder.output and "other.feature" in folder.output
    assert "no journeysim features found in ." in folder.output
