"""Release gates: the scenario's ``gates:`` and ``--fail-on`` criteria decide the exit code."""

from __future__ import annotations

import math
import operator
import re
from fractions import Fraction
from dataclasses import dataclass
from typing import Any

from simulator.errors import UsageError
from simulator.projections.stats import signed_mean_interval
from simulator.scenario.experiments import PROJECTION_GATES, is_projection_gate
from simulator.scenario.model import Gate
from simulator.scenario.units import did_you_mean
from simulator.scenario.vocabulary import FINDING_KINDS

__all__ = ["GateResult", "parse_fail_on", "evaluate_gates", "gate_holds", "projection_values",
           "evaluate_projection_gates", "evaluate_replicated_projection_gates"]

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}
_FAIL_ON = re.compile(r"^\s*([a-z][a-z\-]*?)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")


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
    if kind not in FINDING_KINDS and not is_projection_gate(kind):
        guess = did_you_mean(kind, (*FINDING_KINDS, *PROJECTION_GATES))
        raise UsageError(f"--fail-on {text!r}: unknown finding kind '{kind}'"
                         + (f"; did you mean '{guess}'?" if guess else ""))
    if not is_projection_gate(kind) and value.startswith("-"):
        raise UsageError(f"--fail-on {text!r}: a finding rate or count cannot be negative")
    if is_projection_gate(kind) and not pct:
        raise UsageError(f"--fail-on {text!r}: '{kind}' judges a rate; give a percentage, e.g. "
                         f"'{kind}<2%'")
    negate = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
    return Gate(kind=kind, op=negate[op], value=float(value), percent=bool(pct))


def evaluate_gates(gates: list[Gate], totals: dict[str, dict[str, Any]], *, severities: dict[str, str],
                   entered: int) -> list[GateResult]:
    """Each gate against the per-kind totals. With no gates: no error-severity finding may occur."""
    results = []
    gates = [g for g in gates if not is_projection_gate(g.kind)]  # judged by evaluate_projection_gates
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


# --------------------------------------------------------------------------------------- projections


def projection_values(kind: str, projections: dict[str, Any] | None) -> dict[str, tuple[Fraction | None, str]]:
    """Per journey the gate's value in percent, exact (a fraction computed from the arms' counts, so that
    30 of 100 against 25 of 100 is 5 points, not 4.999...; None when it cannot be measured) and how it
    came about.

    ``conversion-rate``: the treated arm's rate (all entrants' without a holdout); ``conversion-lift``:
    treated minus holdout rate, in percentage points; ``conversion-lift-relative``: treated over holdout
    rate minus 1, in percent. The lift gates judge only journeys with a holdout (docs/projections.md)."""
    out: dict[str, tuple[Fraction | None, str]] = {}
    for name, j in ((projections or {}).get("journeys") or {}).items():
        arms = j["arms"]
        if kind == "conversion-rate":
            arm = "treated" if "treated" in arms else "all"
            a = arms[arm]
            if a["rate"] is None:
                out[name] = (None, f"{name}: no customer entered")
            else:
                out[name] = (100 * _share(a), f"{name}: {100 * a['rate']:.3g}% ({a['converted']} of "
                                              f"{a['customers']} {'treated ' if arm == 'treated' else ''}customers)")
            continue
        if "lift" not in j:
            continue
        t, h, lift = arms["treated"], arms["holdout"], j["lift"]
        arms_text = (f"treated {_pct(t['rate'])} of {t['customers']}, holdout {_pct(h['rate'])} of "
                     f"{h['customers']}")
        if kind == "conversion-lift":
            if lift["absolute"] is None:
                out[name] = (None, f"{name}: cannot be measured ({arms_text})")
            else:
                out[name] = (100 * (_share(t) - _share(h)),
                             f"{name}: {100 * lift['absolute']:+.3g} points ({arms_text}; 95% interval "
                             f"{100 * lift['absolute_low']:+.3g} to {100 * lift['absolute_high']:+.3g})")
        else:
            if lift["relative"] is None:
                out[name] = (None, f"{name}: cannot be measured ({arms_text})")
            else:
                out[name] = (100 * (_share(t) / _share(h) - 1),
                             f"{name}: {100 * lift['relative']:+.3g}% ({arms_text}; 95% interval "
                             f"{100 * lift['relative_low']:+.3g}% to {100 * lift['relative_high']:+.3g}%)")
    return out


def _share(arm: dict[str, Any]) -> Fraction:
    return Fraction(int(arm["converted"]), int(arm["customers"]))


def _holds(gate: Gate, value: Fraction) -> bool:
    """``gate_holds`` on an exact value, against the threshold as written (``2.1`` is 21/10, not the float)."""
    return bool(_OPS[gate.op](value, Fraction(repr(gate.value))))


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{100 * rate:.3g}%"


def evaluate_projection_gates(gates: list[Gate], projections: dict[str, Any] | None) -> list[GateResult]:
    """Each projection gate against every journey it applies to; it passes when all of them pass. A
    journey whose value cannot be measured (no entrant, an empty arm, no holdout conversion for the
    relative lift) fails the gate, as does a gate no journey can be judged on."""
    results = []
    for gate in (g for g in gates if is_projection_gate(g.kind)):
        values = projection_values(gate.kind, projections)
        if not values:
            results.append(GateResult(gate.text, False, "no journey to judge (a lift needs a holdout)"))
            continue
        ok = all(v is not None and _holds(gate, v) for v, _ in values.values())
        results.append(GateResult(gate.text, ok, "; ".join(text for _, text in values.values())))
    return results


def evaluate_replicated_projection_gates(gates: list[Gate], runs: list[dict[str, Any] | None],
                                         statistic: str = "mean") -> list[GateResult]:
    """Projection gates over replications: per journey the mean of the per-replication values, or with
    ``statistic='upper'`` the end of its 95% interval least favourable to the gate (the upper end for
    ``<``/``<=``, the lower end for ``>``/``>=``, so ``conversion-lift: "> 2%"`` must hold for the whole
    interval; ``==``/``!=`` use the mean). A replication where the value cannot be measured fails the gate."""
    n = len(runs)
    over = f"over {n} replication{'s' if n != 1 else ''}"
    results = []
    for gate in (g for g in gates if is_projection_gate(g.kind)):
        per_run = [projection_values(gate.kind, p) for p in runs]
        names = list(dict.fromkeys(name for values in per_run for name in values))
        if not names:
            results.append(GateResult(gate.text, False, "no journey to judge (a lift needs a holdout)", statistic))
            continue
        unit = " points" if gate.kind == "conversion-lift" else "%"
        ok, texts = True, []
        for name in names:
            exact = [values.get(name, (None, ""))[0] for values in per_run]
            if any(v is None for v in exact):
                ok = False
                texts.append(f"{name}: not measurable in {sum(v is None for v in exact)} of {n} replications")
                continue
            values = [float(v) for v in exact]  # type: ignore[arg-type]
            mean, low, high = signed_mean_interval(values)
            label, value = f"mean {over}", mean
            if statistic == "upper" and not math.isnan(low) and gate.op in ("<", "<=", ">", ">="):
                value = high if gate.op in ("<", "<=") else low
                label = f"{'upper' if gate.op in ('<', '<=') else 'lower'} 95% bound {over}"
            ok = ok and gate_holds(gate, value)
            shown_mean = "" if label.startswith("mean") else f"mean {mean:.3g}{unit}, "  # said once
            band = "" if math.isnan(low) else f" ({shown_mean}95% interval {low:.3g} to {high:.3g})"
            texts.append(f"{name}: {label}: {value:.3g}{unit}{band}; first seed alone: {values[0]:.3g}{unit}")
        results.append(GateResult(gate.text, ok, "; ".join(texts), statistic))
    return results
