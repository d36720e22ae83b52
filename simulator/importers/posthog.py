"""PostHog Workflows (HogFlow) -> IR.

Input (JSON): one HogFlow as the API returns it (``/api/projects/<id>/hog_flows/<id>``:
``{id, name, status, trigger, trigger_masking, conversion, exit_condition, actions, edges}``) or the
list response ``{results: [...]}`` (one scenario, one journey per flow). The reference is PostHog's
own zod schema and the workflow executor's action handlers (docs/import.md has the URLs and the
mapping table). In short:

- the one ``trigger`` action -> entry (``event`` -> an event entry; ``batch``/``schedule`` -> a
  scheduled entry; webhook/manual/tracking-pixel -> a generated event); the customer starts at its
  ``continue`` edge;
- edges: ``continue`` is the fall-through, ``branch`` with ``index`` the i-th condition/cohort;
- ``delay`` -> ``wait`` (PostHog's per-unit ceilings applied: at most 30d, 24h, 60m, 60s);
- ``conditional_branch`` -> ``branch`` (condition i -> branch edge i, else the continue edge); with
  ``delay_duration`` it waits for a condition to hold (a wait until condition);
- ``wait_until_condition`` (match -> branch 0, timeout -> continue), ``wait_until_event`` (match ->
  continue, timeout -> branch 0), ``wait_until_time_window``;
- ``random_cohort_branch`` -> ``split`` with the percentages PostHog's draw really gives;
- ``function_email`` / ``function_sms`` -> ``send`` with ``message_category_type``;
  ``function`` (a CDP destination) -> pass-through; ``exit`` -> exit;
- ``exit_condition`` + ``conversion`` -> ``exit_when`` and a goal comment; ``trigger_masking``
  ``{person.id}`` -> ``re_entry: {cooldown: ttl}``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from simulator.importers.base import (
    ExportReader, depth_first, did_you_mean, find_loop, one_or_results, safe_name, shares, step_ids, want,
)
from simulator.importers.ir import (
    END, Arm, Branch, ConversionGoal, Entry, Exit, ExitCondition, ImportedJourney, Node, RandomSplit, ReEntry, Send,
    Unmapped, Unmodelled, Wait, WaitUntilCondition, WaitUntilEvent, WaitUntilWindow,
)
from simulator.importers.posthog_filter import is_empty, single_event, translate_filters
from simulator.importers.writer import START, scenario_name

__all__ = ["import_posthog", "EXPECTED", "ACTION_TYPES", "SCHEMA_URL", "parse_duration"]

EXPECTED = ("a PostHog workflow (HogFlow) as the hog_flows API returns it ({name, actions, edges, "
            "exit_condition, ...}) or the list {results: [...]}")
_REPO = "https://github.com/PostHog/posthog/blob"
SCHEMA_URL = f"{_REPO}/04ee76e04f9c18dec44774ed8c12fb2153782fd3/nodejs/src/schema/hogflow.ts"
DELAY_URL = f"{_REPO}/0fa48e5cf98f6d488f1be9b1630f5870afe62044/nodejs/src/cdp/services/hogflows/actions/delay.ts"
ACTION_TYPES = ("trigger", "conditional_branch", "random_cohort_branch", "delay", "wait_until_condition",
                "wait_until_event", "wait_until_time_window", "function_email", "function_sms", "function_push",
                "function", "exit")
_TRIGGERS = ("event", "webhook", "manual", "tracking_pixel", "schedule", "batch", "data-warehouse-table")
_EXIT_CONDITIONS = ("exit_only_at_end", "exit_on_conversion", "exit_on_trigger_not_matched",
                    "exit_on_trigger_not_matched_or_conversion")
_DURATION = re.compile(r"^(\d*\.?\d+)([dhms])$")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}
#: PostHog's per-unit ceilings on a delay (delay.ts MAX_VALUE_FOR_DURATION_UNIT)
CEILING = {"d": 30, "h": 24, "m": 60, "s": 60}
_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERSON_HASH = re.compile(r"^\{\s*person\.id\s*\}$")
_CHANNEL = {"function_email": "email", "function_sms": "sms", "function_push": "push"}


def parse_duration(value: str) -> tuple[float, str] | None:
    """(seconds PostHog waits, '' or a note that a per-unit ceiling cut it) for ``10d``/``1.5h``/``30m``/
    ``45s``; None when it is not such a duration."""
    m = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not m:
        return None
    amount, unit = float(m.group(1)), m.group(2)
    used = min(amount, CEILING[unit])
    note = "" if used == amount else (f"'{value}' is more than PostHog's ceiling of {CEILING[unit]}{unit} for that "
                                     f"unit: PostHog waits {CEILING[unit]}{unit} ({DELAY_URL})")
    return used * _UNIT[unit], note


class _Flow(ExportReader):
    expected = EXPECTED

    def __init__(self, flow: dict[str, Any], file: str, prefix: str):
        super().__init__(file, prefix)
        self.f, self.p = flow, prefix
        self.unmapped: list[Unmapped] = []

    # -- graph --------------------------------------------------------------------------------
    def build(self) -> ImportedJourney:
        title = str(self.f.get("name") or self.f.get("id") or Path(self.file).stem or "posthog workflow")
        actions = self.want(self.f.get("actions"), list, "actions", "a workflow's steps are in 'actions'")
        edges = self.want(self.f.get("edges"), list, "edges", "a workflow's edges are in 'edges'")
        self.index: dict[str, int] = {}
        triggers = []
        for i, a in enumerate(actions):
            a = self.want(a, dict, f"actions[{i}]")
            aid = self.want(a.get("id"), str, f"actions[{i}].id", "every action needs its 'id'")
            t = self.want(a.get("type"), str, f"actions[{i}].type", f"one of {', '.join(ACTION_TYPES)}")
            if aid in self.index:
                raise self.err(f"actions[{i}].id", f"duplicate action id '{aid}' (also actions[{self.index[aid]}])",
                               "action ids must be unique in a workflow")
            self.index[aid] = i
            if t == "trigger":
                triggers.append(i)
        if len(triggers) != 1:
            raise self.err("actions", f"expected exactly one action of type 'trigger', found {len(triggers)}",
                           "PostHog requires exactly one trigger action")
        self.actions = actions
        self.out = self._edges(edges)
        self.ids = step_ids([k for k in self.index if k != actions[triggers[0]]["id"]], "end-step")
        trig = actions[triggers[0]]
        first_key = self._continue(trig["id"], f"actions[{triggers[0]}]")
        entry = self.entry(trig, triggers[0])
        nodes = {k: self.node(self.index[k], actions[self.index[k]]) for k in self.ids}
        by_id = {self.ids[k]: k for k in nodes}
        loop = find_loop(nodes, by_id, END)
        if loop:
            raise self.err(f"actions[{self.index[loop[-2]]}]",
                           f"the actions form a loop ('{loop[-2]}' leads back to '{loop[-1]}')",
                           "PostHog workflows do not loop; export the workflow again")
        if first_key is None:
            raise self.err(f"actions[{triggers[0]}]", "the trigger has no 'continue' edge: nothing to simulate",
                           "connect the trigger to a first step")
        order = depth_first(first_key, nodes, self.ids, END)
        for k in nodes:
            if k not in order:
                self.unmapped.append(Unmapped(f"{self.p}actions[{self.index[k]}]",
                                              f"action '{k}' cannot be reached from the trigger: left out"))
        journey = ImportedJourney(id=str(self.f.get("id") or title), name=scenario_name(title),
                                  path=self.p.rstrip(".") or "$", entry=entry, nodes=[nodes[k] for k in order],
                                  title=title)
        journey.re_entry = self.re_entry()
        self.exits(journey, trig)
        status = self.f.get("status")
        if status in ("draft", "archived"):
            self.unmapped.append(Unmapped(f"{self.p}status", f"the workflow's status is {status}: PostHog does not "
                                                             "run it; the scenario runs it as if active"))
        journey.unmapped = self.unmapped
        return journey

    def _edges(self, edges: list[Any]) -> dict[str, dict[Any, tuple[str, int]]]:
        """from id -> {'continue' or branch index: (to id, edge position)}."""
        out: dict[str, dict[Any, tuple[str, int]]] = {}
        for j, e in enumerate(edges):
            e = self.want(e, dict, f"edges[{j}]", "each edge is {from, to, type, index?}")
            src = self.want(e.get("from"), str, f"edges[{j}].from", "the id of the action the edge leaves")
            dst = self.want(e.get("to"), str, f"edges[{j}].to", "the id of the action the edge enters")
            for end, v in (("from", src), ("to", dst)):
                if v not in self.index:
                    hint = did_you_mean(v, list(self.index))
                    raise self.err(f"edges[{j}].{end}", f"names action '{v}', which is not in actions",
                                   hint or f"use an action id; ids: {', '.join(self.index)}")
            kind = e.get("type")
            if kind not in ("continue", "branch"):
                raise self.err(f"edges[{j}].type", f"expected \"continue\" or \"branch\", got {json.dumps(kind)}",
                               did_you_mean(str(kind), ["continue", "branch"]))
            key: Any = "continue"
            if kind == "branch":
                idx = self.want(e.get("index"), int, f"edges[{j}].index", "a branch edge names its condition index")
                if idx < 0:
                    raise self.err(f"edges[{j}].index", f"expected an index >= 0, got {idx}", "")
                key = idx
            slot = out.setdefault(src, {})
            if key in slot:
                what = "continue edge" if key == "continue" else f"branch edge with index {key}"
                raise self.err(f"edges[{j}]", f"action '{src}' has a second {what} (also edges[{slot[key][1]}])",
                               "PostHog follows only the first; remove the duplicate")
            slot[key] = (dst, j)
        return out

    def _target(self, key: str) -> str:
        a = self.actions[self.index[key]]
        return self.ids[key] if a.get("type") != "trigger" else END

    def _continue(self, key: str, path: str) -> str | None:
        e = self.out.get(key, {}).get("continue")
        return e[0] if e else None

    def next_of(self, key: str, path: str, node: Node | None = None, what: str = "next step") -> str:
        """The step id the continue edge leads to; END (with a note) when there is none."""
        e = self.out.get(key, {}).get("continue")
        if e is None:
            if node is not None:
                node.unmapped.append(Unmapped(self.p + path, f"no 'continue' edge for the {what}: PostHog ends the "
                                                             "run here ('No next action found'); so does the scenario"))
            return END
        return self._target(e[0])

    def branch_of(self, key: str, index: int, path: str, node: Node, what: str) -> str:
        e = self.out.get(key, {}).get(index)
        if e is None:
            node.unmapped.append(Unmapped(self.p + path, f"no branch edge with index {index} for {what}: PostHog ends "
                                                         "the run there ('No next action found'); so does the scenario"))
            return END
        return self._target(e[0])

    # -- entry, re-entry, exits ---------------------------------------------------------------
    def entry(self, trig: dict[str, Any], i: int) -> Entry:
        cfg = trig.get("config") if isinstance(trig.get("config"), dict) else self.f.get("trigger")
        path = f"actions[{i}].config"
        cfg = self.want(cfg, dict, path, 'the trigger action has a config {"type": "event", "filters": ...}')
        t = cfg.get("type")
        if t not in _TRIGGERS:
            raise self.err(f"{path}.type", f"unknown trigger type {json.dumps(t)}",
                           did_you_mean(str(t), _TRIGGERS) or f"one of {', '.join(_TRIGGERS)}")
        full = self.p + path
        if t == "event":
            filters = cfg.get("filters") if isinstance(cfg.get("filters"), dict) else {}
            raw_events = filters.get("events") if isinstance(filters.get("events"), list) else []
            events = [e for e in raw_events if isinstance(e, dict)]
            names = [str(e.get("id") or e.get("name")) for e in events if e.get("id") or e.get("name")]
            if not names:
                raise self.err(f"{path}.filters.events", "an event trigger names no event",
                               'add "events": [{"id": "EVENT_NAME", "type": "events"}]')
            event = safe_name(names[0])
            entry = Entry("event", full, event=event, source=f"PostHog event trigger '{names[0]}'")
            if event != names[0]:
                entry.unmapped.append(Unmapped(f"{full}.filters.events[0]", f"event '{names[0]}' written as '{event}'"))
            for j, n in enumerate(names[1:], 1):
                entry.unmapped.append(Unmapped(f"{full}.filters.events[{j}]",
                                               f"the trigger also fires on '{n}': the scenario enters on one event only"))
            if events and events[0].get("properties"):
                entry.unmapped.append(Unmapped(f"{full}.filters.events[0].properties", "the event's property filter "
                                               "is not applied: every such event enters",
                                               json.dumps(events[0]["properties"])[:400]))
            if filters.get("properties"):
                tr = translate_filters({"properties": filters["properties"]})
                what = (f"the trigger filter ({tr.condition}) is not applied at entry: the format's event entry takes "
                        "no condition" if tr.condition else "the trigger filter is not applied at entry ("
                        + "; ".join(tr.problems) + ")")
                entry.unmapped.append(Unmapped(f"{full}.filters.properties", what + "; every such event enters",
                                               json.dumps(filters["properties"])[:400]))
            if filters.get("actions"):
                entry.unmapped.append(Unmapped(f"{full}.filters.actions", "action-based trigger filters are not "
                                                                          "applied"))
            return entry
        if t in ("batch", "schedule"):
            props = (cfg.get("filters") or {}).get("properties") if isinstance(cfg.get("filters"), dict) else None
            cond, notes = "true", []
            if props:
                tr = translate_filters({"properties": props})
                if tr.condition:
                    cond = tr.condition
                else:
                    notes.append(Unmapped(f"{full}.filters.properties", "the audience filter is not translated ("
                                          + "; ".join(tr.problems) + "): everyone enters", json.dumps(props)[:400]))
            at = cfg.get("scheduled_at") if isinstance(cfg.get("scheduled_at"), str) else None
            notes.append(Unmapped(f"{full}.scheduled_at", (f"scheduled_at {at}" if at else "no one-time scheduled_at "
                                  "(recurring schedules are a separate resource)")
                                  + f": the scheduled entry is written at the run's start {START} (edit both)"))
            entry = Entry("schedule", full, condition=cond, at=START, source=f"PostHog {t} trigger")
            entry.unmapped += notes
            return entry
        event = safe_name(f"posthog_{t}")
        entry = Entry("event", full, event=event, source=f"PostHog {t} trigger")
        entry.unmapped.append(Unmapped(full, f"a {t} trigger has no counterpart in a simulation: customers enter on a "
                                             f"generated event '{event}' (half the population, once)"))
        return entry

    def re_entry(self) -> ReEntry:
        m = self.f.get("trigger_masking")
        path = f"{self.p}trigger_masking"
        if not isinstance(m, dict):
            return ReEntry("any_time", path, "no trigger_masking: every matching trigger event starts a run")
        h, ttl, threshold = m.get("hash"), m.get("ttl"), m.get("threshold")
        if isinstance(h, str) and _PERSON_HASH.match(h.strip()) and threshold in (None, 0, 1):
            if ttl is None:
                return ReEntry("never", path, "trigger_masking once per person, no ttl")
            ttl = want(ttl, (int, float), self.file, path + ".ttl", "ttl is a number of seconds")
            if not 0 <= ttl <= 94608000:
                raise self.err("trigger_masking.ttl", f"expected a ttl of 60 to 94608000 seconds, got {ttl:g}",
                               "PostHog's API accepts 60 to 94608000 (three years)")
            return ReEntry("any_time", path, f"trigger_masking {{person.id}}, ttl {ttl:g}s", cooldown=float(ttl))
        r = ReEntry("any_time", path, "trigger_masking (not per person)")
        r.unmapped.append(Unmapped(path, f"trigger masking on hash {json.dumps(h)} (ttl {json.dumps(ttl)}, threshold {json.dumps(threshold)}) "
                                         "is not modelled: PostHog suppresses repeats per hash value"
                                         + (" and lets one in every N matches through" if threshold else "")
                                         + "; every entry event starts a run in the scenario",
                                   json.dumps(m)[:400]))
        return r

    def exits(self, journey: ImportedJourney, trig: dict[str, Any]) -> None:
        ec = self.f.get("exit_condition", "exit_only_at_end")
        path = f"{self.p}exit_condition"
        if ec not in _EXIT_CONDITIONS:
            raise self.err("exit_condition", f"unknown exit_condition {json.dumps(ec)}",
                           did_you_mean(str(ec), _EXIT_CONDITIONS) or f"one of {', '.join(_EXIT_CONDITIONS)}")
        conv = self.f.get("conversion")
        goal = None
        if isinstance(conv, dict):
            goal = self.goal(conv)
            journey.goals.append(goal)
        if ec in ("exit_on_conversion", "exit_on_trigger_not_matched_or_conversion"):
            if goal is None:
                journey.exit_unmapped.append(Unmapped(path, f"{ec} without a conversion goal: PostHog never exits on "
                                                            "conversion (a silent no-op), nor does the scenario"))
            elif goal.verbatim.startswith("event:"):
                journey.exit_conditions.append(ExitCondition(path, event=goal.verbatim[6:],
                                                             source=f"{ec}: the conversion event"))
            elif goal.condition:
                journey.exit_conditions.append(ExitCondition(path, condition=goal.condition,
                                                             source=f"{ec}: the conversion goal"))
            else:
                journey.exit_unmapped.append(Unmapped(path, f"{ec}: the conversion goal is not translated, so the "
                                                            "scenario does not exit on it", goal.verbatim))
        if ec in ("exit_on_trigger_not_matched", "exit_on_trigger_not_matched_or_conversion"):
            cfg = trig.get("config") if isinstance(trig.get("config"), dict) else {}
            props = (cfg.get("filters") or {}).get("properties") if isinstance(cfg.get("filters"), dict) else None
            tr = translate_filters({"properties": props}) if props else None
            if tr is not None and tr.condition:
                journey.exit_conditions.append(ExitCondition(path, condition=f"not ({tr.condition})",
                                                             source=f"{ec}: the trigger filter no longer matches"))
            else:
                why = "; ".join(tr.problems) if tr else "the trigger has no person-property filter"
                journey.exit_unmapped.append(Unmapped(path, f"{ec}: the trigger filter cannot be re-checked ({why}): "
                                                            "the scenario does not exit on it"))

    def goal(self, conv: dict[str, Any]) -> ConversionGoal:
        path = f"{self.p}conversion"
        window = conv.get("window_minutes")
        name = f"conversion within {window:g} min" if isinstance(window, (int, float)) else "conversion"
        filters = conv.get("filters")
        events = conv.get("events") if isinstance(conv.get("events"), list) else []
        if filters:
            tr = translate_filters({"properties": filters} if isinstance(filters, list) else filters)
            g = ConversionGoal(path, name, tr.condition, json.dumps(filters)[:400])
            if tr.condition is None:
                g.unmapped.append(Unmapped(path + ".filters", "conversion goal not translated: "
                                                              + "; ".join(tr.problems), g.verbatim))
        elif len(events) == 1 and isinstance(events[0], dict) and single_event(events[0].get("filters")):
            ev = safe_name(single_event(events[0]["filters"]) or "")
            g = ConversionGoal(path, name, f"has_event({ev!r})", f"event:{ev}")
        else:
            g = ConversionGoal(path, name, None, json.dumps(conv)[:400])
            g.unmapped.append(Unmapped(path, "conversion goal with no single event or property filter: not translated",
                                       g.verbatim))
        if isinstance(window, (int, float)):
            g.unmapped.append(Unmapped(path + ".window_minutes", f"the conversion window ({window:g} min after entry) "
                                                                 "is not modelled: the scenario counts any time"))
        return g

    # -- actions ------------------------------------------------------------------------------
    def node(self, i: int, a: dict[str, Any]) -> Node:
        key, t = a["id"], a["type"]
        path = f"actions[{i}]"
        cfg = a.get("config") if isinstance(a.get("config"), dict) else {}
        base: dict[str, Any] = {"id": self.ids[key], "path": self.p + path, "name": str(a.get("name") or ""),
                                "source_type": t}
        notes = [] if self.ids[key] == key else [f"PostHog id {key!r} is not a valid step id: renamed '{self.ids[key]}'"]
        node: Node
        if t == "delay":
            secs = self.duration(cfg.get("delay_duration"), f"{path}.config.delay_duration")
            node = Wait(**base, seconds=secs[0])
            if secs[1]:
                node.unmapped.append(Unmapped(f"{self.p}{path}.config.delay_duration", secs[1]))
            node.next = self.next_of(key, path, node)
        elif t == "conditional_branch":
            node = self.conditional(key, path, cfg, base)
        elif t == "wait_until_condition":
            node = self.wait_condition(key, path, cfg, base)
        elif t == "wait_until_event":
            node = self.wait_event(key, path, cfg, base)
        elif t == "wait_until_time_window":
            node = self.time_window(key, path, cfg, base)
        elif t == "random_cohort_branch":
            node = self.cohorts(key, path, cfg, base)
        elif t in _CHANNEL:
            node = self.send(key, path, cfg, base, t)
        elif t == "exit":
            node = Exit(**base, reason=str(cfg.get("reason") or ""))
        elif t == "trigger":  # pragma: no cover - build() allows one trigger and never makes it a node
            raise self.err(path, "a second trigger")
        else:
            outs = self.all_edges(key)
            kind = ("CDP destination function" + (f" '{cfg.get('template_id')}'" if cfg.get("template_id") else "")
                    if t == "function" else f"action type '{t}'" + (
                        f" ({did_you_mean(t, ACTION_TYPES)})" if did_you_mean(t, ACTION_TYPES) else ""))
            node = Unmodelled(**base, kind=kind, outcomes=outs or [("continue", END, "")],
                              divides=f"the {t} action picks the path at run time")
            node.next = node.outcomes[0][1]
        node.notes[:0] = notes
        if not is_empty(a.get("filters")):
            tr = translate_filters(a["filters"])
            node.unmapped.append(Unmapped(f"{self.p}{path}.filters", "step filter: PostHog skips this step for "
                                          f"persons not matching{' (' + tr.condition + ')' if tr.condition else ''} "
                                          "and goes on; the scenario runs it for everyone",
                                          json.dumps(a["filters"])[:400]))
        return node

    def all_edges(self, key: str) -> list[tuple[str, str, str]]:
        slot = self.out.get(key, {})
        keys = (["continue"] if "continue" in slot else []) + sorted(k for k in slot if k != "continue")
        return [(str(k), self._target(slot[k][0]), "") for k in keys]

    def duration(self, value: Any, path: str) -> tuple[float, str]:
        value = self.want(value, str, path, 'a duration such as "30m", "2h", "1.5d" or "45s"')
        parsed = parse_duration(value)
        if parsed is None:
            raise self.err(path, f"expected a duration such as \"30m\", \"2h\", \"1.5d\" or \"45s\", got "
                                 f"{json.dumps(value)}", "a number followed by d, h, m or s")
        return parsed

    def conditional(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any]) -> Node:
        conds = self.want(cfg.get("conditions"), list, f"{path}.config.conditions",
                          '"conditions": [{"filters": {...}, "name": "..."}]')
        for j, c in enumerate(conds):
            self.want(c, dict, f"{path}.config.conditions[{j}]", '{"filters": {...}}')
        delay = cfg.get("delay_duration")
        if delay:
            secs, cut = self.duration(delay, f"{path}.config.delay_duration")
            if len(conds) == 1:
                tmp = Node(**base)
                then = self.branch_of(key, 0, path, tmp, "condition 0")
                tr = translate_filters((conds[0] or {}).get("filters"))
                node: Node = WaitUntilCondition(**base, condition=tr.condition or "condition 0 (not translated)",
                                                timeout=secs, then=then, on_timeout=END)
                node.on_timeout = self.next_of(key, path, node, "timeout")  # type: ignore[attr-defined]
                node.unmapped += tmp.unmapped
                node.notes.append("a conditional branch with delay_duration: PostHog checks the condition at once and "
                                  "again until it holds or the delay passes")
                if tr.condition is None:
                    node.unmapped.append(Unmapped(f"{self.p}{path}.config.conditions[0].filters",
                                                  "condition not translated: " + "; ".join(tr.problems),
                                                  json.dumps((conds[0] or {}).get("filters"))[:400]))
            else:
                outs = [(f"condition {j}", self.branch_of(key, j, path, Node(**base), f"condition {j}"),
                         str((c or {}).get("name") or "")) for j, c in enumerate(conds)]
                outs.append(("continue", self.next_of(key, path, Node(**base)), "timeout"))
                node = Unmodelled(**base, kind=f"wait for the first of {len(conds)} conditions (delay {delay})",
                                  outcomes=outs, divides="the first condition to hold (or the delay) picks the path")
                node.next = outs[0][1]
            if cut:
                node.unmapped.append(Unmapped(f"{self.p}{path}.config.delay_duration", cut))
            return node
        node = Branch(**base)
        for j, c in enumerate(conds):
            c = self.want(c, dict, f"{path}.config.conditions[{j}]", '{"filters": {...}}')
            target = self.branch_of(key, j, path, node, f"condition {j}")
            tr = translate_filters(c.get("filters"))
            cpath = f"{self.p}{path}.config.conditions[{j}].filters"
            label = str(c.get("name") or "")
            if tr.condition is not None:
                node.arms.append(Arm(f"condition {j}", target, tr.condition, label, path=cpath))
            else:
                node.arms.append(Arm(f"condition {j}", target, None, label, mapped=False, path=cpath,
                                     verbatim="; ".join(tr.problems) + " | " + json.dumps(c.get("filters"))[:300]))
        node.default = Arm("continue", self.next_of(key, path, node, "no-match path"), label="no condition matched",
                           path=f"{self.p}{path}")
        node.next = node.arms[0].target if node.arms else node.default.target
        return node

    def wait_condition(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any]) -> Node:
        secs, cut = self.duration(cfg.get("max_wait_duration"), f"{path}.config.max_wait_duration")
        tmp = Node(**base)
        then = self.branch_of(key, 0, path, tmp, "the condition")
        on_timeout = self.next_of(key, path, tmp, "timeout")
        cond = cfg.get("condition") if isinstance(cfg.get("condition"), dict) else {}
        filters = cond.get("filters")
        extra = [e for e in (cfg.get("events") if isinstance(cfg.get("events"), list) else []) if isinstance(e, dict)]
        event = single_event(filters) if not extra else None
        if event is None and is_empty(filters) and len(extra) == 1:
            event = single_event(extra[0].get("filters"))
        node: Node
        if event is not None:
            node = WaitUntilEvent(**base, event=safe_name(event), timeout=secs, then=then, on_timeout=on_timeout)
        else:
            tr = translate_filters(filters)
            node = WaitUntilCondition(**base, condition=tr.condition or "condition (not translated)", timeout=secs,
                                      then=then, on_timeout=on_timeout)
            if tr.condition is None:
                node.unmapped.append(Unmapped(f"{self.p}{path}.config.condition.filters", "condition not translated: "
                                              + "; ".join(tr.problems), json.dumps(filters)[:400]))
            if extra:
                node.unmapped.append(Unmapped(f"{self.p}{path}.config.events", f"{len(extra)} wake-up event(s) beside "
                                              "the condition are not modelled"))
        node.unmapped += tmp.unmapped
        if cut:
            node.unmapped.append(Unmapped(f"{self.p}{path}.config.max_wait_duration", cut))
        return node

    def wait_event(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any]) -> Node:
        secs, cut = self.duration(cfg.get("max_wait_duration"), f"{path}.config.max_wait_duration")
        events = self.want(cfg.get("events"), list, f"{path}.config.events", '"events": [{"filters": {"events": [...]}}]')
        tmp = Node(**base)
        then = self.next_of(key, path, tmp, "matched event")     # wait_until_event: a match takes the continue edge
        on_timeout = self.branch_of(key, 0, path, tmp, "the timeout")  # ... and the timeout branch edge 0
        names = [single_event((e or {}).get("filters")) if isinstance(e, dict) else None for e in events]
        node: Node
        if len(names) == 1 and names[0]:
            node = WaitUntilEvent(**base, event=safe_name(names[0]), timeout=secs, then=then, on_timeout=on_timeout)
        else:
            node = Unmodelled(**base, kind=f"wait for any of {len(events)} events (or events with property filters)",
                              outcomes=[("continue", then, "event"), ("0", on_timeout, "timeout")],
                              divides="the first matching event (or the timeout) picks the path")
            node.next = then
        node.unmapped += tmp.unmapped
        if cut:
            node.unmapped.append(Unmapped(f"{self.p}{path}.config.max_wait_duration", cut))
        return node

    def time_window(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any]) -> Node:
        day, time = cfg.get("day", "any"), cfg.get("time", "any")
        if day in ("any", None):
            days = None
        elif day == "weekday":
            days = _DAYS[:5]
        elif day == "weekend":
            days = _DAYS[5:]
        elif isinstance(day, list) and all(d in _DAYS for d in day):
            days = tuple(day)
        else:
            raise self.err(f"{path}.config.day", f"expected \"any\", \"weekday\", \"weekend\" or a list of day names, "
                                                 f"got {json.dumps(day)}", f"day names: {', '.join(_DAYS)}")
        if time == "any":
            start, end = "00:00", "23:59"
        elif (isinstance(time, list) and len(time) == 2 and all(isinstance(x, str) and re.match(r"^\d{1,2}:\d{2}$", x)
                                                                 for x in time)):
            start, end = time
        else:
            raise self.err(f"{path}.config.time", f"expected \"any\" or [\"HH:MM\", \"HH:MM\"], got {json.dumps(time)}",
                           'e.g. "time": ["09:00", "17:00"]')
        zone = None if cfg.get("use_person_timezone") else (cfg.get("timezone") or "UTC")
        node = WaitUntilWindow(**base, start=start, end=end, zone=zone, days=days)
        if cfg.get("use_person_timezone"):
            node.notes.append("PostHog reads the person's $geoip_time_zone, falling back to "
                              f"{cfg.get('fallback_timezone') or cfg.get('timezone') or 'UTC'}")
        node.next = self.next_of(key, path, node)
        return node

    def cohorts(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any]) -> Node:
        raw = cfg.get("cohorts") or []
        raw = self.want(raw, list, f"{path}.config.cohorts", '"cohorts": [{"percentage": 50}, ...]')
        node = RandomSplit(**base)
        if not raw:  # PostHog: no cohorts -> the continue edge for everyone
            node.weights = [("continue", self.next_of(key, path, node), 100.0)]
            node.notes.append("no cohorts: PostHog sends everyone along the continue edge")
            node.next = node.weights[0][1]
            return node
        drawn = []
        for j, c in enumerate(raw):
            c = self.want(c, dict, f"{path}.config.cohorts[{j}]", '{"percentage": 50}')
            pct = self.want(c.get("percentage"), (int, float), f"{path}.config.cohorts[{j}].percentage",
                            '"percentage": 50 (0 to 100)')
            if pct < 0:
                raise self.err(f"{path}.config.cohorts[{j}].percentage", f"expected a percentage >= 0, got {pct}", "")
            drawn.append((str(c.get("name") or f"cohort {j}"), float(pct)))
        # PostHog draws r in [0, 100) and takes the first cohort whose cumulative percentage is >= r,
        # else the last cohort: so cumulative shares are cut at 100 and the last cohort gets any remainder
        cum, effective = 0.0, []
        for _, pct in drawn:
            lo, cum = min(cum, 100.0), cum + pct
            effective.append(round(min(cum, 100.0) - lo, 6))
        effective[-1] = round(effective[-1] + max(0.0, 100.0 - cum), 6)
        for j, ((name, pct), eff) in enumerate(zip(drawn, effective)):
            target = self.branch_of(key, j, path, node, f"cohort {j}")
            if eff <= 0:
                node.unmapped.append(Unmapped(f"{self.p}{path}.config.cohorts[{j}]", f"cohort '{name}' is never drawn "
                                              "(0% once PostHog's draw is applied): its edge is left out"))
                continue
            node.weights.append((name, target, eff))
        exact = shares([w for _, _, w in node.weights])
        node.weights = [(n, t, s) for (n, t, _), s in zip(node.weights, exact)]
        total = sum(p for _, p in drawn)
        if any(abs(p - e) > 1e-9 for (_, p), e in zip(drawn, effective)):
            node.notes.append(f"the cohorts add up to {total:g}%: PostHog's draw gives "
                              + ", ".join(f"{n} {e:g}%" for (n, _), e in zip(drawn, effective))
                              + " (the last cohort takes any remainder; shares past 100% are never drawn)")
        node.next = node.weights[0][1]
        return node

    def send(self, key: str, path: str, cfg: dict[str, Any], base: dict[str, Any], t: str) -> Node:
        cat = cfg.get("message_category_type")
        if cat not in (None, "marketing", "transactional"):
            raise self.err(f"{path}.config.message_category_type",
                           f"expected \"marketing\" or \"transactional\", got {json.dumps(cat)}",
                           did_you_mean(str(cat), ["marketing", "transactional"]))
        inputs = cfg.get("inputs") if isinstance(cfg.get("inputs"), dict) else {}
        email = (inputs.get("email") or {}).get("value") if isinstance(inputs.get("email"), dict) else None
        subject = email.get("subject") if isinstance(email, dict) and isinstance(email.get("subject"), str) else None
        node = Send(**base, channel=_CHANNEL[t], template=str(cfg.get("template_id") or ""),  # type: ignore[arg-type]
                    subject=subject, category=cat or "marketing")
        if cat is None:
            node.notes.append("no message_category_type: imported as marketing")
        if isinstance(cfg.get("message_category_id"), str):
            node.notes.append(f"message category {cfg['message_category_id']} (consent is the population's generated "
                              "consent share)")
        node.next = self.next_of(key, path, node)
        return node


def import_posthog(data: Any, file: str) -> list[ImportedJourney]:
    """The journeys in a PostHog export (one HogFlow or the list ``{results: [...]}``)."""
    return one_or_results(data, file, EXPECTED, "PostHog workflow", "workflow", ("actions", "edges"),
                          lambda obj, prefix: _Flow(obj, file, prefix).build())
