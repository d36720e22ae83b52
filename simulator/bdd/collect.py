"""Collectors: a journeysim .feature file as a test module, and the refusal of a named foreign one."""

from __future__ import annotations

import types

import pytest

__all__ = ["FeatureModule", "NotJourneysimFeature"]

_BIND = "scenarios(_feature_path, features_base_dir=_base_dir)"


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
