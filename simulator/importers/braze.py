"""Braze Canvas ``GET /canvas/details`` responses -> the IR (:mod:`simulator.importers.ir`).

The export carries the step graph (``steps[].next_paths``/``next_step_ids``, ``variants[].first_step_ids``),
each step's type and the messages of Message steps (channel, email subject), but **not** the
configuration of the other steps: no Delay length, no split or audience filter, no entry trigger, no
exit criteria, no variant percentages (docs/import.md cites the endpoint's documentation). The
importer keeps the graph exactly and writes every missing value as an explicit placeholder: a step
with ``placeholder: <what to set>``, which ``journeysim validate`` and ``run`` warn about until the
user sets the real value and deletes the key.

Step ``type`` strings are not enumerated in Braze's documentation, so a type is recognised by its
words (``Delay``, ``delay``, ``DELAY_STEP`` are the same): message, delay, decision split, audience
paths, action paths, experiment paths, user update, full step. Any other type is kept as a
pass-through step and named in a NOT MAPPED note.
"""

from __future__ import annotations

import re
from typing import Any

from simulator.importers.base import MAX_SECONDS, ImportInputError, did_you_mean, safe_name, shape, step_ids, want
from simulator.importers.ir import (
    END, Arm, Branch, Entry, Experiment, ImportedJourney, Node, RandomSplit, Send, Unmapped, Unmodelled, Wait,
    WaitUntilEvent,
)
from simulator.importers.writer import format_duration, scenario_name

__all__ = ["import_braze", "EXPECTED", "DETAILS_URL", "CANVAS_DELAY", "STEP_KINDS", "channel_of", "delay_in_name"]

EXPECTED = ("a Braze GET /canvas/details response ({name, variants, steps, ...}), or a list of them, "
            "or {canvases: [...]}")
DETAILS_URL = "https://www.braze.com/docs/api/endpoints/export/canvas/get_canvas_details/"
CAMPAIGN_DETAILS_URL = "https://www.braze.com/docs/api/endpoints/export/campaigns/get_campaign_details/"
#: the placeholder length of a Delay step (the export does not carry it)
CANVAS_DELAY = 86400.0
#: the placeholder evaluation window of an Action Paths step
ACTION_WINDOW = 86400.0

#: Braze message channel (as the details endpoints name it) -> journeysim channel; None: not a
#: message to the customer that the scenario format models (a webhook, a Content Card, a control)
_CHANNELS: dict[str, str | None] = {
    "email": "email", "sms": "sms", "mms": "sms", "rcs": "sms",
    "ios_push": "push", "android_push": "push", "web_push": "push", "kindle_push": "push", "push": "push",
    "in_app_message": "in_app", "in-app_message": "in_app", "trigger_in_app_message": "in_app",
    "whatsapp": "whatsapp", "whats_app": "whatsapp",
    "webhook": None, "content_card": None, "content_cards": None, "line": None,
}

#: recognised step kinds: normalised type words -> kind
STEP_KINDS = {
    "message": "message", "messagestep": "message",
    "delay": "delay", "delaystep": "delay",
    "decisionsplit": "decision", "decision": "decision", "decisionsplitstep": "decision",
    "audiencepaths": "audience", "audiencepath": "audience", "audiencesplit": "audience",
    "actionpaths": "action", "actionpath": "action",
    "experimentpaths": "experiment", "experimentpath": "experiment", "experiment": "experiment",
    "userupdate": "update", "userupdatestep": "update",
    "fullstep": "full", "full": "full", "canvasstep": "full",
}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


#: a duration written in a step's name: a number, then a unit word ("1 hour", "2-day", "30 minutes", "24h");
#: a bare "m" is left out (minutes or months?)
_NAMED_DURATION = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[\s-]*(seconds?|secs?|s|minutes?|mins?|hours?|hrs?|h|days?|d|"
                             r"weeks?|wks?|w)(?!\w)", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}


def delay_in_name(name: str) -> float | None:
    """Seconds of the one duration a Delay step's name states ("Wait 1 hour" -> 3600, "2 day delay",
    "Delay 30 minutes"); None when the name states none, several, or one that is 0 or over the format's
    longest (the export does not carry the length; the name is only a hint the user must check)."""
    found = _NAMED_DURATION.findall(name or "")
    if len(found) != 1:
        return None
    number, unit = found[0]
    word = unit.lower()
    seconds = float(number) * _UNIT_SECONDS["w" if word.startswith("w") else "m" if word.startswith("min") else word[0]]
    return seconds if 0 < seconds <= MAX_SECONDS else None


def channel_of(braze_channel: str) -> str | None:
    """The journeysim channel for a Braze message channel; None when the format does not model it."""
    return _CHANNELS.get(braze_channel.strip().lower().replace(" ", "_"), None)


class _Canvas:
    """One canvas: reads its steps, keeps the graph, records every placeholder."""

    def __init__(self, data: dict[str, Any], file: str, path: str):
        self.d, self.file, self.p = data, file, path
        self.nodes: list[Node] = []
        self.unmapped: list[Unmapped] = []
        self.ids: dict[str, str] = {}
        self.variants: list[tuple[str, str]] = []
        self.steps: list[str] = []  # the steps' API identifiers, in the export's order

    def fail(self, path: str, message: str, fix: str) -> ImportInputError:
        return ImportInputError(self.file, f"{self.p}{path}", message, fix)

    def read(self, taken: set[str]) -> ImportedJourney:
        """The canvas as one journey; ``taken``: journey names already used in this import."""
        d = self.d
        name = want(d.get("name"), str, self.file, f"{self.p}name", "every canvas has a name")
        steps = want(d.get("steps"), list, self.file, f"{self.p}steps",
                     "export the canvas with GET /canvas/details (it lists steps[])")
        variants = want(d.get("variants", []), list, self.file, f"{self.p}variants", "variants is a list")
        raw: dict[str, tuple[int, dict[str, Any]]] = {}
        for i, s in enumerate(steps):
            s = want(s, dict, self.file, f"{self.p}steps[{i}]", "each step is an object")
            sid = want(s.get("id"), str, self.file, f"{self.p}steps[{i}].id", "each step has its API identifier")
            if sid in raw:
                raise self.fail(f"steps[{i}].id", f"duplicate step id '{sid}' (also steps[{raw[sid][0]}])",
                                "each step id appears once")
            raw[sid] = (i, s)
        first = self._starts(variants, raw)
        self.steps = list(raw)
        self.ids = step_ids(list(raw) + (["variants"] if self.variants else []), end_alias="end-step")
        for sid, (i, s) in raw.items():
            self.nodes += self._step(sid, i, s)
        if self.variants:
            self.nodes.insert(0, self._variant_split())
        else:
            _first_node(self.nodes, self.ids[first])
        jname, k = scenario_name(name), 2
        while jname in taken:
            jname, k = f"{scenario_name(name)}-{k}", k + 1
        journey = ImportedJourney(
            id=str(d.get("id") or name), name=jname, path=self.p or "$", entry=self._entry(jname),
            nodes=self.nodes, title=name, platform="braze", unmapped=self.unmapped)
        journey.exit_unmapped.append(Unmapped(
            self.p.rstrip(".") or "$",
            "the canvas's exit criteria are not in the /canvas/details export: add exit_when if the canvas has any"))
        return journey

    # -- graph -------------------------------------------------------------------------------
    def _starts(self, variants: list[Any], raw: dict[str, Any]) -> str:
        """The step customers start at. One variant with one first step starts there; with several
        variants or first steps ``self.variants`` lists them and a leading split (placeholder shares)
        divides customers over them."""
        firsts: list[tuple[str, str]] = []  # (variant label, first step)
        for v_i, v in enumerate(variants):
            v = want(v, dict, self.file, f"{self.p}variants[{v_i}]", "each variant is an object")
            got = v.get("first_step_ids")
            if got is None and v.get("first_step_id") is not None:
                got = [v.get("first_step_id")]
            got = want(got, list, self.file, f"{self.p}variants[{v_i}].first_step_ids",
                       "each variant lists the API identifiers of its first steps")
            label = str(v.get("name") or f"variant {v_i + 1}")
            for f_i, first in enumerate(got):
                want(first, str, self.file, f"{self.p}variants[{v_i}].first_step_ids[{f_i}]", "a step id")
                if first not in raw:
                    raise self.fail(f"variants[{v_i}].first_step_ids[{f_i}]", f"unknown step '{first}'",
                                    did_you_mean(first, list(raw))
                                    or f"it must be the id of one of steps[] ({_few(raw)})")
                firsts.append((label, first))
        if not raw:
            raise self.fail("steps", "the canvas has no steps", "export a canvas that has at least one step")
        self.variants = firsts if len(firsts) > 1 else []
        if not firsts:
            first = next(iter(raw))
            self.unmapped.append(Unmapped(f"{self.p}variants", f"no variant names a first step: customers start at "
                                                               f"the first listed step '{first}'"))
            return first
        return firsts[0][1]

    def _variant_split(self) -> Node:
        firsts, ids = self.variants, self.ids
        base, extra = divmod(100, len(firsts))
        weights = [(label, ids[first], float(base + (1 if i < extra else 0))) for i, (label, first) in enumerate(firsts)]
        node = RandomSplit(id=ids["variants"], path=f"{self.p}variants", name="Canvas variants",
                           source_type="variants", weights=weights)
        node.placeholder = ("the export does not carry the variants' percentages (nor which first step a customer "
                            "of a variant with several takes): set the shares")
        return node

    def _step(self, sid: str, i: int, s: dict[str, Any]) -> list[Node]:
        path = f"{self.p}steps[{i}]"
        stype = s.get("type")
        stype = want(stype, str, self.file, f"{path}.type", "each step has its type") if stype is not None else ""
        messages = s.get("messages") or {}
        messages = want(messages, dict, self.file, f"{path}.messages",
                        "messages maps message variation ids to messages")
        kind = STEP_KINDS.get(_norm(stype), "message" if (messages and not stype) else "")
        paths = self._paths(s, path)
        nid, name = self.ids[sid], str(s.get("name") or "")
        common = {"id": nid, "path": path, "name": name, "source_type": stype or "(no type)"}
        if kind in ("message", "full"):
            return self._message(sid, s, path, messages, paths, common, kind)
        nxt = paths[0][1] if paths else END
        if kind == "delay":
            named = delay_in_name(name)
            w = Wait(**common, next=nxt, seconds=named or CANVAS_DELAY)
            w.placeholder = (f"{format_duration(named)} taken from the step's name '{name}'; the export does not "
                             "carry the Delay's length: check it" if named else
                             "the export does not carry the Delay's length (1 day is a placeholder): set it")
            return [w]
        if kind in ("decision", "audience"):
            return [self._branch(kind, paths, path, common)]
        if kind == "experiment":
            return [self._experiment(paths, common)]
        if kind == "action" and len(paths) == 2:
            groups = [p for p in paths if not _is_else(p[0])] or paths[:1]
            other = [p for p in paths if p is not groups[0]][0]
            w = WaitUntilEvent(**common, event=safe_name(f"{groups[0][0] or 'action'}"), timeout=ACTION_WINDOW,
                               then=groups[0][1], on_timeout=other[1])
            w.placeholder = (f"the export does not carry the Action Paths trigger of group '{groups[0][0]}' nor its "
                             "evaluation window: set the event and the timeout")
            return [w]
        what = {"update": "User Update (the attribute changes are not in the export)",
                "action": f"Action Paths with {len(paths)} groups (triggers are not in the export)"}.get(
            kind, f"step type '{stype}' (not a type journeysim knows)")
        u = Unmodelled(**common, kind=what, outcomes=[(p[0] or "next", p[1], p[0]) for p in paths] or [("next", END, "")],
                       divides="the export does not say which customers take which path" if len(paths) > 1 else "")
        return [u]

    def _paths(self, s: dict[str, Any], path: str) -> list[tuple[str, str]]:
        """(path name, target step id) in the export's order; next_step_ids when next_paths is empty."""
        out: list[tuple[str, str]] = []
        nps = s.get("next_paths")
        if nps:
            nps = want(nps, list, self.file, f"{path}.next_paths", "next_paths is a list of {name, next_step_id}")
            for k, np_ in enumerate(nps):
                np_ = want(np_, dict, self.file, f"{path}.next_paths[{k}]", "each next path is {name, next_step_id}")
                target = np_.get("next_step_id")
                if target is not None:
                    want(target, str, self.file, f"{path}.next_paths[{k}].next_step_id", "a step id or null")
                out.append((str(np_.get("name") or ""), self._target(target, f"{path}.next_paths[{k}].next_step_id")))
            return out
        ids = s.get("next_step_ids") or []
        ids = want(ids, list, self.file, f"{path}.next_step_ids", "next_step_ids is a list of step ids")
        for k, t in enumerate(ids):
            want(t, str, self.file, f"{path}.next_step_ids[{k}]", "a step id")
            out.append(("", self._target(t, f"{path}.next_step_ids[{k}]")))
        return out

    def _target(self, target: str | None, where: str) -> str:
        if target is None:
            return END
        if target not in self.steps:
            raise ImportInputError(self.file, where, f"unknown step '{target}'",
                                   did_you_mean(target, self.steps)
                                   or f"it must be the id of one of steps[] ({_few(self.ids)})")
        return self.ids[target]

    def _message(self, sid: str, s: dict[str, Any], path: str, messages: dict[str, Any],
                 paths: list[tuple[str, str]], common: dict[str, Any], kind: str) -> list[Node]:
        targets = list(dict.fromkeys(t for _, t in paths)) or [END]
        nxt = targets[0]
        sends: list[Send] = []
        skipped: list[str] = []
        for mid, m in messages.items():
            m = want(m, dict, self.file, f"{path}.messages.{mid}", "each message is an object with a channel")
            ch = want(m.get("channel"), str, self.file, f"{path}.messages.{mid}.channel",
                      "each message names its channel (email, sms, ios_push, ...)")
            if m.get("type") == "control":
                skipped.append(f"{mid} (a control: nothing is sent)")
                continue
            mapped = channel_of(ch)
            if mapped is None:
                skipped.append(f"{mid} ({ch}: not a channel journeysim models)")
                continue
            subject = m.get("subject") if isinstance(m.get("subject"), str) else None
            sends.append(Send(id="", path=f"{path}.messages.{mid}", name=str(m.get("name") or common["name"]),
                              source_type=f"{common['source_type']} {ch}", channel=mapped,  # type: ignore[arg-type]
                              template=mid, subject=subject))
        if not sends:
            u = Unmodelled(**common, kind=f"{common['source_type']} step with no message journeysim models",
                           outcomes=[(p[0] or "next", p[1], p[0]) for p in paths] or [("next", END, "")])
            u.unmapped += [Unmapped(f"{path}.messages", f"message {x} not simulated") for x in skipped]
            return [u]
        # one Send per message, chained in the export's order: the first keeps the step's id
        out: list[Node] = []
        used = set(self.ids.values()) | {n.id for n in self.nodes}
        chain = [common["id"]]
        for k in range(1, len(sends)):
            cid, extra = f"{common['id']}-{k + 1}", 0
            while cid in used:
                extra += 1
                cid = f"{common['id']}-{k + 1}-{extra}"
            used.add(cid)
            chain.append(cid)
        for k, snd in enumerate(sends):
            snd.id = chain[k]
            snd.next = nxt if k == len(sends) - 1 else chain[k + 1]
            if k:
                snd.notes.append(f"message {k + 1} of step '{common['id']}' (Braze sends each channel of a "
                                 "Message step; journeysim chains them at the same instant)")
            out.append(snd)
        out[0].unmapped += [Unmapped(f"{path}.messages", f"message {x} not simulated") for x in skipped]
        if len(targets) > 1:  # the original editor: customers go on to the next step whose audience they match
            fork_id, extra = f"{common['id']}-next", 0
            while fork_id in used:
                extra += 1
                fork_id = f"{common['id']}-next-{extra}"
            out[-1].next = fork_id
            fork = Unmodelled(id=fork_id, path=f"{path}.next_step_ids", name="next steps",
                              source_type=f"{common['source_type']} next steps", kind="the choice of next step",
                              outcomes=[("next", t, "") for t in targets],
                              divides="the export does not say which customers go on to which next step")
            fork.placeholder = (f"step '{common['id']}' has {len(targets)} next steps and the export does not carry "
                                "their audiences: set the shares (or make this a branch)")
            out.append(fork)
        if kind == "full":
            out[0].unmapped.append(Unmapped(path, "a full step's delay, audience filters and send schedule are not in "
                                                  "the export: the messages are sent as soon as the step is reached"))
        return out

    def _branch(self, kind: str, paths: list[tuple[str, str]], path: str, common: dict[str, Any]) -> Branch:
        if not paths:
            raise self.fail(path[len(self.p):] + ".next_paths", "a split step with no next paths",
                            "a Decision Split has Yes and No paths; Audience Paths one per group")
        arms: list[Arm] = []
        default: Arm | None = None
        for k, (label, target) in enumerate(paths):
            if default is None and (_is_else(label) or (kind == "decision" and label.strip().lower() == "no")):
                default = Arm(key=label or f"path {k + 1}", target=target, label=label, path=f"{path}.next_paths[{k}]")
                continue
            arms.append(Arm(key=label or f"path {k + 1}", target=target, label=label, mapped=False,
                            verbatim="(the filter is not in the /canvas/details export)",
                            path=f"{path}.next_paths[{k}]"))
        b = Branch(**common, arms=arms, default=default)
        what = "Decision Split's filter" if kind == "decision" else "Audience Paths groups' filters"
        b.placeholder = (f"the export does not carry the {what}: write each arm's condition (until then no customer "
                         "takes an arm whose condition is 'false')")
        return b

    def _experiment(self, paths: list[tuple[str, str]], common: dict[str, Any]) -> Experiment:
        n = len(paths) or 1
        base, extra = divmod(100, n)
        weights = [(label or f"path {k + 1}", target, float(base + (1 if k < extra else 0)))
                   for k, (label, target) in enumerate(paths)] or [("next", END, 100.0)]
        e = Experiment(**common, weights=weights)
        e.placeholder = "the export does not carry the Experiment Paths' percentages: set the shares"
        return e

    def _entry(self, journey: str) -> Entry:
        st = str(self.d.get("schedule_type") or "")
        words = _norm(st)
        path = f"{self.p}schedule_type"
        event = safe_name(f"{journey}-entry")
        if "api" in words:
            source = f"schedule_type '{st}' (API-triggered entry)"
        elif "action" in words or "trigger" in words:
            source = f"schedule_type '{st}' (action-based entry)"
        else:
            source = f"schedule_type '{st or '(none)'}'"
        e = Entry("event", path, event=event, source=source)
        e.unmapped.append(Unmapped(path, f"the entry trigger and audience are not in the export: customers enter on a "
                                         f"generated event '{event}' (edit its population event)"))
        return e


def _is_else(label: str) -> bool:
    return _norm(label) in ("everyoneelse", "else", "other", "default")


def _few(ids: dict[str, Any]) -> str:
    keys = [k for k in ids if not k.startswith("__")]
    return ", ".join(keys[:5]) + (" ..." if len(keys) > 5 else "")


def _first_node(nodes: list[Node], start: str) -> None:
    """Move the node customers start at to the front (the writer starts a journey at its first step)."""
    for i, n in enumerate(nodes):
        if n.id == start:
            nodes.insert(0, nodes.pop(i))
            return


def import_braze(data: Any, file: str) -> list[ImportedJourney]:
    """One journey per canvas in ``data`` (a details response, a list of them or ``{canvases: [...]}``)."""
    if isinstance(data, dict) and "canvases" in data:
        items = want(data["canvases"], list, file, "canvases", "canvases is a list of /canvas/details responses")
        paths = [f"canvases[{i}]." for i in range(len(items))]
    elif isinstance(data, list):
        items, paths = data, [f"[{i}]." for i in range(len(data))]
    elif isinstance(data, dict):
        items, paths = [data], [""]
    else:
        raise ImportInputError(file, "", f"not a Braze canvas: got {shape(data)}", f"the file must be {EXPECTED}")
    if not items:
        raise ImportInputError(file, "canvases" if isinstance(data, dict) else "$", "no canvases in the file",
                               f"the file must be {EXPECTED}")
    out: list[ImportedJourney] = []
    names: set[str] = set()
    for item, p in zip(items, paths):
        item = want(item, dict, file, p.rstrip(".") or "$", "each canvas is a /canvas/details response object")
        if not any(k in item for k in ("name", "steps", "variants")):
            raise ImportInputError(file, p.rstrip("."), f"not a Braze canvas: got {shape(item)}",
                                   f"the file must be {EXPECTED}")
        if item.get("message") not in (None, "success"):
            raise ImportInputError(file, f"{p}message", f"the export says '{item.get('message')}', not 'success'",
                                   "export the canvas again; Braze returns 'success' when the export is complete")
        j = _Canvas(item, file, p).read(names)
        names.add(j.name)
        out.append(j)
    return out
