"""Compliance packs: loading, and per-pack rule tests with hand-derived instants across DST.

US DST 2025: clocks went forward on Sun 9 Mar at 02:00 local and back on Sun 2 Nov at 02:00
local. Eastern is UTC-4 (EDT) before 2 Nov and UTC-5 (EST) after; Central UTC-5 / UTC-6;
Pacific UTC-7 / UTC-8. Canada (Toronto) follows the same dates. India is UTC+5:30 all year.
Windows are half-open: [from, to). The sender's zone never matters, only the recipient's (or the
zone a rule names).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
import yaml
from click.testing import CliRunner

from simulator.cli import cli
from simulator.creative import rulepacks
from simulator.creative.compliance import (
    check_quiet_hours,
    frequency_check,
    is_opt_out,
    opt_out_deadline,
    quiet_hours_allows,
    quiet_hours_next,
)
from simulator.creative.rulepacks import PackError, available_packs, load_pack, load_packs
from simulator.errors import UsageError

ALL = ("ca-crtc", "can-spam", "casl", "ctia", "in-tccc", "uk-pecr", "us-fl", "us-md", "us-ok", "us-tcpa", "us-wa")
NY, CHI, LA, TOR, VAN = "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Toronto", "America/Vancouver"


def Z(text: str) -> datetime:
    """A UTC instant from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def verdict(packs, at, zone, **kw):
    v = check_quiet_hours(load_packs(packs), Z(at), zone, **kw)
    return v.allowed, v.next_allowed, v.blocked_by


# --- loading -----------------------------------------------------------------------------------

def test_all_packs_bundled_and_valid():
    """The eleven packs of issue 17 are bundled and load; every rule has a citation and a confidence."""
    assert available_packs() == ALL
    for pack in load_packs(ALL):
        assert pack.rules
        for rule in pack.rules:
            assert rule.citation.url.startswith("http") and rule.citation.verified_on.startswith("http")
            assert rule.confidence in {"statute", "regulator-guidance", "industry-code", "secondary-source"}


def test_unknown_pack_did_you_mean():
    """A misspelt pack name raises UsageError naming the closest pack and listing all."""
    with pytest.raises(UsageError, match=r"unknown compliance pack 'us-fla'; did you mean 'us-fl'\?.*us-wa"):
        load_pack("us-fla")


def test_unknown_rule_did_you_mean():
    """Pack.rule('quiet-hour') suggests 'quiet-hours'."""
    with pytest.raises(UsageError, match="did you mean 'quiet-hours'"):
        load_pack("us-fl").rule("quiet-hour")


def _write_pack(tmp_path, monkeypatch, name, body):
    monkeypatch.setattr(rulepacks, "PACK_DIR", tmp_path)
    rulepacks.load_pack.cache_clear()
    (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")


_GOOD_RULE = {
    "id": "quiet-hours", "kind": "quiet_hours", "summary": "s", "channels": ["sms"], "confidence": "statute",
    "citation": {"ref": "r", "url": "https://example.org/a", "verified_on": "https://example.org/b"},
    "windows": [{"days": "mon-sun", "from": "08:00", "to": "20:00"}],
}


@pytest.mark.parametrize("change, message", [
    ({"windows": [{"days": "mon-sun", "from": "20:00", "to": "08:00"}]}, r"ends \(08:00\) before it starts \(20:00\)"),
    ({"windows": [{"days": "mon-funday", "from": "08:00", "to": "20:00"}]}, "invalid days"),
    ({"windows": [{"days": "mon-sun", "from": "8am", "to": "20:00"}]}, "expected HH:MM"),
    ({"confidence": "hearsay"}, "confidence"),
    ({"zone": "Europe/Londn"}, "did you mean 'Europe/London'"),
    ({"citation": {"ref": "r", "url": "example.org", "verified_on": "https://example.org"}}, "expected an http"),
    ({"windw": []}, "windw"),
])
def test_malformed_pack_is_reported_with_key_path(tmp_path, monkeypatch, change, message):
    """A malformed rule raises PackError naming the file, the key path and the problem."""
    _write_pack(tmp_path, monkeypatch, "x", {"pack": "x", "title": "t", "version": "1",
                                             "jurisdiction": {"country": "US"}, "rules": [{**_GOOD_RULE, **change}]})
    with pytest.raises(PackError, match=message) as err:
        load_pack("x")
    assert "x.yaml: rules.0" in str(err.value)
    rulepacks.load_pack.cache_clear()


def test_pack_name_must_match_file(tmp_path, monkeypatch):
    """A file y.yaml declaring pack: z is refused."""
    _write_pack(tmp_path, monkeypatch, "y", {"pack": "z", "title": "t", "version": "1",
                                             "jurisdiction": {"country": "US"}, "rules": [_GOOD_RULE]})
    with pytest.raises(PackError, match="named 'z' but its file is 'y.yaml'"):
        load_pack("y")
    rulepacks.load_pack.cache_clear()


def test_naive_instant_rejected():
    """A datetime without a zone is ambiguous: ValueError."""
    with pytest.raises(ValueError, match="no time zone"):
        check_quiet_hours(load_packs(["us-fl"]), datetime(2025, 11, 2, 0, 30), NY)


# --- us-tcpa: 08:00-21:00 recipient local --------------------------------------------------------

def test_tcpa_autumn_dst():
    """2025-11-02 01:30Z = Sat 1 Nov 21:30 EDT in New York: blocked (21:00 end);
    next = Sun 2 Nov 08:00 EST (clocks went back at 02:00) = 13:00Z.
    Same instant in Los Angeles = 18:30 PDT: allowed."""
    assert verdict(["us-tcpa"], "2025-11-02 01:30", NY) == (False, Z("2025-11-02 13:00"), (("us-tcpa", "quiet-hours"),))
    assert verdict(["us-tcpa"], "2025-11-02 01:30", LA)[0] is True


def test_tcpa_spring_dst():
    """Sat 8 Mar 12:30Z = 07:30 EST: blocked, next 08:00 EST = 13:00Z.
    Sun 9 Mar 12:30Z = 08:30 EDT (clocks went forward): allowed."""
    assert verdict(["us-tcpa"], "2025-03-08 12:30", NY)[:2] == (False, Z("2025-03-08 13:00"))
    assert verdict(["us-tcpa"], "2025-03-09 12:30", NY)[0] is True


# --- us-fl: 08:00-20:00 recipient local, 3 per 24 h ---------------------------------------------

def test_florida_2030_edt_vs_est():
    """A send scheduled at 00:30Z: on 2 Nov 2025 it lands at Sat 20:30 EDT (blocked, next
    Sun 08:00 EST = 13:00Z); on 4 Nov it lands at Mon 19:30 EST (allowed). And 20:30 EST
    (4 Nov 01:30Z) is blocked, next Tue 08:00 EST = 13:00Z."""
    assert verdict(["us-fl"], "2025-11-02 00:30", NY)[:2] == (False, Z("2025-11-02 13:00"))
    assert verdict(["us-fl"], "2025-11-04 00:30", NY)[0] is True
    assert verdict(["us-fl"], "2025-11-04 01:30", NY)[:2] == (False, Z("2025-11-04 13:00"))


def test_florida_panhandle_recipient_vs_eastern_sender():
    """A sender in Miami sends at its 20:30 EDT (2 Nov 00:30Z) to Pensacola (Central): the
    recipient's clock says 19:30 CDT, so it is allowed; the sender's zone plays no part."""
    assert verdict(["us-fl"], "2025-11-02 00:30", CHI)[0] is True


def test_florida_with_tcpa_names_the_stricter_rule():
    """20:30 EST (4 Nov 01:30Z): TCPA allows (before 21:00), Florida blocks; next 13:00Z."""
    assert verdict(["us-tcpa", "us-fl"], "2025-11-04 01:30", NY) == (
        False, Z("2025-11-04 13:00"), (("us-fl", "quiet-hours"),))


def test_florida_issue_example_2103():
    """The issue's 847 texts at 21:03 ET (3 Nov 2025 = 4 Nov 02:03Z): blocked by both packs."""
    assert verdict(["us-tcpa", "us-fl"], "2025-11-04 02:03", NY)[2] == (
        ("us-tcpa", "quiet-hours"), ("us-fl", "quiet-hours"))


def test_florida_frequency_across_fall_back():
    """Sends Sat 1 Nov 10:00, 11:00, 12:00 EDT = 14:00Z, 15:00Z, 16:00Z. A 4th at Sun 2 Nov
    08:30 EST (13:30Z, 23.5 elapsed hours after the first) counts all three in
    (1 Nov 13:30Z, 2 Nov 13:30Z]: blocked; the first leaves the window at 1 Nov 14:00Z + 24 h =
    2 Nov 14:00Z = 09:00 EST (24 elapsed hours, one wall-clock hour short of 10:00 because the
    clocks went back). At 14:00Z the window (1 Nov 14:00Z, 2 Nov 14:00Z] holds 2: allowed."""
    rule = load_pack("us-fl").rule("frequency")
    sends = [Z("2025-11-01 14:00"), Z("2025-11-01 15:00"), Z("2025-11-01 16:00")]
    v = frequency_check(rule, sends, Z("2025-11-02 13:30"))
    assert (v.allowed, v.in_window, v.next_allowed) == (False, 3, Z("2025-11-02 14:00"))
    v = frequency_check(rule, sends, Z("2025-11-02 14:00"))
    assert (v.allowed, v.in_window) == (True, 2)


def test_frequency_next_with_more_than_max_counted():
    """Four sends in the window (a past violation) at 10, 11, 12, 13Z: with max 3 the next send
    needs two to leave, so next = 11Z + 24 h."""
    rule = load_pack("us-fl").rule("frequency")
    sends = [Z(f"2025-06-01 {h}:00") for h in (10, 11, 12, 13)]
    assert frequency_check(rule, sends, Z("2025-06-01 20:00")).next_allowed == Z("2025-06-02 11:00")


# --- us-ok: 08:00-20:00, Oklahoma is Central ----------------------------------------------------

def test_oklahoma_spring_forward():
    """Sat 8 Mar 2025 13:30Z = 07:30 CST: blocked, next 08:00 CST = 14:00Z.
    Sun 9 Mar 13:00Z = 08:00 CDT: allowed exactly at the start.
    Sun 9 Mar 01:59Z = Sat 19:59 CST allowed; 02:00Z = 20:00 CST blocked (end exclusive),
    next = Sun 9 Mar 08:00 CDT = 13:00Z (one hour earlier in UTC than the day before)."""
    assert verdict(["us-ok"], "2025-03-08 13:30", CHI)[:2] == (False, Z("2025-03-08 14:00"))
    assert verdict(["us-ok"], "2025-03-09 13:00", CHI)[0] is True
    assert verdict(["us-ok"], "2025-03-09 01:59", CHI)[0] is True
    assert verdict(["us-ok"], "2025-03-09 02:00", CHI)[:2] == (False, Z("2025-03-09 13:00"))


def test_oklahoma_recipient_in_eastern_zone():
    """Signals aside, the rule reads the recipient's zone: 2 Nov 00:30Z is 19:30 CDT in Tulsa
    (allowed) but 20:30 EDT for an Oklahoma number whose owner lives in New York (blocked)."""
    assert verdict(["us-ok"], "2025-11-02 00:30", CHI)[0] is True
    assert verdict(["us-ok"], "2025-11-02 00:30", NY)[0] is False


# --- us-md: 08:00-20:00, 3 calls or texts per 24 h ----------------------------------------------

def test_maryland_edges_across_fall_back():
    """Mon 3 Nov 2025 (EST): 00:59Z next day = 19:59 EST allowed; 01:00Z = 20:00 blocked,
    next Tue 08:00 EST = 13:00Z. Fri 31 Oct (EDT): 23:59Z = 19:59 allowed, 1 Nov 00:00Z =
    20:00 EDT blocked, next Sat 08:00 EDT = 12:00Z."""
    assert verdict(["us-md"], "2025-11-04 00:59", NY)[0] is True
    assert verdict(["us-md"], "2025-11-04 01:00", NY)[:2] == (False, Z("2025-11-04 13:00"))
    assert verdict(["us-md"], "2025-10-31 23:59", NY)[0] is True
    assert verdict(["us-md"], "2025-11-01 00:00", NY)[:2] == (False, Z("2025-11-01 12:00"))


def test_maryland_recipient_vs_sender_across_spring_forward():
    """Spring forward (Sun 9 Mar 2025). A send at 00:30Z on Sat 8 Mar evening is 19:30 EST for a Maryland
    number in New York time: allowed. At 23:30Z on Sun 9 Mar it is 19:30 EDT: allowed. At 00:30Z on Mon
    10 Mar it is Sun 20:30 EDT (the same UTC time of day as the first send, an hour later on the clock):
    blocked, next Mon 08:00 EDT = 12:00Z. That instant for a Maryland number whose owner lives in
    Chicago is 19:30 CDT: allowed, since the rule reads the called party's zone, not the sender's."""
    assert verdict(["us-md"], "2025-03-09 00:30", NY)[0] is True
    assert verdict(["us-md"], "2025-03-09 23:30", NY)[0] is True
    assert verdict(["us-md"], "2025-03-10 00:30", NY)[:2] == (False, Z("2025-03-10 12:00"))
    assert verdict(["us-md"], "2025-03-10 00:30", CHI)[0] is True


def test_maryland_frequency_ignores_old_sends():
    """Sends at 1 Jun 09:00Z (more than 24 h before), 2 Jun 12:00Z and 13:00Z: at 2 Jun 14:00Z only
    two count, so a third is allowed; at 2 Jun 15:00Z with 14:00Z added, three count: next = 12:00Z + 24 h."""
    rule = load_pack("us-md").rule("frequency")
    sends = [Z("2025-06-01 09:00"), Z("2025-06-02 12:00"), Z("2025-06-02 13:00")]
    assert frequency_check(rule, sends, Z("2025-06-02 14:00")).allowed is True
    v = frequency_check(rule, sends + [Z("2025-06-02 14:00")], Z("2025-06-02 15:00"))
    assert (v.allowed, v.in_window, v.next_allowed) == (False, 3, Z("2025-06-03 12:00"))


# --- us-wa: 08:00-20:00 Pacific -----------------------------------------------------------------

def test_washington_pacific_across_dst():
    """2 Nov 03:30Z = Sat 1 Nov 20:30 PDT: blocked, next Sun 08:00 PST = 16:00Z.
    4 Nov 03:30Z = Mon 3 Nov 19:30 PST: allowed. A New York sender at its 19:30 EST
    (4 Nov 00:30Z) reaches Seattle at 16:30 PST: allowed."""
    assert verdict(["us-wa"], "2025-11-02 03:30", LA)[:2] == (False, Z("2025-11-02 16:00"))
    assert verdict(["us-wa"], "2025-11-04 03:30", LA)[0] is True
    assert verdict(["us-wa"], "2025-11-04 00:30", LA)[0] is True


# --- in-tccc: 09:00-21:00 IST, promotional only -------------------------------------------------

def test_india_fixed_zone_and_sender_dst():
    """A US sender's 11:00 New York send: in summer 11:00 EDT = 15:00Z = 20:30 IST (allowed);
    in winter 11:00 EST = 16:00Z = 21:30 IST (blocked, next 09:00 IST = 03:30Z next day).
    The recipient zone argument does not matter: the rule names Asia/Kolkata."""
    assert verdict(["in-tccc"], "2025-07-01 15:00", NY)[0] is True
    assert verdict(["in-tccc"], "2025-12-01 16:00", NY)[:2] == (False, Z("2025-12-02 03:30"))
    assert verdict(["in-tccc"], "2025-12-01 16:00", "Asia/Kolkata")[:2] == (False, Z("2025-12-02 03:30"))


def test_india_transactional_not_covered():
    """Transactional messages may go 24/7: the same blocked instant is allowed for purpose transactional."""
    assert verdict(["in-tccc"], "2025-12-01 16:00", "Asia/Kolkata", purpose="transactional")[0] is True


# --- ca-crtc: split weekday/weekend windows -----------------------------------------------------

def test_crtc_weekday_and_weekend_windows():
    """Toronto, November 2025 (EST, UTC-5): Fri 7 Nov 21:15 = 8 Nov 02:15Z allowed (weekdays to
    21:30); 21:45 = 02:45Z blocked, next Sat 10:00 = 15:00Z; Sat 8 Nov 18:15 = 23:15Z blocked,
    next Sun 10:00 = 9 Nov 15:00Z; Sun 18:30 = 23:30Z blocked, next Mon 09:00 = 10 Nov 14:00Z."""
    assert verdict(["ca-crtc"], "2025-11-08 02:15", TOR)[0] is True
    assert verdict(["ca-crtc"], "2025-11-08 02:45", TOR)[:2] == (False, Z("2025-11-08 15:00"))
    assert verdict(["ca-crtc"], "2025-11-08 23:15", TOR)[:2] == (False, Z("2025-11-09 15:00"))
    assert verdict(["ca-crtc"], "2025-11-09 23:30", TOR)[:2] == (False, Z("2025-11-10 14:00"))


def test_crtc_weekend_start_across_dst():
    """Sat 1 Nov 13:30Z = 09:30 EDT: blocked (weekends from 10:00), next 10:00 EDT = 14:00Z.
    Sun 2 Nov 14:30Z = 09:30 EST: blocked, next 10:00 EST = 15:00Z."""
    assert verdict(["ca-crtc"], "2025-11-01 13:30", TOR)[:2] == (False, Z("2025-11-01 14:00"))
    assert verdict(["ca-crtc"], "2025-11-02 14:30", TOR)[:2] == (False, Z("2025-11-02 15:00"))


def test_crtc_recipient_zone_and_channel():
    """Fri 7 Nov 21:45 EST (8 Nov 02:45Z) is 18:45 PST for a Vancouver recipient: allowed.
    The curfew covers voice only: an SMS at the blocked Toronto instant is not covered by it."""
    assert verdict(["ca-crtc"], "2025-11-08 02:45", VAN)[0] is True
    assert verdict(["ca-crtc"], "2025-11-08 02:45", TOR, channel="sms")[0] is True
    assert verdict(["ca-crtc"], "2025-11-08 02:45", TOR, channel="voice")[0] is False


def test_quiet_hours_functions_directly():
    """quiet_hours_allows / quiet_hours_next on the CRTC rule: Sat 8 Nov 09:59 EST (14:59Z) is
    closed and opens at 10:00 EST (15:00Z); at 15:00Z next is the instant itself."""
    rule = load_pack("ca-crtc").rule("quiet-hours")
    assert quiet_hours_allows(rule, Z("2025-11-08 14:59"), TOR) is False
    assert quiet_hours_next(rule, Z("2025-11-08 14:59"), TOR) == Z("2025-11-08 15:00")
    assert quiet_hours_next(rule, Z("2025-11-08 15:00"), TOR) == Z("2025-11-08 15:00")


# --- can-spam and casl: 10 business days --------------------------------------------------------

def test_can_spam_deadline_business_days():
    """Request Mon 3 Nov 2025 10:00 EST (15:00Z): business days Nov 4,5,6,7,10,11,12,13,14,17;
    deadline end of Mon 17 Nov = 18 Nov 00:00 EST = 05:00Z. With Veterans Day (11 Nov) as a
    holiday the 10th is Tue 18 Nov: 19 Nov 05:00Z."""
    rule = load_pack("can-spam").rule("opt-out-deadline")
    assert opt_out_deadline(rule, Z("2025-11-03 15:00"), NY) == Z("2025-11-18 05:00")
    assert opt_out_deadline(rule, Z("2025-11-03 15:00"), NY, holidays=[date(2025, 11, 11)]) == Z("2025-11-19 05:00")


def test_can_spam_deadline_uses_sender_local_date_and_dst():
    """Thu 6 Nov 20:00 EST is already Fri 7 Nov 01:00Z. Counting from the local Thursday: Fri 7,
    Mon 10 .. Fri 14, Mon 17 .. Thu 20 = 10 days, deadline 21 Nov 00:00 EST = 05:00Z.
    Request Fri 24 Oct 12:00 EDT (16:00Z): Oct 27-31 and Nov 3-7; deadline Sat 8 Nov 00:00 EST
    (after the change back) = 05:00Z."""
    rule = load_pack("can-spam").rule("opt-out-deadline")
    assert opt_out_deadline(rule, Z("2025-11-07 01:00"), NY) == Z("2025-11-21 05:00")
    assert opt_out_deadline(rule, Z("2025-10-24 16:00"), NY) == Z("2025-11-08 05:00")


def test_casl_deadline_with_thanksgiving():
    """Request Fri 10 Oct 2025 12:00 EDT in Toronto (16:00Z), Thanksgiving Mon 13 Oct a holiday:
    Oct 14,15,16,17,20,21,22,23,24,27; deadline 28 Oct 00:00 EDT = 04:00Z."""
    rule = load_pack("casl").rule("opt-out-deadline")
    assert opt_out_deadline(rule, Z("2025-10-10 16:00"), TOR, holidays=[date(2025, 10, 13)]) == Z("2025-10-28 04:00")


def test_casl_deadline_counts_in_the_senders_zone_across_dst():
    """A Vancouver recipient opts out Thu 23 Oct 2025 22:30 PDT = Fri 24 Oct 05:30Z = Fri 01:30 EDT at the
    Toronto sender. Counted from the sender's Friday: Oct 27-31 (5), Nov 3-7 (10): deadline the end of Fri
    7 Nov = Sat 8 Nov 00:00 EST (the clocks went back on 2 Nov) = 05:00Z. Counted from the recipient's
    Thursday it would be Fri 24 Oct (1), Oct 27-31 (6), Nov 3-6 (10): 7 Nov 00:00 PST = 08:00Z, a day
    earlier: the zone passed decides, and journeysim passes the sender's (default_timezone)."""
    rule = load_pack("casl").rule("opt-out-deadline")
    assert opt_out_deadline(rule, Z("2025-10-24 05:30"), TOR) == Z("2025-11-08 05:00")
    assert opt_out_deadline(rule, Z("2025-10-24 05:30"), VAN) == Z("2025-11-07 08:00")


def test_email_packs_have_no_quiet_hours():
    """CAN-SPAM, CASL, PECR and CTIA set no hours: 03:00 local is allowed under them."""
    assert verdict(["can-spam", "casl", "uk-pecr", "ctia"], "2025-11-02 08:00", NY)[0] is True


def test_email_packs_require_unsubscribe_and_address():
    """CAN-SPAM and CASL each carry an unsubscribe-link and a postal-address requirement for email."""
    for name in ("can-spam", "casl"):
        pack = load_pack(name)
        assert pack.rule("unsubscribe-link").applies("email", "marketing")
        assert pack.rule("postal-address").kind == "requirement"


# --- ctia and uk-pecr ---------------------------------------------------------------------------

@pytest.mark.parametrize("reply, expected", [
    ("STOP", True), ("stop", True), (" Stop. ", True), ("END", True), ("cancel", True),
    ("Unsubscribe!", True), ("quit", True), ("stop please", False), ("STOPP", False), ("HELP", False),
])
def test_ctia_opt_out_keywords(reply, expected):
    """The five CTIA keywords opt out in any case with trailing punctuation; other replies do not."""
    assert is_opt_out(load_pack("ctia").rule("opt-out-keywords"), reply) is expected


def test_ctia_help_content_fields():
    """The HELP reply needs seven items: brand, program, STOP and HELP instructions, frequency,
    rates disclosure, support contact."""
    assert len(load_pack("ctia").rule("help-content").requires) == 7


def test_pecr_consent_and_soft_opt_in():
    """PECR: channel-specific consent (regulator guidance) or all four soft opt-in conditions."""
    pack = load_pack("uk-pecr")
    assert pack.rule("consent-per-channel").confidence == "regulator-guidance"
    assert len(pack.rule("soft-opt-in").requires) == 4
    assert pack.rule("soft-opt-in").applies("sms", "marketing") and not pack.rule("soft-opt-in").applies("push", None)


# --- CLI ----------------------------------------------------------------------------------------

def run(*args):
    return CliRunner().invoke(cli, ["compliance", *args])


def test_cli_lists_packs():
    """journeysim compliance lists the eleven packs and exits 0."""
    r = run()
    assert r.exit_code == 0
    assert all(name in r.output for name in ALL) and "11 packs" in r.output


def test_cli_shows_rules_with_citations():
    """journeysim compliance us-fl prints both rules, their windows, confidence and citations."""
    r = run("us-fl")
    assert r.exit_code == 0
    assert "allowed: mon-sun 08:00-20:00 (recipient's local time)" in r.output
    assert "at most 3 per rolling 24 h per recipient on the same subject" in r.output
    assert "cite: Fla. Stat. 501.616(6)(a)" in r.output and "confidence: statute" in r.output


def test_cli_unknown_pack_exit_2():
    """A misspelt pack exits 2 with a did-you-mean and no traceback."""
    r = run("us-tcap")
    assert r.exit_code == 2
    assert "did you mean 'us-tcpa'" in r.output and "Traceback" not in r.output


def test_cli_check_instant():
    """--at 2025-11-02T00:30:00Z --zone America/New_York: blocked by us-fl, next 13:00Z (08:00 EST)."""
    r = run("us-tcpa", "us-fl", "--at", "2025-11-02T00:30:00Z", "--zone", NY)
    assert r.exit_code == 0
    assert r.output.strip() == ("2025-11-02T00:30:00Z to a recipient in America/New_York (2025-11-01 20:30 EDT): "
                                "blocked by us-fl quiet-hours; next allowed 2025-11-02T13:00:00Z (2025-11-02 08:00 EST)")


def test_cli_check_allowed_with_offset():
    """--at with an offset: 19:30-05:00 on 3 Nov is 00:30Z on 4 Nov, 19:30 EST: allowed."""
    r = run("us-fl", "--at", "2025-11-03T19:30:00-05:00", "--zone", NY)
    assert r.exit_code == 0 and "allowed by us-fl" in r.output


@pytest.mark.parametrize("args, message", [
    (("us-fl", "--at", "2025-11-02T00:30", "--zone", NY), "has no UTC offset"),
    (("us-fl", "--at", "yesterday", "--zone", NY), "not an ISO 8601 instant"),
    (("us-fl", "--at", "2025-11-02T00:30Z", "--zone", "America/NewYork"), "did you mean 'America/New_York'"),
    (("us-fl", "--at", "2025-11-02T00:30Z"), "give --at and --zone together"),
    (("--at", "2025-11-02T00:30Z", "--zone", NY), "--at needs one or more packs"),
    (("us-fl", "--channel", "sms"), "--channel and --purpose filter the --at check"),
])
def test_cli_bad_usage_exit_2(args, message):
    """Bad --at/--zone usage exits 2 with a message saying what to give."""
    r = run(*args)
    assert r.exit_code == 2 and message in r.output


# --- properties ---------------------------------------------------------------------------------

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_INSTANTS = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=timezone.utc))
_ZONES = st.sampled_from([NY, CHI, LA, TOR, VAN, "Asia/Kolkata", "Europe/London", "Australia/Lord_Howe"])
_PACK_SETS = st.sampled_from([("us-tcpa",), ("us-fl",), ("us-tcpa", "us-fl"), ("ca-crtc",), ("in-tccc",),
                              ("us-tcpa", "in-tccc")])


@settings(max_examples=60, deadline=None)
@given(_INSTANTS, _ZONES, _PACK_SETS)
def test_next_allowed_is_the_first_allowed_minute(at, zone, names):
    """next_allowed is allowed by every rule, and no whole minute before it (from `at`) is."""
    packs = load_packs(names)
    v = check_quiet_hours(packs, at, zone)
    assert v.next_allowed >= at
    assert check_quiet_hours(packs, v.next_allowed, zone).allowed
    assert v.allowed == (v.next_allowed == at)
    t = at
    while t < v.next_allowed:
        assert not check_quiet_hours(packs, t, zone).allowed
        t += timedelta(minutes=1)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 48 * 60), max_size=8), st.integers(0, 48 * 60))
def test_frequency_next_allowed_is_allowed(offsets, now_offset):
    """At next_allowed the cap admits one more send, and a minute earlier it does not (when blocked)."""
    rule = load_pack("us-md").rule("frequency")
    base = Z("2025-11-01 00:00")
    sends = [base + timedelta(minutes=m) for m in offsets if m <= now_offset]
    now = base + timedelta(minutes=now_offset)
    v = frequency_check(rule, sends, now)
    assert frequency_check(rule, sends, v.next_allowed).allowed
    if not v.allowed:
        assert not frequency_check(rule, sends, v.next_allowed - timedelta(minutes=1)).allowed


def test_pack_applies_by_the_zones_country():
    """Countries come from tzdata's zone1970.tab / zone.tab: New_York US; London GB, GG, IM, JE;
    Tokyo JP, AU (2026 tables); Kolkata IN; the alias US/Eastern takes New_York's US; UTC none.
    us-fl (US) covers only New York and US/Eastern; in-tccc (IN) only Kolkata; uk-pecr (GB) London."""
    from simulator.creative.jurisdiction import pack_applies, zone_countries
    from simulator.creative.rulepacks import load_pack

    assert zone_countries("America/New_York") == {"US"}
    assert {"GB", "JE"} <= zone_countries("Europe/London")
    assert "JP" in zone_countries("Asia/Tokyo") and zone_countries("Asia/Kolkata") == {"IN"}
    assert zone_countries("US/Eastern") == {"US"} and zone_countries("UTC") == frozenset()
    zones = ["America/New_York", "Europe/London", "Asia/Tokyo", "Asia/Kolkata", "US/Eastern", "UTC"]
    covered = {p: [z for z in zones if pack_applies(load_pack(p), z)] for p in ("us-fl", "in-tccc", "uk-pecr")}
    assert covered == {"us-fl": ["America/New_York", "US/Eastern"], "in-tccc": ["Asia/Kolkata"],
                       "uk-pecr": ["Europe/London"]}


def test_cli_check_notes_a_pack_outside_the_zones_country():
    """in-tccc (IN) at 2025-12-01 16:00Z = 21:30 IST is blocked as written, whatever the zone; for a
    New York recipient (US) the CLI adds that lint and runs do not apply the pack. us-fl for New York
    gets no note."""
    r = run("in-tccc", "--at", "2025-12-01T16:00:00Z", "--zone", NY)
    assert r.exit_code == 0 and "blocked by in-tccc quiet-hours" in r.output
    assert ("note: in-tccc covers recipients in IN; America/New_York is in US, so journeysim lint and runs do "
            "not apply it to this recipient") in r.output
    assert "note:" not in run("us-fl", "--at", "2025-12-01T16:00:00Z", "--zone", NY).output
