"""Distributions of a scenario: one-key maps parsed into immutable, vectorised samplers.

``parse_distribution({"lognormal": {"median": "20m", "p95": "3h"}})`` returns a frozen
:class:`Lognormal`; ``sample(rng, size)`` draws from a :class:`numpy.random.Generator` (seconds for
durations). ``unit`` is ``"duration"`` (parameters parsed with :func:`parse_duration`),
``"number"`` (plain numbers) or ``"attribute"`` (plain numbers plus ``choice``, ``bernoulli``,
``faker`` and constant strings/bools for population attributes).
"""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any, ClassVar

import numpy as np

from .units import MAX_DURATION, did_you_mean, format_duration, parse_duration, parse_percentage_or_probability

__all__ = [
    "DistributionError", "Distribution", "Fixed", "Exponential", "Uniform", "Lognormal", "Normal",
    "Empirical", "Choice", "Bernoulli", "FakerField", "parse_distribution", "faker_providers",
    "NUMERIC_KINDS", "ATTRIBUTE_KINDS",
]

_STD = NormalDist()
Z95 = _STD.inv_cdf(0.95)
NUMERIC_KINDS = ("fixed", "exponential", "uniform", "lognormal", "normal", "empirical")
ATTRIBUTE_KINDS = ("choice", "bernoulli", "faker")
_EXAMPLES = {  # (durations, numbers)
    "fixed": ("{fixed: 30m}", "{fixed: 5}"),
    "exponential": ("{exponential: {mean: 30m}}", "{exponential: {mean: 5}}"),
    "uniform": ("{uniform: {low: 0s, high: 2h}}", "{uniform: {low: 0, high: 10}}"),
    "lognormal": ("{lognormal: {median: 20m, p95: 3h}}", "{lognormal: {median: 20, p95: 90}}"),
    "normal": ("{normal: {mean: 1h, sd: 10m}}", "{normal: {mean: 120, sd: 40}}"),
    "empirical": ("{empirical: [5m, 7m, 40m]}", "{empirical: [3, 5, 8]}"),
    "choice": ("{choice: {A: 0.8, B: 0.2}}",) * 2,
    "bernoulli": ("{bernoulli: 0.3}",) * 2,
    "faker": ("{faker: first_name}",) * 2,
}


class DistributionError(ValueError):
    """A distribution spec is invalid; ``subpath`` is the key path inside the spec (``('lognormal', 'p95')``)."""

    def __init__(self, message: str, subpath: tuple = ()):
        super().__init__(message)
        self.subpath = tuple(subpath)


def _example(kind: str, unit: str) -> str:
    return _EXAMPLES[kind][0 if unit == "duration" else 1]


_frozen = dataclass(frozen=True, repr=False)


@_frozen
class Distribution:
    """Base of all samplers. ``unit`` is how parameters are shown (``duration`` -> ``30m``).

    Subclasses set ``kind`` and ``keys``, (spec key, attribute) pairs, or one ``(None, attribute)``
    pair for a bare value (``{fixed: 30m}``); ``to_spec`` and ``repr`` are built from them.
    """

    unit: str = field(default="duration", kw_only=True)
    kind: ClassVar[str] = ""
    keys: ClassVar[tuple[tuple[str | None, str], ...]] = ()

    def sample(self, rng: np.random.Generator, size: Any = None) -> Any:
        """Draw one value (``size=None``) or an ndarray of ``size`` values."""
        out = self._draw(rng, 1 if size is None else size)
        if size is not None:
            return out
        one = out.reshape(-1)[0]
        return one.item() if isinstance(one, np.generic) else one

    def _draw(self, rng: np.random.Generator, size: Any) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        """The analytic mean (seconds for durations); TypeError for non-numeric distributions."""
        raise TypeError(f"{self!r} has no mean")

    def quantile(self, q: float) -> float:
        """The value below which a share ``q`` of draws fall (analytic)."""
        raise TypeError(f"{self!r} has no quantiles")

    def to_spec(self) -> dict[str, Any]:
        """The canonical one-key map; ``parse_distribution(d.to_spec(), d.unit) == d``."""
        if self.keys[0][0] is None:
            return {self.kind: self._fmt(getattr(self, self.keys[0][1]))}
        return {self.kind: {k: self._fmt(getattr(self, a)) for k, a in self.keys}}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}=" * (k is not None) + self._show(getattr(self, a)) for k, a in self.keys)
        return f"{type(self).__name__}({inner})"

    def _fmt(self, x: Any) -> Any:
        """A parameter in the user's units: ``'30m'`` for durations, the number otherwise."""
        if isinstance(x, tuple):
            return [self._fmt(v) for v in x]
        return format_duration(x) if self.unit == "duration" and isinstance(x, float) else x

    def _show(self, x: Any) -> str:
        if isinstance(x, tuple):
            more = f", ... ({len(x)} values)" if len(x) > 5 else ""
            return "[" + ", ".join(self._show(v) for v in x[:5]) + more + "]"
        if not isinstance(x, float):
            return str(x)
        return format_duration(x) if self.unit == "duration" else format(x, ".12g")


def _check_q(q: float) -> float:
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"invalid quantile {q!r}: expected a number from 0 to 1, such as 0.95")
    return float(q)


@_frozen
class Fixed(Distribution):
    """Always ``value`` (for ``unit="attribute"`` it may also be a string or bool)."""

    value: Any
    kind, keys = "fixed", ((None, "value"),)

    def _draw(self, rng, size):
        return np.full(size, self.value, dtype=np.float64 if isinstance(self.value, float) else object)

    @property
    def mean(self) -> float:
        return self.value if isinstance(self.value, float) else super().mean

    def quantile(self, q: float) -> float:
        _check_q(q)
        return self.mean


@_frozen
class Exponential(Distribution):
    """Exponential waiting time with the given mean."""

    mean_value: float
    kind, keys = "exponential", (("mean", "mean_value"),)

    def _draw(self, rng, size):
        return rng.exponential(self.mean_value, size)

    @property
    def mean(self) -> float:
        return self.mean_value

    def quantile(self, q: float) -> float:
        return math.inf if _check_q(q) == 1.0 else -self.mean_value * math.log1p(-q)


@_frozen
class Uniform(Distribution):
    """Uniform on ``[low, high)``."""

    low: float
    high: float
    kind, keys = "uniform", (("low", "low"), ("high", "high"))

    def _draw(self, rng, size):
        return rng.uniform(self.low, self.high, size)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    def quantile(self, q: float) -> float:
        return self.low + _check_q(q) * (self.high - self.low)


@_frozen
class Lognormal(Distribution):
    """Lognormal with log-space ``mu``/``sigma``; ``median``/``p95`` keep the user's form when given."""

    mu: float
    sigma: float
    median: float | None = field(default=None, compare=False)
    p95: float | None = field(default=None, compare=False)
    kind = "lognormal"

    @classmethod
    def from_median_p95(cls, median: float, p95: float, unit: str = "duration") -> Lognormal:
        """mu = ln(median), sigma = (ln(p95) - mu) / z(0.95)."""
        mu = math.log(median)
        return cls(mu, (math.log(p95) - mu) / Z95, median, p95, unit=unit)

    @property
    def keys(self):  # type: ignore[override]
        return (("median", "median"), ("p95", "p95")) if self.median is not None else ()

    def _draw(self, rng, size):
        return rng.lognormal(self.mu, self.sigma, size)

    @property
    def mean(self) -> float:
        return math.exp(self.mu + self.sigma**2 / 2)

    def quantile(self, q: float) -> float:
        q = _check_q(q)
        if q in (0.0, 1.0):
            return 0.0 if q == 0.0 else math.inf
        return math.exp(self.mu + self.sigma * _STD.inv_cdf(q))

    def to_spec(self):
        return super().to_spec() if self.keys else {"lognormal": {"mu": self.mu, "sigma": self.sigma}}

    def __repr__(self):
        return super().__repr__() if self.keys else f"Lognormal(mu={self.mu:.6g}, sigma={self.sigma:.6g})"


@_frozen
class Normal(Distribution):
    """Normal; for durations truncated at 0 (rejection sampling, so a proper truncated normal)."""

    mean_value: float
    sd: float
    kind, keys = "normal", (("mean", "mean_value"), ("sd", "sd"))

    def __post_init__(self) -> None:
        if not self.sd > 0 or (self.truncated and self.mean_value < 0):
            raise ValueError(f"Normal needs sd > 0 (and mean >= 0 for durations), got {self!r}")

    @property
    def truncated(self) -> bool:
        """True for durations: the distribution is conditioned on >= 0."""
        return self.unit == "duration"

    def _draw(self, rng, size):
        out = rng.normal(self.mean_value, self.sd, size)
        if self.truncated:
            bad = out < 0
            while bad.any():  # acceptance >= 1/2 because a duration mean is >= 0
                out[bad] = rng.normal(self.mean_value, self.sd, int(bad.sum()))
                bad = out < 0
        return out

    @property
    def mean(self) -> float:
        if not self.truncated:
            return self.mean_value
        alpha = -self.mean_value / self.sd
        return self.mean_value + self.sd * _STD.pdf(alpha) / (1 - _STD.cdf(alpha))

    def quantile(self, q: float) -> float:
        lo = _STD.cdf(-self.mean_value / self.sd) if self.truncated else 0.0
        p = lo + _check_q(q) * (1 - lo)
        if p <= 0.0 or p >= 1.0:
            return -math.inf if p <= 0.0 else math.inf
        x = self.mean_value + self.sd * _STD.inv_cdf(p)
        return max(0.0, x) if self.truncated else x


@_frozen
class Empirical(Distribution):
    """Resamples the given values uniformly with replacement."""

    values: tuple[float, ...]
    kind, keys = "empirical", ((None, "values"),)

    def _draw(self, rng, size):
        return rng.choice(np.asarray(self.values, dtype=np.float64), size)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    def quantile(self, q: float) -> float:
        return float(np.quantile(self.values, _check_q(q)))


@_frozen
class Choice(Distribution):
    """One of ``options`` (value, weight) pairs; samples are an object ndarray."""

    options: tuple[tuple[Any, float], ...]
    kind = "choice"

    def _draw(self, rng, size):
        values = np.empty(len(self.options), dtype=object)
        values[:] = [v for v, _ in self.options]
        weights = np.array([w for _, w in self.options])
        return values[rng.choice(len(values), size, p=weights / weights.sum())]

    @property
    def mean(self) -> float:
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v, _ in self.options):
            return super().mean
        return sum(v * w for v, w in self.options) / sum(w for _, w in self.options)

    def to_spec(self):
        return {"choice": dict(self.options)}

    def __repr__(self):
        return f"Choice({dict(self.options)!r})"


@_frozen
class Bernoulli(Distribution):
    """``True`` with probability ``p``; samples are a bool ndarray."""

    p: float
    kind, keys = "bernoulli", ((None, "p"),)

    def _draw(self, rng, size):
        return rng.random(size) < self.p

    @property
    def mean(self) -> float:
        return self.p


@functools.cache
def _faker() -> Any:
    from faker import Faker  # imported lazily: slow, and only population attributes need it

    return Faker()


@functools.cache
def faker_providers() -> frozenset[str]:
    """Names of Faker provider methods callable without arguments (``first_name``, ``email``, ...)."""
    names = set()
    for provider in _faker().get_providers():
        for name in dir(provider):
            attr = getattr(provider, name, None) if not name.startswith("_") else None
            if attr is None or not callable(attr) or inspect.isclass(attr):
                continue
            params = inspect.signature(attr).parameters.values()
            if all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
                names.add(name)
    return frozenset(names)


@_frozen
class FakerField(Distribution):
    """Fake values from a Faker provider, seeded from the generator; samples are an object ndarray."""

    provider: str
    kind, keys = "faker", ((None, "provider"),)

    def _draw(self, rng, size):
        fake = _faker()
        fake.seed_instance(int(rng.integers(0, 2**63 - 1)))
        make = getattr(fake, self.provider)
        out = np.empty(int(np.prod(size)), dtype=object)
        out[:] = [make() for _ in range(out.size)]
        return out.reshape(size)


# ----------------------------------------------------------------------------------- parsing


def _value(raw: Any, unit: str, path: tuple, kind: str) -> float:
    """One parameter: a duration (unit="duration") or a finite plain number."""
    if unit == "duration":
        try:
            return parse_duration(raw)
        except ValueError as exc:
            raise DistributionError(str(exc), path) from None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool) and math.isfinite(raw):
        return float(raw)
    raise DistributionError(f"invalid number {raw!r} for {'.'.join(map(str, path))}: expected a plain "
                            f"number, such as {_example(kind, unit)}", path)


def _params(kind: str, params: Any, unit: str, *forms: tuple[str, ...], numbers: tuple = ()) -> dict[str, float]:
    """Check a parameter map against the allowed key sets ``forms``; return the parsed values.

    Keys in ``numbers`` are always plain numbers (lognormal ``mu``/``sigma`` are log-space).
    """
    example = _example(kind, unit)
    want = ("either " if len(forms) > 1 else "") + ", or ".join(" and ".join(f"'{k}'" for k in f) for f in forms)
    if not isinstance(params, Mapping):
        hint = f"; did you mean {{{kind}: {{{forms[0][0]}: {params}}}}}?" if len(forms[0]) == 1 else ""
        raise DistributionError(f"{kind} expects a map with {want}, such as {example}; got {params!r}{hint}",
                                (kind,))
    allowed = [k for form in forms for k in form]
    for key in params:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            tail = f"; did you mean '{hint}'?" if hint else ""
            raise DistributionError(f"unknown key '{key}' in {kind}: expected {want}, such as {example}{tail}",
                                    (kind, key))
    form = next((f for f in forms if set(f) == set(params)), None)
    if form is None:
        used = [f for f in forms if set(f) & set(params)]
        if len(used) > 1:
            raise DistributionError(f"{kind} mixes two forms: expected {want}, such as {example}", (kind,))
        missing = " and ".join(f"'{k}'" for k in (used or forms)[0] if k not in params)
        raise DistributionError(f"{kind} is missing {missing}: expected {want}, such as {example}", (kind,))
    return {k: _value(params[k], "number" if k in numbers else unit, (kind, k), kind) for k in form}


def _positive(kind: str, key: str, value: float, unit: str, note: str = "") -> None:
    if value <= 0:
        raise DistributionError(f"{kind} {key} must be greater than 0, such as {_example(kind, unit)}{note}",
                                (kind, key))


def _bounded_log_space(mu: float, sigma: float, unit: str) -> None:
    """exp(mu + 10 sigma) must be a finite float, and for durations exp(mu + 3.09 sigma) (the 99.9th
    percentile) at most 100 years: otherwise samples overflow to infinity or lie past any date."""
    if mu + 10 * sigma > 700:
        raise DistributionError(f"lognormal mu {mu:g} and sigma {sigma:g} give samples too large for a number "
                                "(exp(mu + 10 sigma) overflows); mu and sigma are in log space, such as "
                                f"{_example('lognormal', unit)}", ("lognormal", "sigma"))
    if unit == "duration" and mu + 3.09 * sigma > math.log(MAX_DURATION):
        raise DistributionError(f"lognormal mu {mu:g} and sigma {sigma:g} put the 99.9th percentile past 36500d "
                                "(100 years), the longest duration a scenario may give; mu and sigma are the log "
                                "of seconds, such as {lognormal: {mu: 7, sigma: 1}}", ("lognormal", "mu"))


def _parse_numeric(kind: str, params: Any, unit: str) -> Distribution:
    if kind == "fixed":
        if isinstance(params, (Mapping, list, tuple)):
            raise DistributionError(f"fixed expects a single value, such as {_example(kind, unit)}", (kind,))
        if unit == "attribute" and isinstance(params, (str, bool)):
            return Fixed(params, unit=unit)
        return Fixed(_value(params, unit, (kind,), kind), unit=unit)
    if kind == "exponential":
        mean = _params(kind, params, unit, ("mean",))["mean"]
        _positive(kind, "mean", mean, unit, "; for no delay use {fixed: 0s}" if unit == "duration" else "")
        return Exponential(mean, unit=unit)
    if kind == "uniform":
        p = _params(kind, params, unit, ("low", "high"))
        if p["low"] > p["high"]:
            raise DistributionError(f"uniform low ({params['low']}) must not be greater than high "
                                    f"({params['high']}), such as {_example(kind, unit)}", (kind, "high"))
        return Uniform(p["low"], p["high"], unit=unit)
    if kind == "lognormal":
        p = _params(kind, params, unit, ("median", "p95"), ("mu", "sigma"), numbers=("mu", "sigma"))
        if "sigma" in p:
            _positive(kind, "sigma", p["sigma"], unit)
            _bounded_log_space(p["mu"], p["sigma"], unit)
            return Lognormal(p["mu"], p["sigma"], unit=unit)
        _positive(kind, "median", p["median"], unit)
        if p["p95"] <= p["median"]:
            raise DistributionError(f"lognormal p95 ({params['p95']}) must be greater than the median "
                                    f"({params['median']}), such as {_example(kind, unit)}", (kind, "p95"))
        return Lognormal.from_median_p95(p["median"], p["p95"], unit)
    if kind == "normal":
        p = _params(kind, params, unit, ("mean", "sd"))
        _positive(kind, "sd", p["sd"], unit)
        return Normal(p["mean"], p["sd"], unit=unit)
    # empirical
    if not isinstance(params, (list, tuple)) or not params:
        raise DistributionError(f"empirical expects a non-empty list of values, such as "
                                f"{_example(kind, unit)}; got {params!r}", (kind,))
    return Empirical(tuple(_value(v, unit, (kind, i), kind) for i, v in enumerate(params)), unit=unit)


def _parse_attribute(kind: str, params: Any) -> Distribution:
    unit, example = "attribute", _example(kind, "attribute")
    if kind == "bernoulli":
        try:
            return Bernoulli(parse_percentage_or_probability(params), unit=unit)
        except ValueError as exc:
            raise DistributionError(f"{exc}; e.g. {example}", (kind,)) from None
    if kind == "faker":
        if not isinstance(params, str):
            raise DistributionError(f"faker expects the name of a Faker provider, such as {example}; "
                                    f"got {params!r}", (kind,))
        if params not in faker_providers():
            hint = did_you_mean(params, sorted(faker_providers()))
            tail = f"; did you mean '{hint}'?" if hint else ""
            raise DistributionError(f"unknown Faker provider '{params}': expected a provider such as "
                                    f"'first_name', 'last_name', 'email' or 'city'{tail}", (kind,))
        return FakerField(params, unit=unit)
    if not isinstance(params, Mapping) or not params:
        raise DistributionError(f"choice expects a map of values to weights, such as {example}; "
                                f"got {params!r}", (kind,))
    options = []
    for value, weight in params.items():
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0 \
                or not math.isfinite(weight):
            raise DistributionError(f"invalid weight {weight!r} for choice '{value}': expected a number "
                                    f">= 0, such as {example}", (kind, value))
        options.append((value, float(weight)))
    total = math.fsum(w for _, w in options)
    if abs(total - 1.0) > 1e-6:
        raise DistributionError(f"choice weights must add up to 1, but they add up to {total:.6g}; "
                                f"e.g. {example}", (kind,))
    return Choice(tuple(options), unit=unit)


def parse_distribution(value: Any, unit: str = "duration") -> Distribution:
    """Parse a one-key distribution map (or a bare scalar, meaning fixed) into a sampler.

    ``unit``: ``"duration"`` (parameters are durations, samples in seconds), ``"number"`` or
    ``"attribute"`` (numbers, plus ``choice``, ``bernoulli`` and ``faker``). Raises
    :class:`DistributionError` with ``subpath`` pointing at the offending key.
    """
    if unit not in ("duration", "number", "attribute"):
        raise ValueError(f"unknown distribution unit {unit!r}: expected 'duration', 'number' or 'attribute'")
    if isinstance(value, Distribution):
        return value
    kinds = NUMERIC_KINDS + (ATTRIBUTE_KINDS if unit == "attribute" else ())
    example = _example("lognormal", unit)
    if isinstance(value, (list, tuple)):
        raise DistributionError(f"a list is not a distribution; for measured values write "
                                f"{_example('empirical', unit)}")
    if not isinstance(value, Mapping):
        return _parse_numeric("fixed", value, unit)
    if len(value) != 1:
        found = ", ".join(f"'{k}'" for k in value) or "none"
        raise DistributionError(f"a distribution is a map with exactly one key naming it ({', '.join(kinds)}), "
                                f"such as {example}; found keys {found}")
    ((kind, params),) = value.items()
    if kind not in kinds:
        if kind in ATTRIBUTE_KINDS:
            raise DistributionError(f"'{kind}' is only allowed for population attributes; expected one of "
                                    f"{', '.join(kinds)}, such as {example}", (kind,))
        hint = did_you_mean(str(kind), kinds)
        tail = f"; did you mean '{hint}'?" if hint else ""
        raise DistributionError(f"unknown distribution '{kind}': expected one of {', '.join(kinds)}, "
                                f"such as {example}{tail}", (kind,))
    if kind in ATTRIBUTE_KINDS:
        return _parse_attribute(kind, params)
    return _parse_numeric(kind, params, unit)
