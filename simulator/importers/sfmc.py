"""Salesforce Marketing Cloud Journey Builder -> IR.

Input: the Journey Specification JSON as ``GET /interaction/v1/interactions`` returns it, either
one journey or a paged collection ``{count, page, pageSize, items: [...]}``. Each mapping follows a
Salesforce page; docs/import.md has the table with the URLs. In short:

- ``triggers[0]`` -> entry: API/contact events are event entries, data-extension audiences
  (``EmailAudience``, ``AutomationAudience``) a daily segment on a generated membership flag;
- ``entryMode`` -> re-entry; ``exits[]`` -> ``exit_when`` checked ``after_waits`` (Salesforce:
  "When a contact meets any of the exit filter criteria upon leaving a wait activity, the contact
  is removed from the journey"); ``goals[]`` are kept as comments (the format has no goals);
- decision splits reading only Journey Data (``Event.`` keys) -> ``journey_data: entry``; mixed with
  Contact Data or engagement splits -> ``live``, the Journey Data reads reported (docs/import.md);
- ``activities[]`` by ``type``; ``outcomes[].next`` are the edges (no ``next``: the path ends).
"""

from __future__ import annotations

import json
from typing import Any

from simulator.importers.base import (
    ExportReader, ImportInputError, depth_first, did_you_mean, find_loop, safe_name, shape, step_ids, unique_names, want,
)
from simulator.importers.ir import (
    END, Arm, Branch, ConversionGoal, Entry, ExitCondition, ImportedJourney, Node, ProfileUpdate, RandomSplit,
    ReEntry, Send, Unmapped, Unmodelled, Wait,
)
from simulator.importers.sfmc_filter import field_name, filter_keys, translate_filter
from simulator.importers.writer import scenario_name

__all__ = ["import_sfmc", "ACTIVITY_TYPES", "TRIGGER_TYPES", "EXIT_CRITERIA_URL"]

EXPECTED = ("a Journey Builder interaction as GET /interaction/v1/interactions/{id} returns it (an object "
            "with 'key', 'triggers' and 'activities') or a page of them ({count, page, pageSize, items})")
JOURNEY_DATA_URL = ("https://help.salesforce.com/s/articleView?id=mktg.mc_jb_journey_contact_data.htm"
                    "&language=en_US&type=5")
EXIT_CRITERIA_URL = ("https://help.salesforce.com/s/articleView?id=mktg.mc_jb_define_exit_criteria.htm"
                     "&language=en_US&type=5")
_UNITS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400,
          "week": 604800, "weeks": 604800, "month": 30 * 86400, "months": 30 * 86400}
_WAITS = ("WAIT", "WAITBYDURATION")
_SENDS = {"EMAILV2": "email", "EMAIL": "email", "SMSSYNC": "sms", "PUSHNOTIFICATIONACTIVITY": "push"}
_UPDATES = ("UPDATECONTACTDATA", "DATAEXTENSIONUPDATE")
_STO = ("STOWAIT", "EINSTEINSTO")
_CUSTOM = {"REST": "custom REST activity", "RESTDECISION": "custom split (RestDecision)"}
ACTIVITY_TYPES = (*_WAITS, *_SENDS, "MULTICRITERIADECISION", "RANDOMSPLIT", "ENGAGEMENTDECISION", *_UPDATES,
                  *_STO, *_CUSTOM)
_EVENT_TRIGGERS = ("APIEVENT", "EVENT", "CONTACTEVENT")
_AUDIENCE_TRIGGERS = ("EMAILAUDIENCE", "AUTOMATIONAUDIENCE")
TRIGGER_TYPES = (*_EVENT_TRIGGERS, *_AUDIENCE_TRIGGERS, "TRANSACTIONAL")
_ENTRY_MODES = {
    "SINGLEENTRYACROSSALLVERSIONS": "never", "ONCEANDDONE": "never", "NOTALLOWED": "never",
    "MULTIPLEENTRIES": "any_time", "NOMULTIPLEENTRIES": "after_exit",
}
_STATS = {2: ("email_opened", "opened"), 3: ("email_clicked", "clicked")}


class _Journey(ExportReader):
    """Reads one interaction object at JSON path ``prefix`` (``""`` or ``items[3].``)."""

    expected = EXPECTED

    def __init__(self, data: dict[str, Any], file: str, prefix: str):
        super().__init__(file, prefix)
        self.d, self.p = data, prefix
        self.unmapped: list[Unmapped] = []
        self.exit_unmapped: list[Unmapped] = []
        self.transactional = str(data.get("definitionType", "")).lower() == "transactional"
        #: what each branch arm reads, translated or not: (path, kind, its ``Event.`` keys, node); kind
        #: ``journey`` (only ``Event.`` keys), ``contact`` (none), ``mixed`` or ``engagement`` (has_event)
        self.reads: list[tuple[str, str, tuple[str, ...], Node]] = []

    # -- journey level ------------------------------------------------------------------------
    def build(self) -> ImportedJourney:
        d = self.d
        key = str(d.get("key") or d.get("id") or "")
        title = str(d.get("name") or key)
        if not title:
            raise self.err("name", "the journey has neither 'name' nor 'key'", "export it again with the API")
        triggers = self.want(d.get("triggers"), list, "triggers", "a journey needs its entry source in 'triggers'")
        if not triggers:
            raise self.err("triggers", "no triggers: a journey without an entry source cannot run",
                           "export a journey whose entry source is configured")
        entry = self.entry(triggers)
        activities = self.want(d.get("activities"), list, "activities")
        if not activities:
            raise self.err("activities", "no activities: there is nothing to simulate",
                           "export a journey with at least one activity")
        nodes = self.activities(activities)
        name = scenario_name(title)
        if name == "imported" and key:  # a display name with no letters or digits we can keep
            name = scenario_name(key)
        journey = ImportedJourney(id=key or title, name=name, path=self.p.rstrip(".") or "$",
                                  entry=entry, nodes=nodes, title=title, platform="sfmc")
        journey.re_entry = self.re_entry()
        journey.exit_conditions = self.exits()
        journey.goals = self.goals()
        self.journey_data(journey)
        journey.unmapped = self.unmapped
        journey.exit_unmapped = self.exit_unmapped
        return journey

    def journey_data(self, journey: ImportedJourney) -> None:
        """``journey_data: entry`` when every branch read of the journey is Journey Data; otherwise live,
        with each Journey Data read reported (the format has one data source per journey)."""
        kept = {id(n) for n in journey.nodes}
        reads = [r for r in self.reads if id(r[3]) in kept]
        frozen = [r for r in reads if r[1] in ("journey", "mixed")]
        if not frozen:
            return
        live = [r for r in reads if r[1] not in ("journey",)]
        if not live:
            keys = dict.fromkeys(k for r in frozen for k in r[2])
            journey.journey_data = "entry"
            journey.journey_data_note = (
                "journey_data: entry because every decision split reads Journey Data, the contact's values when "
                f"it entered ({JOURNEY_DATA_URL}): branches read a snapshot of reads_from taken at entry. Fields: "
                + ", ".join(f"{k} -> {field_name(k)}" for k in keys) + ". Exit criteria read live (Contact Data)")
            return
        why = "; ".join(f"{p.removeprefix(self.p)} " + ("reads email engagement (has_event) live" if kind == "engagement"
                                                         else "reads Contact Data" if kind == "contact" else
                                                         "mixes Journey and Contact Data")
                        for p, kind, _, _ in live)
        journey.journey_data_note = (
            "journey_data: live: the scenario format has one data source per journey and not every branch reads "
            f"Journey Data ({why}); the Journey Data reads are reported")
        for p, _, keys, node in frozen:
            node.unmapped.append(_snapshot_note(p, keys, "; the format has one data source per journey "
                                                         "(journey_data) and this journey's other branches read "
                                                         "live values, so this one does too"))

    def entry(self, triggers: list[Any]) -> Entry:
        t = self.want(triggers[0], dict, "triggers[0]")
        ttype = str(t.get("type", ""))
        up = ttype.upper()
        meta = t.get("metaData") if isinstance(t.get("metaData"), dict) else {}
        args = t.get("arguments") if isinstance(t.get("arguments"), dict) else {}
        key = "entry"
        for where, holder, name in (("metaData", meta, "eventDefinitionKey"), ("arguments", args, "eventDefinitionKey"),
                                    ("", t, "key")):
            if holder.get(name) not in (None, ""):
                key = self.want(holder[name], str, f"triggers[0].{where + '.' if where else ''}{name}",
                                "the entry event key is a string, e.g. \"APIEvent-1a2b\"")
                break
        for i in range(1, len(triggers)):
            self.unmapped.append(Unmapped(f"{self.p}triggers[{i}]", "only the first trigger is imported"))
        path = f"{self.p}triggers[0]"
        source = f"SFMC {ttype or 'trigger'} '{key}'"
        if up in _AUDIENCE_TRIGGERS:
            flag = ("in_" + field_name(key).lower())[:100]
            e = Entry("segment", path, condition=flag, every=86400.0, generated_flags=(flag,), source=source)
            e.unmapped.append(Unmapped(path, f"{ttype} entry: who is in the audience is not in the export; a "
                                             f"generated flag '{flag}' (half the population) is checked daily"))
        elif up in _EVENT_TRIGGERS or "TRANSACTIONAL" in up:
            if "TRANSACTIONAL" in up:
                self.transactional = True
            e = Entry("event", path, event=safe_name(key), source=source)
        else:
            hint = did_you_mean(ttype, TRIGGER_TYPES)
            e = Entry("event", path, event=safe_name(key), source=source)
            e.unmapped.append(Unmapped(f"{path}.type", f"unknown trigger type {ttype!r}"
                                       f"{' (' + hint + ')' if hint else ''}; imported as an entry event "
                                       f"'{e.event}'"))
        conf = t.get("configurationArguments") if isinstance(t.get("configurationArguments"), dict) else {}
        crit = conf.get("criteria")
        if isinstance(crit, str) and crit.strip():
            e.unmapped.append(Unmapped(f"{path}.configurationArguments.criteria",
                                       "the entry filter is not applied: every customer the entry source "
                                       "brings in enters", " ".join(crit.split())))
        return e

    def re_entry(self) -> ReEntry | None:
        mode = self.d.get("entryMode")
        if mode is None:
            return None
        path = f"{self.p}entryMode"
        mapped = _ENTRY_MODES.get(str(mode).upper())
        if mapped is None:
            hint = did_you_mean(str(mode), ["SingleEntryAcrossAllVersions", "MultipleEntries", "NoMultipleEntries",
                                            "OnceAndDone"])
            r = ReEntry("never", path, f"entryMode {mode} (unknown)")
            r.unmapped.append(Unmapped(path, f"unknown entryMode {mode!r}{' (' + hint + ')' if hint else ''}: "
                                             "re-entry left off"))
            return r
        label = {"never": "no re-entry", "any_time": "re-entry at any time",
                 "after_exit": "re-entry only after exiting"}[mapped]
        return ReEntry(mapped, path, f"entryMode {mode}: {label}")

    def exits(self) -> list[ExitCondition]:
        out = []
        raw = self.d.get("exits")
        if raw is None:
            return out
        for i, x in enumerate(self.want(raw, list, "exits")):
            path = f"{self.p}exits[{i}]"
            x = self.want(x, dict, f"exits[{i}]")
            crit, where = self._criteria(x)
            if not crit:
                self.exit_unmapped.append(Unmapped(path, "exit criteria without a filter: ignored"))
                continue
            tr = translate_filter(crit)
            if tr.condition is None:
                self.exit_unmapped.append(Unmapped(f"{path}.{where}", "exit criteria not translated ("
                                              + "; ".join(tr.problems) + "): nobody exits early",
                                              " ".join(crit.split())))
                continue
            if tr.snapshot:
                self.exit_unmapped.append(_snapshot_note(f"{path}.{where}", tr.snapshot))
            out.append(ExitCondition(path, condition=tr.condition, check="after_waits",
                                     source="SFMC exit criteria, checked when a contact leaves a wait "
                                            f"(check: after_waits, {EXIT_CRITERIA_URL})"))
        return out

    def goals(self) -> list[ConversionGoal]:
        out = []
        raw = self.d.get("goals")
        if raw is None:
            return out
        for i, g in enumerate(self.want(raw, list, "goals")):
            path = f"{self.p}goals[{i}]"
            g = self.want(g, dict, f"goals[{i}]")
            crit, _ = self._criteria(g)
            tr = translate_filter(crit) if crit else None
            name = str(g.get("name") or g.get("key") or f"goal {i}")
            goal = ConversionGoal(path, name, tr.condition if tr else None,
                                  verbatim=" ".join(crit.split()) if crit else "")
            goal.unmapped.append(Unmapped(path, f"goal '{name}' is not simulated (the scenario format has no "
                                                "conversion goals); it is kept as a comment"))
            out.append(goal)
        return out

    @staticmethod
    def _criteria(obj: dict[str, Any]) -> tuple[str, str]:
        conf = obj.get("configurationArguments")
        if isinstance(conf, dict) and isinstance(conf.get("criteria"), str) and conf["criteria"].strip():
            return conf["criteria"], "configurationArguments.criteria"
        if isinstance(obj.get("criteria"), str) and obj["criteria"].strip():
            return obj["criteria"], "criteria"
        return "", ""

    # -- activities ---------------------------------------------------------------------------
    def activities(self, activities: list[Any]) -> list[Node]:
        keys: dict[str, int] = {}
        for i, a in enumerate(activities):
            a = self.want(a, dict, f"activities[{i}]")
            k = self.want(a.get("key"), str, f"activities[{i}].key", "every activity needs its 'key'")
            self.want(a.get("type"), str, f"activities[{i}].type", "every activity needs its 'type'")
            if k in keys:
                raise self.err(f"activities[{i}].key", f"duplicate activity key '{k}' (also activities[{keys[k]}])",
                               "activity keys must be unique in a journey")
            keys[k] = i
        ids = self._ids(list(keys))
        nodes = {k: self.activity(i, activities[i], ids, keys) for k, i in keys.items()}
        targeted = {t for n in nodes.values() for t in n.targets()}
        roots = [k for k in keys if ids[k] not in targeted] or [next(iter(keys))]
        order = depth_first(roots[0], nodes, ids, END)  # from the start, outcomes in the export's order
        seen = set(order)
        self._no_loop(nodes, ids, keys)
        for k in keys:
            if k not in seen:
                self.unmapped.append(Unmapped(f"{self.p}activities[{keys[k]}]",
                                              f"activity '{k}' cannot be reached from the start activity "
                                              f"'{roots[0]}': left out"))
        return [nodes[k] for k in order]

    def _no_loop(self, nodes: dict[str, Node], ids: dict[str, str], keys: dict[str, int]) -> None:
        """Journey Builder journeys cannot loop; a loop in the export is an error, not a scenario."""
        loop = find_loop({k: nodes[k] for k in keys}, {ids[k]: k for k in keys}, END)
        if loop:
            raise self.err(f"activities[{keys[loop[-2]]}].outcomes",
                           f"the activities form a loop ({' -> '.join(loop)})",
                           "Journey Builder journeys do not loop; export the journey again")

    def _ids(self, keys: list[str]) -> dict[str, str]:
        return step_ids(keys, "end-activity")

    def activity(self, i: int, a: dict[str, Any], ids: dict[str, str], keys: dict[str, int]) -> Node:
        path = f"{self.p}activities[{i}]"
        key, atype = a["key"], a["type"]
        up = atype.upper()
        conf = a.get("configurationArguments")
        conf = conf if isinstance(conf, dict) else {}
        outcomes = self._outcomes(i, a, ids, keys)
        base = {"id": ids[key], "path": path, "name": str(a.get("name") or ""), "source_type": atype,
                "next": outcomes[0][1] if outcomes else END}
        notes = [] if ids[key] == key else [f"SFMC key {key!r} is not a valid step id: renamed '{ids[key]}'"]
        node: Node
        if up in _WAITS:
            node = self.wait(i, conf, base)
        elif up in _SENDS:
            node = self.send(conf, base, _SENDS[up])
        elif up == "MULTICRITERIADECISION":
            node = self.decision(i, conf, outcomes, base)
        elif up == "RANDOMSPLIT":
            node = self.random_split(i, a, outcomes, base)
        elif up == "ENGAGEMENTDECISION":
            node = self.engagement(i, a, conf, outcomes, base)
        elif up in _UPDATES:
            node = self.update(i, a, conf, outcomes, base)
        elif up in _STO:
            node = Unmodelled(**base, kind="Einstein send-time optimisation (holds each contact until its "
                                           "predicted best hour within the next 24 hours)",
                              outcomes=[(k, t, lab) for k, t, lab in outcomes])
        elif up in _CUSTOM:
            node = Unmodelled(**base, kind=_CUSTOM[up], outcomes=[(k, t, lab) for k, t, lab in outcomes])
            url = self._url(a)
            if url:
                node.notes.append(f"calls {url}")
        else:
            hint = did_you_mean(atype, ACTIVITY_TYPES)
            node = Unmodelled(**base, kind=f"activity type '{atype}'{' (' + hint + ')' if hint else ''}",
                              outcomes=[(k, t, lab) for k, t, lab in outcomes])
        node.notes[:0] = notes
        if isinstance(node, (Wait, Send, ProfileUpdate)) and len(outcomes) > 1:
            node.unmapped.append(Unmapped(f"{path}.outcomes", f"{atype} has {len(outcomes)} outcomes; only the "
                                                              "first is followed"))
        return node

    def _outcomes(self, i: int, a: dict[str, Any], ids: dict[str, str],
                  keys: dict[str, int]) -> list[tuple[str, str, str]]:
        raw = a.get("outcomes", [])
        raw = self.want(raw, list, f"activities[{i}].outcomes")
        out = []
        for j, o in enumerate(raw):
            o = self.want(o, dict, f"activities[{i}].outcomes[{j}]")
            nxt = o.get("next")
            if nxt in (None, ""):
                target = END
            else:
                nxt = self.want(nxt, str, f"activities[{i}].outcomes[{j}].next")
                if nxt not in keys:
                    hint = did_you_mean(nxt, list(keys))
                    raise self.err(f"activities[{i}].outcomes[{j}].next",
                                   f"points to activity '{nxt}', which is not in activities",
                                   hint or f"use one of: {', '.join(keys)}")
                target = ids[nxt]
            meta = o.get("metaData") if isinstance(o.get("metaData"), dict) else {}
            out.append((str(o.get("key") or f"outcome-{j}"), target, str(meta.get("label") or "")))
        return out

    @staticmethod
    def _url(a: dict[str, Any]) -> str:
        for holder in (a.get("arguments"), a.get("configurationArguments")):
            if isinstance(holder, dict) and isinstance(holder.get("execute"), dict):
                url = holder["execute"].get("url")
                if isinstance(url, str):
                    return url
        return ""

    def wait(self, i: int, conf: dict[str, Any], base: dict[str, Any]) -> Node:
        cpath = f"activities[{i}].configurationArguments"
        raw = conf.get("waitDuration")
        if raw is None:
            raise self.err(f"{cpath}.waitDuration", "a wait needs waitDuration (and waitUnit)",
                           'e.g. "waitDuration": 1, "waitUnit": "DAYS" (waits until a date or an attribute '
                           'are not imported yet)')
        try:
            amount = float(raw)
        except (TypeError, ValueError):
            raise self.err(f"{cpath}.waitDuration", f"expected a number of units, got {raw!r}",
                           'e.g. "waitDuration": 1') from None
        if amount < 0 or amount != amount:
            raise self.err(f"{cpath}.waitDuration", f"expected a duration >= 0, got {raw!r}", "")
        unit = str(conf.get("waitUnit", "DAYS"))
        size = _UNITS.get(unit.lower())
        if size is None:
            hint = did_you_mean(unit, ["MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS"])
            raise self.err(f"{cpath}.waitUnit", f"unknown waitUnit {unit!r}",
                           hint or "use MINUTES, HOURS, DAYS, WEEKS or MONTHS")
        node = Wait(**base, seconds=amount * size)
        if unit.lower().startswith("month"):
            node.unmapped.append(Unmapped(f"{self.p}{cpath}.waitUnit", f"{amount:g} month(s) simulated as "
                                          f"{amount * 30:g} days (calendar months vary)"))
        if conf.get("specifiedTime") or conf.get("timeZoneId"):
            node.unmapped.append(Unmapped(f"{self.p}{cpath}.specifiedTime",
                                          f"the wait also runs until {conf.get('specifiedTime') or '?'} in "
                                          f"{conf.get('timeZoneId') or '?'}: only the duration is simulated"))
        return node

    def send(self, conf: dict[str, Any], base: dict[str, Any], channel: str) -> Send:
        ts = conf.get("triggeredSend") if isinstance(conf.get("triggeredSend"), dict) else {}
        subject = ts.get("emailSubject") if isinstance(ts.get("emailSubject"), str) else None
        template = next((str(ts[k]) for k in ("emailId", "r__asset_key", "r__email_key", "r__triggeredSend_key")
                         if ts.get(k) not in (None, "")), "")
        classes = " ".join(str(v) for k, v in ts.items() if "sendclassification" in k.lower()).lower()
        category = "transactional" if self.transactional or "transactional" in classes else "marketing"
        return Send(**base, channel=channel, template=template, subject=subject,  # type: ignore[arg-type]
                    category=category)

    def decision(self, i: int, conf: dict[str, Any], outcomes: list[tuple[str, str, str]],
                 base: dict[str, Any]) -> Branch:
        crit = conf.get("criteria") or {}
        crit = self.want(crit, dict, f"activities[{i}].configurationArguments.criteria",
                         "criteria maps each outcome key to its FilterDefinition XML")
        node = Branch(**base)
        for j, (key, target, label) in enumerate(outcomes):
            apath = f"{self.p}activities[{i}].configurationArguments.criteria.{key}"
            xml = crit.get(key)
            if not isinstance(xml, str) or not xml.strip():
                if node.default is None and j == len(outcomes) - 1:
                    node.default = Arm(key, target, label=label or "remainder",
                                       path=f"{self.p}activities[{i}].outcomes[{j}]")
                    continue
                node.arms.append(Arm(key, target, None, label, mapped=False, verbatim="(no criteria)", path=apath))
                continue
            tr = translate_filter(xml)
            keys = filter_keys(xml)
            journey = tuple(k for k in keys if k.startswith("Event."))
            if keys:  # the data source of an arm is its keys', translated or not (the user may write it)
                kind = "contact" if not journey else "journey" if len(journey) == len(keys) else "mixed"
                self.reads.append((apath, kind, journey, node))
            if tr.condition is None:
                node.arms.append(Arm(key, target, None, label, mapped=False,
                                     verbatim=" ".join(xml.split()) + "  [" + "; ".join(tr.problems) + "]",
                                     path=apath))
            else:
                node.arms.append(Arm(key, target, tr.condition, label, path=apath))
        for k in crit:
            if k not in {o[0] for o in outcomes}:
                node.unmapped.append(Unmapped(f"{self.p}activities[{i}].configurationArguments.criteria.{k}",
                                              f"criteria for '{k}', which is not an outcome key: ignored"))
        return node

    def random_split(self, i: int, a: dict[str, Any], outcomes: list[tuple[str, str, str]],
                     base: dict[str, Any]) -> RandomSplit:
        weights = []
        for j, (key, target, _) in enumerate(outcomes):
            args = a["outcomes"][j].get("arguments") or {}
            pct = self.want(args.get("percentage") if isinstance(args, dict) else None, (int, float),
                            f"activities[{i}].outcomes[{j}].arguments.percentage",
                            'each random-split outcome needs "arguments": {"percentage": N}')
            weights.append((key, target, float(pct)))
        total = sum(w for _, _, w in weights)
        if abs(total - 100) > 1e-6:
            raise self.err(f"activities[{i}].outcomes", f"random-split percentages add up to {total:g}, not 100",
                           "fix the percentages in Journey Builder and export again")
        return RandomSplit(**base, weights=weights)

    def engagement(self, i: int, a: dict[str, Any], conf: dict[str, Any], outcomes: list[tuple[str, str, str]],
                   base: dict[str, Any]) -> Branch:
        stat = conf.get("statsTypeId")
        try:
            stat_id = int(stat)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            stat_id = None
        ref = conf.get("refActivityCustomerKey") or "?"
        node = Branch(**base)
        yes = no = None
        for j, (key, target, label) in enumerate(outcomes):
            args = a["outcomes"][j].get("arguments") or {}
            when = args.get("when") if isinstance(args, dict) else None
            if when is True or str(when).lower() == "true":
                yes = (j, key, target, label)
            elif when is False or str(when).lower() == "false":
                no = (j, key, target, label)
            else:
                raise self.err(f"activities[{i}].outcomes[{j}].arguments.when",
                               f"expected true or false, got {json.dumps(when)}",
                               'an engagement split has one outcome with "when": true and one with "when": false')
        if yes is None or no is None:
            raise self.err(f"activities[{i}].outcomes", "an engagement split needs a 'when: true' and a "
                           "'when: false' outcome", "export the journey again")
        cpath = f"{self.p}activities[{i}].configurationArguments.statsTypeId"
        if stat_id in _STATS:
            event, verb = _STATS[stat_id]
            node.arms.append(Arm(yes[1], yes[2], f"has_event('{event}')", yes[3] or verb, path=cpath))
            self.reads.append((cpath, "engagement", (), node))
            node.unmapped.append(Unmapped(cpath, f"engagement split on email '{ref}' {verb}: has_event('{event}') "
                                                 "counts any email this customer " + verb + ", not only that one"))
        else:
            what = "bounced" if stat_id == 6 else f"statsTypeId {stat!r}"
            node.arms.append(Arm(yes[1], yes[2], None, yes[3] or what, mapped=False,
                                 verbatim=f"statsTypeId {stat} ({what}) of email '{ref}'", path=cpath))
        node.default = Arm(no[1], no[2], label=no[3] or "no", path=f"{self.p}activities[{i}].outcomes[{no[0]}]")
        return node

    def update(self, i: int, a: dict[str, Any], conf: dict[str, Any], outcomes: list[tuple[str, str, str]],
               base: dict[str, Any]) -> Node:
        args = a.get("arguments") if isinstance(a.get("arguments"), dict) else {}
        fld, value = conf.get("field"), args.get("value")
        if isinstance(fld, str) and fld.strip() and isinstance(value, (str, int, float, bool)):
            name = field_name(fld)
            node = ProfileUpdate(**base, fields={name: value})
            if name != fld:
                node.notes.append(f"field {fld!r} written as '{name}'")
            return node
        node = Unmodelled(**base, kind=f"{a['type']} without the documented configurationArguments.field and "
                                       "arguments.value", outcomes=outcomes)
        return node


def _snapshot_note(path: str, keys: tuple[str, ...], why: str = "") -> Unmapped:
    """Journey Data (``Event.`` keys) is the entry-time snapshot; here the scenario reads current values."""
    return Unmapped(path, f"reads Journey Data ({', '.join(keys)}), the values as they were when the contact "
                          f"entered ({JOURNEY_DATA_URL}); the scenario reads the current value at reads_from{why}")


def import_sfmc(data: Any, file: str) -> list[ImportedJourney]:
    """The journeys in an SFMC export (one, or every item of a paged collection)."""
    if isinstance(data, dict) and "items" in data:
        items = want(data["items"], list, file, "items", f"the file must be {EXPECTED}")
        if not items:
            raise ImportInputError(file, "items", "the collection has no journeys",
                                   "export a page that contains at least one journey")
        journeys = [_Journey(want(it, dict, file, f"items[{n}]", f"each item must be {EXPECTED}"), file,
                             f"items[{n}].").build() for n, it in enumerate(items)]
        unique_names(journeys)  # two journeys with one display name (also after cutting to 100 characters)
        return journeys
    if isinstance(data, dict) and ("activities" in data or "triggers" in data):
        return [_Journey(data, file, "").build()]
    raise ImportInputError(file, "", f"not an SFMC journey: got {shape(data)}", f"the file must be {EXPECTED}")
