"""Creative findings in a run: creative-render-error, creative-missing-field, creative-sms-segments,
creative-unsubscribe. Tiny scripted scenarios; every count and time is derived by hand in the
docstring. Times are after the scenario start (UTC); the journey sends at entry, when ``go`` happens.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_engine_semantics import H, person, scenario

from simulator.creative import sms_segments
from simulator.creative.rules import lacks_opt_out, length_detail, over_length, segment_budget, sms_detail
from simulator.pipeline import run_scenario
from simulator.errors import ScenarioError
from simulator.scenario.load import load_scenario_text
from simulator.scenario.model import Message

WEB = "  - {from: web, to: cdp, fields: [go]}"
NAME_EVENTS = ("    - {name: named, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {first_name: Ann}}\n"
               "    - {name: blank, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {first_name: ''}}\n"
               "    - {name: zero, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {n: 0}}\n"
               "    - {name: two, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {n: 2}}")
SEND = "      - {id: a, send: p}"


def run(messages: str, people, latency: str = "0s", steps: str = SEND):
    text = scenario(sync=WEB + f"\n  - {{from: crm, to: esp, fields: [first_name, n], latency: {{fixed: {latency}}}}}"
                    f"\n  - {{from: crm, to: sms, fields: [first_name, n], latency: {{fixed: {latency}}}}}",
                    extra_events=NAME_EVENTS, messages=messages, steps=steps)
    return run_scenario(load_scenario_text(text), scripted=list(people))


def kinds(result, kind):
    f = result.findings
    return f[f["kind"] == kind].reset_index(drop=True)


EMAIL_NAME = "  p: {channel: email, body: \"Hi {{ first_name }}\"}"


def test_ten_customers_three_without_first_name_give_three_findings():
    """10 customers enter at +1h; 6 were named Ann at 0 (the crm->esp link is instant), 1 was set to
    '' at 0 and 3 never got a first_name. The email renders first_name at the ESP at +1h: empty for 1,
    missing for 3 -> exactly 4 creative-missing-field, none of them with a sync cause (truth has no
    value either), and no stale-content (nothing is stale)."""
    people = [person((0.0, "named"), (H, "go"), name=f"n{i}") for i in range(6)]
    people.append(person((0.0, "blank"), (H, "go"), name="b0"))
    people += [person((H, "go"), name=f"x{i}") for i in range(3)]
    result = run(EMAIL_NAME, people)
    found = kinds(result, "creative-missing-field")
    assert sorted(found["customer"]) == ["b0", "x0", "x1", "x2"]
    assert set(found["field"]) == {"first_name"} and set(found["system"]) == {"esp"}
    assert found["t"].tolist() == [H] * 4
    assert found["link"].isna().all()
    by = dict(zip(found["customer"], found["message"]))
    assert by["b0"].endswith("with 'first_name' empty; truth had no value either")
    assert by["x0"].endswith("with 'first_name' missing; truth had no value either")
    assert kinds(result, "stale-content").empty
    assert set(result.findings["severity"][result.findings["kind"] == "creative-missing-field"]) == {"warning"}


@pytest.mark.parametrize("latency, n", [("2h", 1), ("30m", 0)])
def test_missing_field_traced_to_the_late_link(latency, n):
    """first_name=Ann is set at crm at 0; crm->esp takes `latency`; the email renders at the ESP at +1h.
    2h: the ESP has no first_name at +1h -> one finding, link crm->esp, lag 7200 s (arrival at +2h),
    late_by 3600 s (+2h - +1h), truth_changed_at = the start. 30m: it arrived at +30m -> none."""
    result = run(EMAIL_NAME, [person((0.0, "named"), (H, "go"))], latency=latency)
    found = kinds(result, "creative-missing-field")
    assert len(found) == n
    if n:
        row = found.iloc[0]
        assert row["link"] == "crm->esp"
        assert row["lag_seconds"] == 7200.0 and row["late_by_seconds"] == 3600.0
        assert row["truth_value"] == "Ann" and row["replica_value"] is None
        assert row["truth_changed_at"] == "2026-12-01 00:00"
        assert "truth had 'Ann'" in row["message"]
        assert "never" not in row["root_cause"] and "crm->esp" in row["root_cause"]


def test_render_error_replaces_missed_send():
    """'{{ 100 | divided_by: n }}' at the ESP: n=2 renders (50), n=0 fails ("can't divide by 0").
    Two customers: one with n=2, one with n=0 -> one creative-render-error (with the error text) and
    no missed-send for it; the other is delivered."""
    result = run("  p: {channel: email, body: \"{{ 100 | divided_by: n }} points\"}",
                 [person((0.0, "two"), (H, "go"), name="ok"), person((0.0, "zero"), (H, "go"), name="bad")])
    found = kinds(result, "creative-render-error")
    assert found["customer"].tolist() == ["bad"]
    assert found.loc[0, "root_cause"] == "template error: divided_by: can't divide by 0"
    assert found.loc[0, "severity"] == "warning"
    assert kinds(result, "missed-send").empty
    assert kinds(result, "creative-missing-field").empty  # the failed send went nowhere


def sms(body: str, tags: str = "[promo]", extra: str = "") -> str:
    return f"  p: {{channel: sms, body: \"{body}\", tags: {tags}{extra}}}"


@pytest.mark.parametrize("body, tags, extra, n, seg", [
    ("a" * 150 + " Reply STOP", "[promo]", "", 1, "2"),        # 161 GSM-7 septets: 153 + 8 -> 2 > 1
    ("a" * 149 + " Reply STOP", "[promo]", "", 0, None),       # 160: one segment, within the default 1
    ("a" * 150 + " Reply STOP", "[promo]", ", max_segments: 2", 0, None),  # budget 2
    ("a" * 150 + " Reply STOP", "[cart]", "", 0, None),        # not promotional: no default budget
    ("a" * 150 + " Reply STOP", "[cart]", ", max_segments: 1", 1, "2"),    # explicit budget applies to any SMS
    ("Zoë " + "a" * 55 + " Reply STOP", "[promo]", "", 0, None),  # 4 + 55 + 11 = 70 UCS-2 units: 1
    ("Zoë " + "a" * 56 + " Reply STOP", "[promo]", "", 1, "2"),   # 71 units: 67 + 4 -> 2
])
def test_sms_segments_over_budget(body, tags, extra, n, seg):
    """The rendered SMS's segments (sms_segments, written as enc=...; seg=N into its queued record)
    against the budget: max_segments, else 1 for promotional SMS, else none. Sizes in each row."""
    result = run(sms(body, tags, extra), [person((H, "go"))])
    found = kinds(result, "creative-sms-segments")
    assert len(found) == n
    ev = result.events()
    queued = ev[ev["kind"] == "queued"]
    assert len(queued) == 1
    if n:
        enc = "UCS-2" if "ë" in body else "GSM-7"
        assert f"enc={enc}; seg={seg}" in queued["detail"].iloc[0]
        assert found.loc[0, "message"].startswith(f"p to ana (j/a) took {seg} segments ({enc}), over its budget of 1")


@pytest.mark.parametrize("message, n", [
    ("  p: {channel: email, body: \"20% off\", tags: [promo]}", 1),
    ("  p: {channel: email, body: \"20% off. Unsubscribe: {{ unsubscribe_url }}\", tags: [promo]}", 0),
    ("  p: {channel: email, body: \"Your receipt\"}", 0),              # not promotional
    ("  p: {channel: sms, body: \"20% off\", tags: [Marketing]}", 1),   # tags match in any case
    ("  p: {channel: sms, body: \"20% off. Text stop to quit\", tags: [marketing]}", 0),  # "stop" as a word, any case
    ("  p: {channel: sms, body: \"20% off. Nonstop deals\", tags: [promo]}", 1),  # 'Nonstop' is not the word
])
def test_unsubscribe_per_promotional_send(message, n):
    """One creative-unsubscribe (error) per queued promotional send without the link / opt-out word."""
    result = run(message, [person((H, "go"), name="a1"), person((H, "go"), name="a2")])
    found = kinds(result, "creative-unsubscribe")
    assert len(found) == 2 * n
    assert set(found["severity"]) <= {"error"}


def test_rules_are_shared_with_lint():
    """One definition: the budget and the opt-out test lint uses are those of the run."""
    promo = Message(channel="sms", body="x", tags=["Promo"])
    assert segment_budget(promo) == 1
    assert segment_budget(Message(channel="sms", body="x")) is None
    assert segment_budget(Message(channel="sms", body="x", max_segments=3)) == 3
    assert segment_budget(Message(channel="email", body="x", tags=["promo"])) is None
    assert lacks_opt_out(promo, "Reply END", "u") is False
    assert lacks_opt_out(Message(channel="email", body="x", tags=["promo"]), "see https://u/x", "https://u/x") is False


@pytest.mark.parametrize("message, extra, where, text, hint", [
    ("  p: {channel: email, body: x, max_segments: 2}", "", "messages.p.max_segments",
     "'max_segments' is for sms messages; this one is email", "remove it, or set channel: sms"),
    ("  p: {channel: sms, body: x, max_segments: 0}", "", "messages.p.max_segments",
     "greater than or equal to 1", None),
    ("  p: {channel: sms, body: x}", "severity: {creative-template: error}\n", "severity.creative-template",
     "finding kind 'creative-template' was renamed", "write 'creative-render-error'"),
])
def test_max_segments_and_renamed_kind_validation(message, extra, where, text, hint):
    """max_segments must be >= 1 and only on sms messages; creative-template names its new name."""
    body = extra + scenario(sync=WEB, messages=message, steps=SEND)
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(body, "s.yaml")
    issues = [i for i in err.value.issues if where in i.format()]
    assert issues, [i.format() for i in err.value.issues]
    assert text in issues[0].format()
    if hint:
        assert hint in issues[0].format()


def test_sms_segment_table_by_hand():
    """Four queued SMS of message p over 2 simulated days: segments 1, 1, 2 (GSM-7) and 3 (UCS-2):
    sends 4 (3 GSM-7, 1 UCS-2), 7 segments, 7 / 4 = 1.75 per send, max 3, budget 1 -> 2 sends over
    it, 7 / 2 = 3.5 segments per day. Message q: one GSM-7 send of 1 segment, no budget."""
    import pandas as pd

    from simulator.report.data import sms_segment_table

    details = ["queue wait 0s; chars=10; enc=GSM-7; seg=1; req=1; inst=1",
               "queue wait 0s; chars=10; enc=GSM-7; seg=1; req=2; inst=1",
               "queue wait 0s; chars=200; enc=GSM-7; seg=2; req=3; inst=1",
               "queue wait 0s; chars=140; enc=UCS-2; seg=3; req=4; inst=1",
               "queue wait 0s; chars=5; enc=GSM-7; seg=1; req=5; inst=1"]
    queued = pd.DataFrame({"message": ["p", "p", "p", "p", "q"], "detail": details})
    table = sms_segment_table(queued, 2.0, {"p": 1, "q": None})
    assert table.to_dict("records") == [
        {"message": "p", "sends": 4, "GSM-7 sends": 3, "UCS-2 sends": 1, "segments per send": 1.75,
         "max segments per send": 3, "budget": 1, "sends over budget": 2, "segments": 7, "segments per day": 3.5},
        {"message": "q", "sends": 1, "GSM-7 sends": 1, "UCS-2 sends": 0, "segments per send": 1.0,
         "max segments per send": 1, "budget": "none", "sends over budget": 0, "segments": 1,
         "segments per day": 0.5}]
    assert sms_segment_table(queued.iloc[0:0], 2.0).empty


def test_report_shows_the_sms_segment_table(tmp_path):
    """End to end: 3 customers enter at +1h (duration 3d) and get a promotional SMS of 161 GSM-7
    septets (2 segments, budget 1): the report's table says 3 sends, 6 segments, 2 per send, 3 over
    budget, 6 / 3 = 2 segments per day; findings.csv has 3 creative-sms-segments."""
    import pandas as pd

    text = scenario(sync=WEB, messages=sms("a" * 150 + " Reply STOP"), steps=SEND)
    people = [person((H, "go"), name=f"c{i}") for i in range(3)]
    run_scenario(load_scenario_text(text), scripted=people, out=tmp_path / "run", report=True)
    html = (tmp_path / "run" / "report.html").read_text()
    assert 'id="sms-segments"' in html
    part = html.split('id="sms-segments"', 1)[1].split("</table>", 1)[0]
    cells = [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", part, re.S)]
    row = dict(zip(cells[0], cells[1]))
    assert len(cells) == 2 and row["message"] == "p"
    assert (row["sends"], row["segments"], row["segments per send"], row["sends over budget"],
            row["segments per day"]) == ("3", "6", "2", "3", "2")
    findings = pd.read_csv(tmp_path / "run" / "findings.csv")
    assert (findings["kind"] == "creative-sms-segments").sum() == 3


# --------------------------------------------------------------------------- compliance-quiet-hours

D = 24 * H
PROMO_SMS = '  p: {channel: sms, body: "20% off today. Reply STOP to opt out", tags: [promo]}'
PLAIN_SMS = '  p: {channel: sms, body: "Your order shipped. Reply STOP to opt out"}'


def comply(packs: str, people, message: str = PROMO_SMS):
    text = (f"compliance: {packs}\n"
            + scenario(start="2025-11-01T00:00:00Z", duration="5d", sync=WEB, messages=message, steps=SEND))
    return kinds(run_scenario(load_scenario_text(text), scripted=list(people)), "compliance-quiet-hours")


def test_compliance_quiet_hours_in_the_recipients_zone_across_dst():
    """us-fl allows 08:00-20:00 recipient local time. Start 2025-11-01 00:00Z; US DST ends Sun 2 Nov.
    ny1 at +24.5h = 2025-11-02 00:30Z = Sat 20:30 EDT in New York: outside -> 1 finding, next allowed
    2025-11-02 13:00Z (Sun 08:00 EST, after the change). chi at the same instant is Sat 19:30 CDT in
    Chicago: inside. ny2 at +3d 0.5h = 2025-11-04 00:30Z = Mon 19:30 EST: inside. -> exactly 1."""
    found = comply("[us-fl]", [person((24.5 * H, "go"), name="ny1", zone="America/New_York"),
                               person((24.5 * H, "go"), name="chi", zone="America/Chicago"),
                               person((3 * D + 0.5 * H, "go"), name="ny2", zone="America/New_York")])
    assert found["customer"].tolist() == ["ny1"]
    row = found.iloc[0]
    assert row["rule"] == "us-fl:quiet-hours" and row["severity"] == "error" and row["t"] == 24.5 * H
    assert "at Sat 20:30 EDT (America/New_York): outside us-fl quiet-hours" in row["message"]
    assert "[Fla. Stat. 501.616(6)(a), confidence statute]" in row["root_cause"]
    assert "next allowed instant was 2025-11-02 13:00 UTC (08:00 EST)" in row["root_cause"]
    assert "the scenario has no quiet hours for sms" in row["root_cause"]


def test_compliance_quiet_hours_names_every_blocking_pack():
    """compliance: [us-tcpa, us-fl]. a at 2025-11-04 01:30Z = Mon 20:30 EST: us-fl forbids it (20:00),
    us-tcpa allows it (21:00) -> rule 'us-fl:quiet-hours'. b at 02:30Z = 21:30 EST: both forbid ->
    'us-tcpa:quiet-hours; us-fl:quiet-hours' (scenario order). 2 findings."""
    found = comply("[us-tcpa, us-fl]", [person((3 * D + 1.5 * H, "go"), name="a", zone="America/New_York"),
                                        person((3 * D + 2.5 * H, "go"), name="b", zone="America/New_York")])
    assert dict(zip(found["customer"], found["rule"])) == {
        "a": "us-fl:quiet-hours", "b": "us-tcpa:quiet-hours; us-fl:quiet-hours"}


def test_compliance_quiet_hours_skips_what_the_rules_do_not_cover():
    """The same 20:30 EDT delivery as above: a transactional SMS (no promo tag) is not covered by
    us-fl's marketing rule; with no compliance packs nothing is checked; ca-crtc covers voice only."""
    ny = [person((24.5 * H, "go"), name="ny1", zone="America/New_York")]
    assert comply("[us-fl]", ny, PLAIN_SMS).empty
    assert comply("[]", ny).empty
    assert comply("[ca-crtc]", ny).empty


@pytest.mark.parametrize("packs, where, text", [
    ("[us-fla]", "s.yaml:1:14: compliance[0]", "unknown compliance pack 'us-fla'"),
    ("[us-fl, us-fl]", "compliance[1]", "compliance pack 'us-fl' is listed twice (also compliance[0])"),
])
def test_compliance_key_validation(packs, where, text):
    """Pack names are checked against the bundled packs, with a did-you-mean."""
    body = f"compliance: {packs}\n" + scenario(sync=WEB, messages=PROMO_SMS, steps=SEND)
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(body, "s.yaml")
    shown = [i.format() for i in err.value.issues]
    assert any(where in s and text in s for s in shown), shown
    if "us-fla" in packs:
        assert any("did you mean 'us-fl'?" in s for s in shown), shown


def test_lint_uses_the_scenarios_compliance_packs(tmp_path):
    """lint without --pack checks the scenario's compliance: packs. New York customers, no quiet hours,
    a promotional SMS: us-fl forbids 00:00-08:00 and 20:00-24:00 local -> one error, exit 1. UTC
    customers have no country in the IANA tables, so us-fl covers none of them -> exit 0."""
    from click.testing import CliRunner

    from simulator.cli import cli

    path = tmp_path / "s.yaml"
    path.write_text("compliance: [us-fl]\n" + scenario(sync=WEB, messages=PROMO_SMS, steps=SEND,
                                                         zone="America/New_York"))
    r = CliRunner().invoke(cli, ["lint", str(path), "--sample", "5"])
    assert r.exit_code == 1, r.output
    assert "; packs us-fl" in r.output
    assert ("error compliance-quiet-hours: promotional sms can go out at 00:00-08:00, 20:00-24:00 local time for "
            "customers in America/New_York") in r.output
    path.write_text("compliance: [us-fl]\n" + scenario(sync=WEB, messages=PROMO_SMS, steps=SEND))
    r = CliRunner().invoke(cli, ["lint", str(path), "--sample", "5"])
    assert r.exit_code == 0 and "compliance-quiet-hours" not in r.output, r.output


def test_compliance_packs_cover_only_their_country():
    """Start 2025-11-01 00:00Z. Three customers each get a promotional SMS at 20:30 local:
    ny at 2025-11-04 01:30Z (Mon 20:30 EST, UTC-5), lon at 2025-11-03 20:30Z (Mon 20:30 GMT),
    tok at 2025-11-03 11:30Z (Mon 20:30 JST, UTC+9). us-fl (US, 08:00-20:00) covers only ny
    (New_York is US; London is GB/GG/IM/JE, Tokyo JP/AU in zone1970.tab) -> 1 finding, ny.
    in-tccc (IN) covers none of them -> 0. kol at 2025-11-03 16:00Z = 21:30 IST (UTC+5:30), outside
    in-tccc's 09:00-21:00 Asia/Kolkata -> 1 finding, kol."""
    people = [person((3 * D + 1.5 * H, "go"), name="ny", zone="America/New_York"),
              person((2 * D + 20.5 * H, "go"), name="lon", zone="Europe/London"),
              person((2 * D + 11.5 * H, "go"), name="tok", zone="Asia/Tokyo")]
    found = comply("[us-fl]", people)
    assert found["customer"].tolist() == ["ny"] and found["rule"].tolist() == ["us-fl:quiet-hours"]
    assert comply("[in-tccc]", people).empty
    kol = comply("[in-tccc]", people + [person((2 * D + 16 * H, "go"), name="kol", zone="Asia/Kolkata")])
    assert kol["customer"].tolist() == ["kol"] and kol["rule"].tolist() == ["in-tccc:quiet-hours"]
    assert "at Mon 21:30 IST (Asia/Kolkata)" in kol.iloc[0]["message"]


_ALPHABET = "abc XYZ09.,!\r\n@€{}[]^|~\\ëçé’😀👨‍👩‍👧🇮🇹\u0301"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abcdefghij ")) | st.sampled_from(list(_ALPHABET)), max_size=480))
def test_sms_detail_equals_sms_segments(text):
    """The queued record's enc/seg (with its GSM-7 shortcut and cache) is exactly sms_segments'."""
    seg = sms_segments(text)
    assert sms_detail(text) == f"enc={seg.encoding}; seg={seg.segments}"


@pytest.mark.parametrize("n, seg", [(0, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)])
def test_sms_detail_shortcut_boundaries(n, seg):
    """Plain GSM-7 letters: 160 fit one segment; then 153 per segment (306 = 2 x 153, 459 = 3 x 153)."""
    assert sms_detail("a" * n) == f"enc=GSM-7; seg={seg}"


CLI_SCENARIO = """\
compliance: [us-fl]
scenario: cli-creative
start: 2025-11-01T00:00:00Z
duration: 5d
default_timezone: America/New_York
population:
  size: 3
  timezones: {{America/New_York: 1.0}}
  consent: {{email: 1.0, sms: 1.0}}
  events:
    - {{name: go, origin: web, once: {{probability: 1, at: {{fixed: {at}}}}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
  sms: {{kind: channel, channel: sms}}
sync:
  - {{from: web, to: cdp, fields: [go]}}
messages:
  p: {{channel: sms, body: "20% off today. Reply STOP to opt out", tags: [promo]}}
  e: {{channel: email, body: "{email}", tags: [promo]}}
journeys:
  - name: j
    reads_from: cdp
    entry: {{event: go}}
    steps:
      - {{id: a, send: p}}
      - {{id: b, send: e}}
"""


@pytest.mark.parametrize("at, email, code, kinds_found", [
    ("24h30m", "20% off", 1, {"compliance-quiet-hours": 3, "creative-unsubscribe": 3}),
    ("72h30m", "20% off {{ unsubscribe_url }}", 0, {}),
])
def test_run_cli_exit_code_and_findings(tmp_path, at, email, code, kinds_found):
    """journeysim run, no gates: error-severity findings fail the run. 3 customers in New York enter
    at `at` and get a promotional SMS and a promotional email at once. 24h30m = 2025-11-02 00:30Z =
    Sat 20:30 EDT: us-fl forbids it -> 3 compliance-quiet-hours; the email has no unsubscribe link
    -> 3 creative-unsubscribe; exit 1. The twin: 72h30m = Mon 19:30 EST and the link -> none, exit 0."""
    import pandas as pd
    from click.testing import CliRunner

    from simulator.cli import cli

    path = tmp_path / "s.yaml"
    path.write_text(CLI_SCENARIO.format(at=at, email=email))
    out = tmp_path / "run"
    r = CliRunner().invoke(cli, ["run", str(path), "--out", str(out), "--quiet"])
    assert r.exit_code == code, r.output
    found = pd.read_csv(out / "findings.csv")
    assert found["kind"].value_counts().to_dict() == kinds_found
    if code:
        assert set(found.loc[found["kind"] == "compliance-quiet-hours", "rule"]) == {"us-fl:quiet-hours"}


@pytest.mark.parametrize("gate, passed", [('"< 30%"', False), ('"<= 40%"', True)])
def test_gate_on_creative_missing_field_rate(gate, passed):
    """gates: {creative-missing-field: ...}. 10 customers enter at +1h; 6 named, 4 without a
    first_name -> 4 findings on 4 of 10 entered customers = 40%: '< 30%' fails, '<= 40%' passes."""
    people = [person((0.0, "named"), (H, "go"), name=f"n{i}") for i in range(6)]
    people += [person((H, "go"), name=f"x{i}") for i in range(4)]
    text = (f"gates: {{creative-missing-field: {gate}}}\n"
            + scenario(sync=WEB + "\n  - {from: crm, to: esp, fields: [first_name, n]}",
                       extra_events=NAME_EVENTS, messages=EMAIL_NAME, steps=SEND))
    result = run_scenario(load_scenario_text(text), scripted=people)
    (g,) = result.summary["findings"]["gates"]
    assert g["passed"] is passed and "40%" in g["actual"] and "4 of 10" in g["actual"]


# --------------------------------------------------------------------------- creative-length

AARON = "    - {name: aaron, origin: crm, once: {probability: 1, at: {fixed: 0s}}, sets: {first_name: Aaron}}"


def run_length(messages: str, people, steps: str = SEND):
    """Email at 'esp', push at 'app'; first_name reaches both instantly."""
    text = scenario(sync=WEB + "\n  - {from: crm, to: esp, fields: [first_name]}"
                    "\n  - {from: crm, to: app, fields: [first_name]}",
                    systems="  app: {kind: channel, channel: push}", extra_events=AARON, messages=messages, steps=steps)
    return run_scenario(load_scenario_text(text), scripted=list(people))


@pytest.mark.parametrize("limit, over", [(14, []), (13, ["aaron"]), (9, ["aaron"]), (8, ["aaron", "nobody"])])
def test_subject_length_against_max_subject_chars(limit, over):
    """Subject '{{ first_name }}, 20% off': ', 20% off' is 9 characters (comma, space, '20%', space,
    'off'). 'aaron' (first_name Aaron, 5 letters, set at 0) renders 5 + 9 = 14 characters at +1h;
    'nobody' (no first_name) renders 9. Limit 14: none over; 13 and 9: aaron only; 8: both.
    The queued record carries subject_chars=14 / =9; one warning per send over the limit."""
    msg = f"  p: {{channel: email, subject: \"{{{{ first_name }}}}, 20% off\", body: x, max_subject_chars: {limit}}}"
    result = run_length(msg, [person((0.0, "aaron"), (H, "go"), name="aaron"), person((H, "go"), name="nobody")])
    ev = result.events()
    queued = ev[(ev["kind"] == "queued") & (ev["message"] == "p")]
    chars = dict(zip(queued["customer"], queued["detail"].str.extract(r"subject_chars=(\d+)", expand=False)))
    assert chars == {"aaron": "14", "nobody": "9"}
    found = kinds(result, "creative-length")
    assert sorted(found["customer"]) == over
    assert set(found["severity"]) <= {"warning"} and set(found["t"]) <= {H}
    if "aaron" in over:
        row = found[found["customer"] == "aaron"].iloc[0]
        assert row["message"] == f"email p to aaron (j/a) has a 14-character subject, over its limit of {limit} " \
                                 "(max_subject_chars)"
        assert row["root_cause"].startswith(f"the rendered subject is {14 - limit} character")


@pytest.mark.parametrize("limit, n", [(9, 0), (8, 1)])
def test_push_title_length_against_max_title_chars(limit, n):
    """Push title 'Hi {{ first_name }}!' for Aaron: 'Hi ' 3 + 5 + '!' 1 = 9 characters; the emoji
    body does not count. Limit 9: none; 8: one finding (1 character too long)."""
    msg = (f"  p: {{channel: push, title: \"Hi {{{{ first_name }}}}!\", body: \"🎉 {{{{ first_name }}}}\", "
           f"max_title_chars: {limit}}}")
    result = run_length(msg, [person((0.0, "aaron"), (H, "go"), name="aaron")])
    ev = result.events()
    assert "title_chars=9; " in ev[(ev["kind"] == "queued") & (ev["message"] == "p")]["detail"].iloc[0]
    found = kinds(result, "creative-length")
    assert len(found) == n
    if n:
        assert found.loc[0, "message"] == "push p to aaron (j/a) has a 9-character title, over its limit of 8 " \
                                          "(max_title_chars)"
        assert found.loc[0, "root_cause"].startswith("the rendered title is 1 character too long")


def test_no_limit_leaves_the_queued_record_unchanged():
    """Without max_subject_chars the queued detail carries no subject_chars (logs of scenarios that
    set no limit are byte-identical to before) and no creative-length is possible."""
    msg = "  p: {channel: email, subject: \"{{ first_name }}, 20% off\", body: x}"
    result = run_length(msg, [person((0.0, "aaron"), (H, "go"), name="aaron")])
    ev = result.events()
    assert not ev["detail"].str.contains("subject_chars", na=False).any()
    assert kinds(result, "creative-length").empty


def test_length_rule_counts_code_points():
    """over_length counts Unicode code points: '🎉 Zoë' is 5 (emoji 1, space 1, Z o ë); a limit of 4
    is 1 over, 5 is not. length_detail writes only the parts with a limit."""
    m = Message(channel="push", title="t", body="b", max_title_chars=4)
    assert over_length(m, {"title": "🎉 Zoë", "body": "b" * 500}) == [("title", 5, 4)]
    assert over_length(m.model_copy(update={"max_title_chars": 5}), {"title": "🎉 Zoë"}) == []
    assert length_detail(m, {"title": "🎉 Zoë"}) == "title_chars=5; "
    assert length_detail(Message(channel="email", subject="s", body="b"), {"subject": "s"}) == ""


@pytest.mark.parametrize("message, where, text", [
    ("  p: {channel: email, body: x, max_subject_chars: 40}", "messages.p.max_subject_chars",
     "'max_subject_chars' limits the subject, but this message has no 'subject'"),
    ("  p: {channel: email, subject: s, body: x, max_subject_chars: 0}", "messages.p.max_subject_chars",
     "greater than or equal to 1"),
    ("  p: {channel: email, subject: s, body: x, max_subject_char: 40}", "messages.p", "max_subject_char"),
])
def test_length_limit_validation(message, where, text):
    """A limit needs the part it limits and is >= 1; a misspelt key is an error naming it."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(scenario(sync=WEB, messages=message, steps=SEND), "s.yaml")
    issues = [i.format() for i in err.value.issues if where in i.format()]
    assert issues and text in issues[0], [i.format() for i in err.value.issues]


@pytest.mark.parametrize("gate, passed", [('"== 0"', False), ('"<= 1"', True)])
def test_gate_on_creative_length(gate, passed):
    """gates: {creative-length: ...}: aaron's 14-character subject over a limit of 13 is 1 finding."""
    msg = "  p: {channel: email, subject: \"{{ first_name }}, 20% off\", body: x, max_subject_chars: 13}"
    text = (f"gates: {{creative-length: {gate}}}\n"
            + scenario(sync=WEB + "\n  - {from: crm, to: esp, fields: [first_name]}", extra_events=AARON,
                       messages=msg, steps=SEND))
    result = run_scenario(load_scenario_text(text), scripted=[person((0.0, "aaron"), (H, "go"), name="aaron")])
    (g,) = result.summary["findings"]["gates"]
    assert g["passed"] is passed
