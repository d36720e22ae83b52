"""Where tasks run: local worker processes (the default) or a Dask distributed cluster. Both yield
(task, result) pairs as tasks finish; a worker that dies becomes a failed result, not an exception."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from simulator.errors import UsageError
from simulator.parallel import process_context, usable_cores
from simulator.sweep.plan import SweepTask
from simulator.sweep.task import TaskResult, failed_result, run_task


def default_workers() -> int:
    """Cores this process may use."""
    return usable_cores()


def run_local(tasks: Sequence[SweepTask], workers: int) -> Iterator[tuple[SweepTask, TaskResult]]:
    """Results as they finish; one worker runs in this process (no pickling, the 1-core baseline)."""
    if workers == 1 or len(tasks) <= 1:
        for task in tasks:
            yield task, run_task(task)
        return
    pool = ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=process_context(["simulator.sweep.task", "simulator.engine"]))
    try:
        futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield task, future.result()
            except Exception as exc:  # a worker died (BrokenProcessPool) or the result did not unpickle
                yield task, failed_result(task, exc)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def dask_client(address: Any) -> Any:
    """A ``distributed.Client`` for ``address`` (``tcp://host:8786``, or a cluster object); UsageError when
    Dask is not installed or the scheduler does not answer within 10 s."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--dask needs Dask distributed: pip install 'journeysim[dask]' (on this machine "
                         "and on every worker)") from None
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except Exception as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}; start one with "
                         "'dask scheduler' and workers with 'dask worker ADDRESS' (README: Sweeps on a cluster)"
                         ) from None


def run_dask(tasks: Sequence[SweepTask], client: Any) -> Iterator[tuple[SweepTask, TaskResult]]:
    """Results as they finish on a Dask distributed cluster; closes ``client`` at the end."""
    from distributed import as_completed as dask_completed

    token = uuid.uuid4().hex[:8]
    try:
        futures = {client.submit(run_task, task, key=f"journeysim-v{task.variant}-r{task.replication}-{token}",
                                 retries=0): task for task in tasks}
        for future in dask_completed(list(futures), loop=client.loop):
            task = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the worker died, or a pickling/environment problem
                result = failed_result(task, exc)
            future.release()
            yield task, result
    finally:
        client.close()

