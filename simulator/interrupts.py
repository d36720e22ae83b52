"""Ctrl-C, SIGTERM and SIGHUP all stop a command the same way: cleanly, with nothing partial left.

CI systems cancel a job with SIGTERM and a closed terminal sends SIGHUP; by default Python dies on
those at once, leaving a run's temporary folder and its worker processes behind. Inside
:func:`handle_signals` each of the three stops this process's worker processes and raises
:class:`Interrupted` (a ``KeyboardInterrupt``), so the code that already cleans up after Ctrl-C (the run
folder is removed, a sweep keeps its finished tasks) runs for all three. The command then exits
128 + the signal number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP), as shells report them.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from simulator.parallel import stop_workers

__all__ = ["Interrupted", "handle_signals", "exit_code", "describe", "pending", "raise_if_pending",
           "signals_deferred"]

#: The signal received inside :func:`handle_signals`, if any. Python drops an exception raised by a
#: signal handler when the signal lands in code that swallows exceptions (an at-fork callback, a
#: ``__del__``); this record lets the rest of journeysim still stop (see :func:`raise_if_pending`).
_received: list[int] = []

_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when SIGINT, SIGTERM or SIGHUP arrives inside :func:`handle_signals`."""

    def __init__(self, signum: int | str) -> None:
        # also built from its args (the signal's name): SimPy re-raises a process's exception as
        # ``type(exc)(*exc.args)``, and pickling does the same
        signum = int(signal.Signals[signum]) if isinstance(signum, str) else int(signum)
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: BaseException | None) -> int:
    """The exit code for an interruption: 128 + signal (130 for a plain KeyboardInterrupt); ``exc`` None:
    that of the signal received (see :func:`pending`)."""
    if exc is None and _received:
        return 128 + _received[0]
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + int(signal.SIGINT)


_deferring = [0]


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold a stop back while worker processes are being started: a stop that lands half-way through
    starting one would leave a child the parent does not know yet, which then fails noisily reading its
    start-up data. A signal that arrives meanwhile is acted on when the block ends (without an error)."""
    _deferring[0] += 1
    try:
        yield
    finally:
        _deferring[0] -= 1
    if not _deferring[0] and _received:
        stop_workers()
        raise Interrupted(_received[0])


def pending() -> int | None:
    """The signal number received in the current :func:`handle_signals` block, or None."""
    return _received[0] if _received else None


def raise_if_pending() -> None:
    """Raise :class:`Interrupted` if a signal was received (called before a run folder is committed)."""
    if _received:
        raise Interrupted(_received[0])


def describe(exc: BaseException | None) -> str:
    """``'Ctrl-C'``, ``'SIGTERM'`` or ``'SIGHUP'`` (``exc`` None: the signal received)."""
    signum = exc.signum if isinstance(exc, Interrupted) else _received[0] if exc is None and _received else None
    if signum is not None and signum != signal.SIGINT:
        return signal.Signals(signum).name
    return "Ctrl-C"


@contextmanager
def handle_signals() -> Iterator[None]:
    """Turn SIGINT/SIGTERM/SIGHUP into :class:`Interrupted` for the duration (main thread only; elsewhere
    a no-op). The first signal stops the workers and raises; later ones are ignored while the command
    cleans up, so the cleanup itself is never cut short. Handlers are restored on exit."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received.clear()

    def handler(signum: int, _frame: Any) -> None:
        if _received:
            return
        _received.append(signum)
        if _deferring[0]:
            return  # acted on at the end of signals_deferred()
        stop_workers()
        raise Interrupted(signum)

    hook = sys.unraisablehook

    def quiet(unraisable: Any) -> None:  # our signal landed where Python drops exceptions: pending() has it
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)

    sys.unraisablehook = quiet
    previous = {}
    for sig in _SIGNALS:
        try:
            previous[sig] = signal.signal(sig, handler)
        except (OSError, ValueError):
            pass
    try:
        yield
    finally:
        sys.unraisablehook = hook
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
