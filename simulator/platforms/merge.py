"""Merge a platform preset UNDER a scenario's raw data, before validation.

For every rule and every item the rule's key pattern reaches (each journey with an ``exit_when``,
each frequency cap, the quiet hours, the policies), :func:`plan` says what happens:

- ``set``: the scenario does not give the key, so the preset's value is used;
- ``kept``: the scenario (or ``--set``) gives the key: its value wins, the preset's is ignored;
- ``skipped``: the rule does not reach anything here (no quiet hours, a cap per 36h, an exit_when on
  both an event and a condition that the platform checks differently), with the reason.

:func:`apply_platform` writes the ``set`` values; ``validate --explain`` prints the whole plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from simulator.platforms.presets import Preset, Rule, presets
from simulator.scenario.units import parse_duration
from simulator.scenario.yamlread import Located

__all__ = ["Outcome", "plan", "apply_platform", "platform_of"]

_DAY = 86400.0
_WEEK = 7 * _DAY


@dataclass(frozen=True)
class Outcome:
    rule: Rule
    path: str                    #: where, in ``--set`` syntax: ``journeys[cart].exit_when.check``
    status: str                  #: ``set`` | ``kept`` | ``skipped``
    value: Any = None            #: the effective value (the preset's when set, the scenario's when kept)
    reason: str = ""             #: why a rule was skipped
    parts: tuple[Any, ...] = ()  #: the key path in the data (for ``set``)


def platform_of(data: Any) -> Preset | None:
    """The preset a scenario's raw data names, or None (no ``platform``, or one validation reports)."""
    name = data.get("platform") if isinstance(data, dict) else None
    return presets().get(name) if isinstance(name, str) else None


def plan(data: dict[str, Any], preset: Preset) -> list[Outcome]:
    """What each of ``preset``'s rules does to ``data`` (not modified)."""
    out: list[Outcome] = []
    seen: set[tuple[str, str]] = set()
    for rule in preset.rules:
        for o in _reach(data, rule, preset):
            if o.status == "skipped" and (o.path, o.reason) in seen:
                continue  # the same reason from a sibling rule (where: event / where: condition)
            seen.add((o.path, o.reason))
            out.append(o)
    return out


def apply_platform(located: Located) -> Located:
    """Write the preset's values for every key the scenario leaves out (in place); returns ``located``."""
    preset = platform_of(located.data)
    if preset is None:
        return located
    for o in plan(located.data, preset):
        if o.status == "set":
            node = located.data
            for part in o.parts[:-1]:
                node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
            node[o.parts[-1]] = o.value
    return located


def _decide(rule: Rule, container: Any, parts: tuple[Any, ...], path: str) -> Outcome:
    leaf = parts[-1]
    if isinstance(container, dict) and leaf in container:
        return Outcome(rule, path, "kept", container[leaf])
    return Outcome(rule, path, "set", rule.value, parts=parts)


def _reach(data: dict[str, Any], rule: Rule, preset: Preset) -> list[Outcome]:
    key = rule.set
    policies = data.get("policies")
    if key.startswith("policies.") and policies is not None and not isinstance(policies, dict):
        return []  # malformed: validation reports it
    policies = policies or {}
    if key in ("policies.on_cap",):
        leaf = key.split(".")[-1]
        return [_decide(rule, policies, ("policies", leaf), key)]
    if key == "policies.quiet_hours.action":
        qh = policies.get("quiet_hours")
        if not isinstance(qh, dict):
            return [Outcome(rule, key, "skipped", reason="the scenario has no quiet_hours")]
        return [_decide(rule, qh, ("policies", "quiet_hours", "action"), key)]
    if key == "policies.frequency_caps[*].window":
        caps = policies.get("frequency_caps")
        if not isinstance(caps, list) or not caps:
            return [Outcome(rule, key, "skipped", reason="the scenario has no frequency_caps")]
        out = []
        for i, cap in enumerate(caps):
            if not isinstance(cap, dict):
                continue
            path = f"policies.frequency_caps[{i}].window"
            kind = _per_kind(cap.get("per"))
            if rule.where.per and kind != rule.where.per:
                if kind is None:
                    out.append(Outcome(rule, path, "skipped",
                                       reason=f"per {cap.get('per')} is not whole days or weeks; {preset.name} "
                                              "documents only 'per day' and 'per week' caps"))
                continue
            out.append(_decide(rule, cap, ("policies", "frequency_caps", i, "window"), path))
        return out
    if key == "policies.journey_caps[*].window":
        caps = policies.get("journey_caps")
        if not isinstance(caps, list) or not caps:
            return [Outcome(rule, key, "skipped", reason="the scenario has no journey_caps")]
        out = []
        for i, cap in enumerate(caps):
            if not isinstance(cap, dict):
                continue
            path = f"policies.journey_caps[{i}].window"
            if cap.get("kind") == "concurrent":
                out.append(Outcome(rule, path, "skipped", reason="a concurrent cap counts journeys at once: no window"))
                continue
            kind = _per_kind(cap.get("per"))
            if rule.where.per and kind != rule.where.per:
                out.append(Outcome(rule, path, "skipped",
                                   reason=f"per {cap.get('per')} is not whole days (or is whole weeks); {preset.name} "
                                          "documents only daily caps"))
                continue
            out.append(_decide(rule, cap, ("policies", "journey_caps", i, "window"), path))
        return out
    if key in ("journeys[*].entry.enter", "journeys[*].entry.every"):
        leaf = key.split(".")[-1]
        out = []
        for i, j in _journeys(data):
            label = j.get("name") if isinstance(j.get("name"), str) else i
            entry = j.get("entry")
            path = f"journeys[{label}].entry.{leaf}"
            if not isinstance(entry, dict):
                continue  # malformed: validation reports it
            if entry.get("segment") is None or entry.get("event") is not None or entry.get("at") is not None:
                out.append(Outcome(rule, path, "skipped", reason="not a segment entry ({segment, every}): an event "
                                                                  "or scheduled entry has no segment evaluations"))
                continue
            out.append(_decide(rule, entry, ("journeys", i, "entry", leaf), path))
        return out
    if key == "journeys[*].execution_window.jitter":
        out = []
        for i, j in _journeys(data):
            label = j.get("name") if isinstance(j.get("name"), str) else i
            window = j.get("execution_window")
            path = f"journeys[{label}].execution_window.jitter"
            if not isinstance(window, dict):
                out.append(Outcome(rule, path, "skipped", reason="the journey has no execution_window"))
                continue
            out.append(_decide(rule, window, ("journeys", i, "execution_window", "jitter"), path))
        return out
    if key in ("journeys[*].max_duration", "journeys[*].journey_data", "journeys[*].recompute_every"):
        leaf = key.split(".")[-1]
        journeys = data.get("journeys")
        out = []
        for i, j in enumerate(journeys if isinstance(journeys, list) else []):
            if isinstance(j, dict):
                label = j.get("name") if isinstance(j.get("name"), str) else i
                out.append(_decide(rule, j, ("journeys", i, leaf), f"journeys[{label}].{leaf}"))
        return out
    if key.startswith("journeys[*].exit_when."):
        leaf = key.split(".")[-1]
        journeys = data.get("journeys")
        out = []
        for i, j in enumerate(journeys if isinstance(journeys, list) else []):
            if not isinstance(j, dict):
                continue
            label = j.get("name") if isinstance(j.get("name"), str) else i
            ew = j.get("exit_when")
            path = f"journeys[{label}].exit_when.{leaf}"
            if not isinstance(ew, dict):
                continue  # no exit_when: nothing to check, nothing to set
            form = _exit_form(ew)
            if rule.where.exit_on and form != rule.where.exit_on:
                if form == "both":
                    then = (f"the scenario's own {leaf} ({ew[leaf]}) is used" if leaf in ew
                            else f"journeysim's default applies unless the scenario sets exit_when.{leaf}")
                    out.append(Outcome(rule, path, "skipped",
                                       reason=f"{preset.name}'s rules for exit_when.{leaf} cover an exit_when on an "
                                              f"event or on a condition, not on both; {then}"))
                continue
            out.append(_decide(rule, ew, ("journeys", i, "exit_when", leaf), path))
        return out
    raise AssertionError(f"no merge for preset key {key}")  # KEYS and this function list the same keys


def _journeys(data: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    journeys = data.get("journeys")
    return [(i, j) for i, j in enumerate(journeys if isinstance(journeys, list) else []) if isinstance(j, dict)]


def _exit_form(ew: dict[str, Any]) -> str:
    has_event, has_when = ew.get("event") is not None, ew.get("when") is not None
    return "both" if has_event and has_when else ("event" if has_event else "condition")


def _per_kind(per: Any) -> str | None:
    """``weeks`` for whole weeks, ``days`` for other whole days, None otherwise (or unreadable)."""
    try:
        seconds = parse_duration(per)
    except (ValueError, TypeError):
        return None
    if seconds <= 0 or seconds % _DAY:
        return None
    return "weeks" if seconds % _WEEK == 0 else "days"
