"""Per-feature outcome counts for `journeysim uat` (a tiny pytest plugin object)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

__all__ = ["FeatureSummary"]


class FeatureSummary:
    """Counts passed / failed / expected-failure outcomes per .feature file."""

    def __init__(self) -> None:
        self.counts: dict[str, Counter] = defaultdict(Counter)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            feature = report.nodeid.split("::")[0]
            if hasattr(report, "wasxfail"):
                outcome = "known defects (failed as expected)" if report.skipped else "known defects now passing"
            else:
                outcome = report.outcome
            self.counts[feature][outcome] += 1

    def lines(self) -> list[str]:
        if not self.counts:
            return []
        out = ["", "per feature:"]
        for feature in sorted(self.counts):
            parts = ", ".join(f"{n} {k}" for k, n in sorted(self.counts[feature].items()))
            out.append(f"  {feature}: {parts}")
        return out
