"""Marketing Cloud filter XML (``<FilterDefinition>``) -> the scenario condition language.

Journey Builder stores decision-split, entry and exit criteria as a ``FilterDefinition``: nested
``ConditionSet`` elements (``Operator="AND"``/``"OR"``) of ``Condition`` elements, each with the
attribute in ``Key`` (``Event.<event key>.<Field>`` or ``<Attribute group>.<Field>``), an
``Operator`` and a ``<Value>``. The translation is all or nothing: a filter with one condition we
cannot translate is returned untranslated, because dropping a conjunct would change who matches.

Operators translated (anything else is reported verbatim): ``Equal``/``Is`` (==), ``NotEqual``/
``IsNot`` (!=), ``GreaterThan``, ``GreaterThanOrEqual``, ``LessThan``, ``LessThanOrEqual``,
``IsNull`` (== null), ``IsNotNull`` (!= null), ``Contains`` ('v' in field), ``NotContains``/
``DoesNotContain`` ('v' not in field).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from simulator.errors import ConditionError
from simulator.scenario.conditions import compile_condition

__all__ = ["Translation", "translate_filter", "field_name", "filter_keys"]

_COMPARE = {
    "equal": "==", "is": "==", "notequal": "!=", "isnot": "!=",
    "greaterthan": ">", "greaterthanorequal": ">=", "lessthan": "<", "lessthanorequal": "<=",
}
_NULL = {"isnull": "==", "isnotnull": "!="}
_CONTAINS = {"contains": "in", "notcontains": "not in", "doesnotcontain": "not in"}
_FIELD_BAD = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class Translation:
    """``condition`` (None when not translatable), the fields it reads and why it failed."""

    condition: str | None
    fields: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    #: keys read from Journey Data (``Event.<entry event key>.<field>``: the entry-time snapshot)
    snapshot: tuple[str, ...] = ()


def field_name(key: str) -> str:
    """The scenario field for an attribute key: its last dotted part, made a valid field name
    (``Event.DEAudience-1.Loyalty Tier`` -> ``Loyalty_Tier``; ``2ndVisit`` -> ``f_2ndVisit``)."""
    last = key.strip().strip('"').split(".")[-1].strip().strip('"[]')
    name = _FIELD_BAD.sub("_", last).strip("_")
    if not name or not name[0].isalpha():
        name = "f_" + name
    return name[:100]


def filter_keys(xml: str) -> tuple[str, ...]:
    """Every ``Condition`` ``Key`` the filter names, in order, translated or not (``()`` for XML that
    does not parse); a condition naming its attribute only by ``ID`` adds nothing."""
    try:
        root = ET.fromstring(xml.strip())
    except ET.ParseError:
        return ()
    return tuple(dict.fromkeys(k.strip() for el in root.iter("Condition") if (k := el.get("Key") or "").strip()))


def _literal(text: str, as_string: bool) -> str:
    if not as_string:
        low = text.strip().lower()
        if low in ("true", "false"):
            return low
        try:
            number = float(text.strip())
        except ValueError:
            pass
        else:
            if number == number and abs(number) != float("inf"):
                return repr(int(number)) if number == int(number) and "." not in text else repr(number)
    return repr(text)


def _condition(el: ET.Element, fields: list[str], problems: list[str], snapshot: list[str]) -> str | None:
    key = el.get("Key")
    op = (el.get("Operator") or "").strip()
    if not key:
        problems.append(f"condition with Operator={op!r} names its attribute only by ID "
                        f"({el.get('ID') or 'none'}), not by Key")
        return None
    if (el.get("ValueIsReference") or "").lower() == "true":
        problems.append(f"condition on {key} compares to another attribute (ValueIsReference)")
        return None
    f = field_name(key)
    if key.strip().startswith("Event."):
        snapshot.append(key.strip())
    value_el = el.find("Value")
    value = (value_el.text or "") if value_el is not None else ""
    low = op.lower()
    if low in _NULL:
        fields.append(f)
        return f"{f} {_NULL[low]} null"
    if low in _COMPARE:
        fields.append(f)
        return f"{f} {_COMPARE[low]} {_literal(value, as_string=False)}"
    if low in _CONTAINS:
        fields.append(f)
        return f"{_literal(value, as_string=True)} {_CONTAINS[low]} {f}"
    problems.append(f"operator {op!r} on {key} has no equivalent in the condition language")
    return None


def _set(el: ET.Element, fields: list[str], problems: list[str], snapshot: list[str]) -> str | None:
    joiner = (el.get("Operator") or "AND").strip().upper()
    if joiner not in ("AND", "OR"):
        problems.append(f"ConditionSet Operator={joiner!r} (expected AND or OR)")
        return None
    parts = []
    for child in el:
        if child.tag == "Condition":
            text = _condition(child, fields, problems, snapshot)
        elif child.tag == "ConditionSet":
            text = _set(child, fields, problems, snapshot)
            if text is not None and len([c for c in child if c.tag in ("Condition", "ConditionSet")]) > 1:
                text = f"({text})"
        else:
            continue
        if text is None:
            return None
        parts.append(text)
    if not parts:
        problems.append("empty ConditionSet")
        return None
    return f" {joiner.lower()} ".join(parts)


def translate_filter(xml: str) -> Translation:
    """Translate one FilterDefinition; never raises on bad input (the problem is returned)."""
    fields: list[str] = []
    problems: list[str] = []
    snapshot: list[str] = []
    try:
        root = ET.fromstring(xml.strip())
    except ET.ParseError as exc:
        return Translation(None, (), (f"not well-formed XML: {exc}",))
    sets = [root] if root.tag == "ConditionSet" else [c for c in root if c.tag == "ConditionSet"]
    if root.tag not in ("FilterDefinition", "ConditionSet") or len(sets) != 1:
        return Translation(None, (), (f"expected <FilterDefinition> with one <ConditionSet>, got <{root.tag}> "
                                      f"with {len(sets)}",))
    text = _set(sets[0], fields, problems, snapshot)
    if text is None:
        return Translation(None, (), tuple(problems))
    try:
        compile_condition(text)
    except ConditionError as exc:  # e.g. a field called 'and'
        return Translation(None, (), (f"translated to {text!r}, which is not a valid condition: {exc}",))
    return Translation(text, tuple(dict.fromkeys(fields)), (), tuple(dict.fromkeys(snapshot)))
