"""UAT phrases on a tiny hand-checked scenario: each phrase passes when it should and fails when it should.

The scenario (TINY) has no generated customers and no randomness on the paths used: every sync link is
a stream with 0 latency (unless a step changes it), channels deliver at once, no caps, no quiet hours.
A customer who triggers "signup" at 10:00 UTC enters "onboarding" at 10:00 and gets
  welcome (email) 10:00  ->  wait 1h  ->  nudge (sms) 11:00  ->  wait 1d  ->  followup (email) next day 11:00,
then completes the journey (exit "completed" at 11:00 the next day). A purchase reaching the CDP exits
the journey at once (exit_when: purchase, continuous check).
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.bdd.names import UATUsageError
from simulator.bdd.phrases import FUNCTIONS, match_phrase
from simulator.bdd.world import UNITS, UATWorld, duration

TINY = """\
scenario: tiny-uat
start: 2026-03-02T00:00:00Z
duration: 3d
seed: 11
default_timezone: UTC
population:
  size: 0
  attributes:
    stage: {choice: {A: 0.5, B: 0.5}}
    first_name: {faker: first_name}
  consent: {email: 1.0, sms: 1.0}
  events:
    - {name: signup, origin: web, poisson: {rate_per_day: 0.5}}
    - name: purchase
      origin: web
      after: {event: signup, probability: 0.3, delay: {exponential: {mean: 2h}}}
      sets: {has_purchased: true}
systems:
  web: {kind: source}
  cdp: {kind: cdp}
  esp: {kind: channel, channel: email}
  sms: {kind: channel, channel: sms}
sync:
  - {from: web, to: cdp, fields: [events, has_purchased, stage, first_name]}
  - {from: cdp, to: esp, fields: [consent, stage, first_name]}
  - {from: cdp, to: sms, fields: [consent, first_name]}
messages:
  welcome:
    channel: email
    subject: "Hi {{ first_name }}"
    body: "{% if stage == 'B' %}Members save 10%{% else %}Welcome{% endif %}"
  nudge: {channel: sms, body: "Still there, {{ first_name }}?"}
  followup: {channel: email, body: "Day two"}
journeys:
  - name: onboarding
    reads_from: cdp
    entry: {event: signup}
    exit_when: {event: purchase}
    steps:
      - {id: welcome, send: welcome}
      - {id: wait_1h, wait: 1h}
      - {id: nudge, send: nudge}
      - {id: wait_1d, wait: 1d}
      - {id: followup, send: followup}
"""


def play(world: UATWorld, *lines: str) -> None:
    """Run Gherkin step lines ("Given ...", "And ...") through the step library, as pytest-bdd would."""
    kind = None
    for line in lines:
        keyword, text = line.strip().split(" ", 1)
        if keyword in ("Given", "When", "Then"):
            kind = keyword.lower()
        found = match_phrase(kind, text)
        assert found is not None, f"no phrase for: {line}"
        entry, groups = found
        func = FUNCTIONS[entry]
        params = inspect.signature(func).parameters
        func(journeysim_world=world, **{k: v for k, v in groups.items() if k in params})


@pytest.fixture
def world(tmp_path: Path) -> UATWorld:
    (tmp_path / "tiny.yaml").write_text(TINY)
    w = UATWorld(tmp_path)
    play(w, 'Given the scenario "tiny.yaml"', "And 0 customers")
    return w


ANA = 'Given a customer "ana" in time zone "UTC" opted in to "email, sms" with "stage" = "A" and "first_name" = "Ana"'
SIGNUP = 'When "ana" triggers "signup" at "2026-03-02 10:00" local time'


def fails(world: UATWorld, line: str, pattern: str) -> str:
    """The step fails (a failed expectation, not a usage error) with a message matching ``pattern``."""
    with pytest.raises(pytest.fail.Exception) as info:
        play(world, line)
    text = str(info.value)
    assert re.search(pattern, text), text[:1500]
    return text


# ---------------------------------------------------------------------- compound durations


def test_compound_durations_add_up():
    """1 day 6 hours = 86400 + 21600 = 108000 s; "1 day, 6 hours and 30 minutes" adds 1800 s."""
    assert duration("1 day 6 hours") == 108000.0
    assert duration("1 day, 6 hours and 30 minutes") == 109800.0
    assert duration("2 weeks") == 1209600.0
    assert duration("1.5 hours") == 5400.0


@given(st.lists(st.tuples(st.integers(0, 500), st.sampled_from(sorted(UNITS))), min_size=1, max_size=5),
       st.sampled_from([" ", ", ", " and "]))
@settings(max_examples=60, deadline=None)
def test_duration_is_the_sum_of_its_parts(parts, joiner):
    text = joiner.join(f"{n} {unit}" for n, unit in parts)
    assert match_phrase("when", f"the simulation runs for {text}") is not None
    assert duration(text) == sum(n * UNITS[unit] for n, unit in parts)


def test_compound_duration_decides_whether_a_purchase_beats_the_followup(world):
    """Purchase 1 day 30 minutes after a 10:00 signup = next day 10:30, before the 11:00 followup: exits,
    no followup, 2 messages. 1 day 1 hour 30 minutes later = 11:30: the followup (11:00) went out, the
    journey completed."""
    play(world, ANA, SIGNUP, 'And "ana" triggers "purchase" 1 day 30 minutes later', "And the simulation runs for 3 days",
         'Then "ana" receives no "followup"', 'And "ana" exits "onboarding"', 'And "ana" receives exactly 2 messages',
         'And "ana" does not complete "onboarding"')
    fails(world, 'Then "ana" completes "onboarding"', r'expected "ana" to complete "onboarding", but they did not: '
                                                       r"exit at wait_1d \(exit_when met \(purchase\)\)")


def test_compound_duration_later_than_the_followup(tmp_path, world):
    play(world, ANA, SIGNUP, 'And "ana" triggers "purchase" 1 day 1 hour 30 minutes later',
         "And the simulation runs for 3 days", 'Then "ana" receives "followup"', 'And "ana" completes "onboarding"')
    fails(world, 'Then "ana" does not complete "onboarding"',
          r'expected "ana" not to complete "onboarding", but they completed it at 2026-03-03 11:00 UTC')


def test_does_not_complete_requires_an_entry(world):
    """A customer who never entered did not 'not complete' it: that would pass vacuously."""
    play(world, ANA, "When the simulation runs for 1 day")
    fails(world, 'Then "ana" does not complete "onboarding"', r"never entered it")


# ---------------------------------------------------------------------- counts and order


def test_receives_exactly_n_messages(world):
    """welcome (email) 10:00, nudge (sms) 11:00, followup (email) next day 11:00: 3 in all, 2 on email, 1 on sms."""
    play(world, ANA, SIGNUP, "And the simulation runs for 3 days",
         'Then "ana" receives exactly 3 messages', 'And "ana" receives exactly 2 messages on "email"',
         'And "ana" receives exactly 1 message on "sms"')
    fails(world, 'Then "ana" receives exactly 2 messages',
          r'expected "ana" to receive exactly 2 messages, got 3: welcome \(email\) 2026-03-02 10:00 UTC, '
          r"nudge \(sms\) 2026-03-02 11:00 UTC, followup \(email\) 2026-03-03 11:00 UTC")
    fails(world, 'Then "ana" receives exactly 0 messages on "sms"', r"exactly 0 messages on sms, got 1")


def test_receives_a_before_b(world):
    play(world, ANA, SIGNUP, "And the simulation runs for 3 days", 'Then "ana" receives "welcome" before "nudge"',
         'And "ana" receives "nudge" before "followup"')
    fails(world, 'Then "ana" receives "nudge" before "welcome"',
          r'"nudge" was first delivered 2026-03-02 11:00 UTC and "welcome" 2026-03-02 10:00 UTC')


def test_receives_before_fails_when_one_is_never_delivered(world):
    """Purchase 30 min after signup exits before the 11:00 nudge: "nudge" never delivered."""
    play(world, ANA, SIGNUP, 'And "ana" triggers "purchase" 30 minutes later', "And the simulation runs for 1 day")
    fails(world, 'Then "ana" receives "welcome" before "nudge"', r'but "nudge" was never delivered')


# ---------------------------------------------------------------------- rendered text


def test_receives_containing_reads_the_rendered_text(world):
    """Stage A renders 'Hi Ana' + newline + 'Welcome' (14 characters, as the channel logged: chars=14)."""
    play(world, ANA, SIGNUP, "And the simulation runs for 1 day", 'Then "ana" receives "welcome" containing "Hi Ana"',
         'And "ana" receives "welcome" containing "Welcome"', 'And "ana" receives "nudge" containing "Still there, Ana?"')
    assert world.rendered("ana", "welcome") == [(36000.0, "Hi Ana\nWelcome")]
    fails(world, 'Then "ana" receives "welcome" containing "Members save"',
          r'no delivery contains it; rendered:\n  delivered 2026-03-02 10:00 UTC:\n    Hi Ana\n    Welcome')


def test_receives_containing_uses_the_stage_the_channel_saw(tmp_path, world):
    """Several with-fields on one customer: stage B and first name Bo render the member line."""
    play(world, 'Given a customer "bo" in time zone "UTC" opted in to "email" with "stage" = "B", "first_name" = "Bo"',
         'When "bo" triggers "signup" at "2026-03-02 10:00" local time', "And the simulation runs for 1 day",
         'Then "bo" receives "welcome" containing "Hi Bo"', 'And "bo" receives "welcome" containing "Members save 10%"')
    assert world.people["bo"].attributes == {"stage": "B", "first_name": "Bo"}


def test_receives_containing_a_message_never_delivered_fails(world):
    play(world, ANA, SIGNUP, 'And "ana" triggers "purchase" 30 minutes later', "And the simulation runs for 1 day")
    fails(world, 'Then "ana" receives "nudge" containing "Still"', r"never delivered")


def test_a_field_given_twice_is_a_usage_error(world):
    with pytest.raises(UATUsageError, match='"stage" is given twice'):
        play(world, 'Given a customer "ana" with "stage" = "A" and "stage" = "B"')


# ---------------------------------------------------------------------- replications


def test_rate_over_replications(world):
    """web -> cdp latency 2 h: ana buys at 10:30 (truth), the CDP sees it at 12:30, the 11:00 nudge is
    decided on the CDP's stale copy: one exit-race for the one entered customer, in every seed (scripted
    events and a fixed latency do not depend on the seed). Mean 100%, so "below 50%" fails and
    "duplicate-send below 1%" (0% in every seed) passes."""
    from simulator.replications import replication_seeds

    play(world, 'Given the "web" to "cdp" sync latency is 2 hours', ANA, SIGNUP,
         'And "ana" triggers "purchase" 30 minutes later', "And the simulation runs for 2 days",
         'Then "ana" has a "exit-race" finding', 'And the "duplicate-send" rate is below 1% over 3 replications',
         'And the "duplicate-send" rate is below 1% over 3 replications at the upper bound')
    text = fails(world, 'Then the "exit-race" rate is below 50% over 3 replications',
                 r'expected the "exit-race" rate below 50% \(mean over 3 replications\), got mean 100%')
    seeds = replication_seeds(11, 3)
    assert [r.seed for r in world.replications(3)] == seeds
    for seed in seeds:
        assert f"seed {seed}: 100% (1/1)" in text


def test_rate_over_replications_averages_different_seeds(tmp_path):
    """With 40 generated customers the seeds differ; the mean the step judges equals the mean of the rates
    of run_scenario under replication_seeds(seed, 3) (computed here independently)."""
    from simulator.pipeline import run_scenario
    from simulator.replications import replication_seeds

    (tmp_path / "tiny.yaml").write_text(TINY.replace("exponential: {mean: 2h}", "exponential: {mean: 30m}"))
    world = UATWorld(tmp_path)
    play(world, 'Given the scenario "tiny.yaml"', "And 40 customers", 'And the "web" to "cdp" sync latency is 2 hours',
         "When the simulation runs for 3 days")
    scenario = world._run_scenario  # the scenario exactly as the step ran it (latency override applied)
    rates = []
    for seed in replication_seeds(11, 3):
        a = run_scenario(scenario, seed=seed, customers=40).analysis
        rates.append(100.0 * a.totals.get("exit-race", {"customers": 0})["customers"] / a.entered)
    mean = sum(rates) / 3
    assert len(set(rates)) > 1 and mean > 0
    text = fails(world, f'Then the "exit-race" rate is below {mean / 2:.4f}% over 3 replications', r"got mean")
    assert f"got mean {mean:.3g}%" in text
    play(world, f'Then the "exit-race" rate is below {mean + 0.01:.4f}% over 3 replications')


def test_one_replication_is_a_usage_error(world):
    play(world, ANA, SIGNUP, "And the simulation runs for 1 day")
    with pytest.raises(UATUsageError, match="give 2 or more"):
        play(world, 'Then the "exit-race" rate is below 5% over 1 replications')


def test_rate_with_nobody_entered_fails_instead_of_passing(world):
    play(world, ANA, "When the simulation runs for 1 day")
    fails(world, 'Then the "exit-race" rate is below 5%', r"undefined: no customer entered")


def test_population_checks_with_nothing_to_judge_fail(world):
    """ana never triggers signup: nobody enters, nothing is delivered. 'No customer receives more than 3 a day'
    and 'no quiet-hours findings' would be true of an empty run; they fail instead."""
    play(world, ANA, "When the simulation runs for 1 day")
    fails(world, "Then no customer receives more than 3 messages per day", r"no message was delivered in this run")
    fails(world, 'Then there are no "consent-violation" findings', r"no customer entered a journey in this run")
    fails(world, "Then no message is delivered in quiet hours", r"no customer entered a journey")


def test_daily_limit_per_channel(world):
    """welcome (email) and nudge (sms) on 2 March, followup (email) on 3 March (UTC days): at most 2 a day in
    all (passes with 2, fails with 1), 1 a day on each channel."""
    play(world, ANA, SIGNUP, "And the simulation runs for 3 days", "Then no customer receives more than 2 messages per day",
         'And no customer receives more than 1 message per day on "sms"',
         'And no customer receives more than 1 message per day on "email"')
    fails(world, "Then no customer receives more than 1 message per day",
          r"1 customer-days exceed it, worst: ana \(2 on local day 2026-03-02\)")


# ---------------------------------------------------------------------- outage modes


STREAM_OUTAGE = 'Given the "web" to "cdp" sync is down from "2026-03-02 10:15" for 1 hour'
PURCHASE_1030 = 'And "ana" triggers "purchase" 30 minutes later'


def test_stream_outage_queues_by_default(world):
    """web -> cdp (stream, 0 latency) down [10:15, 11:15). ana signs up 10:00 (enters, welcome 10:00) and
    buys 10:30, inside the outage: queue holds the purchase until 11:15, so the cdp decides the 11:00 nudge
    without it (delivered 11:00: an exit race) and exits her at 11:15: 2 messages, no followup."""
    play(world, STREAM_OUTAGE, ANA, SIGNUP, PURCHASE_1030, "And the simulation runs for 3 days",
         'Then "ana" receives exactly 2 messages', 'And "ana" receives "nudge"', 'And "ana" exits "onboarding"',
         'And "ana" has a "exit-race" finding')
    assert world.links_outages() == [("web", "cdp", "queue")]


def test_stream_outage_that_drops_changes_loses_the_purchase(world):
    """The same outage "and drops changes": the 10:30 purchase is lost, the cdp never sees it, so ana gets
    welcome 10:00, nudge 11:00 and followup next day 11:00 (3 messages) and completes the journey."""
    play(world, STREAM_OUTAGE + " and drops changes", ANA, SIGNUP, PURCHASE_1030,
         "And the simulation runs for 3 days", 'Then "ana" receives exactly 3 messages',
         'And "ana" completes "onboarding"')
    assert world.links_outages() == [("web", "cdp", "drop")]


DAILY = 'Given the "web" to "cdp" sync runs every 1 day'
BATCH_OUTAGE = 'And the "web" to "cdp" sync is down from "2026-03-03 23:30" for 1 hour'
BATCH_STORY = (ANA, SIGNUP, 'And "ana" triggers "purchase" 16 hours later', "And the simulation runs for 3 days")


def test_batch_outage_queue_catches_up_at_its_end(world):
    """web -> cdp a daily batch (runs 00:00, 0 s long). Signup 03-02 10:00 lands 03-03 00:00: enters, welcome
    00:00, nudge 01:00, followup due 03-04 01:00. The purchase (03-03 02:00) waits for the 03-04 00:00 run,
    which falls in the outage [03-03 23:30, 03-04 00:30); queue makes a catch-up run at 00:30, before the
    01:00 followup: she exits with 2 messages."""
    play(world, DAILY, BATCH_OUTAGE, *BATCH_STORY, 'Then "ana" receives exactly 2 messages',
         'And "ana" exits "onboarding"', 'And "ana" has no "exit-race" finding')


def test_batch_outage_that_skips_runs_waits_for_the_next_scheduled_run(world):
    """The same outage "and skips runs": the 03-04 00:00 run is missed and not caught up; the next run is
    03-05 00:00, the end of the run. The followup goes out at 03-04 01:00 although she bought at 03-03 02:00:
    3 messages, the journey completes, and it is an exit race."""
    play(world, DAILY, BATCH_OUTAGE + " and skips runs", *BATCH_STORY, 'Then "ana" receives exactly 3 messages',
         'And "ana" completes "onboarding"', 'And "ana" has a "exit-race" finding')
    assert world.links_outages() == [("web", "cdp", "skip")]


def test_skips_runs_on_a_stream_link_is_a_plain_usage_error(world):
    """A stream link has no runs to skip: the step says so and offers the two other endings; turning a link
    with such an outage into a stream afterwards is refused the same way."""
    with pytest.raises(UATUsageError) as info:
        play(world, STREAM_OUTAGE + " and skips runs")
    assert str(info.value).startswith('the "web" to "cdp" sync is a stream link: it has no scheduled runs to skip')
    assert '"and drops changes"' in str(info.value)
    play(world, DAILY, BATCH_OUTAGE + " and skips runs")
    with pytest.raises(UATUsageError, match="cannot become a stream with a fixed latency"):
        play(world, 'Given the "web" to "cdp" sync latency is 5 minutes')


def test_an_unknown_outage_mode_is_a_usage_error_with_a_did_you_mean(world):
    with pytest.raises(UATUsageError) as info:
        play(world, STREAM_OUTAGE + " and drop changes")
    assert 'unknown outage mode "and drop changes"; did you mean "and drops changes"?' in str(info.value)
