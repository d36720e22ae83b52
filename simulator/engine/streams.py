"""Per-customer random streams: counter-based draws that never depend on other customers.

A run split into customer shards (docs/architecture.md) must give every customer the same draws
whichever shard it is in and whatever the other customers draw, and in whatever order. So every
draw the engine makes while the clock runs is a pure function of four numbers: the stream's key,
the customer's index, and how many draws the customer already took from that stream:

    h = SplitMix64(key + customer * 0x9E3779B97F4A7C15 + n * 0xD1B54A32D192ED03)   (mod 2**64)
    u = ((h >> 12) + 0.5) * 2**-52                                                  (0 < u < 1)

(:func:`unit`; :func:`units` is the same in numpy). ``u`` lies on the 2**52 midpoints of
[0, 1), never 0 or 1, and ``1 - u`` is another of them, exactly. A :class:`Stream` is named like
:func:`simulator.engine.population.child_rng` (``"channel:esp"``, ``"split:welcome"``); its key is the first
64-bit word of the ``SeedSequence([seed_base, crc32(name)])`` that ``child_rng`` would seed, so two
names never share draws and a name's draws depend only on the run's seed. ``Stream.of(customer)``
gives a :class:`CustomerDraws`, which :meth:`Distribution.sample <simulator.scenario.distributions.Distribution.sample>`
accepts in place of a numpy Generator. Each of its methods turns the customer's next uniforms into
a draw by the inverse CDF, one uniform per value:

- ``random()``: ``u``; ``uniform(low, high)``: ``low + u * (high - low)``;
- ``exponential(scale)``: ``-scale * log(1 - u)``;
- ``normal(loc, scale)``: ``loc + scale * Phi^-1(u)`` with :meth:`statistics.NormalDist.inv_cdf`
  (Wichura's AS241, about 16 digits; not Box-Muller, which needs two uniforms per value); a
  truncated normal redraws, each redraw taking the customer's next uniform;
- ``lognormal(mean, sigma)``: ``exp(normal(mean, sigma))``;
- ``choice(a, p=None)``: index ``floor(u * len(a))``, or with weights the first index whose
  cumulative weight exceeds ``u * sum(p)`` (a zero weight is never chosen).

Anything else (``integers``, ``poisson``, ...) raises :class:`AttributeError`: a draw the engine
adds later must be written here, never taken silently from a shared generator. Draw counters are
one ``array('i')`` per stream, made at its first draw (4 bytes per customer; a dict was as fast but
took 70 MB per stream at a million customers).
"""

from __future__ import annotations

import math
import zlib
from array import array
from bisect import bisect_right
from itertools import accumulate
from statistics import NormalDist
from typing import Any

import numpy as np

__all__ = ["Stream", "CustomerDraws", "stream_key", "splitmix", "unit", "units", "unit_exponential",
           "unit_exponentials"]

_GOLDEN, _ODD = 0x9E3779B97F4A7C15, 0xD1B54A32D192ED03
_M64 = (1 << 64) - 1
_MIX1, _MIX2 = 0xBF58476D1CE4E5B9, 0x94D049BB133111EB
_STEP = 2.0**-52
_inv_cdf = NormalDist().inv_cdf
_log, _exp = math.log, math.exp


def stream_key(seed_base: int, name: str) -> int:
    """The 64-bit key of stream ``name`` in a run: the first word of ``child_rng``'s SeedSequence."""
    entropy = [int(seed_base), zlib.crc32(name.encode())]
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0])


def splitmix(key: int, customer: int, n: int) -> int:
    """The SplitMix64 hash of (key, customer, n): the one function every per-customer draw comes from."""
    z = (key + customer * _GOLDEN + n * _ODD) & _M64
    z = ((z ^ (z >> 30)) * _MIX1) & _M64
    z = ((z ^ (z >> 27)) * _MIX2) & _M64
    return z ^ (z >> 31)


def unit(key: int, customer: int, n: int) -> float:
    """The ``n``-th uniform of ``customer`` in stream ``key``, in the open interval (0, 1)."""
    return ((splitmix(key, customer, n) >> 12) + 0.5) * _STEP


def units(key: int, customers: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`unit` for arrays of customers and draw indexes (uint64 wrapping arithmetic: the same bits)."""
    z = np.uint64(key) + customers.astype(np.uint64) * np.uint64(_GOLDEN) + n.astype(np.uint64) * np.uint64(_ODD)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(_MIX1)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(_MIX2)
    z ^= z >> np.uint64(31)
    return ((z >> np.uint64(12)).astype(np.float64) + 0.5) * _STEP


def unit_exponential(key: int, customer: int, n: int) -> float:
    """``-log(unit(key, customer, n))``: an Exp(1) draw (the response model's time change)."""
    return -_log(unit(key, customer, n))


def unit_exponentials(key: int, customers: np.ndarray, n: np.ndarray) -> np.ndarray:
    """:func:`unit_exponential` for arrays (numpy's logarithm may differ from math's in the last place;
    the response model always takes a given draw from the same one of the two)."""
    return -np.log(units(key, customers, n))


class Stream:
    """One named per-customer stream of a run; ``size`` is the population's (customers ``0..size-1``)."""

    __slots__ = ("name", "key", "size", "counts")

    def __init__(self, seed_base: int, name: str, size: int):
        self.name = name
        self.key = stream_key(seed_base, name)
        self.size = int(size)
        self.counts: array | None = None  # draws taken per customer; made at the first draw

    def of(self, customer: int) -> CustomerDraws:
        """The draws of ``customer`` (a Generator-like view for ``Distribution.sample``)."""
        return CustomerDraws(self, customer)

    def taken(self, customer: int) -> int:
        """How many draws ``customer`` has taken from this stream."""
        return 0 if self.counts is None else self.counts[customer]

    def next_unit(self, customer: int) -> float:
        """``customer``'s next uniform in (0, 1) (:func:`unit`, inlined: this is the engine's hot path)."""
        counts = self.counts
        if counts is None:
            counts = self.counts = array("i", bytes(4 * self.size))
        n = counts[customer]
        counts[customer] = n + 1
        z = (self.key + customer * _GOLDEN + n * _ODD) & _M64
        z = ((z ^ (z >> 30)) * _MIX1) & _M64
        z = ((z ^ (z >> 27)) * _MIX2) & _M64
        return (((z ^ (z >> 31)) >> 12) + 0.5) * _STEP

    def __repr__(self) -> str:
        return f"Stream({self.name!r})"


_METHODS = ("random", "uniform", "exponential", "normal", "lognormal", "choice")


class CustomerDraws:
    """One customer's draws from one :class:`Stream`, with the numpy Generator methods that
    :mod:`simulator.scenario.distributions` calls (``size=None``: a float; else an ndarray)."""

    __slots__ = ("stream", "customer")

    def __init__(self, stream: Stream, customer: int):
        self.stream = stream
        self.customer = customer

    def _units(self, size: Any) -> list[float]:
        count = size if type(size) is int else math.prod(size)
        nxt, c = self.stream.next_unit, self.customer
        return [nxt(c) for _ in range(count)]

    @staticmethod
    def _array(values: list[Any], size: Any) -> np.ndarray:
        out = np.array(values)
        return out if type(size) is int else out.reshape(size)

    def random(self, size: Any = None) -> Any:
        if size is None or size == 1:  # one value (Distribution.sample asks for size 1): the hot path
            u = self.stream.next_unit(self.customer)
            return u if size is None else np.array((u,))
        return self._array(self._units(size), size)

    def uniform(self, low: float = 0.0, high: float = 1.0, size: Any = None) -> Any:
        if size is None or size == 1:
            x = low + self.stream.next_unit(self.customer) * (high - low)
            return x if size is None else np.array((x,))
        return self._array([low + u * (high - low) for u in self._units(size)], size)

    def exponential(self, scale: float = 1.0, size: Any = None) -> Any:
        if size is None or size == 1:
            x = -scale * _log(1.0 - self.stream.next_unit(self.customer))
            return x if size is None else np.array((x,))
        return self._array([-scale * _log(1.0 - u) for u in self._units(size)], size)

    def normal(self, loc: float = 0.0, scale: float = 1.0, size: Any = None) -> Any:
        if size is None or size == 1:
            x = loc + scale * _inv_cdf(self.stream.next_unit(self.customer))
            return x if size is None else np.array((x,))
        return self._array([loc + scale * _inv_cdf(u) for u in self._units(size)], size)

    def lognormal(self, mean: float = 0.0, sigma: float = 1.0, size: Any = None) -> Any:
        if size is None or size == 1:
            x = _exp(mean + sigma * _inv_cdf(self.stream.next_unit(self.customer)))
            return x if size is None else np.array((x,))
        return self._array([_exp(mean + sigma * _inv_cdf(u)) for u in self._units(size)], size)

    def choice(self, a: Any, size: Any = None, replace: bool = True, p: Any = None) -> Any:
        """An element of ``a`` (or an index below ``a`` when it is an int), with replacement only."""
        if not replace:
            raise ValueError("per-customer streams draw with replacement only (replace=False is not supported)")
        n = a if isinstance(a, (int, np.integer)) else len(a)
        if n <= 0:
            raise ValueError("choice needs a non-empty population")
        us = self._units(1 if size is None else size)
        if p is None:
            idx = [min(int(u * n), n - 1) for u in us]
        else:
            weights = [float(w) for w in np.asarray(p, dtype=np.float64).reshape(-1)]
            if len(weights) != n or min(weights) < 0 or not math.isclose(math.fsum(weights), 1.0, abs_tol=1e-8):
                raise ValueError(f"choice probabilities must be {n} non-negative numbers adding up to 1, got {p!r}")
            cum = list(accumulate(weights))
            last = max(i for i, w in enumerate(weights) if w > 0)
            idx = [min(bisect_right(cum, u * cum[-1]), last) for u in us]
        picked = np.asarray(idx, dtype=np.int64) if isinstance(a, (int, np.integer)) else np.asarray(a)[idx]
        if size is None:
            return picked[0]
        return picked if type(size) is int else picked.reshape(size)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"per-customer stream {self.stream.name!r} has no method {name!r}: it draws only "
                             f"with {', '.join(_METHODS)} (add the draw to simulator/engine/streams.py)")

    def __repr__(self) -> str:
        return f"CustomerDraws({self.stream.name!r}, customer={self.customer})"
