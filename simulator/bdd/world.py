"""The state one Gherkin scenario builds up: the journeysim scenario, its overrides, the scripted
customers and their timed events, and (after "When the simulation runs") the run result.

Overrides made by ``Given`` steps apply to that Gherkin scenario alone: the file is never changed.
Every name a step uses is checked by :class:`~simulator.bdd.names.NameBook` (``world.names``).
"""

from __future__ import annotations

import math
from datetime import timedelta
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simulator.bdd.names import NameBook, UATUsageError, find_scenario_file
from simulator.engine.channels import Renderer, system_values
from simulator.pipeline import RunResult, run_scenario
from simulator.engine.population import ScriptedCustomer
from simulator.report.trace import CustomerTrace, format_trace
from simulator.scenario.load import load_scenario
from simulator.scenario.model import Scenario
from simulator.scenario.units import parse_local_time

__all__ = ["UATWorld", "ScriptedPerson", "UNITS", "seconds", "duration", "DURATION", "make_stream", "make_batch",
           "decode_value"]

#: Gherkin duration units -> seconds (singular and plural).
UNITS: dict[str, float] = {}
for _name, _seconds in (("second", 1), ("minute", 60), ("hour", 3600), ("day", 86400), ("week", 604800)):
    UNITS[_name] = UNITS[_name + "s"] = float(_seconds)


_AMOUNT = r"\d+(?:\.\d+)?\s+(?:second|minute|hour|day|week)s?"
#: A duration in a step: one or more "<N> <unit>" parts, optionally joined by "," or "and"
#: ("20 minutes", "1 day 6 hours", "1 day, 6 hours and 30 minutes").
DURATION = rf"(?P<dur>{_AMOUNT}(?:(?:\s*,\s*|\s+and\s+|\s+){_AMOUNT})*)"


def seconds(amount: str | float, unit: str) -> float:
    """``(20, 'minutes')`` -> 1200.0; an unknown unit names the accepted ones."""
    if unit not in UNITS:
        raise UATUsageError(f"unknown time unit '{unit}': use seconds, minutes, hours, days or weeks")
    return float(amount) * UNITS[unit]


def duration(text: str) -> float:
    """``'1 day 6 hours'`` -> 108000.0: the sum of every "<N> <unit>" part."""
    parts = re.findall(r"(\d+(?:\.\d+)?)\s+(seconds?|minutes?|hours?|days?|weeks?)", text)
    if not parts:
        raise UATUsageError(f"'{text}' is not a duration: write e.g. 20 minutes or 1 day 6 hours")
    return sum(seconds(n, unit) for n, unit in parts)


def decode_value(text: object, strings: bool = False) -> object:
    """A logged field value (:func:`simulator.engine.events.encode_value` text) back as the value templates saw.

    ``None``/NaN -> None; with ``strings`` everything else stays text; otherwise ``true``/``false``
    -> bool and decimal numbers -> int/float when they print back to the same text.
    """
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    text = str(text)
    if strings:
        return text
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if repr(number) == text else text


@dataclass
class ScriptedPerson:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)
    consent: dict[str, bool] = field(default_factory=dict)
    timezone: str | None = None
    events: list[tuple[float, str]] = field(default_factory=list)
    last: float | None = None  # time of the latest event given to this person (for "N minutes later")
    line: int | None = None  # the feature line that declared this customer


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


def stream_skip_problem(source: str, target: str) -> str:
    """Why an outage that skips runs cannot be on the stream link from ``source`` to ``target``."""
    return (f'the "{source}" to "{target}" sync is a stream link: it has no scheduled runs to skip, so "and skips '
            f'runs" (on_outage: skip) is for batch links only; end the step with "and drops changes" to lose the '
            f'changes made while it is down, or with nothing to queue them until it is back')


def make_stream(spec: dict[str, Any], latency: float) -> None:
    """Turn a link spec into a stream link with a fixed latency (dropping batch-only keys); refused
    when the link has an outage that skips runs (a stream has none)."""
    if any(o.get("on_outage") == "skip" for o in spec.get("outages", [])):
        raise UATUsageError(f'the "{spec["from"]}" to "{spec["to"]}" sync cannot become a stream with a fixed latency: '
                            f'an earlier step gave it an outage that "skips runs", and a stream link has no runs '
                            f'to skip; end that step with "and drops changes" or with nothing (queue)')
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
        self.duration: float | None = None
        self._base: Scenario | None = None
        self._names: NameBook | None = None
        self._run_scenario: Scenario | None = None
        self._replications: dict[int, list[RunResult]] = {}
        self.links: dict[int, dict[str, Any]] = {}  # sync links changed by Given steps, as YAML specs

    # ------------------------------------------------------------------ Given

    def use_scenario(self, path: str) -> None:
        self.scenario_path = find_scenario_file(path, self.base_dir)
        self._base = load_scenario(self.scenario_path)
        self._names = NameBook(self._base, self.people)

    @property
    def base(self) -> Scenario:
        if self._base is None:
            raise UATUsageError('no scenario yet: start with  Given the scenario "path/to/scenario.yaml"')
        return self._base

    @property
    def names(self) -> NameBook:
        """The names this Gherkin scenario may use (the scenario's, and the customers declared so far)."""
        if self._names is None:
            raise UATUsageError('no scenario yet: start with  Given the scenario "path/to/scenario.yaml"')
        self._names.customers = list(self.people)
        return self._names

    def links_outages(self) -> list[tuple[str, str, str]]:
        """(source, target, on_outage) of every outage the steps added or kept, link by link."""
        return [(spec["from"], spec["to"], o["on_outage"]) for _, spec in sorted(self.links.items())
                for o in spec["outages"]]

    def link_spec(self, source: str, target: str) -> dict[str, Any]:
        """The editable spec of the sync link from ``source`` to ``target`` (applied when the run starts)."""
        problem = self.names.link_problem(source, target)
        if problem:
            raise UATUsageError(problem)
        for i, link in enumerate(self.base.sync):
            if link.from_ == source and link.to == target:
                if i not in self.links:
                    self.links[i] = _spec_of(link)
                return self.links[i]
        raise AssertionError("link_problem said the link exists")

    def declare(self, person: ScriptedPerson) -> None:
        if person.name in self.people:
            raise UATUsageError(f'customer "{person.name}" is declared twice in this scenario; give the second '
                                "one another name")
        self.people[person.name] = person

    def person(self, name: str) -> ScriptedPerson:
        self.names.require("customer", name)
        return self.people[name]

    def trigger(self, name: str, event: str, *, local: str | None = None, later: float | None = None) -> None:
        person = self.person(name)
        if local is not None:
            zone = person.timezone or self.base.default_timezone
            try:
                t = (parse_local_time(local, zone) - self.base.start).total_seconds()
            except ValueError as exc:
                raise UATUsageError(f'"{local}" is not a local time ({exc}); write e.g. "2026-12-01 10:00"') from None
        else:
            if person.last is None:
                day = self.base.start.strftime("%Y-%m-%d")
                raise UATUsageError(f'"{name}" has no earlier event to count "later" from; give a time first: '
                                    f'When "{name}" triggers "{event}" at "{day} 10:00" local time')
            t = person.last + (later or 0.0)
        if t < 0:
            raise UATUsageError(f"{event} for {name} would happen before the scenario starts ({self.base.start})")
        person.events.append((t, event))
        person.last = t

    # ------------------------------------------------------------------ When

    def scripted(self) -> list[ScriptedCustomer]:
        return [ScriptedCustomer(p.name, p.attributes, p.consent, p.timezone, tuple(p.events))
                for p in self.people.values()]

    def run(self, duration: float) -> RunResult:
        overrides = dict(self.overrides)
        overrides.update({f"sync[{i}]": spec for i, spec in sorted(self.links.items())})
        overrides["duration"] = duration
        if self.seed is not None:
            overrides["seed"] = self.seed
        if self.scenario_path is None:
            raise UATUsageError('no scenario yet: start with  Given the scenario "path/to/scenario.yaml"')
        scenario = load_scenario(self.scenario_path, overrides)
        self._run_scenario = scenario
        self.duration = duration
        self.result = run_scenario(scenario, customers=self.customers, scripted=self.scripted())
        self._replications = {}
        return self.result

    def replications(self, n: int) -> list[RunResult]:
        """The run under ``n`` seeds: the run itself (its seed) then ``n - 1`` seeds spawned from it
        (:func:`simulator.replications.replication_seeds`, as ``journeysim run --replications``)."""
        from simulator.replications import replication_seeds

        first = self.ran
        if n not in self._replications:
            scenario = self._run_scenario
            assert scenario is not None
            seeds = replication_seeds(first.seed, n)
            self._replications[n] = [first] + [run_scenario(scenario, seed=s, customers=self.customers,
                                                            scripted=self.scripted()) for s in seeds[1:]]
        return self._replications[n]

    # ------------------------------------------------------------------ Then helpers

    @property
    def ran(self) -> RunResult:
        if self.result is None:
            raise UATUsageError('the simulation has not run yet: add  When the simulation runs for 3 days')
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

    def rendered(self, name: str, message: str) -> list[tuple[float, str]]:
        """(delivery time, rendered text) of each delivery of ``message`` to ``name``.

        The log keeps the field values each send was rendered with (``render`` records, one per
        template field, at the message's rendering system); the text is rendered again from them with
        the same templates (:class:`simulator.engine.channels.Renderer`), subject/title and body joined by
        newlines as at send time. Its length is checked against the ``chars=`` the channel logged.
        """
        ev = self.events()
        mine = ev[(ev["customer"] == name) & (ev["message"] == message)]
        renderer = Renderer({message: self.ran.scenario.messages[message]})
        out = []
        for _, d in mine[mine["kind"] == "delivered"].iterrows():
            req = _req(d["detail"])
            same = mine[mine["detail"].map(_req) == req]
            renders = same[same["kind"] == "render"]
            queued = same[same["kind"] == "queued"]
            expected = int(re.search(r"chars=(\d+)", str(queued.iloc[0]["detail"]))[1]) if not queued.empty else None
            text = None
            at = renders["t"] if not renders.empty else queued["t"]  # the render time of this send
            rendered_at = self.ran.scenario.start + timedelta(seconds=float(at.iloc[0]))
            for strings in (False, True):
                values = system_values(name)
                for _, r in renders.iterrows():
                    values[str(r["field"])] = decode_value(r["value"], strings)
                text = renderer(message, values, now=rendered_at)
                if expected is None or len(text) == expected:
                    break
            else:
                raise RuntimeError(f"could not re-render {message} for {name} exactly: {len(text or '')} characters "
                                     f"instead of the {expected} logged at send time")
            out.append((float(d["t"]), text))
        return out

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


def _req(detail: object) -> str:
    """``req=12; inst=3`` (the send request's tag) from a log detail."""
    match = re.search(r"req=\d+; inst=\d+", str(detail))
    return match[0] if match else ""
