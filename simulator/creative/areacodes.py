"""North American area codes -> US state or Canadian province, and their time zones.

Built from two well-kept libraries, not a hand table:

* ``phonenumbers`` (the Python port of Google's libphonenumber): its geocoding data names the place
  of a number prefix in English (``1305`` -> ``Florida``, ``1212`` -> ``New York, NY``) and its time
  zone data gives the IANA zones of a prefix (``1305`` -> ``America/New_York``);
* ``pycountry`` (ISO 3166-2): turns the place name into a subdivision code (``Florida`` -> ``US-FL``).

An area code's region is the place of its 4-digit prefix (``1`` + the area code). Where the data has
no 4-digit entry (``203``, ``713``, ``905``), it is the region most of the longer prefixes name.
Place names that are cities (``New York, NY``) give the code after the comma; three names are
spelled differently from ISO (``Washington State``, ``Washington D.C.``, ``British Colombia``);
two area codes serve several provinces (``902``: NS and PE; ``867``: NT, NU and YT) and keep them
all. Area codes of other NANP countries (Caribbean) have no US or Canadian region and are left out.
An area code's zones are the zones of every time-zone prefix that starts with it (``208``, Idaho:
America/Boise and America/Los_Angeles).
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter
from dataclasses import dataclass

__all__ = ["AreaCode", "area_code", "area_codes", "region_hint", "region_zones", "regions", "source_versions"]

_ALIASES = {"Washington State": "US-WA", "Washington D.C.": "US-DC", "British Colombia": "CA-BC"}


@dataclass(frozen=True)
class AreaCode:
    """One area code: ``country`` (US or CA), ``regions`` (``('FL',)``; two or three for 867 and 902),
    ``zones`` (IANA) and the ``place`` the data names."""

    code: str
    country: str
    regions: tuple[str, ...]
    zones: tuple[str, ...]
    place: str

    @property
    def region_text(self) -> str:
        return "/".join(self.regions)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


@functools.cache
def _subdivisions() -> dict[str, str]:
    import pycountry

    out = {}
    for country in ("US", "CA"):
        for sub in pycountry.subdivisions.get(country_code=country):
            out[_ascii(sub.name)] = sub.code
    return out


def _codes(place: str) -> tuple[str, ...]:
    """ISO 3166-2 codes (``US-FL``) of a geocoder place name; () when it is not a US/CA region."""
    subs = _subdivisions()
    known = set(subs.values())
    out = []
    for part in place.split("/"):
        part = part.strip()
        if part in _ALIASES:
            out.append(_ALIASES[part])
        elif _ascii(part) in subs:
            out.append(subs[_ascii(part)])
        elif ", " in part:
            suffix = part.rsplit(", ", 1)[1]
            hit = [c for c in known if c.endswith("-" + suffix)]
            if len(hit) == 1:
                out.append(hit[0])
    return tuple(out)


@functools.cache
def area_codes() -> dict[str, AreaCode]:
    """Every US and Canadian area code the data knows, by its three digits."""
    from phonenumbers.geodata import GEOCODE_DATA
    from phonenumbers.tzdata import TIMEZONE_DATA

    places: dict[str, list[str]] = {}
    exact: dict[str, str] = {}
    for prefix, names in GEOCODE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4 and "en" in names:
            npa = prefix[1:4]
            if len(prefix) == 4:
                exact[npa] = names["en"]
            else:
                places.setdefault(npa, []).append(names["en"])
    zones: dict[str, set[str]] = {}
    for prefix, zs in TIMEZONE_DATA.items():
        if prefix.startswith("1") and len(prefix) >= 4:
            zones.setdefault(prefix[1:4], set()).update(zs)
    out = {}
    for npa in sorted(set(exact) | set(places)):
        if npa in exact:
            place, codes = exact[npa], _codes(exact[npa])
        else:
            votes = Counter(c for p in places[npa] for c in [_codes(p)] if c)
            if not votes:
                continue
            codes = votes.most_common(1)[0][0]
            place = next(p for p in places[npa] if _codes(p) == codes)
        if not codes or len({c[:2] for c in codes}) != 1:
            continue
        out[npa] = AreaCode(npa, codes[0][:2], tuple(c[3:] for c in codes), tuple(sorted(zones.get(npa, ()))),
                            place)
    return out


def area_code(code: str) -> AreaCode:
    """The area code ``code``; ``KeyError`` when it is not a known US or Canadian one."""
    return area_codes()[str(code)]


@functools.cache
def regions() -> dict[tuple[str, str], tuple[str, ...]]:
    """``(country, region)`` -> its area codes, sorted."""
    out: dict[tuple[str, str], list[str]] = {}
    for ac in area_codes().values():
        for r in ac.regions:
            out.setdefault((ac.country, r), []).append(ac.code)
    return {k: tuple(sorted(v)) for k, v in sorted(out.items())}


@functools.cache
def region_zones(country: str, region: str) -> tuple[str, ...]:
    """IANA zones of a region: every zone of any of its area codes (``FL``: America/Chicago, America/New_York)."""
    return tuple(sorted({z for c in regions().get((country, region), ()) for z in area_code(c).zones}))


def source_versions() -> str:
    """``phonenumbers X, pycountry Y``: the data versions (for the docs and ``journeysim compliance``)."""
    from importlib.metadata import version

    return f"phonenumbers {version('phonenumbers')}, pycountry {version('pycountry')}"


def region_hint(text: str, countries: tuple[str, ...] | set[str]) -> str | None:
    """The region code a mistyped ``text`` most likely means: the one region whose name it abbreviates
    (same first letter, its letters in order: ``FLA`` and ``Florida`` -> ``FL``), else the closest code
    (``WS`` -> ``WA``)."""
    from simulator.scenario.units import did_you_mean

    word = _ascii(str(text)).strip().lower()
    named = sorted(code[3:] for name, code in _subdivisions().items()
                   if code[:2] in countries and word and _abbreviates(word, name.lower()))
    if len(named) == 1:
        return named[0]
    return did_you_mean(str(text), [r for c, r in regions() if c in countries])


def _abbreviates(word: str, name: str) -> bool:
    if not word or not name or word[0] != name[0]:
        return False
    rest = iter(name)
    return all(ch in rest for ch in word)
