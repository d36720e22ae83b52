"""pytest plugin (entry point ``pytest11: journeysim``): wires hooks only.

Installing journeysim must not change any other pytest-bdd suite. So:

- a ``.feature`` file is collected only when it is journeysim's (:mod:`simulator.bdd.recognise`: a step
  reads ``Given the scenario "<file>"``, or the feature tag ``@journeysim``, or the ini option
  ``journeysim_features``), as a :class:`~simulator.bdd.collect.FeatureModule`;
- the step library is visible to those features only (its step fixtures live in the feature's
  module); a repository that binds journeysim features with its own ``scenarios()`` calls loads it
  with ``pytest_plugins = ["simulator.bdd.steps"]``;
- ``@known-defect`` makes a scenario of a journeysim feature a strict expected failure (only a failed
  expectation counts; when it passes, the report shows the customers' traces); on other features
  the tag is an ordinary marker;
- before a journeysim scenario runs, every step is checked (:mod:`simulator.bdd.lint`); usage errors
  are reported as plain text (:mod:`simulator.bdd.failures`).

``journeysim_collect_features = false`` (ini) or ``--journeysim-no-features`` turns collection off.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.bdd.failures import USAGE

__all__ = ["USAGE", "skipped_features"]

_SKIPPED = pytest.StashKey[list]()
_STEP = pytest.StashKey[object]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("journeysim", "journeysim Gherkin UAT")
    parser.addini("journeysim_collect_features", "collect journeysim .feature files as UAT (true/false)",
                  type="bool", default=True)
    parser.addini("journeysim_features", "only .feature files under these paths (relative to the ini file) are "
                                         "journeysim's (default: features naming a scenario or tagged @journeysim)",
                  type="paths", default=[])
    group.addoption("--journeysim-no-features", action="store_true", default=False,
                    help="do not collect .feature files (bind them with your own scenarios() calls)")
    group.addoption("--journeysim-uat", action="store_true", default=False,
                    help="(set by `journeysim uat`) a .feature named on the command line must be journeysim's")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "known-defect: a journeysim UAT scenario that demonstrates a known defect "
                                       "(a strict expected failure)")
    config.addinivalue_line("markers", "journeysim: (feature tag) this .feature file is journeysim UAT")
    config.stash[_SKIPPED] = []


def pytest_collect_file(file_path: Path, parent: pytest.Collector):  # noqa: ANN201 - pytest API
    if file_path.suffix != ".feature":
        return None
    config = parent.config
    if config.getoption("--journeysim-no-features") or not config.getini("journeysim_collect_features"):
        return None
    from simulator.bdd.collect import FeatureModule, NotJourneysimFeature
    from simulator.bdd.recognise import journeysim_reason

    if journeysim_reason(file_path, config) is not None:
        return FeatureModule.from_parent(parent, path=file_path)
    if config.getoption("--journeysim-uat"):
        if parent.session.isinitpath(file_path):
            return NotJourneysimFeature.from_parent(parent, path=file_path)
        config.stash[_SKIPPED].append(file_path)
    return None


def skipped_features(config: pytest.Config) -> list[Path]:
    """.feature files seen under the given folders that were not journeysim's (not collected)."""
    return list(config.stash.get(_SKIPPED, []))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    from simulator.bdd.recognise import journeysim_feature_of

    for item in items:
        if item.get_closest_marker("known-defect") is not None and journeysim_feature_of(item) is not None:
            # Only a failed expectation (a Then step, or an assert in a team's own step) is the expected
            # failure: a usage error or a crash in a @known-defect scenario fails the run.
            item.add_marker(pytest.mark.xfail(strict=True, raises=(pytest.fail.Exception, AssertionError),
                                              reason="known defect demonstrated by this UAT scenario; "
                                                     "when it passes, the defect is fixed: remove the tag"))


@pytest.hookimpl(trylast=True)  # after pytest-bdd's own (it opens the scenario's Cucumber report)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature, scenario) -> None:  # noqa: ANN001
    """Check every step of a journeysim scenario before the first one runs."""
    from simulator.bdd.recognise import journeysim_reason

    if journeysim_reason(Path(feature.filename), request.config) is None:
        return
    from pytest_bdd.scenario import get_step_function

    from simulator.bdd.failures import fail_cucumber_steps
    from simulator.bdd.lint import StepsError, check_scenario

    try:
        check_scenario(scenario.steps, feature.filename,
                       defined=lambda step: get_step_function(request, step) is not None)
    except StepsError:
        fail_cucumber_steps(request, scenario)
        raise


def pytest_bdd_step_error(request: pytest.FixtureRequest, step) -> None:  # noqa: ANN001
    request.node.stash[_STEP] = step


@pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: sees the report after pytest's xfail handling
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201 - pytest API
    report = yield
    if report.when != "call" or not report.failed:
        return report
    from simulator.bdd.recognise import journeysim_feature_of

    feature = journeysim_feature_of(item)
    if feature is None:
        return report
    from simulator.bdd.failures import is_usage_error, usage_text, xpass_text
    from simulator.bdd.steps import WORLD_KEY

    # (An unknown phrase never gets here: the pre-flight check reports it, with the nearest phrase.)
    if call.excinfo is not None and is_usage_error(call.excinfo):
        report.longrepr = usage_text(feature, item.stash.get(_STEP, None), call.excinfo)
        report.user_properties.append(USAGE)
    elif call.excinfo is None and "XPASS(strict)" in str(report.longrepr):
        report.longrepr = xpass_text(item.stash.get(WORLD_KEY, None), str(report.longrepr))
    return report
