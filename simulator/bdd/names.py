"""Every name a Gherkin step writes, checked against the journeysim scenario (one place for all steps).

A step that names something the scenario does not have (a misspelt message, channel, finding kind,
journey, step, system, sync link, event, field, stage value, time zone or customer) must fail: if it
did not, ``Then "ana" receives no "remindr"`` would pass for ever. :meth:`NameBook.problem` is the
one check; the step library calls :meth:`NameBook.require` for every name it reads, and the
pre-flight check (:mod:`simulator.bdd.lint`) calls :meth:`NameBook.problem` for every step of a
Gherkin scenario before anything runs, so that all misspelt names are reported at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from simulator.errors import UsageError
from simulator.engine.events import encode_value
from simulator.scenario.distributions import Choice
from simulator.scenario.model import Scenario
from simulator.scenario.semantics import FieldCatalogue
from simulator.scenario.units import did_you_mean, parse_timezone
from simulator.scenario.vocabulary import FINDING_KINDS

__all__ = ["NameBook", "UATUsageError", "suggest", "find_scenario_file", "NAME_KINDS"]

#: What a quoted name in a step can be, and the plural used in messages.
NAME_KINDS: dict[str, str] = {
    "customer": "customers", "message": "messages", "channel": "channels", "kind": "finding kinds",
    "journey": "journeys", "step": "steps", "system": "systems", "link": "sync links", "event": "events",
    "field": "fields", "value": "values", "timezone": "time zones",
}


class UATUsageError(UsageError):
    """A feature file that cannot mean what it says (misspelt name, unknown phrase, missing file).

    Reported plainly (no traceback) and, under ``journeysim uat``, with exit code 2.
    """


def suggest(value: str, options: Iterable[str], what: str) -> str:
    """'; did you mean "x"?' or '; the scenario's <what>: a, b, c' (nothing when there are none)."""
    options = sorted({str(o) for o in options})
    guess = did_you_mean(value, options)
    if guess is not None and guess != value:
        return f'; did you mean "{guess}"?'
    if not options:
        return f"; the scenario has no {what}"
    shown = ", ".join(f'"{o}"' for o in options[:12])
    return f"; the scenario's {what}: {shown}{' ...' if len(options) > 12 else ''}"


def find_scenario_file(path: str, base_dir: Path) -> Path:
    """The scenario file a feature names: next to the feature, else in the working directory."""
    for candidate in (base_dir / path, Path.cwd() / path):
        if candidate.is_file():
            return candidate.resolve()
    near = base_dir / path
    folder = near.parent if near.parent.is_dir() else base_dir
    files = [p.name for p in folder.glob("*") if p.suffix in (".yaml", ".yml", ".json")] if folder.is_dir() else []
    guess = did_you_mean(Path(path).name, files)
    hint = f'; did you mean "{Path(path).with_name(guess).as_posix()}"?' if guess else ""
    raise UATUsageError(f'scenario file "{path}" not found next to the feature ({base_dir}) or in the working '
                        f"directory ({Path.cwd()}){hint}")


class NameBook:
    """The names a Gherkin scenario may use: the journeysim scenario's plus its scripted customers."""

    def __init__(self, scenario: Scenario, customers: Iterable[str] = ()):
        self.scenario = scenario
        self.customers = list(dict.fromkeys(customers))
        catalogue = FieldCatalogue(scenario)
        self.fields = catalogue.fields
        self.events = [e.name for e in scenario.population.events]
        self.channels = sorted(scenario.channel_systems)
        self.consent_channels = sorted(set(scenario.population.consent) | set(scenario.channel_systems))

    # ------------------------------------------------------------------ the one check

    def problem(self, what: str, value: str, *, journey: str | None = None, field: str | None = None,
                channels: Sequence[str] | None = None) -> str | None:
        """Why ``value`` is not a known ``what`` in this scenario (None when it is)."""
        sc = self.scenario
        if what == "customer":
            if value in self.customers:
                return None
            tail = suggest(value, self.customers, "customers")
            if not self.customers:
                tail = f'; add  Given a customer "{value}"  before this step'
            return f'unknown customer "{value}"{tail}'
        if what == "message":
            options = list(sc.messages)
            return None if value in sc.messages else f'unknown message "{value}"{suggest(value, options, "messages")}'
        if what == "channel":
            options = channels if channels is not None else self.channels
            if value in options:
                return None
            return f'unknown channel "{value}" (no system of the scenario sends on it){suggest(value, options, "channels")}'
        if what == "kind":
            if value in FINDING_KINDS:
                return None
            return f'unknown finding kind "{value}"{suggest(value, FINDING_KINDS, "finding kinds")}'
        if what == "journey":
            options = list(sc.journey_by_name)
            return None if value in options else f'unknown journey "{value}"{suggest(value, options, "journeys")}'
        if what == "step":
            j = sc.journey_by_name.get(journey or "")
            if j is None:
                return None  # the journey itself is reported
            ids = [s.id for s in j.steps]
            return None if value in ids else f'journey "{j.name}" has no step "{value}"{suggest(value, ids, "steps")}'
        if what == "system":
            options = list(sc.systems)
            return None if value in options else f'unknown system "{value}"{suggest(value, options, "systems")}'
        if what == "event":
            if value in self.events:
                return None
            return f'unknown event "{value}" (a scripted customer can trigger the population\'s events)' \
                   f'{suggest(value, self.events, "events")}'
        if what == "field":
            if value in self.fields:
                return None
            return f'unknown field "{value}"{suggest(value, self.fields, "fields")}'
        if what == "value":
            options = self.known_values(field or "")
            if options is None or value in options:
                return None
            return f'"{value}" is not a value field "{field}" can take{suggest(value, options, f"values of {field}")}'
        if what == "timezone":
            try:
                parse_timezone(value)
            except ValueError as exc:
                return str(exc).replace("'", '"')
            return None
        raise ValueError(f"no such kind of name: {what}")

    def require(self, what: str, value: str, **context: object) -> str:
        """``value`` if it is a known ``what``, else :class:`UATUsageError` with a did-you-mean."""
        text = self.problem(what, value, **context)  # type: ignore[arg-type]
        if text is not None:
            raise UATUsageError(text)
        return value

    def link_problem(self, source: str, target: str) -> str | None:
        """Why there is no sync link from ``source`` to ``target`` (each system checked first)."""
        problems = [p for p in (self.problem("system", source), self.problem("system", target)) if p]
        if problems:
            return "; ".join(problems)
        if any(link.from_ == source and link.to == target for link in self.scenario.sync):
            return None
        links = [f'"{link.from_}" to "{link.to}"' for link in self.scenario.sync]
        if any(link.from_ == target and link.to == source for link in self.scenario.sync):
            return (f'the scenario has no sync link from "{source}" to "{target}"; did you mean "{target}" to '
                    f'"{source}"? (the link runs that way)')
        guess = did_you_mean(f"{source} {target}", [f"{link.from_} {link.to}" for link in self.scenario.sync])
        hint = f'; did you mean "{guess.split()[0]}" to "{guess.split()[1]}"?' if guess else ""
        return f'the scenario has no sync link from "{source}" to "{target}"{hint} (its links: {", ".join(links) or "none"})'

    # ------------------------------------------------------------------ helpers

    def known_values(self, field: str) -> list[str] | None:
        """The text values a choice attribute can take (its options, event ``sets``, step ``update``s),
        or None when the field is open (numbers, names, booleans...)."""
        dist = self.scenario.population.attributes.get(field)
        if not isinstance(dist, Choice):
            return None
        values = {encode_value(v) for v, _ in dist.options}
        for ev in self.scenario.population.events:
            if field in ev.sets:
                values.add(encode_value(ev.sets[field]))
        for j in self.scenario.journeys:
            for step in j.steps:
                if step.update and field in step.update:
                    values.add(encode_value(step.update[field]))
        return sorted(v for v in values if v is not None)
