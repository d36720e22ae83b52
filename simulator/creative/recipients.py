"""Phone area codes and postal addresses of synthetic customers (``population.jurisdiction``).

Draws, for every customer, after their time zone (which is drawn as before, so nothing else moves):

1. **address**: country and, in the US and Canada, state or province. For a zone in
   ``regions`` the region is drawn from that distribution; otherwise from the regions whose area
   codes serve the zone, each weighted by how many of its area codes do (``America/New_York``:
   Florida 20 of the zone's area codes, New York 19, ...). A zone outside North America gives its
   country (``zone.tab``: ``Europe/London`` -> GB) and no region; a zone without a country
   (``UTC``) gives neither.
2. **mover** (North American customers only): with probability ``movers`` the customer kept a phone
   number from elsewhere.
3. **phone area code**: a non-mover gets an area code of their address region that serves their
   zone (any of the region's codes when none does), uniformly; a mover gets one from
   ``mover_area_codes``, else uniformly from the area codes of their country outside their region.
   The phone's country and region follow from the area code (:mod:`simulator.creative.areacodes`).
   Outside North America the phone's country is the address country and there is no area code.

Each draw has its own random stream (``jurisdiction:address``, ``jurisdiction:mover``,
``jurisdiction:area_code``), so scenarios without ``population.jurisdiction`` draw exactly what they
drew before.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from simulator.creative.areacodes import area_code, area_codes, region_hint, regions
from simulator.creative.jurisdiction import zone_countries, zone_country

__all__ = ["COLUMNS", "draw_recipients", "check_spec", "set_recipient"]

#: customers.parquet columns added when the scenario models jurisdiction.
COLUMNS = ("phone_area_code", "phone_country", "phone_region", "address_country", "address_region", "mover")
NANP = ("US", "CA")


@functools.cache
def zone_regions(zone: str) -> dict[tuple[str, str], tuple[str, ...]]:
    """``(country, region)`` -> its area codes that serve ``zone``, for regions with at least one."""
    out: dict[tuple[str, str], list[str]] = {}
    countries = zone_countries(zone) & set(NANP)
    for ac in area_codes().values():
        if ac.country in countries and zone in ac.zones:
            for r in ac.regions:
                out.setdefault((ac.country, r), []).append(ac.code)
    return {k: tuple(v) for k, v in sorted(out.items())}


def _country_of_region(zone: str, region: str) -> str | None:
    """The North American country of ``region`` among the zone's countries (None: not a region there)."""
    for country in sorted(zone_countries(zone) & set(NANP)):
        if (country, region) in regions():
            return country
    return None


def check_spec(spec: Any, zones: Sequence[str], add: Callable[..., None],
               unknown: Callable[..., None]) -> None:
    """Validate ``population.jurisdiction``: every zone in ``regions`` is a population zone in the US or
    Canada, every region exists there, shares add up to 1, every mover area code is known."""
    base = ("population", "jurisdiction")
    for zone, dist in spec.regions.items():
        path = base + ("regions", zone)
        if zone not in zones:
            unknown(path, "population time zone", zone, zones)
            continue
        countries = zone_countries(zone) & set(NANP)
        if not countries:
            add(path, f"{zone} is not in the US or Canada (its countries: "
                      f"{', '.join(sorted(zone_countries(zone))) or 'none'}), so it has no states or provinces",
                "list only North American zones under regions")
            continue
        for region in dist:
            if _country_of_region(zone, region) is None:
                hint = region_hint(region, countries)
                add(path + (region,), f"unknown state or province of {'/'.join(sorted(countries))} '{region}'",
                    f"did you mean '{hint}'?" if hint else "write a two-letter code such as FL or ON")
        total = sum(dist.values())
        if dist and abs(total - 1) > 1e-6:
            add(path, f"region shares must add up to 1, they add up to {total:g}", "adjust the shares")
    codes = area_codes()
    for code in spec.mover_area_codes:
        if code not in codes:
            unknown(base + ("mover_area_codes", code), "US or Canadian area code", code, codes)
    total = sum(spec.mover_area_codes.values())
    if spec.mover_area_codes and abs(total - 1) > 1e-6:
        add(base + ("mover_area_codes",), f"area code shares must add up to 1, they add up to {total:g}",
            "adjust the shares")
    if spec.mover_area_codes and not spec.movers:
        add(base + ("movers",), "mover_area_codes is set but movers is 0, so no customer uses it",
            "set movers: to a share such as 5%")


def _choice(rng: np.random.Generator, options: Sequence[Any], weights: Sequence[float], n: int) -> list[Any]:
    p = np.asarray(weights, dtype=np.float64)
    picks = rng.choice(len(options), n, p=p / p.sum())
    return [options[i] for i in picks]


def draw_recipients(spec: Any, zone_names: Sequence[str], zone: np.ndarray,
                    child: Callable[[str], np.random.Generator]) -> dict[str, np.ndarray]:
    """The :data:`COLUMNS` for every customer (object arrays; None where a value does not exist).

    ``zone`` holds each customer's index into ``zone_names``; ``child(key)`` returns the random
    stream ``key``. Customers are handled zone by zone in ``zone_names`` order, each zone's
    customers in index order, so the draws are deterministic.
    """
    n = len(zone)
    out = {c: np.full(n, None, dtype=object) for c in COLUMNS}
    out["mover"] = np.zeros(n, dtype=bool)
    r_addr, r_move, r_code = child("jurisdiction:address"), child("jurisdiction:mover"), child("jurisdiction:area_code")
    for zi, name in enumerate(zone_names):
        idx = np.flatnonzero(zone == zi)
        if not len(idx):
            continue
        served = zone_regions(name)
        if name in spec.regions and spec.regions[name]:
            keys = [(_country_of_region(name, r), r) for r in spec.regions[name]]
            weights = list(spec.regions[name].values())
        elif served:
            keys, weights = list(served), [len(v) for v in served.values()]
        else:  # outside North America: the zone's country, no region, no area code
            country = zone_country(name)
            out["address_country"][idx] = country
            out["phone_country"][idx] = country
            continue
        picked = _choice(r_addr, keys, weights, len(idx))
        moving = r_move.random(len(idx)) < spec.movers
        for j, i in enumerate(idx):
            country, region = picked[j]
            out["address_country"][i], out["address_region"][i] = country, region
            if moving[j]:
                if spec.mover_area_codes:
                    code = _choice(r_code, list(spec.mover_area_codes), list(spec.mover_area_codes.values()), 1)[0]
                else:
                    others = _elsewhere(country, region)
                    code = others[int(r_code.integers(len(others)))]
                out["mover"][i] = True
            else:
                pool = served.get((country, region)) or regions()[(country, region)]
                code = pool[int(r_code.integers(len(pool)))]
            ac = area_code(code)
            out["phone_area_code"][i], out["phone_country"][i], out["phone_region"][i] = code, ac.country, ac.region_text
    return out


@functools.cache
def _elsewhere(country: str, region: str) -> tuple[str, ...]:
    return tuple(sorted(c for c, ac in area_codes().items() if ac.country == country and region not in ac.regions))


def set_recipient(out: dict[str, np.ndarray], i: int, given: Any, where: str) -> None:
    """Give customer ``i`` the phone and address a scripted customer names: ``area_code`` (``"305"``: the
    phone's country and region follow) and ``address`` (``"US-FL"``, or a country alone: ``"GB"``).
    Unknown keys or values raise :class:`~simulator.errors.ScenarioError` naming ``where``."""
    from simulator.errors import ScenarioError, ScenarioIssue
    from simulator.scenario.units import did_you_mean

    issues = []
    for key, value in dict(given).items():
        if key == "area_code":
            code = str(value)
            if code not in area_codes():
                hint = did_you_mean(code, list(area_codes()))
                issues.append(ScenarioIssue(f"{where}.area_code", f"unknown US or Canadian area code '{code}'",
                                            hint=f"did you mean '{hint}'?" if hint else None))
                continue
            ac = area_code(code)
            out["phone_area_code"][i], out["phone_country"][i], out["phone_region"][i] = code, ac.country, ac.region_text
            out["mover"][i] = out["address_region"][i] is not None and out["address_region"][i] not in ac.regions
        elif key == "address":
            country, _, region = str(value).partition("-")
            if region and (country, region) not in regions():
                guess = region_hint(region, {country})
                hint = f"{country}-{guess}" if guess else did_you_mean(str(value), [f"{c}-{r}" for c, r in regions()])
                issues.append(ScenarioIssue(f"{where}.address", f"unknown state or province '{value}'",
                                            hint=f"did you mean '{hint}'?" if hint else "write it as US-FL or CA-ON"))
                continue
            out["address_country"][i], out["address_region"][i] = country, region or None
            phone = out["phone_region"][i]
            out["mover"][i] = bool(region and phone and region not in str(phone).split("/"))
        else:
            hint = did_you_mean(str(key), ["area_code", "address"])
            issues.append(ScenarioIssue(f"{where}.{key}", f"unknown recipient key '{key}' (known: area_code, address)",
                                        hint=f"did you mean '{hint}'?" if hint else None))
    if issues:
        raise ScenarioError(issues, None)
