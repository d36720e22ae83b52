"""Platform presets: one YAML file per orchestrator in ``presets/``, read and checked here.

A preset is data: a list of rules, each setting ONE existing scenario key (from the closed list
:data:`KEYS`) to a value, with the vendor page it comes from and a quote, plus the platform
behaviours the engine cannot model yet (``not_modelled``), also cited. docs/platforms.md explains
how a preset is merged under a scenario.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from simulator.errors import JourneySimError
from simulator.scenario.units import did_you_mean, parse_duration

__all__ = ["KEYS", "Rule", "NotModelled", "Preset", "presets", "preset", "platform_names", "unknown_platform_hint",
           "PresetError"]

#: The scenario keys a preset may set, and the values each takes (the scenario model's own choices).
#: ``[*]`` means "every item the scenario has": a preset never creates a journey's exit_when, the
#: quiet hours or a cap; it says how the platform treats the ones the scenario defines.
KEYS: dict[str, tuple[str, ...] | None] = {
    "journeys[*].exit_when.check": ("continuous", "at_steps", "after_waits", "at_sends"),
    "journeys[*].exit_when.recheck": ("never", "at_release"),
    "policies.on_cap": ("drop", "defer"),
    "policies.quiet_hours.action": ("hold", "drop"),
    "policies.frequency_caps[*].window": ("sliding", "calendar"),
    "journeys[*].max_duration": None,  # a duration such as 91d
    "journeys[*].journey_data": ("live", "entry"),
    "journeys[*].recompute_every": None,  # a duration such as 2m
    "journeys[*].entry.enter": ("member", "join"),
    "journeys[*].entry.every": None,  # a duration: how often a segment entry is evaluated
    "journeys[*].execution_window.jitter": None,  # a duration such as 15m
    "policies.journey_caps[*].window": ("sliding", "calendar"),
}

#: Which ``where`` filters each key accepts.
_WHERE = {
    "journeys[*].exit_when.check": "exit_on",
    "journeys[*].exit_when.recheck": "exit_on",
    "policies.frequency_caps[*].window": "per",
    "policies.journey_caps[*].window": "per",
}


class PresetError(JourneySimError):
    """A bundled preset file is malformed (a packaging bug, caught by the tests)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Where(_Strict):
    #: ``event``: the journey's exit_when has an event and no condition; ``condition``: the reverse
    exit_on: Literal["event", "condition"] | None = None
    #: ``days``: a cap whose ``per`` is whole days but not whole weeks; ``weeks``: whole weeks
    per: Literal["days", "weeks"] | None = None


class Rule(_Strict):
    set: str
    value: Any
    where: Where = Where()
    behaviour: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://")
    quote: str = Field(min_length=1)

    @model_validator(mode="after")
    def _known(self) -> Rule:
        if self.set not in KEYS:
            raise ValueError(f"'{self.set}' is not a key a preset may set; one of {', '.join(KEYS)}")
        choices = KEYS[self.set]
        if choices is None:
            try:
                if parse_duration(self.value) <= 0:
                    raise ValueError("it must be longer than 0s")
            except ValueError as exc:
                raise ValueError(f"{self.set} takes a duration such as 91d, not {self.value!r}: {exc}") from None
        elif self.value not in choices:
            raise ValueError(f"{self.set} takes {', '.join(choices)}, not {self.value!r}")
        allowed = _WHERE.get(self.set)
        used = [k for k, v in self.where.model_dump().items() if v is not None]
        if any(k != allowed for k in used):
            raise ValueError(f"{self.set} accepts no 'where: {used[0]}'")
        return self

    @property
    def scope(self) -> str:
        """Human text for ``where`` ("" when the rule applies to every item)."""
        if self.where.exit_on:
            return f"exit_when on an {self.where.exit_on}" if self.where.exit_on == "event" else \
                "exit_when on a condition"
        if self.where.per:
            return "caps per whole days (not weeks)" if self.where.per == "days" else "caps per whole weeks"
        return ""


class NotModelled(_Strict):
    behaviour: str = Field(min_length=1)
    source: str = Field(pattern=r"^https://")
    quote: str = Field(min_length=1)


class Preset(_Strict):
    name: str
    title: str
    rules: list[Rule] = Field(min_length=1)
    not_modelled: list[NotModelled] = []


@lru_cache(maxsize=1)
def presets() -> dict[str, Preset]:
    """Every bundled preset by name, sorted."""
    out: dict[str, Preset] = {}
    folder = resources.files("simulator.platforms") / "presets"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".yaml"):
            continue
        try:
            p = Preset.model_validate(yaml.safe_load(entry.read_text(encoding="utf-8")))
        except (ValidationError, yaml.YAMLError) as exc:
            raise PresetError(f"platform preset {entry.name} is invalid: {exc}") from None
        if p.name + ".yaml" != entry.name:
            raise PresetError(f"platform preset {entry.name} is named '{p.name}'; the file must be {p.name}.yaml")
        out[p.name] = p
    return out


def platform_names() -> list[str]:
    return list(presets())


def unknown_platform_hint(name: str) -> str:
    """'did you mean 'braze'? known platforms: braze, customerio, ...' (the guess only when close)."""
    names = platform_names()
    guess = did_you_mean(name, names)
    known = f"known platforms: {', '.join(names)}"
    return f"did you mean '{guess}'? {known}" if guess else known


def preset(name: str) -> Preset:
    """The preset called ``name``; an unknown name is a :class:`JourneySimError` (exit 2) with a did-you-mean."""
    try:
        return presets()[name]
    except KeyError:
        raise JourneySimError(f"unknown platform '{name}'; {unknown_platform_hint(name)}") from None
