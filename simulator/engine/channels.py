"""From a journey's send decision to a delivered message: orchestrator policies, then the channel.

The orchestrator applies quiet hours (customer local time, hold or drop) and frequency caps (on its
own counters, optionally lagging; drop as Braze does, or defer), arbitrating same-instant requests
for one customer by journey priority. The channel system then checks consent **on its own replica**
(as real ESP suppression lists do), renders from the replica of the message's system, queues under
its throughput (a FIFO virtual clock: start = max(now, next free slot)), and delivers after the
delivery delay. A held or deferred send is re-checked against its journey's ``exit_when`` when it
is released (``exit_when.recheck: at_release``); a message in the channel's queue is not (the
channel system knows nothing of journeys). Delivered messages draw engagement (opens, clicks,
unsubscribes) that happen at the channel system and sync back like any other event.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from simulator.creative.rules import lacks_opt_out, length_detail, sms_detail
from simulator.engine.ledger import queue_for
from simulator.engine.policies import CapCounters, LocalClock, QuietHoursRule
from simulator.scenario.liquidenv import parse_template, simulated_now
from simulator.scenario.model import Message, Step
from simulator.engine.streams import Stream

if TYPE_CHECKING:  # pragma: no cover
    from simulator.engine import Engine
    from simulator.engine.journeys import Instance, JourneyRunner

__all__ = ["Orchestrator", "Channel", "SendRequest", "Renderer", "creative_detail", "template_fields"]


@dataclass(slots=True)
class SendRequest:
    """One message a journey decided to send."""

    runner: JourneyRunner
    customer: int
    step: Step
    message_name: str
    message: Message
    decided: float
    seq: int  # the customer's n-th send request (``req=n``)
    instance: int
    inst: Instance | None = None
    holds: int = 0
    released_from: str | None = None  # 'held' or 'deferred' while coming back from a hold/deferral

    @property
    def tag(self) -> str:
        """Suffix for the detail column that ties the records of one send together."""
        return f"req={self.seq}; inst={self.instance}"


class Channel:
    """A channel system: consent on its replica, rendering, throughput queue, delivery, engagement."""

    def __init__(self, engine: Engine, system: str, seed_base: int):
        spec = engine.scenario.systems[system]
        self.engine = engine
        self.system = system
        self.channel = spec.channel or ""
        self.spacing = 1.0 / spec.throughput if spec.throughput else 0.0
        self.delay = spec.delivery_delay
        self.queue = queue_for(engine, self.channel, self.spacing)  # None: no throughput limit (simulator/engine/ledger.py)
        size = engine.population.size  # every stream is the customer's own (simulator/engine/streams.py)
        self.delay_draws = Stream(seed_base, f"channel:{system}", size)
        self.behaviour_draws = Stream(seed_base, f"behaviour:{system}", size)
        self.behaviour = getattr(engine.scenario.population.behaviour, self.channel)
        self.unsubscribe = engine.scenario.population.behaviour.unsubscribe_per_message.get(self.channel, 0.0)
        self.consent_required = self.channel in engine.scenario.policies.consent_required
        hooks = spec.webhooks
        self.duplicate_rate = hooks.duplicate_rate if hooks is not None else 0.0
        self.duplicate_delay = hooks.duplicate_delay if hooks is not None else None
        self.webhook_draws = Stream(seed_base, f"webhooks:{system}", size)  # its own: other draws never shift

    def accept(self, req: SendRequest) -> None:
        eng = self.engine
        now = eng.now
        cid = eng.population.ids[req.customer]
        j, step = req.runner.name, req.step.id
        key = f"consent.{self.channel}"
        mine = eng.replicas[self.system].entry(req.customer, key)
        truth = eng.replicas.truth.entry(req.customer, key)
        if self.consent_required:
            eng.log.record(now, "consent-check", cid, journey=j, step=step, system=self.system, field=key,
                           value=mine[0], version=mine[1], truth_value=truth[0], truth_version=truth[1],
                           channel=self.channel, message=req.message_name, detail=req.tag)
            if not mine[0]:
                eng.log.record(now, "suppressed", cid, journey=j, step=step, system=self.system,
                               channel=self.channel, message=req.message_name,
                               detail=f"consent: {self.system} has {self.channel} opt-out; {req.tag}")
                return
        render_system = req.message.system or self.system
        source = eng.replicas[render_system]
        values = system_values(cid)
        for field in eng.template_fields(req.message_name):
            value, version = source.entry(req.customer, field)[:2]
            t_value, t_version = eng.replicas.truth.entry(req.customer, field)[:2]
            values[field] = value
            eng.log.record(now, "render", cid, journey=j, step=step, system=render_system, field=field, value=value,
                           version=version, truth_value=t_value, truth_version=t_version, channel=self.channel,
                           message=req.message_name, detail=req.tag)
        try:
            parts = eng.render.parts(req.message_name, values)
            body = "\n".join(parts.values())
        except Exception as exc:  # a template that fails at render time stops the send, as ESPs do
            eng.log.record(now, "suppressed", cid, journey=j, step=step, system=render_system,
                           channel=self.channel, message=req.message_name, detail=f"render: {exc}; {req.tag}")
            return
        delay = float(self.delay.sample(self.delay_draws.of(req.customer)))
        detail = f"chars={len(body)}; {creative_detail(req.message, body, values)}{length_detail(req.message, parts)}"
        if self.queue is None:  # no throughput limit: no wait, nothing shared with other customers
            self._queued(req, now, now, delay, detail)
        else:
            self.queue.submit(req.customer, lambda start: self._queued(req, now, start, delay, detail))

    def _queued(self, req: SendRequest, accepted: float, start: float, delay: float, detail: str) -> None:
        """The send has its place in the channel's queue: log it, deliver ``delay`` after ``start``."""
        eng = self.engine
        eng.log.record(eng.now, "queued", eng.population.ids[req.customer], journey=req.runner.name,
                       step=req.step.id, system=self.system, channel=self.channel, message=req.message_name,
                       detail=f"queue wait {eng.span(start - accepted)}; {detail}{req.tag}")
        eng.at(start + delay, lambda: self.deliver(req))

    def deliver(self, req: SendRequest) -> None:
        eng = self.engine
        now = eng.now
        cid = eng.population.ids[req.customer]
        late = req.message.valid_for is not None and now - req.decided > req.message.valid_for
        key = f"consent.{self.channel}"
        mine = eng.replicas[self.system].entry(req.customer, key)
        truth = eng.replicas.truth.entry(req.customer, key)
        eng.log.record(now, "delivered", cid, journey=req.runner.name, step=req.step.id, system=self.system,
                       field=key, value=mine[0], version=mine[1], truth_value=truth[0], truth_version=truth[1],
                       channel=self.channel, message=req.message_name,
                       detail=f"decided {eng.stamp(req.decided)}; after {eng.span(now - req.decided)}"
                              + ("; later than valid_for" if late else "") + f"; {req.tag}")
        if req.inst is not None:
            req.runner.status_at_delivery(req.inst, req.step, self.channel, req.message_name, req.tag)
        eng.occur(req.customer, f"{self.channel}_delivered", self.system)
        self._engage(req.customer)
        if eng.response is not None:  # rate lifts and fatigue (simulator/engine/response.py)
            eng.response.delivered(req.customer, req.message_name, self)

    def _engage(self, customer: int) -> None:
        """Opens, clicks and unsubscribes drawn from the scenario's behaviour model."""
        b, rng, eng, ch = self.behaviour, self.behaviour_draws.of(customer), self.engine, self.channel
        now = eng.now
        if b.open and rng.random() < b.open:
            opened = now + float(b.open_delay.sample(rng))
            eng.at(opened, lambda: self._emit(customer, f"{ch}_opened"))
            if b.click_given_open and rng.random() < b.click_given_open:
                clicked = opened + float(b.click_delay.sample(rng))
                eng.at(clicked, lambda: self._emit(customer, f"{ch}_clicked"))
        if b.click and rng.random() < b.click:
            clicked = now + float(b.click_delay.sample(rng))
            eng.at(clicked, lambda: self._emit(customer, f"{ch}_clicked"))
        if self.unsubscribe and rng.random() < self.unsubscribe:
            later = now + float(b.open_delay.sample(rng))
            eng.at(later, lambda: self._emit(customer, f"{ch}_unsubscribed", [(f"consent.{ch}", False)]))

    def _emit(self, customer: int, name: str, changes: list[tuple[str, object]] | None = None) -> None:
        """One engagement event at this channel system; with ``webhooks.duplicate_rate`` it is emitted again
        ``duplicate_delay`` later (at-least-once webhooks), the copy marked in its ``event`` record's detail."""
        eng = self.engine
        eng.occur(customer, name, self.system, changes or ())
        draws = self.webhook_draws.of(customer) if self.duplicate_rate else None
        if draws is not None and draws.random() < self.duplicate_rate:
            first = eng.now
            again = first + float(self.duplicate_delay.sample(draws))  # type: ignore[union-attr]
            eng.at(again, lambda: eng.occur(customer, name, self.system, changes or (),
                                            detail=f"duplicate webhook of {name} at {eng.stamp(first)}"))


class Orchestrator:
    """Send requests from journeys pass quiet hours and caps here, then go to the channel system."""

    def __init__(self, engine: Engine, clock: LocalClock):
        sc = engine.scenario
        pol = sc.policies
        self.engine = engine
        self.quiet = QuietHoursRule(pol.quiet_hours, clock)
        self.caps = CapCounters(pol.frequency_caps, clock, pol.cap_counter_lag)
        self.cap_specs = pol.frequency_caps
        self.on_cap = pol.on_cap
        self.rank = {name: i for i, name in enumerate(pol.priority)}
        self.channels = {ch: Channel(engine, system, engine.seed_base) for ch, system in sc.channel_systems.items()}
        self.inbox: list[SendRequest] = []
        #: customer -> send requests so far: ``req=N`` is the customer's N-th, so a request's id never
        #: depends on other customers (sharded runs); analyses key requests by (customer, req)
        self.seq: dict[int, int] = {}
        from simulator.engine.identity import resolver  # one person, several profiles (docs/identity.md)
        self.identity = resolver(engine, self)

    def request(self, runner: JourneyRunner, inst: Instance, step: Step, exit_evidence: dict[str, object]) -> None:
        """A journey decided to send: log the decision (with the exit evidence), arbitrate at the end of this instant."""
        eng = self.engine
        message = eng.scenario.messages[step.send]  # type: ignore[index]
        seq = self.seq[inst.customer] = self.seq.get(inst.customer, 0) + 1
        req = SendRequest(runner, inst.customer, step, step.send, message, eng.now, seq, inst.number,  # type: ignore[arg-type]
                          inst)
        eng.log.record(eng.now, "send", eng.population.ids[inst.customer], journey=runner.name, step=step.id,
                       system=runner.j.reads_from, **exit_evidence, channel=message.channel, message=step.send,
                       detail=req.tag)
        self._enqueue(req)

    def _release(self, req: SendRequest, phase: str) -> None:
        """A held or deferred send comes back: decide again (re-checking exit_when first if asked)."""
        req.released_from = phase
        self._enqueue(req)

    def _enqueue(self, req: SendRequest) -> None:
        if not self.inbox:
            self.engine.at_end_of_instant(self._flush)
        self.inbox.append(req)

    def _flush(self) -> None:
        batch, self.inbox = self.inbox, []
        batch.sort(key=lambda r: (r.customer, self.rank.get(r.runner.name, len(self.rank)), r.seq))
        for req in batch:
            self._decide(req)

    def _decide(self, req: SendRequest) -> None:
        eng = self.engine
        now = eng.now
        cid = eng.population.ids[req.customer]
        zone = int(eng.population.zone[req.customer])
        ch = req.message.channel
        common = dict(journey=req.runner.name, step=req.step.id, channel=ch, message=req.message_name)
        if req.released_from is not None:
            phase, req.released_from = req.released_from, None
            runner = req.runner
            if runner.recheck == "at_release" and req.inst is not None and runner.recheck_at_release(
                    req.inst, req.step, ch, req.message_name, phase, req.tag):
                return
        if self.identity is not None and self.identity.stops(req, now):
            return
        end = self.quiet.window_end(now, zone, ch)
        if end is not None:
            local = eng.clock.local(now, zone).strftime("%H:%M %Z")
            if self.quiet.action == "drop":
                eng.log.record(now, "suppressed", cid, **common,
                               detail=f"quiet-hours: {local} local; dropped; {req.tag}")
                return
            eng.log.record(now, "held", cid, **common,
                           detail=f"quiet-hours: {local} local; held until {eng.stamp(end)} UTC; {req.tag}")
            req.holds += 1
            eng.at(end, lambda: self._release(req, "held"))
            return
        who = req.customer if self.identity is None else self.identity.counted(req.customer)
        blocked = self.caps.blocking(who, ch, now, zone)
        if blocked is not None:
            index, release = blocked
            cap = self.cap_specs[index]
            text = f"frequency-cap: {cap.channel} max {cap.max} per {eng.span(cap.per)} ({cap.window})"
            if self.on_cap == "defer" and math.isfinite(release):
                eng.log.record(now, "deferred", cid, **common, detail=f"{text}; until {eng.stamp(release)}; {req.tag}")
                eng.at(release, lambda: self._release(req, "deferred"))
            else:
                eng.log.record(now, "suppressed", cid, **common, detail=f"{text}; dropped; {req.tag}")
            return
        self.caps.record(who, ch, now)
        self.channels[ch].accept(req)


def creative_detail(message: Message, body: str, values: dict[str, object]) -> str:
    """What the creative findings need from a rendered send, for its ``queued`` record's detail:
    ``'enc=GSM-7; seg=1; '`` for an SMS, plus ``'optout=missing; '`` for a promotional message without
    its unsubscribe link or STOP text (:mod:`simulator.creative.rules`); ``''`` otherwise."""
    out = f"{sms_detail(body)}; " if message.channel == "sms" else ""
    if lacks_opt_out(message, body, str(values["unsubscribe_url"])):
        out += "optout=missing; "
    return out


def system_values(customer_id: str) -> dict[str, object]:
    """The values a channel system itself passes to every template, besides the customer's fields.

    The engine, ``journeysim lint`` and the UAT re-render all start from these, so a template renders
    the same text everywhere."""
    return {"customer_id": customer_id, "unsubscribe_url": f"https://unsubscribe.invalid/{customer_id}"}


class Renderer:
    """Liquid templates of every message, parsed once; renders the body (and subject/title) of one send.

    Templates live in journeysim's Liquid environment (loop and output limits, no partials);
    ``clock()`` gives the simulated time that ``'now' | date`` renders (never the wall clock)."""

    def __init__(self, messages: dict[str, Message], clock: Callable[[], datetime] | None = None):
        self.templates = {name: {k: parse_template(t) for k, t in
                                 (("subject", m.subject), ("preheader", m.preheader), ("title", m.title),
                                  ("body", m.body)) if t}
                          for name, m in messages.items()}
        self.clock = clock

    def __call__(self, message: str, values: dict[str, object], now: datetime | None = None) -> str:
        """The rendered texts joined by newlines (their length feeds SMS segment checks). ``now`` (else
        ``clock()``) is the simulated time of the render; with neither, ``'now' | date`` is an error."""
        return "\n".join(self.parts(message, values, now).values())

    def parts(self, message: str, values: dict[str, object], now: datetime | None = None) -> dict[str, str]:
        """The rendered ``subject``, ``preheader``, ``title`` and ``body`` of one send (only those the message has)."""
        now = now if now is not None else self.clock() if self.clock is not None else None
        if now is None:
            return {k: t.render(**values) for k, t in self.templates[message].items()}
        with simulated_now(now):
            return {k: t.render(**values) for k, t in self.templates[message].items()}


def template_fields(message: Message) -> tuple[str, ...]:
    """Customer fields a message's templates read (Liquid static analysis), sorted."""
    names: set[str] = set()
    for text in (message.subject, message.preheader, message.title, message.body):
        if text:
            names |= set(parse_template(text).global_variables())
    return tuple(sorted(names))
