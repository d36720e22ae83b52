"""Run a sweep plan into an output folder: resume, save each finished task at once, then the tables,
the page and the manifest (each written atomically)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.errors import UsageError
from simulator.fileio import atomic_path, atomic_write_text, describe_os_error, os_error_in
from simulator.scenario.model import Gate
from simulator.sweep.backends import dask_client, default_workers, run_dask, run_local
from simulator.sweep.plan import SweepPlan, SweepTask
from simulator.sweep.tables import build_table, recommend, summarise, what_if_deltas
from simulator.sweep.task import TaskResult


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` produced."""

    folder: Path
    table: pd.DataFrame
    summary: pd.DataFrame
    recommendations: list[dict[str, Any]]
    deltas: pd.DataFrame
    failures: list[dict[str, Any]]
    ran: int
    resumed: int
    wall_seconds: float
    backend: str
    files: list[str]


def reserve_folder(path: str | Path) -> Path:
    """Create ``path`` (or ``path-2``, ``path-3``, ... when taken) exclusively and return it: two sweeps
    started in the same second with the default name never share a folder."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot create the output folder: {describe_os_error(exc)}") from None
    for n in range(1, 1000):
        candidate = path if n == 1 else path.with_name(f"{path.name}-{n}")
        try:
            candidate.mkdir()
            return candidate
        except FileExistsError:
            continue
        except OSError as exc:
            raise UsageError(f"cannot create the output folder: {describe_os_error(exc)}") from None
    raise UsageError(f"no free folder name like {path} (tried 999); pass --out")


def _check_folder(out: Path, resume: bool) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder; pass --out with a folder")
    summary = out / "summary.json"
    is_sweep = False
    if summary.exists():
        try:
            data = json.loads(summary.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError) as exc:  # ValueError covers JSON and UTF-8 decoding errors
            data = f"it cannot be read: {exc}"
        if not isinstance(data, dict):
            what = data if isinstance(data, str) else "it is not a JSON object"
            raise UsageError(f"{summary} is damaged ({what}), so journeysim cannot tell what {out} holds; pass "
                             f"--out with a new folder (or remove {out} yourself)")
        is_sweep = data.get("kind") == "sweep"
    if resume and not is_sweep and any(out.iterdir()):
        raise UsageError(f"{out} is not a sweep output folder (no summary.json of a sweep); --resume needs one")
    if not resume and any(out.iterdir()):
        raise UsageError(f"{out} already exists; pass --resume to continue that sweep, or --out with a new folder")


def _load_done(out: Path, tasks: Sequence[SweepTask]) -> dict[str, TaskResult]:
    done: dict[str, TaskResult] = {}
    for task in tasks:
        file = out / "tasks" / f"{task.key}.json"
        if file.exists():
            try:
                data = json.loads(file.read_text())
                result = TaskResult(**data)
            except (ValueError, TypeError):
                continue  # unreadable: run it again
            if result.ok and result.key == task.key:
                result.variant, result.replication = task.variant, task.replication
                done[task.key] = result
    return done


def _manifest(plan: SweepPlan, backend: str) -> dict[str, Any]:
    from simulator import __version__

    return {
        "kind": "sweep", "scenario": plan.base.scenario, "scenario_file": plan.path,
        "scenario_hash": plan.base.source_hash, "set": list(plan.base_overrides), "seed": plan.seed,
        "seeds": plan.seeds, "replications": len(plan.seeds),
        "customers": plan.customers if plan.customers is not None else plan.base.population.size,
        "vary": [{"key": v.key, "values": list(v.values)} for v in plan.varies],
        "what_if": [{"label": w.label, "overrides": list(w.overrides)} for w in plan.what_ifs],
        "variants": [{"variant": v.index, "settings": dict(v.settings), "overrides": list(v.overrides)}
                     for v in plan.variants],
        "tasks": len(plan.tasks), "backend": backend, "version": __version__,
    }


def _collect(plan: SweepPlan, source: Iterator[tuple[SweepTask, TaskResult]], out: Path,
             results: dict[str, TaskResult], failures: list[dict[str, Any]],
             on_task: Callable[[TaskResult], None] | None) -> None:
    """Save each finished task at once (tasks/<key>.json); note failures with their variant and seed."""
    from simulator import __version__

    for task, result in source:
        if result.ok and result.version != __version__:
            result.error = f"the worker runs journeysim {result.version}, this machine {__version__}"
        if result.ok:
            results[task.key] = result
            atomic_write_text(out / "tasks" / f"{task.key}.json", json.dumps(asdict(result), sort_keys=True))
        else:
            variant = plan.variants[task.variant]
            failures.append({"variant": task.variant, "settings": variant.describe(),
                             "replication": task.replication, "seed": task.seed, "error": result.error,
                             "worker": result.worker, "traceback": result.traceback})
        if on_task is not None:
            on_task(result)


def _write_status(out: Path, manifest: dict[str, Any], status: str, error: str | None = None) -> bool:
    """Replace summary.json by ``manifest`` with ``status`` (and ``error``); on a full disk, remove the
    old summary.json first to make room and try once more. False when it could not be written (then no
    summary.json is left: the folder never reads as a sweep still running)."""
    text = json.dumps({**manifest, "status": status, **({"error": error} if error else {})}, indent=2) + "\n"
    summary = out / "summary.json"
    try:
        atomic_write_text(summary, text)
        return True
    except OSError:
        summary.unlink(missing_ok=True)
    try:
        atomic_write_text(summary, text)
        return True
    except OSError:
        summary.unlink(missing_ok=True)
        return False


@contextmanager
def _final_status(out: Path, manifest: dict[str, Any]) -> Iterator[None]:
    """A sweep that stops early never leaves summary.json saying 'running': an interruption marks it
    'interrupted'; an error marks it 'failed' with the error. An output error (disk full, read-only) then
    ends as a clean usage error that says what is kept and how to continue."""
    try:
        yield
    except KeyboardInterrupt:
        _write_status(out, manifest, "interrupted")
        raise
    except Exception as exc:
        os_error = os_error_in(exc)
        error = describe_os_error(os_error) if os_error is not None else f"{type(exc).__name__}: {exc}"
        written = _write_status(out, manifest, "failed", error)
        if os_error is None:
            raise
        kept = (f"summary.json says status 'failed'; the finished runs are kept in {out / 'tasks'}: continue "
                f"with --resume --out {out}") if written else \
            "summary.json could not be written either (it was removed); run the sweep again into a new --out"
        raise UsageError(f"the sweep could not write its folder {out}: {error}; {kept}") from None


def run_sweep(plan: SweepPlan, out: str | Path, *, workers: int | None = None, dask: Any = None,
              resume: bool = False, gates: Sequence[Gate] = (), report: bool = True,
              on_start: Callable[[int, int], None] | None = None,
              on_task: Callable[[TaskResult], None] | None = None) -> SweepOutcome:
    """Run the plan's tasks (skipping finished ones with ``resume``) and write the output folder.

    Writes ``tasks/<key>.json`` as tasks finish, then ``sweep.csv``, ``sweep.parquet``, ``what_if.csv``
    (with what-ifs), ``failures.csv`` (when tasks failed), ``sweep.html`` and ``summary.json``, each
    atomically. ``gates`` are added to the scenario's for the recommendations. ``on_start(todo, done)``
    is called once before running, ``on_task`` after each task. Failed tasks do not raise: see
    :attr:`SweepOutcome.failures`. Local workers start with ``forkserver`` (else ``spawn``), which
    re-imports the calling script: call this under ``if __name__ == "__main__":`` in a script.
    """
    out = Path(out)
    _check_folder(out, resume)
    workers = workers or default_workers()
    backend = f"dask {dask}" if dask is not None else f"{workers} local worker{'s' if workers != 1 else ''}"
    done = _load_done(out, plan.tasks) if resume else {}
    todo = [t for t in plan.tasks if t.key not in done]
    client = dask_client(dask) if dask is not None and todo else None  # before anything is written
    out.mkdir(parents=True, exist_ok=True)
    (out / "tasks").mkdir(exist_ok=True)
    manifest = _manifest(plan, backend)
    atomic_write_text(out / "summary.json", json.dumps({**manifest, "status": "running"}, indent=2) + "\n")
    if on_start is not None:
        on_start(len(todo), len(done))
    started = time.perf_counter()
    results = dict(done)
    failures: list[dict[str, Any]] = []
    with _final_status(out, manifest):
        source = run_dask(todo, client) if client is not None else run_local(todo, workers)
        _collect(plan, source, out, results, failures, on_task)
        wall = time.perf_counter() - started
        failures.sort(key=lambda f: (f["variant"], f["replication"]))
        table = build_table(plan, results)
        summary = summarise(table, plan.columns)
        all_gates = list(plan.base.gate_list) + [g for g in gates if g not in plan.base.gate_list]
        recs = recommend(summary, plan, all_gates)
        deltas = what_if_deltas(table, plan) if plan.what_ifs else pd.DataFrame()
        files = ["sweep.csv", "sweep.parquet"]
        with atomic_path(out / "sweep.csv") as tmp:
            table.to_csv(tmp, index=False)
        with atomic_path(out / "sweep.parquet") as tmp:
            table.to_parquet(tmp, index=False)
        if not deltas.empty:
            with atomic_path(out / "what_if.csv") as tmp:
                deltas.to_csv(tmp, index=False)
            files.append("what_if.csv")
        failures_file = out / "failures.csv"
        if failures:
            with atomic_path(failures_file) as tmp:
                pd.DataFrame(failures).to_csv(tmp, index=False)
            files.append("failures.csv")
        else:
            failures_file.unlink(missing_ok=True)
        final = {**manifest, "status": "complete" if not failures else "incomplete",
                 "tasks_run": len(todo), "tasks_resumed": len(done), "tasks_failed": len(failures),
                 "failures": [{k: v for k, v in f.items() if k != "traceback"} for f in failures],
                 "gates": [g.text for g in all_gates], "recommendations": recs,
                 "wall_seconds": round(wall, 3)}
        if report:
            from simulator.report.sweep_page import write_sweep_page

            write_sweep_page(out / "sweep.html", plan=plan, summary=summary, recommendations=recs, deltas=deltas,
                             failures=failures, gates=all_gates, manifest=final)
            files.append("sweep.html")
        atomic_write_text(out / "summary.json", json.dumps(final, indent=2, default=str) + "\n")
    return SweepOutcome(out, table, summary, recs, deltas, failures, len(todo), len(done), wall, backend, files)

