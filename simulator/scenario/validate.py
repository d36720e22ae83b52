"""Structural validation: run the pydantic model and turn its errors into :class:`ScenarioIssue`s.

Every issue names the key path in the user's notation, the YAML line and column, what was expected
and, for unknown keys and values, a did-you-mean. All errors are collected; nothing stops at the
first one.
"""

from __future__ import annotations

import re

import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from simulator.errors import ScenarioIssue
from simulator.scenario.units import did_you_mean
from simulator.scenario.yamlread import Located, PathKey, format_path

__all__ = ["structural_issues", "keys_of", "issue_at"]


def issue_at(located: Located, path: PathKey, message: str, hint: str | None = None, *, key: bool = False,
             column_offset: int | None = None) -> ScenarioIssue:
    """Build an issue for ``path`` with the line/column looked up in ``located``."""
    line, col = located.where(path, key=key)
    if column_offset and line is not None and col is not None:
        col = col + column_offset - 1 + _quote_width(located, line, col)
    return ScenarioIssue(format_path(path), message, line, col, hint, located.file)


def _quote_width(located: Located, line: int, col: int) -> int:
    """1 when the scalar at (line, col) starts with a quote, so a column inside it lands right."""
    if not located.text:
        return 0
    lines = located.text.splitlines()
    if 0 < line <= len(lines) and 0 < col <= len(lines[line - 1]):
        return 1 if lines[line - 1][col - 1] in "'\"" else 0
    return 0


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is typing.Annotated:
        tp = get_args(tp)[0]
    return tp


def _members(tp: Any) -> list[Any]:
    tp = _unwrap(tp)
    if get_origin(tp) in (Union, types.UnionType):
        return [_unwrap(a) for a in get_args(tp)]
    return [tp]


def _field(model: type[BaseModel], key: str) -> Any:
    for name, info in model.model_fields.items():
        if key in (name, info.alias):
            return info.annotation
    return None


def keys_of(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts, as the user writes them (aliases where set)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Follow a pydantic error location through the model's annotations to the model it ends in."""
    current: list[Any] = [root]
    for elem in loc:
        nxt: list[Any] = []
        for tp in current:
            for m in _members(tp):
                origin = get_origin(m)
                if isinstance(m, type) and issubclass(m, BaseModel) and isinstance(elem, str):
                    ann = _field(m, elem)
                    if ann is not None:
                        nxt.append(ann)
                    elif elem == m.__name__:
                        nxt.append(m)
                elif origin is list and isinstance(elem, int):
                    nxt.append(get_args(m)[0])
                elif origin is dict:
                    nxt.append(get_args(m)[1])
        if nxt:
            current = nxt
    for tp in current:
        for m in _members(tp):
            if isinstance(m, type) and issubclass(m, BaseModel):
                return m
    return None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[PathKey, bool]:
    """Map a pydantic loc onto the user's data: drop union-member labels; True if any was dropped."""
    path: list[str | int] = []
    skipped = False
    node = data
    for i, elem in enumerate(loc):
        if isinstance(node, dict) and elem in node:
            path.append(elem)
            node = node[elem]
        elif isinstance(node, list) and isinstance(elem, int) and 0 <= elem < len(node):
            path.append(elem)
            node = node[elem]
        elif i == len(loc) - 1 and isinstance(node, dict) and isinstance(elem, str) and not _looks_like_tag(elem):
            path.append(elem)  # a missing key: point at its parent, name the key
        else:
            skipped = True
    return tuple(path), skipped


def _looks_like_tag(elem: str) -> bool:
    return any(c in elem for c in "[]()") or elem[:1].isupper() or elem in ("bool", "int", "float", "str", "none")


def _literal_options(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    parent = _model_at(root, loc[:-1])
    if parent is None or not isinstance(loc[-1], str):
        return []
    ann = _field(parent, loc[-1])
    opts: list[str] = []
    for m in _members(ann):
        if get_origin(m) is list:
            m = _unwrap(get_args(m)[0])
        if get_origin(m) is Literal:
            opts += [str(a) for a in get_args(m)]
    return opts


def structural_issues(model: type[BaseModel], located: Located,
                      data: Any = None) -> tuple[BaseModel | None, list[ScenarioIssue], list[PathKey]]:
    """Validate ``data`` (default ``located.data``) against ``model``.

    Returns the instance (or None), the issues, and the data path of each issue.
    """
    data = located.data if data is None else data
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        return None, [issue_at(located, (), f"a scenario must be a mapping of keys such as 'scenario:', 'start:', "
                               f"'journeys:'; got {got}", "start from `journeysim init DIR`")], [()]
    try:
        return model.model_validate(data), [], []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
    drafted: list[tuple[PathKey, bool, ScenarioIssue]] = []
    for err in errors:
        loc = tuple(err["loc"])
        path, skipped = _data_path(data, loc)
        drafted.append((path, skipped, _translate(model, located, err, loc, path)))
    # A union reports one error per member it tried; keep the most specific (deepest) ones.
    deepest: dict[PathKey, int] = {}
    for path, skipped, _ in drafted:
        if skipped:
            for n in range(len(path) + 1):
                deepest[path[:n]] = max(deepest.get(path[:n], 0), len(path))
    issues: list[ScenarioIssue] = []
    paths: list[PathKey] = []
    seen: set[tuple[str, str]] = set()
    for path, skipped, issue in drafted:
        if skipped and len(path) < deepest.get(path, 0):
            continue
        if (issue.path, issue.message) in seen:
            continue
        seen.add((issue.path, issue.message))
        issues.append(issue)
        paths.append(path)
    return None, issues, paths


def _translate(root: type[BaseModel], located: Located, err: dict[str, Any], loc: tuple[Any, ...],
               path: PathKey) -> ScenarioIssue:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "extra_forbidden":
        parent = _model_at(root, loc[:-1])
        options = keys_of(parent) if parent else []
        guess = did_you_mean(str(loc[-1]), options) if options else None
        hint = f"did you mean '{guess}'?" if guess else (f"expected one of: {', '.join(options)}" if options else None)
        return issue_at(located, path, f"unknown key '{loc[-1]}'", hint, key=True)
    if kind == "missing":
        parent = path[:-1] if path and path[-1] == loc[-1] else path
        return issue_at(located, parent + (loc[-1],), f"missing required key '{loc[-1]}'",
                        f"add '{loc[-1]}:' here", key=True)
    if "msg" in ctx and isinstance(ctx.get("msg"), str):
        subpath = tuple(ctx.get("subpath") or ())
        column = ctx.get("column") or None
        return issue_at(located, path + subpath, ctx["msg"], column_offset=column, key=loc[-1:] == ("[key]",))
    if kind == "literal_error":
        options = _literal_options(root, loc) or re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        guess = did_you_mean(str(value), options) if isinstance(value, str) else None
        return issue_at(located, path, f"invalid value {value!r}: expected one of {', '.join(options)}",
                        f"did you mean '{guess}'?" if guess else None)
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return issue_at(located, path, f"expected a mapping of keys, got {_show(value)}")
    if kind == "list_type":
        return issue_at(located, path, f"expected a list (one '- item' per line, or [a, b]), got {_show(value)}")
    if kind == "value_error":
        return issue_at(located, path, err["msg"].removeprefix("Value error, "))
    if kind == "string_pattern_mismatch":
        return issue_at(located, path, f"invalid name {value!r}: use letters, digits, '_', '-' or '.', "
                                       "starting with a letter or digit")
    msg = err["msg"]
    return issue_at(located, path, f"{msg[:1].lower()}{msg[1:]}, got {_show(value)}")


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)
