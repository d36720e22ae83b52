"""Platform presets (docs/platforms.md): each rule's effect on a tiny scenario, the scenario's keys
winning, the merge plan, the CLI (``platforms``, ``validate --explain``) and bad names.

Every time was derived by hand before running. The scenario starts 2026-12-01T00:00:00Z; builders come
from test_findings_kinds (sources web/app/pos, crm, cdp, esp for email, sms; the entry event ``go``
reaches the cdp at once; ``buy`` happens at web; ``stage_up`` sets stage B at crm; delivery delays 0).
New York is UTC-5 in December: 22:00 EST is 03:00 UTC the next day (t = 27h).
"""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT
from hypothesis import given, settings
from hypothesis import strategies as st
from test_findings_kinds import H, M, journey, person, run, scenario

from simulator.cli import cli
from simulator.errors import ScenarioError
from simulator.platforms import KEYS, plan, presets
from simulator.platforms.merge import apply_platform
from simulator.platforms.presets import Preset, Rule
from simulator.scenario.load import load_scenario, load_scenario_text
from simulator.scenario.yamlread import Located

NY = "America/New_York"
BUY_10M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 10m}}"
BUY_2M = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2m}}"
BUY_2H = "  - {from: web, to: cdp, fields: [buy], latency: {fixed: 2h}}"
STAGE_10M = "  - {from: crm, to: cdp, fields: [stage], latency: {fixed: 10m}}"


def on(platform: str | None) -> str:
    return f"platform: {platform}\n" if platform else ""


def kinds(result, kind: str) -> list:
    ev = result.events()
    return ev[ev["kind"] == kind]["t"].tolist()


def delivered(result) -> list:
    ev = result.events()
    return ev[ev["kind"] == "delivered"][["t", "message"]].values.tolist()


# ------------------------------------------------------------------------- exit_when.check per platform

def wait_send_wait(platform: str | None, latency: str, check: str = ""):
    """Entry 0; steps wait 1h, send m, wait 1d; exit on buy; ana buys at 30m at web."""
    ew = "{event: buy" + (f", check: {check}" if check else "") + "}"
    text = scenario(sync=latency, journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}", "{id: w2, wait: 1d}",
                                                   exit_when=ew), extra=on(platform))
    return run(text, person((0, "go"), (30 * M, "buy")))


def test_sfmc_exits_when_the_wait_ends():
    """sfmc sets check after_waits. The buy (30m) reaches the cdp at 40m, mid-wait: the contact leaves
    exactly when the 1h wait ends (1h), before the send; m is never sent. Without a platform (default
    continuous) the exit is at 40m, on arrival."""
    assert kinds(wait_send_wait("sfmc", BUY_10M), "exit") == [1 * H]
    assert delivered(wait_send_wait("sfmc", BUY_10M)) == []
    assert kinds(wait_send_wait(None, BUY_10M), "exit") == [40 * M]


def test_sfmc_a_purchase_after_the_wait_is_seen_at_the_next_wait_end():
    """sfmc, web->cdp 2h: the buy reaches the cdp at 2h30m, after the 1h check; m is delivered at 1h and
    the contact leaves when the 1d wait ends: 1h + 24h = 25h."""
    result = wait_send_wait("sfmc", BUY_2H)
    assert delivered(result) == [[1 * H, "m"]]
    assert kinds(result, "exit") == [25 * H]


def test_sfmc_the_scenarios_own_check_wins():
    """sfmc with the journey's own `check: continuous`: the exit is at 40m, on arrival, as without a preset."""
    assert kinds(wait_send_wait("sfmc", BUY_10M, check="continuous"), "exit") == [40 * M]


def braze_delay(platform: str | None, check: str = ""):
    """Entry 0; steps wait 1d, send m; exit on buy; ana buys at 2h; web->cdp 2m (at the cdp 2h02m)."""
    ew = "{event: buy" + (f", check: {check}" if check else "") + "}"
    text = scenario(sync=BUY_2M, journeys=journey("{id: d, wait: 1d}", "{id: s, send: m}", exit_when=ew),
                    extra=on(platform))
    return run(text, person((0, "go"), (2 * H, "buy")))


def test_braze_user_who_meets_exit_criteria_in_a_delay_stays_until_it_ends_and_gets_nothing():
    """braze sets check after_waits: the buy is at the cdp at 2h02m, inside the 1d Delay; the user stays
    in the Delay and leaves when it ends (24h), and m (after the Delay) is never sent. Without a platform
    the exit is at 2h02m; with the scenario's `check: continuous` under braze, too."""
    result = braze_delay("braze")
    assert kinds(result, "exit") == [24 * H]
    assert delivered(result) == []
    assert kinds(braze_delay(None), "exit") == [2 * H + 2 * M]
    assert kinds(braze_delay("braze", check="continuous"), "exit") == [2 * H + 2 * M]


def test_klaviyo_checks_flow_filters_before_the_first_message():
    """klaviyo sets check at_sends. exit_when `tier == 'bronze'` already holds at entry (0). at_sends checks
    when a send step is reached, the first step here: the profile leaves at 0 and gets nothing. sfmc (after_waits)
    sends m at 0 (no wait before it) and removes the contact when the 1h wait ends (1h), before m2."""
    def flow(platform: str, check: str = ""):
        ew = "{when: \"tier == 'bronze'\"" + (f", check: {check}" if check else "") + "}"
        text = scenario(sync="  - {from: crm, to: cdp, fields: [tier]}\n  - {from: pos, to: cdp, fields: [tier]}",
                        journeys=journey("{id: a, send: m}", "{id: w, wait: 1h}", "{id: b, send: m2}",
                                         exit_when=ew), extra=on(platform))
        return run(text, person((0, "go")))

    result = flow("klaviyo")
    assert (kinds(result, "exit"), delivered(result)) == ([0.0], [])
    result = flow("sfmc")
    assert (kinds(result, "exit"), delivered(result)) == ([1 * H], [[0.0, "m"]])
    result = flow("klaviyo", check="after_waits")  # the scenario's own check wins
    assert (kinds(result, "exit"), delivered(result)) == ([1 * H], [[0.0, "m"]])


def test_customerio_condition_exit_is_checked_when_it_is_time_to_send():
    """customerio sets check at_steps for an exit on a condition. stage B is made at crm at 30m and reaches
    the cdp at 40m (mid-wait); the check before the send at 1h sees it: exit at 1h, m not sent. Without
    a platform (continuous) the exit is at 40m; with the scenario's `check: continuous`, too."""
    def stage(platform: str | None, check: str = ""):
        ew = "{when: \"stage == 'B'\"" + (f", check: {check}" if check else "") + "}"
        text = scenario(sync=STAGE_10M, journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}",
                                                         "{id: w2, wait: 1d}", exit_when=ew), extra=on(platform))
        return run(text, person((0, "go"), (30 * M, "stage_up")))

    result = stage("customerio")
    assert (kinds(result, "exit"), delivered(result)) == ([1 * H], [])
    assert kinds(stage(None), "exit") == [40 * M]
    assert kinds(stage("customerio", check="continuous"), "exit") == [40 * M]


def test_customerio_goal_exit_is_immediate():
    """customerio sets check continuous for an exit on an event (a conversion goal): the buy reaches the
    cdp at 40m and the person leaves then, mid-wait; the model says the preset set it."""
    sc = load_scenario_text(scenario(sync=BUY_10M, journeys=journey("{id: w1, wait: 1h}", "{id: s1, send: m}",
                                                                    exit_when="{event: buy}"),
                                     extra=on("customerio")))
    assert sc.journeys[0].exit_when.check == "continuous"
    assert sc.effective()["journeys"][0]["exit_when"]["check"] == "continuous"
    assert kinds(wait_send_wait("customerio", BUY_10M), "exit") == [40 * M]


def held_sms(platform: str, recheck: str = "", quiet: str = "hold"):
    """ana (New York) enters at 27h (22:00 EST); the SMS t is decided at once and held by quiet hours
    (21:00-08:00) until 37h (08:00 EST); she buys at 28h, at the cdp at 28h02m (exit, continuous)."""
    action = f", action: {quiet}" if quiet else ""
    ew = "{event: buy" + (f", recheck: {recheck}" if recheck else "") + "}"
    policies = f"  quiet_hours: {{from: \"21:00\", to: \"08:00\", channels: [sms]{action}}}"
    text = scenario(sync=BUY_2M, policies=policies, extra=on(platform),
                    journeys=journey("{id: s, send: t}", "{id: w, wait: 1d}", exit_when=ew))
    return run(text, person((27 * H, "go"), (28 * H, "buy"), zone=NY))


def test_customerio_rechecks_a_held_message_when_it_is_sent():
    """customerio sets recheck at_release: at 37h the re-check reads the buy on the cdp and drops t; nothing
    is delivered. With the scenario's `recheck: never`, t is released blindly and delivered at 37h."""
    result = held_sms("customerio")
    assert kinds(result, "exit-recheck") == [37 * H] and kinds(result, "suppressed") == [37 * H]
    assert delivered(result) == []
    assert delivered(held_sms("customerio", recheck="never")) == [[37 * H, "t"]]


# ------------------------------------------------------------------------------- braze caps and quiet hours

def capped(platform: str | None, cap: str, policy: str = ""):
    """ana (UTC) enters at 22h: m at 22h, wait 3h, m2 at 25h (01:00 on Dec 2); email cap max 1 per `cap`."""
    policies = f"  frequency_caps: [{{channel: email, max: 1, {cap}}}]" + (f"\n  {policy}" if policy else "")
    text = scenario(policies=policies, extra=on(platform),
                    journeys=journey("{id: a, send: m}", "{id: w, wait: 3h}", "{id: b, send: m2}"))
    return run(text, person((22 * H, "go")))


def test_braze_daily_cap_counts_calendar_days_in_the_users_zone():
    """braze sets window calendar on a cap per 1d: m (Dec 1 22:00) and m2 (Dec 2 01:00) fall on two
    calendar days, so both are delivered. Without a platform (sliding 24h) m2 is 3h after m: capped and
    dropped; with the scenario's own `window: sliding` under braze, the same."""
    assert delivered(capped("braze", "per: 1d")) == [[22 * H, "m"], [25 * H, "m2"]]
    assert delivered(capped(None, "per: 1d")) == [[22 * H, "m"]]
    assert delivered(capped("braze", "per: 1d, window: sliding")) == [[22 * H, "m"]]


def test_braze_capped_message_is_dropped_and_the_scenario_can_defer_it():
    """braze sets on_cap drop: with a sliding 1d cap, m2 (25h) is dropped and the journey goes on. With the
    scenario's `on_cap: defer`, m2 waits until m leaves the window, 22h + 24h = 46h, and is delivered then."""
    assert delivered(capped("braze", "per: 1d, window: sliding")) == [[22 * H, "m"]]
    deferred = capped("braze", "per: 1d, window: sliding", policy="on_cap: defer")
    assert delivered(deferred) == [[22 * H, "m"], [46 * H, "m2"]]


def test_braze_weekly_cap_is_rolling():
    """braze sets window sliding on a cap per 7d (Braze: 'Week: Rolling 7 day') and calendar on 1d; a cap
    per 36h is neither: the preset leaves it (sliding, journeysim's default) and says so."""
    text = scenario(policies="  frequency_caps: [{channel: email, max: 1, per: 7d}, {channel: any, max: 3, per: 1d},"
                             " {channel: sms, max: 1, per: 36h}]",
                    journeys=journey("{id: a, send: m}"), extra=on("braze"))
    sc = load_scenario_text(text)
    assert [c.window for c in sc.policies.frequency_caps] == ["sliding", "calendar", "sliding"]
    assert [c.get("window") for c in sc.effective()["policies"]["frequency_caps"]] == ["sliding", "calendar", None]
    outcomes = [o for o in plan(yaml.safe_load(text), presets()["braze"]) if "frequency_caps" in o.path]
    assert [(o.path, o.status, o.value) for o in outcomes] == [
        ("policies.frequency_caps[1].window", "set", "calendar"),
        ("policies.frequency_caps[2].window", "skipped", None),
        ("policies.frequency_caps[0].window", "set", "sliding")]
    assert "per 36h is not whole days or weeks" in outcomes[1].reason


def test_braze_quiet_hours_hold_and_the_scenario_can_drop():
    """braze sets quiet_hours.action hold: the SMS decided at 22:00 EST is held until 08:00 EST (37h) and
    delivered then (no buy in this run). With the scenario's own `action: drop` it is never delivered."""
    def sms(quiet: str):
        policies = "  quiet_hours: {from: \"21:00\", to: \"08:00\", channels: [sms]" + \
                   (f", action: {quiet}" if quiet else "") + "}"
        text = scenario(policies=policies, extra=on("braze"), journeys=journey("{id: s, send: t}"))
        return run(text, person((27 * H, "go"), zone=NY))

    assert delivered(sms("")) == [[37 * H, "t"]]
    assert delivered(sms("drop")) == []


# --------------------------------------------------------------------------------------- the merge itself

def test_both_forms_of_exit_are_left_to_the_scenario_under_customerio():
    """customerio checks a goal (event) at once and filters (condition) at send: an exit_when with both
    gets no check from the preset (journeysim's default continuous applies) and the plan says why; the
    recheck rule (no `where`) still applies."""
    text = scenario(sync=BUY_10M + "\n" + STAGE_10M,
                    journeys=journey("{id: a, send: m}", exit_when="{event: buy, when: \"stage == 'B'\"}"),
                    extra=on("customerio"))
    outcomes = plan(yaml.safe_load(text), presets()["customerio"])
    assert [(o.path, o.status) for o in outcomes] == [("journeys[j].exit_when.check", "skipped"),
                                                      ("journeys[j].exit_when.recheck", "set")]
    assert outcomes[0].reason.startswith("customerio's rules for exit_when.check cover an exit_when on an event "
                                         "or on a condition, not on both")
    sc = load_scenario_text(text)
    assert "check" not in sc.effective()["journeys"][0]["exit_when"]
    assert sc.effective()["journeys"][0]["exit_when"]["recheck"] == "at_release"


def test_a_set_override_wins_over_the_preset():
    """--set journeys[j].exit_when.check=continuous under sfmc: the scenario's value (given with --set) wins."""
    text = scenario(sync=BUY_10M, journeys=journey("{id: a, send: m}", exit_when="{event: buy}"), extra=on("sfmc"))
    assert load_scenario_text(text).journeys[0].exit_when.check == "after_waits"
    sc = load_scenario_text(text, overrides=["journeys[j].exit_when.check=continuous"])
    assert sc.journeys[0].exit_when.check == "continuous"
    assert load_scenario_text(scenario(sync=BUY_10M, journeys=journey("{id: a, send: m}", exit_when="{event: buy}")),
                              overrides=["platform=sfmc"]).journeys[0].exit_when.check == "after_waits"


def test_the_merged_scenario_is_what_scenario_json_records():
    """effective() (written to the run's scenario.json) names the platform and carries the preset's values;
    it validates back to an equal model (the preset then finds every key given and changes nothing)."""
    text = scenario(policies="  frequency_caps: [{channel: email, max: 1, per: 1d}]", sync=BUY_10M,
                    journeys=journey("{id: a, send: m}", exit_when="{event: buy}"), extra=on("braze"))
    sc = load_scenario_text(text)
    eff = sc.effective()
    assert eff["platform"] == "braze"
    assert eff["journeys"][0]["exit_when"]["check"] == "after_waits"
    assert eff["policies"]["on_cap"] == "drop"
    assert eff["policies"]["frequency_caps"][0]["window"] == "calendar"
    again = load_scenario_text(json.dumps(eff))
    assert again.effective() == eff


def test_unknown_platform_is_a_scenario_error_with_did_you_mean_and_the_list():
    text = scenario(journeys=journey("{id: a, send: m}"), extra="platform: brazee\n")
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text, file="s.yaml")
    [issue] = info.value.issues
    assert issue.path == "platform" and issue.message == "unknown platform 'brazee'"
    assert issue.hint == "did you mean 'braze'? known platforms: ajo, braze, customerio, dittofeed, hubspot, klaviyo, sfmc"
    assert issue.line == text.splitlines().index("platform: brazee") + 1
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(scenario(journeys=journey("{id: a, send: m}"), extra="platform: mailchimp\n"))
    assert info.value.issues[0].hint == "known platforms: ajo, braze, customerio, dittofeed, hubspot, klaviyo, sfmc"


@pytest.mark.parametrize("name", sorted(presets()))
@pytest.mark.parametrize("path", sorted((ROOT / "scenarios").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_preset_applies_cleanly_to_every_bundled_scenario(name, path):
    """No preset value can make a valid scenario invalid, and the scenario's own keys never change."""
    base = load_scenario(path).effective()
    sc = load_scenario(path, overrides=[f"platform={name}"])
    eff = sc.effective()
    assert eff.pop("platform") == name

    def given(a, b):  # every key the scenario gives keeps its value
        if isinstance(a, dict):
            return all(k in b and given(v, b[k]) for k, v in a.items())
        if isinstance(a, list):
            return len(a) == len(b) and all(given(x, y) for x, y in zip(a, b))
        return a == b

    assert given(base, eff)


VENDOR = {"ajo": ("experienceleague.adobe.com",), "braze": ("braze.com",), "sfmc": ("help.salesforce.com",), "customerio": ("customer.io",),
          "klaviyo": ("help.klaviyo.com",), "hubspot": ("knowledge.hubspot.com",),
          "dittofeed": ("docs.dittofeed.com", "github.com/dittofeed")}  # an open-source vendor's own repository


@pytest.mark.parametrize("name", sorted(presets()))
def test_every_rule_is_cited_on_the_vendors_own_site(name):
    p = presets()[name]
    domains = VENDOR[name]
    for item in [*p.rules, *p.not_modelled]:
        host, owner = (item.source.split("/") + [""])[2:4]
        assert any(host == d or host.endswith("." + d) or f"{host}/{owner}" == d for d in domains), item.source
        assert item.quote.strip() and item.behaviour.strip()


def test_a_preset_rule_must_name_a_known_key_and_value():
    good = {"set": "policies.on_cap", "value": "drop", "behaviour": "b", "source": "https://x", "quote": "q"}
    Rule.model_validate(good)
    for bad, words in [({"set": "policies.priority"}, "not a key a preset may set"),
                       ({"value": "later"}, "takes drop, defer"),
                       ({"where": {"per": "days"}}, "accepts no 'where: per'"),
                       ({"source": "http://x"}, "should match pattern"),
                       ({"set": "journeys[*].max_duration", "value": "soon"}, "takes a duration such as 91d"),
                       ({"set": "journeys[*].max_duration", "value": "0s"}, "longer than 0s")]:
        with pytest.raises(ValueError, match=words):
            Rule.model_validate({**good, **bad})
    assert set(KEYS) >= {r.set for p in presets().values() for r in p.rules}
    with pytest.raises(ValueError):
        Preset.model_validate({"name": "x", "title": "x", "rules": []})


SETTABLE = {
    ("policies", "on_cap"): "defer",
    ("policies", "quiet_hours", "action"): "drop",
    ("policies", "frequency_caps", 0, "window"): "sliding",
    ("journeys", 0, "exit_when", "check"): "continuous",
    ("journeys", 0, "exit_when", "recheck"): "never",
    ("journeys", 0, "max_duration"): "2d",
}


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(presets())), given_keys=st.sets(st.sampled_from(sorted(SETTABLE, key=str))))
def test_property_the_scenario_always_wins_and_merging_twice_changes_nothing(name, given_keys):
    """For any subset of the preset's keys that the scenario gives itself: those keep the scenario's value,
    every 'set' outcome lands in the data, and a second merge is a no-op."""
    data = {"platform": name,
            "policies": {"quiet_hours": {"from": "21:00", "to": "08:00"},
                         "frequency_caps": [{"channel": "email", "max": 1, "per": "1d"}]},
            "journeys": [{"name": "j", "exit_when": {"when": "stage == 'B'"}}]}
    for path in given_keys:
        node = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = SETTABLE[path]
    once = apply_platform(Located(copy.deepcopy(data))).data
    for path in given_keys:
        node = once
        for part in path:
            node = node[part]
        assert node == SETTABLE[path]
    for o in plan(data, presets()[name]):
        if o.status == "set":
            node = once
            for part in o.parts:
                node = node[part]
            assert node == o.value
    assert apply_platform(Located(copy.deepcopy(once))).data == once


# ------------------------------------------------------------------------------------------------ the CLI

def cli_run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_validate_explain_on_the_bundled_cart_scenario_under_braze():
    """cart_abandonment gives its own exit check (continuous), on_cap (drop) and quiet-hours action (hold):
    those are overrides; its caps give no window, so braze sets calendar on the 1d cap and sliding on
    the 7d one."""
    path = str(ROOT / "scenarios" / "cart_abandonment.yaml")
    result = cli_run("validate", "--explain", path, "--set", "platform=braze")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == ("  platform braze, Braze (Canvas Flow): 2 values set by the preset, 3 overridden by the "
                        "scenario, 0 not applicable")
    heads = [ln for ln in lines if ln.startswith(("  set ", "  override ", "  n/a "))]
    assert heads == [
        "  override journeys[cart-abandonment].exit_when.check = continuous   (the scenario's; preset braze says "
        "after_waits)",
        "  override policies.on_cap = drop   (the scenario's; preset braze says drop (the same value))",
        "  set      policies.frequency_caps[0].window = calendar   (preset braze)",
        "  set      policies.frequency_caps[1].window = sliding   (preset braze)",
        "  override policies.quiet_hours.action = hold   (the scenario's; preset braze says hold (the same value))"]
    assert "           source: https://braze.com/docs/user_guide/messaging/messaging_fundamentals/frequency_capping/faq/" \
        in lines
    plain = cli_run("validate", "--explain", path)
    assert plain.exit_code == 0 and "no platform" in plain.output


def test_validate_unknown_platform_exits_2():
    path = str(ROOT / "scenarios" / "cart_abandonment.yaml")
    result = cli_run("validate", path, "--set", "platform=sfcm")
    assert result.exit_code == 2
    assert "platform: unknown platform 'sfcm' (value given with --set); did you mean 'sfmc'?" in result.output


def test_platforms_lists_every_preset_and_one_in_full():
    result = cli_run("platforms")
    assert result.exit_code == 0
    heads = [ln for ln in result.output.splitlines() if ln and not ln.startswith(" ")]
    assert heads == ["ajo: Adobe Journey Optimizer (2 rules, 3 not modelled)",
                     "braze: Braze (Canvas Flow) (5 rules, 2 not modelled)",
                     "customerio: Customer.io (campaigns) (3 rules, 3 not modelled)",
                     "dittofeed: Dittofeed (3 rules, 3 not modelled)",
                     "hubspot: HubSpot workflows (1 rule, 2 not modelled)",
                     "klaviyo: Klaviyo (flows) (1 rule, 1 not modelled)",
                     "sfmc: Salesforce Marketing Cloud Journey Builder (1 rule, 1 not modelled)"]
    one = cli_run("platforms", "customerio")
    assert one.exit_code == 0
    assert "  not modelled:" in one.output and "retry the\n      event for up to 30 minutes" in one.output
    bad = cli_run("platforms", "brazee")
    assert bad.exit_code == 2
    assert "unknown platform 'brazee'; did you mean 'braze'? known platforms: ajo, braze, customerio, dittofeed, hubspot, klaviyo, sfmc" \
        in bad.output


# ------------------------------------------------------------------------- max_duration (a journey timeout)

def timed(max_duration: str, *steps: str, people=None, exit_when: str = "", re_entry: str = "false",
          platform: str | None = None, duration: str = "2d"):
    own = f"    max_duration: {max_duration}\n" if max_duration else ""
    j = journey(*steps, exit_when=exit_when, re_entry=re_entry).replace("    steps:\n", own + "    steps:\n", 1)
    text = scenario(sync=BUY_2M, journeys=j, extra=on(platform), duration=duration)
    return run(text, *(people or [person((0, "go"))]))


def exits(result) -> list:
    ev = result.events()
    return ev[ev["kind"] == "exit"][["t", "step", "detail"]].values.tolist()


def test_max_duration_ends_the_instance_wherever_it_is():
    """max_duration 3h; entry 0; wait 2h, send m (2h), wait 2h, send m2 (would be 4h). m is delivered at
    2h; at 3h the instance leaves from inside the second wait; m2 is never sent."""
    result = timed("3h", "{id: w1, wait: 2h}", "{id: a, send: m}", "{id: w2, wait: 2h}", "{id: b, send: m2}")
    assert delivered(result) == [[2 * H, "m"]]
    assert exits(result) == [[3 * H, "w2", "max_duration reached (3h after entry)"]]


def test_max_duration_runs_before_a_step_due_at_the_same_instant():
    """max_duration 2h and a 2h wait before the send: both are due at 2h; the timeout was scheduled at
    entry, before the wait, so it runs first: exit at 2h, m not sent."""
    result = timed("2h", "{id: w, wait: 2h}", "{id: a, send: m}")
    assert delivered(result) == []
    assert exits(result) == [[2 * H, "w", "max_duration reached (2h after entry)"]]


def test_max_duration_of_an_earlier_instance_does_not_end_a_re_entry():
    """max_duration 3h, re-entry on; exit on buy; wait 5h, send m. ana enters at 0, buys at 30m (at the cdp
    at 32m: exit). She enters again at 2h (the 30m buy is before this entry, so it does not count); the
    first instance's timeout at 3h finds it gone and does nothing; the second leaves at 2h + 3h = 5h,
    inside its wait (which would end at 7h): m is never sent."""
    result = timed("3h", "{id: w, wait: 5h}", "{id: a, send: m}", exit_when="{event: buy}", re_entry="true",
                   people=[person((0, "go"), (30 * M, "buy"), (2 * H, "go"))])
    assert exits(result) == [[32 * M, "w", "exit_when met (buy)"],
                             [5 * H, "w", "max_duration reached (3h after entry)"]]
    assert delivered(result) == []


def test_ajo_profiles_leave_91_days_after_entry():
    """ajo sets max_duration 91d: entry 0, wait 100d, send m; the run lasts 95d. The profile leaves at
    91 x 86400 s = 7862400 s and m is never sent. With the journey's own `max_duration: 1d`, it leaves
    at 86400 s."""
    result = timed("", "{id: w, wait: 100d}", "{id: a, send: m}", platform="ajo", duration="95d")
    assert exits(result) == [[7862400.0, "w", "max_duration reached (13w after entry)"]]  # 91d, written canonically
    assert delivered(result) == []
    result = timed("1d", "{id: w, wait: 100d}", "{id: a, send: m}", platform="ajo", duration="95d")
    assert exits(result) == [[86400.0, "w", "max_duration reached (1d after entry)"]]


def test_max_duration_must_be_positive():
    text = scenario(journeys=journey("{id: a, send: m}").replace("    steps:\n", "    max_duration: 0s\n    steps:\n"))
    with pytest.raises(ScenarioError) as info:
        load_scenario_text(text)
    [issue] = info.value.issues
    assert issue.path == "journeys[0].max_duration"
    assert "max_duration must be longer than 0s, e.g. max_duration: 91d" in issue.message


def test_a_journey_opts_out_of_a_preset_value_by_giving_the_key():
    """Under ajo, `max_duration: null` on one journey is the scenario's own value: that journey has no
    timeout, and --explain lists it as overridden; a journey without the key gets 91d."""
    one = journey("{id: a, send: m}", name="j1").replace("    steps:\n", "    max_duration: null\n    steps:\n", 1)
    text = scenario(journeys=one + journey("{id: a, send: m}", name="j2"), extra=on("ajo"))
    sc = load_scenario_text(text)
    assert [j.max_duration for j in sc.journeys] == [None, 91 * 86400.0]
    assert [(o.path, o.status, o.value) for o in plan(yaml.safe_load(text), presets()["ajo"])
            if o.path.endswith("max_duration")] == [
        ("journeys[j1].max_duration", "kept", None), ("journeys[j2].max_duration", "set", "91d")]
