"""An evaluation as one object a notebook holds: its document, text, page and verdicts.

`evaluate` replays a history against a policy and returns a `Report`; `sla evaluate` prints
the same object's `json()`, `text()` and `html()`, so the command line and the library cannot
say different things. The document is built on first use: the evaluation is the slow part to
wait for, and the text needs no per-lead records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from sla_dsl.arguments import expect_history, expect_policy
from sla_dsl.evaluation import replay
from sla_dsl.evaluation.clock_audit import audit_lead, audit_texts
from sla_dsl.evaluation.clock_audit import render_text as audit_text
from sla_dsl.evaluation.inputs import as_of_instant
from sla_dsl.history.columns import History
from sla_dsl.history.reps import Reps, read_reps
from sla_dsl.language.model import Policy
from sla_dsl.language.plain_words import counted
from sla_dsl.reports import html, text
from sla_dsl.reports.document import (
    clause_summaries,
    document_body,
    has_lifecycle_keys,
    lead_records,
)
from sla_dsl.reports.due_list import DEFAULT_WITHIN_HOURS, DueList
from sla_dsl.reports.json_text import document_json, document_json_parts
from sla_dsl.reports.lead_table import LeadRows, lead_table, records


@dataclass(frozen=True)
class Verdict:
    """One clause of one handoff block, over the leads it judged: a row of the report's
    clause table (`pandas.DataFrame(report.verdicts)` makes the table)."""

    handoff: str
    clause: str
    wording: str
    party: str | None
    leads: int  # each lead once
    clocks: int  # met + breached + pending: a recycled lead judged again counts again
    met: int
    breached: int
    pending: int
    attainment: float | None  # % of decided (met or breached) leads met; None: none decided


class Report:
    """What `sla evaluate` reports. `document` is the dict `--format json` prints (with every
    lead's record unless `include_leads` is False); `text()` and `html()` are the summary and
    the page; `verdicts`, `attainment()` and `verdict()` answer "how did this clause do?",
    and `explain(lead_id)` "why is this lead breached?"."""

    def __init__(self, evaluation: replay.Evaluation, *, include_leads: bool = True) -> None:
        self.evaluation = evaluation
        self.include_leads = include_leads

    @property
    def policy(self) -> Policy:
        return self.evaluation.policy

    @property
    def history(self) -> History:
        return self.evaluation.history

    @cached_property
    def document(self) -> dict:
        doc = dict(self.summary_document)
        if self.include_leads:
            doc["leads"] = (records(lead_table(self.evaluation, self._lead_rows.zone))
                            if self._columnar
                            else lead_records(self.evaluation, self._lead_rows.zone))
        return doc

    @cached_property
    def summary_document(self) -> dict:
        """The document without its per-lead records (`leads` is empty): what the text and
        the page are made of."""
        return document_body(self.evaluation, include_leads=self.include_leads)

    @cached_property
    def _columnar(self) -> bool:
        """Whether the lead records can be written column-wise (none carries lifecycle keys)."""
        return not has_lifecycle_keys(self.evaluation)

    @cached_property
    def _lead_rows(self) -> LeadRows:
        """The judged leads' records, made a chunk at a time as the JSON is written."""
        return LeadRows(self.evaluation, ZoneInfo(self.summary_document["timezone"]))

    def json(self) -> str:
        """The document as `sla evaluate --format json` prints it: `json.dumps(document,
        indent=2)`, with the per-lead records written column-wise (the same bytes)."""
        if "document" in self.__dict__ or not self.include_leads or not self._columnar:
            return json.dumps(self.document if self.include_leads else self.summary_document,
                              indent=2) + "\n"
        return document_json(self.summary_document, self._lead_rows)

    def json_parts(self) -> Iterable[bytes | memoryview]:
        """`json()` as UTF-8 bytes in parts, for writing one after the other: the per-lead
        records of a big history are made as they are written, a chunk of leads at a time,
        never held or joined into one string."""
        if "document" in self.__dict__ or not self.include_leads or not self._columnar:
            return [self.json().encode("utf-8")]
        return document_json_parts(self.summary_document, self._lead_rows)

    def text(self) -> str:
        """The summary `sla evaluate` prints: what is owed, then clauses worst first."""
        return text.render_text(self.summary_document)

    def html(self) -> str:
        """The one self-contained page of `sla evaluate --html`, with the clock audit of each
        lead among its latest breaches."""
        doc = self.summary_document
        breached = [row["lead_id"] for row in doc["summary"]["latest_breaches"]]
        absences = self.history.absences
        return html.render(doc, rejects=self.history.rejects,
                           speed_goals=html.first_touch_goals(self.policy),
                           audits=self.audits(breached),
                           absence_rejects=absences.rejects if absences is not None else ())

    def audits(self, lead_ids: list[str]) -> dict[str, str]:
        """The clock audits the page shows for these breached leads (`audit_texts`). A merged
        report's history holds only the events the measures read: it audits each lead from
        its own shard's (`reports.sharded.MergedReport`)."""
        return audit_texts(self.policy, self.history, lead_ids, self.evaluation.as_of)

    def explain(self, lead_id: str) -> str:
        """One lead's clock audit as `sla evaluate --explain LEAD_ID` prints it: each clause's
        due time and its open, closed and paused time, for a disputed breach. Raises
        `UnknownLead` (a LookupError) for an id the history does not hold."""
        return audit_text(audit_lead(self.policy, self.history, lead_id, self.evaluation.as_of))

    def due(self, within_hours: float = DEFAULT_WITHIN_HOURS, *, overdue: str = "recent",
            owner_zones: Mapping[str, str] | None = None) -> DueList:
        """The due list as of the report's as-of time, as `sla due` prints it: every open
        clock, most urgent first, with what fires on it within `within_hours` after. `overdue`
        is `recent` (breached clocks still not done, due in the last `within_hours` or with an
        action still to fire), `all` or `none`; `owner_zones` maps an owner to the IANA zone
        their times are written in (else the policy's). Raises ValueError for a window or a
        zone that is not one."""
        return DueList(self.evaluation, within_hours, overdue=overdue, owner_zones=owner_zones)

    @cached_property
    def verdicts(self) -> list[Verdict]:
        """Every clause of every handoff block, in the policy's order."""
        return [Verdict(**row) for row in clause_summaries(self.evaluation)]

    @property
    def breached(self) -> bool:
        """Whether any clause of any lead is breached (`--fail-on-breach` exits 1 on it)."""
        return any((r.status == replay.BREACHED).any() for r in self.evaluation.clauses)

    def verdict(self, handoff: str, clause: str) -> Verdict:
        """One block's clause: `report.verdict("hot", "first touch")`."""
        found = [v for v in self.verdicts if v.handoff == handoff and v.clause == clause]
        if not found:
            raise KeyError(f"no clause {clause!r} in handoff {handoff!r}; the report has "
                           + ", ".join(f"{v.handoff}: {v.clause}" for v in self.verdicts))
        return found[0]

    def attainment(self, clause: str, handoff: str | None = None) -> float | None:
        """The % of decided leads that met `clause` ("first touch", "touches", "disposition"
        or "threshold"), over every handoff block that has it, or in one block; None when no
        lead is decided yet. Rounded to 0.1 as in the report."""
        rows = [v for v in self.verdicts if v.clause == clause
                and (handoff is None or v.handoff == handoff)]
        if not rows:
            where = f" in handoff {handoff!r}" if handoff is not None else ""
            raise KeyError(f"no clause {clause!r}{where}; the report has "
                           + ", ".join(sorted({f"{v.handoff}: {v.clause}"
                                               for v in self.verdicts})))
        met, breached = sum(v.met for v in rows), sum(v.breached for v in rows)
        return round(100.0 * met / (met + breached), 1) if met + breached else None

    def __repr__(self) -> str:
        as_of = np.datetime_as_string(np.datetime64(self.evaluation.as_of, "us"), unit="s")
        return (f"<Report {self.policy.title or 'policy'!r} as of {as_of}Z: "
                f"{counted(len(self.verdicts), 'clause', grouped=False)}, "
                f"{counted(self.evaluation.lead_count, 'lead', grouped=False)}>")


def evaluate(policy: Policy, history: History, as_of: str | dt.datetime | int | None = None,
             *, include_leads: bool = True,
             on_block: Callable[[str], None] | None = None,
             reps: str | Path | Reps | None = None) -> Report:
    """Replay `history` against `policy` as of a time (ISO 8601 text or a datetime, read in
    the policy's timezone when it has no offset; default: the history's latest event), as
    `sla evaluate` does. `include_leads=False` leaves each lead's record out of the document
    (the text and the page do not need them, and on a big history they are most of its
    size); `on_block` is told each handoff block as its clauses are done (a progress bar).
    `reps` (a `rep,timezone,hours` CSV, or `Reps` read already) replaces the history's own
    (`load_history(reps=...)`) for the blocks that say `clocks run on owner hours`; the
    history itself is left as it was.
    Raises ValueError for an as-of time that is not one, `HistoryError` for a reps file that
    cannot be read."""
    expect_policy(policy)
    expect_history(history)
    try:
        instant = as_of_instant(as_of, policy.timezone or "UTC")
    except ValueError as error:
        raise ValueError(f"as_of {as_of!r} {error}") from None
    if reps is not None:
        history = dataclasses.replace(
            history, reps=reps if isinstance(reps, Reps) else read_reps(reps))
    return Report(replay.evaluate(policy, history, instant, on_block=on_block),
                  include_leads=include_leads)
