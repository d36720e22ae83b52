"""`journeysim import ... --graph` and `--topology FILE`, for every format.

--graph prints one line per step: ``ID [vendor type] (wait D) -> label: target, ...``. The expected
lines for the HubSpot demo-request flow are derived by hand from tests/data/import/hubspot/
demo_nurture_event.json: the LIST_BRANCH 10 has the arms 'Hot lead' -> 11 and 'Germany' -> 12 and the
default 'None met' -> 13; delays 14 (3 DAYS = 3d) and 13 (2 HOURS = 2h); steps in depth-first order
from startActionId 10.
"""

from __future__ import annotations

import re

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

from simulator.cli import cli
from simulator.engine.events import read_events
from simulator.importers.cli import import_file

DATA = ROOT / "tests" / "data" / "import"
INPUTS = [("sfmc", "engagement_split"), ("sfmc", "collection"), ("dittofeed", "welcome_event"),
          ("posthog", "order_followup"), ("posthog", "list_response"), ("hubspot", "demo_nurture_event"),
          ("hubspot", "batch_read")]
TOPOLOGY = """\
systems:
  app: {kind: source, description: our web app}
  segment: {kind: cdp}
  mailer: {kind: channel, channel: email}
  texter: {kind: channel, channel: sms}
sync:
  - {name: app-to-segment, from: app, to: segment, fields: [events], latency: {fixed: 30s}}
  - {name: segment-to-mailer, from: segment, to: mailer, fields: [consent], latency: {fixed: 5m}}
  - {name: mailer-back, from: mailer, to: segment, fields: [events, consent], latency: {fixed: 2m}}
  - {name: segment-to-texter, from: segment, to: texter, fields: [consent], latency: {fixed: 5m}}
  - {name: texter-back, from: texter, to: segment, fields: [events, consent], latency: {fixed: 2m}}
"""


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_graph_prints_ids_edges_and_waits_as_derived_by_hand():
    r = invoke("import", "hubspot", str(DATA / "hubspot" / "demo_nurture_event.json"), "--graph")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [
        "journey demo-request-nurture (Demo request nurture)",
        "  entry event hubspot_event_4-1639801 -> 10",
        "  10 [LIST_BRANCH] -> Hot lead: 11, Germany: 12, else: None met: 13",
        "  11 [0-13] -> next: 14",
        "  14 [0-1] wait 3d -> 15",
        "  15 [0-4] -> end",
        "  12 [0-4] -> 14",
        "  13 [0-1] wait 2h -> 15",
    ]


@pytest.mark.parametrize("fmt, name", INPUTS)
def test_graph_edges_are_the_imported_edges(fmt, name, tmp_path):
    """Parse the printed graph back: its (step, target) pairs and waits equal the IR's, for every format."""
    path = DATA / fmt / f"{name}.json"
    r = invoke("import", fmt, str(path), "--graph", "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 0, r.output
    journeys, _ = import_file(fmt, path)
    printed: list[set] = []
    for line in r.output.splitlines():
        if line.startswith("journey ") and line.endswith(")"):   # not the summary's "journey X (T): entry ..."
            printed.append(set())
        m = re.match(r"^  (\S+) \[[^\]]*\](?: wait \S+)? -> (.*)$", line)
        if m and not line.startswith("  entry "):
            targets = [t.rsplit(": ", 1)[-1] for t in m.group(2).split(", ")]
            printed[-1] |= {(m.group(1), t) for t in targets}
    assert printed == [set(j.edges()) for j in journeys]
    assert (tmp_path / "x.yaml").exists()


def test_graph_alone_writes_nothing_and_neither_option_is_a_usage_error(tmp_path):
    path = DATA / "posthog" / "onboarding.json"
    assert invoke("import", "posthog", str(path), "--graph").exit_code == 0
    r = invoke("import", "posthog", str(path))
    assert r.exit_code == 2 and "give -o FILE (the scenario to write) or --graph" in r.output


def test_topology_replaces_the_generated_systems_and_the_scenario_runs(tmp_path):
    topo = tmp_path / "topo.yaml"
    topo.write_text(TOPOLOGY)
    out = tmp_path / "s.yaml"
    r = invoke("import", "posthog", str(DATA / "posthog" / "onboarding.json"), "-o", str(out), "--topology", str(topo))
    assert r.exit_code == 0, r.output
    doc = yaml.safe_load(out.read_text())
    assert set(doc["systems"]) == {"app", "segment", "mailer", "texter"}
    assert [s["name"] for s in doc["sync"]] == ["app-to-segment", "segment-to-mailer", "mailer-back",
                                                "segment-to-texter", "texter-back"]
    assert doc["journeys"][0]["reads_from"] == "segment"
    assert {e["origin"] for e in doc["population"]["events"]} == {"app"}
    assert invoke("validate", str(out)).exit_code == 0
    run = invoke("run", str(out), "--customers", "200", "--out", str(tmp_path / "run"), "--no-report", "--quiet")
    assert run.exit_code in (0, 1), run.output
    ev = read_events(tmp_path / "run", columns=["kind", "system"])
    assert "texter" in set(ev["system"].dropna())


def test_topology_update_steps_write_to_the_system_the_journeys_read(tmp_path):
    topo = tmp_path / "topo.yaml"
    topo.write_text(TOPOLOGY)
    out = tmp_path / "s.yaml"
    assert invoke("import", "hubspot", str(DATA / "hubspot" / "welcome_list.json"), "-o", str(out), "--topology",
                  str(topo)).exit_code == 0
    steps = yaml.safe_load(out.read_text())["journeys"][0]["steps"]
    assert [s["at"] for s in steps if "update" in s] == ["segment"]


@pytest.mark.parametrize("text, message", [
    (TOPOLOGY.replace("  texter: {kind: channel, channel: sms}\n", "").split("  - {name: segment-to-texter")[0],
     "systems: no system of kind channel serves sms, which the journeys use; add e.g. sms_provider: "
     "{kind: channel, channel: sms}"),
    (TOPOLOGY.replace("sync:", "synk:"), "synk: unknown key in a topology file; did you mean 'sync'?"),
    (TOPOLOGY.replace("segment: {kind: cdp}", "segment: {kind: crm}"),
     "systems: no system(s) of kind cdp: cannot tell which one the journeys read; add 'reads_from: SYSTEM'"),
    (TOPOLOGY + "reads_from: segmnt\n", "reads_from: names system 'segmnt', which is not in systems; did you mean "
                                        "'segment'?"),
    ("systems: [1, 2]\n", "systems: expected a mapping of system name -> {kind, ...}"),
    ("systems: {a: {kind: source}\n", "not valid YAML"),
])
def test_bad_topology_files_exit_2_naming_the_key(text, message, tmp_path):
    topo = tmp_path / "topo.yaml"
    topo.write_text(text)
    r = invoke("import", "posthog", str(DATA / "posthog" / "onboarding.json"), "-o", str(tmp_path / "s.yaml"),
               "--topology", str(topo))
    assert r.exit_code == 2 and message in r.output and "Traceback" not in r.output, r.output
    assert not (tmp_path / "s.yaml").exists()


def test_a_topology_whose_sync_links_do_not_validate_blames_the_topology_file(tmp_path):
    topo = tmp_path / "topo.yaml"
    topo.write_text(TOPOLOGY.replace("from: app, to: segment", "from: ap, to: segment"))
    r = invoke("import", "posthog", str(DATA / "posthog" / "onboarding.json"), "-o", str(tmp_path / "s.yaml"),
               "--topology", str(topo))
    assert r.exit_code == 2 and f"does not validate; fix {topo}" in r.output and "journeysim bug" not in r.output
    assert not (tmp_path / "s.yaml").exists()
    r = invoke("import", "posthog", str(DATA / "posthog" / "onboarding.json"), "-o", str(tmp_path / "s.yaml"),
               "--topology", str(tmp_path / "missing.yaml"))
    assert r.exit_code == 2 and "no such topology file" in r.output


def test_a_bad_sync_link_is_cited_at_its_line_in_the_topology_file_not_in_the_unwritten_scenario(tmp_path):
    """The 4th sync link of TOPOLOGY (sync[3]) sits on line 10 of the file (systems: 1, four systems 2-5,
    sync: 6, links 7-10); in `  - {name: segment-to-texter, from: segment, to: texterr` the value of `to`
    starts after 5 + 25 + 15 + 4 = 49 characters, at column 50. The scenario file is never written, so
    no line of it is cited."""
    topo = tmp_path / "topo2.yaml"
    topo.write_text(TOPOLOGY.replace("from: segment, to: texter,", "from: segment, to: texterr,"))
    out = tmp_path / "t2.yaml"
    r = invoke("import", "braze", str(DATA / "braze" / "abandoned_cart.json"), "-o", str(out), "--topology", str(topo))
    assert r.exit_code == 2 and not out.exists(), r.output
    assert f"{topo}:10:50: sync[3].to: unknown system 'texterr'; did you mean 'texter'?" in r.output, r.output
    assert "t2.yaml" not in r.output


def test_unique_names_stay_within_100_characters():
    """Two journeys named with the same 100 characters: the second becomes the first 98 + '-2' (100
    characters), not a truncated copy of the first (found by the parcelvoy mutation property)."""
    from types import SimpleNamespace

    from simulator.importers.base import unique_names

    js = [SimpleNamespace(name="a" * 100), SimpleNamespace(name="a" * 100), SimpleNamespace(name="b")]
    unique_names(js)
    assert [j.name for j in js] == ["a" * 100, "a" * 98 + "-2", "b"]


def test_a_wait_longer_than_the_format_allows_is_cut_and_reported():
    """A Dittofeed delay of 3153600001 s (> 36500 days = 3153600000 s) is written as 36500 days
    ('5214w2d') with a NOT MAPPED note, and the scenario validates (found by the dittofeed mutation
    property after the merge)."""
    import json

    from simulator.importers.dittofeed import import_dittofeed
    from simulator.importers.writer import write_scenario
    from simulator.scenario.load import load_scenario_text

    d = json.loads((DATA / "dittofeed" / "welcome_event.json").read_text())
    i = next(k for k, n in enumerate(d["definition"]["nodes"]) if n["type"] == "DelayNode"
             and n["variant"]["type"] == "Second")
    d["definition"]["nodes"][i]["variant"]["seconds"] = 3153600001
    journeys = import_dittofeed(d, "t.json")
    text = write_scenario(journeys, source="t.json", fmt="dittofeed")
    load_scenario_text(text, "t.yaml")
    assert "wait: 5214w2d" in text
    assert (f"definition.nodes[{i}]: a wait of 3.1536e+09 s is longer than 36500 days, the longest duration a "
            "scenario may give: written as 36500 days") in [u.line() for u in journeys[0].all_unmapped()]


def _long_canvas(path, steps: int) -> None:
    """A Braze canvas of ``steps`` Delay steps in a chain: its --graph output (one line of about 60
    characters per step) is far more than a pipe holds (64 KiB), so a reader that stops early always
    closes the pipe while journeysim is still writing."""
    import json

    chain = [{"id": f"s-delay-{k}", "name": f"Delay {k}", "type": "Delay",
              "next_step_ids": [f"s-delay-{k + 1}"] if k + 1 < steps else []} for k in range(steps)]
    path.write_text(json.dumps({"name": "Long", "variants": [{"name": "A", "first_step_ids": ["s-delay-0"]}],
                                "steps": chain, "message": "success"}))


@pytest.mark.parametrize("options", [["--graph"], ["-o", "out.yaml"], ["--graph", "-o", "out.yaml"]])
def test_a_reader_that_stops_early_ends_import_quietly_with_exit_0_and_the_file_complete(options, tmp_path):
    """`journeysim import ... | head -1`, as `run ... | head -2` and `platforms | head -1`: exit 0, nothing
    on stderr, and the scenario written with -o is the same text as without the pipe."""
    import shlex
    import subprocess
    import sys

    _long_canvas(tmp_path / "long.json", 1500)
    cmd = " ".join(shlex.quote(a) for a in [sys.executable, "-m", "simulator.cli", "import", "braze", "long.json",
                                            *options])
    r = subprocess.run(["bash", "-c", cmd + ' | head -1; echo "status ${PIPESTATUS[0]}"'], cwd=tmp_path,
                       capture_output=True, text=True, timeout=120)
    assert r.stdout.splitlines()[-1] == "status 0" and r.stderr == "", (r.stdout[-300:], r.stderr)
    assert len(r.stdout.splitlines()) == 2  # the one line head printed, then the status
    if "-o" in options:
        _, text = import_file("braze", tmp_path / "long.json")
        assert (tmp_path / "out.yaml").read_text() == text


@pytest.mark.parametrize("fmt,what", [("sfmc", "an SFMC journey"), ("dittofeed", "a Dittofeed journey"),
                                      ("posthog", "a PostHog workflow"), ("hubspot", "a HubSpot workflow"),
                                      ("parcelvoy", "a Parcelvoy step map"), ("braze", "a Braze canvas")])
def test_every_importer_describes_a_wrong_top_level_value_in_the_same_words(fmt, what, tmp_path):
    """`{}` is 'an empty object' (not 'an object with keys ;' or 'keys none'), other objects list their
    keys, a string is 'a string': one phrase for every format, exit 2, nothing written."""
    for text, got in [("{}", "an empty object"), ('{"a": 1, "b": 2}', "an object with keys a, b"),
                      ('"x"', "a string")]:
        (tmp_path / "in.json").write_text(text)
        r = invoke("import", fmt, str(tmp_path / "in.json"), "-o", str(tmp_path / "a.yaml"))
        assert r.exit_code == 2 and f"in.json: not {what}: got {got}; the file must be" in r.output, r.output
        assert not (tmp_path / "a.yaml").exists()
