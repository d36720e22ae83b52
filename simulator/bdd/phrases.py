"""The phrase contract: every step phrase of the library, its documented form and the names it reads.

:func:`phrase` registers a step function with pytest-bdd (a regular expression matched against the
whole step text) and records a :class:`Phrase`; :func:`name_problems` is the one function that
checks every name a matched step reads, used both by each step at run time and by the pre-flight
check of a whole Gherkin scenario (:mod:`simulator.bdd.lint`). :func:`nearest_phrase` finds the
documented phrase closest to a step nobody defines.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pytest_bdd import parsers
from pytest_bdd import steps as bdd_steps

from simulator.bdd.names import NameBook

__all__ = ["Phrase", "PHRASES", "FUNCTIONS", "phrase", "match_phrase", "name_problems", "nearest_phrase", "split_channels",
           "field_pairs", "OUTAGE_MODES", "outage_mode_problem"]


@dataclass(frozen=True, eq=False)
class Phrase:
    """One documented step phrase."""

    type: str  # given | when | then
    template: str  # the documented form, e.g. '"<name>" receives no "<message>"'
    pattern: str  # the regular expression pytest-bdd matches against the whole step text
    names: dict[str, str] = field(default_factory=dict)  # regex group -> what it names (see name_problems)
    notes: str = ""

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(self.pattern)


PHRASES: list[Phrase] = []
#: The (name-checking) step function of each phrase.
FUNCTIONS: dict[Phrase, Callable[..., Any]] = {}


def phrase(type_: str, template: str, pattern: str, names: dict[str, str] | None = None,
           notes: str = "") -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``pattern`` as a ``type_`` step whose names are checked before the function runs."""
    entry = Phrase(type_, template, pattern, dict(names or {}), notes)
    PHRASES.append(entry)

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def checked(journeysim_world: Any, **kwargs: Any) -> Any:
            if entry.names:
                from simulator.bdd.names import UATUsageError

                problems = name_problems(journeysim_world.names, entry, kwargs)
                if problems:
                    raise UATUsageError("\n".join(problems))
            return func(journeysim_world, **kwargs)

        checked.__journeysim_phrase__ = entry  # type: ignore[attr-defined]
        FUNCTIONS[entry] = checked
        # stacklevel 2: pytest-bdd puts its step fixture into the module that called phrase()
        bdd_steps.step(parsers.re(pattern), type_, stacklevel=2)(checked)
        return checked

    return decorator


def _library() -> list[Phrase]:
    """Every phrase (importing the step library registers them)."""
    import simulator.bdd.steps  # noqa: F401

    return PHRASES


def match_phrase(type_: str, text: str) -> tuple[Phrase, dict[str, Any]] | None:
    """The library phrase a step of this type and text is, with its groups (None if none)."""
    for entry in _library():
        if entry.type == type_:
            m = entry.regex.fullmatch(text)
            if m:
                return entry, m.groupdict()
    return None


def split_channels(text: str) -> list[str]:
    """``"email, sms"`` / ``"email and sms"`` -> ``['email', 'sms']``."""
    return [c.strip() for c in re.split(r",|\band\b", text) if c.strip()]


def field_pairs(text: str | None) -> list[tuple[str, str]]:
    """``with "a" = "1" and "b" = "2"`` -> ``[('a', '1'), ('b', '2')]``."""
    return re.findall(r'"([^"]+)" = "([^"]*)"', text or "")


#: The optional end of the outage phrase -> the outage's ``on_outage`` (nothing: ``queue``).
OUTAGE_MODES = {"drops changes": "drop", "skips runs": "skip"}


def outage_mode_problem(text: str) -> str | None:
    """Why ``text`` (after ``... for <duration> and``) is not an outage mode (None when it is)."""
    if text in OUTAGE_MODES:
        return None
    from simulator.scenario.units import did_you_mean

    guess = did_you_mean(text, list(OUTAGE_MODES))
    hint = f'did you mean "and {guess}"? ' if guess else ""
    return (f'unknown outage mode "and {text}"; {hint}end the step with "and drops changes" (on_outage: drop), '
            f'"and skips runs" (on_outage: skip, batch links only), or nothing (on_outage: queue)')


def name_problems(book: NameBook, entry: Phrase, groups: dict[str, Any]) -> list[str]:
    """Every name in a matched step that the scenario does not have, each with a did-you-mean.

    ``entry.names`` maps a regex group to what it names: a key of
    :data:`simulator.bdd.names.NAME_KINDS`, or ``link`` (groups ``a`` and ``b``), ``consent``
    (a list of channels), ``stage`` (the ``stage`` field and its value), ``fields`` (``with``
    pairs), ``step`` (in the journey of group ``journey``).
    """
    out: list[str] = []
    for group, what in entry.names.items():
        value = groups.get(group)
        if value is None:
            continue
        if what == "link":
            problem = book.link_problem(groups["a"], groups["b"])
            out += [problem] if problem else []
        elif what == "consent":
            out += [p for ch in split_channels(value)
                    if (p := book.problem("channel", ch, channels=book.consent_channels))]
        elif what == "stage":
            problem = book.problem("field", "stage")
            out += [problem + " (a customer's stage is the field \"stage\")"] if problem else \
                [p for p in [book.problem("value", value, field="stage")] if p]
        elif what == "fields":
            for name, text in field_pairs(value):
                problem = book.problem("field", name)
                out += [problem] if problem else [p for p in [book.problem("value", text, field=name)] if p]
        elif what == "step":
            out += [p for p in [book.problem("step", value, journey=groups.get("journey"))] if p]
        elif what == "outage_mode":
            out += [p for p in [outage_mode_problem(value)] if p]
        else:
            out += [p for p in [book.problem(what, value)] if p]
    return out


def _shape(text: str) -> str:
    """A step or template reduced to its wording: quoted names, numbers and durations as placeholders."""
    text = re.sub(r'"[^"]*"', '"x"', text)
    text = re.sub(r"<duration>", "N unit", text)
    text = re.sub(r"<[A-Za-z]+>", "N", text)
    text = re.sub(r"\d+(?:\.\d+)?\s+(?:second|minute|hour|day|week)s?", "N unit", text)
    text = re.sub(r"N unit(?:(?:\s*,\s*|\s+and\s+|\s+)N unit)+", "N unit", text)
    text = re.sub(r"\d+(?:\.\d+)?", "N", text)
    return text.casefold()


def _variants(template: str) -> list[str]:
    """The template with and without its optional ``[...]`` parts (each alternative of ``a|b``)."""
    forms = [f.strip() for f in template.split("  |  ")]  # alternative phrases of one entry
    while any("[" in f for f in forms):
        nxt = []
        for f in forms:
            m = re.search(r"\[([^\[\]]*)\]", f)
            if not m:
                nxt.append(f)
                continue
            nxt.append(f[:m.start()] + f[m.end():])
            for alt in m[1].split("|"):
                nxt.append(f[:m.start()] + alt + f[m.end():])
        forms = nxt[:64]
    return [re.sub(r"\s+", " ", f).strip() for f in forms]


def nearest_phrase(type_: str | None, text: str) -> Phrase | None:
    """The documented phrase closest in wording to ``text`` (any type if none of ``type_`` is close)."""
    shape = _shape(text)
    best: tuple[float, int, float, Phrase] | None = None
    for entry in _library():
        for variant in map(_shape, _variants(entry.template)):
            words = difflib.SequenceMatcher(None, shape.split(), variant.split()).ratio()
            chars = difflib.SequenceMatcher(None, shape, variant).ratio()
            rank = (round(words, 6), 1 if entry.type == type_ else 0, chars, entry)
            if best is None or rank[:3] > best[:3]:
                best = rank
    return best[3] if best is not None and max(best[0], best[2]) >= 0.5 else None
