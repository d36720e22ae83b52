"""Exact detectors over the event log, with root causes, aggregates and release gates.

``detect(scenario, events, customers)`` runs every registered detector and returns one DataFrame
with :data:`FINDING_COLUMNS`. To add a detector: write its class in the family's module and add it
to :data:`DETECTORS`.
"""

from __future__ import annotations

import pandas as pd

from simulator.findings.base import FINDING_COLUMNS, Detector
from simulator.findings.contact import ConsentViolation, DuplicateSend, FrequencyCapBreach, Overlap, QuietHoursBreach
from simulator.findings.compliance import (
    ComplianceConsent,
    ComplianceFrequency,
    ComplianceQuietHours,
    ComplianceUnsubscribe,
    ComplianceZoneMismatch,
)
from simulator.findings.creative import LengthOver, MissingField, MissingOptOut, RenderError, SmsSegmentsOver
from simulator.findings.context import LOG_COLUMNS, FindingContext
from simulator.findings.delivery import LateDelivery, MissedSend, Stuck
from simulator.findings.identity import IdentityConsentSplit, IdentityDuplicateSend, IdentityOverContact
from simulator.findings.races import ExitRace
from simulator.findings.staleness import OutOfOrder, StaleReads
from simulator.scenario.model import Scenario

__all__ = ["DETECTORS", "FINDING_COLUMNS", "LOG_COLUMNS", "LOG_KINDS", "FindingContext", "detect",
           "detect_in_context", "ordered"]

DETECTORS: tuple[Detector, ...] = (
    ExitRace(), StaleReads(), OutOfOrder(), Overlap(), DuplicateSend(), FrequencyCapBreach(),
    ConsentViolation(), QuietHoursBreach(), MissedSend(), LateDelivery(), Stuck(),
    RenderError(), MissingField(), SmsSegmentsOver(), MissingOptOut(), LengthOver(), ComplianceQuietHours(),
    IdentityDuplicateSend(), IdentityOverContact(), IdentityConsentSplit(),
    ComplianceZoneMismatch(), ComplianceFrequency(), ComplianceConsent(), ComplianceUnsubscribe(),
)

#: Log kinds the detectors and the root-cause tracer read (a run reads back only these rows).
LOG_KINDS: tuple[str, ...] = tuple(sorted(
    {k for d in DETECTORS for k in d.reads} | {"truth", "sync", "out-of-order", "sync-lost", "entry", "step"}))


def detect_in_context(ctx: FindingContext) -> pd.DataFrame:
    """Run every detector; findings sorted by time, then kind and customer (deterministic)."""
    rows = [row for detector in DETECTORS for row in detector.detect(ctx)]
    if not rows:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    return ordered(pd.DataFrame(rows))


def ordered(frame: pd.DataFrame) -> pd.DataFrame:
    """Findings in the canonical column order (FINDING_COLUMNS, then extras such as pair and cap, by name),
    sorted by time, then kind and customer (stable, so equal keys keep their detector order)."""
    extra = sorted(c for c in frame.columns if c not in FINDING_COLUMNS)
    frame = frame[list(FINDING_COLUMNS) + extra]
    return frame.sort_values(["t", "kind", "customer"], kind="stable").reset_index(drop=True)


def detect(scenario: Scenario, events: pd.DataFrame, customers: pd.DataFrame) -> pd.DataFrame:
    """Findings of one run's event log (DataFrame with :data:`LOG_COLUMNS`)."""
    return detect_in_context(FindingContext(scenario, events, customers))
