"""Worker processes on this machine: how many cores we may use, and a start method that is safe with
threads (pyarrow's pools) in the parent."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from typing import Any

__all__ = ["usable_cores", "process_context"]


def usable_cores() -> int:
    """Cores this process may use (its CPU affinity on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def process_context(preload: Sequence[str] = ()) -> Any:
    """forkserver (workers fork from a clean server with ``preload`` imported: fast, and no threads
    inherited mid-operation), else spawn. Both re-import the calling script's ``__main__``: call from
    under ``if __name__ == "__main__":`` in a script."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")
