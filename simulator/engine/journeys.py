"""The journey interpreter: entry, re-entry, waits, branches, splits, sends, updates and exit.

Each journey instance is a small state machine driven by callbacks on the SimPy clock (no generator
per customer: cheaper, and cancellation is a matter of bumping ``epoch``). Every decision reads the
journey's ``reads_from`` replica and is logged with the replica value/version it used **and** the
truth value/version at that instant, so detectors can compare the two exactly.

Exit checks (``exit_when.check``) reproduce vendor behaviour:

- ``continuous``: the orchestrator listens; the instance exits as soon as the exit event (or a
  field of the exit condition) arrives at ``reads_from``, and at entry.
- ``at_steps``: checked before every step, including the first (Customer.io re-evaluates exit
  conditions at actions that affect a person: messages and attribute updates).
- ``after_waits``: checked only when a wait or wait_until ends (SFMC Journey Builder checks exit
  criteria when a contact leaves a wait; Braze keeps a user inside a Delay until it ends).
- ``at_sends``: checked only when a send step is reached, just before it decides (Klaviyo: "before
  every email in the flow is sent"); not at entry, waits, branches, splits, updates or the end.

``journey_data: entry`` makes branch conditions read a snapshot of ``reads_from`` taken at entry
(SFMC Journey Data) instead of the live replica; exit checks, re-checks and sends still read the live
replica. The ``decision`` records then carry the snapshot's value and version (and truth's), with
``journey data frozen at entry`` in their detail, so the stale-read detector names that cause.

``max_duration`` ends an instance that long after its entry, wherever it is (a journey timeout,
docs/platforms.md); a wait or send due at that same instant does not run.

``exit_when.recheck`` says what happens to a message the orchestrator held (quiet hours) or
deferred (a cap): ``at_release`` (default) re-reads ``reads_from`` when it is released and drops it
(and exits the instance) if the replica says the exit is met; ``never`` sends it regardless. The
re-check is logged as ``exit-recheck`` with the replica's and truth's verdicts (docs/exits.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from simulator.engine.execwindows import Window
from simulator.engine.polling import park as park_polled
from simulator.projections.holdout import arm_of, holdout_arms, log_held_out
from simulator.scenario.conditions import Condition
from simulator.engine.segments import Joins, Recompute
from simulator.scenario.model import Journey, Step
from simulator.scenario.units import format_duration
from simulator.engine.streams import Stream
from simulator.engine.systems import Replica

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine import Engine

__all__ = ["Instance", "JourneyRunner"]

END = -1


class Instance:
    """One customer's pass through one journey."""

    __slots__ = ("customer", "number", "entered", "trigger", "epoch", "step", "wait_key", "frozen")

    def __init__(self, customer: int, number: int, entered: float, trigger: float):
        self.customer = customer
        self.number = number      # 1 for the first entry, 2 for a re-entry, ...
        self.entered = entered    # simulation time of entry
        self.trigger = trigger    # truth time of what triggered entry (exit events must come after it)
        self.epoch = 0            # bumped to cancel pending callbacks
        self.step = 0
        self.wait_key: str | None = None
        self.frozen: dict[str, tuple] | None = None  # journey_data: entry: the reads_from entries at entry


class JourneyRunner:
    """Runs one journey for every customer."""

    def __init__(self, engine: Engine, journey: Journey, seed_base: int):
        self.engine = engine
        self.j = journey
        self.name = journey.name
        self.steps = journey.steps
        self.index = {s.id: i for i, s in enumerate(journey.steps)}
        self.reads: Replica = engine.replicas[journey.reads_from]
        self.truth: Replica = engine.replicas.truth
        self.active: dict[int, Instance] = {}
        self.entries: dict[int, int] = {}
        self.last_entry: dict[int, float] = {}
        self.waiting: dict[str, dict[int, Instance]] = {}
        self.split_draws = Stream(seed_base, f"split:{journey.name}", engine.population.size)  # per customer
        self.held_out = holdout_arms(journey, engine.population.size, seed_base)  # None: no holdout
        self.entry_key = f"@{journey.entry.event}" if journey.entry.event else None
        ex = journey.exit_when
        self.check = ex.check if ex else None
        self.recheck = ex.recheck if ex else "never"
        self.exit_event = f"@{ex.event}" if ex and ex.event else None
        self.exit_cond: Condition | None = ex.when if ex else None
        self.exit_label = " or ".join(x for x in (ex.event, ex.when.source if ex.when else None) if x) if ex else None
        self.exit_keys: set[str] = set()
        if ex is not None:
            if self.exit_event:
                self.exit_keys.add(self.exit_event)
            if self.exit_cond is not None:
                self.exit_keys |= _keys(self.exit_cond)
        self.next_of = [self._default_next(i) for i in range(len(self.steps))]
        self.actions = [step.action for step in self.steps]  # Step.action searches the step's fields
        self.frozen_keys: tuple[str, ...] = ()
        if journey.journey_data == "entry":
            keys: set[str] = set()
            for step in journey.steps:
                for arm in step.branch or []:
                    if arm.when is not None:
                        keys |= _keys(arm.when)
            self.frozen_keys = tuple(sorted(keys))
        if any(st.wait_window is not None for st in journey.steps):
            from simulator.engine.windows import WindowClocks

            self.windows = WindowClocks(engine.clock, engine.population.zone)
        if journey.max_duration is not None:
            self.max_duration_reason = f"max_duration reached ({format_duration(journey.max_duration)} after entry)"
        # segments recomputed every N (replaces self.reads by a refreshed copy), entry on joining: simulator/engine/segments.py
        self.recompute = Recompute(self, journey.recompute_every) if journey.recompute_every is not None else None
        self.joins = Joins() if journey.entry.enter == "join" else None
        self.exec_window = Window(self, journey.execution_window, seed_base) if journey.execution_window else None

    # ------------------------------------------------------------------ routing

    def _target(self, name: str | None, default: int) -> int:
        if name is None:
            return default
        return END if name == "end" else self.index[name]

    def _default_next(self, i: int) -> int:
        fallthrough = i + 1 if i + 1 < len(self.steps) else END
        return self._target(self.steps[i].jump, fallthrough)

    # ------------------------------------------------------------------ events from the sync network

    def on_change(self, customer: int, key: str, now: float) -> None:
        """``key`` changed for ``customer`` at this journey's ``reads_from`` system."""
        if self.recompute is not None and self.recompute.defer(customer, key):
            return  # seen at the next recompute
        inst = self.active.get(customer)
        if inst is not None:
            if self.check == "continuous" and key in self.exit_keys and self._exit_check(inst, "change"):
                return
            if inst.wait_key == key:
                step = self.steps[inst.step]
                self._leave_wait(inst)
                self.engine.log.record(now, "wait-end", self.cid(customer), journey=self.name, step=step.id,
                                       system=self.j.reads_from, field=key, detail="event arrived")
                if self.check == "after_waits" and self._exit_check(inst, "after wait"):
                    return
                self.run(inst, self._target(step.wait_until.then, self.next_of[inst.step]))  # type: ignore[union-attr]
                return
        if key == self.entry_key:
            trigger = self.reads.get_value(customer, key)
            self.enter(customer, trigger if trigger is not None else now, f"event {self.j.entry.event}")

    # ------------------------------------------------------------------ entry

    def cid(self, customer: int) -> str:
        return self.engine.population.ids[customer]

    def can_enter(self, customer: int, now: float) -> str | None:
        """Why the customer cannot enter now, or None."""
        identity = self.engine.orchestrator.identity
        if identity is not None and (why := identity.entry_block(self.j.reads_from, customer, now)):
            return why
        if customer in self.active:
            return "already in the journey"
        if customer in self.last_entry:
            cooldown = self.j.cooldown
            if cooldown is None:
                return "re-entry is off"
            if now - self.last_entry[customer] < cooldown:
                return f"re-entry cooldown until {self.engine.stamp(self.last_entry[customer] + cooldown)}"
        caps = getattr(self.engine, "journey_caps", None)  # policies.journey_caps (simulator/engine/journeycaps.py)
        return caps.why(self, customer, now) if caps is not None else None

    def enter(self, customer: int, trigger: float, why: str) -> None:
        now = self.engine.now
        blocked = self.can_enter(customer, now)
        if blocked:
            self.engine.log.record(now, "entry-skip", self.cid(customer), journey=self.name,
                                   system=self.j.reads_from, detail=blocked)
            return
        number = self.entries.get(customer, 0) + 1
        self.entries[customer] = number
        self.last_entry[customer] = now
        if getattr(self.engine, "journey_caps", None) is not None:
            self.engine.journey_caps.record(self, customer, now)
        inst = Instance(customer, number, now, trigger)
        if self.frozen_keys:
            inst.frozen = {key: self.reads.entry(customer, key) for key in self.frozen_keys}
        self.active[customer] = inst
        self.engine.log.record(now, "entry", self.cid(customer), journey=self.name, system=self.j.reads_from,
                               value=number, detail=why, **arm_of(self.held_out, customer))
        if self.j.max_duration is not None:  # scheduled before any step, so it runs first at a tie
            self.engine.at(now + self.j.max_duration, lambda: self.finish(inst, self.max_duration_reason))
        if self.check == "continuous" and self._exit_check(inst, "entry"):
            return
        self.run(inst, 0)

    def segment_members(self, cond: Condition | None) -> np.ndarray:
        """Customers the ``reads_from`` replica puts in the segment now (all customers if no condition)."""
        n = self.engine.population.size
        shard = self.engine.shard
        if cond is None:
            return np.arange(n) if shard is None else np.flatnonzero(shard.members)
        columns = self.engine.columns(self.j.reads_from, _keys(cond), self.reads)
        if not columns:
            columns = {"__n": np.zeros(n)}
        inside = cond.evaluate_many(columns, self.engine.now)
        return np.flatnonzero(inside if shard is None else inside & shard.members)

    def enter_segment(self, cond: Condition | None, why: str) -> None:
        now = self.engine.now
        members = self.segment_members(cond)
        if self.joins is not None:
            members = self.joins.since_last(members, self.engine.population.size)
        for customer in members.tolist():
            if self.can_enter(customer, now) is None:
                if cond is not None:
                    self._log_reads(customer, cond, "decision", None, True, label=f"entry: {cond.source}")
                self.enter(customer, now, why)

    # ------------------------------------------------------------------ steps

    def run(self, inst: Instance, i: int) -> None:
        """Execute steps from index ``i`` until one waits or the journey ends."""
        eng = self.engine
        log = eng.log
        while True:
            if i == END:
                self.finish(inst, "completed")
                return
            step = self.steps[i]
            inst.step = i
            if self.check == "at_steps" and self._exit_check(inst, "before step"):
                return
            if self.check == "at_sends" and step.send is not None and self._exit_check(inst, "at send"):
                return
            if self.exec_window is not None and step.action in ("send", "update") and self.exec_window.defer(inst, i):
                return  # outside the execution window: runs at the next opening (simulator/engine/execwindows.py)
            cid = self.cid(inst.customer)
            evidence = self.exit_evidence(inst)
            log.record(eng.now, "step", cid, journey=self.name, step=step.id, system=self.j.reads_from,
                       **evidence, detail=self.actions[i])
            if step.wait is not None:
                inst.epoch += 1
                epoch = inst.epoch
                eng.at(eng.now + step.wait, lambda: self._after_wait(inst, epoch, self.next_of[i]))
                return
            if step.wait_window is not None:
                inst.epoch += 1
                epoch = inst.epoch
                release = self.windows.release(step.wait_window, inst.customer, eng.now)
                eng.at(release, lambda: self._after_wait(inst, epoch, self.next_of[i]))
                return
            if step.wait_until is not None:
                if step.wait_until.poll is not None:  # looked at only every poll (simulator/engine/polling.py)
                    return park_polled(self, inst, step, i)
                key = f"@{step.wait_until.event}"
                inst.wait_key = key
                inst.epoch += 1
                self.waiting.setdefault(key, {})[inst.customer] = inst
                if step.wait_until.timeout is not None:
                    epoch = inst.epoch
                    target = self._target(step.wait_until.on_timeout, self.next_of[i])
                    eng.at(eng.now + step.wait_until.timeout, lambda: self._timeout(inst, epoch, target))
                return
            if step.branch is not None:
                i = self._branch(inst, step, i)
                continue
            if step.split is not None:
                i = self._split(inst, step)
                continue
            if step.send is not None:
                if self.held_out is not None and self.held_out[inst.customer]:
                    log_held_out(self, inst, step, evidence)  # a holdout customer: nothing is sent
                elif eng.without and (ch := eng.scenario.messages[step.send].channel) in eng.without:
                    log_held_out(self, inst, step, evidence, why=f"what-if run without {ch}")  # run --impact
                else:
                    eng.orchestrator.request(self, inst, step, evidence)
            elif step.update is not None:
                eng.net.write(step.at, inst.customer, list(step.update.items()),  # type: ignore[arg-type]
                              detail=f"update by journey {self.name} step {step.id}")
                if inst.customer not in self.active or self.active[inst.customer] is not inst:
                    return  # the update made the customer exit (continuous check at the same system)
            i = self.next_of[i]

    def _after_wait(self, inst: Instance, epoch: int, nxt: int) -> None:
        if inst.epoch != epoch or self.active.get(inst.customer) is not inst:
            return
        if self.check == "after_waits" and self._exit_check(inst, "after wait"):
            return
        self.run(inst, nxt)

    def _timeout(self, inst: Instance, epoch: int, target: int) -> None:
        if inst.epoch != epoch or self.active.get(inst.customer) is not inst:
            return
        step = self.steps[inst.step]
        self._leave_wait(inst)
        self.engine.log.record(self.engine.now, "wait-end", self.cid(inst.customer), journey=self.name,
                               step=step.id, field=f"@{step.wait_until.event}", detail="timeout")  # type: ignore[union-attr]
        if self.check == "after_waits" and self._exit_check(inst, "after wait"):
            return
        self.run(inst, target)

    def _leave_wait(self, inst: Instance) -> None:
        if inst.wait_key is not None:
            self.waiting.get(inst.wait_key, {}).pop(inst.customer, None)
            inst.wait_key = None
        inst.epoch += 1

    def _branch(self, inst: Instance, step: Step, i: int) -> int:
        for arm_index, arm in enumerate(step.branch or []):
            if arm.else_ is not None:
                self.engine.log.record(self.engine.now, "decision", self.cid(inst.customer), journey=self.name,
                                       step=step.id, system=self.j.reads_from, detail=f"arm {arm_index}: else")
                return self._target(arm.else_, END)
            view = _Frozen(inst.frozen) if inst.frozen is not None else self.reads.view(inst.customer)
            taken = bool(arm.when(view, self.engine.now))  # type: ignore[misc]
            truth_taken = bool(arm.when(self.truth.view(inst.customer), self.engine.now))  # type: ignore[misc]
            label = f"arm {arm_index}: {arm.when.source}"  # type: ignore[union-attr]
            if inst.frozen is not None:
                label += f"; journey data frozen at entry {self.engine.stamp(inst.entered)}"
            self._log_reads(inst.customer, arm.when, "decision", step.id, taken, truth_taken,  # type: ignore[arg-type]
                            label, frozen=inst.frozen)
            if taken:
                return self._target(arm.goto, END)
        return i + 1 if i + 1 < len(self.steps) else END

    def _split(self, inst: Instance, step: Step) -> int:
        draw = self.split_draws.of(inst.customer).random() * 100.0
        total = 0.0
        chosen = None
        for target, weight in (step.split or {}).items():
            total += weight
            if weight > 0 and draw < total:
                chosen = target
                break
        if chosen is None:  # rounding at the top end
            chosen = [t for t, w in (step.split or {}).items() if w > 0][-1]
        self.engine.log.record(self.engine.now, "split", self.cid(inst.customer), journey=self.name, step=step.id,
                               value=chosen, detail=f"draw {draw:.3f} of 100")
        return self._target(chosen, END)

    def _log_reads(self, customer: int, cond: Condition, kind: str, step: str | None, result: bool,
                   truth_result: bool | None = None, label: str | None = None,
                   frozen: dict[str, tuple] | None = None) -> None:
        """One decision record per key the condition read: replica value/version vs truth (the entry
        snapshot's value/version instead of the replica's when ``frozen`` is given)."""
        eng = self.engine
        cid = self.cid(customer)
        if truth_result is None:
            truth_result = bool(cond(self.truth.view(customer), eng.now))
        detail = f"{label or cond.source} -> {str(result).lower()} (truth: {str(truth_result).lower()})"
        for key in sorted(_keys(cond)):
            value, version = (frozen[key] if frozen is not None else self.reads.entry(customer, key))[:2]
            truth_value, truth_version = self.truth.entry(customer, key)[:2]
            eng.log.record(eng.now, kind, cid, journey=self.name, step=step, system=self.j.reads_from, field=key,
                           value=value, version=version, truth_value=truth_value, truth_version=truth_version,
                           detail=detail)

    # ------------------------------------------------------------------ exit

    def _exit_status(self, inst: Instance) -> tuple[bool, bool]:
        """(replica says exit is met, truth says exit is met)."""
        if self.exit_label is None:
            return (False, False)
        now = self.engine.now
        replica_met = truth_met = False
        if self.exit_event is not None:
            seen = self.reads.entry(inst.customer, self.exit_event)[0]
            happened = self.truth.entry(inst.customer, self.exit_event)[0]
            replica_met = seen is not None and seen > inst.trigger
            truth_met = happened is not None and happened > inst.trigger
        if self.exit_cond is not None:
            replica_met = replica_met or bool(self.exit_cond(self.reads.view(inst.customer), now))
            truth_met = truth_met or bool(self.exit_cond(self.truth.view(inst.customer), now))
        return replica_met, truth_met

    def _cause_key(self, customer: int) -> str | None:
        """The key of the exit condition behind a verdict: the first (by name) that ``reads_from`` holds an
        older version of (the sync cause of a disagreement), else the one truth changed last; None if none
        changed."""
        keys = sorted(self.exit_keys)
        stale = [k for k in keys if self.reads.version(customer, k) < self.truth.version(customer, k)]
        if stale:
            return stale[0]
        changed = [(self.truth.entry(customer, k)[2], k) for k in keys if self.truth.version(customer, k) > 0]
        return max(changed)[1] if changed else None

    def exit_evidence(self, inst: Instance) -> dict[str, object]:
        """Log columns saying whether exit_when is met on the replica vs truth (empty without exit_when).

        For an event exit the field is the event key (``@purchase``) with its replica and truth versions,
        so detectors can trace the sync path of the missing occurrence.
        """
        if self.exit_label is None:
            return {}
        replica_met, truth_met = self._exit_status(inst)
        key = self.exit_event
        if self.exit_cond is not None:
            # a condition names the key that made truth meet it (its sync path is the root cause);
            # an event exit met in truth names the event
            event_met = key is not None and truth_met and self._event_met(inst, self.truth)
            if not event_met:
                key = self._cause_key(inst.customer) if truth_met or replica_met else None
        if key is None:
            return {"field": "exit_when", "value": replica_met, "truth_value": truth_met}
        return {"field": key, "value": replica_met, "truth_value": truth_met,
                "version": self.reads.entry(inst.customer, key)[1],
                "truth_version": self.truth.entry(inst.customer, key)[1]}

    def _event_met(self, inst: Instance, replica: Replica) -> bool:
        seen = replica.get_value(inst.customer, self.exit_event)  # type: ignore[arg-type]
        return seen is not None and seen > inst.trigger

    def recheck_at_release(self, inst: Instance, step: Step, channel: str, message: str, phase: str,
                           tag: str) -> bool:
        """A held or deferred send is released: re-read exit_when on ``reads_from`` (logged as
        ``exit-recheck``). True if the exit is met there: the send is dropped and the instance exits."""
        eng = self.engine
        now = eng.now
        cid = self.cid(inst.customer)
        evidence = self.exit_evidence(inst)
        eng.log.record(now, "exit-recheck", cid, journey=self.name, step=step.id, system=self.j.reads_from,
                       **evidence, channel=channel, message=message,
                       detail=f"re-checked at release ({phase}); exit_when: {self.exit_label}; {tag}")
        if not evidence["value"]:
            return False
        eng.log.record(now, "suppressed", cid, journey=self.name, step=step.id, system=self.j.reads_from,
                       **evidence, channel=channel, message=message,
                       detail=f"exit_when met at release ({self.exit_label}); {tag}")
        self.finish(inst, f"exit_when met at release re-check ({self.exit_label})")
        return True

    def status_at_delivery(self, inst: Instance, step: Step, channel: str, message: str, tag: str) -> None:
        """At a delivery: if truth meets exit_when, log ``exit-status`` (replica vs truth verdict and the
        key) so the detector can tell in which phase the exit slipped past; nothing otherwise."""
        if self.exit_label is None:
            return
        evidence = self.exit_evidence(inst)
        if not evidence["truth_value"]:
            return
        eng = self.engine
        eng.log.record(eng.now, "exit-status", self.cid(inst.customer), journey=self.name, step=step.id,
                       system=self.j.reads_from, **evidence, channel=channel, message=message,
                       detail=f"at delivery; exit_when: {self.exit_label}; {tag}")

    def _exit_check(self, inst: Instance, when: str) -> bool:
        """Check exit_when on the replica; log the check; exit if met. Returns True when the customer left."""
        evidence = self.exit_evidence(inst)
        replica_met = bool(evidence["value"])
        eng = self.engine
        step = self.steps[inst.step].id if inst.step < len(self.steps) else None
        eng.log.record(eng.now, "exit-check", self.cid(inst.customer), journey=self.name, step=step,
                       system=self.j.reads_from, **evidence, detail=f"{self.check} check {when}; "
                                                                    f"exit_when: {self.exit_label}")
        if replica_met:
            self.finish(inst, f"exit_when met ({self.exit_label})")
            return True
        return False

    def finish(self, inst: Instance, reason: str) -> None:
        if self.active.get(inst.customer) is not inst:
            return
        self._leave_wait(inst)
        del self.active[inst.customer]
        step = self.steps[inst.step].id if 0 <= inst.step < len(self.steps) else None
        self.engine.log.record(self.engine.now, "exit", self.cid(inst.customer), journey=self.name, step=step,
                               system=self.j.reads_from, detail=reason)

    def close(self) -> None:
        """At the end of the run: log every instance still inside, and what it waits for."""
        eng = self.engine
        for customer in sorted(self.active):
            inst = self.active[customer]
            step = self.steps[inst.step]
            waiting = inst.wait_key or ("wait" if step.wait is not None or step.wait_window is not None else None)
            eng.log.record(eng.now, "active-at-end", self.cid(customer), journey=self.name, step=step.id,
                           system=self.j.reads_from, field=waiting, detail=step.action)


class _Frozen:
    """A condition's view of a journey-data snapshot (``key -> replica entry``), like ``Replica.view``."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, tuple]):
        self._entries = entries

    def get(self, key: str, default: object = None) -> object:
        hit = self._entries.get(key)
        value = hit[0] if hit is not None else None
        return default if value is None else value

    def __getitem__(self, key: str) -> object:
        return self.get(key)


def _keys(cond: Condition) -> set[str]:
    """Replica keys a condition reads: fields, ``@event`` times and ``consent.<channel>`` flags."""
    return set(cond.fields) | {f"@{e}" for e in cond.events} | {f"consent.{c}" for c in cond.channels}
