"""``journeysim compare``: platforms as sweep variants under the same seeds (docs/platforms.md,
"Comparing platforms"): the closed form for the exit-race difference, the CLI end to end, the tables,
the paired differences on a hand-built table, the rules that differ, bad input and failed runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import cli
from simulator.platforms.compare import compare_table, identical_runs, paired_differences, plan_compare, rule_table
from simulator.sweep import task as sweep_task

CART = str(ROOT / "scenarios" / "cart_abandonment.yaml")

#: The closed-form scenario (docs/platforms.md, "A closed form"): the cart tag reaches the CDP 10 min
#: after the abandonment (fixed); the order system streams the purchase to the CDP at once; the journey
#: sends at entry, waits 1 h and sends a reminder; exit on purchase, with no check of its own.
RACE = """\
scenario: order-before-tag
start: 2026-12-01T00:00:00Z
duration: 14h
seed: 7
default_timezone: UTC
population:
  size: {size}
  consent: {{email: 1.0}}
  events:
    - name: cart_abandoned
      origin: web
      once: {{at: {{uniform: {{low: 0s, high: 12h}}}}}}
    - name: purchase
      origin: shop
      after: {{event: cart_abandoned, probability: {p}, delay: {{exponential: {{mean: {mean}}}}}}}
systems:
  web: {{kind: source}}
  shop: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email, delivery_delay: 0s}}
sync:
  - {{name: tag, from: web, to: cdp, fields: [events], mode: stream, latency: {{fixed: {lag}}}}}
  - {{name: orders, from: shop, to: cdp, fields: [events], mode: stream, latency: 0s}}
policies:
  consent_required: [email]
messages:
  saved: {{channel: email, body: "Your cart is saved"}}
  reminder: {{channel: email, body: "Still thinking it over?"}}
journeys:
  - name: cart
    reads_from: cdp
    entry: {{event: cart_abandoned}}
    exit_when: {{event: purchase}}
    steps:
      - {{id: saved, send: saved}}
      - {{id: wait_1h, wait: 1h}}
      - {{id: remind, send: reminder}}
"""


def race_file(tmp_path: Path, *, size: int = 200, p: float = 0.5, mean: str = "20m", lag: str = "10m") -> str:
    path = tmp_path / "race.yaml"
    path.write_text(RACE.format(size=size, p=p, mean=mean, lag=lag))
    return str(path)


def run_cli(*args: str):
    return CliRunner().invoke(cli, ["compare", *args])


# ----------------------------------------------------------------------------------------- closed form

def test_exit_race_difference_matches_the_closed_form(tmp_path):
    """sfmc/braze (check after_waits) against customerio (a goal exit: check continuous), on RACE.

    Derivation. Every customer abandons a cart once, at A (uniform over the first 12 h of a 14-hour run; every
    entry, wait and reminder falls inside it).
    The tag reaches the CDP at A + L (L = 10 min, fixed): the customer enters then. With probability
    p = 0.5 they buy at A + D, D ~ exponential with mean mu = 20 min; the order reaches the CDP at once.
    The journey's first step sends ``saved`` at entry (delivery delay 0), then waits 1 h, then sends
    ``reminder``. An exit-race finding is a message delivered after the customer truly met exit_when.

    - customerio: check continuous, so the exit is checked at entry. If D < L the CDP already has the
      purchase (it happened after the abandonment, so it counts): the customer exits at entry, nothing is
      sent. If D >= L, ``saved`` is delivered at A + L <= A + D (no race) and the purchase, when it
      arrives, ends the journey at once, before the reminder (or it comes after the reminder was
      delivered): the exit-race rate is exactly 0.
    - sfmc and braze: check after_waits: nothing is checked at entry. ``saved`` is delivered at A + L to
      everyone; it is a race exactly when D < L. After the 1 h wait the check sees any purchase made by
      then (its lag is 0), so the reminder never races. Rate q = p * P(D < L) = p (1 - exp(-L / mu))
      = 0.5 (1 - exp(-1/2)) = 0.196735.

    So each platform's difference from customerio, paired by seed, is q. The measured mean over R
    replications of N customers is a binomial share over R N independent customers: sd
    sqrt(q (1 - q) / (R N)) = 0.00513 for R N = 6000; the test allows 2.576 sd (a 99% band, 0.0132).
    sfmc and braze run with the same check and the same seeds: identical runs, a difference of
    exactly 0 on every seed.
    """
    q = 0.5 * (1 - math.exp(-0.5))
    path = race_file(tmp_path, size=1500)
    out = tmp_path / "out"
    result = run_cli(path, "--platforms", "customerio,sfmc,braze", "--replications", "4", "--workers", "1",
                     "--out", str(out), "--no-report")
    assert result.exit_code == 0, result.output
    assert "the same finding counts" not in result.output
    frame = pd.read_csv(out / "compare.csv")
    race = frame[frame["kind"] == "exit-race"].set_index("platform")
    band = 2.576 * math.sqrt(q * (1 - q) / 6000)
    assert race.loc["customerio", "mean_rate"] == 0.0
    for name in ("sfmc", "braze"):
        assert abs(race.loc[name, "delta"] - q) < band, (name, race.loc[name, "delta"], q, band)
        assert race.loc[name, "vs"] == "customerio" and race.loc[name, "pairs"] == 4
    table = pd.read_csv(out / "sweep.csv")
    wide = table[table["kind"] == "exit-race"].pivot(index="seed", columns="platform", values="count")
    assert (wide["sfmc"] == wide["braze"]).all()  # the same seeds, the same rule: identical runs
    assert (wide["customerio"] == 0).all()


def test_klaviyo_checks_before_the_first_message_so_no_race(tmp_path):
    """klaviyo (check at_steps) against sfmc on RACE: at_steps checks before the first step, so a
    purchase already at the CDP at entry ends the journey before ``saved``, as continuous does: klaviyo's
    rate is 0 and its paired difference from sfmc is minus sfmc's rate, seed by seed."""
    path = race_file(tmp_path, size=300)
    out = tmp_path / "out"
    result = run_cli(path, "--platforms", "sfmc,klaviyo", "--replications", "2", "--workers", "1",
                     "--out", str(out), "--no-report")
    assert result.exit_code == 0, result.output
    race = pd.read_csv(out / "compare.csv").query("kind == 'exit-race'").set_index("platform")
    assert race.loc["klaviyo", "mean_rate"] == 0.0
    assert race.loc["sfmc", "mean_rate"] > 0
    assert race.loc["klaviyo", "delta"] == pytest.approx(-race.loc["sfmc", "mean_rate"])


# ----------------------------------------------------------------------------------------- CLI end to end

def test_cli_writes_the_tables_and_the_page(tmp_path):
    """customerio,sfmc on RACE (200 customers, 2 replications): exit 0; the terminal names the rates,
    the difference and the rule that differs with its sources; compare.csv has one row per kind x
    platform with the documented columns; compare_rules.csv the rules; compare.html is one file with its
    figure embedded; summary.json says kind compare."""
    path = race_file(tmp_path)
    out = tmp_path / "out"
    result = run_cli(path, "--platforms", "customerio,sfmc", "--replications", "2", "--workers", "1",
                     "--out", str(out))
    assert result.exit_code == 0, result.output
    text = result.output
    assert "exit-race" in text and "sfmc - customerio: +" in text
    assert "the same finding counts" not in text
    assert "journeys[cart].exit_when.check: customerio continuous (preset), sfmc after_waits (preset)" in text
    assert "https://docs.customer.io/journeys/campaign-exit-conditions" in text
    assert "https://help.salesforce.com/s/articleView?id=mktg.mc_jb_define_exit_criteria.htm" in text
    frame = pd.read_csv(out / "compare.csv")
    assert list(frame.columns) == ["kind", "platform", "replications", "mean_rate", "low", "high", "mean_count",
                                   "mean_entered", "vs", "delta", "delta_low", "delta_high", "pairs"]
    from simulator.scenario.vocabulary import FINDING_KINDS

    assert frame["kind"].tolist() == [k for k in FINDING_KINDS for _ in range(2)]
    assert frame["platform"].tolist() == ["customerio", "sfmc"] * len(FINDING_KINDS)
    assert frame.loc[frame["platform"] == "customerio", "delta"].isna().all()
    assert (frame["mean_entered"] == 200).all() and (frame["replications"] == 2).all()
    rules = pd.read_csv(out / "compare_rules.csv")
    check = rules.set_index("key").loc["journeys[cart].exit_when.check"]
    assert (check["customerio"], check["customerio_from"], check["sfmc"], check["sfmc_from"]) == \
        ("continuous", "preset", "after_waits", "preset")
    assert bool(check["differs"]) and not bool(check["pinned"])
    html = (out / "compare.html").read_text()
    assert "data:image/png;base64," in html and "<script src" not in html and "<link" not in html
    assert "sfmc - customerio" in html and "Rules that differ" in html
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "compare" and summary["platforms"] == ["customerio", "sfmc"]
    assert summary["status"] == "complete" and summary["rules_differ"] == ["journeys[cart].exit_when.check"]


def test_a_check_the_scenario_pins_gives_identical_runs(tmp_path):
    """With the journey's own check: continuous (--set), sfmc and braze run RACE exactly as customerio
    does: the terminal says the runs are identical and that the scenario's check runs under every
    platform; the page says it too; no rule differs."""
    out = tmp_path / "out"
    result = run_cli(race_file(tmp_path), "--platforms", "sfmc,braze", "--replications", "1", "--workers", "1",
                     "--set", "journeys[cart].exit_when.check=continuous", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "every platform gave the same finding counts and deliveries on every seed" in result.output
    assert ("the scenario's own journeys[cart].exit_when.check = continuous runs under every platform "
            "(presets: sfmc: after_waits; braze: after_waits)") in result.output
    assert "rules that differ: none" in result.output
    assert "Every platform gave the same finding counts" in (out / "compare.html").read_text()
    assert json.loads((out / "summary.json").read_text())["identical_runs"] is True


@pytest.mark.parametrize("platforms, message", [
    ("braze,brazee", "unknown platform 'brazee'; did you mean 'braze'? known platforms: ajo, braze, customerio"),
    ("sfcm,braze", "did you mean 'sfmc'?"),
    ("braze", "give two or more platforms"),
    ("braze,braze", "'braze' is given twice"),
    ("braze,,sfmc", "empty name"),
])
def test_bad_platforms_exit_2_with_the_fix(tmp_path, platforms, message):
    result = run_cli(race_file(tmp_path), "--platforms", platforms, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_set_platform_and_scenario_errors_exit_2(tmp_path):
    """--set platform=... would fight --platforms: a usage error. A bad --set key is the scenario error
    of run/sweep (exit 2, did-you-mean). An --out folder that is not empty is refused."""
    path = race_file(tmp_path)
    result = run_cli(path, "--platforms", "braze,sfmc", "--set", "platform=ajo")
    assert result.exit_code == 2 and "compare sets platform itself" in result.output
    result = run_cli(path, "--platforms", "braze,sfmc", "--set", "populaton.size=5")
    assert result.exit_code == 2 and "population" in result.output
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("")
    result = run_cli(path, "--platforms", "braze,sfmc", "--out", str(full))
    assert result.exit_code == 2 and "not an empty folder" in result.output


def test_a_failed_run_exits_2_and_the_tables_leave_it_out(tmp_path, monkeypatch):
    """One run (sfmc, replication 2) raises: exit 2 naming it; the others are in the tables; sfmc's
    difference is paired on the one seed both platforms finished (pairs 1, no interval)."""
    real = sweep_task._run

    def flaky(task):
        if task.replication == 2 and task.scenario.platform == "sfmc":
            raise RuntimeError("worker lost")
        return real(task)

    monkeypatch.setattr(sweep_task, "_run", flaky)
    out = tmp_path / "out"
    result = run_cli(race_file(tmp_path), "--platforms", "customerio,sfmc", "--replications", "2",
                     "--workers", "1", "--out", str(out), "--no-report")
    assert result.exit_code == 2, result.output
    assert "platform=sfmc replication 2" in result.output and "worker lost" in result.output
    assert "1 of 4 runs failed" in result.output
    frame = pd.read_csv(out / "compare.csv").query("kind == 'exit-race'").set_index("platform")
    assert frame.loc["sfmc", "replications"] == 1 and frame.loc["sfmc", "pairs"] == 1
    assert math.isnan(frame.loc["sfmc", "delta_high"])
    assert json.loads((out / "summary.json").read_text())["status"] == "incomplete"


# ----------------------------------------------------------------------------------------- tables by hand

def hand_table() -> pd.DataFrame:
    """Platforms a, b, c; seeds 1, 2, 3; exit-race rates a 0.1/0.2/0.3, b 0.2/0.4/0.6, c 0.1/0.2 (seed 3
    failed); overlap 0 everywhere."""
    rates = {"a": [0.1, 0.2, 0.3], "b": [0.2, 0.4, 0.6], "c": [0.1, 0.2]}
    rows = []
    for name, values in rates.items():
        for seed, rate in zip((1, 2, 3), values):
            for kind, r in (("exit-race", rate), ("overlap", 0.0)):
                rows.append({"variant": "abc".index(name), "platform": name, "replication": seed, "seed": seed,
                             "kind": kind, "count": round(r * 100), "customers": round(r * 100), "entered": 100,
                             "rate": r})
    return pd.DataFrame(rows)


def test_identical_runs():
    """a and b differ (exit-race counts); a against a copy of itself named c is identical; c's missing
    seed 3 is left out (seeds every platform finished)."""
    table = hand_table()
    assert not identical_runs(table, ["a", "b", "c"])
    copy = table[table["platform"] == "a"].assign(platform="c")
    both = pd.concat([table[table["platform"] == "a"], copy[copy["seed"] != 3]])
    assert identical_runs(both, ["a", "c"])


def test_paired_differences_by_hand():
    """b - a per seed: 0.1, 0.2, 0.3: mean 0.2, sd 0.1, half-width 1.959964 x 0.1 / sqrt(3) = 0.113159.
    c - a on the seeds both ran (1, 2): 0, 0: mean 0, sd 0, interval [0, 0], 2 pairs. Overlap: 0 - 0."""
    d = paired_differences(hand_table(), ["a", "b", "c"]).set_index(["kind", "platform"])
    b = d.loc[("exit-race", "b")]
    assert b["vs"] == "a" and b["pairs"] == 3
    assert b["delta"] == pytest.approx(0.2)
    assert b["delta_low"] == pytest.approx(0.2 - 0.113159, abs=1e-6)
    assert b["delta_high"] == pytest.approx(0.2 + 0.113159, abs=1e-6)
    c = d.loc[("exit-race", "c")]
    assert (c["delta"], c["delta_low"], c["delta_high"], c["pairs"]) == (0.0, 0.0, 0.0, 2)
    assert d.loc[("overlap", "b"), "delta"] == 0.0


def test_compare_table_by_hand():
    """a's exit-race: mean 0.2, sd 0.1, 95% interval 0.2 +- 0.113159; b: mean 0.4, sd 0.2, +- 0.226318 ->
    lower end 0.173682; c: mean 0.15 over 2 (sd 0.0707107, +- 1.959964 x 0.0707107 / sqrt 2 = 0.0979982)."""
    frame = compare_table(hand_table(), ["a", "b", "c"])
    race = frame[frame["kind"] == "exit-race"].set_index("platform")
    assert race.loc["a", "mean_rate"] == pytest.approx(0.2) and pd.isna(race.loc["a", "delta"])
    assert race.loc["a", "high"] == pytest.approx(0.313159, abs=1e-6)
    assert race.loc["b", "low"] == pytest.approx(0.173682, abs=1e-6)
    assert race.loc["c", "replications"] == 2 and race.loc["c", "high"] == pytest.approx(0.15 + 0.0979982, abs=1e-6)
    assert race.loc["b", "delta"] == pytest.approx(0.2) and race.loc["c", "pairs"] == 2


# ----------------------------------------------------------------------------------------- rules

def test_rules_on_the_bundled_cart_scenario():
    """The cart journey writes check: continuous, so that runs under braze, customerio and sfmc (pinned:
    braze and sfmc say after_waits, the scenario wins). Its 1d cap gives no window: braze's preset sets
    calendar, the others keep journeysim's default, sliding: the one rule that differs. The 7d cap:
    sliding everywhere (braze's preset, the others' default)."""
    cplan = plan_compare(CART, ["braze", "customerio", "sfmc"], replications=1)
    rules = cplan.rules.set_index("key")
    check = rules.loc["journeys[cart-abandonment].exit_when.check"]
    assert [check[p] for p in ("braze", "customerio", "sfmc")] == ["continuous"] * 3
    assert [check[f"{p}_from"] for p in ("braze", "customerio", "sfmc")] == ["scenario"] * 3
    assert bool(check["pinned"]) and not bool(check["differs"])
    assert check["preset_says"] == "braze: after_waits; customerio: continuous; sfmc: after_waits"
    cap = rules.loc["policies.frequency_caps[0].window"]
    assert (cap["braze"], cap["braze_from"], cap["customerio"], cap["customerio_from"]) == \
        ("calendar", "preset", "sliding", "default")
    assert bool(cap["differs"])
    week = rules.loc["policies.frequency_caps[1].window"]
    assert [week[p] for p in ("braze", "customerio", "sfmc")] == ["sliding"] * 3 and not bool(week["differs"])
    assert rules.index[rules["differs"]].tolist() == ["policies.frequency_caps[0].window"]


def test_rule_table_reads_the_values_that_run(tmp_path):
    """ajo's 91-day max_duration shows as 13w (91 d = 13 weeks, journeysim's duration format) against
    sfmc's none (journeysim's default); with --set the
    journey's own value (2d) runs under both and is marked scenario."""
    path = race_file(tmp_path)
    cplan = plan_compare(path, ["sfmc", "ajo"], replications=1)
    row = cplan.rules.set_index("key").loc["journeys[cart].max_duration"]
    assert (row["sfmc"], row["sfmc_from"], row["ajo"], row["ajo_from"]) == ("none", "default", "13w", "preset")
    cplan = plan_compare(path, ["sfmc", "ajo"], replications=1, overrides=["journeys[cart].max_duration=2d"])
    row = rule_table(path, ["sfmc", "ajo"], cplan.sweep, ["journeys[cart].max_duration=2d"]).set_index("key")
    row = row.loc["journeys[cart].max_duration"]
    assert (row["sfmc"], row["sfmc_from"], row["ajo"], row["ajo_from"]) == ("2d", "scenario", "2d", "scenario")
    assert bool(row["pinned"]) and not bool(row["differs"])


def test_the_docs_show_the_closed_form_scenario_the_test_runs():
    """docs/platforms.md's order-before-tag scenario is RACE at 2000 customers (the same data)."""
    import re

    import yaml

    text = (ROOT / "docs" / "platforms.md").read_text()
    block = re.search(r"```yaml\n(scenario: order-before-tag\n.*?)```", text, re.S)
    assert block, "the closed-form scenario is missing from docs/platforms.md"
    assert yaml.safe_load(block.group(1)) == yaml.safe_load(RACE.format(size=2000, p=0.5, mean="20m", lag="10m"))


rate_lists = st.lists(st.floats(min_value=0, max_value=1, allow_nan=False), min_size=1, max_size=6)


@settings(max_examples=60, deadline=None)
@given(a=rate_lists, b=rate_lists)
def test_paired_difference_properties(a, b):
    """On the seeds both platforms finished, the paired difference is the difference of the means; the
    other order negates it (interval mirrored); a platform against itself differs by exactly 0."""
    n = min(len(a), len(b))
    rows = [{"platform": p, "seed": s, "kind": "exit-race", "rate": r}
            for p, rates in (("a", a), ("b", b)) for s, r in enumerate(rates)]
    table = pd.DataFrame(rows)
    ab = paired_differences(table, ["a", "b"]).iloc[0]
    ba = paired_differences(table, ["b", "a"]).iloc[0]
    assert ab["pairs"] == n
    assert ab["delta"] == pytest.approx(sum(b[:n]) / n - sum(a[:n]) / n, abs=1e-9)
    assert ba["delta"] == pytest.approx(-ab["delta"], abs=1e-9)
    if n > 1:
        assert ba["delta_low"] == pytest.approx(-ab["delta_high"], abs=1e-9)
        assert ab["delta_low"] <= ab["delta"] <= ab["delta_high"]
    else:
        assert math.isnan(ab["delta_high"])
    same = pd.concat([table[table["platform"] == "a"], table[table["platform"] == "a"].assign(platform="c")])
    aa = paired_differences(same, ["a", "c"]).iloc[0]
    assert aa["delta"] == 0.0 and aa["pairs"] == len(a)
    if len(a) > 1:
        assert (aa["delta_low"], aa["delta_high"]) == (0.0, 0.0)
