"""Load a scenario in four steps: read YAML -> apply defaults -> validate -> freeze.

``load_scenario`` is the one entry point the CLI, the UAT steps and sweeps call. Overrides
(``--set key.path=value``) are applied to the raw data before defaults, so they are validated
exactly like the file; errors caused by them say so.
"""

from __future__ import annotations

import copy
import hashlib
import re
from pathlib import Path
from typing import Any

from simulator.errors import ScenarioError, ScenarioIssue
from simulator.scenario.model import Scenario
from simulator.scenario.semantics import semantic_issues
from simulator.scenario.units import did_you_mean
from simulator.scenario.validate import structural_issues
from simulator.scenario.yamlread import Located, PathKey, format_path, parse_scalar, read_yaml, read_yaml_text

__all__ = [
    "load_scenario",
    "load_scenario_text",
    "apply_defaults",
    "apply_overrides",
    "parse_key_path",
    "validate_located",
    "scenario_hash",
]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\]]+)\]")


def parse_key_path(text: str) -> list[str | int]:
    """``sync[1].every`` -> ``['sync', 1, 'every']``; ``journeys[cart].steps[wait_1h]`` keeps names."""
    parts: list[str | int] = []
    pos = 0
    text = text.strip()
    empty = re.search(r"^\.|\.\.|\.$|\.\[|\[\s*\]", text)
    if empty:
        raise ValueError(f"key path {text!r} has an empty part at character {empty.start() + 1}; write it like "
                         "population.size or sync[1].every")
    while pos < len(text):
        if text[pos] == ".":
            pos += 1
            continue
        m = _SEGMENT.match(text, pos)
        if not m:
            raise ValueError(f"cannot read key path {text!r} at character {pos + 1}; write it like sync[1].every")
        word, index = m.group(1), m.group(2)
        if index is not None:
            parts.append(int(index) if index.strip().lstrip("-").isdigit() else index.strip())
        else:
            parts.append(word)
        pos = m.end()
    if not parts:
        raise ValueError("empty key path; write it like population.size")
    return parts


def _find_item(items: list[Any], key: str) -> int | None:
    """Index of the list item called ``key`` (by ``name``, ``id``, or a link's ``from->to``)."""
    for i, item in enumerate(items):
        if isinstance(item, dict):
            label = f"{item.get('from')}->{item.get('to')}" if "from" in item else None
            if key in (item.get("name"), item.get("id"), label):
                return i
    return None


def apply_overrides(located: Located, overrides: dict[str, Any] | list[str] | None) -> Located:
    """Return a copy of ``located`` with ``key.path=value`` overrides applied to its data.

    Values given as strings in a list (``["population.size=500"]``) are parsed as YAML scalars or flow
    collections; a dict maps paths to ready values. A path that does not lead anywhere in the data is a
    :class:`ScenarioError` naming the override.
    """
    if not overrides:
        return located
    items: list[tuple[str, Any]] = []
    if isinstance(overrides, dict):
        items = list(overrides.items())
    issues: list[ScenarioIssue] = []
    if not isinstance(overrides, dict):
        for text in overrides:
            if "=" not in text:
                issues.append(ScenarioIssue(text, "an override must look like key.path=value",
                                            hint="e.g. --set population.size=500"))
                continue
            key, _, raw = text.partition("=")
            try:
                value = parse_scalar(raw) if raw.strip() else ""
            except ScenarioError as exc:
                issues.append(ScenarioIssue(key, f"cannot read the value {raw!r}: {exc.issues[0].message}"))
                continue
            items.append((key.strip(), value))
    out = Located(copy.deepcopy(located.data), located.file, dict(located.positions), dict(located.key_positions),
                  located.text, set(located.overridden))
    for key, value in items:
        try:
            parts = parse_key_path(key)
            path = _set(out.data, parts, value, key)
        except ValueError as exc:
            issues.append(ScenarioIssue(key, str(exc), hint="check the key path against the scenario file"))
            continue
        out.overridden.add(path)
        for table in (out.positions, out.key_positions):
            for p in [p for p in table if p[: len(path)] == path]:
                del table[p]
    if issues:
        raise ScenarioError(issues, "--set")
    return out


def _set(data: Any, parts: list[str | int], value: Any, text: str) -> PathKey:
    node = data
    resolved: list[str | int] = []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        here = format_path(tuple(resolved)) or "the scenario"
        if isinstance(node, list):
            if isinstance(part, str):
                found = _find_item(node, part)
                if found is None:
                    names = [str(i.get("name") or i.get("id")) for i in node if isinstance(i, dict)]
                    guess = did_you_mean(part, names)
                    raise ValueError(f"{here} has no item called '{part}'" + (f"; did you mean '{guess}'?" if guess else ""))
                part = found
            if not -len(node) <= part < len(node):
                raise ValueError(f"{here} has {len(node)} item{'s' if len(node) != 1 else ''}; index {part} is out of range")
            part = part % len(node)
        elif isinstance(node, dict):
            if isinstance(part, int):
                raise ValueError(f"{here} is a mapping, not a list; use .key instead of [{part}]")
            if part not in node and not last:
                node[part] = {}
        else:
            raise ValueError(f"{here} is a single value, it has no '{part}'")
        resolved.append(part)
        if last:
            node[part] = value
        else:
            node = node[part]
    return tuple(resolved)


def apply_defaults(located: Located) -> Located:
    """Fill defaults that depend on other keys (fixed defaults are declared on the model).

    - ``population.timezones`` absent: everyone lives in ``default_timezone`` (UTC if unset).
    - ``messages.*.system`` absent: the message is rendered by the system serving its channel.
    Only well-formed parts are touched; malformed ones are left for validation to report.
    """
    data = located.data
    if not isinstance(data, dict):
        return located
    pop = data.get("population")
    if pop is None:
        pop = data["population"] = {}
    if isinstance(pop, dict) and "timezones" not in pop:
        zone = data.get("default_timezone")
        pop["timezones"] = {zone if isinstance(zone, str) and zone else "UTC": 1.0}
        located.positions.setdefault(("population", "timezones"), located.where(("default_timezone",)))  # type: ignore[arg-type]
    systems, messages = data.get("systems"), data.get("messages")
    if isinstance(systems, dict) and isinstance(messages, dict):
        serving: dict[str, str] = {}
        for name, system in systems.items():
            if isinstance(system, dict) and isinstance(system.get("channel"), str):
                serving.setdefault(system["channel"], name)
        for msg in messages.values():
            if isinstance(msg, dict) and "system" not in msg and isinstance(msg.get("channel"), str) \
                    and msg["channel"] in serving:
                msg["system"] = serving[msg["channel"]]
    return located


def validate_located(located: Located) -> Scenario:
    """Structural then semantic validation; raises one :class:`ScenarioError` with every issue.

    When the structure has errors, the semantic checks still run on a copy with the broken parts
    removed, so that a bad duration and a ``goto`` to a missing step are reported together.
    """
    scenario, issues, paths = structural_issues(Scenario, located)
    if scenario is not None:
        issues = semantic_issues(scenario, located)  # type: ignore[arg-type]
    elif isinstance(located.data, dict):
        partial, pruned = _without_broken_parts(located, paths)
        if partial is not None:
            pruned_text = [format_path(p) for p in pruned]
            issues = issues + [i for i in semantic_issues(partial, located)
                               if not any(_related(i.path, p) for p in pruned_text)]
    if issues:
        issues = sorted(issues, key=lambda i: (i.line is None, i.line or 0, i.column or 0, i.path))
        raise ScenarioError(_mark_overrides(located, issues), located.file)
    return scenario  # type: ignore[return-value]


def _related(a: str, b: str) -> bool:
    """True when key path ``a`` is ``b``, inside it, or contains it."""
    def inside(x: str, y: str) -> bool:
        return x == y or x.startswith(y + ".") or x.startswith(y + "[") or not y
    return inside(a, b) or inside(b, a)


def _without_broken_parts(located: Located, paths: list[PathKey]) -> tuple[Scenario | None, list[PathKey]]:
    """Remove the keys that failed validation (a broken step becomes a neutral stub keeping its id) and
    validate again, a few rounds; returns the partial model and what was removed, or None if it never settles."""
    data = copy.deepcopy(located.data)
    pruned: list[PathKey] = []
    for _ in range(5):
        for path in sorted(set(paths), key=len, reverse=True):
            if not _remove(data, path):
                return None, pruned
            pruned.append(path)
        partial, _issues, paths = structural_issues(Scenario, located, data)
        if partial is not None:
            return partial, pruned  # type: ignore[return-value]
    return None, pruned


def _remove(data: Any, path: PathKey) -> bool:
    if not path:
        return False
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return True  # already gone with an enclosing key
    last = path[-1]
    if isinstance(parent, dict):
        parent.pop(last, None)
        return True
    if isinstance(parent, list) and len(path) >= 2 and path[-2] == "steps" and isinstance(last, int):
        old = parent[last] if last < len(parent) else None
        sid = old.get("id") if isinstance(old, dict) and isinstance(old.get("id"), str) else f"__broken_{last}"
        parent[last] = {"id": sid, "wait": 0}
        return True
    return False


def _mark_overrides(located: Located, issues: list[ScenarioIssue]) -> list[ScenarioIssue]:
    overridden = located.overridden
    out = []
    for issue in issues:
        hit = next((p for p in overridden if issue.path.startswith(format_path(p))), None)
        if hit is not None:
            issue = ScenarioIssue(issue.path, issue.message + " (value given with --set)", None, None,
                                  issue.hint, issue.file)
        out.append(issue)
    return out


def _freeze(scenario: Scenario, located: Located) -> Scenario:
    """Attach provenance (file, content hash) to the validated, immutable model."""
    scenario._source_file = located.file
    scenario._source_hash = scenario_hash(located)
    scenario._warnings = placeholder_warnings(scenario, located)
    return scenario


def placeholder_warnings(scenario: Scenario, located: Located) -> tuple[str, ...]:
    """One line per step an importer marked ``placeholder`` (docs/import.md): file, line, key path,
    what the export did not carry, and the fix."""
    out = []
    for j_i, j in enumerate(scenario.journeys):
        for s_i, s in enumerate(j.steps):
            if s.placeholder:
                line = located.line(("journeys", j_i, "steps", s_i, "placeholder"), key=True)
                where = f"{located.file or '<text>'}{f':{line}' if line else ''}"
                out.append(f"{where}: journeys[{j.name}].steps[{s.id}]: placeholder: {s.placeholder}; "
                           "when it is set, delete the 'placeholder' key")
    return tuple(out)


def scenario_hash(located: Located) -> str:
    """SHA-256 of the scenario as validated (after overrides), independent of comments and layout."""
    import json

    canonical = json.dumps(located.data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def load_scenario_text(text: str, file: str | None = None,
                       overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Load a scenario from YAML text (see :func:`load_scenario`)."""
    return _load(read_yaml_text(text, file), overrides)


def load_scenario(path: str | Path, overrides: dict[str, Any] | list[str] | None = None) -> Scenario:
    """Read, default, validate and freeze the scenario at ``path``.

    Raises :class:`ScenarioError` listing every problem (file, key path, line, fix).
    """
    return _load(read_yaml(path), overrides)


def _load(located: Located, overrides: dict[str, Any] | list[str] | None) -> Scenario:
    from simulator.platforms.merge import apply_platform  # a preset goes UNDER the scenario (docs/platforms.md)

    located = apply_defaults(apply_platform(apply_overrides(located, overrides)))
    return _freeze(validate_located(located), located)
