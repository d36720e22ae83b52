"""Compliance jurisdiction: area codes, drawn phones and addresses, which signal puts a customer under a
pack, and the run findings that use them (compliance-quiet-hours by signal, compliance-zone-mismatch,
compliance-consent's root causes).

Times: the kinds scenario starts Tue 2026-12-01 00:00Z; in December New York is EST (UTC-5), Chicago
CST (UTC-6), Los Angeles PST (UTC-8).
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from test_findings_kinds import JURISDICTION, PROMO_SMS, H, journey, of_kind, person, run, scenario

from simulator.cli import cli
from simulator.creative.areacodes import area_code, area_codes, region_zones, regions
from simulator.creative.jurisdiction import covering
from simulator.creative.rulepacks import Pack, load_pack
from simulator.errors import ScenarioError
from simulator.engine.population import build_population, customers_frame
from simulator.scenario.load import load_scenario_text

# --------------------------------------------------------------------------- the area-code table


@pytest.mark.parametrize("code, country, regions_, zones", [
    ("305", "US", ("FL",), ("America/New_York",)),            # Miami
    ("850", "US", ("FL",), ("America/Chicago", "America/New_York")),  # the panhandle spans two zones
    ("212", "US", ("NY",), ("America/New_York",)),            # "New York, NY" in the data: a city name
    ("405", "US", ("OK",), ("America/Chicago",)),
    ("410", "US", ("MD",), ("America/New_York",)),
    ("206", "US", ("WA",), ("America/Los_Angeles",)),         # "Washington State" in the data
    ("202", "US", ("DC",), ("America/New_York",)),            # "Washington D.C."
    ("713", "US", ("TX",), ("America/Chicago",)),             # no 4-digit entry: majority of longer prefixes
    ("416", "CA", ("ON",), ("America/Toronto",)),
    ("604", "CA", ("BC",), ("America/Vancouver",)),
    ("902", "CA", ("NS", "PE"), ("America/Halifax",)),        # one code, two provinces
])
def test_area_code_table(code, country, regions_, zones):
    """Area code -> country, state or province, zones, from phonenumbers' geocoder and pycountry (NANPA facts)."""
    ac = area_code(code)
    assert (ac.country, ac.regions, ac.zones) == (country, regions_, zones)


def test_area_code_table_covers_the_states():
    """Every US state, DC and every Canadian province and territory has area codes; Florida's include the
    well-known Miami, Orlando, Tampa, Jacksonville and panhandle codes; its zones are Central and Eastern.
    Caribbean NANP codes (242 Bahamas, 876 Jamaica) are not US or Canadian and are left out."""
    states = {r for c, r in regions() if c == "US"}
    assert len(states - {"DC", "VI"}) == 50 and "DC" in states
    assert {r for c, r in regions() if c == "CA"} == {"AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE",
                                                     "QC", "SK", "YT"}
    assert {"305", "786", "954", "407", "813", "904", "850", "941"} <= set(regions()[("US", "FL")])
    assert region_zones("US", "FL") == ("America/Chicago", "America/New_York")
    assert "242" not in area_codes() and "876" not in area_codes()


# --------------------------------------------------------------------------- drawn phones and addresses

DRAW = """\
scenario: draw
start: 2026-12-01T00:00:00Z
duration: 1d
seed: 5
population:
  size: 3000
  timezones: {America/New_York: 0.5, America/Los_Angeles: 0.3, Europe/London: 0.2}
JUR
systems:
  sms: {kind: channel, channel: sms}
journeys:
  - {name: j, reads_from: sms, entry: {event: sms_clicked}, steps: [{id: a, wait: 1h}]}
"""
SPEC = "  jurisdiction: {regions: {America/New_York: {FL: 50%, NY: 50%}}, movers: 10%}"


def frame(spec: str = SPEC):
    sc = load_scenario_text(DRAW.replace("JUR", spec))
    return customers_frame(build_population(sc, np.random.default_rng(sc.seed)))


def test_draws_consistent_with_the_zone_and_movers():
    """Non-movers: the area code's region is the address region and serves the customer's zone. Movers
    (10% of the ~2,400 North Americans: 240 expected, sd 14.7): area code from another region. New York
    addresses are FL or NY at 50% each (1,500 expected, sd 27). London: GB address and phone, no area code."""
    f = frame()
    na = f[f["timezone"] != "Europe/London"]
    stay, move = na[~na["mover"]], na[na["mover"]]
    assert (stay["phone_region"] == stay["address_region"]).all()
    assert all(z in area_code(c).zones for z, c in zip(stay["timezone"], stay["phone_area_code"]))
    assert all(a not in p.split("/") for a, p in zip(move["address_region"], move["phone_region"]))
    assert abs(len(move) - 0.1 * len(na)) < 5 * (0.1 * 0.9 * len(na)) ** 0.5
    ny = f[f["timezone"] == "America/New_York"]
    assert set(ny["address_region"]) == {"FL", "NY"}
    assert abs((ny["address_region"] == "FL").sum() - len(ny) / 2) < 5 * (len(ny) / 4) ** 0.5
    assert set(f[f["timezone"] == "America/Los_Angeles"]["address_region"]) <= {"CA", "WA", "OR", "NV", "ID"}
    uk = f[f["timezone"] == "Europe/London"]
    assert set(uk["address_country"]) == {"GB"} and set(uk["phone_country"]) == {"GB"}
    assert uk["phone_area_code"].isna().all() and not uk["mover"].any()


def test_new_streams_leave_every_other_draw_alone():
    """The same scenario without population.jurisdiction draws the same zones, attributes and consent:
    only the six new columns differ. Same seed twice: identical."""
    with_ = frame()
    without = frame("")
    assert list(without.columns) + ["phone_area_code", "phone_country", "phone_region", "address_country",
                                    "address_region", "mover"] == list(with_.columns)
    assert with_[list(without.columns)].equals(without)
    assert frame().equals(with_)


def test_mover_area_codes():
    """mover_area_codes: every mover's phone is 305 (Florida), whatever their address."""
    f = frame("  jurisdiction: {movers: 30%, mover_area_codes: {305: 100%}}")
    move = f[f["mover"]]
    assert len(move) > 0 and set(move["phone_area_code"]) == {"305"}


@pytest.mark.parametrize("spec, message", [
    ("{regions: {America/New_York: {FLA: 100%}}}", "did you mean 'FL'?"),
    ("{regions: {America/Chicago: {TX: 100%}}}", "unknown population time zone 'America/Chicago'"),
    ("{regions: {Europe/London: {ENG: 100%}}}", "Europe/London is not in the US or Canada"),
    ("{regions: {America/New_York: {FL: 50%, NY: 40%}}}", "region shares must add up to 1, they add up to 0.9"),
    ("{movers: 5%, mover_area_codes: {3055: 100%}}", "unknown US or Canadian area code '3055'"),
    ("{mover_area_codes: {305: 100%}}", "mover_area_codes is set but movers is 0"),
])
def test_bad_jurisdiction_spec(spec, message):
    """Every name is checked, with a did-you-mean where one is close."""
    with pytest.raises(ScenarioError) as err:
        load_scenario_text(DRAW.replace("JUR", f"  jurisdiction: {spec}"))
    assert message in str(err.value)


def test_bad_jurisdiction_spec_cli_exit_2(tmp_path):
    """journeysim validate: exit 2 with the key path and the fix."""
    path = tmp_path / "s.yaml"
    path.write_text(DRAW.replace("JUR", "  jurisdiction: {regions: {America/New_York: {FLA: 100%}}}"))
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 2
    assert "population.jurisdiction.regions.America/New_York.FLA" in result.output and "'FL'" in result.output


@pytest.mark.parametrize("recipient, message", [
    ({"area_code": "999"}, "unknown US or Canadian area code '999'"),
    ({"address": "US-FLA"}, "did you mean 'US-FL'?"),
    ({"zip": "33101"}, "unknown recipient key 'zip'"),
])
def test_bad_scripted_recipient(recipient, message):
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"), population=JURISDICTION)
    with pytest.raises(ScenarioError) as err:
        run(text, person((H, "go"), recipient=recipient))
    assert message in str(err.value)


def test_scripted_recipient_needs_jurisdiction():
    """A phone given to a scripted customer of a scenario that does not model phones is an error, not ignored."""
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"))
    with pytest.raises(ScenarioError, match="does not model them"):
        run(text, person((H, "go"), recipient={"area_code": "305"}))


# --------------------------------------------------------------------------- which signal covers whom


def cust(zone, code=None, address=None):
    ac = area_code(code) if code else None
    country, _, region = (address or "").partition("-")
    return {"timezone": zone, "phone_area_code": code, "phone_country": ac.country if ac else country or None,
            "phone_region": ac.region_text if ac else None, "address_country": country or None,
            "address_region": region or None}


NY, LA, LON = "America/New_York", "America/Los_Angeles", "Europe/London"


@pytest.mark.parametrize("pack, customer, signals", [
    ("us-fl", cust(NY, "305", "US-NY"), ("phone area code 305 (US-FL)",)),     # a mover: area code OR address
    ("us-fl", cust(NY, "212", "US-FL"), ("address in US-FL",)),
    ("us-fl", cust(NY, "212", "US-NY"), ()),
    ("us-fl", cust(NY, "305", "US-FL"), ("phone area code 305 (US-FL)", "address in US-FL")),
    ("us-tcpa", cust(LA, "305", "US-CA"), ("phone area code 305 (US-FL)", "address in US-CA",
                                           "time zone America/Los_Angeles (US)")),
    ("us-tcpa", cust(LON, None, "GB"), ()),
    ("uk-pecr", cust(LON, None, "GB"), ("phone number (GB)", "address in GB", "time zone Europe/London (GB, GG, IM, JE)")),
    ("casl", cust("America/Toronto", "416", "CA-ON"), ("phone area code 416 (CA-ON)", "address in CA-ON",
                                                       "time zone America/Toronto (BS, CA)")),  # tzdata: Toronto is also the Bahamas
])
def test_covering_signals(pack, customer, signals):
    assert covering(load_pack(pack), customer, True) == signals


def test_covering_all_and_unmodelled():
    """combine: all needs every trusted signal (the mover is not covered); without modelling a state pack
    covers its whole country by zone (the conservative reading)."""
    data = load_pack("us-fl").model_dump(by_alias=True)
    data["jurisdiction"]["combine"] = "all"
    strict = Pack.model_validate(data)
    assert covering(strict, cust(NY, "305", "US-NY"), True) == ()
    assert covering(strict, cust(NY, "305", "US-FL"), True) == ("phone area code 305 (US-FL)", "address in US-FL")
    assert covering(load_pack("us-fl"), {"timezone": NY}, False) == ("time zone America/New_York (US)",)
    assert covering(load_pack("us-fl"), {"timezone": LON}, False) == ()


def test_regional_pack_cannot_trust_the_zone():
    data = load_pack("us-fl").model_dump(by_alias=True)
    data["jurisdiction"]["signals"] = ["zone"]
    with pytest.raises(ValueError, match="cannot trust the 'zone' signal"):
        Pack.model_validate(data)


# --------------------------------------------------------------------------- in a run


def test_quiet_hours_by_signal():
    """compliance: [us-fl]; four New York customers texted at entry, 1h30m = 01:30Z = Mon 20:30 EST (Florida
    allows 08:00-20:00). a: 305 + FL address; b: 212 + NY (not Floridian); c: 212 + FL address (moved to
    Florida, kept a New York number); d: 305 + NY address (moved away, kept a Miami number). Florida's pack
    trusts area code OR address: a, c, d flagged, each naming the signals; b not. No zone mismatch: every
    signal's zones include New York."""
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"), population=JURISDICTION,
                    extra="compliance: [us-fl]\n")
    people = [person((1.5 * H, "go"), name=n, zone=NY, recipient={"area_code": c, "address": a})
              for n, c, a in (("a", "305", "US-FL"), ("b", "212", "US-NY"), ("c", "212", "US-FL"),
                              ("d", "305", "US-NY"))]
    result = run(text, *people)
    quiet = of_kind(result, "compliance-quiet-hours")
    assert list(quiet["customer"]) == ["a", "c", "d"]
    assert list(quiet["signal"]) == ["phone area code 305 (US-FL); address in US-FL", "address in US-FL",
                                     "phone area code 305 (US-FL)"]
    assert set(quiet["rule"]) == {"us-fl:quiet-hours"} and set(quiet["time"]) == {"2026-12-01 01:30"}
    assert "Mon 20:30 EST" in quiet["message"][0]
    assert len(of_kind(result, "compliance-zone-mismatch")) == 0


def test_zone_mismatch_by_address():
    """ana's send zone is Los Angeles, her phone 213 (Los Angeles), her address in Florida: us-fl covers her by
    address; Florida's zones are Central and Eastern. Texted at 2h = 02:00Z = Mon 18:00 PST (allowed, so no
    compliance-quiet-hours) = 20:00 CST (end exclusive: forbidden) = 21:00 EST (forbidden)."""
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"), population=JURISDICTION,
                    extra="compliance: [us-fl]\n")
    result = run(text, person((2 * H, "go"), zone=LA, recipient={"area_code": "213", "address": "US-FL"}))
    assert len(of_kind(result, "compliance-quiet-hours")) == 0
    mismatch = of_kind(result, "compliance-zone-mismatch")
    assert len(mismatch) == 1 and mismatch["signal"][0] == "address in US-FL"
    assert "Mon 20:00 CST in America/Chicago, Mon 21:00 EST in America/New_York" in mismatch["message"][0]
    assert "forbids it there (America/Chicago, America/New_York)" in mismatch["root_cause"][0]
    assert mismatch["severity"][0] == "warning"


CONSENT_ONLY_EMAIL = "  consent_required: [email, sms]"


def test_consent_never_given_names_the_other_channel():
    """uk-pecr: ana (London) consented to email, not SMS; the scenario checks no consent for SMS, so the
    promotional SMS at 1h is delivered: 1 compliance-consent, "never consented to sms; consent for email does
    not cover sms". No consent-violation (the scenario does not require SMS consent)."""
    text = scenario(messages=PROMO_SMS, journeys=journey("{id: a, send: p}"), extra="compliance: [uk-pecr]\n")
    text = text.replace(CONSENT_ONLY_EMAIL, "  consent_required: [email]")
    result = run(text, person((H, "go"), zone=LON, sms=False))
    found = of_kind(result, "compliance-consent")
    assert len(found) == 1 and len(of_kind(result, "consent-violation")) == 0
    assert "ana never consented to sms; consent for email does not cover sms" in found["root_cause"][0]
    assert found["rule"][0] == "uk-pecr:consent-per-channel"
    assert found["signal"][0] == "time zone Europe/London (GB, GG, IM, JE)"
    # the same SMS to a New York customer: PECR does not cover her
    assert len(of_kind(run(text, person((H, "go"), zone=NY, sms=False)), "compliance-consent")) == 0


def test_late_opt_out_names_the_path():
    """can-spam (see test_findings_kinds.compliance_unsubscribe_late): the finding names the deadline
    (2026-12-16 00:00 UTC), the rule and the sync path crm->cdp that held the opt-out for 16 days."""
    from test_findings_kinds import compliance_unsubscribe_late

    found = of_kind(run(*_built(compliance_unsubscribe_late(15 * 24 * H + H))), "compliance-unsubscribe")
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["rule"], row["link"], row["time"]) == ("can-spam:opt-out-deadline", "crm->cdp", "2026-12-16 01:00")
    assert "deadline of 10 business days (2026-12-16 00:00 UTC)" in row["message"]
    assert "15 U.S.C. 7704(a)(4)" in row["root_cause"]


def _built(pair):
    text, people = pair
    return (text, *people)


def test_frequency_names_earlier_sends_and_next_allowed():
    """test_findings_kinds.compliance_frequency('1h'): sends at 14:00-17:00Z; the 4th names the three earlier
    ones and the next allowed instant, 14:00Z + 24 h."""
    from test_findings_kinds import compliance_frequency

    found = of_kind(run(*_built(compliance_frequency("1h"))), "compliance-frequency")
    assert len(found) == 1
    assert "earlier sends at 2026-12-01 14:00, 2026-12-01 15:00, 2026-12-01 16:00" in found["root_cause"][0]
    assert "the next allowed instant was 2026-12-02 14:00 UTC" in found["root_cause"][0]
    assert "Fla. Stat. 501.616(6)(b)" in found["root_cause"][0]


def test_gates_accept_the_new_kinds():
    """A gate on each new kind validates, and the frequency gate fails the run (exit 1 semantics)."""
    from test_findings_kinds import compliance_frequency

    text, people = compliance_frequency("1h")
    text += "gates:\n  compliance-frequency: \"== 0\"\n  compliance-zone-mismatch: \"== 0\"\n" \
            "  compliance-consent: \"== 0\"\n  compliance-unsubscribe: \"== 0\"\n"
    result = run(text, *people)
    verdicts = {g.text.split()[0]: g.passed for g in result.analysis.gates}
    assert verdicts == {"compliance-frequency": False, "compliance-zone-mismatch": True,
                        "compliance-consent": True, "compliance-unsubscribe": True}
    assert result.passed is False


# --------------------------------------------------------------------------- lint

LINT = """\
scenario: lintj
start: 2025-11-03T00:00:00Z
duration: 1d
seed: 3
compliance: [us-fl]
population:
  size: 100
  timezones: {America/Los_Angeles: 1.0}
  jurisdiction: JUR
  consent: {sms: 1.0}
  events:
    - {name: go, origin: web, once: {probability: 1.0, at: {uniform: {low: 0s, high: 1d}}}}
systems:
  web: {kind: source}
  sms: {kind: channel, channel: sms}
sync:
  - {from: web, to: sms, fields: [events]}
policies:
  quiet_hours: {from: "21:00", to: "08:00", channels: [sms], action: hold}
messages:
  t: {channel: sms, body: "Sale. Reply STOP to opt out", tags: [promo]}
journeys:
  - {name: j, reads_from: sms, entry: {event: go}, steps: [{id: a, send: t}]}
"""


def test_lint_uses_signals(tmp_path):
    """Every customer lives in Los Angeles. Movers 100% with mover_area_codes {305: 100%}: all 2,000 drawn
    customers keep a Miami number, so us-fl covers all of them by phone, all are timed in a zone that is not
    305's (New York): compliance-zone-mismatch "2000 of the 2000", and quiet hours 21:00-08:00 let texts out
    at 20:00-21:00 Los Angeles time: compliance-quiet-hours for America/Los_Angeles. Movers 0: Californians
    and their neighbours with local numbers; us-fl covers none, lint is clean."""
    path = tmp_path / "s.yaml"
    path.write_text(LINT.replace("JUR", "{movers: 100%, mover_area_codes: {305: 100%}}"))
    out = CliRunner().invoke(cli, ["lint", str(path)])
    assert out.exit_code == 1, out.output
    assert "note: us-fl covers 2000 of 2000 customers drawn with the scenario's seed, by phone or address" in out.output
    assert "warning compliance-zone-mismatch: 2000 of the 2000 customers us-fl covers" in out.output
    assert ("error compliance-quiet-hours: promotional sms can go out at 20:00-21:00 local time for customers in "
            "America/Los_Angeles ") in out.output
    path.write_text(LINT.replace("JUR", "{movers: 0%}"))
    out = CliRunner().invoke(cli, ["lint", str(path)])
    assert out.exit_code == 0, out.output
    assert "note: us-fl covers 0 of 2000" in out.output and "0 errors, 0 warnings" in out.output


def test_with_identity_every_profile_gets_a_phone_and_address():
    """With population.identity (several profiles per person), phones and addresses are drawn per profile,
    after the profiles are made: one row per profile, each North American one with an area code."""
    f = frame(SPEC + "\n  identity: {profiles: {choice: {1: 0.5, 2: 0.5}}}")
    assert len(f) > 3000  # 3,000 persons, about half with a second profile
    na = f[f["timezone"] != "Europe/London"]
    assert na["phone_area_code"].notna().all() and f["address_country"].notna().all()


# --------------------------------------------------------------------------- properties

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CODES = sorted(area_codes())
PLACES = sorted(f"{c}-{r}" for c, r in regions())


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(CODES), address=st.sampled_from(PLACES),
       pack=st.sampled_from(["us-fl", "us-ok", "us-md", "us-wa", "us-tcpa", "casl"]),
       zone=st.sampled_from([NY, LA, "America/Chicago", "America/Toronto", LON]))
def test_covering_is_area_code_or_address(code, address, pack, zone):
    """For every area code, address and zone: a regional pack covers the customer exactly when the area
    code's region or the address region is the pack's (combine any), and with combine all exactly when
    both are; a country pack when the phone's, the address's or the zone's country is its country."""
    p = load_pack(pack)
    j = p.jurisdiction
    customer = cust(zone, code, address)
    ac = area_code(code)
    a_country, _, a_region = address.partition("-")
    by_phone = ac.country == j.country and (not j.regions or bool(set(ac.regions) & set(j.regions)))
    by_address = a_country == j.country and (not j.regions or a_region in j.regions)
    from simulator.creative.jurisdiction import zone_countries

    by_zone = not j.regions and j.country in zone_countries(zone)
    got = covering(p, customer, True)
    assert bool(got) == (by_phone or by_address or by_zone)
    assert (f"phone area code {code} ({ac.country}-{ac.region_text})" in got) == by_phone
    assert (f"address in {address}" in got) == by_address
    data = p.model_dump(by_alias=True)
    data["jurisdiction"]["combine"] = "all"
    strict = covering(Pack.model_validate(data), customer, True)
    assert bool(strict) == (by_phone and by_address and (by_zone or bool(j.regions)))
