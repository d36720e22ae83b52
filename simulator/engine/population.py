"""Synthetic customers: time zones, attributes, consent and exogenous event schedules (vectorised numpy).

Every draw comes from a child generator seeded by ``SeedSequence([base, crc32(key)])``: ``base`` is
one integer drawn from the caller's generator and ``key`` names the stream (``attribute:stage``,
``consent:email``, ``zones``, ``event:purchase``), so adding or removing a key never changes the
draws of the others. Faker display fields are not sampled up front: :meth:`Population.display_value`
seeds Faker per (population seed, field, customer), so values do not depend on query order.
"""

from __future__ import annotations

import functools
import hashlib
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simulator.errors import ScenarioError, ScenarioIssue
from simulator.scenario.distributions import Distribution, FakerField
from simulator.scenario.model import Scenario
from simulator.scenario.rates import customer_rates
from simulator.scenario.semantics import FieldCatalogue
from simulator.scenario.units import did_you_mean, parse_timezone

__all__ = ["ScriptedCustomer", "Population", "build_population", "ExogenousSchedule", "exogenous_schedule",
           "followers", "child_rng"]


def child_rng(base: int, key: str) -> np.random.Generator:
    """The generator of stream ``key``: stable across processes and independent of other keys."""
    return np.random.default_rng(np.random.SeedSequence([base, zlib.crc32(key.encode())]))


def _base(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**63 - 1))


@functools.cache
def _faker() -> Any:
    from faker import Faker  # slow import: only when a display value is asked for

    return Faker()


@dataclass(frozen=True)
class ScriptedCustomer:
    """A named customer for UAT: explicit attributes, consent, zone and timed events."""

    name: str
    attributes: Mapping[str, Any] = field(default_factory=dict)  # missing attributes: None
    consent: Mapping[str, bool] = field(default_factory=dict)  # channels not given: False
    timezone: str | None = None  # None -> scenario.default_timezone
    events: tuple[tuple[float, str], ...] = ()  # (seconds after start, event name)
    #: phone and address for compliance jurisdiction: ``{"area_code": "305", "address": "US-FL"}``
    #: (replaces the drawn values when the scenario sets population.jurisdiction; docs/creative.md)
    recipient: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "events", tuple((t, e) for t, e in self.events))


@dataclass(eq=False)
class Population:
    """Customers as columns; indexes ``[0, generated)`` are generated, the rest scripted."""

    size: int
    generated: int
    ids: list[str]
    zone_names: tuple[str, ...]
    zone: np.ndarray
    attributes: dict[str, np.ndarray]
    consent: dict[str, np.ndarray]
    faker_fields: dict[str, Distribution]
    seed: int = 0  # entropy of faker display values
    scripted: tuple[ScriptedCustomer, ...] = ()
    #: phone and address columns (simulator.creative.recipients.COLUMNS) when population.jurisdiction is set
    recipients: dict[str, np.ndarray] | None = None
    _cache: dict[tuple[str, int], Any] = field(default_factory=dict, repr=False)
    profiles: Any = None  # simulator.engine.identity.Profiles when population.identity is set (docs/identity.md)

    @functools.cached_property
    def index(self) -> dict[str, int]:
        """id -> index for every customer (built on first use; prefer :meth:`index_of`)."""
        return {cid: i for i, cid in enumerate(self.ids)}

    @property
    def persons(self) -> int:
        """Generated persons (ids c000001..): ``generated`` less the extra profiles of population.identity."""
        return self.generated if self.profiles is None else self.profiles.persons

    @property
    def id_width(self) -> int:
        return max(6, len(str(self.persons)))

    def index_of(self, cid: str) -> int:
        """Index of customer ``cid`` without building the whole index; KeyError when unknown."""
        number = _generated_number(cid, self.id_width, self.persons)
        if number is not None:
            return number - 1
        if self.profiles is not None and "-p" in cid and cid in self.index:
            return self.index[cid]
        for i, sc in enumerate(self.scripted):
            if sc.name == cid:
                return self.generated + i
        raise KeyError(cid)

    def timezone_of(self, customer: int) -> str:
        return self.zone_names[int(self.zone[customer])]

    def display_value(self, customer: int, field: str) -> Any:
        """A faker field's value for one customer, deterministic per (seed, field, customer)."""
        if field not in self.faker_fields:
            return self.value(customer, field)
        if not 0 <= customer < self.size:
            raise IndexError(f"customer {customer} out of range [0, {self.size})")
        key = (field, int(customer))
        if key not in self._cache:
            digest = hashlib.blake2b(f"{self.seed}\0{field}\0{customer}".encode(), digest_size=8).digest()
            fake = _faker()
            fake.seed_instance(int.from_bytes(digest, "big"))
            self._cache[key] = getattr(fake, self.faker_fields[field].provider)()  # type: ignore[attr-defined]
        return self._cache[key]

    def value(self, customer: int, field: str) -> Any:
        """An attribute or faker value as a Python object (None when unknown)."""
        if field in self.faker_fields:
            return self.display_value(customer, field)
        column = self.attributes.get(field)
        if column is None:
            return None
        out = column[customer]
        return out.item() if isinstance(out, np.generic) else out


def _generated_number(cid: str, width: int, generated: int) -> int | None:
    if len(cid) == width + 1 and cid[0] == "c" and cid[1:].isdigit() and 1 <= int(cid[1:]) <= generated:
        return int(cid[1:])
    return None


def _issue(path: str, message: str, word: str, options: Sequence[str]) -> ScenarioIssue:
    hint = did_you_mean(word, options)
    return ScenarioIssue(path, message, hint=f"did you mean '{hint}'?" if hint else None)


def _check_scripted(scenario: Scenario, scripted: Sequence[ScriptedCustomer], generated: int,
                    fields: set[str], channels: Sequence[str]) -> list[ScenarioIssue]:
    """Every problem with the scripted customers (unknown names, duplicates, clashes with ids)."""
    issues: list[ScenarioIssue] = []
    width, seen = max(6, len(str(generated))), set()
    events = [e.name for e in scenario.population.events]
    for sc in scripted:
        base = f"scripted.{sc.name}"
        if not isinstance(sc.name, str) or not sc.name:
            issues.append(ScenarioIssue(base, "a scripted customer needs a non-empty name"))
        elif sc.name in seen:
            issues.append(ScenarioIssue(base, f"duplicate scripted customer '{sc.name}'"))
        elif _generated_number(sc.name, width, generated) is not None:
            issues.append(ScenarioIssue(base, f"'{sc.name}' is the id of a generated customer; "
                                              "choose another name"))
        seen.add(sc.name)
        for key in sc.attributes:
            if key not in fields:
                issues.append(_issue(f"{base}.{key}", f"unknown attribute '{key}'", key, sorted(fields)))
        for key in sc.consent:
            if key not in channels:
                issues.append(_issue(f"{base}.{key}", f"unknown consent channel '{key}' (known: "
                                                      f"{', '.join(channels) or 'none'})", key, channels))
        if sc.timezone is not None:
            try:
                parse_timezone(sc.timezone)
            except ValueError as exc:
                issues.append(ScenarioIssue(f"{base}.timezone", str(exc)))
        for i, (t, name) in enumerate(sc.events):
            if name not in events:
                issues.append(_issue(f"{base}.events[{i}]", f"unknown event '{name}'", name, events))
            if not (isinstance(t, (int, float)) and math.isfinite(t) and t >= 0):
                issues.append(ScenarioIssue(f"{base}.events[{i}]", f"invalid time {t!r}: expected seconds "
                                                                   "after the scenario start, >= 0"))
    return issues


def _with_scripted(column: np.ndarray, values: list[Any]) -> np.ndarray:
    """Append scripted values, keeping the sampled dtype when every value fits it, else object."""
    if not values:
        return column
    if column.dtype == np.float64 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return np.concatenate([column, np.asarray(values, dtype=np.float64)])
    if column.dtype == np.bool_ and all(isinstance(v, (bool, np.bool_)) for v in values):
        return np.concatenate([column, np.asarray(values, dtype=bool)])
    tail = np.empty(len(values), dtype=object)
    tail[:] = values
    return np.concatenate([column.astype(object, copy=False), tail])


def build_population(scenario: Scenario, rng: np.random.Generator, *, size: int | None = None,
                     scripted: Sequence[ScriptedCustomer] = ()) -> Population:
    """Generate ``size`` customers (default ``population.size``) and append the scripted ones."""
    pop = scenario.population
    n = pop.size if size is None else int(size)
    if n < 0:
        raise ValueError(f"population size must be >= 0, got {n}")
    scripted = tuple(scripted)
    fields = FieldCatalogue(scenario).fields
    channels = sorted(set(pop.consent) | set(scenario.channel_systems))
    issues = _check_scripted(scenario, scripted, n, fields, channels)
    if issues:
        raise ScenarioError(issues, scenario.source_file)
    base = _base(rng)

    shares = {z: p for z, p in sorted(pop.timezones.items()) if p > 0} or {scenario.default_timezone: 1.0}
    zone_names = list(shares)
    p = np.array(list(shares.values()), dtype=np.float64)
    zone = child_rng(base, "zones").choice(len(zone_names), n, p=p / p.sum()).astype(np.int16)
    if scripted:
        extra = []
        for sc in scripted:
            name = scenario.default_timezone if sc.timezone is None else parse_timezone(sc.timezone).key
            if name not in zone_names:
                zone_names.append(name)
            extra.append(zone_names.index(name))
        zone = np.concatenate([zone, np.asarray(extra, dtype=np.int16)])

    attributes: dict[str, np.ndarray] = {}
    faker_fields: dict[str, Distribution] = {}
    for name in sorted(pop.attributes):
        dist = pop.attributes[name]
        if isinstance(dist, FakerField):
            faker_fields[name] = dist
            continue
        column = np.asarray(dist.sample(child_rng(base, f"attribute:{name}"), n))
        attributes[name] = _with_scripted(column, [sc.attributes.get(name) for sc in scripted])
    for name in sorted({k for sc in scripted for k in sc.attributes} - set(pop.attributes)):
        attributes[name] = _with_scripted(np.full(n, None, dtype=object), [sc.attributes.get(name) for sc in scripted])

    consent = {}
    for ch in channels:
        drawn = child_rng(base, f"consent:{ch}").random(n) < pop.consent.get(ch, 1.0)
        consent[ch] = np.concatenate([drawn, np.array([bool(sc.consent.get(ch, False)) for sc in scripted],
                                                      dtype=bool)])

    if pop.jurisdiction is None and any(sc.recipient for sc in scripted):
        raise ScenarioError([ScenarioIssue(f"scripted.{sc.name}.recipient", "a phone or address is given but the "
                                           "scenario does not model them", hint="add population.jurisdiction: {} "
                                           "(docs/creative.md)") for sc in scripted if sc.recipient],
                            scenario.source_file)

    width = max(6, len(str(n)))
    ids = [f"c{i:0{width}d}" for i in range(1, n + 1)] + [sc.name for sc in scripted]
    population = Population(size=n + len(scripted), generated=n, ids=ids, zone_names=tuple(zone_names),
                            zone=zone, attributes=attributes, consent=consent, faker_fields=faker_fields,
                            seed=base, scripted=scripted)
    for i, sc in enumerate(scripted):
        for name in faker_fields:
            population._cache[(name, n + i)] = sc.attributes.get(name)
    if pop.identity is not None:  # one person, several profiles (simulator/engine/identity.py)
        from simulator.engine.identity import expand_population
        population = expand_population(scenario, population, base)
    if pop.jurisdiction is not None:  # phone area codes and addresses, from their own streams, per profile
        from simulator.creative.recipients import draw_recipients, set_recipient

        population.recipients = draw_recipients(pop.jurisdiction, population.zone_names, population.zone,
                                                 lambda key: child_rng(base, key))
        for i, sc in enumerate(scripted):
            set_recipient(population.recipients, population.generated + i, sc.recipient,
                          f"scripted.{sc.name}.recipient")
    return population


@dataclass(frozen=True)
class ExogenousSchedule:
    """Exogenous event occurrences, sorted by time (ties: customer, then event index)."""

    times: np.ndarray  # float64 seconds after start
    customers: np.ndarray  # int64
    events: np.ndarray  # int32 index into scenario.population.events

    def __len__(self) -> int:
        return len(self.times)


def followers(scenario: Scenario) -> dict[str, list[int]]:
    """Event name -> indexes of the ``after`` events that follow it (every event name is a key)."""
    out: dict[str, list[int]] = {e.name: [] for e in scenario.population.events}
    for i, e in enumerate(scenario.population.events):
        if e.after is not None:
            out.setdefault(e.after.event, []).append(i)
    return out


def exogenous_schedule(scenario: Scenario, population: Population, rng: np.random.Generator, *,
                       horizon: float) -> ExogenousSchedule:
    """``once`` and ``poisson`` occurrences in [0, horizon) for generated customers, plus scripted events.

    ``when`` conditions are not evaluated and ``after`` events are not scheduled: both are the engine's,
    as are ``poisson`` events with a ``response`` (simulator/engine/response.py; scripted occurrences stay here).
    """
    base, g = _base(rng), population.persons
    names = [e.name for e in scenario.population.events]
    parts: list[tuple[np.ndarray, np.ndarray, int]] = []
    for e_index, ev in enumerate(scenario.population.events):
        if ev.once is None and ev.poisson is None or ev.response:  # response events: simulator/engine/response.py
            continue
        r = child_rng(base, f"event:{ev.name}")
        if ev.once is not None:
            who = np.flatnonzero(r.random(g) < ev.once.probability)
            t = np.asarray(ev.once.at.sample(r, len(who)), dtype=np.float64)
            keep = (t >= 0) & (t < horizon)
            parts.append((t[keep], who[keep], e_index))
        elif horizon > 0:
            rate = customer_rates(ev.poisson.rate_per_day, population.attributes, g)  # type: ignore[union-attr]
            counts = r.poisson(rate * horizon / 86400.0, g)
            who = np.repeat(np.arange(g, dtype=np.int64), counts)
            parts.append((r.uniform(0.0, horizon, len(who)), who, e_index))
    issues = []
    for i, sc in enumerate(population.scripted):
        for j, (t, name) in enumerate(sc.events):
            if name not in names:
                issues.append(_issue(f"scripted.{sc.name}.events[{j}]", f"unknown event '{name}'", name, names))
            elif 0 <= t < horizon:
                parts.append((np.array([t], dtype=np.float64), np.array([population.generated + i]),
                              names.index(name)))
    if issues:
        raise ScenarioError(issues, scenario.source_file)
    times = np.concatenate([p[0] for p in parts]) if parts else np.empty(0)
    customers = np.concatenate([p[1] for p in parts]).astype(np.int64) if parts else np.empty(0, np.int64)
    events = np.concatenate([np.full(len(p[0]), p[2], dtype=np.int32) for p in parts]) if parts \
        else np.empty(0, np.int32)
    if population.profiles is not None:  # each occurrence lands on one of the person's profiles
        customers = population.profiles.attribute(times, customers, events, population.seed)
    order = np.lexsort((events, customers, times))
    return ExogenousSchedule(times[order].astype(np.float64), customers[order], events[order])


def customers_frame(population: Population) -> Any:
    """One row per customer: id, time zone, initial attributes and consent (``customers.parquet``).

    Faker display fields are left out (they are generated only when asked for); detectors and reports
    use the zone for local-time checks.
    """
    import pandas as pd

    columns: dict[str, Any] = {
        "customer": population.ids,
        "timezone": np.asarray(population.zone_names, dtype=object)[population.zone],
        "scripted": np.arange(population.size) >= population.generated,
    }
    for name, column in sorted(population.attributes.items()):
        columns[name] = column
    for channel, column in sorted(population.consent.items()):
        columns[f"consent.{channel}"] = column
    if population.profiles is not None:
        from simulator.engine.identity import person_table
        columns.update(person_table(population))
    for name, column in (population.recipients or {}).items():  # phone and address (docs/creative.md)
        columns[name] = column
    return pd.DataFrame(columns)
