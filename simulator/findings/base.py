"""The finding record and the detector base class.

A detector is a small class naming the finding kinds it emits and the log kinds it reads; its
``detect`` returns finding rows (dicts with :data:`FINDING_COLUMNS`). Adding a detector touches its
own module and the registry in :mod:`simulator.findings`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from simulator.findings.context import Cause, FindingContext
from simulator.scenario.vocabulary import DEFAULT_SEVERITY

__all__ = ["FINDING_COLUMNS", "Detector", "finding", "tag_values", "request_keys", "request_key"]

#: findings.csv columns, in order. The first eight are a contract users script against.
FINDING_COLUMNS: tuple[str, ...] = (
    "kind", "severity", "customer", "journey", "step", "time", "message", "root_cause",
    "t", "system", "field", "replica_value", "replica_version", "truth_value", "truth_version",
    "truth_changed_at", "link", "lag_seconds", "late_by_seconds", "message_name", "channel",
    "phase", "hop_at_decision",
)


class Detector:
    """Base class: subclasses set ``kinds`` and ``reads`` and implement :meth:`detect`."""

    kinds: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:  # pragma: no cover - abstract
        raise NotImplementedError


def finding(ctx: FindingContext, kind: str, row: Any, message: str, root_cause: str, *,
            cause: Cause | None = None, **extra: Any) -> dict[str, Any]:
    """One finding row from a log row (namedtuple from ``itertuples``) and the texts."""
    severity = ctx.scenario.severity.get(kind, DEFAULT_SEVERITY.get(kind, "warning"))
    out = {
        "kind": kind, "severity": severity, "customer": row.customer,
        "journey": _clean(getattr(row, "journey", None)), "step": _clean(getattr(row, "step", None)),
        "time": ctx.stamp(row.t), "message": message, "root_cause": root_cause, "t": float(row.t),
        "system": _clean(getattr(row, "system", None)), "field": _clean(getattr(row, "field", None)),
        "replica_value": _clean(getattr(row, "value", None)), "replica_version": _int(getattr(row, "version", None)),
        "truth_value": _clean(getattr(row, "truth_value", None)),
        "truth_version": _int(getattr(row, "truth_version", None)),
        "truth_changed_at": ctx.stamp(cause.changed_at) if cause and not math.isnan(cause.changed_at) else None,
        "link": cause.link if cause else None,
        "lag_seconds": None if cause is None or math.isnan(cause.lag) else round(cause.lag, 3),
        "late_by_seconds": None if cause is None or math.isnan(cause.late_by) else round(cause.late_by, 3),
        "message_name": _clean(getattr(row, "message", None)), "channel": _clean(getattr(row, "channel", None)),
        "phase": None, "hop_at_decision": cause.hop_at_decision if cause else None,
    }
    out.update(extra)
    return out


def tag_values(detail: Any) -> dict[str, str]:
    """``'...; req=3; inst=1'`` -> ``{'req': '3', 'inst': '1'}`` (the ids the send pipeline writes)."""
    out: dict[str, str] = {}
    if isinstance(detail, str):
        for part in detail.split(";"):
            key, sep, value = part.strip().partition("=")
            if sep and key in ("req", "inst", "link"):
                out[key] = value
    return out


def request_keys(frame: Any) -> Any:
    """The send request of each record as ``'<customer>#<req>'`` (a Series aligned on ``frame``; NaN where
    the detail has no ``req=``). ``req=N`` is the customer's N-th send request, so two customers have
    a ``req=1`` each: a request is named by the customer and its number together."""
    return frame["customer"].astype(str) + "#" + frame["detail"].str.extract(r"req=(\d+)", expand=False)


def request_key(row: Any) -> str | None:
    """:func:`request_keys` of one record (a namedtuple from ``itertuples``); None without ``req=``."""
    req = tag_values(row.detail).get("req")
    return None if req is None else f"{row.customer}#{req}"


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _int(value: Any) -> int | None:
    value = _clean(value)
    return None if value is None else int(value)
