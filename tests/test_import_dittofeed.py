"""`journeysim import dittofeed`: Dittofeed journeys (JourneyDefinition) -> scenario.

Every input here was written by hand for these tests from Dittofeed's own TypeScript types
(packages/isomorphic-lib/src/types.ts) and journey worker (packages/backend-lib/src/journeys/
userWorkflow.ts); docs/import.md has the URLs. None is a customer export. Each per-node test imports
a one- or two-node definition and compares the scenario fragment with the expected one exactly, then
checks the whole output validates. The hand-derived values are in the expected fragments: seconds
(5400 s = '1h30m', 259200 s = '3d'), percentages (45 + 45 drawn -> 10 to the exit node), placeholder
shares (two targets 50/50, three 34/33/33), targets ("ExitNode" -> 'end').
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
from simulator.importers.dittofeed import WORKER_URL, import_dittofeed
from simulator.importers.dittofeed_segment import translate_segment
from simulator.importers.writer import GENERATED, write_scenario
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.semantics import step_successors

DATA = ROOT / "tests" / "data" / "import" / "dittofeed"
GOOD = ["welcome_event", "trial_segment", "cohort_localtime", "not_executed"]


# -- helpers ---------------------------------------------------------------------------------------
def definition(*nodes: dict, entry: dict | None = None, segments: list | None = None) -> dict:
    """A journey resource: an event entry into the first node, and the given nodes."""
    first = nodes[0]["id"] if nodes else "ExitNode"
    d = {"name": "T Journey", "definition": {
        "entryNode": entry or {"type": "EventEntryNode", "event": "signup", "child": first},
        "exitNode": {"type": "ExitNode"}, "nodes": list(nodes)}}
    if segments is not None:
        d["segments"] = segments
    return d


def seg(sid: str, entry: dict, *nodes: dict, name: str | None = None) -> dict:
    return {"id": sid, "name": name or sid, "definition": {"entryNode": entry, "nodes": list(nodes)}}


def msg(nid: str, child: str = "ExitNode", channel: str = "Email") -> dict:
    return {"type": "MessageNode", "id": nid, "variant": {"type": channel, "templateId": f"tpl-{nid}"}, "child": child}


def imported(data: dict) -> tuple[list, str, dict]:
    journeys = import_dittofeed(data, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="dittofeed")
    load_scenario_text(text, "t.yaml")
    return journeys, text, yaml.safe_load(text)


def steps(data: dict) -> list[dict]:
    return imported(data)[2]["journeys"][0]["steps"]


def notes(data: dict) -> list[str]:
    return [u.line() for j in import_dittofeed(data, "t.json") for u in j.all_unmapped()]


_SEND_NOTE = ("definition.nodes: a Dittofeed message node whose send fails ends the journey for that user "
              "(unless skipOnFailure); the scenario goes on to the next step")


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


# -- delays ----------------------------------------------------------------------------------------
def test_delay_in_seconds_is_a_wait():
    """5400 s = 1 h 30 min."""
    assert steps(definition({"type": "DelayNode", "id": "d", "variant": {"type": "Second", "seconds": 5400},
                             "child": "ExitNode"})) == [{"id": "d", "wait": "1h30m", "next": "end"}]


def test_local_time_delay_is_a_wait_window_at_that_time():
    """allowedDaysOfWeek are JavaScript getUTCDay() indices (0 = Sunday): [1, 5] = Monday, Friday."""
    data = definition({"type": "DelayNode", "id": "d", "child": "m",
                       "variant": {"type": "LocalTime", "hour": 9, "minute": 30, "allowedDaysOfWeek": [0, 1, 5]}},
                      msg("m"))
    assert steps(data)[0] == {"id": "d", "wait_window": {"at": "09:30", "days": ["sun", "mon", "fri"]}, "next": "m"}
    assert notes(data) == [_SEND_NOTE]


def test_user_property_delay_is_a_wait_until_date_pass_through():
    """offsetDirection 'before' with offsetSeconds 86400: the date minus one day."""
    data = definition({"type": "DelayNode", "id": "d", "child": "ExitNode",
                       "variant": {"type": "UserProperty", "userProperty": "trialEndsAt", "offsetSeconds": 86400,
                                   "offsetDirection": "before"}})
    assert steps(data) == [{"id": "d", "split": {"end": 100}}]
    assert notes(data) == ["definition.nodes[0]: wait until the date in 'trialEndsAt' - 86400s is not modelled: "
                           "customers go on at once"]


# -- wait for --------------------------------------------------------------------------------------
def test_wait_for_a_performed_event_segment_is_wait_until_with_timeout():
    """timeoutSeconds 259200 = 3d; the segment child -> then, timeoutChild -> on_timeout."""
    data = definition({"type": "WaitForNode", "id": "w", "timeoutSeconds": 259200, "timeoutChild": "m",
                       "segmentChildren": [{"id": "ExitNode", "segmentId": "up"}]}, msg("m"),
                      segments=[seg("up", {"type": "Performed", "id": "p", "event": "Plan Upgraded"})])
    assert steps(data)[0] == {"id": "w", "wait_until": {"event": "Plan-Upgraded", "timeout": "3d", "then": "end",
                                                        "on_timeout": "m"}}
    assert ("definition.nodes[0].segmentChildren[0].segmentId: Dittofeed lets a user who performed 'Plan Upgraded' "
            "before reaching this node through at once; wait_until waits for the event to happen while the customer "
            "waits") in notes(data)


def test_wait_for_a_trait_segment_is_a_reported_placeholder_split():
    """The scenario waits for events only: then/on_timeout get equal placeholder shares 50/50."""
    data = definition({"type": "WaitForNode", "id": "w", "timeoutSeconds": 3600, "timeoutChild": "b",
                       "segmentChildren": [{"id": "a", "segmentId": "pro"}]}, msg("a"), msg("b"),
                      segments=[seg("pro", {"type": "Trait", "id": "t", "path": "plan",
                                            "operator": {"type": "Equals", "value": "pro"}})])
    assert steps(data)[0] == {"id": "w", "split": {"a": 50, "b": 50}}
    assert ("definition.nodes[0]: wait until 'plan == 'pro'' is not modelled (the format waits for events only): "
            "customers go on at once") in notes(data)


def test_wait_for_several_segments_keeps_every_edge():
    """Two segment children and the timeout: three targets, shares 34/33/33."""
    data = definition({"type": "WaitForNode", "id": "w", "timeoutSeconds": 60, "timeoutChild": "ExitNode",
                       "segmentChildren": [{"id": "a", "segmentId": "s1"}, {"id": "b", "segmentId": "s2"}]},
                      msg("a"), msg("b"))
    assert steps(data)[0] == {"id": "w", "split": {"a": 34, "b": 33, "end": 33}}


# -- splits ----------------------------------------------------------------------------------------
def test_segment_split_with_its_definition_is_a_branch():
    data = definition({"type": "SegmentSplitNode", "id": "s", "variant": {
        "type": "Boolean", "segment": "gold", "trueChild": "a", "falseChild": "ExitNode"}}, msg("a"),
        segments=[seg("gold", {"type": "And", "id": "and", "children": ["t1", "t2"]},
                      {"type": "Trait", "id": "t1", "path": "tier", "operator": {"type": "Equals", "value": "gold"}},
                      {"type": "Trait", "id": "t2", "path": "points", "operator": {"type": "LessThan", "value": 500}},
                      name="Gold")])
    assert steps(data)[0] == {"id": "s", "branch": [{"when": "tier == 'gold' and points < 500", "goto": "a"},
                                                    {"else": "end"}]}


def test_segment_split_without_its_definition_is_an_explicit_never_taken_arm():
    data = definition({"type": "SegmentSplitNode", "id": "s", "variant": {
        "type": "Boolean", "segment": "gold", "trueChild": "a", "falseChild": "b"}}, msg("a"), msg("b"))
    _, text, doc = imported(data)
    assert doc["journeys"][0]["steps"][0] == {"id": "s", "branch": [{"when": "false", "goto": "a"}, {"else": "b"}]}
    assert "# NOT MAPPED: outcome trueChild 'in gold': its criteria could not be translated" in text
    assert notes(data)[1:] == [
        "definition.nodes[0].variant.segment: segment 'gold' is not in the file's 'segments': its condition is "
        "unknown (add the segments API's list beside the journey to translate it)",
        "definition.nodes[0].variant.segment: criteria of outcome 'trueChild' not translated"]


def test_random_cohort_is_a_split_and_an_undrawn_remainder_goes_to_the_exit():
    """45 + 45 = 90: Dittofeed's worker finds no cohort for the other 10 and sends them to the exit."""
    data = definition({"type": "RandomCohortNode", "id": "r", "children": [
        {"id": "a", "percent": 45, "name": "A"}, {"id": "b", "percent": 45, "name": "B"}]}, msg("a"), msg("b"))
    assert steps(data)[0] == {"id": "r", "split": {"a": 45, "b": 45, "end": 10}}
    three = definition({"type": "RandomCohortNode", "id": "r", "children": [
        {"id": "a", "percent": 33.33, "name": "A"}, {"id": "b", "percent": 33.33, "name": "B"},
        {"id": "c", "percent": 33.34, "name": "C"}]}, msg("a"), msg("b"), msg("c"))
    assert steps(three)[0] == {"id": "r", "split": {"a": 33.33, "b": 33.33, "c": 33.34}}


# -- messages, exit, nodes Dittofeed does not run ---------------------------------------------------
@pytest.mark.parametrize("variant, channel", [("Email", "email"), ("Sms", "sms"), ("MobilePush", "push")])
def test_message_nodes_are_sends(variant, channel):
    _, text, doc = imported(definition(msg("m", channel=variant)))
    assert doc["journeys"][0]["steps"] == [{"id": "m", "send": "m", "next": "end"}]
    assert doc["messages"]["m"]["channel"] == channel and "(template tpl-m)" in text


def test_webhook_message_is_a_reported_pass_through():
    data = definition(msg("h", child="m", channel="Webhook"), msg("m"))
    assert steps(data)[0] == {"id": "h", "split": {"m": 100}}
    assert ("definition.nodes[0]: webhook message (an HTTP call to your service) 'h' is not modelled: everyone "
            "passes straight through") in notes(data)


@pytest.mark.parametrize("node_type", ["RateLimitNode", "ExperimentSplitNode"])
def test_nodes_dittofeed_does_not_execute_are_imported_as_drawn_with_a_warning(node_type):
    data = definition({"type": node_type, "id": "x", "child": "m"}, msg("m"))
    assert steps(data)[0] == {"id": "x", "split": {"m": 100}}
    assert (f"definition.nodes[0]: Dittofeed does not execute {node_type}: its journey worker sends the user to the "
            f"exit node ({WORKER_URL}); imported as drawn, so the platform will not behave as this scenario does"
            ) in notes(data)


def test_exit_node_is_end_and_unknown_node_types_pass_through_with_a_did_you_mean():
    data = definition({"type": "DelayNod", "id": "x", "child": "m"}, msg("m"))
    assert steps(data) == [{"id": "x", "split": {"m": 100}}, {"id": "m", "send": "m", "next": "end"}]
    assert ("definition.nodes[0]: node type 'DelayNod' (did you mean 'DelayNode'?) 'x' is not modelled: everyone "
            "passes straight through") in notes(data)


# -- entry and re-entry ----------------------------------------------------------------------------
def test_segment_entry_translates_its_segment_and_rechecks_hourly():
    data = definition(msg("m"), entry={"type": "EntryNode", "segment": "s", "child": "m"},
                      segments=[seg("s", {"type": "Trait", "id": "t", "path": "plan",
                                          "operator": {"type": "Exists"}})])
    assert imported(data)[2]["journeys"][0]["entry"] == {"segment": "plan != null", "every": "2m"}


def test_untranslated_segment_entry_uses_a_generated_flag_and_re_enter_is_exact():
    """reEnter (again after exiting) is what re_entry: true does: one instance per customer at a time."""
    data = definition(msg("m"), entry={"type": "EntryNode", "segment": "s", "child": "m", "reEnter": True},
                      segments=[seg("s", {"type": "Email", "id": "e", "event": "DFEmailOpened", "templateId": "t"},
                                    name="Opened Welcome")])
    _, _, doc = imported(data)
    assert doc["journeys"][0]["entry"] == {"segment": "in_opened_welcome", "every": "2m"}
    assert doc["population"]["attributes"]["in_opened_welcome"] == {"bernoulli": 0.5}
    assert doc["journeys"][0]["re_entry"] is True
    assert notes(data)[1:] == [
        "definition.entryNode.segment: segment 'Opened Welcome' not translated (segment node type 'Email' has no "
        "equivalent in the condition language); entry uses a generated flag 'in_opened_welcome' (half the "
        "population) instead"]


def test_can_run_multiple_is_reported_as_overlapping_runs():
    """canRunMultiple lets a user's runs overlap; journeysim runs one at a time: reported, not silent."""
    data = definition(msg("m"))
    data["canRunMultiple"] = True
    assert imported(data)[2]["journeys"][0]["re_entry"] is True
    assert any(n.startswith("canRunMultiple: canRunMultiple: true lets runs overlap; journeysim runs one instance")
               for n in notes(data)), notes(data)


def test_can_run_multiple_is_re_entry_at_any_time():
    data = definition(msg("m"))
    data["canRunMultiple"] = True
    assert imported(data)[2]["journeys"][0]["re_entry"] is True


# -- segment definitions ---------------------------------------------------------------------------
@pytest.mark.parametrize("entry, expected", [
    ({"type": "Trait", "path": "plan", "operator": {"type": "Equals", "value": "pro"}}, "plan == 'pro'"),
    ({"type": "Trait", "path": "plan", "operator": {"type": "NotEquals", "value": "free"}}, "plan != 'free'"),
    ({"type": "Trait", "path": "company.seats", "operator": {"type": "GreaterThanOrEqual", "value": 5}}, "seats >= 5"),
    ({"type": "Trait", "path": "age", "operator": {"type": "LessThan", "value": 18}}, "age < 18"),
    ({"type": "Trait", "path": "phone", "operator": {"type": "NotExists"}}, "phone == null"),
    ({"type": "Includes", "path": "tags", "item": "vip"}, "'vip' in tags"),
    ({"type": "Performed", "event": "Order Placed"}, "has_event('Order-Placed')"),
    ({"type": "Everyone"}, "true"),
])
def test_segment_nodes_translate(entry, expected):
    assert translate_segment({"entryNode": {"id": "e", **entry}, "nodes": []}).condition == expected


@pytest.mark.parametrize("entry, problem", [
    ({"type": "Trait", "path": "x", "operator": {"type": "Within", "windowSeconds": 60}}, "operator 'Within'"),
    ({"type": "Performed", "event": "E", "times": 3, "timesOperator": ">="}, "with a count"),
    ({"type": "Performed", "event": "E", "withinSeconds": 86400}, "time window"),
    ({"type": "RandomBucket", "percent": 0.5}, "'RandomBucket'"),
])
def test_untranslatable_segments_are_all_or_nothing(entry, problem):
    """One untranslatable part inside an Or leaves the whole segment untranslated."""
    d = {"entryNode": {"type": "Or", "id": "or", "children": ["ok", "bad"]},
         "nodes": [{"type": "Everyone", "id": "ok"}, {"id": "bad", **entry}]}
    tr = translate_segment(d)
    assert tr.condition is None and problem in " ".join(tr.problems)


# -- end to end --------------------------------------------------------------------------------------
def _source_graph(item: dict) -> tuple[set[tuple[str, str]], dict[str, float]]:
    """The node graph read straight from the JSON (independently of the importer)."""
    d = item.get("definition", item)
    end = lambda c: "end" if c == "ExitNode" else c  # noqa: E731
    edges, waits = set(), {}
    for n in d["nodes"]:
        t, v = n["type"], n.get("variant", {})
        if t == "SegmentSplitNode":
            kids = [v["trueChild"], v["falseChild"]]
        elif t == "WaitForNode":
            kids = [c["id"] for c in n["segmentChildren"]] + [n["timeoutChild"]]
        elif t in ("RandomCohortNode", "ExperimentSplitNode"):
            kids = [c["id"] for c in n["children"]]
            if t == "RandomCohortNode" and sum(c["percent"] for c in n["children"]) < 100:
                kids.append("ExitNode")
        else:
            kids = [n["child"]]
        edges |= {(n["id"], end(c)) for c in kids}
        if t == "DelayNode" and v["type"] == "Second":
            waits[n["id"]] = float(v["seconds"])
    return edges, waits


def _scenario_graph(journey) -> tuple[set[tuple[str, str]], dict[str, float]]:
    edges = {(s.id, t) for i, s in enumerate(journey.steps) for t in step_successors(journey, i)}
    return edges, {s.id: s.wait for s in journey.steps if s.wait is not None}


@pytest.mark.parametrize("name", GOOD)
def test_realistic_inputs_import_validate_run_and_keep_the_graph(name, tmp_path):
    """import -> validate -> run 300 customers; the step ids, edges and wait durations equal the source's."""
    out = tmp_path / f"{name}.yaml"
    r = invoke("import", "dittofeed", str(DATA / f"{name}.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert invoke("validate", str(out)).exit_code == 0
    src = json.loads((DATA / f"{name}.json").read_text())
    items = src["journeys"] if "journeys" in src else [src]
    sc = load_scenario(out)
    assert len(sc.journeys) == len(items)
    for item, journey, imp in zip(items, sc.journeys, import_dittofeed(src, "t.json")):
        assert _scenario_graph(journey) == _source_graph(item)
        assert set(imp.edges()) == _source_graph(item)[0]
    assert GENERATED in out.read_text() and "\nplatform: dittofeed " in out.read_text()  # the preset (docs/platforms.md)
    run = invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output   # 1 only if a default gate (error finding) fails
    events = read_events(tmp_path / "run", columns=["kind", "journey"])
    assert set(events["journey"].dropna()) == {j.name for j in sc.journeys}


def test_welcome_run_times_follow_the_imported_delay(tmp_path):
    """Welcome Series: entry -> welcome-email (at once) -> wait 172800 s -> activated-split. For every
    instance the email step is at the entry time and the split exactly 172800 s after it."""
    out = tmp_path / "w.yaml"
    assert invoke("import", "dittofeed", str(DATA / "welcome_event.json"), "-o", str(out)).exit_code == 0
    assert invoke("run", str(out), "--customers", "300", "--out", str(tmp_path / "run"), "--no-report",
                  "--quiet").exit_code in (0, 1)
    ev = read_events(tmp_path / "run", columns=["t", "customer", "kind", "step"])
    entered = ev[ev["kind"] == "entry"].groupby("customer")["t"].min()
    steps_ = ev[ev["kind"] == "step"]
    for step, after in (("welcome-email", 0.0), ("activated-split", 172800.0)):
        reached = steps_[steps_["step"] == step].groupby("customer")["t"].min()
        assert len(reached) > 10
        assert ((reached - entered[reached.index]).round(6) == after).all(), step


def test_the_import_command_prints_the_mapping(tmp_path):
    out = tmp_path / "t.yaml"
    r = invoke("import", "dittofeed", str(DATA / "trial_segment.json"), "-o", str(out))
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0] == f"imported dittofeed {DATA / 'trial_segment.json'} -> {out}: 1 journey, 4 steps"
    assert ("  wait-upgrade                 WaitForNode              wait_until Plan-Upgraded -> end "
            "(timeout 3d -> last-chance)") in lines
    assert "NOT MAPPED (3): each is also a '# NOT MAPPED:' comment in " + str(out) in lines
    doc = yaml.safe_load(out.read_text())
    assert doc["journeys"][0]["entry"] == {"segment": "plan == 'trial' and seats >= 5", "every": "2m"}


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, message", [
    ("bad_child", "bad_child.json: nodes[0].child: points to node 'welcom', which is not in nodes; "
                  "did you mean 'welcome'?"),
    ("bad_delay_variant", "bad_delay_variant.json: nodes[0].variant.type: unknown delay variant \"Seconds\"; "
                          "did you mean 'Second'?"),
    ("bad_syntax", "bad_syntax.json:3:1: not valid JSON: Expecting value; the file must be a Dittofeed"),
    ("bad_shape", "bad_shape.json: not a Dittofeed journey: got a list; the file must be a Dittofeed"),
])
def test_bad_inputs_exit_2_with_the_json_path_and_a_fix(name, message, tmp_path):
    r = invoke("import", "dittofeed", str(DATA / f"{name}.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output
    assert not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize("data, message", [
    (definition(msg("m", channel="Emial")), "definition.nodes[0].variant.type: unknown message channel \"Emial\"; "
                                            "did you mean 'Email'?"),
    (definition({"type": "RandomCohortNode", "id": "r", "children": [{"id": "ExitNode", "percent": 60, "name": "a"},
                                                                      {"id": "ExitNode", "percent": 60, "name": "b"}]}),
     "definition.nodes[0].children: cohort percentages add up to 120, more than 100"),
    (definition(msg("m", child="m")), "definition.nodes[0]: the nodes form a loop ('m' leads back to 'm')"),
    (definition(msg("m"), msg("m")), "definition.nodes[1].id: duplicate node id 'm' (also nodes[0])"),
    (definition(msg("m"), entry={"type": "SegmentEntry", "segment": "s", "child": "m"}),
     "definition.entryNode.type: unknown entry node type \"SegmentEntry\"; did you mean 'EventEntryNode'?"),
])
def test_malformed_definitions_name_the_path(data, message):
    with pytest.raises(ImportInputError) as exc:
        import_dittofeed(data, "t.json")
    assert message in str(exc.value)


def test_dittofeed_is_a_listed_format_with_a_did_you_mean(tmp_path):
    r = invoke("import", "dittofed", str(DATA / "welcome_event.json"), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "did you mean 'dittofeed'? known formats: sfmc, dittofeed" in r.output


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_any_mutation_of_a_realistic_export_imports_or_fails_cleanly(data):
    """Replace any one value of a realistic export by arbitrary JSON: the importer either produces a
    scenario that validates, or raises ImportInputError (exit 2 with a path); nothing else."""
    mutate_and_import(data, DATA, GOOD, import_dittofeed, "dittofeed")


def test_ids_that_read_as_numbers_stay_strings():
    """'1e100' and '12' are valid step ids; the scenario loader (YAML 1.2) would read them unquoted as
    numbers, so the writer quotes them (found by the mutation property)."""
    data = definition(msg("1e100", child="12"), msg("12"))
    _, text, doc = imported(data)
    assert "- {id: '1e100', send: '1e100', next: '12'}" in text
    assert [s["id"] for s in doc["journeys"][0]["steps"]] == ["1e100", "12"]


@pytest.mark.parametrize("status, what", [
    ("NotStarted", "in Dittofeed users cannot enter it until it is Running"),
    ("Paused", "in Dittofeed no more users enter, and a user reaching a message has it skipped and exits"),
])
def test_a_journey_that_is_not_running_is_reported(status, what):
    data = definition(msg("m"))
    data["status"] = status
    assert notes(data)[0] == (f"status: the journey's status is {status}: {what} "
                              "(https://docs.dittofeed.com/resources/journeys); the scenario runs it as if Running")
    data["status"] = "Running"
    assert notes(data) == [_SEND_NOTE]


def test_placeholder_shares_say_why_the_platform_divides():
    data = definition({"type": "WaitForNode", "id": "w", "timeoutSeconds": 60, "timeoutChild": "ExitNode",
                       "segmentChildren": [{"id": "a", "segmentId": "s1"}, {"id": "b", "segmentId": "s2"}]},
                      msg("a"), msg("b"))
    assert ("definition.nodes[0]: wait for the first of 2 segments (timeout 60s) 'w' is not modelled: customers are "
            "divided in equal placeholder shares, because the first segment the user is in (or the timeout) picks "
            "the path") in notes(data)


def test_every_dittofeed_journey_names_the_dittofeed_preset_and_the_docs_say_so():
    """`journeysim platforms` lists dittofeed, so an imported Dittofeed scenario says `platform: dittofeed`
    (as HubSpot's says hubspot) and the preset's rule shows in validate --explain; the scenario
    format's `platform` row names every preset; docs/import.md no longer says there is none."""
    from simulator.platforms.presets import presets

    journeys, text, doc = imported(definition(msg("m1")))
    assert [j.platform for j in journeys] == ["dittofeed"] and doc["platform"] == "dittofeed"
    sc = load_scenario_text(text, "t.yaml")
    assert sc.journeys[0].recompute_every == 120.0   # set by the preset: segments computed every 2 minutes
    row = next(line for line in (ROOT / "docs" / "scenario-format.md").read_text().splitlines()
               if line.startswith("| `platform` |"))
    assert all(f"`{name}`" in row for name in presets()), row
    assert "Dittofeed has no platform preset" not in (ROOT / "docs" / "import.md").read_text()
