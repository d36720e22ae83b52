"""One run's output folder, written atomically, with a manifest even on failure.

Files are written into a hidden sibling ``.<name>.partial-<pid>-<random>`` and only :meth:`RunFolder.commit`
renames it to the final path, so a folder at the final path is always complete. A failed run is still
kept (desmod-style: always leave a result and the config it ran with) but under ``<final>.failed``
with ``summary.json`` saying ``status: failed``.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import tempfile
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from simulator.errors import UsageError
from simulator.fileio import atomic_write_text

__all__ = ["RunFolder", "default_run_dir", "new_run_id", "SUMMARY_NAME"]

SUMMARY_NAME = "summary.json"


def _fsync_dir(path: Path) -> None:
    """Best effort: make a rename in ``path`` durable (not supported everywhere)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _replace_dir(src: Path, dst: Path) -> None:
    """Rename folder ``src`` to ``dst``; an existing ``dst`` is renamed aside first, removed last."""
    if not dst.exists() and not dst.is_symlink():
        os.rename(src, dst)
    else:
        aside = Path(tempfile.mkdtemp(prefix=f".{dst.name}.old-{os.getpid()}-", dir=dst.parent))
        aside.rmdir()
        os.rename(dst, aside)
        try:
            os.rename(src, dst)
        except BaseException:
            os.rename(aside, dst)  # put the old one back: never leave nothing
            raise
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)
    _fsync_dir(dst.parent)


class RunFolder:
    """Output folder of one run: files are written into a hidden temporary sibling folder
    ``.<name>.partial-<pid>-…`` and renamed into place only by :meth:`commit`; :meth:`fail` still
    renames it (to ``<final>.failed``) with a manifest saying status ``failed`` and the exception's
    repr; nothing in the folder claims completeness unless status == ``complete``.

    ``manifest`` is a dict the run can fill early (scenario hash, seed, config) so that a failure
    still records what it ran with; :meth:`commit`/:meth:`fail` merge their argument over it.
    As a context manager: KeyboardInterrupt -> :meth:`abandon`; another exception -> :meth:`fail`;
    no exception and not committed -> :meth:`abandon`.
    """

    def __init__(self, final_path: str | Path, *, overwrite: bool = False) -> None:
        self.final_path = Path(final_path).absolute()
        self.overwrite = overwrite
        if self.final_path.exists() and not overwrite:
            raise UsageError(f"{self.final_path} already exists; pass --out with another folder "
                             "or overwrite=True (--overwrite) to replace it")
        self.final_path.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.final_path.name}.partial-{os.getpid()}-",
                                          dir=self.final_path.parent))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(self.path, 0o777 & ~umask)  # mkdtemp makes 0700; a run folder is an ordinary folder
        self.manifest: dict[str, Any] = {}
        self.status: str = "running"  # running | complete | failed | abandoned

    @property
    def failed_path(self) -> Path:
        """Where :meth:`fail` puts the folder: ``<final>.failed``."""
        return self.final_path.with_name(self.final_path.name + ".failed")

    def file(self, name: str) -> Path:
        """Path of ``name`` (may contain sub-folders, created) inside the temporary folder."""
        self._check_running()
        target = (self.path / name).resolve()
        if target == self.path.resolve() or self.path.resolve() not in target.parents:
            raise UsageError(f"run file name {name!r} must be a relative path inside the run folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        return self.path / name

    def _check_running(self) -> None:
        if self.status != "running":
            raise RuntimeError(f"run folder {self.final_path} is already {self.status}")

    def _write_summary(self, summary: dict[str, Any]) -> None:
        text = json.dumps(summary, sort_keys=True, indent=2, default=str, ensure_ascii=False) + "\n"
        atomic_write_text(self.path / SUMMARY_NAME, text)

    def commit(self, manifest: dict[str, Any] | None = None) -> Path:
        """Write ``summary.json`` (status ``complete`` + manifest) and rename the folder into place."""
        self._check_running()
        if self.final_path.exists() and not self.overwrite:
            raise UsageError(f"{self.final_path} appeared while the run was writing; not replacing "
                             "it (pass overwrite=True / --overwrite to replace)")
        self._write_summary({**self.manifest, **(manifest or {}), "status": "complete"})
        _replace_dir(self.path, self.final_path)
        self.status = "complete"
        return self.final_path

    def fail(self, manifest: dict[str, Any] | None, exc: BaseException) -> Path:
        """Write ``summary.json`` (status ``failed``, error repr and type) and rename to ``<final>.failed``."""
        self._check_running()
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        self._write_summary({
            **self.manifest,
            **(manifest or {}),
            "status": "failed",
            "error": repr(exc),
            "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}",
            "traceback": "".join(tb),
        })
        _replace_dir(self.path, self.failed_path)
        self.status = "failed"
        return self.failed_path

    def abandon(self) -> None:
        """Remove the temporary folder and everything in it: leaves nothing behind."""
        if self.status != "running":
            return
        shutil.rmtree(self.path, ignore_errors=True)
        self.status = "abandoned"

    def __enter__(self) -> RunFolder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.status != "running":
            return
        if exc is None or isinstance(exc, KeyboardInterrupt):
            self.abandon()
        else:
            self.fail({}, exc)


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def default_run_dir(reports_root: str | Path, scenario_name: str, run_id: str) -> Path:
    """``<reports_root>/<scenario>-<run_id>`` (characters unsafe in file names become ``-``)."""
    name = _UNSAFE.sub("-", scenario_name).strip("-.") or "scenario"
    return Path(reports_root) / f"{name}-{run_id}"


def new_run_id(seed: int, now: _dt.datetime | None = None) -> str:
    """Run id from the local wall clock and the seed, e.g. ``20261123-142501-s42``.

    Only the folder name varies with the clock; no file content may.
    """
    now = now or _dt.datetime.now()
    return f"{now:%Y%m%d-%H%M%S}-s{seed}"
