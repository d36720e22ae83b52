"""Where tasks run: local worker processes (the default) or a Dask distributed cluster. Both yield
(task, result) pairs as tasks finish; a worker that dies becomes a failed result, not an exception."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from simulator.errors import UsageError
from simulator.interrupts import signals_deferred
from simulator.parallel import close_pool, process_context, usable_cores
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
    finished = False
    try:
        with signals_deferred():  # submit starts the worker processes
            futures = {pool.submit(run_task, task): task for task in tasks}
        for future in as_completed(futures):
            task = futures[future]
            try:
                yield task, future.result()
            except Exception as exc:  # a worker died (BrokenProcessPool) or the result did not unpickle
                yield task, failed_result(task, exc)
        finished = True
    finally:
        close_pool(pool, abort=not finished)  # interrupted or abandoned: stop the workers, do not wait


#: Seconds to wait for a TCP connection to a Dask scheduler before giving up (a scheduler on the same
#: network answers in milliseconds).
CONNECT_SECONDS = 3.0
_FIX = "start one with 'dask scheduler' and workers with 'dask worker ADDRESS' (README: Sweeps on a cluster)"


def _probe(address: str) -> None:
    """Fail fast, before Dask's client starts its own retrying connection: a malformed address, or a
    tcp:// scheduler that does not accept a connection within :data:`CONNECT_SECONDS`."""
    import socket

    from distributed.comm import parse_address
    from distributed.comm.addressing import parse_host_port

    example = "give it as tcp://HOST:PORT, e.g. tcp://scheduler.example.com:8786"
    try:
        scheme, location = parse_address(address, strict=False)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--dask {address!r} is not a scheduler address ({exc}); {example}") from None
    if scheme != "tcp":
        return  # tls://, ws://, ucx://: Dask's own client checks those (with the same timeout)
    try:
        host, port = parse_host_port(location)
    except (ValueError, TypeError) as exc:
        raise UsageError(f"--dask {address!r} is not a scheduler address ({exc}); {example}") from None
    try:
        with socket.create_connection((host, port), timeout=CONNECT_SECONDS):
            pass
    except socket.gaierror as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: unknown host {host!r} ({exc.strerror}); "
                         f"check the name, or {_FIX}") from None
    except TimeoutError:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: no answer within {CONNECT_SECONDS:g} s; "
                         f"check the address and any firewall, or {_FIX}") from None
    except OSError as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc.strerror or exc}; {_FIX}") from None


async def _identity(address: str) -> Any:
    from distributed.comm import connect

    comm = await connect(address, timeout=CONNECT_SECONDS)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()


def _handshake(address: str) -> None:
    """Ask ``address`` who it is (Dask's ``identity`` call), within 2 x :data:`CONNECT_SECONDS`: something
    that accepts connections but is not a scheduler must not leave Dask's client retrying or hanging."""
    import asyncio

    try:
        reply = asyncio.run(asyncio.wait_for(_identity(address), 2 * CONNECT_SECONDS))
    except asyncio.TimeoutError:
        reply = "no answer within {:g} s".format(2 * CONNECT_SECONDS)
    except OSError as exc:  # refused, reset or closed (CommClosedError is an OSError too)
        reply = f"the connection failed: {exc}"
    except Exception:  # garbage on the wire: a decoder error, or a MemoryError for an absurd length
        reply = "it answered, but not in Dask's protocol"
    if isinstance(reply, dict) and reply.get("type") == "Scheduler":
        return
    what = reply if isinstance(reply, str) else f"it answered {str(reply)[:80]!r}"
    raise UsageError(f"{address} is not a Dask scheduler ({what}); check the address and port (a scheduler "
                     f"listens on 8786 unless told otherwise), or {_FIX}")


def dask_client(address: Any) -> Any:
    """A ``distributed.Client`` for ``address`` (``tcp://host:8786``, or a cluster object); UsageError when
    Dask is not installed, the address is malformed or the scheduler does not answer (a TCP connect
    within :data:`CONNECT_SECONDS`, then Dask's handshake within 10 s)."""
    try:
        from distributed import Client
    except ImportError:
        raise UsageError("--dask needs Dask distributed: pip install 'journeysim[dask]' (on this machine "
                         "and on every worker)") from None
    if isinstance(address, str):
        _probe(address)
        _handshake(address)
    try:
        client = Client(address, timeout="10s", set_as_default=False)
    except Exception as exc:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {exc}; {_FIX}") from None
    _wait_for_a_worker(client, address)
    return client


#: Environment variable: seconds to wait for the first worker of a --dask scheduler (default below).
WORKER_WAIT_ENV = "JOURNEYSIM_DASK_WORKER_WAIT"
#: A worker started by hand, or by an autoscaling cluster from zero, joins within a minute.
WORKER_WAIT_SECONDS = 60.0


def worker_wait_seconds() -> float:
    """Seconds to wait for a worker: :data:`WORKER_WAIT_ENV` if set (a number > 0), else
    :data:`WORKER_WAIT_SECONDS`."""
    import math
    import os

    text = os.environ.get(WORKER_WAIT_ENV, "").strip()
    if not text:
        return WORKER_WAIT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise UsageError(f"{WORKER_WAIT_ENV}={text!r} is not a number of seconds > 0 (e.g. {WORKER_WAIT_ENV}=300); "
                         f"unset it for the default of {WORKER_WAIT_SECONDS:g} s")
    return value


def _wait_for_a_worker(client: Any, address: Any) -> None:
    """A scheduler without workers accepts tasks and never runs them: wait up to
    :func:`worker_wait_seconds` for one worker, else close the client and say how to start workers."""
    wait = worker_wait_seconds()
    try:
        client.wait_for_workers(1, timeout=wait)
    except Exception as exc:  # distributed's WorkerStartTimeoutError (a TimeoutError), or the scheduler went away
        client.close()
        target = address if isinstance(address, str) else getattr(address, "scheduler_address", address)
        if not isinstance(exc, TimeoutError):
            raise UsageError(f"lost the Dask scheduler at {target} while waiting for its workers ({exc}); "
                             f"{_FIX}") from None
        raise UsageError(f"the Dask scheduler at {target} has no workers (none joined within {wait:g} s), so "
                         f"the sweep would wait for ever; start workers with 'dask worker {target} --nworkers N "
                         f"--nthreads 1' (N = cores; journeysim installed on that machine too), or wait longer "
                         f"with {WORKER_WAIT_ENV}=SECONDS") from None


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

