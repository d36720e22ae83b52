"""Run one generated case through the CLI in-process and say whether it failed cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from simulator.cli import cli

from .mutations import Case


#: Resource limits of the smoke-test runs (the defaults allow runs of many minutes).
RUN_MAX_EVENTS = 200_000


class Hung(Exception):
    """The command did not finish within the time allowed."""


@dataclass
class Outcome:
    case: Case
    validate_code: int | None = None
    run_code: int | None = None
    output: str = ""
    problem: str | None = None  # None: clean
    seconds: float = 0.0

    @property
    def status(self) -> str:
        if self.problem is None:
            return "clean"
        return "hung" if self.problem.startswith("hung") else "crashed"


def materialise(case: Case, folder: Path) -> Path:
    """Write the case where the CLI can read it; returns the path to give on the command line."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "scenario.yaml"
    if case.special == "dir":
        path.mkdir()
    elif case.special == "fifo":
        os.mkfifo(path)
    elif case.special == "devzero":
        return Path("/dev/zero")
    elif case.special == "missing":
        return folder / "missing.yaml"
    else:
        path.write_bytes(case.content or b"")
    return path


def _invoke(args: list[str], timeout: float) -> tuple[int, str]:
    def alarm(_signum, _frame):
        raise Hung()

    old = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return result.exit_code, result.output + (getattr(result, "stderr", "") if _separate() else "")


def _separate() -> bool:
    try:
        CliRunner(mix_stderr=False)  # type: ignore[call-arg]
        return False
    except TypeError:
        return False


def check(case: Case, folder: Path, *, run: bool, timeout: float = 20.0, customers: int = 3) -> Outcome:
    """``validate`` must exit 0 or 2 without a traceback; with ``run``, a case that validates must
    also run (a handful of customers) with exit 0 or 1 (1 = a gate failed), never fail to build."""
    out = Outcome(case)
    started = time.perf_counter()
    target = materialise(case, folder)
    sets = [a for s in case.overrides for a in ("--set", s)]
    try:
        code, text = _invoke(["validate", str(target), *sets], timeout)
        out.validate_code, out.output = code, text
        if code not in (0, 2):
            out.problem = f"validate exited {code}"
        elif "Traceback" in text:
            out.problem = "validate printed a traceback"
        elif run and code == 0:
            dest = folder / "run-out"
            # runs here are a smoke test: lower limits refuse valid but long runs (e.g. 2M retries, ~1 min)
            small = ["--set", f"limits.max_events={RUN_MAX_EVENTS}", "--set", f"limits.max_scheduled={RUN_MAX_EVENTS}"]
            code, text = _invoke(["run", str(target), *sets, *small, "--customers", str(customers), "--out",
                                  str(dest), "--no-report", "--quiet", "--overwrite"], timeout)
            out.run_code, out.output = code, out.output + text
            if "Hung()" in text:
                raise Hung()
            if code == 2 and "--set limits.max_" in text and "Traceback" not in text:
                pass  # refused up front by a resource limit (--customers or the smoke test's lower limits)
            elif code not in (0, 1):
                out.problem = f"validated, but run exited {code}: {text.strip()[-300:]}"
            elif "Traceback" in text:
                out.problem = "run printed a traceback"
    except Hung:
        out.problem = f"hung: no exit within {timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - any exception escaping the CLI is a crash
        out.problem = f"crashed: {type(exc).__name__}: {str(exc)[:300]}"
    finally:
        out.seconds = time.perf_counter() - started
        if case.special != "devzero":
            shutil.rmtree(folder, ignore_errors=True)
    return out
