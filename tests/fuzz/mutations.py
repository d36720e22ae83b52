"""Bad scenario inputs, generated from the bundled scenarios, one class at a time.

Every generator takes a ``random.Random`` and returns a :class:`Case`: the bytes of a scenario file
(or a special path such as a directory, a FIFO or ``/dev/zero``) and ``--set`` overrides. Used by
tests/test_fuzz_inputs.py (a sample, with Hypothesis choosing the seeds) and by run_corpus.py (a
large corpus, run once outside the suite). Classes follow issue 14 section 3: numbers and
durations, dates, type swaps, unknown keys, wrong nesting, broken YAML, unicode, random bytes,
file kinds, resources, templates and --set key paths.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parents[2]
BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))
_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in BUNDLED}


@dataclass
class Case:
    """One generated input: file content (or a special file kind) and ``--set`` overrides."""

    kind: str
    content: bytes | None = None
    special: str | None = None  # "dir", "fifo", "devzero", "missing"
    overrides: list[str] = field(default_factory=list)
    note: str = ""


def _data(name: str) -> Any:
    from simulator.scenario.yamlread import read_yaml_text

    return read_yaml_text(_TEXTS[name]).data


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=1000).encode("utf-8")


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path in ``node`` (mappings and lists)."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, prefix + (i,))
    return out


def _get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


def _put(data: Any, path: tuple, value: Any) -> None:
    _get(data, path[:-1])[path[-1]] = value


def _pick(rng: random.Random) -> tuple[str, Any]:
    name = rng.choice(sorted(_TEXTS))
    return name, _data(name)


def _leaf_path(rng: random.Random, data: Any) -> tuple:
    paths = [p for p in _paths(data) if p and not isinstance(_get(data, p), (dict, list))]
    return rng.choice(paths)


HUGE_NUMBERS = [
    "9" * 400, "9" * 5000, "-" + "9" * 30, "1e400", "-1e400", ".inf", "-.inf", ".nan", "1e308",
    "1.7976931348623157e308",
    "9223372036854775808", "-9223372036854775809", "9223372036854775807", "0", "-1", "-0.0", "1e-320", "0.0000001",
    "'" + "9" * 400 + "s'", "'" + "9" * 30 + "d'", "'1e400s'", "'99999999999w'", "'36501d'", "'0.000000001s'",
    "'-5m'", "'5 parsecs'", "'1h30m30h'", "'" + "9" * 400 + "/s'", "'0.0000000000000001/d'", "'1e9/s'",
    "'120%'", "'-5%'", "'nan%'", "0x7fffffffffffffffff", "0o777777777777777777777777",
]

DATES = ["0001-01-01T00:00:00Z", "9999-12-31T00:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00:00-12:00",
         "1899-12-31T23:59:59Z", "9000-01-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-12-01", "2026-12-01T25:00:00Z",
         "2026-12-01T00:00:00", "'2026-12-01T00:00:00+99:00'", "1969-12-31T23:59:59Z", "1900-01-01T00:00:00Z"]

ODD_VALUES: list[Any] = [None, True, False, [], {}, [1, 2], {"a": 1}, "", " ", "x" * 10000, 0, -1, 1.5,
                         ["America/New_York", 0.5], {"nested": {"deeper": [1, {"x": None}]}}, "\u202eevil",
                         "\u200b", "名前", "😀", "a\tb", "{{ }}", "{% for %}", "'", "\"", "&a", "*a", "<<"]


def numbers(rng: random.Random) -> Case:
    """A scalar replaced by a number or duration too large, negative, infinite or not a number."""
    name, data = _pick(rng)
    path = _leaf_path(rng, data)
    text = _dump(data).decode()
    # write the number as YAML text so that its YAML type (int, float, string) is what a user gets
    marker = "__FUZZ_NUMBER__"
    _put(data, path, marker)
    text = _dump(data).decode().replace(marker, rng.choice(HUGE_NUMBERS), 1)
    return Case("numbers", text.encode(), note=f"{name}:{path}")


def durations(rng: random.Random) -> Case:
    """A duration-valued key (wait, every, duration, latency...) set to an extreme value."""
    name, data = _pick(rng)
    keys = {"wait", "every", "duration", "offset", "retry_after", "timeout", "cooldown", "per", "valid_for",
            "collision_window", "cap_counter_lag", "mean", "median", "p95", "low", "high", "fixed", "rate_per_day",
            "throughput", "size", "seed", "probability", "failure_rate"}
    paths = [p for p in _paths(data) if p and isinstance(p[-1], str) and p[-1] in keys] or [_leaf_path(rng, data)]
    path = rng.choice(paths)
    marker = "__FUZZ_NUMBER__"
    _put(data, path, marker)
    text = _dump(data).decode().replace(marker, rng.choice(HUGE_NUMBERS), 1)
    return Case("durations", text.encode(), note=f"{name}:{path}")


def dates(rng: random.Random) -> Case:
    """``start`` or another time out of the calendar's range or malformed."""
    name, data = _pick(rng)
    paths = [p for p in _paths(data) if p and p[-1] in ("start", "at") and isinstance(_get(data, p), str)]
    path = rng.choice(paths or [("start",)])
    marker = "__FUZZ_DATE__"
    _put(data, path, marker)
    text = _dump(data).decode().replace(marker, rng.choice(DATES), 1)
    return Case("dates", text.encode(), note=f"{name}:{path}")


def type_swap(rng: random.Random) -> Case:
    """Any node replaced by a value of another type (a list where a zone is expected, ...)."""
    name, data = _pick(rng)
    path = rng.choice([p for p in _paths(data) if p])
    _put(data, path, copy.deepcopy(rng.choice(ODD_VALUES)))
    return Case("type-swap", _dump(data), note=f"{name}:{path}")


def unknown_key(rng: random.Random) -> Case:
    """A key no model knows, or a known key's misspelling, in a random mapping."""
    name, data = _pick(rng)
    maps = [p for p in _paths(data) if isinstance(_get(data, p), dict)]
    path = rng.choice(maps)
    target = _get(data, path)
    keys = list(target)
    key = rng.choice([rng.choice(keys)[::-1] if keys else "x", "colour", "wiat", "ñ", "x" * 200, "1", "true",
                      "__proto__", "limits", "version"])
    target[key] = rng.choice(ODD_VALUES)
    return Case("unknown-key", _dump(data), note=f"{name}:{path}+{key!r}")


def wrong_nesting(rng: random.Random) -> Case:
    """A subtree moved under another key, wrapped in a list, or its parent flattened."""
    name, data = _pick(rng)
    paths = [p for p in _paths(data) if p]
    a, b = rng.choice(paths), rng.choice(paths)
    sub = copy.deepcopy(_get(data, a))
    how = rng.choice(["wrap", "move", "lift"])
    if how == "wrap":
        _put(data, a, [sub])
    elif how == "move" and isinstance(_get(data, b), dict):
        _get(data, b)[str(a[-1])] = sub
    elif len(a) > 1:
        _put(data, a[:-1], sub)
    return Case("nesting", _dump(data), note=f"{name}:{how}:{a}->{b}")


def broken_yaml(rng: random.Random) -> Case:
    """Syntax damage: characters deleted or inserted, indentation broken, the file truncated."""
    name = rng.choice(sorted(_TEXTS))
    text = _TEXTS[name]
    for _ in range(rng.randint(1, 5)):
        pos = rng.randrange(len(text))
        how = rng.choice(["delete", "insert", "truncate", "indent", "dup-line"])
        if how == "delete":
            text = text[:pos] + text[pos + rng.randint(1, 20):]
        elif how == "insert":
            text = text[:pos] + rng.choice([":", "{", "}", "[", "]", "&a ", "*a ", "*undefined ", "\t", "- ", "? ",
                                            "!!python/object:os.system ", "!!binary ", "%YAML 1.1\n", "---\n",
                                            "'", '"', "|", ">", "#", "<<: *x\n", "!!float "]) + text[pos:]
        elif how == "truncate":
            text = text[:pos]
        elif how == "indent":
            line_start = text.rfind("\n", 0, pos) + 1
            text = text[:line_start] + " " * rng.randint(1, 7) + text[line_start:]
        else:
            line_start = text.rfind("\n", 0, pos) + 1
            line_end = text.find("\n", pos)
            line_end = len(text) if line_end < 0 else line_end
            text = text[:line_end] + "\n" + text[line_start:line_end] + text[line_end:]
    return Case("broken-yaml", text.encode("utf-8", "surrogatepass"), note=name)


def unicode_text(rng: random.Random) -> Case:
    """Names and strings replaced by unusual unicode (RTL marks, zero width, emoji, CJK, combining)."""
    name, data = _pick(rng)
    strings = [p for p in _paths(data) if p and isinstance(_get(data, p), str)]
    for path in rng.sample(strings, min(len(strings), rng.randint(1, 4))):
        _put(data, path, rng.choice(["\u202eabc", "a\u200bb", "😀", "名前", "e\u0301", "\ufeffx", "\u2028", "Ⅻ",
                                     "ﬁ", "İ", "ß" * 50, "\U0010fffd"]))
    return Case("unicode", _dump(data), note=name)


def random_bytes(rng: random.Random) -> Case:
    """Random bytes inserted into a bundled file (NUL, 0xff, invalid UTF-8 sequences, C1 controls)."""
    name = rng.choice(sorted(_TEXTS))
    raw = bytearray(_TEXTS[name].encode())
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(len(raw))
        raw[pos:pos] = rng.choice([b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x1b[31m", b"\x85", b"\x7f",
                                   bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))])
    return Case("random-bytes", bytes(raw), note=name)


def file_kind(rng: random.Random) -> Case:
    """Files that are not scenario text: empty, a directory, a FIFO, /dev/zero, missing, binary, UTF-16."""
    choice = rng.choice(["dir", "fifo", "devzero", "missing", "empty", "binary", "utf16", "bom", "only-comment",
                         "scalar", "list", "multi-doc"])
    if choice in ("dir", "fifo", "devzero", "missing"):
        return Case("file-kind", special=choice, note=choice)
    content = {
        "empty": b"",
        "binary": bytes(rng.randrange(256) for _ in range(2000)),
        "utf16": _TEXTS["welcome_series.yaml"].encode("utf-16"),
        "bom": b"\xef\xbb\xbf" + _TEXTS["welcome_series.yaml"].encode(),
        "only-comment": b"# nothing here\n",
        "scalar": b"just a string\n",
        "list": b"- a\n- b\n",
        "multi-doc": _TEXTS["welcome_series.yaml"].encode() + b"\n---\n" + b"a: 1\n",
    }[choice]
    return Case("file-kind", content, note=choice)


def structure_bombs(rng: random.Random) -> Case:
    """Deep nesting, alias bombs, recursive aliases, many keys, long lines (small enough for the suite)."""
    choice = rng.choice(["deep-flow", "deep-block", "bomb", "recursive", "recursive-map", "keys", "long-key",
                         "merge-bomb", "many-aliases"])
    if choice == "deep-flow":
        n = rng.choice([65, 200, 5000, 50000])
        text = "a: " + "[" * n + "]" * n
    elif choice == "deep-block":
        n = rng.choice([65, 300, 2000])
        text = "".join("  " * i + f"k{i}:\n" for i in range(n)) + "  " * n + "v\n"
    elif choice == "bomb":
        lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
        lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, rng.randint(6, 12))]
        text = "\n".join(lines)
    elif choice == "recursive":
        text = "a: &x [1, *x]\n"
    elif choice == "recursive-map":
        text = "a: &x\n  b: *x\n"
    elif choice == "keys":
        text = "\n".join(f"k{i}: {i}" for i in range(rng.choice([1000, 120_000])))
    elif choice == "long-key":
        text = "k" * 2_000_000 + ": 1\n"
    elif choice == "merge-bomb":
        lines = ["b0: &b0 {a: 1, b: 2, c: 3, d: 4}"]
        lines += [f"b{i}: &b{i} {{<<: [" + ", ".join([f"*b{i - 1}"] * 8) + f"], k{i}: 1}}" for i in range(1, 9)]
        text = "\n".join(lines)
    else:
        text = "a: &a 1\n" + "\n".join(f"k{i}: *a" for i in range(120_000))
    return Case("structure", text.encode(), note=choice)


_SMALL_SEG = """\
scenario: seg
start: 2026-01-01T00:00:00Z
duration: {duration}
systems:
  crm: {{kind: crm}}
  cdp: {{kind: cdp}}
  esp: {{kind: channel, channel: email}}
sync:
  - {{from: crm, to: cdp, fields: [stage, events], mode: batch, every: {batch_every}}}
population:
  size: {size}
  attributes: {{stage: {{choice: {{A: 0.5, B: 0.5}}}}}}
  events:
    - {{name: tick, origin: crm, poisson: {{rate_per_day: {rate}}}}}
    - {{name: tock, origin: crm, after: {{event: {after}, probability: {prob}, delay: {delay}}}}}
messages:
  m: {{channel: email, body: {body}}}
journeys:
  - name: j
    reads_from: cdp
    entry: {{segment: "stage == 'B'", every: {every}}}
    steps: [{{id: w, wait: 1h}}, {{id: s, send: m}}]
"""


def resources(rng: random.Random) -> Case:
    """Runs that cannot finish (population x rates, segment or batch every second, after loops) and
    templates that loop over huge ranges, include partials or read the clock."""
    values = dict(duration="14d", batch_every="4h", size=100, rate=1, after="tick", prob=0.5, delay="1h",
                  every="1h", body="'hi {{ stage }}'")
    knob = rng.choice(["size", "rate", "every", "batch_every", "loop", "loop0", "body", "duration"])
    if knob == "size":
        values["size"] = rng.choice([10**7, 10**9, 2**63 - 1, 2_000_001])
        values["rate"] = rng.choice([1, 1e4])
    elif knob == "rate":
        values["rate"] = rng.choice([1e4, 1e8, 1e300, 1.7976931348623157e308])
    elif knob == "every":
        values["every"] = rng.choice(["1s", "0.001s", "1e-300", "0.5"])
    elif knob == "batch_every":
        values["batch_every"] = rng.choice(["1s", "0.01s", "2s"])
    elif knob == "loop":
        values["after"], values["prob"], values["delay"] = "tock", 1, rng.choice(["0s", "1s", "{fixed: 0}"])
    elif knob == "loop0":
        values["after"], values["prob"] = "tock", rng.choice([1, 0.99, "100%"])
    elif knob == "duration":
        values["duration"] = rng.choice(["36500d", "5200w", "36501d"])
    else:
        values["body"] = rng.choice([
            "'{% for i in (1..100000000) %}x{% endfor %}'", "'{% for i in (1..100000) %}{% for j in (1..100000) %}"
            "{% endfor %}{% endfor %}'", "\"{% include 'footer' %}\"", "\"{% render 'footer' %}\"",
            "\"{{ 'now' | date: '%Y' }}\"", "\"{{ 'today' | date: '%s' }}\"", "'{% for %}'", "'{{ stage | nofilter }}'",
            "'{% liquid\n  include x %}'",
            "'{% assign s = \"ab\" %}{% for i in (1..40) %}{% assign s = s | append: s %}"
            "{% endfor %}{{ s }}'", "'{{ (1..100000000) | join }}'", "'{% cycle %}'"])
    if knob == "loop0" or knob == "loop":
        # tock after tock: a loop of after events
        pass
    return Case("resources", _SMALL_SEG.format(**values).encode(), note=f"{knob}={values}")


SET_PATHS = ["population..size", ".population.size", "population.size.", "sync[].every", "sync[99].every",
             "journeys[nope].steps[0].wait", "journeys[0].steps[-99].wait", "population.size.deeper", "[0]",
             "", "=", "limits.max_events", "limits.max_customers", "population.timezones", "seed", "start",
             "journeys[0].steps[0]", "systems", "a" * 300, "population[0]", "sync[0][0]", "journeys[0].entry.every"]
SET_VALUES = ["5", "", "-1", "9" * 400, ".inf", ".nan", "[1, 2", "{a: 1}", "[]", "null", "1e400", "'x'", "0.001s",
              "0001-01-01T00:00:00Z", "&a [*a]", "\x00", "10000000000", "1s"]


def overrides(rng: random.Random) -> Case:
    """A bundled scenario with odd ``--set`` overrides (empty key path parts, huge or broken values)."""
    name = rng.choice(sorted(_TEXTS))
    sets = []
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(SET_PATHS)
        sets.append(path if rng.random() < 0.05 else f"{path}={rng.choice(SET_VALUES)}")
    return Case("overrides", _TEXTS[name].encode(), overrides=sets, note=name)


_DURATION_KEYS = {"wait", "every", "offset", "retry_after", "timeout", "cooldown", "valid_for", "collision_window",
                  "cap_counter_lag", "mean", "median", "low", "high", "fixed", "per"}
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns", "Australia/Lord_Howe", "Asia/Kathmandu",
         "Europe/London", "UTC", "America/Sao_Paulo", "Antarctica/Troll"]
STARTS = ["2026-03-08T06:59:59Z", "2026-11-01T05:30:00Z", "2026-03-29T01:00:00Z", "1900-01-01T00:00:00Z",
          "8999-12-01T00:00:00Z", "2024-02-29T23:59:59Z", "2026-12-31T23:00:00-11:00", "1970-01-01T00:00:00Z"]


def valid_tweaks(rng: random.Random) -> Case:
    """Edits that keep a bundled scenario plausible (extreme but allowed values, other zones, DST
    starts, zero-size populations, other modes): whatever validates must also build and run."""
    name, data = _pick(rng)
    for _ in range(rng.randint(1, 4)):
        how = rng.choice(["scale", "duration", "zone", "start", "size", "prob", "clock", "remove", "policy",
                          "length", "mode"])
        paths = [p for p in _paths(data) if p]
        if how == "scale":
            nums = [p for p in paths if isinstance(_get(data, p), (int, float)) and not isinstance(_get(data, p), bool)]
            if nums:
                p = rng.choice(nums)
                v = _get(data, p) * rng.choice([0, 0.001, 0.5, 2, 10, 1000])
                _put(data, p, int(v) if isinstance(_get(data, p), int) else v)
        elif how == "duration":
            durs = [p for p in paths if isinstance(p[-1], str) and p[-1] in _DURATION_KEYS]
            if durs:
                _put(data, rng.choice(durs), rng.choice(["0s", "1s", "59s", "1m", "23h59m", "1d", "7d", "365d",
                                                         "36500d", "0.001s", 0, 1e-9]))
        elif how == "zone":
            zones = [p for p in paths if p[-1] in ("timezone", "default_timezone")]
            if zones:
                _put(data, rng.choice(zones), rng.choice(ZONES))
            pop = data.get("population", {})
            if isinstance(pop, dict) and rng.random() < 0.5:
                pop["timezones"] = {rng.choice(ZONES): 1.0}
        elif how == "start":
            data["start"] = rng.choice(STARTS)
        elif how == "size":
            data.setdefault("population", {})["size"] = rng.choice([0, 1, 2, 5])
        elif how == "prob":
            probs = [p for p in paths if p[-1] in ("probability", "failure_rate", "open", "click", "click_given_open")]
            if probs:
                _put(data, rng.choice(probs), rng.choice([0, 1, "100%", "0%", 0.999999]))
        elif how == "clock":
            clocks = [p for p in paths if p[-1] in ("from", "to", "at") and isinstance(_get(data, p), str)
                      and ":" in _get(data, p) and "T" not in _get(data, p)]
            if clocks:
                _put(data, rng.choice(clocks), rng.choice(["00:00", "23:59", "02:30", "01:30", "12:00"]))
        elif how == "remove":
            optional = [p for p in paths if p[-1] in ("outages", "policies", "gates", "severity", "behaviour",
                                                      "consent", "attributes", "exit_when", "re_entry", "quiet_hours",
                                                      "frequency_caps", "priority", "description", "valid_for")]
            if optional:
                p = rng.choice(optional)
                del _get(data, p[:-1])[p[-1]]
        elif how == "policy":
            pol = data.setdefault("policies", {})
            if isinstance(pol, dict):
                key, value = rng.choice([("on_cap", "defer"), ("on_cap", "drop"), ("cap_counter_lag", "1h"),
                                         ("collision_window", "0s"),
                                         ("quiet_hours", {"from": "00:00", "to": "23:59", "channels": ["email", "sms",
                                                                                                         "push"]}),
                                         ("quiet_hours", {"from": "08:00", "to": "08:01", "action": "drop"}),
                                         ("frequency_caps", [{"channel": "any", "max": 0, "per": "1d"}]),
                                         ("frequency_caps", [{"channel": "any", "max": 1, "per": "7d",
                                                              "window": "calendar"}])])
                pol[key] = value
        elif how == "length":
            data["duration"] = rng.choice(["1s", "1h", "1d", "30d", "400d"])
        else:
            links = data.get("sync") or []
            if links:
                link = rng.choice(links)
                if isinstance(link, dict):
                    link.update(rng.choice([{"failure_rate": 1, "retry_after": "1s"},
                                            {"outages": [{"start": data.get("start"), "duration": "36500d"}]},
                                            {"outages": [{"start": data.get("start"), "duration": "1h",
                                                          "on_outage": "drop"}]},
                                            {"apply": "version"}]))
    return Case("valid-tweaks", _dump(data), note=name)


GENERATORS: dict[str, Callable[[random.Random], Case]] = {
    "valid-tweaks": valid_tweaks,
    "numbers": numbers, "durations": durations, "dates": dates, "type-swap": type_swap, "unknown-key": unknown_key,
    "nesting": wrong_nesting, "broken-yaml": broken_yaml, "unicode": unicode_text, "random-bytes": random_bytes,
    "file-kind": file_kind, "structure": structure_bombs, "resources": resources, "overrides": overrides,
}


def generate(kind: str, seed: int) -> Case:
    """The case of class ``kind`` for ``seed`` (deterministic)."""
    return GENERATORS[kind](random.Random(f"{kind}:{seed}"))
