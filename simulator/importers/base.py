"""What every importer shares: the input error (file, JSON path, what was expected, a fix) and
small path-aware readers for parsed JSON."""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from simulator.errors import JourneySimError

__all__ = ["ImportInputError", "ExportReader", "read_json", "want", "did_you_mean", "safe_name", "step_ids", "depth_first", "find_loop",
           "NAME_RE", "unique_names", "printable", "MAX_SECONDS", "shares", "shape"]

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class ImportInputError(JourneySimError):
    """The export is malformed or not the expected shape (``journeysim import`` exits 2)."""

    def __init__(self, file: str, path: str, message: str, fix: str = ""):
        self.file, self.path, self.message, self.fix = file, path, message, fix
        text = f"{file}: {path + ': ' if path else ''}{message}"
        super().__init__(text + (f"; {fix}" if fix else ""))


class ExportReader:
    """Reads one object of an export found at JSON path ``at`` (``""`` or ``items[3].``): its errors and type
    checks name the file and the full JSON path. Subclasses set ``expected`` (what the file must be)."""

    expected = "the export"

    def __init__(self, file: str, at: str) -> None:
        self.file, self._at = file, at

    def err(self, path: str, message: str, fix: str = "") -> ImportInputError:
        return ImportInputError(self.file, (self._at + path) if path else self._at.rstrip("."), message, fix)

    def want(self, value: Any, kind: Any, path: str, fix: str = "") -> Any:
        return want(value, kind, self.file, self._at + path, fix or f"the file must be {self.expected}")


def read_json(path: Path, expected: str) -> Any:
    """Parse ``path`` as JSON; a syntax error names the line and column."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportInputError(str(path), "", f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                               f"save the export as UTF-8 JSON ({expected})") from None
    except OSError as exc:
        raise ImportInputError(str(path), "", f"cannot read the file: {exc.strerror or exc}",
                               "check the path") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportInputError(f"{path}:{exc.lineno}:{exc.colno}", "", f"not valid JSON: {exc.msg}",
                               f"the file must be {expected}, saved exactly as the API returned it") from None


def want(value: Any, kind: type | tuple[type, ...], file: str, path: str, fix: str) -> Any:
    """``value`` if it is of ``kind`` (bool is never accepted as a number), else an ImportInputError."""
    names = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds):
        return value
    got = "missing" if value is None else f"{type(value).__name__} {json.dumps(value)[:60]}"
    expected = " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
    raise ImportInputError(file, path, f"expected {expected}, got {got}", fix)


def did_you_mean(word: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """'; did you mean 'X'?' for a close match (case-insensitive), else ''."""
    lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(lower), n=1, cutoff=0.6)
    return f"did you mean '{lower[close[0]]}'?" if close else ""


def safe_name(text: str) -> str:
    """A scenario name (letters, digits, ``_ - .``; starts alphanumeric; <= 100 chars) from ``text``."""
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "-", text.strip()).strip("-._")
    return (name or "x")[:100]


def step_ids(keys: list[str], end_alias: str) -> dict[str, str]:
    """Scenario step ids for an export's node keys: a key that is already a valid name is kept, any other
    is made safe; the reserved target ``end`` becomes ``end_alias``; clashes get ``-2``, ``-3``, ..."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for k in keys:
        i = k if NAME_RE.match(k) and len(k) <= 100 and k != "end" else safe_name(k)
        if i == "end":
            i = end_alias
        base, n = i, 2
        while i in used:
            i, n = f"{base}-{n}", n + 1
        used.add(i)
        ids[k] = i
    return ids


def depth_first(start: str | None, nodes: dict[str, Any], ids: dict[str, str], end: str = "end") -> list[str]:
    """Node keys reachable from ``start``, depth-first with each node's targets in the export's order
    (``nodes[key].targets()`` are step ids; ``ids`` maps keys to step ids). ``None`` starts nowhere."""
    by_id = {ids[k]: k for k in nodes}
    order: list[str] = []
    seen: set[str] = set()
    stack = [start] if start is not None else []
    while stack:
        k = stack.pop()
        if k in seen:
            continue
        seen.add(k)
        order.append(k)
        stack += [by_id[t] for t in reversed(nodes[k].targets()) if t != end and by_id[t] not in seen]
    return order


def find_loop(nodes: dict[str, Any], by_id: dict[str, str], end: str = "end") -> list[str] | None:
    """A cycle among ``nodes`` (keys; ``nodes[key].targets()`` are step ids, ``by_id`` maps them back to
    keys) as the keys along it, first repeated at the end (``[a, b, a]``); None when there is none."""
    state: dict[str, int] = {}

    def visit(k: str, trail: list[str]) -> list[str] | None:
        state[k] = 1
        for t in nodes[k].targets():
            if t == end:
                continue
            nxt = by_id[t]
            if state.get(nxt) == 1:
                path = trail + [k]
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt, trail + [k])
                if found:
                    return found
        state[k] = 2
        return None

    for k in nodes:
        if k not in state:
            found = visit(k, [])
            if found:
                return found
    return None


def unique_names(journeys: list[Any]) -> None:
    """Make the journeys' ``name`` unique in place: a repeated name gets ``-2``, ``-3``, ... (the base cut
    so the whole stays within 100 characters)."""
    used: set[str] = set()
    for j in journeys:
        name, n = j.name, 2
        while name in used:
            suffix = f"-{n}"
            name, n = j.name[:100 - len(suffix)] + suffix, n + 1
        used.add(name)
        j.name = name


def printable(value: Any) -> bool:
    """False for a string with characters a condition cannot carry (NUL, other control characters)."""
    return not isinstance(value, str) or value.isprintable()


#: the longest duration a scenario may give (36500 days)
MAX_SECONDS = 36500 * 86400.0


def shares(weights: list[float]) -> list[float]:
    """Percentages (6 decimals) proportional to ``weights`` (all > 0) adding up to exactly 100: each at
    least 0.000001 (a share that rounds to 0 would make its target unreachable), the largest (the first
    of equals) taking the rounding remainder."""
    total = sum(weights)
    out = [max(round(100.0 * w / total, 6), 0.000001) for w in weights]
    big = out.index(max(out))
    out[big] = round(100.0 - sum(x for i, x in enumerate(out) if i != big), 6)
    return out


def shape(data: Any) -> str:
    """What a top-level JSON value is, for 'not a ...: got X': ``an empty object``, ``an object with keys a,
    b`` (the first six), ``an empty list``, ``a list``, ``a string``, ``a number``, ``true``/``false``, ``null``."""
    if isinstance(data, dict):
        keys = [str(k) for k in data]
        return ("an object with keys " + ", ".join(keys[:6]) + (", ..." if len(keys) > 6 else "")) if keys \
            else "an empty object"
    if isinstance(data, list):
        return "a list" if data else "an empty list"
    if isinstance(data, bool) or data is None:
        return json.dumps(data)
    return "a string" if isinstance(data, str) else "a number"


def one_or_results(data: Any, file: str, expected: str, vendor: str, item: str, single_keys: tuple[str, ...],
                   build: Any) -> list[Any]:
    """The journeys of an export that is one object (recognised by any of ``single_keys``) or the API's
    list ``{results: [...]}`` (names made unique); ``build(obj, json_prefix)`` reads one object."""
    if not isinstance(data, dict):
        raise ImportInputError(file, "", f"not a {vendor}: got {shape(data)}", f"the file must be {expected}")
    if "results" in data and "actions" not in data:
        items = want(data["results"], list, file, "results", f"the file must be {expected}")
        if not items:
            raise ImportInputError(file, "results", f"the list has no {item}s", f"export at least one {item}")
        journeys = [build(want(it, dict, file, f"results[{n}]", f"each item is a {item}"), f"results[{n}].")
                    for n, it in enumerate(items)]
        unique_names(journeys)
        return journeys
    if any(k in data for k in single_keys):
        return [build(data, "")]
    raise ImportInputError(file, "", f"not a {vendor}: got {shape(data)}", f"the file must be {expected}")

