"""The journeysim Gherkin step library (pytest-bdd). The phrases are a contract: docs/uat.md.

Every phrase is registered with :func:`simulator.bdd.phrases.phrase`, which records its documented
form and the names it reads; those names are checked against the scenario before the step runs.
Durations are one or more "<N> <unit>" parts ("20 minutes", "1 day 6 hours"); units: second(s),
minute(s), hour(s), day(s), week(s). Local times are in the customer's zone.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from simulator.bdd.names import UATUsageError
from simulator.bdd.phrases import OUTAGE_MODES, field_pairs, phrase, split_channels
from simulator.bdd.world import (DURATION, ScriptedPerson, UATWorld, duration, make_batch, make_stream,
                                 stream_skip_problem)
from simulator.engine.policies import LocalClock
from simulator.scenario.units import parse_time
from simulator.scenario.yamlread import parse_scalar

__all__ = ["journeysim_world", "WORLD_KEY"]

NUM = r"(?P<n>\d+(?:\.\d+)?)"
NAME = r'"(?P<name>[^"]+)"'
LINK = r'the "(?P<a>[^"]+)" to "(?P<b>[^"]+)" sync'

#: Where the current Gherkin scenario's world is kept on the pytest item (for failure reports).
WORLD_KEY = pytest.StashKey[UATWorld]()


@pytest.fixture
def journeysim_world(request: pytest.FixtureRequest) -> UATWorld:
    """A fresh world per Gherkin scenario; relative paths resolve next to the feature file."""
    feature = getattr(request.node, "path", None)
    base = Path(feature).parent if feature is not None else Path.cwd()
    bdd_feature = getattr(getattr(request.node, "function", None), "__scenario__", None)
    if bdd_feature is not None:
        base = Path(bdd_feature.feature.filename).parent
    world = UATWorld(base)
    request.node.stash[WORLD_KEY] = world
    return world


# ---------------------------------------------------------------------- Given


@phrase("given", 'the scenario "<path>"', r'the scenario "(?P<path>[^"]+)"',
        notes="relative to the feature file, else the working directory; names a journeysim feature")
def _scenario(journeysim_world: UATWorld, path: str) -> None:
    journeysim_world.use_scenario(path)


@phrase("given", "<N> customers", r"(?P<n>\d+) customers?",
        notes="generated customers besides the scripted ones (default: the scenario's population.size)")
def _customers(journeysim_world: UATWorld, n: str) -> None:
    journeysim_world.customers = int(n)


@phrase("given", "the seed <N>", r"the seed (?P<n>\d+)")
def _seed(journeysim_world: UATWorld, n: str) -> None:
    journeysim_world.seed = int(n)


@phrase("given", 'the "<A>" to "<B>" sync latency is <duration>', rf"{LINK} latency is {DURATION}",
        {"a": "link"}, "makes the link a stream with that fixed latency")
def _latency(journeysim_world: UATWorld, a: str, b: str, dur: str) -> None:
    make_stream(journeysim_world.link_spec(a, b), duration(dur))


@phrase("given", 'the "<A>" to "<B>" sync runs every <duration>', rf"{LINK} runs every {DURATION}",
        {"a": "link"}, "makes the link a batch on that schedule (first run at the start)")
def _every(journeysim_world: UATWorld, a: str, b: str, dur: str) -> None:
    make_batch(journeysim_world.link_spec(a, b), duration(dur))


@phrase("given", 'the "<A>" to "<B>" sync is down from "<time>" for <duration> [and drops changes|and skips runs]',
        rf'{LINK} is down from "(?P<start>[^"]+)" for {DURATION}(?: and (?P<mode>(?!\d)[^"]+))?',
        {"a": "link", "mode": "outage_mode"},
        'time in UTC, e.g. "2026-12-03 08:00"; without an ending, changes wait and flow when it is back '
        '(on_outage: queue); "and drops changes": changes made while down are lost (drop); "and skips runs": '
        'a batch link misses its runs inside the outage and does not catch up (skip; refused on a stream link)')
def _outage(journeysim_world: UATWorld, a: str, b: str, start: str, dur: str, mode: str | None = None) -> None:
    try:
        when_ = parse_time(start)
    except ValueError:
        try:
            when_ = parse_time(start.strip().replace(" ", "T") + "Z")  # "2026-12-03 08:00" means UTC
        except ValueError:
            raise UATUsageError(f'"{start}" is not a UTC time: write e.g. "2026-12-03 08:00"') from None
    spec = journeysim_world.link_spec(a, b)
    on_outage = OUTAGE_MODES[mode] if mode else "queue"
    if on_outage == "skip" and spec.get("mode") == "stream":
        raise UATUsageError(stream_skip_problem(a, b))
    spec["outages"] = spec["outages"] + [{"start": when_.isoformat(), "duration": duration(dur),
                                          "on_outage": on_outage}]


@phrase("given", 'the "<A>" to "<B>" sync loses <P>% of records',
        rf"{LINK} loses (?P<p>\d+(?:\.\d+)?)% of records", {"a": "link"})
def _loss(journeysim_world: UATWorld, a: str, b: str, p: str) -> None:
    if float(p) > 100:
        raise UATUsageError(f"a link cannot lose {p}% of records: give 0 to 100")
    journeysim_world.link_spec(a, b)["failure_rate"] = float(p) / 100.0


@phrase("given", 'customers do not engage with "<channel>"', r'customers do not engage with "(?P<channel>[^"]+)"',
        {"channel": "channel"}, "no opens, clicks or unsubscribes on that channel")
def _no_engagement(journeysim_world: UATWorld, channel: str) -> None:
    for key in ("open", "click", "click_given_open"):
        journeysim_world.overrides[f"population.behaviour.{channel}.{key}"] = 0
    journeysim_world.overrides[f"population.behaviour.unsubscribe_per_message.{channel}"] = 0


@phrase("given", 'a customer "<name>" [in stage "<S>"] [in time zone "<TZ>"] [opted in to|opted out of '
                 '"<channel>[, <channel>]"] [with "<field>" = "<value>"[ and "<field>" = "<value>" ...]]',
        r'a customer "(?P<name>[^"]+)"'
        r'(?: in stage "(?P<stage>[^"]+)")?'
        r'(?: in time zone "(?P<tz>[^"]+)")?'
        r'(?: opted (?P<direction>in to|out of) "(?P<channels>[^"]+)")?'
        r'(?P<fields> with "[^"]+" = "[^"]*"(?:(?:,| and| with) "[^"]+" = "[^"]*")*)?',
        {"stage": "stage", "tz": "timezone", "channels": "consent", "fields": "fields"},
        "declares a scripted customer; channels not opted in to are opted out; values are YAML scalars")
def _customer(journeysim_world: UATWorld, name: str, stage: str | None, tz: str | None, direction: str | None,
              channels: str | None, fields: str | None) -> None:
    person = ScriptedPerson(name, timezone=tz)
    if stage is not None:
        person.attributes["stage"] = stage
    for channel in split_channels(channels or ""):
        person.consent[channel] = direction == "in to"
    for key, value in field_pairs(fields):
        if key in person.attributes:
            raise UATUsageError(f'"{key}" is given twice for customer "{name}"')
        person.attributes[key] = _scalar(value)
    journeysim_world.declare(person)


def _scalar(text: str) -> object:
    """A ``with`` value as the scenario files would read it: true/false, numbers, else the text."""
    if text == "":
        return ""
    try:
        value = parse_scalar(text)
    except Exception:  # noqa: BLE001 - not a YAML scalar: keep the text as written
        return text
    return value if isinstance(value, (bool, int, float, str)) or value is None else text


# ---------------------------------------------------------------------- When


@phrase("when", '"<name>" triggers "<event>" at "<local time>" local time',
        rf'{NAME} triggers "(?P<event>[^"]+)" at "(?P<local>[^"]+)" local time',
        {"name": "customer", "event": "event"}, "the customer's zone")
def _trigger_at(journeysim_world: UATWorld, name: str, event: str, local: str) -> None:
    journeysim_world.trigger(name, event, local=local)


@phrase("when", '"<name>" triggers "<event>" <duration> later',
        rf'{NAME} triggers "(?P<event>[^"]+)" {DURATION} later', {"name": "customer", "event": "event"},
        "after that customer's previous event")
def _trigger_later(journeysim_world: UATWorld, name: str, event: str, dur: str) -> None:
    journeysim_world.trigger(name, event, later=duration(dur))


@phrase("when", '"<name>" opts out of "<channel>" <duration> later',
        rf'{NAME} opts out of "(?P<channel>[^"]+)" {DURATION} later', {"name": "customer", "channel": "channel"},
        "unsubscribes at the channel system")
def _opt_out(journeysim_world: UATWorld, name: str, channel: str, dur: str) -> None:
    journeysim_world.trigger(name, f"opt_out:{channel}", later=duration(dur))


@phrase("when", "the simulation runs for <duration>", rf"the simulation runs for {DURATION}")
def _run(journeysim_world: UATWorld, dur: str) -> None:
    journeysim_world.run(duration(dur))


# ---------------------------------------------------------------------- Then


def _fail(world: UATWorld, text: str, name: str | None = None) -> None:
    detail = f"\n\n{world.trace(name)}" if name is not None else ""
    pytest.fail(text + detail, pytrace=False)


def _when(world: UATWorld, t: float) -> str:
    return (world.ran.scenario.start + pd.Timedelta(seconds=float(t))).strftime("%Y-%m-%d %H:%M UTC")


@phrase("then", '"<name>" receives "<message>" [within <duration>] [at most <N> times]',
        rf'{NAME} receives "(?P<message>[^"]+)"(?: within {DURATION})?(?: at most (?P<most>\d+) times?)?',
        {"name": "customer", "message": "message"}, "within: of the customer's first event")
def _receives(journeysim_world: UATWorld, name: str, message: str, dur: str | None, most: str | None) -> None:
    w = journeysim_world
    person = w.person(name)
    got = w.deliveries(name, message)
    if got.empty:
        _fail(w, f'expected "{name}" to receive "{message}", but it was never delivered', name)
    if dur is not None:
        start = min(t for t, _ in person.events) if person.events else 0.0
        limit = start + duration(dur)
        if (got["t"] > limit).all():
            _fail(w, f'expected "{name}" to receive "{message}" within {dur} of their first event '
                     f'({_when(w, start)}), but the first delivery was at {_when(w, got["t"].min())}', name)
    if most is not None and len(got) > int(most):
        times = ", ".join(_when(w, t) for t in got["t"])
        _fail(w, f'expected "{name}" to receive "{message}" at most {most} times, got {len(got)} ({times})', name)


@phrase("then", '"<name>" receives no "<message>"', rf'{NAME} receives no "(?P<message>[^"]+)"',
        {"name": "customer", "message": "message"})
def _receives_no(journeysim_world: UATWorld, name: str, message: str) -> None:
    w = journeysim_world
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


@phrase("then", '"<name>" receives exactly <N> messages [on "<channel>"]',
        rf'{NAME} receives exactly (?P<n>\d+) messages?(?: on "(?P<channel>[^"]+)")?',
        {"name": "customer", "channel": "channel"}, "deliveries of any message (on that channel)")
def _receives_exactly(journeysim_world: UATWorld, name: str, n: str, channel: str | None) -> None:
    w = journeysim_world
    got = w.deliveries(name)
    if channel is not None:
        got = got[got["channel"] == channel]
    if len(got) != int(n):
        listed = ", ".join(f"{m} ({c}) {_when(w, t)}" for m, c, t in zip(got["message"], got["channel"], got["t"]))
        _fail(w, f'expected "{name}" to receive exactly {n} message{"s" if n != "1" else ""}'
                 f'{" on " + channel if channel else ""}, got {len(got)}' + (f": {listed}" if listed else ""), name)


@phrase("then", '"<name>" receives "<A>" before "<B>"',
        rf'{NAME} receives "(?P<first>[^"]+)" before "(?P<second>[^"]+)"',
        {"name": "customer", "first": "message", "second": "message"},
        "both delivered, the first delivery of A strictly earlier than the first of B")
def _receives_before(journeysim_world: UATWorld, name: str, first: str, second: str) -> None:
    w = journeysim_world
    a, b = w.deliveries(name, first), w.deliveries(name, second)
    missing = [m for m, d in ((first, a), (second, b)) if d.empty]
    if missing:
        _fail(w, f'expected "{name}" to receive "{first}" before "{second}", but '
                 + " and ".join(f'"{m}"' for m in missing) + " was never delivered", name)
    ta, tb = float(a["t"].min()), float(b["t"].min())
    if not ta < tb:
        _fail(w, f'expected "{name}" to receive "{first}" before "{second}", but "{first}" was first delivered '
                 f'{_when(w, ta)} and "{second}" {_when(w, tb)}' + (" (the same time)" if ta == tb else ""), name)


@phrase("then", '"<name>" receives "<message>" containing "<text>"',
        rf'{NAME} receives "(?P<message>[^"]+)" containing "(?P<text>[^"]*)"',
        {"name": "customer", "message": "message"},
        "the rendered text (subject/title and body, as the channel sent it); case-sensitive")
def _receives_containing(journeysim_world: UATWorld, name: str, message: str, text: str) -> None:
    w = journeysim_world
    bodies = w.rendered(name, message)
    if not bodies:
        _fail(w, f'expected "{name}" to receive "{message}" containing "{text}", but it was never delivered', name)
    if not any(text in body for _, body in bodies):
        shown = "\n".join(f"  delivered {_when(w, t)}:\n    " + body.replace("\n", "\n    ") for t, body in bodies)
        _fail(w, f'expected "{name}" to receive "{message}" containing "{text}", but no delivery contains it; '
                 f"rendered:\n{shown}", name)


@phrase("then", '"<name>" is in journey "<J>" at step "<S>"',
        rf'{NAME} is in journey "(?P<journey>[^"]+)" at step "(?P<step>[^"]+)"',
        {"name": "customer", "journey": "journey", "step": "step"}, "when the run ends")
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


@phrase("then", '"<name>" exits "<J>"', rf'{NAME} exits "(?P<journey>[^"]+)"',
        {"name": "customer", "journey": "journey"}, "on its exit_when")
def _exits(journeysim_world: UATWorld, name: str, journey: str) -> None:
    w = journeysim_world
    ev = w.events()
    exits = ev[(ev["kind"] == "exit") & (ev["customer"] == name) & (ev["journey"] == journey)
               & ev["detail"].str.startswith("exit_when", na=False)]
    if exits.empty:
        _fail(w, f'expected "{name}" to exit "{journey}" on its exit_when, but they did not', name)


@phrase("then", '"<name>" completes "<J>"  |  "<name>" does not complete "<J>"',
        rf'{NAME} (?P<negated>does not complete|completes) "(?P<journey>[^"]+)"',
        {"name": "customer", "journey": "journey"},
        "completes: an instance reached the end of the steps; does not complete: entered, and no instance did")
def _completes(journeysim_world: UATWorld, name: str, negated: str, journey: str) -> None:
    w = journeysim_world
    ev = w.events()
    mine = ev[(ev["customer"] == name) & (ev["journey"] == journey)]
    entries = mine[mine["kind"] == "entry"]
    done = mine[(mine["kind"] == "exit") & (mine["detail"] == "completed")]
    if negated == "completes" and done.empty:
        left = mine[mine["kind"].isin(["exit", "active-at-end"])]
        how = "; ".join(f"{r.kind} at {r.step} ({r.detail})" if r.kind == "exit" else f"still at {r.step} when the run ended"
                        for r in left.itertuples()) or "never entered"
        _fail(w, f'expected "{name}" to complete "{journey}", but they did not: {how}', name)
    if negated != "completes":
        if entries.empty:
            _fail(w, f'expected "{name}" to enter "{journey}" and not complete it, but they never entered it', name)
        if not done.empty:
            _fail(w, f'expected "{name}" not to complete "{journey}", but they completed it at '
                     f'{_when(w, done["t"].iloc[0])}', name)


@phrase("then", '"<name>" has no "<kind>" finding  |  "<name>" has a "<kind>" finding',
        rf'{NAME} has (?P<article>no|a|an) "(?P<kind>[^"]+)" finding', {"name": "customer", "kind": "kind"})
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


@phrase("then", 'no customer receives more than <N> messages per day [on "<channel>"]',
        r'no customer receives more than (?P<n>\d+) messages? per day(?: on "(?P<channel>[^"]+)")?',
        {"channel": "channel"}, "per customer's local calendar day; fails when nothing was delivered (on that channel)")
def _per_day(journeysim_world: UATWorld, n: str, channel: str | None) -> None:
    w = journeysim_world
    d = w.deliveries()
    if channel is not None:
        d = d[d["channel"] == channel]
    if d.empty:
        _fail(w, f"no message was delivered{' on ' + channel if channel else ''} in this run, so a daily limit "
                 "cannot be judged (add customers or a longer run)")
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


def _rate_of(result: object, kind: str) -> tuple[float, int, int]:
    """(rate in %, affected customers, entered customers) of one run."""
    analysis = result.analysis  # type: ignore[attr-defined]
    total = analysis.totals.get(kind, {"customers": 0}) if analysis else {"customers": 0}
    entered = analysis.entered if analysis else 0
    return (100.0 * total["customers"] / entered if entered else 0.0), int(total["customers"]), int(entered)


@phrase("then", 'the "<kind>" rate is below <P>%', r'the "(?P<kind>[^"]+)" rate is below (?P<p>\d+(?:\.\d+)?)%',
        {"kind": "kind"}, "customers with the finding / customers who entered a journey, in this run")
def _rate(journeysim_world: UATWorld, kind: str, p: str) -> None:
    w = journeysim_world
    rate, affected, entered = _rate_of(w.ran, kind)
    if entered == 0:
        _fail(w, f'the "{kind}" rate is undefined: no customer entered a journey in this run')
    if rate >= float(p):
        analysis = w.ran.analysis
        examples = analysis.examples().get(kind, []) if analysis else []
        _fail(w, f'expected the "{kind}" rate below {p}%, got {rate:.3g}% ({affected} of {entered} '
                 f"entered customers); e.g. {', '.join(examples)}", (examples or [None])[0])


@phrase("then", 'the "<kind>" rate is below <P>% over <N> replications [at the upper bound]',
        r'the "(?P<kind>[^"]+)" rate is below (?P<p>\d+(?:\.\d+)?)% over (?P<n>\d+) replications'
        r'(?P<upper> at the upper bound)?',
        {"kind": "kind"},
        "the mean rate over N seeds (this run's seed, then seeds spawned from it, as journeysim run "
        "--replications); 'at the upper bound': the upper end of the 95% interval of the mean")
def _rate_replicated(journeysim_world: UATWorld, kind: str, p: str, n: str, upper: str | None) -> None:
    w = journeysim_world
    count = int(n)
    if count < 2:
        raise UATUsageError(f"{count} replication{'s' if count != 1 else ''} is not a replication: give 2 or more, "
                            f'or use  Then the "{kind}" rate is below {p}%')
    runs = w.replications(count)
    rows = [_rate_of(r, kind) for r in runs]
    if any(entered == 0 for _, _, entered in rows):
        _fail(w, f'the "{kind}" rate is undefined: no customer entered a journey in at least one replication')
    rates = [r for r, _, _ in rows]
    mean = sum(rates) / count
    sd = math.sqrt(sum((r - mean) ** 2 for r in rates) / (count - 1))
    high = mean + 1.959963984540054 * sd / math.sqrt(count)
    judged, label = (high, "upper 95% bound") if upper else (mean, "mean")
    if judged >= float(p):
        each = ", ".join(f"seed {r.seed}: {rate:.3g}% ({a}/{e})" for r, (rate, a, e) in zip(runs, rows))
        _fail(w, f'expected the "{kind}" rate below {p}% ({label} over {count} replications), got {label} '
                 f"{judged:.3g}% (mean {mean:.3g}%, 95% interval {max(0.0, mean - (high - mean)):.3g}-{high:.3g}%); "
                 f"{each}")


@phrase("then", 'there are no "<kind>" findings', r'there are no "(?P<kind>[^"]+)" findings', {"kind": "kind"},
        "no finding of that kind for anyone; fails when no customer entered a journey (nothing to judge)")
def _none(journeysim_world: UATWorld, kind: str) -> None:
    w = journeysim_world
    if not _rate_of(w.ran, kind)[2]:
        _fail(w, f'no customer entered a journey in this run, so "no {kind} findings" cannot be judged')
    findings = w.ran.findings
    mine = findings[findings["kind"] == kind] if not findings.empty else findings
    if not mine.empty:
        first = mine.iloc[0]
        _fail(w, f'expected no "{kind}" findings, got {len(mine)} ({mine["customer"].nunique()} customers); first: '
                 f'{first["message"]}\nroot cause: {first["root_cause"]}', first["customer"])


@phrase("then", "no message is delivered in quiet hours", r"no message is delivered in quiet hours",
        notes='the same as  there are no "quiet-hours" findings')
def _quiet(journeysim_world: UATWorld) -> None:
    _none(journeysim_world, kind="quiet-hours")


@phrase("then", "all gates pass", r"all gates pass", notes="the scenario's gates: on this run")
def _gates(journeysim_world: UATWorld) -> None:
    w = journeysim_world
    analysis = w.ran.analysis
    failed = [g for g in (analysis.gates if analysis else []) if not g.passed]
    if failed:
        _fail(w, "gates failed: " + "; ".join(f"{g.text} (actual: {g.actual})" for g in failed))
