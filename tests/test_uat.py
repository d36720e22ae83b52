"""Gherkin UAT end to end: `journeysim uat`, the pytest plugin, failure messages, external repos."""

from __future__ import annotations

import json
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

JOURNEYSIM = [sys.executable, "-m", "simulator.cli"]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600)


def test_bundled_features_pass_and_write_reports(tmp_path):
    """`journeysim uat features/` passes (known defects fail as expected) and writes Cucumber JSON and JUnit."""
    cucumber, junit = tmp_path / "c.json", tmp_path / "j.xml"
    result = run([*JOURNEYSIM, "uat", "features", "--quiet", "--cucumber-json", str(cucumber),
                  "--junit-xml", str(junit)], ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "per feature:" in result.stdout
    for name in ("cart_abandonment", "welcome_series", "stage_nurture", "promo_calendar"):
        assert f"features/{name}.feature:" in result.stdout
    assert "known defects (failed as expected)" in result.stdout
    features = json.loads(cucumber.read_text())
    assert {Path(f["uri"]).name for f in features} >= {"cart_abandonment.feature", "stage_nurture.feature"}
    assert "<testsuite" in junit.read_text()


WRONG = """\
Feature: A wrong expectation
  Scenario: Bob is wrongly expected to get nothing
    Given the scenario "cart.yaml"
    And 0 customers
    And the "web" to "cdp" sync latency is 5 minutes
    And a customer "bob" in stage "A" in time zone "America/New_York" opted in to "email"
    When "bob" triggers "cart_abandoned" at "2026-12-01 10:00" local time
    And the simulation runs for 1 day
    Then "bob" receives no "cart_email_1"
"""


def test_wrong_expectation_fails_with_delivery_time_and_replica_values(tmp_path):
    """A Then that contradicts the simulation fails, naming the delivery time, the decision and the trace."""
    shutil.copy(ROOT / "scenarios" / "cart_abandonment.yaml", tmp_path / "cart.yaml")
    (tmp_path / "wrong.feature").write_text(WRONG)
    result = run([*JOURNEYSIM, "uat", "wrong.feature"], tmp_path)
    assert result.returncode == 1, result.stdout[-2000:]
    out = result.stdout
    # cart at 10:00 New York = 15:00 UTC, +5 min to the CDP, +1 h wait: decided and delivered 16:05 UTC
    assert 'expected "bob" to receive no "cart_email_1", but it was delivered 1 time(s)' in out
    assert "delivered 2026-12-01 16:05 UTC on email; decided 2026-12-01 16:05 UTC by cart-abandonment/email_1" in out
    assert "while cdp had @purchase met=false (v0) and truth met=false (v0)" in out
    assert "customer bob" in out and "ENTERS cart-abandonment" in out  # the trace follows


RIGHT = """\
Feature: Reminder
  Scenario: A buyer gets no reminder
    Given the scenario "cart.yaml"
    And 0 customers
    And a customer "ana" in stage "A" in time zone "Europe/London" opted in to "email"
    When "ana" triggers "cart_abandoned" at "2026-12-01 10:00" local time
    And "ana" triggers "purchase" 20 minutes later
    And the simulation runs for 2 days
    Then "ana" receives no "cart_email_1"
"""


def test_feature_outside_the_repo_runs_with_uat_and_plain_pytest(tmp_path):
    """A team's own folder with only a .feature and a scenario runs via `journeysim uat` and via plain pytest."""
    shutil.copy(ROOT / "scenarios" / "cart_abandonment.yaml", tmp_path / "cart.yaml")
    (tmp_path / "reminder.feature").write_text(RIGHT)
    via_uat = run([*JOURNEYSIM, "uat", "reminder.feature", "--quiet"], tmp_path)
    assert via_uat.returncode == 0, via_uat.stdout[-2000:]
    via_pytest = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "reminder.feature"], tmp_path)
    assert via_pytest.returncode == 0, via_pytest.stdout[-2000:]
    assert "1 passed" in via_pytest.stdout


def test_unknown_step_names_the_feature_line_and_the_nearest_phrase(tmp_path):
    """A phrase the library does not know is a usage error (exit 2): the feature line, the step as written and
    the nearest documented phrase, as the first lines of the failure, with no traceback."""
    shutil.copy(ROOT / "scenarios" / "cart_abandonment.yaml", tmp_path / "cart.yaml")
    (tmp_path / "typo.feature").write_text(RIGHT.replace("receives no", "gets no"))
    result = run([*JOURNEYSIM, "uat", "typo.feature", "--quiet"], tmp_path)
    assert result.returncode == 2, result.stdout[-2000:]
    out = result.stdout
    failure = out[out.index("_ test_a_buyer_gets_no_reminder _"):]
    first = failure.splitlines()[1:4]
    assert first == ["usage error: 1 problem in this scenario's steps:",
                     'typo.feature:9: unknown step phrase: Then "ana" gets no "cart_email_1"',
                     '  nearest documented phrase: Then "<name>" receives no "<message>"'], failure[:800]
    assert "Traceback" not in out and "site-packages" not in out
    assert "1 usage errors" in out


def test_starter_project_runs(tmp_path):
    """`journeysim init` writes a feature that passes against its starter scenario."""
    assert run([*JOURNEYSIM, "init", "proj"], tmp_path).returncode == 0
    result = run([*JOURNEYSIM, "uat", "proj/features", "--quiet"], tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]


SLOW_FEATURE = """Feature: a long run
  Scenario: many customers for two weeks
    Given the scenario "{scenario}"
    And 30000 customers
    When the simulation runs for 14 days
    Then there are no "consent-violation" findings
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGHUP, 129, "SIGHUP")],
                         ids=["SIGTERM", "SIGHUP"])
def test_uat_stopped_by_a_signal_ends_like_run(tmp_path, sig, code, name):
    """SIGTERM (CI cancel) / SIGHUP (terminal closed) while a Gherkin scenario simulates: exit 143/129,
    one 'interrupted (...)' line, no pytest KeyboardInterrupt banner or traceback, and neither report file
    is written (an older --junit-xml file is left as it was)."""
    feature = tmp_path / "slow.feature"
    feature.write_text(SLOW_FEATURE.format(scenario=ROOT / "scenarios" / "cart_abandonment.yaml"))
    (tmp_path / "old.xml").write_text("old report\n")
    stdout, stderr = tmp_path / "out.txt", tmp_path / "err.txt"
    with stdout.open("w") as out, stderr.open("w") as err:
        proc = subprocess.Popen([*JOURNEYSIM, "uat", "slow.feature", "--junit-xml", "old.xml",
                                 "--cucumber-json", "new.json"], cwd=tmp_path, stdout=out, stderr=err)
        deadline = time.monotonic() + 120
        while "slow.feature::" not in stdout.read_text() and time.monotonic() < deadline:
            assert proc.poll() is None, stderr.read_text()
            time.sleep(0.05)
        time.sleep(1.0)  # inside the simulation of 30,000 customers (it takes well over 10 s)
        proc.send_signal(sig)
        proc.wait(timeout=60)
    text = stdout.read_text() + stderr.read_text()
    assert proc.returncode == code, text
    assert f"interrupted ({name}): the features did not finish" in stderr.read_text()
    for noise in ("KeyboardInterrupt", "Interrupted", "Traceback", "!!!", "no tests ran", "generated"):
        assert noise not in text, text
    assert (tmp_path / "old.xml").read_text() == "old report\n"
    assert not (tmp_path / "new.json").exists()
