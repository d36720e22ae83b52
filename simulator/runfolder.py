"""One run's output folder, written atomically, with a manifest even on failure.

Files are written into a hidden sibling ``.<name>.partial-run`` and only :meth:`RunFolder.commit`
renames it to the final path, so a folder at the final path is always complete. A failed run is still
kept (desmod-style: always leave a result and the config it ran with) but under ``<final>.failed``
with ``summary.json`` saying ``status: failed``; when the failure was the disk itself (full, read-only,
no permission) the partial data is removed and ``<final>.failed`` holds only that ``summary.json``.

The partial folder holds ``.journeysim-partial.json`` (pid, host and start time of the writing
process), so a folder left by a killed run is recognised: ``trace``/``report`` refuse it, and the next
run into the same parent folder removes it once its process is gone. The name of the partial folder
is fixed per final folder and created exclusively, which both stops two runs writing one folder and
lets runs with a default name pick ``-2``, ``-3``, ... when they start in the same second.
"""

from __future__ import annotations

import datetime as _dt
import errno
import json
import os
import re
import shutil
import socket
import tempfile
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from simulator.errors import JourneySimError, UsageError
from simulator.fileio import atomic_write_text, describe_os_error, os_error_in
from simulator.interrupts import pending, raise_if_pending
from simulator.parallel import pid_alive, process_start_time

__all__ = ["RunFolder", "OutputError", "default_run_dir", "new_run_id", "SUMMARY_NAME", "PARTIAL_SUFFIX",
           "MARKER_NAME", "partial_path", "is_run_folder", "partial_owner", "clean_stale_partials", "display_path",
           "check_run_folder", "reading_errors"]

SUMMARY_NAME = "summary.json"
#: ``.<final name>`` + this is the folder a run writes into until it commits.
PARTIAL_SUFFIX = ".partial-run"
#: Inside a partial folder: who is writing it (pid, host, process start time, when).
MARKER_NAME = ".journeysim-partial.json"
#: Files whose byte sizes summary.json records (``files``), so a truncated or replaced file is noticed.
DATA_FILES = ("events.parquet", "customers.parquet", "findings.csv", "scenario.json", "sync_lags.parquet",
              "events.csv", "replications.csv")


class OutputError(JourneySimError):
    """The run folder could not be written (full disk, read-only file system, no permission, ...)."""


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
        _mark_aside(aside, dst)
        try:
            os.rename(src, dst)
        except BaseException:
            (aside / MARKER_NAME).unlink(missing_ok=True)
            os.rename(aside, dst)  # put the old one back: never leave nothing
            raise
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)
    _fsync_dir(dst.parent)


def _mark_aside(aside: Path, dst: Path) -> None:
    """Record this process in a folder renamed aside (the marker of a partial folder), so that if it is
    killed before removing it, a later run recognises the folder as ours and removes it once this process
    is gone (:func:`clean_stale_partials`). Best effort: without the marker the folder is left alone."""
    try:
        atomic_write_text(aside / MARKER_NAME, json.dumps({
            "pid": os.getpid(), "host": socket.gethostname(), "proc_start": process_start_time(os.getpid()),
            "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "final": dst.name, "renamed_aside": True}, indent=2) + "\n")
    except OSError:
        pass


#: ``.<final name>.old-<pid>-<random>``: an existing folder renamed aside by ``--overwrite`` (or by a
#: failed run replacing ``<final>.failed``) until the new one is in place.
_ASIDE = re.compile(r"^\..+\.old-\d+-[^/]+$")


def partial_path(final: str | Path) -> Path:
    """The hidden folder a run into ``final`` writes until it commits."""
    final = Path(final)
    return final.parent / f".{final.name}{PARTIAL_SUFFIX}"


def _read_json_object(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def is_run_folder(path: str | Path) -> bool:
    """True for a journeysim run folder (complete or failed): a real folder whose summary.json is a run
    manifest (``status`` complete/failed, ``scenario`` and ``version``; not a sweep's)."""
    path = Path(path)
    if path.is_symlink() or not path.is_dir():
        return False
    summary = _read_json_object(path / SUMMARY_NAME)
    return (summary is not None and summary.get("status") in ("complete", "failed")
            and "scenario" in summary and "version" in summary and summary.get("kind", "run") == "run")


#: Files a run (and its report) writes; a run's summary.json also lists its data files under ``files``.
RUN_OUTPUTS = frozenset({SUMMARY_NAME, "report.html", "daily_frequency.csv", "sends.csv", "events.parquet",
                         "events.csv", "customers.parquet", "findings.csv", "scenario.json", "sync_lags.parquet",
                         "replications.csv"})


def foreign_entries(folder: str | Path) -> list[str]:
    """Names in a run folder that no run wrote (a user's own files): ``--overwrite`` must not delete them.

    Only folders whose summary.json lists its data files (``files``, written by every ``journeysim run``)
    can be checked; folders written through the :class:`RunFolder` API without ``record_sizes`` can't."""
    folder = Path(folder)
    listed = (_read_json_object(folder / SUMMARY_NAME) or {}).get("files")
    if not isinstance(listed, dict):
        return []
    ours = RUN_OUTPUTS | set(listed)
    return sorted(p.name for p in folder.iterdir() if p.name not in ours)


def partial_owner(folder: str | Path) -> dict[str, Any] | None:
    """The marker of a partial folder (pid, host, start time, started, final), with ``alive``: whether
    its process still runs (None when it runs on another host: cannot tell). None if not a partial."""
    owner = _read_json_object(Path(folder) / MARKER_NAME)
    if owner is None:
        return None
    if owner.get("host") != socket.gethostname():
        owner["alive"] = None
    else:
        try:
            pid = int(owner.get("pid", -1))
        except (TypeError, ValueError):
            pid = -1
        owner["alive"] = pid_alive(pid, owner.get("proc_start"))
    return owner


def clean_stale_partials(parent: str | Path) -> list[Path]:
    """Remove partial folders in ``parent`` whose writing process (on this host) is gone; returns them.

    Only folders named ``.<name>.partial-run``, or ``.<name>.old-<pid>-<random>`` (an old folder renamed
    aside by ``--overwrite`` of a run that was killed before removing it), holding a marker are touched:
    nothing else is ever deleted.
    """
    removed: list[Path] = []
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return removed
    for entry in entries:
        ours = (entry.name.startswith(".") and entry.name.endswith(PARTIAL_SUFFIX)) or _ASIDE.match(entry.name)
        if not ours or entry.is_symlink() \
                or not entry.is_dir():
            continue
        owner = partial_owner(entry)
        if owner is not None and owner["alive"] is False:
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
    return removed


def display_path(path: str | Path) -> str:
    """``path`` relative to the working folder when it is below it, else absolute (for messages)."""
    path = Path(path).absolute()
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _disk_problem(exc: BaseException) -> OSError | None:
    """The OSError behind ``exc`` when it is about the output itself (space, permissions, read-only)."""
    found = os_error_in(exc)
    if found is None:
        return None
    return found if found.errno in _OUTPUT_ERRNOS else None


_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM, errno.EIO, errno.EFBIG,
                  errno.ENOENT, errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.ENAMETOOLONG}


def _empty(folder: Path) -> None:
    """Remove everything in ``folder`` but the marker. Files are truncated first: a writer that failed may
    still hold one open, and an unlinked open file keeps its blocks until it is closed."""
    for entry in list(folder.iterdir()):
        if entry.name == MARKER_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            _empty(entry)
            entry.rmdir()
            continue
        if entry.is_file() and not entry.is_symlink():
            os.truncate(entry, 0)
        entry.unlink()


class RunFolder:
    """Output folder of one run: files are written into the hidden sibling ``.<name>.partial-run`` and
    renamed into place only by :meth:`commit`; :meth:`fail` still renames it (to ``<final>.failed``) with a
    manifest saying status ``failed`` and the exception's repr; nothing in the folder claims completeness
    unless status == ``complete``.

    ``overwrite`` replaces an existing final folder only if it is a journeysim run folder
    (:func:`is_run_folder`); anything else is refused. ``unique`` (default output names) picks
    ``<name>-2``, ``<name>-3``, ... when the name is taken or another run is writing it; read the
    chosen path from :attr:`final_path`. ``record_sizes`` adds the byte size of each data file to
    summary.json (``files``), which :func:`check_run_folder` verifies.

    ``manifest`` is a dict the run can fill early (scenario hash, seed, config) so that a failure
    still records what it ran with; :meth:`commit`/:meth:`fail` merge their argument over it.
    As a context manager: KeyboardInterrupt (and SIGTERM/SIGHUP, which the CLI turns into one) ->
    :meth:`abandon`; another exception -> :meth:`fail` (an output problem such as a full disk is then
    raised again as :class:`OutputError`, with the partial data removed); no exception and not
    committed -> :meth:`abandon`.
    """

    def __init__(self, final_path: str | Path, *, overwrite: bool = False, unique: bool = False,
                 record_sizes: bool = False) -> None:
        self.final_path = Path(final_path).absolute()
        self.overwrite = overwrite
        self.record_sizes = record_sizes
        self.manifest: dict[str, Any] = {}
        self.status: str = "running"  # running | complete | failed | abandoned
        try:
            self.final_path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output folder's parent: {describe_os_error(exc)}") from None
        clean_stale_partials(self.final_path.parent)
        if unique:
            self.path = self._reserve_unique()
        else:
            self._check_final()
            self.path = self._reserve(self.final_path)
            if self.path is None:
                raise UsageError(self._busy_message(self.final_path))
        try:
            atomic_write_text(self.path / MARKER_NAME, json.dumps({
                "pid": os.getpid(), "host": socket.gethostname(), "proc_start": process_start_time(os.getpid()),
                "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "final": self.final_path.name}, indent=2) + "\n")
        except OSError as exc:
            shutil.rmtree(self.path, ignore_errors=True)
            raise OutputError(f"cannot write the run folder: {describe_os_error(exc)}") from None

    def _check_final(self) -> None:
        final = self.final_path
        if not final.exists() and not final.is_symlink():
            return
        if not self.overwrite:
            raise UsageError(f"{final} already exists; pass --overwrite to replace it, "
                             "or --out with another folder")
        if not is_run_folder(final):
            what = "a file" if final.is_file() else "a symbolic link" if final.is_symlink() else \
                "a sweep folder" if (_read_json_object(final / SUMMARY_NAME) or {}).get("kind") == "sweep" else \
                "a folder that is not a journeysim run folder (no run summary.json)"
            raise UsageError(f"{final} is {what}; --overwrite only replaces a journeysim run folder, so nothing "
                             "was deleted; pass --out with another folder, or remove it yourself")
        foreign = foreign_entries(final)
        if foreign:
            shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
            raise UsageError(f"{final} is a run folder but also holds what a run does not write ({shown}); "
                             "--overwrite would delete them, so nothing was deleted; move them out, or pass --out "
                             "with another folder")

    def _reserve(self, final: Path) -> Path | None:
        """Create ``final``'s partial folder exclusively; None when a live run holds it."""
        path = partial_path(final)
        for _attempt in range(2):
            try:
                os.mkdir(path)
                return path
            except FileExistsError:
                owner = partial_owner(path)
                if owner is None or owner["alive"] is not False:
                    return None
                shutil.rmtree(path, ignore_errors=True)  # left by a run that is gone
            except OSError as exc:
                raise OutputError(f"cannot create the run folder: {describe_os_error(exc)}") from None
        return None

    def _busy_message(self, final: Path) -> str:
        owner = partial_owner(partial_path(final)) or {}
        if not owner:
            return (f"{partial_path(final)} exists without a record of the run writing it (a run that was "
                    f"killed as it started, or one starting right now); if no run is writing {final}, remove "
                    "it and try again")
        who = f" (pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')})"
        return (f"another journeysim run{who} is writing {final} right now (its temporary folder "
                f"{partial_path(final)} exists); wait for it to finish or pass --out with another folder")

    def _reserve_unique(self) -> Path:
        base = self.final_path
        for n in range(1, 1000):
            candidate = base if n == 1 else base.with_name(f"{base.name}-{n}")
            if candidate.exists() or candidate.is_symlink() or candidate.with_name(candidate.name + ".failed").exists():
                continue
            path = self._reserve(candidate)
            if path is None:
                continue
            if candidate.exists() or candidate.is_symlink():  # committed by another run just now
                shutil.rmtree(path, ignore_errors=True)
                continue
            self.final_path = candidate
            return path
        raise UsageError(f"no free folder name like {base} (tried 999); pass --out")

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

    def _sizes(self) -> dict[str, int]:
        return {name: (self.path / name).stat().st_size for name in DATA_FILES if (self.path / name).is_file()}

    def commit(self, manifest: dict[str, Any] | None = None) -> Path:
        """Write ``summary.json`` (status ``complete`` + manifest) and rename the folder into place."""
        self._check_running()
        raise_if_pending()  # a signal whose KeyboardInterrupt Python dropped still stops the run here
        if self.final_path.exists() or self.final_path.is_symlink():
            if not self.overwrite:
                raise UsageError(f"{self.final_path} appeared while the run was writing; not replacing "
                                 "it (pass overwrite=True / --overwrite to replace)")
            self._check_final()
        extra = {"files": self._sizes()} if self.record_sizes else {}
        self._write_summary({**self.manifest, **(manifest or {}), **extra, "status": "complete"})
        (self.path / MARKER_NAME).unlink(missing_ok=True)
        _replace_dir(self.path, self.final_path)
        self.status = "complete"
        if is_run_folder(self.failed_path):  # the record of an earlier failed attempt is now out of date
            shutil.rmtree(self.failed_path, ignore_errors=True)
        return self.final_path

    def fail(self, manifest: dict[str, Any] | None, exc: BaseException) -> Path | None:
        """Write ``summary.json`` (status ``failed``, error repr and type) and rename to ``<final>.failed``.

        When the failure is the output itself (:class:`OSError` such as a full disk), the partial data
        is removed first (it is incomplete, and removing it frees the space the summary needs). Returns
        None when even that could not be written: then nothing is left.
        """
        self._check_running()
        disk = _disk_problem(exc)
        tb = traceback.format_exception(type(exc), exc, exc.__traceback__)
        summary = {**self.manifest, **(manifest or {}), "status": "failed", "error": repr(exc),
                   "error_type": f"{type(exc).__module__}.{type(exc).__qualname__}", "traceback": "".join(tb)}
        try:
            if disk is not None:
                _empty(self.path)
                summary["error"] = describe_os_error(disk)
                summary["partial_data_removed"] = True
            self._write_summary(summary)
            (self.path / MARKER_NAME).unlink(missing_ok=True)
            _replace_dir(self.path, self.failed_path)
        except OSError:
            shutil.rmtree(self.path, ignore_errors=True)
            self.status = "failed"
            return None
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
        if exc is None or isinstance(exc, KeyboardInterrupt) or pending() is not None:
            self.abandon()  # interrupted (also: a worker pool broken by the interruption): leave nothing
            return
        disk = _disk_problem(exc)
        where = self.fail({}, exc)
        if disk is not None:
            kept = (f"the partial data was removed; {display_path(where / SUMMARY_NAME)} says what happened"
                    if where is not None else "the partial data was removed (no .failed folder could be written)")
            raise OutputError(f"the run could not write its folder {display_path(self.final_path)}: "
                              f"{describe_os_error(disk)}; {kept}") from exc


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


def _rerun_hint(path: Path, summary: dict[str, Any] | None) -> str:
    if summary and summary.get("scenario_file") and summary.get("seed") is not None:
        return (f"run it again: journeysim run {summary['scenario_file']} --seed {summary['seed']} "
                f"--out {display_path(path)} --overwrite")
    return "remove the folder and run the scenario again"


def _partial_message(partial: Path, final: Path) -> str:
    owner = partial_owner(partial) or {}
    who = f"pid {owner.get('pid')} on {owner.get('host')}, started {owner.get('started')}"
    if not owner:
        state = (f"it has no record of the run writing it (killed as it started, or starting right now); if no "
                 f"run is writing {display_path(final)}, remove it and run the scenario again")
    elif owner.get("alive"):
        state = f"a run ({who}) is still writing it; wait until it finishes, then use {display_path(final)}"
    elif owner.get("alive") is None:
        state = (f"it was written by a run on another host ({who}); if that run is over, remove it and run "
                 f"the scenario again")
    else:
        state = (f"the run that wrote it ({who}) was killed before it finished, so its data is incomplete; "
                 f"the next `journeysim run` into {display_path(final.parent)} removes it (or remove it "
                 f"yourself) and run the scenario again")
    return f"{display_path(partial)} is the temporary folder of an unfinished run, not a run folder: {state}"


def check_run_folder(path: str | Path) -> dict[str, Any]:
    """Validate a finished run folder before ``trace``/``report`` read it; returns its summary.json.

    Raises :class:`UsageError` (exit 2) saying what is wrong and what to do for: a missing folder (with
    what is there instead: the temporary folder of a run still writing or killed, or ``<name>.failed``),
    a partial or failed folder, a sweep folder, and a missing, unreadable, truncated or inconsistent
    summary.json, scenario.json, events.parquet, customers.parquet, findings.csv or sync_lags.parquet.
    """
    import pandas as pd
    import pyarrow.parquet as pq
    from pydantic import ValidationError

    from simulator.engine.events import COLUMNS
    from simulator.scenario.model import Scenario

    given = Path(path)
    folder = given.absolute()
    shown = display_path(folder)
    if folder.name.endswith(PARTIAL_SUFFIX) or (folder / MARKER_NAME).exists():
        final = folder.with_name(folder.name[1:-len(PARTIAL_SUFFIX)]) if folder.name.endswith(PARTIAL_SUFFIX) \
            else folder
        raise UsageError(_partial_message(folder, final))
    if not folder.exists():
        if folder.name and partial_path(folder).is_dir():
            raise UsageError(f"{shown} does not exist yet: " + _partial_message(partial_path(folder), folder))
        failed = folder.with_name(folder.name + ".failed") if folder.name else None
        if failed is not None and failed.is_dir():
            error = (_read_json_object(failed / SUMMARY_NAME) or {}).get("error", "see its summary.json")
            raise UsageError(f"{shown} does not exist: that run failed ({error}); its record is in "
                             f"{display_path(failed / SUMMARY_NAME)}")
        raise UsageError(f"{shown} does not exist; give the folder a `journeysim run` wrote (it prints "
                         "'-> reports/...' on its first line)")
    if not folder.is_dir():
        raise UsageError(f"{shown} is a file, not a run folder; give the folder a `journeysim run` wrote")
    summary_file = folder / SUMMARY_NAME
    if not summary_file.is_file() and not (folder / "events.parquet").is_file():
        raise UsageError(f"{shown} is not a run folder: it has no summary.json and no events.parquet, so it is not "
                         "a complete run folder written by `journeysim run`; give the folder a run wrote (`run` "
                         "prints '-> reports/...' on its first line)")
    if not summary_file.is_file():
        raise UsageError(f"{shown} is not a complete run folder: summary.json is missing (a run writes it "
                         f"last, so the folder is incomplete or was changed); {_rerun_hint(folder, None)}")
    try:
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"{shown}/summary.json is not UTF-8 text (the file is damaged); "
                         f"{_rerun_hint(folder, None)}") from None
    except ValueError as exc:
        raise UsageError(f"{shown}/summary.json is not valid JSON ({exc}; the file is truncated or was "
                         f"edited); {_rerun_hint(folder, None)}") from None
    if not isinstance(summary, dict) or "status" not in summary:
        raise UsageError(f"{shown}/summary.json is not a journeysim run summary (no status); "
                         f"{_rerun_hint(folder, None)}")
    if summary.get("kind") == "sweep":
        raise UsageError(f"{shown} is a sweep folder, not a run folder; open its sweep.html, or trace a run "
                         "of one variant with `journeysim run ... --set KEY=VALUE`")
    if summary["status"] == "failed":
        raise UsageError(f"{shown} is the record of a failed run ({summary.get('error', 'no error recorded')}); "
                         f"it has no results to show; {_rerun_hint(folder, summary)}")
    if summary["status"] != "complete":
        raise UsageError(f"{shown}/summary.json says status {summary['status']!r}, not 'complete'; "
                         f"{_rerun_hint(folder, summary)}")
    hint = _rerun_hint(folder, summary)

    def bad(name: str, what: str) -> UsageError:
        return UsageError(f"{shown}/{name} {what}; {hint}")

    for name in ("scenario.json", "events.parquet", "customers.parquet", "findings.csv"):
        if not (folder / name).is_file():
            raise bad(name, "is missing (every run writes it), so the folder is incomplete or was changed")
    for name, size in (summary.get("files") or {}).items():
        file = folder / name
        if file.is_file() and isinstance(size, int) and file.stat().st_size != size:
            raise bad(name, f"has {file.stat().st_size:,} bytes but the run wrote {size:,}: it was truncated or "
                            "replaced after the run")
    try:
        Scenario.model_validate(json.loads((folder / "scenario.json").read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        detail = (f"{'.'.join(map(str, first['loc']))}: {first['msg']}" if first else str(exc).splitlines()[0])
        raise bad("scenario.json", f"is not the scenario a run writes ({detail})") from None
    for name, needed in (("events.parquet", COLUMNS), ("customers.parquet", ("customer", "timezone")),
                         ("sync_lags.parquet", ("link", "field", "lag"))):
        file = folder / name
        if not file.exists():
            continue  # sync_lags.parquet: older folders have none (the report computes it)
        try:
            names = pq.ParquetFile(file).schema_arrow.names
        except Exception as exc:  # pyarrow raises ArrowInvalid/OSError for a damaged file
            raise bad(name, f"cannot be read as Parquet ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
                            "; it is truncated or damaged)") from None
        missing = [c for c in needed if c not in names]
        if missing:
            raise bad(name, f"lacks the column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    try:
        header = pd.read_csv(folder / "findings.csv", nrows=0)
    except (ValueError, UnicodeDecodeError) as exc:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise bad("findings.csv", f"cannot be read as CSV ({str(exc).splitlines()[0]})") from None
    missing = [c for c in ("kind", "customer", "time") if c not in header.columns]
    if missing:
        raise bad("findings.csv", f"is not a findings table (no {', '.join(missing)} column)")
    return summary


def reading_errors() -> tuple[type[BaseException], ...]:
    """Exceptions reading a damaged run folder can raise past :func:`check_run_folder` (a file damaged
    inside, past its footer and header), which ``trace``/``report`` turn into a clean message."""
    import pyarrow as pa
    from pandas.errors import ParserError

    return (pa.ArrowException, OSError, ParserError, UnicodeDecodeError, json.JSONDecodeError)
