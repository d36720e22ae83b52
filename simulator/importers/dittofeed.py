"""Dittofeed journeys -> IR.

Input (JSON): a ``JourneyDefinition`` (``{entryNode, exitNode, nodes}``), a journey resource
(``{id, name, definition, canRunMultiple?}``) or the admin API's list (``{journeys: [...]}``), each
optionally with ``segments: [{id, name, definition}]`` beside it (the segments API's list), from which
segment entries, splits and waits are translated to conditions. The reference is Dittofeed's own
TypeScript types and journey worker (docs/import.md has the URLs and the mapping table):

- ``EntryNode`` (segment entry) -> ``entry: {segment}``; ``EventEntryNode`` -> ``entry: {event}``;
- ``DelayNode`` ``Second`` -> ``wait``; ``LocalTime`` -> ``wait_window: {at}`` (a local time); ``UserProperty`` ->
  wait until the date in a user property (both pass-throughs, reported);
- ``WaitForNode`` -> ``wait_until`` an event (a plain "performed E" segment) or a wait until the
  segment's condition (pass-through, reported), each with ``timeoutSeconds``/``timeoutChild``;
- ``SegmentSplitNode`` -> ``branch``; ``RandomCohortNode`` -> ``split``; ``MessageNode`` -> ``send``;
- ``RateLimitNode``/``ExperimentSplitNode``: Dittofeed's worker sends the user to the exit node;
  imported as drawn, with a warning; ``ExitNode`` (children name it ``"ExitNode"``) -> ``end``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from simulator.importers.base import (
    ExportReader, ImportInputError, depth_first, did_you_mean, find_loop, safe_name, shape, step_ids, unique_names, want,
)
from simulator.importers.dittofeed_segment import performed_event, translate_segment
from simulator.importers.sfmc_filter import field_name
from simulator.importers.ir import (
    END, Arm, Branch, Entry, ImportedJourney, Node, RandomSplit, ReEntry, Send, Unmapped, Unmodelled, Wait,
    WaitUntilCondition, WaitUntilDate, WaitUntilEvent, WaitUntilWindow,
)
from simulator.importers.writer import scenario_name

__all__ = ["import_dittofeed", "EXPECTED", "NODE_TYPES", "WORKER_URL", "TYPES_URL"]

EXPECTED = ("a Dittofeed JourneyDefinition ({entryNode, exitNode, nodes}), a journey resource ({name, "
            "definition}) or a list {journeys: [...]}, optionally with segments: [{id, name, definition}]")
_COMMIT = "c23d7aca8c4e6e4698f25693f0cb9eadcd7dc62f"
TYPES_URL = f"https://github.com/dittofeed/dittofeed/blob/{_COMMIT}/packages/isomorphic-lib/src/types.ts"
WORKER_URL = (f"https://github.com/dittofeed/dittofeed/blob/{_COMMIT}/packages/backend-lib/src/journeys/"
              "userWorkflow.ts")
EXIT_ID = "ExitNode"  # children name Dittofeed's exit node by its type
_ENTRY_TYPES = {"EntryNode": "segment", "EventEntryNode": "event"}
_CHANNELS = {"Email": "email", "Sms": "sms", "MobilePush": "push"}
_NOT_EXECUTED = ("RateLimitNode", "ExperimentSplitNode")
NODE_TYPES = ("DelayNode", "WaitForNode", "SegmentSplitNode", "RandomCohortNode", "MessageNode", *_NOT_EXECUTED)
_DELAYS = ("Second", "LocalTime", "UserProperty")
#: Dittofeed's allowedDaysOfWeek are JavaScript getUTCDay() indices of the local date: 0 is Sunday
_JS_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
STATUS_URL = "https://docs.dittofeed.com/resources/journeys"
_STATUS = {"NotStarted": "in Dittofeed users cannot enter it until it is Running",
           "Paused": "in Dittofeed no more users enter, and a user reaching a message has it skipped and exits"}
SEGMENT_EVERY = 120.0  # how often the segment entry is re-checked: every 2m, as the dittofeed preset's entry.every


class _Journey(ExportReader):
    expected = EXPECTED

    def __init__(self, res: dict[str, Any], definition: dict[str, Any], file: str, prefix: str, dpath: str,
                 segments: dict[str, dict[str, Any]]):
        super().__init__(file, dpath)  # errors name paths inside the definition
        self.res, self.d, self.p, self.dp, self.segments = res, definition, prefix, dpath, segments
        self.unmapped: list[Unmapped] = []

    # -- journey level ------------------------------------------------------------------------
    def build(self) -> ImportedJourney:
        title = str(self.res.get("name") or self.res.get("id") or Path(self.file).stem or "dittofeed journey")
        entry_raw = self.want(self.d.get("entryNode"), dict, "entryNode", "a journey starts at its entryNode")
        exit_raw = self.want(self.d.get("exitNode"), dict, "exitNode", 'add "exitNode": {"type": "ExitNode"}')
        if exit_raw.get("type") != EXIT_ID:
            raise self.err("exitNode.type", f"expected \"ExitNode\", got {json.dumps(exit_raw.get('type'))}",
                           'the exit node is {"type": "ExitNode"}')
        raw_nodes = self.want(self.d.get("nodes"), list, "nodes", "the journey's steps are in 'nodes'")
        index: dict[str, int] = {}
        for i, n in enumerate(raw_nodes):
            n = self.want(n, dict, f"nodes[{i}]")
            nid = self.want(n.get("id"), str, f"nodes[{i}].id", "every node needs its 'id'")
            self.want(n.get("type"), str, f"nodes[{i}].type", f"one of {', '.join(NODE_TYPES)}")
            if nid in index:
                raise self.err(f"nodes[{i}].id", f"duplicate node id '{nid}' (also nodes[{index[nid]}])",
                               "node ids must be unique in a journey")
            if nid == EXIT_ID:
                raise self.err(f"nodes[{i}].id", "'ExitNode' is the exit node's name", "give the node another id")
            index[nid] = i
        self.index, self.ids = index, self._ids(list(index))
        entry, first = self.entry(entry_raw)
        nodes = {nid: self.node(i, raw_nodes[i]) for nid, i in index.items()}
        order = self._order(nodes, first)
        name = scenario_name(title)
        journey = ImportedJourney(id=str(self.res.get("id") or title), name=name, path=self.p.rstrip(".") or "$",
                                  entry=entry, nodes=[nodes[k] for k in order], title=title,
                                  platform="dittofeed")
        journey.re_entry = self.re_entry(entry_raw)
        status = self.res.get("status")
        if isinstance(status, str) and status in _STATUS:
            self.unmapped.append(Unmapped(f"{self.p}status", f"the journey's status is {status}: {_STATUS[status]} "
                                                             f"({STATUS_URL}); the scenario runs it as if Running"))
        if any(isinstance(nodes[k], Send) for k in order):
            self.unmapped.append(Unmapped(
                f"{self.dp}nodes", "a Dittofeed message node whose send fails ends the journey for that user "
                "(unless skipOnFailure); the scenario goes on to the next step"))
        journey.unmapped = self.unmapped
        return journey

    def entry(self, e: dict[str, Any]) -> tuple[Entry, str]:
        t = e.get("type")
        if not isinstance(t, str) or t not in _ENTRY_TYPES:
            hint = did_you_mean(str(t), list(_ENTRY_TYPES))
            raise self.err("entryNode.type", f"unknown entry node type {json.dumps(t)}",
                           hint or "use \"EntryNode\" (segment entry) or \"EventEntryNode\"")
        child = self.want(e.get("child"), str, "entryNode.child", "the entry node names its first step in 'child'")
        first = self.target(child, "entryNode.child")
        path = f"{self.dp}entryNode"
        if t == "EventEntryNode":
            event = self.want(e.get("event"), str, "entryNode.event", 'e.g. "event": "Signed Up"')
            entry = Entry("event", path, event=safe_name(event), source=f"Dittofeed event entry '{event}'")
            if entry.event != event:
                entry.unmapped.append(Unmapped(f"{path}.event", f"event '{event}' written as '{entry.event}'"))
            if isinstance(e.get("key"), str):
                entry.unmapped.append(Unmapped(f"{path}.key", f"keyed entry on property '{e['key']}' (one journey "
                                                              "instance per key value) is not modelled"))
            return entry, first
        seg = self.want(e.get("segment"), str, "entryNode.segment", "a segment entry names its segment id")
        cond, note = self.segment_condition(seg, f"{path}.segment")
        flags: tuple[str, ...] = ()
        if cond is None:  # like an SFMC audience: a generated membership flag, so customers still enter
            cond = ("in_" + field_name(self.segment_name(seg)).lower())[:100]
            flags = (cond,)
        entry = Entry("segment", path, condition=cond, every=SEGMENT_EVERY, generated_flags=flags,
                      source=f"Dittofeed segment entry '{self.segment_name(seg)}', re-checked every 2m "
                             "(Dittofeed computes segments every 2 minutes by default: the dittofeed preset)")
        if note:
            entry.unmapped.append(Unmapped(note.path, f"{note.what}; entry uses a generated flag '{cond}' "
                                                      "(half the population) instead", note.verbatim))
        return entry, first

    def re_entry(self, e: dict[str, Any]) -> ReEntry | None:
        if e.get("type") == "EntryNode" and e.get("reEnter") is True:
            return ReEntry("after_exit", f"{self.dp}entryNode.reEnter", "reEnter: true (enter again after exiting)")
        if self.res.get("canRunMultiple") is True:
            return ReEntry("any_time", f"{self.p}canRunMultiple", "canRunMultiple: true")
        return None

    # -- segments -----------------------------------------------------------------------------
    def segment_name(self, seg: str) -> str:
        s = self.segments.get(seg)
        return str(s.get("name") or seg) if s else seg

    def segment_condition(self, seg: str, path: str) -> tuple[str | None, Unmapped | None]:
        s = self.segments.get(seg)
        if s is None:
            return None, Unmapped(path, f"segment '{seg}' is not in the file's 'segments': its condition is "
                                        "unknown (add the segments API's list beside the journey to translate it)")
        tr = translate_segment(s.get("definition"))
        if tr.condition is None:
            return None, Unmapped(path, f"segment '{self.segment_name(seg)}' not translated ("
                                        + "; ".join(tr.problems) + ")", json.dumps(s.get("definition"))[:400])
        return tr.condition, None

    # -- nodes --------------------------------------------------------------------------------
    def _ids(self, keys: list[str]) -> dict[str, str]:
        return step_ids(keys, "end-node")

    def target(self, child: str, path: str) -> str:
        if child == EXIT_ID:
            return END
        if child not in self.ids:
            hint = did_you_mean(child, [*self.ids, EXIT_ID])
            raise self.err(path, f"points to node '{child}', which is not in nodes",
                           hint or f"use a node id or \"ExitNode\"; ids: {', '.join(self.ids) or '(none)'}")
        return self.ids[child]

    def node(self, i: int, n: dict[str, Any]) -> Node:
        nid, t = n["id"], n["type"]
        path = f"{self.dp}nodes[{i}]"
        base: dict[str, Any] = {"id": self.ids[nid], "path": path, "name": str(n.get("name") or ""),
                                "source_type": t}
        notes = [] if self.ids[nid] == nid else [f"Dittofeed id {nid!r} is not a valid step id: renamed "
                                                 f"'{self.ids[nid]}'"]
        if t in ("DelayNode", "MessageNode"):
            base["next"] = self.target(self.want(n.get("child"), str, f"nodes[{i}].child",
                                                 f"a {t} names its next node in 'child' (or \"ExitNode\")"),
                                       f"nodes[{i}].child")
        node: Node
        if t == "DelayNode":
            node = self.delay(i, n, base)
        elif t == "WaitForNode":
            node = self.wait_for(i, n, base)
        elif t == "SegmentSplitNode":
            node = self.split(i, n, base)
        elif t == "RandomCohortNode":
            node = self.cohort(i, n, base)
        elif t == "MessageNode":
            node = self.message(i, n, base)
        else:
            outs = self._drawn_children(i, n)
            base["next"] = outs[0][1] if outs else END
            if t in _NOT_EXECUTED:
                node = Unmodelled(**base, kind=f"Dittofeed {t}", outcomes=outs,
                                  divides="the export draws no percentages for these edges")
                node.unmapped.append(Unmapped(path, f"Dittofeed does not execute {t}: its journey worker sends the "
                                                    f"user to the exit node ({WORKER_URL}); imported as drawn, so "
                                                    "the platform will not behave as this scenario does"))
            else:
                hint = did_you_mean(t, [*NODE_TYPES, *_ENTRY_TYPES, EXIT_ID])
                node = Unmodelled(**base, kind=f"node type '{t}'{' (' + hint + ')' if hint else ''}", outcomes=outs,
                                  divides="the export does not say how this node type divides users")
        node.notes[:0] = notes
        return node

    def _drawn_children(self, i: int, n: dict[str, Any]) -> list[tuple[str, str, str]]:
        """Edges of a node whose type has no documented children: ``child`` or ``children[].id`` if present."""
        if isinstance(n.get("child"), str):
            return [("child", self.target(n["child"], f"nodes[{i}].child"), "")]
        if isinstance(n.get("children"), list):
            out = []
            for j, c in enumerate(n["children"]):
                cid = c.get("id") if isinstance(c, dict) else c
                cid = self.want(cid, str, f"nodes[{i}].children[{j}]", "each child names a node id")
                out.append((f"children[{j}]", self.target(cid, f"nodes[{i}].children[{j}]"), ""))
            return out
        return []

    def delay(self, i: int, n: dict[str, Any], base: dict[str, Any]) -> Node:
        v = self.want(n.get("variant"), dict, f"nodes[{i}].variant",
                      'e.g. "variant": {"type": "Second", "seconds": 3600}')
        vt = v.get("type")
        vp = f"nodes[{i}].variant"
        if vt == "Second":
            secs = self.want(v.get("seconds"), (int, float), f"{vp}.seconds", 'e.g. "seconds": 86400')
            if secs < 0:
                raise self.err(f"{vp}.seconds", f"expected a number of seconds >= 0, got {secs}", "")
            return Wait(**base, seconds=float(secs))
        if vt == "LocalTime":
            hour = self.want(v.get("hour"), int, f"{vp}.hour", 'e.g. "hour": 9')
            minute = v.get("minute", 0)
            minute = self.want(minute, int, f"{vp}.minute", 'e.g. "minute": 30') if minute is not None else 0
            if not (0 <= hour <= 23 and 0 <= minute <= 59):
                raise self.err(vp, f"local time {hour}:{minute} is not a time of day", "hour 0-23, minute 0-59")
            days = v.get("allowedDaysOfWeek")
            day_names = None
            if days is not None:
                days = self.want(days, list, f"{vp}.allowedDaysOfWeek", "a list of day indices 0-6")
                for j, d in enumerate(days):
                    if not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6:
                        raise self.err(f"{vp}.allowedDaysOfWeek[{j}]", f"expected a day index 0-6, got {json.dumps(d)}",
                                       "Dittofeed's AllowedDayIndices are 0 to 6")
                day_names = tuple(_JS_DAYS[d] for d in days)
            zone = v.get("defaultTimezone") if isinstance(v.get("defaultTimezone"), str) else None
            at = f"{hour:02d}:{minute:02d}"
            node = WaitUntilWindow(**base, start=at, end=at, zone=None, days=day_names)
            node.notes.append(f"Dittofeed waits until the next {at} in the user's time zone"
                              + (f" (default {zone})" if zone else ""))
            return node
        if vt == "UserProperty":
            prop = self.want(v.get("userProperty"), str, f"{vp}.userProperty", 'e.g. "userProperty": "trialEndsAt"')
            off = v.get("offsetSeconds") or 0
            off = self.want(off, (int, float), f"{vp}.offsetSeconds", 'e.g. "offsetSeconds": 86400')
            direction = v.get("offsetDirection", "after")
            if direction not in ("after", "before"):
                raise self.err(f"{vp}.offsetDirection",
                               f"expected \"after\" or \"before\", got {json.dumps(direction)}",
                               did_you_mean(str(direction), ["after", "before"]))
            return WaitUntilDate(**base, attribute=prop, offset=float(-off if direction == "before" else off))
        hint = did_you_mean(str(vt), _DELAYS)
        raise self.err(f"{vp}.type", f"unknown delay variant {json.dumps(vt)}", hint or f"one of {', '.join(_DELAYS)}")

    def wait_for(self, i: int, n: dict[str, Any], base: dict[str, Any]) -> Node:
        p = f"nodes[{i}]"
        timeout = self.want(n.get("timeoutSeconds"), (int, float), f"{p}.timeoutSeconds",
                            'e.g. "timeoutSeconds": 86400')
        if timeout < 0:
            raise self.err(f"{p}.timeoutSeconds", f"expected seconds >= 0, got {timeout}", "")
        on_timeout = self.target(self.want(n.get("timeoutChild"), str, f"{p}.timeoutChild",
                                           "a wait-for node names where users go on timeout"), f"{p}.timeoutChild")
        kids = self.want(n.get("segmentChildren"), list, f"{p}.segmentChildren",
                         '"segmentChildren": [{"id": NEXT_NODE, "segmentId": SEGMENT}]')
        if not kids:
            raise self.err(f"{p}.segmentChildren", "a wait-for node needs at least one segment child",
                           '"segmentChildren": [{"id": NEXT_NODE, "segmentId": SEGMENT}]')
        outs = []
        for j, c in enumerate(kids):
            c = self.want(c, dict, f"{p}.segmentChildren[{j}]")
            seg = self.want(c.get("segmentId"), str, f"{p}.segmentChildren[{j}].segmentId")
            cid = self.want(c.get("id"), str, f"{p}.segmentChildren[{j}].id", "the node to go to once in the segment")
            outs.append((seg, self.target(cid, f"{p}.segmentChildren[{j}].id")))
        base["next"] = outs[0][1]
        if len(outs) > 1:
            return Unmodelled(**base, kind=f"wait for the first of {len(outs)} segments (timeout {timeout:g}s)",
                              outcomes=[(s, t, self.segment_name(s)) for s, t in outs] + [("timeout", on_timeout, "")],
                              divides="the first segment the user is in (or the timeout) picks the path")
        seg, then = outs[0]
        spath = f"{self.dp}{p}.segmentChildren[0].segmentId"
        event = performed_event((self.segments.get(seg) or {}).get("definition"))
        if event is not None:
            node: Node = WaitUntilEvent(**base, event=safe_name(event), timeout=float(timeout), then=then,
                                        on_timeout=on_timeout)
            node.unmapped.append(Unmapped(spath, f"Dittofeed lets a user who performed '{event}' before reaching this "
                                                 "node through at once; wait_until waits for the event to happen "
                                                 "while the customer waits"))
            return node
        cond, note = self.segment_condition(seg, spath)
        node = WaitUntilCondition(**base, condition=cond or f"in segment '{self.segment_name(seg)}'",
                                  timeout=float(timeout), then=then, on_timeout=on_timeout)
        if note:
            node.unmapped.append(note)
        return node

    def split(self, i: int, n: dict[str, Any], base: dict[str, Any]) -> Branch:
        p = f"nodes[{i}].variant"
        v = self.want(n.get("variant"), dict, p, '"variant": {"type": "Boolean", "segment": ..., "trueChild": ..., '
                                                 '"falseChild": ...}')
        if v.get("type") != "Boolean":
            raise self.err(f"{p}.type", f"unknown segment split variant {json.dumps(v.get('type'))}",
                           did_you_mean(str(v.get("type")), ["Boolean"]) or 'the only variant is "Boolean"')
        seg = self.want(v.get("segment"), str, f"{p}.segment")
        yes = self.target(self.want(v.get("trueChild"), str, f"{p}.trueChild"), f"{p}.trueChild")
        no = self.target(self.want(v.get("falseChild"), str, f"{p}.falseChild"), f"{p}.falseChild")
        cond, note = self.segment_condition(seg, f"{self.dp}{p}.segment")
        node = Branch(**base, next=yes)
        label = self.segment_name(seg)
        if cond is not None:
            node.arms.append(Arm("trueChild", yes, cond, f"in {label}", path=f"{self.dp}{p}.segment"))
        else:
            assert note is not None
            node.arms.append(Arm("trueChild", yes, None, f"in {label}", mapped=False,
                                 verbatim=note.verbatim or f"segment '{seg}' (definition not in the file)",
                                 path=f"{self.dp}{p}.segment"))
            if not note.verbatim:  # the missing definition: say why (the arm note says 'not translated')
                node.unmapped.append(note)
        node.default = Arm("falseChild", no, label=f"not in {label}", path=f"{self.dp}{p}.falseChild")
        return node

    def cohort(self, i: int, n: dict[str, Any], base: dict[str, Any]) -> RandomSplit:
        p = f"nodes[{i}].children"
        kids = self.want(n.get("children"), list, p, '"children": [{"id": NODE, "percent": 50, "name": "A"}]')
        if not kids:
            raise self.err(p, "a random cohort node needs at least one child",
                           '"children": [{"id": NODE, "percent": 50}]')
        weights = []
        for j, c in enumerate(kids):
            c = self.want(c, dict, f"{p}[{j}]")
            tgt = self.target(self.want(c.get("id"), str, f"{p}[{j}].id"), f"{p}[{j}].id")
            pct = self.want(c.get("percent"), (int, float), f"{p}[{j}].percent", '"percent": 50 (0 to 100)')
            if pct < 0:
                raise self.err(f"{p}[{j}].percent", f"expected a percentage >= 0, got {pct}", "")
            weights.append((str(c.get("name") or f"cohort {j}"), tgt, float(pct)))
        total = sum(w for _, _, w in weights)
        if total > 100 + 1e-6:
            raise self.err(p, f"cohort percentages add up to {total:g}, more than 100",
                           "fix the percentages in Dittofeed and export again")
        node = RandomSplit(**base, next=weights[0][1], weights=weights)
        rest = round(100 - total, 6)
        if rest > 0:
            node.weights.append(("remainder", END, rest))
            node.notes.append(f"the cohorts add up to {total:g}%: Dittofeed's worker sends the other {rest:g}% "
                              "(no cohort drawn) to the exit node, as this split does")
        return node

    def message(self, i: int, n: dict[str, Any], base: dict[str, Any]) -> Node:
        p = f"nodes[{i}].variant"
        v = self.want(n.get("variant"), dict, p, '"variant": {"type": "Email", "templateId": ...}')
        vt = v.get("type")
        template = str(v.get("templateId") or "")
        if vt == "Webhook":
            node: Node = Unmodelled(**base, kind="webhook message (an HTTP call to your service)",
                                    outcomes=[("child", base["next"], "")])
        elif isinstance(vt, str) and vt in _CHANNELS:
            node = Send(**base, channel=_CHANNELS[vt], template=template)  # type: ignore[arg-type]
        else:
            hint = did_you_mean(str(vt), [*_CHANNELS, "Webhook"])
            raise self.err(f"{p}.type", f"unknown message channel {json.dumps(vt)}",
                           hint or "one of Email, Sms, MobilePush, Webhook")
        if template:
            node.notes.append(f"template {template}")
        if isinstance(n.get("subscriptionGroupId"), str):
            node.notes.append(f"subscription group {n['subscriptionGroupId']} (consent is the population's "
                              "generated consent share)")
        return node

    def _order(self, nodes: dict[str, Node], first: str) -> list[str]:
        by_id = {self.ids[k]: k for k in nodes}
        order = depth_first(by_id[first] if first != END else None, nodes, self.ids, END)
        self._no_loop(nodes, by_id)
        if not order:
            raise self.err("entryNode.child", "the entry goes straight to the exit node: nothing to simulate",
                           "export a journey with at least one step")
        reached = set(order)
        for k in nodes:
            if k not in reached:
                self.unmapped.append(Unmapped(f"{self.dp}nodes[{self.index[k]}]",
                                              f"node '{k}' cannot be reached from the entry node: left out"))
        return order

    def _no_loop(self, nodes: dict[str, Node], by_id: dict[str, str]) -> None:
        loop = find_loop(nodes, by_id, END)
        if loop:
            raise self.err(f"nodes[{self.index[loop[-2]]}]",
                           f"the nodes form a loop ('{loop[-2]}' leads back to '{loop[-1]}')",
                           "Dittofeed journeys do not loop; export the journey again")


def _segments(data: dict[str, Any], file: str) -> dict[str, dict[str, Any]]:
    raw = data.get("segments")
    if raw is None:
        return {}
    items = want(raw, list, file, "segments", "segments is the segments API's list: [{id, name, definition}]")
    out: dict[str, dict[str, Any]] = {}
    for i, s in enumerate(items):
        s = want(s, dict, file, f"segments[{i}]", "each segment is {id, name, definition}")
        sid = want(s.get("id"), str, file, f"segments[{i}].id", "each segment needs its 'id'")
        want(s.get("definition"), dict, file, f"segments[{i}].definition",
             "a segment's definition is {entryNode, nodes}")
        out[sid] = s
    return out


def import_dittofeed(data: Any, file: str) -> list[ImportedJourney]:
    """The journeys in a Dittofeed export (one definition, one resource or a list)."""
    if not isinstance(data, dict):
        raise ImportInputError(file, "", f"not a Dittofeed journey: got {shape(data)}",
                               f"the file must be {EXPECTED}")
    segments = _segments(data, file)
    if "journeys" in data:
        items = want(data["journeys"], list, file, "journeys", f"the file must be {EXPECTED}")
        if not items:
            raise ImportInputError(file, "journeys", "the list has no journeys", "export at least one journey")
        journeys = []
        for n, it in enumerate(items):
            it = want(it, dict, file, f"journeys[{n}]", "each item is a journey resource {name, definition}")
            d = want(it.get("definition"), dict, file, f"journeys[{n}].definition",
                     "a journey that was never started may have no definition; export one that has it")
            journeys.append(_Journey(it, d, file, f"journeys[{n}].", f"journeys[{n}].definition.", segments).build())
        unique_names(journeys)  # two journeys with one display name (also after cutting to 100 characters)
        return journeys
    if "definition" in data:
        d = want(data["definition"], dict, file, "definition", f"the file must be {EXPECTED}")
        return [_Journey(data, d, file, "", "definition.", segments).build()]
    if "entryNode" in data or "nodes" in data:
        return [_Journey({}, data, file, "", "", segments).build()]
    raise ImportInputError(file, "", f"not a Dittofeed journey: got {shape(data)}",
                           f"the file must be {EXPECTED}")
