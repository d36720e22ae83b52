"""The frozen scenario model: the scenario format's keys, types and defaults in one declared place.

Pydantic models with ``extra='forbid'`` (unknown keys are errors) and ``frozen=True``. Values are
parsed into the units the engine uses: durations and latencies in **seconds** (float), times as
aware UTC datetimes, throughputs in messages per second, clock times in seconds after local
midnight, distributions as sampler objects, conditions as compiled :class:`Condition` objects.
Cross-references (a ``goto`` to a step, a ``send`` of a message, a field a journey reads) are
checked afterwards by :mod:`simulator.scenario.semantics`, which sees the whole scenario.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.errors import ConditionError
from simulator.scenario.conditions import Condition, compile_condition
from simulator.scenario.distributions import Distribution, DistributionError, parse_distribution
from simulator.scenario.rates import RateByAttribute, parse_rate, rate_spec
from simulator.scenario.experiments import holdout_text, is_projection_gate, parse_holdout
from simulator.scenario.units import (
    parse_clock,
    parse_duration,
    parse_percentage_or_probability as parse_probability,
    parse_throughput,
    parse_time,
    parse_timezone,
)
from simulator.scenario.vocabulary import CHANNELS, FINDING_KINDS, SEVERITIES, SYSTEM_KINDS

__all__ = [
    "Scenario",
    "Population",
    "Identity",
    "IdentityMerge",
    "Behaviour",
    "ChannelBehaviour",
    "ExogenousEvent",
    "Response",
    "Fatigue",
    "System",
    "SyncLink",
    "Outage",
    "Policies",
    "QuietHours",
    "FrequencyCap",
    "Message",
    "Journey",
    "Entry",
    "ReEntry",
    "ExitWhen",
    "Step",
    "BranchArm",
    "WaitUntil",
    "Gate",
    "Limits",
    "Projections",
]


def _parsed(parse, kind: str, schema: dict[str, Any], serialize=None):
    """An annotated type whose validator is ``parse`` with errors turned into clean messages.

    ``serialize`` turns the parsed object back into what a user writes (for schema defaults and dumps).
    """

    def validate(value: Any) -> Any:
        try:
            return parse(value)
        except DistributionError as exc:
            raise PydanticCustomError(kind, "{msg}", {"msg": str(exc), "subpath": tuple(exc.subpath)}) from None
        except ConditionError as exc:
            raise PydanticCustomError(kind, "{msg}", {"msg": exc.message, "column": exc.column or 0}) from None
        except (ValueError, TypeError, OverflowError) as exc:
            raise PydanticCustomError(kind, "{msg}", {"msg": str(exc)}) from None

    if serialize is None:
        return PlainValidator(validate), WithJsonSchema(schema)
    return PlainValidator(validate), PlainSerializer(serialize), WithJsonSchema(schema)


_DURATION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?\s*[smhdw]\s*)+$", "examples": ["90s", "30m", "4h", "2d", "1w"]},
        {"type": "number", "minimum": 0},
    ],
    "description": "A duration: seconds as a number, or a string such as 90s, 30m, 4h, 2d, 1w, 1h30m.",
}
_DIST_SCHEMA = {
    "anyOf": [
        {"type": ["string", "number"], "description": "a fixed value"},
        {"type": "object", "minProperties": 1, "maxProperties": 1, "properties": {
            "fixed": {"type": ["string", "number"]},
            "exponential": {"type": "object", "properties": {"mean": {}}, "required": ["mean"]},
            "uniform": {"type": "object", "properties": {"low": {}, "high": {}}, "required": ["low", "high"]},
            "lognormal": {"type": "object", "properties": {"median": {}, "p95": {}, "mu": {}, "sigma": {}}},
            "normal": {"type": "object", "properties": {"mean": {}, "sd": {}}, "required": ["mean", "sd"]},
            "empirical": {"type": "array", "minItems": 1},
            "choice": {"type": "object", "additionalProperties": {"type": "number"}},
            "bernoulli": {"type": "number", "minimum": 0, "maximum": 1},
            "faker": {"type": "string"},
        }, "additionalProperties": False},
    ],
    "description": "A distribution as a one-key map, e.g. {lognormal: {median: 20m, p95: 3h}}.",
}

Duration = Annotated[float, *_parsed(parse_duration, "duration", _DURATION_SCHEMA)]
Time = Annotated[datetime, *_parsed(parse_time, "time", {
    "type": "string", "format": "date-time", "description": "ISO 8601 time with a zone, e.g. 2026-12-01T00:00:00Z"},
    lambda d: d.isoformat())]
Clock = Annotated[int, *_parsed(parse_clock, "clock", {
    "type": "string", "pattern": r"^\d{1,2}:\d{2}$", "description": "a local clock time HH:MM, quoted"},
    lambda c: f"{c // 3600:02d}:{c % 3600 // 60:02d}" + (f":{c % 60:02d}" if c % 60 else ""))]
Throughput = Annotated[float, *_parsed(parse_throughput, "throughput", {
    "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?/[smhd]$"}, {"type": "number", "exclusiveMinimum": 0}],
    "description": "messages per unit: 50/s, 3000/m, 100/h, 10000/d"})]
Probability = Annotated[float, *_parsed(parse_probability, "probability", {
    "anyOf": [{"type": "number", "minimum": 0, "maximum": 1}, {"type": "string", "pattern": r"^\d+(\.\d+)?%$"}],
    "description": "a probability from 0 to 1, or a percentage such as 35%"})]
TimeZoneName = Annotated[str, *_parsed(lambda v: str(parse_timezone(v).key), "timezone", {
    "type": "string", "description": "an IANA time zone such as America/New_York"})]
DurationDist = Annotated[Distribution, *_parsed(lambda v: parse_distribution(v, "duration"), "distribution",
                                                _DIST_SCHEMA, lambda d: d.to_spec())]
AttributeDist = Annotated[Distribution, *_parsed(lambda v: parse_distribution(v, "attribute"), "distribution",
                                                 _DIST_SCHEMA, lambda d: d.to_spec())]
HoldoutShare = Annotated[float, *_parsed(parse_holdout, "holdout", {
    "anyOf": [{"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*%\s*$"}, {"type": "number", "exclusiveMinimum": 0,
                                                                         "exclusiveMaximum": 100}],
    "description": "the share of entrants held out as a control group, e.g. 10% (docs/projections.md)"},
    holdout_text)]
ConditionText = Annotated[Condition, *_parsed(compile_condition, "condition", {
    "type": "string", "description": "a condition, e.g. stage == 'B' and lifetime_value > 100"}, lambda c: c.source)]

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=100)]
FieldName = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=100)]
Channel = Literal["email", "sms", "push", "in_app", "whatsapp"]
assert Channel.__args__ == CHANNELS  # type: ignore[attr-defined]
Scalar = str | int | float | bool | None


class Strict(BaseModel):
    """Base of every scenario model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, arbitrary_types_allowed=True)


# --------------------------------------------------------------------------- population


class Fatigue(Strict):
    """Opt-outs that grow with frequency (docs/response.md): the k-th delivery on this channel to a
    customer within the trailing ``window`` (this one included) makes them opt out with probability
    ``unsubscribe[k-1]`` (the last entry for every k beyond the list), ``delay`` after the delivery."""

    window: Duration
    unsubscribe: list[Probability] = Field(min_length=1)
    delay: DurationDist = Field(default_factory=lambda: parse_distribution(0))

    @field_validator("window")
    @classmethod
    def _positive_window(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("the fatigue window must be longer than 0s, e.g. window: 7d")
        return v


class ChannelBehaviour(Strict):
    """How customers react to a delivered message on one channel."""

    open: Probability = 0.0
    open_delay: DurationDist = Field(default_factory=lambda: parse_distribution({"lognormal": {"median": "2h", "p95": "20h"}}))
    click: Probability = 0.0
    click_delay: DurationDist = Field(default_factory=lambda: parse_distribution({"exponential": {"mean": "10m"}}))
    click_given_open: Probability = 0.0
    fatigue: Fatigue | None = None


class Behaviour(Strict):
    """Reactions to delivered messages, per channel, and fatigue-driven opt-outs."""

    email: ChannelBehaviour = ChannelBehaviour()
    sms: ChannelBehaviour = ChannelBehaviour()
    push: ChannelBehaviour = ChannelBehaviour()
    in_app: ChannelBehaviour = ChannelBehaviour()
    whatsapp: ChannelBehaviour = ChannelBehaviour()
    unsubscribe_per_message: dict[Channel, Probability] = {}


class Once(Strict):
    probability: Probability = 1.0
    at: DurationDist


RatePerDay = Annotated[float | RateByAttribute, *_parsed(parse_rate, "rate", {
    "anyOf": [{"type": "number", "minimum": 0},
              {"type": "object", "properties": {"by": {"type": "string"}, "values": {
                  "type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
                  "default": {"type": "number", "minimum": 0}}, "required": ["by", "values"],
               "additionalProperties": False}],
    "description": "occurrences per customer per day: a number, or {by: ATTRIBUTE, values: {VALUE: RATE}, "
                   "default: RATE} (docs/response.md)"}, rate_spec)]


class Poisson(Strict):
    rate_per_day: RatePerDay


class Response(Strict):
    """After each delivery matching ``to`` (a message or a channel), the event's rate is multiplied
    by ``multiply`` for ``for`` (docs/response.md)."""

    to: Name
    multiply: float = Field(ge=0, allow_inf_nan=False)
    for_: Duration = Field(alias="for")

    @field_validator("for_")
    @classmethod
    def _positive_for(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("'for' must be longer than 0s, e.g. for: 3d")
        return v


class After(Strict):
    event: Name
    probability: Probability = 1.0
    delay: DurationDist = Field(default_factory=lambda: parse_distribution(0))


class ExogenousEvent(Strict):
    """Customer behaviour outside the journeys: happens at ``origin`` and changes truth at once."""

    name: Name
    origin: Name
    once: Once | None = None
    poisson: Poisson | None = None
    after: After | None = None
    when: ConditionText | None = None
    sets: dict[FieldName, Scalar] = {}
    opts_out: list[Channel] = []
    opts_in: list[Channel] = []
    #: rate lifts after deliveries; only on ``poisson`` events (docs/response.md)
    response: list[Response] = []

    @model_validator(mode="after")
    def _one_timing(self) -> ExogenousEvent:
        given = [k for k in ("once", "poisson", "after") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an event needs exactly one of 'once', 'poisson' or 'after' to say when it happens"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.response and self.poisson is None:
            raise ValueError(f"'response' lifts the rate of a poisson event; this one is '{given[0]}' "
                             "(write poisson: {rate_per_day: ...} or remove 'response')")
        return self


class IdentityMerge(Strict):
    """Identity resolution (docs/identity.md): at system ``at``, an extra profile is merged into the person
    ``latency`` after it was created, except a share ``never`` that is never merged."""

    at: Name
    latency: DurationDist = Field(default_factory=lambda: parse_distribution(0))
    never: Probability = 0.0


class Identity(Strict):
    """One person, several profiles (docs/identity.md): ``profiles`` is the distribution of the number of
    profiles per person (whole numbers >= 1), ``merge`` where and when they are merged (None: never)."""

    profiles: AttributeDist
    merge: IdentityMerge | None = None

    @field_validator("profiles")
    @classmethod
    def _whole_profiles(cls, v: Distribution) -> Distribution:
        values = [x for x, _w in v.options] if v.kind == "choice" else [v.value] if v.kind == "fixed" else None
        if values is None:
            raise ValueError(f"profiles: expected {{choice: {{1: 0.9, 2: 0.1}}}} or {{fixed: 2}} (whole numbers of "
                             f"profiles per person), got a {v.kind} distribution")
        for x in values:
            if isinstance(x, str) and x.strip().isdigit():  # JSON (scenario.json) keeps map keys as text
                x = int(x)
            if isinstance(x, bool) or not isinstance(x, (int, float)) or x != int(x) or x < 1:
                raise ValueError(f"profiles: {x!r} is not a number of profiles; expected whole numbers >= 1, "
                                 "e.g. {choice: {1: 0.9, 2: 0.1}}")
        if v.kind == "choice":  # whole numbers, also when read back from JSON (keys as text)
            return replace(v, options=tuple((int(x), w) for x, w in v.options))
        return replace(v, value=float(int(float(v.value))))


class PhoneAddress(Strict):
    """Phone area codes and postal addresses of generated customers (docs/creative.md, "Jurisdiction"):
    ``regions`` per time zone (address state or province shares), ``movers`` (share whose phone area
    code is from another region than their address) and ``mover_area_codes`` (movers' area codes)."""

    regions: dict[TimeZoneName, dict[str, Probability]] = {}
    movers: Probability = 0.0
    mover_area_codes: dict[str, Probability] = {}

    @field_validator("mover_area_codes", mode="before")
    @classmethod
    def _code_keys(cls, v: Any) -> Any:
        return {str(k): x for k, x in v.items()} if isinstance(v, dict) else v


class Population(Strict):
    size: int = Field(default=1000, ge=0)
    timezones: dict[TimeZoneName, Probability] = {}
    attributes: dict[FieldName, AttributeDist] = {}
    consent: dict[Channel, Probability] = {}
    behaviour: Behaviour = Behaviour()
    events: list[ExogenousEvent] = []
    #: one person, several profiles (docs/identity.md); None: one profile per person
    identity: Identity | None = None
    #: phone area codes and addresses for compliance jurisdiction (docs/creative.md); None: not modelled
    jurisdiction: PhoneAddress | None = None


# --------------------------------------------------------------------------- systems and sync


class Webhooks(Strict):
    """Engagement webhooks delivered more than once (docs/semantics.md, "Duplicate engagement webhooks"):
    each open, click or unsubscribe is, with probability ``duplicate_rate``, emitted a second time
    ``duplicate_delay`` later."""

    duplicate_rate: Probability = 0.0
    duplicate_delay: DurationDist = Field(default_factory=lambda: parse_distribution(0))


class System(Strict):
    kind: Literal["source", "crm", "cdp", "orchestrator", "warehouse", "channel", "other"]
    channel: Channel | None = None
    throughput: Throughput | None = None
    delivery_delay: DurationDist = Field(default_factory=lambda: parse_distribution(0))
    webhooks: Webhooks | None = None
    owns: list[FieldName] = []
    description: str = ""

    @model_validator(mode="after")
    def _channel_fields(self) -> System:
        if self.kind == "channel" and self.channel is None:
            raise ValueError(f"a channel system needs 'channel:' (one of {', '.join(CHANNELS)})")
        if self.kind != "channel" and self.channel is not None:
            raise ValueError(f"'channel:' is only for kind: channel (this system is kind: {self.kind})")
        if self.kind != "channel" and self.throughput is not None:
            raise ValueError("'throughput:' is only for kind: channel")
        if self.kind != "channel" and self.webhooks is not None:
            raise ValueError("'webhooks:' is only for kind: channel")
        return self


class Outage(Strict):
    """A window ``[start, start + duration)`` when a link is down (docs/semantics.md, "Outages").

    ``queue``: changes made while down are kept; a batch link makes a catch-up run at the end.
    ``drop``: changes made while down are lost; a batch link still makes the catch-up run.
    ``skip`` (batch only): changes are kept, missed runs are not caught up (the next scheduled run).
    """

    start: Time
    duration: Duration
    on_outage: Literal["queue", "drop", "skip"] = "queue"


class SyncLink(Strict):
    """One direction of data flow between two systems (timing: docs/semantics.md)."""

    name: Name | None = None
    from_: Name = Field(alias="from")
    to: Name
    fields: list[str] = Field(min_length=1)
    mode: Literal["stream", "batch"] = "stream"
    latency: DurationDist = Field(default_factory=lambda: parse_distribution(0))
    every: Duration | None = None
    offset: Duration = 0.0
    at: Clock | list[Clock] | None = None
    timezone: TimeZoneName = "UTC"
    duration: DurationDist = Field(default_factory=lambda: parse_distribution(0))
    failure_rate: Probability = 0.0
    retry_after: Duration | None = None
    outages: list[Outage] = []
    apply: Literal["arrival", "version"] = "arrival"

    @model_validator(mode="after")
    def _mode_keys(self) -> SyncLink:
        given = self.model_fields_set
        if self.mode == "batch":
            if (self.every is None) == (self.at is None):
                raise ValueError("a batch link needs exactly one of 'every' (e.g. every: 4h) or 'at' (e.g. at: \"02:00\")")
            if self.every is not None and self.every <= 0:
                raise ValueError("'every' must be longer than 0s")
            if self.at is not None and "offset" in given:
                raise ValueError("'offset' goes with 'every'; with 'at' write the clock times you mean")
            if "latency" in given:
                raise ValueError("'latency' is for stream links; a batch link's delay is its schedule plus 'duration'")
        else:
            wrong = sorted({"every", "offset", "at", "duration", "timezone"} & given)
            if wrong:
                raise ValueError(f"{', '.join(wrong)} only apply to mode: batch (this link is mode: stream)")
        if self.from_ == self.to:
            raise ValueError(f"a link cannot sync '{self.to}' to itself")
        return self

    @property
    def label(self) -> str:
        """The link's display name: its ``name`` or ``from->to``."""
        return self.name or f"{self.from_}->{self.to}"

    @property
    def clock_times(self) -> tuple[int, ...]:
        """Daily run times (seconds after midnight in ``timezone``) of an ``at`` batch link."""
        if self.at is None:
            return ()
        return tuple(sorted(self.at if isinstance(self.at, list) else [self.at]))


# --------------------------------------------------------------------------- policies


class QuietHours(Strict):
    from_: Clock = Field(alias="from")
    to: Clock
    channels: list[Channel] = ["sms", "push"]
    action: Literal["hold", "drop"] = "hold"


class FrequencyCap(Strict):
    channel: Literal["any", "email", "sms", "push", "in_app", "whatsapp"]
    max: int = Field(ge=0)
    per: Duration
    window: Literal["sliding", "calendar"] = "sliding"

    @model_validator(mode="after")
    def _calendar_days(self) -> FrequencyCap:
        if self.per <= 0:
            raise ValueError("'per' must be longer than 0s, e.g. per: 1d")
        if self.window == "calendar" and self.per % 86400:
            raise ValueError("a calendar cap counts whole local days: 'per' must be 1d, 2d, 7d ...; "
                             "use window: sliding for other lengths")
        return self


class JourneyCap(Strict):
    """A cap on journey entries per customer across journeys (docs/semantics.md, "Journey caps"):
    ``entries``: at most ``max`` entries into the listed journeys per ``per``; ``concurrent``: at most
    ``max`` of them at once. ``starts_after``: the cap suppresses nothing before that long after the start."""

    kind: Literal["entries", "concurrent"] = "entries"
    max: int = Field(ge=0)
    per: Duration | None = None
    #: ``sliding``: the last ``per``; ``calendar``: whole UTC days (the day of the entry and the ``per`` - 1 before)
    window: Literal["sliding", "calendar"] = "sliding"
    #: the journeys the cap counts and limits (empty: every journey)
    journeys: list[Name] = []
    starts_after: Duration = 0.0

    @model_validator(mode="after")
    def _shape(self) -> JourneyCap:
        if self.kind == "entries":
            if self.per is None or self.per <= 0:
                raise ValueError("an entries cap needs 'per' (longer than 0s), e.g. {max: 3, per: 1d}")
            if self.window == "calendar" and self.per % 86400:
                raise ValueError("a calendar cap counts whole UTC days: 'per' must be 1d, 2d, 7d ...")
        else:
            if self.per is not None or "window" in self.model_fields_set:
                raise ValueError("a concurrent cap counts the journeys a customer is in now; it takes no 'per' or "
                                 "'window'")
        return self


class Policies(Strict):
    consent_required: list[Channel] = list(CHANNELS)
    quiet_hours: QuietHours | None = None
    frequency_caps: list[FrequencyCap] = []
    collision_window: Duration | None = None
    priority: list[Name] = []
    on_cap: Literal["drop", "defer"] = "drop"
    cap_counter_lag: Duration = 0.0
    #: caps on journey entries per customer (entries per period, or journeys at once); docs/semantics.md
    journey_caps: list[JourneyCap] = []


# --------------------------------------------------------------------------- messages and journeys


class Message(Strict):
    channel: Channel
    subject: str | None = None
    #: email only: the preview text inbox lists show after the subject (docs/creative.md)
    preheader: str | None = None
    title: str | None = None
    body: str = ""
    tags: list[str] = []
    valid_for: Duration | None = None
    system: Name | None = None
    #: SMS only: the most segments one send may take (default 1 for promotional SMS, else no limit).
    max_segments: int | None = Field(default=None, ge=1)
    #: The most characters the rendered subject (email) / title (push) may have; no default.
    max_subject_chars: int | None = Field(default=None, ge=1)
    max_title_chars: int | None = Field(default=None, ge=1)
    max_preheader_chars: int | None = Field(default=None, ge=1)


class Entry(Strict):
    """How customers enter: ``{event}``, ``{segment, every}`` or ``{at, segment}``."""

    event: Name | None = None
    segment: ConditionText | None = None
    every: Duration | None = None
    at: Time | None = None
    #: segment entries: ``member`` (default) every evaluation enters whoever the segment holds (re-entry
    #: rules permitting); ``join`` only those who were not in it at the previous evaluation
    #: (docs/semantics.md, "Entering on joining a segment")
    enter: Literal["member", "join"] = "member"

    @model_validator(mode="after")
    def _form(self) -> Entry:
        forms = "use {event: NAME}, {segment: CONDITION, every: 4h} or {at: TIME, segment: CONDITION}"
        if self.event is not None:
            if self.every is not None or self.at is not None:
                raise ValueError(f"an event entry takes no 'every' or 'at'; {forms}")
        elif self.at is not None:
            if self.every is not None:
                raise ValueError(f"a scheduled entry ('at') takes no 'every'; {forms}")
        elif self.segment is not None:
            if self.every is None:
                raise ValueError(f"a segment entry needs 'every' (how often the segment is re-evaluated); {forms}")
            if self.every <= 0:
                raise ValueError("'every' must be longer than 0s")
        else:
            raise ValueError(f"entry needs 'event', 'segment' or 'at'; {forms}")
        if self.enter == "join" and self.kind != "segment":
            raise ValueError("'enter: join' is for segment entries ({segment: CONDITION, every: 4h}); an event or "
                             "scheduled entry has no previous evaluation to compare with")
        return self

    @property
    def kind(self) -> str:
        return "event" if self.event else ("scheduled" if self.at else "segment")


def _window_zone(value: Any) -> str:
    if value == "recipient":
        return value
    try:
        return str(parse_timezone(value).key)
    except ValueError as exc:
        raise ValueError(f"{exc}; or 'recipient' for each customer's own zone") from None


class ExecutionWindow(Strict):
    """When a journey's actions (send and update steps) may run (docs/platforms.md, "Execution windows"):
    an action reached outside is rescheduled to the next opening, plus a uniform ``jitter``."""

    from_: Clock = Field(alias="from")
    to: Clock
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = ["mon", "tue", "wed", "thu", "fri", "sat",
                                                                           "sun"]
    #: an IANA zone (the account's zone, as HubSpot) or ``recipient`` (each customer's zone); required
    timezone: Annotated[str, *_parsed(_window_zone, "timezone", {
        "type": "string", "description": "an IANA time zone such as America/New_York, or 'recipient'"})]
    jitter: Duration = 0.0

    @model_validator(mode="after")
    def _shape(self) -> ExecutionWindow:
        if not self.from_ < self.to:
            raise ValueError("an execution window runs from 'from' to a later 'to' on the same day, "
                             "e.g. {from: '09:00', to: '17:00'}")
        if not self.days:
            raise ValueError("'days' needs at least one day, e.g. [mon, tue, wed, thu, fri]")
        if len(set(self.days)) != len(self.days):
            raise ValueError("'days' names a day twice")
        if self.jitter >= self.to - self.from_:
            raise ValueError("'jitter' must be shorter than the window ('to' - 'from')")
        return self


class ReEntry(Strict):
    cooldown: Duration = 0.0


class ExitWhen(Strict):
    event: Name | None = None
    when: ConditionText | None = None
    #: when exit_when is read on ``reads_from`` (docs/exits.md): ``at_sends`` only when a send step is
    #: reached (Customer.io, Klaviyo check when it is time to send a message)
    check: Literal["continuous", "at_steps", "after_waits", "at_sends"] = "continuous"
    #: whether a held (quiet hours) or deferred (cap) send is re-checked against exit_when on
    #: ``reads_from`` when it is released; default at_release (Customer.io, Braze check at send time)
    recheck: Literal["never", "at_release"] = "at_release"

    @model_validator(mode="after")
    def _something(self) -> ExitWhen:
        if self.event is None and self.when is None:
            raise ValueError("exit_when needs 'event' (e.g. event: purchase) or 'when' (a condition)")
        return self


class WaitUntil(Strict):
    event: Name
    timeout: Duration | None = None
    then: Name | None = None
    on_timeout: Name | None = None
    #: a polled wait (docs/semantics.md, "Polling waits"): the orchestrator looks at ``reads_from`` only
    #: every ``poll`` after the wait began, so an event that arrives between looks is seen at the next one.
    #: None (default): the wait ends the moment the event arrives.
    poll: Duration | None = None

    @field_validator("poll")
    @classmethod
    def _positive_poll(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("poll must be longer than 0s, e.g. poll: 10m")
        return v


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WaitWindow(Strict):
    """Wait until a local clock is inside a window: ``from``-``to`` (``from`` inside, ``to`` not; a window
    with ``from`` after ``to`` runs over midnight into the next day) or the instant ``at``, on ``days``
    (all by default; a day names the window's start), in ``zone``: ``customer`` (each customer's own
    zone) or an IANA name (a fixed zone, e.g. the account's). docs/semantics.md has worked examples."""

    from_: Clock | None = Field(default=None, alias="from")
    to: Clock | None = None
    at: Clock | None = None
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = Field(default=None, min_length=1)
    zone: str = "customer"

    @field_validator("zone")
    @classmethod
    def _zone(cls, v: str) -> str:
        return v if v == "customer" else str(parse_timezone(v).key)

    @model_validator(mode="after")
    def _form(self) -> WaitWindow:
        if self.at is not None:
            if self.from_ is not None or self.to is not None:
                raise ValueError("give either 'at' (an instant) or 'from' and 'to' (a window), not both")
        elif self.from_ is None or self.to is None:
            raise ValueError("a wait_window needs 'from' and 'to' (e.g. from: '09:00', to: '17:00') or 'at: HH:MM'")
        elif self.from_ == self.to:
            raise ValueError("'from' and 'to' are the same time, so the window is empty; for 'until the clock "
                             "reads HH:MM' write at: 'HH:MM'")
        if self.days is not None and len(set(self.days)) != len(self.days):
            raise ValueError("a day is listed twice in 'days'")
        return self


class BranchArm(Strict):
    when: ConditionText | None = None
    goto: Name | None = None
    else_: Name | None = Field(default=None, alias="else")

    @model_validator(mode="after")
    def _form(self) -> BranchArm:
        if self.else_ is not None:
            if self.when is not None or self.goto is not None:
                raise ValueError("an 'else' arm is just {else: TARGET}; put conditions in earlier arms")
        elif self.when is None or self.goto is None:
            raise ValueError("a branch arm is {when: CONDITION, goto: TARGET} or {else: TARGET}")
        return self

    @property
    def target(self) -> str:
        return self.else_ if self.else_ is not None else self.goto  # type: ignore[return-value]


STEP_ACTIONS = ("wait", "wait_until", "wait_window", "branch", "split", "send", "update")


class Step(Strict):
    """One journey step: exactly one action key, plus optional routing (``next``/``goto``)."""

    id: Name
    wait: Duration | None = None
    wait_until: WaitUntil | None = None
    wait_window: WaitWindow | None = None
    branch: list[BranchArm] | None = Field(default=None, min_length=1)
    split: dict[Name, float] | None = None
    send: Name | None = None
    update: dict[FieldName, Scalar] | None = None
    at: Name | None = None
    next: Name | None = None
    goto: Name | None = None
    #: set by ``journeysim import`` where the export did not carry a value (a Braze Delay's length):
    #: what to set; validate and run warn until the user deletes the key (docs/import.md)
    placeholder: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_action(self) -> Step:
        given = [k for k in STEP_ACTIONS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a step needs exactly one action of {', '.join(STEP_ACTIONS)}"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.update is not None and self.at is None:
            raise ValueError("an 'update' step needs 'at: SYSTEM' (where the change is written, e.g. at: crm)")
        if self.at is not None and self.update is None:
            raise ValueError("'at' belongs to 'update' steps")
        if self.next is not None and self.goto is not None:
            raise ValueError("use either 'next' or 'goto', not both (they mean the same)")
        if (self.branch is not None or self.split is not None) and (self.next or self.goto):
            raise ValueError("branch and split steps route by their own targets; remove 'next'/'goto'")
        if self.split is not None:
            if not self.split:
                raise ValueError("a split needs at least one target, e.g. split: {email_2: 50, end: 50}")
            if any(v < 0 for v in self.split.values()):
                raise ValueError("split percentages must be >= 0")
            total = sum(self.split.values())
            if abs(total - 100) > 1e-6:
                raise ValueError(f"split percentages must add up to 100, they add up to {total:g}")
        return self

    @property
    def action(self) -> str:
        return next(k for k in STEP_ACTIONS if getattr(self, k) is not None)

    @property
    def jump(self) -> str | None:
        """Explicit routing after this step (``next`` or ``goto``), if any."""
        return self.goto or self.next


class Journey(Strict):
    name: Name
    description: str = ""
    reads_from: Name
    entry: Entry
    re_entry: bool | ReEntry = False
    exit_when: ExitWhen | None = None
    #: an instance leaves the journey this long after it entered, wherever it is (Adobe Journey
    #: Optimizer's 91-day journey timeout; docs/platforms.md). None: no limit.
    max_duration: Duration | None = None
    #: what branch conditions read: ``live`` (default) the ``reads_from`` replica as it is at the branch;
    #: ``entry`` a snapshot of it taken when the instance entered (SFMC Journey Data; docs/exits.md)
    journey_data: Literal["live", "entry"] = "live"
    #: share of customers drawn into a control group that walks the journey but is never messaged
    #: (a fraction; written as a percentage, docs/projections.md). None: no holdout.
    holdout: HoldoutShare | None = None
    #: the orchestrator recomputes this journey's segments from ``reads_from`` every N (at N, 2N, ... after
    #: the start): everything the journey reads there sees a change at the next recompute; the entry event
    #: is taken at once (docs/semantics.md, "Segments recomputed on an interval"). None: read live.
    recompute_every: Duration | None = None
    #: when send and update steps may run; one reached outside is rescheduled (docs/platforms.md)
    execution_window: ExecutionWindow | None = None
    steps: list[Step] = Field(min_length=1)

    @field_validator("max_duration")
    @classmethod
    def _positive_max(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("max_duration must be longer than 0s, e.g. max_duration: 91d")
        return v

    @field_validator("recompute_every")
    @classmethod
    def _positive_recompute(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("recompute_every must be longer than 0s, e.g. recompute_every: 2m")
        return v

    @property
    def cooldown(self) -> float | None:
        """Seconds before re-entry is allowed, or None when re-entry is off."""
        if self.re_entry is False:
            return None
        if self.re_entry is True:
            return 0.0
        return self.re_entry.cooldown


# --------------------------------------------------------------------------- gates and the scenario

_GATE = re.compile(r"^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(%?)\s*$")  # negative: lift gates


class Gate(Strict):
    """A release criterion on one finding kind: ``rate < 0.5%`` (per entered customer) or ``count == 0``."""

    kind: str
    op: str
    value: float
    percent: bool

    @property
    def text(self) -> str:
        return f"{self.kind} {self.op} {self.value:g}{'%' if self.percent else ''}"


def _parse_gate(value: Any) -> tuple[str, float, bool]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return ("<=", float(value), False)
    m = _GATE.match(str(value)) if isinstance(value, str) else None
    if not m:
        raise ValueError(
            f"invalid gate {value!r}: expected an operator and a number, a percentage of entered customers "
            "or a count, such as \"< 0.5%\" or \"== 0\""
        )
    return (m.group(1), float(m.group(2)), bool(m.group(3)))


def _gate_text(spec: tuple[str, float, bool]) -> str:
    op, value, percent = spec
    return f"{op} {value:g}{'%' if percent else ''}"


GateSpec = Annotated[tuple[str, float, bool], *_parsed(_parse_gate, "gate", {
    "anyOf": [{"type": "string", "pattern": r"^\s*(<=|>=|==|!=|<|>)\s*-?\d+(\.\d+)?\s*%?\s*$"}, {"type": "number"}],
    "description": "a criterion such as \"< 0.5%\" (rate per entered customer) or \"== 0\" (count)"},
    _gate_text)]


class Projections(Strict):
    """What a journey is projected to achieve (docs/projections.md): the conversion event, the window
    after entry in which it counts (None: until the end of the run) and the revenue field."""

    conversion: Name
    window: Duration | None = None
    #: field holding a conversion's revenue; None: ``value`` if the scenario has such a field
    value: FieldName | None = None

    @field_validator("window")
    @classmethod
    def _positive_window(cls, v: float | None) -> float | None:
        if v is not None and v <= 0:
            raise ValueError("projections.window must be longer than 0s, e.g. window: 7d")
        return v


class Limits(Strict):
    """Resource limits checked before a run starts (see :mod:`simulator.scenario.limits`, docs/errors.md)."""

    max_customers: int = Field(default=2_000_000, ge=0)
    max_events: float = Field(default=20_000_000, ge=0, allow_inf_nan=False)
    max_scheduled: int = Field(default=500_000, ge=0)
    max_segment_checks: float = Field(default=5e9, ge=0, allow_inf_nan=False)


class Scenario(Strict):
    """A whole scenario file, validated and frozen (times in UTC, durations in seconds)."""

    version: Literal[1] = 1
    scenario: Name
    description: str = ""
    start: Time
    duration: Duration
    seed: int = Field(default=0, ge=0)
    default_timezone: TimeZoneName = "UTC"
    #: a platform preset merged under this scenario before validation (docs/platforms.md)
    platform: str | None = None
    population: Population = Population()
    systems: dict[Name, System] = Field(min_length=1)
    sync: list[SyncLink] = []
    policies: Policies = Policies()
    messages: dict[Name, Message] = {}
    journeys: list[Journey] = Field(min_length=1)
    gates: dict[str, GateSpec] = {}
    severity: dict[str, Literal["info", "warning", "error"]] = {}
    #: compliance rule packs whose rules the run checks deliveries against (docs/creative.md)
    compliance: list[str] = []
    limits: Limits = Limits()
    #: conversion projections per journey and arm (docs/projections.md); None: not computed
    projections: Projections | None = None

    _source_file: str | None = PrivateAttr(default=None)
    _source_hash: str = PrivateAttr(default="")
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @property
    def source_file(self) -> str | None:
        """The file the scenario was loaded from (None for text)."""
        return self._source_file

    @property
    def warnings(self) -> tuple[str, ...]:
        """Valid but not finished: each step still marked ``placeholder`` by an importer, as
        ``file:line: key path: what to set; fix`` (validate and run print them)."""
        return self._warnings

    @property
    def source_hash(self) -> str:
        """SHA-256 of the validated scenario data (after overrides); recorded in summary.json."""
        return self._source_hash

    @field_validator("duration")
    @classmethod
    def _positive(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("the scenario's duration must be longer than 0s, e.g. duration: 14d")
        return v

    @cached_property
    def gate_list(self) -> tuple[Gate, ...]:
        """Gates on finding kinds (projection gates are in :attr:`projection_gates`)."""
        return tuple(Gate(kind=k, op=op, value=v, percent=p) for k, (op, v, p) in self.gates.items()
                     if not is_projection_gate(k))

    @cached_property
    def projection_gates(self) -> tuple[Gate, ...]:
        """Gates on projections (``conversion-lift: "> 2%"``, docs/projections.md)."""
        return tuple(Gate(kind=k, op=op, value=v, percent=p) for k, (op, v, p) in self.gates.items()
                     if is_projection_gate(k))

    @cached_property
    def journey_by_name(self) -> dict[str, Journey]:
        return {j.name: j for j in self.journeys}

    @cached_property
    def channel_systems(self) -> dict[str, str]:
        """channel -> name of the (first) system serving it."""
        out: dict[str, str] = {}
        for name, system in self.systems.items():
            if system.channel and system.channel not in out:
                out[system.channel] = name
        return out

    def effective(self) -> dict[str, Any]:
        """The scenario as run (after overrides), as JSON-ready data that validates back to an equal model."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    @property
    def step_count(self) -> int:
        return sum(len(j.steps) for j in self.journeys)


assert set(SEVERITIES) == {"info", "warning", "error"}
assert set(SYSTEM_KINDS) == set(System.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
_ = FINDING_KINDS
