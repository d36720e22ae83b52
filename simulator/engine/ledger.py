"""Channel throughput as a ledger: one order for every send that waits for a channel, whoever runs it.

A channel with ``throughput`` is a FIFO virtual clock: a send accepted at ``t`` starts at
``max(t, previous start + 1/throughput)`` and is delivered its delivery delay after that start. Sends
accepted at the same instant take their places in the order of the **ledger key**
``(t, customer index, the customer's n-th send on that channel)``, never in the order the simulator
happened to process them, so the queue does not depend on how customers are split across processes.

Two ways to use the same clock (:class:`QueueClock`, the same float arithmetic in both):

- :class:`InlineQueue` (one process simulates everyone): every send accepted at an instant waits until
  the end of that instant, then they all take their places in ledger order.
- :class:`AssumedQueue` (a shard of a sharded run, :mod:`simulator.sharded`): the shard cannot see
  the other shards' sends, so it takes each send's start from a table of assumed starts (none yet:
  no wait) and records the request; :func:`settle` then computes every start from all shards'
  requests, and customers whose assumed starts were wrong are simulated again (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine import Engine

__all__ = ["QueueClock", "InlineQueue", "AssumedQueue", "queue_for", "settle", "AFTER_SENDS"]

#: SimPy priority of the first channel's end-of-instant queue pass: after the orchestrator's decisions
#: (2). Each channel has its own priority (``AFTER_SENDS`` + its rank in channel-name order), so the
#: passes of one instant run channel by channel whoever sent first.
AFTER_SENDS = 3

Started = Callable[[float], None]


class QueueClock:
    """A FIFO virtual clock: :meth:`take` gives a send accepted at ``t`` its start."""

    __slots__ = ("spacing", "next_free")

    def __init__(self, spacing: float):
        self.spacing = spacing
        self.next_free = 0.0

    def take(self, t: float) -> float:
        start = max(t, self.next_free)
        self.next_free = start + self.spacing
        return start


class _Queue:
    """Sends accepted at the current instant, placed in ledger order at its end."""

    __slots__ = ("engine", "channel", "pending", "counts", "priority")

    def __init__(self, engine: Engine, channel: str):
        self.engine = engine
        self.channel = channel
        self.priority = AFTER_SENDS + sorted(engine.scenario.channel_systems).index(channel)
        self.pending: list[tuple[int, int, Started]] = []
        self.counts: dict[int, int] = {}  # customer -> sends accepted so far on this channel

    def submit(self, customer: int, started: Started) -> None:
        """A send for ``customer`` accepted now; ``started(start)`` is called at the end of the instant."""
        n = self.counts.get(customer, 0) + 1
        self.counts[customer] = n
        if not self.pending:
            self.engine.at_end_of_instant(self._place, self.priority)
        self.pending.append((customer, n, started))

    def _place(self) -> None:
        batch, self.pending = self.pending, []
        batch.sort(key=lambda item: (item[0], item[1]))
        now = self.engine.now
        for customer, n, started in batch:
            started(self.start(now, customer, n))

    def start(self, t: float, customer: int, n: int) -> float:
        raise NotImplementedError


class InlineQueue(_Queue):
    """Everyone is simulated here: the clock places each send as it comes (in ledger order)."""

    __slots__ = ("clock",)

    def __init__(self, engine: Engine, channel: str, spacing: float):
        super().__init__(engine, channel)
        self.clock = QueueClock(spacing)

    def start(self, t: float, customer: int, n: int) -> float:
        return self.clock.take(t)


class AssumedQueue(_Queue):
    """A shard: starts come from the assumed table (default: no wait); every request is recorded."""

    __slots__ = ("assumed", "requests")

    def __init__(self, engine: Engine, channel: str, assumed: dict[tuple[int, int], float],
                 requests: list[tuple[float, int, int, float]]):
        super().__init__(engine, channel)
        self.assumed = assumed
        self.requests = requests  # (t, customer, n, start assumed)

    def start(self, t: float, customer: int, n: int) -> float:
        start = self.assumed.get((customer, n), t)
        self.requests.append((t, customer, n, start))
        return start


def settle(t: np.ndarray, customer: np.ndarray, n: np.ndarray, spacing: float) -> np.ndarray:
    """The start of every request of one channel (arrays aligned by request), from all of them at once:
    the same clock, fed in ledger order."""
    order = np.lexsort((n, customer, t))
    clock = QueueClock(spacing)
    starts = np.empty(len(t))
    take = clock.take
    times = t[order].tolist()
    starts[order] = [take(x) for x in times]
    return starts


def queue_for(engine: Engine, channel: str, spacing: float) -> _Queue | None:
    """The queue of a channel (None without a throughput limit): inline, or assumed in a shard."""
    if not spacing:
        return None
    shard = engine.shard
    if shard is None:
        return InlineQueue(engine, channel, spacing)
    return AssumedQueue(engine, channel, shard.assumed.setdefault(channel, {}),
                        shard.requests.setdefault(channel, []))
