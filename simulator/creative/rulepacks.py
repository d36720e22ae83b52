"""Compliance rule packs: one YAML file per pack in ``simulator/creative/packs/``, checked by pydantic.

A pack names the jurisdiction it protects and lists rules. Every rule carries its citation (the
legal or industry text it encodes, with a URL) and a confidence: the authority of the text the
rule was verified on (``statute``, ``regulator-guidance``, ``industry-code`` or
``secondary-source``). Rule kinds and their parameters are documented in docs/creative.md.
"""

from __future__ import annotations

import functools
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from simulator.errors import JourneySimError, UsageError
from simulator.scenario.units import did_you_mean

__all__ = [
    "DAYS",
    "SIGNALS",
    "Citation",
    "Consent",
    "UnsubscribeLink",
    "Pack",
    "PackError",
    "Window",
    "available_packs",
    "load_pack",
    "load_packs",
]

PACK_DIR = Path(__file__).parent / "packs"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Confidence = Literal["statute", "regulator-guidance", "industry-code", "secondary-source"]
Channel = Literal["sms", "voice", "email", "push", "in_app"]
Purpose = Literal["marketing", "transactional"]


class PackError(JourneySimError):
    """A pack file is malformed (a packaging defect: the bundled packs are tested to load)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Citation(_Strict):
    """What a rule encodes (``ref``), where to read it (``url``) and where it was checked (``verified_on``)."""

    ref: str
    url: str
    verified_on: str

    @field_validator("url", "verified_on")
    @classmethod
    def _is_url(cls, value: str) -> str:
        if not re.match(r"https?://\S+$", value):
            raise ValueError(f"expected an http(s) URL, got {value!r}")
        return value


def _parse_days(spec: str) -> tuple[int, ...]:
    """``mon-fri``, ``sat,sun`` or ``mon-sun`` -> weekday numbers (Monday 0)."""
    out: list[int] = []
    for part in spec.replace(" ", "").split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(e not in DAYS for e in ends):
            raise ValueError(f"invalid days {spec!r}: expected day names {', '.join(DAYS)}, ranges like "
                             "'mon-fri' or lists like 'sat,sun'")
        a, b = DAYS.index(ends[0]), DAYS.index(ends[-1])
        if b < a:
            raise ValueError(f"invalid day range {part!r}: it must run forwards (mon before sun)")
        out.extend(range(a, b + 1))
    return tuple(sorted(set(out)))


class Window(_Strict):
    """An allowed local-time window ``[start, end)`` on the given ``days``."""

    days: str
    start: time = Field(alias="from")
    end: time = Field(alias="to")

    @field_validator("days")
    @classmethod
    def _days_valid(cls, value: str) -> str:
        _parse_days(value)
        return value

    @field_validator("start", "end", mode="before")
    @classmethod
    def _hhmm(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"\d\d:\d\d", value):
            raise ValueError(f"invalid time {value!r}: expected HH:MM such as '08:00'")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> "Window":
        if self.end <= self.start:
            raise ValueError(f"window ends ({self.end:%H:%M}) before it starts ({self.start:%H:%M})")
        return self

    @property
    def weekdays(self) -> tuple[int, ...]:
        return _parse_days(self.days)


class _Rule(_Strict):
    id: str
    summary: str
    channels: tuple[Channel, ...]
    purposes: tuple[Purpose, ...] = ("marketing",)
    confidence: Confidence
    citation: Citation
    note: str | None = None

    def applies(self, channel: str | None, purpose: str | None) -> bool:
        """True when the rule covers ``channel`` and ``purpose`` (None: any)."""
        return (channel is None or channel in self.channels) and (purpose is None or purpose in self.purposes)


class QuietHours(_Rule):
    """Messages only inside ``windows`` of local time in ``zone`` (``recipient``: the recipient's zone)."""

    kind: Literal["quiet_hours"]
    zone: str = "recipient"
    windows: tuple[Window, ...]

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        if value != "recipient":
            from simulator.scenario.units import parse_timezone

            parse_timezone(value)
        return value


class Frequency(_Rule):
    """At most ``max`` messages to one recipient in any rolling ``window_hours`` on the same ``scope``."""

    kind: Literal["frequency"]
    max: int = Field(gt=0)
    window_hours: float = Field(gt=0)
    scope: Literal["same_subject", "any"]


class OptOutDeadline(_Rule):
    """An opt-out must take effect within ``business_days`` business days (Monday to Friday)."""

    kind: Literal["opt_out_deadline"]
    business_days: int = Field(gt=0)


class OptOutKeywords(_Rule):
    """A reply consisting of one of ``keywords`` (any case) is an opt-out and must be confirmed."""

    kind: Literal["opt_out_keywords"]
    keywords: tuple[str, ...]

    @field_validator("keywords")
    @classmethod
    def _upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value or any(not k.strip() for k in value):
            raise ValueError("keywords must be a non-empty list of words")
        return tuple(k.strip().upper() for k in value)


class Requirement(_Rule):
    """A content or consent requirement: every item in ``requires`` must hold for each message."""

    kind: Literal["requirement"]
    requires: tuple[str, ...]


class Consent(_Rule):
    """A message of a covered channel needs the recipient's consent for that very channel (``consent.<channel>``
    true when it is delivered); consent for another channel does not count. ``requires`` says it in words."""

    kind: Literal["consent"]
    requires: tuple[str, ...]


class UnsubscribeLink(_Rule):
    """A promotional message of a covered channel must carry its opt-out (the unsubscribe link in an email,
    an opt-out keyword in an SMS: :func:`simulator.creative.rules.lacks_opt_out`)."""

    kind: Literal["unsubscribe_link"]
    requires: tuple[str, ...]


Rule = Annotated[Union[QuietHours, Frequency, OptOutDeadline, OptOutKeywords, Requirement, Consent, UnsubscribeLink],
                 Field(discriminator="kind")]


Signal = Literal["phone", "address", "zone"]
SIGNALS: tuple[str, ...] = ("phone", "address", "zone")


class Jurisdiction(_Strict):
    """Whom the pack protects: a country (ISO 3166-1 alpha-2) and optionally regions in it, and which
    customer ``signals`` place a recipient there (``phone``: the number's country and, for North
    American numbers, the area code's state or province; ``address``: the postal address; ``zone``:
    the time zone's country, never a region), combined with ``any`` (one trusted signal suffices:
    the most restrictive reading) or ``all``. Default signals: phone and address for a regional pack,
    all three for a country pack. ``basis`` cites the text that makes a signal decisive (Florida's
    area-code presumption)."""

    country: str
    regions: tuple[str, ...] = ()
    signals: tuple[Signal, ...] | None = None
    combine: Literal["any", "all"] = "any"
    basis: Citation | None = None

    @model_validator(mode="after")
    def _zone_not_regional(self) -> "Jurisdiction":
        if self.regions and self.signals and "zone" in self.signals:
            raise ValueError("a regional pack cannot trust the 'zone' signal: a time zone names no state "
                             "(America/New_York spans many); trust phone and/or address")
        if self.signals is not None and not self.signals:
            raise ValueError("signals must name at least one of phone, address, zone")
        return self

    @property
    def trusted(self) -> tuple[str, ...]:
        """The signals in force (the given ones, else the defaults)."""
        if self.signals is not None:
            return tuple(self.signals)
        return ("phone", "address") if self.regions else SIGNALS


class Pack(_Strict):
    """One rule pack; ``name`` equals its file name without ``.yaml``."""

    pack: str
    title: str
    version: str
    jurisdiction: Jurisdiction
    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> "Pack":
        ids = [r.id for r in self.rules]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate rule ids: {', '.join(dup)}")
        return self

    @property
    def name(self) -> str:
        return self.pack

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``; raises :class:`UsageError` with a did-you-mean."""
        for r in self.rules:
            if r.id == rule_id:
                return r
        hint = did_you_mean(rule_id, [r.id for r in self.rules])
        raise UsageError(f"pack {self.pack} has no rule '{rule_id}'" + (f"; did you mean '{hint}'?" if hint else "")
                         + f" (rules: {', '.join(r.id for r in self.rules)})")


def available_packs() -> tuple[str, ...]:
    """Names of the bundled packs, sorted."""
    return tuple(sorted(p.stem for p in PACK_DIR.glob("*.yaml")))


@functools.cache
def load_pack(name: str) -> Pack:
    """Load and check one bundled pack; unknown names raise :class:`UsageError` with a did-you-mean."""
    names = available_packs()
    if name not in names:
        hint = did_you_mean(name, names)
        raise UsageError(f"unknown compliance pack '{name}'" + (f"; did you mean '{hint}'?" if hint else "")
                         + f" (packs: {', '.join(names)})")
    path = PACK_DIR / f"{name}.yaml"
    try:
        pack = Pack.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        msg = first["msg"].removeprefix("Value error, ")
        raise PackError(f"{path}: {where}: {msg} ({exc.error_count()} error(s))") from None
    if pack.pack != name:
        raise PackError(f"{path}: pack: the pack is named '{pack.pack}' but its file is '{name}.yaml'")
    return pack


def load_packs(names: list[str] | tuple[str, ...]) -> tuple[Pack, ...]:
    """Load several packs; the first unknown name raises :class:`UsageError`."""
    return tuple(load_pack(n) for n in names)
