"""Interval estimates for conversion rates and their differences (docs/projections.md#intervals).

- a rate ``x / n``: the Wilson score interval;
- a difference of two independent rates: Newcombe's hybrid score interval (his method 10), built
  from the two Wilson intervals;
- a ratio of two rates: the Katz log interval, ``exp(ln(r) +- z * sqrt(1/x1 - 1/n1 + 1/x0 - 1/n0))``,
  undefined when either count of conversions is 0.

All at 95% (``z = 1.959963...``, the 0.975 quantile of the standard normal).
"""

from __future__ import annotations

import math
from statistics import NormalDist

__all__ = ["Z95", "wilson", "newcombe", "katz_ratio", "signed_mean_interval"]

Z95 = NormalDist().inv_cdf(0.975)


def wilson(x: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of ``x`` successes in ``n`` trials; None when ``n == 0``."""
    if n <= 0:
        return None
    p = x / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    # exact ends: x = 0 gives low 0 and x = n gives high 1 (rounding would leave 1e-17 off)
    return (0.0 if x == 0 else max(0.0, centre - half)), (1.0 if x == n else min(1.0, centre + half))


def newcombe(x1: int, n1: int, x0: int, n0: int, z: float = Z95) -> tuple[float, float, float] | None:
    """``p1 - p0`` and its Newcombe hybrid score interval (``p = x / n``); None when either n is 0."""
    a, b = wilson(x1, n1, z), wilson(x0, n0, z)
    if a is None or b is None:
        return None
    p1, p0 = x1 / n1, x0 / n0
    (l1, u1), (l0, u0) = a, b
    d = p1 - p0
    return d, d - math.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), d + math.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)


def katz_ratio(x1: int, n1: int, x0: int, n0: int, z: float = Z95) -> tuple[float, float, float] | None:
    """``p1 / p0`` and its Katz log interval; None when a count of successes or trials is 0."""
    if min(x1, n1, x0, n0) <= 0:
        return None
    r = (x1 / n1) / (x0 / n0)
    se = math.sqrt(1 / x1 - 1 / n1 + 1 / x0 - 1 / n0)
    return r, r * math.exp(-z * se), r * math.exp(z * se)


def signed_mean_interval(values: list[float]) -> tuple[float, float, float]:
    """Mean of per-replication values and the normal-approximation 95% interval of the mean
    (``mean +- z * sd / sqrt(n)``, sd with n - 1), as for finding rates across replications but not
    clipped at 0: a lift can be negative. NaN ends for fewer than two values."""
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, math.nan, math.nan
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = Z95 * sd / math.sqrt(n)
    return mean, mean - half, mean + half
