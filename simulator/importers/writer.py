"""Turn imported journeys (:mod:`simulator.importers.ir`) into scenario YAML text.

The output keeps the vendor's ids as step ids, puts a comment above every step saying where it came
from, and writes whatever the scenario format cannot express as a ``# NOT MAPPED:`` comment at the
place it belongs (the same notes the importer prints). An export has no systems, sync links or
population, so the writer adds a minimal default for them, each block marked
``# generated default: edit to match your stack`` (docs/import.md lists the defaults).

A node the format cannot express keeps its id and its edges as a pass-through step
(``split: {NEXT: 100}``; with several outcomes, equal integer shares as a placeholder), so the graph
stays the vendor's and the scenario still validates and runs.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml

from simulator.importers.ir import (
    END, Branch, EmitEvent, Exit, ImportedJourney, Link, Node, ProfileUpdate, RandomSplit, RateLimit,
    Send, Unmapped, Unmodelled, Wait, WaitUntilCondition, WaitUntilDate, WaitUntilEvent, WaitUntilWindow, lossy_notes,
    pass_through_note,
)
from simulator.scenario.units import format_duration

__all__ = ["write_scenario", "format_duration", "GENERATED", "ENGAGEMENT_SUFFIXES", "READS_FROM", "Topology"]

GENERATED = "# generated default: edit to match your stack"
_LONGEST = 36500 * 86400.0  # the longest duration a scenario may give; longer waits are cut (ir.lossy_notes)
READS_FROM = "cdp"
ENGAGEMENT_SUFFIXES = ("delivered", "opened", "clicked", "unsubscribed")
CHANNEL_SYSTEM = {"email": "esp", "sms": "sms", "push": "push", "in_app": "in_app", "whatsapp": "whatsapp"}
START = "2026-01-05T00:00:00Z"   # a Monday; edit to your launch date
ENTRY_WINDOW = 14 * 86400.0      # generated entry events happen during the first 14 days
#: plain scalars the scenario loader (YAML 1.2 core schema) reads as bool/int/float/null, not as strings;
#: PyYAML (YAML 1.1) leaves some of them unquoted ('1e100'), so the writer quotes them itself
_NOT_STRING = re.compile(
    r"^(?:true|True|TRUE|false|False|FALSE|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
    r"|~|null|Null|NULL|)$")


class _Dumper(yaml.SafeDumper):
    def represent_str(self, data: str) -> yaml.ScalarNode:
        if _NOT_STRING.match(data):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style="'")
        return super().represent_str(data)


_Dumper.add_representer(str, _Dumper.represent_str)


def _flow(value: Any) -> str:
    """One YAML value on one line (flow style), quoted where YAML needs it. Values PyYAML would
    fold over several lines (strings with line breaks) are written as JSON, which YAML reads."""
    text = yaml.dump([value], Dumper=_Dumper, default_flow_style=True, width=10**9, allow_unicode=True,
                     sort_keys=False)
    text = text.strip()[1:-1].strip()
    if "\n" in text:
        return json.dumps(value, ensure_ascii=False)
    return text


def _printable(text: str) -> str:
    """``text`` on one line with every character YAML accepts in a comment (others as \\xNN)."""
    one = " ".join(str(text).split())
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in one)


def _comment(text: str, indent: str) -> list[str]:
    one = _printable(text)
    return [f"{indent}# {one}"] if one else []


@dataclass
class _Reads:
    """Fields and events the journeys' conditions read, with the literals each field is compared to."""

    fields: dict[str, list[Any]] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)

    def add_condition(self, text: str | None) -> None:
        if not text:
            return
        tree = ast.parse(text, mode="eval")
        funcs = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and id(node) not in funcs and node.id not in _LITERALS:
                self.fields.setdefault(node.id, [])
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "has_event":
                if node.args and isinstance(node.args[0], ast.Constant):
                    self.events.add(str(node.args[0].value))
            elif isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                names = [s.id for s in sides if isinstance(s, ast.Name) and s.id not in _LITERALS]
                consts = [s.value if isinstance(s, ast.Constant) else _LITERALS[s.id] for s in sides
                          if isinstance(s, ast.Constant) or (isinstance(s, ast.Name) and s.id in _LITERALS)]
                for n in names:
                    self.fields.setdefault(n, []).extend(c for c in consts if c is not None)


_LITERALS = {"true": True, "false": False, "True": True, "False": False, "null": None, "None": None}


def _attribute_default(values: list[Any]) -> Any:
    """A generated distribution giving each compared literal a fair chance (docs/import.md)."""
    nums = sorted({float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)})
    strs = sorted({v for v in values if isinstance(v, str)})
    if strs:
        opts = strs + (["other"] if "other" not in strs else [])
        share = round(1 / len(opts), 6)
        weights = {o: share for o in opts}
        weights[opts[-1]] = round(1 - share * (len(opts) - 1), 6)
        return {"choice": weights}
    if nums:
        top = max(abs(n) for n in nums) or 1.0
        pts = sorted(set(nums) | {0.0, 2 * top})
        return {"empirical": [int(p) if p == int(p) and abs(p) < 2**63 else p for p in pts]}
    return {"bernoulli": 0.5}  # booleans, or a field only tested for null/truth


def _preset_check(platform: str | None, exit_when: dict[str, Any]) -> str | None:
    """The ``exit_when.check`` the platform preset gives this exit_when (None: the preset sets none
    for it), following the preset's ``where: {exit_on}`` (docs/platforms.md)."""
    if not platform:
        return None
    from simulator.platforms.presets import preset

    form = ("both" if "event" in exit_when and "when" in exit_when else
            "event" if "event" in exit_when else "condition")
    for rule in preset(platform).rules:
        if rule.set == "journeys[*].exit_when.check" and rule.where.exit_on in (None, form):
            return str(rule.value)
    return None


def _marked(step: dict[str, Any], n: Node) -> dict[str, Any]:
    """``step`` with the node's ``placeholder`` key when the export did not carry one of its values."""
    return {**step, "placeholder": n.placeholder} if n.placeholder else step


def _pass_through(targets: list[str]) -> dict[str, float]:
    """A split that keeps every distinct target reachable: 100 to one, equal integer shares to many."""
    distinct = list(dict.fromkeys(targets)) or [END]
    base, extra = divmod(100, len(distinct))
    return {t: base + (1 if i < extra else 0) for i, t in enumerate(distinct)}


@dataclass
class Topology:
    """A user's own systems and sync links (``journeysim import --topology FILE``) written instead of the
    generated default. ``reads_from`` is the system the journeys read (and updates write to),
    ``origin`` the source system where population events happen."""

    label: str
    systems: dict[str, Any]
    sync: list[Any]
    reads_from: str
    origin: str

    def channel_system(self, channel: str) -> str | None:
        for name, spec in self.systems.items():
            if isinstance(spec, dict) and spec.get("kind") == "channel" and spec.get("channel") == channel:
                return name
        return None


class _Writer:
    topology: Topology | None = None

    def __init__(self, journeys: list[ImportedJourney], source: str, fmt: str, scenario_name: str):
        self.journeys = journeys
        self.source = source
        self.fmt = fmt
        self.name = scenario_name
        self.lines: list[str] = []
        self.channels: list[str] = []
        self.messages: dict[str, tuple[Send, str]] = {}   # message name -> (node, journey name)
        self.message_of: dict[tuple[str, str], str] = {}  # (journey, node id) -> message name
        self.reads = _Reads()
        self.events: list[str] = []   # population events to generate, in first-use order
        self.flags: list[str] = []
        platforms = {j.platform for j in journeys}
        self.platform = platforms.pop() if len(platforms) == 1 else None

    # -- collection ---------------------------------------------------------------------------
    def collect(self) -> None:
        for j in self.journeys:
            self._event(j.entry.event)
            self.reads.add_condition(j.entry.condition)
            self.flags += [f for f in j.entry.generated_flags if f not in self.flags]
            for x in j.exit_conditions:
                self.reads.add_condition(x.condition)
                self._event(x.event)
            for n in j.nodes:
                if isinstance(n, Send):
                    if n.channel not in self.channels:
                        self.channels.append(n.channel)
                    name = n.id
                    if name in self.messages:  # the same activity key in two journeys
                        name = f"{j.name}.{n.id}"
                        if len(name) > 100 or name in self.messages:
                            name = f"m{len(self.messages)}.{n.id}"[:100]
                    self.messages[name] = (n, j.name)
                    self.message_of[(j.name, n.id)] = name
                elif isinstance(n, Branch):
                    for a in n.arms:
                        self.reads.add_condition(a.condition)
                elif isinstance(n, WaitUntilEvent):
                    self._event(n.event)
        for e in sorted(self.reads.events):
            self._event(e)

    def _event(self, name: str | None) -> None:
        if not name or name in self.events:
            return
        if any(name == f"{c}_{s}" for c in ("email", "sms", "push", "in_app", "whatsapp") for s in ENGAGEMENT_SUFFIXES):
            ch = name.rsplit("_", 1)[0]
            if ch not in self.channels:
                self.channels.append(ch)
            return
        self.events.append(name)

    def longest_wait(self) -> float:
        total = 0.0
        for j in self.journeys:
            for n in j.nodes:
                if isinstance(n, Wait):
                    total += n.seconds
                elif isinstance(n, (WaitUntilEvent, WaitUntilCondition)) and n.timeout:
                    total += n.timeout
        return total

    # -- output -------------------------------------------------------------------------------
    def emit(self, line: str = "") -> None:
        self.lines.append(line)

    def write(self) -> str:
        self.collect()
        notes = [u for j in self.journeys for u in j.all_unmapped()]
        self.emit(f"# Imported from a {self.fmt} export ({self.source}) by `journeysim import`.")
        self.emit("# Step ids are the export's own ids (SFMC activity keys, Dittofeed node ids); each step's comment")
        self.emit("# names its JSON path.")
        self.emit("# Systems, sync links, population, behaviour and message texts are NOT in an export: the blocks")
        self.emit("# marked 'generated default' are a minimal stack so the journey runs. Edit them to match yours")
        self.emit("# (latencies, batch schedules, consent shares) before trusting any finding.")
        if notes:
            self.emit(f"# NOT MAPPED: {len(notes)} item{'s' if len(notes) != 1 else ''} of the export could not be "
                      "expressed exactly; each is a '# NOT MAPPED:' comment where it belongs.")
        self.emit(f"scenario: {_flow(self.name)}")
        titles = ", ".join(j.title or j.name for j in self.journeys)
        self.emit(f"description: {_flow(f'Imported from {self.fmt}: {titles}')}")
        duration = min(ENTRY_WINDOW + self.longest_wait() + 86400, 36500 * 86400.0)  # the format's longest
        self.emit(f"start: {START}   {GENERATED}")
        self.emit(f"duration: {format_duration(duration)}   "
                  f"# generated default: the 14-day entry window + every wait + 1 day")
        self.emit("seed: 1")
        if self.platform:
            self.emit(f"platform: {self.platform}   # the {self.fmt} timing rules (docs/platforms.md); "
                      "`journeysim validate --explain` lists them")
        self.emit()
        self.population()
        self.systems()
        self.sync()
        self.write_messages()
        self.emit("journeys:")
        for j in self.journeys:
            self.journey(j)
        return "\n".join(self.lines) + "\n"

    def population(self) -> None:
        self.emit(GENERATED)
        self.emit("population:")
        self.emit("  size: 1000")
        attrs: dict[str, Any] = {}
        for f in self.flags:
            attrs[f] = {"bernoulli": 0.5}
        for f, values in sorted(self.reads.fields.items()):
            if f not in attrs:
                attrs[f] = _attribute_default(values)
        if attrs:
            self.emit("  attributes:   # fields the journeys read, with the values they are compared to")
            for f, dist in attrs.items():
                self.emit(f"    {_flow(f)}: {_flow(dist)}")
        if self.channels:
            self.emit(f"  consent: {_flow({c: 0.9 for c in self.channels})}")
            self.emit("  behaviour:")
            for c in self.channels:
                if c == "sms":
                    self.emit(f"    sms: {_flow({'click': 0.05})}")
                else:
                    self.emit(f"    {c}: {_flow({'open': 0.25, 'click_given_open': 0.1})}")
        if self.events:
            self.emit("  events:   # each event the journeys wait for happens once to half the customers")
            half = format_duration(ENTRY_WINDOW)
            for e in self.events:
                once = {"probability": 0.5, "at": {"uniform": {"low": "0s", "high": half}}}
                origin = self.topology.origin if self.topology else "web"
                self.emit(f"    - {_flow({'name': e, 'origin': origin, 'once': once})}")
        self.emit()

    def systems(self) -> None:
        if self.topology is not None:
            t = self.topology
            self.emit(f"# systems and sync links: from {_printable(t.label)} (journeysim import --topology)")
            self.emit("systems:")
            for name, spec in t.systems.items():
                self.emit(f"  {_flow(name)}: {_flow(spec)}")
            self.emit()
            return
        self.emit(GENERATED)
        self.emit("systems:")
        self.emit(f"  web: {_flow({'kind': 'source', 'description': 'where customer events happen (web/app)'})}")
        cdp = {"kind": "cdp", "description": f"the contact data the {self.fmt} journey reads"}
        self.emit(f"  {READS_FROM}: {_flow(cdp)}")
        for c in self.channels:
            self.emit(f"  {CHANNEL_SYSTEM[c]}: {_flow({'kind': 'channel', 'channel': c})}")
        self.emit()

    def sync(self) -> None:
        if self.topology is not None:
            if self.topology.sync:
                self.emit("sync:")
                for item in self.topology.sync:
                    self.emit(f"  - {_flow(item)}")
                self.emit()
            return
        lat = {"lognormal": {"median": "1m", "p95": "10m"}}
        self.emit(GENERATED + " (latencies are placeholders: measure yours)")
        self.emit("sync:")
        def link(src: str, dst: str, fields: list[str]) -> None:
            item = {"name": f"{src}-to-{dst}", "from": src, "to": dst, "fields": fields, "latency": lat}
            self.emit(f"  - {_flow(item)}")

        link("web", READS_FROM, ["events"])
        for c in self.channels:
            link(READS_FROM, CHANNEL_SYSTEM[c], ["consent"])
            link(CHANNEL_SYSTEM[c], READS_FROM, ["events", "consent"])
        self.emit()

    def write_messages(self) -> None:
        if not self.messages:
            return
        self.emit("messages:   # texts are placeholders: the export references templates, it does not contain them")
        for name, (n, _) in self.messages.items():
            self.emit(f"  {_flow(name)}:")
            ref = f" (template {_printable(n.template)})" if n.template else ""
            self.emit(f"    channel: {n.channel}{'' if not ref else '   #' + ref}")
            if n.channel == "email":
                self.emit(f"    subject: {_flow(n.subject or n.name or n.id)}")
                body = f"Imported {n.source_type or 'send'} {n.id}. Unsubscribe: {{{{ unsubscribe_url }}}}"
            elif n.channel == "sms":
                body = f"Imported {n.source_type or 'send'} {n.id}. Reply STOP to opt out"
            else:
                if n.subject:
                    self.emit(f"    title: {_flow(n.subject)}")
                body = f"Imported {n.source_type or 'send'} {n.id}."
            self.emit(f"    body: {_flow(body)}")
            self.emit(f"    tags: {_flow([n.category])}")
        self.emit()

    def journey(self, j: ImportedJourney) -> None:
        ind = "    "
        self.emit(f"  - name: {_flow(j.name)}")
        self.emit(f"{ind}description: {_flow(j.title or j.name)}")
        for u in j.unmapped:
            self.unmapped(u, ind)
        if self.topology is not None:
            self.emit(f"{ind}reads_from: {_flow(self.topology.reads_from)}   # from {_printable(self.topology.label)}")
        else:
            self.emit(f"{ind}reads_from: {READS_FROM}   {GENERATED}")
        if j.journey_data_note:
            self.lines += _comment(j.journey_data_note, ind)
            self.emit(f"{ind}journey_data: {j.journey_data}")
        e = j.entry
        self.lines += _comment(f"entry: {e.source} ({e.path})", ind)
        for u in e.unmapped:
            self.unmapped(u, ind)
        if e.kind == "event":
            entry: dict[str, Any] = {"event": e.event}
        elif e.kind == "segment":
            entry = {"segment": e.condition or "true", "every": format_duration(e.every or 86400)}
        else:
            entry = {"at": e.at, "segment": e.condition or "true"}
        self.emit(f"{ind}entry: {_flow(entry)}")
        if j.re_entry is not None:
            r = j.re_entry
            for u in r.notes():
                self.unmapped(u, ind)
            value: Any = (False if r.mode == "never" else
                          {"cooldown": format_duration(r.cooldown)} if r.cooldown else True)
            self.emit(f"{ind}re_entry: {_flow(value)}   # {_printable(f'{r.source} ({r.path})')}")
        for u in j.exit_unmapped + j.exit_merge_notes():
            self.unmapped(u, ind)
        exits = [x for x in j.exit_conditions if x.condition or x.event]
        if exits:
            for x in exits:
                self.lines += _comment(f"exit: {x.source} ({x.path})", ind)
            conds = [x.condition for x in exits if x.condition]
            events = [x.event for x in exits if x.event]
            ex: dict[str, Any] = {}
            if events:
                ex["event"] = events[0]
            if conds:
                ex["when"] = conds[0] if len(conds) == 1 else " or ".join(f"({c})" for c in conds)
            preset_check = _preset_check(self.platform, ex)
            if preset_check == exits[0].check:
                self.lines += _comment(f"check: {preset_check} comes from platform {self.platform}", ind)
            else:
                ex["check"] = exits[0].check
            self.emit(f"{ind}exit_when: {_flow(ex)}")
        if j.execution_window:
            self.lines += _comment(j.execution_window_note, ind)
            self.emit(f"{ind}execution_window: {_flow(j.execution_window)}")
        for g in j.goals:
            self.lines += _comment(f"goal '{g.name}' ({g.path}): {g.condition or g.verbatim or '(no criteria)'}", ind)
            for u in g.unmapped:
                self.unmapped(u, ind)
        self.emit(f"{ind}steps:")
        for n in j.nodes:
            self.step(j, n)

    def unmapped(self, u: Unmapped, ind: str) -> None:
        self.lines += _comment(f"NOT MAPPED: {u.what} ({u.path})", ind)
        if u.verbatim:
            self.lines += _comment(f"  verbatim: {u.verbatim}", ind)

    def step(self, j: ImportedJourney, n: Node) -> None:
        ind = "      "
        label = f' "{n.name}"' if n.name and n.name != n.id else ""
        self.lines += _comment(f"{n.source_type or type(n).__name__}{label} ({n.path})", ind)
        for note in n.notes:
            self.lines += _comment(note, ind)
        for u in n.unmapped:
            self.unmapped(u, ind)
        if isinstance(n, (Send, RandomSplit, Wait, WaitUntilEvent)):
            for u in lossy_notes(n):
                self.unmapped(u, ind)
        head = f"{ind}- "
        if isinstance(n, Wait):
            self.emit(head + _flow(_marked({"id": n.id, "wait": format_duration(min(n.seconds, _LONGEST)), "next": n.next}, n)))
        elif isinstance(n, WaitUntilWindow):
            ww: dict[str, Any] = {"at": n.start} if n.start == n.end else {"from": n.start, "to": n.end}
            if n.days:  # the IR's day names (monday or mon) as the format's (mon)
                ww["days"] = [str(d).strip().lower()[:3] for d in n.days]
            if n.zone:
                ww["zone"] = n.zone
            self.emit(head + _flow(_marked({"id": n.id, "wait_window": ww, "next": n.next}, n)))
        elif isinstance(n, WaitUntilEvent):
            wu: dict[str, Any] = {"event": n.event}
            if n.timeout is not None:
                wu["timeout"] = format_duration(min(n.timeout, _LONGEST))
            wu["then"] = n.then
            if n.timeout is not None:
                wu["on_timeout"] = n.on_timeout
            self.emit(head + _flow(_marked({"id": n.id, "wait_until": wu}, n)))
        elif isinstance(n, Send):
            self.emit(head + _flow(_marked({"id": n.id, "send": self.message_of[(j.name, n.id)], "next": n.next}, n)))
        elif isinstance(n, ProfileUpdate):
            at = self.topology.reads_from if self.topology else READS_FROM
            self.emit(head + _flow(_marked({"id": n.id, "update": dict(n.fields), "at": at, "next": n.next}, n)))
        elif isinstance(n, Branch):
            self.emit(f"{head}id: {_flow(n.id)}")
            if n.placeholder:
                self.emit(f"{ind}  placeholder: {_flow(n.placeholder)}")
            self.emit(f"{ind}  branch:")
            for a in n.arms:
                tag = f" '{a.label}'" if a.label else ""
                if a.mapped:
                    self.lines += _comment(f"outcome {a.key}{tag}", ind + "    ")
                    self.emit(f"{ind}    - {_flow({'when': a.condition, 'goto': a.target})}")
                else:
                    self.lines += _comment(f"NOT MAPPED: outcome {a.key}{tag}: its criteria could not be translated, "
                                           "so this arm is never taken until you write its condition "
                                           f"({a.path})", ind + "    ")
                    self.lines += _comment(f"  verbatim: {a.verbatim}", ind + "    ")
                    self.emit(f"{ind}    - {_flow({'when': 'false', 'goto': a.target})}")
            if n.default is not None:
                tag = f" '{n.default.label}'" if n.default.label else ""
                self.lines += _comment(f"outcome {n.default.key}{tag} (default path)", ind + "    ")
                self.emit(f"{ind}    - {_flow({'else': n.default.target})}")
            else:
                self.lines += _comment("no default path in the export: customers matching no arm leave", ind + "    ")
                self.emit(f"{ind}    - {_flow({'else': END})}")
        elif isinstance(n, RandomSplit):
            shares: dict[str, float] = {}
            for _, target, pct in n.weights:
                shares[target] = shares.get(target, 0) + pct
            shares = {t: (int(p) if p == int(p) else p) for t, p in shares.items()}
            self.emit(head + _flow(_marked({"id": n.id, "split": shares}, n)))
        else:
            self.pass_through(n)

    def pass_through(self, n: Node) -> None:
        """Nodes the format cannot express: keep the id and edges, say what happens instead."""
        ind = "      "
        if isinstance(n, Exit):
            self.lines += _comment(f"exit{': ' + n.reason if n.reason else ''}: the customer leaves here", ind)
        elif not isinstance(n, (Unmodelled, WaitUntilDate, WaitUntilCondition, EmitEvent, Link, RateLimit)):
            raise TypeError(f"the writer has no rule for {type(n).__name__}")  # pragma: no cover - a new IR kind
        note = pass_through_note(n)
        if note is not None:
            self.unmapped(note, ind)
        targets = n.targets()
        split = _pass_through(targets)
        if len(split) > 1:
            self.lines += _comment("placeholder shares: the export does not say how customers divide here; edit them", ind)
        self.emit(f"{ind}- " + _flow(_marked({"id": n.id, "split": split}, n)))


_SLUG = re.compile(r"[^A-Za-z0-9_.\-]+")


def scenario_name(text: str) -> str:
    """A valid scenario/journey name from a vendor's display name: 'Welcome Series!' -> 'welcome-series'."""
    slug = _SLUG.sub("-", text.strip().lower()).strip("-._")
    return (slug or "imported")[:100]


def write_scenario(journeys: Iterable[ImportedJourney], *, source: str, fmt: str, name: str | None = None,
                   topology: Topology | None = None) -> str:
    """The scenario YAML text for ``journeys`` (one scenario holding them all); with ``topology``, its
    systems and sync links instead of the generated default."""
    journeys = list(journeys)
    if not journeys:
        raise ValueError("nothing to write: no journeys")
    w = _Writer(journeys, source, fmt, name or journeys[0].name)
    w.topology = topology
    return w.write()


def channels_used(journeys: Iterable[ImportedJourney]) -> list[str]:
    """The channels the journeys send on or wait for engagement on, in first-use order."""
    w = _Writer(list(journeys), "", "", "x")
    w.collect()
    return list(w.channels)
