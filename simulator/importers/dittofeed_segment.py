"""Dittofeed segment definitions (``SegmentDefinition``: ``entryNode`` + ``nodes``) -> a condition.

Dittofeed's types (packages/isomorphic-lib/src/types.ts, docs/import.md has the URL): a segment is a
tree of ``SegmentNode`` objects, ``And``/``Or`` naming their children by ``id``. Translated:

- ``Trait`` (``path``, ``operator``) with ``Equals``, ``NotEquals``, ``Exists``, ``NotExists``,
  ``GreaterThanOrEqual``, ``LessThan``;
- ``Performed`` of an event with no count, time window or property filter -> ``has_event('E')``
  (``E`` made a valid event name: ``Project Created`` -> ``Project-Created``);
- ``Includes`` (``path``, ``item``) -> ``'item' in F``; ``Everyone`` -> ``true``;
- ``And`` / ``Or`` over translated children.

Anything else (``Within``/``HasBeen``/``AbsoluteTimestamp`` operators, counted or windowed
``Performed``, ``LastPerformed``, ``Email``, ``Broadcast``, ``SubscriptionGroup``, ``Manual``,
``RandomBucket``, ``KeyedPerformed``) leaves the whole segment untranslated: dropping one part would
change who matches. The reasons are returned for the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from simulator.importers.base import safe_name
from simulator.importers.sfmc_filter import field_name

__all__ = ["Translation", "translate_segment", "performed_event"]

_TRAIT_OPS = {"Equals": "==", "NotEquals": "!=", "GreaterThanOrEqual": ">=", "LessThan": "<"}


@dataclass
class Translation:
    condition: str | None
    problems: list[str] = field(default_factory=list)


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def performed_event(definition: Any) -> str | None:
    """The event name when the segment is exactly "performed E" (once, ever, no property filter)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("entryNode"), dict):
        return None
    n = definition["entryNode"]
    if n.get("type") != "Performed" or not isinstance(n.get("event"), str):
        return None
    return n["event"] if _plain_performed(n) else None


def _plain_performed(n: dict[str, Any]) -> bool:
    times, op = n.get("times"), n.get("timesOperator")
    once = times in (None, 1) and op in (None, ">=")
    return once and n.get("withinSeconds") is None and n.get("timeOperator") in (None,) and not n.get("properties")


def translate_segment(definition: Any) -> Translation:
    """The condition for a ``SegmentDefinition`` (``None`` with the reasons when not translatable)."""
    if not isinstance(definition, dict) or not isinstance(definition.get("entryNode"), dict):
        return Translation(None, ["the segment definition has no entryNode object"])
    raw = definition.get("nodes") if isinstance(definition.get("nodes"), list) else []
    nodes = {n["id"]: n for n in raw if isinstance(n, dict) and isinstance(n.get("id"), str)}
    problems: list[str] = []
    cond = _node(definition["entryNode"], nodes, problems, set())
    return Translation(None if problems else cond, problems)


def _node(n: dict[str, Any], nodes: dict[Any, dict[str, Any]], problems: list[str], seen: set[Any]) -> str:
    t = n.get("type")
    if t in ("And", "Or"):
        if str(n.get("id")) in seen:
            problems.append(f"segment node '{n.get('id')}' contains itself")
            return "false"
        seen = seen | {str(n.get("id"))}
        parts = []
        kids = n.get("children") if isinstance(n.get("children"), list) else []
        for c in kids:
            if not isinstance(c, str) or c not in nodes:
                problems.append(f"{t} node '{n.get('id')}' names child '{c}', which is not in nodes")
                continue
            parts.append(_node(nodes[c], nodes, problems, seen))
        if not parts:
            problems.append(f"{t} node '{n.get('id')}' has no children")
            return "false"
        joined = f" {t.lower()} ".join(f"({p})" if " and " in p or " or " in p else p for p in parts)
        return joined
    if t == "Trait":
        return _trait(n, problems)
    if t == "Performed":
        if isinstance(n.get("event"), str) and _plain_performed(n):
            return f"has_event({_literal(safe_name(n['event']))})"
        problems.append(f"Performed '{n.get('event')}' with a count, time window or property filter "
                        "has no equivalent in the condition language")
        return "false"
    if t == "Includes":
        if isinstance(n.get("path"), str) and isinstance(n.get("item"), str):
            return f"{_literal(n['item'])} in {field_name(n['path'])}"
        problems.append("Includes node without a string path and item")
        return "false"
    if t == "Everyone":
        return "true"
    problems.append(f"segment node type {t!r} has no equivalent in the condition language")
    return "false"


def _trait(n: dict[str, Any], problems: list[str]) -> str:
    path, op = n.get("path"), n.get("operator")
    if not isinstance(path, str) or not isinstance(op, dict):
        problems.append("Trait node without a path and an operator object")
        return "false"
    f, kind = field_name(path), op.get("type")
    value = op.get("value")
    if isinstance(kind, str) and kind in _TRAIT_OPS and isinstance(value, (str, int, float)) \
            and not isinstance(value, bool):
        if kind in ("GreaterThanOrEqual", "LessThan") and not isinstance(value, (int, float)):
            problems.append(f"Trait '{path}' {kind} compares with a non-number {value!r}")
            return "false"
        return f"{f} {_TRAIT_OPS[kind]} {_literal(value)}"
    if kind == "Exists":
        return f"{f} != null"
    if kind == "NotExists":
        return f"{f} == null"
    problems.append(f"Trait '{path}' operator {kind!r} has no equivalent in the condition language")
    return "false"
