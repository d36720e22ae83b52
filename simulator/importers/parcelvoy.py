"""Parcelvoy journeys (the journey step map) -> IR.

Input (JSON): the ``JourneyStepMap`` as ``toJourneyStepMap`` returns it (``{external_id: {type, name,
data, data_key, x, y, children: [{external_id, path, data}]}}``), bare or as ``{name, steps: MAP}``,
optionally with ``campaigns: [{id, channel, name}]`` beside it (the campaigns API's list) so that an
action step knows its channel. The reference is Parcelvoy's own ``apps/platform/src/journey/
JourneyStep.ts`` and ``apps/platform/src/rules/*`` (docs/import.md has the URLs and the table).

A step map can hold several entrances; each becomes its own scenario journey (the steps reachable from
it), because the scenario format has one entry per journey. In short: ``entrance`` -> entry and
re-entry; ``delay`` ``duration`` -> ``wait`` (``time``/``date`` formats pass through); ``action`` ->
``send``; ``gate`` -> ``branch`` (``yes``/``no`` paths, the rule translated); ``experiment`` ->
``split`` by ``ratio``; ``balancer`` -> an equal ``split`` (its rate limit reported); ``update`` ->
``update`` for a literal JSON object; ``link``, ``event`` -> pass-through; ``exit`` -> exit (an exit
step no path reaches but that names an ``event_name`` is the entrance's exit event).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulator.importers.base import (
    MAX_SECONDS, ExportReader, ImportInputError, depth_first, did_you_mean, find_loop, printable, safe_name, shares, step_ids,
    shape, unique_names, want,
)
from simulator.importers.dittofeed_segment import _literal
from simulator.importers.ir import (
    END, Arm, Branch, EmitEvent, Entry, Exit, ExitCondition, ImportedJourney, Link, Node, ProfileUpdate, RandomSplit,
    ReEntry, Send, Unmapped, Unmodelled, Wait, WaitUntilDate, WaitUntilWindow,
)
from simulator.importers.sfmc_filter import field_name
from simulator.importers.writer import START, scenario_name

__all__ = ["import_parcelvoy", "EXPECTED", "STEP_TYPES", "STEP_URL", "translate_rule"]

EXPECTED = ("a Parcelvoy journey step map ({EXTERNAL_ID: {type, data, children}}) or {name, steps: MAP}, "
            "optionally with campaigns: [{id, channel}]")
_COMMIT = "836a3d845ac471f318d4b1487d44230de939fc36"
STEP_URL = f"https://github.com/parcelvoy/platform/blob/{_COMMIT}/apps/platform/src/journey/JourneyStep.ts"
STEP_TYPES = ("entrance", "exit", "delay", "action", "gate", "experiment", "link", "update", "balancer", "event")
_CHANNELS = {"email": "email", "text": "sms", "push": "push"}
_RRULE_FREQ = {"HOURLY": 3600.0, "DAILY": 86400.0, "WEEKLY": 604800.0}
_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_LINK_DELAY = {"1 minute": 60, "15 minutes": 900, "1 hour": 3600, "1 day": 86400}


def translate_rule(rule: Any) -> tuple[str | None, list[str]]:
    """(condition, problems) for a Parcelvoy rule tree (all or nothing)."""
    problems: list[str] = []
    cond = _rule(rule, problems)
    return (None if problems else cond), problems


def _rule(r: Any, problems: list[str]) -> str:
    if not isinstance(r, dict):
        problems.append("a rule is not an object")
        return "false"
    t, group, op = r.get("type"), r.get("group", "user"), r.get("operator")
    kids = r.get("children") if isinstance(r.get("children"), list) else []
    if t == "wrapper" and group == "event":
        if isinstance(r.get("value"), str) and r["value"] and not kids and not r.get("frequency"):
            return f"has_event({_literal(safe_name(r['value']))})"
        problems.append(f"event rule on '{r.get('value')}' with property conditions or a frequency")
        return "false"
    if t == "wrapper":
        if not kids:
            return "true"
        parts = [_rule(k, problems) for k in kids]
        wrap = [f"({p})" if " and " in p or " or " in p else p for p in parts]
        if op == "and":
            return " and ".join(wrap)
        if op == "or":
            return " or ".join(wrap)
        if op == "none":
            return "not (" + " or ".join(wrap) + ")"
        problems.append(f"wrapper operator {json.dumps(op)} (and, or and none are translated)")
        return "false"
    if group != "user":
        problems.append(f"a rule on {group} data (only user properties are read by the scenario's conditions)")
        return "false"
    path = r.get("path")
    if not isinstance(path, str) or not path.strip("$."):
        problems.append("a rule without a path")
        return "false"
    f = field_name(path.lstrip("$").lstrip("."))
    if t not in ("string", "number", "boolean"):
        problems.append(f"rule type {json.dumps(t)} on '{path}' (string, number and boolean are translated)")
        return "false"
    if op == "is set":
        return f"{f} != null"
    if op == "is not set":
        return f"{f} == null"
    value = r.get("value")
    if isinstance(value, str) and "{{" in value:
        problems.append(f"'{path}' compares with a template {value!r}")
        return "false"
    if not isinstance(op, str) or op not in _OPS or (t == "string" and op not in ("=", "!=")):
        problems.append(f"'{path}' operator {json.dumps(op)} has no equivalent in the condition language")
        return "false"
    if t == "number":
        try:
            value = float(value) if "." in str(value) else int(value)
        except (TypeError, ValueError):
            problems.append(f"'{path}' compares with a non-number {json.dumps(value)}")
            return "false"
    elif t == "boolean":
        value = value if isinstance(value, bool) else str(value).lower() == "true"
    elif not isinstance(value, (str, int, float)) or isinstance(value, bool) or not printable(value):
        problems.append(f"'{path}' compares with {json.dumps(value)[:40]}")
        return "false"
    else:
        value = str(value)
    return f"{f} {_OPS[op]} {_literal(value)}"


class _Map(ExportReader):
    expected = EXPECTED

    def __init__(self, steps: dict[str, Any], meta: dict[str, Any], file: str, prefix: str):
        super().__init__(file, prefix)
        self.steps, self.meta, self.p = steps, meta, prefix
        self.campaigns: dict[str, dict[str, Any]] = {}

    def sp(self, key: str) -> str:
        """The JSON path of a step (keys are external ids, quoted when not plain)."""
        return f"{key}" if re.match(r"^[A-Za-z0-9_-]+$", key) else json.dumps(key)

    def build(self) -> list[ImportedJourney]:
        for key, s in self.steps.items():
            s = self.want(s, dict, self.sp(key), "each step is {type, data, children}")
            self.want(s.get("type"), str, f"{self.sp(key)}.type", f"one of {', '.join(STEP_TYPES)}")
        for key, s in self.steps.items():
            kids = s.get("children", [])
            kids = self.want(kids if kids is not None else [], list, f"{self.sp(key)}.children",
                             '"children": [{"external_id": "...", "path": "..."}]')
            for j, c in enumerate(kids):
                c = self.want(c, dict, f"{self.sp(key)}.children[{j}]", '{"external_id": "..."}')
                cid = self.want(c.get("external_id"), str, f"{self.sp(key)}.children[{j}].external_id")
                if cid not in self.steps:
                    hint = did_you_mean(cid, list(self.steps))
                    raise self.err(f"{self.sp(key)}.children[{j}].external_id", f"names step '{cid}', which is not "
                                   "in the map", hint or f"use a step's external id; ids: {', '.join(self.steps)}")
                if self.steps[cid].get("type") == "entrance":
                    raise self.err(f"{self.sp(key)}.children[{j}].external_id", f"points to the entrance '{cid}'",
                                   "a path cannot lead into an entrance; use a link step")
        entrances = [k for k, s in self.steps.items() if s["type"] == "entrance"]
        if not entrances:
            raise self.err("", "the map has no entrance step", 'add a step {"type": "entrance", ...}')
        self.ids = step_ids([k for k in self.steps if self.steps[k]["type"] != "entrance"], "end-step")
        nodes = {k: self.node(k, s) for k, s in self.steps.items() if s["type"] != "entrance"}
        by_id = {self.ids[k]: k for k in nodes}
        loop = find_loop(nodes, by_id, END)
        if loop:
            raise self.err(self.sp(loop[-2]), f"the steps form a loop ('{loop[-2]}' leads back to '{loop[-1]}')",
                           "Parcelvoy journeys do not loop; use a link step")
        title = str(self.meta.get("name") or Path(self.file).stem or "parcelvoy journey")
        reached: set[str] = set()
        journeys = []
        for e in entrances:
            journeys.append(self.journey(e, nodes, title, len(entrances) > 1))
            reached |= {k for k in nodes if any(n.id == self.ids[k] for n in journeys[-1].nodes)}
        exit_events = {k for k, s in self.steps.items() if s["type"] == "exit" and s.get("data", {}) and
                       isinstance(s.get("data"), dict) and s["data"].get("event_name")}
        for k in nodes:
            if k not in reached and k not in exit_events:
                journeys[0].unmapped.append(Unmapped(f"{self.p}{self.sp(k)}", f"step '{k}' cannot be reached from "
                                                                               "an entrance: left out"))
        return journeys

    # -- entrances ----------------------------------------------------------------------------
    def journey(self, e: str, nodes: dict[str, Node], title: str, several: bool) -> ImportedJourney:
        s = self.steps[e]
        data = s.get("data") if isinstance(s.get("data"), dict) else {}
        kids = s.get("children") or []
        first = self.ids[kids[0]["external_id"]] if kids else END
        by_id = {self.ids[k]: k for k in nodes}
        order = depth_first(by_id[first] if first != END else None, nodes, self.ids, END)
        label = str(s.get("name") or e)
        name = title + (f" - {label}" if several else "")
        j = ImportedJourney(id=str(self.meta.get("id") or title) + (f"/{e}" if several else ""),
                            name=scenario_name(f"{title} {label}" if several else title), path=self.p + self.sp(e),
                            entry=self.entry(e, data),
                            nodes=[nodes[k] for k in order], title=name)
        if not j.nodes:
            raise self.err(self.sp(e), "the entrance leads nowhere: nothing to simulate",
                           "connect the entrance to a first step")
        for extra in kids[1:]:
            j.unmapped.append(Unmapped(f"{self.p}{self.sp(e)}.children", f"the entrance's child "
                                       f"'{extra['external_id']}' after the first is not followed (Parcelvoy takes the "
                                       "first child)"))
        j.re_entry = self.re_entry(e, data)
        for k, x in self.steps.items():
            xd = x.get("data") if isinstance(x.get("data"), dict) else {}
            if x["type"] == "exit" and xd.get("entrance_uuid") == e and isinstance(xd.get("event_name"), str):
                j.exit_conditions.append(ExitCondition(f"{self.p}{self.sp(k)}", event=safe_name(xd["event_name"]),
                                                       source=f"exit step '{k}' on event '{xd['event_name']}'"))
                if xd.get("rule"):
                    j.exit_unmapped.append(Unmapped(f"{self.p}{self.sp(k)}.data.rule", "the exit event's rule is not "
                                                    "applied: any such event exits", json.dumps(xd["rule"])[:400]))
        if self.meta.get("published") is False:
            j.unmapped.append(Unmapped(f"{self.p}published", "the journey is not published: Parcelvoy does not run "
                                                             "it; the scenario does"))
        return j

    def entry(self, e: str, data: dict[str, Any]) -> Entry:
        path = f"{self.p}{self.sp(e)}.data"
        trig = data.get("trigger", "none")
        if trig == "event":
            ev = self.want(data.get("event_name"), str, f"{self.sp(e)}.data.event_name", 'e.g. "event_name": "signup"')
            entry = Entry("event", path, event=safe_name(ev), source=f"Parcelvoy event entrance '{ev}'")
            if entry.event != ev:
                entry.unmapped.append(Unmapped(f"{path}.event_name", f"event '{ev}' written as '{entry.event}'"))
            if data.get("rule"):
                cond, problems = translate_rule(data["rule"])
                entry.unmapped.append(Unmapped(f"{path}.rule", "the entrance rule " + (f"({cond}) " if cond else "")
                                               + "is not applied at entry: the format's event entry takes no "
                                               "condition" + ("" if cond else " (" + "; ".join(problems) + ")"),
                                               json.dumps(data["rule"])[:400]))
            return entry
        if trig == "schedule":
            flag = f"in_list_{data.get('list_id')}" if data.get("list_id") is not None else "in_scheduled_list"
            flag = field_name(flag)
            rule = data.get("schedule") if isinstance(data.get("schedule"), str) else ""
            m = re.search(r"FREQ=([A-Z]+)", rule)
            iv = re.search(r"INTERVAL=(\d+)", rule)
            if m and m.group(1) in _RRULE_FREQ:
                every = _RRULE_FREQ[m.group(1)] * (int(iv.group(1)) if iv else 1)
                entry = Entry("segment", path, condition=flag, every=every, generated_flags=(flag,),
                              source=f"Parcelvoy scheduled entrance ({rule}) for list {data.get('list_id')}")
            else:
                entry = Entry("schedule", path, condition=flag, at=START, generated_flags=(flag,),
                              source=f"Parcelvoy scheduled entrance ({rule or 'no schedule'}) for list "
                                     f"{data.get('list_id')}")
                if m:
                    entry.unmapped.append(Unmapped(f"{path}.schedule", f"recurrence FREQ={m.group(1)} is not "
                                                   "modelled: the list enters once, at the run's start"))
            entry.unmapped.append(Unmapped(f"{path}.list_id", f"who is in list {data.get('list_id')} is not in the "
                                           f"export: a generated flag '{flag}' (half the population) stands for it; "
                                           "the schedule's DTSTART/time of day is not modelled"))
            return entry
        if trig != "none":
            raise self.err(f"{self.sp(e)}.data.trigger", f"unknown entrance trigger {json.dumps(trig)}",
                           did_you_mean(str(trig), ["none", "event", "schedule"]) or "one of none, event, schedule")
        event = "parcelvoy_entrance"
        entry = Entry("event", path, event=event, source="Parcelvoy entrance without a trigger (API or link)")
        entry.unmapped.append(Unmapped(path, f"an entrance without a trigger (users enter by API or a link step) "
                                             f"becomes the generated event '{event}' (half the population, once)"))
        return entry

    def re_entry(self, e: str, data: dict[str, Any]) -> ReEntry:
        path = f"{self.p}{self.sp(e)}.data.multiple"
        if data.get("multiple") is not True:
            return ReEntry("never", path, "multiple: false (enter once)")
        if data.get("concurrent") is True:
            return ReEntry("any_time", path, "multiple and concurrent entries")
        return ReEntry("after_exit", path, "multiple entries, not concurrent")

    # -- steps --------------------------------------------------------------------------------
    def child_ids(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        return [(self.ids[c["external_id"]], c) for c in self.steps[key].get("children") or []]

    def node(self, key: str, s: dict[str, Any]) -> Node:
        t = s["type"]
        data = s.get("data") if isinstance(s.get("data"), dict) else {}
        kids = self.child_ids(key)
        path = f"{self.p}{self.sp(key)}"
        base: dict[str, Any] = {"id": self.ids[key], "path": path, "name": str(s.get("name") or ""), "source_type": t,
                                "next": kids[0][0] if kids else END}
        notes = [] if self.ids[key] == key else [f"Parcelvoy id {key!r} is not a valid step id: renamed "
                                                 f"'{self.ids[key]}'"]
        node: Node
        if t == "delay":
            node = self.delay(key, data, base)
        elif t == "action":
            node = self.action(key, data, base)
        elif t == "gate":
            node = self.gate(key, data, base, kids)
        elif t == "experiment":
            node = self.experiment(key, base, kids)
        elif t == "balancer":
            node = self.balancer(key, data, base, kids)
        elif t == "update":
            node = self.update(key, data, base)
        elif t == "link":
            node = Link(**base, journey=str(data.get("target_id") or ""))
            delay = data.get("delay") or "1 day"
            node.notes.append(f"Parcelvoy starts the linked journey after {delay}")
        elif t == "event":
            node = EmitEvent(**base, event=str(data.get("event_name") or ""))
        elif t == "exit":
            node = Exit(**base, reason=f"exit from entrance {data.get('entrance_uuid')}" if data.get("entrance_uuid")
                        else "")
            node.next = END
        else:
            hint = did_you_mean(t, STEP_TYPES)
            node = Unmodelled(**base, kind=f"step type '{t}'" + (f" ({hint})" if hint else ""),
                              outcomes=[(str(c.get("path") or j), tid, "") for j, (tid, c) in enumerate(kids)],
                              divides="the export does not say how this step type divides users")
        if t not in ("gate", "experiment", "balancer", "exit") and len(kids) > 1:
            node.unmapped.append(Unmapped(f"{path}.children", f"a {t} step follows its first child only: "
                                          + ", ".join(f"'{c['external_id']}'" for _, c in kids[1:]) + " not followed"))
        node.notes[:0] = notes
        return node

    def delay(self, key: str, data: dict[str, Any], base: dict[str, Any]) -> Node:
        fmt = data.get("format", "duration")
        p = f"{self.sp(key)}.data"
        if fmt == "duration":
            total = 0.0
            for unit, secs in (("days", 86400), ("hours", 3600), ("minutes", 60)):
                v = data.get(unit) or 0
                v = self.want(v, (int, float), f"{p}.{unit}", f'a number of {unit}, e.g. "{unit}": 2')
                if v < 0:
                    raise self.err(f"{p}.{unit}", f"expected {unit} >= 0, got {v}", "")
                total += v * secs
            if total > MAX_SECONDS:
                raise self.err(p, f"the delay adds up to {total:g} s, more than 36500 days", "check the numbers")
            return Wait(**base, seconds=total)
        if fmt == "time":
            t = data.get("time")
            if not isinstance(t, str) or not re.match(r"^\s*\d{1,2}:\d{2}\s*$", t):
                raise self.err(f"{p}.time", f"expected a time \"HH:mm\", got {json.dumps(t)}", 'e.g. "time": "09:30"')
            hhmm = t.strip().zfill(5)
            node: Node = WaitUntilWindow(**base, start=hhmm, end=hhmm, zone=None)
            node.notes.append(f"Parcelvoy waits until the next {hhmm} in the user's zone")
            node.unmapped.append(Unmapped(f"{self.p}{p}.time", f"Parcelvoy's 30 minutes of grace (a user reaching the "
                                          f"step up to 30 minutes after {hhmm} goes on at once; {STEP_URL}) is not "
                                          f"modelled: the scenario waits for the next {hhmm}"))
            return node
        if fmt == "date":
            node = WaitUntilDate(**base, attribute=str(data.get("date") or "a date"))
            node.unmapped.append(Unmapped(f"{self.p}{p}.date", f"at commit {_COMMIT[:7]} JourneyDelay.parseJson does "
                                          "not read data.date, so Parcelvoy's date delay does not wait "
                                          f"({STEP_URL}); the pass-through does the same"))
            return node
        raise self.err(f"{p}.format", f"unknown delay format {json.dumps(fmt)}",
                       did_you_mean(str(fmt), ["duration", "time", "date"]) or "one of duration, time, date")

    def action(self, key: str, data: dict[str, Any], base: dict[str, Any]) -> Node:
        cid = data.get("campaign_id")
        camp = self.campaigns.get(str(cid)) if cid is not None else None
        channel = camp.get("channel") if camp else None
        if channel == "webhook":
            node: Node = Unmodelled(**base, kind=f"webhook campaign {cid}", outcomes=[("next", base["next"], "")])
            return node
        if channel is not None and (not isinstance(channel, str) or channel not in _CHANNELS):
            raise self.err("campaigns", f"campaign {cid} has unknown channel {json.dumps(channel)}",
                           did_you_mean(str(channel), [*_CHANNELS, "webhook"]) or "email, text, push or webhook")
        node = Send(**base, channel=_CHANNELS.get(channel or "email", "email"),  # type: ignore[arg-type]
                    template=f"campaign {cid}", subject=str(camp.get("name")) if camp and camp.get("name") else None)
        if camp is None:
            node.unmapped.append(Unmapped(f"{self.p}{self.sp(key)}.data.campaign_id", f"campaign {cid} is not in the "
                                          "file's 'campaigns': its channel is unknown, so it is imported as email "
                                          "(add the campaigns list beside the steps)"))
        return node

    def gate(self, key: str, data: dict[str, Any], base: dict[str, Any], kids: list) -> Node:
        yes = next((tid for tid, c in kids if c.get("path") == "yes"), END)
        no = next((tid for tid, c in kids if c.get("path") == "no"), END)
        node = Branch(**{**base, "next": yes})
        rpath = f"{self.p}{self.sp(key)}.data.rule"
        rule = data.get("rule")
        if not rule:
            node.unmapped.append(Unmapped(rpath, "a gate without a rule: Parcelvoy ends the journey for every user "
                                                 "here; so does the scenario"))
            node.arms.append(Arm("yes", END, "false", "no rule", path=rpath))
            node.default = Arm("no", END, label="no rule", path=rpath)
            return node
        cond, problems = translate_rule(rule)
        if cond is not None:
            node.arms.append(Arm("yes", yes, cond, "yes", path=rpath))
        else:
            node.arms.append(Arm("yes", yes, None, "yes", mapped=False, path=rpath,
                                 verbatim="; ".join(problems) + " | " + json.dumps(rule)[:300]))
        node.default = Arm("no", no, label="no", path=f"{self.p}{self.sp(key)}.children")
        for tid, c in kids:
            if c.get("path") not in ("yes", "no"):
                node.unmapped.append(Unmapped(f"{self.p}{self.sp(key)}.children", f"child '{c['external_id']}' with "
                                              f"path {json.dumps(c.get('path'))} is never taken by a gate"))
        return node

    def experiment(self, key: str, base: dict[str, Any], kids: list) -> Node:
        node = RandomSplit(**base)
        ratios = []
        for tid, c in kids:
            r = (c.get("data") or {}).get("ratio") if isinstance(c.get("data"), dict) else None
            ok = isinstance(r, (int, float)) and not isinstance(r, bool) and r > 0 and r == r
            ratios.append((tid, c, float(r) if ok else 0.0))
        total = sum(r for _, _, r in ratios)
        if total <= 0:
            node.weights = [("none", END, 100.0)]
            node.unmapped.append(Unmapped(f"{self.p}{self.sp(key)}.children", "no child has a positive ratio: "
                                          "Parcelvoy ends the journey here; so does the scenario"))
            node.next = END
            return node
        never = [c["external_id"] for _, c, r in ratios if r <= 0]
        if never:
            node.unmapped.append(Unmapped(f"{self.p}{self.sp(key)}.children", "no positive ratio, never drawn by "
                                          "Parcelvoy (the edge is left out): " + ", ".join(f"'{x}'" for x in never)))
        ratios = [x for x in ratios if x[2] > 0]
        pct = shares([r for _, _, r in ratios])
        node.weights = [(str(c["external_id"]), tid, sh) for (tid, c, _), sh in zip(ratios, pct)]
        node.next = node.weights[0][1]
        return node

    def balancer(self, key: str, data: dict[str, Any], base: dict[str, Any], kids: list) -> Node:
        limit, interval = data.get("rate_limit"), data.get("rate_interval")
        path = f"{self.p}{self.sp(key)}.data"
        note = Unmapped(path, f"the balancer's rate limit ({limit} per {interval} per path; users over it wait "
                              "until the window expires) is not modelled")
        if len(kids) <= 1:
            node: Node = Unmodelled(**base, kind="balancer (rate limit)", outcomes=[("next", base["next"], "")])
        else:
            pct = shares([1.0] * len(kids))
            node = RandomSplit(**base, weights=[(c["external_id"], tid, sh) for (tid, c), sh in zip(kids, pct)])
            node.notes.append("Parcelvoy's balancer picks one of its paths uniformly at random")
        node.unmapped.append(note)
        return node

    def update(self, key: str, data: dict[str, Any], base: dict[str, Any]) -> Node:
        tpl = data.get("template")
        if isinstance(tpl, str) and "{{" not in tpl and "{%" not in tpl:
            try:
                value = json.loads(tpl) if tpl.strip() else {}
            except json.JSONDecodeError:
                value = None
            if isinstance(value, dict) and value and all(isinstance(v, (str, int, float, bool)) for v in value.values()):
                return ProfileUpdate(**base, fields={field_name(k): v for k, v in value.items()})
        node = Unmodelled(**base, kind="user update from a template", outcomes=[("next", base["next"], "")])
        node.unmapped.append(Unmapped(f"{self.p}{self.sp(key)}.data.template", "only a literal JSON object of "
                                      "scalars becomes an update", str(tpl)[:400]))
        return node


def import_parcelvoy(data: Any, file: str) -> list[ImportedJourney]:
    """The journeys in a Parcelvoy step map (one journey per entrance)."""
    if not isinstance(data, dict):
        raise ImportInputError(file, "", f"not a Parcelvoy step map: got {shape(data)}",
                               f"the file must be {EXPECTED}")
    if "steps" in data:
        steps = want(data["steps"], dict, file, "steps", f"the file must be {EXPECTED}")
        m = _Map(steps, data, file, "steps.")
    elif data and all(isinstance(v, dict) and "type" in v for v in data.values()):
        m = _Map(data, {}, file, "")
    else:
        raise ImportInputError(file, "", f"not a Parcelvoy step map: got {shape(data)}",
                               f"the file must be {EXPECTED}")
    raw = data.get("campaigns") if "steps" in data else None
    if raw is not None:
        items = want(raw, list, file, "campaigns", "campaigns is the campaigns API's list: [{id, channel, name}]")
        for i, c in enumerate(items):
            c = want(c, dict, file, f"campaigns[{i}]", "each campaign is {id, channel, name}")
            if c.get("id") is None:
                raise ImportInputError(file, f"campaigns[{i}].id", "a campaign needs its 'id'", "")
            m.campaigns[str(c["id"])] = c
    journeys = m.build()
    unique_names(journeys)
    return journeys
