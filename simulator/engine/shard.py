"""What one shard of a sharded run is given and gives back (the engine side; the driver is
:mod:`simulator.sharded`, the design is in docs/architecture.md).

A shard simulates only its ``members`` over the whole horizon. Everything it cannot know about other
customers comes in through ``assumed`` (the queue start of each of its sends on a channel with a
throughput limit); everything other customers' results depend on goes out through ``requests`` (its
sends' places in the channel queues), ``runs`` (the run-level records: batch runs and skipped runs,
whose record counts add up across shards) and ``tallies`` (each customer's share of those counts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Shard", "RunRecord"]

#: A run-level record: (t, kind, system, formatter name, formatter arguments); its count is the sum of
#: the tallies that point to it.
RunRecord = tuple[float, str, str, str, tuple[Any, ...]]


@dataclass
class Shard:
    """The customers one engine simulates and what it exchanges with the other shards."""

    customers: np.ndarray  # indices of the customers this shard simulates
    assumed: dict[str, dict[tuple[int, int], float]] = field(default_factory=dict)  # channel -> (customer, n) -> start
    requests: dict[str, list[tuple[float, int, int, float]]] = field(default_factory=dict)  # channel -> (t, c, n, start)
    runs: list[RunRecord] = field(default_factory=list)
    tallies: list[tuple[int, int, int]] = field(default_factory=list)  # (customer, index in runs, count)
    members: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))

    def attach(self, size: int) -> None:
        """Size the membership mask to the built population."""
        self.members = np.zeros(size, dtype=bool)
        self.members[np.asarray(self.customers, dtype=np.int64)] = True

    def run_record(self, record: RunRecord, counts: dict[int, int]) -> None:
        """A run-level record and each customer's share of its count."""
        k = len(self.runs)
        self.runs.append(record)
        self.tallies.extend((c, k, n) for c, n in counts.items() if n)
