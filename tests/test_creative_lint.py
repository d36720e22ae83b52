"""journeysim lint: a scenario with deliberate creative and compliance defects and its fixed twin.

Renders: --sample 20 sampled customers + 6 edge profiles = 26 per message. The SMS template's
fixed text ", your cart is waiting: 20% off today at shop.example/c. Reply STOP to opt out" is
78 characters, all GSM-7.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from simulator.cli import cli
from simulator.creative.lint import lint_scenario
from simulator.scenario.load import load_scenario_text

BASE = """\
scenario: creative-{name}
start: 2025-11-03T00:00:00Z
duration: 2d
seed: 7
default_timezone: America/New_York
population:
  size: 100
  timezones: {{America/New_York: 1.0}}
  attributes:
    first_name: {{choice: {{{first_name}: 1.0}}}}
    city: {{choice: {{"{city}": 1.0}}}}
    items: {{choice: {{3: 1.0}}}}
  consent: {{email: 1.0, sms: 1.0}}
  events:
    - {{name: cart_abandoned, origin: web, once: {{probability: 0.5, at: {{uniform: {{low: 0s, high: 1d}}}}}}}}
systems:
  web: {{kind: source}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
  sms: {{kind: channel, channel: sms}}
sync:
  - {{from: web, to: cdp, fields: [events], mode: stream}}
  - {{from: cdp, to: esp, fields: [consent, first_name, city, items], mode: stream}}
  - {{from: cdp, to: sms, fields: [consent, first_name], mode: stream}}
policies:
  quiet_hours: {{from: "{quiet_from}", to: "08:00", channels: [sms]}}
{extra}messages:
  promo_email:
    channel: email
    subject: "{{{{ first_name }}}}, 20% off in {{{{ city }}}}"
    body: "{email_body}"
    tags: [promo]
  promo_sms:
    channel: sms
    body: "{sms_body}"
    tags: [promo]
journeys:
  - name: cart
    reads_from: cdp
    entry: {{event: cart_abandoned}}
    steps:
      - {{id: email, send: promo_email}}
      - {{id: text, send: promo_sms}}
"""

DEFECTS = dict(name="defects", first_name="Zoë", city="", quiet_from="21:00", extra="",
               email_body="Your cart is waiting.",
               sms_body="{{ first_name }}, your cart is waiting: 20% off today at shop.example/c. Reply STOP to opt out")
FIXED = dict(DEFECTS, name="fixed", first_name="Ann", city="Paris", quiet_from="20:00",
             email_body="Your cart is waiting. Unsubscribe: {{ unsubscribe_url }}",
             sms_body="{{ first_name }}: 20% off at shop.example/c. Reply STOP to opt out")


def write(tmp_path, **params):
    path = tmp_path / f"{params['name']}.yaml"
    path.write_text(BASE.format(**params), encoding="utf-8")
    return path


def lint(path, *args):
    return CliRunner().invoke(cli, ["lint", str(path), "--sample", "20", *args])


def test_defects_found(tmp_path):
    """The defective scenario: exit 1 with exactly these findings.

    - promo_email has no {{ unsubscribe_url }}: error in 26 of 26 renders.
    - city is "" for everyone: 20 of 20 sampled (100%).
    - promo_sms: 'Zoë' + 78 = 81 UTF-16 units > 70 -> UCS-2, 2 segments (67 + 14) for the 20
      sampled customers, 'Zoë Núñez' (9 + 78 = 87), 'Анастасия Волкова' (17 + 78 = 95) and
      '李小龙' (3 + 78 = 81): 23 of 26 renders over 1 segment. 'empty' and 'missing' (78) and
      'long' (53 + 78 = 131 septets) stay GSM-7 in 1 segment.
    - quiet hours 21:00-08:00 let SMS out 20:00-21:00 New York time; us-fl allows 08:00-20:00.
    """
    r = lint(write(tmp_path, **DEFECTS), "--pack", "us-fl")
    assert r.exit_code == 1, r.output
    lines = r.output.splitlines()
    assert "  promo_sms (sms, promotional): 26 renders; GSM-7 1 segment x3 (e.g. edge profile 'empty', 78 chars); " \
           "UCS-2 2 segments x23 (e.g. c000001, 81 chars)" in lines
    assert ("error creative-unsubscribe: promotional email promo_email lacks the unsubscribe link "
            "({{ unsubscribe_url }}; CAN-SPAM, CASL) in 26 of 26 renders (e.g. c000001)") in lines
    assert ("warning creative-missing-field: promo_email renders 'city' empty for 20 of 20 sampled customers (100%); "
            "give a default ({{ city | default: '...' }}) or make sure the field is filled") in lines
    assert ("warning creative-sms-segments: promotional sms promo_sms needs 2 segments (UCS-2, 81 characters) for "
            "c000001; 23 of 26 renders exceed 1 segment; UCS-2 because of 'ë' U+00EB (Smart Encoding cannot "
            "replace them)") in lines
    assert ("error compliance-quiet-hours: promotional sms can go out at 20:00-21:00 local time for customers in "
            "America/New_York (the scenario's policy: quiet hours 21:00-08:00); us-fl quiet-hours allows only "
            "mon-sun 08:00-20:00 (recipient's local time) [Fla. Stat. 501.616(6)(a), confidence statute]") in lines
    assert lines[-1] == "2 errors, 2 warnings"


def test_fixed_twin_clean(tmp_path):
    """The fixed twin: unsubscribe link, city filled, quiet hours from 20:00, a shorter SMS.

    SMS fixed text ': 20% off at shop.example/c. Reply STOP to opt out' = 50 characters; the
    longest UCS-2 render is Cyrillic, 17 + 50 = 67 <= 70: one segment everywhere. Exit 0.
    """
    r = lint(write(tmp_path, **FIXED), "--pack", "us-fl", "--pack", "us-tcpa")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == "0 errors, 0 warnings"
    assert "UCS-2 1 segment x3 (e.g. edge profile 'accented', 59 chars)" in r.output


def test_sms_without_stop_text(tmp_path):
    """A promotional SMS without any CTIA keyword is an error in every render (26 of 26)."""
    params = dict(FIXED, sms_body="{{ first_name }}: 20% off at shop.example/c")
    r = lint(write(tmp_path, **params))
    assert r.exit_code == 1
    assert ("error creative-unsubscribe: promotional sms promo_sms lacks an opt-out keyword such as 'Reply STOP "
            "to opt out' (CTIA: STOP, END, CANCEL, UNSUBSCRIBE, QUIT) in 26 of 26 renders (e.g. c000001)") in r.output


def test_render_error_on_edge_profile(tmp_path):
    """'{{ 100 | divided_by: items }}': items is 3 for everyone (fine) but None in the 'missing'
    profile, where Liquid refuses to divide by 0: one creative-render-error warning, exit 0."""
    params = dict(FIXED, email_body="{{ 100 | divided_by: items }} points. {{ unsubscribe_url }}")
    r = lint(write(tmp_path, **params))
    assert r.exit_code == 0
    assert ("warning creative-render-error: promo_email fails to render for edge profile 'missing': "
            "divided_by: can't divide by 0") in r.output
    assert "promo_email (email, promotional): 25 renders" in r.output


def test_severity_override_makes_segments_an_error(tmp_path):
    """severity: {creative-sms-segments: error} in the scenario turns the segment warning into exit 1."""
    params = dict(FIXED, first_name="Zoë", extra="severity: {creative-sms-segments: error}\n",
                  sms_body=DEFECTS["sms_body"])
    r = lint(write(tmp_path, **params))
    assert r.exit_code == 1
    assert "error creative-sms-segments: promotional sms promo_sms needs 2 segments" in r.output


def _zones(path, zones: str):
    """Rewrite the population's time zones (and default zone) of a written scenario."""
    text = path.read_text(encoding="utf-8").replace("timezones: {America/New_York: 1.0}", f"timezones: {zones}")
    path.write_text(text, encoding="utf-8")
    return path


def test_india_pack_does_not_cover_new_york(tmp_path):
    """in-tccc's country is IN; America/New_York is US in zone1970.tab, so the pack covers nobody of
    this New York population and lint finds nothing (it used to flag 10:30-20:00 EST, India's window
    seen from New York)."""
    r = lint(write(tmp_path, **FIXED), "--pack", "in-tccc")
    assert r.exit_code == 0, r.output
    assert "compliance-quiet-hours" not in r.output


def test_india_pack_covers_kolkata(tmp_path):
    """An Asia/Kolkata population (IN): the policy (quiet 20:00-08:00 local) lets SMS out 08:00-20:00
    IST; in-tccc allows 09:00-21:00 IST, so 08:00-09:00 is forbidden."""
    r = lint(_zones(write(tmp_path, **FIXED), "{Asia/Kolkata: 1.0}"), "--pack", "in-tccc")
    assert r.exit_code == 1
    assert "promotional sms can go out at 08:00-09:00 local time for customers in Asia/Kolkata" in r.output
    assert "in-tccc quiet-hours allows only mon-sun 09:00-21:00 (Asia/Kolkata)" in r.output


def test_state_pack_covers_only_its_country(tmp_path):
    """New York, London and Tokyo customers; the policy (quiet 21:00-08:00) lets SMS out at 20:00-21:00
    local everywhere. us-fl (country US) forbids 20:00-21:00 only for America/New_York (US); London
    (GB, GG, IM, JE) and Tokyo (JP, AU) are outside it. in-tccc (IN) covers none of them. Lint says the
    state pack applies to every recipient in the US."""
    path = _zones(write(tmp_path, **dict(FIXED, quiet_from="21:00")),
                  "{America/New_York: 0.4, Europe/London: 0.3, Asia/Tokyo: 0.3}")
    r = lint(path, "--pack", "us-fl")
    assert r.exit_code == 1
    lines = [x for x in r.output.splitlines() if "compliance-quiet-hours" in x]
    assert len(lines) == 1, r.output
    assert "at 20:00-21:00 local time for customers in America/New_York (the scenario" in lines[0]
    assert "London" not in lines[0] and "Tokyo" not in lines[0]
    assert ("note: us-fl (US-FL) applies to every recipient whose time zone is in US: area codes and "
            "addresses are not modelled yet") in r.output
    r = lint(path, "--pack", "in-tccc")
    assert r.exit_code == 0 and "compliance-quiet-hours" not in r.output, r.output


def test_packs_without_channel_overlap_are_silent(tmp_path):
    """ca-crtc covers voice only; the scenario's promotional messages are email and SMS: no finding."""
    r = lint(write(tmp_path, **FIXED), "--pack", "ca-crtc")
    assert r.exit_code == 0 and "compliance-quiet-hours" not in r.output


@pytest.mark.parametrize("args, message", [
    (("--pack", "us-fla"), "did you mean 'us-fl'"),
    (("--sample", "0"), "--sample"),
])
def test_bad_usage_exit_2(tmp_path, args, message):
    """An unknown pack or a zero sample exits 2 with a message."""
    r = lint(write(tmp_path, **FIXED), *args)
    assert r.exit_code == 2 and message in r.output


def test_bad_scenario_exit_2(tmp_path):
    """A scenario error exits 2 with file, key path and did-you-mean, no traceback."""
    path = write(tmp_path, **dict(FIXED, sms_body="{{ first_name }} STOP"))
    path.write_text(path.read_text().replace("channel: sms\n    body", "chanel: sms\n    body"))
    r = lint(path)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "chanel" in r.output


def test_api_rejects_zero_sample():
    """lint_scenario(sample=0) raises ValueError."""
    sc = load_scenario_text(BASE.format(**FIXED))
    with pytest.raises(ValueError, match="at least 1"):
        lint_scenario(sc, sample=0)


def test_bundled_cart_scenario():
    """The bundled cart scenario is clean but for one warning: its SMS becomes UCS-2 / 2 segments
    only for the accented, Cyrillic and CJK edge names (3 of 50 + 6 renders)."""
    r = CliRunner().invoke(cli, ["lint", "scenarios/cart_abandonment.yaml"])
    assert r.exit_code == 0, r.output
    assert "3 of 56 renders exceed 1 segment" in r.output
    assert r.output.splitlines()[-1] == "0 errors, 1 warning"


def test_now_in_a_template_renders_the_scenario_start(tmp_path):
    """``{{ 'now' | date: '%Y-%m-%d' }}`` renders the simulated clock (the scenario's start, 2025-11-03),
    as in a run, never the wall clock and never a template error."""
    fixed = dict(FIXED, name="now", email_body="Offer of {{ 'now' | date: '%Y-%m-%d' }}. Unsubscribe: {{ unsubscribe_url }}")
    r = lint(write(tmp_path, **fixed), "--pack", "us-fl")
    assert r.exit_code == 0, r.output
    assert "creative-render-error" not in r.output
    scenario = load_scenario_text(BASE.format(**fixed), "now.yaml")
    from simulator.engine.channels import Renderer, system_values
    text = Renderer(scenario.messages, clock=lambda: scenario.start)("promo_email", {**system_values("c1"), "first_name": "Ann", "city": "Paris"})
    assert "Offer of 2025-11-03." in text


def test_subject_over_max_subject_chars(tmp_path):
    """The fixed twin with max_subject_chars: 40 on promo_email, whose subject is
    '{{ first_name }}, 20% off in {{ city }}' (13 fixed characters: ', 20% off in ' is
    comma, space, '20%', space, 'off', space, 'in', space = 1+1+3+1+3+1+2+1).

    Subject lengths: the 20 sampled (Ann, Paris) 3 + 13 + 5 = 21; 'empty' and 'missing' 13;
    'long' 53 + 13 + 53 = 119; 'accented' 9 + 13 + 9 = 31; 'cyrillic' 17 + 13 + 17 = 47; 'cjk'
    3 + 13 + 3 = 19. Over 40: 'long' and 'cyrillic', 2 of 26 renders; the worst named is 119.
    A warning: exit 0. With 119 as the limit, nothing is over."""
    path = write(tmp_path, **FIXED)
    text = path.read_text(encoding="utf-8")
    limited = text.replace("    tags: [promo]\n  promo_sms:", "    tags: [promo]\n    max_subject_chars: {n}\n  promo_sms:")
    assert limited != text
    path.write_text(limited.replace("{n}", "40"), encoding="utf-8")
    r = lint(path)
    assert r.exit_code == 0, r.output
    assert ("warning creative-length: email promo_email's subject renders to 119 characters for edge profile "
            "'long', over its limit of 40 (max_subject_chars); 2 of 26 renders exceed it") in r.output.splitlines()
    assert r.output.splitlines()[-1] == "0 errors, 1 warning"
    path.write_text(limited.replace("{n}", "119"), encoding="utf-8")
    r = lint(path)
    assert r.exit_code == 0 and "creative-length" not in r.output, r.output
