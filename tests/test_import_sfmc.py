"""`journeysim import sfmc`: the IR, the writer and the Journey Builder importer.

Every input here was written by hand from Salesforce's Journey Specification pages (see
docs/import.md for the URL of each activity format); none is a customer export. Each per-activity
test imports a one- or two-activity interaction and compares the scenario fragment to the expected
one exactly, then checks the whole output validates. The hand-derived values are in the expected
fragments: units (90 MINUTES = 5400 s = '1h30m'), operators (GreaterThan 500 -> '> 500'),
percentages, targets (an outcome without 'next' -> 'end').
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT
from import_mutation import mutate_and_import
from hypothesis import given
from hypothesis import strategies as st

from simulator.cli import cli
from simulator.engine.events import read_events
from simulator.importers import ir
from simulator.importers.base import ImportInputError
from simulator.importers.sfmc import EXIT_CRITERIA_URL, import_sfmc
from simulator.importers.sfmc_filter import field_name, translate_filter
from simulator.importers.writer import GENERATED, format_duration, write_scenario
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.semantics import step_successors
from simulator.scenario.units import parse_duration

DATA = ROOT / "tests" / "data" / "import" / "sfmc"
GOOD = ["multistep_decision", "api_sms_update", "single_send", "transactional", "engagement_split",
        "custom_rest_split", "collection", "journey_data_split"]


# -- helpers ---------------------------------------------------------------------------------------
def interaction(*activities: dict, trigger: dict | None = None, **top) -> dict:
    """A minimal interaction: an API-event trigger and the given activities."""
    return {"key": "t-journey", "name": "T Journey", "workflowApiVersion": 1.0,
            "triggers": [trigger or {"key": "TRIGGER", "type": "APIEvent",
                                     "metaData": {"eventDefinitionKey": "APIEvent-t"}}],
            "activities": list(activities), **top}


def act(key: str, type_: str, nxt: str | None = None, **fields) -> dict:
    return {"key": key, "type": type_, "outcomes": [{"key": f"{key}-o", "next": nxt}], **fields}


def imported(data: dict) -> tuple[list[ir.ImportedJourney], str, dict]:
    """(IR journeys, YAML text, parsed YAML); the text must load and validate."""
    journeys = import_sfmc(data, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="sfmc")
    load_scenario_text(text, "t.yaml")
    return journeys, text, yaml.safe_load(text)


def steps(data: dict) -> list[dict]:
    return imported(data)[2]["journeys"][0]["steps"]


def notes(data: dict) -> list[str]:
    return [u.line() for j in import_sfmc(data, "t.json") for u in j.all_unmapped()]


def cond(op: str, value: str = "", key: str = "Event.APIEvent-t.Tier", set_op: str = "AND") -> str:
    return (f'<FilterDefinition><ConditionSet Operator="{set_op}" ConditionSetName="Individual Filter Grouping">'
            f'<Condition Key="{key}" Operator="{op}"><Value><![CDATA[{value}]]></Value></Condition>'
            "</ConditionSet></FilterDefinition>")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- waits -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("amount, unit, expected", [
    (90, "MINUTES", "1h30m"),    # 90 x 60 s = 5400 s
    ("1", "hours", "1h"),        # strings, lower case, as the spec's sample writes them
    (2, "DAYS", "2d"),
    (1, "WEEKS", "1w"),
    (1, "MONTHS", "4w2d"),       # a month is simulated as 30 days = 4 weeks 2 days (noted)
])
def test_wait_by_duration_becomes_a_wait(amount, unit, expected):
    data = interaction(act("WAITBYDURATION-1", "WAITBYDURATION", "EMAILV2-1",
                           configurationArguments={"waitDuration": amount, "waitUnit": unit}),
                       act("EMAILV2-1", "EMAILV2"))
    assert steps(data)[0] == {"id": "WAITBYDURATION-1", "wait": expected, "next": "EMAILV2-1"}
    assert any("simulated as 30 days" in n for n in notes(data)) == (unit == "MONTHS")


def test_wait_type_wait_with_specified_time_keeps_the_duration_and_says_so():
    data = interaction(act("WAIT-1", "Wait", None, configurationArguments={
        "waitDuration": "1", "waitUnit": "weeks", "specifiedTime": "09:00", "timeZoneId": "Romance Standard Time"}))
    assert steps(data) == [{"id": "WAIT-1", "wait": "1w", "next": "end"}]
    assert notes(data) == ["activities[0].configurationArguments.specifiedTime: the wait also runs until 09:00 in "
                           "Romance Standard Time: only the duration is simulated"]


# -- sends -----------------------------------------------------------------------------------------
def test_email_send_becomes_a_send_and_a_placeholder_message():
    data = interaction(act("EMAILV2-1", "EMAILV2", None, name="Hello", configurationArguments={
        "triggeredSend": {"emailId": 123, "emailSubject": "Hello {{first}}"}}))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"] == [{"id": "EMAILV2-1", "send": "EMAILV2-1", "next": "end"}]
    assert doc["messages"] == {"EMAILV2-1": {
        "channel": "email", "subject": "Hello {{first}}",
        "body": "Imported EMAILV2 EMAILV2-1. Unsubscribe: {{ unsubscribe_url }}", "tags": ["marketing"]}}
    assert "channel: email   # (template 123)" in text
    assert doc["systems"]["esp"] == {"kind": "channel", "channel": "email"}
    assert doc["population"]["consent"] == {"email": 0.9}


@pytest.mark.parametrize("type_, channel, system, body", [
    ("SMSSYNC", "sms", "sms", "Imported SMSSYNC S-1. Reply STOP to opt out"),
    ("PUSHNOTIFICATIONACTIVITY", "push", "push", "Imported PUSHNOTIFICATIONACTIVITY S-1."),
])
def test_sms_and_push_sends(type_, channel, system, body):
    _, _, doc = imported(interaction(act("S-1", type_)))
    assert doc["journeys"][0]["steps"] == [{"id": "S-1", "send": "S-1", "next": "end"}]
    assert doc["messages"]["S-1"] == {"channel": channel, "body": body, "tags": ["marketing"]}
    assert doc["systems"][system] == {"kind": "channel", "channel": channel}
    links = {(s["from"], s["to"]): s["fields"] for s in doc["sync"]}
    assert links[("cdp", system)] == ["consent"] and links[(system, "cdp")] == ["events", "consent"]


def test_transactional_send_is_tagged_and_reported():
    data = interaction(act("EMAILV2-1", "EMAILV2", configurationArguments={
        "triggeredSend": {"r__sendClassification_key": "Default Transactional"}}))
    _, text, doc = imported(data)
    assert doc["messages"]["EMAILV2-1"]["tags"] == ["transactional"]
    assert notes(data) == ["activities[0]: transactional category: the scenario format has no per-message category, "
                           "so consent, quiet hours and caps apply to this send as to marketing ones (the message "
                           "is tagged 'transactional')"]
    assert "      # NOT MAPPED: transactional category" in text


# -- decision split --------------------------------------------------------------------------------
@pytest.mark.parametrize("op, value, expected", [
    ("Equal", "Gold", "Tier == 'Gold'"),
    ("Is", "true", "Tier == true"),
    ("NotEqual", "Gold", "Tier != 'Gold'"),
    ("GreaterThan", "500", "Tier > 500"),
    ("GreaterThanOrEqual", "2.5", "Tier >= 2.5"),
    ("LessThan", "-3", "Tier < -3"),
    ("LessThanOrEqual", "10", "Tier <= 10"),
    ("IsNull", "", "Tier == null"),
    ("IsNotNull", "", "Tier != null"),
    ("Contains", "VIP", "'VIP' in Tier"),
    ("NotContains", "VIP", "'VIP' not in Tier"),
    ("DoesNotContain", "O'Neil", "\"O'Neil\" not in Tier"),
])
def test_filter_operators_translate(op, value, expected):
    assert translate_filter(cond(op, value)).condition == expected


def test_filter_sets_nest_with_parentheses_and_or():
    xml = ('<FilterDefinition><ConditionSet Operator="OR">'
           '<Condition Key="A.Points" Operator="GreaterThan"><Value>100</Value></Condition>'
           '<ConditionSet Operator="AND">'
           '<Condition Key="A.Tier" Operator="Equal"><Value>Gold</Value></Condition>'
           '<Condition Key="A.Phone" Operator="IsNotNull"><Value></Value></Condition>'
           '</ConditionSet></ConditionSet></FilterDefinition>')
    tr = translate_filter(xml)
    assert tr.condition == "Points > 100 or (Tier == 'Gold' and Phone != null)"
    assert tr.fields == ("Points", "Tier", "Phone")


@pytest.mark.parametrize("xml, problem", [
    (cond("BeginsWith", "x"), "operator 'BeginsWith' on Event.APIEvent-t.Tier has no equivalent"),
    ('<FilterDefinition><ConditionSet Operator="AND"><Condition ID="abc" Operator="IsNotNull"><Value/>'
     '</Condition></ConditionSet></FilterDefinition>', "names its attribute only by ID (abc)"),
    ("<FilterDefinition><ConditionSet", "not well-formed XML"),
    ('<FilterDefinition><ConditionSet Operator="AND"></ConditionSet></FilterDefinition>', "empty ConditionSet"),
])
def test_untranslatable_filters_say_why(xml, problem):
    tr = translate_filter(xml)
    assert tr.condition is None and problem in "; ".join(tr.problems)


def test_field_names():
    assert field_name("Event.DEAudience-1.Loyalty Tier") == "Loyalty_Tier"
    assert field_name("2ndVisit") == "f_2ndVisit"
    assert field_name('Contact.Attribute."Email Addresses"."Email Address"') == "Email_Address"


def test_decision_split_becomes_a_branch_with_an_explicit_unmapped_arm():
    """Outcomes in order; the outcome without criteria is the default (else); an untranslatable
    one stays as a `when: 'false'` arm with the XML verbatim above it."""
    crit = {"a": cond("Equal", "Gold"), "b": cond("EndsWith", "@x.example", key="E.Email")}
    data = interaction({"key": "MCD-1", "type": "MULTICRITERIADECISION",
                        "configurationArguments": {"criteria": crit},
                        "outcomes": [{"key": "a", "next": "EMAILV2-1", "metaData": {"label": "Gold"}},
                                     {"key": "b", "next": "EMAILV2-1"},
                                     {"key": "rest", "next": None}]},
                       act("EMAILV2-1", "EMAILV2"))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "MCD-1", "branch": [
        {"when": "Tier == 'Gold'", "goto": "EMAILV2-1"},
        {"when": "false", "goto": "EMAILV2-1"},
        {"else": "end"}]}
    assert "# outcome a 'Gold'" in text
    assert "# NOT MAPPED: outcome b: its criteria could not be translated" in text
    assert '# verbatim: <FilterDefinition><ConditionSet Operator="AND" ConditionSetName="Individual Filter ' \
           'Grouping"><Condition Key="E.Email" Operator="EndsWith">' in text
    assert notes(data) == [
        "activities[0].configurationArguments.criteria.a: reads Journey Data (Event.APIEvent-t.Tier), the values as "
        "they were when the contact entered (https://help.salesforce.com/s/articleView?id=mktg.mc_jb_journey_contact_"
        "data.htm&language=en_US&type=5); the scenario reads the current value at reads_from; the format has one "
        "data source per journey (journey_data) and this journey's other branches read live values, so this one "
        "does too",   # outcome b reads E.Email, Contact Data: the journey stays journey_data: live
        "activities[0].configurationArguments.criteria.b: criteria of outcome 'b' not translated"]
    # the field read gets a generated attribute that makes each compared value possible
    assert doc["population"]["attributes"] == {"Tier": {"choice": {"Gold": 0.5, "other": 0.5}}}


# -- random and engagement splits ------------------------------------------------------------------
def test_random_split_keeps_percentages_and_ends():
    data = interaction({"key": "Random-Split-1", "type": "randomSplit", "outcomes": [
        {"next": "send-sms", "arguments": {"percentage": 90}}, {"next": None, "arguments": {"percentage": 10}}]},
        act("send-sms", "SMSSYNC"))
    assert steps(data)[0] == {"id": "Random-Split-1", "split": {"send-sms": 90, "end": 10}}


def test_random_split_percentages_must_add_to_100():
    data = interaction({"key": "R", "type": "RANDOMSPLIT", "outcomes": [
        {"next": None, "arguments": {"percentage": 60}}, {"next": None, "arguments": {"percentage": 30}}]})
    with pytest.raises(ImportInputError, match=r"activities\[0\]\.outcomes: random-split percentages add up to 90"):
        import_sfmc(data, "t.json")


@pytest.mark.parametrize("stat, arm, mapped", [
    (2, {"when": "has_event('email_opened')", "goto": "EMAILV2-2"}, True),
    (3, {"when": "has_event('email_clicked')", "goto": "EMAILV2-2"}, True),
    (6, {"when": "false", "goto": "EMAILV2-2"}, False),   # bounces are not events in the format
])
def test_engagement_split(stat, arm, mapped):
    data = interaction(act("EMAILV2-1", "EMAILV2", "ENG-1"),
                       {"key": "ENG-1", "type": "EngagementDecision",
                        "outcomes": [{"key": "y", "next": "EMAILV2-2", "arguments": {"when": True}},
                                     {"key": "n", "next": None, "arguments": {"when": False}}],
                        "configurationArguments": {"refActivityCustomerKey": "EMAILV2-1", "statsTypeId": stat}},
                       act("EMAILV2-2", "EMAILV2"))
    assert steps(data)[1] == {"id": "ENG-1", "branch": [arm, {"else": "end"}]}
    (note,) = [n for n in notes(data) if "ENG" in n or "statsTypeId" in n]
    assert ("counts any email this customer" in note) == mapped


# -- updates, unmodelled activities ----------------------------------------------------------------
@pytest.mark.parametrize("type_", ["DATAEXTENSIONUPDATE", "UPDATECONTACTDATA"])
def test_contact_update_writes_at_the_cdp(type_):
    data = interaction(act("U-1", type_, arguments={"value": "sent"},
                           configurationArguments={"dataExtensionId": "x", "field": "Sms Status"}))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"] == [{"id": "U-1", "update": {"Sms_Status": "sent"}, "at": "cdp", "next": "end"}]
    assert "# field 'Sms Status' written as 'Sms_Status'" in text


def test_contact_update_without_the_documented_shape_is_a_reported_pass_through():
    data = interaction(act("U-1", "UPDATECONTACTDATA", configurationArguments={}))
    assert steps(data) == [{"id": "U-1", "split": {"end": 100}}]
    assert notes(data) == ["activities[0]: UPDATECONTACTDATA without the documented configurationArguments.field and "
                           "arguments.value 'U-1' is not modelled: everyone passes straight through"]


@pytest.mark.parametrize("type_, kind", [
    ("STOWAIT", "Einstein send-time optimisation"),
    ("EINSTEINSTO", "Einstein send-time optimisation"),
    ("REST", "custom REST activity"),
])
def test_single_outcome_unmodelled_activities_pass_everyone_through(type_, kind):
    data = interaction(act("X-1", type_, "EMAILV2-1", arguments={"execute": {"url": "https://h.example/x"}}),
                       act("EMAILV2-1", "EMAILV2"))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "X-1", "split": {"EMAILV2-1": 100}}
    (note,) = notes(data)
    assert note.startswith(f"activities[0]: {kind}") and note.endswith("everyone passes straight through")
    assert ("# calls https://h.example/x" in text) == (type_ == "REST")


def test_custom_split_keeps_every_outcome_with_placeholder_shares():
    """Three outcomes: 100 = 34 + 33 + 33 (the first takes the remainder)."""
    data = interaction({"key": "RD-1", "type": "RESTDECISION", "outcomes": [
        {"key": "hi", "next": "EMAILV2-1", "arguments": {"branchResult": "hi"}},
        {"key": "mid", "next": "SMSSYNC-1"}, {"key": "lo", "next": None}]},
        act("EMAILV2-1", "EMAILV2"), act("SMSSYNC-1", "SMSSYNC"))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "RD-1", "split": {"EMAILV2-1": 34, "SMSSYNC-1": 33, "end": 33}}
    assert "# placeholder shares: the export does not say how customers divide here; edit them" in text


def test_unknown_activity_type_is_kept_with_a_did_you_mean():
    data = interaction(act("E-1", "EMAILV3", None))
    assert steps(data) == [{"id": "E-1", "split": {"end": 100}}]
    assert notes(data) == ["activities[0]: activity type 'EMAILV3' (did you mean 'EMAILV2'?) 'E-1' is not modelled: "
                           "everyone passes straight through"]


# -- journey level -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mode, expected, noted", [
    ("SingleEntryAcrossAllVersions", False, False),
    ("OnceAndDone", False, False),
    ("MultipleEntries", True, True),       # several instances at once: journeysim runs one at a time, reported
    ("NoMultipleEntries", True, False),    # re-entry only after exiting: exactly what re_entry: true does
    ("MultipleEntrees", False, True),      # unknown: did-you-mean, re-entry off
])
def test_entry_mode(mode, expected, noted):
    data = interaction(act("W", "WAIT", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}),
                       entryMode=mode)
    assert imported(data)[2]["journeys"][0]["re_entry"] is expected
    assert any(n.startswith("entryMode:") for n in notes(data)) == noted
    if mode == "MultipleEntrees":
        assert "did you mean 'MultipleEntries'?" in notes(data)[0]


@pytest.mark.parametrize("trigger, entry, note", [
    ({"type": "APIEvent", "metaData": {"eventDefinitionKey": "APIEvent-x"}}, {"event": "APIEvent-x"}, None),
    ({"type": "Event", "metaData": {"eventDefinitionKey": "ContactEvent-y"},
      "configurationArguments": {"criteria": cond("Equal", "FR", key="C.Country")}},
     {"event": "ContactEvent-y"}, "the entry filter is not applied"),
    ({"type": "EmailAudience", "metaData": {"eventDefinitionKey": "DEAudience-n"}},
     {"segment": "in_deaudience_n", "every": "1d"}, "who is in the audience is not in the export"),
    ({"type": "AutomationAudience", "key": "AutomationAud-w"},
     {"segment": "in_automationaud_w", "every": "1d"}, "generated flag 'in_automationaud_w'"),
    ({"type": "Transactional", "metaData": {"eventDefinitionKey": "T-1"}}, {"event": "T-1"},
     "transactional category"),
    ({"type": "ApiEvnt", "key": "K"}, {"event": "K"}, "unknown trigger type 'ApiEvnt' (did you mean 'APIEVENT'?)"),
])
def test_triggers_become_entries(trigger, entry, note):
    data = interaction(act("EMAILV2-1", "EMAILV2"), trigger={"key": "TRIGGER", **trigger})
    _, _, doc = imported(data)
    assert doc["journeys"][0]["entry"] == entry
    found = notes(data)
    assert (any(note in n for n in found) if note else found == [])


def test_exit_criteria_become_exit_when_checked_after_waits():
    """Salesforce: contacts meeting exit criteria are removed "upon leaving a wait activity"."""
    data = interaction(act("W", "WAIT", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}),
                       exits=[{"key": "x1", "configurationArguments": {"criteria": cond("Equal", "Unsub", "C.Status")}},
                              {"key": "x2", "criteria": cond("Is", "true", "C.HasPurchased")},
                              {"key": "x3", "criteria": cond("BeginsWith", "z", "C.Zip")}])
    _, text, doc = imported(data)
    # the sfmc preset supplies check: after_waits, so the file leaves it out and names the platform
    assert doc["platform"] == "sfmc"
    assert doc["journeys"][0]["exit_when"] == {"when": "(Status == 'Unsub') or (HasPurchased == true)"}
    assert "    # check: after_waits comes from platform sfmc" in text
    assert load_scenario_text(text, "t.yaml").journeys[0].exit_when.check == "after_waits"
    assert EXIT_CRITERIA_URL in text
    assert notes(data) == ["exits[2].criteria: exit criteria not translated (operator 'BeginsWith' on C.Zip has no "
                           "equivalent in the condition language): nobody exits early"]


def test_goals_are_comments_and_reported():
    data = interaction(act("W", "WAIT", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}),
                       goals=[{"key": "g", "name": "Bought", "configurationArguments": {
                           "criteria": cond("Is", "true", "C.HasPurchased")}}])
    _, text, _ = imported(data)
    assert "    # goal 'Bought' (goals[0]): HasPurchased == true" in text
    assert notes(data) == ["goals[0]: goal 'Bought' is not simulated (the scenario format has no conversion goals); "
                           "it is kept as a comment"]


def test_unreachable_activity_is_reported_not_silently_dropped():
    data = interaction(act("A", "EMAILV2"), act("B", "SMSSYNC"))
    assert [s["id"] for s in steps(data)] == ["A"]
    assert notes(data) == ["activities[1]: activity 'B' cannot be reached from the start activity 'A': left out"]


def test_invalid_keys_are_renamed_and_said():
    data = interaction(act("wait one", "WAIT", "end", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}),
                       act("end", "EMAILV2"))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"] == [{"id": "wait-one", "wait": "1d", "next": "end-activity"},
                                           {"id": "end-activity", "send": "end-activity", "next": "end"}]
    assert "# SFMC key 'wait one' is not a valid step id: renamed 'wait-one'" in text


# -- the writer on IR kinds the SFMC importer does not produce ---------------------------------------
def _ir_journey(*nodes: ir.Node, entry: ir.Entry | None = None) -> ir.ImportedJourney:
    return ir.ImportedJourney("j", "j", "$", entry or ir.Entry("event", "e", event="signup"), list(nodes))


def test_writer_handles_every_ir_kind():
    """Each IR node the format can express becomes its step; the others are reported pass-throughs."""
    j = _ir_journey(
        ir.WaitUntilEvent("we", "n0", event="purchase", timeout=86400.0, then="ex", on_timeout="ww"),
        ir.WaitUntilWindow("ww", "n1", next="wd", start="09:00", end="17:00", zone="Europe/Paris", days=("mon",)),
        ir.WaitUntilDate("wd", "n2", next="wc", attribute="renewal_date", offset=-86400.0),
        ir.WaitUntilCondition("wc", "n3", condition="x == 1", timeout=3600.0, then="xp", on_timeout="ev"),
        ir.Experiment("xp", "n4", weights=[("a", "ev", 50.0), ("b", "ev", 50.0)], metric="clicks"),
        ir.EmitEvent("ev", "n5", next="ln", event="reminded"),
        ir.Link("ln", "n6", next="rl", journey="other"),
        ir.RateLimit("rl", "n7", next="ex", limit=100, per_seconds=3600.0),
        ir.Exit("ex", "n8", reason="done"),
        entry=ir.Entry("schedule", "e", condition="true", at="2026-01-06T09:00:00Z"))
    text = write_scenario([j], source="x", fmt="test")
    sc = load_scenario_text(text, "x.yaml")
    got = yaml.safe_load(text)["journeys"][0]
    assert got["entry"] == {"at": "2026-01-06T09:00:00Z", "segment": "true"}
    assert got["steps"] == [
        {"id": "we", "wait_until": {"event": "purchase", "timeout": "1d", "then": "ex", "on_timeout": "ww"}},
        {"id": "ww", "wait_window": {"from": "09:00", "to": "17:00", "days": ["mon"], "zone": "Europe/Paris"},
         "next": "wd"},
        {"id": "wd", "split": {"wc": 100}},
        {"id": "wc", "split": {"xp": 50, "ev": 50}},
        {"id": "xp", "split": {"ev": 100}},     # both variants lead to ev: 50 + 50
        {"id": "ev", "split": {"ln": 100}},
        {"id": "ln", "split": {"rl": 100}},
        {"id": "rl", "split": {"ex": 100}},
        {"id": "ex", "split": {"end": 100}},
    ]
    assert [u.path for u in j.all_unmapped()] == ["n2", "n3", "n4", "n5", "n6", "n7"]
    assert "# NOT MAPPED: wait until the date in 'renewal_date' - 86400s is not modelled" in text
    assert "# NOT MAPPED: the experiment's winner selection (clicks) is not simulated" in text
    assert "# exit: done: the customer leaves here" in text
    assert [e.name for e in sc.population.events] == ["purchase"]  # a scheduled entry needs no event


@given(st.integers(min_value=0, max_value=400 * 86400))
def test_format_duration_round_trips(seconds):
    assert parse_duration(format_duration(seconds)) == seconds


# -- realistic inputs end to end --------------------------------------------------------------------
def _source_graph(item: dict) -> tuple[set[tuple[str, str]], dict[str, float]]:
    """The activity graph read straight from the JSON (independently of the importer)."""
    units = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "months": 30 * 86400}
    edges, waits = set(), {}
    for a in item["activities"]:
        for o in a.get("outcomes", []):
            edges.add((a["key"], o.get("next") or "end"))
        if a["type"].upper() in ("WAIT", "WAITBYDURATION"):
            c = a["configurationArguments"]
            waits[a["key"]] = float(c["waitDuration"]) * units[c["waitUnit"].lower()]
    return edges, waits


def _scenario_graph(journey) -> tuple[set[tuple[str, str]], dict[str, float]]:
    edges = {(s.id, t) for i, s in enumerate(journey.steps) for t in step_successors(journey, i)}
    return edges, {s.id: s.wait for s in journey.steps if s.wait is not None}


@pytest.mark.parametrize("name", GOOD)
def test_realistic_inputs_import_validate_run_and_keep_the_graph(name, tmp_path):
    """import -> validate -> run 300 customers; the step ids, edges and wait durations equal the source's."""
    out = tmp_path / f"{name}.yaml"
    r = invoke("import", "sfmc", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert invoke("validate", str(out)).exit_code == 0
    src = json.loads((DATA / f"{name}.json").read_text())
    items = src["items"] if "items" in src else [src]
    sc = load_scenario(out)
    assert len(sc.journeys) == len(items)
    journeys = import_sfmc(src, "t.json")
    for item, journey, imp in zip(items, sc.journeys, journeys):
        assert _scenario_graph(journey) == _source_graph(item)
        assert set(imp.edges()) == _source_graph(item)[0]
    assert GENERATED in out.read_text()
    run = invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output   # 1 only if a default gate (error finding) fails
    events = read_events(tmp_path / "run", columns=["kind", "journey"])
    assert set(events["journey"].dropna()) == {j.name for j in sc.journeys}


def test_multistep_run_times_follow_the_imported_waits(tmp_path):
    """Cart Recovery: entry -> wait 1h -> email -> wait 2d -> decision. For every instance the first
    email step comes exactly 3600 s after entry and the decision 3600 + 172800 = 176400 s after it
    (customers who met the exit criteria leave at the end of a wait and never reach them)."""
    out = tmp_path / "cart.yaml"
    assert invoke("import", "sfmc", str(DATA / "multistep_decision.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "customer", "kind", "step"])
    entered = ev[ev["kind"] == "entry"].groupby("customer")["t"].min()
    steps_ = ev[ev["kind"] == "step"]
    for step, after in (("EMAILV2-1", 3600.0), ("MULTICRITERIADECISION-1", 176400.0)):
        reached = steps_[steps_["step"] == step].groupby("customer")["t"].min()
        assert len(reached) > 10
        assert ((reached - entered[reached.index]).round(6) == after).all(), step


def test_the_import_command_prints_what_it_mapped_and_what_it_did_not(tmp_path):
    out = tmp_path / "s.yaml"
    r = invoke("import", "sfmc", str(DATA / "engagement_split.json"), "-o", str(out))
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert lines[0] == f"imported sfmc {DATA / 'engagement_split.json'} -> {out}: 1 journey, 7 steps"
    assert "  WAIT-1                       Wait                     wait 3d -> ENGAGEMENTDECISION-1" in lines
    assert ("  ENGAGEMENTDECISION-1         EngagementDecision       branch: has_event('email_opened') -> "
            "EMAILV2-2; else -> RANDOMSPLIT-1") in lines
    assert "NOT MAPPED (3): each is also a '# NOT MAPPED:' comment in " + str(out) in lines
    assert "  triggers[0].configurationArguments.criteria: the entry filter is not applied: every customer the " \
           "entry source brings in enters" in lines


def test_a_collection_becomes_one_scenario_with_a_journey_per_item():
    journeys, text, doc = imported(json.loads((DATA / "collection.json").read_text()))
    assert [j["name"] for j in doc["journeys"]] == ["monthly-newsletter", "order-shipped-sms"]
    # item 1 is MultipleEntries: runs may overlap in SFMC, one at a time in journeysim (reported)
    assert [u.path for j in journeys for u in j.all_unmapped()] == ["items[0].triggers[0]", "items[1].entryMode"]


# -- bad input -------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("bad_syntax", "bad_syntax.json:5:1: not valid JSON: Expecting value; the file must be a Journey Builder "
                   "interaction"),
    ("bad_shape", "bad_shape.json: not an SFMC journey: got a list; the file must be"),
    ("bad_next", "bad_next.json: activities[0].outcomes[0].next: points to activity 'DATAEXTENSIONUPDATE-2', which "
                 "is not in activities; did you mean 'DATAEXTENSIONUPDATE-1'?"),
    ("bad_wait_unit", "bad_wait_unit.json: activities[2].configurationArguments.waitUnit: unknown waitUnit 'DAYZ'; "
                      "did you mean 'DAYS'?"),
])
def test_malformed_exports_exit_2_with_path_and_fix(name, message, tmp_path):
    out = tmp_path / "x.yaml"
    r = invoke("import", "sfmc", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert not out.exists()


@pytest.mark.parametrize("data, message", [
    ({"key": "k", "name": "n", "activities": [act("A", "EMAILV2")]}, "triggers: expected a list, got missing"),
    ({"key": "k", "triggers": [], "activities": []}, "triggers: no triggers"),
    (interaction(), "activities: no activities"),
    (interaction({"type": "WAIT", "outcomes": []}), "activities[0].key: expected a string, got missing"),
    (interaction(act("A", "WAIT")), "activities[0].configurationArguments.waitDuration: a wait needs waitDuration"),
    (interaction(act("A", "WAIT", configurationArguments={"waitDuration": "soon"})),
     "expected a number of units, got 'soon'"),
    (interaction(act("A", "EMAILV2"), act("A", "SMSSYNC")), "activities[1].key: duplicate activity key 'A'"),
    (interaction({"key": "R", "type": "RANDOMSPLIT", "outcomes": [{"next": None, "arguments": {}}]}),
     "activities[0].outcomes[0].arguments.percentage: expected a number, got missing"),
    (interaction({"key": "E", "type": "ENGAGEMENTDECISION", "outcomes": [{"next": None, "arguments": {"when": "x"}}]}),
     "activities[0].outcomes[0].arguments.when: expected true or false, got \"x\""),
    ({"count": 0, "page": 1, "pageSize": 50, "items": []}, "items: the collection has no journeys"),
    ({"items": [interaction(act("A", "EMAILV2")), 7]}, "items[1]: expected an object, got int 7"),
])
def test_wrong_shapes_name_the_json_path(data, message):
    with pytest.raises(ImportInputError) as exc:
        import_sfmc(data, "t.json")
    assert message in str(exc.value)


def test_unknown_format_exits_2_with_did_you_mean(tmp_path):
    r = invoke("import", "sfcm", str(DATA / "single_send.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "unknown format 'sfcm'; did you mean 'sfmc'? known formats: sfmc" in r.output


def test_missing_file_exits_2(tmp_path):
    r = invoke("import", "sfmc", str(tmp_path / "nope.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "nope.json: no such file" in r.output


def test_refuses_to_overwrite_unless_asked(tmp_path):
    out = tmp_path / "x.yaml"
    out.write_text("keep me")
    r = invoke("import", "sfmc", str(DATA / "single_send.json"), "-o", str(out))
    assert r.exit_code == 2 and "exists; add --overwrite" in r.output and out.read_text() == "keep me"
    assert invoke("import", "sfmc", str(DATA / "single_send.json"), "-o", str(out), "--overwrite").exit_code == 0
    assert out.read_text().startswith("# Imported from a sfmc export (single_send.json)")


def test_test_inputs_are_ours():
    """Every input says it was written for these tests from Salesforce's pages (not a customer export)."""
    for path in DATA.glob("*.json"):
        text = path.read_text()
        if path.stem.startswith("bad_") or path.stem == "collection":
            continue
        assert "Written for journeysim's tests" in json.loads(text)["description"], path


def test_the_command_is_registered_on_the_journeysim_group():
    from simulator.importers.cli import import_command
    assert cli.commands["import"] is import_command


def test_scenario_file_round_trip_is_stable(tmp_path):
    """Importing the same export twice gives byte-identical YAML (deterministic output)."""
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    for out in (a, b):
        assert invoke("import", "sfmc", str(DATA / "multistep_decision.json"), "-o", str(out)).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_the_docs_example_output_is_what_the_command_prints(tmp_path, monkeypatch):
    """docs/import.md shows the command's output for engagement_split.json; it must not drift."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "welcome.yaml"
    r = invoke("import", "sfmc", "tests/data/import/sfmc/engagement_split.json", "-o", str(out))
    doc = (ROOT / "docs" / "import.md").read_text()
    shown = r.output.replace(str(out), "welcome.yaml").splitlines()[:-1]   # the last line is advice
    assert len(shown) == 13 and "\n".join("   " + line for line in shown) in doc


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20),
       st.sampled_from(["Equal", "NotEqual", "Contains", "NotContains"]))
def test_any_value_translates_to_a_valid_condition(value, op):
    """Whatever the value (quotes, unicode, digits), a translated operator yields a condition that
    compiles and compares the field with exactly that literal."""
    from simulator.scenario.conditions import compile_condition
    xml = cond(op, value.replace("]]>", "")).replace("<![CDATA[", "<![CDATA[")
    tr = translate_filter(xml)
    if tr.condition is None:   # CDATA cannot hold every string; those are reported, never mangled
        assert tr.problems
        return
    compile_condition(tr.condition)
    assert tr.fields == ("Tier",)


def test_a_loop_in_the_export_is_an_error():
    data = interaction(act("A", "WAIT", "B", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}),
                       act("B", "EMAILV2", "A"))
    with pytest.raises(ImportInputError, match=r"activities\[1\]\.outcomes: the activities form a loop \(A -> B -> A\)"):
        import_sfmc(data, "t.json")


def test_two_items_with_one_name_get_distinct_journey_and_message_names():
    one = interaction(act("EMAILV2-1", "EMAILV2"))
    _, _, doc = imported({"count": 2, "page": 1, "pageSize": 50, "items": [one, one]})
    assert [j["name"] for j in doc["journeys"]] == ["t-journey", "t-journey-2"]
    assert list(doc["messages"]) == ["EMAILV2-1", "t-journey-2.EMAILV2-1"]
    assert doc["journeys"][1]["steps"] == [{"id": "EMAILV2-1", "send": "t-journey-2.EMAILV2-1", "next": "end"}]


def test_an_unwritable_output_exits_2(tmp_path):
    r = invoke("import", "sfmc", str(DATA / "single_send.json"), "-o", str(tmp_path / "no" / "such" / "x.yaml"))
    assert r.exit_code == 2 and "cannot write" in r.output and "Traceback" not in r.output


def test_writer_merges_exit_conditions_and_reports_what_does_not_fit():
    """Two conditions join with 'or'; exit_when holds one event and one check, so the second event
    and the differing check are reported (and commented above exit_when)."""
    j = _ir_journey(ir.Wait("w", "n0", seconds=60.0))
    j.exit_conditions = [ir.ExitCondition("x0", event="purchase", check="after_waits"),
                         ir.ExitCondition("x1", condition="a == 1", check="after_waits"),
                         ir.ExitCondition("x2", event="refund", condition="b == 2", check="continuous")]
    text = write_scenario([j], source="x", fmt="test")
    load_scenario_text(text, "x.yaml")
    assert yaml.safe_load(text)["journeys"][0]["exit_when"] == {
        "event": "purchase", "when": "(a == 1) or (b == 2)", "check": "after_waits"}
    assert [u.line() for u in j.all_unmapped()] == [
        "x2: exit event 'refund' is not simulated: exit_when holds one event ('purchase')",
        "x2: exit check 'continuous' replaced by 'after_waits': exit_when has one check"]
    assert "    # NOT MAPPED: exit event 'refund' is not simulated" in text


def test_journey_level_notes_sit_next_to_their_keys():
    data = json.loads((DATA / "engagement_split.json").read_text())
    data["entryMode"] = "MultipleEntries"  # lossy: SFMC lets runs overlap, journeysim runs one at a time
    data["exits"] = [{"key": "x", "criteria": cond("BeginsWith", "z", "C.Zip")}]
    _, text, _ = imported(data)
    lines = text.splitlines()
    at = {k: next(i for i, l in enumerate(lines) if l.strip().startswith(k)) for k in ("re_entry:", "entry:", "steps:")}
    assert "NOT MAPPED: entryMode MultipleEntries: re-entry at any time lets runs overlap" in lines[at["re_entry:"] - 1]
    assert "NOT MAPPED: the entry filter is not applied" in lines[at["entry:"] - 2]
    assert "NOT MAPPED: exit criteria not translated" in lines[at["steps:"] - 2]


@given(st.data())
def test_any_mutation_of_a_real_export_imports_or_fails_cleanly(data):
    """Replace any one value of a realistic export by arbitrary JSON: the importer either produces a
    scenario that validates, or raises ImportInputError (exit 2 with a path); nothing else."""
    mutate_and_import(data, DATA, GOOD, import_sfmc, "sfmc")


def test_a_writer_bug_is_reported_not_written(tmp_path, monkeypatch):
    """If the generated text ever failed validation, the command exits 2, writes nothing at -o and
    keeps the text next to it as .invalid for the bug report."""
    import simulator.importers.cli as icli
    monkeypatch.setattr(icli, "import_file", lambda fmt, path: ([], "scenario: x\n"))
    out = tmp_path / "x.yaml"
    r = invoke("import", "sfmc", str(DATA / "single_send.json"), "-o", str(out))
    assert r.exit_code == 2 and "does not validate (a journeysim bug" in r.output
    assert not out.exists() and (tmp_path / "x.yaml.invalid").read_text() == "scenario: x\n"


@pytest.mark.parametrize("name, key, expected", [
    ("Cart Recovery (EU) v2!", "k", "cart-recovery-eu-v2"),
    ("장바구니 리마인드", "cart-kr", "cart-kr"),     # nothing ASCII in the display name: the key
    ("장바구니", "", "imported"),
])
def test_journey_names_come_from_the_display_name(name, key, expected):
    data = interaction(act("EMAILV2-1", "EMAILV2"), name=name, key=key)
    _, _, doc = imported(data)
    assert doc["journeys"][0]["name"] == expected and doc["journeys"][0]["description"] == name


def test_contact_data_criteria_are_not_flagged_as_journey_data():
    """Only Event.<key>.<field> attributes are Journey Data (the entry snapshot); Contact Data keys
    are read live in Journey Builder as in the scenario, so they get no note."""
    data = interaction({"key": "MCD-1", "type": "MULTICRITERIADECISION",
                        "configurationArguments": {"criteria": {"a": cond("Equal", "Gold", key="Contact.Attribute.P.Tier")}},
                        "outcomes": [{"key": "a", "next": None}, {"key": "rest", "next": None}]})
    assert notes(data) == []
    assert translate_filter(cond("Equal", "x")).snapshot == ("Event.APIEvent-t.Tier",)


# -- platform preset ---------------------------------------------------------------------------------
def test_writer_keeps_check_explicit_where_it_differs_from_the_preset_or_there_is_no_platform():
    """The sfmc preset sets exit_when.check: after_waits. A journey whose importer says 'continuous'
    keeps check: continuous in the file (the scenario's own key wins over the preset); a journey with
    no platform keeps its check explicit; journeys naming different platforms get no platform line."""
    j = _ir_journey(ir.Wait("w", "n0", seconds=60.0))
    j.platform = "sfmc"
    j.exit_conditions = [ir.ExitCondition("x0", condition="a == 1", check="continuous")]
    doc = yaml.safe_load(write_scenario([j], source="x", fmt="test"))
    assert doc["platform"] == "sfmc" and doc["journeys"][0]["exit_when"] == {"when": "a == 1", "check": "continuous"}
    j.platform = None
    j.exit_conditions = [ir.ExitCondition("x0", condition="a == 1", check="after_waits")]
    doc = yaml.safe_load(write_scenario([j], source="x", fmt="test"))
    assert "platform" not in doc and doc["journeys"][0]["exit_when"] == {"when": "a == 1", "check": "after_waits"}


def test_validate_explain_on_an_imported_sfmc_file_lists_the_preset_value(tmp_path):
    out = tmp_path / "m.yaml"
    assert invoke("import", "sfmc", str(DATA / "multistep_decision.json"), "-o", str(out)).exit_code == 0
    text = out.read_text()
    assert "\nplatform: sfmc" in text and "check:" not in text.split("exit_when:")[1].split("\n")[0]
    r = invoke("validate", "--explain", str(out))
    assert r.exit_code == 0, r.output
    assert "platform sfmc, Salesforce Marketing Cloud Journey Builder: 1 value set by the preset" in r.output
    assert "set      journeys[cart-recovery].exit_when.check = after_waits   (preset sfmc)" in r.output


# -- Journey Data and journey_data: entry ---------------------------------------------------------------
JD_URL = "https://help.salesforce.com/s/articleView?id=mktg.mc_jb_journey_contact_data.htm&language=en_US&type=5"


def _decision(key: str, crit: dict[str, str], nxt: str | None = None) -> dict:
    return {"key": key, "type": "MULTICRITERIADECISION", "configurationArguments": {"criteria": crit},
            "outcomes": [*({"key": k, "next": nxt} for k in crit), {"key": f"{key}-rest", "next": nxt}]}


def test_every_split_on_journey_data_makes_the_journey_read_the_entry_snapshot():
    """Two splits, both on Event.APIEvent-t.* keys (one untranslatable: BeginsWith, still Journey Data):
    journey_data: entry, the fields are the keys without the Event.APIEvent-t. prefix, the mapping is a
    comment above the key, and no arm is reported any more (only the untranslated criteria)."""
    data = interaction(_decision("MCD-1", {"a": cond("Equal", "Gold"),
                                           "b": cond("BeginsWith", "x", key="Event.APIEvent-t.Zip")}, "MCD-2"),
                       _decision("MCD-2", {"c": cond("GreaterThan", "100", key="Event.APIEvent-t.Points")}))
    journeys, text, doc = imported(data)
    assert journeys[0].journey_data == "entry"
    assert doc["journeys"][0]["journey_data"] == "entry"
    assert load_scenario_text(text, "t.yaml").journeys[0].journey_data == "entry"
    assert ("    reads_from: cdp   # generated default: edit to match your stack\n"
            "    # journey_data: entry because every decision split reads Journey Data, the contact's values when it "
            f"entered ({JD_URL}): branches read a snapshot of reads_from taken at entry. Fields: Event.APIEvent-t.Tier "
            "-> Tier, Event.APIEvent-t.Zip -> Zip, Event.APIEvent-t.Points -> Points. Exit criteria read live "
            "(Contact Data)\n    journey_data: entry\n") in text
    assert [s["branch"][0] for s in doc["journeys"][0]["steps"]] == [
        {"when": "Tier == 'Gold'", "goto": "MCD-2"}, {"when": "Points > 100", "goto": "end"}]
    assert notes(data) == ["activities[0].configurationArguments.criteria.b: criteria of outcome 'b' not translated"]


def test_a_journey_mixing_journey_and_contact_data_splits_stays_live_and_reports_the_journey_data_ones():
    """Split 1 reads Event.APIEvent-t.Tier (Journey Data), split 2 Contact.Attribute.P.Status (Contact
    Data): the format has one data source per journey, so journey_data: live is written with why; both
    arms are translated; only the Journey Data one is reported."""
    data = interaction(_decision("MCD-1", {"a": cond("Equal", "Gold")}, "MCD-2"),
                       _decision("MCD-2", {"c": cond("Equal", "Active", key="Contact.Attribute.P.Status")}))
    journeys, text, doc = imported(data)
    assert journeys[0].journey_data == "live" and doc["journeys"][0]["journey_data"] == "live"
    assert ("    # journey_data: live: the scenario format has one data source per journey and not every branch "
            "reads Journey Data (activities[1].configurationArguments.criteria.c reads Contact Data); the Journey "
            "Data reads are reported\n    journey_data: live\n") in text
    assert [s["branch"][0] for s in doc["journeys"][0]["steps"]] == [
        {"when": "Tier == 'Gold'", "goto": "MCD-2"}, {"when": "Status == 'Active'", "goto": "end"}]
    assert notes(data) == [
        "activities[0].configurationArguments.criteria.a: reads Journey Data (Event.APIEvent-t.Tier), the values as "
        f"they were when the contact entered ({JD_URL}); the scenario reads the current value at reads_from; the "
        "format has one data source per journey (journey_data) and this journey's other branches read live values, "
        "so this one does too"]
    # the note sits above the split it is about
    assert ("      # NOT MAPPED: reads Journey Data (Event.APIEvent-t.Tier), the values as they were when the contact "
            f"entered ({JD_URL}); the scenario reads the current value at reads_from; the format has one data source "
            "per journey (journey_data) and this journey's other branches read live values, so this one does too "
            "(activities[0].configurationArguments.criteria.a)\n      - id: MCD-1\n") in text


@pytest.mark.parametrize("other, why", [
    # one filter with a Journey Data and a Contact Data condition: neither source alone
    (_decision("MCD-2", {"c": cond("Equal", "A", key="Event.APIEvent-t.X").replace(
        "</ConditionSet>", '<Condition Key="Contact.Attribute.P.Y" Operator="IsNull"><Value/></Condition>'
                           "</ConditionSet>")}),
     "activities[1].configurationArguments.criteria.c mixes Journey and Contact Data"),
    # an engagement split reads opens live (has_event): freezing it at entry would never see an open
    ({"key": "MCD-2", "type": "ENGAGEMENTDECISION",
      "configurationArguments": {"statsTypeId": 2, "refActivityCustomerKey": "EMAILV2-1"},
      "outcomes": [{"key": "y", "next": None, "arguments": {"when": True}},
                   {"key": "n", "next": None, "arguments": {"when": False}}]},
     "activities[1].configurationArguments.statsTypeId reads email engagement (has_event) live"),
])
def test_other_live_reads_keep_a_journey_data_split_live(other, why):
    data = interaction(_decision("MCD-1", {"a": cond("Equal", "Gold")}, "MCD-2"), other)
    journeys, text, _ = imported(data)
    assert journeys[0].journey_data == "live"
    assert f"one data source per journey and not every branch reads Journey Data ({why}); the Journey" in text
    assert notes(data)[0].startswith("activities[0].configurationArguments.criteria.a: reads Journey Data "
                                     "(Event.APIEvent-t.Tier)")


def test_journeys_without_journey_data_splits_write_no_journey_data_key():
    """Contact Data splits only, or no split: nothing to say, the default (live) is left implicit."""
    for data in (interaction(_decision("MCD-1", {"a": cond("Equal", "G", key="Contact.Attribute.P.Tier")})),
                 interaction(act("EMAILV2-1", "EMAILV2"))):
        journeys, text, _ = imported(data)
        assert journeys[0].journey_data == "live" and "journey_data" not in text


def test_journey_data_split_runs_on_the_entry_snapshot_and_names_the_freeze(tmp_path):
    """journey_data_split.json: entry (API event) -> update Tier = 'Gold' at the cdp -> wait 1h -> split on
    Event.APIEvent-tier-review.Tier == 'Gold' -> EMAILV2-1, else EMAILV2-2. Tier is generated Gold/other.

    By hand, for every instance entering at T: the update makes truth and the cdp Gold at T (v1), after the
    snapshot (taken at entry, v0). The split at T + 3600 s reads the snapshot: a contact that entered
    'other' takes the else arm (EMAILV2-2) and gets one stale-branch finding (replica 'other' v0, truth
    'Gold' v1, no link, root cause the freeze, the cdp had Gold: live would have read it); a contact that
    entered Gold takes EMAILV2-1 and gets none (no value differs). With journey_data: live every contact
    reads Gold at the cdp: all EMAILV2-1, no stale-branch."""
    out = tmp_path / "tier.yaml"
    assert invoke("import", "sfmc", str(DATA / "journey_data_split.json"), "-o", str(out)).exit_code == 0
    assert invoke("validate", str(out)).exit_code == 0
    assert "\n    journey_data: entry\n" in out.read_text()
    r = invoke("run", str(out), "--customers", "200", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert r.exit_code == 0, r.output   # stale-branch is a warning: the default gate passes
    ev = read_events(tmp_path / "run")
    entered = ev[ev["kind"] == "entry"].set_index("customer")["t"]
    dec = ev[(ev["kind"] == "decision") & (ev["field"] == "Tier")].set_index("customer")
    assert ((dec["t"] - entered[dec.index]).round(6) == 3600.0).all()
    assert dec["detail"].str.contains("; journey data frozen at entry ").all()
    was_other = set(dec.index[dec["value"] == "other"])
    was_gold = set(dec.index[dec["value"] == "Gold"])
    assert len(was_other) > 5 and len(was_gold) > 5 and (dec["truth_value"] == "Gold").all()
    sent = ev[ev["kind"] == "step"].set_index("customer")["step"]   # the send step each instance reached
    assert set(sent[sent == "EMAILV2-2"].index) == was_other and set(sent[sent == "EMAILV2-1"].index) == was_gold
    findings = pd.read_csv(tmp_path / "run" / "findings.csv")
    stale = findings[findings["kind"] == "stale-branch"]
    assert set(stale["customer"]) == was_other and len(stale) == len(was_other) and len(findings) == len(stale)
    for f in stale.to_dict("records"):
        assert (f["step"], f["field"], f["replica_value"], f["replica_version"], f["truth_value"],
                f["truth_version"]) == ("MULTICRITERIADECISION-1", "Tier", "other", 0, "Gold", 1)
        assert pd.isna(f["link"]) and pd.isna(f["lag_seconds"])
        assert f["root_cause"].startswith("journey data frozen at entry ")
        assert "(journey_data: entry): Tier changed in truth at " in f["root_cause"]
        assert f["root_cause"].endswith("cdp had it at the branch, so journey_data: live would have read it")
    live = tmp_path / "live.yaml"
    live.write_text(out.read_text().replace("\n    journey_data: entry\n", "\n    journey_data: live\n"))
    assert invoke("run", str(live), "--customers", "200", "--out", str(tmp_path / "live"), "--no-report",
                  "--quiet").exit_code == 0
    lev = read_events(tmp_path / "live")
    assert set(lev[lev["kind"] == "step"]["step"]) == {"DATAEXTENSIONUPDATE-1", "WAITBYDURATION-1",
                                                       "MULTICRITERIADECISION-1", "EMAILV2-1"}
    assert pd.read_csv(tmp_path / "live" / "findings.csv").empty


def test_a_collection_of_two_journeys_with_one_long_name_gets_two_names():
    """Two items named with the same 120 characters: names are cut to 100 and the second gets '-2' within
    the 100 (was a clash after the cut: the scenario did not validate)."""
    one = interaction(act("W", "WAIT", configurationArguments={"waitDuration": 1, "waitUnit": "DAYS"}))
    long = "x" * 120
    items = [dict(one, name=long, key="a"), dict(one, name=long, key="b")]
    journeys, _, doc = imported({"count": 2, "page": 1, "pageSize": 50, "items": items})
    assert [j["name"] for j in doc["journeys"]] == ["x" * 100, "x" * 98 + "-2"]
