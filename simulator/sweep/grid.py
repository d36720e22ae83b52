"""The sweep grid: ``--vary`` key paths with value lists and ranges, ``--what-if`` shortcuts, and their
cartesian product as variants (each a tuple of scenario overrides)."""

from __future__ import annotations

import itertools
import json
import math
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from simulator.errors import UsageError
from simulator.scenario.load import parse_key_path
from simulator.scenario.model import Scenario
from simulator.scenario.units import did_you_mean, format_duration, parse_duration, parse_time

WHAT_IF = "what_if"          #: the settings column of --what-if variants
BASELINE = "baseline"        #: its value for the unchanged scenario
MAX_RANGE = 1000             #: values one range may expand to
_RANGE = re.compile(r"^(?P<a>.+?)\.\.(?P<b>[^/]+?)(?:/(?P<step>.+))?$")


@dataclass(frozen=True)
class Vary:
    """One ``--vary KEY.PATH=V1,V2,...``: the key path as written and the value texts in order."""

    key: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class WhatIf:
    """One ``--what-if``: its label (the text as normalised) and the overrides it stands for."""

    label: str
    overrides: tuple[str, ...]


@dataclass(frozen=True)
class Variant:
    """One point of the grid: ``settings`` are (column, value text) pairs, ``overrides`` what is applied."""

    index: int
    settings: tuple[tuple[str, str], ...]
    overrides: tuple[str, ...]

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.settings) or BASELINE


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets, braces and quotes (values may be flow YAML: ``{fixed: 5m}``)."""
    out, cur, depth, quote = [], [], 0, None
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
            if depth < 0:
                raise ValueError(f"unbalanced '{ch}'")
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if depth or quote:
        raise ValueError("unbalanced brackets or quotes")
    out.append("".join(cur).strip())
    return out


def number(text: str) -> int | float | None:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def expand_range(text: str) -> list[str]:
    """``1h..6h/30m`` -> ``['1h', '1h30m', ..., '6h']``; ``0..0.05/0.01`` and ``100..500/100`` likewise.

    Both ends are included when the step lands on the end. Raises ValueError with the fix.
    """
    m = _RANGE.match(text.strip())
    if not m:
        raise ValueError(f"cannot read range '{text}'; write START..END/STEP, e.g. 1h..6h/30m")
    a, b, step = m.group("a").strip(), m.group("b").strip(), m.group("step")
    if step is None:
        raise ValueError(f"range '{text}' needs a step; write it like {a}..{b}/STEP (e.g. 1h..6h/30m)")
    step = step.strip()
    nums = [number(x) for x in (a, b, step)]
    if all(n is not None for n in nums):
        start, end, size = nums  # type: ignore[misc]
        show: Callable[[float], str] = (lambda v: str(int(round(v)))) if all(isinstance(n, int) for n in nums) \
            else (lambda v: f"{v:.12g}")
    else:
        try:
            start, end, size = (parse_duration(x) for x in (a, b, step))
        except ValueError as exc:
            raise ValueError(f"range '{text}': {exc}; ranges take durations (1h..6h/30m) or numbers "
                             "(0..0.05/0.01)") from None
        show = format_duration
    if size <= 0:
        raise ValueError(f"range '{text}': the step must be more than 0")
    if end < start:
        raise ValueError(f"range '{text}' runs backwards; write {b}..{a}/{step}")
    count = int(math.floor((end - start) / size + 1e-9)) + 1
    if count > MAX_RANGE:
        raise ValueError(f"range '{text}' makes {count} values (at most {MAX_RANGE}); use a larger step")
    return [show(start + i * size) for i in range(count)]


def parse_vary(text: str) -> Vary:
    """``'journeys[cart].steps[wait_1h].wait=30m,1h..3h/30m'`` -> :class:`Vary`.

    Values are split on top-level commas; an item ``A..B/STEP`` is a range. Raises :class:`UsageError`.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"--vary {text!r}: expected KEY.PATH=V1,V2,... such as "
                         "'journeys[cart-abandonment].steps[wait_1h].wait=30m,1h,2h' or a range 1h..6h/30m")
    try:
        parse_key_path(key)
        items = _split_top(raw)
    except ValueError as exc:
        raise UsageError(f"--vary {text!r}: {exc}") from None
    values: list[str] = []
    for item in items:
        if not item:
            raise UsageError(f"--vary {key}: empty value in {raw!r}; give values like 1h,2h,4h")
        try:
            expanded = expand_range(item) if ".." in item and not item.startswith(("{", "[", "'", '"')) else [item]
        except ValueError as exc:
            raise UsageError(f"--vary {key}: {exc}") from None
        for value in expanded:
            if value in values:
                raise UsageError(f"--vary {key}: value '{value}' is given twice")
            values.append(value)
    return Vary(key, tuple(values))


def _link_index(scenario: Scenario, text: str) -> int:
    """Index of the sync link called ``text`` (its name, ``from->to`` or index)."""
    for i, link in enumerate(scenario.sync):
        if text in (link.name, f"{link.from_}->{link.to}", str(i)):
            return i
    names = [link.label for link in scenario.sync] + [f"{link.from_}->{link.to}" for link in scenario.sync]
    guess = did_you_mean(text, names)
    raise UsageError(f"--what-if: no sync link '{text}'" + (f"; did you mean '{guess}'?" if guess else "")
                     + f" (links: {', '.join(link.label for link in scenario.sync)})")


def _scale(spec: Any, factor: float) -> Any:
    """Every duration in a distribution spec times ``factor`` (a scale change for every family)."""
    if isinstance(spec, dict):
        return {k: _scale(v, factor) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_scale(v, factor) for v in spec]
    return format_duration(round(parse_duration(spec) * factor, 3))


_WHAT_IF_HELP = ("write 'outage LINK --at TIME --for DURATION' (TIME in ISO 8601 with a zone, or a duration "
                 "after the start such as 2d8h) or 'latency LINK xFACTOR' (e.g. 'latency web->cdp x3')")


def parse_what_if(text: str, scenario: Scenario) -> WhatIf:
    """``'outage cdp->esp --at 2026-12-03T08:00Z --for 6h'`` or ``'latency web->cdp x3'`` -> overrides.

    An outage is added to the link's existing ``outages`` (``--drop`` drops changes instead of
    queueing them); a latency factor scales every duration of the link's latency distribution.
    """
    try:
        words = shlex.split(text)
    except ValueError as exc:
        raise UsageError(f"--what-if {text!r}: {exc}") from None
    if len(words) < 2 or words[0] not in ("outage", "latency"):
        guess = did_you_mean(words[0], ["outage", "latency"]) if words else None
        raise UsageError(f"--what-if {text!r}: " + (f"unknown shortcut '{words[0]}', did you mean '{guess}'? "
                                                     if guess and words[0] != guess else "") + _WHAT_IF_HELP)
    what, link_text, rest = words[0], words[1], words[2:]
    index = _link_index(scenario, link_text)
    link = scenario.sync[index]
    if what == "latency":
        m = re.fullmatch(r"[x*×]?\s*(\d+(?:\.\d+)?)\s*x?", " ".join(rest)) if rest else None
        if not m or float(m.group(1)) <= 0:
            raise UsageError(f"--what-if {text!r}: expected a factor such as x3 or x0.5; {_WHAT_IF_HELP}")
        factor = float(m.group(1))
        if link.mode != "stream":
            raise UsageError(f"--what-if {text!r}: {link.label} is a batch link; its delay is its schedule "
                             f"(vary sync[{link.label}].every or its duration instead)")
        if link.latency.quantile(0.99) == 0:
            raise UsageError(f"--what-if {text!r}: {link.label} has no latency to scale (it is 0s)")
        spec = _scale(link.latency.to_spec(), factor)
        return WhatIf(f"latency {link_text} x{factor:g}", (f"sync[{index}].latency={json.dumps(spec)}",))
    options: dict[str, str] = {}
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--drop":
            options["drop"] = "1"
            i += 1
        elif word in ("--at", "--for") and i + 1 < len(rest):
            options[word[2:]] = rest[i + 1]
            i += 2
        else:
            raise UsageError(f"--what-if {text!r}: unexpected '{word}'; {_WHAT_IF_HELP}")
    if "at" not in options or "for" not in options:
        raise UsageError(f"--what-if {text!r}: an outage needs --at and --for; {_WHAT_IF_HELP}")
    try:
        start = scenario.start + timedelta(seconds=parse_duration(options["at"]))
    except ValueError:
        try:
            start = parse_time(options["at"])
        except ValueError as exc:
            raise UsageError(f"--what-if {text!r}: --at {options['at']!r}: {exc}") from None
    try:
        length = parse_duration(options["for"])
    except ValueError as exc:
        raise UsageError(f"--what-if {text!r}: --for {options['for']!r}: {exc}") from None
    if length <= 0:
        raise UsageError(f"--what-if {text!r}: --for must be longer than 0s")
    mode = "drop" if "drop" in options else "queue"
    outages = [o.model_dump(mode="json") for o in link.outages]
    outages.append({"start": start.isoformat(), "duration": format_duration(length), "on_outage": mode})
    label = f"outage {link_text} at {options['at']} for {format_duration(length)}"
    label += " (drop)" if mode == "drop" else ""
    return WhatIf(label, (f"sync[{index}].outages={json.dumps(outages)}",))


def build_grid(varies: Sequence[Vary], what_ifs: Sequence[WhatIf]) -> list[Variant]:
    """The cartesian product of the --vary values (the first --vary changes slowest), then what-ifs."""
    dims: list[list[tuple[str, str, tuple[str, ...]]]] = [
        [(v.key, value, (f"{v.key}={value}",)) for value in v.values] for v in varies]
    if what_ifs:
        dims.append([(WHAT_IF, BASELINE, ())] + [(WHAT_IF, w.label, w.overrides) for w in what_ifs])
    variants = []
    for index, combo in enumerate(itertools.product(*dims)):
        variants.append(Variant(index, tuple((k, v) for k, v, _ in combo),
                                tuple(o for _, _, overrides in combo for o in overrides)))
    return variants

