"""Read scenario YAML into plain Python data while keeping every key's line and column.

Step one of loading (read -> defaults -> validate -> freeze). The loader is PyYAML's safe loader
with YAML 1.2-style scalars: only ``true``/``false`` are booleans (``on``, ``no`` and ``yes`` stay
strings), ``21:00`` stays a string (YAML 1.1 reads it as the base-60 integer 1260) and timestamps
stay strings, so the validator parses them itself and can say what is wrong. Duplicate keys are
errors (PyYAML would silently keep the last one).

Hostile or broken files are refused before they cost time or memory (see docs/errors.md): only
regular files are read (a directory, FIFO or device such as ``/dev/zero`` is refused without
opening it), at most :data:`LIMITS` ``max_bytes`` of UTF-8 text without NUL or other control
characters; while composing, nesting deeper than ``max_depth`` and documents whose node count
*with every alias expanded* exceeds ``max_nodes`` (alias bombs) are refused before anything is
expanded, and an alias inside its own anchor (a recursive document) is refused. Numbers must be
finite and fit in 64 bits. The limits can be raised with environment variables.
"""

from __future__ import annotations

import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import ScenarioError, ScenarioIssue

__all__ = ["Located", "PathKey", "format_path", "read_yaml", "read_yaml_text", "parse_scalar", "ReadLimits",
           "read_limits", "MAX_INT"]

PathKey = tuple[str | int, ...]

#: The largest integer a scenario may hold (a signed 64-bit integer, as numpy and Parquet store them).
MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class ReadLimits:
    """Budgets of the YAML reader; each can be raised with the environment variable named in ``ENV``."""

    max_bytes: int = 8 * 1024 * 1024
    max_nodes: int = 100_000
    max_depth: int = 64

    ENV = {"max_bytes": "JOURNEYSIM_MAX_SCENARIO_BYTES", "max_nodes": "JOURNEYSIM_MAX_SCENARIO_NODES",
           "max_depth": "JOURNEYSIM_MAX_SCENARIO_DEPTH"}

    def hint(self, name: str) -> str:
        return (f"scenario files are small (the bundled ones are under 20 kB and 1,000 values); if this one is "
                f"meant to be this large, raise the limit with {self.ENV[name]}=N (now {getattr(self, name)})")


def read_limits() -> ReadLimits:
    """The reader's limits: the defaults, raised or lowered by the environment variables of ``ReadLimits.ENV``."""
    values: dict[str, int] = {}
    for name, var in ReadLimits.ENV.items():
        raw = os.environ.get(var)
        if raw is None or not raw.strip():
            continue
        try:
            number = int(raw.strip().replace("_", ""))
            if number <= 0:
                raise ValueError
        except ValueError:
            raise ScenarioError(ScenarioIssue("", f"environment variable {var}={raw!r} is not a positive whole "
                                                  "number", hint=f"e.g. {var}={getattr(ReadLimits(), name) * 2}"),
                                var) from None
        values[name] = number
    return ReadLimits(**values)


class _Refused(Exception):
    """Raised while composing when a budget is exceeded; carries the issue (with its line)."""

    def __init__(self, issue: ScenarioIssue):
        self.issue = issue


class _Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 core-schema scalars (see module docstring) and composing budgets."""

    def __init__(self, stream: str, limits: ReadLimits):
        super().__init__(stream)
        self.limits = limits
        self.depth = 0
        self.nodes = 0
        self.open_anchors: set[str] = set()
        self.anchor_sizes: dict[str, int] = {}

    def _refuse(self, event: yaml.Event, message: str, hint: str) -> None:
        m = event.start_mark
        raise _Refused(ScenarioIssue("", message, m.line + 1, m.column + 1, hint))

    def compose_node(self, parent, index):  # noqa: D102 - budgets around PyYAML's composer
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                self._refuse(event, f"alias *{event.anchor} is inside its own anchor &{event.anchor} "
                             "(a recursive document)", "copy the values instead of referring to the enclosing one")
            self.nodes += self.anchor_sizes.get(event.anchor, 1)
            self._check_nodes(event)
            return super().compose_node(parent, index)
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self._refuse(event, f"values are nested more than {self.limits.max_depth} levels deep",
                         self.limits.hint("max_depth"))
        before = self.nodes
        self.nodes += 1
        self._check_nodes(event)
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            self.open_anchors.add(anchor)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.anchor_sizes[anchor] = self.nodes - before
        self.depth -= 1
        return node

    def _check_nodes(self, event: yaml.Event) -> None:
        if self.nodes > self.limits.max_nodes:
            self._refuse(event, f"the file holds more than {self.limits.max_nodes:,} values (keys, items and "
                         "scalars, counting every alias *name where it is used); refused before expanding it",
                         self.limits.hint("max_nodes"))


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


def format_path(path: PathKey) -> str:
    """``('journeys', 0, 'steps', 3, 'goto')`` -> ``journeys[0].steps[3].goto``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass
class Located:
    """Plain data read from YAML plus the 1-based (line, column) of every key path.

    ``positions[path]`` is where the value at ``path`` starts; ``key_positions[path]`` is where
    its mapping key is written (the better place to point at for an unknown key).
    """

    data: Any
    file: str | None = None
    positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[PathKey, tuple[int, int]] = field(default_factory=dict)
    text: str | None = None
    overridden: set[PathKey] = field(default_factory=set)

    def where(self, path: PathKey, *, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column for ``path``; falls back to the nearest enclosing key that is known."""
        p = tuple(path)
        while True:
            table = (self.key_positions, self.positions) if key else (self.positions, self.key_positions)
            for t in table:
                if p in t:
                    return t[p]
            if not p:
                return (None, None)
            p = p[:-1]

    def line(self, path: PathKey, *, key: bool = False) -> int | None:
        return self.where(path, key=key)[0]


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _construct(node: yaml.Node, loader: _Loader, path: PathKey, out: Located, issues: list[ScenarioIssue]) -> Any:
    out.positions[path] = _mark(node)
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node, loader, path, issues)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                issues.append(ScenarioIssue(format_path(path), f"mapping keys must be plain words, got {key!r}",
                                            *_mark(key_node), hint="write the key as a word or a quoted string, "
                                            "e.g. America/New_York: 0.5"))
                continue
            if isinstance(key, (float, bool)):
                key = str(key_node.value)
            if key in result:
                first = out.key_positions.get(path + (key,), (None, None))[0]
                issues.append(ScenarioIssue(format_path(path + (key,)),
                                            f"duplicate key '{key}' (first written on line {first})",
                                            *_mark(key_node), hint="remove one of them"))
                continue
            out.key_positions[path + (key,)] = _mark(key_node)
            result[key] = _construct(value_node, loader, path + (key,), out, issues)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_construct(child, loader, path + (i,), out, issues) for i, child in enumerate(node.value)]
    return _scalar(node, loader, path, issues)


def _scalar(node: yaml.Node, loader: _Loader, path: PathKey, issues: list[ScenarioIssue]) -> Any:
    """Construct a scalar; numbers that are not finite or do not fit in 64 bits are issues."""
    if not isinstance(node, yaml.ScalarNode):
        return loader.construct_object(node, deep=True)
    text = str(node.value)
    if node.tag == "tag:yaml.org,2002:int" and len(text.lstrip("+-").replace("_", "")) > 19:
        issues.append(ScenarioIssue(format_path(path), f"the number {_clip(text)} is too large "
                                    f"({len(text.lstrip('+-'))} digits): whole numbers must lie between "
                                    f"{-MAX_INT - 1} and {MAX_INT}", *_mark(node),
                                    hint="write a smaller number (durations: use a unit, e.g. 30d)"))
        return 0
    try:
        value = loader.construct_object(node, deep=True)
    except (ValueError, OverflowError) as exc:
        issues.append(ScenarioIssue(format_path(path), f"cannot read {_clip(text)}: {exc}", *_mark(node),
                                    hint="quote the value if it is meant as text"))
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not -MAX_INT - 1 <= value <= MAX_INT:
        issues.append(ScenarioIssue(format_path(path), f"the number {_clip(text)} is too large: whole numbers "
                                    f"must lie between {-MAX_INT - 1} and {MAX_INT}", *_mark(node),
                                    hint="write a smaller number"))
        return 0
    if isinstance(value, float) and not math.isfinite(value):
        issues.append(ScenarioIssue(format_path(path), f"{_clip(text)} is not a finite number (infinite, too large "
                                    "for a 64-bit float, or not a number); no scenario value can be infinite",
                                    *_mark(node), hint="write a finite number"))
        return 0.0
    return value


def _clip(text: str, width: int = 40) -> str:
    return repr(text if len(text) <= width else text[:20] + "..." + text[-10:])


def _bad_character(text: str) -> ScenarioIssue | None:
    """The first character YAML does not allow in a file (NUL and other control characters)."""
    m = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if m is None:
        return None
    line = text.count("\n", 0, m.start()) + 1
    column = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1
    char = m.group()
    what = "a NUL byte" if char == "\0" else f"the control character U+{ord(char):04X}"
    return ScenarioIssue("", f"the file contains {what}: a scenario must be plain UTF-8 text", line, column,
                         hint="is this a binary file? save the scenario as UTF-8 text")


def read_yaml_text(text: str, file: str | None = None, limits: ReadLimits | None = None) -> Located:
    """Parse YAML text; raises :class:`ScenarioError` with the line of any syntax error or exceeded budget."""
    limits = limits or read_limits()
    if len(text) > limits.max_bytes:
        raise ScenarioError(ScenarioIssue("", f"the text is {len(text):,} characters long, over the "
                                              f"{limits.max_bytes:,}-byte limit", hint=limits.hint("max_bytes")), file)
    text = text.removeprefix("\ufeff")
    bad = _bad_character(text)
    if bad is not None:
        raise ScenarioError(bad, file)
    out = Located(data=None, file=file, text=text)
    loader = _Loader(text, limits)
    issues: list[ScenarioIssue] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            out.data = _construct(node, loader, (), out, issues)
    except _Refused as exc:
        raise ScenarioError(exc.issue, file) from None
    except RecursionError:
        raise ScenarioError(ScenarioIssue("", "the file is nested too deeply to read",
                                          hint=limits.hint("max_depth")), file) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError(ScenarioIssue("", f"YAML syntax error: {problem}", line, col,
                                          hint="check indentation and quoting near this line"), file) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(ScenarioIssue("", f"YAML error: {exc}", hint="check the file is a YAML scenario"),
                            file) from None
    finally:
        loader.dispose()
    if issues:
        raise ScenarioError(issues, file)
    return out


def read_yaml(path: str | Path, limits: ReadLimits | None = None) -> Located:
    """Read a scenario file; a missing, unreadable, non-regular, oversized or non-UTF-8 file is a
    :class:`ScenarioError`. Nothing but a regular file is opened (a FIFO would block, /dev/zero never end)."""
    limits = limits or read_limits()
    name = str(path)

    def refuse(message: str, hint: str | None = None, line: int | None = None, col: int | None = None):
        return ScenarioError(ScenarioIssue("", message, line, col, hint), name)

    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise refuse("file not found", "check the path") from None
    except (OSError, ValueError) as exc:
        raise refuse(f"cannot read file: {exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise refuse("this is a directory, not a scenario file", "give the path of a .yaml file")
    if not stat.S_ISREG(info.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "not a regular file")
        raise refuse(f"this is {kind}, not a regular file; scenarios are read from files only",
                     "save the scenario to a .yaml file and give its path")
    if info.st_size > limits.max_bytes:
        raise refuse(f"the file is {info.st_size:,} bytes, over the {limits.max_bytes:,}-byte limit for "
                     "scenario files; refused without reading it", limits.hint("max_bytes"))
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limits.max_bytes + 1)
    except OSError as exc:
        raise refuse(f"cannot read file: {exc.strerror or exc}") from None
    if len(raw) > limits.max_bytes:
        raise refuse(f"the file grew past the {limits.max_bytes:,}-byte limit while it was read",
                     limits.hint("max_bytes"))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise refuse(f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte {exc.start + 1} cannot be "
                     "decoded", "save the file as UTF-8 (most editors: 'Save with encoding')", line, col) from None
    return read_yaml_text(text, name, limits)


def parse_scalar(text: str) -> Any:
    """Parse one ``--set`` value with the same scalar rules as the scenario files (flow YAML allowed)."""
    loaded = read_yaml_text(text)
    return loaded.data
