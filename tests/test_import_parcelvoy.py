"""`journeysim import parcelvoy`: Parcelvoy journey step maps -> scenario.

Every input here was written by hand for these tests from Parcelvoy's own source
(apps/platform/src/journey/JourneyStep.ts and apps/platform/src/rules/*; docs/import.md has the URLs).
None is a customer export. Hand-derived values are in the docstrings: delays (2 days = 172800 s;
30 minutes = 1800 s), experiment shares (ratios 1:1:2 -> 25/25/50: each child is pushed into the draw
list `ratio` times and one is picked uniformly), a balancer's paths (uniform: 50/50), gate paths
('yes' -> the rule's arm, 'no' -> else).
"""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT
from import_mutation import mutate_and_import
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.cli import cli
from simulator.engine.events import read_events
from simulator.importers.base import ImportInputError
from simulator.importers.parcelvoy import import_parcelvoy, translate_rule
from simulator.importers.writer import GENERATED, write_scenario
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.semantics import step_successors

DATA = ROOT / "tests" / "data" / "import" / "parcelvoy"
GOOD = ["welcome_series", "promo_experiment", "cart_two_entrances", "bare_step_map"]


def step(type_: str, data: dict, *children, name: str = "") -> dict:
    return {"type": type_, "name": name, "data": data, "x": 0, "y": 0,
            "children": [c if isinstance(c, dict) else {"external_id": c} for c in children]}


def journey_map(first: str, **steps) -> dict:
    """A journey: an event entrance 'signup' into ``first``, plus the given steps; campaign 1 is email,
    2 is text (SMS), 3 push."""
    return {"name": "T", "steps": {"in": step("entrance", {"trigger": "event", "event_name": "signup"}, first),
                                   **steps},
            "campaigns": [{"id": 1, "channel": "email"}, {"id": 2, "channel": "text"}, {"id": 3, "channel": "push"}]}


def imported(data: dict) -> tuple[list, str, dict]:
    journeys = import_parcelvoy(data, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="parcelvoy")
    load_scenario_text(text, "t.yaml")
    return journeys, text, yaml.safe_load(text)


def steps(data: dict) -> list[dict]:
    return imported(data)[2]["journeys"][0]["steps"]


def notes(data: dict) -> list[str]:
    return [u.line() for j in import_parcelvoy(data, "t.json") for u in j.all_unmapped()]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- steps -----------------------------------------------------------------------------------------
def test_duration_delay_adds_days_hours_minutes():
    """1 day + 2 hours + 30 minutes = 95400 s = 1d2h30m."""
    data = journey_map("d", d=step("delay", {"format": "duration", "days": 1, "hours": 2, "minutes": 30}))
    assert steps(data) == [{"id": "d", "wait": "1d2h30m", "next": "end"}]


def test_time_delay_is_a_wait_window_and_date_delay_names_the_parcelvoy_bug():
    """'9:30' -> wait_window at 09:30 (the customer's zone); the 30-minute grace is reported."""
    data = journey_map("t", t=step("delay", {"format": "time", "time": "9:30"}, "u"),
                       u=step("delay", {"format": "date", "date": "{{user.renewal}}"}))
    assert steps(data) == [{"id": "t", "wait_window": {"at": "09:30"}, "next": "u"}, {"id": "u", "split": {"end": 100}}]
    n = notes(data)
    assert any(x.startswith("steps.t.data.time: Parcelvoy's 30 minutes of grace") for x in n)
    assert any(x.startswith("steps.u.data.date: at commit 836a3d8 JourneyDelay.parseJson does not read data.date")
               for x in n)


@pytest.mark.parametrize("campaign, channel", [(1, "email"), (2, "sms"), (3, "push")])
def test_actions_are_sends_on_their_campaigns_channel(campaign, channel):
    _, _, doc = imported(journey_map("a", a=step("action", {"campaign_id": campaign})))
    assert doc["journeys"][0]["steps"] == [{"id": "a", "send": "a", "next": "end"}]
    assert doc["messages"]["a"]["channel"] == channel


def test_gate_yes_no_paths_and_rule():
    data = journey_map("g", g=step("gate", {"rule": {"type": "wrapper", "group": "user", "operator": "or", "children": [
        {"type": "number", "group": "user", "path": "$.score", "operator": ">=", "value": "50"},
        {"type": "boolean", "group": "user", "path": "$.vip", "operator": "=", "value": True}]}},
        {"external_id": "b", "path": "no"}, {"external_id": "a", "path": "yes"}),
        a=step("action", {"campaign_id": 1}), b=step("action", {"campaign_id": 2}))
    assert steps(data)[0] == {"id": "g", "branch": [{"when": "score >= 50 or vip == true", "goto": "a"},
                                                    {"else": "b"}]}


@pytest.mark.parametrize("ratios, shares", [([1, 1, 2], {"a": 25, "b": 25, "c": 50}), ([3, 0, 1], {"a": 75, "c": 25}),
                                            ([1, 1, 1], {"a": 33.333334, "b": 33.333333, "c": 33.333333})])
def test_experiment_shares_follow_the_ratios(ratios, shares):
    data = journey_map("x", x=step("experiment", {}, *[{"external_id": k, "data": {"ratio": r}}
                                                      for k, r in zip("abc", ratios)]),
                       a=step("action", {"campaign_id": 1}), b=step("action", {"campaign_id": 1}),
                       c=step("action", {"campaign_id": 1}))
    assert steps(data)[0] == {"id": "x", "split": shares}


def test_balancer_is_an_equal_split_with_its_rate_limit_reported():
    data = journey_map("bal", bal=step("balancer", {"rate_limit": 10, "rate_interval": "minute"}, "a", "b"),
                       a=step("action", {"campaign_id": 1}), b=step("action", {"campaign_id": 2}))
    assert steps(data)[0] == {"id": "bal", "split": {"a": 50, "b": 50}}
    assert ("steps.bal.data: the balancer's rate limit (10 per minute per path; users over it wait until the window "
            "expires) is not modelled") in notes(data)


def test_literal_update_is_an_update_and_a_template_passes_through():
    data = journey_map("u", u=step("update", {"template": '{"vip": true, "tier": "gold"}'}, "v"),
                       v=step("update", {"template": '{"n": {{user.n}} }'}))
    assert steps(data) == [{"id": "u", "update": {"vip": True, "tier": "gold"}, "at": "cdp", "next": "v"},
                           {"id": "v", "split": {"end": 100}}]


def test_exit_step_with_an_event_is_the_entrances_exit_event():
    data = journey_map("a", a=step("action", {"campaign_id": 1}),
                       stop=step("exit", {"entrance_uuid": "in", "event_name": "purchased"}))
    j = imported(data)[2]["journeys"][0]
    assert j["exit_when"] == {"event": "purchased", "check": "continuous"}
    assert notes(data) == []


@pytest.mark.parametrize("multiple, concurrent, value", [(False, False, False), (True, True, True),
                                                         (True, False, True)])
def test_entrance_multiple_and_concurrent_are_re_entry(multiple, concurrent, value):
    data = journey_map("a", a=step("action", {"campaign_id": 1}))
    data["steps"]["in"]["data"].update(multiple=multiple, concurrent=concurrent)
    assert imported(data)[2]["journeys"][0]["re_entry"] is value


def test_weekly_schedule_is_a_segment_entry_every_week():
    data = journey_map("a", a=step("action", {"campaign_id": 1}))
    data["steps"]["in"]["data"] = {"trigger": "schedule", "list_id": 9, "schedule": "RRULE:FREQ=WEEKLY;INTERVAL=2"}
    _, _, doc = imported(data)
    assert doc["journeys"][0]["entry"] == {"segment": "in_list_9", "every": "2w"}
    assert doc["population"]["attributes"]["in_list_9"] == {"bernoulli": 0.5}


@pytest.mark.parametrize("rule, cond", [
    ({"type": "string", "group": "user", "path": "$.plan", "operator": "!=", "value": "free"}, "plan != 'free'"),
    ({"type": "string", "group": "user", "path": "$.phone", "operator": "is set"}, "phone != null"),
    ({"type": "wrapper", "group": "user", "operator": "none", "children": [
        {"type": "number", "group": "user", "path": "$.age", "operator": "<", "value": 18}]}, "not (age < 18)"),
    ({"type": "wrapper", "group": "event", "value": "Order Placed", "children": []}, "has_event('Order-Placed')"),
])
def test_rules_translate(rule, cond):
    assert translate_rule(rule) == (cond, [])


@pytest.mark.parametrize("rule, problem", [
    ({"type": "string", "group": "user", "path": "$.name", "operator": "contains", "value": "x"}, "operator"),
    ({"type": "date", "group": "user", "path": "$.d", "operator": ">", "value": "2026-01-01"}, "rule type \"date\""),
    ({"type": "string", "group": "event", "path": "$.source", "operator": "=", "value": "ads"}, "event data"),
])
def test_untranslatable_rules(rule, problem):
    cond, problems = translate_rule(rule)
    assert cond is None and problem in " ".join(problems)


# -- end to end ------------------------------------------------------------------------------------
def _source_graphs(src: dict) -> list[tuple[set[tuple[str, str]], dict[str, float]]]:
    """Per entrance (in file order), the edges and duration delays of the steps reachable from it, read
    straight from the JSON: a gate's children by path, every other step's children, an exit leads to 'end'."""
    steps_ = src.get("steps", src)
    out = []
    for key, s in steps_.items():
        if s["type"] != "entrance":
            continue
        edges, waits, todo, seen = set(), {}, [s["children"][0]["external_id"]], set()
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            st_ = steps_[k]
            kids = [c["external_id"] for c in st_.get("children", [])]
            if st_["type"] == "exit":
                kids = ["end"]
            elif st_["type"] == "gate":
                by = {c.get("path"): c["external_id"] for c in st_.get("children", [])}
                kids = [by.get("yes", "end"), by.get("no", "end")] if st_["data"].get("rule") else ["end"]
            elif st_["type"] == "experiment":   # a child without a positive ratio is never drawn
                kids = [c["external_id"] for c in st_.get("children", []) if (c.get("data") or {}).get("ratio", 0) > 0]
            elif st_["type"] != "balancer":
                kids = kids[:1] or ["end"]
            edges |= {(k, c) for c in kids}
            todo += [c for c in kids if c != "end"]
            d = st_.get("data", {})
            if st_["type"] == "delay" and d.get("format", "duration") == "duration":
                waits[k] = d.get("days", 0) * 86400.0 + d.get("hours", 0) * 3600.0 + d.get("minutes", 0) * 60.0
        out.append((edges, waits))
    return out


def _scenario_graph(j) -> tuple[set[tuple[str, str]], dict[str, float]]:
    edges = {(s.id, t) for i, s in enumerate(j.steps) for t in step_successors(j, i)}
    return edges, {s.id: s.wait for s in j.steps if s.wait is not None}


@pytest.mark.parametrize("name", GOOD)
def test_realistic_inputs_import_validate_run_and_keep_the_graph(name, tmp_path):
    """import -> validate -> run 300 customers; per entrance, the step ids, edges and wait durations
    equal the source's."""
    out = tmp_path / f"{name}.yaml"
    r = invoke("import", "parcelvoy", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert invoke("validate", str(out)).exit_code == 0
    src = json.loads((DATA / f"{name}.json").read_text())
    sc = load_scenario(out)
    graphs = _source_graphs(src)
    assert len(sc.journeys) == len(graphs)
    for g, j, imp in zip(graphs, sc.journeys, import_parcelvoy(src, "t.json")):
        assert _scenario_graph(j) == g
        assert set(imp.edges()) == g[0]
    text = out.read_text()
    assert GENERATED in text and "platform:" not in text
    run = invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output
    events = read_events(tmp_path / "run", columns=["kind", "journey"])
    assert set(events["journey"].dropna()) == {j.name for j in sc.journeys}


def test_welcome_run_times_follow_the_imported_delay(tmp_path):
    """Welcome series: entry -> welcome-email (at once) -> wait-2d (2 days = 172800 s) -> engaged-gate."""
    out = tmp_path / "w.yaml"
    assert invoke("import", "parcelvoy", str(DATA / "welcome_series.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "customer", "kind", "step"])
    entered = ev[ev["kind"] == "entry"].groupby("customer")["t"].min()
    reached = ev[(ev["kind"] == "step") & (ev["step"] == "engaged-gate")].groupby("customer")["t"].min()
    assert len(reached) > 10
    assert ((reached - entered[reached.index]).round(6) == 172800.0).all()


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("bad_child", "bad_child.json: steps.welcome-email.children[0].external_id: names step 'wait-2', which is not in "
                  "the map; did you mean 'wait-2d'?"),
    ("bad_delay_format", "bad_delay_format.json: steps.wait-2d.data.format: unknown delay format \"durations\"; did "
                         "you mean 'duration'?"),
    ("no_entrance", "no_entrance.json: steps: the map has no entrance step"),
    ("bad_syntax", "bad_syntax.json:4:3: not valid JSON"),
    ("bad_shape", "bad_shape.json: not a Parcelvoy step map: got a list"),
])
def test_bad_inputs_exit_2_with_the_json_path_and_a_fix(name, message, tmp_path):
    r = invoke("import", "parcelvoy", str(DATA / f"{name}.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("data, message", [
    (journey_map("a", a=step("action", {"campaign_id": 1}, "a")), "steps.a: the steps form a loop ('a' leads back to 'a')"),
    (journey_map("a", a=step("action", {"campaign_id": 1}, "in")), "steps.a.children[0].external_id: points to the "
                                                                  "entrance 'in'"),
    (journey_map("d", d=step("delay", {"format": "duration", "days": "two"})),
     "steps.d.data.days: expected a number, got str \"two\""),
])
def test_malformed_maps_name_the_path(data, message):
    with pytest.raises(ImportInputError) as exc:
        import_parcelvoy(data, "t.json")
    assert message in str(exc.value)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mutation_of_a_realistic_export_imports_or_fails_cleanly(data):
    """Replace any one value of a realistic export by arbitrary JSON: a scenario that validates, or
    ImportInputError (exit 2 with a path); nothing else."""
    mutate_and_import(data, DATA, GOOD, import_parcelvoy, "parcelvoy")
