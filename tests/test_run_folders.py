"""Run folders: every way to damage one is caught by one loader (exit 2, what is wrong, what to do), leftovers
of killed runs are recognised and cleaned, --overwrite deletes only run folders, default names never collide,
and output problems (missing or unwritable roots, read-only or full disks) end cleanly."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

import simulator.engine
import simulator.runfolder
from simulator.cli import cli
from simulator.parallel import process_start_time
from simulator.runfolder import (
    MARKER_NAME,
    PARTIAL_SUFFIX,
    RunFolder,
    check_run_folder,
    clean_stale_partials,
    is_run_folder,
    partial_path,
)

CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")
LENIENT = 'gates={consent-violation: "<= 100%"}'


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def clean(result, code: int = 2) -> str:
    """The command exited ``code`` with no Python traceback; returns its output."""
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit) or result.exception is None, repr(result.exception)
    return result.output


@pytest.fixture(scope="module")
def good_run(tmp_path_factory) -> Path:
    """A complete cart run of 60 customers, copied per test before it is damaged."""
    out = tmp_path_factory.mktemp("runs") / "cart"
    result = invoke("run", CART, "--customers", "60", "--out", str(out), "--quiet", "--set", LENIENT)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def run_copy(good_run, tmp_path) -> Path:
    copy = tmp_path / "cart"
    shutil.copytree(good_run, copy)
    return copy


def _drop_sizes(folder: Path) -> None:
    """Forget the recorded file sizes, so the loader's own reading checks are what catch the damage."""
    summary = json.loads((folder / "summary.json").read_text())
    summary.pop("files")
    (folder / "summary.json").write_text(json.dumps(summary))


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


DAMAGE = {
    # name: (file, how, expected words in the message)
    "summary-missing": ("summary.json", "delete", "summary.json is missing"),
    "summary-truncated": ("summary.json", "truncate", "summary.json is not valid JSON"),
    "summary-not-utf8": ("summary.json", b"\xff\xfe\x00garbage", "not UTF-8"),
    "summary-not-a-run": ("summary.json", b"[1, 2, 3]", "not a journeysim run summary"),
    "summary-running": ("summary.json", b'{"status": "running"}', "status 'running'"),
    "events-missing": ("events.parquet", "delete", "events.parquet is missing"),
    "events-truncated": ("events.parquet", "truncate", "truncated or replaced"),
    "events-truncated-unrecorded": ("events.parquet", "truncate-nosizes", "cannot be read as Parquet"),
    "events-garbage": ("events.parquet", b"PAR1 not really", "cannot be read as Parquet"),
    "findings-missing": ("findings.csv", "delete", "findings.csv is missing"),
    "findings-empty": ("findings.csv", b"", "findings.csv cannot be read as CSV"),
    "findings-other-table": ("findings.csv", b"a,b\n1,2\n", "not a findings table"),
    "findings-not-utf8": ("findings.csv", b"\xff\xfe\x00\x00kind,customer\n", "findings.csv"),
    "customers-missing": ("customers.parquet", "delete", "customers.parquet is missing"),
    "customers-truncated": ("customers.parquet", "truncate-nosizes", "customers.parquet cannot be read as Parquet"),
    "scenario-missing": ("scenario.json", "delete", "scenario.json is missing"),
    "scenario-truncated": ("scenario.json", "truncate-nosizes", "scenario.json is not the scenario a run writes"),
    "scenario-edited": ("scenario.json", b'{"scenario": 5}', "scenario.json is not the scenario a run writes"),
    "sync-lags-garbage": ("sync_lags.parquet", b"nope", "sync_lags.parquet cannot be read as Parquet"),
}


@pytest.mark.parametrize("command", ["trace", "report"])
@pytest.mark.parametrize("case", sorted(DAMAGE))
def test_damaged_run_folder_exits_2_naming_the_file(run_copy, command, case):
    """Each file of a run folder missing, truncated, replaced by garbage or by another table: `trace` and
    `report` exit 2 with the file's path, what is wrong and how to get a good folder back; no traceback."""
    name, how, words = DAMAGE[case]
    file = run_copy / name
    if how == "delete":
        file.unlink()
    elif how == "truncate":
        _truncate(file)
    elif how == "truncate-nosizes":
        _truncate(file)
        _drop_sizes(run_copy)
    else:
        if name != "summary.json":
            _drop_sizes(run_copy)
        file.write_bytes(how)
    args = ["trace", str(run_copy), "--customer", "c000001"] if command == "trace" else ["report", str(run_copy)]
    out = clean(invoke(*args))
    assert words in out
    assert out.startswith("error: ") and str(run_copy) in out
    assert "run it again" in out or "run the scenario again" in out


def test_undamaged_copy_passes_the_loader(run_copy):
    """The loader accepts the folder a run wrote (the same checks that refuse the damaged copies)."""
    summary = check_run_folder(run_copy)
    assert summary["status"] == "complete"
    assert set(summary["files"]) >= {"events.parquet", "customers.parquet", "findings.csv", "scenario.json"}
    assert summary["files"]["events.parquet"] == (run_copy / "events.parquet").stat().st_size
    assert clean(invoke("report", str(run_copy)), 0).startswith("wrote ")


def test_trace_of_root_and_of_a_file(tmp_path):
    """`trace /` and `trace FILE`: exit 2, no traceback."""
    assert "not a run folder" in clean(invoke("trace", "/", "--customer", "x"))
    f = tmp_path / "notes.txt"
    f.write_text("x")
    assert "is a file" in clean(invoke("trace", str(f), "--customer", "x"))  # click's own check
    assert "does not exist" in clean(invoke("report", str(tmp_path / "nope")))


def test_failed_folder_is_refused_with_its_error(tmp_path, monkeypatch):
    """A run that failed leaves <out>.failed; `trace <out>` and `report <out>.failed` say the run failed and why."""
    def boom(self, progress=None):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(simulator.engine.Engine, "run", boom)
    out = tmp_path / "run"
    assert "engine exploded" in clean(invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet"))
    msg = clean(invoke("trace", str(out), "--customer", "c000001"))
    assert "that run failed" in msg and "engine exploded" in msg and "run.failed/summary.json" in msg
    assert "record of a failed run" in clean(invoke("report", str(tmp_path / "run.failed")))
    monkeypatch.undo()
    again = invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet", "--no-report", "--set", LENIENT)
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # the out-of-date run.failed is gone


# --- leftovers of killed runs -------------------------------------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _fake_partial(parent: Path, name: str, pid: int, host: str | None = None) -> Path:
    folder = parent / f".{name}{PARTIAL_SUFFIX}"
    folder.mkdir(parents=True)
    (folder / "events.parquet").write_bytes(b"half a log")
    (folder / MARKER_NAME).write_text(json.dumps({
        "pid": pid, "host": host or socket.gethostname(), "proc_start": process_start_time(pid),
        "started": "2026-11-29T10:00:00+00:00", "final": name}))
    return folder


def test_next_run_cleans_partials_of_dead_runs_only(tmp_path):
    """Into the same parent: a partial whose pid is gone is removed; one of a live process, one from
    another host (cannot tell) and a look-alike folder without a marker are kept."""
    dead = _fake_partial(tmp_path, "old", _dead_pid())
    live = _fake_partial(tmp_path, "busy", os.getpid())
    remote = _fake_partial(tmp_path, "remote", _dead_pid(), host="another-host.example")
    lookalike = tmp_path / f".mine{PARTIAL_SUFFIX}"
    lookalike.mkdir()
    (lookalike / "precious.txt").write_text("keep")
    result = invoke("run", CART, "--customers", "10", "--out", str(tmp_path / "new"), "--quiet", "--no-report",
                    "--set", LENIENT)
    assert result.exit_code == 0, result.output
    assert not dead.exists()
    assert live.is_dir() and remote.is_dir() and (lookalike / "precious.txt").read_text() == "keep"
    assert clean_stale_partials(tmp_path) == []


def test_partial_of_a_live_run_is_refused_and_blocks_a_second_writer(tmp_path):
    """While a run writes <out>, `trace <out>` says it is still being written, and a second run into the same
    --out is refused naming the first one's pid (not a silent clash)."""
    out = tmp_path / "run"
    with RunFolder(out) as rf:
        msg = clean(invoke("trace", str(out), "--customer", "c1"))
        assert "does not exist yet" in msg and f"pid {os.getpid()}" in msg and "still writing" in msg
        second = clean(invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet"))
        assert "another journeysim run" in second and f"pid {os.getpid()}" in second
        assert rf.path == partial_path(out)
    assert list(tmp_path.iterdir()) == []


def test_partial_with_a_reused_pid_counts_as_gone(tmp_path):
    """A marker whose pid now belongs to another process (different start time) is stale."""
    folder = _fake_partial(tmp_path, "old", os.getpid())
    marker = json.loads((folder / MARKER_NAME).read_text())
    marker["proc_start"] = "1"  # this process did not start 1 tick after boot
    (folder / MARKER_NAME).write_text(json.dumps(marker))
    assert clean_stale_partials(tmp_path) == [folder]


# --- --overwrite and default names ---------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["plain-folder", "file", "sweep-folder", "symlink"])
def test_overwrite_refuses_what_is_not_a_run_folder(tmp_path, what):
    """--overwrite on a folder without a run manifest, a file, a sweep's folder or a symlink: exit 2, nothing
    deleted or changed."""
    out = tmp_path / "out"
    if what == "file":
        out.write_text("my notes")
    elif what == "symlink":
        (tmp_path / "elsewhere").mkdir()
        out.symlink_to(tmp_path / "elsewhere")
    else:
        out.mkdir()
        (out / "mine.txt").write_text("mine")
        if what == "sweep-folder":
            (out / "summary.json").write_text(json.dumps({"kind": "sweep", "status": "complete", "scenario": "x",
                                                          "version": "0.1.0"}))
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    msg = clean(invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet", "--overwrite"))
    if what == "file":
        assert "is a file" in msg  # click refuses a file for --out before journeysim runs
    else:
        assert "--overwrite only replaces a journeysim run folder" in msg and "nothing was deleted" in msg
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_overwrite_replaces_a_failed_run_folder(tmp_path):
    """A <out>.failed-style folder (status failed, with its manifest) is a run folder: --overwrite replaces it."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"status": "failed", "scenario": "cart", "version": "0.1.0"}))
    assert is_run_folder(out)
    result = invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet", "--no-report", "--overwrite",
                    "--set", LENIENT)
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["status"] == "complete"


def test_default_names_in_the_same_second_do_not_collide(tmp_path, monkeypatch):
    """Two runs with the default output name and the same timestamp (forced): the second writes
    reports/<name>-2, and each report's trace command names its own folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(simulator.runfolder, "new_run_id", lambda seed, now=None: f"20261129-120000-s{seed}")
    first = invoke("run", CART, "--customers", "10", "--quiet", "--set", LENIENT)
    second = invoke("run", CART, "--customers", "10", "--quiet", "--set", LENIENT)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    names = sorted(p.name for p in (tmp_path / "reports").iterdir())
    assert names == ["cart-abandonment-20261129-120000-s42", "cart-abandonment-20261129-120000-s42-2"]
    assert "-> reports/cart-abandonment-20261129-120000-s42-2" in second.output


def test_concurrent_default_names_reserve_distinct_folders(tmp_path):
    """Two RunFolders open at once on one default name (as two processes started in the same second): the
    second reserves <name>-2 while the first is still writing; both commit."""
    final = tmp_path / "reports" / "cart-20261129-120000-s42"
    a = RunFolder(final, unique=True)
    b = RunFolder(final, unique=True)
    assert a.final_path == final and b.final_path == final.with_name(final.name + "-2")
    a.commit({"scenario": "cart", "version": "0"})
    b.commit({"scenario": "cart", "version": "0"})
    assert sorted(p.name for p in final.parent.iterdir()) == [final.name, final.name + "-2"]


def test_report_trace_commands_name_the_final_folder(tmp_path):
    """report.html is built inside the temporary folder; its `journeysim trace` commands must name --out."""
    out = tmp_path / "run"
    result = invoke("run", CART, "--customers", "300", "--out", str(out), "--quiet", "--set", LENIENT)
    assert result.exit_code == 0, result.output
    html = (out / "report.html").read_text()
    assert f"journeysim trace {out} --customer" in html
    assert PARTIAL_SUFFIX not in html and ".partial" not in html


# --- output roots and disks ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "target"), [
    ("run", "{file}/run"), ("run", "/proc/journeysim-nope/run"),
    ("init", "{file}/starter"), ("init", "/proc/journeysim-nope/starter"),
    ("schema", "{file}/s.json"), ("schema", "/proc/journeysim-nope/s.json"),
])
def test_output_into_an_impossible_root_exits_2(tmp_path, command, target):
    """--out / DIR under a regular file or under a root that cannot be created (/proc): exit 2 naming the path
    and a fix, nothing written."""
    (tmp_path / "file").write_text("x")
    path = target.format(file=tmp_path / "file")
    args = {"run": ["run", CART, "--customers", "5", "--out", path, "--quiet"], "init": ["init", path],
            "schema": ["schema", "--out", path]}[command]
    msg = clean(invoke(*args))
    assert msg.startswith("error: ")
    assert "check the path" in msg or "--out" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_init_and_schema_create_missing_folders(tmp_path):
    """A missing but creatable root is created (init DIR, schema --out DIR/F)."""
    assert clean(invoke("init", str(tmp_path / "a" / "b")), 0)
    assert (tmp_path / "a" / "b" / "scenario.yaml").is_file()
    assert clean(invoke("schema", "--out", str(tmp_path / "c" / "d" / "s.json")), 0)
    assert json.loads((tmp_path / "c" / "d" / "s.json").read_text())


def _enospc_in(monkeypatch, target: str) -> None:
    """Make one writer fail the way a full disk does."""
    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "events.parquet")

    monkeypatch.setattr(target, full)


@pytest.mark.parametrize("where", ["simulator.pipeline.write_analysis", "simulator.pipeline._write_customers",
                                   "simulator.report.html.build_report"])
def test_full_disk_leaves_only_a_failed_marker(tmp_path, monkeypatch, where):
    """ENOSPC at any write of a run: exit 2, 'no space left on device' and what to do; <out>.failed holds only
    summary.json (status failed, partial_data_removed) and no temporary folder is left."""
    _enospc_in(monkeypatch, where)
    out = tmp_path / "run"
    msg = clean(invoke("run", CART, "--customers", "20", "--out", str(out), "--quiet", "--set", LENIENT))
    assert "no space left on device" in msg and "free some space" in msg and "run.failed/summary.json" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.failed"]
    assert sorted(p.name for p in (tmp_path / "run.failed").iterdir()) == ["summary.json"]
    summary = json.loads((tmp_path / "run.failed" / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["partial_data_removed"] is True
    assert "no space left on device" in summary["error"]


def test_full_disk_while_simulating(tmp_path, monkeypatch):
    """ENOSPC from the event log's flush during the simulation (wrapped by the engine): the same clean end."""
    import simulator.engine.events

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(self.path))

    monkeypatch.setattr(simulator.engine.events.EventLog, "_flush", full)
    out = tmp_path / "run"
    msg = clean(invoke("run", CART, "--customers", "200", "--out", str(out), "--quiet"))
    assert "no space left on device" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run.failed"]
    assert sorted(p.name for p in (tmp_path / "run.failed").iterdir()) == ["summary.json"]


def _mount_tmpfs(path: Path, options: str) -> bool:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    path.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 400 KiB tmpfs (needs root; skipped otherwise)."""
    disk = tmp_path / "disk"
    if not _mount_tmpfs(disk, "size=400k"):
        pytest.skip("needs root and mount to make a tiny tmpfs")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def read_only_disk(tmp_path):
    disk = tmp_path / "ro"
    if not _mount_tmpfs(disk, "size=64k,ro"):
        pytest.skip("needs root and mount to make a read-only tmpfs")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


def test_really_full_disk(tiny_disk):
    """A real full disk (400 KiB tmpfs, a run needing several MiB): exit 2, only <out>.failed/summary.json."""
    started = time.monotonic()
    msg = clean(invoke("run", CART, "--customers", "2000", "--out", str(tiny_disk / "run"), "--quiet"))
    assert "no space left on device" in msg
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["run.failed"]
    assert sorted(p.name for p in (tiny_disk / "run.failed").iterdir()) == ["summary.json"]
    assert time.monotonic() - started < 60


def test_read_only_disk(read_only_disk):
    """--out on a read-only file system: exit 2 'read-only', nothing written."""
    msg = clean(invoke("run", CART, "--customers", "5", "--out", str(read_only_disk / "run"), "--quiet"))
    assert "read-only" in msg and "writable disk" in msg
    assert list(read_only_disk.iterdir()) == []
    assert "read-only" in clean(invoke("init", str(read_only_disk / "starter")))
    assert "read-only" in clean(invoke("schema", "--out", str(read_only_disk / "s.json")))


def test_read_only_disk_simulated(tmp_path, monkeypatch):
    """The same without root: mkdir of the run's folder fails with EROFS."""
    real = os.mkdir

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)
    msg = clean(invoke("run", CART, "--customers", "5", "--out", str(tmp_path / "run"), "--quiet"))
    assert "read-only file system" in msg and "writable disk" in msg
    assert list(tmp_path.iterdir()) == []


def test_out_into_a_folder_without_write_permission(tmp_path):
    """--out inside a folder the user may not write: exit 2 'permission denied' and the fix, nothing written.
    Root may write anywhere, so as root the command runs as user 'nobody' (65534)."""
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="journeysim-perm-"))
    try:
        base.chmod(0o755)
        locked = base / "locked"
        locked.mkdir()
        locked.chmod(0o555)
        args = [sys.executable, "-m", "simulator.cli", "run", CART, "--customers", "5", "--out", str(locked / "run"),
                "--quiet"]
        as_nobody = {"user": 65534, "group": 65534} if os.geteuid() == 0 else {}
        try:
            done = subprocess.run(args, capture_output=True, text=True, cwd=base, timeout=120,
                                  env={**os.environ, "HOME": str(base), "MPLCONFIGDIR": str(base)}, **as_nobody)
        except PermissionError:
            pytest.skip("cannot run as another user here")
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "permission denied" in done.stderr and "a folder you can write to" in done.stderr
        assert list(locked.iterdir()) == []
    finally:
        (base / "locked").chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


def test_out_without_write_permission_simulated(tmp_path, monkeypatch):
    """The same in-process (runs everywhere, also as root): creating the run's folder fails with EACCES."""
    real = os.mkdir

    def refuse(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "mkdir", refuse)
    msg = clean(invoke("run", CART, "--customers", "5", "--out", str(tmp_path / "run"), "--quiet"))
    assert "permission denied" in msg and "a folder you can write to" in msg
    assert list(tmp_path.iterdir()) == []
    sweep = clean(invoke("sweep", CART, "--customers", "5", "--replications", "1", "--vary",
                         "journeys[cart-abandonment].steps[wait_1h].wait=1h", "--out", str(tmp_path / "sweep")))
    assert "permission denied" in sweep


def test_partial_without_owner_record(tmp_path):
    """A .partial-run folder without its marker (a run killed as it started): `trace` says so, a run into the
    same --out refuses to touch it, both with how to clear it; nothing is deleted."""
    out = tmp_path / "run"
    partial_path(out).mkdir()
    msg = clean(invoke("trace", str(out), "--customer", "c1"))
    assert "no record of the run writing it" in msg and "remove it" in msg
    msg = clean(invoke("run", CART, "--customers", "5", "--out", str(out), "--quiet"))
    assert "without a record of the run writing it" in msg and "remove it" in msg
    assert partial_path(out).is_dir()


KILLED_OVERWRITE = """
import os, shutil, signal, sys
from simulator.runfolder import RunFolder
shutil.rmtree = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)  # killed just before the old folder goes
with RunFolder(sys.argv[1], overwrite=True) as rf:
    rf.file("data.txt").write_text("new")
    rf.commit({"scenario": "s", "version": "0"})
"""


def _run_folder(final: Path, text: str) -> None:
    with RunFolder(final) as rf:
        rf.file("data.txt").write_text(text)
        rf.commit({"scenario": "s", "version": "0"})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIGKILL and /proc start times")
def test_old_folder_renamed_aside_by_a_killed_overwrite_is_cleaned_by_the_next_run(tmp_path):
    """`--overwrite` renames the old folder aside (.run.old-<pid>-<random>), puts the new one in place, then
    removes the old one. A process SIGKILLed between the last two steps leaves the aside folder, with a
    marker naming that process. The next run into the same parent removes it (its process is gone); an
    aside-looking folder without a marker, and one whose process is alive, are kept."""
    out = tmp_path / "run"
    _run_folder(out, "old")
    killed = subprocess.run([sys.executable, "-c", KILLED_OVERWRITE, str(out)], capture_output=True, cwd=ROOT)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert (out / "data.txt").read_text() == "new"
    aside = [p for p in tmp_path.iterdir() if p.name.startswith(".run.old-")]
    assert len(aside) == 1 and (aside[0] / "data.txt").read_text() == "old"
    assert json.loads((aside[0] / MARKER_NAME).read_text())["renamed_aside"] is True
    lookalike = tmp_path / ".mine.old-1-abc"
    lookalike.mkdir()
    (lookalike / "precious.txt").write_text("keep")
    live = tmp_path / ".busy.old-2-xyz"
    live.mkdir()
    (live / MARKER_NAME).write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                                "proc_start": process_start_time(os.getpid())}))
    _run_folder(tmp_path / "next", "next")
    assert not aside[0].exists()
    assert (lookalike / "precious.txt").read_text() == "keep" and live.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".busy.old-2-xyz", ".mine.old-1-abc", "next", "run"]


def test_overwrite_that_cannot_put_the_new_folder_in_place_restores_the_old_one_unmarked(tmp_path, monkeypatch):
    """When the rename of the new folder fails, the old folder is renamed back without the aside marker (it is
    again an ordinary complete run folder, readable by trace/report)."""
    import simulator.runfolder as runfolder

    out = tmp_path / "run"
    _run_folder(out, "old")
    real = os.rename

    def rename(src, dst):
        if Path(src).name.endswith(PARTIAL_SUFFIX):
            raise OSError(errno.EIO, "Input/output error", str(src))
        return real(src, dst)

    monkeypatch.setattr(runfolder.os, "rename", rename)
    with pytest.raises(Exception):
        with RunFolder(out, overwrite=True) as rf:
            rf.file("data.txt").write_text("new")
            rf.commit({"scenario": "s", "version": "0"})
    assert (out / "data.txt").read_text() == "old" and not (out / MARKER_NAME).exists()
    assert is_run_folder(out)


def test_overwrite_refuses_a_run_folder_holding_a_users_own_files(tmp_path):
    """A run folder into which a user put a file of their own (or a copied summary.json next to their
    data) is not replaced: the user's files would be deleted. Nothing is deleted; the message names them."""
    from click.testing import CliRunner
    from conftest import ROOT
    from simulator.cli import cli
    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios" / "cart_abandonment.yaml"), "--customers", "50", "--no-report",
            "--quiet", "--out", str(out), "--set", 'gates={consent-violation: "<= 100%"}']
    assert CliRunner().invoke(cli, args).exit_code == 0
    (out / "data.txt").write_text("mine")
    r = CliRunner().invoke(cli, [*args, "--overwrite"])
    assert r.exit_code == 2, r.output
    assert "data.txt" in r.output and "nothing was deleted" in r.output
    assert (out / "data.txt").read_text() == "mine"
    (out / "data.txt").unlink()
    assert CliRunner().invoke(cli, [*args, "--overwrite"]).exit_code == 0
