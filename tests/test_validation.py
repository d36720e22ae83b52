"""Scenario validation: every error at once, each with key path, line and a fix."""

from __future__ import annotations

import pytest
from conftest import MINIMAL, ROOT, line_of

from simulator.errors import ScenarioError
from simulator.scenario.load import load_scenario, load_scenario_text


def errors_of(text: str) -> list:
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "s.yaml")
    return err.value.issues


def one_error(text: str):
    issues = errors_of(text)
    assert len(issues) == 1, [i.format() for i in issues]
    return issues[0]


def test_minimal_scenario_is_valid():
    """The fixture scenario validates and is parsed into engine units."""
    sc = load_scenario_text(MINIMAL)
    assert sc.duration == 3 * 86400
    assert sc.sync[0].latency.mean == 600.0
    assert sc.systems["esp"].throughput == 50.0
    assert sc.journeys[0].steps[0].wait == 3600.0
    assert sc.journeys[0].exit_when.check == "continuous"
    assert sc.messages["m1"].system == "esp"  # default: the system serving the channel
    assert sc.start.isoformat() == "2026-12-01T00:00:00+00:00"
    assert sc.step_count == 5


def test_frozen_model_cannot_be_changed():
    """The validated model is immutable."""
    sc = load_scenario_text(MINIMAL)
    with pytest.raises(Exception):
        sc.seed = 3  # type: ignore[misc]


def test_four_kinds_of_error_reported_together():
    """Unknown key, bad duration, goto to a missing step and a misspelt time zone: all four at once."""
    text = (MINIMAL
            .replace("seed: 7", "seed: 7\ncolour: blue")
            .replace("{id: wait_1h, wait: 1h}", "{id: wait_1h, wait: 1hr}")
            .replace("goto: sms_b}", "goto: sms_c}")
            .replace("Europe/London: 0.5", "Europe/Londn: 0.5"))
    issues = errors_of(text)
    by_path = {i.path: i for i in issues}
    assert len(issues) == 4, [i.format() for i in issues]
    colour = by_path["colour"]
    assert colour.line == line_of(text, "colour: blue") and "unknown key 'colour'" in colour.message
    wait = by_path["journeys[0].steps[0].wait"]
    assert wait.line == line_of(text, "wait: 1hr") and "1hr" in wait.message and "'1h'" in wait.message
    goto = by_path["journeys[0].steps[3].branch[0].goto"]
    assert goto.line == line_of(text, "goto: sms_c") and goto.hint == "did you mean 'sms_b'?"
    tz = next(i for i in issues if i.path.startswith("population.timezones"))
    assert tz.line == line_of(text, "Europe/Londn") and "Europe/London" in tz.message + (tz.hint or "")
    assert text.splitlines()[tz.line - 1][tz.column - 1:].startswith("Europe/Londn")
    # The issues come sorted by line and each formats as file:line:col: path: message; hint
    assert [i.line for i in issues] == sorted(i.line for i in issues)
    assert colour.format().startswith(f"s.yaml:{colour.line}:1: colour: unknown key 'colour'")


def test_unknown_key_suggests_closest():
    """A misspelt key gets a did-you-mean from the keys valid at that place."""
    issue = one_error(MINIMAL.replace("exit_when: {event: purchase}", "exit_when: {event: purchase, chek: at_steps}"))
    assert issue.path == "journeys[0].exit_when.chek"
    assert issue.hint == "did you mean 'check'?"


def test_unknown_top_level_key_is_an_error():
    """Unknown top-level keys are errors, not ignored."""
    issue = one_error(MINIMAL + "extras: 1\n")
    assert issue.path == "extras" and issue.line == line_of(MINIMAL + "extras: 1\n", "extras: 1")


def test_literal_value_suggestion():
    """A misspelt enumerated value names the options and the closest one."""
    text = MINIMAL.replace("exit_when: {event: purchase}", "exit_when: {event: purchase, check: continous}")
    issue = one_error(text)
    assert issue.path == "journeys[0].exit_when.check"
    assert "continuous, at_steps, after_waits" in issue.message and issue.hint == "did you mean 'continuous'?"


def test_missing_required_key():
    """A missing required key is named with the place to add it."""
    text = MINIMAL.replace("    reads_from: cdp\n", "")
    issue = one_error(text)
    assert issue.path == "journeys[0].reads_from" and "missing required key 'reads_from'" in issue.message


def test_duplicate_step_ids():
    """Two steps with one id are an error naming both."""
    issue = one_error(MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m2}\n      - {id: email_1, send: m1}"))
    assert issue.path == "journeys[0].steps[5].id" and "duplicate step id 'email_1' (also steps[1])" in issue.message


def test_unreachable_step():
    """A step no route leads to is reported."""
    text = MINIMAL.replace("{id: opened, wait_until: {event: email_opened, timeout: 24h}}",
                           "{id: opened, wait_until: {event: email_opened, timeout: 24h}, goto: sms_b}")
    issue = one_error(text)
    assert issue.path == "journeys[0].steps[3].id" and "'by_stage' is unreachable" in issue.message


def test_loop_without_wait():
    """A goto cycle with no wait would spin forever at one instant: rejected."""
    text = MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m2, goto: by_stage}").replace(
        "{else: end}", "{else: sms_b}")
    issue = one_error(text)
    assert "loop with no wait: by_stage -> sms_b -> by_stage" in issue.message


def test_loop_with_a_wait_is_fine():
    """A cycle through a wait step is a legitimate re-check loop."""
    text = MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m2, goto: wait_1h}")
    load_scenario_text(text)


def test_field_not_synced_to_reads_from():
    """A branch on 'stage' at cdp needs a link bringing 'stage' from crm, where it changes."""
    text = MINIMAL.replace("fields: [stage], mode: batch", "fields: [has_purchased], mode: batch")
    issue = one_error(text)
    assert issue.path == "journeys[0].steps[3].branch[0].when"
    assert "reads 'stage', which changes at crm, but no sync link brings 'stage'" in issue.message
    assert issue.line == line_of(text, "when: \"stage == 'B'\"")


def test_multi_hop_sync_path_counts():
    """A field that reaches reads_from over two hops (crm -> warehouse -> cdp) is available."""
    text = (MINIMAL.replace("  cdp: {kind: cdp}", "  cdp: {kind: cdp}\n  dwh: {kind: warehouse}")
            .replace("{from: crm, to: cdp, fields: [stage], mode: batch, every: 4h, offset: 1h}",
                     "{from: crm, to: dwh, fields: [stage]}\n  - {from: dwh, to: cdp, fields: [stage], mode: batch, every: 1d}"))
    load_scenario_text(text)


def test_event_not_synced_to_reads_from():
    """Waiting for email_opened at cdp needs esp -> cdp to carry events."""
    text = MINIMAL.replace("  - {from: esp, to: cdp, fields: [events]}\n", "")
    issue = one_error(text)
    assert issue.path == "journeys[0].steps[2].wait_until.event"
    assert "event 'email_opened' happens at esp but no sync link brings it to cdp" in issue.message


def test_send_on_unserved_channel():
    """A message on a channel no system serves cannot be sent."""
    text = MINIMAL.replace("  sms: {kind: channel, channel: sms}\n", "")
    issues = errors_of(text)
    assert any(i.path == "messages.m2.channel" and "no system serves channel 'sms'" in i.message for i in issues)


def test_unknown_message_and_system_and_event():
    """References to undefined messages, systems and events suggest the closest name."""
    text = (MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m3}")
            .replace("reads_from: cdp", "reads_from: cpd")
            .replace("entry: {event: cart_abandoned}", "entry: {event: cart_abandon}"))
    by_path = {i.path: i for i in errors_of(text)}
    assert by_path["journeys[0].steps[4].send"].message == "unknown message 'm3'"
    assert by_path["journeys[0].reads_from"].hint == "did you mean 'cdp'?"
    assert by_path["journeys[0].entry.event"].hint == "did you mean 'cart_abandoned'?"


def test_unknown_field_in_condition():
    """A condition naming an undefined field is an error with a suggestion."""
    issue = one_error(MINIMAL.replace("when: \"stage == 'B'\"", "when: \"stag == 'B'\""))
    assert "unknown field 'stag'" in issue.message and issue.hint == "did you mean 'stage'?"


def test_condition_syntax_error_points_at_column():
    """A rejected construct in a condition reports the column inside the YAML line."""
    text = MINIMAL.replace("when: \"stage == 'B'\"", "when: \"stage == 'B' and __import__('os')\"")
    issue = one_error(text)
    row = text.splitlines()[issue.line - 1]
    assert row[issue.column - 1:].startswith("__import__")


def test_probability_out_of_range():
    """Probabilities must lie in [0, 1]."""
    issue = one_error(MINIMAL.replace("once: {probability: 0.5", "once: {probability: 1.5"))
    assert issue.path == "population.events[0].once.probability"


def test_shares_must_sum_to_one():
    """Time zone shares and choice weights must add up to 1."""
    issue = one_error(MINIMAL.replace("Europe/London: 0.5}", "Europe/London: 0.4}"))
    assert issue.path == "population.timezones" and "add up to 0.9" in issue.message
    issue = one_error(MINIMAL.replace("{A: 0.8, B: 0.2}", "{A: 0.8, B: 0.1}"))
    assert issue.path.startswith("population.attributes.stage")


def test_split_must_sum_to_100():
    """Split percentages must add up to 100."""
    text = MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m2}\n      - {id: ab, split: {end: 40, sms_b: 50}}")
    issues = errors_of(text)
    assert any("add up to 100, they add up to 90" in i.message for i in issues)


def test_quiet_hours_must_parse():
    """Quiet-hour times are HH:MM strings."""
    text = MINIMAL.replace("messages:", 'policies:\n  quiet_hours: {from: "9pm", to: "08:00"}\nmessages:')
    issue = one_error(text)
    assert issue.path == "policies.quiet_hours.from" and issue.line == line_of(text, "quiet_hours")


def test_gate_naming_unknown_kind():
    """Gates must name finding kinds that exist."""
    text = MINIMAL + 'gates:\n  exit-rase: "< 0.5%"\n  overlap: "<2%"\n'
    issue = one_error(text)
    assert issue.path == "gates.exit-rase" and issue.hint == "did you mean 'exit-race'?"


def test_gate_expression_must_parse():
    """A gate needs an operator and a number."""
    issue = one_error(MINIMAL + 'gates:\n  overlap: "about 2"\n')
    assert issue.path == "gates.overlap" and "such as" in issue.message


def test_step_needs_exactly_one_action():
    """A step with two actions (or none) is rejected with the list of actions."""
    issue = one_error(MINIMAL.replace("{id: sms_b, send: m2}", "{id: sms_b, send: m2, wait: 1h}"))
    assert issue.path == "journeys[0].steps[4]" and "exactly one action" in issue.message


def test_batch_link_needs_schedule():
    """A batch link without every/at is rejected."""
    issue = one_error(MINIMAL.replace("mode: batch, every: 4h, offset: 1h", "mode: batch"))
    assert issue.path == "sync[1]" and "exactly one of 'every'" in issue.message


def test_stream_link_rejects_batch_keys():
    """'every' on a stream link is a mistake worth naming."""
    issue = one_error(MINIMAL.replace("latency: {fixed: 10m}}", "latency: {fixed: 10m}, every: 1h}"))
    assert "only apply to mode: batch" in issue.message


def test_unknown_sync_field():
    """A sync link listing an undefined field suggests the closest one."""
    issue = one_error(MINIMAL.replace("fields: [events, has_purchased]", "fields: [events, has_purchase]"))
    assert issue.path == "sync[0].fields[1]" and "'has_purchased'" in issue.hint


def test_template_syntax_error():
    """A Liquid template that does not parse is reported at validation time."""
    issue = one_error(MINIMAL.replace('body: "Hello {{ unsubscribe_url }}"', 'body: "Hello {% if x %}"'))
    assert issue.path == "messages.m1.body" and "template error" in issue.message


def test_distribution_subkey_error_points_inside():
    """A bad parameter inside a distribution points at that parameter."""
    issue = one_error(MINIMAL.replace("latency: {fixed: 10m}", "latency: {lognormal: {median: 20m, p59: 3h}}"))
    assert issue.path.startswith("sync[0].latency.lognormal")


def test_not_a_mapping():
    """A file that is not a mapping says what a scenario looks like."""
    issue = one_error("- just\n- a list\n")
    assert "a scenario must be a mapping" in issue.message


def test_load_from_file_names_file(write_scenario):
    """Errors from files carry the file name."""
    path = write_scenario(MINIMAL.replace("seed: 7", "seed: -1"))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(path) in err.value.format() and err.value.issues[0].path == "seed"


def test_calendar_cap_needs_whole_days():
    """A calendar-window cap counts local dates, so its length must be whole days."""
    text = MINIMAL.replace("messages:", "policies:\n  frequency_caps:\n    - {channel: any, max: 1, per: 36h, window: calendar}\nmessages:")
    issue = one_error(text)
    assert issue.path == "policies.frequency_caps[0]" and "whole local days" in issue.message


def test_effective_scenario_round_trips():
    """The scenario as run (written to scenario.json) validates back to an equal model."""
    import json

    from simulator.scenario.model import Scenario

    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        sc = load_scenario(path, ["population.size=7"])
        again = Scenario.model_validate(json.loads(json.dumps(sc.effective())))
        assert again.model_dump(mode="json") == sc.model_dump(mode="json")
        assert again.population.size == 7
