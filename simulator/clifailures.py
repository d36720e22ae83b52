"""Clean one-line messages for failures that are not journeysim's own errors but are not bugs either:
the operating system refusing a path (full disk, read-only, no permission, a file where a folder
should be) and a worker process killed from outside. The CLI prints them and exits 2, no traceback."""

from __future__ import annotations

from concurrent.futures.process import BrokenProcessPool

from simulator.fileio import describe_os_error, os_error_in

__all__ = ["clean_failure"]


def clean_failure(exc: BaseException) -> str | None:
    """The message for ``exc``, or None when it is a genuine bug (the CLI then shows the traceback)."""
    if isinstance(exc, BrokenProcessPool):
        return ("a worker process died before it finished (killed from outside, e.g. by the out-of-memory "
                "killer); nothing was kept of this run: run it again, with fewer customers or more memory")
    found = os_error_in(exc)
    if found is not None:
        return describe_os_error(found)
    return None
