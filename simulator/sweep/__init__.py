"""Parameter sweeps: a grid of scenario overrides x replications, on local processes or a Dask cluster.

``journeysim sweep`` runs every *variant* (one combination of ``--vary`` values, and/or a ``--what-if``)
under the same N seeds: replication 1 uses the scenario's seed, the others seeds spawned from it with
``numpy.random.SeedSequence`` (:func:`simulator.replications.replication_seeds`). The engine derives
every random stream from the seed by name, so a variant changes only what it varies: common random
numbers make curves smooth and what-if deltas paired.

A *task* is one variant under one seed. It ships the frozen :class:`Scenario` and the seed to a worker
and returns aggregates only (per finding kind: count, customers, rate; deliveries per channel; p95
messages per customer per week), never the event log. The main process saves each finished task at
once as ``tasks/<key>.json`` in the output folder, keyed by the variant's scenario hash, the seed, the
population size and journeysim's version: ``--resume`` skips what is done, a failed task loses nothing
else, and ``sweep.csv`` is built in grid order, so it does not depend on which worker finished first.

Modules: :mod:`~simulator.sweep.grid` (``--vary``/``--what-if`` parsing and the grid),
:mod:`~simulator.sweep.plan` (validation and tasks), :mod:`~simulator.sweep.task` (one run reduced to
aggregates), :mod:`~simulator.sweep.backends` (local processes, Dask), :mod:`~simulator.sweep.runner`
(the output folder) and :mod:`~simulator.sweep.tables` (sweep.csv, bands, recommendations, deltas).
"""

from __future__ import annotations

from simulator.sweep.backends import dask_client, default_workers
from simulator.sweep.grid import BASELINE, WHAT_IF, Variant, Vary, WhatIf, expand_range, parse_vary, parse_what_if
from simulator.sweep.plan import SweepPlan, SweepTask, plan_sweep
from simulator.sweep.runner import SweepOutcome, run_sweep
from simulator.sweep.tables import numeric_value, recommend, short_name, summarise, what_if_deltas
from simulator.sweep.task import TaskResult, run_task

__all__ = ["Vary", "WhatIf", "Variant", "SweepPlan", "SweepTask", "TaskResult", "SweepOutcome", "parse_vary",
           "expand_range", "parse_what_if", "plan_sweep", "run_task", "run_sweep", "dask_client", "summarise",
           "recommend", "what_if_deltas", "numeric_value", "short_name", "default_workers", "WHAT_IF", "BASELINE"]
