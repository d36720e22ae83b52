"""Creative rules shared by ``journeysim lint`` and the run's findings pass (one definition of each).

* :func:`is_promotional`: a message is promotional when its ``tags`` contain ``promo``,
  ``promotional`` or ``marketing`` (any case);
* :func:`segment_budget`: the most SMS segments a message may take (its ``max_segments``, else 1 for a
  promotional SMS, else no limit);
* :func:`lacks_opt_out`: a promotional email without the unsubscribe link (CAN-SPAM, CASL) or a
  promotional SMS without one of CTIA's opt-out keywords as a word;
* :func:`sms_detail`: the ``enc=...; seg=N`` text the channel writes into an SMS's ``queued`` record;
* :func:`length_limits`, :func:`over_length`, :func:`length_detail`: the subject/title character limits
  (``max_subject_chars``, ``max_title_chars``; no default) and the ``subject_chars=N; `` text the channel
  writes into a ``queued`` record when a limit is set.
"""

from __future__ import annotations

import re
from functools import lru_cache

from simulator.creative.sms import GSM7_BASIC, sms_segments
from simulator.scenario.model import Message
from simulator.scenario.vocabulary import PROMO_TAGS

__all__ = ["PROMO_TAGS", "is_promotional", "segment_budget", "lacks_opt_out", "opt_out_requirement",
           "opt_out_keywords", "sms_detail", "length_limits", "over_length", "length_detail"]


def is_promotional(message: Message) -> bool:
    return bool(PROMO_TAGS & {t.lower() for t in message.tags})


def segment_budget(message: Message) -> int | None:
    """``max_segments`` of an SMS message, else 1 when it is promotional; None: no limit (or not SMS)."""
    if message.channel != "sms":
        return None
    if message.max_segments is not None:
        return message.max_segments
    return 1 if is_promotional(message) else None


@lru_cache(maxsize=1)
def opt_out_keywords() -> tuple[str, ...]:
    """CTIA's opt-out keywords, from the ``ctia`` rule pack (STOP, END, CANCEL, UNSUBSCRIBE, QUIT)."""
    from simulator.creative.rulepacks import load_pack

    return tuple(load_pack("ctia").rule("opt-out-keywords").keywords)  # type: ignore[union-attr]


@lru_cache(maxsize=1)
def _opt_out_pattern() -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(map(re.escape, opt_out_keywords())) + r")\b", re.IGNORECASE)


def lacks_opt_out(message: Message, text: str, unsubscribe_url: str) -> bool:
    """True when a promotional email's rendered text lacks ``unsubscribe_url``, or a promotional SMS's
    lacks an opt-out keyword as a word. Other messages never lack it (the rules cover commercial
    email and marketing texts)."""
    if not is_promotional(message):
        return False
    if message.channel == "email":
        return unsubscribe_url not in text
    if message.channel == "sms":
        return _opt_out_pattern().search(text) is None
    return False


def opt_out_requirement(channel: str) -> str:
    """What a promotional message of ``channel`` must contain, in words (for findings)."""
    if channel == "email":
        return "the unsubscribe link ({{ unsubscribe_url }}; CAN-SPAM, CASL)"
    return (f"an opt-out keyword such as 'Reply STOP to opt out' (CTIA: {', '.join(opt_out_keywords())})")


def sms_detail(text: str) -> str:
    """``'enc=GSM-7; seg=1'``: the encoding and segment count of a rendered SMS, for its queued record.

    Equal to :func:`sms_segments` (a property test checks it). A text of GSM-7 basic characters only
    takes a shortcut: one septet each and no cluster to keep together (CR LF may be split), so
    ``n <= 160`` is 1 segment and longer is ``ceil(n / 153)``; every other text goes through
    ``sms_segments``, cached by text (a template without personalisation renders the same text)."""
    if _BASIC.issuperset(text):
        n = len(text)
        return f"enc=GSM-7; seg={1 if n <= 160 else -(-n // 153)}"
    return _slow_detail(text)


_BASIC = GSM7_BASIC


@lru_cache(maxsize=4096)
def _slow_detail(text: str) -> str:
    seg = sms_segments(text)
    return f"enc={seg.encoding}; seg={seg.segments}"


def length_limits(message: Message) -> dict[str, int]:
    """``{'subject': N, 'title': M, 'preheader': P}`` for the parts whose limit the message sets (none by default)."""
    out = {}
    if message.max_subject_chars is not None and message.subject is not None:
        out["subject"] = message.max_subject_chars
    if message.max_title_chars is not None and message.title is not None:
        out["title"] = message.max_title_chars
    if message.max_preheader_chars is not None and message.preheader is not None:
        out["preheader"] = message.max_preheader_chars
    return out


def over_length(message: Message, parts: dict[str, str]) -> list[tuple[str, int, int]]:
    """``(part, characters, limit)`` for each rendered part longer than its limit. Characters are
    Unicode code points (Python ``len``): an emoji is 1, a letter with a combining accent is 2."""
    return [(part, len(parts[part]), limit) for part, limit in length_limits(message).items()
            if part in parts and len(parts[part]) > limit]


def length_detail(message: Message, parts: dict[str, str]) -> str:
    """``'subject_chars=N; '`` / ``'title_chars=N; '`` for each part whose limit the message sets, for
    its ``queued`` record; ``''`` when it sets none (so logs of messages without limits do not change)."""
    return "".join(f"{part}_chars={len(parts.get(part, ''))}; " for part in length_limits(message))
