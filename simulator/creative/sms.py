"""SMS encoding and segment count, exact, the way Twilio's public segment calculator counts them.

Rules (docs/creative.md has the worked examples and sources):

* GSM-7 (3GPP TS 23.038, "GSM 03.38") when every character is in the basic or extension table;
  an extension character (``\\f ^ { } \\ [ ~ ] | €``) is an escape plus a septet: 2 septets.
* UCS-2 as soon as one character is outside GSM-7; every UTF-16 code unit costs 16 bits, so a
  character outside the Basic Multilingual Plane (most emoji) costs two.
* One segment holds 140 octets: 160 septets or 70 UTF-16 code units. A longer message is
  concatenated and every part carries a 6-octet user data header, leaving 153 septets or 67 code
  units per part.
* The text is split into grapheme clusters (Unicode extended grapheme clusters, except that
  CR LF counts as two characters, as in Twilio's calculator). A part never ends inside a cluster,
  so a surrogate pair, an escape sequence, a flag, a ZWJ emoji sequence or a letter with its
  combining accents is never split across two parts. A cluster of two or more UTF-16 code units
  forces UCS-2 even when its code points are GSM-7 (``e`` + COMBINING ACUTE ACCENT).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "SMART_ENCODING",
    "Offending",
    "SmsSegments",
    "sms_segments",
    "smart_encode",
]

#: GSM 03.38 default alphabet (the 127 printable positions; 0x1B is the escape, not a character).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: GSM 03.38 extension table reachable from the default alphabet: each costs escape + septet.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM_SINGLE, _GSM_MULTI = 160, 153  # septets: 1120 bits; (1120 - 48 header bits) // 7
_UCS_SINGLE, _UCS_MULTI = 70, 67  # UTF-16 code units: 1120 / 16; (1120 - 48) / 16

_SPACE = " "
#: Twilio Messaging Services "Smart Encoding" replacements, character by character, as listed at
#: https://www.twilio.com/docs/messaging/services/smart-encoding-char-list and in the
#: SmartEncodingMap of Twilio's open-source calculator (TwilioDevEd/message-segment-calculator).
#: Deviation: Twilio's calculator writes two spaces for NO-BREAK SPACE and most other Unicode
#: spaces (one for U+2001, U+2028, U+2029); journeysim replaces every one of them by one space.
SMART_ENCODING: dict[str, str] = {
    **dict.fromkeys("\u00ab\u00bb\u201c\u201d\u02ba\u02ee\u201f\u201e\u275d\u275e\u301d\u301e\uff02", '"'),
    **dict.fromkeys("\u2018\u2019\u02bb\u02c8\u02bc\u02bd\u02b9\u201b\uff07\u00b4\u02ca\u0060\u02cb"
                    "\u275b\u275c\u0313\u0314\ufe10\ufe11", "'"),
    "\u00f7": "/", "\u00bc": "1/4", "\u00bd": "1/2", "\u00be": "3/4",
    **dict.fromkeys("\u29f8\u0337\u0338\u2044\u2215\uff0f", "/"),
    **dict.fromkeys("\u29f9\u29f5\u20e5\ufe68\uff3c", "\\"),
    **dict.fromkeys("\u0332\uff3f\u2017", "_"),
    **dict.fromkeys("\u20d2\u20d3\u2223\uff5c\u23b8\u23b9\u23d0\u239c\u239f", "|"),
    **dict.fromkeys("\u23bc\u23bd\u2015\ufe63\uff0d\u2010\u2043\u2014\u2013\u2022", "-"),
    **dict.fromkeys("\ufe6b\uff20", "@"), **dict.fromkeys("\ufe69\uff04", "$"),
    **dict.fromkeys("\u01c3\ufe15\ufe57\uff01", "!"), **dict.fromkeys("\ufe5f\uff03", "#"),
    **dict.fromkeys("\ufe6a\uff05", "%"), **dict.fromkeys("\ufe60\uff06", "&"),
    **dict.fromkeys("\u201a\u0326\ufe50\ufe51\uff0c\uff64\u3001", ","),
    **dict.fromkeys("\u2768\u276a\ufe59\uff08\u27ee\u2985", "("),
    **dict.fromkeys("\u2769\u276b\ufe5a\uff09\u27ef\u2986", ")"),
    **dict.fromkeys("\u204e\u2217\u229b\u2722\u2723\u2724\u2725\u2731\u2732\u2733\u273a\u273b"
                    "\u273c\u273d\u2743\u2749\u274a\u274b\u29c6\ufe61\uff0a", "*"),
    **dict.fromkeys("\u02d6\ufe62\uff0b", "+"),
    **dict.fromkeys("\u3002\ufe52\uff0e\uff61", "."),
    **{chr(0xFF10 + d): str(d) for d in range(10)},
    **dict.fromkeys("\u02d0\u02f8\u2982\ua789\ufe13\uff1a", ":"),
    **dict.fromkeys("\u204f\ufe14\ufe54\uff1b", ";"),
    **dict.fromkeys("\ufe64\uff1c", "<"), **dict.fromkeys("\ufe65\uff1e", ">"),
    **dict.fromkeys("\u0347\ua78a\ufe66\uff1d", "="),
    **dict.fromkeys("\ufe16\ufe56\uff1f", "?"),
    **{chr(0xFF21 + i): chr(0x41 + i) for i in range(26)},  # fullwidth A-Z
    **dict(zip("\u1d00\u0299\u1d04\u1d05\u1d07\ua730\u0262\u029c\u026a\u1d0a\u1d0b\u029f\u1d0d"
               "\u0274\u1d0f\u1d18\u0280\ua731\u1d1b\u1d1c\u1d20\u1d21\u028f\u1d22",
               "ABCDEFGHIJKLMNOPRSTUVWYZ")),  # small capitals (no Q, no X)
    **dict.fromkeys("\u02c6\u0302\uff3e\u1dcd", "^"),
    **dict.fromkeys("\u2774\ufe5b\uff5b", "{"), **dict.fromkeys("\u2775\ufe5c\uff5d", "}"),
    "\uff3b": "[", "\uff3d": "]",
    **dict.fromkeys("\u02dc\u02f7\u0303\u0330\u0334\u223c\uff5e", "~"),
    **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
                    "\u202f\u205f\u3000\u2028\u2029\u008d\u009f\u0080\u0090\u009b", _SPACE),
    "\u0009": " " * 7,
    **dict.fromkeys("\u0010\u0000\u0003\u0004\u0017\u0019\u0011\u0012\u0013\u0014\u2060\u200b\ufeff", ""),
    # As in Twilio's list: U+2039 (single left-pointing angle quotation mark) -> ">", U+203A -> "<".
    "\u2039": ">", "\u203a": "<",
    "\u203c": "!!", "\u2026": "...",
}

_CLUSTER = regex.compile(r"\X")


@dataclass(frozen=True)
class Offending:
    """One grapheme cluster that forced UCS-2.

    ``position`` is the 0-based code-point offset of the cluster in the analysed text,
    ``codepoints`` its code points as ``U+XXXX``, ``name`` the Unicode name of its first code point
    and ``replacement`` the GSM-7 text Smart Encoding would put in its place (None: none exists,
    the message stays UCS-2 with Smart Encoding too).
    """

    char: str
    position: int
    codepoints: tuple[str, ...]
    name: str
    replacement: str | None


@dataclass(frozen=True)
class SmsSegments:
    """How one SMS body is encoded and split; see :func:`sms_segments`.

    ``characters`` is what the segment limits count: septets for GSM-7 (extension characters 2),
    UTF-16 code units for UCS-2 (an emoji outside the BMP 2). ``graphemes`` is the number of
    user-perceived characters (Twilio's calculator shows this as "characters" for UCS-2),
    ``unicode_scalars`` the number of code points. ``parts`` are the segment texts and
    ``part_units`` their sizes in the same unit as ``characters``.
    """

    text: str
    encoding: str
    segments: int
    characters: int
    graphemes: int
    unicode_scalars: int
    offending: tuple[Offending, ...]
    parts: tuple[str, ...]
    part_units: tuple[int, ...]

    @property
    def per_segment(self) -> int:
        """Units one part can hold for this message: 160/153 (GSM-7) or 70/67 (UCS-2)."""
        single, multi = (_GSM_SINGLE, _GSM_MULTI) if self.encoding == "GSM-7" else (_UCS_SINGLE, _UCS_MULTI)
        return single if self.segments == 1 else multi


def smart_encode(text: str) -> str:
    """``text`` with every character of :data:`SMART_ENCODING` replaced (Twilio Smart Encoding)."""
    return "".join(SMART_ENCODING.get(ch, ch) for ch in text)


def _clusters(text: str) -> list[str]:
    out: list[str] = []
    for cluster in _CLUSTER.findall(text):
        out.extend(("\r", "\n") if cluster == "\r\n" else (cluster,))
    return out


def _utf16_units(cluster: str) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in cluster)


def _is_gsm(cluster: str) -> bool:
    # A cluster of two or more UTF-16 code units is never GSM-7, as in Twilio's calculator.
    return len(cluster) == 1 and (cluster in GSM7_BASIC or cluster in GSM7_EXTENSION)


def _replacement(cluster: str) -> str | None:
    if cluster == "\r\n":
        return None
    replaced = "".join(SMART_ENCODING.get(ch, ch) for ch in cluster)
    if replaced == cluster or not all(_is_gsm(ch) for ch in replaced):
        return None
    return replaced


def sms_segments(text: str, *, smart_encoding: bool = False) -> SmsSegments:
    """Encoding, billable size and segment split of one SMS body.

    With ``smart_encoding`` the text first goes through :func:`smart_encode`, as a Twilio
    Messaging Service with Smart Encoding on does; ``text`` on the result is then the replaced
    text and offsets refer to it. An empty body is one GSM-7 segment of 0 characters, as in
    Twilio's calculator. Raises ``TypeError`` when ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"sms_segments needs a str, got {type(text).__name__} {text!r}")
    if smart_encoding:
        text = smart_encode(text)
    clusters = _clusters(text)
    gsm = all(_is_gsm(c) for c in clusters)
    if gsm:
        sizes = [2 if c in GSM7_EXTENSION else 1 for c in clusters]
        single, multi, encoding = _GSM_SINGLE, _GSM_MULTI, "GSM-7"
    else:
        sizes = [_utf16_units(c) for c in clusters]
        single, multi, encoding = _UCS_SINGLE, _UCS_MULTI, "UCS-2"
    total = sum(sizes)
    parts: list[str] = []
    units: list[int] = []
    if total <= single:
        parts, units = [text], [total]
    else:
        current: list[str] = []
        used = 0
        for cluster, size in zip(clusters, sizes):
            if used + size > multi and current:
                parts.append("".join(current))
                units.append(used)
                current, used = [], 0
            current.append(cluster)
            used += size
        parts.append("".join(current))
        units.append(used)
    offending: list[Offending] = []
    if not gsm:
        offset = 0
        for cluster in clusters:
            if not _is_gsm(cluster):
                first = cluster[0]
                offending.append(Offending(
                    char=cluster,
                    position=offset,
                    codepoints=tuple(f"U+{ord(ch):04X}" for ch in cluster),
                    name=unicodedata.name(first, f"U+{ord(first):04X}"),
                    replacement=_replacement(cluster),
                ))
            offset += len(cluster)
    return SmsSegments(
        text=text,
        encoding=encoding,
        segments=len(parts),
        characters=total,
        graphemes=len(clusters),
        unicode_scalars=len(text),
        offending=tuple(offending),
        parts=tuple(parts),
        part_units=tuple(units),
    )
