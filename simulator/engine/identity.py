"""One person, several profiles: who is whose profile, which profile an event lands on, and the merge.

``population.identity`` (docs/identity.md) gives each generated person a number of profiles. The
first keeps the person's id (``c000042``); extra profiles are ``c000042-p2``, ``c000042-p3``, each its
own customer for every system (own consent draw, own replicas, own journey instances, own cap
counters) until identity resolution at ``merge.at`` merges it into the person.

- **Creation.** The first profile exists from the start. An extra profile is created by the first
  event that lands on it (a new sign-up, a first anonymous app session); before that it is in no
  segment and nothing happens to it.
- **Attribution.** Events belong to the person: the exogenous schedule is drawn per person exactly as
  without identity, then each occurrence is attributed to one of the person's profiles, uniformly among
  those that are not merged at that time (an extra profile that would be merged the instant it is
  created never gets one). ``after`` events keep the profile of the event they follow, engagement
  events the profile that received the message. Scripted profiles (a scripted customer named
  ``<scripted person>-p<k>``) get exactly their scripted events.
- **Merge.** ``latency`` after an extra profile's creation (never, for a share ``never``), the merge
  system merges it into the person (``identity-merge`` record). From then on: journeys reading from
  the merge system end the profile's instances and no longer let it enter, a send to it from those
  journeys is suppressed (``identity: ... merged``); the orchestrator counts frequency caps on the
  person (the profile's past sends included); and a send to any merged profile of the person is
  suppressed when the merge system holds an opt-out of that channel on another merged profile.

Every draw comes from its own ``identity:*`` stream, so scenarios without ``identity`` keep their logs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from simulator.errors import ScenarioError, ScenarioIssue

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from simulator.engine.channels import Orchestrator, SendRequest
    from simulator.engine import Engine
    from simulator.engine.population import Population
    from simulator.scenario.model import Scenario

__all__ = ["Profiles", "Resolver", "expand_population", "profile_id", "split_profile_id", "resolver",
           "shard_layout", "person_table"]

_PROFILE = re.compile(r"^(?P<person>.+)-p(?P<k>[0-9]+)$")


def profile_id(person: str, k: int) -> str:
    """The id of a person's ``k``-th profile: the person's own id for ``k == 1``, else ``<person>-p<k>``."""
    return person if k == 1 else f"{person}-p{k}"


def split_profile_id(cid: str) -> tuple[str, int]:
    """``'c000042-p2'`` -> ``('c000042', 2)``; any other id -> ``(id, 1)``."""
    m = _PROFILE.match(cid)
    if m is None or int(m.group("k")) < 2:
        return cid, 1
    return m.group("person"), int(m.group("k"))


@dataclass(eq=False)
class Profiles:
    """Who is whose profile, per customer index, and each extra profile's creation and merge latency."""

    persons: int  # generated persons: their first profiles are indexes [0, persons)
    person: np.ndarray  # int64: index of the customer's person (its first profile); itself for first profiles
    number: np.ndarray  # int32: k of <person>-p<k> (1 for first profiles)
    latency: np.ndarray  # float64: merge latency after creation (inf: never merged; nan for first profiles)
    created: np.ndarray  # float64: creation time (0 for first profiles; inf: not created), set by attribute()
    members: dict[int, list[int]]  # person -> its profiles' indexes in order, for persons with 2 or more
    merge_at: str | None
    reason: dict[int, str] = field(default_factory=dict)  # extra profile -> why it is never merged

    def merge_time(self, q: int) -> float:
        """When extra profile ``q`` is merged (inf: never, or not created)."""
        return float(self.created[q] + self.latency[q])

    def extra(self) -> list[int]:
        """Indexes of every extra profile, in order."""
        return [q for qs in self.members.values() for q in qs[1:]]

    def attribute(self, times: np.ndarray, customers: np.ndarray, events: np.ndarray, seed: int) -> np.ndarray:
        """The customer of each occurrence once attributed to a profile (and the extra profiles' creation
        times set). ``customers`` holds person indexes for generated persons, scripted indexes as given."""
        from simulator.engine.population import child_rng

        out = customers.copy()
        order = np.lexsort((events, customers, times))
        for pos in order.tolist():  # scripted profiles: created by their first event
            q = int(customers[pos])
            if q >= self.persons and self.number[q] > 1 and times[pos] < self.created[q]:
                self.created[q] = times[pos]
        rng = child_rng(seed, "identity:attribution")
        multi = np.zeros(len(self.person), dtype=bool)
        multi[[p for p in self.members if p < self.persons]] = True
        for pos in order[multi[customers[order]]].tolist():
            t, profiles = float(times[pos]), self.members[int(customers[pos])]
            candidates = [q for q in profiles if self.number[q] == 1
                          or (self.created[q] <= t and self.merge_time(q) > t)
                          or (math.isinf(self.created[q]) and self.latency[q] > 0)]
            q = candidates[int(rng.integers(len(candidates)))] if len(candidates) > 1 else candidates[0]
            if math.isinf(self.created[q]):
                self.created[q] = t
            out[pos] = q
        return out


def expand_population(scenario: Scenario, population: Population, base: int) -> Population:
    """``population`` with every generated person's extra profiles inserted after the generated persons
    and the scripted customers' profiles recognised; draws from the ``identity:*`` streams only."""
    from simulator.engine.population import child_rng

    spec = scenario.population.identity
    assert spec is not None
    n = population.generated
    counts = np.asarray(spec.profiles.sample(child_rng(base, "identity:profiles"), n), dtype=float).astype(np.int64) \
        if n else np.zeros(0, np.int64)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.maximum(counts - 1, 0))  # person of each extra profile
    kth = np.concatenate([np.arange(2, c + 1) for c in counts if c > 1]).astype(np.int32) if len(owner) \
        else np.zeros(0, np.int32)
    e = len(owner)
    take = np.concatenate([np.arange(n), owner, np.arange(n, population.size)])

    scripted = population.scripted
    names = {sc.name: i for i, sc in enumerate(scripted)}
    issues, scripted_of = [], {}
    for i, sc in enumerate(scripted):
        person, k = split_profile_id(sc.name)
        if k > 1:
            if person not in names or split_profile_id(person)[1] > 1:
                hint = f"name the person '{person}' as a scripted customer too, or rename this one"
                issues.append(ScenarioIssue(f"scripted.{sc.name}", f"'{sc.name}' is profile {k} of '{person}', "
                                            f"but there is no scripted person '{person}'", hint=hint))
            else:
                scripted_of[i] = (names[person], k)
    if issues:
        raise ScenarioError(issues, scenario.source_file)

    size = population.size + e
    person = np.concatenate([np.arange(n), owner, np.arange(n + e, size)]).astype(np.int64)
    number = np.concatenate([np.ones(n, np.int32), kth, np.ones(len(scripted), np.int32)])
    for i, (p, k) in scripted_of.items():
        person[n + e + i], number[n + e + i] = n + e + p, k
    members: dict[int, list[int]] = {}
    for q in np.flatnonzero(number > 1).tolist():
        members.setdefault(int(person[q]), [int(person[q])]).append(q)
    for qs in members.values():
        qs[1:] = sorted(qs[1:], key=lambda q: int(number[q]))

    latency = np.full(size, np.nan)
    reason: dict[int, str] = {}
    for key, qs in (("identity:merge", list(range(n, n + e))),
                    ("identity:merge:scripted", [n + e + i for i in sorted(scripted_of)])):
        if not qs:
            continue
        if spec.merge is None:
            latency[qs] = np.inf
            reason.update({q: "population.identity has no merge" for q in qs})
            continue
        r = child_rng(base, key)
        never = r.random(len(qs)) < spec.merge.never
        lat = np.maximum(np.asarray(spec.merge.latency.sample(r, len(qs)), dtype=float), 0.0)
        latency[qs] = np.where(never, np.inf, lat)
        reason.update({q: f"in the share never merged (merge.never {spec.merge.never:g})"
                       for q, no in zip(qs, never.tolist()) if no})
    created = np.where(number > 1, np.inf, 0.0)

    ids = population.ids
    new_ids = ids[:n] + [profile_id(ids[p], int(k)) for p, k in zip(owner.tolist(), kth.tolist())] + ids[n:]
    consent = {}
    for ch, column in population.consent.items():
        drawn = child_rng(base, f"identity:consent:{ch}").random(e) < scenario.population.consent.get(ch, 1.0)
        consent[ch] = np.concatenate([column[:n], drawn, column[n:]])
    out = replace(population, size=size, generated=n + e, ids=new_ids, zone=population.zone[take],
                  attributes={k: v[take] for k, v in population.attributes.items()}, consent=consent,
                  _cache={(f, i + e if i >= n else i): v for (f, i), v in population._cache.items()})
    out.profiles = Profiles(n, person, number, latency, created, members,
                            spec.merge.at if spec.merge is not None else None, reason)
    return out


class Resolver:
    """Identity resolution while the clock runs: creation and merge records, entry and send rules."""

    def __init__(self, engine: Engine, orchestrator: Orchestrator):
        self.engine = engine
        self.orchestrator = orchestrator
        self.profiles: Profiles = engine.population.profiles
        self.at = self.profiles.merge_at
        self.merged: dict[int, float] = {}  # extra profile -> when it was merged
        spec = engine.scenario.population.identity
        self.latency_text = repr(spec.merge.latency) if spec is not None and spec.merge is not None else ""
        horizon = engine.horizon
        for q in self.profiles.extra():
            if not engine.simulates(q):
                continue
            created = float(self.profiles.created[q])
            if created < horizon:
                engine.net.at_start_of_instant(created, lambda q=q: self._created(q))
                merge = self.profiles.merge_time(q)
                if merge < horizon:
                    engine.net.at_start_of_instant(merge, lambda q=q: self._merge(q))

    def _cid(self, q: int) -> str:
        return self.engine.population.ids[q]

    def _created(self, q: int) -> None:
        eng, prof = self.engine, self.profiles
        p = int(prof.person[q])
        merge = prof.merge_time(q)
        if math.isfinite(merge):
            plan = (f"merge at {self.at} {eng.stamp(merge)} (latency {eng.span(float(prof.latency[q]))})"
                    + (" after the end of the run" if merge >= eng.horizon else ""))
        else:
            plan = f"never merged: {prof.reason.get(q, 'never')}"
        eng.log.record(eng.now, "identity-profile", self._cid(q), value=self._cid(p),
                       version=int(prof.number[q]),
                       detail=f"profile {int(prof.number[q])} of {self._cid(p)} "
                              f"({len(prof.members[p])} profiles) created; {plan}")

    def _merge(self, q: int) -> None:
        eng, prof = self.engine, self.profiles
        p = int(prof.person[q])
        now = eng.now
        self.merged[q] = now
        eng.log.record(now, "identity-merge", self._cid(q), system=self.at, value=self._cid(p),
                       version=int(prof.number[q]),
                       detail=f"{self._cid(q)} merged into {self._cid(p)} at {self.at}; created "
                              f"{eng.stamp(float(prof.created[q]))}; latency {eng.span(float(prof.latency[q]))}"
                              f" ({self.latency_text})")
        for runner in eng.by_system.get(self.at, ()):  # type: ignore[arg-type]
            inst = runner.active.get(q)
            if inst is not None:
                runner.finish(inst, f"identity: merged into {self._cid(p)} at {self.at}")
        self.orchestrator.caps.merge(q, p)

    # ------------------------------------------------------------------ hooks

    def entry_block(self, system: str, customer: int, now: float) -> str | None:
        """Why an extra profile cannot enter a journey reading ``system`` now (None: it can)."""
        prof = self.profiles
        if prof.number[customer] == 1:
            return None
        if not prof.created[customer] <= now:
            return "identity: profile not created yet"
        if system == self.at and customer in self.merged:
            return (f"identity: merged into {self._cid(int(prof.person[customer]))} at {self.at} "
                    f"{self.engine.stamp(self.merged[customer])}")
        return None

    def counted(self, customer: int) -> int:
        """Whose counters a send to ``customer`` counts on: the person's once the profile is merged."""
        return int(self.profiles.person[customer]) if customer in self.merged else customer

    def stops(self, req: SendRequest, now: float) -> bool:
        """Suppress a send the merge rules out (logged as ``suppressed``, detail ``identity: ...``)."""
        eng, prof, q = self.engine, self.profiles, req.customer
        p = int(prof.person[q])
        if p not in prof.members or not self.merged:
            return False
        ch = req.message.channel
        if q in self.merged and req.runner.j.reads_from == self.at:
            return self._suppress(req, now, f"identity: {self._cid(q)} merged into {self._cid(p)} at {self.at} "
                                            f"{eng.stamp(self.merged[q])}; a send to a merged duplicate profile")
        group = [x for x in prof.members[p] if x == p or x in self.merged]
        if q not in group or ch not in eng.scenario.policies.consent_required:
            return False
        replica = eng.replicas[self.at]  # type: ignore[index]
        key = f"consent.{ch}"
        for other in group:  # an opt-out is a change to "no" (version > 0); never having opted in is not one
            if other != q and not replica.get_value(other, key) and replica.version(other, key) > 0:
                return self._suppress(req, now, f"identity: {self.at} holds an opt-out of {ch} on {self._cid(other)}, "
                                                f"merged with {self._cid(q)} into {self._cid(p)}",
                                      other=other)
        return False

    def _suppress(self, req: SendRequest, now: float, why: str, other: int | None = None) -> bool:
        eng = self.engine
        key = f"consent.{req.message.channel}" if other is not None else None
        entry = eng.replicas[self.at].entry(other, key)[:2] if other is not None else (None, None)  # type: ignore
        eng.log.record(now, "suppressed", eng.population.ids[req.customer], journey=req.runner.name,
                       step=req.step.id, system=self.at, field=key, value=entry[0], version=entry[1],
                       channel=req.message.channel, message=req.message_name, detail=f"{why}; {req.tag}")
        return True


def resolver(engine: Engine, orchestrator: Orchestrator) -> Resolver | None:
    """The run's identity resolver, or None when the scenario has no ``population.identity``."""
    if getattr(engine.population, "profiles", None) is None:
        return None
    return Resolver(engine, orchestrator)


def person_table(population: Population) -> dict[str, Any]:
    """``person`` and ``profile`` columns for customers.parquet (empty without identity)."""
    prof = population.profiles
    if prof is None:
        return {}
    ids = np.asarray(population.ids, dtype=object)
    return {"person": ids[prof.person], "profile": prof.number.astype(np.int64)}


def shard_layout(customers: pd.DataFrame, shards: int) -> tuple[list[str], list[pd.DataFrame]]:
    """The id list whose position ``i`` puts a customer in shard ``i % shards``, and each shard's table.

    Without identity: the customers in order (shard ``i % shards``). With it, every profile of a person
    goes to one shard (the person-level findings compare them), padded with ids no log row has."""
    ids = customers["customer"].astype(str).tolist()
    if "person" not in customers.columns or shards <= 1:
        return ids, [customers.iloc[i::shards] for i in range(shards)]
    persons = customers["person"].astype(str)
    rank = {p: i for i, p in enumerate(dict.fromkeys(persons))}
    shard = np.array([rank[p] % shards for p in persons], dtype=np.int64)
    groups = [np.flatnonzero(shard == s) for s in range(shards)]
    rows = max(len(g) for g in groups)
    slots: list[str] = []
    for r in range(rows):
        for s, g in enumerate(groups):
            slots.append(ids[g[r]] if r < len(g) else f"\0identity-pad-{r}-{s}")
    return slots, [customers.iloc[g] for g in groups]
