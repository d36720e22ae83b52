"""Scenario pieces of holdouts and projections (docs/projections.md).

- ``holdout: 10%`` on a journey: the share of customers drawn into a control group that enters the
  journey but is never messaged (parsed here into a fraction in (0, 1)).
- ``projections: {conversion: EVENT, window: DURATION, value: FIELD}`` at the top level: which truth
  event counts as a conversion, for how long after entry, and which field holds its revenue.
- The projection gate names (``conversion-lift``, ``conversion-lift-relative``, ``conversion-rate``) and
  their cross-reference checks, called from :mod:`simulator.scenario.semantics`.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Callable

__all__ = ["parse_holdout", "holdout_text", "PROJECTION_GATES", "is_projection_gate", "projection_issues"]

if TYPE_CHECKING:  # pragma: no cover
    from simulator.scenario.model import Scenario

#: Gate names judged on projections (docs/projections.md#gates), with what each measures.
PROJECTION_GATES: dict[str, str] = {
    "conversion-lift": "treated minus holdout conversion rate, in percentage points",
    "conversion-lift-relative": "treated over holdout conversion rate minus 1, in percent",
    "conversion-rate": "conversion rate of the treated arm (of all entrants without a holdout), in percent",
}

#: Field named by ``projections.value`` when the key is absent (used only if the field exists).
DEFAULT_VALUE_FIELD = "value"

_NUMBER = r"\d+(?:\.\d+)?"


def is_projection_gate(name: str) -> bool:
    return name in PROJECTION_GATES


def parse_holdout(value: object) -> float:
    """``'10%'``, ``10`` or ``'10'`` -> 0.1. The share must be above 0% and below 100%. A bare number
    below 1 (``0.1``) is refused as ambiguous (0.1% or 10%?): write it with a ``%``."""
    expected = "expected a percentage above 0% and below 100%, such as '10%' (or 10)"
    if isinstance(value, bool) or value is None:
        raise ValueError(f"invalid holdout {value!r}: {expected}")
    if isinstance(value, (int, float)):
        text, percent_sign = repr(value), False
    elif isinstance(value, str):
        text = value.strip()
        percent_sign = text.endswith("%")
        text = text[:-1].strip() if percent_sign else text
    else:
        raise ValueError(f"invalid holdout {value!r}: {expected}")
    if not re.fullmatch(_NUMBER, text):
        raise ValueError(f"invalid holdout {value!r}: {expected}")
    share = Fraction(text)
    if not percent_sign and 0 < share < 1:
        raise ValueError(f"ambiguous holdout {value!r}: a bare number is a percentage, so this would be "
                         f"{text}% of customers; write '{text}%' for that, or '{float(share * 100):g}%' "
                         f"for {float(share * 100):g} in 100")
    if share <= 0:
        raise ValueError(f"invalid holdout {value!r}: {expected}; remove the key for no holdout")
    if share >= 100:
        raise ValueError(f"invalid holdout {value!r}: {expected}; with 100% nobody would be messaged")
    return float(share / 100)


def holdout_text(share: float) -> str:
    """0.1 -> ``'10%'`` (what a user writes)."""
    return f"{share * 100:.15g}%"


def projection_issues(sc: Scenario, events: set[str], engagement: set[str], fields: set[str],
                      add: Callable[..., None], unknown: Callable[..., None]) -> None:
    """Cross-reference checks of ``projections`` and the projection gates. ``add(path, message, hint)``
    and ``unknown(path, what, value, options, fix)`` report an issue (the semantic checker's methods)."""
    proj = sc.projections
    population_events = sorted(e.name for e in sc.population.events)
    if proj is not None:
        name = proj.conversion
        if name in engagement:
            add(("projections", "conversion"), f"'{name}' is an engagement event; a conversion must be a "
                "population event (a holdout customer gets no messages, so it could never have one)",
                "define the conversion (e.g. purchase) under population.events")
        elif name not in events:
            unknown(("projections", "conversion"), "population event", name, population_events,
                    "define the conversion event (e.g. purchase) under population.events")
        if proj.value is not None and proj.value not in fields:
            unknown(("projections", "value"), "field", proj.value, fields,
                    "declare it as a population attribute or set it in the conversion event's sets")
    holdouts = [j.name for j in sc.journeys if j.holdout is not None]
    for key, (_op, value, percent) in sc.gates.items():
        if not is_projection_gate(key):
            if value < 0:
                add(("gates", key), f"gate '{key}': a finding rate or count cannot be negative",
                    "write e.g. \"< 0.5%\" or \"== 0\"")
            continue
        path: Any = ("gates", key)
        if proj is None:
            add(path, f"gate '{key}' judges projections, but the scenario has no projections",
                "add e.g. projections: {conversion: purchase} at the top level")
        elif key.startswith("conversion-lift") and not holdouts:
            add(path, f"gate '{key}' compares the treated arm with a holdout, but no journey has a (valid) holdout",
                "add e.g. holdout: 10% to the journey")
        if not percent:
            add(path, f"gate '{key}' needs a percentage (it judges a rate, not a count)",
                f"write e.g. {key}: \"> 2%\"")
