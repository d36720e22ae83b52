"""Worker processes never outlive journeysim, signals stop it cleanly, and a killed run's leftovers are
recognised: real `journeysim` processes, killed for real.

The findings pass runs on worker processes only above a shard size (50,000 customers); these tests set
the internal JOURNEYSIM_SHARD_CUSTOMERS so that a 3,000-customer run has 15 shards on 2 workers.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.parallel import pid_alive, process_start_time
from simulator.runfolder import MARKER_NAME, PARTIAL_SUFFIX

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc")

CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")
WAIT = "journeys[cart-abandonment].steps[wait_1h].wait=1h,2h"
LENIENT = 'gates={consent-violation: "<= 100%"}'


def _children() -> dict[int, list[int]]:
    """ppid -> pids of every live (non-zombie) process, from /proc."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        if fields[0] in ("Z", "X"):
            continue
        tree.setdefault(int(fields[1]), []).append(int(entry.name))
    return tree


def descendants(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def alive(pid: int, start: str | None) -> bool:
    """Alive and not a zombie (an orphan's zombie may wait for a reaper that never comes in a container)."""
    if not pid_alive(pid, start):
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2:].split()[0] not in ("Z", "X")


def journeysim(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "simulator.cli", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, **(env or {})}, start_new_session=True)


def wait_for_workers(proc: subprocess.Popen, at_least: int, timeout: float = 120) -> list[int]:
    """Poll every 10 ms until ``proc`` has ``at_least`` descendants; fail if it ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = descendants(proc.pid)
        if len(kids) >= at_least:
            return kids
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"journeysim ended (exit {proc.returncode}) before {at_least} workers were seen:\n{err.decode()}")
        time.sleep(0.01)
    pytest.fail("no worker processes within the timeout")


def kill9_and_check(proc: subprocess.Popen, kids: list[int]) -> float:
    """SIGKILL the parent; every descendant seen must be gone within 5 s. Returns the seconds it took."""
    starts = {pid: process_start_time(pid) for pid in kids}
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < 5:
            left = [pid for pid in kids if alive(pid, starts[pid])]
            if not left:
                return time.monotonic() - t0
            time.sleep(0.05)
        pytest.fail(f"worker processes outlived their parent by 5 s: {left}")
    finally:
        for pid in kids:  # never leave an orphan behind, even when the assertion fails
            if alive(pid, starts[pid]):
                os.kill(pid, signal.SIGKILL)
    return 0.0


def test_kill9_during_findings_leaves_no_worker_and_the_partial_is_recognised(tmp_path):
    """kill -9 of `journeysim run` while its findings shards run on 2 worker processes: both workers are
    gone within 5 s; the temporary folder it left is refused by `trace` (exit 2, names the killed pid)
    and removed by the next run into the same parent folder."""
    out = tmp_path / "run"
    proc = journeysim("run", CART, "--customers", "3000", "--out", str(out), "--quiet", "--no-report",
                      env={"JOURNEYSIM_SHARD_CUSTOMERS": "200"})
    kids = wait_for_workers(proc, 2)  # both workers of the pool
    took = kill9_and_check(proc, kids)
    assert took < 5
    partial = tmp_path / f".run{PARTIAL_SUFFIX}"
    assert partial.is_dir() and not out.exists()
    assert json.loads((partial / MARKER_NAME).read_text())["pid"] == proc.pid
    refused = CliRunner().invoke(cli, ["trace", str(out), "--customer", "c000001"])
    assert refused.exit_code == 2, refused.output
    assert f"pid {proc.pid}" in refused.output and "was killed before it finished" in refused.output
    also = CliRunner().invoke(cli, ["report", str(partial)])
    assert also.exit_code == 2 and "temporary folder of an unfinished run" in also.output
    assert "Traceback" not in refused.output + also.output
    again = CliRunner().invoke(cli, ["run", CART, "--customers", "20", "--out", str(tmp_path / "next"), "--quiet",
                                     "--no-report", "--set", LENIENT])
    assert again.exit_code == 0, again.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next"]


def test_kill9_during_sweep_leaves_no_worker(tmp_path):
    """kill -9 of `journeysim sweep --workers 2`: its forkserver, both workers (and the resource tracker)
    are gone within 5 s."""
    proc = journeysim("sweep", CART, "--customers", "400", "--replications", "2", "--vary", WAIT, "--workers", "2",
                      "--out", str(tmp_path / "sweep"), "--quiet", "--no-report")
    kids = wait_for_workers(proc, 3)  # forkserver + 2 workers (their parent is the forkserver)
    kill9_and_check(proc, kids)


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGHUP", "SIGINT"])
def test_signal_during_findings_stops_cleanly(tmp_path, sig, code):
    """SIGTERM (CI cancel), SIGHUP (terminal closed) and SIGINT (Ctrl-C) while findings shards run: exit
    128 + signal, one 'interrupted' line and no traceback or BrokenProcessPool, no folder of any kind left,
    and the workers gone."""
    out = tmp_path / "run"
    proc = journeysim("run", CART, "--customers", "3000", "--out", str(out), "--quiet", "--no-report",
                      env={"JOURNEYSIM_SHARD_CUSTOMERS": "200"})
    kids = wait_for_workers(proc, 1)
    starts = {pid: process_start_time(pid) for pid in kids}
    os.kill(proc.pid, sig)
    _out, err = proc.communicate(timeout=30)
    text = err.decode()
    assert proc.returncode == code, text
    name = {signal.SIGINT: "Ctrl-C"}.get(sig, sig.name)
    assert f"interrupted ({name})" in text
    assert "Traceback" not in text and "BrokenProcessPool" not in text
    assert list(tmp_path.iterdir()) == []
    deadline = time.monotonic() + 5
    while any(alive(p, starts[p]) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p, starts[p]) for p in kids)


def test_sigterm_during_simulation_exits_143_and_leaves_nothing(tmp_path):
    """SIGTERM during the simulation itself (no workers yet): exit 143, nothing left at --out."""
    proc = journeysim("run", CART, "--customers", "3000", "--out", str(tmp_path / "run"), "--quiet")
    deadline = time.monotonic() + 60
    while not any(p.name.endswith(PARTIAL_SUFFIX) for p in tmp_path.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.3)
    os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err.decode()
    assert "Traceback" not in err.decode()
    assert list(tmp_path.iterdir()) == []


def test_sigterm_during_sweep_keeps_finished_runs_and_exits_143(tmp_path):
    """SIGTERM to `journeysim sweep --workers 2` while its workers run: exit 143, the workers stopped,
    summary.json says 'interrupted', and the message says how to resume; no traceback."""
    out = tmp_path / "sweep"
    proc = journeysim("sweep", CART, "--customers", "400", "--replications", "2", "--vary", WAIT, "--workers", "2",
                      "--out", str(out), "--quiet", "--no-report")
    kids = wait_for_workers(proc, 3)
    starts = {pid: process_start_time(pid) for pid in kids}
    os.kill(proc.pid, signal.SIGTERM)
    _out, err = proc.communicate(timeout=30)
    text = err.decode()
    assert proc.returncode == 143, text
    assert "interrupted (SIGTERM)" in text and f"--resume --out {out}" in text
    assert "Traceback" not in text and "BrokenProcessPool" not in text
    assert json.loads((out / "summary.json").read_text())["status"] == "interrupted"
    deadline = time.monotonic() + 5
    while any(alive(p, starts[p]) for p in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(p, starts[p]) for p in kids)


def test_interrupted_is_rebuilt_from_its_args():
    """SimPy re-raises a process's exception as type(exc)(*exc.args) and pickle does the same: an
    Interrupted rebuilt that way keeps its signal (it used to raise ValueError: 'SIGHUP' is not a valid
    Signals, which turned a SIGHUP inside a UAT simulation into a failed scenario)."""
    import pickle

    from simulator.interrupts import Interrupted

    for sig, code in ((signal.SIGHUP, 129), (signal.SIGTERM, 143), (signal.SIGINT, 130)):
        exc = Interrupted(sig)
        assert type(exc)(*exc.args).signum == sig
        assert pickle.loads(pickle.dumps(exc)).exit_code == code


def test_close_pool_abort_keeps_the_manager_threads_complaint_quiet_and_no_other(monkeypatch):
    """After a deliberate kill the pool's manager thread may raise (a pipe closing under it): close_pool(abort=True)
    passes nothing on for that thread, still reports any other thread's exception, and restores the hook."""
    import threading

    from simulator.parallel import close_pool

    seen: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.thread.name))

    def boom() -> None:
        raise EOFError("pipe closed under the manager")

    class FakePool:
        _processes: dict = {}

        def __init__(self) -> None:
            self._executor_manager_thread = threading.Thread(target=boom, name="manager")
            self.other = threading.Thread(target=boom, name="other")

        def shutdown(self, wait: bool, cancel_futures: bool) -> None:
            for t in (self._executor_manager_thread, self.other):
                t.start()
                t.join()

    hook = threading.excepthook
    close_pool(FakePool(), abort=True)
    assert seen == ["other"]
    assert threading.excepthook is hook
