"""Worker processes on this machine: how many cores we may use, a start method that is safe with
threads (pyarrow's pools) in the parent, and workers that never outlive the process that started them.

Every worker started through :func:`process_context` (findings shards, sweep workers, whatever the
forkserver forks for them) runs a small guard before its task code:

- it ignores SIGINT (Ctrl-C at a terminal reaches the whole process group; the parent decides, and
  stops its workers itself with :func:`stop_workers`, so no worker prints a KeyboardInterrupt
  traceback) and takes SIGTERM/SIGHUP with the default action (die at once);
- a daemon thread watches the parent: on Linux it waits on a pidfd of the parent (readable the moment
  the parent exits, whatever killed it, SIGKILL included), elsewhere it polls the parent's pid (and
  its start time, against pid reuse) four times a second; when the parent is gone the worker exits;
- on Linux, when the parent forked the worker itself, ``PR_SET_PDEATHSIG`` additionally has the
  kernel send SIGKILL to the worker when the parent dies.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.context as _mpc
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

__all__ = ["usable_cores", "process_context", "stop_workers", "close_pool", "process_start_time", "pid_alive"]

#: Seconds between checks of the parent where no pidfd is available.
POLL_SECONDS = 0.25


def usable_cores() -> int:
    """Cores this process may use (its CPU affinity on Linux)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot, from /proc), or None where unknown.

    Together with the pid it names one process: a pid reused after the process died has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()
    return fields[19] if len(fields) > 19 else None  # field 22 of stat; fields[0] is field 3


def pid_alive(pid: int, start_time: str | None = None) -> bool:
    """Whether process ``pid`` exists (and, if ``start_time`` is given and knowable, is the same process)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    except OSError:
        return False
    if start_time is not None:
        now = process_start_time(pid)
        if now is not None and now != start_time:
            return False  # the pid was reused by another process
    return True


def _set_pdeathsig() -> None:
    """Linux: have the kernel SIGKILL this process when the thread that forked it exits."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
    except (OSError, AttributeError):
        pass


def _watch(parent: int, start_time: str | None) -> None:
    """Exit this process as soon as ``parent`` has exited (runs on a daemon thread)."""
    fd = None
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(parent)
        except OSError:
            fd = None
    if not pid_alive(parent, start_time):
        os._exit(1)
    if fd is not None:
        while True:
            ready, _, _ = select.select([fd], [], [])
            if ready:
                os._exit(1)
    while pid_alive(parent, start_time):
        time.sleep(POLL_SECONDS)
    os._exit(1)


_STOP_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


def _guard(parent: int, start_time: str | None) -> None:
    """Run first in every worker: signals as described in the module docstring, then the parent watch."""
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # whatever mask the forking thread had
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    if os.getppid() == parent:
        _set_pdeathsig()
        if os.getppid() != parent:  # the parent died before the prctl took effect
            os._exit(1)
    threading.Thread(target=_watch, args=(parent, start_time), name="journeysim-parent-watch", daemon=True).start()


class _Guarded:
    """Mixin for a multiprocessing Process class: remembers the creating process, guards the child."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._journeysim_parent = (os.getpid(), process_start_time(os.getpid()))

    def run(self) -> None:
        _guard(*self._journeysim_parent)
        super().run()  # type: ignore[misc]


class GuardedForkProcess(_Guarded, _mpc.ForkProcess):
    pass


class GuardedSpawnProcess(_Guarded, _mpc.SpawnProcess):
    pass


class _GuardedForkContext(_mpc.ForkContext):
    Process = GuardedForkProcess


class _GuardedSpawnContext(_mpc.SpawnContext):
    Process = GuardedSpawnProcess


if sys.platform != "win32":
    class GuardedForkServerProcess(_Guarded, _mpc.ForkServerProcess):
        pass

    class _GuardedForkServerContext(_mpc.ForkServerContext):
        Process = GuardedForkServerProcess

_GUARDED_TYPES: tuple[type, ...] = tuple(
    t for t in (GuardedForkProcess, GuardedSpawnProcess, globals().get("GuardedForkServerProcess")) if t is not None)


def process_context(preload: Sequence[str] = (), *, fork: bool = False) -> Any:
    """A multiprocessing context for worker processes (each guarded: see the module docstring).

    ``fork=True`` (Linux only) forks this process: nothing is re-imported, so it is safe under any
    ``__main__`` (a notebook, stdin, a script without a main guard); use it for short pure-computation
    pools (and ``gc.freeze()`` around the fork, so children do not copy the parent's heap just to run
    the collector over it). Otherwise forkserver (workers fork from a clean server with ``preload`` imported), else
    spawn; both re-import the calling script's ``__main__``, so call them from under
    ``if __name__ == "__main__":`` in a script.
    """
    methods = multiprocessing.get_all_start_methods()
    if fork and sys.platform.startswith("linux") and "fork" in methods:
        return _GuardedForkContext()
    if "forkserver" in methods:
        ctx = _GuardedForkServerContext()
        ctx.set_forkserver_preload(list(preload))
        return ctx
    return _GuardedSpawnContext()


def stop_workers() -> int:
    """Kill this process's guarded workers at once (Ctrl-C, SIGTERM, SIGHUP); returns how many.

    They hold no state worth saving: a run's folder is abandoned and a sweep keeps only finished tasks.
    """
    stopped = 0
    for child in multiprocessing.active_children():
        if isinstance(child, _GUARDED_TYPES) and child.is_alive():
            try:
                child.kill()
                stopped += 1
            except (OSError, ValueError, AttributeError):
                pass
    return stopped


def close_pool(pool: Any, *, abort: bool) -> None:
    """Shut a ``ProcessPoolExecutor`` down: wait for it normally, or (``abort``) kill its workers first,
    so an interrupted or failed parent never waits for tasks nobody will read."""
    if not abort:
        pool.shutdown(wait=True, cancel_futures=True)
        return
    # The pool's manager thread can trip over the workers killed here (a pipe closing under it) and print
    # "Exception in thread ..." with a traceback: expected after a deliberate kill, so it is kept quiet
    # until shutdown has joined that thread; any other thread's exception is reported as usual.
    manager = getattr(pool, "_executor_manager_thread", None)
    previous = threading.excepthook

    def quiet(args: Any) -> None:
        if manager is None or args.thread is not manager:
            previous(args)

    threading.excepthook = quiet
    try:
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            try:
                proc.kill()
            except (OSError, ValueError, AttributeError):
                pass
        pool.shutdown(wait=True, cancel_futures=True)
    finally:
        threading.excepthook = previous
