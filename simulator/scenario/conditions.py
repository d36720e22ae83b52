"""The condition language: a small, safe expression language for journey conditions.

``compile_condition("stage == 'B' and lifetime_value > 100")`` parses the text with :mod:`ast`,
accepts only a whitelist of node types (anything else raises :class:`ConditionError` with a
1-based column), lowers it to a tiny tuple IR, and from that builds (a) a fast scalar callable by
compiling a *rewritten* AST (field reads become ``values.get``, unsafe operators become calls to the
None-safe helpers below; user text is never evaluated) and (b) a numpy interpreter over columns.

Record convention: ``values[field]``; the last time of event ``e`` is ``values["@e"]`` (missing or
NaN: never seen); consent for channel ``ch`` is ``values["consent.ch"]``. Semantics: missing fields
are None; ordering comparisons involving None or incompatible types are False; arithmetic with None,
incompatible types or a zero divisor is None; ``x in None`` is False.
"""

from __future__ import annotations

import ast
import operator
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from simulator.errors import ConditionError

__all__ = ["Condition", "compile_condition", "FUNCTIONS"]

FUNCTIONS: tuple[str, ...] = ("days_since", "hours_since", "has_event", "opted_in", "lower", "upper",
                              "len", "abs", "min", "max", "round")
_ARITY = {"min": (2, 32), "max": (2, 32), "round": (1, 2)}  # everything else takes exactly one
_ALIASES = {"true": True, "false": False, "null": None}
_CONST_TYPES = (str, int, float, bool, type(None))
_MAX_DEPTH = 80
_BINOPS = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.FloorDiv: "floordiv",
           ast.Mod: "mod"}
_BAD_BINOPS = {ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
               ast.BitAnd: "&", ast.MatMult: "@"}
_CMPOPS = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge",
           ast.In: "in", ast.NotIn: "notin"}
_REJECTED = {
    ast.Attribute: "attribute access is not allowed", ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambdas are not allowed", ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed", ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed", ast.Starred: "starred expressions are not allowed",
    ast.JoinedStr: "f-strings are not allowed", ast.FormattedValue: "f-strings are not allowed",
    ast.NamedExpr: "assignment expressions (:=) are not allowed", ast.Dict: "dict literals are not allowed",
    ast.Set: "set literals are not allowed; use a list [...] after 'in'",
    ast.Await: "await is not allowed", ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed", ast.Slice: "slices are not allowed",
}


def _duration_seconds(value: Any) -> float:
    """Seconds in a duration (the scenario format's own parser: '90s', '30m', '1h30m', or seconds)."""
    from simulator.scenario.units import parse_duration

    return parse_duration(value)


# ---- scalar helpers: shared by the compiled callable and the elementwise numpy fallback ------------

def _ordering(op: Any) -> Any:
    def compare(a: Any, b: Any) -> Any:  # two-argument fast path: it is on every hot condition
        try:
            return op(a, b)
        except Exception:  # None, or incompatible types
            return False
    return compare


def _total(op: Any, seq_ok: bool = True, nones: bool = True, default: Any = None) -> Any:
    """``op`` made total: ``default`` on any exception or, with ``nones``, when an argument is None."""
    def apply(*args: Any) -> Any:
        if nones and any(a is None for a in args):
            return default
        if not seq_ok and any(isinstance(a, _SEQ) for a in args):
            return default  # no string repetition or %-formatting: they can blow up memory
        try:
            return op(*args)
        except Exception:  # incompatible types, ZeroDivisionError, OverflowError, ValueError
            return default
    return apply


def _round(x: Any, nd: Any = None) -> Any:
    if isinstance(nd, float) and nd.is_integer():
        nd = int(nd)
    if x is None or (nd is not None and not (isinstance(nd, int) and -30 <= nd <= 30)):
        return None
    try:
        return round(x) if nd is None else round(x, nd)
    except Exception:
        return None


def _event(v: Any, now: float, within: float | None) -> bool:
    try:
        return v is not None and v == v and (within is None or now - v <= within)
    except Exception:
        return False


_SEQ = (str, bytes, list, tuple)
_lt, _le, _gt, _ge = map(_ordering, (operator.lt, operator.le, operator.gt, operator.ge))
_add, _sub, _div, _floordiv = map(_total, (operator.add, operator.sub, operator.truediv, operator.floordiv))
_mul, _mod = _total(operator.mul, seq_ok=False), _total(operator.mod, seq_ok=False)
_neg, _pos, _abs, _len = map(_total, (operator.neg, operator.pos, abs, len))
_lower, _upper = _total(str.lower), _total(str.upper)
_min, _max = _total(lambda *a: min(a)), _total(lambda *a: max(a))
_in = _total(lambda a, b: b is not None and a in b, nones=False, default=False)
_since = _total(lambda v, now, unit: (now - v) / unit)
_consent = _total(lambda v: v == True, nones=False, default=False)  # noqa: E712  1, 1.0, np.True_ count
_HELPERS: dict[str, Any] = {f"_{k}": v for k, v in dict(
    lt=_lt, le=_le, gt=_gt, ge=_ge, add=_add, sub=_sub, mul=_mul, div=_div, floordiv=_floordiv, mod=_mod,
    neg=_neg, pos=_pos, abs=_abs, len=_len, lower=_lower, upper=_upper, min=_min, max=_max, round=_round,
    in_=_in, since=_since, event=_event).items()}
_SCALAR_CMP = {"eq": operator.eq, "ne": operator.ne, "lt": _lt, "le": _le, "gt": _gt, "ge": _ge}
_SCALAR_BIN = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "floordiv": _floordiv, "mod": _mod}


# ---- parsing and validation into the IR -------------------------------------------------------------

class _Lowering:
    """Validates a parsed condition and lowers it to nested tuples ``(tag, ...)``."""

    def __init__(self, text: str, lead: int) -> None:
        self.text, self.lead, self.body = text, lead, text[lead:]
        self.fields, self.events, self.channels = set(), set(), set()

    def fail(self, message: str, node: ast.AST) -> ConditionError:
        chars = len(self.body.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
        return ConditionError(message, self.text, self.lead + chars + 1)

    def lower(self, node: ast.AST, depth: int = 0) -> tuple:
        if depth > _MAX_DEPTH:
            raise self.fail(f"condition is nested too deeply (more than {_MAX_DEPTH} levels)", node)
        d, t = depth + 1, type(node)
        if t is ast.Constant:
            if type(node.value) not in _CONST_TYPES:
                raise self.fail(f"{type(node.value).__name__} literals are not allowed", node)
            return ("const", node.value)
        if t is ast.Name:
            if node.id in _ALIASES:
                return ("const", _ALIASES[node.id])
            if node.id.startswith("_"):
                raise self.fail(f"names starting with '_' are not allowed ('{node.id}')", node)
            self.fields.add(node.id)
            return ("field", node.id)
        if t is ast.BoolOp:
            return ("and" if type(node.op) is ast.And else "or", [self.lower(v, d) for v in node.values])
        if t is ast.UnaryOp:
            if type(node.op) is ast.Invert:
                raise self.fail("operator '~' is not allowed; use 'not'", node)
            operand = self.lower(node.operand, d)
            if type(node.op) is ast.Not:
                return ("not", operand)
            if operand[0] == "const" and type(operand[1]) in (int, float):  # fold -1, +2.5
                return ("const", -operand[1] if type(node.op) is ast.USub else operand[1])
            return ("neg" if type(node.op) is ast.USub else "pos", operand)
        if t is ast.BinOp:
            if type(node.op) not in _BINOPS:
                raise self.fail(f"operator '{_BAD_BINOPS.get(type(node.op), '?')}' is not allowed", node)
            return ("bin", _BINOPS[type(node.op)], self.lower(node.left, d), self.lower(node.right, d))
        if t is ast.Compare:
            return self.compare(node, d)
        if t is ast.IfExp:
            return ("if", self.lower(node.test, d), self.lower(node.body, d), self.lower(node.orelse, d))
        if t is ast.Call:
            return self.call(node, d)
        if t in (ast.List, ast.Tuple):
            raise self.fail("list literals are only allowed after 'in' / 'not in'", node)
        message = _REJECTED.get(t, f"{t.__name__} expressions are not allowed")
        if t in (ast.Attribute, ast.Subscript):
            message += f" ({ast.get_source_segment(self.body, node)!r})"
        raise self.fail(message, node)

    def compare(self, node: ast.Compare, d: int) -> tuple:
        ops, operands = [], [self.lower(node.left, d)]
        for i, (op, right) in enumerate(zip(node.ops, node.comparators)):
            if type(op) not in _CMPOPS:
                raise self.fail("'is' comparisons are not allowed; use == or !=", right)
            ops.append(_CMPOPS[type(op)])
            if type(right) in (ast.List, ast.Tuple) and ops[-1] in ("in", "notin") and i == len(node.ops) - 1:
                operands.append(("lit", tuple(self.literal(e, d) for e in right.elts)))
            else:
                operands.append(self.lower(right, d))
        return ("cmp", ops, operands)

    def literal(self, node: ast.AST, d: int) -> Any:
        ir = self.lower(node, d)
        if ir[0] != "const":
            raise self.fail("list items must be literals (strings, numbers, true/false/null)", node)
        return ir[1]

    def call(self, node: ast.Call, d: int) -> tuple:
        func = node.func
        if type(func) is not ast.Name:
            self.lower(func, d)  # attribute access, lambdas, ... get their own message
        name = ast.get_source_segment(self.body, func)
        if type(func) is not ast.Name or func.id not in FUNCTIONS:
            raise self.fail(f"calls are limited to {', '.join(FUNCTIONS)}; got {name!r}", node)
        name = func.id
        for kw in node.keywords:
            if kw.arg != "within" or name != "has_event":
                what = "**" if kw.arg is None else f"{kw.arg}="
                raise self.fail(f"{name}() does not take {what}"
                                + ("; has_event() takes only within=" if name == "has_event" else ""), kw)
        lo, hi = _ARITY.get(name, (1, 1))
        if not lo <= len(node.args) <= hi:
            expected = str(lo) if lo == hi else f"{lo} to {hi}"
            raise self.fail(f"{name}() takes {expected} argument{'s' if hi > 1 else ''}, "
                            f"got {len(node.args)}", node)
        if name in ("has_event", "opted_in"):
            first = node.args[0]
            if type(first) is not ast.Constant or type(first.value) is not str:
                raise self.fail(f"the first argument of {name}() must be a string literal, "
                                f"e.g. {name}('{'purchase' if name == 'has_event' else 'email'}')", first)
            if name == "opted_in":
                self.channels.add(first.value)
                return ("consent", first.value)
            within = None
            for kw in node.keywords:
                value = self.lower(kw.value, d)
                if value[0] != "const":
                    raise self.fail("within= must be a literal duration, e.g. within='24h'", kw.value)
                try:
                    within = _duration_seconds(value[1])
                except ValueError as exc:
                    raise self.fail(f"within=: {exc}", kw.value) from None
            self.events.add(first.value)
            return ("event", first.value, within)
        return ("call", name, [self.lower(a, d) for a in node.args])


# ---- scalar code generation --------------------------------------------------------------------------

def _load(name: str) -> ast.Name:
    return ast.Name(id=name, ctx=ast.Load())


def _helper(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_load(name), args=list(args), keywords=[])


def _get(key: str) -> ast.Call:
    return _helper("_get", ast.Constant(key))


def _gen(ir: tuple, temps: list[int]) -> ast.expr:
    """The rewritten Python AST of one IR node (only helper calls, constants and plain operators)."""
    tag = ir[0]
    if tag in ("const", "lit"):
        return ast.Constant(ir[1])
    if tag == "field":
        return _get(ir[1])
    if tag in ("and", "or"):
        return ast.BoolOp(op=ast.And() if tag == "and" else ast.Or(), values=[_gen(v, temps) for v in ir[1]])
    if tag == "not":
        return ast.UnaryOp(op=ast.Not(), operand=_gen(ir[1], temps))
    if tag in ("neg", "pos"):
        return _helper("_" + tag, _gen(ir[1], temps))
    if tag == "bin":
        return _helper("_" + ir[1], _gen(ir[2], temps), _gen(ir[3], temps))
    if tag == "if":
        return ast.IfExp(test=_gen(ir[1], temps), body=_gen(ir[2], temps), orelse=_gen(ir[3], temps))
    if tag == "consent":
        return ast.Compare(left=_get("consent." + ir[1]), ops=[ast.Eq()], comparators=[ast.Constant(True)])
    if tag == "event":
        return _helper("_event", _get("@" + ir[1]), _load("_now"), ast.Constant(ir[2]))
    if tag == "call":
        args = [_gen(a, temps) for a in ir[2]]
        if ir[1] in ("days_since", "hours_since"):
            unit = 86400 if ir[1] == "days_since" else 3600
            return _helper("_since", *args, _load("_now"), ast.Constant(unit))
        return _helper("_" + ir[1], *args)
    ops, operands, parts = ir[1], ir[2], []  # "cmp": a < b <= c becomes a < (_t1 := b) and _t1 <= c
    codes = [_gen(o, temps) for o in operands]
    for i, op in enumerate(ops):
        left, right, literal = codes[i], codes[i + 1], operands[i + 1][0] == "lit"
        if i + 1 < len(ops) and operands[i + 1][0] != "const":  # a middle operand is evaluated once
            temps[0] += 1
            right = ast.NamedExpr(target=ast.Name(id=f"_t{temps[0]}", ctx=ast.Store()), value=right)
            codes[i + 1] = _load(f"_t{temps[0]}")
        if op in ("eq", "ne") or literal:
            cls = {"eq": ast.Eq, "ne": ast.NotEq, "in": ast.In, "notin": ast.NotIn}[op]
            parts.append(ast.Compare(left=left, ops=[cls()], comparators=[right]))
        elif op in ("in", "notin"):
            call = _helper("_in_", left, right)
            parts.append(call if op == "in" else ast.UnaryOp(op=ast.Not(), operand=call))
        else:
            parts.append(_helper("_" + op, left, right))
    return parts[0] if len(parts) == 1 else ast.BoolOp(op=ast.And(), values=parts)


def _build(ir: tuple) -> Any:
    """``def _condition(_values, _now): _get = _values.get; return True if <expr> else False``."""
    expr = ast.IfExp(test=_gen(ir, [0]), body=ast.Constant(True), orelse=ast.Constant(False))
    args = ast.arguments(posonlyargs=[], args=[ast.arg("_values"), ast.arg("_now")], kwonlyargs=[],
                         kw_defaults=[], defaults=[])
    body = [ast.Assign(targets=[ast.Name(id="_get", ctx=ast.Store())],
                       value=ast.Attribute(value=_load("_values"), attr="get", ctx=ast.Load())),
            ast.Return(value=expr)]
    module = ast.Module(body=[ast.FunctionDef(name="_condition", args=args, body=body, decorator_list=[],
                                              returns=None, type_comment=None)], type_ignores=[])
    code = compile(ast.fix_missing_locations(module), "<condition>", "exec")
    function_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    return types.FunctionType(function_code, {"__builtins__": {}, **_HELPERS}, "_condition")


# ---- vectorised evaluation ----------------------------------------------------------------------------

class _Lit(tuple):
    """A literal list on the right of ``in``."""


_NP_CMP = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater,
           "ge": np.greater_equal}
_NP_BIN = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
           "floordiv": np.floor_divide, "mod": np.remainder}
_I64 = (-(2**63), 2**63)


def _kind(x: Any) -> str:
    """'num', 'str', 'none' or 'obj' (anything that needs the elementwise Python fallback)."""
    if isinstance(x, np.ndarray):
        k = x.dtype.kind
        return "num" if k in "bif" else "str" if k == "U" else "obj"
    if x is None:
        return "none"
    if isinstance(x, (bool, float)) or (isinstance(x, int) and _I64[0] <= x < _I64[1]):
        return "num"
    return "str" if isinstance(x, str) else "obj"


def _column(col: Any) -> np.ndarray:
    """A column with a dtype whose numpy semantics match Python's (int64, float64, bool, str, object)."""
    a = np.asarray(col)
    k = a.dtype.kind
    if k in "iu" and a.dtype != np.int64:
        return a.astype(object) if a.dtype == np.uint64 else a.astype(np.int64)
    if k == "f" and a.dtype != np.float64:
        return a.astype(np.float64)
    return a if k in "bifUO" else a.astype(object)


def _unbool(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        return x.astype(np.int64) if x.dtype.kind == "b" else x
    return int(x) if isinstance(x, bool) else x


def _truth(x: Any) -> Any:
    if not isinstance(x, np.ndarray):
        return bool(x)
    k = x.dtype.kind
    if k == "b":
        return x
    if k in "if":
        return x != 0
    return x != "" if k == "U" else np.frompyfunc(bool, 1, 1)(x).astype(bool)


class _Vec:
    """Interprets the IR over numpy columns; scalars broadcast, all-scalar subtrees use the helpers."""

    def __init__(self, columns: Mapping[str, Any], now: float, n: int) -> None:
        self.columns, self.now, self.n, self.cache = columns, now, n, {}

    def obj(self, x: Any) -> np.ndarray:
        if isinstance(x, np.ndarray):
            return x if x.dtype.kind == "O" else x.astype(object)
        out = np.empty(self.n, dtype=object)
        out.fill(x)
        return out

    def each(self, f: Any, *args: Any) -> Any:
        if not any(isinstance(a, np.ndarray) for a in args):
            return f(*args)
        return np.frompyfunc(f, len(args), 1)(*(self.obj(a) for a in args))

    def select(self, cond: Any, a: Any, b: Any) -> Any:
        if not isinstance(cond, np.ndarray):
            return a if cond else b
        ka, kb = _kind(a), _kind(b)
        if ka == kb and ka in ("num", "str"):
            return np.where(cond, a, b)
        return np.where(cond, self.obj(a), self.obj(b))

    def field(self, name: str) -> Any:
        if name not in self.cache:
            col = self.columns.get(name)
            self.cache[name] = None if col is None else _column(col)
        return self.cache[name]

    def ev(self, ir: tuple) -> Any:
        tag = ir[0]
        if tag == "const":
            return ir[1]
        if tag == "lit":
            return _Lit(ir[1])
        if tag == "field":
            return self.field(ir[1])
        if tag in ("and", "or"):
            result = self.ev(ir[1][0])
            for nxt in ir[1][1:]:
                t = _truth(result)
                if not isinstance(t, np.ndarray):
                    if t == (tag == "or"):
                        return result  # short-circuit on a scalar
                    result = self.ev(nxt)
                    continue
                other = self.ev(nxt)
                if result is t and isinstance(other, np.ndarray) and other.dtype.kind == "b":
                    result = (t & other) if tag == "and" else (t | other)
                else:
                    result = self.select(t, other, result) if tag == "and" else self.select(t, result, other)
            return result
        if tag == "not":
            t = _truth(self.ev(ir[1]))
            return ~t if isinstance(t, np.ndarray) else not t
        if tag in ("neg", "pos"):
            x = self.ev(ir[1])
            if isinstance(x, np.ndarray) and _kind(x) == "num":
                return -_unbool(x) if tag == "neg" else +_unbool(x)
            return self.each(_neg if tag == "neg" else _pos, x)
        if tag == "bin":
            return self.arith(ir[1], self.ev(ir[2]), self.ev(ir[3]))
        if tag == "if":
            t = _truth(self.ev(ir[1]))
            if not isinstance(t, np.ndarray):
                return self.ev(ir[2] if t else ir[3])
            return self.select(t, self.ev(ir[2]), self.ev(ir[3]))
        if tag == "cmp":
            values = [self.ev(o) for o in ir[2]]
            result: Any = True
            for op, a, b in zip(ir[1], values, values[1:]):
                result = np.logical_and(result, self.compare(op, a, b))
            return result if isinstance(result, np.ndarray) else bool(result)
        if tag == "consent":
            c = self.field("consent." + ir[1])
            if not isinstance(c, np.ndarray) or _kind(c) != "num":
                return self.each(_consent, c)
            return c.copy() if c.dtype.kind == "b" else c == 1
        if tag == "event":
            c, within = self.field("@" + ir[1]), ir[2]
            if not isinstance(c, np.ndarray) or _kind(c) != "num":
                return self.each(lambda v: _event(v, self.now, within), c)
            c = _unbool(c)
            return (c == c) if within is None else (c == c) & (self.now - c <= within)
        name, args = ir[1], [self.ev(a) for a in ir[2]]
        if name in ("days_since", "hours_since"):
            unit = 86400 if name == "days_since" else 3600
            if isinstance(args[0], np.ndarray) and _kind(args[0]) == "num":
                return (self.now - _unbool(args[0])) / unit
            return self.each(lambda v: _since(v, self.now, unit), args[0])
        if name == "abs" and isinstance(args[0], np.ndarray) and _kind(args[0]) == "num":
            return np.abs(_unbool(args[0]))
        return self.each(_HELPERS["_" + name], *args)

    def compare(self, op: str, a: Any, b: Any) -> Any:
        if op in ("in", "notin"):
            if isinstance(b, _Lit):
                ka = _kind(a)
                if not isinstance(a, np.ndarray):
                    r: Any = a in b
                elif ka in ("num", "str"):
                    keep = [v for v in b if _kind(v) == ka]
                    r = np.isin(a, keep) if keep else np.zeros(self.n, dtype=bool)
                else:
                    r = self.each(lambda v: v in b, a)
            else:
                r = self.each(_in, a, b)
            r = r.astype(bool) if isinstance(r, np.ndarray) else bool(r)
            return r if op == "in" else ~r if isinstance(r, np.ndarray) else not r
        if not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray):
            return bool(_SCALAR_CMP[op](a, b))
        ka, kb = _kind(a), _kind(b)
        if ka == kb and ka in ("num", "str"):
            return _NP_CMP[op](a, b)
        if "obj" not in (ka, kb):  # num/str/None against each other: never equal, never ordered
            return np.full(self.n, op == "ne")
        return self.each(_SCALAR_CMP[op], a, b).astype(bool)

    def arith(self, op: str, a: Any, b: Any) -> Any:
        if a is None or b is None:
            return None
        both_scalar = not isinstance(a, np.ndarray) and not isinstance(b, np.ndarray)
        if both_scalar or _kind(a) != "num" or _kind(b) != "num":
            return self.each(_SCALAR_BIN[op], a, b)
        a, b = _unbool(a), _unbool(b)
        if op in ("div", "floordiv", "mod"):
            zero = b == 0
            if not isinstance(zero, np.ndarray):
                return None if zero else _NP_BIN[op](a, b)
            result = _NP_BIN[op](a, b)
            if zero.any():
                result = result.astype(object)
                result[zero] = None
            return result
        return _NP_BIN[op](a, b)


# ---- public API -----------------------------------------------------------------------------------------

class Condition:
    """A compiled condition; call it on one record or use :meth:`evaluate_many` on columns."""

    __slots__ = ("source", "fields", "events", "channels", "_fn", "_ir")

    def __init__(self, source: str, ir: tuple, fields: frozenset[str], events: frozenset[str],
                 channels: frozenset[str]) -> None:
        self.source, self._ir = source, ir
        self.fields, self.events, self.channels = fields, events, channels
        self._fn = _build(ir)

    def __call__(self, values: Mapping[str, Any], now: float = 0.0) -> bool:
        """Whether the record ``values`` satisfies the condition at time ``now`` (seconds)."""
        return self._fn(values, now)

    def evaluate_many(self, columns: Mapping[str, np.ndarray], now: float = 0.0) -> np.ndarray:
        """Boolean array, one entry per row of ``columns`` (all the same length; missing: all None)."""
        n = len(next(iter(columns.values()))) if columns else 0
        with np.errstate(all="ignore"):
            result = _truth(_Vec(columns, now, n).ev(self._ir))
        if isinstance(result, np.ndarray):
            return np.array(result, dtype=bool)
        return np.full(n, result, dtype=bool)

    def __repr__(self) -> str:
        return f"Condition({repr(self.source + chr(34))[:-2]}')"  # always single-quoted

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and other.source == self.source

    def __hash__(self) -> int:
        return hash(("Condition", self.source))

    def __reduce__(self) -> tuple:
        return (compile_condition, (self.source,))


def compile_condition(text: str) -> Condition:
    """Validate ``text`` and compile it; raises :class:`ConditionError` with a 1-based column."""
    if not isinstance(text, str):
        raise ConditionError(f"a condition must be a string, got {type(text).__name__}", repr(text), None)
    flat = text.replace("\r", " ").replace("\n", " ")  # one line, same offsets: columns index text
    body = flat.lstrip(" \t\f")
    if not body.strip():
        raise ConditionError("empty condition", text, 1)
    lowering = _Lowering(text, len(flat) - len(body))
    try:
        tree = ast.parse(body, mode="eval")
    except SyntaxError as exc:
        if "\x00" in body:
            col = body.index("\x00") + lowering.lead + 1
            raise ConditionError("condition contains a NUL character", text, col) from None
        col = lowering.lead + exc.offset if exc.offset else len(flat.rstrip()) + 1
        col = min(max(col, 1), len(flat) + 1)
        message = f"syntax error: {exc.msg}"
        if flat[col - 1:col] == "*" and flat[col:col + 1] != "*":
            message = "starred expressions are not allowed"
        elif flat[col - 1:col] == "=" and flat[col:col + 1] != "=" and flat[col - 2:col - 1] not in "<>!=":
            message = "syntax error: '=' assigns; use '==' to compare"
        raise ConditionError(message, text, col) from None
    except ValueError as exc:  # NUL bytes or over-long int literals, depending on the Python version
        raise ConditionError(f"syntax error: {exc}", text, (flat.find("\x00") + 1) or 1) from None
    except (RecursionError, MemoryError):
        raise ConditionError("condition is nested too deeply", text, 1) from None
    ir = lowering.lower(tree.body)
    return Condition(text, ir, frozenset(lowering.fields), frozenset(lowering.events),
                     frozenset(lowering.channels))
