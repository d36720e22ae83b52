"""The state one Gherkin scenario builds up: the journeysim scenario, its overrides, the scripted
customers and their timed events, and (after "When the simulation runs") the run result.

Overrides made by ``Given`` steps apply to that Gherkin scenario alone: the file is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.engine import RunResult, run_scenario
from simulator.errors import UsageError
from simulator.population import ScriptedCustomer
from simulator.report.trace import CustomerTrace, format_trace
from simulator.scenario.load import load_scenario
from simulator.scenario.model import Scenario
from simulator.scenario.units import parse_local_time

__all__ = ["UATWorld", "ScriptedPerson", "UNITS", "seconds", "make_stream", "make_batch"]

#: Gherkin duration units -> seconds (singular and plural).
UNITS: dict[str, float] = {}
for _name, _seconds in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400), ("week", 604800)):
    UNITS[_name] = UNITS[_name + "s"] = float(_seconds)


def seconds(amount: str | float, unit: str) -> float:
    """``(20, 'minutes')`` -> 1200.0; an unknown unit names the accepted ones."""
    if unit not in UNITS:
        raise UsageError(f"unknown time unit '{unit}': use seconds, minutes, hours, days or weeks")
    return float(amount) * UNITS[unit]


@dataclass
class ScriptedPerson:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    timezone: str | None = None
    events: list[tuple[float, str]] = field(default_factory=list)
    last: float | None = None  # time of the latest event given to this person (for "N minutes later")


def _spec_of(link: Any) -> dict[str, Any]:
    """A sync link model back as the YAML mapping a user would write."""
    spec: dict[str, Any] = {"from": link.from_, "to": link.to, "fields": list(link.fields), "mode": link.mode,
                            "failure_rate": link.failure_rate, "apply": link.apply,
                            "outages": [{"start": o.start.isoformat(), "duration": o.duration,
                                         "on_outage": o.on_outage} for o in link.outages]}
    if link.name:
        spec["name"] = link.name
    if link.retry_after is not None:
        spec["retry_after"] = link.retry_after
    if link.mode == "stream":
        spec["latency"] = link.latency.to_spec()
    else:
        spec["duration"] = link.duration.to_spec()
        spec["timezone"] = link.timezone
        if link.every is not None:
            spec.update(every=link.every, offset=link.offset)
        else:
            spec["at"] = [f"{c // 3600:02d}:{c % 3600 // 60:02d}" for c in link.clock_times]
    return spec


def make_stream(spec: dict[str, Any], latency: float) -> None:
    """Turn a link spec into a stream link with a fixed latency (dropping batch-only keys)."""
    for key in ("every", "offset", "at", "duration", "timezone"):
        spec.pop(key, None)
    spec.update(mode="stream", latency={"fixed": latency})


def make_batch(spec: dict[str, Any], every: float) -> None:
    """Turn a link spec into a batch link running every ``every`` seconds."""
    for key in ("latency", "at"):
        spec.pop(key, None)
    spec.update(mode="batch", every=every)
    spec.setdefault("offset", 0)
    spec.setdefault("duration", 0)


class UATWorld:
    """Everything a Gherkin scenario has said so far."""

    def __init__(self, base_dir: Path):
        self.base_dir = base_dir
        self.scenario_path: Path | None = None
        self.overrides: dict[str, Any] = {}
        self.customers: int | None = None
        self.seed: int | None = None
        self.people: dict[str, ScriptedPerson] = {}
        self.result: RunResult | None = None
        self._base: Scenario | None = None
        self.links: dict[int, dict[str, Any]] = {}  # sync links changed by Given steps, as YAML specs

    # ------------------------------------------------------------------ Given

    def use_scenario(self, path: str) -> None:
        for candidate in (self.base_dir / path, Path.cwd() / path):
            if candidate.exists():
                self.scenario_path = candidate.resolve()
                self._base = load_scenario(self.scenario_path)
                return
        raise UsageError(f"scenario file '{path}' not found next to the feature ({self.base_dir}) "
                         f"or in the working directory ({Path.cwd()})")

    @property
    def base(self) -> Scenario:
        if self._base is None:
            raise UsageError('no scenario yet: start with  Given the scenario "path/to/scenario.yaml"')
        return self._base

    def link_spec(self, source: str, target: str) -> dict[str, Any]:
        """The editable spec of the sync link from ``source`` to ``target`` (applied when the run starts)."""
        for i, link in enumerate(self.base.sync):
            if link.from_ == source and link.to == target:
                if i not in self.links:
                    self.links[i] = _spec_of(link)
                return self.links[i]
        links = ", ".join(f'"{link.from_}" to "{link.to}"' for link in self.base.sync)
        raise UsageError(f'the scenario has no sync link from "{source}" to "{target}"; its links: {links}')

    def person(self, name: str) -> ScriptedPerson:
        if name not in self.people:
            known = ", ".join(self.people) or "none yet"
            raise UsageError(f'no customer "{name}" in this scenario (customers: {known}); add  '
                             f'Given a customer "{name}" in stage "A" in time zone "UTC" opted in to "email"')
        return self.people[name]

    def trigger(self, name: str, event: str, *, local: str | None = None, later: float | None = None) -> None:
        person = self.person(name)
        if local is not None:
            zone = person.timezone or self.base.default_timezone
            t = (parse_local_time(local, zone) - self.base.start).total_seconds()
        else:
            if person.last is None:
                raise UsageError(f'"{name}" has no earlier event to count "later" from; give a time first: '
                                 f'When "{name}" triggers "{event}" at "2026-12-01 10:00" local time')
            t = person.last + (later or 0.0)
        if t < 0:
            raise UsageError(f"{event} for {name} would happen before the scenario starts ({self.base.start})")
        person.events.append((t, event))
        person.last = t

    # ------------------------------------------------------------------ When

    def run(self, duration: float) -> RunResult:
        overrides = dict(self.overrides)
        overrides.update({f"sync[{i}]": spec for i, spec in sorted(self.links.items())})
        overrides["duration"] = duration
        if self.seed is not None:
            overrides["seed"] = self.seed
        if self.scenario_path is None:
            raise UsageError('no scenario yet: start with  Given the scenario "path/to/scenario.yaml"')
        scenario = load_scenario(self.scenario_path, overrides)
        scripted = [ScriptedCustomer(p.name, p.attributes, p.consent, p.timezone, tuple(p.events))
                    for p in self.people.values()]
        self.result = run_scenario(scenario, customers=self.customers if self.customers is not None else None,
                                   scripted=scripted)
        return self.result

    # ------------------------------------------------------------------ Then helpers

    @property
    def ran(self) -> RunResult:
        if self.result is None:
            raise UsageError('the simulation has not run yet: add  When the simulation runs for 3 days')
        return self.result

    def events(self) -> pd.DataFrame:
        return self.ran.events()

    def deliveries(self, name: str | None = None, message: str | None = None) -> pd.DataFrame:
        ev = self.events()
        d = ev[ev["kind"] == "delivered"]
        if name is not None:
            d = d[d["customer"] == name]
        if message is not None:
            d = d[d["message"] == message]
        return d

    def trace(self, name: str) -> str:
        """The customer's timeline, as `journeysim trace` prints it."""
        result = self.ran
        ev = result.events()
        findings = result.findings
        table = result.customer_table()
        profile = table[table["customer"] == name].iloc[0].to_dict() if (table["customer"] == name).any() else {}
        return format_trace(CustomerTrace(name, ev[ev["customer"] == name].reset_index(drop=True),
                                          findings[findings["customer"] == name].reset_index(drop=True)
                                          if not findings.empty else findings, profile, result.summary))
