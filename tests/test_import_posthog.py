"""`journeysim import posthog`: PostHog workflows (HogFlow) -> scenario.

Every input here was written by hand for these tests from PostHog's own zod schema
(nodejs/src/schema/hogflow.ts) and the workflow executor's action handlers (nodejs/src/cdp/services/
hogflows/actions/*.ts); docs/import.md has the URLs. None is a customer export. Each per-action test
imports a small flow and compares the scenario fragment with the expected one exactly. Hand-derived
values are in the docstrings: durations ('1.5h' = 5400 s; '48h' cut to PostHog's 24 h ceiling =
86400 s), cohort shares (PostHog draws r in [0, 100) and takes the first cohort whose cumulative
percentage reaches r, else the last: 50 + 30 -> 50/50; 60 + 60 -> 60/40), edge roles (a
wait_until_condition match takes branch edge 0, a wait_until_event match the continue edge).
"""

from __future__ import annotations

import copy
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
from simulator.importers.posthog import CEILING, DELAY_URL, import_posthog, parse_duration
from simulator.importers.writer import GENERATED, write_scenario
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.semantics import step_successors

DATA = ROOT / "tests" / "data" / "import" / "posthog"
GOOD = ["onboarding", "order_followup", "batch_broadcast", "list_response"]


# -- helpers ---------------------------------------------------------------------------------------
def act(aid: str, type_: str, config: dict, **kw) -> dict:
    return {"id": aid, "name": aid, "description": "", "type": type_, "config": config, "created_at": 0,
            "updated_at": 0, **kw}


def edge(a: str, b: str, kind: str = "continue", index: int | None = None) -> dict:
    return {"from": a, "to": b, "type": kind, **({"index": index} if index is not None else {})}


def flow(*actions: dict, edges: list[dict], **top) -> dict:
    """A workflow: an event trigger 'signup' into the first given action, plus an exit action 'x'."""
    trig = {"type": "event", "filters": {"events": [{"id": "signup", "type": "events"}]}}
    return {"id": "f1", "name": "T Flow", "status": "active", "exit_condition": "exit_only_at_end",
            "trigger": trig, **top,
            "actions": [act("t", "trigger", trig), *actions, act("x", "exit", {})],
            "edges": [edge("t", actions[0]["id"]), *edges]}


def email(aid: str, category: str | None = "marketing") -> dict:
    cfg = {"template_id": "template-email", "inputs": {"email": {"value": {"subject": f"Subject {aid}"}}}}
    if category:
        cfg["message_category_type"] = category
    return act(aid, "function_email", cfg)


def person(key: str, op: str, value=None) -> dict:
    return {"key": key, "type": "person", "operator": op, **({"value": value} if value is not None else {})}


def imported(data: dict) -> tuple[list, str, dict]:
    journeys = import_posthog(data, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="posthog")
    load_scenario_text(text, "t.yaml")
    return journeys, text, yaml.safe_load(text)


def steps(data: dict) -> list[dict]:
    return imported(data)[2]["journeys"][0]["steps"]


def journey(data: dict) -> dict:
    return imported(data)[2]["journeys"][0]


def notes(data: dict) -> list[str]:
    return [u.line() for j in import_posthog(data, "t.json") for u in j.all_unmapped()]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- durations and delays ----------------------------------------------------------------------------
@pytest.mark.parametrize("text, seconds, cut", [
    ("1.5h", 5400.0, False), ("30m", 1800.0, False), ("45s", 45.0, False), ("2d", 172800.0, False),
    ("48h", 86400.0, True),     # 'h' ceiling 24
    ("90m", 3600.0, True),      # 'm' ceiling 60
    ("45d", 30 * 86400.0, True),  # 'd' ceiling 30
])
def test_durations_follow_posthogs_grammar_and_ceilings(text, seconds, cut):
    got = parse_duration(text)
    assert got is not None and got[0] == seconds and bool(got[1]) == cut
    assert CEILING == {"d": 30, "h": 24, "m": 60, "s": 60}


@pytest.mark.parametrize("text", ["1 day", "1w", "-5d", "", "d", "10"])
def test_non_durations_are_rejected(text):
    assert parse_duration(text) is None


def test_delay_is_a_wait_and_a_cut_delay_is_reported():
    """'48h' is more than PostHog's 24h ceiling for hours: the scenario waits 1d (86400 s), as PostHog does."""
    data = flow(act("d", "delay", {"delay_duration": "48h"}), edges=[edge("d", "x")])
    assert steps(data)[0] == {"id": "d", "wait": "1d", "next": "x"}
    assert (f"actions[1].config.delay_duration: '48h' is more than PostHog's ceiling of 24h for that unit: PostHog "
            f"waits 24h ({DELAY_URL})") in notes(data)


# -- branches ------------------------------------------------------------------------------------------
def test_conditional_branch_maps_condition_i_to_branch_edge_i_and_continue_to_else():
    data = flow(act("b", "conditional_branch", {"conditions": [
        {"name": "Pro", "filters": {"properties": [person("plan", "exact", ["pro", "team"])]}},
        {"name": "Big", "filters": {"properties": [person("seats", "gte", 10), person("email", "is_set")]}}]}),
        email("e1"), email("e2"), email("e3"),
        edges=[edge("b", "e2", "branch", 1), edge("b", "e1", "branch", 0), edge("b", "e3"),
               edge("e1", "x"), edge("e2", "x"), edge("e3", "x")])
    assert steps(data)[0] == {"id": "b", "branch": [
        {"when": "plan == 'pro' or plan == 'team'", "goto": "e1"},
        {"when": "seats >= 10 and email != null", "goto": "e2"},
        {"else": "e3"}]}


def test_untranslatable_condition_is_an_explicit_never_taken_arm():
    """An event property reads the triggering event's payload: not a customer field."""
    data = flow(act("b", "conditional_branch", {"conditions": [
        {"filters": {"properties": [{"key": "utm_medium", "type": "event", "operator": "exact", "value": "cpc"}]}}]}),
        email("e1"), edges=[edge("b", "e1", "branch", 0), edge("b", "x"), edge("e1", "x")])
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "b", "branch": [{"when": "false", "goto": "e1"}, {"else": "x"}]}
    assert "property 'utm_medium' of type \"event\"" in text


def test_a_missing_branch_edge_ends_the_run_as_posthog_does():
    data = flow(act("b", "conditional_branch", {"conditions": [{"filters": {"properties": [person("vip", "exact", True)]}}]}),
                edges=[edge("b", "x")])
    assert steps(data)[0] == {"id": "b", "branch": [{"when": "vip == true", "goto": "end"}, {"else": "x"}]}
    assert ("actions[1]: no branch edge with index 0 for condition 0: PostHog ends the run there ('No next action "
            "found'); so does the scenario") in notes(data)


def test_conditional_branch_with_delay_is_a_wait_until_condition():
    """One condition + delay_duration '1.5h' (5400 s): match -> branch 0, delay over -> continue; the
    scenario cannot wait for a condition, so it is a 50/50 placeholder pass-through."""
    data = flow(act("b", "conditional_branch", {"conditions": [{"filters": {"properties": [person("paid", "exact", True)]}}],
                                                "delay_duration": "1.5h"}), email("e1"),
                edges=[edge("b", "x", "branch", 0), edge("b", "e1"), edge("e1", "x")])
    j = import_posthog(data, "t.json")[0]
    w = j.nodes[0]
    assert (type(w).__name__, w.condition, w.timeout, w.then, w.on_timeout) == (
        "WaitUntilCondition", "paid == true", 5400.0, "x", "e1")
    assert steps(data)[0] == {"id": "b", "split": {"x": 50, "e1": 50}}


@pytest.mark.parametrize("cohorts, shares", [
    ([50, 50], {"a": 50, "b": 50}),
    ([50, 30], {"a": 50, "b": 50}),        # 80 drawn: r in (50, 100) all falls to the last cohort
    ([60, 60], {"a": 60, "b": 40}),        # 120 drawn: r <= 100 always, so b only gets 60..100
    ([20, 30, 50], {"a": 20, "b": 30, "c": 50}),
])
def test_random_cohorts_get_the_shares_posthogs_draw_gives(cohorts, shares):
    names = "abc"[:len(cohorts)]
    data = flow(act("r", "random_cohort_branch", {"cohorts": [{"percentage": p} for p in cohorts]}),
                *[email(n) for n in names],
                edges=[edge("r", n, "branch", i) for i, n in enumerate(names)] + [edge(n, "x") for n in names])
    assert steps(data)[0] == {"id": "r", "split": shares}


# -- waits -------------------------------------------------------------------------------------------
def test_wait_until_condition_on_one_event_is_wait_until_with_match_on_branch_0():
    """wait_until_condition: a match takes branch edge 0, the timeout (3d = 259200 s) the continue edge."""
    data = flow(act("w", "wait_until_condition", {"condition": {"filters": {"events": [{"id": "purchase"}]}},
                                                  "max_wait_duration": "3d"}), email("e1"),
                edges=[edge("w", "x", "branch", 0), edge("w", "e1"), edge("e1", "x")])
    assert steps(data)[0] == {"id": "w", "wait_until": {"event": "purchase", "timeout": "3d", "then": "x",
                                                        "on_timeout": "e1"}}


def test_wait_until_event_matches_on_continue_and_times_out_on_branch_0():
    """wait_until_event is the other way round (wait_until_event.ts): a match takes the continue edge."""
    data = flow(act("w", "wait_until_event", {"events": [{"filters": {"events": [{"id": "purchase"}]}}],
                                              "max_wait_duration": "2d"}), email("e1"),
                edges=[edge("w", "x"), edge("w", "e1", "branch", 0), edge("e1", "x")])
    assert steps(data)[0] == {"id": "w", "wait_until": {"event": "purchase", "timeout": "2d", "then": "x",
                                                        "on_timeout": "e1"}}


def test_time_window_is_a_wait_window():
    """PostHog day names become the format's three-letter days; a fixed timezone becomes the window's zone."""
    data = flow(act("w", "wait_until_time_window", {"timezone": "Europe/Paris", "day": ["saturday", "sunday"],
                                                    "time": ["10:00", "12:00"]}), edges=[edge("w", "x")])
    assert steps(data)[0] == {"id": "w", "wait_window": {"from": "10:00", "to": "12:00", "days": ["sat", "sun"],
                                                         "zone": "Europe/Paris"}, "next": "x"}
    assert not any("10:00-12:00" in n for n in notes(data))


# -- sends, functions, exits -----------------------------------------------------------------------------
@pytest.mark.parametrize("category, tags", [("marketing", ["marketing"]), ("transactional", ["transactional"]),
                                            (None, ["marketing"])])
def test_email_keeps_its_category_and_subject(category, tags):
    _, _, doc = imported(flow(email("e1", category), edges=[edge("e1", "x")]))
    assert doc["journeys"][0]["steps"][0] == {"id": "e1", "send": "e1", "next": "x"}
    assert doc["messages"]["e1"]["tags"] == tags and doc["messages"]["e1"]["subject"] == "Subject e1"


def test_sms_and_cdp_function():
    data = flow(act("s", "function_sms", {"template_id": "template-twilio", "message_category_type": "transactional",
                                          "inputs": {}}),
                act("f", "function", {"template_id": "template-webhook", "inputs": {}}),
                edges=[edge("s", "f"), edge("f", "x")])
    _, _, doc = imported(data)
    assert doc["journeys"][0]["steps"][:2] == [{"id": "s", "send": "s", "next": "f"}, {"id": "f", "split": {"x": 100}}]
    assert doc["messages"]["s"]["channel"] == "sms"
    assert ("actions[2]: CDP destination function 'template-webhook' 'f' is not modelled: everyone passes straight "
            "through") in notes(data)


def test_exit_action_is_kept_as_a_step_that_leaves():
    assert steps(flow(email("e1"), edges=[edge("e1", "x")]))[1] == {"id": "x", "split": {"end": 100}}


# -- journey level -------------------------------------------------------------------------------------
def test_trigger_masking_per_person_is_a_cooldown():
    """ttl 604800 s = 1 week between entries of one person."""
    data = flow(email("e1"), edges=[edge("e1", "x")],
                trigger_masking={"ttl": 604800, "hash": "{person.id}", "bytecode": [], "threshold": None})
    assert journey(data)["re_entry"] == {"cooldown": "1w"}


def test_no_masking_means_every_event_enters_and_other_hashes_are_reported():
    assert journey(flow(email("e1"), edges=[edge("e1", "x")]))["re_entry"] is True
    data = flow(email("e1"), edges=[edge("e1", "x")],
                trigger_masking={"ttl": 3600, "hash": "{event.properties.order_id}", "bytecode": [], "threshold": 5})
    assert journey(data)["re_entry"] is True
    assert any("trigger masking on hash \"{event.properties.order_id}\" (ttl 3600, threshold 5) is not modelled" in n
               for n in notes(data))


def test_exit_on_conversion_event_is_exit_when_event():
    data = flow(email("e1"), edges=[edge("e1", "x")], exit_condition="exit_on_conversion",
                conversion={"window_minutes": None, "events": [{"filters": {"events": [{"id": "purchase"}]}}]})
    assert journey(data)["exit_when"] == {"event": "purchase", "check": "continuous"}


def test_exit_on_trigger_not_matched_negates_the_trigger_filter():
    data = flow(email("e1"), edges=[edge("e1", "x")], exit_condition="exit_on_trigger_not_matched")
    data["actions"][0]["config"]["filters"]["properties"] = [person("plan", "exact", "trial")]
    assert journey(data)["exit_when"] == {"when": "not (plan == 'trial')", "check": "continuous"}


def test_exit_on_conversion_without_a_goal_is_reported():
    data = flow(email("e1"), edges=[edge("e1", "x")], exit_condition="exit_on_conversion")
    assert "exit_when" not in journey(data)
    assert ("exit_condition: exit_on_conversion without a conversion goal: PostHog never exits on conversion (a "
            "silent no-op), nor does the scenario") in notes(data)


# -- end to end -------------------------------------------------------------------------------------------
def _source_graph(item: dict) -> tuple[set[tuple[str, str]], dict[str, float]]:
    """The action graph read straight from the JSON, independently of the importer: every edge leaving
    a non-trigger action, an exit action leads to 'end', and each delay's duration with PostHog's ceiling."""
    kinds = {a["id"]: a["type"] for a in item["actions"]}
    edges = {(e["from"], e["to"]) for e in item["edges"] if kinds[e["from"]] != "trigger"}
    edges |= {(a["id"], "end") for a in item["actions"] if a["type"] == "exit"}
    waits = {}
    for a in item["actions"]:
        if a["type"] == "delay":
            d = a["config"]["delay_duration"]
            amount, unit = float(d[:-1]), d[-1]
            waits[a["id"]] = min(amount, {"d": 30, "h": 24, "m": 60, "s": 60}[unit]) * {"d": 86400, "h": 3600,
                                                                                        "m": 60, "s": 1}[unit]
    return edges, waits


def _scenario_graph(j) -> tuple[set[tuple[str, str]], dict[str, float]]:
    edges = {(s.id, t) for i, s in enumerate(j.steps) for t in step_successors(j, i)}
    return edges, {s.id: s.wait for s in j.steps if s.wait is not None}


@pytest.mark.parametrize("name", GOOD)
def test_realistic_inputs_import_validate_run_and_keep_the_graph(name, tmp_path):
    """import -> validate -> run 300 customers; the step ids, edges and wait durations equal the source's."""
    out = tmp_path / f"{name}.yaml"
    r = invoke("import", "posthog", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert invoke("validate", str(out)).exit_code == 0
    src = json.loads((DATA / f"{name}.json").read_text())
    items = src["results"] if "results" in src else [src]
    sc = load_scenario(out)
    assert len(sc.journeys) == len(items)
    for item, j, imp in zip(items, sc.journeys, import_posthog(src, "t.json")):
        assert _scenario_graph(j) == _source_graph(item)
        assert set(imp.edges()) == _source_graph(item)[0]
    text = out.read_text()
    assert GENERATED in text and "platform:" not in text
    run = invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output
    events = read_events(tmp_path / "run", columns=["kind", "journey"])
    assert set(events["journey"].dropna()) == {j.name for j in sc.journeys}


def test_onboarding_run_times_follow_the_imported_delay(tmp_path):
    """Onboarding: entry -> action_delay_1 (1d) -> action_email_welcome. Every instance reaches the
    welcome email exactly 86400 s after it entered."""
    out = tmp_path / "o.yaml"
    assert invoke("import", "posthog", str(DATA / "onboarding.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "customer", "kind", "step"])
    entered = ev[ev["kind"] == "entry"].groupby("customer")["t"].min()
    reached = ev[(ev["kind"] == "step") & (ev["step"] == "action_email_welcome")].groupby("customer")["t"].min()
    assert len(reached) > 10
    assert ((reached - entered[reached.index]).round(6) == 86400.0).all()


# -- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("bad_edge", "bad_edge.json: edges[1].to: names action 'action_cohrt', which is not in actions; "
                 "did you mean 'action_cohort'?"),
    ("bad_duration", "bad_duration.json: actions[1].config.delay_duration: expected a duration such as \"30m\", "
                     "\"2h\", \"1.5d\" or \"45s\", got \"1 day\""),
    ("no_trigger", "no_trigger.json: actions: expected exactly one action of type 'trigger', found 0"),
    ("bad_syntax", "bad_syntax.json:3:15: not valid JSON"),
    ("bad_shape", "bad_shape.json: not a PostHog workflow: got a list"),
])
def test_bad_inputs_exit_2_with_the_json_path_and_a_fix(name, message, tmp_path):
    r = invoke("import", "posthog", str(DATA / f"{name}.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["edges"].append(edge("e1", "x")), "edges[2]: action 'e1' has a second continue edge (also edges[1])"),
    (lambda d: d["actions"].append(act("e2", "delay", {"delay_duration": "1m"})) or
     d.update(edges=[edge("t", "e1"), edge("e1", "e2"), edge("e2", "e1")]),
     "actions[3]: the actions form a loop ('e2' leads back to 'e1')"),
    (lambda d: d.update(exit_condition="exit_on_convert"), "exit_condition: unknown exit_condition \"exit_on_convert\"; "
                                                          "did you mean 'exit_on_conversion'?"),
    (lambda d: d["actions"][0]["config"].update(type="evnt"), "actions[0].config.type: unknown trigger type \"evnt\"; "
                                                              "did you mean 'event'?"),
    (lambda d: d["actions"][1]["config"].update(message_category_type="promo"),
     "actions[1].config.message_category_type: expected \"marketing\" or \"transactional\", got \"promo\""),
    (lambda d: d["actions"].append(copy.deepcopy(d["actions"][1])), "actions[3].id: duplicate action id 'e1'"),
])
def test_malformed_flows_name_the_path(mutate, message):
    data = flow(email("e1"), edges=[edge("e1", "x")])
    mutate(data)
    with pytest.raises(ImportInputError) as exc:
        import_posthog(data, "t.json")
    assert message in str(exc.value)


def test_posthog_is_a_listed_format_with_a_did_you_mean(tmp_path):
    r = invoke("import", "posthg", str(DATA / "onboarding.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "did you mean 'posthog'?" in r.output


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mutation_of_a_realistic_export_imports_or_fails_cleanly(data):
    """Replace any one value of a realistic export by arbitrary JSON: the importer either produces a
    scenario that validates, or raises ImportInputError (exit 2 with a path); nothing else."""
    mutate_and_import(data, DATA, GOOD, import_posthog, "posthog")
