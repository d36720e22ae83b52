"""Semantic validation: the checks that need the whole scenario at once.

Unknown references (systems, events, fields, messages, steps, journeys, finding kinds) with a
did-you-mean, duplicate names, unreachable steps, loops with no wait, fields a journey reads that no
sync path brings to its ``reads_from`` system, sends on a channel no system serves, shares that do
not add up, templates that do not parse. Runs only on a structurally valid :class:`Scenario`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from simulator.errors import ScenarioIssue
from simulator.scenario.conditions import Condition
from simulator.scenario.experiments import PROJECTION_GATES, projection_issues
from simulator.scenario.liquidenv import template_problem
from simulator.scenario.distributions import Bernoulli, Choice
from simulator.scenario.model import ExogenousEvent, Journey, Scenario, Step
from simulator.scenario.rates import RateByAttribute, value_key
from simulator.scenario.model import SyncLink
from simulator.scenario.units import did_you_mean
from simulator.scenario.validate import issue_at
from simulator.scenario.vocabulary import (
    CHANNELS,
    FINDING_KINDS,
    RENAMED_KINDS,
    RESERVED_TARGETS,
    SYNC_TOKENS,
    engagement_events,
)
from simulator.scenario.yamlread import Located, PathKey

__all__ = ["semantic_issues", "step_successors", "FieldCatalogue"]


def step_successors(journey: Journey, index: int) -> list[str]:
    """Targets (step ids or ``end``) a customer can move to after ``journey.steps[index]``."""
    steps = journey.steps
    step = steps[index]
    default = step.jump or (steps[index + 1].id if index + 1 < len(steps) else "end")
    if step.branch is not None:
        targets = [arm.target for arm in step.branch]
        if not any(arm.else_ is not None for arm in step.branch):
            targets.append(default)  # no arm matched: fall through to the next step
        return targets
    if step.split is not None:
        return [t for t, w in step.split.items() if w > 0]
    if step.wait_until is not None:
        out = [step.wait_until.then or default]
        if step.wait_until.timeout is not None:
            out.append(step.wait_until.on_timeout or default)
        return out
    return [default]


class FieldCatalogue:
    """Which fields and events exist, where they change, and which systems they reach by sync."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.engagement = {e: ch for e, ch in engagement_events().items() if ch in sc.channel_systems}
        self.events = {e.name for e in sc.population.events} | set(self.engagement)
        self.field_origins: dict[str, set[str]] = {name: set() for name in sc.population.attributes}
        for ev in sc.population.events:
            for f in ev.sets:
                self.field_origins.setdefault(f, set()).add(ev.origin)
        for j in sc.journeys:
            for step in j.steps:
                for f in step.update or {}:
                    self.field_origins.setdefault(f, set()).add(step.at or "")
        for sys_name, system in sc.systems.items():
            for f in system.owns:
                self.field_origins.setdefault(f, set()).add(sys_name)

    @property
    def fields(self) -> set[str]:
        return set(self.field_origins)

    def event_origins(self, event: str) -> set[str]:
        if event in self.engagement:
            ch = self.engagement[event]
            return {n for n, s in self.sc.systems.items() if s.channel == ch}
        return {e.origin for e in self.sc.population.events if e.name == event}

    def reach(self, origins: set[str], token: str, is_event: bool) -> set[str]:
        """Systems a change made at ``origins`` reaches over links that carry ``token``."""
        seen = set(origins)
        queue = deque(origins)
        while queue:
            here = queue.popleft()
            for link in self.sc.sync:
                carries = token in link.fields or (is_event and "events" in link.fields)
                if link.from_ == here and carries and link.to not in seen:
                    seen.add(link.to)
                    queue.append(link.to)
        return seen


def _conditions(j: Journey) -> Iterator[tuple[PathKey, Condition]]:
    """Every condition a journey evaluates at its ``reads_from`` system, with its key path."""
    if j.entry.segment is not None:
        yield ("entry", "segment"), j.entry.segment
    if j.exit_when is not None and j.exit_when.when is not None:
        yield ("exit_when", "when"), j.exit_when.when
    for si, step in enumerate(j.steps):
        for ai, arm in enumerate(step.branch or []):
            if arm.when is not None:
                yield ("steps", si, "branch", ai, "when"), arm.when


class _Checker:
    def __init__(self, sc: Scenario, located: Located):
        self.sc = sc
        self.located = located
        self.issues: list[ScenarioIssue] = []
        self.cat = FieldCatalogue(sc)

    def add(self, path: PathKey, message: str, hint: str | None = None) -> None:
        self.issues.append(issue_at(self.located, path, message, hint))

    def unknown(self, path: PathKey, what: str, value: str, options: Iterable[str], fix: str = "") -> None:
        options = sorted(set(options))
        guess = did_you_mean(value, options)
        if guess:
            hint = f"did you mean '{guess}'?"
        elif options:
            hint = f"known {what}s: {', '.join(options[:12])}{' ...' if len(options) > 12 else ''}"
        else:
            hint = fix or None
        self.add(path, f"unknown {what} '{value}'", hint)

    def system(self, path: PathKey, name: str | None) -> None:
        if name is not None and name not in self.sc.systems:
            self.unknown(path, "system", name, self.sc.systems)

    def event(self, path: PathKey, name: str | None) -> None:
        if name is not None and name not in self.cat.events:
            self.unknown(path, "event", name, self.cat.events,
                         "define it under population.events, or use an engagement event such as email_opened")

    # ------------------------------------------------------------------ checks

    def run(self) -> list[ScenarioIssue]:
        self.check_population()
        self.check_sync()
        self.check_messages()
        self.check_policies()
        self.check_platform()
        names: dict[str, int] = {}
        for ji, j in enumerate(self.sc.journeys):
            if j.name in names:
                self.add(("journeys", ji, "name"), f"duplicate journey name '{j.name}' (also journeys[{names[j.name]}])",
                         "journey names must be unique")
            names.setdefault(j.name, ji)
            self.check_journey(ji, j)
        self.check_compliance()
        for key in ("gates", "severity"):
            for kind in getattr(self.sc, key):
                if kind in RENAMED_KINDS:
                    self.add((key, kind), f"finding kind '{kind}' was renamed", f"write '{RENAMED_KINDS[kind]}'")
                elif kind not in FINDING_KINDS and not (key == "gates" and kind in PROJECTION_GATES):
                    options = (*FINDING_KINDS, *PROJECTION_GATES) if key == "gates" else FINDING_KINDS
                    self.unknown((key, kind), "finding kind" if key == "severity" else "gate", kind, options)
        projection_issues(self.sc, self.cat.events, set(self.cat.engagement), self.cat.fields, self.add, self.unknown)
        if not self.issues:  # estimates need a consistent scenario (events named by 'after' exist)
            from simulator.scenario.limits import resource_problems

            for problem in resource_problems(self.sc):
                self.add(problem.path, problem.message, problem.hint)
        return sorted(self.issues, key=lambda i: (i.line or 0, i.column or 0, i.path))

    def check_population(self) -> None:
        pop = self.sc.population
        if pop.jurisdiction is not None:  # phone area codes and addresses (simulator.creative.recipients)
            from simulator.creative.recipients import check_spec

            check_spec(pop.jurisdiction, list(pop.timezones) or [self.sc.default_timezone], self.add, self.unknown)
        if pop.timezones:
            total = sum(pop.timezones.values())
            if abs(total - 1) > 1e-6:
                self.add(("population", "timezones"), f"time zone shares must add up to 1, they add up to {total:g}",
                         "adjust the shares")
        seen: dict[str, int] = {}
        for ei, ev in enumerate(pop.events):
            path = ("population", "events", ei)
            if ev.name in seen:
                self.add(path + ("name",), f"duplicate event name '{ev.name}' (also population.events[{seen[ev.name]}])")
            seen.setdefault(ev.name, ei)
            if ev.name in self.cat.engagement:
                self.add(path + ("name",), f"'{ev.name}' is an engagement event the channel emits itself",
                         "choose another name")
            self.system(path + ("origin",), ev.origin)
            if ev.after is not None:
                self.event(path + ("after", "event"), ev.after.event)
                if ev.after.event == ev.name:
                    self.add(path + ("after", "event"), f"event '{ev.name}' cannot follow itself")
            if ev.when is not None:
                self.condition_names(path + ("when",), ev.when)
            self.check_response(path, ev)
        self.check_fatigue()
        if pop.identity is not None and pop.identity.merge is not None:
            self.system(("population", "identity", "merge", "at"), pop.identity.merge.at)

    def check_response(self, path: PathKey, ev: ExogenousEvent) -> None:
        """``rate_per_day`` by attribute and ``response`` lifts of one event (docs/response.md)."""
        if ev.poisson is not None and isinstance(ev.poisson.rate_per_day, RateByAttribute):
            self.check_rate_by(path + ("poisson", "rate_per_day"), ev.poisson.rate_per_day)
        messages = set(self.sc.messages)
        channels = set(self.sc.channel_systems)
        for ri, lift in enumerate(ev.response):
            where = path + ("response", ri, "to")
            if lift.to in messages and lift.to in channels:
                self.add(where, f"'{lift.to}' is both a message and a channel, so it is unclear which deliveries "
                         "lift the rate", f"rename the message '{lift.to}'")
            elif lift.to not in messages | channels:
                if lift.to in CHANNELS:
                    self.add(where, f"no system serves channel '{lift.to}', so no delivery would ever lift the "
                             "rate", f"add a system with kind: channel, channel: {lift.to}, or name a message")
                else:
                    self.unknown(where, "message or channel name", lift.to, messages | channels,
                                 "define the message under messages:, or name a channel a system serves")

    def check_rate_by(self, path: PathKey, rate: RateByAttribute) -> None:
        attrs = self.sc.population.attributes
        if rate.by not in attrs:
            self.unknown(path + ("by",), "attribute", rate.by, attrs,
                         "declare it under population.attributes")
            return
        dist = attrs[rate.by]
        if isinstance(dist, Bernoulli):
            support = [v for v, w in (("true", dist.p), ("false", 1 - dist.p)) if w > 0]
        elif isinstance(dist, Choice):
            support = [value_key(v) for v, w in dist.options if w > 0]
        else:
            self.add(path + ("by",), f"attribute '{rate.by}' is drawn from a {dist.kind} distribution; a rate per "
                     "value needs one with a few values", "use an attribute drawn with choice or bernoulli")
            return
        for value, _ in rate.values:
            if value_key(value) not in support:
                guess = did_you_mean(value_key(value), support)
                self.add(path + ("values", value), f"'{rate.by}' never takes the value '{value}'",
                         f"did you mean '{guess}'?" if guess else f"its values: {', '.join(support)}")
        missing = [v for v in support if v not in rate.by_key]
        if missing and rate.default is None:
            self.add(path + ("values",), f"no rate for {rate.by} {', '.join(repr(v) for v in missing)}",
                     "list them under values, or add default: RATE")

    def check_fatigue(self) -> None:
        behaviour = self.sc.population.behaviour
        for ch in CHANNELS:
            if getattr(behaviour, ch).fatigue is not None and ch not in self.sc.channel_systems:
                self.add(("population", "behaviour", ch, "fatigue"), f"no system serves channel '{ch}', so "
                         "fatigue would never apply", f"add a system with kind: channel, channel: {ch}, or remove it")

    def check_sync(self) -> None:
        known = self.cat.fields | self.cat.events | set(SYNC_TOKENS)
        labels: dict[str, int] = {}
        for li, link in enumerate(self.sc.sync):
            path: PathKey = ("sync", li)
            self.system(path + ("from",), link.from_)
            self.system(path + ("to",), link.to)
            if link.name is not None:
                if link.name in labels:
                    self.add(path + ("name",), f"duplicate link name '{link.name}' (also sync[{labels[link.name]}])")
                labels.setdefault(link.name, li)
            for fi, token in enumerate(link.fields):
                if token not in known:
                    self.unknown(path + ("fields", fi), "field", token, known,
                                 "list attributes, fields set by events or updates, event names, 'events' or 'consent'")
            if link.retry_after is not None and link.failure_rate == 0:
                self.add(path + ("retry_after",), "retry_after has no effect with failure_rate 0",
                         "set failure_rate or remove retry_after")
            self.check_outages(path, link)

    def check_outages(self, path: PathKey, link: SyncLink) -> None:
        """``skip`` means missing scheduled runs: only batch links have them."""
        for oi, outage in enumerate(link.outages):
            if outage.on_outage == "skip" and link.mode == "stream":
                self.add(path + ("outages", oi, "on_outage"),
                         "on_outage: skip means a batch link misses its scheduled runs; a stream link has no runs "
                         "to miss",
                         "use queue (changes made while down are sent when it is back) or drop (they are lost)")

    def check_messages(self) -> None:
        served = self.sc.channel_systems
        for name, msg in self.sc.messages.items():
            path: PathKey = ("messages", name)
            if msg.channel not in served:
                self.add(path + ("channel",), f"no system serves channel '{msg.channel}'",
                         f"add a system with kind: channel, channel: {msg.channel}")
            if msg.system is not None:
                self.system(path + ("system",), msg.system)
            if msg.subject is not None and msg.channel != "email":
                self.add(path + ("subject",), f"'subject' is for email messages; this one is {msg.channel}",
                         "use 'title' for push, or put the text in 'body'")
            if msg.preheader is not None and msg.channel != "email":
                self.add(path + ("preheader",), f"'preheader' is for email messages; this one is {msg.channel}",
                         "remove it, or put the text in 'body'")
            if msg.max_segments is not None and msg.channel != "sms":
                self.add(path + ("max_segments",), f"'max_segments' is for sms messages; this one is {msg.channel}",
                         "remove it, or set channel: sms")
            for key, part in (("max_subject_chars", "subject"), ("max_title_chars", "title"),
                              ("max_preheader_chars", "preheader")):
                if getattr(msg, key) is not None and getattr(msg, part) is None:
                    self.add(path + (key,), f"'{key}' limits the {part}, but this message has no '{part}'",
                             f"add a '{part}', or remove '{key}'")
            for key in ("subject", "preheader", "title", "body"):
                text = getattr(msg, key)
                if text:
                    problem = template_problem(text, self.sc.start)
                    if problem:
                        self.add(path + (key,), f"template error: {problem}", "fix the Liquid template")

    def check_compliance(self) -> None:
        from simulator.creative.rulepacks import available_packs

        packs = available_packs()
        seen: dict[str, int] = {}
        for i, name in enumerate(self.sc.compliance):
            if name not in packs:
                self.unknown(("compliance", i), "compliance pack", name, packs)
            elif name in seen:
                self.add(("compliance", i), f"compliance pack '{name}' is listed twice (also compliance[{seen[name]}])",
                         "list each pack once")
            seen.setdefault(name, i)

    def check_policies(self) -> None:
        pol = self.sc.policies
        if pol.quiet_hours is not None and pol.quiet_hours.from_ == pol.quiet_hours.to:
            self.add(("policies", "quiet_hours", "to"), "quiet hours start and end at the same time",
                     "give a window such as from: \"21:00\", to: \"08:00\"")
        journeys = {j.name for j in self.sc.journeys}
        for pi, name in enumerate(pol.priority):
            if name not in journeys:
                self.unknown(("policies", "priority", pi), "journey", name, journeys)
        for ci, cap in enumerate(pol.journey_caps):
            for ji, name in enumerate(cap.journeys):
                if name not in journeys:
                    self.unknown(("policies", "journey_caps", ci, "journeys", ji), "journey", name, journeys)

    def check_platform(self) -> None:
        from simulator.platforms.presets import presets, unknown_platform_hint

        name = self.sc.platform
        if name is not None and name not in presets():
            self.add(("platform",), f"unknown platform '{name}'", unknown_platform_hint(name))

    def check_journey(self, ji: int, j: Journey) -> None:
        base: PathKey = ("journeys", ji)
        self.system(base + ("reads_from",), j.reads_from)
        ids: dict[str, int] = {}
        for si, step in enumerate(j.steps):
            if step.id in ids:
                self.add(base + ("steps", si, "id"), f"duplicate step id '{step.id}' (also steps[{ids[step.id]}])",
                         "step ids must be unique within a journey")
            elif step.id in RESERVED_TARGETS:
                self.add(base + ("steps", si, "id"), f"'{step.id}' is reserved (it means: leave the journey)")
            ids.setdefault(step.id, si)
        targets = set(ids) | set(RESERVED_TARGETS)
        for si, step in enumerate(j.steps):
            self.check_step(base + ("steps", si), step, targets)
        self.event(base + ("entry", "event"), j.entry.event)
        if j.exit_when is not None:
            self.event(base + ("exit_when", "event"), j.exit_when.event)
        routes_ok = all(t in targets for si in range(len(j.steps)) for t in step_successors(j, si))
        if routes_ok and len(ids) == len(j.steps):
            self.check_flow(base, j)
        self.check_reads(base, j)

    def check_step(self, path: PathKey, step: Step, targets: set[str]) -> None:
        def target(key: PathKey, value: str | None) -> None:
            if value is not None and value not in targets:
                self.unknown(path + key, "step", value, targets)

        target(("goto",), step.goto)
        target(("next",), step.next)
        for ai, arm in enumerate(step.branch or []):
            target(("branch", ai, "else" if arm.else_ is not None else "goto"), arm.target)
            if arm.else_ is not None and ai < len(step.branch or []) - 1:
                self.add(path + ("branch", ai, "else"), "'else' must be the last arm: the arms after it never run",
                         "move it to the end")
        for t in step.split or {}:
            target(("split", t), t)
        if step.wait_until is not None:
            self.event(path + ("wait_until", "event"), step.wait_until.event)
            target(("wait_until", "then"), step.wait_until.then)
            target(("wait_until", "on_timeout"), step.wait_until.on_timeout)
            if step.wait_until.on_timeout is not None and step.wait_until.timeout is None:
                self.add(path + ("wait_until", "on_timeout"), "on_timeout needs a 'timeout'", "add timeout: 24h")
        if step.send is not None and step.send not in self.sc.messages:
            self.unknown(path + ("send",), "message", step.send, self.sc.messages, "define it under messages:")
        if step.at is not None:
            self.system(path + ("at",), step.at)

    def check_flow(self, base: PathKey, j: Journey) -> None:
        index = {s.id: i for i, s in enumerate(j.steps)}
        succ = {i: [index[t] for t in step_successors(j, i) if t in index] for i in range(len(j.steps))}
        reached = {0}
        queue = deque([0])
        while queue:
            for n in succ[queue.popleft()]:
                if n not in reached:
                    reached.add(n)
                    queue.append(n)
        for i, step in enumerate(j.steps):
            if i not in reached:
                self.add(base + ("steps", i, "id"), f"step '{step.id}' is unreachable: no step leads to it",
                         "route to it with goto/next/branch/split, or remove it")
        waits = {i for i, s in enumerate(j.steps) if s.wait is not None or s.wait_until is not None}
        cycle = _cycle(succ, skip=waits)
        if cycle:
            names = " -> ".join(j.steps[i].id for i in cycle + [cycle[0]])
            self.add(base + ("steps", cycle[0], "id"), f"loop with no wait: {names}",
                     "add a wait or wait_until step to the loop, or route it to 'end'")

    def check_reads(self, base: PathKey, j: Journey) -> None:
        where = j.reads_from
        if where not in self.sc.systems:
            return
        for rel, cond in _conditions(j):
            path = base + rel
            self.condition_names(path, cond)
            for f in sorted(cond.fields & self.cat.fields):
                origins = self.cat.field_origins[f]
                if origins and where not in self.cat.reach(origins, f, is_event=False):
                    self.add(path, f"reads '{f}', which changes at {_names(origins)}, but no sync link brings "
                             f"'{f}' from there to {where} (this journey's reads_from)",
                             f"add '{f}' to the fields of a link on a path to {where}")
            for e in sorted(cond.events & self.cat.events):
                self.event_reaches(path, e, where)
        for rel, event in ((("entry", "event"), j.entry.event),
                           (("exit_when", "event"), j.exit_when.event if j.exit_when else None)):
            if event in self.cat.events:
                self.event_reaches(base + rel, event, where)
        for si, step in enumerate(j.steps):
            if step.wait_until is not None and step.wait_until.event in self.cat.events:
                self.event_reaches(base + ("steps", si, "wait_until", "event"), step.wait_until.event, where)

    def event_reaches(self, path: PathKey, event: str, where: str) -> None:
        origins = self.cat.event_origins(event)
        if origins and where not in self.cat.reach(origins, event, is_event=True):
            self.add(path, f"event '{event}' happens at {_names(origins)} but no sync link brings it to {where} "
                     "(this journey's reads_from), so the journey would never see it",
                     f"add 'events' (or '{event}') to the fields of a link on a path to {where}")

    def condition_names(self, path: PathKey, cond: Condition) -> None:
        for f in sorted(cond.fields - self.cat.fields):
            self.unknown(path, "field", f, self.cat.fields,
                         "declare it under population.attributes or set it with an event or update")
        for e in sorted(cond.events - self.cat.events):
            self.unknown(path, "event", e, self.cat.events)
        served = set(self.sc.channel_systems)
        for ch in sorted(cond.channels - served):
            self.unknown(path, "channel", ch, served)


def _names(systems: set[str]) -> str:
    return " and ".join(sorted(systems))


def _cycle(succ: dict[int, list[int]], skip: set[int]) -> list[int] | None:
    """A cycle through nodes not in ``skip`` (depth-first search), or None."""
    state: dict[int, int] = {}
    stack: list[int] = []

    def visit(n: int) -> list[int] | None:
        state[n] = 1
        stack.append(n)
        for m in succ[n]:
            if m in skip:
                continue
            if state.get(m) == 1:
                return stack[stack.index(m):]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        state[n] = 2
        stack.pop()
        return None

    for n in succ:
        if n not in skip and n not in state:
            found = visit(n)
            if found:
                return found
    return None


def semantic_issues(sc: Scenario, located: Located) -> list[ScenarioIssue]:
    """Every cross-reference problem in ``sc``; ``located`` gives their lines."""
    return _Checker(sc, located).run()
