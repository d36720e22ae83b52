"""The intermediate representation (IR) every journey importer maps its format to.

An importer turns one vendor export into :class:`ImportedJourney` objects; :mod:`writer` turns those
into scenario YAML. Nodes keep the vendor's ids and the JSON path they came from, so the YAML can
carry comments at the right place and every note names where in the export it came from.

Node kinds (docs/import.md has the table of what each becomes in the scenario format):

- waits: :class:`Wait` (a duration), :class:`WaitUntilWindow` (a time window in a zone),
  :class:`WaitUntilDate` (a date attribute), :class:`WaitUntilCondition` and
  :class:`WaitUntilEvent` (each with an optional timeout);
- branches: :class:`Branch` (conditions), :class:`RandomSplit` (weights), :class:`Experiment`;
- actions: :class:`Send` (channel, template, marketing/transactional), :class:`ProfileUpdate`,
  :class:`EmitEvent`, :class:`Link` (to another journey), :class:`RateLimit`, :class:`Exit`;
- :class:`Unmodelled`: an activity whose behaviour the IR does not know (a vendor's custom REST
  activity or split); its outcomes are kept.

Journey level: :class:`Entry` (segment, event or schedule), :class:`ReEntry`,
:class:`ExitCondition` and :class:`ConversionGoal`. Whatever could not be mapped is an
:class:`Unmapped` note, attached to the node it concerns (or to the journey) and listed by
:meth:`ImportedJourney.all_unmapped`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "END", "Unmapped", "Entry", "ReEntry", "ExitCondition", "ConversionGoal", "Node", "Wait",
    "WaitUntilWindow", "WaitUntilDate", "WaitUntilCondition", "WaitUntilEvent", "Arm", "Branch",
    "RandomSplit", "Experiment", "Send", "ProfileUpdate", "EmitEvent", "Link", "RateLimit", "Exit",
    "Unmodelled", "ImportedJourney", "pass_through_note", "lossy_notes",
]

#: The target meaning "leave the journey" (the scenario format's reserved step id).
END = "end"

Channel = Literal["email", "sms", "push", "in_app", "whatsapp"]


@dataclass(frozen=True)
class Unmapped:
    """Something in the export the scenario cannot express (or expresses only approximately).

    ``path`` is the JSON path in the export (``activities[2].configurationArguments.criteria``),
    ``what`` a one-line statement of what was lost and what the scenario does instead,
    ``verbatim`` the original text where it helps the user (filter XML, a custom URL).
    """

    path: str
    what: str
    verbatim: str = ""

    def line(self) -> str:
        return f"{self.path}: {self.what}"


@dataclass
class Entry:
    """How customers enter: ``kind`` ``event`` (``event``), ``segment`` (``condition`` every
    ``every`` seconds) or ``schedule`` (``condition`` once at ``at``, an ISO time)."""

    kind: Literal["event", "segment", "schedule"]
    path: str
    event: str | None = None
    condition: str | None = None
    every: float | None = None
    at: str | None = None
    #: attributes the importer invented for the entry (a data-extension audience becomes a
    #: membership flag); the writer gives each a generated population attribute
    generated_flags: tuple[str, ...] = ()
    source: str = ""  # the vendor's name for it, for the YAML comment
    unmapped: list[Unmapped] = field(default_factory=list)


@dataclass
class ReEntry:
    """``mode``: ``never`` (enter once), ``any_time`` (several instances may run at once) or
    ``after_exit`` (only when not currently in the journey). ``cooldown`` in seconds."""

    mode: Literal["never", "any_time", "after_exit"]
    path: str
    source: str = ""
    cooldown: float = 0.0
    unmapped: list[Unmapped] = field(default_factory=list)

    def notes(self) -> list[Unmapped]:
        """The importer's notes, plus the one the format implies: journeysim runs one instance of a journey
        per customer at a time (``re_entry: true`` is "again after exiting"), so concurrent runs are lossy."""
        out = list(self.unmapped)
        if self.mode == "any_time":
            out.append(Unmapped(self.path, f"{self.source or 'the export'} lets runs overlap; journeysim runs one "
                                           "instance per customer at a time: an entry while one runs is refused "
                                           "(entry-skip 'already in the journey')"))
        return out


@dataclass
class ExitCondition:
    """Leave early when ``condition`` holds or ``event`` is seen, checked at ``check``."""

    path: str
    condition: str | None = None
    event: str | None = None
    check: Literal["continuous", "at_steps", "after_waits"] = "continuous"
    source: str = ""


@dataclass
class ConversionGoal:
    """The journey's success measure (``condition``); the scenario format has no goals, so the
    writer keeps it as a comment."""

    path: str
    name: str
    condition: str | None
    verbatim: str = ""
    unmapped: list[Unmapped] = field(default_factory=list)


@dataclass
class Node:
    """One step of the journey graph. ``id`` is the vendor's id, ``path`` its JSON path,
    ``name`` the vendor's label, ``next`` the single successor (``END`` to leave)."""

    id: str
    path: str
    name: str = ""
    source_type: str = ""
    next: str = END
    notes: list[str] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    #: what the export did not carry and the writer filled with a placeholder value; written as the
    #: step's ``placeholder:`` key, which validate and run warn about until the user deletes it
    placeholder: str = ""

    def targets(self) -> list[str]:
        """Every successor, in order (``END`` included)."""
        return [self.next]


@dataclass
class Wait(Node):
    seconds: float = 0.0


@dataclass
class WaitUntilWindow(Node):
    """Wait until the local clock is inside ``start``-``end`` (``"HH:MM"``) in ``zone``
    (an IANA name, or ``None`` for the customer's own zone), on ``days`` (``None``: any day; else
    names ``mon`` ... ``sun``). ``start == end`` means "until the next time the clock reads ``start``".
    The writer makes it a ``wait_window`` step."""

    start: str = "00:00"
    end: str = "00:00"
    zone: str | None = None
    days: tuple[str, ...] | None = None


@dataclass
class WaitUntilDate(Node):
    """Wait until the time held in the customer attribute ``attribute`` (plus ``offset`` seconds)."""

    attribute: str = ""
    offset: float = 0.0


@dataclass
class _WaitWithTimeout(Node):
    """A wait that ends on something happening (``then``) or, with ``timeout`` seconds, on ``on_timeout``."""

    timeout: float | None = None
    then: str = END
    on_timeout: str = END

    def targets(self) -> list[str]:
        return [self.then] + ([self.on_timeout] if self.timeout is not None else [])


@dataclass
class WaitUntilCondition(_WaitWithTimeout):
    """Wait until ``condition`` holds, at most ``timeout`` seconds; ``then``/``on_timeout`` targets."""

    condition: str = ""


@dataclass
class WaitUntilEvent(_WaitWithTimeout):
    event: str = ""


@dataclass
class Arm:
    """One branch arm: ``condition`` (``None`` for the default/else arm) -> ``target``.

    An arm whose vendor condition could not be translated has ``condition=None``,
    ``mapped=False`` and the original in ``verbatim``; the writer keeps it as an explicit arm that
    is never taken until the user writes its condition.
    """

    key: str
    target: str
    condition: str | None = None
    label: str = ""
    mapped: bool = True
    verbatim: str = ""
    path: str = ""


@dataclass
class Branch(Node):
    """Arms tried in order; the first whose condition holds wins; ``default`` catches the rest."""

    arms: list[Arm] = field(default_factory=list)
    default: Arm | None = None

    def targets(self) -> list[str]:
        return [a.target for a in self.arms] + ([self.default.target] if self.default else [])


@dataclass
class RandomSplit(Node):
    """``weights``: (outcome key, target, percentage) in the vendor's order; percentages add to 100."""

    weights: list[tuple[str, str, float]] = field(default_factory=list)

    def targets(self) -> list[str]:
        return [t for _, t, _ in self.weights]


@dataclass
class Experiment(RandomSplit):
    """A random split the vendor reports as an experiment (variants and a winner metric)."""

    metric: str = ""


@dataclass
class Send(Node):
    channel: Channel = "email"
    template: str = ""  # the vendor's template/asset reference
    subject: str | None = None
    category: Literal["marketing", "transactional"] = "marketing"


@dataclass
class ProfileUpdate(Node):
    fields: dict[str, str | int | float | bool] = field(default_factory=dict)


@dataclass
class EmitEvent(Node):
    event: str = ""


@dataclass
class Link(Node):
    journey: str = ""


@dataclass
class RateLimit(Node):
    limit: int = 0
    per_seconds: float = 0.0


@dataclass
class Exit(Node):
    reason: str = ""


@dataclass
class Unmodelled(Node):
    """An activity the IR cannot model (a custom REST activity or split, an AI send-time wait).

    ``outcomes`` are (outcome key, target, label) in the vendor's order; with one outcome every
    customer passes through, with several the vendor's service picks one at run time.
    """

    kind: str = ""
    outcomes: list[tuple[str, str, str]] = field(default_factory=list)
    #: why the platform divides customers over several outcomes ("" : the vendor's service picks one)
    divides: str = ""

    def targets(self) -> list[str]:
        return [t for _, t, _ in self.outcomes] or [self.next]


def pass_through_note(n: Node) -> Unmapped | None:
    """The note for a node the scenario format cannot express (it becomes a pass-through step that
    keeps its id and edges); ``None`` for nodes the format expresses."""
    if isinstance(n, Unmodelled):
        how = ("everyone passes straight through" if len(set(n.targets())) <= 1 else
               "customers are divided in equal placeholder shares, because "
               + (n.divides or "the vendor's service picks the outcome at run time"))
        return Unmapped(n.path, f"{n.kind or n.source_type} '{n.id}' is not modelled: {how}")
    if isinstance(n, WaitUntilDate):
        shift = f" {'+' if n.offset >= 0 else '-'} {abs(n.offset):g}s" if n.offset else ""
        return Unmapped(n.path, f"wait until the date in '{n.attribute}'{shift} is not modelled: "
                                "customers go on at once")
    if isinstance(n, WaitUntilCondition):
        return Unmapped(n.path, f"wait until '{n.condition}' is not modelled (the format waits for events only): "
                                "customers go on at once")
    if isinstance(n, EmitEvent):
        return Unmapped(n.path, f"emitting event '{n.event}' is not modelled: customers go on at once")
    if isinstance(n, Link):
        return Unmapped(n.path, f"the link to journey '{n.journey}' is not modelled: customers go on at once")
    if isinstance(n, RateLimit):
        return Unmapped(n.path, f"the rate limit of {n.limit} per {n.per_seconds:g}s is not modelled: "
                                "customers go on at once (a channel's throughput is the nearest setting)")
    return None


def lossy_notes(n: Node) -> list[Unmapped]:
    """Notes the IR itself implies for ``n`` (the writer comments them at the step): its
    pass-through note, and for a transactional send the missing per-message category."""
    out = [x for x in (pass_through_note(n),) if x is not None]
    for what, secs in (("wait", getattr(n, "seconds", None)), ("timeout", getattr(n, "timeout", None))):
        if isinstance(secs, (int, float)) and secs > 36500 * 86400.0:
            out.append(Unmapped(n.path, f"a {what} of {secs:g} s is longer than 36500 days, the longest duration a "
                                        "scenario may give: written as 36500 days"))
    if isinstance(n, Experiment) and n.metric:
        out.append(Unmapped(n.path, f"the experiment's winner selection ({n.metric}) is not simulated: "
                                    "customers keep being split at the drawn percentages"))
    if isinstance(n, Send) and n.category == "transactional":
        out.append(Unmapped(n.path, "transactional category: the scenario format has no per-message category, "
                                    "so consent, quiet hours and caps apply to this send as to marketing ones "
                                    "(the message is tagged 'transactional')"))
    return out


@dataclass
class ImportedJourney:
    """One journey as imported: ``nodes`` in the order the writer emits them (the first is where
    customers start)."""

    id: str
    name: str
    path: str
    entry: Entry
    nodes: list[Node]
    title: str = ""  # the vendor's display name
    #: the journeysim platform preset that models the vendor's timing rules (docs/platforms.md), or None;
    #: the writer emits ``platform:`` when every journey of the scenario names the same one
    platform: str | None = None
    re_entry: ReEntry | None = None
    exit_conditions: list[ExitCondition] = field(default_factory=list)
    goals: list[ConversionGoal] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    #: notes on exit criteria that could not become an exit condition (written where exit_when goes)
    exit_unmapped: list[Unmapped] = field(default_factory=list)
    #: what branch conditions read: ``live`` (the replica at the branch) or ``entry`` (a snapshot taken
    #: at entry, docs/exits.md); the writer writes the key when ``journey_data_note`` says why
    journey_data: str = "live"
    journey_data_note: str = ""
    #: the workflow-wide execution window (``{from, to, days, timezone}``, docs/platforms.md) or None;
    #: ``execution_window_note`` is written above it
    execution_window: dict | None = None
    execution_window_note: str = ""

    def exit_merge_notes(self) -> list[Unmapped]:
        """exit_when holds one event and one check: notes for the exit conditions that do not fit."""
        exits = [x for x in self.exit_conditions if x.condition or x.event]
        events = [x for x in exits if x.event]
        out = [Unmapped(x.path, f"exit event '{x.event}' is not simulated: exit_when holds one event "
                                f"('{events[0].event}')") for x in events[1:]]
        out += [Unmapped(x.path, f"exit check '{x.check}' replaced by '{exits[0].check}': exit_when has one check")
                for x in exits[1:] if x.check != exits[0].check]
        return out

    def edges(self) -> list[tuple[str, str]]:
        """(from id, to id) for every edge, ``END`` included, in node order."""
        return [(n.id, t) for n in self.nodes for t in n.targets()]

    def all_unmapped(self) -> list[Unmapped]:
        """Every note in file order: the journey's, the entry's, re-entry's, exits', goals', then each
        node's."""
        out = list(self.unmapped) + list(self.entry.unmapped)
        out += self.re_entry.notes() if self.re_entry else []
        out += self.exit_unmapped + self.exit_merge_notes()
        for g in self.goals:
            out += g.unmapped
        for n in self.nodes:
            out += n.unmapped
            out += lossy_notes(n)
            if isinstance(n, Branch):
                out += [Unmapped(a.path, f"criteria of outcome '{a.key}' not translated", a.verbatim)
                        for a in n.arms if not a.mapped]
        return out
