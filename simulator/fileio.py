"""Atomic file and folder writes: no partial output ever masquerades as complete."""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "atomic_write_bytes", "describe_os_error", "os_error_in"]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it is renamed onto ``path``, on error removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; the result should be an ordinary file
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def atomic_write_text(path: str | Path, text: str) -> None:
    """Text version of :func:`atomic_write_bytes` (UTF-8)."""
    atomic_write_bytes(path, text.encode("utf-8"))


#: What to do about an operating-system error on an output path, by errno.
_FIXES = {
    errno.ENOSPC: "free some space, or pass --out with a folder on another disk",
    errno.EDQUOT: "your disk quota is used up: free some space, or pass --out with a folder on another disk",
    errno.EFBIG: "the file is too large for this file system: pass --out with a folder on another disk",
    errno.EROFS: "that file system is read-only: pass --out with a folder on a writable disk",
    errno.EACCES: "you may not write there: pass --out with a folder you can write to",
    errno.EPERM: "you may not write there: pass --out with a folder you can write to",
    errno.ENOENT: "a folder on the way does not exist and could not be created: check the path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.EEXIST: "a part of the path is a file, not a folder: check the path",
    errno.EISDIR: "that path is a folder: give a file name",
    errno.ENAMETOOLONG: "the path is too long: choose a shorter one",
    errno.EIO: "the disk reported an input/output error: check the disk, or pass --out with another folder",
}


def os_error_in(exc: BaseException | None) -> OSError | None:
    """The first :class:`OSError` in ``exc`` or its chain (``raise ... from``, or raised while handling)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, OSError):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def describe_os_error(exc: OSError, option: str = "--out") -> str:
    """One line for a user: what failed, on which path, and what to do (no traceback, no errno jargon).

    ``option`` is the command-line option that chose the path (``--out``; ``trace`` writes ``--png``)."""
    if exc.errno:
        what = os.strerror(exc.errno)  # pyarrow and others wrap the errno in their own wording
        what = what[:1].lower() + what[1:]
    else:
        what = str(exc) or type(exc).__name__
    where = f" ({exc.filename})" if exc.filename else ""
    fix = _FIXES.get(exc.errno or -1)
    if fix and option != "--out":
        fix = fix.replace("pass --out with a folder", f"pass {option} with a path")
    return f"{what}{where}" + (f"; {fix}" if fix else "")
