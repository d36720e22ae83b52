"""The journeysim Gherkin step library (pytest-bdd). The phrases below are a contract.

Given:
  the scenario "PATH"
  <N> customers
  the seed <N>
  the "A" to "B" sync latency is <N> <unit>
  the "A" to "B" sync runs every <N> <unit>
  the "A" to "B" sync is down from "<time>" for <N> <unit>
  the "A" to "B" sync loses <P>% of records
  customers do not engage with "<channel>"      (no opens, clicks or unsubscribes on that channel)
  a customer "<name>" [in stage "<S>"] [in time zone "<TZ>"] [opted in to|opted out of "<channel>[, <channel>]"]
      [with "<field>" = "<value>"]
When:
  "<name>" triggers "<event>" at "<local time>" local time
  "<name>" triggers "<event>" <N> <unit> later
  "<name>" opts out of "<channel>" <N> <unit> later
  the simulation runs for <N> <unit>
Then:
  "<name>" receives "<message>" [within <N> <unit>] [at most <N> times]
  "<name>" receives no "<message>"
  "<name>" is in journey "<J>" at step "<S>"
  "<name>" exits "<J>"
  "<name>" has no "<kind>" finding  /  "<name>" has a "<kind>" finding
  no customer receives more than <N> messages per day [on "<channel>"]
  the "<kind>" rate is below <P>%
  there are no "<kind>" findings
  no message is delivered in quiet hours
  all gates pass
Units: second(s), minute(s), hour(s), day(s), week(s). Local times are in the customer's zone.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from pytest_bdd import given, parsers, then, when

from simulator.bdd.world import ScriptedPerson, UATWorld, make_batch, make_stream, seconds
from simulator.errors import UsageError
from simulator.policies import LocalClock
from simulator.scenario.units import parse_time
from simulator.scenario.yamlread import parse_scalar

UNIT = r"(?P<unit>seconds?|minutes?|hours?|days?|weeks?)"
NUM = r"(?P<n>\d+(?:\.\d+)?)"


@pytest.fixture
def journeysim_world(request: pytest.FixtureRequest) -> UATWorld:
    """A fresh world per Gherkin scenario; relative paths resolve next to the feature file."""
    feature = getattr(request.node, "path", None)
    base = Path(feature).parent if feature is not None else Path.cwd()
    bdd_feature = getattr(getattr(request.node, "function", None), "__scenario__", None)
    if bdd_feature is not None:
        base = Path(bdd_feature.feature.filename).parent
    return UATWorld(base)


# ---------------------------------------------------------------------- Given


@given(parsers.parse('the scenario "{path}"'))
def _scenario(journeysim_world: UATWorld, path: str) -> None:
    journeysim_world.use_scenario(path)


@given(parsers.re(r"(?P<n>\d+) customers?"))
def _customers(journeysim_world: UATWorld, n: str) -> None:
    journeysim_world.customers = int(n)


@given(parsers.re(r"the seed (?P<n>\d+)"))
def _seed(journeysim_world: UATWorld, n: str) -> None:
    journeysim_world.seed = int(n)


@given(parsers.re(rf'the "(?P<a>[^"]+)" to "(?P<b>[^"]+)" sync latency is {NUM} {UNIT}'))
def _latency(journeysim_world: UATWorld, a: str, b: str, n: str, unit: str) -> None:
    make_stream(journeysim_world.link_spec(a, b), seconds(n, unit))


@given(parsers.re(rf'the "(?P<a>[^"]+)" to "(?P<b>[^"]+)" sync runs every {NUM} {UNIT}'))
def _every(journeysim_world: UATWorld, a: str, b: str, n: str, unit: str) -> None:
    make_batch(journeysim_world.link_spec(a, b), seconds(n, unit))


@given(parsers.re(rf'the "(?P<a>[^"]+)" to "(?P<b>[^"]+)" sync is down from "(?P<start>[^"]+)" for {NUM} {UNIT}'))
def _outage(journeysim_world: UATWorld, a: str, b: str, start: str, n: str, unit: str) -> None:
    try:
        when_ = parse_time(start)
    except ValueError:
        when_ = parse_time(start.strip().replace(" ", "T") + "Z")  # "2026-12-03 08:00" means UTC
    spec = journeysim_world.link_spec(a, b)
    spec["outages"] = spec["outages"] + [{"start": when_.isoformat(), "duration": seconds(n, unit)}]


@given(parsers.re(r'the "(?P<a>[^"]+)" to "(?P<b>[^"]+)" sync loses (?P<p>\d+(?:\.\d+)?)% of records'))
def _loss(journeysim_world: UATWorld, a: str, b: str, p: str) -> None:
    journeysim_world.link_spec(a, b)["failure_rate"] = float(p) / 100.0


@given(parsers.re(r'customers do not engage with "(?P<channel>[^"]+)"'))
def _no_engagement(journeysim_world: UATWorld, channel: str) -> None:
    for key in ("open", "click", "click_given_open"):
        journeysim_world.overrides[f"population.behaviour.{channel}.{key}"] = 0
    journeysim_world.overrides[f"population.behaviour.unsubscribe_per_message.{channel}"] = 0


@given(parsers.re(r'a customer "(?P<name>[^"]+)"'
                  r'(?: in stage "(?P<stage>[^"]+)")?'
                  r'(?: in time zone "(?P<tz>[^"]+)")?'
                  r'(?: opted (?P<direction>in to|out of) "(?P<channels>[^"]+)")?'
                  r'(?: with "(?P<field>[^"]+)" = "(?P<value>[^"]*)")?$'))
def _customer(journeysim_world: UATWorld, name: str, stage: str | None, tz: str | None, direction: str | None,
              channels: str | None, field: str | None, value: str | None) -> None:
    person = ScriptedPerson(name, timezone=tz)
    if stage is not None:
        person.attributes["stage"] = stage
    for channel in [c.strip() for c in (channels or "").replace(" and ", ",").split(",") if c.strip()]:
        person.consent[channel] = direction == "in to"
    if field is not None:
        person.attributes[field] = parse_scalar(value) if value else ""
    journeysim_world.people[name] = person


# ---------------------------------------------------------------------- When


@when(parsers.re(r'"(?P<name>[^"]+)" triggers "(?P<event>[^"]+)" at "(?P<local>[^"]+)" local time'))
def _trigger_at(journeysim_world: UATWorld, name: str, event: str, local: str) -> None:
    journeysim_world.trigger(name, event, local=local)


@when(parsers.re(rf'"(?P<name>[^"]+)" triggers "(?P<event>[^"]+)" {NUM} {UNIT} later'))
def _trigger_later(journeysim_world: UATWorld, name: str, event: str, n: str, unit: str) -> None:
    journeysim_world.trigger(name, event, later=seconds(n, unit))


@when(parsers.re(rf'"(?P<name>[^"]+)" opts out of "(?P<channel>[^"]+)" {NUM} {UNIT} later'))
def _opt_out(journeysim_world: UATWorld, name: str, channel: str, n: str, unit: str) -> None:
    journeysim_world.trigger(name, f"opt_out:{channel}", later=seconds(n, unit))


@when(parsers.re(rf"the simulation runs for {NUM} {UNIT}"))
def _run(journeysim_world: UATWorld, n: str, unit: str) -> None:
    journeysim_world.run(seconds(n, unit))


# ---------------------------------------------------------------------- Then


def _fail(world: UATWorld, text: str, name: str | None = None) -> None:
    detail = f"\n\n{world.trace(name)}" if name is not None else ""
    pytest.fail(text + detail, pytrace=False)


def _when(world: UATWorld, t: float) -> str:
    return (world.ran.scenario.start + pd.Timedelta(seconds=float(t))).strftime("%Y-%m-%d %H:%M UTC")


@then(parsers.re(rf'"(?P<name>[^"]+)" receives "(?P<message>[^"]+)"'
                 rf'(?: within {NUM} {UNIT})?(?: at most (?P<most>\d+) times?)?$'))
def _receives(journeysim_world: UATWorld, name: str, message: str, n: str | None, unit: str | None,
              most: str | None) -> None:
    w = journeysim_world
    person = w.person(name)
    got = w.deliveries(name, message)
    if got.empty:
        _fail(w, f'expected "{name}" to receive "{message}", but it was never delivered', name)
    if n is not None:
        start = min(t for t, _ in person.events) if person.events else 0.0
        limit = start + seconds(n, unit or "seconds")
        if (got["t"] > limit).all():
            _fail(w, f'expected "{name}" to receive "{message}" within {n} {unit} of their first event '
                     f'({_when(w, start)}), but the first delivery was at {_when(w, got["t"].min())}', name)
    if most is not None and len(got) > int(most):
        times = ", ".join(_when(w, t) for t in got["t"])
        _fail(w, f'expected "{name}" to receive "{message}" at most {most} times, got {len(got)} ({times})', name)


@then(parsers.re(r'"(?P<name>[^"]+)" receives no "(?P<message>[^"]+)"'))
def _receives_no(journeysim_world: UATWorld, name: str, message: str) -> None:
    w = journeysim_world
    w.person(name)
    got = w.deliveries(name, message)
    if not got.empty:
        ev = w.events()
        sends = ev[(ev["kind"] == "send") & (ev["customer"] == name) & (ev["message"] == message)]
        lines = []
        for _, d in got.iterrows():
            req = str(d["detail"]).split("req=")[-1].split(";")[0]
            decided = sends[sends["detail"].str.contains(f"req={req};", regex=False, na=False)]
            why = ""
            if not decided.empty:
                s = decided.iloc[0]
                if isinstance(s["field"], str):
                    why = (f"; decided {_when(w, s['t'])} by {s['journey']}/{s['step']} while {s['system']} had "
                           f"{s['field']} met={s['value']} (v{_ver(s['version'])}) and truth met={s['truth_value']} "
                           f"(v{_ver(s['truth_version'])})")
            lines.append(f"  delivered {_when(w, d['t'])} on {d['channel']}{why}")
        _fail(w, f'expected "{name}" to receive no "{message}", but it was delivered {len(got)} time(s):\n'
                 + "\n".join(lines), name)


def _ver(v: object) -> str:
    return "-" if v is None or pd.isna(v) else str(int(v))


@then(parsers.re(r'"(?P<name>[^"]+)" is in journey "(?P<journey>[^"]+)" at step "(?P<step>[^"]+)"'))
def _in_journey(journeysim_world: UATWorld, name: str, journey: str, step: str) -> None:
    w = journeysim_world
    ev = w.events()
    active = ev[(ev["kind"] == "active-at-end") & (ev["customer"] == name) & (ev["journey"] == journey)]
    if active.empty:
        _fail(w, f'expected "{name}" to be in "{journey}" at step "{step}" when the run ended, but they were '
                 f"not in that journey", name)
    if active.iloc[-1]["step"] != step:
        _fail(w, f'expected "{name}" at step "{step}" of "{journey}", but they are at "{active.iloc[-1]["step"]}"',
              name)


@then(parsers.re(r'"(?P<name>[^"]+)" exits "(?P<journey>[^"]+)"'))
def _exits(journeysim_world: UATWorld, name: str, journey: str) -> None:
    w = journeysim_world
    ev = w.events()
    exits = ev[(ev["kind"] == "exit") & (ev["customer"] == name) & (ev["journey"] == journey)
               & ev["detail"].str.startswith("exit_when", na=False)]
    if exits.empty:
        _fail(w, f'expected "{name}" to exit "{journey}" on its exit_when, but they did not', name)


@then(parsers.re(r'"(?P<name>[^"]+)" has (?P<article>no|a|an) "(?P<kind>[^"]+)" finding'))
def _has_finding(journeysim_world: UATWorld, name: str, article: str, kind: str) -> None:
    w = journeysim_world
    findings = w.ran.findings
    mine = findings[(findings["customer"] == name) & (findings["kind"] == kind)] if not findings.empty else findings
    if article == "no" and not mine.empty:
        first = mine.iloc[0]
        _fail(w, f'expected no "{kind}" finding for "{name}", got {len(mine)}: {first["message"]}\n'
                 f'root cause: {first["root_cause"]}', name)
    if article != "no" and mine.empty:
        _fail(w, f'expected a "{kind}" finding for "{name}", but there is none', name)


@then(parsers.re(r'no customer receives more than (?P<n>\d+) messages? per day(?: on "(?P<channel>[^"]+)")?'))
def _per_day(journeysim_world: UATWorld, n: str, channel: str | None) -> None:
    w = journeysim_world
    d = w.deliveries()
    if channel is not None:
        d = d[d["channel"] == channel]
    if d.empty:
        return
    table = w.ran.customer_table().set_index("customer")
    zones = sorted(set(table["timezone"]))
    clock = LocalClock(w.ran.scenario.start, zones)
    code = {z: i for i, z in enumerate(zones)}
    days = [clock.local_day(t, code[table.at[c, "timezone"]]) for t, c in zip(d["t"], d["customer"])]
    counts = pd.DataFrame({"customer": d["customer"].to_numpy(), "day": days}).value_counts()
    worst = counts[counts > int(n)]
    if not worst.empty:
        top = ", ".join(f"{c} ({k} on local day {pd.Timestamp.fromordinal(day).date()})"
                        for (c, day), k in worst.head(5).items())
        _fail(w, f"expected at most {n} messages per customer per local day"
                 f"{' on ' + channel if channel else ''}; {len(worst)} customer-days exceed it, worst: {top}",
              worst.index[0][0])


@then(parsers.re(r'the "(?P<kind>[^"]+)" rate is below (?P<p>\d+(?:\.\d+)?)%'))
def _rate(journeysim_world: UATWorld, kind: str, p: str) -> None:
    w = journeysim_world
    analysis = w.ran.analysis
    total = analysis.totals.get(kind, {"customers": 0}) if analysis else {"customers": 0}
    entered = analysis.entered if analysis else 0
    rate = 100.0 * total["customers"] / entered if entered else 0.0
    if rate >= float(p):
        examples = ", ".join(analysis.examples().get(kind, [])) if analysis else ""
        _fail(w, f'expected the "{kind}" rate below {p}%, got {rate:.3g}% ({total["customers"]} of {entered} '
                 f"entered customers); e.g. {examples}", (analysis.examples().get(kind) or [None])[0])


@then(parsers.re(r'there are no "(?P<kind>[^"]+)" findings'))
def _none(journeysim_world: UATWorld, kind: str) -> None:
    w = journeysim_world
    findings = w.ran.findings
    mine = findings[findings["kind"] == kind] if not findings.empty else findings
    if not mine.empty:
        first = mine.iloc[0]
        _fail(w, f'expected no "{kind}" findings, got {len(mine)} ({mine["customer"].nunique()} customers); first: '
                 f'{first["message"]}\nroot cause: {first["root_cause"]}', first["customer"])


@then("no message is delivered in quiet hours")
def _quiet(journeysim_world: UATWorld) -> None:
    _none(journeysim_world, "quiet-hours")


@then("all gates pass")
def _gates(journeysim_world: UATWorld) -> None:
    w = journeysim_world
    analysis = w.ran.analysis
    failed = [g for g in (analysis.gates if analysis else []) if not g.passed]
    if failed:
        _fail(w, "gates failed: " + "; ".join(f"{g.text} (actual: {g.actual})" for g in failed))


__all__ = ["journeysim_world", "UsageError"]
