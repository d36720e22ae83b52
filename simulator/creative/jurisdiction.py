"""Which recipients a compliance pack covers, and by which signal.

Countries of a time zone come from the IANA tables in the ``tzdata`` package: ``zone1970.tab`` (a
zone shared by several countries lists them all, e.g. ``Europe/London`` is GB, GG, IM, JE) and
``zone.tab`` (one country per zone, including zones ``zone1970.tab`` merges). A backward-compatible
alias (``US/Eastern``) takes the countries of the zone it is a copy of. ``UTC`` and ``Etc/*`` zones
have no country.

Two cases (:func:`covering`):

* the scenario does not model phones and addresses (no ``population.jurisdiction``): a pack covers
  a recipient when its country is one of their zone's countries, and a state pack
  (``regions: [FL]``) covers every recipient in its country (the conservative reading);
* it does: each customer has a phone (country; area code, state or province in North America),
  an address (country; state or province) and a zone. A pack trusts some of these signals
  (``jurisdiction.signals``) and combines them with ``any`` (one suffices) or ``all``; the finding
  names the signals that placed the customer under the pack.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from simulator.creative.rulepacks import Pack

__all__ = ["covering", "pack_applies", "signal_values", "signal_zones", "zone_countries", "zone_country"]


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


@functools.cache
def zone_country(zone: str | ZoneInfo) -> str | None:
    """The one country ``zone.tab`` gives a zone (``Europe/London``: GB); for a zone it lacks, the only
    country of :func:`zone_countries`, else the first in alphabetical order; None without a country."""
    name = zone.key if isinstance(zone, ZoneInfo) else str(zone)
    primary = _table("zone.tab").get(name)
    if primary:
        return sorted(primary)[0]
    countries = zone_countries(name)
    return sorted(countries)[0] if countries else None


def signal_values(customer: Mapping[str, Any]) -> dict[str, tuple[str | None, tuple[str, ...], str]]:
    """``signal -> (country, regions, description)`` of one customer row (``timezone`` and the
    :data:`simulator.creative.recipients.COLUMNS`). The zone's "country" is every country of the zone,
    joined by '/', and it has no region."""
    out: dict[str, tuple[str | None, tuple[str, ...], str]] = {}
    code, country, region = (_v(customer.get(k)) for k in ("phone_area_code", "phone_country", "phone_region"))
    regions = tuple(region.split("/")) if region else ()
    where = f"{country}-{region}" if region else (country or "no country")
    out["phone"] = (country, regions, f"phone area code {code} ({where})" if code else f"phone number ({where})")
    country, region = _v(customer.get("address_country")), _v(customer.get("address_region"))
    out["address"] = (country, (region,) if region else (),
                      f"address in {country}-{region}" if region else f"address in {country or 'no country'}")
    zone = str(customer.get("timezone"))
    countries = sorted(zone_countries(zone))
    out["zone"] = ("/".join(countries) or None, (), f"time zone {zone} ({', '.join(countries) or 'no country'})")
    return out


def _v(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and value != value) else value


def covering(pack: Pack, customer: Mapping[str, Any], modelled: bool) -> tuple[str, ...]:
    """Descriptions of the signals that put ``customer`` under ``pack``; () when it does not cover them.

    ``modelled`` is False when the scenario has no ``population.jurisdiction``: then only the zone
    counts and a state pack covers its whole country (``('time zone America/New_York (US)',)``).
    """
    j = pack.jurisdiction
    zone = str(customer.get("timezone"))
    if not modelled:
        if not pack_applies(pack, zone):
            return ()
        return (signal_values(customer)["zone"][2],)
    values = signal_values(customer)
    hits = []
    for signal in j.trusted:
        country, regions, text = values[signal]
        if signal == "zone":
            ok = j.country.upper() in zone_countries(zone)
        else:
            ok = country == j.country.upper() and (not j.regions or bool(set(regions) & set(j.regions)))
        hits.append((ok, text))
    if j.combine == "all" and not all(ok for ok, _ in hits):
        return ()
    return tuple(text for ok, text in hits if ok)


def signal_zones(customer: Mapping[str, Any], signals: tuple[str, ...]) -> list[tuple[str, tuple[str, ...]]]:
    """(signal, its zones) for each of ``signals`` (from :func:`covering`) that names a North American
    place: a phone area code's own zones, or every zone of an address state or province. A customer whose
    time zone is in none of them is timed in a zone that is not their jurisdiction's."""
    from simulator.creative.areacodes import area_codes, region_zones

    out = []
    for text in signals:
        if text.startswith("phone area code "):
            code = str(customer.get("phone_area_code"))
            if code in area_codes():
                out.append((text, area_codes()[code].zones))
        elif text.startswith("address in ") and _v(customer.get("address_region")):
            zones = region_zones(str(customer["address_country"]), str(customer["address_region"]))
            if zones:
                out.append((text, zones))
    return out
