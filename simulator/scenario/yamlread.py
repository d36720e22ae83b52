"""Read scenario YAML into plain Python data while keeping every key's line and column.

Step one of loading (read -> defaults -> validate -> freeze). The loader is PyYAML's safe loader
with YAML 1.2-style scalars: only ``true``/``false`` are booleans (``on``, ``no`` and ``yes`` stay
strings), ``21:00`` stays a string (YAML 1.1 reads it as the base-60 integer 1260) and timestamps
stay strings, so the validator parses them itself and can say what is wrong. Duplicate keys are
errors (PyYAML would silently keep the last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from simulator.errors import ScenarioError, ScenarioIssue

__all__ = ["Located", "PathKey", "format_path", "read_yaml", "read_yaml_text", "parse_scalar"]

PathKey = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """Safe loader with YAML 1.2 core-schema scalars (see module docstring)."""


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
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) or key is None:
                issues.append(ScenarioIssue(format_path(path), f"mapping keys must be plain words, got {key!r}",
                                            *_mark(key_node)))
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
    return loader.construct_object(node, deep=True)


def read_yaml_text(text: str, file: str | None = None) -> Located:
    """Parse YAML text; raises :class:`ScenarioError` with the line of any syntax error."""
    out = Located(data=None, file=file, text=text)
    loader = _Loader(text)
    issues: list[ScenarioIssue] = []
    try:
        node = loader.get_single_node()
        if node is not None:
            out.data = _construct(node, loader, (), out, issues)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError(ScenarioIssue("", f"YAML syntax error: {problem}", line, col,
                                          hint="check indentation and quoting near this line"), file) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(ScenarioIssue("", f"YAML error: {exc}"), file) from None
    finally:
        loader.dispose()
    if issues:
        raise ScenarioError(issues, file)
    return out


def read_yaml(path: str | Path) -> Located:
    """Read a scenario file; a missing or unreadable file is a :class:`ScenarioError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(ScenarioIssue("", "file not found", hint="check the path"), str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(ScenarioIssue("", f"cannot read file: {exc}"), str(path)) from None
    return read_yaml_text(text, str(path))


def parse_scalar(text: str) -> Any:
    """Parse one ``--set`` value with the same scalar rules as the scenario files (flow YAML allowed)."""
    loaded = read_yaml_text(text)
    return loaded.data
