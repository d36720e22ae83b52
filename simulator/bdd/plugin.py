"""pytest plugin (entry point ``pytest11: journeysim``): collects journeysim's features, and only those.

Installing journeysim must not change any other pytest-bdd suite. So:

- a ``.feature`` file is collected only when it is journeysim's (:func:`journeysim_reason`): it
  names a journeysim scenario with the step ``Given the scenario "<file>"`` (in its Background or
  any scenario), or carries the feature tag ``@journeysim``, or lies under a path listed in the
  ini option ``journeysim_features`` (when that option is set, only those paths count);
- the step library is visible to those features only (its step fixtures live in the feature's
  module), never to another project's scenarios; a repository that binds journeysim features with
  its own ``scenarios()`` calls loads it with ``pytest_plugins = ["simulator.bdd.steps"]``;
- ``@known-defect`` makes a scenario of a journeysim feature a strict expected failure (it must
  fail; when it passes, the failure report shows the customers' traces); on other features the
  tag is an ordinary marker;
- before a journeysim scenario runs, every step is checked (:mod:`simulator.bdd.lint`), and usage
  errors (misspelt names, unknown phrases, missing scenario files) are reported as plain text.

``journeysim_collect_features = false`` (ini) or ``--journeysim-no-features`` turns collection off.
"""

from __future__ import annotations

import contextlib
import re
import types
from pathlib import Path

import pytest

__all__ = ["journeysim_reason", "FeatureModule"]

_BIND = "scenarios(_feature_path, features_base_dir=_base_dir)"
_REASONS = pytest.StashKey[dict]()
_SKIPPED = pytest.StashKey[list]()
_STEP = pytest.StashKey[object]()
USAGE = ("journeysim", "usage-error")  # user_properties entry of a report whose failure is a usage error
_TAG_LINE = re.compile(r"^\s*(?:@\S+\s+)*@journeysim(?![\w-])", re.M)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("journeysim", "journeysim Gherkin UAT")
    parser.addini("journeysim_collect_features", "collect journeysim .feature files as UAT (true/false)",
                  type="bool", default=True)
    parser.addini("journeysim_features", "only .feature files under these paths (relative to the rootdir) are "
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
    config.stash[_REASONS] = {}
    config.stash[_SKIPPED] = []


# ---------------------------------------------------------------------- recognition


def journeysim_reason(path: Path, config: pytest.Config | None = None) -> str | None:
    """Why ``path`` is a journeysim feature (None when it is not): the rule in docs/uat.md."""
    cache = config.stash[_REASONS] if config is not None else {}
    key = str(Path(path).resolve())
    if key not in cache:
        cache[key] = _reason(Path(path), config)
    return cache[key]


def _reason(path: Path, config: pytest.Config | None) -> str | None:
    roots = [Path(p).resolve() for p in (config.getini("journeysim_features") if config is not None else [])]
    if roots:
        here = path.resolve()
        inside = [r for r in roots if here == r or r in here.parents]
        return f"under journeysim_features path {inside[0]}" if inside else None
    from simulator.bdd.lint import is_journeysim_step_text

    try:
        from pytest_bdd.feature import get_feature

        feature = get_feature(str(path.parent), path.name)
    except Exception:  # noqa: BLE001 - unparsable: judge by the text; pytest-bdd reports the syntax error
        text = path.read_text(encoding="utf-8", errors="replace")
        if _TAG_LINE.search(text) or re.search(r'^\s*(?:Given|And|\*)\s+the scenario "[^"]+"\s*$', text, re.M):
            return "names a journeysim scenario (file not parsed)"
        return None
    if "journeysim" in feature.tags:
        return "tagged @journeysim"
    steps = list(feature.background.steps) if feature.background else []
    for template in feature.scenarios.values():
        steps += template.steps
    for step in steps:
        if is_journeysim_step_text(step.type, step.name):
            return f'line {step.line_number} names a journeysim scenario (Given the scenario "...")'
    return None


class FeatureModule(pytest.Module):
    """A journeysim .feature file collected as a module whose tests are its Gherkin scenarios.

    The module holds the step library's fixtures, so its phrases are visible to this feature only.
    """

    def _getobj(self):  # noqa: ANN202 - pytest API
        from pytest_bdd import scenarios

        from simulator.bdd import steps

        namespace = {"scenarios": scenarios, "_feature_path": str(self.path), "_base_dir": str(self.path.parent),
                     "__name__": f"journeysim_feature_{self.path.stem}", "__file__": str(self.path)}
        namespace.update({k: v for k, v in vars(steps).items()
                          if k.startswith("pytestbdd_stepdef_") or k == "journeysim_world"})
        # Our own fixed statement, run with this namespace as the caller's locals: pytest-bdd binds one
        # test function per Gherkin scenario into it (no user text is evaluated).
        exec(compile(_BIND, str(self.path), "exec"), namespace)  # noqa: S102
        module = types.ModuleType(namespace["__name__"])
        module.__dict__.update({k: v for k, v in namespace.items() if k != "__builtins__"})
        return module

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001, ANN201 - pytest API
        """A feature that does not parse: the Gherkin parser's message, not a traceback."""
        from gherkin.errors import ParserError
        from pytest_bdd.exceptions import GherkinParseError

        if excinfo.errisinstance((ParserError, GherkinParseError)):
            return f"usage error: {self.path} is not valid Gherkin:\n{excinfo.value}"
        return super().repr_failure(excinfo, style)


class NotJourneysimFeature(pytest.File):
    """A .feature named on the `journeysim uat` command line that is not journeysim's: a usage error."""

    def collect(self):  # noqa: ANN201 - pytest API
        from simulator.bdd.names import UATUsageError

        raise UATUsageError(
            f"{self.path} is not a journeysim feature: no step names a scenario "
            '(Given the scenario "path/to/scenario.yaml") and the feature is not tagged @journeysim')

    def repr_failure(self, excinfo, style=None):  # noqa: ANN001, ANN201 - pytest API
        return str(excinfo.value)


def pytest_collect_file(file_path: Path, parent: pytest.Collector):  # noqa: ANN201 - pytest API
    if file_path.suffix != ".feature":
        return None
    config = parent.config
    if config.getoption("--journeysim-no-features") or not config.getini("journeysim_collect_features"):
        return None
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


def _feature_file(item: pytest.Item) -> str | None:
    """The .feature file of a pytest-bdd test item when that feature is journeysim's."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    if template is None:
        return None
    filename = template.feature.filename
    return filename if journeysim_reason(Path(filename), item.config) is not None else None


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("known-defect") is not None and _feature_file(item) is not None:
            # Only a failed expectation (a Then step, or an assert in a team's own step) is the expected
            # failure: a usage error or a crash in a @known-defect scenario fails the run.
            item.add_marker(pytest.mark.xfail(strict=True, raises=(pytest.fail.Exception, AssertionError),
                                              reason="known defect demonstrated by this UAT scenario; "
                                                     "when it passes, the defect is fixed: remove the tag"))


# ---------------------------------------------------------------------- running


@pytest.hookimpl(trylast=True)  # after pytest-bdd's own (it opens the scenario's Cucumber report)
def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature, scenario) -> None:  # noqa: ANN001
    """Check every step of a journeysim scenario before the first one runs."""
    if journeysim_reason(Path(feature.filename), request.config) is None:
        return
    from pytest_bdd.scenario import get_step_function

    from simulator.bdd.lint import StepsError, check_scenario

    try:
        check_scenario(scenario.steps, feature.filename,
                       defined=lambda step: get_step_function(request, step) is not None)
    except StepsError:
        _fail_cucumber_steps(request, scenario)
        raise


def _fail_cucumber_steps(request: pytest.FixtureRequest, scenario) -> None:  # noqa: ANN001
    """Mark every step of the scenario failed in pytest-bdd's Cucumber report (none of them could run)."""
    with contextlib.suppress(Exception):  # pytest-bdd's reporting internals; the test fails regardless
        from pytest_bdd.reporting import StepReport, scenario_reports_registry

        report = scenario_reports_registry[request.node]
        for step in scenario.steps:
            step_report = StepReport(step=step)
            step_report.finalize(failed=True)
            report.add_step_report(step_report)


def pytest_bdd_step_error(request: pytest.FixtureRequest, step) -> None:  # noqa: ANN001
    request.node.stash[_STEP] = step


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201 - pytest API
    report = yield
    if report.when != "call" or not report.failed:
        return report
    feature = _feature_file(item)
    if feature is None:
        return report
    from simulator.bdd.lint import StepsError
    from simulator.errors import JourneySimError

    step = item.stash.get(_STEP, None)
    where = f"{Path(feature).name}:{step.line_number}: {step.keyword.strip()} {step.name}\n  " if step is not None else ""
    excinfo = call.excinfo
    # (An unknown phrase never gets here: the pre-flight check reports it, with the nearest phrase.)
    if excinfo is not None and excinfo.errisinstance(JourneySimError):
        text = str(excinfo.value)
        if excinfo.errisinstance(StepsError):  # the pre-flight check names its lines itself
            where = ""
        report.longrepr = "usage error: " + where + text.replace("\n", "\n  " if where else "\n")
        report.user_properties.append(USAGE)
    elif excinfo is None and "XPASS(strict)" in str(report.longrepr):
        report.longrepr = _xpass_text(item, str(report.longrepr))
    return report


def _xpass_text(item: pytest.Item, head: str) -> str:
    """A @known-defect scenario that passed: say so, with every scripted customer's trace."""
    from simulator.bdd.steps import WORLD_KEY

    world = item.stash.get(WORLD_KEY, None)
    lines = [head, "This scenario is tagged @known-defect but every step passed: the defect no longer shows here "
                   "(fixed, or the scenario no longer demonstrates it). Remove the tag once that is confirmed."]
    if world is not None and world.result is not None:
        for name in world.people:
            with contextlib.suppress(Exception):
                lines += ["", world.trace(name)]
    return "\n".join(lines)
