"""Up-front resource estimate: refuse a run that cannot finish before building anything.

A scenario can be valid and still impossible to run: ten million customers with ten thousand events
a day each, a segment re-evaluated every second for two weeks, a batch link running every
millisecond. The engine generates the exogenous schedule and schedules every segment evaluation and
batch run before the clock starts, so such a run would exhaust memory or run for days. The checks
below estimate, from the validated scenario alone, what the run would do and compare it with the
scenario's ``limits:`` (defaults in :class:`~simulator.scenario.model.Limits`); each refusal says
the estimate, which keys cause it and how to raise the limit (``--set limits.NAME=N``). They run in
``validate`` (with the scenario's ``population.size``) and again in ``run`` (with ``--customers``).

Estimated: customers; customer events (``after`` chains propagated); retries of links that fail;
laps of journey loops (the quickest loop of waits); segment evaluations and batch runs scheduled up
front; customers checked against segments. Loops that never let the clock move (journey loops whose
waits are all 0s, ``after`` loops with probability 1 and no delay) are always refused. The estimates
are expected values and upper bounds where a condition may suppress something (an event's ``when``
is taken as always true). See docs/errors.md for the formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from simulator.errors import ScenarioError, ScenarioIssue
from simulator.scenario.model import Scenario
from simulator.scenario.rates import rate_upper
from simulator.scenario.units import format_duration

__all__ = ["ResourceProblem", "resource_problems", "expected_events", "check_resources"]


@dataclass(frozen=True)
class ResourceProblem:
    """One exceeded limit: where it comes from, what was estimated, and the limit's key."""

    path: tuple[str | int, ...]
    message: str
    hint: str


def _n(x: float) -> str:
    """A count for people: 1,234,567 or 1.4e+12."""
    return f"{x:,.0f}" if x < 1e15 else f"{x:.2g}"  # inf prints as 'inf'


def _each(x: float) -> str:
    return _n(x) if x >= 1000 else f"{x:.3g}"


def expected_events(sc: Scenario) -> tuple[list[float], str | None]:
    """Expected occurrences per generated customer of each ``population.events`` entry over the run,
    and the name of an event in a loop of ``after`` events that repeats forever at one instant.

    ``once``: its probability; ``poisson``: rate x days (the highest rate when it is per attribute value;
    response lifts not counted); ``after``: its probability times the expected
    count of the event it follows (chains propagated). An event has exactly one timing, so a loop of
    ``after`` events cannot be entered by generated customers (it contributes nothing here); only a
    scripted (UAT) event can start it, and a loop whose probabilities are all 1 and whose delays are
    all 0 would then never let the clock move: that is reported."""
    events = sc.population.events
    days = sc.duration / 86400.0
    base = [rate_upper(ev.poisson.rate_per_day) * days if ev.poisson is not None else
            ev.once.probability if ev.once is not None else 0.0 for ev in events]
    index = {e.name: i for i, e in enumerate(events)}
    parent = {i: index[ev.after.event] for i, ev in enumerate(events)
              if ev.after is not None and ev.after.event in index}
    occ = list(base)
    for _ in range(len(events) + 1):  # chains are at most len(events) long
        occ = [base[i] + (events[i].after.probability * occ[parent[i]]  # type: ignore[union-attr]
                          if i in parent else 0.0) for i in range(len(events))]
    for start in parent:
        seen, node = [], start
        while node in parent and node not in seen:
            seen.append(node)
            node = parent[node]
        if node == start:  # a loop through start
            loop = [events[i] for i in seen]
            if all(e.after.probability >= 1 and _mean(e.after.delay) <= 0 for e in loop):  # type: ignore[union-attr]
                return occ, events[min(seen)].name
    return occ, None


def _shortest_loop(j) -> tuple[float | None, int]:
    """The least total wait (seconds) of any loop of steps in journey ``j`` and a step on it; (None, 0)
    without loops. A ``wait_until`` counts its timeout (an event may end it sooner, so that is ignored)."""
    from heapq import heappop, heappush

    from simulator.scenario.semantics import step_successors

    ids = {s.id: i for i, s in enumerate(j.steps)}
    succ = {i: [ids[t] for t in step_successors(j, i) if t in ids] for i in range(len(j.steps))}

    def cost(i: int) -> float:
        st = j.steps[i]
        if st.wait is not None:
            return st.wait
        if st.wait_until is not None:
            return st.wait_until.timeout if st.wait_until.timeout is not None else math.inf
        return 0.0

    best: tuple[float | None, int] = (None, 0)
    for start in succ:
        dist = {start: 0.0}
        heap = [(0.0, start)]
        found = math.inf
        while heap:
            d, node = heappop(heap)
            if d > dist.get(node, math.inf) or d >= found:
                continue
            for nxt in succ[node]:
                nd = d + cost(node)
                if nxt == start:
                    found = min(found, nd)
                elif nd < dist.get(nxt, math.inf):
                    dist[nxt] = nd
                    heappush(heap, (nd, nxt))
        if math.isfinite(found) and (best[0] is None or found < best[0]):
            best = (found, start)
    return best


def _entries_per_customer(sc: Scenario, j, per_customer: list[float], index: dict[str, int]) -> float:
    """How many times one customer may enter ``j`` over the run (an upper bound for segments)."""
    cooldown = j.cooldown
    if j.entry.kind == "event":
        n = per_customer[index[j.entry.event]] if j.entry.event in index else 1.0
    elif j.entry.kind == "segment":
        n = sc.duration / j.entry.every if j.entry.every else 1.0
    else:
        n = 1.0
    if cooldown is None:
        return min(1.0, n)
    if cooldown > 0:
        n = min(n, sc.duration / cooldown + 1)
    return max(1.0, n) if j.entry.kind != "event" else n


def _mean(dist: object) -> float:
    try:
        return max(0.0, float(dist.mean))  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return 0.0


def resource_problems(sc: Scenario, size: int | None = None, *, size_path: tuple = ("population", "size"),
                      size_text: str = "population.size") -> list[ResourceProblem]:
    """Every limit of ``sc.limits`` the run would exceed with ``size`` generated customers (default
    the scenario's ``population.size``)."""
    lim = sc.limits
    size = sc.population.size if size is None else size
    out: list[ResourceProblem] = []

    def over(path, message, name, value):
        want = max(value * 1.1, getattr(lim, name) + 1)
        if not math.isfinite(want) or want > 1e18:
            out.append(ResourceProblem(tuple(path), message, "no limit can be raised that far: this run can never "
                                       "finish"))
            return
        want_text = str(math.ceil(round(want, 6)))  # 3e6 x 1.1 is 3300000.0000000005 in floats
        out.append(ResourceProblem(tuple(path), message, f"if the machine can take it, raise the limit with "
                                   f"--set limits.{name}={want_text} (or 'limits: {{{name}: {want_text}}}' in the "
                                   "scenario)"))

    identity = sc.population.identity  # each profile of a person is a customer row (docs/identity.md)
    rows = size if identity is None else math.ceil(size * float(identity.profiles.mean))
    if rows > lim.max_customers:
        what = f"{_n(rows)} customers" if identity is None else \
            f"{_n(size)} persons with their profiles (about {_n(rows)} customers)"
        over(size_path, f"{what} is over the limit of {_n(lim.max_customers)} (the engine keeps "
             f"about 2 KiB per customer: about {rows * 2 / 1024 / 1024:,.1f} GiB); lower {size_text}",
             "max_customers", rows)
    per_customer, loop = expected_events(sc)
    if loop is not None:
        i = next(k for k, e in enumerate(sc.population.events) if e.name == loop)
        out.append(ResourceProblem(("population", "events", i, "after"),
                                   f"event '{loop}' is part of a loop of 'after' events whose probabilities "
                                   "are all 1 and whose delays are all 0: once started (by a scripted event) it "
                                   "would repeat forever at one instant",
                                   "give the loop a delay or a probability below 1"))
    total = size * sum(per_customer)
    if total:
        if total > lim.max_events:
            worst = max(range(len(per_customer)), key=lambda k: per_customer[k])
            ev = sc.population.events[worst]
            rate = (f"{rate_upper(ev.poisson.rate_per_day):g} a day" if ev.poisson is not None
                    else f"{per_customer[worst]:.3g} per customer")
            over(("population", "events", worst), f"the run would generate about {_n(total)} customer events "
                 f"({_n(size)} customers x {_each(sum(per_customer))} events each over {format_duration(sc.duration)}; "
                 f"the most frequent is '{ev.name}' at {rate}), over the limit of {_n(lim.max_events)}: they are "
                 f"generated up front (about {total * 20 / 2**30:,.1f} GiB) and each costs several log records; "
                 f"lower {size_text}, the event rates or the duration", "max_events", total)
    records = size * max(1.0, sum(per_customer))  # changes a link may carry: at least one per customer
    for li, link in enumerate(sc.sync):
        if link.retry_after is not None and link.failure_rate > 0:
            per_record = sc.duration / link.retry_after if link.retry_after > 0 else math.inf
            if link.failure_rate < 1:
                per_record = min(per_record, link.failure_rate / (1 - link.failure_rate))
            retries = records * per_record
            if retries > lim.max_events:
                over(("sync", li, "retry_after"), f"link {link.label} would retry about {_n(retries)} times "
                     f"(failure_rate {link.failure_rate:g}: a failed record is retried every "
                     f"{format_duration(link.retry_after)}"
                     + (" until the run ends" if link.failure_rate >= 1 else "")
                     + f", for about {_n(records)} records), over the limit of {_n(lim.max_events)}; lower "
                     "failure_rate or retry less often", "max_events", retries)
    index = {e.name: i for i, e in enumerate(sc.population.events)}
    for ji, j in enumerate(sc.journeys):
        weight, where = _shortest_loop(j)
        if weight is None:
            continue
        path = ("journeys", ji, "steps", where, "id")
        if weight <= 0:
            out.append(ResourceProblem(path, f"journey '{j.name}' can loop through step '{j.steps[where].id}' with "
                                       "every wait on the loop 0s: the clock would never move for that customer",
                                       "give a wait on the loop a positive duration, or route the loop to 'end'"))
            continue
        laps = sc.duration / weight
        entries = _entries_per_customer(sc, j, per_customer, index)
        total_laps = size * entries * laps
        if total_laps > lim.max_events:
            over(path, f"journey '{j.name}' loops through step '{j.steps[where].id}' every "
                 f"{format_duration(weight)} at the quickest: up to {_n(laps)} laps per instance over "
                 f"{format_duration(sc.duration)}, about {_n(total_laps)} for {_n(size)} customers, over the "
                 f"limit of {_n(lim.max_events)}; make the loop's waits longer or let it end", "max_events", total_laps)
    scheduled: list[tuple[float, tuple, str]] = []
    for ji, j in enumerate(sc.journeys):
        if j.entry.kind == "segment" and j.entry.every:
            n = math.ceil(sc.duration / j.entry.every)
            scheduled.append((n, ("journeys", ji, "entry", "every"),
                              f"journey '{j.name}' re-evaluates its segment every {format_duration(j.entry.every)}"))
            if n * size > lim.max_segment_checks:
                over(("journeys", ji, "entry", "every"), f"journey '{j.name}' would check {_n(n * size)} customers "
                     f"against its segment ({_n(n)} evaluations every {format_duration(j.entry.every)} x "
                     f"{_n(size)} customers), over the limit of {_n(lim.max_segment_checks)}; re-evaluate less "
                     "often (every: 1h is typical of real orchestrators)", "max_segment_checks", n * size)
    for li, link in enumerate(sc.sync):
        if link.mode == "batch":
            if link.every is not None:
                n = math.ceil(sc.duration / link.every)
                what = f"every {format_duration(link.every)}"
                path: tuple = ("sync", li, "every")
            else:
                n = len(link.clock_times) * (math.ceil(sc.duration / 86400) + 1)
                what = f"at {len(link.clock_times)} times a day"
                path = ("sync", li, "at")
            scheduled.append((n, path, f"batch link {link.label} runs {what}"))
    total_scheduled = sum(n for n, _, _ in scheduled)
    if total_scheduled > lim.max_scheduled:
        n, path, why = max(scheduled, key=lambda s: s[0])
        over(path, f"the run would schedule {_n(total_scheduled)} segment evaluations and batch runs up front "
             f"({why}: {_n(n)} over {format_duration(sc.duration)}), over the limit of {_n(lim.max_scheduled)} "
             f"(about {total_scheduled * 570 / 2**20:,.0f} MiB before the clock starts, 570 bytes each as "
             "measured); run it less often",
             "max_scheduled", total_scheduled)
    return out


def check_resources(sc: Scenario, customers: int | None = None) -> None:
    """Raise :class:`ScenarioError` (exit 2) when a run of ``sc`` with ``customers`` (``--customers``;
    default the scenario's size) would exceed a limit. Called by ``run_scenario`` before building."""
    from simulator.scenario.yamlread import format_path

    problems = resource_problems(sc, customers, size_text="population.size" if customers is None else "--customers")
    if problems:
        raise ScenarioError([ScenarioIssue(format_path(p.path) if customers is None or p.path != ("population", "size")
                                           else "--customers", p.message, hint=p.hint) for p in problems],
                            sc.source_file)
