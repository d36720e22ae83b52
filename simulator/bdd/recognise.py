"""Which .feature files are journeysim's (the rule in docs/uat.md, "Which features are journeysim's").

A feature is journeysim's when a step of its Background or of any scenario reads
``Given the scenario "<file>"``, or the feature is tagged ``@journeysim``; when the ini option
``journeysim_features`` lists paths, exactly the features under them are. Every other feature
belongs to someone else and is left alone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

__all__ = ["journeysim_reason", "journeysim_feature_of"]

_REASONS = pytest.StashKey[dict]()
_TAG_LINE = re.compile(r"^\s*(?:@\S+\s+)*@journeysim(?![\w-])", re.M)
_SCENARIO_LINE = re.compile(r'^\s*(?:Given|And|But|\*)\s+the scenario "[^"]+"\s*$', re.M)


def journeysim_reason(path: Path, config: pytest.Config | None = None) -> str | None:
    """Why ``path`` is a journeysim feature, or None when it is not (cached per run)."""
    cache = config.stash.setdefault(_REASONS, {}) if config is not None else {}
    key = str(Path(path).resolve())
    if key not in cache:
        cache[key] = _reason(Path(path), config)
    return cache[key]


def _reason(path: Path, config: pytest.Config | None) -> str | None:
    roots = [Path(p).resolve() for p in (config.getini("journeysim_features") if config is not None else [])]
    if roots:
        here = path.resolve()
        inside = [r for r in roots if here == r or r in here.parents]
        return f"under journeysim_features path {inside[0]}" if inside else None
    from simulator.bdd.lint import is_journeysim_step_text

    try:
        from pytest_bdd.feature import get_feature

        feature = get_feature(str(path.parent), path.name)
    except Exception:  # noqa: BLE001 - unparsable: judge by the text; the parse error is reported if it is ours
        text = path.read_text(encoding="utf-8", errors="replace")
        if _TAG_LINE.search(text) or _SCENARIO_LINE.search(text):
            return "names a journeysim scenario or is tagged @journeysim (the file does not parse)"
        return None
    if "journeysim" in feature.tags:
        return "tagged @journeysim"
    steps = list(feature.background.steps) if feature.background else []
    for template in feature.scenarios.values():
        steps += template.steps
    for step in steps:
        if is_journeysim_step_text(step.type, step.name):
            return f'line {step.line_number} names a journeysim scenario (Given the scenario "...")'
    return None


def journeysim_feature_of(item: pytest.Item) -> str | None:
    """The .feature file of a pytest-bdd test item when that feature is journeysim's (else None)."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))
    if template is None:
        return None
    filename = template.feature.filename
    return filename if journeysim_reason(Path(filename), item.config) is not None else None
