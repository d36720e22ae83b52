"""Release gates: the scenario's ``gates:`` and ``--fail-on`` criteria decide the exit code."""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any

from simulator.errors import UsageError
from simulator.scenario.model import Gate
from simulator.scenario.units import did_you_mean
from simulator.scenario.vocabulary import FINDING_KINDS

__all__ = ["GateResult", "parse_fail_on", "evaluate_gates", "gate_holds"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}
_FAIL_ON = re.compile(r"^\s*([a-z][a-z\-]*)\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)?)\s*(%?)\s*$")


def gate_holds(gate: Gate, value: float) -> bool:
    """Whether ``value`` (a percentage for percent gates, else a count) satisfies the gate."""
    return bool(_OPS[gate.op](value, gate.value))


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict. ``statistic`` names what was compared when the run had replications
    (``mean`` or ``upper``; None for a single run), and ``actual`` then describes it in words."""

    text: str
    passed: bool
    actual: str
    statistic: str | None = None

    @property
    def detail(self) -> str:
        """What the printed line shows in brackets after the gate."""
        return self.actual if self.statistic else f"actual: {self.actual}"

    def line(self) -> str:
        """``gate PASS: exit-race < 0.5% (actual: 0.35% (7 of 2000 entered customers))``."""
        return f"gate {'PASS' if self.passed else 'FAIL'}: {self.text} ({self.detail})"

    def as_dict(self) -> dict[str, Any]:
        out = {"gate": self.text, "passed": self.passed, "actual": self.actual}
        if self.statistic:
            out["statistic"] = self.statistic
        return out


def parse_fail_on(text: str) -> Gate:
    """``'exit-race>0.5%'`` (fails the run when true) -> the equivalent passing :class:`Gate` (``<= 0.5%``)."""
    m = _FAIL_ON.match(text)
    if not m:
        raise UsageError(f"--fail-on {text!r}: expected KIND OP NUMBER[%], e.g. 'exit-race>0.5%' or "
                         "'consent-violation>0'")
    kind, op, value, pct = m.groups()
    if kind not in FINDING_KINDS:
        guess = did_you_mean(kind, FINDING_KINDS)
        raise UsageError(f"--fail-on {text!r}: unknown finding kind '{kind}'"
                         + (f"; did you mean '{guess}'?" if guess else ""))
    negate = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
    return Gate(kind=kind, op=negate[op], value=float(value), percent=bool(pct))


def evaluate_gates(gates: list[Gate], totals: dict[str, dict[str, Any]], *, severities: dict[str, str],
                   entered: int) -> list[GateResult]:
    """Each gate against the per-kind totals. With no gates: no error-severity finding may occur."""
    results = []
    for gate in gates:
        t = totals.get(gate.kind, {"count": 0, "customers": 0})
        if gate.percent:
            rate = 100.0 * t["customers"] / entered if entered else 0.0
            actual, value = f"{rate:.3g}% ({t['customers']} of {entered} entered customers)", rate
        else:
            actual, value = f"{t['count']} finding{'s' if t['count'] != 1 else ''}", float(t["count"])
        results.append(GateResult(gate.text, gate_holds(gate, value), actual))
    if not gates:
        errors = {k: t["count"] for k, t in totals.items() if severities.get(k) == "error"}
        n = sum(errors.values())
        detail = ", ".join(f"{k} {c}" for k, c in sorted(errors.items())) or "none"
        results.append(GateResult("no error-severity findings (default gate)", n == 0, detail))
    return results
