"""The journeysim command line, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import MINIMAL, ROOT

from simulator import __version__
from simulator.cli import cli

BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_bundled_scenarios_validate():
    """Every bundled scenario is valid; the OK line counts journeys, steps and links."""
    assert len(BUNDLED) >= 4
    result = run("validate", *map(str, BUNDLED))
    assert result.exit_code == 0, result.output
    for path in BUNDLED:
        assert f"OK {path}: " in result.output
    assert "sync link" in result.output


def test_validate_reports_errors_and_exits_2(write_scenario):
    """An invalid scenario exits 2 with file:line: path: message, and no traceback."""
    bad = write_scenario(MINIMAL.replace("wait: 1h}", "wait: 1hr}").replace("seed: 7", "seed: 7\ncolour: x"))
    result = run("validate", str(bad))
    assert result.exit_code == 2
    assert f"{bad}: 2 errors" in result.output
    assert "journeys[0].steps[0].wait: invalid duration '1hr'" in result.output
    assert "Traceback" not in result.output


def test_validate_mixed_files(write_scenario):
    """Valid and invalid files together: OK lines for the good ones, exit 2 overall."""
    good = write_scenario(MINIMAL, "good.yaml")
    bad = write_scenario("scenario: x\n", "bad.yaml")
    result = run("validate", str(good), str(bad))
    assert result.exit_code == 2
    assert f"OK {good}: 1 journey, 5 steps, 3 sync links" in result.output
    assert "1 of 2 scenarios invalid" in result.output


def test_validate_with_set(write_scenario):
    """validate accepts --set like run does."""
    good = write_scenario(MINIMAL)
    assert run("validate", str(good), "--set", "population.size=3").exit_code == 0
    result = run("validate", str(good), "--set", "population.size=lots")
    assert result.exit_code == 2 and "population.size" in result.output


def test_missing_file_exits_2(tmp_path):
    """A missing file is reported, not a traceback."""
    result = run("validate", str(tmp_path / "none.yaml"))
    assert result.exit_code == 2 and "file not found" in result.output


def test_usage_error_exits_2():
    """click usage errors exit 2 with the usage line."""
    result = run("validate")
    assert result.exit_code == 2 and "Usage:" in result.output


def test_version_and_help():
    """--version prints the package version; every command has help."""
    assert __version__ in run("--version").output
    for command in ("validate", "schema", "init"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.output


def test_schema_is_json_schema(tmp_path):
    """schema prints a JSON Schema naming the top-level keys; --out writes it."""
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert {"scenario", "start", "journeys", "sync", "gates"} <= set(schema["properties"])
    out = tmp_path / "s.json"
    assert run("schema", "--out", str(out)).exit_code == 0
    assert json.loads(out.read_text()) == schema


def test_init_writes_valid_starter(tmp_path):
    """init writes a scenario that validates and a feature file; refuses to overwrite."""
    target = tmp_path / "proj"
    result = run("init", str(target))
    assert result.exit_code == 0, result.output
    assert (target / "scenario.yaml").exists() and (target / "features" / "cart_reminder.feature").exists()
    assert run("validate", str(target / "scenario.yaml")).exit_code == 0
    again = run("init", str(target))
    assert again.exit_code == 2 and "--force" in again.output
    assert run("init", str(target), "--force").exit_code == 0


def test_starter_feature_is_valid_gherkin(tmp_path):
    """The starter feature parses with pytest-bdd's Gherkin parser."""
    from pytest_bdd.parser import FeatureParser

    run("init", str(tmp_path))
    feature = FeatureParser(str(tmp_path), "features/cart_reminder.feature").parse()
    assert len(feature.scenarios) == 2


def test_debug_shows_traceback(write_scenario):
    """--debug lets the exception through for developers."""
    from simulator.errors import UsageError

    existing = write_scenario("scenario: x\n")  # init refuses to overwrite it
    quiet = run("init", str(Path(existing).parent))
    assert quiet.exit_code == 2 and quiet.exception is None or isinstance(quiet.exception, SystemExit)
    loud = run("--debug", "init", str(Path(existing).parent))
    assert isinstance(loud.exception, UsageError)


def test_schema_accepts_bundled_and_rejects_typos():
    """The JSON Schema an editor uses accepts every bundled scenario and flags an unknown key."""
    import jsonschema

    from simulator.scenario.yamlread import read_yaml

    schema = json.loads(run("schema").output)
    validator = jsonschema.Draft202012Validator(schema)
    for path in BUNDLED + [ROOT / "simulator" / "templates" / "starter_scenario.yaml"]:
        errors = [e.message for e in validator.iter_errors(read_yaml(path).data)]
        assert errors == [], (path, errors[:3])
    bad = read_yaml(BUNDLED[0]).data
    bad["journeys"][0]["steps"][0]["wiat"] = "1h"
    assert any("wiat" in e.message for e in validator.iter_errors(bad))


# --- --dask with a bad address: fast, clean, exit 2 (no 20 s hang, no traceback) -----------------------------

import socket  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

SWEEP_ARGS = ["sweep", str(ROOT / "scenarios" / "cart_abandonment.yaml"), "--customers", "5", "--replications", "1",
              "--vary", "journeys[cart-abandonment].steps[wait_1h].wait=1h"]


def _fake_server(reply: bytes | None) -> tuple[socket.socket, int]:
    """A TCP server on localhost that accepts and sends ``reply`` (None: says nothing, keeps the line open)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if reply is not None:
                conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.parametrize(("address", "words"), [
    ("nonsense", "is not a scheduler address"),
    ("tcp://scheduler", "is not a scheduler address"),
    ("tcp://127.0.0.1:1", "Connection refused"),
    ("tcp://no-such-host.invalid:8786", "unknown host 'no-such-host.invalid'"),
    ("garbage", "not in Dask's protocol"),
    ("silent", "no answer within 6 s"),
])
def test_dask_bad_address_is_fast_and_clean(tmp_path, monkeypatch, address, words):
    """--dask with a malformed address, a refused port, an unknown host, a server that answers garbage or
    nothing: exit 2 within 10 s naming the address and how to start a scheduler; no sweep folder is left."""
    monkeypatch.chdir(tmp_path)
    server = None
    if address in ("garbage", "silent"):
        server, port = _fake_server(b"\xff" * 64 if address == "garbage" else None)
        address = f"tcp://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        result = run(*SWEEP_ARGS, "--dask", address)
    finally:
        if server is not None:
            server.close()
    took = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and words in result.output and address in result.output
    assert "dask scheduler" in result.output or "tcp://HOST:PORT" in result.output  # the fix
    assert took < 30  # the connect timeout works: it does not wait on a silent server (loaded CI: generous)
    assert not any((tmp_path / "reports").glob("*"))


def test_dask_scheduler_without_workers_is_refused_not_waited_on(tmp_path, monkeypatch):
    """A scheduler that answers but has no workers accepts the tasks and never runs them: with
    JOURNEYSIM_DASK_WORKER_WAIT=1 the sweep ends with exit 2 after about 1 s, saying the scheduler has no
    workers and the command that starts them (with the address); no sweep folder is left. A bad value of
    the variable is a usage error naming it."""
    from distributed import LocalCluster

    monkeypatch.chdir(tmp_path)
    with LocalCluster(n_workers=0, processes=False, protocol="tcp", dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        monkeypatch.setenv("JOURNEYSIM_DASK_WORKER_WAIT", "1")
        started = time.monotonic()
        result = run(*SWEEP_ARGS, "--dask", address)
        took = time.monotonic() - started
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert f"the Dask scheduler at {address} has no workers (none joined within 1 s)" in result.output
        assert f"dask worker {address} --nworkers N --nthreads 1" in result.output
        assert "JOURNEYSIM_DASK_WORKER_WAIT=SECONDS" in result.output
        assert 1 <= took < 30  # waited about JOURNEYSIM_DASK_WORKER_WAIT, not forever (loaded CI: generous)
        monkeypatch.setenv("JOURNEYSIM_DASK_WORKER_WAIT", "soon")
        bad = run(*SWEEP_ARGS, "--dask", address)
        assert bad.exit_code == 2 and "JOURNEYSIM_DASK_WORKER_WAIT='soon' is not a number of seconds" in bad.output
    assert not any((tmp_path / "reports").glob("*"))
