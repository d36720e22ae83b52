"""`journeysim import hubspot`: HubSpot Automation v4 flows -> scenario.

Every input here was written by hand for these tests from HubSpot's v4 documentation (the workflows
guide, the action-enrollment reference, the batch-read endpoint's response schema and the list
filters reference; docs/import.md has the URLs). None is a customer export. Hand-derived values are in
the docstrings: delays (delta 1440 MINUTES = 86400 s = 1d; 2 HOURS = 7200 s; 3 DAYS = 259200 s),
branch arms (a STATIC_BRANCH value v on property p -> ``p == 'v'``; LIST_BRANCH filters ->
conditions), targets (no connection -> 'end').
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
from simulator.importers.hubspot import import_hubspot, translate_filter_branch
from simulator.importers.writer import GENERATED, write_scenario
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.semantics import step_successors

DATA = ROOT / "tests" / "data" / "import" / "hubspot"
GOOD = ["welcome_list", "demo_nurture_event", "manual_single_send", "batch_read"]


def single(aid: str, tid: str, fields: dict, nxt: str | None = None, edge: str = "STANDARD") -> dict:
    a = {"type": "SINGLE_CONNECTION", "actionId": aid, "actionTypeVersion": 0, "actionTypeId": tid, "fields": fields}
    if nxt:
        a["connection"] = {"edgeType": edge, "nextActionId": nxt}
    return a


def conn(n: str) -> dict:
    return {"edgeType": "STANDARD", "nextActionId": n}


def pf(prop: str, otype: str, op: str, **kw) -> dict:
    return {"filterType": "PROPERTY", "property": prop, "operation": {"operationType": otype, "operator": op, **kw}}


def flow(*actions: dict, enrollment: dict | None = None, **top) -> dict:
    return {"id": "99", "name": "T Flow", "isEnabled": True, "type": "CONTACT_FLOW", "startActionId": actions[0]["actionId"],
            "actions": list(actions), "enrollmentCriteria": enrollment or {"type": "MANUAL", "shouldReEnroll": False},
            **top}


def imported(data: dict) -> tuple[list, str, dict]:
    journeys = import_hubspot(data, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="hubspot")
    load_scenario_text(text, "t.yaml")
    return journeys, text, yaml.safe_load(text)


def steps(data: dict) -> list[dict]:
    return imported(data)[2]["journeys"][0]["steps"]


def notes(data: dict) -> list[str]:
    return [u.line() for j in import_hubspot(data, "t.json") for u in j.all_unmapped()]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- single-connection actions -------------------------------------------------------------------------
@pytest.mark.parametrize("delta, unit, wait", [("1440", "MINUTES", "1d"), ("2", "HOURS", "2h"), (3, "DAYS", "3d"),
                                               ("90", "SECONDS", "1m30s"), ("1", "WEEKS", "1w")])
def test_delay_is_a_wait(delta, unit, wait):
    assert steps(flow(single("1", "0-1", {"delta": delta, "time_unit": unit})))[0] == {"id": "1", "wait": wait,
                                                                                       "next": "end"}


def test_email_set_property_and_others():
    data = flow(single("1", "0-4", {"content_id": "170"}, "2"),
                single("2", "0-5", {"property_name": "hs_lead_status", "value": {"type": "STATIC_VALUE",
                                                                                 "staticValue": "OPEN"}}, "3"),
                single("3", "0-9", {"user_ids": ["1"], "subject": "s", "body": "b"}))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"] == [{"id": "1", "send": "1", "next": "2"},
                                           {"id": "2", "update": {"hs_lead_status": "OPEN"}, "at": "cdp", "next": "3"},
                                           {"id": "3", "split": {"end": 100}}]
    assert doc["messages"]["1"]["channel"] == "email" and "(template 170)" in text
    assert "actions[2]: HubSpot internal notification (0-9) '3' is not modelled: everyone passes straight through" \
        in notes(data)


def test_go_to_connection_keeps_the_edge_and_says_so():
    data = flow(single("1", "0-4", {"content_id": "1"}, "2", edge="GO-TO"), single("2", "0-1", {"delta": 1,
                                                                                                "time_unit": "DAYS"}))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "1", "send": "1", "next": "2"}
    assert "# GO-TO connection: jumps to '2' in another branch" in text


# -- branches -----------------------------------------------------------------------------------------------
def test_static_branch_compares_the_property_with_each_value():
    data = flow({"type": "STATIC_BRANCH", "actionId": "1",
                 "inputValue": {"type": "OBJECT_PROPERTY", "propertyName": "lifecyclestage"},
                 "staticBranches": [{"branchValue": "lead", "connection": conn("2")},
                                    {"branchValue": "customer", "connection": conn("3")}],
                 "defaultBranchName": "Other", "defaultBranch": conn("3")},
                single("2", "0-4", {"content_id": "1"}), single("3", "0-4", {"content_id": "2"}))
    assert steps(data)[0] == {"id": "1", "branch": [{"when": "lifecyclestage == 'lead'", "goto": "2"},
                                                    {"when": "lifecyclestage == 'customer'", "goto": "3"},
                                                    {"else": "3"}]}


def test_list_branch_translates_filters_and_no_default_leaves():
    """'50' on a NUMBER operation is the number 50; IS_ANY_OF two values is an 'or'."""
    data = flow({"type": "LIST_BRANCH", "actionId": "1", "listBranches": [
        {"branchName": "Hot", "connection": conn("2"), "filterBranch": {"filterBranchType": "AND", "filters": [
            pf("hubspotscore", "NUMBER", "IS_GREATER_THAN", value="50"),
            pf("country", "ENUMERATION", "IS_ANY_OF", values=["DE", "AT"])]}}]},
        single("2", "0-4", {"content_id": "1"}))
    assert steps(data)[0] == {"id": "1", "branch": [
        {"when": "hubspotscore > 50 and (country == 'DE' or country == 'AT')", "goto": "2"}, {"else": "end"}]}


@pytest.mark.parametrize("fb, cond", [
    ({"filterBranchType": "OR", "filters": [pf("a", "BOOL", "IS_EQUAL_TO", value="true"),
                                            pf("b", "ALL_PROPERTY", "IS_UNKNOWN")]}, "a == true or b == null"),
    ({"filterBranchType": "AND", "filters": [pf("tier", "ENUMERATION", "IS_NONE_OF", values=["x", "y"])]},
     "tier != 'x' and tier != 'y'"),
    ({"filterBranchType": "AND", "filters": [pf("n", "NUMBER", "IS_LESS_THAN_OR_EQUAL_TO", value=3)]}, "n <= 3"),
])
def test_filter_branches_translate(fb, cond):
    assert translate_filter_branch(fb) == (cond, [])


def test_untranslatable_filters_are_all_or_nothing():
    cond, problems = translate_filter_branch({"filterBranchType": "AND", "filters": [
        pf("a", "BOOL", "IS_EQUAL_TO", value=True), {"filterType": "ASSOCIATION", "listId": "5"}]})
    assert cond is None and "filter type \"ASSOCIATION\"" in problems[0]


# -- enrollment ------------------------------------------------------------------------------------------
def test_list_based_enrollment_is_a_segment_entry_and_no_reenroll_is_enter_once():
    data = flow(single("1", "0-4", {"content_id": "1"}), enrollment={
        "type": "LIST_BASED", "shouldReEnroll": False,
        "listFilterBranch": {"filterBranchType": "AND", "filters": [pf("email", "ALL_PROPERTY", "IS_KNOWN")]}})
    j = imported(data)[2]["journeys"][0]
    assert (j["entry"], j["re_entry"]) == ({"segment": "email != null", "every": "1h"}, False)


def test_event_based_enrollment_with_reenroll():
    data = flow(single("1", "0-4", {"content_id": "1"}), enrollment={
        "type": "EVENT_BASED", "shouldReEnroll": True, "eventFilterBranches": [{"eventTypeId": "4-96000987"}]})
    j = imported(data)[2]["journeys"][0]
    assert (j["entry"], j["re_entry"]) == ({"event": "hubspot_event_4-96000987"}, True)


# -- end to end ------------------------------------------------------------------------------------------
def _source_graph(item: dict) -> tuple[set[tuple[str, str]], dict[str, float]]:
    """The action graph read straight from the JSON, independently of the importer."""
    units = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400, "WEEKS": 604800}
    edges, waits = set(), {}
    for a in item["actions"]:
        conns = [a.get("connection")] if a["type"] == "SINGLE_CONNECTION" else (
            [b["connection"] for b in a.get("staticBranches", []) + a.get("listBranches", [])]
            + [a.get("defaultBranch")])
        edges |= {(a["actionId"], c["nextActionId"] if c else "end") for c in conns}
        if a.get("actionTypeId") == "0-1":
            waits[a["actionId"]] = float(a["fields"]["delta"]) * units[a["fields"]["time_unit"]]
    return edges, waits


def _scenario_graph(j) -> tuple[set[tuple[str, str]], dict[str, float]]:
    edges = {(s.id, t) for i, s in enumerate(j.steps) for t in step_successors(j, i)}
    return edges, {s.id: s.wait for s in j.steps if s.wait is not None}


@pytest.mark.parametrize("name", GOOD)
def test_realistic_inputs_import_validate_run_and_keep_the_graph(name, tmp_path):
    """import -> validate -> run 300 customers; the step ids, edges and wait durations equal the source's."""
    out = tmp_path / f"{name}.yaml"
    r = invoke("import", "hubspot", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert invoke("validate", str(out)).exit_code == 0
    src = json.loads((DATA / f"{name}.json").read_text())
    items = src["results"] if "results" in src else [src]
    sc = load_scenario(out)
    assert len(sc.journeys) == len(items)
    for item, j, imp in zip(items, sc.journeys, import_hubspot(src, "t.json")):
        assert _scenario_graph(j) == _source_graph(item)
        assert set(imp.edges()) == _source_graph(item)[0]
    text = out.read_text()
    assert GENERATED in text and "\nplatform: hubspot " in text   # the hubspot preset (docs/platforms.md)
    run = invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output
    events = read_events(tmp_path / "run", columns=["kind", "journey"])
    assert set(events["journey"].dropna()) == {j.name for j in sc.journeys}


def test_welcome_run_times_follow_the_imported_delay(tmp_path):
    """New lead welcome: entry -> 1 (email, at once) -> 2 (delta 1440 MINUTES = 86400 s) -> 3 (branch).
    Every instance reaches step 3 exactly 86400 s after it entered."""
    out = tmp_path / "w.yaml"
    assert invoke("import", "hubspot", str(DATA / "welcome_list.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "customer", "kind", "step"])
    entered = ev[ev["kind"] == "entry"].groupby("customer")["t"].min()
    reached = ev[(ev["kind"] == "step") & (ev["step"] == "3")].groupby("customer")["t"].min()
    assert len(reached) > 10
    assert ((reached - entered[reached.index]).round(6) == 86400.0).all()


# -- bad input ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("bad_next", "bad_next.json: actions[0].connection.nextActionId: names action '22', which is not in actions; "
                 "did you mean '2'?"),
    ("bad_time_unit", "bad_time_unit.json: actions[1].fields.time_unit: unknown time_unit \"DAY\"; did you mean "
                      "'DAYS'?"),
    ("bad_enrollment", "bad_enrollment.json: enrollmentCriteria.type: unknown enrollment type \"LIST_BASE\"; did you "
                       "mean 'LIST_BASED'?"),
    ("bad_syntax", "bad_syntax.json:4:22: not valid JSON"),
    ("bad_shape", "bad_shape.json: not a HubSpot workflow: got a list"),
])
def test_bad_inputs_exit_2_with_the_json_path_and_a_fix(name, message, tmp_path):
    r = invoke("import", "hubspot", str(DATA / f"{name}.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("data, message", [
    (flow(single("1", "0-1", {"delta": 1, "time_unit": "DAYS"}, "1")),
     "actions[0]: the actions form a loop ('1' leads back to '1')"),
    (flow(single("1", "0-4", {}), single("1", "0-4", {})), "actions[1].actionId: duplicate actionId '1'"),
    (dict(flow(single("1", "0-4", {})), startActionId="7"), "startActionId: names action '7', which is not in actions"),
    (flow(single("1", "0-4", {}, "2", edge="GOTO"), single("2", "0-4", {})),
     "actions[0].connection.edgeType: expected \"STANDARD\" or \"GO-TO\", got \"GOTO\"; did you mean 'GO-TO'?"),
])
def test_malformed_flows_name_the_path(data, message):
    with pytest.raises(ImportInputError) as exc:
        import_hubspot(data, "t.json")
    assert message in str(exc.value)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mutation_of_a_realistic_export_imports_or_fails_cleanly(data):
    """Replace any one value of a realistic export by arbitrary JSON: a scenario that validates, or
    ImportInputError (exit 2 with a path); nothing else."""
    mutate_and_import(data, DATA, GOOD, import_hubspot, "hubspot")


def test_time_windows_with_one_set_of_hours_are_the_execution_window():
    """Mon and Tue 09:00-17:00 -> execution_window {from 09:00, to 17:00, days [mon, tue]}; the account's
    zone is not in the export, so America/New_York (HubSpot's EST default) stands in, with a comment."""
    win = [{"day": d, "startTime": {"hour": 9, "minute": 0}, "endTime": {"hour": 17, "minute": 0}}
           for d in ("TUESDAY", "MONDAY")]
    _, text, doc = imported(flow(single("1", "0-4", {"content_id": "1"}), timeWindows=win))
    assert doc["platform"] == "hubspot"
    assert doc["journeys"][0]["execution_window"] == {"from": "09:00", "to": "17:00", "days": ["mon", "tue"],
                                                      "timezone": "America/New_York"}
    assert "America/New_York (HubSpot's EST default) is a placeholder, edit it" in text


def test_time_windows_with_different_hours_are_reported():
    win = [{"day": "MONDAY", "startTime": {"hour": 9}, "endTime": {"hour": 17}},
           {"day": "FRIDAY", "startTime": {"hour": 9}, "endTime": {"hour": 12}}]
    data = flow(single("1", "0-4", {"content_id": "1"}), timeWindows=win)
    assert "execution_window" not in imported(data)[2]["journeys"][0]
    assert any(n.startswith("timeWindows: 'run actions at specific times only' with different hours per day")
               for n in notes(data))


def test_the_execution_window_reschedules_sends_in_a_run(tmp_path):
    """demo_nurture_event: every send happens Mon/Tue 09:00-17:15 New York time (the window plus the
    preset's 15-minute jitter), and some sends are rescheduled (entries are spread over 14 days)."""
    import pandas as pd

    out = tmp_path / "d.yaml"
    assert invoke("import", "hubspot", str(DATA / "demo_nurture_event.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "kind", "step"])
    sc = load_scenario(out)
    start = pd.Timestamp(sc.start)
    sends = ev[(ev["kind"] == "step") & ev["step"].isin(["12", "15"])]
    assert len(sends) > 10
    local = (start + pd.to_timedelta(sends["t"], unit="s")).dt.tz_convert("America/New_York")
    minutes = local.dt.hour * 60 + local.dt.minute
    assert set(local.dt.day_of_week) <= {0, 1}
    assert ((minutes >= 9 * 60) & (minutes < 17 * 60 + 15)).all()
    assert (ev["kind"] == "rescheduled").sum() > 0
