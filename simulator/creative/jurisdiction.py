"""Which recipients a compliance pack covers, from the country of their IANA time zone.

Recipient jurisdiction (phone area code, address) is not modelled yet, so a recipient's country is
the country (ISO 3166-1 alpha-2) that the IANA tables give for their time zone: ``zone1970.tab``
(a zone shared by several countries lists them all, e.g. ``Europe/London`` is GB, GG, IM, JE) and
``zone.tab`` (one country per zone, including zones ``zone1970.tab`` merges), both read from the
``tzdata`` package. A backward-compatible alias (``US/Eastern``) takes the countries of the zone it
is a copy of. ``UTC`` and ``Etc/*`` zones have no country, so no country pack covers them.

A pack covers a recipient when its ``jurisdiction.country`` is one of the zone's countries. A state
pack (``regions: [FL]``) covers every recipient in its country: the conservative, most restrictive
reading until area codes and addresses are modelled.
"""

from __future__ import annotations

import functools
from importlib import resources
from zoneinfo import ZoneInfo

from simulator.creative.rulepacks import Pack

__all__ = ["pack_applies", "zone_countries"]


def _table(name: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    text = resources.files("tzdata.zoneinfo").joinpath(name).read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        codes, _coords, zone = line.split("\t")[:3]
        out.setdefault(zone, set()).update(codes.split(","))
    return out


def _tzif(zone: str) -> bytes | None:
    parts = zone.split("/")
    try:
        return resources.files("tzdata.zoneinfo").joinpath(*parts).read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, OSError):
        return None


@functools.cache
def _countries() -> dict[str, frozenset[str]]:
    table = _table("zone1970.tab")
    for zone, codes in _table("zone.tab").items():
        table.setdefault(zone, set()).update(codes)
    return {zone: frozenset(codes) for zone, codes in table.items()}


@functools.cache
def _by_content() -> dict[bytes, frozenset[str]]:
    """TZif bytes of every tabled zone -> its countries (the tzdata package ships a link as a copy)."""
    out: dict[bytes, set[str]] = {}
    for zone, codes in _countries().items():
        data = _tzif(zone)
        if data is not None:
            out.setdefault(data, set()).update(codes)
    return {k: frozenset(v) for k, v in out.items()}


@functools.cache
def zone_countries(zone: str | ZoneInfo) -> frozenset[str]:
    """ISO country codes of an IANA zone (empty for ``UTC``, ``Etc/GMT+5`` and other countryless zones)."""
    name = zone.key if isinstance(zone, ZoneInfo) else str(zone)
    if name in _countries():
        return _countries()[name]
    if name.startswith("Etc/") or name in {"UTC", "GMT", "Zulu", "UCT", "Universal", "Greenwich"}:
        return frozenset()
    data = _tzif(name)
    return _by_content().get(data, frozenset()) if data is not None else frozenset()


def pack_applies(pack: Pack, zone: str | ZoneInfo) -> bool:
    """True when ``pack`` covers a recipient in ``zone``: the zone's countries include the pack's country.

    The one rule used by ``journeysim lint`` and the run's ``compliance-quiet-hours`` detector.
    """
    return pack.jurisdiction.country.upper() in zone_countries(zone)
