"""Pre-flight check of one Gherkin scenario: every step read before anything runs.

Each step is matched to the library's phrases in order; the scenario file is loaded where the step
``the scenario "..."`` names it; customers count as declared from their ``a customer "..."`` step
on; and every name is checked with :func:`simulator.bdd.phrases.name_problems`. All problems are
reported at once (file:line, the step, what is wrong, a did-you-mean), so a feature with three
misspelt names fails naming all three, before any simulation runs.

A step that matches no phrase is left to pytest-bdd when the project defines it (a team's own
steps next to the library's); otherwise it is reported with the nearest documented phrase.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from simulator.bdd import steps as _steps  # noqa: F401 - registers the phrases
from simulator.bdd.names import NameBook, UATUsageError, find_scenario_file
from simulator.bdd.phrases import PHRASES, match_phrase, name_problems, nearest_phrase
from simulator.errors import JourneySimError
from simulator.scenario.load import load_scenario

__all__ = ["check_scenario", "unknown_step_message", "is_journeysim_step_text", "StepsError"]


class StepsError(UATUsageError):
    """Every problem the pre-flight check found in one Gherkin scenario (each line names its step)."""


SCENARIO_PHRASE = next(p for p in PHRASES if p.template.startswith("the scenario "))


def is_journeysim_step_text(type_: str, text: str) -> bool:
    """True when a step names a journeysim scenario file (the recognition phrase)."""
    return type_ == "given" and SCENARIO_PHRASE.regex.fullmatch(text) is not None


def unknown_step_message(type_: str, text: str) -> str:
    """'unknown step phrase ...; nearest documented phrase: ...' (see docs/uat.md)."""
    near = nearest_phrase(type_, text)
    keyword = type_.capitalize()
    if near is None:
        return f"unknown step phrase: {keyword} {text}; the phrases are listed in docs/uat.md"
    other = f" (a {near.type.capitalize()} step)" if near.type != type_ else ""
    return (f"unknown step phrase: {keyword} {text}\n  nearest documented phrase{other}: "
            f"{near.type.capitalize()} {near.template}\n  (all phrases: docs/uat.md)")


def check_scenario(steps: list[Any], feature_file: str, defined: Callable[[Any], bool] | None = None) -> None:
    """Raise :class:`UATUsageError` listing every problem of a Gherkin scenario's steps (None if fine).

    ``steps`` are pytest-bdd steps (``type``, ``name``, ``line_number``), background first;
    ``defined(step)`` says whether the project defines a step the library does not know.
    """
    base_dir = Path(feature_file).parent
    where = Path(feature_file).name
    problems: list[tuple[str, list[str]]] = []  # (the step, what is wrong with it)
    book: NameBook | None = None
    customers: list[str] = []
    for step in steps:
        here = f"{where}:{step.line_number}: {step.keyword.strip()} {step.name}"
        found = match_phrase(step.type, step.name)
        if found is None:
            if defined is not None and defined(step):
                continue
            problems.append((f"{where}:{step.line_number}: " + unknown_step_message(step.type, step.name), []))
            continue
        entry, groups = found
        if entry is SCENARIO_PHRASE:
            try:
                path = find_scenario_file(groups["path"], base_dir)
                book = NameBook(load_scenario(path), customers)
            except JourneySimError as exc:
                problems.append((here, [str(exc).replace("\n", "\n  ")]))
                return _raise(problems, stop=True)
            continue
        declares = entry.template.startswith('a customer "')
        if entry.names or declares:
            if book is None:
                problems.append((here, ['no scenario yet: start with  Given the scenario "path/to/scenario.yaml"']))
                return _raise(problems, stop=True)
            book.customers = customers
            found_here = name_problems(book, entry, groups)
            if declares and groups["name"] in customers:
                found_here.append(f'customer "{groups["name"]}" is declared twice in this scenario')
            if found_here:
                problems.append((here, found_here))
        if declares:
            customers.append(groups["name"])
    _raise(problems)


def _raise(problems: list[tuple[str, list[str]]], stop: bool = False) -> None:
    if not problems:
        return
    n = sum(max(1, len(found)) for _, found in problems)
    head = f"{n} problem{'s' if n != 1 else ''} in this scenario's steps" + (" (checking stopped there)" if stop else "")
    raise StepsError(head + ":\n" + "\n".join(here + "".join(f"\n  {p}" for p in found) for here, found in problems))
