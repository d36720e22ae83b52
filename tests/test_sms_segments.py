"""SMS encoding and segments: exact values derived by hand from the GSM 03.38 / UCS-2 rules.

Capacity: one part holds 140 octets = 1120 bits = 160 septets (GSM-7) or 70 UTF-16 code units
(UCS-2). A concatenated part spends 6 octets (48 bits) on the user data header, leaving
floor(1072 / 7) = 153 septets or 1072 / 16 = 67 code units. The cases mirror the behaviour of
Twilio's open-source message segment calculator (TwilioDevEd/message-segment-calculator), whose
published test cases are the reference named in issue 17; the inputs here are our own.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.creative import sms_segments, smart_encode
from simulator.creative.sms import GSM7_BASIC, GSM7_EXTENSION, SMART_ENCODING

EXTENSION = ["\f", "^", "{", "}", "\\", "[", "~", "]", "|", "€"]
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # man ZWJ woman ZWJ girl: 3 x 2 + 2 = 8 units
RAINBOW_FLAG = "\U0001F3F3\ufe0f\u200d\U0001F308"  # white flag VS16 ZWJ rainbow: 2 + 1 + 1 + 2 = 6 units
ITALY = "\U0001F1EE\U0001F1F9"  # two regional indicators: 4 units, one cluster
GRIN = "\U0001F600"  # one code point outside the BMP: a surrogate pair, 2 units


def gsm(n: int) -> str:
    """n GSM-7 basic characters, 1 septet each."""
    return ("abcdefghij" * (n // 10 + 1))[:n]


# --- plain GSM-7 around the boundaries -------------------------------------------------------

@pytest.mark.parametrize("length, segments, parts", [
    (0, 1, (0,)),              # empty body: one (empty) segment, as in Twilio's calculator
    (1, 1, (1,)),
    (160, 1, (160,)),          # 160 septets fill one part exactly
    (161, 2, (153, 8)),        # 161 > 160: concatenated, 153 + 8
    (306, 2, (153, 153)),      # 2 x 153 = 306 fit in two parts
    (307, 3, (153, 153, 1)),   # 307 = 2 x 153 + 1
    (459, 3, (153, 153, 153)),  # 3 x 153 = 459
    (460, 4, (153, 153, 153, 1)),  # 460 = 3 x 153 + 1
])
def test_plain_gsm_boundaries(length, segments, parts):
    """Plain GSM-7 of `length` septets: 1 part up to 160, then ceil(length / 153) parts of 153."""
    r = sms_segments(gsm(length))
    assert (r.encoding, r.segments, r.characters, r.part_units) == ("GSM-7", segments, length, parts)
    assert "".join(r.parts) == gsm(length)
    assert r.offending == ()


def test_gsm_part_texts_are_consecutive_slices():
    """161 septets: part 1 is characters 0-152, part 2 characters 153-160."""
    text = gsm(161)
    assert sms_segments(text).parts == (text[:153], text[153:])


def test_per_segment_limit_reported():
    """per_segment is 160 for a single GSM part, 153 once concatenated, 70/67 for UCS-2."""
    assert sms_segments(gsm(160)).per_segment == 160
    assert sms_segments(gsm(161)).per_segment == 153
    assert sms_segments("ç" * 70).per_segment == 70
    assert sms_segments("ç" * 71).per_segment == 67


def test_every_basic_table_character_is_one_septet():
    """All 127 printable GSM 03.38 default-alphabet positions are GSM-7 at 1 septet each."""
    text = "".join(sorted(GSM7_BASIC))
    r = sms_segments(text)
    assert len(GSM7_BASIC) == 127
    assert (r.encoding, r.characters, r.segments) == ("GSM-7", 127, 1)


@pytest.mark.parametrize("ch", ["@", "£", "¥", "è", "Ç", "Ø", "Å", "Δ", "Φ", "ß", "É", "¤", "¡", "¿", "Ä", "ñ", "à", "§"])
def test_non_ascii_gsm_characters_stay_gsm(ch):
    """Latin-1 and Greek letters of the default alphabet keep GSM-7: 'x' + ch = 2 septets."""
    r = sms_segments("x" + ch)
    assert (r.encoding, r.characters) == ("GSM-7", 2)


# --- extension table -------------------------------------------------------------------------

@pytest.mark.parametrize("ch", EXTENSION)
def test_each_extension_character_counts_two_septets(ch):
    """An extension character is ESC + septet: 'ab' + ch = 1 + 1 + 2 = 4 septets, GSM-7."""
    r = sms_segments("ab" + ch)
    assert (r.encoding, r.characters, r.segments, r.offending) == ("GSM-7", 4, 1, ())


@pytest.mark.parametrize("ch", EXTENSION)
def test_extension_character_tips_over_160(ch):
    """ch + 158 basic = 2 + 158 = 160 septets: 1 part; ch + 159 basic = 161: 2 parts (153 + 8)."""
    assert sms_segments(ch + gsm(158)).segments == 1
    r = sms_segments(ch + gsm(159))
    assert (r.segments, r.characters, r.part_units) == (2, 161, (153, 8))


def test_extension_set_matches_gsm_0338():
    """The extension table reachable without national shifts: form feed and ^{}\\[~]|€."""
    assert GSM7_EXTENSION == frozenset(EXTENSION)


def test_escape_sequence_not_split_at_part_boundary():
    """152 basic septets then '€' (2): 152 + 2 = 154 > 153, so '€' opens part 2 whole.

    Total 152 + 2 + 10 = 164 septets > 160, concatenated: part 1 = 152, part 2 = 2 + 10 = 12.
    """
    text = gsm(152) + "€" + gsm(10)
    r = sms_segments(text)
    assert r.part_units == (152, 12)
    assert r.parts[1].startswith("€")


def test_escape_sequence_exactly_fills_part():
    """151 basic + '[' = 153 septets: fills part 1 exactly; 10 more basic go to part 2."""
    r = sms_segments(gsm(151) + "[" + gsm(10))
    assert r.part_units == (153, 10)
    assert r.parts[0].endswith("[")


def test_extension_characters_only():
    """80 x '{' = 160 septets: one part; 81 x '{' = 162: two parts, 76 per part (152, 10)."""
    assert sms_segments("{" * 80).segments == 1
    r = sms_segments("{" * 81)
    assert r.part_units == (152, 10)  # 153 is odd: a 77th '{' would need septets 153 and 154


# --- UCS-2 -----------------------------------------------------------------------------------

@pytest.mark.parametrize("length, segments, parts", [
    (70, 1, (70,)),
    (71, 2, (67, 4)),
    (134, 2, (67, 67)),
    (135, 3, (67, 67, 1)),
])
def test_ucs2_boundaries(length, segments, parts):
    """'ç' is not GSM-7 (only capital Ç is): UCS-2, 70 in one part, else ceil(n / 67)."""
    r = sms_segments("ç" * length)
    assert (r.encoding, r.segments, r.characters, r.part_units) == ("UCS-2", segments, length, parts)


def test_one_non_gsm_character_turns_whole_message_ucs2():
    """100 GSM characters + one 'ç' = 101 code units in UCS-2: 101 > 70, parts 67 + 34."""
    r = sms_segments(gsm(100) + "ç")
    assert (r.encoding, r.characters, r.part_units) == ("UCS-2", 101, (67, 34))
    assert [(o.char, o.position) for o in r.offending] == [("ç", 100)]


def test_extension_characters_cost_one_unit_in_ucs2():
    """In UCS-2 every BMP character is 16 bits: 'ç' + 69 x ']' = 70 units, one part."""
    r = sms_segments("ç" + "]" * 69)
    assert (r.encoding, r.characters, r.segments) == ("UCS-2", 70, 1)


# --- surrogate pairs, emoji, ZWJ sequences ---------------------------------------------------

def test_emoji_is_two_code_units():
    """GRINNING FACE is U+1F600, outside the BMP: 2 UTF-16 code units, 1 grapheme, 1 scalar."""
    r = sms_segments(GRIN)
    assert (r.encoding, r.characters, r.graphemes, r.unicode_scalars) == ("UCS-2", 2, 1, 1)


def test_emoji_plus_68_fits_one_part():
    """2 + 68 = 70 code units: one part."""
    assert sms_segments(GRIN + gsm(68)).segments == 1


def test_emoji_plus_69_needs_two_parts():
    """2 + 69 = 71 code units > 70: parts 67 + 4 (emoji + 65 letters, then 4 letters)."""
    r = sms_segments(GRIN + gsm(69))
    assert r.part_units == (67, 4)


def test_surrogate_pair_not_split_at_part_boundary():
    """66 letters then an emoji: 66 + 2 = 68 > 67, so the emoji opens part 2 intact.

    Total 66 + 2 + 10 = 78 > 70: part 1 = 66 units, part 2 = 2 + 10 = 12 units.
    """
    r = sms_segments("ç" + gsm(65) + GRIN + gsm(10))
    assert r.part_units == (66, 12)
    assert r.parts[1].startswith(GRIN)


def test_surrogate_pair_exactly_fills_part():
    """65 letters + emoji = 67 units: fills part 1; 10 more letters go to part 2."""
    r = sms_segments(gsm(65) + GRIN + gsm(10))
    assert r.part_units == (67, 10)
    assert r.parts[0].endswith(GRIN)


def test_flag_is_one_cluster_of_four_units():
    """A flag is two regional indicators: 4 code units, 1 grapheme; flag + 66 = 70, one part."""
    r = sms_segments(ITALY + gsm(66))
    assert (r.characters, r.graphemes, r.unicode_scalars, r.segments) == (70, 67, 68, 1)
    assert sms_segments(ITALY + gsm(67)).part_units == (67, 4)  # 4 + 63 = 67, then 4


def test_zwj_sequence_kept_whole():
    """Family ZWJ sequence: 8 code units, 5 scalars, 1 grapheme; 8 + 62 = 70 fits one part.

    Scalars 5 + 62 = 67, graphemes 1 + 62 = 63.
    """
    r = sms_segments(FAMILY + gsm(62))
    assert (r.characters, r.graphemes, r.unicode_scalars, r.segments) == (70, 63, 67, 1)
    assert [o.codepoints for o in r.offending] == [("U+1F468", "U+200D", "U+1F469", "U+200D", "U+1F467")]


def test_zwj_sequence_not_split_at_part_boundary():
    """60 letters + family (8): 60 + 8 = 68 > 67, so the whole sequence moves to part 2.

    Total 60 + 8 + 5 = 73 > 70: part 1 = 60, part 2 = 8 + 5 = 13 units.
    """
    r = sms_segments(gsm(60) + FAMILY + gsm(5))
    assert r.part_units == (60, 13)
    assert r.parts[1].startswith(FAMILY)


def test_rainbow_flag_zwj_sequence():
    """White flag + VS16 + ZWJ + rainbow = 6 code units, 4 scalars, 1 grapheme; 6 + 64 = 70."""
    r = sms_segments(RAINBOW_FLAG + gsm(64))
    assert (r.characters, r.graphemes, r.unicode_scalars, r.segments) == (70, 65, 68, 1)
    assert sms_segments(RAINBOW_FLAG + gsm(65)).segments == 2


def test_skin_tone_modifier_stays_with_base():
    """Waving hand + medium skin tone: 2 + 2 = 4 units in one cluster; 63 + 4 = 67 fills part 1."""
    wave = "\U0001F44B\U0001F3FD"
    r = sms_segments(gsm(63) + wave + gsm(5))
    assert r.part_units == (67, 5)
    assert len(r.offending) == 1 and r.offending[0].char == wave


def test_combining_accent_forces_ucs2_and_stays_with_letter():
    """'e' + COMBINING ACUTE is two GSM-able code points in one 2-unit cluster: UCS-2 (as Twilio).

    66 letters + 'e\u0301' (2) = 68 > 67 at the boundary: the cluster opens part 2;
    total 66 + 2 + 3 = 71 > 70.
    """
    decomposed = "e\u0301"
    r = sms_segments(gsm(66) + decomposed + gsm(3))
    assert (r.encoding, r.part_units) == ("UCS-2", (66, 5))
    assert r.offending[0].char == decomposed and r.offending[0].replacement is None
    assert sms_segments("caf\u00e9").encoding == "GSM-7"  # precomposed é is in the GSM table


# --- mixed scripts ---------------------------------------------------------------------------

def test_cyrillic_name_in_latin_text():
    """'Hi Иван!' : 8 BMP code units, UCS-2, offending the four Cyrillic letters at 3..6."""
    r = sms_segments("Hi Иван!")
    assert (r.encoding, r.characters, r.segments) == ("UCS-2", 8, 1)
    assert [o.position for o in r.offending] == [3, 4, 5, 6]
    assert all(o.replacement is None for o in r.offending)


def test_greek_capitals_in_gsm_but_lowercase_not():
    """ΔΦΓ are GSM-7 (basic table); lowercase 'α' is not: 'ΔΦΓ' GSM-7, 'ΔΦΓα' UCS-2 (4 units)."""
    assert sms_segments("ΔΦΓ").encoding == "GSM-7"
    r = sms_segments("ΔΦΓα")
    assert (r.encoding, r.characters) == ("UCS-2", 4)


def test_cjk_and_arabic():
    """'東京' + ' ' + 'مرحبا' = 2 + 1 + 5 = 8 code units, UCS-2, 7 offending characters."""
    r = sms_segments("東京 مرحبا")
    assert (r.encoding, r.characters, len(r.offending)) == ("UCS-2", 8, 7)


def test_accented_name_makes_two_segments():
    """The issue's defect: 150-character GSM text + 'José' = 154 septets, one part.

    'José' with 'é' is GSM, but 'Zoë' has 'ë' (not GSM): 150 + 3 = 153 code units in UCS-2 =
    ceil(153 / 67) = 3 parts (67 + 67 + 19).
    """
    assert sms_segments(gsm(150) + "José").segments == 1
    r = sms_segments(gsm(150) + "Zoë")
    assert (r.encoding, r.part_units) == ("UCS-2", (67, 67, 19))


# --- line breaks -----------------------------------------------------------------------------

def test_crlf_counts_two_characters():
    """'\\rabcde\\r\\n123' = CR + 5 + CR + LF + 3 = 11 septets (CR LF is two GSM characters)."""
    r = sms_segments("\rabcde\r\n123")
    assert (r.encoding, r.characters, r.graphemes) == ("GSM-7", 11, 11)


def test_lf_only():
    """'\\nabcde\\n\\n123\\n' = 1 + 5 + 2 + 3 + 1 = 12 septets."""
    assert sms_segments("\nabcde\n\n123\n").characters == 12


def test_crlf_may_split_across_parts():
    """CR and LF are separate characters: 152 letters + CR LF + 10: CR is septet 153, LF opens part 2."""
    r = sms_segments(gsm(152) + "\r\n" + gsm(10))
    assert r.part_units == (153, 11)
    assert r.parts[0].endswith("\r") and r.parts[1].startswith("\n")


def test_crlf_in_ucs2_costs_two_units():
    """'ç\\r\\nç' = 4 UTF-16 code units."""
    assert sms_segments("ç\r\nç").characters == 4


# --- offending characters and Smart Encoding -------------------------------------------------

def test_curly_quote_forces_ucs2_with_replacement():
    """A 150-letter message with one ’ is UCS-2: 151 units = 3 parts; the offender is named."""
    text = gsm(20) + "\u2019" + gsm(130)
    r = sms_segments(text)
    assert (r.encoding, r.segments) == ("UCS-2", 3)
    (o,) = r.offending
    assert (o.char, o.position, o.codepoints, o.name, o.replacement) == (
        "\u2019", 20, ("U+2019",), "RIGHT SINGLE QUOTATION MARK", "'")


def test_smart_encoding_returns_to_one_gsm_segment():
    """Same text with smart encoding: ’ -> ' and 151 GSM septets: one part."""
    r = sms_segments(gsm(20) + "\u2019" + gsm(130), smart_encoding=True)
    assert (r.encoding, r.segments, r.characters, r.offending) == ("GSM-7", 1, 151, ())


@pytest.mark.parametrize("char, replacement", [
    ("\u201c", '"'), ("\u201d", '"'), ("\u2018", "'"), ("\u2019", "'"), ("\u00ab", '"'),
    ("\u2013", "-"), ("\u2014", "-"), ("\u2026", "..."), ("\u00a0", " "), ("\u2022", "-"),
    ("\uff01", "!"), ("\u00bd", "1/2"),
])
def test_smart_encoding_replacements(char, replacement):
    """Twilio's documented Smart Encoding list: each character is offending and names its replacement."""
    r = sms_segments("a" + char + "b")
    assert r.encoding == "UCS-2"
    assert r.offending[0].replacement == replacement
    assert smart_encode("a" + char + "b") == "a" + replacement + "b"


def test_ellipsis_grows_the_gsm_count():
    """'Wait…' with smart encoding is 'Wait...' = 7 septets (the ellipsis becomes three)."""
    r = sms_segments("Wait\u2026", smart_encoding=True)
    assert (r.text, r.encoding, r.characters) == ("Wait...", "GSM-7", 7)


def test_smart_encoding_cannot_save_emoji():
    """Smart Encoding leaves the emoji: “Hi” 😀 -> "Hi" 😀, still UCS-2 (7 units)."""
    r = sms_segments("\u201cHi\u201d " + GRIN, smart_encoding=True)
    assert (r.text, r.encoding, r.characters) == ('"Hi" ' + GRIN, "UCS-2", 7)
    assert [o.replacement for o in r.offending] == [None]


def test_smart_encoding_map_targets_are_gsm():
    """Every Smart Encoding replacement is itself GSM-7 (or empty: the character is dropped)."""
    for target in SMART_ENCODING.values():
        assert all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in target), repr(target)


def test_non_string_is_rejected():
    """sms_segments(None) raises TypeError naming the type."""
    with pytest.raises(TypeError, match="NoneType"):
        sms_segments(None)  # type: ignore[arg-type]


def test_result_is_frozen():
    """The result is immutable."""
    r = sms_segments("hi")
    with pytest.raises(AttributeError):
        r.segments = 2  # type: ignore[misc]


# --- properties ------------------------------------------------------------------------------

_ALPHABET = st.sampled_from(sorted(GSM7_BASIC | GSM7_EXTENSION) + ["ç", "\u2019", GRIN, ITALY, FAMILY, "e\u0301"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=400).map("".join))
def test_parts_rebuild_text_and_respect_limits(text):
    """Parts concatenate back to the text, sizes add up, and each part respects its limit."""
    r = sms_segments(text)
    assert "".join(r.parts) == text
    assert sum(r.part_units) == r.characters
    limit = r.per_segment
    assert all(u <= limit for u in r.part_units)
    single = 160 if r.encoding == "GSM-7" else 70
    assert (r.segments == 1) == (r.characters <= single)
    assert (r.encoding == "UCS-2") == bool(r.offending)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(sorted(GSM7_BASIC)), min_size=161, max_size=1000).map("".join))
def test_plain_gsm_count_formula(text):
    """Plain basic-table text over 160 septets: exactly ceil(n / 153) parts."""
    assert sms_segments(text).segments == -(-len(text) // 153)
