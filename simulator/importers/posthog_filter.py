"""PostHog filters (``{properties: [...], events: [...], actions: [...]}``) -> a condition.

PostHog stores every condition of a workflow (trigger, ``conditional_branch`` conditions,
``wait_until_condition``, conversion goal) as a filters object. A property filter is
``{key, value, operator, type}``; the conditions of one ``properties`` list all have to hold.
Translated (docs/import.md has the table):

- person properties (``type: person``) with ``exact`` (a value or a list: any of them),
  ``is_not``, ``gt``, ``gte``, ``lt``, ``lte``, ``is_set``, ``is_not_set``;
- ``{type: AND|OR, values: [...]}`` groups over translated parts.

Anything else (event properties, which read the triggering event's payload; cohorts; ``icontains``,
regex and date operators; ``events`` and ``actions`` entries, which match the event being
processed) leaves the whole filter untranslated, because dropping one part would change who matches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from simulator.importers.base import printable
from simulator.importers.dittofeed_segment import _literal
from simulator.importers.sfmc_filter import field_name

__all__ = ["Translation", "translate_filters", "single_event", "is_empty"]

_ORDER = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


@dataclass
class Translation:
    condition: str | None
    problems: list[str] = field(default_factory=list)


def is_empty(filters: Any) -> bool:
    """True when the filters target nothing (no properties, events or actions): PostHog compiles them
    to always-true."""
    if not isinstance(filters, dict):
        return True
    return not any(isinstance(filters.get(k), list) and filters.get(k) for k in ("properties", "events", "actions"))


def single_event(filters: Any) -> str | None:
    """The event name when the filters are exactly one event with no property filter of its own and
    nothing else (``{events: [{id: E}]}``)."""
    if not isinstance(filters, dict):
        return None
    events = filters.get("events")
    if not isinstance(events, list) or len(events) != 1 or not isinstance(events[0], dict):
        return None
    if filters.get("properties") or filters.get("actions") or events[0].get("properties"):
        return None
    name = events[0].get("id") or events[0].get("name")
    return name if isinstance(name, str) and name else None


def translate_filters(filters: Any) -> Translation:
    """The condition for a filters object (``None`` with the reasons when not translatable)."""
    if not isinstance(filters, dict):
        return Translation(None, ["the filters are not an object"])
    problems: list[str] = []
    if filters.get("events"):
        problems.append("an 'events' filter matches the event being processed, not the person")
    if filters.get("actions"):
        problems.append("an 'actions' filter matches the event being processed, not the person")
    props = filters.get("properties") or []
    if not isinstance(props, (list, dict)):
        return Translation(None, problems + ["'properties' is not a list"])
    cond = _group({"type": "AND", "values": props} if isinstance(props, list) else props, problems)
    if cond is None and not problems:
        problems.append("the filters have no property conditions")
    return Translation(None if problems else cond, problems)


def _group(g: dict[str, Any], problems: list[str]) -> str | None:
    kind = str(g.get("type", "AND")).upper()
    values = g.get("values") if isinstance(g.get("values"), list) else []
    parts = []
    for v in values:
        if not isinstance(v, dict):
            problems.append(f"property filter {json.dumps(v)[:60]} is not an object")
            continue
        if "values" in v and str(v.get("type", "")).upper() in ("AND", "OR"):
            p = _group(v, problems)
        else:
            p = _prop(v, problems)
        if p is not None:
            parts.append(p)
    if not parts:
        return None
    joiner = " or " if kind == "OR" else " and "
    return joiner.join(f"({p})" if (" and " in p or " or " in p) and len(parts) > 1 else p for p in parts)


def _prop(p: dict[str, Any], problems: list[str]) -> str | None:
    key, op, value, kind = p.get("key"), p.get("operator", "exact"), p.get("value"), p.get("type", "person")
    if kind != "person":
        problems.append(f"property '{key}' of type {json.dumps(kind)} (only person properties are read by "
                        "the scenario's conditions)")
        return None
    if not isinstance(op, str):
        problems.append(f"property '{key}' has no operator string")
        return None
    if not isinstance(key, str) or not key:
        problems.append("a property filter without a key")
        return None
    f = field_name(key)
    scalars = (str, int, float, bool)
    if op in ("exact", "is_not"):
        vals = value if isinstance(value, list) else [value]
        if not vals or not all(isinstance(x, scalars) and printable(x) for x in vals):
            problems.append(f"property '{key}' {op} compares with {json.dumps(value)[:40]}")
            return None
        sign, join = ("==", " or ") if op == "exact" else ("!=", " and ")
        return join.join(f"{f} {sign} {_literal(x)}" for x in vals)
    if op in _ORDER:
        if isinstance(value, str):
            try:
                value = float(value) if "." in value else int(value)
            except ValueError:
                pass
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            problems.append(f"property '{key}' {op} compares with a non-number {json.dumps(value)[:40]}")
            return None
        return f"{f} {_ORDER[op]} {_literal(value)}"
    if op == "is_set":
        return f"{f} != null"
    if op == "is_not_set":
        return f"{f} == null"
    problems.append(f"property '{key}' operator {json.dumps(op)} has no equivalent in the condition language")
    return None
