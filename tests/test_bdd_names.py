"""No vacuous pass: every name in every phrase is checked against the scenario, with a did-you-mean.

Each case is one step with one misspelt name. It must fail twice over: in the pre-flight check of the
whole Gherkin scenario (simulator.bdd.lint, which runs before anything is simulated) and in the step
itself (the phrase's function checks its names before it runs). Both name the misspelt name.
"""

from __future__ import annotations

import inspect
import json
import shutil
from types import SimpleNamespace

import pytest
from conftest import ROOT
from test_bdd_phrases import TINY

from simulator.bdd.lint import StepsError, check_scenario
from simulator.bdd.names import UATUsageError
from simulator.bdd.phrases import FUNCTIONS, PHRASES, match_phrase
from simulator.bdd.world import UATWorld

BACKGROUND = ['Given the scenario "tiny.yaml"',
              'Given a customer "ana" in time zone "UTC" opted in to "email"']

#: (step, the misspelt name, what the message must suggest or list)
CASES = [
    ('Given the "web" to "cpd" sync latency is 5 minutes', "cpd", 'did you mean "cdp"?'),
    ('Given the "wbe" to "cdp" sync runs every 1 hour', "wbe", 'did you mean "web"?'),
    ('Given the "cdp" to "web" sync is down from "2026-03-02 08:00" for 2 hours', '"cdp" to "web"',
     'did you mean "web" to "cdp"?'),
    ('Given the "web" to "cdp" sync is down from "2026-03-02 08:00" for 2 hours and skip runs', "and skip runs",
     'did you mean "and skips runs"?'),
    ('Given the "cdp" to "esq" sync loses 5% of records', "esq", 'did you mean "esp"?'),
    ('Given customers do not engage with "emial"', "emial", 'did you mean "email"?'),
    ('Given a customer "bo" in stage "C"', '"C" is not a value', 'values of stage: "A", "B"'),
    ('Given a customer "bo" in time zone "Europe/Londn"', "Europe/Londn", 'did you mean "Europe/London"?'),
    ('Given a customer "bo" opted in to "email, smss"', "smss", 'did you mean "sms"?'),
    ('Given a customer "bo" with "first_nam" = "Bo"', "first_nam", 'did you mean "first_name"?'),
    ('Given a customer "bo" with "first_name" = "Bo" and "stage" = "b"', '"b" is not a value', 'did you mean "B"?'),
    ('When "anna" triggers "signup" at "2026-03-02 10:00" local time', "anna", 'did you mean "ana"?'),
    ('When "ana" triggers "sigup" at "2026-03-02 10:00" local time', "sigup", 'did you mean "signup"?'),
    ('When "ana" triggers "purchse" 5 minutes later', "purchse", 'did you mean "purchase"?'),
    ('When "ana" opts out of "emial" 5 minutes later', "emial", 'did you mean "email"?'),
    ('Then "ana" receives "welcom" within 1 hour', "welcom", 'did you mean "welcome"?'),
    ('Then "ana" receives no "remindr"', "remindr", 'messages: "followup", "nudge", "welcome"'),
    ('Then "ana" receives exactly 2 messages on "emial"', "emial", 'did you mean "email"?'),
    ('Then "ana" receives "welcome" before "nudg"', "nudg", 'did you mean "nudge"?'),
    ('Then "ana" receives "welcom" containing "Hi"', "welcom", 'did you mean "welcome"?'),
    ('Then "ana" is in journey "onboardin" at step "welcome"', "onboardin", 'did you mean "onboarding"?'),
    ('Then "ana" is in journey "onboarding" at step "wait1h"', "wait1h", 'did you mean "wait_1h"?'),
    ('Then "ana" exits "onboardng"', "onboardng", 'did you mean "onboarding"?'),
    ('Then "ana" completes "onbording"', "onbording", 'did you mean "onboarding"?'),
    ('Then "ana" does not complete "onbording"', "onbording", 'did you mean "onboarding"?'),
    ('Then "ana" has no "exit-rase" finding', "exit-rase", 'did you mean "exit-race"?'),
    ('Then "bob" has a "exit-race" finding', "bob", 'customers: "ana"'),
    ('Then no customer receives more than 3 messages per day on "emial"', "emial", 'did you mean "email"?'),
    ('Then the "exit-rase" rate is below 2%', "exit-rase", 'did you mean "exit-race"?'),
    ('Then the "exit-rase" rate is below 2% over 3 replications', "exit-rase", 'did you mean "exit-race"?'),
    ('Then there are no "exit-rase" findings', "exit-rase", 'did you mean "exit-race"?'),
]


def _steps(lines: list[str]) -> list[SimpleNamespace]:
    out, kind = [], None
    for i, line in enumerate(lines, start=1):
        keyword, text = line.split(" ", 1)
        kind = keyword.lower() if keyword in ("Given", "When", "Then") else kind
        out.append(SimpleNamespace(type=kind, name=text, keyword=keyword, line_number=i))
    return out


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    return tmp_path


@pytest.mark.parametrize(("step", "name", "hint"), CASES, ids=[c[0] for c in CASES])
def test_preflight_names_the_misspelt_name(tiny, step, name, hint):
    with pytest.raises(StepsError) as info:
        check_scenario(_steps([*BACKGROUND, step]), str(tiny / "x.feature"))
    text = str(info.value)
    assert text.startswith("1 problem in this scenario's steps:\n"), text
    assert f"x.feature:3: {step.split(' ', 1)[0]} {step.split(' ', 1)[1]}" in text
    assert name in text and hint in text, text


@pytest.mark.parametrize(("step", "name", "hint"), CASES, ids=[c[0] for c in CASES])
def test_the_step_itself_refuses_the_misspelt_name(tiny, step, name, hint):
    """Bound without the pre-flight check (a team's own scenarios() call), the step still refuses it."""
    world = UATWorld(tiny)
    world.use_scenario("tiny.yaml")
    FUNCTIONS[match_phrase("given", BACKGROUND[1].split(" ", 1)[1])[0]](
        journeysim_world=world, name="ana", stage=None, tz="UTC", direction="in to", channels="email", fields=None)
    keyword, text = step.split(" ", 1)
    entry, groups = match_phrase(keyword.lower(), text)
    func = FUNCTIONS[entry]
    params = inspect.signature(func).parameters
    with pytest.raises(UATUsageError) as info:
        func(journeysim_world=world, **{k: v for k, v in groups.items() if k in params})
    assert name in str(info.value) and hint in str(info.value), str(info.value)


def test_every_phrase_that_reads_a_name_has_a_misspelt_case():
    """A new phrase with names must get a case above (else its names could go unchecked unnoticed)."""
    covered = set()
    for step, _, _ in CASES:
        keyword, text = step.split(" ", 1)
        covered.add(match_phrase(keyword.lower(), text)[0].template)
    missing = [p.template for p in PHRASES if p.names and p.template not in covered]
    assert not missing, missing


def test_right_names_pass_the_preflight(tiny):
    """The same steps with the right names are accepted (the check is not simply refusing everything)."""
    right = [step.replace(name.strip('"'), fix.split('"')[1]) for step, name, fix in CASES
             if "did you mean" in fix and '" to "' not in name and "is not a value" not in name]
    right = [step.replace('"bo"', f'"bo{i}"') for i, step in enumerate(right)]
    steps = _steps([*BACKGROUND, 'Given a customer "bo" in stage "B"', *right])
    check_scenario(steps, str(tiny / "x.feature"))


def test_names_are_checked_in_order_and_all_reported(tiny):
    """A customer used before they are declared is unknown there; every problem of the scenario is listed."""
    lines = ['Given the scenario "tiny.yaml"', 'When "bo" triggers "signup" 1 hour later',
             'Given a customer "bo" opted in to "emial"', 'Then "bo" receives no "welcme"',
             'And there are no "exit-rase" findings', 'And "bo" gets no "welcome"']
    with pytest.raises(StepsError) as info:
        check_scenario(_steps(lines), str(tiny / "x.feature"))
    text = str(info.value)
    assert text.startswith("5 problems in this scenario's steps:"), text
    for expected in ['x.feature:2: When "bo" triggers "signup" 1 hour later\n  unknown customer "bo"',
                     'unknown channel "emial"', 'unknown message "welcme"; did you mean "welcome"?',
                     'unknown finding kind "exit-rase"; did you mean "exit-race"?',
                     'x.feature:6: unknown step phrase: Then "bo" gets no "welcome"\n'
                     '  nearest documented phrase: Then "<name>" receives no "<message>"']:
        assert expected in text, text


def test_missing_scenario_file_suggests_the_nearest(tiny):
    with pytest.raises(StepsError, match=r'scenario file "tiny.yml" not found .*did you mean "tiny.yaml"\?'):
        check_scenario(_steps(['Given the scenario "tiny.yml"', 'Then there are no "exit-race" findings']),
                       str(tiny / "x.feature"))


def test_a_customer_declared_twice_is_refused(tiny):
    with pytest.raises(StepsError, match='customer "ana" is declared twice'):
        check_scenario(_steps([*BACKGROUND, 'Given a customer "ana"']), str(tiny / "x.feature"))


MISSPELT = """\
Feature: Cart reminders, written with typos
  Background:
    Given the scenario "cart.yaml"
    And 0 customers

  Scenario: Every kind of name misspelt once
    Given the "web" to "cpd" sync latency is 5 minutes
    And a customer "ana" in stage "A" in time zone "Europe/Londn" opted in to "emial"
    When "ana" triggers "cart_abandoned" at "2026-12-01 10:00" local time
    And "anna" triggers "purchse" 20 minutes later
    And the simulation runs for 3 days
    Then "ana" receives no "remindr"
    And "ana" has no "exit-rase" finding
    And "ana" exits "cart-abandonmnt"
    And "ana" is in journey "cart-abandonment" at step "wait1h"

  Scenario: The population checks of the issue, misspelt
    Given 50 customers
    When the simulation runs for 1 day
    Then there are no "exit-rase" findings
    And no customer receives more than 3 messages per day on "emial"
"""


def test_feature_with_misspelt_names_fails_naming_each_one(tmp_path, monkeypatch):
    """End to end with `journeysim uat`: exit 2 (usage error, not a failed gate), every misspelt name
    named with its did-you-mean, no traceback, nothing simulated for a scenario with a typo."""
    from click.testing import CliRunner

    from simulator.cli import cli

    shutil.copy(ROOT / "scenarios" / "cart_abandonment.yaml", tmp_path / "cart.yaml")
    (tmp_path / "typos.feature").write_text(MISSPELT)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["uat", "typos.feature", "--quiet", "--cucumber-json", "c.json"])
    out = result.output
    assert result.exit_code == 2, out[-3000:]
    for expected in ['unknown system "cpd"; did you mean "cdp"?',
                     'unknown time zone "Europe/Londn"', 'did you mean "Europe/London"?',
                     'unknown channel "emial" (no system of the scenario sends on it); did you mean "email"?',
                     'unknown customer "anna"; did you mean "ana"?',
                     'unknown event "purchse"', 'did you mean "purchase"?',
                     'unknown message "remindr"; the scenario\'s messages: "cart_email_1", "cart_email_2", "cart_sms_b"',
                     'unknown finding kind "exit-rase"; did you mean "exit-race"?',
                     'unknown journey "cart-abandonmnt"; did you mean "cart-abandonment"?',
                     'journey "cart-abandonment" has no step "wait1h"; did you mean "wait_1h"?',
                     "typos.feature:20: Then there are no \"exit-rase\" findings",
                     "typos.feature:21: And no customer receives more than 3 messages per day on \"emial\""]:
        assert expected in out, expected + "\n\n" + out[-4000:]
    assert "9 problems in this scenario's steps" in out and "2 problems in this scenario's steps" in out
    assert "Traceback" not in out and "ENTERS" not in out  # nothing ran
    assert "typos.feature: 2 usage errors" in out
    scenarios = json.loads((tmp_path / "c.json").read_text())[0]["elements"]
    assert len(scenarios) == 2  # both reported to Cucumber as failed, with the usage error
    for element in scenarios:
        assert {s["result"]["status"] for s in element["steps"]} == {"failed"}
        assert element["steps"][0]["result"]["error_message"].startswith("usage error: ")


def test_every_phrase_is_documented():
    """docs/uat.md, the phrase contract, shows every phrase exactly as the library registers it."""
    doc = (ROOT / "docs" / "uat.md").read_text().replace("\\|", "|")
    missing = [p.template for p in PHRASES if f"`{p.template}`" not in doc]
    assert not missing, missing
