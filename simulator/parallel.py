"""Worker processes on this machine: how many cores we may use, and a start method that is safe with
threads (pyarrow's pools) in the parent."""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["usable_cores", "process_context"]


def usable_cores() -> int:
    """Cores this process may use (its CPU affinity on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def process_context(preload: Sequence[str] = (), *, fork: bool = False) -> Any:
    """A multiprocessing context for worker processes.

    ``fork=True`` (Linux only) forks this process: nothing is re-imported, so it is safe under any
    ``__main__`` (a notebook, stdin, a script without a main guard); use it for short pure-computation
    pools (and ``gc.freeze()`` around the fork, so children do not copy the parent's heap just to run
    the collector over it). Otherwise forkserver (workers fork from a clean server with ``preload`` imported), else
    spawn; both re-import the calling script's ``__main__``, so call them from under
    ``if __name__ == "__main__":`` in a script.
    """
    methods = multiprocessing.get_all_start_methods()
    if fork and sys.platform.startswith("linux") and "fork" in methods:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return multiprocessing.get_context("spawn")
