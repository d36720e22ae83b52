"""Per-feature outcome counts for `journeysim uat` (a tiny pytest plugin object)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

__all__ = ["FeatureSummary"]


class FeatureSummary:
    """Counts passed / failed / expected-failure outcomes per .feature file, and usage errors."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)
        self.usage_errors: list[str] = []  # node ids whose failure is a usage error (exit 2)
        self.skipped: list[Path] = []  # .feature files found that are not journeysim's

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        from simulator.bdd.plugin import USAGE

        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            feature = report.nodeid.split("::")[0]
            if USAGE in [tuple(p) for p in report.user_properties]:
                outcome = "usage errors"
                self.usage_errors.append(report.nodeid)
            elif hasattr(report, "wasxfail"):
                outcome = "known defects (failed as expected)" if report.skipped else "known defects now passing"
            elif report.failed and "XPASS(strict)" in str(report.longrepr):
                outcome = "known defects now passing"
            else:
                outcome = report.outcome
            self.counts[feature][outcome] += 1

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        from simulator.bdd.plugin import skipped_features

        self.skipped = skipped_features(session.config)

    def lines(self) -> list[str]:
        out: list[str] = []
        if self.counts:
            out += ["", "per feature:"]
            for feature in sorted(self.counts):
                parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts[feature].items()))
                out.append(f"  {feature}: {parts}")
        if self.skipped:
            out += ["", "not journeysim features (no step names a scenario, no @journeysim tag), not run:"]
            out += [f"  {p}" for p in self.skipped]
        if self.usage_errors:
            out += ["", f"{len(self.usage_errors)} scenario(s) could not run as written (usage errors above): "
                        "fix the feature files; exit code 2"]
        return out
