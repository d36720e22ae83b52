"""The mutation property every importer's tests share: replace any one value of a realistic export by
arbitrary JSON; the importer either produces a scenario that validates, or raises ImportInputError
(exit 2 with a JSON path); nothing else (no traceback, no scenario that fails to load)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from simulator.importers.base import ImportInputError
from simulator.importers.writer import write_scenario
from simulator.scenario.load import load_scenario_text

__all__ = ["ANY_JSON", "json_paths", "mutate_and_import"]

#: arbitrary small JSON values
ANY_JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 200) | st.floats(allow_nan=False)
                        | st.text(max_size=8),
                        lambda kids: st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=6), kids, max_size=3),
                        max_leaves=8)


def json_paths(value: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path into ``value`` (the empty path first)."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from json_paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from json_paths(v, prefix + (i,))


def mutate_and_import(data: Any, folder: Path, names: Sequence[str], importer: Callable[[Any, str], list],
                      fmt: str) -> None:
    """Draw one of ``folder/<name>.json``, replace one value by arbitrary JSON, import: a valid scenario or
    ImportInputError."""
    doc = json.loads((folder / f"{data.draw(st.sampled_from(list(names)))}.json").read_text())
    where = data.draw(st.sampled_from(list(json_paths(doc))[1:]))
    holder = doc
    for part in where[:-1]:
        holder = holder[part]
    holder[where[-1]] = data.draw(ANY_JSON)
    try:
        journeys = importer(doc, "t.json")
    except ImportInputError:
        return
    load_scenario_text(write_scenario(journeys, source="t.json", fmt=fmt), "t.yaml")
