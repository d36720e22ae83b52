"""The one Liquid environment of message templates: resource limits, no partials, a simulated clock.

- Limits (python-liquid's documented ``Environment`` class attributes, see
  https://jg-rp.github.io/liquid/environment): at most :data:`LOOP_ITERATIONS` loop iterations per
  render (nested loops count together), :data:`OUTPUT_CHARS` characters of output and
  :data:`NAMESPACE` bytes of assigned variables, so ``{% for i in (1..100000000) %}`` stops at once;
  a filter given a range longer than the loop limit (``(1..100000000) | join``) stops too.
  Validation renders every template once on an empty profile and refuses one that hits a limit
  there; a template that hits one only with some customer's data fails that send at run time
  (``suppressed`` with ``render: ...``, as an ESP drops a message whose template errors).
- Templates are self-contained: ``include`` and ``render`` (partials from a template loader) are
  not available, so validation reports them.
- ``'now' | date`` and ``'today' | date`` read the *simulated* clock (UTC) at the moment of the
  render, never the wall clock, so the same scenario and seed give the same log at any time; a Unix
  timestamp is shown in UTC (liquid's own filter uses the machine's zone).
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from liquid import Environment
from liquid.builtin.filters.misc import date as _liquid_date
from liquid.exceptions import FilterArgumentError, LiquidError, LoopIterationLimitError, ResourceLimitError
from liquid.filter import liquid_filter, with_environment

__all__ = ["ENV", "parse_template", "template_problem", "simulated_now", "LOOP_ITERATIONS", "OUTPUT_CHARS",
           "NAMESPACE", "PARTIAL_TAGS"]

LOOP_ITERATIONS = 10_000
OUTPUT_CHARS = 100_000
NAMESPACE = 1_000_000
PARTIAL_TAGS = ("include", "render")

_NOW: contextvars.ContextVar[datetime | None] = contextvars.ContextVar("journeysim_simulated_now", default=None)


@with_environment
@liquid_filter
def _date(dat, fmt, *, environment: Environment) -> str:
    """Liquid's ``date`` filter with ``'now'``/``'today'`` meaning the simulated time of the render."""
    if isinstance(dat, str) and dat in ("now", "today"):
        now = _NOW.get()
        if now is None:
            raise FilterArgumentError("'now' and 'today' are the simulated time of a send; there is none here",
                                      token=None)
        dat = now
    elif (isinstance(dat, int) and not isinstance(dat, bool)) or (isinstance(dat, str) and dat.isdigit()):
        try:  # a Unix timestamp: in UTC, not in the machine's local zone as liquid's filter does
            dat = datetime.fromtimestamp(int(dat), tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            return str(dat)
    return _liquid_date(dat, fmt, environment=environment)


class MessageEnvironment(Environment):
    """Liquid environment for message templates (see the module docstring)."""

    loop_iteration_limit = LOOP_ITERATIONS
    output_stream_limit = OUTPUT_CHARS
    local_namespace_limit = NAMESPACE

    def setup_tags_and_filters(self, **kwargs) -> None:  # noqa: D102
        super().setup_tags_and_filters(**kwargs)
        for tag in PARTIAL_TAGS:
            self.tags.pop(tag, None)
        self.filters["date"] = _date
        self.filters = {name: _bounded(f) for name, f in self.filters.items()}


def _bounded(func):
    """A filter that refuses a range longer than the loop limit (``(1..100000000) | join`` would build
    the whole string before the output limit could stop it)."""

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        for arg in args:
            if isinstance(arg, range) and len(arg) > LOOP_ITERATIONS:
                raise LoopIterationLimitError(f"loop iteration limit reached (a range of {len(arg):,} items)",
                                              token=None)
        return func(*args, **kwargs)

    return guarded


ENV = MessageEnvironment()


def parse_template(text: str):
    """Parse a message template in :data:`ENV`."""
    return ENV.from_string(text)


@contextmanager
def simulated_now(now: datetime) -> Iterator[None]:
    """Within the block, ``'now' | date`` renders ``now`` (an aware datetime)."""
    token = _NOW.set(now)
    try:
        yield
    finally:
        _NOW.reset(token)


def template_problem(text: str, now: datetime, fields: Callable[[], dict[str, object]] | None = None) -> str | None:
    """Why ``text`` cannot be a message template, or None: a syntax error, a partial
    (``include``/``render``), or a resource limit hit when rendered at ``now`` on an empty profile."""
    try:
        template = parse_template(text)
    except LiquidError as exc:
        first = str(exc).splitlines()[0]
        for tag in PARTIAL_TAGS:
            if first == f"unexpected tag '{tag}'":
                return (f"'{tag}' is not available: templates are self-contained (there are no partials to "
                        "include); write the text into this template")
        return first
    try:
        with simulated_now(now):
            template.render(**(fields() if fields else {}))
    except ResourceLimitError as exc:
        return (f"{str(exc).splitlines()[0]} when rendered (limits: {LOOP_ITERATIONS:,} loop iterations, "
                f"{OUTPUT_CHARS:,} characters of output, {NAMESPACE:,} bytes of assigned variables); loop over a "
                "shorter range")
    except (LiquidError, ValueError, TypeError, ArithmeticError):
        return None  # depends on customer data: a render failure at send time suppresses that send, logged
    return None
