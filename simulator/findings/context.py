"""What every detector reads: the event log as a DataFrame, the frozen scenario, the customer table,
and the root-cause tracer that explains a stale read by the sync path that was behind.

The tracer is exact: for a decision that used version ``v`` of a key while truth held a newer one,
it finds the first version the system missed (``v + 1``), when and where truth changed, and the
hops that version took (or failed to take) to the deciding system, from the ``truth``, ``sync`` and
``sync-lost`` records of the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import pandas as pd

import numpy as np

from simulator.scenario.model import Scenario, SyncLink
from simulator.scenario.units import format_duration, format_span, format_stamp
from simulator.engine.systems import carries

__all__ = ["FindingContext", "Cause", "describe_link"]

#: Columns of the log detectors need; loaded once.
LOG_COLUMNS = ["t", "seq", "customer", "kind", "journey", "step", "system", "field", "value", "version",
               "truth_value", "truth_version", "channel", "message", "detail"]


def describe_link(link: SyncLink) -> str:
    """The configured timing of a link, as a user wrote it: 'stream, latency Lognormal(median=2m, p95=15m)'."""
    if link.mode == "stream":
        text = f"stream, latency {link.latency!r}"
    elif link.every is not None:
        text = f"batch every {format_duration(link.every)}"
        if link.offset:
            text += f" offset {format_duration(link.offset)}"
        text += f", run duration {link.duration!r}"
    else:
        clocks = ", ".join(f"{c // 3600:02d}:{c % 3600 // 60:02d}" for c in link.clock_times)
        text = f"batch daily at {clocks} {link.timezone}, run duration {link.duration!r}"
    if link.failure_rate:
        text += f", failure_rate {link.failure_rate:g}"
    if link.outages:
        text += f", {len(link.outages)} outage{'s' if len(link.outages) > 1 else ''}"
    return text


@dataclass(frozen=True)
class Cause:
    """Why one system did not have one version of one key at decision time."""

    text: str                  # the sentence for findings.csv's root_cause column
    link: str | None           # the hop that was behind (label)
    lag: float                 # observed seconds from truth change to arrival at the deciding system (NaN: never)
    changed_at: float          # simulation time truth changed (NaN if unknown)
    late_by: float = float("nan")  # seconds the change arrived after the decision (NaN: never arrived)
    hop_at_decision: str | None = None  # the hop the change was on (had not crossed) at decision time


class FindingContext:
    """The inputs of every detector, plus lookups shared between them."""

    def __init__(self, scenario: Scenario, events: pd.DataFrame, customers: pd.DataFrame):
        self.scenario = scenario
        self.ev = events
        self.customers = customers.set_index("customer", drop=False)

    @cached_property
    def _kind_positions(self) -> dict[str, np.ndarray]:
        return {str(k): v for k, v in self.ev.groupby("kind", sort=False, observed=True).indices.items()}

    def of(self, *kinds: str) -> pd.DataFrame:
        """Records of the given kinds, in log order."""
        parts = [self._kind_positions[k] for k in kinds if k in self._kind_positions]
        if not parts:
            return self.ev.iloc[0:0]
        return self.ev.iloc[np.sort(np.concatenate(parts))]

    def stamp(self, t: float) -> str:
        return format_stamp(self.scenario.start, t)

    def span(self, seconds: float) -> str:
        return format_span(seconds, 0)

    @cached_property
    def _sync_records(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """Truth changes, arrivals and losses as column arrays, with row positions per customer."""
        sub = self.of("truth", "sync", "out-of-order", "sync-lost")
        cols = {c: sub[c].to_numpy(dtype=object) for c in ("kind", "field", "version", "t", "system", "detail", "seq")}
        return cols, sub.groupby("customer", sort=False).indices

    def _history(self, customer: str, key: str, version: int):
        """(truth change, arrivals by system, losses) of one version of one key of one customer."""
        cols, groups = self._sync_records
        change = None
        arrivals: dict[str, tuple[float, str]] = {}
        lost: list[tuple[float, str]] = []
        for i in groups.get(customer, ()):
            if cols["field"][i] != key or cols["version"][i] != version:
                continue
            kind, t = cols["kind"][i], float(cols["t"][i])
            if kind == "truth":
                change = (t, cols["system"][i])
            elif kind == "sync-lost":
                lost.append((t, cols["detail"][i]))
            elif cols["system"][i] not in arrivals:
                link = str(cols["detail"][i]).split(";")[0].removeprefix("link=")
                arrivals[cols["system"][i]] = (t, link)
        return change, arrivals, lost

    @cached_property
    def links_by_label(self) -> dict[str, SyncLink]:
        return {link.label: link for link in self.scenario.sync}

    def cause(self, customer: str, key: str, missed_version: int, system: str, decided: float) -> Cause:
        """Explain why ``system`` did not hold ``missed_version`` of ``key`` at time ``decided``."""
        change, arrivals, lost = self._history(customer, key, missed_version)
        if change is None:
            return Cause(f"{key} v{missed_version} is not in the log", None, float("nan"), float("nan"))
        changed_at, origin = change
        prefix = f"{key} changed at {origin} {self.stamp(changed_at)} (v{missed_version})"
        if system == origin:  # made at the deciding system itself, after the decision: no link involved
            when = (f"{self.span(changed_at - decided)} after this decision" if changed_at > decided
                    else f"{self.span(decided - changed_at)} before this decision")
            return Cause(f"{prefix}, at {system} itself, {when}", None, 0.0, changed_at, changed_at - decided)
        if system in arrivals:
            t_arrive, label = arrivals[system]
            overwrite = self._overwrite(customer, key, system, missed_version, t_arrive, decided)
            if overwrite is not None:
                # it arrived before the decision, but a late older record replaced it (apply: arrival)
                # the lag reported is the named link's: how long the older record took to arrive
                t_over, over_label, over_version = overwrite
                older = self._history(customer, key, over_version)[0]
                lag = t_over - older[0] if older is not None else float("nan")
                text = (f"{prefix}; reached {system} {self.stamp(t_arrive)} via {label}, "
                        f"{self.span(t_arrive - changed_at)} later, but at {self.stamp(t_over)} {over_label} applied "
                        f"the older v{over_version}" + (f" ({self.span(lag)} after its change)" if older else "")
                        + " over it: out-of-order, last arrival wins")
                blamed = over_label
                up = self.reordered_upstream(customer, key, over_version, system, t_over)
                if up is not None:  # over_label kept the order: the reordering happened upstream
                    blamed, t_up, where = up
                    lag = t_up - older[0] if older is not None else float("nan")
                    text += (f", propagated from the reordering on {blamed} (at {where} {self.stamp(t_up)}; "
                             f"{over_label} kept the order)")
                link = self.links_by_label.get(blamed)
                text += f" ({describe_link(link)}, apply: {link.apply})" if link else ""
                return Cause(text, blamed, lag, changed_at, hop_at_decision=over_label)
            hops = self._path(arrivals, system, origin, changed_at)
            late = max(hops, key=lambda h: h[2]) if hops else (label, t_arrive, t_arrive - changed_at)
            link = self.links_by_label.get(late[0])
            via = " -> ".join(f"{h[0]} at {self.stamp(h[1])}" for h in hops)
            # the first hop the change had not crossed when the decision was made
            on = next((h[0] for h in hops if h[1] > decided), None) if hops else (label if t_arrive > decided else None)
            when = (f"{self.span(t_arrive - decided)} after this decision" if t_arrive > decided
                    else f"{self.span(decided - t_arrive)} before this decision")
            text = (f"{prefix}; reached {system} {self.stamp(t_arrive)}, {self.span(t_arrive - changed_at)} later and "
                    f"{when} (via {via}); " + (f"at the decision it was on {on}; " if on and len(hops) > 1 else "")
                    + f"slowest hop {late[0]} took {self.span(late[2])}" + (f" ({describe_link(link)})" if link else ""))
            return Cause(text, late[0], t_arrive - changed_at, changed_at, t_arrive - decided, on)
        if lost:
            t_lost, detail = lost[0]
            label = detail.split(";")[0].removeprefix("link=")
            link = self.links_by_label.get(label)
            reason = detail.split(";", 1)[1].strip() if ";" in detail else detail
            return Cause(f"{prefix}; never reached {system}: {reason} at {self.stamp(t_lost)}"
                         + (f" ({describe_link(link)})" if link else ""), label, float("nan"), changed_at,
                         hop_at_decision=label)
        blocking = self._blocking_link(key, arrivals, origin, system)
        where = f"; never reached {system} before the run ended"
        if blocking is not None:
            where += f": {blocking.label} had not carried it ({describe_link(blocking)})"
        label = blocking.label if blocking else None
        return Cause(prefix + where, label, float("nan"), changed_at, hop_at_decision=label)

    def change_time(self, customer: str, key: str, version: int) -> float | None:
        """When truth changed ``key`` to ``version`` (None if that change is not in the log)."""
        change = self._history(customer, key, version)[0]
        return change[0] if change is not None else None

    def first_change_after(self, customer: str, key: str, seq: int) -> tuple[float, int, str, int] | None:
        """(time, version, origin system, seq) of the first truth change of ``key`` logged after record ``seq``."""
        cols, groups = self._sync_records
        best = None
        for i in groups.get(customer, ()):
            if cols["kind"][i] == "truth" and cols["field"][i] == key and int(cols["seq"][i]) > seq:
                if best is None or int(cols["seq"][i]) < int(cols["seq"][best]):
                    best = i
        if best is None:
            return None
        return float(cols["t"][best]), int(cols["version"][best]), str(cols["system"][best]), int(cols["seq"][best])

    def reordered_upstream(self, customer: str, key: str, version: int, system: str,
                           applied: float) -> tuple[str, float, str] | None:
        """(link, time, system) of the reordering that an out-of-order apply of ``version`` of ``key`` at
        ``system`` (at ``applied``) merely propagates: the applying link's source had itself applied that
        older version over a newer one before forwarding it (followed up the chain to the first system whose
        own link reordered). None when the applying link itself reordered."""
        cols, groups = self._sync_records

        def last_disorder(where: str, until: float) -> int | None:
            best = None
            for i in groups.get(customer, ()):
                if (cols["kind"][i] == "out-of-order" and cols["field"][i] == key and cols["version"][i] == version
                        and cols["system"][i] == where and float(cols["t"][i]) <= until):
                    best = i
            return best

        def label(i: int) -> str:
            return str(cols["detail"][i]).split(";")[0].removeprefix("link=")

        here, found, seen = last_disorder(system, applied), None, {system}
        while here is not None:
            link = self.links_by_label.get(label(here))
            if link is None or link.from_ in seen:
                break
            seen.add(link.from_)
            up = last_disorder(link.from_, float(cols["t"][here]))
            if up is None:
                break
            found = here = up
        if found is None:
            return None
        return label(found), float(cols["t"][found]), str(cols["system"][found])

    def _overwrite(self, customer: str, key: str, system: str, version: int, arrived: float,
                   decided: float) -> tuple[float, str, int] | None:
        """(time, link, older version) of the out-of-order apply at ``system`` that replaced ``version`` of
        ``key`` after it arrived and by the time of the decision; None if it was not replaced."""
        if arrived > decided:
            return None
        cols, groups = self._sync_records
        for i in groups.get(customer, ()):
            if (cols["kind"][i] == "out-of-order" and cols["field"][i] == key and cols["system"][i] == system
                    and arrived <= float(cols["t"][i]) <= decided and cols["version"][i] < version):
                label = str(cols["detail"][i]).split(";")[0].removeprefix("link=")
                return float(cols["t"][i]), label, int(cols["version"][i])
        return None

    def _path(self, arrivals: dict[str, tuple[float, str]], system: str, origin: str,
              changed_at: float) -> list[tuple[str, float, float]]:
        """Hops (link, arrival time, hop duration) from the origin to ``system``, following actual arrivals."""
        hops: list[tuple[str, float, float]] = []
        here = system
        seen = set()
        while here != origin and here in arrivals and here not in seen:
            seen.add(here)
            t, label = arrivals[here]
            link = self.links_by_label.get(label)
            upstream = link.from_ if link else origin
            start = changed_at if upstream == origin else arrivals.get(upstream, (changed_at, ""))[0]
            hops.append((label, t, t - start))
            here = upstream
        hops.reverse()
        return hops

    def _blocking_link(self, key: str, arrivals: dict[str, tuple[float, str]], origin: str,
                       system: str) -> SyncLink | None:
        """A link into ``system`` carrying ``key`` from a system the version had reached (or the origin)."""
        reached = set(arrivals) | {origin}
        for link in self.scenario.sync:
            if link.to == system and carries(link, key) and link.from_ in reached:
                return link
        for link in self.scenario.sync:
            if link.to == system and carries(link, key):
                return link
        return None
