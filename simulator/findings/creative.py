"""Creative findings of a run: creative-render-error, creative-missing-field, creative-sms-segments,
creative-unsubscribe, creative-length.

Each is read from what the channel system logged when it rendered a send (docs/findings.md):

- a ``suppressed`` record with detail ``render: ERROR`` is a send whose template failed to render
  (``creative-render-error``, one per send, with the error text);
- the ``render`` records of a send that went on to be queued hold each template field as the
  rendering system's replica had it, with truth beside it; an empty (``""``) or missing value is a
  ``creative-missing-field`` (one per send and field). When truth held a non-empty value the replica
  did not, the root cause is the sync path that had not brought it (the root-cause tracer);
- the ``queued`` record's detail carries ``enc=...; seg=N`` for an SMS (``sms_segments`` of the
  rendered text) and ``optout=missing`` for a promotional message without its unsubscribe link or
  STOP text (:mod:`simulator.creative.rules`): ``creative-sms-segments`` when ``N`` exceeds the
  message's budget, ``creative-unsubscribe`` for the latter. One per queued send;
- the ``queued`` record of a message with ``max_subject_chars`` / ``max_title_chars`` carries
  ``subject_chars=N`` / ``title_chars=N`` (the rendered part's length): ``creative-length`` when ``N``
  exceeds the limit, one per send and part.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from simulator.creative.rules import length_limits, opt_out_requirement, segment_budget
from simulator.findings.base import Detector, finding, request_keys
from simulator.findings.context import FindingContext

__all__ = ["RenderError", "MissingField", "SmsSegmentsOver", "MissingOptOut", "LengthOver"]


def _req(frame: pd.DataFrame) -> pd.Series:
    return request_keys(frame)  # customer and req=N: each customer numbers its own requests


def _where(row: Any) -> str:
    return f"{row.journey}/{row.step}"


class RenderError(Detector):
    kinds = ("creative-render-error",)
    reads = ("suppressed",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        stops = ctx.of("suppressed")
        failed = stops[stops["detail"].str.startswith("render:", na=False)]
        for row in failed.itertuples(index=False):
            # the error's first line (Liquid adds the template excerpt on the following lines)
            error = str(row.detail).removeprefix("render:").rsplit("; req=", 1)[0].strip().splitlines()[0]
            yield finding(ctx, "creative-render-error", row,
                          f"{row.message} failed to render at {row.system} for {row.customer} ({_where(row)}); "
                          "the send was stopped", f"template error: {error}")


class MissingField(Detector):
    kinds = ("creative-missing-field",)
    reads = ("render", "queued")

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        renders = ctx.of("render")
        empty = renders[renders["value"].isna() | (renders["value"] == "")]
        if empty.empty:
            return
        queued = set(_req(ctx.of("queued")).dropna())
        empty = empty[_req(empty).isin(queued)]  # a render that failed is a creative-render-error instead
        for row in empty.itertuples(index=False):
            state = "missing" if row.value is None or row.value != row.value else "empty"
            what = (f"{row.message} rendered at {row.system} for {row.customer} ({_where(row)}) with "
                    f"'{row.field}' {state}")
            truth = row.truth_value
            if isinstance(truth, str) and truth != "" and row.truth_version == row.truth_version:
                missed = 1 if row.version != row.version else int(row.version) + 1
                cause = ctx.cause(row.customer, row.field, missed, row.system, float(row.t))
                yield finding(ctx, "creative-missing-field", row, f"{what}; truth had '{truth}'", cause.text,
                              cause=cause)
            else:
                yield finding(ctx, "creative-missing-field", row, f"{what}; truth had no value either",
                              f"the customer has no {row.field} anywhere; give the template a default "
                              f"({{{{ {row.field} | default: '...' }}}}) or fill the field")


class SmsSegmentsOver(Detector):
    kinds = ("creative-sms-segments",)
    reads = ("queued",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        budgets = {name: b for name, m in ctx.scenario.messages.items() if (b := segment_budget(m)) is not None}
        if not budgets:
            return
        queued = ctx.of("queued")
        queued = queued[queued["message"].isin(list(budgets))]
        if queued.empty:
            return
        parts = queued["detail"].str.extract(r"enc=([^;]+); seg=(\d+)")
        segments = parts[1].astype(float)
        over = segments > queued["message"].map(budgets).astype(float)
        for (enc, seg), row in zip(parts[over].itertuples(index=False), queued[over].itertuples(index=False)):
            budget = budgets[row.message]
            source = "max_segments" if ctx.scenario.messages[row.message].max_segments is not None \
                else "the default for promotional sms"
            yield finding(ctx, "creative-sms-segments", row,
                          f"{row.message} to {row.customer} ({_where(row)}) took {seg} segments ({enc}), over its "
                          f"budget of {budget} ({source})",
                          f"the rendered text ({_chars(row.detail)} characters) needs {seg} {enc} segments"
                          + ("; a character outside GSM-7 switched it to UCS-2 (70/67 per segment); run "
                             "journeysim lint to name it" if enc == "UCS-2" else "; shorten the text"))


class MissingOptOut(Detector):
    kinds = ("creative-unsubscribe",)
    reads = ("queued",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        queued = ctx.of("queued")
        missing = queued[queued["detail"].str.contains("optout=missing", regex=False, na=False)]
        for row in missing.itertuples(index=False):
            yield finding(ctx, "creative-unsubscribe", row,
                          f"promotional {row.channel} {row.message} to {row.customer} ({_where(row)}) went out "
                          f"without {opt_out_requirement(str(row.channel))}",
                          "the rendered message lacks it; add it to the template")


class LengthOver(Detector):
    kinds = ("creative-length",)
    reads = ("queued",)

    def detect(self, ctx: FindingContext) -> Iterable[dict[str, Any]]:
        limits = {name: lim for name, m in ctx.scenario.messages.items() if (lim := length_limits(m))}
        if not limits:
            return
        queued = ctx.of("queued")
        queued = queued[queued["message"].isin(list(limits))]
        for row in queued.itertuples(index=False):
            for part, limit in limits[row.message].items():
                n = _field(row.detail, f"{part}_chars")
                if n.isdigit() and int(n) > limit:
                    yield finding(ctx, "creative-length", row,
                                  f"{row.channel} {row.message} to {row.customer} ({_where(row)}) has a {n}-character "
                                  f"{part}, over its limit of {limit} (max_{part}_chars)",
                                  f"the rendered {part} is {int(n) - limit} character"
                                  f"{'s' if int(n) - limit > 1 else ''} too long (personalised values lengthen it); "
                                  f"shorten the {part} or truncate the value")


def _chars(detail: Any) -> str:
    return _field(detail, "chars")


def _field(detail: Any, name: str) -> str:
    for part in str(detail).split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return "?"
