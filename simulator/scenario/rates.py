"""A ``poisson`` event's ``rate_per_day``: one number, or one rate per value of an attribute.

``rate_per_day: 0.05`` gives every customer the same rate. ``rate_per_day: {by: tier, values: {gold: 0.2,
basic: 0.05}, default: 0.01}`` gives each customer the rate listed for the value their ``tier`` attribute
was drawn with (the population's initial value); ``default`` covers values not listed (without it,
the validator requires every value the attribute can take to be listed). docs/response.md.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.scenario.distributions import DistributionError

__all__ = ["RateByAttribute", "parse_rate", "rate_spec", "rate_upper", "customer_rates", "value_key"]

_KEYS = ("by", "values", "default")
_EXAMPLE = "{by: tier, values: {gold: 0.2, basic: 0.05}, default: 0.05}"


def value_key(value: Any) -> str:
    """The text an attribute value is matched by: ``true``/``false``, ``3``, ``2.5``, or the string."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return str(int(f)) if f.is_integer() else repr(f)
    return str(value)


@dataclass(frozen=True)
class RateByAttribute:
    """Rates per day keyed by the value of attribute ``by``; ``default`` for values not listed."""

    by: str
    values: tuple[tuple[Any, float], ...]  # (value as written, rate per day)
    default: float | None = None

    @property
    def by_key(self) -> dict[str, float]:
        return {value_key(v): r for v, r in self.values}

    def __repr__(self) -> str:
        return f"RateByAttribute({rate_spec(self)!r})"


def _rate(value: Any, what: str, subpath: tuple[Any, ...]) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise _RateError(f"{what} must be a number of occurrences per customer per day, >= 0; got {value!r}",
                         subpath)
    return float(value)


class _RateError(DistributionError):
    """A bad ``rate_per_day``; ``subpath`` is the key path inside it (reported like a distribution's)."""


def parse_rate(value: Any) -> float | RateByAttribute:
    """A number >= 0, or ``{by, values, default}`` (see the module docstring)."""
    if not isinstance(value, Mapping):
        return _rate(value, "rate_per_day", ())
    from simulator.scenario.units import did_you_mean

    for key in value:
        if key not in _KEYS:
            guess = did_you_mean(str(key), _KEYS)
            raise _RateError(f"unknown key '{key}' in rate_per_day"
                             + (f"; did you mean '{guess}'?" if guess else f"; expected {', '.join(_KEYS)}"
                                f", e.g. {_EXAMPLE}"), (key,))
    by = value.get("by")
    if not isinstance(by, str) or not by:
        raise _RateError(f"rate_per_day by attribute needs 'by: <attribute name>', e.g. {_EXAMPLE}", ("by",))
    values = value.get("values")
    if not isinstance(values, Mapping) or not values:
        raise _RateError(f"rate_per_day by attribute needs 'values:', a map of attribute value -> rate per day, "
                         f"e.g. {_EXAMPLE}", ("values",))
    seen: dict[str, Any] = {}
    parsed = []
    for k, r in values.items():
        if value_key(k) in seen:
            raise _RateError(f"value '{k}' is listed twice (also as {seen[value_key(k)]!r})", ("values", k))
        seen[value_key(k)] = k
        parsed.append((k, _rate(r, f"the rate for {by} '{k}'", ("values", k))))
    default = value.get("default")
    return RateByAttribute(by, tuple(parsed), None if default is None else _rate(default, "default", ("default",)))


def rate_spec(rate: float | RateByAttribute) -> Any:
    """What a user writes for ``rate`` (round-trips through :func:`parse_rate`)."""
    if isinstance(rate, RateByAttribute):
        out: dict[str, Any] = {"by": rate.by, "values": dict(rate.values)}
        if rate.default is not None:
            out["default"] = rate.default
        return out
    return rate


def rate_upper(rate: float | RateByAttribute) -> float:
    """The highest rate any customer can have (resource estimates)."""
    if isinstance(rate, RateByAttribute):
        return max([r for _, r in rate.values] + ([rate.default] if rate.default is not None else []))
    return rate


def customer_rates(rate: float | RateByAttribute, attributes: Mapping[str, np.ndarray], n: int) -> float | np.ndarray:
    """Rate per day of each of the first ``n`` customers: ``rate`` itself when it is one number (so the
    draws made from it are unchanged), else an array looked up from the attribute column ``by``.
    A value with no rate and no ``default`` raises ValueError (the validator reports it first)."""
    if not isinstance(rate, RateByAttribute):
        return rate
    column = attributes[rate.by][:n]
    table = rate.by_key
    out = np.empty(n, dtype=np.float64)
    cache: dict[Any, float] = {}
    for i, v in enumerate(column.tolist()):
        r = cache.get((type(v), v))
        if r is None:
            k = value_key(v)
            if k in table:
                r = table[k]
            elif rate.default is not None:
                r = rate.default
            else:
                raise ValueError(f"no rate for {rate.by} {v!r} and no default")
            cache[(type(v), v)] = r
        out[i] = r
    return out
