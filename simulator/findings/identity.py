"""One person, several profiles (docs/identity.md): identity-duplicate-send, identity-over-contact,
identity-consent-split.

Each compares the deliveries of one **person** across its profiles (customers.parquet's ``person``
column; without ``population.identity`` there is none and nothing is found). The root cause is the
identity resolution: when the profile involved was created and merged (``identity-profile`` and
``identity-merge`` records), or why it never was, against the time the send was decided.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from simulator.findings.base import Detector, finding, request_key, request_keys
from simulator.findings.contact import _zone_index, delivered
from simulator.findings.context import FindingContext
from simulator.engine.policies import LocalClock

__all__ = ["IdentityDuplicateSend", "IdentityOverContact", "IdentityConsentSplit"]

_READS = ("delivered", "send", "identity-profile", "identity-merge")


@dataclass(frozen=True)
class _Profile:
    created: float
    merged: float | None
    plan: str  # the creation record's detail after 'created; '


def _identity(ctx: FindingContext) -> _Identity:
    """The context's :class:`_Identity`, built once for the three detectors."""
    cached = getattr(ctx, "_identity_view", None)
    if cached is None:
        cached = ctx._identity_view = _Identity(ctx)  # type: ignore[attr-defined]
    return cached


class _Identity:
    """Persons, profiles and their merges, read once per detector pass."""

    def __init__(self, ctx: FindingContext):
        self.ctx = ctx
        spec = ctx.scenario.population.identity
        self.at = spec.merge.at if spec is not None and spec.merge is not None else None
        self.latency = repr(spec.merge.latency) if spec is not None and spec.merge is not None else ""
        people = ctx.customers["person"] if "person" in ctx.customers.columns else pd.Series(dtype=object)
        multi = people[people.map(people.value_counts()) > 1]
        self.person: dict[str, str] = dict(zip(multi.index, multi.to_numpy()))
        merged = {r.customer: float(r.t) for r in ctx.of("identity-merge").itertuples(index=False)}
        self.profiles: dict[str, _Profile] = {}
        for r in ctx.of("identity-profile").itertuples(index=False):
            plan = str(r.detail).split("created; ", 1)[-1]
            self.profiles[r.customer] = _Profile(float(r.t), merged.get(r.customer), plan)
        self._decided: dict[str, float] | None = None

    def deliveries(self) -> pd.DataFrame:
        """Delivered messages of persons with two or more profiles, with a ``person`` column."""
        d = delivered(self.ctx)
        d = d[d["customer"].isin(self.person.keys())].copy()
        d["person"] = d["customer"].map(self.person)
        return d

    def decided(self, row: Any) -> float:
        """When the send behind a delivered record was decided (its ``send`` record)."""
        if self._decided is None:
            sends = self.ctx.of("send")
            self._decided = dict(zip(request_keys(sends), sends["t"].astype(float)))
        return self._decided.get(request_key(row), float(row.t))

    def cause(self, person: str, profiles: Iterable[str], row: Any, after: str) -> tuple[str, dict[str, Any]]:
        """Why the merge did not make these profiles one customer before this send; and the extra columns.

        ``after`` ends the sentence of a profile merged before the decision (what the merge does not cover)."""
        ctx, decided = self.ctx, self.decided(row)
        journey = ctx.scenario.journey_by_name.get(row.journey)
        reads = journey.reads_from if journey is not None else None
        texts, latency = [], None
        involved = sorted(set(profiles))
        extras = [q for q in involved if q != person]
        apart = [q for q in extras if (self.profiles.get(q) is None or self.profiles[q].merged is None
                                        or self.profiles[q].merged > decided)]
        for q in apart or extras:  # the profiles that were not one customer with the person; else all
            info = self.profiles.get(q)
            if info is None:
                texts.append(f"{q} has no creation record")
                continue
            if info.merged is None and info.plan.startswith("merge at"):
                texts.append(f"{q} (created {ctx.stamp(info.created)}) was not merged into {person} before the run "
                             f"ended: its {info.plan.removesuffix(' after the end of the run')} falls after it")
                continue
            if info.merged is None:
                texts.append(f"{q} (created {ctx.stamp(info.created)}) was never merged into {person}: "
                             f"{info.plan.removeprefix('never merged: ')}")
                continue
            took = info.merged - info.created
            latency = took if latency is None else latency
            if info.merged > decided:
                texts.append(f"{q} was created {ctx.stamp(info.created)} and merged into {person} at {self.at} only at "
                             f"{ctx.stamp(info.merged)}, {ctx.span(took)} later (merge.latency {self.latency}); "
                             f"this send was decided {ctx.span(info.merged - decided)} before the merge")
            elif reads != self.at:
                texts.append(f"{q} was merged into {person} at {self.at} {ctx.stamp(info.merged)}, before this send "
                             f"was decided, but {row.journey} reads from {reads}, which does not see the merge")
            else:
                texts.append(f"{q} was merged into {person} at {self.at} {ctx.stamp(info.merged)}, before this send "
                             f"was decided, but {after}")
        extra = {"profiles": ", ".join(involved),
                 "merge_latency_seconds": None if latency is None else round(latency, 3)}
        return "; ".join(texts), extra


class IdentityDuplicateSend(Detector):
    kinds = ("identity-duplicate-send",)
    reads = _READS

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        ids = _identity(ctx)
        if not ids.person:
            return
        d = ids.deliveries().sort_values(["person", "message", "t", "seq"], kind="stable").reset_index(drop=True)
        # a profile's first delivery of a message the person had already received on another profile
        hits = ~d.duplicated(["person", "message", "customer"]) & d.duplicated(["person", "message"])
        if not hits.any():
            return
        first = d[~d.duplicated(["person", "message"])]
        earlier = {(p, m): (c, t, j) for p, m, c, t, j in
                   zip(first["person"], first["message"], first["customer"], first["t"], first["journey"])}
        for row in d[hits].itertuples(index=False):
            other, at, journey = earlier[(row.person, row.message)]
            text, extra = ids.cause(row.person, [other, row.customer], row,
                                    "journeys keep their own history per profile: the merge does not tell "
                                    "them the person already got this message")
            yield finding(ctx, "identity-duplicate-send", row,
                          f"{row.person} got {row.message} on {row.customer} after it reached them on "
                          f"{other} at {ctx.stamp(at)} ({journey})", text, **extra)


def _window_counts(group: np.ndarray, keys: np.ndarray, span: float) -> np.ndarray:
    """Per row (rows sorted by group, then key): rows of its group up to itself whose key is within
    ``span`` before its own (the row included)."""
    combined = group.astype(np.float64) * 1e10 + keys  # keys (seconds or day numbers) stay below 1e10
    lo = np.searchsorted(combined, combined - span, side="right")
    return np.arange(len(keys)) - lo + 1


class IdentityOverContact(Detector):
    kinds = ("identity-over-contact",)
    reads = _READS

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        caps = ctx.scenario.policies.frequency_caps
        ids = _identity(ctx)
        if not caps or not ids.person:
            return
        d = ids.deliveries()
        d = d[d.groupby("person")["customer"].transform("nunique") > 1]  # one profile: frequency-cap's business
        if d.empty:
            return
        zones, names = _zone_index(ctx, d)
        clock = LocalClock(ctx.scenario.start, names)
        for cap in caps:
            sub = d if cap.channel == "any" else d[d["channel"] == cap.channel]
            if sub.empty:
                continue
            if cap.window == "calendar":
                keys = np.array([clock.local_day(t, int(z)) for t, z in zip(sub["t"], zones[sub.index])], dtype=float)
                span = cap.per / 86400 - 1e-9
            else:
                keys, span = sub["t"].to_numpy(dtype=float), cap.per - 1e-9
            sub = sub.assign(key=keys).sort_values(["person", "key", "t", "seq"], kind="stable").reset_index(drop=True)
            person_code = pd.factorize(sub["person"])[0]
            total = _window_counts(person_code, sub["key"].to_numpy(), span)
            mine = sub.sort_values(["customer", "key", "t", "seq"], kind="stable")
            own_sorted = _window_counts(pd.factorize(mine["customer"])[0], mine["key"].to_numpy(), span)
            own = pd.Series(own_sorted, index=mine.index).sort_index().to_numpy()
            text = f"{cap.channel} max {cap.max} per {ctx.span(cap.per)} ({cap.window})"
            for j in np.flatnonzero((total > cap.max) & (own <= cap.max)).tolist():
                row = next(sub.iloc[[j]].itertuples(index=False))
                same = (person_code == person_code[j]) & (np.arange(len(sub)) <= j) & \
                    (sub["key"].to_numpy() > row.key - span)
                profiles = sorted(set(sub["customer"].to_numpy()[same]))
                cause, extra = ids.cause(row.person, profiles, row,
                                         "the merge counts the person only for sends decided after it; "
                                         "earlier sends were counted per profile")
                yield finding(ctx, "identity-over-contact", row,
                              f"{row.person} got {int(total[j])} messages across {', '.join(profiles)} within one "
                              f"window of the cap {text}; {row.customer} alone got {int(own[j])}",
                              cause, cap=text, **extra)


class IdentityConsentSplit(Detector):
    kinds = ("identity-consent-split",)
    reads = _READS + ("truth",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        ids = _identity(ctx)
        if not ids.person:
            return
        required = set(ctx.scenario.policies.consent_required)
        d = ids.deliveries()
        d = d[d["channel"].isin(required) & (d["truth_value"] == "true")]
        if d.empty:
            return
        truth = ctx.of("truth")
        truth = truth[truth["customer"].isin(ids.person.keys()) & truth["field"].str.startswith("consent.", na=False)]
        opted = set(truth.loc[truth["value"] == "false", "customer"].map(ids.person))
        d = d[d["person"].isin(opted)]  # only persons with an opt-out on some profile
        history: dict[tuple[str, str], list[tuple[int, float, str]]] = {}
        for r in truth.itertuples(index=False):
            history.setdefault((r.customer, r.field), []).append((int(r.seq), float(r.t), r.value))
        if not history:
            return
        members: dict[str, list[str]] = {}
        for c, p in ids.person.items():
            members.setdefault(p, []).append(c)
        for row in d.sort_values(["t", "seq"], kind="stable").itertuples(index=False):
            key = f"consent.{row.channel}"
            for other in sorted(members[row.person]):
                if other == row.customer:
                    continue
                past = [h for h in history.get((other, key), ()) if h[0] < row.seq]
                if past and past[-1][2] == "false":
                    out_at = past[-1][1]
                    cause, extra = ids.cause(row.person, [other, row.customer], row,
                                             f"{ids.at} did not hold the opt-out of {other} when the send was decided "
                                             f"(it reaches {ids.at} only over its sync links)")
                    yield finding(ctx, "identity-consent-split", row,
                                  f"{row.message} delivered to {row.customer} on {row.channel} although "
                                  f"{row.person} opted out on {other} at {ctx.stamp(out_at)}",
                                  f"the opt-out was made on {other} only; {cause}", **extra)
                    break
