"""Resource limits checked before a run, Liquid template limits and the simulated clock of templates."""

from __future__ import annotations

import pytest
from conftest import MINIMAL, line_of

from simulator.pipeline import run_scenario
from simulator.errors import ScenarioError
from simulator.scenario.limits import check_resources, expected_events, resource_problems
from simulator.scenario.load import load_scenario_text


def errors_of(text: str, overrides=None) -> list:
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(text, "s.yaml", overrides=overrides)
    return err.value.issues


def test_expected_events_of_the_minimal_scenario():
    """MINIMAL over 3 days: cart_abandoned once with p 0.5 -> 0.5; purchase after it with p 0.3 -> 0.15;
    stage_up poisson 0.1/day x 3 days -> 0.3. Total 0.95 per customer, 9.5 for the 10 customers."""
    sc = load_scenario_text(MINIMAL)
    per, loop = expected_events(sc)
    assert loop is None
    assert per == pytest.approx([0.5, 0.15, 0.3])
    assert resource_problems(sc) == []


def test_event_limit_refuses_with_the_estimate_and_how_to_override():
    """max_events 9 < 9.5 expected events: refused at population.events[0] (cart_abandoned, the most frequent
    at 0.5 per customer, ahead of stage_up's 0.3); the hint raises the limit to ceil(9.5 x 1.1) = 11.
    max_events 10 >= 9.5 passes."""
    issue = errors_of(MINIMAL, ["limits.max_events=9"])[0]
    assert issue.path == "population.events[0]"
    assert "about 10 customer events (10 customers x 0.95 events each over 3d" in issue.message
    assert "'cart_abandoned' at 0.5 per customer" in issue.message
    assert "--set limits.max_events=11" in issue.hint
    load_scenario_text(MINIMAL, overrides=["limits.max_events=10"])


def test_ten_million_customers_with_ten_thousand_events_a_day_are_refused_in_validate():
    """1e7 customers x 1e4 events/day x 3 days = 3e11 stage_up events alone (+ 0.65 each from the others)."""
    issues = errors_of(MINIMAL, ["population.size=10000000", "population.events[2].poisson.rate_per_day=10000"])
    by_path = {i.path: i for i in issues}
    assert "population.size" in by_path and "10,000,000 customers is over the limit of 2,000,000" in \
        by_path["population.size"].message
    events = by_path["population.events[2]"]
    assert "about 300,006,500,000 customer events (10,000,000 customers x 30,001 events each" in events.message
    assert events.line == line_of(MINIMAL, "- name: stage_up")


def test_a_segment_re_evaluated_every_second_for_14_days_is_refused():
    """14 days every 1 s = 1,209,600 evaluations, plus the crm->cdp batch every 4 h = 84 runs:
    1,209,684 scheduled > 500,000; the hint asks for ceil(1,209,684 x 1.1) = 1,330,653."""
    text = MINIMAL.replace("duration: 3d", "duration: 14d") + """\
  - name: seg
    reads_from: cdp
    entry: {segment: "stage == 'B'", every: 1s}
    steps: [{id: w, wait: 1h}]
"""
    issue = errors_of(text)[0]
    assert issue.path == "journeys[1].entry.every" and issue.line == text.splitlines().index(
        "    entry: {segment: \"stage == 'B'\", every: 1s}") + 1
    assert "schedule 1,209,684 segment evaluations and batch runs" in issue.message
    assert "--set limits.max_scheduled=1330653" in issue.hint
    load_scenario_text(text, overrides=["limits.max_scheduled=1330653"])


def test_a_batch_link_running_every_second_is_refused():
    """3 days every 1 s = 259,200 runs; with max_scheduled 100,000 the link's 'every' is named."""
    issue = errors_of(MINIMAL, ["sync[1].every=1s", "limits.max_scheduled=100000"])[0]
    assert issue.path == "sync[1].every" and "259,200" in issue.message


def test_a_zero_delay_loop_of_after_events_is_refused():
    """ping after pong and pong after ping, both certain and instant: a scripted ping would never end."""
    ping = "    - {name: ping, origin: web, after: {event: pong, probability: 1, delay: 0s}}"
    text = MINIMAL.replace("""    - name: stage_up""", ping + """
    - {name: pong, origin: web, after: {event: ping}}
    - name: stage_up""")
    issues = errors_of(text)
    assert [i.path for i in issues] == ["population.events[2].after"]  # ping, the first of the loop
    assert "repeat forever at one instant" in issues[0].message
    load_scenario_text(text.replace("delay: 0s", "delay: 1h"))


def test_run_checks_customers_before_building():
    """--customers 3,000,000 > 2,000,000: refused before the population is built (no memory spent)."""
    sc = load_scenario_text(MINIMAL)
    with pytest.raises(ScenarioError) as err:
        run_scenario(sc, customers=3_000_000)
    assert err.value.issues[0].path == "--customers"
    assert "--set limits.max_customers=3300000" in err.value.issues[0].hint
    check_resources(sc, 2_000_000)


def test_infinite_rates_cannot_be_overridden():
    """rate_per_day 1e308 x 3 days overflows to infinity: no limit can be raised that far."""
    issue = errors_of(MINIMAL, ["population.events[2].poisson.rate_per_day=1e308"])[0]
    assert "never finish" in issue.hint


# ----------------------------------------------------------------------------- templates


@pytest.mark.parametrize("body, fragment", [
    ("{% for i in (1..100000000) %}x{% endfor %}", "loop iteration limit reached"),
    ("{% for i in (1..200) %}{% for j in (1..200) %}{% endfor %}{% endfor %}", "loop iteration limit"),
    ("{% assign s = 'ab' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}", "namespace limit"),
    ("{% for i in (1..9000) %}{{ '0123456789abcdef' }}{% endfor %}", "output stream limit"),
    ("{{ (1..100000000) | join }}", "a range of 100,000,000 items"),
    ("{% include 'footer' %}", "'include' is not available: templates are self-contained"),
    ("{%- render 'footer' -%}", "'render' is not available"),
    ("{% liquid\n  render 'footer' %}", "'render' is not available"),
])
def test_templates_that_cannot_render_are_validation_errors(body, fragment):
    """200 x 200 nested iterations = 40,000 > 10,000; 16 chars x 9,000 = 144,000 > 100,000 characters."""
    quoted = body.replace("'", "''")  # a YAML single-quoted scalar
    text = MINIMAL.replace('body: "Cart waiting. Reply STOP to opt out"', f"body: '{quoted}'")
    issue = errors_of(text)[0]
    assert issue.path == "messages.m2.body" and fragment in issue.message


def test_a_loop_within_the_limits_validates():
    text = MINIMAL.replace('body: "Cart waiting. Reply STOP to opt out"',
                           "body: '{% for i in (1..3) %}{{ i }}{% endfor %} STOP to opt out'")
    load_scenario_text(text)


NOW_BODY = ("body: \"{% assign y = 'now' | date: '%Y' %}{% if y == '2026' %}sent in the scenario year{% endif %}"
            " {{ 'today' | date: '%Y-%m-%d' }}\"")


def _now_scenario():
    return load_scenario_text(MINIMAL.replace('body: "Hello {{ unsubscribe_url }}"', NOW_BODY))


def test_now_in_a_template_is_the_simulated_time_of_the_render():
    """Rendered at simulated 2026-12-01 10:00 UTC (36,000 s after the start), 'now' is 2026 and 'today' 2026-12-01,
    whatever the wall clock says."""
    from datetime import timedelta

    from simulator.engine.channels import Renderer

    sc = _now_scenario()
    render = Renderer(sc.messages, clock=lambda: sc.start + timedelta(seconds=36_000))
    assert render("m1", {}) == "Hi \nsent in the scenario year 2026-12-01"  # subject, newline, body
    assert Renderer(sc.messages)("m1", {}, now=sc.start + timedelta(days=31)) == "Hi \n 2027-01-01"
    with pytest.raises(Exception, match="simulated time of a send"):
        Renderer(sc.messages)("m1", {})  # no simulated time: an error, never the wall clock


def test_two_runs_at_different_wall_times_give_the_same_log(monkeypatch):
    """The wall clock is moved to 1999 and then to 2031 (liquid's own date filter would read it); the
    event logs of the two runs are equal, and each queued email has 40 characters: subject 'Hi ' (3, no
    first_name here), a newline (1) and the body 'sent in the scenario year 2026-12-0N' (25 + 1 + 10 = 36),
    the simulated year's text, which a wall-clock 'now' in 1999 or 2031 would not give."""
    import datetime as real

    import liquid.builtin.filters.misc as misc

    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, real.datetime)

        def __getattr__(cls, name):
            return getattr(real.datetime, name)

    class Wall(metaclass=_Meta):
        """liquid's 'dt.datetime' with a movable now()."""

        year_now = 1999

        @classmethod
        def now(cls, tz=None):
            return real.datetime(cls.year_now, 6, 1, tzinfo=tz)

    class FakeDt:
        datetime = Wall
        date = real.date
        time = real.time
        timezone = real.timezone

    monkeypatch.setattr(misc, "dt", FakeDt)
    import liquid

    assert liquid.parse("{{ 'now' | date: '%Y' }}").render() == "1999"  # liquid's own filter reads the fake wall
    sc = _now_scenario()
    logs = []
    for year in (1999, 2031):
        Wall.year_now = year
        result = run_scenario(sc, seed=3, customers=40)
        logs.append(result.events())
    assert logs[0].equals(logs[1])
    queued = logs[0][(logs[0]["kind"] == "queued") & (logs[0]["message"] == "m1")]
    assert len(queued) > 0 and queued["detail"].str.contains("chars=40;").all()


def test_a_link_that_always_fails_and_retries_every_second_is_refused():
    """crm->cdp with failure_rate 1 and retry_after 1s retries each record every second until the end:
    3 days = 259,200 retries per record x 10 records (at least one per customer; 9.5 expected events) =
    2,592,000 > max_events 1,000,000. With failure_rate 0.5 a record needs 0.5/(1-0.5) = 1 retry on average."""
    issue = errors_of(MINIMAL, ["sync[1].failure_rate=1", "sync[1].retry_after=1s", "limits.max_events=1000000"])[0]
    assert issue.path == "sync[1].retry_after"
    assert "retry about 2,592,000 times" in issue.message and "until the run ends" in issue.message
    load_scenario_text(MINIMAL, overrides=["sync[1].failure_rate=0.5", "sync[1].retry_after=1s",
                                           "limits.max_events=1000000"])


LOOP = """\
scenario: loop
start: 2026-01-01T00:00:00Z
duration: 14d
systems: {crm: {kind: crm}}
population: {size: 1000}
journeys:
  - name: j
    reads_from: crm
    entry: {at: 2026-01-01T00:00:00Z}
    steps:
      - {id: w, wait: WAIT}
      - {id: again, goto: w, wait: 0s}
"""


def test_a_journey_loop_whose_waits_are_all_zero_is_refused():
    """w (0s) -> again (0s) -> w: the customer's clock never moves; 'loop with no wait' does not see it
    because both steps are waits."""
    issue = errors_of(LOOP.replace("WAIT", "0s"))[0]
    assert issue.path == "journeys[0].steps[0].id" and issue.line == 11 and "never move" in issue.message


def test_a_journey_loop_too_quick_for_the_run_is_refused():
    """A lap is 0.001 s: 14 d = 1,209,600 s -> 1,209,600,000 laps for each of the 1,000 customers who enter
    once at the scheduled time = 1.2096e12 > 20,000,000. A lap of 1 day gives 14 x 1,000 = 14,000: accepted."""
    issue = errors_of(LOOP.replace("WAIT", "0.001s"))[0]
    assert "up to 1,209,600,000 laps per instance" in issue.message
    assert "about 1,209,600,000,000 for 1,000 customers" in issue.message
    load_scenario_text(LOOP.replace("WAIT", "1d"))


HELD = """\
scenario: held
start: 2026-12-01T00:00:00Z
duration: 2d
population:
  size: 3
  timezones: {UTC: 1}
  consent: {email: 1}
  events:
    - {name: cart, origin: crm, once: {probability: 1, at: {fixed: 22h}}}
systems:
  crm: {kind: crm}
  esp: {kind: channel, channel: email}
sync:
  - {from: crm, to: esp, fields: [events]}
policies:
  quiet_hours: {from: "21:00", to: "08:00", channels: [email]}
messages:
  m: {channel: email, body: "{% assign h = 'now' | date: '%H:%M' %}{% if h == '08:00' %}released at eight{% endif %}"}
journeys:
  - name: j
    reads_from: esp
    entry: {event: cart}
    steps: [{id: s, send: m}]
"""


def test_a_held_message_renders_the_time_of_its_release():
    """Each customer's cart event is at 22:00 UTC on 1 Dec; the send is decided then, held by quiet hours
    (21:00-08:00 UTC) and released at 08:00 on 2 Dec, when it is rendered: 'now' is 08:00, so the body
    is 'released at eight' (17 characters). Rendered at the decision it would be empty."""
    log = run_scenario(load_scenario_text(HELD), seed=1).events()
    queued = log[log["kind"] == "queued"]
    assert len(queued) == 3 and queued["detail"].str.contains("chars=17;").all()
    assert (queued["ts"].astype(str).str.startswith("2026-12-02 08:00")).all()
