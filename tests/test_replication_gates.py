"""Gates over replications: the mean (or the upper 95% bound) of the replications decides, never the
first seed alone; hand-computed means and normal-approximation intervals."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.errors import UsageError
from simulator.findings.gates import gate_holds
from simulator.replications import check_gate_on, evaluate_replicated_gates, mean_interval
from simulator.scenario.model import Gate
from simulator.scenario.vocabulary import FINDING_KINDS

CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")
SEVERITY = {"exit-race": "warning", "consent-violation": "error"}


def table(counts: dict[str, list[int]], entered: int = 1000) -> pd.DataFrame:
    """replications.csv-shaped rows: one per replication x kind (kinds not given: 0)."""
    n = len(next(iter(counts.values())))
    return pd.DataFrame([{"replication": r + 1, "seed": 100 + r, "kind": kind, "count": counts.get(kind, [0] * n)[r],
                          "customers": counts.get(kind, [0] * n)[r], "entered": entered,
                          "rate": counts.get(kind, [0] * n)[r] / entered}
                         for r in range(n) for kind in FINDING_KINDS])


def test_mean_interval_by_hand():
    """Values 0.2, 0.4, 0.6, 0.8, 1.0: mean 0.6; deviations -0.4, -0.2, 0, 0.2, 0.4 so the sample variance is
    (0.16 + 0.04 + 0 + 0.04 + 0.16) / 4 = 0.1, sd = 0.316228; half-width 1.959964 * 0.316228 / sqrt(5) =
    0.277181, so the interval is [0.322819, 0.877181]. One value: no interval (NaN ends)."""
    mean, low, high = mean_interval([0.2, 0.4, 0.6, 0.8, 1.0])
    assert mean == pytest.approx(0.6)
    assert low == pytest.approx(0.322819, abs=1e-6) and high == pytest.approx(0.877181, abs=1e-6)
    mean, low, high = mean_interval([0.0, 0.0, 0.3])  # low end clipped at 0 (0.1 - 1.96 * 0.1732 / 1.732 < 0)
    assert mean == pytest.approx(0.1) and low == 0.0 and high == pytest.approx(0.1 + 1.959964 * 0.1, abs=1e-6)
    single = mean_interval([0.4])
    assert single[0] == 0.4 and math.isnan(single[1]) and math.isnan(single[2])


def test_gate_on_the_mean_not_the_first_seed():
    """exit-race customers 2, 4, 6, 8, 10 of 1000 entered: rates 0.2% .. 1.0%, mean 0.6% (interval
    0.323%-0.877%, as above). `exit-race < 0.5%` passes on the first seed (0.2%) but fails on the mean."""
    t = table({"exit-race": [2, 4, 6, 8, 10]})
    [result] = evaluate_replicated_gates([Gate(kind="exit-race", op="<", value=0.5, percent=True)], t,
                                         severities=SEVERITY)
    assert not result.passed and result.statistic == "mean"
    assert result.actual == "mean over 5 replications: 0.6% [95% interval 0.323%-0.877%]; first seed alone: 0.2%"
    assert result.line() == ("gate FAIL: exit-race < 0.5% (mean over 5 replications: 0.6% [95% interval "
                             "0.323%-0.877%]; first seed alone: 0.2%)")
    assert result.as_dict()["statistic"] == "mean"


def test_gate_on_upper_is_the_upper_bound():
    """Same replications, gate `exit-race < 0.7%`: the mean 0.6% passes, the upper bound 0.877% fails."""
    t = table({"exit-race": [2, 4, 6, 8, 10]})
    gate = Gate(kind="exit-race", op="<", value=0.7, percent=True)
    [on_mean] = evaluate_replicated_gates([gate], t, severities=SEVERITY, statistic="mean")
    [on_upper] = evaluate_replicated_gates([gate], t, severities=SEVERITY, statistic="upper")
    assert on_mean.passed and not on_upper.passed
    assert on_upper.actual == ("upper 95% bound over 5 replications: 0.877% (mean 0.6%, interval 0.323%-0.877%); "
                               "first seed alone: 0.2%")


def test_count_gates_and_the_default_gate_over_replications():
    """Counts 0, 0, 0, 0, 1 consent violations: mean 0.2 per run, so `consent-violation == 0` fails although
    four of five seeds had none; the default gate (no gates) fails the same way. All zero: both pass, and the
    interval of five zeros is [0, 0]."""
    gate = Gate(kind="consent-violation", op="==", value=0, percent=False)
    [one] = evaluate_replicated_gates([gate], table({"consent-violation": [0, 0, 0, 0, 1]}), severities=SEVERITY)
    assert not one.passed
    assert one.actual.startswith("mean over 5 replications: 0.2 [95% interval 0-0.592] findings per run")
    [default] = evaluate_replicated_gates([], table({"consent-violation": [0, 0, 0, 0, 1]}), severities=SEVERITY)
    assert not default.passed and default.text == "no error-severity findings (default gate)"
    assert default.actual == ("mean over 5 replications: 0.2 error-severity findings per run "
                              "(total across replications: consent-violation 1)")
    [zero] = evaluate_replicated_gates([gate], table({"consent-violation": [0] * 5}), severities=SEVERITY)
    assert zero.passed and "[95% interval 0-0]" in zero.actual
    [default] = evaluate_replicated_gates([], table({"exit-race": [3] * 5}), severities=SEVERITY)
    assert default.passed  # exit-race is a warning here


def test_check_gate_on():
    assert check_gate_on(None, 1) == "mean" and check_gate_on("Upper", 5) == "upper"
    with pytest.raises(UsageError, match=r"--gate-on 'uper': expected one of mean, upper; did you mean 'upper'\?"):
        check_gate_on("uper", 5)
    with pytest.raises(UsageError, match="give --replications 2 or more"):
        check_gate_on("upper", 1)


@pytest.fixture(scope="module")
def cart_reps(tmp_path_factory):
    """cart_abandonment, 400 customers, 3 replications, gated on --fail-on 'exit-race>0.5%'."""
    out = tmp_path_factory.mktemp("reps") / "cart"
    result = CliRunner().invoke(cli, ["run", CART, "--customers", "400", "--replications", "3", "--no-report",
                                      "--set", "gates={}", "--fail-on", "exit-race>0.5%", "--out", str(out)])
    return out, result


def test_run_gates_on_the_mean_of_replications_csv(cart_reps):
    """The printed gate line, summary.json and the exit code follow the mean of replications.csv's rates."""
    out, result = cart_reps
    reps = pd.read_csv(out / "replications.csv")
    rates = 100 * reps[reps["kind"] == "exit-race"].sort_values("replication")["rate"].to_numpy()
    mean = rates.mean()
    holds = gate_holds(Gate(kind="exit-race", op="<=", value=0.5, percent=True), mean)
    assert result.exit_code == (0 if holds else 1), result.output
    line = next(ln for ln in result.output.splitlines() if ln.startswith("gate "))
    assert line.startswith(f"gate {'PASS' if holds else 'FAIL'}: exit-race <= 0.5% (mean over 3 replications: "
                           f"{mean:.3g}% [95% interval ")
    assert line.endswith(f"; first seed alone: {rates[0]:.3g}%)")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"]["gate_on"] == "mean" and summary["findings"]["gate_on"] == "mean"
    [gate] = summary["findings"]["gates"]
    assert gate["statistic"] == "mean" and gate["passed"] == holds and summary["findings"]["passed"] == holds
    [first] = summary["findings"]["first_replication_gates"]
    assert "statistic" not in first and first["passed"] == (rates[0] <= 0.5)


def test_run_gate_on_upper_and_bad_value(tmp_path):
    """--gate-on upper prints the upper bound; a misspelt value and upper without replications exit 2."""
    result = CliRunner().invoke(cli, ["run", CART, "--customers", "200", "--replications", "2", "--no-report",
                                      "--gate-on", "upper", "--set", "gates={}", "--fail-on", "exit-race>50%",
                                      "--out", str(tmp_path / "u")])
    assert result.exit_code == 0, result.output
    assert "gate PASS: exit-race <= 50% (upper 95% bound over 2 replications: " in result.output
    summary = json.loads((tmp_path / "u" / "summary.json").read_text())
    assert summary["findings"]["gates"][0]["statistic"] == "upper"
    bad = CliRunner().invoke(cli, ["run", CART, "--replications", "3", "--gate-on", "uper"])
    assert bad.exit_code == 2 and "did you mean 'upper'?" in bad.output and "Traceback" not in bad.output
    single = CliRunner().invoke(cli, ["run", CART, "--gate-on", "upper"])
    assert single.exit_code == 2 and "give --replications 2 or more" in single.output


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(counts=st.lists(st.integers(min_value=0, max_value=60), min_size=2, max_size=8),
       limit=st.floats(min_value=0.0, max_value=6.0, allow_nan=False))
def test_upper_gate_is_never_more_lenient_than_the_mean(counts, limit):
    """For '<' gates on any replications: the mean gate holds exactly when the mean of the rates is below the
    limit, and whenever the upper-bound gate passes the mean gate passes too (upper >= mean)."""
    t = table({"exit-race": counts})
    gate = Gate(kind="exit-race", op="<", value=limit, percent=True)
    [on_mean] = evaluate_replicated_gates([gate], t, severities=SEVERITY, statistic="mean")
    [on_upper] = evaluate_replicated_gates([gate], t, severities=SEVERITY, statistic="upper")
    mean = sum(100 * c / 1000 for c in counts) / len(counts)
    assert on_mean.passed == (mean < limit) or math.isclose(mean, limit)
    assert not on_upper.passed or on_mean.passed
