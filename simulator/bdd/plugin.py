"""pytest plugin (entry point ``pytest11: journeysim``): wires hooks only.

- registers the step library (:mod:`simulator.bdd.steps`) so every step phrase is available;
- collects ``*.feature`` files directly (no test module needed), unless
  ``journeysim_collect_features = false`` is set in the ini file (for repos that bind features
  with their own ``scenarios()`` calls);
- a ``@known-defect`` tag marks a Gherkin scenario as a strict expected failure: it must fail,
  and the day it passes (the defect is fixed) the run says so.
"""

from __future__ import annotations

import types
from pathlib import Path

import pytest

__all__ = ["pytest_addoption", "pytest_configure", "pytest_collect_file", "pytest_bdd_apply_tag"]

_BIND = "scenarios(_feature_path, features_base_dir=_base_dir)"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("journeysim", "journeysim Gherkin UAT")
    parser.addini("journeysim_collect_features", "collect *.feature files as journeysim UAT (true/false)",
                  type="bool", default=True)
    group.addoption("--journeysim-no-features", action="store_true", default=False,
                    help="do not collect *.feature files (bind them with your own scenarios() calls)")


def pytest_configure(config: pytest.Config) -> None:
    from simulator.bdd import steps

    if not config.pluginmanager.is_registered(steps):
        config.pluginmanager.register(steps, "journeysim-steps")
    config.addinivalue_line("markers", "known_defect: a UAT scenario that demonstrates a known defect")


class FeatureModule(pytest.Module):
    """A .feature file collected as a module whose tests are its Gherkin scenarios."""

    def _getobj(self):  # noqa: ANN202 - pytest API
        from pytest_bdd import scenarios

        namespace = {"scenarios": scenarios, "_feature_path": str(self.path), "_base_dir": str(self.path.parent),
                     "__name__": f"journeysim_feature_{self.path.stem}", "__file__": str(self.path)}
        # Our own fixed statement, run with this namespace as the caller's locals: pytest-bdd binds one
        # test function per Gherkin scenario into it (no user text is evaluated).
        exec(compile(_BIND, str(self.path), "exec"), namespace)  # noqa: S102
        module = types.ModuleType(namespace["__name__"])
        module.__dict__.update({k: v for k, v in namespace.items() if k != "__builtins__"})
        return module


def pytest_collect_file(file_path: Path, parent: pytest.Collector):  # noqa: ANN201 - pytest API
    if file_path.suffix != ".feature":
        return None
    config = parent.config
    if config.getoption("--journeysim-no-features") or not config.getini("journeysim_collect_features"):
        return None
    return FeatureModule.from_parent(parent, path=file_path)


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function):  # noqa: ANN001, ANN201 - pytest-bdd hook
    if tag == "known-defect":
        marker = pytest.mark.xfail(strict=True, reason="known defect demonstrated by this UAT scenario; "
                                                       "when it passes, the defect is fixed: remove the tag")
        marker(function)
        return True
    return None
