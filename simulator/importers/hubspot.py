"""HubSpot workflows (Automation API v4 flows) -> IR.

Input (JSON): one flow as ``GET /automation/v4/flows/{flowId}`` returns it (``{id, name, isEnabled,
startActionId, actions, enrollmentCriteria, timeWindows, ...}``) or the batch-read response
``{results: [...]}`` (one scenario, one journey per flow). docs/import.md has the mapping table and the
HubSpot documentation URLs. In short:

- ``startActionId`` is the first step; each action names its successor in ``connection.nextActionId``
  (``edgeType`` ``STANDARD`` or ``GO-TO``, a jump into another branch); no connection ends the flow;
- ``SINGLE_CONNECTION`` actions by ``actionTypeId``: ``0-1`` delay (``delta`` + ``time_unit``) ->
  ``wait``; ``0-35`` delay until a date -> pass-through; ``0-4`` marketing email -> ``send``;
  ``0-5`` set a property to a static value -> ``update``; anything else (internal notifications,
  list membership, tasks, integrations) -> pass-through, reported;
- ``STATIC_BRANCH`` (one property's value per branch) and ``LIST_BRANCH`` (filter branches) ->
  ``branch`` with the ``defaultBranch`` as ``else``;
- ``enrollmentCriteria``: ``LIST_BASED`` -> a segment entry (the filters translated), ``EVENT_BASED``
  -> an event entry, ``MANUAL`` -> a generated event; ``shouldReEnroll`` -> ``re_entry``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulator.importers.base import (
    MAX_SECONDS, ExportReader, depth_first, did_you_mean, find_loop, one_or_results, printable, safe_name, step_ids,
)
from simulator.importers.dittofeed_segment import _literal
from simulator.importers.ir import (
    END, Arm, Branch, Entry, ImportedJourney, Node, ProfileUpdate, ReEntry, Send, Unmapped, Unmodelled, Wait,
    WaitUntilDate,
)
from simulator.importers.sfmc_filter import field_name
from simulator.importers.writer import scenario_name

__all__ = ["import_hubspot", "EXPECTED", "ACTION_TYPES", "REFERENCE_URL", "translate_filter_branch"]

EXPECTED = ("a HubSpot workflow as GET /automation/v4/flows/{flowId} returns it ({name, startActionId, actions, "
            "enrollmentCriteria, ...}) or the batch-read response {results: [...]}")
REFERENCE_URL = "https://developers.hubspot.com/docs/api-reference/automation-automation-v4-v4/action-enrollment-reference"
SETTINGS_URL = "https://knowledge.hubspot.com/workflows/manage-your-workflow-settings"
#: actionTypeId -> what the importer does with it
ACTION_TYPES = {"0-1": "delay", "0-35": "delay until a date", "0-4": "send marketing email",
                "0-5": "set property value", "0-9": "internal notification", "0-13": "add to / remove from a list"}
_UNITS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600, "DAYS": 86400, "WEEKS": 604800}
_KINDS = ("SINGLE_CONNECTION", "STATIC_BRANCH", "LIST_BRANCH")
_ENROLL = ("LIST_BASED", "EVENT_BASED", "MANUAL")
SEGMENT_EVERY = 3600.0  # generated default: how often a list-based enrollment is re-checked
_ORDER = {"IS_GREATER_THAN": ">", "IS_GREATER_THAN_OR_EQUAL_TO": ">=", "IS_LESS_THAN": "<",
          "IS_LESS_THAN_OR_EQUAL_TO": "<="}


def translate_filter_branch(fb: Any) -> tuple[str | None, list[str]]:
    """(condition, problems) for a HubSpot filter branch (``filterBranchType`` AND/OR, ``filters``,
    nested ``filterBranches``); all or nothing like the other importers."""
    problems: list[str] = []
    cond = _branch(fb, problems)
    if cond is None and not problems:
        problems.append("the filter branch has no filters")
    return (None if problems else cond), problems


def _branch(fb: Any, problems: list[str]) -> str | None:
    if not isinstance(fb, dict):
        problems.append("a filter branch is not an object")
        return None
    kind = fb.get("filterBranchType", "AND")
    if kind not in ("AND", "OR"):
        problems.append(f"filterBranchType {json.dumps(kind)} has no equivalent (AND and OR are translated)")
        return None
    parts = []
    for key in ("filters", "filterBranches"):
        if fb.get(key) is not None and not isinstance(fb.get(key), list):
            problems.append(f"'{key}' is not a list")
            return None
    for f in fb.get("filters") or []:
        p = _filter(f, problems)
        if p is not None:
            parts.append(p)
    for sub in fb.get("filterBranches") or []:
        p = _branch(sub, problems)
        if p is not None:
            parts.append(p)
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    return f" {kind.lower()} ".join(f"({p})" if " and " in p or " or " in p else p for p in parts)


def _filter(f: Any, problems: list[str]) -> str | None:
    if not isinstance(f, dict) or f.get("filterType") != "PROPERTY":
        kind = f.get("filterType") if isinstance(f, dict) else f
        problems.append(f"filter type {json.dumps(kind)[:40]} (only PROPERTY filters are translated)")
        return None
    prop, op = f.get("property"), f.get("operation")
    if not isinstance(prop, str) or not isinstance(op, dict) or not isinstance(op.get("operator"), str):
        problems.append("a PROPERTY filter without a property and an operation operator")
        return None
    fld, operator = field_name(prop), op["operator"]
    values = op.get("values") if isinstance(op.get("values"), list) else (
        [op["value"]] if "value" in op else [])
    ok = values and all(isinstance(v, (str, int, float, bool)) and printable(v) for v in values)
    if operator in ("IS_EQUAL_TO", "IS_ANY_OF") and ok:
        return " or ".join(f"{fld} == {_literal(_typed(v, op))}" for v in values)
    if operator in ("IS_NOT_EQUAL_TO", "IS_NONE_OF") and ok:
        return " and ".join(f"{fld} != {_literal(_typed(v, op))}" for v in values)
    if operator in _ORDER and ok and len(values) == 1:
        v = _typed(values[0], op, number=True)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f"{fld} {_ORDER[operator]} {_literal(v)}"
    if operator == "IS_KNOWN":
        return f"{fld} != null"
    if operator == "IS_UNKNOWN":
        return f"{fld} == null"
    problems.append(f"property '{prop}' operator {operator} with {json.dumps(values)[:40]} has no equivalent in the "
                    "condition language")
    return None


def _typed(v: Any, op: dict[str, Any], number: bool = False) -> Any:
    """HubSpot sends numbers and booleans as strings in some operations: read them as their type."""
    t = op.get("operationType")
    if isinstance(v, str) and (number or t == "NUMBER"):
        try:
            return float(v) if "." in v else int(v)
        except ValueError:
            return v
    if isinstance(v, str) and t == "BOOL" and v.lower() in ("true", "false"):
        return v.lower() == "true"
    return v


class _Flow(ExportReader):
    expected = EXPECTED

    def __init__(self, flow: dict[str, Any], file: str, prefix: str):
        super().__init__(file, prefix)
        self.f, self.p = flow, prefix
        self.unmapped: list[Unmapped] = []

    def build(self) -> ImportedJourney:
        title = str(self.f.get("name") or self.f.get("id") or Path(self.file).stem or "hubspot workflow")
        actions = self.want(self.f.get("actions"), list, "actions", "a workflow's steps are in 'actions'")
        self.index: dict[str, int] = {}
        for i, a in enumerate(actions):
            a = self.want(a, dict, f"actions[{i}]")
            aid = a.get("actionId")
            if isinstance(aid, int) and not isinstance(aid, bool):
                aid = str(aid)
            aid = self.want(aid, str, f"actions[{i}].actionId", "every action needs its 'actionId'")
            if aid in self.index:
                raise self.err(f"actions[{i}].actionId", f"duplicate actionId '{aid}' (also actions[{self.index[aid]}])",
                               "action ids must be unique in a workflow")
            self.index[aid] = i
        self.actions = actions
        self.ids = step_ids(list(self.index), "end-action")
        start = self.f.get("startActionId")
        if isinstance(start, int) and not isinstance(start, bool):
            start = str(start)
        start = self.want(start, str, "startActionId", "the flow names its first action in 'startActionId'")
        if start not in self.index:
            hint = did_you_mean(start, list(self.index))
            raise self.err("startActionId", f"names action '{start}', which is not in actions",
                           hint or f"use an actionId; ids: {', '.join(self.index) or '(none)'}")
        nodes = {k: self.node(self.index[k], actions[self.index[k]]) for k in self.index}
        by_id = {self.ids[k]: k for k in nodes}
        loop = find_loop(nodes, by_id, END)
        if loop:
            raise self.err(f"actions[{self.index[loop[-2]]}]",
                           f"the actions form a loop ('{loop[-2]}' leads back to '{loop[-1]}')",
                           "a GO-TO connection must not lead back to an earlier action; export the flow again")
        order = depth_first(start, nodes, self.ids, END)
        for k in nodes:
            if k not in order:
                self.unmapped.append(Unmapped(f"{self.p}actions[{self.index[k]}]",
                                              f"action '{k}' cannot be reached from startActionId: left out"))
        journey = ImportedJourney(id=str(self.f.get("id") or title), name=scenario_name(title),
                                  path=self.p.rstrip(".") or "$", entry=self.entry(), nodes=[nodes[k] for k in order],
                                  title=title)
        journey.re_entry = self.re_entry()
        if self.f.get("isEnabled") is False:
            self.unmapped.append(Unmapped(f"{self.p}isEnabled", "the workflow is turned off in HubSpot (isEnabled: "
                                                                "false); the scenario runs it as if on"))
        journey.platform = "hubspot"
        self.time_windows(journey)
        if self.f.get("suppressionListIds"):
            self.unmapped.append(Unmapped(f"{self.p}suppressionListIds", "suppression lists are not modelled: "
                                                                         "their members are not kept out"))
        journey.unmapped = self.unmapped
        return journey

    def time_windows(self, journey: ImportedJourney) -> None:
        """``timeWindows`` (one per day, each with startTime/endTime) -> ``execution_window`` when every day
        has the same hours; the account's zone is not in the export (HubSpot's default is EST)."""
        tw = self.f.get("timeWindows")
        path = f"{self.p}timeWindows"
        if self.f.get("blockedDates"):
            self.unmapped.append(Unmapped(f"{self.p}blockedDates", "blocked dates (no actions on those days) are not "
                                          "modelled", json.dumps(self.f.get("blockedDates"))[:400]))
        if not tw:
            return
        days, hours = [], set()
        ok = isinstance(tw, list)
        for w in tw if ok else []:
            try:
                day = str(w["day"])[:3].lower()
                s_, e_ = w["startTime"], w["endTime"]
                hours.add((f"{int(s_['hour']):02d}:{int(s_.get('minute', 0)):02d}",
                           f"{int(e_['hour']):02d}:{int(e_.get('minute', 0)):02d}"))
            except (TypeError, KeyError, ValueError):
                ok = False
                break
            if day not in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
                ok = False
                break
            days.append(day)
        start, end = next(iter(hours)) if len(hours) == 1 else ("", "")
        if not ok or len(hours) != 1 or not ("00:00" <= start < end <= "23:59") or len(set(days)) != len(days):
            self.unmapped.append(Unmapped(path, "'run actions at specific times only' with different hours per day "
                                          "(or a window past midnight) is not modelled: actions run when reached; "
                                          "execution_window takes one from-to for all its days",
                                          json.dumps(tw)[:400]))
            return
        order = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        journey.execution_window = {"from": start, "to": end, "days": sorted(days, key=order.index),
                                    "timezone": "America/New_York"}
        journey.execution_window_note = (f"HubSpot 'run actions at specific times only' ({path}; {SETTINGS_URL}); "
                                         "the account's time zone is not in the export: America/New_York (HubSpot's "
                                         "EST default) is a placeholder, edit it")

    # -- enrollment ---------------------------------------------------------------------------
    def entry(self) -> Entry:
        ec = self.want(self.f.get("enrollmentCriteria"), dict, "enrollmentCriteria",
                       '"enrollmentCriteria": {"type": "LIST_BASED", ...}')
        t = ec.get("type")
        path = f"{self.p}enrollmentCriteria"
        if t not in _ENROLL:
            raise self.err("enrollmentCriteria.type", f"unknown enrollment type {json.dumps(t)}",
                           did_you_mean(str(t), _ENROLL) or f"one of {', '.join(_ENROLL)}")
        if t == "LIST_BASED":
            cond, problems = translate_filter_branch(ec.get("listFilterBranch"))
            flags: tuple[str, ...] = ()
            if cond is None:
                cond, flags = "in_enrollment_list", ("in_enrollment_list",)
            entry = Entry("segment", path, condition=cond, every=SEGMENT_EVERY, generated_flags=flags,
                          source="HubSpot list-based enrollment, re-checked every 1h (generated default)")
            if problems:
                entry.unmapped.append(Unmapped(f"{path}.listFilterBranch", "enrollment filters not translated ("
                                               + "; ".join(problems) + "); entry uses a generated flag "
                                               "'in_enrollment_list' (half the population) instead",
                                               json.dumps(ec.get("listFilterBranch"))[:400]))
            return entry
        if t == "EVENT_BASED":
            branches = ec.get("eventFilterBranches") if isinstance(ec.get("eventFilterBranches"), list) else []
            ids = [b.get("eventTypeId") for b in branches if isinstance(b, dict) and isinstance(b.get("eventTypeId"), str)]
            if not ids:
                raise self.err("enrollmentCriteria.eventFilterBranches", "an event-based enrollment names no "
                               "eventTypeId", '"eventFilterBranches": [{"eventTypeId": "4-1639801", ...}]')
            event = safe_name(f"hubspot_event_{ids[0]}")
            entry = Entry("event", path, event=event, source=f"HubSpot event-based enrollment (eventTypeId {ids[0]})")
            entry.unmapped.append(Unmapped(f"{path}.eventFilterBranches[0]", f"HubSpot event type {ids[0]} becomes "
                                           f"the generated event '{event}'; its event filters are not applied"))
            for j, other in enumerate(ids[1:], 1):
                entry.unmapped.append(Unmapped(f"{path}.eventFilterBranches[{j}]",
                                               f"the flow also enrolls on event type {other}: the scenario enters on "
                                               "one event only"))
            if ec.get("listMembershipFilterBranches"):
                entry.unmapped.append(Unmapped(f"{path}.listMembershipFilterBranches",
                                               "list-membership conditions on the event enrollment are not applied"))
            return entry
        entry = Entry("event", path, event="hubspot_manual_enrollment", source="HubSpot manual enrollment")
        entry.unmapped.append(Unmapped(path, "manual enrollment (by a user or the API) becomes the generated event "
                                             "'hubspot_manual_enrollment' (half the population, once)"))
        return entry

    def re_entry(self) -> ReEntry:
        ec = self.f["enrollmentCriteria"]
        path = f"{self.p}enrollmentCriteria.shouldReEnroll"
        if ec.get("shouldReEnroll") is True:
            r = ReEntry("after_exit", path, "shouldReEnroll: true")
            triggers = ec.get("reEnrollmentTriggersFilterBranches")
            r.unmapped.append(Unmapped(path, "re-enrollment (a record that meets a re-enrollment trigger again is "
                                             "enrolled again) has no exact equivalent: re_entry: true lets a customer "
                                             "enter again whenever the entry holds",
                                       json.dumps(triggers)[:400] if triggers else ""))
            return r
        return ReEntry("never", path, "shouldReEnroll: false")

    # -- actions ------------------------------------------------------------------------------
    def target(self, conn: Any, path: str) -> tuple[str, str]:
        """(step id, edge type) a connection leads to; no connection ends the flow."""
        if conn is None:
            return END, ""
        conn = self.want(conn, dict, path, '{"edgeType": "STANDARD", "nextActionId": "2"}')
        nxt = conn.get("nextActionId")
        if isinstance(nxt, int) and not isinstance(nxt, bool):
            nxt = str(nxt)
        nxt = self.want(nxt, str, f"{path}.nextActionId", "the id of the next action")
        if nxt not in self.index:
            hint = did_you_mean(nxt, list(self.index))
            raise self.err(f"{path}.nextActionId", f"names action '{nxt}', which is not in actions",
                           hint or f"use an actionId; ids: {', '.join(self.index)}")
        edge = conn.get("edgeType", "STANDARD")
        if edge not in ("STANDARD", "GO-TO"):
            raise self.err(f"{path}.edgeType", f"expected \"STANDARD\" or \"GO-TO\", got {json.dumps(edge)}",
                           did_you_mean(str(edge), ["STANDARD", "GO-TO"]))
        return self.ids[nxt], edge

    def node(self, i: int, a: dict[str, Any]) -> Node:
        key = str(a["actionId"])
        path = f"actions[{i}]"
        kind = a.get("type", "SINGLE_CONNECTION")
        tid = a.get("actionTypeId")
        base: dict[str, Any] = {"id": self.ids[key], "path": self.p + path, "source_type": str(tid or kind),
                                "name": str(a.get("name") or ACTION_TYPES.get(str(tid), "") or "")}
        notes = [] if self.ids[key] == key else [f"HubSpot actionId {key!r} is not a valid step id: renamed "
                                                 f"'{self.ids[key]}'"]
        if kind in ("STATIC_BRANCH", "LIST_BRANCH"):
            node: Node = self.branch(i, a, base, kind)
        elif kind == "SINGLE_CONNECTION":
            nxt, edge = self.target(a.get("connection"), f"{path}.connection")
            base["next"] = nxt
            node = self.single(i, a, base)
            if edge == "GO-TO":
                node.notes.append(f"GO-TO connection: jumps to '{nxt}' in another branch")
        else:
            outs = self.drawn_edges(i, a)
            hint = did_you_mean(str(kind), _KINDS)
            node = Unmodelled(**base, kind=f"action of type {json.dumps(kind)}" + (f" ({hint})" if hint else ""),
                              outcomes=outs or [("end", END, "")],
                              divides=f"HubSpot's {kind} action picks the path at run time")
            node.next = node.outcomes[0][1]
        node.notes[:0] = notes
        return node

    def drawn_edges(self, i: int, a: dict[str, Any]) -> list[tuple[str, str, str]]:
        out = []
        if isinstance(a.get("connection"), dict):
            out.append(("connection", self.target(a["connection"], f"actions[{i}].connection")[0], ""))
        for key in ("staticBranches", "listBranches", "branches"):
            for j, b in enumerate(a.get(key) if isinstance(a.get(key), list) else []):
                if isinstance(b, dict) and isinstance(b.get("connection"), dict):
                    out.append((f"{key}[{j}]", self.target(b["connection"], f"actions[{i}].{key}[{j}].connection")[0],
                                str(b.get("branchName") or b.get("branchValue") or "")))
        if isinstance(a.get("defaultBranch"), dict):
            out.append(("defaultBranch", self.target(a["defaultBranch"], f"actions[{i}].defaultBranch")[0], ""))
        return out

    def single(self, i: int, a: dict[str, Any], base: dict[str, Any]) -> Node:
        path = f"actions[{i}]"
        tid = self.want(a.get("actionTypeId"), str, f"{path}.actionTypeId", 'e.g. "actionTypeId": "0-1" (a delay)')
        fields = a.get("fields") if isinstance(a.get("fields"), dict) else {}
        fp = f"{path}.fields"
        if tid == "0-1":
            delta = fields.get("delta")
            if isinstance(delta, str):
                try:
                    delta = float(delta)
                except ValueError:
                    pass
            delta = self.want(delta, (int, float), f"{fp}.delta", 'the delay length, e.g. "delta": "1440"')
            if delta < 0:
                raise self.err(f"{fp}.delta", f"expected a delay >= 0, got {delta:g}", "")
            unit = fields.get("time_unit")
            if not isinstance(unit, str) or unit not in _UNITS:
                raise self.err(f"{fp}.time_unit", f"unknown time_unit {json.dumps(unit)}",
                               did_you_mean(str(unit), list(_UNITS)) or f"one of {', '.join(_UNITS)}")
            if float(delta) * _UNITS[unit] > MAX_SECONDS:
                raise self.err(f"{fp}.delta", f"the delay is {delta:g} {unit}, more than 36500 days", "check the delay")
            return Wait(**base, seconds=float(delta) * _UNITS[unit])
        if tid == "0-35":
            date = fields.get("date")
            attr = ""
            if isinstance(date, dict):
                attr = str(date.get("propertyName") or date.get("staticValue") or "")
            node: Node = WaitUntilDate(**base, attribute=attr or "a calendar date")
            node.unmapped.append(Unmapped(f"{self.p}{fp}", "the delay-until-date settings are kept verbatim",
                                          json.dumps(fields)[:400]))
            return node
        if tid == "0-4":
            content = fields.get("content_id")
            node = Send(**base, channel="email", template=str(content or ""))
            if content is None:
                node.unmapped.append(Unmapped(f"{self.p}{fp}.content_id", "the email action names no content_id"))
            return node
        if tid == "0-5":
            prop = fields.get("property_name")
            value = fields.get("value")
            static = value.get("staticValue") if isinstance(value, dict) else None
            if isinstance(prop, str) and isinstance(static, (str, int, float, bool)) and (
                    not isinstance(value, dict) or value.get("type", "STATIC_VALUE") == "STATIC_VALUE"):
                return ProfileUpdate(**base, fields={field_name(prop): static})
            node = Unmodelled(**base, kind="set property from a non-static value", outcomes=[("next", base["next"], "")])
            node.unmapped.append(Unmapped(f"{self.p}{fp}", "only a property set to a static value becomes an update",
                                          json.dumps(fields)[:400]))
            return node
        what = ACTION_TYPES.get(tid)
        kind = (f"HubSpot {what} ({tid})" if what else f"HubSpot action type {tid}")
        return Unmodelled(**base, kind=kind, outcomes=[("next", base["next"], "")])

    def branch(self, i: int, a: dict[str, Any], base: dict[str, Any], kind: str) -> Node:
        path = f"actions[{i}]"
        node = Branch(**base)
        default_conn = a.get("defaultBranch")
        default, _ = self.target(default_conn, f"{path}.defaultBranch")
        label = str(a.get("defaultBranchName") or "default")
        if kind == "STATIC_BRANCH":
            inp = a.get("inputValue") if isinstance(a.get("inputValue"), dict) else {}
            prop = inp.get("propertyName") or inp.get("dataKey")
            branches = self.want(a.get("staticBranches"), list, f"{path}.staticBranches",
                                 '"staticBranches": [{"branchValue": "...", "connection": {...}}]')
            for j, b in enumerate(branches):
                b = self.want(b, dict, f"{path}.staticBranches[{j}]", '{"branchValue": "...", "connection": {...}}')
                tgt, _ = self.target(b.get("connection"), f"{path}.staticBranches[{j}].connection")
                bv = b.get("branchValue")
                bpath = f"{self.p}{path}.staticBranches[{j}]"
                if isinstance(prop, str) and isinstance(bv, (str, int, float, bool)) and printable(bv):
                    node.arms.append(Arm(f"staticBranches[{j}]", tgt, f"{field_name(prop)} == {_literal(bv)}",
                                         str(bv), path=bpath))
                else:
                    node.arms.append(Arm(f"staticBranches[{j}]", tgt, None, str(bv), mapped=False, path=bpath,
                                         verbatim=f"inputValue {json.dumps(inp)[:200]}, branchValue {json.dumps(bv)}"))
        else:
            branches = self.want(a.get("listBranches"), list, f"{path}.listBranches",
                                 '"listBranches": [{"filterBranch": {...}, "branchName": "...", "connection": {...}}]')
            for j, b in enumerate(branches):
                b = self.want(b, dict, f"{path}.listBranches[{j}]", '{"filterBranch": {...}, "connection": {...}}')
                tgt, _ = self.target(b.get("connection"), f"{path}.listBranches[{j}].connection")
                cond, problems = translate_filter_branch(b.get("filterBranch"))
                bpath = f"{self.p}{path}.listBranches[{j}].filterBranch"
                name = str(b.get("branchName") or "")
                if cond is not None:
                    node.arms.append(Arm(f"listBranches[{j}]", tgt, cond, name, path=bpath))
                else:
                    node.arms.append(Arm(f"listBranches[{j}]", tgt, None, name, mapped=False, path=bpath,
                                         verbatim="; ".join(problems) + " | "
                                         + json.dumps(b.get("filterBranch"))[:300]))
        node.default = Arm("defaultBranch", default, label=label, path=f"{self.p}{path}.defaultBranch")
        if default_conn is None:
            node.notes.append("no defaultBranch connection: records matching no branch leave the flow")
        node.next = node.arms[0].target if node.arms else default
        return node


def import_hubspot(data: Any, file: str) -> list[ImportedJourney]:
    """The journeys in a HubSpot export (one flow or ``{results: [...]}``)."""
    return one_or_results(data, file, EXPECTED, "HubSpot workflow", "workflow", ("actions", "startActionId"),
                          lambda obj, prefix: _Flow(obj, file, prefix).build())
