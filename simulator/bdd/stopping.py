"""`journeysim uat` stopped by Ctrl-C, SIGTERM or SIGHUP: no pytest banner, no half-written reports.

pytest treats an interruption as the end of the session: it prints a ``!!! KeyboardInterrupt !!!``
banner (with a traceback under ``--fulltrace``) and the summary, and its JUnit XML and pytest-bdd's
Cucumber JSON plugins write their files with the tests that happened to finish. Under
``journeysim uat`` an interruption must instead end like ``journeysim run``: one line, exit
130/143/129, nothing partial. This plugin object, given to ``pytest.main``, unregisters the terminal
reporter and points the report writers at the null device as soon as pytest reports the
interruption, before they act on it (an existing report file is left as it was).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

__all__ = ["QuietStop"]


class QuietStop:
    """On an interruption, drop pytest's terminal reporter and the writers of ``reports`` (the files
    given with --junit-xml / --cucumber-json), so neither a banner nor a partial file appears."""

    def __init__(self, reports: list[Path]) -> None:
        self.reports = {str(Path(p).resolve()) for p in reports}
        self.stopped = False

    @pytest.hookimpl(tryfirst=True)
    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        if not isinstance(excinfo.value, KeyboardInterrupt) or isinstance(excinfo.value, pytest.Session.Interrupted):
            return  # pytest.exit() and pytest's own stop on collection errors come through this hook too
        self.stopped = True
        config = self._config
        for plugin in config.pluginmanager.get_plugins():
            logfile = getattr(plugin, "logfile", None)
            if logfile and str(Path(str(logfile)).resolve()) in self.reports:
                plugin.logfile = os.devnull  # the writer stays registered (its own unconfigure expects it)
        terminal = config.pluginmanager.get_plugin("terminalreporter")
        if terminal is not None:
            config.pluginmanager.unregister(terminal)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo) -> None:
        """A signal whose exception a step turned into another error (or that landed where exceptions are
        dropped) still stops the session, instead of reading as a failed scenario."""
        from simulator.interrupts import Interrupted, pending

        if pending() is not None:
            raise Interrupted(pending())

    def pytest_configure(self, config: pytest.Config) -> None:
        self._config = config
